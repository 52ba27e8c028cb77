//! `stream_recovery` end to end on the virtual clock: a stream cut after two tokens, then
//! restarted, continued (the partial answer sent back, only the rest streamed) or surfaced.

use crate::support::run::{run_sim, scenario, transcript};
use retrylab::error::ErrorKind;
use retrylab::event::{AttemptStarted, AttemptSucceeded, Event, Outcome, TimedEvent};
use retrylab::provider::resume::CONTINUE_PROMPT;
use serde_json::json;

const REPLY: &str = "Patrick Rothfuss wrote The Name of the Wind.";

fn src(provider: &str, recovery: &str) -> String {
    format!(
        r#"
name = "t"
[prompt]
template = "Who wrote it?"
[call]
provider = "{provider}"
model = "m"
stream = true
[retry]
stop = {{ after_attempt = 3 }}
wait = {{ fixed = 1 }}
stream_recovery = "{recovery}"
[sim]
reply = "{REPLY}"
tokens_per_second = 10
first_token_ms = 100
faults = [{{ fault = "cut_stream", after_tokens = 2, times = 1 }}]
"#
    )
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

fn succeeded(events: &[TimedEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.event {
            Event::AttemptSucceeded(AttemptSucceeded { content, .. }) => Some(content.clone()),
            _ => None,
        })
        .collect()
}

fn whys(events: &[TimedEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.event {
            Event::AttemptFailed(f) => Some(f.why.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn restart_streams_the_whole_reply_again() {
    let (summary, events) = run_sim(scenario(&src("openai", "restart"))).await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/m",
            "100..200 delta 0/1 x2 \"Patrick Rothfuss\"",
            "300 attempt_failed 0/1 stream_interrupted(200) retry=true partial=\"Patrick Rothfuss\"",
            "300 wait_started 0/1 1000ms backoff",
            "1300 wait_finished 0/1",
            "1300 attempt_started 0/2 openai/m",
            // 8 tokens at 10/s from 100 ms after the start.
            "1400..2100 delta 0/2 x8 \"Patrick Rothfuss wrote The Name of the Wind.\"",
            "2200 attempt_succeeded 0/2 \"Patrick Rothfuss wrote The Name of the Wind.\"",
            "2200 run_finished Ok caught=[]",
        ]
    );
    assert_eq!(summary.content.as_deref(), Some(REPLY));
    // The second request is the first one again.
    let r = requests(&events);
    assert_eq!(r[0], r[1]);
}

#[tokio::test]
async fn continue_on_openai_sends_the_partial_and_a_request_to_go_on() {
    let (summary, events) = run_sim(scenario(&src("openai", "continue"))).await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/m",
            "100..200 delta 0/1 x2 \"Patrick Rothfuss\"",
            "300 attempt_failed 0/1 stream_interrupted(200) retry=true partial=\"Patrick Rothfuss\"",
            "300 wait_started 0/1 1000ms backoff",
            "1300 wait_finished 0/1",
            "1300 attempt_started 0/2 openai/m",
            "1300 stream_resumed 0/2 replayed=16 \"Patrick Rothfuss\"",
            // Only the 6 remaining tokens: two token-times sooner than a restart.
            "1400..1900 delta 0/2 x6 \" wrote The Name of the Wind.\"",
            "2000 attempt_succeeded 0/2 \"Patrick Rothfuss wrote The Name of the Wind.\"",
            "2000 run_finished Ok caught=[]",
        ]
    );
    // The whole reply once: replayed + new, nothing doubled.
    assert_eq!(summary.content.as_deref(), Some(REPLY));
    assert_eq!(succeeded(&events), [REPLY]);
    assert_eq!(
        requests(&events)[1]["messages"],
        json!([
            {"role": "user", "content": "Who wrote it?"},
            {"role": "assistant", "content": "Patrick Rothfuss"},
            {"role": "user", "content": CONTINUE_PROMPT},
        ])
    );
    assert!(
        whys(&events)[0].ends_with(
            "; stream_recovery = \"continue\": the next attempt sends the 16 characters received back as the start of its reply"
        ),
        "{:?}",
        whys(&events)
    );
}

#[tokio::test]
async fn continue_on_anthropic_prefills_the_partial() {
    let (summary, events) = run_sim(scenario(&src("anthropic", "continue"))).await;
    let t = transcript(&events);
    assert_eq!(
        t[6..],
        [
            "1300 attempt_started 0/2 anthropic/m",
            "1300 stream_resumed 0/2 replayed=16 \"Patrick Rothfuss\"",
            "1400..1900 delta 0/2 x6 \" wrote The Name of the Wind.\"",
            "2000 attempt_succeeded 0/2 \"Patrick Rothfuss wrote The Name of the Wind.\"",
            "2000 run_finished Ok caught=[]",
        ]
    );
    assert_eq!(summary.content.as_deref(), Some(REPLY));
    // The prefill is the last message: the assistant's own start, no extra user turn.
    assert_eq!(
        requests(&events)[1]["messages"],
        json!([
            {"role": "user", "content": "Who wrote it?"},
            {"role": "assistant", "content": "Patrick Rothfuss"},
        ])
    );
}

#[tokio::test]
async fn continue_builds_on_every_broken_stream_of_the_hop() {
    // Cut twice after two tokens: the third attempt replays both partials.
    let source = src("anthropic", "continue").replace("times = 1", "times = 2");
    let (summary, events) = run_sim(scenario(&source)).await;
    let t = transcript(&events);
    let resumed: Vec<&String> = t.iter().filter(|l| l.contains("stream_resumed")).collect();
    assert_eq!(
        resumed,
        [
            "1300 stream_resumed 0/2 replayed=16 \"Patrick Rothfuss\"",
            "2600 stream_resumed 0/3 replayed=26 \"Patrick Rothfuss wrote The\"",
        ]
    );
    assert!(
        t.contains(&"1600 attempt_failed 0/2 stream_interrupted(200) retry=true partial=\"Patrick Rothfuss wrote The\"".to_string()),
        "{t:#?}"
    );
    assert_eq!(summary.content.as_deref(), Some(REPLY));
    assert_eq!(
        requests(&events)[2]["messages"][1],
        json!({"role": "assistant", "content": "Patrick Rothfuss wrote The"})
    );
}

#[tokio::test]
async fn continue_still_asks_retry_on_first() {
    // stream_interrupted is not retried: Tenacity re-raises it, nothing is continued.
    let source = src("openai", "continue").replace(
        "stream_recovery",
        "retry_on = [\"rate_limit\"]\nstream_recovery",
    );
    let (summary, events) = run_sim(scenario(&source)).await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/m",
            "100..200 delta 0/1 x2 \"Patrick Rothfuss\"",
            "300 attempt_failed 0/1 stream_interrupted(200) retry=false partial=\"Patrick Rothfuss\"",
            "300 run_finished Error stream_interrupted caught=[]",
        ]
    );
    assert_eq!(summary.content, None);
}

#[tokio::test]
async fn surface_ends_the_call_with_the_partial_output_and_the_error() {
    // A fallback hop is waiting: surface skips it, and the retries too.
    let source = format!(
        "{}\n[fallback]\ncatch = [\"any\"]\n[[fallback.hops]]\nprovider = \"anthropic\"\nmodel = \"m\"\ncatch = [\"any\"]\n",
        src("openai", "surface")
    );
    let (summary, events) = run_sim(scenario(&source)).await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/m",
            "100..200 delta 0/1 x2 \"Patrick Rothfuss\"",
            "300 attempt_failed 0/1 stream_interrupted(200) retry=false partial=\"Patrick Rothfuss\"",
            "300 run_finished Error stream_interrupted caught=[]",
        ]
    );
    assert_eq!(summary.outcome, Outcome::Error);
    assert_eq!(summary.content.as_deref(), Some("Patrick Rothfuss"));
    assert_eq!(
        summary.error.map(|e| e.kind),
        Some(ErrorKind::StreamInterrupted)
    );
    assert_eq!(
        whys(&events),
        [
            "the stream broke (stream_interrupted) after 16 characters and stream_recovery = \"surface\": the call ends with the partial output and this error (no retry, no fallback)"
        ]
    );
    let Some(Event::RunFinished(f)) = events.last().map(|e| &e.event) else {
        panic!("no run_finished")
    };
    assert_eq!(f.content.as_deref(), Some("Patrick Rothfuss"));
}

#[tokio::test]
async fn surface_leaves_errors_without_text_to_the_policy() {
    // A 429 before any text is not a broken stream: retried as usual.
    let source = src("openai", "surface").replace(
        "faults = [",
        "faults = [{ fault = \"rate_limit\", retry_after = \"1s\", times = 1 }, ",
    );
    let (summary, events) = run_sim(scenario(&source)).await;
    let t = transcript(&events);
    assert!(
        t[2].starts_with("0 attempt_failed 0/1 rate_limit(429) retry=true"),
        "{t:#?}"
    );
    assert!(
        t.iter()
            .any(|l| l.contains("attempt_failed 0/2 stream_interrupted(200) retry=false")),
        "{t:#?}"
    );
    assert_eq!(summary.content.as_deref(), Some("Patrick Rothfuss"));
}
