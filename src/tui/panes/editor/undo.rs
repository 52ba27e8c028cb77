//! The editors' undo: a run of typing is one step. The widget's own history keeps one entry
//! per key, so one Ctrl+Z took back one letter; here a step ends at a word (the first
//! letter after a space), at a pause, when the kind of edit changes (typing, deleting) and
//! when the cursor moves. Steps are whole snapshots: a scenario is a few KB.

use std::time::{Duration, Instant};

/// A pause longer than this starts a new step.
pub const PAUSE: Duration = Duration::from_millis(1000);
/// Steps kept.
const MAX_STEPS: usize = 200;
/// Bytes of text the undo history holds at most (the oldest steps go first): a scenario is
/// a few KB, but a paste of megabytes must not multiply by the number of steps.
const MAX_BYTES: usize = 16 << 20;

/// The text and the cursor at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub lines: Vec<String>,
    pub cursor: (usize, usize),
}

/// What an edit was, for grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A letter, digit or sign typed.
    Word,
    /// A space typed.
    Space,
    /// Backspace or Delete.
    Delete,
    /// Anything else (Enter, paste, a kill): always a step of its own.
    Other,
}

impl Kind {
    /// Whether an edit of kind `self` may join a step whose last edit was `prev`.
    fn continues(self, prev: Kind) -> bool {
        matches!(
            (prev, self),
            (Kind::Word, Kind::Word | Kind::Space)
                | (Kind::Space, Kind::Space)
                | (Kind::Delete, Kind::Delete)
        )
    }
}

#[derive(Debug, Default)]
pub struct Undo {
    undo: Vec<Snapshot>,
    redo: Vec<Snapshot>,
    /// The last edit of the open step, and when it was made.
    open: Option<(Kind, Instant)>,
}

impl Snapshot {
    fn bytes(&self) -> usize {
        self.lines.iter().map(|l| l.len() + 1).sum()
    }
}

impl Undo {
    /// Whether an edit of `kind` at `now` starts a new step (then the caller takes a snapshot
    /// of the text before it and hands it to [`Undo::edited`]).
    pub fn starts_step(&self, kind: Kind, now: Instant) -> bool {
        match self.open {
            Some((prev, at)) => !kind.continues(prev) || now.saturating_duration_since(at) > PAUSE,
            None => true,
        }
    }

    /// The text changed by an edit of `kind`; `before` is the text before it when the edit
    /// started a step.
    pub fn edited(&mut self, kind: Kind, now: Instant, before: Option<Snapshot>) {
        if let Some(b) = before {
            self.undo.push(b);
            let mut held: usize = self.undo.iter().map(Snapshot::bytes).sum();
            while self.undo.len() > MAX_STEPS || (held > MAX_BYTES && self.undo.len() > 1) {
                held -= self.undo.remove(0).bytes();
            }
        }
        self.redo.clear();
        self.open = (kind != Kind::Other).then_some((kind, now));
    }

    /// The cursor moved or the text was replaced: the next edit is a new step.
    pub fn close_step(&mut self) {
        self.open = None;
    }

    /// Forgets every step (a new text was loaded).
    pub fn clear(&mut self) {
        *self = Undo::default();
    }

    /// The text to go back to, given the current one (kept for redo).
    pub fn undo(&mut self, current: Snapshot) -> Option<Snapshot> {
        let back = self.undo.pop()?;
        self.redo.push(current);
        self.open = None;
        Some(back)
    }

    /// The text to go forward to again, given the current one.
    pub fn redo(&mut self, current: Snapshot) -> Option<Snapshot> {
        let fwd = self.redo.pop()?;
        self.undo.push(current);
        self.open = None;
        Some(fwd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_holds_at_most_16_mib_of_text() {
        let mut u = Undo::default();
        let big = "x".repeat(1 << 20);
        let t = Instant::now();
        for _ in 0..40 {
            u.edited(Kind::Other, t, Some(snap(&big)));
        }
        let held: usize = u.undo.iter().map(Snapshot::bytes).sum();
        assert!(held <= MAX_BYTES, "{held}");
        assert_eq!(u.undo.len(), 15, "the oldest steps went first");
        // One snapshot bigger than the bound is still kept: the last step can be undone.
        let mut u = Undo::default();
        u.edited(Kind::Other, t, Some(snap(&"y".repeat(20 << 20))));
        assert_eq!(u.undo.len(), 1);
    }

    fn snap(s: &str) -> Snapshot {
        Snapshot {
            lines: vec![s.to_string()],
            cursor: (0, s.len()),
        }
    }

    #[test]
    fn a_word_and_its_space_are_one_step_a_pause_or_a_new_word_another() {
        let t0 = Instant::now();
        let mut u = Undo::default();
        assert!(u.starts_step(Kind::Word, t0));
        u.edited(Kind::Word, t0, Some(snap("")));
        let ms = |n| t0 + Duration::from_millis(n);
        assert!(!u.starts_step(Kind::Word, ms(100)));
        u.edited(Kind::Word, ms(100), None);
        assert!(!u.starts_step(Kind::Space, ms(200)));
        u.edited(Kind::Space, ms(200), None);
        // The first letter of the next word starts a step.
        assert!(u.starts_step(Kind::Word, ms(300)));
        u.edited(Kind::Word, ms(300), Some(snap("ab ")));
        // So does a pause, and deleting after typing.
        assert!(u.starts_step(Kind::Word, ms(300) + PAUSE + Duration::from_millis(1)));
        assert!(u.starts_step(Kind::Delete, ms(400)));
        assert_eq!(u.undo(snap("ab c")), Some(snap("ab ")));
        assert_eq!(u.undo(snap("ab ")), Some(snap("")));
        assert_eq!(u.undo(snap("")), None);
        assert_eq!(u.redo(snap("")), Some(snap("ab ")));
        // A new edit drops what could be redone.
        u.edited(Kind::Other, ms(500), Some(snap("ab ")));
        assert_eq!(u.redo(snap("x")), None);
    }
}
