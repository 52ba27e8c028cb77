//! Robustness of the playground (DESIGN §9): long seeded pseudo-random storms of keys, text,
//! pastes, mouse events and resizes (down to 1x1, up to 250x70) while runs go on, in and out
//! of the help, picker and quit dialogs; and hostile event streams (what a crafted trace
//! replays). Every frame must render without a panic, no control character may reach the
//! screen, and cancel must always end a run.
//!
//! Deterministic: fixed seeds, `ChaCha8Rng`. Everything the App writes goes to a temp dir.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use crossterm::event::{
    Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers, MediaKeyCode,
    ModifierKeyCode, MouseButton, MouseEvent, MouseEventKind,
};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ratatui::backend::TestBackend;
use retrylab::clock::Speed;
use retrylab::event::{Mode, TimedEvent};
use retrylab::tui::app::{App, AppConfig, Origin, Start};
use retrylab::tui::message::Message;
use retrylab::tui::panes::PaneId;
use retrylab::tui::runner::Playground;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

// ----- panics anywhere (spawned engine tasks too) are counted -----

fn count_panics() {
    crate::support::panics::count();
}

fn assert_no_panics(what: &str) {
    assert_eq!(
        crate::support::panics::so_far(),
        0,
        "a panic happened during {what} (see stderr)"
    );
}

// ----- the harness -----

fn builtin(name: &str) -> Start {
    let b = retrylab::scenario::builtin::find(name).expect("a built-in");
    Start::Scenario {
        text: b.source.to_string(),
        origin: Origin::Builtin(b.name.to_string()),
    }
}

fn new_pg(
    dir: &std::path::Path,
    speed: Speed,
    start: Start,
    w: u16,
    h: u16,
) -> Playground<TestBackend> {
    let mut config = AppConfig::isolated(dir);
    config.speed = speed;
    let mut pg = Playground::new(TestBackend::new(w, h), config, start).expect("playground");
    draw_checked(&mut pg, "the first frame");
    pg
}

/// Draws one frame, which must succeed, and checks no control character reached a cell
/// (an ESC or CR on screen would break the real terminal).
fn draw_checked(pg: &mut Playground<TestBackend>, what: &str) {
    if let Err(e) = pg.draw() {
        panic!("frame failed after {what}: {e}");
    }
    let buf = pg.terminal.backend().buffer();
    for cell in &buf.content {
        assert!(
            !cell.symbol().chars().any(char::is_control),
            "a control character reached the screen after {what}: {:?}",
            cell.symbol()
        );
    }
}

/// Live mode would make real calls: the storm never runs live (F2 is still pressed).
fn stay_sim(pg: &mut Playground<TestBackend>) {
    if pg.app.mode() == Mode::Live {
        pg.app.update(Message::Input(TermEvent::Key(KeyEvent::new(
            KeyCode::F(2),
            KeyModifiers::NONE,
        ))));
        assert_eq!(pg.app.mode(), Mode::Sim);
    }
}

const SIZES: &[(u16, u16)] = &[
    (1, 1),
    (0, 0),
    (1, 0),
    (20, 5),
    (59, 15),
    (60, 16),
    (61, 17),
    (80, 24),
    (120, 40),
    (200, 60),
    (250, 70),
];

const SPECIAL_KEYS: &[KeyCode] = &[
    KeyCode::Backspace,
    KeyCode::Enter,
    KeyCode::Left,
    KeyCode::Right,
    KeyCode::Up,
    KeyCode::Down,
    KeyCode::Home,
    KeyCode::End,
    KeyCode::PageUp,
    KeyCode::PageDown,
    KeyCode::Tab,
    KeyCode::BackTab,
    KeyCode::Delete,
    KeyCode::Insert,
    KeyCode::Null,
    KeyCode::Esc,
    KeyCode::CapsLock,
    KeyCode::ScrollLock,
    KeyCode::NumLock,
    KeyCode::PrintScreen,
    KeyCode::Pause,
    KeyCode::Menu,
    KeyCode::KeypadBegin,
    KeyCode::Media(MediaKeyCode::Play),
    KeyCode::Modifier(ModifierKeyCode::LeftShift),
];

/// Characters typed: ASCII, TOML syntax, wide, emoji (with ZWJ), combining, RTL override,
/// zero-width, BOM, and control characters a terminal may still report as `Char`.
const CHARS: &[char] = &[
    'a', 'z', 'Q', '0', '9', ' ', '=', '"', '\'', '[', ']', '{', '}', ',', '.', '#', '\\', '-',
    '_', 'r', 'q', 's', 'd', 'o', '日', '本', '語', '😀', '👍', '\u{200D}', '\u{301}', '\u{202E}',
    '\u{200B}', '\u{FEFF}', '\u{7}', '\u{1b}', '\u{0}', '\t', '\r', '\u{7f}', '\u{85}', '\u{2028}',
];

const MODS: &[KeyModifiers] = &[
    KeyModifiers::NONE,
    KeyModifiers::NONE,
    KeyModifiers::NONE,
    KeyModifiers::SHIFT,
    KeyModifiers::CONTROL,
    KeyModifiers::CONTROL,
    KeyModifiers::ALT,
    KeyModifiers::SUPER,
    KeyModifiers::META,
    KeyModifiers::HYPER,
];

fn random_mods(rng: &mut ChaCha8Rng) -> KeyModifiers {
    let mut m = *MODS.choose(rng).unwrap();
    if rng.random_bool(0.1) {
        m |= *MODS.choose(rng).unwrap();
    }
    m
}

fn random_key(rng: &mut ChaCha8Rng) -> KeyEvent {
    let code = match rng.random_range(0..10) {
        0..=2 => KeyCode::F(rng.random_range(1..=12)),
        3 => KeyCode::F(*[0u8, 13, 20, 24, 255].choose(rng).unwrap()),
        4..=6 => *SPECIAL_KEYS.choose(rng).unwrap(),
        _ => KeyCode::Char(*CHARS.choose(rng).unwrap()),
    };
    let mut k = KeyEvent::new(code, random_mods(rng));
    // Repeats and releases (kitty protocol) must be ignored, not acted on twice.
    if rng.random_bool(0.05) {
        k.kind = *[KeyEventKind::Release, KeyEventKind::Repeat]
            .choose(rng)
            .unwrap();
    }
    if rng.random_bool(0.02) {
        k.state = KeyEventState::CAPS_LOCK | KeyEventState::KEYPAD;
    }
    k
}

fn random_text(rng: &mut ChaCha8Rng, max: usize) -> String {
    let n = rng.random_range(0..=max);
    (0..n).map(|_| *CHARS.choose(rng).unwrap()).collect()
}

/// Paste payloads: large, weird, binary-looking, one endless line, TOML that parses.
fn random_paste(rng: &mut ChaCha8Rng) -> String {
    match rng.random_range(0..8) {
        0 => {
            // ~200 KB of lines.
            let mut s = String::new();
            while s.len() < 200_000 {
                s.push_str(&random_text(rng, 60));
                s.push('\n');
            }
            s
        }
        1 => "x".repeat(rng.random_range(1_000..60_000)),
        2 => "\u{0}\u{1b}[2J\u{1b}]0;title\u{7}\r\n\t\u{8}\u{7f}\r\r\n".repeat(50),
        3 => "👨‍👩‍👧‍👦 e\u{301} 日本語 \u{202E}rtl\u{202C} \u{200B}\u{FEFF}\n".repeat(200),
        4 => "[retry]\nstop = { after_attempt = 999999999 }\nwait = { fixed = \"inf\" }\n".into(),
        5 => "[[sim.faults]]\nfault = \"timeout\"\ntimes = 4294967295\n".into(),
        6 => String::new(),
        _ => random_text(rng, 300),
    }
}

fn random_mouse(rng: &mut ChaCha8Rng, w: u16, h: u16) -> MouseEvent {
    let kinds = [
        MouseEventKind::Down(MouseButton::Left),
        MouseEventKind::Down(MouseButton::Left),
        MouseEventKind::Down(MouseButton::Right),
        MouseEventKind::Down(MouseButton::Middle),
        MouseEventKind::Up(MouseButton::Left),
        MouseEventKind::Drag(MouseButton::Left),
        MouseEventKind::Moved,
        MouseEventKind::ScrollDown,
        MouseEventKind::ScrollDown,
        MouseEventKind::ScrollUp,
        MouseEventKind::ScrollUp,
        MouseEventKind::ScrollLeft,
        MouseEventKind::ScrollRight,
    ];
    // Mostly on screen; sometimes far outside it (terminals do report stale positions).
    let (column, row) = if rng.random_bool(0.9) {
        (rng.random_range(0..w.max(1)), rng.random_range(0..h.max(1)))
    } else {
        (
            rng.random_range(0..=u16::MAX),
            rng.random_range(0..=u16::MAX),
        )
    };
    MouseEvent {
        kind: *kinds.choose(rng).unwrap(),
        column,
        row,
        modifiers: random_mods(rng),
    }
}

fn input(pg: &mut Playground<TestBackend>, ev: TermEvent) {
    pg.app.update(Message::Input(ev));
}

fn press(pg: &mut Playground<TestBackend>, code: KeyCode, mods: KeyModifiers) {
    input(pg, TermEvent::Key(KeyEvent::new(code, mods)));
}

/// Opens a random built-in through Ctrl+O (discarding edits when asked): the storm's typing
/// soon breaks the scenario, and a broken one cannot run.
fn open_builtin_via_picker(pg: &mut Playground<TestBackend>, rng: &mut ChaCha8Rng) {
    for _ in 0..3 {
        if pg.app.overlay_open() {
            press(pg, KeyCode::Esc, KeyModifiers::NONE);
        }
    }
    press(pg, KeyCode::Char('o'), KeyModifiers::CONTROL);
    press(pg, KeyCode::Home, KeyModifiers::NONE);
    for _ in 0..rng.random_range(0..12) {
        press(pg, KeyCode::Down, KeyModifiers::NONE);
    }
    press(pg, KeyCode::Enter, KeyModifiers::NONE);
    press(pg, KeyCode::Char('d'), KeyModifiers::NONE);
}

fn finished(app: &App) -> bool {
    !app.is_running() && app.run_view().finished.is_some()
}

/// Closes any dialog, then Esc cancels; the run must end within a few seconds.
async fn cancel_and_wait(pg: &mut Playground<TestBackend>, what: &str) {
    if !pg.app.is_running() {
        return;
    }
    for _ in 0..3 {
        if !pg.app.overlay_open() {
            break;
        }
        press(pg, KeyCode::Esc, KeyModifiers::NONE);
    }
    assert!(!pg.app.overlay_open(), "Esc closes every dialog ({what})");
    press(pg, KeyCode::Esc, KeyModifiers::NONE);
    let ok = pg.run_until(finished, Duration::from_secs(10)).await;
    assert!(ok, "Esc did not end the run ({what}):\n{}", pg.screen());
    draw_checked(pg, what);
}

struct Stats {
    ops: usize,
    frames: usize,
    runs: usize,
    quits: usize,
    resizes: usize,
    pastes: usize,
    mouse: usize,
    while_running: usize,
    in_dialog: usize,
}

/// One seeded storm of `ops` operations on one playground.
async fn storm(seed: u64, ops: usize, stats: &mut Stats) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<&str> = retrylab::scenario::builtin::all()
        .iter()
        .map(|b| b.name)
        .collect();
    let start_name = names[seed as usize % names.len()];
    let speed = match seed % 3 {
        0 => Speed::Max,
        1 => Speed::Times(100.0),
        _ => Speed::Times(10.0),
    };
    let (mut w, mut h) = (120, 40);
    let mut pg = new_pg(dir.path(), speed, builtin(start_name), w, h);
    for i in 0..ops {
        let what = format!("seed {seed} op {i}");
        let roll = rng.random_range(0..100);
        match roll {
            0..=39 => input(&mut pg, TermEvent::Key(random_key(&mut rng))),
            40..=49 => {
                for c in random_text(&mut rng, 12).chars() {
                    let code = if c == '\n' {
                        KeyCode::Enter
                    } else {
                        KeyCode::Char(c)
                    };
                    press(&mut pg, code, KeyModifiers::NONE);
                }
            }
            50..=51 => {
                stats.pastes += 1;
                let text = random_paste(&mut rng);
                input(&mut pg, TermEvent::Paste(text));
            }
            52..=63 => {
                stats.mouse += 1;
                let m = random_mouse(&mut rng, w, h);
                input(&mut pg, TermEvent::Mouse(m));
            }
            64..=68 => {
                stats.resizes += 1;
                (w, h) = if rng.random_bool(0.7) {
                    *SIZES.choose(&mut rng).unwrap()
                } else {
                    (rng.random_range(0..=260), rng.random_range(0..=80))
                };
                pg.terminal.backend_mut().resize(w, h);
                input(&mut pg, TermEvent::Resize(w, h));
            }
            69..=75 => {
                // Runs: start one (F5 / Ctrl+R), cycle the speed, or cancel.
                let (code, mods) = *[
                    (KeyCode::F(5), KeyModifiers::NONE),
                    (KeyCode::F(5), KeyModifiers::NONE),
                    (KeyCode::Char('r'), KeyModifiers::CONTROL),
                    (KeyCode::F(3), KeyModifiers::NONE),
                    (KeyCode::Esc, KeyModifiers::NONE),
                ]
                .choose(&mut rng)
                .unwrap();
                stay_sim(&mut pg);
                if pg.app.parse_error().is_some() && rng.random_bool(0.8) {
                    open_builtin_via_picker(&mut pg, &mut rng);
                }
                let was = pg.app.is_running();
                press(&mut pg, code, mods);
                if !was && pg.app.is_running() {
                    stats.runs += 1;
                }
            }
            76..=81 => {
                // Dialogs: help, picker, quit (with unsaved edits it asks).
                let (code, mods) = *[
                    (KeyCode::F(1), KeyModifiers::NONE),
                    (KeyCode::Char('o'), KeyModifiers::CONTROL),
                    (KeyCode::Char('q'), KeyModifiers::CONTROL),
                    (KeyCode::Char('s'), KeyModifiers::CONTROL),
                ]
                .choose(&mut rng)
                .unwrap();
                press(&mut pg, code, mods);
            }
            82..=91 => {
                // Let the run make progress, then take what it sent.
                tokio::time::sleep(Duration::from_millis(rng.random_range(0..3))).await;
                pg.pump();
            }
            92..=94 => pg.settle(),
            95..=96 => pg.app.update(Message::Tick),
            97 => input(&mut pg, TermEvent::FocusLost),
            98 => {
                // Focus a pane directly, as a click would.
                let p = *PaneId::ALL.choose(&mut rng).unwrap();
                pg.app.set_focus(p);
            }
            _ => {
                // Hands off the keyboard for a moment: the run goes on.
                let _ = pg
                    .run_until(|_| false, Duration::from_millis(rng.random_range(1..20)))
                    .await;
            }
        }
        stay_sim(&mut pg);
        // The loop draws at most every 16 ms: several events (a resize, then a click on the
        // old layout) often come between two frames.
        if rng.random_bool(0.7) {
            draw_checked(&mut pg, &what);
            stats.frames += 1;
        }
        stats.ops += 1;
        stats.while_running += usize::from(pg.app.is_running());
        stats.in_dialog += usize::from(pg.app.overlay_open());
        if pg.app.should_quit {
            // Ctrl+Q took: a fresh session goes on (the old one's run is cancelled by quit).
            stats.quits += 1;
            let name = *names.choose(&mut rng).unwrap();
            pg = new_pg(dir.path(), speed, builtin(name), w, h);
        }
        assert_no_panics(&what);
    }
    // Cancel always works, whatever state the storm left.
    stay_sim(&mut pg);
    if !pg.app.is_running() {
        press(&mut pg, KeyCode::Esc, KeyModifiers::NONE);
        press(&mut pg, KeyCode::Esc, KeyModifiers::NONE);
        press(&mut pg, KeyCode::F(5), KeyModifiers::NONE);
    }
    cancel_and_wait(&mut pg, &format!("seed {seed} end")).await;
    assert_no_panics(&format!("seed {seed}"));
}

const SEEDS: &[u64] = &[1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_mouse_paste_resize_storms_never_panic_and_every_frame_renders() {
    count_panics();
    let started = Instant::now();
    let mut stats = Stats {
        ops: 0,
        frames: 0,
        runs: 0,
        quits: 0,
        resizes: 0,
        pastes: 0,
        mouse: 0,
        while_running: 0,
        in_dialog: 0,
    };
    for &seed in SEEDS {
        storm(seed, 700, &mut stats).await;
    }
    eprintln!(
        "storms: {} ops ({} while a run went on, {} in a dialog), {} frames, {} runs started, {} quits, {} resizes, {} pastes, {} mouse events in {:?}",
        stats.ops,
        stats.while_running,
        stats.in_dialog,
        stats.frames,
        stats.runs,
        stats.quits,
        stats.resizes,
        stats.pastes,
        stats.mouse,
        started.elapsed()
    );
    assert!(stats.runs >= SEEDS.len(), "the storms did run scenarios");
    assert!(stats.resizes > 100 && stats.pastes > 50 && stats.mouse > 500);
}

// ----- hostile event streams (what a crafted trace replays) -----

const KINDS: &[&str] = &[
    "rate_limit",
    "overloaded",
    "server_error",
    "timeout",
    "connection",
    "stream_interrupted",
    "auth",
    "bad_request",
    "context_length",
    "content_filter",
    "validation",
    "tool_validation",
    "retry_error",
    "fallback_error",
    "any",
];

fn weird_string(rng: &mut ChaCha8Rng) -> String {
    match rng.random_range(0..10) {
        0 => String::new(),
        1 => "word ".repeat(rng.random_range(1..4000)),
        2 => "\u{1b}[31mred\u{1b}[0m\r\n\t\u{0}\u{7}\u{8}bell\r".into(),
        3 => "👨‍👩‍👧‍👦日本語e\u{301}\u{202E}\u{200B}\u{FEFF}".repeat(rng.random_range(1..50)),
        4 => "\n".repeat(rng.random_range(1..500)),
        5 => "y".repeat(rng.random_range(1..30_000)),
        6 => "\r".repeat(rng.random_range(1..50)),
        _ => random_text(rng, 40),
    }
}

fn big_u64(rng: &mut ChaCha8Rng) -> u64 {
    *[
        0,
        1,
        999,
        4_000,
        60_000,
        u64::from(u32::MAX),
        u64::MAX / 2,
        u64::MAX - 1,
        u64::MAX,
    ]
    .choose(rng)
    .unwrap()
}

fn some_u64(rng: &mut ChaCha8Rng) -> u64 {
    if rng.random_bool(0.2) {
        big_u64(rng)
    } else {
        rng.random_range(0..10_000)
    }
}

fn small_u32(rng: &mut ChaCha8Rng) -> u32 {
    if rng.random_bool(0.1) {
        *[0, u32::MAX, u32::MAX - 1, 1000].choose(rng).unwrap()
    } else {
        rng.random_range(0..4)
    }
}

fn nested(depth: usize) -> Value {
    let mut v = json!("deep");
    for i in 0..depth {
        v = if i % 2 == 0 {
            json!([v])
        } else {
            json!({ "k": v })
        };
    }
    v
}

fn random_json(rng: &mut ChaCha8Rng) -> Value {
    match rng.random_range(0..7) {
        0 => Value::Null,
        1 => nested(rng.random_range(1..120)),
        2 => json!({"model": weird_string(rng), "messages": [
            {"role": "user", "content": weird_string(rng)},
            {"role": weird_string(rng), "content": [{"type": "text", "text": weird_string(rng)}]},
            {"role": "assistant", "content": null, "tool_calls": [{"function": {"arguments": weird_string(rng)}}]},
        ]}),
        3 => json!((0..rng.random_range(0..2000)).collect::<Vec<u32>>()),
        4 => json!({"messages": "not a list", "system": 5}),
        5 => json!(1e308),
        _ => json!(weird_string(rng)),
    }
}

fn random_error(rng: &mut ChaCha8Rng, depth: u32) -> Value {
    let mut e = json!({
        "kind": *KINDS.choose(rng).unwrap(),
        "message": weird_string(rng),
    });
    if rng.random_bool(0.5) {
        e["status"] = json!(*[0u16, 200, 429, 529, 999, u16::MAX].choose(rng).unwrap());
    }
    if rng.random_bool(0.3) {
        e["retry_after_ms"] = json!(big_u64(rng));
    }
    if rng.random_bool(0.3) {
        e["provider_type"] = json!(weird_string(rng));
    }
    if rng.random_bool(0.3) {
        e["request_id"] = json!(weird_string(rng));
    }
    if depth < 6 && rng.random_bool(0.3) {
        e["last_error"] = random_error(rng, depth + 1);
    }
    if depth < 3 && rng.random_bool(0.2) {
        let n = rng.random_range(0..5);
        e["errors"] = json!(
            (0..n)
                .map(|_| random_error(rng, depth + 1))
                .collect::<Vec<_>>()
        );
    }
    e
}

fn random_exchange(rng: &mut ChaCha8Rng) -> Value {
    let headers: Vec<(String, String)> = (0..rng.random_range(0..20))
        .map(|_| (weird_string(rng), weird_string(rng)))
        .collect();
    json!({
        "url": weird_string(rng),
        "status": *[0u16, 200, 429, 500, u16::MAX].choose(rng).unwrap(),
        "headers": headers,
        "body": weird_string(rng),
    })
}

fn cost(rng: &mut ChaCha8Rng) -> Value {
    json!(
        *[0.0f64, -1.0, 1e-300, 0.000147, 1e308, 12345.678]
            .choose(rng)
            .unwrap()
    )
}

fn target(rng: &mut ChaCha8Rng) -> Value {
    json!({"provider": weird_string(rng), "model": weird_string(rng)})
}

/// One random event; `t` moves mostly forward, sometimes backwards or to the extremes.
fn random_event(rng: &mut ChaCha8Rng, t: &mut u64) -> TimedEvent {
    *t = match rng.random_range(0..20) {
        0 => big_u64(rng),
        1 => t.saturating_sub(rng.random_range(0..5_000)),
        _ => t.saturating_add(rng.random_range(0..2_000)),
    };
    let hop = small_u32(rng);
    let attempt = small_u32(rng);
    let mut v = match rng.random_range(0..24) {
        0 => json!({"event": "run_started", "scenario": weird_string(rng),
                    "mode": *["sim", "live"].choose(rng).unwrap(), "speed": weird_string(rng)}),
        1..=4 => json!({"event": "attempt_started", "hop": hop, "attempt": attempt,
                    "provider": weird_string(rng), "model": weird_string(rng),
                    "request": random_json(rng), "prompt": weird_string(rng)}),
        5..=10 => {
            json!({"event": "delta", "hop": hop, "attempt": attempt, "text": weird_string(rng)})
        }
        11 => {
            json!({"event": "tool_call", "hop": hop, "attempt": attempt, "name": weird_string(rng),
                    "args": weird_string(rng), "result": weird_string(rng)})
        }
        12..=13 => json!({"event": "attempt_failed", "hop": hop, "attempt": attempt,
                    "error": random_error(rng, 0), "partial_output": weird_string(rng),
                    "will_retry": rng.random_bool(0.5), "latency_ms": some_u64(rng),
                    "why": weird_string(rng), "response": random_exchange(rng), "cost_usd": cost(rng)}),
        14 => json!({"event": "error_reinserted", "hop": hop, "attempt": attempt,
                    "errors": (0..rng.random_range(0..30)).map(|_| weird_string(rng)).collect::<Vec<_>>()}),
        15..=16 => json!({"event": "wait_started", "hop": hop, "attempt": attempt,
                    "delay_ms": some_u64(rng), "strategy": weird_string(rng),
                    "retry_after_ms": some_u64(rng), "computed_ms": some_u64(rng),
                    "source": *["backoff", "retry_after", "", "???"].choose(rng).unwrap()}),
        17 => json!({"event": "wait_finished", "hop": hop, "attempt": attempt}),
        18 => json!({"event": "retry_exhausted", "hop": hop, "attempts": attempt,
                    "last_error": random_error(rng, 0)}),
        19 => json!({"event": "fallback_hop", "hop": hop, "from": target(rng), "to": target(rng),
                    "caught": random_error(rng, 0)}),
        20..=21 => json!({"event": "attempt_succeeded", "hop": hop, "attempt": attempt,
                    "content": weird_string(rng),
                    "usage": {"input_tokens": big_u64(rng), "output_tokens": big_u64(rng)},
                    "latency_ms": some_u64(rng), "response": random_exchange(rng),
                    "tool_calls": [{"id": weird_string(rng), "name": weird_string(rng), "args": weird_string(rng)}],
                    "cost_usd": cost(rng)}),
        _ => json!({"event": "run_finished",
                    "outcome": *["ok", "error", "cancelled"].choose(rng).unwrap(),
                    "content": weird_string(rng), "error": random_error(rng, 0),
                    "caught": (0..rng.random_range(0..4)).map(|_| random_error(rng, 0)).collect::<Vec<_>>(),
                    "total_cost_usd": cost(rng)}),
    };
    v["t_ms"] = json!(*t);
    serde_json::from_value(v.clone())
        .unwrap_or_else(|e| panic!("the test built an event the format refuses ({e}): {v}"))
}

/// A plausible run prefix so the hostile events land on real attempts and waits too.
fn plausible_start() -> Vec<TimedEvent> {
    retrylab::tui::run_view::fixtures::mid_wait()
}

const VIEW_KEYS: &[KeyCode] = &[
    KeyCode::Up,
    KeyCode::Down,
    KeyCode::PageUp,
    KeyCode::PageDown,
    KeyCode::Home,
    KeyCode::End,
    KeyCode::Tab,
    KeyCode::BackTab,
];

#[tokio::test]
async fn hostile_event_streams_render_in_every_pane_at_every_size() {
    count_panics();
    let mut events_fed = 0usize;
    let mut frames = 0usize;
    for seed in 0..40u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(1000 + seed);
        let dir = tempfile::tempdir().unwrap();
        let speed = *[Speed::Max, Speed::Times(1.0), Speed::Times(100.0)]
            .choose(&mut rng)
            .unwrap();
        let (mut w, mut h) = (120, 40);
        let mut pg = new_pg(dir.path(), speed, builtin("fallback-with-retries"), w, h);
        let frozen = Instant::now();
        pg.app.freeze_time(Some(frozen));
        pg.app.begin_external_run();
        pg.app.update(Message::Engine(plausible_start()));
        let mut t = 12;
        for step in 0..150 {
            let what = format!("hostile seed {seed} step {step}");
            let n = rng.random_range(1..8);
            let batch: Vec<TimedEvent> = (0..n).map(|_| random_event(&mut rng, &mut t)).collect();
            events_fed += batch.len();
            pg.app.update(Message::Engine(batch));
            // Move the App's clock (countdowns, spinners), then look around every pane.
            let later = frozen + Duration::from_millis(rng.random_range(0..100_000_000));
            pg.app.freeze_time(Some(later));
            if rng.random_bool(0.1) {
                (w, h) = *SIZES.choose(&mut rng).unwrap();
                pg.terminal.backend_mut().resize(w, h);
                input(&mut pg, TermEvent::Resize(w, h));
            }
            pg.app.set_focus(*PaneId::ALL.choose(&mut rng).unwrap());
            for _ in 0..rng.random_range(0..4) {
                press(
                    &mut pg,
                    *VIEW_KEYS.choose(&mut rng).unwrap(),
                    KeyModifiers::NONE,
                );
            }
            if rng.random_bool(0.3) {
                let m = random_mouse(&mut rng, w, h);
                input(&mut pg, TermEvent::Mouse(m));
            }
            draw_checked(&mut pg, &what);
            frames += 1;
            assert_no_panics(&what);
        }
    }
    eprintln!("hostile events: {events_fed} events, {frames} frames");
    assert!(events_fed > 10_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_traces_replay_to_the_end_and_cancel_mid_gap() {
    count_panics();
    let mut cancelled = 0;
    for seed in 0..12u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(2000 + seed);
        let dir = tempfile::tempdir().unwrap();
        let mut t = 0;
        let mut events: Vec<TimedEvent> = (0..rng.random_range(1..400))
            .map(|_| random_event(&mut rng, &mut t))
            .collect();
        // Written and read back as a trace file, as `retrylab replay` does.
        let path = dir.path().join("hostile.jsonl");
        let text: String = events.iter().map(|e| e.to_json_line() + "\n").collect();
        std::fs::write(&path, text).unwrap();
        events = retrylab::trace::read_trace(&path).unwrap();
        let n = events.len();
        let mut pg = new_pg(
            dir.path(),
            Speed::Max,
            Start::Replay {
                events: events.clone(),
                path: path.clone(),
            },
            *[80, 120, 250].choose(&mut rng).unwrap(),
            *[24, 40, 70].choose(&mut rng).unwrap(),
        );
        assert!(
            pg.run_until(finished, Duration::from_secs(20)).await,
            "replay {seed} did not end"
        );
        let applied = pg.app.run_view().version as usize;
        assert!(
            applied == n || applied == n + 1,
            "every event applied once, plus a closing one when the trace ends open: {applied} of {n}"
        );
        for _ in 0..30 {
            press(
                &mut pg,
                *VIEW_KEYS.choose(&mut rng).unwrap(),
                KeyModifiers::NONE,
            );
            draw_checked(&mut pg, &format!("replay {seed}"));
        }
        // At 1x, a trace whose times jump by hours: Esc ends it at once.
        let mut pg = new_pg(
            dir.path(),
            Speed::Times(1.0),
            Start::Replay {
                events: events.clone(),
                path,
            },
            120,
            40,
        );
        let _ = pg.run_until(|_| false, Duration::from_millis(20)).await;
        if pg.app.is_running() {
            cancel_and_wait(&mut pg, &format!("replay {seed} at 1x")).await;
            assert!(pg.app.run_view().finished.is_some());
            cancelled += 1;
        }
        assert_no_panics(&format!("replay {seed}"));
    }
    assert!(
        cancelled >= 6,
        "most 1x replays were still going when Esc came: {cancelled}"
    );
}

/// The real loop (`Playground::run`) over a long scripted input stream: keys, pastes, mouse
/// and resizes arrive faster than frames; it must end cleanly when the input ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_loop_takes_a_fast_random_input_stream() {
    count_panics();
    for seed in [7u64, 77, 777] {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let dir = tempfile::tempdir().unwrap();
        let mut pg = new_pg(dir.path(), Speed::Max, builtin("chaos"), 120, 40);
        let (mut w, mut h) = (120u16, 40u16);
        let mut events: Vec<std::io::Result<TermEvent>> = Vec::new();
        for _ in 0..3000 {
            let ev = match rng.random_range(0..10) {
                0..=5 => {
                    let k = random_key(&mut rng);
                    // No quitting and no live mode here: the loop must run to the input's end.
                    if matches!(k.code, KeyCode::F(2))
                        || (k.code == KeyCode::Char('q')
                            && k.modifiers.contains(KeyModifiers::CONTROL))
                    {
                        continue;
                    }
                    TermEvent::Key(k)
                }
                6 => TermEvent::Paste(random_paste(&mut rng)),
                7 | 8 => TermEvent::Mouse(random_mouse(&mut rng, w, h)),
                _ => {
                    (w, h) = *SIZES.choose(&mut rng).unwrap();
                    TermEvent::Resize(w, h)
                }
            };
            events.push(Ok(ev));
        }
        let input = futures::stream::iter(events);
        let result = tokio::time::timeout(Duration::from_secs(30), pg.run(input)).await;
        assert!(
            result.is_ok(),
            "seed {seed}: the loop did not end with its input"
        );
        result
            .unwrap()
            .unwrap_or_else(|e| panic!("seed {seed}: the loop failed: {e}"));
        assert!(pg.frames > 1, "seed {seed}: frames were drawn");
        draw_checked(&mut pg, &format!("run loop seed {seed}"));
        assert_no_panics(&format!("run loop seed {seed}"));
    }
}

/// A trace is a file the user points `replay` at: mangled traces are read back or refused
/// with the line that is wrong, never a panic.
#[test]
fn mangled_trace_files_are_refused_with_their_line() {
    let mut rng = ChaCha8Rng::seed_from_u64(3000);
    let dir = tempfile::tempdir().unwrap();
    let good: String = retrylab::tui::run_view::fixtures::full_fallback()
        .iter()
        .map(|e| e.to_json_line() + "\n")
        .collect();
    let (mut read, mut refused) = (0, 0);
    for case in 0..1_500 {
        let mut bytes = good.clone().into_bytes();
        for _ in 0..rng.random_range(1..4) {
            match rng.random_range(0..4) {
                0 => bytes.truncate(rng.random_range(0..=bytes.len())),
                1 if !bytes.is_empty() => {
                    let i = rng.random_range(0..bytes.len());
                    bytes[i] = rng.random();
                }
                2 => {
                    let i = rng.random_range(0..=bytes.len());
                    let junk: &[u8] =
                        [&b"\n"[..], b"{}", b"\xff\xfe", b"{\"t_ms\": -1}", b"null\n"]
                            .choose(&mut rng)
                            .unwrap();
                    bytes.splice(i..i, junk.iter().copied());
                }
                _ => {}
            }
        }
        let path = dir.path().join(format!("t{case}.jsonl"));
        std::fs::write(&path, &bytes).unwrap();
        match retrylab::trace::read_trace(&path) {
            Ok(_) => read += 1,
            Err(e) => {
                refused += 1;
                let msg = e.to_string();
                assert!(msg.contains(&path.display().to_string()), "{msg}");
                if let retrylab::trace::TraceError::Parse { line, .. } = e {
                    let lines = bytes.split(|b| *b == b'\n').count();
                    assert!(line >= 1 && line <= lines, "line {line} of {lines}: {msg}");
                }
                assert!(msg.chars().count() < 1_000, "a {} char message", msg.len());
            }
        }
    }
    eprintln!("traces: {read} read back, {refused} refused");
    assert!(read > 0 && refused > 0);
}
