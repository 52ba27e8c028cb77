//! The hidden SDK layer and hedging as a scenario resolves them (DESIGN §15): which SDK's
//! retry loop each hop gets, how many retries, and how many HTTP requests an attempt may
//! make at worst. The one place a provider is mapped to its SDK family.

use crate::policy::stainless::{SdkFamily, SdkRow};
use crate::scenario::types::{HedgeTo, ProviderKind, Scenario};

/// The official SDK whose retry loop a provider's calls run under; `None`: its SDK has no
/// Stainless loop, so `sdk_max_retries` cannot be emulated there (refused at load).
pub fn sdk_family(kind: ProviderKind) -> Option<SdkFamily> {
    match kind {
        ProviderKind::Openai | ProviderKind::OpenaiCompatible => Some(SdkFamily::OpenAi),
        ProviderKind::Anthropic => Some(SdkFamily::Anthropic),
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
