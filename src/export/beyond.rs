//! Findings for the `[retry]` keys beyond Tenacity (DESIGN §15). The Python programs
//! express decorrelated jitter (the harness's `wait_decorrelated_jitter`), Retry-After
//! jitter (in `wait_retry_after`) and `reinsert_keep = "last"` (by slicing `errors`); what a
//! target cannot express is listed with how it was approximated.

use super::{Findings, Target};
use crate::policy::{OverMax, ReinsertKeep, StreamRecovery, Wait};
use crate::scenario::Scenario;
use crate::scenario::plan::{hop_extras, hop_policies};

/// Notes what `target` cannot express of these keys, for every hop's table.
pub(super) fn findings(s: &Scenario, target: Target, f: &mut Findings) {
    let python = matches!(target, Target::Mirascope | Target::Tenacity);
    let label = target.label();
    for e in hop_extras(s) {
        if e.retry_after_jitter.0 > 0.0 && !python {
            f.note(format!(
                "retry_after_jitter: {label} cannot add jitter to a Retry-After; dropped (callers told the same Retry-After come back together)"
            ));
        }
        match e.retry_after_over_max {
            OverMax::Cap => {}
            other => f.note(format!(
                "retry_after_over_max = \"{}\": {label} has no such rule; a Retry-After past retry_after_max is capped and waited instead",
                other.as_str()
            )),
        }
        match e.stream_recovery {
            StreamRecovery::Restart => {}
            StreamRecovery::Continue => f.note(format!(
                "stream_recovery = \"continue\": {label} cannot send a broken stream's text back; the retry starts the answer over"
            )),
            StreamRecovery::Surface => f.note(format!(
                "stream_recovery = \"surface\": {label} cannot end the call with the partial output; a broken stream is retried like any other error"
            )),
        }
        if e.reinsert_keep == ReinsertKeep::Last && !python && target != Target::MirascopeV2 {
            f.note(format!(
                "reinsert_keep = \"last\": {label} reinserts no error text at all; dropped"
            ));
        }
    }
    if !python && target != Target::MirascopeV2 {
        let decorrelated = hop_policies(s)
            .iter()
            .flatten()
            .any(|p| p.wait.as_ref().is_some_and(has_decorrelated));
        if decorrelated {
            f.note(format!(
                "decorrelated_jitter: {label} has no such back-off; its retries keep the target's own schedule"
            ));
        }
    }
}

fn has_decorrelated(w: &Wait) -> bool {
    match w {
        Wait::DecorrelatedJitter(_) => true,
        Wait::Chain(l) | Wait::Sum(l) => l.iter().any(has_decorrelated),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::export::{Target, export};
    use crate::scenario::load::parse;

    const SRC: &str = r#"
name = "x"
[prompt]
template = "Q {{ errors }}"
[call]
provider = "openai"
model = "gpt-4o-mini"
stream = true
[retry]
stop = { after_attempt = 4 }
wait = { decorrelated_jitter = { base = 1, max = 20 } }
reinsert = ["validation"]
reinsert_keep = "last"
retry_after_jitter = "500ms"
retry_after_over_max = "fail"
stream_recovery = "continue"
[response]
validators = [{ uppercase = true }]
"#;

    #[test]
    fn the_python_programs_express_the_waits_and_the_slice() {
        let s = parse(SRC, "x").unwrap();
        for target in [Target::Mirascope, Target::Tenacity] {
            let e = export(&s, "x.toml", target);
            assert!(
                e.code.contains("wait=wait_retry_after(wait_decorrelated_jitter(base=1, max=20), cap=60, jitter=0.5)"),
                "{target:?}:\n{}",
                e.code
            );
            assert!(
                e.code
                    .contains("    errors = (errors or [])[-1:]  # reinsert_keep = \"last\"\n    texts = reinserted(errors)\n"),
                "{target:?}"
            );
            let findings = e.findings.list().join("\n");
            assert!(!findings.contains("decorrelated"), "{findings}");
            assert!(!findings.contains("retry_after_jitter"), "{findings}");
            assert!(
                findings.contains("retry_after_over_max = \"fail\""),
                "{findings}"
            );
            assert!(
                findings.contains("stream_recovery = \"continue\""),
                "{findings}"
            );
            // At the top of the program too.
            assert!(
                e.code.contains("retry_after_over_max = \"fail\": "),
                "{target:?}"
            );
        }
    }

    #[test]
    fn the_configs_say_what_they_drop() {
        let s = parse(SRC, "x").unwrap();
        for (target, label) in [(Target::Litellm, "LiteLLM"), (Target::Portkey, "Portkey")] {
            let findings = export(&s, "x.toml", target).findings.list().join("\n");
            for key in [
                "retry_after_jitter: ",
                "retry_after_over_max = \"fail\": ",
                "stream_recovery = \"continue\": ",
                "decorrelated_jitter: ",
            ] {
                assert!(
                    findings.contains(&format!("{key}{label}")),
                    "{key}: {findings}"
                );
            }
        }
    }
}
