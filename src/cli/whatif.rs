//! `retrylab whatif TRACE --policy SCENARIO [--map index|time] [--json] [--write-scenario
//! OUT]` (DESIGN §13): a recorded run's outcomes replayed under another policy, recorded and
//! new side by side as a table or JSON lines (`whatif_side` twice, then `whatif_finished`).

use super::printer::Style;
use super::{EXIT_OK, EXIT_RUN_ERROR, usage_error};
use crate::policy::Secs;
use crate::scenario::builtin::resolve;
use crate::whatif::{MapMode, Policy, Side, WhatifReport};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Clone, clap::Args)]
pub struct WhatifArgs {
    /// The recorded run: a trace file, a name from `retrylab traces` (or a unique prefix),
    /// a scenario's name (its newest run), or `last`.
    pub trace: String,
    /// The policy to replay it under: a scenario file or a built-in name.
    #[arg(long)]
    pub policy: String,
    /// index: the k-th request to a provider+model gets the k-th recorded outcome; time: a
    /// recorded failure holds until the next recorded request, so a longer wait escapes it.
    #[arg(long, default_value = "index")]
    pub map: String,
    /// `whatif_side` JSON lines (recorded, then new), then `whatif_finished`.
    #[arg(long)]
    pub json: bool,
    /// Save the fault script (the new policy with the recorded [sim]) as a scenario file.
    #[arg(long, value_name = "OUT")]
    pub write_scenario: Option<std::path::PathBuf>,
}

pub fn execute(args: &WhatifArgs) -> ExitCode {
    let Some(map) = MapMode::parse(&args.map) else {
        return usage_error(&format!("--map {}: expected index or time", args.map));
    };
    let (trace_arg, last) = match args.trace.as_str() {
        "last" | "--last" => (None, true),
        t => (Some(t), false),
    };
    let path = match super::traces::locate_in_data_dir(trace_arg, last) {
        Ok(p) => p,
        Err(e) => return usage_error(&e),
    };
    let rec = match crate::whatif::read(&path) {
        Ok(r) => r,
        Err(e) => return usage_error(&e.to_string()),
    };
    let resolved = match resolve(&args.policy) {
        Ok(r) => r,
        Err(e) => return usage_error(&format!("--policy: {e}")),
    };
    let policy = Policy {
        label: args.policy.clone(),
        scenario: resolved.scenario,
        source: resolved.source,
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        eprintln!("error: could not start the async runtime");
        return ExitCode::from(EXIT_RUN_ERROR);
    };
    let config = Arc::new(crate::config::Config::load());
    let report = match runtime.block_on(crate::whatif::whatif(&rec, map, &policy, config)) {
        Ok(r) => r,
        Err(e) => return usage_error(&e.to_string()),
    };
    if let Some(out) = &args.write_scenario
        && let Err(e) = std::fs::write(out, &report.scenario_toml)
    {
        return usage_error(&format!(
            "--write-scenario {}: {e}; give a writable path",
            out.display()
        ));
    }
    let trace_label = path.display().to_string();
    let mut out = std::io::stdout().lock();
    let written = if args.json {
        write_json(&mut out, &trace_label, args, &report)
    } else {
        let mut text = table(
            &trace_label,
            &rec.scenario,
            &args.policy,
            &report,
            Style::detect(),
        );
        if let Some(o) = &args.write_scenario {
            text.push_str(&format!(
                "fault script written to {} (`retrylab check {0}` shows it)\n",
                o.display()
            ));
        }
        out.write_all(text.as_bytes())
    };
    // A closed pipe (`| head`) is no error of the what-if's.
    let _ = written.and_then(|()| out.flush());
    ExitCode::from(EXIT_OK)
}

fn side_json(side: &Side, which: &str, label: &str) -> serde_json::Value {
    let mut v = serde_json::to_value(side).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("event".into(), "whatif_side".into());
        o.insert("side".into(), which.into());
        o.insert("label".into(), label.into());
    }
    v
}

fn write_json(
    out: &mut impl Write,
    trace: &str,
    args: &WhatifArgs,
    r: &WhatifReport,
) -> std::io::Result<()> {
    // The object's own keys first: `event`, `side`, `label`, then the numbers.
    for (side, which, label) in [
        (&r.recorded, "recorded", trace),
        (&r.new, "new", args.policy.as_str()),
    ] {
        writeln!(out, "{}", side_json(side, which, label))?;
    }
    let cost = match (r.recorded.cost_usd, r.new.cost_usd) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let finished = serde_json::json!({
        "event": "whatif_finished",
        "trace": trace,
        "policy": args.policy,
        "map": r.map.as_str(),
        "same_outcome": r.recorded.outcome == r.new.outcome,
        "difference": {
            "attempts": i64::from(r.new.attempts) - i64::from(r.recorded.attempts),
            "requests": i64::from(r.new.requests) - i64::from(r.recorded.requests),
            "wait_ms": r.new.wait_ms as i64 - r.recorded.wait_ms as i64,
            "total_ms": r.new.total_ms as i64 - r.recorded.total_ms as i64,
            "cost_usd": cost,
        },
        "notes": r.notes,
        "scenario_written": args.write_scenario.as_ref().map(|p| p.display().to_string()),
    });
    writeln!(out, "{finished}")
}

fn secs(ms: u64) -> String {
    Secs::from_ms(ms).human()
}

fn usd(c: Option<f64>) -> String {
    c.map_or_else(|| "-".into(), crate::cost::format_usd)
}

/// The most attempts listed side by side.
const ATTEMPT_ROWS: usize = 20;

/// Recorded and new in two aligned columns, then each side's attempts next to each other.
pub fn table(
    trace: &str,
    recorded_scenario: &str,
    policy: &str,
    r: &WhatifReport,
    style: Style,
) -> String {
    let (a, b) = (&r.recorded, &r.new);
    let rows: Vec<(&str, String, String)> = vec![
        ("attempts", a.attempts.to_string(), b.attempts.to_string()),
        ("requests", a.requests.to_string(), b.requests.to_string()),
        ("waiting", secs(a.wait_ms), secs(b.wait_ms)),
        ("total time", secs(a.total_ms), secs(b.total_ms)),
        ("cost", usd(a.cost_usd), usd(b.cost_usd)),
        ("outcome", a.outcome.clone(), b.outcome.clone()),
    ];
    let label_w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let w = |head: &str, col: &dyn Fn(&(&str, String, String)) -> usize| {
        rows.iter()
            .map(col)
            .chain([head.chars().count()])
            .max()
            .unwrap_or(0)
    };
    let wa = w("recorded", &|r| r.1.chars().count());
    let wb = w("new", &|r| r.2.chars().count());
    let mut out = format!(
        "what-if: {trace} ({recorded_scenario}) under {policy}, --map {}\n\n",
        r.map.as_str()
    );
    out.push_str(&format!(
        "{:label_w$}  {}  {}\n",
        "",
        style.bold(&format!("{:>wa$}", "recorded")),
        style.bold(&format!("{:>wb$}", "new"))
    ));
    for (label, x, y) in &rows {
        let y_cell = format!("{y:>wb$}");
        let y_cell = if x == y { y_cell } else { style.bold(&y_cell) };
        out.push_str(&format!("{label:label_w$}  {x:>wa$}  {y_cell}\n"));
    }
    out.push_str(&attempts(a, b, style));
    for n in &r.notes {
        out.push_str(&style.muted(&format!("note: {n}\n")));
    }
    out
}

fn attempt_text(s: &Side, i: usize) -> String {
    s.attempt_list.get(i).map_or_else(String::new, |a| {
        format!("{}/{} {}", a.provider, a.model, a.ended)
    })
}

fn attempts(a: &Side, b: &Side, style: Style) -> String {
    let n = a.attempt_list.len().max(b.attempt_list.len());
    let shown = n.min(ATTEMPT_ROWS);
    let left: Vec<String> = (0..shown).map(|i| attempt_text(a, i)).collect();
    let lw = left
        .iter()
        .map(|t| t.chars().count())
        .max()
        .unwrap_or(0)
        .max(8);
    let mut out = format!(
        "\n{}\n",
        style.muted(&format!("{:>3}  {:lw$}  new", "#", "recorded"))
    );
    for (i, l) in left.iter().enumerate() {
        out.push_str(&format!("{:>3}  {l:lw$}  {}\n", i + 1, attempt_text(b, i)));
    }
    if n > shown {
        out.push_str(&style.muted(&format!("     … {} more\n", n - shown)));
    }
    out
}
