//! The policy against the reference (DESIGN §3: Tenacity semantics, exactly): seeded random
//! wait strategies, stop conditions and whole retry loops are computed here and by the real
//! Tenacity (python3 -c, when it is installed), with the same random draw on both sides, and
//! must agree. Plus engine cases found in review (see the ignored test).

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use rand::seq::IndexedRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retrylab::error::{CallError, ErrorKind};
use retrylab::event::{AttemptStarted, ErrorReinserted, Event, RunFinished};
use retrylab::policy::retry_on::{Decision, RetryPolicy, decide};
use retrylab::policy::stop::StopState;
use retrylab::policy::{ReinsertMode, Secs, Stop, Wait};
use serde::Deserialize;
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

/// An RNG whose every draw is the same number: Python's `random` is patched to return the
/// same `r`, so random strategies can be compared draw for draw.
struct FixedRng(u64);

impl RngCore for FixedRng {
    fn next_u32(&mut self) -> u32 {
        (self.0 >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for (i, b) in dest.iter_mut().enumerate() {
            *b = self.0.to_le_bytes()[i % 8];
        }
    }
}

const PY_PRELUDE: &str = r#"
import json, math, random, sys, time, types, warnings
warnings.simplefilter("ignore")
import tenacity
from tenacity import *
R = 0.0
random.uniform = lambda a, b: a + (b - a) * R
random.random = lambda: R
INF = float("inf")
def num(v):
    v = float(v)
    return None if math.isinf(v) else v
cases = json.load(sys.stdin)
out = []
"#;

/// Runs `body` after the prelude with `cases` on stdin; None when Tenacity is not installed.
fn python(body: &str, cases: &Value) -> Option<Value> {
    let ok = Command::new("python3")
        .args(["-c", "import tenacity"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("python3 with tenacity is not installed: the cross-check is skipped");
        return None;
    }
    let mut child = Command::new("python3")
        .args(["-c", &format!("{PY_PRELUDE}{body}\nprint(json.dumps(out))")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(cases.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

// ----- random strategies, written both ways -----

/// `(toml, python)` of a number of seconds.
fn secs(rng: &mut ChaCha8Rng, allow_inf: bool) -> (String, String) {
    let pool: &[&str] = &["0", "0.25", "1", "2", "3.5", "4", "10", "60"];
    if allow_inf && rng.random_bool(0.2) {
        return ("\"inf\"".into(), "INF".into());
    }
    let v = *pool.choose(rng).unwrap();
    (v.into(), v.into())
}

fn factor(rng: &mut ChaCha8Rng) -> String {
    (*["0", "0.5", "1", "2", "3"].choose(rng).unwrap()).to_string()
}

fn base(rng: &mut ChaCha8Rng) -> String {
    (*["1", "1.5", "2", "3", "0.5"].choose(rng).unwrap()).to_string()
}

fn random_wait(rng: &mut ChaCha8Rng, depth: u32) -> (String, String) {
    let pick = if depth >= 2 {
        rng.random_range(0..6)
    } else {
        rng.random_range(0..8)
    };
    match pick {
        0 => {
            let (t, p) = secs(rng, false);
            (format!("{{ fixed = {t} }}"), format!("wait_fixed({p})"))
        }
        1 => {
            let (a, pa) = secs(rng, false);
            let (b, pb) = secs(rng, false);
            (
                format!("{{ random = {{ min = {a}, max = {b} }} }}"),
                format!("wait_random(min={pa}, max={pb})"),
            )
        }
        2 | 3 => {
            let (m, b) = (factor(rng), base(rng));
            let (mn, pmn) = secs(rng, false);
            let (mx, pmx) = secs(rng, true);
            let name = if pick == 2 {
                "exponential"
            } else {
                "random_exponential"
            };
            (
                format!(
                    "{{ {name} = {{ multiplier = {m}, exp_base = {b}, min = {mn}, max = {mx} }} }}"
                ),
                format!("wait_{name}(multiplier={m}, exp_base={b}, min={pmn}, max={pmx})"),
            )
        }
        4 => {
            let (i, pi) = secs(rng, false);
            let b = base(rng);
            let (mx, pmx) = secs(rng, true);
            let (j, pj) = secs(rng, false);
            (
                format!(
                    "{{ exponential_jitter = {{ initial = {i}, exp_base = {b}, max = {mx}, jitter = {j} }} }}"
                ),
                format!(
                    "wait_exponential_jitter(initial={pi}, exp_base={b}, max={pmx}, jitter={pj})"
                ),
            )
        }
        5 => {
            let (s, ps) = secs(rng, false);
            let (i, pi) = secs(rng, false);
            let (mx, pmx) = secs(rng, true);
            (
                format!("{{ incrementing = {{ start = {s}, increment = {i}, max = {mx} }} }}"),
                format!("wait_incrementing(start={ps}, increment={pi}, max={pmx})"),
            )
        }
        _ => {
            let n = rng.random_range(1..4);
            let parts: Vec<(String, String)> =
                (0..n).map(|_| random_wait(rng, depth + 1)).collect();
            let toml: Vec<&str> = parts.iter().map(|p| p.0.as_str()).collect();
            let py: Vec<&str> = parts.iter().map(|p| p.1.as_str()).collect();
            if pick == 6 {
                (
                    format!("{{ chain = [{}] }}", toml.join(", ")),
                    format!("wait_chain({})", py.join(", ")),
                )
            } else {
                (
                    format!("{{ sum = [{}] }}", toml.join(", ")),
                    format!("wait_combine({})", py.join(", ")),
                )
            }
        }
    }
}

fn parse_wait(toml_text: &str) -> Wait {
    #[derive(Deserialize)]
    struct T {
        wait: Wait,
    }
    toml::from_str::<T>(&format!("wait = {toml_text}"))
        .unwrap_or_else(|e| panic!("{toml_text}: {e}"))
        .wait
}

fn same(a: f64, b: Option<f64>) -> bool {
    match b {
        None => a.is_infinite(),
        Some(b) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
    }
}

#[test]
fn wait_strategies_match_tenacity() {
    let mut rng = ChaCha8Rng::seed_from_u64(41);
    let attempts: Vec<u32> = (1..=12).chain([20, 40, 70]).collect();
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..1_500 {
        let (toml_text, py) = random_wait(&mut rng, 0);
        let mut fixed = FixedRng(rng.next_u64());
        let r: f64 = fixed.random();
        let wait = parse_wait(&toml_text);
        let values: Vec<f64> = attempts
            .iter()
            .map(|a| wait.compute(*a, &mut fixed))
            .collect();
        // The jitter range always holds the value.
        for (a, v) in attempts.iter().zip(&values) {
            let (lo, hi) = wait.range(*a);
            assert!(
                *v >= lo - 1e-9 * lo.abs() && *v <= hi + 1e-9 * hi.abs(),
                "{toml_text} attempt {a}: {v} not in [{lo}, {hi}]"
            );
        }
        cases.push(json!({"wait": py, "r": r, "attempts": attempts}));
        ours.push((toml_text, values));
    }
    let Some(theirs) = python(
        r#"
for c in cases:
    R = c["r"]
    w = eval(c["wait"])
    out.append([num(w(types.SimpleNamespace(attempt_number=n))) for n in c["attempts"]])
"#,
        &Value::Array(cases),
    ) else {
        return;
    };
    let mut mismatches = Vec::new();
    for ((toml_text, values), theirs) in ours.iter().zip(theirs.as_array().unwrap()) {
        for ((a, v), t) in attempts.iter().zip(values).zip(theirs.as_array().unwrap()) {
            if !same(*v, t.as_f64()) {
                mismatches.push(format!("{toml_text} attempt {a}: ours {v}, tenacity {t}"));
            }
        }
    }
    eprintln!(
        "waits: {} strategies x {} attempts against tenacity, {} mismatches",
        ours.len(),
        attempts.len(),
        mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "{}",
        mismatches[..mismatches.len().min(10)].join("\n")
    );
}

fn random_stop(rng: &mut ChaCha8Rng, depth: u32) -> (Stop, String) {
    match rng.random_range(0..if depth >= 2 { 3 } else { 5 }) {
        0 => {
            let n = rng.random_range(0..6);
            (Stop::AfterAttempt(n), format!("stop_after_attempt({n})"))
        }
        1 => {
            let d = f64::from(rng.random_range(0..20u32)) / 2.0;
            (Stop::AfterDelay(Secs(d)), format!("stop_after_delay({d})"))
        }
        2 => {
            let d = f64::from(rng.random_range(0..20u32)) / 2.0;
            (
                Stop::BeforeDelay(Secs(d)),
                format!("stop_before_delay({d})"),
            )
        }
        k => {
            let n = rng.random_range(0..4);
            let parts: Vec<(Stop, String)> = (0..n).map(|_| random_stop(rng, depth + 1)).collect();
            let py: Vec<String> = parts.iter().map(|p| p.1.clone()).collect();
            let stops: Vec<Stop> = parts.into_iter().map(|p| p.0).collect();
            if k == 3 {
                (Stop::Any(stops), format!("stop_any({})", py.join(", ")))
            } else {
                (Stop::All(stops), format!("stop_all({})", py.join(", ")))
            }
        }
    }
}

#[test]
fn stop_conditions_match_tenacity() {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..3_000 {
        let (stop, py) = random_stop(&mut rng, 0);
        let state = StopState {
            attempt: rng.random_range(1..8),
            elapsed: f64::from(rng.random_range(0..24u32)) / 2.0,
            upcoming_sleep: f64::from(rng.random_range(0..8u32)) / 2.0,
        };
        ours.push((py.clone(), state, stop.should_stop(&state)));
        cases.push(
            json!({"stop": py, "attempt": state.attempt, "elapsed": state.elapsed,
                          "upcoming": state.upcoming_sleep}),
        );
    }
    let Some(theirs) = python(
        r#"
for c in cases:
    s = eval(c["stop"])
    st = types.SimpleNamespace(attempt_number=c["attempt"], seconds_since_start=c["elapsed"],
                               upcoming_sleep=c["upcoming"])
    out.append(bool(s(st)))
"#,
        &Value::Array(cases),
    ) else {
        return;
    };
    let mismatches: Vec<String> = ours
        .iter()
        .zip(theirs.as_array().unwrap())
        .filter(|((_, _, v), t)| t.as_bool() != Some(*v))
        .map(|((py, st, v), t)| format!("{py} at {st:?}: ours {v}, tenacity {t}"))
        .collect();
    eprintln!("stops: {} cases against tenacity", ours.len());
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

const KINDS: &[ErrorKind] = &[
    ErrorKind::RateLimit,
    ErrorKind::ServerError,
    ErrorKind::Timeout,
    ErrorKind::Validation,
];

/// Whole retry loops: per-attempt outcomes and durations; our `decide` in the loop the
/// engine runs, against `tenacity.Retrying` with a fake clock and sleep.
#[test]
fn whole_retry_loops_match_tenacity() {
    let mut rng = ChaCha8Rng::seed_from_u64(43);
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..800 {
        let (wait_toml, wait_py) = random_wait(&mut rng, 1);
        let (mut stop, mut stop_py) = random_stop(&mut rng, 0);
        // Always bounded, so both loops end.
        let cap = rng.random_range(1..7);
        stop = Stop::Any(vec![stop, Stop::AfterAttempt(cap)]);
        stop_py = format!("stop_any({stop_py}, stop_after_attempt({cap}))");
        let retry_on: Vec<ErrorKind> = if rng.random_bool(0.3) {
            vec![ErrorKind::Any]
        } else {
            KINDS
                .iter()
                .copied()
                .filter(|_| rng.random_bool(0.5))
                .collect()
        };
        let outcomes: Vec<Option<ErrorKind>> = (0..8)
            .map(|_| {
                if rng.random_bool(0.15) {
                    None
                } else {
                    Some(*KINDS.choose(&mut rng).unwrap())
                }
            })
            .collect();
        let durations: Vec<f64> = (0..8)
            .map(|_| f64::from(rng.random_range(0..6u32)) / 2.0)
            .collect();
        let mut fixed = FixedRng(rng.next_u64());
        let r: f64 = fixed.random();
        let policy = RetryPolicy {
            stop: Some(stop),
            wait: Some(parse_wait(&wait_toml)),
            retry_on: retry_on.clone(),
            reinsert: vec![],
            reinsert_mode: ReinsertMode::Template,
            honor_retry_after: false,
            retry_after_max: Secs(60.0),
            seed: 0,
        };
        // The engine's loop, with time on a counter.
        let (mut attempt, mut elapsed, mut waits) = (1u32, 0.0f64, Vec::new());
        let outcome = loop {
            let i = (attempt as usize - 1).min(7);
            elapsed += durations[i];
            let Some(kind) = outcomes[i] else {
                break "ok".to_string();
            };
            let e = CallError::new(kind, "x");
            match decide(&policy, attempt, elapsed, &e, &mut fixed) {
                Decision::Reraise { .. } => break format!("raise:{kind}"),
                Decision::Stop { .. } => break format!("retry_error:{kind}"),
                Decision::Retry { wait, .. } => {
                    waits.push(wait.delay);
                    elapsed += wait.delay;
                    attempt += 1;
                }
            }
        };
        ours.push((wait_toml, stop_py.clone(), attempt, waits, outcome));
        cases.push(json!({
            "wait": wait_py, "stop": stop_py, "r": r,
            "retry_on": retry_on.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            "outcomes": outcomes.iter().map(|o| o.map_or("ok", |k| k.as_str())).collect::<Vec<_>>(),
            "durations": durations,
        }));
    }
    let Some(theirs) = python(
        r#"
class Failed(Exception):
    def __init__(self, kind):
        self.kind = kind
for c in cases:
    R = c["r"]
    clock = [0.0]
    time.monotonic = lambda: clock[0]
    waits = []
    def sleep(s):
        waits.append(float(s))
        clock[0] += s
    retry_on = set(c["retry_on"])
    n = [0]
    def call():
        i = min(n[0], 7)
        n[0] += 1
        clock[0] += c["durations"][i]
        kind = c["outcomes"][i]
        if kind == "ok":
            return "ok"
        raise Failed(kind)
    r = Retrying(stop=eval(c["stop"]), wait=eval(c["wait"]), sleep=sleep,
                 retry=retry_if_exception(lambda e: "any" in retry_on or e.kind in retry_on))
    try:
        r(call)
        outcome = "ok"
    except RetryError as e:
        outcome = "retry_error:" + e.last_attempt.exception().kind
    except Failed as e:
        outcome = "raise:" + e.kind
    out.append({"attempts": n[0], "waits": [num(w) for w in waits], "outcome": outcome})
"#,
        &Value::Array(cases),
    ) else {
        return;
    };
    let mut mismatches = Vec::new();
    for ((wait, stop, attempts, waits, outcome), t) in ours.iter().zip(theirs.as_array().unwrap()) {
        let t_waits: Vec<Option<f64>> = t["waits"]
            .as_array()
            .unwrap()
            .iter()
            .map(Value::as_f64)
            .collect();
        let waits_ok =
            waits.len() == t_waits.len() && waits.iter().zip(&t_waits).all(|(a, b)| same(*a, *b));
        if t["attempts"].as_u64() != Some(u64::from(*attempts))
            || t["outcome"].as_str() != Some(outcome.as_str())
            || !waits_ok
        {
            mismatches.push(format!(
                "wait {wait}, {stop}: ours {attempts} attempts {waits:?} {outcome}; tenacity {t}"
            ));
        }
    }
    eprintln!("retry loops: {} against tenacity", ours.len());
    assert!(
        mismatches.is_empty(),
        "{} of {}:\n{}",
        mismatches.len(),
        ours.len(),
        mismatches[..mismatches.len().min(8)].join("\n")
    );
}

/// FOR THE LEAD (src/engine/run.rs is not this reviewer's to edit). A template that fails
/// only once enough errors were reinserted ends the run with `bad_request` right after the
/// engine announced the next attempt ("next: attempt 3 of 5", `error_reinserted` into #3, a
/// wait) — attempt 3 never starts, no `attempt_failed` says why, and the retry policy is not
/// asked. Under Tenacity + Mirascope the template is rendered inside the retried call, so its
/// error is an attempt failure like any other (retried under `retry_on = any`, ending in
/// `retry_error`). Suggested: treat a render failure as a failed attempt (emit
/// `attempt_started` with the last request and `attempt_failed` with a `bad_request` error),
/// then decide as usual.
#[tokio::test]
async fn a_template_that_fails_late_is_a_failed_attempt() {
    let s = crate::support::run::scenario(
        r#"
name = "late template failure"
[prompt]
template = '''Who wrote it?{% if errors|length > 1 %} {{ errors[7] }}{% endif %}'''
[call]
provider = "openai"
model = "gpt-4o-mini"
[retry]
stop = { after_attempt = 5 }
reinsert = ["validation"]
[response]
validators = [{ uppercase = true }]
[sim]
reply = "Patrick Rothfuss"
"#,
    );
    let (_, events) = crate::support::run::run_sim(s).await;
    let announced: Vec<u32> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::ErrorReinserted(ErrorReinserted { attempt, .. }) => Some(*attempt),
            _ => None,
        })
        .collect();
    let started: Vec<u32> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::AttemptStarted(AttemptStarted { attempt, .. }) => Some(*attempt),
            _ => None,
        })
        .collect();
    for a in &announced {
        assert!(
            started.contains(a),
            "attempt {a} was announced (error reinserted into it) but never started: started {started:?}"
        );
    }
    let Some(Event::RunFinished(RunFinished { error, .. })) = events.last().map(|e| &e.event)
    else {
        panic!("no run_finished")
    };
    assert_eq!(
        error.as_ref().map(|e| e.kind),
        Some(ErrorKind::RetryError),
        "the policy decides how the hop ends"
    );
}

/// A wait past the longest one (30 days) is clamped at run time, and says so; below it the
/// numbers are Tenacity's, untouched (the cross-checks above).
#[test]
fn waits_beyond_the_longest_are_clamped_and_explained() {
    use retrylab::policy::duration::MAX_WAIT;
    let policy = |wait: &str, retry_after_max: Secs| RetryPolicy {
        stop: None,
        wait: Some(parse_wait(wait)),
        retry_on: vec![ErrorKind::Any],
        reinsert: vec![],
        reinsert_mode: ReinsertMode::Template,
        honor_retry_after: true,
        retry_after_max,
        seed: 0,
    };
    let plain = CallError::new(ErrorKind::ServerError, "x");
    let mut huge_ra = CallError::new(ErrorKind::RateLimit, "x");
    huge_ra.retry_after_ms = Some(u64::MAX);
    let cases = [
        // exponential at attempt 1000 (2^999 s) and past f64 (inf), unbounded max
        (
            "{ exponential = { multiplier = 1 } }",
            1000,
            &plain,
            Secs::INF,
        ),
        (
            "{ exponential = { multiplier = 1 } }",
            5000,
            &plain,
            Secs::INF,
        ),
        (
            "{ exponential_jitter = { initial = 1 } }",
            2000,
            &plain,
            Secs::INF,
        ),
        (
            "{ incrementing = { increment = 86400 } }",
            40,
            &plain,
            Secs::INF,
        ),
        // a server asking for 584 million years, nothing capping it
        ("{ fixed = 1 }", 1, &huge_ra, Secs::INF),
    ];
    for (wait, attempt, error, ra_max) in cases {
        let p = policy(wait, ra_max);
        let d = decide(&p, attempt, 0.0, error, &mut FixedRng(1 << 63));
        let Decision::Retry { wait: w, .. } = d else {
            panic!("{wait}: {d:?}")
        };
        assert_eq!(w.delay, MAX_WAIT.0, "{wait} at {attempt}");
        assert!(
            w.text.ends_with("clamped to 30 days (the longest wait)"),
            "{}",
            w.text
        );
    }
    // Just below the bound: untouched.
    let p = policy("{ incrementing = { increment = 86400 } }", Secs::INF);
    let Decision::Retry { wait: w, .. } = decide(&p, 30, 0.0, &plain, &mut FixedRng(0)) else {
        panic!()
    };
    assert_eq!(w.delay, 29.0 * 86400.0);
    assert!(!w.text.contains("clamped"));
}
