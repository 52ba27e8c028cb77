//! The transcript of a run, one line per event (consecutive deltas of an attempt joined),
//! written by one [`Observer`] in two flavours:
//! - sim ([`sim`]): each line starts with its `t_ms` (virtual, so deterministic), and
//!   `run_finished` lists the caught kinds;
//! - live ([`live`]): no times (live `t_ms` is wall time), but costs, usage and which
//!   timeout fired.

use retrylab::event::{
    AttemptFailed, AttemptStarted, AttemptSucceeded, BreakerChanged, BreakerTo, BudgetDecided,
    Delta, ErrorReinserted, Event, FallbackHop, HedgeCancelled, HedgeStarted, LimitReached,
    Observer, ResultRejected, RetryExhausted, RunFinished, RunStarted, SdkRetry, SharedState,
    StreamResumed, TimedEvent, ToolCall, WaitFinished, WaitStarted, dispatch,
};

/// The sim flavour of [`Transcript`].
pub fn sim(events: &[TimedEvent]) -> Vec<String> {
    Transcript::new(false).of(events)
}

/// The live flavour of [`Transcript`].
pub fn live(events: &[TimedEvent]) -> Vec<String> {
    Transcript::new(true).of(events)
}

/// Deltas of one attempt, joined until another event comes.
struct Run {
    hop: u32,
    attempt: u32,
    first_t: u64,
    last_t: u64,
    n: usize,
    text: String,
}

pub struct Transcript {
    live: bool,
    lines: Vec<String>,
    open: Option<Run>,
}

fn cost(usd: Option<f64>, estimated: bool) -> String {
    match usd {
        Some(c) => format!(" {}${c}", if estimated { "~" } else { "" }),
        None => String::new(),
    }
}

impl Transcript {
    fn new(live: bool) -> Self {
        Transcript {
            live,
            lines: Vec::new(),
            open: None,
        }
    }

    fn of(mut self, events: &[TimedEvent]) -> Vec<String> {
        for ev in events {
            dispatch(&mut self, ev);
        }
        self.close();
        self.lines
    }

    /// A line, after its time in the sim flavour.
    fn line(&mut self, t_ms: u64, text: String) {
        self.lines.push(if self.live {
            text
        } else {
            format!("{t_ms} {text}")
        });
    }

    fn close(&mut self) {
        if let Some(r) = self.open.take() {
            let (h, a, n, text) = (r.hop, r.attempt, r.n, r.text);
            let body = format!("delta {h}/{a} x{n} {text:?}");
            self.lines.push(if self.live {
                body
            } else {
                format!("{}..{} {body}", r.first_t, r.last_t)
            });
        }
    }
}

impl Observer for Transcript {
    fn any_event(&mut self, _t_ms: u64, event: &Event) {
        let same_run = match (event, &self.open) {
            (Event::Delta(d), Some(r)) => (d.hop, d.attempt) == (r.hop, r.attempt),
            _ => false,
        };
        if !same_run {
            self.close();
        }
    }

    fn run_started(&mut self, t: u64, e: &RunStarted) {
        self.line(t, format!("run_started {:?}", e.mode));
    }

    fn attempt_started(&mut self, t: u64, e: &AttemptStarted) {
        let (hop, attempt, provider, model) = (e.hop, e.attempt, &e.provider, &e.model);
        let clip = e
            .deadline_clip
            .map(|c| format!(" timeout {}->{}ms", c.from_ms, c.to_ms))
            .unwrap_or_default();
        self.line(
            t,
            format!("attempt_started {hop}/{attempt} {provider}/{model}{clip}"),
        );
    }

    fn delta(&mut self, t: u64, e: &Delta) {
        let r = self.open.get_or_insert_with(|| Run {
            hop: e.hop,
            attempt: e.attempt,
            first_t: t,
            last_t: t,
            n: 0,
            text: String::new(),
        });
        r.text.push_str(&e.text);
        r.n += 1;
        r.last_t = t;
    }

    fn tool_call(&mut self, t: u64, e: &ToolCall) {
        let (hop, attempt, name, args, result) = (e.hop, e.attempt, &e.name, &e.args, &e.result);
        self.line(
            t,
            format!("tool_call {hop}/{attempt} {name} {args} -> {result}"),
        );
    }

    fn attempt_failed(&mut self, t: u64, e: &AttemptFailed) {
        let status = e.error.status.map(|s| format!("({s})")).unwrap_or_default();
        let timeout = match (&e.error.timeout, self.live) {
            (Some(t), true) => format!(" timeout={t}"),
            _ => String::new(),
        };
        let partial = if e.partial_output.is_empty() {
            String::new()
        } else {
            format!(" partial={:?}", e.partial_output)
        };
        let cost = if self.live {
            cost(e.cost_usd, e.cost_estimated)
        } else {
            String::new()
        };
        let (hop, attempt, kind, retry) = (e.hop, e.attempt, e.error.kind, e.will_retry);
        self.line(
            t,
            format!("attempt_failed {hop}/{attempt} {kind}{status}{timeout} retry={retry}{partial}{cost}"),
        );
    }

    fn error_reinserted(&mut self, t: u64, e: &ErrorReinserted) {
        let (hop, attempt, n) = (e.hop, e.attempt, e.errors.len());
        self.line(t, format!("error_reinserted {hop}/{attempt} n={n}"));
    }

    fn wait_started(&mut self, t: u64, e: &WaitStarted) {
        let (hop, attempt, delay_ms, source) = (e.hop, e.attempt, e.delay_ms, e.source);
        let clip = e
            .clipped_from_ms
            .map(|from| format!(" clipped from {from}ms"))
            .unwrap_or_default();
        let jitter = e
            .retry_after_jitter_ms
            .map(|j| format!(" jitter={j}ms"))
            .unwrap_or_default();
        self.line(
            t,
            format!("wait_started {hop}/{attempt} {delay_ms}ms {source}{clip}{jitter}"),
        );
    }

    fn wait_finished(&mut self, t: u64, e: &WaitFinished) {
        let cut = match e.waited_ms {
            Some(w) => format!(" {:?} after {w}ms", e.ended),
            None => String::new(),
        };
        self.line(t, format!("wait_finished {}/{}{cut}", e.hop, e.attempt));
    }

    fn sdk_retry(&mut self, t: u64, e: &SdkRetry) {
        let status = e.status.map(|s| format!("({s})")).unwrap_or_default();
        let leg = if e.leg == 1 {
            String::new()
        } else {
            format!(" leg={}", e.leg)
        };
        self.line(
            t,
            format!(
                "sdk_retry {}/{}{leg} #{} {}{status} {}ms {}",
                e.hop, e.attempt, e.retry, e.error.kind, e.delay_ms, e.source
            ),
        );
    }

    fn hedge_started(&mut self, t: u64, e: &HedgeStarted) {
        let (hop, attempt, leg) = (e.hop, e.attempt, e.leg);
        self.line(
            t,
            format!(
                "hedge_started {hop}/{attempt} leg={leg} {}/{}",
                e.provider, e.model
            ),
        );
    }

    fn hedge_cancelled(&mut self, t: u64, e: &HedgeCancelled) {
        let (hop, attempt, leg) = (e.hop, e.attempt, e.leg);
        self.line(
            t,
            format!("hedge_cancelled {hop}/{attempt} leg={leg}: {}", e.why),
        );
    }

    fn retry_exhausted(&mut self, t: u64, e: &RetryExhausted) {
        let (hop, attempts, kind) = (e.hop, e.attempts, e.last_error.kind);
        self.line(t, format!("retry_exhausted {hop} after {attempts} {kind}"));
    }

    fn shared_state(&mut self, t: u64, e: &SharedState) {
        let breakers: Vec<String> = e
            .breakers
            .iter()
            .map(|b| format!("{}/{} {}", b.provider, b.model, b.state))
            .collect();
        let budget = e
            .budget_tokens
            .map(|b| format!(" budget={b:.2}"))
            .unwrap_or_default();
        self.line(t, format!("shared_state [{}]{budget}", breakers.join(", ")));
    }

    fn breaker_changed(&mut self, t: u64, to: BreakerTo, e: &BreakerChanged) {
        let (hop, attempt, provider, model, why) =
            (e.hop, e.attempt, &e.provider, &e.model, &e.why);
        let name = match to {
            BreakerTo::Open => "breaker_opened",
            BreakerTo::HalfOpen => "breaker_half_open",
            BreakerTo::Closed => "breaker_closed",
        };
        self.line(
            t,
            format!("{name} {hop}/{attempt} {provider}/{model}: {why}"),
        );
    }

    fn budget_decided(&mut self, t: u64, denied: bool, e: &BudgetDecided) {
        let name = if denied {
            "budget_denied"
        } else {
            "budget_withdrawn"
        };
        self.line(
            t,
            format!("{name} {}/{} tokens={:.2}", e.hop, e.attempt, e.tokens),
        );
    }

    fn fallback_hop(&mut self, t: u64, e: &FallbackHop) {
        let (from, to) = (&e.from, &e.to);
        self.line(
            t,
            format!(
                "fallback_hop {} {}/{} -> {}/{} caught {}",
                e.hop, from.provider, from.model, to.provider, to.model, e.caught.kind
            ),
        );
    }

    fn attempt_succeeded(&mut self, t: u64, e: &AttemptSucceeded) {
        let (hop, attempt, content) = (e.hop, e.attempt, &e.content);
        let usage = if self.live {
            format!(
                " {}+{}{}",
                e.usage.input_tokens,
                e.usage.output_tokens,
                cost(e.cost_usd, e.cost_estimated)
            )
        } else {
            String::new()
        };
        self.line(
            t,
            format!("attempt_succeeded {hop}/{attempt} {content:?}{usage}"),
        );
    }

    fn limit_reached(&mut self, t: u64, e: &LimitReached) {
        let at = match (e.hop, e.attempt) {
            (Some(h), Some(a)) => format!(" after {h}/{a}"),
            _ => String::new(),
        };
        self.line(
            t,
            format!(
                "limit_reached {} {} spent {}{at} {}",
                e.limit, e.value, e.spent, e.on_exhausted
            ),
        );
    }

    fn result_rejected(&mut self, t: u64, e: &ResultRejected) {
        self.line(
            t,
            format!("result_rejected {}/{} {}", e.hop, e.attempt, e.result),
        );
    }

    fn stream_resumed(&mut self, t: u64, e: &StreamResumed) {
        let (hop, attempt, n, text) = (e.hop, e.attempt, e.replayed_chars, &e.text);
        self.line(
            t,
            format!("stream_resumed {hop}/{attempt} replayed={n} {text:?}"),
        );
    }

    fn run_finished(&mut self, t: u64, e: &RunFinished) {
        let error = e
            .error
            .as_ref()
            .map(|e| format!(" {}", e.kind))
            .unwrap_or_default();
        let tail = if self.live {
            cost(e.total_cost_usd, e.total_cost_estimated)
        } else {
            let kinds: Vec<String> = e.caught.iter().map(|c| c.kind.to_string()).collect();
            format!(" caught=[{}]", kinds.join(","))
        };
        let degraded = if e.degraded { " degraded" } else { "" };
        self.line(
            t,
            format!("run_finished {:?}{error}{tail}{degraded}", e.outcome),
        );
    }
}
