//! The lab's fault model: `--faults FILE` (a file holding a `[sim]` table, or a built-in
//! preset's name), else the first scenario's `[sim]`; checked against every policy with the
//! scenario loader's own checks, then for what only a lab can get wrong: entries that
//! contradict each other, and a model under which no call could ever succeed.

use super::LabError;
use super::presets;
use crate::scenario::load::checks::{self, Where};
use crate::scenario::load::locate::line_col;
use crate::scenario::types::{FaultKind, ProviderKind, Scenario, SimSpec};
use serde::Deserialize;
use std::path::Path;

/// A faults file: only its `[sim]` table counts (a whole scenario file works too).
#[derive(Deserialize)]
struct FaultsFile {
    #[serde(default)]
    sim: Option<SimSpec>,
}

/// The fault model `arg` names (a preset, else a path), and where it came from.
pub fn load(arg: &str) -> Result<(SimSpec, String), LabError> {
    let (text, origin) = match presets::find(arg) {
        Some(p) if !Path::new(arg).exists() => (p.source.to_string(), format!("preset {}", p.name)),
        _ => match std::fs::read_to_string(arg) {
            Ok(t) => (t, arg.to_string()),
            Err(e) => {
                return Err(LabError::new(
                    format!("--faults {arg}: cannot read it ({e})"),
                    format!(
                        "give a file holding a [sim] table, or a preset: {}",
                        presets::names()
                    ),
                ));
            }
        },
    };
    parse(&text, &origin).map(|sim| (sim, origin))
}

/// A faults file's `[sim]`, with the position of any type error in it.
pub fn parse(text: &str, origin: &str) -> Result<SimSpec, LabError> {
    let file: FaultsFile = toml::from_str(text).map_err(|e| {
        let (line, col) = line_col(text, e.span().map_or(0, |s| s.start));
        LabError::new(
            format!("{origin}:{line}:{col}: {}", e.message().trim()),
            "the keys of [sim] are those of a scenario's [sim] (DESIGN §2, §11)",
        )
    })?;
    file.sim.ok_or_else(|| {
        LabError::new(
            format!("--faults {origin} has no [sim] table"),
            format!(
                "put the faults under [sim] (e.g. [sim] chaos = {{ server_error = 0.3 }}), or name a preset: {}",
                presets::names()
            ),
        )
    })
}

/// Runs the scenario loader's checks on `policy` with `sim` as its faults (an outage for a
/// provider the policy never calls, `rpm = 0`, a bad distribution ...).
pub fn check_with(policy: &Scenario, sim: &SimSpec, origin: &str) -> Result<(), LabError> {
    let mut s = policy.clone();
    s.sim = sim.clone();
    checks::check(&s).map_err(|p| {
        let place = match &p.at {
            Where::Path(path) => format!(" at {path}"),
            _ => String::new(),
        };
        LabError::new(
            format!(
                "faults from {origin}{place}, for scenario `{}`: {}",
                policy.name, p.message
            ),
            p.hint,
        )
    })
}

/// Entries that contradict each other: chaos rates adding up to more than 1, or two
/// outages of the same provider and model overlapping with different faults.
pub fn check_conflicts(sim: &SimSpec, origin: &str) -> Result<(), LabError> {
    let total: f64 = sim.chaos.values().sum();
    if total > 1.0 + 1e-9 {
        return Err(LabError::new(
            format!(
                "faults from {origin}: the chaos rates add up to {total} (more than 1): each request draws at most one fault"
            ),
            "lower the rates so they add up to at most 1",
        ));
    }
    for (i, a) in sim.outages.iter().enumerate() {
        for b in &sim.outages[..i] {
            let same_target = a.provider == b.provider
                && (a.model.is_none() || b.model.is_none() || a.model == b.model);
            let overlap = a.from.0 < b.to.0 && b.from.0 < a.to.0;
            if same_target && overlap && a.fault != b.fault {
                return Err(LabError::new(
                    format!(
                        "faults from {origin}: two outages of {} overlap with different faults ({:?} and {:?})",
                        a.provider, b.fault, a.fault
                    ),
                    "make the windows disjoint, or give them the same fault",
                ));
            }
        }
    }
    Ok(())
}

/// Why no call of any policy could ever succeed under `sim` within the lab's per-call cap
/// on run time (`horizon_s`), or `None`. Every hop of every policy must be doomed.
pub fn never_succeeds(policies: &[&Scenario], sim: &SimSpec, horizon_s: f64) -> Option<String> {
    // Only faults that always fail the request: a slow first byte still answers, and a cut,
    // empty or filtered answer passes a policy without validators.
    let may_answer = [
        FaultKind::SlowFirstByte,
        FaultKind::Length,
        FaultKind::Empty,
        FaultKind::ContentFilter,
    ];
    let chaos: f64 = sim
        .chaos
        .iter()
        .filter(|(k, _)| !may_answer.contains(k))
        .map(|(_, p)| p)
        .sum();
    if chaos >= 1.0 - 1e-9 {
        return Some(format!(
            "the chaos rates of failing faults add up to {chaos}: every request fails"
        ));
    }
    let doomed = |p: ProviderKind, model: &str| {
        // Windows joined from t = 0: a target is down for good if they reach the horizon.
        let mut windows: Vec<(f64, f64)> = sim
            .outages
            .iter()
            .filter(|o| o.provider == p && o.model.as_deref().is_none_or(|m| m == model))
            .map(|o| (o.from.0, o.to.0))
            .collect();
        windows.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut reached = 0.0;
        for (from, to) in windows {
            if from > reached {
                break;
            }
            reached = f64::max(reached, to);
        }
        reached >= horizon_s
    };
    let all = policies
        .iter()
        .all(|s| super::targets(s).iter().all(|(p, m)| doomed(*p, m)));
    all.then(|| {
        format!(
            "every provider the policies call is in an outage from 0 s past the lab's per-call cap of {}",
            crate::policy::Secs(horizon_s).human()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_faults_that_always_fail_make_a_model_hopeless() {
        let scenario = crate::scenario::load::parse(
            crate::scenario::builtin::find("basic-retry")
                .unwrap()
                .source,
            "basic-retry",
        )
        .unwrap();
        let mut sim = SimSpec::default();
        sim.chaos.insert(FaultKind::SlowFirstByte, 1.0);
        assert_eq!(
            never_succeeds(&[&scenario], &sim, 3600.0),
            None,
            "slow, but it answers"
        );
        sim.chaos.clear();
        sim.chaos.insert(FaultKind::ServerError, 0.6);
        sim.chaos.insert(FaultKind::RateLimit, 0.4);
        let why = never_succeeds(&[&scenario], &sim, 3600.0).unwrap();
        assert!(why.contains("every request fails"), "{why}");
    }
}
