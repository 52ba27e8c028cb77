//! Built-in scenarios: the six examples of the Mirascope retries page, then more demos.
//! Embedded from assets/scenarios/ so the binary runs them by name, offline.

#[cfg(test)]
use super::load::parse;
use super::load::{ScenarioError, load_path_with_vars, parse_with_vars};
use super::saved;
use super::types::Scenario;
use std::path::{Path, PathBuf};

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
    builtin!("outage-then-recovery"),
    builtin!("sdk-amplification"),
    builtin!("responses-failed-in-stream"),
    builtin!("azure-content-filter-fallback"),
    builtin!("gemini-retry-delay"),
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

/// SCENARIO as the CLI takes it: an existing path, `builtin:NAME`, a saved scenario's name,
/// else a built-in's name. A saved scenario shadows a built-in of the same name (Ctrl+S on
/// a built-in saves under its name), which stays reachable as `builtin:NAME`.
pub fn resolve(arg: &str) -> Result<Resolved, ScenarioError> {
    resolve_with_vars(arg, &[])
}

/// As [`resolve`], with `--var k=v` overrides applied before the template is checked.
pub fn resolve_with_vars(arg: &str, vars: &[(String, String)]) -> Result<Resolved, ScenarioError> {
    let saved_dir = crate::dirs::scenarios_dir();
    resolve_in(arg, vars, saved_dir.as_deref())
}

/// Where SCENARIO points, before anything is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    File(PathBuf),
    Builtin(&'static Builtin),
}

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "builtin:{}", self.name)
    }
}

impl PartialEq for Builtin {
    fn eq(&self, other: &Builtin) -> bool {
        self.name == other.name
    }
}
impl Eq for Builtin {}

/// The most names a "no such scenario" hint lists.
const HINT_NAMES: usize = 20;

/// SCENARIO resolved to a file or a built-in (see [`resolve`]); `saved_dir` is the saved
/// scenarios' folder. The error names what was looked for, with a did-you-mean.
pub fn locate(arg: &str, saved_dir: Option<&Path>) -> Result<Located, ScenarioError> {
    let path = Path::new(arg);
    if path.is_file() {
        return Ok(Located::File(path.to_path_buf()));
    }
    if let Some(name) = arg.strip_prefix("builtin:") {
        if let Some(b) = find(name) {
            return Ok(Located::Builtin(b));
        }
    } else {
        if let Some(s) = saved_dir.and_then(|d| saved::find_in(d, arg)) {
            return Ok(Located::File(s.path));
        }
        if let Some(b) = find(arg) {
            return Ok(Located::Builtin(b));
        }
    }
    // Something that is not a file (a folder, a FIFO): the reader says what it is.
    if path.exists() {
        return Ok(Located::File(path.to_path_buf()));
    }
    let wanted = arg.strip_prefix("builtin:").unwrap_or(arg);
    let saved: Vec<String> = saved_dir
        .map(saved::list_in)
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.name)
        .collect();
    let names: Vec<&str> = ALL
        .iter()
        .map(|b| b.name)
        .chain(saved.iter().map(String::as_str))
        .collect();
    let close = names
        .iter()
        .map(|n| (strsim::jaro_winkler(n, wanted), *n))
        .filter(|(s, _)| *s > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let hint = match close {
        Some((_, n)) => {
            format!("did you mean `{n}`? `retrylab scenarios` lists the built-ins and saved ones")
        }
        None => {
            let shown = names.iter().take(HINT_NAMES).copied().collect::<Vec<_>>();
            let more = names.len().saturating_sub(HINT_NAMES);
            let more = if more > 0 {
                format!(" and {more} more (`retrylab scenarios`)")
            } else {
                String::new()
            };
            format!(
                "give a path to a .toml file or one of: {}{more}",
                shown.join(", ")
            )
        }
    };
    let message = if arg.starts_with("builtin:") {
        format!("no built-in scenario named `{wanted}`")
    } else if saved_dir.is_some() {
        format!("no such file, and no built-in or saved scenario named `{arg}`")
    } else {
        format!("no such file, and no built-in scenario named `{arg}`")
    };
    Err(ScenarioError {
        origin: arg.to_string(),
        line: 0,
        column: 0,
        message,
        hint,
    })
}

fn resolve_in(
    arg: &str,
    vars: &[(String, String)],
    saved_dir: Option<&Path>,
) -> Result<Resolved, ScenarioError> {
    match locate(arg, saved_dir)? {
        Located::File(path) => {
            let (scenario, source) = load_path_with_vars(&path, vars)?;
            Ok(Resolved {
                scenario,
                source,
                origin: path.display().to_string(),
            })
        }
        Located::Builtin(b) => {
            let origin = format!("builtin:{}", b.name);
            let scenario = parse_with_vars(b.source, &origin, vars)?;
            Ok(Resolved {
                scenario,
                source: b.source.to_string(),
                origin,
            })
        }
    }
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
        // Never the developer's own saved scenarios.
        let resolve = |arg: &str| locate(arg, None);
        let e = resolve("fallback-with-retry").unwrap_err();
        assert!(
            e.hint.contains("did you mean `fallback-with-retries`"),
            "{e}"
        );
        let e = resolve("zzz").unwrap_err();
        assert!(e.hint.contains("basic-retry"), "{e}");
    }

    #[test]
    fn saved_names_resolve_and_shadow_builtins() {
        let dir = tempfile::tempdir().unwrap();
        let mine = dir.path().join("basic-retry.toml");
        std::fs::write(&mine, "x").unwrap();
        std::fs::write(dir.path().join("my-policy.toml"), "x").unwrap();
        let d = Some(dir.path());
        assert_eq!(
            locate("my-policy", d).unwrap(),
            Located::File(dir.path().join("my-policy.toml"))
        );
        // The saved copy wins over the built-in of the same name; builtin: reaches the built-in.
        assert_eq!(locate("basic-retry", d).unwrap(), Located::File(mine));
        assert_eq!(
            locate("builtin:basic-retry", d).unwrap(),
            Located::Builtin(find("basic-retry").unwrap())
        );
        assert_eq!(
            locate("fallback", d).unwrap(),
            Located::Builtin(find("fallback").unwrap())
        );
        let e = locate("my-polcy", d).unwrap_err();
        assert_eq!(
            e.message,
            "no such file, and no built-in or saved scenario named `my-polcy`"
        );
        assert!(e.hint.contains("did you mean `my-policy`?"), "{e}");
        let e = locate("builtin:my-policy", d).unwrap_err();
        assert_eq!(e.message, "no built-in scenario named `my-policy`");
        assert!(
            locate("../my-policy", d).is_err(),
            "a saved name never climbs out of the folder"
        );
    }
}
