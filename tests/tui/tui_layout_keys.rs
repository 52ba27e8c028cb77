//! Whole-app tests of issue 9's layout and editing keys: Tab moves the focus border, never
//! the geometry; Ctrl+W / `z` zoom; the Plan takes focus, wraps and scrolls; the editors'
//! gutter stays put sideways; undo steps by runs of typing; Ctrl+U kills, Ctrl+Y redoes;
//! Ctrl+C copies with OSC 52 and never quits at once.

use super::tui_controls::{builtin, playground};
use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::backend::TestBackend;
use retrylab::tui::app::{AppConfig, Origin, Start};
use retrylab::tui::panes::PaneId;
use retrylab::tui::runner::Playground;
use retrylab::tui::split::Part;
use std::time::{Duration, Instant};

/// Where the box corners are on screen, thick and thin alike (status bar left out).
fn corners(pg: &Playground<TestBackend>) -> Vec<(usize, usize, char)> {
    let screen = pg.screen();
    let rows: Vec<&str> = screen.lines().collect();
    let mut out = Vec::new();
    for (y, row) in rows[..rows.len() - 1].iter().enumerate() {
        for (x, c) in row.chars().enumerate() {
            let thin = match c {
                '┌' | '┏' => '┌',
                '┐' | '┓' => '┐',
                '└' | '┗' => '└',
                '┘' | '┛' => '┘',
                _ => continue,
            };
            out.push((x, y, thin));
        }
    }
    out
}

#[tokio::test]
async fn tab_moves_the_focus_border_not_the_geometry() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(
        AppConfig::isolated(dir.path()),
        builtin("fallback-with-retries"),
    );
    let first = corners(&pg);
    for _ in 0..PaneId::ALL.len() {
        pg.key(KeyCode::Tab);
        assert_eq!(
            corners(&pg),
            first,
            "focus on {:?} moved a pane",
            pg.app.focus()
        );
    }
}

#[tokio::test]
async fn ctrl_w_and_z_zoom_the_focused_pane_and_restore_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(
        AppConfig::isolated(dir.path()),
        builtin("fallback-with-retries"),
    );
    assert_eq!(pg.app.focus(), PaneId::Policy);
    assert!(pg.screen().contains("Ctrl+W zoom"), "{}", pg.screen());
    pg.ctrl('w');
    assert!(pg.app.is_zoomed());
    let s = pg.screen();
    let top = s.lines().next().unwrap();
    assert!(top.starts_with("┏ Policy") && top.ends_with('┓'), "{s}");
    assert_eq!(top.chars().count(), 120, "{s}");
    assert!(
        !s.contains("Timeline") && !s.contains("Prompt [prompt]"),
        "{s}"
    );
    // Zoomed, the editor shows more of its lines.
    assert!(s.contains("[[fallback.hops]]"), "{s}");
    pg.ctrl('w');
    assert!(!pg.app.is_zoomed());
    assert!(pg.screen().contains("Timeline"));
    // `z` zooms outside the editors, and types a z inside them.
    pg.app.set_focus(PaneId::Timeline);
    pg.key(KeyCode::Char('z'));
    assert!(pg.app.is_zoomed());
    assert!(
        pg.screen()
            .lines()
            .next()
            .unwrap()
            .starts_with("┏ Timeline")
    );
    pg.key(KeyCode::Char('z'));
    assert!(!pg.app.is_zoomed());
    pg.app.set_focus(PaneId::Policy);
    pg.key(KeyCode::Char('z'));
    assert!(!pg.app.is_zoomed());
    assert!(pg.app.is_dirty());
}

fn forty_attempts() -> Start {
    let b = retrylab::scenario::builtin::find("fallback-with-retries").expect("a built-in");
    Start::Scenario {
        text: b.source.replace(
            "stop = { after_attempt = 3 }",
            "stop = { after_attempt = 40 }",
        ),
        origin: Origin::Builtin(b.name.to_string()),
    }
}

#[tokio::test]
async fn the_plan_takes_focus_and_a_long_plan_wraps_and_scrolls() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(AppConfig::isolated(dir.path()), forty_attempts());
    pg.key(KeyCode::Tab);
    pg.key(KeyCode::Tab);
    assert_eq!(pg.app.focus(), PaneId::Plan);
    let s = pg.screen();
    assert!(s.contains("┏ Plan if every attempt fails 1-"), "{s}");
    // Every step is there (no "… 40 attempts"), wrapped, not cut.
    assert!(!s.contains("… 40 attempts"), "{s}");
    assert!(s.contains("#1 ─4 s→ #2"), "{s}");
    pg.key(KeyCode::End);
    let s = pg.screen();
    assert!(s.contains("#40") && s.contains("✗ retry_error"), "{s}");
    // Zoomed, the whole plan fits.
    pg.key(KeyCode::Char('z'));
    let s = pg.screen();
    assert!(s.contains("worst case 80 attempts"), "{s}");
    assert!(s.contains("primary openai    #1 ─4 s→ #2"), "{s}");
    assert!(s.contains("hop 1   anthropic #1 ─4 s→ #2"), "{s}");
    assert!(s.contains("#40") && !s.contains(" of "), "{s}");
}

#[tokio::test]
async fn the_gutter_stays_when_the_editor_scrolls_sideways() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(
        AppConfig::isolated(dir.path()),
        builtin("fallback-with-retries"),
    );
    // Line 2 of the Policy editor (`about = """...`) is longer than the pane.
    pg.key(KeyCode::Down);
    pg.key(KeyCode::End);
    let s = pg.screen();
    let row = |n: &str| {
        s.lines()
            .find(|l| l.starts_with(&format!("┃ {n:>2} ")))
            .map(str::to_string)
    };
    let line2 = row("2").unwrap_or_else(|| panic!("no line number 2 at the left:\n{s}"));
    assert!(row("1").is_some(), "{s}");
    // The text did scroll: the end of line 2 shows, its start does not.
    assert!(!line2.contains("about = "), "{line2}");
}

#[tokio::test]
async fn a_click_ends_the_step_of_typing() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(
        AppConfig::isolated(dir.path()),
        builtin("fallback-with-retries"),
    );
    pg.app.freeze_time(Some(Instant::now()));
    let first = pg.app.editor_lines(Part::Policy)[0].clone();
    let second = pg.app.editor_lines(Part::Policy)[1].clone();
    pg.type_text("abc");
    // Click the start of the Policy editor's second line, within the same second.
    let screen = pg.screen();
    let (y, line) = screen
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(&second[..12]))
        .expect("the second line on screen");
    let x = line[..line.find(&second[..12]).unwrap()].chars().count();
    pg.click(x as u16, y as u16);
    pg.type_text("def");
    pg.ctrl('z');
    let lines = pg.app.editor_lines(Part::Policy);
    assert_eq!(lines[0], format!("abc{first}"), "the first step stays");
    assert_eq!(
        lines[1], second,
        "one Ctrl+Z took back only what followed the click"
    );
}

#[tokio::test]
async fn one_undo_takes_back_a_word_and_ctrl_y_redoes_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(
        AppConfig::isolated(dir.path()),
        builtin("fallback-with-retries"),
    );
    let t0 = Instant::now();
    pg.app.freeze_time(Some(t0));
    let before = pg.app.editor_lines(Part::Policy)[0].clone();
    pg.type_text("# hello ");
    pg.type_text("world");
    assert_eq!(
        pg.app.editor_lines(Part::Policy)[0],
        format!("# hello world{before}")
    );
    pg.ctrl('z');
    assert_eq!(
        pg.app.editor_lines(Part::Policy)[0],
        format!("# hello {before}")
    );
    pg.ctrl('z');
    assert_eq!(pg.app.editor_lines(Part::Policy)[0], format!("# {before}"));
    pg.ctrl('y');
    pg.ctrl('y');
    assert_eq!(
        pg.app.editor_lines(Part::Policy)[0],
        format!("# hello world{before}")
    );
    // A pause ends a step even inside a word.
    pg.app.freeze_time(Some(t0 + Duration::from_secs(5)));
    pg.type_text("ly");
    pg.ctrl('z');
    assert_eq!(
        pg.app.editor_lines(Part::Policy)[0],
        format!("# hello world{before}")
    );
}

#[tokio::test]
async fn ctrl_u_deletes_to_the_start_of_the_line_and_is_not_undo() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(
        AppConfig::isolated(dir.path()),
        builtin("fallback-with-retries"),
    );
    let line = pg.app.editor_lines(Part::Policy)[0].clone();
    pg.key(KeyCode::End);
    pg.ctrl('u');
    assert_eq!(pg.app.editor_lines(Part::Policy)[0], "");
    pg.ctrl('z');
    assert_eq!(pg.app.editor_lines(Part::Policy)[0], line);
    pg.ctrl('y');
    assert_eq!(pg.app.editor_lines(Part::Policy)[0], "");
}

#[tokio::test]
async fn ctrl_c_copies_the_selection_with_osc_52() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(
        AppConfig::isolated(dir.path()),
        builtin("fallback-with-retries"),
    );
    let line = pg.app.editor_lines(Part::Policy)[0].clone();
    pg.press(KeyCode::End, KeyModifiers::SHIFT);
    pg.ctrl('c');
    let want = retrylab::tui::clipboard::osc52(&line).unwrap();
    assert_eq!(pg.last_escape.as_deref(), Some(want.as_str()));
    let n = line.chars().count();
    assert_eq!(
        pg.app.notice(),
        Some(format!("copied {n} characters to the clipboard").as_str())
    );
    assert!(!pg.app.should_quit && !pg.app.is_dirty());
}

#[tokio::test]
async fn ctrl_c_without_a_selection_never_quits_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(
        AppConfig::isolated(dir.path()),
        builtin("fallback-with-retries"),
    );
    pg.type_text("x");
    pg.ctrl('c');
    assert!(!pg.app.should_quit && !pg.app.overlay_open());
    assert!(
        pg.app
            .notice()
            .unwrap()
            .contains("Ctrl+C again or Ctrl+Q quits")
    );
    // Twice: the quit of Ctrl+Q, which asks about the unsaved edits.
    pg.ctrl('c');
    assert!(!pg.app.should_quit);
    assert!(pg.app.overlay_open(), "{}", pg.screen());
    pg.key(KeyCode::Esc);
    // With nothing unsaved, twice quits.
    let mut clean = playground(AppConfig::isolated(dir.path()), builtin("basic-retry"));
    clean.ctrl('c');
    assert!(!clean.app.should_quit);
    clean.ctrl('c');
    assert!(clean.app.should_quit);
}

#[test]
fn the_readme_key_table_lists_every_binding() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme.find("| key | does |").expect("the key table");
    let table: String = readme[start..]
        .lines()
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.split('|').nth(1).unwrap_or_default().to_string() + "\n")
        .collect();
    for b in retrylab::tui::keymap::BINDINGS {
        for k in b.keys {
            assert!(
                table.contains(&k.label()),
                "README's key table lacks {} ({:?})",
                k.label(),
                b.action
            );
        }
    }
}
