//! Checks of what lasts across calls (DESIGN §15): `[breaker]` and `[budget]`, and the two
//! error kinds they end attempts and hops with. Each refusal names the key and says what to
//! write instead.

use super::checks::{Problem, at, too_long};
use super::locate::KeyPath;
use crate::error::ErrorKind;
use crate::scenario::types::{BreakerSpec, BudgetSpec, RetrySpec, Scenario};

/// The longest `window` a rate breaker keeps (one flag per attempt, per provider+model).
pub const MAX_WINDOW: u32 = 100_000;

/// The most probes a half-open breaker lets through at once.
pub const MAX_PROBES: u32 = 10_000;

/// The largest `retry_ratio` (tower's bound: 1000 retries per call).
pub const MAX_RATIO: f64 = 1000.0;

pub fn check(s: &Scenario) -> Result<(), Problem> {
    check_kinds(s)?;
    if let Some(b) = &s.breaker {
        check_breaker(b, KeyPath::new().key("breaker"))?;
    }
    if let Some(b) = &s.budget {
        check_budget(b, KeyPath::new().key("budget"))?;
    }
    Ok(())
}

/// `circuit_open` in `retry_on` or `reinsert`: a refused attempt is never retried.
fn check_kinds(s: &Scenario) -> Result<(), Problem> {
    let mut tables: Vec<(KeyPath, &RetrySpec)> = Vec::new();
    if let Some(r) = &s.retry {
        tables.push((KeyPath::new().key("retry"), r));
    }
    if let Some(fb) = &s.fallback {
        for (i, hop) in fb.hops.iter().enumerate() {
            if let Some(r) = &hop.retry {
                let path = KeyPath::new().key("fallback").key("hops").index(i);
                tables.push((path.key("retry"), r));
            }
        }
    }
    for (path, r) in tables {
        let lists = [
            ("retry_on", r.retry_on.as_deref().unwrap_or(&[])),
            ("reinsert", &r.reinsert[..]),
        ];
        for (key, kinds) in lists {
            if let Some(i) = kinds.iter().position(|k| *k == ErrorKind::CircuitOpen) {
                return Err(at(
                    path.clone().key(key).index(i),
                    format!(
                        "`circuit_open` in `{key}`: an attempt an open breaker refused is never retried in its hop"
                    ),
                    "leave it out: [breaker].on_open decides what follows (\"fallback\": the next hop; \"fail\": the hop's catch)",
                ));
            }
        }
    }
    Ok(())
}

fn check_breaker(b: &BreakerSpec, path: KeyPath) -> Result<(), Problem> {
    if b.failures == Some(0) {
        return Err(at(
            path.key("failures"),
            "`failures = 0`: the breaker would be open before the first attempt",
            "write the consecutive failures that open it, e.g. failures = 5",
        ));
    }
    if b.failures.is_some() && b.rate.is_some() {
        return Err(at(
            path.key("rate"),
            "`failures` and `rate` are both set: a breaker opens on one threshold",
            "keep failures = N (consecutive failures), or rate = 0.5 with window = 20 (a share of the last attempts), not both",
        ));
    }
    if let Some(rate) = b.rate
        && !(rate > 0.0 && rate <= 1.0)
    {
        return Err(at(
            path.key("rate"),
            format!(
                "`rate = {rate}`: a failure rate is a share of attempts, above 0 and at most 1"
            ),
            "write e.g. rate = 0.5 (half of the last `window` attempts failed)",
        ));
    }
    if let Some(window) = b.window {
        if b.rate.is_none() {
            return Err(at(
                path.key("window"),
                "`window` without `rate`: the window is what the failure rate is taken over",
                "add rate = 0.5, or leave window out (failures = N counts consecutive failures)",
            ));
        }
        if window == 0 {
            return Err(at(
                path.key("window"),
                "`window = 0`: a rate over no attempts never says anything",
                "write the attempts the rate is taken over, e.g. window = 20",
            ));
        }
        if window > MAX_WINDOW {
            return Err(at(
                path.key("window"),
                format!("`window = {window}`: at most {MAX_WINDOW} attempts"),
                "write e.g. window = 100",
            ));
        }
    }
    if let Some(c) = b.cooldown {
        if c.0 <= 0.0 {
            return Err(at(
                path.key("cooldown"),
                "`cooldown = 0`: an open breaker would let the next attempt through at once",
                "write how long it stays open, e.g. cooldown = \"30s\"",
            ));
        }
        if c.beyond_max_wait() {
            return Err(too_long(path.key("cooldown"), "cooldown", "is"));
        }
    }
    match b.half_open_probes {
        Some(0) => Err(at(
            path.key("half_open_probes"),
            "`half_open_probes = 0`: a half-open breaker would never let a probe through, so it could never close",
            "write half_open_probes = 1 (or more: each must succeed to close it)",
        )),
        Some(n) if n > MAX_PROBES => Err(at(
            path.key("half_open_probes"),
            format!("`half_open_probes = {n}`: at most {MAX_PROBES}"),
            "write e.g. half_open_probes = 3",
        )),
        _ => Ok(()),
    }
}

fn check_budget(b: &BudgetSpec, path: KeyPath) -> Result<(), Problem> {
    if let Some(r) = b.retry_ratio
        && !(0.0..=MAX_RATIO).contains(&r)
    {
        return Err(at(
            path.key("retry_ratio"),
            format!(
                "`retry_ratio = {r}`: the retries each call adds to the budget are from 0 to {MAX_RATIO}"
            ),
            "write a share of calls, e.g. retry_ratio = 0.2 (one retry per five calls)",
        ));
    }
    Ok(())
}
