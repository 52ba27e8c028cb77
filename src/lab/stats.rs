//! One policy's numbers over every call: histograms (hdrhistogram, 3 significant digits)
//! and counters, so memory stays flat in the number of calls; percentiles come from the
//! histograms, never from sorting the calls.

use super::tally::{Ending, Tally};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;

fn histogram() -> Histogram<u64> {
    // Auto-resizing from 1 to whatever is recorded, 3 significant digits.
    let mut h = Histogram::new(3).unwrap_or_else(|_| unreachable!("3 sig figs are valid"));
    h.auto(true);
    h
}

/// Records `v`, growing the histogram to hold it (`saturating_record` would clamp instead).
fn record(h: &mut Histogram<u64>, v: u64) {
    if h.record(v).is_err() {
        h.saturating_record(v);
    }
}

/// Requests per 100 ms window of the shared clock (load mode), and 429s per second.
#[derive(Debug, Default, Clone)]
pub struct Timeline {
    windows: BTreeMap<u64, u32>,
    rate_limited: BTreeMap<u64, u32>,
}

impl Timeline {
    pub fn request(&mut self, t_ms: u64) {
        *self.windows.entry(t_ms / 100).or_default() += 1;
    }

    pub fn rate_limited(&mut self, t_ms: u64) {
        *self.rate_limited.entry(t_ms / 1000).or_default() += 1;
    }

    /// The herd: the most requests in one 100 ms window.
    pub fn herd(&self) -> u32 {
        self.windows.values().copied().max().unwrap_or(0)
    }

    /// Requests in each second from 0 to the last request.
    pub fn per_second(&self) -> Vec<u32> {
        let last = self.windows.keys().next_back().map_or(0, |w| w / 10 + 1);
        let mut out = vec![0; usize::try_from(last).unwrap_or(0)];
        for (w, n) in &self.windows {
            if let Some(s) = out.get_mut(usize::try_from(w / 10).unwrap_or(usize::MAX)) {
                *s += n;
            }
        }
        out
    }

    pub fn rate_limited_per_second(&self) -> Vec<u32> {
        let len = self.per_second().len();
        let mut out = vec![0; len];
        for (s, n) in &self.rate_limited {
            if let Some(x) = out.get_mut(usize::try_from(*s).unwrap_or(usize::MAX)) {
                *x += n;
            }
        }
        out
    }
}

pub struct PolicyStats {
    pub label: String,
    pub calls: u64,
    pub endings: BTreeMap<&'static str, u64>,
    latency_ms: Histogram<u64>,
    /// Exact, beside the histogram's 3-digit buckets.
    latency_max: u64,
    attempts_sum: u64,
    attempts_max: u32,
    requests_sum: u64,
    requests_max: u32,
    wait_ms_total: u64,
    tokens: Histogram<u64>,
    /// Cost per call in micro-dollars, over the calls with a price.
    cost_micros: Histogram<u64>,
    cost_total: f64,
    /// Calls that reached fallback hop h (h ≥ 1).
    hops: BTreeMap<u32, u64>,
    pub timeline: Option<Timeline>,
    /// Calls an open breaker failed fast (an attempt refused), when the policy has one.
    breaker_calls: Option<u64>,
    /// Retries the budget denied, when the policy has one.
    budget_denied: Option<u64>,
}

impl PolicyStats {
    pub fn new(label: impl Into<String>, load_mode: bool) -> PolicyStats {
        PolicyStats {
            label: label.into(),
            calls: 0,
            endings: BTreeMap::new(),
            latency_ms: histogram(),
            latency_max: 0,
            attempts_sum: 0,
            attempts_max: 0,
            requests_sum: 0,
            requests_max: 0,
            wait_ms_total: 0,
            tokens: histogram(),
            cost_micros: histogram(),
            cost_total: 0.0,
            hops: BTreeMap::new(),
            timeline: load_mode.then(Timeline::default),
            breaker_calls: None,
            budget_denied: None,
        }
    }

    /// Counts what a `[breaker]` / `[budget]` did (their rows are shown only then).
    pub fn sharing(mut self, breaker: bool, budget: bool) -> PolicyStats {
        self.breaker_calls = breaker.then_some(0);
        self.budget_denied = budget.then_some(0);
        self
    }

    /// Counts one finished call; a call cut short by cancelling the lab is left out (it says
    /// nothing about the policy).
    pub fn add(&mut self, t: &Tally) {
        let ending = t.ending.unwrap_or(Ending::Cancelled);
        if ending == Ending::Cancelled {
            return;
        }
        self.calls += 1;
        *self.endings.entry(ending.label()).or_default() += 1;
        record(&mut self.latency_ms, t.latency_ms());
        self.latency_max = self.latency_max.max(t.latency_ms());
        self.attempts_sum += u64::from(t.attempts);
        self.attempts_max = self.attempts_max.max(t.attempts);
        self.requests_sum += u64::from(t.requests);
        self.requests_max = self.requests_max.max(t.requests);
        self.wait_ms_total += t.wait_ms;
        record(&mut self.tokens, t.tokens);
        if let Some(usd) = t.cost_usd {
            record(&mut self.cost_micros, (usd * 1e6).round().max(0.0) as u64);
            self.cost_total += usd;
        }
        if let Some(n) = self.breaker_calls.as_mut() {
            *n += u64::from(t.breaker_refused > 0);
        }
        if let Some(n) = self.budget_denied.as_mut() {
            *n += u64::from(t.budget_denied);
        }
        for h in 1..=t.deepest_hop {
            *self.hops.entry(h).or_default() += 1;
        }
        if let Some(tl) = self.timeline.as_mut() {
            t.requests_at.iter().for_each(|&at| tl.request(at));
            t.limited_at.iter().for_each(|&at| tl.rate_limited(at));
        }
    }

    pub fn ok(&self) -> u64 {
        self.endings.get("ok").copied().unwrap_or(0)
    }

    pub fn success_rate(&self) -> f64 {
        ratio(self.ok(), self.calls)
    }

    /// The latency at quantile `q`: the bottom of its histogram bucket (within 0.1 %), so a
    /// value every call shares reads exactly.
    pub fn latency_at(&self, q: f64) -> u64 {
        let h = &self.latency_ms;
        h.lowest_equivalent(h.value_at_quantile(q))
            .clamp(h.min(), self.latency_max)
    }

    pub fn mean_attempts(&self) -> f64 {
        ratio(self.attempts_sum, self.calls)
    }

    /// The report's shape (`lab_policy`).
    pub fn report(&self) -> PolicyReport {
        let priced = self.cost_micros.len();
        PolicyReport {
            event: "lab_policy",
            policy: self.label.clone(),
            calls: self.calls,
            success_rate: self.success_rate(),
            outcomes: self
                .endings
                .iter()
                .map(|(k, v)| ((*k).to_string(), *v))
                .collect(),
            latency_ms: Latency {
                p50: self.latency_at(0.50),
                p90: self.latency_at(0.90),
                p95: self.latency_at(0.95),
                p99: self.latency_at(0.99),
                max: self.latency_max,
                mean: self.latency_ms.mean(),
                histogram: buckets(&self.latency_ms),
            },
            attempts: MeanMax {
                mean: self.mean_attempts(),
                max: self.attempts_max,
            },
            requests: MeanMax {
                mean: ratio(self.requests_sum, self.calls),
                max: self.requests_max,
            },
            wait_ms: Waiting {
                total: self.wait_ms_total,
                mean: ratio(self.wait_ms_total, self.calls),
            },
            tokens: MeanP95 {
                mean: self.tokens.mean(),
                p95: self.tokens.value_at_quantile(0.95) as f64,
            },
            cost_usd: (priced > 0).then(|| CostReport {
                mean: self.cost_micros.mean() / 1e6,
                p95: self.cost_micros.value_at_quantile(0.95) as f64 / 1e6,
                total: self.cost_total,
                priced_calls: priced,
            }),
            fallback_hops: self.hops.iter().map(|(h, n)| (h.to_string(), *n)).collect(),
            breaker_fast_failed: self.breaker_calls,
            budget_denied: self.budget_denied,
            load: self.timeline.as_ref().map(|t| Load {
                herd_max_per_100ms: t.herd(),
                requests_per_second: t.per_second(),
                rate_limited_per_second: t.rate_limited_per_second(),
            }),
        }
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// The histogram in buckets doubling from 1 ms: `[upper bound, count]`, empty ones left out.
fn buckets(h: &Histogram<u64>) -> Vec<(u64, u64)> {
    if h.is_empty() {
        return Vec::new();
    }
    h.iter_log(1, 2.0)
        .filter(|v| v.count_since_last_iteration() > 0)
        .map(|v| (v.value_iterated_to(), v.count_since_last_iteration()))
        .collect()
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PolicyReport {
    pub event: &'static str,
    pub policy: String,
    pub calls: u64,
    pub success_rate: f64,
    pub outcomes: BTreeMap<String, u64>,
    pub latency_ms: Latency,
    pub attempts: MeanMax,
    pub requests: MeanMax,
    pub wait_ms: Waiting,
    pub tokens: MeanP95,
    pub cost_usd: Option<CostReport>,
    pub fallback_hops: BTreeMap<String, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<Load>,
    /// Calls an open breaker failed fast (at least one attempt refused, never sent); only
    /// for a policy with a `[breaker]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker_fast_failed: Option<u64>,
    /// Retries the retry budget denied; only for a policy with a `[budget]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_denied: Option<u64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Latency {
    pub p50: u64,
    pub p90: u64,
    pub p95: u64,
    pub p99: u64,
    pub max: u64,
    pub mean: f64,
    /// `[upper bound in ms, calls]`, buckets doubling from 1 ms.
    pub histogram: Vec<(u64, u64)>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MeanMax {
    pub mean: f64,
    pub max: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Waiting {
    pub total: u64,
    pub mean: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MeanP95 {
    pub mean: f64,
    pub p95: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CostReport {
    pub mean: f64,
    pub p95: f64,
    pub total: f64,
    pub priced_calls: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Load {
    pub herd_max_per_100ms: u32,
    pub requests_per_second: Vec<u32>,
    pub rate_limited_per_second: Vec<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_cut_short_by_cancelling_the_lab_is_not_counted() {
        let mut s = PolicyStats::new("p", false);
        let ok = Tally {
            end_ms: 10,
            attempts: 1,
            requests: 1,
            ending: Some(Ending::Ok),
            ..Tally::default()
        };
        s.add(&ok);
        for ending in [Some(Ending::Cancelled), None] {
            s.add(&Tally {
                ending,
                attempts: 3,
                ..Tally::default()
            });
        }
        let r = s.report();
        assert_eq!(r.calls, 1);
        assert_eq!(r.success_rate, 1.0);
    }

    #[test]
    fn percentiles_come_from_the_histogram() {
        let mut s = PolicyStats::new("p", false);
        for ms in 1..=1000 {
            s.add(&Tally {
                end_ms: ms,
                attempts: 1,
                requests: 1,
                ending: Some(Ending::Ok),
                ..Tally::default()
            });
        }
        let r = s.report();
        assert_eq!(r.calls, 1000);
        assert_eq!(r.latency_ms.max, 1000);
        assert!(
            (r.latency_ms.p50 as i64 - 500).abs() <= 1,
            "{}",
            r.latency_ms.p50
        );
        assert!(
            (r.latency_ms.p99 as i64 - 990).abs() <= 1,
            "{}",
            r.latency_ms.p99
        );
        assert_eq!(r.success_rate, 1.0);
    }

    #[test]
    fn the_herd_is_the_busiest_100ms_window() {
        let mut t = Timeline::default();
        for ms in [0, 10, 99, 100, 1500] {
            t.request(ms);
        }
        assert_eq!(t.herd(), 3);
        assert_eq!(t.per_second(), vec![4, 1]);
    }
}
