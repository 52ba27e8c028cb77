//! The `[sim]` details `retrylab whatif` replays a recorded run with: a fault's `status`,
//! its `delay` as the reply's lead time, an entry's own `reply` / `tool_call`, and outage
//! windows carrying the same details.

use crate::support::run::{run_sim, scenario};
use retrylab::event::{Event, TimedEvent};

fn with_sim(sim: &str, stream: bool, retry: &str) -> String {
    format!(
        "name = \"t\"\n[prompt]\ntemplate = \"Q\"\n[call]\nprovider = \"openai\"\nmodel = \"m\"\nstream = {stream}\n[retry]\n{retry}\n[sim]\nfirst_token_ms = 0\ntokens_per_second = 1e9\n{sim}\n"
    )
}

/// `(t_ms, attempt, kind or "ok", status, latency_ms, text)` per finished attempt.
fn ends(events: &[TimedEvent]) -> Vec<(u64, u32, String, Option<u16>, u64, String)> {
    events
        .iter()
        .filter_map(|e| match &e.event {
            Event::AttemptFailed(f) => Some((
                e.t_ms,
                f.attempt,
                f.error.kind.to_string(),
                f.error.status,
                f.latency_ms,
                f.partial_output.clone(),
            )),
            Event::AttemptSucceeded(s) => Some((
                e.t_ms,
                s.attempt,
                "ok".into(),
                None,
                s.latency_ms,
                s.content.clone(),
            )),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn status_delay_and_an_entrys_own_reply() {
    let sim = r#"faults = [
  { fault = "server_error", status = 502, delay = "120ms", message = "Bad gateway", on_requests = [1] },
  { fault = "server_error", status = 429, on_requests = [2] },
  { fault = "cut_stream", reply = "Patrick Roth", after_tokens = 2, delay = "40ms", on_requests = [3] },
  { fault = "slow_first_byte", delay = "300ms", reply = "Patrick Rothfuss", on_requests = [4] },
]"#;
    let s = scenario(&with_sim(sim, true, "stop = { after_attempt = 5 }"));
    let (summary, events) = run_sim(s).await;
    assert_eq!(summary.content.as_deref(), Some("Patrick Rothfuss"));
    let got = ends(&events);
    assert_eq!(
        got,
        vec![
            (120, 1, "server_error".into(), Some(502), 120, String::new()),
            // A 429 with no Retry-After: the status makes the kind, nothing is waited for.
            (120, 2, "rate_limit".into(), Some(429), 0, String::new()),
            (
                160,
                3,
                "stream_interrupted".into(),
                Some(200),
                40,
                "Patrick Roth".into()
            ),
            (460, 4, "ok".into(), None, 300, "Patrick Rothfuss".into()),
        ]
    );
    let first = events
        .iter()
        .find_map(|e| match &e.event {
            Event::AttemptFailed(f) => Some(f.error.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(first.message, "Bad gateway");
    let second_ra = events.iter().find_map(|e| match &e.event {
        Event::AttemptFailed(f) if f.attempt == 2 => Some(f.error.retry_after_ms),
        _ => None,
    });
    assert_eq!(second_ra, Some(None));
}

#[tokio::test]
async fn an_entrys_tool_call_answers_a_request_that_offers_tools() {
    let src = format!(
        "{}\n[[tools]]\nname = \"get_book_author\"\nparameters = {{ type = \"object\", properties = {{ title = {{ type = \"string\" }} }}, required = [\"title\"] }}\ndefault = \"Unknown\"\n",
        with_sim(
            r#"faults = [{ fault = "slow_first_byte", delay = "10ms", tool_call = { name = "get_book_author", args = '{"titel": "x"}' }, on_requests = [1] },
  { fault = "slow_first_byte", delay = "10ms", tool_call = { name = "get_book_author", args = '{"title": "x"}' }, on_requests = [2] }]"#,
            false,
            "stop = { after_attempt = 2 }"
        )
    );
    let (summary, events) = run_sim(scenario(&src)).await;
    let got = ends(&events);
    assert_eq!(got[0].2, "tool_validation");
    assert_eq!(got[0].5, "get_book_author({\"titel\": \"x\"})");
    assert_eq!(got[1].2, "ok");
    assert_eq!(summary.content.as_deref(), Some("Unknown"));
}

#[tokio::test]
async fn an_outage_window_carries_a_recorded_failure_whole() {
    // [0, 2 s): a 429 with Retry-After 2 s; from 2 s the recorded answer after 50 ms.
    let sim = r#"outages = [
  { provider = "openai", from = 0, to = 2, fault = "rate_limit", retry_after = "2s", delay = "10ms", message = "slow down" },
  { provider = "openai", from = 2, to = "30s", fault = "slow_first_byte", delay = "50ms", reply = "late but fine" },
]"#;
    let s = scenario(&with_sim(
        sim,
        false,
        "stop = { after_attempt = 3 }\nwait = { fixed = \"1s\" }\nhonor_retry_after = false",
    ));
    let (summary, events) = run_sim(s).await;
    assert_eq!(summary.content.as_deref(), Some("late but fine"));
    let got = ends(&events);
    // 0: 429 at 10; wait 1 s: 1010: 429 at 1020; wait 1 s: 2020: the answer at 2070.
    assert_eq!(
        got.iter().map(|g| (g.0, g.2.as_str())).collect::<Vec<_>>(),
        vec![(10, "rate_limit"), (1020, "rate_limit"), (2070, "ok")]
    );
    let ra: Vec<Option<u64>> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::AttemptFailed(f) => Some(f.error.retry_after_ms),
            _ => None,
        })
        .collect();
    assert_eq!(ra, vec![Some(2000), Some(2000)]);
}
