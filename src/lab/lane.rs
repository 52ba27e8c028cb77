//! One thread's executor for lab calls: tasks run on a local pool until every one is
//! blocked, and only then does the lab's discrete-event clock move to the next wake-up
//! (`clock::Scheduler`). No socket and no wall-clock timer is involved, so a call takes as
//! long as its CPU work, and any number of calls can wait at once on one shared timeline.

use super::tally::Tally;
use crate::clock::Scheduler;
use futures::executor::LocalPool;
use futures::task::LocalSpawnExt;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

pub(super) struct Lane {
    pool: LocalPool,
    pub(super) scheduler: Scheduler,
    /// Tallies of calls finished since the last `step`.
    done: Rc<RefCell<Vec<Tally>>>,
    /// Tasks spawned and not yet finished.
    live: Rc<Cell<usize>>,
}

/// What a `step` found.
pub(super) enum Step {
    /// Some calls finished (their tallies).
    Finished(Vec<Tally>),
    /// Every task has finished.
    Idle,
    /// Tasks remain, all blocked on something other than time: none can ever finish.
    Stuck(usize),
}

impl Lane {
    pub(super) fn new() -> Lane {
        Lane {
            pool: LocalPool::new(),
            scheduler: Scheduler::new(),
            done: Rc::default(),
            live: Rc::default(),
        }
    }

    /// Where a task reports each call it finishes.
    pub(super) fn sink(&self) -> Rc<RefCell<Vec<Tally>>> {
        self.done.clone()
    }

    pub(super) fn live(&self) -> usize {
        self.live.get()
    }

    /// Starts `task` (it reports its calls through [`Lane::sink`]).
    pub(super) fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        let live = self.live.clone();
        live.set(live.get() + 1);
        let tracked = async move {
            task.await;
            live.set(live.get() - 1);
        };
        // Fails only once the pool is shut down, which happens only when the lane drops.
        let _ = self.pool.spawner().spawn_local(tracked);
    }

    /// Runs every task until some call finishes, moving the clock on whenever all are
    /// blocked.
    pub(super) fn step(&mut self) -> Step {
        loop {
            self.pool.run_until_stalled();
            let finished = std::mem::take(&mut *self.done.borrow_mut());
            if !finished.is_empty() {
                return Step::Finished(finished);
            }
            if self.live.get() == 0 {
                return Step::Idle;
            }
            if !self.scheduler.advance() {
                return Step::Stuck(self.live.get());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn tasks_sleeping_at_once_finish_in_time_order_with_no_wall_time() {
        let mut lane = Lane::new();
        let order = Rc::new(RefCell::new(Vec::new()));
        for secs in [30u64, 10, 20] {
            let clock = lane.scheduler.clock(Duration::ZERO);
            let order = order.clone();
            let sink = lane.sink();
            lane.spawn(async move {
                clock.sleep(Duration::from_secs(secs)).await;
                order.borrow_mut().push((secs, clock.now_ms()));
                sink.borrow_mut().push(Tally::default());
            });
        }
        let wall = std::time::Instant::now();
        let mut finished = 0;
        loop {
            match lane.step() {
                Step::Finished(t) => finished += t.len(),
                Step::Idle => break,
                Step::Stuck(n) => panic!("{n} stuck"),
            }
        }
        assert_eq!(finished, 3);
        assert_eq!(
            *order.borrow(),
            vec![(10, 10_000), (20, 20_000), (30, 30_000)]
        );
        assert!(wall.elapsed() < Duration::from_millis(100));
    }

    #[test]
    fn a_task_blocked_on_nothing_but_itself_is_reported_stuck() {
        let mut lane = Lane::new();
        lane.spawn(std::future::pending());
        assert!(matches!(lane.step(), Step::Stuck(1)));
    }
}
