//! Checks of the hidden SDK layer (`sdk_max_retries`) and of `[hedge]` (DESIGN §15).

use super::checks::{Problem, at};
use super::locate::KeyPath;
use crate::policy::duration::MAX_WAIT;
use crate::scenario::sdk::sdk_family;
use crate::scenario::types::{HedgeTo, ProviderKind, Scenario};

/// The most SDK retries a scenario may ask for (the SDKs take any number; past this a
/// scenario only multiplies its requests).
pub const MAX_SDK_RETRIES: u32 = 20;
/// The most requests one hedged attempt may have in flight.
pub const MAX_HEDGE: u32 = 10;

pub(super) fn check(s: &Scenario) -> Result<(), Problem> {
    check_sdk(
        KeyPath::new().key("call"),
        s.call.provider,
        s.call.sdk_max_retries,
    )?;
    if let Some(fb) = &s.fallback {
        for (i, hop) in fb.hops.iter().enumerate() {
            let path = KeyPath::new().key("fallback").key("hops").index(i);
            // A hop that inherits [call]'s retries must be able to run them too.
            let retries = hop.sdk_max_retries.or(s.call.sdk_max_retries);
            let path = match hop.sdk_max_retries {
                Some(_) => path,
                None => KeyPath::new().key("call"),
            };
            check_sdk(path, hop.provider, retries)?;
        }
    }
    check_hedge(s)
}

fn check_sdk(table: KeyPath, provider: ProviderKind, retries: Option<u32>) -> Result<(), Problem> {
    let Some(n) = retries else { return Ok(()) };
    let path = table.key("sdk_max_retries");
    if n > MAX_SDK_RETRIES {
        return Err(at(
            path,
            format!("`sdk_max_retries = {n}` is more than {MAX_SDK_RETRIES}"),
            "the SDKs default to 2; retry more with [retry] instead",
        ));
    }
    if n > 0 && sdk_family(provider).is_none() {
        return Err(at(
            path,
            format!("provider `{provider}`'s SDK has no Stainless retry loop to emulate"),
            "remove sdk_max_retries for this provider (set sdk_max_retries = 0 on its hop), and retry with [retry]",
        ));
    }
    Ok(())
}

fn check_hedge(s: &Scenario) -> Result<(), Problem> {
    let Some(h) = &s.hedge else { return Ok(()) };
    let path = KeyPath::new().key("hedge");
    if h.max < 2 {
        return Err(at(
            path.key("max"),
            format!(
                "`hedge.max = {}`: a hedge needs at least 2 requests in flight (the first and one more)",
                h.max
            ),
            "write max = 2 for one extra request, or remove [hedge]",
        ));
    }
    if h.max > MAX_HEDGE {
        return Err(at(
            path.key("max"),
            format!(
                "`hedge.max = {}` is more than {MAX_HEDGE} requests in flight",
                h.max
            ),
            "hedging pays with 2 or 3; write max = 2",
        ));
    }
    if h.after.0.is_nan() || h.after.0 < 0.0 || h.after.beyond_max_wait() {
        return Err(at(
            path.key("after"),
            format!(
                "`hedge.after` must be a duration from 0 s to {}",
                MAX_WAIT.human()
            ),
            "write e.g. after = \"2s\" (about the p95 latency)",
        ));
    }
    let hops = s.fallback.as_ref().map_or(0, |f| f.hops.len());
    if h.to == HedgeTo::Next && hops == 0 {
        return Err(at(
            path.key("to"),
            "`to = \"next\"` hedges to the next fallback hop, but there is no [[fallback.hops]]",
            "write to = \"same\", or add a [[fallback.hops]] entry",
        ));
    }
    Ok(())
}
