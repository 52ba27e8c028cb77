//! Tenacity's wait strategies, with its exact formulas. `attempt` is the number of the
//! attempt that just failed (1-based). Randomness comes from the caller's seeded RNG, drawn
//! exactly as Python's `random.uniform(a, b) = a + (b - a) * random()`.

use super::Secs;
use rand::Rng;
use serde::Deserialize;

/// Written as a one-key table: `{ fixed = 2 }`, `{ random = { min = 1, max = 3 } }`,
/// `{ exponential = { multiplier = 1, min = 4, max = 10 } }`, `{ random_exponential = {..} }`,
/// `{ exponential_jitter = { initial = 1, jitter = 1 } }`, `{ incrementing = {..} }`,
/// `{ chain = [w1, w2] }` (the last repeats), `{ sum = [w1, w2] }`, and beyond Tenacity
/// `{ decorrelated_jitter = { base = 1, max = 20 } }` (AWS's, see [`super::decorrelated`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Wait {
    Fixed(Secs),
    Random(RandomParams),
    Exponential(ExponentialParams),
    /// Full jitter: uniform(min, exponential(...)).
    RandomExponential(ExponentialParams),
    ExponentialJitter(JitterParams),
    Incrementing(IncrementingParams),
    Chain(Vec<Wait>),
    Sum(Vec<Wait>),
    /// AWS's decorrelated jitter: `min(max, uniform(base, 3 * previous))`.
    DecorrelatedJitter(DecorrelatedParams),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomParams {
    #[serde(default)]
    pub min: Secs,
    #[serde(default = "one")]
    pub max: Secs,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExponentialParams {
    #[serde(default = "one_f")]
    pub multiplier: f64,
    #[serde(default = "two_f")]
    pub exp_base: f64,
    #[serde(default)]
    pub min: Secs,
    #[serde(default = "inf")]
    pub max: Secs,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JitterParams {
    #[serde(default = "one")]
    pub initial: Secs,
    #[serde(default = "two_f")]
    pub exp_base: f64,
    #[serde(default = "inf")]
    pub max: Secs,
    #[serde(default = "one")]
    pub jitter: Secs,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncrementingParams {
    #[serde(default)]
    pub start: Secs,
    #[serde(default = "one")]
    pub increment: Secs,
    #[serde(default = "inf")]
    pub max: Secs,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecorrelatedParams {
    #[serde(default = "one")]
    pub base: Secs,
    #[serde(default = "inf")]
    pub max: Secs,
}

fn one() -> Secs {
    Secs(1.0)
}
fn inf() -> Secs {
    Secs::INF
}
fn one_f() -> f64 {
    1.0
}
fn two_f() -> f64 {
    2.0
}

/// Python's `random.uniform(a, b)`.
pub(super) fn uniform<R: Rng + ?Sized>(rng: &mut R, a: f64, b: f64) -> f64 {
    a + (b - a) * rng.random::<f64>()
}

/// `multiplier * exp_base ** (attempt - 1)`; an overflow gives `None` (Tenacity then uses
/// `max`).
fn exp_term(multiplier: f64, exp_base: f64, attempt: u32) -> Option<f64> {
    if multiplier == 0.0 {
        return Some(0.0);
    }
    let n = attempt.saturating_sub(1);
    let e = exp_base.powi(i32::try_from(n).unwrap_or(i32::MAX));
    let r = multiplier * e;
    r.is_finite().then_some(r)
}

impl ExponentialParams {
    /// `max(max(0, min), min(multiplier * exp_base^(attempt-1), max))`.
    pub fn value(&self, attempt: u32) -> f64 {
        let result = exp_term(self.multiplier, self.exp_base, attempt).unwrap_or(self.max.0);
        f64::max(f64::max(0.0, self.min.0), f64::min(result, self.max.0))
    }
}

impl JitterParams {
    /// `clamp(initial * exp_base^(attempt-1) + jitter_draw, 0, max)`.
    fn value(&self, attempt: u32, jitter_draw: f64) -> f64 {
        let result = match exp_term(self.initial.0, self.exp_base, attempt) {
            Some(v) => v + jitter_draw,
            None => self.max.0,
        };
        f64::max(0.0, f64::min(result, self.max.0))
    }
}

impl IncrementingParams {
    fn value(&self, attempt: u32) -> f64 {
        let result = self.start.0 + self.increment.0 * f64::from(attempt.saturating_sub(1));
        f64::max(0.0, f64::min(result, self.max.0))
    }
}

impl Wait {
    /// The wait in seconds after `attempt` failed, as the hop's first wait would be (a
    /// decorrelated jitter's previous wait taken as its base).
    pub fn compute<R: Rng + ?Sized>(&self, attempt: u32, rng: &mut R) -> f64 {
        self.compute_after(attempt, None, rng)
    }

    /// The wait after `attempt` failed, `previous` being the hop's last wait (`None` before
    /// the first): only a decorrelated jitter reads it, which keeps the strategy pure.
    pub fn compute_after<R: Rng + ?Sized>(
        &self,
        attempt: u32,
        previous: Option<f64>,
        rng: &mut R,
    ) -> f64 {
        match self {
            Wait::Fixed(w) => w.0,
            Wait::Random(p) => uniform(rng, p.min.0, p.max.0),
            Wait::Exponential(p) => p.value(attempt),
            Wait::RandomExponential(p) => {
                let high = p.value(attempt);
                uniform(rng, p.min.0, high)
            }
            Wait::ExponentialJitter(p) => {
                let j = uniform(rng, 0.0, p.jitter.0);
                p.value(attempt, j)
            }
            Wait::Incrementing(p) => p.value(attempt),
            Wait::Chain(list) => match Self::chain_pick(list, attempt) {
                Some(w) => w.compute_after(attempt, previous, rng),
                None => 0.0,
            },
            Wait::Sum(list) => list
                .iter()
                .map(|w| w.compute_after(attempt, previous, rng))
                .sum(),
            Wait::DecorrelatedJitter(p) => p.draw(previous, rng),
        }
    }

    /// `wait_chain`: strategy number min(max(attempt, 1), len), 1-based.
    fn chain_pick(list: &[Wait], attempt: u32) -> Option<&Wait> {
        if list.is_empty() {
            return None;
        }
        let n = (attempt.max(1) as usize).min(list.len());
        list.get(n - 1)
    }

    /// The lowest and highest wait after `attempt` (equal when there is no jitter); a
    /// decorrelated jitter's is the widest its own draws reach by then.
    pub fn range(&self, attempt: u32) -> (f64, f64) {
        self.range_after(attempt, None)
    }

    /// [`Wait::range`] given the range the hop's previous wait was in (`None`: a
    /// decorrelated jitter's own reach), so a plan chains one wait's range into the next.
    pub fn range_after(&self, attempt: u32, previous: Option<(f64, f64)>) -> (f64, f64) {
        match self {
            Wait::Fixed(w) => (w.0, w.0),
            Wait::Random(p) => (p.min.0.min(p.max.0), p.min.0.max(p.max.0)),
            Wait::Exponential(p) => {
                let v = p.value(attempt);
                (v, v)
            }
            Wait::RandomExponential(p) => {
                let high = p.value(attempt);
                (p.min.0.min(high), p.min.0.max(high))
            }
            Wait::ExponentialJitter(p) => (p.value(attempt, 0.0), p.value(attempt, p.jitter.0)),
            Wait::Incrementing(p) => {
                let v = p.value(attempt);
                (v, v)
            }
            Wait::Chain(list) => Self::chain_pick(list, attempt)
                .map_or((0.0, 0.0), |w| w.range_after(attempt, previous)),
            Wait::Sum(list) => list
                .iter()
                .map(|w| w.range_after(attempt, previous))
                .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1)),
            Wait::DecorrelatedJitter(p) => match previous {
                Some(prev) => p.range_after(prev),
                None => p.reach(attempt),
            },
        }
    }

    /// True when the strategy draws random numbers.
    pub fn is_random(&self) -> bool {
        match self {
            Wait::Random(_)
            | Wait::RandomExponential(_)
            | Wait::ExponentialJitter(_)
            | Wait::DecorrelatedJitter(_) => true,
            Wait::Fixed(_) | Wait::Exponential(_) | Wait::Incrementing(_) => false,
            Wait::Chain(l) | Wait::Sum(l) => l.iter().any(Wait::is_random),
        }
    }

    /// Tenacity-like text: `wait_exponential(multiplier=1, min=4 s, max=10 s)`.
    pub fn describe(&self) -> String {
        fn bound(name: &str, v: Secs, default: Secs) -> Option<String> {
            (v != default).then(|| format!("{name}={}", v.human()))
        }
        fn num(name: &str, v: f64, default: f64) -> Option<String> {
            ((v - default).abs() > f64::EPSILON).then(|| format!("{name}={v}"))
        }
        let args =
            |parts: Vec<Option<String>>| parts.into_iter().flatten().collect::<Vec<_>>().join(", ");
        match self {
            Wait::Fixed(w) => format!("wait_fixed({})", w.human()),
            Wait::Random(p) => format!("wait_random({}..{})", p.min.human(), p.max.human()),
            Wait::Exponential(p) | Wait::RandomExponential(p) => {
                let name = if matches!(self, Wait::Exponential(_)) {
                    "wait_exponential"
                } else {
                    "wait_random_exponential"
                };
                let a = args(vec![
                    Some(format!("multiplier={}", p.multiplier)),
                    num("exp_base", p.exp_base, 2.0),
                    bound("min", p.min, Secs::ZERO),
                    bound("max", p.max, Secs::INF),
                ]);
                format!("{name}({a})")
            }
            Wait::ExponentialJitter(p) => {
                let a = args(vec![
                    Some(format!("initial={}", p.initial.human())),
                    num("exp_base", p.exp_base, 2.0),
                    bound("max", p.max, Secs::INF),
                    Some(format!("jitter={}", p.jitter.human())),
                ]);
                format!("wait_exponential_jitter({a})")
            }
            Wait::Incrementing(p) => {
                let a = args(vec![
                    Some(format!("start={}", p.start.human())),
                    Some(format!("increment={}", p.increment.human())),
                    bound("max", p.max, Secs::INF),
                ]);
                format!("wait_incrementing({a})")
            }
            Wait::Chain(l) => format!(
                "wait_chain({})",
                l.iter().map(Wait::describe).collect::<Vec<_>>().join(", ")
            ),
            Wait::Sum(l) => l.iter().map(Wait::describe).collect::<Vec<_>>().join(" + "),
            Wait::DecorrelatedJitter(p) => format!(
                "wait_decorrelated_jitter(base={}, max={})",
                p.base.human(),
                p.max.human()
            ),
        }
    }

    /// The formula with this attempt's numbers, for the "why" line.
    pub fn explain(&self, attempt: u32, value: f64) -> String {
        self.explain_after(attempt, None, value)
    }

    /// [`Wait::explain`] knowing the hop's previous wait (a decorrelated jitter names it).
    pub fn explain_after(&self, attempt: u32, previous: Option<f64>, value: f64) -> String {
        match self {
            Wait::Exponential(p) => {
                let raw = exp_term(p.multiplier, p.exp_base, attempt).unwrap_or(f64::INFINITY);
                format!(
                    "exponential {} (= {} x {}^{} = {}, clamped to [{}, {}])",
                    Secs(value).human(),
                    p.multiplier,
                    p.exp_base,
                    attempt.saturating_sub(1),
                    Secs(raw).human(),
                    p.min.human(),
                    p.max.human()
                )
            }
            Wait::Fixed(_) => format!("fixed {}", Secs(value).human()),
            Wait::Random(p) => format!(
                "random {} in [{}, {}]",
                Secs(value).human(),
                p.min.human(),
                p.max.human()
            ),
            Wait::RandomExponential(_) => {
                let (lo, hi) = self.range(attempt);
                format!(
                    "full jitter {} in [{}, {}]",
                    Secs(value).human(),
                    Secs(lo).human(),
                    Secs(hi).human()
                )
            }
            Wait::ExponentialJitter(_) => {
                let (lo, hi) = self.range(attempt);
                format!(
                    "exponential jitter {} in [{}, {}]",
                    Secs(value).human(),
                    Secs(lo).human(),
                    Secs(hi).human()
                )
            }
            Wait::Incrementing(_) => format!("incrementing {}", Secs(value).human()),
            Wait::Chain(l) => match Self::chain_pick(l, attempt) {
                Some(w) => format!(
                    "chain step {}: {}",
                    (attempt.max(1) as usize).min(l.len()),
                    w.explain_after(attempt, previous, value)
                ),
                None => "empty chain 0 s".into(),
            },
            Wait::Sum(_) => format!("sum {}", Secs(value).human()),
            Wait::DecorrelatedJitter(p) => p.explain(previous, value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(7)
    }

    fn exp(multiplier: f64, exp_base: f64, min: f64, max: f64) -> Wait {
        Wait::Exponential(ExponentialParams {
            multiplier,
            exp_base,
            min: Secs(min),
            max: Secs(max),
        })
    }

    fn seq(w: &Wait, n: u32) -> Vec<f64> {
        let mut r = rng();
        (1..=n).map(|a| w.compute(a, &mut r)).collect()
    }

    #[test]
    fn exponential_mirascope_example() {
        // wait_exponential(multiplier=1, min=4, max=10): 1,2,4,8,16,32 clamped to [4,10].
        assert_eq!(
            seq(&exp(1.0, 2.0, 4.0, 10.0), 6),
            vec![4.0, 4.0, 4.0, 8.0, 10.0, 10.0]
        );
    }

    #[test]
    fn exponential_defaults_and_multiplier() {
        // Tenacity's defaults: multiplier 1, base 2, min 0, max inf -> 1, 2, 4, 8.
        assert_eq!(
            seq(&exp(1.0, 2.0, 0.0, f64::INFINITY), 4),
            vec![1.0, 2.0, 4.0, 8.0]
        );
        assert_eq!(
            seq(&exp(0.5, 3.0, 0.0, f64::INFINITY), 4),
            vec![0.5, 1.5, 4.5, 13.5]
        );
        // A negative min is clamped at 0 (max(0, min)).
        assert_eq!(seq(&exp(1.0, 2.0, -5.0, 3.0), 3), vec![1.0, 2.0, 3.0]);
        // min above max: min wins, as in max(max(0, min), min(result, max)).
        assert_eq!(seq(&exp(1.0, 2.0, 5.0, 3.0), 2), vec![5.0, 5.0]);
    }

    #[test]
    fn exponential_overflow_gives_max() {
        let w = exp(1.0, 2.0, 0.0, 60.0);
        assert_eq!(w.compute(5000, &mut rng()), 60.0);
        assert_eq!(w.compute(u32::MAX, &mut rng()), 60.0);
        let unbounded = exp(1.0, 2.0, 0.0, f64::INFINITY);
        assert_eq!(unbounded.compute(5000, &mut rng()), f64::INFINITY);
        // 0 * huge = 0 in Python's integer arithmetic.
        assert_eq!(exp(0.0, 2.0, 0.0, 10.0).compute(5000, &mut rng()), 0.0);
    }

    #[test]
    fn fixed_and_incrementing() {
        assert_eq!(seq(&Wait::Fixed(Secs(2.5)), 3), vec![2.5, 2.5, 2.5]);
        let inc = Wait::Incrementing(IncrementingParams {
            start: Secs(1.0),
            increment: Secs(2.0),
            max: Secs(6.0),
        });
        // start + increment * (attempt - 1), clamped to [0, max].
        assert_eq!(seq(&inc, 5), vec![1.0, 3.0, 5.0, 6.0, 6.0]);
    }

    #[test]
    fn random_stays_in_range_and_is_seeded() {
        let w = Wait::Random(RandomParams {
            min: Secs(1.0),
            max: Secs(3.0),
        });
        let a = seq(&w, 50);
        assert!(a.iter().all(|v| (1.0..3.0).contains(v)));
        assert_eq!(a, seq(&w, 50), "same seed, same waits");
        assert!(a.iter().any(|v| (a[0] - v).abs() > 1e-9), "it does vary");
    }

    #[test]
    fn random_exponential_is_uniform_between_min_and_exponential() {
        let w = Wait::RandomExponential(ExponentialParams {
            multiplier: 1.0,
            exp_base: 2.0,
            min: Secs(0.0),
            max: Secs(10.0),
        });
        let mut r = rng();
        for attempt in 1..=8 {
            let (lo, hi) = w.range(attempt);
            assert_eq!(lo, 0.0);
            assert_eq!(hi, f64::min(2f64.powi(attempt as i32 - 1), 10.0));
            for _ in 0..20 {
                let v = w.compute(attempt, &mut r);
                assert!(v >= lo && v <= hi, "{v} in {lo}..{hi}");
            }
        }
    }

    #[test]
    fn random_exponential_draws_like_python_uniform() {
        // uniform(a, b) = a + (b - a) * random(): with the same draw, the value is exact.
        let w = Wait::RandomExponential(ExponentialParams {
            multiplier: 1.0,
            exp_base: 2.0,
            min: Secs(1.0),
            max: Secs(10.0),
        });
        let mut r1 = rng();
        let mut r2 = rng();
        let draw: f64 = r2.random();
        assert_eq!(w.compute(4, &mut r1), 1.0 + (8.0 - 1.0) * draw);
    }

    #[test]
    fn exponential_jitter_adds_then_clamps() {
        let w = Wait::ExponentialJitter(JitterParams {
            initial: Secs(1.0),
            exp_base: 2.0,
            max: Secs(5.0),
            jitter: Secs(1.0),
        });
        let mut r1 = rng();
        let mut r2 = rng();
        for attempt in 1..=5 {
            let draw: f64 = r2.random();
            // Tenacity's own expression, not `clamp`, on purpose.
            #[allow(clippy::manual_clamp)]
            let expected = f64::max(0.0, f64::min(2f64.powi(attempt as i32 - 1) + draw, 5.0));
            assert_eq!(w.compute(attempt, &mut r1), expected);
        }
        assert_eq!(w.range(1), (1.0, 2.0));
        assert_eq!(w.range(3), (4.0, 5.0));
        assert_eq!(w.range(4), (5.0, 5.0));
    }

    #[test]
    fn chain_uses_the_attempt_number_and_repeats_the_last() {
        let w = Wait::Chain(vec![
            Wait::Fixed(Secs(1.0)),
            Wait::Fixed(Secs(2.0)),
            Wait::Fixed(Secs(5.0)),
        ]);
        assert_eq!(seq(&w, 5), vec![1.0, 2.0, 5.0, 5.0, 5.0]);
        // Inner strategies see the overall attempt number.
        let w = Wait::Chain(vec![
            Wait::Fixed(Secs(1.0)),
            exp(1.0, 2.0, 0.0, f64::INFINITY),
        ]);
        assert_eq!(seq(&w, 4), vec![1.0, 2.0, 4.0, 8.0]);
        assert_eq!(Wait::Chain(vec![]).compute(1, &mut rng()), 0.0);
    }

    #[test]
    fn sum_adds_each_strategy() {
        let w = Wait::Sum(vec![Wait::Fixed(Secs(3.0)), exp(1.0, 2.0, 0.0, 10.0)]);
        assert_eq!(seq(&w, 3), vec![4.0, 5.0, 7.0]);
        let j = Wait::Sum(vec![
            Wait::Fixed(Secs(3.0)),
            Wait::Random(RandomParams {
                min: Secs(0.0),
                max: Secs(2.0),
            }),
        ]);
        assert_eq!(j.range(1), (3.0, 5.0));
        assert!(j.is_random());
    }

    #[test]
    fn parses_every_form_from_toml() {
        #[derive(Deserialize)]
        struct T {
            wait: Wait,
        }
        let p = |s: &str| toml::from_str::<T>(&format!("wait = {s}")).map(|t| t.wait);
        assert_eq!(p("{ fixed = \"250ms\" }").unwrap(), Wait::Fixed(Secs(0.25)));
        assert_eq!(
            p("{ exponential = { multiplier = 1, min = 4, max = 10 } }").unwrap(),
            exp(1.0, 2.0, 4.0, 10.0)
        );
        assert_eq!(
            p("{ exponential = {} }").unwrap(),
            exp(1.0, 2.0, 0.0, f64::INFINITY)
        );
        assert!(matches!(
            p("{ random = { min = 1, max = 2 } }").unwrap(),
            Wait::Random(_)
        ));
        assert!(matches!(
            p("{ random_exponential = { max = 60 } }").unwrap(),
            Wait::RandomExponential(_)
        ));
        assert!(matches!(
            p("{ exponential_jitter = { initial = 1 } }").unwrap(),
            Wait::ExponentialJitter(_)
        ));
        assert!(matches!(
            p("{ incrementing = { start = 1 } }").unwrap(),
            Wait::Incrementing(_)
        ));
        assert!(matches!(
            p("{ chain = [{ fixed = 1 }, { fixed = 2 }] }").unwrap(),
            Wait::Chain(_)
        ));
        assert!(matches!(
            p("{ sum = [{ fixed = 1 }, { fixed = 2 }] }").unwrap(),
            Wait::Sum(_)
        ));
        assert!(p("{ exponential = { multiplyer = 1 } }").is_err());
        assert!(p("{ expo = 1 }").is_err());
    }

    #[test]
    fn describes_like_tenacity() {
        assert_eq!(
            exp(1.0, 2.0, 4.0, 10.0).describe(),
            "wait_exponential(multiplier=1, min=4 s, max=10 s)"
        );
        assert_eq!(Wait::Fixed(Secs(2.0)).describe(), "wait_fixed(2 s)");
    }
}
