//! Pop-ups over the panes: the scenario picker (Ctrl+O) and yes/no questions (quit with
//! unsaved edits, open over unsaved edits, restore a draft found after a crash).

use super::fit;
use crate::tui::keymap::{self, Action, Answer};
use crate::tui::theme::{Meaning, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};
use std::path::PathBuf;

/// One scenario the picker offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickItem {
    Builtin { name: String, about: String },
    Saved { path: PathBuf },
}

impl PickItem {
    pub fn label(&self) -> String {
        match self {
            PickItem::Builtin { name, .. } => name.clone(),
            PickItem::Saved { path } => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    }
}

#[derive(Debug, Default)]
pub struct Picker {
    pub items: Vec<PickItem>,
    pub selected: usize,
    offset: usize,
    inner: Rect,
}

impl Picker {
    pub fn new(items: Vec<PickItem>, current: Option<&str>) -> Picker {
        let selected = current
            .and_then(|c| items.iter().position(|i| i.label() == c))
            .unwrap_or(0);
        Picker {
            items,
            selected,
            ..Default::default()
        }
    }

    pub fn chosen(&self) -> Option<&PickItem> {
        self.items.get(self.selected)
    }

    pub fn move_by(&mut self, delta: i32) {
        if self.items.is_empty() {
            return;
        }
        self.selected = super::scroll_by(self.selected, delta, self.items.len() - 1);
    }

    /// The item under a click, if any.
    pub fn item_at(&self, x: u16, y: u16) -> Option<usize> {
        let r = self.inner;
        if x < r.x || x >= r.x + r.width || y < r.y || y >= r.y + r.height {
            return None;
        }
        let i = self.offset + (y - r.y) as usize;
        // Header lines are not items.
        self.row_to_item(i)
    }

    fn rows(&self) -> Vec<Option<usize>> {
        let mut rows = Vec::new();
        let mut in_saved = false;
        rows.push(None);
        for (i, it) in self.items.iter().enumerate() {
            if matches!(it, PickItem::Saved { .. }) && !in_saved {
                in_saved = true;
                rows.push(None);
            }
            rows.push(Some(i));
        }
        rows
    }

    fn row_to_item(&self, row: usize) -> Option<usize> {
        self.rows().get(row).copied().flatten()
    }

    pub fn render(&mut self, frame: &mut Frame, screen: Rect, theme: &Theme) {
        let rows = self.rows();
        let area = centered(screen, 70, rows.len() as u16 + 2);
        let block = popup_block(" Open a scenario ", "Enter opens · Esc closes ", theme);
        let inner = block.inner(area);
        self.inner = inner;
        let h = inner.height as usize;
        let sel_row = rows
            .iter()
            .position(|r| *r == Some(self.selected))
            .unwrap_or(0);
        if sel_row < self.offset {
            self.offset = sel_row.saturating_sub(1);
        } else if sel_row >= self.offset + h {
            self.offset = sel_row + 1 - h;
        }
        let w = inner.width as usize;
        let lines: Vec<Line> = rows
            .iter()
            .enumerate()
            .skip(self.offset)
            .take(h)
            .map(|(n, r)| match r {
                None if n == 0 => Line::from(Span::styled("Built-in", theme.style(Meaning::Title))),
                None => Line::from(Span::styled("Saved by you", theme.style(Meaning::Title))),
                Some(i) => {
                    let it = &self.items[*i];
                    let about = match it {
                        PickItem::Builtin { about, .. } => about.clone(),
                        PickItem::Saved { path } => path.display().to_string(),
                    };
                    let name = format!("  {:<26} ", it.label());
                    let rest = fit(&about, w.saturating_sub(name.chars().count()));
                    let l = Line::from(vec![
                        Span::styled(name, theme.style(Meaning::Text)),
                        Span::styled(rest, theme.style(Meaning::Muted)),
                    ]);
                    if *i == self.selected {
                        l.patch_style(theme.style(Meaning::Selection))
                    } else {
                        l
                    }
                }
            })
            .collect();
        frame.render_widget(Clear, area);
        frame.render_widget(block, area);
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

/// A question with one-key answers.
#[derive(Debug, Clone)]
pub struct Confirm {
    pub title: String,
    pub body: String,
    pub choices: Vec<Choice>,
}

/// One answer a question offers, in its own words; its key is the action table's.
#[derive(Debug, Clone)]
pub struct Choice {
    pub answer: Answer,
    pub what: String,
}

impl Choice {
    pub fn new(answer: Answer, what: impl Into<String>) -> Choice {
        Choice {
            answer,
            what: what.into(),
        }
    }
}

impl Confirm {
    /// The offered answer a key gives, if any.
    pub fn answer(&self, k: &crossterm::event::KeyEvent) -> Option<Answer> {
        keymap::answer(k, self.choices.iter().map(|c| c.answer))
    }

    pub fn render(&self, frame: &mut Frame, screen: Rect, theme: &Theme) {
        let mut lines = vec![
            Line::from(Span::styled(self.body.clone(), theme.style(Meaning::Text))),
            Line::default(),
        ];
        for c in &self.choices {
            let k = c.answer.key().unwrap_or('?');
            lines.push(Line::from(vec![
                Span::styled(format!("  {k}  "), theme.style(Meaning::Key)),
                Span::styled(c.what.clone(), theme.style(Meaning::Text)),
            ]));
        }
        let back = keymap::hint(Action::Cancel).map_or_else(|| "Esc".into(), |(k, _)| k);
        lines.push(Line::from(vec![
            Span::styled(format!("  {back}  "), theme.style(Meaning::Key)),
            Span::styled("go back", theme.style(Meaning::Text)),
        ]));
        let width = 64.min(screen.width.saturating_sub(4));
        let body_rows = (self.body.chars().count() as u16 / width.saturating_sub(2).max(1)) + 1;
        let area = centered(screen, width, body_rows + self.choices.len() as u16 + 4);
        let block = popup_block(&format!(" {} ", self.title), "", theme);
        let inner = block.inner(area);
        frame.render_widget(Clear, area);
        frame.render_widget(block, area);
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    }
}

fn popup_block<'a>(title: &str, help: &str, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Thick)
        .border_style(theme.style(Meaning::Focus))
        .title(Line::from(vec![
            Span::styled(title.to_string(), theme.style(Meaning::Focus)),
            Span::styled(help.to_string(), theme.style(Meaning::Muted)),
        ]))
        .style(theme.style(Meaning::Overlay))
}

/// A `w`×`h` rectangle in the middle of `screen` (clamped to it).
pub fn centered(screen: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(screen.width.saturating_sub(2)).max(1);
    let h = h.min(screen.height.saturating_sub(2)).max(1);
    Rect {
        x: screen.x + (screen.width.saturating_sub(w)) / 2,
        y: screen.y + (screen.height.saturating_sub(h)) / 2,
        width: w,
        height: h,
    }
}
