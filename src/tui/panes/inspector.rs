//! Inspector: everything about the selected timeline row. For an attempt: why the policy did
//! what it did, the exact request messages (reinserted error text highlighted), the response
//! status, headers and body, the error, timings and usage.

use super::{Ctx, Pane, pane_block, scroll_by};
use crate::error::CallError;
use crate::event::Outcome;
use crate::policy::duration::format_secs;
use crate::tui::keymap::Action;
use crate::tui::run_view::{AttemptView, Row, RunView};
use crate::tui::theme::{Meaning, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// Longer texts are cut in the view (the Output pane has the whole answer).
const BODY_LINES: usize = 60;
const MESSAGE_LINES: usize = 200;
/// Bodies above this size are shown raw, not re-parsed as JSON every frame.
const PRETTY_MAX: usize = 64 * 1024;

#[derive(Debug, Default)]
pub struct InspectorPane {
    offset: usize,
    lines: usize,
    height: usize,
    row: Option<usize>,
}

impl InspectorPane {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Pane for InspectorPane {
    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        if self.row != ctx.selected_row {
            self.row = ctx.selected_row;
            self.offset = 0;
        }
        let block = pane_block(" Inspector ", ctx.focused, ctx.theme);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let lines = match ctx.selected_row {
            Some(r) => row_details(ctx.run, r, ctx.theme),
            None => vec![Line::from(Span::styled(
                "Select a timeline row to see its request, response and why the policy acted.",
                ctx.theme.style(Meaning::Muted),
            ))],
        };
        self.lines = lines.len();
        self.height = inner.height as usize;
        self.offset = self.offset.min(self.lines.saturating_sub(1));
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((self.offset.min(u16::MAX as usize) as u16, 0)),
            inner,
        );
    }

    fn on_action(&mut self, action: Action, _ctx: &Ctx) -> bool {
        let max = self.lines.saturating_sub(1);
        let page = self.height.max(1) as i32;
        self.offset = match action {
            Action::Up => scroll_by(self.offset, -1, max),
            Action::Down => scroll_by(self.offset, 1, max),
            Action::PageUp => scroll_by(self.offset, -page, max),
            Action::PageDown => scroll_by(self.offset, page, max),
            Action::Top => 0,
            Action::Bottom => max.saturating_sub(self.height.saturating_sub(1)),
            _ => return false,
        };
        true
    }

    fn on_scroll(&mut self, rows: i32, _ctx: &Ctx) {
        self.offset = scroll_by(self.offset, rows, self.lines.saturating_sub(1));
    }

    fn hints(&self) -> &'static [Action] {
        &[Action::Down, Action::PageDown]
    }
}

fn ms(ms: u64) -> String {
    format_secs(ms as f64 / 1000.0)
}

fn heading(text: &str, theme: &Theme) -> Line<'static> {
    Line::from(Span::styled(text.to_string(), theme.style(Meaning::Title)))
}

fn field(name: &str, value: String, theme: &Theme, style: Style) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{name:<10} "), theme.style(Meaning::Muted)),
        Span::styled(value, style),
    ])
}

/// The lines for one timeline row.
pub fn row_details(run: &RunView, row: usize, theme: &Theme) -> Vec<Line<'static>> {
    let text = theme.style(Meaning::Text);
    let mut out = Vec::new();
    match run.rows.get(row) {
        None => {}
        Some(Row::Attempt(i)) => attempt_details(&run.attempts[*i], theme, &mut out),
        Some(Row::Wait(w)) => {
            let w = &run.waits[*w];
            out.push(heading(
                &format!("Wait after attempt #{} failed", w.attempt),
                theme,
            ));
            out.push(field(
                "wait",
                ms(w.delay_ms),
                theme,
                theme.style(Meaning::Wait),
            ));
            out.push(field("strategy", w.strategy.clone(), theme, text));
            out.push(field("formula", ms(w.computed_ms), theme, text));
            out.push(field(
                "retry-after",
                w.retry_after_ms.map_or("none sent".into(), ms),
                theme,
                text,
            ));
            let source = if w.source == crate::event::WaitSource::RetryAfter {
                "the server's Retry-After (longer than the formula)".to_string()
            } else {
                "the back-off formula".to_string()
            };
            out.push(field("set by", source, theme, text));
            out.push(field(
                "window",
                format!("{} → {}", ms(w.start_t), ms(w.end_t())),
                theme,
                text,
            ));
            if let Some(a) = run.attempt_index(w.hop, w.attempt) {
                let a = &run.attempts[a];
                if !a.why.is_empty() {
                    out.push(Line::default());
                    out.push(field(
                        "why",
                        a.why.clone(),
                        theme,
                        theme.style(Meaning::Warning),
                    ));
                }
            }
        }
        Some(Row::Reinserted {
            attempt, errors, ..
        }) => {
            out.push(heading(
                &format!("Errors reinserted into attempt #{attempt}"),
                theme,
            ));
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
        Some(Row::Exhausted {
            hop,
            attempts,
            last_error,
        }) => {
            out.push(heading(
                &format!("Hop {hop}: retries exhausted after {attempts} attempts"),
                theme,
            ));
            out.push(Line::from(Span::styled(
                "The stop condition was met; the hop ends with retry_error carrying the last error.",
                theme.style(Meaning::Muted),
            )));
            error_lines("last", last_error, theme, &mut out);
        }
        Some(Row::Fallback {
            hop,
            from,
            to,
            caught,
        }) => {
            out.push(heading(&format!("Fallback to hop {hop}"), theme));
            out.push(field(
                "from",
                format!("{}/{}", from.provider, from.model),
                theme,
                text,
            ));
            out.push(field(
                "to",
                format!("{}/{}", to.provider, to.model),
                theme,
                theme.style(Meaning::Fallback),
            ));
            out.push(field(
                "why",
                format!(
                    "{} is in the catch list, so the next hop runs with its own retry budget",
                    caught.kind
                ),
                theme,
                theme.style(Meaning::Warning),
            ));
            error_lines("caught", caught, theme, &mut out);
        }
        Some(Row::Outcome) => {
            let Some(f) = &run.finished else {
                return out;
            };
            let (word, style) = match f.outcome {
                Outcome::Ok => ("ok", theme.style(Meaning::Success)),
                Outcome::Error => ("error", theme.style(Meaning::Error)),
                Outcome::Cancelled => ("cancelled", theme.style(Meaning::Warning)),
            };
            out.push(heading("Outcome", theme));
            out.push(field("result", word.to_string(), theme, style));
            out.push(field("took", ms(f.t_ms), theme, text));
            if let Some(c) = f.total_cost_usd {
                out.push(field(
                    "cost",
                    format!(
                        "{} for every attempt, failed ones included",
                        cost_text(c, f.total_cost_estimated)
                    ),
                    theme,
                    text,
                ));
            }
            out.push(field(
                "attempts",
                run.attempts.len().to_string(),
                theme,
                text,
            ));
            if let Some(c) = &f.content {
                out.push(field("answer", String::new(), theme, text));
                cut_lines(c, BODY_LINES, text, theme, &mut out);
            }
            if let Some(e) = &f.error {
                error_lines("error", e, theme, &mut out);
            }
            for (n, e) in f.caught.iter().enumerate() {
                error_lines(&format!("caught {}", n + 1), e, theme, &mut out);
            }
        }
    }
    out
}

fn error_lines(name: &str, e: &CallError, theme: &Theme, out: &mut Vec<Line<'static>>) {
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

fn attempt_details(a: &AttemptView, theme: &Theme, out: &mut Vec<Line<'static>>) {
    let text = theme.style(Meaning::Text);
    let muted = theme.style(Meaning::Muted);
    let hop = if a.hop == 0 {
        "primary".into()
    } else {
        format!("hop {}", a.hop)
    };
    out.push(heading(
        &format!(
            "Attempt #{} · {hop} · {}/{}",
            a.attempt, a.provider, a.model
        ),
        theme,
    ));
    if !a.why.is_empty() {
        out.push(field(
            "why",
            a.why.clone(),
            theme,
            theme.style(Meaning::Warning),
        ));
    }
    if let Some(e) = &a.error {
        error_lines("error", e, theme, out);
    }
    // Timings.
    let mut t = format!("sent at {}", ms(a.started_t));
    if let Some(l) = a.latency_ms {
        t.push_str(&format!(" · took {}", ms(l)));
    }
    if let Some(end) = a.ended_t {
        t.push_str(&format!(" · ended at {}", ms(end)));
    }
    out.push(field("timing", t, theme, text));
    if let Some(u) = a.usage {
        out.push(field(
            "usage",
            format!("{} in / {} out tokens", u.input_tokens, u.output_tokens),
            theme,
            text,
        ));
    }
    if let Some(c) = a.cost_usd {
        out.push(field("cost", cost_text(c, a.cost_estimated), theme, text));
    }
    // The request.
    out.push(Line::default());
    out.push(heading("Request", theme));
    if !a.reinserted.is_empty() {
        out.push(Line::from(Span::styled(
            format!(
                "carries {} reinserted error text{} (highlighted)",
                a.reinserted.len(),
                if a.reinserted.len() == 1 { "" } else { "s" }
            ),
            theme.style(Meaning::Reinserted),
        )));
    }
    let needles: Vec<&str> = a
        .reinserted
        .iter()
        .flat_map(|e| e.lines())
        .map(str::trim)
        .filter(|l| l.len() >= 4)
        .collect();
    let request = a.request.value();
    for (role, content) in request_messages(&request) {
        out.push(Line::from(Span::styled(format!("{role}:"), muted)));
        let total = content.lines().count();
        for l in content.lines().take(MESSAGE_LINES) {
            let mut spans = vec![Span::raw("  ")];
            spans.extend(highlight(
                l,
                &needles,
                text,
                theme.style(Meaning::ReinsertedText),
            ));
            out.push(Line::from(spans));
        }
        if total > MESSAGE_LINES {
            out.push(Line::from(Span::styled(
                format!("  … {} more lines", total - MESSAGE_LINES),
                muted,
            )));
        }
    }
    if let Some(tools) = request.get("tools").and_then(|t| t.as_array()) {
        let names: Vec<String> = tools
            .iter()
            .filter_map(|t| {
                t.get("name")
                    .or_else(|| t.get("function").and_then(|f| f.get("name")))
                    .and_then(|n| n.as_str())
                    .map(str::to_string)
            })
            .collect();
        out.push(field("tools", names.join(", "), theme, text));
    }
    // The response.
    if a.detail_dropped {
        out.push(Line::default());
        out.push(Line::from(Span::styled(
            format!(
                "Response let go to bound memory: only the newest {} attempts keep theirs",
                crate::tui::run_view::DETAIL_KEPT
            ),
            muted,
        )));
    }
    if let Some(r) = &a.response {
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
        if !r.body.is_empty() {
            let body = pretty_json(&r.body).unwrap_or_else(|| r.body.clone());
            let total = body.lines().count();
            out.extend(
                body.lines()
                    .take(BODY_LINES)
                    .map(|l| Line::from(Span::styled(format!("  {l}"), text))),
            );
            if total > BODY_LINES {
                out.push(Line::from(Span::styled(
                    format!("  … {} more lines", total - BODY_LINES),
                    muted,
                )));
            }
        }
    }
}

fn cut_lines(text: &str, max: usize, style: Style, theme: &Theme, out: &mut Vec<Line<'static>>) {
    for (n, l) in text.lines().enumerate() {
        if n == max {
            let rest = text.lines().count() - max;
            out.push(Line::from(Span::styled(
                format!("  … {rest} more lines (the Output pane has them all)"),
                theme.style(Meaning::Muted),
            )));
            return;
        }
        out.push(Line::from(Span::styled(format!("  {l}"), style)));
    }
}

fn cost_text(usd: f64, estimated: bool) -> String {
    let v = crate::cost::format_usd(usd);
    if estimated {
        format!("{v} (some tokens estimated)")
    } else {
        v
    }
}

fn pretty_json(body: &str) -> Option<String> {
    if body.len() > PRETTY_MAX {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(body.trim()).ok()?;
    serde_json::to_string_pretty(&v).ok()
}

/// `(role, text)` of every message in an OpenAI or Anthropic request body.
pub fn request_messages(req: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(sys) = req.get("system") {
        let t = content_text(sys);
        if !t.is_empty() {
            out.push(("system".into(), t));
        }
    }
    for m in req
        .get("messages")
        .and_then(|m| m.as_array())
        .into_iter()
        .flatten()
    {
        let role = m
            .get("role")
            .and_then(|r| r.as_str())
            .unwrap_or("?")
            .to_string();
        let mut t = m.get("content").map(content_text).unwrap_or_default();
        for call in m
            .get("tool_calls")
            .and_then(|c| c.as_array())
            .into_iter()
            .flatten()
        {
            let f = call.get("function").unwrap_or(call);
            let name = f.get("name").and_then(|n| n.as_str()).unwrap_or("?");
            let args = f.get("arguments").and_then(|a| a.as_str()).unwrap_or("");
            if !t.is_empty() {
                t.push('\n');
            }
            t.push_str(&format!("⚙ {name}({args})"));
        }
        out.push((role, t));
    }
    out
}

fn content_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(parts) => parts
            .iter()
            .map(|p| {
                if let Some(t) = p.get("text").and_then(|t| t.as_str()) {
                    t.to_string()
                } else if p.get("type").and_then(|t| t.as_str()) == Some("tool_use") {
                    format!(
                        "⚙ {}({})",
                        p.get("name").and_then(|n| n.as_str()).unwrap_or("?"),
                        p.get("input").map(|i| i.to_string()).unwrap_or_default()
                    )
                } else if p.get("type").and_then(|t| t.as_str()) == Some("tool_result") {
                    format!(
                        "→ {}",
                        p.get("content").map(content_text).unwrap_or_default()
                    )
                } else {
                    p.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Splits a line into spans, styling every occurrence of any needle.
pub fn highlight(line: &str, needles: &[&str], base: Style, hi: Style) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let mut rest = line;
    loop {
        let found = needles
            .iter()
            .filter_map(|n| rest.find(n).map(|i| (i, n.len())))
            .min_by_key(|(i, len)| (*i, usize::MAX - len));
        match found {
            Some((i, len)) => {
                if i > 0 {
                    spans.push(Span::styled(rest[..i].to_string(), base));
                }
                spans.push(Span::styled(rest[i..i + len].to_string(), hi));
                rest = &rest[i + len..];
            }
            None => {
                if !rest.is_empty() {
                    spans.push(Span::styled(rest.to_string(), base));
                }
                return spans;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_both_wire_formats() {
        let oa = json!({"messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": null, "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]}
        ]});
        let m = request_messages(&oa);
        assert_eq!(m[0], ("system".into(), "be brief".into()));
        assert_eq!(m[2].1, "⚙ f({})");
        let an = json!({"system": "sys", "messages": [
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
        ]});
        let m = request_messages(&an);
        assert_eq!(m[0], ("system".into(), "sys".into()));
        assert_eq!(m[1], ("user".into(), "a\nb".into()));
    }

    #[test]
    fn an_attempts_request_shows_its_reinserted_text_highlighted() {
        let mut run = RunView::new();
        for e in crate::tui::run_view::fixtures::full_fallback() {
            run.apply(&e);
        }
        let theme = crate::tui::theme::ThemeSet::builtin().themes[0].clone();
        let hi = theme.style(Meaning::ReinsertedText);
        // Row 3 is primary attempt #2, which carries the first rate-limit error.
        assert!(matches!(run.rows[3], Row::Attempt(1)));
        let lines = row_details(&run, 3, &theme);
        let marked: Vec<String> = lines
            .iter()
            .flat_map(|l| l.spans.iter())
            .filter(|s| s.style == hi)
            .map(|s| s.content.to_string())
            .collect();
        assert_eq!(
            marked,
            vec!["rate_limit (429): Rate limit reached for gpt-4o-mini"]
        );
        let text: String = lines.iter().map(|l| l.to_string() + "\n").collect();
        assert!(
            text.contains("why        rate_limit is in retry_on; attempt 2 of 3"),
            "{text}"
        );
        assert!(text.contains("carries 1 reinserted error text"), "{text}");
    }

    #[test]
    fn highlights_every_occurrence() {
        let base = Style::new();
        let hi = Style::new().add_modifier(ratatui::style::Modifier::REVERSED);
        let s = highlight("x ERR y ERR", &["ERR"], base, hi);
        let texts: Vec<&str> = s.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(texts, vec!["x ", "ERR", " y ", "ERR"]);
        assert_eq!(s[1].style, hi);
        assert_eq!(highlight("", &["a"], base, hi).len(), 0);
    }
}
