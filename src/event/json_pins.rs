//! The JSON of every event, pinned byte for byte (DESIGN §5 is a contract): one line per
//! variant with every optional field set, one with none, and old lines (fields added later
//! missing) that must still parse.

use super::*;
use crate::error::{CallError, ErrorKind};

fn full_error() -> CallError {
    let mut e = CallError::new(ErrorKind::Timeout, "no byte in 5 s")
        .with_status(504)
        .with_provider_type("gateway_timeout")
        .with_retry_after_ms(Some(1500))
        .with_request_id(Some("req_1".into()));
    e.timeout = Some("first_byte".into());
    e
}

fn exchange() -> HttpExchange {
    HttpExchange {
        url: "http://127.0.0.1:1/v1/chat/completions".into(),
        status: Some(429),
        headers: vec![("retry-after".into(), "1".into())],
        body: "{}".into(),
    }
}

fn target(provider: &str, model: &str) -> Target {
    Target {
        provider: provider.into(),
        model: model.into(),
    }
}

/// Every variant, each with every optional field set, and its line.
fn full() -> Vec<(Event, &'static str)> {
    let retry = CallError::retry_error(3, full_error());
    vec![
        (
            Event::RunStarted(RunStarted {
                scenario: "Fallback with retries".into(),
                mode: Mode::Live,
                speed: "10x".into(),
            }),
            r#"{"t_ms":7,"event":"run_started","scenario":"Fallback with retries","mode":"live","speed":"10x"}"#,
        ),
        (
            Event::AttemptStarted(AttemptStarted {
                hop: 1,
                attempt: 2,
                provider: "openai".into(),
                model: "gpt-4o-mini".into(),
                request: serde_json::json!({"model": "gpt-4o-mini", "stream": true}),
                prompt: Some("Answer: {q}".into()),
                url: "http://127.0.0.1:1/v1/chat/completions".into(),
                headers: vec![("authorization".into(), "[redacted]".into())],
                deadline_clip: Some(Clip {
                    from_ms: 60000,
                    to_ms: 3200,
                }),
            }),
            r#"{"t_ms":7,"event":"attempt_started","hop":1,"attempt":2,"provider":"openai","model":"gpt-4o-mini","request":{"model":"gpt-4o-mini","stream":true},"prompt":"Answer: {q}","url":"http://127.0.0.1:1/v1/chat/completions","headers":[["authorization","[redacted]"]],"deadline_clip":{"from_ms":60000,"to_ms":3200}}"#,
        ),
        (
            Event::Delta(Delta {
                hop: 0,
                attempt: 1,
                text: "Hel\"lo\n".into(),
            }),
            r#"{"t_ms":7,"event":"delta","hop":0,"attempt":1,"text":"Hel\"lo\n"}"#,
        ),
        (
            Event::ToolCall(ToolCall {
                hop: 0,
                attempt: 1,
                name: "get_book_author".into(),
                args: r#"{"title":"x"}"#.into(),
                result: "Patrick Rothfuss".into(),
            }),
            r#"{"t_ms":7,"event":"tool_call","hop":0,"attempt":1,"name":"get_book_author","args":"{\"title\":\"x\"}","result":"Patrick Rothfuss"}"#,
        ),
        (
            Event::AttemptFailed(AttemptFailed {
                hop: 0,
                attempt: 1,
                error: full_error(),
                partial_output: "Patr".into(),
                will_retry: true,
                latency_ms: 12,
                why: "timeout is in retry_on".into(),
                fallback_why: "timeout is not in [fallback].catch [retry_error]".into(),
                response: Some(exchange()),
                cost_usd: Some(0.000012),
                cost_estimated: true,
            }),
            r#"{"t_ms":7,"event":"attempt_failed","hop":0,"attempt":1,"error":{"kind":"timeout","message":"no byte in 5 s","status":504,"provider_type":"gateway_timeout","retry_after_ms":1500,"request_id":"req_1","timeout":"first_byte"},"partial_output":"Patr","will_retry":true,"latency_ms":12,"why":"timeout is in retry_on","fallback_why":"timeout is not in [fallback].catch [retry_error]","response":{"url":"http://127.0.0.1:1/v1/chat/completions","status":429,"headers":[["retry-after","1"]],"body":"{}"},"cost_usd":0.000012,"cost_estimated":true}"#,
        ),
        (
            Event::ErrorReinserted(ErrorReinserted {
                hop: 0,
                attempt: 2,
                errors: vec!["validation: not upper case".into(), "second".into()],
            }),
            r#"{"t_ms":7,"event":"error_reinserted","hop":0,"attempt":2,"errors":["validation: not upper case","second"]}"#,
        ),
        (
            Event::WaitStarted(WaitStarted {
                hop: 0,
                attempt: 1,
                delay_ms: 4000,
                strategy: "exponential(multiplier=1, min=4, max=10)".into(),
                retry_after_ms: Some(30000),
                computed_ms: 4000,
                source: WaitSource::RetryAfter,
                clipped_from_ms: Some(8000),
                retry_after_jitter_ms: Some(310),
            }),
            r#"{"t_ms":7,"event":"wait_started","hop":0,"attempt":1,"delay_ms":4000,"strategy":"exponential(multiplier=1, min=4, max=10)","retry_after_ms":30000,"computed_ms":4000,"source":"retry_after","clipped_from_ms":8000,"retry_after_jitter_ms":310}"#,
        ),
        (
            Event::StreamResumed(StreamResumed {
                hop: 0,
                attempt: 2,
                replayed_chars: 8,
                text: "Patrick ".into(),
            }),
            r#"{"t_ms":7,"event":"stream_resumed","hop":0,"attempt":2,"replayed_chars":8,"text":"Patrick "}"#,
        ),
        (
            // A Gemini 429's RetryInfo.retryDelay set the wait.
            Event::WaitStarted(WaitStarted {
                hop: 0,
                attempt: 1,
                delay_ms: 27000,
                strategy: "exponential(multiplier=1, min=4, max=10)".into(),
                retry_after_ms: Some(27000),
                computed_ms: 4000,
                source: WaitSource::RetryInfo,
                clipped_from_ms: None,
                retry_after_jitter_ms: None,
            }),
            r#"{"t_ms":7,"event":"wait_started","hop":0,"attempt":1,"delay_ms":27000,"strategy":"exponential(multiplier=1, min=4, max=10)","retry_after_ms":27000,"computed_ms":4000,"source":"retry_info"}"#,
        ),
        (
            Event::WaitFinished(WaitFinished::cut(0, 1, WaitEnd::Cancelled, 1350)),
            r#"{"t_ms":7,"event":"wait_finished","hop":0,"attempt":1,"waited_ms":1350,"ended":"cancelled"}"#,
        ),
        (
            Event::RetryExhausted(RetryExhausted {
                hop: 0,
                attempts: 3,
                last_error: full_error(),
            }),
            r#"{"t_ms":7,"event":"retry_exhausted","hop":0,"attempts":3,"last_error":{"kind":"timeout","message":"no byte in 5 s","status":504,"provider_type":"gateway_timeout","retry_after_ms":1500,"request_id":"req_1","timeout":"first_byte"}}"#,
        ),
        (
            Event::FallbackHop(FallbackHop {
                hop: 1,
                from: target("openai", "gpt-4o-mini"),
                to: target("anthropic", "claude-3-5-sonnet-latest"),
                caught: retry.clone(),
                why: "retry_error is in [fallback].catch [retry_error]".into(),
            }),
            r#"{"t_ms":7,"event":"fallback_hop","hop":1,"from":{"provider":"openai","model":"gpt-4o-mini"},"to":{"provider":"anthropic","model":"claude-3-5-sonnet-latest"},"caught":{"kind":"retry_error","message":"RetryError after 3 attempt(s); last error: timeout (504): no byte in 5 s","last_error":{"kind":"timeout","message":"no byte in 5 s","status":504,"provider_type":"gateway_timeout","retry_after_ms":1500,"request_id":"req_1","timeout":"first_byte"}},"why":"retry_error is in [fallback].catch [retry_error]"}"#,
        ),
        (
            Event::AttemptSucceeded(AttemptSucceeded {
                hop: 1,
                attempt: 1,
                content: "42".into(),
                usage: Usage {
                    input_tokens: 14,
                    output_tokens: 7,
                },
                latency_ms: 75,
                tool_calls: vec![ToolCallRecord {
                    id: "call_1".into(),
                    name: "get_book_author".into(),
                    args: "{}".into(),
                }],
                response: Some(exchange()),
                cost_usd: Some(0.000147),
                cost_estimated: true,
            }),
            r#"{"t_ms":7,"event":"attempt_succeeded","hop":1,"attempt":1,"content":"42","usage":{"input_tokens":14,"output_tokens":7},"latency_ms":75,"tool_calls":[{"id":"call_1","name":"get_book_author","args":"{}"}],"response":{"url":"http://127.0.0.1:1/v1/chat/completions","status":429,"headers":[["retry-after","1"]],"body":"{}"},"cost_usd":0.000147,"cost_estimated":true}"#,
        ),
        (
            Event::RunFinished(RunFinished {
                outcome: Outcome::Error,
                content: Some("partial".into()),
                error: Some(CallError::fallback_error(vec![retry.clone()])),
                caught: vec![retry],
                total_cost_usd: Some(0.5),
                total_cost_estimated: true,
                degraded: true,
            }),
            r#"{"t_ms":7,"event":"run_finished","outcome":"error","content":"partial","error":{"kind":"fallback_error","message":"FallbackError: every call failed: [retry_error: RetryError after 3 attempt(s); last error: timeout (504): no byte in 5 s]","errors":[{"kind":"retry_error","message":"RetryError after 3 attempt(s); last error: timeout (504): no byte in 5 s","last_error":{"kind":"timeout","message":"no byte in 5 s","status":504,"provider_type":"gateway_timeout","retry_after_ms":1500,"request_id":"req_1","timeout":"first_byte"}}]},"caught":[{"kind":"retry_error","message":"RetryError after 3 attempt(s); last error: timeout (504): no byte in 5 s","last_error":{"kind":"timeout","message":"no byte in 5 s","status":504,"provider_type":"gateway_timeout","retry_after_ms":1500,"request_id":"req_1","timeout":"first_byte"}}],"total_cost_usd":0.5,"total_cost_estimated":true,"degraded":true}"#,
        ),
        (
            Event::LimitReached(LimitReached {
                limit: "deadline".into(),
                value: 10000.into(),
                spent: 10000.into(),
                hop: Some(0),
                attempt: Some(3),
                on_exhausted: "raise".into(),
                why: "deadline = 10 s reached".into(),
            }),
            r#"{"t_ms":7,"event":"limit_reached","limit":"deadline","value":10000,"spent":10000,"hop":0,"attempt":3,"on_exhausted":"raise","why":"deadline = 10 s reached"}"#,
        ),
        (
            Event::ResultRejected(ResultRejected {
                hop: 0,
                attempt: 1,
                result: "length".into(),
                why: "length is in [fallback].on_result [length]".into(),
            }),
            r#"{"t_ms":7,"event":"result_rejected","hop":0,"attempt":1,"result":"length","why":"length is in [fallback].on_result [length]"}"#,
        ),
        (
            Event::SdkRetry(SdkRetry {
                hop: 0,
                attempt: 2,
                leg: 2,
                retry: 1,
                error: full_error(),
                delay_ms: 1500,
                source: "retry_after_ms".into(),
                status: Some(429),
                sdk: "openai 3.x".into(),
                why: "429 is retried by openai 3.x".into(),
                response: Some(exchange()),
                cost_usd: None,
                cost_estimated: false,
            }),
            r#"{"t_ms":7,"event":"sdk_retry","hop":0,"attempt":2,"leg":2,"retry":1,"error":{"kind":"timeout","message":"no byte in 5 s","status":504,"provider_type":"gateway_timeout","retry_after_ms":1500,"request_id":"req_1","timeout":"first_byte"},"delay_ms":1500,"source":"retry_after_ms","status":429,"sdk":"openai 3.x","why":"429 is retried by openai 3.x","response":{"url":"http://127.0.0.1:1/v1/chat/completions","status":429,"headers":[["retry-after","1"]],"body":"{}"}}"#,
        ),
        (
            Event::HedgeStarted(HedgeStarted {
                hop: 0,
                attempt: 1,
                leg: 2,
                provider: "anthropic".into(),
                model: "claude-3-5-haiku-latest".into(),
            }),
            r#"{"t_ms":7,"event":"hedge_started","hop":0,"attempt":1,"leg":2,"provider":"anthropic","model":"claude-3-5-haiku-latest"}"#,
        ),
        (
            Event::HedgeCancelled(HedgeCancelled {
                hop: 0,
                attempt: 1,
                leg: 1,
                why: "leg 2 answered first".into(),
                cost_usd: Some(0.000_15),
                cost_estimated: true,
            }),
            r#"{"t_ms":7,"event":"hedge_cancelled","hop":0,"attempt":1,"leg":1,"why":"leg 2 answered first","cost_usd":0.00015,"cost_estimated":true}"#,
        ),
        (
            Event::SharedState(SharedState {
                breakers: vec![BreakerSeen {
                    provider: "openai".into(),
                    model: "gpt-4o-mini".into(),
                    state: "half_open".into(),
                }],
                budget_tokens: Some(12.4),
            }),
            r#"{"t_ms":7,"event":"shared_state","breakers":[{"provider":"openai","model":"gpt-4o-mini","state":"half_open"}],"budget_tokens":12.4}"#,
        ),
        (
            Event::BreakerOpened(breaker_change("5 consecutive failures", Some(30_000))),
            r#"{"t_ms":7,"event":"breaker_opened","hop":0,"attempt":5,"provider":"openai","model":"gpt-4o-mini","why":"5 consecutive failures","cooldown_ms":30000}"#,
        ),
        (
            Event::BreakerHalfOpen(breaker_change("cooldown 30 s passed", Some(30_000))),
            r#"{"t_ms":7,"event":"breaker_half_open","hop":0,"attempt":5,"provider":"openai","model":"gpt-4o-mini","why":"cooldown 30 s passed","cooldown_ms":30000}"#,
        ),
        (
            Event::BreakerClosed(breaker_change("1 of 1 half-open probe succeeded", Some(1))),
            r#"{"t_ms":7,"event":"breaker_closed","hop":0,"attempt":5,"provider":"openai","model":"gpt-4o-mini","why":"1 of 1 half-open probe succeeded","cooldown_ms":1}"#,
        ),
        (
            Event::BudgetWithdrawn(BudgetDecided {
                hop: 1,
                attempt: 2,
                tokens: 3.5,
            }),
            r#"{"t_ms":7,"event":"budget_withdrawn","hop":1,"attempt":2,"tokens":3.5}"#,
        ),
        (
            Event::BudgetDenied(BudgetDecided {
                hop: 0,
                attempt: 1,
                tokens: 0.8,
            }),
            r#"{"t_ms":7,"event":"budget_denied","hop":0,"attempt":1,"tokens":0.8}"#,
        ),
    ]
}

fn breaker_change(why: &str, cooldown_ms: Option<u64>) -> BreakerChanged {
    BreakerChanged {
        hop: 0,
        attempt: 5,
        provider: "openai".into(),
        model: "gpt-4o-mini".into(),
        why: why.into(),
        cooldown_ms,
    }
}

/// Every variant with optional fields at their defaults, and its line.
fn bare() -> Vec<(Event, &'static str)> {
    vec![
        (
            Event::SharedState(SharedState {
                breakers: vec![],
                budget_tokens: None,
            }),
            r#"{"t_ms":7,"event":"shared_state"}"#,
        ),
        (
            Event::BreakerOpened(breaker_change("a half-open probe failed", None)),
            r#"{"t_ms":7,"event":"breaker_opened","hop":0,"attempt":5,"provider":"openai","model":"gpt-4o-mini","why":"a half-open probe failed"}"#,
        ),
        (
            Event::AttemptStarted(AttemptStarted {
                hop: 0,
                attempt: 1,
                provider: "anthropic".into(),
                model: "m".into(),
                request: serde_json::Value::Null,
                prompt: None,
                url: String::new(),
                headers: vec![],
                deadline_clip: None,
            }),
            r#"{"t_ms":7,"event":"attempt_started","hop":0,"attempt":1,"provider":"anthropic","model":"m","request":null}"#,
        ),
        (
            Event::AttemptFailed(AttemptFailed {
                hop: 0,
                attempt: 1,
                error: CallError::new(ErrorKind::RateLimit, "slow down"),
                partial_output: String::new(),
                will_retry: false,
                latency_ms: 0,
                why: String::new(),
                fallback_why: String::new(),
                response: None,
                cost_usd: None,
                cost_estimated: false,
            }),
            r#"{"t_ms":7,"event":"attempt_failed","hop":0,"attempt":1,"error":{"kind":"rate_limit","message":"slow down"},"partial_output":"","will_retry":false,"latency_ms":0}"#,
        ),
        (
            Event::WaitStarted(WaitStarted {
                hop: 0,
                attempt: 1,
                delay_ms: 0,
                strategy: "wait_none".into(),
                retry_after_ms: None,
                computed_ms: 0,
                source: WaitSource::Backoff,
                clipped_from_ms: None,
                retry_after_jitter_ms: None,
            }),
            r#"{"t_ms":7,"event":"wait_started","hop":0,"attempt":1,"delay_ms":0,"strategy":"wait_none","retry_after_ms":null,"computed_ms":0,"source":"backoff"}"#,
        ),
        (
            Event::WaitFinished(WaitFinished::elapsed(0, 1)),
            r#"{"t_ms":7,"event":"wait_finished","hop":0,"attempt":1}"#,
        ),
        (
            Event::AttemptSucceeded(AttemptSucceeded {
                hop: 0,
                attempt: 1,
                content: String::new(),
                usage: Usage::default(),
                latency_ms: 0,
                tool_calls: vec![],
                response: Some(HttpExchange::default()),
                cost_usd: None,
                cost_estimated: false,
            }),
            r#"{"t_ms":7,"event":"attempt_succeeded","hop":0,"attempt":1,"content":"","usage":{"input_tokens":0,"output_tokens":0},"latency_ms":0,"response":{"url":""}}"#,
        ),
        (
            Event::RunFinished(RunFinished {
                outcome: Outcome::Cancelled,
                content: None,
                error: None,
                caught: vec![],
                total_cost_usd: None,
                total_cost_estimated: false,
                degraded: false,
            }),
            r#"{"t_ms":7,"event":"run_finished","outcome":"cancelled","content":null,"error":null,"caught":[]}"#,
        ),
        (
            Event::SdkRetry(SdkRetry {
                hop: 0,
                attempt: 1,
                leg: 1,
                retry: 1,
                error: CallError::new(ErrorKind::Connection, "reset"),
                delay_ms: 412,
                source: "backoff".into(),
                status: None,
                sdk: String::new(),
                why: String::new(),
                response: None,
                cost_usd: None,
                cost_estimated: false,
            }),
            r#"{"t_ms":7,"event":"sdk_retry","hop":0,"attempt":1,"retry":1,"error":{"kind":"connection","message":"reset"},"delay_ms":412,"source":"backoff"}"#,
        ),
        (
            Event::LimitReached(LimitReached {
                limit: "max_cost_usd".into(),
                value: serde_json::json!(0.05),
                spent: serde_json::json!(0.0512),
                hop: None,
                attempt: None,
                on_exhausted: "message".into(),
                why: String::new(),
            }),
            r#"{"t_ms":7,"event":"limit_reached","limit":"max_cost_usd","value":0.05,"spent":0.0512,"on_exhausted":"message","why":""}"#,
        ),
        (
            Event::HedgeCancelled(HedgeCancelled {
                hop: 0,
                attempt: 1,
                leg: 2,
                why: "the attempt ended".into(),
                cost_usd: None,
                cost_estimated: false,
            }),
            r#"{"t_ms":7,"event":"hedge_cancelled","hop":0,"attempt":1,"leg":2,"why":"the attempt ended"}"#,
        ),
    ]
}

#[test]
fn every_event_encodes_as_pinned_and_parses_back() {
    for (event, want) in full().into_iter().chain(bare()) {
        let e = TimedEvent { t_ms: 7, event };
        assert_eq!(e.to_json_line(), want, "{}", e.event.name());
        assert_eq!(TimedEvent::from_json_line(want).unwrap(), e, "{want}");
    }
}

#[test]
fn every_variant_is_pinned() {
    let names: std::collections::BTreeSet<&str> = full().iter().map(|(e, _)| e.name()).collect();
    assert_eq!(names.len(), 24, "{names:?}");
}

/// Lines as older versions wrote them: the fields added since take their defaults, and the
/// event encodes again as today's line.
#[test]
fn old_lines_parse_with_defaults() {
    let old = [
        (
            r#"{"t_ms":7,"event":"attempt_failed","hop":0,"attempt":1,"error":{"kind":"rate_limit","message":"slow down"},"partial_output":"","will_retry":false}"#,
            r#"{"t_ms":7,"event":"attempt_failed","hop":0,"attempt":1,"error":{"kind":"rate_limit","message":"slow down"},"partial_output":"","will_retry":false,"latency_ms":0}"#,
        ),
        (
            r#"{"t_ms":7,"event":"wait_started","hop":0,"attempt":1,"delay_ms":0,"strategy":"wait_none"}"#,
            r#"{"t_ms":7,"event":"wait_started","hop":0,"attempt":1,"delay_ms":0,"strategy":"wait_none","retry_after_ms":null,"computed_ms":0,"source":""}"#,
        ),
        (
            r#"{"t_ms":7,"event":"wait_started","hop":0,"attempt":1,"delay_ms":0,"strategy":"wait_none","retry_after_ms":null,"computed_ms":0,"source":""}"#,
            r#"{"t_ms":7,"event":"wait_started","hop":0,"attempt":1,"delay_ms":0,"strategy":"wait_none","retry_after_ms":null,"computed_ms":0,"source":""}"#,
        ),
        (
            r#"{"t_ms":7,"event":"attempt_started","hop":0,"attempt":1,"provider":"anthropic","model":"m","request":null}"#,
            r#"{"t_ms":7,"event":"attempt_started","hop":0,"attempt":1,"provider":"anthropic","model":"m","request":null}"#,
        ),
        (
            r#"{"t_ms":7,"event":"attempt_succeeded","hop":0,"attempt":1,"content":"ok","usage":{"input_tokens":1,"output_tokens":2},"latency_ms":9}"#,
            r#"{"t_ms":7,"event":"attempt_succeeded","hop":0,"attempt":1,"content":"ok","usage":{"input_tokens":1,"output_tokens":2},"latency_ms":9}"#,
        ),
    ];
    for (line, today) in old {
        let e = TimedEvent::from_json_line(line).unwrap_or_else(|err| panic!("{line}: {err}"));
        assert_eq!(e.to_json_line(), today);
    }
    // A wait skipped, and an ending this version does not know (read as a full wait).
    let skipped = r#"{"t_ms":7,"event":"wait_finished","hop":0,"attempt":1,"waited_ms":1200,"ended":"skipped"}"#;
    assert_eq!(
        TimedEvent::from_json_line(skipped).unwrap().event,
        Event::WaitFinished(WaitFinished::cut(0, 1, WaitEnd::Skipped, 1200))
    );
    let odd = r#"{"t_ms":7,"event":"wait_finished","hop":0,"attempt":1,"ended":"???"}"#;
    assert_eq!(
        TimedEvent::from_json_line(odd).unwrap().event,
        Event::WaitFinished(WaitFinished::elapsed(0, 1))
    );
    // A source this version does not know still parses (a trace from elsewhere).
    let odd = r#"{"t_ms":7,"event":"wait_started","hop":0,"attempt":1,"delay_ms":0,"strategy":"s","source":"???"}"#;
    assert!(TimedEvent::from_json_line(odd).is_ok());
}

/// A priced SDK retry carries its own cost (the run's total adds it; the attempt's does not).
#[test]
fn a_priced_sdk_retry_carries_its_cost() {
    let e = TimedEvent {
        t_ms: 7,
        event: Event::SdkRetry(SdkRetry {
            hop: 0,
            attempt: 1,
            leg: 1,
            retry: 1,
            error: CallError::new(ErrorKind::Timeout, "no byte in 5 s"),
            delay_ms: 412,
            source: "backoff".into(),
            status: None,
            sdk: String::new(),
            why: String::new(),
            response: None,
            cost_usd: Some(0.000_021),
            cost_estimated: true,
        }),
    };
    let want = r#"{"t_ms":7,"event":"sdk_retry","hop":0,"attempt":1,"retry":1,"error":{"kind":"timeout","message":"no byte in 5 s"},"delay_ms":412,"source":"backoff","cost_usd":0.000021,"cost_estimated":true}"#;
    assert_eq!(e.to_json_line(), want);
    assert_eq!(TimedEvent::from_json_line(want).unwrap(), e);
}
