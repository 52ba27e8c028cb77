//! Ctrl+O and what it opens: the picker (scenarios and recorded runs), a pick that asks first
//! while a run goes on or over unsaved edits, a recorded run replayed over the editors, and
//! `q` leaving that replay.

use super::App;
use super::Origin;
use super::dialogs::Dialog;
use super::files::Files;
use crate::tui::panes::PaneId;
use crate::tui::panes::overlay::PickItem;
use crate::tui::panes::status::Level;
use std::path::Path;
use std::sync::Arc;

impl App {
    /// The playground shows only a replay (`retrylab replay`): there is no scenario behind.
    pub(super) fn replay_only(&self) -> bool {
        self.session.is_replay() && !self.replay_over_editors
    }

    pub(super) fn open_picker(&mut self) {
        if self.replay_only() {
            self.notify(
                "a replay shows a recorded run; quit to open a scenario",
                Level::Info,
            );
            return;
        }
        let current = match &self.doc.origin {
            Origin::Builtin(n) => Some(n.clone()),
            Origin::File(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()),
        };
        self.dialog = Some(Dialog::picker(
            self.files.picker_items(),
            self.files.history_items(),
            current.as_deref(),
        ));
    }

    /// A pick opens, unless a run goes on (it asks whether to cancel it) or unsaved edits
    /// would be dropped (it asks whether to discard them).
    pub(super) fn pick(&mut self, item: PickItem) {
        if self.lab_open {
            return self.lab_pick(&item);
        }
        if self.session.is_running() && !self.session.is_replay() {
            let run = self.session.run.scenario.clone();
            self.dialog = Some(Dialog::open_over_run(item, &run));
        } else {
            self.pick_now(item);
        }
    }

    /// A pick with no run in the way.
    pub(super) fn pick_now(&mut self, item: PickItem) {
        match item {
            PickItem::Trace { path, .. } => self.open_trace(&path),
            item if self.doc.dirty => self.dialog = Some(Dialog::open_over_edits(item)),
            item => self.open_item(&item),
        }
    }

    /// Replays a recorded run over the editors (they stay as they are; `q` goes back).
    fn open_trace(&mut self, path: &Path) {
        let (events, notes) = match Files::read_trace(path) {
            Ok(r) => r,
            Err(e) => return self.notify(e, Level::Error),
        };
        self.session.forget(self.now());
        self.session.replay = Some((Arc::new(events), path.to_path_buf()));
        self.replay_over_editors = true;
        self.focus = PaneId::Timeline;
        self.start_replay();
        match notes {
            Some(n) => self.notify(n, Level::Warn),
            None => self.notify(
                "replaying a recorded run: q goes back to the editors, w asks what if…",
                Level::Info,
            ),
        }
    }

    /// `q` in a replay: back to the editors when it was opened over them, else quit.
    pub(super) fn close_replay(&mut self) {
        if self.replay_only() {
            self.request_quit();
        } else if self.leave_replay() {
            self.notify("back to the editors", Level::Info);
        }
    }

    /// Ends a replay opened over the editors; false when there was none.
    pub(super) fn leave_replay(&mut self) -> bool {
        if !self.replay_over_editors {
            return false;
        }
        self.session.forget(self.now());
        self.session.replay = None;
        self.replay_over_editors = false;
        self.whatif = None;
        self.views.timeline.reset();
        self.focus = PaneId::Policy;
        self.needs_draw = true;
        true
    }
}

impl App {
    /// A picked scenario read and parsed as a policy (the Lab view's and the what-if's
    /// pick); a trace, an unreadable file or a bad scenario is a notice (`cannot` says what
    /// it cannot do) and `None`.
    pub(super) fn read_policy(
        &mut self,
        item: &PickItem,
        cannot: &str,
    ) -> Option<(super::files::Opened, crate::scenario::Scenario)> {
        if matches!(item, PickItem::Trace { .. }) {
            self.notify(
                "a recorded run is not a policy: pick a scenario",
                Level::Info,
            );
            return None;
        }
        let opened = match Files::read(item) {
            Ok(o) => o,
            Err(e) => {
                self.notify(e, Level::Error);
                return None;
            }
        };
        match crate::scenario::load::parse(&opened.text, &opened.origin.label()) {
            Ok(s) => Some((opened, s)),
            Err(e) => {
                self.notify(
                    format!("{} {cannot}: {}", opened.shown, e.message),
                    Level::Error,
                );
                None
            }
        }
    }
}
