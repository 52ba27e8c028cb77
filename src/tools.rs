//! Tool definitions and their execution.

use crate::provider::ToolDef;
use crate::scenario::types::ToolSpec;

/// The compiled tools of a scenario.
#[derive(Debug, Default)]
pub struct Toolbox {
    defs: Vec<ToolDef>,
}

impl Toolbox {
    pub fn compile(_specs: &[ToolSpec]) -> Result<Toolbox, String> {
        Ok(Toolbox::default())
    }

    pub fn defs(&self) -> Vec<ToolDef> {
        self.defs.clone()
    }

    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    pub fn call(&self, name: &str, _args: &str) -> Result<String, String> {
        Err(format!("unknown tool `{name}`"))
    }
}
