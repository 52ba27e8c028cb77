//! `retrylab sim`: the simulator standalone, for any other client (curl, the official SDKs).

use crate::clock::{Clock, Speed};
use crate::scenario::types::{ProviderKind, SimSpec};
use crate::sim::{Logger, RequestLog, SimServer};
use anyhow::Context;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

/// `--addr`: `HOST:PORT` with an IP or `localhost` (loopback), or a bare `PORT` (on
/// 127.0.0.1, where the simulator belongs).
pub fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    match text.rsplit_once(':') {
        Some((host, port)) if host.eq_ignore_ascii_case("localhost") => port
            .parse::<u16>()
            .map(|p| SocketAddr::from(([127, 0, 0, 1], p)))
            .map_err(|_| format!("`{port}` is not a port (0-65535)")),
        _ => Err(format!(
            "`{text}` is not an address: write 127.0.0.1:8787, localhost:8787 or a bare port such as 8787"
        )),
    }
}

/// Serves `spec` on `addr` in real time until Ctrl+C; unless `quiet`, one line per request
/// on stderr (see [`log_line`]).
pub async fn serve(
    addr: SocketAddr,
    spec: SimSpec,
    scenario_label: &str,
    quiet: bool,
) -> anyhow::Result<()> {
    let summary = summary(&spec);
    let log: Option<Logger> = (!quiet).then(|| {
        Arc::new(|r: &RequestLog| {
            // A closed stderr must not stop the server.
            let _ = writeln!(std::io::stderr(), "{}", log_line(r));
        }) as Logger
    });
    let server = SimServer::start_logged(addr, spec, Clock::real(Speed::Times(1.0)), log)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    println!("retrylab simulator listening on {}", server.addr());
    for f in crate::provider::wire::FORMATS {
        let (name, url) = (f.display_name(), server.base_url(f.provider()));
        println!("  {name:<18}base URL: {url}");
    }
    println!("  script ({scenario_label}): {summary}");
    println!("  any API key is accepted; Ctrl+C stops");
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl+C")?;
    let total = server.total_requests();
    println!(
        "stopped after {total} request{}",
        if total == 1 { "" } else { "s" }
    );
    Ok(())
}

/// One line describing the script: replies, tool calls, faults, chaos and pacing.
pub fn summary(spec: &SimSpec) -> String {
    let mut parts = Vec::new();
    if !spec.replies.is_empty() {
        parts.push(format!("{} scripted replies", spec.replies.len()));
    } else if let Some(reply) = &spec.reply {
        parts.push(format!("reply {:?}", clip(reply, 40)));
    } else {
        parts.push("default reply".to_string());
    }
    if !spec.tool_calls.is_empty() {
        let names: Vec<&str> = spec.tool_calls.iter().map(|c| c.name.as_str()).collect();
        parts.push(format!("tool calls [{}]", names.join(", ")));
    }
    if !spec.faults.is_empty() {
        let faults: Vec<String> = spec
            .faults
            .iter()
            .map(|f| {
                let name = serde_json::to_value(f.fault)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                let target: Vec<&str> = [f.provider.map(ProviderKind::as_str), f.model.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect();
                let mut text = name;
                if !target.is_empty() {
                    text.push_str(&format!("[{}]", target.join("/")));
                }
                if let Some(list) = &f.on_requests {
                    text.push_str(&format!("@{list:?}"));
                }
                if let Some(t) = f.times {
                    text.push_str(&format!("×{t}"));
                }
                text
            })
            .collect();
        parts.push(format!("faults [{}]", faults.join(", ")));
    }
    if !spec.chaos.is_empty() {
        let chaos: Vec<String> = spec
            .chaos
            .iter()
            .map(|(k, p)| {
                let name = serde_json::to_value(k)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                format!("{name} {p}")
            })
            .collect();
        parts.push(format!("chaos [{}] seed {}", chaos.join(", "), spec.seed));
    }
    if !spec.outages.is_empty() {
        let list: Vec<String> = spec
            .outages
            .iter()
            .map(|o| {
                let target = match &o.model {
                    Some(m) => format!("{}/{m}", o.provider),
                    None => o.provider.to_string(),
                };
                format!(
                    "{} {target} [{}, {})",
                    fault_name(o.fault),
                    o.from.human(),
                    o.to.human()
                )
            })
            .collect();
        parts.push(format!("outages [{}]", list.join(", ")));
    }
    if !spec.limits.is_empty() {
        let list: Vec<String> = spec
            .limits
            .iter()
            .map(|l| {
                format!(
                    "{}/{} {} rpm burst {}",
                    l.provider,
                    l.model,
                    l.rpm,
                    l.burst.unwrap_or(l.rpm)
                )
            })
            .collect();
        parts.push(format!("limits [{}]", list.join(", ")));
    }
    let drawn = spec.latency.as_ref();
    let tps = if drawn.is_some_and(|l| l.tokens_per_second.is_some()) {
        "drawn tok/s".to_string()
    } else {
        format!("{} tok/s", spec.tokens_per_second)
    };
    let first = if drawn.is_some_and(|l| l.first_token.is_some()) {
        format!("drawn first token (seed {})", spec.seed)
    } else {
        format!("first token {} ms", spec.first_token_ms)
    };
    parts.push(format!("{tps}, {first}"));
    parts.join("; ")
}

/// One request as `retrylab sim` logs it: the time since the server started, provider,
/// model, the request's number for that model, and the fault with where it came from, or
/// `ok`: `  12.345s  openai  gpt-4o-mini  #3  rate_limit (limit)`.
pub fn log_line(r: &RequestLog) -> String {
    let what = match (r.fault, r.source) {
        (Some(f), Some(src)) => format!("{} ({})", fault_name(f), src.as_str()),
        (Some(f), None) => fault_name(f),
        (None, _) => "ok".to_string(),
    };
    let sdk = match r.sdk_retry {
        Some(k) if k > 0 => format!("  (sdk retry {k})"),
        _ => String::new(),
    };
    format!(
        "{:>9.3}s  {}  {}  #{}  {what}{sdk}",
        r.at.as_secs_f64(),
        r.provider,
        // The model is whatever the client sent: one printable line, clipped.
        clip(
            &crate::provider::classify::printable(&r.model).replace(['\n', '\t'], " "),
            80
        ),
        r.number
    )
}

fn fault_name(f: crate::scenario::types::FaultKind) -> String {
    serde_json::to_value(f)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::types::{FaultKind, FaultSpec};
    use crate::sim::script::bare_fault;

    #[test]
    fn a_log_line_names_time_provider_model_and_fault() {
        use crate::sim::script::Source;
        let mut r = RequestLog {
            at: std::time::Duration::from_millis(12_345),
            provider: ProviderKind::Openai,
            model: "gpt-4o-mini".into(),
            number: 3,
            fault: Some(FaultKind::RateLimit),
            source: Some(Source::Limit),
            sdk_retry: None,
        };
        assert_eq!(
            log_line(&r),
            "   12.345s  openai  gpt-4o-mini  #3  rate_limit (limit)"
        );
        r.sdk_retry = Some(2);
        assert_eq!(
            log_line(&r),
            "   12.345s  openai  gpt-4o-mini  #3  rate_limit (limit)  (sdk retry 2)"
        );
        r.sdk_retry = None;
        r.fault = None;
        r.source = None;
        r.model = "evil\u{1b}[2J\nmodel".into();
        assert_eq!(
            log_line(&r),
            "   12.345s  openai  evil\u{fffd}[2J model  #3  ok"
        );
    }

    #[test]
    fn summary_names_every_part_of_the_script() {
        let spec = SimSpec {
            reply: Some("42.".into()),
            faults: vec![
                FaultSpec {
                    times: Some(3),
                    ..bare_fault(FaultKind::RateLimit)
                },
                FaultSpec {
                    provider: Some(ProviderKind::Openai),
                    model: Some("gpt".into()),
                    on_requests: Some(vec![1, 3]),
                    ..bare_fault(FaultKind::Html)
                },
            ],
            chaos: [(FaultKind::ServerError, 0.05)].into(),
            seed: 7,
            ..SimSpec::default()
        };
        assert_eq!(
            summary(&spec),
            "reply \"42.\"; faults [rate_limit×3, html[openai/gpt]@[1, 3]]; chaos [server_error 0.05] seed 7; 40 tok/s, first token 200 ms"
        );
    }
}

#[cfg(test)]
mod addr_tests {
    use super::parse_addr;

    #[test]
    fn addr_takes_ip_port_localhost_port_or_a_bare_port() {
        let ok = [
            ("127.0.0.1:8787", "127.0.0.1:8787"),
            ("localhost:9000", "127.0.0.1:9000"),
            ("LOCALHOST:0", "127.0.0.1:0"),
            ("8787", "127.0.0.1:8787"),
            (" 8787 ", "127.0.0.1:8787"),
            ("[::1]:8080", "[::1]:8080"),
            ("0.0.0.0:80", "0.0.0.0:80"),
        ];
        for (text, want) in ok {
            assert_eq!(parse_addr(text).unwrap().to_string(), want, "{text}");
        }
        for bad in [
            "localhost",
            "localhost:99999",
            "example.com:80",
            "",
            "65536",
            "1.2.3.4",
        ] {
            let e = parse_addr(bad).unwrap_err();
            assert!(e.contains("not a"), "{bad}: {e}");
        }
    }
}
