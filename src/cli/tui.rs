//! `retrylab [SCENARIO]` (the playground) and `retrylab replay TRACE` (a recorded run in the
//! playground).

use super::usage_error;
use crate::scenario::builtin::{self, Located};
use crate::tui::app::{AppConfig, Origin, Start};
use crate::tui::runner::{SessionStats, run_in_terminal};
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Opens the playground: no argument = the built-in `fallback-with-retries`; else a path or a
/// built-in name. A file that does not parse still opens, with its errors shown in place.
pub fn run_playground(scenario_arg: Option<String>) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let start = match scenario_arg {
        None => match builtin::find(builtin::DEFAULT) {
            Some(b) => Start::Scenario {
                text: b.source.to_string(),
                origin: Origin::Builtin(b.name.to_string()),
            },
            None => return Ok(usage_error("the default built-in scenario is missing")),
        },
        Some(arg) => match resolve(&arg) {
            Ok(s) => s,
            Err(message) => return Ok(usage_error(&message)),
        },
    };
    session(start, started)
}

/// Replays a trace in the playground at its recorded pace (F3 changes the speed, F5 replays
/// it again).
pub fn run_replay(trace: &Path) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    // The playground keeps the replay in memory (F5 plays it again): bounded.
    let read = match crate::trace::read_trace_bounded(trace, crate::tui::app::REPLAY_MAX_BYTES) {
        Ok(r) => r,
        Err(e) => return Ok(usage_error(&e.to_string())),
    };
    let notice = (!read.notes.is_empty()).then(|| read.notes.join("; "));
    session_with(
        Start::Replay {
            events: read.events,
            path: trace.to_path_buf(),
        },
        started,
        notice,
    )
}

/// SCENARIO as a path or a saved scenario's name (read as text, parsed in the editors), or
/// a built-in name: resolved as `retrylab run` does.
fn resolve(arg: &str) -> Result<Start, String> {
    let saved_dir = crate::dirs::scenarios_dir();
    match builtin::locate(arg, saved_dir.as_deref()) {
        Ok(Located::File(path)) => {
            let text = crate::scenario::userfile::read_user_file(
                &path,
                crate::scenario::userfile::MAX_USER_FILE,
            )
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            Ok(Start::Scenario {
                text,
                origin: Origin::File(path),
            })
        }
        Ok(Located::Builtin(b)) => Ok(Start::Scenario {
            text: b.source.to_string(),
            origin: Origin::Builtin(b.name.to_string()),
        }),
        Err(e) => Err(format!("{}\n  hint: {}", e.message, e.hint)),
    }
}

fn session(start: Start, started: Instant) -> anyhow::Result<ExitCode> {
    session_with(start, started, None)
}

fn session_with(
    start: Start,
    started: Instant,
    notice: Option<String>,
) -> anyhow::Result<ExitCode> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Ok(usage_error(
            "the playground needs a terminal; for headless runs use `retrylab run SCENARIO`",
        ));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut config = AppConfig::from_env();
    config.notice = notice;
    let result = runtime.block_on(run_in_terminal(config, start, started));
    // A cancelled run may still be closing its simulator: do not wait long for it.
    runtime.shutdown_timeout(Duration::from_millis(500));
    let stats: SessionStats = result?;
    if std::env::var_os("RETRYLAB_TIMING").is_some() {
        eprintln!(
            "retrylab: first frame after {:.1} ms; {} frames; slowest frame {:.2} ms",
            stats.first_frame.as_secs_f64() * 1000.0,
            stats.frames,
            stats.slowest_frame.as_secs_f64() * 1000.0
        );
    }
    // Ended by a signal: the shell's convention, 128 + its number.
    Ok(match stats.signal {
        Some(n) => ExitCode::from(u8::try_from(128 + n).unwrap_or(1)),
        None => ExitCode::SUCCESS,
    })
}
