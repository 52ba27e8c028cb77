//! `retrylab lab` end to end (DESIGN §12): presets on a fresh machine, the table, --json,
//! and every bad input as one error line, a hint and exit 2.

use crate::support::cli::{retrylab, text};
use std::process::Output;

fn lab(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("a temp dir");
    let args: Vec<&str> = std::iter::once("lab").chain(args.iter().copied()).collect();
    retrylab(&args, dir.path())
}

#[test]
fn lab_compares_two_builtins_under_a_preset_outage() {
    let out = lab(&[
        "basic-retry",
        "fallback-with-retries",
        "--faults",
        "outage-30s",
        "--calls",
        "50",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let success = stdout.lines().find(|l| l.starts_with("success")).unwrap();
    assert!(
        success.contains("0.00 %") && success.contains("100.00 % *"),
        "{stdout}"
    );
    assert!(stdout.contains("reached hop 1"), "{stdout}");
    // The policy that always fails is not "best" for failing fast or cheap: the marks
    // go to the policies with the highest success rate only.
    for label in ["latency p50", "attempts/call", "cost/call"] {
        let line = stdout.lines().find(|l| l.starts_with(label)).unwrap();
        assert!(!line.contains('*'), "{label}: {stdout}");
    }
    // No progress bar off a terminal, no colour under NO_COLOR.
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    assert!(!stdout.contains('\x1b'), "{stdout}");
}

#[test]
fn lab_json_is_one_lab_policy_per_policy_then_lab_finished() {
    let out = lab(&[
        "basic-retry",
        "chaos",
        "--faults",
        "flaky-5pct",
        "--calls",
        "30",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["lab_policy", "lab_policy", "lab_finished"]);
    assert_eq!(lines[0]["policy"], "basic-retry");
    assert_eq!(lines[0]["calls"], 30);
    assert!(lines[0]["latency_ms"]["p99"].is_u64());
    assert!(lines[0]["latency_ms"]["histogram"].is_array());
    assert_eq!(lines[2]["calls_per_policy"], 30);
}

#[test]
fn lab_bad_input_is_one_line_a_hint_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let no_sim = dir.path().join("no-sim.toml");
    std::fs::write(&no_sim, "name = \"x\"\n").unwrap();
    let forever = dir.path().join("forever.toml");
    std::fs::write(
        &forever,
        "[sim]\noutages = [{ provider = \"openai\", from = \"0s\", to = \"720h\", fault = \"overloaded\" }]\n",
    )
    .unwrap();
    let conflict = dir.path().join("conflict.toml");
    std::fs::write(
        &conflict,
        "[sim]\nchaos = { server_error = 0.8, rate_limit = 0.5 }\n",
    )
    .unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["basic-retry", "--calls", "0"], "--calls 0"),
        (&["basic-retry", "--callers", "0"], "--callers 0"),
        (&["no-such-scenario"], "no-such-scenario"),
        (
            &["basic-retry", "--faults", no_sim.to_str().unwrap()],
            "no [sim]",
        ),
        (
            &["basic-retry", "--faults", forever.to_str().unwrap()],
            "can never succeed",
        ),
        (
            &["basic-retry", "--faults", conflict.to_str().unwrap()],
            "add up to",
        ),
    ];
    for (args, expected) in cases {
        let out = lab(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{args:?}: {stderr}");
        assert!(
            lines[0].starts_with("error: ") && lines[0].contains(expected),
            "{args:?}: {stderr}"
        );
        assert!(lines[1].starts_with("hint: "), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// An attempt that does no I/O (its prompt stops rendering once an error is reinserted)
/// and no wait between attempts: the call never yields, yet the cap still ends it.
#[test]
fn a_call_that_never_yields_is_capped_not_hung() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spin.toml");
    std::fs::write(
        &path,
        r#"name = "spin"
[prompt]
template = "{% if errors|length > 1 %}{{ errors[0] + 1 }}{% endif %}Who wrote it?"
[call]
provider = "openai"
model = "gpt-4o-mini"
[retry]
reinsert = ["validation"]
retry_on = ["any"]
[response]
validators = [{ uppercase = true }]
"#,
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = lab(&[path.to_str().unwrap(), "--calls", "2"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("ended capped"), "{stdout}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}
