//! An editor pane (Prompt, Policy or Faults) over ratatui-textarea, with the parse error of
//! its own lines shown in place: the line underlined, the message on the pane's last row.
//! The line numbers are drawn here, in a gutter of their own: the widget's scroll sideways
//! with the text. Undo is [`undo`]'s (a run of typing is one step).

mod undo;

use super::{Ctx, Pane, pane_block};
use crate::tui::keymap::Action;
use crate::tui::split::Part;
use crate::tui::theme::Meaning;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui_textarea::{CursorMove, Input, Scrolling, TextArea};
use std::time::Instant;
use undo::{Kind, Snapshot, Undo};

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
    /// Where the text was drawn last, gutter included (for clicks), and the gutter's width.
    text_rect: Rect,
    gutter: u16,
    undo: Undo,
}

impl EditorPane {
    pub fn new(part: Part, lines: Vec<String>) -> Self {
        let mut p = EditorPane {
            part,
            ta: TextArea::default(),
            error: None,
            text_rect: Rect::default(),
            gutter: 0,
            undo: Undo::default(),
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
        // Undo is ours (grouped); the widget's per-key history would only cost memory.
        self.ta.set_max_histories(0);
        self.undo.clear();
        self.ta.set_placeholder_text(match self.part {
            Part::Prompt => "the [prompt] table: template, system, vars",
            Part::Policy => "name, [call], [retry], [fallback], [response], [[tools]]",
            Part::Faults => "the [sim] table: reply, faults = [...]",
        });
        self.error = None;
    }

    #[cfg(any(test, feature = "test-util"))]
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

    /// A key typed into the editor at `now`; true when the text changed.
    pub fn input(&mut self, key: KeyEvent, now: Instant) -> bool {
        let Some(kind) = edit_kind(&key) else {
            // A move (or nothing): never an edit, and the next edit is a new step.
            let changed = self.ta.input(Input::from(key));
            self.undo.close_step();
            return changed;
        };
        let before = self.undo.starts_step(kind, now).then(|| self.snapshot());
        let changed = self.ta.input(Input::from(key));
        if changed {
            self.undo.edited(kind, now, before);
        } else {
            self.undo.close_step();
        }
        changed
    }

    /// Bracketed paste: inserted as text, never as key presses (one undo step).
    pub fn paste(&mut self, text: &str) -> bool {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        self.edit(|ta| ta.insert_str(text))
    }

    /// Ctrl+U: deletes to the start of the line (or the selection), one undo step.
    pub fn kill_to_start(&mut self) -> bool {
        self.edit(TextArea::delete_line_by_head)
    }

    /// An edit that is a step of its own.
    fn edit(&mut self, f: impl FnOnce(&mut TextArea<'static>) -> bool) -> bool {
        let before = self.snapshot();
        let changed = f(&mut self.ta);
        if changed {
            self.undo.edited(Kind::Other, Instant::now(), Some(before));
        }
        changed
    }

    /// The selected text (then no longer selected), when there is a selection.
    pub fn copy_selection(&mut self) -> Option<String> {
        if !self.ta.is_selecting() {
            return None;
        }
        self.ta.copy();
        let text = self.ta.yank_text();
        (!text.is_empty()).then_some(text)
    }

    pub fn undo(&mut self) -> bool {
        let now = self.snapshot();
        match self.undo.undo(now) {
            Some(s) => self.restore(s),
            None => false,
        }
    }

    pub fn redo(&mut self) -> bool {
        let now = self.snapshot();
        match self.undo.redo(now) {
            Some(s) => self.restore(s),
            None => false,
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            lines: self.ta.lines().to_vec(),
            cursor: self.cursor(),
        }
    }

    /// Puts a snapshot's text back in the same widget (its scroll position stays).
    fn restore(&mut self, s: Snapshot) -> bool {
        self.ta.select_all();
        self.ta.insert_str(s.lines.join("\n"));
        let (row, col) = s.cursor;
        self.ta.move_cursor(CursorMove::Jump(
            row.min(u16::MAX as usize) as u16,
            col.min(u16::MAX as usize) as u16,
        ));
        true
    }

    /// Puts the cursor on a 1-based line and column (the place of an error).
    pub fn jump_to(&mut self, line: usize, column: usize) {
        let row = line.saturating_sub(1).min(u16::MAX as usize) as u16;
        let col = column.saturating_sub(1).min(u16::MAX as usize) as u16;
        // A cursor move ends the step of typing, as the arrows do.
        self.undo.close_step();
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
            .set_cursor_line_style(theme.style(Meaning::CursorLine));
        self.ta.set_placeholder_style(theme.style(Meaning::Muted));
        self.ta.set_cursor_style(if ctx.focused {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        });
        self.ta.remove_line_number();
        self.text_rect = text_rect;
        self.gutter = if self.ta.is_empty() {
            0
        } else {
            gutter_width(self.ta.lines().len()).min(text_rect.width / 2)
        };
        let ta_rect = Rect {
            x: text_rect.x + self.gutter,
            width: text_rect.width - self.gutter,
            ..text_rect
        };
        frame.render_widget(&self.ta, ta_rect);
        self.render_gutter(frame, text_rect, ctx);
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
        let gutter = self.gutter;
        let row = (y - r.y) as usize + top as usize;
        let col = ((x - r.x).saturating_sub(gutter)) as usize + left as usize;
        let at = self.ta.screen_to_data(row, col);
        self.undo.close_step();
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

impl EditorPane {
    /// The line numbers, right-aligned in the gutter, for the rows the widget shows.
    fn render_gutter(&self, frame: &mut Frame, text_rect: Rect, ctx: &Ctx) {
        if self.gutter == 0 {
            return;
        }
        let (top, _) = self.ta.scroll_offset();
        let style = ctx
            .theme
            .style(Meaning::Text)
            .patch(ctx.theme.style(Meaning::LineNumber));
        let digits = (self.gutter - 2) as usize;
        let lines: Vec<Line> = (0..text_rect.height as usize)
            .map(|i| top as usize + i)
            .take_while(|row| *row < self.ta.lines().len())
            .map(|row| Line::from(Span::styled(format!(" {:>digits$} ", row + 1), style)))
            .collect();
        let gutter = Rect {
            width: self.gutter,
            ..text_rect
        };
        frame.render_widget(Paragraph::new(lines), gutter);
    }
}

/// Columns of the gutter: the widest line number and a space each side.
fn gutter_width(lines: usize) -> u16 {
    lines.max(1).to_string().len() as u16 + 2
}

/// What a key does to the text, for grouping undo steps; `None` for a key that only moves.
fn edit_kind(k: &KeyEvent) -> Option<Kind> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    let alt = k.modifiers.contains(KeyModifiers::ALT);
    match k.code {
        KeyCode::Char(c) if !ctrl && !alt => Some(if c.is_whitespace() {
            Kind::Space
        } else {
            Kind::Word
        }),
        KeyCode::Backspace | KeyCode::Delete if !ctrl && !alt => Some(Kind::Delete),
        KeyCode::Char('h' | 'd') if ctrl && !alt => Some(Kind::Delete),
        KeyCode::Char(_) | KeyCode::Backspace | KeyCode::Delete | KeyCode::Enter | KeyCode::Tab => {
            Some(Kind::Other)
        }
        _ => None,
    }
}
