//! The draft → scenario TOML (DESIGN §2), in the style of the built-in scenarios: inline
//! tables for stop and wait, one table per section, what was dropped as comments on top.

use super::Dropped;
use super::draft::{Draft, RetryDraft, ValidatorDraft};
use super::expr::fmt_num;
use crate::error::ErrorKind;
use crate::policy::wait::{ExponentialParams, JitterParams};
use crate::policy::{Secs, Stop, Wait};
use std::fmt::Write as _;

fn string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        string(k)
    }
}

/// Any TOML value, inline.
pub fn inline(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => string(s),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 => {
            format!("{f:.1}")
        }
        toml::Value::Float(f) if f.is_finite() => format!("{f}"),
        toml::Value::Float(f) if f.is_nan() => "nan".into(),
        toml::Value::Float(f) => if *f > 0.0 { "inf" } else { "-inf" }.into(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::Array(a) => {
            format!("[{}]", a.iter().map(inline).collect::<Vec<_>>().join(", "))
        }
        toml::Value::Table(t) if t.is_empty() => "{}".into(),
        toml::Value::Table(t) => format!(
            "{{ {} }}",
            t.iter()
                .map(|(k, v)| format!("{} = {}", key(k), inline(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn secs(s: Secs) -> String {
    if s.0.is_finite() {
        fmt_num(s.0)
    } else {
        string("inf")
    }
}

fn kinds(list: &[ErrorKind]) -> String {
    format!(
        "[{}]",
        list.iter()
            .map(|k| string(k.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

pub fn stop(s: &Stop) -> String {
    let list = |v: &[Stop]| v.iter().map(stop).collect::<Vec<_>>().join(", ");
    match s {
        Stop::AfterAttempt(n) => format!("{{ after_attempt = {n} }}"),
        Stop::AfterDelay(d) => format!("{{ after_delay = {} }}", secs(*d)),
        Stop::BeforeDelay(d) => format!("{{ before_delay = {} }}", secs(*d)),
        Stop::Any(v) => format!("{{ any = [{}] }}", list(v)),
        Stop::All(v) => format!("{{ all = [{}] }}", list(v)),
    }
}

fn exponential(p: &ExponentialParams) -> String {
    let mut f = vec![format!("multiplier = {}", fmt_num(p.multiplier))];
    if p.exp_base != 2.0 {
        f.push(format!("exp_base = {}", fmt_num(p.exp_base)));
    }
    if p.min.0 != 0.0 {
        f.push(format!("min = {}", secs(p.min)));
    }
    if p.max.0.is_finite() {
        f.push(format!("max = {}", secs(p.max)));
    }
    format!("{{ {} }}", f.join(", "))
}

fn jitter(p: &JitterParams) -> String {
    let mut f = vec![format!("initial = {}", secs(p.initial))];
    if p.exp_base != 2.0 {
        f.push(format!("exp_base = {}", fmt_num(p.exp_base)));
    }
    if p.max.0.is_finite() {
        f.push(format!("max = {}", secs(p.max)));
    }
    f.push(format!("jitter = {}", secs(p.jitter)));
    format!("{{ {} }}", f.join(", "))
}

pub fn wait(w: &Wait) -> String {
    let list = |v: &[Wait]| v.iter().map(wait).collect::<Vec<_>>().join(", ");
    match w {
        Wait::Fixed(s) => format!("{{ fixed = {} }}", secs(*s)),
        Wait::Random(p) => format!(
            "{{ random = {{ min = {}, max = {} }} }}",
            secs(p.min),
            secs(p.max)
        ),
        Wait::Exponential(p) => format!("{{ exponential = {} }}", exponential(p)),
        Wait::RandomExponential(p) => format!("{{ random_exponential = {} }}", exponential(p)),
        Wait::ExponentialJitter(p) => format!("{{ exponential_jitter = {} }}", jitter(p)),
        Wait::Incrementing(p) => {
            let mut f = vec![
                format!("start = {}", secs(p.start)),
                format!("increment = {}", secs(p.increment)),
            ];
            if p.max.0.is_finite() {
                f.push(format!("max = {}", secs(p.max)));
            }
            format!("{{ incrementing = {{ {} }} }}", f.join(", "))
        }
        Wait::Chain(v) => format!("{{ chain = [{}] }}", list(v)),
        Wait::Sum(v) => format!("{{ sum = [{}] }}", list(v)),
        Wait::DecorrelatedJitter(p) => {
            let mut f = vec![format!("base = {}", secs(p.base))];
            if p.max.0.is_finite() {
                f.push(format!("max = {}", secs(p.max)));
            }
            format!("{{ decorrelated_jitter = {{ {} }} }}", f.join(", "))
        }
    }
}

fn headers(h: &[(String, String)]) -> String {
    let pairs: Vec<String> = h
        .iter()
        .map(|(k, v)| format!("{} = {}", key(k), string(v)))
        .collect();
    format!("{{ {} }}", pairs.join(", "))
}

/// The retry table's lines (`key = value`).
fn retry_lines(r: &RetryDraft) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(s) = &r.stop {
        out.push(format!("stop = {}", stop(s)));
    }
    if let Some(w) = &r.wait {
        out.push(format!("wait = {}", wait(w)));
    }
    if let Some(k) = &r.retry_on {
        out.push(format!("retry_on = {}", kinds(k)));
    }
    if !r.reinsert.is_empty() {
        out.push(format!("reinsert = {}", kinds(&r.reinsert)));
    }
    if r.reask && !r.reinsert.is_empty() {
        out.push("reinsert_mode = \"reask\"".into());
    }
    out.push(format!("honor_retry_after = {}", r.honor_retry_after));
    if let Some(cap) = r.retry_after_max.filter(|_| r.honor_retry_after) {
        out.push(format!("retry_after_max = {}", secs(cap)));
    }
    out
}

/// The scenario TOML of `d`, with `dropped` (then `notes`) listed in comments on top.
pub fn scenario_toml(d: &Draft, origin: &str, dropped: &[Dropped], notes: &[Dropped]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Imported by `retrylab import` from {origin} (read, never run)."
    );
    if dropped.is_empty() {
        let _ = writeln!(o, "# Every decorator argument was mapped.");
    } else {
        let _ = writeln!(o, "# Not mapped ({}):", dropped.len());
        for x in dropped {
            let text = format!("line {}: {}: {}", x.line, x.what, x.why);
            let _ = writeln!(o, "#   {}", text.replace(['\n', '\r'], " "));
        }
    }
    for x in notes {
        let text = format!("line {}: {}: {}", x.line, x.what, x.why);
        let _ = writeln!(o, "# Note: {}", text.replace(['\n', '\r'], " "));
    }
    let _ = writeln!(o, "name = {}", string(&d.name));
    let _ = writeln!(o, "about = {}", string(&d.about));

    let _ = writeln!(o, "\n[prompt]");
    let _ = writeln!(o, "template = {}", string(&d.template));
    if let Some(s) = &d.system {
        let _ = writeln!(o, "system = {}", string(s));
    }
    if !d.vars.is_empty() {
        let vars: Vec<String> = d
            .vars
            .iter()
            .map(|(k, v)| format!("{} = {}", key(k), inline(v)))
            .collect();
        let _ = writeln!(o, "vars = {{ {} }}", vars.join(", "));
    }

    let c = &d.call;
    let _ = writeln!(o, "\n[call]");
    let _ = writeln!(o, "provider = {}", string(c.provider.as_str()));
    let _ = writeln!(o, "model = {}", string(&c.model));
    let _ = writeln!(o, "stream = {}", c.stream);
    if let Some(u) = &c.base_url {
        let _ = writeln!(o, "base_url = {}", string(u));
    }
    if let Some(k) = &c.api_key_env {
        let _ = writeln!(o, "api_key_env = {}", string(k));
    }
    if let Some(v) = &c.api_version {
        let _ = writeln!(o, "api_version = {}", string(v));
    }
    if !c.headers.is_empty() {
        let _ = writeln!(o, "headers = {}", headers(&c.headers));
    }
    if let Some(n) = c.sdk_max_retries {
        let _ = writeln!(o, "sdk_max_retries = {n}");
    }
    if let Some(t) = c.temperature {
        let _ = writeln!(o, "temperature = {}", inline(&toml::Value::Float(t)));
    }
    if let Some(m) = c.max_tokens {
        let _ = writeln!(o, "max_tokens = {m}");
    }

    if let Some(r) = &d.retry {
        let _ = writeln!(o, "\n[retry]");
        for l in retry_lines(r) {
            let _ = writeln!(o, "{l}");
        }
    }

    if let Some(f) = &d.fallback {
        let _ = writeln!(o, "\n[fallback]");
        let _ = writeln!(o, "catch = {}", kinds(&f.catch));
        for h in &f.hops {
            let _ = writeln!(o, "\n[[fallback.hops]]");
            let _ = writeln!(o, "provider = {}", string(h.provider.as_str()));
            let _ = writeln!(o, "model = {}", string(&h.model));
            if let Some(u) = &h.base_url {
                let _ = writeln!(o, "base_url = {}", string(u));
            }
            if let Some(k) = &h.api_key_env {
                let _ = writeln!(o, "api_key_env = {}", string(k));
            }
            if let Some(v) = &h.api_version {
                let _ = writeln!(o, "api_version = {}", string(v));
            }
            if !h.headers.is_empty() {
                let _ = writeln!(o, "headers = {}", headers(&h.headers));
            }
            // A hop inherits [call]'s SDK retries: written only when it differs.
            let own = h.sdk_max_retries.unwrap_or(0);
            if own != c.sdk_max_retries.unwrap_or(0) {
                let _ = writeln!(o, "sdk_max_retries = {own}");
            }
            let _ = writeln!(o, "catch = {}", kinds(&h.catch));
            if let Some(r) = &h.retry {
                let _ = writeln!(o, "retry = {{ {} }}", retry_lines(r).join(", "));
            }
        }
    }

    if !d.validators.is_empty() {
        let v: Vec<String> = d
            .validators
            .iter()
            .map(|v| match v {
                ValidatorDraft::Uppercase => "{ uppercase = true }".to_string(),
                ValidatorDraft::Json => "{ json = true }".to_string(),
                ValidatorDraft::JsonSchema(v) => format!("{{ json_schema = {} }}", inline(v)),
                ValidatorDraft::Regex(r) => format!("{{ regex = {} }}", string(r)),
                ValidatorDraft::MaxChars(n) => format!("{{ max_chars = {n} }}"),
                ValidatorDraft::OneOf(list) => format!(
                    "{{ one_of = [{}] }}",
                    list.iter()
                        .map(|s| string(s))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
            .collect();
        let _ = writeln!(o, "\n[response]");
        let _ = writeln!(o, "validators = [{}]", v.join(", "));
    }

    for t in &d.tools {
        let _ = writeln!(o, "\n[[tools]]");
        let _ = writeln!(o, "name = {}", string(&t.name));
        if !t.description.is_empty() {
            let _ = writeln!(o, "description = {}", string(&t.description));
        }
        let _ = writeln!(o, "parameters = {}", inline(&t.parameters));
        if !t.cases.is_empty() {
            let _ = writeln!(o, "cases = [");
            for (when, result) in &t.cases {
                let w: Vec<String> = when
                    .iter()
                    .map(|(k, v)| format!("{} = {}", key(k), inline(v)))
                    .collect();
                let _ = writeln!(
                    o,
                    "  {{ when = {{ {} }}, result = {} }},",
                    w.join(", "),
                    string(result)
                );
            }
            let _ = writeln!(o, "]");
        }
        if let Some(def) = &t.default {
            let _ = writeln!(o, "default = {}", string(def));
        }
    }

    let s = &d.sim;
    let _ = writeln!(o, "\n[sim]");
    let _ = writeln!(o, "# {}", s.note.replace(['\n', '\r'], " "));
    if let Some(r) = &s.reply {
        let _ = writeln!(o, "reply = {}", string(r));
    }
    if !s.replies.is_empty() {
        let r: Vec<String> = s.replies.iter().map(|x| string(x)).collect();
        let _ = writeln!(o, "replies = [{}]", r.join(", "));
    }
    if !s.tool_calls.is_empty() {
        let _ = writeln!(o, "tool_calls = [");
        for (name, args) in &s.tool_calls {
            let _ = writeln!(
                o,
                "  {{ name = {}, args = {} }},",
                string(name),
                string(args)
            );
        }
        let _ = writeln!(o, "]");
    }
    if !s.faults.is_empty() {
        let _ = writeln!(o, "faults = [");
        for f in &s.faults {
            let fault = toml::Value::try_from(f.fault)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let extra = match f.fault {
                crate::scenario::FaultKind::RateLimit => ", retry_after = \"1s\"",
                crate::scenario::FaultKind::CutStream => ", after_tokens = 4",
                _ => "",
            };
            let _ = writeln!(
                o,
                "  {{ provider = {}, model = {}, fault = {}{extra}, times = {} }},",
                string(f.provider.as_str()),
                string(&f.model),
                string(&fault),
                f.times
            );
        }
        let _ = writeln!(o, "]");
    }
    o
}
