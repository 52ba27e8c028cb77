//! Hedging (`[hedge]`, DESIGN §15): while an attempt's requests have not answered, another
//! leg starts every `after` (to the same hop's provider+model, or with `to = "next"` the
//! next hop's), up to `max` legs. Each leg runs the SDK layer and counts as a request.
//!
//! The first leg to answer wins; for a stream, the first to deliver text (its first delta
//! decides: the reply is then that leg's, even if it breaks later). The others are dropped
//! at that instant, each with `hedge_cancelled`, so only the winner's text reaches the
//! Output. A leg that fails while another is in flight is given up (`hedge_cancelled`, its
//! `why` says it failed) and does not fail the attempt; when every leg started has failed,
//! the attempt fails with the last one's error and no further leg starts.
//!
//! Cost: the winner's request is priced by the attempt as usual (at its own hop's model); a
//! leg that failed is priced as a failed attempt; a cancelled leg had reached the server,
//! which bills the prompt it read, so it is priced as processed with no output (its input
//! tokens, estimated).
//!
//! Legs run side by side on the run's clock, so a sim run with `[hedge]` runs on the
//! discrete clock (discrete_run.rs), never on the single-sleeper virtual one.

use super::attempt::Failure;
use super::prepare::Prepared;
use super::run::Emitter;
use super::sdk_layer::{self, Leg};
use crate::clock::Deadline;
use crate::cost::{self, FailedAt};
use crate::event::{Event, HedgeCancelled, HedgeStarted};
use crate::provider::{AttemptError, ChatRequest, ChatResponse, Endpoint, Timeouts};
use crate::scenario::sdk::hedge_target;
use crate::scenario::types::Scenario;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

/// A run's hedging, prepared once.
#[derive(Default)]
pub(super) struct Hedging {
    /// `None`: no `[hedge]`, each attempt is one leg.
    spec: Option<Spec>,
    /// The hop whose leg the last attempt reports (its result is priced at that model).
    reported: Mutex<Option<usize>>,
}

struct Spec {
    after: Duration,
    max: u32,
    /// Each hop's hedge target.
    targets: Vec<usize>,
}

impl Hedging {
    pub(super) fn new(s: &Scenario) -> Hedging {
        let spec = s.hedge.as_ref().map(|h| {
            let hops = 1 + s.fallback.as_ref().map_or(0, |f| f.hops.len());
            Spec {
                after: h.after.as_duration(),
                max: h.max,
                targets: (0..hops).map(|hop| hedge_target(s, hop)).collect(),
            }
        });
        Hedging {
            spec,
            reported: Mutex::new(None),
        }
    }

    /// The hop whose model prices the result of hop `hop`'s last attempt: the winning (or
    /// last failing) leg's target; `hop` itself without hedging.
    pub(super) fn priced(&self, hop: usize) -> usize {
        self.reported
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .unwrap_or(hop)
    }

    fn report(&self, target: usize) {
        *self.reported.lock().unwrap_or_else(PoisonError::into_inner) = Some(target);
    }
}

/// The attempt's exchange: one leg without `[hedge]` (exactly the SDK layer), else the race.
pub(super) async fn send(
    prep: &Prepared,
    endpoint: &Endpoint,
    request: &ChatRequest,
    timeouts: &Timeouts,
    (hop, attempt): (u32, u32),
    em: &Emitter,
    on_delta: &mut (dyn FnMut(&str) + Send),
) -> Result<ChatResponse, AttemptError> {
    let first = Leg::first(hop, attempt);
    let Some(spec) = &prep.hedge.spec else {
        return sdk_layer::send(prep, endpoint, request, timeouts, first, em, on_delta).await;
    };
    // Each leg goes to its own hop's endpoint (`endpoint` is the attempt's hop's).
    let target = spec
        .targets
        .get(hop as usize)
        .copied()
        .unwrap_or(first.target);
    let race = Race {
        prep,
        em,
        timeouts: *timeouts,
        hop,
        attempt,
        state: Mutex::new(State {
            winner: None,
            out: on_delta,
            in_flight: Vec::new(),
            started: 0,
        }),
    };
    race.run(spec, request, target).await
}

type LegFuture<'a> = Pin<Box<dyn Future<Output = Result<ChatResponse, AttemptError>> + Send + 'a>>;

/// One attempt's legs in flight.
struct Race<'a> {
    prep: &'a Prepared,
    em: &'a Emitter,
    /// The attempt's timeouts (clipped by `[limits].deadline`), for every leg.
    timeouts: Timeouts,
    hop: u32,
    attempt: u32,
    state: Mutex<State<'a>>,
}

struct State<'a> {
    /// The leg whose text reached the Output first (a stream's winner).
    winner: Option<u32>,
    /// Where the winner's text goes.
    out: &'a mut (dyn FnMut(&str) + Send),
    /// Legs started and not yet ended: (leg, target hop, its request).
    in_flight: Vec<(u32, usize, ChatRequest)>,
    /// The highest leg started.
    started: u32,
}

impl<'a> Race<'a> {
    fn lock(&self) -> MutexGuard<'_, State<'a>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A leg's streamed text: the first leg with text wins, the others are cancelled now.
    fn text(&self, leg: u32, text: &str) {
        if text.is_empty() {
            return;
        }
        let mut s = self.lock();
        match s.winner {
            None => {
                s.winner = Some(leg);
                let losers = take_others(&mut s.in_flight, leg);
                drop(s);
                self.cancel(losers, &format!("leg {leg} delivered text first"));
                (self.lock().out)(text);
            }
            Some(w) if w == leg => (s.out)(text),
            // A loser's text never reaches the Output (it is dropped in this very poll).
            Some(_) => {}
        }
    }

    /// `hedge_cancelled` for each of `legs`, each priced as a request the server read.
    fn cancel(&self, legs: Vec<(u32, usize, ChatRequest)>, why: &str) {
        let prep = self.prep;
        for (leg, target, request) in legs {
            let at = FailedAt::Processed {
                usage: None,
                partial_output: "",
            };
            let cost = cost::failed(&prep.prices, &prep.targets[target].model, &request, at);
            prep.add_cost(cost);
            self.em.emit(Event::HedgeCancelled(HedgeCancelled {
                hop: self.hop,
                attempt: self.attempt,
                leg,
                why: why.to_string(),
                cost_usd: cost.map(|c| c.usd),
                cost_estimated: cost.is_some_and(|c| c.estimated),
            }));
        }
    }

    /// A leg to `target`: `hedge_started` (after the first), then its SDK layer.
    fn start(&self, leg: u32, target: usize, request: &ChatRequest) -> LegFuture<'_> {
        let prep = self.prep;
        let mut request = request.clone();
        request.model.clone_from(&prep.targets[target].model);
        if leg > 1 {
            let t = &prep.targets[target];
            self.em.emit(Event::HedgeStarted(HedgeStarted {
                hop: self.hop,
                attempt: self.attempt,
                leg,
                provider: t.provider.as_str().into(),
                model: t.model.clone(),
            }));
        }
        let mut s = self.lock();
        s.in_flight.push((leg, target, request.clone()));
        s.started = s.started.max(leg);
        drop(s);
        let id = Leg {
            hop: self.hop,
            attempt: self.attempt,
            leg,
            target,
        };
        Box::pin(async move {
            let mut on_delta = |text: &str| self.text(leg, text);
            let endpoint = &prep.endpoints[target];
            sdk_layer::send(
                prep,
                endpoint,
                &request,
                &self.timeouts,
                id,
                self.em,
                &mut on_delta,
            )
            .await
        })
    }

    /// Legs until one wins or all failed.
    async fn run(
        &self,
        spec: &Spec,
        request: &ChatRequest,
        target: usize,
    ) -> Result<ChatResponse, AttemptError> {
        let hop = self.hop as usize;
        let first = self.start(1, hop, request);
        let mut legs: Vec<(u32, usize, LegFuture<'_>)> = vec![(1, hop, first)];
        let mut timer: Option<Deadline> = Some(self.em.clock.deadline(spec.after));
        let mut started: u32 = 1;
        std::future::poll_fn(|cx: &mut Context<'_>| {
            loop {
                // A new leg when the timer fires and no text has come; the new leg and the
                // next timer are polled in the next round.
                let mut again = false;
                if let Some(t) = timer.as_mut()
                    && Pin::new(t).poll(cx).is_ready()
                {
                    timer = None;
                    // `[limits].max_requests` counts hedge legs too: none past it.
                    if started < spec.max
                        && self.lock().winner.is_none()
                        && self.prep.call_limits.may_send()
                        && self
                            .prep
                            .call_limits
                            .hit(self.em.clock.now(), self.prep.total().usd().unwrap_or(0.0))
                            .is_none()
                    {
                        started += 1;
                        legs.push((started, target, self.start(started, target, request)));
                        if started < spec.max {
                            timer = Some(self.em.clock.deadline(spec.after));
                        }
                        again = true;
                    }
                }
                let mut i = 0;
                while i < legs.len() {
                    let (leg, to, fut) = &mut legs[i];
                    let (leg, to) = (*leg, *to);
                    let Poll::Ready(result) = fut.as_mut().poll(cx) else {
                        i += 1;
                        continue;
                    };
                    drop(legs.remove(i));
                    let winner = self.lock().winner;
                    match (result, winner) {
                        // A stream's winner ended (well or not): the attempt's result.
                        (result, Some(w)) if w == leg => return Poll::Ready(self.end(to, result)),
                        // A cancelled leg that ended in this very poll: already given up.
                        (_, Some(_)) => {}
                        (Ok(resp), None) => {
                            self.lock().winner = Some(leg);
                            return Poll::Ready(self.end(to, Ok(resp)));
                        }
                        (Err(e), None) => {
                            if !self.failed(leg, to, &e) {
                                // Every leg started has failed: no further leg starts.
                                return Poll::Ready(self.end(to, Err(e)));
                            }
                        }
                    }
                }
                if let Some(w) = self.lock().winner {
                    // Text came: the others were cancelled; stop polling them.
                    legs.retain(|(leg, _, _)| *leg == w);
                    timer = None;
                }
                if !again {
                    return Poll::Pending;
                }
            }
        })
        .await
    }

    /// A leg failed with no winner yet: given up (and priced) while another is in flight.
    /// Whether another is.
    fn failed(&self, leg: u32, target: usize, e: &AttemptError) -> bool {
        let mut s = self.lock();
        let request = take_leg(&mut s.in_flight, leg);
        let others: Vec<u32> = s.in_flight.iter().map(|l| l.0).collect();
        drop(s);
        if others.is_empty() {
            // The last leg's failure is the attempt's: reported by the attempt itself.
            return false;
        }
        if let Some(request) = request {
            let f = Failure {
                error: e.error.clone(),
                partial_output: e.partial_output.clone(),
                response: e.exchange.clone(),
                usage: None,
            };
            let cost = self.prep.failed_cost(target, &request, &f);
            self.prep.add_cost(cost);
            let list = others
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            self.em.emit(Event::HedgeCancelled(HedgeCancelled {
                hop: self.hop,
                attempt: self.attempt,
                leg,
                why: format!(
                    "failed with {}; leg {list} still in flight",
                    e.error.kind.as_str()
                ),
                cost_usd: cost.map(|c| c.usd),
                cost_estimated: cost.is_some_and(|c| c.estimated),
            }));
        }
        true
    }

    /// The attempt's result from the leg to `target`; the legs still in flight (a non-stream
    /// winner's rivals) are cancelled.
    fn end(
        &self,
        target: usize,
        result: Result<ChatResponse, AttemptError>,
    ) -> Result<ChatResponse, AttemptError> {
        let mut s = self.lock();
        let winner = s.winner;
        let losers = match winner {
            Some(w) => take_others(&mut s.in_flight, w),
            None => std::mem::take(&mut s.in_flight),
        };
        s.in_flight.clear();
        drop(s);
        if let Some(w) = winner {
            self.cancel(losers, &format!("leg {w} answered first"));
        }
        self.prep.hedge.report(target);
        result
    }
}

impl Drop for Race<'_> {
    /// The attempt was dropped with legs in flight (the run was cancelled): say so.
    fn drop(&mut self) {
        let s = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        // A stream's winner cut short (a `[limits]` limit, a cancel) is the attempt's own
        // request, priced and reported there, never a cancelled leg.
        let (legs, winner_target) = match s.winner {
            Some(w) => {
                let target = s.in_flight.iter().find(|l| l.0 == w).map(|l| l.1);
                (take_others(&mut s.in_flight, w), target)
            }
            None => (std::mem::take(&mut s.in_flight), None),
        };
        let hedged = s.started > 1;
        if let Some(target) = winner_target {
            self.prep.hedge.report(target);
        }
        // Without a hedge started, the attempt's cancel says it all.
        if hedged {
            self.cancel(legs, "the attempt ended");
        }
    }
}

/// Removes every leg but `keep` from `legs`, returning them.
fn take_others(
    legs: &mut Vec<(u32, usize, ChatRequest)>,
    keep: u32,
) -> Vec<(u32, usize, ChatRequest)> {
    let (mine, others) = std::mem::take(legs).into_iter().partition(|l| l.0 == keep);
    *legs = mine;
    others
}

fn take_leg(legs: &mut Vec<(u32, usize, ChatRequest)>, leg: u32) -> Option<ChatRequest> {
    let i = legs.iter().position(|l| l.0 == leg)?;
    Some(legs.remove(i).2)
}
