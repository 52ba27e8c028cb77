//! Scenario loading, validation and policy tests, with their robustness runs.

mod support;

#[path = "scenario/import_mapping.rs"]
mod import_mapping;
#[path = "scenario/robustness_policy.rs"]
mod robustness_policy;
#[path = "scenario/robustness_scenario.rs"]
mod robustness_scenario;
#[path = "scenario/robustness_validate.rs"]
mod robustness_validate;
#[path = "scenario/scenario_errors.rs"]
mod scenario_errors;
