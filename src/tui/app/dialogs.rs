//! The dialogs over the panes: the help, the scenario picker, the export, and questions whose choices are
//! data (their keys come from the action table's [`ANSWERS`](crate::tui::keymap::ANSWERS)).
//! A key or a click in a dialog becomes a [`Decision`] that the App carries out: a dialog
//! never touches the document, the run or the files itself.

use super::files::Files;
use crate::tui::keymap::{self, Action, Answer, Scope};
use crate::tui::panes::export::{ExportDialog, Outcome, WriteTo};
use crate::tui::panes::help::HelpOverlay;
use crate::tui::panes::overlay::{Choice, Confirm, NamePrompt, PickItem, Picker};
use crate::tui::persist::DeadDraft;
use crate::tui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Frame;
use ratatui::layout::Rect;
use std::path::PathBuf;

pub(super) enum Dialog {
    Help(HelpOverlay),
    Picker(Picker),
    Confirm(Confirm, Pending),
    /// Save As: the name typed; `then_quit` when it came from "save, then quit".
    SaveAs(NamePrompt, bool),
    /// Export: pick a target, read the code, write it or copy it (stays open while it asks).
    Export(Box<ExportDialog>),
}

/// What a question decides about.
#[derive(Debug)]
pub(super) enum Pending {
    Quit,
    Open(PickItem),
    /// Save over this existing file (then quit?).
    Overwrite(PathBuf, bool),
    /// Open this while a run goes on (it would be cancelled).
    OpenOverRun(PickItem),
    /// Drafts of ended instances, newest first (claimed while the dialog is open).
    Drafts(Vec<DeadDraft>),
}

/// What the App does after a key or click in a dialog.
#[derive(Debug)]
pub(super) enum Decision {
    Nothing,
    /// Quit as Ctrl+Q would (asking first when there are unsaved edits).
    RequestQuit,
    /// Open a scenario from the picker (asking first when there are unsaved edits).
    Pick(PickItem),
    /// The what-if picker's policy, and the `--map` to replay the recorded run with.
    WhatifPick(PickItem, crate::whatif::MapMode),
    SaveThenQuit,
    QuitUnsaved,
    /// Open a scenario, dropping the unsaved edits.
    OpenDiscarding(PickItem),
    /// Cancel the run in flight, clear it, then open (asking about edits as usual).
    OpenStoppingRun(PickItem),
    Restore(Vec<DeadDraft>, usize),
    DiscardDrafts(Vec<DeadDraft>),
    /// Save As this name (checked by the App; then quit?).
    SaveAs(String, bool),
    /// Save over an existing file (then quit?).
    Overwrite(PathBuf, bool),
    /// The drafts dialog was closed: they stay for the next start.
    DraftsKept,
    /// Write an export (the Export dialog stays open to hear how it went).
    ExportWrite(WriteTo, String),
    /// Copy an export to the clipboard (the Export dialog stays open).
    ExportCopy(String),
}

/// What a mouse event in a dialog did.
pub(super) enum MouseUse {
    /// Nothing to redraw.
    Ignored,
    Used,
    /// The picker's selected item was clicked again: open it (the dialog closes).
    Pick(PickItem),
    /// The same in the what-if picker: replay under it.
    WhatifPick(PickItem, crate::whatif::MapMode),
}

impl Dialog {
    pub fn picker(items: Vec<PickItem>, history: Vec<PickItem>, current: Option<&str>) -> Dialog {
        Dialog::Picker(Picker::new(items, history, current))
    }

    pub fn quit() -> Dialog {
        let choices = vec![
            Choice::new(Answer::SaveThenQuit, "save, then quit"),
            Choice::new(Answer::QuitUnsaved, "quit without saving"),
        ];
        Dialog::confirm(
            "Quit with unsaved edits?",
            "The scenario has edits that are not saved.".into(),
            choices,
            Pending::Quit,
        )
    }

    pub fn open_over_edits(item: PickItem) -> Dialog {
        let body = format!(
            "Opening {} replaces your unsaved edits (Ctrl+S would save them).",
            item.label()
        );
        let choices = vec![Choice::new(
            Answer::Discard,
            "discard the edits and open it",
        )];
        Dialog::confirm("Unsaved edits", body, choices, Pending::Open(item))
    }

    /// Save As: a name for a new file in the scenarios folder, `value` typed already.
    pub fn save_as(folder: &str, value: String, error: Option<String>, then_quit: bool) -> Dialog {
        let body = format!(
            "A built-in is saved as your own scenario in {folder}; `retrylab run NAME` runs it."
        );
        let title = "Save as".to_string();
        Dialog::SaveAs(
            NamePrompt {
                title,
                body,
                value,
                error,
            },
            then_quit,
        )
    }

    /// The name is taken: overwrite?
    pub fn overwrite(path: PathBuf, then_quit: bool) -> Dialog {
        let body = format!("{} exists already.", path.display());
        let choices = vec![Choice::new(Answer::Overwrite, "overwrite it")];
        Dialog::confirm(
            "Overwrite?",
            body,
            choices,
            Pending::Overwrite(path, then_quit),
        )
    }

    /// Opening something while `run` goes on cancels it: ask first.
    pub fn open_over_run(item: PickItem, run: &str) -> Dialog {
        let body = format!(
            "A run of {run} is going on. Opening {} cancels it and clears its timeline \
             (its trace keeps what it did).",
            item.label()
        );
        let choices = vec![Choice::new(Answer::CancelRun, "cancel the run and open it")];
        Dialog::confirm(
            "A run is going on",
            body,
            choices,
            Pending::OpenOverRun(item),
        )
    }

    /// The offer of drafts that ended instances left; none when there are none.
    pub fn drafts(drafts: Vec<DeadDraft>) -> Option<Dialog> {
        let ago = |d: &DeadDraft| {
            d.draft
                .saved_at
                .and_then(|t| t.elapsed().ok())
                .map(|e| {
                    format!(
                        " {} ago",
                        crate::policy::duration::format_secs(e.as_secs() as f64)
                    )
                })
                .unwrap_or_default()
        };
        let (title, body, mut choices) = match drafts.as_slice() {
            [] => return None,
            [d] => (
                "Unsaved draft found".to_string(),
                format!(
                    "retrylab stopped{} with unsaved edits to {}. Restore them?",
                    ago(d),
                    d.draft.origin
                ),
                vec![Choice::new(
                    Answer::Restore,
                    "restore the draft into the editors",
                )],
            ),
            many => (
                format!("{} unsaved drafts found", many.len()),
                "retrylab instances that are no longer running left unsaved edits. Restore one?"
                    .to_string(),
                many.iter()
                    .enumerate()
                    .map(|(i, d)| {
                        let what = format!("restore {}, saved{}", d.draft.origin, ago(d));
                        Choice::new(Answer::RestoreNth(i), what)
                    })
                    .collect(),
            ),
        };
        let all = if drafts.len() > 1 {
            " (all of them)"
        } else {
            ""
        };
        choices.push(Choice::new(
            Answer::Discard,
            format!("discard{all} and keep what is open"),
        ));
        Some(Dialog::confirm(
            &title,
            body,
            choices,
            Pending::Drafts(drafts),
        ))
    }

    fn confirm(title: &str, body: String, choices: Vec<Choice>, pending: Pending) -> Dialog {
        let title = title.to_string();
        Dialog::Confirm(
            Confirm {
                title,
                body,
                choices,
            },
            pending,
        )
    }

    /// A key pressed while the dialog is open: the dialog that stays (if any) and what to do.
    pub fn on_key(self, k: &KeyEvent) -> (Option<Dialog>, Decision) {
        let action = keymap::lookup(k, &[Scope::Global, Scope::View]);
        let keep = |d: Dialog| (Some(d), Decision::Nothing);
        match self {
            Dialog::Help(mut h) if h.typing() && action != Some(Action::Cancel) => {
                h.search_key(k);
                keep(Dialog::Help(h))
            }
            Dialog::Help(mut h) if k.code == KeyCode::Char('/') => {
                h.start_search();
                keep(Dialog::Help(h))
            }
            Dialog::Help(mut h) if action == Some(Action::Cancel) && h.searching() => {
                h.clear_search();
                keep(Dialog::Help(h))
            }
            Dialog::Help(mut h) => match action {
                Some(Action::Help | Action::Cancel | Action::Close) => (None, Decision::Nothing),
                Some(Action::Quit) => (None, Decision::RequestQuit),
                Some(a) => {
                    h.on_action(a);
                    keep(Dialog::Help(h))
                }
                None => keep(Dialog::Help(h)),
            },
            Dialog::Picker(p) => picker_key(p, action, k),
            Dialog::Confirm(c, pending) => confirm_key(c, pending, action, k),
            Dialog::Export(mut d) => match d.on_key(k, action) {
                Outcome::Stay => keep(Dialog::Export(d)),
                Outcome::Close => (None, Decision::Nothing),
                Outcome::Quit => (None, Decision::RequestQuit),
                Outcome::Write(to, code) => {
                    (Some(Dialog::Export(d)), Decision::ExportWrite(to, code))
                }
                Outcome::Copy(code) => (Some(Dialog::Export(d)), Decision::ExportCopy(code)),
            },
            Dialog::SaveAs(mut p, then_quit) => match (k.code, action) {
                (KeyCode::Enter, _) => (None, Decision::SaveAs(p.value, then_quit)),
                (_, Some(Action::Cancel)) => (None, Decision::Nothing),
                _ => {
                    p.edit(k);
                    keep(Dialog::SaveAs(p, then_quit))
                }
            },
        }
    }

    /// The wheel scrolls the help or the picker; a click selects a picker item, and a
    /// click on the selected one opens it.
    pub fn on_mouse(&mut self, m: &MouseEvent) -> MouseUse {
        let (x, y) = (m.column, m.row);
        match (m.kind, self) {
            (MouseEventKind::ScrollDown, Dialog::Help(h)) => h.on_scroll(3),
            (MouseEventKind::ScrollUp, Dialog::Help(h)) => h.on_scroll(-3),
            (MouseEventKind::ScrollDown, Dialog::Picker(p)) => p.move_by(1),
            (MouseEventKind::ScrollUp, Dialog::Picker(p)) => p.move_by(-1),
            (MouseEventKind::ScrollDown, Dialog::Export(d)) => d.on_scroll(3),
            (MouseEventKind::ScrollUp, Dialog::Export(d)) => d.on_scroll(-3),
            (MouseEventKind::Down(MouseButton::Left), Dialog::Picker(p)) => {
                if let Some(i) = p.item_at(x, y) {
                    if p.selected == i {
                        if let Some(item) = p.chosen().cloned() {
                            return match p.whatif_map {
                                Some(map) => MouseUse::WhatifPick(item, map),
                                None => MouseUse::Pick(item),
                            };
                        }
                    } else {
                        p.selected = i;
                    }
                }
            }
            _ => return MouseUse::Ignored,
        }
        MouseUse::Used
    }

    pub fn render(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, files: &Files) {
        match self {
            Dialog::Help(h) => h.render(frame, area, theme, &files.help_rows()),
            Dialog::Picker(p) => p.render(frame, area, theme),
            Dialog::Confirm(c, _) => c.render(frame, area, theme),
            Dialog::SaveAs(p, _) => p.render(frame, area, theme),
            Dialog::Export(d) => d.render(frame, area, theme),
        }
    }
}

/// A key in the picker: typing filters (so `j`, `k`, `q` are text here), the arrows and
/// Ctrl+N / Ctrl+P move, Tab switches between scenarios and history (in the what-if picker:
/// the `--map`), Enter opens, Esc clears the filter and then closes.
fn picker_key(mut p: Picker, action: Option<Action>, k: &KeyEvent) -> (Option<Dialog>, Decision) {
    let plain = !k
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
    let step = match (k.code, plain) {
        (KeyCode::Char('n'), false) => Some(1),
        (KeyCode::Char('p'), false) => Some(-1),
        (KeyCode::Up, _) => Some(-1),
        (KeyCode::Down, _) => Some(1),
        (KeyCode::PageUp, _) => Some(-10),
        (KeyCode::PageDown, _) => Some(10),
        (KeyCode::Home, _) => Some(-100_000),
        (KeyCode::End, _) => Some(100_000),
        _ => None,
    };
    if let Some(n) = step {
        p.move_by(n);
        return (Some(Dialog::Picker(p)), Decision::Nothing);
    }
    match (k.code, action) {
        (KeyCode::Char(c), _) if plain => p.type_char(c),
        (KeyCode::Backspace, _) => {
            p.backspace();
        }
        (KeyCode::Tab | KeyCode::BackTab, _) if p.whatif_map.is_some() => p.toggle_map(),
        (KeyCode::Tab | KeyCode::BackTab, _) => p.switch_tab(),
        (KeyCode::Enter, _) => {
            let d = match (p.chosen().cloned(), p.whatif_map) {
                (None, _) => Decision::Nothing,
                (Some(item), Some(map)) => Decision::WhatifPick(item, map),
                (Some(item), None) => Decision::Pick(item),
            };
            return (None, d);
        }
        (_, Some(Action::Cancel)) if !p.filter.is_empty() => p.clear_filter(),
        (_, Some(Action::Cancel | Action::Open)) => return (None, Decision::Nothing),
        (_, Some(Action::Quit)) => return (None, Decision::RequestQuit),
        _ => {}
    }
    (Some(Dialog::Picker(p)), Decision::Nothing)
}

/// A key in a question: Esc goes back, an offered answer decides, anything else waits.
fn confirm_key(
    c: Confirm,
    pending: Pending,
    action: Option<Action>,
    k: &KeyEvent,
) -> (Option<Dialog>, Decision) {
    if action == Some(Action::Cancel) {
        // Dropping the claims lets the next start offer the drafts again.
        let d = match pending {
            Pending::Drafts(_) => Decision::DraftsKept,
            _ => Decision::Nothing,
        };
        return (None, d);
    }
    let decision = match (c.answer(k), pending) {
        (Some(Answer::Discard), Pending::Drafts(d)) => Decision::DiscardDrafts(d),
        (Some(Answer::Restore), Pending::Drafts(d)) => Decision::Restore(d, 0),
        (Some(Answer::RestoreNth(i)), Pending::Drafts(d)) => Decision::Restore(d, i),
        (Some(Answer::SaveThenQuit), Pending::Quit) => Decision::SaveThenQuit,
        (Some(Answer::QuitUnsaved), Pending::Quit) => Decision::QuitUnsaved,
        (Some(Answer::Discard), Pending::Open(item)) => Decision::OpenDiscarding(item),
        (Some(Answer::CancelRun), Pending::OpenOverRun(item)) => Decision::OpenStoppingRun(item),
        (Some(Answer::Overwrite), Pending::Overwrite(path, q)) => Decision::Overwrite(path, q),
        (_, pending) => return (Some(Dialog::Confirm(c, pending)), Decision::Nothing),
    };
    (None, decision)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn a_question_decides_by_its_offered_answers_only() {
        let (kept, d) = Dialog::quit().on_key(&key(KeyCode::Char('S')));
        assert!(
            kept.is_none() && matches!(d, Decision::SaveThenQuit),
            "{d:?}"
        );
        let (kept, d) = Dialog::quit().on_key(&key(KeyCode::Char('q')));
        assert!(
            kept.is_none() && matches!(d, Decision::QuitUnsaved),
            "{d:?}"
        );
        // `d` answers the open dialog, not this one: the question stays.
        let (kept, d) = Dialog::quit().on_key(&key(KeyCode::Char('d')));
        assert!(kept.is_some() && matches!(d, Decision::Nothing), "{d:?}");
        let (kept, d) = Dialog::quit().on_key(&key(KeyCode::Esc));
        assert!(kept.is_none() && matches!(d, Decision::Nothing), "{d:?}");
        let item = PickItem::Saved {
            path: "x.toml".into(),
            shadows: false,
        };
        let (kept, d) = Dialog::open_over_edits(item.clone()).on_key(&key(KeyCode::Char('d')));
        assert!(kept.is_none());
        assert!(matches!(d, Decision::OpenDiscarding(i) if i == item));
    }

    #[test]
    fn no_drafts_no_dialog() {
        assert!(Dialog::drafts(Vec::new()).is_none());
    }
}
