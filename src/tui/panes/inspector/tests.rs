//! What the Inspector shows for a row; reading request bodies.

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
