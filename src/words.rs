//! The wording every consumer of events shares (the printer, the run view, the Inspector,
//! the engine's own `why`), so one meaning has its texts in one place. It sits above `event`
//! and `policy` (durations read as the policy writes them), below every consumer.

use crate::error::ErrorKind;
use crate::event::{BreakerChanged, BreakerTo, SharedState, WaitEnd, WaitSource, WaitStarted};

/// Why a hop without a `[retry]` table ends at its first failure.
pub const WHY_NO_RETRY_TABLE: &str = "no [retry] table: a single attempt, the error goes on as is";

/// What a `retry_exhausted` means.
pub const WHY_EXHAUSTED: &str =
    "The stop condition was met; the hop ends with retry_error carrying the last error.";

/// Why a `fallback_hop` happened: the caught error's kind was in the catch list.
pub fn why_fallback(caught: ErrorKind) -> String {
    format!("{caught} is in the catch list, so the next hop runs with its own retry budget")
}

/// Why the run ended with its error, in one line (the timeline's last row, the printer's
/// last `why`): what the fallback made of the hop's error, or (without a `[fallback]`) why
/// its last attempt was not retried; led by the error's kind. Empty when nothing says.
pub fn why_run_ended(kind: ErrorKind, why: &str, fallback_why: &str) -> String {
    let text = if fallback_why.is_empty() {
        why
    } else {
        fallback_why
    };
    if text.is_empty() || text.starts_with(kind.as_str()) {
        text.to_string()
    } else {
        format!("{kind}: {text}")
    }
}

/// `primary`, or `hop N` for a fallback hop.
pub fn hop_label(hop: u32) -> String {
    if hop == 0 {
        "primary".into()
    } else {
        format!("hop {hop}")
    }
}

fn secs(ms: u64) -> String {
    crate::policy::duration::format_secs(ms as f64 / 1000.0)
}

/// How a finished wait ended: `waited 4 s`, `skipped after 1.2 s of 4 s` or `cancelled after
/// 1.35 s of 4 s` (the timeline, the printer and the Inspector say it alike).
pub fn wait_end(ended: WaitEnd, waited_ms: Option<u64>, delay_ms: u64) -> String {
    let waited = secs(waited_ms.unwrap_or(delay_ms));
    let of = secs(delay_ms);
    match ended {
        WaitEnd::Elapsed => format!("waited {of}"),
        WaitEnd::Skipped => format!("skipped after {waited} of {of}"),
        WaitEnd::Cancelled => format!("cancelled after {waited} of {of}"),
    }
}

/// A duration `[limits].deadline` cut: `8 s clipped to 3.2 s by deadline`.
pub fn clipped(from_ms: u64, to_ms: u64) -> String {
    format!("{} clipped to {} by deadline", secs(from_ms), secs(to_ms))
}

/// A wait in progress: `1.7 s left of 4 s`.
pub fn wait_left(left_ms: u64, delay_ms: u64) -> String {
    format!("{} of {}", wait_left_short(left_ms), secs(delay_ms))
}

/// A wait in progress where the row already says its length: `1.7 s left`.
pub fn wait_left_short(left_ms: u64) -> String {
    format!("{:.1} s left", left_ms as f64 / 1000.0)
}

/// Where an SDK retry's delay came from (`sdk_retry.source`), as the timeline, the
/// printer and the Inspector say it: `backoff`, `retry-after-ms`, `Retry-After`.
pub fn sdk_delay_source(source: &str) -> &str {
    match source {
        "retry_after_ms" => "retry-after-ms",
        "retry_after" => "Retry-After",
        other => other,
    }
}

/// The facts of a wait, to say where it came from in each consumer's words.
#[derive(Debug, Clone, Copy)]
pub struct WaitWords<'a> {
    pub source: WaitSource,
    pub strategy: &'a str,
    pub delay_ms: u64,
    pub retry_after_ms: Option<u64>,
    pub computed_ms: u64,
    /// `retry_after_jitter`'s part, on top of the Retry-After.
    pub jitter_ms: Option<u64>,
}

impl<'a> From<&'a WaitStarted> for WaitWords<'a> {
    fn from(w: &'a WaitStarted) -> Self {
        WaitWords {
            source: w.source,
            strategy: &w.strategy,
            delay_ms: w.delay_ms,
            retry_after_ms: w.retry_after_ms,
            computed_ms: w.computed_ms,
            jitter_ms: w.retry_after_jitter_ms,
        }
    }
}

impl WaitWords<'_> {
    /// What the server's wait is called where it came from: the `Retry-After` header, or
    /// the `RetryInfo.retryDelay` of a Gemini error body.
    fn server_wait(&self) -> &'static str {
        if self.source == WaitSource::RetryInfo {
            "RetryInfo retryDelay"
        } else {
            "Retry-After"
        }
    }

    /// The printer's `(…)` after the wait: `Retry-After 30 s > back-off 4 s`.
    pub fn origin(&self) -> String {
        match (self.source, self.retry_after_ms) {
            (s, Some(ra)) if s.is_server() => format!(
                "{} > back-off {}",
                self.retry_after_text(ra),
                secs(self.computed_ms)
            ),
            (_, Some(ra)) => format!(
                "{}; {} was shorter",
                self.strategy,
                self.retry_after_text(ra)
            ),
            _ => self.strategy.to_string(),
        }
    }

    /// The timeline's label: the formula and its value, or the server's Retry-After.
    pub fn label(&self) -> String {
        if let Some(reason) = self.reason() {
            format!("{reason} ({})", self.backoff_gave())
        } else {
            match self.retry_after_ms {
                Some(ra) => format!(
                    "{} = {} ({} is shorter)",
                    self.strategy,
                    secs(self.computed_ms),
                    self.retry_after_text(ra)
                ),
                None => format!("{} = {}", self.strategy, secs(self.delay_ms)),
            }
        }
    }

    /// The server's Retry-After, when it set the wait: `Retry-After 15 s`. A short timeline
    /// row leads with it, so a cut drops the formula, not the reason.
    pub fn reason(&self) -> Option<String> {
        self.source
            .is_server()
            .then(|| self.retry_after_text(self.retry_after_ms.unwrap_or(self.delay_ms)))
    }

    /// `Retry-After 2 s` (or `RetryInfo retryDelay 2 s`), with `retry_after_jitter`
    /// `Retry-After 2 s + jitter 310 ms`.
    fn retry_after_text(&self, ra_ms: u64) -> String {
        let name = self.server_wait();
        match self.jitter_ms {
            Some(j) => format!("{name} {} + jitter {}", secs(ra_ms), secs(j)),
            None => format!("{name} {}", secs(ra_ms)),
        }
    }

    /// What the formula gave beside a Retry-After reason: `back-off gave 4 s`.
    pub fn backoff_gave(&self) -> String {
        format!("back-off gave {}", secs(self.computed_ms))
    }

    /// The Inspector's `set by`.
    pub fn set_by(&self) -> &'static str {
        if self.source == WaitSource::RetryInfo {
            "the server's RetryInfo.retryDelay, in the error body (longer than the formula)"
        } else if self.source == WaitSource::RetryAfter {
            "the server's Retry-After (longer than the formula)"
        } else {
            "the back-off formula"
        }
    }
}

/// What `circuit_open` means (the Inspector, the help of a row).
pub const CIRCUIT_OPEN: &str = "circuit_open: the breaker of this provider+model was open, so the attempt was not sent; it is never retried in its hop, and [breaker].on_open says what follows";

/// What `budget_exhausted` means.
pub const BUDGET_EXHAUSTED: &str = "budget_exhausted: the retry budget, shared by every call, held less than one retry, so the hop ended without retrying; it carries the last attempt's error";

/// A breaker's change: `breaker openai/gpt-4o-mini open: 5 consecutive failures (for 30 s)`.
pub fn breaker_changed(to: BreakerTo, e: &BreakerChanged) -> String {
    let cooldown = e
        .cooldown_ms
        .filter(|_| to == BreakerTo::Open)
        .map(|ms| format!(" (for {})", secs(ms)))
        .unwrap_or_default();
    format!(
        "breaker {}/{} {}: {}{cooldown}",
        e.provider,
        e.model,
        to.label(),
        e.why
    )
}

/// Retries' worth of the budget: `1.25 retries`, `1 retry`.
pub fn budget_tokens(tokens: f64) -> String {
    if (tokens - 1.0).abs() < 1e-9 {
        "1 retry".into()
    } else {
        format!("{tokens:.2} retries")
    }
}

/// The budget's answer to a retry: `budget: retry paid, 3.20 retries left` or `budget: retry
/// denied, 0.40 retries left (1 needed)`.
pub fn budget_decided(denied: bool, tokens: f64) -> String {
    if denied {
        format!(
            "budget: retry denied, {} left (1 needed)",
            budget_tokens(tokens)
        )
    } else {
        format!("budget: retry paid, {} left", budget_tokens(tokens))
    }
}

/// What lasts across calls as a call starts: `shared: breaker openai/gpt-4o-mini closed;
/// budget 10.20 retries`.
pub fn shared_state(e: &SharedState) -> String {
    let mut parts: Vec<String> = e
        .breakers
        .iter()
        .map(|b| {
            let state = if b.state == "half_open" {
                "half-open"
            } else {
                &b.state
            };
            format!("breaker {}/{} {state}", b.provider, b.model)
        })
        .collect();
    if let Some(t) = e.budget_tokens {
        parts.push(format!("budget {}", budget_tokens(t)));
    }
    format!("shared: {}", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaker_and_budget_in_words() {
        let e = BreakerChanged {
            hop: 0,
            attempt: 3,
            provider: "openai".into(),
            model: "gpt-4o-mini".into(),
            why: "3 consecutive failures".into(),
            cooldown_ms: Some(10_000),
        };
        assert_eq!(
            breaker_changed(BreakerTo::Open, &e),
            "breaker openai/gpt-4o-mini open: 3 consecutive failures (for 10 s)"
        );
        assert_eq!(
            breaker_changed(BreakerTo::HalfOpen, &e),
            "breaker openai/gpt-4o-mini half-open: 3 consecutive failures"
        );
        assert_eq!(
            budget_decided(true, 0.4),
            "budget: retry denied, 0.40 retries left (1 needed)"
        );
        assert_eq!(
            budget_decided(false, 1.0),
            "budget: retry paid, 1 retry left"
        );
        let s = SharedState {
            breakers: vec![crate::event::BreakerSeen {
                provider: "openai".into(),
                model: "m".into(),
                state: "half_open".into(),
            }],
            budget_tokens: Some(10.2),
        };
        assert_eq!(
            shared_state(&s),
            "shared: breaker openai/m half-open; budget 10.20 retries"
        );
    }

    #[test]
    fn a_jittered_retry_after_names_both_parts() {
        let w = WaitWords {
            source: WaitSource::RetryAfter,
            strategy: "wait_fixed(1 s)",
            delay_ms: 2310,
            retry_after_ms: Some(2000),
            computed_ms: 1000,
            jitter_ms: Some(310),
        };
        assert_eq!(
            w.reason().as_deref(),
            Some("Retry-After 2 s + jitter 310 ms")
        );
        assert_eq!(
            w.label(),
            "Retry-After 2 s + jitter 310 ms (back-off gave 1 s)"
        );
        assert_eq!(w.origin(), "Retry-After 2 s + jitter 310 ms > back-off 1 s");
        let shorter = WaitWords {
            source: WaitSource::Backoff,
            delay_ms: 4000,
            computed_ms: 4000,
            ..w
        };
        assert_eq!(
            shorter.label(),
            "wait_fixed(1 s) = 4 s (Retry-After 2 s + jitter 310 ms is shorter)"
        );
    }

    #[test]
    fn a_wait_in_each_consumers_words() {
        let w = WaitWords {
            source: WaitSource::Backoff,
            strategy: "exponential(multiplier=1)",
            delay_ms: 4000,
            retry_after_ms: Some(1000),
            computed_ms: 4000,
            jitter_ms: None,
        };
        assert_eq!(
            w.origin(),
            "exponential(multiplier=1); Retry-After 1 s was shorter"
        );
        assert_eq!(
            w.label(),
            "exponential(multiplier=1) = 4 s (Retry-After 1 s is shorter)"
        );
        assert_eq!(w.set_by(), "the back-off formula");
        let ra = WaitWords {
            source: WaitSource::RetryAfter,
            retry_after_ms: Some(30_000),
            delay_ms: 30_000,
            ..w
        };
        assert_eq!(ra.origin(), "Retry-After 30 s > back-off 4 s");
        assert_eq!(ra.label(), "Retry-After 30 s (back-off gave 4 s)");
        assert_eq!(ra.reason().as_deref(), Some("Retry-After 30 s"));
        assert_eq!(ra.backoff_gave(), "back-off gave 4 s");
        assert_eq!(w.reason(), None);
        assert!(ra.set_by().starts_with("the server's Retry-After"));
        let unknown = WaitWords {
            source: WaitSource::Unknown,
            retry_after_ms: None,
            ..w
        };
        assert_eq!(unknown.origin(), "exponential(multiplier=1)");
        let info = WaitWords {
            source: WaitSource::RetryInfo,
            ..ra
        };
        assert_eq!(info.origin(), "RetryInfo retryDelay 30 s > back-off 4 s");
        assert_eq!(
            info.label(),
            "RetryInfo retryDelay 30 s (back-off gave 4 s)"
        );
        assert!(info.set_by().contains("RetryInfo.retryDelay"));
        assert_eq!(unknown.label(), "exponential(multiplier=1) = 4 s");
        assert_eq!(wait_end(WaitEnd::Elapsed, None, 4000), "waited 4 s");
        assert_eq!(
            wait_end(WaitEnd::Skipped, Some(1200), 4000),
            "skipped after 1.2 s of 4 s"
        );
        assert_eq!(
            wait_end(WaitEnd::Cancelled, Some(1350), 4000),
            "cancelled after 1.35 s of 4 s"
        );
        assert_eq!(
            wait_end(WaitEnd::Cancelled, Some(350), 4000),
            "cancelled after 350 ms of 4 s"
        );
        assert_eq!(wait_left(1700, 4000), "1.7 s left of 4 s");
        assert_eq!(wait_left_short(12_700), "12.7 s left");
        assert_eq!(
            why_run_ended(
                ErrorKind::ServerError,
                "server_error is not in retry_on [rate_limit]: re-raised as is, no retry",
                "server_error is not in [fallback].catch [retry_error]: no fallback hop was tried"
            ),
            "server_error is not in [fallback].catch [retry_error]: no fallback hop was tried"
        );
        assert_eq!(
            why_run_ended(ErrorKind::Auth, WHY_NO_RETRY_TABLE, ""),
            format!("auth: {WHY_NO_RETRY_TABLE}")
        );
        assert_eq!(why_run_ended(ErrorKind::Auth, "", ""), "");
        assert_eq!(hop_label(0), "primary");
        assert_eq!(hop_label(2), "hop 2");
    }
}
