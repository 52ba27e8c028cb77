//! The simulator over real loopback HTTP on a virtual clock at `Speed::Max`: how many
//! requests per second it serves (one keep-alive client, requests one after another), for a
//! plain reply, a streamed reply and a fault.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use retrylab::clock::{Clock, Speed};
use retrylab::scenario::types::{ProviderKind, SimSpec};
use retrylab::sim::SimServer;
use serde_json::json;

const SCRIPT: &str = r#"
    reply = "Patrick Rothfuss wrote The Name of the Wind, the first book of the Kingkiller Chronicle."
    faults = [{ model = "limited", fault = "rate_limit", times = 4000000000 }]
"#;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let spec: SimSpec = toml::from_str(SCRIPT).expect("script");
    let server = rt
        .block_on(SimServer::start(
            "127.0.0.1:0".parse().expect("addr"),
            spec,
            Clock::virtual_time(Speed::Max),
        ))
        .expect("server");
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let openai = format!("{}/chat/completions", server.base_url(ProviderKind::Openai));
    let anthropic = format!("{}/v1/messages", server.base_url(ProviderKind::Anthropic));

    let mut group = c.benchmark_group("sim_loopback");
    group.throughput(Throughput::Elements(1));
    let cases = [
        (
            "openai_plain",
            &openai,
            json!({"model": "m", "messages": [{"role": "user", "content": "Who?"}]}),
        ),
        (
            "openai_stream",
            &openai,
            json!({"model": "m", "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "Who?"}]}),
        ),
        (
            "anthropic_stream",
            &anthropic,
            json!({"model": "m", "max_tokens": 100, "stream": true, "messages": [{"role": "user", "content": "Who?"}]}),
        ),
        (
            "openai_rate_limit",
            &openai,
            json!({"model": "limited", "messages": [{"role": "user", "content": "Who?"}]}),
        ),
    ];
    for (name, url, body) in cases {
        let body = serde_json::to_vec(&body).expect("body");
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let resp = http
                    .post(url.as_str())
                    .header("content-type", "application/json")
                    .header("anthropic-version", "2023-06-01")
                    .body(body.clone())
                    .send()
                    .await
                    .expect("send");
                resp.bytes().await.expect("body")
            });
        });
    }
    group.finish();
    drop(server);
}

criterion_group!(benches, bench);
criterion_main!(benches);
