//! Writing Python: literals, Tenacity's stop and wait expressions, the SDK exception classes of
//! each error kind, timeouts, the prompt template as code. Shared by the Python targets, so
//! `--to mirascope` and `--to tenacity` say the same policy the same way.

use super::Findings;
use crate::error::ErrorKind;
use crate::policy::wait::{ExponentialParams, IncrementingParams, JitterParams, RandomParams};
use crate::policy::{RetryPolicy, Secs, Stop, Wait};
use crate::pyimport::harness::{self, Harness};
use crate::pyimport::sdk::Sdk;
use crate::scenario::Scenario;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The harness every Python export carries (clients, trace, kinds, Retry-After, validators).
pub const RUNTIME: &str = include_str!("runtime.py");

/// A Python string literal (JSON's escapes are Python's).
pub fn lit(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Seconds as a Python number.
pub fn secs(s: Secs) -> String {
    num(s.0)
}

pub fn num(v: f64) -> String {
    if v.is_infinite() {
        "float(\"inf\")".into()
    } else {
        format!("{v}")
    }
}

/// A TOML value as a Python literal.
pub fn value(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => lit(s),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => num(*f),
        toml::Value::Boolean(b) => if *b { "True" } else { "False" }.into(),
        toml::Value::Datetime(d) => lit(&d.to_string()),
        toml::Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(value).collect();
            format!("[{}]", parts.join(", "))
        }
        toml::Value::Table(t) => {
            let parts: Vec<String> = t
                .iter()
                .map(|(k, v)| format!("{}: {}", lit(k), value(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// A JSON value as a Python literal (schemas, for the harness's validators).
pub fn json(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "None".into(),
        serde_json::Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => lit(s),
        serde_json::Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(json).collect();
            format!("[{}]", parts.join(", "))
        }
        serde_json::Value::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", lit(k), json(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// A Python identifier from any text (`gpt-4o-mini` → `gpt_4o_mini`), its case kept: a tool's
/// function name is the tool's name on the wire, and `Book` and `book` are two variables.
pub fn ident(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// The Python function of a tool: its name as an identifier, unless that would shadow a name
/// the exported program defines or imports itself (`retry`, `call`, `json`, …): then
/// `tool_<name>` (the program sets its `__name__` back, so the model sees the same tool).
pub fn tool_fn(name: &str) -> String {
    let i = ident(name);
    let generated = i.starts_with("hop_")
        || i.starts_with("client_")
        || i.ends_with("_prompt")
        || PROGRAM_NAMES.contains(&i.as_str());
    if generated || harness_names().contains(&i) {
        format!("tool_{i}")
    } else {
        i
    }
}

/// Names the exported programs define or import beside the harness's own.
const PROGRAM_NAMES: &[&str] = &[
    "call",
    "outcome",
    "main",
    "Answer",
    "HOPS",
    "TOOLS",
    "TIMEOUT",
    "BASE_URL",
    "Annotated",
    "llm",
    "Messages",
    "FallbackError",
    "fallback",
    "collect_errors",
    "AfterValidator",
    "TypeAdapter",
    "ValidationError",
    "retry",
    "retry_if_exception",
    "retry_if_exception_type",
    "stop_after_attempt",
    "stop_after_delay",
    "stop_before_delay",
    "stop_never",
    "wait_chain",
    "wait_exponential",
    "wait_exponential_jitter",
    "wait_fixed",
    "wait_incrementing",
    "wait_none",
    "wait_random",
    "wait_random_exponential",
];

/// Every top-level name of the embedded harness files (`def`, `class`, assignments and
/// imports at column 0), read once.
fn harness_names() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let mut out = Vec::new();
        for line in RUNTIME.lines().chain(super::tenacity::SDK_CALLS.lines()) {
            let head = |rest: &str| -> String {
                rest.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect()
            };
            if let Some(rest) = line
                .strip_prefix("def ")
                .or_else(|| line.strip_prefix("class "))
            {
                out.push(head(rest));
            } else if let Some(rest) = line.strip_prefix("import ") {
                out.push(head(rest));
            } else if let Some((_, names)) = line
                .strip_prefix("from ")
                .and_then(|l| l.split_once(" import "))
            {
                out.extend(names.split(',').map(|n| head(n.trim())));
            } else if let Some((name, _)) = line.split_once(" = ")
                && !name.starts_with(' ')
                && !name.is_empty()
            {
                out.push(head(name));
            }
        }
        out.retain(|n| !n.is_empty());
        out
    })
}

// Python's keywords: an identifier spelled like one gets a `_` (`class` → `class_`).
use crate::pyimport::harness::KEYWORDS;

/// A prompt variable as a parameter of the prompt function: a `_` is appended when it would
/// be a keyword or one of the function's own names (`prompt`, `texts`, …), which would
/// overwrite the variable before the template reads it.
pub fn var_ident(s: &str) -> String {
    let mut out = ident(s);
    if harness::PROMPT_LOCALS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// Tenacity's stop: `stop_after_attempt(3) | stop_after_delay(120)`.
pub fn stop(s: &Stop) -> String {
    match s {
        Stop::AfterAttempt(n) => format!("stop_after_attempt({n})"),
        Stop::AfterDelay(d) => format!("stop_after_delay({})", secs(*d)),
        Stop::BeforeDelay(d) => format!("stop_before_delay({})", secs(*d)),
        Stop::Any(l) if l.is_empty() => "stop_never".into(),
        Stop::All(l) if l.is_empty() => "stop_after_attempt(1)".into(),
        Stop::Any(l) => join(l.iter().map(stop_operand), " | "),
        Stop::All(l) => join(l.iter().map(stop_operand), " & "),
    }
}

fn stop_operand(s: &Stop) -> String {
    match s {
        Stop::Any(l) | Stop::All(l) if l.len() > 1 => format!("({})", stop(s)),
        _ => stop(s),
    }
}

fn join(parts: impl Iterator<Item = String>, sep: &str) -> String {
    parts.collect::<Vec<_>>().join(sep)
}

/// Tenacity's wait, with its own formulas (the policy's are Tenacity's exactly).
pub fn wait(w: &Wait) -> String {
    fn kw(parts: Vec<Option<String>>) -> String {
        parts.into_iter().flatten().collect::<Vec<_>>().join(", ")
    }
    let opt =
        |name: &str, v: Secs, default: Secs| (v != default).then(|| format!("{name}={}", secs(v)));
    match w {
        Wait::Fixed(s) => format!("wait_fixed({})", secs(*s)),
        Wait::Random(RandomParams { min, max }) => {
            format!("wait_random(min={}, max={})", secs(*min), secs(*max))
        }
        Wait::Exponential(p) | Wait::RandomExponential(p) => {
            let ExponentialParams {
                multiplier,
                exp_base,
                min,
                max,
            } = p;
            let name = if matches!(w, Wait::Exponential(_)) {
                "wait_exponential"
            } else {
                "wait_random_exponential"
            };
            let args = kw(vec![
                Some(format!("multiplier={}", num(*multiplier))),
                opt("min", *min, Secs::ZERO),
                opt("max", *max, Secs::INF),
                ((*exp_base - 2.0).abs() > f64::EPSILON)
                    .then(|| format!("exp_base={}", num(*exp_base))),
            ]);
            format!("{name}({args})")
        }
        Wait::ExponentialJitter(JitterParams {
            initial,
            exp_base,
            max,
            jitter,
        }) => {
            let args = kw(vec![
                Some(format!("initial={}", secs(*initial))),
                opt("max", *max, Secs::INF),
                ((*exp_base - 2.0).abs() > f64::EPSILON)
                    .then(|| format!("exp_base={}", num(*exp_base))),
                Some(format!("jitter={}", secs(*jitter))),
            ]);
            format!("wait_exponential_jitter({args})")
        }
        Wait::Incrementing(IncrementingParams {
            start,
            increment,
            max,
        }) => {
            let args = kw(vec![
                Some(format!("start={}", secs(*start))),
                Some(format!("increment={}", secs(*increment))),
                opt("max", *max, Secs::INF),
            ]);
            format!("wait_incrementing({args})")
        }
        Wait::Chain(l) if l.is_empty() => "wait_none()".into(),
        Wait::Chain(l) => format!("wait_chain({})", join(l.iter().map(wait), ", ")),
        Wait::Sum(l) if l.is_empty() => "wait_none()".into(),
        Wait::Sum(l) => join(l.iter().map(wait), " + "),
        // Tenacity has none: the harness's small wait callable (AWS's formula).
        Wait::DecorrelatedJitter(p) => {
            let args = kw(vec![
                Some(format!("base={}", secs(p.base))),
                opt("max", p.max, Secs::INF),
            ]);
            format!("wait_decorrelated_jitter({args})")
        }
    }
}

/// The wait of a policy, Retry-After included when honoured (Tenacity lacks it: the
/// harness's `wait_retry_after`).
/// `jitter` is `retry_after_jitter` (uniform(0, jitter) on top of the Retry-After, as the
/// harness's `wait_retry_after` draws it).
pub fn policy_wait(p: &RetryPolicy, jitter: Secs) -> Option<String> {
    let backoff = p.wait.as_ref().map(wait);
    if p.honor_retry_after {
        let inner = backoff.unwrap_or_else(|| "None".into());
        let jitter = if jitter.0 > 0.0 {
            format!(", jitter={}", secs(jitter))
        } else {
            String::new()
        };
        Some(format!(
            "wait_retry_after({inner}, cap={}{jitter})",
            secs(p.retry_after_max)
        ))
    } else {
        backoff
    }
}

/// Which flavour of exception a kind maps to: Mirascope raises pydantic's ValidationError
/// for bad tool arguments; plain Tenacity code raises the harness's own class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Mirascope,
    Plain,
}

/// The exception classes (Python expressions) a kind is raised as.
pub fn classes(kind: ErrorKind, flavour: Flavour) -> &'static [&'static str] {
    match kind {
        ErrorKind::RateLimit => &["openai.RateLimitError", "anthropic.RateLimitError"],
        ErrorKind::Overloaded => &[
            "openai.InternalServerError",
            "anthropic.OverloadedError",
            "anthropic.InternalServerError",
        ],
        ErrorKind::ServerError => &[
            "openai.InternalServerError",
            "anthropic.InternalServerError",
        ],
        ErrorKind::Timeout => &["openai.APITimeoutError", "anthropic.APITimeoutError"],
        ErrorKind::Connection => &["openai.APIConnectionError", "anthropic.APIConnectionError"],
        ErrorKind::StreamInterrupted => &["StreamInterrupted", "httpx.TransportError"],
        ErrorKind::Auth => &[
            "openai.AuthenticationError",
            "openai.PermissionDeniedError",
            "anthropic.AuthenticationError",
            "anthropic.PermissionDeniedError",
        ],
        ErrorKind::BadRequest => &[
            "openai.BadRequestError",
            "openai.NotFoundError",
            "openai.UnprocessableEntityError",
            "anthropic.BadRequestError",
            "anthropic.NotFoundError",
            "anthropic.UnprocessableEntityError",
        ],
        ErrorKind::ContextLength => &["openai.BadRequestError", "anthropic.BadRequestError"],
        ErrorKind::ContentFilter => &["ContentFiltered"],
        ErrorKind::QuotaExhausted => &["openai.RateLimitError", "anthropic.BadRequestError"],
        ErrorKind::Redirect => &["openai.APIStatusError", "anthropic.APIStatusError"],
        ErrorKind::Validation => &["ValidationError"],
        ErrorKind::ToolValidation => match flavour {
            Flavour::Mirascope => &["ValidationError"],
            Flavour::Plain => &["ToolArgumentsInvalid"],
        },
        ErrorKind::RetryError => &["RetryError"],
        ErrorKind::FallbackError => &["FallbackError"],
        // No Python stack has a breaker or a budget to raise them (a finding says so).
        ErrorKind::CircuitOpen | ErrorKind::BudgetExhausted => &[],
        // retrylab's own verdicts ([fallback].on_result, [limits]): refused in retry_on,
        // reinsert and catch at load, so no except clause ever names them.
        ErrorKind::Length | ErrorKind::Empty | ErrorKind::LimitExceeded => &[],
        ErrorKind::Any => &["Exception"],
    }
}

/// The classes of `kinds`, deduplicated, in order.
fn class_names(kinds: &[ErrorKind], flavour: Flavour) -> Vec<&'static str> {
    let mut names: Vec<&str> = Vec::new();
    for k in kinds {
        for c in classes(*k, flavour) {
            if !names.contains(c) {
                names.push(c);
            }
        }
    }
    names
}

fn tuple(names: &[&str]) -> String {
    if names.len() == 1 {
        names[0].to_string()
    } else {
        format!("({})", names.join(", "))
    }
}

/// The kinds an `except`/`isinstance` on these classes catches for `sdk`'s errors: what
/// `retrylab import` reads them as (one table, `pyimport::sdk`, for both directions).
pub fn caught(names: &[&str], flavour: Flavour, sdk: Sdk) -> Vec<ErrorKind> {
    let h = harness_of(flavour);
    let mut out = Vec::new();
    for n in names {
        for (k, _) in crate::pyimport::sdk::kinds_caught(&harness::qualify(n, h), sdk) {
            if !out.contains(&k) {
                out.push(k);
            }
        }
    }
    out
}

/// The kinds besides `kinds` that `names` catch for any of `sdks`.
fn swept(kinds: &[ErrorKind], names: &[&str], flavour: Flavour, sdks: &[Sdk]) -> Vec<ErrorKind> {
    if kinds.contains(&ErrorKind::Any) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for sdk in sdks {
        for k in caught(names, flavour, *sdk) {
            if !k.is_in(kinds) && !out.contains(&k) {
                out.push(k);
            }
        }
    }
    out
}

fn harness_of(flavour: Flavour) -> Harness {
    match flavour {
        Flavour::Mirascope => Harness::Mirascope,
        Flavour::Plain => Harness::Tenacity,
    }
}

/// A tuple of the classes of `kinds`, for `except` and `@fallback`'s `catch`; notes each
/// other kind the classes also catch for the SDKs of `sdks` (a class list cannot say less).
pub fn class_tuple(
    kinds: &[ErrorKind],
    flavour: Flavour,
    what: &str,
    sdks: &[Sdk],
    f: &mut Findings,
) -> String {
    let names = class_names(kinds, flavour);
    for other in swept(kinds, &names, flavour, sdks) {
        f.note(format!(
            "{what}: {other} shares its exception class with {}, so it is covered too",
            listed_names(kinds)
        ));
    }
    tuple(&names)
}

fn listed_names(kinds: &[ErrorKind]) -> String {
    kinds
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Kinds the harness's `kind_of` cannot tell apart in this flavour: Mirascope raises
/// pydantic's ValidationError both for an answer and for a tool's arguments.
fn inseparable(kinds: &[ErrorKind], flavour: Flavour) -> Vec<ErrorKind> {
    let pair = [ErrorKind::Validation, ErrorKind::ToolValidation];
    if flavour == Flavour::Mirascope && pair.iter().any(|k| kinds.contains(k)) {
        pair.to_vec()
    } else {
        Vec::new()
    }
}

/// Tenacity's retry predicate for `retry_on`: the SDK classes, plus Anthropic's
/// `overloaded_error` inside a 200 stream (the SDK raises the bare APIStatusError for it).
/// When the classes also catch kinds not retried (openai.RateLimitError is rate_limit and
/// quota_exhausted), `& retry_if_exception(kind_in(...))` narrows them to the kinds listed,
/// so the program retries exactly what the scenario does (and imports back the same).
pub fn retry_predicate(
    p: &RetryPolicy,
    flavour: Flavour,
    sdks: &[Sdk],
    f: &mut Findings,
) -> String {
    let names = class_names(&p.retry_on, flavour);
    let mut out = format!("retry_if_exception_type({})", tuple(&names));
    let overloaded =
        ErrorKind::Overloaded.is_in(&p.retry_on) && !p.retry_on.contains(&ErrorKind::Any);
    if overloaded {
        out.push_str(" | retry_if_exception(overloaded_in_stream)");
    }
    let partners = inseparable(&p.retry_on, flavour);
    let extra: Vec<ErrorKind> = swept(&p.retry_on, &names, flavour, sdks)
        .into_iter()
        .filter(|k| !partners.contains(k))
        .collect();
    for k in swept(&p.retry_on, &names, flavour, sdks) {
        if partners.contains(&k) {
            f.note(format!(
                "retry_on: {k} shares its exception class with {} (pydantic's ValidationError), so it is retried too",
                listed_names(&p.retry_on)
            ));
        }
    }
    if !extra.is_empty() {
        let mut listed: Vec<ErrorKind> = p.retry_on.clone();
        for k in partners {
            if !listed.contains(&k) {
                listed.push(k);
            }
        }
        let kinds: Vec<String> = listed.iter().map(|k| lit(k.as_str())).collect();
        if overloaded {
            out = format!("({out})");
        }
        out = format!("{out} & retry_if_exception(kind_in({}))", kinds.join(", "));
    }
    out
}

pub fn sdk_of(p: crate::scenario::ProviderKind) -> Sdk {
    match p {
        crate::scenario::ProviderKind::Anthropic => Sdk::Anthropic,
        _ => Sdk::Openai,
    }
}

/// The SDK each hop speaks (the primary first).
pub fn sdks(s: &Scenario) -> Vec<Sdk> {
    let mut out = Vec::new();
    for h in super::pyprog::hops(s) {
        let sdk = sdk_of(h.provider);
        if !out.contains(&sdk) {
            out.push(sdk);
        }
    }
    out
}

/// The SDK's timeouts: httpx has connect and read (between bytes, so first byte and idle);
/// a whole-attempt limit has no httpx spelling.
pub fn timeout(s: &Scenario, f: &mut Findings) -> String {
    let c = &s.call;
    let total = c.timeout.unwrap_or(Secs(60.0));
    let read = match (c.first_byte_timeout, c.idle_timeout) {
        (Some(a), Some(b)) => {
            if (a.0 - b.0).abs() > f64::EPSILON {
                f.note("first_byte_timeout and idle_timeout differ: httpx has one read timeout, the shorter is used");
            }
            Some(Secs(a.0.min(b.0)))
        }
        (a, b) => a.or(b),
    };
    if c.timeout.is_some() {
        f.note("timeout (the whole attempt): httpx has no total limit; it bounds each read and the connect instead");
    }
    let mut out = format!("httpx.Timeout({}", secs(total));
    if let Some(ct) = c.connect_timeout {
        let _ = write!(out, ", connect={}", secs(ct));
    }
    if let Some(r) = read {
        let _ = write!(out, ", read={}", secs(r));
    }
    out.push(')');
    out
}

/// A prompt template as Python statements building `prompt` (indented 4), for the subset
/// minijinja and Python agree on: text, `{{ name }}`, `{% if [not] name %}`, `{% else %}`,
/// `{% endif %}`. `errors_var` names the Python list of reinserted texts.
pub fn template(source: &str, target: &str, errors_var: &str, f: &mut Findings) -> String {
    let mut out = format!("    {target} = \"\"\n");
    let mut depth = 1usize;
    let mut rest = source;
    let pad = |d: usize| "    ".repeat(d);
    while !rest.is_empty() {
        let next = [rest.find("{{"), rest.find("{%"), rest.find("{#")]
            .into_iter()
            .flatten()
            .min();
        let Some(at) = next else {
            let _ = writeln!(out, "{}{target} += {}", pad(depth), lit(rest));
            break;
        };
        if at > 0 {
            let _ = writeln!(out, "{}{target} += {}", pad(depth), lit(&rest[..at]));
        }
        let open = &rest[at..at + 2];
        let close = match open {
            "{{" => "}}",
            "{%" => "%}",
            _ => "#}",
        };
        let Some(end) = rest[at + 2..].find(close) else {
            f.note("the template has an unclosed tag: kept as text");
            let _ = writeln!(out, "{}{target} += {}", pad(depth), lit(&rest[at..]));
            break;
        };
        let raw = &rest[at + 2..at + 2 + end];
        let inner = raw.trim_matches(|c: char| c == '-' || c.is_whitespace());
        let tag_text = &rest[at..at + 4 + end];
        rest = &rest[at + 4 + end..];
        let var = |name: &str| {
            if name == "errors" {
                format!("jinja_list({errors_var})")
            } else {
                format!("jinja_str({})", var_ident(name))
            }
        };
        match open {
            "{#" => {}
            "{{" if is_name(inner) => {
                let _ = writeln!(out, "{}{target} += {}", pad(depth), var(inner));
            }
            "{%" => {
                let words: Vec<&str> = inner.split_whitespace().collect();
                match words.as_slice() {
                    ["if", name] if is_name(name) => {
                        let cond = if *name == "errors" {
                            errors_var.to_string()
                        } else {
                            var_ident(name)
                        };
                        let _ = writeln!(out, "{}if {cond}:", pad(depth));
                        depth += 1;
                    }
                    ["if", "not", name] if is_name(name) => {
                        let cond = if *name == "errors" {
                            errors_var.to_string()
                        } else {
                            var_ident(name)
                        };
                        let _ = writeln!(out, "{}if not {cond}:", pad(depth));
                        depth += 1;
                    }
                    ["else"] if depth > 1 => {
                        let _ = writeln!(out, "{}else:", pad(depth - 1));
                    }
                    ["endif"] if depth > 1 => {
                        let _ = writeln!(out, "{}pass", pad(depth));
                        depth -= 1;
                    }
                    _ => untranslated(&mut out, depth, target, tag_text, f),
                }
            }
            _ => untranslated(&mut out, depth, target, tag_text, f),
        }
    }
    out
}

fn untranslated(out: &mut String, depth: usize, target: &str, tag: &str, f: &mut Findings) {
    f.note(format!(
        "the template's `{tag}` has no translation (only {{{{ name }}}} and {{% if %}} are translated): kept as literal text, edit the prompt function"
    ));
    let _ = writeln!(out, "{}{target} += {}", "    ".repeat(depth), lit(tag));
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// The prompt variables as Python parameters (`book: str`) and arguments (`book="x"`).
pub fn vars(s: &Scenario) -> (Vec<String>, Vec<String>) {
    let types: BTreeMap<&String, &toml::Value> = s.prompt.vars.iter().collect();
    let params = types
        .iter()
        .map(|(k, v)| format!("{}: {}", var_ident(k), py_type(v)))
        .collect();
    let args = types
        .iter()
        .map(|(k, v)| format!("{}={}", var_ident(k), value(v)))
        .collect();
    (params, args)
}

fn py_type(v: &toml::Value) -> &'static str {
    match v {
        toml::Value::String(_) | toml::Value::Datetime(_) => "str",
        toml::Value::Integer(_) => "int",
        toml::Value::Float(_) => "float",
        toml::Value::Boolean(_) => "bool",
        toml::Value::Array(_) => "list",
        toml::Value::Table(_) => "dict",
    }
}

/// The `[response]` validators as the harness's checks (pydantic AfterValidators); notes
/// where Python's regex or JSON wording may differ from retrylab's.
pub fn validators(s: &Scenario, f: &mut Findings) -> Vec<String> {
    use crate::validate::ValidatorSpec as V;
    let Some(r) = &s.response else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for v in &r.validators {
        match v {
            V::Uppercase(true) => out.push("is_upper".to_string()),
            V::Json(true) => {
                f.note("json: parse errors beyond \"expected value\" and \"trailing characters\" are worded by Python's json module, not serde_json");
                out.push("is_json".into());
            }
            V::Uppercase(false) | V::Json(false) => {}
            V::Regex(re) => {
                f.note("regex: run by Python's `re.search`, whose syntax differs from Rust's regex crate at the edges (no \\z, lookarounds allowed)");
                out.push(format!("matches({})", lit(re.get_ref())));
            }
            V::JsonSchema(schema) => {
                let json_schema = crate::validate::toml_to_json(schema.get_ref());
                f.note("json_schema: checked by the harness's small validator (type, enum, required, properties, additionalProperties, items, minimum, maximum, minLength, maxLength; other keywords pass), worded as retrylab words it");
                out.push(format!("matches_schema({})", json(&json_schema)));
            }
            V::MaxChars(n) => out.push(format!("at_most({n})")),
            V::OneOf(opts) => {
                let list: Vec<String> = opts.iter().map(|o| lit(o)).collect();
                out.push(format!("one_of([{}])", list.join(", ")));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stop_of(src: &str) -> Stop {
        toml::from_str::<BTreeMap<String, Stop>>(&format!("s = {src}")).unwrap()["s"].clone()
    }

    fn wait_of(src: &str) -> Wait {
        toml::from_str::<BTreeMap<String, Wait>>(&format!("w = {src}")).unwrap()["w"].clone()
    }

    #[test]
    fn stops_combine_with_tenacitys_operators() {
        assert_eq!(
            stop(&stop_of("{ after_attempt = 3 }")),
            "stop_after_attempt(3)"
        );
        assert_eq!(
            stop(&stop_of(
                "{ any = [{ after_attempt = 8 }, { all = [{ after_delay = \"2m\" }, { before_delay = 30 }] }] }"
            )),
            "stop_after_attempt(8) | (stop_after_delay(120) & stop_before_delay(30))"
        );
        assert_eq!(stop(&stop_of("{ any = [] }")), "stop_never");
    }

    #[test]
    fn waits_are_tenacitys_constructors() {
        assert_eq!(
            wait(&wait_of(
                "{ exponential = { multiplier = 1, min = 4, max = 10 } }"
            )),
            "wait_exponential(multiplier=1, min=4, max=10)"
        );
        assert_eq!(
            wait(&wait_of(
                "{ chain = [{ fixed = \"250ms\" }, { sum = [{ fixed = 1 }, { random = { min = 0, max = 2 } }] }] }"
            )),
            "wait_chain(wait_fixed(0.25), wait_fixed(1) + wait_random(min=0, max=2))"
        );
        assert_eq!(
            wait(&wait_of(
                "{ exponential_jitter = { initial = 1, max = 10, jitter = 1 } }"
            )),
            "wait_exponential_jitter(initial=1, max=10, jitter=1)"
        );
    }

    #[test]
    fn templates_translate_names_and_ifs_and_note_the_rest() {
        let mut f = Findings::default();
        let code = template(
            "{% if not errors %}Hi {{ who }}{% else %}Again{% endif %}!",
            "p",
            "texts",
            &mut f,
        );
        assert_eq!(
            code,
            "    p = \"\"\n    if not texts:\n        p += \"Hi \"\n        p += jinja_str(who)\n    else:\n        p += \"Again\"\n        pass\n    p += \"!\"\n"
        );
        assert!(f.is_empty());
        template("{{ who | upper }}", "p", "texts", &mut f);
        assert_eq!(f.list().len(), 1, "{:?}", f.list());
    }
}
