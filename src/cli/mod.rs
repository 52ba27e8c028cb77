//! One file per subcommand; `main.rs` only parses and dispatches here.

use std::process::ExitCode;

pub mod check;
pub mod export;
pub mod import;
pub mod lab;
pub mod printer;
pub mod replay;
pub mod run;
pub mod scenarios;
pub mod sim;
pub mod traces;
pub mod tui;
pub mod whatif;

/// Exit codes of DESIGN §7.
pub const EXIT_OK: u8 = 0;
pub const EXIT_RUN_ERROR: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

/// Prints a usage or scenario problem and returns exit code 2.
pub fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}
