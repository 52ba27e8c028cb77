//! `[fallback].on_result` end to end: each predicate (content_filter, length, empty,
//! validation) moves a 200 reply to the next hop at once, with no retry of the same model
//! (request counts asserted per model), whatever the catch lists say; on the last hop the
//! run ends with fallback_error; without on_result nothing changes.

use crate::support::run::{run_sim, scenario, transcript};
use retrylab::error::ErrorKind;
use retrylab::event::{Event, Outcome, TimedEvent};

/// The primary retries anything 3 times and catches only retry_error: a rejection must
/// bypass both.
fn src(primary: &str, stream: bool, on_result: &str, sim: &str, extra: &str) -> String {
    format!(
        r#"
name = "t"
[prompt]
template = "Q"
[call]
{primary}
stream = {stream}
[retry]
stop = {{ after_attempt = 3 }}
[fallback]
catch = ["retry_error"]
{on_result}
[[fallback.hops]]
provider = "anthropic"
model = "claude-3-5-haiku-latest"
catch = ["retry_error"]
{extra}
[sim]
first_token_ms = 0
tokens_per_second = 1e9
reply = "FORTY TWO."
{sim}
"#
    )
}

const OPENAI: &str = "provider = \"openai\"\nmodel = \"gpt-4o-mini\"";

fn requests_to(events: &[TimedEvent], model: &str) -> usize {
    events
        .iter()
        .filter(|e| matches!(&e.event, Event::AttemptStarted(a) if a.model == model))
        .count()
}

fn fault(kind: &str) -> String {
    format!("faults = [{{ provider = \"openai\", fault = \"{kind}\", times = 10 }}]")
}

#[tokio::test]
async fn a_length_cut_reply_moves_to_the_next_hop_without_a_retry() {
    let on = "on_result = [\"content_filter\", \"length\", \"empty\", \"validation\"]";
    let (summary, events) = run_sim(scenario(&src(OPENAI, false, on, &fault("length"), ""))).await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "0 attempt_failed 0/1 length(200) retry=false partial=\"FORTY\"",
            "0 result_rejected 0/1 length",
            "0 fallback_hop 1 openai/gpt-4o-mini -> anthropic/claude-3-5-haiku-latest caught length",
            "0 attempt_started 1/1 anthropic/claude-3-5-haiku-latest",
            "0 attempt_succeeded 1/1 \"FORTY TWO.\"",
            "0 run_finished Ok caught=[length]",
        ]
    );
    assert_eq!(requests_to(&events, "gpt-4o-mini"), 1);
    assert_eq!(summary.content.as_deref(), Some("FORTY TWO."));
    let (why, fallback_why) = events
        .iter()
        .find_map(|e| match &e.event {
            Event::AttemptFailed(f) => Some((f.why.clone(), f.fallback_why.clone())),
            _ => None,
        })
        .expect("attempt_failed");
    assert_eq!(
        why,
        "length is in [fallback].on_result [content_filter, length, empty, validation]: a rejected reply is not retried on the same model"
    );
    assert_eq!(
        fallback_why,
        "length is in [fallback].on_result [content_filter, length, empty, validation]: the reply is rejected, falling back to hop 1 at once"
    );
    let hop_why = events.iter().find_map(|e| match &e.event {
        Event::FallbackHop(h) => Some(h.why.clone()),
        _ => None,
    });
    assert_eq!(hop_why, Some(fallback_why));
    let e = &summary.caught[0];
    assert_eq!(e.kind, ErrorKind::Length);
    assert_eq!(e.provider_type.as_deref(), Some("length"));
}

#[tokio::test]
async fn an_anthropic_max_tokens_stop_is_a_length_cut_too() {
    let primary = "provider = \"anthropic\"\nmodel = \"claude-3-5-sonnet-latest\"";
    let sim = "faults = [{ model = \"claude-3-5-sonnet-latest\", fault = \"length\", times = 10 }]";
    let (summary, events) = run_sim(scenario(&src(
        primary,
        true,
        "on_result = [\"length\"]",
        sim,
        "",
    )))
    .await;
    assert_eq!(requests_to(&events, "claude-3-5-sonnet-latest"), 1);
    assert_eq!(requests_to(&events, "claude-3-5-haiku-latest"), 1);
    assert_eq!(summary.outcome, Outcome::Ok);
    assert_eq!(
        summary.caught[0].provider_type.as_deref(),
        Some("max_tokens")
    );
}

#[tokio::test]
async fn a_content_filter_stop_moves_on_in_a_stream() {
    let (summary, events) = run_sim(scenario(&src(
        OPENAI,
        true,
        "on_result = [\"content_filter\"]",
        &fault("content_filter"),
        "",
    )))
    .await;
    let t = transcript(&events);
    assert!(
        t.contains(&"0 result_rejected 0/1 content_filter".to_string()),
        "{t:#?}"
    );
    assert_eq!(requests_to(&events, "gpt-4o-mini"), 1);
    assert_eq!(requests_to(&events, "claude-3-5-haiku-latest"), 1);
    assert_eq!(summary.caught[0].kind, ErrorKind::ContentFilter);
    assert_eq!(summary.outcome, Outcome::Ok);
}

#[tokio::test]
async fn an_empty_reply_moves_on() {
    let (summary, events) = run_sim(scenario(&src(
        OPENAI,
        false,
        "on_result = [\"empty\"]",
        &fault("empty"),
        "",
    )))
    .await;
    assert_eq!(requests_to(&events, "gpt-4o-mini"), 1);
    assert_eq!(requests_to(&events, "claude-3-5-haiku-latest"), 1);
    assert_eq!(summary.caught[0].kind, ErrorKind::Empty);
    assert_eq!(
        summary.caught[0].message,
        "the reply has no text and no tool call"
    );
}

#[tokio::test]
async fn a_validation_failure_moves_on_instead_of_being_retried() {
    // The first answer to each model is lowercase: without on_result the primary would
    // retry it (the second answer passes); with it, hop 1 runs at once and its own first
    // answer is rejected too: the last hop, so fallback_error.
    let validators = "[response]\nvalidators = [{ uppercase = true }]";
    let sim = "replies = [\"lower\", \"UPPER\"]";
    let (summary, events) = run_sim(scenario(&src(
        OPENAI,
        false,
        "on_result = [\"validation\"]",
        sim,
        validators,
    )))
    .await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "0 attempt_failed 0/1 validation retry=false partial=\"lower\"",
            "0 result_rejected 0/1 validation",
            "0 fallback_hop 1 openai/gpt-4o-mini -> anthropic/claude-3-5-haiku-latest caught validation",
            "0 attempt_started 1/1 anthropic/claude-3-5-haiku-latest",
            "0 attempt_failed 1/1 validation retry=false partial=\"lower\"",
            "0 result_rejected 1/1 validation",
            "0 run_finished Error fallback_error caught=[validation,validation]",
        ]
    );
    let e = summary.error.expect("an error");
    assert_eq!(e.kind, ErrorKind::FallbackError);
    let last_why = events.iter().rev().find_map(|e| match &e.event {
        Event::ResultRejected(r) => Some(r.why.clone()),
        _ => None,
    });
    assert_eq!(
        last_why.as_deref(),
        Some(
            "validation is in [fallback].on_result [validation]: rejected on the last hop: fallback_error"
        )
    );
}

#[tokio::test]
async fn without_on_result_a_length_cut_succeeds_and_validation_is_retried() {
    let (summary, events) = run_sim(scenario(&src(OPENAI, false, "", &fault("length"), ""))).await;
    assert_eq!(summary.outcome, Outcome::Ok);
    assert_eq!(summary.content.as_deref(), Some("FORTY"));
    assert_eq!(requests_to(&events, "claude-3-5-haiku-latest"), 0);
    let validators = "[response]\nvalidators = [{ uppercase = true }]";
    let (summary, events) = run_sim(scenario(&src(
        OPENAI,
        false,
        "",
        "replies = [\"lower\", \"UPPER\"]",
        validators,
    )))
    .await;
    assert_eq!(summary.content.as_deref(), Some("UPPER"));
    assert_eq!(requests_to(&events, "gpt-4o-mini"), 2);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.event, Event::ResultRejected(_)))
    );
}

#[tokio::test]
async fn a_predicate_not_listed_leaves_the_reply_alone() {
    // Only `empty` is listed: a length cut is still a success.
    let (summary, events) = run_sim(scenario(&src(
        OPENAI,
        false,
        "on_result = [\"empty\"]",
        &fault("length"),
        "",
    )))
    .await;
    assert_eq!(summary.content.as_deref(), Some("FORTY"));
    assert_eq!(requests_to(&events, "claude-3-5-haiku-latest"), 0);
}
