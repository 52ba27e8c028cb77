//! The gemini provider live, against recorded Gemini traffic on a loopback server (real
//! clock, waits skipped): plain, streamed, an error inside the stream, a cut stream, a
//! malformed frame, function calls, a 429 whose wait is in RetryInfo only; and bad input —
//! a stream that ends mid-JSON, a model that does not exist, an error body cut short, a line
//! without end — each classified with a clear message.

use crate::support::live::{KEY, Live, assert_transcript, run_live};
use crate::support::live_server::{Reply, Step, cut, play, serve, stream_head};
use retrylab::config::Config;
use retrylab::error::ErrorKind;
use retrylab::event::Event;

const GEMINI: &str = r#"
name = "live gemini"
[prompt]
template = "Who wrote {{ book }}?"
vars = { book = "The Name of the Wind" }
[call]
provider = "gemini"
model = "gemini-2.5-flash"
base_url = "{base}"
stream = true
idle_timeout = "200ms"
[retry]
stop = { after_attempt = 3 }
wait = { fixed = "10ms" }
retry_on = ["rate_limit", "overloaded", "server_error", "stream_interrupted"]
"#;

/// The key in GEMINI_API_KEY, and nothing of the machine.
fn config() -> Config {
    Config::isolated().with_env([("GEMINI_API_KEY", KEY)])
}

fn plain(src: &str) -> String {
    src.replace("stream = true", "stream = false")
}

fn only_error(live: &Live) -> retrylab::CallError {
    let errors = live.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors[0].clone()
}

#[tokio::test]
async fn plain_then_streamed_with_usage_and_the_key_in_its_header() {
    for (src, reply) in [
        (plain(GEMINI), "gemini_plain"),
        (GEMINI.to_owned(), "gemini_stream"),
    ] {
        let server = serve(vec![play(reply)]).await;
        let live = run_live(&src, &server, config()).await;
        assert_eq!(live.summary.error, None, "{reply}");
        let ok = live
            .events
            .iter()
            .find_map(|e| match &e.event {
                Event::AttemptSucceeded(s) => Some(s),
                _ => None,
            })
            .unwrap();
        assert_eq!(ok.content, "Patrick Rothfuss wrote it. Élève \"Kvothe\"\n");
        // The plain reply bills its 25 thinking tokens as output: 11 + 25.
        let out = if reply == "gemini_plain" { 36 } else { 11 };
        assert_eq!(
            (ok.usage.input_tokens, ok.usage.output_tokens),
            (9, out),
            "{reply}"
        );
        let req = &server.requests()[0];
        let path = if reply == "gemini_plain" {
            "POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1"
        } else {
            "POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse HTTP/1.1"
        };
        assert_eq!(req.line, path);
        assert_eq!(req.header("x-goog-api-key"), Some(KEY));
        assert_eq!(req.header("authorization"), None);
        assert_eq!(
            req.json()["contents"][0]["parts"][0]["text"],
            "Who wrote The Name of the Wind?"
        );
    }
}

#[tokio::test]
async fn google_api_key_wins_as_in_the_sdk() {
    let server = serve(vec![play("gemini_plain")]).await;
    let cfg = Config::isolated().with_env([
        ("GEMINI_API_KEY", "gemini-0123456789"),
        ("GOOGLE_API_KEY", KEY),
    ]);
    let live = run_live(&plain(GEMINI), &server, cfg).await;
    assert_eq!(live.summary.error, None);
    assert_eq!(server.requests()[0].header("x-goog-api-key"), Some(KEY));
}

#[tokio::test]
async fn retry_info_is_honoured_then_an_error_in_the_stream_then_a_cut_one() {
    let server = serve(vec![
        play("gemini_429_retry_info"),
        play("gemini_stream_error"),
        cut("gemini_stream", 2, vec![Step::Close]),
        play("gemini_stream"),
    ])
    .await;
    let live = run_live(
        &GEMINI.replace("after_attempt = 3", "after_attempt = 4"),
        &server,
        config(),
    )
    .await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 gemini/gemini-2.5-flash",
            "attempt_failed 0/1 rate_limit(429) retry=true $0",
            // RetryInfo's 1 s beats the fixed 10 ms; no Retry-After header was sent.
            "wait_started 0/1 1000ms retry_info",
            "wait_finished 0/1",
            "attempt_started 0/2 gemini/gemini-2.5-flash",
            "delta 0/2 x2 \"Patrick Rothfuss wrote it.\"",
            // `data: {"error": {"code": 503, "status": "UNAVAILABLE"}}` inside the 200.
            "attempt_failed 0/2 overloaded(200) retry=true partial=\"Patrick Rothfuss wrote it.\" ~$0.0000199",
            "wait_started 0/2 10ms backoff",
            "wait_finished 0/2",
            "attempt_started 0/3 gemini/gemini-2.5-flash",
            "delta 0/3 x2 \"Patrick Rothfuss wrote it.\"",
            "attempt_failed 0/3 stream_interrupted retry=true partial=\"Patrick Rothfuss wrote it.\" ~$0.0000199",
            "wait_started 0/3 10ms backoff",
            "wait_finished 0/3",
            "attempt_started 0/4 gemini/gemini-2.5-flash",
            "delta 0/4 x3 \"Patrick Rothfuss wrote it. Élève \\\"Kvothe\\\"\\n\"",
            // 9 in at $0.30/M + 11 out at $2.50/M.
            "attempt_succeeded 0/4 \"Patrick Rothfuss wrote it. Élève \\\"Kvothe\\\"\\n\" 9+11 $0.0000302",
            "run_finished Ok ~$0.00007",
        ],
    );
    let errors = live.errors();
    assert_eq!(
        errors[0].retry_after_from,
        Some(retrylab::error::RetryAfterFrom::RetryInfo)
    );
    assert_eq!(
        errors[0].provider_type.as_deref(),
        Some("RESOURCE_EXHAUSTED")
    );
    assert_eq!(
        errors[1].message,
        "The model is overloaded. Please try again later."
    );
}

#[tokio::test]
async fn a_malformed_frame_then_function_calls() {
    let tools = r#"
[[tools]]
name = "get_book_author"
parameters = { type = "object", properties = { title = { type = "string" } }, required = ["title"] }
cases = [{ when = { title = "The Name of the Wind" }, result = "Patrick Rothfuss" }]
default = "Unknown"
"#;
    let server = serve(vec![
        play("gemini_stream_malformed"),
        play("gemini_stream_tool"),
    ])
    .await;
    let live = run_live(&format!("{GEMINI}{tools}"), &server, config()).await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 gemini/gemini-2.5-flash",
            "delta 0/1 x2 \"Patrick Rothfuss wrote it.\"",
            "attempt_failed 0/1 stream_interrupted(200) retry=true partial=\"Patrick Rothfuss wrote it.\" ~$0.0000271",
            "wait_started 0/1 10ms backoff",
            "wait_finished 0/1",
            "attempt_started 0/2 gemini/gemini-2.5-flash",
            // Two calls, one per frame, each whole: arguments are objects on Gemini's wire.
            "tool_call 0/2 get_book_author {\"title\":\"The Name of the Wind\"} -> Patrick Rothfuss",
            "tool_call 0/2 get_book_author {\"title\":\"Mistborn: The Final Empire\"} -> Unknown",
            // 41 x 0.30 + 38 x 2.50 = 107.3 micro-dollars.
            "attempt_succeeded 0/2 \"Patrick Rothfuss\\nUnknown\" 41+38 $0.0001073",
            "run_finished Ok ~$0.0001344",
        ],
    );
    assert!(
        live.errors()[0]
            .message
            .starts_with("a stream frame ends mid-JSON"),
        "{}",
        live.errors()[0].message
    );
}

// ---- bad input ----

#[tokio::test]
async fn a_stream_that_ends_mid_json_is_interrupted_with_a_clear_message() {
    let head = stream_head("");
    let frame = br#"data: {"candidates": [{"content": {"parts": [{"text": "Patr"#.to_vec();
    let mut chunk = format!("{:x}\r\n", frame.len()).into_bytes();
    chunk.extend_from_slice(&frame);
    chunk.extend_from_slice(b"\r\n0\r\n\r\n");
    let server = serve(vec![Reply::Steps(vec![
        Step::Write(head),
        Step::Write(chunk),
    ])])
    .await;
    let live = run_live(
        &GEMINI.replace("after_attempt = 3", "after_attempt = 1"),
        &server,
        config(),
    )
    .await;
    let e = only_error(&live);
    assert_eq!(e.kind, ErrorKind::StreamInterrupted, "{e:?}");
    assert_eq!(
        e.message,
        "a stream frame ends mid-JSON, cut off after 53 bytes: `…{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Patr`"
    );
    assert_eq!(live.errors()[0].status, Some(200));
}

#[tokio::test]
async fn a_model_that_does_not_exist_is_a_bad_request_naming_it() {
    let server = serve(vec![play("gemini_404_model")]).await;
    let live = run_live(
        &plain(GEMINI).replace("gemini-2.5-flash", "gemini-9-flash"),
        &server,
        config(),
    )
    .await;
    let e = only_error(&live);
    assert_eq!((e.kind, e.status), (ErrorKind::BadRequest, Some(404)));
    assert_eq!(e.provider_type.as_deref(), Some("NOT_FOUND"));
    assert_eq!(
        e.message,
        "models/gemini-9-flash is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."
    );
    assert_eq!(
        e.hint.as_deref(),
        Some(
            "check model = \"gemini-9-flash\": the server has no such model (or this key cannot use it)"
        )
    );
}

#[tokio::test]
async fn an_error_body_cut_short_is_classified_by_its_status() {
    let server = serve(vec![play("gemini_500_malformed"), play("gemini_plain")]).await;
    let live = run_live(&plain(GEMINI), &server, config()).await;
    let e = only_error(&live);
    assert_eq!((e.kind, e.status), (ErrorKind::ServerError, Some(500)));
    // The body is quoted (one line, short), as any unreadable error body is.
    assert_eq!(
        e.message,
        "HTTP 500: { \"error\": { \"code\": 500, \"message\": \"An internal err"
    );
    assert_eq!(live.summary.error, None);
}

#[tokio::test]
async fn a_line_without_end_stops_at_16_mib() {
    let server = serve(vec![Reply::Steps(vec![
        Step::Write(stream_head("")),
        Step::Write(b"data: ".to_vec()),
        Step::Repeat(vec![b'x'; 256 * 1024]),
    ])])
    .await;
    let live = run_live(
        &GEMINI.replace("after_attempt = 3", "after_attempt = 1"),
        &server,
        config(),
    )
    .await;
    let e = only_error(&live);
    assert_eq!(e.kind, ErrorKind::StreamInterrupted, "{e:?}");
    assert_eq!(
        e.message,
        "a stream line grew past 16 MiB without ending (after 0 events): stopped reading"
    );
}
