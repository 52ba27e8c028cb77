//! Runs the calls. Every call is one `engine` run against the in-process simulator
//! (`sim::LocalSim`, the same script and reply bytes as over a socket) on a view of a
//! discrete-event clock (lane.rs), folded into a [`Tally`] as its events arrive; the events
//! are then dropped. Independent mode spreads the calls over one lane per core, each call
//! on its own clock from t = 0 with its own simulator seeded for that call; load mode
//! (load.rs) puts every caller of a policy on one lane, one clock and one simulator, and
//! runs the policies side by side.
//!
//! What lasts across calls (`[breaker]`, `[budget]`: `engine::shared`) is one state per
//! policy, shared by all its calls and timed by the lab's clock. In independent mode such a
//! policy runs its calls on one lane (one thread, 64 calls in flight, one timeline), so the
//! state every call meets is the same whatever the number of cores; each call still meets
//! its own faults from its own t = 0. Load mode shares it among all callers of the policy.

use super::lane::{Lane, Step};
use super::seeds::call_scenario;
use super::stats::PolicyStats;
use super::tally::{Cap, Ending, Tally};
use super::{LabPlan, LabReport};
use crate::clock::Clock;
use crate::config::Config;
use crate::engine::run::{event_channel, run_on_local_sim};
use crate::engine::shared::SharedState;
use crate::event::TimedEvent;
use crate::scenario::types::Scenario;
use crate::sim::LocalSim;
use std::sync::Arc;
use std::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Calls in flight at once on one lane (independent mode): enough that the clock's steps
/// serve many calls each, few enough that memory stays small.
const IN_FLIGHT: usize = 64;

/// Lanes (threads) at most, however many cores there are.
const MAX_LANES: usize = 8;

/// How far the lab got: policy index, calls done of that policy, calls per policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub policy: usize,
    pub done: u64,
    pub of: u64,
}

/// One call of the lab: its scenario (seeded for it), the simulator serving it, its clock.
pub(super) struct OneCall {
    pub scenario: Arc<Scenario>,
    pub sim: Arc<LocalSim>,
    pub clock: Clock,
    /// Load mode: where the call's t = 0 lies on the shared clock (ms), to place its
    /// requests on the shared timeline.
    pub offset_ms: Option<u64>,
    /// The policy's breakers and budget, shared by its calls.
    pub shared: Arc<SharedState>,
}

/// Runs one call through the engine, handing each event to `each` and folding it into the
/// returned tally; cancels the call once it passes `cap`.
pub(super) async fn call(
    one: OneCall,
    config: Arc<Config>,
    cancel: CancellationToken,
    cap: Cap,
    mut each: impl FnMut(&TimedEvent),
) -> Tally {
    let (tx, mut rx) = event_channel();
    let stop = cancel.child_token();
    let engine = run_on_local_sim(
        one.scenario,
        config,
        one.clock,
        one.sim,
        one.shared,
        tx,
        stop.clone(),
    );
    let fold = async {
        let mut t = Tally::at(one.offset_ms);
        while let Some(ev) = rx.recv().await {
            each(&ev);
            if t.observe(&ev, cap) {
                stop.cancel();
            }
        }
        t
    };
    let (_, tally) = futures::join!(engine, fold);
    tally
}

/// Call `k` of `policy` in independent mode: its own simulator and clock from `lane`'s now,
/// the policy's `shared` state.
fn independent_call(
    plan: &LabPlan,
    policy: usize,
    k: u64,
    lane: &Lane,
    shared: &Arc<SharedState>,
) -> OneCall {
    let s = call_scenario(&plan.policies[policy].scenario, &plan.faults, plan.seed, k);
    let clock = lane.scheduler.clock(lane.scheduler.now());
    OneCall {
        sim: Arc::new(LocalSim::new(s.sim.clone(), clock.clone())),
        scenario: Arc::new(s),
        clock,
        offset_ms: None,
        shared: shared.clone(),
    }
}

#[cfg(any(test, feature = "test-util"))]
/// Every event of call `k` of `policy` as the lab runs it (independent mode): for tests that
/// compare it with a plain `run`.
pub fn one_call_events(plan: &LabPlan, policy: usize, k: u64) -> Vec<TimedEvent> {
    let mut lane = Lane::new();
    let events = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    // As a single `run`: its own fresh state.
    let shared = SharedState::new(
        &plan.policies[policy].scenario,
        lane.scheduler.clock(std::time::Duration::ZERO),
    );
    let one = independent_call(plan, policy, k, &lane, &shared);
    let seen = events.clone();
    let fut = call(
        one,
        plan.config.clone(),
        CancellationToken::new(),
        plan.cap,
        move |e| seen.borrow_mut().push(e.clone()),
    );
    lane.spawn(async move {
        fut.await;
    });
    while let Step::Finished(_) = lane.step() {}
    events.take()
}

/// Runs every policy's calls; `progress` is told after each call. Blocking: it runs the
/// calls on threads of its own (call it off an async runtime's threads). A cancelled lab
/// reports the calls finished so far.
pub fn run_lab(
    plan: &LabPlan,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &CancellationToken,
) -> LabReport {
    let started = std::time::Instant::now();
    let one = |i: usize| {
        let s = &plan.policies[i].scenario;
        let mut stats = PolicyStats::new(&plan.policies[i].label, plan.callers.is_some())
            .sharing(s.breaker.is_some(), s.budget.is_some());
        let tick = |done| {
            progress(Progress {
                policy: i,
                done,
                of: plan.calls,
            })
        };
        match plan.callers {
            None => independent(plan, i, &mut stats, &tick, cancel),
            Some(c) => super::load::run(plan, i, c, &mut stats, &tick, cancel),
        }
        stats.report()
    };
    let mut reports = Vec::with_capacity(plan.policies.len());
    match plan.callers {
        // Each policy uses every core already.
        None => {
            for i in 0..plan.policies.len() {
                reports.push(one(i));
                if cancel.is_cancelled() {
                    break;
                }
            }
        }
        // A policy's callers share one thread (one clock): policies run side by side.
        Some(_) => {
            let lanes = lanes().max(1) as usize;
            let indices: Vec<usize> = (0..plan.policies.len()).collect();
            for group in indices.chunks(lanes) {
                std::thread::scope(|scope| {
                    let handles: Vec<_> =
                        group.iter().map(|&i| scope.spawn(move || one(i))).collect();
                    // A panic goes on as it would on this thread.
                    for h in handles {
                        reports.push(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
                    }
                });
                if cancel.is_cancelled() {
                    break;
                }
            }
        }
    }
    LabReport {
        policies: reports,
        wall: started.elapsed(),
        cancelled: cancel.is_cancelled(),
    }
}

/// Threads the lab uses: one per core, at most [`MAX_LANES`].
fn lanes() -> u64 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.clamp(1, MAX_LANES) as u64
}

/// The calls of one policy over one lane per core; call `k` runs on lane `k % lanes`. Each
/// call's draws depend on (seed, k) alone, so the split changes no number.
fn independent(
    plan: &LabPlan,
    policy: usize,
    stats: &mut PolicyStats,
    tick: &dyn Fn(u64),
    cancel: &CancellationToken,
) {
    let lanes = if shares_state(&plan.policies[policy].scenario) {
        1
    } else {
        lanes().min(plan.calls.div_ceil(IN_FLIGHT as u64)).max(1)
    };
    let (tx, rx) = mpsc::channel::<Tally>();
    std::thread::scope(|scope| {
        for first in 0..lanes {
            let tx = tx.clone();
            scope.spawn(move || independent_lane(plan, policy, first, lanes, cancel, &tx));
        }
        drop(tx);
        let mut done = 0;
        for t in rx {
            stats.add(&t);
            done += 1;
            tick(done);
        }
    });
}

/// Calls `first`, `first + step`, … of `policy`, [`IN_FLIGHT`] at a time, each tally sent
/// to `tx` as it finishes.
fn independent_lane(
    plan: &LabPlan,
    policy: usize,
    first: u64,
    step: u64,
    cancel: &CancellationToken,
    tx: &mpsc::Sender<Tally>,
) {
    let mut lane = Lane::new();
    let shared = SharedState::new(
        &plan.policies[policy].scenario,
        lane.scheduler.clock(std::time::Duration::ZERO),
    );
    let mut next = first;
    loop {
        while next < plan.calls && lane.live() < IN_FLIGHT && !cancel.is_cancelled() {
            let one = independent_call(plan, policy, next, &lane, &shared);
            let sink = lane.sink();
            let fut = call(one, plan.config.clone(), cancel.clone(), plan.cap, |_| {});
            lane.spawn(async move {
                let t = fut.await;
                sink.borrow_mut().push(t);
            });
            next += step;
        }
        if cancel.is_cancelled() {
            return;
        }
        match lane.step() {
            Step::Finished(tallies) => {
                for t in tallies {
                    if tx.send(t).is_err() {
                        return;
                    }
                }
            }
            Step::Idle => return,
            Step::Stuck(n) => {
                // A bug, not a policy's doing: counted, so the report says so.
                for _ in 0..n {
                    let _ = tx.send(Tally::ended(Ending::Stuck));
                }
                return;
            }
        }
    }
}

/// Whether a policy keeps state across its calls (`[breaker]`, `[budget]`).
pub(super) fn shares_state(s: &Scenario) -> bool {
    s.breaker.is_some() || s.budget.is_some()
}
