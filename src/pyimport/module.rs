//! The shape of a Python file, read without running it: its imports (local name →
//! qualified name), its module-level constants, and every function with its decorators,
//! parameters and a small statement tree of its body (returns, ifs, asserts).

use super::expr::{Expr, ExprKind, Parser, parse_all};
use super::lex::{Line, Tok, Token, logical_lines};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct Decorator {
    pub expr: Expr,
    pub line: u32,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub annotation: Option<Expr>,
    pub default: Option<Expr>,
    pub kw_only: bool,
    /// `*args` / `**kwargs`.
    pub star: bool,
}

#[derive(Debug, Clone)]
pub enum Stmt {
    Return(Option<Expr>, u32),
    /// `if` / `elif` / `else` branches in order (`None` for `else`).
    If(Vec<(Option<Expr>, Vec<Stmt>)>, u32),
    Assert(Expr),
    Raise,
    Expr(Expr),
    /// `name = value` (one plain name on the left).
    Assign(String, Expr),
    /// `name += value`.
    AddAssign(String, Expr),
    /// Anything else (assignments, loops, `with`, `try`, ...).
    Other,
}

#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub line: u32,
    pub decorators: Vec<Decorator>,
    pub params: Vec<Param>,
    pub body: Vec<Stmt>,
    /// The logical lines of the body (indices into [`Module::lines`]).
    pub body_lines: std::ops::Range<usize>,
}

impl Function {
    /// The docstring, when the body opens with a string.
    pub fn docstring(&self) -> Option<String> {
        match self.body.first() {
            Some(Stmt::Expr(e)) => e.str_value(),
            _ => None,
        }
    }
}

/// A class: its name, its bases and its annotated fields (`name: type [= default]`).
#[derive(Debug, Clone)]
pub struct Class {
    pub name: String,
    pub line: u32,
    pub bases: Vec<Expr>,
    pub fields: Vec<Param>,
}

/// A line that could not be read, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    pub line: u32,
    pub why: String,
}

#[derive(Debug, Default)]
pub struct Module {
    pub lines: Vec<Line>,
    /// Local name → qualified dotted name (`RateLimitError` → `openai.RateLimitError`).
    pub imports: BTreeMap<String, String>,
    /// Names assigned once, at module level, to a literal.
    pub constants: BTreeMap<String, Expr>,
    /// Names assigned once, at module level, to any expression (`CLIENT_0 = sdk_client(...)`).
    pub assigned: BTreeMap<String, Expr>,
    pub functions: Vec<Function>,
    pub classes: Vec<Class>,
    pub unreadable: Vec<Unreadable>,
}

impl Module {
    pub fn parse(src: &str) -> Module {
        let (lines, errors) = logical_lines(src);
        let mut m = Module {
            unreadable: errors
                .into_iter()
                .map(|e| Unreadable {
                    line: e.line,
                    why: e.why,
                })
                .collect(),
            ..Module::default()
        };
        m.read_imports(&lines);
        m.read_constants(&lines);
        m.read_defs(&lines);
        m.lines = lines;
        m
    }

    /// The qualified dotted name of `e` (`llm.call` → `mirascope.llm.call`), when it is a
    /// dotted name.
    pub fn qualified(&self, e: &Expr) -> Option<String> {
        let d = e.dotted()?;
        let (head, rest) = d.split_once('.').map_or((d.as_str(), ""), |(h, r)| (h, r));
        let q = self.imports.get(head).map_or(head, String::as_str);
        Some(if rest.is_empty() {
            q.to_string()
        } else {
            format!("{q}.{rest}")
        })
    }

    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.name == name)
    }

    pub fn class(&self, name: &str) -> Option<&Class> {
        self.classes.iter().find(|c| c.name == name)
    }

    /// Every call `name(...)` in the given lines (not `x.name(...)`, not `def name`).
    pub fn calls_of(&self, name: &str, within: std::ops::Range<usize>) -> Vec<Expr> {
        let mut out = Vec::new();
        for line in self.lines.get(within).unwrap_or(&[]) {
            let t = &line.tokens;
            for i in 0..t.len() {
                let hit = matches!(&t[i].tok, Tok::Name(n) if n == name)
                    && matches!(t.get(i + 1).map(|x| &x.tok), Some(Tok::Op(o)) if o == "(")
                    && !matches!(i.checked_sub(1).map(|p| &t[p].tok), Some(Tok::Op(o)) if o == ".")
                    && !matches!(i.checked_sub(1).map(|p| &t[p].tok), Some(Tok::Name(d)) if d == "def");
                if hit && let Ok(e) = Parser::new(&t[i..]).primary() {
                    out.push(e);
                }
            }
        }
        out
    }

    /// True when `name` appears as a name token in the given lines.
    pub fn mentions(&self, name: &str, within: std::ops::Range<usize>) -> bool {
        self.lines.get(within).unwrap_or(&[]).iter().any(|l| {
            l.tokens
                .iter()
                .any(|t| matches!(&t.tok, Tok::Name(n) if n == name))
        })
    }

    fn read_imports(&mut self, lines: &[Line]) {
        for l in lines {
            let names: Vec<&str> = l
                .tokens
                .iter()
                .map(|t| match &t.tok {
                    Tok::Name(n) => n.as_str(),
                    Tok::Op(o) => o.as_str(),
                    _ => "",
                })
                .collect();
            match names.first() {
                Some(&"import") => {
                    for item in split_top(&names[1..], ",") {
                        let (path, alias) = dotted_as(item);
                        if let Some(alias) = alias {
                            self.imports.insert(alias, path);
                        } else if let Some(head) = path.split('.').next() {
                            self.imports.insert(head.to_string(), head.to_string());
                        }
                    }
                }
                Some(&"from") => {
                    let Some(at) = names.iter().position(|n| *n == "import") else {
                        continue;
                    };
                    let module: String = names[1..at].concat();
                    let rest: Vec<&str> = names[at + 1..]
                        .iter()
                        .copied()
                        .filter(|n| !matches!(*n, "(" | ")"))
                        .collect();
                    for item in split_top(&rest, ",") {
                        let (name, alias) = dotted_as(item);
                        if name == "*" || name.is_empty() {
                            continue;
                        }
                        let local = alias.unwrap_or_else(|| name.clone());
                        self.imports.insert(local, format!("{module}.{name}"));
                    }
                }
                _ => {}
            }
        }
    }

    fn read_constants(&mut self, lines: &[Line]) {
        let mut assigned: BTreeMap<String, usize> = BTreeMap::new();
        for l in lines {
            let t = &l.tokens;
            if let Some(Tok::Name(n)) = t.first().map(|x| &x.tok) {
                let target = matches!(t.get(1).map(|x| &x.tok), Some(Tok::Op(o)) if o.ends_with('=') && o != "==" || o == ":");
                if target {
                    *assigned.entry(n.clone()).or_default() += 1;
                }
                if matches!(n.as_str(), "global" | "nonlocal" | "for") {
                    // `for a, b in XS`: the targets, not the iterable.
                    for x in t[1..]
                        .iter()
                        .take_while(|x| !matches!(&x.tok, Tok::Name(w) if w == "in"))
                    {
                        if let Tok::Name(v) = &x.tok {
                            *assigned.entry(v.clone()).or_default() += 2;
                        }
                    }
                }
            }
        }
        for l in lines.iter().filter(|l| l.indent == 0) {
            let t = &l.tokens;
            let (Some(Tok::Name(n)), Some(Tok::Op(eq))) =
                (t.first().map(|x| &x.tok), t.get(1).map(|x| &x.tok))
            else {
                continue;
            };
            if eq != "=" || assigned.get(n) != Some(&1) {
                continue;
            }
            if let Ok(e) = parse_all(&t[2..]) {
                if is_literal(&e) {
                    self.constants.insert(n.clone(), e.clone());
                }
                self.assigned.insert(n.clone(), e);
            }
        }
    }

    fn read_defs(&mut self, lines: &[Line]) {
        let mut pending: Vec<Decorator> = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let t = &l.tokens;
            let first = match &t[0].tok {
                Tok::Op(o) if o == "@" => {
                    match parse_all(&t[1..]) {
                        Ok(expr) => pending.push(Decorator { expr, line: l.line }),
                        Err(e) => self.unreadable.push(Unreadable {
                            line: e.line,
                            why: format!("a decorator that does not parse ({})", e.why),
                        }),
                    }
                    continue;
                }
                Tok::Name(n) => n.as_str(),
                _ => "",
            };
            let skip_async = usize::from(first == "async");
            match t.get(skip_async).map(|x| &x.tok) {
                Some(Tok::Name(d)) if d == "def" => {
                    let decorators = std::mem::take(&mut pending);
                    if let Some(f) = self.read_def(lines, i, skip_async + 1, decorators) {
                        self.functions.push(f);
                    }
                }
                Some(Tok::Name(c)) if c == "class" => {
                    pending.clear();
                    if let Some(c) = read_class(lines, i) {
                        self.classes.push(c);
                    }
                }
                _ => pending.clear(),
            }
        }
    }

    fn read_def(
        &mut self,
        lines: &[Line],
        i: usize,
        at: usize,
        decorators: Vec<Decorator>,
    ) -> Option<Function> {
        let l = &lines[i];
        let t = &l.tokens;
        let Some(Tok::Name(name)) = t.get(at).map(|x| &x.tok) else {
            self.unreadable.push(Unreadable {
                line: l.line,
                why: "a `def` without a name".into(),
            });
            return None;
        };
        let open = at + 1;
        let close = matching_close(t, open)?;
        let params = split_tokens(&t[open + 1..close], ",")
            .into_iter()
            .filter(|p| !p.is_empty())
            .fold((Vec::new(), false), |(mut out, mut kw), p| {
                match param(p, kw) {
                    Some(ParamOrMarker::Marker) => kw = true,
                    Some(ParamOrMarker::Param(x)) => {
                        kw |= x.star;
                        out.push(x);
                    }
                    None => {}
                }
                (out, kw)
            })
            .0;
        let colon = top_colon(t, close + 1)?;
        let (body, end) = if colon + 1 < t.len() {
            (simple_stmts(&t[colon + 1..], l.line), i + 1)
        } else {
            block(lines, i + 1, l.indent)
        };
        Some(Function {
            name: name.clone(),
            line: l.line,
            decorators,
            params,
            body,
            body_lines: (i + 1).min(end)..end,
        })
    }
}

fn read_class(lines: &[Line], i: usize) -> Option<Class> {
    let l = &lines[i];
    let t = &l.tokens;
    let Some(Tok::Name(name)) = t.get(1).map(|x| &x.tok) else {
        return None;
    };
    let mut bases = Vec::new();
    let mut after = 2;
    if matches!(t.get(2).map(|x| &x.tok), Some(Tok::Op(o)) if o == "(") {
        let close = matching_close(t, 2)?;
        for b in split_tokens(&t[3..close], ",") {
            if let Ok(e) = parse_all(b) {
                bases.push(e);
            }
        }
        after = close + 1;
    }
    top_colon(t, after)?;
    let mut fields = Vec::new();
    let mut j = i + 1;
    let inner = lines.get(j).map_or(0, |x| x.indent);
    while let Some(x) = lines.get(j) {
        if x.indent <= l.indent {
            break;
        }
        if x.indent == inner
            && let Some(ParamOrMarker::Param(p)) = param(&x.tokens, false)
            && p.annotation.is_some()
        {
            fields.push(p);
        }
        j += 1;
    }
    Some(Class {
        name: name.clone(),
        line: l.line,
        bases,
        fields,
    })
}

enum ParamOrMarker {
    Param(Param),
    /// A bare `*` or `/`.
    Marker,
}

/// `name[: annotation][= default]`, `*args`, `**kw`, a bare `*` or `/`.
fn param(t: &[Token], kw_only: bool) -> Option<ParamOrMarker> {
    let mut at = 0;
    let mut star = false;
    while matches!(t.get(at).map(|x| &x.tok), Some(Tok::Op(o)) if o == "*" || o == "**" || o == "/")
    {
        at += 1;
        star = true;
    }
    let Some(Tok::Name(name)) = t.get(at).map(|x| &x.tok) else {
        return star.then_some(ParamOrMarker::Marker);
    };
    let rest = &t[at + 1..];
    let eq = top_index(rest, "=");
    let (ann, default) = match eq {
        Some(e) => (&rest[..e], Some(&rest[e + 1..])),
        None => (rest, None),
    };
    let annotation = match ann.first().map(|x| &x.tok) {
        Some(Tok::Op(o)) if o == ":" => parse_all(&ann[1..]).ok(),
        _ => None,
    };
    Some(ParamOrMarker::Param(Param {
        name: name.clone(),
        annotation,
        default: default.and_then(|d| parse_all(d).ok()),
        kw_only,
        star,
    }))
}

/// The statements of the block after line `start - 1`, whose header sits at `parent`:
/// every following line indented deeper. Returns them and the index past the block.
fn block(lines: &[Line], start: usize, parent: u32) -> (Vec<Stmt>, usize) {
    let mut out = Vec::new();
    let Some(first) = lines.get(start) else {
        return (out, start);
    };
    if first.indent <= parent {
        return (out, start);
    }
    let indent = first.indent;
    let mut i = start;
    while let Some(l) = lines.get(i) {
        if l.indent <= parent {
            break;
        }
        if l.indent != indent {
            i += 1;
            continue;
        }
        let (stmt, next) = statement(lines, i);
        out.push(stmt);
        i = next.max(i + 1);
    }
    (out, i)
}

/// The end of the block under line `i` (the first line not deeper than it).
fn skip_block(lines: &[Line], i: usize) -> usize {
    let indent = lines[i].indent;
    let mut j = i + 1;
    while lines.get(j).is_some_and(|l| l.indent > indent) {
        j += 1;
    }
    j
}

fn statement(lines: &[Line], i: usize) -> (Stmt, usize) {
    let l = &lines[i];
    let t = &l.tokens;
    let first = match &t[0].tok {
        Tok::Name(n) => n.as_str(),
        _ => "",
    };
    match first {
        "if" => {
            let mut branches = Vec::new();
            let mut j = i;
            loop {
                let lj = &lines[j];
                let tj = &lj.tokens;
                let kw = match &tj[0].tok {
                    Tok::Name(n) => n.as_str(),
                    _ => "",
                };
                let Some(colon) = top_colon(tj, 1) else {
                    return (Stmt::Other, skip_block(lines, i));
                };
                let cond = if kw == "else" {
                    None
                } else {
                    match parse_all(&tj[1..colon]) {
                        Ok(c) => Some(c),
                        Err(_) => return (Stmt::Other, skip_block(lines, j)),
                    }
                };
                let (body, next) = if colon + 1 < tj.len() {
                    (simple_stmts(&tj[colon + 1..], lj.line), j + 1)
                } else {
                    block(lines, j + 1, lj.indent)
                };
                branches.push((cond, body));
                j = next;
                let more = lines.get(j).is_some_and(|n| {
                    n.indent == l.indent
                        && matches!(&n.tokens[0].tok, Tok::Name(k) if (k == "elif" || k == "else") && kw != "else")
                });
                if !more {
                    return (Stmt::If(branches, l.line), j);
                }
            }
        }
        _ if t
            .last()
            .is_some_and(|x| matches!(&x.tok, Tok::Op(o) if o == ":"))
            || matches!(
                first,
                "for" | "while" | "with" | "try" | "def" | "class" | "async" | "match"
            ) =>
        {
            (Stmt::Other, skip_block(lines, i))
        }
        _ => {
            let mut s = simple_stmts(t, l.line);
            let stmt = if s.len() == 1 {
                s.remove(0)
            } else {
                Stmt::Other
            };
            (stmt, i + 1)
        }
    }
}

/// Simple statements on one line, separated by `;`.
fn simple_stmts(t: &[Token], line: u32) -> Vec<Stmt> {
    split_tokens(t, ";")
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(|s| {
            let line = s.first().map_or(line, |x| x.line);
            match &s[0].tok {
                Tok::Name(n) if n == "return" => Stmt::Return(parse_all(&s[1..]).ok(), line),
                Tok::Name(n) if n == "raise" => Stmt::Raise,
                Tok::Name(n) if n == "assert" => {
                    let cond = split_tokens(&s[1..], ",");
                    match cond.first().map(|c| parse_all(c)) {
                        Some(Ok(e)) => Stmt::Assert(e),
                        _ => Stmt::Other,
                    }
                }
                Tok::Name(n)
                    if matches!(s.get(1).map(|x| &x.tok), Some(Tok::Op(o)) if o == "=" || o == "+=")
                        && top_index(&s[2..], "=").is_none() =>
                {
                    match (parse_all(&s[2..]), &s[1].tok) {
                        (Ok(e), Tok::Op(o)) if o == "=" => Stmt::Assign(n.clone(), e),
                        (Ok(e), _) => Stmt::AddAssign(n.clone(), e),
                        (Err(_), _) => Stmt::Other,
                    }
                }
                _ if top_index(s, "=").is_some() => Stmt::Other,
                _ => match parse_all(s) {
                    Ok(e) => Stmt::Expr(e),
                    Err(_) => Stmt::Other,
                },
            }
        })
        .collect()
}

fn is_literal(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Num(_) | ExprKind::Bool(_) | ExprKind::None => true,
        ExprKind::Str(s) => !s.fstring,
        ExprKind::List(v) | ExprKind::Tuple(v) => v.iter().all(is_literal),
        _ => false,
    }
}

fn depth_delta(t: &Tok) -> i32 {
    match t {
        Tok::Op(o) if matches!(o.as_str(), "(" | "[" | "{") => 1,
        Tok::Op(o) if matches!(o.as_str(), ")" | "]" | "}") => -1,
        _ => 0,
    }
}

/// The index of the first `op` at bracket depth 0.
fn top_index(t: &[Token], op: &str) -> Option<usize> {
    let mut depth = 0;
    for (i, x) in t.iter().enumerate() {
        if depth == 0 && matches!(&x.tok, Tok::Op(o) if o == op) {
            return Some(i);
        }
        depth += depth_delta(&x.tok);
    }
    None
}

/// The first `:` at depth 0 from `from` on.
fn top_colon(t: &[Token], from: usize) -> Option<usize> {
    top_index(t.get(from..)?, ":").map(|i| i + from)
}

/// The index of the bracket closing the one at `open`.
fn matching_close(t: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, x) in t.iter().enumerate().skip(open) {
        depth += depth_delta(&x.tok);
        if depth == 0 {
            return Some(i);
        }
    }
    None
}

/// Splits at `sep` at depth 0.
fn split_tokens<'a>(t: &'a [Token], sep: &str) -> Vec<&'a [Token]> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, x) in t.iter().enumerate() {
        if depth == 0 && matches!(&x.tok, Tok::Op(o) if o == sep) {
            out.push(&t[start..i]);
            start = i + 1;
        }
        depth += depth_delta(&x.tok);
    }
    out.push(&t[start..]);
    out
}

fn split_top<'a>(names: &'a [&'a str], sep: &str) -> Vec<&'a [&'a str]> {
    names
        .split(|n| *n == sep)
        .filter(|s| !s.is_empty())
        .collect()
}

/// `a.b.c [as d]` as words → (`a.b.c`, `d`).
fn dotted_as(words: &[&str]) -> (String, Option<String>) {
    match words.iter().position(|w| *w == "as") {
        Some(at) => (
            words[..at].concat(),
            words.get(at + 1).map(|s| (*s).to_string()),
        ),
        None => (words.concat(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_resolve_aliases() {
        let m = Module::parse(
            "import tenacity\nimport openai as oa\nfrom anthropic import RateLimitError as ARL\nfrom tenacity import (\n    retry,\n    stop_after_attempt,\n)\nfrom mirascope import llm\n",
        );
        let q = |src: &str| {
            let (lines, _) = logical_lines(src);
            m.qualified(&parse_all(&lines[0].tokens).unwrap()).unwrap()
        };
        assert_eq!(q("ARL"), "anthropic.RateLimitError");
        assert_eq!(q("oa.APIError"), "openai.APIError");
        assert_eq!(q("retry"), "tenacity.retry");
        assert_eq!(q("tenacity.wait_fixed"), "tenacity.wait_fixed");
        assert_eq!(q("llm.call"), "mirascope.llm.call");
        assert_eq!(q("stop_after_attempt"), "tenacity.stop_after_attempt");
    }

    #[test]
    fn functions_decorators_params_and_bodies() {
        let m = Module::parse(
            "@retry(stop=stop_after_attempt(3))\n@llm.call(provider=\"openai\", model=\"m\")\ndef f(book: str, *, errors: list | None = None) -> str:\n    \"\"\"Doc.\"\"\"\n    if errors:\n        return f\"E {errors}\"\n    elif book:\n        x = 1\n    else:\n        return 'c'\n    return f\"Who wrote {book}?\"\n\nf(\"Dune\")\n",
        );
        let f = m.function("f").unwrap();
        assert_eq!(f.decorators.len(), 2);
        assert_eq!(f.decorators[1].line, 2);
        let names: Vec<(&str, bool)> = f
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.kw_only))
            .collect();
        assert_eq!(names, [("book", false), ("errors", true)]);
        assert_eq!(f.docstring().as_deref(), Some("Doc."));
        assert!(matches!(&f.body[1], Stmt::If(b, 5) if b.len() == 3));
        assert!(matches!(&f.body[2], Stmt::Return(Some(_), 11)));
        let calls = m.calls_of("f", 0..m.lines.len());
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].show(), "f(\"Dune\")");
    }

    #[test]
    fn constants_are_literals_assigned_once() {
        let m = Module::parse(
            "N = 3\nM = 4\nM = 5\nK = f()\nXS = [1]\nfor x in XS:\n    pass\ndef g():\n    L = 1\n",
        );
        assert_eq!(m.constants.keys().collect::<Vec<_>>(), ["N", "XS"]);
        // Any expression assigned once is kept too; a loop's iterable is not reassigned.
        assert_eq!(m.assigned.keys().collect::<Vec<_>>(), ["K", "N", "XS"]);
    }

    #[test]
    fn classes_keep_their_fields() {
        let m = Module::parse(
            "class Book(BaseModel):\n    title: str\n    pages: int = 0\n    def f(self): pass\n",
        );
        let c = m.class("Book").unwrap();
        assert_eq!(c.fields.len(), 2);
        assert_eq!(c.bases[0].dotted().as_deref(), Some("BaseModel"));
    }
}
