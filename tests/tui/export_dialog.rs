//! The playground's Export action (issue 11 item 2): F6 / Ctrl+X opens a dialog over the
//! panes: the five targets, then the code with its findings first, then a file written
//! through the atomic write (asking before it replaces one) or a copy by OSC 52. Snapshots of
//! the list, the code at 100x32 and 80x24, in mono, and of the overwrite question; whole-app
//! tests writing the edited basic-retry to a temp dir and comparing it with
//! `retrylab export basic-retry --to mirascope`.

use super::tui_controls::builtin;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use retrylab::tui::app::{AppConfig, Origin, Start};
use retrylab::tui::keymap::{self, Scope};
use retrylab::tui::panes::export::{ExportDialog, Outcome, Source};
use retrylab::tui::panes::schedule::PlacedError;
use retrylab::tui::runner::Playground;
use retrylab::tui::split::Part;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

fn playground(
    dir: &Path,
    w: u16,
    h: u16,
    start: Start,
    theme: Option<&str>,
) -> Playground<TestBackend> {
    let mut config = AppConfig::isolated(dir);
    config.theme = theme.map(str::to_string);
    let mut pg = Playground::new(TestBackend::new(w, h), config, start).expect("playground");
    pg.draw().expect("draw");
    pg
}

/// `retrylab export NAME --to TARGET`'s stdout.
fn cli_export(name: &str, target: &str, dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_retrylab"))
        .args(["export", name, "--to", target])
        .env("RETRYLAB_DATA_DIR", dir.join("data"))
        .env("RETRYLAB_CONFIG_DIR", dir.join("config"))
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Clears the path prompt and types `path`.
fn type_path(pg: &mut Playground<TestBackend>, path: &Path) {
    pg.ctrl('u');
    pg.type_text(&path.display().to_string());
}

#[test]
fn the_target_list() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), 100, 32, builtin("chaos"), None);
    pg.key(KeyCode::F(6));
    pg.key(KeyCode::Down);
    let s = pg.screen();
    for want in [
        " Export Chaos ",
        "▶ 2 tenacity",
        "1 mirascope",
        "5 portkey",
        "LiteLLM Router: num_retries, fallbacks · .yaml",
        "6 findings",
        "Enter shows the code",
    ] {
        assert!(s.contains(want), "{want}:\n{s}");
    }
    insta::assert_snapshot!("export_targets", s);
}

#[test]
fn the_code_with_its_findings_at_100x32() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), 100, 32, builtin("chaos"), None);
    pg.ctrl('x');
    pg.key(KeyCode::Enter);
    let s = pg.screen();
    for want in [
        " Export Chaos → Mirascope ",
        "⚠ 1 finding: what Mirascope cannot express here",
        "• jitter: seeds can't be shared across languages",
        "2 \"\"\"Chaos — exported by retrylab",
        "w write to a file",
        "Ctrl+C copy (OSC 52)",
        "Esc back",
    ] {
        assert!(s.contains(want), "{want}:\n{s}");
    }
    // The findings are drawn as warnings (the theme's meaning, not plain text).
    let theme = retrylab::tui::theme::ThemeSet::load(None)
        .0
        .initial(false, None);
    let warn = theme.style(retrylab::tui::theme::Meaning::Warning);
    let buf = pg.terminal.backend().buffer();
    let row = (0..buf.area.height)
        .find(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, *y)].symbol())
                .collect::<String>()
                .contains("⚠ 1 finding")
        })
        .expect("the findings line");
    let x = (0..buf.area.width)
        .find(|x| buf[(*x, row)].symbol() == "⚠")
        .unwrap();
    assert_eq!(buf[(x, row)].fg, warn.fg.unwrap_or(Color::Reset));
    insta::assert_snapshot!("export_code_100x32", s);
    // The code scrolls; the place in it is in the bottom border.
    pg.key(KeyCode::PageDown);
    let s = pg.screen();
    assert!(!s.contains("⚠ 1 finding"), "{s}");
    assert!(s.contains(" of "), "{s}");
}

#[test]
fn the_code_with_its_findings_at_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), 80, 24, builtin("chaos"), None);
    pg.key(KeyCode::F(6));
    pg.key(KeyCode::Char('5'));
    let s = pg.screen();
    for want in [
        " Export Chaos → Portkey ",
        "⚠ 6 findings",
        "• Portkey: attempts capped at 5",
        "• Portkey: no jitter",
        "x-retrylab-findings",
        "Esc back",
    ] {
        assert!(s.contains(want), "{want}:\n{s}");
    }
    // The status bar stays visible under the dialog.
    assert!(s.lines().last().unwrap().contains("SIM"), "{s}");
    insta::assert_snapshot!("export_code_80x24", s);
    // Tab goes on to the next target (round to the first).
    pg.key(KeyCode::Tab);
    assert!(pg.screen().contains(" Export Chaos → Mirascope "));
}

#[test]
fn the_mono_theme_has_no_colour_and_still_marks_the_findings() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), 100, 32, builtin("chaos"), Some("mono"));
    pg.key(KeyCode::F(6));
    pg.key(KeyCode::Enter);
    let buf = pg.terminal.backend().buffer();
    for cell in buf.content() {
        assert!(
            matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset),
            "a colour in mono: {cell:?}"
        );
    }
    let s = pg.screen();
    assert!(s.contains("⚠ 1 finding") && s.contains("  • jitter"), "{s}");
    insta::assert_snapshot!("export_code_mono", s);
}

fn dialog_source() -> Source {
    let b = retrylab::scenario::builtin::find("chaos").expect("a built-in");
    let s = retrylab::scenario::load::parse(b.source, "builtin:chaos").expect("chaos parses");
    Source {
        scenario: Ok(Arc::new(s)),
        arg: "chaos".into(),
        name: "Chaos".into(),
        stem: "chaos".into(),
        folder: "/home/me/project".into(),
        note: None,
    }
}

fn press(d: &mut ExportDialog, code: KeyCode) -> Outcome {
    let k = KeyEvent::new(code, KeyModifiers::NONE);
    d.on_key(&k, keymap::lookup(&k, &[Scope::Global, Scope::View]))
}

fn draw(d: &mut ExportDialog, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("a test terminal");
    let theme = retrylab::tui::theme::ThemeSet::load(None)
        .0
        .initial(false, None);
    t.draw(|f| d.render(f, f.area(), &theme)).expect("a frame");
    let buf = t.backend().buffer();
    (0..h)
        .map(|y| {
            let row: String = (0..w).map(|x| buf[(x, y)].symbol()).collect();
            row.trim_end().to_string() + "\n"
        })
        .collect()
}

/// The path prompt, then the question about an existing file (a fixed folder, so the
/// snapshot does not hold a temp dir's name).
#[test]
fn the_path_prompt_and_the_overwrite_question() {
    let mut d = ExportDialog::new(dialog_source());
    press(&mut d, KeyCode::Enter);
    press(&mut d, KeyCode::Char('w'));
    let s = draw(&mut d, 80, 24);
    assert!(s.contains("file: chaos.py▏"), "{s}");
    assert!(s.contains("written in /home/me/project"), "{s}");
    insta::assert_snapshot!("export_path_prompt", s);
    d.ask_overwrite("/home/me/project/chaos.py".into());
    let s = draw(&mut d, 80, 24);
    assert!(
        s.contains("/home/me/project/chaos.py exists already."),
        "{s}"
    );
    assert!(s.contains("o  overwrite it with the export"), "{s}");
    insta::assert_snapshot!("export_overwrite_question", s);
}

/// The edited basic-retry (a comment added: the scenario is the same) written to a file in a
/// temp dir equals `retrylab export basic-retry --to mirascope`; the second write asks first.
#[test]
fn the_edited_basic_retry_is_written_as_the_cli_exports_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), 120, 40, builtin("basic-retry"), None);
    // An edit in the Policy editor (focused at start): a comment line at the top.
    pg.type_text("# tuned in the playground\n");
    pg.settle();
    assert!(pg.app.is_dirty());
    assert_eq!(
        pg.app.editor_lines(Part::Policy)[0],
        "# tuned in the playground"
    );
    pg.ctrl('x');
    pg.key(KeyCode::Enter);
    let s = pg.screen();
    assert!(s.contains("note: unsaved edits"), "{s}");
    pg.key(KeyCode::Char('w'));
    assert!(
        pg.screen().contains("file: basic-retry.py▏"),
        "{}",
        pg.screen()
    );
    let out = dir.path().join("out").join("basic-retry.py");
    std::fs::create_dir(dir.path().join("out")).unwrap();
    type_path(&mut pg, &out);
    pg.key(KeyCode::Enter);
    assert!(!pg.app.overlay_open(), "{}", pg.screen());
    let notice = pg.app.notice().unwrap_or_default().to_string();
    assert!(
        notice.contains("exported to") && notice.contains("basic-retry.py"),
        "{notice}"
    );
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written, cli_export("basic-retry", "mirascope", dir.path()));
    // Nothing else in the folder: no temporary file left by the atomic write.
    assert_eq!(
        std::fs::read_dir(dir.path().join("out")).unwrap().count(),
        1
    );

    // Again: the file exists, so it asks; Esc goes back to the prompt, `o` overwrites.
    std::fs::write(&out, "old").unwrap();
    pg.key(KeyCode::F(6));
    pg.key(KeyCode::Enter);
    pg.key(KeyCode::Char('w'));
    type_path(&mut pg, &out);
    pg.key(KeyCode::Enter);
    assert!(pg.screen().contains("exists already."), "{}", pg.screen());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old");
    pg.key(KeyCode::Esc);
    assert!(pg.screen().contains("file: "), "{}", pg.screen());
    pg.key(KeyCode::Enter);
    pg.key(KeyCode::Char('o'));
    assert!(!pg.app.overlay_open());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), written);
}

#[test]
fn a_real_edit_is_exported_under_the_name_offered_and_a_missing_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let b = retrylab::scenario::builtin::find("basic-retry").unwrap();
    let text = b.source.replace("after_attempt = 3", "after_attempt = 5");
    assert_ne!(text, b.source, "basic-retry stops after 3 attempts");
    let start = Start::Scenario {
        text,
        origin: Origin::Builtin("basic-retry".into()),
    };
    let mut pg = playground(dir.path(), 120, 40, start, None);
    pg.key(KeyCode::F(6));
    pg.key(KeyCode::Char('2'));
    assert!(
        pg.screen().contains("Export Basic retry → Tenacity"),
        "{}",
        pg.screen()
    );
    pg.key(KeyCode::Char('w'));
    assert!(pg.screen().contains("file: basic-retry.py▏"));
    // The name offered, as it is: a bare name goes to the export folder (the current one;
    // under the test's root here).
    std::fs::create_dir(dir.path().join("exports")).unwrap();
    pg.key(KeyCode::Enter);
    let out = dir.path().join("exports").join("basic-retry.py");
    let code = std::fs::read_to_string(&out).unwrap();
    assert!(code.contains("stop_after_attempt(5)"), "{code}");
    pg.key(KeyCode::F(6));
    pg.key(KeyCode::Char('2'));
    pg.key(KeyCode::Char('w'));
    type_path(&mut pg, &dir.path().join("no-such-folder").join("x.py"));
    pg.key(KeyCode::Enter);
    let s = pg.screen();
    assert!(s.contains("no folder"), "{s}");
    assert!(!dir.path().join("no-such-folder").exists());
    // A folder is not a file name.
    type_path(&mut pg, dir.path());
    pg.key(KeyCode::Enter);
    assert!(pg.screen().contains("is a folder"), "{}", pg.screen());
    // Esc steps back: prompt → code → list → closed.
    pg.key(KeyCode::Esc);
    assert!(pg.screen().contains("Ctrl+C copy"));
    pg.key(KeyCode::Esc);
    assert!(pg.screen().contains("Pick a target"));
    pg.key(KeyCode::Esc);
    assert!(!pg.app.overlay_open());
}

#[test]
fn ctrl_c_copies_the_code_by_osc_52_and_says_when_it_is_too_large() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), 120, 40, builtin("basic-retry"), None);
    pg.key(KeyCode::F(6));
    pg.key(KeyCode::Enter);
    pg.ctrl('c');
    let code = cli_export("basic-retry", "mirascope", dir.path());
    let want = retrylab::tui::clipboard::osc52(&code).unwrap();
    assert_eq!(pg.last_escape.as_deref(), Some(want.as_str()));
    assert!(pg.screen().contains("copied"), "{}", pg.screen());
    assert!(pg.app.overlay_open() && !pg.app.should_quit);

    // A prompt of 120 KB: its export is more than one OSC 52 sequence may carry.
    let b = retrylab::scenario::builtin::find("basic-retry").unwrap();
    let big = "x".repeat(120 * 1024);
    let text = b
        .source
        .replacen("template = \"", &format!("template = \"{big} "), 1);
    assert_ne!(text, b.source, "basic-retry has a one-line template");
    let start = Start::Scenario {
        text,
        origin: Origin::Builtin("basic-retry".into()),
    };
    let mut pg = playground(dir.path(), 120, 40, start, None);
    pg.key(KeyCode::F(6));
    pg.key(KeyCode::Enter);
    pg.ctrl('c');
    let s = pg.screen();
    assert!(
        s.contains("not copied:") && s.contains("more than OSC 52 takes"),
        "{s}"
    );
    assert!(pg.last_escape.is_none());
}

#[test]
fn a_scenario_that_does_not_parse_shows_its_error_instead_of_code() {
    let dir = tempfile::tempdir().unwrap();
    let b = retrylab::scenario::builtin::find("basic-retry").unwrap();
    let text = b
        .source
        .replace("after_attempt = 3", "after_attempt = \"three\"");
    let start = Start::Scenario {
        text,
        origin: Origin::Builtin("basic-retry".into()),
    };
    let mut pg = playground(dir.path(), 100, 32, start, None);
    assert!(pg.app.parse_error().is_some());
    pg.key(KeyCode::F(6));
    assert!(
        pg.screen().contains("✗ the scenario has an error"),
        "{}",
        pg.screen()
    );
    pg.key(KeyCode::Enter);
    let s = pg.screen();
    assert!(
        s.contains("does not parse, so there is no code to export"),
        "{s}"
    );
    let headline = match pg.app.parse_error() {
        Some(PlacedError { message, .. }) => message.clone(),
        None => unreachable!(),
    };
    let first_words: String = headline.chars().take(20).collect();
    assert!(s.contains(&first_words), "{first_words}:\n{s}");
    assert!(!s.contains("\"\"\""), "{s}");
    pg.key(KeyCode::Char('w'));
    assert!(pg.screen().contains("nothing to export"), "{}", pg.screen());
    insta::assert_snapshot!("export_parse_error", pg.screen());
}
