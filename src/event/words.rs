//! The wording every consumer of events shares (the printer, the run view, the Inspector), so
//! one meaning has one text in one place.
