//! The official SDKs' own retry loop (Stainless-generated openai-python and
//! anthropic-sdk-python, `_base_client.py`), which runs underneath every Tenacity attempt
//! (DESIGN §15). PURE: the time `now` (for an HTTP-date Retry-After) and the jitter's RNG
//! are passed in.
//!
//! Read from the sources of openai 1.109.1, openai 3.57.0, anthropic 0.125.0 and
//! anthropic 2.15.0 (`_should_retry`, `_calculate_retry_timeout`,
//! `_parse_retry_after_header`, `_constants.py`):
//!
//! - retry on a connection error or a timeout inside the SDK's send; on an error status
//!   when `x-should-retry` is `true`, never when it is `false`, else on 408, 409, 429 and
//!   >= 500 (openai 3.x first refuses any retry when the server asks for more than 120 s);
//! - the delay: the server's `retry-after-ms` (float ms), else `retry-after` (float
//!   seconds, else an HTTP date) when `0 < value <= cap` (openai 1.x and anthropic 0.x:
//!   60 s; openai 3.x: 120 s and finite; anthropic 2.x: any positive value, at most
//!   4,294,967 s); else `min(0.5 * 2^k, 8) * (1 - 0.25 u)`, k the retries already taken,
//!   u uniform in [0, 1);
//! - every request carries `x-stainless-retry-count: k`.

use crate::error::ErrorKind;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

/// The SDKs' `INITIAL_RETRY_DELAY` (seconds).
pub const INITIAL_RETRY_DELAY: f64 = 0.5;
/// The SDKs' `MAX_RETRY_DELAY` (seconds): the back-off's ceiling.
pub const MAX_RETRY_DELAY: f64 = 8.0;
/// The header each request names its retry number in (0 on the first request).
pub const RETRY_COUNT_HEADER: &str = "x-stainless-retry-count";
/// The SDKs' `DEFAULT_MAX_RETRIES`, which Mirascope leaves on.
pub const SDK_DEFAULT_MAX_RETRIES: u32 = 2;
/// openai 3.x's `MAX_RETRY_AFTER_DELAY` (seconds).
const OPENAI3_RETRY_AFTER_MAX: f64 = 120.0;
/// openai 1.x's and anthropic 0.x's bound on a honoured Retry-After (seconds).
const OLD_RETRY_AFTER_MAX: f64 = 60.0;
/// anthropic 2.x waits at most this long (`time.sleep`'s platform limit, in seconds).
const ANTHROPIC2_SLEEP_MAX: f64 = 4_294_967.0;

/// Whose loop a provider's official SDK runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdkFamily {
    OpenAi,
    Anthropic,
}

/// `[call] sdk_version`: which release of the SDK is emulated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SdkVersion {
    /// Today's releases: openai 3.x, anthropic 2.x.
    #[default]
    Latest,
    /// What Mirascope 1.25.7 resolves: openai 1.109, anthropic 0.125.
    MirascopePins,
}

impl SdkVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            SdkVersion::Latest => "latest",
            SdkVersion::MirascopePins => "mirascope-pins",
        }
    }
}

/// One row of DESIGN §15's table: an SDK release line and its Retry-After rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdkRow {
    OpenAi1,
    OpenAi3,
    Anthropic0,
    Anthropic2,
}

impl SdkRow {
    pub fn of(family: SdkFamily, version: SdkVersion) -> SdkRow {
        match (family, version) {
            (SdkFamily::OpenAi, SdkVersion::Latest) => SdkRow::OpenAi3,
            (SdkFamily::OpenAi, SdkVersion::MirascopePins) => SdkRow::OpenAi1,
            (SdkFamily::Anthropic, SdkVersion::Latest) => SdkRow::Anthropic2,
            (SdkFamily::Anthropic, SdkVersion::MirascopePins) => SdkRow::Anthropic0,
        }
    }

    /// The SDK release, for people.
    pub fn label(self) -> &'static str {
        match self {
            SdkRow::OpenAi1 => "openai 1.109",
            SdkRow::OpenAi3 => "openai 3.x",
            SdkRow::Anthropic0 => "anthropic 0.125",
            SdkRow::Anthropic2 => "anthropic 2.x",
        }
    }

    /// Its Retry-After rule, for people.
    pub fn cap_text(self) -> &'static str {
        match self {
            SdkRow::OpenAi1 | SdkRow::Anthropic0 => {
                "Retry-After honoured up to 60 s (longer: the back-off instead)"
            }
            SdkRow::OpenAi3 => "Retry-After honoured up to 120 s (longer: no retry at all)",
            SdkRow::Anthropic2 => "any positive Retry-After honoured",
        }
    }

    /// openai 3.x parses with an overflow guard (a number too big for a float reads as
    /// just over its cap, so it is refused rather than ignored).
    fn overflow_guard(self) -> bool {
        self == SdkRow::OpenAi3
    }
}

/// A failed request, as the SDK's loop sees it.
#[derive(Debug, Clone, Copy)]
pub enum Failed<'a> {
    /// An HTTP reply with an error status.
    Status {
        status: u16,
        headers: &'a [(String, String)],
    },
    /// No usable reply: a connection error or a timeout inside the SDK's send.
    Transport,
    /// What the SDK raises outside its loop: a stream that broke after its 200, a reply it
    /// cannot parse, a request it could not build.
    Outside,
}

impl<'a> Failed<'a> {
    /// Classifies a failed exchange: its reply status and headers (none when no reply came),
    /// the error's kind, and whether the reply was streamed (a stream's body is read after
    /// the SDK's loop has returned; a plain body is read inside its send).
    pub fn classify(
        status: Option<u16>,
        headers: &'a [(String, String)],
        kind: ErrorKind,
        stream: bool,
    ) -> Failed<'a> {
        let transport = matches!(kind, ErrorKind::Timeout | ErrorKind::Connection);
        match status {
            // httpx follows redirects for the SDK; retrylab refuses them: never retried.
            Some(s) if (300..400).contains(&s) => Failed::Outside,
            Some(s) if !(200..300).contains(&s) => Failed::Status { status: s, headers },
            Some(_) if transport && !stream => Failed::Transport,
            Some(_) => Failed::Outside,
            None if transport => Failed::Transport,
            None => Failed::Outside,
        }
    }
}

/// Where a delay came from (the `source` of an `sdk_retry` event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DelaySource {
    RetryAfterMs,
    RetryAfter,
    Backoff,
}

impl DelaySource {
    pub fn as_str(self) -> &'static str {
        match self {
            DelaySource::RetryAfterMs => "retry_after_ms",
            DelaySource::RetryAfter => "retry_after",
            DelaySource::Backoff => "backoff",
        }
    }
}

/// Whether the SDK retries, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub retry: bool,
    pub why: String,
}

/// The SDK's delay before its next request.
#[derive(Debug, Clone, PartialEq)]
pub struct SdkDelay {
    /// Seconds.
    pub secs: f64,
    pub source: DelaySource,
    /// `retry-after-ms 1500 (within openai 3.x's 120 s)`, `back-off min(0.5·2^1, 8)·(1 −
    /// 0.25·0.31) = 0.85 s`.
    pub text: String,
}

/// A header's value by case-insensitive name (httpx's `Headers.get`).
fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Python's `float(text)`: surrounding whitespace, a sign, `inf`/`infinity`/`nan` in any
/// case, and `_` between digits are accepted.
fn py_float(text: &str) -> Option<f64> {
    let t = text.trim();
    let b = t.as_bytes();
    let mut plain = String::with_capacity(t.len());
    for (i, &c) in b.iter().enumerate() {
        if c == b'_' {
            let digit = |j: Option<usize>| j.and_then(|j| b.get(j)).is_some_and(u8::is_ascii_digit);
            if !(digit(i.checked_sub(1)) && digit(Some(i + 1))) {
                return None;
            }
        } else {
            plain.push(c as char);
        }
    }
    plain.parse::<f64>().ok()
}

fn is_inf_literal(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "inf" | "+inf" | "infinity" | "+infinity"
    )
}

/// `_parse_retry_after_header`: seconds (may be negative, infinite or NaN, as Python's
/// float), and which header gave it.
pub fn parse_retry_after(
    row: SdkRow,
    headers: &[(String, String)],
    now: SystemTime,
) -> Option<(f64, DelaySource)> {
    for (name, divisor, source) in [
        ("retry-after-ms", 1000.0, DelaySource::RetryAfterMs),
        ("retry-after", 1.0, DelaySource::RetryAfter),
    ] {
        let Some(value) = header(headers, name) else {
            continue;
        };
        let Some(delay) = py_float(value) else {
            continue;
        };
        if row.overflow_guard() && delay == f64::INFINITY && !is_inf_literal(value) {
            return Some((OPENAI3_RETRY_AFTER_MAX + 1.0, source));
        }
        return Some((delay / divisor, source));
    }
    let value = header(headers, "retry-after")?;
    let at = httpdate::parse_http_date(value.trim()).ok()?;
    let secs = match at.duration_since(now) {
        Ok(ahead) => ahead.as_secs_f64(),
        Err(behind) => -behind.duration().as_secs_f64(),
    };
    Some((secs, DelaySource::RetryAfter))
}

/// `_should_retry` (an error status) or the send's exception handlers (a transport error).
pub fn should_retry(row: SdkRow, failed: &Failed<'_>, now: SystemTime) -> Verdict {
    let sdk = row.label();
    let (status, headers) = match *failed {
        Failed::Transport => {
            return Verdict {
                retry: true,
                why: format!("a connection error or timeout: {sdk} retries it"),
            };
        }
        Failed::Outside => {
            return Verdict {
                retry: false,
                why: format!("raised outside {sdk}'s retry loop (after the reply began)"),
            };
        }
        Failed::Status { status, headers } => (status, headers),
    };
    if row == SdkRow::OpenAi3
        && let Some((ra, _)) = parse_retry_after(row, headers, now)
        && ra.is_finite()
        && ra > OPENAI3_RETRY_AFTER_MAX
    {
        return Verdict {
            retry: false,
            why: format!("Retry-After {ra} s is over {sdk}'s 120 s: no retry at all"),
        };
    }
    match header(headers, "x-should-retry") {
        Some("true") => {
            return Verdict {
                retry: true,
                why: format!("x-should-retry: true: {sdk} obeys"),
            };
        }
        Some("false") => {
            return Verdict {
                retry: false,
                why: format!("x-should-retry: false: {sdk} obeys"),
            };
        }
        _ => {}
    }
    let retry = matches!(status, 408 | 409 | 429) || status >= 500;
    let why = if retry {
        format!("{status} is retried by {sdk} (408, 409, 429, >= 500)")
    } else {
        format!("{status} is not retried by {sdk} (only 408, 409, 429, >= 500)")
    };
    Verdict { retry, why }
}

/// Whether a parsed Retry-After sets the delay, and what it then is.
fn honoured(row: SdkRow, ra: f64) -> Option<f64> {
    match row {
        SdkRow::OpenAi1 | SdkRow::Anthropic0 => {
            (ra > 0.0 && ra <= OLD_RETRY_AFTER_MAX).then_some(ra)
        }
        SdkRow::OpenAi3 => {
            (ra.is_finite() && ra > 0.0 && ra <= OPENAI3_RETRY_AFTER_MAX).then_some(ra)
        }
        SdkRow::Anthropic2 => (ra > 0.0).then(|| ra.min(ANTHROPIC2_SLEEP_MAX)),
    }
}

/// The back-off alone: `min(0.5 * 2^k, 8) * (1 - 0.25 u)`, never negative.
pub fn backoff(retries_taken: u32, u: f64) -> f64 {
    let k = retries_taken.min(1000);
    let sleep = (INITIAL_RETRY_DELAY * 2f64.powi(k as i32)).min(MAX_RETRY_DELAY);
    (sleep * (1.0 - 0.25 * u)).max(0.0)
}

/// `_calculate_retry_timeout`: the delay before the next request, `retries_taken` retries
/// in (0 before the first retry); `headers` of the failed reply (none after a transport
/// error). One uniform draw is taken only when the back-off sets the delay (the SDK draws
/// only then too).
pub fn delay<R: Rng + ?Sized>(
    row: SdkRow,
    retries_taken: u32,
    headers: Option<&[(String, String)]>,
    now: SystemTime,
    rng: &mut R,
) -> SdkDelay {
    let parsed = headers.and_then(|h| parse_retry_after(row, h, now));
    if let Some((ra, source)) = parsed
        && let Some(secs) = honoured(row, ra)
    {
        let name = match source {
            DelaySource::RetryAfterMs => format!("retry-after-ms {}", trim_float(ra * 1000.0)),
            _ => format!("retry-after {} s", trim_float(ra)),
        };
        return SdkDelay {
            secs,
            source,
            text: format!("{name}, honoured by {} ({})", row.label(), row.cap_text()),
        };
    }
    let u: f64 = rng.random();
    let secs = backoff(retries_taken, u);
    let k = retries_taken.min(1000);
    let ignored = match parsed {
        Some((ra, _)) => format!(
            " (Retry-After {} s not honoured: {})",
            trim_float(ra),
            row.cap_text()
        ),
        None => String::new(),
    };
    SdkDelay {
        secs,
        source: DelaySource::Backoff,
        text: format!(
            "back-off min(0.5·2^{k}, 8)·(1 − 0.25·{u:.3}) = {:.3} s{ignored}",
            secs
        ),
    }
}

/// `1500`, `0.25`, `inf`: a float as short as it reads.
fn trim_float(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests;
