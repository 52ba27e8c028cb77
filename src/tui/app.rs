//! The playground's state and its one `update(Message)`. Rendering reads the state; async
//! work (runs, replays) is started from here and reports back only through messages.

use super::keymap::{self, Action, Scope};
use super::message::Message;
use super::panes::editor::{EditorError, EditorPane};
use super::panes::help::HelpOverlay;
use super::panes::inspector::InspectorPane;
use super::panes::output::OutputPane;
use super::panes::overlay::{Confirm, PickItem, Picker};
use super::panes::schedule::{PlacedError, Preview, SchedulePane};
use super::panes::status::{self, Level, StatusInfo};
use super::panes::timeline::TimelinePane;
use super::panes::{Ctx, Pane, PaneId};
use super::persist::{self, DeadDraft, DraftSlot, Paths};
use super::run_view::{RunClock, RunView};
use super::split::{self, Part, Parts};
use super::tasks::{self, RunRequest};
use super::theme::{Meaning, Theme, ThemeSet};
use crate::clock::Speed;
use crate::engine::run::RunOptions;
use crate::engine::run::{EventStream, event_channel};
use crate::event::{Event, Mode, Outcome, RunFinished, TimedEvent};
use crate::policy::schedule::plan;
use crate::scenario::plan::hop_policies;
use crate::scenario::types::Scenario;
use crossterm::event::{
    Event as TermEvent, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::widgets::{Paragraph, Wrap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Below this the screen says "terminal too small" instead of drawing garbage.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;
/// Edits are re-parsed this long after the last keystroke.
const REPARSE_AFTER: Duration = Duration::from_millis(150);
/// The draft is autosaved this long after the last edit.
const DRAFT_AFTER: Duration = Duration::from_millis(1000);
/// Animation frame period while something moves (a countdown, a spinner).
pub const ANIMATION_FRAME: Duration = Duration::from_millis(50);
const SPEEDS: [f64; 3] = [1.0, 10.0, 100.0];
/// The restore dialog lists at most this many drafts (keys 1-9).
const MAX_OFFERED_DRAFTS: usize = 9;

/// The offered draft a key restores: `r` for a lone draft, `1`-`9` in a list.
fn draft_choice(k: char, offered: usize) -> Option<usize> {
    match (k, offered) {
        ('r', 1) => Some(0),
        (k, n) if n > 1 => k
            .to_digit(10)
            .and_then(|d| (d as usize).checked_sub(1))
            .filter(|i| *i < n),
        _ => None,
    }
}

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
        }
    }

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

/// What a confirm dialog decides about.
#[derive(Debug)]
enum Pending {
    Quit,
    Open(PickItem),
    /// Drafts of ended instances, newest first (claimed while the dialog is open).
    Drafts(Vec<DeadDraft>),
}

enum Overlay {
    Help(HelpOverlay),
    Picker(Picker),
    Confirm(Confirm, Pending),
}

struct Active {
    id: u64,
    cancel: CancellationToken,
    /// Set for a replay: its speed can change while it plays.
    replay_speed: Option<watch::Sender<Speed>>,
}

struct Notice {
    text: String,
    level: Level,
    until: Instant,
}

/// Where each pane was drawn last (for the mouse).
#[derive(Debug, Clone, Copy, Default)]
struct Rects {
    panes: [Option<Rect>; 6],
    schedule: Option<Rect>,
    status: Rect,
}

impl Rects {
    fn get(&self, p: PaneId) -> Option<Rect> {
        self.panes[PaneId::ALL.iter().position(|x| *x == p).unwrap_or(0)]
    }

    fn set(&mut self, p: PaneId, r: Rect) {
        if let Some(i) = PaneId::ALL.iter().position(|x| *x == p) {
            self.panes[i] = Some(r);
        }
    }

    fn at(&self, x: u16, y: u16) -> Option<PaneId> {
        PaneId::ALL
            .iter()
            .copied()
            .find(|p| self.get(*p).is_some_and(|r| r.contains(Position { x, y })))
    }
}

pub struct App {
    // The document.
    origin: Origin,
    prompt: EditorPane,
    policy: EditorPane,
    faults: EditorPane,
    /// The joined text at the last load or save (dirty = the editors differ from it).
    saved_text: String,
    joined_text: String,
    dirty: bool,
    parsed: Result<Arc<Scenario>, PlacedError>,
    reparse_due: Option<Instant>,
    draft_due: Option<Instant>,
    /// This instance's own draft file (none: no data dir).
    draft: Option<DraftSlot>,
    // The run.
    run: RunView,
    run_clock: RunClock,
    active: Option<Active>,
    next_id: u64,
    /// The current run's events; the loop receives from it.
    pub(crate) run_rx: Option<EventStream>,
    replay: Option<(Arc<Vec<TimedEvent>>, PathBuf)>,
    mode: Mode,
    speed: Speed,
    // The view.
    focus: PaneId,
    timeline: TimelinePane,
    output: OutputPane,
    inspector: InspectorPane,
    schedule: SchedulePane,
    overlay: Option<Overlay>,
    themes: ThemeSet,
    theme: Theme,
    notice: Option<Notice>,
    rects: Rects,
    paths: Paths,
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
        let (themes, theme_errors) = ThemeSet::load(config.paths.themes.as_deref());
        let theme = themes.initial(config.no_color, config.theme.as_deref());
        let now = Instant::now();
        let mut app = App {
            origin: Origin::Builtin(String::new()),
            prompt: EditorPane::new(Part::Prompt, Vec::new()),
            policy: EditorPane::new(Part::Policy, Vec::new()),
            faults: EditorPane::new(Part::Faults, Vec::new()),
            saved_text: String::new(),
            joined_text: String::new(),
            dirty: false,
            parsed: Err(PlacedError {
                part: None,
                line: 0,
                column: 0,
                message: "no scenario".into(),
                hint: String::new(),
            }),
            reparse_due: None,
            draft_due: None,
            draft: config.paths.drafts.as_deref().map(DraftSlot::new),
            run: RunView::new(),
            run_clock: RunClock::new(config.speed, now),
            active: None,
            next_id: 0,
            run_rx: None,
            replay: None,
            mode: config.mode,
            speed: config.speed,
            focus: PaneId::Policy,
            timeline: TimelinePane::new(),
            output: OutputPane::new(),
            inspector: InspectorPane::new(),
            schedule: SchedulePane::default(),
            overlay: None,
            themes,
            theme,
            notice: None,
            rects: Rects::default(),
            paths: config.paths,
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
        if let Some(n) = config.notice {
            app.notify(n, Level::Warn);
        }
        match start {
            Start::Scenario { text, origin } => {
                app.load(&text, origin);
                if config.offer_draft {
                    app.offer_draft();
                }
            }
            Start::Replay { events, path } => {
                app.focus = PaneId::Timeline;
                app.replay = Some((Arc::new(events), path));
                app.start_replay();
            }
        }
        (app, msg_rx)
    }

    // ----- time -----

    fn now(&self) -> Instant {
        self.frozen.unwrap_or_else(Instant::now)
    }

    /// Stops the App's clock at `at` (tests: countdowns and spinners hold still).
    pub fn freeze_time(&mut self, at: Option<Instant>) {
        self.frozen = at;
        self.needs_draw = true;
    }

    /// A sender for messages from outside (signals).
    pub fn sender(&self) -> UnboundedSender<Message> {
        self.msg_tx.clone()
    }

    pub fn frozen_time(&self) -> Option<Instant> {
        self.frozen
    }

    /// When the loop must wake up next without input: animation, re-parse, autosave, notice.
    pub fn next_deadline(&self) -> Option<Instant> {
        let now = self.now();
        let anim = self.is_animating().then(|| now + ANIMATION_FRAME);
        [
            anim,
            self.reparse_due,
            self.draft_due,
            self.notice.as_ref().map(|n| n.until),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// True while a countdown drains or a spinner turns.
    pub fn is_animating(&self) -> bool {
        self.active.is_some() && self.run.any_running()
    }

    // ----- queries (tests and the runner) -----

    pub fn run_view(&self) -> &RunView {
        &self.run
    }

    pub fn is_running(&self) -> bool {
        self.active.is_some()
    }

    pub fn focus(&self) -> PaneId {
        self.focus
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn speed(&self) -> Speed {
        self.speed
    }

    pub fn theme_name(&self) -> &str {
        &self.theme.name
    }

    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    pub fn notice(&self) -> Option<&str> {
        self.notice.as_ref().map(|n| n.text.as_str())
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    pub fn scenario_text(&self) -> &str {
        &self.joined_text
    }

    pub fn parse_error(&self) -> Option<&PlacedError> {
        self.parsed.as_ref().err()
    }

    pub fn editor_lines(&self, part: Part) -> &[String] {
        self.editor(part).lines()
    }

    pub fn editor_cursor(&self, part: Part) -> (usize, usize) {
        self.editor(part).cursor()
    }

    pub fn overlay_open(&self) -> bool {
        self.overlay.is_some()
    }

    fn editor(&self, part: Part) -> &EditorPane {
        match part {
            Part::Prompt => &self.prompt,
            Part::Policy => &self.policy,
            Part::Faults => &self.faults,
        }
    }

    fn editor_mut(&mut self, part: Part) -> &mut EditorPane {
        match part {
            Part::Prompt => &mut self.prompt,
            Part::Policy => &mut self.policy,
            Part::Faults => &mut self.faults,
        }
    }

    fn focused_editor(&mut self) -> Option<&mut EditorPane> {
        match self.focus {
            PaneId::Prompt => Some(&mut self.prompt),
            PaneId::Policy => Some(&mut self.policy),
            PaneId::Faults => Some(&mut self.faults),
            _ => None,
        }
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

    // ----- the one update -----

    pub fn update(&mut self, msg: Message) {
        match msg {
            Message::Input(ev) => self.on_input(ev),
            Message::Engine(batch) => {
                let now = self.now();
                for ev in &batch {
                    self.run.apply(ev);
                    self.run_clock.observe(ev.t_ms, now);
                    if matches!(ev.event, Event::RunFinished(_)) {
                        self.run_clock.stop(now);
                    }
                }
                self.timeline.sync(self.run.rows.len());
                self.needs_draw = true;
            }
            Message::RunDone { id, trace, problem } => {
                if self.active.as_ref().is_some_and(|a| a.id == id) {
                    // Every event was sent before this message: take the rest first.
                    let mut rest = Vec::new();
                    if let Some(rx) = self.run_rx.as_mut() {
                        while let Ok(ev) = rx.try_recv() {
                            rest.push(ev);
                        }
                    }
                    if !rest.is_empty() {
                        self.update(Message::Engine(rest));
                    }
                    self.active = None;
                    if self.run.finished.is_none() {
                        // A replay stopped early, or a run ended without its last event.
                        let t = self.run.last_t;
                        self.run.apply(&TimedEvent {
                            t_ms: t,
                            event: Event::RunFinished(RunFinished {
                                outcome: Outcome::Cancelled,
                                content: None,
                                error: None,
                                caught: Vec::new(),
                                total_cost_usd: None,
                                total_cost_estimated: false,
                            }),
                        });
                        self.timeline.sync(self.run.rows.len());
                    }
                    self.run_clock.stop(self.now());
                    match (problem, trace) {
                        (Some(p), _) => {
                            // A crashed task may have printed over the screen; a trace
                            // that could not be written printed nothing.
                            if p.starts_with("the engine stopped") {
                                self.needs_clear = true;
                            }
                            self.notify(p, Level::Warn);
                        }
                        (None, Some(path)) => {
                            // The file name only: the status bar has little room.
                            let name = path.file_name().map_or_else(
                                || path.display().to_string(),
                                |n| n.to_string_lossy().into_owned(),
                            );
                            self.notify(format!("recorded as {name}"), Level::Info)
                        }
                        (None, None) => {}
                    }
                }
                self.needs_draw = true;
            }
            Message::Tick => self.on_tick(),
            Message::Action(a) => self.do_action(a),
            Message::Terminate => {
                if self.dirty {
                    self.autosave_draft();
                }
                self.quit_now();
            }
        }
    }

    fn on_tick(&mut self) {
        let now = self.now();
        if self.reparse_due.is_some_and(|t| t <= now) {
            self.reparse();
        }
        if self.draft_due.is_some_and(|t| t <= now) {
            self.draft_due = None;
            self.autosave_draft();
        }
        if self.notice.as_ref().is_some_and(|n| n.until <= now) {
            self.notice = None;
        }
        // Animation frames and the above all redraw.
        self.needs_draw = true;
    }

    fn on_input(&mut self, ev: TermEvent) {
        match ev {
            TermEvent::Key(k) if k.kind == KeyEventKind::Press => {
                self.on_key(k);
                self.needs_draw = true;
            }
            TermEvent::Key(_) => {}
            TermEvent::Paste(text) => {
                self.on_paste(&text);
                self.needs_draw = true;
            }
            TermEvent::Mouse(m) => self.on_mouse(m),
            TermEvent::Resize(..) => {
                self.needs_clear = true;
                self.needs_draw = true;
            }
            TermEvent::FocusGained | TermEvent::FocusLost => {}
        }
    }

    fn on_key(&mut self, k: KeyEvent) {
        if let Some(ov) = self.overlay.take() {
            self.overlay_key(ov, k);
            return;
        }
        if let Some(a) = keymap::lookup(&k, &[Scope::Global]) {
            self.do_action(a);
            return;
        }
        if let Some(ed) = self.focused_editor() {
            let changed = match keymap::lookup(&k, &[Scope::Editor]) {
                Some(Action::Undo) => ed.undo(),
                Some(Action::Redo) => ed.redo(),
                _ => ed.input(k),
            };
            if changed {
                self.on_edit();
            }
            return;
        }
        if let Some(a) = keymap::lookup(&k, &[Scope::View]) {
            self.pane_action(a);
        }
    }

    fn on_paste(&mut self, text: &str) {
        if self.overlay.is_some() {
            return;
        }
        match self.focused_editor() {
            Some(ed) => {
                if ed.paste(text) {
                    self.on_edit();
                }
            }
            None => self.notify("focus an editor (Tab) to paste into it", Level::Info),
        }
    }

    fn on_mouse(&mut self, m: MouseEvent) {
        let (x, y) = (m.column, m.row);
        match (m.kind, &mut self.overlay) {
            (MouseEventKind::ScrollDown, Some(Overlay::Help(h))) => h.on_scroll(3),
            (MouseEventKind::ScrollUp, Some(Overlay::Help(h))) => h.on_scroll(-3),
            (MouseEventKind::ScrollDown, Some(Overlay::Picker(p))) => p.move_by(1),
            (MouseEventKind::ScrollUp, Some(Overlay::Picker(p))) => p.move_by(-1),
            (MouseEventKind::Down(MouseButton::Left), Some(Overlay::Picker(p))) => {
                if let Some(i) = p.item_at(x, y) {
                    if p.selected == i {
                        self.pick();
                    } else {
                        p.selected = i;
                    }
                }
            }
            (_, Some(_)) => return,
            (MouseEventKind::Down(MouseButton::Left), None) => {
                if let Some(p) = self.rects.at(x, y) {
                    self.focus = p;
                    self.with_pane(p, |pane, ctx| pane.on_click(x, y, ctx));
                } else {
                    return;
                }
            }
            (MouseEventKind::ScrollDown | MouseEventKind::ScrollUp, None) => {
                let rows = if m.kind == MouseEventKind::ScrollDown {
                    3
                } else {
                    -3
                };
                match self.rects.at(x, y) {
                    Some(p) => self.with_pane(p, |pane, ctx| pane.on_scroll(rows, ctx)),
                    None => return,
                }
            }
            // Moves and drags change nothing: no redraw.
            _ => return,
        }
        self.needs_draw = true;
    }

    /// Runs `f` on a pane with a context (selection, theme, run).
    fn with_pane(&mut self, p: PaneId, f: impl FnOnce(&mut dyn Pane, &Ctx)) {
        let selected_row = self.timeline.selected();
        let ctx = Ctx {
            theme: &self.theme,
            run: &self.run,
            focused: self.focus == p,
            run_now_ms: self
                .run_clock
                .now_ms(self.frozen.unwrap_or_else(Instant::now)),
            tick: 0,
            selected_row,
            selected_attempt: selected_row.and_then(|r| self.run.attempt_of_row(r)),
        };
        let pane: &mut dyn Pane = match p {
            PaneId::Prompt => &mut self.prompt,
            PaneId::Policy => &mut self.policy,
            PaneId::Faults => &mut self.faults,
            PaneId::Timeline => &mut self.timeline,
            PaneId::Output => &mut self.output,
            PaneId::Inspector => &mut self.inspector,
        };
        f(pane, &ctx);
    }

    fn pane_action(&mut self, a: Action) {
        let p = self.focus;
        self.with_pane(p, |pane, ctx| {
            pane.on_action(a, ctx);
        });
    }

    fn overlay_key(&mut self, ov: Overlay, k: KeyEvent) {
        let action = keymap::lookup(&k, &[Scope::Global, Scope::View]);
        match ov {
            Overlay::Help(mut h) => match action {
                Some(Action::Help | Action::Cancel) => {}
                Some(Action::Quit) => self.request_quit(),
                Some(a) => {
                    h.on_action(a);
                    self.overlay = Some(Overlay::Help(h));
                }
                None => self.overlay = Some(Overlay::Help(h)),
            },
            Overlay::Picker(mut p) => match (k.code, action) {
                (_, Some(Action::Cancel | Action::Open)) => {}
                (crossterm::event::KeyCode::Enter, _) => {
                    self.overlay = Some(Overlay::Picker(p));
                    self.pick();
                }
                (_, Some(Action::Up)) => {
                    p.move_by(-1);
                    self.overlay = Some(Overlay::Picker(p));
                }
                (_, Some(Action::Down)) => {
                    p.move_by(1);
                    self.overlay = Some(Overlay::Picker(p));
                }
                (_, Some(Action::Quit)) => self.request_quit(),
                _ => self.overlay = Some(Overlay::Picker(p)),
            },
            Overlay::Confirm(c, pending) => {
                let ch = match k.code {
                    crossterm::event::KeyCode::Char(ch) if k.modifiers.is_empty() => {
                        Some(ch.to_ascii_lowercase())
                    }
                    _ => None,
                };
                if action == Some(Action::Cancel) {
                    if let Pending::Drafts(_) = pending {
                        // Dropping the claims lets the next start offer them again.
                        self.notify("drafts kept; they are offered again next time", Level::Info);
                    }
                    return;
                }
                let pending = match pending {
                    Pending::Drafts(drafts) => {
                        let chosen = ch.and_then(|k| draft_choice(k, drafts.len()));
                        match (ch, chosen) {
                            (Some('d'), _) => self.discard_dead_drafts(drafts),
                            (_, Some(i)) => self.restore_draft(drafts, i),
                            _ => self.overlay = Some(Overlay::Confirm(c, Pending::Drafts(drafts))),
                        }
                        return;
                    }
                    other => other,
                };
                match (ch, &pending) {
                    (Some('s'), Pending::Quit) => {
                        if self.save() {
                            self.quit_now();
                        }
                    }
                    (Some('q'), Pending::Quit) => {
                        self.discard_draft();
                        self.quit_now();
                    }
                    (Some('d'), Pending::Open(item)) => {
                        let item = item.clone();
                        self.open_item(&item);
                    }
                    _ => self.overlay = Some(Overlay::Confirm(c, pending)),
                }
            }
        }
    }

    // ----- actions -----

    fn do_action(&mut self, a: Action) {
        match a {
            Action::Run => self.start(),
            Action::Cancel => self.cancel(),
            Action::Help => {
                self.overlay = match self.overlay {
                    Some(Overlay::Help(_)) => None,
                    _ => Some(Overlay::Help(HelpOverlay::default())),
                };
            }
            Action::FocusNext => self.move_focus(1),
            Action::FocusPrev => self.move_focus(-1),
            Action::Save => {
                self.save();
            }
            Action::Open => self.open_picker(),
            Action::ToggleMode => self.toggle_mode(),
            Action::CycleSpeed => self.cycle_speed(),
            Action::CycleTheme => self.cycle_theme(),
            Action::Quit => self.request_quit(),
            Action::Undo | Action::Redo => {
                if let Some(ed) = self.focused_editor() {
                    let changed = if a == Action::Undo {
                        ed.undo()
                    } else {
                        ed.redo()
                    };
                    if changed {
                        self.on_edit();
                    }
                }
            }
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => self.pane_action(a),
        }
        self.needs_draw = true;
    }

    fn focusable(&self) -> Vec<PaneId> {
        if self.replay.is_some() {
            vec![PaneId::Timeline, PaneId::Output, PaneId::Inspector]
        } else {
            PaneId::ALL.to_vec()
        }
    }

    fn move_focus(&mut self, delta: i32) {
        let order = self.focusable();
        let i = order.iter().position(|p| *p == self.focus).unwrap_or(0) as i32;
        let n = order.len() as i32;
        self.focus = order[((i + delta).rem_euclid(n)) as usize];
    }

    /// Focuses a pane directly (tests, mouse).
    pub fn set_focus(&mut self, p: PaneId) {
        if self.focusable().contains(&p) {
            self.focus = p;
            self.needs_draw = true;
        }
    }

    /// The speed runs go at: the chosen one, except live, where waits are real (a server's
    /// Retry-After is never compressed); a replay always follows the chosen one.
    fn effective_speed(&self) -> Speed {
        if self.mode == Mode::Live && self.replay.is_none() {
            Speed::Times(1.0)
        } else {
            self.speed
        }
    }

    fn cycle_speed(&mut self) {
        let next = match self.speed {
            Speed::Times(x) => SPEEDS
                .iter()
                .position(|s| (s - x).abs() < 1e-9)
                .map_or(SPEEDS[0], |i| SPEEDS[(i + 1) % SPEEDS.len()]),
            Speed::Max => SPEEDS[0],
        };
        self.speed = Speed::Times(next);
        let now = self.now();
        match self.active.as_ref().and_then(|a| a.replay_speed.as_ref()) {
            Some(tx) => {
                // A replay follows the new speed at once.
                let _ = tx.send(self.speed);
                self.run_clock.set_speed(self.speed, now);
                self.notify(format!("replay speed {}", self.speed.label()), Level::Info);
            }
            None if self.effective_speed() != self.speed => self.notify(
                format!(
                    "speed {}: applies in SIM mode (live waits are real)",
                    self.speed.label()
                ),
                Level::Info,
            ),
            None if self.active.is_some() => self.notify(
                format!("speed {}: applies to the next run", self.speed.label()),
                Level::Info,
            ),
            None => self.notify(
                format!("speed {}: waits and simulated delays", self.speed.label()),
                Level::Info,
            ),
        }
    }

    fn cycle_theme(&mut self) {
        if let Some(t) = self.themes.next_after(&self.theme.name).cloned() {
            self.theme = t;
            self.notify(format!("theme: {}", self.theme.name), Level::Info);
        }
    }

    /// F2. Live mode needs each provider's key in the environment; until it is there, say
    /// which variables are missing and stay in SIM.
    fn toggle_mode(&mut self) {
        if self.mode == Mode::Live {
            self.mode = Mode::Sim;
            self.notify("SIM: the built-in simulator answers", Level::Info);
            return;
        }
        if self.replay.is_some() {
            self.notify(
                "a replay shows a recorded run; there is nothing to call",
                Level::Info,
            );
            return;
        }
        self.reparse();
        let scenario = match &self.parsed {
            Ok(s) => s.clone(),
            Err(e) => {
                let msg = format!("fix the scenario first: {}", e.headline());
                self.notify(msg, Level::Warn);
                return;
            }
        };
        // The same check (and message) as `retrylab run --live`: every hop's key and base URL.
        let cfg = crate::config::Config::load();
        match crate::engine::run::check_live_keys_with(&scenario, &cfg) {
            Ok(()) => {
                self.mode = Mode::Live;
                let note = cfg
                    .warnings()
                    .first()
                    .map(|w| format!(" (note: {w})"))
                    .unwrap_or_default();
                self.notify(
                    format!("LIVE: real API calls; keys are never shown or recorded{note}"),
                    Level::Warn,
                );
            }
            Err(e) => self.notify(format!("{}; staying in SIM", e.message), Level::Warn),
        }
    }

    // ----- runs -----

    fn start(&mut self) {
        if self.active.is_some() {
            self.notify("a run is in progress: Esc cancels it", Level::Info);
            return;
        }
        if self.replay.is_some() {
            self.start_replay();
            return;
        }
        if self.reparse_due.is_some() || self.joined_text.is_empty() {
            self.reparse();
        }
        let scenario = match &self.parsed {
            Ok(s) => s.clone(),
            Err(e) => {
                let e = e.clone();
                self.notify(format!("can't run: {}", e.headline()), Level::Error);
                if let Some(part) = e.part {
                    self.focus = match part {
                        Part::Prompt => PaneId::Prompt,
                        Part::Policy => PaneId::Policy,
                        Part::Faults => PaneId::Faults,
                    };
                    self.editor_mut(part).jump_to(e.line, e.column);
                }
                return;
            }
        };
        self.next_id += 1;
        let id = self.next_id;
        let cancel = CancellationToken::new();
        let (tx, rx) = event_channel();
        self.run_rx = Some(rx);
        self.reset_run_view();
        tasks::spawn_run(RunRequest {
            id,
            scenario,
            opts: RunOptions {
                mode: self.mode,
                speed: self.effective_speed(),
                config: Arc::new(crate::config::Config::load()),
            },
            traces: self.paths.traces.clone(),
            cancel: cancel.clone(),
            events: tx,
            msgs: self.msg_tx.clone(),
        });
        self.active = Some(Active {
            id,
            cancel,
            replay_speed: None,
        });
        self.notice = None;
    }

    fn start_replay(&mut self) {
        let Some((events, _)) = &self.replay else {
            return;
        };
        let events = events.clone();
        self.next_id += 1;
        let id = self.next_id;
        let cancel = CancellationToken::new();
        let (tx, rx) = event_channel();
        let (speed_tx, speed_rx) = watch::channel(self.speed);
        self.run_rx = Some(rx);
        self.reset_run_view();
        tasks::spawn_replay(
            id,
            events,
            speed_rx,
            cancel.clone(),
            tx,
            self.msg_tx.clone(),
        );
        self.active = Some(Active {
            id,
            cancel,
            replay_speed: Some(speed_tx),
        });
    }

    /// Clears the run panes and starts the countdown clock as a run would, for events fed
    /// in by hand with [`Message::Engine`] (tests, previews).
    pub fn begin_external_run(&mut self) {
        self.reset_run_view();
        self.needs_draw = true;
    }

    fn reset_run_view(&mut self) {
        self.run = RunView::new();
        self.timeline.reset();
        let now = self.now();
        self.run_clock = RunClock::new(self.effective_speed(), now);
        self.run_clock.start(now);
    }

    fn cancel(&mut self) {
        if let Some(a) = &self.active {
            a.cancel.cancel();
            self.notify("cancelling…", Level::Info);
        }
    }

    // ----- the document -----

    fn load(&mut self, text: &str, origin: Origin) {
        let parts = split::split(text);
        self.prompt.set_lines(parts.prompt);
        self.policy.set_lines(parts.policy);
        self.faults.set_lines(parts.faults);
        self.origin = origin;
        self.reparse();
        self.saved_text = self.joined_text.clone();
        self.dirty = false;
        self.draft_due = None;
        self.needs_draw = true;
    }

    fn on_edit(&mut self) {
        let now = self.now();
        self.dirty = true;
        self.reparse_due = Some(now + REPARSE_AFTER);
        self.draft_due = Some(now + DRAFT_AFTER);
        self.needs_draw = true;
    }

    fn parts(&self) -> Parts {
        Parts {
            prompt: self.prompt.content(),
            policy: self.policy.content(),
            faults: self.faults.content(),
        }
    }

    /// Joins the editors, parses, places any error in its editor and redraws the plan.
    pub fn reparse(&mut self) {
        self.reparse_due = None;
        let joined = split::join(&self.parts());
        for p in Part::ALL {
            self.editor_mut(p).error = None;
        }
        match crate::scenario::load::parse(&joined.text, &self.origin.label()) {
            Ok(s) => {
                let s = Arc::new(s);
                let schedule = plan(&hop_policies(&s), 0.0);
                let targets = crate::engine::run::hop_labels(&s);
                self.schedule.preview = Preview::Plan { schedule, targets };
                self.timeline.about = s.about.split_whitespace().collect::<Vec<_>>().join(" ");
                self.parsed = Ok(s);
            }
            Err(e) => {
                let located = if e.line > 0 {
                    joined.locate(e.line)
                } else {
                    None
                };
                let placed = PlacedError {
                    part: located.map(|(p, _)| p),
                    line: located.map_or(0, |(_, l)| l),
                    column: e.column,
                    message: e.message.clone(),
                    hint: e.hint.clone(),
                };
                if let Some((part, line)) = located {
                    self.editor_mut(part).error = Some(EditorError {
                        line,
                        column: e.column,
                        message: e.message.clone(),
                    });
                }
                self.schedule.preview = Preview::Error(placed.clone());
                self.parsed = Err(placed);
            }
        }
        self.dirty = joined.text != self.saved_text;
        self.joined_text = joined.text;
        self.needs_draw = true;
    }

    /// Ctrl+S: a file opened by path is saved in place; anything else goes to the scenarios
    /// folder under the scenario's name. True when written.
    fn save(&mut self) -> bool {
        if self.replay.is_some() {
            self.notify("a replay has no scenario to save", Level::Info);
            return false;
        }
        self.reparse();
        let target = match &self.origin {
            Origin::File(p) => Some(p.clone()),
            Origin::Builtin(name) => self.paths.scenarios.as_ref().map(|dir| {
                let stem = match &self.parsed {
                    Ok(s) => persist::slug(&s.name),
                    Err(_) => persist::slug(name),
                };
                let mut path = dir.join(format!("{stem}.toml"));
                let mut n = 1;
                while path.exists() {
                    n += 1;
                    path = dir.join(format!("{stem}-{n}.toml"));
                }
                path
            }),
        };
        let Some(path) = target else {
            self.notify(
                "no config folder to save into (no home directory?)",
                Level::Error,
            );
            return false;
        };
        match persist::write_atomic(&path, &self.joined_text) {
            Ok(()) => {
                self.saved_text = self.joined_text.clone();
                self.dirty = false;
                self.origin = Origin::File(path.clone());
                self.discard_draft();
                let warn = self
                    .parsed
                    .as_ref()
                    .err()
                    .map(|e| format!(" (it has an error: {})", e.headline()))
                    .unwrap_or_default();
                self.notify(format!("saved {}{warn}", path.display()), Level::Info);
                true
            }
            Err(e) => {
                self.notify(
                    format!("could not save {}: {e}", path.display()),
                    Level::Error,
                );
                false
            }
        }
    }

    fn autosave_draft(&mut self) {
        if self.reparse_due.is_some() {
            // The joined text must include the latest keystrokes.
            self.reparse();
        }
        if !self.dirty || self.replay.is_some() {
            return;
        }
        self.write_own_draft();
    }

    fn write_own_draft(&mut self) -> bool {
        let Some(slot) = self.draft.as_mut() else {
            return false;
        };
        match slot.write(&self.origin.label(), &self.joined_text) {
            Ok(()) => true,
            Err(e) => {
                self.notify(format!("draft not autosaved: {e}"), Level::Warn);
                false
            }
        }
    }

    /// This instance's own draft file, when it has written one (tests, help).
    pub fn draft_path(&self) -> Option<PathBuf> {
        self.draft.as_ref().map(DraftSlot::path)
    }

    fn discard_draft(&mut self) {
        self.draft_due = None;
        if let Some(slot) = self.draft.as_mut() {
            slot.clear();
        }
    }

    /// Offers the drafts that ended instances left; a live instance's draft is never seen.
    fn offer_draft(&mut self) {
        let Some(dir) = self.paths.drafts.as_deref() else {
            return;
        };
        let mut drafts = Vec::new();
        for d in persist::dead_drafts(dir) {
            if d.draft.text == self.joined_text {
                // Nothing in it that is not open already.
                d.remove();
            } else {
                drafts.push(d);
            }
        }
        // One dialog line each; older ones wait for the next start.
        drafts.truncate(MAX_OFFERED_DRAFTS);
        if drafts.is_empty() {
            return;
        }
        let ago = |d: &DeadDraft| {
            d.draft
                .saved_at
                .and_then(|t| t.elapsed().ok())
                .map(|e| {
                    format!(
                        " {} ago",
                        crate::policy::duration::format_secs(e.as_secs() as f64)
                    )
                })
                .unwrap_or_default()
        };
        let (title, body, mut choices) = if let [d] = drafts.as_slice() {
            (
                "Unsaved draft found".to_string(),
                format!(
                    "retrylab stopped{} with unsaved edits to {}. Restore them?",
                    ago(d),
                    d.draft.origin
                ),
                vec![('r', "restore the draft into the editors".to_string())],
            )
        } else {
            let choices = drafts
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let k = char::from_digit(i as u32 + 1, 10).unwrap_or('?');
                    (k, format!("restore {}, saved{}", d.draft.origin, ago(d)))
                })
                .collect();
            (
                format!("{} unsaved drafts found", drafts.len()),
                "retrylab instances that are no longer running left unsaved edits. Restore one?"
                    .to_string(),
                choices,
            )
        };
        let all = if drafts.len() > 1 {
            " (all of them)"
        } else {
            ""
        };
        choices.push(('d', format!("discard{all} and keep what is open")));
        self.overlay = Some(Overlay::Confirm(
            Confirm {
                title,
                body,
                choices,
            },
            Pending::Drafts(drafts),
        ));
    }

    /// Restores the `i`-th offered draft; the others stay for the next start.
    fn restore_draft(&mut self, mut drafts: Vec<DeadDraft>, i: usize) {
        let d = drafts.swap_remove(i);
        drop(drafts);
        let text = d.draft.text.clone();
        self.load(&text, Origin::from_label(&d.draft.origin));
        // Restored edits are still unsaved: they become this instance's draft at once, and
        // only then is the dead instance's copy removed.
        self.saved_text = String::new();
        self.dirty = true;
        if self.write_own_draft() || self.draft.is_none() {
            d.remove();
        }
        self.notify("draft restored: Ctrl+S saves it", Level::Info);
    }

    fn discard_dead_drafts(&mut self, drafts: Vec<DeadDraft>) {
        let n = drafts.len();
        drafts.into_iter().for_each(DeadDraft::remove);
        self.notify(
            if n == 1 {
                "draft discarded".to_string()
            } else {
                format!("{n} drafts discarded")
            },
            Level::Info,
        );
    }

    fn open_picker(&mut self) {
        if self.replay.is_some() {
            self.notify(
                "a replay shows a recorded run; quit to open a scenario",
                Level::Info,
            );
            return;
        }
        let mut items: Vec<PickItem> = crate::scenario::builtin::all()
            .iter()
            .map(|b| PickItem::Builtin {
                name: b.name.to_string(),
                about: toml::from_str::<toml::Table>(b.source)
                    .ok()
                    .and_then(|t| t.get("about")?.as_str().map(str::to_string))
                    .unwrap_or_default(),
            })
            .collect();
        items.extend(
            persist::list_saved(self.paths.scenarios.as_deref())
                .into_iter()
                .map(|path| PickItem::Saved { path }),
        );
        let current = match &self.origin {
            Origin::Builtin(n) => Some(n.clone()),
            Origin::File(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()),
        };
        self.overlay = Some(Overlay::Picker(Picker::new(items, current.as_deref())));
    }

    fn pick(&mut self) {
        let Some(Overlay::Picker(p)) = self.overlay.take() else {
            return;
        };
        let Some(item) = p.chosen().cloned() else {
            return;
        };
        if self.dirty {
            self.overlay = Some(Overlay::Confirm(
                Confirm {
                    title: "Unsaved edits".into(),
                    body: format!(
                        "Opening {} replaces your unsaved edits (Ctrl+S would save them).",
                        item.label()
                    ),
                    choices: vec![('d', "discard the edits and open it".into())],
                },
                Pending::Open(item),
            ));
        } else {
            self.open_item(&item);
        }
    }

    fn open_item(&mut self, item: &PickItem) {
        match item {
            PickItem::Builtin { name, .. } => match crate::scenario::builtin::find(name) {
                Some(b) => {
                    self.load(b.source, Origin::Builtin(b.name.to_string()));
                    self.discard_draft();
                    self.notify(format!("opened {}", b.name), Level::Info);
                }
                None => self.notify(format!("no built-in named {name}"), Level::Error),
            },
            PickItem::Saved { path } => match crate::scenario::userfile::read_user_file(
                path,
                crate::scenario::userfile::MAX_USER_FILE,
            ) {
                Ok(text) => {
                    self.load(&text, Origin::File(path.clone()));
                    self.discard_draft();
                    self.notify(format!("opened {}", path.display()), Level::Info);
                }
                Err(e) => self.notify(format!("cannot read {}: {e}", path.display()), Level::Error),
            },
        }
    }

    fn request_quit(&mut self) {
        if self.dirty && self.replay.is_none() {
            self.overlay = Some(Overlay::Confirm(
                Confirm {
                    title: "Quit with unsaved edits?".into(),
                    body: "The scenario has edits that are not saved.".into(),
                    choices: vec![
                        ('s', "save, then quit".into()),
                        ('q', "quit without saving".into()),
                    ],
                },
                Pending::Quit,
            ));
        } else {
            self.discard_draft();
            self.quit_now();
        }
    }

    fn quit_now(&mut self) {
        if let Some(a) = &self.active {
            a.cancel.cancel();
        }
        self.should_quit = true;
    }

    // ----- rendering -----

    fn layout(&self, area: Rect) -> Rects {
        let mut r = Rects::default();
        let [main, status] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
        r.status = status;
        let weight = |p: PaneId, w: u16| {
            if self.focus == p {
                Constraint::Fill(w * 2)
            } else {
                Constraint::Fill(w)
            }
        };
        if self.replay.is_some() {
            let [left, right] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Fill(1)]).areas(main);
            r.set(PaneId::Timeline, left);
            let [o, i] =
                Layout::vertical([weight(PaneId::Output, 1), weight(PaneId::Inspector, 1)])
                    .areas(right);
            r.set(PaneId::Output, o);
            r.set(PaneId::Inspector, i);
            return r;
        }
        let left_pct = if self.focus.is_editor() { 50 } else { 38 };
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(left_pct), Constraint::Fill(1)]).areas(main);
        let sched_h = self.schedule.wanted_height().min(left.height / 3).max(3);
        let focus = self.focus;
        let w = |p: PaneId, w: u16| if focus == p { w * 2 } else { w };
        let hs = share(
            left.height.saturating_sub(sched_h),
            &[
                (4, w(PaneId::Prompt, 3)),
                (5, w(PaneId::Policy, 5)),
                (4, w(PaneId::Faults, 3)),
            ],
        );
        let [p, pol, f, s] = Layout::vertical([
            Constraint::Length(hs[0]),
            Constraint::Length(hs[1]),
            Constraint::Length(hs[2]),
            Constraint::Length(sched_h),
        ])
        .areas(left);
        r.set(PaneId::Prompt, p);
        r.set(PaneId::Policy, pol);
        r.set(PaneId::Faults, f);
        r.schedule = Some(s);
        let [t, o, i] = Layout::vertical([
            weight(PaneId::Timeline, 4),
            weight(PaneId::Output, 3),
            weight(PaneId::Inspector, 3),
        ])
        .areas(right);
        r.set(PaneId::Timeline, t);
        r.set(PaneId::Output, o);
        r.set(PaneId::Inspector, i);
        r
    }

    pub fn render(&mut self, frame: &mut Frame) {
        let area = frame.area();
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            self.rects = Rects::default();
            let msg = format!(
                "Terminal too small: {}x{}. retrylab needs at least {MIN_WIDTH}x{MIN_HEIGHT}.\nEnlarge the window, or Ctrl+Q to quit.",
                area.width, area.height
            );
            frame.render_widget(
                Paragraph::new(msg)
                    .style(self.theme.style(Meaning::Warning))
                    .wrap(Wrap { trim: true }),
                area,
            );
            return;
        }
        let rects = self.layout(area);
        self.rects = rects;
        let now = self.now();
        self.timeline.sync(self.run.rows.len());
        let selected_row = self.timeline.selected();
        let selected_attempt = selected_row.and_then(|r| self.run.attempt_of_row(r));
        if let (Some(i), Some(r)) = (selected_attempt, rects.get(PaneId::Output))
            && let Some(a) = self.run.attempts.get_mut(i)
        {
            a.output.ensure_wrapped(OutputPane::text_width(r));
        }
        let tick = (now.saturating_duration_since(self.started).as_millis() / 80) as usize;
        let run_now_ms = self.run_clock.now_ms(now);
        let focus = self.focus;
        macro_rules! ctx {
            ($p:expr) => {
                Ctx {
                    theme: &self.theme,
                    run: &self.run,
                    focused: focus == $p,
                    run_now_ms,
                    tick,
                    selected_row,
                    selected_attempt,
                }
            };
        }
        for p in PaneId::ALL {
            let Some(r) = rects.get(p) else { continue };
            match p {
                PaneId::Prompt => self.prompt.render(frame, r, &ctx!(p)),
                PaneId::Policy => self.policy.render(frame, r, &ctx!(p)),
                PaneId::Faults => self.faults.render(frame, r, &ctx!(p)),
                PaneId::Timeline => self.timeline.render(frame, r, &ctx!(p)),
                PaneId::Output => self.output.render(frame, r, &ctx!(p)),
                PaneId::Inspector => self.inspector.render(frame, r, &ctx!(p)),
            }
        }
        if let Some(s) = rects.schedule {
            self.schedule.render(frame, s, &ctx!(PaneId::Timeline));
        }
        let hints = self.hints();
        let title = match (&self.replay, &self.parsed) {
            (Some((_, path)), _) => format!("replay of {}", path.display()),
            (None, Ok(s)) => s.name.clone(),
            (None, Err(_)) => self.origin.label(),
        };
        status::render(
            frame,
            rects.status,
            &StatusInfo {
                mode: self
                    .run
                    .mode
                    .filter(|_| self.replay.is_some())
                    .unwrap_or(self.mode),
                speed: self.effective_speed(),
                running: self.run.mode.is_some() && self.run.finished.is_none(),
                replay: self.replay.is_some(),
                finished: self.run.finished.as_ref(),
                notice: self.notice.as_ref().map(|n| (n.text.as_str(), n.level)),
                hints: &hints,
                title: &title,
                dirty: self.dirty,
            },
            &self.theme,
        );
        match &mut self.overlay {
            Some(Overlay::Help(h)) => {
                let show = |p: &Option<PathBuf>| {
                    p.as_ref().map_or_else(
                        || "(no home directory)".to_string(),
                        |p| p.display().to_string(),
                    )
                };
                let files = [
                    ("saved scenarios", show(&self.paths.scenarios)),
                    ("run traces", show(&self.paths.traces)),
                    ("themes (*.toml)", show(&self.paths.themes)),
                    ("autosaved draft", show(&self.paths.drafts)),
                ];
                h.render(frame, area, &self.theme, &files)
            }
            Some(Overlay::Picker(p)) => p.render(frame, area, &self.theme),
            Some(Overlay::Confirm(c, _)) => c.render(frame, area, &self.theme),
            None => {}
        }
        self.needs_draw = false;
    }

    /// The status-bar hints: run or cancel, help, the focused pane's own, then the rest.
    fn hints(&self) -> Vec<Action> {
        let mut v = Vec::new();
        v.push(if self.run.mode.is_some() && self.run.finished.is_none() {
            Action::Cancel
        } else {
            Action::Run
        });
        v.push(Action::Help);
        let own: &[Action] = match self.focus {
            PaneId::Prompt | PaneId::Policy | PaneId::Faults => self.prompt.hints(),
            PaneId::Timeline => self.timeline.hints(),
            PaneId::Output => self.output.hints(),
            PaneId::Inspector => self.inspector.hints(),
        };
        v.extend_from_slice(own);
        v.push(Action::FocusNext);
        if self.replay.is_none() {
            v.push(Action::Save);
            v.push(Action::Open);
            v.push(Action::ToggleMode);
        }
        v.push(Action::CycleSpeed);
        v.push(Action::Quit);
        v
    }
}

/// Splits `total` rows among panes given `(minimum, weight)`: minimums first (as far as they
/// fit), the rest by weight; the last pane takes any rounding remainder.
fn share(total: u16, panes: &[(u16, u16)]) -> Vec<u16> {
    let mins: u16 = panes.iter().map(|p| p.0).sum();
    if total < mins {
        // Too small for the minimums: by weight alone.
        let wsum: u32 = panes.iter().map(|p| u32::from(p.1)).sum::<u32>().max(1);
        return panes
            .iter()
            .map(|p| (u32::from(total) * u32::from(p.1) / wsum) as u16)
            .collect();
    }
    let spare = u32::from(total - mins);
    let wsum: u32 = panes.iter().map(|p| u32::from(p.1)).sum::<u32>().max(1);
    let mut out: Vec<u16> = panes
        .iter()
        .map(|p| p.0 + (spare * u32::from(p.1) / wsum) as u16)
        .collect();
    let used: u16 = out.iter().sum();
    if let Some(last) = out.last_mut() {
        *last += total.saturating_sub(used);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn share_gives_minimums_then_weights() {
        assert_eq!(share(30, &[(4, 3), (5, 10), (4, 3)]), vec![7, 15, 8]);
        assert_eq!(share(13, &[(4, 3), (5, 10), (4, 3)]), vec![4, 5, 4]);
        let tiny = share(6, &[(4, 1), (5, 1), (4, 1)]);
        assert!(tiny.iter().sum::<u16>() <= 6);
    }
}
