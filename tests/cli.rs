//! The CLI contract (DESIGN §7): commands, output, exit codes 0 / 1 / 2, traces.

use std::path::Path;
use std::process::{Command, Output};

fn retrylab(args: &[&str], data_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_retrylab"))
        .args(args)
        .env("RETRYLAB_DATA_DIR", data_dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn run_prints_a_timeline_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let out = retrylab(
        &["run", "fallback-with-retries", "--speed", "max"],
        dir.path(),
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("hop 0 · attempt 3 → openai/gpt-4o-mini"),
        "{stdout}"
    );
    assert!(stdout.contains("⏳ wait 4 s"), "{stdout}");
    assert!(stdout.contains("↪ fallback openai/gpt-4o-mini → anthropic/claude-3-5-sonnet-latest (hop 1), caught retry_error"), "{stdout}");
    assert!(stdout.contains("■ ok in 8.925 s"), "{stdout}");
    assert!(!stdout.contains('\x1b'), "NO_COLOR is honoured");
    // The run was recorded, and replays to the same timeline.
    let traces: Vec<_> = std::fs::read_dir(dir.path().join("traces"))
        .unwrap()
        .collect();
    assert_eq!(traces.len(), 1);
    let trace = traces[0].as_ref().unwrap().path();
    let replay = retrylab(&["replay", trace.to_str().unwrap(), "--print"], dir.path());
    assert_eq!(replay.status.code(), Some(0));
    assert_eq!(text(&replay.stdout), stdout);
}

#[test]
fn json_prints_one_event_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = retrylab(
        &[
            "run",
            "basic-retry",
            "--json",
            "--speed",
            "max",
            "--no-trace",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0));
    let events: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON object"))
        .collect();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(names.first(), Some(&"run_started"));
    assert_eq!(names.last(), Some(&"run_finished"));
    assert_eq!(names.iter().filter(|n| **n == "attempt_started").count(), 3);
    assert!(events.iter().all(|e| e["t_ms"].is_u64()));
    let wait = events
        .iter()
        .find(|e| e["event"] == "wait_started")
        .unwrap();
    assert_eq!(wait["delay_ms"], 4000);
    assert_eq!(wait["hop"], 0);
    assert_eq!(wait["attempt"], 1);
    assert!(
        !dir.path().join("traces").exists(),
        "--no-trace writes nothing"
    );
}

#[test]
fn a_failed_run_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = retrylab(&["run", "every-hop-fails", "--speed", "max"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("fallback_error"));
}

#[test]
fn speed_does_not_change_the_events() {
    let dir = tempfile::tempdir().unwrap();
    // The same events but for the speed label and the simulator's random port.
    let strip = |o: &Output| -> Vec<serde_json::Value> {
        text(&o.stdout)
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                let m = v.as_object_mut().unwrap();
                m.remove("speed");
                m.remove("response");
                v
            })
            .collect()
    };
    let max = retrylab(
        &[
            "run",
            "error-reinsertion",
            "--json",
            "--speed",
            "max",
            "--no-trace",
        ],
        dir.path(),
    );
    let fast = retrylab(
        &[
            "run",
            "error-reinsertion",
            "--json",
            "--speed",
            "1000",
            "--no-trace",
        ],
        dir.path(),
    );
    let (a, b) = (strip(&max), strip(&fast));
    assert_eq!(a.len(), 9, "{a:#?}");
    assert_eq!(a, b);
}

#[test]
fn var_overrides_a_template_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = retrylab(
        &[
            "run",
            "fallback",
            "--json",
            "--speed",
            "max",
            "--no-trace",
            "--var",
            "question=Why is the sky blue?",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("Answer this question: Why is the sky blue?"));
}

#[test]
fn a_bad_scenario_exits_2_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "name = \"x\"\n[prompt]\ntemplate = \"hi\"\n[call]\nprovider = \"openai\"\nmodel = \"m\"\n[retry]\nstop = { after_attempts = 3 }\n",
    )
    .unwrap();
    for cmd in ["run", "check"] {
        let out = retrylab(&[cmd, path.to_str().unwrap()], dir.path());
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = text(&out.stderr);
        assert!(err.contains("bad.toml:8:"), "{cmd}: {err}");
        assert!(err.contains("after_attempt"), "{cmd}: {err}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["run", "no-such-scenario"][..],
        &["run", "basic-retry", "--speed", "fast"],
        &["run", "basic-retry", "--var", "novalue"],
        &["frobnicate"],
        &["replay", "/nonexistent/trace.jsonl", "--print"],
    ] {
        let out = retrylab(args, dir.path());
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(!text(&out.stderr).is_empty());
    }
}

#[test]
fn check_prints_the_plan_and_worst_case() {
    let dir = tempfile::tempdir().unwrap();
    let out = retrylab(&["check", "basic-retry"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    assert!(
        s.contains("attempt 1, wait 4 s, attempt 2, wait 4 s, attempt 3, then retry_error"),
        "{s}"
    );
    assert!(
        s.contains("worst case: 3 attempts, 3 HTTP requests, 8 s of waiting"),
        "{s}"
    );
}

#[test]
fn scenarios_lists_the_builtins() {
    let dir = tempfile::tempdir().unwrap();
    let out = retrylab(&["scenarios"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    for name in [
        "basic-retry",
        "stream-retry",
        "tool-retry",
        "error-reinsertion",
        "fallback",
        "fallback-with-retries",
    ] {
        assert!(
            s.lines().any(|l| l.starts_with(name)),
            "{name} missing:\n{s}"
        );
    }
}

#[test]
fn var_can_supply_a_variable_the_file_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.toml");
    std::fs::write(&path, "name = \"v\"\n[prompt]\ntemplate = \"Tell me about {{ topic }}\"\n[call]\nprovider = \"openai\"\nmodel = \"m\"\n").unwrap();
    let p = path.to_str().unwrap();
    let missing = retrylab(&["run", p, "--speed", "max", "--no-trace"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).contains("v.toml:3:"),
        "{}",
        text(&missing.stderr)
    );
    assert!(text(&missing.stderr).contains("--var topic="));
    let given = retrylab(
        &[
            "run",
            p,
            "--speed",
            "max",
            "--no-trace",
            "--json",
            "--var",
            "topic=cats",
        ],
        dir.path(),
    );
    assert_eq!(given.status.code(), Some(0));
    assert!(text(&given.stdout).contains("Tell me about cats"));
}
