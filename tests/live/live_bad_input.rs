//! Live mode against what a wrong setup gets back: a wrong key, a model that does not exist,
//! a base URL nobody answers at, an HTML page, a wrong path, a proxy that closes the stream,
//! a redirect (never followed), a connect that hangs (a black-holed route).
//! Each ends as a classified error whose message says what to fix; nothing panics.

// Test support: a failed setup step should fail the test loudly.
#![allow(clippy::unwrap_used)]

use crate::support::live::{Live, assert_transcript, config, run_live, run_live_at};
use crate::support::live_server::{Step, closed_port, cut, play, serve};
use retrylab::ErrorKind;
use retrylab::config::HINT_SEP;
use retrylab::event::{Delta, Event, Outcome};

/// A single attempt (no `[retry]`): the error goes on as is.
const OPENAI: &str = r#"
name = "bad input"
[prompt]
template = "Who wrote The Name of the Wind?"
[call]
provider = "openai"
model = "gpt-4o-minii"
base_url = "{base}/v1"
stream = true
"#;

const ANTHROPIC: &str = r#"
name = "bad input"
[prompt]
template = "Who wrote The Name of the Wind?"
[call]
provider = "anthropic"
model = "claude-3-5-sonet-latest"
base_url = "{base}"
"#;

/// The run's final error, split into what happened and what to fix.
fn final_error(live: &Live) -> (ErrorKind, Option<u16>, String, String) {
    assert_eq!(live.summary.outcome, Outcome::Error);
    let e = live.summary.error.clone().expect("an error");
    let shown = e.shown_message();
    let (what, fix) = shown
        .split_once(HINT_SEP)
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .unwrap_or_else(|| panic!("no fix in {shown:?}"));
    // The hint has its own field; the message is what happened.
    assert_eq!(
        (e.message.as_str(), e.hint.as_deref()),
        (&*what, Some(&*fix))
    );
    (e.kind, e.status, what, fix)
}

#[tokio::test]
async fn a_wrong_key_is_auth_and_names_the_variable() {
    let server = serve(vec![play("openai_401")]).await;
    let live = run_live(OPENAI, &server, config()).await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 openai/gpt-4o-minii",
            "attempt_failed 0/1 auth(401) retry=false",
            "run_finished Error auth",
        ],
    );
    let (kind, status, what, fix) = final_error(&live);
    assert_eq!((kind, status), (ErrorKind::Auth, Some(401)));
    assert!(
        what.starts_with("Incorrect API key provided: sk-proj-****"),
        "{what}"
    );
    assert_eq!(
        fix,
        format!(
            "the server refused the key: check OPENAI_API_KEY (or its entry under [keys] in config.toml) holds a valid key for {}/v1",
            server.base
        )
    );

    let server = serve(vec![play("anthropic_401")]).await;
    let live = run_live(ANTHROPIC, &server, config()).await;
    let (kind, status, what, fix) = final_error(&live);
    assert_eq!((kind, status), (ErrorKind::Auth, Some(401)));
    assert_eq!(what, "invalid x-api-key");
    assert!(fix.contains("check ANTHROPIC_API_KEY"), "{fix}");
}

#[tokio::test]
async fn a_model_that_does_not_exist_is_a_bad_request_naming_the_model() {
    let server = serve(vec![play("openai_404_model")]).await;
    let live = run_live(OPENAI, &server, config()).await;
    let (kind, status, what, fix) = final_error(&live);
    assert_eq!((kind, status), (ErrorKind::BadRequest, Some(404)));
    assert_eq!(
        what,
        "The model `gpt-4o-minii` does not exist or you do not have access to it."
    );
    assert_eq!(
        fix,
        "check model = \"gpt-4o-minii\": the server has no such model (or this key cannot use it)"
    );
    // An unknown model has no price: no cost is claimed.
    assert_eq!(
        live.transcript().last().map(String::as_str),
        Some("run_finished Error bad_request")
    );

    let server = serve(vec![play("anthropic_404_model")]).await;
    let live = run_live(ANTHROPIC, &server, config()).await;
    let (kind, status, what, fix) = final_error(&live);
    assert_eq!((kind, status), (ErrorKind::BadRequest, Some(404)));
    assert_eq!(what, "model: claude-3-5-sonet-latest");
    assert!(
        fix.starts_with("check model = \"claude-3-5-sonet-latest\""),
        "{fix}"
    );
    assert_eq!(
        live.summary
            .error
            .as_ref()
            .unwrap()
            .provider_type
            .as_deref(),
        Some("not_found_error")
    );
}

#[tokio::test]
async fn a_base_url_nobody_answers_at_is_a_connection_error() {
    let base = closed_port().await;
    let live = run_live_at(OPENAI, &base, None, config()).await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 openai/gpt-4o-minii",
            "attempt_failed 0/1 connection retry=false",
            "run_finished Error connection",
        ],
    );
    let (kind, status, what, fix) = final_error(&live);
    assert_eq!((kind, status), (ErrorKind::Connection, None));
    let host = base.trim_start_matches("http://");
    assert!(
        what.starts_with(&format!("cannot connect to {host}: ")),
        "{what}"
    );
    assert!(what.to_lowercase().contains("refused"), "{what}");
    assert_eq!(
        fix,
        format!("nothing answers at {base}/v1: check base_url, and that the server is running")
    );
}

#[tokio::test]
async fn an_html_page_is_a_server_error_pointing_at_the_proxy() {
    // A captive portal answering 200 with HTML, then a proxy's 502 page.
    for (fixture, status) in [("openai_200_html_portal", 200), ("openai_502_html", 502)] {
        let server = serve(vec![play(fixture)]).await;
        let live = run_live(OPENAI, &server, config()).await;
        let (kind, got_status, what, fix) = final_error(&live);
        assert_eq!(
            (kind, got_status),
            (ErrorKind::ServerError, Some(status)),
            "{fixture}"
        );
        assert!(what.contains("HTML"), "{fixture}: {what}");
        assert!(
            fix.starts_with("an HTML page answered instead of the API (a proxy, a captive portal, or a wrong base_url): check base_url = \""),
            "{fixture}: {fix}"
        );
    }
}

#[tokio::test]
async fn a_wrong_path_on_a_compatible_server_points_at_the_v1_convention() {
    let scenario = OPENAI
        .replace("provider = \"openai\"", "provider = \"openai-compatible\"")
        .replace("{base}/v1", "{base}")
        .replace("gpt-4o-minii", "llama3.1:8b");
    let server = serve(vec![play("compat_404_path")]).await;
    let live = run_live(&scenario, &server, config()).await;
    let (kind, status, what, fix) = final_error(&live);
    assert_eq!((kind, status), (ErrorKind::BadRequest, Some(404)));
    assert_eq!(what, "HTTP 404: 404 page not found");
    assert_eq!(
        fix,
        format!(
            "check base_url = \"{}\" and model = \"llama3.1:8b\" (an OpenAI-style base_url ends in /v1: the client adds /chat/completions)",
            server.base
        )
    );
    assert_eq!(server.requests()[0].line, "POST /chat/completions HTTP/1.1");
}

#[tokio::test]
async fn a_proxy_that_closes_the_stream_is_interrupted() {
    // Mid-stream: the socket closes inside the chunked body.
    let server = serve(vec![cut(
        "openai_stream",
        2,
        vec![Step::WaitDelta, Step::Close],
    )])
    .await;
    let live = run_live(
        &OPENAI.replace("gpt-4o-minii", "gpt-4o-mini"),
        &server,
        config(),
    )
    .await;
    assert_transcript(
        &live,
        &[
            "run_started Live",
            "attempt_started 0/1 openai/gpt-4o-mini",
            "delta 0/1 x1 \"Patrick\"",
            // 8 tokens in, 2 out (estimated), at 0.15 and 0.60 dollars per million.
            "attempt_failed 0/1 stream_interrupted retry=false partial=\"Patrick\" ~$0.0000024",
            "run_finished Error stream_interrupted ~$0.0000024",
        ],
    );
    let (_, _, what, fix) = final_error(&live);
    assert!(
        what.starts_with("the connection broke mid-stream after 2 events: "),
        "{what}"
    );
    assert!(fix.starts_with("the connection closed mid-stream"), "{fix}");

    // Cleanly, but before `[DONE]`: what the official SDKs wrongly accept.
    let server = serve(vec![play("openai_stream_no_done")]).await;
    let live = run_live(OPENAI, &server, config()).await;
    let (kind, status, what, fix) = final_error(&live);
    assert_eq!((kind, status), (ErrorKind::StreamInterrupted, Some(200)));
    assert!(
        what.starts_with("the stream ended without `data: [DONE]` after "),
        "{what}"
    );
    assert!(fix.contains("add stream_interrupted to retry_on"), "{fix}");
}

#[tokio::test]
async fn a_missing_key_stops_the_run_before_any_request() {
    let server = serve(vec![]).await;
    let live = run_live(OPENAI, &server, retrylab::config::Config::isolated()).await;
    assert_transcript(&live, &["run_started Live", "run_finished Error auth"]);
    let e = live.summary.error.clone().unwrap();
    assert_eq!(
        e.message,
        "live mode needs OPENAI_API_KEY (for openai/gpt-4o-minii): set it in the environment, or add OPENAI_API_KEY = \"...\" under [keys] in config.toml in the retrylab config dir (or set RETRYLAB_CONFIG_DIR)"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_on_first_byte() {
    let scenario = OPENAI.replace(
        "stream = true",
        "stream = true\nfirst_byte_timeout = \"150ms\"\ntimeout = \"5s\"",
    );
    let server = serve(vec![crate::support::live_server::Reply::Steps(vec![
        Step::Stall,
    ])])
    .await;
    let live = run_live(&scenario, &server, config()).await;
    let (kind, status, what, fix) = final_error(&live);
    assert_eq!((kind, status), (ErrorKind::Timeout, None));
    assert_eq!(what, "first_byte timeout (150ms): no response");
    assert_eq!(
        fix,
        "raise first_byte_timeout in [call] if the server is just slow"
    );
    assert_eq!(
        live.summary.error.as_ref().unwrap().timeout.as_deref(),
        Some("first_byte")
    );
    assert!(live.wall.as_millis() >= 150, "{:?}", live.wall);
}

// ---- issue 7: hostile streams are bounded in size ----

use crate::support::live_server::{Reply, gzip_bomb, openai_frame, stream_head};

const STREAM_CAPPED: &str = r#"
name = "endless"
[prompt]
template = "hi"
[call]
provider = "openai"
model = "gpt-4o-mini"
base_url = "{base}/v1"
stream = true
max_answer_bytes = 65536
"#;

/// A 200 stream: `head_extra` header lines, `first` bytes, then `repeat` forever.
fn endless(head_extra: &str, first: Vec<u8>, repeat: Vec<u8>) -> Reply {
    Reply::Steps(vec![
        Step::Write(stream_head(head_extra)),
        Step::Write(first),
        Step::Repeat(repeat),
    ])
}

fn only_error(live: &Live) -> retrylab::CallError {
    let errors = live.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors[0].clone()
}

#[tokio::test]
async fn an_endless_stream_of_tiny_deltas_stops_at_max_answer_bytes() {
    let frames = openai_frame(r#"{"content":"ab"}"#).repeat(64);
    let server = serve(vec![endless("", Vec::new(), frames.into_bytes())]).await;
    let live = run_live(STREAM_CAPPED, &server, config()).await;
    let e = only_error(&live);
    assert_eq!(e.kind, ErrorKind::ServerError, "{e:?}");
    assert_eq!(e.status, Some(200));
    assert_eq!(
        e.message,
        "the streamed answer passed 64 KiB (max_answer_bytes) after 32769 events: stopped reading"
    );
    let text: usize = live
        .events
        .iter()
        .map(|e| match &e.event {
            retrylab::event::Event::Delta(Delta { text, .. }) => text.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(text, 65538);
}

#[tokio::test]
async fn a_line_without_end_stops_at_16_mib_as_stream_interrupted() {
    // `data: xxxx…` for ever: a 200 MB line, and more.
    let server = serve(vec![endless(
        "",
        b"data: ".to_vec(),
        vec![b'x'; 256 * 1024],
    )])
    .await;
    let live = run_live(
        &STREAM_CAPPED.replace("65536", "1073741824"),
        &server,
        config(),
    )
    .await;
    let e = only_error(&live);
    assert_eq!(e.kind, ErrorKind::StreamInterrupted, "{e:?}");
    assert_eq!(
        e.message,
        "a stream line grew past 16 MiB without ending (after 0 events): stopped reading"
    );
}

fn gzipped(body: Vec<u8>) -> Reply {
    Reply::Steps(vec![
        Step::Write(stream_head("content-encoding: gzip\r\n")),
        Step::Write(body),
        Step::Stall,
    ])
}

#[tokio::test]
async fn a_gzip_bomb_line_stops_at_the_line_cap() {
    // 1.6 MB on the wire that inflate to one 258 MB line.
    let server = serve(vec![gzipped(gzip_bomb(b"data: x", 1, 1_000_000))]).await;
    // A stream cap (128 x 1 MiB) above the line cap.
    let live = run_live(
        &STREAM_CAPPED.replace("65536", "1048576"),
        &server,
        config(),
    )
    .await;
    let e = only_error(&live);
    assert_eq!(e.kind, ErrorKind::StreamInterrupted, "{e:?}");
    assert_eq!(
        e.message,
        "a stream line grew past 16 MiB without ending (after 0 events): stopped reading"
    );
}

#[tokio::test]
async fn a_gzip_bomb_of_keep_alives_stops_at_the_stream_cap() {
    // ...or 258 MB of keep-alive comments: a stream that grows nothing and never ends.
    let server = serve(vec![gzipped(gzip_bomb(b": ping\n\n", 8, 1_000_000))]).await;
    let live = run_live(STREAM_CAPPED, &server, config()).await;
    let e = only_error(&live);
    assert_eq!(e.kind, ErrorKind::StreamInterrupted, "{e:?}");
    assert!(
        e.message
            .starts_with("the stream passed 8 MiB (decompressed) without ending, after 0 events"),
        "{}",
        e.message
    );
}

/// A listener that only counts the connections it gets (and never answers them).
async fn counting_listener() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let hits = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = l.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            held.push(sock);
        }
    });
    (base, hits)
}

#[tokio::test]
async fn a_redirect_is_never_followed_and_nothing_reaches_its_location() {
    use std::sync::atomic::Ordering;
    let (elsewhere, hits) = counting_listener().await;
    // Both wire formats, each with a custom header that must not travel either.
    let openai = OPENAI.replace(
        "stream = true",
        "stream = true\ntimeout = \"500ms\"\nheaders = { x-tenant = \"tenant-secret-1\" }",
    );
    let anthropic = ANTHROPIC.replace(
        "base_url = \"{base}\"",
        "base_url = \"{base}\"\ntimeout = \"500ms\"\nheaders = { x-tenant = \"tenant-secret-1\" }",
    );
    for status in [301, 302, 307, 308] {
        for (scenario, path) in [
            (&openai, "/v1/chat/completions"),
            (&anthropic, "/v1/messages"),
        ] {
            let location = format!("{elsewhere}{path}?via={status}");
            let reply = format!(
                "HTTP/1.1 {status} Moved\nlocation: {location}\ncontent-type: text/html\n\n<a href=\"{location}\">moved</a>"
            );
            let server = serve(vec![crate::support::live_server::Reply::Steps(
                crate::support::live_server::steps_of(&reply),
            )])
            .await;
            let live = run_live(scenario, &server, config()).await;
            let e = live.summary.error.clone().expect("an error");
            assert_eq!(
                (e.kind, e.status),
                (ErrorKind::Redirect, Some(status)),
                "{e:?}"
            );
            assert_eq!(
                e.message,
                format!(
                    "the server redirected to {location} (HTTP {status}): retrylab never follows redirects for API calls; set base_url to the final address"
                )
            );
            assert_eq!(server.requests().len(), 1);
            assert!(server.requests()[0].line.starts_with("POST "));
            assert_eq!(
                server.requests()[0].header("x-tenant"),
                Some("tenant-secret-1")
            );
        }
    }
    // Give a follow-up connection time to show up, were one made.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a connection reached the Location"
    );
}

#[tokio::test]
async fn a_relative_or_missing_location_is_still_a_redirect_error() {
    for (head, want) in [
        (
            "location: /v2/chat/completions\n",
            "the server redirected to {base}/v2/chat/completions (HTTP 302): retrylab never follows redirects for API calls; set base_url to the final address",
        ),
        (
            "",
            "the server answered HTTP 302 (a redirect) without a Location: retrylab never follows redirects for API calls; set base_url to the final address",
        ),
    ] {
        let reply = format!("HTTP/1.1 302 Found\n{head}content-type: text/plain\n\nmoved");
        let server = serve(vec![crate::support::live_server::Reply::Steps(
            crate::support::live_server::steps_of(&reply),
        )])
        .await;
        let live = run_live(OPENAI, &server, config()).await;
        let e = live.summary.error.clone().expect("an error");
        assert_eq!((e.kind, e.status), (ErrorKind::Redirect, Some(302)));
        assert_eq!(e.message, want.replace("{base}", &server.base));
    }
}

/// A listener whose accept queue is full (backlog 0, one connection queued, never
/// accepted): the kernel drops further SYNs, so a connect hangs as on a black-holed route.
async fn black_hole() -> (String, Vec<tokio::net::TcpStream>, tokio::net::TcpListener) {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = sock.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut queued = Vec::new();
    // The queue holds backlog + 1; connects beyond it hang (kept in flight by timeouts).
    queued.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    for _ in 0..2 {
        let _ = tokio::time::timeout(
            std::time::Duration::from_millis(20),
            tokio::net::TcpStream::connect(addr),
        )
        .await;
    }
    (format!("http://{addr}"), queued, listener)
}

#[tokio::test]
async fn a_black_holed_connect_fails_at_connect_timeout_saying_so() {
    let (base, _queued, _listener) = black_hole().await;
    let scenario = OPENAI.replace(
        "stream = true",
        "stream = true\nconnect_timeout = \"300ms\"\ntimeout = \"5s\"",
    );
    let live = run_live_at(&scenario, &base, None, config()).await;
    let (kind, status, what, fix) = final_error(&live);
    assert_eq!((kind, status), (ErrorKind::Timeout, None));
    let host = base.trim_start_matches("http://");
    assert_eq!(
        what,
        format!("connect timeout (300ms): no connection to {host}")
    );
    assert_eq!(
        fix,
        "raise connect_timeout in [call] if the server is just slow"
    );
    assert_eq!(
        live.summary.error.as_ref().unwrap().timeout.as_deref(),
        Some("connect")
    );
    assert!(live.wall.as_millis() >= 300, "{:?}", live.wall);
}

/// A reinserted error carries the text as shown, its fix hint included: the hint has its own
/// field in the event, and the next prompt reads as it did when the hint was glued in.
#[tokio::test]
async fn a_reinserted_error_carries_its_fix_hint_into_the_next_prompt() {
    let source = r#"
name = "bad input"
[prompt]
template = "{% if errors %}Previous Error: {{ errors }}\n{% endif %}Who wrote it?"
[call]
provider = "openai"
model = "gpt-4o-mini"
base_url = "{base}/v1"
[retry]
stop = { after_attempt = 2 }
wait = { fixed = 0 }
retry_on = ["auth"]
reinsert = ["auth"]
"#;
    let server = serve(vec![play("openai_401"), play("openai_401")]).await;
    let live = run_live(source, &server, config()).await;
    let first = &live.errors()[0];
    let hint = first
        .hint
        .clone()
        .expect("a live auth error has a fix hint");
    assert!(!first.message.contains(HINT_SEP), "{}", first.message);
    let reinserted: Vec<Vec<String>> = live
        .events
        .iter()
        .filter_map(|e| match &e.event {
            Event::ErrorReinserted(r) => Some(r.errors.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(reinserted, vec![vec![first.shown_message().into_owned()]]);
    let prompts: Vec<String> = live
        .events
        .iter()
        .filter_map(|e| match &e.event {
            Event::AttemptStarted(a) => a.prompt.clone(),
            _ => None,
        })
        .collect();
    assert!(
        prompts[1].contains(&format!("{HINT_SEP}{hint}")),
        "{}",
        prompts[1]
    );
}
