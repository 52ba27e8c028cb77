//! Bad scenarios: every file in tests/invalid_scenarios/ must fail to load at the line its
//! `# expect-line:` names, with its `# expect-message:` and `# expect-hint:` substrings. Plus:
//! a full valid scenario parses, and no prefix of it makes the loader panic.

use retrylab::scenario::load::{ScenarioError, parse};
use retrylab::scenario::types::{FaultKind, ProviderKind, ValidatorSpec};
use std::path::{Path, PathBuf};

struct Expect {
    line: usize,
    message: String,
    hint: String,
}

fn expectations(source: &str, file: &Path) -> Expect {
    let field = |name: &str| {
        source
            .lines()
            .find_map(|l| l.strip_prefix(&format!("# expect-{name}:")))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("{}: no `# expect-{name}:` line", file.display()))
    };
    Expect {
        line: field("line")
            .parse()
            .unwrap_or_else(|_| panic!("{}: expect-line is not a number", file.display())),
        message: field("message"),
        hint: field("hint"),
    }
}

#[allow(clippy::unwrap_used)] // a test helper: a missing folder should fail loudly
fn invalid_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid_scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_invalid_scenario_fails_where_and_how_it_says() {
    let files = invalid_files();
    assert!(files.len() >= 15, "only {} invalid scenarios", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        let want = expectations(&source, file);
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let got: ScenarioError = match parse(&source, &name) {
            Ok(_) => {
                failures.push(format!("{name}: parsed, but should fail"));
                continue;
            }
            Err(e) => e,
        };
        let lines = source.lines().count().max(1);
        let ok = got.line == want.line
            && got.message.contains(&want.message)
            && got.hint.contains(&want.hint)
            && got.origin == name
            && got.column >= 1
            && got.line <= lines + 1
            && !got.hint.is_empty()
            && !got.hint.contains('\n')
            && !got.message.contains('\n');
        if !ok {
            failures.push(format!(
                "{name}: want line {} / message ~ {:?} / hint ~ {:?}\n   got {}:{} / {:?} / {:?}",
                want.line, want.message, want.hint, got.line, got.column, got.message, got.hint
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn errors_render_as_file_line_column_then_hint() {
    let file = invalid_files()
        .into_iter()
        .find(|p| p.ends_with("unknown_key_in_retry_stop.toml"))
        .unwrap();
    let source = std::fs::read_to_string(&file).unwrap();
    let e = parse(&source, "fallback.toml").unwrap_err();
    assert_eq!(
        e.to_string(),
        "fallback.toml:12:10: unknown key `after_attempts`; did you mean `after_attempt`?\n  \
         hint: rename it to `after_attempt` (stop strategies: after_attempt, after_delay, \
         before_delay, any, all)"
    );
}

/// DESIGN §2's example, with tools, validators and a scripted fault list.
const FULL: &str = r#"name = "Fallback with retries"
about = "Retry OpenAI on rate limits with exponential back-off, then fall back to Anthropic."

[prompt]
template = """
Answer this question: {{ question }}
{% for e in errors %}Previous error: {{ e }}
{% endfor %}"""
system = ""
vars = { question = "What is the meaning of life?" }

[call]
provider = "openai"
model = "gpt-4o-mini"
stream = false
timeout = "60s"

[retry]
stop = { after_attempt = 3 }
wait = { exponential = { multiplier = 1, min = 4, max = 10 } }
retry_on = ["rate_limit"]
reinsert = []
honor_retry_after = true

[fallback]
catch = ["retry_error"]

[[fallback.hops]]
provider = "anthropic"
model = "claude-3-5-sonnet-latest"
catch = ["retry_error"]
retry = { stop = { any = [{ after_attempt = 2 }, { after_delay = "30s" }] }, wait = { fixed = "250ms" } }

[response]
validators = [
  { uppercase = true },
  { regex = '^[A-Z -]+\.?$' },
  { max_chars = 200 },
  { one_of = ["42.", "FORTY-TWO"] },
]

[[tools]]
name = "get_book_author"
description = "Look up who wrote a book"
parameters = { type = "object", properties = { title = { type = "string" } }, required = ["title"] }
cases = [{ when = { title = "The Name of the Wind" }, result = "Patrick Rothfuss" }]
default = "Unknown"

[sim]
reply = "42."
replies = ["Patrick Rothfuss", "PATRICK ROTHFUSS"]
tool_calls = [{ name = "get_book_author", args = '{"titel": "x"}' }]
tokens_per_second = 40
first_token_ms = 200
faults = [
  { provider = "openai", fault = "rate_limit", retry_after = "1s", times = 3 },
  { fault = "cut_stream", after_tokens = 5, times = 1 },
  { model = "gpt-4o-mini", fault = "server_error", on_requests = [1, 3] },
]
chaos = { rate_limit = 0.2, server_error = 0.05 }
seed = 7
"#;

#[test]
fn the_design_example_with_tools_and_validators_parses() {
    let s = parse(FULL, "full.toml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.name, "Fallback with retries");
    assert_eq!(s.call.provider, ProviderKind::Openai);
    let fb = s.fallback.as_ref().unwrap();
    assert_eq!(fb.hops.len(), 1);
    assert_eq!(fb.hops[0].provider, ProviderKind::Anthropic);
    assert!(fb.hops[0].retry.is_some());
    let validators = &s.response.as_ref().unwrap().validators;
    assert_eq!(validators.len(), 4);
    assert!(matches!(validators[1], ValidatorSpec::Regex(_)));
    assert_eq!(s.tools.len(), 1);
    assert_eq!(s.sim.faults.len(), 3);
    assert_eq!(s.sim.faults[1].fault, FaultKind::CutStream);
    assert_eq!(s.sim.chaos[&FaultKind::RateLimit], 0.2);
    assert_eq!(s.sim.seed, 7);

    // The compiled validators and tools of the same file behave as written.
    let v = retrylab::validate::Validators::compile(validators).unwrap();
    assert_eq!(v.check("FORTY-TWO"), Ok(()));
    assert!(v.check("forty-two").is_err());
    let t = retrylab::tools::Toolbox::compile(&s.tools).unwrap();
    assert_eq!(
        t.call("get_book_author", r#"{"title": "The Name of the Wind"}"#),
        Ok("Patrick Rothfuss".into())
    );
    let r = retrylab::scenario::render::render(&s, &["e1".into()]).unwrap();
    assert_eq!(r.system, None);
    assert_eq!(
        r.user,
        "Answer this question: What is the meaning of life?\nPrevious error: e1\n"
    );
}

#[test]
fn a_fallback_without_hops_is_fine() {
    let start = FULL.find("[[fallback.hops]]").unwrap();
    let end = FULL.find("[response]").unwrap();
    let no_hops = format!("{}{}", &FULL[..start], &FULL[end..]);
    let s = parse(&no_hops, "f.toml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.fallback.unwrap().hops.len(), 0);
}

#[test]
fn no_prefix_of_a_valid_scenario_panics() {
    let mut parsed = 0;
    let mut refused = 0;
    for (cut, _) in FULL.char_indices().chain([(FULL.len(), ' ')]) {
        let prefix = &FULL[..cut];
        match parse(prefix, "prefix.toml") {
            Ok(_) => parsed += 1,
            Err(e) => {
                refused += 1;
                let lines = prefix.lines().count().max(1);
                assert!(
                    e.line >= 1 && e.line <= lines + 1 && e.column >= 1,
                    "cut at {cut}: position {}:{} outside the text\n{e}",
                    e.line,
                    e.column
                );
                assert!(!e.hint.is_empty(), "cut at {cut}: no hint\n{e}");
            }
        }
    }
    // Only the end of the file (the optional tail of [sim]) may parse.
    assert!(
        parsed >= 1 && refused > FULL.len() / 2,
        "{parsed} parsed, {refused} refused"
    );
}

#[test]
fn no_line_removal_of_a_valid_scenario_panics() {
    let lines: Vec<&str> = FULL.lines().collect();
    for skip in 0..lines.len() {
        let src: String = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        if let Err(e) = parse(&src, "cut.toml") {
            assert!(e.line >= 1 && e.column >= 1, "line {skip} removed: {e}");
        }
    }
}
