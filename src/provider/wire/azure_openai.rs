//! Azure OpenAI chat completions: the OpenAI chat wire format (its body, reply and stream
//! parsers are `openai.rs`'s) at Azure's own address, with Azure's own credentials and
//! errors. What differs, as the official SDK's `AzureOpenAI` client does it:
//!
//! - the URL: `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=V`,
//!   where the deployment is the request's `model` and V the hop's `api_version`;
//! - the key goes in an `api-key` header (not `Authorization`), from AZURE_OPENAI_API_KEY,
//!   and the endpoint, when the scenario gives no `base_url`, from AZURE_OPENAI_ENDPOINT;
//! - errors: the content-filter 400 (`code: content_filter`, `innererror.code:
//!   ResponsibleAIPolicyViolation`, `content_filter_result` per category), a 200 stopped by
//!   `finish_reason: content_filter` (with the choice's `content_filter_results`), the 404
//!   `DeploymentNotFound`, and the bare 404 "Resource not found" a URL without api-version
//!   gets. The `prompt_filter_results` / `content_filter_results` fields of replies and
//!   stream chunks carry no text: the OpenAI parsers skip them, as the SDK does.

// `CallError` carries the provider detail by value (DESIGN §4); an attempt fails once, so
// the size of its error costs nothing measurable.
#![allow(clippy::result_large_err)]

use super::openai::{self, StreamState};
use super::{StreamParser, WireFormat, secret_header};
use crate::error::{CallError, ErrorKind};
use crate::provider::classify::{self, printable};
use crate::provider::sse::{SseEvent, Step};
use crate::provider::{ChatRequest, ChatResponse};
use crate::scenario::types::ProviderKind;
use reqwest::header::{HeaderMap, HeaderName};
use serde_json::Value;

/// The Azure OpenAI format.
pub struct AzureOpenAi;

/// Azure OpenAI (`azure-openai`).
pub static AZURE_OPENAI: AzureOpenAi = AzureOpenAi;

/// The variable the SDK reads the endpoint from.
pub const ENDPOINT_ENV: &str = "AZURE_OPENAI_ENDPOINT";

/// The most filtered categories a message names (a hostile body may list thousands).
const MAX_CATEGORIES: usize = 8;

impl WireFormat for AzureOpenAi {
    fn provider(&self) -> ProviderKind {
        ProviderKind::AzureOpenai
    }

    fn display_name(&self) -> &'static str {
        "Azure OpenAI"
    }

    fn base_url_rule(&self) -> &'static str {
        "an Azure OpenAI base_url is the resource's endpoint, https://<resource>.openai.azure.com: the client adds /openai/deployments/<model>/chat/completions?api-version=<api_version>, and model is the deployment's name"
    }

    fn default_base_url(&self) -> Option<&'static str> {
        None
    }

    fn base_url_env(&self) -> Option<&'static str> {
        Some(ENDPOINT_ENV)
    }

    fn key_env(&self) -> Option<&'static str> {
        Some("AZURE_OPENAI_API_KEY")
    }

    fn endpoint_base(&self, base_url: String, api_version: Option<&str>) -> String {
        with_api_version(&base_url, api_version)
    }

    fn url(&self, base_url: &str, req: &ChatRequest) -> String {
        url(base_url, &req.model)
    }

    fn headers(&self, api_key: Option<&str>, h: &mut HeaderMap) -> Result<(), CallError> {
        if let Some(key) = api_key {
            h.insert(HeaderName::from_static("api-key"), secret_header(key)?);
        }
        Ok(())
    }

    /// OpenAI's body; `model` (the deployment, also in the URL) is sent as the SDK sends it.
    /// Usage at the end of a stream (`stream_options`) is accepted from api-version
    /// 2024-09-01-preview on.
    fn body(&self, req: &ChatRequest) -> Value {
        openai::body(req, true)
    }

    fn parse_reply(
        &self,
        body: &[u8],
        headers: &[(String, String)],
    ) -> Result<ChatResponse, CallError> {
        openai::parse_reply(body, headers).map_err(|e| {
            if e.kind != ErrorKind::ContentFilter {
                return e;
            }
            let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            name_filtered(e, v.pointer("/choices/0/content_filter_results"))
        })
    }

    fn stream_parser(&self) -> Box<dyn StreamParser> {
        Box::new(AzureStream {
            inner: StreamState::new(),
        })
    }

    fn classify_http(&self, status: u16, headers: &[(String, String)], body: &str) -> CallError {
        classify_http(status, headers, body)
    }

    fn error_types(&self) -> &'static [(&'static str, ErrorKind)] {
        ERROR_TYPES
    }
}

/// Azure's own `error.code` / `innererror.code` values (it also sends OpenAI's, which
/// `openai.rs` names, and bare status numbers: "429", "401").
const ERROR_TYPES: &[(&str, ErrorKind)] = &[
    ("DeploymentNotFound", ErrorKind::BadRequest),
    ("ResponsibleAIPolicyViolation", ErrorKind::ContentFilter),
];

/// `{endpoint}/openai/deployments/{deployment}/chat/completions`, keeping the base's query
/// (`?api-version=…`). A base that already names a deployment (Azure's "target URI") or
/// the whole endpoint is used as it is.
pub fn url(base_url: &str, deployment: &str) -> String {
    let base = base_url.trim();
    let (path, query) = match base.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (base, None),
    };
    let path = path.trim_end_matches('/');
    let mut out = if path.ends_with("/chat/completions") {
        path.to_owned()
    } else if path.contains("/openai/deployments/") {
        format!("{path}/chat/completions")
    } else {
        let root = path.strip_suffix("/openai").unwrap_or(path);
        format!(
            "{root}/openai/deployments/{}/chat/completions",
            encode(deployment)
        )
    };
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// `base_url` with `api-version=V` as its query (replacing one it had); unchanged without
/// a version (the request then goes without one, and Azure answers 404).
pub fn with_api_version(base_url: &str, api_version: Option<&str>) -> String {
    let Some(v) = api_version.map(str::trim).filter(|v| !v.is_empty()) else {
        return base_url.to_owned();
    };
    let base = base_url.trim();
    let (path, query) = match base.split_once('?') {
        Some((p, q)) => (p, q),
        None => (base, ""),
    };
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("api-version="))
        .collect();
    let ours = format!("api-version={}", encode(v));
    params.push(&ours);
    format!("{path}?{}", params.join("&"))
}

/// Percent-encodes everything but RFC 3986's unreserved characters (a deployment name or
/// version is checked when the scenario loads; this keeps any other value inside its slot).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A non-2xx reply: the shared classification, then what Azure's bodies say beyond it.
pub fn classify_http(status: u16, headers: &[(String, String)], body: &str) -> CallError {
    let mut e = classify::classify_http(status, headers, body);
    let v: Value = serde_json::from_str(body.trim()).unwrap_or(Value::Null);
    let err = v.get("error").unwrap_or(&Value::Null);
    let inner_code = err.pointer("/innererror/code").and_then(Value::as_str);
    let named_filter = inner_code == Some("ResponsibleAIPolicyViolation");
    if e.kind == ErrorKind::ContentFilter || (named_filter && e.kind == ErrorKind::BadRequest) {
        e.kind = ErrorKind::ContentFilter;
        if err
            .get("message")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            e.message = format!("HTTP {status}: Azure's content filter refused the prompt");
        }
        if e.provider_type.is_none() {
            e.provider_type = inner_code.map(printable);
        }
        return name_filtered(e, err.pointer("/innererror/content_filter_result"));
    }
    if status == 404 && e.message.trim() == "Resource not found" {
        e.message = "Resource not found (Azure answers this to a URL it does not serve: most often one without ?api-version=, or with an api_version it does not know)".into();
    } else if matches!(status, 400 | 404) && e.message.to_ascii_lowercase().contains("api version")
    {
        e.message = format!(
            "{} (check api_version: Azure's are dated, e.g. \"2024-10-21\")",
            e.message
        );
    }
    e
}

/// The error with the categories a `content_filter_result(s)` object marks `filtered`
/// named in its message: "hate (high), violence (medium)".
fn name_filtered(mut e: CallError, results: Option<&Value>) -> CallError {
    let Some(Value::Object(map)) = results else {
        return e;
    };
    let mut names = Vec::new();
    for (category, r) in map {
        if r.get("filtered").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        if names.len() == MAX_CATEGORIES {
            names.push("…".to_owned());
            break;
        }
        let name: String = printable(category).chars().take(40).collect();
        let detail = r
            .get("severity")
            .and_then(Value::as_str)
            .or_else(|| {
                (r.get("detected").and_then(Value::as_bool) == Some(true)).then_some("detected")
            })
            .map(|s| printable(s).chars().take(20).collect::<String>());
        names.push(match detail {
            Some(d) => format!("{name} ({d})"),
            None => name,
        });
    }
    if !names.is_empty() {
        e.message = format!("{} [filtered: {}]", e.message, names.join(", "));
    }
    e
}

/// The OpenAI stream parser, with a content-filter stop naming its categories.
struct AzureStream {
    inner: StreamState,
}

impl StreamParser for AzureStream {
    fn event(
        &mut self,
        ev: &SseEvent,
        headers: &[(String, String)],
        on_delta: &mut dyn FnMut(&str),
    ) -> Result<Step, CallError> {
        self.inner.event(ev, headers, on_delta).map_err(|e| {
            if e.kind != ErrorKind::ContentFilter || e.status != Some(200) {
                return e;
            }
            let v: Value = serde_json::from_str(&ev.data).unwrap_or(Value::Null);
            name_filtered(e, v.pointer("/choices/0/content_filter_results"))
        })
    }

    fn content(&self) -> &str {
        self.inner.content()
    }

    fn answer_bytes(&self) -> usize {
        self.inner.answer_bytes()
    }

    fn terminal(&self) -> &'static str {
        self.inner.terminal()
    }

    fn finish(self: Box<Self>) -> ChatResponse {
        self.inner.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Message;

    fn req(model: &str) -> ChatRequest {
        ChatRequest {
            model: model.into(),
            system: None,
            messages: vec![Message::user("Who wrote The Name of the Wind?")],
            temperature: None,
            max_tokens: None,
            stream: false,
            tools: vec![],
        }
    }

    #[test]
    fn urls_follow_the_sdk() {
        let base = with_api_version("https://res.openai.azure.com/", Some("2024-10-21"));
        assert_eq!(base, "https://res.openai.azure.com/?api-version=2024-10-21");
        assert_eq!(
            AZURE_OPENAI.url(&base, &req("gpt-4o-prod")),
            "https://res.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21"
        );
        // The SDK's base_url (`…/openai`) and Azure's "target URI" work too; a version the
        // base already had is replaced by the scenario's.
        let sdk = with_api_version("https://r.openai.azure.com/openai", Some("2024-06-01"));
        assert_eq!(
            url(&sdk, "d"),
            "https://r.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-06-01"
        );
        let target = with_api_version(
            "https://r.openai.azure.com/openai/deployments/x/chat/completions?api-version=2023-05-15",
            Some("2024-10-21"),
        );
        assert_eq!(
            url(&target, "ignored"),
            "https://r.openai.azure.com/openai/deployments/x/chat/completions?api-version=2024-10-21"
        );
        // Nothing escapes its slot.
        assert_eq!(
            url(&with_api_version("http://h", Some("a&b=c")), "../x?y"),
            "http://h/openai/deployments/..%2Fx%3Fy/chat/completions?api-version=a%26b%3Dc"
        );
        // No version: no query (Azure then answers 404, classified below).
        assert_eq!(
            url(&with_api_version("http://h", None), "d"),
            "http://h/openai/deployments/d/chat/completions"
        );
    }

    #[test]
    fn the_key_goes_in_api_key_marked_sensitive() {
        let mut h = HeaderMap::new();
        AZURE_OPENAI
            .headers(Some("azure-SENTINEL"), &mut h)
            .unwrap();
        let v = h.get("api-key").unwrap();
        assert!(v.is_sensitive());
        assert_eq!(v.to_str().unwrap(), "azure-SENTINEL");
        assert!(h.get("authorization").is_none());
        assert_eq!(AZURE_OPENAI.key_env(), Some("AZURE_OPENAI_API_KEY"));
        assert_eq!(AZURE_OPENAI.base_url_env(), Some("AZURE_OPENAI_ENDPOINT"));
    }

    pub(crate) const FILTER_400: &str = r#"{
  "error": {
    "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
    "type": null,
    "param": "prompt",
    "code": "content_filter",
    "status": 400,
    "innererror": {
      "code": "ResponsibleAIPolicyViolation",
      "content_filter_result": {
        "hate": { "filtered": true, "severity": "high" },
        "jailbreak": { "filtered": false, "detected": false },
        "self_harm": { "filtered": false, "severity": "safe" },
        "sexual": { "filtered": false, "severity": "safe" },
        "violence": { "filtered": true, "severity": "medium" }
      }
    }
  }
}"#;

    #[test]
    fn the_content_filter_400_names_its_categories() {
        let e = classify_http(400, &[], FILTER_400);
        assert_eq!(e.kind, ErrorKind::ContentFilter);
        assert_eq!(e.status, Some(400));
        assert_eq!(e.provider_type.as_deref(), Some("content_filter"));
        assert!(
            e.message
                .starts_with("The response was filtered due to the prompt triggering Azure OpenAI's content management policy.")
        );
        assert!(
            e.message
                .ends_with(" [filtered: hate (high), violence (medium)]"),
            "{}",
            e.message
        );
    }

    #[test]
    fn malformed_content_filter_bodies_are_still_content_filter() {
        let cases = [
            // No message, no categories object.
            (
                r#"{"error":{"code":"content_filter","innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":"garbage"}}}"#,
                "HTTP 400: Azure's content filter refused the prompt",
            ),
            // Only the inner code names it; categories of the wrong shapes are skipped.
            (
                r#"{"error":{"code":"BadRequest","message":"filtered","innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":5,"violence":{"filtered":"yes"},"self_harm":{"filtered":true,"severity":7},"jailbreak":{"filtered":true,"detected":true}}}}}"#,
                "filtered [filtered: jailbreak (detected), self_harm]",
            ),
        ];
        for (body, want) in cases {
            let e = classify_http(400, &[], body);
            assert_eq!(e.kind, ErrorKind::ContentFilter, "{body}");
            assert_eq!(e.message, want);
        }
        // Thousands of categories: the message stays short.
        let many: Vec<String> = (0..5000)
            .map(|i| format!("\"c{i}\":{{\"filtered\":true,\"severity\":\"high\"}}"))
            .collect();
        let body = format!(
            "{{\"error\":{{\"code\":\"content_filter\",\"message\":\"m\",\"innererror\":{{\"content_filter_result\":{{{}}}}}}}}}",
            many.join(",")
        );
        let e = classify_http(400, &[], &body);
        assert_eq!(e.kind, ErrorKind::ContentFilter);
        assert!(e.message.len() < 300, "{}", e.message.len());
        assert!(e.message.ends_with(", …]"), "{}", e.message);
    }

    #[test]
    fn a_missing_deployment_and_a_missing_api_version_are_said_clearly() {
        let e = classify_http(
            404,
            &[("x-request-id".into(), "req-az".into())],
            r#"{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."}}"#,
        );
        assert_eq!(e.kind, ErrorKind::BadRequest);
        assert_eq!(e.provider_type.as_deref(), Some("DeploymentNotFound"));
        assert_eq!(e.request_id.as_deref(), Some("req-az"));
        let e = classify_http(
            404,
            &[],
            r#"{ "error": { "code": "404", "message": "Resource not found" } }"#,
        );
        assert_eq!(e.kind, ErrorKind::BadRequest);
        assert!(
            e.message
                .starts_with("Resource not found (Azure answers this to a URL it does not serve: most often one without ?api-version="),
            "{}",
            e.message
        );
        let e = classify_http(
            400,
            &[],
            r#"{"error":{"code":"BadRequest","message":"API version not supported"}}"#,
        );
        assert_eq!(e.kind, ErrorKind::BadRequest);
        assert_eq!(
            e.message,
            "API version not supported (check api_version: Azure's are dated, e.g. \"2024-10-21\")"
        );
    }

    #[test]
    fn rate_limits_honour_retry_after_ms_then_retry_after() {
        let body = r#"{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds."}}"#;
        let h = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let e = classify_http(
            429,
            &h(&[("retry-after-ms", "5500"), ("retry-after", "6")]),
            body,
        );
        assert_eq!(e.kind, ErrorKind::RateLimit);
        assert_eq!(e.retry_after_ms, Some(5500));
        assert_eq!(e.provider_type.as_deref(), Some("429"));
        let e = classify_http(429, &h(&[("retry-after", "6")]), body);
        assert_eq!(e.retry_after_ms, Some(6000));
    }

    fn data(s: &str) -> SseEvent {
        SseEvent {
            event: String::new(),
            data: s.into(),
            id: None,
        }
    }

    #[test]
    fn streams_skip_filter_results_and_name_a_filtered_stop() {
        let frames = [
            r#"{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}"#,
            r#"{"choices":[{"content_filter_results":{},"delta":{"content":"","role":"assistant"},"finish_reason":null,"index":0}],"created":1,"id":"c","model":"gpt-4o","object":"chat.completion.chunk"}"#,
            r#"{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"delta":{"content":"Patrick"},"finish_reason":null,"index":0}],"created":1,"id":"c","model":"gpt-4o","object":"chat.completion.chunk"}"#,
            r#"{"choices":[{"content_filter_offsets":{"check_offset":0,"start_offset":0,"end_offset":7},"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"finish_reason":null,"index":0}],"created":1,"id":"c","model":"gpt-4o","object":"chat.completion.chunk"}"#,
        ];
        let mut s = AZURE_OPENAI.stream_parser();
        let mut seen = String::new();
        for f in frames {
            assert_eq!(
                s.event(&data(f), &[], &mut |t| seen.push_str(t)).unwrap(),
                Step::Continue
            );
        }
        assert_eq!(seen, "Patrick");
        let e = s
            .event(
                &data(r#"{"choices":[{"content_filter_results":{"violence":{"filtered":true,"severity":"medium"}},"delta":{},"finish_reason":"content_filter","index":0}],"created":1,"id":"c","model":"gpt-4o","object":"chat.completion.chunk"}"#),
                &[],
                &mut |_| {},
            )
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::ContentFilter);
        assert_eq!(e.status, Some(200));
        assert!(
            e.message.ends_with("[filtered: violence (medium)]"),
            "{}",
            e.message
        );
        assert_eq!(s.content(), "Patrick");
    }

    #[test]
    fn a_plain_reply_stopped_by_the_filter_names_it() {
        let body = br#"{"choices":[{"content_filter_results":{"sexual":{"filtered":true,"severity":"high"}},"finish_reason":"content_filter","index":0,"message":{"content":null,"role":"assistant"}}],"created":1,"id":"c","model":"gpt-4o","object":"chat.completion","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}],"usage":{"completion_tokens":0,"prompt_tokens":9,"total_tokens":9}}"#;
        let e = AZURE_OPENAI.parse_reply(body, &[]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::ContentFilter);
        assert!(
            e.message.ends_with("[filtered: sexual (high)]"),
            "{}",
            e.message
        );
        let ok = br#"{"choices":[{"content_filter_results":{},"finish_reason":"stop","index":0,"message":{"content":"Patrick Rothfuss.","role":"assistant"}}],"created":1,"id":"c","model":"gpt-4o","object":"chat.completion","prompt_filter_results":[],"usage":{"completion_tokens":3,"prompt_tokens":9,"total_tokens":12}}"#;
        let r = AZURE_OPENAI.parse_reply(ok, &[]).unwrap();
        assert_eq!(r.content, "Patrick Rothfuss.");
        assert_eq!(r.usage.output_tokens, 3);
    }
}
