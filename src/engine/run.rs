//! The engine loop: for each hop (primary, then fallbacks) run attempts, ask the policy what
//! follows each failure, wait on the run's clock, and emit every step as an event.
//! It knows nothing of who listens.

use super::attempt::{Failure, attempt_once, build_request, ms};
pub use super::endpoints::{check_live_keys, check_live_keys_with, hop_labels};
use super::endpoints::{hop_targets, live_secrets};
use super::prepare::{Prepared, prepare};
pub use super::sink::{EventSink, EventStream, event_channel};
use crate::clock::{Clock, Speed};
use crate::config::Config;
use crate::cost;
use crate::error::{CallError, ErrorKind};
use crate::event::{
    AttemptFailed, AttemptStarted, AttemptSucceeded, ErrorReinserted, Event, FallbackHop, Mode,
    Outcome, RetryExhausted, RunFinished, RunStarted, TimedEvent, WaitFinished, WaitSource,
    WaitStarted,
};
use crate::policy::fallback::{FallbackDecision, decide_after_hop};
use crate::policy::retry_on::{Decision, RetryPolicy, WaitDecision, decide};
use crate::policy::{ReinsertMode, Secs};
use crate::provider::redact::{Scrub, Secrets, redact_event};
use crate::provider::{Client, Message};
use crate::scenario::types::Scenario;
use crate::words::WHY_NO_RETRY_TABLE;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub mode: Mode,
    pub speed: Speed,
    /// Keys and prices: the engine reads no config of its own (the caller loads it once;
    /// tests pass `Config::isolated()`).
    pub config: Arc<Config>,
}

/// How a run ended (the same facts as its `run_finished` event).
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub outcome: Outcome,
    pub content: Option<String>,
    pub error: Option<CallError>,
    pub caught: Vec<CallError>,
}

/// The default whole-attempt timeout when `[call].timeout` is not set.
pub const DEFAULT_TIMEOUT: Secs = Secs(60.0);

/// Stamps events with the run's clock, scrubs every key out of them, and sends them: the
/// one place events leave the engine. Send errors (nobody listening) are ignored: the run
/// goes on.
#[derive(Clone)]
pub(super) struct Emitter {
    sink: EventSink,
    pub(super) clock: Clock,
    pub(super) secrets: Arc<Secrets>,
}

impl Emitter {
    pub(super) fn emit(&self, mut event: Event) {
        redact_event(&mut event, &self.secrets);
        let _ = self.sink.send(TimedEvent {
            t_ms: self.clock.now_ms(),
            event,
        });
    }
}

/// A hop's end.
enum HopEnd {
    Ok(String),
    Failed(CallError),
    Cancelled,
}

/// Runs the scenario to its end, or until `cancel`; every step goes to `sink`, ending with
/// `run_finished`. In sim mode the simulator is started in-process on loopback.
pub async fn run(
    scenario: Arc<Scenario>,
    opts: RunOptions,
    sink: EventSink,
    cancel: CancellationToken,
) -> RunSummary {
    let clock = match opts.mode {
        Mode::Sim => Clock::virtual_time(opts.speed),
        // Live waits are real: the server asked for them (Retry-After), so no speed
        // compresses them; `opts.speed` applies to sim mode only. (Tests that must skip live
        // waits pass `Clock::real(Speed::Max)` to `run_with_clock`.)
        Mode::Live => Clock::real(Speed::Times(1.0)),
    };
    run_with_clock(scenario, opts.mode, opts.config, clock, sink, cancel).await
}

/// As [`run`], on a given clock (benches and tests share one).
pub async fn run_with_clock(
    scenario: Arc<Scenario>,
    mode: Mode,
    cfg: Arc<Config>,
    clock: Clock,
    sink: EventSink,
    cancel: CancellationToken,
) -> RunSummary {
    // The keys to scrub are known before the first event.
    let secrets = match mode {
        Mode::Live => Secrets::new(live_secrets(&hop_targets(&scenario), &cfg)),
        Mode::Sim => Secrets::default(),
    };
    let em = Emitter {
        sink,
        clock: clock.clone(),
        secrets: Arc::new(secrets),
    };
    em.emit(Event::RunStarted(RunStarted {
        scenario: scenario.name.clone(),
        mode,
        speed: clock.speed().label(),
    }));
    let (mut summary, total) = match prepare(&scenario, mode, &clock, &cfg).await {
        Ok(prep) => {
            let summary = run_hops(&scenario, &prep, &em, &cancel).await;
            (summary, prep.total())
        }
        Err(error) => (
            RunSummary {
                outcome: Outcome::Error,
                content: None,
                error: Some(error),
                caught: Vec::new(),
            },
            cost::Total::default(),
        ),
    };
    // Callers may show the summary too.
    summary.content.scrub(&em.secrets);
    summary.error.scrub(&em.secrets);
    summary.caught.scrub(&em.secrets);
    em.emit(Event::RunFinished(RunFinished {
        outcome: summary.outcome,
        content: summary.content.clone(),
        error: summary.error.clone(),
        caught: summary.caught.clone(),
        total_cost_usd: total.usd(),
        total_cost_estimated: total.estimated(),
    }));
    summary
}

pub(super) fn setup_error(message: String) -> CallError {
    CallError::new(ErrorKind::BadRequest, message)
}

async fn run_hops(
    s: &Scenario,
    prep: &Prepared,
    em: &Emitter,
    cancel: &CancellationToken,
) -> RunSummary {
    let mut caught: Vec<CallError> = Vec::new();
    let mut hop: u32 = 0;
    loop {
        let end = run_hop(s, prep, hop, em, cancel).await;
        let error = match end {
            HopEnd::Ok(content) => {
                return RunSummary {
                    outcome: Outcome::Ok,
                    content: Some(content),
                    error: None,
                    caught,
                };
            }
            HopEnd::Cancelled => {
                return RunSummary {
                    outcome: Outcome::Cancelled,
                    content: None,
                    error: None,
                    caught,
                };
            }
            HopEnd::Failed(e) => e,
        };
        match decide_after_hop(prep.fallback.as_ref(), hop, &error) {
            FallbackDecision::NextHop { hop: next, .. } => {
                caught.push(error.clone());
                let from = prep.targets[hop as usize].target();
                let to = prep.targets[next as usize].target();
                em.emit(Event::FallbackHop(FallbackHop {
                    hop: next,
                    from,
                    to,
                    caught: error,
                }));
                hop = next;
            }
            FallbackDecision::EndWith { .. } => {
                return RunSummary {
                    outcome: Outcome::Error,
                    content: None,
                    error: Some(error),
                    caught,
                };
            }
            FallbackDecision::FallbackError { .. } => {
                caught.push(error);
                return RunSummary {
                    outcome: Outcome::Error,
                    content: None,
                    error: Some(CallError::fallback_error(caught.clone())),
                    caught,
                };
            }
        }
    }
}

async fn run_hop(
    s: &Scenario,
    prep: &Prepared,
    hop: u32,
    em: &Emitter,
    cancel: &CancellationToken,
) -> HopEnd {
    let idx = hop as usize;
    let target = &prep.targets[idx];
    let endpoint = &prep.endpoints[idx];
    let policy = prep.policies[idx].as_ref();
    let mut rng = ChaCha8Rng::seed_from_u64(policy.map_or(0, |p| p.seed));
    let mut carried = Carried::default();
    let hop_start = em.clock.now();
    let mut attempt: u32 = 1;
    loop {
        // A template that fails to render (say, once errors were reinserted) fails this
        // attempt, as it would inside Mirascope's retried call.
        let template_errors = carried.template_errors(policy.map(|p| p.reinsert_mode));
        let built = build_request(s, prep, idx, template_errors, &carried.reask);
        em.emit(Event::AttemptStarted(AttemptStarted {
            hop,
            attempt,
            provider: target.provider.as_str().into(),
            model: target.model.clone(),
            request: built.as_ref().map_or(serde_json::Value::Null, |(r, _)| {
                Client::body(endpoint.kind, r)
            }),
            prompt: built.as_ref().ok().map(|(_, prompt)| prompt.clone()),
        }));
        let started = em.clock.now();
        let result = match &built {
            Ok((request, _)) => tokio::select! {
                biased;
                () = cancel.cancelled() => return HopEnd::Cancelled,
                r = attempt_once(prep, endpoint, request, hop, attempt, em) => r,
            },
            Err(error) => Err(Failure {
                error: error.clone(),
                partial_output: String::new(),
                response: None,
                usage: None,
            }),
        };
        let latency_ms = ms(em.clock.now().saturating_sub(started));
        let failure = match result {
            Ok((content, resp)) => {
                let mut reply = resp.content.clone();
                for c in &resp.tool_calls {
                    reply.push_str(&c.args);
                }
                let cost = built.as_ref().ok().and_then(|(request, _)| {
                    cost::succeeded(&prep.prices, &target.model, request, resp.usage, &reply)
                });
                prep.add_cost(cost);
                em.emit(Event::AttemptSucceeded(AttemptSucceeded {
                    hop,
                    attempt,
                    content: content.clone(),
                    usage: resp.usage,
                    latency_ms,
                    tool_calls: resp.tool_calls,
                    response: Some(resp.exchange),
                    cost_usd: cost.map(|c| c.usd),
                    cost_estimated: cost.is_some_and(|c| c.estimated),
                }));
                return HopEnd::Ok(content);
            }
            Err(f) => prep.polish(idx, f, &em.secrets),
        };
        let cost = built
            .as_ref()
            .ok()
            .and_then(|(request, _)| prep.failed_cost(idx, request, &failure));
        prep.add_cost(cost);
        let Some(policy) = policy else {
            em.emit(Event::AttemptFailed(AttemptFailed {
                hop,
                attempt,
                error: failure.error.clone(),
                partial_output: failure.partial_output,
                will_retry: false,
                latency_ms,
                why: WHY_NO_RETRY_TABLE.into(),
                response: failure.response,
                cost_usd: cost.map(|c| c.usd),
                cost_estimated: cost.is_some_and(|c| c.estimated),
            }));
            return HopEnd::Failed(failure.error);
        };
        let elapsed = em.clock.now().saturating_sub(hop_start).as_secs_f64();
        let decision = decide(policy, attempt, elapsed, &failure.error, &mut rng);
        em.emit(Event::AttemptFailed(AttemptFailed {
            hop,
            attempt,
            error: failure.error.clone(),
            partial_output: failure.partial_output.clone(),
            will_retry: matches!(decision, Decision::Retry { .. }),
            latency_ms,
            why: decision.why().to_string(),
            response: failure.response,
            cost_usd: cost.map(|c| c.usd),
            cost_estimated: cost.is_some_and(|c| c.estimated),
        }));
        let (wait, reinsert) = match decision {
            Decision::Reraise { .. } => return HopEnd::Failed(failure.error),
            Decision::Stop { .. } => {
                em.emit(Event::RetryExhausted(RetryExhausted {
                    hop,
                    attempts: attempt,
                    last_error: failure.error.clone(),
                }));
                return HopEnd::Failed(CallError::retry_error(attempt, failure.error));
            }
            Decision::Retry { wait, reinsert, .. } => (wait, reinsert),
        };
        if reinsert {
            carried.add(
                policy.reinsert_mode,
                &failure.error,
                &failure.partial_output,
            );
            em.emit(Event::ErrorReinserted(ErrorReinserted {
                hop,
                attempt: attempt + 1,
                errors: carried.errors.clone(),
            }));
        }
        let delay = Secs(wait.delay);
        em.emit(Event::WaitStarted(wait_started(
            hop, attempt, policy, &wait,
        )));
        tokio::select! {
            biased;
            () = cancel.cancelled() => return HopEnd::Cancelled,
            () = em.clock.sleep(delay.as_duration()) => {}
        }
        em.emit(Event::WaitFinished(WaitFinished { hop, attempt }));
        attempt = attempt.saturating_add(1);
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
        },
    }
}
