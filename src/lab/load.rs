//! Load mode (`--callers C`): placeholder until the shared clock lands.

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
