//! Turns toml's syntax errors and serde's deserialization errors into a message and a
//! one-line fix hint, using the key path of the error's span for context (which table, which
//! key, what kind of name was expected).

use super::locate::KeyPath;
use crate::error::ErrorKind;

/// A syntax error from toml's parser.
pub fn syntax(message: &str) -> (String, String) {
    let hint = if message.contains("duplicate key") {
        "each key may appear once per table; remove or rename the repeated one"
    } else if message.contains("unclosed table") || message.contains("unclosed array") {
        "close the bracket: tables are [name], arrays of tables [[name]], arrays [a, b]"
    } else if message.contains("string") {
        "close the string: \"...\" or '...' on one line, \"\"\"...\"\"\" or '''...''' for several lines"
    } else if message.contains("inline table") {
        "an inline table is { key = value, other = value } on one line"
    } else {
        "TOML is `key = value`; strings need quotes, tables are [name], inline tables { k = v }"
    };
    (format!("TOML syntax error: {message}"), hint.to_string())
}

/// A serde error at `path` (`on_key`: the span is a key, not a value).
pub fn serde(message: &str, path: &KeyPath, on_key: bool) -> (String, String) {
    let names = backticked(message);
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or_default();
        let valid = expected_after(message, &names);
        return unknown_key(key, &valid, &where_label(path, 1));
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let got = rest.split('`').next().unwrap_or_default();
        let valid = expected_after(message, &names);
        let noun = variant_noun(&valid);
        if noun == Noun::ResultKind && !on_key {
            return not_a_result(got, &valid);
        }
        if on_key {
            return unknown_key(got, &valid, noun.plural());
        }
        return unknown_name(got, &valid, noun);
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or_default();
        return missing(key, path);
    }
    let key = path.last_key().unwrap_or("value");
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        if rest.contains("unit variant") {
            return one_key_table(path, "is not a table");
        }
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, "?"));
        return (
            format!(
                "wrong type for `{key}`: expected {}, found {found}",
                type_name(expected)
            ),
            type_hint(expected, key),
        );
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, "?"));
        if let Some(words) = out_of_range(found, expected, key) {
            return words;
        }
        return (
            format!(
                "invalid value for `{key}`: expected {}, found {found}",
                type_name(expected)
            ),
            type_hint(expected, key),
        );
    }
    if message.starts_with("wanted exactly 1 element") {
        let what = if message.contains("found 0") {
            "is empty"
        } else {
            "has more than one key"
        };
        return one_key_table(path, what);
    }
    if message.starts_with("wanted string or table") {
        return one_key_table(path, "is not a table");
    }
    if message.contains(crate::policy::duration::NAN_DURATION) {
        return (
            format!("`{key}` is not a number (nan)"),
            "write seconds (4, 0.25) or a string like \"250ms\", \"4s\", \"2m\"".into(),
        );
    }
    if message.contains("duration") {
        return (
            format!("bad duration for `{key}`: {message}"),
            "write seconds (4, 0.25) or a string like \"250ms\", \"4s\", \"2m\"; never negative"
                .into(),
        );
    }
    (
        format!("invalid `{path}`: {message}"),
        "see the scenario format in README.md".into(),
    )
}

/// What a set of enum names is, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Noun {
    ErrorKind,
    Provider,
    Fault,
    Stop,
    Wait,
    Validator,
    ReinsertMode,
    RetryAfterFormat,
    Distribution,
    ResultKind,
    OnExhausted,
    Other,
}

impl Noun {
    fn singular(self) -> &'static str {
        match self {
            Noun::ErrorKind => "error kind",
            Noun::Provider => "provider",
            Noun::Fault => "fault",
            Noun::Stop => "stop strategy",
            Noun::Wait => "wait strategy",
            Noun::Validator => "validator",
            Noun::ReinsertMode => "reinsert_mode",
            Noun::RetryAfterFormat => "retry_after_format",
            Noun::Distribution => "latency distribution",
            Noun::ResultKind => "result kind",
            Noun::OnExhausted => "on_exhausted",
            Noun::Other => "value",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Noun::ErrorKind => "error kinds",
            Noun::Provider => "providers",
            Noun::Fault => "faults",
            Noun::Stop => "stop strategies",
            Noun::Wait => "wait strategies",
            Noun::Validator => "validators",
            Noun::ReinsertMode => "reinsert modes",
            Noun::RetryAfterFormat => "retry_after formats",
            Noun::Distribution => "latency distributions",
            Noun::ResultKind => "result kinds",
            Noun::OnExhausted => "on_exhausted values",
            Noun::Other => "valid values",
        }
    }
}

fn variant_noun(valid: &[String]) -> Noun {
    let has = |n: &str| valid.iter().any(|v| v == n);
    if has(ErrorKind::RetryError.as_str()) {
        Noun::ErrorKind
    } else if has("openai-compatible") {
        Noun::Provider
    } else if has("cut_stream") {
        Noun::Fault
    } else if has("after_attempt") {
        Noun::Stop
    } else if has("exponential") {
        Noun::Wait
    } else if has("uppercase") {
        Noun::Validator
    } else if has("reask") {
        Noun::ReinsertMode
    } else if has("date") {
        Noun::RetryAfterFormat
    } else if has("lognormal") {
        Noun::Distribution
    } else if has("content_filter") && has("validation") {
        Noun::ResultKind
    } else if has("last_partial") {
        Noun::OnExhausted
    } else {
        Noun::Other
    }
}

/// The noun for a one-key-table enum at `path` (stop, wait, validator).
fn table_noun(path: &KeyPath) -> Noun {
    for key in path.keys_rev() {
        match key {
            "stop" | "any" | "all" => return Noun::Stop,
            "wait" | "chain" | "sum" => return Noun::Wait,
            "validators" => return Noun::Validator,
            "first_token" | "tokens_per_second" => return Noun::Distribution,
            _ => {}
        }
    }
    Noun::Other
}

fn one_key_table(path: &KeyPath, what: &str) -> (String, String) {
    let noun = table_noun(path);
    let hint = match noun {
        Noun::Stop => {
            "write one strategy, e.g. stop = { after_attempt = 3 }; combine with { any = [..] } or { all = [..] }"
        }
        Noun::Wait => {
            "write one strategy, e.g. wait = { fixed = \"2s\" }; combine with { chain = [..] } or { sum = [..] }"
        }
        Noun::Validator => {
            "write each validator as its own table: validators = [{ uppercase = true }, { max_chars = 200 }]"
        }
        Noun::Distribution => {
            "write one distribution, e.g. first_token = { lognormal = { median = \"400ms\", p99 = \"3s\" } }"
        }
        _ => "write it as a table with exactly one key",
    };
    (
        format!(
            "`{path}` {what}; a {} is a table with exactly one key",
            noun.singular()
        ),
        hint.into(),
    )
}

fn unknown_key(key: &str, valid: &[String], where_: &str) -> (String, String) {
    let list = valid.join(", ");
    match closest(key, valid) {
        Some(best) => (
            format!("unknown key `{key}`; did you mean `{best}`?"),
            format!("rename it to `{best}` ({where_}: {list})"),
        ),
        None if valid.is_empty() => (
            format!("unknown key `{key}`"),
            format!("remove it: {where_} takes no keys"),
        ),
        None => (
            format!("unknown key `{key}`"),
            format!("remove or rename it; {where_}: {list}"),
        ),
    }
}

/// A name in `on_result` that is not a result kind: an error kind gets its own words (a
/// retryable error moves on through `catch`, not `on_result`).
fn not_a_result(got: &str, valid: &[String]) -> (String, String) {
    let list = valid.join(", ");
    if ErrorKind::ALL.iter().any(|k| k.as_str() == got) {
        return (
            format!("`{got}` is an error kind, not a result: on_result rejects 200 replies"),
            format!(
                "on_result takes the result kinds {list}; to fall back on {got}, list it in the catch lists"
            ),
        );
    }
    unknown_name(got, valid, Noun::ResultKind)
}

fn unknown_name(got: &str, valid: &[String], noun: Noun) -> (String, String) {
    let list = valid.join(", ");
    let what = noun.singular();
    match closest(got, valid) {
        Some(best) => (
            format!("unknown {what} `{got}`; did you mean `{best}`?"),
            format!("write \"{best}\" ({}: {list})", noun.plural()),
        ),
        None => (
            format!("unknown {what} `{got}`"),
            format!("use one of the {}: {list}", noun.plural()),
        ),
    }
}

fn missing(key: &str, path: &KeyPath) -> (String, String) {
    let table = if path.is_root() {
        "the scenario".to_string()
    } else {
        format!("`{path}`")
    };
    let hint = match key {
        "name" => "add `name = \"My scenario\"` at the top of the file",
        "prompt" => "add a [prompt] table with `template = \"...\"`",
        "call" => "add a [call] table: provider = \"openai\" and model = \"gpt-4o-mini\"",
        "template" => "add `template = \"Answer: {{ question }}\"` (minijinja)",
        "provider" => "add `provider = \"openai\"` (or \"anthropic\", \"openai-compatible\")",
        "model" => "add `model = \"gpt-4o-mini\"` (the model name the provider expects)",
        "catch" => "add `catch = [\"retry_error\"]`: the error kinds that move on to the next hop",
        "fault" => {
            "add `fault = \"rate_limit\"` (or overloaded, server_error, timeout, cut_stream, ...)"
        }
        "parameters" => {
            "add `parameters = { type = \"object\", properties = { ... } }` (a JSON schema)"
        }
        "when" => "add `when = { arg = \"value\" }`: the arguments this case answers",
        "result" => "add `result = \"...\"`: what the tool returns for this case",
        "args" => "add `args = '{\"arg\": \"value\"}'`: the arguments as the model sends them",
        _ => "",
    };
    let hint = if hint.is_empty() {
        format!("add `{key} = ...` to {table}")
    } else {
        hint.to_string()
    };
    let what = if matches!(key, "prompt" | "call") && path.is_root() {
        format!("missing required table [{key}]")
    } else {
        format!("missing required key `{key}` in {table}")
    };
    (what, hint)
}

/// "in [retry]"-style label of where a key was found; `strip` trailing path segments that
/// are the key itself.
fn where_label(path: &KeyPath, strip: usize) -> String {
    let mut parent = path.clone();
    for _ in 0..strip {
        parent.0.pop();
    }
    // Arrays of tables: name the table, not the index.
    while let Some(super::locate::Seg::Index(_)) = parent.0.last() {
        parent.0.pop();
    }
    if parent.is_root() {
        "top-level keys".into()
    } else {
        format!("keys of `{parent}`")
    }
}

/// The closest valid name, if close enough to be a typo.
pub(crate) fn closest(got: &str, valid: &[String]) -> Option<String> {
    valid
        .iter()
        .map(|v| (strsim::jaro_winkler(got, v), v))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, v)| v.clone())
}

/// Every `name` in backticks, in order.
fn backticked(message: &str) -> Vec<String> {
    message
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The names listed after "expected" (serde: "expected one of `a`, `b`" / "expected `a`").
fn expected_after(message: &str, names: &[String]) -> Vec<String> {
    if message.contains("there are no fields") || message.contains("there are no variants") {
        return Vec::new();
    }
    names.iter().skip(1).cloned().collect()
}

/// An integer outside its type's range ("integer `4294967296`, expected u32"): say which end.
fn out_of_range(found: &str, expected: &str, key: &str) -> Option<(String, String)> {
    let n: i128 = found
        .strip_prefix("integer `")?
        .strip_suffix('`')?
        .parse()
        .ok()?;
    let (lo, hi): (i128, i128) = match expected.trim() {
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" | "usize" => (0, u64::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "i64" | "isize" => (i64::MIN.into(), i64::MAX.into()),
        _ => return None,
    };
    let hint = format!("write a whole number from {lo} to {hi}");
    if n < 0 && lo == 0 {
        Some((format!("`{key}` must not be negative, found {n}"), hint))
    } else if n > hi {
        Some((format!("`{key}` is too large: {n} (at most {hi})"), hint))
    } else if n < lo {
        Some((format!("`{key}` is too small: {n} (at least {lo})"), hint))
    } else {
        None
    }
}

/// serde's expectation, in words.
fn type_name(expected: &str) -> String {
    let e = expected.trim();
    match e {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number ≥ 0".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".into(),
        "f32" | "f64" => "a number".into(),
        "a boolean" | "bool" => "true or false".into(),
        "a sequence" => "a list [..]".into(),
        "a map" => "a table { .. }".into(),
        _ if e.starts_with("struct ") => "a table { .. }".into(),
        _ => e.to_string(),
    }
}

fn type_hint(expected: &str, key: &str) -> String {
    let e = expected.trim();
    match e {
        "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "isize" => {
            format!("write a whole number without quotes, e.g. `{key} = 3`")
        }
        "f32" | "f64" => format!("write a number without quotes, e.g. `{key} = 0.5`"),
        "a boolean" | "bool" => format!("write `{key} = true` or `{key} = false`"),
        "a string" => format!("put the value in quotes, e.g. `{key} = \"...\"`"),
        "a sequence" => format!("write a list, e.g. `{key} = [\"a\", \"b\"]`"),
        "a map" => format!("write a table, e.g. `{key} = {{ a = 1 }}`"),
        _ if e.starts_with("struct ") => format!("write a table, e.g. `{key} = {{ .. }}`"),
        _ if e.contains("duration") => {
            "write seconds (4, 0.25) or a string like \"250ms\", \"4s\", \"2m\"".into()
        }
        _ => format!("`{key}` expects {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(keys: &[&str]) -> KeyPath {
        keys.iter().fold(KeyPath::new(), |p, k| p.key(k))
    }

    #[test]
    fn unknown_key_suggests_the_closest() {
        let (m, h) = serde(
            "unknown variant `after_attempts`, expected one of `after_attempt`, `after_delay`, `before_delay`, `any`, `all`",
            &at(&["retry", "stop", "after_attempts"]),
            true,
        );
        assert_eq!(
            m,
            "unknown key `after_attempts`; did you mean `after_attempt`?"
        );
        assert!(
            h.contains("stop strategies: after_attempt, after_delay"),
            "{h}"
        );
    }

    #[test]
    fn unknown_key_far_from_everything_lists_the_keys() {
        let (m, h) = serde(
            "unknown field `zzz`, expected `a` or `b`",
            &at(&["retry", "zzz"]),
            true,
        );
        assert_eq!(m, "unknown key `zzz`");
        assert_eq!(h, "remove or rename it; keys of `retry`: a, b");
    }

    #[test]
    fn unknown_error_kind() {
        let (m, h) = serde(
            "unknown variant `rate_limt`, expected one of `rate_limit`, `overloaded`, `retry_error`",
            &at(&["retry", "retry_on"]),
            false,
        );
        assert_eq!(
            m,
            "unknown error kind `rate_limt`; did you mean `rate_limit`?"
        );
        assert!(h.starts_with("write \"rate_limit\""), "{h}");
    }

    #[test]
    fn wrong_type_and_missing() {
        let (m, h) = serde(
            "invalid type: string \"3\", expected u32",
            &at(&["retry", "stop", "after_attempt"]),
            false,
        );
        assert_eq!(
            m,
            "wrong type for `after_attempt`: expected a whole number ≥ 0, found string \"3\""
        );
        assert_eq!(
            h,
            "write a whole number without quotes, e.g. `after_attempt = 3`"
        );
        let (m, _) = serde("missing field `call`", &KeyPath::new(), false);
        assert_eq!(m, "missing required table [call]");
        let (m, h) = serde("missing field `model`", &at(&["call"]), false);
        assert_eq!(m, "missing required key `model` in `call`");
        assert!(h.contains("model = "));
    }
}
