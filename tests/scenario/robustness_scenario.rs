//! Robustness of scenario loading (DESIGN §2, §9): every built-in scenario mutated with seeded
//! random line and byte edits (delete, duplicate, swap, insert TOML tokens, truncate) must
//! load or fail with a position inside the file and a hint, never panic. Then scenarios with
//! extreme values that still load must run on the simulator without a panic, and end (or
//! cancel) cleanly.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retrylab::clock::Speed;
use retrylab::engine::run::{RunOptions, run};
use retrylab::event::{Event, Mode, Outcome, RunFinished, WaitStarted};
use retrylab::scenario::load::{ScenarioError, parse};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

fn builtin_sources() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios");
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    assert!(v.len() >= 12, "the built-ins are there");
    v
}

/// Tokens a hand edit (or a bad paste) may leave in a TOML file.
const TOKENS: &[&str] = &[
    "=",
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    "\"",
    "'",
    "'''",
    "\"\"\"",
    ",",
    "#",
    "\n",
    "\r",
    "\r\n",
    "\t",
    " ",
    ".",
    "key = 1",
    "x.y.z = 2",
    "[retry]",
    "[[fallback.hops]]",
    "[sim]",
    "[call]",
    "[prompt]",
    "[[tools]]",
    "[[sim.faults]]",
    "[response]",
    "inf",
    "-inf",
    "nan",
    "+nan",
    "1e400",
    "-1",
    "0",
    "-0.0",
    "0x7fffffffffffffff",
    "18446744073709551616",
    "9223372036854775807",
    "1_000",
    "true",
    "false",
    "1979-05-27T07:32:00Z",
    "07:32:00",
    "\"\\u0000\"",
    "\"\\uD800\"",
    "\"\\q\"",
    "日本語",
    "😀",
    "\u{FEFF}",
    "\u{0}",
    "\u{7f}",
    "{{",
    "}}",
    "{{ errors }}",
    "{% for e in errors %}",
    "{% endfor %}",
    "{{ nope }}",
    "{{ question | upper }}",
    "{% if %}",
    "{#",
    "#}",
    "\"{{ x }\"",
    "stop = { after_attempt = 0 }",
    "wait = { fixed = \"inf\" }",
    "wait = { chain = [] }",
    "wait = { sum = [] }",
    "retry_on = []",
    "retry_on = [\"nope\"]",
    "catch = [\"any\"]",
    "times = 0",
    "on_requests = [0]",
    "fault = \"cut_stream\"",
    "after_tokens = -5",
    "provider = \"gemini\"",
    "validators = [{ regex = \"(\" }]",
    "validators = [{ json_schema = { type = 5 } }]",
    "tokens_per_second = 0",
    "chaos = { rate_limit = 2.0 }",
    "reinsert_mode = \"reask\"",
    "template = \"\"",
    "model = \"\"",
    "seed = -1",
    "\"a\".\"b\" = 1",
    "= 1",
    "a = ",
    "a = [1, \"x\"]",
    "a = { b = 1, b = 2 }",
];

fn char_floor(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn mutate(rng: &mut ChaCha8Rng, src: &str) -> String {
    let mut lines: Vec<String> = src.split('\n').map(str::to_string).collect();
    let n = lines.len().max(1);
    match rng.random_range(0..10) {
        0 => {
            lines.remove(rng.random_range(0..n).min(lines.len() - 1));
            lines.join("\n")
        }
        1 => {
            let i = rng.random_range(0..n);
            let l = lines[i].clone();
            lines.insert(i, l);
            lines.join("\n")
        }
        2 => {
            let (a, b) = (rng.random_range(0..n), rng.random_range(0..n));
            lines.swap(a, b);
            lines.join("\n")
        }
        3 | 4 => {
            // A token at a random place.
            let at = char_floor(src, rng.random_range(0..=src.len()));
            let tok = TOKENS.choose(rng).unwrap();
            format!("{}{tok}{}", &src[..at], &src[at..])
        }
        5 => {
            // A value replaced: after the first `=` of a random line.
            let i = rng.random_range(0..n);
            if let Some(eq) = lines[i].find('=') {
                let tok = TOKENS.choose(rng).unwrap();
                lines[i] = format!("{}= {tok}", &lines[i][..eq]);
            }
            lines.join("\n")
        }
        6 => src[..char_floor(src, rng.random_range(0..=src.len()))].to_string(),
        7 => {
            // A random range cut out.
            let a = char_floor(src, rng.random_range(0..=src.len()));
            let b = char_floor(src, (a + rng.random_range(0..40)).min(src.len()));
            format!("{}{}", &src[..a], &src[b..])
        }
        8 => {
            // A random byte, then whatever UTF-8 that leaves (lossy, as an editor would).
            let mut bytes = src.as_bytes().to_vec();
            let at = rng.random_range(0..=bytes.len());
            bytes.insert(at, rng.random());
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => {
            // A line from another place with its key renamed by one letter.
            let i = rng.random_range(0..n);
            let mut l = lines[i].clone();
            if !l.is_empty() {
                let at = char_floor(&l, rng.random_range(0..l.len()));
                l.insert(at, *['x', '_', '-', '.', ' '].choose(rng).unwrap());
            }
            lines.insert(rng.random_range(0..n), l);
            lines.join("\n")
        }
    }
}

/// The error must point inside the file (line 1..=last, where a file ending in a newline has
/// one empty line after it) with a column, and say what to do.
fn check_error(e: &ScenarioError, src: &str) -> Result<(), String> {
    let lines = src.split('\n').count().max(1);
    if e.line == 0 || e.line > lines {
        return Err(format!("line {} outside 1..={lines}", e.line));
    }
    let line_chars = src
        .split('\n')
        .nth(e.line - 1)
        .map_or(0, |l| l.chars().count());
    if e.column == 0 || e.column > line_chars + 1 {
        return Err(format!(
            "column {} outside 1..={} of line {}",
            e.column,
            line_chars + 1,
            e.line
        ));
    }
    if e.message.trim().is_empty() {
        return Err("empty message".into());
    }
    if e.hint.trim().is_empty() {
        return Err(format!("empty hint for `{}`", e.message));
    }
    Ok(())
}

#[test]
fn mutated_builtins_load_or_fail_with_a_place_and_a_hint() {
    let started = Instant::now();
    let sources = builtin_sources();
    let mut cases = 0;
    let mut still_valid = 0;
    let mut problems: Vec<String> = Vec::new();
    for (seed, (name, src)) in sources.iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(seed as u64 + 77);
        for case in 0..6000 {
            let mut text = src.clone();
            for _ in 0..rng.random_range(1..=4) {
                text = mutate(&mut rng, &text);
            }
            cases += 1;
            let result = catch_unwind(AssertUnwindSafe(|| parse(&text, name)));
            match result {
                Err(_) => problems.push(format!("{name} case {case}: PANIC on:\n{text}")),
                Ok(Ok(_)) => still_valid += 1,
                Ok(Err(e)) => {
                    if let Err(why) = check_error(&e, &text) {
                        problems.push(format!("{name} case {case}: {why}: {e}\n---\n{text}\n---"));
                    }
                }
            }
        }
    }
    eprintln!(
        "scenario mutations: {cases} cases, {still_valid} still valid, {} problems, {:?}",
        problems.len(),
        started.elapsed()
    );
    assert!(
        problems.is_empty(),
        "{} bad outcomes; the first ones:\n{}",
        problems.len(),
        problems
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    assert!(still_valid > 100 && still_valid < cases);
}

// ----- extreme values that load must also run -----

/// `(call extra, retry extra, sim extra, fault extra)` lines.
const EXTREMES: &[(&str, &str, &str, &str)] = &[
    ("timeout = 1e30", "", "", ""),
    ("timeout = \"inf\"", "", "", ""),
    ("timeout = 1e-300", "", "", ""),
    ("connect_timeout = 1e-9", "", "", ""),
    ("first_byte_timeout = 1e25", "", "", ""),
    ("idle_timeout = 1e-300", "", "", ""),
    ("idle_timeout = 1e300", "", "", ""),
    ("temperature = 1e300\nmax_tokens = 4294967295", "", "", ""),
    ("", "wait = { fixed = 1e20 }", "", ""),
    ("", "wait = { fixed = \"inf\" }", "", ""),
    ("", "wait = { fixed = 1e-300 }", "", ""),
    (
        "",
        "wait = { exponential = { multiplier = 1e300 } }",
        "",
        "",
    ),
    (
        "",
        "wait = { exponential = { multiplier = 1e300, exp_base = 1e300 } }",
        "",
        "",
    ),
    (
        "",
        "wait = { exponential = { multiplier = -5, exp_base = -3 } }",
        "",
        "",
    ),
    (
        "",
        "wait = { exponential = { min = 1e30, max = 1 } }",
        "",
        "",
    ),
    ("", "wait = { random = { min = 0, max = \"inf\" } }", "", ""),
    ("", "wait = { random = { min = 1e300, max = 0 } }", "", ""),
    (
        "",
        "wait = { random_exponential = { multiplier = 1e308, max = \"inf\" } }",
        "",
        "",
    ),
    (
        "",
        "wait = { exponential_jitter = { initial = 1e300, jitter = \"inf\" } }",
        "",
        "",
    ),
    (
        "",
        "wait = { incrementing = { start = 1e300, increment = 1e300 } }",
        "",
        "",
    ),
    ("", "wait = { chain = [] }", "", ""),
    (
        "",
        "wait = { sum = [{ fixed = 1e308 }, { fixed = 1e308 }] }",
        "",
        "",
    ),
    (
        "",
        "stop = { after_delay = \"inf\" }\nwait = { fixed = 1 }",
        "",
        "",
    ),
    ("", "stop = { before_delay = 1e-300 }", "", ""),
    ("", "stop = { after_attempt = 0 }", "", ""),
    ("", "stop = { all = [] }", "", ""),
    ("", "stop = { any = [] }\nwait = { fixed = 0 }", "", ""),
    ("", "retry_after_max = 1e30", "", ", retry_after = 1e20"),
    (
        "",
        "retry_after_max = \"inf\"",
        "",
        ", retry_after = \"inf\"",
    ),
    ("", "", "", ", retry_after = 1e-300"),
    (
        "",
        "",
        "",
        ", retry_after = 1e15, retry_after_format = \"date\"",
    ),
    (
        "",
        "",
        "",
        ", retry_after = 1e20, retry_after_format = \"ms\"",
    ),
    (
        "",
        "seed = 18446744073709551615",
        "seed = 18446744073709551615",
        "",
    ),
    ("", "", "tokens_per_second = 1e-300", ""),
    (
        "",
        "",
        "tokens_per_second = 1e300\nfirst_token_ms = 18446744073709551615",
        "",
    ),
    ("", "", "first_token_ms = 18446744073709551615", ""),
    ("", "", "chaos = { rate_limit = 1.0, cut_stream = 1.0 }", ""),
    ("", "", "", ", after_tokens = 4294967295"),
    ("", "", "", ", delay = 1e20"),
    ("", "", "", ", delay = \"inf\""),
    ("", "", "", ", on_requests = [4294967295, 1]"),
    ("", "", "reply = \"\"", ""),
    ("", "", "replies = [\"\", \"\\u0000\\u001b[2J\"]", ""),
];

const FAULTS: &[&str] = &[
    "rate_limit",
    "overloaded",
    "server_error",
    "timeout",
    "slow_first_byte",
    "connection_reset",
    "cut_stream",
    "malformed_stream",
    "overloaded_in_stream",
    "auth",
    "bad_request",
    "context_length",
    "html",
];

fn extreme_scenario(
    (call, retry, sim, fault_extra): (&str, &str, &str, &str),
    provider: &str,
    stream: bool,
    fault: &str,
) -> String {
    // Fields that do not apply to this fault would be refused: keep them to their faults.
    let fault_extra = match fault_extra {
        x if x.contains("retry_after") && !matches!(fault, "rate_limit" | "overloaded") => "",
        x if x.contains("after_tokens")
            && !matches!(
                fault,
                "cut_stream" | "malformed_stream" | "overloaded_in_stream"
            ) =>
        {
            ""
        }
        x if x.contains("delay") && fault != "slow_first_byte" => "",
        x => x,
    };
    let times = if fault_extra.contains("on_requests") {
        ""
    } else {
        ", times = 2"
    };
    let reply = if sim.contains("reply") {
        ""
    } else {
        "reply = \"hello big world\""
    };
    let stop = if retry.contains("stop") {
        ""
    } else {
        "stop = { after_attempt = 3 }"
    };
    format!(
        "name = \"extreme\"\n[prompt]\ntemplate = \"Q\"\n[call]\nprovider = \"{provider}\"\nmodel = \"m\"\nstream = {stream}\n{call}\n[retry]\n{stop}\n{retry}\n[sim]\n{reply}\n{sim}\nfaults = [{{ fault = \"{fault}\"{times}{fault_extra} }}]\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extreme_values_that_load_run_without_a_panic_and_cancel_cleanly() {
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(4242);
    let (mut loaded, mut refused, mut finished, mut cancelled) = (0, 0, 0, 0);
    let mut problems = Vec::new();
    for (i, extreme) in EXTREMES.iter().enumerate() {
        for provider in ["openai", "anthropic"] {
            let stream = rng.random_bool(0.5);
            let fault = *FAULTS.choose(&mut rng).unwrap();
            let src = extreme_scenario(*extreme, provider, stream, fault);
            let scenario = match catch_unwind(|| parse(&src, "extreme.toml")) {
                Err(_) => {
                    problems.push(format!("case {i}: parse PANIC:\n{src}"));
                    continue;
                }
                Ok(Err(e)) => {
                    refused += 1;
                    if let Err(why) = check_error(&e, &src) {
                        problems.push(format!("case {i}: {why}: {e}\n{src}"));
                    }
                    continue;
                }
                Ok(Ok(s)) => s,
            };
            loaded += 1;
            let cancel = CancellationToken::new();
            let (tx, mut rx) = retrylab::engine::run::event_channel();
            let opts = RunOptions {
                mode: Mode::Sim,
                speed: Speed::Max,
                config: Arc::new(retrylab::config::Config::load()),
            };
            let mut task = tokio::spawn(run(Arc::new(scenario), opts, tx, cancel.clone()));
            let summary = match tokio::time::timeout(Duration::from_millis(500), &mut task).await {
                Ok(r) => {
                    finished += 1;
                    r
                }
                Err(_) => {
                    // A wait without end: cancel must end it at once.
                    cancel.cancel();
                    eprintln!(
                        "case {i} ({provider}, {fault}) runs on until cancelled: {extreme:?}"
                    );
                    match tokio::time::timeout(Duration::from_millis(500), &mut task).await {
                        Ok(r) => {
                            cancelled += 1;
                            r
                        }
                        Err(_) => {
                            problems.push(format!("case {i}: cancel did not end the run:\n{src}"));
                            task.abort();
                            continue;
                        }
                    }
                }
            };
            let summary = match summary {
                Ok(s) => s,
                Err(e) => {
                    problems.push(format!("case {i}: the engine panicked ({e}):\n{src}"));
                    continue;
                }
            };
            let mut last = None;
            while let Ok(ev) = rx.try_recv() {
                last = Some(ev.event);
            }
            match last {
                Some(Event::RunFinished(RunFinished { outcome, .. }))
                    if outcome == summary.outcome => {}
                other => problems.push(format!("case {i}: the last event is {other:?}:\n{src}")),
            }
            if summary.outcome == Outcome::Error && summary.error.is_none() {
                problems.push(format!("case {i}: an error outcome without its error"));
            }
        }
    }
    eprintln!(
        "extremes: {loaded} loaded ({finished} ended, {cancelled} cancelled), {refused} refused, {:?}",
        started.elapsed()
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

// ----- files that are not small regular files: refused, never read without bound -----

/// Runs `f` on another thread; a hang fails the test instead of hanging it.
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .expect("the read hung (or grew) instead of being refused")
}

fn mkfifo(path: &Path) -> bool {
    std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn special_and_huge_files_are_refused_as_scenarios() {
    use retrylab::scenario::load::load_path;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.toml");
    let big = dir.path().join("big.toml");
    // 100 MB, sparse: nothing is written, but a reader would have to read it all.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(100 << 20)
        .unwrap();
    let mut cases = vec![
        (
            "/dev/zero".into(),
            "not a regular file (a character device)",
        ),
        (dir.path().to_path_buf(), "not a regular file (a directory)"),
        (big, "larger than 1 MiB (104857600 bytes)"),
    ];
    if mkfifo(&fifo) {
        cases.push((fifo, "not a regular file (a FIFO)"));
    } else {
        eprintln!("mkfifo is not available: the FIFO case is skipped");
    }
    for (path, want) in cases {
        let shown = path.display().to_string();
        let e = within(5, move || load_path(&path).unwrap_err());
        assert_eq!((e.line, e.column), (0, 0), "{shown}: {e}");
        assert!(e.message.contains(want), "{shown}: {e}");
        assert!(e.message.starts_with("cannot read the scenario"), "{e}");
        assert_eq!(e.origin, shown);
    }
    // A file of exactly the cap still loads as far as its text goes (then fails as TOML).
    let edge = dir.path().join("edge.toml");
    std::fs::write(&edge, "#".repeat(1 << 20)).unwrap();
    let e = load_path(&edge).unwrap_err();
    assert!(e.message.contains("missing required"), "{e}");
}

#[test]
fn a_config_that_is_a_fifo_or_a_device_is_a_warning_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    if !mkfifo(&dir.path().join("config.toml")) {
        eprintln!("mkfifo is not available: skipped");
        return;
    }
    let d = dir.path().to_path_buf();
    let cfg = within(5, move || retrylab::config::Config::load_from(&d));
    assert_eq!(cfg.warnings().len(), 1, "{:?}", cfg.warnings());
    assert!(
        cfg.warnings()[0].contains("not a regular file (a FIFO)"),
        "{:?}",
        cfg.warnings()
    );
}

#[test]
fn a_theme_that_is_a_fifo_is_reported_not_read() {
    let dir = tempfile::tempdir().unwrap();
    if !mkfifo(&dir.path().join("dark.toml")) {
        eprintln!("mkfifo is not available: skipped");
        return;
    }
    let d = dir.path().to_path_buf();
    let errors = within(5, move || retrylab::tui::theme::ThemeSet::load(Some(&d)).1);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].message.contains("not a regular file (a FIFO)"),
        "{}",
        errors[0].message
    );
}

// ----- waits beyond the longest one: clamped at run time, so `--speed max` never stalls -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_that_grows_past_the_longest_is_clamped_and_the_run_ends() {
    // 2^(attempt-1) s passes 30 days at attempt 23 and overflows f64 at attempt 1025.
    let src = "name = \"grow\"\n[prompt]\ntemplate = \"Q\"\n[call]\nprovider = \"openai\"\nmodel = \"m\"\n[retry]\nstop = { after_attempt = 1100 }\nwait = { exponential = { multiplier = 1, max = \"inf\" } }\n[sim]\nfaults = [{ fault = \"server_error\", times = 1099 }]\n";
    let scenario = parse(src, "grow.toml").unwrap();
    let (tx, mut rx) = retrylab::engine::run::event_channel();
    let opts = RunOptions {
        mode: Mode::Sim,
        speed: Speed::Max,
        config: Arc::new(retrylab::config::Config::load()),
    };
    let task = tokio::spawn(run(Arc::new(scenario), opts, tx, CancellationToken::new()));
    let summary = tokio::time::timeout(Duration::from_secs(60), task)
        .await
        .expect("the run stalled on a saturated wait")
        .unwrap();
    assert_eq!(summary.outcome, Outcome::Ok);
    let mut delays = Vec::new();
    let mut last_t = 0;
    while let Ok(ev) = rx.try_recv() {
        last_t = ev.t_ms;
        if let Event::WaitStarted(WaitStarted { delay_ms, .. }) = ev.event {
            delays.push(delay_ms);
        }
    }
    const DAYS_30_MS: u64 = 30 * 86_400_000;
    assert_eq!(delays.len(), 1099);
    assert_eq!(delays[21], 2_097_152_000);
    assert_eq!(delays[22], DAYS_30_MS, "2^22 s (48 days) is clamped");
    assert!(delays[22..].iter().all(|d| *d == DAYS_30_MS));
    // The run's clock holds it all: the sum of every wait plus the attempts' time.
    let total: u64 = delays.iter().sum();
    assert!(last_t >= total, "{last_t} < {total}");
}

#[test]
fn speeds_out_of_range_are_usage_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    for speed in ["1e300", "1e-300", "1e7", "0.0001", "-1", "nan", "0"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_retrylab"))
            .args([
                "run",
                "basic-retry",
                "--no-trace",
                &format!("--speed={speed}"),
            ])
            .env("HOME", dir.path())
            .env("RETRYLAB_CONFIG_DIR", dir.path().join("config"))
            .env("XDG_DATA_HOME", dir.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--speed {speed}: {err}");
        assert!(!err.contains("panicked"), "--speed {speed}: {err}");
        assert!(
            err.contains("between 0.001 and 1000000, or `max`"),
            "--speed {speed}: {err}"
        );
    }
}

// ----- templates that would run for ever or grow without end: a bounded error -----

#[test]
fn exponential_templates_fail_fast_with_a_place() {
    let cases: &[(&str, &str)] = &[
        (
            "{% macro f(n) %}{% if n > 0 %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(15) }}",
            "more than 50000 steps",
        ),
        (
            "{% for a in range(100000) %}{% for b in range(100000) %}{{ a }}{% endfor %}{% endfor %}",
            "",
        ),
        (
            "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
            "more than 50000 steps",
        ),
        // (26 doublings, 64 MiB, so that the test ends even where the guard is missing.)
        (
            "{% set ns = namespace(s=\"x\") %}{% for i in range(26) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
            "can grow without bound",
        ),
        (
            "{% set ns = namespace(s=\"x\") %}{% for i in range(26) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
            "can grow without bound",
        ),
        (
            "{% set ns = namespace(s=\"x\") %}{% for i in range(26) %}{% set ns.s = [ns.s, ns.s]|join %}{% endfor %}",
            "can grow without bound",
        ),
        (
            "{% set ns = namespace(a=\"x\", b=\"x\") %}{% for i in range(26) %}{% set ns.a, ns.b = ns.b, ns.a ~ ns.b %}{% endfor %}",
            "can grow without bound",
        ),
        (
            "{% set s = \"x\" %}{% set s = s ~ s %}{% set s = s ~ s %}{% set s = s * 2 %}",
            "can grow without bound",
        ),
        (
            "{% macro f(n) %}{% if n > 0 %}{% set x = f(n-1) %}{{ x }}{{ x }}{% endif %}{% if n == 0 %}x{% endif %}{% endmacro %}{{ f(400) }}",
            "",
        ),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", ""),
        // String repetition: 100 MB per `*`, one instruction each, never emitted.
        (
            "{% for i in range(40) %}{% set y = \"x\" * 99999999 %}{% endfor %}",
            "may repeat a string",
        ),
        (
            "{% set s = \"x\" %}{% for i in range(40) %}{% set y = s * 99999999 %}{% endfor %}",
            "may repeat a string",
        ),
        (
            "{% for e in errors %}{% for i in range(40) %}{% set y = 99999999 * e %}{% endfor %}{% endfor %}",
            "may repeat a string",
        ),
        (
            "{% set ns = namespace(s=\"x\") %}{% for i in range(40) %}{% set y = ns.s * 99999999 %}{% endfor %}",
            "may repeat a string",
        ),
        (
            "{% for i in range(40) %}{% set y = (\"x\" ~ i) * 99999999 %}{% endfor %}",
            "may repeat a string",
        ),
        (
            "{% for i in range(40) %}{% set y = \"xy\" * 5001 %}{% endfor %}",
            "may repeat a string",
        ),
    ];
    for (template, want) in cases {
        let src = format!(
            "name = \"t\"\n[prompt]\ntemplate = '''{template}'''\n[call]\nprovider = \"openai\"\nmodel = \"m\"\n"
        );
        let shown = template.to_string();
        let started = Instant::now();
        let e = within(20, move || parse(&src, "t.toml").unwrap_err());
        let took = started.elapsed();
        assert_eq!(e.line, 3, "{shown}: {e}");
        assert!(e.column >= 13, "{shown}: {e}");
        assert!(e.message.contains(want), "{shown}: {e}");
        assert!(!e.hint.is_empty() && !e.message.contains('\n'), "{e}");
        eprintln!("{took:?} for {shown}");
        assert!(took < Duration::from_secs(2), "{shown}: {took:?}");
    }
    // What prompts do stays fine: counters, filters on other values, loops that emit.
    for ok in [
        "{% set ns = namespace(n=0) %}{% for e in errors %}{% set ns.n = ns.n + 1 %}{{ e }}{% endfor %}{{ ns.n }}",
        "{% set sep = \"; \" %}{% set all = errors|join(sep) %}{{ all }}{{ \"=\" * 40 }}",
        "{% for i in range(1000) %}{{ i }},{% endfor %}",
        "{% set x = \"a ~ a\" %}{% set y = x|upper %}{{ y }}",
        // Arithmetic and short rulers stay fine.
        "{% for i in range(3) %}{{ i * 2 }}{{ 2*i }}{% endfor %}{{ 3 * 4 }}{{ 2 ** 10 }}{{ 0.5 * 3 }}",
        "{{ '-' * 72 }}{{ 20*'=' }}{{ \"xy\" * 5000 }}",
    ] {
        let src = format!(
            "name = \"t\"\n[prompt]\ntemplate = '''{ok}'''\n[call]\nprovider = \"openai\"\nmodel = \"m\"\n"
        );
        parse(&src, "t.toml").unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
}
