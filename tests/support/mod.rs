//! The one support layer of the integration tests (each test binary declares `mod support;`).
//!
//! - [`run`]: run a scenario in sim mode on the virtual clock, collect its events, and render
//!   them as a transcript *with* times (`t_ms` is virtual, so deterministic).
//! - [`live`]: run the engine live against a loopback server under an isolated config, and a
//!   transcript *without* times but with costs (live `t_ms` is wall time). The two transcripts
//!   differ on purpose; they are kept apart under their own modules.
//! - [`transcript`]: both transcripts, one `Observer` with a sim and a live flavour.
//! - [`live_server`]: a loopback server for live runs (real time, one scripted reply per
//!   request, several requests).
//! - [`wire_server`]: a loopback server for the wire-client tests (one connection, pauses and
//!   stalls on the run clock). It differs from [`live_server`] in its clock and its script
//!   (`Act` vs `Step`), so both stay.
//! - [`sim`]: the simulator on a virtual clock and a plain HTTP client for it.
//! - [`cli`]: the built binary under the test's own data and config dirs.
//! - [`panics`]: a panic hook that counts panics in the code under test, not in tests.
//! - [`fixture`]: the recorded responses (`tests/fixtures/{live,wire}/*.http`), shared by
//!   both servers.

// Each binary uses a part of the helpers; a failed setup step should fail the test loudly.
#![allow(dead_code, clippy::unwrap_used)]

pub mod cli;
pub mod live;
pub mod live_server;
pub mod panics;
pub mod run;
pub mod sim;
pub mod transcript;
pub mod wire_server;

use std::time::Duration;

/// The text of a recorded response: `tests/fixtures/live/NAME.http`, else
/// `tests/fixtures/wire/NAME.http`; `@RETRY_AFTER_DATE@` becomes an HTTP date 30 s ahead.
pub fn fixture(name: &str) -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let text = ["live", "wire"]
        .iter()
        .find_map(|d| std::fs::read_to_string(format!("{dir}/{d}/{name}.http")).ok())
        .unwrap_or_else(|| panic!("no fixture {name}.http in {dir}/live or {dir}/wire"));
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(30));
    text.replace("@RETRY_AFTER_DATE@", &date)
}
