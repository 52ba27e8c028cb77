//! Positions in the scenario source: byte offsets → 1-based line/column, and the key path of
//! a span. Values the serde types do not keep spans for are found by walking toml's own
//! spanned document tree (`toml::de::DeTable`) along their key path, so a semantic error
//! points at the exact value (or, when the value is absent, at its table).

use std::fmt;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One step of a key path: a key, or an index into an array (of tables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A key path such as `sim.faults[2].times`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    pub fn new() -> KeyPath {
        KeyPath(Vec::new())
    }

    pub fn key(mut self, k: &str) -> KeyPath {
        self.0.push(Seg::Key(k.to_string()));
        self
    }

    pub fn index(mut self, i: usize) -> KeyPath {
        self.0.push(Seg::Index(i));
        self
    }

    /// The last key of the path (indices skipped): what the user typed last.
    pub fn last_key(&self) -> Option<&str> {
        self.0.iter().rev().find_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        })
    }

    /// Every key of the path, innermost first.
    pub fn keys_rev(&self) -> impl Iterator<Item = &str> {
        self.0.iter().rev().filter_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        })
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("the top level");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// 1-based line and column (in characters) of a byte offset; offsets past the end or inside
/// a character are clamped.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = source[line_start..offset].chars().count() + 1;
    (line, column)
}

/// Byte offset of a 1-based line's start (the end of the source when past the last line).
pub fn line_start(source: &str, line: usize) -> usize {
    if line <= 1 {
        return 0;
    }
    source
        .match_indices('\n')
        .nth(line - 2)
        .map_or(source.len(), |(i, _)| i + 1)
}

/// Where a path's value sits in the document: the value's span, or the nearest enclosing
/// table's when the key is absent (defaults).
pub fn span_of(doc: &Spanned<DeTable<'_>>, path: &KeyPath) -> Range<usize> {
    let mut best = doc.span();
    let mut cur: Option<&Spanned<DeValue<'_>>> = None;
    for seg in &path.0 {
        let next = match (seg, cur) {
            (Seg::Key(k), None) => table_get(doc.get_ref(), k),
            (Seg::Key(k), Some(v)) => match v.get_ref() {
                DeValue::Table(t) => table_get(t, k),
                _ => None,
            },
            (Seg::Index(i), Some(v)) => match v.get_ref() {
                DeValue::Array(a) => a.get(*i),
                _ => None,
            },
            (Seg::Index(_), None) => None,
        };
        match next {
            Some(v) => {
                best = v.span();
                cur = Some(v);
            }
            None => break,
        }
    }
    best
}

/// The span of the key itself (`times` in `times = 0`), falling back to [`span_of`].
pub fn key_span_of(doc: &Spanned<DeTable<'_>>, path: &KeyPath) -> Range<usize> {
    if let Some((Seg::Key(k), parent)) = path.0.split_last() {
        let parent_path = KeyPath(parent.to_vec());
        let table = if parent.is_empty() {
            Some(doc.get_ref())
        } else {
            find_value(doc, &parent_path).and_then(|v| match v.get_ref() {
                DeValue::Table(t) => Some(t),
                _ => None,
            })
        };
        if let Some(key) = table.and_then(|t| t.iter().find(|(key, _)| key.get_ref() == k)) {
            return key.0.span();
        }
    }
    span_of(doc, path)
}

fn find_value<'a, 'i>(
    doc: &'a Spanned<DeTable<'i>>,
    path: &KeyPath,
) -> Option<&'a Spanned<DeValue<'i>>> {
    let mut cur: Option<&Spanned<DeValue<'_>>> = None;
    for seg in &path.0 {
        cur = Some(match (seg, cur) {
            (Seg::Key(k), None) => table_get(doc.get_ref(), k)?,
            (Seg::Key(k), Some(v)) => match v.get_ref() {
                DeValue::Table(t) => table_get(t, k)?,
                _ => return None,
            },
            (Seg::Index(i), Some(v)) => match v.get_ref() {
                DeValue::Array(a) => a.get(*i)?,
                _ => return None,
            },
            (Seg::Index(_), None) => return None,
        });
    }
    cur
}

fn table_get<'a, 'i>(t: &'a DeTable<'i>, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
    t.iter().find(|(k, _)| k.get_ref() == key).map(|(_, v)| v)
}

/// The key path at a span reported by toml, and whether the span is a key (not a value).
/// Header tables (`[retry]`) have spans that do not contain their keys, so every entry is
/// searched: an exact key wins, else the smallest value span containing the target.
pub fn path_at(doc: &Spanned<DeTable<'_>>, target: &Range<usize>) -> (KeyPath, bool) {
    let mut best: Option<(usize, KeyPath, bool)> = None;
    walk_table(doc.get_ref(), &KeyPath::new(), target, &mut best);
    best.map_or((KeyPath::new(), false), |(_, p, k)| (p, k))
}

fn consider(best: &mut Option<(usize, KeyPath, bool)>, len: usize, path: KeyPath, key: bool) {
    let better = match best {
        None => true,
        Some((_, _, true)) => false,
        Some((l, p, false)) => key || len < *l || (len == *l && path.0.len() > p.0.len()),
    };
    if better {
        *best = Some((len, path, key));
    }
}

fn walk_table(
    t: &DeTable<'_>,
    at: &KeyPath,
    target: &Range<usize>,
    best: &mut Option<(usize, KeyPath, bool)>,
) {
    for (k, v) in t.iter() {
        let path = at.clone().key(k.get_ref());
        if k.span() == *target {
            consider(best, 0, path.clone(), true);
        }
        walk_value(v, &path, target, best);
    }
}

fn walk_value(
    v: &Spanned<DeValue<'_>>,
    path: &KeyPath,
    target: &Range<usize>,
    best: &mut Option<(usize, KeyPath, bool)>,
) {
    let s = v.span();
    if s.start <= target.start && target.end <= s.end {
        consider(best, s.end - s.start, path.clone(), false);
    }
    match v.get_ref() {
        DeValue::Table(t) => walk_table(t, path, target, best),
        DeValue::Array(a) => {
            for (i, item) in a.iter().enumerate() {
                walk_value(item, &path.clone().index(i), target, best);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "name = \"x\"\n[retry]\nstop = { after_attempt = 3 }\n\n[[sim.faults]]\nfault = \"rate_limit\"\ntimes = 0\n";

    #[test]
    fn lines_and_columns_are_one_based() {
        assert_eq!(line_col(SRC, 0), (1, 1));
        assert_eq!(line_col(SRC, 7), (1, 8));
        assert_eq!(line_col(SRC, 11), (2, 1));
        assert_eq!(line_col("é = 1", 2), (1, 2));
        assert_eq!(line_col("é = 1", 3), (1, 3));
        assert_eq!(line_col("ab", 99), (1, 3));
        assert_eq!(line_start(SRC, 2), 11);
    }

    #[test]
    fn finds_values_by_path() {
        let doc = DeTable::parse(SRC).unwrap();
        let times = KeyPath::new()
            .key("sim")
            .key("faults")
            .index(0)
            .key("times");
        assert_eq!(&SRC[span_of(&doc, &times)], "0");
        assert_eq!(&SRC[key_span_of(&doc, &times)], "times");
        let stop = KeyPath::new().key("retry").key("stop").key("after_attempt");
        assert_eq!(&SRC[span_of(&doc, &stop)], "3");
        assert_eq!(stop.to_string(), "retry.stop.after_attempt");
        assert_eq!(times.to_string(), "sim.faults[0].times");
        // An absent key points at its nearest table.
        let missing = KeyPath::new().key("retry").key("stop").key("nope");
        assert_eq!(&SRC[span_of(&doc, &missing)], "{ after_attempt = 3 }");
    }

    #[test]
    fn finds_the_path_of_a_span() {
        let doc = DeTable::parse(SRC).unwrap();
        let at = SRC.find("after_attempt").unwrap();
        let (p, key) = path_at(&doc, &(at..at + "after_attempt".len()));
        assert!(key);
        assert_eq!(p.to_string(), "retry.stop.after_attempt");
        let at = SRC.find("0\n").unwrap();
        let (p, key) = path_at(&doc, &(at..at + 1));
        assert!(!key);
        assert_eq!(p.to_string(), "sim.faults[0].times");
    }
}
