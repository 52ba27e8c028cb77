//! The loop: `select!` over input, the run's events (in batches), async results and a
//! deadline (an animation frame only while something moves; debounced re-parse; autosave).
//! It draws when the state changed, at most one frame per [`MIN_FRAME`], each frame inside a
//! synchronized update. Built on any backend, so tests drive it with a `TestBackend`.

use super::app::{App, AppConfig, Start};
use super::message::Message;
use super::terminal::{SyncUpdates, TerminalGuard};
use crate::event::TimedEvent;
use crossterm::event::{
    Event as TermEvent, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::{Backend, TestBackend};
use std::io;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

/// At most ~60 frames a second: stream chunks are coalesced into frames.
pub const MIN_FRAME: Duration = Duration::from_millis(16);
/// Events taken from the run channel per wake-up.
const BATCH: usize = 1024;

pub struct Playground<B: Backend + SyncUpdates> {
    pub app: App,
    pub terminal: Terminal<B>,
    msgs: UnboundedReceiver<Message>,
    last_frame: Option<Instant>,
    /// Frames drawn, and the slowest one (render + flush).
    pub frames: u64,
    pub slowest_frame: Duration,
}

impl<B> Playground<B>
where
    B: Backend + SyncUpdates,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    pub fn new(backend: B, config: AppConfig, start: Start) -> anyhow::Result<Self> {
        let terminal = Terminal::new(backend)?;
        let (app, msgs) = App::new(config, start);
        Ok(Playground {
            app,
            terminal,
            msgs,
            last_frame: None,
            frames: 0,
            slowest_frame: Duration::ZERO,
        })
    }

    /// Draws one frame now.
    pub fn draw(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        if self.app.needs_clear {
            self.terminal.clear()?;
            self.app.needs_clear = false;
        }
        self.terminal.backend_mut().begin_frame()?;
        let app = &mut self.app;
        self.terminal.draw(|f| app.render(f))?;
        self.terminal.backend_mut().end_frame()?;
        let took = started.elapsed();
        self.slowest_frame = self.slowest_frame.max(took);
        self.frames += 1;
        self.last_frame = Some(Instant::now());
        Ok(())
    }

    /// Runs until the user quits or the input ends.
    pub async fn run<S>(&mut self, mut input: S) -> anyhow::Result<()>
    where
        S: Stream<Item = io::Result<TermEvent>> + Unpin,
    {
        let mut batch: Vec<TimedEvent> = Vec::with_capacity(BATCH);
        loop {
            if self.app.should_quit {
                return Ok(());
            }
            let now = Instant::now();
            let next_frame = self.last_frame.map_or(now, |t| t + MIN_FRAME);
            if self.app.needs_draw && now >= next_frame {
                self.draw()?;
            }
            let mut deadline = self.app.next_deadline();
            if self.app.needs_draw {
                deadline = Some(deadline.map_or(next_frame, |d| d.min(next_frame)));
            }
            tokio::select! {
                biased;
                ev = input.next() => match ev {
                    Some(Ok(e)) => self.app.update(Message::Input(e)),
                    Some(Err(e)) => return Err(e.into()),
                    None => return Ok(()),
                },
                n = recv_events(&mut self.app.run_rx, &mut batch) => {
                    if n == 0 {
                        self.app.run_rx = None;
                    } else {
                        self.app.update(Message::Engine(std::mem::take(&mut batch)));
                    }
                }
                Some(m) = self.msgs.recv() => self.app.update(m),
                () = sleep_until(deadline) => self.app.update(Message::Tick),
            }
        }
    }

    // ----- driving it from tests -----

    /// A key press, then a frame.
    pub fn press(&mut self, code: KeyCode, mods: KeyModifiers) {
        self.app
            .update(Message::Input(TermEvent::Key(KeyEvent::new(code, mods))));
        self.frame();
    }

    pub fn key(&mut self, code: KeyCode) {
        self.press(code, KeyModifiers::NONE);
    }

    pub fn ctrl(&mut self, c: char) {
        self.press(KeyCode::Char(c), KeyModifiers::CONTROL);
    }

    /// Types text key by key (newlines as Enter).
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            let code = if c == '\n' {
                KeyCode::Enter
            } else {
                KeyCode::Char(c)
            };
            self.app.update(Message::Input(TermEvent::Key(KeyEvent::new(
                code,
                KeyModifiers::NONE,
            ))));
        }
        self.frame();
    }

    pub fn paste(&mut self, text: &str) {
        self.app
            .update(Message::Input(TermEvent::Paste(text.into())));
        self.frame();
    }

    pub fn mouse(&mut self, kind: MouseEventKind, x: u16, y: u16) {
        self.app.update(Message::Input(TermEvent::Mouse(MouseEvent {
            kind,
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        })));
        self.frame();
    }

    pub fn click(&mut self, x: u16, y: u16) {
        self.mouse(MouseEventKind::Down(MouseButton::Left), x, y);
    }

    /// Applies what async work has sent so far, without waiting.
    pub fn pump(&mut self) {
        while let Ok(m) = self.msgs.try_recv() {
            self.app.update(m);
        }
        let mut batch = Vec::new();
        if let Some(rx) = self.app.run_rx.as_mut() {
            while let Ok(ev) = rx.try_recv() {
                batch.push(ev);
            }
        }
        if !batch.is_empty() {
            self.app.update(Message::Engine(batch));
        }
        self.frame();
    }

    /// Lets the debounce timers fire now (re-parse, draft autosave), then draws.
    pub fn settle(&mut self) {
        let frozen = self.app.frozen_time();
        let now = frozen.unwrap_or_else(Instant::now);
        self.app
            .freeze_time(Some(now + Duration::from_millis(1500)));
        self.app.update(Message::Tick);
        self.app.freeze_time(frozen);
        self.frame();
    }

    /// Feeds messages and run events until `done(app)` or `timeout` of wall time.
    pub async fn run_until(&mut self, done: impl Fn(&App) -> bool, timeout: Duration) -> bool {
        let end = tokio::time::Instant::now() + timeout;
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            if done(&self.app) {
                self.frame();
                return true;
            }
            tokio::select! {
                n = recv_events(&mut self.app.run_rx, &mut batch) => {
                    if n == 0 {
                        self.app.run_rx = None;
                    } else {
                        self.app.update(Message::Engine(std::mem::take(&mut batch)));
                    }
                }
                Some(m) = self.msgs.recv() => self.app.update(m),
                () = tokio::time::sleep_until(end) => {
                    self.frame();
                    return false;
                }
            }
        }
    }

    fn frame(&mut self) {
        // Drawing to a test backend cannot fail; a real one reports at the next loop draw.
        let _ = self.draw();
    }
}

impl Playground<TestBackend> {
    /// The screen as text, one line per row, trailing spaces cut (for assertions and insta).
    pub fn screen(&self) -> String {
        let buf = self.terminal.backend().buffer();
        let mut out = String::new();
        for y in 0..buf.area.height {
            let mut line = String::new();
            let mut skip = 0;
            for x in 0..buf.area.width {
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                let sym = buf[(x, y)].symbol();
                line.push_str(sym);
                skip = unicode_width::UnicodeWidthStr::width(sym).saturating_sub(1);
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    pub fn resize(&mut self, w: u16, h: u16) {
        self.terminal.backend_mut().resize(w, h);
        self.app.update(Message::Input(TermEvent::Resize(w, h)));
        self.frame();
    }
}

/// Receives a batch of run events; pends forever when there is no run channel.
async fn recv_events(
    rx: &mut Option<crate::engine::run::EventStream>,
    batch: &mut Vec<TimedEvent>,
) -> usize {
    match rx {
        Some(rx) => rx.recv_many(batch, BATCH).await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

/// SIGTERM and SIGHUP (a closed terminal, `kill`) end the session cleanly: the terminal is
/// restored and unsaved edits stay as the draft.
fn watch_signals(tx: tokio::sync::mpsc::UnboundedSender<Message>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
        let _ = tx.send(Message::Terminate);
    });
    #[cfg(not(unix))]
    drop(tx);
}

/// Timings of one session on the real terminal.
#[derive(Debug, Clone, Copy)]
pub struct SessionStats {
    /// From `started` (process work began) to the first frame on screen.
    pub first_frame: Duration,
    pub frames: u64,
    pub slowest_frame: Duration,
}

/// Runs the playground on the real terminal until the user quits; the terminal is restored
/// on every path (return, error, panic).
pub async fn run_in_terminal(
    config: AppConfig,
    start: Start,
    started: Instant,
) -> anyhow::Result<SessionStats> {
    let guard = TerminalGuard::enter()?;
    let terminal = guard.terminal()?;
    let (app, msgs) = App::new(config, start);
    let mut pg = Playground {
        app,
        terminal,
        msgs,
        last_frame: None,
        frames: 0,
        slowest_frame: Duration::ZERO,
    };
    pg.draw()?;
    let first_frame = started.elapsed();
    watch_signals(pg.app.sender());
    let input = crossterm::event::EventStream::new();
    let result = pg.run(input).await;
    let stats = SessionStats {
        first_frame,
        frames: pg.frames,
        slowest_frame: pg.slowest_frame,
    };
    drop(pg);
    drop(guard);
    result.map(|()| stats)
}
