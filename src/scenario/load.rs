//! Loading scenario files with line/column errors and fix hints.

use super::types::Scenario;
use serde::Deserialize;

/// A scenario error at a place in its file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{origin}:{line}:{column}: {message}\n  hint: {hint}")]
pub struct ScenarioError {
    pub origin: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: String,
}

/// TOML + serde + semantic checks.
pub fn parse(source: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    Scenario::deserialize(toml::de::Deserializer::parse(source).map_err(|e| err(origin, e))?)
        .map_err(|e| err(origin, e))
}

fn err(origin: &str, e: toml::de::Error) -> ScenarioError {
    ScenarioError {
        origin: origin.to_string(),
        line: 1,
        column: 1,
        message: e.message().to_string(),
        hint: String::new(),
    }
}

/// Reads and parses a file; returns the scenario and its source text.
pub fn load_path(path: &std::path::Path) -> Result<(Scenario, String), ScenarioError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        origin: origin.clone(),
        line: 0,
        column: 0,
        message: format!("cannot read the scenario: {e}"),
        hint: "check the path".into(),
    })?;
    let s = parse(&text, &origin)?;
    Ok((s, text))
}

/// Parses `k=v` from `--var`.
pub fn parse_var(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{arg}` is not k=v")),
    }
}

/// Overrides `prompt.vars` (as strings).
pub fn apply_vars(scenario: &mut Scenario, vars: &[(String, String)]) {
    for (k, v) in vars {
        scenario
            .prompt
            .vars
            .insert(k.clone(), toml::Value::String(v.clone()));
    }
}
