//! The HTTP side of a call: posts the wire body, reads the plain or streamed reply under the
//! run clock's timeouts, and turns every failure into a classified [`AttemptError`].
//!
//! No hidden retries: reqwest's retry policy is off, and each `send` is one HTTP request.
//! Timeouts (`first_byte`, `idle`, `total`) are deadlines on the run's [`Clock`], so the
//! simulator's virtual time drives them; only `connect` is real time (reqwest's).
//! On the virtual clock each parsed stream event is acknowledged (`Clock::frame_received`),
//! so the simulator never runs ahead of what the client has seen.
//!
//! By job: `transport.rs` (the reqwest clients, redirects refused, headers, connection
//! failures), `call.rs` (one attempt: send, classify, read a plain reply, bounded),
//! `stream.rs` (the deadlines, and a streamed reply turned into text and tool calls). What
//! differs per wire format is asked of [`super::wire::format`].

// `CallError` carries the provider detail by value (DESIGN §4); an attempt fails once, so
// the size of its error costs nothing measurable.
#![allow(clippy::result_large_err)]

mod call;
mod local;
mod stream;
mod transport;

pub use local::{LocalReply, LocalRequest, LocalServer};
pub use transport::root_cause;

use super::redact::scrub_exchange;
use super::wire;
use super::{AttemptError, ChatRequest, ChatResponse, Endpoint, Timeouts};
use crate::clock::Clock;
use crate::error::CallError;
use crate::scenario::types::ProviderKind;
use call::{Call, Failure};
use std::fmt;
use std::sync::Arc;

/// How much of a reply body an [`crate::event::HttpExchange`] keeps.
pub const EXCHANGE_BODY_CAP: usize = 64 * 1024;

/// How large a reply an attempt accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyLimits {
    /// The answer: a plain reply's body, or a stream's text plus tool-call arguments
    /// (`[call].max_answer_bytes`). Passing it fails the attempt as `server_error`, as a
    /// server that never stops answering is at fault (and a retry may get a sane answer).
    pub max_answer_bytes: usize,
    /// Everything a stream may carry, decompressed, framing included (a stream of keep-alive
    /// comments or of empty deltas grows nothing but never ends). Passing it is
    /// `stream_interrupted`.
    pub max_stream_bytes: usize,
}

impl ReplyLimits {
    /// Default answer cap: 32 MiB.
    pub const DEFAULT_ANSWER: usize = 32 << 20;
    /// A stream may carry this many times its answer cap: SSE framing around token-sized
    /// deltas is 40-60 bytes per byte of text, so the answer cap is the one that fires.
    pub const STREAM_PER_ANSWER: usize = 128;

    /// Limits for an answer cap of `bytes`.
    pub fn with_answer(bytes: usize) -> ReplyLimits {
        ReplyLimits {
            max_answer_bytes: bytes,
            max_stream_bytes: bytes.saturating_mul(Self::STREAM_PER_ANSWER),
        }
    }
}

impl Default for ReplyLimits {
    fn default() -> ReplyLimits {
        ReplyLimits::with_answer(Self::DEFAULT_ANSWER)
    }
}

/// The wire client for every provider; cheap to clone (shared connection pools).
#[derive(Clone)]
pub struct Client {
    inner: Arc<transport::Pools>,
    /// Set: every request goes to this in-process server instead (the lab).
    local: Option<Arc<dyn LocalServer>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Client { .. }")
    }
}

impl Client {
    /// A client with no retries, no redirects, gzip, HTTP/1.1 and HTTP/2 (ALPN), and no
    /// total timeout of its own. Connection pools are set up on first use.
    pub fn new() -> Result<Client, CallError> {
        Ok(Client {
            inner: Arc::new(transport::Pools::default()),
            local: None,
        })
    }

    /// A client whose every request goes to `server`, in-process (no socket), whatever the
    /// endpoint's host: the bytes and the parsers are those of [`Client::new`]'s.
    pub fn local(server: Arc<dyn LocalServer>) -> Client {
        Client {
            inner: Arc::new(transport::Pools::default()),
            local: Some(server),
        }
    }

    /// The exact JSON body `send` posts.
    pub fn body(kind: ProviderKind, req: &ChatRequest) -> serde_json::Value {
        wire::format(kind).body(req)
    }

    /// The URL `send` posts to: the endpoint's base URL completed by its wire format
    /// (`/chat/completions` for OpenAI style, `/v1/messages` for Anthropic).
    pub fn url(endpoint: &Endpoint, req: &ChatRequest) -> String {
        wire::format(endpoint.kind).url(&endpoint.base_url, req)
    }

    /// The request's headers as `send` sets them, for showing: a sensitive value (the key,
    /// a custom header) reads `[redacted]`. Empty when they cannot be built (the attempt
    /// then fails saying why).
    pub fn shown_headers(endpoint: &Endpoint, req: &ChatRequest) -> Vec<(String, String)> {
        let Ok(h) = transport::request_headers(wire::format(endpoint.kind), endpoint, req.stream)
        else {
            return Vec::new();
        };
        h.iter()
            .map(|(name, value)| {
                let shown = if value.is_sensitive() {
                    crate::provider::redact::REDACTED.to_string()
                } else {
                    String::from_utf8_lossy(value.as_bytes()).into_owned()
                };
                (name.as_str().to_string(), shown)
            })
            .collect()
    }

    #[cfg(any(test, feature = "test-util"))]
    /// One HTTP exchange. `on_delta` gets each piece of streamed text as it arrives (plain
    /// replies do not call it: their text is in the response).
    pub async fn send(
        &self,
        endpoint: &Endpoint,
        req: &ChatRequest,
        timeouts: &Timeouts,
        clock: &Clock,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<ChatResponse, AttemptError> {
        self.send_with(
            endpoint,
            req,
            timeouts,
            ReplyLimits::default(),
            clock,
            on_delta,
        )
        .await
    }

    /// [`Client::send`] under given reply size limits.
    pub async fn send_with(
        &self,
        endpoint: &Endpoint,
        req: &ChatRequest,
        timeouts: &Timeouts,
        limits: ReplyLimits,
        clock: &Clock,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<ChatResponse, AttemptError> {
        self.send_with_headers(endpoint, req, timeouts, limits, clock, &[], on_delta)
            .await
    }

    /// [`Client::send_with`], the request also carrying `extra` headers (not sensitive:
    /// the SDK layer's `x-stainless-retry-count`).
    #[allow(clippy::too_many_arguments)]
    pub async fn send_with_headers(
        &self,
        endpoint: &Endpoint,
        req: &ChatRequest,
        timeouts: &Timeouts,
        limits: ReplyLimits,
        clock: &Clock,
        extra: &[(&'static str, String)],
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<ChatResponse, AttemptError> {
        let mut call = Call::new(endpoint, req, timeouts, limits, clock);
        call.extra_headers = extra.to_vec();
        // Frames of an earlier exchange that were never parsed never will be.
        clock.settle();
        let via = match &self.local {
            Some(server) => call::Via::Local(server.as_ref()),
            None => call::Via::Http(&self.inner),
        };
        let result = call.run(via, endpoint, req, on_delta).await;
        clock.settle();
        let mut exchange = call.exchange;
        exchange.body = transport::capped_text(&call.raw);
        // The body is cut at its cap: a key may be cut there too.
        let cut = call.raw.len() >= EXCHANGE_BODY_CAP;
        scrub_exchange(&mut exchange, &call.secrets, cut);
        match result {
            Ok(mut r) => {
                r.exchange = exchange;
                Ok(r)
            }
            Err(Failure { mut error, partial }) => {
                call.secrets.scrub(&mut error.message);
                Err(AttemptError {
                    error,
                    partial_output: partial,
                    exchange: Some(exchange),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn req() -> ChatRequest {
        ChatRequest {
            model: "m".into(),
            system: None,
            messages: vec![],
            temperature: None,
            max_tokens: None,
            stream: false,
            tools: vec![],
        }
    }

    #[test]
    fn urls() {
        let cases = [
            (
                ProviderKind::Openai,
                "https://api.openai.com/v1",
                "https://api.openai.com/v1/chat/completions",
            ),
            (
                ProviderKind::Openai,
                "https://api.openai.com/v1/",
                "https://api.openai.com/v1/chat/completions",
            ),
            (
                ProviderKind::OpenaiCompatible,
                "http://127.0.0.1:8080/v1//",
                "http://127.0.0.1:8080/v1/chat/completions",
            ),
            (
                ProviderKind::OpenaiCompatible,
                "http://h/v1/chat/completions",
                "http://h/v1/chat/completions",
            ),
            (
                ProviderKind::Anthropic,
                "https://api.anthropic.com",
                "https://api.anthropic.com/v1/messages",
            ),
            (
                ProviderKind::Anthropic,
                "https://api.anthropic.com/",
                "https://api.anthropic.com/v1/messages",
            ),
            (
                ProviderKind::Anthropic,
                "https://api.anthropic.com/v1",
                "https://api.anthropic.com/v1/messages",
            ),
            (
                ProviderKind::Anthropic,
                "http://h/v1/messages/",
                "http://h/v1/messages",
            ),
        ];
        for (kind, base, want) in cases {
            let e = Endpoint {
                kind,
                base_url: base.into(),
                api_key: None,
                headers: vec![],
            };
            assert_eq!(Client::url(&e, &req()), want, "{base}");
        }
    }

    #[test]
    fn debug_output_holds_no_key() {
        let c = Client::new().unwrap();
        assert_eq!(format!("{c:?}"), "Client { .. }");
    }

    #[test]
    fn send_is_send() {
        fn assert_send<T: Send>(_: &T) {}
        let c = Client::new().unwrap();
        let e = Endpoint {
            kind: ProviderKind::Openai,
            base_url: "http://127.0.0.1:9".into(),
            api_key: Some("sk-test-0123456789".into()),
            headers: vec![],
        };
        let r = req();
        let t = Timeouts::default();
        let clock = Clock::virtual_time(crate::clock::Speed::Max);
        let mut cb = |_: &str| {};
        let fut = c.send(&e, &r, &t, &clock, &mut cb);
        assert_send(&fut);
    }
}
