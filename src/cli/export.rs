//! `retrylab export SCENARIO --to TARGET [-o FILE]` (DESIGN §14): the scenario's policy as
//! code for another stack. The code goes to stdout (or FILE); its findings — what the target
//! cannot express and how it was approximated — are at its top and also on stderr.

use super::{EXIT_OK, EXIT_RUN_ERROR, usage_error};
use crate::export::{Target, export};
use crate::scenario::builtin::resolve;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// A scenario file, or a built-in scenario's name (`retrylab scenarios`).
    pub scenario: String,
    /// mirascope | tenacity | mirascope-v2 | litellm | portkey
    #[arg(long, value_parser = parse_target)]
    pub to: Target,
    /// Write the code to FILE instead of stdout.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
}

pub fn parse_target(text: &str) -> Result<Target, String> {
    Target::parse(text.trim()).ok_or_else(|| {
        let names: Vec<&str> = Target::ALL.iter().map(|t| t.as_str()).collect();
        format!("`{text}` is not a target: pick one of {}", names.join(", "))
    })
}

pub fn execute(args: &ExportArgs) -> ExitCode {
    let resolved = match resolve(&args.scenario) {
        Ok(r) => r,
        Err(e) => return usage_error(&e.to_string()),
    };
    let out = export(&resolved.scenario, &args.scenario, args.to);
    for line in out.findings.list() {
        eprintln!("finding ({}): {line}", out.target.label());
    }
    match &args.output {
        None => {
            print!("{}", out.code);
            ExitCode::from(EXIT_OK)
        }
        Some(path) => match std::fs::write(path, &out.code) {
            Ok(()) => {
                eprintln!(
                    "wrote {} ({} export of {})",
                    path.display(),
                    out.target.as_str(),
                    resolved.origin
                );
                ExitCode::from(EXIT_OK)
            }
            Err(e) => {
                eprintln!(
                    "error: cannot write {}: {e}\n  hint: check that the folder exists and is writable",
                    path.display()
                );
                ExitCode::from(EXIT_RUN_ERROR)
            }
        },
    }
}
