//! The status bar: mode (SIM/LIVE), speed, the run's state or outcome, the latest notice, and
//! key hints for the focused pane taken from the action table.

use crate::clock::Speed;
use crate::event::{Mode, Outcome};
use crate::tui::keymap::{Action, hint};
use crate::tui::run_view::Finished;
use crate::tui::theme::{Meaning, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

pub struct StatusInfo<'a> {
    pub mode: Mode,
    pub speed: Speed,
    pub running: bool,
    pub replay: bool,
    pub finished: Option<&'a Finished>,
    pub notice: Option<(&'a str, Level)>,
    pub hints: &'a [Action],
    /// The scenario's name, with a mark when edited since the last save.
    pub title: &'a str,
    pub dirty: bool,
}

pub fn render(frame: &mut Frame, area: Rect, s: &StatusInfo, theme: &Theme) {
    let base = theme.style(Meaning::StatusBar);
    let mut left = vec![
        Span::styled(
            format!(" {} ", s.mode.label()),
            theme.style(match s.mode {
                Mode::Sim => Meaning::ModeSim,
                Mode::Live => Meaning::ModeLive,
            }),
        ),
        Span::styled(format!(" {} ", s.speed.label()), base),
    ];
    if s.replay {
        left.push(Span::styled("replay ", theme.style(Meaning::Muted)));
    }
    if s.running {
        left.push(Span::styled("● running ", theme.style(Meaning::Running)));
    } else if let Some(f) = s.finished {
        let (t, m) = match f.outcome {
            Outcome::Ok => ("✓ ok ", Meaning::Success),
            Outcome::Error => ("✗ error ", Meaning::Error),
            Outcome::Cancelled => ("⊘ cancelled ", Meaning::Warning),
        };
        left.push(Span::styled(t, theme.style(m)));
    }
    // Leave room for the first hints (run/cancel, help) whatever the notice says.
    let used: usize = left.iter().map(Span::width).sum();
    let room = (area.width as usize).saturating_sub(used + 22).max(10);
    match s.notice {
        Some((text, level)) => left.push(Span::styled(
            format!("│ {} ", super::fit(text, room)),
            theme.style(match level {
                Level::Info => Meaning::Text,
                Level::Warn => Meaning::Warning,
                Level::Error => Meaning::Error,
            }),
        )),
        None => {
            left.push(Span::styled(
                format!(
                    "│ {}{} ",
                    super::fit(s.title, room),
                    if s.dirty { " ●" } else { "" }
                ),
                theme.style(Meaning::Muted),
            ));
        }
    }
    let left_w: usize = left.iter().map(Span::width).sum();
    // Hints fill what is left, from the most important; they never overwrite the notice.
    let room = (area.width as usize).saturating_sub(left_w + 1);
    let mut right: Vec<Span> = Vec::new();
    let mut used = 0;
    for a in s.hints {
        let Some((key, what)) = hint(*a) else {
            continue;
        };
        let w = key.chars().count() + what.chars().count() + 2;
        if used + w > room {
            break;
        }
        used += w;
        right.push(Span::styled(key, theme.style(Meaning::Key)));
        right.push(Span::styled(format!(" {what} "), base));
    }
    let pad = (area.width as usize).saturating_sub(left_w + used);
    let mut spans = left;
    spans.push(Span::styled(" ".repeat(pad), base));
    spans.extend(right);
    frame.render_widget(Paragraph::new(Line::from(spans)).style(base), area);
}
