//! Shared helpers of the simulator tests: a server on a virtual clock and a plain loopback
//! HTTP client (deliberately not src/provider, so the simulator is tested on its own).
// Test helpers: a failed setup should fail the test loudly.
#![allow(dead_code, clippy::unwrap_used)]

use retrylab::clock::{Clock, Speed};
use retrylab::scenario::types::{ProviderKind, SimSpec};
use retrylab::sim::SimServer;
use serde_json::{Value, json};
use std::net::SocketAddr;

pub struct Sim {
    pub server: SimServer,
    pub clock: Clock,
    pub http: reqwest::Client,
}

/// What came back: status, headers and the whole body as text.
#[derive(Debug)]
pub struct Got {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Got {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// `[sim]` table text → SimSpec.
pub fn spec(toml_text: &str) -> SimSpec {
    toml::from_str(toml_text).unwrap()
}

pub async fn start(spec: SimSpec) -> Sim {
    let clock = Clock::virtual_time(Speed::Max);
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = SimServer::start(addr, spec, clock.clone()).await.unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    Sim {
        server,
        clock,
        http,
    }
}

/// A chat body in `kind`'s wire format.
pub fn body(kind: ProviderKind, model: &str, stream: bool, tools: bool) -> Value {
    let mut b = match kind {
        ProviderKind::Anthropic => json!({
            "model": model,
            "max_tokens": 1024,
            "messages": [{"role": "user", "content": "Who wrote The Name of the Wind?"}],
        }),
        _ => json!({
            "model": model,
            "messages": [{"role": "user", "content": "Who wrote The Name of the Wind?"}],
        }),
    };
    if stream {
        b["stream"] = json!(true);
        if kind != ProviderKind::Anthropic {
            b["stream_options"] = json!({"include_usage": true});
        }
    }
    if tools {
        let schema = json!({"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]});
        b["tools"] = match kind {
            ProviderKind::Anthropic => json!([{
                "name": "get_book_author",
                "description": "Look up who wrote a book",
                "input_schema": schema,
            }]),
            _ => json!([{
                "type": "function",
                "function": {
                    "name": "get_book_author",
                    "description": "Look up who wrote a book",
                    "parameters": schema,
                },
            }]),
        };
    }
    b
}

impl Sim {
    pub fn url(&self, kind: ProviderKind) -> String {
        let base = self.server.base_url(kind);
        match kind {
            ProviderKind::Anthropic => format!("{base}/v1/messages"),
            _ => format!("{base}/chat/completions"),
        }
    }

    pub fn request(&self, kind: ProviderKind, body: &Value) -> reqwest::RequestBuilder {
        let req = self.http.post(self.url(kind)).json(body);
        match kind {
            ProviderKind::Anthropic => req
                .header("x-api-key", "sk-ant-test")
                .header("anthropic-version", "2023-06-01"),
            _ => req.bearer_auth("sk-test"),
        }
    }

    /// Sends `body` and reads the whole reply.
    pub async fn send(&self, kind: ProviderKind, body: &Value) -> Got {
        let resp = self.request(kind, body).send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.text().await.unwrap();
        Got {
            status,
            headers,
            body,
        }
    }

    /// A plain (non-streaming, no tools) request to `model`.
    pub async fn ask(&self, kind: ProviderKind, model: &str) -> Got {
        self.send(kind, &body(kind, model, false, false)).await
    }
}

/// The text of a non-streaming reply in either format, or the error type.
pub fn outcome(got: &Got) -> String {
    let v = got.json();
    if got.status != 200 {
        let t = v["error"]["type"].as_str().unwrap_or("?");
        return format!("{} {t}", got.status);
    }
    if let Some(text) = v["choices"][0]["message"]["content"].as_str() {
        return text.to_string();
    }
    if let Some(call) = v["choices"][0]["message"]["tool_calls"][0]["function"].as_object() {
        return format!("tool {} {}", call["name"], call["arguments"]);
    }
    let block = &v["content"][0];
    match block["type"].as_str() {
        Some("text") => block["text"].as_str().unwrap_or_default().to_string(),
        Some("tool_use") => format!("tool {} {}", block["name"], block["input"]),
        _ => panic!("unexpected body {}", got.body),
    }
}
