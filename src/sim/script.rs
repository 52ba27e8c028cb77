//! The `[sim]` script: which fault or answer each request gets, and at what pace. Pure and
//! deterministic for the same requests at the same run-clock times: chaos and latency draw
//! from the request's own key (`[sim].seed`, provider, model, its number), so a request
//! meets the same draws whichever requests came before it or were answered otherwise.
//!
//! Precedence (DESIGN §11): scripted `faults` > `outages` > `limits` > `chaos`. A request a
//! fault or an outage answers takes no token from a limit (it never reached the bucket).

use super::latency::Latency;
use super::limits::{LimitInfo, Limits};
use super::tokens::Pace;
use crate::scenario::types::{
    FaultKind, FaultSpec, OutageSpec, ProviderKind, SimSpec, SimToolCall,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::time::Duration;

/// The text a request gets when the script sets neither `reply` nor `replies`.
pub const DEFAULT_REPLY: &str = "This is a simulated reply from the retrylab simulator.";

/// What one request gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// 1-based over every request the server has seen (for ids).
    pub global: u64,
    /// 1-based per provider+model.
    pub number: u32,
    /// The fault that replaces (or breaks) the answer, if any.
    pub fault: Option<FaultSpec>,
    /// Which part of the script chose the fault.
    pub source: Option<Source>,
    /// The answer (also what a stream fault sends part of).
    pub content: Content,
    /// When the reply's tokens are due.
    pub pace: Pace,
    /// The bucket's state, when a `limits` entry covers the request.
    pub limit: Option<LimitInfo>,
}

/// Where a request's fault came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Scripted,
    Outage,
    Limit,
    Chaos,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Scripted => "faults",
            Source::Outage => "outage",
            Source::Limit => "limit",
            Source::Chaos => "chaos",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Text(String),
    ToolCall(SimToolCall),
}

/// The mutable side of the script: counters, fault uses and the chaos RNG.
#[derive(Debug)]
pub struct Script {
    spec: SimSpec,
    counts: BTreeMap<(String, String), u32>,
    tool_counts: BTreeMap<(String, String), u32>,
    fault_uses: Vec<u32>,
    limits: Limits,
    latency: Latency,
    global: u64,
}

impl Script {
    pub fn new(spec: SimSpec) -> Script {
        Script {
            fault_uses: vec![0; spec.faults.len()],
            limits: Limits::new(&spec.limits),
            latency: Latency::new(&spec),
            spec,
            counts: BTreeMap::new(),
            tool_counts: BTreeMap::new(),
            global: 0,
        }
    }

    pub fn spec(&self) -> &SimSpec {
        &self.spec
    }

    /// Requests served so far per (provider, model).
    pub fn counts(&self) -> &BTreeMap<(String, String), u32> {
        &self.counts
    }

    /// Counts a request that starts at `now` on the run clock and decides what it gets.
    pub fn next(
        &mut self,
        provider: ProviderKind,
        model: &str,
        offers_tools: bool,
        now: Duration,
    ) -> Decision {
        self.global += 1;
        let key = (provider.as_str().to_string(), model.to_string());
        let number = bump(&mut self.counts, &key);
        let tool_number = if offers_tools && !self.spec.tool_calls.is_empty() {
            Some(bump(&mut self.tool_counts, &key))
        } else {
            None
        };

        let mut limit = None;
        let mut chosen = self
            .scripted_fault(provider, model, number)
            .map(|f| (f, Source::Scripted))
            .or_else(|| {
                self.outage_fault(provider, model, now)
                    .map(|f| (f, Source::Outage))
            });
        if chosen.is_none() {
            limit = self.limits.take(provider, model, now);
            chosen = limit
                .and_then(|l| l.retry_after)
                .map(|wait| (limit_fault(wait), Source::Limit));
        }
        // Drawn for every request, hit or not, from its own key: a request meets the same
        // draws whatever was asked before it (common random numbers across policies).
        let key = request_key(self.spec.seed, provider, model, number);
        let chaos = self.chaos_fault(key);
        let chosen = chosen.or_else(|| chaos.map(|f| (f, Source::Chaos)));
        let (fault, source) = chosen.unzip();

        // These faults change how a text answer ends; a tool call has no such ending.
        let text_only = fault.as_ref().is_some_and(|f| {
            matches!(
                f.fault,
                FaultKind::ContentFilter | FaultKind::Length | FaultKind::Empty
            )
        });
        // An entry's own answer (a recorded one, `retrylab whatif`) comes first.
        let own_call = fault
            .as_ref()
            .and_then(|f| f.tool_call.clone())
            .filter(|_| offers_tools && !text_only);
        let own_text = fault.as_ref().and_then(|f| f.reply.clone());
        let content = match (own_call, own_text, tool_number) {
            (Some(call), _, _) => Content::ToolCall(call),
            (None, Some(text), _) => Content::Text(text),
            (None, None, Some(n)) if !text_only => {
                Content::ToolCall(nth_or_last(&self.spec.tool_calls, n).clone())
            }
            _ => Content::Text(self.reply_text(number)),
        };
        Decision {
            global: self.global,
            number,
            fault,
            source,
            content,
            pace: self.latency.draw(key),
            limit,
        }
    }

    /// The first outage whose window holds `now` and that covers the request.
    fn outage_fault(
        &self,
        provider: ProviderKind,
        model: &str,
        now: Duration,
    ) -> Option<FaultSpec> {
        let t = now.as_secs_f64();
        self.spec
            .outages
            .iter()
            .find(|o| {
                o.provider == provider
                    && o.model.as_deref().is_none_or(|m| m == model)
                    && o.from.0 <= t
                    && t < o.to.0
            })
            .map(OutageSpec::fault_spec)
    }

    fn scripted_fault(
        &mut self,
        provider: ProviderKind,
        model: &str,
        number: u32,
    ) -> Option<FaultSpec> {
        let index = self.spec.faults.iter().enumerate().position(|(i, f)| {
            f.provider.is_none_or(|p| p == provider)
                && f.model.as_deref().is_none_or(|m| m == model)
                && f.on_requests
                    .as_ref()
                    .is_none_or(|list| list.contains(&number))
                && uses_left(f, self.fault_uses[i])
        })?;
        self.fault_uses[index] += 1;
        Some(self.spec.faults[index].clone())
    }

    /// One uniform draw per request picks at most one fault, in the map's (stable) order.
    fn chaos_fault(&self, key: u64) -> Option<FaultSpec> {
        if self.spec.chaos.is_empty() {
            return None;
        }
        let draw: f64 = ChaCha8Rng::seed_from_u64(key).random();
        let mut edge = 0.0;
        for (kind, p) in &self.spec.chaos {
            if !(p.is_finite() && *p > 0.0) {
                continue;
            }
            edge += p;
            if draw < edge {
                return Some(bare_fault(*kind));
            }
        }
        None
    }

    fn reply_text(&self, number: u32) -> String {
        if !self.spec.replies.is_empty() {
            return nth_or_last(&self.spec.replies, number).clone();
        }
        self.spec
            .reply
            .clone()
            .unwrap_or_else(|| DEFAULT_REPLY.to_string())
    }
}

/// The key of the `number`-th request to `provider`/`model` under `seed`: its chaos and
/// latency draws come from it alone (FNV-1a of the target, mixed with SplitMix64).
pub fn request_key(seed: u64, provider: ProviderKind, model: &str, number: u32) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in provider.as_str().bytes().chain([0]).chain(model.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = seed ^ h.rotate_left(17) ^ u64::from(number).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A fault with every parameter at its default (what chaos injects).
pub fn bare_fault(fault: FaultKind) -> FaultSpec {
    FaultSpec {
        provider: None,
        model: None,
        fault,
        times: None,
        on_requests: None,
        retry_after: None,
        retry_after_format: None,
        after_tokens: None,
        delay: None,
        message: None,
        status: None,
        reply: None,
        tool_call: None,
    }
}

/// The 429 of an empty bucket, whose Retry-After is the time until a token frees.
fn limit_fault(wait: Duration) -> FaultSpec {
    FaultSpec {
        retry_after: Some(crate::policy::Secs(wait.as_secs_f64())),
        ..bare_fault(FaultKind::RateLimit)
    }
}

fn uses_left(f: &FaultSpec, used: u32) -> bool {
    match (f.times, &f.on_requests) {
        (Some(times), _) => used < times,
        (None, Some(_)) => true,
        (None, None) => used < 1,
    }
}

fn bump(map: &mut BTreeMap<(String, String), u32>, key: &(String, String)) -> u32 {
    let n = map.entry(key.clone()).or_insert(0);
    *n += 1;
    *n
}

/// `list[n-1]`, the last entry once `n` runs past the end. `list` must not be empty.
fn nth_or_last<T>(list: &[T], n: u32) -> &T {
    let i = (n as usize).saturating_sub(1).min(list.len() - 1);
    &list[i]
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProviderKind::{Anthropic, Openai};

    fn fault(kind: FaultKind) -> FaultSpec {
        bare_fault(kind)
    }

    fn kinds(
        script: &mut Script,
        p: ProviderKind,
        model: &str,
        n: usize,
    ) -> Vec<Option<FaultKind>> {
        (0..n)
            .map(|_| {
                script
                    .next(p, model, false, Duration::ZERO)
                    .fault
                    .map(|f| f.fault)
            })
            .collect()
    }

    #[test]
    fn times_default_to_one_without_on_requests() {
        let spec = SimSpec {
            faults: vec![fault(FaultKind::RateLimit)],
            ..SimSpec::default()
        };
        let mut s = Script::new(spec);
        assert_eq!(
            kinds(&mut s, Openai, "m", 3),
            vec![Some(FaultKind::RateLimit), None, None]
        );
    }

    #[test]
    fn on_requests_is_unlimited_unless_times_is_set() {
        let spec = SimSpec {
            faults: vec![
                FaultSpec {
                    on_requests: Some(vec![1, 3]),
                    ..fault(FaultKind::ServerError)
                },
                FaultSpec {
                    on_requests: Some(vec![2, 4]),
                    times: Some(1),
                    ..fault(FaultKind::Auth)
                },
            ],
            ..SimSpec::default()
        };
        let mut s = Script::new(spec);
        assert_eq!(
            kinds(&mut s, Openai, "m", 4),
            vec![
                Some(FaultKind::ServerError),
                Some(FaultKind::Auth),
                Some(FaultKind::ServerError),
                None
            ]
        );
        // Counted per provider+model: another model starts at request 1 again.
        assert_eq!(
            kinds(&mut s, Openai, "other", 1),
            vec![Some(FaultKind::ServerError)]
        );
    }

    #[test]
    fn filters_on_provider_and_model_and_first_match_wins() {
        let spec = SimSpec {
            faults: vec![
                FaultSpec {
                    provider: Some(Anthropic),
                    times: Some(5),
                    ..fault(FaultKind::Overloaded)
                },
                FaultSpec {
                    model: Some("a".into()),
                    times: Some(2),
                    ..fault(FaultKind::RateLimit)
                },
                fault(FaultKind::Html),
            ],
            ..SimSpec::default()
        };
        let mut s = Script::new(spec);
        assert_eq!(
            kinds(&mut s, Openai, "a", 3),
            vec![
                Some(FaultKind::RateLimit),
                Some(FaultKind::RateLimit),
                Some(FaultKind::Html)
            ]
        );
        assert_eq!(
            kinds(&mut s, Anthropic, "a", 1),
            vec![Some(FaultKind::Overloaded)]
        );
        assert_eq!(s.counts()[&("openai".into(), "a".into())], 3);
        assert_eq!(s.counts()[&("anthropic".into(), "a".into())], 1);
    }

    #[test]
    fn replies_follow_the_request_number_and_the_last_repeats() {
        let spec = SimSpec {
            replies: vec!["one".into(), "two".into()],
            ..SimSpec::default()
        };
        let mut s = Script::new(spec);
        let texts: Vec<_> = (0..3)
            .map(|_| s.next(Openai, "m", false, Duration::ZERO).content)
            .collect();
        assert_eq!(
            texts,
            vec![
                Content::Text("one".into()),
                Content::Text("two".into()),
                Content::Text("two".into())
            ]
        );
        let mut plain = Script::new(SimSpec::default());
        assert_eq!(
            plain.next(Openai, "m", true, Duration::ZERO).content,
            Content::Text(DEFAULT_REPLY.into())
        );
    }

    #[test]
    fn tool_calls_only_answer_requests_that_offer_tools() {
        let call = |args: &str| SimToolCall {
            name: "f".into(),
            args: args.into(),
        };
        let spec = SimSpec {
            reply: Some("text".into()),
            tool_calls: vec![call("1"), call("2")],
            ..SimSpec::default()
        };
        let mut s = Script::new(spec);
        assert_eq!(
            s.next(Openai, "m", false, Duration::ZERO).content,
            Content::Text("text".into())
        );
        assert_eq!(
            s.next(Openai, "m", true, Duration::ZERO).content,
            Content::ToolCall(call("1"))
        );
        assert_eq!(
            s.next(Openai, "m", false, Duration::ZERO).content,
            Content::Text("text".into())
        );
        assert_eq!(
            s.next(Openai, "m", true, Duration::ZERO).content,
            Content::ToolCall(call("2"))
        );
        assert_eq!(
            s.next(Openai, "m", true, Duration::ZERO).content,
            Content::ToolCall(call("2"))
        );
    }

    #[test]
    fn a_request_meets_the_same_chaos_whatever_came_before_it() {
        // Common random numbers: request n to a model draws from its own key, so a scripted
        // fault on request 1, or requests to another model in between, change nothing for
        // the requests after them.
        let chaos = SimSpec {
            chaos: [(FaultKind::ServerError, 0.5)].into(),
            seed: 3,
            ..SimSpec::default()
        };
        let plain = kinds(&mut Script::new(chaos.clone()), Openai, "m", 50);
        let mut scripted = Script::new(SimSpec {
            faults: vec![
                serde_json::from_str(r#"{"fault": "timeout", "on_requests": [1]}"#)
                    .expect("a fault"),
            ],
            ..chaos.clone()
        });
        let mut mixed = Script::new(chaos);
        let mut got = Vec::new();
        let mut interleaved = Vec::new();
        for n in 0..50 {
            got.push(
                scripted
                    .next(Openai, "m", false, Duration::ZERO)
                    .fault
                    .map(|f| f.fault),
            );
            mixed.next(Anthropic, "other", false, Duration::ZERO);
            interleaved.push(
                mixed
                    .next(Openai, "m", false, Duration::ZERO)
                    .fault
                    .map(|f| f.fault),
            );
            if n == 0 {
                assert_eq!(got[0], Some(FaultKind::Timeout));
            }
        }
        assert_eq!(
            got[1..],
            plain[1..],
            "a scripted fault shifts no later draw"
        );
        assert_eq!(
            interleaved, plain,
            "requests to another model shift nothing"
        );
        assert!(plain.iter().any(Option::is_some) && plain.iter().any(Option::is_none));
    }

    #[test]
    fn chaos_is_deterministic_for_a_seed() {
        let spec = SimSpec {
            chaos: [(FaultKind::RateLimit, 0.3), (FaultKind::ServerError, 0.2)].into(),
            seed: 7,
            ..SimSpec::default()
        };
        let a = kinds(&mut Script::new(spec.clone()), Openai, "m", 200);
        let b = kinds(&mut Script::new(spec.clone()), Openai, "m", 200);
        assert_eq!(a, b);
        let rate = a
            .iter()
            .filter(|k| **k == Some(FaultKind::RateLimit))
            .count();
        let server = a
            .iter()
            .filter(|k| **k == Some(FaultKind::ServerError))
            .count();
        assert!((35..=85).contains(&rate), "{rate}");
        assert!((20..=60).contains(&server), "{server}");
        let other = kinds(
            &mut Script::new(SimSpec { seed: 8, ..spec }),
            Openai,
            "m",
            200,
        );
        assert_ne!(a, other);
    }
}
