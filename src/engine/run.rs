//! The engine loop: for each hop (primary, then fallbacks) run attempts, ask the policy what
//! follows each failure, wait on the run's clock, and emit every step as an event.
//! It knows nothing of who listens.

use super::endpoints::{HopTarget, hop_targets, live_endpoints, live_secrets, sim_endpoint};
pub use super::endpoints::{check_live_keys, check_live_keys_with, hop_labels};
pub use super::sink::{EventSink, EventStream, event_channel};
use crate::clock::{Clock, Speed};
use crate::config::{self, Config, LiveTarget};
use crate::cost::{self, FailedAt, PriceTable};
use crate::error::{CallError, ErrorKind};
use crate::event::{
    AttemptFailed, AttemptStarted, AttemptSucceeded, Delta, ErrorReinserted, Event, FallbackHop,
    Mode, Outcome, RetryExhausted, RunFinished, RunStarted, TimedEvent, ToolCall, WaitFinished,
    WaitSource, WaitStarted,
};
use crate::policy::fallback::{FallbackDecision, FallbackPolicy, decide_after_hop};
use crate::policy::retry_on::{Decision, RetryPolicy, decide};
use crate::policy::{ReinsertMode, Secs};
use crate::provider::client::ReplyLimits;
use crate::provider::redact::{Scrub, Secrets, redact_event, redact_failure};
use crate::provider::{ChatRequest, Client, Endpoint, Message, Timeouts, key_env};
use crate::scenario::plan::{fallback_policy, hop_policies};
use crate::scenario::render::render;
use crate::scenario::types::Scenario;
use crate::sim::SimServer;
use crate::tools::Toolbox;
use crate::validate::Validators;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub mode: Mode,
    pub speed: Speed,
    /// Keys and prices: the engine reads no config of its own (the caller loads it once;
    /// tests pass `Config::isolated()`).
    pub config: Arc<Config>,
}

/// How a run ended (the same facts as its `run_finished` event).
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub outcome: Outcome,
    pub content: Option<String>,
    pub error: Option<CallError>,
    pub caught: Vec<CallError>,
}

/// The default whole-attempt timeout when `[call].timeout` is not set.
pub const DEFAULT_TIMEOUT: Secs = Secs(60.0);

/// Stamps events with the run's clock, scrubs every key out of them, and sends them: the
/// one place events leave the engine. Send errors (nobody listening) are ignored: the run
/// goes on.
#[derive(Clone)]
struct Emitter {
    sink: EventSink,
    clock: Clock,
    secrets: Arc<Secrets>,
}

impl Emitter {
    fn emit(&self, mut event: Event) {
        redact_event(&mut event, &self.secrets);
        let _ = self.sink.send(TimedEvent {
            t_ms: self.clock.now_ms(),
            event,
        });
    }
}

/// Everything a run needs, prepared once before the first attempt.
struct Prepared {
    client: Client,
    endpoints: Vec<Endpoint>,
    toolbox: Toolbox,
    validators: Validators,
    timeouts: Timeouts,
    limits: ReplyLimits,
    policies: Vec<Option<RetryPolicy>>,
    fallback: Option<FallbackPolicy>,
    targets: Vec<HopTarget>,
    /// Prices for each attempt's cost (sim mode too: what the run would cost live).
    prices: PriceTable,
    /// The cost of every attempt so far.
    total: std::sync::Mutex<cost::Total>,
    mode: Mode,
    /// Kept alive for the run.
    _sim: Option<SimServer>,
}

impl Prepared {
    fn add_cost(&self, c: Option<cost::Cost>) {
        // Plain data behind the lock; a poisoned lock is still consistent.
        self.total
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .add(c);
    }

    fn total(&self) -> cost::Total {
        *self
            .total
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A failure as the events show it: no key in any part of it (so none is reinserted
    /// into the next request either), and (live) what to fix when the setup is the likely
    /// cause.
    fn polish(&self, hop: usize, mut f: Failure, secrets: &Secrets) -> Failure {
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
    fn failed_cost(&self, hop: usize, req: &ChatRequest, f: &Failure) -> Option<cost::Cost> {
        let status = f.response.as_ref().and_then(|x| x.status);
        let processed = match status {
            Some(s) => (200..300).contains(&s),
            // A timeout after the request went out: the server may have worked on it.
            None => {
                f.error.kind == ErrorKind::Timeout && f.error.timeout.as_deref() != Some("connect")
            }
        };
        let at = if processed {
            FailedAt::Processed {
                usage: f.usage,
                partial_output: &f.partial_output,
            }
        } else {
            FailedAt::Rejected
        };
        cost::failed(&self.prices, &self.targets[hop].model, req, at)
    }
}

/// A hop's end.
enum HopEnd {
    Ok(String),
    Failed(CallError),
    Cancelled,
}

/// Runs the scenario to its end, or until `cancel`; every step goes to `sink`, ending with
/// `run_finished`. In sim mode the simulator is started in-process on loopback.
pub async fn run(
    scenario: Arc<Scenario>,
    opts: RunOptions,
    sink: EventSink,
    cancel: CancellationToken,
) -> RunSummary {
    let clock = match opts.mode {
        Mode::Sim => Clock::virtual_time(opts.speed),
        // Live waits are real: the server asked for them (Retry-After), so no speed
        // compresses them; `opts.speed` applies to sim mode only. (Tests that must skip live
        // waits pass `Clock::real(Speed::Max)` to `run_with_clock`.)
        Mode::Live => Clock::real(Speed::Times(1.0)),
    };
    run_with_clock(scenario, opts.mode, opts.config, clock, sink, cancel).await
}

/// As [`run`], on a given clock (benches and tests share one).
pub async fn run_with_clock(
    scenario: Arc<Scenario>,
    mode: Mode,
    cfg: Arc<Config>,
    clock: Clock,
    sink: EventSink,
    cancel: CancellationToken,
) -> RunSummary {
    // The keys to scrub are known before the first event.
    let secrets = match mode {
        Mode::Live => Secrets::new(live_secrets(&hop_targets(&scenario), &cfg)),
        Mode::Sim => Secrets::default(),
    };
    let em = Emitter {
        sink,
        clock: clock.clone(),
        secrets: Arc::new(secrets),
    };
    em.emit(Event::RunStarted(RunStarted {
        scenario: scenario.name.clone(),
        mode,
        speed: clock.speed().label(),
    }));
    let (mut summary, total) = match prepare(&scenario, mode, &clock, &cfg).await {
        Ok(prep) => {
            let summary = run_hops(&scenario, &prep, &em, &cancel).await;
            (summary, prep.total())
        }
        Err(error) => (
            RunSummary {
                outcome: Outcome::Error,
                content: None,
                error: Some(error),
                caught: Vec::new(),
            },
            cost::Total::default(),
        ),
    };
    // Callers may show the summary too.
    summary.content.scrub(&em.secrets);
    summary.error.scrub(&em.secrets);
    summary.caught.scrub(&em.secrets);
    em.emit(Event::RunFinished(RunFinished {
        outcome: summary.outcome,
        content: summary.content.clone(),
        error: summary.error.clone(),
        caught: summary.caught.clone(),
        total_cost_usd: total.usd(),
        total_cost_estimated: total.estimated(),
    }));
    summary
}

pub(super) fn setup_error(message: String) -> CallError {
    CallError::new(ErrorKind::BadRequest, message)
}

async fn prepare(
    s: &Scenario,
    mode: Mode,
    clock: &Clock,
    cfg: &Config,
) -> Result<Prepared, CallError> {
    let client = Client::new()?;
    let toolbox = Toolbox::compile(&s.tools).map_err(|e| setup_error(format!("tools: {e}")))?;
    let validators =
        Validators::compile(s.response.as_ref().map_or(&[][..], |r| &r.validators[..]))
            .map_err(|e| setup_error(format!("response validators: {e}")))?;
    let targets = hop_targets(s);
    let sim = match mode {
        Mode::Sim => {
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
        Mode::Live => None,
    };
    let endpoints = match &sim {
        Some(sim) => targets.iter().map(|t| sim_endpoint(t, sim)).collect(),
        None => live_endpoints(&targets, cfg)?,
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
        fallback: s.fallback.as_ref().map(fallback_policy),
        targets,
        prices: cfg.prices(),
        total: std::sync::Mutex::new(cost::Total::default()),
        mode,
        _sim: sim,
    })
}

async fn run_hops(
    s: &Scenario,
    prep: &Prepared,
    em: &Emitter,
    cancel: &CancellationToken,
) -> RunSummary {
    let mut caught: Vec<CallError> = Vec::new();
    let mut hop: u32 = 0;
    loop {
        let end = run_hop(s, prep, hop, em, cancel).await;
        let error = match end {
            HopEnd::Ok(content) => {
                return RunSummary {
                    outcome: Outcome::Ok,
                    content: Some(content),
                    error: None,
                    caught,
                };
            }
            HopEnd::Cancelled => {
                return RunSummary {
                    outcome: Outcome::Cancelled,
                    content: None,
                    error: None,
                    caught,
                };
            }
            HopEnd::Failed(e) => e,
        };
        match decide_after_hop(prep.fallback.as_ref(), hop, &error) {
            FallbackDecision::NextHop { hop: next, .. } => {
                caught.push(error.clone());
                let from = prep.targets[hop as usize].target();
                let to = prep.targets[next as usize].target();
                em.emit(Event::FallbackHop(FallbackHop {
                    hop: next,
                    from,
                    to,
                    caught: error,
                }));
                hop = next;
            }
            FallbackDecision::EndWith { .. } => {
                return RunSummary {
                    outcome: Outcome::Error,
                    content: None,
                    error: Some(error),
                    caught,
                };
            }
            FallbackDecision::FallbackError { .. } => {
                caught.push(error);
                return RunSummary {
                    outcome: Outcome::Error,
                    content: None,
                    error: Some(CallError::fallback_error(caught.clone())),
                    caught,
                };
            }
        }
    }
}

/// One attempt's failure, with what the Inspector needs.
struct Failure {
    error: CallError,
    partial_output: String,
    response: Option<crate::event::HttpExchange>,
    /// The reply's usage, when a whole reply came (it then failed tools or validation).
    usage: Option<crate::event::Usage>,
}

async fn run_hop(
    s: &Scenario,
    prep: &Prepared,
    hop: u32,
    em: &Emitter,
    cancel: &CancellationToken,
) -> HopEnd {
    let idx = hop as usize;
    let target = &prep.targets[idx];
    let endpoint = &prep.endpoints[idx];
    let policy = prep.policies[idx].as_ref();
    let mut rng = ChaCha8Rng::seed_from_u64(policy.map_or(0, |p| p.seed));
    // Mirascope's `errors`: texts collected from failed attempts (template mode)...
    let mut errors: Vec<String> = Vec::new();
    // ...or, in reask mode, the conversation that follows the first prompt.
    let mut reask: Vec<Message> = Vec::new();
    let hop_start = em.clock.now();
    let mut attempt: u32 = 1;
    loop {
        // Reask mode keeps the prompt as written; the correction is in the conversation.
        let template_errors = match policy.map(|p| p.reinsert_mode) {
            Some(ReinsertMode::Reask) => &[][..],
            _ => &errors[..],
        };
        // A template that fails to render (say, once errors were reinserted) fails this
        // attempt, as it would inside Mirascope's retried call.
        let built = build_request(s, prep, idx, template_errors, &reask);
        em.emit(Event::AttemptStarted(AttemptStarted {
            hop,
            attempt,
            provider: target.provider.as_str().into(),
            model: target.model.clone(),
            request: built.as_ref().map_or(serde_json::Value::Null, |(r, _)| {
                Client::body(endpoint.kind, r)
            }),
            prompt: built.as_ref().ok().map(|(_, prompt)| prompt.clone()),
        }));
        let started = em.clock.now();
        let result = match &built {
            Ok((request, _)) => tokio::select! {
                biased;
                () = cancel.cancelled() => return HopEnd::Cancelled,
                r = attempt_once(prep, endpoint, request, hop, attempt, em) => r,
            },
            Err(error) => Err(Failure {
                error: error.clone(),
                partial_output: String::new(),
                response: None,
                usage: None,
            }),
        };
        let latency_ms = ms(em.clock.now().saturating_sub(started));
        let failure = match result {
            Ok((content, resp)) => {
                let mut reply = resp.content.clone();
                for c in &resp.tool_calls {
                    reply.push_str(&c.args);
                }
                let cost = built.as_ref().ok().and_then(|(request, _)| {
                    cost::succeeded(&prep.prices, &target.model, request, resp.usage, &reply)
                });
                prep.add_cost(cost);
                em.emit(Event::AttemptSucceeded(AttemptSucceeded {
                    hop,
                    attempt,
                    content: content.clone(),
                    usage: resp.usage,
                    latency_ms,
                    tool_calls: resp.tool_calls,
                    response: Some(resp.exchange),
                    cost_usd: cost.map(|c| c.usd),
                    cost_estimated: cost.is_some_and(|c| c.estimated),
                }));
                return HopEnd::Ok(content);
            }
            Err(f) => prep.polish(idx, f, &em.secrets),
        };
        let cost = built
            .as_ref()
            .ok()
            .and_then(|(request, _)| prep.failed_cost(idx, request, &failure));
        prep.add_cost(cost);
        let Some(policy) = policy else {
            em.emit(Event::AttemptFailed(AttemptFailed {
                hop,
                attempt,
                error: failure.error.clone(),
                partial_output: failure.partial_output,
                will_retry: false,
                latency_ms,
                why: "no [retry] table: a single attempt, the error goes on as is".into(),
                response: failure.response,
                cost_usd: cost.map(|c| c.usd),
                cost_estimated: cost.is_some_and(|c| c.estimated),
            }));
            return HopEnd::Failed(failure.error);
        };
        let elapsed = em.clock.now().saturating_sub(hop_start).as_secs_f64();
        let decision = decide(policy, attempt, elapsed, &failure.error, &mut rng);
        em.emit(Event::AttemptFailed(AttemptFailed {
            hop,
            attempt,
            error: failure.error.clone(),
            partial_output: failure.partial_output.clone(),
            will_retry: matches!(decision, Decision::Retry { .. }),
            latency_ms,
            why: decision.why().to_string(),
            response: failure.response,
            cost_usd: cost.map(|c| c.usd),
            cost_estimated: cost.is_some_and(|c| c.estimated),
        }));
        let (wait, reinsert) = match decision {
            Decision::Reraise { .. } => return HopEnd::Failed(failure.error),
            Decision::Stop { .. } => {
                em.emit(Event::RetryExhausted(RetryExhausted {
                    hop,
                    attempts: attempt,
                    last_error: failure.error.clone(),
                }));
                return HopEnd::Failed(CallError::retry_error(attempt, failure.error));
            }
            Decision::Retry { wait, reinsert, .. } => (wait, reinsert),
        };
        if reinsert {
            // The text as shown, fix hint included (as when the hint was glued in).
            let text = failure.error.shown_message().into_owned();
            match policy.reinsert_mode {
                ReinsertMode::Template => errors.push(text),
                ReinsertMode::Reask => {
                    errors.push(text.clone());
                    reask.push(Message::assistant(failure.partial_output.clone()));
                    reask.push(Message::user(format!(
                        "Your previous answer failed validation: {text}\nPlease answer again, fixing that."
                    )));
                }
            }
            em.emit(Event::ErrorReinserted(ErrorReinserted {
                hop,
                attempt: attempt + 1,
                errors: errors.clone(),
            }));
        }
        let delay = Secs(wait.delay);
        em.emit(Event::WaitStarted(WaitStarted {
            hop,
            attempt,
            delay_ms: delay.as_ms(),
            strategy: policy.strategy(),
            retry_after_ms: wait.retry_after.map(|r| Secs(r).as_ms()),
            computed_ms: Secs(wait.computed).as_ms(),
            source: wait_source(wait.source),
        }));
        tokio::select! {
            biased;
            () = cancel.cancelled() => return HopEnd::Cancelled,
            () = em.clock.sleep(delay.as_duration()) => {}
        }
        em.emit(Event::WaitFinished(WaitFinished { hop, attempt }));
        attempt = attempt.saturating_add(1);
    }
}

/// The attempt's request and its rendered prompt, or why the prompt cannot be rendered.
fn build_request(
    s: &Scenario,
    prep: &Prepared,
    hop: usize,
    template_errors: &[String],
    reask: &[Message],
) -> Result<(ChatRequest, String), CallError> {
    let rendered = render(s, template_errors)
        .map_err(|e| setup_error(format!("the prompt template failed to render: {e}")))?;
    let mut messages = vec![Message::user(rendered.user.clone())];
    messages.extend(reask.iter().cloned());
    let request = ChatRequest {
        model: prep.targets[hop].model.clone(),
        system: rendered.system,
        messages,
        temperature: s.call.temperature,
        max_tokens: s.call.max_tokens,
        stream: s.call.stream,
        tools: prep.toolbox.defs(),
    };
    Ok((request, rendered.user))
}

/// The policy's word for what set a wait, as the event says it.
fn wait_source(s: crate::policy::retry_on::WaitSource) -> WaitSource {
    use crate::policy::retry_on::WaitSource as From;
    match s {
        From::Backoff => WaitSource::Backoff,
        From::RetryAfter => WaitSource::RetryAfter,
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// One HTTP exchange, then tools and validation: the attempt's content, or why it failed.
async fn attempt_once(
    prep: &Prepared,
    endpoint: &Endpoint,
    request: &ChatRequest,
    hop: u32,
    attempt: u32,
    em: &Emitter,
) -> Result<(String, crate::provider::ChatResponse), Failure> {
    // Live, a key a server streams back is scrubbed, even split across deltas.
    let mut scrub = config::StreamRedactor::sharing(em.secrets.clone());
    let delta = |text: String| {
        if !text.is_empty() {
            em.emit(Event::Delta(Delta { hop, attempt, text }));
        }
    };
    let mut on_delta = |text: &str| delta(scrub.push(text));
    let sent = prep
        .client
        .send_with(
            endpoint,
            request,
            &prep.timeouts,
            prep.limits,
            &em.clock,
            &mut on_delta,
        )
        .await;
    // A stream that broke may have broken inside a key: what was held back stays hidden.
    delta(if sent.is_ok() {
        scrub.finish()
    } else {
        scrub.finish_cut()
    });
    let resp = sent.map_err(|e| Failure {
        error: e.error,
        partial_output: e.partial_output,
        response: e.exchange,
        usage: None,
    })?;
    if !resp.tool_calls.is_empty() {
        let mut results = Vec::with_capacity(resp.tool_calls.len());
        for call in &resp.tool_calls {
            match prep.toolbox.call(&call.name, &call.args) {
                Ok(result) => {
                    em.emit(Event::ToolCall(ToolCall {
                        hop,
                        attempt,
                        name: call.name.clone(),
                        args: call.args.clone(),
                        result: result.clone(),
                    }));
                    results.push(result);
                }
                Err(message) => {
                    return Err(Failure {
                        error: CallError::new(
                            ErrorKind::ToolValidation,
                            format!("{}: {message}", call.name),
                        ),
                        partial_output: format!("{}({})", call.name, call.args),
                        response: Some(resp.exchange.clone()),
                        usage: Some(resp.usage),
                    });
                }
            }
        }
        return Ok((results.join("\n"), resp));
    }
    if let Err(message) = prep.validators.check(&resp.content) {
        return Err(Failure {
            error: CallError::new(ErrorKind::Validation, message),
            partial_output: resp.content.clone(),
            response: Some(resp.exchange.clone()),
            usage: Some(resp.usage),
        });
    }
    Ok((resp.content.clone(), resp))
}
