//! Lab reports made by hand for the view's snapshots: three policies whose calls are folded
//! through the real stats (`PolicyStats`), so every number is one the lab could report.

use crate::lab::stats::{PolicyStats, Timeline};
use crate::lab::tally::{Ending, Tally};
use crate::lab::{LabReport, PolicyReport};
use std::time::Duration;

/// One policy's calls: call `k` of `n` takes `latency(k)` ms with `attempts(k)` attempts.
fn policy(
    label: &str,
    n: u64,
    load: bool,
    call: impl Fn(u64) -> (u64, u32, Ending),
) -> PolicyReport {
    let mut s = PolicyStats::new(label, load);
    for k in 0..n {
        let (ms, attempts, ending) = call(k);
        s.add(&Tally {
            end_ms: ms,
            attempts,
            requests: attempts,
            wait_ms: ms.saturating_sub(400 * u64::from(attempts)),
            tokens: 30,
            cost_usd: Some(0.000_02 * f64::from(attempts)),
            ending: Some(ending),
            ..Tally::default()
        });
        if let Some(t) = s.timeline.as_mut() {
            feed(t, k, attempts);
        }
    }
    s.report()
}

/// Load mode's timeline: call `k` starts in second `k / 20`; its retries land later, and
/// every fifth second's first requests met a 429.
fn feed(t: &mut Timeline, k: u64, attempts: u32) {
    let start = (k / 20) * 1000 + (k % 20) * 7;
    for a in 0..u64::from(attempts) {
        let at = start + a * 1500;
        t.request(at);
        if (at / 1000).is_multiple_of(5) && a == 0 {
            t.rate_limited(at);
        }
    }
}

/// Three policies over 1,000 calls under 30 % faults: a patient one that always succeeds
/// late, a quick one that gives up, and one that always succeeds sooner.
pub fn three_policies(load: bool) -> LabReport {
    let n = 1000;
    let patient = policy("fallback-with-retries", n, load, |k| match k % 10 {
        0..=6 => (400 + k % 7 * 30, 1, Ending::Ok),
        7 | 8 => (4_800 + k % 5 * 100, 2, Ending::Ok),
        _ => (9_200 + k % 3 * 200, 3, Ending::Ok),
    });
    let quick = policy("basic-retry", n, load, |k| match k % 10 {
        0..=6 => (400 + k % 7 * 30, 1, Ending::Ok),
        7 | 8 => (1_450 + k % 5 * 50, 2, Ending::Ok),
        _ => (2_600, 3, Ending::Error(crate::error::ErrorKind::RetryError)),
    });
    let jitter = policy("retry-after-wins", n, load, |k| match k % 10 {
        0..=6 => (400 + k % 7 * 30, 1, Ending::Ok),
        7 | 8 => (2_100 + k % 9 * 150, 2, Ending::Ok),
        _ => (3_900 + k % 4 * 300, 3, Ending::Ok),
    });
    LabReport {
        policies: vec![patient, quick, jitter],
        wall: Duration::from_millis(1234),
        cancelled: false,
    }
}
