#!/usr/bin/env bash
# Whole-process numbers of the CLI (issue 7), from the repository root:
#  - start-up: `retrylab run basic-retry --speed max`, 50 runs, mean and min wall time;
#  - streaming: a scenario whose one reply streams WORDS words (default 300,000) with no
#    pacing, printed to /dev/null and through a pipe: MB/s of printed text and of SSE bytes
#    on the wire (the same stream fetched from `retrylab sim` with curl).
# RETRYLAB_BIN=path measures another build instead of building this one.
set -euo pipefail
if [ -z "${RETRYLAB_BIN:-}" ]; then cargo build --release --quiet --bin retrylab; fi
bin=${RETRYLAB_BIN:-target/release/retrylab}
words=${WORDS:-300000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -n "${spid:-}" ] && kill "$spid" 2>/dev/null' EXIT

python3 - "$bin" <<'PY'
import subprocess, sys, time
runs = []
for _ in range(50):
    t = time.perf_counter()
    subprocess.run([sys.argv[1], "run", "basic-retry", "--speed", "max", "--no-trace"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    runs.append(time.perf_counter() - t)
print(f"start-up (run basic-retry --speed max, 50 runs): mean {1000*sum(runs)/len(runs):.2f} ms, min {1000*min(runs):.2f} ms")
PY

python3 - "$words" >"$tmp/big.toml" <<'PY'
import sys
n = int(sys.argv[1])
words = " ".join(f"w{i % 1000:03d}xyzzy" for i in range(n))
print(f'''name = "big stream"
[prompt]
template = "Write a lot."
[call]
provider = "openai"
model = "gpt-4o-mini"
stream = true
[sim]
reply = "{words}"
first_token_ms = 0
tokens_per_second = 0
''')
PY
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" sim --addr "127.0.0.1:$port" "$tmp/big.toml" >/dev/null 2>&1 &
spid=$!
for _ in $(seq 50); do
    curl -s -o /dev/null -X POST "http://127.0.0.1:$port/v1/chat/completions" -d '{}' && break
    sleep 0.1
done
wire=$(curl -s -X POST "http://127.0.0.1:$port/v1/chat/completions" -H 'content-type: application/json' \
    -d '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Write a lot."}]}' | wc -c)
printed=$("$bin" run "$tmp/big.toml" --speed max --no-trace | wc -c)
python3 - "$bin" "$tmp/big.toml" "$wire" "$printed" <<'PY'
import subprocess, sys, time
bin, scen, wire, printed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def best(cmd, shell=False):
    out = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(cmd, shell=shell, check=True)
        out.append(time.perf_counter() - t)
    return min(out)
null = best(f"'{bin}' run '{scen}' --speed max --no-trace >/dev/null", shell=True)
pipe = best(f"'{bin}' run '{scen}' --speed max --no-trace | cat >/dev/null", shell=True)
for name, s in (("to /dev/null", null), ("to a pipe", pipe)):
    print(f"streaming {name}: {s*1000:.0f} ms; {printed/s/1e6:.0f} MB/s printed, {wire/s/1e6:.0f} MB/s of SSE")
PY
