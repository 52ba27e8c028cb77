//! AWS's decorrelated jitter ("Exponential Backoff And Jitter", the AWS Architecture Blog):
//! `sleep = min(cap, uniform(base, 3 * previous))`, `previous` being the hop's last wait
//! (`base` before the first). Each wait grows from the one before rather than from the
//! attempt number, so callers that failed together drift apart. The state across attempts
//! is the previous wait, passed in: the strategy itself stays pure.

use super::Secs;
use super::wait::{DecorrelatedParams, uniform};
use rand::Rng;

/// Enough rounds for any `max`: past it, or at infinity, the reach stops changing (3^700
/// overflows f64), so a huge attempt number costs no more than this.
const REACH_ROUNDS: u32 = 700;

impl DecorrelatedParams {
    /// `min(max, uniform(base, 3 * previous))`, drawn like Python's `random.uniform`.
    pub(super) fn draw<R: Rng + ?Sized>(&self, previous: Option<f64>, rng: &mut R) -> f64 {
        let previous = previous.unwrap_or(self.base.0);
        f64::min(self.max.0, uniform(rng, self.base.0, 3.0 * previous))
    }

    /// Where the next wait can fall when the previous one was in `[lo, hi]`.
    pub(super) fn range_after(&self, (lo, hi): (f64, f64)) -> (f64, f64) {
        let base = self.base.0;
        (
            f64::min(self.max.0, f64::min(base, 3.0 * lo)),
            f64::min(self.max.0, f64::max(base, 3.0 * hi)),
        )
    }

    /// The widest range its own draws reach at `attempt` (each wait after the one before,
    /// the first after `base`): `[base, min(max, base * 3^attempt)]`.
    pub(super) fn reach(&self, attempt: u32) -> (f64, f64) {
        let mut range = (self.base.0, self.base.0);
        for _ in 0..attempt.clamp(1, REACH_ROUNDS) {
            let next = self.range_after(range);
            if next == range {
                break;
            }
            range = next;
        }
        range
    }

    /// `decorrelated jitter 2.4 s in [1 s, 3 s] (uniform(base, 3 x previous 1 s), max 20 s)`.
    pub(super) fn explain(&self, previous: Option<f64>, value: f64) -> String {
        let prev = previous.unwrap_or(self.base.0);
        let (lo, hi) = self.range_after((prev, prev));
        let first = if previous.is_none() {
            " (the first: previous = base)"
        } else {
            ""
        };
        format!(
            "decorrelated jitter {} in [{}, {}] (min(max {}, uniform(base {}, 3 x previous {})){first})",
            Secs(value).human(),
            Secs(lo).human(),
            Secs(hi).human(),
            self.max.human(),
            self.base.human(),
            Secs(prev).human(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Wait;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use serde::Deserialize;

    fn dj(base: f64, max: f64) -> DecorrelatedParams {
        DecorrelatedParams {
            base: Secs(base),
            max: Secs(max),
        }
    }

    /// The waits of one hop: each draw fed the one before.
    fn hop_waits(p: &DecorrelatedParams, seed: u64, n: usize) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut previous = None;
        (0..n)
            .map(|_| {
                let w = p.draw(previous, &mut rng);
                previous = Some(w);
                w
            })
            .collect()
    }

    #[test]
    fn waits_stay_within_base_and_max_over_many_seeds() {
        let p = dj(1.0, 20.0);
        for seed in 0..2_000 {
            let waits = hop_waits(&p, seed, 12);
            for (i, w) in waits.iter().enumerate() {
                assert!((1.0..=20.0).contains(w), "seed {seed} wait {i}: {w}");
                if i > 0 {
                    // uniform(base, 3 * previous), capped: never beyond three times the last.
                    assert!(*w <= 3.0 * waits[i - 1] + 1e-12, "seed {seed} wait {i}");
                }
            }
        }
    }

    #[test]
    fn the_first_draw_is_between_base_and_three_bases() {
        let p = dj(0.5, 20.0);
        for seed in 0..500 {
            let w = hop_waits(&p, seed, 1)[0];
            assert!((0.5..1.5).contains(&w), "seed {seed}: {w}");
        }
    }

    #[test]
    fn the_draw_is_pythons_uniform_exactly() {
        let p = dj(1.0, 20.0);
        let mut a = ChaCha8Rng::seed_from_u64(3);
        let mut b = ChaCha8Rng::seed_from_u64(3);
        let u: f64 = b.random();
        // previous 2 s: uniform(1, 6) = 1 + 5u.
        assert_eq!(p.draw(Some(2.0), &mut a), 1.0 + 5.0 * u);
        let u: f64 = b.random();
        assert_eq!(p.draw(None, &mut a), 1.0 + 2.0 * u);
    }

    #[test]
    fn the_cap_holds_and_is_reached() {
        let p = dj(1.0, 20.0);
        // previous 100 s: uniform(1, 300) is nearly always past 20.
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let capped = (0..200)
            .map(|_| p.draw(Some(100.0), &mut rng))
            .filter(|w| *w == 20.0)
            .count();
        assert!(capped > 180, "{capped} of 200 at the cap");
        // A cap below the base wins, as min(cap, ...) says.
        assert_eq!(dj(5.0, 2.0).draw(None, &mut rng), 2.0);
    }

    #[test]
    fn the_same_seed_gives_the_same_waits() {
        let p = dj(1.0, 20.0);
        assert_eq!(hop_waits(&p, 42, 10), hop_waits(&p, 42, 10));
        assert_ne!(hop_waits(&p, 42, 10), hop_waits(&p, 43, 10));
    }

    #[test]
    fn the_reach_per_attempt_is_base_to_base_times_three_to_the_n() {
        let p = dj(1.0, 20.0);
        // 1-3 s, 1-9 s, 1-20 s (27 capped), then 1-20 s for ever.
        assert_eq!(p.reach(1), (1.0, 3.0));
        assert_eq!(p.reach(2), (1.0, 9.0));
        assert_eq!(p.reach(3), (1.0, 20.0));
        assert_eq!(p.reach(50), (1.0, 20.0));
        assert_eq!(p.reach(u32::MAX), (1.0, 20.0));
        let unbounded = dj(1.0, f64::INFINITY);
        assert_eq!(unbounded.reach(4), (1.0, 81.0));
        assert_eq!(unbounded.reach(u32::MAX).1, f64::INFINITY);
        // Every draw of a hop is within its attempt's reach.
        for seed in 0..300 {
            for (i, w) in hop_waits(&p, seed, 6).iter().enumerate() {
                let (lo, hi) = p.reach(i as u32 + 1);
                assert!(*w >= lo && *w <= hi, "seed {seed} attempt {}: {w}", i + 1);
            }
        }
    }

    #[test]
    fn inside_a_sum_the_range_follows_the_previous_whole_wait() {
        let w: Wait = toml::from_str::<T>(
            "wait = { sum = [{ fixed = 2 }, { decorrelated_jitter = { base = 1, max = 20 } }] }",
        )
        .unwrap()
        .wait;
        // The first: 2 + [1, 3]; then previous in [3, 5]: 2 + [1, 15].
        assert_eq!(w.range_after(1, None), (3.0, 5.0));
        assert_eq!(w.range_after(2, Some((3.0, 5.0))), (3.0, 17.0));
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let first = w.compute_after(1, None, &mut rng);
        assert!((3.0..5.0).contains(&first), "{first}");
        let second = w.compute_after(2, Some(first), &mut rng);
        assert!((3.0..=2.0 + 3.0 * first).contains(&second), "{second}");
        assert!(w.is_random());
    }

    #[derive(Deserialize)]
    struct T {
        wait: Wait,
    }

    #[test]
    fn parses_with_defaults_and_describes_itself() {
        let p = |s: &str| toml::from_str::<T>(&format!("wait = {s}")).map(|t| t.wait);
        assert_eq!(
            p("{ decorrelated_jitter = { base = 1, max = 20 } }").unwrap(),
            Wait::DecorrelatedJitter(dj(1.0, 20.0))
        );
        assert_eq!(
            p("{ decorrelated_jitter = {} }").unwrap(),
            Wait::DecorrelatedJitter(dj(1.0, f64::INFINITY))
        );
        assert!(p("{ decorrelated_jitter = { cap = 20 } }").is_err());
        assert_eq!(
            p("{ decorrelated_jitter = { base = \"500ms\", max = 20 } }")
                .unwrap()
                .describe(),
            "wait_decorrelated_jitter(base=500 ms, max=20 s)"
        );
    }

    #[test]
    fn explains_its_numbers() {
        let w = Wait::DecorrelatedJitter(dj(1.0, 20.0));
        assert_eq!(
            w.explain_after(2, Some(3.0), 6.5),
            "decorrelated jitter 6.5 s in [1 s, 9 s] (min(max 20 s, uniform(base 1 s, 3 x previous 3 s)))"
        );
        assert_eq!(
            w.explain(1, 2.0),
            "decorrelated jitter 2 s in [1 s, 3 s] (min(max 20 s, uniform(base 1 s, 3 x previous 1 s)) (the first: previous = base))"
        );
    }
}
