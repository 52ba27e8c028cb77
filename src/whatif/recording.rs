//! A recorded run read back for what-if: every request it sent, in order, with what came
//! back (the answer, or the error with its status, Retry-After, partial output and
//! latency), and the recorded side's numbers. The trace is checked as it is read: a line
//! this version cannot read, an event out of place (an edited trace), a trace cut short or
//! one without attempts is an error naming its line.

use super::WhatifError;
use super::side::Side;
use crate::error::CallError;
use crate::event::{Event, Mode, Outcome, TimedEvent, ToolCallRecord};
use crate::policy::duration::{MAX_WAIT, MAX_WAIT_DAYS};
use crate::scenario::types::ProviderKind;
use crate::trace::{TraceError, TraceReader};
use std::path::Path;

/// The most requests a replayed trace may hold (each becomes one entry of the script).
pub const MAX_REQUESTS: usize = 1_000;

/// The most answer and partial-output text kept over all requests (each line of a trace
/// may hold up to 64 MiB; a thousand of them must not all be held).
pub const MAX_KEPT_BYTES: usize = 64 << 20;

/// One request of the recorded run.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub provider: ProviderKind,
    pub model: String,
    /// 1-based per provider+model, as the simulator counts.
    pub number: u32,
    pub start_ms: u64,
    pub latency_ms: u64,
    pub outcome: Came,
    /// The trace line of its end (`attempt_failed` / `attempt_succeeded`).
    pub line: usize,
}

/// What came back to a recorded request.
#[derive(Debug, Clone, PartialEq)]
pub enum Came {
    Answer {
        content: String,
        tool_calls: Vec<ToolCallRecord>,
    },
    Failed {
        error: CallError,
        partial_output: String,
        /// The reply's headers, when the trace kept them.
        headers: Vec<(String, String)>,
    },
}

/// A whole recorded run.
#[derive(Debug, Clone)]
pub struct Recording {
    pub path: String,
    pub scenario: String,
    pub mode: Mode,
    pub requests: Vec<Recorded>,
    /// The run's answer: the request that succeeded.
    pub answer: Option<usize>,
    /// `t_ms` of `run_finished`.
    pub end_ms: u64,
    /// The recorded side's numbers, folded as the new side's are.
    pub side: Side,
}

impl Recording {
    /// Every provider+model the run called, in the order first called.
    pub fn targets(&self) -> Vec<(ProviderKind, String)> {
        let mut out: Vec<(ProviderKind, String)> = Vec::new();
        for r in &self.requests {
            if !out.iter().any(|(p, m)| *p == r.provider && *m == r.model) {
                out.push((r.provider, r.model.clone()));
            }
        }
        out
    }
}

/// The attempt being read: started, not yet ended.
#[derive(Clone)]
struct Open {
    hop: u32,
    attempt: u32,
    provider: ProviderKind,
    model: String,
    sent: bool,
    /// Requests the SDK retried inside this attempt so far (each its own scripted request),
    /// and when the next request went out (the attempt's start, before any).
    sdk_retries: u32,
    next_start_ms: u64,
}

/// Reads and checks the trace at `path`.
pub fn read(path: &Path) -> Result<Recording, WhatifError> {
    let shown = path.display().to_string();
    let mut reader = TraceReader::open(path).map_err(|e| WhatifError::Trace(e.to_string()))?;
    let mut r = Reader::new(shown.clone());
    while let Some(ev) = reader.next() {
        let ev = ev.map_err(|e| match e {
            TraceError::Parse {
                path,
                line,
                message,
            } => WhatifError::at(&path, line, unreadable(&message)),
            other => WhatifError::Trace(other.to_string()),
        })?;
        r.line = reader.line();
        r.event(&ev)?;
    }
    if let Some(note) = reader.note() {
        return Err(WhatifError::at(
            &shown,
            reader.line(),
            format!(
                "the line is cut short ({note}): a truncated trace cannot be replayed; record the run again"
            ),
        ));
    }
    r.finish()
}

/// A line that is not an event this version reads, in words that say why it may be so.
fn unreadable(message: &str) -> String {
    if message.contains("unknown variant") {
        format!(
            "an event this version of retrylab ({}) does not know ({message}): the trace may come from another version; replay it with the version that wrote it",
            env!("CARGO_PKG_VERSION")
        )
    } else {
        format!("not a retrylab event ({message}): an edited or damaged trace cannot be replayed")
    }
}

struct Reader {
    path: String,
    line: usize,
    started: Option<(String, Mode)>,
    last_t: u64,
    hop: u32,
    attempt: u32,
    open: Option<Open>,
    requests: Vec<Recorded>,
    /// Text bytes the requests hold (answers, partial outputs).
    kept: usize,
    answer: Option<usize>,
    finished: Option<(u64, usize)>,
    side: Side,
}

impl Reader {
    fn new(path: String) -> Reader {
        Reader {
            path,
            line: 0,
            started: None,
            last_t: 0,
            hop: 0,
            attempt: 0,
            open: None,
            requests: Vec::new(),
            kept: 0,
            answer: None,
            finished: None,
            side: Side::default(),
        }
    }

    fn bad(&self, message: impl Into<String>) -> WhatifError {
        WhatifError::at(&self.path, self.line, message.into())
    }

    fn event(&mut self, ev: &TimedEvent) -> Result<(), WhatifError> {
        if self.finished.is_some() {
            return Err(self.bad(format!(
                "`{}` after run_finished: an edited trace cannot be replayed",
                ev.event.name()
            )));
        }
        if ev.t_ms < self.last_t {
            return Err(self.bad(format!(
                "t_ms goes back in time ({} after {}): an edited trace cannot be replayed",
                ev.t_ms, self.last_t
            )));
        }
        self.last_t = ev.t_ms;
        // Beyond any wait retrylab can script: the fault script would not load.
        let latency = match &ev.event {
            Event::AttemptFailed(f) => f.latency_ms,
            Event::AttemptSucceeded(s) => s.latency_ms,
            _ => 0,
        };
        if ev.t_ms.max(latency) as f64 > MAX_WAIT.0 * 1000.0 {
            return Err(self.bad(format!(
                "a time or latency of {} ms is beyond the {MAX_WAIT_DAYS} days a recorded run can last: an edited trace cannot be replayed",
                ev.t_ms.max(latency)
            )));
        }
        if self.started.is_none() {
            let Event::RunStarted(s) = &ev.event else {
                return Err(self.bad(format!(
                    "the trace starts with `{}`, not run_started: not a whole recorded run",
                    ev.event.name()
                )));
            };
            self.started = Some((s.scenario.clone(), s.mode));
            self.side.observe(ev);
            return Ok(());
        }
        if let Some((hop, attempt)) = ev.event.hop_attempt()
            && hop != self.hop
        {
            return Err(self.bad(format!(
                "`{}` of hop {hop} attempt {attempt} while the run is on hop {}: an edited trace cannot be replayed",
                ev.event.name(),
                self.hop
            )));
        }
        match &ev.event {
            Event::RunStarted(_) => return Err(self.bad("a second run_started")),
            Event::AttemptStarted(a) => {
                if self.open.is_some() {
                    return Err(
                        self.bad("attempt_started while the attempt before it has not ended")
                    );
                }
                if a.attempt != self.attempt + 1 {
                    return Err(self.bad(format!(
                        "attempt {} follows attempt {}: an edited trace cannot be replayed",
                        a.attempt, self.attempt
                    )));
                }
                let provider = provider_of(&a.provider).ok_or_else(|| {
                    self.bad(format!(
                        "unknown provider `{}` (not one this version knows)",
                        a.provider
                    ))
                })?;
                self.attempt = a.attempt;
                self.open = Some(Open {
                    hop: a.hop,
                    attempt: a.attempt,
                    provider,
                    model: a.model.clone(),
                    sent: !a.request.is_null(),
                    sdk_retries: 0,
                    next_start_ms: ev.t_ms,
                });
            }
            // Each request the SDK retried (on the attempt's first leg) is a request of its
            // own, scripted in order, so a policy with the same SDK loop meets each again.
            Event::SdkRetry(r) if r.leg == 1 => {
                self.inside(ev)?;
                self.sdk_retry(ev.t_ms, r)?;
            }
            // Hedge legs are requests inside the attempt; what-if replays the attempt's
            // last outcome only.
            Event::Delta(_)
            | Event::ToolCall(_)
            | Event::SdkRetry(_)
            | Event::HedgeStarted(_)
            | Event::HedgeCancelled(_) => self.inside(ev)?,
            Event::AttemptFailed(f) => {
                let open = self.close(ev)?;
                let headers = f
                    .response
                    .as_ref()
                    .map(|r| r.headers.clone())
                    .unwrap_or_default();
                self.record(
                    open,
                    ev.t_ms,
                    f.latency_ms,
                    Came::Failed {
                        error: f.error.clone(),
                        partial_output: f.partial_output.clone(),
                        headers,
                    },
                )?;
            }
            Event::AttemptSucceeded(s) => {
                let open = self.close(ev)?;
                let sent = open.sent;
                self.record(
                    open,
                    ev.t_ms,
                    s.latency_ms,
                    Came::Answer {
                        content: s.content.clone(),
                        tool_calls: s.tool_calls.clone(),
                    },
                )?;
                if sent {
                    self.answer = Some(self.requests.len() - 1);
                }
            }
            Event::FallbackHop(h) => {
                if self.open.is_some() {
                    return Err(self.bad("fallback_hop while an attempt has not ended"));
                }
                if h.hop != self.hop + 1 {
                    return Err(self.bad(format!(
                        "fallback to hop {} from hop {}: an edited trace cannot be replayed",
                        h.hop, self.hop
                    )));
                }
                self.hop = h.hop;
                self.attempt = 0;
            }
            Event::RunFinished(f) => {
                // A cancelled run may end inside an attempt; that attempt is left out.
                if self.open.is_some() && f.outcome != Outcome::Cancelled {
                    return Err(self.bad("run_finished while an attempt has not ended"));
                }
                self.open = None;
                self.finished = Some((ev.t_ms, self.line));
            }
            Event::ErrorReinserted(_)
            | Event::StreamResumed(_)
            | Event::WaitStarted(_)
            | Event::WaitFinished(_)
            | Event::RetryExhausted(_)
            | Event::SharedState(_)
            | Event::BreakerOpened(_)
            | Event::BreakerHalfOpen(_)
            | Event::BreakerClosed(_)
            | Event::BudgetWithdrawn(_)
            | Event::BudgetDenied(_)
            | Event::LimitReached(_)
            | Event::ResultRejected(_) => {}
        }
        self.side.observe(ev);
        Ok(())
    }

    /// An event inside the open attempt.
    fn inside(&self, ev: &TimedEvent) -> Result<(), WhatifError> {
        match (&self.open, ev.event.hop_attempt()) {
            (Some(o), Some((h, a))) if o.hop == h && o.attempt == a => Ok(()),
            _ => Err(self.bad(format!(
                "`{}` outside its attempt: an edited trace cannot be replayed",
                ev.event.name()
            ))),
        }
    }

    fn close(&mut self, ev: &TimedEvent) -> Result<Open, WhatifError> {
        self.inside(ev)?;
        self.open
            .take()
            .ok_or_else(|| self.bad("an attempt ends that never started"))
    }

    /// A request of the open attempt failed and the SDK retried: recorded as a request of
    /// its own (sent when the one before it was, or the SDK's wait before it ended), the
    /// attempt's next request going out after the SDK's wait.
    fn sdk_retry(&mut self, t_ms: u64, r: &crate::event::SdkRetry) -> Result<(), WhatifError> {
        let Some(open) = self.open.clone() else {
            return Err(self.bad("sdk_retry outside an attempt"));
        };
        let came = Came::Failed {
            error: r.error.clone(),
            partial_output: String::new(),
            headers: r
                .response
                .as_ref()
                .map(|x| x.headers.clone())
                .unwrap_or_default(),
        };
        let latency_ms = t_ms.saturating_sub(open.next_start_ms);
        self.record(open, t_ms, latency_ms, came)?;
        if let Some(o) = self.open.as_mut() {
            o.sdk_retries += 1;
            o.next_start_ms = t_ms.saturating_add(r.delay_ms);
        }
        Ok(())
    }

    fn record(
        &mut self,
        open: Open,
        end_ms: u64,
        latency_ms: u64,
        came: Came,
    ) -> Result<(), WhatifError> {
        if let Came::Failed { error, .. } = &came
            && matches!(
                error.kind,
                crate::error::ErrorKind::RetryError
                    | crate::error::ErrorKind::FallbackError
                    | crate::error::ErrorKind::Any
            )
        {
            return Err(self.bad(format!(
                "an attempt failed with `{}`, which no attempt fails with: an edited trace cannot be replayed",
                error.kind
            )));
        }
        // A prompt that failed to render sent nothing: no request to replay.
        if !open.sent {
            return Ok(());
        }
        self.kept += match &came {
            Came::Failed { partial_output, .. } => partial_output.len(),
            Came::Answer { content, .. } => content.len(),
        };
        if self.kept > MAX_KEPT_BYTES {
            return Err(self.bad(format!(
                "the trace's answers and partial outputs pass {} in all; what-if replays at most that",
                crate::units::bytes(MAX_KEPT_BYTES as u64)
            )));
        }
        if self.requests.len() >= MAX_REQUESTS {
            return Err(self.bad(format!(
                "the trace holds more than {MAX_REQUESTS} requests; what-if replays at most {MAX_REQUESTS}"
            )));
        }
        let number = 1 + self
            .requests
            .iter()
            .filter(|r| r.provider == open.provider && r.model == open.model)
            .count() as u32;
        // After the SDK retried, the attempt's last request went out after its wait: its
        // own latency, not the attempt's.
        let start_ms = open.next_start_ms;
        let latency_ms = if latency_ms > 0 && open.sdk_retries == 0 {
            latency_ms
        } else {
            end_ms.saturating_sub(start_ms)
        };
        self.requests.push(Recorded {
            provider: open.provider,
            model: open.model,
            number,
            start_ms,
            latency_ms,
            outcome: came,
            line: self.line,
        });
        Ok(())
    }

    fn finish(self) -> Result<Recording, WhatifError> {
        let Some((scenario, mode)) = self.started else {
            return Err(WhatifError::Trace(format!(
                "{}: the trace holds no events",
                self.path
            )));
        };
        let Some((end_ms, end_line)) = self.finished else {
            return Err(WhatifError::at(
                &self.path,
                self.line,
                "the trace ends here without run_finished (a run cut short, or a truncated file): what-if needs a whole run".into(),
            ));
        };
        if self.requests.is_empty() {
            return Err(WhatifError::at(
                &self.path,
                end_line,
                "the run finished without sending a request: a trace without attempts has nothing to replay".into(),
            ));
        }
        Ok(Recording {
            path: self.path,
            scenario,
            mode,
            requests: self.requests,
            answer: self.answer,
            end_ms,
            side: self.side,
        })
    }
}

/// The provider a trace names, by its scenario name (every provider this version knows).
fn provider_of(name: &str) -> Option<ProviderKind> {
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    let name: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
        name.into_deserializer();
    ProviderKind::deserialize(name).ok()
}

#[cfg(test)]
mod tests {
    use super::provider_of;
    use crate::scenario::types::ProviderKind;

    #[test]
    fn every_provider_a_trace_names_is_known() {
        for p in [
            ProviderKind::Openai,
            ProviderKind::Anthropic,
            ProviderKind::OpenaiCompatible,
            ProviderKind::OpenaiResponses,
            ProviderKind::AzureOpenai,
            ProviderKind::Gemini,
        ] {
            assert_eq!(provider_of(p.as_str()), Some(p));
        }
        assert_eq!(provider_of("bedrock"), None);
    }
}
