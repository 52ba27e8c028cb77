//! `stream_recovery` in a hop: what a streamed attempt that broke after some text arrived
//! leads to. `restart` (the default) forgets the text; `continue` keeps it and the next
//! attempt sends it back as the start of the reply (`provider::resume`), its content being
//! the replayed text + the new one; `surface` ends the call with the partial output and
//! the error. The text carries across the hop's attempts, never to another hop (another
//! model does not continue this one's answer).

use super::attempt::Failure;
use crate::error::CallError;
use crate::policy::StreamRecovery;
use crate::provider::ChatRequest;
use crate::provider::resume::continuation;
use crate::scenario::types::ProviderKind;

/// The answer so far of a hop under `stream_recovery = "continue"`.
#[derive(Debug, Default)]
pub(super) struct Resume {
    /// Everything the broken streams delivered (replayed + new), to send back next.
    text: String,
}

/// A streamed reply that stopped before its end after delivering text: a cut stream, an
/// idle timeout, an error event inside the stream. A whole reply that failed validation or
/// tools carries its usage and is not one: its text is a finished answer.
pub(super) fn broke_mid_stream(request: Option<&ChatRequest>, failure: &Failure) -> bool {
    request.is_some_and(|r| r.stream)
        && failure.usage.is_none()
        && !failure.partial_output.is_empty()
}

impl Resume {
    /// Appends the continuation to `request`; the text it replays (empty: none).
    pub(super) fn apply(&self, provider: ProviderKind, request: &mut ChatRequest) -> String {
        match continuation(provider, &self.text) {
            Some(c) => {
                request.messages.extend(c.messages);
                c.replayed
            }
            None => String::new(),
        }
    }

    /// After a failed attempt whose output (replayed text included) was `partial`: a
    /// broken stream's text is what the next attempt replays; a whole reply that failed
    /// starts the answer over; an attempt that brought no text (a 429) keeps it.
    pub(super) fn after(&mut self, broke: bool, failure: &Failure) {
        if broke {
            self.text.clone_from(&failure.partial_output);
        } else if failure.usage.is_some() {
            self.text.clear();
        }
    }
}

/// The `why` of a broken stream under `surface`: no more retries or hops.
pub(super) fn surface_why(error: &CallError, partial: &str) -> String {
    format!(
        "the stream broke ({}) after {} characters and stream_recovery = \"{}\": the call ends with the partial output and this error (no retry, no fallback)",
        error.kind,
        partial.chars().count(),
        StreamRecovery::Surface.as_str()
    )
}

/// What `continue` adds to the `why` of a retry after a broken stream.
pub(super) fn continue_why(partial: &str) -> String {
    format!(
        "; stream_recovery = \"continue\": the next attempt sends the {} characters received back as the start of its reply",
        partial.chars().count()
    )
}
