//! What the Inspector shows for a row; reading request bodies.

use super::*;
use serde_json::json;

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

/// The text of the Inspector's lines for `row` after `events`.
fn details_text(events: &[crate::event::TimedEvent], row: usize) -> String {
    let mut run = RunView::new();
    for e in events {
        run.apply(e);
    }
    let theme = crate::tui::theme::ThemeSet::builtin().themes[0].clone();
    row_details(&run, row, &theme)
        .iter()
        .map(|l| l.to_string() + "\n")
        .collect()
}

/// A request as an attempt_started of its own.
fn started(request: serde_json::Value) -> Vec<crate::event::TimedEvent> {
    use crate::event::{AttemptStarted, Event, TimedEvent};
    vec![TimedEvent {
        t_ms: 0,
        event: Event::AttemptStarted(AttemptStarted {
            hop: 0,
            attempt: 1,
            provider: "openai".into(),
            model: "m".into(),
            request,
            prompt: None,
            url: String::new(),
            headers: vec![],
            deadline_clip: None,
        }),
    }]
}

#[test]
fn the_request_body_is_shown_whole_tools_and_settings_included() {
    let body = json!({"model": "m", "stream": false, "temperature": 0.2, "max_tokens": 64,
        "tools": [{"type": "function", "function": {"name": "get_book_author",
            "parameters": {"type": "object", "properties": {"title": {"type": "string"}}}}}],
        "messages": [{"role": "user", "content": "hi"}]});
    let text = details_text(&started(body), 0);
    for want in [
        r#"  "temperature": 0.2,"#,
        r#"  "max_tokens": 64,"#,
        r#""name": "get_book_author","#,
        r#""title": {"#,
        r#""content": "hi","#,
    ] {
        assert!(text.contains(want), "{want} in {text}");
    }
}

#[test]
fn a_huge_request_body_is_cut_with_a_note() {
    let body = json!({"messages": [{"role": "user", "content": "x".repeat(200_000)}]});
    let text = details_text(&started(body), 0);
    assert!(text.contains("… the body is 200"), "{text}");
    assert!(text.len() < 10_000, "{} bytes shown", text.len());
}

#[test]
fn a_request_never_sent_says_so() {
    let text = details_text(&started(serde_json::Value::Null), 0);
    assert!(
        text.contains("not sent: the prompt did not render"),
        "{text}"
    );
}
