//! `@retry(...)` → stop, wait, retry condition, reinsertion. Signatures and defaults are
//! Tenacity 8.5's (`stop.py`, `wait.py`, `retry.py`): e.g. `wait_exponential(multiplier=1,
//! max=MAX_WAIT, exp_base=2, min=0)` in that positional order, `wait_incrementing`'s
//! increment defaults to 100.

use super::expr::{Expr, ExprKind};
use super::read::{Args, Ctx, call_parts};
use super::sdk::{self, Sdk};
use crate::error::ErrorKind;
use crate::policy::duration::MAX_WAIT;
use crate::policy::wait::{ExponentialParams, IncrementingParams, JitterParams, RandomParams};
use crate::policy::{Secs, Stop, Wait};

/// A retry condition, kept as written so its kinds can be read per SDK.
#[derive(Debug, Clone)]
pub enum RetryCond {
    /// `retry_if_exception_type(A, B)`: qualified class names.
    Types(Vec<String>),
    /// `retry_if_not_exception_type(...)`.
    NotTypes(Vec<String>),
    AnyOf(Vec<RetryCond>),
    AllOf(Vec<RetryCond>),
    Never,
    /// Kinds the harness's own predicates stand for (`overloaded_in_stream`).
    Kinds(Vec<ErrorKind>),
}

impl RetryCond {
    /// The kinds retried for errors of `sdk`; `None` is every kind.
    pub fn kinds(&self, sdk: Sdk) -> Option<Vec<ErrorKind>> {
        match self {
            RetryCond::Types(classes) => union_kinds(classes, sdk),
            RetryCond::NotTypes(classes) => {
                let caught = union_kinds(classes, sdk);
                Some(match caught {
                    None => Vec::new(),
                    Some(c) => concrete_kinds().filter(|k| !c.contains(k)).collect(),
                })
            }
            RetryCond::AnyOf(list) => {
                let mut out = Vec::new();
                for c in list {
                    for k in c.kinds(sdk)? {
                        if !out.contains(&k) {
                            out.push(k);
                        }
                    }
                }
                Some(out)
            }
            RetryCond::AllOf(list) => {
                let mut acc: Option<Vec<ErrorKind>> = None;
                for c in list {
                    if let Some(ks) = c.kinds(sdk) {
                        acc = Some(match acc {
                            None => ks,
                            Some(a) => a.into_iter().filter(|k| ks.contains(k)).collect(),
                        });
                    }
                }
                acc
            }
            RetryCond::Never => Some(Vec::new()),
            RetryCond::Kinds(k) => Some(k.clone()),
        }
    }
}

/// Every kind a single attempt can fail with (what `any` stands for in `retry_on`).
fn concrete_kinds() -> impl Iterator<Item = ErrorKind> {
    ErrorKind::ALL.into_iter().filter(|k| {
        // circuit_open and budget_exhausted come from retrylab's own breaker and budget:
        // no Python exception raises them, and retry_on refuses them.
        !matches!(
            k,
            ErrorKind::RetryError
                | ErrorKind::FallbackError
                | ErrorKind::Any
                | ErrorKind::CircuitOpen
                | ErrorKind::BudgetExhausted
        ) && !k.is_verdict()
    })
}

fn union_kinds(classes: &[String], sdk: Sdk) -> Option<Vec<ErrorKind>> {
    let mut out = Vec::new();
    for c in classes {
        for (k, _) in sdk::kinds_caught(c, sdk) {
            if k == ErrorKind::Any {
                return None;
            }
            if !out.contains(&k) {
                out.push(k);
            }
        }
    }
    Some(out)
}

/// One `@retry(...)` as read.
#[derive(Debug, Clone)]
pub struct RetryDecl {
    pub line: u32,
    pub stop: Option<Stop>,
    pub wait: Option<Wait>,
    /// `None`: Tenacity's default, every exception.
    pub retry: Option<RetryCond>,
    /// `after=collect_errors(...)`'s classes.
    pub collect: Vec<String>,
    pub reraise: bool,
    /// `wait=wait_retry_after(..., cap=N)` (the exporter's harness): Retry-After honoured,
    /// capped at N seconds.
    pub retry_after_max: Option<Secs>,
}

impl RetryDecl {
    pub fn retry_on(&self, sdk: Sdk) -> Option<Vec<ErrorKind>> {
        self.retry.as_ref().and_then(|r| r.kinds(sdk))
    }

    pub fn reinsert(&self, sdk: Sdk) -> Vec<ErrorKind> {
        let mut out = Vec::new();
        for c in &self.collect {
            for k in sdk::kinds_exact(c, sdk) {
                if !out.contains(&k) {
                    out.push(k);
                }
            }
        }
        out
    }
}

/// True when `e` is Tenacity's `retry` (called or bare).
pub fn is_retry(cx: &Ctx, e: &Expr) -> bool {
    let callee = call_parts(e).map_or(e, |(f, _, _)| f);
    cx.name_in(callee, "tenacity").as_deref() == Some("retry")
}

/// Reads `@retry` / `@retry(...)`.
pub fn read_retry(cx: &mut Ctx, e: &Expr) -> RetryDecl {
    let mut decl = RetryDecl {
        line: e.line,
        stop: None,
        wait: None,
        retry: None,
        collect: Vec::new(),
        reraise: false,
        retry_after_max: None,
    };
    let Some((_, args, starred)) = call_parts(e) else {
        return decl;
    };
    if starred {
        cx.drop(
            e.line,
            "`*args`/`**kwargs` passed to @retry",
            "their contents are only known when the program runs; the named arguments are read",
        );
    }
    for a in args.args {
        cx.drop(
            a.line,
            format!("positional argument `{}` of @retry", a.show()),
            "Tenacity takes its strategies by keyword (stop=, wait=, retry=)",
        );
    }
    for (key, value) in args.kwargs {
        match key.as_str() {
            "stop" => match stop(cx, value) {
                Some(s) => decl.stop = s,
                None => {
                    if let Some(last) = cx.dropped.last_mut() {
                        last.why.push_str(
                            "; without a stop this scenario retries until an attempt succeeds (`retrylab check` warns): set [retry].stop",
                        );
                    }
                }
            },
            "wait" => match super::harness::wait_retry_after(cx, value) {
                Some((backoff, cap)) => {
                    decl.wait = backoff.and_then(|b| wait(cx, b));
                    match cx.seconds(cap) {
                        Ok(c) => decl.retry_after_max = Some(Secs(c)),
                        Err(why) => cx.drop(cap.line, format!("cap={}", cap.show()), why),
                    }
                }
                None => decl.wait = wait(cx, value),
            },
            // Nothing of it maps (each piece reported): retry_on stays any, Tenacity's default.
            "retry" => decl.retry = retry_cond(cx, value),
            "after" => after(cx, value, &mut decl.collect),
            "reraise" => match cx.boolean(value) {
                Ok(b) => decl.reraise = b,
                Err(why) => cx.drop(value.line, format!("reraise={}", value.show()), why),
            },
            "before_sleep" if super::harness::is_tracing(cx, value) => {}
            "before" | "before_sleep" => cx.drop(
                value.line,
                format!("{key}={}", value.show()),
                "a callback that runs code between attempts (logging, say): retrylab's timeline shows each attempt instead",
            ),
            "sleep" => cx.drop(
                value.line,
                format!("sleep={}", value.show()),
                "a custom sleep function: retrylab waits on its own clock",
            ),
            "retry_error_callback" => cx.drop(
                value.line,
                format!("retry_error_callback={}", value.show()),
                "it returns a value instead of raising RetryError; retrylab ends the hop with retry_error",
            ),
            "retry_error_cls" => cx.drop(
                value.line,
                format!("retry_error_cls={}", value.show()),
                "a custom RetryError class; retrylab calls it retry_error",
            ),
            other => cx.drop(
                value.line,
                format!("{other}={}", value.show()),
                "not an argument of Tenacity's retry",
            ),
        }
    }
    decl
}

fn after(cx: &mut Ctx, value: &Expr, collect: &mut Vec<String>) {
    let collects = call_parts(value).filter(|(f, _, _)| {
        let q = cx.m.qualified(f).unwrap_or_default();
        q.ends_with("collect_errors")
    });
    let Some((_, args, starred)) = collects else {
        cx.drop(
            value.line,
            format!("after={}", value.show()),
            "only Mirascope's collect_errors(...) is read for `after` (a custom callback runs code)",
        );
        return;
    };
    if starred {
        cx.drop(
            value.line,
            "`*args` passed to collect_errors",
            "the classes are only known when the program runs",
        );
    }
    for a in args.args {
        if let Some(c) = class_name(cx, a, "collect_errors") {
            collect.push(c);
        }
    }
}

/// A known exception class named by `e`, or a drop saying why not.
pub fn class_name(cx: &mut Ctx, e: &Expr, within: &str) -> Option<String> {
    let Some(q) = cx.m.qualified(e) else {
        cx.drop(
            e.line,
            format!("`{}` in {within}", e.show()),
            "not an exception class name",
        );
        return None;
    };
    if let Some(h) = cx.harness
        && let Some(c) = super::harness::class(h, &q)
    {
        return Some(c.to_string());
    }
    if sdk::known(&q) {
        return Some(q);
    }
    let local = cx.m.class(&q).is_some();
    cx.drop(
        e.line,
        format!("exception class `{}` in {within}", e.show()),
        if local {
            format!("`{q}` is defined in this file; retrylab's error kinds cover the official SDKs' exceptions (openai, anthropic), httpx, pydantic, Tenacity and Mirascope")
        } else {
            format!("`{q}` is not an exception the openai/anthropic SDKs, httpx, pydantic, Tenacity or Mirascope raise, so no error kind matches it")
        },
    );
    None
}

/// Classes listed by one argument (a class or a tuple of classes).
fn classes(cx: &mut Ctx, e: &Expr, within: &str) -> Vec<String> {
    match &e.kind {
        ExprKind::Tuple(items) | ExprKind::List(items) => items
            .iter()
            .filter_map(|x| class_name(cx, x, within))
            .collect(),
        _ => class_name(cx, e, within).into_iter().collect(),
    }
}

/// `Some(None)` is a stop that never stops (`stop_never`); `None` is dropped.
fn stop(cx: &mut Ctx, e: &Expr) -> Option<Option<Stop>> {
    if let ExprKind::Bin(op, a, b) = &e.kind
        && (op == "|" || op == "&")
    {
        let parts = [stop(cx, a), stop(cx, b)];
        return Some(combine(op == "|", parts.into_iter().flatten().collect()));
    }
    let callee = call_parts(e).map_or(e, |(f, _, _)| f);
    let name = cx.name_in(callee, "tenacity");
    let Some((_, args, starred)) = call_parts(e) else {
        if name.as_deref() == Some("stop_never") {
            return Some(None);
        }
        cx.drop(
            e.line,
            format!("stop={}", e.show()),
            "not a Tenacity stop strategy (a custom callable runs code)",
        );
        return None;
    };
    let what = || format!("stop {}", e.show());
    let one = |cx: &mut Ctx, f: fn(Secs) -> Stop| match args.get(Some(0), "max_delay") {
        Some(v) => match cx.seconds(v) {
            Ok(s) => Some(Some(f(Secs(s)))),
            Err(why) => {
                cx.drop(v.line, what(), why);
                None
            }
        },
        None => {
            cx.drop(e.line, what(), "its delay is missing");
            None
        }
    };
    match name.as_deref() {
        Some("stop_after_attempt") => match args.get(Some(0), "max_attempt_number") {
            Some(v) => match cx.number(v) {
                Ok(n) if n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => {
                    Some(Some(Stop::AfterAttempt(n as u32)))
                }
                Ok(n) => {
                    cx.drop(
                        v.line,
                        what(),
                        format!("{n} is not a whole number of attempts"),
                    );
                    None
                }
                Err(why) => {
                    cx.drop(v.line, what(), why);
                    None
                }
            },
            None => {
                cx.drop(e.line, what(), "its number of attempts is missing");
                None
            }
        },
        Some("stop_after_delay") => one(cx, Stop::AfterDelay),
        Some("stop_before_delay") => one(cx, Stop::BeforeDelay),
        Some(n @ ("stop_any" | "stop_all")) => {
            if starred {
                cx.drop(
                    e.line,
                    what(),
                    "`*args`: the strategies are only known when the program runs",
                );
            }
            let parts: Vec<Option<Stop>> = args.args.iter().filter_map(|a| stop(cx, a)).collect();
            Some(combine(n == "stop_any", parts))
        }
        _ => {
            cx.drop(
                e.line,
                format!("stop={}", e.show()),
                "not one of stop_after_attempt, stop_after_delay, stop_before_delay, stop_any, stop_all, stop_never",
            );
            None
        }
    }
}

/// `a | b` stops when any does (a `stop_never` part never says stop), `a & b` when all do
/// (a `stop_never` part makes it never stop).
fn combine(any: bool, parts: Vec<Option<Stop>>) -> Option<Stop> {
    let mut out = Vec::new();
    for p in parts {
        match p {
            None if !any => return None,
            None => {}
            Some(Stop::Any(v)) if any => out.extend(v),
            Some(Stop::All(v)) if !any => out.extend(v),
            Some(s) => out.push(s),
        }
    }
    match out.len() {
        0 => None,
        1 => out.pop(),
        _ if any => Some(Stop::Any(out)),
        _ => Some(Stop::All(out)),
    }
}

fn wait(cx: &mut Ctx, e: &Expr) -> Option<Wait> {
    if let ExprKind::Bin(op, a, b) = &e.kind
        && op == "+"
    {
        let parts: Vec<Wait> = [wait(cx, a), wait(cx, b)].into_iter().flatten().collect();
        return sum(parts);
    }
    let callee = call_parts(e).map_or(e, |(f, _, _)| f);
    let name = cx.name_in(callee, "tenacity");
    let Some((_, args, starred)) = call_parts(e) else {
        cx.drop(
            e.line,
            format!("wait={}", e.show()),
            if name.as_deref().is_some_and(|n| n.starts_with("wait_")) {
                "a wait class without `()`: Tenacity needs an instance"
            } else {
                "not a Tenacity wait strategy (a custom callable runs code)"
            },
        );
        return None;
    };
    if starred && !matches!(name.as_deref(), Some("wait_chain" | "wait_combine")) {
        cx.drop(
            e.line,
            format!("`*args` in {}", e.show()),
            "their values are only known when the program runs; the rest is read",
        );
    }
    let bad: std::cell::RefCell<Option<(u32, String)>> = std::cell::RefCell::new(None);
    let secs = |cx: &Ctx, pos: Option<usize>, key: &str, default: f64, bound: bool| -> Secs {
        let Some(v) = args.get(pos, key) else {
            return if bound && default >= MAX_WAIT.0 {
                Secs::INF
            } else {
                Secs(default)
            };
        };
        match cx.seconds(v) {
            // Tenacity's MAX_WAIT (sys.maxsize / 2) and anything past 30 days are no bound.
            Ok(s) if bound && s >= MAX_WAIT.0 => Secs::INF,
            Ok(s) if s > MAX_WAIT.0 => {
                bad.borrow_mut().get_or_insert((
                    v.line,
                    format!("{key}={s} s is over retrylab's 30-day limit on a wait"),
                ));
                Secs(default)
            }
            Ok(s) => Secs(s),
            Err(why) => {
                bad.borrow_mut()
                    .get_or_insert((v.line, format!("{key}: {why}")));
                Secs(default)
            }
        }
    };
    let num = |cx: &Ctx, pos: Option<usize>, key: &str, default: f64| -> f64 {
        match args.get(pos, key) {
            None => default,
            Some(v) => cx.number(v).unwrap_or_else(|why| {
                bad.borrow_mut()
                    .get_or_insert((v.line, format!("{key}: {why}")));
                default
            }),
        }
    };
    let inf = f64::INFINITY;
    let w = match name.as_deref() {
        Some("wait_fixed") => Some(Wait::Fixed(secs(cx, Some(0), "wait", 0.0, false))),
        Some("wait_none") => Some(Wait::Fixed(Secs::ZERO)),
        Some("wait_random") => Some(Wait::Random(RandomParams {
            min: secs(cx, Some(0), "min", 0.0, false),
            max: secs(cx, Some(1), "max", 1.0, false),
        })),
        Some(n @ ("wait_exponential" | "wait_random_exponential" | "wait_full_jitter")) => {
            let p = ExponentialParams {
                multiplier: num(cx, Some(0), "multiplier", 1.0),
                max: secs(cx, Some(1), "max", inf, true),
                exp_base: num(cx, Some(2), "exp_base", 2.0),
                min: secs(cx, Some(3), "min", 0.0, false),
            };
            Some(if n == "wait_exponential" {
                Wait::Exponential(p)
            } else {
                Wait::RandomExponential(p)
            })
        }
        Some("wait_exponential_jitter") => Some(Wait::ExponentialJitter(JitterParams {
            initial: secs(cx, Some(0), "initial", 1.0, false),
            max: secs(cx, Some(1), "max", inf, true),
            exp_base: num(cx, Some(2), "exp_base", 2.0),
            jitter: secs(cx, Some(3), "jitter", 1.0, false),
        })),
        // The exporter's harness callable (Tenacity has none): AWS's decorrelated jitter.
        Some("wait_decorrelated_jitter") if cx.harness.is_some() => Some(Wait::DecorrelatedJitter(
            crate::policy::wait::DecorrelatedParams {
                base: secs(cx, Some(0), "base", 1.0, false),
                max: secs(cx, Some(1), "max", inf, true),
            },
        )),
        Some("wait_incrementing") => Some(Wait::Incrementing(IncrementingParams {
            start: secs(cx, Some(0), "start", 0.0, false),
            increment: secs(cx, Some(1), "increment", 100.0, false),
            max: secs(cx, Some(2), "max", inf, true),
        })),
        Some(n @ ("wait_chain" | "wait_combine")) => {
            if starred {
                cx.drop(
                    e.line,
                    format!("`*args` in {}", e.show()),
                    "the strategies are only known when the program runs",
                );
            }
            let parts: Vec<Wait> = args.args.iter().filter_map(|a| wait(cx, a)).collect();
            return if n == "wait_chain" {
                (!parts.is_empty()).then_some(Wait::Chain(parts))
            } else {
                sum(parts)
            };
        }
        _ => None,
    };
    let Some(w) = w else {
        cx.drop(
            e.line,
            format!("wait={}", e.show()),
            "not a Tenacity wait strategy (wait_fixed, wait_none, wait_random, wait_exponential, wait_random_exponential, wait_exponential_jitter, wait_incrementing, wait_chain, wait_combine, +)",
        );
        return None;
    };
    if let Some((line, why)) = bad.into_inner() {
        cx.drop(
            line,
            format!("wait {}", e.show()),
            format!("{why}; Tenacity's default is used there"),
        );
    }
    Some(w)
}

fn sum(mut parts: Vec<Wait>) -> Option<Wait> {
    let mut flat = Vec::new();
    for p in parts.drain(..) {
        match p {
            Wait::Sum(v) => flat.extend(v),
            w => flat.push(w),
        }
    }
    match flat.len() {
        0 => None,
        1 => flat.pop(),
        _ => Some(Wait::Sum(flat)),
    }
}

/// `None`: nothing of it maps (already reported).
fn retry_cond(cx: &mut Ctx, e: &Expr) -> Option<RetryCond> {
    if let ExprKind::Bin(op, a, b) = &e.kind
        && (op == "|" || op == "&")
    {
        let parts: Vec<RetryCond> = [retry_cond(cx, a), retry_cond(cx, b)]
            .into_iter()
            .flatten()
            .collect();
        return group(op == "|", parts);
    }
    if super::harness::is_overloaded_predicate(cx, e) {
        return Some(RetryCond::Kinds(vec![ErrorKind::Overloaded]));
    }
    if let Some(kinds) = super::harness::kind_in(cx, e) {
        return Some(RetryCond::Kinds(kinds));
    }
    let callee = call_parts(e).map_or(e, |(f, _, _)| f);
    let name = cx.name_in(callee, "tenacity");
    let what = || format!("retry={}", e.show());
    match (name.as_deref(), call_parts(e)) {
        (Some("retry_never"), None) => Some(RetryCond::Never),
        (Some("retry_always"), None) => {
            cx.drop(e.line, what(), "retry_always retries successful calls too: retrylab retries failures only (retry_on stays any)");
            None
        }
        (Some("retry_if_exception_type"), Some((_, args, _))) => {
            let list = type_args(cx, &args, "exception_types", "retry_if_exception_type");
            // No argument: Tenacity's default is Exception.
            Some(RetryCond::Types(
                list.unwrap_or_else(|| vec!["Exception".into()]),
            ))
        }
        (Some("retry_if_not_exception_type"), Some((_, args, _))) => {
            let list = type_args(cx, &args, "exception_types", "retry_if_not_exception_type");
            Some(RetryCond::NotTypes(
                list.unwrap_or_else(|| vec!["Exception".into()]),
            ))
        }
        (Some(n @ ("retry_any" | "retry_all")), Some((_, args, _))) => {
            let parts: Vec<RetryCond> =
                args.args.iter().filter_map(|a| retry_cond(cx, a)).collect();
            group(n == "retry_any", parts)
        }
        (Some(n @ ("retry_if_result" | "retry_if_not_result")), _) => {
            cx.drop(e.line, what(), format!("{n} calls a function on the result: retrylab judges a result by [response] validators, and nothing is executed"));
            None
        }
        (Some(n @ ("retry_if_exception_message" | "retry_if_not_exception_message")), _) => {
            cx.drop(
                e.line,
                what(),
                format!("{n} matches the error's message: retrylab retries by error kind"),
            );
            None
        }
        (Some("retry_if_exception"), _) => {
            cx.drop(e.line, what(), "a predicate function decides: nothing is executed, so it is not known which errors it retries");
            None
        }
        (Some("retry_if_exception_cause_type"), _) => {
            cx.drop(
                e.line,
                what(),
                "it looks at the error's __cause__ chain, which retrylab's errors do not have",
            );
            None
        }
        (Some("retry_unless_exception_type"), _) => {
            cx.drop(e.line, what(), "it retries successful calls too, until an error of the type: retrylab retries failures only");
            None
        }
        _ => {
            cx.drop(
                e.line,
                what(),
                "not a Tenacity retry condition (a custom callable runs code)",
            );
            None
        }
    }
}

/// The classes of `retry_if_exception_type(...)`; `None` when no argument was given.
fn type_args(cx: &mut Ctx, args: &Args, key: &str, within: &str) -> Option<Vec<String>> {
    let v = args.get(Some(0), key)?;
    Some(classes(cx, v, within))
}

fn group(any: bool, parts: Vec<RetryCond>) -> Option<RetryCond> {
    match parts.len() {
        0 => None,
        1 => parts.into_iter().next(),
        _ if any => Some(RetryCond::AnyOf(parts)),
        _ => Some(RetryCond::AllOf(parts)),
    }
}
