//! The scenario being imported, as plain data the writer turns into TOML, and the default
//! `[sim]` that exercises it: a few faults of a kind the policy acts on (retried, or caught
//! by the fallback), then answers that pass.

use crate::error::ErrorKind;
use crate::policy::{Secs, Stop, Wait};
use crate::scenario::{FaultKind, ProviderKind};

#[derive(Debug, Clone, PartialEq)]
pub struct CallDraft {
    pub provider: ProviderKind,
    pub model: String,
    pub stream: bool,
    pub base_url: Option<String>,
    pub api_key_env: Option<String>,
    pub headers: Vec<(String, String)>,
    /// The SDK client's `max_retries`, when above 0.
    pub sdk_max_retries: Option<u32>,
    /// Azure OpenAI's `api_version` (provider `azure-openai`).
    pub api_version: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RetryDraft {
    pub stop: Option<Stop>,
    pub wait: Option<Wait>,
    /// `None`: any.
    pub retry_on: Option<Vec<ErrorKind>>,
    pub reinsert: Vec<ErrorKind>,
    /// Tenacity does not read Retry-After: false unless the file says otherwise.
    pub honor_retry_after: bool,
    /// The cap on an honoured Retry-After (the harness's `wait_retry_after(cap=N)`).
    pub retry_after_max: Option<Secs>,
    /// The errors go back as turns (`reinsert_mode = "reask"`), not into the template.
    pub reask: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HopDraft {
    pub provider: ProviderKind,
    pub model: String,
    pub base_url: Option<String>,
    pub api_key_env: Option<String>,
    pub headers: Vec<(String, String)>,
    /// This hop's client's `max_retries`, when above 0.
    pub sdk_max_retries: Option<u32>,
    /// Azure OpenAI's `api_version` (provider `azure-openai`).
    pub api_version: Option<String>,
    pub catch: Vec<ErrorKind>,
    /// Written only when it differs from the primary's.
    pub retry: Option<RetryDraft>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FallbackDraft {
    pub catch: Vec<ErrorKind>,
    pub hops: Vec<HopDraft>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ValidatorDraft {
    Uppercase,
    Json,
    /// A JSON schema, as the scenario's TOML writes it.
    JsonSchema(toml::Value),
    Regex(String),
    MaxChars(usize),
    OneOf(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolDraft {
    pub name: String,
    pub description: String,
    pub parameters: toml::Value,
    pub cases: Vec<(Vec<(String, toml::Value)>, String)>,
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FaultDraft {
    pub provider: ProviderKind,
    pub model: String,
    pub fault: FaultKind,
    pub times: u32,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimDraft {
    pub reply: Option<String>,
    pub replies: Vec<String>,
    /// `(name, args as the model sends them)`.
    pub tool_calls: Vec<(String, String)>,
    pub faults: Vec<FaultDraft>,
    /// What the faults are for, as a comment.
    pub note: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub name: String,
    pub about: String,
    pub template: String,
    pub system: Option<String>,
    pub vars: Vec<(String, toml::Value)>,
    pub call: CallDraft,
    pub retry: Option<RetryDraft>,
    pub fallback: Option<FallbackDraft>,
    pub validators: Vec<ValidatorDraft>,
    pub tools: Vec<ToolDraft>,
    pub sim: SimDraft,
}

/// The answer the simulator gives when nothing else is needed.
const REPLY: &str = "A simulated answer, from the scenario's [sim] table.";

/// How many faults the primary meets when a retry should end in success: at most 2, and one
/// fewer than the attempts allowed.
fn retried_faults(stop: Option<&Stop>) -> u32 {
    match stop.and_then(Stop::max_attempts) {
        Some(n) => n.saturating_sub(1).clamp(1, 2),
        None => 2,
    }
}

/// The fault that produces `kind`, when the simulator has one for this call.
fn fault_for(kind: ErrorKind, stream: bool) -> Option<FaultKind> {
    use ErrorKind as K;
    Some(match kind {
        K::RateLimit => FaultKind::RateLimit,
        K::Overloaded => FaultKind::Overloaded,
        K::ServerError => FaultKind::ServerError,
        K::Timeout => FaultKind::Timeout,
        K::Connection => FaultKind::ConnectionReset,
        K::StreamInterrupted if stream => FaultKind::CutStream,
        K::Auth => FaultKind::Auth,
        K::BadRequest => FaultKind::BadRequest,
        K::ContextLength => FaultKind::ContextLength,
        K::ContentFilter => FaultKind::ContentFilter,
        K::QuotaExhausted => FaultKind::QuotaExhausted,
        _ => return None,
    })
}

/// What the simulator can make happen.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Trigger {
    Fault(ErrorKind, FaultKind),
    Validation,
    ToolValidation,
}

impl Draft {
    /// The first kind in `prefer` that `kinds` covers (`None`: any) and the simulator can
    /// produce for this call.
    fn pick(&self, kinds: Option<&[ErrorKind]>, exclude: &[ErrorKind]) -> Option<Trigger> {
        use ErrorKind as K;
        let mut prefer = Vec::new();
        if !self.tools.is_empty() && self.bad_tool_call().is_some() {
            prefer.push(K::ToolValidation);
        }
        if self.bad_reply().is_some() {
            prefer.push(K::Validation);
        }
        if self.call.stream {
            prefer.push(K::StreamInterrupted);
        }
        prefer.extend([
            K::RateLimit,
            K::ServerError,
            K::Overloaded,
            K::Connection,
            K::Timeout,
            K::ContentFilter,
            K::QuotaExhausted,
            K::BadRequest,
            K::ContextLength,
            K::Auth,
        ]);
        // With `any`, the page's own choices: a bad tool call, a bad answer, a cut stream,
        // else a 500.
        if kinds.is_none() {
            prefer.retain(|k| {
                matches!(
                    k,
                    K::ToolValidation | K::Validation | K::StreamInterrupted | K::ServerError
                )
            });
        }
        prefer.into_iter().find_map(|k| {
            if exclude.contains(&k) || !kinds.is_none_or(|ks| k.is_in(ks)) {
                return None;
            }
            match k {
                K::Validation => self.bad_reply().map(|_| Trigger::Validation),
                K::ToolValidation => self.bad_tool_call().map(|_| Trigger::ToolValidation),
                _ => fault_for(k, self.call.stream).map(|f| Trigger::Fault(k, f)),
            }
        })
    }

    /// An answer the first validator rejects, and one every validator accepts.
    fn bad_reply(&self) -> Option<(String, String)> {
        let first = self.validators.first()?;
        let bad = match first {
            ValidatorDraft::Uppercase => REPLY.to_string(),
            ValidatorDraft::MaxChars(n) => "x".repeat(n + 1),
            ValidatorDraft::OneOf(options) => format!("not {}", options.first()?),
            ValidatorDraft::Regex(_) | ValidatorDraft::Json | ValidatorDraft::JsonSchema(_) => {
                return None;
            }
        };
        let good = self.good_reply()?;
        Some((bad, good))
    }

    /// An answer every validator accepts, when one can be made.
    fn good_reply(&self) -> Option<String> {
        let mut reply = REPLY.to_string();
        for v in &self.validators {
            match v {
                ValidatorDraft::Uppercase => reply = reply.to_uppercase(),
                ValidatorDraft::OneOf(options) => reply.clone_from(options.first()?),
                ValidatorDraft::MaxChars(n) => reply = reply.chars().take(*n).collect(),
                ValidatorDraft::Regex(_) | ValidatorDraft::Json | ValidatorDraft::JsonSchema(_) => {
                    return None;
                }
            }
        }
        let ok = self.validators.iter().all(|v| match v {
            ValidatorDraft::Uppercase => {
                reply.chars().any(char::is_alphabetic) && reply.to_uppercase() == reply
            }
            ValidatorDraft::OneOf(o) => o.contains(&reply),
            ValidatorDraft::MaxChars(n) => reply.chars().count() <= *n,
            ValidatorDraft::Regex(_) | ValidatorDraft::Json | ValidatorDraft::JsonSchema(_) => {
                false
            }
        });
        ok.then_some(reply)
    }

    /// Tool-call arguments missing a required argument, and ones from the first case.
    fn bad_tool_call(&self) -> Option<(String, String, String)> {
        let tool = self.tools.first()?;
        let required = tool.parameters.get("required")?.as_array()?;
        if required.is_empty() {
            return None;
        }
        let mut good = serde_json::Map::new();
        if let Some((when, _)) = tool.cases.first() {
            for (k, v) in when {
                good.insert(k.clone(), crate::validate::toml_to_json(v));
            }
        }
        let props = tool
            .parameters
            .get("properties")
            .and_then(toml::Value::as_table);
        for r in required {
            let Some(name) = r.as_str() else { continue };
            if good.contains_key(name) {
                continue;
            }
            let ty = props
                .and_then(|p| p.get(name))
                .and_then(|t| t.get("type"))
                .and_then(toml::Value::as_str);
            let v = match ty {
                Some("integer" | "number") => serde_json::json!(1),
                Some("boolean") => serde_json::json!(true),
                Some("array") => serde_json::json!([]),
                _ => serde_json::json!("example"),
            };
            good.insert(name.to_string(), v);
        }
        Some((
            tool.name.clone(),
            "{}".to_string(),
            serde_json::Value::Object(good).to_string(),
        ))
    }

    fn apply(&mut self, t: Trigger, provider: ProviderKind, model: String, times: u32) -> String {
        match t {
            Trigger::Fault(kind, fault) => {
                self.sim.faults.push(FaultDraft {
                    provider,
                    model,
                    fault,
                    times,
                });
                format!("{times} x {kind}")
            }
            Trigger::Validation => {
                if let Some((bad, good)) = self.bad_reply() {
                    self.sim.replies = std::iter::repeat_n(bad, times as usize)
                        .chain([good])
                        .collect();
                }
                format!("{times} answer(s) failing validation")
            }
            Trigger::ToolValidation => {
                if let Some((name, bad, good)) = self.bad_tool_call() {
                    self.sim.tool_calls = std::iter::repeat_n((name.clone(), bad), times as usize)
                        .chain([(name, good)])
                        .collect();
                }
                format!("{times} tool call(s) with bad arguments")
            }
        }
    }

    /// Leaves out kinds this call cannot fail with: without tools there is no bad tool
    /// argument, though pydantic's ValidationError stands for both validation kinds.
    pub fn without_impossible_kinds(&mut self) {
        if !self.tools.is_empty() {
            return;
        }
        let trim = |v: &mut Vec<ErrorKind>| {
            if v.len() > 1 {
                v.retain(|k| *k != ErrorKind::ToolValidation);
            }
        };
        let retry = |r: &mut RetryDraft| {
            if let Some(on) = r.retry_on.as_mut() {
                trim(on);
            }
            trim(&mut r.reinsert);
        };
        if let Some(r) = self.retry.as_mut() {
            retry(r);
        }
        if let Some(fb) = self.fallback.as_mut() {
            trim(&mut fb.catch);
            for h in &mut fb.hops {
                trim(&mut h.catch);
                if let Some(r) = h.retry.as_mut() {
                    retry(r);
                }
            }
        }
    }

    /// Fills `[sim]`: faults the policy acts on, then answers that pass.
    pub fn default_sim(&mut self) {
        let (provider, model) = (self.call.provider, self.call.model.clone());
        let retry_kinds = self.retry.as_ref().map(|r| r.retry_on.clone());
        let stop = self.retry.as_ref().and_then(|r| r.stop.clone());
        let mut note = String::new();
        if let Some(fb) = self.fallback.clone().filter(|f| !f.hops.is_empty()) {
            // Scripted replies and tool calls repeat per provider+model: a hop would meet
            // them too, so only faults (filtered to the primary) lead to the fallback.
            let per_request = [ErrorKind::Validation, ErrorKind::ToolValidation];
            let to_hop = if let Some(kinds) = retry_kinds
                .as_ref()
                .filter(|_| ErrorKind::RetryError.is_in(&fb.catch))
            {
                // Exhaust the primary's retries so retry_error moves on to hop 1.
                let attempts = stop.as_ref().and_then(Stop::max_attempts).unwrap_or(3);
                self.pick(kinds.as_deref(), &per_request).map(|t| {
                    (
                        t,
                        attempts,
                        "the primary's retries run out: retry_error falls back to hop 1",
                    )
                })
            } else {
                // A caught kind the primary does not retry: at once to hop 1.
                let retried = retry_kinds.clone().flatten();
                let mut exclude: Vec<ErrorKind> = match (&retry_kinds, &retried) {
                    (Some(_), Some(r)) => r.clone(),
                    (Some(None), None) => ErrorKind::ALL.to_vec(),
                    _ => Vec::new(),
                };
                exclude.extend(per_request);
                self.pick(Some(&fb.catch), &exclude).map(|t| {
                    (
                        t,
                        1,
                        "the primary fails with a caught error: the call falls back to hop 1",
                    )
                })
            };
            if let Some((t, times, why)) = to_hop {
                let what = self.apply(t, provider, model, times);
                note = format!(
                    "{what} on {}/{}: {why}",
                    self.call.provider, self.call.model
                );
            }
        } else if let Some(kinds) = retry_kinds
            && let Some(t) = self.pick(kinds.as_deref(), &[])
        {
            // A bad answer or tool call once, as on Mirascope's page; faults up to twice.
            let times = match t {
                Trigger::Fault(..) => retried_faults(stop.as_ref()),
                Trigger::Validation | Trigger::ToolValidation => 1,
            };
            let what = self.apply(t, provider, model, times);
            note = format!("{what}, retried, then an answer that passes");
        }
        if self.sim.replies.is_empty() {
            self.sim.reply = Some(self.good_reply().unwrap_or_else(|| REPLY.to_string()));
        }
        if !self.tools.is_empty()
            && self.sim.tool_calls.is_empty()
            && let Some((name, _, good)) = self.bad_tool_call()
        {
            self.sim.tool_calls = vec![(name, good)];
        }
        if note.is_empty() {
            note = "no faults: nothing in the policy acts on one the simulator can make".into();
        }
        self.sim.note = note;
    }
}
