//! Azure OpenAI chat completions as the real service writes them: OpenAI's `chat.completion`
//! objects and chunks (built by `openai.rs`) with Azure's additions — `prompt_filter_results`
//! first (its own stream frame, `choices: []`), `content_filter_results` on each choice —
//! at `POST /openai/deployments/{deployment}/chat/completions?api-version=V`, keyed by
//! `api-key`. Errors are Azure's `{"error": {code, message}}` bodies: the content-filter
//! 400 with `innererror.content_filter_result`, the 404 of a URL without api-version, the
//! 401 of a missing key, the 429 with `retry-after-ms` beside `retry-after`.
//!
//! The `content_filter` fault: without `after_tokens` the prompt is refused (HTTP 400, the
//! most common Azure refusal and the SDK's `BadRequestError`); with `after_tokens` the
//! completion is filtered after that many tokens (HTTP 200, `finish_reason:
//! content_filter`).

use super::openai;
use super::{
    Answer, Ending, ErrorReply, Incoming, Meta, Request, SimFormat, StreamParts, html_reply,
    pretty, quote, retry_after, seconds_text, whole_millis, whole_seconds,
};
use crate::scenario::types::{FaultKind, FaultSpec, ProviderKind, RetryAfterFormat};
use crate::sim::limits::LimitInfo;
use serde_json::{Value, json};
use std::time::Duration;

/// The Azure OpenAI format.
pub struct AzureOpenAi;

/// `azure-openai`.
pub static AZURE_OPENAI: AzureOpenAi = AzureOpenAi;

const PREFIX: &str = "/openai/deployments/";
const SUFFIX: &str = "/chat/completions";

/// The deployment a path names, if it is Azure's chat completions path.
pub fn deployment(path: &str) -> Option<&str> {
    let d = path.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    (!d.is_empty() && !d.contains('/')).then_some(d)
}

impl SimFormat for AzureOpenAi {
    fn provider(&self) -> ProviderKind {
        ProviderKind::AzureOpenai
    }

    /// The SDK is given the resource's endpoint (`azure_endpoint`): the server's root.
    fn base_path(&self) -> &'static str {
        ""
    }

    fn route(&self) -> &'static str {
        "/openai/deployments/{deployment}/chat/completions"
    }

    fn serves(&self, path: &str) -> bool {
        deployment(path).is_some()
    }

    fn parse(&self, req: &Incoming<'_>) -> Result<Request, ErrorReply> {
        let Some(name) = deployment(req.path) else {
            return Err(resource_not_found());
        };
        let has_version = req.query.is_some_and(|q| {
            q.split('&').any(|p| {
                p.strip_prefix("api-version=")
                    .is_some_and(|v| !v.is_empty())
            })
        });
        if !has_version {
            return Err(resource_not_found());
        }
        if !["api-key", "authorization"]
            .iter()
            .any(|h| req.headers.contains_key(*h))
        {
            return Err(access_denied());
        }
        // The deployment is the model; the body's `model` is optional on Azure.
        let mut body: Value = serde_json::from_slice(req.body).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut body {
            map.insert("model".into(), Value::String(name.to_owned()));
            let bytes = serde_json::to_vec(&body).unwrap_or_default();
            return openai::parse(&bytes);
        }
        openai::parse(req.body)
    }

    fn request_id(&self, meta: &Meta) -> String {
        format!(
            "{:08x}-5a1e-4d2c-8f3b-{:012x}",
            meta.global & 0xffff_ffff,
            meta.global
        )
    }

    fn identity(&self, request_id: &str) -> Vec<(&'static str, String)> {
        vec![
            ("x-request-id", request_id.to_owned()),
            ("apim-request-id", request_id.to_owned()),
            ("x-ms-region", "East US".into()),
            ("x-ms-rai-invoked", "true".into()),
        ]
    }

    fn full_body(&self, meta: &Meta, answer: &Answer) -> String {
        let mut v: Value =
            serde_json::from_str(&openai::full_body(meta, answer)).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut v {
            map.remove("service_tier");
            map.insert("prompt_filter_results".into(), prompt_filter_results());
        }
        if let Some(Value::Object(choice)) = v.pointer_mut("/choices/0") {
            choice.insert("content_filter_results".into(), choice_filter(answer));
        }
        pretty(&v, 2)
    }

    fn plain_headers(&self, latency: Duration) -> Vec<(&'static str, String)> {
        vec![(
            "x-envoy-upstream-service-time",
            latency.as_millis().to_string(),
        )]
    }

    fn stream(&self, meta: &Meta, answer: &Answer, req: &Request) -> StreamParts {
        let mut parts = openai::stream(meta, answer, req.include_usage);
        parts.head.insert(
            0,
            format!(
                "data: {{\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\",\"prompt_filter_results\":{}}}\n\n",
                prompt_filter_results()
            ),
        );
        // The finish frame says what the filter found, as Azure's does.
        if let Some(finish) = parts.tail.first_mut() {
            *finish = finish.replacen(
                "\"choices\":[{\"index\":0,",
                &format!(
                    "\"choices\":[{{\"index\":0,\"content_filter_results\":{},",
                    choice_filter(answer)
                ),
                1,
            );
        }
        parts
    }

    fn malformed_frame(&self, meta: &Meta) -> String {
        openai::malformed_frame(meta)
    }

    fn stream_error(&self, fault: &FaultSpec) -> String {
        openai::stream_error(fault)
    }

    fn refuses(&self, fault: &FaultSpec) -> bool {
        fault.fault == FaultKind::ContentFilter && fault.after_tokens.is_none()
    }

    fn error(&self, fault: &FaultSpec, model: &str) -> ErrorReply {
        error(fault, model)
    }

    fn rate_limited(&self, info: &LimitInfo, _model: &str) -> ErrorReply {
        let wait = info.retry_after.unwrap_or_default();
        let mut reply = rate_limit_reply(wait);
        reply.headers = self.limit_headers(info);
        reply
            .headers
            .push(("retry-after", whole_seconds(wait).to_string()));
        reply
            .headers
            .push(("retry-after-ms", whole_millis(wait).to_string()));
        reply
    }

    /// Azure sends what is left, not the limit.
    fn limit_headers(&self, info: &LimitInfo) -> Vec<(&'static str, String)> {
        vec![("x-ratelimit-remaining-requests", info.remaining.to_string())]
    }
}

const SAFE: &str = r#"{"filtered":false,"severity":"safe"}"#;

/// What the filter found in the prompt: nothing.
fn prompt_filter_results() -> Value {
    json!([{"prompt_index": 0, "content_filter_results": safe_categories()}])
}

fn safe_categories() -> Value {
    let safe: Value = serde_json::from_str(SAFE).unwrap_or(Value::Null);
    json!({"hate": safe, "self_harm": safe, "sexual": safe, "violence": safe})
}

/// What the filter found in the completion: violence when it stopped it.
fn choice_filter(answer: &Answer) -> Value {
    let mut v = safe_categories();
    if matches!(
        answer,
        Answer::Text {
            ending: Ending::ContentFilter,
            ..
        }
    ) && let Some(slot) = v.get_mut("violence")
    {
        *slot = json!({"filtered": true, "severity": "medium"});
    }
    v
}

/// Azure's `{"error": {"code", "message"}}` body.
fn body(code: &str, message: &str) -> String {
    format!(
        "{{\"error\":{{\"code\":{},\"message\":{}}}}}",
        quote(code),
        quote(message)
    )
}

/// The reply to a URL Azure does not serve, a missing api-version among them.
pub fn resource_not_found() -> ErrorReply {
    ErrorReply::json(
        404,
        "{\"error\":{\"code\":\"404\",\"message\": \"Resource not found\"}}".into(),
    )
}

fn access_denied() -> ErrorReply {
    ErrorReply::json(
        401,
        body(
            "401",
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
        ),
    )
}

fn rate_limit_reply(wait: Duration) -> ErrorReply {
    ErrorReply::json(
        429,
        body(
            "429",
            &format!(
                "Requests to the ChatCompletions_Create Operation under Azure OpenAI API have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after {} seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.",
                whole_seconds(wait)
            ),
        ),
    )
}

const FILTER_MESSAGE: &str = "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766";

/// The content-filter 400: the prompt was refused (violence, medium).
fn content_filter(message: &str) -> ErrorReply {
    let mut categories = safe_categories();
    if let Some(slot) = categories.get_mut("violence") {
        *slot = json!({"filtered": true, "severity": "medium"});
    }
    let v = json!({"error": {
        "message": message,
        "type": null,
        "param": "prompt",
        "code": "content_filter",
        "status": 400,
        "innererror": {
            "code": "ResponsibleAIPolicyViolation",
            "content_filter_result": categories,
        },
    }});
    ErrorReply::json(400, pretty(&v, 2))
}

/// The HTTP error reply of a fault, in Azure's shape.
pub fn error(fault: &FaultSpec, model: &str) -> ErrorReply {
    let custom = fault.message.as_deref();
    let text = |default: &str| custom.unwrap_or(default).to_owned();
    match fault.fault {
        FaultKind::RateLimit => {
            let wait = retry_after(fault).unwrap_or(Duration::from_secs(1));
            let mut reply = rate_limit_reply(wait);
            if let Some(m) = custom {
                reply.body = body("429", m);
            }
            // Azure sends both; the server adds the one `retry_after_format` names.
            match fault.retry_after_format {
                None | Some(RetryAfterFormat::Seconds) => reply
                    .headers
                    .push(("retry-after-ms", whole_millis(wait).to_string())),
                Some(RetryAfterFormat::Ms) => reply
                    .headers
                    .push(("retry-after", seconds_text(wait).to_string())),
                Some(RetryAfterFormat::Date) => {}
            }
            reply
                .headers
                .push(("x-ratelimit-remaining-requests", "0".into()));
            reply
        }
        FaultKind::ContentFilter => content_filter(&text(FILTER_MESSAGE)),
        FaultKind::Overloaded | FaultKind::OverloadedInStream => ErrorReply::json(
            503,
            body(
                "ServiceUnavailable",
                &text(
                    "The service is temporarily unable to process your request. Please try again later.",
                ),
            ),
        ),
        FaultKind::Auth => {
            let mut e = access_denied();
            if let Some(m) = custom {
                e.body = body("401", m);
            }
            e
        }
        FaultKind::BadRequest => ErrorReply::json(
            400,
            body(
                "BadRequest",
                &text("Invalid request (a bad_request fault scripted in [sim])."),
            ),
        ),
        FaultKind::ContextLength => openai::error(fault, model),
        FaultKind::QuotaExhausted => ErrorReply::json(
            429,
            body(
                "insufficient_quota",
                &text(
                    "You exceeded your current quota, please check your plan and billing details.",
                ),
            ),
        ),
        FaultKind::Html => html_reply(),
        _ => ErrorReply::json(
            500,
            body(
                "InternalServerError",
                &text("The server had an error while processing your request. Sorry about that!"),
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::script::bare_fault;
    use axum::http::HeaderMap;

    fn meta() -> Meta {
        Meta {
            global: 7,
            created: 100,
            model: "gpt-4o-prod".into(),
            input_tokens: 5,
        }
    }

    fn incoming<'a>(
        path: &'a str,
        query: Option<&'a str>,
        headers: &'a HeaderMap,
        body: &'a [u8],
    ) -> Incoming<'a> {
        Incoming {
            path,
            query,
            headers,
            body,
        }
    }

    #[test]
    fn the_path_names_the_deployment_and_the_query_the_version() {
        assert_eq!(
            deployment("/openai/deployments/gpt-4o-prod/chat/completions"),
            Some("gpt-4o-prod")
        );
        for bad in [
            "/openai/deployments//chat/completions",
            "/openai/deployments/a/b/chat/completions",
            "/openai/deployments/a/completions",
        ] {
            assert_eq!(deployment(bad), None, "{bad}");
        }
        let mut h = HeaderMap::new();
        h.insert("api-key", "k".parse().unwrap());
        let path = "/openai/deployments/gpt-4o-prod/chat/completions";
        let body = br#"{"messages":[{"role":"user","content":"Who wrote it?"}],"stream":true}"#;
        let r = AZURE_OPENAI
            .parse(&incoming(path, Some("api-version=2024-10-21"), &h, body))
            .unwrap();
        assert_eq!((r.model.as_str(), r.stream), ("gpt-4o-prod", true));
        // A body naming another model still counts as the deployment's.
        let r = AZURE_OPENAI
            .parse(&incoming(
                path,
                Some("x=1&api-version=2024-10-21"),
                &h,
                br#"{"model":"gpt-4o","messages":[]}"#,
            ))
            .unwrap();
        assert_eq!(r.model, "gpt-4o-prod");
        for query in [None, Some("api-version="), Some("apiversion=1")] {
            let e = AZURE_OPENAI
                .parse(&incoming(path, query, &h, body))
                .unwrap_err();
            assert_eq!(e.status, 404);
            assert_eq!(
                e.body,
                r#"{"error":{"code":"404","message": "Resource not found"}}"#
            );
        }
        let e = AZURE_OPENAI
            .parse(&incoming(
                path,
                Some("api-version=1"),
                &HeaderMap::new(),
                body,
            ))
            .unwrap_err();
        assert_eq!(e.status, 401);
        assert!(
            e.body
                .starts_with(r#"{"error":{"code":"401","message":"Access denied"#)
        );
    }

    #[test]
    fn replies_carry_the_filter_results() {
        let b = AZURE_OPENAI.full_body(&meta(), &Answer::text("Patrick Rothfuss.", None));
        let v: Value = serde_json::from_str(&b).unwrap();
        assert_eq!(v["choices"][0]["message"]["content"], "Patrick Rothfuss.");
        assert_eq!(
            v["choices"][0]["content_filter_results"]["violence"]["filtered"],
            false
        );
        assert_eq!(
            v["prompt_filter_results"][0]["content_filter_results"]["hate"]["severity"],
            "safe"
        );
        assert!(v.get("service_tier").is_none());
        let filtered = Answer::text("a b c", None).ended_by(&FaultSpec {
            after_tokens: Some(1),
            ..bare_fault(FaultKind::ContentFilter)
        });
        let req = Request {
            model: "d".into(),
            stream: true,
            include_usage: true,
            offers_tools: false,
            max_tokens: None,
            input_tokens: 3,
        };
        let parts = AZURE_OPENAI.stream(&meta(), &filtered, &req);
        assert!(parts.head[0].starts_with("data: {\"choices\":[],\"created\":0,"));
        assert!(parts.head[0].contains("\"prompt_filter_results\":[{"));
        assert!(
            parts.tail[0].contains(
                "\"content_filter_results\":{\"hate\":{\"filtered\":false,\"severity\":\"safe\"},\"self_harm\":{\"filtered\":false,\"severity\":\"safe\"},\"sexual\":{\"filtered\":false,\"severity\":\"safe\"},\"violence\":{\"filtered\":true,\"severity\":\"medium\"}},\"delta\":{}"
            ),
            "{}",
            parts.tail[0]
        );
        assert!(parts.tail[0].contains("\"finish_reason\":\"content_filter\""));
        assert_eq!(parts.tail.last().unwrap(), "data: [DONE]\n\n");
    }

    #[test]
    fn faults_in_azures_shape() {
        let cf = bare_fault(FaultKind::ContentFilter);
        assert!(AZURE_OPENAI.refuses(&cf));
        assert!(!AZURE_OPENAI.refuses(&FaultSpec {
            after_tokens: Some(2),
            ..cf.clone()
        }));
        let e = AZURE_OPENAI.error(&cf, "d");
        assert_eq!(e.status, 400);
        let v: Value = serde_json::from_str(&e.body).unwrap();
        assert_eq!(v["error"]["code"], "content_filter");
        assert_eq!(
            v["error"]["innererror"]["code"],
            "ResponsibleAIPolicyViolation"
        );
        assert_eq!(
            v["error"]["innererror"]["content_filter_result"]["violence"],
            json!({"filtered": true, "severity": "medium"})
        );
        let rl = FaultSpec {
            retry_after: Some(crate::policy::Secs(2.5)),
            ..bare_fault(FaultKind::RateLimit)
        };
        let e = AZURE_OPENAI.error(&rl, "d");
        assert_eq!(e.status, 429);
        assert!(
            e.body.contains("Please retry after 3 seconds."),
            "{}",
            e.body
        );
        assert_eq!(e.headers[0], ("retry-after-ms", "2500".into()));
        let ms = FaultSpec {
            retry_after_format: Some(RetryAfterFormat::Ms),
            ..rl
        };
        assert_eq!(
            AZURE_OPENAI.error(&ms, "d").headers[0],
            ("retry-after", "2.5".into())
        );
        let e = AZURE_OPENAI.error(&bare_fault(FaultKind::Overloaded), "d");
        assert_eq!(e.status, 503);
        let e = AZURE_OPENAI.error(&bare_fault(FaultKind::ContextLength), "d");
        assert!(e.body.contains("context_length_exceeded"));
        assert_eq!(
            AZURE_OPENAI.request_id(&meta()),
            "00000007-5a1e-4d2c-8f3b-000000000007"
        );
    }
}
