//! The nested row of a request the SDK retried inside its attempt:
//! `↳ sdk retry 1: 500 server_error, wait ▕███░▏ 0.3 s left of 0.42 s (backoff)`, the bar
//! draining like a hop wait's; once over, `wait 420 ms (backoff)`. A narrow pane gets a
//! shorter form (`↳ sdk #2 429 ▕██░▏ 0.9 s left`) before anything is cut.

use super::{Ctx, drain_bar, fit_spans, spans_width};
use crate::policy::duration::format_secs;
use crate::tui::run_view::{RunView, SdkRetryView};
use crate::tui::theme::{Meaning, Theme};
use crate::words;
use ratatui::text::{Line, Span};

/// The SDK's waits are short (≤ 8 s of back-off): a shorter bar than a hop wait's.
const BAR_CELLS: usize = 6;

fn secs(ms: u64) -> String {
    format_secs(ms as f64 / 1000.0)
}

/// How much a form of the row says.
#[derive(Clone, Copy)]
struct Form {
    /// `sdk retry 2: 429 rate_limit, wait` rather than `sdk #2 429`.
    long: bool,
    kind: bool,
    bar: bool,
    /// `0.9 s left of 1.5 s` rather than `0.9 s left`.
    of: bool,
}

const FORMS: [Form; 5] = [
    Form {
        long: true,
        kind: true,
        bar: true,
        of: true,
    },
    Form {
        long: true,
        kind: false,
        bar: true,
        of: false,
    },
    // Narrow: the bar goes before the words do.
    Form {
        long: false,
        kind: false,
        bar: true,
        of: false,
    },
    Form {
        long: true,
        kind: false,
        bar: false,
        of: false,
    },
    Form {
        long: false,
        kind: false,
        bar: false,
        of: false,
    },
];

pub(super) fn sdk_retry_line(
    run: &RunView,
    r: &SdkRetryView,
    ctx: &Ctx,
    width: usize,
) -> Line<'static> {
    // The first form that fits whole; during the wait the countdown matters most, so the
    // first whose countdown fits (the source in parentheses then cut).
    let forms = FORMS.map(|f| spans_of(run, r, ctx, f));
    let whole = |s: &Vec<Span<'static>>| spans_width(s) <= width;
    let body = |s: &Vec<Span<'static>>| spans_width(&s[..s.len() - 1]) <= width;
    let running = r.ended(run, ctx.run_now_ms).is_none();
    let pick = if running {
        forms.iter().position(body)
    } else {
        forms
            .iter()
            .position(whole)
            .or_else(|| forms.iter().position(body))
    };
    let [.., last] = &forms;
    let spans = pick.map_or_else(|| last.clone(), |i| forms[i].clone());
    fit_spans(spans, width)
}

fn spans_of(run: &RunView, r: &SdkRetryView, ctx: &Ctx, f: Form) -> Vec<Span<'static>> {
    let theme: &Theme = ctx.theme;
    let leg = if r.leg > 1 {
        format!("leg {} ", r.leg)
    } else {
        String::new()
    };
    let failed = match (f.kind, r.status) {
        (true, _) | (false, None) => r.failure_label(),
        (false, Some(s)) => s.to_string(),
    };
    let (head, sep) = if f.long {
        (format!("↳ {leg}sdk retry {}: ", r.retry), ", wait ")
    } else {
        (format!("↳ {leg}sdk #{} ", r.retry), " ")
    };
    let mut spans = vec![
        Span::raw("  "),
        Span::styled(head, theme.style(Meaning::Attempt)),
        Span::styled(failed, theme.style(Meaning::Error)),
        Span::styled(sep, theme.style(Meaning::Muted)),
    ];
    match r.ended(run, ctx.run_now_ms) {
        None => {
            let left = r.end_t().saturating_sub(ctx.run_now_ms);
            if f.bar {
                spans.extend(drain_bar(r.delay_ms, left, theme, BAR_CELLS));
                spans.push(Span::raw(" "));
            }
            let text = if f.of {
                words::wait_left(left, r.delay_ms)
            } else {
                words::wait_left_short(left)
            };
            spans.push(Span::styled(text, theme.style(Meaning::Wait)));
        }
        Some((ended, waited)) if !ended.is_elapsed() => spans.push(Span::styled(
            words::wait_end(ended, waited, r.delay_ms),
            theme.style(Meaning::Warning),
        )),
        Some(_) => spans.push(Span::styled(secs(r.delay_ms), theme.style(Meaning::Wait))),
    }
    spans.push(Span::styled(
        format!(" ({})", r.source_label()),
        theme.style(Meaning::Muted),
    ));
    spans
}
