#!/usr/bin/env bash
# Runs the demo in a real terminal (a detached 120x30 tmux pane on a private tmux server), captures
# the pane while a progress bar is live and again at the end, writes both captures to OUT (default
# runs/tmux-capture.txt) and checks every capture taken: each non-empty line must be a log line
# (`YYYY-MM-DD hh:mm:ssZ LEVEL ...`), a progress bar line (progress.rs's template) or the result line
# (`test (checkpoint-N): acc = ...`), and no line may hold both bar and log text. Exits 1 otherwise.
#
#     scripts/tmux_capture.sh [OUT] [-- EXTRA koelectra-ft ARGS]   # after cargo build --release
#
# A run too quick to catch a bar in is run again once with more epochs. Then the run's TensorBoard
# file must read back through the tensorboard package (train/loss, learning rate, grad norm, test/acc),
# and `predict` on its last checkpoint, typed at in a pane, must answer a line before Ctrl-D.
# Needs tmux and the dev venv.
set -euo pipefail
cd "$(dirname "$0")/.."
out="runs/tmux-capture.txt"
if [ $# -gt 0 ] && [ "$1" != "--" ]; then out="$1"; shift; fi
if [ "${1:-}" = "--" ]; then shift; fi
extra=("$@")
bin="$PWD/target/release/koelectra-ft"
[ -x "$bin" ] || { echo "tmux_capture: $bin is missing: cargo build --release first" >&2; exit 1; }
command -v tmux >/dev/null || { echo "tmux_capture: tmux is not installed" >&2; exit 1; }
limit="${TMUX_CAPTURE_TIMEOUT:-900}" # seconds for one run
width=120 height=30                   # the pane

tmp="$(mktemp -d)"
# Each pane gets its own tmux server on a fresh socket: its kill-server ends only our session, and a
# new server never meets the old one shutting down on the same socket (tmux then says "server exited
# unexpectedly": 16 times in 200 kill-server + new-session pairs on one socket here).
sock=""
start_pane() { # start_pane NAME SCRIPT: a detached width x height pane running bash SCRIPT
    [ -z "$sock" ] || tmux -S "$sock" kill-server 2>/dev/null || true
    sock="$tmp/$1.sock"
    tmux -S "$sock" -f /dev/null new-session -d -s capture -x $width -y $height "bash $(printf %q "$2")"
}
cleanup() {
    [ -z "$sock" ] || tmux -S "$sock" kill-server 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

stamp='[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}Z'
log_re="^$stamp (TRACE|DEBUG|INFO |WARN |ERROR) "
bar_tail='[0-9]+/[0-9]+ [0-9]+[ywdhms]<[0-9]+[ywdhms]' # {pos}/{len} {elapsed}<{eta}
bar_re="^ *[^[ ][^[]* \\[[> =]{30}\\] $bar_tail( loss [0-9.]+ lr [0-9.e+-]+)?\$" # msg: the epoch bar's
result_re='^test \(checkpoint-[0-9]+\): acc = [0-9.]+$'

# The whole pane (scrollback included), wrapped lines joined, trailing blanks and blank lines cut.
capture() {
    tmux -S "$sock" capture-pane -p -J -S - -t capture | sed -e 's/[[:space:]]*$//' | unjoin |
        awk 'NF { for (; blank > 0; blank--) print ""; print; next } { blank++ }'
}

# Splits the rows that -J joined after a bar: indicatif pads a bar with spaces to the pane's width,
# so tmux takes the row below a bar for its continuation.
unjoin() {
    local line head
    while IFS= read -r line; do
        while [ ${#line} -gt $width ]; do
            head="${line:0:width}"
            head="${head%"${head##*[! ]}"}"
            [[ $head =~ $bar_re ]] || break
            printf '%s\n' "$head"
            line="${line:width}"
        done
        printf '%s\n' "$line"
    done
}

# Prints one line per offending pane line of the capture in file $1; nothing when it is clean.
offences() {
    { grep -nE "$stamp" "$1" | grep -E "\\[[> =]{30}\\]|$bar_tail" || true; } | sed 's/^/both log and bar text, line /'
    { grep -nvE "$log_re|$bar_re|$result_re|^$" "$1" || true; } | sed 's/^/not a log, bar or result line, line /'
}

# One run of the demo in a fresh pane; sets mid/final (capture files) and checked (how many).
run_once() {
    local n="$1" rc_file="$tmp/rc$1" ckpt="$tmp/ckpt$1"
    shift
    {
        printf 'cd %q\n' "$PWD"
        printf '%q ' "$bin" seq-cls --task nsmc --config configs/nsmc/demo.json --device cpu \
            --set "ckpt_dir=$ckpt" "$@"
        printf '\necho $? > %q\nexec sleep 3600\n' "$rc_file"
    } >"$tmp/run$n.sh"
    start_pane "run$n" "$tmp/run$n.sh"
    mid="" final="$tmp/final$n.txt" checked=0 most=0 run_dir="$ckpt/demo-nsmc"
    local deadline=$((SECONDS + limit)) now="$tmp/now.txt" bars
    while [ ! -s "$rc_file" ]; do
        if [ $SECONDS -ge $deadline ]; then
            echo "tmux_capture: the run took over $limit s" >&2
            return 1
        fi
        capture >"$now"
        if [ -s "$rc_file" ]; then break; fi # it ended while capturing: the final capture judges it
        checked=$((checked + 1))
        if [ -n "$(offences "$now")" ]; then
            sleep 1
            if [ -s "$rc_file" ] && [ "$(cat "$rc_file")" != 0 ]; then break; fi # a failed run: its error below
            cp "$now" "$tmp/bad.txt"
            echo "tmux_capture: a mid-run capture is not clean:" >&2
            offences "$tmp/bad.txt" >&2
            cat "$tmp/bad.txt" >&2
            return 1
        fi
        # Keeps the newest capture with the most bars live, an epoch bar counting twice.
        bars=$(($(grep -Ec "$bar_re" "$now" || true) + $(grep -Ec '^ *epoch [0-9]+/[0-9]+ \[' "$now" || true)))
        if [ "$bars" -gt 0 ] && [ "$bars" -ge "$most" ]; then
            most="$bars" mid="$tmp/mid$n.txt"
            cp "$now" "$mid"
        fi
        sleep 0.1
    done
    sleep 0.2 # let tmux draw the last output
    capture >"$final"
    checked=$((checked + 1))
    local rc
    rc="$(cat "$rc_file")"
    if [ "$rc" != 0 ]; then
        echo "tmux_capture: the demo failed (exit $rc); its pane:" >&2
        cat "$final" >&2
        return 1
    fi
}

run_once 1 "${extra[@]}"
if [ -z "$mid" ]; then
    echo "tmux_capture: the run ended before a bar was caught; again with num_train_epochs=20" >&2
    run_once 2 "${extra[@]}" --set num_train_epochs=20
    [ -n "$mid" ] || { echo "tmux_capture: no capture caught a live progress bar" >&2; exit 1; }
fi

mkdir -p "$(dirname "$out")"
{
    echo "=== mid-run (a bar live) ==="
    cat "$mid"
    echo "=== final ==="
    cat "$final"
} >"$out"

bad="$(offences "$final")"
if [ -n "$bad" ]; then
    echo "tmux_capture: the final capture is not clean (see $out):" >&2
    echo "$bad" >&2
    exit 1
fi
grep -Eq "$result_re" "$final" || { echo "tmux_capture: no result line in the final capture (see $out)" >&2; exit 1; }
grep -Eq "$log_re" "$final" || { echo "tmux_capture: no log line in the final capture (see $out)" >&2; exit 1; }
if grep -Eq "$bar_re" "$final"; then
    echo "tmux_capture: a bar is left on screen at the end (see $out)" >&2
    exit 1
fi
# The same run's TensorBoard file, read back by the tensorboard package itself (scripts/setup.sh --dev).
board="$(.venv/bin/python scripts/tensorboard_read.py "$run_dir/runs")" ||
    { echo "tmux_capture: tensorboard could not read $run_dir/runs" >&2; exit 1; }
for tag in train/loss train/learning_rate train/grad_norm test/acc; do
    grep -q "\"$tag\"" <<<"$board" || { echo "tmux_capture: no $tag in the run's TensorBoard file" >&2; exit 1; }
done

# `predict` reading from the terminal answers each typed line at once, before Ctrl-D ends the input
# (read in chunks of 1,024 lines, a typed line would wait for the rest).
model="$(printf '%s\n' "$run_dir"/checkpoint-* | sort -V | tail -1)"
{
    printf 'cd %q\n' "$PWD"
    printf '%q ' "$bin" predict --device cpu --model "$model"
    printf '\necho $? > %q\nexec sleep 3600\n' "$tmp/predict.rc"
} >"$tmp/predict.sh"
start_pane predict "$tmp/predict.sh"
tmux -S "$sock" send-keys -t capture "정말 재미있는 영화" Enter
answer='^\{"line":1,"label":"[^"]+","probabilities":\{'
for _ in $(seq 600); do
    capture | grep -Eq "$answer" && break
    [ -s "$tmp/predict.rc" ] && break
    sleep 0.1
done
if [ -s "$tmp/predict.rc" ] || ! capture | grep -Eq "$answer"; then
    echo "tmux_capture: predict at a terminal did not answer a typed line before the end of input; its pane:" >&2
    capture >&2
    exit 1
fi
tmux -S "$sock" send-keys -t capture C-d
for _ in $(seq 300); do [ -s "$tmp/predict.rc" ] && break; sleep 0.1; done
[ "$(cat "$tmp/predict.rc" 2>/dev/null)" = 0 ] ||
    { echo "tmux_capture: predict did not end with exit 0 after Ctrl-D; its pane:" >&2; capture >&2; exit 1; }

echo "tmux_capture: $checked captures clean, a bar caught mid-run; written to $out; TensorBoard file read back;" \
    "predict answered a line typed at the terminal"
