//! One attempt: build and send the request, record the reply's status and headers, and
//! turn it into a response or a classified failure: a redirect (never followed), an error
//! reply (classified by the wire format), a plain reply read whole under its size cap, or a
//! stream (`stream.rs`).

// `CallError` carries the provider detail by value (DESIGN §4); an attempt fails once, so
// the size of its error costs nothing measurable.
#![allow(clippy::result_large_err)]

use super::local::{LocalRequest, LocalServer, Reply};
use super::stream::{TimeoutKind, Watch, timeout_error};
use super::transport::{Pools, no_reply, request_headers, send_error};
use super::{EXCHANGE_BODY_CAP, ReplyLimits};
use crate::clock::Clock;
use crate::error::{CallError, ErrorKind};
use crate::event::HttpExchange;
use crate::provider::redact::Secrets;
use crate::provider::wire::{self, WireFormat};
use crate::provider::{ChatRequest, ChatResponse, Endpoint, Timeouts};
use crate::provider::{classify, headers};

/// An error reply's body is read up to this much (the status already decides its kind).
const MAX_REPLY_BYTES: usize = 32 << 20;

/// A failed attempt before the exchange is attached.
pub(super) struct Failure {
    pub(super) error: CallError,
    pub(super) partial: String,
}

impl From<CallError> for Failure {
    fn from(error: CallError) -> Failure {
        Failure {
            error,
            partial: String::new(),
        }
    }
}

/// One attempt in progress.
pub(super) struct Call<'a> {
    pub(super) wire: &'static dyn WireFormat,
    pub(super) timeouts: &'a Timeouts,
    pub(super) limits: ReplyLimits,
    /// The endpoint's key.
    pub(super) secrets: Secrets,
    pub(super) watch: Watch<'a>,
    pub(super) exchange: HttpExchange,
    /// The first [`EXCHANGE_BODY_CAP`] bytes of the reply body.
    pub(super) raw: Vec<u8>,
    /// SSE events seen.
    pub(super) events: usize,
    /// Headers added after the format's and the endpoint's (never sensitive).
    pub(super) extra_headers: Vec<(&'static str, String)>,
}

/// Why reading a whole body stopped.
pub(super) enum ReadFail {
    Timeout(TimeoutKind),
    Io(String),
    TooLarge,
}

impl<'a> Call<'a> {
    pub(super) fn new(
        endpoint: &Endpoint,
        req: &ChatRequest,
        timeouts: &'a Timeouts,
        limits: ReplyLimits,
        clock: &'a Clock,
    ) -> Call<'a> {
        let wire = wire::format(endpoint.kind);
        Call {
            wire,
            timeouts,
            limits,
            // The key, to scrub from anything the server sends back before it is cut or
            // quoted.
            secrets: Secrets::new(endpoint.api_key.as_deref()),
            watch: Watch::new(clock, timeouts),
            exchange: HttpExchange {
                url: wire.url(&endpoint.base_url, req),
                ..HttpExchange::default()
            },
            raw: Vec::new(),
            events: 0,
            extra_headers: Vec::new(),
        }
    }
}

/// How a request reaches its server.
#[derive(Clone, Copy)]
pub(super) enum Via<'a> {
    Http(&'a Pools),
    Local(&'a dyn LocalServer),
}

impl Call<'_> {
    pub(super) async fn run(
        &mut self,
        via: Via<'_>,
        endpoint: &Endpoint,
        req: &ChatRequest,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<ChatResponse, Failure> {
        let (url, headers, body) = self.request(endpoint, req)?;
        let sent = match via {
            Via::Http(pools) => {
                let http = pools.http_for(&url, self.timeouts.connect)?;
                let request = http.post(url.clone()).headers(headers).body(body);
                let sent_at = std::time::Instant::now();
                match self.watch.race(request.send()).await {
                    Ok(Ok(r)) => Ok(Reply::Http(r)),
                    Ok(Err(e)) => Err(send_error(&e, &url, self.timeouts, sent_at.elapsed())),
                    Err(which) => Err(self.timed_out(which, "no response")),
                }
            }
            Via::Local(server) => {
                let path_and_query = match url.query() {
                    Some(q) => format!("{}?{q}", url.path()),
                    None => url.path().to_owned(),
                };
                let request = LocalRequest {
                    path_and_query,
                    headers,
                    body: body.into(),
                };
                match self.watch.race(server.exchange(request)).await {
                    Ok(Ok(r)) => Ok(Reply::Local(r)),
                    Ok(Err(cause)) => Err(no_reply(&url, &cause)),
                    Err(which) => Err(self.timed_out(which, "no response")),
                }
            }
        };
        let mut resp = sent?;
        let status = resp.status();
        let resp_headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        self.exchange.status = Some(status);
        self.exchange.headers = resp_headers.clone();

        if (300..400).contains(&status) {
            // Never followed (the client's redirect policy is `none`): nothing goes to the
            // Location. Named in full, resolved against the request URL.
            let location = headers::header(&resp_headers, "location")
                .map(|l| url.join(l).map_or_else(|_| l.to_owned(), String::from));
            return Err(classify::redirect_error(status, location.as_deref()).into());
        }
        if !(200..300).contains(&status) {
            return Err(self
                .error_reply(&mut resp, status, &resp_headers)
                .await
                .into());
        }
        // JSON (an error body, or a server that ignores `stream`) or HTML (a captive portal)
        // is read whole even when a stream was asked for.
        let not_sse = headers::header(&resp_headers, "content-type").is_some_and(|ct| {
            let ct = ct.to_ascii_lowercase();
            ct.contains("json") || ct.contains("html")
        });
        if req.stream && !not_sse {
            return self.read_stream(&mut resp, &resp_headers, on_delta).await;
        }
        self.plain_reply(&mut resp, status, &resp_headers).await
    }

    /// The request to send: its URL, headers and body.
    fn request(
        &self,
        endpoint: &Endpoint,
        req: &ChatRequest,
    ) -> Result<(reqwest::Url, reqwest::header::HeaderMap, Vec<u8>), CallError> {
        let url = reqwest::Url::parse(&self.exchange.url).map_err(|e| {
            CallError::new(
                ErrorKind::BadRequest,
                format!("invalid base_url `{}`: {e}", endpoint.base_url),
            )
        })?;
        let mut headers = request_headers(self.wire, endpoint, req.stream)?;
        for (name, value) in &self.extra_headers {
            let value = reqwest::header::HeaderValue::from_str(value).map_err(|_| {
                CallError::new(
                    ErrorKind::BadRequest,
                    format!("the value of header `{name}` holds characters a header cannot carry"),
                )
            })?;
            headers.insert(reqwest::header::HeaderName::from_static(name), value);
        }
        let body = serde_json::to_vec(&self.wire.body(req)).map_err(|e| {
            CallError::new(
                ErrorKind::BadRequest,
                format!("cannot encode the request: {e}"),
            )
        })?;
        Ok((url, headers, body))
    }

    /// A non-2xx reply, classified by its wire format on whatever part of the body arrives
    /// (the status decides the kind).
    async fn error_reply(
        &mut self,
        resp: &mut Reply,
        status: u16,
        headers: &[(String, String)],
    ) -> CallError {
        self.watch.idle();
        let mut body = Vec::new();
        let _ = self.read_all(resp, &mut body, MAX_REPLY_BYTES).await;
        // Scrubbed before classifying: its message quotes a snippet of the body, which
        // could cut a key where no scrub would find it.
        let mut text = String::from_utf8_lossy(&body).into_owned();
        self.secrets.scrub(&mut text);
        self.wire.classify_http(status, headers, &text)
    }

    /// A 2xx reply read whole (under the answer cap) and parsed by the wire format.
    async fn plain_reply(
        &mut self,
        resp: &mut Reply,
        status: u16,
        headers: &[(String, String)],
    ) -> Result<ChatResponse, Failure> {
        self.watch.idle();
        let mut body = Vec::new();
        let cap = self.limits.max_answer_bytes;
        if let Err(fail) = self.read_all(resp, &mut body, cap).await {
            return Err(match fail {
                ReadFail::Timeout(which) => self.timed_out(which, "the reply body stalled"),
                ReadFail::Io(cause) => CallError::new(
                    ErrorKind::Connection,
                    format!("the connection broke while reading the reply: {cause}"),
                )
                .with_status(status),
                ReadFail::TooLarge => CallError::new(
                    ErrorKind::ServerError,
                    format!(
                        "the reply is larger than {} (max_answer_bytes): stopped reading",
                        crate::units::bytes(cap as u64)
                    ),
                )
                .with_status(status),
            }
            .into());
        }
        Ok(self.wire.parse_reply(&body, headers)?)
    }

    /// Reads a whole body into `out`, an idle deadline between chunks.
    async fn read_all(
        &mut self,
        resp: &mut Reply,
        out: &mut Vec<u8>,
        cap: usize,
    ) -> Result<(), ReadFail> {
        loop {
            match self.watch.race(resp.chunk()).await {
                Ok(Ok(Some(chunk))) => {
                    self.capture(&chunk);
                    if out.len() + chunk.len() > cap {
                        return Err(ReadFail::TooLarge);
                    }
                    out.extend_from_slice(&chunk);
                    self.watch.idle();
                }
                Ok(Ok(None)) => return Ok(()),
                Ok(Err(cause)) => return Err(ReadFail::Io(cause)),
                Err(which) => return Err(ReadFail::Timeout(which)),
            }
        }
    }

    /// Keeps the start of the reply body for the exchange record.
    pub(super) fn capture(&mut self, chunk: &[u8]) {
        let room = EXCHANGE_BODY_CAP.saturating_sub(self.raw.len());
        self.raw.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }

    pub(super) fn timed_out(&self, which: TimeoutKind, what: &str) -> CallError {
        let mut e = timeout_error(which, self.watch.limit(which), what);
        e.status = self.exchange.status;
        e
    }
}
