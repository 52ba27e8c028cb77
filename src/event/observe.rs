//! One way to consume events: implement [`Observer`] (a method per event kind, each a no-op
//! unless overridden) and feed it with [`dispatch`], the one `match` over [`Event`].
//! The printer, the TUI's run view and the test transcripts are observers.

use super::kinds::{
    AttemptFailed, AttemptStarted, AttemptSucceeded, BreakerChanged, BudgetDecided, Delta,
    ErrorReinserted, FallbackHop, HedgeCancelled, HedgeStarted, LimitReached, ResultRejected,
    RetryExhausted, RunFinished, RunStarted, SdkRetry, SharedState, StreamResumed, ToolCall,
    WaitFinished, WaitStarted,
};
use super::{Event, TimedEvent};

/// Reacts to events; `t_ms` is the event's time on the run's clock.
pub trait Observer {
    /// Called first for every event, before its own method: for what all events share.
    fn any_event(&mut self, _t_ms: u64, _event: &Event) {}
    fn run_started(&mut self, _t_ms: u64, _e: &RunStarted) {}
    fn attempt_started(&mut self, _t_ms: u64, _e: &AttemptStarted) {}
    fn delta(&mut self, _t_ms: u64, _e: &Delta) {}
    fn tool_call(&mut self, _t_ms: u64, _e: &ToolCall) {}
    fn attempt_failed(&mut self, _t_ms: u64, _e: &AttemptFailed) {}
    fn error_reinserted(&mut self, _t_ms: u64, _e: &ErrorReinserted) {}
    fn wait_started(&mut self, _t_ms: u64, _e: &WaitStarted) {}
    fn wait_finished(&mut self, _t_ms: u64, _e: &WaitFinished) {}
    fn retry_exhausted(&mut self, _t_ms: u64, _e: &RetryExhausted) {}
    fn fallback_hop(&mut self, _t_ms: u64, _e: &FallbackHop) {}
    fn attempt_succeeded(&mut self, _t_ms: u64, _e: &AttemptSucceeded) {}
    fn run_finished(&mut self, _t_ms: u64, _e: &RunFinished) {}
    fn sdk_retry(&mut self, _t_ms: u64, _e: &SdkRetry) {}
    fn hedge_started(&mut self, _t_ms: u64, _e: &HedgeStarted) {}
    fn hedge_cancelled(&mut self, _t_ms: u64, _e: &HedgeCancelled) {}
    fn shared_state(&mut self, _t_ms: u64, _e: &SharedState) {}
    /// `breaker_opened` / `_half_open` / `_closed`, with the state it went to.
    fn breaker_changed(&mut self, _t_ms: u64, _to: BreakerTo, _e: &BreakerChanged) {}
    /// `budget_withdrawn` (`denied` false) / `budget_denied`.
    fn budget_decided(&mut self, _t_ms: u64, _denied: bool, _e: &BudgetDecided) {}
    fn limit_reached(&mut self, _t_ms: u64, _e: &LimitReached) {}
    fn result_rejected(&mut self, _t_ms: u64, _e: &ResultRejected) {}
    fn stream_resumed(&mut self, _t_ms: u64, _e: &StreamResumed) {}
}

/// The state a `breaker_*` event says its breaker went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerTo {
    Open,
    HalfOpen,
    Closed,
}

impl BreakerTo {
    /// `open`, `half-open`, `closed`: as people read it.
    pub fn label(self) -> &'static str {
        match self {
            BreakerTo::Open => "open",
            BreakerTo::HalfOpen => "half-open",
            BreakerTo::Closed => "closed",
        }
    }
}

/// Hands `ev` to `o`: [`Observer::any_event`], then the method of its kind.
pub fn dispatch<O: Observer + ?Sized>(o: &mut O, ev: &TimedEvent) {
    let t = ev.t_ms;
    o.any_event(t, &ev.event);
    match &ev.event {
        Event::RunStarted(e) => o.run_started(t, e),
        Event::AttemptStarted(e) => o.attempt_started(t, e),
        Event::Delta(e) => o.delta(t, e),
        Event::ToolCall(e) => o.tool_call(t, e),
        Event::AttemptFailed(e) => o.attempt_failed(t, e),
        Event::ErrorReinserted(e) => o.error_reinserted(t, e),
        Event::WaitStarted(e) => o.wait_started(t, e),
        Event::WaitFinished(e) => o.wait_finished(t, e),
        Event::RetryExhausted(e) => o.retry_exhausted(t, e),
        Event::FallbackHop(e) => o.fallback_hop(t, e),
        Event::AttemptSucceeded(e) => o.attempt_succeeded(t, e),
        Event::RunFinished(e) => o.run_finished(t, e),
        Event::SdkRetry(e) => o.sdk_retry(t, e),
        Event::HedgeStarted(e) => o.hedge_started(t, e),
        Event::HedgeCancelled(e) => o.hedge_cancelled(t, e),
        Event::SharedState(e) => o.shared_state(t, e),
        Event::BreakerOpened(e) => o.breaker_changed(t, BreakerTo::Open, e),
        Event::BreakerHalfOpen(e) => o.breaker_changed(t, BreakerTo::HalfOpen, e),
        Event::BreakerClosed(e) => o.breaker_changed(t, BreakerTo::Closed, e),
        Event::BudgetWithdrawn(e) => o.budget_decided(t, false, e),
        Event::BudgetDenied(e) => o.budget_decided(t, true, e),
        Event::LimitReached(e) => o.limit_reached(t, e),
        Event::ResultRejected(e) => o.result_rejected(t, e),
        Event::StreamResumed(e) => o.stream_resumed(t, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts what reached it.
    #[derive(Default)]
    struct Names(Vec<&'static str>, usize);

    impl Observer for Names {
        fn any_event(&mut self, _t_ms: u64, _event: &Event) {
            self.1 += 1;
        }
        fn wait_finished(&mut self, _t_ms: u64, _e: &WaitFinished) {
            self.0.push("wait_finished");
        }
        fn delta(&mut self, _t_ms: u64, _e: &Delta) {
            self.0.push("delta");
        }
    }

    #[test]
    fn each_event_reaches_its_own_method_after_any_event() {
        let mut o = Names::default();
        let evs = [
            Event::WaitFinished(WaitFinished::elapsed(0, 1)),
            Event::Delta(Delta {
                hop: 0,
                attempt: 1,
                text: "x".into(),
            }),
            Event::RunStarted(RunStarted {
                scenario: "s".into(),
                mode: super::super::Mode::Sim,
                speed: "1x".into(),
            }),
        ];
        for event in evs {
            dispatch(&mut o, &TimedEvent { t_ms: 0, event });
        }
        assert_eq!(o.0, vec!["wait_finished", "delta"]);
        assert_eq!(o.1, 3);
    }
}
