//! Built-in scenarios: the six examples of the Mirascope retries page, then more demos.
//! Embedded from assets/scenarios/ so the binary runs them by name, offline.

#[cfg(test)]
use super::load::parse;
use super::load::{ScenarioError, load_path_with_vars, parse_with_vars};
use super::types::Scenario;
use std::path::Path;

pub struct Builtin {
    pub name: &'static str,
    pub source: &'static str,
}

macro_rules! builtin {
    ($name:literal) => {
        Builtin {
            name: $name,
            source: include_str!(concat!("../../assets/scenarios/", $name, ".toml")),
        }
    };
}

static ALL: &[Builtin] = &[
    builtin!("basic-retry"),
    builtin!("stream-retry"),
    builtin!("tool-retry"),
    builtin!("error-reinsertion"),
    builtin!("fallback"),
    builtin!("fallback-with-retries"),
    builtin!("retry-after-wins"),
    builtin!("overloaded-in-stream"),
    builtin!("timeout-then-fallback"),
    builtin!("every-hop-fails"),
    builtin!("chaos"),
    builtin!("json-reask"),
];

/// The scenario the playground opens with.
pub const DEFAULT: &str = "fallback-with-retries";

pub fn all() -> &'static [Builtin] {
    ALL
}

pub fn find(name: &str) -> Option<&'static Builtin> {
    ALL.iter().find(|b| b.name == name)
}

/// A loaded scenario and where it came from.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub scenario: Scenario,
    pub source: String,
    /// The path, or `builtin:NAME`.
    pub origin: String,
}

/// SCENARIO as the CLI takes it: an existing path, else a built-in name.
pub fn resolve(arg: &str) -> Result<Resolved, ScenarioError> {
    resolve_with_vars(arg, &[])
}

/// As [`resolve`], with `--var k=v` overrides applied before the template is checked.
pub fn resolve_with_vars(arg: &str, vars: &[(String, String)]) -> Result<Resolved, ScenarioError> {
    let path = Path::new(arg);
    if path.exists() {
        let (scenario, source) = load_path_with_vars(path, vars)?;
        return Ok(Resolved {
            scenario,
            source,
            origin: arg.to_string(),
        });
    }
    if let Some(b) = find(arg) {
        let origin = format!("builtin:{}", b.name);
        let scenario = parse_with_vars(b.source, &origin, vars)?;
        return Ok(Resolved {
            scenario,
            source: b.source.to_string(),
            origin,
        });
    }
    let names: Vec<&str> = ALL.iter().map(|b| b.name).collect();
    let close = names
        .iter()
        .map(|n| (strsim::jaro_winkler(n, arg), *n))
        .filter(|(s, _)| *s > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let hint = match close {
        Some((_, n)) => format!("did you mean `{n}`? `retrylab scenarios` lists the built-ins"),
        None => format!(
            "give a path to a .toml file or one of: {}",
            names.join(", ")
        ),
    };
    Err(ScenarioError {
        origin: arg.to_string(),
        line: 0,
        column: 0,
        message: format!("no such file, and no built-in scenario named `{arg}`"),
        hint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses() {
        for b in all() {
            if let Err(e) = parse(b.source, b.name) {
                panic!("built-in {} does not parse: {e}", b.name);
            }
        }
        assert!(find(DEFAULT).is_some());
    }

    #[test]
    fn unknown_name_suggests() {
        let e = resolve("fallback-with-retry").unwrap_err();
        assert!(
            e.hint.contains("did you mean `fallback-with-retries`"),
            "{e}"
        );
        let e = resolve("zzz").unwrap_err();
        assert!(e.hint.contains("basic-retry"), "{e}");
    }
}
