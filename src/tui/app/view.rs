//! Drawing the App: where each pane goes (a fixed layout, or the focused pane zoomed), the
//! panes with their context, the status bar with the focused pane's hints, and the open dialog on top.

use super::App;
use super::{MIN_HEIGHT, MIN_WIDTH};
use crate::tui::keymap::Action;
use crate::tui::panes::PaneId;
use crate::tui::panes::output::OutputPane;
use crate::tui::panes::status::{self, StatusInfo};
use crate::tui::theme::Meaning;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::widgets::{Paragraph, Wrap};

/// The editors' column, in percent of the width (whatever has the focus).
const LEFT_PERCENT: u16 = 45;

/// Where each pane was drawn last (for the mouse).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Rects {
    panes: [Option<Rect>; 7],
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

    pub(super) fn at(&self, x: u16, y: u16) -> Option<PaneId> {
        PaneId::ALL
            .iter()
            .copied()
            .find(|p| self.get(*p).is_some_and(|r| r.contains(Position { x, y })))
    }
}

impl App {
    /// Where the panes go. The geometry never depends on the focus (the border shows it);
    /// zoomed, the focused pane takes the whole screen above the status bar.
    fn layout(&self, area: Rect) -> Rects {
        let mut r = Rects::default();
        let [main, status] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
        r.status = status;
        if self.zoomed {
            r.set(self.focus, main);
            return r;
        }
        if self.session.is_replay() {
            let [left, right] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Fill(1)]).areas(main);
            r.set(PaneId::Timeline, left);
            let [o, i] = Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(right);
            r.set(PaneId::Output, o);
            r.set(PaneId::Inspector, i);
            return r;
        }
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(LEFT_PERCENT), Constraint::Fill(1)])
                .areas(main);
        let inner_width = left.width.saturating_sub(2);
        let sched_h = self
            .views
            .schedule
            .wanted_height(inner_width)
            .min(left.height / 3)
            .max(3);
        let hs = share(
            left.height.saturating_sub(sched_h),
            &[(4, 2), (5, 7), (4, 3)],
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
        r.set(PaneId::Plan, s);
        let [t, o, i] = Layout::vertical([
            Constraint::Fill(4),
            Constraint::Fill(3),
            Constraint::Fill(3),
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
        if self.lab_open {
            // The Lab view covers the panes: no pane takes a click under it.
            self.rects = Rects::default();
            let [main, status] =
                Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
            self.render_lab(frame, main);
            self.render_status(frame, status);
            if let Some(d) = self.dialog.as_mut() {
                d.render(frame, area, &self.theme, &self.files);
            }
            self.needs_draw = false;
            return;
        }
        if self.whatif.is_some() {
            // The what-if view covers the replay's panes as the Lab view does.
            self.rects = Rects::default();
            let [main, status] =
                Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
            self.render_whatif(frame, main);
            self.render_status(frame, status);
            if let Some(d) = self.dialog.as_mut() {
                d.render(frame, area, &self.theme, &self.files);
            }
            self.needs_draw = false;
            return;
        }
        let rects = self.layout(area);
        self.rects = rects;
        let now = self.now();
        self.views.timeline.sync(self.session.run.rows.len());
        let tick = (now.saturating_duration_since(self.started).as_millis() / 80) as usize;
        let m = self.moment(now, tick);
        if let (Some(i), Some(r)) = (m.selected_attempt, rects.get(PaneId::Output))
            && let Some(a) = self.session.run.attempts.get_mut(i)
        {
            a.output.ensure_wrapped(OutputPane::text_width(r));
        }
        for p in PaneId::ALL {
            let Some(r) = rects.get(p) else { continue };
            self.with_pane(p, m, |pane, ctx| pane.render(frame, r, ctx));
        }
        self.render_status(frame, rects.status);
        if let Some(d) = self.dialog.as_mut() {
            d.render(frame, area, &self.theme, &self.files);
        }
        self.needs_draw = false;
    }

    fn render_status(&mut self, frame: &mut Frame, area: Rect) {
        let own = self.pane_mut(self.focus).hints();
        let hints = self.hints(own);
        let title = match (&self.session.replay, &self.doc.parsed) {
            (Some((_, path)), _) => format!("replay of {}", path.display()),
            // A saved scenario shows the name it was saved under (what `retrylab run` takes).
            (None, Ok(s)) => match &self.doc.origin {
                super::Origin::File(p) => p.file_stem().map_or_else(
                    || s.name.clone(),
                    |stem| format!("{} · {}", stem.to_string_lossy(), s.name),
                ),
                super::Origin::Builtin(_) => s.name.clone(),
            },
            (None, Err(_)) => self.doc.origin.label(),
        };
        status::render(
            frame,
            area,
            &StatusInfo {
                mode: self.session.shown_mode(),
                speed: self.session.effective_speed(),
                running: self.session.shows_running(),
                replay: self.session.is_replay(),
                finished: self.session.run.finished.as_ref(),
                notice: self.notice.as_ref().map(|n| (n.text.as_str(), n.level)),
                hints: &hints,
                title: &title,
                dirty: self.doc.dirty,
            },
            &self.theme,
        );
    }

    /// The status-bar hints: run or cancel, help, the focused pane's own, then the rest.
    fn hints(&self, own: &[Action]) -> Vec<Action> {
        if self.lab_open {
            let first = if self.lab.is_running() {
                Action::Cancel
            } else {
                Action::Run
            };
            return vec![
                first,
                Action::Open,
                Action::Help,
                Action::CycleTheme,
                Action::Quit,
            ];
        }
        if self.whatif.is_some() {
            return vec![
                Action::WhatIfMap,
                Action::WhatIf,
                Action::Help,
                Action::CycleTheme,
                Action::Quit,
            ];
        }
        let mut v = Vec::new();
        v.push(if self.session.shows_running() {
            Action::Cancel
        } else {
            Action::Run
        });
        if self.session.shows_running() && !self.session.is_replay() {
            v.push(Action::SkipWait);
        }
        v.push(Action::Help);
        if self.session.is_replay() {
            // What a recorded run offers beyond watching it again.
            v.push(Action::WhatIf);
        }
        v.extend_from_slice(own);
        v.push(Action::FocusNext);
        v.push(Action::Zoom);
        if !self.session.is_replay() {
            v.push(Action::Save);
            v.push(Action::Open);
            v.push(Action::ToggleMode);
            v.push(Action::Export);
        }
        v.push(Action::CycleSpeed);
        if self.session.is_replay() {
            v.push(Action::Close);
        }
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
