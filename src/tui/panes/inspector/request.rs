//! The reinserted error text of a request body, highlighted for the Inspector.

use ratatui::style::Style;
use ratatui::text::Span;

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
