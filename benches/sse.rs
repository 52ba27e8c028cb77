//! SSE decoding throughput (issue 2: at least 200 MB/s; issue 13: 300 MB/s for each new
//! format): a 20 MB OpenAI chat completion stream, read in 16 KiB socket-sized pieces,
//! decoded into events alone, and all the way to the reassembled reply (JSON frames parsed,
//! text and tool-call deltas accumulated); a 20 MB Gemini stream likewise.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use retrylab::event::{Delta, Event};
use retrylab::provider::redact::{Secrets, redact_event};
use retrylab::provider::sse::{SseDecoder, Step};
use retrylab::provider::wire::StreamParser;
use retrylab::provider::wire::gemini::StreamState as GeminiStream;
use retrylab::provider::wire::openai::StreamState;
use std::hint::black_box;

const TARGET: usize = 20_000_000;
const READ: usize = 16 * 1024;

/// A realistic stream: OpenAI `chat.completion.chunk` frames of short text deltas (some with
/// escapes and non-ASCII), a tool call every so often, usage and `[DONE]` at the end.
fn openai_stream() -> Vec<u8> {
    let words = [
        "The",
        " quick",
        " brown",
        " fox",
        " jumps",
        " over",
        " the",
        " lazy",
        " dog",
        ".",
        "\\n",
        " \\\"Quoted\\\"",
        " caf\u{e9}",
        " \u{1F600}",
        " retry",
        " with",
        " back-off",
    ];
    let head = r#"data: {"id":"chatcmpl-AqHk9bW3mTqVvXo2ZfJcR7yD4sNeK","object":"chat.completion.chunk","created":1736850074,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_72ed7ab54c","choices":[{"index":0,"delta":"#;
    let tail = r#","logprobs":null,"finish_reason":null}],"usage":null}"#;
    let mut s = String::with_capacity(TARGET + 4096);
    let mut i = 0usize;
    while s.len() < TARGET {
        s.push_str(head);
        if i % 500 == 499 {
            s.push_str(&format!(
                r#"{{"tool_calls":[{{"index":{},"function":{{"arguments":"{{\"k\": {i}}}"}}}}]}}"#,
                i % 3
            ));
        } else {
            s.push_str(&format!(r#"{{"content":"{}"}}"#, words[i % words.len()]));
        }
        s.push_str(tail);
        s.push_str("\n\n");
        i += 1;
    }
    s.push_str("data: {\"id\":\"chatcmpl-x\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":99,\"total_tokens\":108}}\n\n");
    s.push_str("data: [DONE]\n\n");
    s.into_bytes()
}

/// A Gemini `streamGenerateContent?alt=sse` stream: each CRLF-framed frame a whole
/// GenerateContentResponse (one short text part, the running usage, the model version and
/// response id), a function call every so often, and the last frame with `finishReason`.
fn gemini_stream() -> Vec<u8> {
    let words = [
        "The",
        " quick",
        " brown",
        " fox",
        " jumps",
        " over",
        " the",
        " lazy",
        " dog",
        ".",
        "\\n",
        " \\\"Quoted\\\"",
        " caf\u{e9}",
        " \u{1F600}",
        " retry",
        " with",
        " back-off",
    ];
    let mut s = String::with_capacity(TARGET + 4096);
    let mut i = 0usize;
    while s.len() < TARGET {
        let part = if i % 500 == 499 {
            format!(
                r#"{{"functionCall": {{"name": "f{}","args": {{"k": {i}}}}}}}"#,
                i % 3
            )
        } else {
            format!(r#"{{"text": "{}"}}"#, words[i % words.len()])
        };
        s.push_str(&format!(
            r#"data: {{"candidates": [{{"content": {{"parts": [{part}],"role": "model"}},"index": 0}}],"usageMetadata": {{"promptTokenCount": 9,"candidatesTokenCount": {},"totalTokenCount": {}}},"modelVersion": "gemini-2.5-flash","responseId": "Zz2GaKmJL6Gq1MkP4qW_gAk"}}"#,
            i + 1,
            i + 10
        ));
        s.push_str("\r\n\r\n");
        i += 1;
    }
    s.push_str("data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,\"candidatesTokenCount\": 99}}\r\n\r\n");
    s.into_bytes()
}

/// Decodes `data` as it comes off a socket, into `parser`'s reply.
fn decode_reply(
    data: &[u8],
    mut parser: Box<dyn StreamParser>,
) -> retrylab::provider::ChatResponse {
    let mut d = SseDecoder::new();
    let mut out = Vec::with_capacity(64);
    let mut pieces = 0usize;
    let mut on_delta = |t: &str| pieces += t.len();
    let mut done = false;
    for piece in data.chunks(READ) {
        d.push(piece, &mut out);
        for ev in out.drain(..) {
            if parser.event(&ev, &[], &mut on_delta).expect("valid frames") == Step::Done {
                done = true;
            }
        }
    }
    assert!(done);
    black_box(pieces);
    parser.finish()
}

fn bench(c: &mut Criterion) {
    let data = openai_stream();
    let mut g = c.benchmark_group("sse");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(20);

    g.bench_function("decode_events_20MB", |b| {
        b.iter(|| {
            let mut d = SseDecoder::new();
            let mut out = Vec::with_capacity(64);
            let mut bytes = 0usize;
            for piece in data.chunks(READ) {
                d.push(piece, &mut out);
                bytes += out.iter().map(|e| e.data.len()).sum::<usize>();
                out.clear();
            }
            black_box(bytes)
        })
    });

    g.bench_function("decode_openai_reply_20MB", |b| {
        b.iter(|| {
            let mut d = SseDecoder::new();
            let mut s = StreamState::new();
            let mut out = Vec::with_capacity(64);
            let mut pieces = 0usize;
            let mut on_delta = |t: &str| pieces += t.len();
            let mut done = false;
            for piece in data.chunks(READ) {
                d.push(piece, &mut out);
                for ev in out.drain(..) {
                    if s.event(&ev, &[], &mut on_delta).expect("valid frames") == Step::Done {
                        done = true;
                    }
                }
            }
            assert!(done);
            black_box(s.finish())
        })
    });
    g.finish();

    let gemini = gemini_stream();
    let mut g = c.benchmark_group("sse");
    g.throughput(Throughput::Bytes(gemini.len() as u64));
    g.sample_size(20);
    g.bench_function("decode_gemini_reply_20MB", |b| {
        b.iter(|| black_box(decode_reply(&gemini, Box::new(GeminiStream::new()))))
    });
    g.finish();

    // The per-event cost of live mode's redaction (provider::redact), which runs on every
    // streamed delta: one key, token-sized deltas.
    let secrets = Secrets::new(["sk-proj-SENTINEL-0123456789abcdefghijklmnopqrstuvwxyz"]);
    let words = [" The", " quick", " brown", " fox", "\\n", " caf\u{e9}", "."];
    let mut g = c.benchmark_group("redact");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("delta_events_x1000", |b| {
        b.iter(|| {
            for i in 0..1000 {
                let mut ev = Event::Delta(Delta {
                    hop: 0,
                    attempt: 1,
                    text: words[i % words.len()].to_string(),
                });
                redact_event(&mut ev, &secrets);
                black_box(&ev);
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
