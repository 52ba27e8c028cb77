//! Templates that could grow without bound where neither fuel nor the output cap sees it:
//! a `{% set %}` feeding on itself and a `*` that may repeat a string, found by scanning
//! the template's code blocks (comments and raw blocks skipped, string literals blanked).

/// Filters whose output is no longer than their input (or bounded by their arguments).
const NON_GROWING_FILTERS: &[&str] = &[
    "length",
    "count",
    "int",
    "float",
    "abs",
    "round",
    "lower",
    "upper",
    "trim",
    "capitalize",
    "title",
    "first",
    "last",
    "min",
    "max",
    "sum",
    "bool",
    "default",
    "d",
    "safe",
];

/// A `{% set %}` that builds a value from a value some `{% set %}` assigns, with an operator
/// or filter that can grow it (`~`, `+`, `*`, `|join`...): in a loop (through a namespace) or
/// repeated, it doubles without bound, and neither fuel nor the output cap can see it (the
/// value is never emitted). Returns (byte offset of the block, the name it feeds on).
/// A chain of more growing sets that read other sets' values (`b = a ~ a`, `c = b ~ b`...)
/// than this is refused too: each link may double.
const MAX_CHAINED_SETS: usize = 8;

pub(crate) fn self_feeding_set(text: &str) -> Option<(usize, String)> {
    let sets = set_blocks(text);
    let targets: Vec<&str> = sets
        .iter()
        .flat_map(|s| s.targets.iter().copied())
        .collect();
    let mut chained = 0;
    for set in &sets {
        let code = blank_strings(set.expr);
        let grows = code.contains('~')
            || code.contains('*')
            || has_string_plus(&code)
            || filters(&code).any(|f| !NON_GROWING_FILTERS.contains(&f));
        if !grows {
            continue;
        }
        // Its own target (a namespace carries it across loop iterations): it feeds on itself.
        if let Some(name) = idents(&code).find(|i| set.targets.contains(i)) {
            return Some((set.at, name.to_string()));
        }
        if let Some(name) = idents(&code).find(|i| targets.contains(i)) {
            chained += 1;
            if chained > MAX_CHAINED_SETS {
                return Some((set.at, name.to_string()));
            }
        }
    }
    None
}

/// A `*` that may repeat a string or a list: minijinja builds up to 100 MB per `"x" * n`, in
/// one instruction that neither fuel nor the output cap sees, so a loop of them runs for
/// minutes. `*` is allowed between numbers only: number literals, the scenario's numeric
/// `vars` (`numeric_var`) and the variables of `range(..)` loops. Returns the `*`'s offset.
pub(crate) fn repeating_product(text: &str, numeric_var: &dyn Fn(&str) -> bool) -> Option<usize> {
    let blocks = code_blocks(text);
    let mut counters: Vec<&str> = Vec::new();
    for (_, code) in &blocks {
        let body = code.trim_matches(['-', '+']).trim();
        if let Some(rest) = body.strip_prefix("for")
            && let Some((targets, source)) = rest.split_once(" in ")
            && source.trim_start().starts_with("range(")
        {
            counters.extend(targets.split(',').map(str::trim));
        }
    }
    let number = |name: &str| numeric_var(name) || counters.contains(&name);
    for (at, code) in blocks {
        let code = blank_strings(code);
        let bytes = code.as_bytes();
        for (i, _) in code.match_indices('*') {
            let pow = bytes.get(i + 1) == Some(&b'*') || (i > 0 && bytes[i - 1] == b'*');
            if pow {
                continue;
            }
            let (before, after) = (&code[..i], &code[i + 1..]);
            let numbers = left_is_number(before, &number) && right_is_number(after, &number);
            if !numbers && !short_literal_repeat(before, after) {
                return Some(at + 2 + i);
            }
        }
    }
    None
}

/// The most a `"lit" * n` of literals may build (a ruler of `=` is fine, a megabyte is not).
const MAX_LITERAL_REPEAT: usize = 10_000;

/// `"=" * 40` or `40 * "="`: a string literal times an integer literal, small enough.
/// (`before`/`after` come from [`blank_strings`]: a literal's content is spaces.)
fn short_literal_repeat(before: &str, after: &str) -> bool {
    let literal_len = |side: &str, at_end: bool| -> Option<usize> {
        let side = if at_end {
            side.trim_end()
        } else {
            side.trim_start()
        };
        let q = if at_end {
            side.chars().next_back()?
        } else {
            side.chars().next()?
        };
        if q != '"' && q != '\'' {
            return None;
        }
        let inner = if at_end {
            &side[..side.len() - 1]
        } else {
            &side[1..]
        };
        let len = if at_end {
            inner.chars().rev().take_while(|&c| c != q).count()
        } else {
            inner.chars().take_while(|&c| c != q).count()
        };
        Some(len)
    };
    let integer = |side: &str, at_end: bool| -> Option<usize> {
        let side = side.trim();
        let digits: String = if at_end {
            let d: Vec<char> = side
                .chars()
                .rev()
                .take_while(char::is_ascii_digit)
                .collect();
            let before = side[..side.len() - d.len()].trim_end().chars().next_back();
            if matches!(before, Some('.' | '|')) || before.is_some_and(is_ident) {
                return None;
            }
            d.into_iter().rev().collect()
        } else {
            let d: String = side.chars().take_while(char::is_ascii_digit).collect();
            let next = side[d.len()..].trim_start().chars().next();
            if matches!(next, Some('.' | '(' | '[')) || next.is_some_and(is_ident) {
                return None;
            }
            d
        };
        digits.parse().ok()
    };
    let product = match (literal_len(before, true), integer(after, false)) {
        (Some(len), Some(n)) => Some((len, n)),
        _ => integer(before, true)
            .zip(literal_len(after, false))
            .map(|(n, len)| (len, n)),
    };
    product.is_some_and(|(len, n)| len.saturating_mul(n) <= MAX_LITERAL_REPEAT)
}

/// The operand that ends `before` is a number literal or a numeric name.
fn left_is_number(before: &str, number: &dyn Fn(&str) -> bool) -> bool {
    let before = before.trim_end();
    let start = before
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_ident(c) || c == '.')
        .last()
        .map_or(before.len(), |(i, _)| i);
    let token = &before[start..];
    let after_dot_or_pipe = matches!(
        before[..start].trim_end().chars().next_back(),
        Some('.' | '|')
    );
    !token.is_empty() && !after_dot_or_pipe && is_number_token(token, number)
}

/// The operand that starts `after` is a number literal or a numeric name (a filter may follow).
fn right_is_number(after: &str, number: &dyn Fn(&str) -> bool) -> bool {
    let after = after
        .trim_start()
        .trim_start_matches(['-', '+'])
        .trim_start();
    let end = after
        .find(|c: char| !(is_ident(c) || c == '.'))
        .unwrap_or(after.len());
    let token = &after[..end];
    let called_or_indexed = matches!(after[end..].trim_start().chars().next(), Some('(' | '['));
    !token.is_empty() && !called_or_indexed && is_number_token(token, number)
}

/// `12`, `0.5` or a numeric name (not an attribute: `ns.s` may hold a string).
fn is_number_token(token: &str, number: &dyn Fn(&str) -> bool) -> bool {
    if token.starts_with(|c: char| c.is_ascii_digit()) {
        token
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '_')
    } else {
        !token.contains('.') && number(token)
    }
}

/// Every `{{ .. }}` and `{% .. %}` (offset of the opening, the code inside), comments and
/// raw blocks skipped.
fn code_blocks(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find('{').map(|i| from + i) {
        let close = match text.as_bytes().get(open + 1) {
            Some(b'{') => b'}',
            Some(b'%') => b'%',
            Some(b'#') => {
                match text[open + 2..].find("#}") {
                    Some(i) => from = open + 2 + i + 2,
                    None => break,
                }
                continue;
            }
            _ => {
                from = open + 1;
                continue;
            }
        };
        let Some(end) = closing(text, open + 2, close) else {
            break;
        };
        let code = &text[open + 2..end];
        from = end + 2;
        if close == b'%' && code.trim_matches(['-', '+']).trim().starts_with("raw") {
            match text[from..].find("endraw") {
                Some(i) => from += i,
                None => break,
            }
            continue;
        }
        out.push((open, code));
    }
    out
}

/// Where a block closes: `close` then `}`, outside string literals.
fn closing(text: &str, from: usize, close: u8) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = from;
    while i + 1 < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == close && bytes[i + 1] == b'}' => return Some(i),
            None => {}
        }
        i += 1;
    }
    None
}

struct SetBlock<'a> {
    at: usize,
    targets: Vec<&'a str>,
    expr: &'a str,
}

/// Every `{% set a, b = expr %}` (not the block form, whose value is emitted output).
fn set_blocks(text: &str) -> Vec<SetBlock<'_>> {
    let mut out = Vec::new();
    for (open, code) in code_blocks(text) {
        if text.as_bytes().get(open + 1) != Some(&b'%') {
            continue;
        }
        let body = code
            .trim_start_matches(['-', '+'])
            .trim_end_matches(['-', '+'])
            .trim();
        let Some(rest) = body
            .strip_prefix("set")
            .filter(|r| r.starts_with(char::is_whitespace))
        else {
            continue;
        };
        let Some((lhs, expr)) = rest.split_once('=') else {
            continue;
        };
        let targets = lhs
            .split(',')
            .map(|t| t.trim().split('.').next().unwrap_or_default().trim())
            .filter(|t| !t.is_empty())
            .collect();
        out.push(SetBlock {
            at: open,
            targets,
            expr,
        });
    }
    out
}

/// The expression with every string literal's content replaced by spaces.
fn blank_strings(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in expr.chars() {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {
                out.push(' ');
                continue;
            }
            None if c == '"' || c == '\'' => quote = Some(c),
            None => {}
        }
        out.push(c);
    }
    out
}

/// `+` that may join strings: not one with a number on either side (`ns.n + 1`).
fn has_string_plus(code: &str) -> bool {
    let chars: Vec<char> = code.chars().collect();
    chars.iter().enumerate().any(|(i, c)| {
        *c == '+' && {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            let prev = chars[..i].iter().rev().find(|c| !c.is_whitespace());
            !(next.is_some_and(char::is_ascii_digit) || prev.is_some_and(char::is_ascii_digit))
        }
    })
}

/// Names used as filters (`| name`).
fn filters(code: &str) -> impl Iterator<Item = &str> {
    code.split('|').skip(1).filter_map(|rest| {
        let rest = rest.trim_start();
        let end = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
        (end > 0).then(|| &rest[..end])
    })
}

/// Variable names read by the expression (not attributes after `.`, nor filter names).
fn idents(code: &str) -> impl Iterator<Item = &str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in code
        .char_indices()
        .chain(std::iter::once((code.len(), ' ')))
    {
        match (start, is_ident(c)) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                let before = code[..s].trim_end().chars().next_back();
                let word = &code[s..i];
                let numeric = word.starts_with(|c: char| c.is_ascii_digit());
                if !numeric && !matches!(before, Some('.') | Some('|')) {
                    out.push(word);
                }
                start = None;
            }
            _ => {}
        }
    }
    out.into_iter()
}

pub(super) fn char_floor(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

pub(super) fn char_ceil(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

pub(super) fn find_word(text: &str, word: &str) -> Option<usize> {
    text.match_indices(word).map(|(i, _)| i).find(|&i| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

pub(super) fn contains_word(text: &str, word: &str) -> bool {
    find_word(text, word).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_takes_numbers_only_or_a_short_literal_ruler() {
        let numeric = |n: &str| n == "n";
        let refused = |t: &str| repeating_product(t, &numeric);
        for ok in [
            "{{ n * 2 }}{{ 2 * n|int }}",
            "{% for i, j in range(3) %}{{ i * j }}{% endfor %}",
            "{{ 1.5 * 2 }}{{ 2 ** 8 }}{{ n**2 }}",
            "{{ '*' }}{# a * b #}{% raw %}{{ s * 9 }}{% endraw %}",
            "{{ '=' * 40 }}{{ 3 * \"ab\" }}",
            "a * b outside any block",
        ] {
            assert_eq!(refused(ok), None, "{ok}");
        }
        for (bad, at) in [
            ("{{ s * 2 }}", 5),
            ("x{{ n * s }}", 6),
            ("{{ n * f(2) }}", 5),
            ("{{ n * xs[0] }}", 5),
            ("{{ ns.n * 2 }}", 8),
            ("{{ s|length * 2 }}", 12),
            ("{{ '=' * 10001 }}", 7),
            ("{{ '=' * n }}", 7),
            ("{% set y = ('x' ~ 'y') * 3 %}", 23),
        ] {
            assert_eq!(refused(bad), Some(at), "{bad}");
        }
    }
}
