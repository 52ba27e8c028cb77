//! Every built-in scenario end to end: the engine against the simulator over real loopback
//! HTTP, on the virtual clock, with its exact event sequence (times included: in sim mode the
//! run's clock is virtual, so they are deterministic). Consecutive deltas of an attempt are one
//! line, stamped with the first and last delta's time.

use crate::support::run::{run_sim, scenario, transcript};
use retrylab::scenario::builtin::{all, find};

async fn assert_walk(name: &str, expected: &[&str]) {
    let b = find(name).unwrap_or_else(|| panic!("no built-in {name}"));
    let (_, events) = run_sim(scenario(b.source)).await;
    let got = transcript(&events);
    assert_eq!(got, expected, "{name}:\n{}", got.join("\n"));
}

#[test]
fn every_builtin_is_covered_here() {
    let source = include_str!("builtin_scenarios.rs");
    for b in all() {
        assert!(
            source.contains(&format!("async fn {}()", b.name.replace('-', "_"))),
            "{} has no test",
            b.name
        );
    }
}

#[tokio::test]
async fn basic_retry() {
    assert_walk(
        "basic-retry",
        &[
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "150 attempt_failed 0/1 server_error(500) retry=true",
            "150 wait_started 0/1 4000ms backoff",
            "4150 wait_finished 0/1",
            "4150 attempt_started 0/2 openai/gpt-4o-mini",
            "4300 attempt_failed 0/2 server_error(500) retry=true",
            "4300 wait_started 0/2 4000ms backoff",
            "8300 wait_finished 0/2",
            "8300 attempt_started 0/3 openai/gpt-4o-mini",
            "8750 attempt_succeeded 0/3 \"I recommend \\\"The Name of the Wind\\\" by Patrick Rothfuss.\"",
            "8750 run_finished Ok caught=[]",
        ],
    )
    .await;
}

#[tokio::test]
async fn stream_retry() {
    assert_walk(
        "stream-retry",
        &[
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "200..350 delta 0/1 x4 \"I recommend \\\"Mistborn: The\"",
            "400 attempt_failed 0/1 stream_interrupted(200) retry=true partial=\"I recommend \\\"Mistborn: The\"",
            "400 wait_started 0/1 4000ms backoff",
            "4400 wait_finished 0/1",
            "4400 attempt_started 0/2 openai/gpt-4o-mini",
            "4600..5400 delta 0/2 x17 \"I recommend \\\"Mistborn: The Final Empire\\\" by Brandon Sanderson, a heist story with a clever magic system.\"",
            "5450 attempt_succeeded 0/2 \"I recommend \\\"Mistborn: The Final Empire\\\" by Brandon Sanderson, a heist story with a clever magic system.\"",
            "5450 run_finished Ok caught=[]",
        ],
    )
    .await;
}

#[tokio::test]
async fn tool_retry() {
    assert_walk(
        "tool-retry",
        &[
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "400 attempt_failed 0/1 tool_validation retry=true partial=\"get_book_author({\\\"titel\\\": \\\"The Name of the Wind\\\"})\"",
            "400 wait_started 0/1 4000ms backoff",
            "4400 wait_finished 0/1",
            "4400 attempt_started 0/2 openai/gpt-4o-mini",
            "4800 tool_call 0/2 get_book_author {\"title\": \"The Name of the Wind\"} -> Patrick Rothfuss",
            "4800 attempt_succeeded 0/2 \"Patrick Rothfuss\"",
            "4800 run_finished Ok caught=[]",
        ],
    )
    .await;
}

#[tokio::test]
async fn error_reinsertion() {
    assert_walk(
        "error-reinsertion",
        &[
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "250 attempt_failed 0/1 validation retry=true partial=\"Patrick Rothfuss\"",
            "250 error_reinserted 0/2 n=1",
            "250 wait_started 0/1 0ms backoff",
            "250 wait_finished 0/1",
            "250 attempt_started 0/2 openai/gpt-4o-mini",
            "500 attempt_succeeded 0/2 \"PATRICK ROTHFUSS\"",
            "500 run_finished Ok caught=[]",
        ],
    )
    .await;
}

#[tokio::test]
async fn fallback() {
    assert_walk(
        "fallback",
        &[
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "150 attempt_failed 0/1 rate_limit(429) retry=false",
            "150 fallback_hop 1 openai/gpt-4o-mini -> anthropic/claude-3-5-sonnet-latest caught rate_limit",
            "150 attempt_started 1/1 anthropic/claude-3-5-sonnet-latest",
            "625 attempt_succeeded 1/1 \"42, according to Douglas Adams; most philosophers prefer a longer answer.\"",
            "625 run_finished Ok caught=[rate_limit]",
        ],
    )
    .await;
}

#[tokio::test]
async fn fallback_with_retries() {
    assert_walk(
        "fallback-with-retries",
        &[
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "150 attempt_failed 0/1 rate_limit(429) retry=true",
            "150 wait_started 0/1 4000ms backoff",
            "4150 wait_finished 0/1",
            "4150 attempt_started 0/2 openai/gpt-4o-mini",
            "4300 attempt_failed 0/2 rate_limit(429) retry=true",
            "4300 wait_started 0/2 4000ms backoff",
            "8300 wait_finished 0/2",
            "8300 attempt_started 0/3 openai/gpt-4o-mini",
            "8450 attempt_failed 0/3 rate_limit(429) retry=false",
            "8450 retry_exhausted 0 after 3 rate_limit",
            "8450 fallback_hop 1 openai/gpt-4o-mini -> anthropic/claude-3-5-sonnet-latest caught retry_error",
            "8450 attempt_started 1/1 anthropic/claude-3-5-sonnet-latest",
            "8925 attempt_succeeded 1/1 \"42, according to Douglas Adams; most philosophers prefer a longer answer.\"",
            "8925 run_finished Ok caught=[retry_error]",
        ],
    )
    .await;
}

#[tokio::test]
async fn retry_after_wins() {
    assert_walk(
        "retry-after-wins",
        &[
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "150 attempt_failed 0/1 rate_limit(429) retry=true",
            "150 wait_started 0/1 15000ms retry_after",
            "15150 wait_finished 0/1",
            "15150 attempt_started 0/2 openai/gpt-4o-mini",
            "15300 attempt_failed 0/2 rate_limit(429) retry=true",
            "15300 wait_started 0/2 15000ms retry_after",
            "30300 wait_finished 0/2",
            "30300 attempt_started 0/3 openai/gpt-4o-mini",
            "30925 attempt_succeeded 0/3 \"A young noble's family is betrayed on a desert planet, and he leads its people in revolt.\"",
            "30925 run_finished Ok caught=[]",
        ],
    )
    .await;
}

#[tokio::test]
async fn overloaded_in_stream() {
    assert_walk(
        "overloaded-in-stream",
        &[
            "0 run_started Sim",
            "0 attempt_started 0/1 anthropic/claude-3-5-sonnet-latest",
            "200..333 delta 0/1 x3 \"Knock, wait, knock\"",
            "400 attempt_failed 0/1 overloaded(200) retry=true partial=\"Knock, wait, knock\"",
            "400 wait_started 0/1 1623ms backoff",
            "2022 wait_finished 0/1",
            "2022 attempt_started 0/2 anthropic/claude-3-5-sonnet-latest",
            "2222..3156 delta 0/2 x15 \"Knock, wait, knock again / the server breathes out slowly / two hundred at last\"",
            "3222 attempt_succeeded 0/2 \"Knock, wait, knock again / the server breathes out slowly / two hundred at last\"",
            "3222 run_finished Ok caught=[]",
        ],
    )
    .await;
}

#[tokio::test]
async fn timeout_then_fallback() {
    assert_walk(
        "timeout-then-fallback",
        &[
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "5000 attempt_failed 0/1 timeout retry=true",
            "5000 wait_started 0/1 1000ms backoff",
            "6000 wait_finished 0/1",
            "6000 attempt_started 0/2 openai/gpt-4o-mini",
            "11000 attempt_failed 0/2 timeout retry=false",
            "11000 retry_exhausted 0 after 2 timeout",
            "11000 fallback_hop 1 openai/gpt-4o-mini -> anthropic/claude-3-5-haiku-latest caught retry_error",
            "11000 attempt_started 1/1 anthropic/claude-3-5-haiku-latest",
            "11275 attempt_succeeded 1/1 \"Réessayez plus tard.\"",
            "11275 run_finished Ok caught=[retry_error]",
        ],
    )
    .await;
}

#[tokio::test]
async fn every_hop_fails() {
    assert_walk(
        "every-hop-fails",
        &[
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "150 attempt_failed 0/1 rate_limit(429) retry=false",
            "150 fallback_hop 1 openai/gpt-4o-mini -> anthropic/claude-3-5-sonnet-latest caught rate_limit",
            "150 attempt_started 1/1 anthropic/claude-3-5-sonnet-latest",
            "300 attempt_failed 1/1 overloaded(529) retry=false",
            "300 fallback_hop 2 anthropic/claude-3-5-sonnet-latest -> openai/gpt-4o caught overloaded",
            "300 attempt_started 2/1 openai/gpt-4o",
            "450 attempt_failed 2/1 server_error(500) retry=false",
            "450 run_finished Error fallback_error caught=[rate_limit,overloaded,server_error]",
        ],
    )
    .await;
}

#[tokio::test]
async fn chaos() {
    assert_walk(
        "chaos",
        &[
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "150 attempt_failed 0/1 rate_limit(429) retry=true",
            "150 wait_started 0/1 1000ms retry_after",
            "1150 wait_finished 0/1",
            "1150 attempt_started 0/2 openai/gpt-4o-mini",
            "1300 attempt_failed 0/2 server_error(500) retry=true",
            "1300 wait_started 0/2 181ms backoff",
            "1480 wait_finished 0/2",
            "1480 attempt_started 0/3 openai/gpt-4o-mini",
            "1630 attempt_failed 0/3 rate_limit(429) retry=true",
            "1630 wait_started 0/3 1581ms backoff",
            "3212 wait_finished 0/3",
            "3212 attempt_started 0/4 openai/gpt-4o-mini",
            "3412..3737 delta 0/4 x14 \"Make every retry idempotent, and cap the total time you are willing to wait.\"",
            "3762 attempt_succeeded 0/4 \"Make every retry idempotent, and cap the total time you are willing to wait.\"",
            "3762 run_finished Ok caught=[]",
        ],
    )
    .await;
}

#[tokio::test]
async fn json_reask() {
    assert_walk(
        "json-reask",
        &[
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "400 attempt_failed 0/1 validation retry=true partial=\"Sure! The author is Patrick Rothfuss, born 1973.\"",
            "400 error_reinserted 0/2 n=1",
            "400 wait_started 0/1 0ms backoff",
            "400 wait_finished 0/1",
            "400 attempt_started 0/2 openai/gpt-4o-mini",
            "725 attempt_failed 0/2 validation retry=true partial=\"{\\\"name\\\": \\\"Patrick Rothfuss\\\", \\\"born\\\": \\\"1973\\\"}\"",
            "725 error_reinserted 0/3 n=2",
            "725 wait_started 0/2 0ms backoff",
            "725 wait_finished 0/2",
            "725 attempt_started 0/3 openai/gpt-4o-mini",
            "1050 attempt_succeeded 0/3 \"{\\\"name\\\": \\\"Patrick Rothfuss\\\", \\\"born\\\": 1973}\"",
            "1050 run_finished Ok caught=[]",
        ],
    )
    .await;
}

#[tokio::test]
async fn outage_then_recovery() {
    // Attempts 1-4 start in the outage [0, 10 s) (waits 1, 2, 4, 8 s after each 100 ms
    // error); the bucket (3 rpm, burst 1) gives attempt 5 its token at 15.4 s, so attempt 6
    // at 23.95 s waits until 15.4 + 20 = 35.4 s: 11.45 s, longer than the back-off.
    assert_walk(
        "outage-then-recovery",
        &[
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "100 attempt_failed 0/1 overloaded(503) retry=true",
            "100 wait_started 0/1 1000ms backoff",
            "1100 wait_finished 0/1",
            "1100 attempt_started 0/2 openai/gpt-4o-mini",
            "1200 attempt_failed 0/2 overloaded(503) retry=true",
            "1200 wait_started 0/2 2000ms backoff",
            "3200 wait_finished 0/2",
            "3200 attempt_started 0/3 openai/gpt-4o-mini",
            "3300 attempt_failed 0/3 overloaded(503) retry=true",
            "3300 wait_started 0/3 4000ms backoff",
            "7300 wait_finished 0/3",
            "7300 attempt_started 0/4 openai/gpt-4o-mini",
            "7400 attempt_failed 0/4 overloaded(503) retry=true",
            "7400 wait_started 0/4 8000ms backoff",
            "15400 wait_finished 0/4",
            "15400 attempt_started 0/5 openai/gpt-4o-mini",
            "15950 attempt_failed 0/5 validation retry=true partial=\"The Name of the Wind\"",
            "15950 wait_started 0/5 8000ms backoff",
            "23950 wait_finished 0/5",
            "23950 attempt_started 0/6 openai/gpt-4o-mini",
            "24050 attempt_failed 0/6 rate_limit(429) retry=true",
            "24050 wait_started 0/6 11450ms retry_after",
            "35500 wait_finished 0/6",
            "35500 attempt_started 0/7 openai/gpt-4o-mini",
            "36050 attempt_succeeded 0/7 \"THE NAME OF THE WIND\"",
            "36050 run_finished Ok caught=[]",
        ],
    )
    .await;
}

#[tokio::test]
async fn sdk_amplification() {
    let b = find("sdk-amplification").expect("built-in");
    let (_, events) = run_sim(scenario(b.source)).await;
    let got = transcript(&events);
    // Every line but the SDK's jittered back-offs is fixed; those are checked by bounds and
    // their sum carries the times.
    let sdk: Vec<u64> = events
        .iter()
        .filter_map(|e| match &e.event {
            retrylab::event::Event::SdkRetry(r) => Some(r.delay_ms),
            _ => None,
        })
        .collect();
    assert_eq!(sdk.len(), 6, "3 attempts x 2 SDK retries: {got:#?}");
    for pair in sdk.chunks(2) {
        assert!(
            (375..=500).contains(&pair[0]) && (750..=1000).contains(&pair[1]),
            "{pair:?}"
        );
    }
    let mut want = vec!["0 run_started Sim".to_string()];
    let mut t = 0;
    for attempt in 1..=3u32 {
        want.push(format!(
            "{t} attempt_started 0/{attempt} openai/gpt-4o-mini"
        ));
        for (retry, d) in sdk[(attempt as usize - 1) * 2..][..2].iter().enumerate() {
            t += 150;
            want.push(format!(
                "{t} sdk_retry 0/{attempt} #{} server_error(500) {d}ms backoff",
                retry + 1
            ));
            t += d;
        }
        t += 150;
        let again = attempt < 3;
        want.push(format!(
            "{t} attempt_failed 0/{attempt} server_error(500) retry={again}"
        ));
        if again {
            want.push(format!("{t} wait_started 0/{attempt} 4000ms backoff"));
            t += 4000;
            want.push(format!("{t} wait_finished 0/{attempt}"));
        }
    }
    want.push(format!("{t} retry_exhausted 0 after 3 server_error"));
    want.push(format!("{t} run_finished Error retry_error caught=[]"));
    assert_eq!(got, want);
    // 3 attempts, 9 requests.
    let starts = events
        .iter()
        .filter(|e| matches!(e.event, retrylab::event::Event::AttemptStarted(_)))
        .count();
    assert_eq!(starts + sdk.len(), 9);
}

#[tokio::test]
async fn responses_failed_in_stream() {
    // `response.failed` (code server_is_overloaded) after 4 deltas, inside HTTP 200: 4
    // tokens at 50 ms from 200 ms, the failure in the next slot; then exponential 1 s.
    assert_walk(
        "responses-failed-in-stream",
        &[
            "0 run_started Sim",
            "0 attempt_started 0/1 openai-responses/gpt-4o-mini",
            "200..350 delta 0/1 x4 \"Because a server that\"",
            "400 attempt_failed 0/1 overloaded(200) retry=true partial=\"Because a server that\"",
            "400 wait_started 0/1 1000ms backoff",
            "1400 wait_finished 0/1",
            "1400 attempt_started 0/2 openai-responses/gpt-4o-mini",
            "1600..2400 delta 0/2 x17 \"Because a server that is already struggling needs room to recover, not a stampede of instant retries.\"",
            "2450 attempt_succeeded 0/2 \"Because a server that is already struggling needs room to recover, not a stampede of instant retries.\"",
            "2450 run_finished Ok caught=[]",
        ],
    )
    .await;
}

#[tokio::test]
async fn azure_content_filter_fallback() {
    assert_walk(
        "azure-content-filter-fallback",
        &[
            "0 run_started Sim",
            "0 attempt_started 0/1 azure-openai/gpt-4o",
            "120 attempt_failed 0/1 rate_limit(429) retry=true",
            // max(exponential 1 s, retry-after-ms 1500) = 1.5 s.
            "120 wait_started 0/1 1500ms retry_after",
            "1620 wait_finished 0/1",
            "1620 attempt_started 0/2 azure-openai/gpt-4o",
            // Azure's content-filter 400: not in retry_on, caught by the fallback.
            "1740 attempt_failed 0/2 content_filter(400) retry=false",
            "1740 fallback_hop 1 azure-openai/gpt-4o -> anthropic/claude-3-5-haiku-latest caught content_filter",
            "1740 attempt_started 1/1 anthropic/claude-3-5-haiku-latest",
            "2265 attempt_succeeded 1/1 \"Kvothe faces Ambrose with sympathy bindings; the chapter turns on wit, not blood.\"",
            "2265 run_finished Ok caught=[content_filter]",
        ],
    )
    .await;
}

#[tokio::test]
async fn gemini_retry_delay() {
    // RetryInfo asks for 20 s, the back-off 1 s: the wait is 20 s, set by retry_info.
    assert_walk(
        "gemini-retry-delay",
        &[
            "0 run_started Sim",
            "0 attempt_started 0/1 gemini/gemini-2.5-flash",
            "120 attempt_failed 0/1 rate_limit(429) retry=true",
            "120 wait_started 0/1 20000ms retry_info",
            "20120 wait_finished 0/1",
            "20120 attempt_started 0/2 gemini/gemini-2.5-flash",
            "20820 attempt_succeeded 0/2 \"An envoy to a planet of ambisexual people learns to trust a banished politician on a journey across the ice.\"",
            "20820 run_finished Ok caught=[]",
        ],
    )
    .await;
}
