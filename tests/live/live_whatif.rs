//! What-if on a live trace (DESIGN §13): a run recorded against a real-wire server (the
//! recorded OpenAI traffic: a 429 whose `retry-after-ms` says 1.5 s, then a stream) replays
//! under another policy, and neither the trace nor the fault script holds the key.

use crate::support::live::{KEY, config, run_live};
use crate::support::live_server::{play, serve};
use retrylab::event::Mode;
use retrylab::whatif::{MapMode, Policy, read, whatif};
use std::sync::Arc;

const RECORDED: &str = r#"
name = "live openai"
[prompt]
template = "Who wrote it?"
[call]
provider = "openai"
model = "gpt-4o-mini"
base_url = "{base}/v1"
stream = true
[retry]
stop = { after_attempt = 3 }
wait = { fixed = "10ms" }
retry_on = ["rate_limit"]
"#;

fn policy(retry: &str) -> Policy {
    let source = format!(
        "name = \"other\"\n[prompt]\ntemplate = \"Who wrote it?\"\n[call]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nstream = true\n{retry}\n"
    );
    Policy {
        label: "other.toml".into(),
        scenario: retrylab::scenario::load::parse(&source, "other.toml").expect("a scenario"),
        source,
    }
}

#[tokio::test]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
async fn a_live_trace_replays_its_429_and_answer_under_another_policy() {
    let server = serve(vec![
        play("openai_429_retry_after_ms"),
        play("openai_stream"),
    ])
    .await;
    let live = run_live(RECORDED, &server, config()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.jsonl");
    let text: String = live
        .events
        .iter()
        .map(|e| e.to_json_line() + "\n")
        .collect();
    assert!(!text.contains(KEY), "the trace holds no key");
    std::fs::write(&path, text).unwrap();

    let rec = read(&path).unwrap();
    assert_eq!(rec.mode, Mode::Live);
    assert_eq!(rec.side.attempts, 2);
    assert_eq!(rec.side.outcome, "ok");
    let cfg = Arc::new(retrylab::config::Config::isolated());

    // One attempt: the recorded 429 ends it.
    let r = whatif(&rec, MapMode::Index, &policy(""), cfg.clone())
        .await
        .unwrap();
    assert_eq!((r.new.attempts, r.new.outcome.as_str()), (1, "rate_limit"));
    assert!(!r.scenario_toml.contains(KEY), "{}", r.scenario_toml);

    // Retrying and honouring Retry-After: the recorded 1.5 s (retry-after-ms) is waited,
    // then the recorded answer comes.
    let r = whatif(
        &rec,
        MapMode::Index,
        &policy("[retry]\nstop = { after_attempt = 2 }\nretry_on = [\"rate_limit\"]"),
        cfg,
    )
    .await
    .unwrap();
    assert_eq!(r.new.outcome, "ok", "{:?}", r.notes);
    assert_eq!(r.new.waits_ms, [1500]);
    assert_eq!(r.new.attempts, 2);
}
