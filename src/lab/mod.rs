//! The policy lab (DESIGN §12): N calls per policy through the same engine and policy code
//! as `run`, on the virtual clock at speed max, folded from each call's event stream into
//! flat-memory statistics. Headless: `retrylab lab` prints it (cli/lab.rs); the playground
//! will drive the same [`run_lab`].
//!
//! Layer: above `engine` (it runs calls through `engine::run`), below `cli` and `tui`.

pub mod best;
pub mod faults;
mod lane;
mod load;
pub mod presets;
mod runner;
pub mod seeds;
pub mod stats;
pub mod tally;

#[cfg(any(test, feature = "test-util"))]
pub use runner::one_call_events;
pub use runner::{Progress, run_lab};
pub use stats::PolicyReport;
#[cfg(any(test, feature = "test-util"))]
pub use stats::PolicyStats;
pub use tally::Cap;
#[cfg(any(test, feature = "test-util"))]
pub use tally::{Ending, Tally};

use crate::config::Config;
use crate::scenario::types::{ProviderKind, Scenario, SimSpec};
use std::sync::Arc;

/// The most calls a policy runs (about four minutes of this machine's time).
pub const MAX_CALLS: u64 = 10_000_000;

/// Load mode's bound on callers (each holds a call's state in memory).
pub const MAX_CALLERS: u32 = 100_000;

/// A bad lab setup: one line, and a hint (exit 2 in the CLI).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}\n  hint: {hint}")]
pub struct LabError {
    pub message: String,
    pub hint: String,
}

impl LabError {
    pub fn new(message: impl Into<String>, hint: impl Into<String>) -> LabError {
        LabError {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// When callers start their calls in load mode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arrival {
    /// Every caller at t = 0.
    Burst,
    /// Calls arrive as a Poisson stream of this many per second (run clock).
    Poisson(f64),
}

impl Arrival {
    /// Poisson rates the lab takes (calls per second): slower, the last of 10 million calls
    /// would arrive past any clock; faster is a burst.
    pub const MIN_RATE: f64 = 0.001;
    pub const MAX_RATE: f64 = 1_000_000.0;

    /// `burst` or `poisson:RPS`.
    pub fn parse(text: &str) -> Result<Arrival, String> {
        let t = text.trim();
        if t == "burst" {
            return Ok(Arrival::Burst);
        }
        let Some(rate) = t.strip_prefix("poisson:") else {
            return Err(format!(
                "`{t}` is not an arrival: write burst or poisson:RPS, e.g. poisson:20"
            ));
        };
        match rate.trim().parse::<f64>() {
            Ok(r) if (Self::MIN_RATE..=Self::MAX_RATE).contains(&r) => Ok(Arrival::Poisson(r)),
            _ => Err(format!(
                "`{rate}` is not a rate: write calls per second from {} to {}, e.g. poisson:20",
                Self::MIN_RATE,
                Self::MAX_RATE
            )),
        }
    }

    pub fn label(self) -> String {
        match self {
            Arrival::Burst => "burst".into(),
            Arrival::Poisson(r) => format!("poisson:{r}"),
        }
    }
}

/// One policy under test: a label (its SCENARIO argument) and its scenario.
#[derive(Debug, Clone)]
pub struct Policy {
    pub label: String,
    pub scenario: Arc<Scenario>,
}

/// Everything a lab run needs, checked.
#[derive(Debug, Clone)]
pub struct LabPlan {
    pub policies: Vec<Policy>,
    pub faults: SimSpec,
    /// Where the faults came from (a file, a preset, or the first scenario).
    pub faults_origin: String,
    pub calls: u64,
    pub seed: u64,
    /// `None`: independent calls, each on its own clock from t = 0. `Some(c)`: load mode.
    pub callers: Option<u32>,
    pub arrival: Arrival,
    pub cap: Cap,
    /// Prices (the engine reads no config of its own).
    pub config: Arc<Config>,
}

impl LabPlan {
    /// Checks what can be checked before a call runs: N, callers, every policy with the
    /// faults, conflicting entries, and a model under which nothing could succeed.
    pub fn check(&self) -> Result<(), LabError> {
        if self.calls == 0 {
            return Err(LabError::new(
                "--calls 0: the lab needs at least one call per policy",
                "write e.g. --calls 1000 (the default)",
            ));
        }
        if self.calls > MAX_CALLS {
            return Err(LabError::new(
                format!(
                    "--calls {}: at most {MAX_CALLS} calls per policy",
                    self.calls
                ),
                "100,000 calls already give percentiles within a fraction of a per cent",
            ));
        }
        if self.callers == Some(0) {
            return Err(LabError::new(
                "--callers 0: load mode needs at least one caller",
                "write e.g. --callers 100, or leave --callers out for independent calls",
            ));
        }
        if self.callers.is_some_and(|c| c > MAX_CALLERS) {
            return Err(LabError::new(
                format!("--callers: at most {MAX_CALLERS} callers share one simulator"),
                "write e.g. --callers 1000",
            ));
        }
        if self.policies.is_empty() {
            return Err(LabError::new(
                "no scenario to compare",
                "name one or more scenarios, e.g. retrylab lab basic-retry fallback-with-retries",
            ));
        }
        faults::check_conflicts(&self.faults, &self.faults_origin)?;
        for p in &self.policies {
            faults::check_with(&p.scenario, &self.faults, &self.faults_origin)?;
        }
        let scenarios: Vec<&Scenario> = self.policies.iter().map(|p| p.scenario.as_ref()).collect();
        let horizon = self.cap.run_time_ms as f64 / 1000.0;
        if let Some(why) = faults::never_succeeds(&scenarios, &self.faults, horizon) {
            return Err(LabError::new(
                format!(
                    "the fault model from {} can never succeed: {why}",
                    self.faults_origin
                ),
                "shorten the outage (e.g. to = \"30s\") or lower the rates, so some call can get through",
            ));
        }
        Ok(())
    }
}

/// (provider, model) of each hop of `s` (index 0 = the primary).
pub fn targets(s: &Scenario) -> Vec<(ProviderKind, String)> {
    let mut out = vec![(s.call.provider, s.call.model.clone())];
    if let Some(fb) = &s.fallback {
        out.extend(fb.hops.iter().map(|h| (h.provider, h.model.clone())));
    }
    out
}

/// The lab's result: one report per policy, in the order given.
#[derive(Debug, Clone)]
pub struct LabReport {
    pub policies: Vec<PolicyReport>,
    pub wall: std::time::Duration,
    pub cancelled: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_parse_within_their_bounds() {
        assert_eq!(Arrival::parse(" burst "), Ok(Arrival::Burst));
        assert_eq!(Arrival::parse("poisson:20"), Ok(Arrival::Poisson(20.0)));
        for bad in [
            "poisson:0",
            "poisson:-1",
            "poisson:1e-300",
            "poisson:1e9",
            "poisson:NaN",
            "poisson:",
            "storm",
        ] {
            let e = Arrival::parse(bad).unwrap_err();
            assert!(e.contains("e.g. poisson:20"), "{bad}: {e}");
        }
    }
}
