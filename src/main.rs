//! Parses the CLI (DESIGN §7) and dispatches; nothing else.

use clap::{Parser, Subcommand};
use retrylab::cli;
use std::net::SocketAddr;
use std::process::ExitCode;

/// A terminal playground for LLM call resilience: retries, back-off, error reinsertion and
/// fallbacks, live, against a built-in simulator or the real APIs.
#[derive(Parser)]
#[command(name = "retrylab", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Open the playground on this scenario (a file or a built-in name).
    scenario: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario headless: a readable timeline, or JSON lines with --json.
    Run(cli::run::RunArgs),
    /// Validate a scenario and print the planned attempts, waits and worst case.
    Check {
        /// A scenario file, or a built-in scenario's name.
        scenario: String,
    },
    /// Replay a recorded run (a JSONL trace) in the playground, or print it.
    Replay {
        /// A trace file, a name from `retrylab traces` or a unique prefix of one, or a
        /// scenario's name (its newest run).
        #[arg(required_unless_present = "last")]
        trace: Option<String>,
        /// The newest recorded run.
        #[arg(long, conflicts_with = "trace")]
        last: bool,
        /// Print the timeline instead of opening the playground.
        #[arg(long)]
        print: bool,
    },
    /// List the recorded runs, newest first: when, scenario, outcome, attempts, trace.
    Traces {
        /// Every recorded run, not only the newest 20.
        #[arg(long)]
        all: bool,
    },
    /// Serve the simulator standalone for any client (OpenAI base URL http://ADDR/v1,
    /// Anthropic base URL http://ADDR).
    Sim {
        /// HOST:PORT, localhost:PORT or a bare PORT (on 127.0.0.1).
        #[arg(long, default_value = "127.0.0.1:8787", value_parser = retrylab::cli::sim::parse_addr)]
        addr: SocketAddr,
        /// The scenario whose [sim] script to play (default: plain answers).
        scenario: Option<String>,
        /// No line per request on stderr.
        #[arg(long, short)]
        quiet: bool,
    },
    /// List the built-in scenarios and the saved ones.
    Scenarios,
    /// Compare policies over many calls: success, latency percentiles, cost, herds.
    Lab(cli::lab::LabArgs),
    /// Replay a recorded run's faults under another policy; recorded and new side by side.
    Whatif(cli::whatif::WhatifArgs),
    /// Read a Python file's @retry / @fallback / @llm.call decorators (never run it) into a
    /// scenario; what does not map is listed on stderr.
    Import(cli::import::ImportArgs),
    /// Write the scenario's policy as code for another stack, with findings.
    Export(cli::export::ExportArgs),
}

fn main() -> ExitCode {
    let args = Cli::parse();
    match args.command {
        Some(Command::Run(run)) => cli::run::execute(&run),
        Some(Command::Check { scenario }) => cli::check::execute(&scenario),
        Some(Command::Lab(lab)) => cli::lab::execute(&lab),
        Some(Command::Whatif(w)) => cli::whatif::execute(&w),
        Some(Command::Import(import)) => cli::import::execute(&import),
        Some(Command::Export(export)) => cli::export::execute(&export),
        Some(Command::Scenarios) => {
            print!("{}", cli::scenarios::listing());
            ExitCode::SUCCESS
        }
        Some(Command::Replay { trace, last, print }) => {
            match cli::traces::locate_in_data_dir(trace.as_deref(), last) {
                Err(e) => cli::usage_error(&e),
                Ok(path) if print => cli::replay::print(&path),
                Ok(path) => report(cli::tui::run_replay(&path)),
            }
        }
        Some(Command::Traces { all }) => cli::traces::execute(all),
        Some(Command::Sim {
            addr,
            scenario,
            quiet,
        }) => cli::run::serve_sim(addr, scenario.as_deref(), quiet),
        None => report(cli::tui::run_playground(args.scenario)),
    }
}

/// The playground's own errors: one line on stderr, exit 2.
fn report(result: anyhow::Result<ExitCode>) -> ExitCode {
    result.unwrap_or_else(|e| cli::usage_error(&format!("{e:#}")))
}
