//! Text pieces of the printed timeline: the time stamp, terminal-safe text, one-line cuts,
//! errors and their fix hints, costs.

use crate::config::HINT_SEP;
use crate::cost::format_usd;
use crate::error::{CallError, ErrorKind};

/// Nine columns: the width of a time stamp, to indent the lines under it.
pub(super) const PAD: &str = "         ";

pub(super) fn stamp(t_ms: u64) -> String {
    format!("{:>9}", format!("{:.3}s", t_ms as f64 / 1000.0))
}

/// Text from a server or a trace, safe for a terminal: ESC, BEL and other control
/// characters (clipboard writes, screen clears, titles) become U+FFFD.
pub(super) fn safe(text: &str) -> String {
    crate::provider::classify::printable(text).replace('\t', " ")
}

pub(super) fn one_line(text: &str, max: usize) -> String {
    let flat: String = safe(text).split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// `kind (status): message`, the message cut to one line; a hint on what to fix (live
/// mode) is left to [`fix_of`].
pub(super) fn error_text(e: &CallError) -> String {
    let mut s = e.kind.to_string();
    if let Some(st) = e.status {
        s.push_str(&format!(" ({st})"));
    }
    s.push_str(": ");
    // A message may hold a hint after HINT_SEP: an older trace's, or a wrapped error's.
    let own = e.message.split(HINT_SEP).next().unwrap_or("");
    s.push_str(&one_line(own, 100));
    s
}

/// What to fix: the error's hint, or (a trace written before hints had their own field) the
/// part of its message after [`HINT_SEP`].
pub(super) fn fix_of(e: &CallError) -> Option<&str> {
    e.hint
        .as_deref()
        .or_else(|| e.message.split_once(HINT_SEP).map(|(_, fix)| fix))
}

/// What to fix for a run's final error: its own, or that of the last attempt it wraps.
pub(super) fn final_fix(e: &CallError) -> Option<&str> {
    match e.kind {
        // Its caught errors are listed, each with its own.
        ErrorKind::FallbackError => None,
        ErrorKind::RetryError => e.last_error.as_deref().and_then(fix_of),
        _ => fix_of(e),
    }
}

/// `, $0.000123` or `, ~$0.000123` (estimated), or nothing when unpriced.
pub(super) fn cost_text(usd: Option<f64>, estimated: bool) -> String {
    match usd {
        Some(c) => format!(", {}{}", if estimated { "~" } else { "" }, format_usd(c)),
        None => String::new(),
    }
}
