//! The playground's state and its one `update(Message)`. The App is a router over owned
//! parts: the [`document`] (editors, parse state), the run [`session`], the [`files`] (the
//! only file I/O), the [`dialogs`], the run panes and the look. Keys, paste and the mouse are
//! routed in [`input`]; what a message or an action does across parts is in [`actions`] (runs,
//! settings, quitting), [`edits`] (load, edit, save, drafts), [`exporting`] (F6) and [`opening`]
//! (Ctrl+O, replays of recorded runs); drawing is in [`view`].
//! Async work (runs, replays) is started from here and reports back only through messages.

mod actions;
mod dialogs;
mod document;
mod edits;
mod exporting;
mod files;
pub(crate) use files::REPLAY_MAX_BYTES;
mod input;
mod lab;
mod opening;
mod session;
mod view;
mod whatif;

use super::message::Message;
use super::panes::inspector::InspectorPane;
use super::panes::output::OutputPane;
use super::panes::schedule::SchedulePane;
use super::panes::status::Level;
use super::panes::timeline::TimelinePane;
use super::panes::{Ctx, Pane, PaneId};
use super::persist::Paths;
use super::run_view::RunView;
use super::theme::{Theme, ThemeSet};
use crate::clock::Speed;
use crate::engine::run::EventStream;
use crate::event::{Mode, TimedEvent};
use dialogs::Dialog;
use document::Document;
use files::Files;
use session::Session;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use view::Rects;

/// Below this the screen says "terminal too small" instead of drawing garbage.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;
/// Animation frame period while something moves (a countdown, a spinner).
pub const ANIMATION_FRAME: Duration = Duration::from_millis(50);

/// How the playground starts.
pub struct AppConfig {
    pub paths: Paths,
    pub speed: Speed,
    pub mode: Mode,
    pub no_color: bool,
    /// Theme to start with (`RETRYLAB_THEME`), when it exists.
    pub theme: Option<String>,
    /// Offer back a draft left by a crash.
    pub offer_draft: bool,
    /// A warning to show at start (e.g. a replay that was not read whole).
    pub notice: Option<String>,
    /// Start with the theme and speed chosen last, and remember new choices (`prefs.toml`).
    pub remember: bool,
}

impl AppConfig {
    /// The real user's folders and environment.
    pub fn from_env() -> AppConfig {
        AppConfig {
            paths: Paths::from_env(),
            speed: Speed::Times(1.0),
            mode: Mode::Sim,
            no_color: super::theme::no_color_requested(),
            theme: std::env::var("RETRYLAB_THEME").ok(),
            offer_draft: true,
            notice: None,
            remember: true,
        }
    }

    #[cfg(any(test, feature = "test-util"))]
    /// Everything under `root`, runs at `Speed::Max`, no draft offer (tests).
    pub fn isolated(root: &std::path::Path) -> AppConfig {
        AppConfig {
            paths: Paths::under(root),
            speed: Speed::Max,
            mode: Mode::Sim,
            no_color: false,
            theme: None,
            offer_draft: false,
            notice: None,
            remember: false,
        }
    }
}

/// Where the edited scenario came from (and where Ctrl+S writes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Builtin(String),
    File(PathBuf),
}

impl Origin {
    pub fn label(&self) -> String {
        match self {
            Origin::Builtin(n) => format!("builtin:{n}"),
            Origin::File(p) => p.display().to_string(),
        }
    }

    pub fn from_label(l: &str) -> Origin {
        match l.strip_prefix("builtin:") {
            Some(n) => Origin::Builtin(n.to_string()),
            None => Origin::File(PathBuf::from(l)),
        }
    }
}

pub enum Start {
    /// Edit and run a scenario.
    Scenario { text: String, origin: Origin },
    /// Replay a recorded run.
    Replay {
        events: Vec<TimedEvent>,
        path: PathBuf,
    },
}

struct Notice {
    text: String,
    level: Level,
    until: Instant,
}

/// The panes that show the run and the plan (the editors are the document's).
struct Views {
    timeline: TimelinePane,
    output: OutputPane,
    inspector: InspectorPane,
    schedule: SchedulePane,
}

/// The pane behind an id: an editor of the document, or a run pane.
fn pane_of<'a>(doc: &'a mut Document, views: &'a mut Views, p: PaneId) -> &'a mut dyn Pane {
    match (p.part(), p) {
        (Some(part), _) => doc.editor_mut(part),
        (None, PaneId::Timeline) => &mut views.timeline,
        (None, PaneId::Output) => &mut views.output,
        (None, PaneId::Plan) => &mut views.schedule,
        (None, _) => &mut views.inspector,
    }
}

/// What a pane's context holds besides the theme and the run, copied out before a pane is
/// borrowed.
#[derive(Clone, Copy)]
struct Moment {
    run_now_ms: u64,
    tick: usize,
    selected_row: Option<usize>,
    selected_attempt: Option<usize>,
}

impl Moment {
    fn ctx<'a>(self, theme: &'a Theme, run: &'a RunView, focused: bool) -> Ctx<'a> {
        Ctx {
            theme,
            run,
            focused,
            run_now_ms: self.run_now_ms,
            tick: self.tick,
            selected_row: self.selected_row,
            selected_attempt: self.selected_attempt,
        }
    }
}

pub struct App {
    doc: Document,
    session: Session,
    files: Files,
    dialog: Option<Dialog>,
    /// The Lab view (kept when closed: reopening shows the last comparison).
    lab: crate::tui::lab::LabView,
    /// The Lab view covers the panes.
    lab_open: bool,
    /// A recorded run from the History tab plays over the editors (`q` goes back to them).
    replay_over_editors: bool,
    /// The what-if of the replayed run covers the panes (Esc goes back to the replay).
    whatif: Option<crate::tui::whatif::WhatifView>,
    views: Views,
    focus: PaneId,
    /// The focused pane fills the screen (Ctrl+W / `z`).
    zoomed: bool,
    /// When Ctrl+C found nothing to copy (a second press soon after quits).
    copy_missed: Option<Instant>,
    /// Escape sequences for the terminal itself (OSC 52), written before the next frame.
    terminal_out: Vec<String>,
    themes: ThemeSet,
    theme: Theme,
    notice: Option<Notice>,
    rects: Rects,
    msg_tx: UnboundedSender<Message>,
    started: Instant,
    frozen: Option<Instant>,
    /// Something changed since the last frame.
    pub(crate) needs_draw: bool,
    /// The terminal must be cleared before the next frame (after a resize).
    pub(crate) needs_clear: bool,
    pub should_quit: bool,
}

impl App {
    /// Builds the App; the receiver gets the messages of its async work.
    pub fn new(config: AppConfig, start: Start) -> (App, UnboundedReceiver<Message>) {
        let (msg_tx, msg_rx) = unbounded_channel();
        let mut files = Files::new(config.paths, config.remember);
        let (themes, theme_errors) = files.themes();
        // NO_COLOR, then RETRYLAB_THEME, then the choices remembered from last time.
        let (prefs, prefs_error) = files.load_prefs();
        let chosen = config.theme.as_deref().or(prefs.theme.as_deref());
        let theme = themes.initial(config.no_color, chosen);
        let speed = prefs.speed.unwrap_or(config.speed);
        let now = Instant::now();
        let mut app = App {
            doc: Document::new(),
            session: Session::new(config.mode, speed, now),
            files,
            dialog: None,
            lab: crate::tui::lab::LabView::new(),
            lab_open: false,
            replay_over_editors: false,
            whatif: None,
            views: Views {
                timeline: TimelinePane::new(),
                output: OutputPane::new(),
                inspector: InspectorPane::new(),
                schedule: SchedulePane::default(),
            },
            focus: PaneId::Policy,
            zoomed: false,
            copy_missed: None,
            terminal_out: Vec::new(),
            themes,
            theme,
            notice: None,
            rects: Rects::default(),
            msg_tx,
            started: now,
            frozen: None,
            needs_draw: true,
            needs_clear: false,
            should_quit: false,
        };
        if let Some(e) = theme_errors.first() {
            app.notify(format!("theme ignored: {e}"), Level::Warn);
        }
        if let Some(e) = prefs_error {
            app.notify(e, Level::Warn);
        }
        if let Some(n) = config.notice {
            app.notify(n, Level::Warn);
        }
        match start {
            Start::Scenario { text, origin } => {
                app.load(&text, origin);
                if config.offer_draft {
                    app.offer_drafts();
                }
            }
            Start::Replay { events, path } => {
                // `retrylab replay` plays at the recorded pace, not the speed remembered for
                // runs (F3 still changes it).
                app.session.speed = config.speed;
                app.focus = PaneId::Timeline;
                app.session.replay = Some((Arc::new(events), path));
                app.start_replay();
            }
        }
        (app, msg_rx)
    }

    // ----- the one update -----

    pub fn update(&mut self, msg: Message) {
        match msg {
            Message::Input(ev) => self.on_input(ev),
            Message::Engine(batch) => self.on_events(&batch),
            Message::RunDone { id, trace, problem } => self.on_run_done(id, trace, problem),
            Message::Lab(m) => self.on_lab(m),
            Message::Whatif(m) => self.on_whatif(m),
            Message::Tick => self.on_tick(),
            Message::Terminate => {
                if self.doc.dirty {
                    self.autosave_draft();
                }
                self.quit_now();
            }
        }
    }

    // ----- time -----

    fn now(&self) -> Instant {
        self.frozen.unwrap_or_else(Instant::now)
    }

    #[cfg(any(test, feature = "test-util"))]
    /// Stops the App's clock at `at` (tests: countdowns and spinners hold still).
    pub fn freeze_time(&mut self, at: Option<Instant>) {
        self.frozen = at;
        self.needs_draw = true;
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn frozen_time(&self) -> Option<Instant> {
        self.frozen
    }

    /// When the loop must wake up next without input: animation, re-parse, autosave, notice.
    pub fn next_deadline(&self) -> Option<Instant> {
        let now = self.now();
        let anim = self.is_animating().then(|| now + ANIMATION_FRAME);
        [
            anim,
            self.doc.reparse_due,
            self.doc.draft_due,
            self.notice.as_ref().map(|n| n.until),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// True while a countdown drains or a spinner turns.
    pub fn is_animating(&self) -> bool {
        self.session.is_animating()
    }

    #[cfg(any(test, feature = "test-util"))]
    /// A sender for messages from outside (signals).
    pub fn sender(&self) -> UnboundedSender<Message> {
        self.msg_tx.clone()
    }

    /// The current run's events, for the loop to receive from.
    pub(crate) fn run_rx(&mut self) -> &mut Option<EventStream> {
        &mut self.session.run_rx
    }

    // ----- queries (tests and the runner) -----

    #[cfg(any(test, feature = "test-util"))]
    pub fn run_view(&self) -> &RunView {
        &self.session.run
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn is_running(&self) -> bool {
        self.session.is_running()
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn focus(&self) -> PaneId {
        self.focus
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn is_zoomed(&self) -> bool {
        self.zoomed
    }

    /// The escape sequences for the terminal that wait to be written (the runner takes them).
    pub fn take_terminal_output(&mut self) -> Vec<String> {
        std::mem::take(&mut self.terminal_out)
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn mode(&self) -> Mode {
        self.session.mode
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn speed(&self) -> Speed {
        self.session.speed
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn theme_name(&self) -> &str {
        &self.theme.name
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn is_dirty(&self) -> bool {
        self.doc.dirty
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_ref().map(|n| n.text.as_str())
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn origin(&self) -> &Origin {
        &self.doc.origin
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn scenario_text(&self) -> &str {
        self.doc.text()
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn parse_error(&self) -> Option<&super::panes::schedule::PlacedError> {
        self.doc.parsed.as_ref().err()
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn editor_lines(&self, part: super::split::Part) -> &[String] {
        self.doc.editor(part).lines()
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn editor_cursor(&self, part: super::split::Part) -> (usize, usize) {
        self.doc.editor(part).cursor()
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn overlay_open(&self) -> bool {
        self.dialog.is_some()
    }

    #[cfg(any(test, feature = "test-util"))]
    /// This instance's own draft file, when it has written one (tests, help).
    pub fn draft_path(&self) -> Option<PathBuf> {
        self.files.draft_path()
    }

    // ----- the panes -----

    fn pane_mut(&mut self, p: PaneId) -> &mut dyn Pane {
        pane_of(&mut self.doc, &mut self.views, p)
    }

    /// The context panes act and render in, at `tick`.
    fn moment(&self, now: Instant, tick: usize) -> Moment {
        let selected_row = self.views.timeline.selected();
        Moment {
            run_now_ms: self.session.clock.now_ms(now),
            tick,
            selected_row,
            selected_attempt: selected_row.and_then(|r| self.session.run.attempt_of_row(r)),
        }
    }

    /// Runs `f` on a pane with its context (selection, theme, run).
    fn with_pane<R>(
        &mut self,
        p: PaneId,
        m: Moment,
        f: impl FnOnce(&mut dyn Pane, &Ctx) -> R,
    ) -> R {
        let ctx = m.ctx(&self.theme, &self.session.run, self.focus == p);
        f(pane_of(&mut self.doc, &mut self.views, p), &ctx)
    }

    fn notify(&mut self, text: impl Into<String>, level: Level) {
        let secs = if level == Level::Info { 5 } else { 10 };
        self.notice = Some(Notice {
            text: text.into(),
            level,
            until: self.now() + Duration::from_secs(secs),
        });
        self.needs_draw = true;
    }
}
