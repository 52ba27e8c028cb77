//! What-if on a recorded run (DESIGN §13, contract): the trace's recorded outcomes become a
//! `[sim]` fault script (`script.rs`, `--map index|time`), the new policy runs on it through
//! the engine in sim mode at speed max, and both sides are folded the same way (`side.rs`)
//! for the comparison: attempts, requests, waiting, total time, cost, outcome.
//!
//! - [`recording`]: the trace read back and checked (a line this version cannot read, an
//!   edited or truncated trace, one without attempts: an error naming the line).
//! - [`script`]: the recorded outcomes in the simulator's words.
//! - [`side`]: one side's numbers, from its events.

pub mod recording;
pub mod script;
pub mod side;

pub use recording::{Recording, read};
pub use script::MapMode;
pub use side::Side;

use crate::clock::Speed;
use crate::config::Config;
use crate::engine::run::{RunOptions, event_channel, run};
use crate::event::{Mode, TimedEvent};
use crate::scenario::types::Scenario;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The replay is stopped after this many attempts (a policy that retries forever against a
/// failure that never ends).
pub const CAP_ATTEMPTS: u32 = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum WhatifError {
    #[error("{0}")]
    Trace(String),
    #[error("{path}:{line}: {message}")]
    At {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{0}")]
    Policy(String),
    #[error("the fault script does not load ({0}); a bug of retrylab's, please report it")]
    Script(String),
}

impl WhatifError {
    pub fn at(path: &str, line: usize, message: String) -> WhatifError {
        WhatifError::At {
            path: path.to_string(),
            line,
            message,
        }
    }
}

/// The new policy: its scenario as loaded, and its source (the script is written into it).
pub struct Policy {
    pub label: String,
    pub scenario: Scenario,
    pub source: String,
}

/// Both sides, and the script the new one ran on.
#[derive(Debug, Clone)]
pub struct WhatifReport {
    pub recorded: Side,
    pub new: Side,
    /// What could not be replayed exactly.
    pub notes: Vec<String>,
    /// The fault script as a scenario file (the new policy with the recorded `[sim]`).
    pub scenario_toml: String,
    pub map: MapMode,
}

/// The new policy with the recorded outcomes as its `[sim]`: the file's text and the scenario
/// it loads as (through the same loader and checks as any scenario file).
pub fn script_scenario(
    rec: &Recording,
    map: MapMode,
    policy: &Policy,
) -> Result<(String, Scenario, Vec<String>), WhatifError> {
    let script = script::build(rec, map, &policy.scenario);
    let mut doc: toml::Table = policy
        .source
        .parse()
        .map_err(|e: toml::de::Error| WhatifError::Policy(format!("{}: {e}", policy.label)))?;
    doc.insert("sim".into(), toml::Value::Table(script.sim));
    doc.insert(
        "name".into(),
        toml::Value::String(format!(
            "{} (what if, on {})",
            policy.scenario.name, rec.scenario
        )),
    );
    let body = toml::to_string(&doc).map_err(|e| WhatifError::Script(e.to_string()))?;
    let text = format!(
        "# What-if: the run recorded in {} ({}, {} mode) as a fault script (--map {}),\n\
         # under the policy of {}. `retrylab run` replays it; edit [sim] to try more.\n\
         # Each entry's `delay` is the recorded latency, so the pace adds none.\n\n{body}",
        rec.path,
        rec.scenario,
        match rec.mode {
            Mode::Sim => "sim",
            Mode::Live => "live",
        },
        map.as_str(),
        policy.label,
    );
    let scenario = crate::scenario::load::parse(&text, "what-if script")
        .map_err(|e| WhatifError::Script(e.to_string()))?;
    Ok((text, scenario, script.notes))
}

/// Runs `scenario` in sim mode at speed max and folds its events (stopped past
/// [`CAP_ATTEMPTS`], the outcome then `capped`), each event also handed to `on_event` as it
/// comes (the playground folds them into a timeline of its own).
pub async fn replay(
    scenario: Scenario,
    config: Arc<Config>,
    on_event: &mut dyn FnMut(&TimedEvent),
) -> Side {
    let (tx, mut rx) = event_channel();
    let cancel = CancellationToken::new();
    let opts = RunOptions {
        mode: Mode::Sim,
        speed: Speed::Max,
        config,
    };
    let engine = run(Arc::new(scenario), opts, tx, cancel.clone());
    let fold = async {
        let mut side = Side::default();
        let mut capped = false;
        while let Some(ev) = rx.recv().await {
            side.observe(&ev);
            on_event(&ev);
            if side.attempts > CAP_ATTEMPTS && !capped {
                capped = true;
                cancel.cancel();
            }
        }
        if capped {
            side.outcome = "capped".into();
        }
        side
    };
    let (_, side) = futures::join!(engine, fold);
    side
}

/// The whole what-if: script, replay, both sides.
pub async fn whatif(
    rec: &Recording,
    map: MapMode,
    policy: &Policy,
    config: Arc<Config>,
) -> Result<WhatifReport, WhatifError> {
    whatif_observed(rec, map, policy, config, &mut |_| {}).await
}

/// As [`whatif`], the new side's events also handed to `on_event` (for drawing its timeline).
pub async fn whatif_observed(
    rec: &Recording,
    map: MapMode,
    policy: &Policy,
    config: Arc<Config>,
    on_event: &mut dyn FnMut(&TimedEvent),
) -> Result<WhatifReport, WhatifError> {
    let (text, scenario, mut notes) = script_scenario(rec, map, policy)?;
    if rec.mode == Mode::Live {
        notes.push(
            "a live run: the simulator counts its own tokens, so costs are the simulator's estimate of the recorded replies"
                .into(),
        );
    }
    let new = replay(scenario, config, on_event).await;
    Ok(WhatifReport {
        recorded: rec.side.clone(),
        new,
        notes,
        scenario_toml: text,
        map,
    })
}
