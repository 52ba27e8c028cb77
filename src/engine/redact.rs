//! Keys never leave the run: scrubbing what a server echoed back (errors, bodies, headers).

use crate::config;
use crate::error::CallError;

/// When the reply's text carried a key, its raw body may hold it in pieces (split across
/// stream frames, or JSON-escaped) that no scrub can find: the body is withheld.
pub(super) fn withhold_echoed_keys(
    sent: &mut Result<crate::provider::ChatResponse, crate::provider::AttemptError>,
    secrets: &[&str],
) {
    let holds = |t: &str| secrets.iter().any(|k| k.len() >= 8 && t.contains(k));
    let exchange = match sent {
        Ok(r) if holds(&r.content) || r.tool_calls.iter().any(|c| holds(&c.args)) => {
            Some(&mut r.exchange)
        }
        Err(e) if holds(&e.partial_output) => e.exchange.as_mut(),
        _ => None,
    };
    if let Some(x) = exchange {
        x.body = "[withheld: the reply carried an API key]".into();
    }
}

pub(super) fn redact_error(e: &mut CallError, secrets: &[&str]) {
    e.message = config::redact(&e.message, secrets);
    for field in [&mut e.provider_type, &mut e.request_id] {
        if let Some(v) = field.as_mut() {
            *v = config::redact(v, secrets);
        }
    }
    if let Some(last) = e.last_error.as_mut() {
        redact_error(last, secrets);
    }
    for inner in &mut e.errors {
        redact_error(inner, secrets);
    }
}

pub(super) fn redact_exchange(x: &mut crate::event::HttpExchange, secrets: &[&str]) {
    x.url = config::redact(&x.url, secrets);
    x.body = config::redact(&x.body, secrets);
    for (_, v) in &mut x.headers {
        *v = config::redact(v, secrets);
    }
}
