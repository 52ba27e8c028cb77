//! `retrylab check SCENARIO`: validate, then print the planned attempts and waits and the
//! worst case.

use super::{EXIT_OK, usage_error};
use crate::engine::run::hop_labels;
use crate::error::ErrorKind;
use crate::policy::duration::format_secs;
use crate::policy::schedule::{Schedule, Step, plan};
use crate::scenario::Scenario;
use crate::scenario::builtin::resolve;
use crate::scenario::plan::{hop_extras, hop_policies};
use crate::words::hop_label;
use std::fmt::Write as _;
use std::process::ExitCode;

pub fn execute(scenario: &str) -> ExitCode {
    let resolved = match resolve(scenario) {
        Ok(r) => r,
        Err(e) => return usage_error(&e.to_string()),
    };
    print!("{}", report(&resolved.scenario, &resolved.origin));
    ExitCode::from(EXIT_OK)
}

fn wait_text(secs: f64, lo: f64, hi: f64) -> String {
    if (hi - lo).abs() < 1e-9 {
        format!("wait {}", format_secs(secs))
    } else {
        format!(
            "wait {} (jitter {}–{})",
            format_secs(secs),
            format_secs(lo),
            format_secs(hi)
        )
    }
}

/// The plan of one hop as one line: `attempt 1, wait 4 s, attempt 2, ..., then retry_error`.
pub fn hop_line(steps: &[Step], ends_with: &str, unbounded: bool) -> String {
    let mut parts: Vec<String> = steps
        .iter()
        .map(|s| match s {
            Step::Attempt(n) => format!("attempt {n}"),
            Step::Wait { secs, lo, hi, .. } => wait_text(*secs, *lo, *hi),
        })
        .collect();
    if unbounded {
        parts.push("… (no stop: retries forever)".into());
    } else {
        parts.push(format!("then {ends_with}"));
    }
    parts.join(", ")
}

/// The whole report `check` prints.
pub fn report(s: &Scenario, origin: &str) -> String {
    let policies = hop_policies(s);
    let schedule: Schedule = plan(&policies, 0.0);
    let mut out = String::new();
    let _ = writeln!(out, "ok: {origin} — {}", s.name);
    let _ = writeln!(out, "planned, if every attempt fails (no Retry-After):");
    let targets = hop_labels(s);
    let extras = hop_extras(s);
    for (i, hop) in schedule.hops.iter().enumerate() {
        let label = hop_label(u32::try_from(i).unwrap_or(u32::MAX));
        let ends = match (&policies[i], hop.ends_with) {
            (_, ErrorKind::RetryError) => "retry_error".to_string(),
            (Some(_), _) => "the error as is (retry_on retries nothing)".to_string(),
            (None, _) => "the error as is (no [retry])".to_string(),
        };
        let _ = writeln!(
            out,
            "  {label:<8} {}: {}",
            targets.get(i).map_or("?", String::as_str),
            hop_line(&hop.steps, &ends, hop.unbounded)
        );
        // The keys beyond Tenacity that change what a failure leads to.
        let notes = extras.get(i).map(|e| e.notes()).unwrap_or_default();
        if !notes.is_empty() {
            let _ = writeln!(out, "  {:<8} {}", "", notes.join(" · "));
        }
    }
    let attempts = schedule.worst_attempts();
    let _ = writeln!(
        out,
        "worst case: {attempts} attempts, {attempts} HTTP requests, {} of waiting{}",
        format_secs(schedule.worst_total_wait()),
        if schedule.unbounded() {
            " (or more: a hop never stops)"
        } else {
            ""
        }
    );
    if s.fallback.as_ref().is_some_and(|f| !f.hops.is_empty()) {
        let _ = writeln!(
            out,
            "  (the worst case assumes every hop runs: each hop's end is caught)"
        );
    }
    if schedule.unbounded() {
        let _ = writeln!(
            out,
            "warning: a [retry] table has no stop: it can retry forever. Add e.g. stop = {{ after_attempt = 5 }}"
        );
    }
    if schedule.worst_total_wait() > 3600.0 {
        let _ = writeln!(out, "warning: the waits alone can last over an hour");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::builtin::find;
    use crate::scenario::load::parse;

    #[test]
    fn basic_retry_plan_matches_tenacity() {
        let b = find("basic-retry").unwrap();
        let s = parse(b.source, b.name).unwrap();
        let r = report(&s, "builtin:basic-retry");
        assert!(
            r.contains("primary  openai/gpt-4o-mini: attempt 1, wait 4 s, attempt 2, wait 4 s, attempt 3, then retry_error"),
            "{r}"
        );
        assert!(
            r.contains("worst case: 3 attempts, 3 HTTP requests, 8 s of waiting"),
            "{r}"
        );
    }

    #[test]
    fn fallback_with_retries_plans_both_hops() {
        let b = find("fallback-with-retries").unwrap();
        let s = parse(b.source, b.name).unwrap();
        let r = report(&s, "x");
        assert!(
            r.contains("hop 1    anthropic/claude-3-5-sonnet-latest: attempt 1, wait 4 s"),
            "{r}"
        );
        assert!(
            r.contains("worst case: 6 attempts, 6 HTTP requests, 16 s of waiting"),
            "{r}"
        );
    }

    #[test]
    fn a_policy_that_retries_nothing_ends_with_the_error_itself() {
        let s = parse(
            "name = \"x\"\n[prompt]\ntemplate = \"hi\"\n[call]\nprovider = \"openai\"\nmodel = \"m\"\n[retry]\nstop = { after_attempt = 3 }\nretry_on = []\n",
            "x",
        )
        .unwrap();
        let r = report(&s, "x");
        assert!(
            r.contains("attempt 1, then the error as is (retry_on retries nothing)"),
            "{r}"
        );
    }

    #[test]
    fn decorrelated_jitter_and_the_keys_beyond_tenacity_are_shown() {
        let s = parse(
            "name = \"x\"\n[prompt]\ntemplate = \"hi\"\n[call]\nprovider = \"openai\"\nmodel = \"m\"\nstream = true\n[retry]\nstop = { after_attempt = 4 }\nreinsert = [\"validation\"]\nwait = { decorrelated_jitter = { base = 1, max = 20 } }\nretry_after_jitter = \"500ms\"\nretry_after_over_max = \"fail\"\nstream_recovery = \"continue\"\nreinsert_keep = \"last\"\n",
            "x",
        )
        .unwrap();
        let r = report(&s, "x");
        assert!(r.contains("(jitter 1 s–3 s)"), "{r}");
        assert!(r.contains("(jitter 1 s–9 s)"), "{r}");
        assert!(
            r.contains("(jitter 1 s–20 s), attempt 4, then retry_error"),
            "{r}"
        );
        assert!(
            r.contains("           Retry-After + jitter 0–500 ms · Retry-After over max: fail · broken stream: continue · reinsert: last only\n"),
            "{r}"
        );
        // 3 + 9 + 20 s at most.
        assert!(r.contains("32 s of waiting"), "{r}");
    }

    #[test]
    fn jitter_is_shown_as_a_range() {
        let b = find("overloaded-in-stream").unwrap();
        let s = parse(b.source, b.name).unwrap();
        let r = report(&s, "x");
        assert!(r.contains("(jitter 1 s–2 s)"), "{r}");
    }
}
