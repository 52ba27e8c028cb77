//! Robustness of the simulator as a server (`retrylab sim` serves any client): seeded random
//! requests — mangled bodies in both wire formats, wrong paths and methods, odd headers, raw
//! garbage on the socket — while it plays faults and chaos. It must answer each one (or close
//! the connection, for a scripted reset), never panic, and keep serving.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retrylab::clock::{Clock, Speed};
use retrylab::scenario::load::parse;
use retrylab::scenario::types::ProviderKind;
use retrylab::sim::SimServer;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn count_panics() {
    crate::support::panics::count();
}

const SPEC: &str = r#"
name = "sim under fire"
[prompt]
template = "Q"
[call]
provider = "openai"
model = "gpt-4o-mini"
[sim]
replies = ["Patrick Rothfuss wrote it.", "", "日本語 😀 e\u0301"]
tool_calls = [{ name = "get_book_author", args = '{"title": "x"' }]
tokens_per_second = 1000
first_token_ms = 1
faults = [
  { provider = "openai", fault = "rate_limit", retry_after = "1s", on_requests = [2, 9] },
  { provider = "anthropic", fault = "overloaded_in_stream", after_tokens = 2, on_requests = [3] },
  { fault = "cut_stream", after_tokens = 1, on_requests = [5] },
  { fault = "malformed_stream", after_tokens = 1, on_requests = [6] },
  { fault = "connection_reset", on_requests = [7] },
  { fault = "html", on_requests = [8] },
  { fault = "context_length", on_requests = [11] },
]
chaos = { server_error = 0.1, overloaded = 0.05, rate_limit = 0.05 }
seed = 9
"#;

fn openai_body(rng: &mut ChaCha8Rng) -> Value {
    json!({
        "model": *["gpt-4o-mini", "other", ""].choose(rng).unwrap(),
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Who wrote it?"}],
        "stream": rng.random_bool(0.5),
        "stream_options": {"include_usage": true},
        "max_tokens": *[1u64, 2, 100, 4294967295].choose(rng).unwrap(),
        "tools": [{"type": "function", "function": {"name": "get_book_author", "parameters": {"type": "object"}}}],
        "tool_choice": *["auto", "none"].choose(rng).unwrap(),
    })
}

fn anthropic_body(rng: &mut ChaCha8Rng) -> Value {
    json!({
        "model": "claude-3-5-sonnet-latest",
        "max_tokens": *[0u64, 1, 1024].choose(rng).unwrap(),
        "system": "Be brief.",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Who wrote it?"}]}],
        "stream": rng.random_bool(0.5),
    })
}

fn wrong(rng: &mut ChaCha8Rng) -> Value {
    match rng.random_range(0..9) {
        0 => Value::Null,
        1 => json!(-1),
        2 => json!(1e308),
        3 => json!("x".repeat(rng.random_range(0..50_000))),
        4 => json!([]),
        5 => json!({}),
        6 => json!(true),
        7 => json!("\u{0}\u{1b}[2J"),
        _ => json!(u64::MAX),
    }
}

fn corrupt(v: &mut Value, rng: &mut ChaCha8Rng) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let k = keys.choose(rng).unwrap().clone();
            match rng.random_range(0..3) {
                0 => {
                    m.remove(&k);
                }
                1 => {
                    m.insert(k, wrong(rng));
                }
                _ => corrupt(m.get_mut(&k).unwrap(), rng),
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = rng.random_range(0..a.len());
            corrupt(&mut a[i], rng);
        }
        _ => *v = wrong(rng),
    }
}

fn random_body(rng: &mut ChaCha8Rng, anthropic: bool) -> Vec<u8> {
    let mut v = if anthropic {
        anthropic_body(rng)
    } else {
        openai_body(rng)
    };
    for _ in 0..rng.random_range(0..3) {
        corrupt(&mut v, rng);
    }
    let text = v.to_string();
    match rng.random_range(0..10) {
        0 => text.as_bytes()[..rng.random_range(0..=text.len())].to_vec(),
        1 => (0..rng.random_range(0..200))
            .map(|_| rng.random())
            .collect(),
        2 => format!("{}1{}", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
        3 => Vec::new(),
        _ => text.into_bytes(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_answers_any_request_and_keeps_serving() {
    count_panics();
    let started = Instant::now();
    let spec = parse(SPEC, "sim.toml").unwrap().sim;
    // A real clock at max speed: paced replies need no acknowledgements from this client.
    let sim = SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        spec,
        Clock::real(Speed::Max),
    )
    .await
    .unwrap();
    let openai = sim.base_url(ProviderKind::Openai);
    let anthropic = sim.base_url(ProviderKind::Anthropic);
    let compat = sim.base_url(ProviderKind::OpenaiCompatible);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let mut statuses = std::collections::BTreeMap::new();
    let mut closed = 0;
    let mut problems: Vec<String> = Vec::new();
    let cases = 1500;
    for case in 0..cases {
        let target = rng.random_range(0..4);
        let (url, anth) = match target {
            0 => (format!("{openai}/chat/completions"), false),
            1 => (format!("{anthropic}/v1/messages"), true),
            2 => (format!("{compat}/chat/completions"), false),
            _ => (
                format!(
                    "{anthropic}{}",
                    [
                        "/",
                        "/v1",
                        "/v1/models",
                        "/v1/chat/completions/../messages",
                        "/%FF%FE",
                        "/v1/messages?beta=true"
                    ]
                    .choose(&mut rng)
                    .unwrap()
                ),
                rng.random_bool(0.5),
            ),
        };
        let method = if rng.random_bool(0.85) {
            reqwest::Method::POST
        } else {
            [
                reqwest::Method::GET,
                reqwest::Method::PUT,
                reqwest::Method::DELETE,
            ]
            .choose(&mut rng)
            .unwrap()
            .clone()
        };
        let mut req = http
            .request(method.clone(), &url)
            .body(random_body(&mut rng, anth));
        if rng.random_bool(0.8) {
            req = req.header(
                "content-type",
                *[
                    "application/json",
                    "text/plain",
                    "application/json; charset=latin1",
                ]
                .choose(&mut rng)
                .unwrap(),
            );
        }
        if rng.random_bool(0.5) {
            req = req
                .header("authorization", "Bearer sk-sim")
                .header("x-api-key", "sim");
        }
        match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                *statuses.entry(status).or_insert(0) += 1;
                let body = resp.bytes().await;
                // A refused request says why, in the provider's error shape.
                if let Ok(body) = body
                    && (400..500).contains(&status)
                    && status != 429
                {
                    match serde_json::from_slice::<Value>(&body) {
                        Ok(v)
                            if v["error"]["message"]
                                .as_str()
                                .is_some_and(|m| !m.is_empty()) => {}
                        _ => problems.push(format!(
                            "{method} {}: {status} with body {:?}",
                            url.split_once("/v1").map_or(url.as_str(), |(_, p)| p),
                            String::from_utf8_lossy(&body[..body.len().min(120)])
                        )),
                    }
                }
            }
            Err(e) => {
                assert!(
                    !e.is_timeout(),
                    "case {case} {method} {url}: no answer in 10 s"
                );
                closed += 1;
            }
        }
        assert_eq!(
            crate::support::panics::so_far(),
            0,
            "case {case}: a panic (see stderr)"
        );
    }
    // Raw garbage on the socket, then a clean request still gets its answer.
    for _ in 0..50 {
        let mut sock = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
        let junk: Vec<u8> = match rng.random_range(0..3) {
            0 => (0..rng.random_range(1..3000))
                .map(|_| rng.random())
                .collect(),
            1 => b"POST /v1/messages HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n{"
                .to_vec(),
            _ => b"POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
                .to_vec(),
        };
        let _ = sock.write_all(&junk).await;
        let _ = sock.shutdown().await;
        let mut sink = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), sock.read_to_end(&mut sink)).await;
    }
    let ok = http
        .post(format!("{openai}/chat/completions"))
        .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert!(
        ok.status().is_success() || ok.status().as_u16() >= 400,
        "alive"
    );
    assert_eq!(crate::support::panics::so_far(), 0, "a panic (see stderr)");
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "refusals without a message:\n{}",
        problems.join("\n")
    );
    eprintln!(
        "sim: {cases} random requests, statuses {statuses:?}, {closed} closed without a reply, 50 raw garbage connections, {:?}",
        started.elapsed()
    );
}

#[test]
fn another_tests_failed_assertion_is_not_a_panic_of_the_simulator() {
    // Tests of this binary run at once: one failing must not fail this one as well.
    count_panics();
    let before = crate::support::panics::so_far();
    let caught = std::panic::catch_unwind(|| panic!("a test's own assertion"));
    assert!(caught.is_err());
    assert_eq!(crate::support::panics::so_far(), before);
}
