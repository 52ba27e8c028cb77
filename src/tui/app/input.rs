//! Input routing: a key goes to the open dialog, else to a global action, else to the
//! focused editor, else to the focused pane; paste goes to the focused editor; the mouse
//! focuses, clicks and scrolls the pane under it. Actions go through [`App::do_action`].

use super::App;
use super::dialogs::{Dialog, MouseUse};
use crate::tui::keymap::{self, Action, Scope};
use crate::tui::panes::PaneId;
use crate::tui::panes::help::HelpOverlay;
use crate::tui::panes::status::Level;
use crossterm::event::{
    Event as TermEvent, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind,
};

impl App {
    pub(super) fn on_input(&mut self, ev: TermEvent) {
        match ev {
            TermEvent::Key(k) if k.kind == KeyEventKind::Press => {
                self.on_key(k);
                self.needs_draw = true;
            }
            TermEvent::Key(_) => {}
            TermEvent::Paste(text) => {
                self.on_paste(&text);
                self.needs_draw = true;
            }
            TermEvent::Mouse(m) => self.on_mouse(m),
            TermEvent::Resize(..) => {
                self.needs_clear = true;
                self.needs_draw = true;
            }
            TermEvent::FocusGained | TermEvent::FocusLost => {}
        }
    }

    fn on_key(&mut self, k: KeyEvent) {
        if let Some(d) = self.dialog.take() {
            let (kept, decision) = d.on_key(&k);
            self.dialog = kept;
            self.decide(decision);
            return;
        }
        if self.lab_open {
            self.lab_key(k);
            return;
        }
        if self.whatif.is_some() {
            self.whatif_key(k);
            return;
        }
        if let Some(a) = keymap::lookup(&k, &[Scope::Global]) {
            self.do_action(a);
            return;
        }
        let now = self.now();
        if let Some(ed) = self.doc.editor_at(self.focus) {
            let changed = match keymap::lookup(&k, &[Scope::Editor]) {
                Some(Action::Undo) => ed.undo(),
                Some(Action::Redo) => ed.redo(),
                Some(Action::KillToStart) => ed.kill_to_start(),
                _ => ed.input(k, now),
            };
            if changed {
                self.on_edit();
            }
            return;
        }
        match keymap::lookup(&k, &[Scope::View]) {
            Some(
                a @ (Action::Close
                | Action::Zoom
                | Action::SkipWait
                | Action::WhatIf
                | Action::WhatIfMap),
            ) => self.do_action(a),
            Some(a) => self.pane_action(a),
            None => {}
        }
    }

    fn on_paste(&mut self, text: &str) {
        if let Some(Dialog::Export(d)) = self.dialog.as_mut() {
            return d.on_paste(text);
        }
        if self.dialog.is_some() {
            return;
        }
        if self.lab_open {
            return self.notify("the Lab view takes digits typed, not pasted", Level::Info);
        }
        match self.doc.editor_at(self.focus) {
            Some(ed) => {
                if ed.paste(text) {
                    self.on_edit();
                }
            }
            None => self.notify("focus an editor (Tab) to paste into it", Level::Info),
        }
    }

    fn on_mouse(&mut self, m: MouseEvent) {
        if let Some(d) = self.dialog.as_mut() {
            match d.on_mouse(&m) {
                MouseUse::Ignored => return,
                MouseUse::Used => {}
                MouseUse::Pick(item) => {
                    self.dialog = None;
                    self.pick(item);
                }
                MouseUse::WhatifPick(item, map) => {
                    self.dialog = None;
                    self.whatif_pick(&item, map);
                }
            }
            self.needs_draw = true;
            return;
        }
        if let Some(w) = self.whatif.as_mut() {
            match m.kind {
                MouseEventKind::ScrollDown => w.scroll(3),
                MouseEventKind::ScrollUp => w.scroll(-3),
                _ => return,
            }
            self.needs_draw = true;
            return;
        }
        let (x, y) = (m.column, m.row);
        let rows = match m.kind {
            MouseEventKind::ScrollDown => 3,
            MouseEventKind::ScrollUp => -3,
            MouseEventKind::Down(MouseButton::Left) => 0,
            // Moves and drags change nothing: no redraw.
            _ => return,
        };
        let Some(p) = self.rects.at(x, y) else {
            return;
        };
        let m = self.moment(self.now(), 0);
        if rows == 0 {
            self.focus = p;
            self.with_pane(p, m, |pane, ctx| pane.on_click(x, y, ctx));
        } else {
            self.with_pane(p, m, |pane, ctx| pane.on_scroll(rows, ctx));
        }
        self.needs_draw = true;
    }

    fn pane_action(&mut self, a: Action) {
        let m = self.moment(self.now(), 0);
        self.with_pane(self.focus, m, |pane, ctx| pane.on_action(a, ctx));
    }

    /// An action, from its key.
    pub(super) fn do_action(&mut self, a: Action) {
        match a {
            Action::Run => self.start(),
            Action::Cancel => self.cancel(),
            Action::Help => {
                self.dialog = match self.dialog {
                    Some(Dialog::Help(_)) => None,
                    _ => Some(Dialog::Help(HelpOverlay::default())),
                };
            }
            Action::FocusNext => self.move_focus(1),
            Action::FocusPrev => self.move_focus(-1),
            Action::Zoom => self.zoomed = !self.zoomed,
            Action::Copy => self.copy(),
            Action::Save => {
                self.save();
            }
            Action::Open => self.open_picker(),
            Action::ToggleMode => self.toggle_mode(),
            Action::CycleSpeed => self.cycle_speed(),
            Action::CycleTheme => self.cycle_theme(),
            Action::Quit => self.request_quit(),
            Action::Undo | Action::Redo | Action::KillToStart => {
                if let Some(ed) = self.doc.editor_at(self.focus) {
                    let changed = match a {
                        Action::Undo => ed.undo(),
                        Action::Redo => ed.redo(),
                        _ => ed.kill_to_start(),
                    };
                    if changed {
                        self.on_edit();
                    }
                }
            }
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => self.pane_action(a),
            Action::Close => {
                if self.session.is_replay() {
                    self.close_replay();
                }
            }
            Action::Lab => self.toggle_lab(),
            Action::WhatIf => self.open_whatif_picker(),
            Action::WhatIfMap => self.notify(
                "m switches --map in the what-if view (w in a replay opens it)",
                Level::Info,
            ),
            Action::Export => self.open_export(),
            Action::SkipWait => {
                if !self.session.skip_wait() {
                    self.notify("no wait in progress: nothing to skip", Level::Info);
                }
            }
        }
        self.needs_draw = true;
    }

    fn focusable(&self) -> Vec<PaneId> {
        if self.session.is_replay() {
            vec![PaneId::Timeline, PaneId::Output, PaneId::Inspector]
        } else {
            PaneId::ALL.to_vec()
        }
    }

    fn move_focus(&mut self, delta: i32) {
        let order = self.focusable();
        let i = order.iter().position(|p| *p == self.focus).unwrap_or(0) as i32;
        let n = order.len() as i32;
        self.focus = order[((i + delta).rem_euclid(n)) as usize];
    }

    #[cfg(any(test, feature = "test-util"))]
    /// Focuses a pane directly (tests, mouse).
    pub fn set_focus(&mut self, p: PaneId) {
        if self.focusable().contains(&p) {
            self.focus = p;
            self.needs_draw = true;
        }
    }
}
