//! `retrylab export` (DESIGN §14): the code for each target, and findings for what a target
//! cannot express, at the top of the output and on stderr. The round trip itself (the
//! programs run against the simulator) is tests/export_roundtrip.sh.

use crate::support::cli::{retrylab, text};
use std::path::Path;
use std::process::Command;

const TARGETS: [&str; 5] = [
    "mirascope",
    "tenacity",
    "mirascope-v2",
    "litellm",
    "portkey",
];

#[test]
fn mirascope_export_is_the_retries_page_in_code() {
    let dir = tempfile::tempdir().unwrap();
    let out = retrylab(
        &["export", "fallback-with-retries", "--to", "mirascope"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let code = text(&out.stdout);
    for line in [
        "CLIENT_0 = sdk_client(\"openai\", None, TIMEOUT, max_retries=0)  # primary: openai gpt-4o-mini",
        "CLIENT_1 = sdk_client(\"anthropic\", None, TIMEOUT, max_retries=0)  # hop 1: anthropic claude-3-5-sonnet-latest",
        "@llm.call(provider=\"openai\", model=\"gpt-4o-mini\", client=CLIENT_0)",
        "def fallback_with_retries_prompt(question: str, *, errors: list[Exception] | None = None):",
        "@fallback(\n    RetryError,\n    [\n        {\n            \"catch\": RetryError,\n            \"provider\": \"anthropic\",\n            \"model\": \"claude-3-5-sonnet-latest\",\n            \"client\": CLIENT_1,\n        }\n    ],\n)",
        "@retry(\n    stop=stop_after_attempt(3),\n    wait=wait_retry_after(wait_exponential(multiplier=1, min=4, max=10), cap=60),\n    retry=retry_if_exception_type((openai.RateLimitError, anthropic.RateLimitError)) & retry_if_exception(kind_in(\"rate_limit\")),\n    before_sleep=trace_wait,\n)",
        "    response = fallback_with_retries_prompt(question=\"What is the meaning of life?\", errors=errors)",
        "BASE_URL = os.environ.get(\"RETRYLAB_BASE_URL\", \"http://127.0.0.1:8787\")",
    ] {
        assert!(code.contains(line), "missing:\n{line}\n---\n{code}");
    }
}

#[test]
fn reinsertion_and_validators_become_collect_errors_and_after_validators() {
    let dir = tempfile::tempdir().unwrap();
    let out = retrylab(
        &["export", "error-reinsertion", "--to", "mirascope"],
        dir.path(),
    );
    let code = text(&out.stdout);
    assert!(
        code.contains("after=collect_errors(ValidationError),"),
        "{code}"
    );
    assert!(
        code.contains("Answer = Annotated[str, AfterValidator(is_upper)]"),
        "{code}"
    );
    assert!(code.contains("    if texts:\n        prompt += \"Previous Error: \"\n        prompt += jinja_list(texts)\n"), "{code}");
    let tenacity =
        text(&retrylab(&["export", "tool-retry", "--to", "tenacity"], dir.path()).stdout);
    assert!(tenacity.contains("def get_book_author(title: str) -> str:\n    \"Look up who wrote a book\"\n    if title == \"The Name of the Wind\":\n        return \"Patrick Rothfuss\"\n"), "{tenacity}");
    assert!(tenacity.contains("    return \"Unknown\"\n"), "{tenacity}");
}

#[test]
fn every_target_exports_every_builtin_with_its_findings_on_top_and_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/scenarios"))
            .unwrap()
            .map(|e| {
                e.unwrap()
                    .path()
                    .file_stem()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
    assert!(names.len() >= 13);
    for name in &names {
        for target in TARGETS {
            let out = retrylab(&["export", name, "--to", target], dir.path());
            assert_eq!(
                out.status.code(),
                Some(0),
                "{name} {target}: {}",
                text(&out.stderr)
            );
            let code = text(&out.stdout);
            let top: String = code.lines().take(40).collect::<Vec<_>>().join("\n");
            assert!(
                top.contains("indings"),
                "{name} {target}: no findings block on top:\n{top}"
            );
            for finding in text(&out.stderr).lines() {
                let (_, said) = finding.split_once("): ").expect("`finding (Target): text`");
                assert!(
                    code.contains(said),
                    "{name} {target}: stderr's finding is not in the file: {said}"
                );
            }
            if target == "portkey" {
                let v: serde_json::Value =
                    serde_json::from_str(&code).expect("Portkey config is JSON");
                assert!(v["x-retrylab-findings"].is_array());
            }
        }
    }
}

#[test]
fn a_feature_the_target_lacks_is_a_finding_not_a_silent_drop() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lacks.toml");
    std::fs::write(
        &file,
        r#"name = "Lacks"
[prompt]
template = "{% for e in errors %}{{ e }}{% endfor %}Hi"
[call]
provider = "openai"
model = "gpt-4o-mini"
[retry]
stop = { after_attempt = 10 }
wait = { random_exponential = { multiplier = 1, max = 20 } }
retry_on = ["server_error"]
seed = 5
[fallback]
catch = ["retry_error"]
[[fallback.hops]]
provider = "anthropic"
model = "claude-3-5-haiku-latest"
catch = ["retry_error"]
retry = { stop = { after_attempt = 2 } }
"#,
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let findings = |target: &str| {
        let out = retrylab(&["export", path, "--to", target], dir.path());
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stderr)
    };
    let m = findings("mirascope");
    assert!(
        m.contains("a hop's own [retry] table: @fallback re-runs the one @retry-wrapped function"),
        "{m}"
    );
    assert!(
        m.contains(
            "jitter: seeds can't be shared across languages or libraries ([retry].seed = 5)"
        ),
        "{m}"
    );
    // The classes of server_error also catch overloaded: the predicate narrows them back,
    // so retry_on needs no finding (a fallback's catch, a class list only, does).
    assert!(
        !m.contains("retry_on: overloaded shares its exception class"),
        "{m}"
    );
    let code = text(&retrylab(&["export", path, "--to", "mirascope"], dir.path()).stdout);
    assert!(
        code.contains("& retry_if_exception(kind_in(\"server_error\"))"),
        "{code}"
    );
    assert!(
        m.contains("the template's `{% for e in errors %}` has no translation"),
        "{m}"
    );
    // Plain Tenacity keeps each hop's own table: no such finding there.
    assert!(!findings("tenacity").contains("a hop's own [retry] table"));
    let p = findings("portkey");
    assert!(
        p.contains("Portkey: attempts capped at 5 (the scenario retries 9 times)"),
        "{p}"
    );
    assert!(p.contains("Portkey: no jitter"), "{p}");
    let v2 = findings("mirascope-v2");
    assert!(
        v2.contains("Retry-After: Mirascope v2 does not read it"),
        "{v2}"
    );
    assert!(v2.contains("one retry_on for all hops"), "{v2}");
    let l = findings("litellm");
    assert!(
        l.contains("LiteLLM: a hop's own [retry] table has no spelling"),
        "{l}"
    );
}

#[test]
fn writes_to_a_file_and_refuses_an_unknown_target() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("basic.py");
    let out = retrylab(
        &[
            "export",
            "basic-retry",
            "--to",
            "tenacity",
            "-o",
            file.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let code = std::fs::read_to_string(&file).unwrap();
    assert!(
        code.starts_with("#!/usr/bin/env python3\n\"\"\"Basic retry — exported by retrylab"),
        "{code}"
    );
    assert!(
        code.contains("def hop_0(*, errors: list[Exception] | None = None) -> str:"),
        "{code}"
    );
    let bad = retrylab(&["export", "basic-retry", "--to", "langchain"], dir.path());
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("`langchain` is not a target: pick one of mirascope, tenacity, mirascope-v2, litellm, portkey"), "{}", text(&bad.stderr));
    let missing = retrylab(
        &["export", "no-such-scenario", "--to", "mirascope"],
        dir.path(),
    );
    assert_eq!(missing.status.code(), Some(2));
}

/// Review of issue 11: scenario text must never leave its string literal or comment in the
/// exported code. Each payload would run `os.system` (or add a YAML key) if it escaped.
const PAYLOAD: &str = "import os; os.system('echo PWNED')";

fn scenario_with(dir: &Path, file: &str, name: &str, model: &str) -> std::path::PathBuf {
    let path = dir.join(file);
    let toml = format!(
        "name = {}\n[prompt]\ntemplate = \"hi\"\n[call]\nprovider = \"openai\"\nmodel = {}\n[retry]\nstop = {{ after_attempt = 2 }}\n[sim]\nreply = \"ok\"\n",
        toml::Value::String(name.into()),
        toml::Value::String(model.into())
    );
    std::fs::write(&path, toml).expect("the scenario is written");
    path
}

#[test]
fn a_model_with_a_newline_stays_inside_its_comment_and_its_yaml_value() {
    let dir = tempfile::tempdir().unwrap();
    let model = format!("gpt\n{PAYLOAD}\n#");
    let path = scenario_with(dir.path(), "inj.toml", "Inj", &model);
    let arg = path.to_str().unwrap();
    for target in TARGETS {
        let out = retrylab(&["export", arg, "--to", target], dir.path());
        assert_eq!(
            out.status.code(),
            Some(0),
            "{target}: {}",
            text(&out.stderr)
        );
        let code = text(&out.stdout);
        assert!(
            !code.lines().any(|l| l.trim_start().starts_with(PAYLOAD)),
            "{target}: the model's text became a line of code:\n{code}"
        );
    }
}

#[test]
fn a_name_with_a_newline_stays_inside_the_litellm_comment() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_with(dir.path(), "n.toml", "N\nrouter_settings: {}", "gpt");
    let out = retrylab(
        &["export", path.to_str().unwrap(), "--to", "litellm"],
        dir.path(),
    );
    let code = text(&out.stdout);
    assert!(
        !code.lines().any(|l| l.starts_with("router_settings: {}")),
        "the name became a YAML key:\n{code}"
    );
}

#[test]
fn a_backslash_in_the_name_keeps_the_docstring_valid_python() {
    // `"""N\N ..."""` is a SyntaxError in Python (a malformed \N{...} escape).
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_with(dir.path(), "b.toml", "N\\N", "gpt");
    for target in ["mirascope", "tenacity", "mirascope-v2"] {
        let out = retrylab(
            &["export", path.to_str().unwrap(), "--to", target],
            dir.path(),
        );
        let code = text(&out.stdout);
        assert!(
            code.contains("\"\"\"N\\\\N — exported by retrylab"),
            "{target}: the backslash is not escaped:\n{}",
            &code[..code.len().min(400)]
        );
    }
}

#[test]
fn the_scenario_argument_cannot_close_the_docstring() {
    let dir = tempfile::tempdir().unwrap();
    let file = "x\"\"\"+__import__(\"os\").system(\"echo PWNED\")+\"\"\".toml";
    let path = scenario_with(dir.path(), file, "Arg", "gpt");
    for target in ["mirascope", "tenacity", "mirascope-v2"] {
        let out = retrylab(
            &["export", path.to_str().unwrap(), "--to", target],
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let code = text(&out.stdout);
        assert!(
            !code.contains("\"\"\"+__import__"),
            "{target}: the file name closes the docstring:\n{}",
            &code[..code.len().min(600)]
        );
    }
}

#[test]
fn a_prompt_variable_named_like_a_local_of_the_prompt_function_is_not_shadowed() {
    // `retrylab run` renders {{ prompt }} as the variable; the exported function must too,
    // not the half-built `prompt = ""` it assigns first.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.toml");
    std::fs::write(
        &path,
        "name = \"V\"\n[prompt]\ntemplate = \"hi {{ prompt }} {{ texts }}\"\nvars = { prompt = \"P\", texts = \"T\" }\n[call]\nprovider = \"openai\"\nmodel = \"gpt\"\n[sim]\nreply = \"ok\"\n",
    )
    .unwrap();
    for target in ["mirascope", "tenacity"] {
        let out = retrylab(
            &["export", path.to_str().unwrap(), "--to", target],
            dir.path(),
        );
        let code = text(&out.stdout);
        for local in ["prompt", "texts"] {
            assert!(
                !code.contains(&format!("jinja_str({local})")),
                "{target}: the variable `{local}` is read after the function overwrote it:\n{code}"
            );
        }
    }
}

/// A Python program's top-level names defined more than once (`def`, `class`, `import`,
/// `from … import`, assignments), by Python's own parser; None without python3.
fn defined_twice(path: &Path) -> Option<Vec<String>> {
    let script = "import ast, collections, sys\n\
        tree = ast.parse(open(sys.argv[1]).read())\n\
        names = []\n\
        for n in tree.body:\n\
        \x20   if isinstance(n, (ast.FunctionDef, ast.ClassDef)): names.append(n.name)\n\
        \x20   elif isinstance(n, (ast.Import, ast.ImportFrom)): names += [a.asname or a.name.split('.')[0] for a in n.names]\n\
        \x20   elif isinstance(n, ast.Assign): names += [t.id for t in n.targets if isinstance(t, ast.Name)]\n\
        print(' '.join(sorted(k for k, v in collections.Counter(names).items() if v > 1)))\n";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .output()
        .ok()?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    Some(
        text(&out.stdout)
            .split_whitespace()
            .map(String::from)
            .collect(),
    )
}

#[test]
fn a_tool_named_like_the_programs_own_functions_never_shadows_them() {
    // `retry` would replace Tenacity's decorator, `call` the program's entry point.
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string("assets/scenarios/tool-retry.toml").unwrap();
    let path = dir.path().join("tools.toml");
    std::fs::write(&path, src.replace("get_book_author", "retry")).unwrap();
    for target in ["mirascope", "tenacity", "mirascope-v2"] {
        let out = retrylab(
            &["export", path.to_str().unwrap(), "--to", target],
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let code = text(&out.stdout);
        assert!(code.contains("\ndef tool_retry("), "{target}:\n{code}");
        assert!(!code.contains("\ndef retry("), "{target}");
        if target != "tenacity" {
            // Mirascope names the tool after the function: its name is set back.
            assert!(code.contains("tool_retry.__name__ = \"retry\""), "{target}");
        }
        let py = dir.path().join(format!("{target}.py"));
        std::fs::write(&py, &code).unwrap();
        match defined_twice(&py) {
            Some(twice) => assert!(
                twice.iter().all(|n| n != "retry" && n != "tool_retry"),
                "{target}: defined twice: {twice:?}"
            ),
            None => eprintln!("python3 not found: the program's names not parsed"),
        }
    }
}

#[test]
fn names_keep_their_case_so_a_tool_is_called_what_the_scenario_calls_it() {
    // Mirascope sends the function's name as the tool's: lowercased, `GetAuthor` would be
    // another tool; and vars `Book` and `book` would be one parameter twice.
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string("assets/scenarios/tool-retry.toml").unwrap();
    let path = dir.path().join("tools.toml");
    std::fs::write(&path, src.replace("get_book_author", "GetBookAuthor")).unwrap();
    let out = retrylab(
        &["export", path.to_str().unwrap(), "--to", "mirascope"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let code = text(&out.stdout);
    assert!(code.contains("\ndef GetBookAuthor("), "{code}");
    assert!(code.contains("tools=[GetBookAuthor]"), "{code}");
}
