//! The one action table: action → keys → description. It drives key handling, the status-bar
//! hints and the F1 help, so the three never disagree (DESIGN §8 keys are a contract). Every
//! F-key action has a Ctrl+letter too: GNOME Terminal takes F1, Mac laptops need fn for F-keys
//! (the letters shadow the editor widget's emacs-style cursor moves, which the arrows do).

mod bindings;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Run,
    Cancel,
    Help,
    FocusNext,
    FocusPrev,
    /// Ctrl+W / `z`: the focused pane fills the screen, or the layout comes back.
    Zoom,
    Save,
    Open,
    ToggleMode,
    CycleSpeed,
    CycleTheme,
    /// Ctrl+C: copy the editor's selection (OSC 52); with none, a second press quits.
    Copy,
    Quit,
    Undo,
    Redo,
    /// Ctrl+U in an editor: delete to the start of the line.
    KillToStart,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// `q`: close the help, or the replay view.
    Close,
    /// `n`: end the policy wait in progress now; the run goes on.
    SkipWait,
    /// F7 / Ctrl+N: the Lab view (N calls of each policy, compared).
    Lab,
    /// `w` in a replay: what if… the recorded faults under a policy picked from Ctrl+O's list.
    WhatIf,
    /// `m` in the what-if view: `--map index` ↔ `time`, replayed again.
    WhatIfMap,
    /// F6 / Ctrl+X: the Export dialog (the policy as code for another stack).
    Export,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere, even inside an editor (these keys never type text).
    Global,
    /// In an editor.
    Editor,
    /// In the Plan, Timeline, Output and Inspector panes (and lists in overlays).
    View,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Everywhere",
            Scope::Editor => "In the editors (Prompt, Policy, Faults)",
            Scope::View => "In Plan, Timeline, Output and Inspector",
        }
    }
}

/// A key with modifiers, as written in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chord {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Chord {
    /// Matches a pressed key. Letters with Ctrl match either case (some terminals report
    /// Shift); Shift+Tab arrives as BackTab with or without the Shift flag.
    pub fn matches(&self, k: &KeyEvent) -> bool {
        let relevant = KeyModifiers::CONTROL | KeyModifiers::ALT;
        match (self.code, k.code) {
            (KeyCode::BackTab, KeyCode::BackTab) => true,
            (KeyCode::Char(a), KeyCode::Char(b)) => {
                let same = if self.mods.contains(KeyModifiers::CONTROL) {
                    a.eq_ignore_ascii_case(&b)
                } else {
                    a == b
                };
                same && (k.modifiers & relevant) == self.mods
            }
            (a, b) => a == b && (k.modifiers & relevant) == (self.mods & relevant),
        }
    }

    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::Char(' ') => "Space".into(),
            KeyCode::Char(c) => c.to_ascii_uppercase().to_string(),
            KeyCode::BackTab => return "Shift+Tab".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            other => format!("{other:?}"),
        };
        let mut s = String::new();
        if self.mods.contains(KeyModifiers::CONTROL) {
            s.push_str("Ctrl+");
        }
        if self.mods.contains(KeyModifiers::ALT) {
            s.push_str("Alt+");
        }
        if self.mods.is_empty()
            && let KeyCode::Char(c) = self.code
        {
            return c.to_string();
        }
        s + &base
    }
}

pub struct Binding {
    pub action: Action,
    pub scope: Scope,
    pub keys: &'static [Chord],
    /// One or two words, for the status bar.
    pub short: &'static str,
    /// A sentence, for the help.
    pub desc: &'static str,
}

impl Binding {
    pub fn keys_label(&self) -> String {
        self.keys
            .iter()
            .map(Chord::label)
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

pub use bindings::{BINDINGS, EDITOR_KEYS, MOUSE};

/// An answer a dialog offers (quit with unsaved edits, open over them, restore a draft).
/// Each dialog lists its answers as data, with the words that fit it; the key is the
/// table's ([`ANSWERS`]), so the dialog shows the key that works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    SaveThenQuit,
    QuitUnsaved,
    Discard,
    /// The one draft offered.
    Restore,
    /// The n-th (from 0) of several drafts offered.
    RestoreNth(usize),
    /// Cancel the run in flight (to open another scenario).
    CancelRun,
    /// Save over an existing file.
    Overwrite,
    /// Write what the dialog shows to a file (the Export dialog).
    WriteFile,
}

/// The dialogs' table: answer → key (a plain letter or digit, either case).
pub const ANSWERS: &[(Answer, char)] = &[
    (Answer::SaveThenQuit, 's'),
    (Answer::QuitUnsaved, 'q'),
    (Answer::Discard, 'd'),
    (Answer::Restore, 'r'),
    (Answer::CancelRun, 'c'),
    (Answer::Overwrite, 'o'),
    (Answer::WriteFile, 'w'),
    (Answer::RestoreNth(0), '1'),
    (Answer::RestoreNth(1), '2'),
    (Answer::RestoreNth(2), '3'),
    (Answer::RestoreNth(3), '4'),
    (Answer::RestoreNth(4), '5'),
    (Answer::RestoreNth(5), '6'),
    (Answer::RestoreNth(6), '7'),
    (Answer::RestoreNth(7), '8'),
    (Answer::RestoreNth(8), '9'),
];

impl Answer {
    /// Its key in [`ANSWERS`].
    pub fn key(self) -> Option<char> {
        ANSWERS.iter().find(|(a, _)| *a == self).map(|(_, k)| *k)
    }
}

/// The answer among `offered` that a key gives: a character typed without modifiers.
pub fn answer(k: &KeyEvent, offered: impl IntoIterator<Item = Answer>) -> Option<Answer> {
    let KeyCode::Char(ch) = k.code else {
        return None;
    };
    if !k.modifiers.is_empty() {
        return None;
    }
    let ch = ch.to_ascii_lowercase();
    offered.into_iter().find(|a| a.key() == Some(ch))
}

pub fn binding(action: Action) -> Option<&'static Binding> {
    BINDINGS.iter().find(|b| b.action == action)
}

/// The action a key triggers in `scopes` (first match in table order).
pub fn lookup(k: &KeyEvent, scopes: &[Scope]) -> Option<Action> {
    BINDINGS
        .iter()
        .filter(|b| scopes.contains(&b.scope))
        .find(|b| b.keys.iter().any(|c| c.matches(k)))
        .map(|b| b.action)
}

/// `F5 run`: the first key of an action and its short name, for the status bar.
pub fn hint(action: Action) -> Option<(String, &'static str)> {
    let b = binding(action)?;
    Some((b.keys.first()?.label(), b.short))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn contract_keys_map_to_their_actions() {
        let g = [Scope::Global];
        let cases = [
            (KeyCode::F(5), KeyModifiers::NONE, Action::Run),
            (KeyCode::Char('r'), KeyModifiers::CONTROL, Action::Run),
            (KeyCode::Esc, KeyModifiers::NONE, Action::Cancel),
            (KeyCode::F(1), KeyModifiers::NONE, Action::Help),
            (KeyCode::Tab, KeyModifiers::NONE, Action::FocusNext),
            (KeyCode::BackTab, KeyModifiers::SHIFT, Action::FocusPrev),
            (KeyCode::Char('s'), KeyModifiers::CONTROL, Action::Save),
            (KeyCode::Char('o'), KeyModifiers::CONTROL, Action::Open),
            (KeyCode::F(2), KeyModifiers::NONE, Action::ToggleMode),
            (KeyCode::F(3), KeyModifiers::NONE, Action::CycleSpeed),
            (KeyCode::Char('q'), KeyModifiers::CONTROL, Action::Quit),
            (
                KeyCode::Char('Q'),
                KeyModifiers::CONTROL | KeyModifiers::SHIFT,
                Action::Quit,
            ),
        ];
        for (code, mods, action) in cases {
            assert_eq!(lookup(&press(code, mods), &g), Some(action), "{code:?}");
        }
        // Typing never triggers a global action.
        assert_eq!(
            lookup(&press(KeyCode::Char('r'), KeyModifiers::NONE), &g),
            None
        );
        assert_eq!(
            lookup(&press(KeyCode::Char('j'), KeyModifiers::NONE), &g),
            None
        );
        let v = [Scope::View];
        assert_eq!(
            lookup(&press(KeyCode::Char('j'), KeyModifiers::NONE), &v),
            Some(Action::Down)
        );
        assert_eq!(
            lookup(&press(KeyCode::Char('G'), KeyModifiers::SHIFT), &v),
            Some(Action::Bottom)
        );
        assert_eq!(
            lookup(&press(KeyCode::Char('g'), KeyModifiers::NONE), &v),
            Some(Action::Top)
        );
    }

    #[test]
    fn every_key_is_bound_once_per_scope() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                let clash = a.keys.iter().any(|ka| b.keys.contains(ka));
                let scopes_meet =
                    a.scope == b.scope || a.scope == Scope::Global || b.scope == Scope::Global;
                assert!(!(clash && scopes_meet), "{:?} and {:?}", a.action, b.action);
            }
        }
    }

    #[test]
    fn dialog_answers_have_one_key_each() {
        for (i, (a, ka)) in ANSWERS.iter().enumerate() {
            assert_eq!(a.key(), Some(*ka));
            assert!(ANSWERS[i + 1..].iter().all(|(_, kb)| kb != ka), "{a:?}");
        }
        let offered = [Answer::SaveThenQuit, Answer::QuitUnsaved];
        let s = press(KeyCode::Char('S'), KeyModifiers::NONE);
        assert_eq!(answer(&s, offered), Some(Answer::SaveThenQuit));
        let ctrl_s = press(KeyCode::Char('s'), KeyModifiers::CONTROL);
        assert_eq!(answer(&ctrl_s, offered), None);
        // A key whose answer the dialog does not offer does nothing.
        let d = press(KeyCode::Char('d'), KeyModifiers::NONE);
        assert_eq!(answer(&d, offered), None);
        assert_eq!(Answer::RestoreNth(8).key(), Some('9'));
        assert_eq!(Answer::RestoreNth(9).key(), None);
    }

    #[test]
    fn every_f_key_action_has_a_second_key_that_is_not_an_f_key() {
        for b in BINDINGS {
            if b.keys.iter().any(|k| matches!(k.code, KeyCode::F(_))) {
                assert!(
                    b.keys.iter().any(|k| !matches!(k.code, KeyCode::F(_))),
                    "{:?}",
                    b.action
                );
            }
        }
        assert_eq!(binding(Action::Help).unwrap().keys_label(), "F1 / Ctrl+G");
        let g = [Scope::Global];
        let t = press(KeyCode::Char('t'), KeyModifiers::CONTROL);
        assert_eq!(lookup(&t, &g), Some(Action::ToggleMode));
    }

    #[test]
    fn labels_read_like_the_design() {
        assert_eq!(binding(Action::Run).unwrap().keys_label(), "F5 / Ctrl+R");
        assert_eq!(
            binding(Action::FocusPrev).unwrap().keys_label(),
            "Shift+Tab"
        );
        assert_eq!(binding(Action::Down).unwrap().keys_label(), "↓ / j");
        assert_eq!(hint(Action::Quit), Some(("Ctrl+Q".into(), "quit")));
    }

    #[test]
    fn readline_keys_are_not_undo_and_ctrl_c_copies() {
        let e = [Scope::Editor];
        let ctrl = |c| press(KeyCode::Char(c), KeyModifiers::CONTROL);
        assert_eq!(lookup(&ctrl('u'), &e), Some(Action::KillToStart));
        assert_eq!(lookup(&ctrl('z'), &e), Some(Action::Undo));
        assert_eq!(lookup(&ctrl('y'), &e), Some(Action::Redo));
        let g = [Scope::Global];
        assert_eq!(lookup(&ctrl('c'), &g), Some(Action::Copy));
        assert_eq!(lookup(&ctrl('w'), &g), Some(Action::Zoom));
        let z = press(KeyCode::Char('z'), KeyModifiers::NONE);
        assert_eq!(lookup(&z, &[Scope::View]), Some(Action::Zoom));
        assert_eq!(lookup(&z, &g), None);
    }
}
