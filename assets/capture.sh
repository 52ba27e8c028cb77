#!/usr/bin/env bash
# Regenerates the screens as text that README links (playground-*.txt): the freshly built
# binary in tmux at 160x45, fresh config and data dirs, the default demo at 100x.
#   after-fallback: the run done, the Timeline focused, the outcome selected;
#   why: the first attempt selected (the Inspector says why it was retried);
#   help: F1 over that;
#   lab: the Lab view (F7), the demo against basic-retry, 1,000 calls each;
#   whatif: the demo's run from Ctrl+O's History, `w`, its faults under basic-retry.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --bin retrylab
tmp=$(mktemp -d)
sock="retrylab-capture-$$"
t() { tmux -L "$sock" "$@"; }
trap 't kill-server >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
cat >"$tmp/run.sh" <<INNER
export LANG=C.UTF-8 TERM=xterm-256color RETRYLAB_CONFIG_DIR="$tmp/config" RETRYLAB_DATA_DIR="$tmp/data"
exec "$(pwd)/target/debug/retrylab"
INNER
t -f /dev/null new-session -d -s c -x 160 -y 45 "sh '$tmp/run.sh'"
shot() { sleep 0.5; t capture-pane -p -t c >"assets/playground-$1.txt"; }
wait_for() { for _ in $(seq 100); do t capture-pane -p -t c | grep -qF -- "$1" && return 0; sleep 0.1; done; return 1; }
wait_for "No run yet. Press F5"
t send-keys -t c F3 F3
sleep 0.3
t send-keys -t c F5
wait_for "■ ok"
t send-keys -t c Tab Tab Tab
shot after-fallback
t send-keys -t c g
shot why
t send-keys -t c F1
shot help
t send-keys -t c Escape
sleep 0.3
t send-keys -t c F7
wait_for "Lab: N calls of each policy"
t send-keys -t c C-o
sleep 0.3
t send-keys -t c -l basic-retry
t send-keys -t c Enter
sleep 0.3
t send-keys -t c F5
for _ in $(seq 600); do t capture-pane -p -t c | grep -qF "calls per policy" && break; sleep 0.1; done
shot lab
t send-keys -t c Escape
sleep 0.3
t send-keys -t c C-o
sleep 0.3
t send-keys -t c Tab
sleep 0.3
t send-keys -t c Enter
wait_for "w asks what if"
wait_for "■ ok"
t send-keys -t c w
sleep 0.3
t send-keys -t c -l basic-retry
t send-keys -t c Enter
wait_for "New · basic-retry"
shot whatif
t send-keys -t c Escape
sleep 0.3
t send-keys -t c C-q
