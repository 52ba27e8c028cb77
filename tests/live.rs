//! Live-mode tests: the engine and the CLI against loopback servers that replay recorded traffic.

mod support;

#[path = "live/live_azure.rs"]
mod live_azure;
#[path = "live/live_bad_input.rs"]
mod live_bad_input;
#[path = "live/live_cli.rs"]
mod live_cli;
#[path = "live/live_cost.rs"]
mod live_cost;
#[path = "live/live_gemini.rs"]
mod live_gemini;
#[path = "live/live_keys.rs"]
mod live_keys;
#[path = "live/live_responses.rs"]
mod live_responses;
#[path = "live/live_whatif.rs"]
mod live_whatif;
#[path = "live/live_wire.rs"]
mod live_wire;
