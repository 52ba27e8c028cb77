//! How a caller steers a run in progress: cancel it, skip the policy wait in progress, or
//! change the pace of its clock. One cheap handle, cloned into the UI and the engine.

use crate::clock::{Clock, Speed};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Notify;
use tokio::sync::futures::Notified;
use tokio_util::sync::CancellationToken;

/// A run's controls (see [`crate::engine::run::run_with_control`]). Cloning shares them.
#[derive(Clone, Default)]
pub struct RunControl(Arc<Shared>);

#[derive(Default)]
struct Shared {
    cancel: CancellationToken,
    /// Woken by `skip_wait`: only a wait in progress hears it (no permit is stored).
    skip: Notify,
    /// The wait a skip means, `(hop, attempt)`; `None`: whichever is in progress.
    skip_target: Mutex<Option<(u32, u32)>>,
    pace: Mutex<Pace>,
}

/// The run's clock once the run has one, and a speed asked for before that.
#[derive(Default)]
struct Pace {
    clock: Option<Clock>,
    speed: Option<Speed>,
}

impl RunControl {
    pub fn new() -> Self {
        Self::default()
    }

    /// Controls whose cancel is `cancel` (what [`crate::engine::run::run`] takes).
    pub fn with_cancel(cancel: CancellationToken) -> Self {
        RunControl(Arc::new(Shared {
            cancel,
            ..Shared::default()
        }))
    }

    /// Ends the run: it emits what was cut short, then `run_finished` with `cancelled`.
    pub fn cancel(&self) {
        self.0.cancel.cancel();
    }

    pub fn cancel_token(&self) -> &CancellationToken {
        &self.0.cancel
    }

    /// Ends the policy wait in progress now; the run goes on with the next attempt and the
    /// wait's `wait_finished` says `ended: "skipped"`. Outside a wait it does nothing (a
    /// press that comes late never skips the next wait).
    pub fn skip_wait(&self) {
        *self.target() = None;
        self.0.skip.notify_waiters();
    }

    /// As [`RunControl::skip_wait`], for the wait after attempt `attempt` of hop `hop` only:
    /// a press made while the UI showed that wait never skips the next one.
    pub fn skip_wait_of(&self, hop: u32, attempt: u32) {
        *self.target() = Some((hop, attempt));
        self.0.skip.notify_waiters();
    }

    /// Whether the skip just heard means the wait after `(hop, attempt)`.
    pub(super) fn skip_is_for(&self, hop: u32, attempt: u32) -> bool {
        self.target().is_none_or(|t| t == (hop, attempt))
    }

    fn target(&self) -> std::sync::MutexGuard<'_, Option<(u32, u32)>> {
        self.0
            .skip_target
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The run's pace from now on, the wait or simulated delay in progress included; the
    /// run's clock keeps its numbers. Applies to sim runs (live waits are real).
    pub fn set_speed(&self, speed: Speed) {
        let mut pace = self.pace();
        pace.speed = Some(speed);
        if let Some(clock) = &pace.clock {
            clock.set_speed(speed);
        }
    }

    /// The run's clock, as the run starts: a speed asked for already applies.
    pub(crate) fn attach(&self, clock: &Clock) {
        let mut pace = self.pace();
        if let Some(speed) = pace.speed {
            clock.set_speed(speed);
        }
        pace.clock = Some(clock.clone());
    }

    /// A skip to listen for: enable it before announcing the wait, so a skip that follows
    /// the announcement is never missed.
    pub(super) fn skipped(&self) -> Notified<'_> {
        self.0.skip.notified()
    }

    fn pace(&self) -> std::sync::MutexGuard<'_, Pace> {
        // Plain data: a panic elsewhere leaves nothing half-written.
        self.0.pace.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for RunControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunControl")
            .field("cancelled", &self.0.cancel.is_cancelled())
            .finish_non_exhaustive()
    }
}
