//! What a run prepares once before its first attempt (client, endpoints, tools, validators,
//! timeouts, policies, the simulator in sim mode), and what it does with each failure: scrub
//! it, add the fix hint (live), price it.

use super::attempt::Failure;
use super::endpoints::{HopTarget, hop_targets, live_endpoints, sim_endpoint};
use super::run::{DEFAULT_TIMEOUT, setup_error};
use crate::clock::Clock;
use crate::config::{self, Config, LiveTarget};
use crate::cost::{self, FailedAt, PriceTable};
use crate::error::{CallError, ErrorKind};
use crate::event::Mode;
use crate::policy::RetryExtras;
use crate::policy::Secs;
use crate::policy::fallback::FallbackPolicy;
use crate::policy::retry_on::RetryPolicy;
use crate::provider::client::ReplyLimits;
use crate::provider::redact::{Secrets, redact_failure};
use crate::provider::{ChatRequest, Client, Endpoint, Timeouts, key_env};
use crate::scenario::plan::{fallback_policy, hop_extras, hop_policies};
use crate::scenario::sdk::{SdkLoop, hop_sdk_loops};
use crate::scenario::types::Scenario;
use crate::sim::{LocalSim, SimServer};
use crate::tools::Toolbox;
use crate::validate::Validators;
use std::sync::Arc;

/// Everything a run needs, prepared once before the first attempt.
pub(super) struct Prepared {
    pub(super) client: Client,
    pub(super) endpoints: Vec<Endpoint>,
    pub(super) toolbox: Toolbox,
    pub(super) validators: Validators,
    pub(super) timeouts: Timeouts,
    pub(super) limits: ReplyLimits,
    pub(super) policies: Vec<Option<RetryPolicy>>,
    /// Each hop's `[retry]` keys beyond Tenacity.
    pub(super) extras: Vec<RetryExtras>,
    pub(super) fallback: Option<FallbackPolicy>,
    pub(super) targets: Vec<HopTarget>,
    /// Prices for each attempt's cost (sim mode too: what the run would cost live).
    pub(super) prices: PriceTable,
    /// The cost of every attempt so far.
    pub(super) total: std::sync::Mutex<cost::Total>,
    pub(super) mode: Mode,
    /// Each hop's SDK retry loop (DESIGN §15), where it makes retries.
    pub(super) sdk: Vec<Option<SdkLoop>>,
    /// `[limits]`: what the call may spend and has spent (requests are counted there).
    pub(super) call_limits: super::limits::CallLimits,
    /// `[fallback].on_result`: the replies rejected without a retry.
    pub(super) on_result: Vec<crate::policy::on_result::ResultKind>,
    /// `[hedge]`: the legs each attempt may send (hedge.rs).
    pub(super) hedge: super::hedge::Hedging,
    /// Kept alive for the run (none on a shared in-process simulator).
    _sim: Option<SimServer>,
}

impl Prepared {
    pub(super) fn add_cost(&self, c: Option<cost::Cost>) {
        // Plain data behind the lock; a poisoned lock is still consistent.
        self.total
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .add(c);
    }

    pub(super) fn total(&self) -> cost::Total {
        *self
            .total
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A failure as the events show it: no key in any part of it (so none is reinserted
    /// into the next request either), and (live) what to fix when the setup is the likely
    /// cause.
    pub(super) fn polish(&self, hop: usize, mut f: Failure, secrets: &Secrets) -> Failure {
        redact_failure(
            &mut f.error,
            &mut f.partial_output,
            &mut f.response,
            secrets,
        );
        if self.mode == Mode::Live {
            let t = &self.targets[hop];
            let e = &self.endpoints[hop];
            let key_var = e
                .api_key
                .as_ref()
                .and_then(|_| key_env(t.provider, t.api_key_env.as_deref()));
            let live = LiveTarget {
                provider: t.provider,
                model: &t.model,
                base_url: &e.base_url,
                key_var: key_var.as_deref(),
            };
            f.error.hint = config::fix_hint(&f.error, &live);
        }
        f
    }

    /// What a failed attempt cost: nothing when the server refused it or was never
    /// reached; else its usage, or an estimate.
    pub(super) fn failed_cost(
        &self,
        hop: usize,
        req: &ChatRequest,
        f: &Failure,
    ) -> Option<cost::Cost> {
        let status = f.response.as_ref().and_then(|x| x.status);
        self.request_cost(hop, req, status, &f.error, f.usage, &f.partial_output)
    }

    /// What one failed request to hop `hop` cost (an attempt's, or one the SDK retried):
    /// priced alike, so an SDK retry costs what the same failed attempt would.
    pub(super) fn request_cost(
        &self,
        hop: usize,
        req: &ChatRequest,
        status: Option<u16>,
        error: &CallError,
        usage: Option<crate::event::Usage>,
        partial_output: &str,
    ) -> Option<cost::Cost> {
        let at = if processed_by(status, error) {
            FailedAt::Processed {
                usage,
                partial_output,
            }
        } else {
            FailedAt::Rejected
        };
        cost::failed(&self.prices, &self.targets[hop].model, req, at)
    }
}

/// Whether the server may have worked on a failed attempt (and bills it): a 2xx reply, or
/// a timeout after the request went out.
pub(super) fn processed(f: &Failure) -> bool {
    processed_by(f.response.as_ref().and_then(|x| x.status), &f.error)
}

/// Whether the server worked on a request that failed with `error` (HTTP `status`): a 2xx
/// that failed later, or a timeout after the request went out.
fn processed_by(status: Option<u16>, error: &CallError) -> bool {
    match status {
        Some(s) => (200..300).contains(&s),
        None => error.kind == ErrorKind::Timeout && error.timeout.as_deref() != Some("connect"),
    }
}

pub(super) async fn prepare(
    s: &Scenario,
    mode: Mode,
    clock: &Clock,
    cfg: &Config,
    local: Option<&Arc<LocalSim>>,
) -> Result<Prepared, CallError> {
    let client = match local {
        Some(sim) => Client::local(sim.clone()),
        None => Client::new()?,
    };
    let toolbox = Toolbox::compile(&s.tools).map_err(|e| setup_error(format!("tools: {e}")))?;
    let validators =
        Validators::compile(s.response.as_ref().map_or(&[][..], |r| &r.validators[..]))
            .map_err(|e| setup_error(format!("response validators: {e}")))?;
    let targets = hop_targets(s);
    let sim = match mode {
        Mode::Sim if local.is_none() => {
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
            Some(
                SimServer::start(addr, s.sim.clone(), clock.clone())
                    .await
                    .map_err(|e| {
                        CallError::new(
                            ErrorKind::Connection,
                            format!("could not start the simulator: {e}"),
                        )
                    })?,
            )
        }
        Mode::Sim | Mode::Live => None,
    };
    let endpoints = match (&sim, mode) {
        (Some(sim), _) => targets
            .iter()
            .map(|t| sim_endpoint(t, sim.base_url(t.provider)))
            .collect(),
        (None, Mode::Sim) => targets
            .iter()
            .map(|t| sim_endpoint(t, LocalSim::base_url(t.provider)))
            .collect(),
        (None, Mode::Live) => live_endpoints(&targets, cfg)?,
    };
    let secs = |v: Option<Secs>| v.map(Secs::as_duration);
    let timeouts = Timeouts {
        connect: secs(s.call.connect_timeout),
        first_byte: secs(s.call.first_byte_timeout),
        idle: secs(s.call.idle_timeout),
        total: Some(s.call.timeout.unwrap_or(DEFAULT_TIMEOUT).as_duration()),
    };
    let limits = s
        .call
        .max_answer_bytes
        .map_or_else(ReplyLimits::default, |n| {
            ReplyLimits::with_answer(usize::try_from(n).unwrap_or(usize::MAX))
        });
    Ok(Prepared {
        client,
        endpoints,
        toolbox,
        validators,
        timeouts,
        limits,
        policies: hop_policies(s),
        extras: hop_extras(s),
        fallback: s.fallback.as_ref().map(fallback_policy),
        targets,
        prices: cfg.prices(),
        total: std::sync::Mutex::new(cost::Total::default()),
        mode,
        sdk: hop_sdk_loops(s),
        call_limits: super::limits::CallLimits::new(s, clock.now()),
        on_result: super::results::on_result_of(s),
        hedge: super::hedge::Hedging::new(s),
        _sim: sim,
    })
}
