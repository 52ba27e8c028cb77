//! The Export dialog (issue 11): pick a target, read the code the edited scenario exports to
//! (its findings first), then write it to a file or copy it (OSC 52). A widget only: the code
//! is `crate::export`'s (pure text), and the file and the clipboard are the App's, which the
//! dialog asks for with an [`Outcome`] and answers with [`ExportDialog::write_failed`],
//! [`ExportDialog::ask_overwrite`] and [`ExportDialog::say`].

use super::fit;
use super::overlay::{Choice, Confirm, centered, popup_block};
use super::schedule::PlacedError;
use crate::export::{Exported, Target, export};
use crate::scenario::types::Scenario;
use crate::tui::keymap::{self, Action, Answer};
use crate::tui::output_buf::wrap_line;
use crate::tui::theme::{Meaning, Theme};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use std::path::PathBuf;
use std::sync::Arc;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The longest path the prompt takes (bytes).
pub const MAX_PATH_BYTES: usize = 4096;
/// Columns ←/→ move the code by.
const H_STEP: usize = 8;
/// The code view is at most this wide (wider screens keep the panes visible at the sides).
const MAX_WIDTH: u16 = 124;

/// What each target is, in one line, for the list.
fn about(t: Target) -> &'static str {
    match t {
        Target::Mirascope => "Mirascope v1 program: @retry, @fallback · .py",
        Target::Tenacity => "plain Tenacity @retry around the SDKs · .py",
        Target::MirascopeV2 => "Mirascope v2: @llm.retry, fallback_models · .py",
        Target::Litellm => "LiteLLM Router: num_retries, fallbacks · .yaml",
        Target::Portkey => "Portkey gateway config: retry, fallback · .json",
    }
}

/// The scenario to export, as the App hands it over.
pub struct Source {
    pub scenario: Result<Arc<Scenario>, PlacedError>,
    /// How `retrylab export` / `retrylab sim` name it in the code (`basic-retry`, a path).
    pub arg: String,
    /// Shown in the titles.
    pub name: String,
    /// The file name offered, before its extension.
    pub stem: String,
    /// Where a bare file name is written (shown in the prompt).
    pub folder: String,
    /// A caveat shown above the code (unsaved edits).
    pub note: Option<String>,
}

/// Where the App is asked to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteTo {
    /// What was typed in the prompt: the App resolves it and asks before replacing a file.
    Typed(String),
    /// A file the user agreed to overwrite.
    Overwrite(PathBuf),
}

/// What a key in the dialog asks of the App.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Stay,
    Close,
    /// Ctrl+Q: quit as it would anywhere.
    Quit,
    /// Write this code; the dialog stays open until the App says it is written.
    Write(WriteTo, String),
    /// Copy this code to the clipboard.
    Copy(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Targets,
    Code,
    Path,
    Overwrite(PathBuf),
}

pub struct ExportDialog {
    source: Source,
    /// Every target's export, made once (small pure text); none when the scenario has an error.
    exports: Option<Vec<Exported>>,
    selected: usize,
    step: Step,
    scroll: usize,
    hscroll: usize,
    /// Rows of code shown at the last frame (a page).
    page: usize,
    path: String,
    path_error: Option<String>,
    said: Option<(String, Meaning)>,
}

impl ExportDialog {
    pub fn new(source: Source) -> ExportDialog {
        let exports = source.scenario.as_ref().ok().map(|s| {
            Target::ALL
                .iter()
                .map(|t| export(s, &source.arg, *t))
                .collect()
        });
        ExportDialog {
            source,
            exports,
            selected: 0,
            step: Step::Targets,
            scroll: 0,
            hscroll: 0,
            page: 10,
            path: String::new(),
            path_error: None,
            said: None,
        }
    }

    fn target(&self) -> Target {
        Target::ALL[self.selected.min(Target::ALL.len() - 1)]
    }

    fn shown(&self) -> Option<&Exported> {
        self.exports.as_ref()?.get(self.selected)
    }

    /// The prompt's text is a file that exists: ask before replacing it.
    pub fn ask_overwrite(&mut self, path: PathBuf) {
        self.step = Step::Overwrite(path);
    }

    /// The write failed, or the path was refused: back to the prompt, saying why.
    pub fn write_failed(&mut self, why: String) {
        self.step = Step::Path;
        self.path_error = Some(why);
    }

    /// A line under the code (what a copy did).
    pub fn say(&mut self, text: String, meaning: Meaning) {
        self.said = Some((text, meaning));
    }

    pub fn on_key(&mut self, k: &KeyEvent, action: Option<Action>) -> Outcome {
        self.said = None;
        match self.step.clone() {
            Step::Path => self.path_key(k, action),
            Step::Overwrite(path) => match action {
                Some(Action::Cancel) => {
                    self.step = Step::Path;
                    Outcome::Stay
                }
                Some(Action::Quit) => Outcome::Quit,
                _ if keymap::answer(k, [Answer::Overwrite]).is_some() => {
                    self.code_outcome(|code| Outcome::Write(WriteTo::Overwrite(path), code))
                }
                _ => Outcome::Stay,
            },
            Step::Targets | Step::Code => match action {
                Some(Action::Quit) => Outcome::Quit,
                Some(Action::Export | Action::Close) => Outcome::Close,
                _ if self.step == Step::Targets => self.targets_key(k, action),
                _ => self.code_key(k, action),
            },
        }
    }

    fn targets_key(&mut self, k: &KeyEvent, action: Option<Action>) -> Outcome {
        let last = Target::ALL.len() - 1;
        match (action, k.code) {
            (Some(Action::Cancel), _) => return Outcome::Close,
            (Some(Action::Up), _) => self.selected = self.selected.saturating_sub(1),
            (Some(Action::Down), _) => self.selected = (self.selected + 1).min(last),
            (Some(Action::Top), _) => self.selected = 0,
            (Some(Action::Bottom), _) => self.selected = last,
            (_, KeyCode::Enter | KeyCode::Right) => self.show_code(),
            (_, KeyCode::Char(c @ '1'..='9')) if k.modifiers.is_empty() => {
                let i = c as usize - '1' as usize;
                if i <= last {
                    self.selected = i;
                    self.show_code();
                }
            }
            _ => {}
        }
        Outcome::Stay
    }

    fn show_code(&mut self) {
        self.step = Step::Code;
        self.scroll = 0;
        self.hscroll = 0;
    }

    fn code_key(&mut self, k: &KeyEvent, action: Option<Action>) -> Outcome {
        let n = Target::ALL.len();
        let page = self.page.max(1);
        match (action, k.code) {
            (Some(Action::Cancel), _) => self.step = Step::Targets,
            (Some(Action::Up), _) => self.scroll = self.scroll.saturating_sub(1),
            (Some(Action::Down), _) => self.scroll = self.scroll.saturating_add(1),
            (Some(Action::PageUp), _) => self.scroll = self.scroll.saturating_sub(page),
            (Some(Action::PageDown), _) => self.scroll = self.scroll.saturating_add(page),
            (Some(Action::Top), _) => self.scroll = 0,
            // Clamped to the last page when drawn.
            (Some(Action::Bottom), _) => self.scroll = usize::MAX,
            (Some(Action::FocusNext), _) => {
                self.selected = (self.selected + 1) % n;
                self.show_code();
            }
            (Some(Action::FocusPrev), _) => {
                self.selected = (self.selected + n - 1) % n;
                self.show_code();
            }
            (_, KeyCode::Left) => self.hscroll = self.hscroll.saturating_sub(H_STEP),
            (_, KeyCode::Right) => self.hscroll = self.hscroll.saturating_add(H_STEP),
            (Some(Action::Copy), _) => return self.code_outcome(Outcome::Copy),
            (Some(Action::Save), _) => self.ask_path(),
            _ if keymap::answer(k, [Answer::WriteFile]).is_some() => self.ask_path(),
            _ => {}
        }
        Outcome::Stay
    }

    /// What to ask of the App with the shown code; with none, why not (said in the dialog).
    fn code_outcome(&mut self, f: impl FnOnce(String) -> Outcome) -> Outcome {
        match self.shown() {
            Some(e) => f(e.code.clone()),
            None => {
                self.say(
                    "nothing to export: the scenario has an error (fix it in the editors)".into(),
                    Meaning::Error,
                );
                Outcome::Stay
            }
        }
    }

    fn ask_path(&mut self) {
        if self.shown().is_none() {
            self.code_outcome(|_| Outcome::Stay);
            return;
        }
        self.path = format!("{}.{}", self.source.stem, self.target().file_extension());
        self.path_error = None;
        self.step = Step::Path;
    }

    fn path_key(&mut self, k: &KeyEvent, action: Option<Action>) -> Outcome {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        let alt = k.modifiers.contains(KeyModifiers::ALT);
        match k.code {
            KeyCode::Enter if self.path.trim().is_empty() => {
                self.path_error = Some("a file name is needed".into());
            }
            KeyCode::Enter => {
                let typed = self.path.clone();
                return self.code_outcome(|code| Outcome::Write(WriteTo::Typed(typed), code));
            }
            KeyCode::Backspace => {
                self.path.pop();
                self.path_error = None;
            }
            KeyCode::Char('u') if ctrl => {
                self.path.clear();
                self.path_error = None;
            }
            KeyCode::Char(c) if !ctrl && !alt => {
                if self.path.len() + c.len_utf8() <= MAX_PATH_BYTES {
                    self.path.push(c);
                    self.path_error = None;
                } else {
                    self.path_error = Some(format!("a path is at most {MAX_PATH_BYTES} bytes"));
                }
            }
            _ => match action {
                Some(Action::Cancel) => self.step = Step::Code,
                Some(Action::Quit) => return Outcome::Quit,
                _ => {}
            },
        }
        Outcome::Stay
    }

    /// Pasted text goes into the path prompt (one line), and nowhere else.
    pub fn on_paste(&mut self, text: &str) {
        if self.step != Step::Path {
            return;
        }
        let line = text.lines().next().unwrap_or_default();
        if self.path.len() + line.len() <= MAX_PATH_BYTES {
            self.path.push_str(line);
            self.path_error = None;
        } else {
            self.path_error = Some(format!("a path is at most {MAX_PATH_BYTES} bytes"));
        }
    }

    /// The wheel: moves the target list, scrolls the code.
    pub fn on_scroll(&mut self, rows: i32) {
        match self.step {
            Step::Targets => {
                let last = Target::ALL.len() - 1;
                self.selected = if rows < 0 {
                    self.selected.saturating_sub(1)
                } else {
                    (self.selected + 1).min(last)
                };
            }
            Step::Code => {
                let by = rows.unsigned_abs() as usize;
                self.scroll = if rows < 0 {
                    self.scroll.saturating_sub(by)
                } else {
                    self.scroll.saturating_add(by)
                };
            }
            Step::Path | Step::Overwrite(_) => {}
        }
    }

    pub fn render(&mut self, frame: &mut Frame, screen: Rect, theme: &Theme) {
        if self.step == Step::Targets {
            return self.render_targets(frame, screen, theme);
        }
        self.render_code(frame, screen, theme);
        match &self.step {
            Step::Path => self.render_path(frame, screen, theme),
            Step::Overwrite(path) => Confirm {
                title: "Overwrite?".into(),
                body: format!("{} exists already.", path.display()),
                choices: vec![Choice::new(
                    Answer::Overwrite,
                    "overwrite it with the export",
                )],
            }
            .render(frame, screen, theme),
            Step::Targets | Step::Code => {}
        }
    }

    fn render_targets(&self, frame: &mut Frame, screen: Rect, theme: &Theme) {
        let area = centered(screen, 78, Target::ALL.len() as u16 + 7);
        let title = format!(" Export {} ", self.source.name);
        let room = area.width.saturating_sub(2) as usize;
        let hint = [
            "↑↓ choose · Enter shows the code · Esc closes ",
            "Enter shows the code · Esc closes ",
            "Esc closes ",
            "",
        ]
        .into_iter()
        .find(|h| title.width() + h.width() <= room)
        .unwrap_or_default();
        let block = popup_block(&title, hint, theme);
        let inner = block.inner(area);
        let w = inner.width as usize;
        let mut lines = vec![
            Line::from(Span::styled(
                fit("The policy as code for another stack. Pick a target:", w),
                theme.style(Meaning::Text),
            )),
            Line::default(),
        ];
        let sel = theme.style(Meaning::Selection).add_modifier(Modifier::BOLD);
        for (i, t) in Target::ALL.iter().enumerate() {
            let selected = i == self.selected;
            let head = format!(
                "{}{} {:<13}",
                if selected { "▶ " } else { "  " },
                i + 1,
                t.as_str()
            );
            let count = match self.exports.as_ref().and_then(|e| e.get(i)) {
                Some(e) => match e.findings.list().len() {
                    0 => "no findings".to_string(),
                    1 => "1 finding".to_string(),
                    n => format!("{n} findings"),
                },
                None => String::new(),
            };
            let room = w.saturating_sub(head.width() + count.width() + 1);
            let what = fit(about(*t), room);
            let pad = " ".repeat(w.saturating_sub(head.width() + what.width() + count.width()));
            let count_style = if count.starts_with("no ") {
                theme.style(Meaning::Muted)
            } else {
                theme.style(Meaning::Warning)
            };
            let spans = vec![
                Span::styled(head, theme.style(Meaning::Text)),
                Span::styled(what, theme.style(Meaning::Muted)),
                Span::raw(pad),
                Span::styled(count, count_style),
            ];
            lines.push(if selected {
                Line::from(
                    spans
                        .into_iter()
                        .map(|s| s.patch_style(sel))
                        .collect::<Vec<_>>(),
                )
            } else {
                Line::from(spans)
            });
        }
        lines.push(Line::default());
        lines.push(match &self.source.scenario {
            Err(e) => Line::from(Span::styled(
                fit(&format!("✗ the scenario has an error: {}", e.headline()), w),
                theme.style(Meaning::Error),
            )),
            Ok(_) => Line::from(Span::styled(
                fit(
                    "Findings: what a target cannot express here, and how it was approximated.",
                    w,
                ),
                theme.style(Meaning::Muted),
            )),
        });
        frame.render_widget(Clear, area);
        frame.render_widget(block, area);
        frame.render_widget(Paragraph::new(lines), inner);
    }

    /// The scrolling text: the findings (or the scenario's error), then the numbered code.
    fn content(&self, w: usize, theme: &Theme) -> Vec<Line<'static>> {
        let mut out = Vec::new();
        let para = |out: &mut Vec<Line<'static>>, text: &str, lead: &str, m: Meaning| {
            let indent = " ".repeat(lead.width());
            let room = w.saturating_sub(lead.width()).max(1) as u16;
            for (i, (a, b)) in wrap_line(text, room).into_iter().enumerate() {
                let lead = if i == 0 {
                    lead.to_string()
                } else {
                    indent.clone()
                };
                out.push(Line::from(Span::styled(
                    format!("{lead}{}", text[a..b].trim_end()),
                    theme.style(m),
                )));
            }
        };
        let Some(e) = self.shown() else {
            para(
                &mut out,
                "The scenario does not parse, so there is no code to export:",
                "✗ ",
                Meaning::Error,
            );
            out.push(Line::default());
            if let Err(err) = &self.source.scenario {
                para(&mut out, &err.headline(), "  ", Meaning::Error);
                if !err.hint.is_empty() {
                    para(&mut out, &err.hint, "  hint: ", Meaning::Muted);
                }
            }
            out.push(Line::default());
            para(
                &mut out,
                "Fix it in the editors (Esc twice closes this dialog), then export again.",
                "",
                Meaning::Muted,
            );
            return out;
        };
        let label = e.target.label();
        match e.findings.list() {
            [] => para(
                &mut out,
                &format!("No findings: {label} expresses this scenario as written."),
                "✓ ",
                Meaning::Success,
            ),
            list => {
                let n = list.len();
                let s = if n == 1 { "" } else { "s" };
                para(
                    &mut out,
                    &format!(
                        "{n} finding{s}: what {label} cannot express here, and how it was approximated (also at the top of the code):"
                    ),
                    "⚠ ",
                    Meaning::Warning,
                );
                for f in list {
                    para(&mut out, f, "  • ", Meaning::Warning);
                }
            }
        }
        if let Some(note) = &self.source.note {
            para(&mut out, note, "note: ", Meaning::Muted);
        }
        out.push(Line::from(Span::styled(
            "─".repeat(w),
            theme.style(Meaning::Border),
        )));
        let total = e.code.lines().count();
        let digits = total.max(1).to_string().len();
        let room = w.saturating_sub(digits + 1);
        let gutter = theme
            .style(Meaning::Text)
            .patch(theme.style(Meaning::LineNumber));
        for (i, line) in e.code.lines().enumerate() {
            let text = columns(&line.replace('\t', "    "), self.hscroll, room);
            out.push(Line::from(vec![
                Span::styled(format!("{:>digits$} ", i + 1), gutter),
                Span::styled(text, theme.style(Meaning::Text)),
            ]));
        }
        out
    }

    fn render_code(&mut self, frame: &mut Frame, screen: Rect, theme: &Theme) {
        let width = screen.width.saturating_sub(2).min(MAX_WIDTH);
        let area = centered(screen, width, screen.height.saturating_sub(2));
        let t = self.target();
        let title = format!(" Export {} → {} ", self.source.name, t.label());
        let lines_n = self.shown().map(|e| e.code.lines().count());
        let help = match lines_n {
            Some(n) => format!("· .{} · {n} lines ", t.file_extension()),
            None => String::new(),
        };
        let room = area.width.saturating_sub(2) as usize;
        let help = if title.width() + help.width() <= room {
            help
        } else {
            String::new()
        };
        let block = popup_block(&title, &help, theme);
        let inner = block.inner(area);
        let footer_h = if self.said.is_some() { 2 } else { 1 };
        let [body, footer] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(footer_h)]).areas(inner);
        let content = self.content(body.width as usize, theme);
        self.page = body.height as usize;
        let max = content.len().saturating_sub(self.page);
        self.scroll = self.scroll.min(max);
        let first = self.scroll + 1;
        let last = (self.scroll + self.page).min(content.len());
        let place = format!(" {first}–{last} of {} ", content.len());
        let block = block.title_bottom(
            Line::from(Span::styled(place, theme.style(Meaning::Muted)))
                .alignment(Alignment::Right),
        );
        let shown: Vec<Line> = content
            .into_iter()
            .skip(self.scroll)
            .take(self.page)
            .collect();
        frame.render_widget(Clear, area);
        frame.render_widget(block, area);
        frame.render_widget(Paragraph::new(shown), body);
        let mut foot = Vec::new();
        if let Some((text, m)) = &self.said {
            foot.push(Line::from(Span::styled(
                fit(text, footer.width as usize),
                theme.style(*m),
            )));
        }
        foot.push(self.keys_line(footer.width as usize, theme));
        frame.render_widget(Paragraph::new(foot), footer);
    }

    /// The code view's keys, as many as fit (going back last, so it always shows).
    fn keys_line(&self, w: usize, theme: &Theme) -> Line<'static> {
        let copy = keymap::hint(Action::Copy).map_or_else(|| "Ctrl+C".into(), |(k, _)| k);
        let write = Answer::WriteFile.key().unwrap_or('w').to_string();
        let keys: Vec<(String, &str)> = if self.shown().is_some() {
            vec![
                (write, "write to a file"),
                (copy, "copy (OSC 52)"),
                ("Tab".into(), "next target"),
                ("↑↓ PgUp PgDn ←→".into(), "scroll"),
            ]
        } else {
            vec![("Tab".into(), "next target")]
        };
        let back = ("Esc".to_string(), "back");
        let cost = |(k, what): &(String, &str)| k.width() + what.width() + 4;
        let mut used = cost(&back);
        let mut spans = Vec::new();
        for item in keys.iter() {
            if used + cost(item) > w {
                break;
            }
            used += cost(item);
            spans.push(Span::styled(item.0.clone(), theme.style(Meaning::Key)));
            spans.push(Span::styled(
                format!(" {} · ", item.1),
                theme.style(Meaning::Muted),
            ));
        }
        spans.push(Span::styled(back.0, theme.style(Meaning::Key)));
        spans.push(Span::styled(
            format!(" {}", back.1),
            theme.style(Meaning::Muted),
        ));
        Line::from(spans)
    }

    fn render_path(&self, frame: &mut Frame, screen: Rect, theme: &Theme) {
        let width = 72.min(screen.width.saturating_sub(4));
        let body = format!(
            "A file name is written in {}; a path may name another folder. An existing file is not replaced without asking.",
            self.source.folder
        );
        let inner_w = width.saturating_sub(2).max(1);
        let body_rows = wrap_line(&body, inner_w).len() as u16;
        // The borders, the body, a blank line, the field and its error.
        let area = centered(screen, width, body_rows + 5);
        let block = popup_block(
            " Write the export to a file ",
            "Enter writes · Esc back ",
            theme,
        );
        let inner = block.inner(area);
        let mut lines: Vec<Line> = wrap_line(&body, inner_w)
            .into_iter()
            .map(|(a, b)| {
                Line::from(Span::styled(
                    body[a..b].trim_end().to_string(),
                    theme.style(Meaning::Text),
                ))
            })
            .collect();
        lines.push(Line::default());
        // The end of a long path shows (where the typing is).
        let field = inner.width.saturating_sub(9) as usize;
        let value = tail(&self.path, field.saturating_sub(1));
        lines.push(Line::from(vec![
            Span::styled("  file: ", theme.style(Meaning::Muted)),
            Span::styled(format!("{value}▏"), theme.style(Meaning::Key)),
        ]));
        if let Some(e) = &self.path_error {
            lines.push(Line::from(Span::styled(
                fit(&format!("  {e}"), inner.width as usize),
                theme.style(Meaning::Error),
            )));
        }
        frame.render_widget(Clear, area);
        frame.render_widget(block, area);
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

/// The columns `skip..skip + width` of `s` (by display width).
fn columns(s: &str, skip: usize, width: usize) -> String {
    let mut col = 0;
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if col < skip {
            col += cw;
            continue;
        }
        if used + cw > width {
            break;
        }
        out.push(c);
        used += cw;
    }
    out
}

/// The last `width` columns of `s`, with `…` in front when cut.
fn tail(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    let mut out: Vec<char> = Vec::new();
    let mut used = 1;
    for c in s.chars().rev() {
        let cw = c.width().unwrap_or(0);
        if used + cw > width {
            break;
        }
        out.push(c);
        used += cw;
    }
    std::iter::once('…').chain(out.into_iter().rev()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn dialog(text: &str) -> ExportDialog {
        let scenario = crate::scenario::load::parse(text, "t")
            .map(Arc::new)
            .map_err(|e| PlacedError {
                part: None,
                line: e.line,
                column: e.column,
                message: e.message,
                hint: e.hint,
            });
        ExportDialog::new(Source {
            scenario,
            arg: "basic-retry".into(),
            name: "Basic retry".into(),
            stem: "basic-retry".into(),
            folder: "/here".into(),
            note: None,
        })
    }

    fn basic() -> ExportDialog {
        let b = crate::scenario::builtin::find("basic-retry").expect("built-in");
        dialog(b.source)
    }

    fn press(d: &mut ExportDialog, code: KeyCode) -> Outcome {
        let k = key(code);
        let a = keymap::lookup(&k, &[keymap::Scope::Global, keymap::Scope::View]);
        d.on_key(&k, a)
    }

    #[test]
    fn esc_steps_back_from_the_prompt_to_the_code_to_the_list_then_closes() {
        let mut d = basic();
        assert_eq!(press(&mut d, KeyCode::Down), Outcome::Stay);
        assert_eq!(press(&mut d, KeyCode::Enter), Outcome::Stay);
        assert_eq!(d.step, Step::Code);
        assert_eq!(d.target(), Target::Tenacity);
        press(&mut d, KeyCode::Char('w'));
        assert_eq!(d.step, Step::Path);
        assert_eq!(d.path, "basic-retry.py");
        press(&mut d, KeyCode::Esc);
        assert_eq!(d.step, Step::Code);
        press(&mut d, KeyCode::Esc);
        assert_eq!(d.step, Step::Targets);
        assert_eq!(press(&mut d, KeyCode::Esc), Outcome::Close);
    }

    #[test]
    fn the_prompt_offers_the_targets_extension_and_hands_over_the_code() {
        let mut d = basic();
        press(&mut d, KeyCode::Char('5'));
        assert_eq!(d.target(), Target::Portkey);
        press(&mut d, KeyCode::Char('w'));
        assert_eq!(d.path, "basic-retry.json");
        // Typed letters are text here (`q` would close elsewhere).
        press(&mut d, KeyCode::Char('q'));
        let code = d.shown().unwrap().code.clone();
        assert_eq!(
            press(&mut d, KeyCode::Enter),
            Outcome::Write(WriteTo::Typed("basic-retry.jsonq".into()), code.clone())
        );
        d.ask_overwrite(PathBuf::from("/x/b.json"));
        // Only the offered answer (or Esc) does anything.
        assert_eq!(press(&mut d, KeyCode::Char('w')), Outcome::Stay);
        assert_eq!(
            press(&mut d, KeyCode::Char('o')),
            Outcome::Write(WriteTo::Overwrite("/x/b.json".into()), code)
        );
        d.ask_overwrite(PathBuf::from("/x/b.json"));
        press(&mut d, KeyCode::Esc);
        assert_eq!(d.step, Step::Path);
    }

    #[test]
    fn a_scenario_with_an_error_has_nothing_to_write_or_copy() {
        let mut d = dialog("name = \"x\"\n[retry]\nstop = 3\n");
        press(&mut d, KeyCode::Enter);
        assert_eq!(press(&mut d, KeyCode::Char('w')), Outcome::Stay);
        assert_eq!(d.step, Step::Code);
        let said = d.said.clone().unwrap().0;
        assert!(said.contains("the scenario has an error"), "{said}");
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(d.on_key(&ctrl_c, Some(Action::Copy)), Outcome::Stay);
    }

    #[test]
    fn columns_and_tail_cut_by_display_width() {
        assert_eq!(columns("abcdef", 2, 3), "cde");
        assert_eq!(columns("日本語", 2, 2), "本");
        assert_eq!(tail("/very/long/path.py", 8), "…path.py");
        assert_eq!(tail("a.py", 8), "a.py");
    }
}
