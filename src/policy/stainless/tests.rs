//! Every rule of the four SDK rows, against values computed by hand from their sources.

use super::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

const ROWS: [SdkRow; 4] = [
    SdkRow::OpenAi1,
    SdkRow::OpenAi3,
    SdkRow::Anthropic0,
    SdkRow::Anthropic2,
];

fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

fn now() -> SystemTime {
    httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap()
}

fn rng() -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(3)
}

fn retries(row: SdkRow, status: u16, pairs: &[(&str, &str)]) -> bool {
    let headers = h(pairs);
    should_retry(
        row,
        &Failed::Status {
            status,
            headers: &headers,
        },
        now(),
    )
    .retry
}

/// The delay in ms (rounded to 0.001 ms) and its source.
fn delay_of(row: SdkRow, k: u32, pairs: &[(&str, &str)]) -> (f64, DelaySource) {
    let headers = h(pairs);
    let d = delay(row, k, Some(&headers), now(), &mut rng());
    ((d.secs * 1e6).round() / 1e3, d.source)
}

#[test]
fn rows_follow_family_and_version() {
    use SdkFamily::*;
    use SdkVersion::*;
    assert_eq!(SdkRow::of(OpenAi, Latest), SdkRow::OpenAi3);
    assert_eq!(SdkRow::of(OpenAi, MirascopePins), SdkRow::OpenAi1);
    assert_eq!(SdkRow::of(Anthropic, Latest), SdkRow::Anthropic2);
    assert_eq!(SdkRow::of(Anthropic, MirascopePins), SdkRow::Anthropic0);
    assert_eq!(SdkVersion::default(), Latest);
}

#[test]
fn statuses_retried_are_408_409_429_and_5xx_in_every_row() {
    let cases = [
        (400, false),
        (401, false),
        (403, false),
        (404, false),
        (407, false),
        (408, true),
        (409, true),
        (410, false),
        (422, false),
        (428, false),
        (429, true),
        (499, false),
        (500, true),
        (502, true),
        (503, true),
        (504, true),
        (529, true),
        (599, true),
    ];
    for row in ROWS {
        for (status, want) in cases {
            assert_eq!(retries(row, status, &[]), want, "{row:?} {status}");
        }
    }
}

#[test]
fn x_should_retry_decides_first_and_only_as_exact_lower_case_words() {
    for row in ROWS {
        assert!(retries(row, 400, &[("x-should-retry", "true")]), "{row:?}");
        assert!(retries(row, 401, &[("X-Should-Retry", "true")]), "{row:?}");
        assert!(
            !retries(row, 500, &[("x-should-retry", "false")]),
            "{row:?}"
        );
        assert!(
            !retries(row, 429, &[("x-should-retry", "false")]),
            "{row:?}"
        );
        // Python compares the string: any other spelling falls through to the status.
        assert!(retries(row, 500, &[("x-should-retry", "False")]), "{row:?}");
        assert!(!retries(row, 400, &[("x-should-retry", "TRUE")]), "{row:?}");
        assert!(!retries(row, 400, &[("x-should-retry", "1")]), "{row:?}");
    }
}

#[test]
fn openai_3_refuses_any_retry_beyond_120_s_of_retry_after_even_with_x_should_retry() {
    let over = [("retry-after", "121")];
    assert!(!retries(SdkRow::OpenAi3, 429, &over));
    assert!(!retries(
        SdkRow::OpenAi3,
        429,
        &[("retry-after", "121"), ("x-should-retry", "true")]
    ));
    assert!(!retries(
        SdkRow::OpenAi3,
        503,
        &[("retry-after-ms", "120001")]
    ));
    assert!(retries(SdkRow::OpenAi3, 429, &[("retry-after", "120")]));
    // A number too big for a float is taken as just over the cap: refused.
    assert!(!retries(SdkRow::OpenAi3, 429, &[("retry-after", "1e400")]));
    // The literal `inf` is not finite: not refused (its delay is the back-off).
    assert!(retries(SdkRow::OpenAi3, 429, &[("retry-after", "inf")]));
    // The other rows retry whatever the Retry-After.
    for row in [SdkRow::OpenAi1, SdkRow::Anthropic0, SdkRow::Anthropic2] {
        assert!(retries(row, 429, &over), "{row:?}");
        assert!(retries(row, 429, &[("retry-after", "1e400")]), "{row:?}");
    }
}

#[test]
fn transport_errors_are_retried_and_what_happens_outside_the_loop_is_not() {
    for row in ROWS {
        assert!(
            should_retry(row, &Failed::Transport, now()).retry,
            "{row:?}"
        );
        assert!(!should_retry(row, &Failed::Outside, now()).retry, "{row:?}");
    }
}

#[test]
fn failures_are_classified_as_the_sdk_meets_them() {
    use ErrorKind::*;
    let none: &[(String, String)] = &[];
    let kind = |status, k, stream| match Failed::classify(status, none, k, stream) {
        Failed::Status { status, .. } => format!("status {status}"),
        Failed::Transport => "transport".into(),
        Failed::Outside => "outside".into(),
    };
    assert_eq!(kind(Some(429), RateLimit, false), "status 429");
    assert_eq!(kind(Some(500), ServerError, true), "status 500");
    assert_eq!(kind(Some(408), Timeout, false), "status 408");
    assert_eq!(kind(None, Timeout, true), "transport");
    assert_eq!(kind(None, Connection, false), "transport");
    // A plain body is read inside the SDK's send: a break while reading it is retried...
    assert_eq!(kind(Some(200), Timeout, false), "transport");
    assert_eq!(kind(Some(200), Connection, false), "transport");
    // ...a stream is read after the loop returned.
    assert_eq!(kind(Some(200), Timeout, true), "outside");
    assert_eq!(kind(Some(200), StreamInterrupted, true), "outside");
    assert_eq!(kind(Some(200), Overloaded, true), "outside");
    assert_eq!(kind(Some(200), ServerError, false), "outside");
    assert_eq!(kind(Some(302), Redirect, false), "outside");
    assert_eq!(kind(None, BadRequest, false), "outside");
}

#[test]
fn retry_after_forms_parse_as_python_reads_them() {
    let p = |row, pairs: &[(&str, &str)]| parse_retry_after(row, &h(pairs), now());
    for row in ROWS {
        assert_eq!(
            p(row, &[("retry-after-ms", "1500")]),
            Some((1.5, DelaySource::RetryAfterMs))
        );
        assert_eq!(
            p(row, &[("Retry-After", " 2 ")]),
            Some((2.0, DelaySource::RetryAfter))
        );
        assert_eq!(
            p(row, &[("retry-after", "0.25")]),
            Some((0.25, DelaySource::RetryAfter))
        );
        assert_eq!(
            p(row, &[("retry-after", "1_0")]),
            Some((10.0, DelaySource::RetryAfter))
        );
        // ms wins over seconds; garbage in ms falls through to seconds, then to a date.
        assert_eq!(
            p(row, &[("retry-after", "10"), ("retry-after-ms", "250")]),
            Some((0.25, DelaySource::RetryAfterMs))
        );
        assert_eq!(
            p(row, &[("retry-after-ms", "soon"), ("retry-after", "3")]),
            Some((3.0, DelaySource::RetryAfter))
        );
        assert_eq!(
            p(row, &[("retry-after", "Wed, 21 Oct 2015 07:28:30 GMT")]),
            Some((30.0, DelaySource::RetryAfter))
        );
        assert_eq!(
            p(row, &[("retry-after", "Wed, 21 Oct 2015 07:27:00 GMT")]),
            Some((-60.0, DelaySource::RetryAfter))
        );
        assert_eq!(
            p(row, &[("retry-after", "-1")]),
            Some((-1.0, DelaySource::RetryAfter))
        );
        assert_eq!(p(row, &[("retry-after", "_1")]), None);
        assert_eq!(p(row, &[("retry-after", "1__0")]), None);
        assert_eq!(p(row, &[("retry-after", "tomorrow")]), None);
        assert_eq!(p(row, &[]), None);
        assert!(p(row, &[("retry-after", "nan")]).unwrap().0.is_nan());
        assert_eq!(p(row, &[("retry-after", "INF")]).unwrap().0, f64::INFINITY);
    }
    // Overflow: openai 3.x reads it as 121 s, the others as infinity.
    assert_eq!(
        p(SdkRow::OpenAi3, &[("retry-after", "1e400")]),
        Some((121.0, DelaySource::RetryAfter))
    );
    assert_eq!(
        p(SdkRow::OpenAi1, &[("retry-after", "1e400")]).unwrap().0,
        f64::INFINITY
    );
}

#[test]
fn a_retry_after_within_the_rows_cap_is_the_delay() {
    let ms = DelaySource::RetryAfterMs;
    let s = DelaySource::RetryAfter;
    for row in ROWS {
        assert_eq!(
            delay_of(row, 0, &[("retry-after-ms", "1500")]),
            (1500.0, ms)
        );
        assert_eq!(delay_of(row, 2, &[("retry-after", "2")]), (2000.0, s));
        assert_eq!(delay_of(row, 0, &[("retry-after", "60")]), (60_000.0, s));
        assert_eq!(
            delay_of(row, 0, &[("retry-after", "Wed, 21 Oct 2015 07:28:30 GMT")]),
            (30_000.0, s)
        );
    }
    // Past 60 s: the old rows back off; openai 3.x honours up to 120 s; anthropic 2.x all.
    let just_over = [("retry-after", "60.5")];
    assert_eq!(
        delay_of(SdkRow::OpenAi1, 0, &just_over).1,
        DelaySource::Backoff
    );
    assert_eq!(
        delay_of(SdkRow::Anthropic0, 0, &just_over).1,
        DelaySource::Backoff
    );
    assert_eq!(delay_of(SdkRow::OpenAi3, 0, &just_over), (60_500.0, s));
    assert_eq!(
        delay_of(SdkRow::OpenAi3, 0, &[("retry-after", "120")]),
        (120_000.0, s)
    );
    assert_eq!(
        delay_of(SdkRow::OpenAi3, 0, &[("retry-after", "121")]).1,
        DelaySource::Backoff
    );
    assert_eq!(delay_of(SdkRow::Anthropic2, 0, &just_over), (60_500.0, s));
    assert_eq!(
        delay_of(SdkRow::Anthropic2, 0, &[("retry-after", "86400")]),
        (86_400_000.0, s)
    );
    // anthropic 2.x sleeps at most 4,294,967 s, infinity included.
    for big in ["1e9", "inf", "1e400"] {
        assert_eq!(
            delay_of(SdkRow::Anthropic2, 0, &[("retry-after", big)]),
            (4_294_967_000.0, s),
            "{big}"
        );
    }
}

#[test]
fn zero_negative_nan_infinite_or_past_retry_after_falls_back_to_the_back_off() {
    for row in ROWS {
        for value in ["0", "-1", "nan", "Wed, 21 Oct 2015 07:27:00 GMT", "soon"] {
            let (ms, source) = delay_of(row, 0, &[("retry-after", value)]);
            assert_eq!(source, DelaySource::Backoff, "{row:?} {value}");
            assert!((375.0..=500.0).contains(&ms), "{row:?} {value}: {ms}");
        }
        assert_eq!(
            delay_of(row, 0, &[("retry-after-ms", "0")]).1,
            DelaySource::Backoff
        );
    }
    for row in [SdkRow::OpenAi1, SdkRow::OpenAi3, SdkRow::Anthropic0] {
        assert_eq!(
            delay_of(row, 0, &[("retry-after", "inf")]).1,
            DelaySource::Backoff
        );
    }
}

#[test]
fn the_back_off_doubles_from_half_a_second_to_eight_minus_up_to_a_quarter() {
    // Hand-computed: min(0.5 * 2^k, 8) * (1 - 0.25 u).
    assert_eq!(backoff(0, 0.0), 0.5);
    assert_eq!(backoff(0, 0.5), 0.4375);
    assert_eq!(backoff(0, 1.0), 0.375);
    assert_eq!(backoff(1, 0.0), 1.0);
    assert_eq!(backoff(2, 0.0), 2.0);
    assert_eq!(backoff(3, 0.0), 4.0);
    assert_eq!(backoff(4, 0.0), 8.0);
    assert_eq!(backoff(5, 0.0), 8.0);
    assert_eq!(backoff(4, 1.0), 6.0);
    assert_eq!(backoff(u32::MAX, 0.2), 7.6);
}

#[test]
fn the_jitter_is_one_draw_from_the_rng_and_none_when_retry_after_sets_the_delay() {
    for k in 0..6 {
        let mut r = rng();
        let d = delay(SdkRow::OpenAi3, k, None, now(), &mut r);
        let u: f64 = rng().random();
        assert_eq!(d.secs, backoff(k, u), "k = {k}");
        assert_eq!(d.source, DelaySource::Backoff);
        // Exactly one draw was taken.
        let mut again = rng();
        let _: f64 = again.random();
        assert_eq!(r.random::<u64>(), again.random::<u64>());
    }
    let headers = h(&[("retry-after-ms", "1500")]);
    let mut r = rng();
    let _ = delay(SdkRow::OpenAi1, 0, Some(&headers), now(), &mut r);
    assert_eq!(r.random::<u64>(), rng().random::<u64>(), "no draw taken");
}

#[test]
fn the_back_off_stays_within_its_bounds_over_many_draws() {
    let mut r = rng();
    for k in 0..8u32 {
        let top = (0.5 * 2f64.powi(k as i32)).min(8.0);
        for _ in 0..500 {
            let d = delay(SdkRow::Anthropic0, k, None, now(), &mut r).secs;
            assert!(d > 0.75 * top && d <= top, "k = {k}: {d}");
        }
    }
}

#[test]
fn whys_name_the_sdk_and_the_rule() {
    let headers = h(&[]);
    let v = should_retry(
        SdkRow::OpenAi1,
        &Failed::Status {
            status: 400,
            headers: &headers,
        },
        now(),
    );
    assert_eq!(
        v.why,
        "400 is not retried by openai 1.109 (only 408, 409, 429, >= 500)"
    );
    let d = delay(
        SdkRow::OpenAi3,
        0,
        Some(&h(&[("retry-after-ms", "1500")])),
        now(),
        &mut rng(),
    );
    assert_eq!(
        d.text,
        "retry-after-ms 1500, honoured by openai 3.x (Retry-After honoured up to 120 s (longer: no retry at all))"
    );
    let _ = Duration::ZERO;
}
