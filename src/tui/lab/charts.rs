//! The Lab view's plots, from the reports alone: the latency CDFs (a ratatui `Chart` on a
//! log₂ axis, one marker and style per policy), the grouped histogram of latency buckets
//! (`BarChart`) and, in load mode, requests per second (`Sparkline`) with the seconds that
//! saw 429s marked under it. The data shaping is pure and tested; the widgets only draw it.

use super::look;
use crate::lab::PolicyReport;
use crate::tui::theme::{Meaning, Theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Bar, BarChart, BarGroup, Block, Borders, Chart, Dataset, GraphType, Paragraph, Sparkline,
    SparklineBar,
};

/// Latency in ms as few columns as it can (axis and bucket labels): `750ms`, `4s`, `2m`.
pub fn short_ms(ms: f64) -> String {
    if ms < 999.5 {
        format!("{:.0}ms", ms.max(0.0))
    } else if ms < 120_000.0 {
        format!("{:.0}s", ms / 1000.0)
    } else {
        format!("{:.0}m", ms / 60_000.0)
    }
}

fn log_x(ms: f64) -> f64 {
    ms.max(1.0).log2()
}

/// The CDF of one policy as (log₂ ms, share of calls at or under it): the histogram's
/// buckets and the report's percentiles, in order, never going down.
pub fn cdf_points(r: &PolicyReport) -> Vec<(f64, f64)> {
    if r.calls == 0 {
        return Vec::new();
    }
    let calls = r.calls as f64;
    let mut pts = Vec::new();
    let mut seen = 0u64;
    if let Some((first, _)) = r.latency_ms.histogram.first() {
        pts.push((log_x(*first as f64 / 2.0), 0.0));
    }
    for (ub, n) in &r.latency_ms.histogram {
        seen += n;
        pts.push((log_x(*ub as f64), seen as f64 / calls));
    }
    let l = &r.latency_ms;
    for (ms, q) in [
        (l.p50, 0.5),
        (l.p90, 0.9),
        (l.p95, 0.95),
        (l.p99, 0.99),
        (l.max, 1.0),
    ] {
        pts.push((log_x(ms as f64), q));
    }
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut top: f64 = 0.0;
    for p in &mut pts {
        top = top.max(p.1);
        p.1 = top;
    }
    pts
}

/// The x range every CDF fits in (never empty).
fn x_bounds(all: &[Vec<(f64, f64)>]) -> [f64; 2] {
    let xs = all.iter().flatten().map(|p| p.0);
    let lo = xs.clone().fold(f64::INFINITY, f64::min);
    let hi = xs.fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        return [0.0, 1.0];
    }
    if hi - lo < 1.0 {
        [lo - 0.5, hi + 0.5]
    } else {
        [lo, hi]
    }
}

pub fn render_cdf(frame: &mut Frame, area: Rect, reports: &[PolicyReport], theme: &Theme) {
    let points: Vec<Vec<(f64, f64)>> = reports.iter().map(cdf_points).collect();
    let [lo, hi] = x_bounds(&points);
    // Drawn last to first, so the first policy (the edited one) is on top.
    let datasets: Vec<Dataset> = reports
        .iter()
        .zip(&points)
        .enumerate()
        .rev()
        .map(|(i, (r, pts))| {
            let lk = look(i);
            Dataset::default()
                .name(format!("{} {}", lk.glyph, r.policy))
                .marker(lk.marker)
                .graph_type(GraphType::Line)
                .style(theme.style(lk.meaning))
                .data(pts)
        })
        .collect();
    let muted = theme.style(Meaning::Muted);
    let x_labels = [lo, (lo + hi) / 2.0, hi].map(|x| Span::styled(short_ms(x.exp2()), muted));
    // The legend sits in the bottom border: always shown, never over a curve.
    let mut legend = Vec::new();
    for (i, r) in reports.iter().enumerate() {
        let lk = look(i);
        legend.push(Span::styled(
            format!(" {} {} ", lk.glyph, r.policy),
            theme.style(lk.meaning),
        ));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Meaning::Border))
        .title(Span::styled(
            "latency CDF (run clock, log scale)",
            theme.style(Meaning::Title),
        ))
        .title_bottom(Line::from(legend));
    let chart = Chart::new(datasets)
        .block(block)
        .style(theme.style(Meaning::Text))
        .x_axis(
            Axis::default()
                .bounds([lo, hi])
                .labels(x_labels)
                .style(muted),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, 1.0])
                .labels(["0", "50%", "100%"].map(|l| Span::styled(l, muted)))
                .style(muted),
        )
        .legend_position(None);
    frame.render_widget(chart, area);
}

/// The histogram's groups: each bucket's upper bound (ms) and every policy's calls in it,
/// merged pairwise until at most `max_groups` remain.
pub fn histogram_groups(reports: &[PolicyReport], max_groups: usize) -> Vec<(u64, Vec<u64>)> {
    let mut bounds: Vec<u64> = reports
        .iter()
        .flat_map(|r| r.latency_ms.histogram.iter().map(|b| b.0))
        .collect();
    bounds.sort_unstable();
    bounds.dedup();
    let mut groups: Vec<(u64, Vec<u64>)> = bounds
        .iter()
        .map(|ub| {
            let counts = reports
                .iter()
                .map(|r| {
                    r.latency_ms
                        .histogram
                        .iter()
                        .find(|b| b.0 == *ub)
                        .map_or(0, |b| b.1)
                })
                .collect();
            (*ub, counts)
        })
        .collect();
    while groups.len() > max_groups.max(1) {
        groups = groups
            .chunks(2)
            .map(|pair| {
                let ub = pair.iter().map(|g| g.0).max().unwrap_or(0);
                let mut counts = vec![0; reports.len()];
                for g in pair {
                    for (c, n) in counts.iter_mut().zip(&g.1) {
                        *c += n;
                    }
                }
                (ub, counts)
            })
            .collect();
    }
    groups
}

/// Bar width: two columns, so a bucket's label (`512ms`) fits under its group.
const BAR_W: u16 = 2;

pub fn render_histogram(frame: &mut Frame, area: Rect, reports: &[PolicyReport], theme: &Theme) {
    let n = reports.len().max(1) as u16;
    let group_w = n * BAR_W + 1;
    let max_groups = usize::from(area.width.saturating_sub(2) / group_w.max(1));
    let groups = histogram_groups(reports, max_groups);
    let bar_groups: Vec<BarGroup> = groups
        .iter()
        .map(|(ub, counts)| {
            let bars: Vec<Bar> = counts
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let calls = reports[i].calls.max(1);
                    // Per mille of the policy's calls, so policies of any N compare.
                    let share = c * 1000 / calls;
                    let lk = look(i);
                    Bar::default()
                        .value(share)
                        .text_value(String::new())
                        .label(Line::from(lk.glyph))
                        .style(theme.style(lk.meaning))
                })
                .collect();
            BarGroup::default()
                // The bound is the bucket's highest value (2^k − 1): say 2^k.
                .label(Line::from(short_ms((*ub + 1) as f64)))
                .bars(&bars)
        })
        .collect();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Meaning::Border))
        .title(Span::styled(
            "share of calls per latency bucket (≤ bound)",
            theme.style(Meaning::Title),
        ));
    let mut chart = BarChart::default()
        .block(block)
        .bar_width(BAR_W)
        .bar_gap(0)
        .group_gap(1)
        .label_style(theme.style(Meaning::Muted));
    for g in bar_groups {
        chart = chart.data(g);
    }
    frame.render_widget(chart, area);
}

/// `data` in at most `width` bins: each bin the mean of the seconds it covers (rounded up,
/// so a busy second never reads 0), with whether any of them saw a 429.
pub fn bins(data: &[u32], limited: &[u32], width: usize) -> Vec<(u64, bool)> {
    if data.is_empty() || width == 0 {
        return Vec::new();
    }
    let per = data.len().div_ceil(width);
    data.chunks(per)
        .enumerate()
        .map(|(i, chunk)| {
            let sum: u64 = chunk.iter().map(|v| u64::from(*v)).sum();
            let k = chunk.len() as u64;
            let from = i * per;
            let hit = limited
                .get(from..(from + chunk.len()).min(limited.len()))
                .is_some_and(|s| s.iter().any(|n| *n > 0));
            (sum.div_ceil(k), hit)
        })
        .collect()
}

/// Rows the load panel wants: a border, then two rows per policy (bars, 429 marks).
pub fn load_height(reports: &[PolicyReport]) -> u16 {
    2 + 2 * reports.iter().filter(|r| r.load.is_some()).count() as u16
}

/// Requests per second of each policy on the shared clock; under each, `!` where that
/// second saw 429s (the bar is in the error style too).
pub fn render_load(frame: &mut Frame, area: Rect, reports: &[PolicyReport], theme: &Theme) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Meaning::Border))
        .title(Span::styled(
            "requests per second (run clock) · ! = 429s that second",
            theme.style(Meaning::Title),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let loaded: Vec<(usize, &PolicyReport)> = reports
        .iter()
        .enumerate()
        .filter(|(_, r)| r.load.is_some())
        .collect();
    let rows = Layout::vertical(vec![Constraint::Length(2); loaded.len()]).split(inner);
    let err = theme.style(Meaning::Error);
    for ((i, r), row) in loaded.into_iter().zip(rows.iter()) {
        let Some(load) = &r.load else { continue };
        let lk = look(i);
        let peak = load.requests_per_second.iter().max().copied().unwrap_or(0);
        let label = format!("{} peak {peak:>4}/s ", lk.glyph);
        let label_w = (label.chars().count() as u16).min(row.width);
        let [head, body] =
            Layout::horizontal([Constraint::Length(label_w), Constraint::Fill(1)]).areas(*row);
        frame.render_widget(
            Paragraph::new(Span::styled(label, theme.style(lk.meaning))),
            head,
        );
        let binned = bins(
            &load.requests_per_second,
            &load.rate_limited_per_second,
            usize::from(body.width),
        );
        let style = theme.style(lk.meaning);
        let bars: Vec<SparklineBar> = binned
            .iter()
            .map(|(v, hit)| SparklineBar::from(*v).style(Some(if *hit { err } else { style })))
            .collect();
        let [spark, marks] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(body);
        frame.render_widget(Sparkline::default().data(bars).style(style), spark);
        let mark_line: String = binned
            .iter()
            .map(|(_, hit)| if *hit { '!' } else { ' ' })
            .collect();
        frame.render_widget(
            Paragraph::new(Span::styled(mark_line, err.add_modifier(Modifier::BOLD))),
            marks,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::stats::PolicyStats;
    use crate::lab::tally::{Ending, Tally};

    fn report(latencies: &[u64]) -> PolicyReport {
        let mut s = PolicyStats::new("p", false);
        for ms in latencies {
            s.add(&Tally {
                end_ms: *ms,
                attempts: 1,
                requests: 1,
                ending: Some(Ending::Ok),
                ..Tally::default()
            });
        }
        s.report()
    }

    #[test]
    fn the_cdf_climbs_to_one_and_never_goes_down() {
        let r = report(&[100, 200, 200, 4000]);
        let pts = cdf_points(&r);
        assert!(pts.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
        assert_eq!(pts.first().map(|p| p.1), Some(0.0));
        assert_eq!(pts.last().map(|p| p.1), Some(1.0));
        // Half the calls took 200 ms or less.
        let at_256 = pts
            .iter()
            .filter(|p| p.0 <= 256f64.log2())
            .map(|p| p.1)
            .fold(0.0, f64::max);
        assert!((0.5..=0.75).contains(&at_256), "{at_256}");
        assert!(cdf_points(&report(&[])).is_empty());
    }

    #[test]
    fn histogram_groups_merge_to_fit_and_keep_every_call() {
        let a = report(&[1, 3, 9, 30, 100, 300, 1000, 3000]);
        let b = report(&[5, 5, 5]);
        let all = histogram_groups(&[a.clone(), b.clone()], 100);
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
        let fit = histogram_groups(&[a, b], 3);
        assert!(fit.len() <= 3);
        let total_a: u64 = fit.iter().map(|g| g.1[0]).sum();
        let total_b: u64 = fit.iter().map(|g| g.1[1]).sum();
        assert_eq!((total_a, total_b), (8, 3));
    }

    #[test]
    fn bins_average_seconds_and_keep_the_429_marks() {
        let data = [10, 20, 30, 40, 1];
        let limited = [0, 0, 3, 0, 0];
        assert_eq!(
            bins(&data, &limited, 5),
            vec![
                (10, false),
                (20, false),
                (30, true),
                (40, false),
                (1, false)
            ]
        );
        assert_eq!(bins(&data, &limited, 2), vec![(20, true), (21, false)]);
        assert!(bins(&[], &[], 10).is_empty());
        assert_eq!(short_ms(512.0), "512ms");
        assert_eq!(short_ms(1500.0), "2s");
        assert_eq!(short_ms(4096.0), "4s");
        assert_eq!(short_ms(16384.0), "16s");
    }
}
