//! What to fix when a live call failed because of its setup (key, model, URL, proxy,
//! timeouts): the hint a `CallError` carries in its own field.

use crate::error::{CallError, ErrorKind};
use crate::scenario::types::ProviderKind;

/// What a hop's live call went to, for [`fix_hint`].
#[derive(Debug, Clone, Copy)]
pub struct LiveTarget<'a> {
    pub provider: ProviderKind,
    pub model: &'a str,
    pub base_url: &'a str,
    /// The variable the key came from, when the hop sends one.
    pub key_var: Option<&'a str>,
}

/// What to fix when a live call failed because of the setup (key, model, URL, proxy,
/// timeouts), or `None` when the error is the server's own (rate limits, outages).
pub fn fix_hint(e: &CallError, t: &LiveTarget<'_>) -> Option<String> {
    let msg = e.message.to_ascii_lowercase();
    let html = msg.contains("html body") || msg.contains("html page");
    let hint = match e.kind {
        ErrorKind::Auth => match t.key_var {
            Some(var) => format!(
                "the server refused the key: check {var} (or its entry under [keys] in config.toml) holds a valid key for {}",
                t.base_url
            ),
            None => format!(
                "{} wants a key: set api_key_env to the variable that holds it",
                t.base_url
            ),
        },
        ErrorKind::BadRequest if e.provider_type.as_deref() == Some("DeploymentNotFound") => {
            format!(
                "check model = \"{}\": it is the Azure deployment's name (not the model's), and the resource at {} has none of that name (a new deployment can take 5 minutes)",
                t.model, t.base_url
            )
        }
        ErrorKind::BadRequest if e.status == Some(404) && !html => {
            let named_model = e
                .provider_type
                .as_deref()
                .is_some_and(|p| p.contains("model") || p == "not_found_error")
                || msg.contains("model");
            if named_model {
                format!(
                    "check model = \"{}\": the server has no such model (or this key cannot use it)",
                    t.model
                )
            } else {
                format!(
                    "check base_url = \"{}\" and model = \"{}\" ({})",
                    t.base_url,
                    t.model,
                    crate::provider::wire::format(t.provider).base_url_rule()
                )
            }
        }
        _ if html => format!(
            "an HTML page answered instead of the API (a proxy, a captive portal, or a wrong base_url): check base_url = \"{}\" and any HTTPS_PROXY",
            t.base_url
        ),
        ErrorKind::Connection if e.status.is_none() && msg.contains("cannot connect") => {
            format!(
                "nothing answers at {}: check base_url, and that the server is running",
                t.base_url
            )
        }
        ErrorKind::StreamInterrupted if msg.contains("connection") || msg.contains("ended") => {
            "the connection closed mid-stream (often a proxy or load balancer): add stream_interrupted to retry_on, or raise the proxy's timeouts".to_string()
        }
        ErrorKind::Timeout => match e.timeout.as_deref() {
            Some(which) => format!(
                "raise {} in [call] if the server is just slow",
                if which == "total" {
                    "timeout".to_string()
                } else {
                    format!("{which}_timeout")
                }
            ),
            None => return None,
        },
        _ => return None,
    };
    Some(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_say_what_to_fix() {
        let t = LiveTarget {
            provider: ProviderKind::Openai,
            model: "gpt-4o-mini",
            base_url: "https://api.openai.com/v1",
            key_var: Some("OPENAI_API_KEY"),
        };
        let auth = CallError::new(ErrorKind::Auth, "Incorrect API key provided").with_status(401);
        assert!(
            fix_hint(&auth, &t)
                .unwrap()
                .contains("check OPENAI_API_KEY")
        );
        let model = CallError::new(
            ErrorKind::BadRequest,
            "The model `gpt-9` does not exist or you do not have access to it.",
        )
        .with_status(404)
        .with_provider_type("model_not_found");
        assert!(
            fix_hint(&model, &t)
                .unwrap()
                .starts_with("check model = \"gpt-4o-mini\"")
        );
        let path = CallError::new(ErrorKind::BadRequest, "HTTP 404: Not Found").with_status(404);
        assert!(fix_hint(&path, &t).unwrap().contains("ends in /v1"));
        let refused = CallError::new(
            ErrorKind::Connection,
            "cannot connect to 127.0.0.1:9: Connection refused (os error 111)",
        );
        assert!(fix_hint(&refused, &t).unwrap().contains("check base_url"));
        let html = CallError::new(
            ErrorKind::ServerError,
            "HTTP 502 with an HTML body (a proxy error page?): 502 Bad Gateway",
        )
        .with_status(502);
        assert!(fix_hint(&html, &t).unwrap().contains("HTTPS_PROXY"));
        let rl = CallError::new(ErrorKind::RateLimit, "slow down").with_status(429);
        assert_eq!(fix_hint(&rl, &t), None);
        let mut idle = CallError::new(ErrorKind::Timeout, "idle timeout (200ms)");
        idle.timeout = Some("idle".into());
        assert!(fix_hint(&idle, &t).unwrap().contains("raise idle_timeout"));
        let azure = LiveTarget {
            provider: ProviderKind::AzureOpenai,
            model: "gpt-4o-prod",
            base_url: "https://res.openai.azure.com?api-version=2024-10-21",
            key_var: Some("AZURE_OPENAI_API_KEY"),
        };
        let missing = CallError::new(
            ErrorKind::BadRequest,
            "The API deployment for this resource does not exist.",
        )
        .with_status(404)
        .with_provider_type("DeploymentNotFound");
        assert!(
            fix_hint(&missing, &azure)
                .unwrap()
                .starts_with("check model = \"gpt-4o-prod\": it is the Azure deployment's name")
        );
        let bare = CallError::new(ErrorKind::BadRequest, "Resource not found").with_status(404);
        assert!(
            fix_hint(&bare, &azure)
                .unwrap()
                .contains("?api-version=<api_version>")
        );
        let open = LiveTarget { key_var: None, ..t };
        assert!(fix_hint(&auth, &open).unwrap().contains("set api_key_env"));
    }
}
