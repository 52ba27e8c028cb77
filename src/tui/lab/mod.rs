//! The Lab view (DESIGN §12, issue 10 item 4): the edited scenario against up to two others,
//! N calls each through `lab::run_lab`, then the latency CDFs, a grouped histogram, the
//! stats table with the best value of each row marked, and in load mode requests per second.
//!
//! This module holds the view's state and what changes it (the form, the phases of a run,
//! the messages of the lab task); the App routes keys and picks to it (`app/lab.rs`), the
//! task runs the lab off the UI thread ([`task`]), and [`draw`] renders from state alone.

mod charts;
mod draw;
#[cfg(any(test, feature = "test-util"))]
pub mod fixtures;
mod table;
pub mod task;

pub use draw::LabCtx;

use crate::lab::{LabReport, Progress};
use crate::scenario::types::Scenario;
use crate::tui::theme::Meaning;
use ratatui::symbols::Marker;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The edited scenario and at most this many others.
pub const MAX_OTHERS: usize = 2;
/// Calls per policy when the view opens (as `retrylab lab`).
pub const DEFAULT_CALLS: u64 = 1000;
/// The most digits a field takes (beyond that a number means nothing here).
const FIELD_DIGITS: usize = 7;

/// How each compared policy is drawn: a marker on the CDF, a glyph in the legend, the
/// histogram and the table, and a style. Marker and glyph alone tell them apart (mono).
#[derive(Debug, Clone, Copy)]
pub struct Look {
    pub glyph: &'static str,
    pub marker: Marker,
    pub meaning: Meaning,
}

pub const LOOKS: [Look; 1 + MAX_OTHERS] = [
    Look {
        glyph: "•",
        marker: Marker::Dot,
        meaning: Meaning::Series1,
    },
    Look {
        glyph: "▄",
        marker: Marker::Bar,
        meaning: Meaning::Series2,
    },
    Look {
        glyph: "█",
        marker: Marker::Block,
        meaning: Meaning::Series3,
    },
];

/// The look of policy `i` (any index is drawn; beyond the three the last repeats).
pub fn look(i: usize) -> Look {
    LOOKS[i.min(LOOKS.len() - 1)]
}

/// A scenario chosen from the picker to compare with the edited one.
#[derive(Debug, Clone)]
pub struct Entrant {
    pub label: String,
    pub scenario: Arc<Scenario>,
}

/// The form field that takes typing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Calls,
    Callers,
}

/// What the lab task reports (through [`crate::tui::message::Message::Lab`]).
#[derive(Debug)]
pub enum LabMsg {
    Progress {
        id: u64,
        progress: Progress,
    },
    Done {
        id: u64,
        report: Box<LabReport>,
    },
    /// The task could not run the lab (no thread, a panic): the view says so.
    Failed {
        id: u64,
        problem: String,
    },
}

/// Where the view is.
#[derive(Debug)]
pub enum Phase {
    /// Nothing run yet (or the last run failed: the error line says why).
    Idle,
    Running {
        id: u64,
        cancel: CancellationToken,
        /// The newest progress report (none before the first call ends).
        progress: Option<Progress>,
        cancelling: bool,
    },
    Done(Box<LabReport>),
}

/// What a run compared, kept beside its report for the lines that describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    pub labels: Vec<String>,
    pub calls: u64,
    pub callers: Option<u32>,
    pub faults_origin: String,
}

#[derive(Debug)]
pub struct LabView {
    pub others: Vec<Entrant>,
    pub calls: String,
    pub callers: String,
    pub field: Field,
    pub phase: Phase,
    /// The last run's setup (for the running and finished screens).
    pub setup: Option<Setup>,
    /// A bad field or plan, or a failed task: one line on screen.
    pub error: Option<String>,
    next_id: u64,
}

impl Default for LabView {
    fn default() -> Self {
        LabView::new()
    }
}

impl LabView {
    pub fn new() -> LabView {
        LabView {
            others: Vec::new(),
            calls: DEFAULT_CALLS.to_string(),
            callers: String::new(),
            field: Field::Calls,
            phase: Phase::Idle,
            setup: None,
            error: None,
            next_id: 0,
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self.phase, Phase::Running { .. })
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn report(&self) -> Option<&LabReport> {
        match &self.phase {
            Phase::Done(r) => Some(r),
            _ => None,
        }
    }

    // ----- the form -----

    fn field_mut(&mut self) -> &mut String {
        match self.field {
            Field::Calls => &mut self.calls,
            Field::Callers => &mut self.callers,
        }
    }

    pub fn next_field(&mut self) {
        self.field = match self.field {
            Field::Calls => Field::Callers,
            Field::Callers => Field::Calls,
        };
    }

    /// A digit into the focused field; anything else is refused (false).
    pub fn type_char(&mut self, c: char) -> bool {
        let f = self.field_mut();
        if !c.is_ascii_digit() || f.len() >= FIELD_DIGITS {
            return false;
        }
        f.push(c);
        true
    }

    pub fn backspace(&mut self) {
        self.field_mut().pop();
    }

    /// Adds a policy to compare; the error says why not.
    pub fn add(&mut self, mut e: Entrant, current: &str) -> Result<(), String> {
        if self.others.len() >= MAX_OTHERS {
            return Err(format!(
                "the lab compares the edited scenario with at most {MAX_OTHERS} others: x removes the last"
            ));
        }
        // Columns and legend entries are told apart by name.
        let taken = |l: &str, v: &LabView| l == current || v.others.iter().any(|o| o.label == l);
        let base = e.label.clone();
        let mut n = 2;
        while taken(&e.label, self) {
            e.label = format!("{base} #{n}");
            n += 1;
        }
        self.others.push(e);
        Ok(())
    }

    /// Removes the policy added last; false when there is none.
    pub fn remove_last(&mut self) -> bool {
        self.others.pop().is_some()
    }

    /// N and callers as the form holds them, or the line that says what is wrong.
    pub fn numbers(&self) -> Result<(u64, Option<u32>), String> {
        let calls = match self.calls.trim().parse::<u64>() {
            Ok(n) if n > 0 => n,
            _ => return Err("calls: type how many calls each policy makes, e.g. 1000".into()),
        };
        let callers = match self.callers.trim() {
            "" => None,
            t => match t.parse::<u32>() {
                Ok(c) if c > 0 => Some(c),
                _ => {
                    return Err(
                        "callers: leave it empty for independent calls, or type a number of concurrent callers".into(),
                    );
                }
            },
        };
        Ok((calls, callers))
    }

    // ----- a run's phases -----

    /// A new run starts: its id and the token that cancels it.
    pub fn begin(&mut self, setup: Setup) -> (u64, CancellationToken) {
        self.next_id += 1;
        let cancel = CancellationToken::new();
        self.phase = Phase::Running {
            id: self.next_id,
            cancel: cancel.clone(),
            progress: None,
            cancelling: false,
        };
        self.setup = Some(setup);
        self.error = None;
        (self.next_id, cancel)
    }

    /// Esc while running: the lab stops and reports the calls done so far. False when idle.
    pub fn cancel(&mut self) -> bool {
        match &mut self.phase {
            Phase::Running {
                cancel, cancelling, ..
            } => {
                cancel.cancel();
                *cancelling = true;
                true
            }
            _ => false,
        }
    }

    /// The id of the run in flight.
    pub fn running_id(&self) -> Option<u64> {
        match &self.phase {
            Phase::Running { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// A message from the lab task; one of an older run is dropped. True when it changed
    /// what is shown.
    pub fn apply(&mut self, msg: LabMsg) -> bool {
        let id = match &msg {
            LabMsg::Progress { id, .. } | LabMsg::Done { id, .. } | LabMsg::Failed { id, .. } => {
                *id
            }
        };
        if self.running_id() != Some(id) {
            return false;
        }
        match msg {
            LabMsg::Progress { progress: p, .. } => {
                if let Phase::Running { progress, .. } = &mut self.phase {
                    *progress = Some(p);
                }
            }
            LabMsg::Done { report, .. } => self.phase = Phase::Done(report),
            LabMsg::Failed { problem, .. } => {
                self.phase = Phase::Idle;
                self.error = Some(problem);
            }
        }
        true
    }

    /// Leaving the view, or quitting: a lab in flight stops.
    pub fn stop(&mut self) {
        self.cancel();
    }
}

/// Calls done over every policy, and the total: what the progress bar fills.
pub fn overall(p: Progress, policies: usize) -> (u64, u64) {
    let total = p.of.saturating_mul(policies as u64);
    let done = (p.policy as u64)
        .saturating_mul(p.of)
        .saturating_add(p.done);
    (done.min(total), total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entrant(label: &str) -> Entrant {
        let s = crate::scenario::builtin::resolve("basic-retry")
            .expect("built-in")
            .scenario;
        Entrant {
            label: label.into(),
            scenario: Arc::new(s),
        }
    }

    #[test]
    fn the_form_takes_digits_and_says_what_is_wrong() {
        let mut v = LabView::new();
        assert_eq!(v.numbers(), Ok((1000, None)));
        assert!(!v.type_char('x'));
        for _ in 0..4 {
            v.backspace();
        }
        assert!(v.numbers().unwrap_err().starts_with("calls:"));
        v.type_char('5');
        v.type_char('0');
        v.next_field();
        v.type_char('0');
        assert!(v.numbers().unwrap_err().starts_with("callers:"));
        v.backspace();
        v.type_char('8');
        assert_eq!(v.numbers(), Ok((50, Some(8))));
    }

    #[test]
    fn at_most_two_others_each_with_its_own_name() {
        let mut v = LabView::new();
        v.add(entrant("basic-retry"), "basic-retry").unwrap();
        v.add(entrant("basic-retry"), "basic-retry").unwrap();
        let labels: Vec<&str> = v.others.iter().map(|o| o.label.as_str()).collect();
        assert_eq!(labels, ["basic-retry #2", "basic-retry #3"]);
        assert!(v.add(entrant("x"), "y").is_err());
        assert!(v.remove_last());
        assert_eq!(v.others.len(), 1);
    }

    #[test]
    fn messages_of_an_older_run_are_dropped_and_esc_cancels() {
        let mut v = LabView::new();
        let setup = Setup {
            labels: vec!["a".into()],
            calls: 10,
            callers: None,
            faults_origin: "a's [sim]".into(),
        };
        let (id, cancel) = v.begin(setup);
        let p = Progress {
            policy: 0,
            done: 3,
            of: 10,
        };
        assert!(!v.apply(LabMsg::Progress {
            id: id + 1,
            progress: p
        }));
        assert!(v.apply(LabMsg::Progress { id, progress: p }));
        assert!(v.cancel());
        assert!(cancel.is_cancelled());
        assert!(v.apply(LabMsg::Failed {
            id,
            problem: "boom".into()
        }));
        assert!(!v.is_running());
        assert_eq!(v.error.as_deref(), Some("boom"));
        assert_eq!(overall(p, 3), (3, 30));
    }
}
