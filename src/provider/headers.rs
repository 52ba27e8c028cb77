//! What a reply's headers say, in every wire format: a header by name, the request id,
//! and how long the server asks to wait (`retry-after-ms`, `retry-after`).

use std::time::{Duration, SystemTime};

/// A header's value, by case-insensitive name.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The request id: `x-request-id` (OpenAI) or `request-id` (Anthropic).
pub fn request_id(headers: &[(String, String)]) -> Option<String> {
    header(headers, "x-request-id")
        .or_else(|| header(headers, "request-id"))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// How long the server asks to wait: `retry-after-ms` (float milliseconds), else
/// `retry-after` (float seconds, or an HTTP date measured from `now`). Rounded up, so a
/// retry never comes early; a date in the past gives 0.
pub fn retry_after_ms_at(headers: &[(String, String)], now: SystemTime) -> Option<u64> {
    if let Some(ms) = header(headers, "retry-after-ms").and_then(parse_non_negative) {
        return Some(ms.ceil() as u64);
    }
    let v = header(headers, "retry-after")?.trim();
    if let Some(secs) = parse_non_negative(v) {
        return Some((secs * 1000.0).ceil() as u64);
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .as_millis()
            .try_into()
            .unwrap_or(u64::MAX),
    )
}

#[cfg(test)]
/// [`retry_after_ms_at`] measured from the wall clock.
pub fn retry_after_ms(headers: &[(String, String)]) -> Option<u64> {
    retry_after_ms_at(headers, SystemTime::now())
}

fn parse_non_negative(s: &str) -> Option<f64> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn retry_after_forms() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        let ra = |pairs: &[(&str, &str)]| retry_after_ms_at(&h(pairs), now);
        assert_eq!(ra(&[("retry-after-ms", "1500")]), Some(1500));
        assert_eq!(ra(&[("retry-after-ms", "20.2")]), Some(21));
        assert_eq!(ra(&[("Retry-After", "2")]), Some(2000));
        assert_eq!(ra(&[("retry-after", "0.25")]), Some(250));
        assert_eq!(ra(&[("retry-after", " 7 ")]), Some(7000));
        assert_eq!(
            ra(&[("retry-after", "Wed, 21 Oct 2015 07:28:30 GMT")]),
            Some(30_000)
        );
        assert_eq!(
            ra(&[("retry-after", "Wed, 21 Oct 2015 07:27:00 GMT")]),
            Some(0)
        );
        // The obsolete RFC 850 and asctime date forms are valid too.
        assert_eq!(
            ra(&[("retry-after", "Wednesday, 21-Oct-15 07:28:05 GMT")]),
            Some(5000)
        );
        assert_eq!(
            ra(&[("retry-after", "Wed Oct 21 07:28:10 2015")]),
            Some(10_000)
        );
        // `retry-after-ms` wins over `retry-after`.
        assert_eq!(
            ra(&[("retry-after", "10"), ("retry-after-ms", "250")]),
            Some(250)
        );
        // Garbage falls through to the next form, then to nothing.
        assert_eq!(
            ra(&[("retry-after-ms", "soon"), ("retry-after", "3")]),
            Some(3000)
        );
        assert_eq!(ra(&[("retry-after", "-1")]), None);
        assert_eq!(ra(&[("retry-after", "tomorrow")]), None);
        assert_eq!(ra(&[]), None);
    }
}
