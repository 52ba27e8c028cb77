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
use crate::scenario::sdk::layer_plan;
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
    let per_hop: Vec<u32> = schedule.hops.iter().map(|h| h.attempts).collect();
    let layers = layer_plan(s, &per_hop);
    let sdk_wait = if layers.sdk_wait > 0.0 {
        format!(" + {} of SDK back-off", format_secs(layers.sdk_wait))
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "worst case: {attempts} attempts, {} HTTP requests, {} of waiting{sdk_wait}{}",
        layers.requests,
        format_secs(schedule.worst_total_wait()),
        if schedule.unbounded() {
            " (or more: a hop never stops)"
        } else {
            ""
        }
    );
    for note in &layers.notes {
        let _ = writeln!(out, "  {note}");
    }
    for warning in &layers.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    if s.fallback.as_ref().is_some_and(|f| !f.hops.is_empty()) {
        let _ = writeln!(
            out,
            "  (the worst case assumes every hop runs: each hop's end is caught)"
        );
    }
    for line in crate::scenario::plan::across_calls(s) {
        let _ = writeln!(out, "{line}");
    }
    // `[limits]` and `on_result`: how they cut that worst case (SDK retries included).
    let worst = crate::scenario::plan::limits::Worst {
        requests: u32::try_from(layers.requests).unwrap_or(u32::MAX),
        waiting: schedule.worst_total_wait(),
        unbounded: schedule.unbounded(),
    };
    for note in crate::scenario::plan::limits::notes(s, worst) {
        let _ = writeln!(out, "  {note}");
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
    fn sdk_amplification_counts_every_request_and_warns_that_both_layers_retry() {
        let b = find("sdk-amplification").unwrap();
        let s = parse(b.source, b.name).unwrap();
        let r = report(&s, "x");
        // 3 attempts x (1 + 2); the SDK's back-off at worst: 3 x (0.5 + 1) s.
        assert!(
            r.contains(
                "worst case: 3 attempts, 9 HTTP requests, 8 s of waiting + 4.5 s of SDK back-off"
            ),
            "{r}"
        );
        assert!(r.contains("primary: each attempt is up to 3 requests: the SDK (openai 1.109) retries 2 time(s)"), "{r}");
        assert!(
            r.contains("warning: both layers retry on primary: 3 attempts x (1 + 2 SDK retries) = 9 requests"),
            "{r}"
        );
    }

    #[test]
    fn breaker_and_budget_are_in_the_plan() {
        let s = parse(
            "name = \"x\"\n[prompt]\ntemplate = \"hi\"\n[call]\nprovider = \"openai\"\nmodel = \"m\"\n[breaker]\nrate = 0.5\nwindow = 20\ncooldown = \"30s\"\n[budget]\n",
            "x",
        )
        .unwrap();
        let r = report(&s, "x");
        assert!(
            r.contains("breaker: per provider+model: opens after 50 % of the last 20 attempts failing, half-open after 30 s (1 probe); an open breaker skips to the next hop (or fails fast)\n"),
            "{r}"
        );
        assert!(
            r.contains("budget: retries at most 20 % of calls + 10 a second (over the last 10 s), shared by every call\n"),
            "{r}"
        );
    }

    #[test]
    fn limits_cut_the_worst_case_in_the_report() {
        let b = find("fallback-with-retries").unwrap();
        let src = format!(
            "{}\n[limits]\nmax_requests = 4\ndeadline = \"10s\"\n",
            b.source
        );
        let s = parse(&src, b.name).unwrap();
        let r = report(&s, "x");
        assert!(
            r.contains("worst case: 6 attempts, 6 HTTP requests, 16 s of waiting\n"),
            "{r}"
        );
        assert!(
            r.contains("  worst case 6 requests, capped at 4 by [limits].max_requests\n"),
            "{r}"
        );
        assert!(
            r.contains("  worst case 16 s of waiting, capped at 10 s by [limits].deadline"),
            "{r}"
        );
        assert!(
            r.contains("  a limit reached ends the call with limit_exceeded\n"),
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
