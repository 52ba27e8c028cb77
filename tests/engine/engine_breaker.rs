//! `[breaker]` and `[budget]` in one run (DESIGN §15), end to end on the virtual clock: the
//! exact events of a breaker opening within one call's retries and the next attempt failing
//! fast to the fallback hop, of a half-open probe, and of a retry the budget denies.

use crate::support::run::{run_sim, scenario, transcript};
use retrylab::error::ErrorKind;
use retrylab::event::{Event, Outcome};

const HEAD: &str = r#"
name = "t"
[prompt]
template = "Q"
[call]
provider = "openai"
model = "gpt-4o-mini"
[retry]
stop = { after_attempt = 5 }
wait = { fixed = 1 }
"#;

const FALLBACK: &str = r#"
[fallback]
catch = ["retry_error"]
[[fallback.hops]]
provider = "anthropic"
model = "claude-3-5-haiku-latest"
catch = ["retry_error"]
"#;

fn src(rest: &str) -> String {
    format!("{HEAD}{rest}")
}

#[tokio::test]
async fn a_breaker_opens_within_one_calls_retries_and_the_next_attempt_skips_to_the_fallback() {
    let (summary, events) = run_sim(scenario(&src(&format!(
        r#"{FALLBACK}
[breaker]
failures = 3
cooldown = "10s"
[sim]
reply = "42."
faults = [{{ provider = "openai", fault = "server_error", times = 100 }}]
"#
    ))))
    .await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 shared_state [openai/gpt-4o-mini closed, anthropic/claude-3-5-haiku-latest closed]",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "0 attempt_failed 0/1 server_error(500) retry=true",
            "0 wait_started 0/1 1000ms backoff",
            "1000 wait_finished 0/1",
            "1000 attempt_started 0/2 openai/gpt-4o-mini",
            "1000 attempt_failed 0/2 server_error(500) retry=true",
            "1000 wait_started 0/2 1000ms backoff",
            "2000 wait_finished 0/2",
            "2000 attempt_started 0/3 openai/gpt-4o-mini",
            "2000 attempt_failed 0/3 server_error(500) retry=true",
            "2000 breaker_opened 0/3 openai/gpt-4o-mini: 3 consecutive failures",
            "2000 wait_started 0/3 1000ms backoff",
            "3000 wait_finished 0/3",
            // Not sent: no request, no time, no retry; on_open = "fallback" skips to hop 1
            // though hop 0's catch lists only retry_error.
            "3000 attempt_started 0/4 openai/gpt-4o-mini",
            "3000 attempt_failed 0/4 circuit_open retry=false",
            "3000 fallback_hop 1 openai/gpt-4o-mini -> anthropic/claude-3-5-haiku-latest caught circuit_open",
            "3000 attempt_started 1/1 anthropic/claude-3-5-haiku-latest",
            "3225 attempt_succeeded 1/1 \"42.\"",
            "3225 run_finished Ok caught=[circuit_open]",
        ]
    );
    assert_eq!(summary.outcome, Outcome::Ok);
    let refused = events
        .iter()
        .find_map(|e| match &e.event {
            Event::AttemptStarted(a) if a.attempt == 4 => Some(a),
            _ => None,
        })
        .unwrap();
    assert!(refused.request.is_null() && refused.url.is_empty());
    let failed = events
        .iter()
        .find_map(|e| match &e.event {
            Event::AttemptFailed(f) if f.error.kind == ErrorKind::CircuitOpen => Some(f),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        failed.error.message,
        "the circuit breaker of openai/gpt-4o-mini is open (3 consecutive failures): the request was not sent"
    );
    assert_eq!(
        failed.why,
        "the breaker of openai/gpt-4o-mini is open (3 consecutive failures, half-open in 9 s): not sent, and circuit_open is never retried in its hop"
    );
    assert_eq!(
        failed.fallback_why,
        "circuit_open, and [breaker].on_open = \"fallback\": skipping to hop 1"
    );
}

#[tokio::test]
async fn on_open_fail_lets_catch_decide_and_without_circuit_open_in_it_the_run_fails_fast() {
    let (summary, events) = run_sim(scenario(&src(&format!(
        r#"{FALLBACK}
[breaker]
failures = 1
on_open = "fail"
[sim]
faults = [{{ provider = "openai", fault = "server_error", times = 100 }}]
"#
    ))))
    .await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 shared_state [openai/gpt-4o-mini closed, anthropic/claude-3-5-haiku-latest closed]",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "0 attempt_failed 0/1 server_error(500) retry=true",
            "0 breaker_opened 0/1 openai/gpt-4o-mini: 1 consecutive failure",
            "0 wait_started 0/1 1000ms backoff",
            "1000 wait_finished 0/1",
            "1000 attempt_started 0/2 openai/gpt-4o-mini",
            "1000 attempt_failed 0/2 circuit_open retry=false",
            "1000 run_finished Error circuit_open caught=[]",
        ]
    );
    assert_eq!(summary.error.unwrap().kind, ErrorKind::CircuitOpen);
    // Named in catch, it falls back like any caught error.
    let catching = FALLBACK.replace(
        "catch = [\"retry_error\"]\n[[",
        "catch = [\"retry_error\", \"circuit_open\"]\n[[",
    );
    let (summary, events) = run_sim(scenario(&src(&(catching
        + r#"
[breaker]
failures = 1
on_open = "fail"
[sim]
faults = [{ provider = "openai", fault = "server_error", times = 100 }]
"#))))
    .await;
    assert_eq!(summary.outcome, Outcome::Ok);
    assert!(
        transcript(&events).contains(
            &"1000 fallback_hop 1 openai/gpt-4o-mini -> anthropic/claude-3-5-haiku-latest caught circuit_open"
                .to_string()
        )
    );
}

#[tokio::test]
async fn without_a_fallback_an_open_breaker_fails_the_run_fast() {
    let (summary, events) = run_sim(scenario(&src(r#"
[breaker]
failures = 2
[sim]
faults = [{ fault = "timeout", times = 100 }]
"#)))
    .await;
    let t = transcript(&events);
    assert!(
        t.last()
            .is_some_and(|l| l.ends_with(" run_finished Error circuit_open caught=[]")),
        "{t:#?}"
    );
    assert_eq!(summary.error.unwrap().kind, ErrorKind::CircuitOpen);
    assert_eq!(
        t.iter().filter(|l| l.contains("attempt_started")).count(),
        3,
        "two timeouts open it, the third attempt is refused: {t:#?}"
    );
}

#[tokio::test]
async fn a_half_open_probe_that_fails_reopens_and_the_next_one_closes_it() {
    let (summary, events) = run_sim(scenario(&src(r#"
[breaker]
failures = 2
cooldown = "1s"
[sim]
reply = "ok"
faults = [{ fault = "overloaded", times = 3 }]
"#)))
    .await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 shared_state [openai/gpt-4o-mini closed]",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "0 attempt_failed 0/1 overloaded(503) retry=true",
            "0 wait_started 0/1 1000ms backoff",
            "1000 wait_finished 0/1",
            "1000 attempt_started 0/2 openai/gpt-4o-mini",
            "1000 attempt_failed 0/2 overloaded(503) retry=true",
            "1000 breaker_opened 0/2 openai/gpt-4o-mini: 2 consecutive failures",
            "1000 wait_started 0/2 1000ms backoff",
            "2000 wait_finished 0/2",
            "2000 breaker_half_open 0/3 openai/gpt-4o-mini: cooldown 1 s passed since it opened (2 consecutive failures)",
            "2000 attempt_started 0/3 openai/gpt-4o-mini",
            "2000 attempt_failed 0/3 overloaded(503) retry=true",
            "2000 breaker_opened 0/3 openai/gpt-4o-mini: a half-open probe failed",
            "2000 wait_started 0/3 1000ms backoff",
            "3000 wait_finished 0/3",
            "3000 breaker_half_open 0/4 openai/gpt-4o-mini: cooldown 1 s passed since it opened (a half-open probe failed)",
            "3000 attempt_started 0/4 openai/gpt-4o-mini",
            "3225 attempt_succeeded 0/4 \"ok\"",
            "3225 breaker_closed 0/4 openai/gpt-4o-mini: 1 of 1 half-open probe succeeded",
            "3225 run_finished Ok caught=[]",
        ]
    );
    assert_eq!(summary.outcome, Outcome::Ok);
}

#[tokio::test]
async fn a_retry_the_budget_denies_ends_the_hop_with_budget_exhausted_and_catch_can_take_it() {
    let fallback = FALLBACK.replace(
        "catch = [\"retry_error\"]\n[[",
        "catch = [\"retry_error\", \"budget_exhausted\"]\n[[",
    );
    let (summary, events) = run_sim(scenario(&src(&format!(
        r#"{fallback}
[budget]
retry_ratio = 0.5
min_retries_per_sec = 0
[sim]
reply = "42."
faults = [{{ provider = "openai", fault = "server_error", times = 100 }}]
"#
    ))))
    .await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 shared_state [] budget=0.50",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "0 attempt_failed 0/1 server_error(500) retry=false",
            "0 budget_denied 0/1 tokens=0.50",
            "0 fallback_hop 1 openai/gpt-4o-mini -> anthropic/claude-3-5-haiku-latest caught budget_exhausted",
            "0 attempt_started 1/1 anthropic/claude-3-5-haiku-latest",
            "225 attempt_succeeded 1/1 \"42.\"",
            "225 run_finished Ok caught=[budget_exhausted]",
        ]
    );
    let caught = &summary.caught[0];
    assert_eq!(caught.kind, ErrorKind::BudgetExhausted);
    assert_eq!(
        caught.last_error.as_ref().unwrap().kind,
        ErrorKind::ServerError
    );
    assert!(
        caught
            .message
            .starts_with("retry budget exhausted after 1 attempt(s) (0.50 retries left, 1 needed); last error: server_error (500)"),
        "{}",
        caught.message
    );
}

#[tokio::test]
async fn the_floor_pays_for_retries_and_each_says_what_is_left() {
    let (summary, events) = run_sim(scenario(&src(r#"
[budget]
retry_ratio = 0.5
min_retries_per_sec = 1
[sim]
faults = [{ fault = "server_error", times = 100 }]
"#)))
    .await;
    let t = transcript(&events);
    let budget: Vec<&str> = t
        .iter()
        .filter(|l| l.contains("budget") || l.contains("shared"))
        .map(String::as_str)
        .collect();
    // 1 a second × 10 s in reserve + 0.5 deposited: 10.5, then one whole retry each.
    assert_eq!(
        budget,
        [
            "0 shared_state [] budget=10.50",
            "0 budget_withdrawn 0/1 tokens=9.50",
            "1000 budget_withdrawn 0/2 tokens=8.50",
            "2000 budget_withdrawn 0/3 tokens=7.50",
            "3000 budget_withdrawn 0/4 tokens=6.50",
        ]
    );
    assert_eq!(summary.error.unwrap().kind, ErrorKind::RetryError);
}

/// A retry a `[limits]` limit stops takes no token from the budget (found in review: it did,
/// which drains a budget the lab's calls share).
#[tokio::test]
async fn a_retry_a_limit_stops_takes_nothing_from_the_budget() {
    let (summary, events) = run_sim(scenario(&src(r#"
[budget]
retry_ratio = 0.5
min_retries_per_sec = 1
[limits]
max_requests = 2
[sim]
faults = [{ fault = "server_error", times = 100 }]
"#)))
    .await;
    let t = transcript(&events);
    let budget: Vec<&str> = t
        .iter()
        .filter(|l| l.contains("budget_") || l.contains("limit_reached"))
        .map(String::as_str)
        .collect();
    // Attempt 1's retry is paid; attempt 2's failure meets max_requests = 2: no withdrawal.
    assert_eq!(budget.len(), 2, "{t:#?}");
    assert_eq!(budget[0], "0 budget_withdrawn 0/1 tokens=9.50");
    assert!(budget[1].contains("limit_reached max_requests 2"), "{t:#?}");
    assert_eq!(summary.error.unwrap().kind, ErrorKind::LimitExceeded);
}

/// `stream_recovery = "surface"` does not hide a `[limits]` limit that cut the stream: the
/// call ends as `on_exhausted` says (found in review).
#[tokio::test]
async fn a_stream_a_limit_cut_is_not_surfaced() {
    let (summary, events) = run_sim(scenario(
        r#"
name = "t"
[prompt]
template = "Q"
[call]
provider = "openai"
model = "gpt-4o-mini"
stream = true
[retry]
stop = { after_attempt = 3 }
stream_recovery = "surface"
[limits]
max_tokens = 20
on_exhausted = "last_partial"
[sim]
reply = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty twenty-one twenty-two"
"#,
    ))
    .await;
    let t = transcript(&events);
    assert!(
        t.iter().any(|l| l.contains("limit_reached max_tokens 20")),
        "{t:#?}"
    );
    assert_eq!(summary.outcome, Outcome::Ok, "{t:#?}");
    assert!(summary.degraded, "{t:#?}");
}
