//! `attempt_started` carries the exact request: its body, its URL and its headers, every
//! credential `[redacted]` (issue 9).

use crate::support::run::{run_sim, scenario};
use retrylab::event::{AttemptStarted, Event};

#[tokio::test]
async fn the_request_names_its_url_and_headers_with_credentials_redacted() {
    let (_, events) = run_sim(scenario(
        r#"
name = "req"
[prompt]
template = "Q"
[call]
provider = "anthropic"
model = "claude-3-5-haiku-latest"
temperature = 0.5
headers = { x-team = "lab" }
"#,
    ))
    .await;
    let started = events
        .iter()
        .find_map(|e| match &e.event {
            Event::AttemptStarted(a) => Some(a.clone()),
            _ => None,
        })
        .expect("an attempt");
    let AttemptStarted {
        url,
        headers,
        request,
        ..
    } = started;
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(url.ends_with("/v1/messages"), "{url}");
    let names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    assert!(names.contains(&"content-type"), "{headers:?}");
    assert!(names.contains(&"anthropic-version"), "{headers:?}");
    for (k, v) in &headers {
        if k == "x-api-key" || k == "x-team" {
            assert_eq!(v, "[redacted]", "{k}");
        }
    }
    assert_eq!(request["temperature"], 0.5);
}
