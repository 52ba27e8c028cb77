//! The document meets the files and the view: loading a scenario, an edit, a re-parse (and
//! the plan preview it redraws), Ctrl+S, the autosaved draft, drafts left by ended
//! instances, and opening a picked scenario.

use super::dialogs::Dialog;
use super::files::Files;
use super::{App, Origin};
use crate::policy::schedule::plan;
use crate::scenario::plan::{hop_extras, hop_policies};
use crate::tui::panes::overlay::PickItem;
use crate::tui::panes::schedule::Preview;
use crate::tui::panes::status::Level;
use crate::tui::persist::DeadDraft;

impl App {
    pub(super) fn load(&mut self, text: &str, origin: Origin) {
        self.doc.load(text, origin);
        self.show_plan();
        self.needs_draw = true;
    }

    pub(super) fn on_edit(&mut self) {
        self.doc.edited(self.now());
        self.needs_draw = true;
    }

    /// Joins the editors, parses, places any error in its editor and redraws the plan.
    pub fn reparse(&mut self) {
        self.doc.reparse();
        self.show_plan();
        self.needs_draw = true;
    }

    /// The schedule preview (and the timeline's about line) of what the document parsed to.
    fn show_plan(&mut self) {
        match &self.doc.parsed {
            Ok(s) => {
                let schedule = plan(&hop_policies(s), 0.0);
                let targets = crate::engine::run::hop_labels(s);
                let attempts: Vec<u32> = schedule.hops.iter().map(|h| h.attempts).collect();
                let layers = crate::scenario::sdk::layer_plan(s, &attempts);
                let limits = crate::scenario::plan::limits::notes(
                    s,
                    crate::scenario::plan::limits::Worst {
                        requests: u32::try_from(layers.requests).unwrap_or(u32::MAX),
                        waiting: schedule.worst_total_wait(),
                        unbounded: schedule.unbounded(),
                    },
                );
                let notes = hop_extras(s).iter().map(|e| e.notes()).collect();
                self.views.schedule.preview = Preview::Plan {
                    schedule,
                    targets,
                    notes,
                    layers,
                    limits,
                };
                self.views.schedule.across = crate::scenario::plan::across_calls(s);
                self.views.timeline.about =
                    s.about.split_whitespace().collect::<Vec<_>>().join(" ");
            }
            Err(placed) => self.views.schedule.preview = Preview::Error(placed.clone()),
        }
    }

    /// Ctrl+S: a file opened by path is saved in place; a built-in asks for a name first
    /// (Save As). True when written now.
    pub(super) fn save(&mut self) -> bool {
        self.save_then(false)
    }

    /// Ctrl+S, quitting after a Save As when `then_quit`.
    pub(super) fn save_then(&mut self, then_quit: bool) -> bool {
        if self.replay_only() {
            self.notify("a replay has no scenario to save", Level::Info);
            return false;
        }
        self.reparse();
        match self.doc.origin.clone() {
            Origin::File(path) => self.write_scenario(&path),
            Origin::Builtin(builtin) => {
                let name = self.doc.parsed.as_ref().ok().map(|s| s.name.clone());
                let value = crate::tui::persist::slug(name.as_deref().unwrap_or(&builtin));
                self.ask_name(value, None, then_quit);
                false
            }
        }
    }

    fn ask_name(&mut self, value: String, error: Option<String>, then_quit: bool) {
        let Some(folder) = self.files.paths.scenarios.as_ref() else {
            return self.notify(
                "no config folder to save into (no home directory?)",
                Level::Error,
            );
        };
        let folder = folder.display().to_string();
        self.dialog = Some(Dialog::save_as(&folder, value, error, then_quit));
    }

    /// The Save As name entered: refused with the reason, confirmed when it exists, else
    /// written.
    pub(super) fn save_as(&mut self, name: &str, then_quit: bool) {
        let path = match self.files.save_as_path(name) {
            Ok(p) => p,
            Err(why) => return self.ask_name(name.to_string(), Some(why), then_quit),
        };
        if path.exists() {
            self.dialog = Some(Dialog::overwrite(path, then_quit));
        } else if self.write_scenario(&path) && then_quit {
            self.quit_now();
        }
    }

    /// Writes the document to `path`, which it is from then on. True when written.
    pub(super) fn write_scenario(&mut self, path: &std::path::Path) -> bool {
        match Files::write(path, self.doc.text()) {
            Ok(()) => {
                self.doc.mark_saved();
                self.doc.origin = Origin::File(path.to_path_buf());
                self.discard_draft();
                let warn = self
                    .doc
                    .parsed
                    .as_ref()
                    .err()
                    .map(|e| format!(" (it has an error: {})", e.headline()))
                    .unwrap_or_default();
                self.notify(format!("saved {}{warn}", path.display()), Level::Info);
                true
            }
            Err(e) => {
                self.notify(
                    format!("could not save {}: {e}", path.display()),
                    Level::Error,
                );
                false
            }
        }
    }

    pub(super) fn autosave_draft(&mut self) {
        if self.doc.reparse_due.is_some() {
            // The joined text must include the latest keystrokes.
            self.reparse();
        }
        if !self.doc.dirty || self.replay_only() {
            return;
        }
        self.write_own_draft();
    }

    fn write_own_draft(&mut self) -> bool {
        match self.files.write_draft(&self.doc.origin, self.doc.text()) {
            None => false,
            Some(Ok(())) => true,
            Some(Err(e)) => {
                self.notify(format!("draft not autosaved: {e}"), Level::Warn);
                false
            }
        }
    }

    pub(super) fn discard_draft(&mut self) {
        self.doc.draft_due = None;
        self.files.clear_draft();
    }

    /// Offers the drafts that ended instances left; a live instance's draft is never seen.
    pub(super) fn offer_drafts(&mut self) {
        let drafts = self.files.dead_drafts(self.doc.text());
        if let Some(d) = Dialog::drafts(drafts) {
            self.dialog = Some(d);
        }
    }

    /// Restores the `i`-th offered draft; the others stay for the next start.
    pub(super) fn restore_draft(&mut self, mut drafts: Vec<DeadDraft>, i: usize) {
        if i >= drafts.len() {
            return;
        }
        let d = drafts.swap_remove(i);
        drop(drafts);
        let text = d.draft.text.clone();
        self.load(&text, Origin::from_label(&d.draft.origin));
        // Restored edits are still unsaved: they become this instance's draft at once, and
        // only then is the dead instance's copy removed.
        self.doc.mark_unsaved();
        if self.write_own_draft() || !self.files.has_draft_slot() {
            d.remove();
        }
        self.notify("draft restored: Ctrl+S saves it", Level::Info);
    }

    pub(super) fn discard_dead_drafts(&mut self, drafts: Vec<DeadDraft>) {
        let n = drafts.len();
        drafts.into_iter().for_each(DeadDraft::remove);
        self.notify(
            if n == 1 {
                "draft discarded".to_string()
            } else {
                format!("{n} drafts discarded")
            },
            Level::Info,
        );
    }

    pub(super) fn open_item(&mut self, item: &PickItem) {
        match Files::read(item) {
            Ok(o) => {
                // The run shown was of the scenario that is closing.
                self.leave_replay();
                self.session.forget(self.now());
                self.views.timeline.reset();
                self.load(&o.text, o.origin);
                self.discard_draft();
                self.notify(format!("opened {}", o.shown), Level::Info);
            }
            Err(e) => self.notify(e, Level::Error),
        }
    }
}
