//! Loading scenario files: TOML syntax, then serde (the types in `types.rs`), then semantic
//! checks. Every error names `origin:line:column` (1-based) and gives a one-line fix hint.
//!
//! Positions come from toml's error spans, from the `Spanned` fields of the types, and for
//! everything else from toml's spanned document tree: a semantic error names its key path
//! (`sim.faults[2].times`) and the loader looks that value up in the tree (see
//! [`locate`]); template errors are the template's first line plus the line inside it.

mod across;
mod azure;
mod beyond;
pub(crate) mod checks;
pub use sdk_hedge::MAX_SDK_RETRIES;
mod explain;
mod limits;
pub mod locate;
mod sdk_hedge;
mod time_faults;

use super::render::to_file_error;
use super::types::Scenario;
use super::userfile::{MAX_USER_FILE, read_user_file};
use checks::Where;
use locate::{line_col, path_at, span_of};
use serde::Deserialize;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;
use toml::de::DeTable;

/// A scenario error at a place in its file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{origin}:{line}:{column}: {message}\n  hint: {hint}")]
pub struct ScenarioError {
    /// The file path, or the built-in scenario's name.
    pub origin: String,
    /// 1-based; 0 when there is no position (the file could not be read).
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: String,
}

/// TOML + serde (types.rs) + semantic checks; `origin` names the file (or built-in name) in
/// errors.
pub fn parse(source: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    parse_with_vars(source, origin, &[])
}

/// Like [`parse`], with `--var` overrides applied before the semantic checks, so a variable
/// the file lacks but the command line gives is not an error.
pub fn parse_with_vars(
    source: &str,
    origin: &str,
    vars: &[(String, String)],
) -> Result<Scenario, ScenarioError> {
    let at = |span: Range<usize>, (message, hint): (String, String)| {
        let (line, column) = line_col(source, span.start);
        ScenarioError {
            origin: origin.to_string(),
            line,
            column,
            message,
            hint,
        }
    };
    let doc: Spanned<DeTable<'_>> = DeTable::parse(source)
        .map_err(|e| at(e.span().unwrap_or(0..0), explain::syntax(e.message())))?;
    let mut scenario =
        Scenario::deserialize(toml::de::Deserializer::from(doc.clone())).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let (path, on_key) = path_at(&doc, &span);
            at(span, explain::serde(e.message(), &path, on_key))
        })?;
    apply_vars(&mut scenario, vars);
    check_vars_used(&scenario, vars).map_err(|(message, hint)| ScenarioError {
        origin: origin.to_string(),
        line: 0,
        column: 0,
        message,
        hint,
    })?;
    checks::check(&scenario).map_err(|problem| match problem.at {
        Where::Path(path) => at(span_of(&doc, &path), (problem.message, problem.hint)),
        Where::Span(span) => at(span, (problem.message, problem.hint)),
        Where::Template(failure) => to_file_error(failure, &scenario, source, origin),
    })?;
    Ok(scenario)
}

/// Reads and parses a file: (scenario, source text). I/O errors have line 0.
pub fn load_path(path: &Path) -> Result<(Scenario, String), ScenarioError> {
    load_path_with_vars(path, &[])
}

/// [`load_path`] with `--var` overrides (see [`parse_with_vars`]).
pub fn load_path_with_vars(
    path: &Path,
    vars: &[(String, String)],
) -> Result<(Scenario, String), ScenarioError> {
    let origin = path.display().to_string();
    let text = read_user_file(path, MAX_USER_FILE).map_err(|e| ScenarioError {
        origin: origin.clone(),
        line: 0,
        column: 0,
        message: format!("cannot read the scenario: {e}"),
        hint: "check the path, or run `retrylab scenarios` for the built-in names".into(),
    })?;
    let scenario = parse_with_vars(&text, &origin, vars)?;
    Ok((scenario, text))
}

/// `k=v` from `--var`; the key must be a template variable name.
pub fn parse_var(arg: &str) -> Result<(String, String), String> {
    let Some((key, value)) = arg.split_once('=') else {
        return Err(format!(
            "`--var {arg}` is not k=v; write e.g. --var question=\"Why?\""
        ));
    };
    let key = key.trim();
    let ok = key
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !ok {
        return Err(format!(
            "`{key}` is not a variable name (letters, digits and _, not starting with a digit)"
        ));
    }
    if key == "errors" {
        return Err("`errors` is reserved: it holds the reinserted error texts".into());
    }
    Ok((key.to_string(), value.to_string()))
}

/// A `--var` the prompt never reads is a typo or a stale script: say so, with the closest
/// name it does read.
fn check_vars_used(scenario: &Scenario, vars: &[(String, String)]) -> Result<(), (String, String)> {
    if vars.is_empty() {
        return Ok(());
    }
    let used = super::render::template_variables(scenario);
    let Some((name, _)) = vars.iter().find(|(k, _)| !used.contains(k)) else {
        return Ok(());
    };
    let message = match explain::closest(name, &used) {
        Some(best) => {
            format!("`--var {name}`: the prompt never uses `{name}`; did you mean `{best}`?")
        }
        None => format!("`--var {name}`: the prompt never uses `{name}`"),
    };
    let hint = if used.is_empty() {
        "the prompt reads no variables; drop the --var".to_string()
    } else {
        format!("the prompt reads: {}", used.join(", "))
    };
    Err((message, hint))
}

/// Overrides `prompt.vars` (as strings).
pub fn apply_vars(scenario: &mut Scenario, vars: &[(String, String)]) {
    for (k, v) in vars {
        scenario
            .prompt
            .vars
            .insert(k.clone(), toml::Value::String(v.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = "name = \"t\"\n[prompt]\ntemplate = \"Q: {{ q }}\"\nvars = { q = \"x\" }\n[call]\nprovider = \"openai\"\nmodel = \"m\"\n";

    #[test]
    fn parses_a_minimal_scenario() {
        let s = parse(OK, "t.toml").unwrap();
        assert_eq!(s.call.model, "m");
    }

    #[test]
    fn error_display_names_file_line_column_and_hint() {
        let src = OK.replace("model = \"m\"", "modle = \"m\"");
        let e = parse(&src, "t.toml").unwrap_err();
        assert_eq!((e.line, e.column), (7, 1));
        assert_eq!(
            e.to_string(),
            format!("t.toml:7:1: {}\n  hint: {}", e.message, e.hint)
        );
        assert_eq!(e.message, "unknown key `modle`; did you mean `model`?");
    }

    #[test]
    fn a_var_the_prompt_never_uses_is_an_error_naming_the_closest() {
        let var = |a: &str| vec![parse_var(a).unwrap()];
        let e = parse_with_vars(OK, "t.toml", &var("qq=x")).unwrap_err();
        assert_eq!(
            e.message,
            "`--var qq`: the prompt never uses `qq`; did you mean `q`?"
        );
        assert_eq!(e.hint, "the prompt reads: q");
        let e = parse_with_vars(OK, "t.toml", &var("zebra=x")).unwrap_err();
        assert_eq!(e.message, "`--var zebra`: the prompt never uses `zebra`");
        // A variable of the system prompt counts.
        let src = OK.replace("[prompt]\n", "[prompt]\nsystem = \"{{ tone }}\"\n");
        let vars = vec![parse_var("q=a").unwrap(), parse_var("tone=b").unwrap()];
        parse_with_vars(&src, "t.toml", &vars).unwrap();
    }

    #[test]
    fn vars_override_and_can_supply_a_missing_variable() {
        let src = OK.replace("vars = { q = \"x\" }\n", "");
        let e = parse(&src, "t.toml").unwrap_err();
        assert_eq!(e.message, "undefined variable `q` in the prompt template");
        assert_eq!((e.line, e.column), (3, 19));
        let vars = vec![parse_var("q=hello").unwrap()];
        let s = parse_with_vars(&src, "t.toml", &vars).unwrap();
        assert_eq!(s.prompt.vars["q"], toml::Value::String("hello".into()));
        let mut s = parse(OK, "t.toml").unwrap();
        apply_vars(
            &mut s,
            &[("q".into(), "y".into()), ("new".into(), "1".into())],
        );
        assert_eq!(s.prompt.vars["q"].as_str(), Some("y"));
        assert_eq!(s.prompt.vars["new"].as_str(), Some("1"));
    }

    #[test]
    fn parse_var_forms() {
        assert_eq!(parse_var("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert_eq!(parse_var("a=").unwrap(), ("a".into(), String::new()));
        assert!(parse_var("novalue").is_err());
        assert!(parse_var("=x").is_err());
        assert!(parse_var("1a=x").is_err());
        assert!(parse_var("errors=x").is_err());
    }

    #[test]
    fn unreadable_file_has_line_zero() {
        let e = load_path(Path::new("/nonexistent/x.toml")).unwrap_err();
        assert_eq!((e.line, e.column), (0, 0));
        assert!(e.message.starts_with("cannot read the scenario"));
    }
}
