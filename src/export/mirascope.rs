//! `--to mirascope`: a runnable Mirascope v1 program in the style of its retries page —
//! `@llm.call` with the prompt function, `@retry` (stop, wait, `retry_if_exception_type` over
//! the SDKs' exception classes, `after=collect_errors(...)`), `@fallback` with each hop's
//! `catch`, validators as pydantic `AfterValidator`s, tools as functions.

use super::pyprog::{self, sdk};
use super::python::{self, Flavour, lit};
use super::{Findings, Target};
use crate::error::ErrorKind;
use crate::policy::RetryPolicy;
use crate::policy::Secs;
use crate::pyimport::sdk::Sdk;
use crate::scenario::Scenario;
use crate::scenario::plan::{hop_extras, hop_policies};
use std::fmt::Write as _;

pub const NEEDS: &str = "\"mirascope[openai,anthropic,tenacity]<2\"";

pub fn write(s: &Scenario, arg: &str, f: &mut Findings) -> String {
    super::common_findings(s, f);
    super::responses::mirascope_v1(s, f);
    let policies = hop_policies(s);
    let primary = policies.first().cloned().flatten();
    if policies.iter().skip(1).any(|p| *p != primary) {
        f.note("a hop's own [retry] table: @fallback re-runs the one @retry-wrapped function, so every hop runs under the primary's policy");
    }
    if !s.tools.is_empty() {
        f.note("tools: Mirascope builds a tool's arguments with pydantic, so a bad argument is a ValidationError (validation and tool_validation share it), and an extra argument is ignored rather than refused");
    }
    if s.response
        .as_ref()
        .is_some_and(|r| !r.validators.is_empty())
    {
        f.note("[response]: the validators run as pydantic AfterValidators on the answer's text (TypeAdapter(Answer)), not as response_model=, which would make Mirascope ask for a tool call or JSON and change the request");
    }

    let mut body = String::new();
    body.push_str(python::RUNTIME);
    body.push_str(
        "\nfrom typing import Annotated\n\n\
         from mirascope import llm\n\
         from mirascope.core import Messages\n\
         from mirascope.retries import FallbackError, fallback\n\
         from mirascope.retries.tenacity import collect_errors\n",
    );
    body.push_str(pyprog::VALIDATION_AND_TENACITY_IMPORTS);
    body.push_str(&pyprog::clients(s, f));
    body.push('\n');

    let tools = pyprog::tools(s);
    if !tools.is_empty() {
        body.push('\n');
        body.push_str(&tools);
        body.push('\n');
    }
    let answer = pyprog::answer_type(s, f);
    if let Some(answer) = &answer {
        let _ = writeln!(body, "\n{answer}\n");
    }

    // The prompt function under @llm.call.
    let name = pyprog::prompt_name(s);
    let (params, args) = python::vars(s);
    let mut call_args = vec![
        format!("provider={}", lit(sdk(s.call.provider))),
        format!("model={}", lit(&s.call.model)),
        "client=CLIENT_0".to_string(),
    ];
    if s.call.stream {
        call_args.push("stream=True".into());
    }
    call_args.extend(pyprog::tools_arg(s));
    let params_dict = call_params(s);
    if let Some(p) = &params_dict {
        call_args.push(format!("call_params={p}"));
    }
    let _ = writeln!(body, "\n@llm.call({})", call_args.join(", "));
    let mut sig = params.clone();
    sig.push("*".into());
    sig.push("errors: list[Exception] | None = None".into());
    let _ = writeln!(body, "def {name}({}):", sig.join(", "));
    body.push_str(&pyprog::prompt_body(
        s,
        primary.as_ref().map(|p| p.reinsert_mode),
        hop_extras(s)[0].reinsert_keep,
        f,
    ));

    // The attempt: the call, its stream or tools, its validators; under @retry and @fallback.
    body.push('\n');
    if let Some(fb) = &s.fallback {
        let sdks = python::sdks(s);
        let catch0 = python::class_tuple(
            &fb.catch,
            Flavour::Mirascope,
            "[fallback].catch",
            &sdks[..1],
            f,
        );
        let mut hops = Vec::new();
        for (i, h) in fb.hops.iter().enumerate() {
            let catch = python::class_tuple(
                &h.catch,
                Flavour::Mirascope,
                &format!("hop {}'s catch", i + 1),
                &[python::sdk_of(h.provider)],
                f,
            );
            let mut entry = format!(
                "        {{\n            \"catch\": {catch},\n            \"provider\": {},\n            \"model\": {},\n            \"client\": CLIENT_{},\n",
                lit(sdk(h.provider)),
                lit(&h.model),
                i + 1
            );
            if let Some(p) = &params_dict {
                let _ = writeln!(entry, "            \"call_params\": {p},");
            }
            entry.push_str("        }");
            hops.push(entry);
        }
        let all_catch: Vec<ErrorKind> = std::iter::once(&fb.catch)
            .chain(fb.hops.iter().map(|h| &h.catch))
            .flatten()
            .copied()
            .collect();
        if ErrorKind::Overloaded.is_in(&all_catch) && !all_catch.contains(&ErrorKind::Any) {
            f.note("catch overloaded: Anthropic's overloaded_error inside a 200 stream is a bare anthropic.APIStatusError, which @fallback's class list does not catch");
        }
        let _ = writeln!(
            body,
            "@fallback(\n    {catch0},\n    [\n{}\n    ],\n)",
            hops.join(",\n")
        );
    }
    body.push_str("@trace_hop  # retrylab's trace: a JSON line when a hop fails\n");
    if let Some(p) = &primary {
        let jitter = hop_extras(s)[0].retry_after_jitter;
        body.push_str(&retry_decorator(p, jitter, &python::sdks(s), f));
    }
    let _ = writeln!(
        body,
        "def call(*, errors: list[Exception] | None = None) -> str:"
    );
    let mut call_vars = args.clone();
    call_vars.push("errors=errors".into());
    let invoke = format!("{name}({})", call_vars.join(", "));
    body.push_str(&attempt_body(s, &invoke, answer.is_some()));
    body.push_str("\n\nif __name__ == \"__main__\":\n    raise SystemExit(outcome(call))\n");

    let mut out = pyprog::header(s, arg, Target::Mirascope, NEEDS, f);
    out.push_str(&body);
    out
}

/// `{"temperature": .., "max_tokens": ..}` when the scenario sets either.
pub fn call_params(s: &Scenario) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(t) = s.call.temperature {
        parts.push(format!("\"temperature\": {}", python::num(t)));
    }
    if let Some(m) = s.call.max_tokens {
        parts.push(format!("\"max_tokens\": {m}"));
    }
    (!parts.is_empty()).then(|| format!("{{{}}}", parts.join(", ")))
}

/// `@retry(...)` for a policy: stop, wait (Retry-After included), retry_on, reinsertion.
fn retry_decorator(p: &RetryPolicy, jitter: Secs, sdks: &[Sdk], f: &mut Findings) -> String {
    let mut args = Vec::new();
    if let Some(stop) = &p.stop {
        args.push(format!("stop={}", python::stop(stop)));
    }
    if let Some(w) = python::policy_wait(p, jitter) {
        args.push(format!("wait={w}"));
    }
    if !(p.retry_on.contains(&ErrorKind::Any)) {
        args.push(format!(
            "retry={}",
            python::retry_predicate(p, Flavour::Mirascope, sdks, f)
        ));
    }
    if !p.reinsert.is_empty() {
        args.push(format!(
            "after=collect_errors({})",
            collected(&p.reinsert, Flavour::Mirascope, f)
        ));
    }
    args.push("before_sleep=trace_wait".into());
    format!("@retry(\n    {},\n)\n", args.join(",\n    "))
}

/// The classes `collect_errors` matches: it compares `type(e)` exactly, so `any` lists every
/// concrete class.
pub fn collected(kinds: &[ErrorKind], flavour: Flavour, f: &mut Findings) -> String {
    let list: Vec<ErrorKind> = if kinds.contains(&ErrorKind::Any) {
        f.note("reinsert = any: collect_errors compares exact classes, so every concrete SDK class is listed (an unlisted exception is not reinserted)");
        ErrorKind::ALL
            .into_iter()
            .filter(|k| {
                !matches!(
                    k,
                    ErrorKind::Any
                        | ErrorKind::RetryError
                        | ErrorKind::FallbackError
                        | ErrorKind::Redirect
                ) && !k.is_verdict()
            })
            .collect()
    } else {
        kinds.to_vec()
    };
    let mut names: Vec<&str> = Vec::new();
    for k in &list {
        for c in python::classes(*k, flavour) {
            if !names.contains(c) && *c != "httpx.TransportError" {
                names.push(c);
            }
        }
    }
    names.join(", ")
}

/// One attempt's body: the call, then its stream, tools and validators; returns the content.
pub fn attempt_body(s: &Scenario, invoke: &str, validated: bool) -> String {
    let mut out = String::new();
    let finish = "    if not finish:\n        raise StreamInterrupted(\"the stream ended without its terminal event\")\n";
    let filtered = "    if set(finish or []) & {\"content_filter\", \"refusal\"}:\n        raise ContentFiltered(\"the reply was stopped by the content filter\")\n";
    if s.call.stream {
        let _ = writeln!(out, "    stream = {invoke}");
        out.push_str("    content, results, finish = \"\", [], []\n    for chunk, tool in stream:\n        content += chunk.content\n        finish += finish_of(chunk)\n");
        if !s.tools.is_empty() {
            out.push_str("        if tool:\n            results.append(str(tool.call()))\n");
        }
        out.push_str(finish);
        out.push_str(filtered);
        if !s.tools.is_empty() {
            out.push_str("    if results:\n        return \"\\n\".join(results)\n");
        }
    } else {
        let _ = writeln!(out, "    response = {invoke}");
        out.push_str("    finish = response.finish_reasons\n");
        out.push_str(filtered);
        if !s.tools.is_empty() {
            out.push_str("    if tools := response.tools:  # a bad argument raises ValidationError here\n        return \"\\n\".join(str(tool.call()) for tool in tools)\n");
        }
        out.push_str("    content = response.content\n");
    }
    if validated {
        out.push_str("    return TypeAdapter(Answer).validate_python(content)\n");
    } else {
        out.push_str("    return content\n");
    }
    out
}
