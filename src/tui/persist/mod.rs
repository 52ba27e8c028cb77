//! Where the playground keeps files (directories crate): saved scenarios and user themes in
//! the config dir, the autosaved draft in the data dir, traces where `crate::trace` puts them.
//! Every write goes to a temporary file first and is renamed, so a crash never leaves half a
//! file: [`atomic`] writes, [`saved`] names saved scenarios, [`drafts`] keeps the
//! per-instance autosave, [`prefs`] remembers the theme and speed.

mod atomic;
mod drafts;
mod prefs;
mod saved;

#[cfg(any(test, feature = "test-util"))]
pub use atomic::{resolve_links, write_atomic_with};
pub use atomic::{write_atomic, write_private};
#[cfg(any(test, feature = "test-util"))]
pub use drafts::Draft;
pub use drafts::{DeadDraft, DraftSlot, dead_drafts};
#[cfg(any(test, feature = "test-util"))]
pub use prefs::PREFS_MAX_BYTES;
pub use prefs::Prefs;
pub use saved::slug;

use std::path::PathBuf;

/// The folders the playground reads and writes; any may be missing (no home directory).
#[derive(Debug, Clone, Default)]
pub struct Paths {
    /// Ctrl+S writes here; Ctrl+O lists it.
    pub scenarios: Option<PathBuf>,
    /// `*.toml` themes overlaying the embedded ones.
    pub themes: Option<PathBuf>,
    /// The autosaved draft.
    pub drafts: Option<PathBuf>,
    /// Run traces.
    pub traces: Option<PathBuf>,
    /// The remembered theme and speed (`prefs.toml`).
    pub prefs: Option<PathBuf>,
    /// Where the Export dialog writes a bare file name; none: the current folder.
    pub exports: Option<PathBuf>,
}

impl Paths {
    /// The user's real folders, as `crate::dirs` finds them for every command (so a scenario
    /// saved here is the one `retrylab run NAME` finds).
    pub fn from_env() -> Paths {
        let config = crate::dirs::config_dir();
        Paths {
            scenarios: crate::dirs::scenarios_dir(),
            themes: config.as_ref().map(|d| d.join("themes")),
            drafts: crate::dirs::data_dir().map(|d| d.join("drafts")),
            traces: crate::dirs::traces_dir(),
            prefs: config.as_ref().map(|d| d.join("prefs.toml")),
            exports: None,
        }
    }

    #[cfg(any(test, feature = "test-util"))]
    /// Everything under one folder (tests).
    pub fn under(root: &std::path::Path) -> Paths {
        Paths {
            scenarios: Some(root.join("scenarios")),
            themes: Some(root.join("themes")),
            drafts: Some(root.join("drafts")),
            traces: Some(root.join("traces")),
            prefs: Some(root.join("prefs.toml")),
            exports: Some(root.join("exports")),
        }
    }
}
