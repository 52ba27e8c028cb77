//! Engine and simulator tests: built-in scenarios, cancellation, policy semantics, and the
//! simulator's faults, scripts and streams.

mod support;

#[path = "engine/builtin_scenarios.rs"]
mod builtin_scenarios;
#[path = "engine/engine_breaker.rs"]
mod engine_breaker;
#[path = "engine/engine_cancel.rs"]
mod engine_cancel;
#[path = "engine/engine_control.rs"]
mod engine_control;
#[path = "engine/engine_over_time.rs"]
mod engine_over_time;
#[path = "engine/engine_request.rs"]
mod engine_request;
#[path = "engine/engine_semantics.rs"]
mod engine_semantics;
#[path = "engine/engine_why.rs"]
mod engine_why;
#[path = "engine/hedge.rs"]
mod hedge;
#[path = "engine/lab.rs"]
mod lab;
#[path = "engine/limits.rs"]
mod limits;
#[path = "engine/on_result.rs"]
mod on_result;
#[path = "engine/retry_beyond.rs"]
mod retry_beyond;
#[path = "engine/sdk_layer.rs"]
mod sdk_layer;
#[path = "engine/sim_faults.rs"]
mod sim_faults;
#[path = "engine/sim_gemini.rs"]
mod sim_gemini;
#[path = "engine/sim_over_time.rs"]
mod sim_over_time;
#[path = "engine/sim_recorded.rs"]
mod sim_recorded;
#[path = "engine/sim_responses.rs"]
mod sim_responses;
#[path = "engine/sim_script.rs"]
mod sim_script;
#[path = "engine/sim_stream.rs"]
mod sim_stream;
#[path = "engine/stream_recovery.rs"]
mod stream_recovery;
#[path = "engine/whatif.rs"]
mod whatif;
