//! What every mapper shares: the parsed module, the list of dropped pieces, and the literal
//! values decorator arguments may be (numbers, strings, module constants, `timedelta`).

use super::Dropped;
use super::expr::{Expr, ExprKind};
use super::module::Module;

pub struct Ctx<'a> {
    pub m: &'a Module,
    pub dropped: Vec<Dropped>,
    /// What the program does that the scenario leaves out on purpose (the SDK's default
    /// retries): said, not dropped.
    pub notes: Vec<Dropped>,
    /// Set when retrylab's exporter wrote the file: its harness's idioms then map.
    pub harness: Option<super::harness::Harness>,
}

/// One call's arguments: positional and keyword, looked up by Python's parameter order.
pub struct Args<'e> {
    pub args: &'e [Expr],
    pub kwargs: &'e [(String, Expr)],
}

impl<'e> Args<'e> {
    /// The argument of parameter `name`, at position `pos` when given positionally.
    pub fn get(&self, pos: Option<usize>, name: &str) -> Option<&'e Expr> {
        self.kwargs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .or_else(|| pos.and_then(|p| self.args.get(p)))
    }
}

/// A call's callee and arguments, when `e` is a call.
pub fn call_parts(e: &Expr) -> Option<(&Expr, Args<'_>, bool)> {
    match &e.kind {
        ExprKind::Call {
            func,
            args,
            kwargs,
            starred,
        } => Some((func, Args { args, kwargs }, *starred)),
        _ => None,
    }
}

impl Ctx<'_> {
    /// Notes what the program does that the scenario leaves out on purpose.
    pub fn note(&mut self, line: u32, what: impl Into<String>, why: impl Into<String>) {
        self.notes.push(Dropped {
            line,
            what: bounded(what.into()),
            why: bounded(why.into()),
        });
    }

    /// Notes a piece that was not mapped; each text at most [`NOTE_CHARS`] (a literal of
    /// 300 digits must not make a 300-digit message).
    pub fn drop(&mut self, line: u32, what: impl Into<String>, why: impl Into<String>) {
        self.dropped.push(Dropped {
            line,
            what: bounded(what.into()),
            why: bounded(why.into()),
        });
    }

    /// The name `e` stands for inside `package` (`tenacity.stop.stop_after_attempt` →
    /// `stop_after_attempt`), also for a bare name that was never imported (a star import).
    pub fn name_in(&self, e: &Expr, package: &str) -> Option<String> {
        let q = self.m.qualified(e)?;
        if let Some(rest) = q.strip_prefix(package).and_then(|r| r.strip_prefix('.')) {
            return Some(rest.rsplit('.').next().unwrap_or(rest).to_string());
        }
        let bare = !q.contains('.') && self.m.function(&q).is_none();
        bare.then_some(q)
    }

    /// A literal value, through module constants.
    fn resolve<'x>(&'x self, e: &'x Expr) -> &'x Expr {
        if let ExprKind::Name(n) = &e.kind
            && let Some(c) = self.m.constants.get(n)
        {
            return c;
        }
        e
    }

    /// Why `e` is not a literal, in words.
    pub fn not_literal(&self, e: &Expr) -> String {
        match &e.kind {
            ExprKind::Name(n) => format!(
                "`{n}` is a variable: its value is only known when the program runs (nothing is executed)"
            ),
            ExprKind::Call { .. } => format!(
                "`{}` is computed when the program runs (nothing is executed)",
                e.show()
            ),
            _ => format!("`{}` is not a literal", e.show()),
        }
    }

    /// A number (or a module constant holding one).
    pub fn number(&self, e: &Expr) -> Result<f64, String> {
        match &self.resolve(e).kind {
            ExprKind::Num(n) if n.is_finite() => Ok(*n),
            ExprKind::Bool(b) => Ok(f64::from(u8::from(*b))),
            _ => Err(self.not_literal(e)),
        }
    }

    /// Seconds: a number or `timedelta(...)` with literal arguments (Tenacity's
    /// `time_unit_type`).
    pub fn seconds(&self, e: &Expr) -> Result<f64, String> {
        if let Some((func, args, starred)) = call_parts(self.resolve(e))
            && self
                .m
                .qualified(func)
                .is_some_and(|q| q == "datetime.timedelta" || q == "timedelta")
        {
            if starred {
                return Err(self.not_literal(e));
            }
            const UNITS: [(&str, f64); 7] = [
                ("days", 86_400.0),
                ("seconds", 1.0),
                ("microseconds", 1e-6),
                ("milliseconds", 1e-3),
                ("minutes", 60.0),
                ("hours", 3600.0),
                ("weeks", 604_800.0),
            ];
            let mut total = 0.0;
            for (i, (unit, scale)) in UNITS.iter().enumerate() {
                if let Some(v) = args.get(Some(i), unit) {
                    total += self.number(v)? * scale;
                }
            }
            return bounded_seconds(total);
        }
        bounded_seconds(self.number(e)?)
    }

    /// A string (or a module constant holding one).
    pub fn string(&self, e: &Expr) -> Result<String, String> {
        self.resolve(e)
            .str_value()
            .ok_or_else(|| self.not_literal(e))
    }

    pub fn boolean(&self, e: &Expr) -> Result<bool, String> {
        match &self.resolve(e).kind {
            ExprKind::Bool(b) => Ok(*b),
            _ => Err(self.not_literal(e)),
        }
    }
}

/// Seconds the scenario can hold: not negative (a `timedelta` too) and within retrylab's
/// bound on any wait or delay, else the scenario would not load.
fn bounded_seconds(n: f64) -> Result<f64, String> {
    use crate::policy::duration::{MAX_WAIT, MAX_WAIT_DAYS};
    if n < 0.0 {
        return Err(format!("{} is negative", super::expr::fmt_num(n)));
    }
    if n.is_nan() || n > MAX_WAIT.0 {
        return Err(format!(
            "{} s is longer than retrylab's bound on any wait or delay ({MAX_WAIT_DAYS} days)",
            super::expr::fmt_num(n)
        ));
    }
    Ok(n)
}

/// How long a dropped piece's texts may be.
pub const NOTE_CHARS: usize = 240;

fn bounded(text: String) -> String {
    if text.chars().count() <= NOTE_CHARS {
        return text;
    }
    let cut: String = text.chars().take(NOTE_CHARS - 1).collect();
    format!("{cut}…")
}
