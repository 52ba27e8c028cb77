//! Load mode (`--callers C`): C callers on one lane, one clock and one simulator, so the
//! simulator's state (outages on the shared clock, `limits` buckets, request counts) is
//! what every caller meets. Each caller takes the next call as soon as it is free: at
//! t = 0 for all of them (`burst`), or at the call's arrival time of a Poisson stream. A
//! call's latency runs from when its caller starts it.

use super::lane::{Lane, Step};
use super::runner::{OneCall, call};
use super::seeds::{call_scenario, call_seed};
use super::stats::PolicyStats;
use super::tally::{Ending, Tally};
use super::{Arrival, LabPlan};
use crate::engine::shared::SharedState;
use crate::sim::LocalSim;
use rand::SeedableRng;
use rand_distr::{Distribution, Exp};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Arrival times of a Poisson stream, drawn in call order (callers take calls in order).
struct Arrivals {
    gaps: Option<(Exp<f64>, rand_chacha::ChaCha8Rng)>,
    /// Arrival of the last call drawn, in seconds.
    last: f64,
}

impl Arrivals {
    fn new(arrival: Arrival, seed: u64) -> Arrivals {
        let gaps = match arrival {
            Arrival::Burst => None,
            Arrival::Poisson(rate) => Exp::new(rate)
                .ok()
                .map(|e| (e, rand_chacha::ChaCha8Rng::seed_from_u64(seed))),
        };
        Arrivals { gaps, last: 0.0 }
    }

    /// When the next call arrives (`None`: now, burst).
    fn next(&mut self) -> Option<Duration> {
        let (exp, rng) = self.gaps.as_mut()?;
        self.last += exp.sample(rng);
        Duration::try_from_secs_f64(self.last).ok()
    }
}

pub(super) fn run(
    plan: &LabPlan,
    policy: usize,
    callers: u32,
    stats: &mut PolicyStats,
    tick: &dyn Fn(u64),
    cancel: &CancellationToken,
) {
    let mut lane = Lane::new();
    let lab_clock = lane.scheduler.clock(Duration::ZERO);
    let mut faults = plan.faults.clone();
    // One simulator for every call: its draws come from the lab's seed (call u64::MAX's).
    faults.seed = call_seed(plan.seed, u64::MAX);
    let sim = Arc::new(LocalSim::new(faults, lab_clock.clone()));
    let next = Rc::new(Cell::new(0u64));
    let arrivals = Rc::new(RefCell::new(Arrivals::new(
        plan.arrival,
        call_seed(plan.seed, u64::MAX - 1),
    )));
    let base = plan.policies[policy].scenario.clone();
    // The policy's breakers and budget: every caller's, on the shared clock.
    let shared = SharedState::new(&base, lab_clock.clone());
    for _ in 0..u64::from(callers).min(plan.calls) {
        let (next, arrivals, sim, base) =
            (next.clone(), arrivals.clone(), sim.clone(), base.clone());
        let shared = shared.clone();
        let (scheduler, lab_clock, sink) = (lane.scheduler.clone(), lab_clock.clone(), lane.sink());
        let (faults, seed, calls, cap) = (plan.faults.clone(), plan.seed, plan.calls, plan.cap);
        let (config, cancel) = (plan.config.clone(), cancel.clone());
        lane.spawn(async move {
            loop {
                let k = next.get();
                if k >= calls || cancel.is_cancelled() {
                    return;
                }
                next.set(k + 1);
                let due = arrivals.borrow_mut().next();
                if let Some(wait) = due.and_then(|at| at.checked_sub(lab_clock.now())) {
                    lab_clock.sleep(wait).await;
                }
                let start = scheduler.now();
                let one = OneCall {
                    scenario: Arc::new(call_scenario(&base, &faults, seed, k)),
                    sim: sim.clone(),
                    clock: scheduler.clock(start),
                    offset_ms: Some(start.as_millis() as u64),
                    shared: shared.clone(),
                };
                let t = call(one, config.clone(), cancel.clone(), cap, |_| {}).await;
                sink.borrow_mut().push(t);
            }
        });
    }
    let mut done = 0;
    loop {
        if cancel.is_cancelled() {
            return;
        }
        let finished = match lane.step() {
            Step::Finished(t) => t,
            Step::Idle => return,
            // A bug, not a policy's doing: counted, so the report says so.
            Step::Stuck(n) => (0..n).map(|_| Tally::ended(Ending::Stuck)).collect(),
        };
        let stuck = finished.iter().any(|t| t.ending == Some(Ending::Stuck));
        for t in finished {
            stats.add(&t);
            done += 1;
            tick(done);
        }
        if stuck {
            return;
        }
    }
}
