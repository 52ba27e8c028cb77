//! The top-level modules of src/ form a DAG (issue 8): this test reads every `crate::`
//! reference in src/ and fails on a cycle or a forbidden edge, printing the order it enforces
//! (`cargo test --lib architecture -- --nocapture`).
//!
//! What counts: every `crate::X` in code, `use` lines and inline paths alike, `#[cfg(test)]`
//! modules included (a test may not close a cycle either). Comment lines (`//`, `///`, `//!`)
//! do not count: a doc link is not a dependency. main.rs (the binary) may use anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules that may import only the listed ones: the pure layers at the bottom.
const ONLY: &[(&str, &[&str])] = &[
    ("error", &[]),
    ("dirs", &[]),
    ("units", &[]),
    ("clock", &["error"]),
    ("event", &["error", "clock"]),
    // The policy is pure: no scenario types, no I/O.
    ("policy", &["error"]),
];

/// `(from, to)`: `from` never imports `to`.
/// The lab runs calls through the engine (above it) and is driven by the front ends.
const NEVER: &[(&str, &str)] = &[
    ("provider", "engine"),
    ("sim", "engine"),
    ("engine", "lab"),
    ("sim", "lab"),
    // What-if replays a trace through the engine, beside the lab (layer 7).
    ("engine", "whatif"),
    ("lab", "whatif"),
    ("whatif", "lab"),
    // An export is text from a scenario: it never runs anything.
    ("export", "engine"),
    ("export", "provider"),
    ("export", "sim"),
];

/// Only these may import the front ends (cli, tui).
const FRONT_ENDS: &[&str] = &["cli", "tui"];

/// This module's own source (it names modules in strings) and the crate roots.
const SKIPPED: &[&str] = &["lib.rs", "main.rs", "architecture.rs"];

/// The top-level modules `lib.rs` declares.
fn top_modules(lib: &str) -> BTreeSet<String> {
    lib.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l
                .strip_prefix("pub mod ")
                .or_else(|| l.strip_prefix("pub(crate) mod "))
                .or_else(|| l.strip_prefix("mod "))?;
            Some(rest.strip_suffix(';')?.trim().to_string())
        })
        .filter(|m| m != "architecture")
        .collect()
}

/// The leading identifier of a path (`engine::run::X` → `engine`).
fn head(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The top-level names `source` reaches through `crate::`, comment lines left out.
fn crate_refs(source: &str) -> BTreeSet<String> {
    let code: String = source
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let Some(group) = rest.strip_prefix('{') else {
            out.insert(head(rest));
            continue;
        };
        // `crate::{a::X, b::{self, Y}}`: the first name of each item at depth 0.
        let mut depth = 0usize;
        let mut item_start = 0;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    out.insert(head(&group[item_start..i]));
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.insert(head(&group[item_start..i]));
                    item_start = i + 1;
                }
                _ => {}
            }
        }
    }
    out.remove("");
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Edge `from → to` with the files (relative to src/) that make it.
type Edges = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn edges(src: &Path, modules: &BTreeSet<String>) -> Edges {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut edges: Edges = modules
        .iter()
        .map(|m| (m.clone(), BTreeMap::new()))
        .collect();
    for f in files {
        let rel = f
            .strip_prefix(src)
            .unwrap_or(&f)
            .to_string_lossy()
            .into_owned();
        if SKIPPED.contains(&rel.as_str()) {
            continue;
        }
        let first = rel.split(['/', '\\']).next().unwrap_or_default();
        let from = first.strip_suffix(".rs").unwrap_or(first).to_string();
        let Some(deps) = edges.get_mut(&from) else {
            continue;
        };
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for to in crate_refs(&text) {
            if to != from && modules.contains(&to) {
                deps.entry(to).or_default().insert(rel.clone());
            }
        }
    }
    edges
}

/// Layers bottom-up: each module sits one above the highest it imports. `Err` holds the
/// modules on a cycle (or between two).
fn layers(edges: &Edges) -> Result<Vec<Vec<String>>, BTreeSet<String>> {
    let mut level: BTreeMap<&str, usize> = BTreeMap::new();
    while level.len() < edges.len() {
        let ready: Vec<(&str, usize)> = edges
            .iter()
            .filter(|(m, _)| !level.contains_key(m.as_str()))
            .filter_map(|(m, deps)| {
                let lv: Option<Vec<usize>> = deps
                    .keys()
                    .map(|d| level.get(d.as_str()).copied())
                    .collect();
                Some((
                    m.as_str(),
                    lv?.into_iter().map(|l| l + 1).max().unwrap_or(0),
                ))
            })
            .collect();
        if ready.is_empty() {
            let mut stuck: BTreeSet<String> = edges
                .keys()
                .filter(|m| !level.contains_key(m.as_str()))
                .cloned()
                .collect();
            // Drop what merely sits above the cycle (imported by no other stuck module).
            loop {
                let top: Vec<String> = stuck
                    .iter()
                    .filter(|m| !stuck.iter().any(|o| edges[o].contains_key(*m)))
                    .cloned()
                    .collect();
                if top.is_empty() {
                    return Err(stuck);
                }
                for m in top {
                    stuck.remove(&m);
                }
            }
        }
        level.extend(ready);
    }
    let mut out = vec![Vec::new(); level.values().max().map_or(0, |m| m + 1)];
    for (m, l) in level {
        out[l].push(m.to_string());
    }
    Ok(out)
}

fn problems(edges: &Edges) -> Vec<String> {
    let mut out = Vec::new();
    let why = |from: &str, to: &str| {
        let files: Vec<&str> = edges[from][to].iter().map(String::as_str).collect();
        format!("{from} -> {to} (in {})", files.join(", "))
    };
    for (from, deps) in edges {
        for to in deps.keys() {
            if let Some((_, allowed)) = ONLY.iter().find(|(m, _)| m == from)
                && !allowed.contains(&to.as_str())
            {
                out.push(format!(
                    "forbidden: {}: {from} may import only {allowed:?}",
                    why(from, to)
                ));
            }
            if NEVER.contains(&(from.as_str(), to.as_str())) {
                out.push(format!("forbidden: {}", why(from, to)));
            }
            if FRONT_ENDS.contains(&to.as_str()) && !FRONT_ENDS.contains(&from.as_str()) {
                out.push(format!(
                    "forbidden: {}: only {FRONT_ENDS:?} import the front ends",
                    why(from, to)
                ));
            }
        }
    }
    if let Err(stuck) = layers(edges) {
        let mut cycle = vec![format!(
            "cycle among {}:",
            stuck.iter().cloned().collect::<Vec<_>>().join(", ")
        )];
        for from in &stuck {
            for to in edges[from].keys().filter(|t| stuck.contains(*t)) {
                cycle.push(format!("  {}", why(from, to)));
            }
        }
        out.push(cycle.join("\n"));
    }
    out
}

/// What an embedder sees without `test-util` (issue 8): the rest is crate-private.
const PUBLIC: &[&str] = &[
    "cli", "clock", "config", "engine", "error", "event", "policy", "scenario",
];

#[test]
fn the_public_surface_is_the_chosen_one() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("src/lib.rs");
    let lines: Vec<&str> = lib.lines().map(str::trim).collect();
    let mut public = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(m) = l.strip_prefix("pub mod ").and_then(|m| m.strip_suffix(';')) else {
            continue;
        };
        // `pub` only under the feature: then it must be crate-private without it.
        if i > 0 && lines[i - 1] == "#[cfg(feature = \"test-util\")]" {
            assert!(
                lines.get(i + 2) == Some(&format!("pub(crate) mod {m};").as_str()),
                "{m} is public under test-util but has no crate-private declaration"
            );
            continue;
        }
        public.push(m);
    }
    assert_eq!(public, PUBLIC, "the public modules of src/lib.rs");
}

#[test]
fn crate_refs_reads_use_groups_and_inline_paths_but_not_comments() {
    let src = "use crate::{a::X, b::{self, Y}, c};\n\
               use crate::d::Z;\n\
               fn f() { crate::e::g(crate::f::H); }\n\
               /// see [`crate::doc`]\n\
               // crate::comment\n";
    let got: Vec<String> = crate_refs(src).into_iter().collect();
    assert_eq!(got, ["a", "b", "c", "d", "e", "f"]);
}

#[test]
fn a_cycle_and_forbidden_edges_are_reported() {
    let mut e: Edges = BTreeMap::new();
    let mut add = |from: &str, to: &str| {
        e.entry(to.to_string()).or_default();
        e.entry(from.to_string())
            .or_default()
            .entry(to.to_string())
            .or_default()
            .insert(format!("{from}.rs"));
    };
    add("policy", "scenario");
    add("scenario", "policy");
    add("sim", "engine");
    add("engine", "tui");
    let p = problems(&e);
    assert_eq!(
        p,
        [
            "forbidden: engine -> tui (in engine.rs): only [\"cli\", \"tui\"] import the front ends",
            "forbidden: policy -> scenario (in policy.rs): policy may import only [\"error\"]",
            "forbidden: sim -> engine (in sim.rs)",
            "cycle among policy, scenario:\n  \
             policy -> scenario (in policy.rs)\n  scenario -> policy (in scenario.rs)",
        ]
    );
}

#[test]
fn top_level_modules_form_a_dag() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap_or_default();
    let modules = top_modules(&lib);
    let edges = edges(&root.join("src"), &modules);
    // The scan found the crate (a scan that reads nothing would pass vacuously).
    assert!(
        modules.contains("engine") && modules.contains("policy"),
        "{modules:?}"
    );
    assert!(edges["engine"].contains_key("policy"), "{edges:?}");
    let problems = problems(&edges);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The order it enforces: each module imports only modules on lower lines.
    println!("module layers, bottom first (each imports only modules below it):");
    for (i, layer) in layers(&edges).unwrap_or_default().iter().enumerate() {
        println!("  {i}: {}", layer.join(" "));
    }
    for (from, deps) in &edges {
        let deps: Vec<&str> = deps.keys().map(String::as_str).collect();
        println!("  {from} -> {}", deps.join(" "));
    }
}
