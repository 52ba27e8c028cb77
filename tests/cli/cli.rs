//! The CLI contract (DESIGN §7): commands, output, exit codes 0 / 1 / 2, traces.

use crate::support::cli::{config_dir, retrylab, text};
use std::path::Path;
use std::process::{Command, Output};

#[test]
fn run_prints_a_timeline_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let out = retrylab(
        &["run", "fallback-with-retries", "--speed", "max"],
        dir.path(),
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("primary · attempt 3 → openai/gpt-4o-mini"),
        "{stdout}"
    );
    assert!(stdout.contains("⏳ wait 4 s"), "{stdout}");
    assert!(stdout.contains("↪ fallback openai/gpt-4o-mini → anthropic/claude-3-5-sonnet-latest (hop 1), caught retry_error"), "{stdout}");
    assert!(stdout.contains("■ ok in 8.925 s"), "{stdout}");
    assert!(!stdout.contains('\x1b'), "NO_COLOR is honoured");
    // The run was recorded, and replays to the same timeline.
    let traces: Vec<_> = std::fs::read_dir(dir.path().join("traces"))
        .unwrap()
        .collect();
    assert_eq!(traces.len(), 1);
    let trace = traces[0].as_ref().unwrap().path();
    let replay = retrylab(&["replay", trace.to_str().unwrap(), "--print"], dir.path());
    assert_eq!(replay.status.code(), Some(0));
    assert_eq!(text(&replay.stdout), stdout);
}

#[test]
fn json_prints_one_event_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = retrylab(
        &[
            "run",
            "basic-retry",
            "--json",
            "--speed",
            "max",
            "--no-trace",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0));
    let events: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON object"))
        .collect();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(names.first(), Some(&"run_started"));
    assert_eq!(names.last(), Some(&"run_finished"));
    assert_eq!(names.iter().filter(|n| **n == "attempt_started").count(), 3);
    assert!(events.iter().all(|e| e["t_ms"].is_u64()));
    let wait = events
        .iter()
        .find(|e| e["event"] == "wait_started")
        .unwrap();
    assert_eq!(wait["delay_ms"], 4000);
    assert_eq!(wait["hop"], 0);
    assert_eq!(wait["attempt"], 1);
    assert!(
        !dir.path().join("traces").exists(),
        "--no-trace writes nothing"
    );
}

#[test]
fn a_failed_run_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = retrylab(&["run", "every-hop-fails", "--speed", "max"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("fallback_error"));
}

#[test]
fn speed_does_not_change_the_events() {
    let dir = tempfile::tempdir().unwrap();
    // The same events but for the speed label and the simulator's random port.
    let strip = |o: &Output| -> Vec<serde_json::Value> {
        text(&o.stdout)
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                let m = v.as_object_mut().unwrap();
                m.remove("speed");
                // Both name the simulator's loopback port, which differs per run.
                m.remove("response");
                m.remove("url");
                v
            })
            .collect()
    };
    let max = retrylab(
        &[
            "run",
            "error-reinsertion",
            "--json",
            "--speed",
            "max",
            "--no-trace",
        ],
        dir.path(),
    );
    let fast = retrylab(
        &[
            "run",
            "error-reinsertion",
            "--json",
            "--speed",
            "1000",
            "--no-trace",
        ],
        dir.path(),
    );
    let (a, b) = (strip(&max), strip(&fast));
    assert_eq!(a.len(), 9, "{a:#?}");
    assert_eq!(a, b);
}

#[test]
fn var_overrides_a_template_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = retrylab(
        &[
            "run",
            "fallback",
            "--json",
            "--speed",
            "max",
            "--no-trace",
            "--var",
            "question=Why is the sky blue?",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("Answer this question: Why is the sky blue?"));
}

#[test]
fn a_bad_scenario_exits_2_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "name = \"x\"\n[prompt]\ntemplate = \"hi\"\n[call]\nprovider = \"openai\"\nmodel = \"m\"\n[retry]\nstop = { after_attempts = 3 }\n",
    )
    .unwrap();
    for cmd in ["run", "check"] {
        let out = retrylab(&[cmd, path.to_str().unwrap()], dir.path());
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = text(&out.stderr);
        assert!(err.contains("bad.toml:8:"), "{cmd}: {err}");
        assert!(err.contains("after_attempt"), "{cmd}: {err}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["run", "no-such-scenario"][..],
        &["run", "basic-retry", "--speed", "fast"],
        &["run", "basic-retry", "--var", "novalue"],
        &["frobnicate"],
        &["replay", "/nonexistent/trace.jsonl", "--print"],
    ] {
        let out = retrylab(args, dir.path());
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(!text(&out.stderr).is_empty());
    }
}

#[test]
fn check_prints_the_plan_and_worst_case() {
    let dir = tempfile::tempdir().unwrap();
    let out = retrylab(&["check", "basic-retry"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    assert!(
        s.contains("attempt 1, wait 4 s, attempt 2, wait 4 s, attempt 3, then retry_error"),
        "{s}"
    );
    assert!(
        s.contains("worst case: 3 attempts, 3 HTTP requests, 8 s of waiting"),
        "{s}"
    );
}

#[test]
fn scenarios_lists_the_builtins() {
    let dir = tempfile::tempdir().unwrap();
    let out = retrylab(&["scenarios"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    for name in [
        "basic-retry",
        "stream-retry",
        "tool-retry",
        "error-reinsertion",
        "fallback",
        "fallback-with-retries",
    ] {
        assert!(
            s.lines().any(|l| l.starts_with(name)),
            "{name} missing:\n{s}"
        );
    }
}

#[test]
fn var_can_supply_a_variable_the_file_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.toml");
    std::fs::write(&path, "name = \"v\"\n[prompt]\ntemplate = \"Tell me about {{ topic }}\"\n[call]\nprovider = \"openai\"\nmodel = \"m\"\n").unwrap();
    let p = path.to_str().unwrap();
    let missing = retrylab(&["run", p, "--speed", "max", "--no-trace"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).contains("v.toml:3:"),
        "{}",
        text(&missing.stderr)
    );
    assert!(text(&missing.stderr).contains("--var topic="));
    let given = retrylab(
        &[
            "run",
            p,
            "--speed",
            "max",
            "--no-trace",
            "--json",
            "--var",
            "topic=cats",
        ],
        dir.path(),
    );
    assert_eq!(given.status.code(), Some(0));
    assert!(text(&given.stdout).contains("Tell me about cats"));
}

// ----- traces: created or not, killed runs, truncated and huge traces (issue 7: 8, 13) -----

/// A tmpfs of `size` at `dir` (root only): a real full or read-only disk. None elsewhere.
#[cfg(target_os = "linux")]
struct Tmpfs(std::path::PathBuf);

#[cfg(target_os = "linux")]
impl Tmpfs {
    fn mount(dir: &Path, opts: &str) -> Option<Tmpfs> {
        use std::os::unix::fs::MetadataExt;
        if !std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0) {
            eprintln!("skipped: mounting a tmpfs needs root");
            return None;
        }
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            // Root in a container without CAP_SYS_ADMIN: say so rather than fail.
            eprintln!("skipped: root could not mount a tmpfs here");
            return None;
        }
        Some(Tmpfs(dir.to_path_buf()))
    }
}

#[cfg(target_os = "linux")]
impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_run_says_when_its_trace_cannot_be_created_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    // The data dir is a file: no trace folder can be made (as in a read-only dir).
    let data = dir.path().join("data");
    std::fs::write(&data, "").unwrap();
    let out = retrylab(&["run", "fallback-with-retries", "--speed", "max"], &data);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(text(&out.stdout).contains("■ ok in 8.925 s"));
    let warning: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warning.len(), 1, "{stderr}");
    assert!(
        warning[0].starts_with("warning: the run is not recorded: cannot create a trace in "),
        "{stderr}"
    );
    assert!(
        warning[0].contains("set RETRYLAB_DATA_DIR to a writable folder, or pass --no-trace"),
        "{stderr}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_run_says_when_its_trace_cannot_be_written_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    // A 4 KiB disk, smaller than the run's trace.
    let Some(_fs) = Tmpfs::mount(dir.path(), "size=4k") else {
        return;
    };
    let out = retrylab(
        &["run", "fallback-with-retries", "--speed", "max"],
        dir.path(),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(text(&out.stdout).contains("■ ok in 8.925 s"));
    let warning: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warning.len(), 1, "{stderr}");
    assert!(warning[0].starts_with("warning: the trace "), "{stderr}");
    assert!(warning[0].contains("No space left on device"), "{stderr}");
    assert!(warning[0].contains("free some space"), "{stderr}");
    // What did reach the disk is whole lines only, and replays.
    let trace = std::fs::read_dir(dir.path().join("traces"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let events = retrylab::trace::read_trace(&trace).unwrap();
    assert!(!events.is_empty());
}

#[test]
fn a_run_killed_with_sigkill_leaves_the_events_so_far() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    // At real speed the demo waits 4 s after its first failure: kill it there.
    let mut child = Command::new(env!("CARGO_BIN_EXE_retrylab"))
        .args(["run", "fallback-with-retries", "--json"])
        .env("RETRYLAB_DATA_DIR", dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut printed = 0;
    let mut line = String::new();
    while !line.contains("\"wait_started\"") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "the run ended early");
        printed += 1;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let trace = std::fs::read_dir(dir.path().join("traces"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let events = retrylab::trace::read_trace(&trace).unwrap();
    assert_eq!(
        events.len(),
        printed,
        "every event printed was in the trace"
    );
    assert_eq!(events.last().unwrap().event.name(), "wait_started");
}

/// A trace of `events` events, the last line cut in the middle.
fn cut_trace(dir: &Path) -> (std::path::PathBuf, usize) {
    let out = retrylab(&["run", "basic-retry", "--speed", "max"], dir);
    assert_eq!(out.status.code(), Some(0));
    let trace = std::fs::read_dir(dir.join("traces"))
        .expect("test setup")
        .next()
        .expect("test setup")
        .expect("test setup")
        .path();
    let full = std::fs::read_to_string(&trace).expect("test setup");
    let lines = full.lines().count();
    let cut = full.len() - full.lines().last().expect("test setup").len() / 2 - 1;
    let path = dir.join("cut.jsonl");
    std::fs::write(&path, &full[..cut]).expect("test setup");
    (path, lines - 1)
}

#[test]
fn replay_plays_the_complete_lines_of_a_truncated_trace() {
    let dir = tempfile::tempdir().unwrap();
    let (path, complete) = cut_trace(dir.path());
    let out = retrylab(&["replay", path.to_str().unwrap(), "--print"], dir.path());
    let stderr = text(&out.stderr);
    // No run_finished: the run did not end in the trace.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        text(&out.stdout).contains("primary · attempt 1"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        stderr.trim_end(),
        format!("warning: the trace ends after line {complete}: incomplete line ignored")
    );
}

/// Peak RSS (VmHWM, KiB) of a child, polled until it exits.
#[cfg(target_os = "linux")]
fn peak_rss_kib(mut child: std::process::Child) -> (u64, std::process::ExitStatus) {
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_path)
            && let Some(l) = s.lines().find(|l| l.starts_with("VmHWM:"))
        {
            let kib: u64 = l
                .split_whitespace()
                .nth(1)
                .expect("test setup")
                .parse()
                .expect("test setup");
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().expect("test setup") {
            return (peak, status);
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

#[cfg(target_os = "linux")]
#[test]
fn replay_print_streams_a_big_trace_in_bounded_memory() {
    use retrylab::event::{Delta, Event, Mode, RunStarted, TimedEvent};
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.jsonl");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let ev = |t_ms, event| TimedEvent { t_ms, event }.to_json_line() + "\n";
    let started = Event::RunStarted(RunStarted {
        scenario: "big".into(),
        mode: Mode::Sim,
        speed: "max".into(),
    });
    w.write_all(ev(0, started).as_bytes()).unwrap();
    let chunk = "streamed text ".repeat(7_000); // ~100 KB a line
    let delta = ev(
        1,
        Event::Delta(Delta {
            hop: 0,
            attempt: 1,
            text: chunk,
        }),
    );
    for _ in 0..1_000 {
        w.write_all(delta.as_bytes()).unwrap(); // ~100 MB in all
    }
    drop(w);
    let child = Command::new(env!("CARGO_BIN_EXE_retrylab"))
        .args(["replay", path.to_str().unwrap(), "--print"])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (peak_kib, status) = peak_rss_kib(child);
    assert_eq!(status.code(), Some(1), "no run_finished: exit 1");
    assert!(
        peak_kib < 40_000,
        "peak RSS {peak_kib} KiB for a 100 MB trace"
    );
}

#[test]
fn replay_reports_a_line_too_long_without_buffering_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.jsonl");
    let mut f = std::fs::File::create(&path).unwrap();
    use std::io::Write;
    // 80 MiB on one line, no newline anywhere.
    let block = vec![b'x'; 1 << 20];
    for _ in 0..80 {
        f.write_all(&block).unwrap();
    }
    drop(f);
    let out = retrylab(&["replay", path.to_str().unwrap(), "--print"], dir.path());
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(":1: the line is longer than 64 MiB"),
        "{stderr}"
    );
}

/// `sim --addr` takes `localhost:PORT` and a bare `PORT` (issue 9); a bad one is exit 2.
#[test]
fn sim_listens_on_a_bare_port_or_localhost() {
    use std::io::{BufRead, BufReader};
    for addr in ["0", "localhost:0"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_retrylab"))
            .args(["sim", "--addr", addr])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            line.starts_with("retrylab simulator listening on 127.0.0.1:"),
            "{addr}: {line}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let out = retrylab(&["sim", "--addr", "example.com:80"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not an address"), "{err}");
}

#[test]
fn a_saved_scenario_is_reachable_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("config").join("scenarios");
    std::fs::create_dir_all(&saved).unwrap();
    let basic = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios/basic-retry.toml"),
    )
    .unwrap();
    std::fs::write(saved.join("my-policy.toml"), &basic).unwrap();
    // A saved copy of a built-in, edited to fail once less: it shadows the built-in.
    std::fs::write(
        saved.join("basic-retry.toml"),
        basic.replace("times = 2", "times = 1"),
    )
    .unwrap();

    let out = retrylab(&["run", "my-policy", "--speed", "max"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("attempt 3"),
        "{}",
        text(&out.stdout)
    );
    let out = retrylab(&["run", "basic-retry", "--speed", "max"], dir.path());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("attempt 2") && !stdout.contains("attempt 3"),
        "the saved copy ran: {stdout}"
    );
    let out = retrylab(
        &["run", "builtin:basic-retry", "--speed", "max"],
        dir.path(),
    );
    assert!(
        text(&out.stdout).contains("attempt 3"),
        "builtin: reaches the built-in"
    );

    let out = retrylab(&["check", "my-policy"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = retrylab(&["scenarios"], dir.path());
    let listing = text(&out.stdout);
    assert!(
        listing.contains(&format!("saved, in {}:", saved.display())),
        "{listing}"
    );
    assert!(listing.contains("my-policy "), "{listing}");
    let out = retrylab(&["run", "my-polcy"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("did you mean `my-policy`?"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn traces_list_replay_by_name_or_last_and_prune() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("config.toml"), "[traces]\nkeep = 2\n").unwrap();
    let traces = dir.path().join("traces");
    for s in ["basic-retry", "fallback", "every-hop-fails"] {
        // Earlier runs' traces as if written an hour ago (a trace written in the last
        // minute may be another instance's run in progress, and is never pruned).
        for e in std::fs::read_dir(&traces).into_iter().flatten() {
            let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
            let f = std::fs::File::options()
                .write(true)
                .open(e.unwrap().path())
                .unwrap();
            f.set_modified(hour_ago).unwrap();
        }
        retrylab(&["run", s, "--speed", "max"], dir.path());
    }
    let mut names: Vec<String> = std::fs::read_dir(&traces)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "keep = 2 pruned the oldest: {names:?}");
    assert!(
        names.iter().all(|n| !n.contains("basic-retry")),
        "{names:?}"
    );

    let out = retrylab(&["traces"], dir.path());
    let listing = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    let rows: Vec<&str> = listing.lines().skip(1).take(2).collect();
    assert!(
        rows[0].contains("Every hop fails") && rows[0].contains(" error "),
        "{listing}"
    );
    assert!(
        rows[1].contains("Fallback") && rows[1].contains(" ok "),
        "{listing}"
    );
    assert!(
        rows[0].ends_with(names.iter().find(|n| n.contains("every-hop")).unwrap()),
        "{listing}"
    );

    let last = retrylab(&["replay", "--last", "--print"], dir.path());
    assert_eq!(
        last.status.code(),
        Some(1),
        "the last run failed, so its replay exits 1"
    );
    assert!(
        text(&last.stdout).contains("■ error"),
        "{}",
        text(&last.stdout)
    );
    let by_name = retrylab(&["replay", "fallback", "--print"], dir.path());
    assert_eq!(by_name.status.code(), Some(0), "{}", text(&by_name.stderr));
    let stem = names[0].trim_end_matches(".jsonl");
    let by_prefix = retrylab(&["replay", &stem[..stem.len() - 3], "--print"], dir.path());
    assert_eq!(
        by_prefix.status.code(),
        Some(0),
        "the older run (fallback) ended ok: {}",
        text(&by_prefix.stderr)
    );
    assert_eq!(
        text(&by_prefix.stdout),
        text(&retrylab(&["replay", &names[0], "--print"], dir.path()).stdout)
    );
    let none = retrylab(&["replay", "nope", "--print"], dir.path());
    assert_eq!(none.status.code(), Some(2));
    assert!(
        text(&none.stderr).contains("no trace named `nope`"),
        "{}",
        text(&none.stderr)
    );
    let neither = retrylab(&["replay"], dir.path());
    assert_eq!(neither.status.code(), Some(2));
}

/// Starts `retrylab sim --addr 0 ARGS..` and returns it with the address it listens on.
#[allow(clippy::unwrap_used)] // a test helper
fn spawn_sim(args: &[&str], dir: &Path) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_retrylab"))
        .args(["sim", "--addr", "0"])
        .args(args)
        .env("RETRYLAB_DATA_DIR", dir)
        .env("RETRYLAB_CONFIG_DIR", config_dir(dir))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    // Keep reading: a closed stdout would end the server at its next line.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let addr = line
        .trim()
        .strip_prefix("retrylab simulator listening on ")
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    (child, addr)
}

/// One plain OpenAI request over a raw socket; returns the status line.
#[allow(clippy::unwrap_used)] // a test helper
fn post_openai(addr: &str, model: &str) -> String {
    use std::io::{Read, Write};
    let body = format!(r#"{{"model":"{model}","messages":[{{"role":"user","content":"hi"}}]}}"#);
    let mut sock = std::net::TcpStream::connect(addr).unwrap();
    write!(
        sock,
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    sock.read_to_string(&mut reply).unwrap();
    reply.lines().next().unwrap_or_default().to_string()
}

#[test]
fn sim_logs_one_line_per_request_unless_quiet() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("limited.toml");
    std::fs::write(
        &scenario,
        r#"name = "limited"
[prompt]
template = "Q"
[call]
provider = "openai"
model = "gpt-4o-mini"
[sim]
first_token_ms = 0
limits = [{ provider = "openai", model = "gpt-4o-mini", rpm = 1, burst = 1 }]
"#,
    )
    .unwrap();
    let path = scenario.to_string_lossy().to_string();

    let (mut child, addr) = spawn_sim(&[&path], dir.path());
    let first = post_openai(&addr, "gpt-4o-mini");
    assert!(first.contains(" 200 "), "{first}");
    let second = post_openai(&addr, "gpt-4o-mini");
    assert!(second.contains(" 429 "), "{second}");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..2 {
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        lines.push(line.trim().to_string());
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        lines[0].ends_with("s  openai  gpt-4o-mini  #1  ok"),
        "{lines:?}"
    );
    assert!(
        lines[1].ends_with("s  openai  gpt-4o-mini  #2  rate_limit (limit)"),
        "{lines:?}"
    );

    let (mut child, addr) = spawn_sim(&[&path, "--quiet"], dir.path());
    assert!(post_openai(&addr, "gpt-4o-mini").contains(" 200 "));
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert_eq!(text(&out.stderr), "", "--quiet logs nothing");
}
