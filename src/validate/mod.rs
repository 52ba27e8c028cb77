//! Response validators (the `[response]` table, Mirascope's `response_model`): what a valid
//! answer is. Every validator runs in the order written and the first failure is reported,
//! because that message is what goes back to the model on reinsertion: one clear fix at a
//! time reads better than a list.
//!
//! Also home of the JSON-schema helpers shared with tool-argument validation
//! ([`crate::tools`]): TOML → JSON conversion, schema compilation, readable violations.

pub mod schema;

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

pub use schema::{Wording, compile_schema, describe_violations, toml_to_json};

/// One validator, written as a one-key table: `{ uppercase = true }`, `{ regex = "^A" }`,
/// `{ json = true }`, `{ json_schema = {...} }`, `{ max_chars = 200 }`, `{ one_of = [..] }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ValidatorSpec {
    Uppercase(bool),
    Regex(Spanned<String>),
    Json(bool),
    JsonSchema(Spanned<toml::Value>),
    MaxChars(usize),
    OneOf(Vec<String>),
}

/// How much of the model's answer a failure message quotes.
const QUOTE_CHARS: usize = 60;

/// The compiled validators of a scenario.
#[derive(Debug, Default)]
pub struct Validators {
    rules: Vec<Rule>,
}

#[derive(Debug)]
enum Rule {
    Uppercase,
    Regex(Regex),
    Json,
    JsonSchema(Box<jsonschema::Validator>),
    MaxChars(usize),
    OneOf(Vec<String>),
}

impl Validators {
    /// Compiles the validators; `{ uppercase = false }` and `{ json = false }` are no-ops.
    pub fn compile(specs: &[ValidatorSpec]) -> Result<Validators, String> {
        let mut rules = Vec::with_capacity(specs.len());
        for spec in specs {
            let rule = match spec {
                ValidatorSpec::Uppercase(true) => Rule::Uppercase,
                ValidatorSpec::Json(true) => Rule::Json,
                ValidatorSpec::Uppercase(false) | ValidatorSpec::Json(false) => continue,
                ValidatorSpec::Regex(re) => Rule::Regex(
                    Regex::new(re.get_ref()).map_err(|e| format!("bad regex: {}", one_line(&e)))?,
                ),
                ValidatorSpec::JsonSchema(schema) => {
                    let json = toml_to_json(schema.get_ref());
                    Rule::JsonSchema(Box::new(compile_schema(&json)?))
                }
                ValidatorSpec::MaxChars(n) => Rule::MaxChars(*n),
                ValidatorSpec::OneOf(options) => {
                    if options.is_empty() {
                        return Err("one_of needs at least one value".into());
                    }
                    Rule::OneOf(options.clone())
                }
            };
            rules.push(rule);
        }
        Ok(Validators { rules })
    }

    /// Ok when every validator accepts `content`; else the first failure's message.
    pub fn check(&self, content: &str) -> Result<(), String> {
        self.rules.iter().try_for_each(|r| r.check(content))
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

impl Rule {
    fn check(&self, content: &str) -> Result<(), String> {
        match self {
            // Python's `str.isupper()` (Mirascope's `assert v.isupper()`): "42." fails.
            Rule::Uppercase => match is_upper(content) {
                Some(true) => Ok(()),
                Some(false) => Err(format!("expected uppercase, got {}", quote(content))),
                None => Err(format!(
                    "expected uppercase, got {} (no cased letter)",
                    quote(content)
                )),
            },
            // `is_match` searches anywhere; anchor with ^ and $ for a whole-answer match.
            Rule::Regex(re) => {
                if re.is_match(content) {
                    Ok(())
                } else {
                    Err(format!(
                        "does not match regex `{}`: {}",
                        re.as_str(),
                        quote(content)
                    ))
                }
            }
            Rule::Json => parse_json(content).map(|_| ()),
            Rule::JsonSchema(validator) => {
                let value = parse_json(content)?;
                match describe_violations(validator, &value, Wording::Document) {
                    None => Ok(()),
                    Some(why) => Err(format!("does not match the schema: {why}")),
                }
            }
            Rule::MaxChars(max) => {
                let n = content.chars().count();
                if n <= *max {
                    Ok(())
                } else {
                    Err(format!("expected at most {max} characters, got {n}"))
                }
            }
            // Answers usually end with a newline or a space: compare trimmed.
            Rule::OneOf(options) => {
                let answer = content.trim();
                if options.iter().any(|o| o == answer) {
                    Ok(())
                } else {
                    let list: Vec<String> = options.iter().map(|o| quote(o)).collect();
                    Err(format!(
                        "expected one of [{}], got {}",
                        list.join(", "),
                        quote(answer)
                    ))
                }
            }
        }
    }
}

/// Python's `str.isupper()`: no lowercase or titlecase character and at least one uppercase
/// one. `None` when the text has no cased character at all (also false in Python).
fn is_upper(text: &str) -> Option<bool> {
    let mut cased = false;
    for c in text.chars() {
        if c.is_lowercase() || is_titlecase(c) {
            return Some(false);
        }
        cased |= c.is_uppercase();
    }
    cased.then_some(true)
}

/// Unicode category Lt (std has no such test): the 31 titlecase letters, such as 'ǅ'.
fn is_titlecase(c: char) -> bool {
    matches!(c,
        '\u{01C5}' | '\u{01C8}' | '\u{01CB}' | '\u{01F2}'
        | '\u{1F88}'..='\u{1F8F}' | '\u{1F98}'..='\u{1F9F}' | '\u{1FA8}'..='\u{1FAF}'
        | '\u{1FBC}' | '\u{1FCC}' | '\u{1FFC}')
}

fn parse_json(content: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(content)
        .map_err(|e| format!("expected JSON, got {} ({e})", quote(content)))
}

/// `'text'`, shortened to [`QUOTE_CHARS`] characters with an ellipsis.
pub fn quote(text: &str) -> String {
    format!("'{}'", shorten(text, QUOTE_CHARS))
}

/// At most `max` characters of `text` (the last one an ellipsis when cut), on one line.
pub fn shorten(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    if flat.chars().count() <= max {
        return flat;
    }
    let mut out: String = flat.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// An error's text on one line (regex errors span several lines).
fn one_line(e: &dyn std::fmt::Display) -> String {
    e.to_string()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use toml::Spanned;

    fn specs(src: &str) -> Vec<ValidatorSpec> {
        #[derive(serde::Deserialize)]
        struct T {
            validators: Vec<ValidatorSpec>,
        }
        toml::from_str::<T>(src).unwrap().validators
    }

    fn one(src: &str) -> Validators {
        Validators::compile(&specs(&format!("validators = [{src}]"))).unwrap()
    }

    #[test]
    fn uppercase() {
        let v = one("{ uppercase = true }");
        assert_eq!(v.check("PATRICK ROTHFUSS"), Ok(()));
        assert!(
            v.check("42.").is_err(),
            "no cased letter: Python's isupper() is false"
        );
        assert_eq!(
            v.check("Patrick Rothfuss"),
            Err("expected uppercase, got 'Patrick Rothfuss'".into())
        );
        assert!(one("{ uppercase = false }").is_empty());
    }

    #[test]
    fn regex_searches() {
        let v = one("{ regex = '^[A-Z]+$' }");
        assert_eq!(v.check("ABC"), Ok(()));
        assert_eq!(
            v.check("abc"),
            Err("does not match regex `^[A-Z]+$`: 'abc'".into())
        );
        assert_eq!(one("{ regex = 'B' }").check("ABC"), Ok(()));
    }

    #[test]
    fn json() {
        let v = one("{ json = true }");
        assert_eq!(v.check(r#" {"a": 1} "#), Ok(()));
        assert_eq!(
            v.check("abc"),
            Err("expected JSON, got 'abc' (expected value at line 1 column 1)".into())
        );
    }

    #[test]
    fn json_schema() {
        let v = one(
            "{ json_schema = { type = 'object', properties = { age = { type = 'integer' } }, required = ['age'] } }",
        );
        assert_eq!(v.check(r#"{"age": 3}"#), Ok(()));
        assert_eq!(
            v.check("{}"),
            Err("does not match the schema: \"age\" is a required property (at /)".into())
        );
        assert_eq!(
            v.check(r#"{"age": "old"}"#),
            Err("does not match the schema: \"old\" is not of type \"integer\" (at /age)".into())
        );
        assert!(
            v.check("nope")
                .unwrap_err()
                .starts_with("expected JSON, got 'nope'")
        );
    }

    #[test]
    fn max_chars_counts_characters() {
        let v = one("{ max_chars = 20 }");
        assert_eq!(v.check("ééééé"), Ok(()));
        assert_eq!(
            v.check("a sentence that is 31 chars lo."),
            Err("expected at most 20 characters, got 31".into())
        );
    }

    #[test]
    fn one_of_trims() {
        let v = one("{ one_of = ['A', 'B'] }");
        assert_eq!(v.check("A\n"), Ok(()));
        assert_eq!(
            v.check("C"),
            Err("expected one of ['A', 'B'], got 'C'".into())
        );
    }

    #[test]
    fn first_failure_in_order_wins() {
        let v = Validators::compile(&specs(
            "validators = [{ max_chars = 3 }, { uppercase = true }]",
        ))
        .unwrap();
        assert_eq!(
            v.check("abcdef"),
            Err("expected at most 3 characters, got 6".into())
        );
        assert_eq!(v.check("abc"), Err("expected uppercase, got 'abc'".into()));
        assert!(Validators::compile(&[]).unwrap().is_empty());
    }

    #[test]
    fn long_answers_are_shortened() {
        let long = "x".repeat(500);
        let msg = one("{ uppercase = true }").check(&long).unwrap_err();
        assert!(msg.chars().count() < 100, "{msg}");
        assert!(msg.ends_with("…'"));
    }

    #[test]
    fn compile_errors() {
        let bad = ValidatorSpec::Regex(Spanned::new(0..1, "(".into()));
        assert!(
            Validators::compile(&[bad])
                .unwrap_err()
                .starts_with("bad regex")
        );
        assert_eq!(
            Validators::compile(&[ValidatorSpec::OneOf(vec![])]).unwrap_err(),
            "one_of needs at least one value"
        );
    }
}
