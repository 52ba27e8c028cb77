#!/usr/bin/env bash
# DESIGN §9: a 1,000-attempt headless run against the simulator, retrylab at --speed max vs
# Python Mirascope + Tenacity doing the same work against `retrylab sim`.
# Needs: pip install "mirascope[openai]<2" tenacity (the v1 API of the retries page).
# Run from the repository root. Measured here: 0.08 s vs 1.28 s (16x).
set -euo pipefail
# RETRYLAB_BIN=path measures another build (e.g. an older one) instead of building this one.
if [ -z "${RETRYLAB_BIN:-}" ]; then cargo build --release --quiet --bin retrylab; fi
bin=${RETRYLAB_BIN:-target/release/retrylab}
scenario=benches/python/thousand.toml
rust_s=$( { /usr/bin/time -f "%e" "$bin" run "$scenario" --speed max --no-trace >/dev/null; } 2>&1 | tail -1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" sim --addr "127.0.0.1:$port" "$scenario" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
sleep 0.5
py_s=$(python3 benches/python/mirascope_thousand.py "http://127.0.0.1:$port/v1")
echo "retrylab (whole process, incl. start-up and simulator): ${rust_s} s"
echo "Mirascope + Tenacity (the call alone):                  ${py_s} s"
python3 -c "print(f'ratio: {float(\"$py_s\") / max(float(\"$rust_s\"), 1e-9):.1f}x')"

# Live mode (issue 7): 1,000 retried attempts, no wait, against a third-party loopback server
# (llmock answering every request 500), three ways: curl's keep-alive loop (one process, one
# connection, the floor), retrylab --live, and Mirascope + Tenacity.
# Needs: pip install llmock. Skipped when llmock is not installed. Measured here (2 busy
# cores): curl 0.32-0.36 s, retrylab 0.36-0.42 s (was 1.73 s: a zero wait cost a timer tick),
# Mirascope + Tenacity 1.92-1.94 s: retrylab within 1.15-1.26x of curl, 4.7-5.4x the Python.
if ! command -v llmock >/dev/null; then
    echo "live: llmock not installed (pip install llmock); skipped"
    exit 0
fi
lport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
llmock serve --host 127.0.0.1 --port "$lport" --error-rate 500=1.0 --log-level warning >/dev/null 2>&1 &
lpid=$!
trap 'kill $pid $lpid 2>/dev/null' EXIT
base="http://127.0.0.1:$lport/v1"
for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$lport/health" && break
    sleep 0.2
done
tmp=$(mktemp -d)
body='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Recommend a fantasy book"}]}'
for _ in $(seq 1000); do echo "url = \"$base/chat/completions\""; done >"$tmp/urls"
curl_s=$(python3 - "$tmp/urls" "$body" <<'PY'
import subprocess, sys, time
t = time.perf_counter()
subprocess.run(["curl", "-s", "-X", "POST", "-H", "content-type: application/json",
                "-H", "authorization: Bearer bench", "-d", sys.argv[2], "-K", sys.argv[1]],
               stdout=subprocess.DEVNULL, check=True)
print(f"{time.perf_counter() - t:.3f}")
PY
)
sed "s#BASE_URL#$base#" benches/python/thousand_live.toml >"$tmp/live.toml"
# The run's own time: `t_ms` of run_finished (live t_ms is wall time since the run started).
live_ms=$("$bin" run "$tmp/live.toml" --live --json --no-trace 2>/dev/null | tail -1 |
    python3 -c 'import json,sys; e=json.loads(sys.stdin.read()); assert e["event"]=="run_finished"; print(e["t_ms"])' || true)
live_s=$(python3 -c "print(f'{int(\"$live_ms\") / 1000:.3f}')")
pyl_s=$(python3 benches/python/mirascope_live.py "$base")
echo "live, 1,000 attempts against llmock (500 each):"
echo "  curl keep-alive loop:  ${curl_s} s"
echo "  retrylab --live:       ${live_s} s"
echo "  Mirascope + Tenacity:  ${pyl_s} s"
python3 -c "c,r,p=float('$curl_s'),float('$live_s'),float('$pyl_s'); print(f'  retrylab / curl: {r/c:.2f}x; Python / retrylab: {p/r:.1f}x')"
rm -rf "$tmp"
