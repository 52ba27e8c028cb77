//! Tool definitions (`[[tools]]`) and their execution. A call's arguments (the JSON text as
//! the model sent it) are parsed and validated against the tool's parameters schema, then
//! answered from the first `cases` entry whose `when` matches, else `default`, else "null".
//! Every failure is a message for a `tool_validation` error.

use crate::provider::ToolDef;
use crate::scenario::types::ToolSpec;
use crate::validate::{Wording, compile_schema, describe_violations, shorten, toml_to_json};
use serde_json::{Map, Value as Json};

/// The compiled tools of a scenario.
#[derive(Debug, Default)]
pub struct Toolbox {
    tools: Vec<Tool>,
}

#[derive(Debug)]
struct Tool {
    def: ToolDef,
    schema: jsonschema::Validator,
    cases: Vec<(Map<String, Json>, String)>,
    default: Option<String>,
}

impl Toolbox {
    /// Compiles every tool's schema; refuses duplicate names.
    pub fn compile(specs: &[ToolSpec]) -> Result<Toolbox, String> {
        let mut tools: Vec<Tool> = Vec::with_capacity(specs.len());
        for spec in specs {
            if tools.iter().any(|t| t.def.name == spec.name) {
                return Err(format!("duplicate tool name `{}`", spec.name));
            }
            let parameters = toml_to_json(spec.parameters.get_ref());
            let schema =
                compile_schema(&parameters).map_err(|e| format!("tool `{}`: {e}", spec.name))?;
            let cases = spec
                .cases
                .iter()
                .map(|c| {
                    let when = c
                        .when
                        .iter()
                        .map(|(k, v)| (k.clone(), toml_to_json(v)))
                        .collect();
                    (when, c.result.clone())
                })
                .collect();
            tools.push(Tool {
                def: ToolDef {
                    name: spec.name.clone(),
                    description: spec.description.clone(),
                    parameters,
                },
                schema,
                cases,
                default: spec.default.clone(),
            });
        }
        Ok(Toolbox { tools })
    }

    /// The definitions offered to the model, in file order.
    pub fn defs(&self) -> Vec<ToolDef> {
        self.tools.iter().map(|t| t.def.clone()).collect()
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// Runs a tool call. Empty arguments count as `{}` (some models send "" for no
    /// arguments). Err = the `tool_validation` message.
    pub fn call(&self, name: &str, args: &str) -> Result<String, String> {
        let Some(tool) = self.tools.iter().find(|t| t.def.name == name) else {
            let offered: Vec<&str> = self.tools.iter().map(|t| t.def.name.as_str()).collect();
            return Err(if offered.is_empty() {
                format!("unknown tool `{name}`; no tools are offered")
            } else {
                format!(
                    "unknown tool `{name}`; tools offered: {}",
                    offered.join(", ")
                )
            });
        };
        let value: Json = if args.trim().is_empty() {
            Json::Object(Map::new())
        } else {
            serde_json::from_str(args).map_err(|e| {
                format!(
                    "arguments are not valid JSON: {e} in '{}'",
                    shorten(args, 60)
                )
            })?
        };
        if let Some(why) = describe_violations(&tool.schema, &value, Wording::Arguments) {
            return Err(why);
        }
        let answer = tool
            .cases
            .iter()
            .find(|(when, _)| {
                when.iter()
                    .all(|(k, want)| value.get(k).is_some_and(|got| same(got, want)))
            })
            .map(|(_, result)| result.clone())
            .or_else(|| tool.default.clone())
            .unwrap_or_else(|| "null".to_string());
        Ok(answer)
    }
}

/// JSON equality where numbers compare by value (a case's `3` matches the model's `3.0`).
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toolbox(src: &str) -> Toolbox {
        #[derive(serde::Deserialize)]
        struct T {
            tools: Vec<ToolSpec>,
        }
        Toolbox::compile(&toml::from_str::<T>(src).unwrap().tools).unwrap()
    }

    const BOOKS: &str = r#"
[[tools]]
name = "get_book_author"
description = "Look up who wrote a book"
parameters = { type = "object", properties = { title = { type = "string" }, year = { type = "integer" } }, required = ["title"], additionalProperties = false }
cases = [
  { when = { title = "The Name of the Wind" }, result = "Patrick Rothfuss" },
  { when = { title = "Dune", year = 1965 }, result = "Frank Herbert" },
]
default = "Unknown"
"#;

    #[test]
    fn answers_from_cases_then_default() {
        let t = toolbox(BOOKS);
        assert_eq!(
            t.call("get_book_author", r#"{"title": "The Name of the Wind"}"#),
            Ok("Patrick Rothfuss".into())
        );
        assert_eq!(
            t.call("get_book_author", r#"{"title": "Dune", "year": 1965}"#),
            Ok("Frank Herbert".into())
        );
        assert_eq!(
            t.call("get_book_author", r#"{"title": "Dune"}"#),
            Ok("Unknown".into())
        );
        assert_eq!(t.defs().len(), 1);
        assert_eq!(t.defs()[0].parameters["required"][0], "title");
        assert!(!t.is_empty());
    }

    #[test]
    fn without_default_answers_null() {
        let t = toolbox("[[tools]]\nname = \"f\"\nparameters = { type = \"object\" }\n");
        assert_eq!(t.call("f", ""), Ok("null".into()));
        assert_eq!(t.call("f", "{}"), Ok("null".into()));
    }

    #[test]
    fn refuses_bad_arguments() {
        let t = toolbox(BOOKS);
        let e = t.call("get_book_author", "{\"title\": ").unwrap_err();
        assert!(e.starts_with("arguments are not valid JSON: "), "{e}");
        assert_eq!(
            t.call("get_book_author", "{}"),
            Err("missing required argument `title`".into())
        );
        assert_eq!(
            t.call("get_book_author", r#"{"title": 3}"#),
            Err("argument `title` must be a string, got 3".into())
        );
        let e = t.call("get_book_author", r#"{"titel": "x"}"#).unwrap_err();
        assert!(e.contains("unknown argument `titel`"), "{e}");
        assert!(e.contains("missing required argument `title`"), "{e}");
        assert_eq!(
            t.call("get_author", "{}"),
            Err("unknown tool `get_author`; tools offered: get_book_author".into())
        );
        assert_eq!(
            Toolbox::default().call("x", "{}"),
            Err("unknown tool `x`; no tools are offered".into())
        );
    }

    #[test]
    fn refuses_duplicates_and_bad_schemas() {
        #[derive(serde::Deserialize)]
        struct T {
            tools: Vec<ToolSpec>,
        }
        let dup: T = toml::from_str(
            "[[tools]]\nname = \"a\"\nparameters = {}\n[[tools]]\nname = \"a\"\nparameters = {}\n",
        )
        .unwrap();
        assert_eq!(
            Toolbox::compile(&dup.tools).unwrap_err(),
            "duplicate tool name `a`"
        );
        let bad: T =
            toml::from_str("[[tools]]\nname = \"a\"\nparameters = { type = \"objekt\" }\n")
                .unwrap();
        assert!(
            Toolbox::compile(&bad.tools)
                .unwrap_err()
                .starts_with("tool `a`: invalid JSON schema")
        );
    }

    #[test]
    fn shareable_across_tasks() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Toolbox>();
        send_sync::<crate::validate::Validators>();
    }

    #[test]
    fn numbers_match_by_value() {
        assert!(same(&serde_json::json!(3), &serde_json::json!(3.0)));
        assert!(!same(&serde_json::json!(3), &serde_json::json!("3")));
    }
}
