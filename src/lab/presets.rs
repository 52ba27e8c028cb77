//! Built-in fault models for the lab, embedded from assets/lab/ so `--faults outage-30s`
//! works on a fresh machine.

pub struct Preset {
    pub name: &'static str,
    pub source: &'static str,
}

macro_rules! preset {
    ($name:literal) => {
        Preset {
            name: $name,
            source: include_str!(concat!("../../assets/lab/", $name, ".toml")),
        }
    };
}

static ALL: &[Preset] = &[
    preset!("outage-30s"),
    preset!("flaky-5pct"),
    preset!("rate-limit-herd"),
];

#[cfg(any(test, feature = "test-util"))]
pub fn all() -> &'static [Preset] {
    ALL
}

pub fn find(name: &str) -> Option<&'static Preset> {
    ALL.iter().find(|p| p.name == name)
}

/// The preset names, for hints.
pub fn names() -> String {
    ALL.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_parses_and_fits_the_builtin_policies() {
        let policy = crate::scenario::builtin::resolve("fallback-with-retries")
            .unwrap()
            .scenario;
        for p in all() {
            let sim = crate::lab::faults::parse(p.source, p.name).unwrap();
            crate::lab::faults::check_with(&policy, &sim, p.name).unwrap();
        }
    }
}
