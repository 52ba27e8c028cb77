//! The file name a saved scenario gets (the list is `crate::scenario::saved`'s, shared
//! with the CLI).

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
}
