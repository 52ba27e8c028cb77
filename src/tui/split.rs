//! Splits a scenario's TOML text into the three editors (Prompt = the `[prompt]` table,
//! Faults = the `[sim]` table, Policy = everything else) and joins them back for parsing,
//! keeping a line map so a parse error lands on the editor line the user typed.
//!
//! The split is textual (comments and layout survive): a small scanner finds top-level table
//! headers, skipping brackets inside strings, comments and multi-line arrays.

/// Which editor a piece of the scenario lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Prompt,
    Policy,
    Faults,
}

impl Part {
    pub const ALL: [Part; 3] = [Part::Prompt, Part::Policy, Part::Faults];

    pub fn label(self) -> &'static str {
        match self {
            Part::Prompt => "prompt",
            Part::Policy => "policy",
            Part::Faults => "faults",
        }
    }
}

/// The three editors' texts, as lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parts {
    pub prompt: Vec<String>,
    pub policy: Vec<String>,
    pub faults: Vec<String>,
}

impl Parts {
    pub fn get(&self, part: Part) -> &[String] {
        match part {
            Part::Prompt => &self.prompt,
            Part::Policy => &self.policy,
            Part::Faults => &self.faults,
        }
    }
}

/// The joined scenario text and where each of its lines came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    pub text: String,
    /// `(part, first line in the part, first line in the joined text, line count)`, 0-based.
    segments: Vec<(Part, usize, usize, usize)>,
}

impl Joined {
    /// Maps a 1-based line of the joined text to `(part, 1-based line in that editor)`. A
    /// separator line or a line past the end maps to the end of the part before it.
    pub fn locate(&self, line: usize) -> Option<(Part, usize)> {
        let l = line.checked_sub(1)?;
        let filled = || self.segments.iter().filter(|s| s.3 > 0);
        filled()
            .rev()
            .find(|(_, _, j, _)| *j <= l)
            .or_else(|| filled().next())
            .map(|(p, from, j, n)| (*p, from + l.saturating_sub(*j).min(n - 1) + 1))
    }
}

/// Splits a scenario into the three editors.
pub fn split(source: &str) -> Parts {
    let lines: Vec<&str> = source.lines().collect();
    let headers = header_lines(&lines);
    // Each header takes along the comment lines right above it.
    let mut starts: Vec<(usize, Part)> = Vec::new();
    for &(h, part) in &headers {
        let mut s = h;
        let floor = starts.last().map_or(0, |&(p, _)| p + 1);
        while s > floor && lines[s - 1].trim_start().starts_with('#') {
            s -= 1;
        }
        starts.push((s, part));
    }
    let mut parts = Parts::default();
    let first = starts.first().map_or(lines.len(), |&(s, _)| s);
    parts
        .policy
        .extend(lines[..first].iter().map(|s| s.to_string()));
    for (i, &(s, part)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(lines.len(), |&(n, _)| n);
        let target = match part {
            Part::Prompt => &mut parts.prompt,
            Part::Policy => &mut parts.policy,
            Part::Faults => &mut parts.faults,
        };
        target.extend(lines[s..end].iter().map(|s| s.to_string()));
    }
    for v in [&mut parts.prompt, &mut parts.policy, &mut parts.faults] {
        while v.last().is_some_and(|l| l.trim().is_empty()) {
            v.pop();
        }
    }
    parts
}

/// Joins the editors back: the policy's top-level keys, the prompt, the policy's tables, the
/// faults (the order of a hand-written scenario file).
pub fn join(parts: &Parts) -> Joined {
    let policy: Vec<&str> = parts.policy.iter().map(String::as_str).collect();
    let split_at = first_table_start(&policy);
    let mut segments = Vec::new();
    let mut out: Vec<&str> = Vec::new();
    let chunks = [
        (Part::Policy, 0, &parts.policy[..split_at]),
        (Part::Prompt, 0, &parts.prompt[..]),
        (Part::Policy, split_at, &parts.policy[split_at..]),
        (Part::Faults, 0, &parts.faults[..]),
    ];
    let blank = |l: Option<&str>| l.is_none_or(|l| l.trim().is_empty());
    for (part, from, lines) in chunks {
        // A blank line between tables that were split apart, for a readable saved file.
        if !blank(out.last().copied()) && !blank(lines.first().map(String::as_str)) {
            out.push("");
        }
        segments.push((part, from, out.len(), lines.len()));
        out.extend(lines.iter().map(String::as_str));
    }
    let mut text = out.join("\n");
    text.push('\n');
    Joined { text, segments }
}

/// Where the first table (with its comment lines) starts, or the end.
fn first_table_start(lines: &[&str]) -> usize {
    match header_lines(lines).first() {
        None => lines.len(),
        Some(&(h, _)) => {
            let mut s = h;
            while s > 0 && lines[s - 1].trim_start().starts_with('#') {
                s -= 1;
            }
            s
        }
    }
}

/// Top-level table header lines (`[x]`, `[[x.y]]`) with the editor their table belongs to.
fn header_lines(lines: &[&str]) -> Vec<(usize, Part)> {
    let mut out = Vec::new();
    let mut sc = Scanner::default();
    for (i, line) in lines.iter().enumerate() {
        if sc.depth == 0 && sc.in_ml.is_none() {
            let t = line.trim_start();
            if t.starts_with('[')
                && let Some(name) = header_name(t)
            {
                out.push((i, part_of(&name)));
                continue;
            }
        }
        sc.scan(line);
    }
    out
}

fn part_of(table: &str) -> Part {
    match table {
        "prompt" => Part::Prompt,
        "sim" => Part::Faults,
        _ => Part::Policy,
    }
}

/// The first key of a header line: `[[fallback.hops]]` → `fallback`.
fn header_name(t: &str) -> Option<String> {
    let inner = t.trim_start_matches('[');
    let end = inner.find(']')?;
    let key = inner[..end].trim();
    let first = key.split('.').next()?.trim();
    let first = first.trim_matches(|c| c == '"' || c == '\'');
    if first.is_empty() {
        None
    } else {
        Some(first.to_string())
    }
}

/// Tracks bracket depth and multi-line strings across lines, outside comments and strings.
#[derive(Default)]
struct Scanner {
    depth: i32,
    /// Inside a `"""` or `'''` string.
    in_ml: Option<&'static str>,
}

impl Scanner {
    fn scan(&mut self, line: &str) {
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if let Some(close) = self.in_ml {
                match line[i..].find(close) {
                    Some(p) => {
                        i += p + 3;
                        self.in_ml = None;
                    }
                    None => return,
                }
                continue;
            }
            match b[i] {
                b'#' => return,
                b'[' | b'{' => self.depth += 1,
                b']' | b'}' => self.depth = (self.depth - 1).max(0),
                q @ (b'"' | b'\'') => {
                    let triple = if q == b'"' { "\"\"\"" } else { "'''" };
                    if line[i..].starts_with(triple) {
                        self.in_ml = Some(triple);
                        i += 3;
                        continue;
                    }
                    // A one-line string: skip to its closing quote.
                    i += 1;
                    while i < b.len() && b[i] != q {
                        if q == b'"' && b[i] == b'\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENARIO: &str = r#"name = "Fallback with retries"
about = "x"

[prompt]
template = "Answer: {{ question }}"
vars = { question = "life?" }

[call]
provider = "openai"
model = "gpt-4o-mini"

[retry]
stop = { after_attempt = 3 }
retry_on = ["rate_limit"] # [not a header]

# the hops
[[fallback.hops]]
provider = "anthropic"
model = "claude"
catch = ["retry_error"]

[sim]
reply = "42."
faults = [
  ["not", "a header"],
  { provider = "openai", fault = "rate_limit", times = 3 },
]
[sim.chaos]
rate_limit = 0.1
"#;

    #[test]
    fn splits_into_three_editors() {
        let p = split(SCENARIO);
        assert_eq!(p.prompt[0], "[prompt]");
        assert_eq!(p.prompt.len(), 3);
        assert_eq!(p.policy[0], "name = \"Fallback with retries\"");
        assert!(p.policy.iter().any(|l| l == "# the hops"));
        assert!(p.policy.iter().any(|l| l == "[[fallback.hops]]"));
        assert!(!p.policy.iter().any(|l| l.contains("[sim")));
        assert_eq!(p.faults[0], "[sim]");
        assert!(p.faults.iter().any(|l| l.contains("\"a header\"")));
        assert_eq!(p.faults.last().unwrap(), "rate_limit = 0.1");
    }

    #[test]
    fn join_restores_a_parseable_file_in_order() {
        let p = split(SCENARIO);
        let j = join(&p);
        let v: toml::Table = toml::from_str(&j.text).unwrap();
        assert_eq!(v["name"].as_str(), Some("Fallback with retries"));
        assert!(v["prompt"]["template"].is_str());
        assert_eq!(v["sim"]["chaos"]["rate_limit"].as_float(), Some(0.1));
        assert!(j.text.contains("life?\" }\n\n[call]"), "{}", j.text);
        // The prompt comes right after the top-level keys, as it was written.
        let prompt_at = j.text.find("[prompt]").unwrap();
        assert!(prompt_at < j.text.find("[call]").unwrap());
        assert!(j.text.find("about").unwrap() < prompt_at);
    }

    #[test]
    fn lines_map_back_to_their_editor() {
        let p = split(SCENARIO);
        let j = join(&p);
        let lines: Vec<&str> = j.text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let (part, n) = j.locate(i + 1).unwrap();
            if !l.is_empty() {
                assert_eq!(p.get(part)[n - 1], *l, "joined line {}", i + 1);
            }
        }
        let (part, n) = j.locate(lines.len() + 5).unwrap();
        assert_eq!(part, Part::Faults);
        assert_eq!(n, p.faults.len());
        assert_eq!(j.locate(0), None);
    }

    #[test]
    fn multiline_strings_hide_brackets() {
        let src = "name = \"\"\"\n[sim]\n\"\"\"\n[prompt]\ntemplate = 'x'\n";
        let p = split(src);
        assert!(p.faults.is_empty());
        assert_eq!(p.policy.len(), 3);
        assert_eq!(p.prompt, vec!["[prompt]", "template = 'x'"]);
    }

    #[test]
    fn empty_editors_join_cleanly() {
        let p = Parts {
            prompt: vec![],
            policy: vec!["name = 'x'".into()],
            faults: vec![],
        };
        let j = join(&p);
        assert_eq!(j.text, "name = 'x'\n");
        assert_eq!(j.locate(1), Some((Part::Policy, 1)));
    }
}
