//! Where live mode finds keys and endpoints: the environment, a hop's own `api_key_env`,
//! `config.toml`; OpenAI-compatible servers (base_url required, key optional); a hop's own
//! base_url, key and headers. A missing piece is reported before any request.

#[path = "fixtures/live/mod.rs"]
mod live;

use live::harness::{KEY, run_live, scenario_for};
use live::server::{play, serve};
use retrylab::ErrorKind;
use retrylab::config::Config;
use retrylab::engine::run::check_live_keys_with;
use retrylab::event::Outcome;

const FALLBACK: &str = r#"
name = "keys"
[prompt]
template = "Who wrote The Name of the Wind?"
[call]
provider = "openai"
model = "gpt-4o-mini"
base_url = "{base}/v1"
[fallback]
catch = ["auth"]
[[fallback.hops]]
provider = "anthropic"
model = "claude-3-5-sonnet-latest"
base_url = "{base}"
catch = ["auth"]
[[fallback.hops]]
provider = "openai-compatible"
model = "llama-3.1-70b-versatile"
base_url = "{base}/openai/v1"
api_key_env = "GROQ_API_KEY"
catch = ["auth"]
headers = { "HTTP-Referer" = "https://retrylab.test", "X-Title" = "retrylab" }
"#;

fn check(source: &str, cfg: &Config) -> Result<(), String> {
    check_live_keys_with(&scenario_for(source, "http://127.0.0.1:9"), cfg).map_err(|e| {
        assert_eq!(e.kind, ErrorKind::Auth, "{e:?}");
        e.message
    })
}

#[test]
fn every_missing_key_is_named_with_where_to_put_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::load_from(dir.path()).with_env(Vec::<(String, String)>::new());
    let path = dir.path().join("config.toml");
    assert_eq!(
        check(FALLBACK, &cfg).unwrap_err(),
        format!(
            "live mode needs OPENAI_API_KEY (for openai/gpt-4o-mini), ANTHROPIC_API_KEY (for anthropic/claude-3-5-sonnet-latest) and GROQ_API_KEY (for openai-compatible/llama-3.1-70b-versatile): set them in the environment, or add them under [keys] in {}",
            path.display()
        )
    );
    // From the environment, from [keys] by variable, from [keys] by provider: all count.
    let cfg = Config::isolated()
        .with_env([("OPENAI_API_KEY", "sk-env-0123456789")])
        .with_key("GROQ_API_KEY", "gsk-file-0123456789")
        .with_key("anthropic", "sk-ant-file-0123456789");
    assert_eq!(check(FALLBACK, &cfg), Ok(()));
    // A provider's key never stands in for a scenario's own variable.
    let cfg = Config::isolated()
        .with_key("openai", "sk-file-0123456789")
        .with_key("anthropic", "sk-ant-file-0123456789");
    assert_eq!(
        check(FALLBACK, &cfg).unwrap_err(),
        "live mode needs GROQ_API_KEY (for openai-compatible/llama-3.1-70b-versatile): set it in the environment, or add GROQ_API_KEY = \"...\" under [keys] in config.toml in the retrylab config dir (or set RETRYLAB_CONFIG_DIR)"
    );
}

#[test]
fn a_variable_two_hops_share_is_named_once() {
    let source = r#"
name = "shared"
[prompt]
template = "hi"
[call]
provider = "openai"
model = "gpt-4o-mini"
[fallback]
catch = ["any"]
[[fallback.hops]]
provider = "openai"
model = "gpt-4o"
catch = ["any"]
[[fallback.hops]]
provider = "openai"
model = "gpt-4o"
catch = ["any"]
"#;
    assert_eq!(
        check(source, &Config::isolated()).unwrap_err(),
        "live mode needs OPENAI_API_KEY (for openai/gpt-4o-mini, openai/gpt-4o): set it in the environment, or add OPENAI_API_KEY = \"...\" under [keys] in config.toml in the retrylab config dir (or set RETRYLAB_CONFIG_DIR)"
    );
}

#[test]
fn a_broken_config_file_is_mentioned_with_the_missing_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "[keys]\nopenai = \"sk-unterminated-SENTINEL\n",
    )
    .unwrap();
    let cfg = Config::load_from(dir.path()).with_env(Vec::<(String, String)>::new());
    let msg = check(FALLBACK, &cfg).unwrap_err();
    assert!(
        msg.contains("(note: ")
            && msg.contains(
                "config.toml at line 2, column 35: invalid basic string; the file is ignored)"
            ),
        "{msg}"
    );
    assert!(!msg.contains("SENTINEL"), "{msg}");
}

#[test]
fn compatible_servers_need_a_base_url_but_no_key() {
    let source = r#"
name = "local"
[prompt]
template = "hi"
[call]
provider = "openai-compatible"
model = "llama3.1:8b"
"#;
    let e = check_live_keys_with(&scenario_for(source, ""), &Config::isolated()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert_eq!(
        e.message,
        "provider `openai-compatible` needs a base_url: add base_url = \"http://localhost:11434/v1\" (the server's OpenAI-style URL, ending in /v1) to [call]"
    );
    let with_url = source.replace(
        "model = \"llama3.1:8b\"",
        "model = \"llama3.1:8b\"\nbase_url = \"http://localhost:11434/v1\"",
    );
    assert_eq!(check(&with_url, &Config::isolated()), Ok(()));
    // A hop's missing base_url names the hop.
    let hop = format!(
        "{with_url}[fallback]\ncatch = [\"any\"]\n[[fallback.hops]]\nprovider = \"openai-compatible\"\nmodel = \"m\"\ncatch = [\"any\"]\n"
    );
    let e = check_live_keys_with(&scenario_for(&hop, ""), &Config::isolated()).unwrap_err();
    assert!(e.message.ends_with("to fallback hop 1"), "{}", e.message);
}

#[tokio::test]
async fn each_hop_sends_its_own_key_and_headers_to_its_own_url() {
    let server = serve(vec![
        play("openai_401"),
        play("anthropic_401"),
        play("openai_plain"),
    ])
    .await;
    let cfg = Config::isolated()
        .with_env([("OPENAI_API_KEY", KEY)])
        .with_key("anthropic", "sk-ant-from-config-0123456789")
        .with_key("GROQ_API_KEY", "gsk-from-config-0123456789");
    let live = run_live(FALLBACK, &server, cfg).await;
    assert_eq!(live.summary.outcome, Outcome::Ok, "{:?}", live.summary);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].line, "POST /v1/chat/completions HTTP/1.1");
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(reqs[1].line, "POST /v1/messages HTTP/1.1");
    assert_eq!(
        reqs[1].header("x-api-key"),
        Some("sk-ant-from-config-0123456789")
    );
    assert_eq!(reqs[2].line, "POST /openai/v1/chat/completions HTTP/1.1");
    assert_eq!(
        reqs[2].header("authorization"),
        Some("Bearer gsk-from-config-0123456789")
    );
    assert_eq!(
        reqs[2].header("http-referer"),
        Some("https://retrylab.test")
    );
    assert_eq!(reqs[2].header("x-title"), Some("retrylab"));
    assert_eq!(reqs[0].header("x-title"), None);
    // The Anthropic hop's auth error names its own variable.
    let errors = live.errors();
    assert!(
        errors[1].message.contains("check ANTHROPIC_API_KEY"),
        "{}",
        errors[1].message
    );
    // No event carries a key.
    let all: String = live.events.iter().map(|e| e.to_json_line()).collect();
    for k in [KEY, "sk-ant-from-config", "gsk-from-config"] {
        assert!(!all.contains(k), "{k} leaked into the events");
    }
}

#[test]
fn nothing_that_holds_a_key_shows_it_in_debug() {
    let cfg = Config::parse(&format!("[keys]\nopenai = \"{KEY}\""), None)
        .with_env([("ANTHROPIC_API_KEY", KEY)]);
    let endpoint = retrylab::provider::Endpoint {
        kind: retrylab::scenario::types::ProviderKind::Openai,
        base_url: "http://x/v1".into(),
        api_key: Some(KEY.into()),
        headers: vec![("authorization".into(), KEY.into())],
    };
    let shown = format!(
        "{cfg:?}\n{:?}\n{:?}\n{endpoint:?}",
        cfg.key(retrylab::scenario::types::ProviderKind::Openai, None),
        cfg.key(retrylab::scenario::types::ProviderKind::Anthropic, None),
    );
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
}
