//! `retrylab lab SCENARIO [SCENARIO...] [--calls N] [--seed S] [--faults FILE]
//! [--callers C] [--arrival burst|poisson:RPS] [--json]` (DESIGN §12): loads the policies
//! and the fault model, runs the lab with a progress bar on stderr, prints the comparison
//! table or `lab_policy` / `lab_finished` JSON lines.

use super::printer::Style;
use super::{EXIT_OK, EXIT_RUN_ERROR, EXIT_USAGE};
use crate::lab::best::{best_cells, contenders, rows};
use crate::lab::{Arrival, Cap, LabError, LabPlan, LabReport, Policy};
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
