//! The OpenAI Responses API (`openai-responses`) in each export target: Mirascope v2 and the
//! plain Tenacity program call it; Mirascope v1 cannot, so its hops call the same model
//! through chat completions (the nearest) and a finding says so. LiteLLM's and Portkey's
//! configs name no endpoint (their proxies serve `/v1/responses` as provider `openai`).

use super::Findings;
use crate::scenario::{ProviderKind, Scenario};

/// Whether any hop calls the Responses API.
fn calls_responses(s: &Scenario) -> bool {
    super::pyprog::hops(s)
        .iter()
        .any(|h| h.provider == ProviderKind::OpenaiResponses)
}

/// Mirascope v1's finding: its OpenAI calls are chat completions only.
pub(super) fn mirascope_v1(s: &Scenario, f: &mut Findings) {
    if calls_responses(s) {
        f.note("provider openai-responses: Mirascope v1 calls chat completions only, so those hops call the same model through chat completions (provider \"openai\"); an in-stream failure arrives as a chat completions error frame instead of response.failed");
    }
}

/// The provider the plain program's `ask` speaks: `openai-responses` calls
/// `client.responses.create` on the OpenAI SDK client.
pub(super) fn ask_provider(p: ProviderKind) -> &'static str {
    match p {
        ProviderKind::OpenaiResponses => "openai-responses",
        _ => super::pyprog::client_sdk(p),
    }
}

/// Mirascope v2's model id: `openai/MODEL:responses` (v2's OpenAI provider picks the API
/// with the suffix), else `None` (the other providers' ids).
pub(super) fn v2_model(p: ProviderKind, model: &str) -> Option<String> {
    (p == ProviderKind::OpenaiResponses).then(|| format!("openai/{model}:responses"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::Target;

    fn scenario() -> Scenario {
        crate::scenario::load::parse(
            "name = \"r\"\n[prompt]\ntemplate = \"hi\"\n[call]\nprovider = \"openai-responses\"\nmodel = \"gpt-4o-mini\"\nstream = true\n[retry]\nstop = { after_attempt = 2 }\nretry_on = [\"overloaded\"]\n",
            "r.toml",
        )
        .unwrap()
    }

    #[test]
    fn each_target_says_how_it_calls_the_responses_api() {
        let s = scenario();
        let e = crate::export::export(&s, "r.toml", Target::Mirascope);
        let (code, f) = (e.code, e.findings);
        assert!(
            f.list().iter().any(|n| n.starts_with(
                "provider openai-responses: Mirascope v1 calls chat completions only"
            )),
            "{:?}",
            f.list()
        );
        assert!(code.contains("provider=\"openai\""), "{code}");
        let e = crate::export::export(&s, "r.toml", Target::MirascopeV2);
        let (code, f) = (e.code, e.findings);
        assert!(code.contains("\"openai/gpt-4o-mini:responses\""), "{code}");
        assert!(!f.list().iter().any(|n| n.contains("openai-responses")));
        let e = crate::export::export(&s, "r.toml", Target::Tenacity);
        let (code, f) = (e.code, e.findings);
        assert!(
            code.contains("        \"openai-responses\",\n        \"gpt-4o-mini\","),
            "{code}"
        );
        assert!(
            code.contains("client.responses.create(stream=True, **kwargs)"),
            "{code}"
        );
        assert!(!f.list().iter().any(|n| n.contains("openai-responses")));
    }
}
