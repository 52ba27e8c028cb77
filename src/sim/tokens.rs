//! Word-sized tokens and the pacing schedule of a simulated reply.
//!
//! A reply is split into pieces that each start with their leading whitespace ("Hello big
//! world" → "Hello", " big", " world"), so concatenating the pieces gives the text back. The
//! i-th token (0-based) is due at `first_token + i / tokens_per_second`; the end of the reply
//! (the terminal events) at `first_token + n / tokens_per_second`.

use std::time::Duration;

/// Splits `text` into word-sized pieces, each keeping its leading whitespace.
pub fn split(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut seen_word = false;
    for c in text.chars() {
        if c.is_whitespace() && seen_word {
            out.push(std::mem::take(&mut current));
            seen_word = false;
        }
        if !c.is_whitespace() {
            seen_word = true;
        }
        current.push(c);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Splits tool-call arguments into pieces the way a model streams them: at whitespace as
/// [`split`] does, and also after `{`, `[`, `,`, `:` and before `}`, `]`, so that even compact
/// JSON goes out in several deltas.
pub fn split_json(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut seen_word = false;
    for c in text.chars() {
        let flush_before = (c.is_whitespace() && seen_word) || matches!(c, '}' | ']');
        if flush_before && !current.is_empty() {
            out.push(std::mem::take(&mut current));
            seen_word = false;
        }
        if !c.is_whitespace() {
            seen_word = true;
        }
        current.push(c);
        if matches!(c, '{' | '[' | ',' | ':') {
            out.push(std::mem::take(&mut current));
            seen_word = false;
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// How many word-sized tokens `text` holds (the simulator's usage unit).
pub fn count(text: &str) -> u64 {
    let mut n = 0;
    let mut in_word = false;
    for c in text.chars() {
        let w = !c.is_whitespace();
        if w && !in_word {
            n += 1;
        }
        in_word = w;
    }
    n
}

/// When each slot of a reply is due, relative to the start of the reply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    pub first_token: Duration,
    /// Tokens per second; 0, negative or not finite = no pacing between tokens.
    pub tokens_per_second: f64,
}

impl Pace {
    /// Slot `i`: token i (0-based), or the end of a reply of `i` tokens.
    pub fn at(&self, slot: usize) -> Duration {
        let tps = self.tokens_per_second;
        if !(tps.is_finite() && tps > 0.0) {
            return self.first_token;
        }
        // Computed from the start each time, so rounding never accumulates.
        let nanos = (slot as f64 * 1e9 / tps).round();
        let extra = if nanos.is_finite() && nanos < u64::MAX as f64 {
            Duration::from_nanos(nanos as u64)
        } else {
            Duration::MAX
        };
        self.first_token.saturating_add(extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_every_character() {
        let text = "  Hello big\nworld!  ";
        let pieces = split(text);
        assert_eq!(pieces, vec!["  Hello", " big", "\nworld!", "  "]);
        assert_eq!(pieces.concat(), text);
        assert_eq!(split(""), Vec::<String>::new());
        assert_eq!(split("one"), vec!["one"]);
    }

    #[test]
    fn split_json_breaks_compact_json_too() {
        let text = r#"{"title": "The Name of the Wind"}"#;
        let pieces = split_json(text);
        assert_eq!(
            pieces,
            vec![
                "{",
                r#""title":"#,
                r#" "The"#,
                " Name",
                " of",
                " the",
                r#" Wind""#,
                "}"
            ]
        );
        assert_eq!(pieces.concat(), text);
        let compact = r#"{"a":[1,2],"b":{}}"#;
        let pieces = split_json(compact);
        assert_eq!(pieces.concat(), compact);
        assert_eq!(
            pieces,
            vec![
                "{", r#""a":"#, "[", "1,", "2", "],", r#""b":"#, "{", "}", "}"
            ]
        );
        assert_eq!(split_json("not json"), vec!["not", " json"]);
        assert_eq!(split_json(""), Vec::<String>::new());
    }

    #[test]
    fn count_matches_split_for_words() {
        assert_eq!(count("Hello big world"), 3);
        assert_eq!(count("  "), 0);
        assert_eq!(count("a\tb\nc "), 3);
    }

    #[test]
    fn pace_is_exact_without_drift() {
        let p = Pace {
            first_token: Duration::from_millis(200),
            tokens_per_second: 3.0,
        };
        assert_eq!(p.at(0), Duration::from_millis(200));
        assert_eq!(p.at(3), Duration::from_millis(1200));
        assert_eq!(p.at(1), Duration::from_nanos(533_333_333));
        let none = Pace {
            first_token: Duration::from_millis(5),
            tokens_per_second: 0.0,
        };
        assert_eq!(none.at(100), Duration::from_millis(5));
    }
}
