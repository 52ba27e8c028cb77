//! `export` then `import` gives back an equivalent scenario (issue 11 item 4), for every
//! built-in scenario and the tests' own, to `--to mirascope` and `--to tenacity`, through the
//! library (the same functions the two subcommands call).
//!
//! Equivalent means: the same provider, model and stream for every hop; for every hop's
//! effective policy the same stop, wait, retry_on kinds, honor_retry_after (and
//! retry_after_max when honoured), reinsert kinds (those retried: reinserting a kind never
//! retried does nothing) and reinsert_mode; the same fallback catch per hop; the same tools
//! (names, cases, default); the same response validators; the same prompt template (tags
//! compared by their words: `{{x}}` is `{{ x }}`), system prompt and vars. `[sim]`, names,
//! timeouts may differ (import writes its own default `[sim]`).
//!
//! Where a field can't round-trip, the exporter must say so: each difference names the
//! finding that explains it, and the test fails when that finding is missing.

use retrylab::error::ErrorKind;
use retrylab::export::{self, Target};
use retrylab::policy::RetryPolicy;
use retrylab::scenario::Scenario;
use retrylab::scenario::plan::hop_policies;
use std::path::Path;

/// One difference between the original and the round-tripped scenario, with the text a
/// finding must contain to explain it (`None`: nothing explains it).
#[derive(Debug)]
struct Difference {
    what: String,
    explained_by: Vec<String>,
}

fn kinds_text(k: &[ErrorKind]) -> String {
    let mut v: Vec<&str> = k.iter().map(|k| k.as_str()).collect();
    v.sort_unstable();
    v.dedup();
    v.join(",")
}

/// `imported` = `original` plus kinds a class list also catches: each extra kind needs the
/// finding `"{label}: {kind} shares"`. Anything else is unexplained.
fn kind_set(
    label: &str,
    original: &[ErrorKind],
    imported: &[ErrorKind],
    out: &mut Vec<Difference>,
) {
    if kinds_text(original) == kinds_text(imported) {
        return;
    }
    let missing: Vec<&ErrorKind> = original.iter().filter(|k| !k.is_in(imported)).collect();
    let extra: Vec<&ErrorKind> = imported.iter().filter(|k| !k.is_in(original)).collect();
    out.push(Difference {
        what: format!(
            "{label}: [{}] came back as [{}]",
            kinds_text(original),
            kinds_text(imported)
        ),
        explained_by: if missing.is_empty() {
            extra
                .iter()
                .map(|k| format!("{label}: {k} shares"))
                .collect()
        } else {
            vec![]
        },
    });
}

fn template_words(t: &str) -> String {
    let mut out = String::new();
    let mut rest = t;
    while let Some(at) = rest.find(['{']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let close = match tail.get(..2) {
            Some("{{") => "}}",
            Some("{%") => "%}",
            _ => {
                out.push('{');
                rest = &tail[1..];
                continue;
            }
        };
        let Some(end) = tail.find(close) else {
            out.push_str(tail);
            return out;
        };
        let words: Vec<&str> = tail[2..end].split_whitespace().collect();
        out.push_str(&format!("{}{}{}", &tail[..2], words.join(" "), close));
        rest = &tail[end + 2..];
    }
    out.push_str(rest);
    out
}

fn policy(
    hop: usize,
    a: Option<&RetryPolicy>,
    b: Option<&RetryPolicy>,
    target: Target,
    out: &mut Vec<Difference>,
) {
    let mut diffs = Vec::new();
    let (Some(a), Some(b)) = (a, b) else {
        if a.is_some() != b.is_some() {
            diffs.push(Difference {
                what: format!("hop {hop}: retry {} came back {}", a.is_some(), b.is_some()),
                explained_by: vec![],
            });
        }
        out.extend(diffs);
        return;
    };
    let field = |what: &str, x: String, y: String, d: &mut Vec<Difference>| {
        if x != y {
            d.push(Difference {
                what: format!("hop {hop}: {what} {x} came back as {y}"),
                explained_by: vec![],
            });
        }
    };
    field(
        "stop",
        format!("{:?}", a.stop),
        format!("{:?}", b.stop),
        &mut diffs,
    );
    field(
        "wait",
        format!("{:?}", a.wait),
        format!("{:?}", b.wait),
        &mut diffs,
    );
    field(
        "honor_retry_after",
        a.honor_retry_after.to_string(),
        b.honor_retry_after.to_string(),
        &mut diffs,
    );
    if a.honor_retry_after {
        field(
            "retry_after_max",
            format!("{:?}", a.retry_after_max),
            format!("{:?}", b.retry_after_max),
            &mut diffs,
        );
    }
    kind_set("retry_on", &a.retry_on, &b.retry_on, &mut diffs);
    let retried = |p: &RetryPolicy| -> Vec<ErrorKind> {
        p.reinsert
            .iter()
            .copied()
            .filter(|k| k.is_in(&p.retry_on) || *k == ErrorKind::Any)
            .collect()
    };
    kind_set("reinsert", &retried(a), &retried(b), &mut diffs);
    if !a.reinsert.is_empty() {
        field(
            "reinsert_mode",
            format!("{:?}", a.reinsert_mode),
            format!("{:?}", b.reinsert_mode),
            &mut diffs,
        );
    }
    // Mirascope's @fallback re-runs the one @retry function: a hop's own table is lost.
    if hop > 0 && target == Target::Mirascope {
        for d in &mut diffs {
            d.explained_by = vec!["a hop's own [retry] table".into()];
        }
    }
    out.extend(diffs);
}

/// Every way `b` (imported) differs from `a` (the original).
fn differences(a: &Scenario, b: &Scenario, target: Target) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut plain = |what: String| {
        out.push(Difference {
            what,
            explained_by: vec![],
        })
    };
    let hops = |s: &Scenario| -> Vec<(String, String)> {
        let mut v = vec![(s.call.provider.to_string(), s.call.model.clone())];
        if let Some(fb) = &s.fallback {
            v.extend(
                fb.hops
                    .iter()
                    .map(|h| (h.provider.to_string(), h.model.clone())),
            );
        }
        v
    };
    // Mirascope v1 has no Responses API: its hops call the model through chat completions.
    let v1_calls_chat = |h: Vec<(String, String)>| -> Vec<(String, String)> {
        h.into_iter()
            .map(|(p, m)| match (target, p.as_str()) {
                (Target::Mirascope, "openai-responses") => ("openai".to_owned(), m),
                _ => (p, m),
            })
            .collect()
    };
    let responses_as_chat = hops(a) != hops(b) && v1_calls_chat(hops(a)) == hops(b);
    if hops(a) != hops(b) && !responses_as_chat {
        plain(format!("hops {:?} came back as {:?}", hops(a), hops(b)));
    }
    if a.call.stream != b.call.stream {
        plain(format!(
            "stream {} came back as {}",
            a.call.stream, b.call.stream
        ));
    }
    let clients = |s: &Scenario| -> Vec<(Option<String>, Option<String>)> {
        let mut v = vec![(s.call.base_url.clone(), s.call.api_key_env.clone())];
        if let Some(fb) = &s.fallback {
            v.extend(
                fb.hops
                    .iter()
                    .map(|h| (h.base_url.clone(), h.api_key_env.clone())),
            );
        }
        v
    };
    if clients(a) != clients(b) {
        plain(format!(
            "base_url/api_key_env {:?} came back as {:?}",
            clients(a),
            clients(b)
        ));
    }
    let (ta, tb) = (
        template_words(a.prompt.template.get_ref()),
        template_words(b.prompt.template.get_ref()),
    );
    if ta != tb {
        plain(format!("template {ta:?} came back as {tb:?}"));
    }
    let system = |s: &Scenario| s.prompt.system.as_ref().map(|x| x.get_ref().clone());
    if system(a) != system(b) {
        plain(format!(
            "system {:?} came back as {:?}",
            system(a),
            system(b)
        ));
    }
    if a.prompt.vars != b.prompt.vars {
        plain(format!(
            "vars {:?} came back as {:?}",
            a.prompt.vars, b.prompt.vars
        ));
    }
    let validators = |s: &Scenario| -> Vec<String> {
        s.response
            .iter()
            .flat_map(|r| &r.validators)
            .map(|v| {
                use retrylab::validate::ValidatorSpec as V;
                match v {
                    V::Regex(r) => format!("regex {}", r.get_ref()),
                    V::JsonSchema(j) => {
                        format!("schema {}", retrylab::validate::toml_to_json(j.get_ref()))
                    }
                    other => format!("{other:?}"),
                }
            })
            .collect()
    };
    if validators(a) != validators(b) {
        plain(format!(
            "validators {:?} came back as {:?}",
            validators(a),
            validators(b)
        ));
    }
    let tools = |s: &Scenario| -> Vec<String> {
        s.tools
            .iter()
            .map(|t| {
                let cases: Vec<String> = t
                    .cases
                    .iter()
                    .map(|c| format!("{:?}->{}", c.when, c.result))
                    .collect();
                format!("{} {:?} default {:?}", t.name, cases, t.default)
            })
            .collect()
    };
    if tools(a) != tools(b) {
        plain(format!("tools {:?} came back as {:?}", tools(a), tools(b)));
    }
    match (&a.fallback, &b.fallback) {
        (Some(fa), Some(fb)) => {
            kind_set("[fallback].catch", &fa.catch, &fb.catch, &mut out);
            for (i, (x, y)) in fa.hops.iter().zip(&fb.hops).enumerate() {
                kind_set(
                    &format!("hop {}'s catch", i + 1),
                    &x.catch,
                    &y.catch,
                    &mut out,
                );
            }
        }
        (None, None) => {}
        _ => out.push(Difference {
            what: "the fallback came and went".into(),
            explained_by: vec![],
        }),
    }
    let (pa, pb) = (hop_policies(a), hop_policies(b));
    for (i, (x, y)) in pa.iter().zip(&pb).enumerate() {
        policy(i, x.as_ref(), y.as_ref(), target, &mut out);
    }
    if responses_as_chat {
        out.push(Difference {
            what: format!("hops {:?} came back as {:?}", hops(a), hops(b)),
            explained_by: vec![
                "provider openai-responses: Mirascope v1 calls chat completions only".into(),
            ],
        });
    }
    out
}

fn scenarios() -> Vec<(String, Scenario)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["assets/scenarios", "tests/export_scenarios"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .expect("the scenario folder")
            .map(|e| e.expect("a folder entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for p in files {
            let src = std::fs::read_to_string(&p).expect("a scenario file");
            let name = p
                .file_stem()
                .map_or_else(String::new, |n| n.to_string_lossy().to_string());
            let s = retrylab::scenario::load::parse(&src, &name).expect("a scenario that loads");
            out.push((name, s));
        }
    }
    out
}

#[test]
fn export_then_import_gives_back_an_equivalent_scenario() {
    let all = scenarios();
    assert!(all.len() >= 14, "{} scenarios", all.len());
    let mut exact = Vec::new();
    let mut with_findings = Vec::new();
    let mut failures = Vec::new();
    for (name, s) in &all {
        for target in [Target::Mirascope, Target::Tenacity] {
            let e = export::export(s, name, target);
            let origin = format!("{name}.{}.py", target.as_str());
            let imported = retrylab::pyimport::import_python(&e.code, &origin)
                .unwrap_or_else(|err| panic!("{origin}: {err}"));
            let back = retrylab::scenario::load::parse(&imported.scenario_toml, &origin)
                .unwrap_or_else(|err| panic!("{origin}: {err}"));
            // The exporter's own idioms are read, not dropped: what import could not map is
            // only what the exporter's findings already say.
            for d in &imported.dropped {
                if !d.what.starts_with("part of") {
                    failures.push(format!("{origin}: dropped {}", d.show(&origin)));
                }
            }
            let diffs = differences(s, &back, target);
            let pair = format!("{name} --to {}", target.as_str());
            if diffs.is_empty() {
                exact.push(pair);
                continue;
            }
            for d in &diffs {
                let found = !d.explained_by.is_empty()
                    && d.explained_by
                        .iter()
                        .all(|need| e.findings.list().iter().any(|f| f.contains(need.as_str())));
                if !found {
                    failures.push(format!(
                        "{pair}: {} (needs a finding {:?}; findings: {:?})",
                        d.what,
                        d.explained_by,
                        e.findings.list()
                    ));
                }
            }
            with_findings.push(pair);
        }
    }
    eprintln!(
        "round trip: {} pairs exact, {} explained by findings: {with_findings:?}",
        exact.len(),
        with_findings.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(exact.len() + with_findings.len(), all.len() * 2);
}

#[test]
fn the_harness_is_read_only_in_a_file_the_exporter_wrote() {
    // The same decorators without the stamp: the harness's names mean nothing there.
    let s = &scenarios()[0].1;
    let e = export::export(s, "basic-retry", Target::Mirascope);
    let unstamped = e.code.replace("exported by retrylab", "written by hand");
    let imported = retrylab::pyimport::import_python(&unstamped, "hand.py").unwrap();
    let whats: Vec<&str> = imported.dropped.iter().map(|d| d.what.as_str()).collect();
    assert!(whats.iter().any(|w| w.contains("@trace_hop")), "{whats:?}");
    assert!(
        whats.iter().any(|w| w.contains("wait_retry_after")),
        "{whats:?}"
    );
    assert!(
        whats.iter().any(|w| w.contains("client=CLIENT_0")),
        "{whats:?}"
    );
}
