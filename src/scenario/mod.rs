//! The scenario file: serde types, loading with line/column errors, prompt rendering,
//! built-in scenarios, bounded reading of user files.

pub mod builtin;
pub mod load;
pub mod plan;
pub mod render;
pub mod saved;
pub mod sdk;
pub mod types;
pub mod userfile;

pub use types::*;
