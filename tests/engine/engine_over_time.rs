//! Faults over time end to end (DESIGN §11): the engine against the simulator on the virtual
//! clock, with times computed by hand. Replies are instant (`first_token_ms = 0`, a pace so
//! fast it rounds to 0 ms), so every t below is the sum of the waits.

use crate::support::run::{run_sim, scenario, transcript};
use retrylab::error::ErrorKind;

const HEAD: &str = r#"
name = "t"
[prompt]
template = "Q"
[call]
provider = "openai"
model = "gpt-4o-mini"
"#;

const INSTANT: &str = "first_token_ms = 0\ntokens_per_second = 1e9\nreply = \"ok\"\n";

fn src(rest: &str) -> String {
    format!("{HEAD}{rest}")
}

fn lines_with<'a>(t: &'a [String], what: &str) -> Vec<&'a str> {
    t.iter()
        .filter(|l| l.contains(what))
        .map(String::as_str)
        .collect()
}

#[tokio::test]
async fn an_outage_of_10_s_with_waits_1_2_4_8_succeeds_on_attempt_5_at_15_s() {
    for wait in [
        "wait = { exponential = { multiplier = 1 } }",
        "wait = { chain = [{ fixed = 1 }, { fixed = 2 }, { fixed = 4 }, { fixed = 8 }] }",
    ] {
        let (summary, events) = run_sim(scenario(&src(&format!(
            r#"
[retry]
stop = {{ after_attempt = 5 }}
{wait}
[sim]
{INSTANT}
outages = [{{ provider = "openai", from = "0s", to = "10s", fault = "overloaded" }}]
"#
        ))))
        .await;
        let t = transcript(&events);
        assert_eq!(
            lines_with(&t, "attempt_started"),
            [
                "0 attempt_started 0/1 openai/gpt-4o-mini",
                "1000 attempt_started 0/2 openai/gpt-4o-mini",
                "3000 attempt_started 0/3 openai/gpt-4o-mini",
                "7000 attempt_started 0/4 openai/gpt-4o-mini",
                "15000 attempt_started 0/5 openai/gpt-4o-mini",
            ],
            "{wait}"
        );
        assert_eq!(
            lines_with(&t, "attempt_succeeded"),
            ["15000 attempt_succeeded 0/5 \"ok\""],
            "{t:#?}"
        );
        assert!(summary.error.is_none());
    }
}

#[tokio::test]
async fn a_caller_that_empties_the_bucket_waits_exactly_the_retry_after() {
    // rpm = 60, burst = 1: the first answer fails validation and is retried at once; the
    // retry meets the empty bucket (429, retry-after-ms 1000), waits 1 s, and gets in.
    let (summary, events) = run_sim(scenario(&src(r#"
[retry]
stop = { after_attempt = 3 }
[response]
validators = [{ regex = "^OK$" }]
[sim]
first_token_ms = 0
tokens_per_second = 1e9
replies = ["no", "OK"]
limits = [{ provider = "openai", model = "gpt-4o-mini", rpm = 60, burst = 1 }]
"#)))
    .await;
    let t = transcript(&events);
    assert_eq!(
        lines_with(&t, "attempt_failed"),
        [
            "0 attempt_failed 0/1 validation retry=true partial=\"no\"",
            "0 attempt_failed 0/2 rate_limit(429) retry=true",
        ],
        "{t:#?}"
    );
    assert_eq!(
        lines_with(&t, "wait_started"),
        [
            "0 wait_started 0/1 0ms backoff",
            "0 wait_started 0/2 1000ms retry_after"
        ]
    );
    assert_eq!(
        lines_with(&t, "attempt_succeeded"),
        ["1000 attempt_succeeded 0/3 \"OK\""]
    );
    assert!(summary.error.is_none());
}

#[tokio::test]
async fn a_spent_quota_is_not_retried_by_a_retry_on_that_does_not_list_it() {
    let (summary, events) = run_sim(scenario(&src(&format!(
        r#"
[retry]
stop = {{ after_attempt = 5 }}
retry_on = ["rate_limit", "overloaded", "server_error"]
[sim]
{INSTANT}
faults = [{{ fault = "quota_exhausted", times = 10 }}]
"#
    ))))
    .await;
    let t = transcript(&events);
    assert_eq!(lines_with(&t, "attempt_started").len(), 1, "{t:#?}");
    assert_eq!(
        lines_with(&t, "attempt_failed"),
        ["0 attempt_failed 0/1 quota_exhausted(429) retry=false"]
    );
    let e = summary.error.unwrap();
    assert_eq!(e.kind, ErrorKind::QuotaExhausted);
    assert_eq!(e.provider_type.as_deref(), Some("insufficient_quota"));
}

#[tokio::test]
async fn a_spent_quota_is_retried_by_any_as_tenacity_retries_every_exception() {
    let (_, events) = run_sim(scenario(&src(&format!(
        r#"
[retry]
stop = {{ after_attempt = 3 }}
[sim]
{INSTANT}
faults = [{{ fault = "quota_exhausted", times = 10 }}]
"#
    ))))
    .await;
    let t = transcript(&events);
    assert_eq!(lines_with(&t, "attempt_started").len(), 3, "{t:#?}");
}

#[tokio::test]
async fn anthropic_out_of_credit_is_quota_exhausted_and_falls_back() {
    let (summary, events) = run_sim(scenario(&format!(
        r#"
name = "t"
[prompt]
template = "Q"
[call]
provider = "anthropic"
model = "claude-3-5-haiku-latest"
[fallback]
catch = ["any"]
hops = [{{ provider = "openai", model = "gpt-4o-mini", catch = [] }}]
[sim]
{INSTANT}
faults = [{{ provider = "anthropic", fault = "quota_exhausted" }}]
"#
    )))
    .await;
    let t = transcript(&events);
    assert!(
        t.contains(&"0 attempt_failed 0/1 quota_exhausted(400) retry=false".to_string()),
        "{t:#?}"
    );
    assert!(summary.error.is_none(), "{t:#?}");
}

#[tokio::test]
async fn a_stalled_stream_ends_at_the_idle_timeout() {
    let (summary, events) = run_sim(scenario(&src(r#"
stream = true
idle_timeout = "5s"
[sim]
first_token_ms = 100
tokens_per_second = 10
reply = "one two three four"
faults = [{ fault = "stall", after_tokens = 2 }]
"#)))
    .await;
    let t = transcript(&events);
    // Tokens at 100 and 200 ms; nothing more, so the idle deadline fires 5 s after the last.
    assert!(
        t.iter()
            .any(|l| l.starts_with("100..200 delta 0/1 x2 \"one two\"")),
        "{t:#?}"
    );
    let e = summary.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Timeout, "{t:#?}");
    assert_eq!(e.timeout.as_deref(), Some("idle"));
    assert!(
        t.iter()
            .any(|l| l.starts_with("5200 attempt_failed 0/1 timeout")),
        "{t:#?}"
    );
}

#[tokio::test]
async fn content_filter_fails_the_attempt_and_length_and_empty_answer() {
    for (fault, stream, want) in [
        ("content_filter", false, Some(ErrorKind::ContentFilter)),
        ("content_filter", true, Some(ErrorKind::ContentFilter)),
        ("length", true, None),
        ("empty", false, None),
    ] {
        let (summary, events) = run_sim(scenario(&src(&format!(
            "stream = {stream}\n[sim]\n{INSTANT}\nfaults = [{{ fault = \"{fault}\" }}]\n"
        ))))
        .await;
        assert_eq!(
            summary.error.map(|e| e.kind),
            want,
            "{fault} stream={stream}: {:#?}",
            transcript(&events)
        );
    }
}
