//! Pop-ups over the panes: questions with one-key answers (quit with unsaved edits, open over
//! unsaved edits, restore a draft found after a crash), and the frame every pop-up shares. The
//! Ctrl+O picker is in [`super::picker`].

pub use super::picker::{PickItem, Picker};
use crate::tui::keymap::{self, Action, Answer};
use crate::tui::theme::{Meaning, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

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

/// A one-line text prompt (Save As): the value typed, what was wrong with the last Enter.
#[derive(Debug, Clone)]
pub struct NamePrompt {
    pub title: String,
    pub body: String,
    pub value: String,
    pub error: Option<String>,
}

impl NamePrompt {
    /// A key typed into the value; false when the key is not text editing.
    pub fn edit(&mut self, k: &crossterm::event::KeyEvent) -> bool {
        use crossterm::event::{KeyCode, KeyModifiers};
        match k.code {
            KeyCode::Char(c)
                if !k
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                self.value.push(c)
            }
            KeyCode::Backspace => {
                self.value.pop();
            }
            _ => return false,
        }
        self.error = None;
        true
    }

    pub fn render(&self, frame: &mut Frame, screen: Rect, theme: &Theme) {
        let mut lines = vec![
            Line::from(Span::styled(self.body.clone(), theme.style(Meaning::Text))),
            Line::default(),
            Line::from(vec![
                Span::styled("  name: ", theme.style(Meaning::Muted)),
                Span::styled(format!("{}▏", self.value), theme.style(Meaning::Key)),
            ]),
        ];
        if let Some(e) = &self.error {
            lines.push(Line::from(Span::styled(
                format!("  {e}"),
                theme.style(Meaning::Error),
            )));
        }
        let width = 70.min(screen.width.saturating_sub(4));
        let body_rows = (self.body.chars().count() as u16 / width.saturating_sub(2).max(1)) + 1;
        let area = centered(screen, width, body_rows + 6);
        let block = popup_block(
            &format!(" {} ", self.title),
            "Enter saves · Esc cancels ",
            theme,
        );
        let inner = block.inner(area);
        frame.render_widget(Clear, area);
        frame.render_widget(block, area);
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    }
}

pub fn popup_block<'a>(title: &str, help: &str, theme: &Theme) -> Block<'a> {
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
