//! `retrylab run` of a hedged scenario: it runs on the discrete clock (legs overlap), so
//! its events are the same at every speed and on every run.

use crate::support::cli::{retrylab, text};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/hedge/hedged-retry.toml"
);

fn events(speed: &str, dir: &std::path::Path) -> Vec<serde_json::Value> {
    let out = retrylab(
        &["run", FIXTURE, "--json", "--speed", speed, "--no-trace"],
        dir,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).expect("a JSON object");
            // The reply's `date` header is the wall clock's.
            if let Some(h) = v["response"]["headers"].as_array_mut() {
                h.retain(|kv| kv[0] != "date");
            }
            v
        })
        .collect()
}

#[test]
fn a_hedged_run_at_speed_max_gives_the_same_events_twice_and_at_1000x() {
    let dir = tempfile::tempdir().unwrap();
    let first = events("max", dir.path());
    assert_eq!(first, events("max", dir.path()));
    let line = |e: &serde_json::Value| {
        format!(
            "{} {} {}",
            e["t_ms"],
            e["event"].as_str().unwrap_or(""),
            e["leg"]
        )
    };
    let lines: Vec<String> = first
        .iter()
        .filter(|e| e["event"] != "delta")
        .map(line)
        .collect();
    // Attempt 1 fails alone at 0.15 s; after the 2 s wait, attempt 2's request stalls, leg
    // 2 goes out 1 s later and streams its first token 0.3 s after that.
    assert_eq!(
        lines,
        [
            "0 run_started null",
            "0 attempt_started null",
            "150 attempt_failed null",
            "150 wait_started null",
            "2150 wait_finished null",
            "2150 attempt_started null",
            "3150 hedge_started 2",
            "3450 hedge_cancelled 1",
            // Ten tokens at 20 a second after the first: 3450 + 10 x 50 ms.
            "3950 attempt_succeeded null",
            "3950 run_finished null",
        ]
        .map(String::from),
        "{first:#?}"
    );
    // The same timeline, paced: only the speed label differs.
    let mut paced = events("1000", dir.path());
    paced[0]["speed"] = first[0]["speed"].clone();
    assert_eq!(paced, first);
}
