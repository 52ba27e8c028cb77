//! A tiny loopback HTTP server for the wire tests: it plays a recorded response (`*.http`)
//! to one connection, with scripted pauses, stalls, cuts and resets. Pauses and stalls are
//! on the run clock, as the simulator's are.

// Test support: a failed setup step should fail the test loudly.
#![allow(dead_code, clippy::unwrap_used)]

use retrylab::clock::Clock;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};

/// One step of the server's script.
pub enum Act {
    /// Write these bytes.
    Write(Vec<u8>),
    /// Wait until the client handed a text delta on (so its deadlines are current).
    WaitDelta,
    /// Sleep on the run clock.
    Sleep(Duration),
    /// Never write again (the client's timeout fires at once on a virtual clock).
    Stall,
    /// Close the connection (FIN).
    Close,
    /// Abort the connection (RST).
    Reset,
}

/// The recorded responses (`tests/fixtures/wire/*.http`; live ones are found too).
pub use super::fixture;

/// The fixture as wire writes: the head, then one write per HTTP chunk (one SSE event each)
/// and the closing chunk, or the head with a `content-length` body.
pub fn acts(name: &str) -> Vec<Act> {
    let text = fixture(name);
    let (head, body) = text
        .split_once("\n\n")
        .expect("a blank line after the head");
    let chunked = head
        .lines()
        .any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"));
    let mut head = head.lines().collect::<Vec<_>>().join("\r\n");
    if chunked {
        head.push_str("\r\n\r\n");
        let mut out = vec![Act::Write(head.into_bytes())];
        for event in body.split_inclusive("\n\n") {
            let mut c = format!("{:x}\r\n", event.len()).into_bytes();
            c.extend_from_slice(event.as_bytes());
            c.extend_from_slice(b"\r\n");
            out.push(Act::Write(c));
        }
        out.push(Act::Write(b"0\r\n\r\n".to_vec()));
        out
    } else {
        head.push_str(&format!("\r\ncontent-length: {}\r\n\r\n", body.len()));
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body.as_bytes());
        vec![Act::Write(bytes)]
    }
}

/// A running server: its base address, and the request it received.
pub struct Server {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub request: oneshot::Receiver<String>,
    pub task: tokio::task::JoinHandle<()>,
}

/// Serves one connection with `script`. `deltas` gains a permit at each `on_delta`.
pub async fn serve(clock: Clock, script: Vec<Act>, deltas: Arc<Semaphore>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, request) = oneshot::channel();
    let task = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut tmp = [0u8; 4096];
        // Read the head, then `content-length` bytes of body.
        let head_end = loop {
            let n = sock.read(&mut tmp).await.unwrap();
            assert!(n > 0, "client closed before sending a request");
            buf.extend_from_slice(&tmp[..n]);
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap());
        while buf.len() < head_end + len {
            let n = sock.read(&mut tmp).await.unwrap();
            assert!(n > 0, "client closed mid-request");
            buf.extend_from_slice(&tmp[..n]);
        }
        let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
        for act in script {
            match act {
                Act::Write(bytes) => {
                    if sock.write_all(&bytes).await.is_err() {
                        return;
                    }
                    let _ = sock.flush().await;
                }
                Act::WaitDelta => deltas.acquire().await.unwrap().forget(),
                Act::Sleep(d) => clock.sleep(d).await,
                Act::Stall => clock.stall().await,
                Act::Close => {
                    let _ = sock.shutdown().await;
                    return;
                }
                Act::Reset => {
                    sock.set_zero_linger().unwrap();
                    drop(sock);
                    return;
                }
            }
        }
        // Let the client read to the end before the socket goes away.
        let _ = sock.shutdown().await;
        let _ = sock.read(&mut tmp).await;
    });
    Server {
        base,
        request,
        task,
    }
}

/// A local port nobody listens on.
pub async fn closed_port() -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

use retrylab::clock::Speed;
use retrylab::provider::{AttemptError, ChatRequest, ChatResponse, Client, Endpoint, Timeouts};
use retrylab::scenario::types::ProviderKind;

/// The key every test sends; it must never show up in what `send` returns.
pub const KEY: &str = "sk-test-retrylab-0123456789abcdef";

/// What one `send` gave.
pub struct Outcome {
    pub result: Result<ChatResponse, AttemptError>,
    /// Every text piece `on_delta` got, in order.
    pub deltas: Vec<String>,
    /// The raw HTTP request the server read (empty if none).
    pub request: String,
    /// The run clock when `send` returned.
    pub now: Duration,
    /// `{base}/v1`, as the endpoint was given.
    pub base: String,
}

impl Outcome {
    pub fn ok(&self) -> &ChatResponse {
        match &self.result {
            Ok(r) => r,
            Err(e) => panic!("expected a reply, got {e:?}"),
        }
    }

    pub fn err(&self) -> &AttemptError {
        match &self.result {
            Ok(r) => panic!("expected an error, got {r:?}"),
            Err(e) => e,
        }
    }

    /// The request body the server received, as JSON.
    pub fn request_json(&self) -> serde_json::Value {
        let (_, body) = self.request.split_once("\r\n\r\n").expect("a request");
        serde_json::from_str(body).expect("a JSON request body")
    }
}

/// Plays `script` to one `send` of `req` on a virtual clock at max speed.
pub async fn call(
    kind: ProviderKind,
    script: Vec<Act>,
    req: &ChatRequest,
    timeouts: Timeouts,
) -> Outcome {
    let clock = Clock::virtual_time(Speed::Max);
    let deltas = Arc::new(Semaphore::new(0));
    let server = serve(clock.clone(), script, deltas.clone()).await;
    let base = match kind {
        ProviderKind::Anthropic => server.base.clone(),
        _ => format!("{}/v1", server.base),
    };
    // A real-time guard: a broken client fails the test instead of hanging it.
    let mut out = tokio::time::timeout(
        Duration::from_secs(20),
        send_to(kind, &base, req, timeouts, &clock, deltas),
    )
    .await
    .expect("send did not return within 20 s of real time");
    server.task.abort();
    out.request = server.request.await.unwrap_or_default();
    out
}

/// One `send` to `base` (no fixture server: refused connections).
pub async fn send_to(
    kind: ProviderKind,
    base: &str,
    req: &ChatRequest,
    timeouts: Timeouts,
    clock: &Clock,
    deltas_seen: Arc<Semaphore>,
) -> Outcome {
    let endpoint = Endpoint {
        kind,
        base_url: base.to_owned(),
        api_key: Some(KEY.to_owned()),
        headers: vec![("x-trace".into(), "wire-test".into())],
    };
    let client = Client::new().unwrap();
    let mut deltas = Vec::new();
    let mut on_delta = |t: &str| {
        deltas.push(t.to_owned());
        deltas_seen.add_permits(1);
    };
    let result = client
        .send(&endpoint, req, &timeouts, clock, &mut on_delta)
        .await;
    let shown = format!("{result:?}");
    assert!(!shown.contains(KEY), "the key leaked: {shown}");
    Outcome {
        result,
        deltas,
        request: String::new(),
        now: clock.now(),
        base: base.to_owned(),
    }
}

/// The body of a fixture, as the exchange should hold it.
pub fn fixture_body(name: &str) -> String {
    let text = fixture(name);
    text.split_once("\n\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}

/// The fixture's writes: the head, the first `events` HTTP chunks, then `tail`.
pub fn cut(name: &str, events: usize, tail: Vec<Act>) -> Vec<Act> {
    let mut a = acts(name);
    a.truncate(1 + events);
    a.extend(tail);
    a
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}
