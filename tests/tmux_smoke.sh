#!/usr/bin/env bash
# The playground in a real terminal (tmux): start the built binary on the default demo, press
# F3 (speed 10x) and F5 (run), wait, check the screen shows the attempts, the fallback hop and
# the answer, quit with Ctrl+Q and check the terminal came back (main screen, cooked mode,
# cursor shown, mouse reporting off). Then: a data dir where no trace can be written (a notice,
# the app goes on); each terminating signal (the terminal comes back cooked, mouse off, the
# edits kept as a draft); SIGTSTP / SIGCONT (cooked while stopped, raw and redrawn after).
# Prints `N passed, N failed`; exits 1 on any failure.
#
# Then issue 9's visible controls: the speed chosen last is remembered; F3 mid-run shortens
# the run's wall time; Esc mid-wait shows "cancelled after … of 4 s" (and the trace says so);
# the Inspector shows the request body's "temperature" once [call] has one; Ctrl+O marks the
# selected row (dark and mono themes) and filters as you type; Ctrl+G opens the help, `/`
# searches it, `q` closes it; Ctrl+S on a built-in asks a name;
# Tab keeps the columns, Ctrl+W zooms, Ctrl+C copies a selection by OSC 52 and never quits at once.
# Then issue 10's Lab view: F7 opens it, N = 200 runs to the table, Esc closes it.
# Then issue 11's what-if: a run replayed from Ctrl+O's History, `w`, basic-retry picked, both
# sides with their numbers; `m` switches the map; Esc goes back to the replay.
# Then issue 11's Export dialog: F6 lists the targets, Enter shows the code with its findings,
# Ctrl+C copies it by OSC 52, `w` writes it (equal to `retrylab export`), a second write asks.
#
# RETRYLAB_BIN overrides the binary (default: target/debug/retrylab, always built first so a
# stale binary is never the one tested).
set -uo pipefail
cd "$(dirname "$0")/.."

if [ -z "${RETRYLAB_BIN:-}" ]; then
  cargo build --quiet --bin retrylab || { echo "0 passed, 1 failed (build)"; exit 1; }
fi
BIN=${RETRYLAB_BIN:-target/debug/retrylab}
BIN=$(realpath "$BIN")

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

tmp=$(mktemp -d)
sock="retrylab-smoke-$$"
t() { tmux -L "$sock" "$@"; }
cleanup() {
  t kill-server >/dev/null 2>&1
  if [ -n "${ro_mounted:-}" ]; then umount "$tmp/ro" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

screen() { t capture-pane -p -t smoke; }
# The tty's modes as one word a line (`icanon` or `-icanon`, `echo` or `-echo`, ...).
tty_modes() { stty -F "$(t display -p -t smoke '#{pane_tty}')" -a | tr ' ;' '\n\n'; }
mouse_flags() { t display -p -t smoke '#{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}'; }
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

# start DATA_DIR [VAR=VALUE]: the binary in a fresh session, in a shell that reports how it
# left the terminal once it exits; its pid goes to $tmp/pid.
start() {
  t kill-server >/dev/null 2>&1
  rm -f "$tmp/pid"
  cat >"$tmp/inner.sh" <<INNER
export LANG=C.UTF-8 TERM=xterm-256color RETRYLAB_TIMING=1
export RETRYLAB_CONFIG_DIR="$tmp/config" RETRYLAB_DATA_DIR="$1" ${2:-}
sh -c 'echo \$\$ >"$tmp/pid"; exec "$BIN"'
echo "EXITED \$?"
stty -a | tr ' ;' '\n\n' | grep -x -- '-\?icanon'
stty -a | tr ' ;' '\n\n' | grep -x -- '-\?echo'
echo "REPORTED"
sleep 60
INNER
  # A server just killed may still hold the socket: the new session then dies with it
  # ("server exited unexpectedly"), so try again until the session is there.
  local i
  for i in $(seq 50); do
    if t -f /dev/null new-session -d -s smoke -x 120 -y 40 "sh '$tmp/inner.sh'" 2>/dev/null &&
      t has-session -t smoke 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "     (tmux would not start a session)"
}
pid() { cat "$tmp/pid" 2>/dev/null; }

start_ns=$(date +%s%N)
start "$tmp/data"

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
wait_for REPORTED 5
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

# ----- issue 9: the speed chosen last (10x above) is remembered -----
start "$tmp/data"
expect "the speed chosen last is remembered (10x)" " 10x " 10
t send-keys -t smoke C-q
wait_for "EXITED" 5

# ----- issue 9: F3 during a run re-paces it from that moment -----
rm -f "$tmp/config/prefs.toml" # start at 1x whatever was chosen above
start "$tmp/data"
expect "starts for the mid-run speed test" "No run yet. Press F5" 10
t send-keys -t smoke F5
if wait_for "⏳" 5; then
  run_start=$SECONDS
  t send-keys -t smoke F3 F3
  expect "F3 mid-run: the footer says 100x" " 100x " 3
  # At 1x the two 4 s waits alone take 8 s; at 100x the run ends at once.
  if wait_for "■ ok" 4; then
    ok "F3 mid-run shortens the run (ended $((SECONDS - run_start)) s after F3, not ~8 s)"
  else
    fail "F3 mid-run: the run still goes on at 1x"
  fi
else
  fail "F3 mid-run: no wait started"
fi
t send-keys -t smoke C-q
wait_for "EXITED" 5

# ----- issue 9: Esc mid-wait says the wait was cancelled (not "waited 4 s"), and so does the trace -----
rm -f "$tmp/config/prefs.toml" # 1x: the 4 s wait lasts long enough to press Esc in it
start "$tmp/data"
expect "starts for the cancelled-wait test" "No run yet. Press F5" 10
t send-keys -t smoke F5
if wait_for "⏳ ▕" 10; then # a wait in progress (its countdown bar)
  t send-keys -t smoke Escape
  expect "Esc mid-wait: the run ends cancelled" "■ cancelled after" 10
  if screen | grep -qE "⏳ cancelled after [0-9.]+ m?s of 4 s"; then
    ok "Esc mid-wait: the wait row reads \"cancelled after … of 4 s\""
  else
    fail "Esc mid-wait: no \"⏳ cancelled after … of 4 s\" row"
  fi
  if screen | grep -qF "⏳ waited 4 s"; then fail "Esc mid-wait: the cut wait is shown as finished"; else ok "Esc mid-wait: no \"waited 4 s\" for the cut wait"; fi
  # The newest trace, polled: it is written as the run ends, maybe after the screen says so.
  cut_wait=no
  for _ in $(seq 50); do
    trace=$(ls -t "$tmp"/data/traces/*.jsonl 2>/dev/null | head -1)
    if [ -n "$trace" ] && grep -q '"event":"wait_finished".*"ended":"cancelled"' "$trace"; then cut_wait=yes; break; fi
    sleep 0.1
  done
  if [ $cut_wait = yes ]; then
    ok "Esc mid-wait: the trace's wait_finished says ended: cancelled"
  else
    fail "Esc mid-wait: no cancelled wait_finished in the trace (${trace:-none})"
  fi
else
  fail "Esc mid-wait: no wait started"
fi
t send-keys -t smoke C-q
wait_for "EXITED" 5

# ----- issue 9: the Inspector shows the exact request body: "temperature" once [call] has it -----
# focus PANE: Tab until PANE has the thick (focused) border.
focus() {
  local i
  for i in 1 2 3 4 5 6 7 8; do
    if wait_for "┏ $1" 1; then return 0; fi
    t send-keys -t smoke Tab
  done
  wait_for "┏ $1" 3
}
start "$tmp/data"
expect "starts for the request-body test" "No run yet. Press F5" 10
if focus Policy; then
  # Line 5 of the demo's Policy editor is `[call]`: a new line after it.
  t send-keys -t smoke Down Down Down Down End Enter
  t send-keys -t smoke -l "temperature = 0.5"
  expect "the Policy editor has temperature = 0.5 under [call]" "6 temperature = 0.5" 3
  t send-keys -t smoke F3 F3 # 100x: the run's waits pass at once
  expect "at 100x for the request-body test" " 100x " 3
  t send-keys -t smoke F5
  expect "the run with a temperature finishes ok" "■ ok" 20
  if focus Timeline; then
    t send-keys -t smoke Home # the first attempt's row
    expect "the first attempt is selected" "Output primary #1" 3
    if focus Inspector; then
      t send-keys -t smoke C-w # zoom: the whole request in view
      found=no
      for _ in 1 2 3 4 5 6; do
        if wait_for '"temperature": 0.5' 2; then found=yes; break; fi
        t send-keys -t smoke PageDown
      done
      if [ $found = yes ]; then
        ok "the Inspector shows the request body with \"temperature\": 0.5"
      else
        fail "the Inspector lacks \"temperature\": 0.5"
      fi
      if screen | grep -qF '"model": "gpt-4o-mini"'; then ok "the request body is pretty-printed"; else fail "no pretty-printed \"model\" in the Inspector"; fi
    else
      fail "request body: the Inspector never took focus"
    fi
  else
    fail "request body: the Timeline never took focus"
  fi
else
  fail "request body: the Policy editor never took focus"
fi
t send-keys -t smoke C-q
expect "Ctrl+Q with unsaved edits asks first" "Quit with unsaved edits?" 3
t send-keys -t smoke q # quit without saving
expect "q in that question quits without saving" "EXITED 0" 5

# ----- issue 9: Ctrl+O marks the selected row in the dark and mono themes; it filters -----
for theme in dark mono; do
  rm -f "$tmp/config/prefs.toml"
  start "$tmp/data" "RETRYLAB_THEME=$theme"
  if ! wait_for "No run yet. Press F5" 10; then fail "$theme: no first frame"; continue; fi
  t send-keys -t smoke C-o
  expect "Ctrl+O ($theme): the selected row has a ▶ marker" "▶ fallback-with-retries" 3
  # The whole row is highlighted: reverse video from the marker to the popup's border.
  row=$(t capture-pane -p -e -t smoke | grep -F "▶ fallback-with-retries")
  if grep -qE $'\e\\[([0-9]+;)*7(;[0-9]+)*m(\e\\[[0-9;]*m)*▶' <<<"$row"; then
    ok "Ctrl+O ($theme): the selected row is shown in reverse video"
  else
    fail "Ctrl+O ($theme): the selected row is not highlighted"
  fi
  t send-keys -t smoke -l "chaos"
  expect "Ctrl+O ($theme): typing filters the list" "▶ chaos" 3
  t send-keys -t smoke Escape
  sleep 0.2
  t send-keys -t smoke Escape
  sleep 0.2
  t send-keys -t smoke C-q
  wait_for "EXITED" 5
done

# ----- issue 9: help by Ctrl+G, searched with /, closed by q; Save As for a built-in -----
start "$tmp/data"
expect "starts for the help and Save As test" "No run yet. Press F5" 10
t send-keys -t smoke C-g
expect "Ctrl+G opens the help" "F1 / Ctrl+G" 3
t send-keys -t smoke /
t send-keys -t smoke -l "colour"
expect "/ searches the help" "search: colour▏  1 line" 3
t send-keys -t smoke Enter
sleep 0.2
t send-keys -t smoke q
sleep 0.3
if screen | grep -qF "F1, q or Esc closes"; then fail "q does not close the help"; else ok "q closes the help"; fi
t send-keys -t smoke C-s
expect "Ctrl+S on a built-in asks a name" "name: fallback-with-retries▏" 3
t send-keys -t smoke BSpace BSpace BSpace BSpace BSpace BSpace BSpace
t send-keys -t smoke -l "mine"
t send-keys -t smoke Enter
# The notice names the file ("saved " alone would match the help's "saved scenarios").
expect "Save As writes the scenario under that name" "fallback-with-mine.toml" 3
if [ -f "$tmp/config/scenarios/fallback-with-mine.toml" ]; then
  ok "the saved file is there by name"
else
  fail "no saved file named fallback-with-mine.toml (there: $(ls "$tmp/config/scenarios" 2>&1 | tr '\n' ' '); status: $(screen | tail -1))"
fi
t send-keys -t smoke C-q
wait_for "EXITED" 5

# ----- issue 9: Tab keeps the layout; Ctrl+W zooms; Ctrl+C copies (OSC 52), never quits at once -----
start "$tmp/data"
expect "starts for the layout and copy test" "No run yet. Press F5" 10
t set-option -g set-clipboard on
col_before=$(screen | head -1 | grep -ob "Timeline" | head -1 | cut -d: -f1)
t send-keys -t smoke Tab Tab Tab
sleep 0.3
col_after=$(screen | head -1 | grep -ob "Timeline" | head -1 | cut -d: -f1)
if [ -n "$col_before" ] && [ "$col_before" = "$col_after" ]; then
  ok "Tab moves the focus, not the columns (Timeline at byte $col_before both times)"
else
  fail "Tab re-split the columns (Timeline at $col_before, then $col_after)"
fi
t send-keys -t smoke BTab BTab BTab
sleep 0.2
t send-keys -t smoke C-w
sleep 0.3
if screen | head -1 | grep -q "^┏ Policy" && ! screen | grep -qF "Timeline"; then
  ok "Ctrl+W zooms the focused pane"
else
  fail "Ctrl+W did not zoom the Policy editor"
fi
t send-keys -t smoke C-w
expect "Ctrl+W again restores the layout" "Timeline" 3
t send-keys -t smoke S-End
sleep 0.2
t send-keys -t smoke C-c
expect "Ctrl+C copies the selection" "copied 30 characters to the clipboard" 3
if t show-buffer 2>/dev/null | grep -qF 'name = "Fallback with retries"'; then
  ok "the copy reached the terminal's clipboard by OSC 52 (tmux buffer)"
else
  fail "no OSC 52 copy in tmux's buffer"
fi
t send-keys -t smoke C-c
expect "Ctrl+C with nothing selected says how to quit" "Ctrl+C again or Ctrl+Q quits" 3
if kill -0 "$(pid)" 2>/dev/null; then ok "one Ctrl+C does not quit"; else fail "Ctrl+C quit at once"; fi
t send-keys -t smoke C-q
wait_for "EXITED" 5

# ----- a data dir where no trace can be written: a notice, and the app goes on -----
mkdir -p "$tmp/ro"
if mount -t tmpfs -o ro,size=1m tmpfs "$tmp/ro" 2>/dev/null; then
  ro_mounted=1
  nodata="$tmp/ro" # read-only: as root, only a read-only mount refuses writes
else
  : >"$tmp/nodata" # not root: a file where the data dir should be
  nodata="$tmp/nodata"
fi
start "$nodata"
expect "starts with a data dir that cannot be written" "No run yet. Press F5" 10
t send-keys -t smoke F3 F3 F5
expect "an unwritable trace is a notice in the status bar" "run not recorded" 20
expect "the run itself still finishes" "■ ok" 20
if kill -0 "$(pid)" 2>/dev/null; then ok "the app is still running"; else fail "the app quit"; fi
t send-keys -t smoke C-q
expect "it quits on Ctrl+Q, exit code 0" "EXITED 0" 5

# ----- terminating signals: terminal restored, edits kept as a draft -----
for sig in INT QUIT USR1 ALRM TERM HUP; do
  rm -rf "$tmp/sigdata"
  start "$tmp/sigdata"
  if ! wait_for "No run yet. Press F5" 10; then fail "SIG$sig: no first frame"; continue; fi
  t send-keys -t smoke -l "# edited before SIG$sig"
  t send-keys -t smoke Enter
  wait_for "# edited before SIG$sig" 3
  # At once, before the 1 s autosave: the signal itself must save the draft.
  kill -s "$sig" "$(pid)"
  code=$((128 + $(kill -l "$sig")))
  expect "SIG$sig: exits with code $code" "EXITED $code" 5
  wait_for REPORTED 5
  s=$(screen)
  if grep -qx "icanon" <<<"$s" && grep -qx "echo" <<<"$s"; then
    ok "SIG$sig: the tty is back in cooked mode (icanon echo)"
  else
    fail "SIG$sig: the tty stayed raw"
  fi
  if [ "$(mouse_flags)" = "000" ]; then ok "SIG$sig: mouse reporting is off"; else fail "SIG$sig: mouse reporting left on"; fi
  if [ "$(t display -p -t smoke '#{alternate_on}')" = "0" ]; then ok "SIG$sig: back on the main screen"; else fail "SIG$sig: still on the alternate screen"; fi
  if grep -qs "# edited before SIG$sig" "$tmp"/sigdata/drafts/*.toml; then
    ok "SIG$sig: the edits are kept as a draft"
  else
    fail "SIG$sig: no draft with the edits"
  fi
done

# ----- SIGTSTP / SIGCONT: cooked while stopped; raw, mouse on and redrawn after -----
rm -rf "$tmp/sigdata"
start "$tmp/sigdata"
expect "starts for the stop/continue test" "No run yet. Press F5" 10
kill -s TSTP "$(pid)"
stopped=no
for _ in $(seq 50); do
  if [ "$(awk '{print $3}' "/proc/$(pid)/stat" 2>/dev/null)" = "T" ]; then stopped=yes; break; fi
  sleep 0.1
done
if [ $stopped = yes ]; then ok "SIGTSTP stops the process"; else fail "SIGTSTP did not stop the process"; fi
m=$(tty_modes)
if grep -qx "icanon" <<<"$m" && grep -qx "echo" <<<"$m"; then ok "while stopped the tty is cooked"; else fail "stopped with the tty raw"; fi
if [ "$(mouse_flags)" = "000" ]; then ok "while stopped mouse reporting is off"; else fail "stopped with mouse reporting on"; fi
if [ "$(t display -p -t smoke '#{alternate_on}')" = "0" ]; then ok "while stopped the main screen shows"; else fail "stopped on the alternate screen"; fi
t send-keys -t smoke C-l # what a shell might draw meanwhile; gone after the redraw
kill -s CONT "$(pid)"
expect "after SIGCONT the playground is drawn again" "No run yet. Press F5" 5
m=$(tty_modes)
if grep -qx -- "-icanon" <<<"$m" && grep -qx -- "-echo" <<<"$m"; then ok "after SIGCONT the tty is raw again"; else fail "after SIGCONT the tty is cooked"; fi
if [ "$(mouse_flags)" != "000" ]; then ok "after SIGCONT mouse reporting is on again"; else fail "after SIGCONT mouse reporting is off"; fi
if [ "$(t display -p -t smoke '#{alternate_on}')" = "1" ]; then ok "after SIGCONT the alternate screen is back"; else fail "after SIGCONT still on the main screen"; fi
t send-keys -t smoke F1
expect "after SIGCONT keys work (F1 opens help)" "Ctrl+Q" 3
t send-keys -t smoke Escape
sleep 0.2 # ESC and a key at once read as Alt+key
t send-keys -t smoke C-q
expect "and Ctrl+Q quits with exit code 0" "EXITED 0" 5

# ----- issue 10: the Lab view (F7): N = 200 calls run to the table; Esc closes it -----
rm -rf "$tmp/labdata"
start "$tmp/labdata"
expect "starts for the Lab view test" "No run yet. Press F5" 10
t send-keys -t smoke F7
expect "F7 opens the Lab view" "Lab: N calls of each policy" 3
t send-keys -t smoke BSpace BSpace BSpace BSpace 2 0 0
expect "the calls field takes 200" "calls [200" 3
t send-keys -t smoke F5
expect "a lab of 200 calls runs to its table" "200 calls per policy" 60
s=$(screen)
for want in "latency CDF" "success" "latency p50" "* best of the row"; do
  if grep -qF -- "$want" <<<"$s"; then ok "the Lab view shows: $want"; else fail "the Lab view lacks: $want"; fi
done
t send-keys -t smoke Escape
expect "Esc closes the Lab view (the editors are back)" "No run yet. Press F5" 3
t send-keys -t smoke C-q
expect "and Ctrl+Q quits with exit code 0 after the lab" "EXITED 0" 5

# ----- issue 11: what-if on a recorded run, from the History tab's replay -----
rm -rf "$tmp/whatifdata"
start "$tmp/whatifdata"
expect "starts for the what-if test" "No run yet. Press F5" 10
t send-keys -t smoke F3 F3
sleep 0.3
t send-keys -t smoke F5
expect "the demo runs to its answer (recorded)" "■ ok" 20
t send-keys -t smoke C-o
sleep 0.3
t send-keys -t smoke Tab
expect "the History tab lists the run" "Recent runs, newest first" 3
t send-keys -t smoke Enter
expect "Enter replays it" "w asks what if" 5
expect "the replay plays to its answer" "■ ok" 20
t send-keys -t smoke w
expect "w opens the policy picker" "What if… pick a policy" 3
t send-keys -t smoke -l basic-retry
t send-keys -t smoke Enter
expect "the what-if shows the new side" "New · basic-retry" 10
s=$(screen)
for want in "Recorded · Fallback with retries" "4 attempts · 4 requests · waiting 8 s" \
  "3 attempts · 3 requests · waiting 8 s" "retry_error" "--map index"; do
  if grep -qF -- "$want" <<<"$s"; then ok "the what-if view shows: $want"; else fail "the what-if view lacks: $want"; fi
done
t send-keys -t smoke m
expect "m replays with --map time" "--map time" 10
t send-keys -t smoke Escape
expect "Esc goes back to the replay" "back to the replay" 3
t send-keys -t smoke C-q
expect "and Ctrl+Q quits with exit code 0 after the what-if" "EXITED 0" 5
# ----- issue 11: the Export dialog (F6): the code with its findings, copied and written -----
rm -rf "$tmp/exportdata" "$tmp/export.py"
start "$tmp/exportdata"
expect "starts for the export test" "No run yet. Press F5" 10
t set-option -g set-clipboard on
t send-keys -t smoke F6
expect "F6 opens the Export dialog's target list" "Pick a target:" 3
t send-keys -t smoke Enter
expect "Enter shows the Mirascope code" "Export Fallback with retries → Mirascope" 3
expect "the findings come first (here: none)" "No findings: Mirascope expresses this scenario as written." 3
t send-keys -t smoke C-c
expect "Ctrl+C copies the export" "to the clipboard (OSC 52)" 3
if t show-buffer 2>/dev/null | grep -qF 'exported by retrylab: `retrylab export fallback-with-retries --to mirascope`'; then
  ok "the export reached the terminal's clipboard by OSC 52 (tmux buffer)"
else
  fail "no OSC 52 copy of the export in tmux's buffer"
fi
t send-keys -t smoke w
expect "w asks for a file, offering <scenario>.py" "file: fallback-with-retries.py▏" 3
t send-keys -t smoke C-u
t send-keys -t smoke -l "$tmp/export.py"
t send-keys -t smoke Enter
expect "Enter writes the export" "exported to" 3
RETRYLAB_CONFIG_DIR="$tmp/config" RETRYLAB_DATA_DIR="$tmp/exportdata" \
  "$BIN" export fallback-with-retries --to mirascope >"$tmp/export-cli.py" 2>/dev/null
if [ -s "$tmp/export.py" ] && cmp -s "$tmp/export.py" "$tmp/export-cli.py"; then
  ok "the written file equals \`retrylab export fallback-with-retries --to mirascope\`"
else
  fail "the written file differs from the CLI's export"
fi
t send-keys -t smoke F6
expect "F6 opens the Export dialog again" "Pick a target:" 3
t send-keys -t smoke Enter w C-u
t send-keys -t smoke -l "$tmp/export.py"
t send-keys -t smoke Enter
expect "writing over the file asks first" "exists already." 3
t send-keys -t smoke Escape
expect "Esc goes back to the file prompt" "Write the export to a file" 3
t send-keys -t smoke Escape
sleep 0.2
t send-keys -t smoke Escape
sleep 0.2
t send-keys -t smoke Escape
expect "Esc steps back to the editors" "No run yet. Press F5" 3
t send-keys -t smoke C-q
expect "and Ctrl+Q quits with exit code 0 after the export" "EXITED 0" 5

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
