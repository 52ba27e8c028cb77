//! retrylab: a terminal playground for LLM call resilience.
//!
//! Data flows one way: scenario → engine → events → (TUI | printer | trace).

pub mod cli;
pub mod clock;
pub mod config;
pub mod cost;
pub mod dirs;
pub mod engine;
pub mod error;
pub mod event;
pub mod history;
pub mod lab;
pub mod policy;
pub mod provider;
pub mod scenario;
pub mod sim;
pub mod tools;
pub mod trace;
pub mod tui;
pub mod units;
pub mod validate;
pub mod words;

#[cfg(test)]
mod architecture;

pub use error::{CallError, ErrorKind};
pub use event::{Event, TimedEvent};
