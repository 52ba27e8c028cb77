//! Robustness of the wire layer (DESIGN §4, §9): the SSE decoder and both providers' stream
//! and reply parsers fed seeded random and adversarial input (random bytes, valid frames cut
//! anywhere, huge lines, deep JSON, wrong types in every field, UTF-8 split across chunks);
//! then the whole client against a loopback server sending mangled recorded replies. Nothing
//! may panic; every failure must be a classified error with a message.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use crate::support::wire_server::{Act, acts, call};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retrylab::ErrorKind;
use retrylab::error::CallError;
use retrylab::provider::sse::{SseDecoder, SseEvent, Step, decode_all};
use retrylab::provider::wire::{StreamParser, anthropic, openai};
use retrylab::provider::{ChatRequest, Message, Timeouts, classify};
use retrylab::scenario::types::ProviderKind;
use serde_json::{Value, json};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

// ----- SSE: a reference decoder, and random streams split at random points -----

/// The decoding rules written out plainly (one line at a time), to compare against.
fn reference(bytes: &[u8]) -> Vec<SseEvent> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut out = Vec::new();
    let (mut event, mut data, mut id): (String, Vec<u8>, Option<String>) =
        (String::new(), Vec::new(), None);
    let mut seen_data = false;
    let dispatch = |event: &mut String,
                    data: &mut Vec<u8>,
                    id: &mut Option<String>,
                    seen: &mut bool,
                    out: &mut Vec<SseEvent>| {
        if *seen {
            out.push(SseEvent {
                event: std::mem::take(event),
                data: String::from_utf8_lossy(data).into_owned(),
                id: id.take(),
            });
        } else {
            event.clear();
            *id = None;
        }
        data.clear();
        *seen = false;
    };
    let mut i = 0;
    while i < bytes.len() {
        let Some(off) = bytes[i..].iter().position(|&b| b == b'\n' || b == b'\r') else {
            break; // an unterminated last line is cut off
        };
        let line = &bytes[i..i + off];
        i += off + 1;
        if bytes[i - 1] == b'\r' && bytes.get(i) == Some(&b'\n') {
            i += 1;
        }
        if line.is_empty() {
            dispatch(&mut event, &mut data, &mut id, &mut seen_data, &mut out);
            continue;
        }
        if line[0] == b':' {
            continue;
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(c) => {
                let v = &line[c + 1..];
                (&line[..c], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match name {
            b"data" => {
                if seen_data {
                    data.push(b'\n');
                }
                data.extend_from_slice(value);
                seen_data = true;
            }
            b"event" => event = String::from_utf8_lossy(value).into_owned(),
            b"id" if !value.contains(&0) => id = Some(String::from_utf8_lossy(value).into_owned()),
            _ => {}
        }
    }
    // End of stream: complete lines of an event without its blank line still count.
    dispatch(&mut event, &mut data, &mut id, &mut seen_data, &mut out);
    out
}

const SSE_PIECES: &[&[u8]] = &[
    b"data: ",
    b"data:",
    b"data",
    b"event: ",
    b"event:message_start",
    b"id: 7",
    b"id:\0x",
    b"retry: 10",
    b": comment",
    b":",
    b"\n",
    b"\r",
    b"\r\n",
    b"\n\n",
    b"\r\r",
    b"{\"a\":1}",
    b"[DONE]",
    b"x",
    b"  spaced ",
    b"\xEF\xBB\xBF",
    b"\xC3\xA9",
    b"\xF0\x9F\x98\x80",
    b"\xF0\x9F",
    b"\x98\x80",
    b"\xFF",
    b"\xC3",
    b"\0",
    b"data: \xE6\x97\xA5\xE6\x9C\xAC",
    b"foo: bar",
    b"DATA: no",
    b"data : no",
];

fn random_sse(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut v = Vec::new();
    for _ in 0..rng.random_range(0..60) {
        if rng.random_bool(0.05) {
            v.push(rng.random());
        } else {
            v.extend_from_slice(SSE_PIECES.choose(rng).unwrap());
        }
    }
    v
}

fn decode_in_chunks(bytes: &[u8], rng: &mut ChaCha8Rng) -> Vec<SseEvent> {
    let mut d = SseDecoder::new();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let n = rng.random_range(0..=(bytes.len() - i).min(9));
        d.push(&bytes[i..i + n], &mut out);
        i += n;
    }
    d.push(&[], &mut out);
    out.extend(d.finish());
    out
}

#[test]
fn sse_decoder_matches_the_rules_whatever_the_bytes_and_the_chunking() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut streams = 0;
    for case in 0..20_000 {
        let bytes = random_sse(&mut rng);
        let want = reference(&bytes);
        let whole = catch_unwind(|| decode_all(&bytes)).unwrap_or_else(|_| {
            panic!(
                "case {case}: panic on {:?}",
                String::from_utf8_lossy(&bytes)
            )
        });
        assert_eq!(
            whole,
            want,
            "case {case}: whole {:?}",
            String::from_utf8_lossy(&bytes)
        );
        for _ in 0..3 {
            let chunked = decode_in_chunks(&bytes, &mut rng);
            assert_eq!(
                chunked,
                want,
                "case {case}: chunked {:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
        streams += 1;
    }
    // Pure random bytes, and one huge line that ends in a CR split from its LF.
    for _ in 0..500 {
        let n = rng.random_range(0..4000);
        let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
        assert_eq!(decode_in_chunks(&bytes, &mut rng), reference(&bytes));
    }
    let mut huge = b"data: ".to_vec();
    huge.extend(std::iter::repeat_n(b'z', 8 << 20));
    huge.extend_from_slice(b"\r");
    let mut d = SseDecoder::new();
    let mut out = Vec::new();
    for c in huge.chunks(64 * 1024) {
        d.push(c, &mut out);
    }
    d.push(b"\n\ndata: next\n\n", &mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].data.len(), 8 << 20);
    assert_eq!(out[1].data, "next");
    eprintln!("sse: {streams} random streams, each whole and in 3 random chunkings");
}

// ----- stream parsers: every field with every wrong type -----

fn wrong_value(rng: &mut ChaCha8Rng) -> Value {
    match rng.random_range(0..14) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(-1),
        3 => json!(u64::MAX),
        4 => json!(1e308),
        5 => json!(-0.5),
        6 => json!(""),
        7 => json!("x".repeat(rng.random_range(0..100_000))),
        8 => json!([1, "two", null]),
        9 => json!({}),
        10 => json!({"type": "text_delta", "text": 5}),
        11 => json!("\u{0}\u{1b}[2J日本😀"),
        12 => deep(rng.random_range(1..126)),
        _ => json!(4294967296u64),
    }
}

fn deep(depth: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..depth {
        v = json!([v]);
    }
    v
}

/// Replaces one random leaf or object member of `v` with a wrong value (or drops it).
fn corrupt(v: &mut Value, rng: &mut ChaCha8Rng) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let k = keys.choose(rng).unwrap().clone();
            match rng.random_range(0..4) {
                0 => {
                    m.remove(&k);
                }
                1 => {
                    m.insert(k, wrong_value(rng));
                }
                _ => corrupt(m.get_mut(&k).unwrap(), rng),
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = rng.random_range(0..a.len());
            if rng.random_bool(0.3) {
                a[i] = wrong_value(rng);
            } else {
                corrupt(&mut a[i], rng);
            }
        }
        _ => *v = wrong_value(rng),
    }
}

fn openai_frames() -> Vec<Value> {
    vec![
        json!({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}),
        json!({"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":"{\"x\""}}]},"finish_reason":null}]}),
        json!({"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":": 1}"}}]},"finish_reason":null}]}),
        json!({"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}),
        json!({"id":"c","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}),
        json!({"error":{"message":"boom","type":"server_error","code":null}}),
    ]
}

fn anthropic_frames() -> Vec<(&'static str, Value)> {
    vec![
        (
            "message_start",
            json!({"type":"message_start","message":{"id":"m","usage":{"input_tokens":5,"output_tokens":1}}}),
        ),
        (
            "content_block_start",
            json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
        ),
        (
            "content_block_delta",
            json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}),
        ),
        (
            "content_block_start",
            json!({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{}}}),
        ),
        (
            "content_block_delta",
            json!({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"x\": 1}"}}),
        ),
        (
            "content_block_stop",
            json!({"type":"content_block_stop","index":1}),
        ),
        (
            "message_delta",
            json!({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}),
        ),
        ("ping", json!({"type":"ping"})),
        (
            "error",
            json!({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}),
        ),
        ("message_stop", json!({"type":"message_stop"})),
    ]
}

/// A failure is classified: a real kind (not a run-level one), a message, status 200 when it
/// came inside a 200 reply.
fn classified(e: &CallError, what: &str) {
    assert!(
        !matches!(
            e.kind,
            ErrorKind::Any | ErrorKind::RetryError | ErrorKind::FallbackError
        ),
        "{what}: kind {:?}",
        e.kind
    );
    assert!(!e.message.trim().is_empty(), "{what}: empty message");
}

/// Frame data as a random mix: JSON corrupted, cut, doubled, not JSON at all.
fn mangle(rng: &mut ChaCha8Rng, v: &Value) -> String {
    let mut v = v.clone();
    for _ in 0..rng.random_range(0..3) {
        corrupt(&mut v, rng);
    }
    let text = v.to_string();
    match rng.random_range(0..8) {
        0 => {
            let mut cut = rng.random_range(0..=text.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text[..cut].to_string()
        }
        1 => format!("{text}{text}"),
        2 => String::from_utf8_lossy(
            &(0..rng.random_range(0..50))
                .map(|_| rng.random())
                .collect::<Vec<u8>>(),
        )
        .into_owned(),
        3 => "[".repeat(100_000),
        4 => " [DONE] ".into(),
        _ => text,
    }
}

#[test]
fn stream_parsers_take_any_frame_without_panicking() {
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let (mut frames, mut errors) = (0, 0);
    let oa = openai_frames();
    let an = anthropic_frames();
    for case in 0..2_000 {
        let mut s = openai::StreamState::new();
        let mut a = anthropic::StreamState::new();
        let mut seen = String::new();
        let mut seen_a = String::new();
        for _ in 0..rng.random_range(1..12) {
            frames += 2;
            let frame = oa.choose(&mut rng).unwrap();
            let data = mangle(&mut rng, frame);
            let ev = SseEvent {
                event: (*["", "error", "message"].choose(&mut rng).unwrap()).into(),
                data,
                id: None,
            };
            let r = catch_unwind(AssertUnwindSafe(|| {
                s.event(&ev, &[], &mut |t| seen.push_str(t))
            }))
            .unwrap_or_else(|_| panic!("case {case}: openai panicked on {:?}", ev.data));
            if let Err(e) = &r {
                errors += 1;
                classified(e, &format!("openai case {case}"));
            }
            let (name, v) = an.choose(&mut rng).unwrap();
            let ev = SseEvent {
                event: (*[*name, "", "error", "unknown"].choose(&mut rng).unwrap()).into(),
                data: mangle(&mut rng, v),
                id: None,
            };
            let r = catch_unwind(AssertUnwindSafe(|| {
                a.event(&ev, &[], &mut |t| seen_a.push_str(t))
            }))
            .unwrap_or_else(|_| panic!("case {case}: anthropic panicked on {:?}", ev.data));
            match r {
                Err(e) => {
                    errors += 1;
                    classified(&e, &format!("anthropic case {case}"));
                }
                Ok(Step::Done | Step::Continue) => {}
            }
        }
        // What the deltas said is what the state holds.
        assert_eq!(s.content(), seen);
        assert_eq!(a.content(), seen_a);
        let _ = (s.finish(), a.finish());
    }
    eprintln!(
        "stream parsers: {frames} frames, {errors} classified errors, {:?}",
        started.elapsed()
    );
    assert!(errors > 1000, "{errors}");
}

/// A frame that is not JSON is `stream_interrupted`, whatever it holds.
#[test]
fn malformed_frames_are_stream_interrupted() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    for _ in 0..2_000 {
        let mut bad = mangle(&mut rng, &json!({"choices": []}));
        if serde_json::from_str::<Value>(&bad).is_ok() || bad.trim() == "[DONE]" {
            bad.push('{');
        }
        let ev = SseEvent {
            event: String::new(),
            data: bad.clone(),
            id: None,
        };
        let e = openai::StreamState::new()
            .event(&ev, &[], &mut |_| {})
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::StreamInterrupted, "{bad:?}");
        let e = anthropic::StreamState::new()
            .event(&ev, &[], &mut |_| {})
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::StreamInterrupted, "{bad:?}");
        assert!(
            e.message.chars().count() < 600,
            "the frame is quoted short: {}",
            e.message
        );
    }
}

// ----- plain replies and HTTP errors -----

fn openai_plain() -> Value {
    json!({"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi","tool_calls":[{"id":"call_a","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2}})
}

fn anthropic_plain() -> Value {
    json!({"id":"m","type":"message","role":"assistant","content":[{"type":"text","text":"Hi"},{"type":"tool_use","id":"t","name":"f","input":{"x":1}}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":2}})
}

#[test]
fn plain_replies_and_error_bodies_never_panic() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let headers_pool: Vec<(String, String)> = [
        ("retry-after", "1"),
        ("retry-after", "1e309"),
        ("retry-after", "-1"),
        ("retry-after", "NaN"),
        ("retry-after", "inf"),
        ("retry-after", "18446744073709551616"),
        ("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"),
        ("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT"),
        ("retry-after", "日本"),
        ("retry-after-ms", "1e300"),
        ("retry-after-ms", "0.0001"),
        ("Retry-After-Ms", "-0"),
        ("x-request-id", "  "),
        ("request-id", "req_\u{1b}[2J"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
    .collect();
    let mut n = 0;
    for case in 0..5_000 {
        let headers: Vec<(String, String)> = (0..rng.random_range(0..4))
            .map(|_| headers_pool.choose(&mut rng).unwrap().clone())
            .collect();
        let (base, kind) = if rng.random_bool(0.5) {
            (openai_plain(), ProviderKind::Openai)
        } else {
            (anthropic_plain(), ProviderKind::Anthropic)
        };
        let body = mangle(&mut rng, &base);
        n += 1;
        let r = catch_unwind(|| match kind {
            ProviderKind::Anthropic => anthropic::parse_reply(body.as_bytes(), &headers),
            _ => openai::parse_reply(body.as_bytes(), &headers),
        })
        .unwrap_or_else(|_| panic!("case {case}: parse_reply panicked on {body:?}"));
        if let Err(e) = r {
            classified(&e, &format!("reply case {case}"));
            assert_eq!(e.status, Some(200), "case {case}");
        }
        let status = *[
            0u16,
            100,
            200,
            301,
            400,
            401,
            404,
            408,
            409,
            422,
            429,
            499,
            500,
            503,
            529,
            599,
            999,
            u16::MAX,
        ]
        .choose(&mut rng)
        .unwrap();
        let e = catch_unwind(|| classify::classify_http(status, &headers, &body))
            .unwrap_or_else(|_| panic!("case {case}: classify_http panicked on {body:?}"));
        classified(&e, &format!("http case {case}"));
        assert_eq!(e.status, Some(status));
    }
    // Deep JSON past serde's recursion limit, and a body of 16 MB.
    for body in [
        "[".repeat(1_000_000),
        format!("{{\"error\": {}}}", "[".repeat(500)),
        "x".repeat(16 << 20),
    ] {
        assert!(openai::parse_reply(body.as_bytes(), &[]).is_err());
        assert!(anthropic::parse_reply(body.as_bytes(), &[]).is_err());
        let e = classify::classify_http(500, &[], &body);
        assert!(
            e.message.chars().count() < 400,
            "a long body is quoted short"
        );
    }
    eprintln!("replies: {n} bodies x (parse_reply, classify_http)");
}

// ----- the whole client against a loopback server sending mangled recorded replies -----

const FIXTURES: &[(&str, ProviderKind, bool)] = &[
    ("openai_plain", ProviderKind::Openai, false),
    ("openai_stream", ProviderKind::Openai, true),
    ("openai_stream_tool", ProviderKind::Openai, true),
    ("openai_429_retry_after_ms", ProviderKind::Openai, false),
    ("openai_500", ProviderKind::Openai, false),
    ("anthropic_plain", ProviderKind::Anthropic, false),
    ("anthropic_stream", ProviderKind::Anthropic, true),
    ("anthropic_stream_tool", ProviderKind::Anthropic, true),
    ("anthropic_529", ProviderKind::Anthropic, false),
];

fn request(stream: bool) -> ChatRequest {
    ChatRequest {
        model: "m".into(),
        system: None,
        messages: vec![Message::user("Q")],
        temperature: None,
        max_tokens: None,
        stream,
        tools: vec![],
    }
}

/// The fixture's bytes, mangled, rewritten in random pieces, ending in a close or a reset
/// (or a stall, when nothing was written).
fn mangled_script(rng: &mut ChaCha8Rng, name: &str) -> Vec<Act> {
    let mut bytes: Vec<u8> = acts(name)
        .into_iter()
        .flat_map(|a| match a {
            Act::Write(b) => b,
            _ => Vec::new(),
        })
        .collect();
    let head_end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(0, |i| i + 4);
    for _ in 0..rng.random_range(0..4) {
        match rng.random_range(0..5) {
            // Cut anywhere (inside the head too).
            0 => bytes.truncate(rng.random_range(0..=bytes.len())),
            // A byte flipped in the body.
            1 if bytes.len() > head_end => {
                let i = rng.random_range(head_end..bytes.len());
                bytes[i] = rng.random();
            }
            // Junk inserted in the body.
            2 => {
                let i = rng.random_range(head_end.min(bytes.len())..=bytes.len());
                let junk: &[u8] = [
                    &b"\xF0\x9F"[..],
                    b"\r\n\r\n",
                    b"data: {\"error\": 5}\n\n",
                    b"event: error\ndata: {}\n\n",
                    b"\0\0\0",
                    b"ffffffff\r\n",
                ]
                .choose(rng)
                .unwrap();
                bytes.splice(i..i, junk.iter().copied());
            }
            _ => {}
        }
    }
    let mut script = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let n = rng.random_range(1..=(bytes.len() - i).min(300));
        script.push(Act::Write(bytes[i..i + n].to_vec()));
        i += n;
    }
    // A stall right after writes can race the client re-arming its idle deadline on the
    // virtual clock (the simulator avoids it with frame acknowledgements; this server has
    // none), so only a silent server stalls.
    script.push(match rng.random_range(0..3) {
        _ if script.is_empty() && rng.random_bool(0.5) => Act::Stall,
        0 | 1 => Act::Close,
        _ => Act::Reset,
    });
    script
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_survives_mangled_replies_from_a_server() {
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    let mut kinds = std::collections::BTreeMap::new();
    let mut ok = 0;
    let cases = 360;
    for case in 0..cases {
        let (name, kind, stream) = *FIXTURES.choose(&mut rng).unwrap();
        let script = mangled_script(&mut rng, name);
        let timeouts = Timeouts {
            connect: Some(Duration::from_secs(5)),
            first_byte: Some(Duration::from_secs(30)),
            idle: Some(Duration::from_secs(30)),
            total: Some(Duration::from_secs(120)),
        };
        let o = call(kind, script, &request(stream), timeouts).await;
        match &o.result {
            Ok(_) => ok += 1,
            Err(e) => {
                classified(&e.error, &format!("{name} case {case}"));
                *kinds.entry(e.error.kind.as_str()).or_insert(0) += 1;
                // The partial output is exactly what was streamed before the failure.
                assert_eq!(e.partial_output, o.deltas.concat(), "{name} case {case}");
            }
        }
    }
    eprintln!(
        "client: {cases} mangled exchanges, {ok} ok, errors by kind {kinds:?}, {:?}",
        started.elapsed()
    );
    assert!(kinds.len() >= 4, "the failures were told apart: {kinds:?}");
}

// ----- what reaches the user's terminal in headless mode -----

/// `retrylab run` (and
/// `replay --print`) writes streamed text, tool arguments and results and partial output to
/// the terminal as they came. A live server, a model asked to, or a crafted trace can send
/// ESC/BEL sequences: `ESC]52;c;…BEL` writes the user's clipboard in many terminals, `ESC[2J`
/// wipes the screen, `ESC]0;…BEL` sets the window title. Error messages from servers are now
/// made printable at classification (provider/classify.rs `printable`); the printer should do
/// the same to everything else it prints (e.g. map `c.is_control() && c != '\n'` to U+FFFD).
/// `--json` is safe (serde escapes control characters).
#[test]
fn the_headless_printer_never_writes_control_characters() {
    use retrylab::cli::printer::{Printer, Style};
    use retrylab::event::TimedEvent;
    let nasty = "answer \u{1b}]52;c;cHduZWQ=\u{7}\u{1b}[2J\u{1b}]0;title\u{7} end";
    let events = [
        json!({"event": "run_started", "scenario": "x", "mode": "live", "speed": "1x"}),
        json!({"event": "attempt_started", "hop": 0, "attempt": 1, "provider": "openai",
               "model": "m", "request": {}}),
        json!({"event": "delta", "hop": 0, "attempt": 1, "text": nasty}),
        json!({"event": "tool_call", "hop": 0, "attempt": 1, "name": "f", "args": nasty,
               "result": nasty}),
        json!({"event": "attempt_failed", "hop": 0, "attempt": 1,
               "error": {"kind": "validation", "message": nasty}, "partial_output": nasty,
               "will_retry": false, "why": nasty}),
        json!({"event": "run_finished", "outcome": "ok", "content": nasty, "error": null,
               "caught": []}),
    ];
    let mut p = Printer::new(Vec::new(), Style::new(false));
    for (i, mut v) in events.into_iter().enumerate() {
        v["t_ms"] = json!(i);
        let ev: TimedEvent = serde_json::from_value(v).unwrap();
        p.on_event(&ev).unwrap();
    }
    let out = String::from_utf8_lossy(&p.into_inner()).into_owned();
    let bad: Vec<char> = out
        .chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect();
    assert!(
        bad.is_empty(),
        "control characters printed: {bad:?}\n{out:?}"
    );
}
