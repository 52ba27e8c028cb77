//! The `[retry]` keys beyond Tenacity (DESIGN §15) that shape a hop's retries: Retry-After
//! jitter and what a Retry-After past `retry_after_max` does, how a broken stream is
//! recovered, and how many reinserted texts are kept. Kept beside [`super::RetryPolicy`]
//! (not in it) so Tenacity's policy keeps its exact shape.

use super::Secs;
use serde::Deserialize;

/// A hop's `[retry]` keys beyond Tenacity; the defaults behave exactly as Tenacity.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RetryExtras {
    /// `retry_after_jitter`: uniform(0, x) added on top of a honoured Retry-After.
    pub retry_after_jitter: Secs,
    pub retry_after_over_max: OverMax,
    pub stream_recovery: StreamRecovery,
    pub reinsert_keep: ReinsertKeep,
}

/// `retry_after_over_max`: when the server's Retry-After exceeds `retry_after_max`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverMax {
    /// Wait `retry_after_max` instead (Tenacity-style, the default).
    #[default]
    Cap,
    /// The hop ends at once with the error itself (no retry_error: retries did not run out).
    Fail,
    /// The hop ends at once and the next fallback hop runs, the error caught whatever the
    /// hop's `catch` says.
    Fallback,
}

impl OverMax {
    pub fn as_str(self) -> &'static str {
        match self {
            OverMax::Cap => "cap",
            OverMax::Fail => "fail",
            OverMax::Fallback => "fallback",
        }
    }
}

/// `stream_recovery`: what follows a streamed attempt that broke after some text arrived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamRecovery {
    /// The next attempt starts over (Mirascope, the default).
    #[default]
    Restart,
    /// The next attempt sends the partial answer back as the start of the reply.
    Continue,
    /// The call ends at once with the partial output and the error.
    Surface,
}

impl StreamRecovery {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamRecovery::Restart => "restart",
            StreamRecovery::Continue => "continue",
            StreamRecovery::Surface => "surface",
        }
    }
}

/// `reinsert_keep`: how many failed attempts' texts the next call carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReinsertKeep {
    /// Every one so far (Mirascope's `collect_errors`, the default).
    #[default]
    All,
    /// Only the latest: `errors` holds one text; reask keeps one failed answer + correction.
    Last,
}

impl ReinsertKeep {
    pub fn as_str(self) -> &'static str {
        match self {
            ReinsertKeep::All => "all",
            ReinsertKeep::Last => "last",
        }
    }
}

impl RetryExtras {
    /// What the plan shows of these keys, one phrase each; nothing when all are defaults.
    pub fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.retry_after_jitter.0 > 0.0 {
            out.push(format!(
                "Retry-After + jitter 0–{}",
                self.retry_after_jitter.human()
            ));
        }
        match self.retry_after_over_max {
            OverMax::Cap => {}
            OverMax::Fail => out.push("Retry-After over max: fail".into()),
            OverMax::Fallback => out.push("Retry-After over max: next hop".into()),
        }
        match self.stream_recovery {
            StreamRecovery::Restart => {}
            StreamRecovery::Continue => out.push("broken stream: continue".into()),
            StreamRecovery::Surface => out.push("broken stream: surface partial".into()),
        }
        if self.reinsert_keep == ReinsertKeep::Last {
            out.push("reinsert: last only".into());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_tenacitys_and_say_nothing() {
        let d = RetryExtras::default();
        assert_eq!(d.retry_after_jitter, Secs::ZERO);
        assert_eq!(d.retry_after_over_max, OverMax::Cap);
        assert_eq!(d.stream_recovery, StreamRecovery::Restart);
        assert_eq!(d.reinsert_keep, ReinsertKeep::All);
        assert!(d.notes().is_empty());
    }

    #[test]
    fn notes_name_each_key_set() {
        let e = RetryExtras {
            retry_after_jitter: Secs(0.5),
            retry_after_over_max: OverMax::Fallback,
            stream_recovery: StreamRecovery::Continue,
            reinsert_keep: ReinsertKeep::Last,
        };
        assert_eq!(
            e.notes(),
            vec![
                "Retry-After + jitter 0–500 ms",
                "Retry-After over max: next hop",
                "broken stream: continue",
                "reinsert: last only"
            ]
        );
    }
}
