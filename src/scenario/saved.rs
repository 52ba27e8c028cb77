//! Saved scenarios: the `*.toml` files the playground's Ctrl+S writes to
//! [`crate::dirs::scenarios_dir`], reachable by name (the file stem) from `retrylab run NAME`,
//! `check NAME`, `scenarios` and Ctrl+O.

use std::path::{Path, PathBuf};

/// The most saved scenarios listed (a folder of a million files must not stall a listing).
pub const LIST_MAX: usize = 10_000;

/// A saved scenario: its name (the file stem) and file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub name: String,
    pub path: PathBuf,
}

/// A name that can only mean a file in the folder: no separators, no `..`, not hidden (the
/// playground's Save As accepts only these, so every save is reachable by name).
pub fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '))
}

/// The saved scenario `name` in `dir`, when it is a file there.
pub fn find_in(dir: &Path, name: &str) -> Option<Saved> {
    let name = name.strip_suffix(".toml").unwrap_or(name);
    if !plain_name(name) {
        return None;
    }
    let path = dir.join(format!("{name}.toml"));
    path.is_file().then(|| Saved {
        name: name.to_string(),
        path,
    })
}

/// The saved scenarios in `dir`, sorted by name (at most [`LIST_MAX`]).
pub fn list_in(dir: &Path) -> Vec<Saved> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<Saved> = entries
        .filter_map(Result::ok)
        .take(LIST_MAX)
        .filter_map(|e| {
            let path = e.path();
            if path.extension()? != "toml" || !path.is_file() {
                return None;
            }
            let name = path.file_stem()?.to_str()?.to_string();
            plain_name(&name).then_some(Saved { name, path })
        })
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

/// [`find_in`] the user's folder.
pub fn find(name: &str) -> Option<Saved> {
    find_in(&crate::dirs::scenarios_dir()?, name)
}

/// [`list_in`] the user's folder.
pub fn list() -> Vec<Saved> {
    crate::dirs::scenarios_dir()
        .map(|d| list_in(&d))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_by_stem_and_refuses_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("my-retry.toml"), "x").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        std::fs::create_dir(dir.path().join("sub.toml")).unwrap();
        let found = find_in(dir.path(), "my-retry").unwrap();
        assert_eq!(found.name, "my-retry");
        assert_eq!(found.path, dir.path().join("my-retry.toml"));
        assert_eq!(
            find_in(dir.path(), "my-retry.toml").unwrap().name,
            "my-retry"
        );
        assert_eq!(find_in(dir.path(), "notes"), None);
        assert_eq!(
            find_in(dir.path(), "sub"),
            None,
            "a folder is not a scenario"
        );
        assert_eq!(find_in(dir.path(), "../my-retry"), None);
        assert_eq!(find_in(dir.path(), ".hidden"), None);
        assert_eq!(find_in(dir.path(), ""), None);
        let names: Vec<String> = list_in(dir.path()).into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["my-retry"]);
        assert!(list_in(&dir.path().join("missing")).is_empty());
    }
}
