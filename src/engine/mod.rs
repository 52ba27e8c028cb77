//! Runs a scenario: asks the policy what to do next, calls providers, validates, emits events.

pub mod clock;
pub mod endpoints;
mod redact;
pub mod run;

pub use clock::{Clock, Speed};
