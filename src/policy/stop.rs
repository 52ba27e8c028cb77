//! Tenacity's stop strategies: when to give up retrying.

use super::Secs;
use serde::Deserialize;

/// Written as a one-key table: `{ after_attempt = 3 }`, `{ after_delay = "30s" }`,
/// `{ before_delay = 30 }`, `{ any = [..] }`, `{ all = [..] }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Stop {
    /// `stop_after_attempt(n)`: stop when attempt_number >= n.
    AfterAttempt(u32),
    /// `stop_after_delay(d)`: stop when the time since the first attempt >= d.
    AfterDelay(Secs),
    /// `stop_before_delay(d)`: stop when elapsed + the upcoming wait >= d.
    BeforeDelay(Secs),
    /// `stop_any(...)` / `a | b`: any says stop. An empty list never stops.
    Any(Vec<Stop>),
    /// `stop_all(...)` / `a & b`: all say stop. An empty list always stops.
    All(Vec<Stop>),
}

/// What Tenacity's `RetryCallState` offers a stop strategy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StopState {
    /// The attempt that just failed (1-based).
    pub attempt: u32,
    /// Seconds since the first attempt started (`seconds_since_start`).
    pub elapsed: f64,
    /// The wait just computed for the next attempt (`upcoming_sleep`).
    pub upcoming_sleep: f64,
}

impl Stop {
    pub fn should_stop(&self, s: &StopState) -> bool {
        match self {
            Stop::AfterAttempt(n) => s.attempt >= *n,
            Stop::AfterDelay(d) => s.elapsed >= d.0,
            Stop::BeforeDelay(d) => s.elapsed + s.upcoming_sleep >= d.0,
            Stop::Any(list) => list.iter().any(|x| x.should_stop(s)),
            Stop::All(list) => list.iter().all(|x| x.should_stop(s)),
        }
    }

    /// The most attempts this stop allows, when it is bounded by attempt count alone.
    pub fn max_attempts(&self) -> Option<u32> {
        match self {
            Stop::AfterAttempt(n) => Some((*n).max(1)),
            Stop::AfterDelay(_) | Stop::BeforeDelay(_) => None,
            Stop::Any(list) => list.iter().filter_map(Stop::max_attempts).min(),
            Stop::All(list) => {
                if list.is_empty() {
                    Some(1)
                } else {
                    list.iter()
                        .map(Stop::max_attempts)
                        .collect::<Option<Vec<_>>>()?
                        .into_iter()
                        .max()
                }
            }
        }
    }

    /// Tenacity-like text: `stop_after_attempt(3) | stop_after_delay(30)`.
    pub fn describe(&self) -> String {
        match self {
            Stop::AfterAttempt(n) => format!("stop_after_attempt({n})"),
            Stop::AfterDelay(d) => format!("stop_after_delay({})", d.human()),
            Stop::BeforeDelay(d) => format!("stop_before_delay({})", d.human()),
            Stop::Any(l) => join(l, " | "),
            Stop::All(l) => join(l, " & "),
        }
    }

    /// Why this stop decided as it did, in words.
    pub fn explain(&self, s: &StopState) -> String {
        match self {
            Stop::AfterAttempt(n) => format!("attempt {} of {n}", s.attempt),
            Stop::AfterDelay(d) => format!("{} elapsed of {}", Secs(s.elapsed).human(), d.human()),
            Stop::BeforeDelay(d) => format!(
                "{} elapsed + {} wait vs {}",
                Secs(s.elapsed).human(),
                Secs(s.upcoming_sleep).human(),
                d.human()
            ),
            Stop::Any(l) | Stop::All(l) => l
                .iter()
                .map(|x| x.explain(s))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

fn join(list: &[Stop], sep: &str) -> String {
    if list.is_empty() {
        return "(none)".into();
    }
    let parts: Vec<String> = list
        .iter()
        .map(|s| match s {
            Stop::Any(_) | Stop::All(_) => format!("({})", s.describe()),
            _ => s.describe(),
        })
        .collect();
    parts.join(sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(attempt: u32, elapsed: f64, upcoming: f64) -> StopState {
        StopState {
            attempt,
            elapsed,
            upcoming_sleep: upcoming,
        }
    }

    #[test]
    fn after_attempt_stops_at_n() {
        let s = Stop::AfterAttempt(3);
        assert!(!s.should_stop(&st(1, 0.0, 0.0)));
        assert!(!s.should_stop(&st(2, 0.0, 0.0)));
        assert!(s.should_stop(&st(3, 0.0, 0.0)));
        assert!(s.should_stop(&st(4, 0.0, 0.0)));
        // n = 1 and n = 0 both stop after the first attempt, as in Tenacity.
        assert!(Stop::AfterAttempt(1).should_stop(&st(1, 0.0, 0.0)));
        assert!(Stop::AfterAttempt(0).should_stop(&st(1, 0.0, 0.0)));
    }

    #[test]
    fn after_delay_compares_elapsed_inclusively() {
        let s = Stop::AfterDelay(Secs(10.0));
        assert!(!s.should_stop(&st(5, 9.999, 100.0)));
        assert!(s.should_stop(&st(5, 10.0, 0.0)));
        assert!(s.should_stop(&st(1, 11.0, 0.0)));
    }

    #[test]
    fn before_delay_counts_the_upcoming_wait() {
        let s = Stop::BeforeDelay(Secs(10.0));
        assert!(!s.should_stop(&st(2, 5.0, 4.0)));
        assert!(s.should_stop(&st(2, 5.0, 5.0)));
        assert!(s.should_stop(&st(2, 6.0, 4.0)));
    }

    #[test]
    fn any_and_all_combine() {
        let any = Stop::Any(vec![Stop::AfterAttempt(5), Stop::AfterDelay(Secs(10.0))]);
        assert!(!any.should_stop(&st(2, 1.0, 0.0)));
        assert!(any.should_stop(&st(5, 1.0, 0.0)));
        assert!(any.should_stop(&st(2, 10.0, 0.0)));
        let all = Stop::All(vec![Stop::AfterAttempt(5), Stop::AfterDelay(Secs(10.0))]);
        assert!(!all.should_stop(&st(5, 1.0, 0.0)));
        assert!(!all.should_stop(&st(2, 10.0, 0.0)));
        assert!(all.should_stop(&st(5, 10.0, 0.0)));
        // Python's any([]) is False and all([]) is True.
        assert!(!Stop::Any(vec![]).should_stop(&st(99, 1e9, 0.0)));
        assert!(Stop::All(vec![]).should_stop(&st(1, 0.0, 0.0)));
    }

    #[test]
    fn max_attempts_bounds() {
        assert_eq!(Stop::AfterAttempt(3).max_attempts(), Some(3));
        assert_eq!(Stop::AfterDelay(Secs(1.0)).max_attempts(), None);
        let any = Stop::Any(vec![Stop::AfterAttempt(5), Stop::AfterDelay(Secs(10.0))]);
        assert_eq!(any.max_attempts(), Some(5));
        let all = Stop::All(vec![Stop::AfterAttempt(5), Stop::AfterDelay(Secs(10.0))]);
        assert_eq!(all.max_attempts(), None);
        let all2 = Stop::All(vec![Stop::AfterAttempt(5), Stop::AfterAttempt(7)]);
        assert_eq!(all2.max_attempts(), Some(7));
    }

    #[test]
    fn parses_from_toml_and_describes() {
        #[derive(Deserialize)]
        struct T {
            stop: Stop,
        }
        let t: T =
            toml::from_str("stop = { any = [{ after_attempt = 3 }, { after_delay = \"30s\" }] }")
                .unwrap();
        assert_eq!(
            t.stop.describe(),
            "stop_after_attempt(3) | stop_after_delay(30 s)"
        );
        assert!(toml::from_str::<T>("stop = { after_attempts = 3 }").is_err());
    }
}
