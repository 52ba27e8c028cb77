//! Common random numbers: call `k` of every policy gets the same seeds, derived from the
//! lab's seed and `k` alone, so the fault script's chaos and latency draws (and the jitter
//! draws) for call `k` are the same whichever policy meets them.

use crate::scenario::types::Scenario;

/// SplitMix64's finaliser: a well-mixed 64-bit value from any input.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of call `k` (0-based) of a lab seeded with `seed`.
pub fn call_seed(seed: u64, k: u64) -> u64 {
    mix(mix(seed) ^ k)
}

/// `policy` as call `k` runs it: the lab's fault model, its simulator seeded for this call,
/// and each hop's jitter seeded for this call (hop 0 = the primary's `[retry]`).
pub fn call_scenario(
    policy: &Scenario,
    faults: &crate::scenario::types::SimSpec,
    seed: u64,
    k: u64,
) -> Scenario {
    let s = call_seed(seed, k);
    let mut out = policy.clone();
    out.sim = faults.clone();
    out.sim.seed = s;
    if let Some(r) = out.retry.as_mut() {
        r.seed = Some(mix(s ^ 1));
    }
    if let Some(fb) = out.fallback.as_mut() {
        for (i, hop) in fb.hops.iter_mut().enumerate() {
            if let Some(r) = hop.retry.as_mut() {
                r.seed = Some(mix(s ^ (2 + i as u64)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_differ_by_call_and_repeat_by_seed() {
        assert_eq!(call_seed(7, 3), call_seed(7, 3));
        assert_ne!(call_seed(7, 3), call_seed(7, 4));
        assert_ne!(call_seed(7, 3), call_seed(8, 3));
    }
}
