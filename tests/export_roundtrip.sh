#!/usr/bin/env bash
# The export round trip (issue 11, DESIGN §14): every built-in scenario, exported with
# `--to mirascope` and `--to tenacity`, run with python3 against `retrylab sim SCENARIO`,
# must make the same attempts, waits, reinserted errors and outcome as `retrylab run`.
# Installs mirascope[openai,anthropic,tenacity] (v1, the retries page's) into a venv under
# target/. Prints `N passed, N failed`; exits 1 on a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v python3 >/dev/null 2>&1; then
  echo "!!! SKIPPED: the export round trip needs python3, which is not installed !!!" >&2
  exit 0
fi

venv=${RETRYLAB_EXPORT_VENV:-target/export-venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  "mirascope[openai,anthropic,tenacity]<2" tenacity

cargo build --locked --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export RETRYLAB_CONFIG_DIR="$work/config" RETRYLAB_DATA_DIR="$work/data"
# Compile the SDKs' bytecode once, so the parallel cases start quickly.
"$venv/bin/python" -c "import mirascope.llm, openai, anthropic, tenacity"

start=$SECONDS
ROUNDTRIP_JOBS=${ROUNDTRIP_JOBS:-6} python3 tests/export_roundtrip.py \
  "$PWD/target/debug/retrylab" "$PWD/$venv/bin/python" "$work/programs" mirascope,tenacity \
  assets/scenarios/*.toml tests/export_scenarios/*.toml
echo "(round trip: $((SECONDS - start)) s)"
