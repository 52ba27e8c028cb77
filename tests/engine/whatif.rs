//! What-if on recorded runs (DESIGN §13): a recorded sim run replayed under its own policy
//! gives back the same attempts, waits and outcome (both maps); under another policy the
//! hand-computed differences; a bad trace is one error naming its line.

use crate::support::run::{run_sim, scenario};
use retrylab::config::Config;
use retrylab::event::TimedEvent;
use retrylab::scenario::builtin::resolve;
use retrylab::whatif::{MapMode, Policy, WhatifError, read, whatif};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[allow(clippy::unwrap_used)] // a test helper
fn write_trace(dir: &Path, name: &str, events: &[TimedEvent]) -> PathBuf {
    let path = dir.join(format!("{name}.jsonl"));
    let text: String = events.iter().map(|e| e.to_json_line() + "\n").collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn policy_of(source: &str) -> Policy {
    Policy {
        label: "test.toml".into(),
        scenario: scenario(source),
        source: source.into(),
    }
}

#[allow(clippy::unwrap_used)] // a test helper
fn builtin(name: &str) -> Policy {
    let r = resolve(name).unwrap();
    Policy {
        label: name.into(),
        scenario: r.scenario,
        source: r.source,
    }
}

#[tokio::test]
async fn a_recorded_run_replayed_under_its_own_policy_gives_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Arc::new(Config::isolated());
    let builtins = [
        "basic-retry",
        "fallback-with-retries",
        "retry-after-wins",
        "stream-retry",
        "tool-retry",
        "every-hop-fails",
        "overloaded-in-stream",
        "error-reinsertion",
        "timeout-then-fallback",
        "json-reask",
    ];
    for name in builtins {
        let p = builtin(name);
        let (_, events) = run_sim(p.scenario.clone()).await;
        let rec = read(&write_trace(dir.path(), name, &events)).unwrap();
        for map in [MapMode::Index, MapMode::Time] {
            let r = whatif(&rec, map, &p, cfg.clone()).await.unwrap();
            let (a, b) = (&r.recorded, &r.new);
            let at = format!("{name} --map {}: {:?}", map.as_str(), r.notes);
            assert!(a.attempts > 0, "{at}");
            assert_eq!(a.attempt_list, b.attempt_list, "{at}");
            assert_eq!(a.waits_ms, b.waits_ms, "{at}");
            assert_eq!(a.outcome, b.outcome, "{at}");
            assert_eq!(a.requests, b.requests, "{at}");
            // Latencies are replayed to the millisecond the trace keeps.
            let drift = a.total_ms.abs_diff(b.total_ms);
            assert!(
                drift <= u64::from(a.attempts),
                "{at}: {} vs {}",
                a.total_ms,
                b.total_ms
            );
            assert_eq!(a.cost_usd.is_some(), b.cost_usd.is_some(), "{at}");
        }
    }
}

/// A 429 with Retry-After 2 s (100 ms to come back), then the answer (200 ms + 2 tokens at
/// 40/s = 250 ms): recorded at 0 → 100, wait 2 s, 2100 → 2350.
const RECORDED: &str = r#"name = "rate limited once"
[prompt]
template = "Q"
[call]
provider = "openai"
model = "gpt-4o-mini"
[retry]
stop = { after_attempt = 2 }
[sim]
error_ms = 100
reply = "ok fine"
faults = [{ fault = "rate_limit", retry_after = "2s", times = 1 }]
"#;

fn with_retry(retry: &str) -> String {
    format!(
        "name = \"other\"\n[prompt]\ntemplate = \"Q\"\n[call]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\n{retry}\n"
    )
}

#[allow(clippy::unwrap_used)] // a test helper
async fn recorded(dir: &Path) -> retrylab::whatif::Recording {
    let (_, events) = run_sim(scenario(RECORDED)).await;
    read(&write_trace(dir, "rate-limited-once", &events)).unwrap()
}

#[tokio::test]
async fn another_policy_meets_the_recorded_faults_as_computed_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Arc::new(Config::isolated());
    let rec = recorded(dir.path()).await;
    assert_eq!(
        (
            rec.side.attempts,
            rec.side.total_ms,
            rec.side.waits_ms.clone()
        ),
        (2, 2350, vec![2000])
    );
    let kinds = |s: &retrylab::whatif::Side| -> Vec<String> {
        s.attempt_list.iter().map(|a| a.ended.clone()).collect()
    };

    // One attempt: the 429 ends the run (re-raised), after its recorded 100 ms.
    let one = policy_of(&with_retry(""));
    let r = whatif(&rec, MapMode::Index, &one, cfg.clone())
        .await
        .unwrap();
    assert_eq!((r.new.attempts, r.new.total_ms), (1, 100));
    assert_eq!(r.new.outcome, "rate_limit");

    // Waiting 1 s, Retry-After ignored. Index: request 2 is the recorded answer: 1100 → 1350.
    let short = policy_of(&with_retry(
        "[retry]\nstop = { after_attempt = 3 }\nwait = { fixed = 1 }\nhonor_retry_after = false",
    ));
    let r = whatif(&rec, MapMode::Index, &short, cfg.clone())
        .await
        .unwrap();
    assert_eq!((r.new.outcome.as_str(), r.new.total_ms), ("ok", 1350));
    assert_eq!(kinds(&r.new), ["rate_limit", "ok"]);
    // Time: the 429 holds until the recorded retry (2.1 s): 1100 is inside it, 2200 is not.
    let r = whatif(&rec, MapMode::Time, &short, cfg.clone())
        .await
        .unwrap();
    assert_eq!(kinds(&r.new), ["rate_limit", "rate_limit", "ok"]);
    assert_eq!(r.new.total_ms, 2450);
    assert_eq!(r.new.waits_ms, [1000, 1000]);

    // Time, waiting 3 s: past the window at once, 3100 → 3350.
    let long = policy_of(&with_retry(
        "[retry]\nstop = { after_attempt = 3 }\nwait = { fixed = 3 }\nhonor_retry_after = false",
    ));
    let r = whatif(&rec, MapMode::Time, &long, cfg.clone())
        .await
        .unwrap();
    assert_eq!(kinds(&r.new), ["rate_limit", "ok"]);
    assert_eq!((r.new.total_ms, r.new.wait_ms), (3350, 3000));

    // The fault script is a scenario `check` accepts, and it loads back the same.
    let text = r.scenario_toml;
    let again = retrylab::scenario::load::parse(&text, "script.toml").unwrap();
    assert!(!again.sim.outages.is_empty(), "{text}");
}

#[allow(clippy::unwrap_used)] // a test helper
async fn error_of(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.jsonl");
    std::fs::write(&p, text).unwrap();
    match read(&p) {
        Err(e @ WhatifError::At { .. }) => e.to_string(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_bad_trace_is_one_error_naming_its_line() {
    let (_, events) = run_sim(scenario(RECORDED)).await;
    let lines: Vec<String> = events.iter().map(TimedEvent::to_json_line).collect();
    let whole = |ls: &[String]| ls.iter().map(|l| format!("{l}\n")).collect::<String>();

    // Another version: an event this one does not know.
    let mut other = lines.clone();
    other.insert(
        2,
        // (`hedge_started` was the example until DESIGN §15 made it an event of this version.)
        r#"{"t_ms":0,"event":"from_a_later_version","hop":0,"attempt":1}"#.into(),
    );
    let e = error_of(&whole(&other)).await;
    assert!(
        e.contains("t.jsonl:3:") && e.contains("another version"),
        "{e}"
    );

    // Truncated: the last line cut short, or the file cut before run_finished.
    let mut text = whole(&lines);
    text.truncate(text.len() - 20);
    let e = error_of(&text).await;
    assert!(
        e.contains(&format!("t.jsonl:{}:", lines.len())) && e.contains("truncated"),
        "{e}"
    );
    let e = error_of(&whole(&lines[..lines.len() - 1])).await;
    assert!(e.contains(&format!("t.jsonl:{}:", lines.len() - 1)), "{e}");
    assert!(e.contains("without run_finished"), "{e}");

    // Edited: an attempt renumbered.
    let at = lines
        .iter()
        .rposition(|l| l.contains("\"attempt_started\""))
        .unwrap();
    let mut edited = lines.clone();
    edited[at] = edited[at].replace("\"attempt\":2", "\"attempt\":5");
    let e = error_of(&whole(&edited)).await;
    assert!(e.contains(&format!("t.jsonl:{}:", at + 1)), "{e}");
    assert!(e.contains("attempt 5 follows attempt 1"), "{e}");

    // Without attempts.
    let bare = [lines[0].clone(), lines[lines.len() - 1].clone()];
    let e = error_of(&whole(&bare)).await;
    assert!(
        e.contains("t.jsonl:2:") && e.contains("without attempts"),
        "{e}"
    );
}

#[tokio::test]
async fn a_trace_whose_texts_pass_64_mib_in_all_is_refused_naming_the_line() {
    // Each line is under the trace's own line bound; together they pass what-if's.
    let (_, mut events) = run_sim(scenario(RECORDED)).await;
    let big = "x".repeat(40 << 20);
    let mut at = 0;
    for (i, e) in events.iter_mut().enumerate() {
        match &mut e.event {
            retrylab::Event::AttemptFailed(f) => f.partial_output = big.clone(),
            retrylab::Event::AttemptSucceeded(s) => {
                s.content = big.clone();
                at = i + 1;
            }
            _ => {}
        }
    }
    let text: String = events.iter().map(|e| e.to_json_line() + "\n").collect();
    let e = error_of(&text).await;
    assert!(
        e.contains(&format!("t.jsonl:{at}:")) && e.contains("in all"),
        "{}",
        &e[..e.len().min(300)]
    );
}

/// A trace whose attempts the SDK retried inside (`sdk_retry` events) replays under its own
/// policy to the same attempts, waits, requests and outcome: each request the SDK retried is
/// a scripted request of its own.
#[tokio::test]
async fn a_run_the_sdk_retried_inside_replays_under_its_own_policy() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Arc::new(Config::isolated());
    // The built-in fails for good; this one's second attempt answers on its second request.
    let recovers = policy_of(
        "name = \"t\"\n[prompt]\ntemplate = \"Q\"\n[call]\nprovider = \"openai\"\n\
         model = \"gpt-4o-mini\"\nsdk_max_retries = 2\n[retry]\nstop = { after_attempt = 3 }\n\
         wait = { fixed = 1 }\n[sim]\nerror_ms = 150\nfaults = [{ fault = \"server_error\", times = 4 }]\n",
    );
    let cases = [
        ("sdk-amplification", builtin("sdk-amplification")),
        ("recovers", recovers),
    ];
    for (name, p) in cases {
        let (_, events) = run_sim(p.scenario.clone()).await;
        let sdk = events
            .iter()
            .filter(|e| matches!(e.event, retrylab::event::Event::SdkRetry(_)))
            .count();
        let rec = read(&write_trace(dir.path(), name, &events)).unwrap();
        // Every HTTP request is one recorded request: 9 for the built-in (3 x (1 + 2)), 5
        // here (3 in attempt 1, 2 in attempt 2).
        let want = if name == "recovers" { 5 } else { 9 };
        assert_eq!(rec.requests.len(), want, "{name}");
        assert_eq!(sdk, if name == "recovers" { 3 } else { 6 }, "{name}");
        for map in [MapMode::Index, MapMode::Time] {
            let r = whatif(&rec, map, &p, cfg.clone()).await.unwrap();
            let (a, b) = (&r.recorded, &r.new);
            let at = format!("{name} --map {}: {:?}", map.as_str(), r.notes);
            assert_eq!(a.attempt_list, b.attempt_list, "{at}");
            assert_eq!(a.waits_ms, b.waits_ms, "{at}");
            assert_eq!(a.outcome, b.outcome, "{at}");
            assert_eq!(a.requests, b.requests, "{at}");
            assert_eq!(a.requests as usize, want, "{at}");
            let drift = a.total_ms.abs_diff(b.total_ms);
            assert!(
                drift <= u64::from(a.attempts),
                "{at}: {} vs {}",
                a.total_ms,
                b.total_ms
            );
        }
    }
}
