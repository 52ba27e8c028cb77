"""The official `openai` Python SDK's Responses API (`client.responses`) against a running
retrylab simulator.

Each case asserts that the SDK parses one kind of reply (plain, streamed, tool call, error) the
way it parses the real API's, including how it surfaces a failure inside the stream: as a
`response.failed` event it yields (no exception), after which the stream helper's
`get_final_response()` raises. The simulator must serve tests/fixtures/sim/sdk_compat.toml,
whose `[sim]` table picks a behaviour per model name (tests/sdk_compat.py shares it).

    python3 tests/sdk_compat_responses.py --addr 127.0.0.1:PORT

Prints one line per case and a closing `N passed, N failed` line; exits 1 on any failure.
"""

import argparse
import json
import sys
import traceback

import openai

from sdk_compat import ARGS, PARTIAL, REPLY, REPLY_TOKENS, SCHEMA, expect, raises, read_timeout

INPUT = [{"role": "user", "content": "Who wrote The Name of the Wind?"}]
TOOLS = [
    {
        "type": "function",
        "name": "get_book_author",
        "description": "Look up who wrote a book",
        "parameters": SCHEMA,
        "strict": False,
    }
]

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def create(client, model, **kw):
    return client.responses.create(model=model, input=INPUT, **kw)


def stream_events(client, model, **kw):
    """Streams with stream=True; returns (text, events) as the SDK yields them."""
    events = list(create(client, model, stream=True, **kw))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    return text, events


@case
def responses_plain(c):
    raw = c.oa.responses.with_raw_response.create(model="plain", input=INPUT, instructions="Be brief.")
    expect(raw.headers.get("x-request-id", "").startswith("req_"), "x-request-id header")
    r = raw.parse()
    expect(r.object == "response" and r.id.startswith("resp_"), (r.object, r.id))
    expect(r.status == "completed" and r.error is None, (r.status, r.error))
    expect(r.output_text == REPLY, r.output_text)
    item = r.output[0]
    expect(item.type == "message" and item.role == "assistant", item)
    expect(item.content[0].type == "output_text", item.content)
    expect(r.usage.output_tokens == REPLY_TOKENS, r.usage)
    expect(r.usage.total_tokens == r.usage.input_tokens + REPLY_TOKENS, r.usage)


@case
def responses_stream(c):
    text, events = stream_events(c.oa, "plain")
    expect(text == REPLY, text)
    types = [e.type for e in events]
    expect(types[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"], types)
    expect(types[-4:] == ["response.output_text.done", "response.content_part.done",
                          "response.output_item.done", "response.completed"], types)
    expect([e.sequence_number for e in events] == list(range(len(events))), "sequence numbers")
    done = events[-1].response
    expect(done.id == events[0].response.id and done.status == "completed", done)
    expect(done.output_text == REPLY and done.usage.output_tokens == REPLY_TOKENS, done)


@case
def responses_stream_helper(c):
    with c.oa.responses.stream(model="plain", input=INPUT) as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    expect("".join(deltas) == REPLY, deltas)
    expect(final.output_text == REPLY, final.output_text)


@case
def responses_tool_call(c):
    r = create(c.oa, "plain", tools=TOOLS)
    call = r.output[0]
    expect(call.type == "function_call" and call.name == "get_book_author", call)
    expect(call.call_id.startswith("call_") and call.id.startswith("fc_"), (call.call_id, call.id))
    expect(json.loads(call.arguments) == ARGS, call.arguments)
    expect(r.output_text == "", r.output_text)


@case
def responses_tool_call_stream(c):
    _, events = stream_events(c.oa, "plain", tools=TOOLS)
    deltas = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    done = [e for e in events if e.type == "response.function_call_arguments.done"]
    expect(len(deltas) > 1, f"the arguments come in pieces: {deltas}")
    expect(json.loads("".join(deltas)) == ARGS and done[0].arguments == "".join(deltas), deltas)
    with c.oa.responses.stream(model="plain", input=INPUT, tools=TOOLS) as stream:
        final = stream.get_final_response()
    call = final.output[0]
    expect(call.type == "function_call" and json.loads(call.arguments) == ARGS, call)


@case
def responses_rate_limit(c):
    e = raises(openai.RateLimitError, lambda: create(c.oa, "rate-limited"))
    expect(e.status_code == 429, e.status_code)
    expect(e.response.headers.get("retry-after") == "2", e.response.headers)
    expect(e.code == "rate_limit_exceeded" and e.type == "requests", (e.code, e.type))
    expect(e.request_id and e.request_id.startswith("req_"), e.request_id)
    e = raises(openai.RateLimitError, lambda: create(c.oa, "rate-limited-ms"))
    expect(e.response.headers.get("retry-after-ms") == "1500", e.response.headers)


@case
def responses_http_errors(c):
    table = [
        ("auth", openai.AuthenticationError, 401, "invalid_api_key"),
        ("bad-request", openai.BadRequestError, 400, None),
        ("context-length", openai.BadRequestError, 400, "context_length_exceeded"),
        ("server-error", openai.InternalServerError, 500, None),
        ("overloaded", openai.InternalServerError, 503, "server_is_overloaded"),
    ]
    for model, exc, status, code in table:
        e = raises(exc, lambda m=model: create(c.oa, m))
        expect(e.status_code == status, (model, e.status_code))
        expect(e.code == code, (model, e.code))
    e = raises(openai.InternalServerError, lambda: create(c.oa, "html"))
    expect(e.status_code == 502 and "502 Bad Gateway" in str(e.body), (e.status_code, e.body))
    e = raises(openai.RateLimitError, lambda: create(c.oa, "quota"))
    expect(e.code == "insufficient_quota", e.code)


@case
def responses_failed_in_stream_is_an_event_not_an_exception(c):
    # The SDK yields `response.failed` like any event: code keyed on exceptions (or on the
    # HTTP status, 200) never sees it.
    text, events = stream_events(c.oa, "overloaded-in-stream")
    expect(text == PARTIAL, text)
    last = events[-1]
    expect(last.type == "response.failed", [e.type for e in events])
    expect(last.response.status == "failed" and last.response.id == events[0].response.id, last.response)
    expect(last.response.error.code == "server_is_overloaded", last.response.error)
    expect("overloaded" in last.response.error.message, last.response.error)
    expect(not any(e.type == "response.completed" for e in events), "no response.completed")

    def helper():
        with c.oa.responses.stream(model="overloaded-in-stream", input=INPUT) as stream:
            return stream.get_final_response()

    e = raises(RuntimeError, helper)
    expect("response.completed" in str(e), e)


@case
def responses_cut_stream_is_silently_accepted(c):
    # The SDK's known gap: a stream without response.completed just ends.
    text, events = stream_events(c.oa, "cut-stream")
    expect(text == PARTIAL, text)
    expect(events[-1].type == "response.output_text.delta", events[-1].type)


@case
def responses_malformed_stream(c):
    raises(ValueError, lambda: stream_events(c.oa, "malformed-stream"))


@case
def responses_connection_reset_and_timeout(c):
    e = raises(openai.APIConnectionError, lambda: create(c.oa, "connection-reset"))
    expect(not isinstance(e, openai.APITimeoutError), type(e))
    raises(openai.APITimeoutError, lambda: create(c.oa.with_options(timeout=0.5), "timeout"))
    r = create(c.oa.with_options(timeout=5), "slow")
    expect(r.output_text == REPLY, r.output_text)


@case
def responses_incomplete_and_empty(c):
    for model, reason, text in [("content-filter", "content_filter", PARTIAL), ("length", "max_output_tokens", PARTIAL)]:
        r = create(c.oa, model)
        expect(r.status == "incomplete" and r.incomplete_details.reason == reason, (model, r.status, r.incomplete_details))
        expect(r.output_text == text, (model, r.output_text))
        streamed, events = stream_events(c.oa, model)
        expect(streamed == text and events[-1].type == "response.incomplete", (model, streamed, events[-1].type))
        expect(events[-1].response.incomplete_details.reason == reason, events[-1].response)
    r = create(c.oa, "empty")
    expect(r.status == "completed" and r.output_text == "", (r.status, r.output_text))


@case
def responses_max_output_tokens(c):
    r = create(c.oa, "plain", max_output_tokens=3)
    expect(r.status == "incomplete" and r.incomplete_details.reason == "max_output_tokens", r.incomplete_details)
    expect(r.output_text == PARTIAL and r.usage.output_tokens == 3, (r.output_text, r.usage))


@case
def responses_stall_hits_the_read_timeout(c):
    read_timeout(lambda: stream_events(c.oa.with_options(timeout=0.5), "stall"))


@case
def responses_limit(c):
    create(c.oa, "limited")
    e = raises(openai.RateLimitError, lambda: create(c.oa, "limited"))
    h = e.response.headers
    expect(h.get("x-ratelimit-limit-requests") == "1" and h.get("x-ratelimit-remaining-requests") == "0", h)
    expect(h.get("retry-after") == "60", h)


class Clients:
    def __init__(self, addr):
        self.oa = openai.OpenAI(base_url=f"http://{addr}/v1", api_key="sk-sim", max_retries=0, timeout=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", required=True, help="HOST:PORT of a running simulator")
    parser.add_argument("-k", default="", help="run only cases whose name contains this")
    args = parser.parse_args()
    print(f"openai {openai.__version__} (Responses API), simulator at {args.addr}")
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
    # A `-k` that picks none of these cases (it names the other script's) is no failure.
    return 1 if failed or (not passed and not args.k) else 0


if __name__ == "__main__":
    sys.exit(main())
