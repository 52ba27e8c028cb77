//! The simulator (DESIGN §6): a loopback HTTP server that speaks the OpenAI chat completions
//! and Anthropic messages wire formats byte for byte and plays a scenario's `[sim]` script.
//!
//! Routes: `POST /v1/chat/completions` (provider `openai`), `POST /compat/v1/chat/completions`
//! (`openai-compatible`), `POST /v1/messages` (`anthropic`), `POST /v1/responses`
//! (`openai-responses`): one file each under `wire/`,
//! served by one generic route. Any API key is accepted.
//!
//! Each request is counted per (provider, model), 1-based. The first `faults` entry that
//! matches it and has uses left replaces the answer; else an `outages` window holding the
//! request's start on the run clock; else an empty `limits` bucket (a 429 until a token
//! frees); else `chaos` may draw a fault; else the request gets `replies[i-1]` (the last
//! repeats), `reply`, or a default sentence. Requests that offer tools get the next scripted
//! `tool_calls` entry instead of text.
//!
//! All delays run on the run [`Clock`]: the first token after `first_token_ms` (or a draw
//! from `latency.first_token`), then one token per `1/tokens_per_second`, and the end of the
//! reply one token-time after the last token (a non-streaming reply arrives at that same
//! moment). On a virtual clock the whole script plays instantly, and a `timeout` or `stall`
//! fault waits until the client's deadline fires.

pub mod latency;
pub mod limits;
pub mod resume;
pub mod script;
mod server;
pub mod tokens;
pub mod wire;

use crate::clock::Clock;
use crate::scenario::types::{FaultKind, ProviderKind, SimSpec};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// What the script decided for one request, as `retrylab sim` logs it.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestLog {
    /// The request's start on the run clock.
    pub at: Duration,
    pub provider: ProviderKind,
    pub model: String,
    /// 1-based per provider+model.
    pub number: u32,
    pub fault: Option<FaultKind>,
    pub source: Option<script::Source>,
    /// The `x-stainless-retry-count` the request carried (an SDK's own retry number).
    pub sdk_retry: Option<u32>,
}

/// Called once per request, from the handler (keep it quick).
pub type Logger = Arc<dyn Fn(&RequestLog) + Send + Sync>;

/// A running simulator; dropping it stops serving (paced and stalled replies give up).
pub struct SimServer {
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl SimServer {
    /// Binds `addr` (port 0 = a free port) and serves in a tokio task.
    pub async fn start(
        addr: SocketAddr,
        spec: SimSpec,
        clock: Clock,
    ) -> std::io::Result<SimServer> {
        SimServer::start_logged(addr, spec, clock, None).await
    }

    /// [`SimServer::start`], telling `log` about every request.
    pub async fn start_logged(
        addr: SocketAddr,
        spec: SimSpec,
        clock: Clock,
        log: Option<Logger>,
    ) -> std::io::Result<SimServer> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(server::Shared::new(spec, clock, log));
        let task = tokio::spawn(server::serve(listener, shared.clone()));
        Ok(SimServer { addr, shared, task })
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL each SDK expects: OpenAI `http://ADDR/v1`, Anthropic `http://ADDR`,
    /// OpenAI-compatible `http://ADDR/compat/v1`.
    pub fn base_url(&self, kind: ProviderKind) -> String {
        base_url(self.addr, kind)
    }

    #[cfg(any(test, feature = "test-util"))]
    /// Requests served so far per (provider, model).
    pub fn request_counts(&self) -> std::collections::BTreeMap<(String, String), u32> {
        self.shared.script().counts().clone()
    }

    /// Requests served so far, over every provider and model.
    pub fn total_requests(&self) -> u32 {
        self.shared.script().counts().values().sum()
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.shared.cancel.cancel();
        self.task.abort();
    }
}

/// The simulator without a socket (the lab): the same script and reply bytes, served to a
/// [`crate::provider::Client::local`] in-process. Many runs may share one (load mode), each
/// with its own clock view; the script's state (counts, buckets, outages) is one.
pub struct LocalSim {
    shared: Arc<server::Shared>,
}

impl LocalSim {
    /// Delays and outages play on `clock` (a view of the lab's timeline).
    pub fn new(spec: SimSpec, clock: Clock) -> LocalSim {
        LocalSim {
            shared: Arc::new(server::Shared::new(spec, clock, None)),
        }
    }

    /// The base URL each hop's endpoint names (its host is never dialled).
    pub fn base_url(kind: ProviderKind) -> String {
        base_url(SocketAddr::from(LOCAL_ADDR), kind)
    }
}

/// The address in-process URLs name (TEST-NET-1, never reached: nothing dials it).
const LOCAL_ADDR: ([u8; 4], u16) = ([192, 0, 2, 1], 80);

impl crate::provider::client::LocalServer for LocalSim {
    fn exchange(
        &self,
        req: crate::provider::client::LocalRequest,
    ) -> futures::future::BoxFuture<'static, Result<crate::provider::client::LocalReply, String>>
    {
        Box::pin(server::serve_local(self.shared.clone(), req))
    }
}

impl Drop for LocalSim {
    fn drop(&mut self) {
        self.shared.cancel.cancel();
    }
}

/// The base URL of `kind` on a simulator at `addr`; an unspecified address (0.0.0.0, ::)
/// becomes loopback, which is where a local client reaches it.
pub fn base_url(addr: SocketAddr, kind: ProviderKind) -> String {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    let path = wire::for_provider(kind).map_or("", |f| f.base_path());
    format!("http://{addr}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_follow_each_sdk() {
        let a: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(
            base_url(a, ProviderKind::Openai),
            "http://127.0.0.1:8080/v1"
        );
        assert_eq!(
            base_url(a, ProviderKind::Anthropic),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            base_url(a, ProviderKind::OpenaiCompatible),
            "http://127.0.0.1:8080/compat/v1"
        );
        let any: SocketAddr = "0.0.0.0:9".parse().unwrap();
        assert_eq!(base_url(any, ProviderKind::Anthropic), "http://127.0.0.1:9");
    }
}
