//! Folding event lists into the run view; the run clock.

use super::fixtures::*;
use super::*;
use crate::clock::Speed;
use crate::event::{AttemptFailed, AttemptStarted, Event};
use std::time::{Duration, Instant};

#[test]
fn folds_a_fallback_run_into_rows() {
    let mut v = RunView::new();
    for e in full_fallback() {
        v.apply(&e);
    }
    assert_eq!(v.attempts.len(), 4);
    assert_eq!(v.waits.len(), 2);
    assert!(v.waits.iter().all(|w| w.finished));
    assert!(
        v.rows
            .iter()
            .any(|r| matches!(r, Row::Fallback { hop: 1, .. }))
    );
    assert!(matches!(v.rows.last(), Some(Row::Outcome)));
    let done = v.finished.as_ref().unwrap();
    assert_eq!(done.outcome, Outcome::Ok);
    let last = &v.attempts[3];
    assert_eq!(last.output.as_str(), "The meaning of life is 42.");
    assert_eq!(last.state, AttemptState::Succeeded);
    assert_eq!(v.attempts[1].reinserted.len(), 1);
    assert_eq!(v.final_attempt(), Some(3));
    assert!(!v.any_running());
}

#[test]
fn wait_labels_name_their_source() {
    let mut v = RunView::new();
    for e in mid_wait() {
        v.apply(&e);
    }
    let w = v.active_wait().unwrap();
    assert_eq!(
        w.label(),
        "exponential(multiplier=1, min=4, max=10) = 4 s (Retry-After 1 s is shorter)"
    );
    let mut ra = w.clone();
    ra.source = WaitSource::RetryAfter;
    ra.retry_after_ms = Some(30_000);
    assert!(ra.label().starts_with("Retry-After 30 s"), "{}", ra.label());
    assert!(v.any_running());
}

#[test]
fn run_clock_drains_waits_at_the_run_speed() {
    let t0 = Instant::now();
    let mut c = RunClock::new(Speed::Times(10.0), t0);
    c.start(t0);
    c.observe(12, t0);
    let mut v = RunView::new();
    for e in mid_wait() {
        v.apply(&e);
    }
    let w = v.active_wait().unwrap().clone();
    assert_eq!(c.remaining_ms(&w, t0), 4000);
    // 100 ms of wall time at 10x is 1 s of run time.
    assert_eq!(c.remaining_ms(&w, t0 + Duration::from_millis(100)), 3000);
    assert_eq!(c.remaining_ms(&w, t0 + Duration::from_secs(5)), 0);
    c.stop(t0 + Duration::from_millis(100));
    assert_eq!(c.now_ms(t0 + Duration::from_secs(9)), 1012);
}

#[test]
fn endless_waits_and_huge_times_saturate() {
    // An infinite wait arrives as delay_ms = u64::MAX; a crafted trace may say anything.
    let t0 = Instant::now();
    let mut c = RunClock::new(Speed::Times(100.0), t0);
    c.start(t0);
    let mut v = RunView::new();
    for e in mid_wait() {
        v.apply(&e);
    }
    let mut w = v.active_wait().unwrap().clone();
    w.delay_ms = u64::MAX;
    assert_eq!(w.end_t(), u64::MAX);
    assert_eq!(c.remaining_ms(&w, t0), u64::MAX);
    c.observe(u64::MAX - 5, t0);
    assert_eq!(c.now_ms(t0 + Duration::from_secs(3600)), u64::MAX);
    assert_eq!(c.remaining_ms(&w, t0 + Duration::from_secs(1)), 0);
}

#[test]
fn only_the_newest_attempts_keep_their_response() {
    use crate::error::{CallError, ErrorKind};
    let mut v = RunView::new();
    let n = DETAIL_KEPT as u32 + 5;
    for attempt in 1..=n {
        let t = u64::from(attempt);
        v.apply(&TimedEvent {
            t_ms: t,
            event: Event::AttemptStarted(AttemptStarted {
                hop: 0,
                attempt,
                provider: "openai".into(),
                model: "m".into(),
                request: serde_json::json!({"model": "m"}),
                prompt: None,
                url: String::new(),
                headers: vec![],
                deadline_clip: None,
            }),
        });
        v.apply(&TimedEvent {
            t_ms: t,
            event: Event::AttemptFailed(AttemptFailed {
                hop: 0,
                attempt,
                error: CallError::new(ErrorKind::RateLimit, "slow down").with_status(429),
                partial_output: String::new(),
                will_retry: true,
                latency_ms: 0,
                why: String::new(),
                fallback_why: String::new(),
                response: Some(HttpExchange {
                    url: "http://x".into(),
                    status: Some(429),
                    headers: vec![("retry-after".into(), "1".into())],
                    body: "{}".into(),
                }),
                cost_usd: None,
                cost_estimated: false,
            }),
        });
    }
    let dropped = v.attempts.iter().filter(|a| a.detail_dropped).count();
    // Exactly the newest DETAIL_KEPT keep theirs.
    assert_eq!(dropped, n as usize - DETAIL_KEPT);
    assert!(v.attempts[..dropped].iter().all(|a| a.response.is_none()));
    assert!(v.attempts[dropped..].iter().all(|a| a.response.is_some()));
    // What the timeline shows stays: the error of every attempt.
    assert!(v.attempts.iter().all(|a| a.error.is_some()));
}

#[test]
fn retries_with_the_same_body_share_its_text() {
    let mut v = RunView::new();
    for e in full_fallback() {
        v.apply(&e);
    }
    let (a2, a3) = (&v.attempts[1].request, &v.attempts[2].request);
    assert_eq!(a2, a3);
    assert!(std::sync::Arc::ptr_eq(&a2.0, &a3.0), "one text for both");
    assert_ne!(v.attempts[0].request, *a2);
    assert_eq!(
        v.attempts[3].request.value()["model"],
        "claude-3-5-sonnet-latest"
    );
    assert!(v.attempts[3].request.to_string().starts_with('{'));
}

#[test]
fn sdk_retries_fold_into_nested_rows_under_their_attempt() {
    let mut v = RunView::new();
    for e in sdk_mid_retry() {
        v.apply(&e);
    }
    assert_eq!(
        v.rows,
        [Row::Attempt(0), Row::SdkRetry(0), Row::SdkRetry(1)]
    );
    assert_eq!(v.attempt_of_row(2), Some(0));
    let nested = v.sdk_retries_of(0);
    assert_eq!(nested.len(), 2);
    assert!(v.sdk_retries_of(1).is_empty());
    let (first, second) = (&nested[0], &nested[1]);
    assert_eq!(
        (first.retry_count_sent(), second.retry_count_sent()),
        (0, 1)
    );
    assert_eq!((first.end_t(), second.end_t()), (570, 2100));
    assert_eq!(second.source_label(), "retry-after-ms");
    assert_eq!(first.failure_label(), "500 server_error");
    // At 1.2 s the first wait is over and the second runs.
    assert_eq!(first.ended(&v, 1200), Some((WaitEnd::Elapsed, None)));
    assert_eq!(second.ended(&v, 1200), None);
    assert!(v.any_running());
    // The run cancelled at 1.5 s: the second wait lasted 900 ms of its 1.5 s.
    v.apply(&ev(
        1500,
        Event::RunFinished(crate::event::RunFinished {
            outcome: Outcome::Cancelled,
            content: None,
            error: None,
            caught: vec![],
            total_cost_usd: None,
            total_cost_estimated: false,
            degraded: false,
        }),
    ));
    let second = &v.sdk_retries[1];
    assert_eq!(
        second.ended(&v, 1500),
        Some((WaitEnd::Cancelled, Some(900)))
    );
}
