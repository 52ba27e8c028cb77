//! Server-sent events decoding, incremental and allocation-light (WHATWG EventSource
//! rules): lines end in LF, CRLF or CR; `:` starts a comment; `data` lines join with `\n`;
//! a blank line dispatches; an event without data is dropped; a leading BOM is skipped.
//!
//! Bytes go in as they come off the socket, split anywhere (even inside a CRLF or a UTF-8
//! sequence); whole events come out. Bytes of a complete line are scanned once.
//!
//! Bounded: a line or an event longer than [`MAX_EVENT_BYTES`] (a server that never ends a
//! line, or a small gzip'd stream that inflates to one) stops the decoder: it drops what it
//! holds, ignores further input, and [`SseDecoder::overflow`] says why.

/// One dispatched event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; empty when the frame had none (the spec's default `message`).
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The `id:` field, when this frame had one.
    pub id: Option<String>,
}

/// What a wire parser wants after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Keep reading.
    Continue,
    /// The terminal event arrived (`data: [DONE]`, `message_stop`): the reply is complete.
    Done,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The largest line or event (its `data` lines joined) the decoder holds. Real events are
/// small, but one may carry a whole tool call's arguments: the bound is generous.
pub const MAX_EVENT_BYTES: usize = 16 << 20;

/// Why the decoder stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// A line grew past [`MAX_EVENT_BYTES`] without ending.
    Line,
    /// An event's data grew past [`MAX_EVENT_BYTES`] without a blank line.
    Event,
}

impl std::fmt::Display for Overflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self {
            Overflow::Line => "a stream line",
            Overflow::Event => "a stream event",
        };
        write!(f, "{what} grew past {} MiB", MAX_EVENT_BYTES >> 20)
    }
}

/// Incremental decoder: [`SseDecoder::push`] bytes, collect events; [`SseDecoder::finish`]
/// at end of stream.
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// An incomplete line carried over from earlier chunks.
    buf: Vec<u8>,
    /// The prefix of `buf` already known to hold no line terminator.
    scanned: usize,
    /// The last line ended in CR at a chunk's end: a LF opening the next chunk belongs to it.
    skip_lf: bool,
    /// The start of the stream was checked for a BOM.
    bom_done: bool,
    event: String,
    /// Each data line followed by `\n`; empty = no data field seen.
    data: Vec<u8>,
    id: Option<String>,
    /// Set once a bound was passed; input is ignored from then on.
    overflow: Option<Overflow>,
}

impl SseDecoder {
    pub fn new() -> SseDecoder {
        SseDecoder::default()
    }

    /// Why the decoder stopped, once a line or an event passed [`MAX_EVENT_BYTES`].
    pub fn overflow(&self) -> Option<Overflow> {
        self.overflow
    }

    /// Stops: frees what is held and ignores further input.
    fn stop(&mut self, why: Overflow) {
        self.overflow = Some(why);
        self.buf = Vec::new();
        self.data = Vec::new();
        self.scanned = 0;
    }

    /// Feeds bytes; appends every event they complete to `out`.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut Vec<SseEvent>) {
        if self.overflow.is_some() {
            return;
        }
        if !self.bom_done {
            // The BOM itself may arrive split, so hold bytes until it is decided.
            self.buf.extend_from_slice(chunk);
            if self.buf.len() < BOM.len() && BOM.starts_with(&self.buf) {
                return;
            }
            self.bom_done = true;
            if self.buf.starts_with(BOM) {
                self.buf.drain(..BOM.len());
            }
            chunk = &[];
            self.scanned = 0;
        }
        if self.skip_lf && !chunk.is_empty() {
            self.skip_lf = false;
            if chunk[0] == b'\n' {
                chunk = &chunk[1..];
            }
        }
        if self.buf.is_empty() {
            // Fast path: lines straight from the chunk; only the tail is copied.
            let used = self.lines(chunk, 0, out);
            self.buf.extend_from_slice(&chunk[used..]);
        } else {
            self.buf.extend_from_slice(chunk);
            let buf = std::mem::take(&mut self.buf);
            let used = self.lines(&buf, self.scanned, out);
            self.buf = buf;
            self.buf.drain(..used);
        }
        self.scanned = self.buf.len();
        if self.overflow.is_some() {
            self.buf = Vec::new();
        } else if self.buf.len() > MAX_EVENT_BYTES {
            self.stop(Overflow::Line);
        }
    }

    /// End of stream: dispatches an event whose lines were complete but which lacked the
    /// closing blank line (lenient: the spec drops it, but some servers omit the last blank
    /// line). An unterminated trailing line is discarded as cut off.
    pub fn finish(&mut self) -> Option<SseEvent> {
        if self.overflow.is_some() {
            return None;
        }
        self.buf.clear();
        self.scanned = 0;
        let mut out = Vec::new();
        self.dispatch(&mut out);
        out.pop()
    }

    /// Handles every complete line of `data`, searching for the first terminator from
    /// `from`; returns how many bytes were consumed.
    fn lines(&mut self, data: &[u8], mut from: usize, out: &mut Vec<SseEvent>) -> usize {
        let mut start = 0;
        while let Some(off) = memchr::memchr2(b'\n', b'\r', &data[from..]) {
            let end = from + off;
            if end - start > MAX_EVENT_BYTES {
                self.stop(Overflow::Line);
                return data.len();
            }
            self.line(&data[start..end], out);
            if self.data.len() > MAX_EVENT_BYTES {
                self.stop(Overflow::Event);
                return data.len();
            }
            let mut next = end + 1;
            if data[end] == b'\r' {
                if next < data.len() {
                    if data[next] == b'\n' {
                        next += 1;
                    }
                } else {
                    self.skip_lf = true;
                }
            }
            start = next;
            from = next;
        }
        start
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) {
        let Some(&first) = line.first() else {
            self.dispatch(out);
            return;
        };
        if first == b':' {
            return;
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match name {
            b"data" => {
                self.data.extend_from_slice(value);
                self.data.push(b'\n');
            }
            b"event" => {
                self.event.clear();
                self.event.push_str(&String::from_utf8_lossy(value));
            }
            b"id" if !value.contains(&0) => {
                self.id = Some(String::from_utf8_lossy(value).into_owned());
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if self.data.is_empty() {
            self.event.clear();
            self.id = None;
            return;
        }
        self.data.pop();
        out.push(SseEvent {
            event: std::mem::take(&mut self.event),
            // Copy out so the data buffer keeps its capacity for the next event.
            data: utf8_lossy(&self.data),
            id: self.id.take(),
        });
        self.data.clear();
    }
}

/// The bytes as text, invalid sequences replaced: validating first is several times faster
/// than `from_utf8_lossy` on the valid text streams almost always are.
fn utf8_lossy(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

#[cfg(any(test, feature = "test-util"))]
/// Decodes a whole byte string at once (tests, fixtures).
pub fn decode_all(bytes: &[u8]) -> Vec<SseEvent> {
    let mut d = SseDecoder::new();
    let mut out = Vec::new();
    d.push(bytes, &mut out);
    out.extend(d.finish());
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn invalid_utf8_in_data_is_replaced_not_dropped() {
        let ev = decode_all(b"data: caf\xc3\xa9 \xff\xfe ok\n\n");
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].data, "caf\u{e9} \u{fffd}\u{fffd} ok");
        let ev = decode_all("data: h\u{e9}llo \u{1f600}\r\n\r\n".as_bytes());
        assert_eq!(ev[0].data, "h\u{e9}llo \u{1f600}");
    }
    use super::*;

    fn ev(event: &str, data: &str) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.into(),
            id: None,
        }
    }

    /// Feeds `bytes` split at every boundary pair and checks each split gives `want`.
    fn every_split(bytes: &[u8], want: &[SseEvent]) {
        assert_eq!(decode_all(bytes), want, "whole");
        for i in 0..=bytes.len() {
            for j in i..=bytes.len() {
                let mut d = SseDecoder::new();
                let mut out = Vec::new();
                d.push(&bytes[..i], &mut out);
                d.push(&bytes[i..j], &mut out);
                d.push(&bytes[j..], &mut out);
                out.extend(d.finish());
                assert_eq!(out, want, "split at {i}, {j}");
            }
        }
        // One byte at a time.
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for b in bytes {
            d.push(std::slice::from_ref(b), &mut out);
        }
        out.extend(d.finish());
        assert_eq!(out, want, "byte by byte");
    }

    #[test]
    fn openai_frames() {
        let s = b"data: {\"a\":1}\n\ndata: [DONE]\n\n";
        every_split(s, &[ev("", "{\"a\":1}"), ev("", "[DONE]")]);
    }

    #[test]
    fn anthropic_frames_with_event_names() {
        let s = b"event: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\n";
        every_split(
            s,
            &[
                ev("message_start", "{\"type\":\"message_start\"}"),
                ev("ping", "{\"type\": \"ping\"}"),
            ],
        );
    }

    #[test]
    fn crlf_and_lone_cr_line_endings() {
        every_split(
            b"event: a\r\ndata: 1\r\n\r\ndata: 2\r\rdata: 3\n\r\n",
            &[ev("a", "1"), ev("", "2"), ev("", "3")],
        );
    }

    #[test]
    fn multi_line_data_joins_with_newline() {
        every_split(
            b"data: first\ndata:second\ndata\ndata:  third\n\n",
            &[ev("", "first\nsecond\n\n third")],
        );
    }

    #[test]
    fn comments_unknown_fields_and_dataless_events_are_skipped() {
        every_split(
            b": keep-alive\n\nevent: only-a-name\n\nretry: 100\nfoo: bar\ndata: x\n\n:\n\n",
            &[ev("", "x")],
        );
    }

    #[test]
    fn ids_are_kept_and_utf8_split_across_chunks_survives() {
        let s = "id: 7\ndata: h\u{e9}llo \u{1F600}\n\n".as_bytes();
        let want = [SseEvent {
            event: String::new(),
            data: "h\u{e9}llo \u{1F600}".into(),
            id: Some("7".into()),
        }];
        every_split(s, &want);
    }

    #[test]
    fn a_leading_bom_is_skipped_even_when_split() {
        every_split(b"\xEF\xBB\xBFdata: x\n\n", &[ev("", "x")]);
        // A BOM later in the stream is data, not skipped.
        assert_eq!(
            decode_all(b"data: x\n\n\xEF\xBB\xBFdata: y\n\n"),
            vec![ev("", "x")]
        );
    }

    #[test]
    fn finish_keeps_complete_lines_and_drops_a_cut_line() {
        // Last blank line missing: the event is still delivered.
        assert_eq!(decode_all(b"data: [DONE]\n"), vec![ev("", "[DONE]")]);
        // Cut inside a line: nothing of it is delivered.
        assert_eq!(
            decode_all(b"data: {\"a\":1}\n\ndata: {\"b\""),
            vec![ev("", "{\"a\":1}")]
        );
        assert_eq!(decode_all(b""), vec![]);
    }

    #[test]
    fn empty_data_field_dispatches_an_empty_event() {
        every_split(b"data\n\ndata:\n\n", &[ev("", ""), ev("", "")]);
    }

    #[test]
    fn a_line_or_an_event_past_the_bound_stops_the_decoder() {
        // A line that never ends, fed in socket-sized pieces: held up to the bound only.
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        d.push(b"data: {\"a\":1}\n\ndata: ", &mut out);
        let piece = vec![b'x'; 64 * 1024];
        let mut fed = 0;
        while d.overflow().is_none() {
            d.push(&piece, &mut out);
            fed += piece.len();
            assert!(fed <= MAX_EVENT_BYTES + piece.len(), "never stopped");
        }
        assert_eq!(d.overflow(), Some(Overflow::Line));
        assert!(d.buf.capacity() == 0 && d.data.capacity() == 0);
        d.push(b"\n\ndata: y\n\n", &mut out);
        assert_eq!(d.finish(), None);
        assert_eq!(out, vec![ev("", "{\"a\":1}")]);
        // A whole line past the bound inside one chunk.
        let mut big = b"data: ".to_vec();
        big.extend(std::iter::repeat_n(b'y', MAX_EVENT_BYTES + 1));
        big.extend_from_slice(b"\n\n");
        let mut d = SseDecoder::new();
        d.push(&big, &mut out);
        assert_eq!(d.overflow(), Some(Overflow::Line));
        // Many short data lines that never dispatch.
        let mut d = SseDecoder::new();
        let lines = b"data: 0123456789abcdef0123456789abcdef\n".repeat(8 * 1024);
        while d.overflow().is_none() {
            d.push(&lines, &mut out);
        }
        assert_eq!(d.overflow(), Some(Overflow::Event));
        assert_eq!(out.len(), 1);
        assert_eq!(
            Overflow::Event.to_string(),
            "a stream event grew past 16 MiB"
        );
    }

    #[test]
    fn long_lines_across_many_chunks_are_scanned_once() {
        let payload = "x".repeat(100_000);
        let s = format!("data: {payload}\n\n");
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for c in s.as_bytes().chunks(7) {
            d.push(c, &mut out);
        }
        assert_eq!(out, vec![ev("", &payload)]);
    }
}
