//! Scrubbing events: one [`Scrub`] impl per event struct, each destructuring it in full
//! (no `..`), so a field added later does not compile until it is scrubbed or named as
//! holding no text.

use super::{Scrub, Secrets, scrub_failure, withhold};
use crate::event::{
    AttemptFailed, AttemptStarted, AttemptSucceeded, BreakerChanged, BreakerSeen, BudgetDecided,
    Delta, ErrorReinserted, Event, FallbackHop, HedgeCancelled, HedgeStarted, LimitReached,
    ResultRejected, RetryExhausted, RunFinished, RunStarted, SdkRetry, SharedState, StreamResumed,
    ToolCall, WaitFinished, WaitStarted,
};

/// Scrubs every string of `ev` (see the module docs).
pub fn redact_event(ev: &mut Event, s: &Secrets) {
    if !s.is_empty() {
        ev.scrub(s);
    }
}

impl Scrub for Event {
    fn scrub(&mut self, s: &Secrets) -> bool {
        match self {
            Event::RunStarted(e) => e.scrub(s),
            Event::AttemptStarted(e) => e.scrub(s),
            Event::Delta(e) => e.scrub(s),
            Event::ToolCall(e) => e.scrub(s),
            Event::AttemptFailed(e) => e.scrub(s),
            Event::ErrorReinserted(e) => e.scrub(s),
            Event::WaitStarted(e) => e.scrub(s),
            Event::WaitFinished(e) => e.scrub(s),
            Event::RetryExhausted(e) => e.scrub(s),
            Event::FallbackHop(e) => e.scrub(s),
            Event::AttemptSucceeded(e) => e.scrub(s),
            Event::RunFinished(e) => e.scrub(s),
            Event::SdkRetry(e) => e.scrub(s),
            Event::HedgeStarted(e) => e.scrub(s),
            Event::HedgeCancelled(e) => e.scrub(s),
            Event::SharedState(e) => e.scrub(s),
            Event::BreakerOpened(e) | Event::BreakerHalfOpen(e) | Event::BreakerClosed(e) => {
                e.scrub(s)
            }
            Event::BudgetWithdrawn(e) | Event::BudgetDenied(e) => e.scrub(s),
            Event::LimitReached(e) => e.scrub(s),
            Event::ResultRejected(e) => e.scrub(s),
            Event::StreamResumed(e) => e.scrub(s),
        }
    }
}

impl Scrub for SdkRetry {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let SdkRetry {
            hop: _,
            attempt: _,
            leg: _,
            retry: _,
            error,
            delay_ms: _,
            source,
            status: _,
            sdk,
            why,
            response,
            cost_usd: _,
            cost_estimated: _,
        } = self;
        // A failed request has no partial output (the SDK retries before any text).
        let mut none = String::new();
        scrub_failure(error, &mut none, response, s) | source.scrub(s) | sdk.scrub(s) | why.scrub(s)
    }
}

impl Scrub for HedgeStarted {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let HedgeStarted {
            hop: _,
            attempt: _,
            leg: _,
            provider,
            model,
        } = self;
        provider.scrub(s) | model.scrub(s)
    }
}

impl Scrub for HedgeCancelled {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let HedgeCancelled {
            hop: _,
            attempt: _,
            leg: _,
            why,
            cost_usd: _,
            cost_estimated: _,
        } = self;
        why.scrub(s)
    }
}

impl Scrub for SharedState {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let SharedState {
            breakers,
            budget_tokens: _,
        } = self;
        breakers.iter_mut().fold(false, |hit, b| {
            let BreakerSeen {
                provider,
                model,
                state,
            } = b;
            hit | provider.scrub(s) | model.scrub(s) | state.scrub(s)
        })
    }
}

impl Scrub for BreakerChanged {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let BreakerChanged {
            hop: _,
            attempt: _,
            provider,
            model,
            why,
            cooldown_ms: _,
        } = self;
        provider.scrub(s) | model.scrub(s) | why.scrub(s)
    }
}

impl Scrub for BudgetDecided {
    fn scrub(&mut self, _s: &Secrets) -> bool {
        let BudgetDecided {
            hop: _,
            attempt: _,
            tokens: _,
        } = self;
        false
    }
}

impl Scrub for RunStarted {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let RunStarted {
            scenario,
            mode: _,
            speed,
        } = self;
        scenario.scrub(s) | speed.scrub(s)
    }
}

impl Scrub for AttemptStarted {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let AttemptStarted {
            hop: _,
            attempt: _,
            provider,
            model,
            request,
            prompt,
            url,
            headers,
            deadline_clip: _,
        } = self;
        provider.scrub(s)
            | model.scrub(s)
            | request.scrub(s)
            | prompt.scrub(s)
            | url.scrub(s)
            | headers.scrub(s)
    }
}

impl Scrub for Delta {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let Delta {
            hop: _,
            attempt: _,
            text,
        } = self;
        text.scrub(s)
    }
}

impl Scrub for ToolCall {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let ToolCall {
            hop: _,
            attempt: _,
            name,
            args,
            result,
        } = self;
        name.scrub(s) | args.scrub(s) | result.scrub(s)
    }
}

impl Scrub for AttemptFailed {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let AttemptFailed {
            hop: _,
            attempt: _,
            error,
            partial_output,
            will_retry: _,
            latency_ms: _,
            why,
            fallback_why,
            response,
            cost_usd: _,
            cost_estimated: _,
        } = self;
        scrub_failure(error, partial_output, response, s) | why.scrub(s) | fallback_why.scrub(s)
    }
}

impl Scrub for ErrorReinserted {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let ErrorReinserted {
            hop: _,
            attempt: _,
            errors,
        } = self;
        errors.scrub(s)
    }
}

impl Scrub for WaitStarted {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let WaitStarted {
            hop: _,
            attempt: _,
            delay_ms: _,
            strategy,
            retry_after_ms: _,
            computed_ms: _,
            source: _,
            clipped_from_ms: _,
            retry_after_jitter_ms: _,
        } = self;
        strategy.scrub(s)
    }
}

impl Scrub for StreamResumed {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let StreamResumed {
            hop: _,
            attempt: _,
            replayed_chars: _,
            text,
        } = self;
        text.scrub(s)
    }
}

impl Scrub for WaitFinished {
    fn scrub(&mut self, _s: &Secrets) -> bool {
        let WaitFinished {
            hop: _,
            attempt: _,
            waited_ms: _,
            ended: _,
        } = self;
        false
    }
}

impl Scrub for RetryExhausted {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let RetryExhausted {
            hop: _,
            attempts: _,
            last_error,
        } = self;
        last_error.scrub(s)
    }
}

impl Scrub for FallbackHop {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let FallbackHop {
            hop: _,
            from,
            to,
            caught,
            why,
        } = self;
        from.scrub(s) | to.scrub(s) | caught.scrub(s) | why.scrub(s)
    }
}

impl Scrub for AttemptSucceeded {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let AttemptSucceeded {
            hop: _,
            attempt: _,
            content,
            usage: _,
            latency_ms: _,
            tool_calls,
            response,
            cost_usd: _,
            cost_estimated: _,
        } = self;
        let hit = content.scrub(s) | tool_calls.scrub(s);
        let body_hit = response.scrub(s);
        withhold(response, hit);
        hit | body_hit
    }
}

impl Scrub for RunFinished {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let RunFinished {
            outcome: _,
            content,
            error,
            caught,
            total_cost_usd: _,
            total_cost_estimated: _,
            degraded: _,
        } = self;
        content.scrub(s) | error.scrub(s) | caught.scrub(s)
    }
}

impl Scrub for LimitReached {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let LimitReached {
            limit,
            value: _,
            spent: _,
            hop: _,
            attempt: _,
            on_exhausted,
            why,
        } = self;
        limit.scrub(s) | on_exhausted.scrub(s) | why.scrub(s)
    }
}

impl Scrub for ResultRejected {
    fn scrub(&mut self, s: &Secrets) -> bool {
        let ResultRejected {
            hop: _,
            attempt: _,
            result,
            why,
        } = self;
        result.scrub(s) | why.scrub(s)
    }
}

#[cfg(any(test, feature = "test-util"))]
/// [`redact_event`] on a stamped event.
pub fn redact_timed(ev: &mut crate::event::TimedEvent, s: &Secrets) {
    redact_event(&mut ev.event, s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{CallError, ErrorKind};
    use crate::event::{HttpExchange, Target, TimedEvent, ToolCallRecord};
    use crate::provider::redact::WITHHELD;
    use crate::provider::redact::tests::{KEY, secrets};

    #[test]
    fn every_event_is_scrubbed_everywhere() {
        let s = secrets();
        let err = || {
            let mut e = CallError::new(ErrorKind::Auth, format!("bad {KEY}"));
            e.hint = Some(KEY.into());
            e.provider_type = Some(KEY.into());
            e.request_id = Some(KEY.into());
            e.last_error = Some(Box::new(CallError::new(ErrorKind::Auth, KEY)));
            e.errors = vec![CallError::new(ErrorKind::Auth, KEY)];
            e
        };
        let x = || HttpExchange {
            url: format!("http://h/?k={KEY}"),
            status: Some(200),
            headers: vec![(KEY.into(), KEY.into())],
            body: format!("{{\"a\":\"{KEY}\"}}"),
        };
        let k = || KEY.to_string();
        let events = vec![
            Event::RunStarted(RunStarted {
                scenario: k(),
                mode: crate::event::Mode::Live,
                speed: k(),
            }),
            Event::AttemptStarted(AttemptStarted {
                hop: 0,
                attempt: 1,
                provider: k(),
                model: k(),
                request: serde_json::json!({ KEY: [KEY, {"m": KEY}] }),
                prompt: Some(k()),
                url: String::new(),
                headers: vec![],
                deadline_clip: None,
            }),
            Event::Delta(Delta {
                hop: 0,
                attempt: 1,
                text: k(),
            }),
            Event::ToolCall(ToolCall {
                hop: 0,
                attempt: 1,
                name: k(),
                args: k(),
                result: k(),
            }),
            Event::AttemptFailed(AttemptFailed {
                hop: 0,
                attempt: 1,
                error: err(),
                partial_output: k(),
                will_retry: true,
                latency_ms: 1,
                why: k(),
                fallback_why: String::new(),
                response: Some(x()),
                cost_usd: None,
                cost_estimated: false,
            }),
            Event::ErrorReinserted(ErrorReinserted {
                hop: 0,
                attempt: 1,
                errors: vec![k()],
            }),
            Event::WaitStarted(WaitStarted {
                hop: 0,
                attempt: 1,
                delay_ms: 1,
                strategy: k(),
                retry_after_ms: None,
                computed_ms: 1,
                source: crate::event::WaitSource::RetryAfter,
                clipped_from_ms: None,
                retry_after_jitter_ms: Some(1),
            }),
            Event::StreamResumed(StreamResumed {
                hop: 0,
                attempt: 2,
                replayed_chars: 1,
                text: k(),
            }),
            Event::RetryExhausted(RetryExhausted {
                hop: 0,
                attempts: 1,
                last_error: err(),
            }),
            Event::FallbackHop(FallbackHop {
                hop: 1,
                from: Target {
                    provider: k(),
                    model: k(),
                },
                to: Target {
                    provider: k(),
                    model: k(),
                },
                caught: err(),
                why: String::new(),
            }),
            Event::AttemptSucceeded(AttemptSucceeded {
                hop: 0,
                attempt: 1,
                content: k(),
                usage: Default::default(),
                latency_ms: 1,
                tool_calls: vec![ToolCallRecord {
                    id: k(),
                    name: k(),
                    args: k(),
                }],
                response: Some(x()),
                cost_usd: None,
                cost_estimated: false,
            }),
            Event::RunFinished(RunFinished {
                outcome: crate::event::Outcome::Error,
                content: Some(k()),
                error: Some(err()),
                caught: vec![err()],
                total_cost_usd: None,
                total_cost_estimated: false,
                degraded: false,
            }),
        ];
        for mut ev in events {
            redact_event(&mut ev, &s);
            let line = TimedEvent { t_ms: 0, event: ev }.to_json_line();
            assert!(!line.contains("SENTINEL"), "{line}");
            assert!(line.contains("[redacted]"), "{line}");
        }
    }

    #[test]
    fn an_assembled_key_withholds_the_raw_body() {
        let s = secrets();
        // The body holds the key in frame-sized pieces no scrub can recognise.
        let body: String = KEY
            .as_bytes()
            .chunks(4)
            .map(|c| {
                format!(
                    "data: {{\"a\":\"{}\"}}\n\n",
                    std::str::from_utf8(c).unwrap()
                )
            })
            .collect();
        let mut ev = Event::AttemptSucceeded(AttemptSucceeded {
            hop: 0,
            attempt: 1,
            content: String::new(),
            usage: Default::default(),
            latency_ms: 1,
            tool_calls: vec![ToolCallRecord {
                id: "call_1".into(),
                name: "lookup".into(),
                args: format!("{{\"q\":\"{KEY}\"}}"),
            }],
            response: Some(HttpExchange {
                body,
                ..HttpExchange::default()
            }),
            cost_usd: None,
            cost_estimated: false,
        });
        redact_event(&mut ev, &s);
        let Event::AttemptSucceeded(AttemptSucceeded {
            response: Some(x),
            tool_calls,
            ..
        }) = &ev
        else {
            panic!()
        };
        assert_eq!(x.body, WITHHELD);
        assert_eq!(tool_calls[0].args, "{\"q\":\"[redacted]\"}");
    }
}
