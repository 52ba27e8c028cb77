//! Reply framing byte for byte (streams and whole bodies in both formats, against the files in
//! tests/fixtures/sim/), and pacing on the run clock.
//!
//! To rewrite the fixtures after a deliberate format change: `UPDATE_SIM_FIXTURES=1 cargo
//! test --test engine sim_stream`, then read the diff.

use crate::support::sim::{Sim, body, spec, start};
use retrylab::scenario::types::ProviderKind::{self, Anthropic, Openai};
use std::path::PathBuf;
use std::time::Duration;

const SCRIPT: &str = r#"
    reply = "Patrick Rothfuss wrote it."
    tool_calls = [{ name = "get_book_author", args = '{"title": "The Name of the Wind"}' }]
    tokens_per_second = 40
    first_token_ms = 200
"#;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sim")
        .join(name)
}

/// Compares `actual` with the fixture byte for byte.
#[allow(clippy::unwrap_used)] // a test helper
fn assert_fixture(name: &str, actual: &str) {
    let path = fixture(name);
    if std::env::var_os("UPDATE_SIM_FIXTURES").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_SIM_FIXTURES=1 writes it)", path.display()));
    assert_eq!(actual, expected, "{name} differs");
}

/// One request on a fresh server (ids start at 1, `created` at the sim epoch).
async fn first_reply(script: &str, kind: ProviderKind, stream: bool, tools: bool) -> (Sim, String) {
    let sim = start(spec(script)).await;
    let got = sim.send(kind, &body(kind, "m", stream, tools)).await;
    assert_eq!(got.status, 200, "{}", got.body);
    let want = if stream {
        "text/event-stream; charset=utf-8"
    } else {
        "application/json"
    };
    assert_eq!(got.header("content-type"), Some(want));
    (sim, got.body)
}

#[tokio::test]
async fn openai_bodies_match_the_fixtures() {
    for (stream, tools, name) in [
        (true, false, "openai_text_stream.sse"),
        (true, true, "openai_tool_stream.sse"),
        (false, false, "openai_text.json"),
        (false, true, "openai_tool.json"),
    ] {
        let (_sim, body) = first_reply(SCRIPT, Openai, stream, tools).await;
        assert_fixture(name, &body);
    }
}

#[tokio::test]
async fn anthropic_bodies_match_the_fixtures() {
    for (stream, tools, name) in [
        (true, false, "anthropic_text_stream.sse"),
        (true, true, "anthropic_tool_stream.sse"),
        (false, false, "anthropic_text.json"),
        (false, true, "anthropic_tool.json"),
    ] {
        let (_sim, body) = first_reply(SCRIPT, Anthropic, stream, tools).await;
        assert_fixture(name, &body);
    }
}

#[tokio::test]
async fn broken_streams_match_the_fixtures() {
    for (fault, name) in [
        ("cut_stream", "cut_stream"),
        ("malformed_stream", "malformed_stream"),
        ("overloaded_in_stream", "overloaded_in_stream"),
    ] {
        let script = format!("{SCRIPT}\nfaults = [{{ fault = \"{fault}\", after_tokens = 2 }}]");
        let (_sim, body) = first_reply(&script, Openai, true, false).await;
        assert_fixture(&format!("openai_{name}.sse"), &body);
        let (_sim, body) = first_reply(&script, Anthropic, true, false).await;
        assert_fixture(&format!("anthropic_{name}.sse"), &body);
    }
}

#[tokio::test]
async fn openai_streams_end_with_done_and_usage_only_when_asked() {
    let sim = start(spec(SCRIPT)).await;
    let mut b = body(Openai, "m", true, false);
    b.as_object_mut().unwrap().remove("stream_options");
    let got = sim.send(Openai, &b).await;
    assert!(!got.body.contains("usage"), "{}", got.body);
    assert!(
        got.body
            .ends_with("\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
    );
    let deltas: String = got
        .body
        .split("\n\n")
        .filter_map(|f| f.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .filter_map(|d| {
            let v: serde_json::Value = serde_json::from_str(d).unwrap();
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(deltas, "Patrick Rothfuss wrote it.");
}

#[tokio::test]
async fn a_non_streaming_cut_is_a_truncated_json_body() {
    let script = format!("{SCRIPT}\nfaults = [{{ fault = \"cut_stream\", times = 2 }}]");
    let sim = start(spec(&script)).await;
    for kind in [Openai, Anthropic] {
        let got = sim.ask(kind, "m").await;
        assert_eq!(got.status, 200);
        assert_eq!(
            got.header("content-length"),
            Some(got.body.len().to_string().as_str())
        );
        assert!(serde_json::from_str::<serde_json::Value>(&got.body).is_err());
        assert!(
            got.body.starts_with('{') && got.body.len() > 40,
            "{}",
            got.body
        );
    }
}

#[tokio::test]
async fn max_tokens_truncates_the_reply() {
    let sim = start(spec(SCRIPT)).await;
    let mut b = body(Anthropic, "m", false, false);
    b["max_tokens"] = 2.into();
    let v = sim.send(Anthropic, &b).await.json();
    assert_eq!(v["content"][0]["text"], "Patrick Rothfuss");
    assert_eq!(v["stop_reason"], "max_tokens");
    let mut b = body(Openai, "m", false, false);
    b["max_completion_tokens"] = 1.into();
    let v = sim.send(Openai, &b).await.json();
    assert_eq!(v["choices"][0]["message"]["content"], "Patrick");
    assert_eq!(v["choices"][0]["finish_reason"], "length");
}

/// The reply has 4 tokens: 200 ms to the first, then 25 ms each (40 tokens/s).
#[tokio::test]
async fn pacing_advances_the_virtual_clock_by_first_token_plus_tokens_over_tps() {
    let expected = Duration::from_millis(200 + 4 * 25);
    for (kind, stream) in [
        (Openai, true),
        (Openai, false),
        (Anthropic, true),
        (Anthropic, false),
    ] {
        let sim = start(spec(SCRIPT)).await;
        let before = sim.clock.now();
        let got = sim.send(kind, &body(kind, "m", stream, false)).await;
        assert_eq!(got.status, 200);
        assert_eq!(sim.clock.now() - before, expected, "{kind} stream={stream}");
    }
    // A tool call paces its argument pieces the same way: 8 pieces.
    let sim = start(spec(SCRIPT)).await;
    sim.send(Openai, &body(Openai, "m", true, true)).await;
    assert_eq!(sim.clock.now(), Duration::from_millis(200 + 8 * 25));
}

/// No frame reaches the client before it is due. (At `Speed::Max` the server may run ahead of
/// a slow reader, so the clock can read later than the due time, never earlier.)
#[tokio::test]
async fn no_token_arrives_before_it_is_due() {
    use futures::StreamExt;
    let sim = start(spec(SCRIPT)).await;
    let resp = sim
        .request(Openai, &body(Openai, "m", true, false))
        .send()
        .await
        .unwrap();
    let mut stream = resp.bytes_stream();
    let mut seen = Vec::new();
    let mut buf = String::new();
    while let Some(chunk) = stream.next().await {
        buf.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            if frame.contains("\"content\":\"") && !frame.contains("\"content\":\"\"") {
                seen.push(sim.clock.now().as_millis());
            }
        }
    }
    assert_eq!(seen.len(), 4);
    for (at, due) in seen.iter().zip([200, 225, 250, 275]) {
        assert!(*at >= due, "{seen:?}");
    }
    assert_eq!(sim.clock.now(), Duration::from_millis(300));
}

#[tokio::test]
async fn slow_first_byte_delays_everything_by_its_delay() {
    let script = format!("{SCRIPT}\nfaults = [{{ fault = \"slow_first_byte\", delay = \"8s\" }}]");
    let sim = start(spec(&script)).await;
    let got = sim.ask(Anthropic, "m").await;
    assert_eq!(got.status, 200);
    assert_eq!(sim.clock.now(), Duration::from_millis(8000 + 300));
}

#[allow(clippy::unwrap_used)] // a test helper
/// Wall time from `attempt_started` to `attempt_succeeded` of a sim run at `--speed 1`
/// streaming `tokens` words at `tps` tokens per second, first token at once.
async fn real_time_stream(tokens: usize, tps: u32) -> Duration {
    use retrylab::clock::Speed;
    use retrylab::engine::run::{RunOptions, run};
    use retrylab::event::{Event, Mode};
    let reply = vec!["word"; tokens].join(" ");
    let text = format!(
        "name = \"pace\"\n[prompt]\ntemplate = \"x\"\n[call]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nstream = true\n[sim]\nreply = \"{reply}\"\ntokens_per_second = {tps}\nfirst_token_ms = 0\n"
    );
    let scenario =
        std::sync::Arc::new(retrylab::scenario::load::parse(&text, "pace.toml").unwrap());
    let (tx, mut rx) = retrylab::engine::run::event_channel();
    let opts = RunOptions {
        mode: Mode::Sim,
        speed: Speed::Times(1.0),
        config: std::sync::Arc::new(retrylab::config::Config::load()),
    };
    let engine = tokio::spawn(run(scenario, opts, tx, Default::default()));
    let (mut started, mut done, mut deltas) = (None, None, 0);
    while let Some(ev) = rx.recv().await {
        match ev.event {
            Event::AttemptStarted(_) => started = Some(std::time::Instant::now()),
            Event::Delta(_) => deltas += 1,
            Event::AttemptSucceeded(_) => done = Some(std::time::Instant::now()),
            _ => {}
        }
    }
    engine.await.unwrap();
    assert_eq!(deltas, tokens);
    done.unwrap() - started.unwrap()
}

/// A stream scripted at N tokens/s takes its nominal time at `--speed 1` (within 5 %): the
/// simulator paces against the stream's start, so timer overshoots never add up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_time_streams_take_their_nominal_time() {
    for (tokens, tps) in [(400, 2000), (40, 200)] {
        let nominal = Duration::from_secs_f64(tokens as f64 / f64::from(tps));
        let lo = nominal.mul_f64(0.95);
        let hi = nominal.mul_f64(1.05);
        // Never faster, on any try; the best of three within 5 % over (a machine busy with
        // other work can stall one run, but overshoots that add up would show in all three).
        let mut tries = Vec::new();
        for _ in 0..3 {
            let took = real_time_stream(tokens, tps).await;
            assert!(
                took >= lo,
                "{tokens} tokens at {tps}/s took {took:?}; nominal {nominal:?}"
            );
            tries.push(took);
            if took <= hi {
                break;
            }
        }
        assert!(
            tries.iter().any(|t| *t <= hi),
            "{tokens} tokens at {tps}/s took {tries:?}; nominal {nominal:?}"
        );
    }
}

/// `retrylab sim` paces on the real clock: its streams take their nominal time too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::unwrap_used)] // a test
async fn real_clock_streams_take_their_nominal_time() {
    use retrylab::clock::{Clock, Speed};
    let reply = vec!["word"; 400].join(" ");
    let spec = spec(&format!(
        "reply = \"{reply}\"\ntokens_per_second = 2000\nfirst_token_ms = 0\n"
    ));
    let server = retrylab::sim::SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        spec,
        Clock::real(Speed::Times(1.0)),
    )
    .await
    .unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = format!("{}/chat/completions", server.base_url(Openai));
    // Never faster, on any try; the best of three within 5 % over (as above).
    let mut tries = Vec::new();
    for _ in 0..3 {
        let started = std::time::Instant::now();
        let text = http
            .post(&url)
            .json(&body(Openai, "m", true, false))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let took = started.elapsed();
        assert_eq!(
            text.matches("\"content\":\"").count(),
            401,
            "400 words and the role frame"
        );
        assert!(
            took >= Duration::from_millis(190),
            "400 tokens at 2000/s took {took:?}"
        );
        tries.push(took);
        if took <= Duration::from_millis(210) {
            break;
        }
    }
    assert!(
        tries.iter().any(|t| *t <= Duration::from_millis(210)),
        "400 tokens at 2000/s took {tries:?}"
    );
}
