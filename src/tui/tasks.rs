//! The playground's async work: an engine run (teeing its events into a trace) and a trace
//! replay at its recorded pace. Both only send: events on the run channel, then one
//! [`Message::RunDone`].

use super::message::Message;
use crate::clock::Speed;
use crate::config::Config;
use crate::engine::run::RunControl;
use crate::engine::run::{EventSink, RunOptions, event_channel, run_with_control};
use crate::event::{Mode, TimedEvent};
use crate::scenario::types::Scenario;
use crate::trace::TraceWriter;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub struct RunRequest {
    pub id: u64,
    pub scenario: Arc<Scenario>,
    pub mode: Mode,
    pub config: Arc<Config>,
    /// The speed it starts at (sim mode; live waits are real).
    pub speed: Speed,
    /// Where to write the trace (none: not recorded).
    pub traces: Option<PathBuf>,
    /// Shared with the session: Esc cancels, F3 re-paces, the skip key ends a wait.
    pub control: RunControl,
    /// Bounded: when the UI lags, deltas merge (`engine::sink`).
    pub events: EventSink,
    pub msgs: UnboundedSender<Message>,
}

/// Runs the engine in its own task; every event is written to the trace, then forwarded.
pub fn spawn_run(req: RunRequest) {
    tokio::spawn(async move {
        let RunRequest {
            id,
            scenario,
            mode,
            config,
            speed,
            traces,
            control,
            events,
            msgs,
        } = req;
        let mut problem = None;
        let mut trace = match traces {
            Some(dir) => match TraceWriter::create(&dir, &scenario.name) {
                Ok(w) => {
                    // As `retrylab run`: the oldest go beyond `[traces] keep`, never this one.
                    crate::history::prune(&dir, config.traces_keep(), w.path());
                    Some(w)
                }
                Err(e) => {
                    problem = Some(format!(
                        "run not recorded: cannot create a trace in {}: {e}",
                        dir.display()
                    ));
                    None
                }
            },
            None => None,
        };
        let (sink, mut rx) = event_channel();
        let opts = RunOptions {
            mode,
            speed,
            config,
        };
        let engine = tokio::spawn(run_with_control(scenario, opts, sink, control));
        while let Some(ev) = rx.recv().await {
            // Flushed when the queue runs dry: a killed run loses only its last moments.
            if let Some(w) = trace.as_mut()
                && let Err(e) = w
                    .write(&ev)
                    .and_then(|()| if rx.is_empty() { w.flush() } else { Ok(()) })
            {
                problem = Some(format!("run not recorded past this point: {e}"));
                trace = None;
            }
            // The UI may have moved on to another run; the trace still gets everything.
            let _ = events.send(ev);
        }
        if let Err(e) = engine.await {
            problem = Some(format!("the engine stopped unexpectedly: {e}"));
        }
        let path = trace.as_mut().and_then(|w| {
            w.flush().ok()?;
            Some(w.path().to_path_buf())
        });
        let _ = msgs.send(Message::RunDone {
            id,
            trace: path,
            problem,
        });
    });
}

/// Plays recorded events at their `t_ms` pace, scaled by the (changeable) speed.
pub fn spawn_replay(
    id: u64,
    recorded: Arc<Vec<TimedEvent>>,
    mut speed: watch::Receiver<Speed>,
    cancel: CancellationToken,
    events: EventSink,
    msgs: UnboundedSender<Message>,
) {
    tokio::spawn(async move {
        let mut prev_t = 0u64;
        'events: for ev in recorded.iter() {
            let mut left_ms = ev.t_ms.saturating_sub(prev_t) as f64;
            while left_ms > 0.0 {
                let Speed::Times(x) = *speed.borrow_and_update() else {
                    break;
                };
                let wall = Duration::from_secs_f64(left_ms / 1000.0 / x);
                let started = Instant::now();
                tokio::select! {
                    () = tokio::time::sleep(wall) => break,
                    changed = speed.changed() => {
                        if changed.is_err() {
                            // Nobody can change the speed any more: finish this gap as is.
                            tokio::time::sleep(wall.saturating_sub(started.elapsed())).await;
                            break;
                        }
                        left_ms -= started.elapsed().as_secs_f64() * 1000.0 * x;
                    }
                    () = cancel.cancelled() => break 'events,
                }
            }
            if cancel.is_cancelled() {
                break;
            }
            prev_t = ev.t_ms;
            if events.send(ev.clone()).is_err() {
                break;
            }
        }
        let _ = msgs.send(Message::RunDone {
            id,
            trace: None,
            problem: None,
        });
    });
}
