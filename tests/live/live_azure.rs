//! Azure OpenAI live, against recorded Azure traffic on a loopback server: the deployment
//! URL with `api-version`, the key in `api-key` (and nowhere else), `retry-after-ms`,
//! streams with Azure's filter frames (plain, error inside, cut, malformed, tool arguments
//! split across deltas, stopped by the filter), the content-filter 400 and the fallback
//! that catches it, and the bad input of issue 13: a deployment that does not exist, a URL
//! without api-version, a malformed content-filter body.

use crate::support::live::{KEY, assert_transcript, run_live};
use crate::support::live_server::{Step, cut, play, serve};
use retrylab::config::Config;
use retrylab::engine::run::check_live_keys_with;
use retrylab::event::{AttemptStarted, Event};

const AZURE: &str = r#"
name = "live azure"
[prompt]
template = "Who wrote {{ book }}?"
vars = { book = "The Name of the Wind" }
[call]
provider = "azure-openai"
model = "gpt-4o"
api_version = "2024-10-21"
base_url = "{base}"
stream = true
[retry]
stop = { after_attempt = 4 }
wait = { fixed = "10ms" }
retry_on = ["rate_limit", "server_error", "stream_interrupted"]
"#;

const LINE: &str =
    "POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21 HTTP/1.1";

/// A config holding [`KEY`] as AZURE_OPENAI_API_KEY (and OpenAI's, for a fallback hop).
fn config() -> Config {
    Config::isolated().with_env([("AZURE_OPENAI_API_KEY", KEY), ("OPENAI_API_KEY", KEY)])
}

#[tokio::test]
async fn retry_after_ms_then_a_stream_with_filter_frames_and_usage() {
    let server = serve(vec![
        play("azure_429_retry_after_ms"),
        play("azure_429_retry_after"),
        play("azure_stream"),
    ])
    .await;
    let live = run_live(AZURE, &server, config()).await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 azure-openai/gpt-4o",
            "attempt_failed 0/1 rate_limit(429) retry=true $0",
            // retry-after-ms: 1500 wins over retry-after: 2.
            "wait_started 0/1 1500ms retry_after",
            "wait_finished 0/1",
            "attempt_started 0/2 azure-openai/gpt-4o",
            "attempt_failed 0/2 rate_limit(429) retry=true $0",
            "wait_started 0/2 1000ms retry_after",
            "wait_finished 0/2",
            "attempt_started 0/3 azure-openai/gpt-4o",
            "delta 0/3 x9 \"Patrick Rothfuss wrote it. Élève \\\"Kvothe\\\"\\n\"",
            // Usage from the last chunk, the deployment priced as gpt-4o:
            // 24 × 2.50 + 9 × 10.00 dollars per million.
            "attempt_succeeded 0/3 \"Patrick Rothfuss wrote it. Élève \\\"Kvothe\\\"\\n\" 24+9 $0.00015",
            "run_finished Ok $0.00015",
        ],
    );
    let errors = live.errors();
    assert_eq!(errors[0].retry_after_ms, Some(1500));
    assert_eq!(errors[1].retry_after_ms, Some(1000));
    assert_eq!(errors[0].provider_type.as_deref(), Some("429"));
    assert_eq!(
        errors[0].request_id.as_deref(),
        Some("7a8b9c0d-1e2f-4a3b-4c5d-6e7f8a9b0c1d")
    );
    for r in server.requests() {
        assert_eq!(r.line, LINE);
        assert_eq!(r.header("api-key"), Some(KEY));
        assert_eq!(r.header("authorization"), None);
        assert_eq!(r.json()["model"], "gpt-4o");
        assert_eq!(r.json()["stream_options"]["include_usage"], true);
    }
    // The key is shown nowhere: the request's headers read [redacted], no event holds it.
    let Event::AttemptStarted(AttemptStarted { url, headers, .. }) = &live.events[1].event else {
        panic!("{:?}", live.events[1]);
    };
    assert!(url.ends_with("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"));
    assert!(
        headers.contains(&("api-key".to_string(), "[redacted]".to_string())),
        "{headers:?}"
    );
    let all: String = live.events.iter().map(|e| e.to_json_line()).collect();
    assert!(!all.contains(KEY), "the key leaked into the events");
}

#[tokio::test]
async fn a_cut_stream_an_error_inside_a_stream_and_a_malformed_frame_are_retried() {
    let server = serve(vec![
        // The filter frame, the role frame and two words, then a clean end: no [DONE] (the
        // SDK takes this for a complete answer).
        cut(
            "azure_stream",
            4,
            vec![Step::Write(b"0\r\n\r\n".to_vec()), Step::Close],
        ),
        play("azure_stream_error"),
        play("azure_stream_malformed"),
        play("azure_plain"),
    ])
    .await;
    let live = run_live(AZURE, &server, config()).await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 azure-openai/gpt-4o",
            "delta 0/1 x2 \"Patrick Roth\"",
            // Estimated: 8 tokens in, 3 out, at 2.50 and 10.00 dollars per million.
            "attempt_failed 0/1 stream_interrupted(200) retry=true partial=\"Patrick Roth\" ~$0.00005",
            "wait_started 0/1 10ms backoff",
            "wait_finished 0/1",
            "attempt_started 0/2 azure-openai/gpt-4o",
            "delta 0/2 x4 \"Patrick Rothfuss wrote\"",
            "attempt_failed 0/2 server_error(200) retry=true partial=\"Patrick Rothfuss wrote\" ~$0.00008",
            "wait_started 0/2 10ms backoff",
            "wait_finished 0/2",
            "attempt_started 0/3 azure-openai/gpt-4o",
            "delta 0/3 x2 \"Patrick Roth\"",
            "attempt_failed 0/3 stream_interrupted(200) retry=true partial=\"Patrick Roth\" ~$0.00005",
            "wait_started 0/3 10ms backoff",
            "wait_finished 0/3",
            "attempt_started 0/4 azure-openai/gpt-4o",
            // A plain JSON reply to a stream request is read whole: no deltas.
            "attempt_succeeded 0/4 \"Patrick Rothfuss wrote *The Name of the Wind* (2007).\" 24+16 $0.00022",
            "run_finished Ok ~$0.0004",
        ],
    );
    let e = live.errors();
    assert!(
        e[0].message.contains("data: [DONE]"),
        "the terminal event is named: {}",
        e[0].message
    );
    assert_eq!(
        e[1].message,
        "The server had an error while processing your request. Sorry about that!"
    );
    assert!(
        e[2].message.starts_with("malformed stream frame ("),
        "{}",
        e[2].message
    );
}

const TOOLS: &str = r#"
[[tools]]
name = "get_book_author"
description = "Look up who wrote a book"
parameters = { type = "object", properties = { title = { type = "string" } }, required = ["title"] }
cases = [{ when = { title = "The Name of the Wind" }, result = "Patrick Rothfuss" }]
default = "Unknown"
"#;

#[tokio::test]
async fn tool_arguments_split_across_deltas_are_reassembled() {
    let server = serve(vec![play("azure_stream_tool")]).await;
    let live = run_live(&format!("{AZURE}{TOOLS}"), &server, config()).await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 azure-openai/gpt-4o",
            "tool_call 0/1 get_book_author {\"title\":\"The Name of the Wind\"} -> Patrick Rothfuss",
            // 24 × 2.50 + 18 × 10.00 dollars per million.
            "attempt_succeeded 0/1 \"Patrick Rothfuss\" 24+18 $0.00024",
            "run_finished Ok $0.00024",
        ],
    );
    assert_eq!(
        server.requests()[0].json()["tools"][0]["function"]["name"],
        "get_book_author"
    );
}

#[tokio::test]
async fn the_content_filter_refuses_and_the_fallback_answers() {
    let scenario = format!(
        "{AZURE}{}",
        r#"[fallback]
catch = ["content_filter"]
[[fallback.hops]]
provider = "openai"
model = "gpt-4o-mini"
base_url = "{base}/v1"
catch = []
"#
    );
    let server = serve(vec![
        play("azure_400_content_filter"),
        play("openai_stream"),
    ])
    .await;
    let live = run_live(&scenario, &server, config()).await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 azure-openai/gpt-4o",
            "attempt_failed 0/1 content_filter(400) retry=false $0",
            "fallback_hop 1 azure-openai/gpt-4o -> openai/gpt-4o-mini caught content_filter",
            "attempt_started 1/1 openai/gpt-4o-mini",
            "delta 1/1 x9 \"Patrick Rothfuss wrote it. Élève \\\"Kvothe\\\"\\n\"",
            "attempt_succeeded 1/1 \"Patrick Rothfuss wrote it. Élève \\\"Kvothe\\\"\\n\" 24+9 $0.000009",
            "run_finished Ok $0.000009",
        ],
    );
    let e = &live.errors()[0];
    assert_eq!(e.provider_type.as_deref(), Some("content_filter"));
    assert!(
        e.message
            .ends_with("[filtered: hate (high), violence (medium)]"),
        "{}",
        e.message
    );
    let reqs = server.requests();
    assert_eq!(reqs[0].line, LINE);
    assert_eq!(reqs[1].line, "POST /v1/chat/completions HTTP/1.1");
    assert_eq!(reqs[1].header("api-key"), None);
}

#[tokio::test]
async fn a_stream_stopped_by_the_filter_names_the_category_and_keeps_its_partial_output() {
    let server = serve(vec![play("azure_stream_filtered")]).await;
    let live = run_live(AZURE, &server, config()).await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 azure-openai/gpt-4o",
            // The last `s` could start a key (`sk-…`): held back, then sent, as its own delta.
            "delta 0/1 x4 \"Patrick Rothfuss\"",
            // Estimated: 8 tokens in (31 characters), 4 out, at 2.50 and 10.00 per million.
            "attempt_failed 0/1 content_filter(200) retry=false partial=\"Patrick Rothfuss\" ~$0.00006",
            "run_finished Error content_filter ~$0.00006",
        ],
    );
    assert!(
        live.errors()[0]
            .message
            .ends_with("[filtered: violence (medium)]"),
        "{}",
        live.errors()[0].message
    );
}

#[tokio::test]
async fn a_missing_deployment_a_missing_api_version_and_a_malformed_filter_body_are_said_clearly() {
    let server = serve(vec![
        play("azure_404_deployment"),
        play("azure_404_resource"),
        play("azure_400_content_filter_malformed"),
    ])
    .await;
    let scenario = AZURE
        .replace(
            "stop = { after_attempt = 4 }",
            "stop = { after_attempt = 3 }",
        )
        .replace(
            "retry_on = [\"rate_limit\", \"server_error\", \"stream_interrupted\"]",
            "retry_on = [\"bad_request\"]",
        );
    let live = run_live(&scenario, &server, config()).await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 azure-openai/gpt-4o",
            "attempt_failed 0/1 bad_request(404) retry=true $0",
            "wait_started 0/1 10ms backoff",
            "wait_finished 0/1",
            "attempt_started 0/2 azure-openai/gpt-4o",
            "attempt_failed 0/2 bad_request(404) retry=true $0",
            "wait_started 0/2 10ms backoff",
            "wait_finished 0/2",
            "attempt_started 0/3 azure-openai/gpt-4o",
            "attempt_failed 0/3 content_filter(400) retry=false $0",
            "run_finished Error content_filter $0",
        ],
    );
    let e = live.errors();
    assert_eq!(e[0].provider_type.as_deref(), Some("DeploymentNotFound"));
    assert!(
        e[0].shown_message().contains(
            " — to fix: check model = \"gpt-4o\": it is the Azure deployment's name (not the model's)"
        ),
        "{}",
        e[0].shown_message()
    );
    assert!(
        e[1].shown_message().starts_with(
            "Resource not found (Azure answers this to a URL it does not serve: most often one without ?api-version="
        ),
        "{}",
        e[1].shown_message()
    );
    assert_eq!(
        e[2].message,
        "HTTP 400: Azure's content filter refused the prompt"
    );
}

#[tokio::test]
async fn the_endpoint_comes_from_azure_openai_endpoint_or_config_and_its_absence_is_named() {
    let no_base = AZURE.replace("base_url = \"{base}\"\n", "");
    // Nothing anywhere: the error names the variable and both other places.
    let e = check_live_keys_with(
        &crate::support::live::scenario_for(&no_base, ""),
        &Config::isolated().with_env([("AZURE_OPENAI_API_KEY", KEY)]),
    )
    .unwrap_err();
    assert!(
        e.message.starts_with("provider `azure-openai` needs its endpoint: set AZURE_OPENAI_ENDPOINT (e.g. https://<resource>.openai.azure.com), add base_url = \"https://<resource>.openai.azure.com\" to [call], or add AZURE_OPENAI_ENDPOINT = \"...\" under [keys]"),
        "{}",
        e.message
    );
    // A missing key names AZURE_OPENAI_API_KEY.
    let e = check_live_keys_with(
        &crate::support::live::scenario_for(AZURE, "http://127.0.0.1:9"),
        &Config::isolated(),
    )
    .unwrap_err();
    assert!(
        e.message
            .starts_with("live mode needs AZURE_OPENAI_API_KEY (for azure-openai/gpt-4o)"),
        "{}",
        e.message
    );
    // From the environment, then from [keys].
    for from_env in [true, false] {
        let server = serve(vec![play("azure_plain")]).await;
        let cfg = if from_env {
            Config::isolated().with_env([
                ("AZURE_OPENAI_API_KEY", KEY.to_string()),
                ("AZURE_OPENAI_ENDPOINT", server.base.clone()),
            ])
        } else {
            config().with_key("AZURE_OPENAI_ENDPOINT", server.base.clone())
        };
        let live = run_live(&no_base, &server, cfg).await;
        assert_eq!(
            live.summary.outcome,
            retrylab::event::Outcome::Ok,
            "{:?}",
            live.transcript()
        );
        assert_eq!(server.requests()[0].line, LINE);
    }
}
