//! The stats table: the rows of `retrylab lab` (`lab::best`), policies as columns under
//! their glyph, the best value of each row marked `*` in the best style (a mark, not only a
//! colour). When the rows do not all fit, the most telling ones stay, in their order.

use super::look;
use crate::lab::PolicyReport;
use crate::lab::best::{Row, marked_rows};
use crate::tui::panes::fit;
use crate::tui::theme::{Meaning, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

/// The rows kept first when the table must shrink, most telling first.
const PRIORITY: &[&str] = &[
    "success",
    "latency p50",
    "latency p99",
    "requests/call",
    "cost/call",
    "latency p95",
    "attempts/call",
    "herd (req/100 ms)",
    "waiting/call",
    "latency max",
    "latency p90",
    "peak req/s",
    "tokens/call",
    "calls",
];

/// The row indices that fit in `budget` rows: all of them, or the most telling in order.
fn kept(rows: &[Row], budget: usize) -> Vec<usize> {
    if rows.len() <= budget {
        return (0..rows.len()).collect();
    }
    let rank = |r: &Row| {
        PRIORITY
            .iter()
            .position(|p| *p == r.label)
            .unwrap_or(PRIORITY.len())
    };
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| (rank(&rows[i]), i));
    order.truncate(budget);
    order.sort_unstable();
    order
}

/// A cell without its parenthesis: `1.40 (max 3)` → `1.40`.
fn brief(text: &str) -> &str {
    text.split(" (").next().unwrap_or(text)
}

/// Rows the whole table wants: the header, each row, the note.
pub fn wanted_height(reports: &[PolicyReport]) -> u16 {
    (marked_rows(reports).len() + 2) as u16
}

pub fn render(frame: &mut Frame, area: Rect, reports: &[PolicyReport], theme: &Theme) {
    let marked = marked_rows(reports);
    let budget = usize::from(area.height.saturating_sub(2));
    let keep = kept(
        &marked.iter().map(|(r, _)| r.clone()).collect::<Vec<_>>(),
        budget,
    );
    let label_w = marked
        .iter()
        .map(|(r, _)| r.label.width())
        .max()
        .unwrap_or(0);
    // Equal columns in what the labels leave; cells drop their "(max 3)" / "(p95 …)" part
    // when the whole text would not fit.
    let n = reports.len().max(1);
    let widest = marked
        .iter()
        .flat_map(|(r, _)| r.cells.iter().map(|c| c.1.width()))
        .max()
        .unwrap_or(0);
    let widest_name = reports
        .iter()
        .map(|r| r.policy.width() + 2)
        .max()
        .unwrap_or(0);
    // A wide screen keeps the columns close (no wider than their content).
    let col_w = (usize::from(area.width).saturating_sub(label_w) / n)
        .saturating_sub(2)
        .min((widest + 2).max(widest_name));
    let short = widest + 2 > col_w;
    let muted = theme.style(Meaning::Muted);
    let mut lines = Vec::with_capacity(keep.len() + 2);
    let mut head = vec![Span::raw(" ".repeat(label_w))];
    for (i, r) in reports.iter().enumerate() {
        let lk = look(i);
        let name = fit(&format!("{} {}", lk.glyph, r.policy), col_w);
        head.push(Span::raw("  "));
        head.push(Span::styled(
            format!("{name:>col_w$}"),
            theme.style(lk.meaning).patch(theme.style(Meaning::Title)),
        ));
    }
    lines.push(Line::from(head));
    for &k in &keep {
        let (row, best) = &marked[k];
        let mut spans = vec![Span::styled(
            format!("{:label_w$}", row.label),
            theme.style(Meaning::Text),
        )];
        for (i, (_, text)) in row.cells.iter().enumerate() {
            let is_best = best.get(i).copied().unwrap_or(false);
            let text = if short { brief(text) } else { text.as_str() };
            let cell = format!("{text}{}", if is_best { " *" } else { "  " });
            let cell = fit(&cell, col_w);
            let style = if is_best {
                theme.style(Meaning::Best)
            } else {
                theme.style(Meaning::Text)
            };
            spans.push(Span::raw("  "));
            spans.push(Span::styled(format!("{cell:>col_w$}"), style));
        }
        lines.push(Line::from(spans));
    }
    let hidden = marked.len() - keep.len();
    let mut note = "* best of the row among the policies with the top success rate (within 2 s.e.)"
        .to_string();
    if hidden > 0 {
        note = format!("{hidden} rows hidden (a taller terminal shows them) · {note}");
    }
    lines.push(Line::from(Span::styled(note, muted)));
    frame.render_widget(Paragraph::new(lines), area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::best::Best;

    fn row(label: &str) -> Row {
        Row {
            label: label.into(),
            best: Best::None,
            cells: Vec::new(),
        }
    }

    #[test]
    fn a_short_table_keeps_the_telling_rows_in_order() {
        let rows: Vec<Row> = [
            "calls",
            "success",
            "latency p50",
            "latency p90",
            "tokens/call",
        ]
        .into_iter()
        .map(row)
        .collect();
        assert_eq!(kept(&rows, 10), vec![0, 1, 2, 3, 4]);
        assert_eq!(kept(&rows, 3), vec![1, 2, 3]);
        assert_eq!(brief("1.40 (max 3)"), "1.40");
        assert_eq!(brief("520 ms"), "520 ms");
    }
}
