//! The hidden SDK layer (DESIGN §15): the official SDK's retry loop inside each attempt, as
//! exact event sequences on the virtual clock (and, for the headers a server sees, live
//! against a loopback server at `Speed::Max`, waits skipped).

use crate::support::fixture;
use crate::support::live::{config, run_live, run_live_at};
use crate::support::live_server::{Reply, from_request, play, serve};
use crate::support::run::{run_sim, scenario, transcript};
use retrylab::error::ErrorKind;
use retrylab::event::{AttemptStarted, Event, SdkRetry, TimedEvent};

/// No latency: a reply or an error takes 0 s of run time.
const INSTANT: &str = "first_token_ms = 0\ntokens_per_second = 1e9\nerror_ms = 0\nreply = \"ok\"\n";

fn src(call: &str, rest: &str) -> String {
    format!(
        "name = \"t\"\n[prompt]\ntemplate = \"Q\"\n[call]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\n{call}\n{rest}"
    )
}

fn sdk_retries(events: &[TimedEvent]) -> Vec<&SdkRetry> {
    events
        .iter()
        .filter_map(|e| match &e.event {
            Event::SdkRetry(r) => Some(r),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_retry_after_ms_of_1500_is_honoured_inside_the_attempt() {
    let (summary, events) = run_sim(scenario(&src(
        "sdk_max_retries = 2",
        &format!("[sim]\n{INSTANT}faults = [{{ fault = \"rate_limit\", retry_after = \"1.5s\", retry_after_format = \"ms\" }}]"),
    )))
    .await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "0 sdk_retry 0/1 #1 rate_limit(429) 1500ms retry_after_ms",
            "1500 attempt_succeeded 0/1 \"ok\"",
            "1500 run_finished Ok caught=[]",
        ]
    );
    assert_eq!(summary.content.as_deref(), Some("ok"));
    let r = sdk_retries(&events)[0];
    assert_eq!(r.sdk, "openai 3.x");
    assert!(r.why.contains("429 is retried by openai 3.x"), "{}", r.why);
    assert_eq!(r.response.as_ref().and_then(|x| x.status), Some(429));
}

#[tokio::test]
async fn the_back_off_is_half_a_second_then_one_less_up_to_a_quarter_and_the_last_error_is_the_attempts()
 {
    let (summary, events) = run_sim(scenario(&src(
        "sdk_max_retries = 2",
        &format!("[sim]\n{INSTANT}faults = [{{ fault = \"server_error\", times = 3 }}]"),
    )))
    .await;
    let r = sdk_retries(&events);
    assert_eq!(r.len(), 2);
    let (d1, d2) = (r[0].delay_ms, r[1].delay_ms);
    // min(0.5·2^k, 8)·(1 − 0.25u): k = 0 gives (375, 500] ms, k = 1 (750, 1000] ms.
    assert!((375..=500).contains(&d1), "{d1}");
    assert!((750..=1000).contains(&d2), "{d2}");
    let end = d1 + d2;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim".to_string(),
            "0 attempt_started 0/1 openai/gpt-4o-mini".into(),
            format!("0 sdk_retry 0/1 #1 server_error(500) {d1}ms backoff"),
            format!("{d1} sdk_retry 0/1 #2 server_error(500) {d2}ms backoff"),
            format!("{end} attempt_failed 0/1 server_error(500) retry=false"),
            format!("{end} run_finished Error server_error caught=[]"),
        ]
    );
    assert_eq!(summary.error.unwrap().kind, ErrorKind::ServerError);
    // The same seed draws the same jitter.
    let (_, again) = run_sim(scenario(&src(
        "sdk_max_retries = 2",
        &format!("[sim]\n{INSTANT}faults = [{{ fault = \"server_error\", times = 3 }}]"),
    )))
    .await;
    assert_eq!(transcript(&again), transcript(&events));
}

#[tokio::test]
async fn a_400_is_not_retried_by_the_sdk_nor_a_stream_that_broke_after_its_200() {
    let (_, events) = run_sim(scenario(&src(
        "sdk_max_retries = 2",
        &format!("[sim]\n{INSTANT}faults = [{{ fault = \"bad_request\" }}]"),
    )))
    .await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "0 attempt_failed 0/1 bad_request(400) retry=false",
            "0 run_finished Error bad_request caught=[]",
        ]
    );
    let (_, events) = run_sim(scenario(&src(
        "sdk_max_retries = 2\nstream = true",
        &format!("[sim]\n{INSTANT}faults = [{{ fault = \"cut_stream\", after_tokens = 1, reply = \"one two three\" }}]"),
    )))
    .await;
    let t = transcript(&events);
    assert!(sdk_retries(&events).is_empty(), "{t:#?}");
    assert!(
        t.iter()
            .any(|l| l.contains("attempt_failed 0/1 stream_interrupted(200)")),
        "{t:#?}"
    );
}

#[tokio::test]
async fn a_timeout_before_the_reply_is_retried_with_the_back_off() {
    let (_, events) = run_sim(scenario(&src(
        "sdk_max_retries = 1\ntimeout = \"2s\"",
        &format!("[sim]\n{INSTANT}faults = [{{ fault = \"timeout\" }}]"),
    )))
    .await;
    let r = sdk_retries(&events);
    assert_eq!(r.len(), 1);
    let d = r[0].delay_ms;
    assert!((375..=500).contains(&d), "{d}");
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim".to_string(),
            "0 attempt_started 0/1 openai/gpt-4o-mini".into(),
            format!("2000 sdk_retry 0/1 #1 timeout {d}ms backoff"),
            format!("{} attempt_succeeded 0/1 \"ok\"", 2000 + d),
            format!("{} run_finished Ok caught=[]", 2000 + d),
        ]
    );
}

#[tokio::test]
async fn each_sdk_row_caps_retry_after_its_own_way() {
    // 90 s: openai 3.x honours it (<= 120 s); openai 1.109 (Mirascope's pin) backs off.
    let faults =
        format!("[sim]\n{INSTANT}faults = [{{ fault = \"rate_limit\", retry_after = \"90s\" }}]");
    let (_, latest) = run_sim(scenario(&src("sdk_max_retries = 1", &faults))).await;
    assert_eq!(
        transcript(&latest)[2],
        "0 sdk_retry 0/1 #1 rate_limit(429) 90000ms retry_after"
    );
    let (_, pinned) = run_sim(scenario(&src(
        "sdk_max_retries = 1\nsdk_version = \"mirascope-pins\"",
        &faults,
    )))
    .await;
    let r = sdk_retries(&pinned);
    assert_eq!(r[0].source, "backoff");
    assert!((375..=500).contains(&r[0].delay_ms));
    assert_eq!(r[0].sdk, "openai 1.109");
    // 200 s: openai 3.x does not retry at all.
    let faults =
        format!("[sim]\n{INSTANT}faults = [{{ fault = \"rate_limit\", retry_after = \"200s\" }}]");
    let (_, events) = run_sim(scenario(&src("sdk_max_retries = 1", &faults))).await;
    assert!(sdk_retries(&events).is_empty());
    // anthropic 2.x honours any positive value.
    let (_, events) = run_sim(scenario(&format!(
        "name = \"t\"\n[prompt]\ntemplate = \"Q\"\n[call]\nprovider = \"anthropic\"\nmodel = \"claude-3-5-haiku-latest\"\nsdk_max_retries = 1\n{faults}"
    )))
    .await;
    assert_eq!(
        transcript(&events)[2],
        "0 sdk_retry 0/1 #1 rate_limit(429) 200000ms retry_after"
    );
}

#[tokio::test]
async fn tenacity_attempts_each_run_the_sdk_loop_and_hops_may_set_their_own() {
    let (_, events) = run_sim(scenario(&src(
        "sdk_max_retries = 2",
        &format!(
            "[retry]\nstop = {{ after_attempt = 2 }}\n[fallback]\ncatch = [\"retry_error\"]\n[[fallback.hops]]\nprovider = \"anthropic\"\nmodel = \"claude-3-5-haiku-latest\"\ncatch = [\"retry_error\"]\nsdk_max_retries = 0\n[sim]\n{INSTANT}faults = [{{ fault = \"server_error\", times = 100 }}]"
        ),
    )))
    .await;
    let per_attempt: Vec<(u32, u32, u32)> = sdk_retries(&events)
        .iter()
        .map(|r| (r.hop, r.attempt, r.retry))
        .collect();
    assert_eq!(
        per_attempt,
        [(0, 1, 1), (0, 1, 2), (0, 2, 1), (0, 2, 2)],
        "the hop with sdk_max_retries = 0 makes one request per attempt"
    );
    let started = events
        .iter()
        .filter(|e| matches!(e.event, Event::AttemptStarted(_)))
        .count();
    assert_eq!(started + per_attempt.len(), 2 * 3 + 2);
}

#[tokio::test]
async fn the_first_request_shows_the_retry_count_header_only_when_the_loop_is_on() {
    let header = |events: &[TimedEvent]| {
        events.iter().find_map(|e| match &e.event {
            Event::AttemptStarted(AttemptStarted { headers, .. }) => Some(
                headers
                    .iter()
                    .find(|(n, _)| n == "x-stainless-retry-count")
                    .map(|(_, v)| v.clone()),
            ),
            _ => None,
        })
    };
    let (_, on) = run_sim(scenario(&src(
        "sdk_max_retries = 2",
        &format!("[sim]\n{INSTANT}"),
    )))
    .await;
    assert_eq!(header(&on), Some(Some("0".into())));
    let (_, off) = run_sim(scenario(&src("", &format!("[sim]\n{INSTANT}")))).await;
    assert_eq!(header(&off), Some(None));
}

const LIVE: &str = r#"
name = "live sdk"
[prompt]
template = "Q"
[call]
provider = "openai"
model = "gpt-4o-mini"
base_url = "{base}/v1"
sdk_max_retries = 2
"#;

/// The recorded 500, with `x-should-retry: {value}`.
fn with_should_retry(value: &'static str) -> Reply {
    from_request(move |_| {
        fixture("openai_500").replace(
            "x-request-id:",
            &format!("x-should-retry: {value}\nx-request-id:"),
        )
    })
}

#[tokio::test]
async fn x_should_retry_false_stops_the_sdk_and_true_retries_what_it_would_not() {
    let server = serve(vec![with_should_retry("false"), play("openai_plain")]).await;
    let live = run_live(LIVE, &server, config()).await;
    assert!(
        sdk_retries(&live.events).is_empty(),
        "{:#?}",
        live.transcript()
    );
    assert_eq!(server.requests().len(), 1);
    assert_eq!(live.summary.error.unwrap().kind, ErrorKind::ServerError);

    let bad_request = from_request(|_| {
        fixture("openai_400_context")
            .replace("x-request-id:", "x-should-retry: true\nx-request-id:")
    });
    let server = serve(vec![bad_request, play("openai_plain")]).await;
    let live = run_live(LIVE, &server, config()).await;
    let r = sdk_retries(&live.events);
    assert_eq!(r.len(), 1);
    assert!(r[0].why.starts_with("x-should-retry: true"), "{}", r[0].why);
    assert!(live.summary.error.is_none());
}

#[tokio::test]
async fn every_request_carries_its_retry_count_as_the_server_sees_it() {
    let server = serve(vec![
        play("openai_500"),
        play("openai_500"),
        play("openai_plain"),
    ])
    .await;
    let live = run_live(LIVE, &server, config()).await;
    assert!(live.summary.error.is_none(), "{:#?}", live.transcript());
    let counts: Vec<Option<String>> = server
        .requests()
        .iter()
        .map(|r| r.header("x-stainless-retry-count").map(str::to_string))
        .collect();
    assert_eq!(
        counts,
        [Some("0".into()), Some("1".into()), Some("2".into())]
    );
}

#[tokio::test]
async fn the_simulator_logs_the_retry_count_of_each_request() {
    use retrylab::clock::{Clock, Speed};
    use retrylab::scenario::types::SimSpec;
    use retrylab::sim::{RequestLog, SimServer};
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<Option<u32>>>> = Arc::default();
    let log = seen.clone();
    let spec: SimSpec = toml::from_str(&format!(
        "{INSTANT}faults = [{{ fault = \"server_error\", times = 2 }}]"
    ))
    .unwrap();
    let sim = SimServer::start_logged(
        "127.0.0.1:0".parse().unwrap(),
        spec,
        Clock::real(Speed::Max),
        Some(Arc::new(move |r: &RequestLog| {
            log.lock().unwrap().push(r.sdk_retry)
        })),
    )
    .await
    .unwrap();
    let base = format!("http://{}", sim.addr());
    let live = run_live_at(LIVE, &base, None, config()).await;
    assert!(live.summary.error.is_none(), "{:#?}", live.transcript());
    assert_eq!(*seen.lock().unwrap(), [Some(0), Some(1), Some(2)]);
}

/// Every request the SDK retried is priced like a failed attempt, on its own `sdk_retry`
/// event; the attempt's cost is its last request's; the run's total adds them all.
#[tokio::test]
async fn each_sdk_retried_request_is_priced_and_counted_in_the_total() {
    let s = "name = \"t\"\n[prompt]\ntemplate = \"Recommend a fantasy book\"\n[call]\n\
             provider = \"openai\"\nmodel = \"gpt-4o-mini\"\nsdk_max_retries = 2\n\
             timeout = \"2s\"\n";
    let (summary, events) = run_sim(scenario(&format!(
        "{s}[sim]\n{INSTANT}faults = [{{ fault = \"timeout\", times = 3 }}]"
    )))
    .await;
    // A timeout after the request went out may have been worked on: its input is estimated
    // at ≈ 4 characters a token, "Recommend a fantasy book" (24) = 6 tokens, at gpt-4o-mini's
    // $0.15 per million: $0.0000009 a request.
    let each = 6.0 * 0.15 / 1e6;
    let r = sdk_retries(&events);
    assert_eq!(r.len(), 2);
    for x in &r {
        assert_eq!(x.cost_usd, Some(each), "{x:?}");
        assert!(x.cost_estimated);
    }
    let failed = events
        .iter()
        .find_map(|e| match &e.event {
            Event::AttemptFailed(f) => Some(f),
            _ => None,
        })
        .expect("the attempt failed");
    assert_eq!(failed.cost_usd, Some(each));
    let total = events
        .iter()
        .find_map(|e| match &e.event {
            Event::RunFinished(f) => Some(f),
            _ => None,
        })
        .expect("the run finished");
    // Three requests: 3 x $0.0000009.
    assert_eq!(total.total_cost_usd, Some(0.000_002_7));
    assert!(total.total_cost_estimated);
    assert_eq!(summary.error.map(|e| e.kind), Some(ErrorKind::Timeout));
}

/// A refused request (a 500) is not billed: SDK retries of 500s cost $0, priced all the same.
#[tokio::test]
async fn sdk_retries_of_refused_requests_cost_nothing() {
    let (_, events) = run_sim(scenario(&src(
        "sdk_max_retries = 2",
        &format!("[sim]\n{INSTANT}faults = [{{ fault = \"server_error\", times = 2 }}]"),
    )))
    .await;
    let r = sdk_retries(&events);
    assert_eq!(r.len(), 2);
    assert!(
        r.iter()
            .all(|x| x.cost_usd == Some(0.0) && !x.cost_estimated)
    );
}

/// `[limits].deadline` binds the SDK layer too (found in review): a Retry-After of 60 s
/// inside the attempt is not slept when the call has 5 s left; nothing more is sent and the
/// call ends at once with the limit.
#[tokio::test]
async fn the_sdk_does_not_sleep_past_the_calls_deadline() {
    let (summary, events) = run_sim(scenario(&src(
        "sdk_max_retries = 2",
        &format!("[limits]\ndeadline = \"5s\"\n[sim]\n{INSTANT}faults = [{{ fault = \"rate_limit\", retry_after = \"60s\", times = 10 }}]"),
    )))
    .await;
    let t = transcript(&events);
    assert!(sdk_retries(&events).is_empty(), "{t:#?}");
    let starts = events
        .iter()
        .filter(|e| matches!(e.event, Event::AttemptStarted(_)))
        .count();
    assert_eq!(starts, 1, "{t:#?}");
    assert!(events.last().is_some_and(|e| e.t_ms < 5000), "{t:#?}");
    assert_eq!(
        summary.error.map(|e| e.kind),
        Some(ErrorKind::RateLimit),
        "{t:#?}"
    );
}
