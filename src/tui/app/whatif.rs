//! What-if in the App: `w` in a replay opens the picker of a policy (Tab: the `--map`), the
//! pick starts the what-if task, its result covers the panes until Esc goes back to the
//! replay; `m` replays again with the other map, `w` with another policy. A what-if that
//! cannot run (a bad trace, a policy that does not load) is a notice, the replay stays.
//! The view's state and drawing are `tui::whatif`'s.

use super::App;
use super::dialogs::Dialog;
use super::files::Files;
use super::lab::short_label;
use crate::tui::keymap::{self, Action, Scope};
use crate::tui::panes::overlay::{PickItem, Picker};
use crate::tui::panes::status::Level;
use crate::tui::whatif::task::{Job, spawn_whatif};
use crate::tui::whatif::{self, WhatifMsg, WhatifView};
use crate::whatif::{MapMode, Policy};
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use std::sync::Arc;

impl App {
    /// `w`: the picker of a policy for the recorded run on screen.
    pub(super) fn open_whatif_picker(&mut self) {
        if self.session.replay.is_none() {
            return self.notify(
                "what if… replays a recorded run under another policy: open one from Ctrl+O's History tab, then w",
                Level::Info,
            );
        }
        let map = self.whatif.as_ref().map_or(MapMode::Index, |w| w.map);
        let current = self.whatif.as_ref().map(|w| w.policy.label.clone());
        self.dialog = Some(Dialog::Picker(Picker::for_whatif(
            self.files.picker_items(),
            current.as_deref(),
            map,
        )));
    }

    /// The what-if picker's pick: the scenario it names becomes the new policy.
    pub(super) fn whatif_pick(&mut self, item: &PickItem, map: MapMode) {
        let Some((opened, scenario)) = self.read_policy(item, "cannot be the policy") else {
            return;
        };
        let policy = Policy {
            label: short_label(&opened.origin),
            scenario,
            source: opened.text,
        };
        self.start_whatif(Arc::new(policy), map);
    }

    /// Runs the what-if of the replayed trace under `policy` (the view shows it running).
    fn start_whatif(&mut self, policy: Arc<Policy>, map: MapMode) {
        let Some((events, trace)) = &self.session.replay else {
            return;
        };
        let id = whatif::next_id();
        let job = Job {
            id,
            trace: trace.clone(),
            recorded: events.clone(),
            policy: policy.clone(),
            map,
            config: Arc::new(Files::config()),
        };
        self.whatif = Some(WhatifView::running(trace.clone(), policy, map, id));
        spawn_whatif(job, self.msg_tx.clone());
        self.needs_draw = true;
    }

    /// A key while the what-if view is open (and no dialog is).
    pub(super) fn whatif_key(&mut self, k: KeyEvent) {
        let action = keymap::lookup(&k, &[Scope::Global, Scope::View]);
        match action {
            Some(Action::Cancel | Action::Close) => {
                self.whatif = None;
                self.notify("back to the replay", Level::Info);
            }
            Some(Action::WhatIf | Action::Open) => self.open_whatif_picker(),
            Some(Action::WhatIfMap) => self.whatif_other_map(),
            Some(a @ (Action::Up | Action::Down | Action::PageUp | Action::PageDown)) => {
                let step = match a {
                    Action::Up => -1,
                    Action::Down => 1,
                    Action::PageUp => -10,
                    _ => 10,
                };
                if let Some(w) = self.whatif.as_mut() {
                    w.scroll(step);
                }
            }
            Some(a @ (Action::Top | Action::Bottom)) => {
                if let Some(w) = self.whatif.as_mut() {
                    w.scroll(if a == Action::Top { i32::MIN } else { i32::MAX });
                }
            }
            Some(a @ (Action::Help | Action::Quit | Action::CycleTheme | Action::Copy)) => {
                self.do_action(a);
            }
            Some(_) => self.notify(
                "not in the what-if view: Esc goes back to the replay",
                Level::Info,
            ),
            None => {}
        }
    }

    /// `m`: the same policy, the other map.
    fn whatif_other_map(&mut self) {
        let Some(w) = self.whatif.as_ref() else {
            return;
        };
        if w.is_running() {
            return self.notify("the what-if is running: a moment", Level::Info);
        }
        let map = match w.map {
            MapMode::Index => MapMode::Time,
            MapMode::Time => MapMode::Index,
        };
        let policy = w.policy.clone();
        self.start_whatif(policy, map);
    }

    pub(super) fn on_whatif(&mut self, msg: WhatifMsg) {
        let Some(w) = self.whatif.as_mut() else {
            return;
        };
        match w.apply(msg) {
            None => {}
            Some(Ok(())) => self.needs_draw = true,
            Some(Err(e)) => {
                self.whatif = None;
                self.notify(e, Level::Error);
            }
        }
    }

    pub(super) fn render_whatif(&self, frame: &mut Frame, area: Rect) {
        if let Some(w) = &self.whatif {
            whatif::render(w, frame, area, &self.theme);
        }
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn whatif_view(&self) -> Option<&WhatifView> {
        self.whatif.as_ref()
    }
}
