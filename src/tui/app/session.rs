//! The run session: the current run or replay, its event stream, its cancel, and the RunView
//! its events build. Starting one spawns a task (tasks.rs) that reports back only through
//! messages; the mode and speed chosen for the next run live here too.

use crate::clock::Speed;
use crate::config::Config;
use crate::engine::run::RunControl;
use crate::engine::run::{EventStream, event_channel};
use crate::event::{Event, Mode, Outcome, RunFinished, TimedEvent};
use crate::scenario::types::Scenario;
use crate::tui::message::Message;
use crate::tui::run_view::{RunClock, RunView};
use crate::tui::tasks::{self, RunRequest};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The speeds F3 cycles through.
const SPEEDS: [f64; 3] = [1.0, 10.0, 100.0];

/// The run or replay in flight.
struct Active {
    id: u64,
    cancel: CancellationToken,
    /// How a speed change reaches it while it goes on.
    pace: Pace,
}

/// What F3 changes in the run or replay in flight.
enum Pace {
    /// A run: its controls (a sim run's clock follows every speed change; a live run's
    /// waits are real and stay at 1x, whatever mode is chosen for the next run).
    Run { control: RunControl, mode: Mode },
    /// A replay: the task that plays it follows the new speed at once.
    Replay(watch::Sender<Speed>),
}

pub(super) struct Session {
    pub run: RunView,
    pub clock: RunClock,
    active: Option<Active>,
    next_id: u64,
    /// The current run's events; the loop receives from it.
    pub run_rx: Option<EventStream>,
    /// The recorded run shown, when the playground was opened on a trace.
    pub replay: Option<(Arc<Vec<TimedEvent>>, PathBuf)>,
    pub mode: Mode,
    pub speed: Speed,
}

impl Session {
    pub fn new(mode: Mode, speed: Speed, now: Instant) -> Session {
        Session {
            run: RunView::new(),
            clock: RunClock::new(speed, now),
            active: None,
            next_id: 0,
            run_rx: None,
            replay: None,
            mode,
            speed,
        }
    }

    pub fn is_running(&self) -> bool {
        self.active.is_some()
    }

    pub fn is_replay(&self) -> bool {
        self.replay.is_some()
    }

    /// True while a countdown drains or a spinner turns.
    pub fn is_animating(&self) -> bool {
        self.active.is_some() && self.run.any_running()
    }

    /// The run shown has started and not finished (what the status bar and hints say).
    pub fn shows_running(&self) -> bool {
        self.run.mode.is_some() && self.run.finished.is_none()
    }

    /// The speed runs go at: the chosen one, except live, where waits are real (a server's
    /// Retry-After is never compressed); a replay always follows the chosen one.
    pub fn effective_speed(&self) -> Speed {
        if self.mode == Mode::Live && self.replay.is_none() {
            Speed::Times(1.0)
        } else {
            self.speed
        }
    }

    /// The mode the status bar shows: a replay's own, else the chosen one.
    pub fn shown_mode(&self) -> Mode {
        self.run
            .mode
            .filter(|_| self.replay.is_some())
            .unwrap_or(self.mode)
    }

    /// A fresh RunView, and the countdown clock started as a run would.
    pub fn reset(&mut self, now: Instant) {
        self.run = RunView::new();
        self.clock = RunClock::new(self.effective_speed(), now);
        self.clock.start(now);
    }

    /// Feeds a batch of the run's events to the view and the clock.
    pub fn apply(&mut self, batch: &[TimedEvent], now: Instant) {
        for ev in batch {
            self.run.apply(ev);
            self.clock.observe(ev.t_ms, now);
            if matches!(ev.event, Event::RunFinished(_)) {
                self.clock.stop(now);
            }
        }
    }

    /// Starts a run of `scenario` (the caller resets the run panes).
    pub fn start_run(
        &mut self,
        scenario: Arc<Scenario>,
        config: Config,
        traces: Option<PathBuf>,
        msgs: UnboundedSender<Message>,
        now: Instant,
    ) {
        let (id, cancel) = self.next();
        let (tx, rx) = event_channel();
        self.run_rx = Some(rx);
        self.reset(now);
        let control = RunControl::with_cancel(cancel.clone());
        tasks::spawn_run(RunRequest {
            id,
            scenario,
            mode: self.mode,
            config: Arc::new(config),
            speed: self.effective_speed(),
            traces,
            control: control.clone(),
            events: tx,
            msgs,
        });
        self.active = Some(Active {
            id,
            cancel,
            pace: Pace::Run {
                control,
                mode: self.mode,
            },
        });
    }

    /// Plays the recorded run again; false when there is none.
    pub fn start_replay(&mut self, msgs: UnboundedSender<Message>, now: Instant) -> bool {
        let Some((events, _)) = &self.replay else {
            return false;
        };
        let events = events.clone();
        let (id, cancel) = self.next();
        let (tx, rx) = event_channel();
        let (speed_tx, speed_rx) = watch::channel(self.speed);
        self.run_rx = Some(rx);
        self.reset(now);
        tasks::spawn_replay(id, events, speed_rx, cancel.clone(), tx, msgs);
        self.active = Some(Active {
            id,
            cancel,
            pace: Pace::Replay(speed_tx),
        });
        true
    }

    fn next(&mut self) -> (u64, CancellationToken) {
        self.next_id += 1;
        (self.next_id, CancellationToken::new())
    }

    /// Ends the policy wait shown in progress of the run in flight; false when there is none
    /// (no run, a replay, or no wait going on).
    pub fn skip_wait(&self) -> bool {
        let Some(Pace::Run { control, .. }) = self.active.as_ref().map(|a| &a.pace) else {
            return false;
        };
        // The wait on screen, by name: if the run has moved on, the next wait stays.
        match self.run.waits.last().filter(|w| !w.finished) {
            Some(w) => {
                control.skip_wait_of(w.hop, w.attempt);
                true
            }
            None => false,
        }
    }

    /// Asks the run in flight to stop; false when there is none.
    pub fn cancel(&self) -> bool {
        match &self.active {
            Some(a) => {
                a.cancel.cancel();
                true
            }
            None => false,
        }
    }

    /// Cancels the run or replay in flight and lets it go: its last messages are ignored
    /// (its trace is still written whole), and the run panes are cleared.
    pub fn forget(&mut self, now: Instant) {
        self.cancel();
        self.active = None;
        self.run_rx = None;
        self.run = RunView::new();
        self.clock = RunClock::new(self.effective_speed(), now);
    }

    /// The task `id` ended: is it the current run?
    pub fn is_current(&self, id: u64) -> bool {
        self.active.as_ref().is_some_and(|a| a.id == id)
    }

    /// The events still queued (every event was sent before the task's last message).
    pub fn drain(&mut self) -> Vec<TimedEvent> {
        let mut rest = Vec::new();
        if let Some(rx) = self.run_rx.as_mut() {
            while let Ok(ev) = rx.try_recv() {
                rest.push(ev);
            }
        }
        rest
    }

    /// The run is over; true when it ended without its last event and one was added.
    pub fn close(&mut self, now: Instant) -> bool {
        self.active = None;
        let added = self.run.finished.is_none();
        if added {
            // A replay stopped early, or a run ended without its last event.
            let t = self.run.last_t;
            self.run.apply(&TimedEvent {
                t_ms: t,
                event: Event::RunFinished(RunFinished {
                    outcome: Outcome::Cancelled,
                    content: None,
                    error: None,
                    caught: Vec::new(),
                    total_cost_usd: None,
                    total_cost_estimated: false,
                    degraded: false,
                }),
            });
        }
        self.clock.stop(now);
        added
    }

    /// F3: the next speed; says what it changes.
    pub fn cycle_speed(&mut self, now: Instant) -> String {
        let next = match self.speed {
            Speed::Times(x) => SPEEDS
                .iter()
                .position(|s| (s - x).abs() < 1e-9)
                .map_or(SPEEDS[0], |i| SPEEDS[(i + 1) % SPEEDS.len()]),
            Speed::Max => SPEEDS[0],
        };
        self.speed = Speed::Times(next);
        let label = self.speed.label();
        match self.active.as_ref().map(|a| &a.pace) {
            Some(Pace::Replay(tx)) => {
                // A replay follows the new speed at once.
                let _ = tx.send(self.speed);
                self.clock.set_speed(self.speed, now);
                format!("replay speed {label}")
            }
            // Whatever mode the next run is set to: this run's own mode decides.
            Some(Pace::Run {
                mode: Mode::Live, ..
            }) => format!("speed {label}: applies in SIM mode (live waits are real)"),
            Some(Pace::Run { control, .. }) => {
                // From this moment on, the wait in progress included; the run's clock keeps
                // its numbers.
                control.set_speed(self.speed);
                self.clock.set_speed(self.speed, now);
                format!("speed {label}: this run goes on at {label}")
            }
            None if self.effective_speed() != self.speed => {
                format!("speed {label}: applies in SIM mode (live waits are real)")
            }
            None => format!("speed {label}: waits and simulated delays"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_run(run_mode: Mode, next_mode: Mode) -> (Session, RunControl) {
        let now = Instant::now();
        let mut s = Session::new(next_mode, Speed::Times(1.0), now);
        let control = RunControl::new();
        s.active = Some(Active {
            id: 1,
            cancel: control.cancel_token().clone(),
            pace: Pace::Run {
                control: control.clone(),
                mode: run_mode,
            },
        });
        (s, control)
    }

    #[tokio::test]
    async fn f3_never_speeds_up_a_live_run_whatever_mode_comes_next() {
        // A live run, then F2 chose SIM for the next run: the live run's waits stay real.
        let (mut s, control) = with_run(Mode::Live, Mode::Sim);
        let clock = crate::clock::Clock::real(Speed::Times(1.0));
        control.attach(&clock);
        let said = s.cycle_speed(Instant::now());
        assert_eq!(said, "speed 10x: applies in SIM mode (live waits are real)");
        assert_eq!(clock.speed(), Speed::Times(1.0));
        // A sim run, then F2 chose LIVE for the next one: the sim run is re-paced.
        let (mut s, control) = with_run(Mode::Sim, Mode::Live);
        let clock = crate::clock::Clock::virtual_time(Speed::Times(1.0));
        control.attach(&clock);
        assert_eq!(
            s.cycle_speed(Instant::now()),
            "speed 10x: this run goes on at 10x"
        );
        assert_eq!(clock.speed(), Speed::Times(10.0));
    }
}
