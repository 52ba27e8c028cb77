//! Runs a scenario: asks the policy what to do next, calls providers, validates, emits events.

pub mod endpoints;
pub mod run;
pub mod sink;
