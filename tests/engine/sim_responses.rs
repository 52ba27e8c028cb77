//! The simulator's OpenAI Responses API (`POST /v1/responses`) over real loopback HTTP: every
//! HTTP fault in OpenAI's own bodies, the stream faults as this API's events (`response.failed`
//! inside HTTP 200, a stream without `response.completed`, a frame cut mid-object,
//! `response.incomplete`), a `[sim].limits` bucket, and a chat completions body refused.

use crate::support::sim::{Got, Sim, spec, start};
use retrylab::scenario::types::ProviderKind::OpenaiResponses;
use serde_json::{Value, json};

fn body(model: &str, stream: bool) -> Value {
    let mut b = json!({
        "model": model,
        "instructions": "Be brief.",
        "input": [{"role": "user", "content": "Who wrote The Name of the Wind?"}],
    });
    if stream {
        b["stream"] = json!(true);
    }
    b
}

async fn send(sim: &Sim, body: &Value) -> Got {
    let url = format!("{}/responses", sim.server.base_url(OpenaiResponses));
    let resp = sim
        .http
        .post(url)
        .bearer_auth("sk-test")
        .json(body)
        .send()
        .await
        .expect("the simulator answers");
    Got {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.text().await.expect("a whole body"),
    }
}

async fn faulty(fault: &str, extra: &str) -> Sim {
    start(spec(&format!(
        "reply = \"one two three four\"\nfaults = [{{ fault = \"{fault}\", times = 100 {extra} }}]"
    )))
    .await
}

/// The `event:` names of a stream, in order.
fn events(got: &Got) -> Vec<&str> {
    got.body
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect()
}

#[tokio::test]
async fn http_faults_are_openai_error_bodies() {
    let cases = [
        ("rate_limit", 429, "requests", Some("rate_limit_exceeded")),
        (
            "overloaded",
            503,
            "service_unavailable_error",
            Some("server_is_overloaded"),
        ),
        ("server_error", 500, "server_error", None),
        (
            "auth",
            401,
            "invalid_request_error",
            Some("invalid_api_key"),
        ),
        ("bad_request", 400, "invalid_request_error", None),
        (
            "context_length",
            400,
            "invalid_request_error",
            Some("context_length_exceeded"),
        ),
        (
            "quota_exhausted",
            429,
            "insufficient_quota",
            Some("insufficient_quota"),
        ),
        // Not streamed: the overload is the HTTP error.
        (
            "overloaded_in_stream",
            503,
            "service_unavailable_error",
            Some("server_is_overloaded"),
        ),
    ];
    for (fault, status, kind, code) in cases {
        let sim = faulty(fault, "").await;
        let got = send(&sim, &body("m", false)).await;
        assert_eq!(got.status, status, "{fault}");
        let v = got.json();
        assert_eq!(v["error"]["type"], kind, "{fault}");
        assert_eq!(v["error"]["code"].as_str(), code, "{fault}");
        assert_eq!(got.header("content-type"), Some("application/json"));
        assert_eq!(
            got.header("x-request-id"),
            Some("req_sim0000000000000000000000001")
        );
    }
    let got = send(
        &faulty("rate_limit", ", retry_after = \"20s\"").await,
        &body("m", false),
    )
    .await;
    assert_eq!(got.header("retry-after"), Some("20"));
    let got = send(&faulty("html", "").await, &body("m", false)).await;
    assert_eq!(
        (got.status, got.header("content-type")),
        (502, Some("text/html"))
    );
}

#[tokio::test]
async fn the_in_stream_overload_is_response_failed_inside_a_200() {
    let sim = faulty("overloaded_in_stream", ", after_tokens = 2").await;
    let got = send(&sim, &body("m", true)).await;
    assert_eq!(got.status, 200);
    assert_eq!(
        got.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    assert_eq!(
        events(&got),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.failed",
        ]
    );
    let last = got.body.trim_end().lines().last().unwrap();
    let v: Value = serde_json::from_str(last.strip_prefix("data: ").unwrap()).unwrap();
    // Numbered after the 4 opening events and 2 deltas; the same response id throughout.
    assert_eq!(v["sequence_number"], 6);
    assert_eq!(
        v["response"]["id"],
        "resp_sim0000000000000000000000000000000000000001"
    );
    assert_eq!(v["response"]["status"], "failed");
    assert_eq!(v["response"]["error"]["code"], "server_is_overloaded");
}

#[tokio::test]
async fn cut_and_malformed_streams_end_without_response_completed() {
    let cut = send(
        &faulty("cut_stream", ", after_tokens = 2").await,
        &body("m", true),
    )
    .await;
    let names = events(&cut);
    assert_eq!(names.len(), 6, "{names:?}");
    assert_eq!(names.last(), Some(&"response.output_text.delta"));
    let bad = send(
        &faulty("malformed_stream", ", after_tokens = 1").await,
        &body("m", true),
    )
    .await;
    let last = bad.body.trim_end().lines().last().unwrap();
    assert!(
        last.starts_with("data: {\"type\":\"response.output_text.delta\"")
            && last.ends_with("\"outp"),
        "{last}"
    );
    assert!(!bad.body.contains("response.completed"));
}

#[tokio::test]
async fn length_and_content_filter_end_incomplete() {
    for (fault, reason) in [
        ("length", "max_output_tokens"),
        ("content_filter", "content_filter"),
    ] {
        let sim = faulty(fault, ", after_tokens = 2").await;
        let plain = send(&sim, &body("m", false)).await.json();
        assert_eq!(plain["status"], "incomplete", "{fault}");
        assert_eq!(plain["incomplete_details"]["reason"], reason);
        assert_eq!(plain["output"][0]["content"][0]["text"], "one two");
        let streamed = send(&sim, &body("m", true)).await;
        assert_eq!(
            events(&streamed).last(),
            Some(&"response.incomplete"),
            "{fault}"
        );
    }
    // max_output_tokens cuts the reply the same way.
    let sim = start(spec("reply = \"one two three four\"")).await;
    let mut b = body("m", false);
    b["max_output_tokens"] = json!(3);
    let v = send(&sim, &b).await.json();
    assert_eq!(
        (v["status"].as_str(), v["usage"]["output_tokens"].as_u64()),
        (Some("incomplete"), Some(3))
    );
}

#[tokio::test]
async fn an_empty_bucket_is_a_429_with_the_limit_headers() {
    let sim = start(spec(
        "limits = [{ provider = \"openai-responses\", model = \"m\", rpm = 1 }]",
    ))
    .await;
    let first = send(&sim, &body("m", false)).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("x-ratelimit-remaining-requests"), Some("0"));
    let second = send(&sim, &body("m", false)).await;
    assert_eq!(second.status, 429);
    assert_eq!(second.header("retry-after"), Some("60"));
    assert_eq!(second.json()["error"]["code"], "rate_limit_exceeded");
}

#[tokio::test]
async fn a_chat_completions_body_is_refused_as_the_api_does() {
    let sim = start(spec("reply = \"x\"")).await;
    let got = send(
        &sim,
        &json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(got.status, 400);
    assert_eq!(got.json()["error"]["param"], "messages");
    let got = send(&sim, &json!({"input": "hi"})).await;
    assert_eq!(
        got.json()["error"]["message"],
        "Missing required parameter: 'model'."
    );
}
