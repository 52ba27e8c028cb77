//! The engine's cost per attempt. `run_1000_attempts`: a run of 1,000 attempts (999 server
//! errors, then an answer) against the in-process simulator at `--speed max`.
//! `raw_1000_requests`: the same 1,000 loopback HTTP exchanges through the wire client alone.
//! The difference divided by 1,000 is the engine's own cost per attempt (policy decision,
//! prompt rendering, events).
//! `live_1000_attempts_no_wait`: the same 1,000 attempts in live mode (real clock, zero waits)
//! against a loopback server (the simulator, started on its own): the path a live retry
//! loop takes, timer and connection pool included.

use criterion::{Criterion, criterion_group, criterion_main};
use retrylab::clock::{Clock, Speed};
use retrylab::config::Config;
use retrylab::engine::run::{RunOptions, run, run_with_clock};
use retrylab::event::{Mode, Outcome};
use retrylab::provider::{ChatRequest, Client, Endpoint, Message, Timeouts};
use retrylab::scenario::ProviderKind;
use retrylab::scenario::load::parse;
use retrylab::sim::SimServer;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const SCENARIO: &str = r#"
name = "thousand"
[prompt]
template = "Attempt {{ n }}"
vars = { n = 1 }
[call]
provider = "openai"
model = "gpt-4o-mini"
[retry]
stop = { after_attempt = 1000 }
wait = { exponential = { multiplier = 0.001, max = 0.01 } }
retry_on = ["server_error"]
[sim]
reply = "ok"
first_token_ms = 0
faults = [{ fault = "server_error", times = 999 }]
"#;

/// The same 1,000 attempts live, against `{base}` (a loopback server playing `[sim]` above).
const LIVE: &str = r#"
name = "thousand live"
[prompt]
template = "Attempt {{ n }}"
vars = { n = 1 }
[call]
provider = "openai-compatible"
model = "gpt-4o-mini"
base_url = "{base}"
[retry]
stop = { after_attempt = 1000 }
retry_on = ["server_error"]
"#;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let scenario = Arc::new(parse(SCENARIO, "bench").expect("scenario"));
    let mut group = c.benchmark_group("engine");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("run_1000_attempts", |b| {
        b.to_async(&rt).iter(|| {
            let scenario = scenario.clone();
            async move {
                let (tx, mut rx) = retrylab::engine::run::event_channel();
                let drain = tokio::spawn(async move {
                    let mut n = 0u64;
                    while rx.recv().await.is_some() {
                        n += 1;
                    }
                    n
                });
                let opts = RunOptions {
                    mode: Mode::Sim,
                    speed: Speed::Max,
                    config: Arc::new(retrylab::config::Config::load()),
                };
                let summary = run(scenario, opts, tx, CancellationToken::new()).await;
                assert_eq!(summary.outcome, Outcome::Ok);
                drain.await.expect("drain")
            }
        });
    });
    group.bench_function("live_1000_attempts_no_wait", |b| {
        b.to_async(&rt).iter(|| {
            let spec = scenario.sim.clone();
            async move {
                let sim = SimServer::start(
                    ([127, 0, 0, 1], 0).into(),
                    spec,
                    Clock::virtual_time(Speed::Max),
                )
                .await
                .expect("sim");
                // No `wait`: Tenacity's wait_none, so every retry goes at once.
                let text = LIVE.replace("{base}", &sim.base_url(ProviderKind::OpenaiCompatible));
                let live = Arc::new(parse(&text, "bench-live").expect("live scenario"));
                let (tx, mut rx) = retrylab::engine::run::event_channel();
                let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
                let run = run_with_clock(
                    live,
                    Mode::Live,
                    Arc::new(Config::isolated()),
                    Clock::real(Speed::Times(1.0)),
                    tx,
                    CancellationToken::new(),
                );
                let summary = run.await;
                assert_eq!(summary.outcome, Outcome::Ok);
                drain.await.expect("drain");
            }
        });
    });
    group.bench_function("raw_1000_requests", |b| {
        b.to_async(&rt).iter(|| {
            let spec = scenario.sim.clone();
            async move {
                let clock = Clock::virtual_time(Speed::Max);
                let sim = SimServer::start(([127, 0, 0, 1], 0).into(), spec, clock.clone())
                    .await
                    .expect("sim");
                let client = Client::new().expect("client");
                let endpoint = Endpoint {
                    kind: ProviderKind::Openai,
                    base_url: sim.base_url(ProviderKind::Openai),
                    api_key: Some("sim-key".into()),
                    headers: vec![],
                };
                let timeouts = Timeouts {
                    total: Some(Duration::from_secs(60)),
                    ..Timeouts::default()
                };
                let req = ChatRequest {
                    model: "gpt-4o-mini".into(),
                    system: None,
                    messages: vec![Message::user("Attempt 1")],
                    temperature: None,
                    max_tokens: None,
                    stream: false,
                    tools: vec![],
                };
                let mut ok = 0;
                for _ in 0..1000 {
                    let mut sink = |_: &str| {};
                    if client
                        .send(&endpoint, &req, &timeouts, &clock, &mut sink)
                        .await
                        .is_ok()
                    {
                        ok += 1;
                    }
                }
                assert_eq!(ok, 1);
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
