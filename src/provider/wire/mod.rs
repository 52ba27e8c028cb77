//! The client side of each wire format, behind one trait: where a request goes, the headers
//! and body it carries, how its plain and streamed replies are read, and how its error
//! replies are classified. The transport (`client/`) knows no format: it asks
//! [`format`] for the endpoint's and calls these methods.
//!
//! Adding a format: one file here implementing [`WireFormat`] (and a [`StreamParser`]), its
//! arm in [`format`] and its entry in [`FORMATS`]; the simulator's side is `sim/wire/`.

// `CallError` carries the provider detail by value (DESIGN §4); an attempt fails once, so
// the size of its error costs nothing measurable.
#![allow(clippy::result_large_err)]

pub mod anthropic;
pub mod azure_openai;
pub mod gemini;
pub mod openai;
pub mod openai_responses;

use super::classify::{self, snippet};
use super::headers;
use super::sse::{SseEvent, Step};
use super::{ChatRequest, ChatResponse};
use crate::error::{CallError, ErrorKind};
use crate::scenario::types::ProviderKind;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;

/// One wire format, as a client speaks it. Implementations are stateless (a `static` each);
/// a stream's state lives in the [`StreamParser`] they make.
pub trait WireFormat: Sync {
    /// The provider this format serves.
    fn provider(&self) -> ProviderKind;

    /// The provider's name for people: `OpenAI`, `Anthropic`, `OpenAI-compatible`.
    fn display_name(&self) -> &'static str;

    /// How its `base_url` is written, for the hint of a 404 from a wrong one.
    fn base_url_rule(&self) -> &'static str;

    /// The base URL of the official SDK's convention; `None` when the scenario must give one.
    fn default_base_url(&self) -> Option<&'static str>;

    /// The environment variable a live key is read from, unless the hop names its own.
    fn key_env(&self) -> Option<&'static str>;

    /// The variable (or `[keys]` entry) a live base URL is read from when the scenario gives
    /// none and there is no default (Azure's AZURE_OPENAI_ENDPOINT).
    fn base_url_env(&self) -> Option<&'static str> {
        None
    }

    /// The endpoint's `base_url` from the hop's base URL and its `api_version` (Azure puts
    /// it in the query); the base URL as it is for formats without one.
    fn endpoint_base(&self, base_url: String, api_version: Option<&str>) -> String {
        let _ = api_version;
        base_url
    }

    /// A variable that wins over [`WireFormat::key_env`] when it is set (Gemini's SDK reads
    /// `GOOGLE_API_KEY` before `GEMINI_API_KEY`); a missing key is asked for by `key_env`.
    fn key_env_first(&self) -> Option<&'static str> {
        None
    }

    /// The URL a request goes to, from the endpoint's `base_url` (the request, for formats
    /// whose URL names the model or the stream mode).
    fn url(&self, base_url: &str, req: &ChatRequest) -> String;

    /// The headers this format adds after `content-type` and `accept`: its version header,
    /// and the key where it wants it (marked sensitive, see [`secret_header`]).
    fn headers(&self, api_key: Option<&str>, h: &mut HeaderMap) -> Result<(), CallError>;

    /// The exact JSON body of a request.
    fn body(&self, req: &ChatRequest) -> Value;

    /// Parses a plain (non-streamed) HTTP 200 reply; `headers` serve the request id of an
    /// error the body may hold.
    fn parse_reply(
        &self,
        body: &[u8],
        headers: &[(String, String)],
    ) -> Result<ChatResponse, CallError>;

    /// A parser for one streamed reply.
    fn stream_parser(&self) -> Box<dyn StreamParser>;

    /// Classifies a non-2xx reply (its body already scrubbed of the key).
    fn classify_http(&self, status: u16, headers: &[(String, String)], body: &str) -> CallError {
        classify::classify_http(status, headers, body)
    }

    /// The error `type`s and `code`s this format's bodies and error events name, and the
    /// kind each means. Every format's names are understood on every endpoint (a compatible
    /// server or a proxy may send another API's names).
    fn error_types(&self) -> &'static [(&'static str, ErrorKind)];

    /// Whether a reply's finish (stop) reason says the provider cut the answer at its max
    /// tokens (`[fallback].on_result = ["length"]`): OpenAI `length`, Anthropic `max_tokens`.
    fn cut_at_max_tokens(&self, finish_reason: &str) -> bool {
        matches!(finish_reason, "length" | "max_tokens")
    }

    /// Whether the API continues a trailing assistant message (a prefill) as the start of
    /// its reply; a format without it is asked to continue in a user message instead
    /// (`stream_recovery = "continue"`, see `provider::resume`).
    fn takes_prefill(&self) -> bool {
        false
    }
}

/// Accumulates one streamed reply, an SSE event at a time.
pub trait StreamParser: Send {
    /// Handles one event; `on_delta` gets each piece of text. An error event, or a frame
    /// that is not what it should be, ends the stream with the error.
    fn event(
        &mut self,
        ev: &SseEvent,
        headers: &[(String, String)],
        on_delta: &mut dyn FnMut(&str),
    ) -> Result<Step, CallError>;

    /// The text so far (the partial output when the stream breaks).
    fn content(&self) -> &str;

    /// Bytes of text and tool-call arguments so far (the answer's size, for its cap).
    fn answer_bytes(&self) -> usize;

    /// The terminal event, named in the error of a stream that ended without it.
    fn terminal(&self) -> &'static str;

    /// The reply, once the terminal event arrived.
    fn finish(self: Box<Self>) -> ChatResponse;
}

/// The registration: the one place mapping a provider to its wire format.
pub fn format(kind: ProviderKind) -> &'static dyn WireFormat {
    match kind {
        ProviderKind::Openai => &openai::OPENAI,
        ProviderKind::OpenaiCompatible => &openai::COMPATIBLE,
        ProviderKind::Anthropic => &anthropic::ANTHROPIC,
        ProviderKind::OpenaiResponses => &openai_responses::OPENAI_RESPONSES,
        ProviderKind::AzureOpenai => &azure_openai::AZURE_OPENAI,
        ProviderKind::Gemini => &gemini::GEMINI,
    }
}

/// Every registered format (whose error names every endpoint understands).
pub const FORMATS: &[&dyn WireFormat] = &[
    &openai::OPENAI,
    &anthropic::ANTHROPIC,
    &openai::COMPATIBLE,
    &openai_responses::OPENAI_RESPONSES,
    &azure_openai::AZURE_OPENAI,
    &gemini::GEMINI,
];

/// The kind a provider error type or code names, in any registered format's table.
pub(crate) fn kind_for_type(t: &str) -> Option<ErrorKind> {
    FORMATS
        .iter()
        .flat_map(|f| f.error_types())
        .find(|(name, _)| *name == t)
        .map(|(_, kind)| *kind)
}

/// A header value carrying a credential: never shown (reqwest's sensitive flag), and a key
/// a header cannot carry is an `auth` error that does not quote it.
pub(crate) fn secret_header(value: &str) -> Result<HeaderValue, CallError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        CallError::new(
            ErrorKind::Auth,
            "the API key holds characters a header cannot carry",
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// `{base_url}{tail}`: trailing slashes, and a base that is already the full endpoint, are
/// handled.
pub(crate) fn join_url(base_url: &str, tail: &str) -> String {
    let base = base_url.trim().trim_end_matches('/');
    if base.ends_with(tail) {
        base.to_owned()
    } else {
        format!("{base}{tail}")
    }
}

/// A stream frame that is not the JSON it should be.
pub(crate) fn malformed(
    data: &str,
    e: &serde_json::Error,
    headers: &[(String, String)],
) -> CallError {
    CallError::new(
        ErrorKind::StreamInterrupted,
        format!(
            "malformed stream frame ({}): `{}`",
            classify::serde_reason(e),
            snippet(data)
        ),
    )
    .with_status(200)
    .with_request_id(headers::request_id(headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_is_registered_under_its_provider() {
        for f in FORMATS {
            assert_eq!(format(f.provider()).provider(), f.provider());
        }
        for kind in [
            ProviderKind::Openai,
            ProviderKind::OpenaiCompatible,
            ProviderKind::Anthropic,
            ProviderKind::AzureOpenai,
            ProviderKind::Gemini,
            ProviderKind::OpenaiResponses,
        ] {
            assert!(FORMATS.iter().any(|f| f.provider() == kind), "{kind}");
        }
    }

    #[test]
    fn no_error_name_means_two_kinds() {
        let names: Vec<_> = FORMATS.iter().flat_map(|f| f.error_types()).collect();
        for (name, kind) in &names {
            assert_eq!(kind_for_type(name), Some(*kind), "{name}");
        }
    }
}
