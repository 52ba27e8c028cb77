//! Findings for `[limits]` and `[fallback].on_result`: no target has a call-wide budget of
//! requests, tokens, dollars and time across retries and fallbacks, nor rejects a 200 reply
//! by its finish reason, so each says what it drops and the nearest it has. (LiteLLM's
//! `content_policy_fallbacks` is written by `litellm.rs` for `content_filter`.)

use super::{Findings, Target};
use crate::policy::duration::format_secs;
use crate::policy::on_result::ResultKind;
use crate::scenario::Scenario;
use crate::scenario::types::OnExhausted;

/// Notes what `target` cannot express of the scenario's limits and result predicates.
pub(super) fn findings(s: &Scenario, target: Target, f: &mut Findings) {
    let name = target.label();
    let python = matches!(
        target,
        Target::Mirascope | Target::Tenacity | Target::MirascopeV2
    );
    if let Some(l) = &s.limits {
        if let Some(d) = l.deadline {
            let d = format_secs(d.0);
            f.note(if python {
                format!(
                    "[limits].deadline = {d}: dropped; {name}'s nearest is stop_after_delay on each @retry, only approximately: it is checked after an attempt fails (an attempt or a wait in progress is not cut), it counts from each hop's first attempt, not from the call's start, and attempt timeouts are not clipped"
                )
            } else {
                format!(
                    "[limits].deadline = {d}: dropped; {name}'s request timeout bounds one request, not the call across its retries and fallbacks"
                )
            });
        }
        if let Some(n) = l.max_requests {
            f.note(format!(
                "[limits].max_requests = {n}: dropped; {name} bounds the attempts of each retry loop, not the requests of the whole call across its hops"
            ));
        }
        if let Some(n) = l.max_tokens {
            f.note(format!(
                "[limits].max_tokens = {n}: dropped; {name} has no token budget across attempts (a stream is not ended when it is reached)"
            ));
        }
        if let Some(c) = l.max_cost_usd {
            f.note(format!(
                "[limits].max_cost_usd = ${c}: dropped; {name} has no cost budget across attempts"
            ));
        }
        match l.on_exhausted {
            OnExhausted::Raise => {}
            OnExhausted::Message | OnExhausted::LastPartial => f.note(format!(
                "[limits].on_exhausted: no degraded answer in {name} (the call raises instead); wrap it in try/except to answer a fallback text"
            )),
        }
    }
    let on_result = s.fallback.as_ref().map_or(&[][..], |fb| &fb.on_result[..]);
    let dropped: Vec<ResultKind> = on_result
        .iter()
        .copied()
        .filter(|k| !(target == Target::Litellm && *k == ResultKind::ContentFilter))
        .collect();
    if !dropped.is_empty() {
        f.note(format!(
            "[fallback].on_result {}: dropped; {name} falls back on exceptions only, so such a reply is returned (length, empty) or retried on the same model first (content_filter, validation) as the retry table says",
            ResultKind::list(&dropped)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::export;
    use crate::scenario::load::parse;

    const SRC: &str = r#"
name = "t"
[prompt]
template = "Q"
[call]
provider = "openai"
model = "gpt-4o-mini"
[retry]
stop = { after_attempt = 3 }
[fallback]
catch = ["retry_error"]
on_result = ["content_filter", "length"]
hops = [{ provider = "anthropic", model = "claude-3-5-haiku-latest", catch = ["retry_error"] }]
[limits]
deadline = "30s"
max_requests = 5
"#;

    #[test]
    fn every_target_says_what_it_drops() {
        let s = parse(SRC, "t.toml").unwrap();
        for target in Target::ALL {
            let e = export(&s, "t.toml", target);
            let all = e.findings.list().join("\n");
            assert!(
                all.contains("[limits].deadline = 30 s: dropped"),
                "{target:?}: {all}"
            );
            assert!(
                all.contains("[limits].max_requests = 5: dropped"),
                "{target:?}: {all}"
            );
            assert!(all.contains("[fallback].on_result"), "{target:?}: {all}");
        }
        let m = export(&s, "t.toml", Target::Tenacity);
        assert!(
            m.findings
                .list()
                .iter()
                .any(|l| l.contains("stop_after_delay on each @retry, only approximately")),
            "{:?}",
            m.findings
        );
    }

    #[test]
    fn litellm_writes_content_policy_fallbacks() {
        let s = parse(SRC, "t.toml").unwrap();
        let e = export(&s, "t.toml", Target::Litellm);
        assert!(
            e.code
                .contains("  content_policy_fallbacks: [{\"primary\": [\"hop-1\"]}]"),
            "{}",
            e.code
        );
        let all = e.findings.list().join("\n");
        assert!(
            all.contains("[fallback].on_result [length]: dropped"),
            "{all}"
        );
    }
}
