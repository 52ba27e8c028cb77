//! `Secs`: a duration in seconds, written in scenarios as a number of seconds or as a string
//! with a unit ("250ms", "4s", "1.5m", "inf").

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// The message for `nan` where a duration goes (serde's own path read "must not be negative").
pub const NAN_DURATION: &str = "a duration is not a number (nan)";

/// Seconds as f64, the unit Tenacity computes in. May be infinite (no bound).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Secs(pub f64);

/// The longest wait retrylab sleeps: 30 days. Longer waits written in a scenario are refused
/// at load; a wait that only grows past it at run time (exponential at attempt 1000 with
/// `max = "inf"`, a server's Retry-After with `retry_after_max = "inf"`) is clamped to it, so
/// the run's clock never saturates (which `--speed max` would take for a stall).
pub const MAX_WAIT: Secs = Secs(MAX_WAIT_DAYS * 86_400.0);
/// [`MAX_WAIT`] in days, for messages.
pub const MAX_WAIT_DAYS: f64 = 30.0;

impl Secs {
    pub const INF: Secs = Secs(f64::INFINITY);
    pub const ZERO: Secs = Secs(0.0);

    /// True for a finite or infinite value beyond [`MAX_WAIT`].
    pub fn beyond_max_wait(self) -> bool {
        self.0 > MAX_WAIT.0
    }

    pub fn from_ms(ms: u64) -> Secs {
        Secs(ms as f64 / 1000.0)
    }

    /// Whole milliseconds, rounded; too long (or infinite) saturates, NaN and negatives are 0
    /// (as in [`Secs::as_duration`]).
    pub fn as_ms(self) -> u64 {
        if self.0.is_nan() {
            return 0;
        }
        // `as` saturates: infinity and anything past u64::MAX ms give u64::MAX.
        (self.0.max(0.0) * 1000.0).round() as u64
    }

    /// A std `Duration`; beyond what it holds (about 5.8e11 years, or infinite) it saturates
    /// at `Duration::MAX` instead of panicking; NaN and negatives are zero.
    pub fn as_duration(self) -> Duration {
        if self.0.is_nan() {
            return Duration::ZERO;
        }
        Duration::try_from_secs_f64(self.0.max(0.0)).unwrap_or(Duration::MAX)
    }

    /// "4 s", "250 ms", "1.5 s", "inf": for people.
    pub fn human(self) -> String {
        format_secs(self.0)
    }

    /// Parses "250ms", "4s", "4", "1.5m", "2h", "inf".
    pub fn parse(text: &str) -> Result<Secs, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("inf") || t.eq_ignore_ascii_case("infinity") {
            return Ok(Secs::INF);
        }
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: f64 = num
            .trim()
            .parse()
            .map_err(|_| format!("`{text}` is not a duration; write seconds (4, 0.25) or a string like \"250ms\", \"4s\", \"2m\""))?;
        let scale = match unit.trim() {
            "" | "s" | "sec" | "secs" => 1.0,
            "ms" => 0.001,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            other => {
                return Err(format!(
                    "unknown duration unit `{other}` in `{text}`; use ms, s, m or h"
                ));
            }
        };
        let v = n * scale;
        if v.is_nan() {
            return Err(format!("duration `{text}`: {NAN_DURATION}"));
        }
        if v < 0.0 {
            return Err(format!("duration `{text}` must not be negative"));
        }
        Ok(Secs(v))
    }
}

/// Formats seconds for people: "4 s", "250 ms", "1.5 s", "2 min 5 s", "inf".
pub fn format_secs(s: f64) -> String {
    if !s.is_finite() {
        return "inf".into();
    }
    if s < 1.0 && s > 0.0 {
        let ms = s * 1000.0;
        if (ms - ms.round()).abs() < 1e-9 {
            return format!("{} ms", ms.round() as u64);
        }
        return format!("{ms:.1} ms");
    }
    // Days from two on; past a million days the digits mean nothing: "1e300 s".
    if s >= 1e6 * 86_400.0 {
        return format!("{s:e} s");
    }
    if s >= 2.0 * 86_400.0 {
        let days = s / 86_400.0;
        let d = (days * 10.0).round() / 10.0;
        return if (d - d.round()).abs() < 1e-9 {
            format!("{} days", d.round() as u64)
        } else {
            format!("{d:.1} days")
        };
    }
    if s >= 120.0 {
        let m = (s / 60.0).floor();
        let rest = s - m * 60.0;
        return if rest.abs() < 1e-9 {
            format!("{m} min")
        } else {
            format!("{m} min {}", format_secs(rest))
        };
    }
    let r = (s * 1000.0).round() / 1000.0;
    if (r - r.round()).abs() < 1e-9 {
        format!("{} s", r.round() as u64)
    } else {
        format!("{} s", trim_float(r))
    }
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.human())
    }
}

impl Serialize for Secs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            s.serialize_f64(self.0)
        } else {
            s.serialize_str("inf")
        }
    }
}

impl<'de> Deserialize<'de> for Secs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Secs, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Secs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration: seconds as a number, or a string like \"250ms\" or \"4s\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Secs, E> {
                if v < 0 {
                    return Err(E::custom("a duration must not be negative"));
                }
                Ok(Secs(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Secs, E> {
                Ok(Secs(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Secs, E> {
                if v.is_nan() {
                    return Err(E::custom(NAN_DURATION));
                }
                if v < 0.0 {
                    return Err(E::custom("a duration must not be negative"));
                }
                Ok(Secs(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Secs, E> {
                Secs::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(Secs::parse("250ms").unwrap(), Secs(0.25));
        assert_eq!(Secs::parse("4s").unwrap(), Secs(4.0));
        assert_eq!(Secs::parse("4").unwrap(), Secs(4.0));
        assert_eq!(Secs::parse("1.5m").unwrap(), Secs(90.0));
        assert_eq!(Secs::parse("2h").unwrap(), Secs(7200.0));
        assert_eq!(Secs::parse("inf").unwrap(), Secs::INF);
        assert!(Secs::parse("4 parsecs").is_err());
        assert!(Secs::parse("-1s").is_err());
        assert!(Secs::parse("soon").is_err());
    }

    #[test]
    fn deserializes_numbers_and_strings() {
        #[derive(Deserialize)]
        struct T {
            a: Secs,
            b: Secs,
            c: Secs,
        }
        let t: T = toml::from_str("a = 4\nb = 0.5\nc = \"250ms\"").unwrap();
        assert_eq!((t.a, t.b, t.c), (Secs(4.0), Secs(0.5), Secs(0.25)));
        assert!(toml::from_str::<T>("a = -1\nb = 1\nc = 1").is_err());
    }

    #[test]
    fn formats_for_people() {
        assert_eq!(Secs(4.0).human(), "4 s");
        assert_eq!(Secs(0.25).human(), "250 ms");
        assert_eq!(Secs(1.5).human(), "1.5 s");
        assert_eq!(Secs(300.0).human(), "5 min");
        assert_eq!(MAX_WAIT.human(), "30 days");
        assert_eq!(Secs(2_097_152.0).human(), "24.3 days");
        assert_eq!(Secs(1e300).human(), "1e300 s");
        assert_eq!(Secs::INF.human(), "inf");
        assert_eq!(Secs(0.0).human(), "0 s");
        assert_eq!(Secs(4.0).as_ms(), 4000);
    }

    #[test]
    fn durations_beyond_what_duration_holds_saturate() {
        // A scenario may say `timeout = 1e30` or `wait = { fixed = 1e20 }`.
        assert_eq!(Secs(1e20).as_duration(), Duration::MAX);
        assert_eq!(Secs(1e300).as_duration(), Duration::MAX);
        assert_eq!(Secs::INF.as_duration(), Duration::MAX);
        assert_eq!(Secs(f64::NAN).as_duration(), Duration::ZERO);
        assert_eq!(Secs(-3.0).as_duration(), Duration::ZERO);
        assert_eq!(Secs(1e-300).as_duration(), Duration::ZERO);
        assert_eq!(Secs(1.5).as_duration(), Duration::from_millis(1500));
        assert_eq!(Secs(1e20).as_ms(), u64::MAX);
        assert_eq!(Secs(f64::NAN).as_ms(), 0);
    }
}
