//! `pyimport`: each Tenacity and Mirascope construct maps to the policy it means (asserted on
//! the imported scenario, loaded back as `retrylab check` loads it), and what does not map
//! is dropped with its line and reason while the rest is still imported.

use retrylab::ErrorKind as K;
use retrylab::policy::Secs;
use retrylab::policy::Stop;
use retrylab::policy::Wait;
use retrylab::policy::wait::{ExponentialParams, IncrementingParams, JitterParams, RandomParams};
use retrylab::pyimport::{Dropped, ImportError, import_python};
use retrylab::scenario::load::parse;
use retrylab::scenario::{ProviderKind, Scenario};

const HEAD: &str = "import datetime\nimport openai\nimport anthropic\nfrom datetime import timedelta\nfrom mirascope import llm\nfrom tenacity import *\n";

/// Imports `decorators` stacked on a one-line `@llm.call` function.
fn import(decorators: &str) -> (Scenario, Vec<Dropped>) {
    let src = format!(
        "{HEAD}\n{decorators}\n@llm.call(provider=\"openai\", model=\"gpt-4o-mini\")\ndef ask(q: str) -> str:\n    return f\"Q: {{q}}\"\n\nask(\"hi\")\n"
    );
    import_src(&src)
}

fn import_src(src: &str) -> (Scenario, Vec<Dropped>) {
    let imported = import_python(src, "t.py").expect("imports");
    let s = parse(&imported.scenario_toml, "imported")
        .unwrap_or_else(|e| panic!("{e}\n{}", imported.scenario_toml));
    (s, imported.dropped)
}

fn stop_of(decorators: &str) -> Option<Stop> {
    let (s, d) = import(decorators);
    assert!(d.is_empty(), "{d:?}");
    s.retry.expect("a [retry]").stop
}

fn wait_of(w: &str) -> Wait {
    let (s, d) = import(&format!("@retry(wait={w})"));
    assert!(d.is_empty(), "{d:?}");
    s.retry.expect("a [retry]").wait.expect("a wait")
}

fn retry_on(r: &str) -> Option<Vec<K>> {
    let (s, d) = import(&format!("@retry(retry={r})"));
    assert!(d.is_empty(), "{d:?}");
    s.retry.expect("a [retry]").retry_on
}

fn exp(multiplier: f64, exp_base: f64, min: f64, max: f64) -> ExponentialParams {
    ExponentialParams {
        multiplier,
        exp_base,
        min: Secs(min),
        max: Secs(max),
    }
}

#[test]
fn stops_combine_with_or_and_and() {
    assert_eq!(
        stop_of("@retry(stop=stop_after_attempt(5))"),
        Some(Stop::AfterAttempt(5))
    );
    assert_eq!(
        stop_of(
            "@retry(stop=stop_after_attempt(5) | stop_after_delay(30) | stop_before_delay(timedelta(minutes=1)))"
        ),
        Some(Stop::Any(vec![
            Stop::AfterAttempt(5),
            Stop::AfterDelay(Secs(30.0)),
            Stop::BeforeDelay(Secs(60.0))
        ]))
    );
    assert_eq!(
        stop_of(
            "@retry(stop=stop_after_attempt(5) & stop_after_delay(datetime.timedelta(seconds=2.5)))"
        ),
        Some(Stop::All(vec![
            Stop::AfterAttempt(5),
            Stop::AfterDelay(Secs(2.5))
        ]))
    );
    assert_eq!(
        stop_of("@retry(stop=stop_any(stop_after_attempt(2), stop_never))"),
        Some(Stop::AfterAttempt(2))
    );
    assert_eq!(stop_of("@retry(stop=stop_never)"), None);
    // A module constant is a literal, read without running anything.
    let (s, d) = import_src(&format!(
        "{HEAD}ATTEMPTS = 4\n@retry(stop=stop_after_attempt(ATTEMPTS))\n@llm.call(\"openai\", \"m\")\ndef f() -> str:\n    return \"x\"\n"
    ));
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(s.retry.unwrap().stop, Some(Stop::AfterAttempt(4)));
}

#[test]
fn every_wait_maps_with_tenacitys_defaults_and_positions() {
    assert_eq!(wait_of("wait_fixed(2)"), Wait::Fixed(Secs(2.0)));
    assert_eq!(wait_of("wait_none()"), Wait::Fixed(Secs(0.0)));
    assert_eq!(
        wait_of("wait_random(1, 3)"),
        Wait::Random(RandomParams {
            min: Secs(1.0),
            max: Secs(3.0)
        })
    );
    assert_eq!(
        wait_of("wait_exponential(multiplier=1, min=4, max=10)"),
        Wait::Exponential(exp(1.0, 2.0, 4.0, 10.0))
    );
    // Positional: multiplier, max, exp_base, min.
    assert_eq!(
        wait_of("wait_exponential(0.5, 30, 3, 1)"),
        Wait::Exponential(exp(0.5, 3.0, 1.0, 30.0))
    );
    assert_eq!(
        wait_of("wait_random_exponential(multiplier=1, max=60)"),
        Wait::RandomExponential(exp(1.0, 2.0, 0.0, 60.0))
    );
    assert_eq!(
        wait_of("wait_full_jitter(max=8)"),
        Wait::RandomExponential(exp(1.0, 2.0, 0.0, 8.0))
    );
    assert_eq!(
        wait_of("wait_exponential_jitter(initial=0.5, max=20, jitter=2)"),
        Wait::ExponentialJitter(JitterParams {
            initial: Secs(0.5),
            exp_base: 2.0,
            max: Secs(20.0),
            jitter: Secs(2.0)
        })
    );
    // Tenacity's increment defaults to 100 (retrylab's to 1): written out.
    assert_eq!(
        wait_of("wait_incrementing(start=1)"),
        Wait::Incrementing(IncrementingParams {
            start: Secs(1.0),
            increment: Secs(100.0),
            max: Secs::INF
        })
    );
    assert_eq!(
        wait_of("wait_fixed(3) + wait_random(0, 2) + wait_fixed(1)"),
        Wait::Sum(vec![
            Wait::Fixed(Secs(3.0)),
            Wait::Random(RandomParams {
                min: Secs(0.0),
                max: Secs(2.0)
            }),
            Wait::Fixed(Secs(1.0))
        ])
    );
    assert_eq!(
        wait_of("wait_chain(wait_fixed(1), wait_fixed(2), wait_exponential(max=9))"),
        Wait::Chain(vec![
            Wait::Fixed(Secs(1.0)),
            Wait::Fixed(Secs(2.0)),
            Wait::Exponential(exp(1.0, 2.0, 0.0, 9.0))
        ])
    );
}

#[test]
fn exception_classes_map_back_to_error_kinds() {
    assert_eq!(
        retry_on("retry_if_exception_type(openai.RateLimitError)"),
        Some(vec![K::RateLimit, K::QuotaExhausted])
    );
    // A timeout or reset inside a stream is httpx's own error, not an APIConnectionError:
    // mapped to the whole kind, and said so.
    let (s, d) = import(
        "@retry(retry=retry_if_exception_type((openai.APIConnectionError, openai.InternalServerError)))",
    );
    assert_eq!(
        s.retry.unwrap().retry_on,
        Some(vec![
            K::Timeout,
            K::Connection,
            K::Overloaded,
            K::ServerError
        ])
    );
    assert!(
        has(
            &d,
            8,
            "part of `openai.APIConnectionError`",
            "only some forms of timeout"
        ),
        "{d:#?}"
    );
    assert_eq!(retry_on("retry_if_exception_type(Exception)"), None);
    assert_eq!(
        retry_on("retry_if_exception_type()"),
        None,
        "Tenacity's default"
    );
    assert_eq!(
        retry_on(
            "retry_if_exception_type(openai.RateLimitError) | retry_if_exception_type(openai.APITimeoutError)"
        ),
        Some(vec![K::RateLimit, K::QuotaExhausted, K::Timeout])
    );
    assert_eq!(retry_on("retry_never"), Some(vec![]));
    let not = retry_on("retry_if_not_exception_type(openai.APIStatusError)").unwrap();
    assert!(
        not.contains(&K::Timeout) && not.contains(&K::Validation),
        "{not:?}"
    );
    assert!(
        !not.contains(&K::RateLimit) && !not.contains(&K::Any),
        "{not:?}"
    );
}

#[test]
fn a_hop_on_another_sdk_gets_the_retry_its_own_exceptions_mean() {
    let (s, d) = import_src(&format!(
        "{HEAD}from mirascope.retries import fallback\nfrom tenacity import RetryError\n@fallback(RetryError, [{{\"catch\": RetryError, \"provider\": \"anthropic\", \"model\": \"claude-3-5-haiku-latest\"}}])\n@retry(stop=stop_after_attempt(2), retry=retry_if_exception_type(openai.RateLimitError))\n@llm.call(provider=\"openai\", model=\"gpt-4o-mini\")\ndef f() -> str:\n    return \"x\"\n"
    ));
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(
        s.retry.as_ref().unwrap().retry_on,
        Some(vec![K::RateLimit, K::QuotaExhausted])
    );
    let fb = s.fallback.unwrap();
    assert_eq!(fb.catch, [K::RetryError]);
    let hop = &fb.hops[0];
    assert_eq!(
        (hop.provider, hop.model.as_str()),
        (ProviderKind::Anthropic, "claude-3-5-haiku-latest")
    );
    // openai.RateLimitError never matches an Anthropic error: that hop retries nothing.
    assert_eq!(hop.retry.as_ref().unwrap().retry_on, Some(vec![]));
}

#[test]
fn collect_errors_reraise_and_response_model() {
    let (s, d) = import_src(&format!(
        "{HEAD}from typing import Annotated, Literal\nfrom pydantic import AfterValidator, ValidationError\nfrom mirascope.retries.tenacity import collect_errors\nfrom mirascope.retries import fallback\n\ndef short(v: str) -> str:\n    assert len(v) <= 40\n    assert v.isupper(), \"Must be uppercase\"\n    return v\n\n@fallback(openai.RateLimitError, [{{\"catch\": anthropic.RateLimitError, \"provider\": \"anthropic\", \"model\": \"claude-3-5-sonnet-latest\"}}])\n@retry(stop=stop_after_attempt(3), retry=retry_if_exception_type(openai.RateLimitError), after=collect_errors(ValidationError), reraise=True)\n@llm.call(provider=\"openai\", model=\"gpt-4o-mini\", stream=True, response_model=Annotated[str, AfterValidator(short)], call_params={{\"temperature\": 0.2}})\ndef f() -> str:\n    return \"x\"\n"
    ));
    assert!(d.is_empty(), "{d:?}");
    assert!(s.call.stream);
    assert_eq!(s.call.temperature, Some(0.2));
    let r = s.retry.unwrap();
    // ValidationError is collected but never retried here: nothing to reinsert.
    assert!(r.reinsert.is_empty());
    assert!(!r.honor_retry_after, "Tenacity does not read Retry-After");
    // reraise=True: the exhausted retry raises the RateLimitError the fallback catches.
    assert_eq!(
        s.fallback.unwrap().catch,
        [K::RateLimit, K::QuotaExhausted, K::RetryError]
    );
    assert_eq!(s.response.unwrap().validators.len(), 2);
}

#[test]
fn prompt_templates_and_core_provider_decorators() {
    let (s, d) = import_src(
        "from mirascope.core import anthropic, prompt_template\n\n@anthropic.call(\"claude-3-5-haiku-latest\")\n@prompt_template(\"SYSTEM: You are terse. USER: Summarize {text}\")\ndef summarize(text: str): ...\n\nsummarize(text=\"a long story\")\n",
    );
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(s.call.provider, ProviderKind::Anthropic);
    assert_eq!(s.prompt.template.get_ref(), "Summarize {{ text }}");
    assert_eq!(s.prompt.system.unwrap().get_ref(), "You are terse.");
    assert_eq!(s.prompt.vars["text"].as_str(), Some("a long story"));
    assert!(s.retry.is_none());
}

fn has(d: &[Dropped], line: u32, what: &str, why: &str) -> bool {
    d.iter()
        .any(|x| x.line == line && x.what.contains(what) && x.why.contains(why))
}

#[test]
fn unknown_exception_classes_and_custom_callables_are_dropped_with_their_lines() {
    let src = format!(
        "{HEAD}class MyError(Exception):\n    pass\n\n@retry(\n    retry=retry_if_exception_type((MyError, openai.RateLimitError, somelib.Boom)),\n    wait=my_wait,\n    before_sleep=log_it,\n    stop=stop_after_attempt(3) | stop_when_event_set(ev),\n)\n@llm.call(provider=\"openai\", model=\"gpt-4o-mini\")\ndef f() -> str:\n    return \"x\"\n"
    );
    let (s, d) = import_src(&src);
    assert!(
        has(&d, 11, "exception class `MyError`", "defined in this file"),
        "{d:#?}"
    );
    assert!(
        has(&d, 11, "`somelib.Boom`", "no error kind matches it"),
        "{d:#?}"
    );
    assert!(has(&d, 12, "wait=my_wait", "custom callable"), "{d:#?}");
    assert!(has(&d, 13, "before_sleep=log_it", "callback"), "{d:#?}");
    assert!(
        has(&d, 14, "stop=stop_when_event_set(ev)", "not one of"),
        "{d:#?}"
    );
    let r = s.retry.unwrap();
    // What could be read is kept.
    assert_eq!(r.retry_on, Some(vec![K::RateLimit, K::QuotaExhausted]));
    assert_eq!(r.stop, Some(Stop::AfterAttempt(3)));
    assert_eq!(r.wait, None);
}

#[test]
fn dynamic_call_arguments_become_placeholders_with_a_reason() {
    let (s, d) = import_src(
        "from mirascope import llm\nMODEL = pick()\n@llm.call(provider=\"openai\", model=MODEL, tools=[lookup, Finder])\ndef f(topic: str) -> str:\n    return f\"About {topic.title()} and {topic}\"\n\nclass Finder:\n    pass\n",
    );
    assert!(has(&d, 3, "model=MODEL", "`MODEL` is a variable"), "{d:#?}");
    assert!(
        has(&d, 3, "tool `lookup`", "not defined in this file"),
        "{d:#?}"
    );
    assert!(has(&d, 3, "tool `Finder`", "only function tools"), "{d:#?}");
    assert!(has(&d, 5, "`{topic.title()}`", "kept as text"), "{d:#?}");
    assert!(has(&d, 4, "the value of `topic`", "placeholder"), "{d:#?}");
    assert_eq!(s.call.model, "gpt-4o-mini");
    assert!(s.tools.is_empty());
    assert_eq!(s.prompt.vars["topic"].as_str(), Some("<topic>"));
}

#[test]
fn huge_and_deeply_nested_input_is_bounded() {
    // Nesting past the parser's bound: that decorator is dropped, the rest imports.
    let deep = format!("{}1{}", "(".repeat(40), ")".repeat(40));
    let (s, d) = import(&format!(
        "@retry(stop=stop_after_attempt(3), wait=wait_fixed({deep}))"
    ));
    assert!(d.iter().any(|x| x.why.contains("nested deeper")), "{d:#?}");
    assert!(s.retry.is_none(), "the unparsable @retry is dropped whole");
    let deeper = format!("x = {}1{}\n", "[".repeat(5000), "]".repeat(5000));
    let (s, d) = import_src(&format!(
        "{deeper}{HEAD}@retry(stop=stop_after_attempt(2))\n@llm.call(\"openai\", \"m\")\ndef f() -> str:\n    return \"x\"\n"
    ));
    assert!(has(&d, 1, "not Python", "deeper than 64"), "{d:#?}");
    assert_eq!(s.retry.unwrap().stop, Some(Stop::AfterAttempt(2)));
    // Over 1 MiB: refused before reading.
    let huge = "# padding\n".repeat(120_000);
    assert!(matches!(
        import_python(&huge, "big.py"),
        Err(ImportError::TooLarge { .. })
    ));
    // Many decorators and long lines stay fast and bounded.
    let many: String = (0..2000)
        .map(|i| format!("@deco{i}(a=[1, 2, {{\"k\": (3, 4)}}])\n"))
        .collect();
    let (_, d) = import(&many);
    assert_eq!(d.len(), 2000);
}

#[test]
fn text_that_is_not_python_imports_nothing() {
    let Err(ImportError::Nothing { dropped, .. }) =
        import_python("{\"json\": true}\n<html>\n$$$\n", "x.py")
    else {
        panic!("nothing to import")
    };
    assert!(
        dropped.iter().any(|d| d.line == 3 && d.why.contains("`$`")),
        "{dropped:#?}"
    );
}
