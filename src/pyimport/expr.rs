//! Python expressions as decorator arguments use them: names, attributes, calls, literals,
//! lists/tuples/dicts, subscripts and the binary operators (`|`, `&`, `+`, ...). Anything
//! else (lambdas, comprehensions, conditionals) parses to [`ExprKind::Other`], so the
//! caller can say what it dropped. Nesting is bounded by [`MAX_DEPTH`].

use super::lex::{StrLit, StrPart, Tok, Token};

/// How deep an expression may nest before it is refused.
pub const MAX_DEPTH: usize = 48;

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Name(String),
    /// `value.attr` (a dotted name is `Attr(Attr(Name(a), b), c)`).
    Attr(Box<Expr>, String),
    Num(f64),
    Str(StrLit),
    Bool(bool),
    None,
    List(Vec<Expr>),
    Tuple(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
        kwargs: Vec<(String, Expr)>,
        /// `*args` or `**kwargs` was passed: the arguments are not all known.
        starred: bool,
    },
    Subscript(Box<Expr>, Vec<Expr>),
    /// A binary operator: `|`, `&`, `+`, `-`, `*`, `/`, comparisons (`==`, `in`, ...),
    /// `and`, `or`.
    Bin(String, Box<Expr>, Box<Expr>),
    /// `-x`, `+x`, `~x`, `not x`.
    Unary(String, Box<Expr>),
    /// Parsed past but not modelled: says what it was ("a lambda", "a comprehension").
    Other(&'static str),
}

impl Expr {
    /// `a.b.c` for a dotted name, else `None`.
    pub fn dotted(&self) -> Option<String> {
        match &self.kind {
            ExprKind::Name(n) => Some(n.clone()),
            ExprKind::Attr(v, a) => Some(format!("{}.{a}", v.dotted()?)),
            _ => None,
        }
    }

    /// The text of a string literal that is not an f-string with fields.
    pub fn str_value(&self) -> Option<String> {
        match &self.kind {
            ExprKind::Str(s) if !s.parts.iter().any(|p| matches!(p, StrPart::Field { .. })) => {
                Some(s.text())
            }
            _ => None,
        }
    }

    /// A short Python-like rendering for messages.
    pub fn show(&self) -> String {
        let s = self.render(0);
        if s.chars().count() > 80 {
            let cut: String = s.chars().take(77).collect();
            format!("{cut}...")
        } else {
            s
        }
    }

    fn render(&self, depth: usize) -> String {
        if depth > 8 {
            return "...".into();
        }
        let r = |e: &Expr| e.render(depth + 1);
        let list = |v: &[Expr]| v.iter().map(r).collect::<Vec<_>>().join(", ");
        match &self.kind {
            ExprKind::Name(n) => n.clone(),
            ExprKind::Attr(v, a) => format!("{}.{a}", r(v)),
            ExprKind::Num(n) => fmt_num(*n),
            ExprKind::Str(s) => format!("{}{:?}", if s.fstring { "f" } else { "" }, s.text()),
            ExprKind::Bool(b) => if *b { "True" } else { "False" }.into(),
            ExprKind::None => "None".into(),
            ExprKind::List(v) => format!("[{}]", list(v)),
            ExprKind::Tuple(v) => format!("({})", list(v)),
            ExprKind::Dict(kv) => format!(
                "{{{}}}",
                kv.iter()
                    .map(|(k, v)| format!("{}: {}", r(k), r(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ExprKind::Call {
                func, args, kwargs, ..
            } => {
                let mut all: Vec<String> = args.iter().map(r).collect();
                all.extend(kwargs.iter().map(|(k, v)| format!("{k}={}", r(v))));
                format!("{}({})", r(func), all.join(", "))
            }
            ExprKind::Subscript(v, idx) => format!("{}[{}]", r(v), list(idx)),
            ExprKind::Bin(op, a, b) => format!("{} {op} {}", r(a), r(b)),
            ExprKind::Unary(op, a) if op == "not" => format!("not {}", r(a)),
            ExprKind::Unary(op, a) => format!("{op}{}", r(a)),
            ExprKind::Other(what) => format!("<{what}>"),
        }
    }
}

/// `3` for whole numbers, else the shortest float text.
pub fn fmt_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Why an expression could not be parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub line: u32,
    pub why: String,
}

pub struct Parser<'a> {
    toks: &'a [Token],
    pub pos: usize,
    depth: usize,
}

type PResult = Result<Expr, ParseError>;

impl<'a> Parser<'a> {
    pub fn new(toks: &'a [Token]) -> Self {
        Parser {
            toks,
            pos: 0,
            depth: 0,
        }
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    fn line(&self) -> u32 {
        self.toks
            .get(self.pos)
            .or_else(|| self.toks.last())
            .map_or(0, |t| t.line)
    }

    fn err(&self, why: impl Into<String>) -> ParseError {
        ParseError {
            line: self.line(),
            why: why.into(),
        }
    }

    fn peek(&self) -> Option<&'a Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    pub fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if o == op)
    }

    fn is_name(&self, n: &str) -> bool {
        matches!(self.peek(), Some(Tok::Name(x)) if x == n)
    }

    pub fn eat_op(&mut self, op: &str) -> bool {
        if self.is_op(op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_name(&mut self, n: &str) -> bool {
        if self.is_name(n) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_op(&mut self, op: &str) -> Result<(), ParseError> {
        if self.eat_op(op) {
            Ok(())
        } else {
            Err(self.err(format!("expected `{op}`")))
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    /// One full expression (a conditional or lambda included), not a bare tuple.
    pub fn expr(&mut self) -> PResult {
        self.enter()?;
        let r = self.expr_inner();
        self.depth -= 1;
        r
    }

    fn expr_inner(&mut self) -> PResult {
        let line = self.line();
        if self.eat_name("lambda") {
            // Skip to the end of the lambda's body: the next `,` or closing bracket at this
            // level.
            self.skip_until_level_end();
            return Ok(Expr {
                kind: ExprKind::Other("a lambda"),
                line,
            });
        }
        let e = self.or_expr()?;
        if self.is_name("if") {
            self.pos += 1;
            self.or_expr()?;
            if !self.eat_name("else") {
                return Err(self.err("expected `else`"));
            }
            self.expr()?;
            return Ok(Expr {
                kind: ExprKind::Other("a conditional expression"),
                line,
            });
        }
        if self.eat_op(":=") {
            return self.expr();
        }
        Ok(e)
    }

    fn skip_until_level_end(&mut self) {
        let mut depth = 0usize;
        while let Some(t) = self.peek() {
            match t {
                Tok::Op(o) if matches!(o.as_str(), "(" | "[" | "{") => depth += 1,
                Tok::Op(o) if matches!(o.as_str(), ")" | "]" | "}") => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                }
                Tok::Op(o) if o == "," && depth == 0 => return,
                _ => {}
            }
            self.pos += 1;
        }
    }

    fn bin(&self, op: &str, a: Expr, b: Expr) -> Expr {
        let line = a.line;
        Expr {
            kind: ExprKind::Bin(op.into(), Box::new(a), Box::new(b)),
            line,
        }
    }

    fn or_expr(&mut self) -> PResult {
        let mut a = self.and_expr()?;
        while self.eat_name("or") {
            let b = self.and_expr()?;
            a = self.bin("or", a, b);
        }
        Ok(a)
    }

    fn and_expr(&mut self) -> PResult {
        let mut a = self.not_expr()?;
        while self.eat_name("and") {
            let b = self.not_expr()?;
            a = self.bin("and", a, b);
        }
        Ok(a)
    }

    fn not_expr(&mut self) -> PResult {
        let line = self.line();
        if self.eat_name("not") {
            self.enter()?;
            let a = self.not_expr();
            self.depth -= 1;
            return Ok(Expr {
                kind: ExprKind::Unary("not".into(), Box::new(a?)),
                line,
            });
        }
        self.comparison()
    }

    fn comparison(&mut self) -> PResult {
        let mut a = self.binary(0)?;
        loop {
            let op = match self.peek() {
                Some(Tok::Op(o)) if matches!(o.as_str(), "==" | "!=" | "<" | ">" | "<=" | ">=") => {
                    o.clone()
                }
                Some(Tok::Name(n)) if n == "in" => "in".into(),
                Some(Tok::Name(n)) if n == "is" => "is".into(),
                Some(Tok::Name(n))
                    if n == "not"
                        && matches!(self.toks.get(self.pos + 1).map(|t| &t.tok), Some(Tok::Name(x)) if x == "in") =>
                {
                    self.pos += 1;
                    "not in".into()
                }
                _ => return Ok(a),
            };
            self.pos += 1;
            let op = if op == "is" && self.eat_name("not") {
                "is not".to_string()
            } else {
                op
            };
            let b = self.binary(0)?;
            a = self.bin(&op, a, b);
        }
    }

    /// Binary operators by precedence level, lowest first.
    fn binary(&mut self, level: usize) -> PResult {
        const LEVELS: &[&[&str]] = &[
            &["|"],
            &["^"],
            &["&"],
            &["<<", ">>"],
            &["+", "-"],
            &["*", "/", "//", "%", "@"],
        ];
        let Some(ops) = LEVELS.get(level) else {
            return self.unary();
        };
        let mut a = self.binary(level + 1)?;
        while let Some(Tok::Op(o)) = self.peek() {
            if !ops.contains(&o.as_str()) {
                break;
            }
            let op = o.clone();
            self.pos += 1;
            let b = self.binary(level + 1)?;
            a = self.bin(&op, a, b);
        }
        Ok(a)
    }

    fn unary(&mut self) -> PResult {
        let line = self.line();
        for op in ["-", "+", "~"] {
            if self.eat_op(op) {
                self.enter()?;
                let a = self.unary();
                self.depth -= 1;
                let a = a?;
                // Fold `-3` into a number.
                if let (ExprKind::Num(n), "-") = (&a.kind, op) {
                    return Ok(Expr {
                        kind: ExprKind::Num(-n),
                        line,
                    });
                }
                if let (ExprKind::Num(_), "+") = (&a.kind, op) {
                    return Ok(a);
                }
                return Ok(Expr {
                    kind: ExprKind::Unary(op.into(), Box::new(a)),
                    line,
                });
            }
        }
        let base = self.primary()?;
        if self.eat_op("**") {
            self.enter()?;
            let exp = self.unary();
            self.depth -= 1;
            return Ok(self.bin("**", base, exp?));
        }
        Ok(base)
    }

    /// An atom followed by `.attr`, `(call)` and `[subscript]` trailers.
    pub fn primary(&mut self) -> PResult {
        while self.eat_name("await") {}
        let mut e = self.atom()?;
        loop {
            let line = e.line;
            if self.eat_op(".") {
                let Some(Tok::Name(n)) = self.peek() else {
                    return Err(self.err("expected a name after `.`"));
                };
                self.pos += 1;
                e = Expr {
                    kind: ExprKind::Attr(Box::new(e), n.clone()),
                    line,
                };
            } else if self.eat_op("(") {
                self.enter()?;
                let call = self.call_args(e);
                self.depth -= 1;
                e = call?;
            } else if self.eat_op("[") {
                self.enter()?;
                let items = self.items("]");
                self.depth -= 1;
                e = Expr {
                    kind: ExprKind::Subscript(Box::new(e), items?.0),
                    line,
                };
            } else {
                return Ok(e);
            }
        }
    }

    fn call_args(&mut self, func: Expr) -> PResult {
        let line = func.line;
        let mut args = Vec::new();
        let mut kwargs = Vec::new();
        let mut starred = false;
        while !self.eat_op(")") {
            if self.eat_op("*") || self.eat_op("**") {
                starred = true;
                self.expr()?;
            } else if let (Some(Tok::Name(n)), Some(Tok::Op(eq))) =
                (self.peek(), self.toks.get(self.pos + 1).map(|t| &t.tok))
                && eq == "="
            {
                self.pos += 2;
                kwargs.push((n.clone(), self.expr()?));
            } else {
                let a = self.expr()?;
                if self.is_name("for") || self.is_name("async") {
                    self.skip_until_level_end();
                    args.push(Expr {
                        kind: ExprKind::Other("a generator expression"),
                        line: a.line,
                    });
                } else {
                    args.push(a);
                }
            }
            if !self.eat_op(",") {
                self.expect_op(")")?;
                break;
            }
        }
        Ok(Expr {
            kind: ExprKind::Call {
                func: Box::new(func),
                args,
                kwargs,
                starred,
            },
            line,
        })
    }

    /// Comma-separated expressions up to `close`; `true` when a trailing or separating comma
    /// was seen (a tuple). A comprehension becomes one `Other`.
    fn items(&mut self, close: &str) -> Result<(Vec<Expr>, bool), ParseError> {
        let mut out = Vec::new();
        let mut comma = false;
        while !self.eat_op(close) {
            if self.eat_op("*") {
                self.expr()?;
                out.push(Expr {
                    kind: ExprKind::Other("an unpacked value"),
                    line: self.line(),
                });
            } else {
                let e = self.expr()?;
                if self.is_name("for") || self.is_name("async") {
                    self.skip_until_level_end();
                    out.push(Expr {
                        kind: ExprKind::Other("a comprehension"),
                        line: e.line,
                    });
                } else if self.eat_op(":") {
                    // A slice `a:b`: not modelled.
                    if !self.is_op(close) && !self.is_op(",") {
                        self.expr()?;
                    }
                    out.push(Expr {
                        kind: ExprKind::Other("a slice"),
                        line: e.line,
                    });
                } else {
                    out.push(e);
                }
            }
            if self.eat_op(",") {
                comma = true;
            } else {
                self.expect_op(close)?;
                break;
            }
        }
        Ok((out, comma))
    }

    fn atom(&mut self) -> PResult {
        let line = self.line();
        let Some(t) = self.peek() else {
            return Err(self.err("the expression ends too soon"));
        };
        let kind = match t {
            Tok::Num(n) => {
                self.pos += 1;
                ExprKind::Num(*n)
            }
            Tok::Str(s) => {
                self.pos += 1;
                let mut s = s.clone();
                // Adjacent literals concatenate.
                while let Some(Tok::Str(next)) = self.peek() {
                    self.pos += 1;
                    s.fstring |= next.fstring;
                    s.parts.extend(next.parts.iter().cloned());
                }
                ExprKind::Str(s)
            }
            Tok::Name(n) => {
                self.pos += 1;
                match n.as_str() {
                    "True" => ExprKind::Bool(true),
                    "False" => ExprKind::Bool(false),
                    "None" => ExprKind::None,
                    "yield" | "lambda" | "if" | "else" | "for" | "def" | "class" | "return"
                    | "import" | "from" | "with" | "while" | "pass" => {
                        return Err(ParseError {
                            line,
                            why: format!("`{n}` cannot start an expression here"),
                        });
                    }
                    _ => ExprKind::Name(n.clone()),
                }
            }
            Tok::Op(o) => match o.as_str() {
                "(" => {
                    self.pos += 1;
                    self.enter()?;
                    let items = self.items(")");
                    self.depth -= 1;
                    let (mut items, comma) = items?;
                    if items.len() == 1 && !comma {
                        let mut e = items.remove(0);
                        e.line = line;
                        return Ok(e);
                    }
                    ExprKind::Tuple(items)
                }
                "[" => {
                    self.pos += 1;
                    self.enter()?;
                    let items = self.items("]");
                    self.depth -= 1;
                    ExprKind::List(items?.0)
                }
                "{" => {
                    self.pos += 1;
                    self.enter()?;
                    let d = self.dict_or_set();
                    self.depth -= 1;
                    d?
                }
                "..." => {
                    self.pos += 1;
                    ExprKind::Other("an ellipsis")
                }
                other => return Err(self.err(format!("unexpected `{other}`"))),
            },
        };
        Ok(Expr { kind, line })
    }

    fn dict_or_set(&mut self) -> Result<ExprKind, ParseError> {
        let mut pairs = Vec::new();
        let mut set = false;
        while !self.eat_op("}") {
            if self.eat_op("**") {
                self.expr()?;
                return self.skip_rest("a dict with `**` unpacking");
            }
            let k = self.expr()?;
            if self.eat_op(":") {
                let v = self.expr()?;
                if self.is_name("for") {
                    return self.skip_rest("a dict comprehension");
                }
                pairs.push((k, v));
            } else {
                if self.is_name("for") {
                    return self.skip_rest("a set comprehension");
                }
                set = true;
            }
            if !self.eat_op(",") {
                self.expect_op("}")?;
                break;
            }
        }
        Ok(if set {
            ExprKind::Other("a set")
        } else {
            ExprKind::Dict(pairs)
        })
    }

    /// Skips to this bracket's `}` and names what was skipped.
    fn skip_rest(&mut self, what: &'static str) -> Result<ExprKind, ParseError> {
        loop {
            self.skip_until_level_end();
            if self.eat_op("}") {
                return Ok(ExprKind::Other(what));
            }
            if !self.eat_op(",") {
                return Err(self.err("expected `}`"));
            }
        }
    }
}

/// Parses all of `toks` as one expression (a bare tuple `a, b` included).
pub fn parse_all(toks: &[Token]) -> PResult {
    let mut p = Parser::new(toks);
    let first = p.expr()?;
    let e = if p.is_op(",") {
        let line = first.line;
        let mut items = vec![first];
        while p.eat_op(",") {
            if p.at_end() {
                break;
            }
            items.push(p.expr()?);
        }
        Expr {
            kind: ExprKind::Tuple(items),
            line,
        }
    } else {
        first
    };
    if !p.at_end() {
        return Err(p.err("unexpected text after the expression"));
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyimport::lex::logical_lines;

    fn parse(src: &str) -> PResult {
        let (lines, errors) = logical_lines(src);
        assert!(errors.is_empty(), "{errors:?}");
        parse_all(&lines[0].tokens)
    }

    #[test]
    fn decorator_arguments_parse() {
        let e = parse("retry(stop=stop_after_attempt(3) | stop_after_delay(10), wait=wait_fixed(1) + wait_random(0, 2), reraise=True)").unwrap();
        assert_eq!(
            e.render(0),
            "retry(stop=stop_after_attempt(3) | stop_after_delay(10), wait=wait_fixed(1) + wait_random(0, 2), reraise=True)"
        );
        assert!(
            e.show().ends_with("wait_fixed(1) +..."),
            "messages stay short"
        );
        let ExprKind::Call { kwargs, .. } = &e.kind else {
            panic!()
        };
        assert!(matches!(kwargs[0].1.kind, ExprKind::Bin(ref op, _, _) if op == "|"));
        assert!(matches!(kwargs[1].1.kind, ExprKind::Bin(ref op, _, _) if op == "+"));
    }

    #[test]
    fn precedence_and_dotted_names() {
        let e = parse("a | b & c").unwrap();
        assert_eq!(
            e.kind,
            ExprKind::Bin(
                "|".into(),
                Box::new(parse("a").unwrap()),
                Box::new(parse("b & c").unwrap())
            )
        );
        assert_eq!(
            parse("openai.RateLimitError").unwrap().dotted().as_deref(),
            Some("openai.RateLimitError")
        );
        assert_eq!(parse("-3").unwrap().kind, ExprKind::Num(-3.0));
    }

    #[test]
    fn containers_and_subscripts() {
        let e = parse("[{\"catch\": RetryError, \"provider\": \"anthropic\"}]").unwrap();
        let ExprKind::List(items) = &e.kind else {
            panic!()
        };
        let ExprKind::Dict(kv) = &items[0].kind else {
            panic!()
        };
        assert_eq!(kv[1].1.str_value().as_deref(), Some("anthropic"));
        let e = parse("Annotated[str, AfterValidator(is_upper)]").unwrap();
        assert!(matches!(e.kind, ExprKind::Subscript(_, ref i) if i.len() == 2));
        assert!(matches!(parse("(a, b)").unwrap().kind, ExprKind::Tuple(ref v) if v.len() == 2));
        assert!(matches!(parse("(a,)").unwrap().kind, ExprKind::Tuple(ref v) if v.len() == 1));
        assert_eq!(parse("(a)").unwrap().kind, ExprKind::Name("a".into()));
    }

    #[test]
    fn what_is_not_modelled_is_named() {
        assert_eq!(
            parse("f(lambda s: s.x, 2)").unwrap().show(),
            "f(<a lambda>, 2)"
        );
        assert_eq!(
            parse("[x for x in y]").unwrap().show(),
            "[<a comprehension>]"
        );
        assert_eq!(
            parse("a if b else c").unwrap().show(),
            "<a conditional expression>"
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let src = format!("{}1{}", "f(".repeat(60), ")".repeat(60));
        let e = parse(&src).unwrap_err();
        assert!(e.why.contains("nested deeper"), "{e:?}");
        let src = format!("{}1", "-".repeat(500));
        assert!(parse(&src).is_err());
        let src = format!("{}x", "not ".repeat(500));
        assert!(parse(&src).is_err());
    }

    #[test]
    fn bad_expressions_are_errors_not_panics() {
        for src in ["f(", "a +", "f(x=)", "[1, 2", "{1: }", ". x", "x y"] {
            let (lines, _) = logical_lines(src);
            if let Some(l) = lines.first() {
                assert!(parse_all(&l.tokens).is_err(), "{src}");
            }
        }
    }
}
