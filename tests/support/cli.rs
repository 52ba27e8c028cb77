//! The built binary run as a user would, under a data dir of the test's own and a config
//! dir beside it (never the user's saved scenarios or config), without colour.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn retrylab(args: &[&str], data_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_retrylab"))
        .args(args)
        .env("RETRYLAB_DATA_DIR", data_dir)
        .env("RETRYLAB_CONFIG_DIR", config_dir(data_dir))
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

/// `<data dir>/config`, or nowhere when the data dir is not a folder (tests of a broken one).
pub fn config_dir(data_dir: &Path) -> PathBuf {
    if data_dir.is_dir() {
        data_dir.join("config")
    } else {
        PathBuf::from("/nonexistent/retrylab-test-config")
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
