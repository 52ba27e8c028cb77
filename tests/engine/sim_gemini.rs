//! The gemini provider end to end: the engine's client against the simulator over loopback,
//! plain and streamed, with function calls, and each fault in Gemini's shape (a 429 whose
//! wait is in RetryInfo and in no header, 503 UNAVAILABLE, errors and cuts inside a stream).

use crate::support::run::{run_sim, scenario};
use crate::support::sim::start;
use retrylab::error::ErrorKind;
use retrylab::event::{Event, TimedEvent, WaitSource};
use serde_json::json;

/// A gemini scenario: `stream`, a `[retry]` of 2 attempts on any error, and `sim` as its
/// `[sim]` table.
fn gemini(stream: bool, extra: &str, sim: &str) -> String {
    format!(
        r#"name = "g"
[prompt]
template = "Who wrote The Name of the Wind?"
[call]
provider = "gemini"
model = "gemini-2.5-flash"
stream = {stream}
{extra}
[retry]
stop = {{ after_attempt = 2 }}
wait = {{ fixed = 1 }}
[sim]
tokens_per_second = 40
first_token_ms = 200
{sim}
"#
    )
}

fn failures(events: &[TimedEvent]) -> Vec<(ErrorKind, String)> {
    events
        .iter()
        .filter_map(|e| match &e.event {
            Event::AttemptFailed(f) => Some((f.error.kind, f.error.message.clone())),
            _ => None,
        })
        .collect()
}

fn success(events: &[TimedEvent]) -> &retrylab::event::AttemptSucceeded {
    events
        .iter()
        .find_map(|e| match &e.event {
            Event::AttemptSucceeded(s) => Some(s),
            _ => None,
        })
        .expect("an attempt succeeded")
}

#[tokio::test]
async fn plain_and_streamed_answers_with_usage() {
    for stream in [false, true] {
        let s = scenario(&gemini(
            stream,
            "",
            "reply = \"Patrick Rothfuss wrote it.\"",
        ));
        let (_, events) = run_sim(s).await;
        let ok = success(&events);
        assert_eq!(ok.content, "Patrick Rothfuss wrote it.", "stream={stream}");
        // 4 words out; the prompt's words and the role in.
        assert_eq!(ok.usage.output_tokens, 4);
        assert_eq!(ok.usage.input_tokens, 8);
        let deltas = events
            .iter()
            .filter(|e| matches!(e.event, Event::Delta(_)))
            .count();
        assert_eq!(deltas, if stream { 4 } else { 0 });
        let started = events
            .iter()
            .find_map(|e| match &e.event {
                Event::AttemptStarted(a) => Some(a),
                _ => None,
            })
            .unwrap();
        let method = if stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        assert!(
            started
                .url
                .ends_with(&format!("/v1beta/models/gemini-2.5-flash:{method}")),
            "{}",
            started.url
        );
        assert_eq!(
            started.request["contents"],
            json!([{"role": "user", "parts": [{"text": "Who wrote The Name of the Wind?"}]}])
        );
        assert!(
            started
                .headers
                .iter()
                .any(|(k, v)| k == "x-goog-api-key" && v == "[redacted]"),
            "{:?}",
            started.headers
        );
    }
}

#[tokio::test]
async fn function_calls_plain_and_streamed_are_validated() {
    let tools = r#"
[[tools]]
name = "get_book_author"
parameters = { type = "object", properties = { title = { type = "string" } }, required = ["title"], additionalProperties = false }
cases = [{ when = { title = "The Name of the Wind" }, result = "Patrick Rothfuss" }]
"#;
    let calls = r#"tool_calls = [
  { name = "get_book_author", args = '{"titel": "The Name of the Wind"}' },
  { name = "get_book_author", args = '{"title": "The Name of the Wind"}' },
]"#;
    for stream in [false, true] {
        let (_, events) =
            run_sim(scenario(&gemini(stream, "", &format!("{calls}\n{tools}")))).await;
        let failed = failures(&events);
        assert_eq!(failed.len(), 1, "stream={stream}: {failed:?}");
        assert_eq!(failed[0].0, ErrorKind::ToolValidation);
        let ok = success(&events);
        assert_eq!(ok.tool_calls[0].name, "get_book_author");
        assert_eq!(ok.tool_calls[0].args, r#"{"title":"The Name of the Wind"}"#);
        assert_eq!(ok.content, "Patrick Rothfuss");
    }
}

#[tokio::test]
async fn stream_faults_are_classified() {
    let cases = [
        (
            "overloaded_in_stream",
            ErrorKind::Overloaded,
            "The model is overloaded",
        ),
        (
            "cut_stream",
            ErrorKind::StreamInterrupted,
            "without `finishReason`",
        ),
        (
            "malformed_stream",
            ErrorKind::StreamInterrupted,
            "ends mid-JSON",
        ),
        (
            "content_filter",
            ErrorKind::ContentFilter,
            "finishReason: SAFETY",
        ),
    ];
    for (fault, kind, says) in cases {
        let sim = format!(
            "reply = \"one two three four\"\nfaults = [{{ fault = \"{fault}\", after_tokens = 2, times = 1 }}]"
        );
        let (summary, events) = run_sim(scenario(&gemini(true, "", &sim))).await;
        let failed = failures(&events);
        assert_eq!(failed.len(), 1, "{fault}: {failed:?}");
        assert_eq!(failed[0].0, kind, "{fault}");
        assert!(failed[0].1.contains(says), "{fault}: {}", failed[0].1);
        assert!(summary.error.is_none(), "{fault}: the retry succeeds");
    }
}

#[tokio::test]
async fn http_faults_in_gemini_shape() {
    let cases = [
        ("overloaded", ErrorKind::Overloaded, 503),
        ("server_error", ErrorKind::ServerError, 500),
        ("auth", ErrorKind::Auth, 400),
        ("context_length", ErrorKind::ContextLength, 400),
        ("quota_exhausted", ErrorKind::QuotaExhausted, 429),
    ];
    for (fault, kind, status) in cases {
        let sim = format!("reply = \"ok\"\nfaults = [{{ fault = \"{fault}\", times = 1 }}]");
        let (_, events) = run_sim(scenario(&gemini(false, "", &sim))).await;
        let failed: Vec<_> = events
            .iter()
            .filter_map(|e| match &e.event {
                Event::AttemptFailed(f) => Some(&f.error),
                _ => None,
            })
            .collect();
        assert_eq!(failed[0].kind, kind, "{fault}");
        assert_eq!(failed[0].status, Some(status), "{fault}");
    }
}

#[tokio::test]
async fn retry_delay_shorter_than_the_backoff_leaves_the_backoff() {
    let sim =
        "reply = \"ok\"\nfaults = [{ fault = \"rate_limit\", retry_after = \"250ms\", times = 1 }]";
    let (_, events) = run_sim(scenario(&gemini(false, "", sim))).await;
    let w = events
        .iter()
        .find_map(|e| match &e.event {
            Event::WaitStarted(w) => Some(w),
            _ => None,
        })
        .unwrap();
    assert_eq!((w.delay_ms, w.retry_after_ms), (1000, Some(250)));
    assert_eq!(w.source, WaitSource::Backoff);
    let why = events
        .iter()
        .find_map(|e| match &e.event {
            Event::AttemptFailed(f) => Some(f.why.clone()),
            _ => None,
        })
        .unwrap();
    assert!(why.contains("RetryInfo retryDelay 250 ms"), "{why}");
}

#[tokio::test]
async fn the_429_carries_its_wait_in_the_body_only() {
    let sim = start(crate::support::sim::spec(
        "reply = \"fine\"\nfaults = [{ fault = \"rate_limit\", retry_after = \"20s\", times = 1 }]",
    ))
    .await;
    let url = format!(
        "{}/v1beta/models/gemini-2.5-flash:generateContent",
        sim.server
            .base_url(retrylab::scenario::types::ProviderKind::Gemini)
    );
    let body = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]});
    let resp = sim
        .http
        .post(&url)
        .header("x-goog-api-key", "k")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert!(resp.headers().get("retry-after").is_none());
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json; charset=UTF-8")
    );
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(v["error"]["code"], 429);
    assert_eq!(
        v["error"]["details"][2],
        json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "20s"})
    );
    // The second request is answered, streamed, CRLF-framed.
    let resp = sim
        .http
        .post(url.replace(":generateContent", ":streamGenerateContent?alt=sse"))
        .header("x-goog-api-key", "k")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.starts_with("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"fine\"}],\"role\":\"model\"},\"index\":0}]"), "{text}");
    assert!(text.ends_with("\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":2,\"candidatesTokenCount\":1,\"totalTokenCount\":3},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"sim000000000000000000002\"}\r\n\r\n"), "{text}");
}
