//! Runs a scenario: asks the policy what to do next, calls providers, validates, emits events.

pub mod clock;

pub use clock::{Clock, Speed};
