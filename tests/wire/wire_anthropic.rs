//! The Anthropic wire client against recorded replies on a loopback server: plain, streamed
//! and tool-use replies, every classified error (including the `overloaded_error` event inside
//! an HTTP 200 stream), broken streams and run-clock timeouts.

use crate::support::wire_server::{Act, KEY, Outcome, acts, call, cut, fixture_body, secs};
use retrylab::ErrorKind;
use retrylab::event::{ToolCallRecord, Usage};
use retrylab::provider::{ChatRequest, Client, Message, Role, Timeouts, ToolDef};
use retrylab::scenario::types::ProviderKind;

fn request(stream: bool) -> ChatRequest {
    ChatRequest {
        model: "claude-3-5-sonnet-latest".into(),
        system: Some("Answer in one sentence.".into()),
        messages: vec![Message::user("Who wrote The Name of the Wind?")],
        temperature: None,
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
        ProviderKind::Anthropic,
        acts(name),
        &request(stream),
        Timeouts::default(),
    )
    .await
}

#[tokio::test]
async fn plain_reply() {
    let o = play("anthropic_plain", false).await;
    let r = o.ok();
    assert_eq!(r.content, "Patrick Rothfuss wrote *The Name of the Wind*.");
    assert_eq!(r.tool_calls, vec![]);
    assert_eq!(
        r.usage,
        Usage {
            input_tokens: 21,
            output_tokens: 16
        }
    );
    assert_eq!(r.finish_reason.as_deref(), Some("end_turn"));
    assert_eq!(r.exchange.url, format!("{}/v1/messages", o.base));
    assert_eq!(r.exchange.status, Some(200));
    assert_eq!(r.exchange.body, fixture_body("anthropic_plain"));
    assert!(
        r.exchange
            .headers
            .contains(&("request-id".into(), "req_011CUbqvJ8XvC4GvX9rqsMtP".into()))
    );
    let head = o.request.to_lowercase();
    assert!(head.starts_with("post /v1/messages http/1.1\r\n"), "{head}");
    assert!(head.contains(&format!("x-api-key: {}\r\n", KEY.to_lowercase())));
    assert!(head.contains("anthropic-version: 2023-06-01\r\n"));
    assert!(!head.contains("authorization:"));
    let sent = o.request_json();
    assert_eq!(sent, Client::body(ProviderKind::Anthropic, &request(false)));
    assert_eq!(sent["system"], "Answer in one sentence.");
    assert_eq!(sent["max_tokens"], 1024);
    assert_eq!(sent["tools"][0]["input_schema"]["required"][0], "title");
}

#[tokio::test]
async fn streamed_reply_with_ping() {
    let o = play("anthropic_stream", true).await;
    let r = o.ok();
    assert_eq!(
        o.deltas,
        [
            "Patrick",
            " Rothfuss",
            " wrote",
            " it",
            ".",
            " Élève \"Kvothe\"\n"
        ]
    );
    assert_eq!(r.content, "Patrick Rothfuss wrote it. Élève \"Kvothe\"\n");
    // Input from message_start, output from message_delta.
    assert_eq!(
        r.usage,
        Usage {
            input_tokens: 21,
            output_tokens: 15
        }
    );
    assert_eq!(r.finish_reason.as_deref(), Some("end_turn"));
    assert_eq!(r.exchange.body, fixture_body("anthropic_stream"));
    assert_eq!(o.request_json()["stream"], true);
}

#[tokio::test]
async fn streamed_tool_use_with_input_json_deltas() {
    let o = play("anthropic_stream_tool", true).await;
    let r = o.ok();
    assert_eq!(r.content, "I'll look that up.");
    assert_eq!(
        r.tool_calls,
        vec![ToolCallRecord {
            id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6".into(),
            name: "get_book_author".into(),
            args: "{\"title\": \"The Name of the Wind\"}".into(),
        }]
    );
    assert_eq!(
        r.usage,
        Usage {
            input_tokens: 472,
            output_tokens: 89
        }
    );
    assert_eq!(r.finish_reason.as_deref(), Some("tool_use"));
}

#[tokio::test]
async fn tool_turns_go_out_as_tool_use_and_tool_result_blocks() {
    let mut req = request(false);
    req.messages.push(Message {
        role: Role::Assistant,
        content: String::new(),
        tool_calls: vec![ToolCallRecord {
            id: "toolu_01".into(),
            name: "get_book_author".into(),
            args: "{\"title\": \"The Name of the Wind\"}".into(),
        }],
        tool_call_id: None,
    });
    req.messages.push(Message {
        role: Role::Tool,
        content: "Patrick Rothfuss".into(),
        tool_calls: vec![],
        tool_call_id: Some("toolu_01".into()),
    });
    let o = call(
        ProviderKind::Anthropic,
        acts("anthropic_plain"),
        &req,
        Timeouts::default(),
    )
    .await;
    o.ok();
    let sent = o.request_json();
    assert_eq!(
        sent["messages"][1],
        serde_json::json!({"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_01", "name": "get_book_author",
             "input": {"title": "The Name of the Wind"}}
        ]})
    );
    assert_eq!(
        sent["messages"][2],
        serde_json::json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01", "content": "Patrick Rothfuss"}
        ]})
    );
}

async fn http_error(
    name: &str,
    kind: ErrorKind,
    status: u16,
    provider_type: Option<&str>,
) -> Outcome {
    let o = play(name, true).await;
    let e = o.err();
    assert_eq!(e.error.kind, kind, "{name}: {:?}", e.error);
    assert_eq!(e.error.status, Some(status), "{name}");
    assert_eq!(e.error.provider_type.as_deref(), provider_type, "{name}");
    let x = e.exchange.as_ref().expect("an exchange");
    assert_eq!(x.status, Some(status));
    assert_eq!(x.body, fixture_body(name));
    assert_eq!(e.partial_output, "");
    o
}

#[tokio::test]
async fn rate_limit_with_retry_after_seconds() {
    let o = http_error(
        "anthropic_429_retry_after",
        ErrorKind::RateLimit,
        429,
        Some("rate_limit_error"),
    )
    .await;
    let e = &o.err().error;
    assert_eq!(e.retry_after_ms, Some(5000));
    assert_eq!(
        e.request_id.as_deref(),
        Some("req_011CUbr17iM2pQrS8uVwXyZa")
    );
    assert!(
        e.message
            .starts_with("This request would exceed the rate limit"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn rate_limit_with_retry_after_http_date() {
    let o = http_error(
        "anthropic_429_retry_after_date",
        ErrorKind::RateLimit,
        429,
        Some("rate_limit_error"),
    )
    .await;
    let ms = o.err().error.retry_after_ms.expect("a retry-after");
    assert!((28_000..=30_000).contains(&ms), "{ms}");
}

#[tokio::test]
async fn overloaded_529() {
    let o = http_error(
        "anthropic_529",
        ErrorKind::Overloaded,
        529,
        Some("overloaded_error"),
    )
    .await;
    let e = &o.err().error;
    assert_eq!(e.message, "Overloaded");
    assert_eq!(
        e.request_id.as_deref(),
        Some("req_011CUbr39kO4rStU0wXyZaBc")
    );
    assert_eq!(e.retry_after_ms, None);
}

#[tokio::test]
async fn api_error_500() {
    let o = http_error(
        "anthropic_500",
        ErrorKind::ServerError,
        500,
        Some("api_error"),
    )
    .await;
    assert_eq!(o.err().error.message, "Internal server error");
}

#[tokio::test]
async fn bad_key_is_auth() {
    let o = http_error(
        "anthropic_401",
        ErrorKind::Auth,
        401,
        Some("authentication_error"),
    )
    .await;
    assert_eq!(o.err().error.message, "invalid x-api-key");
}

#[tokio::test]
async fn prompt_too_long_is_context_length() {
    let o = http_error(
        "anthropic_400_context",
        ErrorKind::ContextLength,
        400,
        Some("invalid_request_error"),
    )
    .await;
    assert_eq!(
        o.err().error.message,
        "prompt is too long: 208310 tokens > 200000 maximum"
    );
}

#[tokio::test]
async fn html_bad_gateway() {
    let o = http_error("anthropic_502_html", ErrorKind::ServerError, 502, None).await;
    assert_eq!(
        o.err().error.message,
        "HTTP 502 with an HTML body (a proxy error page?): api.anthropic.com | 502: Bad gateway"
    );
}

#[tokio::test]
async fn empty_error_body() {
    let o = http_error("anthropic_500_empty", ErrorKind::ServerError, 500, None).await;
    assert_eq!(o.err().error.message, "HTTP 500 with an empty body");
    assert_eq!(
        o.err().error.request_id.as_deref(),
        Some("req_011CUbr7DoS8vWxY4aBcDeFg")
    );
}

#[tokio::test]
async fn overloaded_error_event_inside_a_200_stream() {
    let o = play("anthropic_stream_overloaded", true).await;
    let e = o.err();
    assert_eq!(e.error.kind, ErrorKind::Overloaded);
    assert_eq!(e.error.status, Some(200));
    assert_eq!(e.error.provider_type.as_deref(), Some("overloaded_error"));
    assert_eq!(e.error.message, "Overloaded");
    assert_eq!(
        e.error.request_id.as_deref(),
        Some("req_011CUbqz5gK0nOpQ6sTuVwXy")
    );
    assert_eq!(e.partial_output, "Patrick Rothfuss wrote");
    assert_eq!(
        e.exchange.as_ref().unwrap().body,
        fixture_body("anthropic_stream_overloaded")
    );
}

#[tokio::test]
async fn stream_ending_without_message_stop_is_interrupted() {
    let o = play("anthropic_stream_no_stop", true).await;
    let e = o.err();
    assert_eq!(e.error.kind, ErrorKind::StreamInterrupted);
    assert_eq!(
        e.error.message,
        "the stream ended without `event: message_stop` after 6 events"
    );
    assert_eq!(e.partial_output, "Patrick Rothfuss wrote");
}

#[tokio::test]
async fn malformed_frame_is_interrupted() {
    let o = play("anthropic_stream_malformed", true).await;
    let e = o.err();
    assert_eq!(e.error.kind, ErrorKind::StreamInterrupted);
    assert!(
        e.error
            .message
            .starts_with("malformed stream frame (EOF while parsing a string"),
        "{}",
        e.error.message
    );
    assert_eq!(e.partial_output, "Patrick Rothfuss wrote");
}

#[tokio::test]
async fn connection_closed_mid_stream() {
    // message_start, content_block_start, ping, "Patrick"; then the socket closes.
    let script = cut("anthropic_stream", 4, vec![Act::WaitDelta, Act::Close]);
    let o = call(
        ProviderKind::Anthropic,
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
            .starts_with("the connection broke mid-stream after 4 events: "),
        "{}",
        e.error.message
    );
    assert_eq!(e.partial_output, "Patrick");
}

#[tokio::test]
async fn first_byte_timeout_on_the_run_clock() {
    let t = Timeouts {
        first_byte: Some(secs(30)),
        total: Some(secs(60)),
        ..Timeouts::default()
    };
    let o = call(
        ProviderKind::Anthropic,
        vec![Act::Stall],
        &request(false),
        t,
    )
    .await;
    let e = o.err();
    assert_eq!(e.error.kind, ErrorKind::Timeout);
    assert_eq!(e.error.timeout.as_deref(), Some("first_byte"));
    assert_eq!(e.error.message, "first_byte timeout (30s): no response");
    assert_eq!(e.exchange.as_ref().unwrap().status, None);
    assert_eq!(o.now, secs(30));
}

#[tokio::test]
async fn idle_timeout_after_a_ping_and_text() {
    let t = Timeouts {
        first_byte: Some(secs(10)),
        idle: Some(secs(3)),
        ..Timeouts::default()
    };
    // Two seconds pass between events (under the idle limit), then the stream stalls.
    let mut script = cut(
        "anthropic_stream",
        4,
        vec![Act::WaitDelta, Act::Sleep(secs(2))],
    );
    script.extend(acts("anthropic_stream").into_iter().skip(5).take(1));
    script.extend([Act::WaitDelta, Act::Stall]);
    let o = call(ProviderKind::Anthropic, script, &request(true), t).await;
    let e = o.err();
    assert_eq!(e.error.timeout.as_deref(), Some("idle"));
    assert_eq!(
        e.error.message,
        "idle timeout (3s): no stream event for 3s (after 5 events)"
    );
    assert_eq!(e.partial_output, "Patrick Rothfuss");
    assert_eq!(o.deltas, ["Patrick", " Rothfuss"]);
    assert_eq!(o.now, secs(5));
}
