//! How each event changes the run view: one [`Observer`] method per event kind.

use super::{
    AttemptState, AttemptView, DETAIL_KEPT, Finished, HedgeRow, HedgeWhat, RequestJson, Row,
    RunView, ToolCallView, WaitView,
};
use crate::event::{
    AttemptFailed, AttemptStarted, AttemptSucceeded, BreakerChanged, BreakerTo, BudgetDecided,
    Delta, ErrorReinserted, FallbackHop, HedgeCancelled, HedgeStarted, LimitReached, Observer,
    Outcome, ResultRejected, RetryExhausted, RunFinished, RunStarted, SdkRetry, SharedState,
    StreamResumed, ToolCall, WaitEnd, WaitFinished, WaitStarted,
};
use crate::tui::output_buf::OutputBuf;

impl RunView {
    /// The error texts announced for `(hop, attempt)`. The engine announces a reinsertion
    /// after the previous attempt failed and before this one starts: look back only that far,
    /// so a run of thousands of attempts folds in linear time.
    fn reinserted_for(&self, hop: u32, attempt: u32) -> Vec<String> {
        self.rows
            .iter()
            .rev()
            .take_while(|r| !matches!(r, Row::Attempt(_)))
            .find_map(|r| match r {
                Row::Reinserted {
                    hop: h,
                    attempt: a,
                    errors,
                } if *h == hop && *a == attempt => Some(errors.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// Lets go of the response of the attempt that just fell out of the newest
    /// [`DETAIL_KEPT`].
    fn drop_old_detail(&mut self) {
        if let Some(old) = self
            .attempts
            .len()
            .checked_sub(DETAIL_KEPT + 1)
            .and_then(|i| self.attempts.get_mut(i))
            && old.response.take().is_some()
        {
            old.detail_dropped = true;
        }
    }
}

impl Observer for RunView {
    fn run_started(&mut self, t_ms: u64, e: &RunStarted) {
        *self = RunView {
            scenario: e.scenario.clone(),
            mode: Some(e.mode),
            version: self.version,
            last_t: t_ms,
            ..RunView::default()
        };
    }

    fn attempt_started(&mut self, t_ms: u64, e: &AttemptStarted) {
        let reinserted = self.reinserted_for(e.hop, e.attempt);
        let request = RequestJson::new_like(&e.request, self.attempts.last().map(|a| &a.request));
        self.attempts.push(AttemptView {
            hop: e.hop,
            attempt: e.attempt,
            provider: e.provider.clone(),
            model: e.model.clone(),
            request,
            url: e.url.clone(),
            headers: e.headers.clone(),
            started_t: t_ms,
            ended_t: None,
            state: AttemptState::Running,
            output: OutputBuf::new(),
            tool_calls: Vec::new(),
            error: None,
            will_retry: false,
            latency_ms: None,
            why: String::new(),
            fallback_why: String::new(),
            response: None,
            usage: None,
            cost_usd: None,
            cost_estimated: false,
            reinserted,
            replayed: 0,
            detail_dropped: false,
            deadline_clip: e.deadline_clip.map(|c| (c.from_ms, c.to_ms)),
        });
        self.rows.push(Row::Attempt(self.attempts.len() - 1));
        self.drop_old_detail();
    }

    /// The replayed start of a continued answer: the text before the new deltas.
    fn stream_resumed(&mut self, _t_ms: u64, e: &StreamResumed) {
        if let Some(a) = self.attempt_mut(e.hop, e.attempt) {
            a.output.push(&e.text);
            a.replayed = a.output.len();
        }
    }

    fn delta(&mut self, _t_ms: u64, e: &Delta) {
        if let Some(a) = self.attempt_mut(e.hop, e.attempt) {
            a.output.push(&e.text);
        }
    }

    fn tool_call(&mut self, _t_ms: u64, e: &ToolCall) {
        if let Some(a) = self.attempt_mut(e.hop, e.attempt) {
            a.tool_calls.push(ToolCallView {
                name: e.name.clone(),
                args: e.args.clone(),
                result: e.result.clone(),
            });
        }
    }

    fn attempt_failed(&mut self, t_ms: u64, e: &AttemptFailed) {
        let Some(a) = self.attempt_mut(e.hop, e.attempt) else {
            return;
        };
        a.state = AttemptState::Failed;
        a.cost_usd = e.cost_usd;
        a.cost_estimated = e.cost_estimated;
        a.ended_t = Some(t_ms);
        a.error = Some(Box::new(e.error.clone()));
        a.will_retry = e.will_retry;
        a.latency_ms = Some(e.latency_ms);
        a.why = e.why.clone();
        a.fallback_why = e.fallback_why.clone();
        a.response = e.response.clone().map(Box::new);
        if a.output.is_empty() && !e.partial_output.is_empty() {
            a.output.set(&e.partial_output);
        }
    }

    fn error_reinserted(&mut self, _t_ms: u64, e: &ErrorReinserted) {
        if let Some(a) = self.attempt_mut(e.hop, e.attempt) {
            a.reinserted = e.errors.clone();
        }
        self.rows.push(Row::Reinserted {
            hop: e.hop,
            attempt: e.attempt,
            errors: e.errors.clone(),
        });
    }

    fn wait_started(&mut self, t_ms: u64, e: &WaitStarted) {
        self.waits.push(WaitView {
            hop: e.hop,
            attempt: e.attempt,
            start_t: t_ms,
            delay_ms: e.delay_ms,
            strategy: e.strategy.clone(),
            retry_after_ms: e.retry_after_ms,
            computed_ms: e.computed_ms,
            source: e.source,
            jitter_ms: e.retry_after_jitter_ms,
            finished: false,
            ended: WaitEnd::Elapsed,
            waited_ms: None,
            clipped_from_ms: e.clipped_from_ms,
        });
        self.rows.push(Row::Wait(self.waits.len() - 1));
    }

    fn wait_finished(&mut self, _t_ms: u64, e: &WaitFinished) {
        if let Some(w) = self
            .waits
            .iter_mut()
            .rev()
            .find(|w| w.hop == e.hop && w.attempt == e.attempt)
        {
            w.finished = true;
            w.ended = e.ended;
            w.waited_ms = e.waited_ms;
        }
    }

    fn hedge_started(&mut self, t_ms: u64, e: &HedgeStarted) {
        self.rows.push(Row::Hedge(Box::new(HedgeRow {
            hop: e.hop,
            attempt: e.attempt,
            leg: e.leg,
            t_ms,
            what: HedgeWhat::Started {
                target: format!("{}/{}", e.provider, e.model),
            },
        })));
    }

    fn hedge_cancelled(&mut self, t_ms: u64, e: &HedgeCancelled) {
        self.rows.push(Row::Hedge(Box::new(HedgeRow {
            hop: e.hop,
            attempt: e.attempt,
            leg: e.leg,
            t_ms,
            what: HedgeWhat::Cancelled {
                why: e.why.clone(),
                cost_usd: e.cost_usd,
                cost_estimated: e.cost_estimated,
            },
        })));
    }

    fn sdk_retry(&mut self, t_ms: u64, e: &SdkRetry) {
        self.push_sdk_retry(t_ms, e);
    }

    fn retry_exhausted(&mut self, _t_ms: u64, e: &RetryExhausted) {
        self.rows.push(Row::Exhausted {
            hop: e.hop,
            attempts: e.attempts,
            last_error: Box::new(e.last_error.clone()),
        });
    }

    fn shared_state(&mut self, t_ms: u64, e: &SharedState) {
        self.fold_shared_state(e, t_ms);
    }

    fn breaker_changed(&mut self, t_ms: u64, to: BreakerTo, e: &BreakerChanged) {
        self.fold_breaker(t_ms, to, e);
    }

    fn budget_decided(&mut self, _t_ms: u64, denied: bool, e: &BudgetDecided) {
        self.fold_budget(denied, e);
    }

    fn fallback_hop(&mut self, _t_ms: u64, e: &FallbackHop) {
        self.rows.push(Row::Fallback {
            hop: e.hop,
            from: Box::new(e.from.clone()),
            to: Box::new(e.to.clone()),
            caught: Box::new(e.caught.clone()),
            why: e.why.as_str().into(),
        });
    }

    fn attempt_succeeded(&mut self, t_ms: u64, e: &AttemptSucceeded) {
        let Some(a) = self.attempt_mut(e.hop, e.attempt) else {
            return;
        };
        a.state = AttemptState::Succeeded;
        a.cost_usd = e.cost_usd;
        a.cost_estimated = e.cost_estimated;
        a.ended_t = Some(t_ms);
        a.latency_ms = Some(e.latency_ms);
        a.usage = Some(e.usage);
        a.response = e.response.clone().map(Box::new);
        if a.output.is_empty() {
            a.output.set(&e.content);
        }
    }

    fn result_rejected(&mut self, _t_ms: u64, e: &ResultRejected) {
        self.rows.push(Row::Rejected {
            hop: e.hop,
            attempt: e.attempt,
            result: e.result.as_str().into(),
            why: e.why.as_str().into(),
        });
    }

    fn limit_reached(&mut self, _t_ms: u64, e: &LimitReached) {
        self.rows.push(Row::Limit {
            limit: e.limit.as_str().into(),
            why: e.why.as_str().into(),
        });
    }

    fn run_finished(&mut self, t_ms: u64, e: &RunFinished) {
        for a in &mut self.attempts {
            if a.state == AttemptState::Running {
                a.state = AttemptState::Abandoned;
                a.ended_t = Some(t_ms);
            }
        }
        for w in self.waits.iter_mut().filter(|w| !w.finished) {
            w.finished = true;
            // A trace from before cancelled waits said so: the run's end says how far it got.
            if e.outcome == Outcome::Cancelled {
                w.ended = WaitEnd::Cancelled;
                w.waited_ms = Some(t_ms.saturating_sub(w.start_t).min(w.delay_ms));
            }
        }
        // The attempt that ended the run: the newest, failed.
        let last = self
            .attempts
            .last()
            .filter(|a| a.state == AttemptState::Failed && e.outcome == Outcome::Error);
        let (mut why, mut fallback_why) = last.map_or_else(Default::default, |a| {
            (a.why.clone(), a.fallback_why.clone())
        });
        // A limit ended the run, whatever its last attempt's policy said.
        if let Some(Row::Limit { why: limit_why, .. }) = self
            .rows
            .iter()
            .rev()
            .find(|r| matches!(r, Row::Limit { .. }))
        {
            why = limit_why.to_string();
            fallback_why = String::new();
        }
        self.finished = Some(Finished {
            why,
            fallback_why,
            outcome: e.outcome,
            content: e.content.clone(),
            error: e.error.clone(),
            caught: e.caught.clone(),
            t_ms,
            total_cost_usd: e.total_cost_usd,
            total_cost_estimated: e.total_cost_estimated,
            degraded: e.degraded,
        });
        self.rows.push(Row::Outcome);
    }
}
