//! The table itself (action → scope → keys → words), apart from the lookups that read it.
//! Ctrl+C copies and Ctrl+U kills to the line's start, as readline users expect; Ctrl+W
//! zooms (an editor deletes a word with Alt+Backspace).

use super::{Action, Binding, Chord, Scope};
use crossterm::event::{KeyCode, KeyModifiers};

const fn key(code: KeyCode) -> Chord {
    Chord {
        code,
        mods: KeyModifiers::NONE,
    }
}

const fn ctrl(c: char) -> Chord {
    Chord {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}

/// THE table. Order = order in the help.
pub const BINDINGS: &[Binding] = &[
    Binding {
        action: Action::Run,
        scope: Scope::Global,
        keys: &[key(KeyCode::F(5)), ctrl('r')],
        short: "run",
        desc: "Run the scenario (in replay: replay it again)",
    },
    Binding {
        action: Action::Cancel,
        scope: Scope::Global,
        keys: &[key(KeyCode::Esc)],
        short: "cancel",
        desc: "Cancel the running call; close a dialog",
    },
    Binding {
        action: Action::Help,
        scope: Scope::Global,
        keys: &[key(KeyCode::F(1)), ctrl('g')],
        short: "help",
        desc: "Show or hide this help",
    },
    Binding {
        action: Action::FocusNext,
        scope: Scope::Global,
        keys: &[key(KeyCode::Tab)],
        short: "next pane",
        desc: "Move focus to the next pane (the layout stays; the border shows focus)",
    },
    Binding {
        action: Action::FocusPrev,
        scope: Scope::Global,
        keys: &[key(KeyCode::BackTab)],
        short: "prev pane",
        desc: "Move focus to the previous pane",
    },
    Binding {
        action: Action::Zoom,
        scope: Scope::Global,
        keys: &[ctrl('w')],
        short: "zoom",
        desc: "Zoom: the focused pane fills the screen; again to restore",
    },
    Binding {
        action: Action::Save,
        scope: Scope::Global,
        keys: &[ctrl('s')],
        short: "save",
        desc: "Save the scenario (a built-in asks a name for your scenarios folder)",
    },
    Binding {
        action: Action::Open,
        scope: Scope::Global,
        keys: &[ctrl('o')],
        short: "open",
        desc: "Open a built-in or saved scenario, or a recent run (type to filter)",
    },
    Binding {
        action: Action::ToggleMode,
        scope: Scope::Global,
        keys: &[key(KeyCode::F(2)), ctrl('t')],
        short: "sim/live",
        desc: "Switch between the simulator (SIM) and the real APIs (LIVE)",
    },
    Binding {
        action: Action::CycleSpeed,
        scope: Scope::Global,
        keys: &[key(KeyCode::F(3)), ctrl('f')],
        short: "speed",
        desc: "Cycle the run speed: 1x, 10x, 100x (waits and simulated delays)",
    },
    Binding {
        action: Action::CycleTheme,
        scope: Scope::Global,
        keys: &[key(KeyCode::F(4)), ctrl('p')],
        short: "theme",
        desc: "Cycle the colour theme (dark, light, high-contrast, mono, yours)",
    },
    // Not Ctrl+E: the editors' end of line. Ctrl+X was only the editor widget's cut, whose
    // text nothing could paste back (Ctrl+Y is redo).
    Binding {
        action: Action::Export,
        scope: Scope::Global,
        keys: &[key(KeyCode::F(6)), ctrl('x')],
        short: "export",
        desc: "Export the policy as code (Mirascope, Tenacity, LiteLLM, Portkey)",
    },
    // Not Ctrl+L: terminals and shells use it to repaint, and a stray one must not open a view.
    Binding {
        action: Action::Lab,
        scope: Scope::Global,
        keys: &[key(KeyCode::F(7)), ctrl('n')],
        short: "lab",
        desc: "Lab view: N calls of this scenario and up to two others, compared",
    },
    Binding {
        action: Action::Copy,
        scope: Scope::Global,
        keys: &[ctrl('c')],
        short: "copy",
        desc: "Copy the selection (OSC 52, works over ssh); with none, twice quits",
    },
    Binding {
        action: Action::Quit,
        scope: Scope::Global,
        keys: &[ctrl('q')],
        short: "quit",
        desc: "Quit (asks first when there are unsaved edits)",
    },
    Binding {
        action: Action::Undo,
        scope: Scope::Editor,
        keys: &[ctrl('z')],
        short: "undo",
        desc: "Undo the last edit (a run of typing is one step)",
    },
    Binding {
        action: Action::Redo,
        scope: Scope::Editor,
        keys: &[ctrl('y')],
        short: "redo",
        desc: "Redo what Ctrl+Z undid",
    },
    Binding {
        action: Action::KillToStart,
        scope: Scope::Editor,
        keys: &[ctrl('u')],
        short: "kill line",
        desc: "Delete to the start of the line (as in readline)",
    },
    Binding {
        action: Action::Up,
        scope: Scope::View,
        keys: &[key(KeyCode::Up), key(KeyCode::Char('k'))],
        short: "select",
        desc: "Select the previous row / scroll up",
    },
    Binding {
        action: Action::Down,
        scope: Scope::View,
        keys: &[key(KeyCode::Down), key(KeyCode::Char('j'))],
        short: "select",
        desc: "Select the next row / scroll down",
    },
    Binding {
        action: Action::PageUp,
        scope: Scope::View,
        keys: &[key(KeyCode::PageUp)],
        short: "page",
        desc: "Scroll a page up",
    },
    Binding {
        action: Action::PageDown,
        scope: Scope::View,
        keys: &[key(KeyCode::PageDown)],
        short: "page",
        desc: "Scroll a page down",
    },
    Binding {
        action: Action::Top,
        scope: Scope::View,
        keys: &[key(KeyCode::Home), key(KeyCode::Char('g'))],
        short: "top",
        desc: "Go to the first row",
    },
    Binding {
        action: Action::Bottom,
        scope: Scope::View,
        keys: &[key(KeyCode::End), key(KeyCode::Char('G'))],
        short: "follow",
        desc: "Go to the newest row and follow the run again",
    },
    Binding {
        action: Action::Zoom,
        scope: Scope::View,
        keys: &[key(KeyCode::Char('z'))],
        short: "zoom",
        desc: "Zoom the focused pane, or restore it (as Ctrl+W)",
    },
    Binding {
        action: Action::Close,
        scope: Scope::View,
        keys: &[key(KeyCode::Char('q'))],
        short: "close",
        desc: "Close the help; leave a replay (back to the editors, or quit)",
    },
    Binding {
        action: Action::SkipWait,
        scope: Scope::View,
        keys: &[key(KeyCode::Char('n'))],
        short: "skip wait",
        desc: "Skip the wait in progress: the next attempt starts now",
    },
    Binding {
        action: Action::WhatIf,
        scope: Scope::View,
        keys: &[key(KeyCode::Char('w'))],
        short: "what if",
        desc: "What if… a replay's recorded faults met another policy: side by side",
    },
    Binding {
        action: Action::WhatIfMap,
        scope: Scope::View,
        keys: &[key(KeyCode::Char('m'))],
        short: "map",
        desc: "In the what-if view: --map index ↔ time, replayed again",
    },
];

/// Other editing keys, handled by the editor widget itself (for the help only).
pub const EDITOR_KEYS: &[(&str, &str)] = &[
    ("arrows, Home/End, PgUp/PgDn", "move the cursor"),
    ("Shift+arrows", "select (Ctrl+C copies the selection)"),
    ("Ctrl+A / Ctrl+E", "start / end of line"),
    ("Ctrl+K", "delete to the end of the line"),
    (
        "Alt+Backspace / Alt+Delete",
        "delete the word before / after the cursor",
    ),
    ("paste (terminal)", "pastes as text (bracketed paste)"),
];

/// Mouse use (for the help only).
pub const MOUSE: &[(&str, &str)] = &[
    (
        "click",
        "focus a pane; select a timeline row; place the editor cursor",
    ),
    ("wheel", "scroll the pane under the pointer"),
];
