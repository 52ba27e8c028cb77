//! SSE decoding throughput (issue 2: at least 200 MB/s; issue 13: 300 MB/s for each new
//! format): a 20 MB OpenAI chat completion stream, read in 16 KiB socket-sized pieces,
//! decoded into events alone, and all the way to the reassembled reply (JSON frames parsed,
//! text and tool-call deltas accumulated); likewise a 20 MB OpenAI Responses API stream, an Azure stream and a Gemini stream.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use retrylab::event::{Delta, Event};
use retrylab::provider::redact::{Secrets, redact_event};
use retrylab::provider::sse::{SseDecoder, Step};
use retrylab::provider::wire::openai::StreamState;
use retrylab::provider::wire::{StreamParser, format};
use retrylab::scenario::types::ProviderKind;
use std::hint::black_box;

const TARGET: usize = 20_000_000;
const READ: usize = 16 * 1024;

/// The words every stream is made of (JSON-escaped: a newline, quotes, non-ASCII).
const WORDS: [&str; 17] = [
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

/// A realistic stream: OpenAI `chat.completion.chunk` frames of short text deltas (some with
/// escapes and non-ASCII), a tool call every so often, usage and `[DONE]` at the end.
fn openai_stream() -> Vec<u8> {
    let words = WORDS;
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

/// The same words as an OpenAI Responses API stream: named `response.output_text.delta`
/// events (item id, indexes, sequence number, logprobs, obfuscation padding as the API
/// sends them), function-call argument deltas every so often, `response.completed` last.
fn responses_stream() -> Vec<u8> {
    let words = WORDS;
    let mut s = String::with_capacity(TARGET + 4096);
    s.push_str("event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_68c0a1f2b3d4e5f60718293a4b5c6d7e0e1f2a3b4c5d6e7f\",\"object\":\"response\",\"created_at\":1757495666,\"status\":\"in_progress\",\"error\":null,\"model\":\"gpt-4o-mini-2024-07-18\",\"output\":[],\"usage\":null}}\n\n");
    let mut i = 0usize;
    while s.len() < TARGET {
        if i % 500 == 499 {
            s.push_str(&format!(
                r#"event: response.function_call_arguments.delta
data: {{"type":"response.function_call_arguments.delta","sequence_number":{},"item_id":"fc_68c0a1f4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708","output_index":{},"delta":"{{\"k\": {i}}}","obfuscation":"x3Yq"}}

"#,
                i + 1,
                1 + i % 3
            ));
        } else {
            s.push_str(&format!(
                r#"event: response.output_text.delta
data: {{"type":"response.output_text.delta","sequence_number":{},"item_id":"msg_68c0a1f3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7","output_index":0,"content_index":0,"delta":"{}","logprobs":[],"obfuscation":"aB3dE9"}}

"#,
                i + 1,
                words[i % words.len()]
            ));
        }
        i += 1;
    }
    s.push_str(&format!("event: response.completed\ndata: {{\"type\":\"response.completed\",\"sequence_number\":{},\"response\":{{\"id\":\"resp_68c0a1f2b3d4e5f60718293a4b5c6d7e0e1f2a3b4c5d6e7f\",\"object\":\"response\",\"status\":\"completed\",\"error\":null,\"output\":[],\"usage\":{{\"input_tokens\":9,\"output_tokens\":99,\"total_tokens\":108}}}}}}\n\n", i + 1));
    s.into_bytes()
}

/// Azure OpenAI's stream of the same text: its `prompt_filter_results` frame first, then
/// chunks whose choice carries `content_filter_results` (skipped by the parser) before the
/// delta, as Azure writes them.
fn azure_stream() -> Vec<u8> {
    let openai = String::from_utf8(openai_stream()).unwrap_or_default();
    let mut s = String::with_capacity(TARGET * 2);
    s.push_str("data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\",\"prompt_filter_results\":[{\"prompt_index\":0,\"content_filter_results\":{\"hate\":{\"filtered\":false,\"severity\":\"safe\"},\"self_harm\":{\"filtered\":false,\"severity\":\"safe\"},\"sexual\":{\"filtered\":false,\"severity\":\"safe\"},\"violence\":{\"filtered\":false,\"severity\":\"safe\"}}}]}\n\n");
    let filter = r#""content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}},"#;
    for frame in openai.split_inclusive("\n\n") {
        if s.len() >= TARGET {
            break;
        }
        s.push_str(&frame.replacen(
            "\"choices\":[{\"index\":0,",
            &format!("\"choices\":[{{{filter}\"index\":0,"),
            1,
        ));
    }
    s.push_str("data: {\"choices\":[],\"created\":1,\"id\":\"c\",\"model\":\"gpt-4o\",\"object\":\"chat.completion.chunk\",\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":99,\"total_tokens\":108}}\n\n");
    s.push_str("data: [DONE]\n\n");
    s.into_bytes()
}

/// A Gemini `streamGenerateContent?alt=sse` stream: each CRLF-framed frame a whole
/// GenerateContentResponse (one short text part, the running usage, the model version and
/// response id), a function call every so often, and the last frame with `finishReason`.
fn gemini_stream() -> Vec<u8> {
    let words = WORDS;
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

/// Decodes `data` in socket-sized reads with `parser`, to its reply.
fn decode_with(data: &[u8], mut parser: Box<dyn StreamParser>) -> usize {
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
    parser.finish().content.len() + pieces
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

    // The formats added since, each through its registered parser, to the reply.
    for (name, data, kind) in [
        (
            "decode_responses_reply_20MB",
            responses_stream(),
            ProviderKind::OpenaiResponses,
        ),
        (
            "decode_azure_reply_20MB",
            azure_stream(),
            ProviderKind::AzureOpenai,
        ),
        (
            "decode_gemini_reply_20MB",
            gemini_stream(),
            ProviderKind::Gemini,
        ),
    ] {
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| black_box(decode_with(&data, format(kind).stream_parser())))
        });
    }
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
