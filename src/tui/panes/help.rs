//! The F1 help, generated from the action table (plus the editor widget's own keys and the
//! mouse), so it lists exactly the keys that work. `/` searches it: only the lines holding the
//! words typed stay (any case).

use super::scroll_by;
use crate::tui::keymap::{Action, BINDINGS, EDITOR_KEYS, MOUSE, Scope};
use crate::tui::theme::{Meaning, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

#[derive(Debug, Default)]
pub struct HelpOverlay {
    offset: usize,
    lines: usize,
    height: usize,
    /// The search, when `/` was pressed; `typing` while keys go into it.
    query: Option<String>,
    typing: bool,
}

impl HelpOverlay {
    /// True while keys type into the search.
    pub fn typing(&self) -> bool {
        self.typing
    }

    /// True while a search narrows the help.
    pub fn searching(&self) -> bool {
        self.query.is_some()
    }

    /// `/`: start (or go back to) typing a search.
    pub fn start_search(&mut self) {
        self.query.get_or_insert_with(String::new);
        self.typing = true;
    }

    /// A key while typing: text, Backspace, Enter (stop typing, keep the search).
    pub fn search_key(&mut self, k: &crossterm::event::KeyEvent) {
        use crossterm::event::{KeyCode, KeyModifiers};
        let q = self.query.get_or_insert_with(String::new);
        match k.code {
            KeyCode::Char(c)
                if !k
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                q.push(c)
            }
            KeyCode::Backspace => {
                q.pop();
            }
            KeyCode::Enter => self.typing = false,
            _ => {}
        }
        self.offset = 0;
    }

    /// Esc while searching: the whole help again.
    pub fn clear_search(&mut self) {
        self.typing = false;
        self.offset = 0;
        self.query = None;
    }

    pub fn on_action(&mut self, a: Action) {
        let max = self.lines.saturating_sub(self.height);
        let page = self.height.max(1) as i32;
        self.offset = match a {
            Action::Up => scroll_by(self.offset, -1, max),
            Action::Down => scroll_by(self.offset, 1, max),
            Action::PageUp => scroll_by(self.offset, -page, max),
            Action::PageDown => scroll_by(self.offset, page, max),
            Action::Top => 0,
            Action::Bottom => max,
            _ => self.offset,
        };
    }

    pub fn on_scroll(&mut self, rows: i32) {
        self.offset = scroll_by(self.offset, rows, self.lines.saturating_sub(self.height));
    }

    /// `files`: `(what, where)` rows for the "Your files" section.
    pub fn render(
        &mut self,
        frame: &mut Frame,
        screen: Rect,
        theme: &Theme,
        files: &[(&str, String)],
    ) {
        let mut lines = help_lines(theme);
        if !files.is_empty() {
            lines.push(Line::default());
            lines.push(Line::from(Span::styled(
                "Your files",
                theme.style(Meaning::Title),
            )));
            for (what, place) in files {
                lines.push(Line::from(vec![
                    Span::styled(pad(what), theme.style(Meaning::Key)),
                    Span::styled(place.clone(), theme.style(Meaning::Text)),
                ]));
            }
        }
        if let Some(q) = &self.query {
            lines = search(lines, q, self.typing, theme);
        }
        let w = screen.width.saturating_sub(4).min(96);
        // Rows after wrapping at the popup's inner width.
        let inner_w = usize::from(w.saturating_sub(2)).max(1);
        let rows: usize = lines
            .iter()
            .map(|l| l.width().max(1).div_ceil(inner_w))
            .sum();
        let h = screen.height.saturating_sub(2).min(rows as u16 + 2);
        let area = Rect {
            x: screen.x + (screen.width - w) / 2,
            y: screen.y + (screen.height - h) / 2,
            width: w,
            height: h,
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_type(BorderType::Thick)
            .border_style(theme.style(Meaning::Focus))
            .title(Line::from(vec![
                Span::styled(" Help ", theme.style(Meaning::Focus)),
                Span::styled(
                    "F1, q or Esc closes · / searches · ↑↓ scroll ",
                    theme.style(Meaning::Muted),
                ),
            ]))
            .style(theme.style(Meaning::Overlay));
        let inner = block.inner(area);
        self.lines = rows;
        self.height = inner.height as usize;
        self.offset = self.offset.min(self.lines.saturating_sub(self.height));
        frame.render_widget(Clear, area);
        frame.render_widget(block, area);
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((self.offset.min(u16::MAX as usize) as u16, 0)),
            inner,
        );
    }
}

/// The lines holding every word of `query` (any case), under a line showing the search.
fn search(
    lines: Vec<Line<'static>>,
    query: &str,
    typing: bool,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let text = |l: &Line| {
        l.spans
            .iter()
            .map(|s| s.content.as_ref())
            .collect::<String>()
    };
    let found: Vec<Line<'static>> = lines
        .into_iter()
        .filter(|l| {
            let t = text(l).to_lowercase();
            !t.trim().is_empty() && words.iter().all(|w| t.contains(w.as_str()))
        })
        .collect();
    let cursor = if typing { "▏" } else { "" };
    let what = match found.len() {
        0 => "nothing found".to_string(),
        1 => "1 line".to_string(),
        n => format!("{n} lines"),
    };
    let mut out = vec![
        Line::from(vec![
            Span::styled("search: ", theme.style(Meaning::Muted)),
            Span::styled(format!("{query}{cursor}"), theme.style(Meaning::Key)),
            Span::styled(
                format!("  {what} · Esc clears"),
                theme.style(Meaning::Muted),
            ),
        ]),
        Line::default(),
    ];
    out.extend(found);
    out
}

/// Every line of the help.
pub fn help_lines(theme: &Theme) -> Vec<Line<'static>> {
    let title = theme.style(Meaning::Title);
    let key = theme.style(Meaning::Key);
    let text = theme.style(Meaning::Text);
    let muted = theme.style(Meaning::Muted);
    let row =
        |k: String, d: String| Line::from(vec![Span::styled(pad(&k), key), Span::styled(d, text)]);
    let mut out = vec![Line::from(Span::styled(
        "Edit the prompt, the policy and the faults on the left; F5 runs the call; the right \
         side shows every attempt, wait, reinserted error and fallback as it happens.",
        muted,
    ))];
    for scope in [Scope::Global, Scope::Editor, Scope::View] {
        out.push(Line::default());
        out.push(Line::from(Span::styled(scope.title(), title)));
        for b in BINDINGS.iter().filter(|b| b.scope == scope) {
            out.push(row(b.keys_label(), b.desc.to_string()));
        }
        if scope == Scope::Editor {
            for (k, d) in EDITOR_KEYS {
                out.push(row(k.to_string(), d.to_string()));
            }
        }
    }
    out.push(Line::default());
    out.push(Line::from(Span::styled("Mouse", title)));
    for (k, d) in MOUSE {
        out.push(row(k.to_string(), d.to_string()));
    }
    out.push(Line::default());
    out.push(Line::from(Span::styled("The timeline", title)));
    for (sym, meaning, d) in [
        (
            "✓ ✗ ⠋",
            Meaning::Attempt,
            "an attempt: succeeded, failed, running",
        ),
        (
            "⏳ ▕███░░▏",
            Meaning::Wait,
            "a back-off wait draining; its label says where it came from",
        ),
        (
            "↻",
            Meaning::Reinserted,
            "an error's text reinserted into the next attempt's prompt",
        ),
        ("⊘", Meaning::Error, "a hop's retries ran out (retry_error)"),
        (
            "⤷",
            Meaning::Fallback,
            "a fallback to the next provider, naming the caught error",
        ),
        ("■", Meaning::Success, "the outcome of the run"),
    ] {
        out.push(Line::from(vec![
            Span::styled(pad(sym), theme.style(meaning)),
            Span::styled(d.to_string(), text),
        ]));
    }
    out
}

/// `  key` padded to the key column by display width (some symbols are two columns wide).
fn pad(k: &str) -> String {
    let w = unicode_width::UnicodeWidthStr::width(k);
    format!("  {k}{} ", " ".repeat(20usize.saturating_sub(w)))
}
