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
    // The key that lists what this hop catches, as the scenario file spells it.
    let key = if hop == 0 {
        "[fallback].catch".to_string()
    } else {
        format!("hop {hop}'s catch")
    };
    let catch = p.catch.get(hop as usize).map_or(&[][..], Vec::as_slice);
    let (kind, list) = (error.kind, kinds_text(catch));
    if !kind.is_in(catch) {
        let not_tried = if hop == 0 {
            "no fallback hop was tried".to_string()
        } else if hop < p.hops() {
            format!("hop {} was not tried", hop + 1)
        } else {
            "the run ends with it".to_string()
        };
        return FallbackDecision::EndWith {
            why: format!("{kind} is not in {key} {list}: {not_tried}"),
        };
    }
    if hop < p.hops() {
        FallbackDecision::NextHop {
            hop: hop + 1,
            why: format!(
                "{kind} is in {key} {list}: caught, falling back to hop {}",
                hop + 1
            ),
        }
    } else {
        FallbackDecision::FallbackError {
            why: format!("{kind} is in {key} {list}, the last hop: fallback_error"),
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
        assert_eq!(
            d.why(),
            "auth is not in [fallback].catch [retry_error]: no fallback hop was tried"
        );
    }

    #[test]
    fn a_hop_uses_its_own_catch() {
        assert!(matches!(
            decide_after_hop(Some(&policy()), 1, &err(ErrorKind::RetryError)),
            FallbackDecision::NextHop { hop: 2, .. }
        ));
        // Hop 1 does not catch rate_limit: the run ends, hop 2 is skipped.
        let d = decide_after_hop(Some(&policy()), 1, &err(ErrorKind::RateLimit));
        assert!(matches!(d, FallbackDecision::EndWith { .. }));
        assert_eq!(
            d.why(),
            "rate_limit is not in hop 1's catch [retry_error]: hop 2 was not tried"
        );
    }

    #[test]
    fn the_last_hop_caught_gives_fallback_error() {
        let d = decide_after_hop(Some(&policy()), 2, &err(ErrorKind::RateLimit));
        assert!(matches!(d, FallbackDecision::FallbackError { .. }));
        assert_eq!(
            d.why(),
            "rate_limit is in hop 2's catch [rate_limit], the last hop: fallback_error"
        );
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
