//! Faults over time at the HTTP level (DESIGN §11): outage windows and token buckets on the
//! run clock, seeded latency, and the new faults' bytes in both wire formats.

use crate::support::sim::{Sim, body, spec, start};
use retrylab::policy::Secs;
use retrylab::scenario::types::ProviderKind::{Anthropic, Openai};
use retrylab::scenario::types::{Dist, LatencySpec, SimSpec};
use retrylab::sim::latency::Latency;
use std::time::Duration;

/// Instant replies: the run clock moves only when a test sleeps on it.
const INSTANT: &str = "first_token_ms = 0\ntokens_per_second = 0\nreply = \"fine\"\n";

async fn sim(extra: &str) -> Sim {
    start(spec(&format!("{INSTANT}{extra}"))).await
}

#[tokio::test]
async fn a_limit_of_60_rpm_burst_2_refuses_the_third_immediate_request_for_1_s() {
    let sim = sim(r#"limits = [{ provider = "openai", model = "m", rpm = 60, burst = 2 }]"#).await;
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(sim.ask(Openai, "m").await);
    }
    let statuses: Vec<u16> = got.iter().map(|g| g.status).collect();
    assert_eq!(statuses, [200, 200, 429, 429]);
    assert_eq!(got[0].header("x-ratelimit-remaining-requests"), Some("1"));
    assert_eq!(got[1].header("x-ratelimit-remaining-requests"), Some("0"));
    let third = &got[2];
    assert_eq!(third.header("retry-after"), Some("1"));
    assert_eq!(third.header("retry-after-ms"), Some("1000"));
    assert_eq!(third.header("x-ratelimit-limit-requests"), Some("60"));
    assert_eq!(third.header("x-ratelimit-remaining-requests"), Some("0"));
    let v = third.json();
    assert_eq!(v["error"]["code"], "rate_limit_exceeded");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Limit 60, Used 60, Requested 1. Please try again in 1s.")
    );
    // Another model has no bucket: no rate-limit headers at all.
    let other = sim.ask(Openai, "other").await;
    assert_eq!(other.status, 200);
    assert_eq!(other.header("x-ratelimit-remaining-requests"), None);

    // After half a second the wait is half a second (rounded up to 1 in whole seconds).
    sim.clock.sleep(Duration::from_millis(500)).await;
    let half = sim.ask(Openai, "m").await;
    assert_eq!(half.status, 429);
    assert_eq!(half.header("retry-after"), Some("1"));
    assert_eq!(half.header("retry-after-ms"), Some("500"));
    // At 1 s a token has freed: exactly one request gets in.
    sim.clock.sleep(Duration::from_millis(500)).await;
    assert_eq!(sim.ask(Openai, "m").await.status, 200);
    assert_eq!(sim.ask(Openai, "m").await.status, 429);
}

#[tokio::test]
async fn an_anthropic_limit_speaks_anthropic() {
    let sim =
        sim(r#"limits = [{ provider = "anthropic", model = "c", rpm = 30, burst = 1 }]"#).await;
    assert_eq!(sim.ask(Anthropic, "c").await.status, 200);
    let got = sim.ask(Anthropic, "c").await;
    assert_eq!(got.status, 429);
    // 60 s / 30 = 2 s until the next token.
    assert_eq!(got.header("retry-after"), Some("2"));
    assert_eq!(got.header("retry-after-ms"), None);
    assert_eq!(got.header("anthropic-ratelimit-requests-limit"), Some("30"));
    assert_eq!(
        got.header("anthropic-ratelimit-requests-remaining"),
        Some("0")
    );
    assert_eq!(got.header("x-should-retry"), Some("true"));
    assert_eq!(got.json()["error"]["type"], "rate_limit_error");
}

#[tokio::test]
async fn an_outage_answers_every_request_that_starts_in_its_window() {
    let sim = sim(
        r#"outages = [{ provider = "openai", from = "2s", to = "5s", fault = "overloaded" },
                      { provider = "anthropic", model = "c", from = 0, to = 1, fault = "server_error" }]"#,
    )
    .await;
    let mut seen = Vec::new();
    for _ in 0..7 {
        seen.push(sim.ask(Openai, "m").await.status);
        sim.clock.sleep(Duration::from_secs(1)).await;
    }
    // Requests at 0..=6 s: those at 2, 3 and 4 s fall in [2 s, 5 s).
    assert_eq!(seen, [200, 200, 503, 503, 503, 200, 200]);
    // The second outage has ended (it was [0, 1 s) for anthropic/c only).
    assert_eq!(sim.ask(Anthropic, "c").await.status, 200);
}

#[tokio::test]
async fn scripted_faults_beat_outages_which_beat_limits() {
    let sim = sim(r#"faults = [{ fault = "auth" }]
           outages = [{ provider = "openai", from = 0, to = 1, fault = "overloaded" }]
           limits = [{ provider = "openai", model = "m", rpm = 60, burst = 1 }]
           chaos = { server_error = 1.0 }"#)
    .await;
    assert_eq!(sim.ask(Openai, "m").await.status, 401);
    assert_eq!(sim.ask(Openai, "m").await.status, 503);
    sim.clock.sleep(Duration::from_secs(1)).await;
    // The outage took no token: the bucket is full, so chaos decides this one...
    assert_eq!(sim.ask(Openai, "m").await.status, 500);
    // ...and the next meets the empty bucket before chaos.
    let limited = sim.ask(Openai, "m").await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("1"));
}

#[tokio::test]
async fn seeded_latency_gives_the_same_first_token_times() {
    let script = "reply = \"a b c\"\nseed = 9\nlatency = { first_token = { lognormal = { median = \"400ms\", p99 = \"3s\" } }, tokens_per_second = { normal = { mean = 60, sd = 15 } } }";
    let mut runs = Vec::new();
    for _ in 0..2 {
        let sim = start(spec(script)).await;
        let mut times = Vec::new();
        for _ in 0..5 {
            let before = sim.clock.now();
            assert_eq!(sim.ask(Openai, "m").await.status, 200);
            times.push(sim.clock.now() - before);
        }
        runs.push(times);
    }
    assert_eq!(runs[0], runs[1]);
    let distinct: std::collections::BTreeSet<_> = runs[0].iter().collect();
    assert!(distinct.len() > 1, "{:?}", runs[0]);
    // Another seed, other times.
    let sim = start(spec(&script.replace("seed = 9", "seed = 10"))).await;
    let before = sim.clock.now();
    sim.ask(Openai, "m").await;
    assert_ne!(sim.clock.now() - before, runs[0][0]);
}

#[test]
fn the_median_of_2000_lognormal_draws_is_within_5_percent() {
    let spec = SimSpec {
        latency: Some(LatencySpec {
            first_token: Some(Dist::Lognormal {
                median: Secs(0.4),
                p99: Secs(3.0),
            }),
            tokens_per_second: None,
        }),
        seed: 3,
        ..SimSpec::default()
    };
    let l = Latency::new(&spec);
    let key = |n| retrylab::sim::script::request_key(3, Openai, "m", n);
    let mut v: Vec<f64> = (1..=2000)
        .map(|n| l.draw(key(n)).first_token.as_secs_f64())
        .collect();
    v.sort_by(f64::total_cmp);
    let median = (v[999] + v[1000]) / 2.0;
    assert!((median / 0.4 - 1.0).abs() < 0.05, "median {median}");
}

/// The reply text and the finish or stop reason, plain or streamed, in either format.
#[allow(clippy::unwrap_used)] // a test helper
async fn ending(
    sim: &Sim,
    kind: retrylab::scenario::types::ProviderKind,
    stream: bool,
) -> (String, String) {
    let got = sim.send(kind, &body(kind, "m", stream, false)).await;
    assert_eq!(got.status, 200, "{}", got.body);
    if !stream {
        let v = got.json();
        return match kind {
            Anthropic => (
                v["content"][0]["text"].as_str().unwrap().to_string(),
                v["stop_reason"].as_str().unwrap().to_string(),
            ),
            _ => (
                v["choices"][0]["message"]["content"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                v["choices"][0]["finish_reason"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            ),
        };
    }
    let mut text = String::new();
    let mut reason = String::new();
    for line in got.body.lines() {
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(data) else {
            continue;
        };
        let piece = v["delta"]["text"]
            .as_str()
            .or(v["choices"][0]["delta"]["content"].as_str());
        text.push_str(piece.unwrap_or_default());
        let r = v["delta"]["stop_reason"]
            .as_str()
            .or(v["choices"][0]["finish_reason"].as_str());
        if let Some(r) = r {
            reason = r.to_string();
        }
    }
    (text, reason)
}

#[tokio::test]
async fn content_filter_length_and_empty_end_the_answer_as_each_api_does() {
    let cases = [
        (
            "content_filter",
            ", after_tokens = 2",
            "content_filter",
            "refusal",
            "one two",
        ),
        ("length", "", "length", "max_tokens", "one two"),
        ("empty", "", "stop", "end_turn", ""),
    ];
    for (fault, extra, openai, anthropic, text) in cases {
        let sim = start(spec(&format!(
            "first_token_ms = 0\nreply = \"one two three four\"\nfaults = [{{ fault = \"{fault}\", times = 100 {extra} }}]"
        )))
        .await;
        for stream in [false, true] {
            for (kind, reason) in [(Openai, openai), (Anthropic, anthropic)] {
                let got = ending(&sim, kind, stream).await;
                assert_eq!(
                    got,
                    (text.to_string(), reason.to_string()),
                    "{fault} {kind} stream={stream}"
                );
            }
        }
    }
}

#[tokio::test]
async fn quota_exhausted_is_openai_429_insufficient_quota_and_anthropic_credit_400() {
    let sim = sim("faults = [{ fault = \"quota_exhausted\", times = 10 }]").await;
    let got = sim.ask(Openai, "m").await;
    assert_eq!(got.status, 429);
    assert_eq!(got.header("retry-after"), None);
    let v = got.json();
    assert_eq!(v["error"]["type"], "insufficient_quota");
    assert_eq!(v["error"]["code"], "insufficient_quota");
    let got = sim.ask(Anthropic, "c").await;
    assert_eq!(got.status, 400);
    assert_eq!(got.header("x-should-retry"), Some("false"));
    assert!(
        got.body.contains("Your credit balance is too low"),
        "{}",
        got.body
    );
}
