//! The policy lab (DESIGN §12): its numbers against what can be computed by hand, within
//! tolerances from the sample size (4 standard errors), and its calls against `run`.

use retrylab::clock::Speed;
use retrylab::config::Config;
use retrylab::engine::run::{RunOptions, event_channel, run};
use retrylab::event::Mode;
use retrylab::lab::{Arrival, Cap, LabPlan, Policy, PolicyReport, one_call_events, run_lab};
use retrylab::scenario::load::parse;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

fn scenario(retry: &str, extra: &str) -> String {
    format!(
        "name = \"p\"\n[prompt]\ntemplate = \"hi\"\n[call]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\n{retry}\n{extra}"
    )
}

fn plan(policies: &[String], faults: &str, calls: u64) -> LabPlan {
    let policies = policies
        .iter()
        .enumerate()
        .map(|(i, src)| Policy {
            label: format!("p{i}"),
            scenario: Arc::new(parse(src, "test").expect("scenario")),
        })
        .collect();
    LabPlan {
        policies,
        faults: retrylab::lab::faults::parse(faults, "faults").expect("faults"),
        faults_origin: "faults".into(),
        calls,
        seed: 7,
        callers: None,
        arrival: Arrival::Burst,
        cap: Cap::default(),
        config: Arc::new(Config::isolated()),
    }
}

fn lab(p: &LabPlan) -> Vec<PolicyReport> {
    p.check().expect("a valid plan");
    run_lab(p, &|_| {}, &CancellationToken::new()).policies
}

/// No latency at all: a reply or an error takes 0 s of run time.
const INSTANT: &str = "first_token_ms = 0\ntokens_per_second = 1e9\nerror_ms = 0\nreply = \"ok\"\n";

#[test]
fn chaos_p_with_n_attempts_succeeds_1_minus_p_to_the_n() {
    let (p, n, calls) = (0.3_f64, 3_i32, 2000_u64);
    let retry = format!("[retry]\nstop = {{ after_attempt = {n} }}");
    let faults = format!("[sim]\n{INSTANT}chaos = {{ server_error = {p} }}\n");
    let r = &lab(&plan(&[scenario(&retry, "")], &faults, calls))[0];
    let success = 1.0 - p.powi(n);
    let se = (success * (1.0 - success) / calls as f64).sqrt();
    assert!(
        (r.success_rate - success).abs() < 4.0 * se,
        "success {} vs {success} ± {}",
        r.success_rate,
        4.0 * se
    );
    // Attempts: k with probability p^(k-1)(1-p) for k < n, n with p^(n-1).
    let mean = (1.0 - p.powi(n)) / (1.0 - p);
    let second: f64 = (1..n)
        .map(|k| f64::from(k * k) * p.powi(k - 1) * (1.0 - p))
        .sum::<f64>()
        + f64::from(n * n) * p.powi(n - 1);
    let se = ((second - mean * mean) / calls as f64).sqrt();
    assert!(
        (r.attempts.mean - mean).abs() < 4.0 * se,
        "attempts {} vs {mean} ± {}",
        r.attempts.mean,
        4.0 * se
    );
    assert_eq!(r.attempts.max, 3);
    assert_eq!(
        r.outcomes.get("retry_error").copied().unwrap_or(0) + r.outcomes["ok"],
        calls
    );
}

#[test]
fn an_outage_of_10s_with_waits_1_2_4_8_ends_at_15s_for_every_call() {
    let retry =
        "[retry]\nstop = { after_attempt = 10 }\nwait = { exponential = { multiplier = 1 } }";
    let faults = format!(
        "[sim]\n{INSTANT}outages = [{{ provider = \"openai\", from = \"0s\", to = \"10s\", fault = \"overloaded\" }}]\n"
    );
    let r = &lab(&plan(&[scenario(retry, "")], &faults, 200))[0];
    assert_eq!(r.success_rate, 1.0);
    // Attempts at 0, 1, 3, 7 s fail; the fifth at 15 s is past the window.
    assert_eq!((r.attempts.mean, r.attempts.max), (5.0, 5));
    assert_eq!(
        (r.latency_ms.p50, r.latency_ms.p99, r.latency_ms.max),
        (15_000, 15_000, 15_000)
    );
    assert_eq!(r.wait_ms.total, 200 * 15_000);
}

#[test]
fn common_random_numbers_give_every_policy_the_same_draws() {
    // Call k's first request fails for one policy exactly when it fails for the other.
    let one = scenario("", "");
    let three = scenario("[retry]\nstop = { after_attempt = 3 }", "");
    let faults = format!("[sim]\n{INSTANT}chaos = {{ server_error = 0.5 }}\n");
    let p = plan(&[one, three], &faults, 1);
    let mut differed = 0;
    for k in 0..40 {
        let a = one_call_events(&p, 0, k);
        let b = one_call_events(&p, 1, k);
        let ok = |evs: &[retrylab::TimedEvent]| {
            evs.iter()
                .filter(|e| matches!(e.event, retrylab::Event::AttemptStarted(_)))
                .count()
        };
        let a_ok = a
            .iter()
            .any(|e| matches!(e.event, retrylab::Event::AttemptSucceeded(_)));
        assert_eq!(a_ok, ok(&b) == 1, "call {k}: the first draw differs");
        differed += usize::from(!a_ok);
    }
    // Both outcomes happened: the seeds differ from call to call.
    assert!(differed > 5 && differed < 35, "{differed}");
}

/// An event as JSON, less what differs between a lab call and a run of the same script:
/// the simulator's address (a loopback port; the in-process one) and the `date` header.
fn same_run(e: &retrylab::TimedEvent) -> String {
    let json = serde_json::to_string(e).expect("an event is JSON");
    let host = regex::Regex::new(r"127\.0\.0\.1:\d+|192\.0\.2\.1(:80)?").expect("a regex");
    let date = regex::Regex::new(r#"\["date","[^"]*"\]"#).expect("a regex");
    date.replace_all(&host.replace_all(&json, "SIM"), "[\"date\",\"-\"]")
        .into_owned()
}

#[test]
fn a_lab_call_emits_the_same_events_as_a_run_with_its_seed() {
    let retry = "[retry]\nstop = { after_attempt = 4 }\nwait = { random_exponential = { multiplier = 1, max = 8 } }";
    let faults = "[sim]\nerror_ms = 50\nchaos = { server_error = 0.3, rate_limit = 0.2, connection_reset = 0.2 }\nlatency = { first_token = { lognormal = { median = \"300ms\", p99 = \"2s\" } } }\n";
    let plain = scenario(retry, "");
    let streamed = plain.replace("[call]\n", "[call]\nstream = true\n");
    let p = plan(&[plain, streamed], faults, 1);
    for (policy, k) in [(0, 0), (0, 5), (0, 11), (1, 0), (1, 3), (1, 8)] {
        let lab_events = one_call_events(&p, policy, k);
        let s =
            retrylab::lab::seeds::call_scenario(&p.policies[policy].scenario, &p.faults, p.seed, k);
        let (tx, mut rx) = event_channel();
        let opts = RunOptions {
            mode: Mode::Sim,
            speed: Speed::Max,
            config: Arc::new(Config::isolated()),
        };
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        runtime.block_on(run(Arc::new(s), opts, tx, CancellationToken::new()));
        let mut run_events = Vec::new();
        while let Ok(e) = rx.try_recv() {
            run_events.push(e);
        }
        assert_eq!(
            lab_events.len(),
            run_events.len(),
            "policy {policy} call {k}"
        );
        for (a, b) in lab_events.iter().zip(&run_events) {
            assert_eq!(same_run(a), same_run(b), "policy {policy} call {k}");
        }
    }
}

#[test]
fn a_policy_that_retries_forever_is_capped_and_reported_as_such() {
    // No stop against an outage of 2 h: the cap stops each call; the fallback policy beside
    // it still gets through (so the fault model is not refused as hopeless).
    let forever = scenario("[retry]\nwait = { fixed = 1 }", "");
    let fallback = scenario(
        "[retry]\nstop = { after_attempt = 2 }",
        "[fallback]\ncatch = [\"retry_error\"]\n[[fallback.hops]]\nprovider = \"anthropic\"\nmodel = \"claude-3-5-haiku-latest\"\ncatch = [\"retry_error\"]\n",
    );
    let faults = format!(
        "[sim]\n{INSTANT}outages = [{{ provider = \"openai\", from = \"0s\", to = \"2h\", fault = \"server_error\" }}]\n"
    );
    let mut p = plan(&[forever, fallback], &faults, 20);
    p.cap = Cap {
        attempts: 20,
        run_time_ms: 3_600_000,
    };
    let r = lab(&p);
    assert_eq!(
        r[0].outcomes.get("capped"),
        Some(&20),
        "{:?}",
        r[0].outcomes
    );
    assert_eq!(r[0].success_rate, 0.0);
    assert_eq!(r[1].success_rate, 1.0);
    assert_eq!(r[1].fallback_hops.get("1"), Some(&20));
}

#[test]
fn bad_plans_are_refused_with_a_hint() {
    let s = scenario("[retry]\nstop = { after_attempt = 3 }", "");
    let hopeless = "[sim]\noutages = [{ provider = \"openai\", from = \"0s\", to = \"720h\", fault = \"overloaded\" }]\n";
    let e = plan(std::slice::from_ref(&s), hopeless, 10)
        .check()
        .unwrap_err();
    assert!(e.message.contains("can never succeed"), "{}", e.message);
    let e = plan(std::slice::from_ref(&s), "[sim]\n", 0)
        .check()
        .unwrap_err();
    assert!(e.message.contains("--calls 0"), "{}", e.message);
    let e = plan(std::slice::from_ref(&s), "[sim]\n", 10_000_001)
        .check()
        .unwrap_err();
    assert!(e.message.contains("at most 10000000"), "{}", e.message);
    let mut crowd = plan(std::slice::from_ref(&s), "[sim]\n", 10);
    crowd.callers = Some(100_001);
    assert!(
        crowd
            .check()
            .unwrap_err()
            .message
            .contains("at most 100000 callers")
    );
    crowd.callers = Some(0);
    assert!(crowd.check().unwrap_err().message.contains("--callers 0"));
    let e = plan(
        std::slice::from_ref(&s),
        "[sim]\nchaos = { server_error = 0.7, rate_limit = 0.6 }\n",
        10,
    )
    .check()
    .unwrap_err();
    assert!(e.message.contains("add up to"), "{}", e.message);
    let overlap = "[sim]\noutages = [{ provider = \"openai\", from = \"0s\", to = \"10s\", fault = \"overloaded\" }, { provider = \"openai\", from = \"5s\", to = \"20s\", fault = \"rate_limit\" }]\n";
    let e = plan(std::slice::from_ref(&s), overlap, 10)
        .check()
        .unwrap_err();
    assert!(e.message.contains("overlap"), "{}", e.message);
    let other = "[sim]\nlimits = [{ provider = \"anthropic\", model = \"m\", rpm = 60 }]\n";
    let e = plan(&[s], other, 10).check().unwrap_err();
    assert!(e.message.contains("never calls"), "{}", e.message);
    let e = retrylab::lab::faults::parse("name = \"x\"\n", "f.toml").unwrap_err();
    assert!(e.message.contains("no [sim]"), "{}", e.message);
    let e = retrylab::lab::faults::parse("[sim]\nchoas = 1\n", "f.toml").unwrap_err();
    assert!(e.message.starts_with("f.toml:2:"), "{}", e.message);
}

/// `plan` in load mode: `callers` callers arriving as `arrival`.
fn load_plan(
    policies: &[String],
    faults: &str,
    calls: u64,
    callers: u32,
    arrival: &str,
) -> LabPlan {
    let mut p = plan(policies, faults, calls);
    p.callers = Some(callers);
    p.arrival = Arrival::parse(arrival).expect("an arrival");
    p
}

/// One bucket for the test model: `rpm` a minute, `burst` at once, no latency.
fn bucket(rpm: u32, burst: u32) -> String {
    format!(
        "[sim]\n{INSTANT}limits = [{{ provider = \"openai\", model = \"gpt-4o-mini\", rpm = {rpm}, burst = {burst} }}]\n"
    )
}

#[test]
fn a_hundred_burst_callers_on_rpm_60_burst_10_finish_one_a_second_until_90s() {
    // Honouring Retry-After (the exact time until a token frees, no jitter): 10 calls pass
    // at t = 0, then one a second as each token frees, the last at 90 s.
    let patient = scenario("[retry]\nstop = { after_attempt = 99 }", "");
    let r = &lab(&load_plan(&[patient], &bucket(60, 10), 100, 100, "burst"))[0];
    assert_eq!(r.success_rate, 1.0, "{:?}", r.outcomes);
    assert_eq!(r.latency_ms.max, 90_000, "the 100th token frees at 90 s");
    // Finishing times: 0 s ×10, then 1, 2, … 90 s: the 50th is at 40 s, the 90th at 80 s.
    assert_eq!(r.latency_ms.p50, 40_000);
    assert_eq!(r.latency_ms.p90, 80_000);
    let load = r.load.as_ref().expect("load mode reports its timeline");
    assert_eq!(
        load.rate_limited_per_second[0], 90,
        "90 of the first 100 get a 429"
    );
    // Everyone still waiting retries at each token's second: one wins, the rest get a 429.
    assert_eq!(load.requests_per_second[1], 90);
    assert_eq!(load.rate_limited_per_second[1], 89);
    assert_eq!(r.requests.max, 91, "the last caller asked 91 times");
}

#[test]
fn retry_after_without_jitter_makes_a_herd_that_full_jitter_spreads() {
    // 100 calls arriving at 50/s against 60 rpm: the 429s send every waiting caller back at
    // the same instant (the token's), while full jitter that ignores Retry-After spreads them.
    let herd = scenario("[retry]\nstop = { after_attempt = 99 }", "");
    let spread = scenario(
        "[retry]\nstop = { after_attempt = 99 }\nhonor_retry_after = false\nwait = { random_exponential = { multiplier = 1, max = 30 } }",
        "",
    );
    let r = lab(&load_plan(
        &[herd, spread],
        &bucket(60, 10),
        100,
        100,
        "poisson:50",
    ));
    let herd = r[0].load.as_ref().expect("load").herd_max_per_100ms;
    let spread = r[1].load.as_ref().expect("load").herd_max_per_100ms;
    assert!(
        herd >= 50,
        "no jitter: {herd} requests in one 100 ms window"
    );
    assert!(
        spread * 3 <= herd,
        "full jitter: {spread} in the busiest window vs {herd}"
    );
}

#[test]
fn an_outage_on_the_shared_clock_fails_exactly_the_calls_that_arrive_in_it() {
    // 2000 calls at 100/s (≈ 20 s), no retry, an outage over [0, 10 s): a call succeeds iff
    // it arrives after 10 s, so about half; the count before 10 s is Poisson(1000).
    let once = scenario("", "");
    let faults = format!(
        "[sim]\n{INSTANT}outages = [{{ provider = \"openai\", from = \"0s\", to = \"10s\", fault = \"overloaded\" }}]\n"
    );
    let calls = 2000;
    let r = &lab(&load_plan(&[once], &faults, calls, 50, "poisson:100"))[0];
    let sd = 1000f64.sqrt() / calls as f64;
    assert!(
        (r.success_rate - 0.5).abs() < 4.0 * sd,
        "success {} vs 0.5 ± {}",
        r.success_rate,
        4.0 * sd
    );
    // One request per call, arriving at 100 a second: every full second holds ≈ 100.
    let per_second = &r.load.as_ref().expect("load").requests_per_second;
    let full = &per_second[..per_second.len() - 1];
    let mean = full.iter().map(|&n| f64::from(n)).sum::<f64>() / full.len() as f64;
    assert!(
        (mean - 100.0).abs() < 4.0 * (100.0 / full.len() as f64).sqrt(),
        "{mean}"
    );
    assert_eq!(r.requests.max, 1);
}

#[test]
fn load_mode_with_one_caller_runs_the_calls_back_to_back() {
    // One caller: each call starts when the last ends, so the shared timeline lasts the sum
    // of the latencies, and it holds every request once.
    let retry = "[retry]\nstop = { after_attempt = 3 }\nwait = { fixed = 2 }";
    let faults = format!("[sim]\n{INSTANT}chaos = {{ server_error = 0.5 }}\n");
    let r = &lab(&load_plan(&[scenario(retry, "")], &faults, 400, 1, "burst"))[0];
    assert_eq!(r.calls, 400);
    let load = r.load.as_ref().expect("load");
    let total_s = load.requests_per_second.len() as f64;
    let sum_s = r.latency_ms.mean * 400.0 / 1000.0;
    assert!((total_s - sum_s).abs() <= 2.0, "{total_s} s vs {sum_s} s");
    let requests: u32 = load.requests_per_second.iter().sum();
    assert_eq!(f64::from(requests), r.requests.mean * 400.0);
}

#[test]
fn sdk_max_retries_2_triples_the_requests_of_each_attempt_against_a_permanent_500() {
    // Mirascope's basic example: 3 Tenacity attempts. Without the SDK layer: 3 requests a
    // call; with the SDK's default of 2 retries left on: 3 × (1 + 2) = 9, every call.
    let retry = "[retry]\nstop = { after_attempt = 3 }";
    // Every request of a call fails (each call has its own simulator).
    let faults =
        format!("[sim]\n{INSTANT}faults = [{{ fault = \"server_error\", times = 100 }}]\n");
    let calls = 50;
    let reports = lab(&plan(
        &[
            scenario(retry, ""),
            scenario(&format!("sdk_max_retries = 2\n{retry}"), ""),
        ],
        &faults,
        calls,
    ));
    let (plain, sdk) = (&reports[0], &reports[1]);
    for r in [plain, sdk] {
        assert_eq!(r.success_rate, 0.0);
        assert_eq!(r.attempts.mean, 3.0);
        assert_eq!(r.attempts.max, 3);
    }
    assert_eq!((plain.requests.mean, plain.requests.max), (3.0, 3));
    assert_eq!((sdk.requests.mean, sdk.requests.max), (9.0, 9));
    // The SDK's 6 back-offs per call: each in 0.75..1 of 0.5 s (k = 0) or 1 s (k = 1).
    let per_call = sdk.wait_ms.mean;
    assert!(
        (3.0 * (375.0 + 750.0)..=3.0 * (500.0 + 1000.0)).contains(&per_call),
        "{per_call}"
    );
}

/// `[breaker]` during an outage, hand-computed (load mode, one caller: calls back to back on
/// the shared clock). OpenAI fails every request in [0, 60 s); a call tries it 3 times 1 s
/// apart, then falls back to Anthropic, whose answer takes 1 s.
///
/// Without a breaker: call k starts at 3(k-1) s; calls 1-20 make 3 + 1 requests (call 20's
/// last OpenAI attempt is at 59 s), call 21 starts at 60 s, after the outage: 1 request
/// each from then on. 100 calls: 80 + 80 = 160 requests, 20 fall back.
///
/// With `failures = 5, cooldown = 10 s`: call 1 fails 3 times (0, 1, 2 s) and falls back
/// (done at 3 s); call 2 fails at 3 and 4 s, the 5th failure: open at 4 s, its third attempt
/// (5 s) is refused and it falls back (6 s). Every call from 6 to 13 s is refused at once
/// (1 Anthropic request, 1 s each); at 14 s a probe is let through, fails (reopened at 14 s),
/// the call's retry is refused; likewise at 24, 34, 44, 54 s; at 64 s the probe succeeds
/// and closes it. So calls 1-55 fall back (54 of them met the open breaker), OpenAI gets
/// 3 + 2 + 5 probes + 45 = 55 requests, Anthropic 55: 110 requests.
#[test]
fn a_breaker_cuts_requests_during_an_outage() {
    let retry = "[retry]\nstop = { after_attempt = 3 }\nwait = { fixed = 1 }\n[fallback]\ncatch = [\"retry_error\"]\n[[fallback.hops]]\nprovider = \"anthropic\"\nmodel = \"claude-3-5-haiku-latest\"\ncatch = [\"retry_error\"]";
    let faults = "[sim]\nfirst_token_ms = 1000\ntokens_per_second = 1e9\nerror_ms = 0\nreply = \"ok\"\noutages = [{ provider = \"openai\", from = \"0s\", to = \"60s\", fault = \"server_error\" }]\n";
    let with = scenario(retry, "[breaker]\nfailures = 5\ncooldown = \"10s\"");
    let mut p = plan(&[scenario(retry, ""), with], faults, 100);
    p.callers = Some(1);
    let r = lab(&p);
    let (without, with) = (&r[0], &r[1]);
    assert_eq!((without.success_rate, with.success_rate), (1.0, 1.0));
    assert_eq!(without.requests.mean, 1.6);
    assert_eq!(without.fallback_hops["1"], 20);
    assert_eq!(without.breaker_fast_failed, None);
    assert_eq!(with.requests.mean, 1.1);
    assert_eq!(with.fallback_hops["1"], 55);
    assert_eq!(with.breaker_fast_failed, Some(54));
    // Refused attempts count as attempts, never as requests: 4 + 4 + 48 × 2 + 5 × 3 + 45.
    assert_eq!(with.attempts.mean, 1.64);
}

/// `[budget]` against a permanent 500, hand-computed: no wait, up to 10 attempts a call, every
/// request instant, so all 1000 calls run at t = 0 inside one 10 s window. Each call deposits
/// 0.2 of a retry and each retry takes one: 1000 × 0.2 = 200 retries, 1200 requests (1 +
/// ratio a call); a floor of 10 a second adds 10 × 10 s = 100 retries: 1300.
#[test]
fn a_budget_caps_amplification_at_one_plus_the_ratio_plus_the_floor() {
    let retry = "[retry]\nstop = { after_attempt = 10 }";
    let faults =
        format!("[sim]\n{INSTANT}faults = [{{ fault = \"server_error\", times = 1000000 }}]\n");
    let policies = [
        scenario(retry, ""),
        scenario(
            retry,
            "[budget]\nretry_ratio = 0.2\nmin_retries_per_sec = 0",
        ),
        scenario(
            retry,
            "[budget]\nretry_ratio = 0.2\nmin_retries_per_sec = 10",
        ),
    ];
    let mut p = plan(&policies, &faults, 1000);
    p.callers = Some(1);
    let r = lab(&p);
    assert_eq!(
        r[0].requests.mean, 10.0,
        "unbudgeted: every call retries 9 times"
    );
    assert_eq!(r[0].budget_denied, None);
    assert_eq!(r[1].requests.mean, 1.2);
    assert_eq!(r[2].requests.mean, 1.3);
    // A call either ends in a denied retry or (floor) runs out its 10 attempts.
    assert_eq!(r[1].budget_denied, Some(1000));
    assert_eq!(r[1].outcomes["budget_exhausted"], 1000);
    // Independent mode shares it too (one lane, 64 calls in flight): the same bound.
    let mut p = plan(&policies[1..2], &faults, 1000);
    p.callers = None;
    let r = lab(&p);
    assert_eq!(r[0].requests.mean, 1.2);
}

#[test]
fn a_deadline_caps_every_calls_latency_and_max_requests_its_requests_under_an_outage() {
    // OpenAI is down for 60 s; every policy retries every 3 s (up to 100 attempts). Without
    // limits a call outlasts the outage: attempts at 0, 3, ..., 60 s, the 21st succeeds at
    // 60 s. deadline = 10 s: attempts at 0, 3, 6, 9 s, the wait after the 4th is cut to 1 s,
    // every call ends at exactly 10 s with limit_exceeded. max_requests = 4: the 4th failure
    // at 9 s ends the call, 4 requests each.
    let retry = "[retry]\nstop = { after_attempt = 100 }\nwait = { fixed = 3 }";
    let faults = format!(
        "[sim]\n{INSTANT}outages = [{{ provider = \"openai\", from = \"0s\", to = \"60s\", fault = \"server_error\" }}]\n"
    );
    let policies = [
        scenario(retry, ""),
        scenario(retry, "[limits]\ndeadline = \"10s\""),
        scenario(retry, "[limits]\nmax_requests = 4"),
    ];
    let r = lab(&plan(&policies, &faults, 200));
    let (free, deadline, requests) = (&r[0], &r[1], &r[2]);
    assert_eq!(free.success_rate, 1.0);
    assert_eq!(free.latency_ms.max, 60_000);
    assert_eq!(free.requests.max, 21);
    assert_eq!(deadline.success_rate, 0.0);
    assert_eq!(deadline.outcomes["limit_exceeded"], 200);
    assert_eq!(
        (deadline.latency_ms.p50, deadline.latency_ms.max),
        (10_000, 10_000)
    );
    assert_eq!((deadline.requests.mean, deadline.requests.max), (4.0, 4));
    assert_eq!(requests.outcomes["limit_exceeded"], 200);
    assert_eq!((requests.requests.mean, requests.requests.max), (4.0, 4));
    assert_eq!(requests.latency_ms.max, 9_000);
}

#[test]
fn hedging_after_1s_cuts_the_p99_of_a_bimodal_latency_to_after_plus_the_fast_reply() {
    // 5% of requests stall 5 s before their first byte (then 0.2 s to the answer), each
    // request drawn on its own. Without a hedge the slowest 5% of calls take 5.2 s, so
    // p99 = 5.2 s. With a second leg after 1 s, a call is slow only when both legs are
    // (0.25% < 1%), so p99 = 1 s + 0.2 s = 1.2 s exactly, for 1 + 5% requests per call.
    let faults = "[sim]\nfirst_token_ms = 200\ntokens_per_second = 1e9\nreply = \"ok\"\nchaos = { slow_first_byte = 0.05 }\n";
    let calls = 1000;
    let reports = lab(&plan(
        &[
            scenario("", ""),
            scenario("", "[hedge]\nafter = \"1s\"\nmax = 2"),
        ],
        faults,
        calls,
    ));
    let (plain, hedged) = (&reports[0], &reports[1]);
    assert_eq!((plain.success_rate, hedged.success_rate), (1.0, 1.0));
    assert_eq!(plain.latency_ms.p50, 200);
    assert_eq!(plain.latency_ms.p99, 5200);
    assert_eq!(hedged.latency_ms.p50, 200);
    assert_eq!(hedged.latency_ms.p99, 1200);
    assert_eq!((plain.requests.mean, plain.requests.max), (1.0, 1));
    assert_eq!(hedged.requests.max, 2);
    // Requests per call: 1 + P(the first leg is slow) = 1.05, within 4 standard errors.
    let se = (0.05_f64 * 0.95 / calls as f64).sqrt();
    assert!(
        (hedged.requests.mean - 1.05).abs() < 4.0 * se,
        "{}",
        hedged.requests.mean
    );
}

#[test]
fn hedging_cuts_the_p99_of_a_lognormal_latency_with_a_long_tail() {
    // First token ~ lognormal(median 0.3 s, p99 5 s): sigma = ln(5 / 0.3) / 2.3263 = 1.209.
    // Hedged after 1 s, a call takes min(X1, 1 s + X2); P(X > 1 s) = P(Z > 0.996) = 0.16,
    // so about 1.16 requests a call, and P(min > t) = P(X1 > t) P(X2 > t - 1) is 1% near
    // t = 1.97 s (P(X > 2 s) = 0.058, times 0.16 = 0.0093): p99 drops from ~5 s to ~2 s.
    let faults = "[sim]\ntokens_per_second = 1e9\nreply = \"ok\"\nlatency = { first_token = { lognormal = { median = \"300ms\", p99 = \"5s\" } } }\n";
    let calls = 2000;
    let reports = lab(&plan(
        &[
            scenario("", ""),
            scenario("", "[hedge]\nafter = \"1s\"\nmax = 2"),
        ],
        faults,
        calls,
    ));
    let (plain, hedged) = (&reports[0], &reports[1]);
    let (before, after) = (plain.latency_ms.p99, hedged.latency_ms.p99);
    assert!((4000..=6500).contains(&before), "unhedged p99 {before} ms");
    assert!((1700..=2300).contains(&after), "hedged p99 {after} ms");
    // The median is untouched (below `after`, no hedge starts).
    assert!(hedged.latency_ms.p50.abs_diff(plain.latency_ms.p50) <= 1);
    let se = (0.16_f64 * 0.84 / calls as f64).sqrt();
    assert!(
        (hedged.requests.mean - 1.16).abs() < 4.0 * se + 0.01,
        "{}",
        hedged.requests.mean
    );
}

#[test]
fn retry_after_jitter_spreads_the_herd_a_shared_retry_after_makes() {
    // As above: 100 calls at 50/s against 60 rpm; each 429's Retry-After is the time until
    // the next token, so every waiting caller comes back at that same instant (the herd:
    // at least 50 of them by t = 1 s). With retry_after_jitter = 1 s each comes back at
    // that instant + U(0, 1 s): a given 100 ms window gets each waiting caller with
    // probability at most 0.1, so of at most 100 waiting callers 10 expected (sd 3), plus
    // the window's new arrivals, Poisson(5) (sd 2.2): 15 expected, under 30 even 4 sd up.
    let herd = scenario("[retry]\nstop = { after_attempt = 99 }", "");
    let jittered = scenario(
        "[retry]\nstop = { after_attempt = 99 }\nretry_after_jitter = \"1s\"",
        "",
    );
    let r = lab(&load_plan(
        &[herd, jittered],
        &bucket(60, 10),
        100,
        100,
        "poisson:50",
    ));
    let herd = r[0].load.as_ref().expect("load").herd_max_per_100ms;
    let spread = r[1].load.as_ref().expect("load").herd_max_per_100ms;
    assert!(
        herd >= 50,
        "no jitter: {herd} requests in one 100 ms window"
    );
    assert!(
        spread <= 30,
        "retry_after_jitter = 1 s: {spread} in the busiest window (herd {herd})"
    );
    // Still honouring the Retry-After: every call succeeds.
    assert_eq!(r[1].success_rate, 1.0, "{:?}", r[1].outcomes);
}

#[test]
fn decorrelated_jitter_waits_stay_between_base_and_max_in_the_lab() {
    let policy = scenario(
        "[retry]\nstop = { after_attempt = 8 }\nwait = { decorrelated_jitter = { base = 1, max = 20 } }",
        "",
    );
    let faults = format!("[sim]\n{INSTANT}chaos = {{ server_error = 0.7 }}\n");
    let p = plan(&[policy], &faults, 1);
    let mut seen = 0;
    for k in 0..60 {
        let mut previous = 1000u64;
        for e in one_call_events(&p, 0, k) {
            if let retrylab::Event::WaitStarted(w) = e.event {
                assert!(
                    (1000..=20_000).contains(&w.delay_ms),
                    "call {k}: {} ms",
                    w.delay_ms
                );
                // uniform(base, 3 x previous): never past three times the wait before (±1 ms
                // of rounding).
                assert!(
                    w.delay_ms <= 3 * previous + 1,
                    "call {k}: {} after {previous}",
                    w.delay_ms
                );
                previous = w.delay_ms;
                seen += 1;
            }
        }
    }
    assert!(seen > 60, "only {seen} waits");
}
