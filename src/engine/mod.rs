//! Runs a scenario: asks the policy what to do next, calls providers, validates, emits events.

mod attempt;
mod control;
pub mod endpoints;
mod hop;
mod prepare;
mod resume;
pub mod run;
pub mod sink;
