//! The transport: reqwest clients set up once per flavour (no retries, no redirects, no
//! proxy nor TLS roots for the loopback simulator), the request headers, and the wording
//! of a request that never got a reply.

// `CallError` carries the provider detail by value (DESIGN §4); an attempt fails once, so
// the size of its error costs nothing measurable.
#![allow(clippy::result_large_err)]

use super::stream::{TimeoutKind, fmt_duration, timeout_error};
use crate::error::{CallError, ErrorKind};
use crate::provider::wire::WireFormat;
use crate::provider::{Endpoint, Timeouts};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use std::sync::Mutex;
use std::time::Duration;

/// What a reqwest client is set up for; each is built on first use, so a run against the
/// loopback simulator never loads the system's TLS roots (most of start-up time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Flavor {
    /// Never through a proxy (loopback hosts); else the system proxy applies.
    direct: bool,
    /// Loads the TLS roots: https URLs, and anything through a proxy (which may be https).
    tls: bool,
    connect: Option<Duration>,
}

impl Flavor {
    fn of(url: &reqwest::Url, connect: Option<Duration>) -> Flavor {
        let direct = is_loopback(url);
        Flavor {
            direct,
            tls: !direct || url.scheme() != "http",
            connect,
        }
    }
}

/// The reqwest clients of a [`super::Client`] (shared by its clones).
#[derive(Default)]
pub(super) struct Pools {
    /// One client per flavour used so far (a handful at most).
    built: Mutex<Vec<(Flavor, reqwest::Client)>>,
}

impl Pools {
    /// The client for `url` under a `connect` timeout, built on first use.
    pub(super) fn http_for(
        &self,
        url: &reqwest::Url,
        connect: Option<Duration>,
    ) -> Result<reqwest::Client, CallError> {
        let flavor = Flavor::of(url, connect);
        // Plain data behind the lock; a poisoned lock is still consistent.
        let mut built = self
            .built
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, c)) = built.iter().find(|(f, _)| *f == flavor) {
            return Ok(c.clone());
        }
        let c = build(flavor)?;
        built.push((flavor, c.clone()));
        Ok(c)
    }
}

/// The kernel's `TCP_USER_TIMEOUT` for our sockets: none. reqwest sets 30 s by default,
/// which also caps a connect: a black-holed connect then failed at 30 s whatever
/// `connect_timeout` said. Our own deadlines (`connect_timeout`, and `first_byte`, `idle`,
/// `total` on the run clock) bound every phase instead.
const TCP_USER_TIMEOUT: Option<Duration> = None;

fn build(flavor: Flavor) -> Result<reqwest::Client, CallError> {
    let mut b = reqwest::Client::builder()
        .retry(reqwest::retry::never())
        // An LLM API never needs a redirect; following one would carry the key and the
        // custom headers to the Location (see the 3xx path in `Call::run`).
        .redirect(reqwest::redirect::Policy::none())
        .gzip(true)
        .user_agent(concat!("retrylab/", env!("CARGO_PKG_VERSION")))
        .pool_idle_timeout(Duration::from_secs(60))
        .tcp_user_timeout(TCP_USER_TIMEOUT);
    if flavor.direct {
        b = b.no_proxy();
    }
    if !flavor.tls {
        // Plain http to loopback: no TLS roots to load (an https URL gets the other flavour).
        b = b.tls_certs_only(Vec::new());
    }
    if let Some(d) = flavor.connect {
        b = b.connect_timeout(d);
    }
    b.build().map_err(|e| {
        CallError::new(
            ErrorKind::Connection,
            format!("cannot set up the HTTP client: {}", root_cause(&e)),
        )
    })
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or("");
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The headers of a request: content type and accept, the wire format's own (its version,
/// the key), then the endpoint's custom headers, every value but the fixed ones sensitive.
pub(super) fn request_headers(
    wire: &dyn WireFormat,
    endpoint: &Endpoint,
    stream: bool,
) -> Result<HeaderMap, CallError> {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(
        ACCEPT,
        HeaderValue::from_static(if stream {
            "text/event-stream"
        } else {
            "application/json"
        }),
    );
    wire.headers(endpoint.api_key.as_deref(), &mut h)?;
    for (name, value) in &endpoint.headers {
        // Never quote a header's value: it may be a credential.
        let n = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            CallError::new(
                ErrorKind::BadRequest,
                format!("invalid header name `{name}`"),
            )
        })?;
        let mut v = HeaderValue::from_str(value.trim()).map_err(|_| {
            CallError::new(
                ErrorKind::BadRequest,
                format!("the value of header `{name}` holds characters a header cannot carry"),
            )
        })?;
        v.set_sensitive(true);
        h.insert(n, v);
    }
    Ok(h)
}

/// A request that got no reply. `waited`: real time from the send to the failure (a
/// connect timeout is real time).
pub(super) fn send_error(
    e: &reqwest::Error,
    url: &reqwest::Url,
    timeouts: &Timeouts,
    waited: Duration,
) -> CallError {
    let cause = root_cause(e);
    let host = host_of(url);
    if e.is_builder() {
        CallError::new(
            ErrorKind::BadRequest,
            format!("cannot build the request: {cause}"),
        )
    } else if e.is_connect() && e.is_timeout() {
        connect_timeout(timeouts.connect, waited, &host, &cause)
    } else if e.is_connect() {
        CallError::new(
            ErrorKind::Connection,
            format!("cannot connect to {host}: {cause}"),
        )
    } else if e.is_redirect() {
        // Unreachable with `Policy::none()`; kept so a policy change cannot mislabel it.
        CallError::new(ErrorKind::Redirect, format!("redirect failed: {cause}"))
    } else {
        no_reply(url, &cause)
    }
}

/// `host:port` as error messages name it.
fn host_of(url: &reqwest::Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => url.to_string(),
    }
}

/// The connection broke before any byte of a reply (a reset).
pub(super) fn no_reply(url: &reqwest::Url, cause: &str) -> CallError {
    CallError::new(
        ErrorKind::Connection,
        format!(
            "the connection to {} failed before a reply: {cause}",
            host_of(url)
        ),
    )
}

/// A connect that timed out: ours fired only if its time has come; else the operating
/// system gave up first (the message must not claim a limit that did not fire).
fn connect_timeout(
    limit: Option<Duration>,
    waited: Duration,
    host: &str,
    cause: &str,
) -> CallError {
    let ours = limit.is_some_and(|d| waited + Duration::from_millis(10) >= d);
    if ours {
        timeout_error(
            TimeoutKind::Connect,
            limit,
            &format!("no connection to {host}"),
        )
    } else {
        let mut t = CallError::new(
            ErrorKind::Timeout,
            format!(
                "connect timeout (the operating system's, after {}): no connection to {host}: {cause}",
                fmt_duration(waited)
            ),
        );
        t.timeout = Some(TimeoutKind::Connect.as_str().to_owned());
        t
    }
}

/// The innermost cause of an error chain (hyper's and the OS's words, not reqwest's URL).
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// At most [`super::EXCHANGE_BODY_CAP`] bytes as text, never splitting a character.
pub(super) fn capped_text(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(s) => s.to_owned(),
        // Cut inside a character at the cap: keep the whole ones.
        Err(e) if e.error_len().is_none() => {
            String::from_utf8_lossy(&raw[..e.valid_up_to()]).into_owned()
        }
        Err(_) => String::from_utf8_lossy(raw).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::EXCHANGE_BODY_CAP;
    use super::*;
    use crate::event::HttpExchange;
    use crate::provider::redact::{Secrets, scrub_exchange};
    use crate::provider::wire::format;
    use crate::scenario::types::ProviderKind;
    use reqwest::header::AUTHORIZATION;

    fn ep(kind: ProviderKind) -> Endpoint {
        Endpoint {
            kind,
            base_url: "http://h".into(),
            api_key: Some("sk-test-0123456789".into()),
            headers: vec![],
        }
    }

    fn headers(e: &Endpoint, stream: bool) -> Result<HeaderMap, CallError> {
        request_headers(format(e.kind), e, stream)
    }

    #[test]
    fn headers_carry_the_key_where_each_api_wants_it() {
        let mut e = ep(ProviderKind::Anthropic);
        e.headers = vec![("anthropic-beta".into(), "tools-2024".into())];
        let h = headers(&e, true).unwrap();
        assert_eq!(h["x-api-key"], "sk-test-0123456789");
        assert!(h["x-api-key"].is_sensitive());
        assert_eq!(h["anthropic-version"], "2023-06-01");
        assert_eq!(h["anthropic-beta"], "tools-2024");
        assert_eq!(h[ACCEPT], "text/event-stream");
        assert!(h.get(AUTHORIZATION).is_none());
        let h = headers(&ep(ProviderKind::Openai), false).unwrap();
        assert_eq!(h[AUTHORIZATION], "Bearer sk-test-0123456789");
        assert!(h.get("x-api-key").is_none());
        let h = headers(&ep(ProviderKind::AzureOpenai), false).unwrap();
        assert_eq!(h["api-key"], "sk-test-0123456789");
        assert!(h["api-key"].is_sensitive());
        assert!(h.get(AUTHORIZATION).is_none());
        // A bad header never echoes its value.
        let mut e = ep(ProviderKind::Openai);
        e.headers = vec![("x-secret".into(), "line\nbreak-secret".into())];
        let err = headers(&e, false).unwrap_err();
        assert!(!err.message.contains("secret-"), "{}", err.message);
        assert!(!err.message.contains("break"), "{}", err.message);
    }

    #[test]
    fn plain_http_to_loopback_never_loads_tls_roots() {
        let f = |u: &str| {
            let f = Flavor::of(&reqwest::Url::parse(u).unwrap(), None);
            (f.direct, f.tls)
        };
        // The simulator: no proxy, no TLS roots.
        assert_eq!(f("http://127.0.0.1:8787/v1"), (true, false));
        assert_eq!(f("http://localhost:11434/v1"), (true, false));
        assert_eq!(f("http://[::1]:8080/v1"), (true, false));
        assert_eq!(f("https://localhost:8443/v1"), (true, true));
        // Elsewhere: the system proxy (which may be https), so the roots.
        assert_eq!(f("https://api.openai.com/v1"), (false, true));
        assert_eq!(f("http://10.0.0.5:11434/v1"), (false, true));
        // Built on first use, once per flavour.
        let pools = Pools::default();
        let url = reqwest::Url::parse("http://127.0.0.1:9/v1").unwrap();
        pools.http_for(&url, None).unwrap();
        pools.http_for(&url, None).unwrap();
        pools.http_for(&url, Some(Duration::from_secs(1))).unwrap();
        assert_eq!(pools.built.lock().unwrap().len(), 2);
    }

    #[test]
    fn no_kernel_timeout_undercuts_connect_timeout() {
        // reqwest's default TCP_USER_TIMEOUT (30 s) also capped connects (issue 7 #15).
        assert_eq!(TCP_USER_TIMEOUT, None);
    }

    #[test]
    fn exchange_bodies_are_capped_on_character_boundaries() {
        let mut raw = "a".repeat(EXCHANGE_BODY_CAP - 1).into_bytes();
        raw.extend_from_slice("é".as_bytes());
        raw.truncate(EXCHANGE_BODY_CAP);
        assert_eq!(capped_text(&raw).len(), EXCHANGE_BODY_CAP - 1);
        let mut x = HttpExchange {
            url: "u".into(),
            body: "key=sk-test-0123456789".into(),
            headers: vec![("echo".into(), "sk-test-0123456789".into())],
            status: None,
        };
        scrub_exchange(&mut x, &Secrets::new(["sk-test-0123456789"]), false);
        assert_eq!(x.body, "key=[redacted]");
        assert_eq!(x.headers[0].1, "[redacted]");
    }
}
