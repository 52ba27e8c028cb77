//! The printed timeline, line by line.

use super::*;
use crate::config::HINT_SEP;
use crate::error::{CallError, ErrorKind};
use crate::event::{
    AttemptFailed, AttemptStarted, AttemptSucceeded, Delta, Event, Outcome, RunFinished,
    TimedEvent, WaitSource, WaitStarted,
};

fn ev(t_ms: u64, event: Event) -> TimedEvent {
    TimedEvent { t_ms, event }
}

/// Counts flushes, keeps what is written.
#[derive(Default)]
struct Flushes {
    out: Vec<u8>,
    flushes: usize,
}

impl Write for Flushes {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.out.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.flushes += 1;
        Ok(())
    }
}

#[test]
fn streamed_text_is_never_flushed_per_delta_and_control_characters_still_go() {
    let mut p = Printer::new(Flushes::default(), Style::new(false));
    let delta = |text: &str| {
        ev(
            5,
            Event::Delta(Delta {
                hop: 0,
                attempt: 1,
                text: text.into(),
            }),
        )
    };
    for _ in 0..1000 {
        p.on_event(&delta(" word")).unwrap();
    }
    p.on_event(&delta("a\nb\tc\u{1b}[2J")).unwrap();
    let w = p.into_inner();
    assert_eq!(w.flushes, 0, "the caller flushes, once the queue is empty");
    let text = String::from_utf8(w.out).unwrap();
    assert_eq!(
        text,
        format!(
            "{}» {}a b c\u{fffd}[2J",
            " ".repeat(11),
            " word".repeat(1000)
        )
    );
}

#[test]
fn prints_a_readable_plain_timeline() {
    let mut p = Printer::new(Vec::new(), Style::new(false));
    let events = vec![
        ev(
            0,
            Event::AttemptStarted(AttemptStarted {
                hop: 0,
                attempt: 1,
                provider: "openai".into(),
                model: "gpt-4o-mini".into(),
                request: serde_json::json!({}),
                prompt: None,
                url: String::new(),
                headers: vec![],
                deadline_clip: None,
            }),
        ),
        ev(
            5,
            Event::AttemptFailed(AttemptFailed {
                hop: 0,
                attempt: 1,
                error: CallError::new(ErrorKind::RateLimit, "slow down").with_status(429),
                partial_output: String::new(),
                will_retry: true,
                latency_ms: 5,
                why: "rate_limit is in retry_on".into(),
                fallback_why: String::new(),
                response: None,
                cost_usd: Some(0.0),
                cost_estimated: false,
            }),
        ),
        ev(
            5,
            Event::WaitStarted(WaitStarted {
                hop: 0,
                attempt: 1,
                delay_ms: 4000,
                strategy: "wait_exponential(multiplier=1)".into(),
                retry_after_ms: Some(1000),
                computed_ms: 4000,
                source: WaitSource::Backoff,
                clipped_from_ms: None,
                retry_after_jitter_ms: None,
            }),
        ),
        ev(
            4005,
            Event::Delta(Delta {
                hop: 0,
                attempt: 2,
                text: "Hel".into(),
            }),
        ),
        ev(
            4006,
            Event::Delta(Delta {
                hop: 0,
                attempt: 2,
                text: "lo".into(),
            }),
        ),
        ev(
            4010,
            Event::RunFinished(RunFinished {
                outcome: Outcome::Ok,
                content: Some("Hello".into()),
                error: None,
                caught: vec![],
                total_cost_usd: Some(0.0000123),
                total_cost_estimated: true,
                degraded: false,
            }),
        ),
    ];
    for e in &events {
        p.on_event(e).unwrap();
    }
    let out = String::from_utf8(p.into_inner()).unwrap();
    assert!(
        out.contains("primary · attempt 1 → openai/gpt-4o-mini"),
        "{out}"
    );
    assert!(
        out.contains("✗ rate_limit (429): slow down  after 5 ms, $0, will retry"),
        "{out}"
    );
    assert!(
        out.contains(
            "■ ok in 4.01 s\n           cost ~$0.000012 for every attempt (partly estimated"
        ),
        "{out}"
    );
    assert!(out.contains("why: rate_limit is in retry_on"), "{out}");
    assert!(out.contains("⏳ wait 4 s"), "{out}");
    assert!(out.contains("Retry-After 1 s was shorter"), "{out}");
    assert!(out.contains("» Hello\n"), "{out}");
    assert!(out.contains("■ ok in 4.01 s"), "{out}");
    assert!(!out.contains('\x1b'), "no colour codes when colour is off");
}

#[test]
fn costs_and_fixes_are_shown() {
    let mut p = Printer::new(Vec::new(), Style::new(false));
    let auth = CallError::new(
        ErrorKind::Auth,
        format!("Incorrect API key provided{HINT_SEP}check OPENAI_API_KEY"),
    )
    .with_status(401);
    let events = [
        ev(
            1,
            Event::AttemptFailed(AttemptFailed {
                hop: 0,
                attempt: 1,
                error: auth.clone(),
                partial_output: String::new(),
                will_retry: false,
                latency_ms: 1,
                why: String::new(),
                fallback_why: String::new(),
                response: None,
                cost_usd: None,
                cost_estimated: false,
            }),
        ),
        ev(
            2,
            Event::AttemptSucceeded(AttemptSucceeded {
                hop: 1,
                attempt: 1,
                content: "42".into(),
                usage: crate::event::Usage {
                    input_tokens: 24,
                    output_tokens: 9,
                },
                latency_ms: 1,
                tool_calls: vec![],
                response: None,
                cost_usd: Some(0.000009),
                cost_estimated: false,
            }),
        ),
        ev(
            3,
            Event::RunFinished(RunFinished {
                outcome: Outcome::Error,
                content: None,
                error: Some(CallError::retry_error(1, auth)),
                caught: vec![],
                total_cost_usd: Some(0.000009),
                total_cost_estimated: false,
                degraded: false,
            }),
        ),
    ];
    for e in &events {
        p.on_event(e).unwrap();
    }
    let out = String::from_utf8(p.into_inner()).unwrap();
    assert!(
        out.contains("✗ auth (401): Incorrect API key provided  after 1 ms, no retry\n"),
        "{out}"
    );
    assert!(out.contains("      fix: check OPENAI_API_KEY\n"), "{out}");
    assert!(out.contains("24 in / 9 out tokens, $0.000009"), "{out}");
    assert!(
        out.contains("last error: auth (401): Incorrect API key provided\n"),
        "{out}"
    );
    assert!(
        out.contains("  fix: check OPENAI_API_KEY\n           cost $0.000009 for every attempt\n"),
        "{out}"
    );
    assert_eq!(out.matches("fix:").count(), 2, "{out}");
}

/// A hint in its own field prints exactly as one glued into the message (older traces).
#[test]
fn a_hint_field_prints_as_a_glued_hint_did() {
    let print = |auth: CallError| {
        let mut p = Printer::new(Vec::new(), Style::new(false));
        let failed = Event::AttemptFailed(AttemptFailed {
            hop: 0,
            attempt: 1,
            error: auth.clone(),
            partial_output: String::new(),
            will_retry: false,
            latency_ms: 1,
            why: String::new(),
            fallback_why: String::new(),
            response: None,
            cost_usd: None,
            cost_estimated: false,
        });
        let finished = Event::RunFinished(RunFinished {
            outcome: Outcome::Error,
            content: None,
            error: Some(CallError::retry_error(1, auth.clone())),
            caught: vec![CallError::retry_error(1, auth)],
            total_cost_usd: None,
            total_cost_estimated: false,
            degraded: false,
        });
        p.on_event(&ev(1, failed)).unwrap();
        p.on_event(&ev(2, finished)).unwrap();
        String::from_utf8(p.into_inner()).unwrap()
    };
    let glued = CallError::new(
        ErrorKind::Auth,
        format!("Incorrect API key provided{HINT_SEP}check OPENAI_API_KEY"),
    )
    .with_status(401);
    let own = CallError::new(ErrorKind::Auth, "Incorrect API key provided")
        .with_status(401)
        .with_hint(Some("check OPENAI_API_KEY".into()));
    let out = print(own);
    assert_eq!(out, print(glued));
    assert_eq!(out.matches("fix: check OPENAI_API_KEY").count(), 3, "{out}");
}

/// A wait cut short has its own line, saying how much of it passed; one that ran in full
/// has none (the next attempt says it ended).
#[test]
fn a_wait_cut_short_says_how_long_it_lasted() {
    use crate::tui::run_view::fixtures;
    let print = |events: Vec<TimedEvent>| {
        let mut p = Printer::new(Vec::new(), Style::new(false));
        for e in &events {
            p.on_event(e).unwrap();
        }
        String::from_utf8(p.into_inner()).unwrap()
    };
    let out = print(fixtures::skipped_wait());
    assert!(
        out.contains("   1.212s    ⏭ wait skipped after 1.2 s of 4 s\n"),
        "{out}"
    );
    let out = print(fixtures::cancelled_wait(true));
    assert!(
        out.contains(
            "   1.362s    ⏹ wait cancelled after 1.35 s of 4 s\n   1.362s  ■ cancelled after 1.362 s"
        ),
        "{out}"
    );
    // A trace without the cancelled wait_finished reads the same.
    assert_eq!(print(fixtures::cancelled_wait(false)), out);
    let out = print(fixtures::full_fallback());
    assert!(!out.contains("⏭") && !out.contains("⏹"), "{out}");
}

/// The run's last lines say why no fallback hop was tried (and the attempt why no retry).
#[test]
fn an_error_outside_the_catch_says_no_fallback_hop_was_tried() {
    let mut p = Printer::new(Vec::new(), Style::new(false));
    for e in &crate::tui::run_view::fixtures::no_fallback_tried() {
        p.on_event(e).unwrap();
    }
    let out = String::from_utf8(p.into_inner()).unwrap();
    assert!(
        out.contains(
            "why: server_error is not in retry_on [rate_limit]: re-raised as is, no retry\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(concat!(
            "■ error in 9 ms: server_error (500): The server had an error\n",
            "           why: server_error is not in [fallback].catch [retry_error]: no fallback hop was tried\n"
        )),
        "{out}"
    );
    assert_eq!(
        out.matches("fallback: server_error is not in").count(),
        1,
        "{out}"
    );
}
