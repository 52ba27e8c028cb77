//! The hidden SDK layer (DESIGN §15): the official SDK's own retry loop around the single
//! HTTP exchange of an attempt (or of a hedge leg). On a failure the SDK retries, with
//! retries left, it emits `sdk_retry`, sleeps on the run's clock (dropped with the attempt
//! on a cancel), and sends again with `x-stainless-retry-count: k`. Only the last request's
//! failure is the attempt's. The rules are `policy::stainless`'s; this file only runs them.

use super::prepare::Prepared;
use super::run::Emitter;
use crate::event::{Event, SdkRetry};
use crate::policy::Secs;
use crate::policy::duration::MAX_WAIT;
use crate::policy::stainless::{self, Failed, RETRY_COUNT_HEADER};
use crate::provider::{AttemptError, ChatRequest, ChatResponse, Endpoint, Timeouts};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::SystemTime;

/// Which request group this is: the attempt, and the hedge leg (1 = the attempt's first
/// request) sent to hop `target`'s endpoint under that hop's SDK loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Leg {
    pub(super) hop: u32,
    pub(super) attempt: u32,
    pub(super) leg: u32,
    pub(super) target: usize,
}

impl Leg {
    /// The attempt's own request (no hedge).
    pub(super) fn first(hop: u32, attempt: u32) -> Leg {
        Leg {
            hop,
            attempt,
            leg: 1,
            target: hop as usize,
        }
    }
}

/// The headers the first request of hop `target` shows: the format's, plus the SDK's
/// retry count when its loop is on.
pub(super) fn first_headers(
    prep: &Prepared,
    target: usize,
    mut shown: Vec<(String, String)>,
) -> Vec<(String, String)> {
    if prep.sdk.get(target).is_some_and(Option::is_some) && !shown.is_empty() {
        shown.push((RETRY_COUNT_HEADER.to_string(), "0".to_string()));
    }
    shown
}

/// Sends `request` to `endpoint` under `leg.target`'s SDK loop; `on_delta` gets the text
/// of the request that streams (the SDK retries only before a reply began).
pub(super) async fn send(
    prep: &Prepared,
    endpoint: &Endpoint,
    request: &ChatRequest,
    timeouts: &Timeouts,
    leg: Leg,
    em: &Emitter,
    on_delta: &mut (dyn FnMut(&str) + Send),
) -> Result<ChatResponse, AttemptError> {
    let (limits, clock) = (prep.limits, &em.clock);
    let Some(sdk) = prep.sdk.get(leg.target).copied().flatten() else {
        prep.call_limits.request_sent();
        // A hedge leg starts later than its attempt: clipped to the time left then.
        let (clipped, _) = prep.call_limits.attempt_timeouts(*timeouts, clock.now());
        return prep
            .client
            .send_with(endpoint, request, &clipped, limits, clock, on_delta)
            .await;
    };
    let mut rng = jitter_rng(prep, leg);
    let mut retries: u32 = 0;
    loop {
        prep.call_limits.request_sent();
        let extra = [(RETRY_COUNT_HEADER, retries.to_string())];
        // `[limits].deadline` clips each request's timeout to the time left when it starts.
        let (clipped, _) = prep.call_limits.attempt_timeouts(*timeouts, clock.now());
        let sent = prep
            .client
            .send_with_headers(endpoint, request, &clipped, limits, clock, &extra, on_delta)
            .await;
        let Err(failure) = sent else { return sent };
        // `[limits]` counts the SDK's retries too: none once a limit is reached.
        let spent_usd = prep.total().usd().unwrap_or(0.0);
        if retries >= sdk.max_retries
            || !prep.call_limits.may_send()
            || prep.call_limits.hit(clock.now(), spent_usd).is_some()
        {
            return Err(failure);
        }
        let status = failure.exchange.as_ref().and_then(|x| x.status);
        let no_headers = Vec::new();
        let headers = failure
            .exchange
            .as_ref()
            .map_or(&no_headers, |x| &x.headers);
        let failed = Failed::classify(status, headers, failure.error.kind, request.stream);
        // An HTTP-date Retry-After is measured from the wall clock, as the SDK does.
        let now = SystemTime::now();
        let verdict = stainless::should_retry(sdk.row, &failed, now);
        if !verdict.retry {
            return Err(failure);
        }
        let reply_headers = match failed {
            Failed::Status { headers, .. } => Some(headers),
            Failed::Transport | Failed::Outside => None,
        };
        let delay = stainless::delay(sdk.row, retries, reply_headers, now, &mut rng);
        // The run's clock never sleeps past its longest wait (anthropic 2.x takes up to
        // 4,294,967 s).
        let secs = Secs(delay.secs.min(MAX_WAIT.0));
        // A back-off that would pass `[limits].deadline` leaves no time for the retry.
        let back_off = std::time::Duration::from_millis(secs.as_ms());
        if prep
            .call_limits
            .clip_wait(back_off, clock.now())
            .1
            .is_some()
        {
            return Err(failure);
        }
        retries += 1;
        // Priced like a failed attempt, and added to the run's total here: the attempt's
        // own cost is its last request's.
        let cost = prep.request_cost(
            leg.target,
            request,
            status,
            &failure.error,
            None,
            &failure.partial_output,
        );
        prep.add_cost(cost);
        em.emit(Event::SdkRetry(SdkRetry {
            hop: leg.hop,
            attempt: leg.attempt,
            leg: leg.leg,
            retry: retries,
            error: failure.error,
            delay_ms: secs.as_ms(),
            source: delay.source.as_str().to_string(),
            status,
            sdk: sdk.row.label().to_string(),
            why: format!("{}; delay = {}", verdict.why, delay.text),
            response: failure.exchange,
            cost_usd: cost.map(|c| c.usd),
            cost_estimated: cost.is_some_and(|c| c.estimated),
        }));
        // Whole milliseconds, as the event says, so the run's clock and the event agree.
        clock.sleep(back_off).await;
    }
}

/// The SDK's jitter draws: seeded by the hop's `[retry].seed`, one stream per request
/// group, so hedge legs running side by side draw independently of their order.
fn jitter_rng(prep: &Prepared, leg: Leg) -> ChaCha8Rng {
    let seed = prep
        .policies
        .get(leg.hop as usize)
        .and_then(Option::as_ref)
        .map_or(0, |p| p.seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(
        (u64::from(leg.hop) << 48) | (u64::from(leg.attempt) << 16) | u64::from(leg.leg),
    );
    rng
}
