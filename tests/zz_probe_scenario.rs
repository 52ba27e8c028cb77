use retrylab::scenario::types::Scenario;
use serde::Deserialize;

const BASE: &str = r#"name = "x"
[prompt]
template = "Hi {{ q }}"
vars = { q = "a" }
[call]
provider = "openai"
model = "m"
"#;

fn show(extra: &str, replace: Option<(&str, &str)>) {
    let mut src = BASE.to_string();
    if let Some((a, b)) = replace {
        src = src.replace(a, b);
    }
    src.push_str(extra);
    let doc = toml::de::DeTable::parse(&src);
    match doc {
        Err(e) => {
            println!(
                "SYNTAX {:?} span={:?} -> {:?}",
                e.message(),
                e.span(),
                e.span().map(|s| &src[s])
            );
            return;
        }
        Ok(d) => {
            let r = Scenario::deserialize(toml::de::Deserializer::from(d));
            match r {
                Ok(_) => println!("OK"),
                Err(e) => println!(
                    "ERR {:?} span={:?} -> {:?}",
                    e.message(),
                    e.span(),
                    e.span().map(|s| &src[s])
                ),
            }
        }
    }
}

#[test]
fn probe() {
    show("[retry]\nstop = { after_attempts = 3 }\n", None);
    show("[retry]\nstops = { after_attempt = 3 }\n", None);
    show("[retry]\nretry_on = [\"rate_limt\"]\n", None);
    show("[retry]\nwait = { expo = 3 }\n", None);
    show("[retry]\nwait = { fixed = \"soon\" }\n", None);
    show("[retry]\nwait = { fixed = -1 }\n", None);
    show("[retry]\nwait = { fixed = \"-1s\" }\n", None);
    show("[retry]\nstop = { after_attempt = \"3\" }\n", None);
    show("[retry]\nstop = { after_attempt = -3 }\n", None);
    show(
        "[retry]\nstop = { after_attempt = 3, after_delay = 4 }\n",
        None,
    );
    show("[retry]\nstop = {}\n", None);
    show("[retry]\nstop = 3\n", None);
    show("", Some(("provider = \"openai\"", "provider = \"opnai\"")));
    show("", Some(("model = \"m\"\n", "")));
    show(
        "",
        Some(("[call]\nprovider = \"openai\"\nmodel = \"m\"\n", "")),
    );
    show("", Some(("name = \"x\"\n", "")));
    show("foo = 1\n", None);
    show("[foo]\n", None);
    show("[sim]\nfaults = [{ fault = \"cut_streem\" }]\n", None);
    show("[sim]\nchaos = { rate_limt = 0.2 }\n", None);
    show(
        "[sim]\nfaults = [{ fault = \"cut_stream\", after_token = 2 }]\n",
        None,
    );
    show("[sim]\nfaults = [{ after_tokens = 2 }]\n", None);
    show("[response]\nvalidators = [{ upper = true }]\n", None);
    show(
        "[response]\nvalidators = [{ uppercase = true, regex = \"x\" }]\n",
        None,
    );
    show("[response]\nvalidators = [\"uppercase\"]\n", None);
    show("[[tools]]\nname = \"t\"\n", None);
    show("[[tools]]\nname = \"t\"\nparameters = {}\nfoo = 1\n", None);
    show("[call]\n", None);
    show("x = = 1\n", None);
    show("[retry\n", None);
    show("name = \"dup\"\n", None);
    show(
        "[retry]\nwait = { exponential = { multiplier = 1, min = 4, maxx = 10 } }\n",
        None,
    );
    show(
        "[retry]\nwait = { chain = [{ fixed = 1 }, { fixd = 2 }] }\n",
        None,
    );
    show("[fallback]\nhops = []\n", None);
    show(
        "[fallback]\ncatch = []\n[[fallback.hops]]\nprovider = \"anthropic\"\nmodel = \"x\"\n",
        None,
    );
    show("", Some(("template = \"Hi {{ q }}\"\n", "template = 3\n")));
    show("[retry]\nreinsert_mode = \"ask\"\n", None);
    show("[sim]\ntokens_per_second = \"fast\"\n", None);
    show(
        "[sim]\nfaults = [{ fault = \"rate_limit\", retry_after_format = \"secs\" }]\n",
        None,
    );
}
