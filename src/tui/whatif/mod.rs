//! The what-if view (DESIGN §13, issue 11 item 5): the recorded run of a replay, its faults
//! replayed under a policy picked from Ctrl+O's list, shown as two timelines (recorded on the
//! left, new on the right; stacked when narrow), each of the Timeline pane's rows under the
//! summary the CLI's table has (attempts, requests, waiting, total time, cost, outcome), then
//! the notes the CLI prints.
//!
//! This module holds the view's state and what changes it; the App routes keys and picks to
//! it (`app/whatif.rs`), [`task`] runs the what-if off the UI thread through the library
//! code `retrylab whatif` uses, and [`draw`] renders from state alone.

mod draw;
pub mod task;

pub use draw::render;

use crate::tui::run_view::RunView;
use crate::whatif::{MapMode, Policy, WhatifReport};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A finished what-if: the report and both sides' events folded as the Timeline folds them.
#[derive(Debug)]
pub struct Shown {
    pub report: WhatifReport,
    pub recorded: RunView,
    pub new: RunView,
    /// The recorded run's scenario name (from the trace).
    pub recorded_scenario: String,
}

/// What the what-if task reports (through [`crate::tui::message::Message::Whatif`]).
#[derive(Debug)]
pub enum WhatifMsg {
    /// The report, or the one-line error (a bad trace, a policy that does not load…).
    Done {
        id: u64,
        result: Result<Box<Shown>, String>,
    },
}

#[derive(Debug)]
pub enum Phase {
    Running { id: u64 },
    Done(Box<Shown>),
}

/// The view: which recorded run, under which policy and map, and where it is.
pub struct WhatifView {
    pub trace: PathBuf,
    pub policy: Arc<Policy>,
    pub map: MapMode,
    pub phase: Phase,
    /// The first timeline row shown (both sides scroll together).
    offset: usize,
}

/// Ids for what-if tasks, unique in the process: a result of an older view never lands in a
/// newer one.
pub fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl WhatifView {
    /// A view whose task `id` is running.
    pub fn running(trace: PathBuf, policy: Arc<Policy>, map: MapMode, id: u64) -> WhatifView {
        WhatifView {
            trace,
            policy,
            map,
            phase: Phase::Running { id },
            offset: 0,
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self.phase, Phase::Running { .. })
    }

    pub fn shown(&self) -> Option<&Shown> {
        match &self.phase {
            Phase::Done(s) => Some(s),
            Phase::Running { .. } => None,
        }
    }

    /// Takes the task's message: `None` when it is not this view's (an older task), else
    /// `Some(Err)` with the error, or `Some(Ok)` once shown.
    pub fn apply(&mut self, msg: WhatifMsg) -> Option<Result<(), String>> {
        let WhatifMsg::Done { id, result } = msg;
        if !matches!(self.phase, Phase::Running { id: mine } if mine == id) {
            return None;
        }
        Some(result.map(|shown| {
            self.phase = Phase::Done(shown);
            self.offset = 0;
        }))
    }

    /// The most rows either side has.
    fn rows(&self) -> usize {
        self.shown()
            .map_or(0, |s| s.recorded.rows.len().max(s.new.rows.len()))
    }

    /// Scrolls both timelines by `delta` rows (the drawing keeps the last ones in view).
    pub fn scroll(&mut self, delta: i32) {
        let last = self.rows().saturating_sub(1);
        self.offset = crate::tui::panes::scroll_by(self.offset, delta, last);
    }

    pub fn offset(&self) -> usize {
        self.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(id: u64) -> WhatifView {
        let b = crate::scenario::builtin::find("basic-retry").expect("a built-in");
        let scenario = crate::scenario::load::parse(b.source, "basic-retry").expect("loads");
        let policy = Policy {
            label: "basic-retry".into(),
            scenario,
            source: b.source.into(),
        };
        WhatifView::running("t.jsonl".into(), Arc::new(policy), MapMode::Index, id)
    }

    #[test]
    fn only_its_own_task_lands_in_the_view() {
        let mut v = view(7);
        let stale = WhatifMsg::Done {
            id: 6,
            result: Err("older".into()),
        };
        assert!(
            v.apply(stale).is_none(),
            "an older task's result is dropped"
        );
        assert!(v.is_running());
        let mine = WhatifMsg::Done {
            id: 7,
            result: Err("t.jsonl:3: cut short".into()),
        };
        assert_eq!(v.apply(mine), Some(Err("t.jsonl:3: cut short".into())));
        // Nothing to scroll before a result: the offset stays at the top.
        v.scroll(5);
        assert_eq!(v.offset(), 0);
        assert_ne!(next_id(), next_id());
    }
}
