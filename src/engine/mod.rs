//! Runs a scenario: asks the policy what to do next, calls providers, validates, emits events.

mod attempt;
mod control;
mod discrete_run;
pub mod endpoints;
mod hedge;
mod hop;
mod limits;
mod prepare;
mod results;
mod resume;
pub mod run;
mod sdk_layer;
pub mod shared;
pub mod sink;
