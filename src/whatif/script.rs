//! The recorded outcomes as a `[sim]` fault script (DESIGN §13), in the simulator's own
//! words, so the script is a scenario a person can read, edit and `retrylab check`.
//!
//! Each recorded outcome becomes one entry: an answer is `slow_first_byte` with its `delay`
//! (the recorded latency) and its `reply` or `tool_call`; an HTTP error is its fault with the
//! recorded `status`, `message`, `retry_after` and `delay`; a broken stream is `cut_stream`
//! (or `malformed_stream`, `overloaded_in_stream`, `content_filter`, `stall`) sending the
//! recorded partial output; a timeout waits for the client's own. The pace is switched off
//! (`first_token_ms = 0`, `error_ms = 0`, a billion tokens a second) so each reply takes
//! exactly its recorded latency.
//!
//! `--map index`: the k-th request to a provider+model takes entry `on_requests = [k]`; the
//! requests after the recorded ones take the run's answer (when it had one), else that
//! target's last recorded error (`times` unbounded). `--map time`: outage windows, the
//! outcome of recorded request i holding from its start until request i+1 (each window
//! opening half a millisecond early: trace times are whole milliseconds), the last one
//! until the run ended, then the same rule as after the recorded requests.

use super::recording::{Came, Recorded, Recording};
use crate::policy::duration::MAX_WAIT;
use crate::scenario::types::{FaultKind, ProviderKind, Scenario};
use crate::sim::script::bare_fault;
use toml::{Table, Value};

/// How recorded requests meet the new policy's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapMode {
    Index,
    Time,
}

impl MapMode {
    pub fn parse(s: &str) -> Option<MapMode> {
        match s {
            "index" => Some(MapMode::Index),
            "time" => Some(MapMode::Time),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MapMode::Index => "index",
            MapMode::Time => "time",
        }
    }
}

/// "Unlimited" for `times`: the catch-all entries answer every request after the recorded.
const UNBOUNDED: i64 = u32::MAX as i64;

/// The half millisecond a window opens early (see the module doc).
const EARLY_MS: f64 = 0.5;

/// The `[sim]` table and what could not be replayed exactly.
pub struct FaultScript {
    pub sim: Table,
    pub notes: Vec<String>,
}

pub fn build(rec: &Recording, map: MapMode, policy: &Scenario) -> FaultScript {
    let mut notes = Vec::new();
    let mut sim = Table::new();
    sim.insert("first_token_ms".into(), Value::Integer(0));
    sim.insert("tokens_per_second".into(), Value::Float(1e9));
    sim.insert("error_ms".into(), Value::Integer(0));
    // Said once per recorded request, whichever entries repeat its details.
    let details: Vec<Table> = rec.requests.iter().map(|r| detail(r, &mut notes)).collect();
    let answer = rec.answer.map(|i| details[i].clone());
    let last_any = details.last().cloned().unwrap_or_default();
    let after_run = answer.clone().unwrap_or(last_any);
    match map {
        MapMode::Index => {
            let mut faults = Vec::new();
            for (provider, model) in rec.targets() {
                let mine: Vec<usize> = indices(rec, provider, &model);
                for &i in &mine {
                    let mut e = target(provider, Some(&model));
                    e.insert(
                        "on_requests".into(),
                        Value::Array(vec![Value::Integer(rec.requests[i].number.into())]),
                    );
                    e.extend(details[i].clone());
                    faults.push(Value::Table(e));
                }
                let last = mine.last().map(|&i| details[i].clone()).unwrap_or_default();
                let mut e = target(provider, Some(&model));
                e.insert("times".into(), Value::Integer(UNBOUNDED));
                e.extend(answer.clone().unwrap_or(last));
                faults.push(Value::Table(e));
            }
            // A provider+model the run never called.
            let mut e = Table::new();
            e.insert("times".into(), Value::Integer(UNBOUNDED));
            e.extend(after_run);
            faults.push(Value::Table(e));
            sim.insert("faults".into(), Value::Array(faults));
        }
        MapMode::Time => {
            let called = called(policy);
            let mut outages = Vec::new();
            for (provider, model) in rec.targets() {
                if !called.contains(&provider) {
                    notes.push(format!(
                        "{provider}/{model}: the new policy never calls {provider}, so its recorded requests are left out"
                    ));
                    continue;
                }
                windows(
                    rec,
                    provider,
                    &model,
                    &details,
                    &answer,
                    &mut outages,
                    &mut notes,
                );
            }
            for provider in called {
                let mut e = target(provider, None);
                e.insert("from".into(), Value::Float(0.0));
                e.insert("to".into(), Value::Float(MAX_WAIT.0));
                e.extend(after_run.clone());
                outages.push(Value::Table(e));
            }
            sim.insert("outages".into(), Value::Array(outages));
        }
    }
    FaultScript { sim, notes }
}

fn indices(rec: &Recording, provider: ProviderKind, model: &str) -> Vec<usize> {
    (0..rec.requests.len())
        .filter(|&i| rec.requests[i].provider == provider && rec.requests[i].model == model)
        .collect()
}

/// The windows of one provider+model (`--map time`).
fn windows(
    rec: &Recording,
    provider: ProviderKind,
    model: &str,
    details: &[Table],
    answer: &Option<Table>,
    out: &mut Vec<Value>,
    notes: &mut Vec<String>,
) {
    let mine = indices(rec, provider, model);
    let starts: Vec<f64> = mine
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            if k == 0 {
                0.0
            } else {
                (rec.requests[i].start_ms as f64 - EARLY_MS).max(0.0) / 1000.0
            }
        })
        .collect();
    let end = rec.end_ms as f64 / 1000.0;
    let mut same_instant = 0;
    let mut push = |from: f64, to: f64, d: &Table| {
        let mut e = target(provider, Some(model));
        e.insert("from".into(), Value::Float(from));
        e.insert("to".into(), Value::Float(to));
        e.extend(d.clone());
        out.push(Value::Table(e));
    };
    for (k, &i) in mine.iter().enumerate() {
        let from = starts[k];
        if k + 1 < mine.len() {
            let to = starts[k + 1];
            if to > from {
                push(from, to, &details[i]);
            } else {
                same_instant += 1;
            }
            continue;
        }
        if matches!(rec.requests[i].outcome, Came::Answer { .. }) {
            push(from, MAX_WAIT.0, &details[i]);
            continue;
        }
        // The last recorded failure holds until the run ended; after it, the same rule as
        // after the recorded requests (the run's answer, else this failure).
        if end > from {
            push(from, end, &details[i]);
        }
        let after = answer.clone().unwrap_or_else(|| details[i].clone());
        push(end.max(from), MAX_WAIT.0, &after);
    }
    if same_instant > 0 {
        notes.push(format!(
            "{provider}/{model}: {same_instant} recorded request(s) started at the same instant as the next one; under --map time only the later one holds"
        ));
    }
}

fn called(s: &Scenario) -> Vec<ProviderKind> {
    let mut out = vec![s.call.provider];
    if let Some(fb) = &s.fallback {
        for h in &fb.hops {
            if !out.contains(&h.provider) {
                out.push(h.provider);
            }
        }
    }
    out
}

fn target(provider: ProviderKind, model: Option<&str>) -> Table {
    let mut t = Table::new();
    t.insert("provider".into(), Value::String(provider.as_str().into()));
    if let Some(m) = model {
        t.insert("model".into(), Value::String(m.into()));
    }
    t
}

fn fault_name(f: FaultKind) -> String {
    serde_json::to_value(f)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn ms(v: u64) -> Value {
    Value::String(format!("{v}ms"))
}

/// The entry details of one recorded outcome.
fn detail(r: &Recorded, notes: &mut Vec<String>) -> Table {
    let mut t = Table::new();
    let who = format!("{}/{} request {}", r.provider, r.model, r.number);
    let set = |t: &mut Table, kind: FaultKind| {
        t.insert("fault".into(), Value::String(fault_name(kind)));
    };
    let delay = |t: &mut Table| {
        if r.latency_ms > 0 {
            t.insert("delay".into(), ms(r.latency_ms));
        }
    };
    let partial = |t: &mut Table, text: &str| {
        t.insert("reply".into(), Value::String(text.into()));
        let n = crate::sim::tokens::split(text).len() as i64;
        t.insert("after_tokens".into(), Value::Integer(n));
    };
    match &r.outcome {
        Came::Answer {
            content,
            tool_calls,
        } => {
            set(&mut t, FaultKind::SlowFirstByte);
            delay(&mut t);
            match tool_calls.first() {
                Some(call) => {
                    t.insert("tool_call".into(), tool_call(&call.name, &call.args));
                    if tool_calls.len() > 1 {
                        notes.push(format!(
                            "{who}: {} tool calls were recorded; the simulator sends the first",
                            tool_calls.len()
                        ));
                    }
                }
                None => {
                    t.insert("reply".into(), Value::String(content.clone()));
                }
            }
        }
        Came::Failed {
            error,
            partial_output,
            headers,
        } => {
            use crate::error::ErrorKind as K;
            let status = error.status;
            match error.kind {
                K::Validation => {
                    set(&mut t, FaultKind::SlowFirstByte);
                    delay(&mut t);
                    t.insert("reply".into(), Value::String(partial_output.clone()));
                }
                K::ToolValidation => {
                    set(&mut t, FaultKind::SlowFirstByte);
                    delay(&mut t);
                    match split_call(partial_output) {
                        Some((name, args)) => {
                            t.insert("tool_call".into(), tool_call(name, args));
                        }
                        None => {
                            notes.push(format!(
                                "{who}: the refused tool call `{partial_output}` is replayed as text"
                            ));
                            t.insert("reply".into(), Value::String(partial_output.clone()));
                        }
                    }
                }
                K::ContentFilter => {
                    set(&mut t, FaultKind::ContentFilter);
                    delay(&mut t);
                    partial(&mut t, partial_output);
                }
                K::StreamInterrupted => {
                    let m = error.message.to_ascii_lowercase();
                    let kind = if m.contains("malformed") || m.contains("not valid json") {
                        FaultKind::MalformedStream
                    } else {
                        FaultKind::CutStream
                    };
                    set(&mut t, kind);
                    delay(&mut t);
                    partial(&mut t, partial_output);
                }
                // A plain reply cut short reads as a 200 that is not JSON.
                K::ServerError if status == Some(200) => {
                    set(&mut t, FaultKind::CutStream);
                    delay(&mut t);
                    partial(&mut t, partial_output);
                }
                K::Timeout if !is_http_error(status) => {
                    if !partial_output.is_empty() || error.timeout.as_deref() == Some("idle") {
                        set(&mut t, FaultKind::Stall);
                        partial(&mut t, partial_output);
                    } else {
                        set(&mut t, FaultKind::Timeout);
                    }
                    notes.push(format!(
                        "{who}: a timeout lasts as long as the new policy's own timeout ({} ms recorded)",
                        r.latency_ms
                    ));
                }
                K::Connection => {
                    set(&mut t, FaultKind::ConnectionReset);
                    delay(&mut t);
                }
                _ if status == Some(200) => {
                    set(&mut t, FaultKind::OverloadedInStream);
                    delay(&mut t);
                    partial(&mut t, partial_output);
                    if error.kind != K::Overloaded {
                        notes.push(format!(
                            "{who}: a {} error inside the stream is replayed as overloaded",
                            error.kind
                        ));
                    }
                    if !error.message.is_empty() {
                        t.insert("message".into(), Value::String(error.message.clone()));
                    }
                }
                _ => http_error(&mut t, r, error, headers, notes),
            }
        }
    }
    t
}

fn is_http_error(status: Option<u16>) -> bool {
    status.is_some_and(|s| s >= 300)
}

/// An HTTP error reply: its fault, status, message, Retry-After and latency.
fn http_error(
    t: &mut Table,
    r: &Recorded,
    error: &crate::CallError,
    headers: &[(String, String)],
    notes: &mut Vec<String>,
) {
    use crate::error::ErrorKind as K;
    let natural = match error.kind {
        K::RateLimit => FaultKind::RateLimit,
        K::Overloaded => FaultKind::Overloaded,
        K::QuotaExhausted => FaultKind::QuotaExhausted,
        K::ContextLength => FaultKind::ContextLength,
        K::Auth => FaultKind::Auth,
        K::BadRequest | K::Redirect => FaultKind::BadRequest,
        _ => FaultKind::ServerError,
    };
    let ra = error.retry_after_ms;
    // The simulator sends Retry-After with rate_limit (always) and overloaded (when set):
    // the fault that carries what was recorded, its status keeping the kind.
    let fault = match (ra, natural) {
        (Some(_), FaultKind::RateLimit | FaultKind::Overloaded) => natural,
        (Some(_), _) => FaultKind::Overloaded,
        (None, FaultKind::RateLimit) => FaultKind::ServerError,
        (None, f) => f,
    };
    let default_of = |f: FaultKind| {
        crate::sim::wire::for_provider(r.provider)
            .map(|w| w.error(&bare_fault(f), &r.model).status)
            .unwrap_or(500)
    };
    let status = error.status.unwrap_or_else(|| default_of(natural));
    t.insert("fault".into(), Value::String(fault_name(fault)));
    if status != default_of(fault) {
        t.insert("status".into(), Value::Integer(status.into()));
    }
    if let Some(ms_) = ra {
        t.insert("retry_after".into(), ms(ms_));
        let as_ms = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("retry-after-ms"));
        if as_ms || ms_ % 1000 != 0 {
            t.insert("retry_after_format".into(), Value::String("ms".into()));
        }
    }
    if error.kind == K::Redirect {
        notes.push(format!(
            "{}/{} request {}: a redirect is replayed as HTTP {status} without its Location",
            r.provider, r.model, r.number
        ));
    } else if !error.message.is_empty() {
        t.insert("message".into(), Value::String(error.message.clone()));
    }
    if r.latency_ms > 0 {
        t.insert("delay".into(), ms(r.latency_ms));
    }
}

fn tool_call(name: &str, args: &str) -> Value {
    let mut t = Table::new();
    t.insert("name".into(), Value::String(name.into()));
    t.insert("args".into(), Value::String(args.into()));
    Value::Table(t)
}

/// `name(args)`, as a refused tool call's partial output reads.
fn split_call(text: &str) -> Option<(&str, &str)> {
    let (name, rest) = text.split_once('(')?;
    let args = rest.strip_suffix(')')?;
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    ok.then_some((name, args))
}
