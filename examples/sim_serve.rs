//! Runs the simulator standalone on a scenario file's `[sim]` table, the way `retrylab sim`
//! does (tests/sdk_compat.sh uses it when the binary has no `sim` subcommand yet):
//!
//! `cargo run --example sim_serve -- [--addr 127.0.0.1:0] [SCENARIO.toml]`

use anyhow::{Context, bail};
use retrylab::scenario::types::SimSpec;
use std::net::SocketAddr;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut addr: SocketAddr = "127.0.0.1:8080".parse()?;
    let mut path = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => {
                let value = args.next().context("--addr needs HOST:PORT")?;
                addr = value
                    .parse()
                    .with_context(|| format!("`{value}` is not HOST:PORT"))?;
            }
            flag if flag.starts_with('-') => bail!("unknown flag {flag}"),
            _ => path = Some(arg),
        }
    }
    let (spec, label) = match &path {
        None => (SimSpec::default(), "default script".to_string()),
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {p}"))?;
            let mut table: toml::Table = toml::from_str(&text).with_context(|| p.clone())?;
            let spec = match table.remove("sim") {
                Some(sim) => sim.try_into().with_context(|| format!("{p}: [sim]"))?,
                None => SimSpec::default(),
            };
            (spec, p.clone())
        }
    };
    retrylab::cli::sim::serve(addr, spec, &label).await
}
