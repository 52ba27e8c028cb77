//! JSON-schema helpers shared by the `json_schema` validator, tool arguments and scenario
//! loading: TOML → JSON, compiling a schema (checked against its meta-schema) and turning
//! violations into sentences a model (or a person) can act on.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value as Json;

/// How violations are worded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wording {
    /// A response document: the library's message plus the JSON pointer, `(at /age)`.
    Document,
    /// Tool-call arguments: "missing required argument `title`", "unknown argument `x`".
    Arguments,
}

/// TOML values as JSON. Datetimes become their TOML text; non-finite floats become null
/// (JSON has no spelling for them).
pub fn toml_to_json(value: &toml::Value) -> Json {
    match value {
        toml::Value::String(s) => Json::String(s.clone()),
        toml::Value::Integer(i) => Json::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        toml::Value::Boolean(b) => Json::Bool(*b),
        toml::Value::Datetime(d) => Json::String(d.to_string()),
        toml::Value::Array(items) => Json::Array(items.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Json::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

/// Compiles a schema, refusing one that violates its meta-schema. Only local `$ref`s
/// resolve: the crate is built without remote fetching.
pub fn compile_schema(schema: &Json) -> Result<Validator, String> {
    if !(schema.is_object() || schema.is_boolean()) {
        return Err(format!(
            "a JSON schema is a table (or true/false), got {}",
            json_text(schema)
        ));
    }
    jsonschema::validator_for(schema).map_err(|e| {
        let at = e.instance_path().as_str();
        // The meta-schema says "not valid under any of the schemas listed in 'anyOf'" for a
        // misspelt type; name the valid ones instead.
        let why = if at.ends_with("/type") {
            format!(
                "{} is not a JSON type (array, boolean, integer, null, number, object, string)",
                json_text(e.instance())
            )
        } else {
            e.to_string()
        };
        if at.is_empty() {
            format!("invalid JSON schema: {why}")
        } else {
            format!("invalid JSON schema at {at}: {why}")
        }
    })
}

/// Every violation of `value` against `validator`, worded per `wording`; `None` when valid.
/// The messages are joined with "; " in the order the validator reports them.
pub fn describe_violations(
    validator: &Validator,
    value: &Json,
    wording: Wording,
) -> Option<String> {
    let all: Vec<String> = validator
        .iter_errors(value)
        .map(|e| match wording {
            Wording::Document => document_message(&e),
            Wording::Arguments => argument_message(&e),
        })
        .collect();
    if all.is_empty() {
        None
    } else {
        Some(all.join("; "))
    }
}

fn document_message(e: &ValidationError<'_>) -> String {
    let at = e.instance_path().as_str();
    format!("{e} (at {})", if at.is_empty() { "/" } else { at })
}

fn argument_message(e: &ValidationError<'_>) -> String {
    // "/author/name" → "author.name": how a model would name the argument.
    let path = e
        .instance_path()
        .as_str()
        .trim_start_matches('/')
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".");
    let got = json_text(e.instance());
    match e.kind() {
        ValidationErrorKind::Required { property } => {
            let name = property
                .as_str()
                .map_or_else(|| property.to_string(), str::to_string);
            if path.is_empty() {
                format!("missing required argument `{name}`")
            } else {
                format!("missing required field `{name}` in argument `{path}`")
            }
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let names: Vec<String> = unexpected.iter().map(|u| format!("`{u}`")).collect();
            let noun = if names.len() == 1 {
                "argument"
            } else {
                "arguments"
            };
            if path.is_empty() {
                format!("unknown {noun} {}", names.join(", "))
            } else {
                format!("unknown field(s) {} in argument `{path}`", names.join(", "))
            }
        }
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => with_article(t.as_str()),
                TypeKind::Multiple(set) => set
                    .iter()
                    .map(|t| with_article(t.as_str()))
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            if path.is_empty() {
                format!("arguments must be {expected}, got {got}")
            } else {
                format!("argument `{path}` must be {expected}, got {got}")
            }
        }
        _ if path.is_empty() => format!("arguments: {e}"),
        _ => format!("argument `{path}`: {e}"),
    }
}

fn with_article(type_name: &str) -> String {
    match type_name {
        "null" => "null".to_string(),
        t if t.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {t}"),
        t => format!("a {t}"),
    }
}

/// Compact JSON text, shortened for messages.
fn json_text(value: &Json) -> String {
    super::shorten(&value.to_string(), 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args_schema() -> Validator {
        compile_schema(&json!({
            "type": "object",
            "properties": {"title": {"type": "string"}, "year": {"type": ["integer", "null"]}},
            "required": ["title"],
            "additionalProperties": false
        }))
        .unwrap()
    }

    #[test]
    fn converts_toml_to_json() {
        let t: toml::Value = toml::from_str("a = 1\nb = [true, 'x']\nc = { d = 1.5 }").unwrap();
        assert_eq!(
            toml_to_json(&t),
            json!({"a": 1, "b": [true, "x"], "c": {"d": 1.5}})
        );
    }

    #[test]
    fn refuses_invalid_schemas() {
        let e = compile_schema(&json!({"type": "strin"})).unwrap_err();
        assert!(e.starts_with("invalid JSON schema"), "{e}");
        let e = compile_schema(&json!("object")).unwrap_err();
        assert!(e.starts_with("a JSON schema is a table"), "{e}");
        assert!(compile_schema(&json!({"properties": {"a": {"minLength": -1}}})).is_err());
        assert!(compile_schema(&json!(true)).is_ok());
    }

    #[test]
    fn remote_refs_and_unknown_drafts_do_not_panic() {
        let _ = compile_schema(&json!({"$ref": "https://example.com/schema.json"}));
        let _ = compile_schema(&json!({"$schema": "https://example.com/meta", "type": "object"}));
        let _ = compile_schema(&json!({"$ref": "#/nowhere"}));
    }

    #[test]
    fn words_argument_violations() {
        let v = args_schema();
        let say = |j: Json| describe_violations(&v, &j, Wording::Arguments);
        assert_eq!(say(json!({"title": "x"})), None);
        assert_eq!(say(json!({})).unwrap(), "missing required argument `title`");
        assert_eq!(
            say(json!({"title": 3})).unwrap(),
            "argument `title` must be a string, got 3"
        );
        assert_eq!(
            say(json!({"title": "x", "year": "1990"})).unwrap(),
            "argument `year` must be null or an integer, got \"1990\""
        );
        let both = say(json!({"titel": "x"})).unwrap();
        assert!(both.contains("missing required argument `title`"), "{both}");
        assert!(both.contains("unknown argument `titel`"), "{both}");
        assert_eq!(say(json!(3)).unwrap(), "arguments must be an object, got 3");
    }

    #[test]
    fn words_document_violations() {
        let v = compile_schema(&json!({"type": "object", "required": ["age"]})).unwrap();
        assert_eq!(
            describe_violations(&v, &json!({}), Wording::Document).unwrap(),
            "\"age\" is a required property (at /)"
        );
    }
}
