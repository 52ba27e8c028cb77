//! The policy: PURE logic, no I/O, no clock (DESIGN §3). Tenacity's stop and wait strategies,
//! `retry_on`, Retry-After handling, error reinsertion and Mirascope's fallback, plus the
//! planned schedule for the preview. Jitter comes from a seeded RNG passed in by the caller.

pub mod breaker;
pub mod budget;
pub mod decorrelated;
pub mod duration;
pub mod extras;
pub mod fallback;
pub mod limits;
pub mod on_result;
pub mod retry_after;
pub mod retry_on;
pub mod schedule;
pub mod stainless;
pub mod stop;
pub mod wait;

pub use duration::Secs;
pub use extras::{OverMax, ReinsertKeep, RetryExtras, StreamRecovery};
pub use fallback::{FallbackDecision, FallbackPolicy, decide_after_hop};
pub use retry_on::{Decision, RetryPolicy, WaitDecision, WaitSource};
pub use schedule::{Schedule, plan};
pub use stop::Stop;
pub use wait::Wait;

/// How collected errors go back into the next call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReinsertMode {
    /// Mirascope `collect_errors`: the template is rendered with `errors` = every text so far.
    #[default]
    Template,
    /// Instructor style: the failed answer and a user message naming the error are appended.
    Reask,
}
