//! Where live mode finds keys and endpoints: the environment, a hop's own `api_key_env`,
//! `config.toml`; OpenAI-compatible servers (base_url required, key optional); a hop's own
//! base_url, key and headers. A missing piece is reported before any request.

use crate::support::live::{KEY, run_live, scenario_for};
use crate::support::live_server::{play, serve};
use retrylab::ErrorKind;
use retrylab::config::Config;
use retrylab::engine::run::check_live_keys_with;
use retrylab::event::{AttemptFailed, Outcome, ToolCall};

const FALLBACK: &str = r#"
name = "keys"
[prompt]
template = "Who wrote The Name of the Wind?"
[call]
provider = "openai"
model = "gpt-4o-mini"
base_url = "{base}/v1"
[fallback]
catch = ["auth"]
[[fallback.hops]]
provider = "anthropic"
model = "claude-3-5-sonnet-latest"
base_url = "{base}"
catch = ["auth"]
[[fallback.hops]]
provider = "openai-compatible"
model = "llama-3.1-70b-versatile"
base_url = "{base}/openai/v1"
api_key_env = "GROQ_API_KEY"
catch = ["auth"]
headers = { "HTTP-Referer" = "https://retrylab.test", "X-Title" = "retrylab" }
"#;

fn check(source: &str, cfg: &Config) -> Result<(), String> {
    check_live_keys_with(&scenario_for(source, "http://127.0.0.1:9"), cfg).map_err(|e| {
        assert_eq!(e.kind, ErrorKind::Auth, "{e:?}");
        e.message
    })
}

#[test]
fn every_missing_key_is_named_with_where_to_put_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::load_from(dir.path()).with_env(Vec::<(String, String)>::new());
    let path = dir.path().join("config.toml");
    assert_eq!(
        check(FALLBACK, &cfg).unwrap_err(),
        format!(
            "live mode needs OPENAI_API_KEY (for openai/gpt-4o-mini), ANTHROPIC_API_KEY (for anthropic/claude-3-5-sonnet-latest) and GROQ_API_KEY (for openai-compatible/llama-3.1-70b-versatile): set them in the environment, or add them under [keys] in {}",
            path.display()
        )
    );
    // From the environment, from [keys] by variable, from [keys] by provider: all count.
    let cfg = Config::isolated()
        .with_env([("OPENAI_API_KEY", "sk-env-0123456789")])
        .with_key("GROQ_API_KEY", "gsk-file-0123456789")
        .with_key("anthropic", "sk-ant-file-0123456789");
    assert_eq!(check(FALLBACK, &cfg), Ok(()));
    // A provider's key never stands in for a scenario's own variable.
    let cfg = Config::isolated()
        .with_key("openai", "sk-file-0123456789")
        .with_key("anthropic", "sk-ant-file-0123456789");
    assert_eq!(
        check(FALLBACK, &cfg).unwrap_err(),
        "live mode needs GROQ_API_KEY (for openai-compatible/llama-3.1-70b-versatile): set it in the environment, or add GROQ_API_KEY = \"...\" under [keys] in config.toml in the retrylab config dir (or set RETRYLAB_CONFIG_DIR)"
    );
}

#[test]
fn a_variable_two_hops_share_is_named_once() {
    let source = r#"
name = "shared"
[prompt]
template = "hi"
[call]
provider = "openai"
model = "gpt-4o-mini"
[fallback]
catch = ["any"]
[[fallback.hops]]
provider = "openai"
model = "gpt-4o"
catch = ["any"]
[[fallback.hops]]
provider = "openai"
model = "gpt-4o"
catch = ["any"]
"#;
    assert_eq!(
        check(source, &Config::isolated()).unwrap_err(),
        "live mode needs OPENAI_API_KEY (for openai/gpt-4o-mini, openai/gpt-4o): set it in the environment, or add OPENAI_API_KEY = \"...\" under [keys] in config.toml in the retrylab config dir (or set RETRYLAB_CONFIG_DIR)"
    );
}

#[test]
fn a_broken_config_file_is_mentioned_with_the_missing_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "[keys]\nopenai = \"sk-unterminated-SENTINEL\n",
    )
    .unwrap();
    let cfg = Config::load_from(dir.path()).with_env(Vec::<(String, String)>::new());
    let msg = check(FALLBACK, &cfg).unwrap_err();
    assert!(
        msg.contains("(note: ")
            && msg.contains(
                "config.toml at line 2, column 35: invalid basic string; the file is ignored)"
            ),
        "{msg}"
    );
    assert!(!msg.contains("SENTINEL"), "{msg}");
}

#[test]
fn compatible_servers_need_a_base_url_but_no_key() {
    let source = r#"
name = "local"
[prompt]
template = "hi"
[call]
provider = "openai-compatible"
model = "llama3.1:8b"
"#;
    let e = check_live_keys_with(&scenario_for(source, ""), &Config::isolated()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert_eq!(
        e.message,
        "provider `openai-compatible` needs a base_url: add base_url = \"http://localhost:11434/v1\" (the server's OpenAI-style URL, ending in /v1) to [call]"
    );
    let with_url = source.replace(
        "model = \"llama3.1:8b\"",
        "model = \"llama3.1:8b\"\nbase_url = \"http://localhost:11434/v1\"",
    );
    assert_eq!(check(&with_url, &Config::isolated()), Ok(()));
    // A hop's missing base_url names the hop.
    let hop = format!(
        "{with_url}[fallback]\ncatch = [\"any\"]\n[[fallback.hops]]\nprovider = \"openai-compatible\"\nmodel = \"m\"\ncatch = [\"any\"]\n"
    );
    let e = check_live_keys_with(&scenario_for(&hop, ""), &Config::isolated()).unwrap_err();
    assert!(e.message.ends_with("to fallback hop 1"), "{}", e.message);
}

#[tokio::test]
async fn each_hop_sends_its_own_key_and_headers_to_its_own_url() {
    let server = serve(vec![
        play("openai_401"),
        play("anthropic_401"),
        play("openai_plain"),
    ])
    .await;
    let cfg = Config::isolated()
        .with_env([("OPENAI_API_KEY", KEY)])
        .with_key("anthropic", "sk-ant-from-config-0123456789")
        .with_key("GROQ_API_KEY", "gsk-from-config-0123456789");
    let live = run_live(FALLBACK, &server, cfg).await;
    assert_eq!(live.summary.outcome, Outcome::Ok, "{:?}", live.summary);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].line, "POST /v1/chat/completions HTTP/1.1");
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(reqs[1].line, "POST /v1/messages HTTP/1.1");
    assert_eq!(
        reqs[1].header("x-api-key"),
        Some("sk-ant-from-config-0123456789")
    );
    assert_eq!(reqs[2].line, "POST /openai/v1/chat/completions HTTP/1.1");
    assert_eq!(
        reqs[2].header("authorization"),
        Some("Bearer gsk-from-config-0123456789")
    );
    assert_eq!(
        reqs[2].header("http-referer"),
        Some("https://retrylab.test")
    );
    assert_eq!(reqs[2].header("x-title"), Some("retrylab"));
    assert_eq!(reqs[0].header("x-title"), None);
    // The Anthropic hop's auth error names its own variable.
    let errors = live.errors();
    assert!(
        errors[1]
            .shown_message()
            .contains("check ANTHROPIC_API_KEY"),
        "{}",
        errors[1].shown_message()
    );
    // No event carries a key.
    let all: String = live.events.iter().map(|e| e.to_json_line()).collect();
    for k in [KEY, "sk-ant-from-config", "gsk-from-config"] {
        assert!(!all.contains(k), "{k} leaked into the events");
    }
}

#[test]
fn nothing_that_holds_a_key_shows_it_in_debug() {
    let cfg = Config::parse(&format!("[keys]\nopenai = \"{KEY}\""), None)
        .with_env([("ANTHROPIC_API_KEY", KEY)]);
    let endpoint = retrylab::provider::Endpoint {
        kind: retrylab::scenario::types::ProviderKind::Openai,
        base_url: "http://x/v1".into(),
        api_key: Some(KEY.into()),
        headers: vec![("authorization".into(), KEY.into())],
    };
    let shown = format!(
        "{cfg:?}\n{:?}\n{:?}\n{endpoint:?}",
        cfg.key(retrylab::scenario::types::ProviderKind::Openai, None),
        cfg.key(retrylab::scenario::types::ProviderKind::Anthropic, None),
    );
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
}

// ---- issue 7: a hostile server echoes the key back in every shape it can ----

use crate::support::live::{Live, config};
use crate::support::live_server::{Reply, Step, from_request, openai_frame, stream_head};
use retrylab::event::Event;

const STREAM_TOOL: &str = r#"
name = "echo"
[prompt]
template = "Who wrote The Name of the Wind?"
[call]
provider = "openai"
model = "gpt-4o-mini"
base_url = "{base}/v1"
stream = true

[[tools]]
name = "lookup"
description = "Look a title up"
parameters = { type = "object", properties = { title = { type = "string" } }, required = ["title"] }
default = "Unknown"
"#;

/// `s` with every `\uXXXX` escape decoded (once more than JSON decoding does: an
/// escaped key inside a string shows as the key).
fn decode_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("\\u") {
        out.push_str(&rest[..i]);
        let hex = rest.get(i + 2..i + 6).unwrap_or("");
        match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
            Some(c) if hex.len() == 4 => {
                out.push(c);
                rest = &rest[i + 6..];
            }
            _ => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every event as JSON, raw and with escapes decoded.
fn all_text(live: &Live) -> String {
    let lines: Vec<String> = live.events.iter().map(|e| e.to_json_line()).collect();
    let raw = lines.join("\n");
    // JSON doubles the backslash of an escape held in a string: undo that first.
    let decoded = decode_escapes(&raw.replace("\\\\", "\\"));
    format!("{raw}\n{decoded}")
}

/// No 8-byte piece of `key` anywhere in the events (decoded or not).
fn assert_no_piece_of(live: &Live, key: &str) {
    let all = all_text(live);
    for w in key.as_bytes().windows(8) {
        let w = String::from_utf8_lossy(w);
        assert!(!all.contains(w.as_ref()), "{w:?} of the key leaked:\n{all}");
    }
}

/// A 200 event stream (chunk per event) built from `frames`.
fn sse_reply(frames: Vec<String>, tail: Vec<Step>) -> Reply {
    let mut steps = vec![Step::Write(stream_head(""))];
    steps.extend(frames.into_iter().map(|f| Step::Write(f.into_bytes())));
    steps.extend(tail);
    Reply::Steps(steps)
}

/// Tool-call argument frames carrying `args` in `piece`-byte pieces.
fn tool_frames(args: &str, piece: usize) -> Vec<String> {
    let mut frames = vec![openai_frame(
        r#"{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"lookup","arguments":""}}]}"#,
    )];
    for p in args.as_bytes().chunks(piece) {
        let p = serde_json::Value::String(String::from_utf8_lossy(p).into_owned()).to_string();
        frames.push(openai_frame(&format!(
            r#"{{"tool_calls":[{{"index":0,"function":{{"arguments":{p}}}}}]}}"#
        )));
    }
    frames
}

#[tokio::test]
async fn a_key_echoed_in_streamed_tool_call_arguments_shows_nowhere() {
    let mut frames = tool_frames(&format!("{{\"title\":\"{KEY}\"}}"), 5);
    frames.push(openai_frame(r#"{}"#).replace("null}]", "\"tool_calls\"}]"));
    frames.push("data: [DONE]\n\n".into());
    let server = serve(vec![sse_reply(frames, vec![])]).await;
    let live = run_live(STREAM_TOOL, &server, config()).await;
    assert_eq!(live.summary.outcome, Outcome::Ok, "{:?}", live.summary);
    let args: Vec<&str> = live
        .events
        .iter()
        .filter_map(|e| match &e.event {
            Event::ToolCall(ToolCall { args, .. }) => Some(args.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(args, vec!["{\"title\":\"[redacted]\"}"]);
    // The raw body held the key in pieces: withheld.
    assert_eq!(
        live.exchanges()[0].body,
        "[withheld: the reply carried an API key]"
    );
    assert_no_piece_of(&live, KEY);
}

#[tokio::test]
async fn a_key_in_plain_tool_call_arguments_json_escaped_shows_nowhere() {
    let escaped: String = KEY
        .chars()
        .map(|c| format!("\\\\u{:04x}", c as u32))
        .collect();
    let body = format!(
        r#"{{"id":"c","object":"chat.completion","choices":[{{"index":0,"message":{{"role":"assistant","content":null,"tool_calls":[{{"id":"call_1","type":"function","function":{{"name":"lookup","arguments":"{{\"title\":\"{escaped}\"}}"}}}}]}},"finish_reason":"tool_calls"}}],"usage":{{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}}}"#
    );
    let server = serve(vec![from_request(move |_| {
        format!("HTTP/1.1 200 OK\ncontent-type: application/json\n\n{body}")
    })])
    .await;
    let live = run_live(
        &STREAM_TOOL.replace("stream = true", "stream = false"),
        &server,
        config(),
    )
    .await;
    assert_eq!(live.summary.outcome, Outcome::Ok, "{:?}", live.summary);
    assert_no_piece_of(&live, KEY);
}

#[tokio::test]
async fn a_key_cut_by_the_snippet_or_json_escaped_in_an_error_body_shows_nowhere() {
    let escaped: String = KEY
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let server = serve(vec![
        // Plain text: the message quotes 200 characters, the cut falls inside the key.
        from_request(|r| {
            let pad = "x".repeat(200 - 17);
            format!(
                "HTTP/1.1 500 Internal Server Error\ncontent-type: text/plain\n\n{pad} {}",
                r.key().unwrap()
            )
        }),
        // JSON-escaped in the error message.
        from_request(move |_| {
            format!(
                "HTTP/1.1 401 Unauthorized\ncontent-type: application/json\n\n{{\"error\":{{\"message\":\"Incorrect API key provided: {escaped}\",\"type\":\"invalid_request_error\"}}}}"
            )
        }),
    ])
    .await;
    let source = r#"
name = "echo"
[prompt]
template = "hi"
[call]
provider = "openai"
model = "gpt-4o-mini"
base_url = "{base}/v1"
[retry]
stop = { after_attempt = 2 }
"#;
    let live = run_live(source, &server, config()).await;
    let errors = live.errors();
    assert_eq!(errors.len(), 2);
    assert!(
        // Redacted before the snippet cut it: the message ends with the mark, whole.
        errors[0].message.ends_with("x [redacted]"),
        "{}",
        errors[0].message
    );
    assert!(
        errors[1]
            .message
            .starts_with("Incorrect API key provided: [redacted]"),
        "{}",
        errors[1].message
    );
    assert!(
        live.exchanges()[1].body.contains("provided: [redacted]\""),
        "{}",
        live.exchanges()[1].body
    );
    assert_no_piece_of(&live, KEY);
}

#[tokio::test]
async fn a_stream_that_breaks_inside_a_key_shows_none_of_it() {
    // The text carries most of the key, then the connection drops.
    let frames = vec![
        openai_frame(r#"{"role":"assistant","content":"Your key: "}"#),
        openai_frame(&format!(r#"{{"content":"{}"}}"#, &KEY[..14])),
        openai_frame(&format!(r#"{{"content":"{}"}}"#, &KEY[14..30])),
    ];
    let server = serve(vec![sse_reply(frames, vec![Step::Reset])]).await;
    let live = run_live(
        STREAM_TOOL.split("[[tools]]").next().unwrap(),
        &server,
        config(),
    )
    .await;
    let e = &live.errors()[0];
    assert_eq!(e.kind, ErrorKind::StreamInterrupted, "{e:?}");
    let Some(Event::AttemptFailed(AttemptFailed { partial_output, .. })) = live
        .events
        .iter()
        .map(|e| &e.event)
        .find(|e| matches!(e, Event::AttemptFailed(_)))
    else {
        panic!()
    };
    assert_eq!(partial_output, "Your key: [redacted]");
    assert_no_piece_of(&live, KEY);
}

#[tokio::test]
async fn a_key_with_trailing_whitespace_is_trimmed_sent_bare_and_never_echoed() {
    let server = serve(vec![from_request(|r| {
        format!(
            "HTTP/1.1 401 Unauthorized\ncontent-type: application/json\n\n{{\"error\":{{\"message\":\"bad key {}\",\"type\":\"invalid_request_error\"}}}}",
            r.key().unwrap()
        )
    })])
    .await;
    let cfg = Config::isolated().with_env([("OPENAI_API_KEY", format!("{KEY}  \t"))]);
    let source = r#"
name = "ws"
[prompt]
template = "hi"
[call]
provider = "openai"
model = "gpt-4o-mini"
base_url = "{base}/v1"
"#;
    let live = run_live(source, &server, cfg).await;
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert!(
        live.errors()[0].message.starts_with("bad key [redacted]"),
        "{}",
        live.errors()[0].message
    );
    assert_no_piece_of(&live, KEY);
}

#[test]
fn a_key_holding_a_control_character_is_refused_by_name_never_by_value() {
    let source = r#"
name = "ctl"
[prompt]
template = "hi"
[call]
provider = "openai"
model = "gpt-4o-mini"
"#;
    let bad = format!("{}\u{7}{}", &KEY[..10], &KEY[10..]);
    let cfg = Config::isolated().with_env([("OPENAI_API_KEY", bad.clone())]);
    assert_eq!(
        check(source, &cfg).unwrap_err(),
        "the variable OPENAI_API_KEY holds a control character (character 11 of 39): an API key is printable ASCII; set it again without it"
    );
    let cfg = Config::parse(
        &format!("[keys]\nopenai = \"{}\\u001b{}\"\n", &KEY[..3], &KEY[3..]),
        None,
    );
    let cfg = cfg.with_env(Vec::<(String, String)>::new());
    let msg = check(source, &cfg).unwrap_err();
    assert_eq!(
        msg,
        "[keys].openai in config.toml holds a control character (character 4 of 39): an API key is printable ASCII; set it again without it"
    );
    assert!(!msg.contains("SENTINEL"));
}
