//! The policy lab's speed (DESIGN §12): 10,000 calls of a 3-attempt policy under 30 %
//! faults, independent mode, through the engine and the loopback simulator.

use criterion::{Criterion, criterion_group, criterion_main};
use retrylab::config::Config;
use retrylab::lab::{Arrival, Cap, LabPlan, Policy, run_lab};
use retrylab::scenario::load::parse;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const POLICY: &str = r#"
name = "three attempts"
[prompt]
template = "hi"
[call]
provider = "openai"
model = "gpt-4o-mini"
[retry]
stop = { after_attempt = 3 }
wait = { exponential = { multiplier = 1, min = 1, max = 4 } }
[sim]
reply = "ok"
chaos = { server_error = 0.3 }
"#;

fn plan(calls: u64) -> LabPlan {
    let scenario = Arc::new(parse(POLICY, "bench").expect("scenario"));
    LabPlan {
        faults: scenario.sim.clone(),
        policies: vec![Policy {
            label: "three".into(),
            scenario,
        }],
        faults_origin: "bench".into(),
        calls,
        seed: 1,
        callers: None,
        arrival: Arrival::Burst,
        cap: Cap::default(),
        config: Arc::new(Config::isolated()),
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let plan = plan(10_000);
    let mut group = c.benchmark_group("lab");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    group.bench_function("10000_calls_3_attempts_30pct", |b| {
        b.to_async(&rt).iter(|| async {
            let r = run_lab(&plan, &|_| {}, &CancellationToken::new()).await;
            assert_eq!(r.policies[0].calls, 10_000);
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
