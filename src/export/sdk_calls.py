# ---- one attempt through the official SDK, plain: the request, the stream, the tools ----------
class Messages:
    """The chat turns, as the SDKs take them."""

    System = staticmethod(lambda text: {"role": "system", "content": text})
    User = staticmethod(lambda text: {"role": "user", "content": text})
    Assistant = staticmethod(lambda text: {"role": "assistant", "content": text})


class FallbackError(Exception):
    """Every hop failed with an error its catch lists (Mirascope's FallbackError)."""


def collect_errors(*types: type) -> Any:
    """Mirascope's collect_errors, written out: a failure of exactly one of `types` joins the
    `errors` keyword of the next attempt."""

    def inner(retry_state: RetryCallState) -> None:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if error is not None and type(error) in types:
            retry_state.kwargs["errors"] = (retry_state.kwargs.pop("errors", None) or []) + [error]

    return inner


def ask_responses(client, model: str, messages, *, stream: bool, tools: dict, params: dict):
    """One request to the Responses API: (text, calls, finish reasons). A `response.failed`
    or `error` event, which the SDK yields without raising, raises the APIError the chat
    completions stream would."""
    kwargs = {"model": model, "input": [m for m in messages if m["role"] != "system"]}
    system = "\n".join(m["content"] for m in messages if m["role"] == "system")
    if system:
        kwargs["instructions"] = system
    if "temperature" in params:
        kwargs["temperature"] = params["temperature"]
    if "max_tokens" in params:
        kwargs["max_output_tokens"] = params["max_tokens"]
    if tools:
        kwargs["tools"] = [{"type": "function", "name": n, "description": d, "parameters": s, "strict": False}
                           for n, (_, s, d) in tools.items()]

    def ended(r, request=None) -> list:
        if r.status == "failed":
            error = r.error.model_dump() if r.error else {}
            raise openai.APIError(error.get("message") or "the response failed", request, body=error)
        if r.status == "incomplete" and r.incomplete_details:
            return [r.incomplete_details.reason]
        return ["stop"]

    content, calls, finish = "", {}, []
    if stream:
        events = client.responses.create(stream=True, **kwargs)
        for event in events:
            if event.type == "response.output_text.delta":
                content += event.delta
            elif event.type == "response.output_item.added" and event.item.type == "function_call":
                calls[event.output_index] = [event.item.name, ""]
            elif event.type == "response.function_call_arguments.delta":
                calls.setdefault(event.output_index, ["", ""])[1] += event.delta
            elif event.type == "error":
                body = {"code": event.code, "message": event.message}
                raise openai.APIError(event.message, events.response.request, body=body)
            elif event.type in ("response.completed", "response.incomplete", "response.failed"):
                finish = ended(event.response, events.response.request)
    else:
        r = client.responses.create(**kwargs)
        finish = ended(r)
        content = r.output_text
        calls = {i: [o.name, o.arguments] for i, o in enumerate(o for o in r.output if o.type == "function_call")}
    return content, calls, finish


def ask(client, provider: str, model: str, messages, *, stream: bool, tools: dict, params: dict) -> str:
    """One request; the answer's text, or the tools' results. A stream without its terminal
    event, a filtered reply and bad tool arguments raise (the SDKs accept the first two)."""
    if isinstance(messages, str):
        messages = [Messages.User(messages)]
    calls: dict = {}
    content, finish = "", []
    if provider == "anthropic":
        system = "\n".join(m["content"] for m in messages if m["role"] == "system")
        kwargs = {"model": model, "max_tokens": params.get("max_tokens", 1024),
                  "messages": [m for m in messages if m["role"] != "system"]}
        if system:
            kwargs["system"] = system
        if "temperature" in params:
            kwargs["temperature"] = params["temperature"]
        if tools:
            kwargs["tools"] = [{"name": n, "description": d, "input_schema": s} for n, (_, s, d) in tools.items()]
        if stream:
            for event in client.messages.create(stream=True, **kwargs):
                if event.type == "content_block_start" and event.content_block.type == "tool_use":
                    calls[event.index] = [event.content_block.name, ""]
                elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                    content += event.delta.text
                elif event.type == "content_block_delta" and event.delta.type == "input_json_delta":
                    calls[event.index][1] += event.delta.partial_json
                elif event.type == "message_delta" and event.delta.stop_reason:
                    finish.append(event.delta.stop_reason)
        else:
            r = client.messages.create(**kwargs)
            content = "".join(b.text for b in r.content if b.type == "text")
            calls = {i: [b.name, json.dumps(b.input)] for i, b in enumerate(r.content) if b.type == "tool_use"}
            finish = [r.stop_reason] if r.stop_reason else []
    elif provider == "openai-responses":
        content, calls, finish = ask_responses(client, model, messages, stream=stream, tools=tools, params=params)
    else:
        kwargs = {"model": model, "messages": messages, **params}
        if tools:
            kwargs["tools"] = [{"type": "function", "function": {"name": n, "description": d, "parameters": s}}
                               for n, (_, s, d) in tools.items()]
        if stream:
            for chunk in client.chat.completions.create(stream=True, **kwargs):
                for choice in chunk.choices:
                    content += choice.delta.content or ""
                    for tc in choice.delta.tool_calls or []:
                        entry = calls.setdefault(tc.index, ["", ""])
                        entry[0] += (tc.function and tc.function.name) or ""
                        entry[1] += (tc.function and tc.function.arguments) or ""
                    if choice.finish_reason:
                        finish.append(choice.finish_reason)
        else:
            choice = client.chat.completions.create(**kwargs).choices[0]
            content = choice.message.content or ""
            calls = {i: [t.function.name, t.function.arguments] for i, t in enumerate(choice.message.tool_calls or [])}
            finish = [choice.finish_reason] if choice.finish_reason else []
    if stream and not finish:
        raise StreamInterrupted("the stream ended without its terminal event")
    if set(finish) & {"content_filter", "refusal"}:
        raise ContentFiltered("the reply was stopped by the content filter")
    if not calls:
        return content
    results = []
    for name, args in calls.values():
        if name not in tools:
            raise ToolArgumentsInvalid(f"{name}: unknown tool")
        fn, schema, _ = tools[name]
        if why := tool_argument_problems(schema, args):
            raise ToolArgumentsInvalid(f"{name}: {why}")
        results.append(str(fn(**json.loads(args or "{}"))))
    return "\n".join(results)
# ---- end of the SDK call ---------------------------------------------------------------------
