//! The exporter's own idioms. A file `retrylab export --to mirascope|tenacity` wrote says so
//! in its docstring ("exported by retrylab"), and carries retrylab's harness: `@trace_hop`
//! and `before_sleep=trace_wait` (tracing: skipped silently), `wait_retry_after(backoff,
//! cap=N)` (Retry-After honoured), `sdk_client(...)` clients, the harness's exception classes
//! and validators. Reading them is what makes `export` then `import` give the scenario back.
//! In any other file these names mean nothing and are dropped as usual.

use super::draft::ValidatorDraft;
use super::expr::{Expr, ExprKind};
use super::read::{Ctx, call_parts};
use crate::error::ErrorKind;

/// Which exporter wrote the file: the two shape the program differently, and name a bad
/// tool argument differently (pydantic's ValidationError in Mirascope, the harness's own
/// ToolArgumentsInvalid in plain Tenacity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Harness {
    Mirascope,
    Tenacity,
}

/// The stamp `pyprog::header` writes on the docstring's first line.
const STAMP: &str = "exported by retrylab: `retrylab export ";

/// Python's keywords: the exporter appends `_` to an identifier spelled like one.
pub const KEYWORDS: &[&str] = &[
    "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
    "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda",
    "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

/// The exported prompt function's own names: a prompt variable spelled like one gets a `_`
/// (else the function would overwrite it before the template reads it).
pub const PROMPT_LOCALS: &[&str] = &[
    "prompt", "system", "messages", "texts", "errors", "error", "text",
];

/// A prompt variable's name as the scenario spells it, from the exporter's parameter name:
/// the `_` it appended to a keyword or a local comes off (`text_` → `text`).
pub fn scenario_var(param: &str) -> &str {
    match param.strip_suffix('_') {
        Some(base) if KEYWORDS.contains(&base) || PROMPT_LOCALS.contains(&base) => base,
        _ => param,
    }
}

/// The harness a file carries, from its opening docstring.
pub fn detect(source: &str) -> Option<Harness> {
    let head: String = source.chars().take(2048).collect();
    let line = head.lines().find(|l| l.contains(STAMP))?;
    if line.ends_with("--to mirascope`.") {
        Some(Harness::Mirascope)
    } else if line.ends_with("--to tenacity`.") {
        Some(Harness::Tenacity)
    } else {
        None
    }
}

/// Decorators and callbacks that only trace the run (the JSON lines): nothing to map.
pub fn is_tracing(cx: &Ctx, e: &Expr) -> bool {
    cx.harness.is_some() && matches!(e.dotted().as_deref(), Some("trace_hop" | "trace_wait"))
}

/// A class the harness defines, by its name in the file → its name in `sdk`'s tables
/// (`retrylab.X`, each standing for exactly one kind).
pub fn class(h: Harness, qualified: &str) -> Option<&'static str> {
    Some(match qualified {
        "StreamInterrupted" => "retrylab.StreamInterrupted",
        "ContentFiltered" => "retrylab.ContentFiltered",
        "ToolArgumentsInvalid" => "retrylab.ToolArgumentsInvalid",
        "FallbackError" if h == Harness::Tenacity => "mirascope.FallbackError",
        // Plain Tenacity raises its own class for bad tool arguments: pydantic's is the
        // answer's validators only.
        "pydantic.ValidationError" if h == Harness::Tenacity => "retrylab.AnswerInvalid",
        _ => return None,
    })
}

/// The kinds of a harness class (see [`class`]).
pub fn class_kind(canonical: &str) -> Option<ErrorKind> {
    Some(match canonical {
        "retrylab.StreamInterrupted" => ErrorKind::StreamInterrupted,
        "retrylab.ContentFiltered" => ErrorKind::ContentFilter,
        "retrylab.ToolArgumentsInvalid" => ErrorKind::ToolValidation,
        "retrylab.AnswerInvalid" => ErrorKind::Validation,
        _ => return None,
    })
}

/// How a class the exporter writes resolves in the file it writes: the SDK modules are
/// imported whole, `ValidationError` comes from pydantic, `RetryError` from Tenacity,
/// `FallbackError` from Mirascope (or the harness, in plain Tenacity).
pub fn qualify(written: &str, h: Harness) -> String {
    let q = match written {
        "ValidationError" => "pydantic.ValidationError",
        "RetryError" => "tenacity.RetryError",
        "FallbackError" if h == Harness::Mirascope => "mirascope.FallbackError",
        other => other,
    };
    class(h, q).map_or_else(|| q.to_string(), str::to_string)
}

/// `wait_retry_after(backoff, cap=N)`: the backoff expression (`None`: no backoff) and the
/// cap in seconds, when `e` is that call in a harness file.
pub fn wait_retry_after<'e>(cx: &Ctx, e: &'e Expr) -> Option<(Option<&'e Expr>, &'e Expr)> {
    cx.harness?;
    let (func, args, _) = call_parts(e)?;
    if func.dotted().as_deref() != Some("wait_retry_after") {
        return None;
    }
    let backoff = args.get(Some(0), "backoff")?;
    let cap = args.get(Some(1), "cap")?;
    let backoff = (!matches!(backoff.kind, ExprKind::None)).then_some(backoff);
    Some((backoff, cap))
}

/// `retry_if_exception(overloaded_in_stream)`: Anthropic's overloaded error inside a 200
/// stream, which the harness recognises by its body.
pub fn is_overloaded_predicate(cx: &Ctx, e: &Expr) -> bool {
    cx.harness.is_some()
        && call_parts(e).is_some_and(|(f, a, _)| {
            f.dotted().as_deref() == Some("retry_if_exception")
                && a.args.first().and_then(Expr::dotted).as_deref() == Some("overloaded_in_stream")
        })
}

/// `retry_if_exception(kind_in("rate_limit", ...))`: the kinds it narrows to.
pub fn kind_in(cx: &Ctx, e: &Expr) -> Option<Vec<ErrorKind>> {
    cx.harness?;
    let (f, a, _) = call_parts(e)?;
    if f.dotted().as_deref() != Some("retry_if_exception") {
        return None;
    }
    let (inner, args, _) = call_parts(a.args.first()?)?;
    if inner.dotted().as_deref() != Some("kind_in") {
        return None;
    }
    args.args
        .iter()
        .map(|k| {
            let text = cx.string(k).ok()?;
            ErrorKind::ALL.into_iter().find(|x| x.as_str() == text)
        })
        .collect()
}

/// A client built by the harness: `sdk_client(sdk, base_url, TIMEOUT, max_retries=N,
/// api_key_env=..., headers={...})`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Client {
    pub sdk: String,
    pub base_url: Option<String>,
    pub api_key_env: Option<String>,
    pub headers: Vec<(String, String)>,
    /// `max_retries=K`, K > 0: the SDK's own retries (`sdk_max_retries`).
    pub sdk_max_retries: Option<u32>,
    /// Azure OpenAI's `api_version` (the client is then `AzureOpenAI`).
    pub api_version: Option<String>,
}

/// The client a name (`CLIENT_0`) is assigned to at module level, in a harness file.
pub fn client(cx: &mut Ctx, name: &Expr) -> Option<Client> {
    cx.harness?;
    let m = cx.m;
    let e = m.assigned.get(&name.dotted()?)?;
    let (func, args, _) = call_parts(e)?;
    if func.dotted().as_deref() != Some("sdk_client") {
        return None;
    }
    let mut c = Client {
        sdk: cx.string(args.get(Some(0), "provider")?).ok()?,
        ..Client::default()
    };
    let text = |cx: &Ctx, v: Option<&Expr>| {
        v.filter(|v| !matches!(v.kind, ExprKind::None))
            .and_then(|v| cx.string(v).ok())
    };
    c.base_url = text(cx, args.get(Some(1), "base_url"));
    c.api_key_env = text(cx, args.get(Some(4), "api_key_env"));
    c.api_version = text(cx, args.get(Some(6), "api_version"));
    let max_retries = args.get(Some(3), "max_retries");
    if max_retries.is_none() {
        super::sdk_default::note(cx, e.line, format!("{} (no max_retries)", e.show()));
    }
    if let Some(v) = max_retries {
        let max = f64::from(crate::scenario::load::MAX_SDK_RETRIES);
        match cx.number(v) {
            Ok(0.0) => {}
            Ok(k) if k.fract() == 0.0 && (1.0..=max).contains(&k) => {
                c.sdk_max_retries = Some(k as u32);
            }
            _ => cx.drop(
                v.line,
                format!("max_retries={}", v.show()),
                "the SDK's own retries: sdk_max_retries takes a whole number from 0 to 20",
            ),
        }
    }
    if let Some(ExprKind::Dict(kv)) = args.get(Some(5), "headers").map(|h| &h.kind) {
        for (k, v) in kv {
            if let (Ok(k), Ok(v)) = (cx.string(k), cx.string(v)) {
                c.headers.push((k, v));
            }
        }
    }
    Some(c)
}

/// A validator of the harness (`is_upper`, `matches("re")`, ...), from `AfterValidator(...)`'s
/// argument.
pub fn validator(cx: &Ctx, e: &Expr) -> Option<ValidatorDraft> {
    cx.harness?;
    if let Some(name) = e.dotted() {
        return match name.as_str() {
            "is_upper" => Some(ValidatorDraft::Uppercase),
            "is_json" => Some(ValidatorDraft::Json),
            _ => None,
        };
    }
    let (func, args, _) = call_parts(e)?;
    let arg = args.args.first()?;
    Some(match func.dotted()?.as_str() {
        "matches" => ValidatorDraft::Regex(cx.string(arg).ok()?),
        "at_most" => {
            let n = cx.number(arg).ok()?;
            (n >= 0.0 && n.fract() == 0.0).then_some(())?;
            ValidatorDraft::MaxChars(n as usize)
        }
        "one_of" => {
            let (ExprKind::List(items) | ExprKind::Tuple(items)) = &arg.kind else {
                return None;
            };
            let list: Option<Vec<String>> = items.iter().map(|x| cx.string(x).ok()).collect();
            ValidatorDraft::OneOf(list?)
        }
        "matches_schema" => ValidatorDraft::JsonSchema(literal(cx, arg)?),
        _ => return None,
    })
}

/// A Python literal (dicts, lists, strings, numbers, booleans) as TOML.
pub fn literal(cx: &Ctx, e: &Expr) -> Option<toml::Value> {
    Some(match &e.kind {
        ExprKind::Dict(kv) => {
            let mut t = toml::Table::new();
            for (k, v) in kv {
                t.insert(cx.string(k).ok()?, literal(cx, v)?);
            }
            toml::Value::Table(t)
        }
        ExprKind::List(items) | ExprKind::Tuple(items) => toml::Value::Array(
            items
                .iter()
                .map(|x| literal(cx, x))
                .collect::<Option<_>>()?,
        ),
        ExprKind::Bool(b) => toml::Value::Boolean(*b),
        ExprKind::Num(n) if n.fract() == 0.0 && n.abs() < 9e15 => toml::Value::Integer(*n as i64),
        ExprKind::Num(n) => toml::Value::Float(*n),
        _ => toml::Value::String(cx.string(e).ok()?),
    })
}

/// The validators of `Answer = Annotated[str, AfterValidator(...), ...]`, the module-level
/// type both exporters check the answer with.
pub fn answer_validators(cx: &mut Ctx) -> Vec<ValidatorDraft> {
    if cx.harness.is_none() {
        return Vec::new();
    }
    let m = cx.m;
    let Some(ExprKind::Subscript(_, items)) = m.assigned.get("Answer").map(|e| &e.kind) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items.iter().skip(1) {
        let inner = call_parts(item)
            .filter(|(f, _, _)| f.dotted().as_deref() == Some("AfterValidator"))
            .and_then(|(_, a, _)| a.args.first());
        match inner.and_then(|v| validator(cx, v)) {
            Some(v) => out.push(v),
            None => cx.drop(
                item.line,
                format!("`{}` in Answer", item.show()),
                "not one of the harness's validators (is_upper, is_json, matches, matches_schema, at_most, one_of)",
            ),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAMPED: &str = "\"\"\"X — exported by retrylab: `retrylab export x --to mirascope`.\n\"\"\"\n\
        from tenacity import retry, stop_after_attempt, wait_fixed\nfrom mirascope import llm\nimport openai\n\
        CLIENT_0 = sdk_client(\"openai\", \"http://h/v1\", TIMEOUT, max_retries=0, api_key_env=\"K\")\n\
        @llm.call(provider=\"openai\", model=\"m\", client=CLIENT_0)\n\
        def p(genre: str, *, errors=None):\n    texts = reinserted(errors)\n    prompt = \"\"\n    \
        if texts:\n        prompt += \"E: \"\n        prompt += jinja_list(texts)\n        pass\n    \
        prompt += \"A \"\n    prompt += jinja_str(genre)\n    return prompt\n\
        @trace_hop\n@retry(stop=stop_after_attempt(2), wait=wait_retry_after(wait_fixed(1), cap=30), \
        retry=retry_if_exception_type(openai.RateLimitError) & retry_if_exception(kind_in(\"rate_limit\")), \
        before_sleep=trace_wait)\n\
        def call(*, errors=None):\n    return p(genre=\"sf\", errors=errors)\n";

    #[test]
    fn the_exporters_idioms_map_back() {
        assert_eq!(detect(STAMPED), Some(Harness::Mirascope));
        let i = super::super::import_python(STAMPED, "x.py").unwrap();
        assert!(i.dropped.is_empty(), "{:?}", i.dropped);
        let t = &i.scenario_toml;
        for line in [
            "template = \"{% if errors %}E: {{ errors }}{% endif %}A {{ genre }}\"",
            "vars = { genre = \"sf\" }",
            "base_url = \"http://h/v1\"",
            "api_key_env = \"K\"",
            "wait = { fixed = 1 }",
            "retry_on = [\"rate_limit\"]",
            "honor_retry_after = true",
            "retry_after_max = 30",
        ] {
            assert!(t.contains(line), "{line}\n{t}");
        }
    }

    #[test]
    fn without_the_stamp_the_harness_names_are_dropped() {
        let plain = STAMPED.replace("exported by retrylab", "by hand");
        assert_eq!(detect(&plain), None);
        let i = super::super::import_python(&plain, "x.py").unwrap();
        let whats: Vec<&str> = i.dropped.iter().map(|d| d.what.as_str()).collect();
        assert!(whats.iter().any(|w| w.contains("trace_hop")), "{whats:?}");
        assert!(whats.iter().any(|w| w.contains("kind_in")), "{whats:?}");
        assert!(
            i.scenario_toml.contains("quota_exhausted"),
            "{}",
            i.scenario_toml
        );
    }
}
