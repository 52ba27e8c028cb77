//! The user's folders, as the environment names them: one place for every module that reads
//! or writes files there (config, saved scenarios, themes, drafts, traces).
//!
//! An empty variable counts as unset, so `RETRYLAB_DATA_DIR= retrylab` uses the platform's.

use std::path::PathBuf;

fn from_env(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
}

fn project() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "retrylab")
}

/// `$RETRYLAB_CONFIG_DIR`, else the platform's (e.g. `~/.config/retrylab`).
pub fn config_dir() -> Option<PathBuf> {
    from_env("RETRYLAB_CONFIG_DIR").or_else(|| project().map(|p| p.config_dir().to_path_buf()))
}

/// `$RETRYLAB_DATA_DIR`, else the platform's (e.g. `~/.local/share/retrylab`).
pub fn data_dir() -> Option<PathBuf> {
    from_env("RETRYLAB_DATA_DIR").or_else(|| project().map(|p| p.data_dir().to_path_buf()))
}

/// Saved scenarios (the playground's Ctrl+S): `<config dir>/scenarios`.
pub fn scenarios_dir() -> Option<PathBuf> {
    config_dir().map(|d| d.join("scenarios"))
}

/// Recorded runs: `<data dir>/traces`.
pub fn traces_dir() -> Option<PathBuf> {
    data_dir().map(|d| d.join("traces"))
}
