//! The readable timeline `retrylab run` prints (and `replay --print`): a function of the
//! event stream only, one [`Observer`] method per event kind.
//!
//! - `style.rs`: ANSI colours, or none; `text.rs`: the pieces of a line.

mod sdk;
mod style;
mod text;

pub use style::Style;

use crate::cost::format_usd;
use crate::event::{
    AttemptFailed, AttemptStarted, AttemptSucceeded, BreakerChanged, BreakerTo, BudgetDecided,
    Delta, ErrorReinserted, Event, FallbackHop, LimitReached, Observer, Outcome, ResultRejected,
    RetryExhausted, RunFinished, RunStarted, SdkRetry, SharedState, StreamResumed, TimedEvent,
    ToolCall, WaitEnd, WaitFinished, WaitStarted, dispatch,
};
use crate::policy::duration::format_secs;
use crate::words::{self, WaitWords};
use std::fmt;
use std::io::Write;
use text::{PAD, cost_text, error_text, final_fix, fix_of, one_line, safe, stamp};

/// Prints events as a timeline, one step per line; streamed text appears as it arrives.
pub struct Printer<W: Write> {
    out: W,
    style: Style,
    /// Inside a line of streamed text.
    streaming: bool,
    /// The first write that failed while printing the current event.
    failed: Option<std::io::Error>,
    /// The wait in progress (its start and delay), to say how much of it a cut wait lasted.
    wait: Option<(u64, u64)>,
    /// The newest failed attempt's `why` and `fallback_why`, for the run's ending.
    last_why: Option<(String, String)>,
}

fn secs(ms: u64) -> String {
    format_secs(ms as f64 / 1000.0)
}

impl<W: Write> Printer<W> {
    pub fn new(out: W, style: Style) -> Printer<W> {
        Printer {
            out,
            style,
            streaming: false,
            failed: None,
            wait: None,
            last_why: None,
        }
    }

    pub fn out_mut(&mut self) -> &mut W {
        &mut self.out
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    /// Writes what is buffered. The printer never flushes on its own: the caller flushes when
    /// no event is queued, so a fast stream goes out in large writes.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    /// Prints one event; the first write error stops it and is returned.
    pub fn on_event(&mut self, ev: &TimedEvent) -> std::io::Result<()> {
        dispatch(self, ev);
        self.failed.take().map_or(Ok(()), Err)
    }

    /// Writes unless a write of this event failed already; keeps the first error.
    fn write(&mut self, args: fmt::Arguments<'_>) {
        if self.failed.is_none()
            && let Err(e) = self.out.write_fmt(args)
        {
            self.failed = Some(e);
        }
    }

    /// One line.
    fn line(&mut self, args: fmt::Arguments<'_>) {
        self.write(format_args!("{args}\n"));
    }

    /// The muted time stamp that starts a line.
    fn stamp(&self, t_ms: u64) -> String {
        self.style.muted(&stamp(t_ms))
    }

    fn end_stream(&mut self) {
        if self.streaming {
            self.streaming = false;
            self.line(format_args!(""));
        }
    }

    /// The indented lines under a failed attempt: what to fix, partial output, why.
    fn failure_notes(&mut self, e: &AttemptFailed) {
        let st = self.style;
        if let Some(fix) = fix_of(&e.error) {
            self.line(format_args!("{PAD}      fix: {fix}"));
        }
        if !e.partial_output.is_empty() {
            let partial = st.muted(&one_line(&e.partial_output, 80));
            self.line(format_args!("{PAD}      partial: {partial}"));
        }
        if !e.why.is_empty() {
            self.line(format_args!("{PAD}      why: {}", st.muted(&safe(&e.why))));
        }
        if !e.fallback_why.is_empty() {
            let then = st.muted(&safe(&e.fallback_why));
            self.line(format_args!("{PAD}      fallback: {then}"));
        }
    }

    /// `⏭ wait skipped after 1.2 s of 4 s` / `⏹ wait cancelled after 1.35 s of 4 s`.
    fn wait_cut(&mut self, t_ms: u64, ended: WaitEnd, waited_ms: Option<u64>, delay_ms: u64) {
        let t = self.stamp(t_ms);
        let mark = if ended == WaitEnd::Skipped {
            "⏭"
        } else {
            "⏹"
        };
        let text = words::wait_end(ended, waited_ms, delay_ms);
        let word = self.style.wait(&format!("{mark} wait {text}"));
        self.line(format_args!("{t}    {word}"));
    }

    /// `run_finished` with `ok`: the cost, what was caught on the way, the answer.
    fn finished_ok(&mut self, t: &str, total: &str, e: &RunFinished, cost: Option<&str>) {
        let degraded = if e.degraded {
            self.style
                .muted(" (degraded: a [limits] limit was reached)")
        } else {
            String::new()
        };
        self.line(format_args!(
            "{t}  {} in {total}{degraded}",
            self.style.ok("■ ok")
        ));
        if let Some(c) = cost {
            self.line(format_args!("{PAD}  {c}"));
        }
        if !e.caught.is_empty() {
            let kinds: Vec<String> = e.caught.iter().map(|c| c.kind.to_string()).collect();
            self.line(format_args!(
                "{PAD}  caught on the way: {}",
                kinds.join(", ")
            ));
        }
        if let Some(c) = &e.content {
            self.line(format_args!("\n{}", safe(c)));
        }
    }

    /// `run_finished` with `error`: the error and what to fix, the cost, each caught error.
    fn finished_error(&mut self, t: &str, total: &str, e: &RunFinished, cost: Option<&str>) {
        let text = e.error.as_ref().map(error_text).unwrap_or_default();
        let word = self.style.err("■ error");
        self.line(format_args!("{t}  {word} in {total}: {text}"));
        if let Some(fix) = e.error.as_ref().and_then(final_fix) {
            self.line(format_args!("{PAD}  fix: {fix}"));
        }
        let why = match (&e.error, &self.last_why) {
            (Some(err), Some((why, fallback))) => words::why_run_ended(err.kind, why, fallback),
            _ => String::new(),
        };
        if !why.is_empty() {
            let why = self.style.muted(&safe(&why));
            self.line(format_args!("{PAD}  why: {why}"));
        }
        if let Some(c) = cost {
            self.line(format_args!("{PAD}  {c}"));
        }
        for (i, c) in e.caught.iter().enumerate() {
            self.line(format_args!("{PAD}  caught {}: {}", i + 1, error_text(c)));
            if let Some(fix) = final_fix(c) {
                self.line(format_args!("{PAD}    fix: {fix}"));
            }
        }
    }
}

impl<W: Write> Observer for Printer<W> {
    fn any_event(&mut self, _t_ms: u64, event: &Event) {
        if !matches!(event, Event::Delta(_)) {
            self.end_stream();
        }
    }

    fn run_started(&mut self, t_ms: u64, e: &RunStarted) {
        let (t, st) = (self.stamp(t_ms), self.style);
        let (mark, name) = (st.bold("▶"), st.bold(&e.scenario));
        let mode = e.mode.label();
        self.line(format_args!(
            "{t}  {mark} {name}  ({mode}, speed {})",
            e.speed
        ));
    }

    fn attempt_started(&mut self, t_ms: u64, e: &AttemptStarted) {
        let t = self.stamp(t_ms);
        let (hop, attempt) = (words::hop_label(e.hop), e.attempt);
        let clip = e.deadline_clip.map_or_else(String::new, |c| {
            let text = format!("  (timeout {})", words::clipped(c.from_ms, c.to_ms));
            self.style.muted(&text)
        });
        self.line(format_args!(
            "{t}  {hop} · attempt {attempt} → {}/{}{clip}",
            e.provider, e.model
        ));
    }

    /// Streamed text, as is when nothing in it needs replacing (the common case: no
    /// allocation, no timestamp).
    fn delta(&mut self, _t_ms: u64, e: &Delta) {
        if !self.streaming {
            let mark = self.style.muted("» ");
            self.write(format_args!("{PAD}  {mark}"));
            self.streaming = true;
        }
        if e.text.chars().any(char::is_control) {
            self.write(format_args!("{}", safe(&e.text.replace('\n', " "))));
        } else if self.failed.is_none()
            && let Err(err) = self.out.write_all(e.text.as_bytes())
        {
            self.failed = Some(err);
        }
    }

    fn tool_call(&mut self, t_ms: u64, e: &ToolCall) {
        let t = self.stamp(t_ms);
        let (args, result) = (one_line(&e.args, 60), one_line(&e.result, 60));
        self.line(format_args!("{t}    ⚙ {}({args}) = {result}", e.name));
    }

    fn attempt_failed(&mut self, t_ms: u64, e: &AttemptFailed) {
        let (t, st) = (self.stamp(t_ms), self.style);
        let next = if e.will_retry {
            "will retry"
        } else {
            "no retry"
        };
        let after = st.muted(&format!(
            "after {}{}, {next}",
            secs(e.latency_ms),
            cost_text(e.cost_usd, e.cost_estimated)
        ));
        let (mark, error) = (st.err("✗"), st.err(&error_text(&e.error)));
        self.line(format_args!("{t}    {mark} {error}  {after}"));
        self.failure_notes(e);
        self.last_why = Some((e.why.clone(), e.fallback_why.clone()));
    }

    fn error_reinserted(&mut self, t_ms: u64, e: &ErrorReinserted) {
        let t = self.stamp(t_ms);
        let last = e.errors.last().map(|x| one_line(x, 80)).unwrap_or_default();
        let word = self.style.reinsert("↻ error reinserted");
        self.line(format_args!(
            "{t}    {word} into attempt {} ({} so far): {last}",
            e.attempt,
            e.errors.len()
        ));
    }

    /// `↻ continued: 17 characters sent back as the start of the reply`.
    fn stream_resumed(&mut self, t_ms: u64, e: &StreamResumed) {
        let t = self.stamp(t_ms);
        let word = self.style.reinsert("↻ continued");
        self.line(format_args!(
            "{t}    {word}: {} characters sent back as the start of the reply",
            e.replayed_chars
        ));
    }

    fn wait_started(&mut self, t_ms: u64, e: &WaitStarted) {
        let (t, st) = (self.stamp(t_ms), self.style);
        self.wait = Some((t_ms, e.delay_ms));
        let mut from = WaitWords::from(e).origin();
        if let Some(c) = e.clipped_from_ms {
            from = format!("{from}; {}", words::clipped(c, e.delay_ms));
        }
        let (word, delay) = (st.wait("⏳ wait"), st.wait(&secs(e.delay_ms)));
        let from = st.muted(&format!("({from})"));
        self.line(format_args!("{t}    {word} {delay}  {from}"));
    }

    /// Only a wait cut short has a line: `⏭ wait skipped after 1.2 s of 4 s`.
    fn wait_finished(&mut self, t_ms: u64, e: &WaitFinished) {
        let Some((_, delay_ms)) = self.wait.take() else {
            return;
        };
        if !e.ended.is_elapsed() {
            self.wait_cut(t_ms, e.ended, e.waited_ms, delay_ms);
        }
    }

    /// `↳ sdk retry 1: 500 server_error, wait 0.42 s (backoff), $0`: nested under its
    /// attempt, like the TUI's row.
    fn sdk_retry(&mut self, t_ms: u64, e: &SdkRetry) {
        let (t, st) = (self.stamp(t_ms), self.style);
        let text = sdk::retry_text(e);
        let word = st.muted(&sdk::retry_note(e));
        self.line(format_args!("{t}      {text}{word}"));
    }

    fn retry_exhausted(&mut self, t_ms: u64, e: &RetryExhausted) {
        let t = self.stamp(t_ms);
        let word = self.style.err("retry_error");
        let last = error_text(&e.last_error);
        let attempts = e.attempts;
        self.line(format_args!(
            "{t}    {word} after {attempts} attempt(s); last: {last}"
        ));
    }

    fn shared_state(&mut self, t_ms: u64, e: &SharedState) {
        let t = self.stamp(t_ms);
        let text = self.style.muted(&words::shared_state(e));
        self.line(format_args!("{t}  {text}"));
    }

    fn breaker_changed(&mut self, t_ms: u64, to: BreakerTo, e: &BreakerChanged) {
        let t = self.stamp(t_ms);
        let text = words::breaker_changed(to, e);
        let text = match to {
            BreakerTo::Open => self.style.err(&format!("⚡ {text}")),
            BreakerTo::HalfOpen => self.style.wait(&format!("◐ {text}")),
            BreakerTo::Closed => self.style.ok(&format!("● {text}")),
        };
        self.line(format_args!("{t}    {text}"));
    }

    fn budget_decided(&mut self, t_ms: u64, denied: bool, e: &BudgetDecided) {
        let t = self.stamp(t_ms);
        let text = words::budget_decided(denied, e.tokens);
        let text = if denied {
            self.style.err(&text)
        } else {
            self.style.muted(&text)
        };
        self.line(format_args!("{t}    {text}"));
    }

    fn fallback_hop(&mut self, t_ms: u64, e: &FallbackHop) {
        let t = self.stamp(t_ms);
        let word = self.style.hop("↪ fallback");
        let (from, to) = (&e.from, &e.to);
        self.line(format_args!(
            "{t}  {word} {}/{} → {}/{} (hop {}), caught {}",
            from.provider, from.model, to.provider, to.model, e.hop, e.caught.kind
        ));
    }

    fn attempt_succeeded(&mut self, t_ms: u64, e: &AttemptSucceeded) {
        let (t, st) = (self.stamp(t_ms), self.style);
        let took = st.muted(&format!(
            "in {}, {} in / {} out tokens{}",
            secs(e.latency_ms),
            e.usage.input_tokens,
            e.usage.output_tokens,
            cost_text(e.cost_usd, e.cost_estimated)
        ));
        let (mark, content) = (st.ok("✓"), one_line(&e.content, 100));
        self.line(format_args!("{t}    {mark} {content}  {took}"));
    }

    fn limit_reached(&mut self, t_ms: u64, e: &LimitReached) {
        let t = self.stamp(t_ms);
        let word = self.style.err("⊘ limit reached");
        self.line(format_args!("{t}  {word}: {}", safe(&e.why)));
        // The run ends because of it, not of the last attempt's decision.
        self.last_why = Some((e.why.clone(), String::new()));
    }

    fn result_rejected(&mut self, t_ms: u64, e: &ResultRejected) {
        let t = self.stamp(t_ms);
        let word = self.style.err(&format!("⊘ {} rejected", e.result));
        let why = self.style.muted(&safe(&e.why));
        self.line(format_args!("{t}    {word}  {why}"));
    }

    fn run_finished(&mut self, t_ms: u64, e: &RunFinished) {
        let (t, st) = (self.stamp(t_ms), self.style);
        let total = secs(t_ms);
        let cost = e.total_cost_usd.map(|usd| {
            let (mark, note) = if e.total_cost_estimated {
                ("~", " (partly estimated at ≈ 4 characters a token)")
            } else {
                ("", "")
            };
            st.muted(&format!(
                "cost {mark}{} for every attempt{note}",
                format_usd(usd)
            ))
        });
        match e.outcome {
            Outcome::Ok => self.finished_ok(&t, &total, e, cost.as_deref()),
            Outcome::Error => self.finished_error(&t, &total, e, cost.as_deref()),
            Outcome::Cancelled => {
                // A trace from before cancelled waits said so: the run's end tells how far.
                if let Some((start, delay_ms)) = self.wait.take() {
                    let waited = t_ms.saturating_sub(start).min(delay_ms);
                    self.wait_cut(t_ms, WaitEnd::Cancelled, Some(waited), delay_ms);
                }
                let word = st.wait("■ cancelled");
                self.line(format_args!("{t}  {word} after {total}"));
                if let Some(c) = &cost {
                    self.line(format_args!("{PAD}  {c}"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
