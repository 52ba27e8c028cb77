//! A hop's side of what lasts across calls (`engine::shared`): the breaker asked before each
//! attempt is sent and told how it ended, the budget asked before each retry, and every
//! change emitted as an event. An attempt an open breaker refuses is announced with no
//! request (nothing was sent) and fails with `circuit_open`; it is never retried in its hop,
//! and `[breaker].on_open` says what follows (`policy::breaker::after_open`).

use super::{Follows, Hop, HopEnd, Next};
use crate::engine::shared::{Key, SharedState};
use crate::error::{CallError, ErrorKind};
use crate::event::{AttemptFailed, AttemptStarted, BreakerChanged, BudgetDecided, Event};
use crate::policy::Secs;
use crate::policy::breaker::{Admission, BreakerState, Transition, after_open, counts_as_failure};
use crate::policy::budget::Withdrawal;
use crate::policy::fallback::decide_after_hop;

/// An attempt the breaker let through. Its outcome goes back with [`Hop::settle`]; dropped
/// before that (the run was cancelled or capped mid-attempt), it frees its probe's place.
pub(in crate::engine) struct Ticket<'a> {
    shared: &'a SharedState,
    key: Key,
    probe: bool,
    settled: bool,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.shared.abandon(&self.key, self.probe);
        }
    }
}

impl<'a> Hop<'a> {
    fn key(&self) -> Key {
        let t = &self.prep.targets[self.idx()];
        (t.provider.as_str().to_string(), t.model.clone())
    }

    fn target_text(&self) -> String {
        let (provider, model) = self.key();
        format!("{provider}/{model}")
    }

    /// Before attempt `attempt` is sent: a ticket (`None` without a `[breaker]`), or, when
    /// the breaker is open, the hop's end with the refused attempt's events emitted.
    pub(super) fn admit(&self, attempt: u32) -> Result<Option<Ticket<'a>>, Next> {
        let shared = self.shared;
        let key = self.key();
        let Some((admission, change)) = shared.admit(&key) else {
            return Ok(None);
        };
        if let Some(t) = change {
            self.changed(attempt, t);
        }
        let probe = match admission {
            Admission::Pass => false,
            Admission::Probe => true,
            Admission::Refused { why, left } => return Err(self.refused(attempt, &why, left)),
        };
        Ok(Some(Ticket {
            shared,
            key,
            probe,
            settled: false,
        }))
    }

    /// How the attempt ended goes to its breaker: `failed` is the error's kind, `None` for
    /// a success; `sent` false (the prompt did not render) is no outcome at all.
    pub(super) fn settle(
        &self,
        ticket: Option<Ticket<'_>>,
        attempt: u32,
        sent: bool,
        failed: Option<ErrorKind>,
    ) {
        let Some(mut ticket) = ticket else { return };
        if !sent {
            return; // dropped: its place is freed
        }
        ticket.settled = true;
        let bad = failed.is_some_and(counts_as_failure);
        if let Some(t) = self.shared.record(&ticket.key, bad, ticket.probe) {
            self.changed(attempt, t);
        }
    }

    fn changed(&self, attempt: u32, t: Transition) {
        let (provider, model) = self.key();
        let cooldown_ms = self
            .shared
            .breaker_policy()
            .map(|p| p.cooldown.as_ms())
            .filter(|_| t.to == BreakerState::Open);
        let e = BreakerChanged {
            hop: self.hop,
            attempt,
            provider,
            model,
            why: t.why,
            cooldown_ms,
        };
        self.em.emit(match t.to {
            BreakerState::Open => Event::BreakerOpened(e),
            BreakerState::HalfOpen => Event::BreakerHalfOpen(e),
            BreakerState::Closed => Event::BreakerClosed(e),
        });
    }

    /// The attempt an open breaker refused: announced with no request, failed at once.
    fn refused(&self, attempt: u32, why: &str, left: std::time::Duration) -> Next {
        let (prep, em, hop) = (self.prep, self.em, self.hop);
        let target = self.target_text();
        let (provider, model) = self.key();
        em.emit(Event::AttemptStarted(AttemptStarted {
            hop,
            attempt,
            provider,
            model,
            request: serde_json::Value::Null,
            prompt: None,
            url: String::new(),
            headers: Vec::new(),
            deadline_clip: None,
        }));
        let error = CallError::circuit_open(&target, why);
        let policy = self.shared.breaker_policy();
        let on_open = policy.map(|p| p.on_open).unwrap_or_default();
        let fallback = after_open(on_open, prep.fallback.as_ref(), hop, &error);
        let until = if left.is_zero() {
            String::new()
        } else {
            format!(", half-open in {}", Secs(left.as_secs_f64()).human())
        };
        let why = format!(
            "the breaker of {target} is open ({why}{until}): not sent, and circuit_open is never retried in its hop"
        );
        let fallback_why = if prep.fallback.is_some() {
            fallback.why().to_string()
        } else {
            String::new()
        };
        em.emit(Event::AttemptFailed(AttemptFailed {
            hop,
            attempt,
            error: error.clone(),
            partial_output: String::new(),
            will_retry: false,
            latency_ms: 0,
            why,
            fallback_why,
            response: None,
            cost_usd: None,
            cost_estimated: false,
        }));
        Next::End(HopEnd::Failed { error, fallback })
    }

    /// A retry the policy chose asks the budget (`None`: no `[budget]`).
    pub(super) fn spend(&self) -> Option<Withdrawal> {
        self.shared.withdraw()
    }

    /// The budget denied the retry after `attempt`: the hop ends with `budget_exhausted`
    /// wrapping `last`, and the fallback decides as for any error. Returns the new `why` and
    /// what follows.
    pub(super) fn denied(
        &self,
        attempt: u32,
        tokens: f64,
        why: &str,
        last: &CallError,
    ) -> (String, Follows) {
        let error = CallError::budget_exhausted(attempt, tokens, last.clone());
        let fallback = decide_after_hop(self.prep.fallback.as_ref(), self.hop, &error);
        let why = format!(
            "{why}; but the retry budget holds {tokens:.2} retries (1 needed): budget_exhausted, no retry"
        );
        let follows = Follows::End {
            error,
            exhausted: false,
            fallback,
        };
        (why, follows)
    }

    /// What the budget said, as an event (after `attempt_failed`).
    pub(super) fn spent(&self, attempt: u32, w: Option<Withdrawal>) {
        let (hop, em) = (self.hop, self.em);
        match w {
            Some(Withdrawal::Allowed { left }) => em.emit(Event::BudgetWithdrawn(BudgetDecided {
                hop,
                attempt,
                tokens: left,
            })),
            Some(Withdrawal::Denied { tokens }) => em.emit(Event::BudgetDenied(BudgetDecided {
                hop,
                attempt,
                tokens,
            })),
            None => {}
        }
    }
}
