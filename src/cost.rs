//! What an attempt costs: a price table (built in, overridable from config `[prices]`) and
//! the rule for pricing an attempt from its usage, or from an estimate of its tokens when the
//! reply carried none (a broken stream, a server that sends no usage).
//!
//! Rejected requests (an HTTP error status, no connection) are not billed by the providers,
//! so they cost 0; anything the server may have processed is priced.

use crate::event::Usage;
use crate::provider::ChatRequest;
use std::collections::BTreeMap;

/// Dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

impl Price {
    pub const fn new(input_per_mtok: f64, output_per_mtok: f64) -> Price {
        Price {
            input_per_mtok,
            output_per_mtok,
        }
    }

    /// Dollars for `usage`.
    pub fn of(self, usage: Usage) -> f64 {
        round_usd(
            (usage.input_tokens as f64 * self.input_per_mtok
                + usage.output_tokens as f64 * self.output_per_mtok)
                / 1e6,
        )
    }
}

/// List prices, USD per million tokens (input, output), as the providers published them in
/// 2025 (checked 2025-11). An estimate: cached input, batch, priority and long-context tiers
/// are not modelled. A model matches its entry exactly or as a dated/suffixed variant
/// (`gpt-4o-mini-2024-07-18`, `claude-3-5-sonnet-latest`); the longest entry wins.
const BUILTIN: &[(&str, Price)] = &[
    // OpenAI
    ("gpt-5", Price::new(1.25, 10.00)),
    ("gpt-5-mini", Price::new(0.25, 2.00)),
    ("gpt-5-nano", Price::new(0.05, 0.40)),
    ("gpt-4.1", Price::new(2.00, 8.00)),
    ("gpt-4.1-mini", Price::new(0.40, 1.60)),
    ("gpt-4.1-nano", Price::new(0.10, 0.40)),
    ("gpt-4o", Price::new(2.50, 10.00)),
    ("gpt-4o-mini", Price::new(0.15, 0.60)),
    ("gpt-4-turbo", Price::new(10.00, 30.00)),
    ("gpt-3.5-turbo", Price::new(0.50, 1.50)),
    ("o1", Price::new(15.00, 60.00)),
    ("o1-mini", Price::new(1.10, 4.40)),
    ("o3", Price::new(2.00, 8.00)),
    ("o3-mini", Price::new(1.10, 4.40)),
    ("o4-mini", Price::new(1.10, 4.40)),
    // OpenAI, served by the Responses API only (`openai-responses`; the models above are
    // priced the same on both APIs)
    ("gpt-5-pro", Price::new(15.00, 120.00)),
    ("gpt-5-codex", Price::new(1.25, 10.00)),
    ("codex-mini-latest", Price::new(1.50, 6.00)),
    ("o1-pro", Price::new(150.00, 600.00)),
    ("o3-pro", Price::new(20.00, 80.00)),
    ("o3-deep-research", Price::new(10.00, 40.00)),
    ("o4-mini-deep-research", Price::new(2.00, 8.00)),
    ("computer-use-preview", Price::new(3.00, 12.00)),
    // Azure OpenAI's names for OpenAI's models (a deployment named after its model is
    // priced by it; any other deployment name takes a [prices] entry in config.toml).
    ("gpt-35-turbo", Price::new(0.50, 1.50)),
    ("gpt-35-turbo-16k", Price::new(0.50, 1.50)),
    // Anthropic
    ("claude-3-haiku", Price::new(0.25, 1.25)),
    ("claude-3-opus", Price::new(15.00, 75.00)),
    ("claude-3-5-haiku", Price::new(0.80, 4.00)),
    ("claude-3-5-sonnet", Price::new(3.00, 15.00)),
    ("claude-3-7-sonnet", Price::new(3.00, 15.00)),
    ("claude-sonnet-4", Price::new(3.00, 15.00)),
    ("claude-sonnet-4-5", Price::new(3.00, 15.00)),
    ("claude-haiku-4-5", Price::new(1.00, 5.00)),
    ("claude-opus-4", Price::new(15.00, 75.00)),
    ("claude-opus-4-1", Price::new(15.00, 75.00)),
    ("claude-opus-4-5", Price::new(5.00, 25.00)),
    // Google Gemini (paid tier, prompts up to 200k tokens; thinking tokens bill as output)
    ("gemini-2.5-pro", Price::new(1.25, 10.00)),
    ("gemini-2.5-flash", Price::new(0.30, 2.50)),
    ("gemini-2.5-flash-lite", Price::new(0.10, 0.40)),
    ("gemini-2.0-flash", Price::new(0.10, 0.40)),
    ("gemini-2.0-flash-001", Price::new(0.10, 0.40)),
    ("gemini-2.0-flash-lite", Price::new(0.075, 0.30)),
];

/// The built-in prices, then the user's (which win).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceTable {
    overrides: BTreeMap<String, Price>,
}

impl PriceTable {
    /// The built-in table only.
    pub fn builtin() -> PriceTable {
        PriceTable::default()
    }

    /// The built-in table with the user's prices (model name → price) on top.
    pub fn with_overrides(overrides: BTreeMap<String, Price>) -> PriceTable {
        PriceTable {
            overrides: overrides
                .into_iter()
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v))
                .collect(),
        }
    }

    /// The price of `model`, if known.
    pub fn price(&self, model: &str) -> Option<Price> {
        let m = model.trim().to_ascii_lowercase();
        // OpenRouter-style `vendor/model` names price as the model.
        let bare = m.rsplit('/').next().unwrap_or(&m);
        let user = self.overrides.iter().map(|(k, p)| (k.as_str(), *p));
        best_match(&m, user.clone())
            .or_else(|| best_match(bare, user))
            .or_else(|| best_match(bare, BUILTIN.iter().copied()))
    }
}

/// The entry equal to `model`, else the longest entry `model` extends with a version: a
/// date (`-2024-07-18`, `-20241022`), `-latest`, or a `@`/`:` tag. Anything else is another
/// model (`gpt-4o-audio-preview`, a typo like `gpt-4o-minii`) and has no price.
fn best_match<'a>(model: &str, entries: impl Iterator<Item = (&'a str, Price)>) -> Option<Price> {
    let version = |rest: &str| {
        rest.starts_with(['@', ':'])
            || rest == "-latest"
            || rest
                .strip_prefix('-')
                .is_some_and(|r| r.len() >= 4 && r.bytes().take(4).all(|b| b.is_ascii_digit()))
    };
    let mut best: Option<(usize, Price)> = None;
    for (name, price) in entries {
        let fits = model == name || model.strip_prefix(name).is_some_and(version);
        if fits && best.is_none_or(|(len, _)| name.len() > len) {
            best = Some((name.len(), price));
        }
    }
    best.map(|(_, p)| p)
}

/// One attempt's cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cost {
    pub usd: f64,
    /// Some tokens were estimated (≈ 4 characters a token), not reported by the server.
    pub estimated: bool,
}

/// Whole dollars to 1e-10, so sums print without float noise.
fn round_usd(v: f64) -> f64 {
    (v * 1e10).round() / 1e10
}

/// ≈ 4 characters a token, rounded up: the usual rule of thumb for English text.
pub fn estimate_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

/// The input tokens of a request, estimated from its text: system, messages, tool calls
/// and tool definitions.
pub fn estimate_request_tokens(req: &ChatRequest) -> u64 {
    let mut n = req.system.as_deref().map_or(0, estimate_tokens);
    for m in &req.messages {
        n += estimate_tokens(&m.content);
        for c in &m.tool_calls {
            n += estimate_tokens(&c.name) + estimate_tokens(&c.args);
        }
    }
    for t in &req.tools {
        n += estimate_tokens(&t.name)
            + estimate_tokens(&t.description)
            + estimate_tokens(&t.parameters.to_string());
    }
    n
}

/// A reply's usage when the server reported one (zero in, zero out means it did not).
fn reported(usage: Usage) -> Option<Usage> {
    (usage.input_tokens > 0 || usage.output_tokens > 0).then_some(usage)
}

/// The cost of a successful attempt: from `usage`, else estimated from the request and the
/// reply text. `None` when the model has no price.
pub fn succeeded(
    prices: &PriceTable,
    model: &str,
    req: &ChatRequest,
    usage: Usage,
    reply: &str,
) -> Option<Cost> {
    let price = prices.price(model)?;
    Some(match reported(usage) {
        Some(u) => Cost {
            usd: price.of(u),
            estimated: false,
        },
        None => Cost {
            usd: price.of(Usage {
                input_tokens: estimate_request_tokens(req),
                output_tokens: estimate_tokens(reply),
            }),
            estimated: true,
        },
    })
}

/// How far a failed attempt got, for pricing it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FailedAt<'a> {
    /// The server refused the request (an HTTP error status) or was never reached: not
    /// billed.
    Rejected,
    /// The server accepted it (or may have: a timeout) and the attempt failed on the way or
    /// after: the reply's usage if it had one, else an estimate.
    Processed {
        usage: Option<Usage>,
        partial_output: &'a str,
    },
}

/// The cost of a failed attempt. `None` when the model has no price.
pub fn failed(
    prices: &PriceTable,
    model: &str,
    req: &ChatRequest,
    at: FailedAt<'_>,
) -> Option<Cost> {
    let price = prices.price(model)?;
    Some(match at {
        FailedAt::Rejected => Cost {
            usd: 0.0,
            estimated: false,
        },
        FailedAt::Processed {
            usage,
            partial_output,
        } => match usage.and_then(reported) {
            Some(u) => Cost {
                usd: price.of(u),
                estimated: false,
            },
            None => Cost {
                usd: price.of(Usage {
                    input_tokens: estimate_request_tokens(req),
                    output_tokens: estimate_tokens(partial_output),
                }),
                estimated: true,
            },
        },
    })
}

/// A run's running total.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Total {
    usd: f64,
    priced: bool,
    estimated: bool,
}

impl Total {
    pub fn add(&mut self, cost: Option<Cost>) {
        if let Some(c) = cost {
            self.usd = round_usd(self.usd + c.usd);
            self.priced = true;
            self.estimated |= c.estimated;
        }
    }

    /// The sum, when any attempt had a price.
    pub fn usd(&self) -> Option<f64> {
        self.priced.then_some(self.usd)
    }

    /// Some part of the sum was estimated.
    pub fn estimated(&self) -> bool {
        self.estimated
    }
}

/// `$0.0123`, `$1.50`, `$0.000021`: enough digits to see a small attempt's cost.
pub fn format_usd(usd: f64) -> String {
    if usd == 0.0 {
        "$0".into()
    } else if usd >= 1.0 {
        format!("${usd:.2}")
    } else if usd >= 0.01 {
        format!("${usd:.4}")
    } else {
        format!("${usd:.6}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{Message, ToolDef};

    fn req(text: &str) -> ChatRequest {
        ChatRequest {
            model: "gpt-4o-mini".into(),
            system: None,
            messages: vec![Message::user(text)],
            temperature: None,
            max_tokens: None,
            stream: true,
            tools: vec![],
        }
    }

    fn usage(i: u64, o: u64) -> Usage {
        Usage {
            input_tokens: i,
            output_tokens: o,
        }
    }

    #[test]
    fn models_match_exactly_or_as_dated_variants() {
        let t = PriceTable::builtin();
        let cases = [
            ("gpt-4o", (2.5, 10.0)),
            ("gpt-4o-2024-08-06", (2.5, 10.0)),
            ("gpt-4o-mini", (0.15, 0.6)),
            ("gpt-4o-mini-2024-07-18", (0.15, 0.6)),
            ("GPT-4.1-Nano", (0.1, 0.4)),
            ("gpt-4.1-2025-04-14", (2.0, 8.0)),
            ("o3", (2.0, 8.0)),
            ("o3-mini", (1.1, 4.4)),
            ("o4-mini-2025-04-16", (1.1, 4.4)),
            ("claude-3-5-sonnet-latest", (3.0, 15.0)),
            ("claude-3-5-haiku-20241022", (0.8, 4.0)),
            ("claude-3-7-sonnet-20250219", (3.0, 15.0)),
            ("claude-sonnet-4-20250514", (3.0, 15.0)),
            ("claude-opus-4-20250514", (15.0, 75.0)),
            ("claude-opus-4-1-20250805", (15.0, 75.0)),
            ("openai/gpt-4o-mini", (0.15, 0.6)),
        ];
        for (model, (i, o)) in cases {
            assert_eq!(t.price(model), Some(Price::new(i, o)), "{model}");
        }
        for unknown in [
            "llama3.1:8b",
            "gpt-4",
            "gpt-4ox",
            "gpt-4o-minii",
            "gpt-4o-audio-preview",
            "claude-opus-4-9",
            "o",
            "claude",
            "",
        ] {
            assert_eq!(t.price(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn responses_only_models_are_priced() {
        let t = PriceTable::builtin();
        for (model, (i, o)) in [
            ("o3-pro", (20.0, 80.0)),
            ("o3-pro-2025-06-10", (20.0, 80.0)),
            ("o1-pro", (150.0, 600.0)),
            ("gpt-5-pro", (15.0, 120.0)),
            ("gpt-5-codex", (1.25, 10.0)),
            ("codex-mini-latest", (1.5, 6.0)),
            ("o4-mini-deep-research-2025-06-26", (2.0, 8.0)),
            ("computer-use-preview", (3.0, 12.0)),
        ] {
            assert_eq!(t.price(model), Some(Price::new(i, o)), "{model}");
        }
        // 1,000 tokens in and 500 out of o3-pro: (1000 × 20 + 500 × 80) / 1e6 dollars.
        let p = t.price("o3-pro").unwrap();
        assert!((p.of(usage(1000, 500)) - 0.06).abs() < 1e-12);
    }

    #[test]
    fn gemini_models_have_their_list_prices() {
        let t = PriceTable::builtin();
        assert_eq!(t.price("gemini-2.5-flash"), Some(Price::new(0.30, 2.50)));
        assert_eq!(
            t.price("models/gemini-2.5-pro"),
            Some(Price::new(1.25, 10.0))
        );
        assert_eq!(
            t.price("gemini-2.0-flash-001"),
            Some(Price::new(0.10, 0.40))
        );
        // A lite model is another model, not a variant of its full one.
        assert_eq!(
            t.price("gemini-2.5-flash-lite"),
            Some(Price::new(0.10, 0.40))
        );
        assert_eq!(t.price("gemini-2.5-flash-x"), None);
        // 1000 in at $0.30/M + 500 out at $2.50/M = $0.0003 + $0.00125.
        let p = t.price("gemini-2.5-flash").unwrap();
        assert!((p.of(usage(1000, 500)) - 0.00155).abs() < 1e-12);
    }

    #[test]
    fn user_prices_win_and_add_models() {
        let mut m = BTreeMap::new();
        m.insert("gpt-4o-mini".to_string(), Price::new(1.0, 2.0));
        m.insert("Llama3.1:8b".to_string(), Price::new(0.0, 0.0));
        m.insert("openrouter/auto".to_string(), Price::new(0.5, 0.5));
        let t = PriceTable::with_overrides(m);
        assert_eq!(
            t.price("gpt-4o-mini-2024-07-18"),
            Some(Price::new(1.0, 2.0))
        );
        assert_eq!(t.price("llama3.1:8b"), Some(Price::new(0.0, 0.0)));
        assert_eq!(t.price("openrouter/auto"), Some(Price::new(0.5, 0.5)));
        assert_eq!(t.price("gpt-4o"), Some(Price::new(2.5, 10.0)));
    }

    #[test]
    fn success_with_usage_is_exact() {
        let t = PriceTable::builtin();
        let c = succeeded(&t, "gpt-4o-mini", &req("hi"), usage(24, 9), "x").unwrap();
        // 24 × 0.15 + 9 × 0.60 = 9.0 dollars per million.
        assert_eq!(
            c,
            Cost {
                usd: 0.000009,
                estimated: false
            }
        );
        let c = succeeded(
            &t,
            "claude-3-5-sonnet-latest",
            &req("hi"),
            usage(472, 89),
            "",
        )
        .unwrap();
        assert_eq!(c.usd, 0.002751);
        assert_eq!(
            succeeded(&t, "my-local-model", &req("hi"), usage(1, 1), ""),
            None
        );
    }

    #[test]
    fn success_without_usage_is_estimated() {
        let t = PriceTable::builtin();
        // 40 characters in (10 tokens), 8 out (2 tokens).
        let c = succeeded(&t, "gpt-4o", &req(&"a".repeat(40)), usage(0, 0), "12345678").unwrap();
        assert!(c.estimated);
        assert_eq!(c.usd, (10.0 * 2.5 + 2.0 * 10.0) / 1e6);
    }

    #[test]
    fn failures_cost_what_the_server_processed() {
        let t = PriceTable::builtin();
        let r = req(&"a".repeat(400));
        assert_eq!(
            failed(&t, "gpt-4o", &r, FailedAt::Rejected),
            Some(Cost {
                usd: 0.0,
                estimated: false
            })
        );
        let c = failed(
            &t,
            "gpt-4o",
            &r,
            FailedAt::Processed {
                usage: None,
                partial_output: "Patrick Roth",
            },
        )
        .unwrap();
        // 100 tokens in, 3 out.
        assert_eq!(
            c,
            Cost {
                usd: (100.0 * 2.5 + 3.0 * 10.0) / 1e6,
                estimated: true
            }
        );
        // A reply that failed validation carried its usage.
        let c = failed(
            &t,
            "gpt-4o",
            &r,
            FailedAt::Processed {
                usage: Some(usage(20, 10)),
                partial_output: "no",
            },
        )
        .unwrap();
        assert_eq!(
            c,
            Cost {
                usd: 0.00015,
                estimated: false
            }
        );
        assert_eq!(failed(&t, "unknown", &r, FailedAt::Rejected), None);
    }

    #[test]
    fn request_estimate_counts_system_messages_and_tools() {
        let mut r = req("abcd");
        r.system = Some("abcdefgh".into());
        r.tools = vec![ToolDef {
            name: "f".into(),
            description: "abcd".into(),
            parameters: serde_json::json!({}),
        }];
        // 1 + 2 + (1 + 1 + 1)
        assert_eq!(estimate_request_tokens(&r), 6);
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("é"), 1);
    }

    #[test]
    fn totals_sum_priced_attempts_and_remember_estimates() {
        let mut t = Total::default();
        assert_eq!(t.usd(), None);
        t.add(None);
        assert_eq!(t.usd(), None);
        t.add(Some(Cost {
            usd: 0.1,
            estimated: false,
        }));
        t.add(Some(Cost {
            usd: 0.2,
            estimated: false,
        }));
        assert_eq!(t.usd(), Some(0.3));
        assert!(!t.estimated());
        t.add(Some(Cost {
            usd: 0.0,
            estimated: true,
        }));
        assert!(t.estimated());
    }

    #[test]
    fn dollars_print_with_enough_digits() {
        assert_eq!(format_usd(0.0), "$0");
        assert_eq!(format_usd(0.000009), "$0.000009");
        assert_eq!(format_usd(0.0123), "$0.0123");
        assert_eq!(format_usd(1.5), "$1.50");
    }
}
