//! Append-only text with a cached soft-wrap index, so a long streamed answer costs only its
//! visible slice per frame (STYLE pattern 10).
//!
//! Appends are O(appended text); a width change re-wraps once; [`OutputBuf::rows`] walks only
//! the rows it returns.

use unicode_width::UnicodeWidthChar;

#[derive(Debug, Clone, Default)]
pub struct OutputBuf {
    text: String,
    /// Byte offset where each logical line starts (the first is 0 once text exists).
    line_starts: Vec<usize>,
    /// Width the cache below was computed for (0 = not computed).
    wrap_width: u16,
    /// Visual rows per logical line at `wrap_width`.
    wrap_rows: Vec<u32>,
    /// Sum of `wrap_rows`.
    total_rows: usize,
    /// First logical line whose cached count may be stale (the last one grows on append).
    stale_from: usize,
}

impl OutputBuf {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn from_text(text: &str) -> Self {
        let mut b = Self::new();
        b.push(text);
        b
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Logical lines (a trailing newline does not open an empty last line).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    pub fn push(&mut self, chunk: &str) {
        if chunk.is_empty() {
            return;
        }
        // A stray carriage return would move the terminal cursor; keep only newlines.
        let chunk = if chunk.contains('\r') {
            std::borrow::Cow::Owned(chunk.replace("\r\n", "\n").replace('\r', "\n"))
        } else {
            std::borrow::Cow::Borrowed(chunk)
        };
        // The line that is last now may grow: its cached row count goes stale.
        self.stale_from = self
            .stale_from
            .min(self.line_starts.len().saturating_sub(1));
        if self.line_starts.is_empty() || self.text.ends_with('\n') {
            self.line_starts.push(self.text.len());
        }
        let base = self.text.len();
        self.text.push_str(&chunk);
        for (i, _) in chunk.match_indices('\n') {
            let next = base + i + 1;
            if next < self.text.len() {
                self.line_starts.push(next);
            }
        }
    }

    /// Replaces the whole text (a non-streamed answer arriving at once).
    pub fn set(&mut self, text: &str) {
        *self = Self::from_text(text);
    }

    fn line(&self, i: usize) -> &str {
        let start = self.line_starts[i];
        let end = self
            .line_starts
            .get(i + 1)
            .map_or(self.text.len(), |&n| n - 1);
        self.text[start..end].trim_end_matches('\n')
    }

    /// Brings the wrap cache up to date for `width`.
    pub fn ensure_wrapped(&mut self, width: u16) {
        let width = width.max(1);
        if width != self.wrap_width {
            self.wrap_width = width;
            self.wrap_rows.clear();
            self.total_rows = 0;
            self.stale_from = 0;
        }
        if self.stale_from < self.wrap_rows.len() {
            for r in self.wrap_rows.drain(self.stale_from..) {
                self.total_rows -= r as usize;
            }
        }
        for i in self.wrap_rows.len()..self.line_starts.len() {
            let n = wrap_line(self.line(i), width).len() as u32;
            self.wrap_rows.push(n);
            self.total_rows += n as usize;
        }
        self.stale_from = self.line_starts.len();
    }

    /// Visual rows at the last [`ensure_wrapped`](Self::ensure_wrapped) width.
    pub fn total_rows(&self) -> usize {
        self.total_rows
    }

    /// The visual rows `top..top+height` at `width` (call `ensure_wrapped(width)` first).
    pub fn rows(&self, top: usize, height: usize) -> Vec<&str> {
        let mut out = Vec::with_capacity(height);
        if height == 0 || self.wrap_width == 0 {
            return out;
        }
        // Find the logical line holding visual row `top`, walking from the nearer end.
        let (mut line, mut row_at) = if top > self.total_rows / 2 {
            let mut row = self.total_rows;
            let mut i = self.wrap_rows.len();
            while i > 0 && row > top {
                i -= 1;
                row -= self.wrap_rows[i] as usize;
            }
            (i, row)
        } else {
            let mut row = 0;
            let mut i = 0;
            while i < self.wrap_rows.len() && row + self.wrap_rows[i] as usize <= top {
                row += self.wrap_rows[i] as usize;
                i += 1;
            }
            (i, row)
        };
        while line < self.wrap_rows.len() && out.len() < height {
            let text = self.line(line);
            for (s, e) in wrap_line(text, self.wrap_width) {
                if row_at >= top && out.len() < height {
                    out.push(&text[s..e]);
                }
                row_at += 1;
            }
            line += 1;
        }
        out
    }
}

/// Splits one line into byte ranges no wider than `width` columns, breaking after spaces when
/// it can. An empty line is one empty row.
pub fn wrap_line(line: &str, width: u16) -> Vec<(usize, usize)> {
    let width = usize::from(width.max(1));
    let mut out = Vec::new();
    let mut start = 0;
    let mut cols = 0;
    let mut last_space: Option<usize> = None;
    for (i, c) in line.char_indices() {
        let w = c.width().unwrap_or(0);
        // A loop: after a cut at a space the rest of the word may still not fit.
        while cols + w > width && i > start {
            let cut = match last_space {
                Some(sp) if sp > start => sp,
                _ => i,
            };
            out.push((start, cut));
            start = cut;
            cols = line[start..i].chars().map(|c| c.width().unwrap_or(0)).sum();
            last_space = None;
        }
        cols += w;
        if c == ' ' {
            last_space = Some(i + 1);
        }
    }
    out.push((start, line.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_pushes() {
        let mut b = OutputBuf::new();
        b.push("hel");
        b.push("lo\nwor");
        b.push("ld\n");
        assert_eq!(b.line_count(), 2);
        b.ensure_wrapped(80);
        assert_eq!(b.rows(0, 10), vec!["hello", "world"]);
        b.push("next");
        b.ensure_wrapped(80);
        assert_eq!(b.rows(0, 10), vec!["hello", "world", "next"]);
    }

    #[test]
    fn wraps_at_spaces_and_hard_breaks_long_words() {
        assert_eq!(wrap_line("", 5), vec![(0, 0)]);
        let l = "aaa bbb ccc";
        let parts: Vec<&str> = wrap_line(l, 5).iter().map(|&(s, e)| &l[s..e]).collect();
        assert_eq!(parts, vec!["aaa ", "bbb ", "ccc"]);
        let l = "abcdefghij";
        let parts: Vec<&str> = wrap_line(l, 4).iter().map(|&(s, e)| &l[s..e]).collect();
        assert_eq!(parts, vec!["abcd", "efgh", "ij"]);
    }

    #[test]
    fn wide_chars_count_two_columns() {
        let l = "日本語です";
        let parts: Vec<&str> = wrap_line(l, 4).iter().map(|&(s, e)| &l[s..e]).collect();
        assert_eq!(parts, vec!["日本", "語で", "す"]);
    }

    #[test]
    fn cache_tracks_growth_and_width_changes() {
        let mut b = OutputBuf::new();
        for i in 0..1000 {
            b.push(&format!("line {i} with some words in it\n"));
        }
        b.ensure_wrapped(200);
        assert_eq!(b.total_rows(), 1000);
        b.ensure_wrapped(10);
        assert!(b.total_rows() > 2000);
        let tail = b.rows(b.total_rows() - 1, 5);
        assert_eq!(tail, vec!["it"]);
        b.push("x");
        b.ensure_wrapped(10);
        assert_eq!(b.rows(b.total_rows() - 1, 1), vec!["x"]);
        // Growing the last line updates its count.
        b.push(" and a much longer tail");
        b.ensure_wrapped(10);
        let all: usize = (0..b.line_count())
            .map(|i| wrap_line(b.line(i), 10).len())
            .sum();
        assert_eq!(b.total_rows(), all);
    }

    #[test]
    fn carriage_returns_become_newlines() {
        let b = OutputBuf::from_text("a\r\nb\rc");
        assert_eq!(b.as_str(), "a\nb\nc");
        assert_eq!(b.line_count(), 3);
    }
}
