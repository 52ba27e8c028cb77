//! `retrylab import FILE.py [-o OUT.toml]` (DESIGN §14): a Python file's decorators → a
//! scenario, printed or written; each piece not mapped goes to stderr as `file:line: what:
//! why`. The file is read, never run. Exit 0 with a scenario, 2 when the file cannot be
//! read or holds nothing to import.

use super::{EXIT_OK, usage_error};
use crate::pyimport::{ImportError, MAX_SOURCE, import_python};
use crate::scenario::userfile::read_user_file;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// The Python file whose @retry / @fallback / @llm.call decorators to read.
    pub file: PathBuf,
    /// Where to write the scenario (default: stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn execute(args: &ImportArgs) -> ExitCode {
    let origin = args.file.display().to_string();
    let source = match read_user_file(&args.file, MAX_SOURCE as u64) {
        Ok(s) => s,
        Err(e) => return usage_error(&format!("cannot read {origin}: {e}")),
    };
    let imported = match import_python(&source, &origin) {
        Ok(i) => i,
        Err(ImportError::Nothing { dropped, .. }) => {
            for d in &dropped {
                eprintln!("{}", d.show(&origin));
            }
            return usage_error(&format!(
                "{origin}: no @llm.call, @retry or @fallback decorator found: nothing to import\n  hint: import reads Mirascope's @llm.call and Tenacity's @retry (see README, Import)"
            ));
        }
        Err(e) => return usage_error(&e.to_string()),
    };
    for d in &imported.dropped {
        eprintln!("{}", d.show(&origin));
    }
    // Said, not dropped: what the program does that the scenario leaves out on purpose.
    for n in &imported.notes {
        eprintln!("{origin}:{}: note: {}: {}", n.line, n.what, n.why);
    }
    let Some(out) = &args.output else {
        print!("{}", imported.scenario_toml);
        summary(&origin, "stdout", imported.dropped.len());
        return ExitCode::from(EXIT_OK);
    };
    if same_file(out, &args.file) {
        return usage_error(&format!(
            "-o {} is the Python file itself\n  hint: name another file, e.g. -o scenario.toml",
            out.display()
        ));
    }
    if let Err(e) = std::fs::write(out, &imported.scenario_toml) {
        return usage_error(&format!("cannot write {}: {e}", out.display()));
    }
    summary(&origin, &out.display().to_string(), imported.dropped.len());
    ExitCode::from(EXIT_OK)
}

fn summary(origin: &str, to: &str, dropped: usize) {
    let tail = match dropped {
        0 => "everything mapped".to_string(),
        1 => "1 piece not mapped (above)".to_string(),
        n => format!("{n} pieces not mapped (above)"),
    };
    eprintln!("imported {origin} -> {to}: {tail}");
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
