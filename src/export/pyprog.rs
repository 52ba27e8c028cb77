//! Pieces of a Python program both Python targets write the same way: the header with the
//! findings, one SDK client per hop, the tools as functions, the prompt function's body.

use super::python::{self, ident, lit};
use super::{Findings, Target};
use crate::policy::{ReinsertKeep, ReinsertMode};
use crate::scenario::{ProviderKind, Scenario, ToolSpec};
use std::fmt::Write as _;

/// One call target: the primary (hop 0) or a fallback hop.
pub struct Hop<'a> {
    pub provider: ProviderKind,
    pub model: &'a str,
    pub base_url: Option<&'a str>,
    pub api_key_env: Option<&'a str>,
    /// Azure's `api-version` (its hops only).
    pub api_version: Option<&'a str>,
    pub headers: &'a std::collections::BTreeMap<String, String>,
}

pub fn hops(s: &Scenario) -> Vec<Hop<'_>> {
    let mut out = vec![Hop {
        provider: s.call.provider,
        model: &s.call.model,
        base_url: s.call.base_url.as_deref(),
        api_key_env: s.call.api_key_env.as_deref(),
        api_version: s.call.api_version.as_deref(),
        headers: &s.call.headers,
    }];
    if let Some(fb) = &s.fallback {
        out.extend(fb.hops.iter().map(|h| Hop {
            provider: h.provider,
            model: &h.model,
            base_url: h.base_url.as_deref(),
            api_key_env: h.api_key_env.as_deref(),
            api_version: h.api_version.as_deref(),
            headers: &h.headers,
        }));
    }
    out
}

/// The SDK a provider speaks through: openai-compatible servers use the OpenAI SDK.
pub fn sdk(p: ProviderKind) -> &'static str {
    match p {
        ProviderKind::Anthropic => "anthropic",
        ProviderKind::Openai
        | ProviderKind::OpenaiCompatible
        | ProviderKind::OpenaiResponses
        | ProviderKind::AzureOpenai => "openai",
        // The exported runtime speaks the openai and anthropic SDKs only: a gemini hop goes
        // through the OpenAI SDK (see `clients`' finding).
        ProviderKind::Gemini => "openai",
    }
}

/// The harness's name for a hop's client (`sdk_client(NAME, …)`, `ask(CLIENT_i, NAME, …)`):
/// the SDK, or `gemini`, which the harness serves with the OpenAI SDK and `retrylab import`
/// reads back as gemini.
pub fn client_sdk(p: ProviderKind) -> &'static str {
    match p {
        ProviderKind::Gemini => "gemini",
        p => sdk(p),
    }
}

/// The module docstring: what this is, the findings, how to run it. `findings` is complete
/// by the time this is called (the header is written last).
pub fn header(s: &Scenario, arg: &str, target: Target, needs: &str, f: &Findings) -> String {
    let mut out = String::from("#!/usr/bin/env python3\n\"\"\"");
    // The name, the about text and the argument are the user's: kept inside the docstring.
    let arg = &super::doc_text(arg);
    let _ = writeln!(
        out,
        "{} — exported by retrylab: `retrylab export {arg} --to {}`.\n",
        super::doc_text(&s.name.replace('"', "'")),
        target.as_str()
    );
    if !s.about.is_empty() {
        let _ = writeln!(out, "{}\n", super::doc_text(&s.about));
    }
    out.push_str(&super::python_findings_block(target, f));
    let _ = write!(
        out,
        "\nRun it against the simulator (or any server: RETRYLAB_BASE_URL, or the scenario's base_url):\n    \
         retrylab sim --addr 127.0.0.1:8787 {arg} &\n    \
         RETRYLAB_BASE_URL=http://127.0.0.1:8787 python3 THIS_FILE.py\n\
         It prints a JSON line per attempt, wait, reinserted error and failed hop, then the outcome,\n\
         as `retrylab run {arg} --json` does. Needs: pip install {needs}\n\"\"\"\n\n"
    );
    out
}

/// `CLIENT_0 = sdk_client(...)` per hop, with the hop's SDK retries (`sdk_max_retries`, 0
/// unless set: the SDK's own loop off).
pub fn clients(s: &Scenario, f: &mut Findings) -> String {
    let timeout = python::timeout(s, f);
    let mut out = format!("TIMEOUT = {timeout}\n");
    let sdk_retries = super::layers::sdk_retries(s);
    for (i, h) in hops(s).iter().enumerate() {
        let max_retries = sdk_retries.get(i).copied().unwrap_or(0);
        if h.provider == ProviderKind::Gemini {
            f.note("provider gemini: the program's SDK layer speaks openai and anthropic only, so the gemini hop is an OpenAI-SDK call (Gemini's OpenAI-compatible endpoint serves it live: set its base_url to https://generativelanguage.googleapis.com/v1beta/openai); against `retrylab sim` it reaches the simulator's OpenAI route, so faults scripted for provider gemini do not apply, and RetryInfo.retryDelay is not read");
        }
        if h.provider == ProviderKind::OpenaiCompatible {
            f.note("provider openai-compatible: spoken through the OpenAI SDK (provider \"openai\" and its base_url), so `retrylab import` reads it back as openai");
        }
        let base = h.base_url.map_or_else(|| "None".into(), lit);
        let mut extra = String::new();
        if let Some(env) = h.api_key_env {
            let _ = write!(extra, ", api_key_env={}", lit(env));
        }
        // Azure: the SDK's AzureOpenAI client (an OpenAI client to Mirascope and Tenacity).
        if let Some(v) = h.api_version {
            let _ = write!(extra, ", api_version={}", lit(v));
        }
        if !h.headers.is_empty() {
            let pairs: Vec<String> = h
                .headers
                .iter()
                .map(|(k, v)| format!("{}: {}", lit(k), lit(v)))
                .collect();
            let _ = write!(extra, ", headers={{{}}}", pairs.join(", "));
        }
        let label = if i == 0 {
            "primary".to_string()
        } else {
            format!("hop {i}")
        };
        let _ = writeln!(
            out,
            "CLIENT_{i} = sdk_client({}, {base}, TIMEOUT, max_retries={max_retries}{extra})  # {label}: {} {}",
            lit(client_sdk(h.provider)),
            h.provider,
            super::comment_text(h.model)
        );
    }
    out
}

/// The imports after `typing`'s that the Mirascope and Tenacity programs share: pydantic's
/// validators and Tenacity's stops, waits and conditions.
pub const VALIDATION_AND_TENACITY_IMPORTS: &str = "\
         from pydantic import AfterValidator, TypeAdapter, ValidationError\n\
         from tenacity import (\n    retry,\n    retry_if_exception,\n    retry_if_exception_type,\n    \
         stop_after_attempt,\n    stop_after_delay,\n    stop_before_delay,\n    stop_never,\n    \
         wait_chain,\n    wait_exponential,\n    wait_exponential_jitter,\n    wait_fixed,\n    \
         wait_incrementing,\n    wait_none,\n    wait_random,\n    wait_random_exponential,\n)\n\n";

/// The prompt function's name, `<scenario>_prompt`: a bare scenario name could shadow an
/// import (`fallback`).
pub fn prompt_name(s: &Scenario) -> String {
    format!(
        "{}_prompt",
        ident(&s.name).to_ascii_lowercase().trim_matches('_')
    )
}

/// `tools=[f, g]` for the call decorator; none without tools.
pub fn tools_arg(s: &Scenario) -> Option<String> {
    (!s.tools.is_empty()).then(|| {
        let names: Vec<String> = s.tools.iter().map(|t| python::tool_fn(&t.name)).collect();
        format!("tools=[{}]", names.join(", "))
    })
}

/// `Answer = Annotated[str, AfterValidator(..), ..]` for `[response]`'s validators; none
/// without.
pub fn answer_type(s: &Scenario, f: &mut Findings) -> Option<String> {
    let checks = python::validators(s, f);
    (!checks.is_empty()).then(|| {
        let afters: Vec<String> = checks
            .iter()
            .map(|c| format!("AfterValidator({c})"))
            .collect();
        format!("Answer = Annotated[str, {}]", afters.join(", "))
    })
}

/// Each tool as a Python function answering from its `cases`, else `default`, else "null".
pub fn tools(s: &Scenario) -> String {
    s.tools.iter().map(tool).collect::<Vec<_>>().join("\n\n")
}

fn tool(t: &ToolSpec) -> String {
    let schema = crate::validate::toml_to_json(t.parameters.get_ref());
    let props = schema.get("properties").and_then(|p| p.as_object());
    let required: Vec<&str> = schema
        .get("required")
        .and_then(|r| r.as_array())
        .map(|r| r.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default();
    let mut params = Vec::new();
    let mut optional = Vec::new();
    for (name, sub) in props.into_iter().flatten() {
        let ty = match sub.get("type").and_then(|x| x.as_str()) {
            Some("string") => "str",
            Some("integer") => "int",
            Some("number") => "float",
            Some("boolean") => "bool",
            Some("array") => "list",
            Some("object") => "dict",
            _ => "Any",
        };
        if required.contains(&name.as_str()) {
            params.push(format!("{}: {ty}", ident(name)));
        } else {
            optional.push(format!("{}: {ty} | None = None", ident(name)));
        }
    }
    params.extend(optional);
    let func = python::tool_fn(&t.name);
    let mut out = format!("def {func}({}) -> str:\n", params.join(", "));
    let _ = writeln!(out, "    {}", lit(&t.description));
    for case in &t.cases {
        let conds: Vec<String> = case
            .when
            .iter()
            .map(|(k, v)| format!("{} == {}", ident(k), python::value(v)))
            .collect();
        let cond = if conds.is_empty() {
            "True".to_string()
        } else {
            conds.join(" and ")
        };
        let _ = writeln!(out, "    if {cond}:\n        return {}", lit(&case.result));
    }
    let _ = writeln!(
        out,
        "    return {}",
        lit(t.default.as_deref().unwrap_or("null"))
    );
    if func != ident(&t.name) {
        // Renamed so it shadows none of the program's own names; the model sees its name.
        let _ = writeln!(out, "\n\n{func}.__name__ = {}", lit(&ident(&t.name)));
    }
    out
}

/// The prompt function's body: reinserted texts traced, the template rendered, and the
/// messages (a plain string when there is neither a system prompt nor a reask turn).
pub fn prompt_body(
    s: &Scenario,
    mode: Option<ReinsertMode>,
    keep: ReinsertKeep,
    f: &mut Findings,
) -> String {
    let mut out = String::new();
    if keep == ReinsertKeep::Last {
        out.push_str("    errors = (errors or [])[-1:]  # reinsert_keep = \"last\"\n");
    }
    out.push_str("    texts = reinserted(errors)\n");
    let reask = mode == Some(ReinsertMode::Reask);
    // In reask mode the template renders without `errors` (the correction is in the turns).
    let errors_var = if reask { "[]" } else { "texts" };
    out.push_str(&python::template(
        s.prompt.template.get_ref(),
        "prompt",
        errors_var,
        f,
    ));
    let system = s
        .prompt
        .system
        .as_ref()
        .map(|x| x.get_ref().as_str())
        .filter(|x| !x.is_empty());
    if system.is_none() && !reask {
        out.push_str("    return prompt\n");
        return out;
    }
    if let Some(sys) = system {
        out.push_str(&python::template(sys, "system", errors_var, f));
        out.push_str("    messages = [Messages.System(system), Messages.User(prompt)]\n");
    } else {
        out.push_str("    messages = [Messages.User(prompt)]\n");
    }
    if reask {
        out.push_str(
            "    for error, text in zip(errors or [], texts):  # Instructor-style reask\n        \
             messages.append(Messages.Assistant(failed_answer(error)))\n        \
             messages.append(Messages.User(f\"Your previous answer failed validation: {text}\\nPlease answer again, fixing that.\"))\n",
        );
    }
    out.push_str("    return messages\n");
    out
}
