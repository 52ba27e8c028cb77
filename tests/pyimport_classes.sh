#!/usr/bin/env bash
# `retrylab import`'s exception table against the real SDKs (tests/pyimport_classes.py), and
# the Python fixtures of tests/fixtures/python/ parsed by Python itself. Installs Mirascope
# 1.25.7 (with openai, anthropic, tenacity, pydantic, httpx) in a venv under target/.
# Skips, loudly, when python3 is missing.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v python3 >/dev/null 2>&1; then
    echo "!!!!!!!! pyimport_classes: python3 not found: the exception table is NOT checked against the SDKs !!!!!!!!"
    exit 0
fi
venv=target/py-venv-import
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || { echo "pyimport_classes: cannot create a venv in $venv" >&2; exit 1; }
fi
if ! "$venv/bin/python" -c 'import mirascope, openai, anthropic, tenacity, httpx, pydantic' >/dev/null 2>&1; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "mirascope[openai,anthropic,tenacity]==1.25.7" \
        || { echo "pyimport_classes: pip could not install mirascope 1.25.7" >&2; exit 1; }
fi
"$venv/bin/python" tests/pyimport_classes.py
