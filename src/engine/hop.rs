//! One hop (the primary call or a fallback hop): attempts until one succeeds or the policy
//! ends the hop, each failure decided by the policy, each retry's wait on the run's clock
//! (cut short by a skip or a cancel). Every step is emitted as an event.

use super::attempt::{Failure, attempt_once, build_request, ms};
use super::control::RunControl;
use super::prepare::Prepared;
use super::run::Emitter;
use crate::cost;
use crate::error::CallError;
use crate::event::{
    AttemptFailed, AttemptStarted, AttemptSucceeded, ErrorReinserted, Event, RetryExhausted,
    WaitEnd, WaitFinished, WaitSource, WaitStarted,
};
use crate::policy::fallback::{FallbackDecision, decide_after_hop};
use crate::policy::retry_on::{Decision, RetryPolicy, WaitDecision, decide};
use crate::policy::{ReinsertMode, Secs};
use crate::provider::{ChatRequest, Client, Message};
use crate::scenario::types::Scenario;
use crate::words::WHY_NO_RETRY_TABLE;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

/// A hop's end.
pub(super) enum HopEnd {
    Ok(String),
    /// The hop's error, and what the fallback makes of it.
    Failed {
        error: CallError,
        fallback: FallbackDecision,
    },
    Cancelled,
}

/// What follows a failed attempt.
enum Next {
    End(HopEnd),
    /// Wait, then the next attempt.
    Retry(WaitDecision),
}

/// What a failed attempt leads to.
enum Follows {
    Retry {
        wait: WaitDecision,
        reinsert: bool,
    },
    /// The hop ends with `error` (`exhausted`: the stop fired and wrapped it in
    /// retry_error); `fallback` is what the fallback makes of it.
    End {
        error: CallError,
        exhausted: bool,
        fallback: FallbackDecision,
    },
}

impl Follows {
    /// From the policy's decision on `error` (none without a `[retry]` table); `fallback`
    /// decides what follows the hop's end.
    fn from(
        decision: Option<Decision>,
        attempt: u32,
        error: &CallError,
        fallback: impl Fn(&CallError) -> FallbackDecision,
    ) -> Follows {
        let (error, exhausted) = match decision {
            Some(Decision::Retry { wait, reinsert, .. }) => {
                return Follows::Retry { wait, reinsert };
            }
            Some(Decision::Stop { .. }) => (CallError::retry_error(attempt, error.clone()), true),
            None | Some(Decision::Reraise { .. }) => (error.clone(), false),
        };
        Follows::End {
            fallback: fallback(&error),
            error,
            exhausted,
        }
    }
}

/// A hop in progress: what every attempt of it shares.
struct Hop<'a> {
    s: &'a Scenario,
    prep: &'a Prepared,
    hop: u32,
    em: &'a Emitter,
    control: &'a RunControl,
    policy: Option<&'a RetryPolicy>,
    rng: ChaCha8Rng,
    carried: Carried,
    start: Duration,
}

/// Runs hop `hop` to its end.
pub(super) async fn run_hop(
    s: &Scenario,
    prep: &Prepared,
    hop: u32,
    em: &Emitter,
    control: &RunControl,
) -> HopEnd {
    let policy = prep.policies[hop as usize].as_ref();
    let mut h = Hop {
        s,
        prep,
        hop,
        em,
        control,
        policy,
        rng: ChaCha8Rng::seed_from_u64(policy.map_or(0, |p| p.seed)),
        carried: Carried::default(),
        start: em.clock.now(),
    };
    let mut attempt: u32 = 1;
    loop {
        let wait = match h.attempt(attempt).await {
            Next::End(end) => return end,
            Next::Retry(wait) => wait,
        };
        if h.wait(attempt, &wait).await == WaitEnd::Cancelled {
            return HopEnd::Cancelled;
        }
        attempt = attempt.saturating_add(1);
        // An attempt that does no I/O (a prompt that does not render) and a zero wait never
        // yield: give the task's other futures (a consumer, a cancel) their turn, on any
        // executor (tokio's cooperative budget does nothing on the lab's).
        yield_now().await;
    }
}

/// Returns `Pending` once (waking itself at once), then `Ready`.
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return std::task::Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await;
}

impl Hop<'_> {
    fn idx(&self) -> usize {
        self.hop as usize
    }

    /// One attempt: announce it, send it (unless cancelled), then what its result means.
    async fn attempt(&mut self, attempt: u32) -> Next {
        let (prep, em, idx) = (self.prep, self.em, self.idx());
        // A template that fails to render (say, once errors were reinserted) fails this
        // attempt, as it would inside Mirascope's retried call.
        let template_errors = self
            .carried
            .template_errors(self.policy.map(|p| p.reinsert_mode));
        let built = build_request(self.s, prep, idx, template_errors, &self.carried.reask);
        self.announce(attempt, &built);
        let started = em.clock.now();
        let result = match &built {
            Ok((request, _)) => tokio::select! {
                biased;
                () = self.control.cancel_token().cancelled() => return Next::End(HopEnd::Cancelled),
                r = attempt_once(prep, &prep.endpoints[idx], request, self.hop, attempt, em) => r,
            },
            Err(error) => Err(Failure {
                error: error.clone(),
                partial_output: String::new(),
                response: None,
                usage: None,
            }),
        };
        let latency_ms = ms(em.clock.now().saturating_sub(started));
        let request = built.as_ref().ok().map(|(r, _)| r);
        match result {
            Ok((content, resp)) => self.succeeded(attempt, request, content, resp, latency_ms),
            Err(f) => {
                let failure = prep.polish(idx, f, &em.secrets);
                self.failed(attempt, request, failure, latency_ms)
            }
        }
    }

    /// `attempt_started`: the exact body sent (or `null` when the prompt failed to render).
    fn announce(&self, attempt: u32, built: &Result<(ChatRequest, String), CallError>) {
        let target = &self.prep.targets[self.idx()];
        let endpoint = &self.prep.endpoints[self.idx()];
        let request = built.as_ref().ok().map(|(r, _)| r);
        self.em.emit(Event::AttemptStarted(AttemptStarted {
            hop: self.hop,
            attempt,
            provider: target.provider.as_str().into(),
            model: target.model.clone(),
            request: request.map_or(serde_json::Value::Null, |r| Client::body(endpoint.kind, r)),
            prompt: built.as_ref().ok().map(|(_, prompt)| prompt.clone()),
            url: request.map_or_else(String::new, |r| Client::url(endpoint, r)),
            headers: request.map_or_else(Vec::new, |r| Client::shown_headers(endpoint, r)),
        }));
    }

    /// `attempt_succeeded`, priced: the hop ends with the content.
    fn succeeded(
        &self,
        attempt: u32,
        request: Option<&ChatRequest>,
        content: String,
        resp: crate::provider::ChatResponse,
        latency_ms: u64,
    ) -> Next {
        let prep = self.prep;
        let mut reply = resp.content.clone();
        for c in &resp.tool_calls {
            reply.push_str(&c.args);
        }
        let model = &prep.targets[self.idx()].model;
        let cost = request
            .and_then(|request| cost::succeeded(&prep.prices, model, request, resp.usage, &reply));
        prep.add_cost(cost);
        self.em.emit(Event::AttemptSucceeded(AttemptSucceeded {
            hop: self.hop,
            attempt,
            content: content.clone(),
            usage: resp.usage,
            latency_ms,
            tool_calls: resp.tool_calls,
            response: Some(resp.exchange),
            cost_usd: cost.map(|c| c.usd),
            cost_estimated: cost.is_some_and(|c| c.estimated),
        }));
        Next::End(HopEnd::Ok(content))
    }

    /// `attempt_failed`, priced, with what the policy decided and why; a stop also emits
    /// `retry_exhausted`.
    fn failed(
        &mut self,
        attempt: u32,
        request: Option<&ChatRequest>,
        failure: Failure,
        latency_ms: u64,
    ) -> Next {
        let (prep, em, hop) = (self.prep, self.em, self.hop);
        let cost = request.and_then(|request| prep.failed_cost(self.idx(), request, &failure));
        prep.add_cost(cost);
        let decision = self.policy.map(|policy| {
            let elapsed = em.clock.now().saturating_sub(self.start).as_secs_f64();
            decide(policy, attempt, elapsed, &failure.error, &mut self.rng)
        });
        let why = decision
            .as_ref()
            .map_or(WHY_NO_RETRY_TABLE, Decision::why)
            .to_string();
        let will_retry = matches!(decision, Some(Decision::Retry { .. }));
        let follows = Follows::from(decision, attempt, &failure.error, |e| {
            decide_after_hop(prep.fallback.as_ref(), hop, e)
        });
        // Without a [fallback] there is nothing to say beyond `why`.
        let fallback_why = match (&follows, &prep.fallback) {
            (Follows::End { fallback, .. }, Some(_)) => fallback.why().to_string(),
            _ => String::new(),
        };
        em.emit(Event::AttemptFailed(AttemptFailed {
            hop,
            attempt,
            error: failure.error.clone(),
            partial_output: failure.partial_output.clone(),
            will_retry,
            latency_ms,
            why,
            fallback_why,
            response: failure.response,
            cost_usd: cost.map(|c| c.usd),
            cost_estimated: cost.is_some_and(|c| c.estimated),
        }));
        match follows {
            Follows::Retry { wait, reinsert } => {
                if reinsert {
                    self.reinsert(attempt, &failure.error, &failure.partial_output);
                }
                Next::Retry(wait)
            }
            Follows::End {
                error,
                exhausted,
                fallback,
            } => {
                if exhausted {
                    em.emit(Event::RetryExhausted(RetryExhausted {
                        hop,
                        attempts: attempt,
                        last_error: failure.error,
                    }));
                }
                Next::End(HopEnd::Failed { error, fallback })
            }
        }
    }
}

impl Hop<'_> {
    /// Carries the failed attempt's text into the next one and says so.
    fn reinsert(&mut self, attempt: u32, error: &CallError, partial_output: &str) {
        let Some(policy) = self.policy else { return };
        self.carried
            .add(policy.reinsert_mode, error, partial_output);
        self.em.emit(Event::ErrorReinserted(ErrorReinserted {
            hop: self.hop,
            attempt: attempt + 1,
            errors: self.carried.errors.clone(),
        }));
    }

    /// The wait after `attempt` failed, on the run's clock, until its end, a skip or a
    /// cancel: `wait_started`, then `wait_finished` saying how it ended and, when cut short,
    /// how long it lasted.
    async fn wait(&self, attempt: u32, wait: &WaitDecision) -> WaitEnd {
        let (em, hop) = (self.em, self.hop);
        let Some(policy) = self.policy else {
            return WaitEnd::Elapsed;
        };
        // Listening before the wait is announced: a skip sent on seeing it is never missed.
        let skipped = self.control.skipped();
        tokio::pin!(skipped);
        skipped.as_mut().enable();
        let from = em.clock.now();
        em.emit(Event::WaitStarted(wait_started(hop, attempt, policy, wait)));
        let sleep = em.clock.sleep(Secs(wait.delay).as_duration());
        tokio::pin!(sleep);
        let ended = loop {
            tokio::select! {
                biased;
                () = self.control.cancel_token().cancelled() => break WaitEnd::Cancelled,
                () = &mut skipped => {
                    if self.control.skip_is_for(hop, attempt) {
                        break WaitEnd::Skipped;
                    }
                    // A skip meant for an earlier wait (pressed late): listen again.
                    skipped.set(self.control.skipped());
                    skipped.as_mut().enable();
                }
                () = &mut sleep => break WaitEnd::Elapsed,
            }
        };
        // The sleep is dropped by now: the clock keeps the time it reached.
        let waited = ms(em.clock.now().saturating_sub(from));
        em.emit(Event::WaitFinished(match ended {
            WaitEnd::Elapsed => WaitFinished::elapsed(hop, attempt),
            cut => WaitFinished::cut(hop, attempt, cut, waited),
        }));
        ended
    }
}

/// What a hop's failed attempts carry into the next ones (error reinsertion).
#[derive(Default)]
struct Carried {
    /// Mirascope's `errors`: texts collected from failed attempts (template mode)...
    errors: Vec<String>,
    /// ...or, in reask mode, the conversation that follows the first prompt.
    reask: Vec<Message>,
}

impl Carried {
    /// The `errors` the template renders with: none in reask mode, which keeps the prompt as
    /// written (the correction is in the conversation).
    fn template_errors(&self, mode: Option<ReinsertMode>) -> &[String] {
        match mode {
            Some(ReinsertMode::Reask) => &[],
            _ => &self.errors,
        }
    }

    /// Carries a failed attempt on: its error's text as shown, fix hint included (as when
    /// the hint was glued into the message).
    fn add(&mut self, mode: ReinsertMode, error: &CallError, partial_output: &str) {
        let text = error.shown_message().into_owned();
        if mode == ReinsertMode::Reask {
            self.reask
                .push(Message::assistant(partial_output.to_string()));
            self.reask.push(Message::user(format!(
                "Your previous answer failed validation: {text}\nPlease answer again, fixing that."
            )));
        }
        self.errors.push(text);
    }
}

/// The `wait_started` of a retry's wait.
fn wait_started(hop: u32, attempt: u32, policy: &RetryPolicy, wait: &WaitDecision) -> WaitStarted {
    use crate::policy::retry_on::WaitSource as From;
    WaitStarted {
        hop,
        attempt,
        delay_ms: Secs(wait.delay).as_ms(),
        strategy: policy.strategy(),
        retry_after_ms: wait.retry_after.map(|r| Secs(r).as_ms()),
        computed_ms: Secs(wait.computed).as_ms(),
        source: match wait.source {
            From::Backoff => WaitSource::Backoff,
            From::RetryAfter => WaitSource::RetryAfter,
            From::RetryInfo => WaitSource::RetryInfo,
        },
    }
}
