//! What lasts across calls (DESIGN §15): the circuit breakers of a scenario's `[breaker]`,
//! one per provider+model, and its `[budget]`. One [`SharedState`] serves every call handed
//! it: a single `run` makes a fresh one (closed, full); the lab makes one per policy and
//! hands it to each of that policy's calls. It keeps time by the clock it was made with (the
//! run's, or the lab's discrete timeline), never the wall. The state machines are the pure
//! `policy::breaker` and `policy::budget`; this is their lock and their clock.

use crate::clock::Clock;
use crate::policy::breaker::{Admission, Breaker, BreakerPolicy, BreakerState, Transition};
use crate::policy::budget::{Budget, Withdrawal};
use crate::scenario::plan::{breaker_policy, budget_policy};
use crate::scenario::types::Scenario;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// A provider+model: `("openai", "gpt-4o-mini")`.
pub type Key = (String, String);

/// The breakers and the budget of one policy, shared by its calls.
pub struct SharedState {
    clock: Clock,
    breaker: Option<BreakerPolicy>,
    breakers: Mutex<BTreeMap<Key, Breaker>>,
    budget: Option<Mutex<Budget>>,
}

/// Plain data behind each lock: a poisoned one is still consistent.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SharedState {
    /// Fresh state for `s`'s `[breaker]` and `[budget]` (each breaker closed, the budget
    /// full), timed by `clock`.
    pub fn new(s: &Scenario, clock: Clock) -> Arc<SharedState> {
        Arc::new(SharedState {
            clock,
            breaker: s.breaker.as_ref().map(breaker_policy),
            breakers: Mutex::new(BTreeMap::new()),
            budget: s
                .budget
                .as_ref()
                .map(|b| Mutex::new(Budget::new(&budget_policy(b)))),
        })
    }

    /// Whether there is anything to share (a `[breaker]` or a `[budget]`).
    pub fn is_active(&self) -> bool {
        self.breaker.is_some() || self.budget.is_some()
    }

    pub fn breaker_policy(&self) -> Option<&BreakerPolicy> {
        self.breaker.as_ref()
    }

    pub fn has_budget(&self) -> bool {
        self.budget.is_some()
    }

    /// The state of `key`'s breaker (closed when it never saw an attempt); `None` without
    /// a `[breaker]`.
    pub fn breaker_state(&self, key: &Key) -> Option<BreakerState> {
        self.breaker.as_ref()?;
        Some(
            lock(&self.breakers)
                .get(key)
                .map_or(BreakerState::Closed, Breaker::state),
        )
    }

    /// May an attempt to `key` go out now? `None` without a `[breaker]` (always).
    pub(super) fn admit(&self, key: &Key) -> Option<(Admission, Option<Transition>)> {
        let policy = self.breaker.as_ref()?;
        let now = self.clock.now();
        let mut map = lock(&self.breakers);
        let b = map
            .entry(key.clone())
            .or_insert_with(|| Breaker::new(policy.clone()));
        Some(b.admit(now))
    }

    /// The outcome of an attempt [`SharedState::admit`] let through.
    pub(super) fn record(&self, key: &Key, failed: bool, probe: bool) -> Option<Transition> {
        let now = self.clock.now();
        lock(&self.breakers)
            .get_mut(key)
            .and_then(|b| b.record(now, failed, probe))
    }

    /// An attempt let through that never ended (cancelled, capped).
    pub(super) fn abandon(&self, key: &Key, probe: bool) {
        if let Some(b) = lock(&self.breakers).get_mut(key) {
            b.abandon(probe);
        }
    }

    /// A call starts: its deposit into the budget; the tokens after it.
    pub(super) fn deposit(&self) -> Option<f64> {
        let now = self.clock.now();
        self.budget.as_ref().map(|b| {
            let mut b = lock(b);
            b.deposit(now);
            b.tokens(now)
        })
    }

    /// A retry asks the budget; `None` without a `[budget]` (always allowed).
    pub(super) fn withdraw(&self) -> Option<Withdrawal> {
        let now = self.clock.now();
        self.budget.as_ref().map(|b| lock(b).withdraw(now))
    }
}
