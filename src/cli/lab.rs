//! `retrylab lab SCENARIO [SCENARIO...] [--calls N] [--seed S] [--faults FILE]
//! [--callers C] [--arrival burst|poisson:RPS] [--json]` (DESIGN §12): loads the policies
//! and the fault model, runs the lab with a progress bar on stderr, prints the comparison
//! table or `lab_policy` / `lab_finished` JSON lines.

use super::printer::Style;
use super::{EXIT_OK, EXIT_RUN_ERROR, EXIT_USAGE};
use crate::lab::{Arrival, Cap, LabError, LabPlan, LabReport, Policy, PolicyReport};
use crate::scenario::builtin::resolve;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, clap::Args)]
pub struct LabArgs {
    /// The policies to compare: scenario files or built-in names (each one policy).
    #[arg(required = true)]
    pub scenarios: Vec<String>,
    /// Calls per policy.
    #[arg(long, default_value_t = 1000)]
    pub calls: u64,
    /// The seed every call's draws derive from (the same draws for every policy).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// A file holding a [sim] table, or a preset (outage-30s, flaky-5pct, rate-limit-herd);
    /// default: the first scenario's [sim].
    #[arg(long)]
    pub faults: Option<String>,
    /// Run the calls as this many concurrent callers sharing one clock and one simulator.
    #[arg(long)]
    pub callers: Option<u32>,
    /// When callers start: burst (all at t = 0) or poisson:RPS.
    #[arg(long, default_value = "burst")]
    pub arrival: String,
    /// One `lab_policy` JSON object per policy, then `lab_finished`.
    #[arg(long)]
    pub json: bool,
}

pub fn execute(args: &LabArgs) -> ExitCode {
    let plan = match plan(args) {
        Ok(p) => p,
        Err(e) => return usage(&e),
    };
    // A runtime of one worker only listens for Ctrl+C; the lab runs on threads of its own.
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    else {
        eprintln!("error: could not start the async runtime");
        return ExitCode::from(EXIT_RUN_ERROR);
    };
    let bar = progress_bar(&plan, args.json);
    let cancel = CancellationToken::new();
    let on_ctrl_c = cancel.clone();
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });
    let tick = |p: crate::lab::Progress| {
        if let Some(b) = &bar {
            b.set_position(p.policy as u64 * p.of + p.done);
            b.set_message(plan.policies[p.policy].label.clone());
        }
    };
    let report = crate::lab::run_lab(&plan, &tick, &cancel);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut out = std::io::stdout().lock();
    let written = if args.json {
        write_json(&mut out, &plan, &report)
    } else {
        let text = table(&plan, &report, Style::detect());
        out.write_all(text.as_bytes())
    };
    // A closed pipe (`| head`) is no error of the lab's.
    let _ = written.and_then(|()| out.flush());
    if report.cancelled {
        ExitCode::from(EXIT_RUN_ERROR)
    } else {
        ExitCode::from(EXIT_OK)
    }
}

fn usage(e: &LabError) -> ExitCode {
    eprintln!("error: {}", e.message);
    eprintln!("hint: {}", e.hint);
    ExitCode::from(EXIT_USAGE)
}

/// The checked plan from the command line.
pub fn plan(args: &LabArgs) -> Result<LabPlan, LabError> {
    let mut policies = Vec::with_capacity(args.scenarios.len());
    for name in &args.scenarios {
        let r = resolve(name).map_err(|e| {
            let at = if e.line == 0 {
                e.origin.clone()
            } else {
                format!("{}:{}:{}", e.origin, e.line, e.column)
            };
            LabError::new(format!("{at}: {}", e.message), e.hint.clone())
        })?;
        policies.push(Policy {
            label: name.clone(),
            scenario: Arc::new(r.scenario),
        });
    }
    let (faults, faults_origin) = match &args.faults {
        Some(f) => crate::lab::faults::load(f)?,
        None => match policies.first() {
            Some(p) => (p.scenario.sim.clone(), format!("{}'s [sim]", p.label)),
            None => (Default::default(), String::new()),
        },
    };
    let arrival = Arrival::parse(&args.arrival).map_err(|e| {
        LabError::new(
            format!("--arrival {}: {e}", args.arrival),
            "e.g. --arrival burst or --arrival poisson:20",
        )
    })?;
    let config = Arc::new(crate::config::Config::load());
    let plan = LabPlan {
        policies,
        faults,
        faults_origin,
        calls: args.calls,
        seed: args.seed,
        callers: args.callers,
        arrival,
        cap: Cap::default(),
        config,
    };
    plan.check()?;
    Ok(plan)
}

/// A bar on stderr, only on a terminal and not under --json.
fn progress_bar(plan: &LabPlan, json: bool) -> Option<indicatif::ProgressBar> {
    if json || !std::io::stderr().is_terminal() {
        return None;
    }
    let total = plan.calls.saturating_mul(plan.policies.len() as u64);
    let bar = indicatif::ProgressBar::new(total);
    let style =
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} calls  {per_sec}  {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

fn write_json(out: &mut impl Write, plan: &LabPlan, report: &LabReport) -> std::io::Result<()> {
    for p in &report.policies {
        let line = serde_json::to_string(p).unwrap_or_default();
        writeln!(out, "{line}")?;
    }
    let finished = serde_json::json!({
        "event": "lab_finished",
        "policies": report.policies.len(),
        "calls_per_policy": plan.calls,
        "seed": plan.seed,
        "faults": plan.faults_origin,
        "callers": plan.callers,
        "arrival": plan.callers.map(|_| plan.arrival.label()),
        "cap": { "attempts": plan.cap.attempts, "run_time_ms": plan.cap.run_time_ms },
        "cancelled": report.cancelled,
        "wall_ms": report.wall.as_millis() as u64,
    });
    writeln!(out, "{finished}")
}

/// Which value of a row is best.
#[derive(Clone, Copy, PartialEq)]
enum Best {
    Lower,
    /// Higher, judged over every policy (the success rate, which picks the contenders).
    HigherOfAll,
    None,
}

/// One row of the table: a label, one (number, text) per policy.
struct Row {
    label: String,
    best: Best,
    cells: Vec<(f64, String)>,
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

fn ms_text(ms: f64) -> String {
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
fn rows(reports: &[PolicyReport]) -> Vec<Row> {
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
fn contenders(reports: &[PolicyReport]) -> Vec<bool> {
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
fn best_cells(r: &Row, contenders: &[bool]) -> Vec<bool> {
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

/// The comparison: policies as columns, the best value of each row marked `*` (and bold
/// green on a terminal).
pub fn table(plan: &LabPlan, report: &LabReport, style: Style) -> String {
    let reports = &report.policies;
    let rows = rows(reports);
    let contenders = contenders(reports);
    let label_w = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(0);
    let col_w: Vec<usize> = (0..reports.len())
        .map(|i| {
            rows.iter()
                .map(|r| r.cells[i].1.chars().count() + 2)
                .chain([reports[i].policy.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let mode = match plan.callers {
        None => "independent calls, each from t = 0".to_string(),
        Some(c) => format!(
            "{c} callers, {} arrival, one shared clock and simulator",
            plan.arrival.label()
        ),
    };
    out.push_str(&format!(
        "lab: {} calls per policy, seed {}, faults from {}, {mode}\n\n",
        plan.calls, plan.seed, plan.faults_origin
    ));
    out.push_str(&format!("{:label_w$}", ""));
    for (i, r) in reports.iter().enumerate() {
        out.push_str(&format!(
            "  {}",
            style.bold(&format!("{:>w$}", r.policy, w = col_w[i]))
        ));
    }
    out.push('\n');
    for r in &rows {
        out.push_str(&format!("{:label_w$}", r.label));
        for (i, ((_, text), best)) in r.cells.iter().zip(best_cells(r, &contenders)).enumerate() {
            let cell = format!("{text}{}", if best { " *" } else { "  " });
            let cell = format!("{cell:>w$}", w = col_w[i]);
            out.push_str("  ");
            out.push_str(&if best { style.ok(&cell) } else { cell });
        }
        out.push('\n');
    }
    out.push_str(&style.muted(&format!(
        "\n* best of the row among the policies with the highest success rate (or within two standard errors of it). Latency is on the run clock; a call is capped after {} attempts or {} of run time. {:.1} s wall.\n",
        plan.cap.attempts,
        crate::policy::Secs(plan.cap.run_time_ms as f64 / 1000.0).human(),
        report.wall.as_secs_f64()
    )));
    if report.cancelled {
        out.push_str("cancelled: the numbers cover the calls finished so far\n");
    }
    if reports
        .iter()
        .any(|r| r.outcomes.contains_key(crate::lab::tally::STUCK))
    {
        out.push_str(&format!(
            "warning: {} counts calls the lab could not finish (they waited on nothing its clock could move): a bug of retrylab's, not the policy's; please report it\n",
            crate::lab::tally::STUCK
        ));
    }
    out
}
