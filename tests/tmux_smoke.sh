#!/usr/bin/env bash
# The playground in a real terminal (tmux): start the built binary on the default demo, press
# F3 (speed 10x) and F5 (run), wait, check the screen shows the attempts, the fallback hop and
# the answer, quit with Ctrl+Q and check the terminal came back (main screen, cooked mode,
# cursor shown, mouse reporting off). Prints `N passed, N failed`; exits 1 on any failure.
#
# RETRYLAB_BIN overrides the binary (default: target/debug/retrylab, built when missing).
set -uo pipefail
cd "$(dirname "$0")/.."

BIN=${RETRYLAB_BIN:-target/debug/retrylab}
if [ ! -x "$BIN" ]; then
  cargo build --quiet --bin retrylab || { echo "0 passed, 1 failed (build)"; exit 1; }
fi
BIN=$(realpath "$BIN")

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

tmp=$(mktemp -d)
sock="retrylab-smoke-$$"
t() { tmux -L "$sock" "$@"; }
cleanup() { t kill-server >/dev/null 2>&1; rm -rf "$tmp"; }
trap cleanup EXIT

screen() { t capture-pane -p -t smoke; }
# wait_for TEXT SECONDS: poll the screen until it shows TEXT.
wait_for() {
  local deadline=$((SECONDS + $2))
  while [ $SECONDS -lt "$deadline" ]; do
    if screen | grep -qF -- "$1"; then return 0; fi
    sleep 0.1
  done
  return 1
}
expect() { # expect NAME TEXT [SECONDS]
  if wait_for "$2" "${3:-5}"; then ok "$1"; else fail "$1 (no \"$2\" on screen)"; fi
}

# The binary runs in a shell that reports how it left the terminal once it exits.
cat >"$tmp/inner.sh" <<INNER
export LANG=C.UTF-8 TERM=xterm-256color RETRYLAB_TIMING=1
export RETRYLAB_CONFIG_DIR="$tmp/config" RETRYLAB_DATA_DIR="$tmp/data"
"$BIN"
echo "EXITED \$?"
stty -a | tr ' ;' '\n\n' | grep -x -- '-\?icanon'
sleep 60
INNER
start_ns=$(date +%s%N)
t -f /dev/null new-session -d -s smoke -x 120 -y 40 "sh '$tmp/inner.sh'"

expect "first frame shows the editors and the timeline" "No run yet. Press F5" 10
first_ms=$((($(date +%s%N) - start_ns) / 1000000))
echo "     (first frame seen by tmux after ${first_ms} ms, polling every 100 ms)"

t send-keys -t smoke F3
expect "F3 sets the speed to 10x" " 10x " 3

t send-keys -t smoke F5
expect "the run finishes ok" "■ ok" 20
s=$(screen)
for want in "✗ primary #1" "✗ primary #2" "✗ primary #3" "⏳ waited 4 s" \
  "⊘ primary gave up after 3 attempts" "⤷ fallback → anthropic/claude-3-5-sonnet-latest" \
  "✓ hop 1" "42, according to Douglas Adams"; do
  if grep -qF -- "$want" <<<"$s"; then ok "screen shows: $want"; else fail "screen lacks: $want"; fi
done
if ls "$tmp"/data/traces/*.jsonl >/dev/null 2>&1; then ok "the run was recorded as a trace"; else fail "no trace written"; fi

t send-keys -t smoke C-q
expect "Ctrl+Q quits with exit code 0" "EXITED 0" 5
s=$(screen)
if grep -qx "icanon" <<<"$s"; then ok "the tty is back in cooked mode"; else fail "the tty stayed raw"; fi
if [ "$(t display -p -t smoke '#{alternate_on}')" = "0" ]; then ok "back on the main screen"; else fail "still on the alternate screen"; fi
if [ "$(t display -p -t smoke '#{cursor_flag}')" = "1" ]; then ok "the cursor is shown"; else fail "the cursor is hidden"; fi
if [ "$(t display -p -t smoke '#{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}')" = "000" ]; then
  ok "mouse reporting is off"
else
  fail "mouse reporting left on"
fi
timing=$(grep -o "first frame after [0-9.]* ms" <<<"$s" || true)
[ -n "$timing" ] && echo "     ($timing, measured inside the binary)"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
