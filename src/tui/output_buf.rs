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
    /// Width the rows below were computed for (0 = not computed).
    wrap_width: u16,
    /// Byte offset where each visual row starts, at `wrap_width`.
    row_starts: Vec<usize>,
    /// Index of each wrapped logical line's first row.
    line_first_row: Vec<usize>,
    /// First logical line whose rows may be stale (only the last line grows).
    stale_from: usize,
    /// The last chunk ended in CR (kept as a newline): a LF opening the next one is its pair.
    ends_in_cr: bool,
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

    #[cfg(any(test, feature = "test-util"))]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Bytes of text held.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    #[cfg(any(test, feature = "test-util"))]
    /// Logical lines (a trailing newline does not open an empty last line).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    pub fn push(&mut self, chunk: &str) {
        if chunk.is_empty() {
            return;
        }
        // A CRLF split across two deltas is one line break.
        let chunk = match chunk.strip_prefix('\n') {
            Some(rest) if self.ends_in_cr => rest,
            _ => chunk,
        };
        self.ends_in_cr = chunk.ends_with('\r');
        if chunk.is_empty() {
            return;
        }
        // A stray carriage return would move the terminal cursor; keep only newlines.
        let chunk = if chunk.contains('\r') {
            std::borrow::Cow::Owned(chunk.replace("\r\n", "\n").replace('\r', "\n"))
        } else {
            std::borrow::Cow::Borrowed(chunk)
        };
        // The line that is last now may grow: its rows go stale.
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

    /// Byte range of logical line `i`, without its newline.
    fn line_range(&self, i: usize) -> (usize, usize) {
        let start = self.line_starts[i];
        let end = self
            .line_starts
            .get(i + 1)
            .map_or(self.text.len(), |&n| n - 1);
        let end = if self.text[start..end].ends_with('\n') {
            end - 1
        } else {
            end
        };
        (start, end)
    }

    /// Brings the rows up to date for `width`: a width change re-wraps everything once;
    /// otherwise only the last visual row of the growing line and the new lines are wrapped.
    pub fn ensure_wrapped(&mut self, width: u16) {
        let width = width.max(1);
        if width != self.wrap_width {
            self.wrap_width = width;
            self.row_starts.clear();
            self.line_first_row.clear();
            self.stale_from = 0;
        }
        let k = self.stale_from.min(self.line_first_row.len());
        if k < self.line_first_row.len() {
            // Line k is the last wrapped line: resume at the start of its last row (greedy
            // wrapping never changes rows that are already complete).
            self.line_first_row.truncate(k + 1);
            let resume = self.row_starts.pop().unwrap_or(self.line_starts[k]);
            let (_, end) = self.line_range(k);
            let rows = wrap_line(&self.text[resume..end], width);
            self.row_starts
                .extend(rows.iter().map(|&(s, _)| resume + s));
        }
        for i in self.line_first_row.len()..self.line_starts.len() {
            self.line_first_row.push(self.row_starts.len());
            let (start, end) = self.line_range(i);
            let rows = wrap_line(&self.text[start..end], width);
            self.row_starts.extend(rows.iter().map(|&(s, _)| start + s));
        }
        self.stale_from = self.line_starts.len();
    }

    /// Visual rows at the last [`ensure_wrapped`](Self::ensure_wrapped) width.
    pub fn total_rows(&self) -> usize {
        self.row_starts.len()
    }

    /// The visual rows `top..top+height` (call `ensure_wrapped(width)` first).
    #[cfg(any(test, feature = "test-util"))]
    pub fn rows(&self, top: usize, height: usize) -> Vec<&str> {
        self.rows_at(top, height)
            .into_iter()
            .map(|(_, row)| row)
            .collect()
    }

    /// [`rows`](Self::rows), each with the byte offset it starts at in the text (to style
    /// a part of the text, say the replayed start of a continued answer).
    pub fn rows_at(&self, top: usize, height: usize) -> Vec<(usize, &str)> {
        let end = (top.saturating_add(height)).min(self.row_starts.len());
        (top.min(end)..end)
            .map(|r| {
                let s = self.row_starts[r];
                let e = self
                    .row_starts
                    .get(r + 1)
                    .copied()
                    .unwrap_or(self.text.len());
                (s, self.text[s..e].trim_end_matches('\n'))
            })
            .collect()
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
        let all: usize = b.as_str().lines().map(|l| wrap_line(l, 10).len()).sum();
        assert_eq!(b.total_rows(), all);
    }

    #[test]
    fn a_growing_long_line_wraps_incrementally_like_a_fresh_wrap() {
        let mut grown = OutputBuf::new();
        let words = "lorem ipsum dolor sit amet consectetur adipiscing elit ";
        for i in 0..300 {
            grown.push(&words[..(i % words.len()) + 1]);
            grown.ensure_wrapped(17);
        }
        grown.push("\n\ntail");
        grown.ensure_wrapped(17);
        let mut fresh = OutputBuf::from_text(grown.as_str());
        fresh.ensure_wrapped(17);
        assert_eq!(grown.total_rows(), fresh.total_rows());
        assert_eq!(grown.rows(0, usize::MAX), fresh.rows(0, usize::MAX));
        assert_eq!(fresh.rows(fresh.total_rows() - 2, 5), vec!["", "tail"]);
    }

    #[test]
    fn a_crlf_split_across_deltas_is_one_newline() {
        let mut b = OutputBuf::new();
        for piece in [
            "one\r", "\ntwo\r", "\r\n", "three\r", "", "\n", "\n", "four",
        ] {
            b.push(piece);
        }
        assert_eq!(b.as_str(), "one\ntwo\n\nthree\n\nfour");
        assert_eq!(b.line_count(), 6);
    }

    #[test]
    fn carriage_returns_become_newlines() {
        let b = OutputBuf::from_text("a\r\nb\rc");
        assert_eq!(b.as_str(), "a\nb\nc");
        assert_eq!(b.line_count(), 3);
    }
}
