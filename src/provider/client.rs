//! The HTTP side of a call: posts the wire body, reads the plain or streamed reply under the
//! run clock's timeouts, and turns every failure into a classified [`AttemptError`].
//!
//! No hidden retries: reqwest's retry policy is off, and each `send` is one HTTP request.
//! Timeouts (`first_byte`, `idle`, `total`) are deadlines on the run's [`Clock`], so the
//! simulator's virtual time drives them; only `connect` is real time (reqwest's).
//! On the virtual clock each parsed stream event is acknowledged (`Clock::frame_received`),
//! so the simulator never runs ahead of what the client has seen.

// `CallError` carries the provider detail by value (DESIGN §4); an attempt fails once, so
// the size of its error costs nothing measurable.
#![allow(clippy::result_large_err)]

use super::classify::{self, TimeoutKind, fmt_duration, root_cause, timeout_error};
use super::sse::{SseDecoder, Step};
use super::{AttemptError, ChatRequest, ChatResponse, Endpoint, Timeouts, anthropic, openai};
use crate::clock::{Clock, Deadline};
use crate::error::{CallError, ErrorKind};
use crate::event::HttpExchange;
use crate::provider::redact::Secrets;
use crate::scenario::types::ProviderKind;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How much of a reply body an [`HttpExchange`] keeps.
pub const EXCHANGE_BODY_CAP: usize = 64 * 1024;

/// An error reply's body is read up to this much (the status already decides its kind).
const MAX_REPLY_BYTES: usize = 32 << 20;

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

/// A size in words: `32 MiB`, `64 KiB`, `100 bytes`.
fn fmt_bytes(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// The wire client for every provider; cheap to clone (shared connection pools).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Pools>,
}

/// What a reqwest client is set up for; each is built on first use, so a run against the
/// loopback simulator never loads the system's TLS roots (most of start-up time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Flavor {
    /// Never through a proxy (loopback hosts); else the system proxy applies.
    direct: bool,
    /// Loads the TLS roots: https URLs, and anything through a proxy (which may be https).
    tls: bool,
    connect: Option<Duration>,
}

impl Flavor {
    fn of(url: &reqwest::Url, connect: Option<Duration>) -> Flavor {
        let direct = is_loopback(url);
        Flavor {
            direct,
            tls: !direct || url.scheme() != "http",
            connect,
        }
    }
}

struct Pools {
    /// One client per flavour used so far (a handful at most).
    built: Mutex<Vec<(Flavor, reqwest::Client)>>,
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
            inner: Arc::new(Pools {
                built: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The exact JSON body `send` posts.
    pub fn body(kind: ProviderKind, req: &ChatRequest) -> serde_json::Value {
        match kind {
            ProviderKind::Openai => openai::body(req, true),
            ProviderKind::OpenaiCompatible => openai::body(req, false),
            ProviderKind::Anthropic => anthropic::body(req),
        }
    }

    /// `{base_url}/chat/completions` (OpenAI style) or `{base_url}/v1/messages` (Anthropic);
    /// trailing slashes, an Anthropic base that already ends in `/v1`, and a base that is
    /// already the full endpoint are all handled.
    pub fn url(endpoint: &Endpoint) -> String {
        let base = endpoint.base_url.trim().trim_end_matches('/');
        let tail = match endpoint.kind {
            ProviderKind::Anthropic => "/v1/messages",
            ProviderKind::Openai | ProviderKind::OpenaiCompatible => "/chat/completions",
        };
        if base.ends_with(tail) {
            base.to_owned()
        } else if endpoint.kind == ProviderKind::Anthropic && base.ends_with("/v1") {
            format!("{base}/messages")
        } else {
            format!("{base}{tail}")
        }
    }

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
        // The key, to scrub from anything the server sends back before it is cut or quoted.
        let secrets = Secrets::new(endpoint.api_key.as_deref());
        let mut call = Call {
            kind: endpoint.kind,
            timeouts,
            limits,
            secrets,
            watch: Watch::new(clock, timeouts),
            exchange: HttpExchange {
                url: Client::url(endpoint),
                ..HttpExchange::default()
            },
            raw: Vec::new(),
            events: 0,
        };
        // Frames of an earlier exchange that were never parsed never will be.
        clock.settle();
        let result = call.run(self, endpoint, req, on_delta).await;
        clock.settle();
        let mut exchange = call.exchange;
        exchange.body = capped_text(&call.raw);
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

    fn http_for(
        &self,
        url: &reqwest::Url,
        connect: Option<Duration>,
    ) -> Result<reqwest::Client, CallError> {
        let flavor = Flavor::of(url, connect);
        // Plain data behind the lock; a poisoned lock is still consistent.
        let mut built = self
            .inner
            .built
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, c)) = built.iter().find(|(f, _)| *f == flavor) {
            return Ok(c.clone());
        }
        let c = build(flavor)?;
        built.push((flavor, c.clone()));
        Ok(c)
    }
}

/// The kernel's `TCP_USER_TIMEOUT` for our sockets: none. reqwest sets 30 s by default,
/// which also caps a connect: a black-holed connect then failed at 30 s whatever
/// `connect_timeout` said. Our own deadlines (`connect_timeout`, and `first_byte`, `idle`,
/// `total` on the run clock) bound every phase instead.
const TCP_USER_TIMEOUT: Option<Duration> = None;

fn build(flavor: Flavor) -> Result<reqwest::Client, CallError> {
    let mut b = reqwest::Client::builder()
        .retry(reqwest::retry::never())
        // An LLM API never needs a redirect; following one would carry the key and the
        // custom headers to the Location (see the 3xx path in `Call::run`).
        .redirect(reqwest::redirect::Policy::none())
        .gzip(true)
        .user_agent(concat!("retrylab/", env!("CARGO_PKG_VERSION")))
        .pool_idle_timeout(Duration::from_secs(60))
        .tcp_user_timeout(TCP_USER_TIMEOUT);
    if flavor.direct {
        b = b.no_proxy();
    }
    if !flavor.tls {
        // Plain http to loopback: no TLS roots to load (an https URL gets the other flavour).
        b = b.tls_certs_only(Vec::new());
    }
    if let Some(d) = flavor.connect {
        b = b.connect_timeout(d);
    }
    b.build().map_err(|e| {
        CallError::new(
            ErrorKind::Connection,
            format!("cannot set up the HTTP client: {}", root_cause(&e)),
        )
    })
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or("");
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A failed attempt before the exchange is attached.
struct Failure {
    error: CallError,
    partial: String,
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
struct Call<'a> {
    kind: ProviderKind,
    timeouts: &'a Timeouts,
    limits: ReplyLimits,
    /// The endpoint's key.
    secrets: Secrets,
    watch: Watch<'a>,
    exchange: HttpExchange,
    /// The first [`EXCHANGE_BODY_CAP`] bytes of the reply body.
    raw: Vec<u8>,
    /// SSE events seen.
    events: usize,
}

impl Call<'_> {
    async fn run(
        &mut self,
        client: &Client,
        endpoint: &Endpoint,
        req: &ChatRequest,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<ChatResponse, Failure> {
        let url = reqwest::Url::parse(&self.exchange.url).map_err(|e| {
            CallError::new(
                ErrorKind::BadRequest,
                format!("invalid base_url `{}`: {e}", endpoint.base_url),
            )
        })?;
        let http = client.http_for(&url, self.timeouts.connect)?;
        let headers = request_headers(endpoint, req.stream)?;
        let body = serde_json::to_vec(&Client::body(self.kind, req)).map_err(|e| {
            CallError::new(
                ErrorKind::BadRequest,
                format!("cannot encode the request: {e}"),
            )
        })?;
        let send = http.post(url.clone()).headers(headers).body(body).send();
        let sent_at = std::time::Instant::now();
        let mut resp = match self.watch.race(send).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Err(self.send_error(&e, &url, sent_at.elapsed()).into()),
            Err(which) => return Err(self.timed_out(which, "no response").into()),
        };
        let status = resp.status().as_u16();
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

        if resp.status().is_redirection() {
            // Never followed (the client's redirect policy is `none`): nothing goes to the
            // Location. Named in full, resolved against the request URL.
            let location = classify::header(&resp_headers, "location")
                .map(|l| url.join(l).map_or_else(|_| l.to_owned(), String::from));
            return Err(classify::redirect_error(status, location.as_deref()).into());
        }

        if !resp.status().is_success() {
            // Classify on whatever part of the body arrives: the status decides the kind.
            self.watch.idle();
            let mut body = Vec::new();
            let _ = self.read_all(&mut resp, &mut body, MAX_REPLY_BYTES).await;
            // Scrubbed before classifying: its message quotes a snippet of the body, which
            // could cut a key where no scrub would find it.
            let mut text = String::from_utf8_lossy(&body).into_owned();
            self.secrets.scrub(&mut text);
            return Err(classify::classify_http(status, &resp_headers, &text).into());
        }

        // JSON (an error body, or a server that ignores `stream`) or HTML (a captive portal)
        // is read whole even when a stream was asked for.
        let not_sse = classify::header(&resp_headers, "content-type").is_some_and(|ct| {
            let ct = ct.to_ascii_lowercase();
            ct.contains("json") || ct.contains("html")
        });
        if req.stream && !not_sse {
            return self.read_stream(&mut resp, &resp_headers, on_delta).await;
        }
        self.watch.idle();
        let mut body = Vec::new();
        let cap = self.limits.max_answer_bytes;
        if let Err(fail) = self.read_all(&mut resp, &mut body, cap).await {
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
                        fmt_bytes(cap)
                    ),
                )
                .with_status(status),
            }
            .into());
        }
        let parsed = match self.kind {
            ProviderKind::Anthropic => anthropic::parse_reply(&body, &resp_headers),
            ProviderKind::Openai | ProviderKind::OpenaiCompatible => {
                openai::parse_reply(&body, &resp_headers)
            }
        };
        Ok(parsed?)
    }

    /// Reads a whole body into `out`, an idle deadline between chunks.
    async fn read_all(
        &mut self,
        resp: &mut reqwest::Response,
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
                Ok(Err(e)) => return Err(ReadFail::Io(root_cause(&e))),
                Err(which) => return Err(ReadFail::Timeout(which)),
            }
        }
    }

    async fn read_stream(
        &mut self,
        resp: &mut reqwest::Response,
        headers: &[(String, String)],
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<ChatResponse, Failure> {
        let mut wire = Wire::new(self.kind);
        let mut decoder = SseDecoder::new();
        let mut batch = Vec::new();
        // Decompressed bytes so far: a small gzip'd stream can inflate without end.
        let mut streamed = 0usize;
        let limits = self.limits;
        loop {
            let chunk = match self.watch.race(resp.chunk()).await {
                Ok(Ok(Some(chunk))) => chunk,
                Ok(Ok(None)) => break,
                Ok(Err(e)) => {
                    return Err(wire.fail(CallError::new(
                        ErrorKind::StreamInterrupted,
                        format!(
                            "the connection broke mid-stream after {}: {}",
                            plural(self.events, "event"),
                            root_cause(&e)
                        ),
                    )));
                }
                Err(which) => {
                    let what = match which {
                        TimeoutKind::Idle => format!(
                            "no stream event for {} (after {})",
                            self.watch
                                .limit(which)
                                .map_or_else(String::new, fmt_duration),
                            plural(self.events, "event")
                        ),
                        TimeoutKind::FirstByte => "the stream sent no event".to_owned(),
                        _ => format!("stopped after {}", plural(self.events, "event")),
                    };
                    return Err(wire.fail(self.timed_out(which, &what)));
                }
            };
            self.capture(&chunk);
            streamed = streamed.saturating_add(chunk.len());
            if streamed > limits.max_stream_bytes {
                return Err(wire.fail(self.too_much(format!(
                    "the stream passed {} (decompressed) without ending, after {}: stopped reading",
                    fmt_bytes(limits.max_stream_bytes),
                    plural(self.events, "event")
                ))));
            }
            decoder.push(&chunk, &mut batch);
            for ev in batch.drain(..) {
                // Reset the idle deadline before handing text on, and acknowledge the frame
                // (virtual clock) only after: the simulator's clock may then move on, and
                // must find the new deadline and the delta already stamped.
                self.events += 1;
                self.watch.idle();
                let step = wire.event(&ev, headers, on_delta);
                self.watch.clock.frame_received();
                match step {
                    Ok(Step::Continue) => {}
                    Ok(Step::Done) => return Ok(wire.finish()),
                    Err(e) => return Err(wire.fail(e)),
                }
                if wire.answer_bytes() > limits.max_answer_bytes {
                    let mut e = self.too_much(format!(
                        "the streamed answer passed {} (max_answer_bytes) after {}: stopped reading",
                        fmt_bytes(limits.max_answer_bytes),
                        plural(self.events, "event")
                    ));
                    e.kind = ErrorKind::ServerError;
                    return Err(wire.fail(e));
                }
            }
            if let Some(why) = decoder.overflow() {
                return Err(wire.fail(self.too_much(format!(
                    "{why} without ending (after {}): stopped reading",
                    plural(self.events, "event")
                ))));
            }
        }
        if let Some(ev) = decoder.finish() {
            self.events += 1;
            match wire.event(&ev, headers, on_delta) {
                Ok(Step::Done) => return Ok(wire.finish()),
                Ok(Step::Continue) => {}
                Err(e) => return Err(wire.fail(e)),
            }
        }
        let e = CallError::new(
            ErrorKind::StreamInterrupted,
            format!(
                "the stream ended without `{}` after {}",
                wire.terminal(),
                plural(self.events, "event")
            ),
        )
        .with_status(200)
        .with_request_id(classify::request_id(headers));
        Err(wire.fail(e))
    }

    /// A stream that passed a size bound.
    fn too_much(&self, message: String) -> CallError {
        let mut e = CallError::new(ErrorKind::StreamInterrupted, message);
        e.status = self.exchange.status;
        e
    }

    fn capture(&mut self, chunk: &[u8]) {
        let room = EXCHANGE_BODY_CAP.saturating_sub(self.raw.len());
        self.raw.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }

    fn timed_out(&self, which: TimeoutKind, what: &str) -> CallError {
        let mut e = timeout_error(which, self.watch.limit(which), what);
        e.status = self.exchange.status;
        e
    }

    /// `waited`: real time from the send to the failure (a connect timeout is real time).
    fn send_error(&self, e: &reqwest::Error, url: &reqwest::Url, waited: Duration) -> CallError {
        let cause = root_cause(e);
        let host = match (url.host_str(), url.port_or_known_default()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => url.to_string(),
        };
        if e.is_builder() {
            CallError::new(
                ErrorKind::BadRequest,
                format!("cannot build the request: {cause}"),
            )
        } else if e.is_connect() && e.is_timeout() {
            // Ours fired only if its time has come; else the operating system gave up first
            // (the message must not claim a limit that did not fire).
            let ours = self
                .timeouts
                .connect
                .is_some_and(|d| waited + Duration::from_millis(10) >= d);
            if ours {
                timeout_error(
                    TimeoutKind::Connect,
                    self.timeouts.connect,
                    &format!("no connection to {host}"),
                )
            } else {
                let mut t = CallError::new(
                    ErrorKind::Timeout,
                    format!(
                        "connect timeout (the operating system's, after {}): no connection to {host}: {cause}",
                        fmt_duration(waited)
                    ),
                );
                t.timeout = Some(TimeoutKind::Connect.as_str().to_owned());
                t
            }
        } else if e.is_connect() {
            CallError::new(
                ErrorKind::Connection,
                format!("cannot connect to {host}: {cause}"),
            )
        } else if e.is_redirect() {
            // Unreachable with `Policy::none()`; kept so a policy change cannot mislabel it.
            CallError::new(ErrorKind::Redirect, format!("redirect failed: {cause}"))
        } else {
            CallError::new(
                ErrorKind::Connection,
                format!("the connection to {host} failed before a reply: {cause}"),
            )
        }
    }
}

enum ReadFail {
    Timeout(TimeoutKind),
    Io(String),
    TooLarge,
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The stream parser of the endpoint's wire format.
enum Wire {
    OpenAi(openai::StreamState),
    Anthropic(anthropic::StreamState),
}

impl Wire {
    fn new(kind: ProviderKind) -> Wire {
        match kind {
            ProviderKind::Anthropic => Wire::Anthropic(anthropic::StreamState::new()),
            ProviderKind::Openai | ProviderKind::OpenaiCompatible => {
                Wire::OpenAi(openai::StreamState::new())
            }
        }
    }

    fn event(
        &mut self,
        ev: &super::sse::SseEvent,
        headers: &[(String, String)],
        on_delta: &mut dyn FnMut(&str),
    ) -> Result<Step, CallError> {
        match self {
            Wire::OpenAi(s) => s.event(ev, headers, on_delta),
            Wire::Anthropic(s) => s.event(ev, headers, on_delta),
        }
    }

    fn answer_bytes(&self) -> usize {
        match self {
            Wire::OpenAi(s) => s.answer_bytes(),
            Wire::Anthropic(s) => s.answer_bytes(),
        }
    }

    fn terminal(&self) -> &'static str {
        match self {
            Wire::OpenAi(_) => openai::StreamState::TERMINAL,
            Wire::Anthropic(_) => anthropic::StreamState::TERMINAL,
        }
    }

    /// The error with the text streamed so far.
    fn fail(&self, error: CallError) -> Failure {
        let partial = match self {
            Wire::OpenAi(s) => s.content(),
            Wire::Anthropic(s) => s.content(),
        };
        Failure {
            error,
            partial: partial.to_owned(),
        }
    }

    fn finish(self) -> ChatResponse {
        match self {
            Wire::OpenAi(s) => s.finish(),
            Wire::Anthropic(s) => s.finish(),
        }
    }
}

/// The run-clock deadlines of one attempt: `total`, and one phase deadline that is
/// `first_byte` until the first stream event (or the response headers of a plain reply),
/// then `idle`, renewed at each event.
struct Watch<'a> {
    clock: &'a Clock,
    timeouts: &'a Timeouts,
    total: Option<Deadline>,
    phase: Option<Deadline>,
    phase_kind: TimeoutKind,
}

impl<'a> Watch<'a> {
    fn new(clock: &'a Clock, timeouts: &'a Timeouts) -> Watch<'a> {
        Watch {
            clock,
            timeouts,
            total: timeouts.total.map(|d| clock.deadline(d)),
            phase: timeouts.first_byte.map(|d| clock.deadline(d)),
            phase_kind: TimeoutKind::FirstByte,
        }
    }

    /// Starts (or restarts) the idle deadline.
    fn idle(&mut self) {
        // Drop the old deadline first so it no longer bounds the clock.
        self.phase = None;
        self.phase = self.timeouts.idle.map(|d| self.clock.deadline(d));
        self.phase_kind = TimeoutKind::Idle;
    }

    fn limit(&self, which: TimeoutKind) -> Option<Duration> {
        match which {
            TimeoutKind::Connect => self.timeouts.connect,
            TimeoutKind::FirstByte => self.timeouts.first_byte,
            TimeoutKind::Idle => self.timeouts.idle,
            TimeoutKind::Total => self.timeouts.total,
        }
    }

    /// Runs `fut` until it finishes or a deadline passes.
    async fn race<F: Future>(&mut self, fut: F) -> Result<F::Output, TimeoutKind> {
        let phase_kind = self.phase_kind;
        tokio::select! {
            biased;
            out = fut => Ok(out),
            () = passed(&mut self.total) => Err(TimeoutKind::Total),
            () = passed(&mut self.phase) => Err(phase_kind),
        }
    }
}

async fn passed(deadline: &mut Option<Deadline>) {
    match deadline {
        Some(d) => d.await,
        None => std::future::pending().await,
    }
}

fn request_headers(endpoint: &Endpoint, stream: bool) -> Result<HeaderMap, CallError> {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(
        ACCEPT,
        HeaderValue::from_static(if stream {
            "text/event-stream"
        } else {
            "application/json"
        }),
    );
    let bad_key = || {
        CallError::new(
            ErrorKind::Auth,
            "the API key holds characters a header cannot carry",
        )
    };
    match endpoint.kind {
        ProviderKind::Anthropic => {
            h.insert(
                "anthropic-version",
                HeaderValue::from_static(anthropic::API_VERSION),
            );
            if let Some(key) = endpoint.api_key.as_deref() {
                let mut v = HeaderValue::from_str(key).map_err(|_| bad_key())?;
                v.set_sensitive(true);
                h.insert("x-api-key", v);
            }
        }
        ProviderKind::Openai | ProviderKind::OpenaiCompatible => {
            if let Some(key) = endpoint.api_key.as_deref() {
                let mut v =
                    HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| bad_key())?;
                v.set_sensitive(true);
                h.insert(AUTHORIZATION, v);
            }
        }
    }
    for (name, value) in &endpoint.headers {
        // Never quote a header's value: it may be a credential.
        let n = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            CallError::new(
                ErrorKind::BadRequest,
                format!("invalid header name `{name}`"),
            )
        })?;
        let mut v = HeaderValue::from_str(value.trim()).map_err(|_| {
            CallError::new(
                ErrorKind::BadRequest,
                format!("the value of header `{name}` holds characters a header cannot carry"),
            )
        })?;
        v.set_sensitive(true);
        h.insert(n, v);
    }
    Ok(h)
}

/// At most [`EXCHANGE_BODY_CAP`] bytes as text, never splitting a character.
fn capped_text(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(s) => s.to_owned(),
        // Cut inside a character at the cap: keep the whole ones.
        Err(e) if e.error_len().is_none() => {
            String::from_utf8_lossy(&raw[..e.valid_up_to()]).into_owned()
        }
        Err(_) => String::from_utf8_lossy(raw).into_owned(),
    }
}

/// The key out of a reply's record: body (raw or JSON-escaped, and cut at its cap) and
/// header values.
fn scrub_exchange(x: &mut HttpExchange, secrets: &Secrets, cut: bool) {
    if cut {
        secrets.scrub_cut(&mut x.body);
    } else {
        secrets.scrub(&mut x.body);
    }
    for (_, v) in &mut x.headers {
        secrets.scrub(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(kind: ProviderKind, base: &str) -> Endpoint {
        Endpoint {
            kind,
            base_url: base.into(),
            api_key: Some("sk-test-0123456789".into()),
            headers: vec![],
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
            assert_eq!(Client::url(&ep(kind, base)), want, "{base}");
        }
    }

    #[test]
    fn headers_carry_the_key_where_each_api_wants_it() {
        let mut e = ep(ProviderKind::Anthropic, "http://h");
        e.headers = vec![("anthropic-beta".into(), "tools-2024".into())];
        let h = request_headers(&e, true).unwrap();
        assert_eq!(h["x-api-key"], "sk-test-0123456789");
        assert!(h["x-api-key"].is_sensitive());
        assert_eq!(h["anthropic-version"], "2023-06-01");
        assert_eq!(h["anthropic-beta"], "tools-2024");
        assert_eq!(h[ACCEPT], "text/event-stream");
        assert!(h.get(AUTHORIZATION).is_none());
        let h = request_headers(&ep(ProviderKind::Openai, "http://h"), false).unwrap();
        assert_eq!(h[AUTHORIZATION], "Bearer sk-test-0123456789");
        assert!(h.get("x-api-key").is_none());
        // A bad header never echoes its value.
        let mut e = ep(ProviderKind::Openai, "http://h");
        e.headers = vec![("x-secret".into(), "line\nbreak-secret".into())];
        let err = request_headers(&e, false).unwrap_err();
        assert!(!err.message.contains("secret-"), "{}", err.message);
        assert!(!err.message.contains("break"), "{}", err.message);
    }

    #[test]
    fn plain_http_to_loopback_never_loads_tls_roots() {
        let f = |u: &str| {
            let f = Flavor::of(&reqwest::Url::parse(u).unwrap(), None);
            (f.direct, f.tls)
        };
        // The simulator: no proxy, no TLS roots.
        assert_eq!(f("http://127.0.0.1:8787/v1"), (true, false));
        assert_eq!(f("http://localhost:11434/v1"), (true, false));
        assert_eq!(f("http://[::1]:8080/v1"), (true, false));
        assert_eq!(f("https://localhost:8443/v1"), (true, true));
        // Elsewhere: the system proxy (which may be https), so the roots.
        assert_eq!(f("https://api.openai.com/v1"), (false, true));
        assert_eq!(f("http://10.0.0.5:11434/v1"), (false, true));
        // Built on first use, once per flavour.
        let c = Client::new().unwrap();
        let url = reqwest::Url::parse("http://127.0.0.1:9/v1").unwrap();
        c.http_for(&url, None).unwrap();
        c.http_for(&url, None).unwrap();
        c.http_for(&url, Some(Duration::from_secs(1))).unwrap();
        assert_eq!(c.inner.built.lock().unwrap().len(), 2);
    }

    #[test]
    fn no_kernel_timeout_undercuts_connect_timeout() {
        // reqwest's default TCP_USER_TIMEOUT (30 s) also capped connects (issue 7 #15).
        assert_eq!(TCP_USER_TIMEOUT, None);
    }

    #[test]
    fn debug_output_holds_no_key() {
        let c = Client::new().unwrap();
        assert_eq!(format!("{c:?}"), "Client { .. }");
    }

    #[test]
    fn exchange_bodies_are_capped_on_character_boundaries() {
        let mut raw = "a".repeat(EXCHANGE_BODY_CAP - 1).into_bytes();
        raw.extend_from_slice("é".as_bytes());
        raw.truncate(EXCHANGE_BODY_CAP);
        assert_eq!(capped_text(&raw).len(), EXCHANGE_BODY_CAP - 1);
        let mut x = HttpExchange {
            url: "u".into(),
            body: "key=sk-test-0123456789".into(),
            headers: vec![("echo".into(), "sk-test-0123456789".into())],
            status: None,
        };
        scrub_exchange(&mut x, &Secrets::new(["sk-test-0123456789"]), false);
        assert_eq!(x.body, "key=[redacted]");
        assert_eq!(x.headers[0].1, "[redacted]");
    }

    #[test]
    fn send_is_send() {
        fn assert_send<T: Send>(_: &T) {}
        let c = Client::new().unwrap();
        let e = ep(ProviderKind::Openai, "http://127.0.0.1:9");
        let r = ChatRequest {
            model: "m".into(),
            system: None,
            messages: vec![],
            temperature: None,
            max_tokens: None,
            stream: false,
            tools: vec![],
        };
        let t = Timeouts::default();
        let clock = Clock::virtual_time(crate::clock::Speed::Max);
        let mut cb = |_: &str| {};
        let fut = c.send(&e, &r, &t, &clock, &mut cb);
        assert_send(&fut);
    }
}
