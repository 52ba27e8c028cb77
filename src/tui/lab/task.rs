//! The lab off the UI thread: the ONE place the playground calls `lab::run_lab`. It runs on
//! a thread of its own (the lab may keep both cores busy for seconds), reports progress at
//! most once per percent of a policy, then its report, all as messages.

use super::LabMsg;
use crate::lab::{LabPlan, LabReport, Progress};
use crate::tui::message::Message;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Progress steps per policy sent to the UI (a message per call would flood it).
const STEPS: u64 = 100;

/// Which step `p` falls in, as one number that grows with the lab.
fn step_of(p: Progress) -> u64 {
    let within = (p.done.min(p.of) * STEPS)
        .checked_div(p.of)
        .unwrap_or(STEPS);
    (p.policy as u64) * (STEPS + 1) + within
}

/// Runs `plan` with `cancel`; the messages carry `id`.
pub fn spawn_lab(
    id: u64,
    plan: Arc<LabPlan>,
    cancel: CancellationToken,
    msgs: UnboundedSender<Message>,
) {
    let tx = msgs.clone();
    let spawned = std::thread::Builder::new()
        .name("retrylab-lab".into())
        .spawn(move || {
            let msg = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run(&plan, &cancel, &tx, id)
            })) {
                Ok(report) => LabMsg::Done {
                    id,
                    report: Box::new(report),
                },
                Err(_) => LabMsg::Failed {
                    id,
                    problem: "the lab stopped unexpectedly (a bug: please report it)".into(),
                },
            };
            let _ = tx.send(Message::Lab(msg));
        });
    if let Err(e) = spawned {
        let problem = format!("the lab could not start a thread: {e}");
        let _ = msgs.send(Message::Lab(LabMsg::Failed { id, problem }));
    }
}

fn run(
    plan: &LabPlan,
    cancel: &CancellationToken,
    tx: &UnboundedSender<Message>,
    id: u64,
) -> LabReport {
    let last = AtomicU64::new(u64::MAX);
    let progress = |p: Progress| {
        let step = step_of(p);
        // Progress comes from many threads: one message per step, whoever gets there first.
        if last.swap(step, Ordering::Relaxed) != step {
            let _ = tx.send(Message::Lab(LabMsg::Progress { id, progress: p }));
        }
    };
    crate::lab::run_lab(plan, &progress, cancel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_step_per_percent_of_each_policy() {
        let p = |policy, done| Progress {
            policy,
            done,
            of: 1000,
        };
        assert_eq!(step_of(p(0, 1)), step_of(p(0, 9)));
        assert_ne!(step_of(p(0, 9)), step_of(p(0, 10)));
        assert!(step_of(p(1, 0)) > step_of(p(0, 1000)));
        let zero = Progress {
            policy: 0,
            done: 0,
            of: 0,
        };
        assert_eq!(step_of(zero), STEPS);
    }
}
