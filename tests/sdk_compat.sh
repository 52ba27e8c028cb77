#!/usr/bin/env bash
# The official openai, anthropic and google-genai Python SDKs against the simulator
# (tests/sdk_compat.py, tests/sdk_compat_gemini.py).
#
# Skips (exit 0) when python3 is missing. Installs the SDKs with pip when they are not
# importable (into a venv under target/ when plain pip is refused), starts the simulator on a
# free port with tests/fixtures/sim/sdk_compat.toml, runs the script, stops the server.
# Exits non-zero on any failure. Extra arguments go to the script (e.g. `-k anthropic`).
#
# The server is `retrylab sim`; set SIM_CMD to choose another command (it gets
# `--addr 127.0.0.1:0 SCENARIO`).
set -uo pipefail
cd "$(dirname "$0")/.."

scenario=tests/fixtures/sim/sdk_compat.toml
fail() {
    echo "sdk_compat: $*" >&2
    echo "0 passed, 1 failed"
    exit 1
}

if ! command -v python3 >/dev/null 2>&1; then
    echo "sdk_compat: python3 not found; skipped"
    exit 0
fi

py=python3
if ! python3 -c 'import openai, anthropic' >/dev/null 2>&1; then
    if ! python3 -m pip install --quiet --disable-pip-version-check openai anthropic >/dev/null 2>&1 \
        || ! python3 -c 'import openai, anthropic' >/dev/null 2>&1; then
        venv=target/sdk-venv
        if [ ! -x "$venv/bin/python" ]; then
            python3 -m venv "$venv" || fail "cannot create a venv in $venv"
        fi
        py="$venv/bin/python"
        if ! "$py" -c 'import openai, anthropic' >/dev/null 2>&1; then
            "$py" -m pip install --quiet --disable-pip-version-check openai anthropic \
                || fail "pip could not install openai and anthropic"
        fi
    fi
fi

if [ -n "${SIM_CMD:-}" ]; then
    read -r -a server <<<"$SIM_CMD"
else
    cargo build --quiet --bin retrylab || fail "cargo build failed"
    server=(target/debug/retrylab sim)
fi

log=$(mktemp)
"${server[@]}" --addr 127.0.0.1:0 "$scenario" >"$log" 2>&1 &
pid=$!
cleanup() {
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -f "$log"
}
trap cleanup EXIT

addr=""
for _ in $(seq 1 200); do
    addr=$(sed -n 's/.*listening on \([0-9.]*:[0-9]*\).*/\1/p' "$log" | head -n 1)
    [ -n "$addr" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
        cat "$log" >&2
        fail "the simulator (${server[*]}) exited before listening"
    fi
    sleep 0.05
done
[ -n "$addr" ] || { cat "$log" >&2; fail "the simulator did not print its address"; }
echo "sdk_compat: simulator ${server[*]} on $addr"

# Loopback must never go through a proxy.
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export no_proxy="$NO_PROXY"
"$py" tests/sdk_compat.py --addr "$addr" "$@"
status=$?
# The Responses API (client.responses), against the same simulator.
"$py" tests/sdk_compat_responses.py --addr "$addr" "$@" || status=1

# google-genai (tests/sdk_compat_gemini.py) on the same server, in the same Python.
if ! "$py" -c 'from google import genai' >/dev/null 2>&1; then
    "$py" -m pip install --quiet --disable-pip-version-check google-genai >/dev/null 2>&1 \
        || fail "pip could not install google-genai"
fi
"$py" tests/sdk_compat_gemini.py --addr "$addr" "$@" || status=1
if ! kill -0 "$pid" 2>/dev/null; then
    cat "$log" >&2
    echo "sdk_compat: the simulator died during the run" >&2
    status=1
fi

# Azure OpenAI: the openai SDK's AzureOpenAI client (tests/sdk_compat_azure.py) against a
# second simulator serving its own fixture.
azure_log=$(mktemp)
"${server[@]}" --addr 127.0.0.1:0 tests/fixtures/sim/sdk_compat_azure.toml >"$azure_log" 2>&1 &
azure_pid=$!
azure_addr=""
for _ in $(seq 1 200); do
    azure_addr=$(sed -n 's/.*listening on \([0-9.]*:[0-9]*\).*/\1/p' "$azure_log" | head -n 1)
    [ -n "$azure_addr" ] || ! kill -0 "$azure_pid" 2>/dev/null && break
    sleep 0.05
done
if [ -n "$azure_addr" ]; then
    "$py" tests/sdk_compat_azure.py --addr "$azure_addr" "$@" || status=1
else
    cat "$azure_log" >&2
    echo "sdk_compat: the Azure simulator did not start" >&2
    status=1
fi
kill "$azure_pid" 2>/dev/null
wait "$azure_pid" 2>/dev/null
rm -f "$azure_log"
exit "$status"
