//! `retrylab replay TRACE --print`: print a recorded run as the timeline.

use super::printer::{Printer, Style};
use super::{EXIT_OK, EXIT_RUN_ERROR, usage_error};
use crate::event::{Event, Outcome};
use crate::trace::read_trace;
use std::path::Path;
use std::process::ExitCode;

pub fn print(trace: &Path) -> ExitCode {
    let events = match read_trace(trace) {
        Ok(e) => e,
        Err(e) => return usage_error(&e.to_string()),
    };
    let stdout = std::io::stdout();
    let mut p = Printer::new(stdout.lock(), Style::detect());
    let mut outcome = None;
    for ev in &events {
        if p.on_event(ev).is_err() {
            break;
        }
        if let Event::RunFinished { outcome: o, .. } = &ev.event {
            outcome = Some(*o);
        }
    }
    match outcome {
        Some(Outcome::Ok) => ExitCode::from(EXIT_OK),
        _ => ExitCode::from(EXIT_RUN_ERROR),
    }
}
