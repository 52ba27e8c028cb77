//! The scenario file: serde types, loading with line/column errors, prompt rendering,
//! built-in scenarios.

pub mod builtin;
pub mod load;
pub mod render;
pub mod types;

pub use types::*;
