//! `retrylab replay TRACE --print`: print a recorded run as the timeline, streamed line by
//! line (a trace of any size prints in bounded memory).

use super::printer::{Printer, Style};
use super::{EXIT_OK, EXIT_RUN_ERROR, EXIT_USAGE, usage_error};
use crate::event::{Event, Outcome, RunFinished};
use crate::trace::{TraceError, TraceReader};
use std::path::Path;
use std::process::ExitCode;

pub fn print(trace: &Path) -> ExitCode {
    let reader = match TraceReader::open(trace) {
        Ok(r) => r,
        Err(e) => return usage_error(&e.to_string()),
    };
    let stdout = std::io::stdout();
    let mut p = Printer::new(stdout.lock(), Style::detect());
    let mut outcome = None;
    let mut printed = 0usize;
    let mut out_ok = true;
    let mut reader = reader;
    for ev in reader.by_ref() {
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                // What came before is printed already; the bad line is named.
                drop(p);
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        };
        printed += 1;
        // A closed pipe (`| head`) stops printing; reading on only finds the outcome.
        if out_ok && p.on_event(&ev).is_err() {
            out_ok = false;
        }
        if let Event::RunFinished(RunFinished { outcome: o, .. }) = &ev.event {
            outcome = Some(*o);
        }
    }
    drop(p);
    if printed == 0 {
        return usage_error(
            &TraceError::Empty {
                path: trace.display().to_string(),
            }
            .to_string(),
        );
    }
    if let Some(note) = reader.note() {
        eprintln!("warning: {note}");
    }
    match outcome {
        Some(Outcome::Ok) => ExitCode::from(EXIT_OK),
        _ => ExitCode::from(EXIT_RUN_ERROR),
    }
}
