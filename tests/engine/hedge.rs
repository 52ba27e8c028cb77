//! Hedging (`[hedge]`, DESIGN §15): exact event sequences of hedged sim runs, which run on
//! the discrete clock (every leg a sleeper on one timeline), so every time below is exact.

use crate::support::run::{run_sim, scenario, transcript};
use retrylab::clock::Speed;
use retrylab::config::Config;
use retrylab::engine::run::{RunControl, RunOptions, RunSummary, event_channel, run_with_control};
use retrylab::error::ErrorKind;
use retrylab::event::{Event, Mode, Outcome, TimedEvent};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Replies in 0.5 s (first byte), the rest at once.
const FAST: &str = "first_token_ms = 500\ntokens_per_second = 1e9\nreply = \"ok\"\n";

fn src(call: &str, hedge: &str, rest: &str) -> String {
    format!(
        "name = \"t\"\n[prompt]\ntemplate = \"Q\"\n[call]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\n{call}\n[hedge]\n{hedge}\n{rest}"
    )
}

/// Requests `n` (per provider+model) answer after `secs` in all: the first byte after
/// `secs` − 0.5 s, then FAST's 0.5 s to the first token.
fn slow(n: &[u32], secs: u32) -> String {
    let delay = f64::from(secs) - 0.5;
    format!(
        "{{ fault = \"slow_first_byte\", delay = \"{delay}s\", on_requests = {n:?}, provider = \"openai\" }}"
    )
}

fn requests(events: &[TimedEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e.event, Event::AttemptStarted(_) | Event::HedgeStarted(_)))
        .count()
}

#[tokio::test]
async fn a_second_leg_after_one_second_answers_at_exactly_one_and_a_half_and_the_first_is_cancelled()
 {
    let (summary, events) = run_sim(scenario(&src(
        "",
        "after = \"1s\"",
        &format!("[sim]\n{FAST}faults = [{}]", slow(&[1], 5)),
    )))
    .await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "1000 hedge_started 0/1 leg=2 openai/gpt-4o-mini",
            "1500 hedge_cancelled 0/1 leg=1: leg 2 answered first",
            "1500 attempt_succeeded 0/1 \"ok\"",
            "1500 run_finished Ok caught=[]",
        ]
    );
    assert_eq!(summary.content.as_deref(), Some("ok"));
    // The latency the attempt reports is the winner's answer time from the attempt's start.
    let latency = events.iter().find_map(|e| match &e.event {
        Event::AttemptSucceeded(s) => Some(s.latency_ms),
        _ => None,
    });
    assert_eq!(latency, Some(1500));
}

#[tokio::test]
async fn a_first_request_that_answers_before_after_starts_no_hedge() {
    let (_, events) = run_sim(scenario(&src(
        "",
        "after = \"1s\"",
        &format!("[sim]\n{FAST}"),
    )))
    .await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "500 attempt_succeeded 0/1 \"ok\"",
            "500 run_finished Ok caught=[]",
        ]
    );
}

#[tokio::test]
async fn with_max_3_a_third_leg_starts_after_the_second_and_both_slow_legs_are_cancelled() {
    let (_, events) = run_sim(scenario(&src(
        "",
        "after = \"1s\"\nmax = 3",
        &format!("[sim]\n{FAST}faults = [{}]", slow(&[1, 2], 5)),
    )))
    .await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "1000 hedge_started 0/1 leg=2 openai/gpt-4o-mini",
            "2000 hedge_started 0/1 leg=3 openai/gpt-4o-mini",
            "2500 hedge_cancelled 0/1 leg=1: leg 3 answered first",
            "2500 hedge_cancelled 0/1 leg=2: leg 3 answered first",
            "2500 attempt_succeeded 0/1 \"ok\"",
            "2500 run_finished Ok caught=[]",
        ]
    );
    assert_eq!(requests(&events), 3);
}

#[tokio::test]
async fn max_legs_are_all_that_start_however_slow_they_all_are() {
    let (_, events) = run_sim(scenario(&src(
        "",
        "after = \"1s\"\nmax = 2",
        &format!("[sim]\n{FAST}faults = [{}]", slow(&[1, 2], 5)),
    )))
    .await;
    let t = transcript(&events);
    assert_eq!(requests(&events), 2, "{t:#?}");
    // Leg 1 answers at 5 s, before leg 2 (1 + 5 s); no third leg.
    assert!(
        t.contains(&"5000 hedge_cancelled 0/1 leg=2: leg 1 answered first".to_string()),
        "{t:#?}"
    );
}

#[tokio::test]
async fn to_next_sends_the_leg_to_the_fallback_hops_model() {
    let (summary, events) = run_sim(scenario(&src(
        "",
        "after = \"1s\"\nto = \"next\"",
        &format!(
            "[fallback]\ncatch = [\"any\"]\n[[fallback.hops]]\nprovider = \"anthropic\"\nmodel = \"claude-3-5-haiku-latest\"\ncatch = [\"any\"]\n[sim]\n{FAST}faults = [{}]",
            slow(&[1], 5)
        ),
    )))
    .await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "1000 hedge_started 0/1 leg=2 anthropic/claude-3-5-haiku-latest",
            "1500 hedge_cancelled 0/1 leg=1: leg 2 answered first",
            "1500 attempt_succeeded 0/1 \"ok\"",
            "1500 run_finished Ok caught=[]",
        ]
    );
    assert_eq!(summary.outcome, Outcome::Ok);
    // The winner's reply came from Anthropic's wire format.
    let url = events.iter().find_map(|e| match &e.event {
        Event::AttemptSucceeded(s) => s.response.as_ref().map(|r| r.url.clone()),
        _ => None,
    });
    assert!(url.is_some_and(|u| u.ends_with("/v1/messages")));
}

#[tokio::test]
async fn a_stream_is_won_by_the_first_leg_to_deliver_text_and_only_its_deltas_reach_the_output() {
    // Leg 1's first text comes at 0.7 + 0.5 = 1.2 s, after leg 2 started (1 s) but before
    // leg 2's (1.5 s): leg 1 wins on it, though leg 2 (one token) would have ended sooner
    // than leg 1's six tokens at 2 a second.
    let (summary, events) = run_sim(scenario(&src(
        "stream = true",
        "after = \"1s\"",
        "[sim]\nfirst_token_ms = 500\ntokens_per_second = 2\nreplies = [\"one two three four five six\", \"fast\"]\nfaults = [{ fault = \"slow_first_byte\", delay = \"0.7s\", on_requests = [1] }]",
    )))
    .await;
    let t = transcript(&events);
    assert_eq!(
        t,
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "1000 hedge_started 0/1 leg=2 openai/gpt-4o-mini",
            "1200 hedge_cancelled 0/1 leg=2: leg 1 delivered text first",
            // Six tokens at 2 a second: 1.2 s + 5 x 0.5 s, then the stream's end.
            "1200..3700 delta 0/1 x6 \"one two three four five six\"",
            "4200 attempt_succeeded 0/1 \"one two three four five six\"",
            "4200 run_finished Ok caught=[]",
        ],
    );
    let text: String = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::Delta(d) => Some(d.text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        text, "one two three four five six",
        "only the winner's text: {t:#?}"
    );
    assert_eq!(
        summary.content.as_deref(),
        Some("one two three four five six")
    );
    assert_eq!(requests(&events), 2);
}

#[tokio::test]
async fn when_every_leg_fails_the_attempt_fails_with_the_last_error_and_is_retried() {
    let (summary, events) = run_sim(scenario(&src(
        "",
        "after = \"1s\"",
        &format!(
            "[retry]\nstop = {{ after_attempt = 2 }}\nwait = {{ fixed = 1 }}\n[sim]\n{FAST}faults = [{{ fault = \"server_error\", delay = \"3s\", on_requests = [1] }}, {{ fault = \"overloaded\", delay = \"4s\", on_requests = [2] }}]"
        ),
    )))
    .await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "1000 hedge_started 0/1 leg=2 openai/gpt-4o-mini",
            "3000 hedge_cancelled 0/1 leg=1: failed with server_error; leg 2 still in flight",
            "5000 attempt_failed 0/1 overloaded(503) retry=true",
            "5000 wait_started 0/1 1000ms backoff",
            "6000 wait_finished 0/1",
            "6000 attempt_started 0/2 openai/gpt-4o-mini",
            "6500 attempt_succeeded 0/2 \"ok\"",
            "6500 run_finished Ok caught=[]",
        ]
    );
    assert_eq!(summary.outcome, Outcome::Ok);
}

#[tokio::test]
async fn a_first_leg_that_fails_alone_fails_the_attempt_and_no_leg_starts() {
    let (summary, events) = run_sim(scenario(&src(
        "",
        "after = \"1s\"",
        &format!("[sim]\n{FAST}faults = [{{ fault = \"server_error\", delay = \"0.2s\" }}]"),
    )))
    .await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "200 attempt_failed 0/1 server_error(500) retry=false",
            "200 run_finished Error server_error caught=[]",
        ]
    );
    assert_eq!(summary.error.map(|e| e.kind), Some(ErrorKind::ServerError));
}

/// Runs `source` at `speed` with controls; `on_event` steers as each event arrives.
async fn steer(
    source: &str,
    speed: Speed,
    on_event: impl Fn(&Event, &RunControl),
) -> (RunSummary, Vec<TimedEvent>, Duration) {
    let (tx, mut rx) = event_channel();
    let control = RunControl::new();
    let opts = RunOptions {
        mode: Mode::Sim,
        speed,
        config: Arc::new(Config::isolated()),
    };
    let started = Instant::now();
    let handle = tokio::spawn(run_with_control(
        Arc::new(scenario(source)),
        opts,
        tx,
        control.clone(),
    ));
    let mut events = Vec::new();
    while let Some(ev) = rx.recv().await {
        on_event(&ev.event, &control);
        events.push(ev);
    }
    let summary = handle.await.expect("the run ends");
    (summary, events, started.elapsed())
}

#[tokio::test]
async fn at_10x_a_hedged_run_takes_a_tenth_of_its_run_time_with_the_same_events() {
    let source = src(
        "",
        "after = \"1s\"",
        &format!("[sim]\n{FAST}faults = [{}]", slow(&[1], 5)),
    );
    let (_, max, _) = steer(&source, Speed::Max, |_, _| {}).await;
    let (_, paced, wall) = steer(&source, Speed::Times(10.0), |_, _| {}).await;
    let strip = |events: &[TimedEvent]| {
        let mut t = transcript(events);
        t.remove(0);
        t
    };
    assert_eq!(strip(&paced), strip(&max));
    // 1.5 s of run time at 10x: 150 ms of wall time (and not much more).
    assert!(
        wall >= Duration::from_millis(150) && wall < Duration::from_millis(1200),
        "{wall:?}"
    );
}

#[tokio::test]
async fn a_speed_change_mid_run_applies_at_once() {
    // 1.5 s of run time; at 5x that is 300 ms of wall, but max is asked for at the hedge.
    let source = src(
        "",
        "after = \"1s\"",
        &format!("[sim]\n{FAST}faults = [{}]", slow(&[1], 5)),
    );
    let (summary, _, wall) = steer(&source, Speed::Times(5.0), |e, c| {
        if matches!(e, Event::HedgeStarted(_)) {
            c.set_speed(Speed::Max);
        }
    })
    .await;
    assert_eq!(summary.outcome, Outcome::Ok);
    // 1 s at 5x (200 ms), then no wall time.
    assert!(wall < Duration::from_millis(900), "{wall:?}");
}

#[tokio::test]
async fn a_cancel_with_two_legs_in_flight_gives_both_up_and_ends_the_run() {
    let source = src(
        "",
        "after = \"0.1s\"",
        &format!("[sim]\n{FAST}faults = [{}]", slow(&[1, 2], 60)),
    );
    let (summary, events, wall) = steer(&source, Speed::Times(1.0), |e, c| {
        if matches!(e, Event::HedgeStarted(_)) {
            c.cancel();
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
            "hedge_started",
            "hedge_cancelled",
            "hedge_cancelled",
            "run_finished"
        ]
    );
    let whys: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::HedgeCancelled(c) => Some(c.why.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(whys, ["the attempt ended", "the attempt ended"]);
    assert!(wall < Duration::from_secs(5), "{wall:?}");
}

/// A stream's winner that a `[limits]` limit cuts is the attempt's own request, not a
/// cancelled leg (found in review: it was reported cancelled and priced twice).
#[tokio::test]
async fn a_winner_a_limit_cuts_is_not_reported_as_a_cancelled_leg() {
    let (_, events) = run_sim(scenario(&src(
        "stream = true",
        "after = \"1s\"",
        "[limits]\nmax_tokens = 3\n[sim]\nfirst_token_ms = 500\ntokens_per_second = 2\nreplies = [\"one two three four five six seven eight nine ten\", \"fast\"]\nfaults = [{ fault = \"slow_first_byte\", delay = \"0.7s\", on_requests = [1] }]",
    )))
    .await;
    let t = transcript(&events);
    let cancelled: Vec<&String> = t.iter().filter(|l| l.contains("hedge_cancelled")).collect();
    assert_eq!(cancelled.len(), 1, "only the loser: {t:#?}");
    assert!(cancelled[0].contains("leg=2"), "{t:#?}");
    assert!(
        t.iter().any(|l| l.contains("limit_reached max_tokens")),
        "{t:#?}"
    );
}
