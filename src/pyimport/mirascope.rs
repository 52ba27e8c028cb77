//! Mirascope v1's decorators: `@llm.call(provider, model, stream=, tools=, response_model=,
//! call_params=)` (and `@openai.call(model)` of `mirascope.core`), `@fallback(catch,
//! [{catch, provider, model}, ...])`, and what they point at: tool functions (their
//! signature, docstring and `if arg == "x": return "y"` answers) and `response_model`
//! validators (`Annotated[str, AfterValidator(f)]` with `assert v.isupper()`, `len(v) <= n`,
//! `v in (...)`; `Literal[...]`).

use super::draft::{CallDraft, ToolDraft, ValidatorDraft};
use super::expr::{Expr, ExprKind};
use super::module::{Function, Stmt};
use super::read::{Args, Ctx, call_parts};
use super::tenacity::class_name;
use crate::scenario::ProviderKind;

/// The provider-specific call decorators of `mirascope.core` (`@openai.call("gpt-4o-mini")`).
const CORE_PROVIDERS: &[&str] = &[
    "openai",
    "anthropic",
    "azure",
    "bedrock",
    "cohere",
    "gemini",
    "google",
    "groq",
    "litellm",
    "mistral",
    "vertex",
    "xai",
];

/// `Some(provider fixed by the decorator)` when `e` is an `llm.call`-like decorator.
pub fn call_kind(cx: &Ctx, e: &Expr) -> Option<Option<String>> {
    let (func, _, _) = call_parts(e)?;
    let q = cx.m.qualified(func)?;
    if q == "mirascope.llm.call" || q == "mirascope.llm._call.call" {
        return Some(None);
    }
    let p = q.strip_prefix("mirascope.core.")?.strip_suffix(".call")?;
    CORE_PROVIDERS.contains(&p).then(|| Some(p.to_string()))
}

/// Maps a Mirascope provider name to a retrylab wire format (and a base URL for the local
/// ones, as Mirascope's `_call.py` sets them).
pub fn provider(cx: &mut Ctx, name: &str, line: u32) -> (ProviderKind, Option<String>) {
    match name {
        "openai" => (ProviderKind::Openai, None),
        "anthropic" => (ProviderKind::Anthropic, None),
        "ollama" => (
            ProviderKind::OpenaiCompatible,
            Some("http://localhost:11434/v1".into()),
        ),
        "vllm" => (
            ProviderKind::OpenaiCompatible,
            Some("http://localhost:8000/v1".into()),
        ),
        other => {
            cx.drop(
                line,
                format!("provider `{other}`"),
                "retrylab speaks the OpenAI and Anthropic wire formats (and OpenAI-compatible servers): the call uses openai",
            );
            (ProviderKind::Openai, None)
        }
    }
}

/// What `@llm.call(...)` says, tools and response model still as expressions.
pub struct CallDecl<'e> {
    pub call: CallDraft,
    pub tools: Option<&'e Expr>,
    pub response_model: Option<&'e Expr>,
}

pub fn read_call<'e>(cx: &mut Ctx, e: &'e Expr, fixed: Option<String>) -> CallDecl<'e> {
    let empty = Args {
        args: &[],
        kwargs: &[],
    };
    let (args, starred) = call_parts(e).map_or((empty, false), |(_, a, s)| (a, s));
    if starred {
        cx.drop(
            e.line,
            "`*args`/`**kwargs` passed to the call decorator",
            "only the arguments written out are read",
        );
    }
    // `llm.call(provider, model, ...)`; `openai.call(model, ...)`.
    let (provider_name, model_pos) = match &fixed {
        Some(p) => (Some(p.clone()), 0),
        None => (
            args.get(Some(0), "provider")
                .and_then(|v| match cx.string(v) {
                    Ok(s) => Some(s),
                    Err(why) => {
                        cx.drop(v.line, format!("provider={}", v.show()), why);
                        None
                    }
                }),
            1,
        ),
    };
    let (provider, base_url) = match provider_name {
        Some(p) => provider(cx, &p, e.line),
        None => {
            if fixed.is_none() && args.get(Some(0), "provider").is_none() {
                cx.drop(
                    e.line,
                    "the call's provider",
                    "missing: the call uses openai",
                );
            }
            (ProviderKind::Openai, None)
        }
    };
    let model = match args
        .get(Some(model_pos), "model")
        .map(|v| (v, cx.string(v)))
    {
        Some((_, Ok(m))) => m,
        Some((v, Err(why))) => {
            cx.drop(
                v.line,
                format!("model={}", v.show()),
                format!("{why}; the model is a placeholder"),
            );
            placeholder_model(provider)
        }
        None => {
            cx.drop(
                e.line,
                "the call's model",
                "missing: the model is a placeholder",
            );
            placeholder_model(provider)
        }
    };
    let mut call = CallDraft {
        provider,
        model,
        stream: false,
        base_url,
        api_key_env: None,
        headers: Vec::new(),
        api_version: None,
        sdk_max_retries: None,
        temperature: None,
        max_tokens: None,
    };
    let mut decl = CallDecl {
        call: CallDraft { ..call.clone() },
        tools: None,
        response_model: None,
    };
    for (key, v) in args.kwargs {
        match key.as_str() {
            "provider" | "model" => {}
            "stream" => match &v.kind {
                ExprKind::Bool(b) => call.stream = *b,
                // A StreamConfig: still a stream.
                ExprKind::Call { .. } => call.stream = true,
                _ => cx.drop(v.line, format!("stream={}", v.show()), cx.not_literal(v)),
            },
            "tools" => decl.tools = Some(v),
            "response_model" => decl.response_model = Some(v),
            "call_params" => call_params(cx, v, &mut call),
            "client" if super::harness::client(cx, v).is_some() => {
                if let Some(c) = super::harness::client(cx, v) {
                    // The exporter's gemini hop: an OpenAI-SDK client the harness names gemini.
                    if c.sdk == "gemini" {
                        call.provider = ProviderKind::Gemini;
                    }
                    call.base_url = c.base_url.or(call.base_url.take());
                    call.api_key_env = c.api_key_env;
                    call.headers = c.headers;
                    call.sdk_max_retries = c.sdk_max_retries;
                    if c.api_version.is_some() {
                        call.provider = ProviderKind::AzureOpenai;
                        call.api_version = c.api_version;
                    }
                }
            }
            "client" => cx.drop(
                v.line,
                format!("client={}", v.show()),
                "a client object is built when the program runs; set [call].base_url (and api_key_env) in the scenario",
            ),
            "json_mode" => cx.drop(
                v.line,
                format!("json_mode={}", v.show()),
                "JSON mode changes the request, not what counts as valid: add `validators = [{ json = true }]` to [response] to check it",
            ),
            "output_parser" => cx.drop(
                v.line,
                format!("output_parser={}", v.show()),
                "a parser function runs code; retrylab validates answers with [response] validators",
            ),
            other => cx.drop(v.line, format!("{other}={}", v.show()), "not an argument retrylab maps"),
        }
    }
    if !args.kwargs.iter().any(|(k, _)| k == "client") {
        super::sdk_default::note(cx, e.line, "the call's default client (no client=)");
    }
    decl.call = call;
    decl
}

fn placeholder_model(p: ProviderKind) -> String {
    match p {
        ProviderKind::Anthropic => "claude-3-5-sonnet-latest".into(),
        _ => "gpt-4o-mini".into(),
    }
}

pub fn call_params(cx: &mut Ctx, v: &Expr, call: &mut CallDraft) {
    let pairs: Vec<(String, &Expr)> = match &v.kind {
        ExprKind::Dict(kv) => kv
            .iter()
            .filter_map(|(k, x)| Some((k.str_value()?, x)))
            .collect(),
        _ => match call_parts(v) {
            // `CommonCallParams(temperature=0.2)` / `dict(...)`.
            Some((_, args, _)) => args.kwargs.iter().map(|(k, x)| (k.clone(), x)).collect(),
            None => {
                cx.drop(
                    v.line,
                    format!("call_params={}", v.show()),
                    cx.not_literal(v),
                );
                return;
            }
        },
    };
    for (k, x) in pairs {
        match (k.as_str(), cx.number(x)) {
            ("temperature", Ok(t)) => call.temperature = Some(t),
            ("max_tokens" | "max_completion_tokens", Ok(n))
                if n >= 1.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) =>
            {
                call.max_tokens = Some(n as u32);
            }
            (_, Err(why)) if matches!(k.as_str(), "temperature" | "max_tokens") => {
                cx.drop(x.line, format!("call_params {k}"), why);
            }
            _ => cx.drop(
                x.line,
                format!("call_params {k}={}", x.show()),
                "retrylab sends temperature and max_tokens only",
            ),
        }
    }
}

/// One `@fallback(...)` hop as written.
pub struct HopDecl {
    pub catch: Vec<String>,
    /// The hop's `"client"` when the exporter's harness built it.
    pub client: Option<super::harness::Client>,
    pub provider: ProviderKind,
    pub base_url: Option<String>,
    pub model: String,
}

pub struct FallbackDecl {
    pub catch: Vec<String>,
    pub hops: Vec<HopDecl>,
}

pub fn is_fallback(cx: &Ctx, e: &Expr) -> bool {
    let callee = call_parts(e).map_or(e, |(f, _, _)| f);
    cx.m.qualified(callee).is_some_and(|q| {
        q == "mirascope.retries.fallback" || q == "mirascope.retries.fallback.fallback"
    })
}

/// The classes of a `catch` value: one class or a tuple of them.
fn catch_classes(cx: &mut Ctx, e: &Expr) -> Vec<String> {
    match &e.kind {
        ExprKind::Tuple(v) | ExprKind::List(v) => v
            .iter()
            .filter_map(|x| class_name(cx, x, "a fallback catch"))
            .collect(),
        _ => class_name(cx, e, "a fallback catch").into_iter().collect(),
    }
}

/// `primary_params`: the call's own `call_params`, which a hop may repeat.
pub fn read_fallback(
    cx: &mut Ctx,
    e: &Expr,
    primary_params: Option<&Expr>,
) -> Option<FallbackDecl> {
    let Some((_, args, _)) = call_parts(e) else {
        cx.drop(
            e.line,
            "@fallback without arguments",
            "it needs the errors to catch and the fallbacks",
        );
        return None;
    };
    let catch = args
        .get(Some(0), "catch")
        .map(|c| catch_classes(cx, c))
        .unwrap_or_default();
    let mut hops = Vec::new();
    match args.get(Some(1), "fallbacks").map(|f| &f.kind) {
        Some(ExprKind::List(items) | ExprKind::Tuple(items)) => {
            for item in items {
                let ExprKind::Dict(kv) = &item.kind else {
                    cx.drop(item.line, format!("fallback `{}`", item.show()), "each fallback must be a dict literal {\"catch\": ..., \"provider\": ..., \"model\": ...}");
                    continue;
                };
                let get = |k: &str| {
                    kv.iter()
                        .find(|(key, _)| key.str_value().as_deref() == Some(k))
                        .map(|(_, v)| v)
                };
                let (Some(p), Some(m)) = (get("provider"), get("model")) else {
                    cx.drop(
                        item.line,
                        format!("fallback `{}`", item.show()),
                        "it lacks a provider or a model",
                    );
                    continue;
                };
                let (Ok(p), Ok(model)) = (cx.string(p), cx.string(m)) else {
                    cx.drop(
                        item.line,
                        format!("fallback `{}`", item.show()),
                        "its provider and model must be string literals",
                    );
                    continue;
                };
                let (provider, base_url) = provider(cx, &p, item.line);
                let catch = get("catch")
                    .map(|c| catch_classes(cx, c))
                    .unwrap_or_default();
                let client = get("client").and_then(|c| super::harness::client(cx, c));
                let provider = match &client {
                    Some(c) if c.sdk == "gemini" => ProviderKind::Gemini,
                    _ => provider,
                };
                for (key, v) in kv {
                    let k = key.str_value().unwrap_or_default();
                    // The exporter repeats the primary's call_params on every hop.
                    let harness_key = match k.as_str() {
                        "client" => client.is_some(),
                        "call_params" => {
                            cx.harness.is_some()
                                && primary_params.is_some_and(|p| p.show() == v.show())
                        }
                        _ => false,
                    };
                    if !harness_key && !matches!(k.as_str(), "catch" | "provider" | "model") {
                        cx.drop(
                            v.line,
                            format!("fallback key \"{k}\""),
                            "a hop's call_params and client are not mapped",
                        );
                    }
                }
                hops.push(HopDecl {
                    catch,
                    client,
                    provider,
                    base_url,
                    model,
                });
            }
        }
        Some(_) | None => cx.drop(
            e.line,
            "the fallbacks of @fallback",
            "not a list literal of dicts",
        ),
    }
    Some(FallbackDecl { catch, hops })
}

/// `tools=[f, g]` → tool drafts (each a function of this file).
pub fn read_tools(cx: &mut Ctx, e: &Expr) -> Vec<ToolDraft> {
    let (ExprKind::List(items) | ExprKind::Tuple(items)) = &e.kind else {
        cx.drop(e.line, format!("tools={}", e.show()), "not a list literal");
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let Some(name) = item.dotted() else {
            cx.drop(
                item.line,
                format!("tool `{}`", item.show()),
                "not a function name",
            );
            continue;
        };
        let Some(f) = cx.m.function(&name).cloned() else {
            let why = if cx.m.class(&name).is_some() {
                "a BaseTool class: only function tools are read"
            } else {
                "not defined in this file"
            };
            cx.drop(item.line, format!("tool `{name}`"), why);
            continue;
        };
        out.push(tool(cx, &f));
    }
    out
}

fn json_type(cx: &Ctx, ann: Option<&Expr>) -> Option<toml::Value> {
    let ann = ann?;
    let simple = |t: &str| {
        let mut m = toml::Table::new();
        m.insert("type".into(), toml::Value::String(t.into()));
        Some(toml::Value::Table(m))
    };
    match ann.dotted().as_deref() {
        Some("str") => return simple("string"),
        Some("int") => return simple("integer"),
        Some("float") => return simple("number"),
        Some("bool") => return simple("boolean"),
        _ => {}
    }
    if let ExprKind::Subscript(base, idx) = &ann.kind
        && matches!(
            cx.m.qualified(base).as_deref(),
            Some("list" | "typing.List")
        )
    {
        let mut m = toml::Table::new();
        m.insert("type".into(), toml::Value::String("array".into()));
        if let Some(items) = json_type(cx, idx.first()) {
            m.insert("items".into(), items);
        }
        return Some(toml::Value::Table(m));
    }
    None
}

pub fn tool(cx: &mut Ctx, f: &Function) -> ToolDraft {
    let mut props = toml::Table::new();
    let mut required = Vec::new();
    for p in f.params.iter().filter(|p| !p.star && p.name != "self") {
        let t = json_type(cx, p.annotation.as_ref()).unwrap_or_else(|| {
            cx.drop(
                f.line,
                format!("the type of tool argument `{}`", p.name),
                "only str, int, float, bool and list[...] are mapped; it accepts any JSON value",
            );
            toml::Value::Table(toml::Table::new())
        });
        props.insert(p.name.clone(), t);
        if p.default.is_none() {
            required.push(toml::Value::String(p.name.clone()));
        }
    }
    let mut schema = toml::Table::new();
    schema.insert("type".into(), toml::Value::String("object".into()));
    schema.insert("properties".into(), toml::Value::Table(props));
    schema.insert("required".into(), toml::Value::Array(required));
    let (cases, default) = tool_answers(cx, f);
    ToolDraft {
        name: f.name.clone(),
        description: f
            .docstring()
            .map(|d| d.trim().to_string())
            .unwrap_or_default(),
        parameters: toml::Value::Table(schema),
        cases,
        default,
    }
}

type Case = (Vec<(String, toml::Value)>, String);

/// `if title == "X": return "Y"` chains → cases; the `else` (or a last `return`) → default.
fn tool_answers(cx: &mut Ctx, f: &Function) -> (Vec<Case>, Option<String>) {
    let mut cases = Vec::new();
    let mut default = None;
    let mut answered = false;
    for stmt in &f.body {
        match stmt {
            Stmt::If(branches, _) => {
                for (cond, body) in branches {
                    let ret = body.iter().find_map(|s| match s {
                        Stmt::Return(Some(e), _) => Some(e),
                        _ => None,
                    });
                    let answer = ret.and_then(|e| cx.string(e).ok());
                    match (cond, answer) {
                        (Some(c), Some(a)) => match condition(cx, c) {
                            Some(when) => cases.push((when, a)),
                            None => cx.drop(
                                c.line,
                                format!("the tool case `if {}`", c.show()),
                                "only `arg == literal` (joined by `and`) is read",
                            ),
                        },
                        (None, Some(a)) => default = Some(a),
                        (_, None) => cx.drop(
                            f.line,
                            format!("a branch of tool `{}`", f.name),
                            "it does not return a string literal",
                        ),
                    }
                }
                answered = true;
            }
            Stmt::Return(Some(e), line) => {
                match cx.string(e) {
                    Ok(a) => default = Some(a),
                    Err(_) => cx.drop(
                        *line,
                        format!("the answer of tool `{}`", f.name),
                        "it is computed when the program runs: the tool answers its default",
                    ),
                }
                answered = true;
                break;
            }
            _ => {}
        }
    }
    if !answered {
        cx.drop(
            f.line,
            format!("the body of tool `{}`", f.name),
            "no literal answers to read: the tool answers its default",
        );
    }
    (cases, default)
}

fn condition(cx: &Ctx, c: &Expr) -> Option<Vec<(String, toml::Value)>> {
    match &c.kind {
        ExprKind::Bin(op, a, b) if op == "and" => {
            let mut l = condition(cx, a)?;
            l.extend(condition(cx, b)?);
            Some(l)
        }
        ExprKind::Bin(op, a, b) if op == "==" => {
            let name = a.dotted().filter(|n| !n.contains('.'))?;
            let v = match &b.kind {
                ExprKind::Num(n) if n.fract() == 0.0 => toml::Value::Integer(*n as i64),
                ExprKind::Num(n) => toml::Value::Float(*n),
                ExprKind::Bool(x) => toml::Value::Boolean(*x),
                _ => toml::Value::String(cx.string(b).ok()?),
            };
            Some(vec![(name, v)])
        }
        _ => None,
    }
}

/// `response_model=...` → validators.
pub fn read_response_model(cx: &mut Ctx, e: &Expr) -> Vec<ValidatorDraft> {
    if e.dotted().as_deref() == Some("str") {
        return Vec::new();
    }
    if let ExprKind::Subscript(base, idx) = &e.kind {
        match cx.m.qualified(base).as_deref() {
            Some("typing.Annotated" | "typing_extensions.Annotated" | "Annotated") => {
                let mut out = Vec::new();
                if idx.first().and_then(Expr::dotted).as_deref() != Some("str") {
                    cx.drop(
                        e.line,
                        format!("response_model {}", e.show()),
                        "only Annotated[str, ...] is read",
                    );
                    return out;
                }
                for v in &idx[1..] {
                    out.extend(after_validator(cx, v));
                }
                return out;
            }
            Some("typing.Literal" | "typing_extensions.Literal" | "Literal") => {
                let options: Option<Vec<String>> = idx.iter().map(|x| cx.string(x).ok()).collect();
                if let Some(options) = options.filter(|o| !o.is_empty()) {
                    return vec![ValidatorDraft::OneOf(options)];
                }
            }
            _ => {}
        }
    }
    let why = match e.dotted().and_then(|n| cx.m.class(&n)) {
        Some(c) => {
            let pydantic = c
                .bases
                .iter()
                .any(|b| b.dotted().is_some_and(|d| d.ends_with("BaseModel")));
            let fields: Vec<&str> = c.fields.iter().map(|f| f.name.as_str()).collect();
            format!(
                "`{}` (line {}, fields {}) is {}: Mirascope extracts it through a tool call, which retrylab does not emulate",
                c.name,
                c.line,
                fields.join(", "),
                if pydantic {
                    "a pydantic model"
                } else {
                    "a model class"
                }
            )
        }
        None => "only str, Annotated[str, AfterValidator(...)] and Literal[...] are read".into(),
    };
    cx.drop(e.line, format!("response_model={}", e.show()), why);
    Vec::new()
}

fn after_validator(cx: &mut Ctx, v: &Expr) -> Vec<ValidatorDraft> {
    let target = call_parts(v).and_then(|(f, args, _)| {
        let q = cx.m.qualified(f)?;
        q.ends_with("AfterValidator")
            .then(|| args.args.first().and_then(Expr::dotted))?
    });
    let Some(name) = target else {
        cx.drop(
            v.line,
            format!("`{}` in response_model", v.show()),
            "only AfterValidator(function) is read",
        );
        return Vec::new();
    };
    let Some(f) = cx.m.function(&name).cloned() else {
        cx.drop(
            v.line,
            format!("validator `{name}`"),
            "not defined in this file",
        );
        return Vec::new();
    };
    let arg = f.params.first().map(|p| p.name.clone()).unwrap_or_default();
    let mut out = Vec::new();
    for stmt in &f.body {
        let cond = match stmt {
            Stmt::Assert(c) => Some(c.clone()),
            // `if not COND: raise ...`
            Stmt::If(branches, _) => match branches.as_slice() {
                [(Some(c), body)] if body.iter().any(|s| matches!(s, Stmt::Raise)) => {
                    match &c.kind {
                        ExprKind::Unary(op, inner) if op == "not" => Some((**inner).clone()),
                        _ => None,
                    }
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(c) = cond {
            match check(cx, &c, &arg) {
                Some(vd) => out.push(vd),
                None => cx.drop(c.line, format!("the check `{}` in validator `{name}`", c.show()), "only v.isupper(), len(v) <= n, v in (...) and re.(full)match(pattern, v) are read"),
            }
        }
    }
    if out.is_empty() {
        cx.drop(
            f.line,
            format!("validator `{name}`"),
            "no check in it could be read",
        );
    }
    out
}

fn check(cx: &Ctx, c: &Expr, arg: &str) -> Option<ValidatorDraft> {
    let is_arg = |e: &Expr| e.dotted().as_deref() == Some(arg);
    match &c.kind {
        ExprKind::Call { func, args, .. } if args.is_empty() => {
            if let ExprKind::Attr(on, m) = &func.kind
                && is_arg(on)
                && m == "isupper"
            {
                return Some(ValidatorDraft::Uppercase);
            }
            None
        }
        ExprKind::Call { func, args, .. } => {
            let q = cx.m.qualified(func)?;
            let (pattern, subject) = (args.first()?, args.get(1)?);
            if !is_arg(subject) {
                return None;
            }
            let p = cx.string(pattern).ok()?;
            match q.as_str() {
                "re.fullmatch" => Some(ValidatorDraft::Regex(format!("^(?:{p})$"))),
                "re.match" => Some(ValidatorDraft::Regex(format!("^(?:{p})"))),
                "re.search" => Some(ValidatorDraft::Regex(p)),
                _ => None,
            }
        }
        ExprKind::Bin(op, a, b) if op == "<=" || op == "<" => {
            let ExprKind::Call { func, args, .. } = &a.kind else {
                return None;
            };
            if func.dotted().as_deref() != Some("len") || !args.first().is_some_and(is_arg) {
                return None;
            }
            let n = cx.number(b).ok()?;
            let n = if op == "<" { n - 1.0 } else { n };
            (n >= 0.0 && n.fract() == 0.0).then_some(ValidatorDraft::MaxChars(n as usize))
        }
        ExprKind::Bin(op, a, b) if op == "in" && is_arg(a) => {
            let (ExprKind::Tuple(items) | ExprKind::List(items)) = &b.kind else {
                return None;
            };
            let options: Option<Vec<String>> = items.iter().map(|x| cx.string(x).ok()).collect();
            options.filter(|o| !o.is_empty()).map(ValidatorDraft::OneOf)
        }
        _ => None,
    }
}
