//! Checks of the `[retry]` keys beyond Tenacity (DESIGN §15): values serde accepts that
//! contradict the rest of the scenario or cannot mean what the user wants.

use super::checks::{Problem, at, too_long};
use super::locate::KeyPath;
use crate::policy::duration::MAX_WAIT;
use crate::policy::{OverMax, ReinsertKeep, StreamRecovery, Wait};
use crate::scenario::types::{RetrySpec, Scenario};

/// Every retry table (the primary's, then each hop's own), in file order.
pub(super) fn check_beyond(s: &Scenario) -> Result<(), Problem> {
    let mut tables: Vec<(KeyPath, &RetrySpec)> = Vec::new();
    if let Some(r) = &s.retry {
        tables.push((KeyPath::new().key("retry"), r));
    }
    let hops = s.fallback.as_ref().map_or(0, |f| f.hops.len());
    if let Some(fb) = &s.fallback {
        for (i, hop) in fb.hops.iter().enumerate() {
            if let Some(r) = &hop.retry {
                let path = KeyPath::new().key("fallback").key("hops").index(i);
                tables.push((path.key("retry"), r));
            }
        }
    }
    for (path, r) in tables {
        check_jitter(r, &path)?;
        check_over_max(r, &path, hops)?;
        check_stream_recovery(r, &path, s.call.stream)?;
        check_reinsert_keep(r, &path)?;
        if let Some(w) = &r.wait {
            check_decorrelated(w, path.clone().key("wait"))?;
        }
    }
    Ok(())
}

fn check_jitter(r: &RetrySpec, path: &KeyPath) -> Result<(), Problem> {
    let Some(j) = r.retry_after_jitter else {
        return Ok(());
    };
    let place = path.clone().key("retry_after_jitter");
    if !j.0.is_finite() {
        return Err(at(
            place,
            "`retry_after_jitter` is infinite: the wait after a Retry-After would never end",
            "give the most to add on top of a Retry-After, e.g. \"500ms\" or \"2s\"",
        ));
    }
    if j.beyond_max_wait() {
        return Err(too_long(place, "retry_after_jitter", "is a wait"));
    }
    if !r.honor_retry_after && j.0 > 0.0 {
        return Err(at(
            place,
            "`retry_after_jitter` with honor_retry_after = false: no Retry-After is waited, so there is nothing to add the jitter to",
            "set honor_retry_after = true, or remove retry_after_jitter",
        ));
    }
    Ok(())
}

fn check_over_max(r: &RetrySpec, path: &KeyPath, hops: usize) -> Result<(), Problem> {
    let place = path.clone().key("retry_after_over_max");
    if r.retry_after_over_max != OverMax::Cap && !r.honor_retry_after {
        return Err(at(
            place,
            format!(
                "`retry_after_over_max = \"{}\"` with honor_retry_after = false: the Retry-After is ignored, so it is never over the max",
                r.retry_after_over_max.as_str()
            ),
            "set honor_retry_after = true, or remove retry_after_over_max",
        ));
    }
    if r.retry_after_over_max == OverMax::Fallback && hops == 0 {
        return Err(at(
            place,
            "`retry_after_over_max = \"fallback\"` but there is no fallback hop to go to",
            "add a [[fallback.hops]] entry, or use \"fail\" to end the call with the error",
        ));
    }
    Ok(())
}

fn check_stream_recovery(r: &RetrySpec, path: &KeyPath, stream: bool) -> Result<(), Problem> {
    if r.stream_recovery == StreamRecovery::Restart || stream {
        return Ok(());
    }
    Err(at(
        path.clone().key("stream_recovery"),
        format!(
            "`stream_recovery = \"{}\"` needs a streamed call: without [call] stream = true no attempt breaks mid-stream",
            r.stream_recovery.as_str()
        ),
        "set stream = true in [call], or remove stream_recovery",
    ))
}

fn check_reinsert_keep(r: &RetrySpec, path: &KeyPath) -> Result<(), Problem> {
    if r.reinsert_keep == ReinsertKeep::Last && r.reinsert.is_empty() {
        return Err(at(
            path.clone().key("reinsert_keep"),
            "`reinsert_keep = \"last\"` but `reinsert` is empty: no error text is carried, so there is nothing to keep",
            "list the kinds whose text goes into the next call, e.g. reinsert = [\"validation\"]",
        ));
    }
    Ok(())
}

/// A decorrelated jitter grows from `base`; `max` caps it.
fn check_decorrelated(w: &Wait, path: KeyPath) -> Result<(), Problem> {
    match w {
        Wait::Chain(list) | Wait::Sum(list) => {
            let key = if matches!(w, Wait::Chain(_)) {
                "chain"
            } else {
                "sum"
            };
            for (i, inner) in list.iter().enumerate() {
                check_decorrelated(inner, path.clone().key(key).index(i))?;
            }
            Ok(())
        }
        Wait::DecorrelatedJitter(p) => {
            let table = path.key("decorrelated_jitter");
            if !p.base.0.is_finite() {
                return Err(at(
                    table.key("base"),
                    "`decorrelated_jitter.base` is infinite: this wait never ends",
                    "give the first wait's low end in seconds, e.g. base = 1",
                ));
            }
            if p.base.0 > MAX_WAIT.0 {
                return Err(too_long(table.key("base"), "base", "is a wait"));
            }
            if p.base.0 <= 0.0 {
                return Err(at(
                    table.key("base"),
                    "`decorrelated_jitter.base = 0`: each wait is drawn from [base, 3 x the last], so every wait would be 0",
                    "give a base above 0, e.g. base = 1 (AWS's example) or \"250ms\"",
                ));
            }
            if p.max.0 < p.base.0 {
                return Err(at(
                    table.key("max"),
                    format!(
                        "`decorrelated_jitter.max` ({}) is below its base ({}): every wait would be max, no jitter at all",
                        p.max.human(),
                        p.base.human()
                    ),
                    "make max at least base (e.g. base = 1, max = 20), or use { fixed = .. }",
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
