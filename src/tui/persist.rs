//! Where the playground keeps files (directories crate): saved scenarios and user themes in
//! the config dir, the autosaved draft in the data dir, traces where `crate::trace` puts them.
//! Every write goes to a temporary file first and is renamed, so a crash never leaves half a
//! file.

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

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
}

impl Paths {
    /// The user's real folders: `$RETRYLAB_CONFIG_DIR` or the platform config dir (e.g.
    /// ~/.config/retrylab), and the data dir of `crate::trace` (`$RETRYLAB_DATA_DIR`).
    pub fn from_env() -> Paths {
        let config = std::env::var_os("RETRYLAB_CONFIG_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                directories::ProjectDirs::from("", "", "retrylab")
                    .map(|d| d.config_dir().to_path_buf())
            });
        Paths {
            scenarios: config.as_ref().map(|d| d.join("scenarios")),
            themes: config.as_ref().map(|d| d.join("themes")),
            drafts: crate::trace::data_dir().map(|d| d.join("drafts")),
            traces: crate::trace::traces_dir(),
        }
    }

    /// Everything under one folder (tests).
    pub fn under(root: &Path) -> Paths {
        Paths {
            scenarios: Some(root.join("scenarios")),
            themes: Some(root.join("themes")),
            drafts: Some(root.join("drafts")),
            traces: Some(root.join("traces")),
        }
    }
}

/// Writes `text` to `path` through a temporary file in the same folder.
pub fn write_atomic(path: &Path, text: &str) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// The longest slug, in bytes: file names are limited (255 bytes on most file systems).
const SLUG_MAX_BYTES: usize = 80;

/// A file name from a scenario name: `Fallback with retries` → `fallback-with-retries`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    // Leave room for "-2.toml" and the draft's suffixes.
    let mut out = out.as_str();
    if out.len() > SLUG_MAX_BYTES {
        let mut cut = SLUG_MAX_BYTES;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out = &out[..cut];
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "scenario".into()
    } else {
        out
    }
}

/// The saved scenarios (`*.toml`), sorted by name.
pub fn list_saved(dir: Option<&Path>) -> Vec<PathBuf> {
    let Some(Ok(entries)) = dir.map(std::fs::read_dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

const DRAFT_FILE: &str = "draft.toml";
const DRAFT_MARK: &str = "# retrylab draft of: ";

/// The edited scenario, autosaved while editing and offered back after a crash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// Where the edited scenario came from (a path or `builtin:NAME`).
    pub origin: String,
    pub text: String,
    pub saved_at: Option<SystemTime>,
}

pub fn write_draft(dir: &Path, origin: &str, text: &str) -> io::Result<()> {
    let origin = origin.replace('\n', " ");
    write_atomic(
        &dir.join(DRAFT_FILE),
        &format!("{DRAFT_MARK}{origin}\n{text}"),
    )
}

pub fn read_draft(dir: &Path) -> Option<Draft> {
    let path = dir.join(DRAFT_FILE);
    let raw = std::fs::read_to_string(&path).ok()?;
    let (first, rest) = raw.split_once('\n').unwrap_or((&raw, ""));
    let origin = first.strip_prefix(DRAFT_MARK)?.to_string();
    Some(Draft {
        origin,
        text: rest.to_string(),
        saved_at: std::fs::metadata(&path).and_then(|m| m.modified()).ok(),
    })
}

pub fn clear_draft(dir: &Path) {
    // Nothing to do when it is already gone.
    let _ = std::fs::remove_file(dir.join(DRAFT_FILE));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_of_long_names_fit_a_file_name() {
        let s = slug(&"Ünïcödé retry ".repeat(60));
        assert!(s.len() <= 80, "{} bytes", s.len());
        assert!(s.starts_with("ünïcödé-retry-"), "{s}");
        assert!(!s.ends_with('-'), "{s}");
    }

    #[test]
    fn slugs_are_file_names() {
        assert_eq!(slug("Fallback with retries"), "fallback-with-retries");
        assert_eq!(slug("  --Hello, World!! "), "hello-world");
        assert_eq!(slug("***"), "scenario");
    }

    #[test]
    fn drafts_round_trip_and_clear() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_draft(dir.path()), None);
        write_draft(dir.path(), "builtin:x", "name = 'x'\n").unwrap();
        let d = read_draft(dir.path()).unwrap();
        assert_eq!(d.origin, "builtin:x");
        assert_eq!(d.text, "name = 'x'\n");
        assert!(d.saved_at.is_some());
        clear_draft(dir.path());
        assert_eq!(read_draft(dir.path()), None);
    }

    #[test]
    fn saves_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        let scen = dir.path().join("scenarios");
        assert!(list_saved(Some(&scen)).is_empty());
        write_atomic(&scen.join("b.toml"), "x").unwrap();
        write_atomic(&scen.join("a.toml"), "y").unwrap();
        std::fs::write(scen.join("notes.txt"), "z").unwrap();
        let names: Vec<_> = list_saved(Some(&scen))
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["a.toml", "b.toml"]);
        assert_eq!(std::fs::read_to_string(scen.join("a.toml")).unwrap(), "y");
    }
}
