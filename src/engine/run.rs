//! The engine loop: for each hop (primary, then fallbacks) run attempts, ask the policy what
//! follows each failure, wait on the run's clock, and emit every step as an event.
//! It knows nothing of who listens.

use super::clock::Speed;
use crate::error::CallError;
use crate::event::{Mode, Outcome, TimedEvent};
use crate::policy::Secs;
use crate::policy::retry_on::RetryPolicy;
use crate::scenario::types::Scenario;
use tokio::sync::mpsc::UnboundedSender;

/// Where events go. Send errors (nobody listening) are ignored: the run goes on.
pub type EventSink = UnboundedSender<TimedEvent>;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunOptions {
    pub mode: Mode,
    pub speed: Speed,
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

/// One retry policy per hop (index 0 = primary): a hop's own `retry`, else `[retry]`.
pub fn hop_policies(s: &Scenario) -> Vec<Option<RetryPolicy>> {
    let primary = s.retry.as_ref().map(RetryPolicy::from_spec);
    let mut out = vec![primary.clone()];
    if let Some(fb) = &s.fallback {
        for hop in &fb.hops {
            out.push(
                hop.retry
                    .as_ref()
                    .map(RetryPolicy::from_spec)
                    .or_else(|| primary.clone()),
            );
        }
    }
    out
}
