//! The hidden SDK layer and hedging as a scenario resolves them (DESIGN §15): which SDK's
//! retry loop each hop gets, how many retries, and how many HTTP requests an attempt may
//! make at worst. The one place a provider is mapped to its SDK family.

use crate::policy::stainless::{self, SdkFamily, SdkRow};
use crate::scenario::types::{HedgeTo, ProviderKind, Scenario};

/// The official SDK whose retry loop a provider's calls run under; `None`: its SDK has no
/// Stainless loop, so `sdk_max_retries` cannot be emulated there (refused at load).
pub fn sdk_family(kind: ProviderKind) -> Option<SdkFamily> {
    match kind {
        // AzureOpenAI is the openai SDK's client: the same loop.
        ProviderKind::Openai
        | ProviderKind::OpenaiCompatible
        | ProviderKind::OpenaiResponses
        | ProviderKind::AzureOpenai => Some(SdkFamily::OpenAi),
        ProviderKind::Anthropic => Some(SdkFamily::Anthropic),
        // google-genai's own retry loop is off by default and is not Stainless's.
        ProviderKind::Gemini => None,
    }
}

/// One hop's SDK loop: its row and its retries (> 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdkLoop {
    pub row: SdkRow,
    pub max_retries: u32,
}

/// Each hop's provider and SDK retries (index 0 = primary): a hop's own
/// `sdk_max_retries`, else `[call]`'s, else 0.
pub fn hop_sdk_retries(s: &Scenario) -> Vec<(ProviderKind, u32)> {
    let primary = s.call.sdk_max_retries.unwrap_or(0);
    let mut out = vec![(s.call.provider, primary)];
    if let Some(fb) = &s.fallback {
        out.extend(
            fb.hops
                .iter()
                .map(|h| (h.provider, h.sdk_max_retries.unwrap_or(primary))),
        );
    }
    out
}

/// Each hop's SDK loop (index 0 = primary); `None` where it makes no retries.
pub fn hop_sdk_loops(s: &Scenario) -> Vec<Option<SdkLoop>> {
    hop_sdk_retries(s)
        .into_iter()
        .map(|(provider, retries)| {
            let family = sdk_family(provider)?;
            (retries > 0).then(|| SdkLoop {
                row: SdkRow::of(family, s.call.sdk_version),
                max_retries: retries,
            })
        })
        .collect()
}

/// The hop a hedge leg of hop `hop` goes to.
pub fn hedge_target(s: &Scenario, hop: usize) -> usize {
    let hops = 1 + s.fallback.as_ref().map_or(0, |f| f.hops.len());
    match s.hedge.as_ref().map(|h| h.to) {
        Some(HedgeTo::Next) if hop + 1 < hops => hop + 1,
        _ => hop,
    }
}

/// HTTP requests one attempt of hop `hop` makes at worst: each hedge leg (`[hedge].max`, 1
/// without hedging) times 1 + its SDK's retries.
pub fn requests_per_attempt(s: &Scenario, hop: usize) -> u64 {
    let retries = hop_sdk_retries(s);
    let per_leg = |h: usize| 1 + u64::from(retries.get(h).map_or(0, |r| r.1));
    match &s.hedge {
        None => per_leg(hop),
        Some(hedge) => {
            let extra = u64::from(hedge.max.saturating_sub(1));
            per_leg(hop) + extra * per_leg(hedge_target(s, hop))
        }
    }
}

/// The longest back-off of `retries` SDK retries in a row (no Retry-After): the sum of
/// `min(0.5 * 2^k, 8)` for k = 0 .. retries - 1.
pub fn sdk_worst_backoff(retries: u32) -> f64 {
    (0..retries).map(|k| stainless::backoff(k, 0.0)).sum()
}

/// What the SDK layer and hedging add to a plan: the worst case's HTTP requests, the SDK's
/// longest back-off, and notes and warnings for people.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LayerPlan {
    /// Every hop's attempts × requests per attempt.
    pub requests: u64,
    /// Seconds of SDK back-off at worst (no Retry-After), over every attempt.
    pub sdk_wait: f64,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

/// The plan of the SDK layer and hedging, given each hop's planned attempts.
pub fn layer_plan(s: &Scenario, attempts: &[u32]) -> LayerPlan {
    let retries = hop_sdk_retries(s);
    let loops = hop_sdk_loops(s);
    let mut plan = LayerPlan::default();
    for (hop, &n) in attempts.iter().enumerate() {
        let per = requests_per_attempt(s, hop);
        plan.requests += u64::from(n) * per;
        let sdk = retries.get(hop).map_or(0, |r| r.1);
        plan.sdk_wait += f64::from(n) * sdk_worst_backoff(sdk);
        let label = crate::words::hop_label(u32::try_from(hop).unwrap_or(u32::MAX));
        if let Some(l) = loops.get(hop).copied().flatten() {
            plan.notes.push(format!(
                "{label}: each attempt is up to {} requests: the SDK ({}) retries {} time(s) inside it on 408/409/429/5xx and connection errors, {}",
                1 + l.max_retries,
                l.row.label(),
                l.max_retries,
                l.row.cap_text()
            ));
            if n > 1 {
                plan.warnings.push(format!(
                    "both layers retry on {label}: {n} attempts x (1 + {sdk} SDK retries) = {} requests; retry in one layer (sdk_max_retries = 0, or no [retry])",
                    u64::from(n) * (1 + u64::from(sdk))
                ));
            }
        }
    }
    if let Some(h) = &s.hedge {
        let to = match h.to {
            HedgeTo::Same => "the same provider and model",
            HedgeTo::Next => "the next hop's provider and model",
        };
        plan.notes.push(format!(
            "hedge: after {} without an answer another request goes to {to}, up to {} in flight; the first to answer wins (requests x {} at worst)",
            h.after.human(),
            h.max,
            h.max
        ));
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load::parse;

    fn s(extra: &str) -> Scenario {
        parse(
            &format!(
                "name = \"t\"\n[prompt]\ntemplate = \"q\"\n[call]\nprovider = \"openai\"\nmodel = \"m\"\n{extra}"
            ),
            "t",
        )
        .unwrap()
    }

    #[test]
    fn hops_inherit_the_calls_sdk_retries_unless_they_set_their_own() {
        let sc = s(
            "sdk_max_retries = 2\nsdk_version = \"mirascope-pins\"\n[fallback]\ncatch = [\"any\"]\n[[fallback.hops]]\nprovider = \"anthropic\"\nmodel = \"c\"\ncatch = [\"any\"]\n[[fallback.hops]]\nprovider = \"openai\"\nmodel = \"d\"\ncatch = [\"any\"]\nsdk_max_retries = 0\n",
        );
        assert_eq!(
            hop_sdk_loops(&sc),
            vec![
                Some(SdkLoop {
                    row: SdkRow::OpenAi1,
                    max_retries: 2
                }),
                Some(SdkLoop {
                    row: SdkRow::Anthropic0,
                    max_retries: 2
                }),
                None,
            ]
        );
        assert_eq!(requests_per_attempt(&sc, 0), 3);
        assert_eq!(requests_per_attempt(&sc, 2), 1);
    }

    #[test]
    fn the_plan_counts_requests_and_warns_when_both_layers_retry() {
        let sc = s("sdk_max_retries = 2\n[retry]\nstop = { after_attempt = 3 }\n");
        let p = layer_plan(&sc, &[3]);
        assert_eq!(p.requests, 9);
        // 3 attempts x (0.5 + 1) s.
        assert_eq!(p.sdk_wait, 4.5);
        assert_eq!(
            p.warnings,
            [
                "both layers retry on primary: 3 attempts x (1 + 2 SDK retries) = 9 requests; retry in one layer (sdk_max_retries = 0, or no [retry])"
            ]
        );
        assert_eq!(sdk_worst_backoff(6), 0.5 + 1.0 + 2.0 + 4.0 + 8.0 + 8.0);
        let p = layer_plan(&s(""), &[3]);
        assert_eq!((p.requests, p.sdk_wait), (3, 0.0));
        assert!(p.notes.is_empty() && p.warnings.is_empty());
    }

    #[test]
    fn by_default_there_is_no_sdk_loop_and_one_request_per_attempt() {
        let sc = s("");
        assert_eq!(hop_sdk_loops(&sc), vec![None]);
        assert_eq!(requests_per_attempt(&sc, 0), 1);
    }

    #[test]
    fn hedge_legs_multiply_the_requests_of_their_target() {
        let sc = s("sdk_max_retries = 1\n[hedge]\nafter = \"1s\"\nmax = 3\n");
        assert_eq!(requests_per_attempt(&sc, 0), 6);
        let sc = s(
            "[hedge]\nafter = \"1s\"\nto = \"next\"\n[fallback]\ncatch = [\"any\"]\n[[fallback.hops]]\nprovider = \"anthropic\"\nmodel = \"c\"\ncatch = [\"any\"]\nsdk_max_retries = 2\n",
        );
        assert_eq!(hedge_target(&sc, 0), 1);
        assert_eq!(hedge_target(&sc, 1), 1, "the last hop hedges to itself");
        assert_eq!(requests_per_attempt(&sc, 0), 1 + 3);
        assert_eq!(requests_per_attempt(&sc, 1), 3 + 3);
    }
}
