//! `retrylab export` (DESIGN §14): a scenario's policy as code for another stack — a runnable
//! Mirascope or plain Tenacity program, a Mirascope v2 program, a LiteLLM Router config, a
//! Portkey config — with findings: what the target cannot express and how it was
//! approximated, listed at the top of the output (and printed on stderr by the CLI).
//! Pure text from a scenario: no I/O, nothing run.

mod across;
mod beyond;
pub mod layers;
mod limits;
pub mod litellm;
pub mod mirascope;
pub mod mirascope_v2;
pub mod portkey;
pub mod pyprog;
pub mod python;
pub mod responses;
pub mod tenacity;

use crate::scenario::Scenario;

/// The targets of `--to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Mirascope,
    Tenacity,
    MirascopeV2,
    Litellm,
    Portkey,
}

impl Target {
    pub const ALL: [Target; 5] = [
        Target::Mirascope,
        Target::Tenacity,
        Target::MirascopeV2,
        Target::Litellm,
        Target::Portkey,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Target::Mirascope => "mirascope",
            Target::Tenacity => "tenacity",
            Target::MirascopeV2 => "mirascope-v2",
            Target::Litellm => "litellm",
            Target::Portkey => "portkey",
        }
    }

    pub fn parse(s: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The file name an export is usually saved as.
    pub fn file_extension(self) -> &'static str {
        match self {
            Target::Mirascope | Target::Tenacity | Target::MirascopeV2 => "py",
            Target::Litellm => "yaml",
            Target::Portkey => "json",
        }
    }

    /// The target's name in findings ("Portkey: attempts capped at 5").
    pub fn label(self) -> &'static str {
        match self {
            Target::Mirascope => "Mirascope",
            Target::Tenacity => "Tenacity",
            Target::MirascopeV2 => "Mirascope v2",
            Target::Litellm => "LiteLLM",
            Target::Portkey => "Portkey",
        }
    }
}

/// What a target cannot express, and how it was approximated, in order, without repeats.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Findings(Vec<String>);

impl Findings {
    pub fn note(&mut self, text: impl Into<String>) {
        let text = text.into();
        if !self.0.contains(&text) {
            self.0.push(text);
        }
    }

    pub fn list(&self) -> &[String] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// An export: the code, with its findings also at its top.
#[derive(Debug, Clone)]
pub struct Exported {
    pub target: Target,
    pub code: String,
    pub findings: Findings,
}

/// The scenario as code for `target`.
pub fn export(s: &Scenario, scenario_arg: &str, target: Target) -> Exported {
    let mut findings = Findings::default();
    // Before the writer, which lists every finding at the top of the file.
    layers::notes(s, target, &mut findings);
    if matches!(
        target,
        Target::Mirascope | Target::Tenacity | Target::MirascopeV2
    ) {
        across::python(s, target, &mut findings);
    }
    limits::findings(s, target, &mut findings);
    // Before the writers: each lists the findings at the top of what it writes.
    beyond::findings(s, target, &mut findings);
    let code = match target {
        Target::Mirascope => mirascope::write(s, scenario_arg, &mut findings),
        Target::Tenacity => tenacity::write(s, scenario_arg, &mut findings),
        Target::MirascopeV2 => mirascope_v2::write(s, scenario_arg, &mut findings),
        Target::Litellm => litellm::write(s, &mut findings),
        Target::Portkey => portkey::write(s, &mut findings),
    };
    Exported {
        target,
        code,
        findings,
    }
}

/// Findings that hold for every target, from the scenario alone.
fn common_findings(s: &Scenario, f: &mut Findings) {
    if s.call.max_answer_bytes.is_some() {
        f.note("max_answer_bytes: no client-side cap on the answer's size; dropped");
    }
    let policies = crate::scenario::plan::hop_policies(s);
    for p in policies.iter().flatten() {
        if p.wait.as_ref().is_some_and(crate::policy::Wait::is_random) {
            f.note(format!(
                "jitter: seeds can't be shared across languages or libraries ([retry].seed = {}): the waits are drawn afresh, from the same ranges",
                p.seed
            ));
        }
    }
}

/// A Python docstring block listing the findings (the top of a Python export).
fn python_findings_block(target: Target, f: &Findings) -> String {
    if f.is_empty() {
        return format!(
            "Findings: none — {} expresses this scenario as written.\n",
            target.label()
        );
    }
    let mut out = format!(
        "Findings — what {} cannot express here, and how it was approximated:\n",
        target.label()
    );
    for line in f.list() {
        out.push_str("- ");
        out.push_str(&doc_text(line));
        out.push('\n');
    }
    out
}

/// Text for a Python docstring: a backslash stays a backslash (`\\N` would be a
/// SyntaxError), and `"""` cannot close the docstring.
pub(crate) fn doc_text(s: &str) -> String {
    s.replace('\\', "\\\\").replace("\"\"\"", "'''")
}

/// Text for a one-line `#` comment (Python or YAML): a line break (YAML's U+0085, U+2028
/// and U+2029 too) or another control character is written as its escape, so scenario text
/// cannot end the comment and become code or config.
pub(crate) fn comment_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod gemini_tests;
