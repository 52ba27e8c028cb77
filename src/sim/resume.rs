//! A continued reply (`stream_recovery = "continue"`, `provider::resume`): a request that
//! ends with an assistant message (Anthropic's prefill), or with an assistant message and
//! the continuation request after it (OpenAI), asks for the rest of an answer. When that
//! text starts the reply the simulator would give, only the remainder is sent, as a model
//! continuing its own words would; otherwise the whole reply is.

use crate::provider::resume::CONTINUE_PROMPT;
use serde_json::Value;

/// The part of `reply` a request with `body` still wants.
pub fn remainder<'a>(reply: &'a str, body: &[u8]) -> &'a str {
    match carried(body) {
        Some(start) if !start.is_empty() => reply.strip_prefix(start.as_str()).unwrap_or(reply),
        _ => reply,
    }
}

/// The answer a request carries back to be continued, if it ends like a continuation.
fn carried(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let messages = v.get("messages")?.as_array()?;
    let (last, before) = messages.split_last()?;
    match role(last)? {
        "assistant" => text(last),
        "user" if text(last)? == CONTINUE_PROMPT => {
            let previous = before.last()?;
            (role(previous)? == "assistant").then(|| text(previous))?
        }
        _ => None,
    }
}

fn role(m: &Value) -> Option<&str> {
    m.get("role")?.as_str()
}

/// A message's text: a string, or its text blocks joined (both formats allow either).
fn text(m: &Value) -> Option<String> {
    match m.get("content")? {
        Value::String(s) => Some(s.clone()),
        Value::Array(blocks) => Some(
            blocks
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(messages: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({"model": "m", "messages": messages})).unwrap()
    }

    const REPLY: &str = "Patrick Rothfuss wrote it.";

    #[test]
    fn a_prefill_that_starts_the_reply_gets_the_rest() {
        let b = body(json!([
            {"role": "user", "content": "Who?"},
            {"role": "assistant", "content": "Patrick"}
        ]));
        assert_eq!(remainder(REPLY, &b), " Rothfuss wrote it.");
        // Anthropic's text blocks too.
        let b = body(json!([
            {"role": "user", "content": "Who?"},
            {"role": "assistant", "content": [{"type": "text", "text": "Patrick Rothfuss"}]}
        ]));
        assert_eq!(remainder(REPLY, &b), " wrote it.");
    }

    #[test]
    fn the_openai_continuation_pair_gets_the_rest() {
        let b = body(json!([
            {"role": "user", "content": "Who?"},
            {"role": "assistant", "content": "Patrick "},
            {"role": "user", "content": CONTINUE_PROMPT}
        ]));
        assert_eq!(remainder(REPLY, &b), "Rothfuss wrote it.");
    }

    #[test]
    fn anything_else_gets_the_whole_reply() {
        let cases = [
            // A plain prompt.
            json!([{"role": "user", "content": "Who?"}]),
            // A prefill that is not how the reply starts.
            json!([{"role": "user", "content": "Who?"}, {"role": "assistant", "content": "Someone"}]),
            // A reask conversation: the last user message is a correction, not the request.
            json!([
                {"role": "user", "content": "Who?"},
                {"role": "assistant", "content": "Patrick"},
                {"role": "user", "content": "Please answer again."}
            ]),
            // The continuation request with no assistant message before it.
            json!([{"role": "user", "content": CONTINUE_PROMPT}]),
        ];
        for c in cases {
            assert_eq!(remainder(REPLY, &body(c.clone())), REPLY, "{c}");
        }
        assert_eq!(remainder(REPLY, b"not json"), REPLY);
        assert_eq!(remainder(REPLY, &body(json!([]))), REPLY);
    }
}
