//! The document: the scenario being edited, as three editors, and what parsing their joined
//! text gave. No I/O: reading text in and writing it out are the files' job (files.rs).

use super::Origin;
use crate::scenario::types::Scenario;
use crate::tui::panes::PaneId;
use crate::tui::panes::editor::{EditorError, EditorPane};
use crate::tui::panes::schedule::PlacedError;
use crate::tui::split::{self, Part, Parts};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Edits are re-parsed this long after the last keystroke.
const REPARSE_AFTER: Duration = Duration::from_millis(150);
/// The draft is autosaved this long after the last edit.
const DRAFT_AFTER: Duration = Duration::from_millis(1000);

pub(super) struct Document {
    /// Where the scenario came from (and where Ctrl+S writes).
    pub origin: Origin,
    /// The editors, in [`Part::ALL`] order.
    editors: [EditorPane; 3],
    /// The joined text at the last load or save (dirty = the editors differ from it).
    saved_text: String,
    joined_text: String,
    pub dirty: bool,
    pub parsed: Result<Arc<Scenario>, PlacedError>,
    pub reparse_due: Option<Instant>,
    pub draft_due: Option<Instant>,
}

impl Document {
    pub fn new() -> Document {
        Document {
            origin: Origin::Builtin(String::new()),
            editors: Part::ALL.map(|p| EditorPane::new(p, Vec::new())),
            saved_text: String::new(),
            joined_text: String::new(),
            dirty: false,
            parsed: Err(PlacedError {
                part: None,
                line: 0,
                column: 0,
                message: "no scenario".into(),
                hint: String::new(),
            }),
            reparse_due: None,
            draft_due: None,
        }
    }

    pub fn editor(&self, part: Part) -> &EditorPane {
        &self.editors[part as usize]
    }

    pub fn editor_mut(&mut self, part: Part) -> &mut EditorPane {
        &mut self.editors[part as usize]
    }

    /// The editor shown in pane `p`, when it is one.
    pub fn editor_at(&mut self, p: PaneId) -> Option<&mut EditorPane> {
        p.part().map(|part| self.editor_mut(part))
    }

    /// The joined scenario text as of the last parse.
    pub fn text(&self) -> &str {
        &self.joined_text
    }

    /// Replaces the whole document; it is clean until edited.
    pub fn load(&mut self, text: &str, origin: Origin) {
        let parts = split::split(text);
        for part in Part::ALL {
            self.editor_mut(part).set_lines(parts.get(part).to_vec());
        }
        self.origin = origin;
        self.reparse();
        self.mark_saved();
        self.draft_due = None;
    }

    /// An editor changed: re-parse and autosave a little later.
    pub fn edited(&mut self, now: Instant) {
        self.dirty = true;
        self.reparse_due = Some(now + REPARSE_AFTER);
        self.draft_due = Some(now + DRAFT_AFTER);
    }

    /// The document as written: not dirty until the next edit.
    pub fn mark_saved(&mut self) {
        self.saved_text = self.joined_text.clone();
        self.dirty = false;
    }

    /// Text that was never saved (a restored draft): dirty until saved.
    pub fn mark_unsaved(&mut self) {
        self.saved_text = String::new();
        self.dirty = true;
    }

    fn parts(&self) -> Parts {
        Parts {
            prompt: self.editor(Part::Prompt).content(),
            policy: self.editor(Part::Policy).content(),
            faults: self.editor(Part::Faults).content(),
        }
    }

    /// Joins the editors, parses, and places any error in its editor.
    pub fn reparse(&mut self) {
        self.reparse_due = None;
        let joined = split::join(&self.parts());
        for p in Part::ALL {
            self.editor_mut(p).error = None;
        }
        match crate::scenario::load::parse(&joined.text, &self.origin.label()) {
            Ok(s) => self.parsed = Ok(Arc::new(s)),
            Err(e) => {
                let located = if e.line > 0 {
                    joined.locate(e.line)
                } else {
                    None
                };
                if let Some((part, line)) = located {
                    self.editor_mut(part).error = Some(EditorError {
                        line,
                        column: e.column,
                        message: e.message.clone(),
                    });
                }
                self.parsed = Err(PlacedError {
                    part: located.map(|(p, _)| p),
                    line: located.map_or(0, |(_, l)| l),
                    column: e.column,
                    message: e.message,
                    hint: e.hint,
                });
            }
        }
        self.dirty = joined.text != self.saved_text;
        self.joined_text = joined.text;
    }
}
