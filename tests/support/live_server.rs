//! A loopback server for live-mode tests: it answers each request it receives with the next
//! scripted reply, in real time (live mode runs on the real clock). Replies are recorded
//! responses (`tests/fixtures/{live,wire}/*.http`, same format), cut, stalled, reset, gzipped, or
//! built from the request (a server that echoes the key back). Each reply closes its
//! connection, so every attempt is a fresh one, as the test expects.

// Test support: a failed setup step should fail the test loudly.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// One step of a reply.
pub enum Step {
    Write(Vec<u8>),
    /// Wait until the test saw one more `delta` event (see [`Server::delta_seen`]).
    WaitDelta,
    /// A real pause (keep it tiny).
    Pause(Duration),
    /// Write nothing more and keep the connection open until the client gives up.
    Stall,
    /// Close the connection (FIN).
    Close,
    /// Abort the connection (RST).
    Reset,
    /// Write these bytes again and again until the client goes away (an endless stream).
    Repeat(Vec<u8>),
}

/// Builds a reply's steps from the request.
pub type Answer = Box<dyn Fn(&Request) -> Vec<Step> + Send + Sync>;

/// A reply: fixed steps, or steps built from the request.
pub enum Reply {
    Steps(Vec<Step>),
    From(Answer),
}

/// A request the server read.
#[derive(Debug, Clone)]
pub struct Request {
    /// `POST /v1/chat/completions HTTP/1.1`
    pub line: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// The key the request carried (`Authorization: Bearer …` or `x-api-key`).
    pub fn key(&self) -> Option<String> {
        self.header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .or_else(|| self.header("x-api-key"))
            .map(str::to_owned)
    }
}

/// The recorded responses, shared with the wire server.
pub use super::fixture;

/// A response text (head, blank line, body) as wire writes: `connection: close` added; a
/// chunked head gets one HTTP chunk per SSE event, any other a `content-length`; a head with
/// `content-encoding: gzip` gets its body gzipped.
pub fn steps_of(text: &str) -> Vec<Step> {
    let (head, body) = text
        .split_once("\n\n")
        .expect("a blank line after the head");
    let has = |h: &str| head.lines().any(|l| l.eq_ignore_ascii_case(h));
    let chunked = has("transfer-encoding: chunked");
    let gzipped = has("content-encoding: gzip");
    let mut head = head.lines().collect::<Vec<_>>().join("\r\n");
    head.push_str("\r\nconnection: close");
    if chunked {
        head.push_str("\r\n\r\n");
        let mut out = vec![Step::Write(head.into_bytes())];
        for event in body.split_inclusive("\n\n") {
            let mut c = format!("{:x}\r\n", event.len()).into_bytes();
            c.extend_from_slice(event.as_bytes());
            c.extend_from_slice(b"\r\n");
            out.push(Step::Write(c));
        }
        out.push(Step::Write(b"0\r\n\r\n".to_vec()));
        out
    } else {
        let body = if gzipped {
            gzip(body.as_bytes())
        } else {
            body.as_bytes().to_vec()
        };
        head.push_str(&format!("\r\ncontent-length: {}\r\n\r\n", body.len()));
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&body);
        vec![Step::Write(bytes)]
    }
}

/// A recorded response, whole.
pub fn play(name: &str) -> Reply {
    Reply::Steps(steps_of(&fixture(name)))
}

/// A recorded response: the head and its first `events` chunks, then `tail`.
pub fn cut(name: &str, events: usize, tail: Vec<Step>) -> Reply {
    let mut s = steps_of(&fixture(name));
    s.truncate(1 + events);
    s.extend(tail);
    Reply::Steps(s)
}

/// A response built from the request.
pub fn from_request(f: impl Fn(&Request) -> String + Send + Sync + 'static) -> Reply {
    Reply::From(Box::new(move |r| steps_of(&f(r))))
}

/// gzip of `data` in stored (uncompressed) deflate blocks: a valid stream every decoder
/// reads, without a compression library.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut blocks = data.chunks(0xffff).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A running server.
pub struct Server {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    requests: Arc<Mutex<Vec<Request>>>,
    deltas: Arc<Semaphore>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// Tells the server the test saw a `delta` event (releases one [`Step::WaitDelta`]).
    pub fn delta_seen(&self) {
        self.deltas.add_permits(1);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `replies`, the i-th to the i-th request; a request beyond them gets a 599 that
/// names the problem.
pub async fn serve(replies: Vec<Reply>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let deltas = Arc::new(Semaphore::new(0));
    let replies = Arc::new(Mutex::new(replies.into_iter()));
    let (reqs, sem) = (requests.clone(), deltas.clone());
    let task = tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let (reqs, sem, replies) = (reqs.clone(), sem.clone(), replies.clone());
            // Each connection on its own task: a stalled reply must not block the next.
            tokio::spawn(async move {
                let _ = answer(sock, reqs, sem, replies).await;
            });
        }
    });
    Server {
        base,
        requests,
        deltas,
        task,
    }
}

async fn answer(
    mut sock: TcpStream,
    reqs: Arc<Mutex<Vec<Request>>>,
    deltas: Arc<Semaphore>,
    replies: Arc<Mutex<std::vec::IntoIter<Reply>>>,
) -> std::io::Result<()> {
    let Some(req) = read_request(&mut sock).await? else {
        return Ok(());
    };
    // Take the reply and record the request together, so the order is the arrival order.
    let reply = {
        let mut r = replies.lock().unwrap();
        reqs.lock().unwrap().push(req.clone());
        r.next()
    };
    let steps = match reply {
        Some(Reply::Steps(s)) => s,
        Some(Reply::From(f)) => f(&req),
        None => steps_of(
            "HTTP/1.1 599 Unscripted\ncontent-type: text/plain\n\nthe test scripted fewer replies than requests came",
        ),
    };
    for step in steps {
        match step {
            Step::Write(bytes) => {
                sock.write_all(&bytes).await?;
                sock.flush().await?;
            }
            Step::WaitDelta => deltas.acquire().await.unwrap().forget(),
            Step::Pause(d) => tokio::time::sleep(d).await,
            Step::Stall => {
                // Until the client closes (its timeout fired).
                let mut tmp = [0u8; 1024];
                while sock.read(&mut tmp).await? > 0 {}
                return Ok(());
            }
            Step::Close => {
                sock.shutdown().await?;
                return Ok(());
            }
            Step::Reset => {
                sock.set_zero_linger()?;
                drop(sock);
                return Ok(());
            }
            Step::Repeat(bytes) => loop {
                // Ends with an error once the client closes.
                sock.write_all(&bytes).await?;
            },
        }
    }
    // Let the client read to the end before the socket goes away.
    sock.shutdown().await?;
    let mut tmp = [0u8; 1024];
    while sock.read(&mut tmp).await? > 0 {}
    Ok(())
}

async fn read_request(sock: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let line = lines.next().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap_or(0));
    while buf.len() < head_end + len {
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    Ok(Some(Request {
        line,
        headers,
        body: String::from_utf8_lossy(&buf[head_end..head_end + len]).into_owned(),
    }))
}

/// The head of a 200 event stream (no content-length, no chunking: the body runs until
/// the connection closes), plus `extra` header lines.
pub fn stream_head(extra: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n{extra}\r\n"
    )
    .into_bytes()
}

/// An OpenAI stream frame whose delta is `delta` (a JSON object).
pub fn openai_frame(delta: &str) -> String {
    format!(
        "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":null}}]}}\n\n"
    )
}

/// A gzip bomb: `prefix`, then `period`-byte repeats of its last bytes, `reps` times 258
/// bytes, in one fixed-Huffman deflate block that never ends (no final block, no trailer):
/// about 13 bits on the wire per 258 bytes inflated. `prefix` must be ASCII below 0x90.
pub fn gzip_bomb(prefix: &[u8], period: usize, reps: usize) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }
    impl Bits {
        fn put(&mut self, v: u64, len: u32) {
            self.acc |= v << self.n;
            self.n += len;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        /// A Huffman code: most significant bit first.
        fn code(&mut self, code: u32, len: u32) {
            let rev = (0..len).fold(0u64, |r, i| (r << 1) | u64::from((code >> i) & 1));
            self.put(rev, len);
        }
    }
    assert!(prefix.iter().all(|&b| b < 0x90) && period >= 1 && period <= prefix.len());
    let mut b = Bits {
        out: vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff],
        acc: 0,
        n: 0,
    };
    b.put(0, 1); // not the final block
    b.put(1, 2); // fixed Huffman codes
    for &c in prefix {
        b.code(0x30 + u32::from(c), 8);
    }
    // Distance codes for 1..=8: (code, extra bits, extra value).
    let (dcode, dbits, dval) = match period {
        1 => (0, 0, 0),
        2 => (1, 0, 0),
        3 => (2, 0, 0),
        4 => (3, 0, 0),
        5 | 6 => (4, 1, period as u64 - 5),
        7 | 8 => (5, 1, period as u64 - 7),
        _ => panic!("period {period} > 8"),
    };
    for _ in 0..reps {
        b.code(0xC5, 8); // length 258
        b.code(dcode, 5);
        b.put(dval, dbits);
    }
    b.out
}

/// A local port nobody listens on (bound, then dropped).
pub async fn closed_port() -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}
