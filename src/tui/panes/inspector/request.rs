//! Reading a request body for the Inspector: its messages in both wire formats, and the
//! reinserted error text highlighted in them.

use ratatui::style::Style;
use ratatui::text::Span;

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
