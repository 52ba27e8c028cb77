//! The Export action (F6 / Ctrl+X): the dialog gets the edited scenario as the document
//! parsed it, and asks back for the two things it may not do itself: writing a file (through
//! [`Files`], asking before it replaces one) and copying to the clipboard (OSC 52).

use super::dialogs::Dialog;
use super::files::Files;
use super::{App, Origin};
use crate::tui::clipboard::{MAX_COPY_BYTES, osc52};
use crate::tui::panes::export::{ExportDialog, Source, WriteTo};
use crate::tui::panes::status::Level;
use crate::tui::theme::Meaning;

impl App {
    pub(super) fn open_export(&mut self) {
        if self.replay_only() {
            return self.notify("a replay has no scenario to export", Level::Info);
        }
        // The latest keystrokes count.
        if self.doc.reparse_due.is_some() {
            self.reparse();
        }
        let (arg, stem, saved_as) = match &self.doc.origin {
            Origin::Builtin(n) => (n.clone(), n.clone(), "the built-in"),
            Origin::File(p) => (
                p.display().to_string(),
                p.file_stem()
                    .map_or_else(|| "scenario".into(), |s| s.to_string_lossy().into_owned()),
                "the saved file",
            ),
        };
        let name = match &self.doc.parsed {
            Ok(s) => s.name.clone(),
            Err(_) => self.doc.origin.label(),
        };
        let stem = match crate::tui::persist::slug(&stem) {
            s if s.is_empty() => "scenario".to_string(),
            s => s,
        };
        let note = self.doc.dirty.then(|| {
            format!(
                "unsaved edits: the code is of the scenario as edited, but the `retrylab sim {arg}` it names serves {saved_as} until you save (Ctrl+S)."
            )
        });
        let source = Source {
            scenario: self.doc.parsed.clone(),
            arg,
            name,
            stem,
            folder: self.files.export_folder(),
            note,
        };
        self.dialog = Some(Dialog::Export(Box::new(ExportDialog::new(source))));
    }

    fn export_dialog(&mut self) -> Option<&mut ExportDialog> {
        match self.dialog.as_mut() {
            Some(Dialog::Export(d)) => Some(d),
            _ => None,
        }
    }

    /// Writes an export: a typed path is checked, and an existing file is asked about first.
    pub(super) fn export_write(&mut self, to: WriteTo, code: &str) {
        let path = match to {
            WriteTo::Overwrite(path) => path,
            WriteTo::Typed(typed) => match self.files.export_path(&typed) {
                Err(why) => {
                    if let Some(d) = self.export_dialog() {
                        d.write_failed(why);
                    }
                    return;
                }
                Ok(path) if Files::exists(&path) => {
                    if let Some(d) = self.export_dialog() {
                        d.ask_overwrite(path);
                    }
                    return;
                }
                Ok(path) => path,
            },
        };
        match Files::write(&path, code) {
            Ok(()) => {
                self.dialog = None;
                self.notify(format!("exported to {}", path.display()), Level::Info);
            }
            Err(e) => {
                if let Some(d) = self.export_dialog() {
                    d.write_failed(format!("cannot write {}: {e}", path.display()));
                }
            }
        }
    }

    /// Copies an export by OSC 52, or says it is too large for one.
    pub(super) fn export_copy(&mut self, code: &str) {
        let said = match osc52(code) {
            Ok(seq) => {
                self.terminal_out.push(seq);
                let n = code.lines().count();
                (
                    format!(
                        "copied {n} lines ({} bytes) to the clipboard (OSC 52)",
                        code.len()
                    ),
                    Meaning::Success,
                )
            }
            Err(_) => (
                format!(
                    "not copied: {} bytes is more than OSC 52 takes at once ({MAX_COPY_BYTES}); w writes it to a file",
                    code.len()
                ),
                Meaning::Warning,
            ),
        };
        if let Some(d) = self.export_dialog() {
            d.say(said.0, said.1);
        }
    }
}
