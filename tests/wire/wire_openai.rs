//! The OpenAI wire client against recorded replies on a loopback server: plain, streamed and
//! tool-call replies, every classified error, broken streams and run-clock timeouts.

use crate::support::wire_server::{Act, KEY, Outcome, acts, call, cut, fixture_body, secs};
use retrylab::ErrorKind;
use retrylab::clock::{Clock, Speed};
use retrylab::event::{ToolCallRecord, Usage};
use retrylab::provider::{ChatRequest, Client, Message, Timeouts, ToolDef};
use retrylab::scenario::types::ProviderKind;
use std::sync::Arc;

fn request(stream: bool) -> ChatRequest {
    ChatRequest {
        model: "gpt-4o-mini".into(),
        system: Some("Answer in one sentence.".into()),
        messages: vec![Message::user("Who wrote The Name of the Wind?")],
        temperature: Some(0.2),
        max_tokens: None,
        stream,
        tools: vec![ToolDef {
            name: "get_book_author".into(),
            description: "Look up who wrote a book".into(),
            parameters: serde_json::json!({
                "type": "object",
                "properties": {"title": {"type": "string"}},
                "required": ["title"]
            }),
        }],
    }
}

async fn play(name: &str, stream: bool) -> Outcome {
    call(
        ProviderKind::Openai,
        acts(name),
        &request(stream),
        Timeouts::default(),
    )
    .await
}

fn usage(input_tokens: u64, output_tokens: u64) -> Usage {
    Usage {
        input_tokens,
        output_tokens,
    }
}

#[tokio::test]
async fn plain_reply() {
    let o = play("openai_plain", false).await;
    let r = o.ok();
    assert_eq!(r.content, "Patrick Rothfuss wrote *The Name of the Wind*.");
    assert_eq!(r.tool_calls, vec![]);
    assert_eq!(r.usage, usage(24, 13));
    assert_eq!(r.finish_reason.as_deref(), Some("stop"));
    assert_eq!(r.exchange.url, format!("{}/chat/completions", o.base));
    assert_eq!(r.exchange.status, Some(200));
    assert_eq!(r.exchange.body, fixture_body("openai_plain"));
    assert!(r.exchange.headers.contains(&(
        "x-request-id".into(),
        "req_8f2c6a0d5e4b4f3a9c1d7e6b5a4f3e2d".into()
    )));
    assert!(o.deltas.is_empty());
    // What went over the wire.
    let head = o.request.to_lowercase();
    assert!(
        head.starts_with("post /v1/chat/completions http/1.1\r\n"),
        "{head}"
    );
    assert!(head.contains(&format!("authorization: bearer {}\r\n", KEY.to_lowercase())));
    assert!(head.contains("content-type: application/json\r\n"));
    assert!(head.contains("x-trace: wire-test\r\n"));
    assert!(head.contains("accept-encoding: gzip"));
    assert_eq!(
        o.request_json(),
        Client::body(ProviderKind::Openai, &request(false))
    );
    assert_eq!(o.request_json()["messages"][0]["role"], "system");
}

#[tokio::test]
async fn streamed_reply() {
    let o = play("openai_stream", true).await;
    let r = o.ok();
    assert_eq!(
        o.deltas,
        [
            "Patrick",
            " Roth",
            "fuss",
            " wrote",
            " it",
            ".",
            " Élève",
            " \"Kvothe\"",
            "\n"
        ]
    );
    assert_eq!(r.content, "Patrick Rothfuss wrote it. Élève \"Kvothe\"\n");
    assert_eq!(r.usage, usage(24, 9));
    assert_eq!(r.finish_reason.as_deref(), Some("stop"));
    assert_eq!(r.exchange.body, fixture_body("openai_stream"));
    assert!(r.exchange.headers.contains(&(
        "content-type".into(),
        "text/event-stream; charset=utf-8".into()
    )));
    let sent = o.request_json();
    assert_eq!(sent["stream"], true);
    assert_eq!(
        sent["stream_options"],
        serde_json::json!({"include_usage": true})
    );
    assert!(
        o.request
            .to_lowercase()
            .contains("accept: text/event-stream\r\n")
    );
}

#[tokio::test]
async fn streamed_tool_call_with_arguments_split_across_deltas() {
    let o = play("openai_stream_tool", true).await;
    let r = o.ok();
    assert_eq!(
        r.tool_calls,
        vec![ToolCallRecord {
            id: "call_DdmO9pD3xa9XTPNJ32zg2hcA".into(),
            name: "get_book_author".into(),
            args: "{\"title\":\"The Name of the Wind\"}".into(),
        }]
    );
    assert_eq!(r.content, "");
    assert!(o.deltas.is_empty());
    assert_eq!(r.usage, usage(24, 18));
    assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
}

/// Plays an error fixture and checks the parts every classified HTTP error keeps.
async fn http_error(name: &str, stream: bool, kind: ErrorKind, status: u16) -> Outcome {
    let o = play(name, stream).await;
    let e = o.err();
    assert_eq!(e.error.kind, kind, "{name}: {:?}", e.error);
    assert_eq!(e.error.status, Some(status), "{name}");
    let x = e.exchange.as_ref().expect("an exchange");
    assert_eq!(x.status, Some(status));
    assert_eq!(x.body, fixture_body(name));
    assert_eq!(e.partial_output, "");
    o
}

#[tokio::test]
async fn rate_limit_with_retry_after_ms() {
    let o = http_error(
        "openai_429_retry_after_ms",
        false,
        ErrorKind::RateLimit,
        429,
    )
    .await;
    let e = &o.err().error;
    // `retry-after-ms` wins over `retry-after: 2`.
    assert_eq!(e.retry_after_ms, Some(1500));
    assert_eq!(e.provider_type.as_deref(), Some("rate_limit_exceeded"));
    assert_eq!(
        e.request_id.as_deref(),
        Some("req_6a2d9b4f7e8c4d0e3f1a5b6c7d8e9f0a")
    );
    assert!(
        e.message
            .starts_with("Rate limit reached for gpt-4o-mini in organization org-retrylab"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn rate_limit_with_retry_after_seconds() {
    let o = http_error(
        "openai_429_retry_after_seconds",
        true,
        ErrorKind::RateLimit,
        429,
    )
    .await;
    assert_eq!(o.err().error.retry_after_ms, Some(20_000));
}

#[tokio::test]
async fn rate_limit_with_retry_after_http_date() {
    let o = http_error(
        "openai_429_retry_after_date",
        false,
        ErrorKind::RateLimit,
        429,
    )
    .await;
    // The date is 30 s ahead, to the second.
    let ms = o.err().error.retry_after_ms.expect("a retry-after");
    assert!((28_000..=30_000).contains(&ms), "{ms}");
}

#[tokio::test]
async fn server_error() {
    let o = http_error("openai_500", false, ErrorKind::ServerError, 500).await;
    let e = &o.err().error;
    assert_eq!(
        e.message,
        "The server had an error while processing your request. Sorry about that!"
    );
    assert_eq!(e.provider_type.as_deref(), Some("server_error"));
    assert_eq!(e.retry_after_ms, None);
}

#[tokio::test]
async fn service_unavailable_is_overloaded() {
    let o = http_error("openai_503", false, ErrorKind::Overloaded, 503).await;
    assert_eq!(
        o.err().error.message,
        "The engine is currently overloaded, please try again later."
    );
}

#[tokio::test]
async fn bad_key_is_auth() {
    let o = http_error("openai_401", false, ErrorKind::Auth, 401).await;
    let e = &o.err().error;
    assert_eq!(e.provider_type.as_deref(), Some("invalid_api_key"));
    assert!(e.message.starts_with("Incorrect API key provided"));
}

#[tokio::test]
async fn context_length() {
    let o = http_error("openai_400_context", false, ErrorKind::ContextLength, 400).await;
    let e = &o.err().error;
    assert_eq!(e.provider_type.as_deref(), Some("context_length_exceeded"));
    assert!(
        e.message
            .starts_with("This model's maximum context length is 128000 tokens.")
    );
}

#[tokio::test]
async fn html_bad_gateway() {
    let o = http_error("openai_502_html", true, ErrorKind::ServerError, 502).await;
    let e = &o.err().error;
    assert_eq!(
        e.message,
        "HTTP 502 with an HTML body (a proxy error page?): 502 Bad Gateway"
    );
    assert_eq!(e.provider_type, None);
    assert_eq!(e.request_id, None);
}

#[tokio::test]
async fn empty_error_body() {
    let o = http_error("openai_500_empty", false, ErrorKind::ServerError, 500).await;
    assert_eq!(o.err().error.message, "HTTP 500 with an empty body");
}

#[tokio::test]
async fn garbage_in_a_plain_200_is_a_server_error() {
    let o = play("openai_200_garbage", false).await;
    let e = o.err();
    assert_eq!(e.error.kind, ErrorKind::ServerError);
    assert_eq!(e.error.status, Some(200));
    assert!(
        e.error
            .message
            .starts_with("HTTP 200 reply is not valid JSON (EOF while parsing"),
        "{}",
        e.error.message
    );
}

#[tokio::test]
async fn error_body_in_a_plain_200_is_classified_by_its_type() {
    let o = play("openai_200_error_body", false).await;
    let e = &o.err().error;
    assert_eq!(e.kind, ErrorKind::RateLimit);
    assert_eq!(e.status, Some(200));
    assert_eq!(e.message, "Rate limit reached for requests");
    assert_eq!(
        e.request_id.as_deref(),
        Some("req_5d1a8e3c6b7f4a9b2c0d4e5f6a7b8c9d")
    );
}

#[tokio::test]
async fn error_inside_a_200_stream() {
    let o = play("openai_stream_error", true).await;
    let e = o.err();
    assert_eq!(e.error.kind, ErrorKind::ServerError);
    assert_eq!(e.error.status, Some(200));
    assert_eq!(e.error.provider_type.as_deref(), Some("server_error"));
    assert_eq!(
        e.error.message,
        "The server had an error while processing your request. Sorry about that!"
    );
    assert_eq!(
        e.error.request_id.as_deref(),
        Some("req_4e0b7f2d5c6a4b8c1d9e3f4a5b6c7d8e")
    );
    assert_eq!(e.partial_output, "Patrick Rothfuss");
    assert_eq!(o.deltas, ["Patrick", " Roth", "fuss"]);
}

#[tokio::test]
async fn stream_ending_without_done_is_interrupted() {
    let o = play("openai_stream_no_done", true).await;
    let e = o.err();
    assert_eq!(e.error.kind, ErrorKind::StreamInterrupted);
    assert_eq!(
        e.error.message,
        "the stream ended without `data: [DONE]` after 5 events"
    );
    assert_eq!(e.partial_output, "Patrick Rothfuss wrote");
    let x = e.exchange.as_ref().unwrap();
    assert_eq!(x.body, fixture_body("openai_stream_no_done"));
}

#[tokio::test]
async fn malformed_frame_is_interrupted() {
    let o = play("openai_stream_malformed", true).await;
    let e = o.err();
    assert_eq!(e.error.kind, ErrorKind::StreamInterrupted);
    assert!(
        e.error
            .message
            .starts_with("malformed stream frame (EOF while parsing a string"),
        "{}",
        e.error.message
    );
    assert_eq!(e.partial_output, "Patrick Rothfuss");
}

#[tokio::test]
async fn connection_closed_mid_stream() {
    // Head, the role chunk and "Patrick"; then the socket closes inside the chunked body.
    let script = cut("openai_stream", 2, vec![Act::WaitDelta, Act::Close]);
    let o = call(
        ProviderKind::Openai,
        script,
        &request(true),
        Timeouts::default(),
    )
    .await;
    let e = o.err();
    assert_eq!(e.error.kind, ErrorKind::StreamInterrupted);
    assert!(
        e.error
            .message
            .starts_with("the connection broke mid-stream after 2 events: "),
        "{}",
        e.error.message
    );
    assert_eq!(e.partial_output, "Patrick");
}

#[tokio::test]
async fn connection_reset_mid_stream() {
    let script = cut(
        "openai_stream",
        3,
        vec![Act::WaitDelta, Act::WaitDelta, Act::Reset],
    );
    let o = call(
        ProviderKind::Openai,
        script,
        &request(true),
        Timeouts::default(),
    )
    .await;
    let e = o.err();
    assert_eq!(e.error.kind, ErrorKind::StreamInterrupted);
    assert!(
        e.error
            .message
            .starts_with("the connection broke mid-stream after"),
        "{}",
        e.error.message
    );
    assert!(
        e.partial_output.starts_with("Patrick"),
        "{}",
        e.partial_output
    );
}

#[tokio::test]
async fn connection_reset_before_a_reply() {
    let o = call(
        ProviderKind::Openai,
        vec![Act::Reset],
        &request(false),
        Timeouts::default(),
    )
    .await;
    let e = o.err();
    assert_eq!(e.error.kind, ErrorKind::Connection);
    let host = o.base.trim_start_matches("http://").trim_end_matches("/v1");
    assert!(
        e.error
            .message
            .starts_with(&format!("the connection to {host} failed before a reply: ")),
        "{}",
        e.error.message
    );
    assert_eq!(e.exchange.as_ref().unwrap().status, None);
}

#[tokio::test]
async fn connection_refused() {
    let base = format!("{}/v1", crate::support::wire_server::closed_port().await);
    let clock = Clock::virtual_time(Speed::Max);
    let o = crate::support::wire_server::send_to(
        ProviderKind::Openai,
        &base,
        &request(false),
        Timeouts::default(),
        &clock,
        Arc::new(tokio::sync::Semaphore::new(0)),
    )
    .await;
    let e = o.err();
    assert_eq!(e.error.kind, ErrorKind::Connection);
    let host = base.trim_start_matches("http://").trim_end_matches("/v1");
    assert!(
        e.error
            .message
            .starts_with(&format!("cannot connect to {host}: ")),
        "{}",
        e.error.message
    );
    assert!(
        e.error.message.to_lowercase().contains("refused"),
        "{}",
        e.error.message
    );
}

#[tokio::test]
async fn first_byte_timeout_on_the_run_clock() {
    let t = Timeouts {
        first_byte: Some(secs(10)),
        ..Timeouts::default()
    };
    let o = call(ProviderKind::Openai, vec![Act::Stall], &request(true), t).await;
    let e = o.err();
    assert_eq!(e.error.kind, ErrorKind::Timeout);
    assert_eq!(e.error.timeout.as_deref(), Some("first_byte"));
    assert_eq!(e.error.message, "first_byte timeout (10s): no response");
    assert_eq!(o.now, secs(10));
}

#[tokio::test]
async fn first_byte_covers_the_first_stream_event() {
    let t = Timeouts {
        first_byte: Some(secs(10)),
        idle: Some(secs(2)),
        ..Timeouts::default()
    };
    let o = call(
        ProviderKind::Openai,
        cut("openai_stream", 0, vec![Act::Stall]),
        &request(true),
        t,
    )
    .await;
    let e = o.err();
    assert_eq!(e.error.timeout.as_deref(), Some("first_byte"));
    assert!(
        e.error.message.starts_with("first_byte timeout (10s): "),
        "{}",
        e.error.message
    );
    assert_eq!(o.now, secs(10));
}

#[tokio::test]
async fn idle_timeout_keeps_the_partial_output() {
    let t = Timeouts {
        first_byte: Some(secs(10)),
        idle: Some(secs(5)),
        ..Timeouts::default()
    };
    let script = cut("openai_stream", 2, vec![Act::WaitDelta, Act::Stall]);
    let o = call(ProviderKind::Openai, script, &request(true), t).await;
    let e = o.err();
    assert_eq!(e.error.kind, ErrorKind::Timeout);
    assert_eq!(e.error.timeout.as_deref(), Some("idle"));
    assert_eq!(
        e.error.message,
        "idle timeout (5s): no stream event for 5s (after 2 events)"
    );
    assert_eq!(e.error.status, Some(200));
    assert_eq!(e.partial_output, "Patrick");
    assert_eq!(o.now, secs(5));
}

#[tokio::test]
async fn total_timeout_spans_the_whole_attempt() {
    let t = Timeouts {
        idle: Some(secs(25)),
        total: Some(secs(30)),
        ..Timeouts::default()
    };
    let mut script = cut(
        "openai_stream",
        2,
        vec![Act::WaitDelta, Act::Sleep(secs(20))],
    );
    // The third event (" Roth") comes 20 s in; then nothing until the total deadline.
    script.extend(acts("openai_stream").into_iter().skip(3).take(1));
    script.extend([Act::WaitDelta, Act::Stall]);
    let o = call(ProviderKind::Openai, script, &request(true), t).await;
    let e = o.err();
    assert_eq!(e.error.timeout.as_deref(), Some("total"));
    assert_eq!(
        e.error.message,
        "total timeout (30s): stopped after 3 events"
    );
    assert_eq!(e.partial_output, "Patrick Roth");
    assert_eq!(o.now, secs(30));
}

#[tokio::test]
async fn compatible_servers_get_no_stream_options() {
    let o = call(
        ProviderKind::OpenaiCompatible,
        acts("openai_stream"),
        &request(true),
        Timeouts::default(),
    )
    .await;
    assert_eq!(
        o.ok().content,
        "Patrick Rothfuss wrote it. Élève \"Kvothe\"\n"
    );
    assert!(o.request_json().get("stream_options").is_none());
}

#[tokio::test]
async fn html_in_a_200_stream_reply_is_a_server_error() {
    let o = play("openai_200_html_portal", true).await;
    let e = &o.err().error;
    assert_eq!(e.kind, ErrorKind::ServerError);
    assert_eq!(e.status, Some(200));
    assert_eq!(
        e.message,
        "HTTP 200 with an HTML body (a proxy error page?): Sign in to Hotel Wi-Fi"
    );
}
