//! The HTTP side: one route for every wire format (the path picks the format), one handler
//! that plays the script for each request, the paced SSE body, and a listener whose
//! connections a handler can reset (no reply at all).

use super::script::{Content, Script, Source};
use super::tokens::Pace;
use super::wire::{self, Answer, ErrorReply, Incoming, Meta, Request, SimFormat, StreamParts};
use crate::clock::Clock;
use crate::provider::client::{LocalReply, LocalRequest};
use crate::scenario::types::{FaultKind, FaultSpec, SimSpec};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::serve::{IncomingStream, Listener};
use futures::StreamExt;
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// `created` timestamps count from here (2026-01-01T00:00:00Z) plus the run clock, so a
/// replayed script produces the same bytes.
const SIM_EPOCH: u64 = 1_767_225_600;

/// How long `slow_first_byte` waits when the fault sets no `delay`.
const DEFAULT_SLOW_FIRST_BYTE: Duration = Duration::from_secs(5);

/// Bodies up to this size are read (context-length demos send big prompts).
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// State shared by every handler of one server.
pub(super) struct Shared {
    pub script: Mutex<Script>,
    pub clock: Clock,
    /// Cancelled when the server is dropped: every paced or stalled reply gives up.
    pub cancel: CancellationToken,
    /// Told about every request the script decides (`retrylab sim` prints them).
    pub log: Option<super::Logger>,
}

impl Shared {
    pub fn new(spec: SimSpec, clock: Clock, log: Option<super::Logger>) -> Shared {
        Shared {
            script: Mutex::new(Script::new(spec)),
            clock,
            cancel: CancellationToken::new(),
            log,
        }
    }

    pub fn script(&self) -> MutexGuard<'_, Script> {
        // A poisoned lock only means a handler panicked mid-update; the counters are plain data.
        self.script
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How long an error reply takes (`[sim].error_ms`).
    fn error_delay(&self) -> Duration {
        Duration::from_millis(self.script().spec().error_ms)
    }

    /// An active sleep on the run clock; false when the server is shutting down.
    async fn pause(&self, d: Duration) -> bool {
        if d.is_zero() {
            return !self.cancel.is_cancelled();
        }
        tokio::select! {
            () = self.clock.sleep(d) => true,
            () = self.cancel.cancelled() => false,
        }
    }
}

/// Serves the router on `listener` until the returned future is dropped.
pub(super) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let app = Router::new()
        .fallback(route)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(shared);
    let listener = SimListener { inner: listener };
    // axum's serve loop only ends on a listener error it cannot recover from.
    let _ = axum::serve(listener, app.into_make_service_with_connect_info::<Conn>()).await;
}

/// The one route: the path picks the wire format; an unknown path is a 404 and another
/// method than POST a 405, each a clear JSON error. The body is read only then (under
/// [`BODY_LIMIT`]).
async fn route(
    State(s): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<Conn>,
    req: axum::extract::Request,
) -> Response {
    let method = req.method().clone();
    let uri = req.uri().clone();
    let Some(format) = wire::for_path(uri.path()) else {
        return not_found(&method, uri.path());
    };
    if method != Method::POST {
        return method_not_allowed(&method, uri.path());
    }
    let headers = req.headers().clone();
    let body = match Bytes::from_request(req, &s).await {
        Ok(body) => body,
        Err(rejection) => return rejection.into_response(),
    };
    let incoming = Incoming {
        path: uri.path(),
        query: uri.query(),
        headers: &headers,
        body: &body,
    };
    handle(&s, format, &conn, &incoming).await
}

/// One POST served in-process (the lab): the handler and the reply bytes of [`route`], no
/// socket. `Err` = the connection was reset (no reply), in a socket's words.
pub(super) async fn serve_local(s: Arc<Shared>, req: LocalRequest) -> Result<LocalReply, String> {
    let (path, query) = match req.path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (req.path_and_query.as_str(), None),
    };
    let conn = Conn::fresh();
    let resp = match wire::for_path(path) {
        None => not_found(&Method::POST, path),
        Some(format) => {
            let incoming = Incoming {
                path,
                query,
                headers: &req.headers,
                body: &req.body,
            };
            handle(&s, format, &conn, &incoming).await
        }
    };
    if conn.killed.load(Ordering::Acquire) {
        return Err(LOCAL_RESET.to_owned());
    }
    let (mut parts, body) = resp.into_parts();
    framing_headers(&mut parts.headers, &body);
    let body = body
        .into_data_stream()
        .map(|chunk| chunk.map_err(|e| crate::provider::client::root_cause(&e)));
    Ok(LocalReply {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: Box::pin(body),
    })
}

/// The headers hyper's server adds on a socket (framing and `date`), so an in-process
/// reply carries the same headers as one over loopback.
fn framing_headers(headers: &mut axum::http::HeaderMap, body: &Body) {
    use axum::body::HttpBody;
    let framing = match body.size_hint().exact() {
        Some(n) => (header::CONTENT_LENGTH, HeaderValue::from(n)),
        None => (
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        ),
    };
    headers.append(framing.0, framing.1);
    let now = httpdate::fmt_http_date(std::time::SystemTime::now());
    if let Ok(date) = HeaderValue::from_str(&now) {
        headers.append(header::DATE, date);
    }
}

/// What a reset socket says (Linux's words, as the loopback client reads them).
const LOCAL_RESET: &str = "Connection reset by peer (os error 104)";

/// An OpenAI-style `invalid_request_error` body, as both the 404 and the 405 send.
fn invalid_request(message: &str) -> String {
    format!(
        "{{\n    \"error\": {{\n        \"message\": {},\n        \"type\": \"invalid_request_error\",\n        \"param\": null,\n        \"code\": null\n    }}\n}}\n",
        wire::quote(message)
    )
}

fn not_found(method: &Method, path: &str) -> Response {
    let served: Vec<String> = wire::FORMATS
        .iter()
        .map(|f| format!("POST {}", f.route()))
        .collect();
    let served = match served.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => served.concat(),
    };
    let body = invalid_request(&format!(
        "Invalid URL ({method} {path}). The simulator serves {served}."
    ));
    let mut reply = ErrorReply::json(404, body);
    reply.headers.clear();
    error_response(&wire::openai::OPENAI, &reply, "req_sim_not_found".into())
}

/// A known path asked with another method than POST (a client calling GET, say): the same
/// clear JSON error as an unknown path, not an empty 405.
fn method_not_allowed(method: &Method, path: &str) -> Response {
    let body = invalid_request(&format!(
        "Method {method} is not allowed on {path}: the simulator's endpoints take POST."
    ));
    let mut reply = ErrorReply::json(405, body);
    reply.headers = vec![("allow", "POST".into())];
    error_response(&wire::openai::OPENAI, &reply, "req_sim_method".into())
}

/// Plays the script for one request.
async fn handle(
    s: &Shared,
    wire: &'static dyn SimFormat,
    conn: &Conn,
    incoming: &Incoming<'_>,
) -> Response {
    let req = match wire.parse(incoming) {
        Ok(r) => r,
        Err(e) => return error_response(wire, &e, "req_sim_invalid".into()),
    };
    let now = s.clock.now();
    let decision = s
        .script()
        .next(wire.provider(), &req.model, req.offers_tools, now);
    if let Some(log) = &s.log {
        log(&super::RequestLog {
            at: now,
            provider: wire.provider(),
            model: req.model.clone(),
            number: decision.number,
            fault: decision.fault.as_ref().map(|f| f.fault),
            source: decision.source,
            sdk_retry: incoming
                .headers
                .get(crate::policy::stainless::RETRY_COUNT_HEADER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok()),
        });
    }
    let meta = Meta {
        global: decision.global,
        created: SIM_EPOCH + now.as_secs(),
        model: req.model.clone(),
        input_tokens: req.input_tokens,
    };
    let request_id = wire.request_id(&meta);
    let mut answer = match &decision.content {
        // A continued answer gets only what follows the text it sent back.
        Content::Text(text) => Answer::text(
            super::resume::remainder(text, incoming.body),
            req.max_tokens,
        ),
        Content::ToolCall(call) => Answer::tool(&call.name, &call.args),
    };
    if let Some(fault) = &decision.fault {
        answer = answer.ended_by(fault);
    }
    let reply = Reply {
        wire,
        req: &req,
        meta: &meta,
        answer: &answer,
        request_id,
        pace: decision.pace,
        limit_headers: decision
            .limit
            .map(|l| wire.limit_headers(&l))
            .unwrap_or_default(),
    };

    let Some(fault) = decision.fault else {
        return reply.normal(s, None).await;
    };
    // A fault's `delay` (a recorded latency, `retrylab whatif`): how long before the reply
    // starts. slow_first_byte has its own; an error reply and a reset use it for `error_ms`.
    let answers = matches!(
        fault.fault,
        FaultKind::ContentFilter
            | FaultKind::Length
            | FaultKind::Empty
            | FaultKind::CutStream
            | FaultKind::MalformedStream
            | FaultKind::Stall
    ) || (fault.fault == FaultKind::OverloadedInStream && req.stream);
    // A format may refuse what others answer (Azure's content filter: a 400).
    let refused = wire.refuses(&fault);
    let answers = answers && !refused;
    if let Some(lead) = fault.delay.filter(|_| answers)
        && !s.pause(lead.as_duration()).await
    {
        return conn.reset();
    }
    let error_delay = fault
        .delay
        .map_or_else(|| s.error_delay(), |d| d.as_duration());
    match fault.fault {
        FaultKind::Timeout => {
            // No byte until the client gives up; on the virtual clock that is at once.
            tokio::select! {
                () = s.clock.stall() => {}
                () = s.cancel.cancelled() => {}
            }
            conn.reset()
        }
        FaultKind::ConnectionReset => {
            s.pause(error_delay).await;
            conn.reset()
        }
        FaultKind::SlowFirstByte => {
            let delay = fault
                .delay
                .map_or(DEFAULT_SLOW_FIRST_BYTE, |d| d.as_duration());
            if !s.pause(delay).await {
                return conn.reset();
            }
            reply.normal(s, None).await
        }
        // The answer already ends as the fault says (`Answer::ended_by`).
        FaultKind::ContentFilter | FaultKind::Length | FaultKind::Empty if !refused => {
            reply.normal(s, None).await
        }
        FaultKind::CutStream | FaultKind::MalformedStream if !req.stream => {
            reply.truncated_body(s, false).await
        }
        FaultKind::Stall if !req.stream => reply.truncated_body(s, true).await,
        FaultKind::CutStream
        | FaultKind::MalformedStream
        | FaultKind::OverloadedInStream
        | FaultKind::Stall
            if req.stream =>
        {
            reply.normal(s, Some(&fault)).await
        }
        _ => {
            if !s.pause(error_delay).await {
                return conn.reset();
            }
            let e = match (decision.source, decision.limit) {
                (Some(Source::Limit), Some(info)) => wire.rate_limited(&info, &req.model),
                _ => {
                    let mut e = wire.error(&fault, &req.model);
                    e.headers.extend(wire.wait_header(&fault));
                    e.status = fault.status.unwrap_or(e.status);
                    e
                }
            };
            error_response(wire, &e, reply.request_id)
        }
    }
}

/// One answer being sent.
struct Reply<'a> {
    wire: &'static dyn SimFormat,
    req: &'a Request,
    meta: &'a Meta,
    answer: &'a Answer,
    request_id: String,
    pace: Pace,
    /// A `[sim].limits` bucket's headers, on every reply it covers.
    limit_headers: Vec<(&'static str, String)>,
}

impl Reply<'_> {
    /// The answer, streamed or whole; `broken` is a stream fault to play instead of the end.
    async fn normal(self, s: &Shared, broken: Option<&FaultSpec>) -> Response {
        if self.req.stream {
            return self.stream(s, broken);
        }
        let n = self.answer.pieces().len();
        let latency = self.pace.at(n);
        if !s.pause(latency).await {
            return Conn::gone();
        }
        let body = self.wire.full_body(self.meta, self.answer);
        let mut resp = self.response(StatusCode::OK, "application/json", Body::from(body));
        for (name, value) in self.wire.plain_headers(latency) {
            add_header(&mut resp, name, &value);
        }
        resp
    }

    /// A non-streaming reply whose JSON body stops half-way: the HTTP framing stays clean,
    /// or with `stall` the rest never comes (the body stays open until the client gives up).
    async fn truncated_body(self, s: &Shared, stall: bool) -> Response {
        if !s.pause(self.pace.at(self.answer.pieces().len())).await {
            return Conn::gone();
        }
        let mut body = self.wire.full_body(self.meta, self.answer);
        let mut cut = body.len() / 2;
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        body.truncate(cut);
        if stall {
            let frames = VecDeque::from([(Duration::ZERO, body)]);
            let body = Body::from_stream(paced(frames, true, s.clock.clone(), s.cancel.clone()));
            return self.response(StatusCode::OK, "application/json", body);
        }
        self.response(StatusCode::OK, "application/json", Body::from(body))
    }

    fn stream(self, s: &Shared, broken: Option<&FaultSpec>) -> Response {
        let parts = self.wire.stream(self.meta, self.answer, self.req);
        let n = parts.tokens.len();
        let end = broken.map(|f| {
            // Default: break half-way through the reply.
            let k = f.after_tokens.map_or(n / 2, |k| k as usize);
            let frame = match f.fault {
                FaultKind::MalformedStream => self.wire.malformed_frame(self.meta),
                FaultKind::OverloadedInStream => {
                    self.wire
                        .stream_error_after(self.meta, self.answer, k.min(n), f)
                }
                _ => String::new(),
            };
            (k, frame)
        });
        let frames = schedule(parts, self.pace, end);
        let stall = broken.is_some_and(|f| f.fault == FaultKind::Stall);
        let body = Body::from_stream(paced(frames, stall, s.clock.clone(), s.cancel.clone()));
        let mut resp = self.response(StatusCode::OK, "text/event-stream; charset=utf-8", body);
        add_header(&mut resp, "cache-control", "no-cache");
        resp
    }

    fn response(&self, status: StatusCode, content_type: &str, body: Body) -> Response {
        let mut resp = Response::new(body);
        *resp.status_mut() = status;
        add_header(&mut resp, header::CONTENT_TYPE.as_str(), content_type);
        add_identity(self.wire, &mut resp, &self.request_id);
        for (name, value) in &self.limit_headers {
            add_header(&mut resp, name, value);
        }
        resp
    }
}

/// The frames of a stream, each with its time from the start of the body. `end` = (tokens
/// sent before the break, the frame that breaks it, "" for none); the break comes at the
/// time the next token was due.
pub(super) fn schedule(
    parts: StreamParts,
    pace: Pace,
    end: Option<(usize, String)>,
) -> VecDeque<(Duration, String)> {
    let n = parts.tokens.len();
    let limit = end.as_ref().map_or(n, |(k, _)| (*k).min(n));
    let mut out = VecDeque::new();
    for frame in parts.head {
        out.push_back((pace.at(0), frame));
    }
    for (i, frame) in parts.tokens.into_iter().take(limit).enumerate() {
        out.push_back((pace.at(i), frame));
    }
    match end {
        None => {
            for frame in parts.tail {
                out.push_back((pace.at(n), frame));
            }
        }
        // An empty frame is only a wait: the body ends when it is due.
        Some((_, frame)) => out.push_back((pace.at(limit), frame)),
    }
    out
}

/// Plays scheduled frames on the run clock, each acknowledged by the client before time
/// moves on. Frame times count from the stream's start (the first poll) and each wait is to
/// that absolute time, so a late wake-up (timer resolution, a busy machine) is made up at the
/// next frame instead of adding up, and every frame already due goes out at once. With
/// `stall` the body then stays open, sending nothing, until the client gives up.
fn paced(
    frames: VecDeque<(Duration, String)>,
    stall: bool,
    clock: Clock,
    cancel: CancellationToken,
) -> impl futures::Stream<Item = io::Result<Bytes>> + Send + 'static {
    futures::stream::unfold(
        (frames, None::<Duration>, clock, cancel),
        move |(mut frames, start, clock, cancel)| async move {
            let start = start.unwrap_or_else(|| clock.now());
            while let Some((due, frame)) = frames.pop_front() {
                // On the virtual clock `now` moves only by these sleeps, so this is exactly
                // the step from the previous frame (run times stay as scheduled).
                let wait = start.saturating_add(due).saturating_sub(clock.now());
                if !wait.is_zero() {
                    tokio::select! {
                        () = clock.sleep(wait) => {}
                        () = cancel.cancelled() => {
                            let gone = io::Error::new(io::ErrorKind::ConnectionAborted, "simulator stopped");
                            return Some((Err(gone), (VecDeque::new(), Some(start), clock, cancel)));
                        }
                    }
                }
                if !frame.is_empty() {
                    // One acknowledgement per SSE event, so the next sleep waits for the
                    // client to have parsed it (see src/clock.rs).
                    for _ in 0..sse_events(&frame) {
                        clock.frame_sent();
                    }
                    return Some((Ok(Bytes::from(frame)), (frames, Some(start), clock, cancel)));
                }
            }
            if stall {
                // An active sleep of forever: on the virtual clock time jumps to the client's
                // (idle) deadline, which fires; the body ends only when the server stops.
                tokio::select! {
                    () = clock.stall() => {}
                    () = cancel.cancelled() => {}
                }
                let gone = io::Error::new(io::ErrorKind::ConnectionAborted, "simulator stopped");
                return Some((Err(gone), (VecDeque::new(), Some(start), clock, cancel)));
            }
            None
        },
    )
}

/// How many SSE events a frame holds: each ends in a blank line, LF- or CRLF-framed.
fn sse_events(frame: &str) -> usize {
    frame.matches("\n\n").count() + frame.matches("\r\n\r\n").count()
}

fn add_header(resp: &mut Response, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        resp.headers_mut().append(name, value);
    }
}

/// The identity headers each API sends with every reply.
fn add_identity(wire: &dyn SimFormat, resp: &mut Response, request_id: &str) {
    for (name, value) in wire.identity(request_id) {
        add_header(resp, name, &value);
    }
}

fn error_response(wire: &dyn SimFormat, e: &ErrorReply, request_id: String) -> Response {
    let mut resp = Response::new(Body::from(e.body.clone()));
    *resp.status_mut() =
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    add_header(&mut resp, header::CONTENT_TYPE.as_str(), e.content_type);
    add_identity(wire, &mut resp, &request_id);
    for (name, value) in &e.headers {
        add_header(&mut resp, name, value);
    }
    resp
}

/// Accepts loopback connections, each wrapped so that a handler can reset it.
struct SimListener {
    inner: TcpListener,
}

/// A connection as handlers see it (axum's connect info).
#[derive(Clone, Debug)]
pub(super) struct Conn {
    killed: Arc<AtomicBool>,
}

impl Conn {
    /// A connection no handler has reset.
    fn fresh() -> Conn {
        Conn {
            killed: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Resets the connection: the reply this handler returns is never written; the client
    /// sees the connection reset with no byte of a reply.
    fn reset(&self) -> Response {
        self.killed.store(true, Ordering::Release);
        Conn::gone()
    }

    /// A placeholder reply for a connection that will not get one.
    fn gone() -> Response {
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        resp
    }
}

impl Connected<IncomingStream<'_, SimListener>> for Conn {
    fn connect_info(stream: IncomingStream<'_, SimListener>) -> Self {
        stream.remote_addr().clone()
    }
}

impl Listener for SimListener {
    type Io = SimIo;
    type Addr = Conn;

    async fn accept(&mut self) -> (SimIo, Conn) {
        loop {
            match self.inner.accept().await {
                Ok((stream, _)) => {
                    // Small SSE frames must go out at once, not wait for Nagle.
                    let _ = stream.set_nodelay(true);
                    let conn = Conn::fresh();
                    return (
                        SimIo {
                            inner: stream,
                            killed: conn.killed.clone(),
                        },
                        conn,
                    );
                }
                // Out of file descriptors or similar: back off on real time (this is the
                // machine's limit, not simulated time) and keep serving.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Conn> {
        self.inner.local_addr().map(|_| Conn::fresh())
    }
}

/// A TCP stream that refuses all I/O once its connection is reset; dropping it then sends a
/// TCP RST.
pub(super) struct SimIo {
    inner: TcpStream,
    killed: Arc<AtomicBool>,
}

impl SimIo {
    fn check(&self) -> io::Result<()> {
        if self.killed.load(Ordering::Acquire) {
            // Zero linger turns the close into a RST; if it fails the close is a plain FIN,
            // which still ends the exchange with no reply.
            let _ = self.inner.set_zero_linger();
            return Err(io::ErrorKind::ConnectionReset.into());
        }
        Ok(())
    }
}

impl AsyncRead for SimIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for SimIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wrong_method_is_refused_with_a_message() {
        let sim = crate::sim::SimServer::start(
            "127.0.0.1:0".parse().unwrap(),
            SimSpec::default(),
            Clock::real(crate::clock::Speed::Max),
        )
        .await
        .unwrap();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        for (method, path) in [
            (reqwest::Method::GET, "/v1/messages"),
            (reqwest::Method::DELETE, "/v1/chat/completions"),
            (reqwest::Method::PUT, "/compat/v1/chat/completions"),
        ] {
            let url = format!("http://{}{path}", sim.addr());
            let resp = http.request(method.clone(), &url).send().await.unwrap();
            assert_eq!(resp.status().as_u16(), 405, "{method} {path}");
            let v: serde_json::Value = resp.json().await.unwrap();
            let msg = v["error"]["message"].as_str().unwrap_or_default();
            assert!(msg.contains(method.as_str()) && msg.contains("POST"), "{v}");
        }
    }

    #[test]
    fn schedule_paces_tokens_and_breaks_at_the_next_slot() {
        let parts = StreamParts {
            head: vec!["h".into()],
            tokens: vec!["a".into(), "b".into(), "c".into()],
            tail: vec!["t".into()],
        };
        let pace = Pace {
            first_token: Duration::from_millis(100),
            tokens_per_second: 10.0,
        };
        let ms = |v: u64| Duration::from_millis(v);
        let full: Vec<_> = schedule(parts.clone(), pace, None).into_iter().collect();
        assert_eq!(
            full,
            vec![
                (ms(100), "h".into()),
                (ms(100), "a".into()),
                (ms(200), "b".into()),
                (ms(300), "c".into()),
                (ms(400), "t".into())
            ]
        );
        let cut: Vec<_> = schedule(parts, pace, Some((1, "E".into())))
            .into_iter()
            .collect();
        assert_eq!(
            cut,
            vec![
                (ms(100), "h".into()),
                (ms(100), "a".into()),
                (ms(200), "E".into())
            ]
        );
    }
}
