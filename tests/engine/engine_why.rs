//! Why no retry and why no fallback, for every ending (issue 9): the failed attempt that
//! ends its hop says what the fallback made of the hop's error (`fallback_why`), and a
//! fallback hop says why it was taken.

use crate::support::run::{run_sim, scenario};
use retrylab::event::{AttemptFailed, Event, FallbackHop, Outcome, TimedEvent};

const HEAD: &str = r#"
name = "why"
[prompt]
template = "Q"
[call]
provider = "openai"
model = "gpt-4o-mini"
"#;

async fn run(rest: &str) -> (Outcome, Vec<TimedEvent>) {
    let (summary, events) = run_sim(scenario(&format!("{HEAD}{rest}"))).await;
    (summary.outcome, events)
}

/// `(why, fallback_why)` of every failed attempt that did not retry.
fn endings(events: &[TimedEvent]) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|e| match &e.event {
            Event::AttemptFailed(AttemptFailed {
                will_retry: false,
                why,
                fallback_why,
                ..
            }) => Some((why.clone(), fallback_why.clone())),
            _ => None,
        })
        .collect()
}

fn hop_whys(events: &[TimedEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.event {
            Event::FallbackHop(FallbackHop { why, .. }) => Some(why.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn an_error_outside_retry_on_and_the_catch_says_no_hop_was_tried() {
    let (outcome, events) = run(r#"
[retry]
retry_on = ["rate_limit"]
[fallback]
catch = ["retry_error"]
[[fallback.hops]]
provider = "anthropic"
model = "claude-3-5-haiku-latest"
catch = ["retry_error"]
[sim]
faults = [{ fault = "server_error" }]
"#)
    .await;
    assert_eq!(outcome, Outcome::Error);
    assert_eq!(
        endings(&events),
        [(
            "server_error is not in retry_on [rate_limit]: re-raised as is, no retry".into(),
            "server_error is not in [fallback].catch [retry_error]: no fallback hop was tried"
                .into()
        )]
    );
    assert!(hop_whys(&events).is_empty());
}

#[tokio::test]
async fn a_stop_caught_falls_back_and_a_hop_escaping_its_catch_says_so() {
    let (outcome, events) = run(r#"
[retry]
stop = { after_attempt = 2 }
retry_on = ["rate_limit"]
[fallback]
catch = ["retry_error"]
[[fallback.hops]]
provider = "anthropic"
model = "claude-3-5-haiku-latest"
catch = ["retry_error"]
[[fallback.hops]]
provider = "openai"
model = "gpt-4o"
catch = ["any"]
[sim]
faults = [
  { provider = "openai", model = "gpt-4o-mini", fault = "rate_limit", times = 100 },
  { provider = "anthropic", fault = "auth", times = 100 },
]
"#)
    .await;
    assert_eq!(outcome, Outcome::Error);
    let stop = "rate_limit is in retry_on [rate_limit], but stop_after_attempt(2) says stop \
                (attempt 2 of 2): retry_error";
    assert_eq!(
        endings(&events),
        [
            (
                stop.into(),
                "retry_error is in [fallback].catch [retry_error]: caught, falling back to hop 1"
                    .into()
            ),
            (
                "auth is not in retry_on [rate_limit]: re-raised as is, no retry".into(),
                "auth is not in hop 1's catch [retry_error]: hop 2 was not tried".into()
            ),
        ]
    );
    assert_eq!(
        hop_whys(&events),
        ["retry_error is in [fallback].catch [retry_error]: caught, falling back to hop 1"]
    );
}

#[tokio::test]
async fn the_last_hop_caught_says_fallback_error() {
    let (outcome, events) = run(r#"
[fallback]
catch = ["server_error"]
[[fallback.hops]]
provider = "anthropic"
model = "claude-3-5-haiku-latest"
catch = ["overloaded"]
[sim]
faults = [
  { provider = "openai", fault = "server_error", times = 100 },
  { provider = "anthropic", fault = "overloaded", times = 100 },
]
"#)
    .await;
    assert_eq!(outcome, Outcome::Error);
    let ends = endings(&events);
    assert_eq!(
        ends[1].1,
        "overloaded is in hop 1's catch [overloaded], the last hop: fallback_error"
    );
}

#[tokio::test]
async fn without_a_fallback_there_is_no_fallback_why() {
    let (_, events) = run(r#"
[retry]
retry_on = ["rate_limit"]
[sim]
faults = [{ fault = "server_error" }]
"#)
    .await;
    assert_eq!(
        endings(&events),
        [(
            "server_error is not in retry_on [rate_limit]: re-raised as is, no retry".into(),
            String::new()
        )]
    );
}
