//! The wire clients: one transport (`client/`) and one file per wire format (`wire/`, the
//! only place the formats differ), SSE decoding, reply headers, and error classification
//! into DESIGN §4 kinds. The same code talks to the simulator and to the real APIs. The
//! policy is the only retry loop: these clients never retry.

use crate::error::CallError;
use crate::event::{HttpExchange, ToolCallRecord, Usage};
use crate::scenario::types::ProviderKind;
use std::time::Duration;

/// The default base URL of a provider, per its official SDK's convention.
pub fn default_base_url(kind: ProviderKind) -> Option<&'static str> {
    wire::format(kind).default_base_url()
}

/// The environment variable a hop's key is read from in live mode.
pub fn key_env(provider: ProviderKind, api_key_env: Option<&str>) -> Option<String> {
    match api_key_env {
        Some(v) => Some(v.to_string()),
        None => wire::format(provider).key_env().map(String::from),
    }
}

/// A provider-neutral chat request; each wire file turns it into its own body.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub model: String,
    pub system: Option<String>,
    pub messages: Vec<Message>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub stream: bool,
    pub tools: Vec<ToolDef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
    /// A tool result answering `tool_call_id` (each format renders it; the engine sends
    /// none back yet).
    #[allow(dead_code)]
    Tool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    pub content: String,
    /// Tool calls an assistant message made.
    pub tool_calls: Vec<ToolCallRecord>,
    /// For `Role::Tool`: which call this answers.
    pub tool_call_id: Option<String>,
}

impl Message {
    pub fn user(text: impl Into<String>) -> Message {
        Message {
            role: Role::User,
            content: text.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    pub fn assistant(text: impl Into<String>) -> Message {
        Message {
            role: Role::Assistant,
            content: text.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolDef {
    pub name: String,
    pub description: String,
    /// JSON schema of the arguments.
    pub parameters: serde_json::Value,
}

/// Where to send a call and how to authenticate. Its `Debug` never shows the key.
#[derive(Clone, PartialEq)]
pub struct Endpoint {
    pub kind: ProviderKind,
    /// OpenAI convention includes `/v1`; Anthropic's does not (the client appends
    /// `/v1/messages`).
    pub base_url: String,
    /// Never printed, traced or shown.
    pub api_key: Option<String>,
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("kind", &self.kind)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let e = Endpoint {
            kind: ProviderKind::Openai,
            base_url: "http://x/v1".into(),
            api_key: Some("sk-SENTINEL-123456".into()),
            headers: vec![("x-secret".into(), "hdr-SENTINEL".into())],
        };
        let shown = format!("{e:?}");
        assert!(!shown.contains("SENTINEL"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }
}

/// Timeouts on the run's clock; `None` = no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timeouts {
    pub connect: Option<Duration>,
    pub first_byte: Option<Duration>,
    pub idle: Option<Duration>,
    pub total: Option<Duration>,
}

/// A successful exchange.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatResponse {
    pub content: String,
    pub tool_calls: Vec<ToolCallRecord>,
    pub usage: Usage,
    pub finish_reason: Option<String>,
    pub exchange: HttpExchange,
}

/// A failed exchange: the classified error, and what arrived before it.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptError {
    pub error: CallError,
    pub partial_output: String,
    pub exchange: Option<HttpExchange>,
}

pub mod classify;
pub mod client;
pub mod headers;
pub mod redact;
pub mod resume;
pub mod sse;
pub mod wire;

pub use client::Client;
