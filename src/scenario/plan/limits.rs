//! `[limits]` and `[fallback].on_result` for the plan: the limits as the pure policy's
//! type, and how they cut the worst case, one line each (`retrylab check`, the Plan pane).

use crate::policy::duration::format_secs;
use crate::policy::limits::Limits;
use crate::policy::on_result::ResultKind;
use crate::scenario::types::{OnExhausted, Scenario};

/// The scenario's `[limits]` (none: no limit).
pub fn call_limits(s: &Scenario) -> Limits {
    let Some(l) = &s.limits else {
        return Limits::default();
    };
    // Checked at load: counts are at least 1.
    let count = |v: Option<i64>| v.and_then(|n| u64::try_from(n).ok());
    Limits {
        max_requests: count(l.max_requests).map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        max_tokens: count(l.max_tokens),
        max_cost_usd: l.max_cost_usd,
        deadline: l.deadline.map(crate::policy::Secs::as_duration),
    }
}

/// The worst case, as far as the plan knows it: requests (`unbounded`: a hop never stops)
/// and seconds of waiting.
#[derive(Debug, Clone, Copy)]
pub struct Worst {
    pub requests: u32,
    pub waiting: f64,
    pub unbounded: bool,
}

/// How `[limits]` and `on_result` cut `worst`, one line each; none without them.
pub fn notes(s: &Scenario, worst: Worst) -> Vec<String> {
    let mut out = Vec::new();
    let on_result = s.fallback.as_ref().map_or(&[][..], |f| &f.on_result[..]);
    if !on_result.is_empty() {
        out.push(format!(
            "on_result {}: a rejected 200 reply goes to the next hop at once, no retry of the same model",
            ResultKind::list(on_result)
        ));
    }
    let Some(spec) = &s.limits else {
        return out;
    };
    let l = call_limits(s);
    let or_more = if worst.unbounded { " or more" } else { "" };
    if let Some(m) = l.max_requests {
        let (capped, cut) = l.cap_requests(worst.requests);
        // A hop that never stops sends more than planned: the limit is what bounds it.
        let capped = if worst.unbounded { m } else { capped };
        out.push(if cut || worst.unbounded {
            format!(
                "worst case {}{or_more} requests, capped at {capped} by [limits].max_requests",
                worst.requests,
            )
        } else {
            format!(
                "max_requests = {m}: not reached by the worst case ({} requests)",
                worst.requests
            )
        });
    }
    if let Some(d) = l.deadline {
        let d = d.as_secs_f64();
        out.push(if worst.waiting > d || worst.unbounded {
            format!(
                "worst case {}{or_more} of waiting, capped at {} by [limits].deadline (each wait and attempt timeout is cut to the time left)",
                format_secs(worst.waiting),
                format_secs(d)
            )
        } else {
            format!(
                "deadline = {}: the call ends by then (waits {} + each attempt's time; each attempt timeout is cut to the time left)",
                format_secs(d),
                format_secs(worst.waiting)
            )
        });
    }
    if let Some(t) = l.max_tokens {
        out.push(format!(
            "max_tokens = {t} across every attempt and hop (a stream is ended when it is reached)"
        ));
    }
    if let Some(c) = l.max_cost_usd {
        out.push(format!(
            "max_cost_usd = ${c} across every attempt and hop (at list prices, sim mode too)"
        ));
    }
    out.push(match spec.on_exhausted {
        OnExhausted::Raise => "a limit reached ends the call with limit_exceeded".to_string(),
        OnExhausted::Message => format!(
            "a limit reached answers {:?} (degraded)",
            spec.message.as_deref().unwrap_or_default()
        ),
        OnExhausted::LastPartial => {
            "a limit reached answers with the last partial answer (degraded), else limit_exceeded"
                .to_string()
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load::parse;

    fn scenario(extra: &str) -> Scenario {
        let src = format!(
            "name = \"t\"\n[prompt]\ntemplate = \"Q\"\n[call]\nprovider = \"openai\"\nmodel = \"m\"\n{extra}"
        );
        parse(&src, "t.toml").unwrap()
    }

    const WORST: Worst = Worst {
        requests: 12,
        waiting: 40.0,
        unbounded: false,
    };

    #[test]
    fn limits_cut_the_worst_case() {
        let s = scenario(
            "[limits]\nmax_requests = 10\ndeadline = \"30s\"\nmax_tokens = 2000\nmax_cost_usd = 0.05\n",
        );
        assert_eq!(
            notes(&s, WORST),
            [
                "worst case 12 requests, capped at 10 by [limits].max_requests",
                "worst case 40 s of waiting, capped at 30 s by [limits].deadline (each wait and attempt timeout is cut to the time left)",
                "max_tokens = 2000 across every attempt and hop (a stream is ended when it is reached)",
                "max_cost_usd = $0.05 across every attempt and hop (at list prices, sim mode too)",
                "a limit reached ends the call with limit_exceeded",
            ]
        );
    }

    #[test]
    fn limits_above_the_worst_case_say_so() {
        let s = scenario(
            "[limits]\nmax_requests = 20\ndeadline = \"60s\"\non_exhausted = \"message\"\nmessage = \"later\"\n",
        );
        assert_eq!(
            notes(&s, WORST),
            [
                "max_requests = 20: not reached by the worst case (12 requests)",
                "deadline = 60 s: the call ends by then (waits 40 s + each attempt's time; each attempt timeout is cut to the time left)",
                "a limit reached answers \"later\" (degraded)",
            ]
        );
        // A hop that never stops is always capped.
        let endless = Worst {
            unbounded: true,
            ..WORST
        };
        assert_eq!(
            notes(&s, endless)[0],
            "worst case 12 or more requests, capped at 20 by [limits].max_requests"
        );
    }

    #[test]
    fn on_result_is_noted_and_nothing_without_either() {
        let s = scenario(
            "[fallback]\ncatch = [\"retry_error\"]\non_result = [\"length\", \"empty\"]\n",
        );
        assert_eq!(
            notes(&s, WORST),
            [
                "on_result [length, empty]: a rejected 200 reply goes to the next hop at once, no retry of the same model"
            ]
        );
        assert!(notes(&scenario(""), WORST).is_empty());
    }
}
