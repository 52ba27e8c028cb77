//! The run's clock. Policy waits and simulated delays are *active* sleeps on it; request
//! timeouts are *passive* deadlines on it.
//!
//! - `Clock::virtual_time(speed)` (sim mode): time is virtual and moves only through active
//!   sleeps, taking 1/speed of the wall time (none at `Speed::Max`). Real loopback time does
//!   not count, so a sim run emits the same `t_ms` at every speed. When an active sleep would
//!   pass a passive deadline (a timeout), time stops at that deadline, the deadline fires and
//!   the sleeper never wakes: in sim mode the only sleeper during a request is the simulator,
//!   and a fired timeout means the client gave up on it. `stall()` is such a sleep of forever,
//!   which is how the simulator plays "no byte until the client's timeout" instantly.
//! - `Clock::real(speed)` (live mode): real time counts; policy waits take 1/speed of their
//!   length and the skipped part is added, so `t_ms` still reads on the run's clock. Deadlines
//!   are real timers.
//! - `Scheduler::clock(start)` (the lab): a view of a discrete-event timeline that many calls
//!   share; time jumps to the next wake-up once every task is blocked (clock/discrete.rs).
//!
//! Network timeouts never use tokio's paused clock (it fires them early under real I/O).
//!
//! Stream frames are acknowledged: the simulator calls `frame_sent` for each frame it writes
//! and the client `frame_received` for each one it parses (`settle` when an exchange ends).
//! A virtual sleep first waits (briefly, in real time) until the client has caught up, so the
//! simulator cannot race ahead of what the client has seen: deltas are stamped with the time
//! they were sent, and an idle deadline is always reset before time passes it.

use futures::task::AtomicWaker;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

mod discrete;
pub use discrete::Scheduler;

/// How fast the run's clock goes relative to the wall.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// X times faster than real time (1.0 = real time).
    Times(f64),
    /// No waiting at all.
    Max,
}

impl Speed {
    /// The slowest and fastest finite speeds: beyond them wall times stop fitting a
    /// `Duration` (1e-300 made a 1 s wait 1e300 s, a panic) or round to nothing (use `max`).
    pub const MIN: f64 = 0.001;
    pub const MAX: f64 = 1_000_000.0;

    /// Parses "1", "10", "0.5", "10x", "max"; a number must lie within [MIN, MAX].
    pub fn parse(text: &str) -> Result<Speed, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("max") || t.eq_ignore_ascii_case("inf") {
            return Ok(Speed::Max);
        }
        let t = t.trim_end_matches(['x', 'X']);
        match t.parse::<f64>() {
            Ok(v) if (Self::MIN..=Self::MAX).contains(&v) => Ok(Speed::Times(v)),
            _ => Err(format!(
                "speed `{text}` must be a number between {} and {}, or `max` (no waiting)",
                Self::MIN,
                Self::MAX
            )),
        }
    }

    pub fn label(self) -> String {
        match self {
            Speed::Max => "max".into(),
            Speed::Times(v) if (v - v.round()).abs() < 1e-9 => format!("{}x", v.round() as u64),
            Speed::Times(v) => format!("{v}x"),
        }
    }

    /// Wall time for a span of run time (saturating: a huge span never panics).
    pub fn wall(self, run: Duration) -> Duration {
        match self {
            Speed::Max => Duration::ZERO,
            Speed::Times(v) => scaled(run, v),
        }
    }
}

/// `d / x`, saturating at `Duration::MAX` (`Duration::div_f64` panics past it).
fn scaled(d: Duration, x: f64) -> Duration {
    Duration::try_from_secs_f64(d.as_secs_f64() / x).unwrap_or(Duration::MAX)
}

/// `at + d`, or about a century on when that overflows (a wait that long never ends).
fn instant_after(at: Instant, d: Duration) -> Instant {
    at.checked_add(d)
        .or_else(|| at.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(at)
}

/// The run's clock; cheap to clone (shared).
#[derive(Clone)]
pub struct Clock(Arc<Inner>);

enum Inner {
    Virtual(VirtualClock),
    Real(RealClock),
    /// The lab's: one view of a discrete-event timeline shared by many calls.
    Discrete(discrete::View),
}

impl Clock {
    /// Sim mode: virtual time paced at `speed`.
    pub fn virtual_time(speed: Speed) -> Clock {
        Clock(Arc::new(Inner::Virtual(VirtualClock {
            state: Mutex::new(VState::new(speed)),
            acked: Notify::new(),
            repaced: Notify::new(),
        })))
    }

    /// Live mode: real time; waits scaled by `speed`.
    pub fn real(speed: Speed) -> Clock {
        Clock(Arc::new(Inner::Real(RealClock {
            speed: Mutex::new(speed),
            start: Instant::now(),
            skipped_us: AtomicU64::new(0),
            repaced: Notify::new(),
        })))
    }

    pub fn speed(&self) -> Speed {
        match &*self.0 {
            Inner::Virtual(v) => v.lock().speed,
            Inner::Real(r) => r.speed(),
            Inner::Discrete(d) => d.speed(),
        }
    }

    /// Changes the pace from now on, a sleep in progress included: the run's clock keeps its
    /// numbers (the time reached so far stays), only the wall time still to come changes.
    pub fn set_speed(&self, speed: Speed) {
        match &*self.0 {
            Inner::Virtual(v) => {
                let mut s = v.lock();
                if let Some((_, _, until)) = s.sleeping {
                    // Re-base the sleep in progress on the time it has reached.
                    let reached = VirtualClock::interpolated(&s);
                    s.sleeping = Some((Instant::now(), reached, until));
                }
                s.paced_to = None;
                s.speed = speed;
                drop(s);
                v.repaced.notify_waiters();
            }
            Inner::Real(r) => {
                *r.speed
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = speed;
                r.repaced.notify_waiters();
            }
            // The timeline's driver paces it (a lab's never does).
            Inner::Discrete(d) => d.set_speed(speed),
        }
    }

    /// Time since the run started, on the run's clock.
    pub fn now(&self) -> Duration {
        match &*self.0 {
            Inner::Virtual(v) => v.now(),
            Inner::Real(r) => {
                r.start.elapsed() + Duration::from_micros(r.skipped_us.load(Ordering::Relaxed))
            }
            Inner::Discrete(d) => d.now(),
        }
    }

    pub fn now_ms(&self) -> u64 {
        self.now().as_millis() as u64
    }

    /// An active sleep: a policy wait or a simulated delay.
    pub async fn sleep(&self, d: Duration) {
        match &*self.0 {
            Inner::Virtual(v) => v.sleep(Some(d)).await,
            Inner::Real(r) => r.sleep(d).await,
            Inner::Discrete(v) => v.sleep(Some(d)).await,
        }
    }

    /// Never returns. On the virtual clock it first moves time to the next deadline (so the
    /// client's timeout fires at once); on the real clock it just waits to be dropped.
    pub async fn stall(&self) {
        match &*self.0 {
            Inner::Virtual(v) => v.sleep(None).await,
            Inner::Real(_) => std::future::pending::<()>().await,
            Inner::Discrete(v) => v.sleep(None).await,
        }
    }

    /// Simulator: one stream frame written (virtual clock only; a no-op live).
    pub fn frame_sent(&self) {
        if let Inner::Virtual(v) = &*self.0 {
            v.lock().unacked += 1;
        }
    }

    /// Client: one stream frame parsed.
    pub fn frame_received(&self) {
        if let Inner::Virtual(v) = &*self.0 {
            let mut s = v.lock();
            s.unacked = s.unacked.saturating_sub(1);
            if s.unacked == 0 {
                drop(s);
                v.acked.notify_waiters();
            }
        }
    }

    /// Client: an exchange started or ended; frames not yet acknowledged never will be.
    pub fn settle(&self) {
        if let Inner::Virtual(v) = &*self.0 {
            v.lock().unacked = 0;
            v.acked.notify_waiters();
        }
    }

    /// A passive deadline `d` from now: resolves when the run's clock passes it.
    pub fn deadline(&self, d: Duration) -> Deadline {
        match &*self.0 {
            Inner::Virtual(v) => {
                let fired = Arc::new(Fired::default());
                let key = {
                    let mut s = v.lock();
                    // Measured from the time reached so far, mid-sleep included.
                    let at = VirtualClock::interpolated(&s).saturating_add(d);
                    s.next_id += 1;
                    let key = (at, s.next_id);
                    s.deadlines.insert(key, fired.clone());
                    key
                };
                Deadline::Virtual {
                    clock: self.clone(),
                    key,
                    fired,
                }
            }
            Inner::Real(_) => Deadline::Real(Box::pin(tokio::time::sleep(d))),
            Inner::Discrete(v) => Deadline::Discrete(v.deadline(d)),
        }
    }

    /// Runs `fut` until it finishes or `d` passes on the run's clock (`None` = no limit).
    pub async fn timeout<F: Future>(
        &self,
        d: Option<Duration>,
        fut: F,
    ) -> Result<F::Output, Elapsed> {
        let Some(d) = d else { return Ok(fut.await) };
        let deadline = self.deadline(d);
        tokio::select! {
            biased;
            out = fut => Ok(out),
            () = deadline => Err(Elapsed),
        }
    }
}

/// A deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

#[derive(Default)]
pub struct Fired {
    flag: AtomicBool,
    waker: AtomicWaker,
}

/// A passive deadline; dropping it unregisters it.
pub enum Deadline {
    Virtual {
        clock: Clock,
        key: (Duration, u64),
        fired: Arc<Fired>,
    },
    Real(Pin<Box<tokio::time::Sleep>>),
    Discrete(discrete::Wake),
}

impl Future for Deadline {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.get_mut() {
            Deadline::Real(s) => s.as_mut().poll(cx),
            Deadline::Discrete(w) => Pin::new(w).poll(cx),
            Deadline::Virtual { fired, .. } => fired.poll(cx),
        }
    }
}

impl Fired {
    /// Ready once fired; else registers the task to be woken then.
    fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.flag.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        // Register interest, then check again to close the race with the firing.
        self.waker.register(cx.waker());
        if self.flag.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        if let Deadline::Virtual { clock, key, .. } = self
            && let Inner::Virtual(v) = &*clock.0
        {
            v.lock().deadlines.remove(key);
        }
    }
}

struct RealClock {
    speed: Mutex<Speed>,
    start: Instant,
    /// Run time that passed without wall time (the part of each wait the speed took off).
    skipped_us: AtomicU64,
    /// Woken when the speed changes (a sleep in progress re-paces).
    repaced: Notify,
}

impl RealClock {
    fn speed(&self) -> Speed {
        *self
            .speed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn skip(&self, d: Duration) {
        self.skipped_us
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }

    /// `d` of run time, in wall time at the speed of the moment (re-paced when it changes).
    async fn sleep(&self, d: Duration) {
        let mut left = d;
        loop {
            let changed = self.repaced.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let speed = self.speed();
            let wall = speed.wall(left);
            // A zero wait never touches tokio's timer (it rounds up to its 1 ms tick).
            if wall.is_zero() {
                self.skip(left);
                return;
            }
            let started = Instant::now();
            tokio::select! {
                () = tokio::time::sleep(wall) => {
                    self.skip(left.saturating_sub(wall));
                    return;
                }
                () = changed => {
                    let spent = started.elapsed().min(wall);
                    let done = match speed {
                        Speed::Times(x) => scaled(spent, 1.0 / x).min(left),
                        Speed::Max => left,
                    };
                    self.skip(done.saturating_sub(spent));
                    left = left.saturating_sub(done);
                }
            }
        }
    }
}

struct VirtualClock {
    state: Mutex<VState>,
    /// Woken when every sent frame has been acknowledged.
    acked: Notify,
    /// Woken when the speed changes (a paced sleep re-computes when it is due).
    repaced: Notify,
}

/// How long a sleep waits for the client to acknowledge frames before going on anyway (a
/// client that stopped reading must not stall the clock).
const ACK_PATIENCE: Duration = Duration::from_millis(50);

/// How far behind its wall schedule a paced sleep may start and still be paced against it
/// (catching up); further behind (a stalled reader, a slow machine), pacing restarts from now
/// rather than rushing through the backlog.
const PACE_SLACK: Duration = Duration::from_millis(100);

struct VState {
    speed: Speed,
    now: Duration,
    /// While a paced sleep runs: (wall start, run time at start, run time at end).
    sleeping: Option<(Instant, Duration, Duration)>,
    /// Where the last paced sleep was due to end: (wall instant, run time). A sleep starting
    /// at that run time is paced from that instant, not from when it starts, so each wake-up's
    /// overshoot (and the work between sleeps) is absorbed instead of adding up.
    paced_to: Option<(Instant, Duration)>,
    deadlines: BTreeMap<(Duration, u64), Arc<Fired>>,
    next_id: u64,
    /// Stream frames sent and not yet parsed by the client.
    unacked: u64,
}

impl VState {
    fn new(speed: Speed) -> VState {
        VState {
            speed,
            now: Duration::ZERO,
            sleeping: None,
            paced_to: None,
            deadlines: BTreeMap::new(),
            next_id: 0,
            unacked: 0,
        }
    }
}

impl VirtualClock {
    fn lock(&self) -> MutexGuard<'_, VState> {
        // A poisoned lock only means another task panicked mid-update; the state is plain data.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn now(&self) -> Duration {
        let s = self.lock();
        Self::interpolated(&s)
    }

    /// The time reached: mid-sleep, how far the sleep has gone at the current speed.
    fn interpolated(s: &VState) -> Duration {
        match (s.sleeping, s.speed) {
            (Some((wall_start, from, until)), Speed::Times(x)) => {
                let run = scaled(wall_start.elapsed(), 1.0 / x);
                (from + run).min(until)
            }
            // Just switched to max mid-sleep: the sleeper is about to wake.
            (Some((_, from, _)), Speed::Max) => from,
            (None, _) => s.now,
        }
    }

    /// When the paced sleep in progress is due, at the current speed.
    fn due(&self) -> Instant {
        let s = self.lock();
        match (s.sleeping, s.speed) {
            (Some((start, from, until)), Speed::Times(x)) => {
                instant_after(start, scaled(until.saturating_sub(from), x))
            }
            _ => Instant::now(),
        }
    }

    /// Sleeps until the paced step is due, re-computing that when the speed changes;
    /// returns the instant it was due.
    async fn sleep_until_due(&self) -> Instant {
        loop {
            let changed = self.repaced.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            // Read after enabling: a change before this point is seen here, one after wakes us.
            let due = self.due();
            if due <= Instant::now() {
                return due;
            }
            tokio::select! {
                () = tokio::time::sleep_until(due.into()) => return due,
                () = changed => {}
            }
        }
    }

    /// Waits until the client has parsed every frame sent, for at most [`ACK_PATIENCE`].
    async fn caught_up(&self) {
        let wait = async {
            loop {
                let notified = self.acked.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.lock().unacked == 0 {
                    return;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(ACK_PATIENCE, wait).await;
    }

    /// The wall instant a paced step from run time `from` to `end` is due, marking the step
    /// as sleeping: from the last step's due instant when this one continues it, else now.
    fn pace_from(&self, from: Duration, end: Duration, x: f64) -> Instant {
        let now = Instant::now();
        let mut s = self.lock();
        let start = match s.paced_to {
            Some((at, run)) if run == from && now.saturating_duration_since(at) <= PACE_SLACK => at,
            _ => now,
        };
        s.sleeping = Some((start, from, end));
        instant_after(start, scaled(end.saturating_sub(from), x))
    }

    /// `d = None` sleeps forever (a stall).
    async fn sleep(&self, d: Option<Duration>) {
        self.caught_up().await;
        let target = {
            let s = self.lock();
            d.map(|d| s.now.saturating_add(d))
        };
        loop {
            // Where this step ends: the target, or an earlier deadline that fires there.
            let (from, end, fires) = {
                let s = self.lock();
                let next = s.deadlines.keys().next().copied();
                match (next, target) {
                    (Some(key), Some(t)) if key.0 <= t => (s.now, key.0, Some(key)),
                    (Some(key), None) => (s.now, key.0, Some(key)),
                    (_, Some(t)) => (s.now, t, None),
                    (None, None) => (s.now, Duration::MAX, None),
                }
            };
            if end == Duration::MAX {
                std::future::pending::<()>().await;
            }
            let speed = self.lock().speed;
            if let Speed::Times(x) = speed {
                let mut due = self.pace_from(from, end, x);
                // Due already (behind schedule, or a zero step): no trip through the timer,
                // so every frame that is due goes out at this wake-up.
                if due > Instant::now() {
                    let guard = SleepGuard { clock: self };
                    due = self.sleep_until_due().await;
                    drop(guard);
                }
                self.lock().paced_to = Some((due, end));
            }
            let fired = {
                let mut s = self.lock();
                s.sleeping = None;
                if end > s.now {
                    s.now = end;
                }
                match fires {
                    None => return,
                    // None when the deadline was replaced meanwhile (an idle timer reset).
                    Some(key) => s.deadlines.remove(&key),
                }
            };
            if let Some(f) = fired {
                f.flag.store(true, Ordering::Release);
                f.waker.wake();
                // The client gave up on the request this sleeper serves.
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Clears the paced-sleep marker if a sleep is dropped half-way (cancel), keeping the time
/// reached so far.
struct SleepGuard<'a> {
    clock: &'a VirtualClock,
}

impl Drop for SleepGuard<'_> {
    fn drop(&mut self) {
        let mut s = self.clock.lock();
        if s.sleeping.is_some() {
            let reached = VirtualClock::interpolated(&s);
            s.now = s.now.max(reached);
            s.sleeping = None;
            // Cut short: the next sleep is paced from when it starts.
            s.paced_to = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `sleep` on `c` while `change` sets a new speed after `after` of wall time;
    /// returns the wall time the sleep took.
    async fn sleep_with_change(c: &Clock, sleep: Duration, after: Duration, to: Speed) -> Duration {
        let wall = Instant::now();
        let changer = c.clone();
        let change = tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let before = changer.now();
            changer.set_speed(to);
            assert!(
                changer.now() >= before,
                "a speed change never moves time back"
            );
        });
        c.sleep(sleep).await;
        change.await.unwrap();
        wall.elapsed()
    }

    #[tokio::test]
    async fn virtual_speed_up_mid_sleep_applies_at_once() {
        // 10 s at 10x is 1 s of wall time; switched to max after 0.1 s it ends then.
        let c = Clock::virtual_time(Speed::Times(10.0));
        let wall = sleep_with_change(
            &c,
            Duration::from_secs(10),
            Duration::from_millis(100),
            Speed::Max,
        )
        .await;
        assert!(wall < Duration::from_millis(600), "{wall:?}");
        assert_eq!(
            c.now(),
            Duration::from_secs(10),
            "the run clock keeps its numbers"
        );
        assert_eq!(c.speed(), Speed::Max);
        // 2 s at 1x, sped up to 100x after 0.1 s: the 1.9 s left take 19 ms.
        let c = Clock::virtual_time(Speed::Times(1.0));
        let wall = sleep_with_change(
            &c,
            Duration::from_secs(2),
            Duration::from_millis(100),
            Speed::Times(100.0),
        )
        .await;
        assert!(
            wall >= Duration::from_millis(110) && wall < Duration::from_millis(700),
            "{wall:?}"
        );
        assert_eq!(c.now(), Duration::from_secs(2));
    }

    #[tokio::test]
    async fn speed_flips_during_many_short_sleeps_never_move_time_back_or_hang() {
        // 400 paced 5 ms sleeps (2 s of run time) while another task flips the speed every
        // millisecond between 1x, 2x and 10x (about 0.5 s of wall time, hundreds of flips,
        // many mid-sleep): the clock only moves forward, and the sleeps end at exactly 2 s.
        let c = Clock::virtual_time(Speed::Times(1.0));
        let flipper = c.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let flips = tokio::spawn(async move {
            let speeds = [Speed::Times(1.0), Speed::Times(2.0), Speed::Times(10.0)];
            let mut i = 0;
            let mut last = Duration::ZERO;
            while !stop2.load(Ordering::Relaxed) {
                flipper.set_speed(speeds[i % 3]);
                let now = flipper.now();
                assert!(now >= last, "time went back: {now:?} < {last:?}");
                last = now;
                i += 1;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            i
        });
        let sleeper = async {
            for _ in 0..400 {
                c.sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), sleeper)
            .await
            .expect("the sleeps end");
        stop.store(true, Ordering::Relaxed);
        assert!(flips.await.unwrap() > 50);
        assert_eq!(c.now(), Duration::from_secs(2));
    }

    #[tokio::test]
    async fn virtual_slow_down_mid_sleep_stretches_the_rest() {
        // 10 s at 20x (0.5 s of wall); at 0.1 s (2 s reached) slowed to 10x: the 8 s left
        // take 0.8 s, 0.9 s in all.
        let c = Clock::virtual_time(Speed::Times(20.0));
        let wall = sleep_with_change(
            &c,
            Duration::from_secs(10),
            Duration::from_millis(100),
            Speed::Times(10.0),
        )
        .await;
        assert!(
            wall >= Duration::from_millis(880) && wall < Duration::from_millis(1500),
            "{wall:?}"
        );
        assert_eq!(c.now(), Duration::from_secs(10));
    }

    #[tokio::test]
    async fn real_speed_change_mid_wait_keeps_the_run_clock() {
        // A 2 s wait at 1x, switched to max after 0.1 s: it ends then, and the run clock
        // reads the whole 2 s (0.1 s lived, 1.9 s skipped).
        let c = Clock::real(Speed::Times(1.0));
        let wall = sleep_with_change(
            &c,
            Duration::from_secs(2),
            Duration::from_millis(100),
            Speed::Max,
        )
        .await;
        assert!(wall < Duration::from_millis(600), "{wall:?}");
        let now = c.now();
        assert!(
            now >= Duration::from_secs(2) && now < Duration::from_millis(2_400),
            "{now:?}"
        );
        // 1 s at 10x (0.1 s), slowed to 2x after 50 ms (0.5 s reached): 0.25 s more.
        let c = Clock::real(Speed::Times(10.0));
        let wall = sleep_with_change(
            &c,
            Duration::from_secs(1),
            Duration::from_millis(50),
            Speed::Times(2.0),
        )
        .await;
        assert!(
            wall >= Duration::from_millis(280) && wall < Duration::from_millis(900),
            "{wall:?}"
        );
        let now = c.now();
        assert!(
            now >= Duration::from_secs(1) && now < Duration::from_millis(1_400),
            "{now:?}"
        );
    }

    #[tokio::test]
    async fn virtual_max_sleeps_advance_instantly() {
        let c = Clock::virtual_time(Speed::Max);
        let wall = Instant::now();
        c.sleep(Duration::from_secs(4)).await;
        c.sleep(Duration::from_secs(8)).await;
        assert_eq!(c.now(), Duration::from_secs(12));
        assert!(wall.elapsed() < Duration::from_millis(500));
    }

    #[tokio::test]
    async fn stall_fires_the_next_deadline_at_its_time() {
        let c = Clock::virtual_time(Speed::Max);
        c.sleep(Duration::from_secs(1)).await;
        let staller = c.clone();
        let server = tokio::spawn(async move { staller.stall().await });
        let r = c
            .timeout(Some(Duration::from_secs(60)), std::future::pending::<()>())
            .await;
        assert_eq!(r, Err(Elapsed));
        assert_eq!(c.now(), Duration::from_secs(61));
        server.abort();
    }

    #[tokio::test]
    async fn a_sleep_past_a_deadline_stops_there() {
        let c = Clock::virtual_time(Speed::Max);
        let sim = c.clone();
        // The "server" takes 5 s; the client allows 2 s.
        let server = tokio::spawn(async move {
            sim.sleep(Duration::from_secs(5)).await;
            "late"
        });
        let r = c
            .timeout(Some(Duration::from_secs(2)), async {
                // Await the server's answer.
                tokio::time::sleep(Duration::from_secs(3600)).await;
            })
            .await;
        assert_eq!(r, Err(Elapsed));
        assert_eq!(c.now(), Duration::from_secs(2));
        server.abort();
    }

    #[tokio::test]
    async fn a_sleep_before_a_deadline_does_not_fire_it() {
        let c = Clock::virtual_time(Speed::Max);
        let sim = c.clone();
        let r = c
            .timeout(Some(Duration::from_secs(2)), async move {
                sim.sleep(Duration::from_secs(1)).await;
                7
            })
            .await;
        assert_eq!(r, Ok(7));
        assert_eq!(c.now(), Duration::from_secs(1));
        // The dropped deadline no longer bounds later sleeps.
        c.sleep(Duration::from_secs(10)).await;
        assert_eq!(c.now(), Duration::from_secs(11));
    }

    #[tokio::test]
    async fn scaled_virtual_sleep_takes_a_fraction_of_wall_time() {
        let c = Clock::virtual_time(Speed::Times(100.0));
        let wall = Instant::now();
        c.sleep(Duration::from_secs(2)).await; // 20 ms of wall time
        let took = wall.elapsed();
        assert!(took >= Duration::from_millis(19), "{took:?}");
        assert_eq!(c.now(), Duration::from_secs(2));
    }

    #[tokio::test]
    async fn real_clock_adds_the_skipped_part_of_waits() {
        let c = Clock::real(Speed::Max);
        c.sleep(Duration::from_secs(30)).await;
        assert!(c.now() >= Duration::from_secs(30));
        assert!(c.now() < Duration::from_secs(31));
    }

    #[tokio::test]
    async fn a_sleep_waits_for_the_client_to_catch_up() {
        let c = Clock::virtual_time(Speed::Max);
        c.frame_sent();
        let client = c.clone();
        let reader = tokio::spawn(async move {
            // The client parses the frame at run time 0, before the sender's next sleep.
            let seen_at = client.now();
            client.frame_received();
            seen_at
        });
        c.sleep(Duration::from_secs(1)).await;
        assert_eq!(reader.await.unwrap(), Duration::ZERO);
        assert_eq!(c.now(), Duration::from_secs(1));
    }

    #[tokio::test]
    async fn an_unread_frame_delays_a_sleep_only_briefly() {
        let c = Clock::virtual_time(Speed::Max);
        c.frame_sent();
        let wall = Instant::now();
        c.sleep(Duration::from_secs(1)).await;
        assert!(wall.elapsed() >= ACK_PATIENCE);
        c.settle();
        let wall = Instant::now();
        c.sleep(Duration::from_secs(1)).await;
        assert!(wall.elapsed() < ACK_PATIENCE);
        assert_eq!(c.now(), Duration::from_secs(2));
    }

    #[tokio::test]
    async fn zero_waits_skip_the_timer() {
        // tokio's timer rounds a zero sleep up to its 1 ms tick: 200 of them took ~220 ms.
        let c = Clock::real(Speed::Times(1.0));
        let wall = Instant::now();
        for _ in 0..200 {
            c.sleep(Duration::ZERO).await;
        }
        assert!(
            wall.elapsed() < Duration::from_millis(50),
            "{:?}",
            wall.elapsed()
        );
        let v = Clock::virtual_time(Speed::Times(1.0));
        let wall = Instant::now();
        for _ in 0..200 {
            v.sleep(Duration::ZERO).await;
        }
        assert!(
            wall.elapsed() < Duration::from_millis(50),
            "{:?}",
            wall.elapsed()
        );
        assert_eq!(v.now(), Duration::ZERO);
    }

    #[tokio::test]
    async fn paced_sleeps_do_not_add_up_their_overshoots() {
        // 100 sleeps of 0.5 ms at speed 1: 50 ms, not 100 x (0.5 ms + a timer tick).
        let c = Clock::virtual_time(Speed::Times(1.0));
        let wall = Instant::now();
        for _ in 0..100 {
            c.sleep(Duration::from_micros(500)).await;
        }
        let took = wall.elapsed();
        assert!(took >= Duration::from_millis(49), "{took:?}");
        assert!(took < Duration::from_millis(80), "{took:?}"); // was >= 100 ms
        assert_eq!(c.now(), Duration::from_millis(50));
    }

    #[test]
    fn huge_spans_saturate_instead_of_panicking() {
        assert_eq!(Speed::Times(0.5).wall(Duration::MAX), Duration::MAX);
        let now = Instant::now();
        assert!(instant_after(now, Duration::MAX) > now);
    }

    #[test]
    fn parses_speeds() {
        assert_eq!(Speed::parse("max").unwrap(), Speed::Max);
        assert_eq!(Speed::parse("10").unwrap(), Speed::Times(10.0));
        assert_eq!(Speed::parse("10x").unwrap(), Speed::Times(10.0));
        assert!(Speed::parse("0").is_err());
        assert!(Speed::parse("fast").is_err());
        assert_eq!(Speed::parse("0.001").unwrap(), Speed::Times(0.001));
        assert_eq!(Speed::parse("1e6").unwrap(), Speed::Times(1e6));
        for bad in [
            "1e300", "1e-300", "1000001", "0.0009", "-1", "nan", "inf x", "",
        ] {
            let e = Speed::parse(bad).unwrap_err();
            assert!(
                e.contains("between 0.001 and 1000000, or `max`"),
                "{bad}: {e}"
            );
        }
        assert_eq!(Speed::Times(10.0).label(), "10x");
        assert_eq!(Speed::Max.label(), "max");
    }
}
