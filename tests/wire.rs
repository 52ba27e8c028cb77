//! Wire-client tests: both formats against recorded responses, and their robustness.

mod support;

#[path = "wire/robustness_wire.rs"]
mod robustness_wire;
#[path = "wire/wire_anthropic.rs"]
mod wire_anthropic;
#[path = "wire/wire_openai.rs"]
mod wire_openai;
