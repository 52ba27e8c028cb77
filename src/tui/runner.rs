//! The loop: `select!` over input, the run's events (in batches), async results and a
//! deadline (an animation frame only while something moves; debounced re-parse; autosave).
//! It draws when the state changed, at most one frame per [`MIN_FRAME`], each frame inside a
//! synchronized update. Built on any backend, so tests drive it with a `TestBackend`.

use super::app::{App, AppConfig, Start};
use super::message::Message;
use super::terminal::{SyncUpdates, TerminalGuard};
use crate::event::TimedEvent;
use crossterm::event::Event as TermEvent;
#[cfg(any(test, feature = "test-util"))]
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::{Backend, TestBackend};
use ratatui::layout::Rect;
use std::io;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

/// At most ~60 frames a second: stream chunks are coalesced into frames.
pub const MIN_FRAME: Duration = Duration::from_millis(16);
/// Events taken from the run channel per wake-up.
const BATCH: usize = 1024;

/// What a signal asks of the loop (see [`watch_signals`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalAction {
    /// A terminating signal (its number): save the draft, restore the terminal, exit.
    Terminate(i32),
    /// SIGTSTP: give the terminal back, then stop.
    Suspend,
    /// SIGCONT: take the terminal again and repaint everything.
    Continue,
}

pub struct Playground<B: Backend + SyncUpdates> {
    pub app: App,
    pub terminal: Terminal<B>,
    msgs: UnboundedReceiver<Message>,
    signals: Option<UnboundedReceiver<SignalAction>>,
    /// Stops the process after a suspend (SIGSTOP to itself; nothing in tests).
    stop_self: fn(),
    last_frame: Option<Instant>,
    /// Frames drawn, and the slowest one (render + flush).
    pub frames: u64,
    pub slowest_frame: Duration,
    /// The terminating signal that ended the session.
    pub terminated_by: Option<i32>,
    /// Times the terminal was given back and taken again (suspend / continue).
    pub suspends: u64,
    pub resumes: u64,
    /// The last escape sequence written for the terminal itself (OSC 52; tests read it).
    pub last_escape: Option<String>,
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
            signals: None,
            stop_self: || {},
            last_frame: None,
            frames: 0,
            slowest_frame: Duration::ZERO,
            terminated_by: None,
            suspends: 0,
            resumes: 0,
            last_escape: None,
        })
    }

    /// Draws one frame now.
    pub fn draw(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        if self.app.needs_clear {
            self.repaint_all()?;
            self.app.needs_clear = false;
        }
        for seq in self.app.take_terminal_output() {
            self.terminal.backend_mut().write_raw(seq.as_bytes())?;
            self.last_escape = Some(seq);
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

    /// Clears the screen and makes the next frame draw every cell. Never `Terminal::clear`:
    /// it asks the terminal for the cursor position, and while the input stream runs the
    /// answer is swallowed by it (the query fails after 2 s and would end the session).
    /// `resize` to the current size clears and resets the back buffer without asking.
    fn repaint_all(&mut self) -> anyhow::Result<()> {
        let size = self.terminal.size()?;
        self.terminal
            .resize(Rect::new(0, 0, size.width, size.height))?;
        self.app.needs_draw = true;
        Ok(())
    }

    /// Acts on a signal: see [`SignalAction`].
    pub fn on_signal(&mut self, s: SignalAction) -> anyhow::Result<()> {
        match s {
            SignalAction::Terminate(n) => {
                self.terminated_by = Some(n);
                self.app.update(Message::Terminate);
            }
            SignalAction::Suspend => {
                // Best effort: a terminal that fails here is no reason not to stop.
                let _ = self.terminal.backend_mut().suspend();
                self.suspends += 1;
                (self.stop_self)();
                // Here again after SIGCONT.
                self.resume()?;
            }
            SignalAction::Continue => self.resume()?,
        }
        Ok(())
    }

    fn resume(&mut self) -> anyhow::Result<()> {
        self.terminal.backend_mut().resume()?;
        self.resumes += 1;
        self.repaint_all()?;
        self.draw()
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
                n = recv_events(self.app.run_rx(), &mut batch) => {
                    if n == 0 {
                        *self.app.run_rx() = None;
                    } else {
                        self.app.update(Message::Engine(std::mem::take(&mut batch)));
                    }
                }
                Some(m) = self.msgs.recv() => self.app.update(m),
                Some(s) = recv_signal(&mut self.signals) => self.on_signal(s)?,
                () = sleep_until(deadline) => self.app.update(Message::Tick),
            }
        }
    }

    // ----- driving it from tests -----

    #[cfg(any(test, feature = "test-util"))]
    /// A key press, then a frame.
    pub fn press(&mut self, code: KeyCode, mods: KeyModifiers) {
        self.app
            .update(Message::Input(TermEvent::Key(KeyEvent::new(code, mods))));
        self.frame();
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn key(&mut self, code: KeyCode) {
        self.press(code, KeyModifiers::NONE);
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn ctrl(&mut self, c: char) {
        self.press(KeyCode::Char(c), KeyModifiers::CONTROL);
    }

    #[cfg(any(test, feature = "test-util"))]
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

    #[cfg(any(test, feature = "test-util"))]
    pub fn paste(&mut self, text: &str) {
        self.app
            .update(Message::Input(TermEvent::Paste(text.into())));
        self.frame();
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn mouse(&mut self, kind: MouseEventKind, x: u16, y: u16) {
        self.app.update(Message::Input(TermEvent::Mouse(MouseEvent {
            kind,
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        })));
        self.frame();
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn click(&mut self, x: u16, y: u16) {
        self.mouse(MouseEventKind::Down(MouseButton::Left), x, y);
    }

    #[cfg(any(test, feature = "test-util"))]
    /// Applies what async work has sent so far, without waiting.
    pub fn pump(&mut self) {
        while let Ok(m) = self.msgs.try_recv() {
            self.app.update(m);
        }
        let mut batch = Vec::new();
        if let Some(rx) = self.app.run_rx().as_mut() {
            while let Ok(ev) = rx.try_recv() {
                batch.push(ev);
            }
        }
        if !batch.is_empty() {
            self.app.update(Message::Engine(batch));
        }
        self.frame();
    }

    #[cfg(any(test, feature = "test-util"))]
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

    #[cfg(any(test, feature = "test-util"))]
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
                n = recv_events(self.app.run_rx(), &mut batch) => {
                    if n == 0 {
                        *self.app.run_rx() = None;
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

    #[cfg(any(test, feature = "test-util"))]
    fn frame(&mut self) {
        // Drawing to a test backend cannot fail; a real one reports at the next loop draw.
        let _ = self.draw();
    }
}

impl Playground<TestBackend> {
    #[cfg(any(test, feature = "test-util"))]
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

    #[cfg(any(test, feature = "test-util"))]
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

async fn recv_signal(rx: &mut Option<UnboundedReceiver<SignalAction>>) -> Option<SignalAction> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

/// Signals whose default action ends the process: each ends the session cleanly instead
/// (draft saved, terminal restored). Ctrl+C, Ctrl+\\ and Ctrl+Z are keys in raw mode, so
/// these come from `kill`, a closed terminal (SIGHUP) or a timer.
#[cfg(unix)]
const TERMINATING: &[i32] = {
    use signal_hook::consts::*;
    &[
        SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU,
    ]
};

/// After a terminating signal the loop has this long to save and leave; then (or at a
/// second signal) the terminal is restored and the process exits anyway (a UI thread stuck
/// in some computation must not keep a dead session on screen).
#[cfg(unix)]
const GRACE: Duration = Duration::from_secs(3);

/// Listens for signals on a thread of its own (not the runtime's: it must work when the
/// UI thread is stuck) and forwards what they ask to the loop.
#[cfg(unix)]
fn watch_signals(tx: tokio::sync::mpsc::UnboundedSender<SignalAction>) -> io::Result<()> {
    use signal_hook::consts::{SIGCONT, SIGTSTP, SIGXFSZ};
    let mut all = TERMINATING.to_vec();
    // SIGXFSZ (a trace past the file size limit) is caught only so that it does not kill
    // the process: the write then fails with EFBIG and shows as a trace notice.
    all.extend([SIGTSTP, SIGCONT, SIGXFSZ]);
    let mut signals = signal_hook::iterator::Signals::new(&all)?;
    std::thread::Builder::new()
        .name("retrylab-signals".into())
        .spawn(move || {
            let mut terminating = false;
            for n in signals.forever() {
                let action = match n {
                    SIGTSTP => SignalAction::Suspend,
                    SIGCONT => SignalAction::Continue,
                    SIGXFSZ => continue,
                    n if terminating => exit_now(n),
                    n => {
                        terminating = true;
                        std::thread::spawn(move || {
                            std::thread::sleep(GRACE);
                            exit_now(n);
                        });
                        SignalAction::Terminate(n)
                    }
                };
                if tx.send(action).is_err() {
                    return;
                }
            }
        })?;
    Ok(())
}

#[cfg(unix)]
fn exit_now(signal: i32) -> ! {
    super::terminal::restore();
    std::process::exit(128 + signal)
}

/// SIGSTOP to ourselves: cannot be caught, and unlike SIGTSTP it stops an orphaned
/// process group too (a shell without job control).
#[cfg(unix)]
fn stop_self() {
    let _ = signal_hook::low_level::raise(signal_hook::consts::SIGSTOP);
}

/// Timings of one session on the real terminal.
#[derive(Debug, Clone, Copy)]
pub struct SessionStats {
    /// From `started` (process work began) to the first frame on screen.
    pub first_frame: Duration,
    pub frames: u64,
    pub slowest_frame: Duration,
    /// The terminating signal that ended it, if one did (exit code 128 + it).
    pub signal: Option<i32>,
}

/// Runs the playground on the real terminal until the user quits; the terminal is restored
/// on every path (return, error, panic).
pub async fn run_in_terminal(
    config: AppConfig,
    start: Start,
    started: Instant,
) -> anyhow::Result<SessionStats> {
    // Listening first: a signal that comes while the terminal is being set up still finds
    // a handler, and waits in the channel for the loop.
    let (sig_tx, sig_rx) = tokio::sync::mpsc::unbounded_channel();
    #[cfg(unix)]
    watch_signals(sig_tx)?;
    #[cfg(not(unix))]
    drop(sig_tx);
    let guard = TerminalGuard::enter()?;
    let backend = ratatui::backend::CrosstermBackend::new(io::stdout());
    let mut pg = Playground::new(backend, config, start)?;
    pg.signals = Some(sig_rx);
    #[cfg(unix)]
    {
        pg.stop_self = stop_self;
    }
    pg.draw()?;
    let first_frame = started.elapsed();
    let input = crossterm::event::EventStream::new();
    let result = pg.run(input).await;
    let stats = SessionStats {
        first_frame,
        frames: pg.frames,
        slowest_frame: pg.slowest_frame,
        signal: pg.terminated_by,
    };
    drop(pg);
    drop(guard);
    result.map(|()| stats)
}
