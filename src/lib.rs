//! retrylab: a terminal playground for LLM call resilience.
//!
//! Data flows one way: scenario → engine → events → (TUI | printer | trace).

pub mod engine;
pub mod error;
pub mod event;
pub mod policy;
pub mod provider;
pub mod scenario;

pub use error::{CallError, ErrorKind};
pub use event::{Event, TimedEvent};
