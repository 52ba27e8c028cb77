//! The small value types events carry: mode, outcome, targets, usage, the HTTP exchange, tool
//! calls and where a wait came from.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Sim,
    Live,
}

impl Mode {
    pub fn label(self) -> &'static str {
        match self {
            Mode::Sim => "SIM",
            Mode::Live => "LIVE",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Error,
    Cancelled,
}

/// A provider + model pair, as in `fallback_hop`'s `from` and `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub provider: String,
    pub model: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// What came back over HTTP, for the Inspector: status, headers and (a prefix of) the body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpExchange {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
}

/// A tool call the model made, with the arguments as the model sent them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCallRecord {
    pub id: String,
    pub name: String,
    pub args: String,
}

/// How a wait ended (a DESIGN §5 extension of `wait_finished`): it ran its full delay (the
/// default, never written, so such lines read as before), the user skipped the rest of it,
/// or the run was cancelled during it. A word this version does not know reads as `Elapsed`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitEnd {
    Skipped,
    Cancelled,
    #[default]
    #[serde(other)]
    Elapsed,
}

impl WaitEnd {
    /// The full delay passed (what `wait_finished` meant before it said more).
    pub fn is_elapsed(&self) -> bool {
        *self == WaitEnd::Elapsed
    }
}

/// What set a wait: the back-off formula, the server's Retry-After, or the server's
/// `RetryInfo.retryDelay` in the error body (Gemini). Written as `backoff` / `retry_after` /
/// `retry_info`; a trace without it (older versions) or with a word this version
/// does not know reads as [`WaitSource::Unknown`] (written `""`), shown as a back-off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WaitSource {
    Backoff,
    RetryAfter,
    RetryInfo,
    #[default]
    Unknown,
}

impl WaitSource {
    pub fn as_str(self) -> &'static str {
        match self {
            WaitSource::Backoff => "backoff",
            WaitSource::RetryAfter => "retry_after",
            WaitSource::RetryInfo => "retry_info",
            WaitSource::Unknown => "",
        }
    }

    /// The server set the wait (a header or the body's RetryInfo), not the formula.
    pub fn is_server(self) -> bool {
        matches!(self, WaitSource::RetryAfter | WaitSource::RetryInfo)
    }
}

impl fmt::Display for WaitSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for WaitSource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for WaitSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A string, as the field always was; any other word is not an error.
        Ok(match String::deserialize(d)?.as_str() {
            "backoff" => WaitSource::Backoff,
            "retry_after" => WaitSource::RetryAfter,
            "retry_info" => WaitSource::RetryInfo,
            _ => WaitSource::Unknown,
        })
    }
}
