use super::*;
use crate::provider::sse::{SseDecoder, SseEvent, Step};
use crate::provider::wire::StreamParser;
use crate::provider::wire::gemini::{self as client, StreamState};
use crate::sim::script::bare_fault;
use axum::http::HeaderMap;

fn meta() -> Meta {
    Meta {
        global: 3,
        created: 100,
        model: "gemini-2.5-flash".into(),
        input_tokens: 7,
    }
}

fn keyed() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-goog-api-key", "sim-key".parse().unwrap());
    h
}

fn incoming<'a>(path: &'a str, headers: &'a HeaderMap, body: &'a [u8]) -> Incoming<'a> {
    Incoming {
        path,
        query: None,
        headers,
        body,
    }
}

/// The events of a stream as the client decodes them.
fn events(parts: &StreamParts) -> Vec<SseEvent> {
    let bytes: String = parts
        .head
        .iter()
        .chain(&parts.tokens)
        .chain(&parts.tail)
        .cloned()
        .collect();
    let mut d = SseDecoder::new();
    let mut out = Vec::new();
    d.push(bytes.as_bytes(), &mut out);
    out
}

#[test]
fn paths_name_the_model_and_the_method() {
    assert_eq!(
        split_path("/v1beta/models/gemini-2.5-flash:generateContent"),
        Some(("gemini-2.5-flash", false))
    );
    assert_eq!(
        split_path("/v1/models/m:streamGenerateContent"),
        Some(("m", true))
    );
    assert_eq!(split_path("/v1beta/models/m:countTokens"), None);
    assert_eq!(split_path("/v1/chat/completions"), None);
    assert_eq!(percent_decode("a%3Fb%2Fc%20d%zz%"), "a?b/c d%zz%");
}

#[test]
fn parse_reads_the_request_and_refuses_what_the_api_refuses() {
    let h = keyed();
    let body = br#"{"contents":[{"role":"user","parts":[{"text":"hi there"}]}],"systemInstruction":{"parts":[{"text":"be brief"}]},"tools":[{"functionDeclarations":[{"name":"f"}]}],"generationConfig":{"maxOutputTokens":9}}"#;
    let r = parse(&incoming(
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        &h,
        body,
    ))
    .unwrap();
    assert_eq!(r.model, "gemini-2.5-flash");
    assert!(r.stream && r.offers_tools);
    assert_eq!(r.max_tokens, Some(9));
    // "user", "hi", "there", "be", "brief".
    assert_eq!(r.input_tokens, 5);
    let none = HeaderMap::new();
    let e = parse(&incoming("/v1beta/models/m:generateContent", &none, body)).unwrap_err();
    assert_eq!(e.status, 403);
    assert!(e.body.contains("PERMISSION_DENIED"));
    // A key in the query does.
    let q = Incoming {
        query: Some("alt=sse&key=k"),
        ..incoming("/v1beta/models/m:generateContent", &none, body)
    };
    assert!(parse(&q).is_ok());
    let e = parse(&incoming("/v1beta/models/:generateContent", &h, body)).unwrap_err();
    assert_eq!(e.status, 404);
    assert!(e.body.contains("\"status\": \"NOT_FOUND\""), "{}", e.body);
    let e = parse(&incoming("/v1beta/models/m:generateContent", &h, b"{}")).unwrap_err();
    assert_eq!(e.status, 400);
    assert!(e.body.contains("contents is not specified"));
    let off = br#"{"contents":[],"tools":[{"functionDeclarations":[{"name":"f"}]}],"toolConfig":{"functionCallingConfig":{"mode":"NONE"}}}"#;
    let r = parse(&incoming("/v1beta/models/m:generateContent", &h, off)).unwrap();
    assert!(!r.offers_tools);
}

#[test]
fn plain_bodies_parse_back_in_the_client() {
    let text = full_body(&meta(), &Answer::text("Patrick Rothfuss", None));
    assert!(text.starts_with("{\n  \"candidates\": ["), "{text}");
    let r = client::parse_reply(text.as_bytes(), &[]).unwrap();
    assert_eq!(r.content, "Patrick Rothfuss");
    assert_eq!((r.usage.input_tokens, r.usage.output_tokens), (7, 2));
    assert_eq!(r.finish_reason.as_deref(), Some("STOP"));
    let tool = full_body(&meta(), &Answer::tool("f", r#"{"title": "x"}"#));
    let r = client::parse_reply(tool.as_bytes(), &[]).unwrap();
    assert_eq!(r.tool_calls[0].args, r#"{"title":"x"}"#);
    // Scripted broken arguments go out as a string and come back as written.
    let broken = full_body(&meta(), &Answer::tool("f", r#"{"title": "#));
    let r = client::parse_reply(broken.as_bytes(), &[]).unwrap();
    assert_eq!(r.tool_calls[0].args, r#"{"title": "#);
    let cut = full_body(&meta(), &Answer::text("a b c d", Some(2)));
    let r = client::parse_reply(cut.as_bytes(), &[]).unwrap();
    assert_eq!(
        (r.content.as_str(), r.finish_reason.as_deref()),
        ("a b", Some("MAX_TOKENS"))
    );
}

#[test]
fn streams_are_crlf_framed_and_end_with_the_finish_reason() {
    let parts = stream(&meta(), &Answer::text("The answer is 42.", None));
    assert!(parts.head.is_empty());
    assert_eq!(parts.tokens.len(), 4);
    assert!(
        parts
            .tokens
            .iter()
            .all(|f| f.starts_with("data: {") && f.ends_with("}\r\n\r\n"))
    );
    let evs = events(&parts);
    assert_eq!(evs.len(), 5);
    let mut s = StreamState::new();
    let mut steps = Vec::new();
    for ev in &evs {
        steps.push(s.event(ev, &[], &mut |_| {}).unwrap());
    }
    assert_eq!(steps.last(), Some(&Step::Done));
    assert!(steps[..4].iter().all(|s| *s == Step::Continue));
    let r = s.finish();
    assert_eq!(r.content, "The answer is 42.");
    assert_eq!((r.usage.input_tokens, r.usage.output_tokens), (7, 4));
    let parts = stream(&meta(), &Answer::tool("f", r#"{"k": 1}"#));
    assert_eq!(parts.tokens.len(), 1);
    let mut s = StreamState::new();
    for ev in events(&parts) {
        s.event(&ev, &[], &mut |_| {}).unwrap();
    }
    assert_eq!(s.finish().tool_calls[0].args, r#"{"k":1}"#);
}

#[test]
fn faults_in_gemini_shape() {
    let rl = error(&bare_fault(FaultKind::RateLimit), "gemini-2.5-flash");
    assert_eq!(rl.status, 429);
    let e = client::errors::classify_http(429, &[], &rl.body);
    assert_eq!(e.kind, crate::error::ErrorKind::RateLimit);
    // The default wait of a rate_limit fault, 1 s, in RetryInfo and in no header.
    assert!(rl.body.contains("\"retryDelay\": \"1s\""), "{}", rl.body);
    assert_eq!(e.retry_after_ms, Some(1000));
    assert_eq!(GEMINI.wait_header(&bare_fault(FaultKind::RateLimit)), None);
    let slow = FaultSpec {
        retry_after: Some(crate::policy::Secs(2.5)),
        ..bare_fault(FaultKind::Overloaded)
    };
    let ov = error(&slow, "m");
    assert_eq!(ov.status, 503);
    let e = client::errors::classify_http(503, &[], &ov.body);
    assert_eq!(
        (e.kind, e.retry_after_ms),
        (crate::error::ErrorKind::Overloaded, Some(2500))
    );
    let cases = [
        (
            FaultKind::ServerError,
            500,
            crate::error::ErrorKind::ServerError,
        ),
        (FaultKind::Auth, 400, crate::error::ErrorKind::Auth),
        (
            FaultKind::BadRequest,
            400,
            crate::error::ErrorKind::BadRequest,
        ),
        (
            FaultKind::ContextLength,
            400,
            crate::error::ErrorKind::ContextLength,
        ),
        (
            FaultKind::QuotaExhausted,
            429,
            crate::error::ErrorKind::QuotaExhausted,
        ),
        (FaultKind::Html, 502, crate::error::ErrorKind::ServerError),
    ];
    for (fault, status, kind) in cases {
        let r = error(&bare_fault(fault), "m");
        assert_eq!(r.status, status, "{fault:?}");
        assert_eq!(
            client::errors::classify_http(status, &[], &r.body).kind,
            kind,
            "{fault:?}"
        );
    }
    let in_stream = GEMINI.stream_error(&bare_fault(FaultKind::OverloadedInStream));
    assert!(in_stream.starts_with("data: {") && in_stream.ends_with("\r\n\r\n"));
    let mut d = SseDecoder::new();
    let mut evs = Vec::new();
    d.push(in_stream.as_bytes(), &mut evs);
    let e = StreamState::new()
        .event(&evs[0], &[], &mut |_| {})
        .unwrap_err();
    assert_eq!(e.kind, crate::error::ErrorKind::Overloaded);
    let mut evs = Vec::new();
    SseDecoder::new().push(GEMINI.malformed_frame(&meta()).as_bytes(), &mut evs);
    let e = StreamState::new()
        .event(&evs[0], &[], &mut |_| {})
        .unwrap_err();
    assert_eq!(e.kind, crate::error::ErrorKind::StreamInterrupted);
}

#[test]
fn an_empty_bucket_says_when_in_retry_info() {
    let info = LimitInfo {
        limit: 60,
        remaining: 0,
        reset: Duration::from_secs(1),
        retry_after: Some(Duration::from_millis(1500)),
    };
    let r = GEMINI.rate_limited(&info, "m");
    assert_eq!(r.status, 429);
    assert!(r.headers.is_empty());
    let e = client::errors::classify_http(429, &[], &r.body);
    assert_eq!(
        (e.retry_after_ms, e.retry_after_from),
        (Some(1500), Some(crate::error::RetryAfterFrom::RetryInfo))
    );
    assert!(GEMINI.limit_headers(&info).is_empty());
}
