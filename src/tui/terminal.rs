//! Terminal hygiene: raw mode, alternate screen, mouse, bracketed paste — and restoring all
//! of it on every exit path (drop, error, panic).

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute, queue};
use ratatui::backend::{CrosstermBackend, TestBackend};
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};
use std::thread::ThreadId;

/// The terminal is in playground mode, entered from this thread.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static UI_THREAD: Mutex<Option<ThreadId>> = Mutex::new(None);

/// A backend that can bracket a frame in a synchronized update (no tearing, no flicker),
/// and give the terminal back while the process is stopped (Ctrl+Z, SIGTSTP).
pub trait SyncUpdates {
    fn begin_frame(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn end_frame(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Before the process stops: cooked mode, main screen, mouse and paste off, cursor on.
    fn suspend(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// After it continues: playground mode again (the caller then repaints everything).
    fn resume(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// An escape sequence for the terminal itself, outside any frame (OSC 52 copy).
    fn write_raw(&mut self, _bytes: &[u8]) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> SyncUpdates for CrosstermBackend<W> {
    fn begin_frame(&mut self) -> io::Result<()> {
        queue!(self, BeginSynchronizedUpdate)
    }
    fn end_frame(&mut self) -> io::Result<()> {
        execute!(self, EndSynchronizedUpdate)
    }
    fn suspend(&mut self) -> io::Result<()> {
        ACTIVE.store(false, Ordering::SeqCst);
        leave(self)
    }
    fn resume(&mut self) -> io::Result<()> {
        enter(self)?;
        ACTIVE.store(true, Ordering::SeqCst);
        Ok(())
    }
    fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.write_all(bytes)?;
        Write::flush(self)
    }
}

/// Playground mode on `out`: raw mode, alternate screen, mouse, bracketed paste.
fn enter(out: &mut impl Write) -> io::Result<()> {
    enable_raw_mode()?;
    execute!(
        out,
        EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste,
        cursor::Hide
    )
}

/// Everything [`enter`] did, undone; every step is tried even when one fails.
fn leave(out: &mut impl Write) -> io::Result<()> {
    let raw = disable_raw_mode();
    let screen = execute!(
        out,
        EndSynchronizedUpdate,
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        cursor::Show
    );
    raw.and(screen)
}

impl SyncUpdates for TestBackend {}

/// Puts the terminal back as it was. Safe to call more than once.
pub fn restore() {
    let _ = leave(&mut io::stdout());
}

/// Chains a panic hook that restores the terminal before the default report — for a panic
/// of the UI thread only: a panicking engine task is caught by tokio and reported in the UI,
/// which must keep its terminal.
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let ui = UI_THREAD
                .lock()
                .map(|t| *t == Some(std::thread::current().id()))
                .unwrap_or(true);
            if ACTIVE.load(Ordering::SeqCst) && ui {
                ACTIVE.store(false, Ordering::SeqCst);
                restore();
            }
            previous(info);
        }));
    });
}

/// Raw mode, alternate screen, mouse and bracketed paste while it lives; restored on drop.
pub struct TerminalGuard(());

impl TerminalGuard {
    pub fn enter() -> io::Result<TerminalGuard> {
        install_panic_hook();
        if let Ok(mut t) = UI_THREAD.lock() {
            *t = Some(std::thread::current().id());
        }
        ACTIVE.store(true, Ordering::SeqCst);
        if let Err(e) = enter(&mut io::stdout()) {
            ACTIVE.store(false, Ordering::SeqCst);
            restore();
            return Err(e);
        }
        Ok(TerminalGuard(()))
    }

    #[cfg(any(test, feature = "test-util"))]
    /// The ratatui terminal on stdout.
    pub fn terminal(&self) -> io::Result<ratatui::Terminal<CrosstermBackend<io::Stdout>>> {
        ratatui::Terminal::new(CrosstermBackend::new(io::stdout()))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ACTIVE.store(false, Ordering::SeqCst);
        restore();
    }
}
