//! `retrylab run SCENARIO [--json] [--speed X] [--live] [--var k=v]...`

use super::printer::{Printer, Style};
use super::{EXIT_OK, EXIT_RUN_ERROR, usage_error};
use crate::clock::Speed;
use crate::engine::run::{RunOptions, event_channel, run};
use crate::event::{Event, Mode, Outcome};
use crate::scenario::builtin::{resolve, resolve_with_vars};
use crate::scenario::load::parse_var;
use crate::trace::{TraceWriter, traces_dir};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// A scenario file, or a built-in scenario's name (`retrylab scenarios`).
    pub scenario: String,
    /// Print events as JSON lines instead of the timeline.
    #[arg(long)]
    pub json: bool,
    /// How fast the run's clock goes: a number (1 = real time, 10 = ten times faster) or `max`.
    #[arg(long, default_value = "1")]
    pub speed: String,
    /// Call the real APIs instead of the built-in simulator.
    #[arg(long)]
    pub live: bool,
    /// Override a template variable: --var question="Why?".
    #[arg(long = "var", value_name = "K=V")]
    pub vars: Vec<String>,
    /// Do not record the run as a trace.
    #[arg(long)]
    pub no_trace: bool,
}

/// What `--speed` means live: nothing (a wait the server asked for is never shortened).
const LIVE_SPEED_NOTE: &str = "note: --speed does not apply in live mode: waits are real (the server's Retry-After and the back-off take their full time)";

pub fn execute(args: &RunArgs) -> ExitCode {
    let mut vars = Vec::new();
    for v in &args.vars {
        match parse_var(v) {
            Ok(kv) => vars.push(kv),
            Err(e) => return usage_error(&format!("--var {v}: {e}")),
        }
    }
    let resolved = match resolve_with_vars(&args.scenario, &vars) {
        Ok(r) => r,
        Err(e) => return usage_error(&e.to_string()),
    };
    let speed = match Speed::parse(&args.speed) {
        Ok(s) => s,
        Err(e) => return usage_error(&format!("--speed: {e}")),
    };
    if args.live && speed != Speed::Times(1.0) {
        eprintln!("{LIVE_SPEED_NOTE}");
    }
    // Read once: the run gets this config (keys, prices), not one of its own.
    let config = Arc::new(crate::config::Config::load());
    crate::config::warn_once(&config);
    let opts = RunOptions {
        mode: if args.live { Mode::Live } else { Mode::Sim },
        speed,
        config: Arc::clone(&config),
    };
    if args.live {
        // Before the run starts: no request, no trace, one line on what to set.
        if let Err(e) = crate::engine::run::check_live_keys_with(&resolved.scenario, &config) {
            eprintln!("error: {}", e.message);
            eprintln!("hint: without --live the run uses the built-in simulator (no key needed)");
            return ExitCode::from(super::EXIT_USAGE);
        }
    }
    let Some(runtime) = runtime() else {
        return ExitCode::from(EXIT_RUN_ERROR);
    };
    let trace = if args.no_trace {
        None
    } else {
        // Not recording is no reason not to run: one line on why, and what to do.
        traces_dir().and_then(|d| match TraceWriter::create(&d, &resolved.scenario.name) {
            Ok(w) => {
                crate::history::prune(&d, config.traces_keep(), w.path());
                Some(w)
            }
            Err(e) => {
                eprintln!("warning: {}", crate::trace::create_warning(&d, &e));
                None
            }
        })
    };
    let outcome = runtime.block_on(drive(Arc::new(resolved.scenario), opts, args.json, trace));
    match outcome {
        Outcome::Ok => ExitCode::from(EXIT_OK),
        Outcome::Error | Outcome::Cancelled => ExitCode::from(EXIT_RUN_ERROR),
    }
}

/// The exit status after a second Ctrl+C (128 + SIGINT, as a shell reports it).
const EXIT_INTERRUPTED: i32 = 130;

/// The most events printed between two flushes of stdout.
const DRAIN_MAX: usize = 4096;

/// A batch of this many queued events means a fast stream; the printer then pauses
/// [`FAST_PAUSE`] before the next batch (output still goes out every millisecond or two).
const FAST_BATCH: usize = 64;
const FAST_PAUSE: std::time::Duration = std::time::Duration::from_millis(1);

/// Runs the engine and feeds each event to the printer (or JSON) and the trace.
async fn drive(
    scenario: Arc<crate::scenario::Scenario>,
    opts: RunOptions,
    json: bool,
    mut trace: Option<TraceWriter>,
) -> Outcome {
    let (tx, mut rx) = event_channel();
    let cancel = CancellationToken::new();
    let engine = tokio::spawn(run(scenario, opts, tx, cancel.clone()));
    let ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            ctrl_c.cancel();
            // A second Ctrl+C leaves at once, whatever is still running or queued.
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("interrupted");
                std::process::exit(EXIT_INTERRUPTED);
            }
        }
    });
    let stdout = std::io::stdout();
    // Buffered: flushed once the queue is empty, not per event (a fast stream prints in large
    // writes; a slow one still shows each piece as it arrives).
    let out = std::io::BufWriter::with_capacity(64 << 10, stdout.lock());
    let mut printer = Printer::new(out, Style::detect());
    let mut out_ok = true;
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        let mut handled = 0usize;
        while let Some(ev) = next {
            if let Some(t) = trace.as_mut()
                && let Err(e) = t.write(&ev)
            {
                eprintln!("warning: {}", crate::trace::write_warning(t.path(), &e));
                trace = None;
            }
            // Cancelled: text still queued is traced, not printed, so the run ends now.
            let skip = cancel.is_cancelled() && matches!(ev.event, Event::Delta(_));
            if out_ok && !skip {
                let r = if json {
                    writeln!(printer.out_mut(), "{}", ev.to_json_line())
                } else {
                    printer.on_event(&ev)
                };
                // A closed pipe (e.g. `| head`) stops printing, not the run.
                out_ok = r.is_ok();
            }
            handled += 1;
            // Drain what is already queued; flush at least every DRAIN_MAX events.
            next = if handled < DRAIN_MAX {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        // Flushed when the queue runs dry: a killed run loses only its last moments.
        if let Some(t) = trace.as_mut()
            && let Err(e) = t.flush()
        {
            eprintln!("warning: {}", crate::trace::write_warning(t.path(), &e));
            trace = None;
        }
        if out_ok {
            out_ok = printer.flush().is_ok();
        }
        if handled >= FAST_BATCH {
            // A fast stream: let the next events queue up for a moment and take them as one
            // batch, instead of the engine waking this task for each (a third of its time).
            tokio::time::sleep(FAST_PAUSE).await;
        }
    }
    if out_ok {
        let _ = printer.flush();
    }
    if let Some(mut t) = trace {
        if let Err(e) = t.flush() {
            eprintln!("warning: {}", crate::trace::write_warning(t.path(), &e));
        } else if !json {
            eprintln!("trace: {}", t.path().display());
        }
    }
    match engine.await {
        Ok(summary) => summary.outcome,
        Err(e) => {
            eprintln!("error: the run stopped unexpectedly: {e}");
            Outcome::Error
        }
    }
}

/// `retrylab sim [--addr] [SCENARIO]`: loads the scenario's `[sim]` script and serves it.
pub fn serve_sim(addr: std::net::SocketAddr, scenario: Option<&str>, quiet: bool) -> ExitCode {
    let (spec, label) = match scenario {
        Some(arg) => match resolve(arg) {
            Ok(r) => (r.scenario.sim, r.origin),
            Err(e) => return usage_error(&e.to_string()),
        },
        None => (
            crate::scenario::SimSpec::default(),
            "plain answers".to_string(),
        ),
    };
    let Some(runtime) = runtime() else {
        return ExitCode::from(EXIT_RUN_ERROR);
    };
    match runtime.block_on(super::sim::serve(addr, spec, &label, quiet)) {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_RUN_ERROR)
        }
    }
}

/// The async runtime of a headless command; `None` (after saying why) when it cannot start.
fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => Some(r),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            None
        }
    }
}
