//! One hop (the primary call or a fallback hop): attempts until one succeeds or the policy
//! ends the hop, each failure decided by the policy, each retry's wait on the run's clock
//! (cut short by a skip or a cancel). Every step is emitted as an event.

mod across;

use super::attempt::{Failure, attempt_once, build_request, ms};
use super::control::RunControl;
use super::limits;
use super::prepare::{Prepared, processed};
use super::results;
use super::resume::{Resume, broke_mid_stream, continue_why, surface_why};
use super::run::Emitter;
use super::shared::SharedState;
use crate::cost;
use crate::error::CallError;
use crate::event::{
    AttemptFailed, AttemptStarted, AttemptSucceeded, ErrorReinserted, Event, RetryExhausted,
    StreamResumed, WaitEnd, WaitFinished, WaitSource, WaitStarted,
};
use crate::policy::fallback::{FallbackDecision, decide_after_hop};
use crate::policy::on_result;
use crate::policy::retry_after::{Failed, Verdict, judge, over_max_fallback};
use crate::policy::retry_on::{Decision, RetryPolicy, WaitDecision};
use crate::policy::{ReinsertKeep, ReinsertMode, RetryExtras, Secs, StreamRecovery};
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
    /// `stream_recovery = "surface"`: the call ends at once with the partial output and
    /// the error (no retry, no fallback).
    Surfaced {
        error: CallError,
        partial: String,
    },
    Cancelled,
    /// A `[limits]` limit was reached (`limit_reached` emitted): the run ends.
    Limit(super::limits::Exhausted),
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
    /// From the policy's verdict on `error` (none without a `[retry]` table); `fallback`
    /// decides what follows the hop's end (`true`: caught whatever `catch` lists, as
    /// `retry_after_over_max = "fallback"` asks).
    fn from(
        verdict: Option<Verdict>,
        attempt: u32,
        error: &CallError,
        fallback: impl Fn(&CallError, bool) -> FallbackDecision,
    ) -> Follows {
        let (error, exhausted, forced) = match verdict {
            Some(Verdict::Policy(Decision::Retry { wait, reinsert, .. })) => {
                return Follows::Retry { wait, reinsert };
            }
            Some(Verdict::Policy(Decision::Stop { .. })) => {
                (CallError::retry_error(attempt, error.clone()), true, false)
            }
            Some(Verdict::OverMax { fallback, .. }) => (error.clone(), false, fallback),
            None | Some(Verdict::Policy(Decision::Reraise { .. })) => (error.clone(), false, false),
        };
        Follows::End {
            fallback: fallback(&error, forced),
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
    /// The breakers and budget shared across calls.
    shared: &'a SharedState,
    policy: Option<&'a RetryPolicy>,
    /// The `[retry]` keys beyond Tenacity (defaults without a table).
    extras: RetryExtras,
    rng: ChaCha8Rng,
    carried: Carried,
    /// The last wait, which a decorrelated jitter grows from.
    previous_wait: Option<f64>,
    resume: Resume,
    start: Duration,
}

/// Runs hop `hop` to its end.
pub(super) async fn run_hop(
    s: &Scenario,
    prep: &Prepared,
    hop: u32,
    em: &Emitter,
    control: &RunControl,
    shared: &SharedState,
) -> HopEnd {
    let policy = prep.policies[hop as usize].as_ref();
    let mut h = Hop {
        s,
        prep,
        hop,
        em,
        control,
        shared,
        policy,
        extras: prep.extras[hop as usize],
        rng: ChaCha8Rng::seed_from_u64(policy.map_or(0, |p| p.seed)),
        carried: Carried::default(),
        previous_wait: None,
        resume: Resume::default(),
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
        h.previous_wait = Some(wait.delay);
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
        // `[limits]`: nothing more is sent once one is reached (the deadline, after a wait).
        if let Some(hit) = prep.call_limits.hit(em.clock.now(), spent_usd(prep)) {
            return Next::End(HopEnd::Limit(prep.call_limits.reached(em, hit)));
        }
        // An open breaker refuses the attempt before anything is built or sent.
        let ticket = match self.admit(attempt) {
            Ok(ticket) => ticket,
            Err(refused) => return refused,
        };
        // A template that fails to render (say, once errors were reinserted) fails this
        // attempt, as it would inside Mirascope's retried call.
        let template_errors = self
            .carried
            .template_errors(self.policy.map(|p| p.reinsert_mode));
        let mut built = build_request(self.s, prep, idx, template_errors, &self.carried.reask);
        let replayed = match &mut built {
            Ok((request, _)) if self.extras.stream_recovery == StreamRecovery::Continue => {
                self.resume.apply(prep.endpoints[idx].kind, request)
            }
            _ => String::new(),
        };
        self.announce(attempt, &built);
        if !replayed.is_empty() {
            em.emit(Event::StreamResumed(StreamResumed {
                hop: self.hop,
                attempt,
                replayed_chars: replayed.chars().count() as u64,
                text: replayed.clone(),
            }));
        }
        let started = em.clock.now();
        let result = match &built {
            Ok((request, _)) => tokio::select! {
                biased;
                () = self.control.cancel_token().cancelled() => return Next::End(HopEnd::Cancelled),
                r = attempt_once(prep, &prep.endpoints[idx], request, (self.hop, attempt), &replayed, em) => r,
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
        let failed = result.as_ref().err().map(|f| f.error.kind);
        let next = match result {
            Ok((content, resp)) => self.succeeded(attempt, request, content, resp, latency_ms),
            Err(f) => {
                let failure = prep.polish(idx, f, &em.secrets);
                self.failed(attempt, request, failure, latency_ms)
            }
        };
        self.settle(ticket, attempt, built.is_ok(), failed);
        next
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
            headers: request.map_or_else(Vec::new, |r| {
                super::sdk_layer::first_headers(
                    self.prep,
                    self.idx(),
                    Client::shown_headers(endpoint, r),
                )
            }),
            deadline_clip: request.and_then(|_| {
                let now = self.em.clock.now();
                self.prep
                    .call_limits
                    .attempt_timeouts(self.prep.timeouts, now)
                    .1
            }),
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
        // A hedge leg to the next hop is priced at its model.
        let model = &prep.targets[prep.hedge.priced(self.idx())].model;
        let cost = request
            .and_then(|request| cost::succeeded(&prep.prices, model, request, resp.usage, &reply));
        prep.add_cost(cost);
        let tokens = limits::attempt_tokens(request, Some(resp.usage), &reply, true);
        prep.call_limits
            .attempt_ended((self.hop, attempt), tokens, "", None);
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
        let priced = prep.hedge.priced(self.idx());
        let cost = request.and_then(|request| prep.failed_cost(priced, request, &failure));
        prep.add_cost(cost);
        let tokens = limits::attempt_tokens(
            request,
            failure.usage,
            &failure.partial_output,
            processed(&failure),
        );
        prep.call_limits.attempt_ended(
            (hop, attempt),
            tokens,
            &failure.partial_output,
            Some(&failure.error),
        );
        let broke = broke_mid_stream(request, &failure);
        // A stream a `[limits]` limit cut ends as the limit says (`on_exhausted`), not surfaced.
        let cut_by_limit =
            limits::stops(prep, em.clock.now(), spent_usd(prep), &failure.error, false).is_some();
        if broke && !cut_by_limit && self.extras.stream_recovery == StreamRecovery::Surface {
            return self.surface(attempt, failure, latency_ms, cost);
        }
        // `[fallback].on_result`: a rejected reply is never retried on the same model.
        let rejected = results::rejected(prep, &failure.error);
        let (mut why, mut will_retry, mut follows) = match rejected {
            Some(r) => (
                on_result::why_not_retried(r, &prep.on_result),
                false,
                Follows::End {
                    error: failure.error.clone(),
                    exhausted: false,
                    fallback: on_result::decide_after_rejection(
                        prep.fallback.as_ref(),
                        hop,
                        r,
                        &prep.on_result,
                    ),
                },
            ),
            None => {
                let verdict = self.policy.map(|policy| {
                    let failed = Failed {
                        attempt,
                        elapsed: em.clock.now().saturating_sub(self.start).as_secs_f64(),
                        previous_wait: self.previous_wait,
                    };
                    judge(policy, &self.extras, failed, &failure.error, &mut self.rng)
                });
                let mut why = verdict
                    .as_ref()
                    .map_or(WHY_NO_RETRY_TABLE, Verdict::why)
                    .to_string();
                let will_retry = matches!(verdict, Some(Verdict::Policy(Decision::Retry { .. })));
                if self.extras.stream_recovery == StreamRecovery::Continue {
                    self.resume.after(broke, &failure);
                    if broke && will_retry {
                        why.push_str(&continue_why(&failure.partial_output));
                    }
                }
                let follows = Follows::from(verdict, attempt, &failure.error, |e, forced| {
                    if forced {
                        over_max_fallback(prep.fallback.as_ref(), hop, e)
                    } else {
                        decide_after_hop(prep.fallback.as_ref(), hop, e)
                    }
                });
                (why, will_retry, follows)
            }
        };
        // `[limits]`: a limit reached stops whatever would follow (a retry, the next hop).
        let goes_on = matches!(
            follows,
            Follows::Retry { .. }
                | Follows::End {
                    fallback: FallbackDecision::NextHop { .. },
                    ..
                }
        );
        let limit = limits::stops(
            prep,
            em.clock.now(),
            spent_usd(prep),
            &failure.error,
            goes_on,
        );
        // A retry the policy chose still needs the budget's leave ([budget]); none is asked
        // for a retry a limit already stopped.
        let spent = (will_retry && limit.is_none())
            .then(|| self.spend())
            .flatten();
        if let Some(crate::policy::budget::Withdrawal::Denied { tokens }) = spent {
            (why, follows) = self.denied(attempt, tokens, &why, &failure.error);
            will_retry = false;
        }
        // Without a [fallback] there is nothing to say beyond `why`.
        let mut fallback_why = match (&follows, &prep.fallback) {
            (Follows::End { fallback, .. }, Some(_)) => fallback.why().to_string(),
            _ => String::new(),
        };
        if let Some(hit) = &limit {
            why = format!("{}: nothing more is sent", hit.words());
            will_retry = false;
            fallback_why = String::new();
        }
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
        self.spent(attempt, spent);
        if let Some(r) = rejected {
            let why = match &follows {
                Follows::End { fallback, .. } if limit.is_none() => fallback.why().to_string(),
                _ => on_result::why_not_retried(r, &prep.on_result),
            };
            results::emit_rejected(em, hop, attempt, r, why);
        }
        if let Some(hit) = limit {
            return Next::End(HopEnd::Limit(prep.call_limits.reached(em, hit)));
        }
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
    /// `stream_recovery = "surface"` after a broken stream: `attempt_failed` saying so, and
    /// the call ends with the partial output and the error.
    fn surface(
        &self,
        attempt: u32,
        failure: Failure,
        latency_ms: u64,
        cost: Option<cost::Cost>,
    ) -> Next {
        self.em.emit(Event::AttemptFailed(AttemptFailed {
            hop: self.hop,
            attempt,
            error: failure.error.clone(),
            partial_output: failure.partial_output.clone(),
            will_retry: false,
            latency_ms,
            why: surface_why(&failure.error, &failure.partial_output),
            fallback_why: String::new(),
            response: failure.response,
            cost_usd: cost.map(|c| c.usd),
            cost_estimated: cost.is_some_and(|c| c.estimated),
        }));
        Next::End(HopEnd::Surfaced {
            error: failure.error,
            partial: failure.partial_output,
        })
    }

    /// Carries the failed attempt's text into the next one and says so.
    fn reinsert(&mut self, attempt: u32, error: &CallError, partial_output: &str) {
        let Some(policy) = self.policy else { return };
        if self.extras.reinsert_keep == ReinsertKeep::Last {
            self.carried = Carried::default();
        }
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
        // `[limits].deadline`: a wait ends at it at the latest.
        let (delay, clipped_from_ms) = self
            .prep
            .call_limits
            .clip_wait(Secs(wait.delay).as_duration(), from);
        let mut started = wait_started(hop, attempt, policy, wait);
        if clipped_from_ms.is_some() {
            started.delay_ms = limits::round_ms(delay);
            started.clipped_from_ms = clipped_from_ms;
        }
        em.emit(Event::WaitStarted(started));
        let sleep = em.clock.sleep(delay);
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

/// Dollars spent so far (0 when no attempt had a price).
fn spent_usd(prep: &Prepared) -> f64 {
    prep.total().usd().unwrap_or(0.0)
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
        retry_after_jitter_ms: (wait.jitter > 0.0).then(|| Secs(wait.jitter).as_ms()),
        source: match wait.source {
            From::Backoff => WaitSource::Backoff,
            From::RetryAfter => WaitSource::RetryAfter,
            From::RetryInfo => WaitSource::RetryInfo,
        },
        clipped_from_ms: None,
    }
}
