//! Memory with 100,000 events (DESIGN §9: under 50 MB RSS): events go into the playground's
//! state through `Message::Engine` in batches, exactly as the run loop feeds them, with a
//! frame drawn per batch. Three shapes: one long streamed answer (deltas); attempts that each
//! stream 2,000 deltas and break; and a run that retries at once without end (attempts,
//! failures, waits). VmRSS is read from /proc/self/status before and after; the tests of this
//! binary take a lock, so nothing else allocates meanwhile.
//!
//! Also: the output buffer stays linear (no quadratic copies or re-wraps) as a stream grows.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use ratatui::backend::TestBackend;
use retrylab::clock::Speed;
use retrylab::event::TimedEvent;
use retrylab::tui::app::{AppConfig, Origin, Start};
use retrylab::tui::message::Message;
use retrylab::tui::output_buf::OutputBuf;
use retrylab::tui::panes::PaneId;
use retrylab::tui::runner::Playground;
use serde_json::json;
use std::time::{Duration, Instant};

const EVENTS: usize = 100_000;

/// One test at a time: RSS is process-wide.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
const BATCH: usize = 1024;

/// This binary's lock, held while a test measures RSS; None (said on stderr) where RSS cannot
/// be read.
fn measuring() -> Option<std::sync::MutexGuard<'static, ()>> {
    let serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if rss().is_none() {
        eprintln!("no /proc/self/status: RSS not measured");
        return None;
    }
    Some(serial)
}

/// Resident set size in bytes (Linux), or None elsewhere.
fn rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

fn ev(t_ms: u64, v: serde_json::Value) -> TimedEvent {
    let mut v = v;
    v["t_ms"] = json!(t_ms);
    serde_json::from_value(v).expect("an event")
}

/// A request body as the engine records it (a few hundred bytes of JSON). Retries resend
/// the same body unless errors are reinserted; every fourth attempt here carries a new one.
fn request(attempt: u64) -> serde_json::Value {
    let attempt = attempt / 4;
    json!({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Answer in one sentence."},
            {"role": "user", "content": format!("Answer this question: What is the meaning of life? (attempt {attempt})")}
        ],
        "temperature": 0.2,
        "stream": true,
        "stream_options": {"include_usage": true}
    })
}

/// One answer streamed as ~100,000 word deltas (about 500 KB of text), made one at a time
/// as the engine makes them.
fn long_stream() -> impl Iterator<Item = TimedEvent> {
    let t_end = EVENTS as u64 / 40;
    (0..EVENTS).map(move |i| match i {
        0 => ev(0, json!({"event": "run_started", "scenario": "memory", "mode": "sim", "speed": "max"})),
        1 => ev(0, json!({"event": "attempt_started", "hop": 0, "attempt": 1, "provider": "openai",
                         "model": "gpt-4o-mini", "request": request(1)})),
        _ if i == EVENTS - 2 => ev(t_end, json!({"event": "attempt_succeeded", "hop": 0, "attempt": 1, "content": "",
                        "usage": {"input_tokens": 20, "output_tokens": 100000}, "latency_ms": t_end})),
        _ if i == EVENTS - 1 => ev(t_end, json!({"event": "run_finished", "outcome": "ok", "content": "", "error": null, "caught": []})),
        _ => {
            let text = if i % 40 == 39 { "words.\n".to_string() } else { format!(" w{}", i % 1000) };
            ev(i as u64 / 40, json!({"event": "delta", "hop": 0, "attempt": 1, "text": text}))
        }
    })
}

/// The brief's shape: attempts that each stream ~2,000 deltas and then break (a cut
/// stream), with a wait between them, until 100,000 events.
fn streams_and_attempts() -> impl Iterator<Item = TimedEvent> {
    const DELTAS: u64 = 2_000;
    let first = ev(
        0,
        json!({"event": "run_started", "scenario": "memory", "mode": "sim", "speed": "max"}),
    );
    std::iter::once(first)
        .chain((1u64..).flat_map(|attempt| {
            let t0 = attempt * 100_000;
            let start = ev(t0, json!({"event": "attempt_started", "hop": 0, "attempt": attempt,
                "provider": "openai", "model": "gpt-4o-mini", "request": request(attempt)}));
            let deltas = (0..DELTAS).map(move |i| {
                let text = if i % 40 == 39 { "end.\n".to_string() } else { format!(" word{}", i % 100) };
                ev(t0 + i * 25, json!({"event": "delta", "hop": 0, "attempt": attempt, "text": text}))
            });
            let t1 = t0 + DELTAS * 25;
            let end = vec![
                ev(t1, json!({"event": "attempt_failed", "hop": 0, "attempt": attempt,
                    "error": {"kind": "stream_interrupted", "message": "the stream ended without `data: [DONE]` after 2001 events", "status": 200},
                    "partial_output": "", "will_retry": true, "latency_ms": DELTAS * 25,
                    "why": "stream_interrupted is in retry_on [any]; wait = exponential 4 s; next: attempt 2"})),
                ev(t1, json!({"event": "wait_started", "hop": 0, "attempt": attempt, "delay_ms": 4000,
                    "strategy": "wait_exponential(multiplier=1, min=4 s, max=10 s)", "computed_ms": 4000, "source": "backoff"})),
                ev(t1 + 4000, json!({"event": "wait_finished", "hop": 0, "attempt": attempt})),
            ];
            std::iter::once(start).chain(deltas).chain(end)
        }))
        .take(EVENTS)
}

/// A run without a stop and without a wait that fails on every attempt: four events per
/// attempt (started, failed with a 429 and its response, wait started, wait finished).
fn endless_retries() -> impl Iterator<Item = TimedEvent> {
    let first = ev(
        0,
        json!({"event": "run_started", "scenario": "memory", "mode": "sim", "speed": "max"}),
    );
    std::iter::once(first)
        .chain((1u64..).flat_map(attempt_events))
        .take(EVENTS)
}

fn attempt_events(attempt: u64) -> Vec<TimedEvent> {
    let t = attempt * 3;
    let mut v = Vec::with_capacity(4);
    {
        v.push(ev(
            t,
            json!({"event": "attempt_started", "hop": 0, "attempt": attempt, "provider": "openai",
                            "model": "gpt-4o-mini", "request": request(attempt)}),
        ));
        v.push(ev(t + 2, json!({"event": "attempt_failed", "hop": 0, "attempt": attempt,
            "error": {"kind": "rate_limit", "message": "Rate limit reached for gpt-4o-mini in organization org-abc on requests per min (RPM): Limit 3, Used 3, Requested 1.",
                      "status": 429, "retry_after_ms": 0, "request_id": "req_8f2c6a0d5e4b4f3a"},
            "partial_output": "", "will_retry": true, "latency_ms": 2,
            "why": format!("rate_limit is in retry_on [any]; wait = no wait; next: attempt {} (no stop: retries forever)", attempt + 1),
            "response": {"url": "http://127.0.0.1:4000/v1/chat/completions", "status": 429,
                         "headers": [["content-type", "application/json"], ["retry-after", "0"], ["x-request-id", "req_8f2c6a0d5e4b4f3a"]],
                         "body": "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}"}})));
        v.push(ev(
            t + 2,
            json!({"event": "wait_started", "hop": 0, "attempt": attempt, "delay_ms": 0,
                                "strategy": "wait_none", "computed_ms": 0, "source": "backoff"}),
        ));
        v.push(ev(
            t + 2,
            json!({"event": "wait_finished", "hop": 0, "attempt": attempt}),
        ));
    }
    v
}

/// Feeds `events` in run-loop batches with a frame per batch; returns (RSS growth, time).
fn feed(name: &str, events: impl Iterator<Item = TimedEvent>, focus: PaneId) -> (u64, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let b = retrylab::scenario::builtin::find("basic-retry").unwrap();
    let mut config = AppConfig::isolated(dir.path());
    config.speed = Speed::Max;
    let start = Start::Scenario {
        text: b.source.to_string(),
        origin: Origin::Builtin(b.name.to_string()),
    };
    let mut pg = Playground::new(TestBackend::new(160, 48), config, start).unwrap();
    pg.draw().unwrap();
    pg.app.set_focus(focus);
    pg.app.begin_external_run();
    let mut events = events;
    let before = rss().unwrap_or(0);
    let started = Instant::now();
    let mut batch_times = Vec::new();
    loop {
        let batch: Vec<TimedEvent> = events.by_ref().take(BATCH).collect();
        if batch.is_empty() {
            break;
        }
        let t = Instant::now();
        pg.app.update(Message::Engine(batch));
        pg.draw().unwrap();
        batch_times.push(t.elapsed());
    }
    let took = started.elapsed();
    let first: Duration = batch_times.iter().take(10).sum();
    let last: Duration = batch_times.iter().rev().take(10).sum();
    eprintln!("memory [{name}]: the first 10 batches took {first:?}, the last 10 {last:?}");
    // Folding an event must not get slower as the run grows (no scans of every row).
    assert!(
        last < first * 4 + Duration::from_millis(50),
        "[{name}] the last batches took {last:?}, the first {first:?}: quadratic?"
    );
    let after = rss().unwrap_or(0);
    let grew = after.saturating_sub(before);
    let v = pg.app.run_view();
    eprintln!(
        "memory [{name}]: {} events -> {} rows, {} attempts; RSS {:.1} MB -> {:.1} MB (+{:.1} MB); {:?} ({:.1} us/event incl. a frame per {BATCH})",
        v.version,
        v.rows.len(),
        v.attempts.len(),
        before as f64 / 1e6,
        after as f64 / 1e6,
        grew as f64 / 1e6,
        took,
        took.as_secs_f64() * 1e6 / v.version as f64,
    );
    assert_eq!(v.version as usize, EVENTS, "every event applied");
    assert!(v.finished.is_some() || !v.attempts.is_empty());
    (grew, took)
}

#[test]
fn a_hundred_thousand_events_stay_under_fifty_megabytes() {
    let Some(_serial) = measuring() else { return };
    let (stream_growth, _) = feed("long stream", long_stream(), PaneId::Output);
    let before = rss().unwrap_or(0);
    let (mixed_growth, _) = feed(
        "streams and attempts",
        streams_and_attempts(),
        PaneId::Output,
    );
    let mixed_rss = before + mixed_growth;
    // DESIGN §9: the whole process under 50 MB with 100,000 events of this kind.
    assert!(
        mixed_rss < 50 << 20,
        "streams and attempts: RSS {mixed_rss} bytes"
    );
    let (retry_growth, retry_time) = feed("endless retries", endless_retries(), PaneId::Timeline);
    assert!(
        stream_growth < 50 << 20,
        "a long stream grew RSS by {stream_growth} bytes"
    );
    // Only the newest attempts keep their response (run_view::DETAIL_KEPT): 30 MB here.
    assert!(
        retry_growth < 40 << 20,
        "endless retries grew RSS by {retry_growth} bytes"
    );
    // 25,000 attempts must not cost quadratic time to fold (debug build, generous).
    assert!(retry_time < Duration::from_secs(30), "{retry_time:?}");
}

/// Appending stays linear: 4x the text costs about 4x, not 16x, with the wrap cache kept up
/// to date after every push (as a frame per delta would), on one ever-growing line and on
/// many short ones. The text is held once.
#[test]
fn the_output_buffer_grows_linearly() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    fn grow(pieces: usize, newline_every: usize) -> (Duration, OutputBuf) {
        let mut b = OutputBuf::new();
        let started = Instant::now();
        for i in 0..pieces {
            b.push(if i % newline_every == newline_every - 1 {
                "end\n"
            } else {
                "word "
            });
            b.ensure_wrapped(80);
        }
        (started.elapsed(), b)
    }
    for newline_every in [usize::MAX, 12] {
        let (small, _) = grow(20_000, newline_every);
        let (large, b) = grow(80_000, newline_every);
        let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-9);
        eprintln!(
            "output buffer (newline every {newline_every}): 20k pushes {small:?}, 80k pushes {large:?}, ratio {ratio:.1}; {} bytes, {} rows",
            b.len(),
            b.total_rows()
        );
        assert!(
            ratio < 10.0,
            "80k pushes took {ratio:.1}x 20k pushes: quadratic?"
        );
        assert_eq!(b.len(), b.as_str().len());
        let rows: usize = b
            .as_str()
            .lines()
            .map(|l| retrylab::tui::output_buf::wrap_line(l, 80).len())
            .sum();
        assert_eq!(b.total_rows(), rows.max(1));
    }
}

/// The policy lab keeps histograms, never per-call lists (DESIGN §12): 20,000 calls leave
/// RSS within a few MB of 1,000 calls.
#[test]
fn the_lab_stays_flat_in_the_number_of_calls() {
    use retrylab::lab::{Arrival, Cap, LabPlan, Policy, run_lab};
    let Some(_serial) = measuring() else { return };
    let src = "name = \"p\"\n[prompt]\ntemplate = \"hi\"\n[call]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\n[retry]\nstop = { after_attempt = 3 }\n[sim]\nreply = \"ok\"\nchaos = { server_error = 0.3 }\n";
    let scenario = std::sync::Arc::new(retrylab::scenario::load::parse(src, "test").unwrap());
    let lab = |calls: u64| {
        let plan = LabPlan {
            faults: scenario.sim.clone(),
            policies: vec![Policy {
                label: "p".into(),
                scenario: scenario.clone(),
            }],
            faults_origin: "test".into(),
            calls,
            seed: 1,
            callers: None,
            arrival: Arrival::Burst,
            cap: Cap::default(),
            config: std::sync::Arc::new(retrylab::config::Config::isolated()),
        };
        let r = run_lab(&plan, &|_| {}, &tokio_util::sync::CancellationToken::new());
        assert_eq!(r.policies[0].calls, calls);
        rss().unwrap_or(0)
    };
    let small = lab(1_000);
    let large = lab(20_000);
    eprintln!(
        "lab RSS: {:.1} MB after 1,000 calls, {:.1} MB after 20,000",
        small as f64 / 1e6,
        large as f64 / 1e6
    );
    assert!(
        large < small + (8 << 20),
        "RSS grew from {small} to {large} bytes"
    );
}
