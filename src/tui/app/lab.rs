//! The Lab view in the App: F7 / Ctrl+N opens it over the panes, its keys (the form, F5,
//! Esc), Ctrl+O picks the scenarios it compares, the plan built from the edited scenario
//! (whose `[sim]` gives the faults), and the lab task's messages. The view's state and
//! drawing are `tui::lab`'s; the call into the lab is `tui::lab::task`'s.

use super::App;
use super::Origin;
use super::files::Files;
use crate::lab::{Arrival, Cap, LabPlan, Policy};
use crate::scenario::types::SimSpec;
use crate::tui::keymap::{self, Action, Scope};
use crate::tui::lab::{Entrant, LabCtx, LabMsg, Setup, task};
use crate::tui::panes::overlay::PickItem;
use crate::tui::panes::status::Level;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use std::sync::Arc;

impl App {
    /// F7 / Ctrl+N: the Lab view opens (as it was left); again, it closes when idle.
    pub(super) fn toggle_lab(&mut self) {
        if self.lab_open {
            self.close_lab();
            return;
        }
        if self.replay_only() {
            self.notify(
                "a replay shows a recorded run; the lab compares scenarios (quit and open one)",
                Level::Info,
            );
            return;
        }
        if self.doc.reparse_due.is_some() {
            self.reparse();
        }
        self.lab_open = true;
    }

    fn close_lab(&mut self) {
        if self.lab.is_running() {
            self.notify("the lab is running: Esc cancels it first", Level::Info);
            return;
        }
        self.lab_open = false;
    }

    /// A key while the Lab view is open (and no dialog is).
    pub(super) fn lab_key(&mut self, k: KeyEvent) {
        match keymap::lookup(&k, &[Scope::Global]) {
            Some(Action::Cancel) => {
                if self.lab.cancel() {
                    self.notify("cancelling the lab…", Level::Info);
                } else {
                    self.lab_open = false;
                }
                return;
            }
            Some(Action::Run) => return self.start_lab(),
            Some(Action::Open) => return self.lab_picker(),
            Some(Action::FocusNext | Action::FocusPrev) => return self.lab.next_field(),
            Some(
                a @ (Action::Lab | Action::Help | Action::Quit | Action::CycleTheme | Action::Copy),
            ) => return self.do_action(a),
            Some(_) => {
                return self.notify(
                    "not in the Lab view: Esc closes it (the editors are behind)",
                    Level::Info,
                );
            }
            None => {}
        }
        if self.lab.is_running() {
            return;
        }
        let plain = !k
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        match k.code {
            KeyCode::Enter => self.start_lab(),
            KeyCode::Backspace => self.lab.backspace(),
            KeyCode::Char('x') | KeyCode::Delete if plain => self.lab_remove(),
            KeyCode::Char(c) if plain => self.lab_type(c),
            _ => {}
        }
    }

    fn lab_remove(&mut self) {
        if !self.lab.remove_last() {
            self.notify(
                "only the edited scenario is compared: Ctrl+O adds one",
                Level::Info,
            );
        }
    }

    fn lab_type(&mut self, c: char) {
        if !self.lab.type_char(c) {
            self.notify("calls and callers take digits", Level::Info);
        }
    }

    /// Ctrl+O in the Lab view: the picker, whose pick joins the comparison.
    fn lab_picker(&mut self) {
        if self.lab.is_running() {
            return self.notify("the lab is running: Esc cancels it first", Level::Info);
        }
        if self.lab.others.len() >= crate::tui::lab::MAX_OTHERS {
            return self.notify(
                "the lab compares the edited scenario with at most 2 others: x removes the last",
                Level::Info,
            );
        }
        self.open_picker();
    }

    /// A pick while the Lab view is open: it joins the comparison.
    pub(super) fn lab_pick(&mut self, item: &PickItem) {
        let Some((opened, scenario)) = self.read_policy(item, "cannot join the lab") else {
            return;
        };
        let entrant = Entrant {
            label: short_label(&opened.origin),
            scenario: Arc::new(scenario),
        };
        let current = self.lab_current();
        if let Err(e) = self.lab.add(entrant, &current) {
            self.notify(e, Level::Info);
        }
    }

    /// The edited scenario's column name: its built-in name or file name.
    fn lab_current(&self) -> String {
        let l = short_label(&self.doc.origin);
        match (&self.doc.parsed, l.is_empty()) {
            (Ok(s), true) => s.name.clone(),
            _ => l,
        }
    }

    /// The plan from the form, or the line that says what is wrong.
    fn lab_plan(&mut self) -> Result<LabPlan, String> {
        if self.doc.reparse_due.is_some() {
            self.reparse();
        }
        let (calls, callers) = self.lab.numbers()?;
        let edited = match &self.doc.parsed {
            Ok(s) => s.clone(),
            Err(e) => return Err(format!("fix the edited scenario first: {}", e.headline())),
        };
        let current = self.lab_current();
        let mut policies = vec![Policy {
            label: current.clone(),
            scenario: edited.clone(),
        }];
        policies.extend(self.lab.others.iter().map(|o| Policy {
            label: o.label.clone(),
            scenario: o.scenario.clone(),
        }));
        let plan = LabPlan {
            policies,
            faults: edited.sim.clone(),
            faults_origin: format!("{current}'s [sim] (the edited scenario)"),
            calls,
            seed: 0,
            callers,
            arrival: Arrival::Burst,
            cap: Cap::default(),
            config: Arc::new(Files::config()),
        };
        // The lab's own checks and words, as `retrylab lab` prints them (minus the flags).
        plan.check()
            .map_err(|e| format!("{} ({})", e.message.replace("--", ""), e.hint))?;
        Ok(plan)
    }

    pub(super) fn start_lab(&mut self) {
        if self.lab.is_running() {
            return self.notify("the lab is running: Esc cancels it", Level::Info);
        }
        match self.lab_plan() {
            Ok(plan) => {
                let setup = Setup {
                    labels: plan.policies.iter().map(|p| p.label.clone()).collect(),
                    calls: plan.calls,
                    callers: plan.callers,
                    faults_origin: plan.faults_origin.clone(),
                };
                let (id, cancel) = self.lab.begin(setup);
                task::spawn_lab(id, Arc::new(plan), cancel, self.msg_tx.clone());
            }
            Err(e) => {
                self.lab.error = Some(e);
            }
        }
    }

    pub(super) fn on_lab(&mut self, msg: LabMsg) {
        let done = matches!(msg, LabMsg::Done { .. } | LabMsg::Failed { .. });
        if self.lab.apply(msg) {
            self.needs_draw = true;
            if done && !self.lab_open {
                self.notify("the lab finished: F7 shows it", Level::Info);
            }
        }
    }

    pub(super) fn render_lab(&self, frame: &mut Frame, area: Rect) {
        let (faults, error) = match &self.doc.parsed {
            Ok(s) => (faults_line(&s.sim), None),
            Err(e) => (String::new(), Some(e.headline())),
        };
        let current = self.lab_current();
        let ctx = LabCtx {
            theme: &self.theme,
            current: &current,
            edited: self.doc.dirty,
            scenario_error: error.as_deref(),
            faults: &faults,
        };
        self.lab.render(frame, area, &ctx);
    }

    #[cfg(any(test, feature = "test-util"))]
    /// Opens the view in its running phase without a task, for progress and reports fed by
    /// hand as [`crate::tui::message::Message::Lab`] (tests): the id they must carry. Only
    /// the form is checked, not the plan, so a report of load mode can be shown before the
    /// lab runs it.
    pub fn begin_lab_by_hand(&mut self) -> Result<u64, String> {
        let (calls, callers) = self.lab.numbers()?;
        let current = self.lab_current();
        let mut labels = vec![current.clone()];
        labels.extend(self.lab.others.iter().map(|o| o.label.clone()));
        let setup = Setup {
            labels,
            calls,
            callers,
            faults_origin: format!("{current}'s [sim] (the edited scenario)"),
        };
        self.lab_open = true;
        self.needs_draw = true;
        Ok(self.lab.begin(setup).0)
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn lab_view(&self) -> Option<&crate::tui::lab::LabView> {
        self.lab_open.then_some(&self.lab)
    }
}

/// A scenario's short name: the built-in's, or the file's without `.toml`.
pub(super) fn short_label(o: &Origin) -> String {
    match o {
        Origin::Builtin(n) => n.clone(),
        Origin::File(p) => p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }
}

/// One line on a fault model: what it holds, named as in `[sim]`.
fn faults_line(sim: &SimSpec) -> String {
    let mut parts = Vec::new();
    let n = sim.faults.len();
    if n > 0 {
        parts.push(format!(
            "{n} scripted fault{}",
            if n == 1 { "" } else { "s" }
        ));
    }
    for (kind, rate) in &sim.chaos {
        let name = serde_json::to_value(kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| format!("{kind:?}"));
        parts.push(format!("chaos {name} {:.0} %", rate * 100.0));
    }
    for (what, n) in [("outage", sim.outages.len()), ("limit", sim.limits.len())] {
        if n > 0 {
            parts.push(format!("{n} {what}{}", if n == 1 { "" } else { "s" }));
        }
    }
    if sim.latency.is_some() {
        parts.push("drawn latency".into());
    }
    let held = if parts.is_empty() {
        "no faults (every call answers at once)".to_string()
    } else {
        parts.join(", ")
    };
    format!("every policy meets the edited scenario's [sim]: {held}")
}
