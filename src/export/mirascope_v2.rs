//! `--to mirascope-v2`: Mirascope 2's own retries — `@llm.retry(max_retries, retry_on,
//! initial_delay, backoff_multiplier, max_delay, jitter, fallback_models)` over `@llm.call` —
//! which has one retry_on for every model, plain exponential back-off and no Retry-After.

use super::python::{self, lit};
use super::{Findings, Target};
use crate::error::ErrorKind;
use crate::policy::{RetryPolicy, Stop, Wait};
use crate::scenario::Scenario;
use crate::scenario::plan::hop_policies;
use std::fmt::Write as _;

pub fn write(s: &Scenario, arg: &str, f: &mut Findings) -> String {
    super::common_findings(s, f);
    let policies = hop_policies(s);
    let primary = policies.first().cloned().flatten();
    if policies.iter().skip(1).any(|p| *p != primary) {
        f.note("a hop's own [retry] table: one @llm.retry covers every model (each gets the same max_retries)");
    }
    if let Some(fb) = &s.fallback {
        let _ = fb;
        f.note("fallback catch lists: fallback_models move on after a model exhausts its retries on any retry_on error; [fallback].catch and each hop's catch are not expressible (one retry_on for all hops)");
    }
    if s.response
        .as_ref()
        .is_some_and(|r| !r.validators.is_empty())
    {
        f.note("[response] validators: no AfterValidator hook in @llm.retry; they are dropped (check response.text yourself)");
    }
    if !s.tools.is_empty() {
        f.note("tools: the tool functions are exported, but tool-argument errors are llm.ToolError, outside the retry");
    }
    if s.call.sdk_max_retries.is_none() {
        f.note("SDK retries: v2 builds its own SDK clients, which keep the SDKs' default max_retries = 2 inside each attempt (nested retries; retrylab's [call] has none)");
    }
    let mut args = Vec::new();
    if let Some(p) = &primary {
        args.extend(retry_args(p, f));
    }
    let hops = super::pyprog::hops(s);
    if hops.iter().any(|h| h.api_version.is_some()) {
        f.note("Mirascope v2: azure-openai has no provider of its own here; exported as openai/<deployment>:completions at the OpenAI base URL (the deployment URL, api-version and api-key header are not expressed)");
    }
    let models: Vec<String> = hops
        .iter()
        .map(|h| match super::pyprog::sdk(h.provider) {
            _ if let Some(id) = super::responses::v2_model(h.provider, h.model) => id,
            // v2's model ids name Gemini `google/…`.
            _ if h.provider == crate::scenario::ProviderKind::Gemini => {
                format!("google/{}", h.model)
            }
            // v2 speaks the Responses API to OpenAI unless told `:completions`.
            "openai" => format!("openai/{}:completions", h.model),
            sdk => format!("{sdk}/{}", h.model),
        })
        .collect();
    if models.len() > 1 {
        let rest: Vec<String> = models[1..].iter().map(|m| lit(m)).collect();
        args.push(format!("fallback_models=({},)", rest.join(", ")));
    }
    if s.call.stream {
        f.note("stream: exported as a plain call (a stream's retry wraps its iteration in v2 as well; edit if you stream)");
    }

    let mut out = super::pyprog::header(
        s,
        arg,
        Target::MirascopeV2,
        "\"mirascope[openai,anthropic]>=2\"",
        f,
    );
    out.push_str("import os\n\nfrom mirascope import llm\n\n");
    out.push_str("BASE_URL = os.environ.get(\"RETRYLAB_BASE_URL\", \"http://127.0.0.1:8787\").rstrip(\"/\")\n");
    out.push_str(
        "llm.register_provider(\"openai\", scope=\"openai/\", base_url=BASE_URL + \"/v1\")\n",
    );
    out.push_str(
        "llm.register_provider(\"anthropic\", scope=\"anthropic/\", base_url=BASE_URL)\n\n",
    );
    let tools = super::pyprog::tools(s);
    if !tools.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            tools
                .replace("\ndef ", "\n@llm.tool\ndef ")
                .replacen("def ", "@llm.tool\ndef ", 1)
        );
    }
    let name = super::pyprog::prompt_name(s);
    let (params, call_args) = python::vars(s);
    if args.is_empty() {
        out.push('\n');
    } else {
        let _ = writeln!(out, "\n@llm.retry(\n    {},\n)", args.join(",\n    "));
    }
    let mut call = vec![lit(&models[0])];
    call.extend(super::pyprog::tools_arg(s));
    let _ = writeln!(
        out,
        "@llm.call({})\ndef {name}({}) -> str:",
        call.join(", "),
        params.join(", ")
    );
    out.push_str("    texts: list[str] = []  # v2's retry does not reinsert errors\n");
    out.push_str(
        &python::template(s.prompt.template.get_ref(), "prompt", "texts", f)
            .replace("jinja_list(texts)", "str(texts)")
            .replace("jinja_str(", "str("),
    );
    out.push_str("    return prompt\n\n\n");
    let _ = writeln!(
        out,
        "if __name__ == \"__main__\":\n    print({name}({}).text())",
        call_args.join(", ")
    );
    out
}

fn retry_args(p: &RetryPolicy, f: &mut Findings) -> Vec<String> {
    let mut args = Vec::new();
    let max_retries = match &p.stop {
        Some(Stop::AfterAttempt(n)) => n.saturating_sub(1),
        Some(other) => {
            let n = other.max_attempts().unwrap_or(4);
            f.note(format!(
                "stop {}: v2 counts retries only; max_retries = {} (elapsed-time stops are dropped)",
                other.describe(),
                n.saturating_sub(1)
            ));
            n.saturating_sub(1)
        }
        None => {
            f.note("no stop (retry forever): v2 needs a max_retries; 100 is used");
            100
        }
    };
    args.push(format!("max_retries={max_retries}"));
    if !p.retry_on.contains(&ErrorKind::Any) {
        let mut names: Vec<&str> = Vec::new();
        for k in &p.retry_on {
            let (cls, note): (&[&str], Option<&str>) = match k {
                ErrorKind::RateLimit | ErrorKind::QuotaExhausted => (&["llm.RateLimitError"], None),
                ErrorKind::Overloaded | ErrorKind::ServerError => (
                    &["llm.ServerError"],
                    Some("overloaded and server_error are both llm.ServerError"),
                ),
                ErrorKind::Timeout => (&["llm.TimeoutError"], None),
                ErrorKind::Connection | ErrorKind::StreamInterrupted => (
                    &["llm.ConnectionError"],
                    Some("stream_interrupted has no v2 class: llm.ConnectionError stands in"),
                ),
                ErrorKind::Auth => (&["llm.AuthenticationError", "llm.PermissionError"], None),
                ErrorKind::BadRequest | ErrorKind::ContextLength | ErrorKind::Redirect => {
                    (&["llm.BadRequestError", "llm.NotFoundError"], None)
                }
                ErrorKind::Validation | ErrorKind::ToolValidation | ErrorKind::ContentFilter => (
                    &["llm.ParseError"],
                    Some(
                        "validation kinds map to llm.ParseError, raised only when a format= is parsed",
                    ),
                ),
                _ => (&[], None),
            };
            if let Some(n) = note {
                f.note(format!("retry_on: {n}"));
            }
            for c in cls {
                if !names.contains(c) {
                    names.push(c);
                }
            }
        }
        args.push(format!("retry_on=({},)", names.join(", ")));
    } else {
        args.push("retry_on=(Exception,)".into());
    }
    if p.honor_retry_after {
        f.note("Retry-After: Mirascope v2 does not read it; the back-off alone sets each wait");
    }
    if !p.reinsert.is_empty() {
        f.note("reinsert: no collect_errors in v2's retry; errors are not reinserted");
    }
    match &p.wait {
        None => args.push("initial_delay=0".into()),
        Some(Wait::Fixed(w)) => {
            args.push(format!("initial_delay={}", python::secs(*w)));
            args.push("backoff_multiplier=1".into());
        }
        Some(Wait::Exponential(e)) => {
            if e.min.0 > e.multiplier {
                f.note(format!("wait_exponential min={}: v2 has no floor; initial_delay starts at the floor and doubles from it, so later waits are longer", python::secs(e.min)));
            }
            args.push(format!(
                "initial_delay={}",
                python::num(e.multiplier.max(e.min.0))
            ));
            args.push(format!("backoff_multiplier={}", python::num(e.exp_base)));
            if e.max.0.is_finite() {
                args.push(format!("max_delay={}", python::secs(e.max)));
            }
        }
        Some(other) => {
            let (lo, hi) = other.range(1);
            f.note(format!("wait {}: v2 has exponential back-off with ± jitter only; approximated by initial_delay = {} with jitter 0.5", other.describe(), python::num((lo + hi) / 2.0)));
            args.push(format!("initial_delay={}", python::num((lo + hi) / 2.0)));
            args.push("jitter=0.5".into());
        }
    }
    args
}
