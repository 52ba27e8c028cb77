//! Steering a run in progress through `RunControl` (issue 9): skip the wait in progress,
//! change the speed mid-wait, cancel mid-wait. Each says so in `wait_finished` (`ended`,
//! `waited_ms`), on the virtual clock, so the times are exact where the wall does not enter.

use crate::support::run::{scenario, transcript};
use retrylab::clock::Speed;
use retrylab::engine::run::{RunControl, RunOptions, RunSummary, run_with_control};
use retrylab::event::{Event, Mode, Outcome, TimedEvent, WaitEnd, WaitFinished};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One server error, then an answer; the wait between is `wait`.
fn one_retry(wait: &str) -> String {
    format!(
        r#"
name = "control"
[prompt]
template = "hi"
[call]
provider = "openai"
model = "m"
[retry]
stop = {{ after_attempt = 3 }}
retry_on = ["server_error"]
wait = {{ fixed = "{wait}" }}
[sim]
first_token_ms = 0
error_ms = 0
tokens_per_second = 1000000
reply = "ok"
faults = [{{ fault = "server_error", times = 1 }}]
"#
    )
}

/// Runs `source` at `speed`; `on_event` sees each event with the controls as it arrives.
async fn steer(
    source: &str,
    speed: Speed,
    on_event: impl Fn(&Event, &RunControl),
) -> (RunSummary, Vec<TimedEvent>) {
    let (tx, mut rx) = retrylab::engine::run::event_channel();
    let control = RunControl::new();
    let opts = RunOptions {
        mode: Mode::Sim,
        speed,
        config: Arc::new(retrylab::config::Config::isolated()),
    };
    let run = run_with_control(Arc::new(scenario(source)), opts, tx, control.clone());
    let handle = tokio::spawn(run);
    let started = Instant::now();
    let mut events = Vec::new();
    while let Some(ev) = rx.recv().await {
        on_event(&ev.event, &control);
        events.push(ev);
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "steering is prompt"
    );
    (handle.await.expect("the run task ends"), events)
}

fn wait_finished(events: &[TimedEvent]) -> (u64, WaitFinished) {
    events
        .iter()
        .find_map(|e| match &e.event {
            Event::WaitFinished(w) => Some((e.t_ms, w.clone())),
            _ => None,
        })
        .expect("a wait_finished")
}

fn t_of(events: &[TimedEvent], name: &str) -> u64 {
    events
        .iter()
        .find(|e| e.event.name() == name)
        .map(|e| e.t_ms)
        .unwrap_or_else(|| panic!("no {name}"))
}

#[tokio::test]
async fn a_skipped_wait_ends_at_once_and_the_run_goes_on() {
    // At 0.001x no run time passes before the skip lands; then the rest goes at max.
    let (summary, events) = steer(&one_retry("1h"), Speed::Times(0.001), |e, c| {
        if matches!(e, Event::WaitStarted(_)) {
            c.skip_wait();
            c.set_speed(Speed::Max);
        }
    })
    .await;
    assert_eq!(summary.outcome, Outcome::Ok);
    let lines = transcript(&events);
    assert_eq!(
        lines,
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/m",
            "0 attempt_failed 0/1 server_error(500) retry=true",
            "0 wait_started 0/1 3600000ms backoff",
            "0 wait_finished 0/1 Skipped after 0ms",
            "0 attempt_started 0/2 openai/m",
            "0 attempt_succeeded 0/2 \"ok\"",
            "0 run_finished Ok caught=[]",
        ],
        "{lines:#?}"
    );
    let line = events
        .iter()
        .find(|e| e.event.name() == "wait_finished")
        .unwrap()
        .to_json_line();
    assert_eq!(
        line,
        r#"{"t_ms":0,"event":"wait_finished","hop":0,"attempt":1,"waited_ms":0,"ended":"skipped"}"#
    );
}

#[tokio::test]
async fn a_skip_named_for_an_earlier_wait_never_skips_the_next() {
    // Two 2 s waits at 0.001x. The first is skipped by name; at the second, a late skip
    // still naming the first arrives: ignored, and the speed goes to max so it elapses.
    let src = one_retry("2s").replace("times = 1", "times = 2");
    let (summary, events) = steer(&src, Speed::Times(0.001), |e, c| {
        if let Event::WaitStarted(w) = e {
            c.skip_wait_of(0, 1);
            if w.attempt == 2 {
                c.set_speed(Speed::Max);
            }
        }
    })
    .await;
    assert_eq!(summary.outcome, Outcome::Ok);
    let lines = transcript(&events);
    let waits: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("wait_finished"))
        .collect();
    assert_eq!(
        waits,
        [
            "0 wait_finished 0/1 Skipped after 0ms",
            "2000 wait_finished 0/2"
        ],
        "{lines:#?}"
    );
}

#[tokio::test]
async fn a_skip_mid_wait_keeps_the_time_reached() {
    // At 1x, skipped once 300 ms of wall time have passed: the clock keeps what it reached
    // and the next attempt starts there.
    let (summary, events) = steer(&one_retry("1h"), Speed::Times(1.0), |e, c| {
        if matches!(e, Event::WaitStarted(_)) {
            let c = c.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                c.skip_wait();
                c.set_speed(Speed::Max);
            });
        }
    })
    .await;
    assert_eq!(summary.outcome, Outcome::Ok);
    let (t, w) = wait_finished(&events);
    assert_eq!(w.ended, WaitEnd::Skipped);
    let waited = w.waited_ms.expect("a cut wait says how long it lasted");
    assert!((250..3000).contains(&waited), "waited {waited} ms");
    assert_eq!(t, t_of(&events, "wait_started") + waited);
    let next = events
        .iter()
        .filter(|e| e.event.name() == "attempt_started")
        .nth(1)
        .unwrap();
    assert_eq!(next.t_ms, t, "the next attempt starts when the wait ended");
}

#[tokio::test]
async fn a_skip_outside_a_wait_does_nothing() {
    // Pressed during the first attempt: the 2 s wait that follows still runs in full.
    let (summary, events) = steer(&one_retry("2s"), Speed::Max, |e, c| {
        if matches!(e, Event::AttemptStarted(_)) {
            c.skip_wait();
        }
    })
    .await;
    assert_eq!(summary.outcome, Outcome::Ok);
    let (t, w) = wait_finished(&events);
    assert_eq!(w, WaitFinished::elapsed(0, 1));
    assert_eq!(t, 2000);
}

#[tokio::test]
async fn a_speed_change_mid_wait_applies_at_once() {
    // A 4 s wait at 1x switched to max as it starts ends now, in full: the run's clock
    // reads 4000 ms after it, the wall far less.
    let wall = Instant::now();
    let (summary, events) = steer(&one_retry("4s"), Speed::Times(1.0), |e, c| {
        if matches!(e, Event::WaitStarted(_)) {
            c.set_speed(Speed::Max);
        }
    })
    .await;
    assert!(
        wall.elapsed() < Duration::from_secs(3),
        "{:?}",
        wall.elapsed()
    );
    assert_eq!(summary.outcome, Outcome::Ok);
    let (t, w) = wait_finished(&events);
    assert_eq!((t, w), (4000, WaitFinished::elapsed(0, 1)));
}

#[tokio::test]
async fn a_cancel_mid_wait_says_how_long_it_waited() {
    let (summary, events) = steer(&one_retry("4s"), Speed::Times(1.0), |e, c| {
        if matches!(e, Event::WaitStarted(_)) {
            let c = c.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                c.cancel();
            });
        }
    })
    .await;
    assert_eq!(summary.outcome, Outcome::Cancelled);
    let names: Vec<&str> = events.iter().map(|e| e.event.name()).collect();
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
    let (t, w) = wait_finished(&events);
    assert_eq!(w.ended, WaitEnd::Cancelled);
    let waited = w.waited_ms.expect("waited_ms");
    assert!((250..3000).contains(&waited), "waited {waited} ms");
    assert_eq!(t, t_of(&events, "wait_started") + waited);
    assert_eq!(t_of(&events, "run_finished"), t);
}

#[tokio::test]
async fn a_cancel_as_the_wait_starts_waited_nothing() {
    let (summary, events) = steer(&one_retry("1h"), Speed::Times(0.001), |e, c| {
        if matches!(e, Event::WaitStarted(_)) {
            c.cancel();
        }
    })
    .await;
    assert_eq!(summary.outcome, Outcome::Cancelled);
    let lines = transcript(&events);
    assert_eq!(
        lines[3..],
        [
            "0 wait_started 0/1 3600000ms backoff",
            "0 wait_finished 0/1 Cancelled after 0ms",
            "0 run_finished Cancelled caught=[]",
        ]
    );
}
