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

/// Filters whose output is no longer than their input (or bounded by their arguments).
const NON_GROWING_FILTERS: &[&str] = &[
    "length",
    "count",
    "int",
    "float",
    "abs",
    "round",
    "lower",
    "upper",
    "trim",
    "capitalize",
    "title",
    "first",
    "last",
    "min",
    "max",
    "sum",
    "bool",
    "default",
    "d",
    "safe",
];

/// A `{% set %}` that builds a value from a value some `{% set %}` assigns, with an operator
/// or filter that can grow it (`~`, `+`, `*`, `|join`...): in a loop (through a namespace) or
/// repeated, it doubles without bound, and neither fuel nor the output cap can see it (the
/// value is never emitted). Returns (byte offset of the block, the name it feeds on).
/// A chain of more growing sets that read other sets' values (`b = a ~ a`, `c = b ~ b`...)
/// than this is refused too: each link may double.
const MAX_CHAINED_SETS: usize = 8;

pub(crate) fn self_feeding_set(text: &str) -> Option<(usize, String)> {
    let sets = set_blocks(text);
    let targets: Vec<&str> = sets
        .iter()
        .flat_map(|s| s.targets.iter().copied())
        .collect();
    let mut chained = 0;
    for set in &sets {
        let code = blank_strings(set.expr);
        let grows = code.contains('~')
            || code.contains('*')
            || has_string_plus(&code)
            || filters(&code).any(|f| !NON_GROWING_FILTERS.contains(&f));
        if !grows {
            continue;
        }
        // Its own target (a namespace carries it across loop iterations): it feeds on itself.
        if let Some(name) = idents(&code).find(|i| set.targets.contains(i)) {
            return Some((set.at, name.to_string()));
        }
        if let Some(name) = idents(&code).find(|i| targets.contains(i)) {
            chained += 1;
            if chained > MAX_CHAINED_SETS {
                return Some((set.at, name.to_string()));
            }
        }
    }
    None
}

/// A `*` that may repeat a string or a list: minijinja builds up to 100 MB per `"x" * n`, in
/// one instruction that neither fuel nor the output cap sees, so a loop of them runs for
/// minutes. `*` is allowed between numbers only: number literals, the scenario's numeric
/// `vars` (`numeric_var`) and the variables of `range(..)` loops. Returns the `*`'s offset.
pub(crate) fn repeating_product(text: &str, numeric_var: &dyn Fn(&str) -> bool) -> Option<usize> {
    let blocks = code_blocks(text);
    let mut counters: Vec<&str> = Vec::new();
    for (_, code) in &blocks {
        let body = code.trim_matches(['-', '+']).trim();
        if let Some(rest) = body.strip_prefix("for")
            && let Some((targets, source)) = rest.split_once(" in ")
            && source.trim_start().starts_with("range(")
        {
            counters.extend(targets.split(',').map(str::trim));
        }
    }
    let number = |name: &str| numeric_var(name) || counters.contains(&name);
    for (at, code) in blocks {
        let code = blank_strings(code);
        let bytes = code.as_bytes();
        for (i, _) in code.match_indices('*') {
            let pow = bytes.get(i + 1) == Some(&b'*') || (i > 0 && bytes[i - 1] == b'*');
            if pow {
                continue;
            }
            let (before, after) = (&code[..i], &code[i + 1..]);
            let numbers = left_is_number(before, &number) && right_is_number(after, &number);
            if !numbers && !short_literal_repeat(before, after) {
                return Some(at + 2 + i);
            }
        }
    }
    None
}

/// The most a `"lit" * n` of literals may build (a ruler of `=` is fine, a megabyte is not).
const MAX_LITERAL_REPEAT: usize = 10_000;

/// `"=" * 40` or `40 * "="`: a string literal times an integer literal, small enough.
/// (`before`/`after` come from [`blank_strings`]: a literal's content is spaces.)
fn short_literal_repeat(before: &str, after: &str) -> bool {
    let literal_len = |side: &str, at_end: bool| -> Option<usize> {
        let side = if at_end {
            side.trim_end()
        } else {
            side.trim_start()
        };
        let q = if at_end {
            side.chars().next_back()?
        } else {
            side.chars().next()?
        };
        if q != '"' && q != '\'' {
            return None;
        }
        let inner = if at_end {
            &side[..side.len() - 1]
        } else {
            &side[1..]
        };
        let len = if at_end {
            inner.chars().rev().take_while(|&c| c != q).count()
        } else {
            inner.chars().take_while(|&c| c != q).count()
        };
        Some(len)
    };
    let integer = |side: &str, at_end: bool| -> Option<usize> {
        let side = side.trim();
        let digits: String = if at_end {
            let d: Vec<char> = side
                .chars()
                .rev()
                .take_while(char::is_ascii_digit)
                .collect();
            let before = side[..side.len() - d.len()].trim_end().chars().next_back();
            if matches!(before, Some('.' | '|')) || before.is_some_and(is_ident) {
                return None;
            }
            d.into_iter().rev().collect()
        } else {
            let d: String = side.chars().take_while(char::is_ascii_digit).collect();
            let next = side[d.len()..].trim_start().chars().next();
            if matches!(next, Some('.' | '(' | '[')) || next.is_some_and(is_ident) {
                return None;
            }
            d
        };
        digits.parse().ok()
    };
    let product = match (literal_len(before, true), integer(after, false)) {
        (Some(len), Some(n)) => Some((len, n)),
        _ => integer(before, true)
            .zip(literal_len(after, false))
            .map(|(n, len)| (len, n)),
    };
    product.is_some_and(|(len, n)| len.saturating_mul(n) <= MAX_LITERAL_REPEAT)
}

/// The operand that ends `before` is a number literal or a numeric name.
fn left_is_number(before: &str, number: &dyn Fn(&str) -> bool) -> bool {
    let before = before.trim_end();
    let start = before
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_ident(c) || c == '.')
        .last()
        .map_or(before.len(), |(i, _)| i);
    let token = &before[start..];
    let after_dot_or_pipe = matches!(
        before[..start].trim_end().chars().next_back(),
        Some('.' | '|')
    );
    !token.is_empty() && !after_dot_or_pipe && is_number_token(token, number)
}

/// The operand that starts `after` is a number literal or a numeric name (a filter may follow).
fn right_is_number(after: &str, number: &dyn Fn(&str) -> bool) -> bool {
    let after = after
        .trim_start()
        .trim_start_matches(['-', '+'])
        .trim_start();
    let end = after
        .find(|c: char| !(is_ident(c) || c == '.'))
        .unwrap_or(after.len());
    let token = &after[..end];
    let called_or_indexed = matches!(after[end..].trim_start().chars().next(), Some('(' | '['));
    !token.is_empty() && !called_or_indexed && is_number_token(token, number)
}

/// `12`, `0.5` or a numeric name (not an attribute: `ns.s` may hold a string).
fn is_number_token(token: &str, number: &dyn Fn(&str) -> bool) -> bool {
    if token.starts_with(|c: char| c.is_ascii_digit()) {
        token
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '_')
    } else {
        !token.contains('.') && number(token)
    }
}

/// Every `{{ .. }}` and `{% .. %}` (offset of the opening, the code inside), comments and
/// raw blocks skipped.
fn code_blocks(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find('{').map(|i| from + i) {
        let close = match text.as_bytes().get(open + 1) {
            Some(b'{') => b'}',
            Some(b'%') => b'%',
            Some(b'#') => {
                match text[open + 2..].find("#}") {
                    Some(i) => from = open + 2 + i + 2,
                    None => break,
                }
                continue;
            }
            _ => {
                from = open + 1;
                continue;
            }
        };
        let Some(end) = closing(text, open + 2, close) else {
            break;
        };
        let code = &text[open + 2..end];
        from = end + 2;
        if close == b'%' && code.trim_matches(['-', '+']).trim().starts_with("raw") {
            match text[from..].find("endraw") {
                Some(i) => from += i,
                None => break,
            }
            continue;
        }
        out.push((open, code));
    }
    out
}

/// Where a block closes: `close` then `}`, outside string literals.
fn closing(text: &str, from: usize, close: u8) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = from;
    while i + 1 < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == close && bytes[i + 1] == b'}' => return Some(i),
            None => {}
        }
        i += 1;
    }
    None
}

struct SetBlock<'a> {
    at: usize,
    targets: Vec<&'a str>,
    expr: &'a str,
}

/// Every `{% set a, b = expr %}` (not the block form, whose value is emitted output).
fn set_blocks(text: &str) -> Vec<SetBlock<'_>> {
    let mut out = Vec::new();
    for (open, code) in code_blocks(text) {
        if text.as_bytes().get(open + 1) != Some(&b'%') {
            continue;
        }
        let body = code
            .trim_start_matches(['-', '+'])
            .trim_end_matches(['-', '+'])
            .trim();
        let Some(rest) = body
            .strip_prefix("set")
            .filter(|r| r.starts_with(char::is_whitespace))
        else {
            continue;
        };
        let Some((lhs, expr)) = rest.split_once('=') else {
            continue;
        };
        let targets = lhs
            .split(',')
            .map(|t| t.trim().split('.').next().unwrap_or_default().trim())
            .filter(|t| !t.is_empty())
            .collect();
        out.push(SetBlock {
            at: open,
            targets,
            expr,
        });
    }
    out
}

/// The expression with every string literal's content replaced by spaces.
fn blank_strings(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in expr.chars() {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {
                out.push(' ');
                continue;
            }
            None if c == '"' || c == '\'' => quote = Some(c),
            None => {}
        }
        out.push(c);
    }
    out
}

/// `+` that may join strings: not one with a number on either side (`ns.n + 1`).
fn has_string_plus(code: &str) -> bool {
    let chars: Vec<char> = code.chars().collect();
    chars.iter().enumerate().any(|(i, c)| {
        *c == '+' && {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            let prev = chars[..i].iter().rev().find(|c| !c.is_whitespace());
            !(next.is_some_and(char::is_ascii_digit) || prev.is_some_and(char::is_ascii_digit))
        }
    })
}

/// Names used as filters (`| name`).
fn filters(code: &str) -> impl Iterator<Item = &str> {
    code.split('|').skip(1).filter_map(|rest| {
        let rest = rest.trim_start();
        let end = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
        (end > 0).then(|| &rest[..end])
    })
}

/// Variable names read by the expression (not attributes after `.`, nor filter names).
fn idents(code: &str) -> impl Iterator<Item = &str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in code
        .char_indices()
        .chain(std::iter::once((code.len(), ' ')))
    {
        match (start, is_ident(c)) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                let before = code[..s].trim_end().chars().next_back();
                let word = &code[s..i];
                let numeric = word.starts_with(|c: char| c.is_ascii_digit());
                if !numeric && !matches!(before, Some('.') | Some('|')) {
                    out.push(word);
                }
                start = None;
            }
            _ => {}
        }
    }
    out.into_iter()
}

fn char_floor(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn char_ceil(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn find_word(text: &str, word: &str) -> Option<usize> {
    text.match_indices(word).map(|(i, _)| i).find(|&i| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

fn contains_word(text: &str, word: &str) -> bool {
    find_word(text, word).is_some()
}

#[cfg(test)]
mod tests {

    #[test]
    fn star_takes_numbers_only_or_a_short_literal_ruler() {
        let numeric = |n: &str| n == "n";
        let refused = |t: &str| repeating_product(t, &numeric);
        for ok in [
            "{{ n * 2 }}{{ 2 * n|int }}",
            "{% for i, j in range(3) %}{{ i * j }}{% endfor %}",
            "{{ 1.5 * 2 }}{{ 2 ** 8 }}{{ n**2 }}",
            "{{ '*' }}{# a * b #}{% raw %}{{ s * 9 }}{% endraw %}",
            "{{ '=' * 40 }}{{ 3 * \"ab\" }}",
            "a * b outside any block",
        ] {
            assert_eq!(refused(ok), None, "{ok}");
        }
        for (bad, at) in [
            ("{{ s * 2 }}", 5),
            ("x{{ n * s }}", 6),
            ("{{ n * f(2) }}", 5),
            ("{{ n * xs[0] }}", 5),
            ("{{ ns.n * 2 }}", 8),
            ("{{ s|length * 2 }}", 12),
            ("{{ '=' * 10001 }}", 7),
            ("{{ '=' * n }}", 7),
            ("{% set y = ('x' ~ 'y') * 3 %}", 23),
        ] {
            assert_eq!(refused(bad), Some(at), "{bad}");
        }
    }
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
