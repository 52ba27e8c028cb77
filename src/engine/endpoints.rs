//! Who each hop calls: provider, model, base URL and key, in sim mode (the simulator) and
//! live (the real endpoint, its key from the environment or `config.toml`).

use super::run::setup_error;
use crate::config::{Config, KeyLookup};
use crate::error::{CallError, ErrorKind};
use crate::event::Target;
use crate::provider::{Endpoint, default_base_url, wire};
use crate::scenario::types::{ProviderKind, Scenario};
use std::collections::BTreeMap;

/// `provider/model` of each hop (index 0 = primary), for plans and labels; an Azure hop
/// adds ` (api-version V)`.
pub fn hop_labels(s: &Scenario) -> Vec<String> {
    hop_targets(s)
        .iter()
        .map(|t| match &t.api_version {
            Some(v) => format!("{}/{} (api-version {v})", t.provider, t.model),
            None => format!("{}/{}", t.provider, t.model),
        })
        .collect()
}

/// Provider, model and connection details of one hop.
#[derive(Debug, Clone)]
pub(super) struct HopTarget {
    pub(super) provider: ProviderKind,
    pub(super) model: String,
    pub(super) base_url: Option<String>,
    pub(super) api_key_env: Option<String>,
    /// Azure's `api-version` (the format puts it in the URL).
    pub(super) api_version: Option<String>,
    pub(super) headers: BTreeMap<String, String>,
}

impl HopTarget {
    pub(super) fn target(&self) -> Target {
        Target {
            provider: self.provider.as_str().into(),
            model: self.model.clone(),
        }
    }
}

pub(super) fn hop_targets(s: &Scenario) -> Vec<HopTarget> {
    let mut out = vec![HopTarget {
        provider: s.call.provider,
        model: s.call.model.clone(),
        base_url: s.call.base_url.clone(),
        api_key_env: s.call.api_key_env.clone(),
        api_version: s.call.api_version.clone(),
        headers: s.call.headers.clone(),
    }];
    if let Some(fb) = &s.fallback {
        out.extend(fb.hops.iter().map(|h| HopTarget {
            provider: h.provider,
            model: h.model.clone(),
            base_url: h.base_url.clone(),
            api_key_env: h.api_key_env.clone(),
            api_version: h.api_version.clone(),
            headers: h.headers.clone(),
        }));
    }
    out
}

/// Why a hop cannot run live.
enum Unready {
    /// A setup problem, said in full.
    Setup(CallError),
    /// No key: the variable to set, and for which provider/model.
    NoKey { var: String, what: String },
}

fn hop_headers(t: &HopTarget) -> Vec<(String, String)> {
    t.headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A hop's call in sim mode: the simulator, in the hop's wire format.
pub(super) fn sim_endpoint(t: &HopTarget, base_url: String) -> Endpoint {
    Endpoint {
        kind: t.provider,
        base_url: wire::format(t.provider).endpoint_base(base_url, t.api_version.as_deref()),
        // Not a secret: the simulator accepts any key.
        api_key: Some("sim-key".into()),
        headers: hop_headers(t),
    }
}

/// A hop's live call: its base URL (or the provider's default) and its key from the
/// environment or `config.toml`; its own headers.
fn endpoint_for(t: &HopTarget, hop: usize, cfg: &Config) -> Result<Endpoint, Unready> {
    let headers = hop_headers(t);
    let table = if hop == 0 {
        "[call]".to_string()
    } else {
        format!("fallback hop {hop}")
    };
    let format = wire::format(t.provider);
    let base_url = match (
        t.base_url.as_deref().map(str::trim),
        default_base_url(t.provider),
    ) {
        (Some(u), _) if !u.is_empty() => u.to_string(),
        (_, Some(u)) => u.to_string(),
        // Azure's endpoint: its variable, else that name under [keys].
        (_, None) if let Some(u) = format.base_url_env().and_then(|v| cfg.setting(v)) => u,
        (_, None) if let Some(var) = format.base_url_env() => {
            return Err(Unready::Setup(setup_error(format!(
                "provider `{}` needs its endpoint: set {var} (e.g. https://<resource>.openai.azure.com), add base_url = \"https://<resource>.openai.azure.com\" to {table}, or add {var} = \"...\" {}",
                t.provider,
                cfg.keys_location()
            ))));
        }
        (_, None) => {
            return Err(Unready::Setup(setup_error(format!(
                "provider `{}` needs a base_url: add base_url = \"http://localhost:11434/v1\" (the server's OpenAI-style URL, ending in /v1) to {table}",
                t.provider
            ))));
        }
    };
    let api_key = match cfg.key(t.provider, t.api_key_env.as_deref()) {
        KeyLookup::Found(k) => Some(k.expose().to_string()),
        KeyLookup::NotNeeded => None,
        KeyLookup::Invalid { message, .. } => {
            return Err(Unready::Setup(CallError::new(ErrorKind::Auth, message)));
        }
        KeyLookup::Missing { var } => {
            return Err(Unready::NoKey {
                var,
                what: format!("{}/{}", t.provider, t.model),
            });
        }
    };
    Ok(Endpoint {
        kind: t.provider,
        base_url: format.endpoint_base(base_url, t.api_version.as_deref()),
        api_key,
        headers,
    })
}

/// The keys live mode would send for `targets` (none in sim mode), to scrub from every
/// event of the run, the first one included.
pub(super) fn live_secrets(targets: &[HopTarget], cfg: &Config) -> Vec<String> {
    targets
        .iter()
        .filter_map(|t| match cfg.key(t.provider, t.api_key_env.as_deref()) {
            KeyLookup::Found(k) => Some(k.expose().to_owned()),
            _ => None,
        })
        .collect()
}

/// Every hop's live endpoint, or one error naming every missing key (and where to put it).
pub(super) fn live_endpoints(
    targets: &[HopTarget],
    cfg: &Config,
) -> Result<Vec<Endpoint>, CallError> {
    let mut endpoints = Vec::with_capacity(targets.len());
    let mut missing: Vec<(String, Vec<String>)> = Vec::new();
    for (hop, t) in targets.iter().enumerate() {
        match endpoint_for(t, hop, cfg) {
            Ok(e) => endpoints.push(e),
            Err(Unready::Setup(e)) => return Err(e),
            Err(Unready::NoKey { var, what }) => {
                match missing.iter_mut().find(|(v, _)| *v == var) {
                    Some((_, whats)) if !whats.contains(&what) => whats.push(what),
                    Some(_) => {}
                    None => missing.push((var, vec![what])),
                }
            }
        }
    }
    if missing.is_empty() {
        return Ok(endpoints);
    }
    let needs: Vec<String> = missing
        .iter()
        .map(|(var, whats)| format!("{var} (for {})", whats.join(", ")))
        .collect();
    let (them, it) = if missing.len() == 1 {
        ("it", format!("{} = \"...\"", missing[0].0))
    } else {
        ("them", "them".to_string())
    };
    let mut message = format!(
        "live mode needs {}: set {them} in the environment, or add {it} {}",
        join_and(&needs),
        cfg.keys_location()
    );
    if let Some(w) = cfg.warnings().first() {
        message.push_str(&format!(" (note: {w})"));
    }
    Err(CallError::new(ErrorKind::Auth, message))
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Whether `s` can run live: every hop has a base URL and its key (from the environment or
/// `config.toml`). The error names each missing variable and the config alternative; no
/// request is made. The TUI's F2 and `retrylab run --live` ask this before a live run.
pub fn check_live_keys(s: &Scenario) -> Result<(), CallError> {
    check_live_keys_with(s, &Config::load())
}

/// [`check_live_keys`] against a given config.
pub fn check_live_keys_with(s: &Scenario, cfg: &Config) -> Result<(), CallError> {
    live_endpoints(&hop_targets(s), cfg).map(|_| ())
}
