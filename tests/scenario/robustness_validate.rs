//! Robustness of what judges a model's answer (DESIGN §3, §9): response validators and tool
//! calls get seeded random and hostile answers and arguments (not JSON, deep JSON, huge text,
//! wrong types, unknown tools, odd unicode). Nothing may panic; a refusal is a message that
//! names what is wrong, short enough to show.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retrylab::scenario::load::parse;
use retrylab::tools::Toolbox;
use retrylab::validate::Validators;
use serde_json::{Value, json};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

const SCENARIO: &str = r#"
name = "judges"
[prompt]
template = "Q"
[call]
provider = "openai"
model = "m"
[response]
validators = [
  { uppercase = true },
  { regex = '^[A-Z ]+$' },
  { json = true },
  { json_schema = { type = "object", properties = { name = { type = "string", minLength = 1 }, born = { type = "integer", minimum = 0 }, tags = { type = "array", items = { type = "string" }, maxItems = 3 } }, required = ["name"], additionalProperties = false } },
  { max_chars = 200 },
  { one_of = ["YES", "NO", "日本"] },
]
[[tools]]
name = "get_book_author"
description = "Look up who wrote a book"
parameters = { type = "object", properties = { title = { type = "string", maxLength = 100 }, year = { type = "integer" } }, required = ["title"] }
cases = [{ when = { title = "The Name of the Wind" }, result = "Patrick Rothfuss" }]
default = "Unknown"
[[tools]]
name = "no_args"
description = "Takes nothing"
parameters = { type = "object" }
default = "ok"
"#;

fn deep(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

fn random_json(rng: &mut ChaCha8Rng, depth: u32) -> Value {
    match rng.random_range(0..10) {
        0 => Value::Null,
        1 => json!(rng.random_bool(0.5)),
        2 => json!(rng.random_range(-5i64..5)),
        3 => json!(1e308),
        4 => json!(
            *["", "The Name of the Wind", "x", "日本", "\u{0}\u{1b}[2J"]
                .choose(rng)
                .unwrap()
        ),
        5 => json!("w".repeat(rng.random_range(0..400))),
        6 | 7 if depth < 4 => {
            let keys = [
                "name", "born", "tags", "title", "year", "extra", "", "\u{1b}",
            ];
            let n = rng.random_range(0..5);
            let mut m = serde_json::Map::new();
            for _ in 0..n {
                m.insert(
                    (*keys.choose(rng).unwrap()).to_string(),
                    random_json(rng, depth + 1),
                );
            }
            Value::Object(m)
        }
        8 if depth < 4 => json!(
            (0..rng.random_range(0..5))
                .map(|_| random_json(rng, depth + 1))
                .collect::<Vec<_>>()
        ),
        _ => json!(u64::MAX),
    }
}

fn random_text(rng: &mut ChaCha8Rng) -> String {
    match rng.random_range(0..9) {
        0 => String::new(),
        1 => "YES".into(),
        2 => random_json(rng, 0).to_string(),
        3 => deep(rng.random_range(100..3000)),
        4 => "A".repeat(rng.random_range(150..300_000)),
        5 => "{\"name\": \"x\"".into(),
        6 => "\u{feff}{\"name\": \"Patrick\"}".into(),
        7 => "e\u{301}👨‍👩‍👧\u{202e}\n\r\t\u{0}".into(),
        _ => {
            let mut s = random_json(rng, 0).to_string();
            let cut = rng.random_range(0..=s.len());
            let cut = (0..=cut)
                .rev()
                .find(|i| s.is_char_boundary(*i))
                .unwrap_or(0);
            s.truncate(cut);
            s
        }
    }
}

#[test]
fn validators_and_tools_take_any_answer() {
    let started = Instant::now();
    let s = parse(SCENARIO, "judges.toml").unwrap();
    let validators = Validators::compile(&s.response.as_ref().unwrap().validators).unwrap();
    let tools = Toolbox::compile(&s.tools).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let (mut answers, mut calls, mut refused) = (0, 0, 0);
    for case in 0..6_000 {
        let text = random_text(&mut rng);
        answers += 1;
        let r = catch_unwind(AssertUnwindSafe(|| validators.check(&text)))
            .unwrap_or_else(|_| panic!("case {case}: a validator panicked on {text:?}"));
        if let Err(m) = r {
            refused += 1;
            assert!(!m.trim().is_empty(), "case {case}");
            assert!(
                m.chars().count() < 2_000,
                "case {case}: a {} char message",
                m.len()
            );
        }
        let name = *[
            "get_book_author",
            "no_args",
            "",
            "nope",
            "get_book_author\u{0}",
        ]
        .choose(&mut rng)
        .unwrap();
        let args = random_text(&mut rng);
        calls += 1;
        let r = catch_unwind(AssertUnwindSafe(|| tools.call(name, &args)))
            .unwrap_or_else(|_| panic!("case {case}: tool {name:?} panicked on {args:?}"));
        match r {
            Ok(result) => assert!(
                ["get_book_author", "no_args"].contains(&name),
                "case {case}: unknown tool {name:?} answered {result:?}"
            ),
            Err(m) => {
                assert!(!m.trim().is_empty(), "case {case}");
                assert!(
                    m.chars().count() < 2_000,
                    "case {case}: a {} char message",
                    m.len()
                );
            }
        }
    }
    // The known good ones pass.
    assert_eq!(
        tools.call("get_book_author", r#"{"title": "The Name of the Wind"}"#),
        Ok("Patrick Rothfuss".to_string())
    );
    eprintln!(
        "judges: {answers} answers ({refused} refused), {calls} tool calls, {:?}",
        started.elapsed()
    );
}

/// Hostile schemas and patterns in a scenario are refused with a message, or compile and
/// judge without hanging: recursive `$ref`, huge repetition counts, deep nesting.
#[test]
fn hostile_schemas_and_patterns_load_or_fail_cleanly() {
    let cases = [
        "validators = [{ json_schema = { \"$ref\" = \"#\" } }]",
        "validators = [{ json_schema = { type = \"array\", items = { \"$ref\" = \"#\" } } }]",
        "validators = [{ json_schema = { \"$ref\" = \"#/definitions/nope\" } }]",
        "validators = [{ json_schema = { \"$ref\" = \"http://example.com/schema.json\" } }]",
        "validators = [{ json_schema = { type = \"strnig\" } }]",
        "validators = [{ json_schema = { pattern = \"(\" } }]",
        "validators = [{ json_schema = { type = \"string\", pattern = \"(a+)+$\" } }]",
        "validators = [{ regex = \"a{1000}{1000}\" }]",
        "validators = [{ regex = \"(a*)*b\" }]",
        "validators = [{ regex = \"\\\\p{Nope}\" }]",
        "validators = [{ max_chars = 0 }]",
        "validators = [{ one_of = [\"\"] }]",
    ];
    for v in cases {
        let src = format!(
            "name = \"t\"\n[prompt]\ntemplate = \"Q\"\n[call]\nprovider = \"openai\"\nmodel = \"m\"\n[response]\n{v}\n"
        );
        let started = Instant::now();
        let outcome = catch_unwind(|| parse(&src, "t.toml"))
            .unwrap_or_else(|_| panic!("{v}: parse panicked"));
        match outcome {
            Err(e) => {
                assert_eq!(e.line, 8, "{v}: {e}");
                assert!(!e.hint.is_empty(), "{v}: {e}");
            }
            Ok(s) => {
                let compiled = Validators::compile(&s.response.unwrap().validators);
                if let Ok(val) = compiled {
                    for answer in [
                        "",
                        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac",
                        &deep(120),
                        "[[[[1]]]]",
                    ] {
                        let _ = catch_unwind(AssertUnwindSafe(|| val.check(answer)))
                            .unwrap_or_else(|_| panic!("{v}: check panicked on {answer:?}"));
                    }
                }
            }
        }
        assert!(
            started.elapsed().as_secs() < 5,
            "{v}: took {:?}",
            started.elapsed()
        );
    }
}

// ----- `uppercase` is Python's str.isupper() (the Mirascope page's `assert v.isupper()`) -----

/// Strings where a naive `s == s.upper()` and `str.isupper()` disagree, plus ordinary ones.
const UPPER_CASES: &[(&str, bool)] = &[
    ("PATRICK ROTHFUSS", true),
    ("Patrick Rothfuss", false),
    ("42.", false),
    ("", false),
    ("   ", false),
    ("!?", false),
    ("A", true),
    ("A1!", true),
    ("ǅ", false),
    ("Aǅ", false),
    ("ǄA", true),
    ("ß", false),
    ("SSß", false),
    ("ΣΑΣ", true),
    ("日本", false),
    ("日本A", true),
    ("ᾈ", false),
    ("Ⅻ", true),
    ("ⓐ", false),
    ("Ⓐ", true),
    ("ABCdef", false),
    ("É\u{301}", true),
    ("ªA", false),
];

#[test]
fn uppercase_is_python_isupper() {
    let v = retrylab::validate::Validators::compile(&[
        retrylab::scenario::types::ValidatorSpec::Uppercase(true),
    ])
    .unwrap();
    for (text, want) in UPPER_CASES {
        assert_eq!(v.check(text).is_ok(), *want, "{text:?}");
    }
    assert_eq!(
        v.check("42."),
        Err("expected uppercase, got '42.' (no cased letter)".into())
    );
    // Cross-check against the real thing when python3 is installed.
    let texts: Vec<&str> = UPPER_CASES.iter().map(|(t, _)| *t).collect();
    let script = "import json,sys\nfor s in json.load(sys.stdin): print(s.isupper())";
    let child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!("python3 is not installed: the isupper cross-check is skipped");
        return;
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&texts).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let python: Vec<bool> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l == "True")
        .collect();
    let ours: Vec<bool> = UPPER_CASES.iter().map(|(_, w)| *w).collect();
    assert_eq!(
        python, ours,
        "the table above disagrees with Python for {texts:?}"
    );
}
