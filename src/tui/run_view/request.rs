//! A request body as the run view keeps it.

/// A request body kept as its compact JSON text: a parsed `serde_json::Value` costs several
/// times that (a B-tree node per object), and a run that retries without end keeps one per
/// attempt. A retry that sends the same body shares the text. The Inspector parses the
/// selected one when it draws.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestJson(pub(super) std::sync::Arc<str>);

impl RequestJson {
    #[cfg(any(test, feature = "test-util"))]
    pub fn new(v: &serde_json::Value) -> Self {
        RequestJson(v.to_string().into())
    }

    /// `v`'s text, sharing `prev`'s allocation when it is the same.
    pub fn new_like(v: &serde_json::Value, prev: Option<&RequestJson>) -> Self {
        let text = v.to_string();
        match prev {
            Some(p) if *p.0 == *text => p.clone(),
            _ => RequestJson(text.into()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    #[cfg(any(test, feature = "test-util"))]
    /// The body as JSON (`Null` if the text does not parse back, e.g. past serde's depth).
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(&self.0).unwrap_or(serde_json::Value::Null)
    }
}

impl std::fmt::Display for RequestJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
