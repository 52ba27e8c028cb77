//! The engine loop: for each hop (primary, then fallbacks) run attempts, ask the policy what
//! follows each failure, wait on the run's clock, and emit every step as an event.
//! It knows nothing of who listens.

pub use super::control::RunControl;
pub use super::endpoints::{check_live_keys, check_live_keys_with, hop_labels};
use super::endpoints::{hop_targets, live_secrets};
use super::hop::{HopEnd, run_hop};
use super::prepare::{Prepared, prepare};
use super::shared::SharedState;
pub use super::sink::{EventSink, EventStream, event_channel};
use crate::clock::{Clock, Speed};
use crate::config::Config;
use crate::cost;
use crate::error::{CallError, ErrorKind};
use crate::event::{
    BreakerSeen, Event, FallbackHop, Mode, Outcome, RunFinished, RunStarted,
    SharedState as SharedStateEvent, TimedEvent,
};
use crate::policy::Secs;
use crate::policy::fallback::FallbackDecision;
use crate::provider::redact::{Scrub, Secrets, redact_event};
use crate::scenario::types::Scenario;
use crate::sim::LocalSim;
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
    /// `[limits].on_exhausted` answered (`message`, `last_partial`): not a real answer.
    pub degraded: bool,
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

/// Runs the scenario to its end, or until `cancel`; every step goes to `sink`, ending with
/// `run_finished`. In sim mode the simulator is started in-process on loopback.
pub async fn run(
    scenario: Arc<Scenario>,
    opts: RunOptions,
    sink: EventSink,
    cancel: CancellationToken,
) -> RunSummary {
    run_with_control(scenario, opts, sink, RunControl::with_cancel(cancel)).await
}

/// As [`run`], steered by `control`: cancel, skip the wait in progress, change the speed
/// (sim mode; live waits are real).
pub async fn run_with_control(
    scenario: Arc<Scenario>,
    opts: RunOptions,
    sink: EventSink,
    control: RunControl,
) -> RunSummary {
    // Hedge legs overlap: the single-sleeper virtual clock cannot play them.
    if opts.mode == Mode::Sim && scenario.hedge.is_some() {
        return super::discrete_run::run(scenario, opts, sink, control).await;
    }
    let clock = match opts.mode {
        Mode::Sim => {
            let clock = Clock::virtual_time(opts.speed);
            control.attach(&clock);
            clock
        }
        // Live waits are real: the server asked for them (Retry-After), so no speed
        // compresses them; `opts.speed` applies to sim mode only. (Tests that must skip live
        // waits pass `Clock::real(Speed::Max)` to `run_with_clock`.)
        Mode::Live => Clock::real(Speed::Times(1.0)),
    };
    // A single run starts every breaker closed and the budget full.
    let shared = SharedState::new(&scenario, clock.clone());
    run_on(
        scenario,
        opts.mode,
        opts.config,
        clock,
        sink,
        &control,
        None,
        &shared,
    )
    .await
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
    let control = RunControl::with_cancel(cancel);
    let shared = SharedState::new(&scenario, clock.clone());
    run_on(scenario, mode, cfg, clock, sink, &control, None, &shared).await
}

/// A sim-mode run whose requests go to `sim` in-process (no socket; the lab): `sim` may
/// serve many runs at once, each on its own `clock` view of one timeline. The scenario's
/// own `[sim]` is not read (the simulator was made from the lab's). `shared` holds the
/// breakers and the budget every call of a policy shares (`SharedState::new` with the lab's
/// clock, so they keep the lab's time).
#[allow(clippy::too_many_arguments)]
pub async fn run_on_local_sim(
    scenario: Arc<Scenario>,
    cfg: Arc<Config>,
    clock: Clock,
    sim: Arc<LocalSim>,
    shared: Arc<SharedState>,
    sink: EventSink,
    cancel: CancellationToken,
) -> RunSummary {
    let control = RunControl::with_cancel(cancel);
    run_on(
        scenario,
        Mode::Sim,
        cfg,
        clock,
        sink,
        &control,
        Some(sim),
        &shared,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn run_on(
    scenario: Arc<Scenario>,
    mode: Mode,
    cfg: Arc<Config>,
    clock: Clock,
    sink: EventSink,
    control: &RunControl,
    local: Option<Arc<LocalSim>>,
    shared: &SharedState,
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
    let (mut summary, total) = match prepare(&scenario, mode, &clock, &cfg, local.as_ref()).await {
        Ok(prep) => {
            let summary = run_hops(&scenario, &prep, &em, control, shared).await;
            (summary, prep.total())
        }
        Err(error) => (
            RunSummary {
                outcome: Outcome::Error,
                content: None,
                error: Some(error),
                caught: Vec::new(),
                degraded: false,
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
        degraded: summary.degraded,
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
    control: &RunControl,
    shared: &SharedState,
) -> RunSummary {
    let mut caught: Vec<CallError> = Vec::new();
    let mut hop: u32 = 0;
    start_call(prep, em, shared);
    loop {
        let end = run_hop(s, prep, hop, em, control, shared).await;
        let end = match end {
            HopEnd::Ok(content) => {
                return RunSummary {
                    outcome: Outcome::Ok,
                    content: Some(content),
                    error: None,
                    caught,
                    degraded: false,
                };
            }
            HopEnd::Cancelled => {
                return RunSummary {
                    outcome: Outcome::Cancelled,
                    content: None,
                    error: None,
                    caught,
                    degraded: false,
                };
            }
            HopEnd::Limit(exhausted) => return prep.call_limits.finish(&exhausted, caught),
            HopEnd::Surfaced { error, partial } => {
                return RunSummary {
                    outcome: Outcome::Error,
                    content: Some(partial),
                    error: Some(error),
                    caught,
                    degraded: false,
                };
            }
            HopEnd::Failed { error, fallback } => (error, fallback),
        };
        let (error, fallback) = end;
        match fallback {
            FallbackDecision::NextHop { hop: next, why } => {
                caught.push(error.clone());
                let from = prep.targets[hop as usize].target();
                let to = prep.targets[next as usize].target();
                em.emit(Event::FallbackHop(FallbackHop {
                    hop: next,
                    from,
                    to,
                    caught: error,
                    why,
                }));
                hop = next;
            }
            FallbackDecision::EndWith { .. } => {
                return RunSummary {
                    outcome: Outcome::Error,
                    content: None,
                    error: Some(error),
                    caught,
                    degraded: false,
                };
            }
            FallbackDecision::FallbackError { .. } => {
                caught.push(error);
                return RunSummary {
                    outcome: Outcome::Error,
                    content: None,
                    error: Some(CallError::fallback_error(caught.clone())),
                    caught,
                    degraded: false,
                };
            }
        }
    }
}

/// A call starts: its deposit into the budget, then `shared_state` (each breaker it may
/// call, the budget's tokens), when the scenario shares anything across calls.
fn start_call(prep: &Prepared, em: &Emitter, shared: &SharedState) {
    if !shared.is_active() {
        return;
    }
    let budget_tokens = shared.deposit();
    let mut breakers: Vec<BreakerSeen> = Vec::new();
    for t in &prep.targets {
        let key = (t.provider.as_str().to_string(), t.model.clone());
        let Some(state) = shared.breaker_state(&key) else {
            break;
        };
        if !breakers
            .iter()
            .any(|b| b.provider == key.0 && b.model == key.1)
        {
            breakers.push(BreakerSeen {
                provider: key.0,
                model: key.1,
                state: state.as_str().into(),
            });
        }
    }
    em.emit(Event::SharedState(SharedStateEvent {
        breakers,
        budget_tokens,
    }));
}
