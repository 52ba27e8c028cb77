//! Runs the calls. Independent mode: each call is its own `engine::run` on its own virtual
//! clock from t = 0 (speed max) against its own simulator seeded for that call, several in
//! flight at once; each is folded into a [`Tally`] as its events arrive and the events are
//! dropped.

use super::seeds::call_scenario;
use super::stats::PolicyStats;
use super::tally::{Cap, Tally};
use super::{LabPlan, LabReport};
use crate::clock::{Clock, Speed};
use crate::config::Config;
use crate::engine::run::{event_channel, run_with_clock};
use crate::event::{Mode, TimedEvent};
use crate::scenario::types::Scenario;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Calls of one policy in flight at once (independent mode): enough to keep both cores
/// busy while some calls wait on loopback I/O.
const IN_FLIGHT: usize = 16;

/// How far the lab got: policy index, calls done of that policy, calls per policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub policy: usize,
    pub done: u64,
    pub of: u64,
}

/// Runs one call through the engine, handing each event to `each` and folding it into the
/// returned tally; cancels the call once it passes `cap`.
async fn call(
    scenario: Arc<Scenario>,
    mode: Mode,
    config: Arc<Config>,
    clock: Clock,
    cancel: CancellationToken,
    cap: Cap,
    mut each: impl FnMut(&TimedEvent),
) -> Tally {
    let (tx, mut rx) = event_channel();
    let stop = cancel.child_token();
    let engine = run_with_clock(scenario, mode, config, clock, tx, stop.clone());
    let fold = async {
        let mut t = Tally::default();
        while let Some(ev) = rx.recv().await {
            each(&ev);
            if t.observe(&ev, cap) {
                stop.cancel();
            }
        }
        t
    };
    let (_, tally) = tokio::join!(engine, fold);
    tally
}

#[cfg(any(test, feature = "test-util"))]
/// Every event of call `k` of `policy` as the lab runs it (independent mode): for tests that
/// compare it with a plain `run`.
pub async fn one_call_events(plan: &LabPlan, policy: usize, k: u64) -> Vec<TimedEvent> {
    let s = Arc::new(call_scenario(
        &plan.policies[policy].scenario,
        &plan.faults,
        plan.seed,
        k,
    ));
    let mut out = Vec::new();
    call(
        s,
        Mode::Sim,
        plan.config.clone(),
        Clock::virtual_time(Speed::Max),
        CancellationToken::new(),
        plan.cap,
        |e| out.push(e.clone()),
    )
    .await;
    out
}

/// Runs every policy's calls; `progress` is told after each call. A cancelled lab reports
/// the calls finished so far.
pub async fn run_lab(
    plan: &LabPlan,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &CancellationToken,
) -> LabReport {
    let started = std::time::Instant::now();
    let mut reports = Vec::with_capacity(plan.policies.len());
    for (i, p) in plan.policies.iter().enumerate() {
        let mut stats = PolicyStats::new(&p.label, plan.callers.is_some());
        match plan.callers {
            None => independent(plan, i, &mut stats, progress, cancel).await,
            Some(c) => super::load::run(plan, i, c, &mut stats, progress, cancel).await,
        }
        reports.push(stats.report());
        if cancel.is_cancelled() {
            break;
        }
    }
    LabReport {
        policies: reports,
        wall: started.elapsed(),
        cancelled: cancel.is_cancelled(),
    }
}

async fn independent(
    plan: &LabPlan,
    policy: usize,
    stats: &mut PolicyStats,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &CancellationToken,
) {
    let base = &plan.policies[policy].scenario;
    let mut tasks = tokio::task::JoinSet::new();
    let mut next = 0u64;
    let mut done = 0u64;
    loop {
        while next < plan.calls && tasks.len() < IN_FLIGHT && !cancel.is_cancelled() {
            let s = Arc::new(call_scenario(base, &plan.faults, plan.seed, next));
            tasks.spawn(call(
                s,
                Mode::Sim,
                plan.config.clone(),
                Clock::virtual_time(Speed::Max),
                cancel.clone(),
                plan.cap,
                |_| {},
            ));
            next += 1;
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        // A panicked call is lost, not the lab (the engine does not panic on any input).
        if let Ok(t) = joined {
            stats.add(&t);
        }
        done += 1;
        progress(super::Progress {
            policy,
            done,
            of: plan.calls,
        });
    }
}
