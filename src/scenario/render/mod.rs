//! Prompt rendering: minijinja with strict undefined variables. The context is the
//! scenario's `vars` plus `errors` (the reinserted error texts so far, Mirascope's
//! `collect_errors`). An empty system string counts as no system prompt.
//!
//! Template errors carry a position inside the template; [`render_in`] maps it to the
//! scenario file (the template's first line in the file + the line within the template),
//! which is exact for single-line strings and multi-line literal strings and approximate for
//! basic strings with escape sequences.

use super::load::ScenarioError;
use super::load::locate::line_col;
use super::types::Scenario;
use crate::validate::toml_to_json;
use minijinja::{Environment, ErrorKind as JinjaKind, UndefinedBehavior, Value};
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use toml::Spanned;

mod growth;
use growth::{char_ceil, char_floor, contains_word, find_word};
pub(crate) use growth::{repeating_product, self_feeding_set};

/// The rendered prompt of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedPrompt {
    pub system: Option<String>,
    pub user: String,
}

/// Which string of `[prompt]` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Template,
    System,
}

impl Part {
    fn key(self) -> &'static str {
        match self {
            Part::Template => "template",
            Part::System => "system",
        }
    }
}

/// A template failure, positioned inside the template text (1-based).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TemplateFailure {
    pub part: Part,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: String,
}

/// Renders the template (and system) with the scenario's vars and `errors` = the reinserted
/// texts so far. Error positions are relative to the failing template (origin
/// `[prompt] template` or `[prompt] system`); use [`render_in`] for file positions.
pub fn render(scenario: &Scenario, errors: &[String]) -> Result<RenderedPrompt, ScenarioError> {
    render_parts(scenario, errors).map_err(|f| ScenarioError {
        origin: format!("[prompt] {}", f.part.key()),
        line: f.line,
        column: f.column,
        message: f.message,
        hint: f.hint,
    })
}

/// Like [`render`], with errors positioned in `source` (the scenario's file text, as
/// [`super::load::load_path`] returns it) and named after `origin`.
pub fn render_in(
    scenario: &Scenario,
    errors: &[String],
    source: &str,
    origin: &str,
) -> Result<RenderedPrompt, ScenarioError> {
    render_parts(scenario, errors).map_err(|f| to_file_error(f, scenario, source, origin))
}

/// Maps a template-relative failure to the file.
pub(crate) fn to_file_error(
    f: TemplateFailure,
    scenario: &Scenario,
    source: &str,
    origin: &str,
) -> ScenarioError {
    let span = match f.part {
        Part::Template => Some(scenario.prompt.template.span()),
        Part::System => scenario.prompt.system.as_ref().map(Spanned::span),
    };
    let (line, column) = match span {
        Some(span) if span.end <= source.len() => {
            let (l0, c0) = line_col(source, content_start(source, &span));
            if f.line <= 1 {
                (l0, c0 + f.column.saturating_sub(1))
            } else {
                (l0 + f.line - 1, f.column)
            }
        }
        _ => (f.line, f.column),
    };
    ScenarioError {
        origin: origin.to_string(),
        line,
        column,
        message: f.message,
        hint: f.hint,
    }
}

/// Byte offset where a TOML string's text begins: after its opening quote(s), and after the
/// newline a multi-line string may start with (TOML trims it).
fn content_start(source: &str, span: &Range<usize>) -> usize {
    let raw = &source[span.start..span.end.min(source.len())];
    let skip = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
        let rest = &raw[3..];
        3 + if rest.starts_with("\r\n") {
            2
        } else if rest.starts_with('\n') {
            1
        } else {
            0
        }
    } else if raw.starts_with('"') || raw.starts_with('\'') {
        1
    } else {
        0
    };
    span.start + skip
}

/// Instructions one render of a part may run: thousands of times what a prompt needs, and
/// bounded well under a frame (see [`MAX_RENDERED`]); a breach is an error naming the place.
pub const TEMPLATE_FUEL: u64 = 50_000;
/// The most a part may emit (captures, macro output and `{{ }}` included): 1 MiB.
pub const MAX_RENDERED: usize = 1 << 20;
/// Macro and recursive-loop nesting.
const RECURSION_LIMIT: usize = 100;
/// How a render that emitted too much is told apart from minijinja's own errors.
const TOO_LARGE: &str = "retrylab: output cap";

/// A writer that refuses bytes past [`MAX_RENDERED`] (the template's own text included).
struct Capped(Vec<u8>);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_RENDERED {
            return Err(std::io::Error::other(TOO_LARGE));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The environment every render uses: strict, with fuel, a recursion limit, and every
/// emitted value counted (captures included), so no template runs or grows without bound.
fn bounded_env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.set_recursion_limit(RECURSION_LIMIT);
    let emitted = Arc::new(AtomicUsize::new(0));
    env.set_formatter(move |out, state, value| {
        let n = value
            .as_str()
            .map_or_else(|| value.to_string().len(), str::len);
        if emitted.fetch_add(n, Ordering::Relaxed) + n > MAX_RENDERED {
            return Err(minijinja::Error::new(
                JinjaKind::InvalidOperation,
                TOO_LARGE,
            ));
        }
        minijinja::escape_formatter(out, state, value)
    });
    env
}

/// Renders both parts, or says where in which template it failed.
pub(crate) fn render_parts(
    scenario: &Scenario,
    errors: &[String],
) -> Result<RenderedPrompt, TemplateFailure> {
    let env = bounded_env();
    let mut ctx: BTreeMap<&str, Value> = scenario
        .prompt
        .vars
        .iter()
        .map(|(k, v)| (k.as_str(), Value::from_serialize(toml_to_json(v))))
        .collect();
    ctx.insert("errors", Value::from_serialize(errors));
    let user = render_one(
        &env,
        Part::Template,
        scenario.prompt.template.get_ref(),
        &ctx,
    )?;
    let system = match scenario.prompt.system.as_ref().map(Spanned::get_ref) {
        Some(text) if !text.is_empty() => {
            Some(render_one(&env, Part::System, text, &ctx)?).filter(|s| !s.is_empty())
        }
        _ => None,
    };
    Ok(RenderedPrompt { system, user })
}

/// The variables the template and system read (their top-level names): what `--var` may set.
/// A part that does not parse reads nothing (its error is reported by the render).
pub(crate) fn template_variables(scenario: &Scenario) -> Vec<String> {
    let env = bounded_env();
    let parts = [
        Some(scenario.prompt.template.get_ref()),
        scenario.prompt.system.as_ref().map(Spanned::get_ref),
    ];
    let mut names: Vec<String> = parts
        .into_iter()
        .flatten()
        .filter_map(|text| env.template_from_str(text).ok())
        .flat_map(|t| t.undeclared_variables(false))
        .collect();
    names.sort();
    names.dedup();
    names
}

fn render_one(
    env: &Environment<'_>,
    part: Part,
    text: &str,
    ctx: &BTreeMap<&str, Value>,
) -> Result<String, TemplateFailure> {
    let fail =
        |e: minijinja::Error, undeclared: Vec<String>| failure(env, part, text, e, undeclared);
    let tmpl = env
        .template_from_named_str(part.key(), text)
        .map_err(|e| fail(e, Vec::new()))?;
    let mut out = Capped(Vec::new());
    tmpl.render_captured_to(ctx, &mut out).map_err(|e| {
        let mut missing: Vec<String> = tmpl
            .undeclared_variables(false)
            .into_iter()
            .filter(|v| !ctx.contains_key(v.as_str()))
            .collect();
        missing.sort();
        fail(e, missing)
    })?;
    // Only whole strings and values go in: the bytes are UTF-8.
    Ok(String::from_utf8_lossy(&out.0).into_owned())
}

/// Words a minijinja error; `missing` are the template's variables the context lacks.
fn failure(
    env: &Environment<'_>,
    part: Part,
    text: &str,
    e: minijinja::Error,
    missing: Vec<String>,
) -> TemplateFailure {
    // minijinja's range may start or end inside a multi-byte character: widen it to whole
    // characters.
    let range = e
        .range()
        .filter(|r| r.start <= r.end && r.end <= text.len())
        .map(|r| char_floor(text, r.start)..char_ceil(text, r.end));
    let snippet = range
        .as_ref()
        .and_then(|r| text.get(r.clone()))
        .map(|s| s.trim().to_string());
    // Globals (range, dict, namespace...) are not variables the user must supply.
    let missing: Vec<String> = missing
        .into_iter()
        .filter(|m| !env.globals().any(|(g, _)| g == m))
        .collect();
    let which = format!("the prompt {}", part.key());
    let detail = e.detail().unwrap_or_default();
    let too_large = detail.contains(TOO_LARGE) || e.kind() == JinjaKind::WriteFailure;
    let (message, hint, at) = if e.kind() == JinjaKind::OutOfFuel {
        (
            format!(
                "{which} did more than {TEMPLATE_FUEL} steps: is it recursive, or are its loops nested too deep?"
            ),
            "bound loops and macro recursion: the prompt is rendered before every attempt".into(),
            range.clone().map(|r| r.start),
        )
    } else if too_large {
        (
            format!("{which} renders more than {} MiB", MAX_RENDERED >> 20),
            "a prompt is at most 1 MiB: bound the loops and repetitions that build it".into(),
            range.clone().map(|r| r.start),
        )
    } else if detail.contains("recursion limit") {
        (
            format!(
                "{which} nests macro calls or recursive loops too deep (over {RECURSION_LIMIT} frames)"
            ),
            "a macro that calls itself needs a condition that ends it within a few levels".into(),
            range.clone().map(|r| r.start),
        )
    } else if e.kind() == JinjaKind::UndefinedError {
        // Strict mode names no variable: find the one the failing expression uses.
        let name = missing
            .iter()
            .find(|m| snippet.as_deref().is_some_and(|s| contains_word(s, m)))
            .or_else(|| missing.first())
            .cloned();
        match name {
            Some(name) => {
                let at = range
                    .clone()
                    .map(|r| r.start)
                    .or_else(|| find_word(text, &name));
                (
                    format!("undefined variable `{name}` in {which}"),
                    format!(
                        "add it to [prompt] vars (vars = {{ {name} = \"...\" }}) or pass --var {name}=..."
                    ),
                    at,
                )
            }
            None => (
                format!(
                    "undefined value in {which}: `{}`",
                    snippet.clone().unwrap_or_default()
                ),
                "strict mode: every variable, attribute and index must exist (guard it with `is defined`)".into(),
                range.clone().map(|r| r.start),
            ),
        }
    } else {
        let detail = e.detail().map_or_else(String::new, |d| format!(": {d}"));
        (
            format!("{} in {which}{detail}", e.kind()),
            "minijinja syntax: {{ var }}, {% for e in errors %}{{ e }}{% endfor %}, {% if x %}…{% endif %}".into(),
            range.clone().map(|r| r.start),
        )
    };
    let (line, column) = match at {
        Some(offset) => line_col(text, offset),
        None => (e.line().unwrap_or(1), 1),
    };
    TemplateFailure {
        part,
        line,
        column,
        message,
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load::parse;

    fn scenario(prompt: &str) -> Scenario {
        let src = format!("name = \"t\"\n{prompt}\n[call]\nprovider = \"openai\"\nmodel = \"m\"\n");
        parse(&src, "t.toml").unwrap()
    }

    #[test]
    fn renders_vars_and_errors() {
        let s = scenario(
            "[prompt]\ntemplate = '''\nQ: {{ q }}\n{% for e in errors %}Previous error: {{ e }}\n{% endfor %}'''\nsystem = \"Be {{ tone }}.\"\nvars = { q = \"why?\", tone = \"brief\" }",
        );
        let r = render(&s, &[]).unwrap();
        assert_eq!(r.user, "Q: why?\n");
        assert_eq!(r.system.as_deref(), Some("Be brief."));
        let r = render(&s, &["e1".into(), "e2".into()]).unwrap();
        assert_eq!(r.user, "Q: why?\nPrevious error: e1\nPrevious error: e2\n");
    }

    #[test]
    fn empty_system_is_none_and_numbers_render() {
        let s =
            scenario("[prompt]\ntemplate = \"n={{ n + 1 }}\"\nsystem = \"\"\nvars = { n = 41 }");
        let r = render(&s, &[]).unwrap();
        assert_eq!(r.system, None);
        assert_eq!(r.user, "n=42");
    }

    #[test]
    fn runtime_failures_are_positioned_in_the_template() {
        // Passes the load-time checks (no error, one error) but fails with three.
        let s = scenario(
            "[prompt]\ntemplate = '''\nfirst\n{% if errors|length > 2 %}{{ errors[7] }}{% endif %}'''",
        );
        let three = ["a".to_string(), "b".to_string(), "c".to_string()];
        let e = render(&s, &three).unwrap_err();
        assert_eq!(e.origin, "[prompt] template");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("undefined value"), "{e}");
    }

    #[test]
    fn a_non_ascii_char_inside_an_expression_is_an_error_not_a_panic() {
        // minijinja's error range may end inside a multi-byte character.
        for template in [
            "Recommend a {{ geénre }} book",
            "{{ t😀opic }}",
            "{{ genre é}}",
        ] {
            let src = format!(
                "name = \"t\"\n[prompt]\ntemplate = \"{template}\"\nvars = {{ genre = \"x\", topic = \"y\" }}\n[call]\nprovider = \"openai\"\nmodel = \"m\"\n"
            );
            let e = parse(&src, "t.toml").unwrap_err();
            assert_eq!(e.line, 3, "{e}");
            assert!(!e.hint.is_empty(), "{e}");
        }
    }
}
