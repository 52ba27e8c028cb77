//! `retrylab import` end to end: the six examples of Mirascope's retries page, pasted as
//! Python files (tests/fixtures/python/), import, pass `check`, and run to the end the page
//! describes; bad files are reported with their lines and exit codes (DESIGN §14, §7).

use crate::support::cli::{retrylab, text};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/python")
        .join(name)
        .display()
        .to_string()
}

/// Imports `name` into `dir`, checks the scenario, runs it; returns its events.
fn import_check_run(name: &str, dir: &Path) -> Vec<Value> {
    let out: PathBuf = dir.join(format!("{name}.toml"));
    let out_s = out.display().to_string();
    let imported = retrylab(&["import", &fixture(name), "-o", &out_s], dir);
    let stderr = text(&imported.stderr);
    assert_eq!(imported.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("everything mapped"),
        "the page's examples map in full: {stderr}"
    );
    let check = retrylab(&["check", &out_s], dir);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}{}",
        text(&check.stdout),
        text(&check.stderr)
    );
    let run = retrylab(
        &["run", &out_s, "--json", "--speed", "max", "--no-trace"],
        dir,
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    text(&run.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn named<'a>(events: &'a [Value], name: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == name).collect()
}

fn failed_kinds(events: &[Value]) -> Vec<String> {
    named(events, "attempt_failed")
        .iter()
        .map(|e| e["error"]["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn finished(events: &[Value]) -> &Value {
    named(events, "run_finished")[0]
}

#[test]
fn the_basic_retry_example_waits_4_s_twice_and_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let ev = import_check_run("basic_retry.py", dir.path());
    assert_eq!(failed_kinds(&ev), ["server_error", "server_error"]);
    let waits: Vec<u64> = named(&ev, "wait_started")
        .iter()
        .map(|w| w["delay_ms"].as_u64().unwrap())
        .collect();
    assert_eq!(
        waits,
        [4000, 4000],
        "wait_exponential(multiplier=1, min=4, max=10)"
    );
    assert_eq!(finished(&ev)["outcome"], "ok");
}

#[test]
fn the_stream_example_retries_a_broken_stream() {
    let dir = tempfile::tempdir().unwrap();
    let ev = import_check_run("stream_retry.py", dir.path());
    assert_eq!(failed_kinds(&ev)[0], "stream_interrupted");
    let first = named(&ev, "attempt_failed")[0];
    assert!(
        !first["partial_output"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "the broken stream's output is kept: {first}"
    );
    assert_eq!(named(&ev, "attempt_started")[0]["request"]["stream"], true);
    assert_eq!(finished(&ev)["outcome"], "ok");
}

#[test]
fn the_tools_example_retries_bad_arguments_then_the_tool_answers() {
    let dir = tempfile::tempdir().unwrap();
    let ev = import_check_run("tool_retry.py", dir.path());
    assert_eq!(failed_kinds(&ev), ["tool_validation"]);
    let call = named(&ev, "tool_call")[0];
    assert_eq!(call["name"], "get_book_author");
    assert_eq!(call["result"], "Patrick Rothfuss", "the tool's own case");
    assert_eq!(finished(&ev)["outcome"], "ok");
}

#[test]
fn the_reinsertion_example_reinserts_the_validation_error_and_ends_uppercase() {
    let dir = tempfile::tempdir().unwrap();
    let ev = import_check_run("error_reinsertion.py", dir.path());
    assert_eq!(failed_kinds(&ev), ["validation"]);
    let reinserted = named(&ev, "error_reinserted");
    assert_eq!(reinserted.len(), 1);
    let second = named(&ev, "attempt_started")[1];
    let prompt = second["request"]["messages"][0]["content"]
        .as_str()
        .unwrap();
    assert!(prompt.starts_with("Previous Error: ["), "{prompt}");
    assert!(
        prompt.ends_with("Who wrote The Name of the Wind?"),
        "{prompt}"
    );
    let content = finished(&ev)["content"].as_str().unwrap().to_string();
    assert_eq!(content, content.to_uppercase());
    assert_eq!(finished(&ev)["outcome"], "ok");
}

#[test]
fn the_fallback_example_catches_the_rate_limit_and_anthropic_answers() {
    let dir = tempfile::tempdir().unwrap();
    let ev = import_check_run("fallback.py", dir.path());
    let hop = named(&ev, "fallback_hop")[0];
    assert_eq!(hop["to"]["provider"], "anthropic");
    assert_eq!(hop["caught"]["kind"], "rate_limit");
    let end = finished(&ev);
    assert_eq!(end["outcome"], "ok");
    assert_eq!(end["caught"][0]["kind"], "rate_limit", "response._caught");
}

#[test]
fn the_fallback_with_retries_example_retries_openai_3_times_then_anthropic() {
    let dir = tempfile::tempdir().unwrap();
    let ev = import_check_run("fallback_with_retries.py", dir.path());
    let started: Vec<(String, u64)> = named(&ev, "attempt_started")
        .iter()
        .map(|a| {
            (
                a["provider"].as_str().unwrap().to_string(),
                a["attempt"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        started,
        [
            ("openai".to_string(), 1),
            ("openai".to_string(), 2),
            ("openai".to_string(), 3),
            ("anthropic".to_string(), 1)
        ]
    );
    assert_eq!(
        named(&ev, "fallback_hop")[0]["caught"]["kind"],
        "retry_error"
    );
    assert_eq!(finished(&ev)["outcome"], "ok");
}

#[test]
fn without_o_the_scenario_goes_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = retrylab(&["import", &fixture("basic_retry.py")], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let toml = text(&out.stdout);
    assert!(toml.contains("stop = { after_attempt = 3 }"), "{toml}");
    assert!(text(&out.stderr).contains("-> stdout: everything mapped"));
}

#[test]
fn dynamic_arguments_and_custom_callables_are_listed_with_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.py");
    std::fs::write(
        &file,
        "from mirascope import llm\nfrom tenacity import retry, retry_if_result, stop_after_attempt, wait_fixed\n\nn = int(input())\n\n@retry(\n    stop=stop_after_attempt(n),\n    wait=wait_fixed(2),\n    retry=retry_if_result(my_fn),\n)\n@llm.call(provider=\"openai\", model=\"gpt-4o-mini\")\ndef ask(q: str) -> str:\n    return f\"Q: {q}\"\n\nask(\"hi\")\n",
    )
    .unwrap();
    let f = file.display().to_string();
    let out_path = dir.path().join("out.toml").display().to_string();
    let out = retrylab(&["import", &f, "-o", &out_path], dir.path());
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{f}:7: stop stop_after_attempt(n): `n` is a variable"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{f}:9: retry=retry_if_result(my_fn): retry_if_result calls a function"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("2 pieces not mapped"), "{stderr}");
    // What could be read is there, and the scenario checks.
    let toml = std::fs::read_to_string(dir.path().join("out.toml")).unwrap();
    assert!(toml.contains("wait = { fixed = 2 }"), "{toml}");
    assert!(
        toml.contains("#   line 7: stop stop_after_attempt(n)"),
        "{toml}"
    );
    let check = retrylab(&["check", &out_path], dir.path());
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    assert!(text(&check.stdout).contains("retries forever"));
}

#[test]
fn a_file_that_is_not_python_exits_2_naming_its_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.py");
    std::fs::write(&file, "# notes\nthis is $not python\nnor ¿this?\n").unwrap();
    let out = retrylab(&["import", &file.display().to_string()], dir.path());
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("notes.py:2: a line that is not Python: `$` is not Python"),
        "{stderr}"
    );
    assert!(
        stderr.contains("notes.py:3: a line that is not Python"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing to import"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_usage_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = retrylab(&["import", "/nonexistent/app.py"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("cannot read /nonexistent/app.py"));
    let big = dir.path().join("big.py");
    std::fs::write(&big, "x = 1\n".repeat(200_000)).unwrap();
    let out = retrylab(&["import", &big.display().to_string()], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("larger than"),
        "{}",
        text(&out.stderr)
    );
    let f = fixture("basic_retry.py");
    let onto_itself = retrylab(&["import", &f, "-o", &f], dir.path());
    assert_eq!(onto_itself.status.code(), Some(2));
    assert!(text(&onto_itself.stderr).contains("is the Python file itself"));
    let no_file = retrylab(&["import"], dir.path());
    assert_eq!(no_file.status.code(), Some(2));
}

#[test]
fn a_huge_literal_delay_is_written_as_toml_that_loads() {
    // Review of issue 11: `stop_after_delay(1e308)` was written as a 309-digit integer,
    // which TOML refuses ("the imported scenario does not load (an importer bug)").
    let dir = tempfile::tempdir().unwrap();
    let py = dir.path().join("huge.py");
    std::fs::write(
        &py,
        "from tenacity import retry, stop_after_delay, wait_fixed\n\n@retry(stop=stop_after_delay(1e308), wait=wait_fixed(1e20))\ndef f():\n    pass\n",
    )
    .unwrap();
    let out = retrylab(&["import", py.to_str().unwrap()], dir.path());
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("importer bug"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // A negative timedelta escaped the negative check plain numbers get.
    std::fs::write(
        &py,
        "from datetime import timedelta\nfrom tenacity import retry, stop_after_delay\n\n@retry(stop=stop_after_delay(timedelta(seconds=-5)))\ndef f():\n    pass\n",
    )
    .unwrap();
    let out = retrylab(&["import", py.to_str().unwrap()], dir.path());
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("huge.py:4:") && stderr.contains("negative"),
        "{stderr}"
    );
}

#[test]
fn a_dropped_pieces_note_stays_short_however_long_its_literal() {
    let dir = tempfile::tempdir().unwrap();
    let py = dir.path().join("long.py");
    std::fs::write(
        &py,
        "from tenacity import retry, stop_after_attempt\n\n@retry(stop=stop_after_attempt(1e300))\ndef f():\n    pass\n",
    )
    .unwrap();
    let out = retrylab(&["import", py.to_str().unwrap()], dir.path());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("long.py:3:"), "{stderr}");
    for line in stderr.lines() {
        assert!(
            line.chars().count() < 500,
            "a {}-char line: {line}",
            line.chars().count()
        );
    }
}
