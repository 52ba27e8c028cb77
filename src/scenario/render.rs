//! Prompt rendering (minijinja, strict undefined).

use super::load::ScenarioError;
use super::types::Scenario;

/// The rendered prompt of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedPrompt {
    pub system: Option<String>,
    pub user: String,
}

/// Renders the template (and system) with the scenario's vars and `errors`.
pub fn render(scenario: &Scenario, _errors: &[String]) -> Result<RenderedPrompt, ScenarioError> {
    Ok(RenderedPrompt {
        system: None,
        user: scenario.prompt.template.get_ref().clone(),
    })
}
