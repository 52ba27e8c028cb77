//! The prompt of an `@llm.call` function → a minijinja template: f-strings (`{book}` →
//! `{{ book }}`), Mirascope's `@prompt_template("... {book}")` with its `SYSTEM:`/`USER:`
//! sections, `Messages.System(...)`/`Messages.User(...)` lists, and the `if errors:` branch of
//! Mirascope's reinsertion example (`{% if errors %}...{% else %}...{% endif %}`).

use super::expr::{Expr, ExprKind};
use super::lex::StrPart;
use super::module::{Function, Stmt};
use super::read::{Ctx, call_parts};
use std::fmt::Write as _;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prompt {
    pub template: String,
    pub system: Option<String>,
    /// Names the template reads (for `[prompt].vars`), in order, without `errors`.
    pub names: Vec<String>,
    /// The exporter's Instructor-style turns (`failed_answer(error)`): reinsert_mode reask.
    pub reask: bool,
}

/// Literal text, with what minijinja would read as markup (`{{`, `{%`, `{#`) escaped.
fn literal(text: &str, out: &mut String) {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '{' && matches!(chars.peek(), Some('{' | '%' | '#')) {
            out.push_str("{{ '{' }}");
        } else {
            out.push(c);
        }
    }
}

/// A field `{name}`/`{a.b}` becomes `{{ name }}`; anything else stays as literal text.
fn field(
    cx: &mut Ctx,
    expr: &str,
    formatted: bool,
    line: u32,
    out: &mut String,
    names: &mut Vec<String>,
) {
    let plain = !expr.is_empty()
        && expr.split('.').all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_alphanumeric() || c == '_')
                && !p.starts_with(|c: char| c.is_ascii_digit())
        });
    if !plain {
        cx.drop(
            line,
            format!("the prompt's field `{{{expr}}}`"),
            "only plain names are turned into template variables; it is kept as text",
        );
        literal(&format!("{{{expr}}}"), out);
        return;
    }
    if formatted {
        cx.drop(
            line,
            format!("the format spec or conversion of `{{{expr}}}`"),
            "the value is inserted as is",
        );
    }
    let head = expr.split('.').next().unwrap_or(expr).to_string();
    if head != "errors" && !names.contains(&head) {
        names.push(head);
    }
    out.push_str("{{ ");
    out.push_str(expr);
    out.push_str(" }}");
}

/// One string expression (f-string, plain, `a + b`) → template text.
fn string_expr(cx: &mut Ctx, e: &Expr, names: &mut Vec<String>) -> Option<String> {
    match &e.kind {
        ExprKind::Str(s) => {
            let mut out = String::new();
            for p in &s.parts {
                match p {
                    StrPart::Text(t) => literal(t, &mut out),
                    StrPart::Field { expr, formatted } => {
                        field(cx, expr, *formatted, e.line, &mut out, names);
                    }
                }
            }
            Some(out)
        }
        ExprKind::Bin(op, a, b) if op == "+" => {
            Some(string_expr(cx, a, names)? + &string_expr(cx, b, names)?)
        }
        ExprKind::Name(n) if cx.m.constants.contains_key(n) => {
            let c = cx.m.constants.get(n)?.clone();
            string_expr(cx, &c, names)
        }
        _ => None,
    }
}

/// Mirascope's template syntax (`{name}`, `{name:list}`, `{{` literal) → minijinja.
pub fn mirascope_template(cx: &mut Ctx, text: &str, line: u32, names: &mut Vec<String>) -> String {
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut lit = String::new();
    while i < chars.len() {
        match chars[i] {
            '{' if chars.get(i + 1) == Some(&'{') => {
                lit.push('{');
                i += 2;
            }
            '}' if chars.get(i + 1) == Some(&'}') => {
                lit.push('}');
                i += 2;
            }
            '{' => {
                let Some(end) = chars[i..].iter().position(|c| *c == '}') else {
                    lit.extend(&chars[i..]);
                    break;
                };
                literal(&std::mem::take(&mut lit), &mut out);
                let inner: String = chars[i + 1..i + end].iter().collect();
                let (name, spec) = inner
                    .split_once(':')
                    .map_or((inner.as_str(), None), |(n, s)| (n, Some(s)));
                field(cx, name.trim(), spec.is_some(), line, &mut out, names);
                i += end + 1;
            }
            c => {
                lit.push(c);
                i += 1;
            }
        }
    }
    literal(&lit, &mut out);
    out
}

/// Splits a `SYSTEM: ... USER: ...` template into its system text and user text.
fn sections(cx: &mut Ctx, template: String, line: u32) -> (Option<String>, String) {
    let roles = ["SYSTEM:", "USER:", "ASSISTANT:", "MESSAGES:"];
    let mut found: Vec<(usize, &str)> = roles
        .iter()
        .flat_map(|r| {
            template
                .match_indices(r)
                .map(|(i, _)| (i, *r))
                .collect::<Vec<_>>()
        })
        .collect();
    if found.is_empty() {
        return (None, template);
    }
    found.sort_unstable();
    let mut system = None;
    let mut user = Vec::new();
    for (n, (at, role)) in found.iter().enumerate() {
        let end = found.get(n + 1).map_or(template.len(), |(e, _)| *e);
        let body = template[at + role.len()..end].trim().to_string();
        match *role {
            "SYSTEM:" => system = Some(body),
            "USER:" => user.push(body),
            other => cx.drop(
                line,
                format!("the `{other}` section of the prompt"),
                "a scenario has one system and one user message",
            ),
        }
    }
    (system, user.join("\n\n"))
}

/// The prompt of `f`: `@prompt_template(...)` when given, else what its body returns.
pub fn prompt(
    cx: &mut Ctx,
    f: &Function,
    decorator_template: Option<(&Expr, u32)>,
) -> Option<Prompt> {
    let mut names = Vec::new();
    if let Some((e, line)) = decorator_template {
        let text = cx.string(e).ok()?;
        let t = mirascope_template(cx, &text, line, &mut names);
        let (system, template) = sections(cx, t, line);
        return Some(Prompt {
            template,
            system,
            names,
            reask: false,
        });
    }
    if cx.harness.is_some()
        && let Some(p) = built(cx, f)
    {
        return Some(p);
    }
    let template = body_template(cx, &f.body, &mut names, 0)?;
    let (system, template) = match template {
        Returned::Text(t) => (None, t),
        Returned::Messages { system, user } => (system, user),
    };
    Some(Prompt {
        template,
        system,
        names,
        reask: false,
    })
}

/// The exporter's prompt function (`python::template` writes it): `prompt = ""`, then
/// `prompt += "text"`, `prompt += jinja_str(name)`, `prompt += jinja_list(texts)` and
/// `if [not] name:` blocks; it returns `prompt`, or `messages` built from `system` and
/// `prompt`. `texts` (or `[]`, in reask mode) is the template's `errors`.
fn built(cx: &mut Ctx, f: &Function) -> Option<Prompt> {
    let ret = f.body.iter().rev().find_map(|s| match s {
        Stmt::Return(Some(e), _) => e.dotted(),
        _ => None,
    })?;
    let mut names = Vec::new();
    let (system, user) = match ret.as_str() {
        "prompt" => (None, "prompt".to_string()),
        "messages" => {
            let list = f.body.iter().find_map(|s| match s {
                Stmt::Assign(n, e) if n == "messages" => Some(e),
                _ => None,
            })?;
            let ExprKind::List(items) = &list.kind else {
                return None;
            };
            let mut system = None;
            let mut user = None;
            for item in items {
                let (func, args, _) = call_parts(item)?;
                let var = args.args.first()?.dotted()?;
                match func.dotted()?.rsplit('.').next()? {
                    "System" => system = Some(var),
                    "User" => user = Some(var),
                    _ => return None,
                }
            }
            (system, user?)
        }
        _ => return None,
    };
    let template = built_text(&f.body, &user, &mut names)?;
    let system = match system {
        Some(v) => Some(built_text(&f.body, &v, &mut names)?),
        None => None,
    };
    let reask = cx.m.mentions("failed_answer", f.body_lines.clone());
    Some(Prompt {
        template,
        system,
        names,
        reask,
    })
}

/// The text `target` is built to by `body`'s statements (`None`: a statement not read).
fn built_text(body: &[Stmt], target: &str, names: &mut Vec<String>) -> Option<String> {
    let mut out = String::new();
    for stmt in body {
        match stmt {
            Stmt::AddAssign(t, e) if t == target => out.push_str(&piece(e, names)?),
            Stmt::If(branches, _) if touches(branches, target) => {
                for (n, (cond, inner)) in branches.iter().enumerate() {
                    match (n, cond) {
                        (0, Some(c)) => {
                            let _ = write!(out, "{{% if {} %}}", condition(c)?);
                        }
                        (_, None) => out.push_str("{% else %}"),
                        _ => return None,
                    }
                    out.push_str(&built_text(inner, target, names)?);
                }
                out.push_str("{% endif %}");
            }
            _ => {}
        }
    }
    Some(out)
}

fn touches(branches: &[(Option<Expr>, Vec<Stmt>)], target: &str) -> bool {
    branches.iter().any(|(_, body)| {
        body.iter().any(|s| match s {
            Stmt::AddAssign(t, _) => t == target,
            Stmt::If(b, _) => touches(b, target),
            _ => false,
        })
    })
}

/// `name`, `not name`; `texts` and `[]` are `errors`.
fn condition(c: &Expr) -> Option<String> {
    let name = |e: &Expr| match &e.kind {
        ExprKind::List(items) if items.is_empty() => Some("errors".to_string()),
        ExprKind::Name(n) if n == "texts" => Some("errors".to_string()),
        ExprKind::Name(n) => Some(n.clone()),
        _ => None,
    };
    match &c.kind {
        ExprKind::Unary(op, inner) if op == "not" => Some(format!("not {}", name(inner)?)),
        _ => name(c),
    }
}

/// One `+=` operand: literal text, `jinja_str(name)`, `jinja_list(texts)`.
fn piece(e: &Expr, names: &mut Vec<String>) -> Option<String> {
    let mut out = String::new();
    if let ExprKind::Str(s) = &e.kind
        && !s.fstring
    {
        literal(&e.str_value()?, &mut out);
        return Some(out);
    }
    let (func, args, _) = call_parts(e)?;
    let arg = args.args.first()?;
    match func.dotted()?.as_str() {
        "jinja_str" => {
            let n = arg.dotted()?;
            if !names.contains(&n) {
                names.push(n.clone());
            }
            Some(format!("{{{{ {n} }}}}"))
        }
        "jinja_list" if condition(arg).as_deref() == Some("errors") => {
            Some("{{ errors }}".to_string())
        }
        _ => None,
    }
}

enum Returned {
    Text(String),
    Messages {
        system: Option<String>,
        user: String,
    },
}

/// The template a body returns: its last `return`, with an `if NAME:` branch before it
/// becoming `{% if NAME %}`.
fn body_template(
    cx: &mut Ctx,
    body: &[Stmt],
    names: &mut Vec<String>,
    depth: usize,
) -> Option<Returned> {
    if depth > 4 {
        return None;
    }
    let mut conditional: Option<(String, String, u32)> = None;
    for stmt in body {
        match stmt {
            Stmt::If(branches, line) => {
                let [(Some(cond), inner)] = branches.as_slice() else {
                    if let [(Some(cond), a), (None, b)] = branches.as_slice()
                        && let Some(name) = cond.dotted()
                        && let (Some(Returned::Text(x)), Some(Returned::Text(y))) = (
                            body_template(cx, a, names, depth + 1),
                            body_template(cx, b, names, depth + 1),
                        )
                    {
                        return Some(Returned::Text(format!(
                            "{{% if {name} %}}{x}{{% else %}}{y}{{% endif %}}"
                        )));
                    }
                    continue;
                };
                if let Some(name) = cond.dotted()
                    && let Some(Returned::Text(t)) = body_template(cx, inner, names, depth + 1)
                {
                    conditional = Some((name, t, *line));
                }
            }
            Stmt::Return(Some(e), line) => {
                let returned = returned(cx, e, names, *line)?;
                return Some(match (conditional, returned) {
                    (Some((name, t, _)), Returned::Text(y)) => {
                        Returned::Text(format!("{{% if {name} %}}{t}{{% else %}}{y}{{% endif %}}"))
                    }
                    (Some((_, _, line)), r) => {
                        cx.drop(
                            line,
                            "an `if` branch of the prompt",
                            "only a branch returning a string is read",
                        );
                        r
                    }
                    (None, r) => r,
                });
            }
            _ => {}
        }
    }
    None
}

fn returned(cx: &mut Ctx, e: &Expr, names: &mut Vec<String>, line: u32) -> Option<Returned> {
    if let Some(t) = string_expr(cx, e, names) {
        return Some(Returned::Text(t));
    }
    let ExprKind::List(items) = &e.kind else {
        cx.drop(
            line,
            format!("the prompt `return {}`", e.show()),
            "only a string, an f-string or a list of Messages.System/User is read",
        );
        return None;
    };
    let mut system = None;
    let mut user = Vec::new();
    for item in items {
        let Some((func, args, _)) = call_parts(item) else {
            continue;
        };
        let role = func.dotted().unwrap_or_default();
        let text = args
            .get(Some(0), "content")
            .and_then(|c| string_expr(cx, c, names));
        match (role.rsplit('.').next(), text) {
            (Some("System"), Some(t)) => system = Some(t),
            (Some("User"), Some(t)) => user.push(t),
            _ => cx.drop(
                item.line,
                format!("the message `{}`", item.show()),
                "only Messages.System(...) and Messages.User(...) with a string are read",
            ),
        }
    }
    Some(Returned::Messages {
        system,
        user: user.join("\n\n"),
    })
}
