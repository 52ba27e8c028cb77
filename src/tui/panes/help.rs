//! The F1 help, generated from the action table (plus the editor widget's own keys and the
//! mouse), so it lists exactly the keys that work. `/` searches it: only the lines holding the
//! words typed stay (any case).

use super::scroll_by;
use crate::tui::keymap::{Action, BINDINGS, EDITOR_KEYS, MOUSE, Scope};
use crate::tui::theme::{Meaning, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

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
        // Wrapped here, a description under its own column (a hanging indent), so the rows
        // to scroll are exactly the lines drawn.
        let inner_w = usize::from(w.saturating_sub(2)).max(1);
        let lines = hang_wrap(lines, inner_w);
        let rows = lines.len();
        let h = screen
            .height
            .saturating_sub(2)
            .min(u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(2));
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
            Paragraph::new(lines).scroll((self.offset.min(u16::MAX as usize) as u16, 0)),
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

/// Lines no wider than `width`: a `[key, description]` row continues its description under
/// the description (the key column left blank); any other line wraps at the left edge.
/// Words are kept whole unless one alone is wider than the room.
fn hang_wrap(lines: Vec<Line<'static>>, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        if line.width() <= width {
            out.push(line);
            continue;
        }
        let keyed = line.spans.len() == 2 && line.spans[0].content.width() < width / 2;
        let (head, rest): (Option<Span<'static>>, Vec<Span<'static>>) = if keyed {
            let mut spans = line.spans.into_iter();
            (spans.next(), spans.collect())
        } else {
            (None, line.spans)
        };
        let indent = head.as_ref().map_or(0, |h| h.content.width());
        let style = rest.first().map(|s| s.style).unwrap_or_default();
        let text: String = rest.iter().map(|s| s.content.as_ref()).collect();
        for (i, chunk) in wrap_words(&text, width.saturating_sub(indent).max(1))
            .into_iter()
            .enumerate()
        {
            let lead = match (&head, i) {
                (Some(h), 0) => h.clone(),
                _ => Span::raw(" ".repeat(indent)),
            };
            out.push(Line::from(vec![lead, Span::styled(chunk, style)]));
        }
    }
    out
}

/// `text` in pieces of at most `width` columns, broken at spaces where it can be.
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        let sep = usize::from(!cur.is_empty());
        if cur.width() + sep + word.width() <= width {
            if sep == 1 {
                cur.push(' ');
            }
            cur.push_str(word);
            continue;
        }
        if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        // A word wider than the room is cut where it must be.
        for c in word.chars() {
            let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            // A lone character wider than the room goes on a line of its own.
            if !cur.is_empty() && cur.width() + cw > width {
                out.push(std::mem::take(&mut cur));
            }
            cur.push(c);
        }
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur);
    }
    out
}

/// `  key` padded to the key column by display width (some symbols are two columns wide).
fn pad(k: &str) -> String {
    let w = unicode_width::UnicodeWidthStr::width(k);
    format!("  {k}{} ", " ".repeat(20usize.saturating_sub(w)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn a_long_description_hangs_under_its_column() {
        let row = Line::from(vec![
            Span::raw(pad("Ctrl+S")),
            Span::raw("save (a built-in asks a name) into your scenarios folder"),
        ]);
        let got = texts(&hang_wrap(vec![row], 54));
        assert_eq!(
            got,
            [
                "  Ctrl+S               save (a built-in asks a name)",
                "                       into your scenarios folder"
            ]
        );
        assert!(got.iter().all(|l| l.width() <= 54));
    }

    #[test]
    fn words_break_at_spaces_and_a_long_one_where_it_must() {
        assert_eq!(wrap_words("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap_words("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap_words("", 4), [""]);
        // Width 1 and a two-column character: no empty line, the character alone.
        assert_eq!(wrap_words("⏳a", 1), ["⏳", "a"]);
        // A plain line (no key column) wraps at the left edge.
        let plain = Line::from("alpha beta gamma delta");
        assert_eq!(
            texts(&hang_wrap(vec![plain], 11)),
            ["alpha beta", "gamma delta"]
        );
    }
}
