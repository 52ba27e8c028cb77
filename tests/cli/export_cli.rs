//! `retrylab export` (DESIGN §14): the code for each target, and findings for what a target
//! cannot express, at the top of the output and on stderr. The round trip itself (the
//! programs run against the simulator) is tests/export_roundtrip.sh.

use std::path::Path;
use std::process::{Command, Output};

fn retrylab(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_retrylab"))
        .args(args)
        .env("RETRYLAB_DATA_DIR", dir.join("data"))
        .env("RETRYLAB_CONFIG_DIR", dir.join("config"))
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const TARGETS: [&str; 5] = [
    "mirascope",
    "tenacity",
    "mirascope-v2",
    "litellm",
    "portkey",
];

#[test]
fn mirascope_export_is_the_retries_page_in_code() {
    let dir = tempfile::tempdir().unwrap();
    let out = retrylab(
        &["export", "fallback-with-retries", "--to", "mirascope"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let code = text(&out.stdout);
    for line in [
        "CLIENT_0 = sdk_client(\"openai\", None, TIMEOUT, max_retries=0)  # primary: openai gpt-4o-mini",
        "CLIENT_1 = sdk_client(\"anthropic\", None, TIMEOUT, max_retries=0)  # hop 1: anthropic claude-3-5-sonnet-latest",
        "@llm.call(provider=\"openai\", model=\"gpt-4o-mini\", client=CLIENT_0)",
        "def fallback_with_retries_prompt(question: str, *, errors: list[Exception] | None = None):",
        "@fallback(\n    RetryError,\n    [\n        {\n            \"catch\": RetryError,\n            \"provider\": \"anthropic\",\n            \"model\": \"claude-3-5-sonnet-latest\",\n            \"client\": CLIENT_1,\n        }\n    ],\n)",
        "@retry(\n    stop=stop_after_attempt(3),\n    wait=wait_retry_after(wait_exponential(multiplier=1, min=4, max=10), cap=60),\n    retry=retry_if_exception_type((openai.RateLimitError, anthropic.RateLimitError)) & retry_if_exception(kind_in(\"rate_limit\")),\n    before_sleep=trace_wait,\n)",
        "    response = fallback_with_retries_prompt(question=\"What is the meaning of life?\", errors=errors)",
        "BASE_URL = os.environ.get(\"RETRYLAB_BASE_URL\", \"http://127.0.0.1:8787\")",
    ] {
        assert!(code.contains(line), "missing:\n{line}\n---\n{code}");
    }
}

#[test]
fn reinsertion_and_validators_become_collect_errors_and_after_validators() {
    let dir = tempfile::tempdir().unwrap();
    let out = retrylab(
        &["export", "error-reinsertion", "--to", "mirascope"],
        dir.path(),
    );
    let code = text(&out.stdout);
    assert!(
        code.contains("after=collect_errors(ValidationError),"),
        "{code}"
    );
    assert!(
        code.contains("Answer = Annotated[str, AfterValidator(is_upper)]"),
        "{code}"
    );
    assert!(code.contains("    if texts:\n        prompt += \"Previous Error: \"\n        prompt += jinja_list(texts)\n"), "{code}");
    let tenacity =
        text(&retrylab(&["export", "tool-retry", "--to", "tenacity"], dir.path()).stdout);
    assert!(tenacity.contains("def get_book_author(title: str) -> str:\n    \"Look up who wrote a book\"\n    if title == \"The Name of the Wind\":\n        return \"Patrick Rothfuss\"\n"), "{tenacity}");
    assert!(tenacity.contains("    return \"Unknown\"\n"), "{tenacity}");
}

#[test]
fn every_target_exports_every_builtin_with_its_findings_on_top_and_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/scenarios"))
            .unwrap()
            .map(|e| {
                e.unwrap()
                    .path()
                    .file_stem()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
    assert!(names.len() >= 13);
    for name in &names {
        for target in TARGETS {
            let out = retrylab(&["export", name, "--to", target], dir.path());
            assert_eq!(
                out.status.code(),
                Some(0),
                "{name} {target}: {}",
                text(&out.stderr)
            );
            let code = text(&out.stdout);
            let top: String = code.lines().take(40).collect::<Vec<_>>().join("\n");
            assert!(
                top.contains("indings"),
                "{name} {target}: no findings block on top:\n{top}"
            );
            for finding in text(&out.stderr).lines() {
                let (_, said) = finding.split_once("): ").expect("`finding (Target): text`");
                assert!(
                    code.contains(said),
                    "{name} {target}: stderr's finding is not in the file: {said}"
                );
            }
            if target == "portkey" {
                let v: serde_json::Value =
                    serde_json::from_str(&code).expect("Portkey config is JSON");
                assert!(v["x-retrylab-findings"].is_array());
            }
        }
    }
}

#[test]
fn a_feature_the_target_lacks_is_a_finding_not_a_silent_drop() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lacks.toml");
    std::fs::write(
        &file,
        r#"name = "Lacks"
[prompt]
template = "{% for e in errors %}{{ e }}{% endfor %}Hi"
[call]
provider = "openai"
model = "gpt-4o-mini"
[retry]
stop = { after_attempt = 10 }
wait = { random_exponential = { multiplier = 1, max = 20 } }
retry_on = ["server_error"]
seed = 5
[fallback]
catch = ["retry_error"]
[[fallback.hops]]
provider = "anthropic"
model = "claude-3-5-haiku-latest"
catch = ["retry_error"]
retry = { stop = { after_attempt = 2 } }
"#,
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let findings = |target: &str| {
        let out = retrylab(&["export", path, "--to", target], dir.path());
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stderr)
    };
    let m = findings("mirascope");
    assert!(
        m.contains("a hop's own [retry] table: @fallback re-runs the one @retry-wrapped function"),
        "{m}"
    );
    assert!(
        m.contains(
            "jitter: seeds can't be shared across languages or libraries ([retry].seed = 5)"
        ),
        "{m}"
    );
    // The classes of server_error also catch overloaded: the predicate narrows them back,
    // so retry_on needs no finding (a fallback's catch, a class list only, does).
    assert!(
        !m.contains("retry_on: overloaded shares its exception class"),
        "{m}"
    );
    let code = text(&retrylab(&["export", path, "--to", "mirascope"], dir.path()).stdout);
    assert!(
        code.contains("& retry_if_exception(kind_in(\"server_error\"))"),
        "{code}"
    );
    assert!(
        m.contains("the template's `{% for e in errors %}` has no translation"),
        "{m}"
    );
    // Plain Tenacity keeps each hop's own table: no such finding there.
    assert!(!findings("tenacity").contains("a hop's own [retry] table"));
    let p = findings("portkey");
    assert!(
        p.contains("Portkey: attempts capped at 5 (the scenario retries 9 times)"),
        "{p}"
    );
    assert!(p.contains("Portkey: no jitter"), "{p}");
    let v2 = findings("mirascope-v2");
    assert!(
        v2.contains("Retry-After: Mirascope v2 does not read it"),
        "{v2}"
    );
    assert!(v2.contains("one retry_on for all hops"), "{v2}");
    let l = findings("litellm");
    assert!(
        l.contains("LiteLLM: a hop's own [retry] table has no spelling"),
        "{l}"
    );
}

#[test]
fn writes_to_a_file_and_refuses_an_unknown_target() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("basic.py");
    let out = retrylab(
        &[
            "export",
            "basic-retry",
            "--to",
            "tenacity",
            "-o",
            file.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let code = std::fs::read_to_string(&file).unwrap();
    assert!(
        code.starts_with("#!/usr/bin/env python3\n\"\"\"Basic retry — exported by retrylab"),
        "{code}"
    );
    assert!(
        code.contains("def hop_0(*, errors: list[Exception] | None = None) -> str:"),
        "{code}"
    );
    let bad = retrylab(&["export", "basic-retry", "--to", "langchain"], dir.path());
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("`langchain` is not a target: pick one of mirascope, tenacity, mirascope-v2, litellm, portkey"), "{}", text(&bad.stderr));
    let missing = retrylab(
        &["export", "no-such-scenario", "--to", "mirascope"],
        dir.path(),
    );
    assert_eq!(missing.status.code(), Some(2));
}
