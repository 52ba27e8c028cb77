//! Saved scenarios: the file name a scenario gets, and the list Ctrl+O offers.

use std::path::{Path, PathBuf};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::persist::write_atomic;

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
