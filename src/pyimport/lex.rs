//! A Python tokenizer, just enough to read decorators and small function bodies: names,
//! numbers, strings (every prefix, triple quotes, f-strings split into parts), operators,
//! grouped into logical lines (brackets and backslashes join physical lines) with their
//! indentation. A line it cannot read is reported and skipped; the rest goes on.

/// Brackets open at once inside one logical line; deeper is refused (bounded input).
pub const MAX_BRACKETS: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Name(String),
    Num(f64),
    Str(StrLit),
    Op(String),
}

/// One string literal. An f-string keeps its fields apart from its text.
#[derive(Debug, Clone, PartialEq)]
pub struct StrLit {
    pub parts: Vec<StrPart>,
    pub fstring: bool,
    pub bytes: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StrPart {
    Text(String),
    /// `{expr!conv:spec}` of an f-string: the expression as written, and whether a
    /// conversion or a format spec followed it.
    Field {
        expr: String,
        formatted: bool,
    },
}

impl StrLit {
    /// The text of a plain string (an f-string's fields come back as `{expr}`).
    pub fn text(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                StrPart::Text(t) => t.clone(),
                StrPart::Field { expr, .. } => format!("{{{expr}}}"),
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    /// 1-based physical line.
    pub line: u32,
}

/// A logical line: its indentation (columns, a tab counting to the next multiple of 8) and
/// its tokens (never empty).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub indent: u32,
    pub line: u32,
    pub tokens: Vec<Token>,
}

/// A line the tokenizer could not read.
#[derive(Debug, Clone, PartialEq)]
pub struct LexError {
    pub line: u32,
    pub why: String,
}

/// Longest operators first, so `**=` wins over `**` and `*`.
const OPS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "->", ":=", "==", "!=", "<=", ">=", "**", "//", "<<", ">>",
    "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=", "+", "-", "*", "/", "%", "@", "&", "|",
    "^", "~", "<", ">", "(", ")", "[", "]", "{", "}", ",", ":", ".", ";", "=",
];

struct Lexer<'a> {
    src: &'a [u8],
    text: &'a str,
    pos: usize,
    line: u32,
    lines: Vec<Line>,
    errors: Vec<LexError>,
    current: Vec<Token>,
    start_line: u32,
    indent: u32,
    brackets: usize,
}

/// Splits `src` into logical lines; unreadable lines are skipped and reported.
pub fn logical_lines(src: &str) -> (Vec<Line>, Vec<LexError>) {
    let mut lx = Lexer {
        src: src.as_bytes(),
        text: src,
        pos: 0,
        line: 1,
        lines: Vec::new(),
        errors: Vec::new(),
        current: Vec::new(),
        start_line: 1,
        indent: 0,
        brackets: 0,
    };
    lx.run();
    (lx.lines, lx.errors)
}

impl Lexer<'_> {
    fn peek(&self, at: usize) -> Option<u8> {
        self.src.get(self.pos + at).copied()
    }

    fn run(&mut self) {
        self.start_of_line();
        while self.pos < self.src.len() {
            if let Err(why) = self.step() {
                self.errors.push(LexError {
                    line: self.line,
                    why,
                });
                self.skip_physical_line();
                self.current.clear();
                self.brackets = 0;
                self.start_of_line();
            }
        }
        self.end_line();
    }

    /// Measures the indentation of a new logical line.
    fn start_of_line(&mut self) {
        let mut col = 0u32;
        while let Some(c) = self.peek(0) {
            match c {
                b' ' => col += 1,
                b'\t' => col = (col / 8 + 1) * 8,
                b'\x0c' => col = 0,
                _ => break,
            }
            self.pos += 1;
        }
        self.indent = col;
        self.start_line = self.line;
    }

    fn end_line(&mut self) {
        if !self.current.is_empty() {
            self.lines.push(Line {
                indent: self.indent,
                line: self.start_line,
                tokens: std::mem::take(&mut self.current),
            });
        }
    }

    fn skip_physical_line(&mut self) {
        while let Some(c) = self.peek(0) {
            self.pos += 1;
            if c == b'\n' {
                self.line += 1;
                return;
            }
        }
    }

    fn push(&mut self, tok: Tok, line: u32) {
        if self.current.is_empty() {
            self.start_line = line;
        }
        self.current.push(Token { tok, line });
    }

    fn step(&mut self) -> Result<(), String> {
        let Some(c) = self.peek(0) else {
            return Ok(());
        };
        match c {
            b'\n' => {
                self.pos += 1;
                self.line += 1;
                if self.brackets == 0 {
                    self.end_line();
                    self.start_of_line();
                }
            }
            b' ' | b'\t' | b'\r' | b'\x0c' => self.pos += 1,
            b'#' => {
                while self.peek(0).is_some_and(|c| c != b'\n') {
                    self.pos += 1;
                }
            }
            b'\\' if matches!(self.peek(1), Some(b'\n')) => {
                self.pos += 2;
                self.line += 1;
            }
            b'\\' if matches!((self.peek(1), self.peek(2)), (Some(b'\r'), Some(b'\n'))) => {
                self.pos += 3;
                self.line += 1;
            }
            b'0'..=b'9' => self.number()?,
            b'.' if self.peek(1).is_some_and(|c| c.is_ascii_digit()) => self.number()?,
            b'"' | b'\'' => self.string("")?,
            _ if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 => self.name_or_string()?,
            _ => self.operator()?,
        }
        Ok(())
    }

    fn name_or_string(&mut self) -> Result<(), String> {
        let start = self.pos;
        let rest = &self.text[start..];
        let end = rest
            .char_indices()
            .find(|(_, ch)| !(ch.is_alphanumeric() || *ch == '_'))
            .map_or(rest.len(), |(i, _)| i);
        if end == 0 {
            let ch = rest.chars().next().unwrap_or('?');
            return Err(format!("`{ch}` is not Python"));
        }
        let word = &rest[..end];
        self.pos += end;
        if matches!(self.peek(0), Some(b'"' | b'\''))
            && word.len() <= 2
            && word
                .chars()
                .all(|c| matches!(c.to_ascii_lowercase(), 'r' | 'b' | 'u' | 'f'))
        {
            return self.string(&word.to_ascii_lowercase());
        }
        let line = self.line;
        self.push(Tok::Name(word.to_string()), line);
        Ok(())
    }

    fn number(&mut self) -> Result<(), String> {
        let start = self.pos;
        let bytes = self.src;
        let mut end = start;
        while end < bytes.len() {
            let c = bytes[end];
            let exp_sign = matches!(c, b'+' | b'-')
                && end > start
                && matches!(bytes[end - 1], b'e' | b'E')
                && !self.text[start..end].starts_with("0x");
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || exp_sign {
                end += 1;
            } else {
                break;
            }
        }
        let raw = self.text[start..end].replace('_', "");
        self.pos = end;
        let lower = raw.to_ascii_lowercase();
        let value = if let Some(hex) = lower.strip_prefix("0x") {
            u64::from_str_radix(hex, 16).ok().map(|v| v as f64)
        } else if let Some(oct) = lower.strip_prefix("0o") {
            u64::from_str_radix(oct, 8).ok().map(|v| v as f64)
        } else if let Some(bin) = lower.strip_prefix("0b") {
            u64::from_str_radix(bin, 2).ok().map(|v| v as f64)
        } else {
            lower.trim_end_matches('j').parse::<f64>().ok()
        };
        let value = value.ok_or_else(|| format!("`{raw}` is not a number"))?;
        let line = self.line;
        self.push(Tok::Num(value), line);
        Ok(())
    }

    fn operator(&mut self) -> Result<(), String> {
        let rest = &self.text[self.pos..];
        let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) else {
            let ch = rest.chars().next().unwrap_or('?');
            return Err(format!("`{ch}` is not Python"));
        };
        match *op {
            "(" | "[" | "{" => {
                self.brackets += 1;
                if self.brackets > MAX_BRACKETS {
                    return Err(format!("brackets nested deeper than {MAX_BRACKETS}"));
                }
            }
            ")" | "]" | "}" => {
                if self.brackets == 0 {
                    return Err(format!("`{op}` closes nothing"));
                }
                self.brackets -= 1;
            }
            _ => {}
        }
        self.pos += op.len();
        let line = self.line;
        self.push(Tok::Op((*op).to_string()), line);
        Ok(())
    }

    /// A string literal at `self.pos` (its quote), with its prefix already read.
    fn string(&mut self, prefix: &str) -> Result<(), String> {
        let line = self.line;
        let quote = self.src[self.pos];
        let triple = self.peek(1) == Some(quote) && self.peek(2) == Some(quote);
        let qlen = if triple { 3 } else { 1 };
        self.pos += qlen;
        let raw = prefix.contains('r');
        let fstring = prefix.contains('f');
        let start = self.pos;
        // Find the closing quote, honouring backslashes (even in raw strings, a backslash
        // keeps the next quote).
        let mut end = None;
        let mut i = self.pos;
        while i < self.src.len() {
            let c = self.src[i];
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'\n' && !triple {
                break;
            }
            if c == quote
                && (!triple
                    || (self.src.get(i + 1) == Some(&quote) && self.src.get(i + 2) == Some(&quote)))
            {
                end = Some(i);
                break;
            }
            i += 1;
        }
        let Some(end) = end else {
            if triple {
                // Nothing after an unterminated triple quote can be read.
                self.pos = self.src.len();
            }
            return Err("a string is never closed".into());
        };
        let body = &self.text[start..end];
        self.line += u32::try_from(body.matches('\n').count()).unwrap_or(u32::MAX);
        self.pos = end + qlen;
        let parts = if fstring {
            fstring_parts(body, raw)?
        } else {
            vec![StrPart::Text(if raw {
                body.to_string()
            } else {
                unescape(body)
            })]
        };
        self.push(
            Tok::Str(StrLit {
                parts,
                fstring,
                bytes: prefix.contains('b'),
            }),
            line,
        );
        Ok(())
    }
}

/// Python's escapes in a non-raw string. Unknown escapes stay as written, as in Python.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            Some('\n') => {}
            Some(e @ ('x' | 'u' | 'U')) => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = (0..n).filter_map(|_| chars.next()).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => {
                        out.push('\\');
                        out.push(e);
                        out.push_str(&hex);
                    }
                }
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Splits an f-string's body into text and `{fields}` (`{{` and `}}` are literal braces).
fn fstring_parts(body: &str, raw: bool) -> Result<Vec<StrPart>, String> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    let flush = |text: &mut String, parts: &mut Vec<StrPart>| {
        if !text.is_empty() {
            let t = std::mem::take(text);
            parts.push(StrPart::Text(if raw { t } else { unescape(&t) }));
        }
    };
    while i < chars.len() {
        match chars[i] {
            '{' if chars.get(i + 1) == Some(&'{') => {
                text.push('{');
                i += 2;
            }
            '}' if chars.get(i + 1) == Some(&'}') => {
                text.push('}');
                i += 2;
            }
            '{' => {
                flush(&mut text, &mut parts);
                let mut depth = 0usize;
                let mut j = i + 1;
                let mut expr_end = None;
                while j < chars.len() {
                    match chars[j] {
                        '(' | '[' | '{' => depth += 1,
                        ')' | ']' if depth > 0 => depth -= 1,
                        '}' if depth > 0 => depth -= 1,
                        // `!=` inside a field is a comparison, not a conversion.
                        '!' | ':'
                            if depth == 0
                                && expr_end.is_none()
                                && !(chars[j] == '!' && chars.get(j + 1) == Some(&'=')) =>
                        {
                            expr_end = Some(j);
                        }
                        '}' => break,
                        _ => {}
                    }
                    j += 1;
                }
                if j >= chars.len() {
                    return Err("an f-string field is never closed".into());
                }
                let e = expr_end.unwrap_or(j);
                let expr: String = chars[i + 1..e].iter().collect();
                parts.push(StrPart::Field {
                    expr: expr.trim().to_string(),
                    formatted: e < j,
                });
                i = j + 1;
            }
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    flush(&mut text, &mut parts);
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Vec<Tok>> {
        let (lines, errors) = logical_lines(src);
        assert!(errors.is_empty(), "{errors:?}");
        lines
            .into_iter()
            .map(|l| l.tokens.into_iter().map(|t| t.tok).collect())
            .collect()
    }

    fn name(s: &str) -> Tok {
        Tok::Name(s.into())
    }
    fn op(s: &str) -> Tok {
        Tok::Op(s.into())
    }

    #[test]
    fn brackets_and_backslashes_join_lines_comments_vanish() {
        let src = "@retry(\n    stop=3,  # three\n)\ndef f(): \\\n  pass\n";
        let lines = toks(src);
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            [
                op("@"),
                name("retry"),
                op("("),
                name("stop"),
                op("="),
                Tok::Num(3.0),
                op(","),
                op(")")
            ]
        );
        assert_eq!(lines[1][0], name("def"));
    }

    #[test]
    fn indentation_and_line_numbers() {
        let (lines, _) = logical_lines("def f():\n    return 1\n\n\tx = 2\n");
        let got: Vec<(u32, u32)> = lines.iter().map(|l| (l.indent, l.line)).collect();
        assert_eq!(got, [(0, 1), (4, 2), (8, 4)]);
    }

    #[test]
    fn strings_every_prefix_and_triple_quotes() {
        let lines = toks("a = r'\\d+'\nb = '''x\ny'''\nc = b\"z\"\nd = 'it\\'s\\n'\n");
        let text = |t: &Tok| match t {
            Tok::Str(s) => s.text(),
            _ => panic!("{t:?}"),
        };
        assert_eq!(text(&lines[0][2]), "\\d+");
        assert_eq!(text(&lines[1][2]), "x\ny");
        assert_eq!(text(&lines[2][2]), "z");
        assert_eq!(text(&lines[3][2]), "it's\n");
    }

    #[test]
    fn fstrings_split_into_text_and_fields() {
        let lines = toks("f\"Who {{wrote}} {book}? {x!r} {y:>4}\"");
        let Tok::Str(s) = &lines[0][0] else { panic!() };
        assert!(s.fstring);
        assert_eq!(
            s.parts,
            [
                StrPart::Text("Who {wrote} ".into()),
                StrPart::Field {
                    expr: "book".into(),
                    formatted: false
                },
                StrPart::Text("? ".into()),
                StrPart::Field {
                    expr: "x".into(),
                    formatted: true
                },
                StrPart::Text(" ".into()),
                StrPart::Field {
                    expr: "y".into(),
                    formatted: true
                },
            ]
        );
    }

    #[test]
    fn numbers() {
        let lines = toks("x = [1, 2.5, 1_000, 1e3, 0x10, .5, 2e-3]");
        let nums: Vec<f64> = lines[0]
            .iter()
            .filter_map(|t| match t {
                Tok::Num(n) => Some(*n),
                _ => None,
            })
            .collect();
        assert_eq!(nums, [1.0, 2.5, 1000.0, 1000.0, 16.0, 0.5, 0.002]);
    }

    #[test]
    fn a_line_that_is_not_python_is_reported_and_skipped() {
        let (lines, errors) = logical_lines("x = 1\ny = $foo\nz = 'open\nw = 2\n");
        assert_eq!(
            errors,
            [
                LexError {
                    line: 2,
                    why: "`$` is not Python".into()
                },
                LexError {
                    line: 3,
                    why: "a string is never closed".into()
                },
            ]
        );
        let firsts: Vec<&Tok> = lines.iter().map(|l| &l.tokens[0].tok).collect();
        assert_eq!(firsts, [&name("x"), &name("w")]);
    }

    #[test]
    fn deep_brackets_are_refused() {
        let src = format!("x = {}1{}\ny = 2\n", "(".repeat(100), ")".repeat(100));
        let (lines, errors) = logical_lines(&src);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].why.contains("deeper than 64"), "{errors:?}");
        // The rest of the file is still read.
        assert!(lines.iter().any(|l| l.tokens[0].tok == name("y")));
    }
}
