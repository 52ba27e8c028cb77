//! A run is cancellable at any point — in a request, in a stream, in a wait — and then ends
//! with `run_finished` whose outcome is `cancelled`. The clock runs at real speed here but the
//! waits are an hour long: each test cancels as soon as it sees the step it targets, so
//! nothing waits for real.

use crate::support::run::scenario;
use retrylab::clock::Speed;
use retrylab::engine::run::{RunOptions, run};
use retrylab::event::{Delta, Event, Mode, Outcome, RunFinished};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Runs until `trigger` matches an event, cancels, and returns the names of every event.
async fn cancel_when(source: &str, trigger: impl Fn(&Event) -> bool) -> Vec<String> {
    let (tx, mut rx) = retrylab::engine::run::event_channel();
    let cancel = CancellationToken::new();
    let opts = RunOptions {
        mode: Mode::Sim,
        speed: Speed::Times(1.0),
        config: Arc::new(retrylab::config::Config::load()),
    };
    let handle = tokio::spawn(run(Arc::new(scenario(source)), opts, tx, cancel.clone()));
    let started = Instant::now();
    let mut names = Vec::new();
    while let Some(ev) = rx.recv().await {
        names.push(ev.event.name().to_string());
        if trigger(&ev.event) {
            cancel.cancel();
        }
        if let Event::RunFinished(RunFinished { outcome, .. }) = ev.event {
            assert_eq!(outcome, Outcome::Cancelled);
        }
    }
    let summary = handle.await.expect("the run task ends");
    assert_eq!(summary.outcome, Outcome::Cancelled);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "cancel must be prompt"
    );
    names
}

#[tokio::test]
async fn cancel_during_a_wait() {
    let names = cancel_when(
        r#"
name = "w"
[prompt]
template = "hi"
[call]
provider = "openai"
model = "m"
[retry]
stop = { after_attempt = 3 }
wait = { fixed = "1h" }
[sim]
first_token_ms = 0
faults = [{ fault = "server_error", times = 5 }]
"#,
        |e| matches!(e, Event::WaitStarted(_)),
    )
    .await;
    assert_eq!(
        names,
        [
            "run_started",
            "attempt_started",
            "attempt_failed",
            "wait_started",
            "wait_finished",
            "run_finished"
        ]
    );
}

#[tokio::test]
async fn cancel_during_a_stream() {
    let names = cancel_when(
        r#"
name = "s"
[prompt]
template = "hi"
[call]
provider = "anthropic"
model = "m"
stream = true
[sim]
first_token_ms = 0
tokens_per_second = 0.001
reply = "one two three four"
"#,
        |e| matches!(e, Event::Delta(_)),
    )
    .await;
    assert_eq!(names.first().map(String::as_str), Some("run_started"));
    assert!(names.contains(&"delta".to_string()), "{names:?}");
    assert_eq!(names.last().map(String::as_str), Some("run_finished"));
    assert!(!names.contains(&"attempt_succeeded".to_string()));
}

#[tokio::test]
async fn cancel_during_a_request() {
    let names = cancel_when(
        r#"
name = "r"
[prompt]
template = "hi"
[call]
provider = "openai"
model = "m"
timeout = "1h"
[sim]
faults = [{ fault = "timeout" }]
"#,
        |e| matches!(e, Event::AttemptStarted(_)),
    )
    .await;
    assert_eq!(names, ["run_started", "attempt_started", "run_finished"]);
}

// ---- issue 7: an endless fast stream and a consumer that lags ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_fast_stream_stays_bounded_and_cancels_at_once_whatever_is_queued() {
    use crate::support::live_server::{Reply, Step, openai_frame, serve, stream_head};
    use retrylab::engine::sink::CAPACITY;
    let frames = openai_frame(r#"{"content":"ab"}"#).repeat(64);
    let server = serve(vec![Reply::Steps(vec![
        Step::Write(stream_head("")),
        Step::Repeat(frames.into_bytes()),
    ])])
    .await;
    let source = r#"
name = "endless"
[prompt]
template = "hi"
[call]
provider = "openai"
model = "gpt-4o-mini"
base_url = "{base}/v1"
stream = true
"#
    .replace("{base}", &server.base);
    let (tx, mut rx) = retrylab::engine::run::event_channel();
    let cancel = CancellationToken::new();
    let opts = RunOptions {
        mode: Mode::Live,
        speed: Speed::Max,
        config: Arc::new(crate::support::live::config()),
    };
    let engine = tokio::spawn(run(Arc::new(scenario(&source)), opts, tx, cancel.clone()));
    // The consumer reads nothing for a while; the stream runs at full speed.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let queued = rx.len();
    assert!(
        queued <= CAPACITY + 2,
        "{queued} events queued for a lagging consumer"
    );
    let cancelled = Instant::now();
    cancel.cancel();
    let (mut text, mut events) = (0usize, 0usize);
    let mut last = None;
    while let Some(ev) = rx.recv().await {
        events += 1;
        if let Event::Delta(Delta { text: t, .. }) = &ev.event {
            text += t.len();
        }
        last = Some(ev.event);
    }
    let took = cancelled.elapsed();
    assert!(took < Duration::from_millis(500), "cancel took {took:?}");
    assert!(
        matches!(
            last,
            Some(Event::RunFinished(RunFinished {
                outcome: Outcome::Cancelled,
                ..
            }))
        ),
        "{last:?}"
    );
    // Deltas were merged, not lost: far more text than delta events.
    assert!(text > 4 * events, "{text} bytes in {events} events");
    assert_eq!(engine.await.unwrap().outcome, Outcome::Cancelled);
}
