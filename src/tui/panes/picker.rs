//! The Ctrl+O picker: two tabs (the scenarios, built-in and saved; the recorded runs), a
//! filter typed straight into it (every word must appear, any case), and a selected row that
//! shows in every theme, NO_COLOR included: a `▶` marker and the whole row highlighted.
//! The what-if picker is the same list of scenarios, its tab line the `--map` (Tab toggles).

use super::fit;
use crate::tui::theme::{Meaning, Theme};
use crate::whatif::MapMode;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use std::path::PathBuf;

/// One thing the picker offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickItem {
    Builtin {
        name: String,
        about: String,
    },
    /// A scenario saved by the user; `shadows` when a built-in has the same name (`retrylab
    /// run NAME` then runs this one).
    Saved {
        path: PathBuf,
        shadows: bool,
    },
    /// A recorded run: when it started, and its summary (scenario, outcome, attempts).
    Trace {
        path: PathBuf,
        when: String,
        line: String,
    },
}

impl PickItem {
    pub fn label(&self) -> String {
        match self {
            PickItem::Builtin { name, .. } => name.clone(),
            PickItem::Saved { path, .. } | PickItem::Trace { path, .. } => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    }

    /// The text after the label (what the filter searches too).
    fn about(&self) -> String {
        match self {
            PickItem::Builtin { about, .. } => about.clone(),
            PickItem::Saved { path, shadows } => {
                let mark = if *shadows {
                    "saved, shadows the built-in · "
                } else {
                    "saved · "
                };
                format!("{mark}{}", path.display())
            }
            PickItem::Trace { line, .. } => format!("{line} · {}", self.label()),
        }
    }

    /// What the first column shows: the name, or when a recorded run started.
    fn head(&self) -> String {
        match self {
            PickItem::Trace { when, .. } => when.clone(),
            _ => self.label(),
        }
    }

    fn matches(&self, filter: &str) -> bool {
        let hay = format!("{} {}", self.head(), self.about()).to_lowercase();
        filter
            .to_lowercase()
            .split_whitespace()
            .all(|w| hay.contains(w))
    }
}

/// The picker's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    #[default]
    Scenarios,
    History,
}

/// A row on screen: a section title or an item (its index in the tab's list).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Row {
    Header(&'static str),
    Item(usize),
}

#[derive(Debug, Default)]
pub struct Picker {
    pub tab: Tab,
    scenarios: Vec<PickItem>,
    history: Vec<PickItem>,
    pub filter: String,
    /// The selected item: an index into the current tab's list.
    pub selected: usize,
    offset: usize,
    inner: Rect,
    /// The what-if picker (a policy for a recorded run): the `--map` it replays with.
    pub whatif_map: Option<MapMode>,
}

impl Picker {
    pub fn new(scenarios: Vec<PickItem>, history: Vec<PickItem>, current: Option<&str>) -> Picker {
        let selected = current
            .and_then(|c| scenarios.iter().position(|i| i.label() == c))
            .unwrap_or(0);
        Picker {
            scenarios,
            history,
            selected,
            ..Default::default()
        }
    }

    /// The picker of a policy for what-if: the scenarios only, Tab toggles `map`.
    pub fn for_whatif(scenarios: Vec<PickItem>, current: Option<&str>, map: MapMode) -> Picker {
        Picker {
            whatif_map: Some(map),
            ..Picker::new(scenarios, Vec::new(), current)
        }
    }

    /// Tab in the what-if picker: the other `--map`.
    pub fn toggle_map(&mut self) {
        self.whatif_map = self.whatif_map.map(other_map);
    }

    fn items(&self) -> &[PickItem] {
        match self.tab {
            Tab::Scenarios => &self.scenarios,
            Tab::History => &self.history,
        }
    }

    /// The indices the filter lets through.
    fn visible(&self) -> Vec<usize> {
        let f = self.filter.trim();
        let items = self.items();
        (0..items.len())
            .filter(|&i| f.is_empty() || items[i].matches(f))
            .collect()
    }

    /// The selected item, when the filter lets it through.
    pub fn chosen(&self) -> Option<&PickItem> {
        self.visible()
            .contains(&self.selected)
            .then(|| &self.items()[self.selected])
    }

    /// Moves the selection among the visible items.
    pub fn move_by(&mut self, delta: i32) {
        let vis = self.visible();
        let Some(last) = vis.len().checked_sub(1) else {
            return;
        };
        let at = vis.iter().position(|&i| i == self.selected);
        let to = match at {
            Some(p) => super::scroll_by(p, delta, last),
            None => 0,
        };
        self.selected = vis[to];
    }

    /// The other tab (the filter is kept: it often names a scenario in both).
    pub fn switch_tab(&mut self) {
        self.tab = match self.tab {
            Tab::Scenarios => Tab::History,
            Tab::History => Tab::Scenarios,
        };
        self.selected = 0;
        self.offset = 0;
        self.reselect();
    }

    /// A character typed into the filter.
    pub fn type_char(&mut self, c: char) {
        self.filter.push(c);
        self.reselect();
    }

    /// Backspace: false when the filter was empty already.
    pub fn backspace(&mut self) -> bool {
        let had = self.filter.pop().is_some();
        self.reselect();
        had
    }

    pub fn clear_filter(&mut self) {
        self.filter.clear();
        self.reselect();
    }

    /// Keeps the selection on a visible item (the first one when it was filtered out).
    fn reselect(&mut self) {
        let vis = self.visible();
        if !vis.contains(&self.selected) {
            self.selected = vis.first().copied().unwrap_or(0);
        }
    }

    /// The item under a click, if any.
    pub fn item_at(&self, x: u16, y: u16) -> Option<usize> {
        let r = self.inner;
        if x < r.x || x >= r.x + r.width || y < r.y + 2 || y >= r.y + r.height {
            return None;
        }
        let i = self.offset + (y - r.y - 2) as usize;
        match self.rows().get(i) {
            Some(Row::Item(i)) => Some(*i),
            _ => None,
        }
    }

    fn rows(&self) -> Vec<Row> {
        let items = self.items();
        let mut rows = Vec::new();
        let mut section = None;
        for i in self.visible() {
            let title = match &items[i] {
                PickItem::Builtin { .. } => "Built-in",
                PickItem::Saved { .. } => "Saved by you",
                PickItem::Trace { .. } => "Recent runs, newest first (Enter replays)",
            };
            if section != Some(title) {
                section = Some(title);
                rows.push(Row::Header(title));
            }
            rows.push(Row::Item(i));
        }
        rows
    }

    pub fn render(&mut self, frame: &mut Frame, screen: Rect, theme: &Theme) {
        let rows = self.rows();
        let most = self.scenarios.len().max(self.history.len()) + 4;
        let area = super::overlay::centered(screen, 76, most.min(40) as u16 + 4);
        // The title and its key hints, shortened to fit a narrow screen (how to close last).
        let titles = [
            (
                " Open a scenario ",
                "type to filter · Tab: history · Enter opens · Esc closes ",
            ),
            (
                " Open ",
                "type to filter · Tab: history · Enter opens · Esc closes ",
            ),
            (" Open ", "type to filter · Tab: history · Esc closes "),
            (" Open ", "Esc closes "),
        ];
        let whatif_titles = [
            (
                " What if… pick a policy ",
                "type to filter · Tab: map · Esc closes ",
            ),
            (" What if… ", "Tab: map · Enter replays · Esc closes "),
            (" What if… ", "Esc closes "),
        ];
        let titles: &[(&str, &str)] = if self.whatif_map.is_some() {
            &whatif_titles
        } else {
            &titles
        };
        let room = area.width.saturating_sub(2) as usize;
        let (title, hint) = titles
            .iter()
            .find(|(t, h)| t.chars().count() + h.chars().count() <= room)
            .copied()
            .unwrap_or(titles[titles.len() - 1]);
        let block = super::overlay::popup_block(title, hint, theme);
        let inner = block.inner(area);
        self.inner = inner;
        let list_h = (inner.height as usize).saturating_sub(2);
        let sel_row = rows
            .iter()
            .position(|r| *r == Row::Item(self.selected))
            .unwrap_or(0);
        if sel_row < self.offset {
            self.offset = sel_row.saturating_sub(1);
        } else if sel_row >= self.offset + list_h {
            self.offset = sel_row + 1 - list_h;
        }
        let w = inner.width as usize;
        let mut lines = vec![self.tabs_line(theme), self.filter_line(theme)];
        if rows.is_empty() {
            lines.push(self.empty_line(theme));
        }
        let sel = theme.style(Meaning::Selection).add_modifier(Modifier::BOLD);
        // The names' column: as wide as the longest (26 to 30 columns), so every about text
        // starts in the same column.
        let name_w = self
            .items()
            .iter()
            .map(|it| unicode_width::UnicodeWidthStr::width(it.head().as_str()))
            .max()
            .unwrap_or(0)
            .clamp(26, 30);
        for r in rows.iter().skip(self.offset).take(list_h) {
            lines.push(match r {
                Row::Header(t) => Line::from(Span::styled(*t, theme.style(Meaning::Title))),
                Row::Item(i) => self.item_line(
                    &self.items()[*i],
                    *i == self.selected,
                    (w, name_w),
                    sel,
                    theme,
                ),
            });
        }
        frame.render_widget(Clear, area);
        frame.render_widget(block, area);
        frame.render_widget(Paragraph::new(lines), inner);
    }

    fn tabs_line(&self, theme: &Theme) -> Line<'static> {
        if let Some(map) = self.whatif_map {
            return map_line(map, theme);
        }
        let tab = |t: Tab, name: String| {
            if t == self.tab {
                Span::styled(format!("[{name}]"), theme.style(Meaning::Focus))
            } else {
                Span::styled(format!(" {name} "), theme.style(Meaning::Muted))
            }
        };
        Line::from(vec![
            tab(
                Tab::Scenarios,
                format!("Scenarios {}", self.scenarios.len()),
            ),
            Span::raw("  "),
            tab(Tab::History, format!("History {}", self.history.len())),
        ])
    }

    fn filter_line(&self, theme: &Theme) -> Line<'static> {
        if self.filter.is_empty() {
            Line::from(Span::styled(
                "filter: (type to filter)",
                theme.style(Meaning::Muted),
            ))
        } else {
            Line::from(vec![
                Span::styled("filter: ", theme.style(Meaning::Muted)),
                Span::styled(format!("{}▏", self.filter), theme.style(Meaning::Key)),
            ])
        }
    }

    fn empty_line(&self, theme: &Theme) -> Line<'static> {
        let text = match (self.filter.is_empty(), self.tab) {
            (false, _) => format!("nothing matches “{}” (Backspace edits it)", self.filter),
            (true, Tab::History) => "no recorded runs yet: each F5 run is recorded".into(),
            (true, Tab::Scenarios) => "no scenarios".into(),
        };
        Line::from(Span::styled(text, theme.style(Meaning::Muted)))
    }

    /// `▶ name  about`, the whole row highlighted when selected.
    fn item_line(
        &self,
        it: &PickItem,
        selected: bool,
        (w, name_w): (usize, usize),
        sel: Style,
        theme: &Theme,
    ) -> Line<'static> {
        let marker = if selected { "▶ " } else { "  " };
        let name = format!("{marker}{:<name_w$} ", fit(&it.head(), name_w));
        let used = unicode_width::UnicodeWidthStr::width(name.as_str());
        let about = fit(&it.about(), w.saturating_sub(used));
        let pad = " "
            .repeat(w.saturating_sub(used + unicode_width::UnicodeWidthStr::width(about.as_str())));
        let spans = vec![
            Span::styled(name, theme.style(Meaning::Text)),
            Span::styled(about, theme.style(Meaning::Muted)),
            Span::raw(pad),
        ];
        if selected {
            Line::from(
                spans
                    .into_iter()
                    .map(|s| s.patch_style(sel))
                    .collect::<Vec<_>>(),
            )
        } else {
            Line::from(spans)
        }
    }
}

fn other_map(m: MapMode) -> MapMode {
    match m {
        MapMode::Index => MapMode::Time,
        MapMode::Time => MapMode::Index,
    }
}

/// `map: [index] time  (Tab)`, the chosen one bracketed (mono shows it too), and what it means.
fn map_line(map: MapMode, theme: &Theme) -> Line<'static> {
    let opt = |m: MapMode| {
        if m == map {
            Span::styled(format!("[{}]", m.as_str()), theme.style(Meaning::Focus))
        } else {
            Span::styled(format!(" {} ", m.as_str()), theme.style(Meaning::Muted))
        }
    };
    let means = match map {
        MapMode::Index => "the k-th request gets the k-th recorded outcome",
        MapMode::Time => "a recorded failure holds until the next recorded request",
    };
    Line::from(vec![
        Span::styled("map ", theme.style(Meaning::Muted)),
        opt(MapMode::Index),
        opt(MapMode::Time),
        Span::styled(format!("  {means}"), theme.style(Meaning::Muted)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items() -> Vec<PickItem> {
        ["basic-retry", "chaos", "fallback-with-retries"]
            .iter()
            .map(|n| PickItem::Builtin {
                name: n.to_string(),
                about: format!("about {n}"),
            })
            .collect()
    }

    #[test]
    fn the_filter_keeps_matching_items_and_the_selection_on_one() {
        let mut p = Picker::new(items(), Vec::new(), Some("chaos"));
        assert_eq!(p.chosen().map(PickItem::label).as_deref(), Some("chaos"));
        for c in "FALL".chars() {
            p.type_char(c);
        }
        assert_eq!(p.visible(), vec![2]);
        assert_eq!(
            p.chosen().map(PickItem::label).as_deref(),
            Some("fallback-with-retries")
        );
        p.type_char('z');
        assert!(p.visible().is_empty() && p.chosen().is_none());
        assert!(p.backspace());
        p.clear_filter();
        assert_eq!(p.visible().len(), 3);
        assert!(!p.backspace());
    }

    #[test]
    fn tabs_switch_lists() {
        let trace = PickItem::Trace {
            path: "t.jsonl".into(),
            when: "2026-12-01 10:00:00".into(),
            line: "ok".into(),
        };
        let mut p = Picker::new(items(), vec![trace.clone()], None);
        p.switch_tab();
        assert_eq!(p.tab, Tab::History);
        assert_eq!(p.chosen(), Some(&trace));
    }

    #[test]
    fn the_whatif_picker_lists_scenarios_and_tab_toggles_the_map() {
        let mut p = Picker::for_whatif(items(), Some("chaos"), MapMode::Index);
        assert_eq!(p.chosen().map(PickItem::label).as_deref(), Some("chaos"));
        p.toggle_map();
        assert_eq!(p.whatif_map, Some(MapMode::Time));
        p.toggle_map();
        assert_eq!(p.whatif_map, Some(MapMode::Index));
        assert_eq!(Picker::new(items(), Vec::new(), None).whatif_map, None);
    }
}
