//! `retrylab whatif` end to end: a recorded run compared under another policy as a table
//! and as JSON lines, the fault script written for `check`, and a bad trace as one error
//! line naming its line, exit 2.

use crate::support::cli::text;
use std::path::Path;
use std::process::Output;

/// The binary under the data dir `data` (the argument order these tests read best in).
fn retrylab(data: &Path, args: &[&str]) -> Output {
    crate::support::cli::retrylab(args, data)
}

#[test]
fn whatif_compares_sides_as_a_table_and_json_and_writes_the_script() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = retrylab(d, &["run", "fallback-with-retries", "--speed", "max"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));

    let out = retrylab(d, &["whatif", "last", "--policy", "basic-retry"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let row = |label: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label} row: {stdout}"))
            .split_whitespace()
            .skip(label.split_whitespace().count())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(row("attempts"), ["4", "3"], "{stdout}");
    assert_eq!(row("outcome"), ["ok", "retry_error"], "{stdout}");

    let script = d.join("script.toml");
    let s = script.to_str().unwrap();
    let out = retrylab(
        d,
        &[
            "whatif",
            "last",
            "--policy",
            "basic-retry",
            "--map",
            "time",
            "--json",
            "--write-scenario",
            s,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        (lines[0]["event"].as_str(), lines[0]["side"].as_str()),
        (Some("whatif_side"), Some("recorded"))
    );
    assert_eq!(lines[1]["side"], "new");
    assert_eq!(lines[1]["attempts"], 3);
    assert_eq!(lines[2]["event"], "whatif_finished");
    assert_eq!(lines[2]["map"], "time");
    assert_eq!(lines[2]["difference"]["attempts"], -1);
    assert_eq!(lines[2]["same_outcome"], false);
    let check = retrylab(d, &["check", s]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
}

#[test]
fn a_trace_without_attempts_is_one_error_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("bare.jsonl");
    std::fs::write(
        &trace,
        "{\"t_ms\":0,\"event\":\"run_started\",\"scenario\":\"x\",\"mode\":\"sim\",\"speed\":\"max\"}\n{\"t_ms\":0,\"event\":\"run_finished\",\"outcome\":\"ok\",\"content\":\"\",\"error\":null,\"caught\":[]}\n",
    )
    .unwrap();
    let out = retrylab(
        dir.path(),
        &["whatif", trace.to_str().unwrap(), "--policy", "basic-retry"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("bare.jsonl:2:") && stderr.contains("without attempts"),
        "{stderr}"
    );
    let out = retrylab(
        dir.path(),
        &[
            "whatif",
            trace.to_str().unwrap(),
            "--policy",
            "basic-retry",
            "--map",
            "wall",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_edited_latency_or_time_beyond_any_wait_is_the_traces_fault_naming_its_line() {
    // Review of issue 11: a trace edited to an absurd latency or t_ms made a fault script
    // that does not load, reported as "a bug of retrylab's" without the trace's line.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = retrylab(d, &["run", "fallback", "--speed", "max"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let traces = d.join("traces");
    let recorded = std::fs::read_dir(&traces)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .expect("the run wrote a trace");
    let lines: Vec<String> = std::fs::read_to_string(&recorded)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let (at, _) = lines
        .iter()
        .enumerate()
        .find(|(_, l)| l.contains("\"event\":\"attempt_succeeded\""))
        .expect("an answer");
    let edit = |from: &str, to: &str, only: Option<usize>| {
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                if only.is_none_or(|o| o == i) {
                    let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                    if v.get(from).is_some() {
                        v[from] = serde_json::json!(to.parse::<u64>().unwrap());
                    }
                    v.to_string()
                } else {
                    l.clone()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    };
    for (name, content, map) in [
        (
            "latency.jsonl",
            edit("latency_ms", &u64::MAX.to_string(), Some(at)),
            "index",
        ),
        (
            "late.jsonl",
            edit("t_ms", &(u64::MAX / 2).to_string(), Some(lines.len() - 1)),
            "time",
        ),
    ] {
        let trace = d.join(name);
        std::fs::write(&trace, content).unwrap();
        let out = retrylab(
            d,
            &[
                "whatif",
                trace.to_str().unwrap(),
                "--policy",
                "fallback",
                "--map",
                map,
            ],
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(!stderr.contains("a bug of retrylab"), "{name}: {stderr}");
        assert!(
            stderr.contains(&format!("{name}:")),
            "{name}: no line named: {stderr}"
        );
    }
}
