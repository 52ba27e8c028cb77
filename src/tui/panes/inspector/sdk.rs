//! The Inspector's lines for the SDK's own retries (DESIGN §15): under an attempt, each
//! request it sent (its `x-stainless-retry-count`, status, error, the wait after it and
//! where that came from); for a nested row, that one request in full.

use super::rows::error_lines;
use super::{cost_text, field, heading, ms};
use crate::tui::run_view::{AttemptView, SdkRetryView};
use crate::tui::theme::{Meaning, Theme};
use crate::words::hop_label;
use ratatui::text::{Line, Span};

/// `Requests` under an attempt the SDK retried inside: one line per request, the last
/// being the attempt's own (its result is the attempt's, above).
pub(super) fn requests(
    a: &AttemptView,
    nested: &[SdkRetryView],
    theme: &Theme,
    out: &mut Vec<Line<'static>>,
) {
    let Some(first) = nested.first() else {
        return;
    };
    let muted = theme.style(Meaning::Muted);
    out.push(Line::default());
    let n = nested.len();
    let title = format!(
        "Requests  {} (the SDK, {}, retried {n} inside this attempt)",
        n + 1,
        first.sdk
    );
    out.push(heading(&title, theme));
    for r in nested {
        out.push(Line::from(vec![
            Span::styled(format!("  #{:<2} ", r.retry), theme.style(Meaning::Attempt)),
            Span::styled(format!("retry-count {} · ", r.retry_count_sent()), muted),
            Span::styled(r.failure_label(), theme.style(Meaning::Error)),
            Span::styled(
                format!(" → wait {} ({})", ms(r.delay_ms), r.source_label()),
                theme.style(Meaning::Wait),
            ),
            Span::styled(leg_text(r), muted),
        ]));
    }
    let last = nested.last().map_or(0, |r| r.retry);
    let ended = match (&a.error, a.ended_t) {
        (Some(e), _) => e.kind.to_string(),
        (None, Some(_)) => "ok".into(),
        (None, None) => "in flight".into(),
    };
    out.push(Line::from(vec![
        Span::styled(
            format!("  #{:<2} ", last + 1),
            theme.style(Meaning::Attempt),
        ),
        Span::styled(format!("retry-count {last} · "), muted),
        Span::styled(format!("{ended} (the attempt's result)"), muted),
    ]));
    let priced: Vec<_> = nested.iter().filter_map(|r| r.cost_usd).collect();
    if !priced.is_empty() {
        let estimated = nested.iter().any(|r| r.cost_estimated);
        let sum = priced.iter().sum::<f64>();
        let text = format!(
            "{} for the {n} retried (in the run's total, not in `cost` above)",
            cost_text(sum, estimated)
        );
        out.push(field("sdk cost", text, theme, theme.style(Meaning::Text)));
    }
}

/// ` · leg 2` for a hedge leg's retries.
fn leg_text(r: &SdkRetryView) -> String {
    if r.leg > 1 {
        format!(" · leg {}", r.leg)
    } else {
        String::new()
    }
}

/// A nested row: the request the SDK retried, why, and the wait after it.
pub(super) fn retry(
    a: Option<&AttemptView>,
    r: &SdkRetryView,
    theme: &Theme,
    out: &mut Vec<Line<'static>>,
) {
    let text = theme.style(Meaning::Text);
    let mut title = format!("SDK retry {}", r.retry);
    if let Some(a) = a {
        title.push_str(&format!(
            " inside attempt #{} · {} · {}/{}",
            a.attempt,
            hop_label(a.hop),
            a.provider,
            a.model
        ));
    }
    out.push(heading(&title, theme));
    out.push(field("sdk", r.sdk.clone(), theme, text));
    let sent = format!(
        "request #{} of the attempt{}, with x-stainless-retry-count: {}",
        r.retry,
        leg_text(r),
        r.retry_count_sent()
    );
    out.push(field("request", sent, theme, text));
    let status = r.status.map_or("no status".into(), |s| s.to_string());
    out.push(field("status", status, theme, theme.style(Meaning::Error)));
    error_lines("error", &r.error, theme, out);
    let wait = format!("{} ({})", ms(r.delay_ms), r.source_label());
    out.push(field("wait", wait, theme, theme.style(Meaning::Wait)));
    let window = format!("{} → {}", ms(r.start_t), ms(r.end_t()));
    out.push(field("window", window, theme, text));
    if let Some(c) = r.cost_usd {
        out.push(field("cost", cost_text(c, r.cost_estimated), theme, text));
    }
    if !r.why.is_empty() {
        out.push(Line::default());
        let warn = theme.style(Meaning::Warning);
        out.push(field("why", r.why.clone(), theme, warn));
    }
    out.push(Line::default());
    out.push(Line::from(Span::styled(
        format!(
            "Tenacity never sees this error: the SDK sends request #{} next.",
            r.retry + 1
        ),
        theme.style(Meaning::Muted),
    )));
}
