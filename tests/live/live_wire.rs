//! Live mode against recorded traffic of both APIs on a loopback server: the engine runs on
//! the real clock (waits skipped at `Speed::Max`), and each case of the hardened wire
//! (issue 4, item 5) is asserted as the exact event sequence.

use crate::support::live::{KEY, assert_transcript, config, run_live};
use crate::support::live_server::{Step, cut, play, serve};
use retrylab::event::{AttemptSucceeded, Event};

const OPENAI: &str = r#"
name = "live openai"
[prompt]
template = "Who wrote {{ book }}?"
vars = { book = "The Name of the Wind" }
[call]
provider = "openai"
model = "gpt-4o-mini"
base_url = "{base}/v1"
stream = true
idle_timeout = "200ms"
[retry]
stop = { after_attempt = 4 }
wait = { fixed = "10ms" }
retry_on = ["rate_limit", "overloaded", "server_error", "timeout", "stream_interrupted"]
retry_after_max = "5s"
"#;

const ANTHROPIC: &str = r#"
name = "live anthropic"
[prompt]
template = "Who wrote {{ book }}?"
vars = { book = "The Name of the Wind" }
[call]
provider = "anthropic"
model = "claude-3-5-sonnet-latest"
base_url = "{base}"
stream = true
[retry]
stop = { after_attempt = 4 }
wait = { fixed = "10ms" }
retry_on = ["rate_limit", "overloaded", "server_error", "stream_interrupted"]
"#;

fn header<'a>(x: &'a retrylab::event::HttpExchange, name: &str) -> Option<&'a str> {
    x.headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn retry_after_in_all_three_forms_then_a_stream_with_usage_last() {
    let server = serve(vec![
        play("openai_429_retry_after_ms"),
        play("openai_429_retry_after_float"),
        play("openai_429_retry_after_date"),
        play("openai_stream"),
    ])
    .await;
    let live = run_live(OPENAI, &server, config()).await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 openai/gpt-4o-mini",
            "attempt_failed 0/1 rate_limit(429) retry=true $0",
            // retry-after-ms: 1500 wins over retry-after: 2.
            "wait_started 0/1 1500ms retry_after",
            "wait_finished 0/1",
            "attempt_started 0/2 openai/gpt-4o-mini",
            "attempt_failed 0/2 rate_limit(429) retry=true $0",
            // retry-after: 0.75 (float seconds).
            "wait_started 0/2 750ms retry_after",
            "wait_finished 0/2",
            "attempt_started 0/3 openai/gpt-4o-mini",
            "attempt_failed 0/3 rate_limit(429) retry=true $0",
            // An HTTP date 30 s ahead, capped by retry_after_max = 5s.
            "wait_started 0/3 5000ms retry_after",
            "wait_finished 0/3",
            "attempt_started 0/4 openai/gpt-4o-mini",
            "delta 0/4 x9 \"Patrick Rothfuss wrote it. Élève \\\"Kvothe\\\"\\n\"",
            // Usage from the last chunk: 24 × 0.15 + 9 × 0.60 dollars per million.
            "attempt_succeeded 0/4 \"Patrick Rothfuss wrote it. Élève \\\"Kvothe\\\"\\n\" 24+9 $0.000009",
            "run_finished Ok $0.000009",
        ],
    );
    let errors = live.errors();
    assert_eq!(errors[0].retry_after_ms, Some(1500));
    assert_eq!(errors[1].retry_after_ms, Some(750));
    let date = errors[2].retry_after_ms.unwrap();
    assert!((29_000..=30_000).contains(&date), "{date}");
    // A request id per attempt, from each reply's own header.
    let ids: Vec<Option<&str>> = errors.iter().map(|e| e.request_id.as_deref()).collect();
    assert_eq!(
        ids,
        [
            Some("req_6a2d9b4f7e8c4d0e3f1a5b6c7d8e9f0a"),
            Some("req_2b8e5c1f9a0d4e7b3c6f8a1d2e4b7c9f"),
            Some("req_8c4f1d6b9a0e4f2a5b3c7d8e9f0a1b2c"),
        ]
    );
    let x = live.exchanges();
    assert_eq!(x.len(), 4);
    assert_eq!(
        header(&x[3], "x-request-id"),
        Some("req_1b7e4c9a2f3d4e5f8a6b0c1d2e3f4a5b")
    );
    // x-should-retry is kept for the Inspector.
    assert_eq!(header(&x[1], "x-should-retry"), Some("true"));
    // Every request carried the key, and asked for usage in the last chunk.
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4);
    for r in &reqs {
        assert_eq!(r.line, "POST /v1/chat/completions HTTP/1.1");
        assert_eq!(r.key().as_deref(), Some(KEY));
        assert_eq!(r.json()["stream_options"]["include_usage"], true);
    }
}

#[tokio::test]
async fn anthropic_overloaded_rate_limited_and_an_error_event_inside_a_200_stream() {
    let server = serve(vec![
        play("anthropic_529"),
        play("anthropic_429_retry_after"),
        play("anthropic_stream_overloaded"),
        play("anthropic_stream"),
    ])
    .await;
    let live = run_live(ANTHROPIC, &server, config()).await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 anthropic/claude-3-5-sonnet-latest",
            "attempt_failed 0/1 overloaded(529) retry=true $0",
            "wait_started 0/1 10ms backoff",
            "wait_finished 0/1",
            "attempt_started 0/2 anthropic/claude-3-5-sonnet-latest",
            "attempt_failed 0/2 rate_limit(429) retry=true $0",
            "wait_started 0/2 5000ms retry_after",
            "wait_finished 0/2",
            "attempt_started 0/3 anthropic/claude-3-5-sonnet-latest",
            "delta 0/3 x3 \"Patrick Rothfuss wrote\"",
            // The overload arrives as `event: error` inside HTTP 200; the partial answer is
            // kept and priced (estimated: 8 tokens in, 6 out, at 3 and 15 dollars per million).
            "attempt_failed 0/3 overloaded(200) retry=true partial=\"Patrick Rothfuss wrote\" ~$0.000114",
            "wait_started 0/3 10ms backoff",
            "wait_finished 0/3",
            "attempt_started 0/4 anthropic/claude-3-5-sonnet-latest",
            "delta 0/4 x6 \"Patrick Rothfuss wrote it. Élève \\\"Kvothe\\\"\\n\"",
            "attempt_succeeded 0/4 \"Patrick Rothfuss wrote it. Élève \\\"Kvothe\\\"\\n\" 21+15 $0.000288",
            "run_finished Ok ~$0.000402",
        ],
    );
    let errors = live.errors();
    assert_eq!(errors[0].provider_type.as_deref(), Some("overloaded_error"));
    assert_eq!(
        errors[0].request_id.as_deref(),
        Some("req_011CUbr39kO4rStU0wXyZaBc")
    );
    assert_eq!(
        errors[1].request_id.as_deref(),
        Some("req_011CUbr17iM2pQrS8uVwXyZa")
    );
    assert_eq!(
        errors[2].request_id.as_deref(),
        Some("req_011CUbqz5gK0nOpQ6sTuVwXy")
    );
    assert_eq!(errors[2].message, "Overloaded");
    let x = live.exchanges();
    assert_eq!(header(&x[0], "x-should-retry"), Some("true"));
    for r in server.requests() {
        assert_eq!(r.line, "POST /v1/messages HTTP/1.1");
        assert_eq!(r.header("x-api-key"), Some(KEY));
        assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
        assert_eq!(r.header("authorization"), None);
    }
}

#[tokio::test]
async fn html_and_empty_error_bodies_on_both_apis_with_a_fallback_hop() {
    let scenario = format!(
        "{OPENAI}{}",
        r#"stop = { after_attempt = 2 }
[fallback]
catch = ["retry_error"]
[[fallback.hops]]
provider = "anthropic"
model = "claude-3-5-haiku-latest"
base_url = "{base}/"
headers = { "anthropic-beta" = "tools-2024-04-04" }
catch = ["retry_error"]
retry = { stop = { after_attempt = 3 }, wait = { fixed = "10ms" }, retry_on = ["server_error"] }
"#
    )
    // The hop table above restates `stop`; drop the primary's.
    .replace("stop = { after_attempt = 4 }\n", "");
    let server = serve(vec![
        play("openai_502_html"),
        play("openai_500_empty"),
        play("anthropic_502_html"),
        play("anthropic_500_empty"),
        play("anthropic_plain"),
    ])
    .await;
    let live = run_live(&scenario, &server, config()).await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 openai/gpt-4o-mini",
            "attempt_failed 0/1 server_error(502) retry=true $0",
            "wait_started 0/1 10ms backoff",
            "wait_finished 0/1",
            "attempt_started 0/2 openai/gpt-4o-mini",
            "attempt_failed 0/2 server_error(500) retry=false $0",
            "retry_exhausted 0 after 2 server_error",
            "fallback_hop 1 openai/gpt-4o-mini -> anthropic/claude-3-5-haiku-latest caught retry_error",
            "attempt_started 1/1 anthropic/claude-3-5-haiku-latest",
            "attempt_failed 1/1 server_error(502) retry=true $0",
            "wait_started 1/1 10ms backoff",
            "wait_finished 1/1",
            "attempt_started 1/2 anthropic/claude-3-5-haiku-latest",
            "attempt_failed 1/2 server_error(500) retry=true $0",
            "wait_started 1/2 10ms backoff",
            "wait_finished 1/2",
            "attempt_started 1/3 anthropic/claude-3-5-haiku-latest",
            // A plain JSON reply to a stream request is read whole: no deltas.
            // 21 × 0.80 + 16 × 4.00 dollars per million.
            "attempt_succeeded 1/3 \"Patrick Rothfuss wrote *The Name of the Wind*.\" 21+16 $0.0000808",
            "run_finished Ok $0.0000808",
        ],
    );
    let e = live.errors();
    assert!(
        e[0].shown_message()
            .starts_with("HTTP 502 with an HTML body (a proxy error page?): 502 Bad Gateway — to fix: an HTML page answered instead of the API"),
        "{}",
        e[0].shown_message()
    );
    assert_eq!(e[1].message, "HTTP 500 with an empty body");
    assert!(e[2].message.contains("HTML body"), "{}", e[2].message);
    assert_eq!(e[3].message, "HTTP 500 with an empty body");
    // Each hop went to its own base URL with its own headers.
    let reqs = server.requests();
    let lines: Vec<&str> = reqs.iter().map(|r| r.line.as_str()).collect();
    assert_eq!(
        lines,
        [
            "POST /v1/chat/completions HTTP/1.1",
            "POST /v1/chat/completions HTTP/1.1",
            "POST /v1/messages HTTP/1.1",
            "POST /v1/messages HTTP/1.1",
            "POST /v1/messages HTTP/1.1",
        ]
    );
    assert_eq!(reqs[0].header("anthropic-beta"), None);
    assert_eq!(reqs[2].header("anthropic-beta"), Some("tools-2024-04-04"));
}

#[tokio::test]
async fn gzip_bodies_are_decoded_for_errors_and_replies() {
    let scenario = ANTHROPIC.replace("stream = true", "stream = false");
    let server = serve(vec![play("anthropic_529_gzip"), play("anthropic_plain")]).await;
    let live = run_live(&scenario, &server, config()).await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 anthropic/claude-3-5-sonnet-latest",
            "attempt_failed 0/1 overloaded(529) retry=true $0",
            "wait_started 0/1 10ms backoff",
            "wait_finished 0/1",
            "attempt_started 0/2 anthropic/claude-3-5-sonnet-latest",
            "attempt_succeeded 0/2 \"Patrick Rothfuss wrote *The Name of the Wind*.\" 21+16 $0.000303",
            "run_finished Ok $0.000303",
        ],
    );
    let e = &live.errors()[0];
    assert_eq!(e.message, "Overloaded");
    assert_eq!(e.provider_type.as_deref(), Some("overloaded_error"));
    assert_eq!(
        live.exchanges()[0].body,
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011CUbrB2c3D4e5F6g7H8i9J"}"#
    );

    let scenario = OPENAI.replace("stream = true", "stream = false");
    let server = serve(vec![play("openai_plain_gzip")]).await;
    let live = run_live(&scenario, &server, config()).await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 openai/gpt-4o-mini",
            "attempt_succeeded 0/1 \"Patrick Rothfuss wrote *The Name of the Wind* (2007), the first book of The Kingkiller Chronicle.\" 24+27 $0.0000198",
            "run_finished Ok $0.0000198",
        ],
    );
    let accept = server.requests()[0]
        .header("accept-encoding")
        .unwrap_or("")
        .to_owned();
    assert!(accept.contains("gzip"), "{accept}");
}

#[tokio::test]
async fn a_stalled_stream_times_out_on_idle_and_keeps_its_partial_output() {
    let server = serve(vec![
        cut("openai_stream", 3, vec![Step::Stall]),
        play("openai_stream"),
    ])
    .await;
    let live = run_live(OPENAI, &server, config()).await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 openai/gpt-4o-mini",
            "delta 0/1 x2 \"Patrick Roth\"",
            // The reply began (HTTP 200): priced from the request (31 characters, 8 tokens)
            // and the partial output (3 tokens) at 0.15 and 0.60 dollars per million.
            "attempt_failed 0/1 timeout(200) timeout=idle retry=true partial=\"Patrick Roth\" ~$0.000003",
            "wait_started 0/1 10ms backoff",
            "wait_finished 0/1",
            "attempt_started 0/2 openai/gpt-4o-mini",
            "delta 0/2 x9 \"Patrick Rothfuss wrote it. Élève \\\"Kvothe\\\"\\n\"",
            "attempt_succeeded 0/2 \"Patrick Rothfuss wrote it. Élève \\\"Kvothe\\\"\\n\" 24+9 $0.000009",
            "run_finished Ok ~$0.000012",
        ],
    );
    let e = &live.errors()[0];
    assert_eq!(
        e.shown_message(),
        "idle timeout (200ms): no stream event for 200ms (after 3 events) — to fix: raise idle_timeout in [call] if the server is just slow"
    );
    // The idle deadline is real time live: the run took at least that long.
    assert!(live.wall.as_millis() >= 200, "{:?}", live.wall);
}

#[tokio::test]
async fn a_reset_mid_stream_and_an_error_event_inside_a_200_stream() {
    let server = serve(vec![
        cut(
            "openai_stream",
            3,
            vec![Step::WaitDelta, Step::WaitDelta, Step::Reset],
        ),
        play("openai_stream_error"),
        play("openai_stream"),
    ])
    .await;
    let live = run_live(OPENAI, &server, config()).await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 openai/gpt-4o-mini",
            "delta 0/1 x2 \"Patrick Roth\"",
            "attempt_failed 0/1 stream_interrupted retry=true partial=\"Patrick Roth\" ~$0.000003",
            "wait_started 0/1 10ms backoff",
            "wait_finished 0/1",
            "attempt_started 0/2 openai/gpt-4o-mini",
            // The last `s` could start the key (`sk-…`): it is held until the stream ends,
            // so a key split across deltas is still caught.
            "delta 0/2 x4 \"Patrick Rothfuss\"",
            "attempt_failed 0/2 server_error(200) retry=true partial=\"Patrick Rothfuss\" ~$0.0000036",
            "wait_started 0/2 10ms backoff",
            "wait_finished 0/2",
            "attempt_started 0/3 openai/gpt-4o-mini",
            "delta 0/3 x9 \"Patrick Rothfuss wrote it. Élève \\\"Kvothe\\\"\\n\"",
            "attempt_succeeded 0/3 \"Patrick Rothfuss wrote it. Élève \\\"Kvothe\\\"\\n\" 24+9 $0.000009",
            "run_finished Ok ~$0.0000156",
        ],
    );
    let e = live.errors();
    assert!(
        e[0].shown_message()
            .starts_with("the connection broke mid-stream after 3 events: "),
        "{}",
        e[0].shown_message()
    );
    assert!(
        e[0].shown_message()
            .contains(" — to fix: the connection closed mid-stream")
    );
    assert_eq!(
        e[1].message,
        "The server had an error while processing your request. Sorry about that!"
    );
    assert_eq!(e[1].provider_type.as_deref(), Some("server_error"));
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
async fn tool_arguments_split_across_many_deltas_are_reassembled() {
    let server = serve(vec![play("openai_stream_tool")]).await;
    let live = run_live(&format!("{OPENAI}{TOOLS}"), &server, config()).await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 openai/gpt-4o-mini",
            "tool_call 0/1 get_book_author {\"title\":\"The Name of the Wind\"} -> Patrick Rothfuss",
            "attempt_succeeded 0/1 \"Patrick Rothfuss\" 24+18 $0.0000144",
            "run_finished Ok $0.0000144",
        ],
    );
    let Event::AttemptSucceeded(AttemptSucceeded { tool_calls, .. }) = &live.events[3].event else {
        panic!("{:?}", live.events[3]);
    };
    assert_eq!(tool_calls[0].id, "call_DdmO9pD3xa9XTPNJ32zg2hcA");
    // The tool went out in the request, as OpenAI wants it.
    assert_eq!(
        server.requests()[0].json()["tools"][0]["function"]["name"],
        "get_book_author"
    );

    let server = serve(vec![play("anthropic_stream_tool")]).await;
    let live = run_live(&format!("{ANTHROPIC}{TOOLS}"), &server, config()).await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 anthropic/claude-3-5-sonnet-latest",
            "delta 0/1 x1 \"I'll look that up.\"",
            "tool_call 0/1 get_book_author {\"title\": \"The Name of the Wind\"} -> Patrick Rothfuss",
            "attempt_succeeded 0/1 \"Patrick Rothfuss\" 472+89 $0.002751",
            "run_finished Ok $0.002751",
        ],
    );
}

#[tokio::test]
async fn compatible_servers_get_no_key_and_no_stream_options() {
    let scenario = OPENAI.replace("provider = \"openai\"", "provider = \"openai-compatible\"");
    let server = serve(vec![play("openai_stream")]).await;
    let live = run_live(&scenario, &server, config()).await;
    assert_eq!(live.summary.outcome, retrylab::event::Outcome::Ok);
    let r = &server.requests()[0];
    assert_eq!(
        r.header("authorization"),
        None,
        "no api_key_env: no key sent"
    );
    assert_eq!(r.json().get("stream_options"), None);
    // The stream still reports usage; the price table knows the model.
    assert!(
        live.transcript()
            .contains(&"run_finished Ok $0.000009".to_string())
    );
    assert_eq!(live.errors().len(), 0);
}
