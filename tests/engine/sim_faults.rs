//! Every fault over real loopback HTTP: status, headers and body as each API sends them, the
//! timeout against a client deadline on the same clock, and a reset with no reply at all.

use crate::support::sim::{Sim, spec, start};
use retrylab::clock::Elapsed;
use retrylab::scenario::types::ProviderKind::{self, Anthropic, Openai, OpenaiCompatible};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server whose every request gets `fault` (with extra keys).
async fn faulty(fault: &str, extra: &str) -> Sim {
    start(spec(&format!(
        "reply = \"fine\"\nfaults = [{{ fault = \"{fault}\", times = 100 {extra} }}]"
    )))
    .await
}

#[tokio::test]
async fn rate_limit_openai() {
    let sim = faulty("rate_limit", ", retry_after = \"20s\"").await;
    let got = sim.ask(Openai, "gpt-4o-mini").await;
    assert_eq!(got.status, 429);
    assert_eq!(got.header("retry-after"), Some("20"));
    assert_eq!(got.header("retry-after-ms"), None);
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert_eq!(
        got.header("x-request-id"),
        Some("req_sim0000000000000000000000001")
    );
    assert_eq!(got.header("x-ratelimit-remaining-requests"), Some("0"));
    assert_eq!(
        got.body,
        "{\n    \"error\": {\n        \"message\": \"Rate limit reached for gpt-4o-mini in organization org-sim on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit https://platform.openai.com/account/rate-limits to learn more.\",\n        \"type\": \"requests\",\n        \"param\": null,\n        \"code\": \"rate_limit_exceeded\"\n    }\n}\n"
    );
}

#[tokio::test]
async fn rate_limit_anthropic_with_each_retry_after_format() {
    let sim = faulty("rate_limit", "").await;
    let got = sim.ask(Anthropic, "claude").await;
    assert_eq!(got.status, 429);
    assert_eq!(got.header("retry-after"), Some("1"));
    assert_eq!(got.header("request-id"), Some("req_sim00000000000000001"));
    assert_eq!(got.header("x-should-retry"), Some("true"));
    let v = got.json();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "rate_limit_error");

    let ms = faulty(
        "rate_limit",
        ", retry_after = \"1500ms\", retry_after_format = \"ms\"",
    )
    .await;
    let got = ms.ask(Anthropic, "claude").await;
    assert_eq!(got.header("retry-after-ms"), Some("1500"));
    assert_eq!(got.header("retry-after"), None);

    let date = faulty(
        "rate_limit",
        ", retry_after = 30, retry_after_format = \"date\"",
    )
    .await;
    let got = date.ask(Openai, "m").await;
    let at = httpdate::parse_http_date(got.header("retry-after").unwrap()).unwrap();
    let ahead = at.duration_since(std::time::SystemTime::now()).unwrap();
    assert!(
        ahead > Duration::from_secs(28) && ahead <= Duration::from_secs(31),
        "{ahead:?}"
    );
}

#[tokio::test]
async fn overloaded_is_529_for_anthropic_and_503_for_openai() {
    let sim = faulty("overloaded", "").await;
    let got = sim.ask(Anthropic, "c").await;
    assert_eq!(got.status, 529);
    assert_eq!(
        got.body,
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
    );
    assert_eq!(got.header("retry-after"), None);
    let got = sim.ask(Openai, "m").await;
    assert_eq!(got.status, 503);
    assert_eq!(got.json()["error"]["type"], "service_unavailable_error");
    assert_eq!(got.json()["error"]["code"], "server_is_overloaded");
    // With retry_after set, overloaded sends it too.
    let with = faulty("overloaded", ", retry_after = 3").await;
    assert_eq!(
        with.ask(Anthropic, "c").await.header("retry-after"),
        Some("3")
    );
}

#[tokio::test]
async fn http_error_faults_carry_each_providers_body() {
    let cases: [(&str, ProviderKind, u16, &str); 12] = [
        ("server_error", Openai, 500, "server_error"),
        ("server_error", Anthropic, 500, "api_error"),
        ("auth", Openai, 401, "invalid_request_error"),
        ("auth", Anthropic, 401, "authentication_error"),
        ("bad_request", Openai, 400, "invalid_request_error"),
        ("bad_request", Anthropic, 400, "invalid_request_error"),
        ("context_length", Openai, 400, "invalid_request_error"),
        ("context_length", Anthropic, 400, "invalid_request_error"),
        (
            "overloaded_in_stream",
            Openai,
            503,
            "service_unavailable_error",
        ),
        ("overloaded_in_stream", Anthropic, 529, "overloaded_error"),
        ("rate_limit", OpenaiCompatible, 429, "requests"),
        ("auth", OpenaiCompatible, 401, "invalid_request_error"),
    ];
    for (fault, kind, status, error_type) in cases {
        let sim = faulty(fault, "").await;
        let got = sim.ask(kind, "m").await;
        assert_eq!(got.status, status, "{fault} {kind}");
        assert_eq!(got.json()["error"]["type"], error_type, "{fault} {kind}");
        assert_eq!(got.header("content-type"), Some("application/json"));
    }
    let sim = faulty("context_length", "").await;
    assert_eq!(
        sim.ask(Openai, "m").await.json()["error"]["code"],
        "context_length_exceeded"
    );
    assert!(
        sim.ask(Anthropic, "m").await.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("prompt is too long: ")
    );
    let sim = faulty("auth", "").await;
    assert_eq!(
        sim.ask(Openai, "m").await.json()["error"]["code"],
        "invalid_api_key"
    );
}

#[tokio::test]
async fn message_overrides_the_error_text() {
    let sim = faulty("server_error", ", message = \"boom\"").await;
    assert_eq!(
        sim.ask(Openai, "m").await.json()["error"]["message"],
        "boom"
    );
    assert_eq!(
        sim.ask(Anthropic, "m").await.json()["error"]["message"],
        "boom"
    );
}

#[tokio::test]
async fn html_is_a_502_page() {
    let sim = faulty("html", "").await;
    for kind in [Openai, Anthropic] {
        let got = sim.ask(kind, "m").await;
        assert_eq!(got.status, 502);
        assert_eq!(got.header("content-type"), Some("text/html"));
        assert!(got.body.contains("<title>502 Bad Gateway</title>"));
    }
}

#[tokio::test]
async fn a_timeout_sends_nothing_until_the_client_deadline_fires() {
    let sim = faulty("timeout", "").await;
    sim.clock.sleep(Duration::from_secs(1)).await;
    for kind in [Openai, Anthropic] {
        let before = sim.clock.now();
        let wall = std::time::Instant::now();
        let r = sim
            .clock
            .timeout(
                Some(Duration::from_secs(30)),
                sim.request(kind, &crate::support::sim::body(kind, "m", true, false))
                    .send(),
            )
            .await;
        assert_eq!(r.err(), Some(Elapsed), "{kind}");
        assert_eq!(sim.clock.now() - before, Duration::from_secs(30));
        assert!(wall.elapsed() < Duration::from_secs(5));
    }
    assert_eq!(sim.clock.now(), Duration::from_secs(61));
    assert_eq!(sim.server.total_requests(), 2);
}

#[tokio::test]
async fn a_slow_answer_times_out_at_the_deadline_not_later() {
    let sim = start(spec(
        "reply = \"fine\"\nfaults = [{ fault = \"slow_first_byte\", delay = \"90s\" }]",
    ))
    .await;
    let r = sim
        .clock
        .timeout(Some(Duration::from_secs(10)), sim.ask(Openai, "m"))
        .await;
    assert!(r.is_err());
    assert_eq!(sim.clock.now(), Duration::from_secs(10));
    // The next request is served normally (200 ms + 1 token at 40/s).
    assert_eq!(sim.ask(Openai, "m").await.status, 200);
    assert_eq!(sim.clock.now(), Duration::from_millis(10_225));
}

#[tokio::test]
async fn connection_reset_closes_the_connection_with_no_reply() {
    let sim = faulty("connection_reset", "").await;
    // Through an HTTP client: an error with no status.
    let err = sim
        .request(
            Openai,
            &crate::support::sim::body(Openai, "m", false, false),
        )
        .send()
        .await
        .unwrap_err();
    assert!(err.status().is_none() && !err.is_timeout(), "{err:?}");
    // On the raw socket: not one byte comes back.
    let body = r#"{"model":"m","max_tokens":5,"messages":[]}"#;
    let mut tcp = tokio::net::TcpStream::connect(sim.server.addr())
        .await
        .unwrap();
    let request = format!(
        "POST /v1/messages HTTP/1.1\r\nhost: x\r\nanthropic-version: 2023-06-01\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let read = tcp.read_to_end(&mut buf).await;
    assert!(buf.is_empty(), "{}", String::from_utf8_lossy(&buf));
    if let Err(e) = read {
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset);
    }
    assert_eq!(sim.server.total_requests(), 2);
}

#[tokio::test]
async fn requests_the_real_api_refuses_are_refused_the_same_way() {
    let sim = start(spec("")).await;
    // Anthropic needs anthropic-version and max_tokens.
    let got = sim
        .http
        .post(sim.url(Anthropic))
        .header("x-api-key", "k")
        .json(&serde_json::json!({"model": "c", "max_tokens": 5, "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 400);
    assert!(
        got.text()
            .await
            .unwrap()
            .contains("anthropic-version: header is required")
    );
    let mut b = crate::support::sim::body(Anthropic, "c", false, false);
    b.as_object_mut().unwrap().remove("max_tokens");
    let got = sim.send(Anthropic, &b).await;
    assert_eq!(got.json()["error"]["message"], "max_tokens: Field required");
    // Not JSON.
    let got = sim
        .http
        .post(sim.url(Openai))
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 400);
    // Unknown path: OpenAI's 404 shape naming the routes.
    let got = sim
        .http
        .post(format!("http://{}/v1/completions", sim.server.addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 404);
    assert!(
        got.text()
            .await
            .unwrap()
            .contains("POST /v1/chat/completions")
    );
    // None of these counts as a request to a model.
    assert_eq!(sim.server.total_requests(), 0);
}

#[tokio::test]
async fn dropping_the_server_stops_serving_and_releases_stalled_replies() {
    let sim = faulty("timeout", "").await;
    let addr = sim.server.addr();
    let url = sim.url(Openai);
    let http = sim.http.clone();
    // A request with no deadline at all: it stalls until the server goes away.
    let pending = tokio::spawn(async move {
        http.post(url)
            .json(&crate::support::sim::body(Openai, "m", false, false))
            .send()
            .await
    });
    while sim.server.total_requests() == 0 {
        tokio::task::yield_now().await;
    }
    drop(sim);
    let r = pending.await.unwrap();
    assert!(r.is_err(), "{r:?}");
    // Nothing answers any more.
    let mut refused = false;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(refused);
}
