//! Discrete-event time for the lab: many calls (and one simulator) sleeping at once on one
//! timeline, with no wall time at all. Nothing moves time but [`Scheduler::advance`], which
//! the lab's executor calls only once every task is blocked: it jumps to the earliest
//! wake-up and wakes what is due there. A deadline (a client's timeout) due at the same
//! instant as a sleeper fires first, as on the single-run virtual clock: a reply due exactly
//! at the timeout comes too late.
//!
//! Each [`Clock`] made by [`Scheduler::clock`] is a view whose t = 0 is where its call
//! started, so a call's events read as if it ran alone, while the simulator's view (from
//! t = 0 of the whole lab) sees every caller on one shared clock.
//!
//! A single hedged run (engine/discrete_run.rs) uses the same timeline with a pace: its
//! driver spends (next − now) / x of wall time before each advance at `Speed::Times(x)`,
//! moving `now` on within the step ([`Scheduler::pass_to`]) so a cancel or a skip mid-step
//! is stamped where it happened. The lab never sets a pace (`Speed::Max`).

use super::{Clock, Fired, Inner, Speed};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

/// The shared timeline; cheap to clone.
#[derive(Clone, Default)]
pub struct Scheduler(Arc<Mutex<Timeline>>);

/// Wake-ups keyed by (time, registration order).
type Due = BTreeMap<(Duration, u64), Arc<Fired>>;

#[derive(Default)]
pub(super) struct Timeline {
    now: Duration,
    /// Active sleeps: policy waits, simulated delays.
    sleepers: Due,
    /// Passive deadlines: request timeouts.
    deadlines: Due,
    next_id: u64,
    /// The pace a driver plays the timeline at (`None`: `Speed::Max`, the lab's).
    speed: Option<Speed>,
}

impl Scheduler {
    pub fn new() -> Scheduler {
        Scheduler::default()
    }

    fn lock(&self) -> MutexGuard<'_, Timeline> {
        // Plain data: a poisoned lock (a panicked task) is still consistent.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Time since the lab started.
    pub fn now(&self) -> Duration {
        self.lock().now
    }

    /// The pace a driver should play the timeline at; the lab's is `Speed::Max`.
    pub fn speed(&self) -> Speed {
        self.lock().speed.unwrap_or(Speed::Max)
    }

    pub(super) fn set_speed(&self, speed: Speed) {
        self.lock().speed = Some(speed);
    }

    /// When the next wake-up is due (a deadline or a sleeper), if any.
    pub fn next_wake(&self) -> Option<Duration> {
        let t = self.lock();
        let d = t.deadlines.keys().next().map(|k| k.0);
        let s = t.sleepers.keys().next().map(|k| k.0);
        d.into_iter().chain(s).min()
    }

    /// Moves time on to `at` without waking anything: only up to the next wake-up (which
    /// only [`Scheduler::advance`] reaches), never back.
    pub fn pass_to(&self, at: Duration) {
        let next = self.next_wake();
        let mut t = self.lock();
        let at = next.map_or(at, |n| at.min(n));
        t.now = t.now.max(at);
    }

    /// A clock whose t = 0 is `start` on this timeline.
    pub fn clock(&self, start: Duration) -> Clock {
        Clock(Arc::new(Inner::Discrete(View {
            scheduler: self.clone(),
            start,
        })))
    }

    /// Moves time to the next wake-up and wakes everything due then (deadlines first, and
    /// alone when a sleeper is due at the same instant). False when nothing waits: every
    /// task is blocked on something other than time, or there are none.
    pub fn advance(&self) -> bool {
        let fired: Vec<Arc<Fired>> = {
            let mut t = self.lock();
            let deadline = t.deadlines.keys().next().map(|k| k.0);
            let sleeper = t.sleepers.keys().next().map(|k| k.0);
            let (at, from_deadlines) = match (deadline, sleeper) {
                (Some(d), Some(s)) => (d.min(s), d <= s),
                (Some(d), None) => (d, true),
                (None, Some(s)) => (s, false),
                (None, None) => return false,
            };
            t.now = t.now.max(at);
            let due = if from_deadlines {
                &mut t.deadlines
            } else {
                &mut t.sleepers
            };
            let later = due.split_off(&(at, u64::MAX));
            std::mem::replace(due, later).into_values().collect()
        };
        for f in fired {
            f.flag.store(true, Ordering::Release);
            f.waker.wake();
        }
        true
    }

    fn register(&self, deadline: bool, at: Duration) -> ((Duration, u64), Arc<Fired>) {
        let mut t = self.lock();
        t.next_id += 1;
        let key = (at, t.next_id);
        let fired = Arc::new(Fired::default());
        let due = if deadline {
            &mut t.deadlines
        } else {
            &mut t.sleepers
        };
        due.insert(key, fired.clone());
        (key, fired)
    }

    fn unregister(&self, deadline: bool, key: (Duration, u64)) {
        let mut t = self.lock();
        if deadline {
            t.deadlines.remove(&key);
        } else {
            t.sleepers.remove(&key);
        }
    }
}

/// One clock's view of the timeline.
pub(super) struct View {
    scheduler: Scheduler,
    start: Duration,
}

impl View {
    pub(super) fn now(&self) -> Duration {
        self.scheduler.now().saturating_sub(self.start)
    }

    pub(super) fn speed(&self) -> Speed {
        self.scheduler.speed()
    }

    pub(super) fn set_speed(&self, speed: Speed) {
        self.scheduler.set_speed(speed);
    }

    /// An active sleep of `d` (`None`: forever, a stall; time moves on without it).
    pub(super) fn sleep(&self, d: Option<Duration>) -> Wake {
        let registered = d.filter(|d| !d.is_zero()).map(|d| {
            let at = self.scheduler.now().saturating_add(d);
            self.scheduler.register(false, at)
        });
        Wake {
            scheduler: self.scheduler.clone(),
            deadline: false,
            registered,
            forever: d.is_none(),
        }
    }

    /// A passive deadline `d` from now.
    pub(super) fn deadline(&self, d: Duration) -> Wake {
        let at = self.scheduler.now().saturating_add(d);
        Wake {
            scheduler: self.scheduler.clone(),
            deadline: true,
            registered: Some(self.scheduler.register(true, at)),
            forever: false,
        }
    }
}

/// A registered wake-up; dropping it unregisters it.
pub struct Wake {
    scheduler: Scheduler,
    deadline: bool,
    registered: Option<((Duration, u64), Arc<Fired>)>,
    forever: bool,
}

impl Future for Wake {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let Some((_, fired)) = &this.registered else {
            return if this.forever {
                Poll::Pending
            } else {
                Poll::Ready(())
            };
        };
        fired.poll(cx)
    }
}

impl Drop for Wake {
    fn drop(&mut self) {
        if let Some((key, fired)) = &self.registered
            && !fired.flag.load(Ordering::Acquire)
        {
            self.scheduler.unregister(self.deadline, *key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker_ref;

    fn ready(f: &mut (impl Future<Output = ()> + Unpin)) -> bool {
        Pin::new(f)
            .poll(&mut Context::from_waker(noop_waker_ref()))
            .is_ready()
    }

    #[test]
    fn advance_jumps_to_the_earliest_wake_up_of_many_sleepers() {
        let s = Scheduler::new();
        let a = s.clock(Duration::ZERO);
        let b = s.clock(Duration::ZERO);
        let mut long = Box::pin(a.sleep(Duration::from_secs(10)));
        let mut short = Box::pin(b.sleep(Duration::from_millis(1500)));
        assert!(!ready(&mut long) && !ready(&mut short));
        assert!(s.advance());
        assert_eq!(s.now(), Duration::from_millis(1500), "exact, no 1 ms tick");
        assert!(ready(&mut short) && !ready(&mut long));
        assert!(s.advance());
        assert_eq!(a.now(), Duration::from_secs(10));
        assert!(ready(&mut long));
        assert!(!s.advance(), "nothing waits");
    }

    #[test]
    fn a_deadline_due_with_a_sleeper_fires_first_and_alone() {
        let s = Scheduler::new();
        let c = s.clock(Duration::ZERO);
        let mut sleeper = Box::pin(c.sleep(Duration::from_secs(2)));
        let mut deadline = c.deadline(Duration::from_secs(2));
        assert!(!ready(&mut sleeper) && !ready(&mut deadline));
        s.advance();
        assert!(ready(&mut deadline));
        assert!(
            !ready(&mut sleeper),
            "the reply due at the timeout is too late"
        );
        s.advance();
        assert!(ready(&mut sleeper));
    }

    #[test]
    fn a_view_counts_from_its_start_and_a_dropped_wake_up_no_longer_moves_time() {
        let s = Scheduler::new();
        let lab = s.clock(Duration::ZERO);
        let mut first = Box::pin(lab.sleep(Duration::from_secs(3)));
        assert!(!ready(&mut first));
        s.advance();
        let call = s.clock(s.now());
        assert_eq!(call.now(), Duration::ZERO);
        let timeout = call.deadline(Duration::from_secs(60));
        drop(timeout);
        let mut wait = Box::pin(call.sleep(Duration::from_secs(1)));
        assert!(!ready(&mut wait));
        s.advance();
        assert_eq!(call.now(), Duration::from_secs(1));
        assert_eq!(lab.now(), Duration::from_secs(4));
        assert!(!s.advance(), "the dropped deadline is gone");
    }

    #[test]
    fn pass_to_moves_time_within_a_step_but_never_past_the_next_wake_up() {
        let s = Scheduler::new();
        let c = s.clock(Duration::ZERO);
        assert_eq!(s.speed(), Speed::Max, "the lab's pace");
        let mut sleep = Box::pin(c.sleep(Duration::from_secs(2)));
        assert!(!ready(&mut sleep));
        assert_eq!(s.next_wake(), Some(Duration::from_secs(2)));
        s.pass_to(Duration::from_millis(700));
        assert_eq!(c.now(), Duration::from_millis(700));
        assert!(!ready(&mut sleep), "passing time wakes nothing");
        s.pass_to(Duration::from_millis(100));
        assert_eq!(c.now(), Duration::from_millis(700), "never back");
        s.pass_to(Duration::from_secs(9));
        assert_eq!(c.now(), Duration::from_secs(2), "held at the next wake-up");
        assert!(!ready(&mut sleep), "only advance wakes it");
        assert!(s.advance());
        assert!(ready(&mut sleep));
        assert_eq!(s.next_wake(), None);
    }

    #[test]
    fn a_stall_never_wakes_and_never_holds_time() {
        let s = Scheduler::new();
        let c = s.clock(Duration::ZERO);
        let mut stall = Box::pin(c.stall());
        let mut timeout = c.deadline(Duration::from_secs(5));
        assert!(!ready(&mut stall) && !ready(&mut timeout));
        assert!(s.advance());
        assert!(ready(&mut timeout) && !ready(&mut stall));
        assert!(!s.advance());
    }
}
