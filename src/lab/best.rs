//! The comparison's rows and which value of each is best (shared by `retrylab lab`'s table
//! and the playground's Lab view): pure, from the reports alone. A best mark goes only to
//! the policies whose success rate is the top one, or short of it by sampling noise.

use super::PolicyReport;

/// Which value of a row is best.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Best {
    Lower,
    /// Higher, judged over every policy (the success rate, which picks the contenders).
    HigherOfAll,
    None,
}

/// One row of the table: a label, one (number, text) per policy.
#[derive(Debug, Clone)]
pub struct Row {
    pub label: String,
    pub best: Best,
    pub cells: Vec<(f64, String)>,
}

fn row(
    label: &str,
    best: Best,
    reports: &[PolicyReport],
    f: impl Fn(&PolicyReport) -> (f64, String),
) -> Row {
    Row {
        label: label.to_string(),
        best,
        cells: reports.iter().map(f).collect(),
    }
}

pub fn ms_text(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

fn ms_row(label: &str, reports: &[PolicyReport], f: impl Fn(&PolicyReport) -> f64) -> Row {
    row(label, Best::Lower, reports, |r| {
        let v = f(r);
        (v, ms_text(v))
    })
}

fn usd(v: f64) -> String {
    crate::cost::format_usd(v)
}

/// The rows of the comparison, in the order of DESIGN §12.
pub fn rows(reports: &[PolicyReport]) -> Vec<Row> {
    let mut rows = vec![
        row("calls", Best::None, reports, |r| {
            (r.calls as f64, r.calls.to_string())
        }),
        row("success", Best::HigherOfAll, reports, |r| {
            (r.success_rate, format!("{:.2} %", r.success_rate * 100.0))
        }),
    ];
    let mut kinds: Vec<&String> = reports.iter().flat_map(|r| r.outcomes.keys()).collect();
    kinds.sort();
    kinds.dedup();
    for k in kinds.into_iter().filter(|k| *k != "ok") {
        rows.push(row(&format!("  ended {k}"), Best::None, reports, |r| {
            let n = r.outcomes.get(k).copied().unwrap_or(0);
            (n as f64, n.to_string())
        }));
    }
    rows.extend([
        ms_row("latency p50", reports, |r| r.latency_ms.p50 as f64),
        ms_row("latency p90", reports, |r| r.latency_ms.p90 as f64),
        ms_row("latency p95", reports, |r| r.latency_ms.p95 as f64),
        ms_row("latency p99", reports, |r| r.latency_ms.p99 as f64),
        ms_row("latency max", reports, |r| r.latency_ms.max as f64),
        row("attempts/call", Best::Lower, reports, |r| {
            (
                r.attempts.mean,
                format!("{:.2} (max {})", r.attempts.mean, r.attempts.max),
            )
        }),
        row("requests/call", Best::Lower, reports, |r| {
            (
                r.requests.mean,
                format!("{:.2} (max {})", r.requests.mean, r.requests.max),
            )
        }),
        ms_row("waiting/call", reports, |r| r.wait_ms.mean),
        ms_row("waiting total", reports, |r| r.wait_ms.total as f64),
        row("tokens/call", Best::Lower, reports, |r| {
            (
                r.tokens.mean,
                format!("{:.0} (p95 {:.0})", r.tokens.mean, r.tokens.p95),
            )
        }),
        row("cost/call", Best::Lower, reports, |r| match &r.cost_usd {
            Some(c) => (c.mean, format!("{} (p95 {})", usd(c.mean), usd(c.p95))),
            None => (f64::NAN, "no price".into()),
        }),
    ]);
    let mut hops: Vec<&String> = reports
        .iter()
        .flat_map(|r| r.fallback_hops.keys())
        .collect();
    hops.sort();
    hops.dedup();
    for h in hops {
        rows.push(row(&format!("reached hop {h}"), Best::None, reports, |r| {
            let n = r.fallback_hops.get(h).copied().unwrap_or(0);
            (n as f64, format!("{n} ({:.1} %)", pct(n, r.calls)))
        }));
    }
    // What lasts across calls: only when some policy has it ("-" for one that has not).
    if reports.iter().any(|r| r.breaker_fast_failed.is_some()) {
        rows.push(row(
            "failed fast (breaker)",
            Best::None,
            reports,
            |r| match r.breaker_fast_failed {
                Some(n) => (n as f64, format!("{n} ({:.1} %)", pct(n, r.calls))),
                None => (f64::NAN, "-".into()),
            },
        ));
    }
    if reports.iter().any(|r| r.budget_denied.is_some()) {
        rows.push(row(
            "retries denied (budget)",
            Best::None,
            reports,
            |r| match r.budget_denied {
                Some(n) => (n as f64, n.to_string()),
                None => (f64::NAN, "-".into()),
            },
        ));
    }
    if reports.iter().any(|r| r.load.is_some()) {
        rows.push(row("herd (req/100 ms)", Best::Lower, reports, |r| {
            let n = r.load.as_ref().map_or(0, |l| l.herd_max_per_100ms);
            (f64::from(n), n.to_string())
        }));
        rows.push(row("peak req/s", Best::Lower, reports, |r| {
            let n = r
                .load
                .as_ref()
                .and_then(|l| l.requests_per_second.iter().max().copied())
                .unwrap_or(0);
            (f64::from(n), n.to_string())
        }));
    }
    rows
}

fn pct(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 * 100.0 / of as f64
    }
}

/// The policies that may be called best in a row: those whose success rate is the highest,
/// or short of it by no more than sampling noise (two standard errors of the difference). A
/// policy that fails more is not the fastest, nor the cheapest, in any useful sense.
pub fn contenders(reports: &[PolicyReport]) -> Vec<bool> {
    let Some(top) = reports
        .iter()
        .max_by(|a, b| a.success_rate.total_cmp(&b.success_rate))
    else {
        return Vec::new();
    };
    let var = |r: &PolicyReport| r.success_rate * (1.0 - r.success_rate) / (r.calls.max(1) as f64);
    reports
        .iter()
        .map(|r| {
            let noise = 2.0 * (var(top) + var(r)).sqrt();
            r.success_rate >= top.success_rate - noise - 1e-12
        })
        .collect()
}

/// The best cells of `r` among the `contenders`, when their values are not all equal.
pub fn best_cells(r: &Row, contenders: &[bool]) -> Vec<bool> {
    let everyone = vec![true; contenders.len()];
    let contenders = if r.best == Best::HigherOfAll {
        &everyone[..]
    } else {
        contenders
    };
    let vals: Vec<f64> = r
        .cells
        .iter()
        .zip(contenders)
        .filter(|(_, ok)| **ok)
        .map(|(c, _)| c.0)
        .filter(|v| v.is_finite())
        .collect();
    let pick = match r.best {
        Best::None => None,
        Best::HigherOfAll => vals.iter().copied().reduce(f64::max),
        Best::Lower => vals.iter().copied().reduce(f64::min),
    };
    let all_same = vals.windows(2).all(|w| (w[0] - w[1]).abs() < 1e-12);
    r.cells
        .iter()
        .zip(contenders)
        .map(|(c, ok)| match pick {
            Some(p) if *ok && !all_same && vals.len() > 1 => (c.0 - p).abs() < 1e-12,
            _ => false,
        })
        .collect()
}

/// Every row with its best cells marked: what a table of the comparison shows.
pub fn marked_rows(reports: &[PolicyReport]) -> Vec<(Row, Vec<bool>)> {
    let contenders = contenders(reports);
    rows(reports)
        .into_iter()
        .map(|r| {
            let best = best_cells(&r, &contenders);
            (r, best)
        })
        .collect()
}
