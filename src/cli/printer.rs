//! The readable timeline `retrylab run` prints (and `replay --print`): a function of the
//! event stream only.

use crate::config::HINT_SEP;
use crate::cost::format_usd;
use crate::error::{CallError, ErrorKind};
use crate::event::{
    AttemptFailed, AttemptStarted, AttemptSucceeded, Delta, ErrorReinserted, Event, FallbackHop,
    Outcome, RetryExhausted, RunFinished, RunStarted, TimedEvent, ToolCall, WaitStarted,
};
use crate::policy::duration::format_secs;
use std::io::Write;

/// ANSI styles, or nothing under NO_COLOR / when not a terminal.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    color: bool,
}

impl Style {
    pub fn new(color: bool) -> Style {
        Style { color }
    }

    /// Colour when stdout is a terminal and NO_COLOR is unset.
    pub fn detect() -> Style {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style::new(!no_color && std::io::stdout().is_terminal())
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn ok(self, t: &str) -> String {
        self.paint("32", t)
    }
    pub fn err(self, t: &str) -> String {
        self.paint("31", t)
    }
    pub fn wait(self, t: &str) -> String {
        self.paint("33", t)
    }
    pub fn hop(self, t: &str) -> String {
        self.paint("35", t)
    }
    pub fn reinsert(self, t: &str) -> String {
        self.paint("36", t)
    }
    pub fn muted(self, t: &str) -> String {
        self.paint("2", t)
    }
    pub fn bold(self, t: &str) -> String {
        self.paint("1", t)
    }
}

/// Prints events as a timeline, one step per line; streamed text appears as it arrives.
pub struct Printer<W: Write> {
    out: W,
    style: Style,
    /// Inside a line of streamed text.
    streaming: bool,
}

fn stamp(t_ms: u64) -> String {
    format!("{:>9}", format!("{:.3}s", t_ms as f64 / 1000.0))
}

/// Text from a server or a trace, safe for a terminal: ESC, BEL and other control
/// characters (clipboard writes, screen clears, titles) become U+FFFD.
fn safe(text: &str) -> String {
    crate::provider::classify::printable(text).replace('\t', " ")
}

fn one_line(text: &str, max: usize) -> String {
    let flat: String = safe(text).split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// `kind (status): message`, the message cut to one line; a hint on what to fix (live
/// mode) is left to [`fix_of`].
fn error_text(e: &CallError) -> String {
    let mut s = e.kind.to_string();
    if let Some(st) = e.status {
        s.push_str(&format!(" ({st})"));
    }
    s.push_str(": ");
    let own = e.message.split(HINT_SEP).next().unwrap_or("");
    s.push_str(&one_line(own, 100));
    s
}

/// What to fix: the error's hint, or (a trace written before hints had their own field) the
/// part of its message after [`HINT_SEP`].
fn fix_of(e: &CallError) -> Option<&str> {
    e.hint
        .as_deref()
        .or_else(|| e.message.split_once(HINT_SEP).map(|(_, fix)| fix))
}

/// What to fix for a run's final error: its own, or that of the last attempt it wraps.
fn final_fix(e: &CallError) -> Option<&str> {
    match e.kind {
        // Its caught errors are listed, each with its own.
        ErrorKind::FallbackError => None,
        ErrorKind::RetryError => e.last_error.as_deref().and_then(fix_of),
        _ => fix_of(e),
    }
}

/// `, $0.000123` or `, ~$0.000123` (estimated), or nothing when unpriced.
fn cost_text(usd: Option<f64>, estimated: bool) -> String {
    match usd {
        Some(c) => format!(", {}{}", if estimated { "~" } else { "" }, format_usd(c)),
        None => String::new(),
    }
}

impl<W: Write> Printer<W> {
    pub fn new(out: W, style: Style) -> Printer<W> {
        Printer {
            out,
            style,
            streaming: false,
        }
    }

    pub fn out_mut(&mut self) -> &mut W {
        &mut self.out
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn end_stream(&mut self) -> std::io::Result<()> {
        if self.streaming {
            self.streaming = false;
            writeln!(self.out)?;
        }
        Ok(())
    }

    /// Writes what is buffered. The printer never flushes on its own: the caller flushes when
    /// no event is queued, so a fast stream goes out in large writes.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    /// Streamed text, as is when nothing in it needs replacing (the common case: no
    /// allocation, no timestamp).
    fn delta(&mut self, text: &str) -> std::io::Result<()> {
        if !self.streaming {
            write!(self.out, "{}  {}", " ".repeat(9), self.style.muted("» "))?;
            self.streaming = true;
        }
        if text.chars().any(char::is_control) {
            write!(self.out, "{}", safe(&text.replace('\n', " ")))
        } else {
            self.out.write_all(text.as_bytes())
        }
    }

    pub fn on_event(&mut self, ev: &TimedEvent) -> std::io::Result<()> {
        if let Event::Delta(Delta { text, .. }) = &ev.event {
            return self.delta(text);
        }
        let st = self.style;
        let t = st.muted(&stamp(ev.t_ms));
        self.end_stream()?;
        match &ev.event {
            Event::RunStarted(RunStarted {
                scenario,
                mode,
                speed,
            }) => {
                writeln!(
                    self.out,
                    "{t}  {} {}  ({}, speed {speed})",
                    st.bold("▶"),
                    st.bold(scenario),
                    mode.label()
                )?;
            }
            Event::AttemptStarted(AttemptStarted {
                hop,
                attempt,
                provider,
                model,
                ..
            }) => {
                writeln!(
                    self.out,
                    "{t}  hop {hop} · attempt {attempt} → {provider}/{model}"
                )?;
            }
            // Handled above.
            Event::Delta(_) => {}
            Event::ToolCall(ToolCall {
                name, args, result, ..
            }) => {
                writeln!(
                    self.out,
                    "{t}    ⚙ {name}({}) = {}",
                    one_line(args, 60),
                    one_line(result, 60)
                )?;
            }
            Event::AttemptFailed(AttemptFailed {
                error,
                will_retry,
                latency_ms,
                why,
                partial_output,
                cost_usd,
                cost_estimated,
                ..
            }) => {
                let next = if *will_retry {
                    "will retry"
                } else {
                    "no retry"
                };
                writeln!(
                    self.out,
                    "{t}    {} {}  {}",
                    st.err("✗"),
                    st.err(&error_text(error)),
                    st.muted(&format!(
                        "after {}{}, {next}",
                        format_secs(*latency_ms as f64 / 1000.0),
                        cost_text(*cost_usd, *cost_estimated)
                    ))
                )?;
                if let Some(fix) = fix_of(error) {
                    writeln!(self.out, "{}      fix: {fix}", " ".repeat(9))?;
                }
                if !partial_output.is_empty() {
                    writeln!(
                        self.out,
                        "{}      partial: {}",
                        " ".repeat(9),
                        st.muted(&one_line(partial_output, 80))
                    )?;
                }
                if !why.is_empty() {
                    writeln!(
                        self.out,
                        "{}      why: {}",
                        " ".repeat(9),
                        st.muted(&safe(why))
                    )?;
                }
            }
            Event::ErrorReinserted(ErrorReinserted {
                attempt, errors, ..
            }) => {
                let last = errors.last().map(|e| one_line(e, 80)).unwrap_or_default();
                writeln!(
                    self.out,
                    "{t}    {} into attempt {attempt} ({} so far): {last}",
                    st.reinsert("↻ error reinserted"),
                    errors.len()
                )?;
            }
            Event::WaitStarted(WaitStarted {
                delay_ms,
                strategy,
                retry_after_ms,
                computed_ms,
                source,
                ..
            }) => {
                let from = match (source.as_str(), retry_after_ms) {
                    ("retry_after", Some(ra)) => format!(
                        "Retry-After {} > back-off {}",
                        format_secs(*ra as f64 / 1000.0),
                        format_secs(*computed_ms as f64 / 1000.0)
                    ),
                    (_, Some(ra)) => format!(
                        "{strategy}; Retry-After {} was shorter",
                        format_secs(*ra as f64 / 1000.0)
                    ),
                    _ => strategy.clone(),
                };
                writeln!(
                    self.out,
                    "{t}    {} {}  {}",
                    st.wait("⏳ wait"),
                    st.wait(&format_secs(*delay_ms as f64 / 1000.0)),
                    st.muted(&format!("({from})"))
                )?;
            }
            Event::WaitFinished(_) => {}
            Event::RetryExhausted(RetryExhausted {
                attempts,
                last_error,
                ..
            }) => {
                writeln!(
                    self.out,
                    "{t}    {} after {attempts} attempt(s); last: {}",
                    st.err("retry_error"),
                    error_text(last_error)
                )?;
            }
            Event::FallbackHop(FallbackHop {
                hop,
                from,
                to,
                caught,
            }) => {
                writeln!(
                    self.out,
                    "{t}  {} {}/{} → {}/{} (hop {hop}), caught {}",
                    st.hop("↪ fallback"),
                    from.provider,
                    from.model,
                    to.provider,
                    to.model,
                    caught.kind
                )?;
            }
            Event::AttemptSucceeded(AttemptSucceeded {
                content,
                latency_ms,
                usage,
                cost_usd,
                cost_estimated,
                ..
            }) => {
                writeln!(
                    self.out,
                    "{t}    {} {}  {}",
                    st.ok("✓"),
                    one_line(content, 100),
                    st.muted(&format!(
                        "in {}, {} in / {} out tokens{}",
                        format_secs(*latency_ms as f64 / 1000.0),
                        usage.input_tokens,
                        usage.output_tokens,
                        cost_text(*cost_usd, *cost_estimated)
                    ))
                )?;
            }
            Event::RunFinished(RunFinished {
                outcome,
                content,
                error,
                caught,
                total_cost_usd,
                total_cost_estimated,
            }) => {
                let total = format_secs(ev.t_ms as f64 / 1000.0);
                let pad = " ".repeat(9);
                let cost = total_cost_usd.map(|usd| {
                    let (mark, note) = if *total_cost_estimated {
                        ("~", " (partly estimated at ≈ 4 characters a token)")
                    } else {
                        ("", "")
                    };
                    st.muted(&format!(
                        "cost {mark}{} for every attempt{note}",
                        format_usd(usd)
                    ))
                });
                match outcome {
                    Outcome::Ok => {
                        writeln!(self.out, "{t}  {} in {total}", st.ok("■ ok"))?;
                        if let Some(c) = &cost {
                            writeln!(self.out, "{pad}  {c}")?;
                        }
                        if !caught.is_empty() {
                            let kinds: Vec<String> =
                                caught.iter().map(|c| c.kind.to_string()).collect();
                            writeln!(self.out, "{pad}  caught on the way: {}", kinds.join(", "))?;
                        }
                        if let Some(c) = content {
                            writeln!(self.out, "\n{}", safe(c))?;
                        }
                    }
                    Outcome::Error => {
                        let e = error.as_ref().map(error_text).unwrap_or_default();
                        writeln!(self.out, "{t}  {} in {total}: {e}", st.err("■ error"))?;
                        if let Some(fix) = error.as_ref().and_then(final_fix) {
                            writeln!(self.out, "{pad}  fix: {fix}")?;
                        }
                        if let Some(c) = &cost {
                            writeln!(self.out, "{pad}  {c}")?;
                        }
                        for (i, c) in caught.iter().enumerate() {
                            writeln!(self.out, "{pad}  caught {}: {}", i + 1, error_text(c))?;
                            if let Some(fix) = final_fix(c) {
                                writeln!(self.out, "{pad}    fix: {fix}")?;
                            }
                        }
                    }
                    Outcome::Cancelled => {
                        writeln!(self.out, "{t}  {} after {total}", st.wait("■ cancelled"))?;
                        if let Some(c) = &cost {
                            writeln!(self.out, "{pad}  {c}")?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::event::WaitSource;

    fn ev(t_ms: u64, event: Event) -> TimedEvent {
        TimedEvent { t_ms, event }
    }

    /// Counts flushes, keeps what is written.
    #[derive(Default)]
    struct Flushes {
        out: Vec<u8>,
        flushes: usize,
    }

    impl Write for Flushes {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.out.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.flushes += 1;
            Ok(())
        }
    }

    #[test]
    fn streamed_text_is_never_flushed_per_delta_and_control_characters_still_go() {
        let mut p = Printer::new(Flushes::default(), Style::new(false));
        let delta = |text: &str| {
            ev(
                5,
                Event::Delta(Delta {
                    hop: 0,
                    attempt: 1,
                    text: text.into(),
                }),
            )
        };
        for _ in 0..1000 {
            p.on_event(&delta(" word")).unwrap();
        }
        p.on_event(&delta("a\nb\tc\u{1b}[2J")).unwrap();
        let w = p.into_inner();
        assert_eq!(w.flushes, 0, "the caller flushes, once the queue is empty");
        let text = String::from_utf8(w.out).unwrap();
        assert_eq!(
            text,
            format!(
                "{}» {}a b c\u{fffd}[2J",
                " ".repeat(11),
                " word".repeat(1000)
            )
        );
    }

    #[test]
    fn prints_a_readable_plain_timeline() {
        let mut p = Printer::new(Vec::new(), Style::new(false));
        let events = vec![
            ev(
                0,
                Event::AttemptStarted(AttemptStarted {
                    hop: 0,
                    attempt: 1,
                    provider: "openai".into(),
                    model: "gpt-4o-mini".into(),
                    request: serde_json::json!({}),
                    prompt: None,
                }),
            ),
            ev(
                5,
                Event::AttemptFailed(AttemptFailed {
                    hop: 0,
                    attempt: 1,
                    error: CallError::new(ErrorKind::RateLimit, "slow down").with_status(429),
                    partial_output: String::new(),
                    will_retry: true,
                    latency_ms: 5,
                    why: "rate_limit is in retry_on".into(),
                    response: None,
                    cost_usd: Some(0.0),
                    cost_estimated: false,
                }),
            ),
            ev(
                5,
                Event::WaitStarted(WaitStarted {
                    hop: 0,
                    attempt: 1,
                    delay_ms: 4000,
                    strategy: "wait_exponential(multiplier=1)".into(),
                    retry_after_ms: Some(1000),
                    computed_ms: 4000,
                    source: WaitSource::Backoff,
                }),
            ),
            ev(
                4005,
                Event::Delta(Delta {
                    hop: 0,
                    attempt: 2,
                    text: "Hel".into(),
                }),
            ),
            ev(
                4006,
                Event::Delta(Delta {
                    hop: 0,
                    attempt: 2,
                    text: "lo".into(),
                }),
            ),
            ev(
                4010,
                Event::RunFinished(RunFinished {
                    outcome: Outcome::Ok,
                    content: Some("Hello".into()),
                    error: None,
                    caught: vec![],
                    total_cost_usd: Some(0.0000123),
                    total_cost_estimated: true,
                }),
            ),
        ];
        for e in &events {
            p.on_event(e).unwrap();
        }
        let out = String::from_utf8(p.into_inner()).unwrap();
        assert!(
            out.contains("hop 0 · attempt 1 → openai/gpt-4o-mini"),
            "{out}"
        );
        assert!(
            out.contains("✗ rate_limit (429): slow down  after 5 ms, $0, will retry"),
            "{out}"
        );
        assert!(
            out.contains(
                "■ ok in 4.01 s\n           cost ~$0.000012 for every attempt (partly estimated"
            ),
            "{out}"
        );
        assert!(out.contains("why: rate_limit is in retry_on"), "{out}");
        assert!(out.contains("⏳ wait 4 s"), "{out}");
        assert!(out.contains("Retry-After 1 s was shorter"), "{out}");
        assert!(out.contains("» Hello\n"), "{out}");
        assert!(out.contains("■ ok in 4.01 s"), "{out}");
        assert!(!out.contains('\x1b'), "no colour codes when colour is off");
    }

    #[test]
    fn costs_and_fixes_are_shown() {
        let mut p = Printer::new(Vec::new(), Style::new(false));
        let auth = CallError::new(
            ErrorKind::Auth,
            format!("Incorrect API key provided{HINT_SEP}check OPENAI_API_KEY"),
        )
        .with_status(401);
        let events = [
            ev(
                1,
                Event::AttemptFailed(AttemptFailed {
                    hop: 0,
                    attempt: 1,
                    error: auth.clone(),
                    partial_output: String::new(),
                    will_retry: false,
                    latency_ms: 1,
                    why: String::new(),
                    response: None,
                    cost_usd: None,
                    cost_estimated: false,
                }),
            ),
            ev(
                2,
                Event::AttemptSucceeded(AttemptSucceeded {
                    hop: 1,
                    attempt: 1,
                    content: "42".into(),
                    usage: crate::event::Usage {
                        input_tokens: 24,
                        output_tokens: 9,
                    },
                    latency_ms: 1,
                    tool_calls: vec![],
                    response: None,
                    cost_usd: Some(0.000009),
                    cost_estimated: false,
                }),
            ),
            ev(
                3,
                Event::RunFinished(RunFinished {
                    outcome: Outcome::Error,
                    content: None,
                    error: Some(CallError::retry_error(1, auth)),
                    caught: vec![],
                    total_cost_usd: Some(0.000009),
                    total_cost_estimated: false,
                }),
            ),
        ];
        for e in &events {
            p.on_event(e).unwrap();
        }
        let out = String::from_utf8(p.into_inner()).unwrap();
        assert!(
            out.contains("✗ auth (401): Incorrect API key provided  after 1 ms, no retry\n"),
            "{out}"
        );
        assert!(out.contains("      fix: check OPENAI_API_KEY\n"), "{out}");
        assert!(out.contains("24 in / 9 out tokens, $0.000009"), "{out}");
        assert!(
            out.contains("last error: auth (401): Incorrect API key provided\n"),
            "{out}"
        );
        assert!(
            out.contains(
                "  fix: check OPENAI_API_KEY\n           cost $0.000009 for every attempt\n"
            ),
            "{out}"
        );
        assert_eq!(out.matches("fix:").count(), 2, "{out}");
    }

    /// A hint in its own field prints exactly as one glued into the message (older traces).
    #[test]
    fn a_hint_field_prints_as_a_glued_hint_did() {
        let print = |auth: CallError| {
            let mut p = Printer::new(Vec::new(), Style::new(false));
            let failed = Event::AttemptFailed(AttemptFailed {
                hop: 0,
                attempt: 1,
                error: auth.clone(),
                partial_output: String::new(),
                will_retry: false,
                latency_ms: 1,
                why: String::new(),
                response: None,
                cost_usd: None,
                cost_estimated: false,
            });
            let finished = Event::RunFinished(RunFinished {
                outcome: Outcome::Error,
                content: None,
                error: Some(CallError::retry_error(1, auth.clone())),
                caught: vec![CallError::retry_error(1, auth)],
                total_cost_usd: None,
                total_cost_estimated: false,
            });
            p.on_event(&ev(1, failed)).unwrap();
            p.on_event(&ev(2, finished)).unwrap();
            String::from_utf8(p.into_inner()).unwrap()
        };
        let glued = CallError::new(
            ErrorKind::Auth,
            format!("Incorrect API key provided{HINT_SEP}check OPENAI_API_KEY"),
        )
        .with_status(401);
        let own = CallError::new(ErrorKind::Auth, "Incorrect API key provided")
            .with_status(401)
            .with_hint(Some("check OPENAI_API_KEY".into()));
        let out = print(own);
        assert_eq!(out, print(glued));
        assert_eq!(out.matches("fix: check OPENAI_API_KEY").count(), 3, "{out}");
    }
}
