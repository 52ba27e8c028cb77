//! Hand-built event lists for pane, app and snapshot tests (also used by tests/ and benches/).

use crate::error::{CallError, ErrorKind};
use crate::event::{
    AttemptFailed, AttemptStarted, AttemptSucceeded, Delta, ErrorReinserted, Event, FallbackHop,
    HttpExchange, Mode, Outcome, RetryExhausted, RunFinished, RunStarted, Target, TimedEvent,
    Usage, WaitEnd, WaitFinished, WaitSource, WaitStarted,
};
use serde_json::json;

pub fn ev(t_ms: u64, event: Event) -> TimedEvent {
    TimedEvent { t_ms, event }
}

fn rate_limited() -> CallError {
    CallError::new(ErrorKind::RateLimit, "Rate limit reached for gpt-4o-mini")
        .with_status(429)
        .with_retry_after_ms(Some(1000))
}

fn request(text: &str) -> serde_json::Value {
    json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]})
}

const OPENAI_URL: &str = "http://127.0.0.1:4000/v1/chat/completions";

/// The headers an OpenAI request carries, the key redacted.
fn openai_headers() -> Vec<(String, String)> {
    [
        ("content-type", "application/json"),
        ("accept", "application/json"),
        ("authorization", "[redacted]"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .to_vec()
}

/// Primary fails once with a rate limit, then waits (4 s): the state mid-wait.
pub fn mid_wait() -> Vec<TimedEvent> {
    vec![
        ev(
            0,
            Event::RunStarted(RunStarted {
                scenario: "Fallback with retries".into(),
                mode: Mode::Sim,
                speed: "1x".into(),
            }),
        ),
        ev(
            0,
            Event::AttemptStarted(AttemptStarted {
                hop: 0,
                attempt: 1,
                provider: "openai".into(),
                model: "gpt-4o-mini".into(),
                request: request("Answer this question: What is the meaning of life?"),
                prompt: None,
                url: OPENAI_URL.into(),
                headers: openai_headers(),
                deadline_clip: None,
            }),
        ),
        ev(
            12,
            Event::AttemptFailed(AttemptFailed {
                hop: 0,
                attempt: 1,
                error: rate_limited(),
                partial_output: String::new(),
                will_retry: true,
                latency_ms: 12,
                why: "rate_limit is in retry_on; wait = max(exponential 4 s, retry-after 1 s) = 4 s; attempt 1 of 3".into(),
                fallback_why: String::new(),
                response: Some(HttpExchange {
                    url: "http://127.0.0.1:4000/v1/chat/completions".into(),
                    status: Some(429),
                    headers: vec![("retry-after".into(), "1".into())],
                    body: r#"{"error":{"type":"rate_limit_exceeded","message":"Rate limit reached"}}"#.into(),
                }),
                cost_usd: None,
                cost_estimated: false,
            }),
        ),
        ev(
            12,
            Event::ErrorReinserted(ErrorReinserted {
                hop: 0,
                attempt: 2,
                errors: vec!["rate_limit (429): Rate limit reached for gpt-4o-mini".into()],
            }),
        ),
        ev(
            12,
            Event::WaitStarted(WaitStarted {
                hop: 0,
                attempt: 1,
                delay_ms: 4000,
                strategy: "exponential(multiplier=1, min=4, max=10)".into(),
                retry_after_ms: Some(1000),
                computed_ms: 4000,
                source: WaitSource::Backoff,
    clipped_from_ms: None, retry_after_jitter_ms: None,
            }),
        ),
    ]
}

/// The whole fallback-with-retries run: three rate limits, then the hop answers.
pub fn full_fallback() -> Vec<TimedEvent> {
    let mut v = mid_wait();
    let mut t = 4012;
    v.push(ev(t, Event::WaitFinished(WaitFinished::elapsed(0, 1))));
    for attempt in 2..=3u32 {
        v.push(ev(
            t,
            Event::AttemptStarted(AttemptStarted {
                hop: 0,
                attempt,
                provider: "openai".into(),
                model: "gpt-4o-mini".into(),
                request: request(
                    "Answer this question: What is the meaning of life?\nPrevious errors: rate_limit (429): Rate limit reached for gpt-4o-mini",
                ),
                prompt: None,
                url: OPENAI_URL.into(),
                headers: openai_headers(),
                deadline_clip: None,
            }),
        ));
        t += 10;
        v.push(ev(
            t,
            Event::AttemptFailed(AttemptFailed {
                hop: 0,
                attempt,
                error: rate_limited(),
                partial_output: String::new(),
                will_retry: attempt < 3,
                latency_ms: 10,
                why: format!("rate_limit is in retry_on; attempt {attempt} of 3"),
                fallback_why: String::new(),
                response: None,
                cost_usd: None,
                cost_estimated: false,
            }),
        ));
        if attempt < 3 {
            v.push(ev(
                t,
                Event::WaitStarted(WaitStarted {
                    hop: 0,
                    attempt,
                    delay_ms: 4000,
                    strategy: "exponential(multiplier=1, min=4, max=10)".into(),
                    retry_after_ms: Some(1000),
                    computed_ms: 4000,
                    source: WaitSource::Backoff,
                    clipped_from_ms: None,
                    retry_after_jitter_ms: None,
                }),
            ));
            t += 4000;
            v.push(ev(
                t,
                Event::WaitFinished(WaitFinished::elapsed(0, attempt)),
            ));
        }
    }
    let last = rate_limited();
    let retry_error = CallError::retry_error(3, last.clone());
    v.push(ev(
        t,
        Event::RetryExhausted(RetryExhausted {
            hop: 0,
            attempts: 3,
            last_error: last,
        }),
    ));
    v.push(ev(
        t,
        Event::FallbackHop(FallbackHop {
            hop: 1,
            from: Target {
                provider: "openai".into(),
                model: "gpt-4o-mini".into(),
            },
            to: Target {
                provider: "anthropic".into(),
                model: "claude-3-5-sonnet-latest".into(),
            },
            caught: retry_error.clone(),
            why: String::new(),
        }),
    ));
    v.push(ev(
        t,
        Event::AttemptStarted(AttemptStarted {
            hop: 1,
            attempt: 1,
            provider: "anthropic".into(),
            model: "claude-3-5-sonnet-latest".into(),
            request: json!({"model": "claude-3-5-sonnet-latest", "max_tokens": 1024,
                "messages": [{"role": "user", "content": [{"type": "text", "text": "Answer this question: What is the meaning of life?"}]}]}),
            prompt: None,
            url: String::new(),
            headers: vec![],
            deadline_clip: None,
        }),
    ));
    for w in ["The meaning ", "of life is ", "42."] {
        t += 25;
        v.push(ev(
            t,
            Event::Delta(Delta {
                hop: 1,
                attempt: 1,
                text: w.into(),
            }),
        ));
    }
    v.push(ev(
        t,
        Event::AttemptSucceeded(AttemptSucceeded {
            hop: 1,
            attempt: 1,
            content: "The meaning of life is 42.".into(),
            usage: Usage {
                input_tokens: 14,
                output_tokens: 7,
            },
            latency_ms: 75,
            tool_calls: vec![],
            response: Some(HttpExchange {
                url: "http://127.0.0.1:4001/v1/messages".into(),
                status: Some(200),
                headers: vec![("content-type".into(), "text/event-stream".into())],
                body: String::new(),
            }),
            cost_usd: Some(0.000147),
            cost_estimated: false,
        }),
    ));
    v.push(ev(
        t,
        Event::RunFinished(RunFinished {
            outcome: Outcome::Ok,
            content: Some("The meaning of life is 42.".into()),
            error: None,
            caught: vec![retry_error],
            total_cost_usd: Some(0.000147),
            total_cost_estimated: false,
            degraded: false,
        }),
    ));
    v
}

/// [`mid_wait`], cut short by the user after 1.2 s of its 4 s; attempt 2 then runs.
pub fn skipped_wait() -> Vec<TimedEvent> {
    let mut v = mid_wait();
    v.push(ev(
        1212,
        Event::WaitFinished(WaitFinished::cut(0, 1, WaitEnd::Skipped, 1200)),
    ));
    v.push(ev(
        1212,
        Event::AttemptStarted(AttemptStarted {
            hop: 0,
            attempt: 2,
            provider: "openai".into(),
            model: "gpt-4o-mini".into(),
            request: request("Answer this question: What is the meaning of life?"),
            prompt: None,
            url: String::new(),
            headers: vec![],
            deadline_clip: None,
        }),
    ));
    v
}

/// [`mid_wait`], cancelled after 1.35 s of its 4 s; `with_wait_finished = false` is a trace
/// from before cancelled waits said so.
pub fn cancelled_wait(with_wait_finished: bool) -> Vec<TimedEvent> {
    let mut v = mid_wait();
    if with_wait_finished {
        v.push(ev(
            1362,
            Event::WaitFinished(WaitFinished::cut(0, 1, WaitEnd::Cancelled, 1350)),
        ));
    }
    v.push(ev(
        1362,
        Event::RunFinished(RunFinished {
            outcome: Outcome::Cancelled,
            content: None,
            error: None,
            caught: vec![],
            total_cost_usd: None,
            total_cost_estimated: false,
            degraded: false,
        }),
    ));
    v
}

/// The primary fails with a server error, which is neither in `retry_on` nor in
/// `[fallback].catch`: the run ends there, no hop tried.
pub fn no_fallback_tried() -> Vec<TimedEvent> {
    let error = CallError::new(ErrorKind::ServerError, "The server had an error").with_status(500);
    let mut v = mid_wait();
    v.truncate(2);
    v.push(ev(
        9,
        Event::AttemptFailed(AttemptFailed {
            hop: 0,
            attempt: 1,
            error: error.clone(),
            partial_output: String::new(),
            will_retry: false,
            latency_ms: 9,
            why: "server_error is not in retry_on [rate_limit]: re-raised as is, no retry".into(),
            fallback_why:
                "server_error is not in [fallback].catch [retry_error]: no fallback hop was tried"
                    .into(),
            response: None,
            cost_usd: None,
            cost_estimated: false,
        }),
    ));
    v.push(ev(
        9,
        Event::RunFinished(RunFinished {
            outcome: Outcome::Error,
            content: None,
            error: Some(error),
            caught: vec![],
            total_cost_usd: None,
            total_cost_estimated: false,
            degraded: false,
        }),
    ));
    v
}

/// The built-in `retry-after-wins`, mid-wait: a 429 asks for 15 s while the back-off says 1 s,
/// so the server's Retry-After sets the wait.
pub fn retry_after_wait() -> Vec<TimedEvent> {
    let mut v = mid_wait();
    v.truncate(2);
    if let Event::RunStarted(r) = &mut v[0].event {
        r.scenario = "Retry-After wins".into();
    }
    let error = CallError::new(ErrorKind::RateLimit, "Rate limit reached for gpt-4o-mini")
        .with_status(429)
        .with_retry_after_ms(Some(15_000));
    v.push(ev(
        150,
        Event::AttemptFailed(AttemptFailed {
            hop: 0,
            attempt: 1,
            error,
            partial_output: String::new(),
            will_retry: true,
            latency_ms: 150,
            why: "rate_limit is in retry_on; wait = max(exponential 1 s, retry-after 15 s) = 15 s; attempt 1 of 4".into(),
            fallback_why: String::new(),
            response: None,
            cost_usd: None,
            cost_estimated: false,
        }),
    ));
    v.push(ev(
        150,
        Event::WaitStarted(WaitStarted {
            hop: 0,
            attempt: 1,
            delay_ms: 15_000,
            strategy: "wait_exponential(multiplier=1, max=8 s)".into(),
            retry_after_ms: Some(15_000),
            computed_ms: 1000,
            source: WaitSource::RetryAfter,
            clipped_from_ms: None,
            retry_after_jitter_ms: None,
        }),
    ));
    v
}

/// One SDK retry inside attempt 1 (`t`): a 500 at `t_ms`, retried after `delay_ms`.
fn sdk_retry(t_ms: u64, retry: u32, error: CallError, delay_ms: u64, source: &str) -> TimedEvent {
    ev(
        t_ms,
        Event::SdkRetry(crate::event::SdkRetry {
            hop: 0,
            attempt: 1,
            leg: 1,
            retry,
            status: error.status,
            error,
            delay_ms,
            source: source.into(),
            sdk: "openai 1.x".into(),
            why: format!("the SDK retries (retry {retry} of 2)"),
            response: None,
            cost_usd: Some(0.0),
            cost_estimated: false,
        }),
    )
}

/// The OpenAI SDK's own loop inside attempt 1 (`sdk_max_retries = 2`): a 500 retried after
/// a 420 ms back-off, then a 429 whose `retry-after-ms: 1500` the SDK honours; the state
/// 600 ms into that second wait (at 1.2 s).
pub fn sdk_mid_retry() -> Vec<TimedEvent> {
    let server = CallError::new(ErrorKind::ServerError, "The server had an error").with_status(500);
    vec![
        ev(
            0,
            Event::RunStarted(RunStarted {
                scenario: "SDK amplification".into(),
                mode: Mode::Sim,
                speed: "1x".into(),
            }),
        ),
        ev(
            0,
            Event::AttemptStarted(AttemptStarted {
                hop: 0,
                attempt: 1,
                provider: "openai".into(),
                model: "gpt-4o-mini".into(),
                request: request("Recommend a fantasy book"),
                prompt: None,
                url: OPENAI_URL.into(),
                headers: openai_headers(),
                deadline_clip: None,
            }),
        ),
        sdk_retry(150, 1, server, 420, "backoff"),
        sdk_retry(600, 2, rate_limited(), 1500, "retry_after_ms"),
    ]
}
