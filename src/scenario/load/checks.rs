//! Semantic checks after serde: what types alone cannot say. Each check returns the first
//! problem as a key path (for the position) plus message and hint; `Spanned` values carry
//! their own spans.
//!
//! Fault-field rule (errors, never warnings): `after_tokens` only on cut_stream,
//! malformed_stream, overloaded_in_stream, stall, length and content_filter; `retry_after` and `retry_after_format` only on
//! rate_limit and overloaded (and the format only with a `retry_after`); `delay` on every
//! fault but timeout; `status` (300..=599) only on the faults that are an HTTP error reply;
//! `reply` only on the faults that send an answer or part of one, `tool_call` likewise but
//! for content_filter and length. `times = 0`, an empty `on_requests` and request number 0
//! are refused. Outages follow the same rules for the details they carry.

use super::locate::KeyPath;
use super::locate::line_col;
use crate::error::ErrorKind;
use crate::policy::duration::{MAX_WAIT, MAX_WAIT_DAYS};
use crate::policy::{Secs, Stop, Wait};
use crate::scenario::render::{
    Part, TemplateFailure, render_parts, repeating_product, self_feeding_set,
};
use crate::scenario::types::{FaultKind, FaultSpec, RetrySpec, Scenario, ValidatorSpec};
use crate::validate::{compile_schema, toml_to_json};
use std::collections::BTreeMap;
use std::ops::Range;

/// Where a problem is.
pub enum Where {
    /// A value's key path in the document.
    Path(KeyPath),
    /// A value's span (from a `Spanned` field).
    Span(Range<usize>),
    /// A position inside the prompt template or system.
    Template(TemplateFailure),
}

/// A semantic problem.
pub struct Problem {
    pub at: Where,
    pub message: String,
    pub hint: String,
}

pub(super) fn at(path: KeyPath, message: impl Into<String>, hint: impl Into<String>) -> Problem {
    Problem {
        at: Where::Path(path),
        message: message.into(),
        hint: hint.into(),
    }
}

fn p() -> KeyPath {
    KeyPath::new()
}

/// The smallest `max_answer_bytes`: below it no real answer fits.
const MIN_ANSWER_BYTES: u64 = 1024;

/// The error text the template is tried with besides the empty list, so loops over
/// `errors` are checked too.
const SAMPLE_ERROR: &str = "validation: expected uppercase, got 'example'";

/// Runs every check in file order (roughly) and returns the first problem.
pub fn check(s: &Scenario) -> Result<(), Problem> {
    check_prompt(s)?;
    check_call(s)?;
    check_retry(s)?;
    super::beyond::check_beyond(s)?;
    check_fallback(s)?;
    super::limits::check_verdict_kinds(s)?;
    check_validators(s)?;
    check_tools(s)?;
    super::sdk_hedge::check(s)?;
    super::across::check(s)?;
    super::limits::check_limits(s)?;
    check_sim(s)
}

fn check_prompt(s: &Scenario) -> Result<(), Problem> {
    if s.prompt.vars.contains_key("errors") {
        return Err(at(
            p().key("prompt").key("vars").key("errors"),
            "`errors` is reserved: it holds the reinserted error texts",
            "rename the variable",
        ));
    }
    // Before rendering: what neither the step limit nor the output cap can see (a value
    // that feeds on itself, a `*` that repeats a string) may grow past any memory.
    let parts = [
        (Part::Template, Some(s.prompt.template.get_ref())),
        (Part::System, s.prompt.system.as_ref().map(|t| t.get_ref())),
    ];
    let numeric_var = |name: &str| {
        s.prompt
            .vars
            .get(name)
            .is_some_and(|v| v.is_integer() || v.is_float())
    };
    for (part, text) in parts {
        let Some(text) = text else { continue };
        let found = if let Some((offset, name)) = self_feeding_set(text) {
            Some((
                offset,
                format!(
                    "this `{{% set %}}` builds a value from `{name}`, itself set: repeated or in a loop it can grow without bound"
                ),
                "emit the pieces with {{ }} inside the loop instead of accumulating a string (a prompt is at most 1 MiB)",
            ))
        } else {
            repeating_product(text, &numeric_var).map(|offset| {
                (
                    offset,
                    "this `*` may repeat a string or a list (up to 100 MB at a time, unseen by the step limit)".to_string(),
                    "multiply numbers only (number literals, numeric vars, range loop variables); to repeat text, loop: {% for i in range(n) %}..{% endfor %}",
                )
            })
        };
        if let Some((offset, message, hint)) = found {
            let (line, column) = line_col(text, offset);
            return Err(Problem {
                at: Where::Template(TemplateFailure {
                    part,
                    line,
                    column,
                    message,
                    hint: hint.into(),
                }),
                message: String::new(),
                hint: String::new(),
            });
        }
    }
    for errors in [Vec::new(), vec![SAMPLE_ERROR.to_string()]] {
        if let Err(f) = render_parts(s, &errors) {
            let f = TemplateFailure {
                message: if errors.is_empty() {
                    f.message
                } else {
                    format!("{} (with one reinserted error)", f.message)
                },
                ..f
            };
            return Err(Problem {
                at: Where::Template(f),
                message: String::new(),
                hint: String::new(),
            });
        }
    }
    Ok(())
}

fn check_call(s: &Scenario) -> Result<(), Problem> {
    let call = p().key("call");
    if s.call.model.trim().is_empty() {
        return Err(at(
            call.key("model"),
            "`model` is empty",
            "write the model name, e.g. model = \"gpt-4o-mini\"",
        ));
    }
    let timeouts = [
        ("timeout", s.call.timeout),
        ("connect_timeout", s.call.connect_timeout),
        ("first_byte_timeout", s.call.first_byte_timeout),
        ("idle_timeout", s.call.idle_timeout),
    ];
    for (key, value) in timeouts {
        if value.is_some_and(|v| v.0 <= 0.0) {
            return Err(at(
                call.clone().key(key),
                format!("`{key}` must be greater than 0"),
                format!("write e.g. {key} = \"30s\", or remove it for the default"),
            ));
        }
    }
    // A cap below any real answer would fail every attempt, whatever the server does.
    if let Some(n) = s.call.max_answer_bytes.filter(|&n| n < MIN_ANSWER_BYTES) {
        return Err(at(
            call.key("max_answer_bytes"),
            format!("`max_answer_bytes` must be at least {MIN_ANSWER_BYTES} (1 KiB), got {n}"),
            "remove it for the default (32 MiB), or write e.g. max_answer_bytes = 1048576",
        ));
    }
    // A non-finite temperature would go out as JSON null.
    if let Some(t) = s.call.temperature.filter(|t| !t.is_finite()) {
        return Err(at(
            call.key("temperature"),
            format!(
                "`temperature` must be a finite number, found {}",
                if t.is_nan() {
                    "nan"
                } else if t > 0.0 {
                    "inf"
                } else {
                    "-inf"
                }
            ),
            "write e.g. temperature = 0.7, or remove it for the provider's default",
        ));
    }
    check_endpoint(s.call.base_url.as_deref(), &s.call.headers, &call)?;
    if let Some(fb) = &s.fallback {
        for (i, hop) in fb.hops.iter().enumerate() {
            let path = p().key("fallback").key("hops").index(i);
            check_endpoint(hop.base_url.as_deref(), &hop.headers, &path)?;
        }
    }
    super::azure::check(s)
}

/// What would fail only when the request is built: a `base_url` that is not an http(s) URL,
/// a header name or value HTTP cannot carry.
fn check_endpoint(
    base_url: Option<&str>,
    headers: &BTreeMap<String, String>,
    table: &KeyPath,
) -> Result<(), Problem> {
    const URL_HINT: &str = "write the API's base URL, e.g. base_url = \"http://127.0.0.1:8080/v1\" or \"https://api.openai.com/v1\"";
    if let Some(url) = base_url {
        let place = table.clone().key("base_url");
        match reqwest::Url::parse(url.trim()) {
            Err(e) => {
                return Err(at(
                    place,
                    format!("`base_url` is not a URL ({e}): `{url}`"),
                    URL_HINT,
                ));
            }
            Ok(u) if !matches!(u.scheme(), "http" | "https") => {
                return Err(at(
                    place,
                    format!(
                        "`base_url` must start with http:// or https://, found `{}`",
                        u.scheme()
                    ),
                    URL_HINT,
                ));
            }
            Ok(u) if u.host_str().is_none_or(str::is_empty) => {
                return Err(at(
                    place,
                    format!("`base_url` has no host: `{url}`"),
                    URL_HINT,
                ));
            }
            Ok(_) => {}
        }
    }
    for (name, value) in headers {
        let place = table.clone().key("headers").key(name);
        // As the client sends them: trimmed.
        if reqwest::header::HeaderName::from_bytes(name.trim().as_bytes()).is_err() {
            return Err(at(
                place,
                format!("header name `{}` is not valid", name.escape_debug()),
                "a header name is letters, digits and - (e.g. \"x-request-source\"), without spaces or colons",
            ));
        }
        if reqwest::header::HeaderValue::from_str(value.trim()).is_err() {
            let what = match value.trim().chars().find(|c| c.is_control()) {
                Some(c) => format!("a control character ({})", c.escape_unicode()),
                None => "a non-ASCII character".into(),
            };
            return Err(at(
                place,
                format!("header `{name}` has {what} in its value"),
                "remove newlines, control and non-ASCII characters from the value; an HTTP header cannot carry them",
            ));
        }
    }
    Ok(())
}

/// Every retry table: the primary's and each hop's own.
fn check_retry(s: &Scenario) -> Result<(), Problem> {
    let mut tables: Vec<(KeyPath, &RetrySpec)> = Vec::new();
    if let Some(r) = &s.retry {
        tables.push((p().key("retry"), r));
    }
    if let Some(fb) = &s.fallback {
        for (i, hop) in fb.hops.iter().enumerate() {
            if let Some(r) = &hop.retry {
                tables.push((p().key("fallback").key("hops").index(i).key("retry"), r));
            }
        }
    }
    for (path, r) in tables {
        let lists = [
            ("retry_on", r.retry_on.as_deref().unwrap_or(&[])),
            ("reinsert", &r.reinsert[..]),
        ];
        for (key, kinds) in lists {
            if let Some(i) = kinds.iter().position(|k| {
                matches!(
                    k,
                    ErrorKind::RetryError | ErrorKind::FallbackError | ErrorKind::BudgetExhausted
                )
            }) {
                return Err(at(
                    path.clone().key(key).index(i),
                    format!(
                        "`{}` in `{key}`: an attempt never fails with it (it is how a hop or the run ends)",
                        kinds[i]
                    ),
                    "list the kinds attempts fail with (rate_limit, timeout, validation, ...); to act on a hop that gave up, use catch = [\"retry_error\"] in [fallback]",
                ));
            }
        }
        if let Some(w) = &r.wait {
            check_wait(w, path.clone().key("wait"))?;
            check_wait_length(w, path.clone().key("wait"))?;
        }
        if let Some(stop) = &r.stop {
            check_stop(stop, path.key("stop"))?;
        }
    }
    Ok(())
}

pub(super) fn too_long(place: KeyPath, name: &str, what: &str) -> Problem {
    at(
        place,
        format!("`{name}` {what} longer than {MAX_WAIT_DAYS} days"),
        format!(
            "retrylab waits at most {MAX_WAIT_DAYS} days; write a shorter one, e.g. \"30s\" (bound a growing wait with max = \"60s\")"
        ),
    )
}

/// A finite wait beyond [`MAX_WAIT`] is refused where it is written (an infinite one is
/// [`check_wait`]'s). Bounds (`max`) may be larger: a wait that grows past the longest one
/// at run time is clamped to it.
fn check_wait_length(w: &Wait, path: KeyPath) -> Result<(), Problem> {
    let long = |v: f64| v.is_finite() && Secs(v).beyond_max_wait();
    let param = |variant: &str, key: &str| {
        Err(too_long(
            path.clone().key(variant).key(key),
            key,
            "is a wait",
        ))
    };
    match w {
        Wait::Fixed(v) if long(v.0) => Err(too_long(path.key("fixed"), "fixed", "is a wait")),
        Wait::Random(r) if long(r.min.0) => param("random", "min"),
        Wait::Random(r) if long(r.max.0) => param("random", "max"),
        Wait::Exponential(e) | Wait::RandomExponential(e) => {
            let variant = if matches!(w, Wait::Exponential(_)) {
                "exponential"
            } else {
                "random_exponential"
            };
            // The first wait is `multiplier` seconds (exp_base^0), clamped to [min, max].
            if long(e.min.0) {
                param(variant, "min")
            } else if long(e.multiplier) && e.max.0 > MAX_WAIT.0 {
                param(variant, "multiplier")
            } else {
                Ok(())
            }
        }
        Wait::ExponentialJitter(j) if long(j.initial.0) && j.max.0 > MAX_WAIT.0 => {
            param("exponential_jitter", "initial")
        }
        Wait::ExponentialJitter(j) if long(j.jitter.0) && j.max.0 > MAX_WAIT.0 => {
            param("exponential_jitter", "jitter")
        }
        Wait::Incrementing(i) if long(i.start.0) && i.max.0 > MAX_WAIT.0 => {
            param("incrementing", "start")
        }
        Wait::Chain(list) => {
            for (i, inner) in list.iter().enumerate() {
                check_wait_length(inner, path.clone().key("chain").index(i))?;
            }
            Ok(())
        }
        Wait::Sum(list) => {
            for (i, inner) in list.iter().enumerate() {
                check_wait_length(inner, path.clone().key("sum").index(i))?;
            }
            // Each term may be fine and the total not: the first wait is knowable here.
            if Secs(w.range(1).1).beyond_max_wait() {
                return Err(too_long(path.key("sum"), "sum", "adds up to a wait"));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A stop delay beyond [`MAX_WAIT`] is a typo or a wish for "never": say so.
fn check_stop(stop: &Stop, path: KeyPath) -> Result<(), Problem> {
    let check = |key: &str, d: Secs| {
        if d.0.is_finite() && d.beyond_max_wait() {
            return Err(at(
                path.clone().key(key),
                format!(
                    "`{key}` is longer than {MAX_WAIT_DAYS} days ({})",
                    d.human()
                ),
                format!("write at most {MAX_WAIT_DAYS} days, or \"inf\" for no time limit"),
            ));
        }
        Ok(())
    };
    match stop {
        Stop::AfterDelay(d) => check("after_delay", *d),
        Stop::BeforeDelay(d) => check("before_delay", *d),
        Stop::AfterAttempt(_) => Ok(()),
        Stop::Any(list) | Stop::All(list) => {
            let key = if matches!(stop, Stop::Any(_)) {
                "any"
            } else {
                "all"
            };
            for (i, inner) in list.iter().enumerate() {
                check_stop(inner, path.clone().key(key).index(i))?;
            }
            Ok(())
        }
    }
}

/// A wait whose own term is infinite never ends: the run would hang until cancelled.
/// (`max = "inf"` is Tenacity's default and fine: it only bounds the other terms.)
fn check_wait(w: &Wait, path: KeyPath) -> Result<(), Problem> {
    let endless = |variant: &str, key: Option<&str>| {
        let (place, name) = match key {
            Some(k) => (path.clone().key(variant).key(k), format!("{variant}.{k}")),
            None => (path.clone().key(variant), variant.to_string()),
        };
        Err(at(
            place,
            format!("`{name}` is infinite: this wait never ends"),
            "give a finite number of seconds (e.g. \"30s\"); to bound a growing wait use max = \"60s\"",
        ))
    };
    let inf = |v: f64| !v.is_finite();
    match w {
        Wait::Fixed(v) if inf(v.0) => endless("fixed", None),
        Wait::Random(r) if inf(r.min.0) => endless("random", Some("min")),
        Wait::Random(r) if inf(r.max.0) => endless("random", Some("max")),
        Wait::Exponential(e) | Wait::RandomExponential(e) => {
            let variant = if matches!(w, Wait::Exponential(_)) {
                "exponential"
            } else {
                "random_exponential"
            };
            if inf(e.multiplier) {
                endless(variant, Some("multiplier"))
            } else if inf(e.exp_base) {
                endless(variant, Some("exp_base"))
            } else if inf(e.min.0) {
                endless(variant, Some("min"))
            } else {
                Ok(())
            }
        }
        Wait::ExponentialJitter(j) if inf(j.initial.0) => {
            endless("exponential_jitter", Some("initial"))
        }
        Wait::ExponentialJitter(j) if inf(j.exp_base) => {
            endless("exponential_jitter", Some("exp_base"))
        }
        Wait::ExponentialJitter(j) if inf(j.jitter.0) => {
            endless("exponential_jitter", Some("jitter"))
        }
        Wait::Incrementing(i) if inf(i.start.0) => endless("incrementing", Some("start")),
        Wait::Incrementing(i) if inf(i.increment.0) => endless("incrementing", Some("increment")),
        Wait::Chain(list) | Wait::Sum(list) => {
            let variant = if matches!(w, Wait::Chain(_)) {
                "chain"
            } else {
                "sum"
            };
            for (i, inner) in list.iter().enumerate() {
                check_wait(inner, path.clone().key(variant).index(i))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn check_fallback(s: &Scenario) -> Result<(), Problem> {
    let Some(fb) = &s.fallback else {
        return Ok(());
    };
    for (i, hop) in fb.hops.iter().enumerate() {
        if hop.model.trim().is_empty() {
            return Err(at(
                p().key("fallback").key("hops").index(i).key("model"),
                "`model` is empty",
                "write the model name, e.g. model = \"claude-3-5-sonnet-latest\"",
            ));
        }
    }
    Ok(())
}

fn check_validators(s: &Scenario) -> Result<(), Problem> {
    let Some(resp) = &s.response else {
        return Ok(());
    };
    for (i, v) in resp.validators.iter().enumerate() {
        let path = p().key("response").key("validators").index(i);
        match v {
            ValidatorSpec::Regex(re) => {
                if let Err(e) = regex::Regex::new(re.get_ref()) {
                    return Err(Problem {
                        at: Where::Span(re.span()),
                        message: format!("invalid regex: {}", last_line(&e.to_string())),
                        hint: "escape special characters with \\ (in '...' literal strings a single \\ is enough)".into(),
                    });
                }
            }
            ValidatorSpec::JsonSchema(schema) => {
                if let Err(e) = compile_schema(&toml_to_json(schema.get_ref())) {
                    return Err(Problem {
                        at: Where::Span(schema.span()),
                        message: e,
                        hint: "write a JSON schema as TOML, e.g. { type = \"object\", properties = { age = { type = \"integer\" } }, required = [\"age\"] }".into(),
                    });
                }
            }
            ValidatorSpec::OneOf(options) if options.is_empty() => {
                return Err(at(
                    path.key("one_of"),
                    "`one_of` is empty: no answer could pass",
                    "list the accepted answers, e.g. one_of = [\"yes\", \"no\"]",
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_tools(s: &Scenario) -> Result<(), Problem> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, tool) in s.tools.iter().enumerate() {
        let path = p().key("tools").index(i);
        let name = tool.name.as_str();
        let valid_name = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid_name {
            return Err(at(
                path.key("name"),
                format!("invalid tool name `{name}`"),
                "tool names are 1-64 characters of a-z, A-Z, 0-9, _ and - (the providers' rule)",
            ));
        }
        if let Some(first) = seen.insert(name, i) {
            return Err(at(
                path.key("name"),
                format!("duplicate tool name `{name}` (also tool {})", first + 1),
                "give every [[tools]] entry its own name",
            ));
        }
        let params = toml_to_json(tool.parameters.get_ref());
        if !params.is_object() {
            return Err(Problem {
                at: Where::Span(tool.parameters.span()),
                message: format!("`parameters` of tool `{name}` must be a table (a JSON schema)"),
                hint: "write parameters = { type = \"object\", properties = { title = { type = \"string\" } } }".into(),
            });
        }
        if let Err(e) = compile_schema(&params) {
            return Err(Problem {
                at: Where::Span(tool.parameters.span()),
                message: format!("tool `{name}`: {e}"),
                hint: "write a JSON schema as TOML, e.g. { type = \"object\", properties = { title = { type = \"string\" } }, required = [\"title\"] }".into(),
            });
        }
    }
    Ok(())
}

fn check_sim(s: &Scenario) -> Result<(), Problem> {
    let sim = p().key("sim");
    let tps = s.sim.tokens_per_second;
    if !(tps.is_finite() && tps > 0.0) {
        return Err(at(
            sim.key("tokens_per_second"),
            format!("`tokens_per_second` must be greater than 0, got {tps}"),
            "write a pace such as tokens_per_second = 40",
        ));
    }
    // Simulated delays are bounded like waits: a 1e18 ms first token is a hang, not a test.
    let max_ms = MAX_WAIT.as_ms();
    for (key, ms) in [
        ("first_token_ms", s.sim.first_token_ms),
        ("error_ms", s.sim.error_ms),
    ] {
        if ms > max_ms {
            return Err(at(
                sim.clone().key(key),
                format!("`{key}` is longer than {MAX_WAIT_DAYS} days ({ms} ms)"),
                format!("write a delay in milliseconds, e.g. {key} = 200"),
            ));
        }
    }
    for (fault, prob) in &s.sim.chaos {
        if !(0.0..=1.0).contains(prob) {
            let name = fault_name(*fault);
            return Err(at(
                sim.clone().key("chaos").key(&name),
                format!("chaos probability for `{name}` must be within 0..=1, got {prob}"),
                format!("write a probability per request, e.g. {name} = 0.2"),
            ));
        }
    }
    for (i, f) in s.sim.faults.iter().enumerate() {
        check_fault(f, sim.clone().key("faults").index(i))?;
    }
    super::time_faults::check(s, &sim)
}

pub(super) fn check_fault(f: &FaultSpec, path: KeyPath) -> Result<(), Problem> {
    use FaultKind::*;
    let name = fault_name(f.fault);
    if f.times == Some(0) {
        return Err(at(
            path.key("times"),
            "`times = 0` would never fire",
            "use times = 1 or more, or remove the fault",
        ));
    }
    if let Some(reqs) = &f.on_requests {
        if reqs.is_empty() {
            return Err(at(
                path.key("on_requests"),
                "`on_requests` is empty: the fault would never fire",
                "list 1-based request numbers, e.g. on_requests = [1, 3]",
            ));
        }
        if reqs.contains(&0) {
            return Err(at(
                path.key("on_requests"),
                "request numbers start at 1",
                "list 1-based request numbers, e.g. on_requests = [1, 3]",
            ));
        }
    }
    let only = |field: &str, allowed: &str| -> Problem {
        at(
            path.clone().key(field),
            format!("`{field}` does not apply to fault `{name}`"),
            format!("`{field}` only applies to {allowed}; remove it"),
        )
    };
    if f.after_tokens.is_some()
        && !matches!(
            f.fault,
            CutStream | MalformedStream | OverloadedInStream | Stall | Length | ContentFilter
        )
    {
        return Err(only(
            "after_tokens",
            "cut_stream, malformed_stream and overloaded_in_stream, and to stall, length and content_filter",
        ));
    }
    if f.retry_after.is_some() && !matches!(f.fault, RateLimit | Overloaded) {
        return Err(only("retry_after", "rate_limit and overloaded"));
    }
    if f.retry_after_format.is_some() {
        if !matches!(f.fault, RateLimit | Overloaded) {
            return Err(only("retry_after_format", "rate_limit and overloaded"));
        }
        if f.retry_after.is_none() {
            return Err(at(
                path.key("retry_after_format"),
                "`retry_after_format` without `retry_after`",
                "add retry_after = \"1s\" (the value the server sends)",
            ));
        }
    }
    if f.delay.is_some() && f.fault == Timeout {
        return Err(only(
            "delay",
            "every fault but timeout (which waits for the client's own timeout)",
        ));
    }
    let http_error = matches!(
        f.fault,
        RateLimit
            | Overloaded
            | ServerError
            | Auth
            | BadRequest
            | ContextLength
            | Html
            | QuotaExhausted
    );
    if let Some(status) = f.status {
        if !http_error {
            return Err(only(
                "status",
                "the faults that are an HTTP error reply (rate_limit, overloaded, server_error, auth, bad_request, context_length, html, quota_exhausted)",
            ));
        }
        if !(300..=599).contains(&status) {
            return Err(at(
                path.key("status"),
                format!("`status = {status}` is not an HTTP error status"),
                "write a status from 300 to 599, e.g. status = 502",
            ));
        }
    }
    let answers = matches!(
        f.fault,
        SlowFirstByte | CutStream | MalformedStream | OverloadedInStream | Stall
    );
    if f.reply.is_some() && !(answers || matches!(f.fault, ContentFilter | Length)) {
        return Err(only(
            "reply",
            "the faults that send an answer or part of one (slow_first_byte, cut_stream, malformed_stream, overloaded_in_stream, stall, content_filter, length)",
        ));
    }
    if f.tool_call.is_some() && !answers {
        return Err(only(
            "tool_call",
            "slow_first_byte, cut_stream, malformed_stream, overloaded_in_stream and stall",
        ));
    }
    for (key, v) in [("retry_after", f.retry_after), ("delay", f.delay)] {
        if v.is_some_and(Secs::beyond_max_wait) {
            return Err(too_long(path.clone().key(key), key, "is a wait"));
        }
    }
    Ok(())
}

fn fault_name(f: FaultKind) -> String {
    serde_json::to_value(f)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{f:?}"))
}

/// Regex errors are multi-line pictures; the last line says what is wrong.
fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or(text)
        .trim_start_matches("error: ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use crate::scenario::load::parse;

    #[test]
    fn run_level_kinds_in_retry_on_or_reinsert_are_refused() {
        // No attempt fails with retry_error or fallback_error: listing them retries nothing.
        for (line, key) in [
            ("retry_on = [\"rate_limit\", \"retry_error\"]", "retry_on"),
            ("retry_on = [\"fallback_error\"]", "retry_on"),
            ("reinsert = [\"retry_error\"]", "reinsert"),
        ] {
            let e = parse(&with_retry(line), "t.toml").unwrap_err();
            assert_eq!(e.line, 9, "{line}: {e}");
            assert!(e.message.contains("never fails with"), "{line}: {e}");
            assert!(e.message.contains(key), "{line}: {e}");
            assert!(e.hint.contains("[fallback]"), "{line}: {e}");
        }
        parse(
            &with_retry("retry_on = [\"any\"]\nreinsert = [\"validation\"]"),
            "t.toml",
        )
        .unwrap();
    }

    fn with_retry(retry: &str) -> String {
        format!(
            "name = \"t\"\n[prompt]\ntemplate = \"Q\"\n[call]\nprovider = \"openai\"\nmodel = \"m\"\n[retry]\nstop = {{ after_attempt = 3 }}\n{retry}\n"
        )
    }

    #[test]
    fn a_wait_that_can_never_end_is_refused_where_it_is_written() {
        for (wait, key) in [
            ("wait = { fixed = \"inf\" }", "fixed"),
            ("wait = { fixed = inf }", "fixed"),
            ("wait = { random = { max = \"inf\" } }", "max"),
            (
                "wait = { incrementing = { increment = \"inf\" } }",
                "increment",
            ),
            (
                "wait = { exponential_jitter = { jitter = \"inf\" } }",
                "jitter",
            ),
            (
                "wait = { exponential = { multiplier = inf } }",
                "multiplier",
            ),
            ("wait = { exponential = { min = \"inf\" } }", "min"),
            (
                "wait = { chain = [{ fixed = 1 }, { fixed = \"inf\" }] }",
                "fixed",
            ),
        ] {
            let src = with_retry(wait);
            let e = parse(&src, "t.toml").unwrap_err();
            assert_eq!(e.line, 9, "{wait}: {e}");
            assert!(e.message.contains("never ends"), "{wait}: {e}");
            assert!(e.message.contains(key), "{wait}: {e}");
            assert!(e.hint.contains("max"), "{wait}: {e}");
        }
        // An unbounded `max` is Tenacity's default, and fine.
        for ok in [
            "wait = { exponential = { multiplier = 1, max = \"inf\" } }",
            "wait = { exponential_jitter = { max = \"inf\" } }",
            "wait = { fixed = 1e6 }",
        ] {
            parse(&with_retry(ok), "t.toml").unwrap();
        }
        // Hops' own retry tables are checked too.
        let src = format!(
            "{}[fallback]\ncatch = [\"any\"]\n[[fallback.hops]]\nprovider = \"anthropic\"\nmodel = \"c\"\ncatch = [\"any\"]\nretry = {{ wait = {{ fixed = \"inf\" }} }}\n",
            with_retry("")
        );
        let e = parse(&src, "t.toml").unwrap_err();
        assert_eq!(e.line, 16, "{e}");
        assert!(e.message.contains("never ends"), "{e}");
    }
}
