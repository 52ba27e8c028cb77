//! `[limits]`: what one call may spend across all its retries and hops — requests, tokens,
//! dollars and time since the run started — and what is left of each. Pure arithmetic: the
//! engine passes in what was spent and the time elapsed (on the run's clock); times are
//! `Duration`s so a wait clipped to the deadline ends exactly on it.
//!
//! A limit is *reached* when the spent amount is at or past it (`requests >= max_requests`:
//! no further request may be sent). Checked in the order the keys are documented:
//! max_requests, max_tokens, max_cost_usd, deadline.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The limits of one call; `None` = no limit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    pub max_requests: Option<u32>,
    pub max_tokens: Option<u64>,
    pub max_cost_usd: Option<f64>,
    /// From the run's start.
    pub deadline: Option<Duration>,
}

/// Which limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    MaxRequests,
    MaxTokens,
    MaxCostUsd,
    Deadline,
}

impl Limit {
    /// The key, as the scenario writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::MaxRequests => "max_requests",
            Limit::MaxTokens => "max_tokens",
            Limit::MaxCostUsd => "max_cost_usd",
            Limit::Deadline => "deadline",
        }
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the call has spent so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spent {
    /// HTTP requests sent.
    pub requests: u32,
    /// Input plus output tokens: each reply's usage, else estimated.
    pub tokens: u64,
    pub cost_usd: f64,
    /// Since the run started.
    pub elapsed: Duration,
}

/// A limit reached: its value and what was spent, in its own unit (requests, tokens,
/// dollars, milliseconds for the deadline).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Hit {
    Requests { max: u32, sent: u32 },
    Tokens { max: u64, used: u64 },
    Cost { max: f64, spent: f64 },
    Deadline { max: Duration, elapsed: Duration },
}

impl Hit {
    pub fn limit(&self) -> Limit {
        match self {
            Hit::Requests { .. } => Limit::MaxRequests,
            Hit::Tokens { .. } => Limit::MaxTokens,
            Hit::Cost { .. } => Limit::MaxCostUsd,
            Hit::Deadline { .. } => Limit::Deadline,
        }
    }

    /// `max_requests = 3 reached: 3 requests sent`.
    pub fn words(&self) -> String {
        match *self {
            Hit::Requests { max, sent } => {
                format!("max_requests = {max} reached: {sent} request(s) sent")
            }
            Hit::Tokens { max, used } => {
                format!("max_tokens = {max} reached: {used} token(s) used")
            }
            Hit::Cost { max, spent } => {
                format!("max_cost_usd = {} reached: {} spent", usd(max), usd(spent))
            }
            Hit::Deadline { max, elapsed } => format!(
                "deadline = {} reached: {} since the run started",
                secs(max),
                secs(elapsed)
            ),
        }
    }
}

fn usd(v: f64) -> String {
    format!("${}", (v * 1e9).round() / 1e9)
}

fn secs(d: Duration) -> String {
    super::duration::format_secs(d.as_secs_f64())
}

/// A duration after the deadline's clip: `from` is the unclipped one when it was longer
/// than the time left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clipped {
    pub to: Duration,
    pub from: Option<Duration>,
}

impl Limits {
    pub fn is_empty(&self) -> bool {
        *self == Limits::default()
    }

    /// The first limit `spent` reached, if any.
    pub fn hit(&self, spent: &Spent) -> Option<Hit> {
        if let Some(max) = self.max_requests.filter(|&m| spent.requests >= m) {
            return Some(Hit::Requests {
                max,
                sent: spent.requests,
            });
        }
        if let Some(max) = self.max_tokens.filter(|&m| spent.tokens >= m) {
            return Some(Hit::Tokens {
                max,
                used: spent.tokens,
            });
        }
        if let Some(max) = self.max_cost_usd.filter(|&m| spent.cost_usd >= m) {
            return Some(Hit::Cost {
                max,
                spent: spent.cost_usd,
            });
        }
        self.deadline
            .filter(|&d| spent.elapsed >= d)
            .map(|max| Hit::Deadline {
                max,
                elapsed: spent.elapsed,
            })
    }

    /// Time left before the deadline (zero once past it); `None` without one.
    pub fn time_left(&self, elapsed: Duration) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_sub(elapsed))
    }

    /// `d` (a wait, an attempt's timeout) cut to the time left.
    pub fn clip(&self, elapsed: Duration, d: Duration) -> Clipped {
        match self.time_left(elapsed) {
            Some(left) if left < d => Clipped {
                to: left,
                from: Some(d),
            },
            _ => Clipped { to: d, from: None },
        }
    }

    /// How many output tokens an attempt may still receive, given the tokens spent before it
    /// and its own input tokens; `None` without `max_tokens`.
    pub fn output_budget(&self, spent_tokens: u64, input_tokens: u64) -> Option<u64> {
        self.max_tokens
            .map(|m| m.saturating_sub(spent_tokens.saturating_add(input_tokens)))
    }

    /// The worst case's requests under `max_requests`: `(capped, was it cut)`.
    pub fn cap_requests(&self, worst: u32) -> (u32, bool) {
        match self.max_requests {
            Some(m) if m < worst => (m, true),
            _ => (worst, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn all() -> Limits {
        Limits {
            max_requests: Some(3),
            max_tokens: Some(100),
            max_cost_usd: Some(0.05),
            deadline: Some(s(10)),
        }
    }

    #[test]
    fn nothing_is_hit_below_every_limit() {
        let spent = Spent {
            requests: 2,
            tokens: 99,
            cost_usd: 0.049,
            elapsed: Duration::from_millis(9999),
        };
        assert_eq!(all().hit(&spent), None);
        assert_eq!(Limits::default().hit(&Spent::default()), None);
        assert!(Limits::default().is_empty());
        assert!(!all().is_empty());
    }

    #[test]
    fn each_limit_is_hit_at_its_value_in_key_order() {
        let base = Spent::default();
        let hit = |spent: Spent| all().hit(&spent);
        assert_eq!(
            hit(Spent {
                requests: 3,
                ..base
            }),
            Some(Hit::Requests { max: 3, sent: 3 })
        );
        assert_eq!(
            hit(Spent {
                tokens: 100,
                ..base
            }),
            Some(Hit::Tokens {
                max: 100,
                used: 100
            })
        );
        assert_eq!(
            hit(Spent {
                cost_usd: 0.05,
                ..base
            }),
            Some(Hit::Cost {
                max: 0.05,
                spent: 0.05
            })
        );
        assert_eq!(
            hit(Spent {
                elapsed: s(10),
                ..base
            }),
            Some(Hit::Deadline {
                max: s(10),
                elapsed: s(10)
            })
        );
        // Several at once: the first key wins.
        let every = Spent {
            requests: 9,
            tokens: 900,
            cost_usd: 1.0,
            elapsed: s(99),
        };
        assert_eq!(hit(every).map(|h| h.limit()), Some(Limit::MaxRequests));
    }

    #[test]
    fn the_deadline_clips_what_would_pass_it_and_nothing_else() {
        let l = all();
        assert_eq!(
            l.clip(s(8), s(8)),
            Clipped {
                to: s(2),
                from: Some(s(8))
            }
        );
        assert_eq!(
            l.clip(Duration::from_millis(6800), s(8)),
            Clipped {
                to: Duration::from_millis(3200),
                from: Some(s(8))
            }
        );
        assert_eq!(
            l.clip(s(2), s(8)),
            Clipped {
                to: s(8),
                from: None
            }
        );
        // Past it: nothing is left.
        assert_eq!(l.clip(s(12), s(1)).to, Duration::ZERO);
        assert_eq!(l.time_left(s(12)), Some(Duration::ZERO));
        let none = Limits::default();
        assert_eq!(
            none.clip(s(1000), s(8)),
            Clipped {
                to: s(8),
                from: None
            }
        );
        assert_eq!(none.time_left(s(1)), None);
    }

    #[test]
    fn output_budget_counts_what_was_spent_and_the_input() {
        let l = all();
        assert_eq!(l.output_budget(30, 10), Some(60));
        assert_eq!(l.output_budget(95, 10), Some(0));
        assert_eq!(Limits::default().output_budget(5, 5), None);
    }

    #[test]
    fn requests_cap_the_worst_case() {
        assert_eq!(all().cap_requests(12), (3, true));
        assert_eq!(all().cap_requests(3), (3, false));
        assert_eq!(Limits::default().cap_requests(12), (12, false));
    }

    #[test]
    fn words_name_the_limit_and_what_was_spent() {
        assert_eq!(
            Hit::Requests { max: 3, sent: 3 }.words(),
            "max_requests = 3 reached: 3 request(s) sent"
        );
        assert_eq!(
            Hit::Tokens {
                max: 100,
                used: 104
            }
            .words(),
            "max_tokens = 100 reached: 104 token(s) used"
        );
        assert_eq!(
            Hit::Cost {
                max: 0.05,
                spent: 0.0512
            }
            .words(),
            "max_cost_usd = $0.05 reached: $0.0512 spent"
        );
        assert_eq!(
            Hit::Deadline {
                max: s(10),
                elapsed: s(10)
            }
            .words(),
            "deadline = 10 s reached: 10 s since the run started"
        );
    }
}
