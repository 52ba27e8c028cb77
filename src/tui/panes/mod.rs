//! One file per pane behind one small trait: render, act on a keymap action, take a mouse
//! click or wheel, and name the actions it offers (for the status bar).

pub mod editor;
pub mod export;
mod hedge_rows;
pub mod help;
pub mod inspector;
pub mod output;
pub mod overlay;
pub mod picker;
pub mod schedule;
pub mod status;
pub mod timeline;

use super::keymap::Action;
use super::run_view::RunView;
use super::split::Part;
use super::theme::{Meaning, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType, Borders};

/// The panes that can take focus, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaneId {
    Prompt,
    Policy,
    Faults,
    /// The plan under the editors (it scrolls when a long plan or hint wraps).
    Plan,
    Timeline,
    Output,
    Inspector,
}

impl PaneId {
    pub const ALL: [PaneId; 7] = [
        PaneId::Prompt,
        PaneId::Policy,
        PaneId::Faults,
        PaneId::Plan,
        PaneId::Timeline,
        PaneId::Output,
        PaneId::Inspector,
    ];

    #[cfg(any(test, feature = "test-util"))]
    pub fn is_editor(self) -> bool {
        matches!(self, PaneId::Prompt | PaneId::Policy | PaneId::Faults)
    }

    /// The editor's part of the scenario, for the three editors.
    pub fn part(self) -> Option<Part> {
        match self {
            PaneId::Prompt => Some(Part::Prompt),
            PaneId::Policy => Some(Part::Policy),
            PaneId::Faults => Some(Part::Faults),
            PaneId::Plan | PaneId::Timeline | PaneId::Output | PaneId::Inspector => None,
        }
    }

    /// The editor pane of a part of the scenario.
    pub fn editor(part: Part) -> PaneId {
        match part {
            Part::Prompt => PaneId::Prompt,
            Part::Policy => PaneId::Policy,
            Part::Faults => PaneId::Faults,
        }
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn title(self) -> &'static str {
        match self {
            PaneId::Prompt => "Prompt",
            PaneId::Policy => "Policy",
            PaneId::Faults => "Faults",
            PaneId::Plan => "Plan",
            PaneId::Timeline => "Timeline",
            PaneId::Output => "Output",
            PaneId::Inspector => "Inspector",
        }
    }
}

/// What every pane may read while rendering or acting.
pub struct Ctx<'a> {
    pub theme: &'a Theme,
    pub run: &'a RunView,
    pub focused: bool,
    /// The run's clock as estimated now (drives wait countdowns).
    pub run_now_ms: u64,
    /// Spinner frame.
    pub tick: usize,
    /// The timeline row selected, and the attempt it is about.
    pub selected_row: Option<usize>,
    pub selected_attempt: Option<usize>,
}

/// A pane of the playground.
pub trait Pane {
    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Ctx);

    /// A keymap action while focused; true when it was used.
    fn on_action(&mut self, _action: Action, _ctx: &Ctx) -> bool {
        false
    }

    /// A left click at an absolute position inside the pane.
    fn on_click(&mut self, _x: u16, _y: u16, _ctx: &Ctx) {}

    /// Wheel: positive scrolls down.
    fn on_scroll(&mut self, _rows: i32, _ctx: &Ctx) {}

    /// The actions it offers when focused, for the status bar.
    fn hints(&self) -> &'static [Action] {
        &[]
    }
}

/// The frame around a pane: thick and in the focus style when focused.
pub fn pane_block<'a>(title: impl Into<Line<'a>>, focused: bool, theme: &Theme) -> Block<'a> {
    let (border, ty) = if focused {
        (theme.style(Meaning::Focus), BorderType::Thick)
    } else {
        (theme.style(Meaning::Border), BorderType::Plain)
    };
    let title: Line = title.into();
    let title = if focused {
        title.patch_style(theme.style(Meaning::Focus))
    } else {
        title.patch_style(theme.style(Meaning::Title))
    };
    Block::default()
        .borders(Borders::ALL)
        .border_type(ty)
        .border_style(border)
        .title(title)
}

/// Cuts `s` to at most `max` columns, with an ellipsis when cut.
pub fn fit(s: &str, max: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut out = String::new();
    let mut w = 0;
    let total: usize = s.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= max {
        return s.to_string();
    }
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw + 1 > max {
            break;
        }
        out.push(c);
        w += cw;
    }
    if max > 0 {
        out.push('…');
    }
    out
}

/// One line of text with newlines shown as `⏎`, for one-row summaries. Only the start of a
/// long text is looked at (a row never shows more).
pub fn one_line(s: &str) -> String {
    let s = s.trim();
    let end = s.char_indices().nth(400).map_or(s.len(), |(i, _)| i);
    s[..end].replace('\n', " ⏎ ")
}

#[cfg(any(test, feature = "test-util"))]
/// A line of spans with one style.
pub fn styled(text: impl Into<String>, style: ratatui::style::Style) -> Line<'static> {
    Line::from(ratatui::text::Span::styled(text.into(), style))
}

/// Moves a scroll offset by `delta`, within `0..=max`.
pub fn scroll_by(offset: usize, delta: i32, max: usize) -> usize {
    let v = offset as i64 + i64::from(delta);
    v.clamp(0, max as i64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_with_an_ellipsis() {
        assert_eq!(fit("hello", 5), "hello");
        assert_eq!(fit("hello world", 6), "hello…");
        assert_eq!(fit("日本語", 4), "日…");
        assert_eq!(scroll_by(2, -5, 10), 0);
        assert_eq!(scroll_by(2, 50, 10), 10);
    }
}
