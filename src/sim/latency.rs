//! `[sim].latency`: the pace of each reply drawn from seeded distributions (drawn from the
//! request's own key, so the same request gets the same times whatever came before it), or
//! the fixed `first_token_ms` / `tokens_per_second` where a part is not set.
//!
//! A log-normal is given by its median and 99th percentile, as latencies are quoted:
//! mu = ln(median), sigma = (ln(p99) - mu) / z(0.99), z(0.99) = 2.3263.

use super::tokens::Pace;
use crate::policy::Secs;
use crate::policy::duration::MAX_WAIT;
use crate::scenario::types::{Dist, SimSpec};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Normal};

/// The 99th percentile of the standard normal.
pub const Z99: f64 = 2.3263;

/// The slowest drawn pace: a normal may draw near zero or below, which would stretch a reply
/// without bound (or switch pacing off).
const MIN_TOKENS_PER_SECOND: f64 = 0.1;

/// The chaos draw uses stream 0 of a request's key; latency its own stream, so adding a
/// latency table does not change which requests chaos hits.
const LATENCY_STREAM: u64 = 1;

/// Draws each reply's pace.
#[derive(Debug)]
pub struct Latency {
    first_token: Sampler,
    tokens_per_second: Sampler,
}

#[derive(Debug, Clone, Copy)]
enum Sampler {
    Fixed(f64),
    LogNormal(LogNormal<f64>),
    Normal(Normal<f64>),
}

impl Sampler {
    /// A distribution's sampler; parameters the loader would refuse fall back to `fixed` at
    /// the central value (never a panic).
    fn new(dist: Option<Dist<f64>>, fixed: f64) -> Sampler {
        match dist {
            None => Sampler::Fixed(fixed),
            Some(Dist::Fixed(v)) => Sampler::Fixed(v),
            Some(Dist::Lognormal { median, p99 }) => {
                let (mu, sigma) = lognormal_params(median, p99);
                LogNormal::new(mu, sigma).map_or(Sampler::Fixed(median), Sampler::LogNormal)
            }
            Some(Dist::Normal { mean, sd }) => {
                Normal::new(mean, sd).map_or(Sampler::Fixed(mean), Sampler::Normal)
            }
        }
    }

    fn draw(&self, rng: &mut ChaCha8Rng) -> f64 {
        match self {
            Sampler::Fixed(v) => *v,
            Sampler::LogNormal(d) => d.sample(rng),
            Sampler::Normal(d) => d.sample(rng),
        }
    }
}

/// (mu, sigma) of the log-normal with this median and 99th percentile.
pub fn lognormal_params(median: f64, p99: f64) -> (f64, f64) {
    let mu = median.ln();
    (mu, (p99.ln() - mu) / Z99)
}

fn secs_dist(d: Dist<Secs>) -> Dist<f64> {
    match d {
        Dist::Fixed(v) => Dist::Fixed(v.0),
        Dist::Lognormal { median, p99 } => Dist::Lognormal {
            median: median.0,
            p99: p99.0,
        },
        Dist::Normal { mean, sd } => Dist::Normal {
            mean: mean.0,
            sd: sd.0,
        },
    }
}

impl Latency {
    pub fn new(spec: &SimSpec) -> Latency {
        let latency = spec.latency.as_ref();
        Latency {
            first_token: Sampler::new(
                latency.and_then(|l| l.first_token).map(secs_dist),
                Secs::from_ms(spec.first_token_ms).0,
            ),
            tokens_per_second: Sampler::new(
                latency.and_then(|l| l.tokens_per_second),
                spec.tokens_per_second,
            ),
        }
    }

    /// The pace of the reply to the request keyed `key` (`script::request_key`).
    pub fn draw(&self, key: u64) -> Pace {
        let mut rng = ChaCha8Rng::seed_from_u64(key);
        rng.set_stream(LATENCY_STREAM);
        let first = self.first_token.draw(&mut rng);
        let first = if first.is_finite() {
            first.clamp(0.0, MAX_WAIT.0)
        } else {
            0.0
        };
        let tokens_per_second = match self.tokens_per_second {
            // As written (0 or below = no pacing, as `tokens_per_second` always meant).
            Sampler::Fixed(v) => v,
            s => {
                let v = s.draw(&mut rng);
                if v.is_finite() {
                    v.max(MIN_TOKENS_PER_SECOND)
                } else {
                    MIN_TOKENS_PER_SECOND
                }
            }
        };
        Pace {
            first_token: Secs(first).as_duration(),
            tokens_per_second,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::types::LatencySpec;
    use std::time::Duration;

    fn spec(latency: LatencySpec, seed: u64) -> SimSpec {
        SimSpec {
            latency: Some(latency),
            seed,
            ..SimSpec::default()
        }
    }

    #[test]
    fn without_a_table_the_pace_is_the_fixed_one() {
        let l = Latency::new(&SimSpec::default());
        let want = Pace {
            first_token: Duration::from_millis(200),
            tokens_per_second: 40.0,
        };
        assert_eq!(l.draw(1), want);
    }

    #[test]
    fn lognormal_median_and_p99_come_back_from_samples() {
        let table = LatencySpec {
            first_token: Some(Dist::Lognormal {
                median: Secs(0.4),
                p99: Secs(3.0),
            }),
            tokens_per_second: None,
        };
        let l = Latency::new(&spec(table.clone(), 7));
        let mut v: Vec<f64> = (0..20_000u64)
            .map(|k| {
                l.draw(k.wrapping_mul(0x9E37_79B9_7F4A_7C15))
                    .first_token
                    .as_secs_f64()
            })
            .collect();
        v.sort_by(f64::total_cmp);
        let median = v[v.len() / 2];
        let p99 = v[v.len() * 99 / 100];
        assert!((median / 0.4 - 1.0).abs() < 0.05, "median {median}");
        assert!((p99 / 3.0 - 1.0).abs() < 0.15, "p99 {p99}");
        // The same key draws the same times, another key others.
        let a = Latency::new(&spec(table, 7));
        for k in 0..10 {
            assert_eq!(a.draw(k), a.draw(k));
            assert_ne!(a.draw(k), a.draw(k + 100));
        }
    }

    #[test]
    fn a_normal_pace_never_drops_below_the_floor() {
        let table = LatencySpec {
            first_token: Some(Dist::Normal {
                mean: Secs(0.0),
                sd: Secs(1.0),
            }),
            tokens_per_second: Some(Dist::Normal {
                mean: 1.0,
                sd: 50.0,
            }),
        };
        let l = Latency::new(&spec(table, 1));
        for k in 0..1000 {
            let p = l.draw(k);
            assert!(p.tokens_per_second >= MIN_TOKENS_PER_SECOND);
            assert!(p.first_token <= Duration::from_secs(10));
        }
    }
}
