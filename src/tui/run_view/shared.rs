//! What lasts across calls, as the run view sees it (`[breaker]`, `[budget]`): each
//! breaker's state and the budget's tokens, folded from `shared_state`, `breaker_*` and
//! `budget_*` events alone, and the timeline rows of a breaker's change and a denied retry.

use super::{Row, RunView};
use crate::event::{BreakerChanged, BreakerTo, BudgetDecided, SharedState};

/// One provider+model's breaker.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerView {
    pub provider: String,
    pub model: String,
    pub state: BreakerTo,
    /// When it went to this state (run clock), and (open) for how long.
    pub since_t: u64,
    pub cooldown_ms: Option<u64>,
}

/// The state panel's facts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SharedView {
    pub breakers: Vec<BreakerView>,
    /// Retries the budget holds (`None`: no `[budget]`).
    pub budget: Option<f64>,
}

impl SharedView {
    /// One short line for the Timeline's bottom edge: `openai open 6.2 s · anthropic closed ·
    /// budget 3.20`, at most `width` columns when it can: closed breakers are left out first
    /// (what is not closed is what matters). `now_t` is the run clock, for an open breaker's
    /// time left.
    pub fn line(&self, now_t: u64, width: usize) -> String {
        let full = self.parts(now_t, true).join(" · ");
        if full.chars().count() <= width {
            return full;
        }
        self.parts(now_t, false).join(" · ")
    }

    fn parts(&self, now_t: u64, closed: bool) -> Vec<String> {
        let mut parts: Vec<String> = self
            .breakers
            .iter()
            .filter(|b| closed || b.state != BreakerTo::Closed)
            .map(|b| match (b.state, b.cooldown_ms) {
                (BreakerTo::Open, Some(c)) => {
                    let left = b.since_t.saturating_add(c).saturating_sub(now_t);
                    format!("{} open {:.1} s", b.provider, left as f64 / 1000.0)
                }
                (state, _) => format!("{} {}", b.provider, state.label()),
            })
            .collect();
        if let Some(t) = self.budget {
            parts.push(format!("budget {t:.2}"));
        }
        parts
    }
}

/// A timeline row of what lasts across calls.
#[derive(Debug, Clone, PartialEq)]
pub struct AcrossRow {
    pub hop: u32,
    pub attempt: u32,
    /// `None`: a retry the budget denied.
    pub breaker: Option<BreakerTo>,
    /// The row's words (`crate::words`).
    pub text: String,
    pub why: String,
}

impl RunView {
    pub(super) fn fold_shared_state(&mut self, e: &SharedState, t_ms: u64) {
        let breakers = e
            .breakers
            .iter()
            .map(|b| BreakerView {
                provider: b.provider.clone(),
                model: b.model.clone(),
                state: match b.state.as_str() {
                    "open" => BreakerTo::Open,
                    "half_open" => BreakerTo::HalfOpen,
                    _ => BreakerTo::Closed,
                },
                since_t: t_ms,
                // Opened before this call: how long is unknown here.
                cooldown_ms: None,
            })
            .collect();
        self.shared = Some(SharedView {
            breakers,
            budget: e.budget_tokens,
        });
    }

    pub(super) fn fold_breaker(&mut self, t_ms: u64, to: BreakerTo, e: &BreakerChanged) {
        let view = self.shared.get_or_insert_with(SharedView::default);
        let b = BreakerView {
            provider: e.provider.clone(),
            model: e.model.clone(),
            state: to,
            since_t: t_ms,
            cooldown_ms: e.cooldown_ms,
        };
        match view
            .breakers
            .iter_mut()
            .find(|x| x.provider == e.provider && x.model == e.model)
        {
            Some(x) => *x = b,
            None => view.breakers.push(b),
        }
        self.rows.push(Row::Across(Box::new(AcrossRow {
            hop: e.hop,
            attempt: e.attempt,
            breaker: Some(to),
            text: crate::words::breaker_changed(to, e),
            why: e.why.clone(),
        })));
    }

    pub(super) fn fold_budget(&mut self, denied: bool, e: &BudgetDecided) {
        self.shared.get_or_insert_with(SharedView::default).budget = Some(e.tokens);
        if denied {
            self.rows.push(Row::Across(Box::new(AcrossRow {
                hop: e.hop,
                attempt: e.attempt,
                breaker: None,
                text: crate::words::budget_decided(true, e.tokens),
                why: crate::words::BUDGET_EXHAUSTED.into(),
            })));
        }
    }
}
