//! What every target makes of the hidden SDK layer and of `[hedge]` (DESIGN §15): the
//! Python programs build their SDK clients with the scenario's `sdk_max_retries` (see
//! `pyprog::clients`), LiteLLM passes it per model; the rest is a finding.

use super::{Findings, Target};
use crate::policy::stainless::SdkVersion;
use crate::scenario::Scenario;
use crate::scenario::sdk::hop_sdk_retries;

/// The SDK retries each hop's client is built with (index 0 = primary).
pub fn sdk_retries(s: &Scenario) -> Vec<u32> {
    hop_sdk_retries(s).into_iter().map(|(_, n)| n).collect()
}

/// The findings of the SDK layer and hedging for `target`.
pub fn notes(s: &Scenario, target: Target, f: &mut Findings) {
    let retries = sdk_retries(s);
    let any = retries.iter().any(|&n| n > 0);
    let label = target.label();
    match target {
        Target::Mirascope | Target::Tenacity | Target::Litellm => {
            if s.call.sdk_version == SdkVersion::MirascopePins && any {
                f.note(format!(
                    "{label}: sdk_version = \"mirascope-pins\": the SDK's loop is the installed one's; pin openai==1.109.* and anthropic==0.125.* to match"
                ));
            }
        }
        Target::MirascopeV2 => {
            let set = s.call.sdk_max_retries.is_some()
                || s.fallback
                    .as_ref()
                    .is_some_and(|f| f.hops.iter().any(|h| h.sdk_max_retries.is_some()));
            // Unset, the writer's own note says v2 keeps the default of 2.
            if set && retries.iter().any(|&n| n != 2) {
                f.note(format!(
                    "{label}: sdk_max_retries {retries:?} per hop has no spelling: v2's own SDK clients keep the SDKs' default of 2 retries inside each attempt"
                ));
            }
        }
        Target::Portkey => {
            if any {
                f.note(format!(
                    "{label}: sdk_max_retries: the gateway has no SDK loop under its retries; the SDK retries {retries:?} per hop are dropped"
                ));
            }
        }
    }
    if let Some(h) = &s.hedge {
        f.note(format!(
            "{label}: [hedge] (a second request after {}, the first answer wins) has no spelling; dropped: each attempt is one request",
            h.after.human()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Target, export};
    use crate::scenario::builtin::find;
    use crate::scenario::load::parse;

    fn amplification() -> crate::scenario::Scenario {
        let b = find("sdk-amplification").unwrap();
        parse(b.source, b.name).unwrap()
    }

    #[test]
    fn the_python_programs_build_their_clients_with_the_sdk_retries() {
        let s = amplification();
        for t in [Target::Mirascope, Target::Tenacity] {
            let e = export(&s, "sdk-amplification", t);
            assert!(
                e.code.contains("TIMEOUT, max_retries=2)"),
                "{t:?}:\n{}",
                e.code
            );
            assert!(
                e.findings
                    .list()
                    .iter()
                    .any(|n| n.contains("pin openai==1.109.*")),
                "{:?}",
                e.findings
            );
        }
        let e = export(&s, "x", Target::Litellm);
        assert!(
            e.code.contains("max_retries: 2  # sdk_max_retries"),
            "{}",
            e.code
        );
        // v2 keeps 2 on its own: nothing to say.
        let e = export(&s, "x", Target::MirascopeV2);
        assert!(
            !e.findings.list().iter().any(|n| n.contains("SDK")),
            "{:?}",
            e.findings
        );
        let e = export(&s, "x", Target::Portkey);
        assert!(
            e.findings
                .list()
                .iter()
                .any(|n| n == "Portkey: sdk_max_retries: the gateway has no SDK loop under its retries; the SDK retries [2] per hop are dropped"),
            "{:?}",
            e.findings
        );
    }

    #[test]
    fn without_the_key_the_clients_keep_the_sdk_loop_off_and_a_hedge_is_a_finding() {
        let b = find("basic-retry").unwrap();
        let s = parse(b.source, b.name).unwrap();
        let e = export(&s, "basic-retry", Target::Mirascope);
        assert!(e.code.contains("TIMEOUT, max_retries=0)"), "{}", e.code);
        let src = format!("{}\n[hedge]\nafter = \"2s\"\n", b.source);
        let s = parse(&src, "x").unwrap();
        for t in Target::ALL {
            let e = export(&s, "x", t);
            assert!(
                e.findings
                    .list()
                    .iter()
                    .any(|n| n.contains("[hedge]") && n.contains("2 s")),
                "{t:?}: {:?}",
                e.findings
            );
        }
    }
}
