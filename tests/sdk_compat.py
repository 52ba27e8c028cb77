"""The official `openai` and `anthropic` Python SDKs against a running retrylab simulator.

Each case asserts that an SDK parses one kind of reply (plain, streamed, tool call, error) the
way it parses the real API's. The simulator must serve tests/fixtures/sim/sdk_compat.toml,
whose `[sim]` table picks a behaviour per model name.

    python3 tests/sdk_compat.py --addr 127.0.0.1:PORT

Prints one line per case and a closing `N passed, N failed` line; exits 1 on any failure.
"""

import argparse
import json
import sys
import traceback

import anthropic
import openai

REPLY = "Patrick Rothfuss wrote The Name of the Wind."
REPLY_TOKENS = 8
PARTIAL = "Patrick Rothfuss wrote"  # after_tokens = 3
ARGS = {"title": "The Name of the Wind"}
MESSAGES = [{"role": "user", "content": "Who wrote The Name of the Wind?"}]
SCHEMA = {
    "type": "object",
    "properties": {"title": {"type": "string"}},
    "required": ["title"],
}
OPENAI_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_book_author",
            "description": "Look up who wrote a book",
            "parameters": SCHEMA,
        },
    }
]
ANTHROPIC_TOOLS = [
    {
        "name": "get_book_author",
        "description": "Look up who wrote a book",
        "input_schema": SCHEMA,
    }
]

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def raises(exc_type, fn):
    """Runs fn, returns the exception it raised; fails unless it is an exc_type."""
    try:
        fn()
    except exc_type as e:  # noqa: PERF203
        return e
    except Exception as e:  # the wrong kind of error
        raise AssertionError(f"expected {exc_type.__name__}, got {type(e).__name__}: {e}") from e
    raise AssertionError(f"expected {exc_type.__name__}, nothing was raised")


# ---------------------------------------------------------------------------- OpenAI


def oa_create(client, model, **kw):
    return client.chat.completions.create(model=model, messages=MESSAGES, **kw)


def oa_stream_text(client, model, **kw):
    """Streams and returns (text, chunks) as the SDK yields them."""
    chunks = []
    text = ""
    for chunk in oa_create(client, model, stream=True, **kw):
        chunks.append(chunk)
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
    return text, chunks


@case
def openai_plain(c):
    raw = c.oa.chat.completions.with_raw_response.create(model="plain", messages=MESSAGES)
    expect(raw.headers.get("x-request-id", "").startswith("req_"), "x-request-id header")
    r = raw.parse()
    expect(r.object == "chat.completion", r.object)
    expect(r.id.startswith("chatcmpl-"), r.id)
    expect(r.choices[0].message.content == REPLY, r.choices[0].message.content)
    expect(r.choices[0].message.role == "assistant", "role")
    expect(r.choices[0].finish_reason == "stop", r.choices[0].finish_reason)
    expect(r.usage.completion_tokens == REPLY_TOKENS, r.usage)
    expect(r.usage.total_tokens == r.usage.prompt_tokens + REPLY_TOKENS, r.usage)


@case
def openai_stream(c):
    text, chunks = oa_stream_text(c.oa, "plain", stream_options={"include_usage": True})
    expect(text == REPLY, text)
    expect(all(ch.object == "chat.completion.chunk" for ch in chunks), "chunk objects")
    finishes = [ch.choices[0].finish_reason for ch in chunks if ch.choices]
    expect(finishes[-1] == "stop", finishes)
    expect(chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == REPLY_TOKENS, chunks[-1])


@case
def openai_stream_helper(c):
    helper = getattr(c.oa.chat.completions, "stream", None) or c.oa.beta.chat.completions.stream
    with helper(model="plain", messages=MESSAGES) as stream:
        final = stream.get_final_completion()
    expect(final.choices[0].message.content == REPLY, final.choices[0].message.content)


@case
def openai_tool_call(c):
    r = oa_create(c.oa, "plain", tools=OPENAI_TOOLS)
    call = r.choices[0].message.tool_calls[0]
    expect(r.choices[0].finish_reason == "tool_calls", r.choices[0].finish_reason)
    expect(r.choices[0].message.content is None, "content is null")
    expect(call.type == "function" and call.function.name == "get_book_author", call)
    expect(json.loads(call.function.arguments) == ARGS, call.function.arguments)


@case
def openai_tool_call_stream(c):
    args = {}
    names = {}
    for chunk in oa_create(c.oa, "plain", tools=OPENAI_TOOLS, stream=True):
        for tc in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            if tc.function and tc.function.name:
                names[tc.index] = tc.function.name
            args[tc.index] = args.get(tc.index, "") + ((tc.function and tc.function.arguments) or "")
    expect(names == {0: "get_book_author"}, names)
    expect(json.loads(args[0]) == ARGS, args)
    helper = getattr(c.oa.chat.completions, "stream", None) or c.oa.beta.chat.completions.stream
    with helper(model="plain", messages=MESSAGES, tools=OPENAI_TOOLS) as stream:
        final = stream.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    expect(json.loads(call.function.arguments) == ARGS, call.function.arguments)


@case
def openai_compatible_route(c):
    r = oa_create(c.compat, "plain")
    expect(r.choices[0].message.content == REPLY, r.choices[0].message.content)


@case
def openai_rate_limit(c):
    e = raises(openai.RateLimitError, lambda: oa_create(c.oa, "rate-limited"))
    expect(e.status_code == 429, e.status_code)
    expect(e.response.headers.get("retry-after") == "2", e.response.headers)
    expect(e.code == "rate_limit_exceeded" and e.type == "requests", (e.code, e.type))
    expect("Please try again in 2s" in e.message, e.message)
    expect(e.request_id and e.request_id.startswith("req_"), e.request_id)
    e = raises(openai.RateLimitError, lambda: oa_create(c.oa, "rate-limited-ms"))
    expect(e.response.headers.get("retry-after-ms") == "1500", e.response.headers)


@case
def openai_http_errors(c):
    table = [
        ("auth", openai.AuthenticationError, 401, "invalid_api_key"),
        ("bad-request", openai.BadRequestError, 400, None),
        ("context-length", openai.BadRequestError, 400, "context_length_exceeded"),
        ("server-error", openai.InternalServerError, 500, None),
        ("overloaded", openai.InternalServerError, 503, "server_is_overloaded"),
    ]
    for model, exc, status, code in table:
        e = raises(exc, lambda m=model: oa_create(c.oa, m))
        expect(e.status_code == status, (model, e.status_code))
        expect(e.code == code, (model, e.code))
    e = raises(openai.InternalServerError, lambda: oa_create(c.oa, "html"))
    expect(e.status_code == 502 and "502 Bad Gateway" in str(e.body), (e.status_code, e.body))


@case
def openai_overloaded_in_stream(c):
    seen = []

    def run():
        for chunk in oa_create(c.oa, "overloaded-in-stream", stream=True):
            if chunk.choices and chunk.choices[0].delta.content:
                seen.append(chunk.choices[0].delta.content)

    e = raises(openai.APIError, run)
    expect("overloaded" in e.message, e.message)
    expect(e.code == "server_is_overloaded", e.code)
    expect("".join(seen) == PARTIAL, seen)


@case
def openai_cut_stream_is_silently_accepted(c):
    # The SDK's known gap: a stream that ends without [DONE] looks complete to it.
    text, chunks = oa_stream_text(c.oa, "cut-stream")
    expect(text == PARTIAL, text)
    expect(all(ch.choices[0].finish_reason is None for ch in chunks), "no finish_reason")


@case
def openai_malformed_stream(c):
    raises(ValueError, lambda: oa_stream_text(c.oa, "malformed-stream"))


@case
def openai_connection_reset(c):
    e = raises(openai.APIConnectionError, lambda: oa_create(c.oa, "connection-reset"))
    expect(not isinstance(e, openai.APITimeoutError), type(e))


@case
def openai_timeout(c):
    raises(openai.APITimeoutError, lambda: oa_create(c.oa.with_options(timeout=0.5), "timeout"))


@case
def openai_slow_first_byte(c):
    r = oa_create(c.oa.with_options(timeout=5), "slow")
    expect(r.choices[0].message.content == REPLY, r.choices[0].message.content)


@case
def openai_content_filter_length_and_empty(c):
    for model, reason, text in [("content-filter", "content_filter", PARTIAL), ("length", "length", PARTIAL), ("empty", "stop", "")]:
        r = oa_create(c.oa, model)
        expect(r.choices[0].finish_reason == reason, (model, r.choices[0].finish_reason))
        expect(r.choices[0].message.content == text, (model, r.choices[0].message.content))
        streamed, chunks = oa_stream_text(c.oa, model)
        finishes = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
        expect(streamed == text and finishes == [reason], (model, streamed, finishes))


@case
def openai_quota_exhausted(c):
    e = raises(openai.RateLimitError, lambda: oa_create(c.oa, "quota"))
    expect(e.status_code == 429, e.status_code)
    expect(e.code == "insufficient_quota" and e.type == "insufficient_quota", (e.code, e.type))
    expect("exceeded your current quota" in e.message, e.message)
    expect(e.response.headers.get("retry-after") is None, e.response.headers)


def read_timeout(fn):
    """A stream that stalls after its headers: the SDKs wrap only errors before the reply,
    so mid-stream the HTTP library's own ReadTimeout comes through (or APITimeoutError)."""
    e = raises(Exception, fn)
    expect("timeout" in type(e).__name__.lower(), f"{type(e).__name__}: {e}")


@case
def openai_stall_hits_the_read_timeout(c):
    read_timeout(lambda: oa_stream_text(c.oa.with_options(timeout=0.5), "stall"))


@case
def openai_limit(c):
    oa_create(c.oa, "limited")
    e = raises(openai.RateLimitError, lambda: oa_create(c.oa, "limited"))
    h = e.response.headers
    expect(h.get("x-ratelimit-limit-requests") == "1", h)
    expect(h.get("x-ratelimit-remaining-requests") == "0", h)
    ms = int(h.get("retry-after-ms"))
    expect(59_000 < ms <= 60_000 and h.get("retry-after") == "60", h)
    expect(e.code == "rate_limit_exceeded", e.code)


# ---------------------------------------------------------------------------- Anthropic


def an_create(client, model, **kw):
    return client.messages.create(model=model, max_tokens=256, messages=MESSAGES, **kw)


def an_stream(client, model, **kw):
    return client.messages.stream(model=model, max_tokens=256, messages=MESSAGES, **kw)


@case
def anthropic_plain(c):
    raw = c.an.messages.with_raw_response.create(model="plain", max_tokens=256, messages=MESSAGES)
    expect(raw.headers.get("request-id", "").startswith("req_"), "request-id header")
    m = raw.parse()
    expect(m.type == "message" and m.role == "assistant", (m.type, m.role))
    expect(m.id.startswith("msg_"), m.id)
    expect(m.content[0].type == "text" and m.content[0].text == REPLY, m.content)
    expect(m.stop_reason == "end_turn", m.stop_reason)
    expect(m.usage.output_tokens == REPLY_TOKENS, m.usage)


@case
def anthropic_stream_events(c):
    types = []
    text = ""
    for ev in an_create(c.an, "plain", stream=True):
        types.append(ev.type)
        if ev.type == "content_block_delta" and ev.delta.type == "text_delta":
            text += ev.delta.text
    expect(text == REPLY, text)
    expect(types[:2] == ["message_start", "content_block_start"], types)
    expect(types[-3:] == ["content_block_stop", "message_delta", "message_stop"], types)


@case
def anthropic_stream_helper(c):
    with an_stream(c.an, "plain") as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    expect(text == REPLY, text)
    expect(final.content[0].text == REPLY, final.content)
    expect(final.stop_reason == "end_turn", final.stop_reason)
    expect(final.usage.output_tokens == REPLY_TOKENS, final.usage)


@case
def anthropic_tool_use(c):
    m = an_create(c.an, "plain", tools=ANTHROPIC_TOOLS)
    block = m.content[0]
    expect(block.type == "tool_use" and block.name == "get_book_author", block)
    expect(block.id.startswith("toolu_"), block.id)
    expect(block.input == ARGS, block.input)
    expect(m.stop_reason == "tool_use", m.stop_reason)


@case
def anthropic_tool_use_stream(c):
    with an_stream(c.an, "plain", tools=ANTHROPIC_TOOLS) as stream:
        final = stream.get_final_message()
    block = final.content[0]
    expect(block.type == "tool_use" and block.input == ARGS, block)
    expect(final.stop_reason == "tool_use", final.stop_reason)


@case
def anthropic_rate_limit(c):
    e = raises(anthropic.RateLimitError, lambda: an_create(c.an, "rate-limited"))
    expect(e.status_code == 429, e.status_code)
    expect(e.response.headers.get("retry-after") == "2", e.response.headers)
    expect(e.body["error"]["type"] == "rate_limit_error", e.body)
    expect(e.request_id and e.request_id.startswith("req_"), e.request_id)
    e = raises(anthropic.RateLimitError, lambda: an_create(c.an, "rate-limited-ms"))
    expect(e.response.headers.get("retry-after-ms") == "1500", e.response.headers)


@case
def anthropic_http_errors(c):
    # Older SDKs keep OverloadedError private; every version raises an APIStatusError.
    overloaded = getattr(anthropic, "OverloadedError", anthropic.APIStatusError)
    table = [
        ("overloaded", overloaded, 529, "overloaded_error"),
        ("auth", anthropic.AuthenticationError, 401, "authentication_error"),
        ("bad-request", anthropic.BadRequestError, 400, "invalid_request_error"),
        ("context-length", anthropic.BadRequestError, 400, "invalid_request_error"),
        ("server-error", anthropic.InternalServerError, 500, "api_error"),
    ]
    for model, exc, status, kind in table:
        e = raises(exc, lambda m=model: an_create(c.an, m))
        expect(e.status_code == status, (model, e.status_code))
        expect(e.body["type"] == "error" and e.body["error"]["type"] == kind, (model, e.body))
    e = raises(anthropic.BadRequestError, lambda: an_create(c.an, "context-length"))
    expect(e.body["error"]["message"].startswith("prompt is too long"), e.body)
    e = raises(anthropic.InternalServerError, lambda: an_create(c.an, "html"))
    expect(e.status_code == 502, e.status_code)


@case
def anthropic_overloaded_in_stream(c):
    seen = []

    def run():
        with an_stream(c.an, "overloaded-in-stream") as stream:
            for text in stream.text_stream:
                seen.append(text)

    e = raises(anthropic.APIStatusError, run)
    # The SDK surfaces the in-stream error with the HTTP status of the stream: 200.
    expect(e.status_code == 200, e.status_code)
    expect(e.body["error"]["type"] == "overloaded_error", e.body)
    expect("".join(seen) == PARTIAL, seen)


@case
def anthropic_cut_stream_is_silently_accepted(c):
    # The SDK's known gap: no message_stop, yet the partial message comes back as final.
    with an_stream(c.an, "cut-stream") as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    expect(text == PARTIAL, text)
    expect(final.stop_reason is None, final.stop_reason)


@case
def anthropic_malformed_stream(c):
    def run():
        with an_stream(c.an, "malformed-stream") as stream:
            "".join(stream.text_stream)

    raises(ValueError, run)


@case
def anthropic_connection_reset(c):
    e = raises(anthropic.APIConnectionError, lambda: an_create(c.an, "connection-reset"))
    expect(not isinstance(e, anthropic.APITimeoutError), type(e))


@case
def anthropic_timeout(c):
    raises(anthropic.APITimeoutError, lambda: an_create(c.an.with_options(timeout=0.5), "timeout"))


@case
def anthropic_slow_first_byte(c):
    m = an_create(c.an.with_options(timeout=5), "slow")
    expect(m.content[0].text == REPLY, m.content)


@case
def anthropic_refusal_max_tokens_and_empty(c):
    for model, reason, text in [("content-filter", "refusal", PARTIAL), ("length", "max_tokens", PARTIAL), ("empty", "end_turn", "")]:
        m = an_create(c.an, model)
        expect(m.stop_reason == reason, (model, m.stop_reason))
        expect(m.content[0].text == text, (model, m.content))
        with an_stream(c.an, model) as stream:
            final = stream.get_final_message()
        expect(final.stop_reason == reason and final.content[0].text == text, (model, final))


@case
def anthropic_out_of_credit(c):
    e = raises(anthropic.BadRequestError, lambda: an_create(c.an, "quota"))
    expect(e.status_code == 400, e.status_code)
    expect(e.body["error"]["type"] == "invalid_request_error", e.body)
    expect("credit balance is too low" in e.body["error"]["message"], e.body)
    expect(e.response.headers.get("x-should-retry") == "false", e.response.headers)


@case
def anthropic_stall_hits_the_read_timeout(c):
    def run():
        with an_stream(c.an.with_options(timeout=0.5), "stall") as stream:
            stream.get_final_message()

    read_timeout(run)


@case
def anthropic_limit(c):
    an_create(c.an, "limited")
    e = raises(anthropic.RateLimitError, lambda: an_create(c.an, "limited"))
    h = e.response.headers
    expect(h.get("retry-after") == "60", h)
    expect(h.get("anthropic-ratelimit-requests-limit") == "1", h)
    expect(h.get("anthropic-ratelimit-requests-remaining") == "0", h)
    expect(e.body["error"]["type"] == "rate_limit_error", e.body)


# ---------------------------------------------------------------------------- runner


class Clients:
    def __init__(self, addr):
        self.oa = openai.OpenAI(base_url=f"http://{addr}/v1", api_key="sk-sim", max_retries=0, timeout=10)
        self.compat = openai.OpenAI(
            base_url=f"http://{addr}/compat/v1", api_key="sk-sim", max_retries=0, timeout=10
        )
        self.an = anthropic.Anthropic(base_url=f"http://{addr}", api_key="sk-ant-sim", max_retries=0, timeout=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", required=True, help="HOST:PORT of a running simulator")
    parser.add_argument("-k", default="", help="run only cases whose name contains this")
    args = parser.parse_args()
    print(f"openai {openai.__version__}, anthropic {anthropic.__version__}, simulator at {args.addr}")
    clients = Clients(args.addr)
    passed = failed = 0
    for fn in CASES:
        if args.k not in fn.__name__:
            continue
        try:
            fn(clients)
        except Exception:
            failed += 1
            print(f"FAIL {fn.__name__}")
            traceback.print_exc(limit=4)
        else:
            passed += 1
            print(f"ok   {fn.__name__}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
