//! The `[sim]` script over real loopback HTTP: fault matching, counts, replies, tool calls,
//! chaos determinism.

use crate::support::sim::{body, outcome, spec, start};
use retrylab::scenario::types::ProviderKind::{Anthropic, Openai, OpenaiCompatible};

#[tokio::test]
async fn faults_match_on_times_on_requests_provider_and_model() {
    let sim = start(spec(
        r#"
        replies = ["one", "two", "three"]
        faults = [
          { provider = "anthropic", fault = "overloaded", times = 2 },
          { model = "gpt-a", fault = "rate_limit", on_requests = [2, 3] },
          { model = "gpt-a", fault = "server_error", on_requests = [5] },
          { fault = "auth" },
        ]
        "#,
    ))
    .await;
    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(outcome(&sim.ask(Openai, "gpt-a").await));
    }
    // Request 1 takes the first entry that matches and has uses left: `auth` (1 use).
    assert_eq!(
        seen,
        vec![
            "401 invalid_request_error",
            "429 requests",
            "429 requests",
            "three",
            "500 server_error",
            "three"
        ]
    );
    let claude: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(outcome(&sim.ask(Anthropic, "claude").await));
        }
        v
    };
    assert_eq!(
        claude,
        vec!["529 overloaded_error", "529 overloaded_error", "three"]
    );
    let counts = sim.server.request_counts();
    assert_eq!(counts[&("openai".to_string(), "gpt-a".to_string())], 6);
    assert_eq!(counts[&("anthropic".to_string(), "claude".to_string())], 3);
    assert_eq!(sim.server.total_requests(), 9);
}

#[tokio::test]
async fn counts_are_per_provider_and_model_and_replies_follow_them() {
    let sim = start(spec(r#"replies = ["first", "second"]"#)).await;
    assert_eq!(outcome(&sim.ask(Openai, "m").await), "first");
    assert_eq!(outcome(&sim.ask(Openai, "m").await), "second");
    assert_eq!(outcome(&sim.ask(Openai, "m").await), "second");
    // A new model, or the same model under another provider, starts again at request 1.
    assert_eq!(outcome(&sim.ask(Openai, "n").await), "first");
    assert_eq!(outcome(&sim.ask(OpenaiCompatible, "m").await), "first");
    assert_eq!(outcome(&sim.ask(Anthropic, "m").await), "first");
    let counts: Vec<_> = sim.server.request_counts().into_iter().collect();
    assert_eq!(
        counts,
        vec![
            (("anthropic".into(), "m".into()), 1),
            (("openai".into(), "m".into()), 3),
            (("openai".into(), "n".into()), 1),
            (("openai-compatible".into(), "m".into()), 1),
        ]
    );
}

#[tokio::test]
async fn a_fault_replaces_the_answer_but_still_counts_as_a_request() {
    let sim = start(spec(
        r#"
        replies = ["a", "b", "c"]
        faults = [{ fault = "rate_limit", times = 2 }]
        "#,
    ))
    .await;
    assert_eq!(outcome(&sim.ask(Openai, "m").await), "429 requests");
    assert_eq!(outcome(&sim.ask(Openai, "m").await), "429 requests");
    assert_eq!(outcome(&sim.ask(Openai, "m").await), "c");
}

#[tokio::test]
async fn reply_and_default_sentence() {
    let sim = start(spec(r#"reply = "42.""#)).await;
    assert_eq!(outcome(&sim.ask(Anthropic, "c").await), "42.");
    let plain = start(spec("")).await;
    assert_eq!(
        outcome(&plain.ask(Openai, "m").await),
        retrylab::sim::script::DEFAULT_REPLY
    );
}

#[tokio::test]
async fn tool_calls_answer_only_requests_that_offer_tools() {
    let sim = start(spec(
        r#"
        reply = "Patrick Rothfuss"
        tool_calls = [
          { name = "get_book_author", args = '{"titel": "x"}' },
          { name = "get_book_author", args = '{"title": "The Name of the Wind"}' },
        ]
        "#,
    ))
    .await;
    let with_tools = |kind| body(kind, "m", false, true);
    assert_eq!(
        outcome(&sim.send(Openai, &with_tools(Openai)).await),
        r#"tool "get_book_author" "{\"titel\": \"x\"}""#
    );
    assert_eq!(outcome(&sim.ask(Openai, "m").await), "Patrick Rothfuss");
    assert_eq!(
        outcome(&sim.send(Openai, &with_tools(Openai)).await),
        r#"tool "get_book_author" "{\"title\": \"The Name of the Wind\"}""#
    );
    // The last entry repeats.
    assert_eq!(
        outcome(&sim.send(Openai, &with_tools(Openai)).await),
        r#"tool "get_book_author" "{\"title\": \"The Name of the Wind\"}""#
    );
    // Anthropic counts on its own and sends parsed input.
    assert_eq!(
        outcome(&sim.send(Anthropic, &with_tools(Anthropic)).await),
        r#"tool "get_book_author" {"titel":"x"}"#
    );
    // tool_choice = none switches tools off.
    let mut none = with_tools(Openai);
    none["tool_choice"] = "none".into();
    assert_eq!(outcome(&sim.send(Openai, &none).await), "Patrick Rothfuss");
}

#[tokio::test]
async fn chaos_is_deterministic_for_the_same_request_order() {
    let script = r#"
        reply = "ok"
        seed = 7
        chaos = { rate_limit = 0.3, server_error = 0.2 }
    "#;
    let mut runs = Vec::new();
    for _ in 0..2 {
        let sim = start(spec(script)).await;
        let mut seen = Vec::new();
        for i in 0..40 {
            let kind = if i % 3 == 0 { Anthropic } else { Openai };
            seen.push(outcome(&sim.ask(kind, "m").await));
        }
        runs.push(seen);
    }
    assert_eq!(runs[0], runs[1]);
    let faults = runs[0].iter().filter(|o| *o != "ok").count();
    assert!(
        (8..=32).contains(&faults),
        "{faults} faults in 40: {:?}",
        runs[0]
    );
    assert!(runs[0].iter().any(|o| o.starts_with("429")));
    assert!(runs[0].iter().any(|o| o.starts_with("500")));
}

#[tokio::test]
async fn scripted_faults_win_over_chaos() {
    let sim = start(spec(
        r#"
        reply = "ok"
        chaos = { server_error = 1.0 }
        faults = [{ fault = "auth" }]
        "#,
    ))
    .await;
    assert_eq!(
        outcome(&sim.ask(Anthropic, "c").await),
        "401 authentication_error"
    );
    assert_eq!(outcome(&sim.ask(Anthropic, "c").await), "500 api_error");
}
