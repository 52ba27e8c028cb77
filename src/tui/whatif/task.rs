//! The what-if off the UI thread: the ONE place the playground calls `whatif::whatif`. A
//! thread of its own reads the trace back (checked line by line), runs the engine on the
//! fault script at speed max with a runtime of its own, folds both sides' events into
//! timelines, and sends one message.

use super::{Shown, WhatifMsg};
use crate::config::Config;
use crate::event::TimedEvent;
use crate::tui::message::Message;
use crate::tui::run_view::RunView;
use crate::whatif::{MapMode, Policy};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

/// What one what-if needs.
pub struct Job {
    pub id: u64,
    pub trace: PathBuf,
    /// The recorded events as the replay read them (drawn as the recorded timeline).
    pub recorded: Arc<Vec<TimedEvent>>,
    pub policy: Arc<Policy>,
    pub map: MapMode,
    pub config: Arc<Config>,
}

/// Runs `job`; its one message carries `job.id`.
pub fn spawn_whatif(job: Job, msgs: UnboundedSender<Message>) {
    let id = job.id;
    let tx = msgs.clone();
    let spawned = std::thread::Builder::new()
        .name("retrylab-whatif".into())
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&job)))
                .unwrap_or_else(|_| {
                    Err("the what-if stopped unexpectedly (a bug: please report it)".into())
                });
            let _ = tx.send(Message::Whatif(WhatifMsg::Done { id, result }));
        });
    if let Err(e) = spawned {
        let result = Err(format!("the what-if could not start a thread: {e}"));
        let _ = msgs.send(Message::Whatif(WhatifMsg::Done { id, result }));
    }
}

/// The what-if itself, as `retrylab whatif` does it, with the new side's events kept.
pub fn run(job: &Job) -> Result<Box<Shown>, String> {
    let rec = crate::whatif::read(&job.trace).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("the what-if could not start its runtime: {e}"))?;
    let mut new = RunView::new();
    let report = runtime
        .block_on(crate::whatif::whatif_observed(
            &rec,
            job.map,
            &job.policy,
            job.config.clone(),
            &mut |ev| new.apply(ev),
        ))
        .map_err(|e| e.to_string())?;
    let mut recorded = RunView::new();
    for ev in job.recorded.iter() {
        recorded.apply(ev);
    }
    Ok(Box::new(Shown {
        report,
        recorded,
        new,
        recorded_scenario: rec.scenario,
    }))
}
