//! Live mode against recorded traffic of the OpenAI Responses API (`openai-responses`) on a
//! loopback server: a `response.failed` and an `error` event inside HTTP 200 streams, a cut
//! stream, a malformed frame, tool arguments split across deltas, a plain reply after a 429,
//! each asserted as the exact event sequence.

use crate::support::live::{KEY, assert_transcript, config, run_live};
use crate::support::live_server::{Reply, Step, fixture, play, serve, steps_of};
use retrylab::event::{AttemptSucceeded, Event};

const RESPONSES: &str = r#"
name = "live responses"
[prompt]
template = "Who wrote {{ book }}?"
system = "Be brief."
vars = { book = "The Name of the Wind" }
[call]
provider = "openai-responses"
model = "gpt-4o-mini"
base_url = "{base}/v1"
stream = true
idle_timeout = "200ms"
[retry]
stop = { after_attempt = 5 }
wait = { fixed = "10ms" }
retry_on = ["rate_limit", "overloaded", "server_error", "timeout", "stream_interrupted"]
retry_after_max = "5s"
"#;

/// A recorded stream's head and first `events` events, then a clean end of the body (the
/// last chunk): a stream that never sends `response.completed`.
fn ended_after(name: &str, events: usize) -> Reply {
    let mut steps = steps_of(&fixture(name));
    let end = steps.pop().expect("a recorded stream has its last chunk");
    steps.truncate(1 + events);
    steps.push(end);
    Reply::Steps(steps)
}

#[tokio::test]
async fn failed_error_event_cut_and_malformed_streams_then_a_whole_one() {
    let server = serve(vec![
        play("responses_stream_failed"),
        play("responses_stream_error_event"),
        ended_after("responses_stream", 7),
        play("responses_stream_malformed"),
        play("responses_stream"),
    ])
    .await;
    let live = run_live(RESPONSES, &server, config()).await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 openai-responses/gpt-4o-mini",
            // Three deltas; the trailing `s` could start a key (`sk-…`), so it is held back
            // and sent as a delta of its own.
            "delta 0/1 x4 \"Patrick Rothfuss\"",
            // `response.failed` inside HTTP 200, classified by its code (server_error). The
            // partial answer is priced: about 11 tokens in, 4 out at 0.15 and 0.60 per million.
            "attempt_failed 0/1 server_error(200) retry=true partial=\"Patrick Rothfuss\" ~$0.00000405",
            "wait_started 0/1 10ms backoff",
            "wait_finished 0/1",
            "attempt_started 0/2 openai-responses/gpt-4o-mini",
            "delta 0/2 x2 \"Patrick Roth\"",
            // An `error` event: rate_limit_exceeded.
            "attempt_failed 0/2 rate_limit(200) retry=true partial=\"Patrick Roth\" ~$0.00000345",
            "wait_started 0/2 10ms backoff",
            "wait_finished 0/2",
            "attempt_started 0/3 openai-responses/gpt-4o-mini",
            "delta 0/3 x4 \"Patrick Rothfuss\"",
            // A clean end of the body without `response.completed`.
            "attempt_failed 0/3 stream_interrupted(200) retry=true partial=\"Patrick Rothfuss\" ~$0.00000405",
            "wait_started 0/3 10ms backoff",
            "wait_finished 0/3",
            "attempt_started 0/4 openai-responses/gpt-4o-mini",
            "delta 0/4 x2 \"Patrick Roth\"",
            "attempt_failed 0/4 stream_interrupted(200) retry=true partial=\"Patrick Roth\" ~$0.00000345",
            "wait_started 0/4 10ms backoff",
            "wait_finished 0/4",
            "attempt_started 0/5 openai-responses/gpt-4o-mini",
            "delta 0/5 x6 \"Patrick Rothfuss wrote it. Élève \\\"Kvothe\\\"\\n\"",
            // Usage from `response.completed`: 24 × 0.15 + 10 × 0.60 dollars per million.
            "attempt_succeeded 0/5 \"Patrick Rothfuss wrote it. Élève \\\"Kvothe\\\"\\n\" 24+10 $0.0000096",
            "run_finished Ok ~$0.0000246",
        ],
    );
    let e = live.errors();
    assert!(
        e[0].message
            .starts_with("An error occurred while processing your request."),
        "{}",
        e[0].message
    );
    assert_eq!(e[0].provider_type.as_deref(), Some("server_error"));
    assert_eq!(
        e[0].request_id.as_deref(),
        Some("req_7d2e0f3b8c4e5f6a9b0c1d2e3f4a5b6c")
    );
    assert_eq!(e[1].provider_type.as_deref(), Some("rate_limit_exceeded"));
    assert!(
        e[1].message
            .starts_with("Rate limit reached for gpt-4o-mini")
    );
    assert_eq!(
        e[2].message,
        "the stream ended without `response.completed` after 7 events"
    );
    assert!(
        e[3].message.starts_with("malformed stream frame ("),
        "{}",
        e[3].message
    );
    // Every request went to /v1/responses with the key, in the Responses shape.
    let reqs = server.requests();
    assert_eq!(reqs.len(), 5);
    for r in &reqs {
        assert_eq!(r.line, "POST /v1/responses HTTP/1.1");
        assert_eq!(r.key().as_deref(), Some(KEY));
        let b = r.json();
        assert_eq!(b["instructions"], "Be brief.");
        assert_eq!(
            b["input"],
            serde_json::json!([{"role": "user", "content": "Who wrote The Name of the Wind?"}])
        );
        assert_eq!(b["stream"], true);
        assert!(b.get("messages").is_none() && b.get("stream_options").is_none());
    }
}

#[tokio::test]
async fn a_plain_reply_after_a_rate_limit() {
    let scenario = RESPONSES.replace("stream = true", "stream = false");
    let server = serve(vec![
        // The Responses API's HTTP errors are OpenAI's own bodies.
        play("openai_429_retry_after_seconds"),
        play("responses_plain"),
    ])
    .await;
    let live = run_live(&scenario, &server, config()).await;
    let t = live.transcript();
    assert_eq!(t[2], "attempt_failed 0/1 rate_limit(429) retry=true $0");
    assert_eq!(
        &t[5..],
        [
            "attempt_started 0/2 openai-responses/gpt-4o-mini",
            // 24 × 0.15 + 12 × 0.60 dollars per million.
            "attempt_succeeded 0/2 \"Patrick Rothfuss wrote *The Name of the Wind*.\" 24+12 $0.0000108",
            "run_finished Ok $0.0000108",
        ]
    );
    assert_eq!(
        live.errors()[0].provider_type.as_deref(),
        Some("rate_limit_exceeded")
    );
    assert!(server.requests()[1].json().get("stream").is_none());
}

const TOOLS: &str = r#"
[[tools]]
name = "get_book_author"
description = "Look up who wrote a book"
parameters = { type = "object", properties = { title = { type = "string" } }, required = ["title"] }
cases = [{ when = { title = "The Name of the Wind" }, result = "Patrick Rothfuss" }]
default = "Unknown"
"#;

#[tokio::test]
async fn tool_arguments_split_across_deltas_are_reassembled() {
    let server = serve(vec![play("responses_stream_tool")]).await;
    let live = run_live(&format!("{RESPONSES}{TOOLS}"), &server, config()).await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 openai-responses/gpt-4o-mini",
            "tool_call 0/1 get_book_author {\"title\":\"The Name of the Wind\"} -> Patrick Rothfuss",
            // 61 × 0.15 + 18 × 0.60 dollars per million.
            "attempt_succeeded 0/1 \"Patrick Rothfuss\" 61+18 $0.00001995",
            "run_finished Ok $0.00001995",
        ],
    );
    let Event::AttemptSucceeded(AttemptSucceeded { tool_calls, .. }) = &live.events[3].event else {
        panic!("{:?}", live.events[3]);
    };
    // The call id (not the item id) names the call, as a function_call_output answers it.
    assert_eq!(tool_calls[0].id, "call_Qx7Yb3Rk9LmN2pVt5WzA8cDe");
    assert_eq!(
        server.requests()[0].json()["tools"][0],
        serde_json::json!({
            "type": "function",
            "name": "get_book_author",
            "description": "Look up who wrote a book",
            "parameters": {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]},
            "strict": false,
        })
    );
}

/// A 200 event stream read to the connection's close (no chunking): `first`, then `repeat`
/// for ever.
fn endless(first: &str, repeat: &str) -> Reply {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\nx-request-id: req_endless\r\nconnection: close\r\n\r\n";
    Reply::Steps(vec![
        Step::Write(format!("{head}{first}").into_bytes()),
        Step::Repeat(repeat.as_bytes().to_vec()),
    ])
}

const CREATED: &str = "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"status\":\"in_progress\",\"output\":[]}}\n\n";

fn only_error(live: &crate::support::live::Live) -> retrylab::CallError {
    let errors = live.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors[0].clone()
}

#[tokio::test]
async fn a_line_without_end_stops_at_16_mib_as_stream_interrupted() {
    let first = format!(
        "{CREATED}event: response.output_text.delta\ndata: {{\"type\":\"response.output_text.delta\",\"delta\":\""
    );
    let server = serve(vec![endless(&first, &"x".repeat(256 * 1024))]).await;
    // No event comes while the line grows: the idle timeout must not fire first.
    let scenario = RESPONSES
        .replace(
            "stop = { after_attempt = 5 }",
            "stop = { after_attempt = 1 }",
        )
        .replace("idle_timeout = \"200ms\"", "idle_timeout = \"30s\"");
    let live = run_live(&scenario, &server, config()).await;
    let e = only_error(&live);
    assert_eq!(e.kind, retrylab::ErrorKind::StreamInterrupted, "{e:?}");
    assert_eq!(
        e.message,
        "a stream line grew past 16 MiB without ending (after 1 event): stopped reading"
    );
}

#[tokio::test]
async fn endless_tool_argument_deltas_stop_at_max_answer_bytes() {
    let delta = "event: response.function_call_arguments.delta\ndata: {\"type\":\"response.function_call_arguments.delta\",\"output_index\":0,\"delta\":\"ab\"}\n\n";
    let server = serve(vec![endless(CREATED, &delta.repeat(64))]).await;
    let scenario = format!("{RESPONSES}{TOOLS}")
        .replace(
            "stop = { after_attempt = 5 }",
            "stop = { after_attempt = 1 }",
        )
        .replace("stream = true", "stream = true\nmax_answer_bytes = 65536");
    let live = run_live(&scenario, &server, config()).await;
    let e = only_error(&live);
    assert_eq!(
        (e.kind, e.status),
        (retrylab::ErrorKind::ServerError, Some(200))
    );
    // 2 bytes a delta: past 65536 at the 32769th delta, the 32770th event.
    assert_eq!(
        e.message,
        "the streamed answer passed 64 KiB (max_answer_bytes) after 32770 events: stopped reading"
    );
}
