//! `stream_recovery = "continue"` on the wire: the text a broken stream delivered goes back
//! as the start of the next reply. Anthropic continues a trailing assistant message (a
//! prefill); OpenAI's chat API has no prefill, so the partial answer goes back as an
//! assistant message followed by a user message asking to go on from exactly there (the
//! pattern chat UIs and the SDK cookbooks use for a reply cut at `length`). The simulator
//! recognises both (`sim::resume`).

use super::Message;
use super::wire;
use crate::scenario::types::ProviderKind;

/// The user message that asks a model without prefill to continue its cut-off answer.
pub const CONTINUE_PROMPT: &str = "Your previous reply was cut off. Continue it from exactly where it stopped: do not repeat any of it, do not start over, and add nothing before the continuation.";

/// What a continued attempt adds to its conversation, and the text it replays.
#[derive(Debug, Clone, PartialEq)]
pub struct Continuation {
    /// Appended after the prompt (and any reask conversation): they end the request.
    pub messages: Vec<Message>,
    /// The part of the answer the reply starts with (the attempt's content is this + the
    /// new text).
    pub replayed: String,
}

/// The continuation of `partial` for `provider`'s format; `None` when nothing is left to
/// replay (Anthropic refuses a prefill that ends in whitespace, so it is trimmed: a
/// partial of whitespace only replays nothing).
pub fn continuation(provider: ProviderKind, partial: &str) -> Option<Continuation> {
    if wire::format(provider).takes_prefill() {
        let prefill = partial.trim_end();
        return (!prefill.is_empty()).then(|| Continuation {
            messages: vec![Message::assistant(prefill)],
            replayed: prefill.to_string(),
        });
    }
    (!partial.is_empty()).then(|| Continuation {
        messages: vec![Message::assistant(partial), Message::user(CONTINUE_PROMPT)],
        replayed: partial.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Role;

    #[test]
    fn anthropic_prefills_the_trimmed_partial() {
        let c = continuation(ProviderKind::Anthropic, "The answer is \n").unwrap();
        assert_eq!(c.messages.len(), 1);
        assert_eq!(c.messages[0].role, Role::Assistant);
        assert_eq!(c.messages[0].content, "The answer is");
        assert_eq!(c.replayed, "The answer is");
        assert_eq!(continuation(ProviderKind::Anthropic, "  \n"), None);
    }

    #[test]
    fn openai_sends_the_partial_then_asks_to_continue() {
        for kind in [ProviderKind::Openai, ProviderKind::OpenaiCompatible] {
            let c = continuation(kind, "The answer is ").unwrap();
            assert_eq!(c.messages[0].role, Role::Assistant);
            assert_eq!(c.messages[0].content, "The answer is ");
            assert_eq!(c.messages[1].role, Role::User);
            assert_eq!(c.messages[1].content, CONTINUE_PROMPT);
            assert_eq!(c.replayed, "The answer is ");
        }
        assert_eq!(continuation(ProviderKind::Openai, ""), None);
    }
}
