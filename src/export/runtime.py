# ---- retrylab harness: base URLs, SDK clients, retrylab's error kinds and texts, Retry-After,
# ---- the [response] validators, and one JSON line per attempt, wait, reinserted error and the
# ---- outcome on stdout (so a run compares line by line with `retrylab run SCENARIO --json`).
import email.utils
import json
import math
import os
import random
import re
import time
from typing import Any

import anthropic
import httpx
import openai
import pydantic
from tenacity import RetryCallState, RetryError
from tenacity.wait import wait_base

BASE_URL = os.environ.get("RETRYLAB_BASE_URL", "http://127.0.0.1:8787").rstrip("/")
_T0 = time.monotonic()


def emit(event: str, **fields: Any) -> None:
    """One JSON line on stdout: the run's trace."""
    line = {"t_ms": round((time.monotonic() - _T0) * 1000), "event": event, **fields}
    print(json.dumps(line, ensure_ascii=False), flush=True)


def _trace_request(provider: str):
    def hook(request: httpx.Request) -> None:
        try:
            model = json.loads(request.content or b"{}").get("model")
        except ValueError:
            model = None
        retry = request.headers.get("x-stainless-retry-count", "0")
        if retry != "0":
            # The SDK's own retry inside the attempt (DESIGN §15), not another attempt.
            emit("sdk_retry", provider=provider, model=model, retry=retry)
            return
        emit("attempt_started", provider=provider, model=model)

    return hook


def sdk_client(
    provider: str,
    base_url: str | None,
    timeout: httpx.Timeout,
    max_retries: int,
    api_key_env: str | None = None,
    headers: dict[str, str] | None = None,
    api_version: str | None = None,
):
    """The official SDK's client: its own retries off unless the scenario sets them, every
    request traced. The OpenAI convention puts /v1 in the base URL; Anthropic's does not;
    Azure OpenAI (an `api_version`) is given the resource's endpoint."""
    http = httpx.Client(event_hooks={"request": [_trace_request(provider)]})
    if api_version is not None:
        return _AzureOpenAI(
            azure_endpoint=base_url or os.environ.get("AZURE_OPENAI_ENDPOINT") or BASE_URL,
            api_version=api_version,
            api_key=os.environ.get(api_key_env or "AZURE_OPENAI_API_KEY", "retrylab-sim-azure-key"),
            max_retries=max_retries,
            timeout=timeout,
            default_headers=headers,
            http_client=http,
        )
    if provider == "anthropic":
        return anthropic.Anthropic(
            base_url=base_url or BASE_URL,
            api_key=os.environ.get(api_key_env or "ANTHROPIC_API_KEY", "sk-ant-retrylab-sim"),
            max_retries=max_retries,
            timeout=timeout,
            default_headers=headers,
            http_client=http,
        )
    return openai.OpenAI(  # also "gemini": Gemini's OpenAI-compatible endpoint
        base_url=base_url or BASE_URL + "/v1",
        api_key=os.environ.get(api_key_env or f"{'GEMINI' if provider == 'gemini' else 'OPENAI'}_API_KEY", "sk-retrylab-sim"),
        max_retries=max_retries,
        timeout=timeout,
        default_headers=headers,
        http_client=http,
    )


class _AzureOpenAI(openai.AzureOpenAI):
    """Azure's prompt filter answers HTTP 400 (code content_filter): raised as content_filter,
    as retrylab classifies it, and still an openai.BadRequestError."""

    def _make_status_error(self, err_msg, *, body, response):
        err = super()._make_status_error(err_msg, body=body, response=response)
        if isinstance(err, openai.BadRequestError) and err.code == "content_filter":
            return AzurePromptFiltered(err_msg, response=response, body=body)
        return err


class StreamInterrupted(Exception):
    """A stream that ended without its terminal event: the SDKs accept it as a success."""


class ContentFiltered(Exception):
    """The reply stopped because the provider's content filter flagged it."""


class AzurePromptFiltered(ContentFiltered, openai.BadRequestError):
    """Azure OpenAI refused the prompt (its content filter's HTTP 400)."""


class ToolArgumentsInvalid(Exception):
    """The model's tool-call arguments failed the tool's schema (or named no such tool)."""


def _error_body(e: BaseException) -> dict:
    body = getattr(e, "body", None)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"]
    return body if isinstance(body, dict) else {}


def kind_of(e: BaseException) -> str:
    """retrylab's error kind (DESIGN §4) of an exception."""
    name = type(e).__name__
    if isinstance(e, RetryError):
        return "retry_error"
    if name == "FallbackError":
        return "fallback_error"
    if isinstance(e, StreamInterrupted):
        return "stream_interrupted"
    if isinstance(e, ContentFiltered):
        return "content_filter"
    if isinstance(e, ToolArgumentsInvalid):
        return "tool_validation"
    if isinstance(e, pydantic.ValidationError):
        return "validation"
    if isinstance(e, (openai.APITimeoutError, anthropic.APITimeoutError)):
        return "timeout"
    if isinstance(e, (openai.APIConnectionError, anthropic.APIConnectionError)):
        return "connection"
    if isinstance(e, (openai.APIStatusError, anthropic.APIStatusError)):
        status, body = e.status_code, _error_body(e)
        kind, message = str(body.get("type") or body.get("code") or ""), str(body.get("message", ""))
        if kind == "overloaded_error" or status in (503, 529):
            return "overloaded"
        if kind == "insufficient_quota" or "credit balance" in message:
            return "quota_exhausted"
        if status == 429:
            return "rate_limit"
        if status >= 500:
            return "server_error"
        if status in (401, 403):
            return "auth"
        if "context" in message and ("length" in message or "window" in message or "too long" in message):
            return "context_length"
        if 300 <= status < 400:
            return "redirect"
        return "bad_request"
    if (kind := _in_stream_kind(e)) is not None:
        return kind
    if isinstance(e, (httpx.TimeoutException,)):
        return "timeout"
    if isinstance(e, (httpx.TransportError, ValueError)):
        return "stream_interrupted"
    return type(e).__name__


def error_text(e: BaseException) -> str:
    """The error's text as retrylab reinserts it: the provider's message, or the validator's."""
    if isinstance(e, pydantic.ValidationError):
        first = e.errors()[0]
        msg = str(first.get("msg", ""))
        for prefix in ("Value error, ", "Assertion failed, "):
            if msg.startswith(prefix):
                msg = msg[len(prefix):]
        return msg
    message = _error_body(e).get("message")
    return str(message) if message else str(getattr(e, "message", None) or e)


def failed_answer(e: BaseException) -> str:
    """The answer a validation error rejected (the reask conversation carries it back)."""
    if isinstance(e, pydantic.ValidationError):
        value = e.errors()[0].get("input")
        return value if isinstance(value, str) else json.dumps(value)
    return ""


def reinserted(errors: list | None) -> list[str]:
    """Mirascope's `errors` as retrylab's texts; traces each reinsertion."""
    texts = [error_text(e) for e in errors or []]
    if texts:
        emit("error_reinserted", errors=texts)
    return texts


def jinja_str(v: Any) -> str:
    """A value as minijinja writes `{{ v }}`: true, none, ["a"]."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "none"
    if isinstance(v, list):
        return jinja_list(v)
    return str(v)


def kind_in(*kinds: str):
    """retry_if_exception's predicate: the error is one of retrylab's `kinds`. An SDK class can
    stand for more than one kind (openai.RateLimitError is rate_limit and quota_exhausted):
    this narrows retry_if_exception_type to the kinds the scenario retries."""

    def check(e: BaseException) -> bool:
        return kind_of(e) in kinds

    return check


def overloaded_in_stream(e: BaseException) -> bool:
    """An overload inside an HTTP 200 stream, which no status-keyed class catches: Anthropic's
    overloaded_error (the SDK raises the bare APIStatusError, status 200), or OpenAI's
    server_is_overloaded (a bare APIError: a chat completions error frame, a Responses API
    failure)."""
    if isinstance(e, anthropic.APIStatusError) and _error_body(e).get("type") == "overloaded_error":
        return True
    return _in_stream_kind(e) == "overloaded"


def _in_stream_kind(e: BaseException) -> str | None:
    """The kind of an OpenAI error inside an HTTP 200 stream (a bare APIError), by its code."""
    if not isinstance(e, openai.APIError) or isinstance(e, openai.APIStatusError):
        return None
    body = _error_body(e)
    name = str(body.get("code") or body.get("type") or "")
    if name in ("server_is_overloaded", "service_unavailable_error"):
        return "overloaded"
    if name in ("rate_limit_exceeded", "requests", "tokens"):
        return "rate_limit"
    return "server_error"


def jinja_list(texts: list) -> str:
    """A list as minijinja writes `{{ errors }}`: ["a", "b"]."""
    return "[" + ", ".join(json.dumps(t, ensure_ascii=False) for t in texts) + "]"


def retry_after_ms(e: BaseException | None) -> int | None:
    """The server's `retry-after-ms` (float ms, rounded up), else `Retry-After` (seconds or an
    HTTP date), as retrylab reads it."""
    response = getattr(e, "response", None)
    if response is None:
        return None
    headers = response.headers
    try:
        if (ms := headers.get("retry-after-ms")) is not None and float(ms) >= 0:
            return math.ceil(float(ms))
    except ValueError:
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0, math.ceil(float(value) * 1000))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0, math.ceil((when.timestamp() - time.time()) * 1000)) if when else None


class wait_retry_after(wait_base):
    """Tenacity has no Retry-After: wait the longer of the back-off and the server's
    Retry-After, the latter capped at `cap` seconds (retry_after_max), plus uniform(0, jitter)
    on top of it (retry_after_jitter, rounded to the ms)."""

    def __init__(self, backoff: wait_base | None, cap: float, jitter: float = 0.0) -> None:
        self.backoff, self.cap, self.jitter = backoff, cap, jitter

    def __call__(self, retry_state: RetryCallState) -> float:
        computed = self.backoff(retry_state) if self.backoff else 0.0
        ra = retry_after_ms(retry_state.outcome.exception() if retry_state.outcome else None)
        capped = None if ra is None else min(ra / 1000, self.cap)
        jitter = round(random.uniform(0, self.jitter), 3) if capped is not None and self.jitter > 0 else 0.0
        retry_state.retrylab_wait = (computed, capped, jitter)
        return computed if capped is None else max(computed, capped + jitter)


class wait_decorrelated_jitter(wait_base):
    """AWS's decorrelated jitter, which Tenacity lacks: min(max, uniform(base, 3 * previous)),
    previous being the hop's last wait (base before the first)."""

    def __init__(self, base: float = 1.0, max: float = math.inf) -> None:
        self.base, self.max = base, max

    def __call__(self, retry_state: RetryCallState) -> float:
        # Tenacity keeps the last sleep in upcoming_sleep until the next one is decided.
        previous = self.base if retry_state.attempt_number <= 1 else retry_state.upcoming_sleep
        return min(self.max, random.uniform(self.base, 3 * previous))


def trace_wait(retry_state: RetryCallState) -> None:
    """Tenacity's before_sleep: the wait about to start, and the failure that caused it."""
    sleep = retry_state.upcoming_sleep
    computed, ra, jitter = getattr(retry_state, "retrylab_wait", (sleep, None, 0.0))
    error = retry_state.outcome.exception() if retry_state.outcome else None
    emit(
        "wait_started",
        attempt=retry_state.attempt_number,
        delay_ms=round(sleep * 1000),
        computed_ms=round(computed * 1000),
        retry_after_ms=None if ra is None else round(ra * 1000),
        retry_after_jitter_ms=round(jitter * 1000) if jitter else None,
        kind=kind_of(error) if error else None,
    )


def finish_of(chunk) -> list[str]:
    """A stream chunk's finish reasons. Mirascope's Anthropic chunk reports only
    message_start's stop_reason, so message_delta's is read from the raw event."""
    reasons = list(chunk.finish_reasons or [])
    raw = getattr(chunk, "chunk", None)
    delta = getattr(raw, "delta", None)
    if getattr(raw, "type", None) == "message_delta" and getattr(delta, "stop_reason", None):
        reasons.append(str(delta.stop_reason))
    return reasons


def trace_hop(fn):
    """One JSON line per hop that fails (a fallback catches it, or it ends the run)."""

    def traced(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            emit("hop_failed", kind=kind_of(e), message=error_text(e))
            raise

    return traced


# The [response] validators, with retrylab's own messages (they are what gets reinserted).
def _quote(text: str) -> str:
    flat = text.replace("\r", " ").replace("\n", " ")
    return "'" + (flat if len(flat) <= 60 else flat[:59] + "…") + "'"


def is_upper(v: str) -> str:
    if not any(c.isupper() or c.islower() or c.istitle() for c in v):
        raise ValueError(f"expected uppercase, got {_quote(v)} (no cased letter)")
    if not v.isupper():
        raise ValueError(f"expected uppercase, got {_quote(v)}")
    return v


def matches(pattern: str):
    def check(v: str) -> str:
        if re.search(pattern, v) is None:
            raise ValueError(f"does not match regex `{pattern}`: {_quote(v)}")
        return v

    return check


def _parse_json(v: str) -> Any:
    try:
        return json.loads(v)
    except json.JSONDecodeError as e:
        why = {"Expecting value": "expected value", "Extra data": "trailing characters"}.get(e.msg, e.msg)
        raise ValueError(f"expected JSON, got {_quote(v)} ({why} at line {e.lineno} column {e.colno})")


def is_json(v: str) -> str:
    _parse_json(v)
    return v


def _json_text(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= 60 else text[:59] + "…"


_TYPES = {
    "string": lambda x: isinstance(x, str),
    "integer": lambda x: isinstance(x, int) and not isinstance(x, bool)
    or isinstance(x, float) and x.is_integer(),
    "number": lambda x: isinstance(x, (int, float)) and not isinstance(x, bool),
    "boolean": lambda x: isinstance(x, bool),
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "null": lambda x: x is None,
}


def schema_violations(schema: dict, value: Any, at: str = "") -> list[tuple[str, str]]:
    """(message, JSON pointer) for each violation, worded as the jsonschema crate words them,
    for the keywords type, enum, required, properties, additionalProperties, items,
    minimum, maximum, minLength, maxLength."""
    out: list[tuple[str, str]] = []
    inst = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    t = schema.get("type")
    if isinstance(t, str) and not _TYPES.get(t, lambda x: True)(value):
        return [(f'{inst} is not of type "{t}"', at)]
    if isinstance(t, list) and not any(_TYPES.get(x, lambda v: True)(value) for x in t):
        return [(f"{inst} is not of types " + ", ".join(f'"{x}"' for x in t), at)]
    if "enum" in schema and value not in schema["enum"]:
        opts = [json.dumps(o, ensure_ascii=False, separators=(",", ":")) for o in schema["enum"]]
        listed = opts[0] if len(opts) == 1 else ", ".join(opts[:-1]) + " or " + opts[-1]
        out.append((f"{inst} is not one of {listed}", at))
    if isinstance(value, dict):
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            extra = [k for k in value if k not in props]
            if extra:
                listed = ", ".join(f"'{k}'" for k in extra)
                verb = "was" if len(extra) == 1 else "were"
                out.append((f"Additional properties are not allowed ({listed} {verb} unexpected)", at))
        for name in schema.get("required", []):
            if name not in value:
                out.append((f'"{name}" is a required property', at))
        for name, sub in props.items():
            if name in value and isinstance(sub, dict):
                out += schema_violations(sub, value[name], f"{at}/{name}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            out += schema_violations(schema["items"], item, f"{at}/{i}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            out.append((f"{inst} is less than the minimum of {schema['minimum']}", at))
        if "maximum" in schema and value > schema["maximum"]:
            out.append((f"{inst} is greater than the maximum of {schema['maximum']}", at))
    if isinstance(value, str):
        for key, word in (("minLength", "shorter"), ("maxLength", "longer")):
            if key in schema and (len(value) < schema[key] if word == "shorter" else len(value) > schema[key]):
                n = schema[key]
                out.append((f"{inst} is {word} than {n} character{'' if n == 1 else 's'}", at))
    return out


def matches_schema(schema: dict):
    def check(v: str) -> str:
        found = schema_violations(schema, _parse_json(v))
        if found:
            why = "; ".join(f"{m} (at {at or '/'})" for m, at in found)
            raise ValueError(f"does not match the schema: {why}")
        return v

    return check


def at_most(n: int):
    def check(v: str) -> str:
        if len(v) > n:
            raise ValueError(f"expected at most {n} characters, got {len(v)}")
        return v

    return check


def one_of(options: list[str]):
    def check(v: str) -> str:
        if v.strip() not in options:
            listed = ", ".join(_quote(o) for o in options)
            raise ValueError(f"expected one of [{listed}], got {_quote(v.strip())}")
        return v

    return check


def tool_argument_problems(schema: dict, args: str) -> str | None:
    """Why the tool-call arguments fail the tool's schema, as retrylab says it; None if fine."""
    try:
        value = json.loads(args or "{}")
    except json.JSONDecodeError as e:
        return f"arguments are not JSON ({e.msg})"
    problems = []
    for message, at in schema_violations(schema, value):
        if message.endswith("is a required property"):
            problems.append(f"missing required argument `{message.split(chr(34))[1]}`")
        elif message.startswith("Additional properties"):
            names = re.findall(r"'([^']*)'", message)
            noun = "argument" if len(names) == 1 else "arguments"
            problems.append(f"unknown {noun} " + ", ".join(f"`{n}`" for n in names))
        else:
            problems.append(f"argument `{at.strip('/').replace('/', '.')}`: {message}" if at else message)
    return "; ".join(problems) or None


def outcome(run) -> int:
    """Runs the call and traces how it ended; the exit code (0 ok, 1 an error)."""
    try:
        content = run()
    except Exception as e:
        last = e.last_attempt.exception() if isinstance(e, RetryError) else None
        emit(
            "run_finished",
            outcome="error",
            error={"kind": kind_of(e), "message": error_text(e)},
            last_error=None if last is None else {"kind": kind_of(last), "message": error_text(last)},
        )
        return 1
    emit("run_finished", outcome="ok", content=content)
    return 0
# ---- end of the retrylab harness -----------------------------------------------------------
