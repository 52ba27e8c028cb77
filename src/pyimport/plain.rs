//! The program `retrylab export --to tenacity` writes: no `@llm.call`, but one `@retry`
//! function per hop (`hop_0`, `hop_1`, ...) whose body asks the SDK through the harness's
//! `ask(CLIENT_i, sdk, model, prompt(...), stream=, tools=TOOLS, params={...})`, and the
//! fallback as `HOPS = [(hop_0, catch), ...]`. Read only in a file the exporter stamped.

use super::draft::{CallDraft, Draft, FallbackDraft, HopDraft, SimDraft};
use super::expr::{Expr, ExprKind};
use super::module::{Function, Stmt};
use super::read::{Ctx, call_parts};
use super::{harness, mirascope, sdk_of, template, tenacity};
use crate::scenario::ProviderKind;

/// One `hop_i`: its `ask(...)` call and its `@retry`.
struct Hop<'m> {
    ask: &'m Expr,
    retry: Option<tenacity::RetryDecl>,
}

fn ask_of(f: &Function) -> Option<&Expr> {
    f.body.iter().find_map(|s| match s {
        Stmt::Assign(_, e) => call_parts(e)
            .filter(|(func, _, _)| func.dotted().as_deref() == Some("ask"))
            .map(|_| e),
        _ => None,
    })
}

fn hops<'m>(cx: &mut Ctx<'m>) -> Vec<Hop<'m>> {
    let m = cx.m;
    let mut out = Vec::new();
    for i in 0.. {
        let Some(f) = m.function(&format!("hop_{i}")) else {
            break;
        };
        let Some(ask) = ask_of(f) else { break };
        let mut retry = None;
        for d in &f.decorators {
            if tenacity::is_retry(cx, &d.expr) {
                retry = Some(tenacity::read_retry(cx, &d.expr));
            }
        }
        out.push(Hop { ask, retry });
    }
    out
}

/// The call a hop makes: provider and model, its client's base URL and key, stream, params.
fn call(cx: &mut Ctx, ask: &Expr) -> Option<CallDraft> {
    let (_, a, _) = call_parts(ask)?;
    let client = harness::client(cx, a.args.first()?).unwrap_or_default();
    let sdk = cx.string(a.args.get(1)?).ok()?;
    let model = cx.string(a.args.get(2)?).ok()?;
    let provider = match sdk.as_str() {
        "anthropic" => ProviderKind::Anthropic,
        "openai-responses" => ProviderKind::OpenaiResponses,
        // The exporter's gemini hop (spoken through the OpenAI SDK).
        "gemini" => ProviderKind::Gemini,
        _ => ProviderKind::Openai,
    };
    // An Azure client (`api_version=`) is the OpenAI SDK's AzureOpenAI.
    let provider = match client.api_version {
        Some(_) => ProviderKind::AzureOpenai,
        None => provider,
    };
    let mut call = CallDraft {
        provider,
        model,
        stream: a
            .get(None, "stream")
            .is_some_and(|s| matches!(s.kind, ExprKind::Bool(true))),
        base_url: client.base_url,
        api_key_env: client.api_key_env,
        headers: client.headers,
        sdk_max_retries: client.sdk_max_retries,
        api_version: client.api_version,
        temperature: None,
        max_tokens: None,
    };
    if let Some(p) = a.get(None, "params")
        && !matches!(&p.kind, ExprKind::Dict(kv) if kv.is_empty())
    {
        mirascope::call_params(cx, p, &mut call);
    }
    Some(call)
}

/// The tools of `TOOLS = {"name": (function, schema, description), ...}`.
fn tools(cx: &mut Ctx) -> Vec<super::draft::ToolDraft> {
    let m = cx.m;
    let Some(ExprKind::Dict(kv)) = m.assigned.get("TOOLS").map(|e| &e.kind) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (_, v) in kv {
        let ExprKind::Tuple(parts) = &v.kind else {
            continue;
        };
        let Some(f) = parts
            .first()
            .and_then(Expr::dotted)
            .and_then(|n| m.function(&n))
        else {
            continue;
        };
        let mut t = mirascope::tool(cx, f);
        if let Some(schema) = parts.get(1).and_then(|s| harness::literal(cx, s)) {
            t.parameters = schema;
        }
        out.push(t);
    }
    out
}

/// The classes of each hop's catch, from `HOPS = [(hop_i, catch), ...]`.
fn catches(cx: &mut Ctx) -> Vec<Vec<String>> {
    let m = cx.m;
    let Some(ExprKind::List(rows)) = m.assigned.get("HOPS").map(|e| &e.kind) else {
        return Vec::new();
    };
    rows.iter()
        .filter_map(|r| match &r.kind {
            ExprKind::Tuple(p) => p.get(1),
            _ => None,
        })
        .map(|c| match &c.kind {
            ExprKind::Tuple(v) => v
                .iter()
                .filter_map(|x| tenacity::class_name(cx, x, "a hop's catch"))
                .collect(),
            _ => tenacity::class_name(cx, c, "a hop's catch")
                .into_iter()
                .collect(),
        })
        .collect()
}

pub fn draft(cx: &mut Ctx, origin: &str) -> Option<Draft> {
    let hops = hops(cx);
    let first = hops.first()?;
    let primary = call(cx, first.ask)?;
    let (_, a, _) = call_parts(first.ask)?;
    let prompt_fn = a
        .args
        .get(3)
        .and_then(call_parts)
        .and_then(|(f, _, _)| f.dotted())
        .and_then(|n| cx.m.function(&n))?;
    let prompt = template::prompt(cx, prompt_fn, None)?;
    let vars = super::vars(cx, prompt_fn, &prompt.names);
    let mut retry = first
        .retry
        .as_ref()
        .map(|r| super::retry_draft(cx, r, sdk_of(primary.provider)));
    if let Some(r) = retry.as_mut() {
        r.reask = prompt.reask;
    }
    let catches = catches(cx);
    let fallback = (hops.len() > 1).then(|| {
        let mut hop_drafts = Vec::new();
        for (i, h) in hops.iter().enumerate().skip(1) {
            let Some(c) = call(cx, h.ask) else { continue };
            let sdk = sdk_of(c.provider);
            let mut own = h.retry.as_ref().map(|r| super::retry_draft(cx, r, sdk));
            if let Some(r) = own.as_mut() {
                r.reask = prompt.reask;
            }
            hop_drafts.push(HopDraft {
                provider: c.provider,
                model: c.model,
                base_url: c.base_url,
                api_key_env: c.api_key_env,
                headers: c.headers,
                sdk_max_retries: c.sdk_max_retries,
                api_version: c.api_version,
                catch: super::kinds_of(catches.get(i).map_or(&[][..], |v| v), sdk),
                retry: own.filter(|r| Some(r) != retry.as_ref()),
            });
        }
        FallbackDraft {
            catch: super::kinds_of(
                catches.first().map_or(&[][..], |v| v),
                sdk_of(primary.provider),
            ),
            hops: hop_drafts,
        }
    });
    let tools = tools(cx);
    let validators = harness::answer_validators(cx);
    let mut d = Draft {
        name: prompt_fn.name.clone(),
        about: format!(
            "Imported from {origin}: the hops `hop_0`..`hop_{}` of a plain Tenacity program.",
            hops.len() - 1
        ),
        template: prompt.template,
        system: prompt.system,
        vars,
        call: primary,
        retry,
        fallback,
        validators,
        tools,
        sim: SimDraft::default(),
    };
    d.without_impossible_kinds();
    d.default_sim();
    Some(d)
}
