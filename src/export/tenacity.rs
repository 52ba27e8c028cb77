//! `--to tenacity`: plain Tenacity around the official SDKs, no Mirascope — one `@retry`
//! function per hop (so each hop keeps its own [retry] table), the fallback a loop over the
//! hops with each one's `catch`, validators as pydantic `AfterValidator`s.

use super::mirascope::{call_params, collected};
use super::pyprog;
use super::python::{self, Flavour, lit};
use super::{Findings, Target};
use crate::error::ErrorKind;
use crate::policy::RetryPolicy;
use crate::pyimport::sdk::Sdk;
use crate::scenario::Scenario;
use crate::scenario::plan::hop_policies;
use std::fmt::Write as _;

const NEEDS: &str = "openai anthropic tenacity";
pub(super) const SDK_CALLS: &str = include_str!("sdk_calls.py");

pub fn write(s: &Scenario, arg: &str, f: &mut Findings) -> String {
    super::common_findings(s, f);
    let policies = hop_policies(s);
    let mut body = String::new();
    body.push_str(python::RUNTIME);
    body.push('\n');
    body.push_str(SDK_CALLS);
    body.push_str("\nfrom typing import Annotated\n\n");
    body.push_str(pyprog::VALIDATION_AND_TENACITY_IMPORTS);
    body.push_str(&pyprog::clients(s, f));

    let tools = pyprog::tools(s);
    let mut tool_table = "{}".to_string();
    if !tools.is_empty() {
        body.push('\n');
        body.push_str(&tools);
        let entries: Vec<String> = s
            .tools
            .iter()
            .map(|t| {
                let schema = crate::validate::toml_to_json(t.parameters.get_ref());
                format!(
                    "    {}: ({}, {}, {}),",
                    lit(&t.name),
                    python::tool_fn(&t.name),
                    python::json(&schema),
                    lit(&t.description)
                )
            })
            .collect();
        let _ = writeln!(
            body,
            "\n# Each tool: (its function, its argument schema, its description).\nTOOLS = {{\n{}\n}}",
            entries.join("\n")
        );
        tool_table = "TOOLS".into();
    }
    let answer = pyprog::answer_type(s, f);
    if let Some(answer) = &answer {
        let _ = writeln!(body, "\n{answer}");
    }

    let name = pyprog::prompt_name(s);
    let (params, args) = python::vars(s);
    let mut sig = params;
    sig.push("*".into());
    sig.push("errors: list[Exception] | None = None".into());
    let _ = writeln!(body, "\n\ndef {name}({}):", sig.join(", "));
    let mode = policies.first().cloned().flatten().map(|p| p.reinsert_mode);
    body.push_str(&pyprog::prompt_body(s, mode, f));

    let params_dict = call_params(s).unwrap_or_else(|| "{}".into());
    let mut call_vars = args;
    call_vars.push("errors=errors".into());
    let hops = pyprog::hops(s);
    for (i, (h, p)) in hops.iter().zip(&policies).enumerate() {
        body.push_str("\n\n@trace_hop  # retrylab's trace: a JSON line when a hop fails\n");
        if let Some(p) = p {
            body.push_str(&retry_decorator(p, python::sdk_of(h.provider), f));
        }
        let _ = writeln!(
            body,
            "def hop_{i}(*, errors: list[Exception] | None = None) -> str:"
        );
        let _ = writeln!(
            body,
            "    content = ask(\n        CLIENT_{i},\n        {},\n        {},\n        {name}({}),\n        stream={},\n        tools={tool_table},\n        params={params_dict},\n    )",
            lit(pyprog::client_sdk(h.provider)),
            lit(h.model),
            call_vars.join(", "),
            if s.call.stream { "True" } else { "False" },
        );
        if answer.is_none() {
            body.push_str("    return content\n");
        } else {
            body.push_str("    return TypeAdapter(Answer).validate_python(content)\n");
        }
    }

    // The fallback: each hop with the errors that move on to the next one.
    let mut catches = Vec::new();
    if let Some(fb) = &s.fallback {
        catches.push(python::class_tuple(
            &fb.catch,
            Flavour::Plain,
            "[fallback].catch",
            &[python::sdk_of(s.call.provider)],
            f,
        ));
        for (i, h) in fb.hops.iter().enumerate() {
            catches.push(python::class_tuple(
                &h.catch,
                Flavour::Plain,
                &format!("hop {}'s catch", i + 1),
                &[python::sdk_of(h.provider)],
                f,
            ));
        }
    }
    if catches.is_empty() {
        body.push_str("\n\ndef call() -> str:\n    return hop_0()\n");
    } else {
        let rows: Vec<String> = catches
            .iter()
            .enumerate()
            .map(|(i, c)| format!("    (hop_{i}, {c}),"))
            .collect();
        let _ = write!(
            body,
            "\n\n# Each hop and the errors of it that move on to the next (Mirascope's @fallback).\nHOPS = [\n{}\n]\n\n\n\
             def call() -> str:\n    caught = []\n    for run_hop, catch in HOPS:\n        try:\n            return run_hop()\n        \
             except catch as e:\n            caught.append(e)\n    raise FallbackError(f\"every call failed: {{caught}}\")\n",
            rows.join("\n")
        );
        let all: Vec<ErrorKind> = s
            .fallback
            .iter()
            .flat_map(|fb| std::iter::once(&fb.catch).chain(fb.hops.iter().map(|h| &h.catch)))
            .flatten()
            .copied()
            .collect();
        if ErrorKind::Overloaded.is_in(&all) && !all.contains(&ErrorKind::Any) {
            f.note("catch overloaded: Anthropic's overloaded_error inside a 200 stream is a bare anthropic.APIStatusError, which the class list does not catch");
        }
    }
    body.push_str("\n\nif __name__ == \"__main__\":\n    raise SystemExit(outcome(call))\n");

    let mut out = pyprog::header(s, arg, Target::Tenacity, NEEDS, f);
    out.push_str(&body);
    out
}

fn retry_decorator(p: &RetryPolicy, sdk: Sdk, f: &mut Findings) -> String {
    let mut args = Vec::new();
    if let Some(stop) = &p.stop {
        args.push(format!("stop={}", python::stop(stop)));
    }
    if let Some(w) = python::policy_wait(p) {
        args.push(format!("wait={w}"));
    }
    if !p.retry_on.contains(&ErrorKind::Any) {
        args.push(format!(
            "retry={}",
            python::retry_predicate(p, Flavour::Plain, &[sdk], f)
        ));
    }
    if !p.reinsert.is_empty() {
        // Mirascope's collect_errors, written out: each listed failure goes into `errors`.
        args.push(format!(
            "after=collect_errors({})",
            collected(&p.reinsert, Flavour::Plain, f)
        ));
    }
    args.push("before_sleep=trace_wait".into());
    format!("@retry(\n    {},\n)\n", args.join(",\n    "))
}
