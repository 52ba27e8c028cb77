//! Mirascope's `@fallback`: which error of which hop moves on, and how the run ends.

use super::retry_on::kinds_text;
use crate::error::{CallError, ErrorKind};

/// Which errors each hop catches: hop 0 is the primary call.
#[derive(Debug, Clone, PartialEq)]
pub struct FallbackPolicy {
    /// `catch[0]` is `[fallback].catch`, `catch[i]` is hop i's own `catch`.
    pub catch: Vec<Vec<ErrorKind>>,
}

impl FallbackPolicy {
    /// How many hops follow the primary.
    pub fn hops(&self) -> u32 {
        u32::try_from(self.catch.len().saturating_sub(1)).unwrap_or(u32::MAX)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum FallbackDecision {
    /// The error is caught: record it and run this hop next.
    NextHop { hop: u32, why: String },
    /// Not caught: the run ends with this very error; remaining hops are skipped.
    EndWith { why: String },
    /// Caught by the last hop: the run ends with `fallback_error` listing every caught error.
    FallbackError { why: String },
}

impl FallbackDecision {
    pub fn why(&self) -> &str {
        match self {
            FallbackDecision::NextHop { why, .. }
            | FallbackDecision::EndWith { why }
            | FallbackDecision::FallbackError { why } => why,
        }
    }
}

/// After `hop` ended with `error`. Without a fallback policy every error ends the run.
pub fn decide_after_hop(
    policy: Option<&FallbackPolicy>,
    hop: u32,
    error: &CallError,
) -> FallbackDecision {
    let Some(p) = policy else {
        return FallbackDecision::EndWith {
            why: "no [fallback]: the run ends with this error".into(),
        };
    };
    let who = if hop == 0 {
        "the primary call".to_string()
    } else {
        format!("hop {hop}")
    };
    let catch = p.catch.get(hop as usize).map_or(&[][..], Vec::as_slice);
    if !error.kind.is_in(catch) {
        return FallbackDecision::EndWith {
            why: format!(
                "{} is not in the catch {} of {who}: the run ends with it",
                error.kind,
                kinds_text(catch)
            ),
        };
    }
    if hop < p.hops() {
        FallbackDecision::NextHop {
            hop: hop + 1,
            why: format!(
                "{} is in the catch {} of {who}: caught, falling back to hop {}",
                error.kind,
                kinds_text(catch),
                hop + 1
            ),
        }
    } else {
        FallbackDecision::FallbackError {
            why: format!(
                "{} is in the catch {} of {who}, the last one: fallback_error",
                error.kind,
                kinds_text(catch)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> FallbackPolicy {
        FallbackPolicy {
            catch: vec![
                vec![ErrorKind::RetryError],
                vec![ErrorKind::RetryError],
                vec![ErrorKind::RateLimit],
            ],
        }
    }

    fn err(kind: ErrorKind) -> CallError {
        CallError::new(kind, "x")
    }

    #[test]
    fn caught_primary_moves_to_first_hop() {
        let d = decide_after_hop(Some(&policy()), 0, &err(ErrorKind::RetryError));
        assert!(
            matches!(d, FallbackDecision::NextHop { hop: 1, .. }),
            "{d:?}"
        );
    }

    #[test]
    fn uncaught_primary_ends_the_run() {
        let d = decide_after_hop(Some(&policy()), 0, &err(ErrorKind::Auth));
        assert!(matches!(d, FallbackDecision::EndWith { .. }));
        assert!(
            d.why()
                .contains("auth is not in the catch [retry_error] of the primary call")
        );
    }

    #[test]
    fn a_hop_uses_its_own_catch() {
        assert!(matches!(
            decide_after_hop(Some(&policy()), 1, &err(ErrorKind::RetryError)),
            FallbackDecision::NextHop { hop: 2, .. }
        ));
        // Hop 1 does not catch rate_limit: the run ends, hop 2 is skipped.
        assert!(matches!(
            decide_after_hop(Some(&policy()), 1, &err(ErrorKind::RateLimit)),
            FallbackDecision::EndWith { .. }
        ));
    }

    #[test]
    fn the_last_hop_caught_gives_fallback_error() {
        assert!(matches!(
            decide_after_hop(Some(&policy()), 2, &err(ErrorKind::RateLimit)),
            FallbackDecision::FallbackError { .. }
        ));
        assert!(matches!(
            decide_after_hop(Some(&policy()), 2, &err(ErrorKind::RetryError)),
            FallbackDecision::EndWith { .. }
        ));
    }

    #[test]
    fn no_hops_caught_is_fallback_error_and_no_policy_ends() {
        let p = FallbackPolicy {
            catch: vec![vec![ErrorKind::Any]],
        };
        assert!(matches!(
            decide_after_hop(Some(&p), 0, &err(ErrorKind::Timeout)),
            FallbackDecision::FallbackError { .. }
        ));
        assert!(matches!(
            decide_after_hop(None, 0, &err(ErrorKind::Timeout)),
            FallbackDecision::EndWith { .. }
        ));
    }
}
