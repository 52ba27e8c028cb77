//! The nested row of a request the SDK retried inside its attempt:
//! `↳ sdk retry 1: 500 server_error, wait ▕███░▏ 0.3 s left of 0.42 s (backoff)`, the bar
//! draining like a hop wait's; once over, `wait 0.42 s (backoff)`.

use super::{Ctx, drain_bar, fit_spans};
use crate::policy::duration::format_secs;
use crate::tui::run_view::{RunView, SdkRetryView};
use crate::tui::theme::Meaning;
use crate::words;
use ratatui::text::{Line, Span};

/// The SDK's waits are short (≤ 8 s of back-off): a shorter bar than a hop wait's.
const BAR_CELLS: usize = 6;

fn secs(ms: u64) -> String {
    format_secs(ms as f64 / 1000.0)
}

pub(super) fn sdk_retry_line(
    run: &RunView,
    r: &SdkRetryView,
    ctx: &Ctx,
    width: usize,
) -> Line<'static> {
    let theme = ctx.theme;
    let leg = if r.leg > 1 {
        format!("leg {} ", r.leg)
    } else {
        String::new()
    };
    let mut spans = vec![
        Span::raw("  "),
        Span::styled(
            format!("↳ {leg}sdk retry {}: ", r.retry),
            theme.style(Meaning::Attempt),
        ),
        Span::styled(r.failure_label(), theme.style(Meaning::Error)),
        Span::styled(", wait ", theme.style(Meaning::Muted)),
    ];
    match r.ended(run, ctx.run_now_ms) {
        None => {
            let left = r.end_t().saturating_sub(ctx.run_now_ms);
            spans.extend(drain_bar(r.delay_ms, left, theme, BAR_CELLS));
            spans.push(Span::styled(
                format!(" {}", words::wait_left(left, r.delay_ms)),
                theme.style(Meaning::Wait),
            ));
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
    fit_spans(spans, width)
}
