//! Load mode (`--callers C`): not built yet; `LabPlan::check` refuses it with a clear error.
//! What it needs: a run clock on which many callers sleep at once (the virtual clock moves
//! time by each active sleep, so concurrent sleeps add up), one simulator shared by every
//! caller (the engine starts its own per run), and the simulator sleeping on the clock of
//! the caller it serves.

use super::stats::PolicyStats;
use super::{LabPlan, Progress};
use tokio_util::sync::CancellationToken;

pub(super) async fn run(
    _plan: &LabPlan,
    _policy: usize,
    _callers: u32,
    _stats: &mut PolicyStats,
    _progress: &(dyn Fn(Progress) + Sync),
    _cancel: &CancellationToken,
) {
}
