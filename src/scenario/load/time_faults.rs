//! Checks of the faults over time (DESIGN §11): `[sim].outages`, `[sim].limits` and
//! `[sim].latency`. Durations are bounded like waits (at most `MAX_WAIT`), the lists at
//! [`MAX_ENTRIES`] each, and an entry for a provider the scenario never calls is refused (in
//! `run` it could never fire). Models are not checked: `retrylab sim` serves any client,
//! which may ask for models the scenario does not name.

use super::checks::{Problem, at, too_long};
use super::locate::KeyPath;
use crate::policy::Secs;
use crate::policy::duration::MAX_WAIT_DAYS;
use crate::scenario::types::{Dist, ProviderKind, Scenario};

/// The most `outages` (and, separately, `limits`) entries a scenario may hold.
pub const MAX_ENTRIES: usize = 1_000;

pub fn check(s: &Scenario, sim: &KeyPath) -> Result<(), Problem> {
    check_outages(s, sim)?;
    check_limits(s, sim)?;
    check_latency(s, sim)
}

/// Every (provider, model) the scenario calls: the primary and each fallback hop.
fn called(s: &Scenario) -> Vec<(ProviderKind, &str)> {
    let mut out = vec![(s.call.provider, s.call.model.as_str())];
    if let Some(fb) = &s.fallback {
        out.extend(fb.hops.iter().map(|h| (h.provider, h.model.as_str())));
    }
    out
}

fn called_text(s: &Scenario) -> String {
    let list: Vec<String> = called(s).iter().map(|(p, m)| format!("{p}/{m}")).collect();
    list.join(", ")
}

fn never_called(s: &Scenario, place: KeyPath, what: &str, provider: ProviderKind) -> Problem {
    at(
        place,
        format!("the {what} is for {provider}, which this scenario never calls"),
        format!(
            "name a provider the scenario calls (calls: {})",
            called_text(s)
        ),
    )
}

fn too_many(path: KeyPath, key: &str, n: usize) -> Problem {
    at(
        path,
        format!("`{key}` has {n} entries; at most {MAX_ENTRIES} are allowed"),
        format!("merge entries (one {key} entry covers a whole provider or model)"),
    )
}

fn check_outages(s: &Scenario, sim: &KeyPath) -> Result<(), Problem> {
    let list = &s.sim.outages;
    let path = sim.clone().key("outages");
    if list.len() > MAX_ENTRIES {
        return Err(too_many(path, "outages", list.len()));
    }
    let called = called(s);
    for (i, o) in list.iter().enumerate() {
        let here = path.clone().index(i);
        super::checks::check_fault(&o.fault_spec(), here.clone())?;
        for (key, v) in [("from", o.from), ("to", o.to)] {
            if v.beyond_max_wait() {
                return Err(at(
                    here.key(key),
                    format!("`{key}` is later than {MAX_WAIT_DAYS} days ({})", v.human()),
                    format!(
                        "write a time on the run clock of at most {MAX_WAIT_DAYS} days, e.g. {key} = \"30s\""
                    ),
                ));
            }
        }
        if o.from.0 >= o.to.0 {
            return Err(at(
                here.key("to"),
                format!(
                    "the outage ends (to = {}) before it starts (from = {}): it would never fire",
                    o.to.human(),
                    o.from.human()
                ),
                "write a window with from < to, e.g. from = \"0s\", to = \"20s\"",
            ));
        }
        if !called.iter().any(|(p, _)| *p == o.provider) {
            return Err(never_called(s, here.key("provider"), "outage", o.provider));
        }
    }
    Ok(())
}

fn check_limits(s: &Scenario, sim: &KeyPath) -> Result<(), Problem> {
    let list = &s.sim.limits;
    let path = sim.clone().key("limits");
    if list.len() > MAX_ENTRIES {
        return Err(too_many(path, "limits", list.len()));
    }
    let called = called(s);
    for (i, l) in list.iter().enumerate() {
        let here = path.clone().index(i);
        if l.rpm == 0 {
            return Err(at(
                here.key("rpm"),
                "`rpm = 0` never refills: every request past the burst would fail forever",
                "write a rate of at least 1 request per minute, e.g. rpm = 60; to script a provider that is down, use outages",
            ));
        }
        if l.burst == Some(0) {
            return Err(at(
                here.key("burst"),
                "`burst = 0` holds no token: every request would fail",
                "write a burst of at least 1, or remove it (default: rpm)",
            ));
        }
        if let Some(j) = list[..i]
            .iter()
            .position(|o| o.provider == l.provider && o.model == l.model)
        {
            return Err(at(
                here.key("model"),
                format!(
                    "a second limit for {}/{} (also limits[{j}]): one bucket per provider and model",
                    l.provider, l.model
                ),
                "keep one entry per provider and model",
            ));
        }
        if !called.iter().any(|(p, _)| *p == l.provider) {
            return Err(never_called(s, here.key("provider"), "limit", l.provider));
        }
    }
    Ok(())
}

fn check_latency(s: &Scenario, sim: &KeyPath) -> Result<(), Problem> {
    let Some(latency) = &s.sim.latency else {
        return Ok(());
    };
    let path = sim.clone().key("latency");
    if let Some(d) = latency.first_token {
        let d = match d {
            Dist::Fixed(v) => Dist::Fixed(v.0),
            Dist::Lognormal { median, p99 } => Dist::Lognormal {
                median: median.0,
                p99: p99.0,
            },
            Dist::Normal { mean, sd } => Dist::Normal {
                mean: mean.0,
                sd: sd.0,
            },
        };
        check_dist(d, path.clone().key("first_token"), Unit::Time)?;
    }
    if let Some(d) = latency.tokens_per_second {
        check_dist(d, path.key("tokens_per_second"), Unit::Rate)?;
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum Unit {
    /// Seconds (`Secs` already refused negatives and nan).
    Time,
    /// Tokens per second: a plain float, which may be anything.
    Rate,
}

fn check_dist(d: Dist<f64>, path: KeyPath, unit: Unit) -> Result<(), Problem> {
    let (variant, params): (&str, Vec<(&str, f64)>) = match d {
        Dist::Fixed(v) => ("fixed", vec![("", v)]),
        Dist::Lognormal { median, p99 } => ("lognormal", vec![("median", median), ("p99", p99)]),
        Dist::Normal { mean, sd } => ("normal", vec![("mean", mean), ("sd", sd)]),
    };
    let example = match unit {
        Unit::Time => "lognormal = { median = \"400ms\", p99 = \"3s\" }",
        Unit::Rate => "normal = { mean = 60, sd = 15 }",
    };
    let place = |key: &str| {
        if key.is_empty() {
            path.clone().key(variant)
        } else {
            path.clone().key(variant).key(key)
        }
    };
    let name = |key: &str| {
        if key.is_empty() {
            variant.to_string()
        } else {
            format!("{variant}.{key}")
        }
    };
    for (key, v) in &params {
        if unit == Unit::Rate && !v.is_finite() {
            return Err(at(
                place(key),
                format!("`{}` must be a finite number, got {v}", name(key)),
                format!("write e.g. {example}"),
            ));
        }
        if unit == Unit::Time && Secs(*v).beyond_max_wait() {
            return Err(too_long(place(key), &name(key), "is a latency"));
        }
        // A spread may be 0 (no spread); a centre must be a real pace, a first token may
        // come at once.
        let positive = unit == Unit::Rate && *key != "sd";
        let lognormal = variant == "lognormal";
        if ((positive || lognormal) && *v <= 0.0) || *v < 0.0 {
            return Err(at(
                place(key),
                format!(
                    "`{}` must be greater than 0, got {}",
                    name(key),
                    show(*v, unit)
                ),
                format!("write e.g. {example}"),
            ));
        }
    }
    if let Dist::Lognormal { median, p99 } = d
        && p99 < median
    {
        return Err(at(
            place("p99"),
            format!(
                "`p99` ({}) is below the median ({}): a 99th percentile is never below the median",
                show(p99, unit),
                show(median, unit)
            ),
            format!("write p99 ≥ median, e.g. {example}"),
        ));
    }
    Ok(())
}

fn show(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Time => Secs(v).human(),
        Unit::Rate => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::load::parse;

    const HEAD: &str = "name = \"t\"\n[prompt]\ntemplate = \"Q\"\n[call]\nprovider = \"openai\"\nmodel = \"m\"\n[sim]\n";

    #[test]
    fn more_than_a_thousand_entries_are_refused() {
        let one = "{ provider = \"openai\", from = 0, to = 1, fault = \"overloaded\" }";
        let list = |n: usize| vec![one; n].join(", ");
        assert!(parse(&format!("{HEAD}outages = [{}]", list(1000)), "t.toml").is_ok());
        let e = parse(&format!("{HEAD}outages = [{}]", list(1001)), "t.toml").unwrap_err();
        assert!(e.message.contains("at most 1000"), "{}", e.message);
    }

    #[test]
    fn a_fallback_hop_counts_as_called_and_any_model_goes() {
        let fb = "[fallback]\ncatch = [\"any\"]\nhops = [{ provider = \"anthropic\", model = \"c\", catch = [] }]\n";
        let src = |sim: &str| format!("{}{fb}[sim]\n{sim}", HEAD.trim_end_matches("[sim]\n"));
        let ok = "limits = [{ provider = \"anthropic\", model = \"c\", rpm = 5 }]";
        assert!(parse(&src(ok), "t.toml").is_ok());
        let any_model = "outages = [{ provider = \"anthropic\", model = \"d\", from = 0, to = 1, fault = \"overloaded\" }]";
        assert!(parse(&src(any_model), "t.toml").is_ok());
        let bad = "limits = [{ provider = \"openai-compatible\", model = \"m\", rpm = 5 }]";
        let e = parse(&src(bad), "t.toml").unwrap_err();
        assert!(
            e.message.contains("openai-compatible, which"),
            "{}",
            e.message
        );
        assert!(e.hint.contains("openai/m, anthropic/c"), "{}", e.hint);
    }
}
