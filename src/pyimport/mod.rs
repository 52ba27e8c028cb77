//! `retrylab import` (DESIGN §14): a Python file's `@retry`, `@fallback`, `@llm.call`
//! decorators → a scenario. The file is read, never run: a small tokenizer (`lex`) and
//! expression parser (`expr`) see its shape (`module`); `tenacity` and `mirascope` map the
//! decorators (`sdk` turns exception classes into error kinds), `template` the prompt;
//! `draft` holds the result and its default `[sim]`, `write` prints the TOML. Every piece
//! that does not map is listed with its line and why, and the rest is still imported.

pub mod draft;
pub mod expr;
pub mod harness;
pub mod lex;
pub mod mirascope;
pub mod module;
mod plain;
mod read;
pub mod sdk;
pub mod sdk_default;
pub mod template;
pub mod tenacity;
pub mod write;

use self::draft::{Draft, FallbackDraft, HopDraft, RetryDraft};
use self::expr::{Expr, ExprKind};
use self::mirascope::CallDecl;
use self::module::{Function, Module};
use self::read::{Ctx, call_parts};
use self::sdk::Sdk;
use self::tenacity::RetryDecl;
use crate::error::ErrorKind;
use crate::scenario::ProviderKind;

/// The largest file `import` reads (as for scenario files).
pub const MAX_SOURCE: usize = 1024 * 1024;

/// One piece of the file that did not make it into the scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Dropped {
    /// 1-based line in the Python file.
    pub line: u32,
    pub what: String,
    pub why: String,
}

impl Dropped {
    /// `file:line: what: why`, as `import` prints it.
    pub fn show(&self, origin: &str) -> String {
        format!("{origin}:{}: {}: {}", self.line, self.what, self.why)
    }
}

/// The imported scenario and what it left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// A scenario file `retrylab check` accepts.
    pub scenario_toml: String,
    pub dropped: Vec<Dropped>,
    /// What the program does that the scenario leaves out on purpose (e.g. the SDK's
    /// default retries, [`sdk_default::NOTE`]); printed with the pieces not mapped.
    pub notes: Vec<Dropped>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    #[error("{origin} is larger than 1 MiB ({size} bytes)")]
    TooLarge { origin: String, size: usize },
    /// Nothing to import: no `@llm.call`, `@retry` or `@fallback` was found.
    #[error("{origin}: no @llm.call, @retry or @fallback decorator found: nothing to import")]
    Nothing {
        origin: String,
        dropped: Vec<Dropped>,
    },
    /// The scenario written does not load: a bug of the importer, said plainly.
    #[error("the imported scenario does not load (an importer bug): {0}")]
    Invalid(String),
}

/// Reads `source` (the text of `origin`, a Python file) into a scenario.
pub fn import_python(source: &str, origin: &str) -> Result<Imported, ImportError> {
    if source.len() > MAX_SOURCE {
        return Err(ImportError::TooLarge {
            origin: origin.into(),
            size: source.len(),
        });
    }
    let m = Module::parse(source);
    let mut cx = Ctx {
        m: &m,
        dropped: Vec::new(),
        notes: Vec::new(),
        harness: harness::detect(source),
    };
    for u in &m.unreadable {
        cx.drop(u.line, "a line that is not Python", u.why.clone());
    }
    let draft = match build(&mut cx, origin) {
        Some(d) => d,
        None => {
            let mut dropped = cx.dropped;
            dropped.sort_by_key(|d| d.line);
            return Err(ImportError::Nothing {
                origin: origin.into(),
                dropped,
            });
        }
    };
    let mut draft = draft;
    if cx.harness.is_some() {
        back_to_scenario_names(&mut draft);
    }
    let mut dropped = cx.dropped;
    dropped.sort_by_key(|d| d.line);
    dropped.dedup();
    let mut notes = cx.notes;
    notes.sort_by_key(|d| d.line);
    notes.dedup();
    let scenario_toml = write::scenario_toml(&draft, origin, &dropped, &notes);
    crate::scenario::load::parse(&scenario_toml, "imported scenario")
        .map_err(|e| ImportError::Invalid(e.to_string()))?;
    Ok(Imported {
        scenario_toml,
        dropped,
        notes,
    })
}

fn sdk_of(p: ProviderKind) -> Sdk {
    match p {
        ProviderKind::Anthropic => Sdk::Anthropic,
        // An import never makes a gemini hop from an SDK class (Mirascope's `google` is read
        // as openai, and said so); were it to, its exception names are not in the tables.
        ProviderKind::Openai
        | ProviderKind::OpenaiCompatible
        | ProviderKind::OpenaiResponses
        | ProviderKind::AzureOpenai
        | ProviderKind::Gemini => Sdk::Openai,
    }
}

/// What decorates the call, innermost first.
#[derive(Default)]
struct Stack<'e> {
    call: Option<(&'e Expr, Option<String>)>,
    template: Option<(&'e Expr, u32)>,
    retry: Option<RetryDecl>,
    /// `@fallback(...)`, read once the call (whose call_params a hop may repeat) is known.
    fallback: Option<&'e Expr>,
    /// The retry sits outside the fallback (it retries the whole chain).
    retry_outside: bool,
}

fn read_stack<'e>(cx: &mut Ctx, f: &'e Function) -> Stack<'e> {
    let mut s = Stack::default();
    for d in f.decorators.iter().rev() {
        let e = &d.expr;
        if harness::is_tracing(cx, e) {
            continue;
        }
        if let Some(fixed) = mirascope::call_kind(cx, e) {
            if s.call.is_some() {
                cx.drop(
                    d.line,
                    format!("a second call decorator @{}", e.show()),
                    "a function makes one call; the innermost is read",
                );
            } else {
                s.call = Some((e, fixed));
            }
        } else if tenacity::is_retry(cx, e) {
            if s.retry.is_some() {
                cx.drop(
                    d.line,
                    "a second @retry",
                    "retries nested in retries multiply; the innermost is read",
                );
            } else {
                s.retry_outside = s.fallback.is_some();
                s.retry = Some(tenacity::read_retry(cx, e));
            }
        } else if mirascope::is_fallback(cx, e) {
            if s.fallback.is_some() {
                cx.drop(d.line, "a stacked @fallback", "an outer @fallback re-runs the inner one with another provider; only the innermost is read");
            } else {
                s.fallback = Some(e);
            }
        } else if cx
            .m
            .qualified(call_parts(e).map_or(e, |(f, _, _)| f))
            .is_some_and(|q| q.ends_with("prompt_template"))
        {
            s.template = call_parts(e)
                .and_then(|(_, a, _)| a.get(Some(0), "template"))
                .map(|t| (t, d.line));
        } else {
            cx.drop(
                d.line,
                format!("decorator @{}", e.show()),
                "not one retrylab reads (@retry, @fallback, @llm.call, @prompt_template)",
            );
        }
    }
    s
}

/// The `@llm.call` function to import, and the `@retry` wrapper around its use, if any.
fn choose<'m>(cx: &mut Ctx<'m>) -> Option<(&'m Function, Option<&'m Function>)> {
    let m = cx.m;
    let calls: Vec<&Function> = m
        .functions
        .iter()
        .filter(|f| {
            f.decorators
                .iter()
                .any(|d| mirascope::call_kind(cx, &d.expr).is_some())
        })
        .collect();
    let wrappers: Vec<&Function> = m
        .functions
        .iter()
        .filter(|f| {
            f.decorators
                .iter()
                .any(|d| tenacity::is_retry(cx, &d.expr) || mirascope::is_fallback(cx, &d.expr))
                && !f
                    .decorators
                    .iter()
                    .any(|d| mirascope::call_kind(cx, &d.expr).is_some())
        })
        .collect();
    let wrapper_of = |c: &Function| {
        wrappers
            .iter()
            .copied()
            .find(|w| m.mentions(&c.name, w.body_lines.clone()))
    };
    let decorated = |c: &&Function| {
        c.decorators
            .iter()
            .any(|d| tenacity::is_retry(cx, &d.expr) || mirascope::is_fallback(cx, &d.expr))
    };
    let chosen = calls
        .iter()
        .copied()
        .find(|c| decorated(c) || wrapper_of(c).is_some())
        .or_else(|| calls.first().copied())?;
    for other in calls.iter().filter(|c| c.name != chosen.name) {
        cx.drop(other.line, format!("the call `{}`", other.name), format!("a scenario holds one call; `{}` was imported (import the other from a file of its own)", chosen.name));
    }
    let wrapper = wrapper_of(chosen);
    for w in wrappers
        .iter()
        .filter(|w| wrapper.is_none_or(|x| x.name != w.name))
    {
        cx.drop(
            w.line,
            format!("@retry/@fallback on `{}`", w.name),
            format!("it does not call `{}`", chosen.name),
        );
    }
    Some((chosen, wrapper))
}

fn build(cx: &mut Ctx, origin: &str) -> Option<Draft> {
    if cx.harness == Some(harness::Harness::Tenacity) {
        return plain::draft(cx, origin);
    }
    let Some((f, wrapper)) = choose(cx) else {
        // A @retry with no call: its policy around a placeholder call.
        return retry_only(cx, origin);
    };
    let mut stack = read_stack(cx, f);
    if let Some(w) = wrapper {
        let outer = read_stack(cx, w);
        if stack.retry.is_some() {
            cx.drop(
                w.line,
                format!("@retry on `{}`", w.name),
                format!("`{}` has a @retry of its own; that one is read", f.name),
            );
        } else {
            stack.retry = outer.retry;
            stack.retry_outside = stack.fallback.is_some() || outer.retry_outside;
        }
        // The exporter's shape: @fallback and @retry on the function calling the call.
        if stack.fallback.is_none() {
            stack.fallback = outer.fallback;
        } else if let Some(fb) = outer.fallback {
            cx.drop(fb.line, "a stacked @fallback", "an outer @fallback re-runs the inner one with another provider; only the innermost is read");
        }
    }
    let (call_expr, fixed) = stack.call?;
    let primary_params = call_parts(call_expr).and_then(|(_, a, _)| a.get(None, "call_params"));
    let fallback = stack
        .fallback
        .and_then(|e| mirascope::read_fallback(cx, e, primary_params));
    let CallDecl {
        call,
        tools,
        response_model,
    } = mirascope::read_call(cx, call_expr, fixed);
    let tools = tools
        .map(|t| mirascope::read_tools(cx, t))
        .unwrap_or_default();
    let validators = response_model
        .map(|r| mirascope::read_response_model(cx, r))
        .unwrap_or_else(|| harness::answer_validators(cx));
    let prompt = template::prompt(cx, f, stack.template).unwrap_or_else(|| {
        cx.drop(
            f.line,
            format!("the prompt of `{}`", f.name),
            "no string it returns could be read: the template is a placeholder",
        );
        template::Prompt {
            template: format!("(the prompt of {})", f.name),
            ..template::Prompt::default()
        }
    });
    let vars = vars(cx, f, &prompt.names);
    if stack.retry_outside {
        cx.drop(
            stack.retry.as_ref().map_or(f.line, |r| r.line),
            "@retry outside @fallback",
            "Tenacity then retries the whole fallback chain; retrylab gives each hop that retry instead",
        );
    }
    let primary_sdk = sdk_of(call.provider);
    let retry_for = |cx: &mut Ctx, sdk: Sdk| stack.retry.as_ref().map(|r| retry_draft(cx, r, sdk));
    let mut retry = retry_for(cx, primary_sdk);
    if let Some(r) = retry.as_mut() {
        r.reask = prompt.reask;
    }
    let fallback = fallback.as_ref().map(|fb| {
        let hops = fb
            .hops
            .iter()
            .map(|h| {
                let sdk = sdk_of(h.provider);
                let own = retry_for(cx, sdk).filter(|r| Some(r) != retry.as_ref());
                let mut catch = kinds_of(&h.catch, sdk);
                reraised(stack.retry.as_ref(), sdk, &mut catch);
                let client = h.client.clone().unwrap_or_default();
                HopDraft {
                    provider: match client.api_version {
                        Some(_) => ProviderKind::AzureOpenai,
                        None => h.provider,
                    },
                    model: h.model.clone(),
                    base_url: client.base_url.or_else(|| h.base_url.clone()),
                    api_key_env: client.api_key_env,
                    headers: client.headers,
                    sdk_max_retries: client.sdk_max_retries,
                    api_version: client.api_version,
                    catch,
                    retry: own,
                }
            })
            .collect();
        let mut catch = kinds_of(&fb.catch, primary_sdk);
        reraised(stack.retry.as_ref(), primary_sdk, &mut catch);
        FallbackDraft { catch, hops }
    });
    let mut d = Draft {
        name: f.name.clone(),
        about: format!(
            "Imported from {origin}: the call `{}` and its decorators.",
            f.name
        ),
        template: prompt.template,
        system: prompt.system,
        vars,
        call,
        retry,
        fallback,
        validators,
        tools,
        sim: draft::SimDraft::default(),
    };
    d.without_impossible_kinds();
    d.default_sim();
    Some(d)
}

/// Only a `@retry` (no call): its policy around a placeholder OpenAI call.
fn retry_only(cx: &mut Ctx, origin: &str) -> Option<Draft> {
    let m = cx.m;
    let (f, d) = m.functions.iter().find_map(|f| {
        f.decorators
            .iter()
            .find(|d| tenacity::is_retry(cx, &d.expr) || mirascope::is_fallback(cx, &d.expr))
            .map(|d| (f, d))
    })?;
    cx.drop(
        d.line,
        format!("the call behind `{}`", f.name),
        "no @llm.call was found: the call is a placeholder openai/gpt-4o-mini",
    );
    let stack = read_stack(cx, f);
    let retry = stack
        .retry
        .as_ref()
        .map(|r| retry_draft(cx, r, Sdk::Openai));
    let mut draft = Draft {
        name: f.name.clone(),
        about: format!(
            "Imported from {origin}: the policy of `{}` (no call was found).",
            f.name
        ),
        template: format!("(the prompt of {})", f.name),
        system: None,
        vars: Vec::new(),
        call: draft::CallDraft {
            provider: ProviderKind::Openai,
            model: "gpt-4o-mini".into(),
            stream: false,
            base_url: None,
            api_key_env: None,
            headers: Vec::new(),
            api_version: None,
            sdk_max_retries: None,
            temperature: None,
            max_tokens: None,
        },
        retry,
        fallback: None,
        validators: Vec::new(),
        tools: Vec::new(),
        sim: draft::SimDraft::default(),
    };
    if let Some(fb) = &stack.fallback {
        cx.drop(
            fb.line,
            "@fallback",
            "without an @llm.call there is nothing to fall back from",
        );
    }
    draft.default_sim();
    Some(draft)
}

fn retry_draft(cx: &mut Ctx, r: &RetryDecl, sdk: Sdk) -> RetryDraft {
    let retry_on = r.retry_on(sdk);
    let mut reinsert = r.reinsert(sdk);
    // Reinserting a kind never retried does nothing; keep what matters.
    if let Some(on) = &retry_on {
        reinsert.retain(|k| k.is_in(on));
    }
    if let Some(RetryCondPartial { class, kinds }) = partial(r, sdk) {
        cx.drop(
            r.line,
            format!("part of `{class}`"),
            format!("{kinds}: mapped to the whole kind"),
        );
    }
    RetryDraft {
        stop: r.stop.clone(),
        wait: r.wait.clone(),
        retry_on,
        reinsert,
        honor_retry_after: r.retry_after_max.is_some(),
        retry_after_max: r.retry_after_max,
        reask: false,
    }
}

struct RetryCondPartial {
    class: String,
    kinds: String,
}

/// A class of `retry_if_exception_type` that covers only some forms of a kind.
fn partial(r: &RetryDecl, sdk: Sdk) -> Option<RetryCondPartial> {
    let tenacity::RetryCond::Types(classes) = r.retry.as_ref()? else {
        return None;
    };
    classes.iter().find_map(|c| {
        let parts: Vec<String> = sdk::kinds_caught(c, sdk)
            .into_iter()
            .filter(|(_, full)| !full)
            .map(|(k, _)| format!("it covers only some forms of {k}"))
            .collect();
        (!parts.is_empty()).then(|| RetryCondPartial {
            class: c.clone(),
            kinds: parts.join(", "),
        })
    })
}

fn kinds_of(classes: &[String], sdk: Sdk) -> Vec<ErrorKind> {
    let mut out = Vec::new();
    for c in classes {
        for (k, _) in sdk::kinds_caught(c, sdk) {
            if !out.contains(&k) {
                out.push(k);
            }
        }
    }
    out
}

/// With `reraise=True` an exhausted retry raises its last error, which a catch of that kind
/// takes; retrylab's hop ends with `retry_error`, so the catch takes that too when it lists
/// every kind retried.
fn reraised(r: Option<&RetryDecl>, sdk: Sdk, catch: &mut Vec<ErrorKind>) {
    let Some(r) = r.filter(|r| r.reraise) else {
        return;
    };
    let covered = match r.retry_on(sdk) {
        None => catch.contains(&ErrorKind::Any),
        Some(on) => on.iter().all(|k| k.is_in(catch)),
    };
    if covered && !ErrorKind::RetryError.is_in(catch) {
        catch.push(ErrorKind::RetryError);
    }
}

/// In a file the exporter wrote: each prompt variable under the name the scenario gave it,
/// in `[prompt].vars` and in the template (`{{ text_ }}` → `{{ text }}`).
fn back_to_scenario_names(d: &mut draft::Draft) {
    for (name, _) in &mut d.vars {
        let back = harness::scenario_var(name).to_string();
        if back != *name {
            d.template = d
                .template
                .replace(&format!("{{{{ {name} }}}}"), &format!("{{{{ {back} }}}}"))
                .replace(&format!("{{% if {name} %}}"), &format!("{{% if {back} %}}"));
            *name = back;
        }
    }
}

/// `[prompt].vars` from the literal arguments of a call of `f` somewhere in the file.
fn vars(cx: &mut Ctx, f: &Function, names: &[String]) -> Vec<(String, toml::Value)> {
    let m = cx.m;
    let calls = m.calls_of(&f.name, 0..m.lines.len());
    let params: Vec<&module::Param> = f
        .params
        .iter()
        .filter(|p| !p.star && p.name != "self")
        .collect();
    let mut out = Vec::new();
    for name in names {
        let pos = params.iter().position(|p| &p.name == name);
        let from_call = calls.iter().find_map(|c| {
            let (_, args, _) = call_parts(c)?;
            let p = pos.filter(|i| !params[*i].kw_only);
            literal_value(cx, args.get(p, name)?)
        });
        let from_default = pos
            .and_then(|i| params[i].default.as_ref())
            .and_then(|e| literal_value(cx, e));
        match from_call.or(from_default) {
            Some(v) => out.push((name.clone(), v)),
            None => {
                cx.drop(
                    f.line,
                    format!("the value of `{name}`"),
                    format!("no call of `{}` with a literal for it: [prompt].vars has a placeholder (or use --var {name}=...)", f.name),
                );
                out.push((name.clone(), toml::Value::String(format!("<{name}>"))));
            }
        }
    }
    out
}

fn literal_value(cx: &Ctx, e: &Expr) -> Option<toml::Value> {
    Some(match &e.kind {
        ExprKind::Num(n) if n.fract() == 0.0 && n.abs() < 9e15 => toml::Value::Integer(*n as i64),
        ExprKind::Num(n) => toml::Value::Float(*n),
        ExprKind::Bool(b) => toml::Value::Boolean(*b),
        ExprKind::List(items) | ExprKind::Tuple(items) => toml::Value::Array(
            items
                .iter()
                .map(|x| literal_value(cx, x))
                .collect::<Option<_>>()?,
        ),
        _ => toml::Value::String(cx.string(e).ok()?),
    })
}
