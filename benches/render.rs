//! Rendering speed of the playground on ratatui's TestBackend (DESIGN §9, issue 3):
//! - one full frame at 200x50 with 10,000 lines of output in the Output pane (< 2 ms);
//! - a frame while that output keeps streaming (a delta per frame);
//! - startup to the first frame (App built from the default scenario + first draw; < 100 ms);
//! - a 1 MB streamed answer while typing in an editor: the slowest frame (< 16 ms);
//! - the Lab view's finished frame at 100x32 (three policies: CDFs, histogram, table).

use criterion::Criterion;
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use retrylab::event::{AttemptStarted, Delta, Event, Mode, RunStarted, TimedEvent};
use retrylab::tui::app::{AppConfig, Origin, Start};
use retrylab::tui::message::Message;
use retrylab::tui::panes::PaneId;
use retrylab::tui::runner::Playground;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn start() -> Start {
    let b = retrylab::scenario::builtin::find(retrylab::scenario::builtin::DEFAULT)
        .expect("the default built-in");
    Start::Scenario {
        text: b.source.to_string(),
        origin: Origin::Builtin(b.name.to_string()),
    }
}

fn ev(t_ms: u64, event: Event) -> TimedEvent {
    TimedEvent { t_ms, event }
}

fn delta(text: String) -> TimedEvent {
    ev(
        10,
        Event::Delta(Delta {
            hop: 0,
            attempt: 1,
            text,
        }),
    )
}

/// A playground mid-stream: one running attempt whose output already holds `lines` lines.
fn streaming(dir: &std::path::Path, w: u16, h: u16, lines: usize) -> Playground<TestBackend> {
    let mut pg = Playground::new(TestBackend::new(w, h), AppConfig::isolated(dir), start())
        .expect("playground");
    pg.app.begin_external_run();
    let mut events = vec![
        ev(
            0,
            Event::RunStarted(RunStarted {
                scenario: "bench".into(),
                mode: Mode::Sim,
                speed: "1x".into(),
            }),
        ),
        ev(
            0,
            Event::AttemptStarted(AttemptStarted {
                hop: 0,
                attempt: 1,
                provider: "openai".into(),
                model: "gpt-4o-mini".into(),
                request: serde_json::json!({"messages": [{"role": "user", "content": "go"}]}),
                prompt: None,
                url: String::new(),
                headers: vec![],
                deadline_clip: None,
            }),
        ),
    ];
    events.extend((0..lines).map(|i| {
        delta(format!(
            "line {i}: the quick brown fox jumps over the lazy dog, again and again, {i}\n"
        ))
    }));
    pg.app.update(Message::Engine(events));
    pg.app.set_focus(PaneId::Output);
    pg.draw().expect("draw");
    pg
}

fn bench_frames(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pg = streaming(dir.path(), 200, 50, 10_000);
    c.bench_function("frame 200x50, 10k lines of output", |b| {
        b.iter(|| pg.draw().expect("draw"))
    });
    let mut n = 0u64;
    c.bench_function("frame 200x50, 10k lines, a delta per frame", |b| {
        b.iter(|| {
            n += 1;
            pg.app
                .update(Message::Engine(vec![delta(format!("more text {n} "))]));
            pg.draw().expect("draw");
        })
    });
}

/// The Lab view with three policies' results (`tui::lab::fixtures`), redrawn whole each time.
fn bench_lab_view(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pg = Playground::new(
        TestBackend::new(100, 32),
        AppConfig::isolated(dir.path()),
        start(),
    )
    .expect("playground");
    let id = pg.app.begin_lab_by_hand().expect("the form is valid");
    let report = Box::new(retrylab::tui::lab::fixtures::three_policies(false));
    pg.app
        .update(Message::Lab(retrylab::tui::lab::LabMsg::Done {
            id,
            report,
        }));
    c.bench_function("frame 100x32, the Lab view with three policies", |b| {
        b.iter(|| {
            pg.app.update(Message::Input(TermEvent::Resize(100, 32)));
            pg.draw().expect("draw")
        })
    });
}

fn bench_startup(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    c.bench_function("startup to first frame (200x50)", |b| {
        b.iter(|| {
            let mut pg = Playground::new(
                TestBackend::new(200, 50),
                AppConfig::isolated(dir.path()),
                start(),
            )
            .expect("playground");
            pg.draw().expect("draw");
            black_box(pg.frames)
        })
    });
}

/// Streams 1 MB in 4 KB deltas while typing a key per chunk into the Policy editor, drawing a
/// frame after each; reports the slowest and the mean frame.
fn stream_one_megabyte_while_typing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pg = streaming(dir.path(), 200, 50, 0);
    pg.app.set_focus(PaneId::Policy);
    let chunk: String = "All work and no play makes Jack a dull boy. "
        .repeat(100)
        .chars()
        .take(4096)
        .collect();
    let mut slowest = Duration::ZERO;
    let mut total = Duration::ZERO;
    let mut frames = 0u32;
    let mut sent = 0;
    while sent < 1 << 20 {
        let t = Instant::now();
        pg.app.update(Message::Engine(vec![delta(chunk.clone())]));
        pg.app.update(Message::Input(TermEvent::Key(KeyEvent::new(
            KeyCode::Char('x'),
            KeyModifiers::NONE,
        ))));
        pg.draw().expect("draw");
        let took = t.elapsed();
        slowest = slowest.max(took);
        total += took;
        frames += 1;
        sent += chunk.len();
    }
    println!(
        "1 MB streamed in {frames} frames while typing: slowest frame {:.3} ms, mean {:.3} ms (budget 16 ms)",
        slowest.as_secs_f64() * 1000.0,
        total.as_secs_f64() * 1000.0 / f64::from(frames)
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench_frames(&mut c);
    bench_startup(&mut c);
    bench_lab_view(&mut c);
    c.final_summary();
    stream_one_megabyte_while_typing();
}
