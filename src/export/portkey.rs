//! `--to portkey`: a Portkey gateway config (JSON): `strategy.mode = "fallback"` over one
//! target per hop, each with `retry.attempts` (at most 5), `on_status_codes` and
//! `use_retry_after_header`. JSON has no comments: the findings are the config's first key.

use super::litellm::{attempts, statuses};
use super::{Findings, Target};
use crate::error::ErrorKind;
use crate::scenario::Scenario;
use crate::scenario::plan::hop_policies;
use serde_json::{Value, json};

/// Portkey's ceiling on retry attempts.
const MAX_ATTEMPTS: u32 = 5;

pub fn write(s: &Scenario, f: &mut Findings) -> String {
    super::common_findings(s, f);
    let policies = hop_policies(s);
    let hops = super::pyprog::hops(s);
    let mut targets = Vec::new();
    for (i, (h, p)) in hops.iter().zip(&policies).enumerate() {
        let mut t = json!({
            "provider": match h.provider {
                // Portkey's provider for the Gemini API.
                crate::scenario::ProviderKind::Gemini => "google",
                p => super::pyprog::sdk(p),
            },
            "override_params": { "model": h.model },
        });
        if let Some(url) = h.base_url {
            t["custom_host"] = json!(url);
        }
        if h.api_version.is_some() {
            t["provider"] = json!("azure-openai");
            f.note("Portkey: azure-openai's resource, deployment and api-version live in its Azure virtual key, not in this config");
        }
        if let Some(timeout) = s.call.timeout.or(s.call.first_byte_timeout) {
            t["request_timeout"] = json!((timeout.0 * 1000.0).round() as u64);
        }
        if let Some(p) = p {
            // Portkey's attempts are retries after the first request.
            let retries = attempts(p, Target::Portkey, f).saturating_sub(1);
            if retries > MAX_ATTEMPTS {
                f.note(format!("Portkey: attempts capped at {MAX_ATTEMPTS} (the scenario retries {retries} times)"));
            }
            let mut codes: Vec<u16> = p
                .retry_on
                .iter()
                .flat_map(|k| statuses(*k).iter().copied())
                .collect();
            codes.sort_unstable();
            codes.dedup();
            for k in &p.retry_on {
                if statuses(*k).is_empty() {
                    f.note(format!(
                        "Portkey: retry_on {k} has no status code; not retried"
                    ));
                }
            }
            t["retry"] = json!({
                "attempts": retries.min(MAX_ATTEMPTS),
                "on_status_codes": codes,
                "use_retry_after_header": p.honor_retry_after,
            });
            if let Some(w) = &p.wait {
                f.note(format!("Portkey: the wait {} has no spelling; Portkey backs off exponentially on its own", w.describe()));
            }
            if p.wait.as_ref().is_some_and(crate::policy::Wait::is_random) {
                f.note("Portkey: no jitter");
            }
            if p.honor_retry_after {
                f.note("Portkey: use_retry_after_header has no retry_after_max cap");
            }
            if !p.reinsert.is_empty() {
                f.note("Portkey: reinsert has no spelling; errors are not reinserted");
            }
        }
        if i > 0 && h.api_key_env.is_some() {
            f.note("Portkey: api_key_env: keys live in Portkey's virtual keys, not in the config");
        }
        targets.push(t);
    }
    let config = if targets.len() == 1 {
        let _ = super::across::portkey(s, false, f);
        targets.remove(0)
    } else {
        let mut strategy = json!({ "mode": "fallback" });
        if let Some(fb) = &s.fallback {
            let codes: Vec<u16> = fb
                .catch
                .iter()
                .flat_map(|k| statuses(*k).iter().copied())
                .collect();
            if fb
                .catch
                .iter()
                .any(|k| matches!(k, ErrorKind::RetryError | ErrorKind::FallbackError))
            {
                f.note("Portkey: catch retry_error: Portkey falls back after a target's retries fail with a listed status; on_status_codes lists the statuses retried");
            }
            if !codes.is_empty() {
                let mut codes = codes;
                codes.sort_unstable();
                codes.dedup();
                strategy["on_status_codes"] = json!(codes);
            }
            if fb.hops.iter().any(|h| h.catch != fb.catch) {
                f.note("Portkey: one on_status_codes for the whole fallback; each hop's own catch has no spelling");
            }
        }
        if let Some(cb) = super::across::portkey(s, true, f) {
            strategy["cb_config"] = cb;
        }
        json!({ "strategy": strategy, "targets": targets })
    };
    if s.response
        .as_ref()
        .is_some_and(|r| !r.validators.is_empty())
    {
        f.note("Portkey: [response] validators have no spelling (guardrails are configured apart); dropped");
    }
    if !s.tools.is_empty() {
        f.note("Portkey: tools belong to each request; dropped");
    }
    // The findings first: a reader (and `jq .findings`) sees them before the config.
    let findings: Vec<Value> = f.list().iter().map(|x| json!(x)).collect();
    let head = serde_json::to_string_pretty(&json!({ "x-retrylab-findings": findings }))
        .unwrap_or_default();
    let body = serde_json::to_string_pretty(&config).unwrap_or_default();
    let head = head.trim_end().trim_end_matches('}').trim_end();
    let body = body.trim_start().trim_start_matches('{');
    format!("{head},{body}\n")
}
