//! A single sim run on the discrete clock (`clock::Scheduler`), for scenarios whose requests
//! overlap (`[hedge]`): the single-run virtual clock assumes one sleeper during a request,
//! so two legs in flight would move its time wrongly, while the discrete timeline wakes many
//! sleepers exactly. The run gets a thread of its own with a local executor, the in-process
//! simulator (`sim::LocalSim`) made from the scenario's `[sim]`, and the caller's sink and
//! controls (cancel, skip, speed).
//!
//! Pacing: at `Speed::Times(x)` each step of the timeline, from now to the next wake-up,
//! takes (next − now) / x of wall time, spent in short slices so that a speed change applies
//! within one slice and a cancel or a skip (which wakes the executor) is stamped at the time
//! reached; at `Speed::Max` no wall time passes and every `t_ms` is exact.

use super::control::RunControl;
use super::run::{RunOptions, RunSummary, run_on};
use super::sink::EventSink;
use crate::clock::{Scheduler, Speed};
use crate::error::{CallError, ErrorKind};
use crate::event::{Event, Mode, Outcome, RunFinished, RunStarted, TimedEvent};
use crate::scenario::types::Scenario;
use crate::sim::LocalSim;
use futures::executor::LocalPool;
use futures::task::LocalSpawnExt;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The longest wall-time slice of a paced step: how soon a speed change applies.
const SLICE: Duration = Duration::from_millis(20);

/// Runs `scenario` (sim mode) on a discrete clock on a thread of its own; as
/// [`super::run::run_with_control`]. Dropping the future abandons the run.
pub(super) async fn run(
    scenario: Arc<Scenario>,
    opts: RunOptions,
    sink: EventSink,
    control: RunControl,
) -> RunSummary {
    let (tx, rx) = futures::channel::oneshot::channel();
    let abandoned = Arc::new(AtomicBool::new(false));
    let _guard = Abandon(abandoned.clone());
    let fail_sink = sink.clone();
    let name = scenario.name.clone();
    let spawned = std::thread::Builder::new()
        .name("retrylab-discrete-run".into())
        .spawn(move || {
            if let Some(summary) = drive(scenario, opts, sink, &control, &abandoned) {
                let _ = tx.send(summary);
            }
        });
    let failed = |message: String| not_run(&fail_sink, &name, message);
    match spawned {
        Ok(_) => match rx.await {
            Ok(summary) => summary,
            // The thread panicked (its events stop where it did).
            Err(_) => failed("the run's thread stopped before the run ended".into()),
        },
        Err(e) => failed(format!("could not start the run's thread: {e}")),
    }
}

/// Sets the flag when the caller stops waiting, so the driver stops too.
struct Abandon(Arc<AtomicBool>);

impl Drop for Abandon {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// A run that could not run: `run_started` and `run_finished` with the reason.
fn not_run(sink: &EventSink, name: &str, message: String) -> RunSummary {
    let error = CallError::new(ErrorKind::Connection, message);
    let emit = |event| {
        let _ = sink.send(TimedEvent { t_ms: 0, event });
    };
    emit(Event::RunStarted(RunStarted {
        scenario: name.to_string(),
        mode: Mode::Sim,
        speed: String::new(),
    }));
    emit(Event::RunFinished(RunFinished {
        outcome: Outcome::Error,
        content: None,
        error: Some(error.clone()),
        caught: Vec::new(),
        total_cost_usd: None,
        total_cost_estimated: false,
        degraded: false,
    }));
    RunSummary {
        outcome: Outcome::Error,
        content: None,
        error: Some(error),
        caught: Vec::new(),
        degraded: false,
    }
}

/// The run to its end on this thread; `None` once abandoned.
fn drive(
    scenario: Arc<Scenario>,
    opts: RunOptions,
    sink: EventSink,
    control: &RunControl,
    abandoned: &AtomicBool,
) -> Option<RunSummary> {
    let scheduler = Scheduler::new();
    let clock = scheduler.clock(Duration::ZERO);
    clock.set_speed(opts.speed);
    control.attach(&clock);
    let sim = Arc::new(LocalSim::new(scenario.sim.clone(), clock.clone()));
    // A single run starts every breaker closed and the budget full.
    let shared = super::shared::SharedState::new(&scenario, clock.clone());
    let done: Rc<RefCell<Option<RunSummary>>> = Rc::default();
    let mut pool = LocalPool::new();
    let out = done.clone();
    let task_control = control.clone();
    let spawned = pool.spawner().spawn_local(async move {
        let summary = run_on(
            scenario,
            Mode::Sim,
            opts.config,
            clock,
            sink,
            &task_control,
            Some(sim),
            &shared,
        )
        .await;
        *out.borrow_mut() = Some(summary);
    });
    // A fresh pool always accepts a task.
    spawned.ok()?;
    loop {
        pool.run_until_stalled();
        if let Some(summary) = done.borrow_mut().take() {
            return Some(summary);
        }
        if abandoned.load(Ordering::Acquire) {
            return None;
        }
        match scheduler.next_wake() {
            // Blocked on something outside time (a cancel, a skip): wait for it.
            None => std::thread::park_timeout(SLICE),
            Some(next) => {
                if pace(&scheduler, next, &mut pool, &done, abandoned) {
                    scheduler.advance();
                }
            }
        }
    }
}

/// Spends the wall time of the step to `next` at the scheduler's speed, running the tasks
/// an outside wake-up makes ready. True when the step is due (advance now); false when the
/// tasks changed what comes next (or finished, or the run was abandoned).
fn pace(
    scheduler: &Scheduler,
    next: Duration,
    pool: &mut LocalPool,
    done: &Rc<RefCell<Option<RunSummary>>>,
    abandoned: &AtomicBool,
) -> bool {
    let mut reached = scheduler.now();
    let mut last = Instant::now();
    loop {
        let Speed::Times(x) = scheduler.speed() else {
            return true;
        };
        let left = next.saturating_sub(reached);
        if left.is_zero() {
            return true;
        }
        std::thread::park_timeout(Speed::Times(x).wall(left).min(SLICE));
        let now = Instant::now();
        let run = Duration::try_from_secs_f64(now.duration_since(last).as_secs_f64() * x)
            .unwrap_or(Duration::MAX);
        last = now;
        reached = reached.saturating_add(run).min(next);
        // Time moves on within the step (nothing is due before `next`).
        scheduler.pass_to(reached);
        pool.run_until_stalled();
        if done.borrow().is_some() || abandoned.load(Ordering::Acquire) {
            return false;
        }
        if scheduler.next_wake() != Some(next) {
            return false;
        }
    }
}
