//! The Inspector's lines for the rows that are not attempts: a wait, reinserted errors,
//! exhausted retries, a fallback hop, the outcome; and an error's detail.

use super::{BODY_LINES, cost_text, cut_lines, field, heading, ms};
use crate::error::CallError;
use crate::event::{Outcome, Target};
use crate::tui::run_view::{RunView, WaitView};
use crate::tui::theme::{Meaning, Theme};
use crate::words;
use ratatui::text::{Line, Span};

pub(super) fn wait(run: &RunView, w: &WaitView, theme: &Theme, out: &mut Vec<Line<'static>>) {
    let text = theme.style(Meaning::Text);
    let title = format!("Wait after attempt #{} failed", w.attempt);
    out.push(heading(&title, theme));
    out.push(field(
        "wait",
        ms(w.delay_ms),
        theme,
        theme.style(Meaning::Wait),
    ));
    out.push(field("strategy", w.strategy.clone(), theme, text));
    out.push(field("formula", ms(w.computed_ms), theme, text));
    let retry_after = w.retry_after_ms.map_or("none sent".into(), ms);
    out.push(field("retry-after", retry_after, theme, text));
    if let Some(j) = w.jitter_ms {
        out.push(field(
            "jitter",
            format!("+ {} (retry_after_jitter)", ms(j)),
            theme,
            text,
        ));
    }
    out.push(field("set by", w.words().set_by().to_string(), theme, text));
    if let Some(from) = w.clipped_from_ms {
        let clip = format!("wait {}", words::clipped(from, w.delay_ms));
        out.push(field("clipped", clip, theme, theme.style(Meaning::Warning)));
    }
    let window = format!("{} → {}", ms(w.start_t), ms(w.ended_t()));
    out.push(field("window", window, theme, text));
    if w.finished && !w.ended.is_elapsed() {
        let ended = theme.style(Meaning::Warning);
        out.push(field("ended", w.end_text(), theme, ended));
    }
    let why = run
        .attempt_index(w.hop, w.attempt)
        .map(|a| &run.attempts[a].why)
        .filter(|why| !why.is_empty());
    if let Some(why) = why {
        out.push(Line::default());
        out.push(field(
            "why",
            why.clone(),
            theme,
            theme.style(Meaning::Warning),
        ));
    }
}

pub(super) fn reinserted(
    attempt: u32,
    errors: &[String],
    theme: &Theme,
    out: &mut Vec<Line<'static>>,
) {
    let title = format!("Errors reinserted into attempt #{attempt}");
    out.push(heading(&title, theme));
    out.push(Line::from(Span::styled(
        "The template is rendered with `errors` = these texts:",
        theme.style(Meaning::Muted),
    )));
    for (n, e) in errors.iter().enumerate() {
        out.push(Line::from(vec![
            Span::styled(format!("{:>2}. ", n + 1), theme.style(Meaning::Muted)),
            Span::styled(e.clone(), theme.style(Meaning::ReinsertedText)),
        ]));
    }
}

pub(super) fn exhausted(
    hop: u32,
    attempts: u32,
    last_error: &CallError,
    theme: &Theme,
    out: &mut Vec<Line<'static>>,
) {
    let title = format!(
        "{}: retries exhausted after {attempts} attempts",
        words::hop_label(hop)
    );
    out.push(heading(&title, theme));
    out.push(Line::from(Span::styled(
        words::WHY_EXHAUSTED,
        theme.style(Meaning::Muted),
    )));
    error_lines("last", last_error, theme, out);
}

/// A breaker's change or a denied retry: what happened, why, and what it means.
pub(super) fn across(
    a: &crate::tui::run_view::AcrossRow,
    theme: &Theme,
    out: &mut Vec<Line<'static>>,
) {
    let text = theme.style(Meaning::Text);
    let (title, meaning) = match a.breaker {
        Some(to) => (
            format!("Circuit breaker {}", to.label()),
            match to {
                crate::event::BreakerTo::Open => words::CIRCUIT_OPEN,
                _ => {
                    "a half-open breaker lets [breaker].half_open_probes attempts through: each must succeed to close it, one failure opens it again"
                }
            },
        ),
        None => (
            "Retry budget: retry denied".to_string(),
            words::BUDGET_EXHAUSTED,
        ),
    };
    out.push(heading(&title, theme));
    out.push(field("what", a.text.clone(), theme, text));
    let at = format!("{} attempt {}", words::hop_label(a.hop), a.attempt);
    out.push(field("at", at, theme, text));
    if a.breaker.is_some() {
        out.push(field("why", a.why.clone(), theme, text));
    }
    out.push(Line::from(Span::styled(
        meaning.to_string(),
        theme.style(Meaning::Muted),
    )));
    out.push(Line::from(Span::styled(
        "shared by every call of this policy in the lab and load mode; a single run starts closed and full",
        theme.style(Meaning::Muted),
    )));
}

pub(super) fn fallback(
    hop: u32,
    (from, to): (&Target, &Target),
    (caught, why): (&CallError, &str),
    theme: &Theme,
    out: &mut Vec<Line<'static>>,
) {
    let text = theme.style(Meaning::Text);
    out.push(heading(&format!("Fallback to hop {hop}"), theme));
    let from = format!("{}/{}", from.provider, from.model);
    out.push(field("from", from, theme, text));
    let to = format!("{}/{}", to.provider, to.model);
    out.push(field("to", to, theme, theme.style(Meaning::Fallback)));
    // The policy's own words; a trace from before they were written has the general ones.
    let why = if why.is_empty() {
        words::why_fallback(caught.kind)
    } else {
        why.to_string()
    };
    out.push(field("why", why, theme, theme.style(Meaning::Warning)));
    error_lines("caught", caught, theme, out);
}

pub(super) fn rejected(
    (hop, attempt): (u32, u32),
    result: &str,
    why: &str,
    theme: &Theme,
    out: &mut Vec<Line<'static>>,
) {
    let title = format!(
        "{} attempt #{attempt}: the reply is rejected ({result})",
        words::hop_label(hop)
    );
    out.push(heading(&title, theme));
    out.push(Line::from(Span::styled(
        "[fallback].on_result rejects this 200 reply: no retry of the same model.",
        theme.style(Meaning::Muted),
    )));
    out.push(field(
        "why",
        why.to_string(),
        theme,
        theme.style(Meaning::Warning),
    ));
}

pub(super) fn limit(limit: &str, why: &str, theme: &Theme, out: &mut Vec<Line<'static>>) {
    out.push(heading(&format!("Limit reached: [limits].{limit}"), theme));
    out.push(Line::from(Span::styled(
        "Counted across every retry and hop of the call; nothing more is sent.",
        theme.style(Meaning::Muted),
    )));
    out.push(field(
        "why",
        why.to_string(),
        theme,
        theme.style(Meaning::Warning),
    ));
}

pub(super) fn outcome(run: &RunView, theme: &Theme, out: &mut Vec<Line<'static>>) {
    let Some(f) = &run.finished else {
        return;
    };
    let text = theme.style(Meaning::Text);
    let (word, style) = match f.outcome {
        Outcome::Ok => ("ok", theme.style(Meaning::Success)),
        Outcome::Error => ("error", theme.style(Meaning::Error)),
        Outcome::Cancelled => ("cancelled", theme.style(Meaning::Warning)),
    };
    out.push(heading("Outcome", theme));
    out.push(field("result", word.to_string(), theme, style));
    if f.degraded {
        let note = "degraded: a [limits] limit was reached, on_exhausted answered".to_string();
        out.push(field(
            "answer is",
            note,
            theme,
            theme.style(Meaning::Warning),
        ));
    }
    let warn = theme.style(Meaning::Warning);
    if !f.why.is_empty() {
        out.push(field("why", f.why.clone(), theme, warn));
    }
    if !f.fallback_why.is_empty() {
        out.push(field("fallback", f.fallback_why.clone(), theme, warn));
    }
    out.push(field("took", ms(f.t_ms), theme, text));
    if let Some(c) = f.total_cost_usd {
        let cost = format!(
            "{} for every attempt, failed ones included",
            cost_text(c, f.total_cost_estimated)
        );
        out.push(field("cost", cost, theme, text));
    }
    let attempts = run.attempts.len().to_string();
    out.push(field("attempts", attempts, theme, text));
    if let Some(c) = &f.content {
        out.push(field("answer", String::new(), theme, text));
        cut_lines(c, BODY_LINES, text, theme, out);
    }
    if let Some(e) = &f.error {
        error_lines("error", e, theme, out);
    }
    for (n, e) in f.caught.iter().enumerate() {
        error_lines(&format!("caught {}", n + 1), e, theme, out);
    }
}

/// An error as shown (its fix hint included) and its provider detail.
pub(super) fn error_lines(name: &str, e: &CallError, theme: &Theme, out: &mut Vec<Line<'static>>) {
    let err = theme.style(Meaning::Error);
    out.push(field(name, e.summary(), theme, err));
    let muted = theme.style(Meaning::Muted);
    if let Some(t) = &e.provider_type {
        out.push(field("  type", t.clone(), theme, muted));
    }
    if let Some(r) = e.retry_after_ms {
        out.push(field("  retry-after", ms(r), theme, muted));
    }
    if let Some(r) = &e.request_id {
        out.push(field("  req id", r.clone(), theme, muted));
    }
    if let Some(t) = &e.timeout {
        out.push(field("  timeout", t.clone(), theme, muted));
    }
    if let Some(last) = &e.last_error {
        out.push(field("  last", last.summary(), theme, muted));
    }
    for inner in &e.errors {
        out.push(field("  -", inner.summary(), theme, muted));
    }
}
