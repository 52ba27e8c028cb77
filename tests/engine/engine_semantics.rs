//! The policy semantics of DESIGN §3, end to end: the engine against the simulator over
//! loopback HTTP, on the virtual clock (no real waiting).

use crate::support::run::{run_sim, scenario, transcript};
use retrylab::error::ErrorKind;
use retrylab::event::{AttemptStarted, ErrorReinserted, Event, Outcome, WaitStarted};

const HEAD: &str = r#"
name = "t"
[prompt]
template = "Q{% if errors %} after {{ errors | length }} error(s): {{ errors | last }}{% endif %}"
[call]
provider = "openai"
model = "gpt-4o-mini"
"#;

fn src(rest: &str) -> String {
    format!("{HEAD}{rest}")
}

#[tokio::test]
async fn an_error_outside_retry_on_is_reraised_without_retry_error() {
    let (summary, events) = run_sim(scenario(&src(r#"
[retry]
stop = { after_attempt = 5 }
retry_on = ["rate_limit"]
[sim]
faults = [{ fault = "auth" }]
"#)))
    .await;
    assert_eq!(
        transcript(&events),
        [
            "0 run_started Sim",
            "0 attempt_started 0/1 openai/gpt-4o-mini",
            "0 attempt_failed 0/1 auth(401) retry=false",
            "0 run_finished Error auth caught=[]",
        ]
    );
    assert_eq!(summary.error.unwrap().kind, ErrorKind::Auth);
}

#[tokio::test]
async fn stop_after_delay_counts_waits_on_the_run_clock() {
    // Waits 2, 4, 8 s: after attempt 3 fails at 6 s elapsed the stop is not reached; after
    // attempt 4 fails at 14 s it is (>= 10 s).
    let (summary, events) = run_sim(scenario(&src(r#"
[retry]
stop = { after_delay = "10s" }
wait = { exponential = { multiplier = 2 } }
[sim]
faults = [{ fault = "server_error", times = 100 }]
"#)))
    .await;
    let t = transcript(&events);
    let waits: Vec<&String> = t.iter().filter(|l| l.contains("wait_started")).collect();
    assert_eq!(
        waits,
        [
            "0 wait_started 0/1 2000ms backoff",
            "2000 wait_started 0/2 4000ms backoff",
            "6000 wait_started 0/3 8000ms backoff"
        ]
    );
    assert!(
        t.contains(&"14000 retry_exhausted 0 after 4 server_error".to_string()),
        "{t:#?}"
    );
    let e = summary.error.unwrap();
    assert_eq!(e.kind, ErrorKind::RetryError);
    assert_eq!(e.last_error.unwrap().kind, ErrorKind::ServerError);
}

#[tokio::test]
async fn stop_before_delay_stops_before_a_wait_that_would_pass_it() {
    let (_, events) = run_sim(scenario(&src(r#"
[retry]
stop = { before_delay = "5s" }
wait = { fixed = 2 }
[sim]
faults = [{ fault = "server_error", times = 100 }]
"#)))
    .await;
    let t = transcript(&events);
    // Waits at 0 -> 2, 2 -> 4; at 4 s elapsed + 2 s wait >= 5 s: stop after attempt 3.
    assert!(
        t.contains(&"4000 retry_exhausted 0 after 3 server_error".to_string()),
        "{t:#?}"
    );
}

#[tokio::test]
async fn retry_after_is_ignored_when_not_honoured() {
    let (_, events) = run_sim(scenario(&src(r#"
[retry]
stop = { after_attempt = 2 }
wait = { fixed = 1 }
honor_retry_after = false
[sim]
faults = [{ fault = "rate_limit", retry_after = "30s" }]
"#)))
    .await;
    let wait = events.iter().find_map(|e| match &e.event {
        Event::WaitStarted(WaitStarted {
            delay_ms,
            retry_after_ms,
            source,
            ..
        }) => Some((*delay_ms, *retry_after_ms, source.to_string())),
        _ => None,
    });
    assert_eq!(wait, Some((1000, None, "backoff".to_string())));
}

#[tokio::test]
async fn retry_after_as_http_date_and_ms_are_honoured() {
    for format in ["ms", "seconds"] {
        let (_, events) = run_sim(scenario(&src(&format!(
            r#"
[retry]
stop = {{ after_attempt = 2 }}
wait = {{ fixed = 1 }}
[sim]
faults = [{{ fault = "rate_limit", retry_after = "7s", retry_after_format = "{format}" }}]
"#
        ))))
        .await;
        let t = transcript(&events);
        assert!(
            t.contains(&"0 wait_started 0/1 7000ms retry_after".to_string()),
            "{format}: {t:#?}"
        );
    }
}

#[tokio::test]
async fn template_reinsertion_renders_every_collected_error() {
    let (_, events) = run_sim(scenario(&src(r#"
[retry]
stop = { after_attempt = 3 }
reinsert = ["validation"]
[response]
validators = [{ one_of = ["yes", "no"] }]
[sim]
replies = ["maybe", "perhaps", "yes"]
"#)))
    .await;
    let prompts: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::AttemptStarted(AttemptStarted { prompt, .. }) => prompt.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(prompts.len(), 3);
    assert_eq!(prompts[0], "Q");
    assert!(
        prompts[1].starts_with("Q after 1 error(s): expected one of"),
        "{}",
        prompts[1]
    );
    assert!(prompts[1].contains("'maybe'"), "{}", prompts[1]);
    assert!(
        prompts[2].starts_with("Q after 2 error(s):"),
        "{}",
        prompts[2]
    );
    assert!(prompts[2].contains("'perhaps'"), "{}", prompts[2]);
    let reinserted: Vec<usize> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::ErrorReinserted(ErrorReinserted { errors, .. }) => Some(errors.len()),
            _ => None,
        })
        .collect();
    assert_eq!(reinserted, [1, 2]);
    // The exact request body carries the rendered prompt.
    let second_request = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::AttemptStarted(AttemptStarted { request, .. }) => Some(request.clone()),
            _ => None,
        })
        .nth(1)
        .unwrap();
    assert_eq!(
        second_request["messages"][0]["content"],
        prompts[1].as_str()
    );
}

#[tokio::test]
async fn errors_outside_reinsert_are_not_reinserted() {
    let (_, events) = run_sim(scenario(&src(r#"
[retry]
stop = { after_attempt = 3 }
reinsert = ["validation"]
[sim]
faults = [{ fault = "server_error" }]
"#)))
    .await;
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.event, Event::ErrorReinserted(_)))
    );
}

#[tokio::test]
async fn reask_appends_the_failed_answer_and_a_correction_request() {
    let (summary, events) = run_sim(scenario(&src(r#"
[retry]
stop = { after_attempt = 3 }
reinsert = ["validation"]
reinsert_mode = "reask"
[response]
validators = [{ uppercase = true }]
[sim]
replies = ["Patrick Rothfuss", "PATRICK ROTHFUSS"]
"#)))
    .await;
    assert_eq!(summary.content.as_deref(), Some("PATRICK ROTHFUSS"));
    let second = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::AttemptStarted(AttemptStarted { request, .. }) => Some(request.clone()),
            _ => None,
        })
        .nth(1)
        .unwrap();
    let messages = second["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "{second}");
    assert_eq!(
        messages[0]["content"], "Q",
        "template mode is off: the prompt is unchanged"
    );
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(messages[1]["content"], "Patrick Rothfuss");
    assert_eq!(messages[2]["role"], "user");
    assert!(
        messages[2]["content"]
            .as_str()
            .unwrap()
            .contains("expected uppercase")
    );
}

#[tokio::test]
async fn each_hop_runs_under_its_own_retry_budget() {
    let (summary, events) = run_sim(scenario(&src(r#"
[retry]
stop = { after_attempt = 2 }
[fallback]
catch = ["retry_error"]
[[fallback.hops]]
provider = "anthropic"
model = "claude-3-5-haiku-latest"
catch = ["retry_error"]
retry = { stop = { after_attempt = 4 }, wait = { fixed = 1 } }
[sim]
faults = [{ fault = "overloaded", times = 100 }]
"#)))
    .await;
    let attempts: Vec<(u32, u32)> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::AttemptStarted(AttemptStarted { hop, attempt, .. }) => Some((*hop, *attempt)),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, [(0, 1), (0, 2), (1, 1), (1, 2), (1, 3), (1, 4)]);
    let e = summary.error.unwrap();
    assert_eq!(e.kind, ErrorKind::FallbackError);
    assert_eq!(e.errors.len(), 2);
    assert!(e.errors.iter().all(|c| c.kind == ErrorKind::RetryError));
    assert_eq!(summary.caught.len(), 2);
}

#[tokio::test]
async fn a_hop_error_outside_its_catch_ends_the_run_and_skips_the_rest() {
    let (summary, events) = run_sim(scenario(&src(r#"
[fallback]
catch = ["rate_limit"]
[[fallback.hops]]
provider = "anthropic"
model = "claude-3-5-haiku-latest"
catch = ["rate_limit"]
[[fallback.hops]]
provider = "openai"
model = "gpt-4o"
catch = ["any"]
[sim]
faults = [
  { provider = "openai", model = "gpt-4o-mini", fault = "rate_limit" },
  { provider = "anthropic", fault = "context_length" },
]
"#)))
    .await;
    assert_eq!(summary.outcome, Outcome::Error);
    assert_eq!(summary.error.unwrap().kind, ErrorKind::ContextLength);
    assert_eq!(summary.caught.len(), 1);
    assert!(!events.iter().any(|e| matches!(
        &e.event,
        Event::AttemptStarted(AttemptStarted { hop: 2, .. })
    )));
}

#[tokio::test]
async fn an_unknown_tool_is_a_tool_validation_error() {
    let (summary, events) = run_sim(scenario(&src(r#"
[[tools]]
name = "get_book_author"
parameters = { type = "object", properties = { title = { type = "string" } }, required = ["title"] }
[sim]
tool_calls = [{ name = "get_author", args = '{"title": "x"}' }]
"#)))
    .await;
    let e = summary.error.unwrap();
    assert_eq!(e.kind, ErrorKind::ToolValidation);
    assert!(
        e.message.contains("unknown tool `get_author`"),
        "{}",
        e.message
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e.event, Event::AttemptFailed(_)))
    );
}

#[tokio::test]
async fn broken_replies_are_classified_not_panicked_on() {
    for (fault, kind) in [
        ("html", ErrorKind::ServerError),
        ("connection_reset", ErrorKind::Connection),
        ("malformed_stream", ErrorKind::StreamInterrupted),
        ("overloaded_in_stream", ErrorKind::Overloaded),
        ("cut_stream", ErrorKind::StreamInterrupted),
        ("bad_request", ErrorKind::BadRequest),
        ("context_length", ErrorKind::ContextLength),
    ] {
        for stream in [false, true] {
            if !stream && fault.ends_with("stream") && fault != "cut_stream" {
                continue;
            }
            let after = if fault.ends_with("stream") {
                ", after_tokens = 2"
            } else {
                ""
            };
            let (summary, _) = run_sim(scenario(&format!(
                "{HEAD}stream = {stream}\n[sim]\nfaults = [{{ fault = \"{fault}\"{after} }}]\n"
            )))
            .await;
            let e = summary
                .error
                .unwrap_or_else(|| panic!("{fault} (stream {stream}) should fail"));
            // A plain reply cut mid-body is a 200 whose JSON does not parse: a server fault.
            let kind = if fault == "cut_stream" && !stream {
                ErrorKind::ServerError
            } else {
                kind
            };
            assert_eq!(e.kind, kind, "{fault} (stream {stream}): {}", e.message);
            assert!(!e.message.is_empty());
        }
    }
}

#[tokio::test]
async fn a_stream_that_stalls_past_the_idle_timeout_times_out() {
    let (summary, events) = run_sim(scenario(&format!(
        "{HEAD}stream = true\nidle_timeout = \"2s\"\n[sim]\nreply = \"a b c d\"\ntokens_per_second = 0.25\nfirst_token_ms = 0\n"
    )))
    .await;
    let e = summary.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert_eq!(e.timeout.as_deref(), Some("idle"));
    let failed_at = events
        .iter()
        .find(|e| matches!(e.event, Event::AttemptFailed(_)))
        .map(|e| e.t_ms);
    // The first token at 0 s; the next would come at 4 s; the idle deadline fires at 2 s.
    assert_eq!(failed_at, Some(2000));
}

#[tokio::test]
async fn an_idle_timeout_longer_than_the_token_gap_never_fires() {
    let (summary, _) = run_sim(scenario(&format!(
        "{HEAD}stream = true\nidle_timeout = \"200ms\"\n[sim]\nreply = \"{}\"\ntokens_per_second = 10\n",
        "word ".repeat(60)
    )))
    .await;
    assert_eq!(summary.outcome, Outcome::Ok, "{:?}", summary.error);
}
