//! The playground (DESIGN §8): an interactive TUI over the engine.
//!
//! One [`app::App`] state changed only by [`app::App::update`] with a [`message::Message`];
//! async work (engine runs, replay) only sends messages. The loop in [`runner`] selects over
//! input, the run's events and a frame tick that exists only while something animates.

pub mod app;
pub mod clipboard;
pub mod keymap;
pub mod lab;
pub mod message;
pub mod output_buf;
pub mod panes;
pub mod persist;
pub mod run_view;
pub mod runner;
pub mod split;
pub mod tasks;
pub mod terminal;
pub mod theme;
pub mod whatif;
