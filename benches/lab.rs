//! The policy lab's speed (DESIGN §12): 10,000 calls of a 3-attempt policy under 30 %
//! faults, independent mode, and 1,000 callers × 10 calls in load mode against one shared
//! rate limit, through the engine and the in-process simulator on the lab's clock.

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

fn plan(calls: u64, callers: Option<u32>, faults: &str) -> LabPlan {
    let scenario = Arc::new(parse(POLICY, "bench").expect("scenario"));
    let faults = retrylab::lab::faults::parse(faults, "bench").expect("faults");
    LabPlan {
        faults,
        policies: vec![Policy {
            label: "three".into(),
            scenario,
        }],
        faults_origin: "bench".into(),
        calls,
        seed: 1,
        callers,
        arrival: Arrival::Burst,
        cap: Cap::default(),
        config: Arc::new(Config::isolated()),
    }
}

const FLAKY: &str = "[sim]\nreply = \"ok\"\nchaos = { server_error = 0.3 }\n";
const LIMITED: &str = "[sim]\nreply = \"ok\"\nlimits = [{ provider = \"openai\", model = \"gpt-4o-mini\", rpm = 6000, burst = 100 }]\n";

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("lab");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    let flaky = plan(10_000, None, FLAKY);
    group.bench_function("10000_calls_3_attempts_30pct", |b| {
        b.iter(|| {
            let r = run_lab(&flaky, &|_| {}, &CancellationToken::new());
            assert_eq!(r.policies[0].calls, 10_000);
        });
    });
    let load = plan(10_000, Some(1000), LIMITED);
    group.bench_function("1000_callers_x_10_calls_rpm_6000", |b| {
        b.iter(|| {
            let r = run_lab(&load, &|_| {}, &CancellationToken::new());
            assert_eq!(r.policies[0].calls, 10_000);
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
