//! An editor pane (Prompt, Policy or Faults) over ratatui-textarea, with the parse error of
//! its own lines shown in place: the line underlined, the message on the pane's last row.

use super::{Ctx, Pane, pane_block};
use crate::tui::keymap::Action;
use crate::tui::split::Part;
use crate::tui::theme::Meaning;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui_textarea::{CursorMove, Input, Scrolling, TextArea};

/// A parse error located in this editor's own lines (1-based; column 0 = unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditorError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

pub struct EditorPane {
    pub part: Part,
    ta: TextArea<'static>,
    pub error: Option<EditorError>,
    /// Where the text was drawn last (for clicks).
    text_rect: Rect,
}

impl EditorPane {
    pub fn new(part: Part, lines: Vec<String>) -> Self {
        let mut p = EditorPane {
            part,
            ta: TextArea::default(),
            error: None,
            text_rect: Rect::default(),
        };
        p.set_lines(lines);
        p
    }

    pub fn set_lines(&mut self, lines: Vec<String>) {
        let lines = if lines.is_empty() {
            vec![String::new()]
        } else {
            lines
        };
        self.ta = TextArea::new(lines);
        self.ta.set_max_histories(200);
        self.ta.set_placeholder_text(match self.part {
            Part::Prompt => "the [prompt] table: template, system, vars",
            Part::Policy => "name, [call], [retry], [fallback], [response], [[tools]]",
            Part::Faults => "the [sim] table: reply, faults = [...]",
        });
        self.error = None;
    }

    pub fn lines(&self) -> &[String] {
        self.ta.lines()
    }

    /// Lines as the scenario text sees them (an empty editor is no lines).
    pub fn content(&self) -> Vec<String> {
        let l = self.ta.lines();
        if l.len() == 1 && l[0].is_empty() {
            Vec::new()
        } else {
            l.to_vec()
        }
    }

    /// A key typed into the editor; true when the text changed.
    pub fn input(&mut self, key: KeyEvent) -> bool {
        self.ta.input(Input::from(key))
    }

    /// Bracketed paste: inserted as text, never as key presses.
    pub fn paste(&mut self, text: &str) -> bool {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        self.ta.insert_str(text)
    }

    pub fn undo(&mut self) -> bool {
        self.ta.undo()
    }

    pub fn redo(&mut self) -> bool {
        self.ta.redo()
    }

    /// Puts the cursor on a 1-based line and column (the place of an error).
    pub fn jump_to(&mut self, line: usize, column: usize) {
        let row = line.saturating_sub(1).min(u16::MAX as usize) as u16;
        let col = column.saturating_sub(1).min(u16::MAX as usize) as u16;
        self.ta.move_cursor(CursorMove::Jump(row, col));
    }

    pub fn cursor(&self) -> (usize, usize) {
        let c = self.ta.cursor();
        (c.0, c.1)
    }

    fn subtitle(&self) -> &'static str {
        match self.part {
            Part::Prompt => "[prompt]",
            Part::Policy => "call · retry · fallback",
            Part::Faults => "[sim] faults",
        }
    }
}

impl Pane for EditorPane {
    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let theme = ctx.theme;
        let name = match self.part {
            Part::Prompt => "Prompt",
            Part::Policy => "Policy",
            Part::Faults => "Faults",
        };
        let mut title = vec![
            Span::raw(format!(" {name} ")),
            Span::styled(format!("{} ", self.subtitle()), theme.style(Meaning::Muted)),
        ];
        if let Some(e) = &self.error {
            title.push(Span::styled(
                format!("✗ {}:{} ", e.line, e.column.max(1)),
                theme.style(Meaning::Error),
            ));
        }
        let block = pane_block(Line::from(title), ctx.focused, theme);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if inner.height == 0 || inner.width == 0 {
            return;
        }
        let mut text_rect = inner;
        if let Some(e) = &self.error
            && inner.height >= 3
        {
            text_rect.height -= 1;
            let msg = Rect {
                y: inner.y + inner.height - 1,
                height: 1,
                ..inner
            };
            frame.render_widget(
                Paragraph::new(Line::from(Span::styled(
                    super::fit(
                        &format!("✗ {}:{} {}", e.line, e.column.max(1), e.message),
                        msg.width as usize,
                    ),
                    theme.style(Meaning::Error),
                ))),
                msg,
            );
        }
        self.ta.set_style(theme.style(Meaning::Text));
        self.ta
            .set_line_number_style(theme.style(Meaning::LineNumber));
        self.ta
            .set_cursor_line_style(theme.style(Meaning::CursorLine));
        self.ta.set_placeholder_style(theme.style(Meaning::Muted));
        self.ta.set_cursor_style(if ctx.focused {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        });
        frame.render_widget(&self.ta, text_rect);
        self.text_rect = text_rect;
        // Mark the error's line where it is on screen.
        if let Some(e) = &self.error {
            let (top, _) = self.ta.scroll_offset();
            let row = e.line.saturating_sub(1);
            if row >= top as usize && row < top as usize + text_rect.height as usize {
                let y = text_rect.y + (row - top as usize) as u16;
                let buf = frame.buffer_mut();
                let style = theme.style(Meaning::ErrorLine);
                for x in text_rect.x..text_rect.x + text_rect.width {
                    if let Some(cell) = buf.cell_mut(Position { x, y }) {
                        cell.set_style(style);
                    }
                }
            }
        }
    }

    fn on_click(&mut self, x: u16, y: u16, _ctx: &Ctx) {
        let r = self.text_rect;
        if !r.contains(Position { x, y }) {
            return;
        }
        let (top, left) = self.ta.scroll_offset();
        let gutter = self.ta.line_number_width();
        let row = (y - r.y) as usize + top as usize;
        let col = ((x - r.x).saturating_sub(gutter)) as usize + left as usize;
        let at = self.ta.screen_to_data(row, col);
        self.ta.move_cursor(CursorMove::Jump(
            at.0.min(u16::MAX as usize) as u16,
            at.1.min(u16::MAX as usize) as u16,
        ));
    }

    fn on_scroll(&mut self, rows: i32, _ctx: &Ctx) {
        let rows = rows.clamp(i16::MIN as i32, i16::MAX as i32) as i16;
        self.ta.scroll(Scrolling::Delta { rows, cols: 0 });
    }

    fn hints(&self) -> &'static [Action] {
        &[Action::Undo]
    }
}
