//! retrylab: a terminal playground for LLM call resilience.
//!
//! Data flows one way: scenario → engine → events → (TUI | printer | trace).
//!
//! The public surface is what embedding the engine needs: load a scenario (`scenario`), run
//! it (`engine::run` with a `config::Config`, on a `clock::Clock`), read its events
//! (`event`, `error`), and the pure policy (`policy`); `cli` is the binary's. Everything else
//! is crate-private, and public only to this crate's own tests and benches through the
//! `test-util` feature (Cargo.toml's dev-dependency on the crate itself turns it on).

pub mod cli;
pub mod clock;
pub mod config;
pub mod engine;
pub mod error;
pub mod event;
pub mod policy;
pub mod scenario;

#[cfg(feature = "test-util")]
pub mod cost;
#[cfg(not(feature = "test-util"))]
pub(crate) mod cost;
#[cfg(feature = "test-util")]
pub mod dirs;
#[cfg(not(feature = "test-util"))]
pub(crate) mod dirs;
#[cfg(feature = "test-util")]
pub mod export;
#[cfg(not(feature = "test-util"))]
pub(crate) mod export;
#[cfg(feature = "test-util")]
pub mod history;
#[cfg(not(feature = "test-util"))]
pub(crate) mod history;
#[cfg(feature = "test-util")]
pub mod lab;
#[cfg(not(feature = "test-util"))]
pub(crate) mod lab;
#[cfg(feature = "test-util")]
pub mod provider;
#[cfg(not(feature = "test-util"))]
pub(crate) mod provider;
#[cfg(feature = "test-util")]
pub mod pyimport;
#[cfg(not(feature = "test-util"))]
pub(crate) mod pyimport;
#[cfg(feature = "test-util")]
pub mod sim;
#[cfg(not(feature = "test-util"))]
pub(crate) mod sim;
#[cfg(feature = "test-util")]
pub mod tools;
#[cfg(not(feature = "test-util"))]
pub(crate) mod tools;
#[cfg(feature = "test-util")]
pub mod trace;
#[cfg(not(feature = "test-util"))]
pub(crate) mod trace;
#[cfg(feature = "test-util")]
pub mod tui;
#[cfg(not(feature = "test-util"))]
pub(crate) mod tui;
#[cfg(feature = "test-util")]
pub mod units;
#[cfg(not(feature = "test-util"))]
pub(crate) mod units;
#[cfg(feature = "test-util")]
pub mod validate;
#[cfg(not(feature = "test-util"))]
pub(crate) mod validate;
#[cfg(feature = "test-util")]
pub mod whatif;
#[cfg(not(feature = "test-util"))]
pub(crate) mod whatif;
#[cfg(feature = "test-util")]
pub mod words;
#[cfg(not(feature = "test-util"))]
pub(crate) mod words;

#[cfg(test)]
mod architecture;

pub use error::{CallError, ErrorKind};
pub use event::{Event, TimedEvent};
