//! `retrylab run --live` as a user runs it (the built binary): a missing key stops it before
//! the run with exit 2; a config file others can read is warned about once; and no key ever
//! shows up in anything it writes (stdout, stderr, traces, the config dir), even when the
//! server echoes the key back.

// Test support: a failed setup step should fail the test loudly.
#![allow(clippy::unwrap_used)]

use crate::support::live_server::{Reply, Server, from_request, play, serve};
use std::path::Path;
use std::process::Output;

/// The key in the environment, and the one in config.toml: each distinctive enough that a
/// piece of either is easy to spot.
const ENV_KEY: &str = "sk-proj-SENTINEL-env-7f3a9c1e5b2d4f6a8c0e";
const CFG_KEY: &str = "sk-ant-SENTINEL-cfg-1b3d5f7a9c2e4f6b8d0a";

struct Dirs {
    _root: tempfile::TempDir,
    config: std::path::PathBuf,
    data: std::path::PathBuf,
    scenario: std::path::PathBuf,
}

/// A config dir whose config.toml holds `[keys] anthropic = CFG_KEY` (mode 600), an empty
/// data dir, and `scenario` (with `{base}` filled in) as a file.
fn dirs(scenario: &str, base: &str) -> Dirs {
    let root = tempfile::tempdir().unwrap();
    let config = root.path().join("config");
    let data = root.path().join("data");
    std::fs::create_dir_all(&config).unwrap();
    let file = config.join("config.toml");
    std::fs::write(&file, format!("[keys]\nanthropic = \"{CFG_KEY}\"\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let path = root.path().join("scenario.toml");
    std::fs::write(&path, scenario.replace("{base}", base)).unwrap();
    Dirs {
        _root: root,
        config,
        data,
        scenario: path,
    }
}

async fn retrylab(args: &[&str], d: &Dirs, env_key: Option<&str>) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_retrylab"));
    cmd.args(args)
        .env("RETRYLAB_CONFIG_DIR", &d.config)
        .env("RETRYLAB_DATA_DIR", &d.data)
        .env("NO_COLOR", "1")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .env("RUST_BACKTRACE", "1");
    if let Some(k) = env_key {
        cmd.env("OPENAI_API_KEY", k);
    }
    tokio::time::timeout(std::time::Duration::from_secs(20), cmd.output())
        .await
        .expect("retrylab finished within 20 s")
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Every file under `dir` (recursively) but `skip`, with its text.
fn files_under(dir: &Path, skip: &Path) -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p, skip));
        } else if p != skip {
            let bytes = std::fs::read(&p).unwrap();
            out.push((p, text(&bytes)));
        }
    }
    out
}

/// Asserts no piece of either key is in the output or in any file written.
fn assert_no_leak(out: &Output, d: &Dirs) -> usize {
    let mut places = vec![
        ("stdout".to_string(), text(&out.stdout)),
        ("stderr".to_string(), text(&out.stderr)),
    ];
    let files = files_under(&d.data, Path::new(""));
    let written = files.len();
    for (p, t) in files
        .into_iter()
        .chain(files_under(&d.config, &d.config.join("config.toml")))
    {
        places.push((p.display().to_string(), t));
    }
    for (place, t) in &places {
        for needle in [
            ENV_KEY,
            CFG_KEY,
            "SENTINEL",
            "7f3a9c1e5b2d4f6a8c0e",
            "1b3d5f7a9c2e4f6b8d0a",
        ] {
            assert!(!t.contains(needle), "`{needle}` leaked into {place}:\n{t}");
        }
    }
    written
}

const LEAK: &str = r#"
name = "leak check"
[prompt]
template = "Who wrote The Name of the Wind?"
[call]
provider = "openai"
model = "gpt-4o-mini"
base_url = "{base}/v1"
stream = true
[retry]
stop = { after_attempt = 3 }
wait = { fixed = "10ms" }
retry_on = ["rate_limit", "auth", "server_error"]
# Live waits are real (`--speed` does not apply): keep the 429's 1.5 s Retry-After short.
retry_after_max = "10ms"
[fallback]
catch = ["retry_error"]
[[fallback.hops]]
provider = "anthropic"
model = "claude-3-5-sonnet-latest"
base_url = "{base}"
catch = ["retry_error"]
"#;

fn leak_replies() -> Vec<Reply> {
    vec![
        play("openai_429_retry_after_ms"),
        play("openai_401"),
        play("openai_stream_error"),
        play("anthropic_stream"),
    ]
}

fn assert_keys_were_sent(server: &Server) {
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4, "{reqs:?}");
    for r in &reqs[..3] {
        assert_eq!(r.key().as_deref(), Some(ENV_KEY));
    }
    assert_eq!(reqs[3].key().as_deref(), Some(CFG_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_leaks_through_429_401_a_stream_error_and_a_fallback_success() {
    for json in [false, true] {
        let server = serve(leak_replies()).await;
        let d = dirs(LEAK, &server.base);
        let scenario = d.scenario.to_str().unwrap().to_owned();
        let mut args = vec!["run", scenario.as_str(), "--live", "--speed", "max"];
        if json {
            args.push("--json");
        }
        let out = retrylab(&args, &d, Some(ENV_KEY)).await;
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
        assert_keys_were_sent(&server);
        // The run really went through each case.
        for seen in [
            "rate_limit",
            "auth",
            "server_error",
            "retry_error",
            "Rothfuss",
        ] {
            assert!(stdout.contains(seen), "{seen} missing from:\n{stdout}");
        }
        if !json {
            assert!(
                stdout.contains("fix: the server refused the key: check OPENAI_API_KEY"),
                "{stdout}"
            );
            assert!(stdout.contains("cost ~$"), "{stdout}");
        }
        let written = assert_no_leak(&out, &d);
        assert_eq!(written, 1, "one trace was written");
    }
}

/// A hostile (or debugging) server that sends the key back: in the error body, as the
/// provider's error code, in the request-id header, and inside the answer.
fn echo_error(r: &crate::support::live_server::Request) -> String {
    let key = r.key().unwrap_or_default();
    format!(
        "HTTP/1.1 401 Unauthorized\ncontent-type: application/json\nx-request-id: {key}\nx-echo: Bearer {key}\n\n{{\"error\":{{\"message\":\"Incorrect API key provided: {key}.\",\"type\":\"invalid_request_error\",\"code\":\"{key}\"}}}}"
    )
}

fn echo_stream(r: &crate::support::live_server::Request) -> String {
    let key = r.key().unwrap_or_default();
    let chunk = |content: &str| {
        format!(
            "data: {{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{}}},\"finish_reason\":null}}]}}\n\n",
            serde_json::to_string(content).unwrap()
        )
    };
    format!(
        "HTTP/1.1 200 OK\ncontent-type: text/event-stream\ntransfer-encoding: chunked\nx-request-id: {key}\n\n{}{}data: {{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{{}},\"finish_reason\":\"stop\"}}]}}\n\ndata: [DONE]\n\n",
        chunk("Your key is "),
        // Split across deltas, as a model's tokens would split it.
        [&key[..5], &key[5..17], &key[17..]].map(chunk).concat()
    )
}

fn echo_plain(r: &crate::support::live_server::Request) -> String {
    let key = r.key().unwrap_or_default();
    format!(
        "HTTP/1.1 200 OK\ncontent-type: application/json\nrequest-id: {key}\n\n{{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-3-5-sonnet-20241022\",\"content\":[{{\"type\":\"text\",\"text\":\"Your key is {key}\"}}],\"stop_reason\":\"end_turn\",\"usage\":{{\"input_tokens\":9,\"output_tokens\":12}}}}"
    )
}

type EchoAnswer = fn(&crate::support::live_server::Request) -> String;

const ECHO: &str = r#"
name = "echo"
[prompt]
template = "Who wrote The Name of the Wind?"
[call]
provider = "PROVIDER"
model = "MODEL"
base_url = "BASE"
stream = true
[retry]
stop = { after_attempt = 2 }
wait = { fixed = "10ms" }
retry_on = ["auth"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_leaks_when_the_server_echoes_it_back() {
    for json in [false, true] {
        // OpenAI with the environment's key, then Anthropic with the config file's.
        let cases: [(&str, &str, &str, &str, EchoAnswer); 2] = [
            ("openai", "gpt-4o-mini", "{base}/v1", ENV_KEY, echo_stream),
            (
                "anthropic",
                "claude-3-5-sonnet-latest",
                "{base}",
                CFG_KEY,
                echo_plain,
            ),
        ];
        for (provider, model, base, key, answer) in cases {
            let server = serve(vec![from_request(echo_error), from_request(answer)]).await;
            let scenario = ECHO
                .replace("PROVIDER", provider)
                .replace("MODEL", model)
                .replace("BASE", base);
            let d = dirs(&scenario, &server.base);
            let path = d.scenario.to_str().unwrap().to_owned();
            let mut args = vec!["run", path.as_str(), "--live", "--speed", "max"];
            if json {
                args.push("--json");
            }
            let out = retrylab(&args, &d, Some(ENV_KEY)).await;
            let stdout = text(&out.stdout);
            assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
            let reqs = server.requests();
            assert_eq!(reqs.len(), 2);
            assert!(reqs.iter().all(|r| r.key().as_deref() == Some(key)));
            // What the server said is kept, with the key cut out.
            assert!(
                stdout.contains("Incorrect API key provided: [redacted]."),
                "{stdout}"
            );
            assert!(stdout.contains("Your key is [redacted]"), "{stdout}");
            assert_eq!(assert_no_leak(&out, &d), 1);
            if provider == "openai" {
                // The stream's raw body held the key in pieces: it is withheld, not shown.
                let trace = &files_under(&d.data, Path::new(""))[0].1;
                assert!(
                    trace.contains(r#""body":"[withheld: the reply carried an API key]""#),
                    "{trace}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_key_exits_2_before_the_run_with_what_to_set() {
    let d = dirs(LEAK, "http://127.0.0.1:9");
    std::fs::remove_file(d.config.join("config.toml")).unwrap();
    let path = d.scenario.to_str().unwrap().to_owned();
    let out = retrylab(&["run", &path, "--live"], &d, None).await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout), "", "the run never started");
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: live mode needs OPENAI_API_KEY (for openai/gpt-4o-mini) and ANTHROPIC_API_KEY (for anthropic/claude-3-5-sonnet-latest): set them in the environment, or add them under [keys] in {}\nhint: without --live the run uses the built-in simulator (no key needed)\n",
            d.config.join("config.toml").display()
        )
    );
    assert!(!d.data.exists(), "no trace for a run that never started");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_file_others_can_read_is_warned_about_once() {
    use std::os::unix::fs::PermissionsExt;
    let d = dirs(LEAK, "http://127.0.0.1:9");
    let file = d.config.join("config.toml");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = retrylab(
        &["run", "basic-retry", "--speed", "max", "--no-trace"],
        &d,
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr,
        format!(
            "warning: {} holds API keys and is readable by other users (mode 644); run: chmod 600 {}\n",
            file.display(),
            file.display()
        )
    );
    assert_no_leak(&out, &d);
}

/// Sends SIGINT to `pid`, as Ctrl+C does.
fn interrupt(pid: u32) {
    let ok = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -INT {pid}");
}

#[tokio::test]
async fn a_second_ctrl_c_exits_at_once_even_when_the_output_is_stuck() {
    use crate::support::live_server::{Step, openai_frame, stream_head};
    let frames = openai_frame(r#"{"content":"ab"}"#).repeat(64);
    let server = serve(vec![Reply::Steps(vec![
        Step::Write(stream_head("")),
        Step::Repeat(frames.into_bytes()),
    ])])
    .await;
    let d = dirs(
        "name = \"endless\"\n[prompt]\ntemplate = \"hi\"\n[call]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nbase_url = \"{base}/v1\"\nstream = true\n",
        &server.base,
    );
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_retrylab"))
        .args(["run", "--live", "--no-trace"])
        .arg(&d.scenario)
        .env("RETRYLAB_CONFIG_DIR", &d.config)
        .env("RETRYLAB_DATA_DIR", &d.data)
        .env("NO_COLOR", "1")
        .env("OPENAI_API_KEY", ENV_KEY)
        // Nobody reads stdout: once the pipe is full, every write blocks.
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    interrupt(pid);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first Ctrl+C cannot end a run whose output is stuck"
    );
    let sent = std::time::Instant::now();
    interrupt(pid);
    let status = tokio::time::timeout(std::time::Duration::from_secs(2), child.wait())
        .await
        .expect("a second Ctrl+C exits within 2 s")
        .unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(sent.elapsed() < std::time::Duration::from_millis(500));
}

const RETRY_AFTER: &str = r#"
name = "retry-after live"
[prompt]
template = "Who wrote The Name of the Wind?"
[call]
provider = "openai"
model = "gpt-4o-mini"
base_url = "{base}/v1"
[retry]
stop = { after_attempt = 2 }
wait = { fixed = "10ms" }
retry_on = ["rate_limit"]
honor_retry_after = true
"#;

/// Live waits are real: `--speed max` skips nothing the server asked for (a 429 with
/// `retry-after: 0.75` means 750 ms before the next request), and the CLI says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_speed_max_still_waits_what_the_server_asked() {
    let server = serve(vec![
        play("openai_429_retry_after_float"),
        play("openai_plain"),
    ])
    .await;
    let d = dirs(RETRY_AFTER, &server.base);
    let path = d.scenario.to_str().unwrap().to_owned();
    let started = std::time::Instant::now();
    let out = retrylab(
        &[
            "run",
            &path,
            "--live",
            "--speed",
            "max",
            "--json",
            "--no-trace",
        ],
        &d,
        Some(ENV_KEY),
    )
    .await;
    let wall = started.elapsed();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert_eq!(server.requests().len(), 2);
    assert!(wall >= std::time::Duration::from_millis(750), "{wall:?}");
    assert_eq!(
        text(&out.stderr),
        "note: --speed does not apply in live mode: waits are real (the server's Retry-After and the back-off take their full time)\n"
    );
    // The run says the speed it ran at.
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["speed"], "1x");
}
