//! `--to litellm`: a LiteLLM Router config (YAML): one `model_list` entry per hop,
//! `router_settings` with `num_retries`, `retry_policy` per exception class, `fallbacks`,
//! `timeout` / `stream_timeout`. LiteLLM chooses its own back-off, so waits are findings.

use super::{Findings, Target};
use crate::error::ErrorKind;
use crate::policy::{RetryPolicy, Stop};
use crate::scenario::plan::hop_policies;
use crate::scenario::{ProviderKind, Scenario};
use std::fmt::Write as _;

/// The HTTP statuses a kind arrives with (the config targets key retries on statuses).
pub fn statuses(kind: ErrorKind) -> &'static [u16] {
    match kind {
        ErrorKind::RateLimit | ErrorKind::QuotaExhausted => &[429],
        ErrorKind::Overloaded => &[503, 529],
        ErrorKind::ServerError => &[500, 502, 504],
        ErrorKind::Timeout => &[408],
        ErrorKind::Auth => &[401, 403],
        ErrorKind::BadRequest | ErrorKind::ContextLength => &[400, 404, 422],
        ErrorKind::Any => &[400, 401, 403, 404, 408, 422, 429, 500, 502, 503, 504, 529],
        _ => &[],
    }
}

/// The attempts a stop allows, or the approximation with its finding.
pub fn attempts(p: &RetryPolicy, target: Target, f: &mut Findings) -> u32 {
    match &p.stop {
        Some(Stop::AfterAttempt(n)) => (*n).max(1),
        Some(other) => {
            let n = other.max_attempts().unwrap_or(4);
            f.note(format!(
                "{}: stop {} has no spelling; {n} attempts (elapsed-time stops are dropped)",
                target.label(),
                other.describe()
            ));
            n
        }
        None => {
            f.note(format!(
                "{}: no stop (retry forever) has no spelling; 10 attempts",
                target.label()
            ));
            10
        }
    }
}

/// LiteLLM's retry_policy keys and the kinds each covers.
const POLICY_KEYS: &[(&str, &[ErrorKind])] = &[
    (
        "BadRequestErrorRetries",
        &[ErrorKind::BadRequest, ErrorKind::ContextLength],
    ),
    ("AuthenticationErrorRetries", &[ErrorKind::Auth]),
    ("TimeoutErrorRetries", &[ErrorKind::Timeout]),
    (
        "RateLimitErrorRetries",
        &[ErrorKind::RateLimit, ErrorKind::QuotaExhausted],
    ),
    (
        "ContentPolicyViolationErrorRetries",
        &[ErrorKind::ContentFilter],
    ),
    (
        "InternalServerErrorRetries",
        &[ErrorKind::ServerError, ErrorKind::Overloaded],
    ),
];

pub fn write(s: &Scenario, f: &mut Findings) -> String {
    super::common_findings(s, f);
    let policies = hop_policies(s);
    let hops = super::pyprog::hops(s);
    let mut models = String::from("model_list:\n");
    let sdk_retries = super::layers::sdk_retries(s);
    for (i, h) in hops.iter().enumerate() {
        let name = if i == 0 {
            "primary".to_string()
        } else {
            format!("hop-{i}")
        };
        // LiteLLM's Azure OpenAI models are `azure/<deployment>`; its own name for the Gemini
        // API (Google AI Studio) is `gemini`.
        let sdk = match h.provider {
            ProviderKind::AzureOpenai => "azure",
            ProviderKind::Gemini => "gemini",
            p => super::pyprog::sdk(p),
        };
        let _ = writeln!(
            models,
            "  - model_name: {name}\n    litellm_params:\n      model: {}",
            yaml_str(&format!("{sdk}/{}", h.model))
        );
        if let Some(v) = h.api_version {
            let _ = writeln!(models, "      api_version: {}", yaml_str(v));
            if h.api_key_env.is_none() {
                let _ = writeln!(models, "      api_key: os.environ/AZURE_OPENAI_API_KEY");
            }
        }
        match h.base_url {
            Some(url) => {
                let _ = writeln!(models, "      api_base: {}", yaml_str(url));
            }
            None => {
                let _ = writeln!(
                    models,
                    "      api_base: os.environ/RETRYLAB_BASE_URL  # the simulator: add /v1 for OpenAI"
                );
            }
        }
        if let Some(env) = h.api_key_env {
            let _ = writeln!(
                models,
                "      api_key: {}",
                yaml_str(&format!("os.environ/{env}"))
            );
        }
        if let Some(t) = s.call.timeout {
            let _ = writeln!(models, "      timeout: {}", t.0);
        }
        if let Some(t) = s.call.first_byte_timeout.or(s.call.idle_timeout) {
            let _ = writeln!(models, "      stream_timeout: {}", t.0);
        }
        let sdk = sdk_retries.get(i).copied().unwrap_or(0);
        if sdk == 0 {
            let _ = writeln!(
                models,
                "      max_retries: 0  # the SDK's own retries off: the Router retries"
            );
        } else {
            let _ = writeln!(
                models,
                "      max_retries: {sdk}  # sdk_max_retries: the SDK retries inside each Router attempt"
            );
        }
    }
    let mut router = String::from("router_settings:\n");
    if let Some(p) = policies.first().cloned().flatten() {
        let n = attempts(&p, Target::Litellm, f);
        let _ = writeln!(router, "  num_retries: {}", n.saturating_sub(1));
        if !p.retry_on.contains(&ErrorKind::Any) {
            router.push_str("  retry_policy:\n");
            for (key, kinds) in POLICY_KEYS {
                let on = kinds.iter().any(|k| k.is_in(&p.retry_on));
                let _ = writeln!(
                    router,
                    "    {key}: {}",
                    if on { n.saturating_sub(1) } else { 0 }
                );
            }
            for k in &p.retry_on {
                if !POLICY_KEYS.iter().any(|(_, ks)| ks.contains(k)) {
                    f.note(format!("LiteLLM: retry_on {k} has no retry_policy key; connection errors and the rest retry under num_retries"));
                }
            }
        }
        if let Some(w) = &p.wait {
            f.note(format!("LiteLLM: the wait {} has no spelling; the Router picks its own exponential back-off", w.describe()));
        }
        if p.honor_retry_after {
            f.note(
                "LiteLLM: Retry-After is honoured by the Router itself, without retry_after_max",
            );
        } else {
            f.note("LiteLLM: honor_retry_after = false has no spelling; the Router honours Retry-After");
        }
        if !p.reinsert.is_empty() {
            f.note(
                "LiteLLM: reinsert has no spelling; errors are not reinserted into the next prompt",
            );
        }
        if p.wait.as_ref().is_some_and(crate::policy::Wait::is_random) {
            f.note("LiteLLM: no jitter setting");
        }
    } else {
        router.push_str("  num_retries: 0\n");
    }
    if policies.iter().skip(1).any(|p| *p != policies[0]) {
        f.note("LiteLLM: a hop's own [retry] table has no spelling; num_retries applies to every model group");
    }
    if hops.len() > 1 {
        let rest: Vec<String> = (1..hops.len()).map(|i| format!("\"hop-{i}\"")).collect();
        let _ = writeln!(
            router,
            "  fallbacks: [{{\"primary\": [{}]}}]",
            rest.join(", ")
        );
        // `[fallback].on_result = ["content_filter"]`: LiteLLM's content-policy fallbacks.
        let on_result = s.fallback.as_ref().map_or(&[][..], |fb| &fb.on_result[..]);
        if on_result.contains(&crate::policy::on_result::ResultKind::ContentFilter) {
            let _ = writeln!(
                router,
                "  content_policy_fallbacks: [{{\"primary\": [{}]}}]",
                rest.join(", ")
            );
        }
        f.note("LiteLLM: fallbacks are taken after any failure once retries run out; the catch lists ([fallback].catch, each hop's) have no spelling (context_window_fallbacks and content_policy_fallbacks cover those two kinds only)");
    }
    router.push_str(&super::across::litellm(s, f));
    if s.response
        .as_ref()
        .is_some_and(|r| !r.validators.is_empty())
    {
        f.note("LiteLLM: [response] validators have no spelling in a Router config; dropped");
    }
    if !s.tools.is_empty() {
        f.note("LiteLLM: tools belong to each request, not to the Router config; dropped");
    }
    let mut out = format!(
        "# {} — exported by retrylab: `retrylab export --to litellm` (a LiteLLM Router config).\n",
        super::comment_text(&s.name)
    );
    out.push_str(&comment_findings(Target::Litellm, f));
    out.push_str(&models);
    out.push_str(&router);
    out
}

/// A YAML scalar: plain when it is a simple name (`openai/gpt-4o-mini`), else JSON-quoted
/// (a JSON string is a YAML string), so a `#`, `: ` or line break in it stays in the value.
fn yaml_str(s: &str) -> String {
    let plain = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '@'))
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && !s.ends_with(':');
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
    }
}

/// Findings as `#` comment lines.
pub fn comment_findings(target: Target, f: &Findings) -> String {
    let mut out = String::new();
    if f.is_empty() {
        let _ = writeln!(
            out,
            "# Findings: none — {} expresses this scenario as written.",
            target.label()
        );
    } else {
        let _ = writeln!(
            out,
            "# Findings — what {} cannot express here, and how it was approximated:",
            target.label()
        );
        for line in f.list() {
            let _ = writeln!(out, "# - {}", super::comment_text(line));
        }
    }
    out
}
