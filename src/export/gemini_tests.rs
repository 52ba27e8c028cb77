//! How each target writes a gemini hop: LiteLLM, Portkey and Mirascope v2 name Gemini
//! natively; the Python programs (whose SDK layer speaks openai and anthropic) say what they
//! approximate.

use super::{Target, export};
use crate::scenario::builtin::find;
use crate::scenario::load::parse;

fn exported(target: Target) -> super::Exported {
    let b = find("gemini-retry-delay").expect("the built-in");
    let s = parse(b.source, "gemini-retry-delay.toml").expect("it parses");
    export(&s, "gemini-retry-delay", target)
}

#[test]
fn gateways_and_mirascope_v2_name_gemini() {
    assert!(
        exported(Target::Litellm)
            .code
            .contains("model: gemini/gemini-2.5-flash\n")
    );
    assert!(
        exported(Target::Portkey)
            .code
            .contains("\"provider\": \"google\"")
    );
    let v2 = exported(Target::MirascopeV2).code;
    assert!(v2.contains("\"google/gemini-2.5-flash\""), "{v2}");
}

#[test]
fn python_programs_say_how_the_gemini_hop_is_approximated() {
    for target in [Target::Mirascope, Target::Tenacity] {
        let e = exported(target);
        let finding = e
            .findings
            .list()
            .iter()
            .find(|f| f.starts_with("provider gemini:"))
            .unwrap_or_else(|| panic!("{target:?}: {:?}", e.findings));
        assert!(finding.contains("OpenAI-compatible endpoint"), "{finding}");
        assert!(e.code.contains("sdk_client(\"gemini\""), "{target:?}");
    }
}
