//! The simulator's side of each wire format, behind one trait ([`SimFormat`]): which path
//! it serves, how it reads a request, and the bytes of its replies, streams and errors.
//! The server (`server.rs`) has one route for all of them and plays the `[sim]` script the
//! same way whatever the format; this module also holds what the formats share: the parsed
//! request, the answer being sent, the parts of a stream, error replies and Retry-After.
//!
//! Adding a format: one file here implementing [`SimFormat`], and its entry in [`FORMATS`];
//! the client's side is `provider/wire/`.

pub mod anthropic;
pub mod azure_openai;
pub mod gemini;
pub mod openai;
pub mod openai_responses;

use super::limits::LimitInfo;
use crate::scenario::types::{FaultKind, FaultSpec, ProviderKind, RetryAfterFormat};
use axum::http::HeaderMap;
use serde::Serialize;
use std::time::{Duration, SystemTime};

/// One wire format as the simulator speaks it: byte for byte what the real API sends.
/// Implementations are stateless (a `static` each).
pub trait SimFormat: Sync {
    /// The provider whose requests this format serves (the script counts per provider).
    fn provider(&self) -> ProviderKind;

    /// The path of the base URL an SDK is given (`/v1` for OpenAI, empty for Anthropic).
    fn base_path(&self) -> &'static str;

    /// The endpoint's path, as the not-found reply names it.
    fn route(&self) -> &'static str;

    /// Whether a request to `path` is this format's (default: exactly [`SimFormat::route`];
    /// a format whose path names a model or deployment matches a pattern).
    fn serves(&self, path: &str) -> bool {
        path == self.route()
    }

    /// Reads what the simulator needs from a request, or the 400 the real API sends.
    fn parse(&self, req: &Incoming<'_>) -> Result<Request, ErrorReply>;

    /// The request id of the reply to request number `meta.global`.
    fn request_id(&self, meta: &Meta) -> String;

    /// The identity headers the API sends with every reply.
    fn identity(&self, request_id: &str) -> Vec<(&'static str, String)>;

    /// The full body of a non-streaming reply.
    fn full_body(&self, meta: &Meta, answer: &Answer) -> String;

    /// Headers a non-streaming reply adds, given how long it took.
    fn plain_headers(&self, latency: Duration) -> Vec<(&'static str, String)> {
        let _ = latency;
        Vec::new()
    }

    /// The SSE frames of a streamed reply.
    fn stream(&self, meta: &Meta, answer: &Answer, req: &Request) -> StreamParts;

    /// A frame whose data is not JSON (cut mid-object): `malformed_stream`.
    fn malformed_frame(&self, meta: &Meta) -> String;

    /// The error frame sent inside an HTTP 200 stream: `overloaded_in_stream`.
    fn stream_error(&self, fault: &FaultSpec) -> String;

    /// The error frame of `overloaded_in_stream` after `sent` tokens of `answer`, for a
    /// format whose error event names the response or counts the events before it
    /// (default: [`SimFormat::stream_error`]).
    fn stream_error_after(
        &self,
        meta: &Meta,
        answer: &Answer,
        sent: usize,
        fault: &FaultSpec,
    ) -> String {
        let _ = (meta, answer, sent);
        self.stream_error(fault)
    }

    /// Whether this format answers `fault`, which elsewhere ends an answer early, with its
    /// HTTP error reply instead ([`SimFormat::error`]): Azure refuses a prompt with a 400.
    fn refuses(&self, fault: &FaultSpec) -> bool {
        let _ = fault;
        false
    }

    /// The HTTP error reply of a fault (for the faults that are one).
    fn error(&self, fault: &FaultSpec, model: &str) -> ErrorReply;

    /// The header a fault's error reply says how long to wait in (default: Retry-After in
    /// its `retry_after_format`); `None` for a format that says it in the body only.
    fn wait_header(&self, fault: &FaultSpec) -> Option<(&'static str, String)> {
        retry_after_header(fault)
    }

    /// The 429 of an empty `[sim].limits` bucket: Retry-After is `info.retry_after`, written
    /// as this API writes it, with its rate-limit headers.
    fn rate_limited(&self, info: &LimitInfo, model: &str) -> ErrorReply;

    /// The rate-limit headers a reply carries while a limit covers its provider+model.
    fn limit_headers(&self, info: &LimitInfo) -> Vec<(&'static str, String)>;
}

/// An incoming request, as a format reads it.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    // For formats whose URL carries the model or the API version (Gemini, Azure: §16).
    #[allow(dead_code)]
    pub path: &'a str,
    #[allow(dead_code)]
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// The registration: every format the simulator serves, in the order the not-found reply
/// lists them.
pub const FORMATS: &[&dyn SimFormat] = &[
    &openai::OPENAI,
    &openai::COMPATIBLE,
    &anthropic::ANTHROPIC,
    &openai_responses::OPENAI_RESPONSES,
    &azure_openai::AZURE_OPENAI,
    &gemini::GEMINI,
];

/// The format serving `path`.
pub fn for_path(path: &str) -> Option<&'static dyn SimFormat> {
    FORMATS.iter().copied().find(|f| f.serves(path))
}

/// The format of `kind`'s requests.
pub fn for_provider(kind: ProviderKind) -> Option<&'static dyn SimFormat> {
    FORMATS.iter().copied().find(|f| f.provider() == kind)
}

/// What the simulator needs from a request body.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub model: String,
    pub stream: bool,
    /// OpenAI `stream_options.include_usage`.
    pub include_usage: bool,
    /// Tools offered and not switched off by `tool_choice`.
    pub offers_tools: bool,
    pub max_tokens: Option<u32>,
    pub input_tokens: u64,
}

/// Per-response identity: ids come from `global`, the server-wide request number, so a
/// replayed script produces the same bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Meta {
    pub global: u64,
    /// Unix seconds.
    pub created: u64,
    pub model: String,
    pub input_tokens: u64,
}

/// The answer being sent, already split into word-sized pieces.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Text {
        pieces: Vec<String>,
        /// How the text ends (cut at the request's `max_tokens`: [`Ending::Length`]).
        ending: Ending,
    },
    Tool {
        name: String,
        /// Exactly as scripted (possibly not valid JSON).
        args: String,
        pieces: Vec<String>,
    },
}

impl Answer {
    pub fn text(text: &str, max_tokens: Option<u32>) -> Answer {
        let mut pieces = super::tokens::split(text);
        let limit = max_tokens.map_or(usize::MAX, |m| m as usize);
        let ending = if pieces.len() > limit {
            Ending::Length
        } else {
            Ending::Stop
        };
        pieces.truncate(limit);
        Answer::Text { pieces, ending }
    }

    /// The answer a fault that ends a text early makes of it: the first `after_tokens`
    /// pieces (default: half) ending in `length` or `content_filter`, or nothing (`empty`).
    /// Other faults leave it as it is.
    pub fn ended_by(self, fault: &FaultSpec) -> Answer {
        let Answer::Text { mut pieces, ending } = self else {
            return self;
        };
        let keep = |pieces: &[String]| {
            fault
                .after_tokens
                .map_or(pieces.len() / 2, |k| k as usize)
                .min(pieces.len())
        };
        let ending = match fault.fault {
            FaultKind::Empty => {
                pieces.clear();
                Ending::Stop
            }
            FaultKind::Length => {
                pieces.truncate(keep(&pieces));
                Ending::Length
            }
            FaultKind::ContentFilter => {
                pieces.truncate(keep(&pieces));
                Ending::ContentFilter
            }
            _ => ending,
        };
        Answer::Text { pieces, ending }
    }

    pub fn tool(name: &str, args: &str) -> Answer {
        Answer::Tool {
            name: name.to_string(),
            args: args.to_string(),
            pieces: super::tokens::split_json(args),
        }
    }

    pub fn pieces(&self) -> &[String] {
        match self {
            Answer::Text { pieces, .. } | Answer::Tool { pieces, .. } => pieces,
        }
    }

    pub fn output_tokens(&self) -> u64 {
        self.pieces().len() as u64
    }
}

/// How a text answer ends, as each format names it in its finish or stop reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The model finished (OpenAI `stop`, Anthropic `end_turn`).
    Stop,
    /// Cut at the token limit (`length`, `max_tokens`).
    Length,
    /// Stopped by the content filter (`content_filter`, `refusal`).
    ContentFilter,
}

/// A stream in three parts: `head` goes out with the first token, one frame per token, and
/// `tail` (ending with the terminal event) when the reply is complete.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamParts {
    pub head: Vec<String>,
    pub tokens: Vec<String>,
    pub tail: Vec<String>,
}

/// An HTTP error reply.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorReply {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl ErrorReply {
    pub fn json(status: u16, body: String) -> ErrorReply {
        ErrorReply {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body,
        }
    }
}

/// The page a proxy in front of the API sends when the upstream fails.
pub const HTML_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n";

pub fn html_reply() -> ErrorReply {
    ErrorReply {
        status: 502,
        content_type: "text/html",
        headers: Vec::new(),
        body: HTML_502.to_string(),
    }
}

/// The Retry-After a fault sends: rate_limit always (1 s unless set), overloaded only when
/// `retry_after` is set, other faults never.
pub fn retry_after(fault: &FaultSpec) -> Option<Duration> {
    match (fault.fault, fault.retry_after) {
        (FaultKind::RateLimit, None) => Some(Duration::from_secs(1)),
        (FaultKind::RateLimit | FaultKind::Overloaded, Some(s)) => Some(s.as_duration()),
        _ => None,
    }
}

/// The Retry-After header of a fault, written in its `retry_after_format`.
pub fn retry_after_header(fault: &FaultSpec) -> Option<(&'static str, String)> {
    let delay = retry_after(fault)?;
    Some(
        match fault
            .retry_after_format
            .unwrap_or(RetryAfterFormat::Seconds)
        {
            RetryAfterFormat::Seconds => ("retry-after", seconds_text(delay)),
            RetryAfterFormat::Ms => ("retry-after-ms", delay.as_millis().to_string()),
            RetryAfterFormat::Date => {
                // HTTP dates have whole seconds: round up so the client never waits too little.
                let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
                let at = SystemTime::now() + Duration::from_secs(secs.min(10 * 365 * 86_400));
                ("retry-after", httpdate::fmt_http_date(at))
            }
        },
    )
}

/// A Retry-After in whole seconds, rounded up as servers write it (a client that waits that
/// long always finds the token).
pub fn whole_seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// Milliseconds, rounded up.
pub fn whole_millis(d: Duration) -> u128 {
    d.as_nanos().div_ceil(1_000_000)
}

/// "1", "20", "1.5": seconds as servers write them.
pub fn seconds_text(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        d.as_secs().to_string()
    } else {
        let text = format!("{:.3}", d.as_secs_f64());
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// "20s", "1.5s", "250ms": as OpenAI writes waits in its rate-limit message.
pub fn short_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", seconds_text(d))
    }
}

/// A JSON string literal (quotes and escapes included).
pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// Compact JSON of plain data (cannot fail for the simulator's own types).
pub fn compact<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Pretty JSON with `indent` spaces per level.
pub fn pretty<T: Serialize>(v: &T, indent: usize) -> String {
    let spaces = vec![b' '; indent];
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(&spaces);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    if v.serialize(&mut ser).is_err() {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Roughly how many tokens the prompt holds: the word count of every string in the values.
pub fn count_words(values: &[Option<&serde_json::Value>]) -> u64 {
    fn walk(v: &serde_json::Value) -> u64 {
        match v {
            serde_json::Value::String(s) => super::tokens::count(s),
            serde_json::Value::Array(items) => items.iter().map(walk).sum(),
            serde_json::Value::Object(map) => map.values().map(walk).sum(),
            _ => 0,
        }
    }
    values.iter().flatten().map(|v| walk(v)).sum::<u64>().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Secs;
    use crate::sim::script::bare_fault;

    #[test]
    fn retry_after_defaults_and_formats() {
        let rl = bare_fault(FaultKind::RateLimit);
        assert_eq!(retry_after_header(&rl), Some(("retry-after", "1".into())));
        let ms = FaultSpec {
            retry_after: Some(Secs(1.5)),
            retry_after_format: Some(RetryAfterFormat::Ms),
            ..rl.clone()
        };
        assert_eq!(
            retry_after_header(&ms),
            Some(("retry-after-ms", "1500".into()))
        );
        let frac = FaultSpec {
            retry_after: Some(Secs(2.25)),
            ..rl.clone()
        };
        assert_eq!(
            retry_after_header(&frac),
            Some(("retry-after", "2.25".into()))
        );
        let date = FaultSpec {
            retry_after: Some(Secs(30.0)),
            retry_after_format: Some(RetryAfterFormat::Date),
            ..rl
        };
        let (name, value) = retry_after_header(&date).unwrap();
        assert_eq!(name, "retry-after");
        let at = httpdate::parse_http_date(&value).unwrap();
        let ahead = at.duration_since(SystemTime::now()).unwrap();
        assert!(ahead > Duration::from_secs(28) && ahead <= Duration::from_secs(31));
        assert_eq!(retry_after_header(&bare_fault(FaultKind::Overloaded)), None);
        assert_eq!(
            retry_after_header(&bare_fault(FaultKind::ServerError)),
            None
        );
    }

    #[test]
    fn answers_split_and_truncate() {
        let a = Answer::text("one two three", Some(2));
        assert_eq!(
            a,
            Answer::Text {
                pieces: vec!["one".into(), " two".into()],
                ending: Ending::Length
            }
        );
        assert_eq!(a.output_tokens(), 2);
        let full = Answer::text("a b c d", None);
        let cut = |kind: FaultKind, after: Option<u32>| {
            full.clone().ended_by(&FaultSpec {
                after_tokens: after,
                ..bare_fault(kind)
            })
        };
        assert_eq!(
            cut(FaultKind::Length, None),
            Answer::Text {
                pieces: vec!["a".into(), " b".into()],
                ending: Ending::Length
            }
        );
        assert_eq!(
            cut(FaultKind::ContentFilter, Some(9)),
            Answer::Text {
                pieces: full.pieces().to_vec(),
                ending: Ending::ContentFilter
            }
        );
        assert_eq!(cut(FaultKind::Empty, None).pieces().len(), 0);
        assert_eq!(cut(FaultKind::ServerError, None), full);
        assert_eq!(whole_seconds(Duration::from_millis(1001)), 2);
        assert_eq!(whole_seconds(Duration::from_secs(1)), 1);
        assert_eq!(whole_millis(Duration::from_nanos(1_000_001)), 2);
        assert_eq!(short_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(short_duration(Duration::from_secs(20)), "20s");
    }

    #[test]
    fn every_provider_is_served_once() {
        for kind in [
            ProviderKind::Openai,
            ProviderKind::OpenaiCompatible,
            ProviderKind::Anthropic,
            ProviderKind::AzureOpenai,
            ProviderKind::Gemini,
            ProviderKind::OpenaiResponses,
        ] {
            let f = for_provider(kind).unwrap();
            assert_eq!(for_path(f.route()).map(|f| f.provider()), Some(kind));
        }
        assert!(for_path("/v1/chat/completions/").is_none());
    }

    #[test]
    fn pretty_uses_the_given_indent() {
        #[derive(Serialize)]
        struct A {
            a: u8,
        }
        assert_eq!(pretty(&A { a: 1 }, 4), "{\n    \"a\": 1\n}");
        assert_eq!(pretty(&A { a: 1 }, 2), "{\n  \"a\": 1\n}");
    }
}
