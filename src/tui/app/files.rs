//! The App's files, and its only file I/O: saving the scenario, the autosaved draft, the
//! drafts that ended instances left, the picker's list, opening a scenario, where an export
//! is written, and reading the themes and the config at the moments the App needs them.

use super::Origin;
use crate::config::Config;
use crate::event::TimedEvent;
use crate::history;
use crate::scenario::saved;
use crate::tui::panes::overlay::PickItem;
use crate::tui::persist::{self, DeadDraft, DraftSlot, Paths, Prefs};
use crate::tui::theme::{ThemeError, ThemeSet};
use std::io;
use std::path::{Path, PathBuf};

/// The most trace text a replay in the playground holds (the rest is `replay --print`'s).
pub(crate) const REPLAY_MAX_BYTES: u64 = 128 << 20;

/// The most of each trace the History tab reads for its row (on the UI thread: a long
/// streamed run's row says "≥" rather than stall the picker).
const HISTORY_SUMMARY_BYTES: u64 = 1 << 20;

/// The History tab lists at most this many runs (newest first).
const HISTORY_SHOWN: usize = 50;

/// The restore dialog lists at most this many drafts (keys 1-9).
const MAX_OFFERED_DRAFTS: usize = 9;

/// A scenario read for the editors.
pub(super) struct Opened {
    pub text: String,
    pub origin: Origin,
    /// How the notice names it.
    pub shown: String,
}

pub(super) struct Files {
    pub paths: Paths,
    /// Read and write `prefs.toml` (off in tests).
    remember: bool,
    /// What `prefs.toml` holds (each change updates one choice and keeps the other).
    prefs: Prefs,
    /// This instance's own draft file (none: no data dir).
    draft: Option<DraftSlot>,
}

impl Files {
    pub fn new(paths: Paths, remember: bool) -> Files {
        Files {
            draft: paths.drafts.as_deref().map(DraftSlot::new),
            paths,
            remember,
            prefs: Prefs::default(),
        }
    }

    /// The theme and speed chosen last, and the notice when the file was unusable.
    pub fn load_prefs(&mut self) -> (Prefs, Option<String>) {
        let error = match self.paths.prefs.as_deref().filter(|_| self.remember) {
            Some(path) => match Prefs::read(path) {
                Ok(p) => {
                    self.prefs = p;
                    None
                }
                Err(e) => Some(e),
            },
            None => None,
        };
        (self.prefs.clone(), error)
    }

    /// Remembers a choice for the next start; the error is the notice to show.
    pub fn remember(&mut self, change: impl FnOnce(&mut Prefs)) -> Result<(), String> {
        change(&mut self.prefs);
        match self.paths.prefs.as_deref().filter(|_| self.remember) {
            Some(path) => self
                .prefs
                .write(path)
                .map_err(|e| format!("choice not remembered: {}: {e}", path.display())),
            None => Ok(()),
        }
    }

    /// The embedded themes overlaid by the user's, with what was wrong in the user's.
    pub fn themes(&self) -> (ThemeSet, Vec<ThemeError>) {
        ThemeSet::load(self.paths.themes.as_deref())
    }

    /// The user's config (keys, base URLs), read afresh each time a run needs it.
    pub fn config() -> Config {
        Config::load()
    }

    /// Where Save As writes `name` (a trailing `.toml` is allowed): a plain file name in the
    /// scenarios folder, so that `retrylab run NAME` finds it; the error says why not.
    pub fn save_as_path(&self, name: &str) -> Result<PathBuf, String> {
        let name = name.trim();
        let name = name.strip_suffix(".toml").unwrap_or(name);
        let why = if name.is_empty() {
            Some("a name is needed")
        } else if name.contains(['/', '\\']) {
            Some("a name cannot contain / or \\ (it is a file in the scenarios folder)")
        } else if name.starts_with('.') {
            Some("a name cannot start with . (hidden files are not listed)")
        } else if !saved::plain_name(name) {
            Some("use letters, digits, spaces, - _ and . (at most 200 bytes)")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(why.to_string());
        }
        match &self.paths.scenarios {
            Some(dir) => Ok(dir.join(format!("{name}.toml"))),
            None => Err("no config folder to save into (no home directory?)".into()),
        }
    }

    pub fn write(path: &Path, text: &str) -> io::Result<()> {
        persist::write_atomic(path, text)
    }

    /// The folder an export's bare file name goes to (the current one, but under a test's
    /// root in tests).
    fn export_base(&self) -> io::Result<PathBuf> {
        match &self.paths.exports {
            Some(dir) => Ok(dir.clone()),
            None => std::env::current_dir(),
        }
    }

    /// That folder, as the prompt shows it.
    pub fn export_folder(&self) -> String {
        self.export_base().map_or_else(
            |_| "the current folder".to_string(),
            |d| d.display().to_string(),
        )
    }

    /// Where the Export prompt's text points: from [`Self::export_folder`] (`~/` is the home
    /// folder), in a folder that exists (a typo makes no folders); the error says why not.
    pub fn export_path(&self, typed: &str) -> Result<PathBuf, String> {
        let typed = typed.trim();
        if typed.is_empty() {
            return Err("a file name is needed".into());
        }
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let path = match (typed.strip_prefix("~/"), home) {
            (Some(rest), Some(home)) => home.join(rest),
            _ => PathBuf::from(typed),
        };
        let path = if path.is_absolute() {
            path
        } else {
            self.export_base()
                .map_err(|e| format!("no current folder: {e}"))?
                .join(path)
        };
        if typed.ends_with('/') || path.is_dir() {
            return Err(format!("{} is a folder: add a file name", path.display()));
        }
        match path.parent() {
            Some(dir) if !dir.is_dir() => Err(format!(
                "no folder {} (it is not made for you)",
                dir.display()
            )),
            _ => Ok(path),
        }
    }

    /// Whether something (a file, a link, even a dangling one) is at `path` already.
    pub fn exists(path: &Path) -> bool {
        std::fs::symlink_metadata(path).is_ok()
    }

    /// Autosaves this instance's draft; `None` when there is nowhere to keep one.
    pub fn write_draft(&mut self, origin: &Origin, text: &str) -> Option<io::Result<()>> {
        let slot = self.draft.as_mut()?;
        Some(slot.write(&origin.label(), text))
    }

    pub fn has_draft_slot(&self) -> bool {
        self.draft.is_some()
    }

    /// The edits were saved or discarded: the draft goes.
    pub fn clear_draft(&mut self) {
        if let Some(slot) = self.draft.as_mut() {
            slot.clear();
        }
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn draft_path(&self) -> Option<PathBuf> {
        self.draft.as_ref().map(DraftSlot::path)
    }

    /// The drafts ended instances left (newest first, at most a dialog's worth); those that
    /// hold nothing beyond `open_text` are deleted instead.
    pub fn dead_drafts(&self, open_text: &str) -> Vec<DeadDraft> {
        let Some(dir) = self.paths.drafts.as_deref() else {
            return Vec::new();
        };
        let mut drafts = Vec::new();
        for d in persist::dead_drafts(dir) {
            if d.draft.text == open_text {
                // Nothing in it that is not open already.
                d.remove();
            } else {
                drafts.push(d);
            }
        }
        // One dialog line each; older ones wait for the next start.
        drafts.truncate(MAX_OFFERED_DRAFTS);
        drafts
    }

    /// What Ctrl+O offers: the built-ins, then the saved scenarios (one lister for the CLI
    /// and the playground: `scenario::saved`).
    pub fn picker_items(&self) -> Vec<PickItem> {
        let builtins = crate::scenario::builtin::all();
        let mut items: Vec<PickItem> = builtins
            .iter()
            .map(|b| PickItem::Builtin {
                name: b.name.to_string(),
                about: toml::from_str::<toml::Table>(b.source)
                    .ok()
                    .and_then(|t| t.get("about")?.as_str().map(str::to_string))
                    .unwrap_or_default(),
            })
            .collect();
        let saved = self.paths.scenarios.as_deref().map(saved::list_in);
        items.extend(
            saved
                .unwrap_or_default()
                .into_iter()
                .map(|s| PickItem::Saved {
                    shadows: builtins.iter().any(|b| b.name == s.name),
                    path: s.path,
                }),
        );
        items
    }

    /// The History tab: the newest recorded runs, each summed up in one bounded pass.
    pub fn history_items(&self) -> Vec<PickItem> {
        let Some(dir) = self.paths.traces.as_deref() else {
            return Vec::new();
        };
        history::list(dir)
            .into_iter()
            .take(HISTORY_SHOWN)
            .map(|t| {
                let when = t.started.map_or_else(|| "?".into(), history::utc_stamp);
                let line = match history::summarize_capped(&t.path, HISTORY_SUMMARY_BYTES) {
                    Ok(s) => format!(
                        "{}  {}  {} attempt{}",
                        s.scenario.as_deref().unwrap_or("?"),
                        s.outcome_label(),
                        s.attempts_label(),
                        if s.attempts == 1 { "" } else { "s" }
                    ),
                    Err(e) => format!("(cannot read: {e})"),
                };
                PickItem::Trace {
                    path: t.path,
                    when,
                    line,
                }
            })
            .collect()
    }

    /// Reads a picked scenario; the error is the notice to show.
    pub fn read(item: &PickItem) -> Result<Opened, String> {
        match item {
            PickItem::Builtin { name, .. } => match crate::scenario::builtin::find(name) {
                Some(b) => Ok(Opened {
                    text: b.source.to_string(),
                    origin: Origin::Builtin(b.name.to_string()),
                    shown: b.name.to_string(),
                }),
                None => Err(format!("no built-in named {name}")),
            },
            PickItem::Trace { path, .. } => Err(format!("{} is a recorded run", path.display())),
            PickItem::Saved { path, .. } => match crate::scenario::userfile::read_user_file(
                path,
                crate::scenario::userfile::MAX_USER_FILE,
            ) {
                Ok(text) => Ok(Opened {
                    text,
                    origin: Origin::File(path.clone()),
                    shown: path.display().to_string(),
                }),
                Err(e) => Err(format!("cannot read {}: {e}", path.display())),
            },
        }
    }

    /// Reads a recorded run for a replay (bounded: the playground keeps it in memory), with
    /// what was left out; the error is the notice to show.
    pub fn read_trace(path: &Path) -> Result<(Vec<TimedEvent>, Option<String>), String> {
        match crate::trace::read_trace_bounded(path, REPLAY_MAX_BYTES) {
            Ok(r) => Ok((r.events, (!r.notes.is_empty()).then(|| r.notes.join("; ")))),
            Err(e) => Err(e.to_string()),
        }
    }

    /// The help's "Your files" rows.
    pub fn help_rows(&self) -> [(&'static str, String); 4] {
        let show = |p: &Option<PathBuf>| {
            p.as_ref().map_or_else(
                || "(no home directory)".to_string(),
                |p| p.display().to_string(),
            )
        };
        [
            ("saved scenarios", show(&self.paths.scenarios)),
            ("run traces", show(&self.paths.traces)),
            ("themes (*.toml)", show(&self.paths.themes)),
            ("autosaved draft", show(&self.paths.drafts)),
        ]
    }
}
