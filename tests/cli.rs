//! The CLI binary end to end, and the simulator as a server under fire.

mod support;

#[path = "cli/cli.rs"]
mod cli;
#[path = "cli/export_cli.rs"]
mod export_cli;
#[path = "cli/hedge_cli.rs"]
mod hedge_cli;
#[path = "cli/import_cli.rs"]
mod import_cli;
#[path = "cli/lab_cli.rs"]
mod lab_cli;
#[path = "cli/robustness_sim.rs"]
mod robustness_sim;
#[path = "cli/roundtrip_cli.rs"]
mod roundtrip_cli;
#[path = "cli/whatif_cli.rs"]
mod whatif_cli;
