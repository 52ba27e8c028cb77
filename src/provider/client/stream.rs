//! Watching an attempt: the run-clock deadlines (`total`, then `first_byte` until the first
//! byte and `idle` between events), and a streamed reply read under them: SSE decoded,
//! each event handed to the wire format's [`StreamParser`], the size bounds kept, and every
//! way a stream can stop turned into its error.

// `CallError` carries the provider detail by value (DESIGN §4); an attempt fails once, so
// the size of its error costs nothing measurable.
#![allow(clippy::result_large_err)]

use super::call::{Call, Failure};
use crate::clock::{Clock, Deadline};
use crate::error::{CallError, ErrorKind};
use crate::provider::headers;
use crate::provider::sse::{SseDecoder, Step};
use crate::provider::wire::StreamParser;
use crate::provider::{ChatResponse, Timeouts};
use std::future::Future;
use std::time::Duration;

/// Which client-side timeout fired (`CallError.timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    Connect,
    FirstByte,
    Idle,
    Total,
}

impl TimeoutKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeoutKind::Connect => "connect",
            TimeoutKind::FirstByte => "first_byte",
            TimeoutKind::Idle => "idle",
            TimeoutKind::Total => "total",
        }
    }
}

/// A `timeout` error naming the timeout and its length; `what` says what did not happen.
pub(super) fn timeout_error(which: TimeoutKind, limit: Option<Duration>, what: &str) -> CallError {
    let limit = limit.map_or_else(|| "its limit".to_owned(), fmt_duration);
    let mut e = CallError::new(
        ErrorKind::Timeout,
        format!("{} timeout ({limit}): {what}", which.as_str()),
    );
    e.timeout = Some(which.as_str().to_owned());
    e
}

/// `250ms`, `4s`, `1.5s`.
pub(super) fn fmt_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

/// The run-clock deadlines of one attempt: `total`, and one phase deadline that is
/// `first_byte` until the first stream event (or the response headers of a plain reply),
/// then `idle`, renewed at each event.
pub(super) struct Watch<'a> {
    clock: &'a Clock,
    timeouts: &'a Timeouts,
    total: Option<Deadline>,
    phase: Option<Deadline>,
    phase_kind: TimeoutKind,
}

impl<'a> Watch<'a> {
    pub(super) fn new(clock: &'a Clock, timeouts: &'a Timeouts) -> Watch<'a> {
        Watch {
            clock,
            timeouts,
            total: timeouts.total.map(|d| clock.deadline(d)),
            phase: timeouts.first_byte.map(|d| clock.deadline(d)),
            phase_kind: TimeoutKind::FirstByte,
        }
    }

    /// Starts (or restarts) the idle deadline.
    pub(super) fn idle(&mut self) {
        // Drop the old deadline first so it no longer bounds the clock.
        self.phase = None;
        self.phase = self.timeouts.idle.map(|d| self.clock.deadline(d));
        self.phase_kind = TimeoutKind::Idle;
    }

    pub(super) fn limit(&self, which: TimeoutKind) -> Option<Duration> {
        match which {
            TimeoutKind::Connect => self.timeouts.connect,
            TimeoutKind::FirstByte => self.timeouts.first_byte,
            TimeoutKind::Idle => self.timeouts.idle,
            TimeoutKind::Total => self.timeouts.total,
        }
    }

    /// Runs `fut` until it finishes or a deadline passes.
    pub(super) async fn race<F: Future>(&mut self, fut: F) -> Result<F::Output, TimeoutKind> {
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

/// The error with the text streamed so far.
fn fail(parser: &dyn StreamParser, error: CallError) -> Failure {
    Failure {
        error,
        partial: parser.content().to_owned(),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A stream being read: the format's parser, the SSE decoder, and the bytes so far.
struct Reading {
    parser: Box<dyn StreamParser>,
    decoder: SseDecoder,
    batch: Vec<crate::provider::sse::SseEvent>,
    /// Decompressed bytes so far: a small gzip'd stream can inflate without end.
    streamed: usize,
}

impl Call<'_> {
    /// Reads a streamed reply to its terminal event, or to the failure that stops it.
    pub(super) async fn read_stream(
        &mut self,
        resp: &mut super::local::Reply,
        headers: &[(String, String)],
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<ChatResponse, Failure> {
        let mut r = Reading {
            parser: self.wire.stream_parser(),
            decoder: SseDecoder::new(),
            batch: Vec::new(),
            streamed: 0,
        };
        loop {
            let step = match self.watch.race(resp.chunk()).await {
                Ok(Ok(Some(chunk))) => self.take(&chunk, &mut r, headers, on_delta),
                Ok(Ok(None)) => break,
                Ok(Err(e)) => Err(CallError::new(
                    ErrorKind::StreamInterrupted,
                    format!(
                        "the connection broke mid-stream after {}: {}",
                        plural(self.events, "event"),
                        e
                    ),
                )),
                Err(which) => Err(self.stream_timed_out(which)),
            };
            match step {
                Ok(Step::Continue) => {}
                Ok(Step::Done) => return Ok(r.parser.finish()),
                Err(e) => return Err(fail(&*r.parser, e)),
            }
        }
        if let Some(ev) = r.decoder.finish() {
            self.events += 1;
            match r.parser.event(&ev, headers, on_delta) {
                Ok(Step::Done) => return Ok(r.parser.finish()),
                Ok(Step::Continue) => {}
                Err(e) => return Err(fail(&*r.parser, e)),
            }
        }
        let e = CallError::new(
            ErrorKind::StreamInterrupted,
            format!(
                "the stream ended without `{}` after {}",
                r.parser.terminal(),
                plural(self.events, "event")
            ),
        )
        .with_status(200)
        .with_request_id(headers::request_id(headers));
        Err(fail(&*r.parser, e))
    }

    /// One chunk of the stream: its events parsed, the size bounds kept.
    fn take(
        &mut self,
        chunk: &[u8],
        r: &mut Reading,
        headers: &[(String, String)],
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Step, CallError> {
        let limits = self.limits;
        self.capture(chunk);
        r.streamed = r.streamed.saturating_add(chunk.len());
        if r.streamed > limits.max_stream_bytes {
            return Err(self.too_much(format!(
                "the stream passed {} (decompressed) without ending, after {}: stopped reading",
                crate::units::bytes(limits.max_stream_bytes as u64),
                plural(self.events, "event")
            )));
        }
        r.decoder.push(chunk, &mut r.batch);
        for ev in r.batch.drain(..) {
            // Reset the idle deadline before handing text on, and acknowledge the frame
            // (virtual clock) only after: the simulator's clock may then move on, and
            // must find the new deadline and the delta already stamped.
            self.events += 1;
            self.watch.idle();
            let step = r.parser.event(&ev, headers, on_delta);
            self.watch.clock.frame_received();
            if step? == Step::Done {
                return Ok(Step::Done);
            }
            if r.parser.answer_bytes() > limits.max_answer_bytes {
                let mut e = self.too_much(format!(
                    "the streamed answer passed {} (max_answer_bytes) after {}: stopped reading",
                    crate::units::bytes(limits.max_answer_bytes as u64),
                    plural(self.events, "event")
                ));
                e.kind = ErrorKind::ServerError;
                return Err(e);
            }
        }
        if let Some(why) = r.decoder.overflow() {
            return Err(self.too_much(format!(
                "{why} without ending (after {}): stopped reading",
                plural(self.events, "event")
            )));
        }
        Ok(Step::Continue)
    }

    /// A deadline that passed while the stream was read.
    fn stream_timed_out(&self, which: TimeoutKind) -> CallError {
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
        self.timed_out(which, &what)
    }

    /// A stream that passed a size bound.
    fn too_much(&self, message: String) -> CallError {
        let mut e = CallError::new(ErrorKind::StreamInterrupted, message);
        e.status = self.exchange.status;
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_name_themselves_and_their_length() {
        let e = timeout_error(
            TimeoutKind::FirstByte,
            Some(Duration::from_millis(1500)),
            "no response",
        );
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert_eq!(e.timeout.as_deref(), Some("first_byte"));
        assert_eq!(e.message, "first_byte timeout (1.5s): no response");
        assert_eq!(fmt_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(fmt_duration(Duration::from_secs(30)), "30s");
    }
}
