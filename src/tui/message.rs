//! The only way anything changes the App: input, the run's events, async results, ticks.

use crate::event::TimedEvent;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Message {
    /// A terminal event (keys are presses only; the loop drops repeats and releases).
    Input(crossterm::event::Event),
    /// A batch of the current run's (or replay's) events, in order.
    Engine(Vec<TimedEvent>),
    /// The run or replay task ended.
    RunDone {
        id: u64,
        /// Where its trace went, when it was written.
        trace: Option<PathBuf>,
        /// Something went wrong outside the run itself (the trace, a crashed task).
        problem: Option<String>,
    },
    /// The Lab view's task: progress, its report, or why it could not run.
    Lab(crate::tui::lab::LabMsg),
    /// The what-if task's result: both sides, or why it could not run.
    Whatif(crate::tui::whatif::WhatifMsg),
    /// Time passed: animation frame, debounced re-parse, draft autosave, notice expiry.
    Tick,
    /// SIGTERM or SIGHUP: leave now, keeping unsaved edits as the draft.
    Terminate,
}
