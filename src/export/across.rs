//! What lasts across calls (`[breaker]`, `[budget]`) in each target: where it can be said
//! (LiteLLM's cooldowns, Portkey's `cb_config`) it is, with what was approximated; where it
//! cannot (Tenacity and Mirascope keep no state between calls) a finding says so.

use super::litellm::statuses;
use super::{Findings, Target};
use crate::error::ErrorKind;
use crate::policy::breaker::{BreakerPolicy, OnOpen, Trip, counts_as_failure};
use crate::scenario::Scenario;
use crate::scenario::plan::breaker_policy;

/// Tenacity, Mirascope v1 and v2: neither a breaker nor a budget.
pub fn python(s: &Scenario, target: Target, f: &mut Findings) {
    let who = target.label();
    if s.breaker.is_some() {
        f.note(format!(
            "[breaker]: {who} has no circuit breaker (nothing is kept between calls); dropped: every attempt is sent, circuit_open never happens"
        ));
    }
    if s.budget.is_some() {
        f.note(format!(
            "[budget]: {who} has no retry budget; dropped: every retry the stop allows is made, budget_exhausted never happens"
        ));
    }
    catch_findings(s, who, f);
}

/// `circuit_open` / `budget_exhausted` named in a catch list: no exception stands for them.
fn catch_findings(s: &Scenario, who: &str, f: &mut Findings) {
    let Some(fb) = &s.fallback else { return };
    let lists = std::iter::once(&fb.catch).chain(fb.hops.iter().map(|h| &h.catch));
    for kind in [ErrorKind::CircuitOpen, ErrorKind::BudgetExhausted] {
        if lists.clone().any(|l| l.contains(&kind)) {
            f.note(format!(
                "catch {kind}: {who} raises no such error; the entry catches nothing"
            ));
        }
    }
}

/// The HTTP statuses of the kinds the breaker counts as failures.
fn failure_statuses() -> Vec<u16> {
    let mut codes: Vec<u16> = ErrorKind::ALL
        .iter()
        .filter(|k| **k != ErrorKind::Any && counts_as_failure(**k))
        .flat_map(|k| statuses(*k).iter().copied())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// Failures a count-based breaker should allow for `p` (rate: the failures its window
/// holds at the rate).
fn failures_of(p: &BreakerPolicy) -> u32 {
    match p.trip {
        Trip::Consecutive(n) => n,
        Trip::Rate { rate, window } => ((rate * f64::from(window)).ceil() as u32).max(1),
    }
}

/// LiteLLM's `router_settings` lines (`allowed_fails`, `cooldown_time`), with findings.
pub fn litellm(s: &Scenario, f: &mut Findings) -> String {
    let mut out = String::new();
    if let Some(b) = &s.breaker {
        let p = breaker_policy(b);
        let n = failures_of(&p);
        // LiteLLM cools a deployment down once it fails more than allowed_fails times.
        out.push_str(&format!("  allowed_fails: {}\n", n.saturating_sub(1)));
        out.push_str(&format!("  cooldown_time: {}\n", p.cooldown.0));
        let counted = match p.trip {
            Trip::Consecutive(_) => "failures = N counts consecutive failures",
            Trip::Rate { .. } => "rate over window has no spelling",
        };
        f.note(format!(
            "LiteLLM: [breaker] as allowed_fails = {} and cooldown_time = {}: the Router cools a deployment down after more than allowed_fails failures within a minute ({counted}; {n} failures open it here)",
            n.saturating_sub(1),
            p.cooldown.0
        ));
        if p.half_open_probes != 1 {
            f.note("LiteLLM: half_open_probes has no spelling; a cooled-down deployment takes requests again once cooldown_time passes");
        }
        if p.on_open == OnOpen::Fail {
            f.note("LiteLLM: on_open = \"fail\" has no spelling; a cooled-down deployment is skipped for the fallbacks");
        }
    }
    if s.budget.is_some() {
        f.note("LiteLLM: [budget] has no spelling (no retry budget across requests); dropped: num_retries applies to every request");
    }
    catch_findings(s, "LiteLLM", f);
    out
}

/// Portkey's `cb_config` for the fallback strategy, with findings; `None` when there is no
/// `[breaker]` or no strategy to hold it (a single target).
pub fn portkey(s: &Scenario, strategy: bool, f: &mut Findings) -> Option<serde_json::Value> {
    if s.budget.is_some() {
        f.note("Portkey: [budget] has no spelling (no retry budget across requests); dropped");
    }
    catch_findings(s, "Portkey", f);
    let b = s.breaker.as_ref()?;
    if !strategy {
        f.note("Portkey: [breaker]: cb_config belongs to a strategy, and a single target has none; dropped");
        return None;
    }
    let p = breaker_policy(b);
    let mut cb = serde_json::json!({ "failure_status_codes": failure_statuses() });
    match p.trip {
        Trip::Consecutive(n) => {
            cb["failure_threshold"] = serde_json::json!(n);
            f.note(format!("Portkey: failures = {n} counts consecutive failures; Portkey's failure_threshold counts failures since the first one, successes between them included"));
        }
        Trip::Rate { rate, window } => {
            cb["failure_threshold_percentage"] = serde_json::json!(rate * 100.0);
            cb["minimum_requests"] = serde_json::json!(window);
            f.note(format!("Portkey: rate over the last {window} attempts as failure_threshold_percentage with minimum_requests = {window}: Portkey's rate is over every request since the circuit last closed, not a sliding window"));
        }
    }
    let ms = p.cooldown.as_ms();
    if ms < 30_000 {
        f.note(format!(
            "Portkey: cooldown {} raised to 30 s (cooldown_interval's minimum)",
            p.cooldown.human()
        ));
    }
    cb["cooldown_interval"] = serde_json::json!(ms.max(30_000));
    f.note("Portkey: half_open_probes has no spelling; the circuit closes on its own once cooldown_interval passes");
    if p.on_open == OnOpen::Fail {
        f.note("Portkey: on_open = \"fail\" has no spelling; an open target is removed from routing (the next target is tried)");
    }
    Some(cb)
}

#[cfg(test)]
mod tests {
    use super::super::{Target, export};
    use crate::scenario::load::parse;

    fn scenario(extra: &str) -> crate::scenario::Scenario {
        let src = format!(
            "name = \"x\"\n[prompt]\ntemplate = \"hi\"\n[call]\nprovider = \"openai\"\nmodel = \"m\"\n[retry]\nstop = {{ after_attempt = 3 }}\n[fallback]\ncatch = [\"retry_error\", \"circuit_open\"]\n[[fallback.hops]]\nprovider = \"anthropic\"\nmodel = \"c\"\ncatch = [\"retry_error\"]\n{extra}"
        );
        parse(&src, "x").unwrap()
    }

    #[test]
    fn every_target_says_what_it_made_of_the_breaker_and_the_budget() {
        let s = scenario("[breaker]\nrate = 0.5\nwindow = 20\ncooldown = \"60s\"\n[budget]\n");
        for t in [Target::Mirascope, Target::Tenacity, Target::MirascopeV2] {
            let e = export(&s, "x", t);
            let f = e.findings.list();
            assert!(
                f.iter()
                    .any(|x| x.starts_with("[breaker]: ") && x.contains("no circuit breaker")),
                "{f:?}"
            );
            assert!(
                f.iter()
                    .any(|x| x.starts_with("[budget]: ") && x.contains("no retry budget")),
                "{f:?}"
            );
            assert!(
                f.iter().any(|x| x.starts_with("catch circuit_open: ")),
                "{f:?}"
            );
        }
        let e = export(&s, "x", Target::Litellm);
        // 50 % of 20 = 10 failures open it: more than 9 a minute.
        assert!(
            e.code.contains("  allowed_fails: 9\n  cooldown_time: 60\n"),
            "{}",
            e.code
        );
        assert!(
            e.findings
                .list()
                .iter()
                .any(|x| x.contains("rate over window has no spelling"))
        );
        assert!(
            e.findings
                .list()
                .iter()
                .any(|x| x.starts_with("LiteLLM: [budget] has no spelling"))
        );
        let e = export(&s, "x", Target::Portkey);
        let v: serde_json::Value = serde_json::from_str(&e.code).unwrap();
        assert_eq!(
            v["strategy"]["cb_config"],
            serde_json::json!({
                "failure_threshold_percentage": 50.0,
                "minimum_requests": 20,
                "cooldown_interval": 60000,
                "failure_status_codes": [401, 403, 408, 429, 500, 502, 503, 504, 529],
            })
        );
        assert!(
            e.findings
                .list()
                .iter()
                .any(|x| x.starts_with("Portkey: [budget] has no spelling"))
        );
    }

    #[test]
    fn without_breaker_or_budget_nothing_is_said() {
        let s = scenario("");
        let e = export(&s, "x", Target::Portkey);
        assert!(!e.code.contains("cb_config"));
        assert!(
            !e.findings
                .list()
                .iter()
                .any(|x| x.contains("[breaker]") || x.contains("[budget]"))
        );
    }
}
