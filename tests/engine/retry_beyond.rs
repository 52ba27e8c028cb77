//! The `[retry]` keys beyond Tenacity end to end on the virtual clock: Retry-After jitter,
//! `retry_after_over_max`, decorrelated jitter's waits, and `reinsert_keep`.

use crate::support::run::{run_sim, scenario, transcript};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retrylab::error::ErrorKind;
use retrylab::event::{AttemptStarted, Event, Outcome, TimedEvent, WaitStarted};
use serde_json::json;

const HEAD: &str = r#"
name = "t"
[prompt]
template = "Q{% for e in errors %} [{{ e }}]{% endfor %}"
[call]
provider = "openai"
model = "gpt-4o-mini"
"#;

fn src(rest: &str) -> String {
    format!("{HEAD}{rest}")
}

fn waits(events: &[TimedEvent]) -> Vec<WaitStarted> {
    events
        .iter()
        .filter_map(|e| match &e.event {
            Event::WaitStarted(w) => Some(w.clone()),
            _ => None,
        })
        .collect()
}

fn requests(events: &[TimedEvent]) -> Vec<serde_json::Value> {
    events
        .iter()
        .filter_map(|e| match &e.event {
            Event::AttemptStarted(AttemptStarted { request, .. }) => Some(request.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn retry_after_jitter_lands_on_top_of_the_servers_wait() {
    let (summary, events) = run_sim(scenario(&src(r#"
[retry]
stop = { after_attempt = 3 }
wait = { fixed = 1 }
retry_after_jitter = "500ms"
seed = 11
[sim]
faults = [{ fault = "rate_limit", retry_after = "2s", times = 1 }]
"#)))
    .await;
    // A fixed wait draws nothing: the jitter is the hop's first draw, rounded to the ms.
    let u: f64 = ChaCha8Rng::seed_from_u64(11).random();
    let jitter = (0.5 * u * 1000.0).round() as u64;
    assert!(jitter <= 500);
    let t = transcript(&events);
    assert_eq!(
        t[..5],
        [
            "0 run_started Sim".to_string(),
            "0 attempt_started 0/1 openai/gpt-4o-mini".into(),
            "0 attempt_failed 0/1 rate_limit(429) retry=true".into(),
            format!(
                "0 wait_started 0/1 {}ms retry_after jitter={jitter}ms",
                2000 + jitter
            ),
            format!("{} wait_finished 0/1", 2000 + jitter),
        ]
    );
    let w = &waits(&events)[0];
    assert_eq!(w.retry_after_ms, Some(2000));
    assert_eq!(w.computed_ms, 1000);
    assert_eq!(summary.outcome, Outcome::Ok);
}

#[tokio::test]
async fn over_max_fail_ends_the_hop_with_the_rate_limit_itself() {
    let (summary, events) = run_sim(scenario(&src(r#"
[retry]
stop = { after_attempt = 3 }
retry_after_max = "30s"
retry_after_over_max = "fail"
[sim]
faults = [{ fault = "rate_limit", retry_after = "120s", times = 1 }]
"#)))
    .await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "0 attempt_failed 0/1 rate_limit(429) retry=false",
            "0 run_finished Error rate_limit caught=[]",
        ]
    );
    let e = summary.error.unwrap();
    assert_eq!(
        e.kind,
        ErrorKind::RateLimit,
        "no retry_error: retries did not run out"
    );
    assert_eq!(e.retry_after_ms, Some(120_000));
}

#[tokio::test]
async fn over_max_cap_waits_the_cap_as_before() {
    let (_, events) = run_sim(scenario(&src(r#"
[retry]
stop = { after_attempt = 3 }
retry_after_max = "30s"
[sim]
faults = [{ fault = "rate_limit", retry_after = "120s", times = 1 }]
"#)))
    .await;
    assert_eq!(waits(&events)[0].delay_ms, 30_000);
}

#[tokio::test]
async fn over_max_fallback_moves_on_although_catch_lists_only_retry_error() {
    let (summary, events) = run_sim(scenario(&src(r#"
[retry]
stop = { after_attempt = 3 }
retry_after_max = "30s"
retry_after_over_max = "fallback"
[fallback]
catch = ["retry_error"]
[[fallback.hops]]
provider = "anthropic"
model = "claude-3-5-haiku-latest"
catch = ["retry_error"]
[sim]
faults = [{ provider = "openai", fault = "rate_limit", retry_after = "120s", times = 1 }]
"#)))
    .await;
    assert_eq!(
        transcript(&events)[..5],
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "0 attempt_failed 0/1 rate_limit(429) retry=false",
            "0 fallback_hop 1 openai/gpt-4o-mini -> anthropic/claude-3-5-haiku-latest caught rate_limit",
            "0 attempt_started 1/1 anthropic/claude-3-5-haiku-latest",
        ]
    );
    assert_eq!(summary.outcome, Outcome::Ok);
    assert_eq!(summary.caught.len(), 1);
    assert_eq!(summary.caught[0].kind, ErrorKind::RateLimit);
    let why = events.iter().find_map(|e| match &e.event {
        Event::FallbackHop(f) => Some(f.why.clone()),
        _ => None,
    });
    assert_eq!(
        why.as_deref(),
        Some("retry_after_over_max = \"fallback\": rate_limit caught, falling back to hop 1")
    );
}

#[tokio::test]
async fn decorrelated_jitter_waits_grow_from_the_last_and_stay_in_bounds() {
    let (summary, events) = run_sim(scenario(&src(r#"
[retry]
stop = { after_attempt = 6 }
wait = { decorrelated_jitter = { base = 1, max = 20 } }
seed = 5
[sim]
faults = [{ fault = "server_error", times = 5 }]
"#)))
    .await;
    assert_eq!(summary.outcome, Outcome::Ok);
    // By hand: min(20, uniform(1, 3 * previous)), previous = 1 s before the first.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut previous = 1.0f64;
    let expected: Vec<u64> = (0..5)
        .map(|_| {
            let u: f64 = rng.random();
            previous = f64::min(20.0, 1.0 + (3.0 * previous - 1.0) * u);
            (previous * 1000.0).round() as u64
        })
        .collect();
    let got: Vec<u64> = waits(&events).iter().map(|w| w.delay_ms).collect();
    assert_eq!(got, expected);
    for (i, d) in got.iter().enumerate() {
        assert!((1000..=20_000).contains(d), "wait {i}: {d}");
    }
    assert!(waits(&events)[0].strategy.contains("decorrelated_jitter"));
}

const KEEP: &str = r#"
[retry]
stop = { after_attempt = 3 }
reinsert = ["validation"]
reinsert_keep = "last"
[response]
validators = [{ uppercase = true }]
[sim]
replies = ["first", "second", "THIRD"]
"#;

#[tokio::test]
async fn reinsert_keep_last_carries_only_the_latest_error_text() {
    let (summary, events) = run_sim(scenario(&src(KEEP))).await;
    assert_eq!(summary.content.as_deref(), Some("THIRD"));
    let third = &requests(&events)[2];
    assert_eq!(
        third["messages"],
        json!([{"role": "user", "content": "Q [expected uppercase, got 'second']"}])
    );
    // Every error_reinserted says what the next call carries: one text each time.
    let carried: Vec<Vec<String>> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::ErrorReinserted(r) => Some(r.errors.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        carried,
        [
            vec!["expected uppercase, got 'first'".to_string()],
            vec!["expected uppercase, got 'second'".to_string()],
        ]
    );
}

#[tokio::test]
async fn reinsert_keep_last_in_reask_keeps_one_failed_answer_and_correction() {
    let source = src(&KEEP.replace("reinsert_keep", "reinsert_mode = \"reask\"\nreinsert_keep"));
    let (summary, events) = run_sim(scenario(&source)).await;
    assert_eq!(summary.content.as_deref(), Some("THIRD"));
    let third = &requests(&events)[2];
    let messages = third["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "{third}");
    assert_eq!(messages[0], json!({"role": "user", "content": "Q"}));
    assert_eq!(
        messages[1],
        json!({"role": "assistant", "content": "second"})
    );
    assert_eq!(messages[2]["role"], "user");
    assert!(
        messages[2]["content"]
            .as_str()
            .unwrap()
            .contains("got 'second'"),
        "{third}"
    );
}
