//! Azure OpenAI's keys: `api_version` is required on an `azure-openai` call or hop (the
//! service answers 404 without one) and means nothing elsewhere; `model` is the deployment
//! name, which goes into the URL's path.

use super::checks::{Problem, at};
use super::locate::KeyPath;
use crate::scenario::types::{ProviderKind, Scenario};

const VERSION_HINT: &str = "add api_version = \"2024-10-21\" (Azure's dated API version, as the SDK's api_version / OPENAI_API_VERSION)";

/// Every table's Azure keys, in file order.
pub(super) fn check(s: &Scenario) -> Result<(), Problem> {
    let call = KeyPath::new().key("call");
    table(
        s.call.provider,
        &s.call.model,
        s.call.api_version.as_deref(),
        &call,
    )?;
    if let Some(fb) = &s.fallback {
        for (i, hop) in fb.hops.iter().enumerate() {
            let path = KeyPath::new().key("fallback").key("hops").index(i);
            table(hop.provider, &hop.model, hop.api_version.as_deref(), &path)?;
        }
    }
    Ok(())
}

fn table(
    provider: ProviderKind,
    model: &str,
    api_version: Option<&str>,
    path: &KeyPath,
) -> Result<(), Problem> {
    if provider != ProviderKind::AzureOpenai {
        return match api_version {
            Some(_) => Err(at(
                path.clone().key("api_version"),
                format!("`api_version` is for provider = \"azure-openai\" only, not `{provider}`"),
                "remove api_version, or set provider = \"azure-openai\"",
            )),
            None => Ok(()),
        };
    }
    let Some(v) = api_version else {
        return Err(at(
            path.clone().key("api_version"),
            format!("provider `azure-openai` needs `api_version` in `{path}`"),
            VERSION_HINT,
        ));
    };
    if !is_api_version(v.trim()) {
        return Err(at(
            path.clone().key("api_version"),
            format!(
                "`api_version` is not an Azure API version: `{}`",
                v.escape_debug()
            ),
            "write a dated version, e.g. api_version = \"2024-10-21\" or \"2025-04-01-preview\"",
        ));
    }
    let name = model.trim();
    if !name.is_empty() && !is_deployment(name) {
        return Err(at(
            path.clone().key("model"),
            format!(
                "`model` is the Azure deployment's name, and `{}` cannot be one",
                name.escape_debug()
            ),
            "a deployment name is 2-64 letters, digits, '-', '_' and '.' (as shown under Deployments in the Azure portal)",
        ));
    }
    Ok(())
}

/// `YYYY-MM-DD`, optionally `-preview`: every version the service has published.
fn is_api_version(v: &str) -> bool {
    let date = v.strip_suffix("-preview").unwrap_or(v);
    let b = date.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// Azure's rule for deployment names.
fn is_deployment(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_deployment_names() {
        for ok in ["2024-10-21", "2025-04-01-preview", "2023-05-15"] {
            assert!(is_api_version(ok), "{ok}");
        }
        for bad in [
            "",
            "2024-10",
            "v1",
            "2024/10/21",
            "2024-10-21-beta",
            "latest",
        ] {
            assert!(!is_api_version(bad), "{bad}");
        }
        for ok in ["gpt-4o", "my_deploy.v2", "ab"] {
            assert!(is_deployment(ok), "{ok}");
        }
        for bad in ["a", "a/b", "gpt 4o", "x?y", &"d".repeat(65)] {
            assert!(!is_deployment(bad), "{bad}");
        }
    }
}
