//! The Inspector's lines for an attempt: why, its error, timings and usage, the exact request
//! (URL, headers, the body pretty-printed with the reinserted text highlighted), the
//! response.

use super::request::highlight;
use super::rows::error_lines;
use super::{BODY_LINES, MESSAGE_LINES, cost_text, field, heading, ms, pretty_json};

/// A body too big to pretty-print shows this many bytes; a pretty line at most this many.
const BODY_CUT: usize = 4 * 1024;
const LINE_CUT: usize = 4 * 1024;
use crate::tui::run_view::{AttemptView, DETAIL_KEPT, SdkRetryView};
use crate::tui::theme::{Meaning, Theme};
use crate::words::hop_label;
use ratatui::text::{Line, Span};

pub(super) fn details(
    a: &AttemptView,
    sdk_retries: &[SdkRetryView],
    theme: &Theme,
    out: &mut Vec<Line<'static>>,
) {
    summary(a, theme, out);
    super::sdk::requests(a, sdk_retries, theme, out);
    out.push(Line::default());
    request(a, theme, out);
    response(a, theme, out);
}

/// Heading, why, error, timings, usage and cost.
fn summary(a: &AttemptView, theme: &Theme, out: &mut Vec<Line<'static>>) {
    let text = theme.style(Meaning::Text);
    let title = format!(
        "Attempt #{} · {} · {}/{}",
        a.attempt,
        hop_label(a.hop),
        a.provider,
        a.model
    );
    out.push(heading(&title, theme));
    if !a.why.is_empty() {
        out.push(field(
            "why",
            a.why.clone(),
            theme,
            theme.style(Meaning::Warning),
        ));
    }
    if !a.fallback_why.is_empty() {
        let warn = theme.style(Meaning::Warning);
        out.push(field("fallback", a.fallback_why.clone(), theme, warn));
    }
    if let Some(e) = &a.error {
        error_lines("error", e, theme, out);
    }
    let mut t = format!("sent at {}", ms(a.started_t));
    if let Some(l) = a.latency_ms {
        t.push_str(&format!(" · took {}", ms(l)));
    }
    if let Some(end) = a.ended_t {
        t.push_str(&format!(" · ended at {}", ms(end)));
    }
    out.push(field("timing", t, theme, text));
    if let Some((from, to)) = a.deadline_clip {
        let clip = format!("timeout {}", crate::words::clipped(from, to));
        out.push(field("clipped", clip, theme, theme.style(Meaning::Warning)));
    }
    if let Some(u) = a.usage {
        let usage = format!("{} in / {} out tokens", u.input_tokens, u.output_tokens);
        out.push(field("usage", usage, theme, text));
    }
    if let Some(c) = a.cost_usd {
        out.push(field("cost", cost_text(c, a.cost_estimated), theme, text));
    }
}

/// The exact request: where it went, its headers (credentials `[redacted]`), and its body
/// as sent, pretty-printed, the reinserted error text highlighted. A huge body is cut.
fn request(a: &AttemptView, theme: &Theme, out: &mut Vec<Line<'static>>) {
    let text = theme.style(Meaning::Text);
    let muted = theme.style(Meaning::Muted);
    let mut head = vec![Span::styled("Request", theme.style(Meaning::Title))];
    if !a.url.is_empty() {
        head.push(Span::styled(format!("  POST {}", a.url), muted));
    }
    out.push(Line::from(head));
    for (k, v) in &a.headers {
        out.push(Line::from(vec![
            Span::styled(format!("  {k}: "), muted),
            Span::styled(v.clone(), text),
        ]));
    }
    if !a.reinserted.is_empty() {
        let n = a.reinserted.len();
        out.push(Line::from(Span::styled(
            format!(
                "carries {n} reinserted error text{} (highlighted)",
                if n == 1 { "" } else { "s" }
            ),
            theme.style(Meaning::Reinserted),
        )));
    }
    let body = a.request.as_str();
    if body == "null" {
        out.push(Line::from(Span::styled(
            "  not sent: the prompt did not render",
            muted,
        )));
        return;
    }
    // The texts as written, and as they read inside a JSON string (quotes, newlines escaped).
    let lines: Vec<&str> = a
        .reinserted
        .iter()
        .flat_map(|e| e.lines())
        .map(str::trim)
        .filter(|l| l.len() >= 4)
        .collect();
    let escaped: Vec<String> = lines
        .iter()
        .filter_map(|l| serde_json::to_string(l).ok())
        .map(|q| q[1..q.len() - 1].to_string())
        .collect();
    let mut needles = lines.clone();
    needles.extend(escaped.iter().map(String::as_str));
    let hi = theme.style(Meaning::ReinsertedText);
    let Some(pretty) = pretty_json(body) else {
        // Too big to lay out every frame: its start, compact, and how much there is.
        let cut = cut_at(body, BODY_CUT);
        let mut spans = vec![Span::raw("  ")];
        spans.extend(highlight(cut, &needles, text, hi));
        out.push(Line::from(spans));
        let note = format!(
            "  … the body is {} bytes; its first {} shown (the trace has all of it)",
            body.len(),
            cut.len()
        );
        out.push(Line::from(Span::styled(note, muted)));
        return;
    };
    let total = pretty.lines().count();
    for l in pretty.lines().take(MESSAGE_LINES) {
        let mut spans = vec![Span::raw("  ")];
        spans.extend(highlight(cut_at(l, LINE_CUT), &needles, text, hi));
        out.push(Line::from(spans));
    }
    if total > MESSAGE_LINES {
        let more = format!("  … {} more lines", total - MESSAGE_LINES);
        out.push(Line::from(Span::styled(more, muted)));
    }
}

/// The start of `text`, at most `max` bytes, on a char boundary.
fn cut_at(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Status, headers and body of the reply (or why it was let go).
fn response(a: &AttemptView, theme: &Theme, out: &mut Vec<Line<'static>>) {
    let text = theme.style(Meaning::Text);
    let muted = theme.style(Meaning::Muted);
    if a.detail_dropped {
        out.push(Line::default());
        out.push(Line::from(Span::styled(
            format!(
                "Response let go to bound memory: only the newest {DETAIL_KEPT} attempts keep theirs"
            ),
            muted,
        )));
    }
    let Some(r) = &a.response else {
        return;
    };
    out.push(Line::default());
    let status = r.status.map_or("no status".into(), |s| s.to_string());
    let style = match r.status {
        Some(s) if s < 300 => theme.style(Meaning::Success),
        Some(_) => theme.style(Meaning::Error),
        None => muted,
    };
    out.push(Line::from(vec![
        Span::styled("Response ", theme.style(Meaning::Title)),
        Span::styled(status, style),
        Span::styled(format!("  {}", r.url), muted),
    ]));
    for (k, v) in &r.headers {
        out.push(Line::from(vec![
            Span::styled(format!("  {k}: "), muted),
            Span::styled(v.clone(), text),
        ]));
    }
    if r.body.is_empty() {
        return;
    }
    let body = pretty_json(&r.body).unwrap_or_else(|| r.body.clone());
    let total = body.lines().count();
    out.extend(
        body.lines()
            .take(BODY_LINES)
            .map(|l| Line::from(Span::styled(format!("  {l}"), text))),
    );
    if total > BODY_LINES {
        let more = format!("  … {} more lines", total - BODY_LINES);
        out.push(Line::from(Span::styled(more, muted)));
    }
}
