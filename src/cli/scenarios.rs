//! `retrylab scenarios`: the built-in scenarios, then the saved ones, one per line.

use crate::scenario::builtin::{all, find};
use crate::scenario::load::parse;
use crate::scenario::saved::{self, Saved};
use crate::scenario::userfile::{MAX_USER_FILE, read_user_file};
use std::path::Path;

/// The most saved scenarios described (each is read and parsed for its `about`).
const SHOWN_MAX: usize = 500;

/// The first sentence of a scenario's `about`.
fn first_sentence(about: &str) -> String {
    about
        .split(['.', ':'])
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

fn describe_saved(s: &Saved) -> String {
    let about = match read_user_file(&s.path, MAX_USER_FILE) {
        Ok(text) => match parse(&text, &s.path.display().to_string()) {
            Ok(sc) => first_sentence(&sc.about),
            Err(e) => format!("(does not load: {})", e.message),
        },
        Err(e) => format!("(cannot read: {e})"),
    };
    let shadows = if find(&s.name).is_some() {
        format!("  [shadows the built-in: builtin:{} runs it]", s.name)
    } else {
        String::new()
    };
    format!("{:<24} {about}{shadows}\n", s.name)
}

/// The listing, with the saved scenarios of `saved_dir` (when there is one).
pub fn listing_with(saved_dir: Option<&Path>) -> String {
    let mut out = String::new();
    for b in all() {
        let about = parse(b.source, b.name).map(|s| s.about).unwrap_or_default();
        out.push_str(&format!("{:<24} {}\n", b.name, first_sentence(&about)));
    }
    if let Some(dir) = saved_dir {
        let saved = saved::list_in(dir);
        if !saved.is_empty() {
            out.push_str(&format!("\nsaved, in {}:\n", dir.display()));
            for s in saved.iter().take(SHOWN_MAX) {
                out.push_str(&describe_saved(s));
            }
            if saved.len() > SHOWN_MAX {
                out.push_str(&format!("… and {} more\n", saved.len() - SHOWN_MAX));
            }
        }
    }
    out.push_str(
        "\nrun one: retrylab run NAME --speed max   ·   see its plan: retrylab check NAME\n",
    );
    out
}

pub fn listing() -> String {
    listing_with(crate::dirs::scenarios_dir().as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_builtins_then_saved_marking_shadows() {
        let dir = tempfile::tempdir().unwrap();
        let basic = find("basic-retry").unwrap().source;
        std::fs::write(dir.path().join("basic-retry.toml"), basic).unwrap();
        std::fs::write(
            dir.path().join("mine.toml"),
            basic.replace("about = \"\"\"", "about = \"\"\"My own policy. "),
        )
        .unwrap();
        std::fs::write(dir.path().join("broken.toml"), "[call\n").unwrap();
        let out = listing_with(Some(dir.path()));
        let saved_at = out.find("\nsaved, in ").expect(&out);
        assert!(out[..saved_at].contains("basic-retry "), "{out}");
        let saved = &out[saved_at..];
        let lines: Vec<&str> = saved.lines().skip(2).take(3).collect();
        assert!(
            lines[0].starts_with("basic-retry ")
                && lines[0].ends_with("[shadows the built-in: builtin:basic-retry runs it]"),
            "{out}"
        );
        assert!(
            lines[1].starts_with("broken ") && lines[1].contains("(does not load: "),
            "{out}"
        );
        assert!(
            lines[2].starts_with("mine ") && lines[2].contains("My own policy"),
            "{out}"
        );
        assert!(!listing_with(None).contains("saved, in"));
    }
}
