//! `[limits]` end to end, on the virtual clock, with every number computed by hand: each
//! limit (requests, tokens, cost, deadline) and each `on_exhausted`, the deadline's clip of
//! waits and timeouts, and `max_tokens` reached mid-stream keeping the partial output.

use crate::support::run::{scenario, transcript};
use retrylab::clock::Speed;
use retrylab::engine::run::{RunOptions, RunSummary, run};
use retrylab::error::ErrorKind;
use retrylab::event::{Event, Mode, Outcome, TimedEvent};
use retrylab::scenario::Scenario;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

const HEAD: &str = r#"
name = "t"
[prompt]
template = "Q"
[call]
provider = "openai"
model = "gpt-4o-mini"
"#;

/// Replies and errors come at once unless a test says otherwise.
const INSTANT: &str = "first_token_ms = 0\ntokens_per_second = 1e9\nerror_ms = 0\n";

fn src(rest: &str) -> String {
    format!("{HEAD}{rest}")
}

/// A sim run under the built-in prices only (no user config).
async fn run_isolated(s: Scenario) -> (RunSummary, Vec<TimedEvent>) {
    let (tx, mut rx) = retrylab::engine::run::event_channel();
    let opts = RunOptions {
        mode: Mode::Sim,
        speed: Speed::Max,
        config: Arc::new(retrylab::config::Config::isolated()),
    };
    let summary = run(Arc::new(s), opts, tx, CancellationToken::new()).await;
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    (summary, events)
}

fn requests(events: &[TimedEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e.event, Event::AttemptStarted(_)))
        .count()
}

#[tokio::test]
async fn the_deadline_clips_the_third_wait_and_ends_the_run_on_it() {
    // Waits 4, 4, 8 s against a 10 s deadline: attempts at 0, 4 and 8 s; the third wait is
    // cut to the 2 s left and the run ends at exactly 10 s. Each attempt's 60 s timeout is
    // cut to the time left too (10, 6, 2 s).
    let (summary, events) = run_isolated(scenario(&src(&format!(
        r#"
[retry]
stop = {{ after_attempt = 10 }}
wait = {{ chain = [{{ fixed = 4 }}, {{ fixed = 4 }}, {{ fixed = 8 }}] }}
[limits]
deadline = "10s"
[sim]
{INSTANT}faults = [{{ fault = "server_error", times = 100 }}]
"#
    ))))
    .await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini timeout 60000->10000ms",
            "0 attempt_failed 0/1 server_error(500) retry=true",
            "0 wait_started 0/1 4000ms backoff",
            "4000 wait_finished 0/1",
            "4000 attempt_started 0/2 openai/gpt-4o-mini timeout 60000->6000ms",
            "4000 attempt_failed 0/2 server_error(500) retry=true",
            "4000 wait_started 0/2 4000ms backoff",
            "8000 wait_finished 0/2",
            "8000 attempt_started 0/3 openai/gpt-4o-mini timeout 60000->2000ms",
            "8000 attempt_failed 0/3 server_error(500) retry=true",
            "8000 wait_started 0/3 2000ms backoff clipped from 8000ms",
            "10000 wait_finished 0/3",
            "10000 limit_reached deadline 10000 spent 10000 after 0/3 raise",
            "10000 run_finished Error limit_exceeded caught=[]",
        ]
    );
    let e = summary.error.expect("an error");
    assert_eq!(e.kind, ErrorKind::LimitExceeded);
    assert!(
        e.message
            .starts_with("LimitExceeded: deadline = 10 s reached: 10 s since the run started; last error: server_error (500)"),
        "{}",
        e.message
    );
    assert_eq!(
        e.last_error.expect("the last error").kind,
        ErrorKind::ServerError
    );
    assert!(!summary.degraded);
}

#[tokio::test]
async fn a_timeout_the_deadline_clipped_is_the_limit_even_when_timeouts_are_not_retried() {
    // The server never answers: the attempt's 60 s timeout is cut to the 3 s deadline, fires
    // at 3 s, and the run ends with the limit, not with a timeout retry_on leaves out.
    let (summary, events) = run_isolated(scenario(&src(&format!(
        r#"
[retry]
stop = {{ after_attempt = 3 }}
retry_on = ["rate_limit"]
[limits]
deadline = "3s"
[sim]
{INSTANT}faults = [{{ fault = "timeout" }}]
"#
    ))))
    .await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini timeout 60000->3000ms",
            "3000 attempt_failed 0/1 timeout retry=false",
            "3000 limit_reached deadline 3000 spent 3000 after 0/1 raise",
            "3000 run_finished Error limit_exceeded caught=[]",
        ]
    );
    let e = summary.error.expect("an error");
    assert_eq!(
        e.last_error.expect("the last error").kind,
        ErrorKind::Timeout
    );
}

#[tokio::test]
async fn max_requests_stops_before_the_wait_and_answers_the_message() {
    // Two requests allowed: the second failure would be retried, but no third request may be
    // sent, so there is no wait; the run answers with the message, degraded.
    let (summary, events) = run_isolated(scenario(&src(&format!(
        r#"
[retry]
stop = {{ after_attempt = 5 }}
wait = {{ fixed = 1 }}
[limits]
max_requests = 2
on_exhausted = "message"
message = "Busy, try later."
[sim]
{INSTANT}faults = [{{ fault = "server_error", times = 100 }}]
"#
    ))))
    .await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "0 attempt_failed 0/1 server_error(500) retry=true",
            "0 wait_started 0/1 1000ms backoff",
            "1000 wait_finished 0/1",
            "1000 attempt_started 0/2 openai/gpt-4o-mini",
            "1000 attempt_failed 0/2 server_error(500) retry=false",
            "1000 limit_reached max_requests 2 spent 2 after 0/2 message",
            "1000 run_finished Ok caught=[] degraded",
        ]
    );
    assert_eq!(summary.outcome, Outcome::Ok);
    assert_eq!(summary.content.as_deref(), Some("Busy, try later."));
    assert!(summary.degraded);
    let why = events.iter().find_map(|e| match &e.event {
        Event::AttemptFailed(f) if f.attempt == 2 => Some(f.why.clone()),
        _ => None,
    });
    assert_eq!(
        why.as_deref(),
        Some("max_requests = 2 reached: 2 request(s) sent: nothing more is sent")
    );
}

#[tokio::test]
async fn max_requests_counts_across_hops_and_last_partial_answers_with_the_last_rejected_reply() {
    // The primary's two attempts fail validation ("first", "second"), its retry_error falls
    // back to hop 1 (2 < 3 requests), whose first answer fails too: 3 requests, the limit.
    // last_partial answers with hop 1's rejected reply.
    let (summary, events) = run_isolated(scenario(&src(&format!(
        r#"
[retry]
stop = {{ after_attempt = 2 }}
[fallback]
catch = ["retry_error"]
hops = [{{ provider = "anthropic", model = "claude-3-5-haiku-latest", catch = ["retry_error"] }}]
[response]
validators = [{{ uppercase = true }}]
[limits]
max_requests = 3
on_exhausted = "last_partial"
[sim]
{INSTANT}replies = ["first", "second", "third"]
"#
    ))))
    .await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "0 attempt_failed 0/1 validation retry=true partial=\"first\"",
            "0 wait_started 0/1 0ms backoff",
            "0 wait_finished 0/1",
            "0 attempt_started 0/2 openai/gpt-4o-mini",
            "0 attempt_failed 0/2 validation retry=false partial=\"second\"",
            "0 retry_exhausted 0 after 2 validation",
            "0 fallback_hop 1 openai/gpt-4o-mini -> anthropic/claude-3-5-haiku-latest caught retry_error",
            "0 attempt_started 1/1 anthropic/claude-3-5-haiku-latest",
            "0 attempt_failed 1/1 validation retry=false partial=\"first\"",
            "0 limit_reached max_requests 3 spent 3 after 1/1 last_partial",
            "0 run_finished Ok caught=[retry_error] degraded",
        ]
    );
    assert_eq!(summary.content.as_deref(), Some("first"));
    assert_eq!(requests(&events), 3);
}

#[tokio::test]
async fn last_partial_without_any_partial_answer_raises() {
    // A 429 carries no text; the simulator's Retry-After (1 s) sets the wait.
    let (summary, events) = run_isolated(scenario(&src(&format!(
        r#"
[retry]
stop = {{ after_attempt = 5 }}
[limits]
max_requests = 2
on_exhausted = "last_partial"
[sim]
{INSTANT}faults = [{{ fault = "rate_limit", times = 100 }}]
"#
    ))))
    .await;
    let t = transcript(&events);
    assert_eq!(
        t[t.len() - 2..],
        [
            "1000 limit_reached max_requests 2 spent 2 after 0/2 last_partial",
            "1000 run_finished Error limit_exceeded caught=[]",
        ]
    );
    let why = events.iter().find_map(|e| match &e.event {
        Event::LimitReached(l) => Some(l.why.clone()),
        _ => None,
    });
    assert_eq!(
        why.as_deref(),
        Some(
            "max_requests = 2 reached: 2 request(s) sent; on_exhausted = last_partial, but no attempt left a partial answer: the run ends with limit_exceeded"
        )
    );
    assert_eq!(
        summary.error.expect("an error").kind,
        ErrorKind::LimitExceeded
    );
}

#[tokio::test]
async fn max_tokens_sums_each_replys_usage() {
    // The simulator counts words: 2 in (the message's role "user" and "Q") + 1 out = 3
    // tokens a reply; 3, then 6 >= 5 after the second attempt.
    let (summary, events) = run_isolated(scenario(&src(&format!(
        r#"
[retry]
stop = {{ after_attempt = 10 }}
[response]
validators = [{{ uppercase = true }}]
[limits]
max_tokens = 5
[sim]
{INSTANT}reply = "lower"
"#
    ))))
    .await;
    let t = transcript(&events);
    assert_eq!(requests(&events), 2);
    assert_eq!(
        t[t.len() - 3..],
        [
            "0 attempt_failed 0/2 validation retry=false partial=\"lower\"",
            "0 limit_reached max_tokens 5 spent 6 after 0/2 raise",
            "0 run_finished Error limit_exceeded caught=[]",
        ]
    );
    let e = summary.error.expect("an error");
    assert!(
        e.message.starts_with(
            "LimitExceeded: max_tokens = 5 reached: 6 token(s) used; last error: validation"
        ),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn max_cost_usd_prices_sim_replies_as_if_live() {
    // gpt-4o-mini: $0.15 per million input tokens, $0.60 per million output. Two words in
    // (the role "user" and "Q"), one out: $0.0000009 an attempt; $0.0000018 after two,
    // $0.0000027 >= $0.000002 after three.
    let (_, events) = run_isolated(scenario(&src(&format!(
        r#"
[retry]
stop = {{ after_attempt = 10 }}
[response]
validators = [{{ uppercase = true }}]
[limits]
max_cost_usd = 0.000002
[sim]
{INSTANT}reply = "lower"
"#
    ))))
    .await;
    assert_eq!(requests(&events), 3);
    let reached = events.iter().find_map(|e| match &e.event {
        Event::LimitReached(l) => Some(l.clone()),
        _ => None,
    });
    let l = reached.expect("limit_reached");
    assert_eq!(l.limit, "max_cost_usd");
    assert_eq!(l.value, serde_json::json!(0.000002));
    assert_eq!(l.spent, serde_json::json!(0.0000027));
    assert_eq!(
        l.why,
        "max_cost_usd = $0.000002 reached: $0.0000027 spent; on_exhausted = raise: the run ends with limit_exceeded"
    );
}

#[tokio::test]
async fn max_tokens_reached_mid_stream_ends_the_attempt_and_keeps_the_partial() {
    // The request is "Q": 1 token in (≈ 4 characters a token). max_tokens = 6 leaves 5 out:
    // "one two three four" is 18 characters, 5 tokens, reached with the 4th delta at 300 ms
    // (10 tokens a second); the stream is ended there and the rest never arrives.
    let (summary, events) = run_isolated(scenario(
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
[limits]
max_tokens = 6
on_exhausted = "last_partial"
[sim]
first_token_ms = 0
tokens_per_second = 10
reply = "one two three four five six seven eight"
"#,
    ))
    .await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "0..300 delta 0/1 x4 \"one two three four\"",
            "300 attempt_failed 0/1 limit_exceeded(200) retry=false partial=\"one two three four\"",
            "300 limit_reached max_tokens 6 spent 6 after 0/1 last_partial",
            "300 run_finished Ok caught=[] degraded",
        ]
    );
    assert_eq!(summary.content.as_deref(), Some("one two three four"));
}

#[tokio::test]
async fn max_tokens_mid_stream_on_anthropic_too_and_raise_wraps_the_cut() {
    let (summary, events) = run_isolated(scenario(
        r#"
name = "t"
[prompt]
template = "Q"
[call]
provider = "anthropic"
model = "claude-3-5-haiku-latest"
stream = true
[limits]
max_tokens = 3
[sim]
first_token_ms = 0
tokens_per_second = 10
reply = "alpha beta gamma"
"#,
    ))
    .await;
    // 1 in leaves 2 out: "alpha" (5 characters) is 2 tokens already.
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 anthropic/claude-3-5-haiku-latest",
            "0..0 delta 0/1 x1 \"alpha\"",
            "0 attempt_failed 0/1 limit_exceeded(200) retry=false partial=\"alpha\"",
            "0 limit_reached max_tokens 3 spent 3 after 0/1 raise",
            "0 run_finished Error limit_exceeded caught=[]",
        ]
    );
    let e = summary.error.expect("an error");
    assert_eq!(
        e.last_error.expect("the cut").kind,
        ErrorKind::LimitExceeded
    );
}

#[tokio::test]
async fn without_limits_nothing_changes() {
    let (summary, events) = run_isolated(scenario(&src(&format!(
        r#"
[retry]
stop = {{ after_attempt = 3 }}
[sim]
{INSTANT}faults = [{{ fault = "server_error", times = 100 }}]
"#
    ))))
    .await;
    assert_eq!(requests(&events), 3);
    assert_eq!(summary.error.expect("an error").kind, ErrorKind::RetryError);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.event, Event::LimitReached(_)))
    );
}
