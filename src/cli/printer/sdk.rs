//! The printer's line for a request the SDK retried inside an attempt (DESIGN §15).

use super::text::{cost_text, safe};
use crate::event::SdkRetry;
use crate::policy::duration::format_secs;

/// `↳ sdk retry 1: 500 server_error, wait 0.42 s (backoff)`; a hedge leg's says `leg 2`.
pub(super) fn retry_text(e: &SdkRetry) -> String {
    let leg = if e.leg > 1 {
        format!("leg {} ", e.leg)
    } else {
        String::new()
    };
    let failed = match e.status {
        Some(s) => format!("{s} {}", e.error.kind),
        None => e.error.kind.to_string(),
    };
    let source = crate::words::sdk_delay_source(&e.source);
    let wait = format_secs(e.delay_ms as f64 / 1000.0);
    safe(&format!(
        "↳ {leg}sdk retry {}: {failed}, wait {wait} ({source})",
        e.retry
    ))
}

/// What follows, muted: the request's cost, and the retry count the failed one carried.
pub(super) fn retry_note(e: &SdkRetry) -> String {
    format!(
        "  x-stainless-retry-count {}{}",
        e.retry.saturating_sub(1),
        cost_text(e.cost_usd, e.cost_estimated)
    )
}
