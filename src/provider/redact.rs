//! Keys never leave the run. One function, [`redact_event`], scrubs every string of every
//! event where events leave the engine (the `Emitter`), so a field added later is covered
//! too (each event's [`Scrub`] impl destructures its struct in full: a new field does not
//! compile until it is walked).
//!
//! What counts as a key in a string (for each key of 8 bytes or more):
//! - the key itself, and any run of 16 bytes or more of it (a key cut at any point, or
//!   split so that one piece is long);
//! - a start of the key (4 bytes or more) just before a cut: the `…` a snippet ends with,
//!   or the end of a text known to be cut (a capped body, the partial output of a broken
//!   stream);
//! - any of these in JSON-escaped form (`\u0073\u006b…`), decoded first.
//!
//! When a key turns up in what an attempt assembled from a reply (text, tool-call
//! arguments, an error), the raw body of that reply is withheld: it may hold the key in
//! pieces too small to recognise (one per stream frame).

use crate::error::CallError;
use crate::event::{HttpExchange, Target, ToolCallRecord};

/// A run of this many bytes of a key is redacted wherever it appears.
const FRAGMENT: usize = 16;
/// A key's start this long is redacted just before a cut.
const CUT_PREFIX: usize = 4;
/// Keys shorter than this are not secrets (the simulator's `sim-key`).
const MIN_KEY: usize = 8;
/// Where a text was cut (`provider::classify::snippet` and others end with it).
const CUT_MARK: char = '…';
/// What a secret reads as wherever it would have shown.
pub const REDACTED: &str = "[redacted]";
/// What an exchange body becomes when the reply carried a key in pieces.
pub const WITHHELD: &str = "[withheld: the reply carried an API key]";

/// The keys of a run, to scrub from everything it shows.
#[derive(Clone, Default)]
pub struct Secrets {
    keys: Vec<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} keys)", self.keys.len())
    }
}

impl Secrets {
    pub fn new<S: AsRef<str>>(keys: impl IntoIterator<Item = S>) -> Secrets {
        let mut keys: Vec<String> = keys
            .into_iter()
            .map(|k| k.as_ref().to_owned())
            .filter(|k| k.len() >= MIN_KEY)
            .collect();
        keys.sort();
        keys.dedup();
        Secrets { keys }
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(String::as_str)
    }

    /// Scrubs `s` in place; true when it held a key.
    pub fn scrub(&self, s: &mut String) -> bool {
        self.scrub_as(s, false)
    }

    /// As [`Secrets::scrub`] for a text that was cut at its end: a start of a key there
    /// goes too.
    pub fn scrub_cut(&self, s: &mut String) -> bool {
        self.scrub_as(s, true)
    }

    /// `text` scrubbed.
    pub fn redact(&self, text: &str) -> String {
        let mut s = text.to_owned();
        self.scrub(&mut s);
        s
    }

    fn scrub_as(&self, s: &mut String, cut: bool) -> bool {
        if self.keys.is_empty() || s.len() < CUT_PREFIX {
            return false;
        }
        let mut hit = false;
        let ranges = self.find(s, cut);
        if !ranges.is_empty() {
            *s = replace_ranges(s, &ranges);
            hit = true;
        }
        // JSON-escaped keys: find them in the decoded text, redact their raw spans.
        if s.contains('\\')
            && let Some((decoded, map)) = unescape(s)
        {
            let ranges: Vec<(usize, usize)> = self
                .find(&decoded, cut)
                .into_iter()
                .map(|(a, b)| (map[a], map[b]))
                .collect();
            if !ranges.is_empty() {
                *s = replace_ranges(s, &ranges);
                hit = true;
            }
        }
        hit
    }

    /// Byte ranges of `s` (merged, sorted, on char boundaries) that hold a key.
    fn find(&self, s: &str, cut: bool) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for key in &self.keys {
            fragments(s, key, &mut out);
            // A start of the key before a cut mark, or at the end of a cut text.
            if !cut && !s.contains(CUT_MARK) {
                continue;
            }
            let ends = s
                .match_indices(CUT_MARK)
                .map(|(i, _)| i)
                .chain(cut.then_some(s.len()));
            for end in ends {
                let n = key_start_at_end(&s[..end], key);
                if n >= CUT_PREFIX {
                    out.push((end - n, end));
                }
            }
        }
        merge(s, out)
    }
}

/// Pushes every run of `key` in `s` that is the whole key or at least [`FRAGMENT`] bytes.
fn fragments(s: &str, key: &str, out: &mut Vec<(usize, usize)>) {
    let (sb, kb) = (s.as_bytes(), key.as_bytes());
    // Too short to hold one (most streamed deltas): nothing to search.
    if sb.len() < FRAGMENT.min(kb.len()) {
        return;
    }
    if kb.len() < FRAGMENT {
        out.extend(s.match_indices(key).map(|(i, _)| (i, i + key.len())));
        return;
    }
    // Any run of FRAGMENT bytes holds one of these aligned 8-byte blocks whole: find the
    // blocks, then grow each hit as far as the key matches on both sides.
    const BLOCK: usize = 8;
    let mut offsets: Vec<usize> = (0..=kb.len() - BLOCK).step_by(BLOCK).collect();
    if offsets.last() != Some(&(kb.len() - BLOCK)) {
        offsets.push(kb.len() - BLOCK);
    }
    for b in offsets {
        let Ok(block) = std::str::from_utf8(&kb[b..b + BLOCK]) else {
            continue;
        };
        for (p, _) in s.match_indices(block) {
            let left = (1..=b.min(p))
                .take_while(|&l| sb[p - l] == kb[b - l])
                .last()
                .unwrap_or(0);
            let room = (kb.len() - b - BLOCK).min(sb.len() - p - BLOCK);
            let right = (1..=room)
                .take_while(|&r| sb[p + BLOCK + r - 1] == kb[b + BLOCK + r - 1])
                .last()
                .unwrap_or(0);
            if left + BLOCK + right >= FRAGMENT {
                out.push((p - left, p + BLOCK + right));
            }
        }
    }
}

/// Sorted, merged ranges widened to char boundaries.
fn merge(s: &str, mut ranges: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    ranges.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (mut a, mut b) in ranges {
        while !s.is_char_boundary(a) {
            a -= 1;
        }
        while !s.is_char_boundary(b) {
            b += 1;
        }
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

fn replace_ranges(s: &str, ranges: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    for &(a, b) in ranges {
        if a < at {
            continue;
        }
        out.push_str(&s[at..a]);
        out.push_str(REDACTED);
        at = b;
    }
    out.push_str(&s[at..]);
    out
}

/// The length of the longest tail of `text` that is a proper start of `key`.
pub(crate) fn key_start_at_end(text: &str, key: &str) -> usize {
    let most = text.len().min(key.len().saturating_sub(1));
    (1..=most)
        .rev()
        .find(|&n| {
            key.is_char_boundary(n)
                && text.is_char_boundary(text.len() - n)
                && text.ends_with(&key[..n])
        })
        .unwrap_or(0)
}

/// `s` with JSON string escapes decoded, and for each byte of the decoded text the offset
/// of its source in `s` (one more entry: `s.len()`). `None` when nothing was escaped.
fn unescape(s: &str) -> Option<(String, Vec<usize>)> {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut map = Vec::with_capacity(s.len() + 1);
    let mut any = false;
    let mut i = 0;
    let hex4 = |at: usize| -> Option<u32> {
        let h = s.get(at..at + 4)?;
        u32::from_str_radix(h, 16)
            .ok()
            .filter(|_| h.bytes().all(|c| c.is_ascii_hexdigit()))
    };
    while i < b.len() {
        let (c, len) = if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'"' => (Some('"'), 2),
                b'\\' => (Some('\\'), 2),
                b'/' => (Some('/'), 2),
                b'n' => (Some('\n'), 2),
                b't' => (Some('\t'), 2),
                b'r' => (Some('\r'), 2),
                b'b' => (Some('\u{8}'), 2),
                b'f' => (Some('\u{c}'), 2),
                b'u' => match hex4(i + 2) {
                    Some(hi @ 0xD800..=0xDBFF)
                        if b.get(i + 6) == Some(&b'\\') && b.get(i + 7) == Some(&b'u') =>
                    {
                        match hex4(i + 8) {
                            Some(lo @ 0xDC00..=0xDFFF) => (
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)),
                                12,
                            ),
                            _ => (Some(char::REPLACEMENT_CHARACTER), 6),
                        }
                    }
                    Some(u) => (
                        Some(char::from_u32(u).unwrap_or(char::REPLACEMENT_CHARACTER)),
                        6,
                    ),
                    None => (None, 1),
                },
                _ => (None, 1),
            }
        } else {
            (None, 1)
        };
        match c {
            Some(c) => {
                any = true;
                for _ in 0..c.len_utf8() {
                    map.push(i);
                }
                out.push(c);
                i += len;
            }
            None => {
                // A plain character, copied whole.
                let ch_len = s[i..].chars().next().map_or(1, char::len_utf8);
                for _ in 0..ch_len {
                    map.push(i);
                }
                out.push_str(&s[i..i + ch_len]);
                i += ch_len;
            }
        }
    }
    map.push(s.len());
    any.then_some((out, map))
}

/// Something that holds strings a key could hide in.
pub(crate) trait Scrub {
    /// Scrubs every string in place; true when any held a key.
    fn scrub(&mut self, s: &Secrets) -> bool;
}

impl Scrub for String {
    fn scrub(&mut self, s: &Secrets) -> bool {
        s.scrub(self)
    }
}

impl<T: Scrub> Scrub for Option<T> {
    fn scrub(&mut self, s: &Secrets) -> bool {
        self.as_mut().is_some_and(|v| v.scrub(s))
    }
}

impl<T: Scrub> Scrub for Vec<T> {
    fn scrub(&mut self, s: &Secrets) -> bool {
        self.iter_mut().fold(false, |hit, v| v.scrub(s) | hit)
    }
}

impl<T: Scrub> Scrub for Box<T> {
    fn scrub(&mut self, s: &Secrets) -> bool {
        (**self).scrub(s)
    }
}

impl<A: Scrub, B: Scrub> Scrub for (A, B) {
    fn scrub(&mut self, s: &Secrets) -> bool {
        self.0.scrub(s) | self.1.scrub(s)
    }
}

impl Scrub for serde_json::Value {
    fn scrub(&mut self, s: &Secrets) -> bool {
        use serde_json::Value;
        match self {
            Value::String(v) => v.scrub(s),
            Value::Array(a) => a.scrub(s),
            Value::Object(m) => {
                let mut hit = false;
                // Object keys too: rebuild the map only when one holds a key.
                if m.keys().any(|k| s.redact(k) != *k) {
                    let old = std::mem::take(m);
                    for (k, v) in old {
                        m.insert(s.redact(&k), v);
                    }
                    hit = true;
                }
                m.values_mut().fold(hit, |hit, v| v.scrub(s) | hit)
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }
}

impl Scrub for CallError {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let CallError {
            kind: _,
            message,
            hint,
            status: _,
            provider_type,
            retry_after_ms: _,
            // One of our own words, never server text.
            retry_after_from: _,
            request_id,
            timeout,
            last_error,
            errors,
        } = self;
        message.scrub(s)
            | hint.scrub(s)
            | provider_type.scrub(s)
            | request_id.scrub(s)
            | timeout.scrub(s)
            | last_error.scrub(s)
            | errors.scrub(s)
    }
}

impl Scrub for HttpExchange {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let HttpExchange {
            url,
            status: _,
            headers,
            body,
        } = self;
        let hit = url.scrub(s) | headers.scrub(s);
        // A body is capped: a key may be cut at its end.
        let cut = body.len() >= crate::provider::client::EXCHANGE_BODY_CAP - 3;
        hit | s.scrub_as(body, cut)
    }
}

/// The key out of a reply's record as the client made it: body (raw or JSON-escaped, and
/// `cut` when it stopped at its cap) and header values.
pub(crate) fn scrub_exchange(x: &mut HttpExchange, secrets: &Secrets, cut: bool) {
    if cut {
        secrets.scrub_cut(&mut x.body);
    } else {
        secrets.scrub(&mut x.body);
    }
    for (_, v) in &mut x.headers {
        secrets.scrub(v);
    }
}

/// Scrubs keys from streamed text that arrives in pieces: a key split across pieces is
/// caught by holding back any tail that could be the start of one until the next piece (or
/// [`StreamRedactor::finish`]) settles it.
pub struct StreamRedactor {
    secrets: std::sync::Arc<Secrets>,
    held: String,
}

impl std::fmt::Debug for StreamRedactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Both the keys and the held text (the start of a key) stay unshown.
        f.debug_struct("StreamRedactor")
            .field("secrets", &self.secrets.keys().count())
            .field("held", &self.held.len())
            .finish()
    }
}

impl StreamRedactor {
    pub fn new(secrets: &[&str]) -> StreamRedactor {
        StreamRedactor::sharing(std::sync::Arc::new(Secrets::new(secrets.iter().copied())))
    }

    /// A redactor over a run's keys, without copying them (one per attempt).
    pub fn sharing(secrets: std::sync::Arc<Secrets>) -> StreamRedactor {
        StreamRedactor {
            secrets,
            held: String::new(),
        }
    }

    /// What of `piece` (and what was held) can be shown now.
    pub fn push(&mut self, piece: &str) -> String {
        if self.secrets.is_empty() {
            return piece.to_string();
        }
        self.held.push_str(piece);
        // Hold back a tail that may be a key's start; what comes before it is settled.
        let keep = self
            .secrets
            .keys()
            .map(|k| key_start_at_end(&self.held, k))
            .max()
            .unwrap_or(0);
        let tail = self.held.split_off(self.held.len() - keep);
        let shown = self.secrets.redact(&self.held);
        self.held = tail;
        shown
    }

    /// What is still held, at the end of the stream.
    pub fn finish(self) -> String {
        self.held
    }

    /// What is still held, when the stream broke: a start of a key there is cut, so it is
    /// redacted.
    pub fn finish_cut(mut self) -> String {
        self.secrets.scrub_cut(&mut self.held);
        self.held
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;

    #[test]
    fn a_key_split_across_stream_pieces_is_still_scrubbed() {
        let key = "sk-SENTINEL-0123456789";
        let text = format!("Your key is {key}, see? {key}");
        // Every way of cutting the text into two, three and one-byte pieces.
        let bytes = text.as_bytes();
        let mut cuts: Vec<Vec<usize>> = (1..bytes.len()).map(|i| vec![i]).collect();
        cuts.extend((1..bytes.len()).flat_map(|i| (i + 1..bytes.len()).map(move |j| vec![i, j])));
        cuts.push((1..bytes.len()).collect());
        for cut in cuts {
            let mut r = StreamRedactor::new(&[key]);
            let mut shown = Vec::new();
            let mut from = 0;
            for &to in cut.iter().chain([bytes.len()].iter()) {
                shown.push(r.push(&text[from..to]));
                from = to;
            }
            shown.push(r.finish());
            let joined = shown.concat();
            assert_eq!(joined, "Your key is [redacted], see? [redacted]", "{cut:?}");
            assert!(
                shown.iter().all(|p| !p.contains("SENTINEL")),
                "{cut:?}: {shown:?}"
            );
        }
        let mut r = StreamRedactor::new(&[key]);
        r.push("sk-SENT");
        assert!(!format!("{r:?}").contains("SENT"), "{r:?}");
        // Without keys, pieces pass through untouched.
        let mut r = StreamRedactor::new(&["sim"]);
        assert_eq!(r.push("s"), "s");
        assert_eq!(r.finish(), "");
    }
}

impl Scrub for ToolCallRecord {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let ToolCallRecord { id, name, args } = self;
        id.scrub(s) | name.scrub(s) | args.scrub(s)
    }
}

impl Scrub for Target {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let Target { provider, model } = self;
        provider.scrub(s) | model.scrub(s)
    }
}

/// The reply of an attempt whose assembled parts held a key: its raw body goes.
fn withhold(response: &mut Option<HttpExchange>, assembled_hit: bool) {
    if let Some(x) = response.as_mut()
        && assembled_hit
        && !x.body.is_empty()
    {
        x.body = WITHHELD.into();
    }
}

/// Scrubs a failed attempt's error, partial output (cut where the attempt failed) and
/// reply, withholding the raw body when the rest held a key.
pub(crate) fn redact_failure(
    error: &mut CallError,
    partial_output: &mut String,
    response: &mut Option<HttpExchange>,
    s: &Secrets,
) {
    if !s.is_empty() {
        scrub_failure(error, partial_output, response, s);
    }
}

/// [`redact_failure`]'s walk; true when any part held a key.
fn scrub_failure(
    error: &mut CallError,
    partial_output: &mut String,
    response: &mut Option<HttpExchange>,
    s: &Secrets,
) -> bool {
    let hit = error.scrub(s) | s.scrub_cut(partial_output);
    let body_hit = response.scrub(s);
    withhold(response, hit);
    hit | body_hit
}

mod events;

pub use events::redact_event;
#[cfg(any(test, feature = "test-util"))]
pub use events::redact_timed;

#[cfg(test)]
mod tests {
    use super::*;

    /// Shared with `events.rs`'s tests.
    pub(super) const KEY: &str = "sk-live-test-SENTINEL-0123456789abcdef";

    pub(super) fn secrets() -> Secrets {
        Secrets::new([KEY, "short"])
    }

    #[test]
    fn whole_keys_fragments_and_escaped_keys_go() {
        let s = secrets();
        assert_eq!(s.redact(&format!("a {KEY} b")), "a [redacted] b");
        // A long enough piece of the key, anywhere.
        assert_eq!(s.redact(&format!("x{}y", &KEY[5..25])), "x[redacted]y");
        // Shorter pieces are ordinary text.
        assert_eq!(s.redact(&KEY[5..19]), &KEY[5..19]);
        // JSON-escaped, in full or in part.
        let escaped: String = KEY
            .chars()
            .map(|c| format!("\\u{:04x}", c as u32))
            .collect();
        assert_eq!(
            s.redact(&format!("{{\"k\":\"{escaped}\"}}")),
            "{\"k\":\"[redacted]\"}"
        );
        let head: String = KEY[..30]
            .chars()
            .map(|c| format!("\\u{:04x}", c as u32))
            .collect();
        assert_eq!(s.redact(&format!("{head}{}", &KEY[30..])), "[redacted]");
        // Keys under 8 bytes are not secrets.
        assert_eq!(s.redact("short"), "short");
        assert_eq!(s.redact("caf\u{e9} \\u00e9 \\"), "caf\u{e9} \\u00e9 \\");
    }

    #[test]
    fn a_key_cut_at_a_snippet_or_a_cap_goes() {
        let s = secrets();
        // Cut by a snippet, any length of 4 bytes or more.
        for n in 4..KEY.len() {
            let cut = format!("bad key {}…", &KEY[..n]);
            assert_eq!(s.redact(&cut), "bad key [redacted]…", "{n}");
        }
        assert_eq!(s.redact("ok sk-…"), "ok sk-…");
        // A text known to be cut.
        let mut t = format!("body {}", &KEY[..6]);
        assert!(s.scrub_cut(&mut t));
        assert_eq!(t, "body [redacted]");
        let mut t = format!("body {}", &KEY[..6]);
        assert!(!s.scrub(&mut t));
    }
}
