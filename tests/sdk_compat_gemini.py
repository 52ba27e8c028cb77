"""The official `google-genai` Python SDK against a running retrylab simulator.

Each case asserts that the SDK parses one kind of Gemini reply (plain, streamed, function
call, error) the way it parses the real API's: `client.models.generate_content`,
`generate_content_stream`, and the `errors.APIError` family, whose `details` must carry the
429's `RetryInfo.retryDelay`. The simulator serves tests/fixtures/sim/sdk_compat.toml, whose
`[sim]` table picks a behaviour per model name (as for tests/sdk_compat.py).

    python3 tests/sdk_compat_gemini.py --addr 127.0.0.1:PORT

Prints one line per case and a closing `N passed, N failed` line; exits 1 on any failure.
"""

import argparse
import sys
import traceback

from google import genai
from google.genai import errors, types

REPLY = "Patrick Rothfuss wrote The Name of the Wind."
REPLY_TOKENS = 8
PARTIAL = "Patrick Rothfuss wrote"  # after_tokens = 3
ARGS = {"title": "The Name of the Wind"}
PROMPT = "Who wrote The Name of the Wind?"
SCHEMA = {
    "type": "object",
    "properties": {"title": {"type": "string"}},
    "required": ["title"],
}
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def client(addr):
    # The SDK's retries are off unless asked for (http_options.retry_options): one request
    # per call, as the cases need.
    return genai.Client(
        api_key="sim-key",
        http_options=types.HttpOptions(base_url=f"http://{addr}", timeout=5000),
    )


def tools_config():
    decl = types.FunctionDeclaration(
        name="get_book_author",
        description="Look up who wrote a book",
        parameters_json_schema=SCHEMA,
    )
    return types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[decl])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )


def streamed(c, model, config=None):
    return list(c.models.generate_content_stream(model=model, contents=PROMPT, config=config))


def error_of(fn):
    try:
        fn()
    except errors.APIError as e:
        return e
    raise AssertionError("no APIError raised")


def retry_delay(e):
    details = (e.details or {}).get("error", {}).get("details", [])
    return next((d.get("retryDelay") for d in details if d.get("@type") == RETRY_INFO), None)


@case
def plain_text_with_usage(c):
    r = c.models.generate_content(model="plain", contents=PROMPT)
    expect(r.text == REPLY, r.text)
    expect(r.candidates[0].finish_reason == types.FinishReason.STOP, r.candidates[0].finish_reason)
    u = r.usage_metadata
    expect(u.candidates_token_count == REPLY_TOKENS, u)
    expect(u.prompt_token_count > 0 and u.total_token_count == u.prompt_token_count + REPLY_TOKENS, u)
    expect(r.model_version == "plain", r.model_version)
    expect(r.response_id, r.response_id)


@case
def stream_text_ends_with_a_finish_reason(c):
    chunks = streamed(c, "plain")
    expect("".join(ch.text or "" for ch in chunks) == REPLY, [ch.text for ch in chunks])
    expect(len(chunks) == REPLY_TOKENS + 1, len(chunks))
    expect(chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP, chunks[-1])
    expect(all(ch.candidates[0].finish_reason is None for ch in chunks[:-1]), "early finish")
    expect(chunks[-1].usage_metadata.candidates_token_count == REPLY_TOKENS, chunks[-1].usage_metadata)


@case
def function_call_plain(c):
    r = c.models.generate_content(model="plain", contents=PROMPT, config=tools_config())
    calls = r.function_calls
    expect(calls and len(calls) == 1, calls)
    expect(calls[0].name == "get_book_author" and calls[0].args == ARGS, calls[0])


@case
def function_call_streamed(c):
    chunks = streamed(c, "plain", tools_config())
    calls = [fc for ch in chunks for fc in (ch.function_calls or [])]
    expect(len(calls) == 1 and calls[0].args == ARGS, calls)
    expect(chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP, chunks[-1])


@case
def rate_limit_carries_its_retry_delay(c):
    e = error_of(lambda: c.models.generate_content(model="rate-limited", contents=PROMPT))
    expect(isinstance(e, errors.ClientError), type(e))
    expect(e.code == 429 and e.status == "RESOURCE_EXHAUSTED", (e.code, e.status))
    expect(retry_delay(e) == "2s", e.details)
    expect("Please retry in 2s." in e.message, e.message)
    # The wait is in the body only, as the real API sends it.
    expect(e.response.headers.get("retry-after") is None, dict(e.response.headers))


@case
def rate_limit_fractional_delay(c):
    e = error_of(lambda: c.models.generate_content(model="rate-limited-ms", contents=PROMPT))
    expect(retry_delay(e) == "1.5s", e.details)


@case
def empty_bucket_says_when(c):
    c.models.generate_content(model="limited", contents=PROMPT)
    e = error_of(lambda: c.models.generate_content(model="limited", contents=PROMPT))
    expect(e.code == 429 and retry_delay(e), e.details)


@case
def overloaded_is_503_unavailable(c):
    e = error_of(lambda: c.models.generate_content(model="overloaded", contents=PROMPT))
    expect(isinstance(e, errors.ServerError), type(e))
    expect((e.code, e.status) == (503, "UNAVAILABLE"), (e.code, e.status))


@case
def server_error_is_500_internal(c):
    e = error_of(lambda: c.models.generate_content(model="server-error", contents=PROMPT))
    expect((e.code, e.status) == (500, "INTERNAL"), (e.code, e.status))


@case
def bad_key_is_400_with_its_reason(c):
    e = error_of(lambda: c.models.generate_content(model="auth", contents=PROMPT))
    expect((e.code, e.status) == (400, "INVALID_ARGUMENT"), (e.code, e.status))
    reasons = [d.get("reason") for d in e.details["error"]["details"]]
    expect(reasons == ["API_KEY_INVALID"], reasons)


@case
def bad_request_and_context_length_are_400(c):
    for model in ["bad-request", "context-length"]:
        e = error_of(lambda: c.models.generate_content(model=model, contents=PROMPT))
        expect(isinstance(e, errors.ClientError) and e.code == 400, (model, e.code))
    expect("input token count" in e.message, e.message)


@case
def quota_is_429_with_limit_zero(c):
    e = error_of(lambda: c.models.generate_content(model="quota", contents=PROMPT))
    expect(e.code == 429 and "limit: 0" in e.message, e.message)
    expect(e.details["error"]["details"][0]["violations"][0]["quotaValue"] == "0", e.details)


@case
def html_gateway_page_is_a_server_error(c):
    e = error_of(lambda: c.models.generate_content(model="html", contents=PROMPT))
    expect(isinstance(e, errors.ServerError) and e.code == 502, (type(e), e.code))


@case
def error_inside_the_stream_raises(c):
    got = []

    def run():
        for ch in c.models.generate_content_stream(model="overloaded-in-stream", contents=PROMPT):
            got.append(ch.text)

    e = error_of(run)
    expect((e.code, e.status) == (503, "UNAVAILABLE"), (e.code, e.status))
    expect("".join(got) == PARTIAL, got)


@case
def cut_stream_is_accepted_by_the_sdk(c):
    # No finishReason, no error: the SDK takes it for a complete answer (retrylab does not).
    chunks = streamed(c, "cut-stream")
    expect("".join(ch.text or "" for ch in chunks) == PARTIAL, [ch.text for ch in chunks])
    expect(all(ch.candidates[0].finish_reason is None for ch in chunks), "a finish reason")


@case
def malformed_frame_raises(c):
    try:
        streamed(c, "malformed-stream")
    except errors.UnknownApiResponseError as e:
        expect("Failed to parse response as JSON" in str(e), str(e))
    else:
        raise AssertionError("a malformed frame was accepted")


@case
def content_filter_and_length_finish_reasons(c):
    r = c.models.generate_content(model="content-filter", contents=PROMPT)
    expect(r.candidates[0].finish_reason == types.FinishReason.SAFETY, r.candidates[0])
    chunks = streamed(c, "length")
    expect(chunks[-1].candidates[0].finish_reason == types.FinishReason.MAX_TOKENS, chunks[-1])
    expect("".join(ch.text or "" for ch in chunks) == PARTIAL, [ch.text for ch in chunks])


@case
def empty_answer(c):
    r = c.models.generate_content(model="empty", contents=PROMPT)
    expect(not r.text, r.text)
    expect(r.candidates[0].finish_reason == types.FinishReason.STOP, r.candidates[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", required=True, help="HOST:PORT of a running simulator")
    parser.add_argument("-k", default="", help="run only cases whose name contains this")
    args = parser.parse_args()
    print(f"google-genai {genai.__version__}, simulator at {args.addr}")
    c = client(args.addr)
    passed = failed = 0
    cases = [fn for fn in CASES if args.k in fn.__name__]
    if not cases:
        print(f"no gemini case matches -k {args.k!r}; skipped")
        return 0
    for fn in cases:
        try:
            fn(c)
        except Exception:
            failed += 1
            print(f"FAIL gemini {fn.__name__}")
            traceback.print_exc(limit=4)
        else:
            passed += 1
            print(f"ok   gemini {fn.__name__}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
