//! What the App does for a message or an action, when it takes more than one part: runs
//! (the session, the run panes, the notice), settings (mode, speed, theme), quitting, and
//! the decisions dialogs hand back.

use super::App;
use super::dialogs::{Decision, Dialog};
use super::files::Files;
use crate::event::{Mode, TimedEvent};
use crate::tui::panes::PaneId;
use crate::tui::panes::status::Level;
use std::path::PathBuf;

impl App {
    pub(super) fn on_events(&mut self, batch: &[TimedEvent]) {
        self.session.apply(batch, self.now());
        self.views.timeline.sync(self.session.run.rows.len());
        self.needs_draw = true;
    }

    pub(super) fn on_run_done(&mut self, id: u64, trace: Option<PathBuf>, problem: Option<String>) {
        if self.session.is_current(id) {
            // Every event was sent before this message: take the rest first.
            let rest = self.session.drain();
            if !rest.is_empty() {
                self.on_events(&rest);
            }
            if self.session.close(self.now()) {
                self.views.timeline.sync(self.session.run.rows.len());
            }
            match (problem, trace) {
                (Some(p), _) => {
                    // A crashed task may have printed over the screen; a trace
                    // that could not be written printed nothing.
                    if p.starts_with("the engine stopped") {
                        self.needs_clear = true;
                    }
                    self.notify(p, Level::Warn);
                }
                (None, Some(path)) => {
                    // The file name only: the status bar has little room.
                    let name = path.file_name().map_or_else(
                        || path.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    );
                    self.notify(format!("recorded as {name}"), Level::Info)
                }
                (None, None) => {}
            }
        }
        self.needs_draw = true;
    }

    pub(super) fn on_tick(&mut self) {
        let now = self.now();
        if self.doc.reparse_due.is_some_and(|t| t <= now) {
            self.reparse();
        }
        if self.doc.draft_due.is_some_and(|t| t <= now) {
            self.doc.draft_due = None;
            self.autosave_draft();
        }
        if self.notice.as_ref().is_some_and(|n| n.until <= now) {
            self.notice = None;
        }
        // Animation frames and the above all redraw.
        self.needs_draw = true;
    }

    /// Carries out what a dialog decided.
    pub(super) fn decide(&mut self, d: Decision) {
        match d {
            Decision::Nothing => {}
            Decision::RequestQuit => self.request_quit(),
            Decision::Pick(item) => self.pick(item),
            Decision::WhatifPick(item, map) => self.whatif_pick(&item, map),
            Decision::SaveThenQuit => {
                if self.save_then(true) {
                    self.quit_now();
                }
            }
            Decision::SaveAs(name, then_quit) => self.save_as(&name, then_quit),
            Decision::Overwrite(path, then_quit) => {
                if self.write_scenario(&path) && then_quit {
                    self.quit_now();
                }
            }
            Decision::QuitUnsaved => {
                self.discard_draft();
                self.quit_now();
            }
            Decision::OpenDiscarding(item) => self.open_item(&item),
            Decision::OpenStoppingRun(item) => {
                self.session.forget(self.now());
                self.views.timeline.reset();
                self.pick_now(item);
            }
            Decision::Restore(drafts, i) => self.restore_draft(drafts, i),
            Decision::DiscardDrafts(drafts) => self.discard_dead_drafts(drafts),
            Decision::DraftsKept => {
                self.notify("drafts kept; they are offered again next time", Level::Info);
            }
            Decision::ExportWrite(to, code) => self.export_write(to, &code),
            Decision::ExportCopy(code) => self.export_copy(&code),
        }
    }

    // ----- runs -----

    pub(super) fn start(&mut self) {
        if self.session.is_running() {
            self.notify("a run is in progress: Esc cancels it", Level::Info);
            return;
        }
        if self.session.is_replay() {
            self.start_replay();
            return;
        }
        if self.doc.reparse_due.is_some() || self.doc.text().is_empty() {
            self.reparse();
        }
        let scenario = match &self.doc.parsed {
            Ok(s) => s.clone(),
            Err(e) => {
                let e = e.clone();
                self.notify(format!("can't run: {}", e.headline()), Level::Error);
                if let Some(part) = e.part {
                    self.focus = PaneId::editor(part);
                    self.doc.editor_mut(part).jump_to(e.line, e.column);
                }
                return;
            }
        };
        let now = self.now();
        let (traces, msgs) = (self.files.paths.traces.clone(), self.msg_tx.clone());
        self.session
            .start_run(scenario, Files::config(), traces, msgs, now);
        self.views.timeline.reset();
        self.notice = None;
    }

    pub(super) fn start_replay(&mut self) {
        if self.session.start_replay(self.msg_tx.clone(), self.now()) {
            self.views.timeline.reset();
        }
    }

    #[cfg(any(test, feature = "test-util"))]
    /// Clears the run panes and starts the countdown clock as a run would, for events fed
    /// in by hand with [`crate::tui::message::Message::Engine`] (tests, previews).
    pub fn begin_external_run(&mut self) {
        self.session.reset(self.now());
        self.views.timeline.reset();
        self.needs_draw = true;
    }

    pub(super) fn cancel(&mut self) {
        if self.session.cancel() {
            self.notify("cancelling…", Level::Info);
        }
    }

    // ----- settings -----

    pub(super) fn cycle_speed(&mut self) {
        let note = self.session.cycle_speed(self.now());
        self.notify(note, Level::Info);
        let speed = self.session.speed;
        self.remember(|p| p.speed = Some(speed));
    }

    pub(super) fn cycle_theme(&mut self) {
        if let Some(t) = self.themes.next_after(&self.theme.name).cloned() {
            self.theme = t;
            self.notify(format!("theme: {}", self.theme.name), Level::Info);
            let name = self.theme.name.clone();
            self.remember(|p| p.theme = Some(name));
        }
    }

    /// The theme and speed chosen last are the next start's.
    fn remember(&mut self, change: impl FnOnce(&mut crate::tui::persist::Prefs)) {
        if let Err(e) = self.files.remember(change) {
            self.notify(e, Level::Warn);
        }
    }

    /// F2. Live mode needs each provider's key in the environment; until it is there, say
    /// which variables are missing and stay in SIM.
    pub(super) fn toggle_mode(&mut self) {
        if self.session.mode == Mode::Live {
            self.session.mode = Mode::Sim;
            self.notify("SIM: the built-in simulator answers", Level::Info);
            return;
        }
        if self.session.is_replay() {
            self.notify(
                "a replay shows a recorded run; there is nothing to call",
                Level::Info,
            );
            return;
        }
        self.reparse();
        let scenario = match &self.doc.parsed {
            Ok(s) => s.clone(),
            Err(e) => {
                let msg = format!("fix the scenario first: {}", e.headline());
                self.notify(msg, Level::Warn);
                return;
            }
        };
        // The same check (and message) as `retrylab run --live`: every hop's key and base URL.
        let cfg = Files::config();
        match crate::engine::run::check_live_keys_with(&scenario, &cfg) {
            Ok(()) => {
                self.session.mode = Mode::Live;
                let note = cfg
                    .warnings()
                    .first()
                    .map(|w| format!(" (note: {w})"))
                    .unwrap_or_default();
                self.notify(
                    format!("LIVE: real API calls; keys are never shown or recorded{note}"),
                    Level::Warn,
                );
            }
            Err(e) => self.notify(format!("{}; staying in SIM", e.message), Level::Warn),
        }
    }

    // ----- quitting -----

    pub(super) fn request_quit(&mut self) {
        if self.doc.dirty && !self.replay_only() {
            self.dialog = Some(Dialog::quit());
        } else {
            self.discard_draft();
            self.quit_now();
        }
    }

    pub(super) fn quit_now(&mut self) {
        self.session.cancel();
        self.lab.stop();
        self.should_quit = true;
    }
}

/// A second Ctrl+C with nothing to copy within this time quits (as Ctrl+Q).
const COPY_THEN_QUIT: std::time::Duration = std::time::Duration::from_secs(2);

impl App {
    /// Ctrl+C: the focused editor's selection goes to the clipboard (OSC 52). With nothing
    /// selected it never quits at once: it says how to quit, and a second press quits the way
    /// Ctrl+Q does (asking first when there are unsaved edits).
    pub(super) fn copy(&mut self) {
        let now = self.now();
        let selected = self
            .doc
            .editor_at(self.focus)
            .and_then(|ed| ed.copy_selection());
        let Some(text) = selected else {
            let again = self
                .copy_missed
                .is_some_and(|t| now.saturating_duration_since(t) < COPY_THEN_QUIT);
            if again {
                self.copy_missed = None;
                self.request_quit();
            } else {
                self.copy_missed = Some(now);
                self.notify(
                    "nothing selected (Shift+arrows select) · Ctrl+C again or Ctrl+Q quits",
                    Level::Info,
                );
            }
            return;
        };
        self.copy_missed = None;
        match crate::tui::clipboard::osc52(&text) {
            Ok(seq) => {
                self.terminal_out.push(seq);
                let n = text.chars().count();
                let s = if n == 1 { "" } else { "s" };
                self.notify(
                    format!("copied {n} character{s} to the clipboard"),
                    Level::Info,
                );
            }
            Err(e) => self.notify(format!("not copied: {e}"), Level::Warn),
        }
    }
}
