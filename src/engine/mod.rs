//! Runs a scenario: asks the policy what to do next, calls providers, validates, emits events.

mod attempt;
pub mod endpoints;
mod prepare;
pub mod run;
pub mod sink;
