#!/usr/bin/env bash
# One call for a GPU machine that has PyTorch and python3 but no Rust, no network and no ../shared:
# the prebuilt binary and the data come in .gpu/ (scripts/gpu_prepare.sh fills it here, the call
# carries it). Runs, each under its own timeout, within a time budget (at most 7.5 minutes on cuda):
#   1. `koelectra-ft --version`, nvidia-smi, the demo (the templated test fixture,
#      tests/fixtures/templated.json, emptying the CUDA cache every 20 updates) on the device, and
#      fault probes (bad ids, out-of-memory):
#      one `error:` line and exit 1 each -> $OUT/faults.md;
#   2. ours: random KoELECTRA-small- and base-shaped models (model_config) on real NSMC rows,
#      max_seq_len 128, fp32/tf32/bf16/fp16 at train batch 32 and 128 (base also at 256, fp32 and
#      bf16), then eval (batch 128), with token packing and (after the peer) without it;
#   3. the HF peer (benches/hf_peer.py sweep): the same shapes, rows, batches, steps, warm-up,
#      padding to the longest row of each batch, fused AdamW, autocast (fp16 with GradScaler);
#   4. GPU utilisation sampled by nvidia-smi every 200 ms, averaged over each timed window;
#   5. benches/gpu_table.py: one markdown table -> $OUT/gpu_check.md, raw numbers -> gpu_check.json.
# Per-run logs, metrics.jsonl files and the utilisation samples go to $OUT/logs.tar.gz (few files
# come back from a device call), the progress lines and the table to $OUT/console.log. A precision
# the binary refuses (exit 2, `error: ...`) is a `refused` row; a run that fails or times out is
# reported and the others go on. Exit status: non-zero only when the binary does not start or the
# demo fails.
#
# Usage: bash scripts/gpu_check.sh [--device cuda|cpu] [--quick]
#   --device cpu: the dry run (tiny: 256 train / 64 test rows, 4 steps, no base model at batch 128)
#   --quick: fewer steps (cuda) or only small at batch 32 (cpu)
# On the device machine (repo root, after scripts/gpu_prepare.sh here; carry .gpu):
#   bash scripts/gpu_check.sh --device cuda     # OUT is set there; about 4-7 minutes on an H200
# Env: OUT (default /tmp/gpu_check_out), PYTHON (a python with torch; default python3, else
# .venv/bin/python), GPU_CHECK_BUDGET_S (whole-run budget in seconds; cuda 450, cpu 1500),
# GROUP_BY_LENGTH (ours; default false: random batches padded to their longest row, like the peer;
# ours then packs the real tokens through the dense layers), TOKEN_PACKING (ours: both (default),
# true or false; `both` runs each of ours' rows twice, packed and then with every padded position
# computed as the peer does (`ours-...-unpacked`, after the peer's sweep of that size), so one call
# shows what packing gives on the card).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD

DEV=cuda
QUICK=0
while [ $# -gt 0 ]; do
    case "$1" in
        --device) DEV=$2; shift 2 ;;
        --device=*) DEV=${1#--device=}; shift ;;
        --quick) QUICK=1; shift ;;
        -h | --help) sed -n '2,/^set /{/^#/p}' "$0"; exit 0 ;;
        *) echo "gpu_check.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$DEV" in cuda | cuda:* | cpu) ;; *) echo "gpu_check.sh: --device cuda|cpu" >&2; exit 2 ;; esac
IS_CUDA=0
[ "$DEV" != cpu ] && IS_CUDA=1

OUT=${OUT:-/tmp/gpu_check_out}
mkdir -p "$OUT"
W=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")
LOGS=$W/logs
mkdir -p "$LOGS"

now() { if [ -n "${EPOCHREALTIME:-}" ]; then printf '%s\n' "${EPOCHREALTIME/,/.}"; else date +%s.%N; fi; }
say() { printf '[gpu_check %4ss] %s\n' "$SECONDS" "$*" | tee -a "$OUT/console.log"; }

# ---- sizes -------------------------------------------------------------------------------------
# Each line of the plan: SIZE PRECISION BATCH STEPS (steps in all, the first LOG of them warm-up);
# a shape runs every precision, or those of its fourth field.
PRECISIONS=(fp32 tf32 bf16 fp16)
if [ $IS_CUDA = 1 ]; then
    TRAIN_ROWS=4096 TEST_ROWS=1024 LOG=10 BUDGET=${GPU_CHECK_BUDGET_S:-450}
    CAP_OURS=90 CAP_PEER=200 CAP_DEMO=120
    # Base at batch 256 in fp32 and bf16 only: where the GPU, not the host, sets the pace.
    SHAPES=("small 32 60" "small 128 30" "base 32 40" "base 128 20" "base 256 20 fp32,bf16")
    [ $QUICK = 1 ] && LOG=5 SHAPES=("small 32 30" "small 128 15" "base 32 20" "base 128 10" "base 256 10 fp32,bf16")
else
    TRAIN_ROWS=256 TEST_ROWS=64 LOG=2 BUDGET=${GPU_CHECK_BUDGET_S:-1500}
    CAP_OURS=300 CAP_PEER=600 CAP_DEMO=300
    SHAPES=("small 32 4" "small 128 4" "base 32 4")
    [ $QUICK = 1 ] && SHAPES=("small 32 4")
fi
EVAL_BS=128
MAX_LEN=128
GROUP_BY_LENGTH=${GROUP_BY_LENGTH:-false}
TOKEN_PACKING=${TOKEN_PACKING:-both}
case "$TOKEN_PACKING" in
    both) PACKINGS=(true false) ;; true | false) PACKINGS=("$TOKEN_PACKING") ;;
    *) echo "gpu_check.sh: TOKEN_PACKING must be both, true or false" >&2; exit 2 ;;
esac

# The peer runs every planned row on cuda; on the CPU dry run, fp32 everywhere and bf16/fp16 only
# at small/32 (to exercise autocast and the GradScaler path), and no tf32 (a GPU mode: ours refuses it).
peer_wanted() { # SIZE PRECISION BATCH
    [ $IS_CUDA = 1 ] && return 0
    [ "$2" = fp32 ] && return 0
    [ "$2" != tf32 ] && [ "$1" = small ] && [ "$3" = 32 ]
}

# ---- environment ---------------------------------------------------------------------------------
PY=${PYTHON:-}
if [ -z "$PY" ]; then
    for c in python3 "$ROOT/.venv/bin/python"; do
        if "$c" -c 'import torch' >/dev/null 2>&1; then PY=$c; break; fi
    done
fi
[ -n "$PY" ] || { say "no python with torch found (set PYTHON)"; PY=python3; }
TORCH_DIR=$("$PY" -c 'import torch,os;print(os.path.dirname(torch.__file__))' 2>/dev/null || true)
if [ -n "$TORCH_DIR" ]; then export LD_LIBRARY_PATH="$TORCH_DIR/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
PYLIB=$ROOT/.gpu/pylib
export PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 KOELECTRA_FT_CACHE=off TOKENIZERS_PARALLELISM=true
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 RUST_BACKTRACE=1

BIN=$ROOT/.gpu/bin/koelectra-ft
[ -x "$BIN" ] || BIN=$ROOT/target/release/koelectra-ft
# Here (where target/ exists) a stale copy would test old code: prefer the fresh build.
if [ "$ROOT/target/release/koelectra-ft" -nt "$BIN" ]; then
    echo "gpu_check: .gpu/bin/koelectra-ft is older than target/release/koelectra-ft; using the latter (scripts/gpu_prepare.sh refreshes the copy the GPU call carries)" >&2
    BIN=$ROOT/target/release/koelectra-ft
fi
VOCAB=$ROOT/.gpu/data/vocab.txt
[ -f "$VOCAB" ] || VOCAB=$ROOT/../shared/vocab/koelectra-v3-vocab.txt
SRC_TRAIN=$ROOT/.gpu/data/nsmc/ratings_train.txt
SRC_TEST=$ROOT/.gpu/data/nsmc/ratings_test.txt
if [ ! -f "$SRC_TRAIN" ] && [ -f "$ROOT/../shared/data/nsmc/ratings_test.txt" ]; then
    # Without .gpu/data (here, before gpu_prepare.sh): disjoint rows of the shared file.
    mkdir -p "$W/src"
    s=$ROOT/../shared/data/nsmc/ratings_test.txt
    { head -n 1 "$s"; sed -n "2,$((TRAIN_ROWS + 1))p" "$s"; } >"$W/src/train.txt"
    { head -n 1 "$s"; tail -n "$TEST_ROWS" "$s"; } >"$W/src/test.txt"
    SRC_TRAIN=$W/src/train.txt SRC_TEST=$W/src/test.txt
fi
DATA=$W/data
mkdir -p "$DATA/nsmc"
{ head -n 1 "$SRC_TRAIN"; sed -n "2,$((TRAIN_ROWS + 1))p" "$SRC_TRAIN"; } >"$DATA/nsmc/ratings_train.txt"
{ head -n 1 "$SRC_TEST"; sed -n "2,$((TEST_ROWS + 1))p" "$SRC_TEST"; } >"$DATA/nsmc/ratings_test.txt"
# A tiny dev split takes the evaluations during training (every LOG steps), which are not timed;
# the final evaluation is on the test rows and gives ours' eval samples/s.
{ head -n 1 "$SRC_TEST"; sed -n "2,33p" "$SRC_TEST"; } >"$DATA/nsmc/ratings_dev.txt"
V=$(wc -l <"$VOCAB" | tr -d ' ')
declare -A MODEL_CONFIG=(
    [small]="{\"vocab_size\":$V,\"embedding_size\":128,\"hidden_size\":256,\"num_hidden_layers\":12,\"num_attention_heads\":4,\"intermediate_size\":1024,\"max_position_embeddings\":512}"
    [base]="{\"vocab_size\":$V,\"embedding_size\":768,\"hidden_size\":768,\"num_hidden_layers\":12,\"num_attention_heads\":12,\"intermediate_size\":3072,\"max_position_embeddings\":512}"
)

# ---- the plan (read by gpu_table.py; rows never run show as skipped) -------------------------------
for shape in "${SHAPES[@]}"; do
    read -r size batch steps precs <<<"$shape"
    for prec in "${PRECISIONS[@]}"; do
        [ -z "$precs" ] || [[ ",$precs," == *",$prec,"* ]] && echo "$size $prec $batch $steps"
    done
done >"$LOGS/plan.txt"
SIZES=()
for shape in "${SHAPES[@]}"; do
    size=${shape%% *}
    [[ " ${SIZES[*]} " == *" $size "* ]] || SIZES+=("$size")
done
cat >"$LOGS/settings.txt" <<EOF
device=$DEV
quick=$QUICK
train_rows=$(($(wc -l <"$DATA/nsmc/ratings_train.txt") - 1))
test_rows=$(($(wc -l <"$DATA/nsmc/ratings_test.txt") - 1))
logging_steps=$LOG
eval_batch=$EVAL_BS
max_seq_len=$MAX_LEN
group_by_length=$GROUP_BY_LENGTH
token_packing=$TOKEN_PACKING
budget_s=$BUDGET
bin=${BIN#"$ROOT"/}
python=$PY
EOF

# ---- time budget ---------------------------------------------------------------------------------
RESERVE=12 # for the table and the log archive
timeout_for() { # CAP -> prints the timeout to use, or fails when the budget is spent
    local left=$((BUDGET - SECONDS - RESERVE))
    [ "$left" -ge 8 ] || return 1
    if [ "$1" -lt "$left" ]; then echo "$1"; else echo "$left"; fi
}

# ---- GPU utilisation sampler ------------------------------------------------------------------------
SAMPLER_PID=""
if [ $IS_CUDA = 1 ] && command -v nvidia-smi >/dev/null; then
    buf=()
    command -v stdbuf >/dev/null && buf=(stdbuf -oL)
    "${buf[@]}" nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader,nounits \
        -lms 200 >"$LOGS/gpu_util.csv" 2>"$LOGS/gpu_util.err" &
    SAMPLER_PID=$!
fi

finish() {
    local rc=$?
    trap - EXIT
    if [ -n "$SAMPLER_PID" ]; then
        kill -INT "$SAMPLER_PID" 2>/dev/null
        sleep 0.3
        kill "$SAMPLER_PID" 2>/dev/null
        wait "$SAMPLER_PID" 2>/dev/null
    fi
    if [ -n "${MAKE_PID:-}" ]; then
        pkill -P "$MAKE_PID" 2>/dev/null
        kill "$MAKE_PID" 2>/dev/null
    fi
    echo "$STATUS" >"$LOGS/status.txt"
    say "table"
    # Stdlib only: any python3 will do.
    { "$PY" "$ROOT/benches/gpu_table.py" "$LOGS" --md "$OUT/gpu_check.md" --json "$OUT/gpu_check.json" ||
        python3 "$ROOT/benches/gpu_table.py" "$LOGS" --md "$OUT/gpu_check.md" --json "$OUT/gpu_check.json"; } 2>&1 |
        tee -a "$OUT/console.log"
    [ -s "$OUT/gpu_check.md" ] || say "gpu_table.py failed"
    # Logs: keep each file small (head + tail of anything over 256 KiB), one archive (few files come back).
    find "$LOGS" -type f -size +256k | while read -r f; do
        { head -c 65536 "$f"; printf '\n[... %s bytes cut ...]\n' "$(wc -c <"$f")"; tail -c 131072 "$f"; } >"$f.cut" &&
            mv "$f.cut" "$f"
    done
    tar -czf "$OUT/logs.tar.gz" -C "$W" logs 2>/dev/null || say "could not archive the logs"
    rm -rf "$W"
    say "done in ${SECONDS}s (budget ${BUDGET}s): $OUT/gpu_check.md, gpu_check.json, logs.tar.gz, console.log; exit $STATUS"
    exit "$STATUS"
}
STATUS=0
trap finish EXIT
trap 'say "interrupted"; STATUS=130; exit' INT TERM

# ---- 1. the binary, the card, the demo ------------------------------------------------------------
say "device $DEV, python $PY, torch lib ${TORCH_DIR:-?}/lib, budget ${BUDGET}s"
if ! "$BIN" --version >"$LOGS/version.txt" 2>"$LOGS/version.err"; then
    say "the binary does not start: $(tail -n 3 "$LOGS/version.err")"
    ldd "$BIN" 2>&1 | grep -i 'not found' | tee -a "$LOGS/version.err"
    STATUS=1
    exit
fi
say "$(cat "$LOGS/version.txt")"
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader \
        >"$LOGS/gpu.txt" 2>&1 || true
    nvidia-smi >"$LOGS/nvidia-smi.txt" 2>&1 || true
    say "GPU: $(head -n 1 "$LOGS/gpu.txt")"
else
    echo "no nvidia-smi" >"$LOGS/gpu.txt"
fi

t=$(timeout_for "$CAP_DEMO") || t=$CAP_DEMO
mkdir -p "$LOGS/demo"
say "demo (timeout ${t}s)"
t0=$(now)
# torch_empty_cache_steps exercises the shim's emptyCache on the card (5 of the 95 updates; no number changes).
timeout -k 10 "$t" "$BIN" seq-cls --task nsmc --config tests/fixtures/templated.json --device "$DEV" --quiet \
    --set "ckpt_dir=$W/ckpt" --set output_dir=demo --set torch_empty_cache_steps=20 \
    >"$LOGS/demo/stdout" 2>"$LOGS/demo/stderr"
rc=$?
t1=$(now)
echo "$rc $t0 $t1" >"$LOGS/demo/rc"
cp "$W/ckpt/demo/metrics.jsonl" "$LOGS/demo/" 2>/dev/null
rm -rf "$W/ckpt/demo"
say "demo: rc $rc, $(tail -n 1 "$LOGS/demo/stdout")"
[ "$rc" = 0 ] || STATUS=1

# ---- 1b. faults: each must end in one `error:` line and a non-zero exit, never a panic or a hang ----
# bad-ids: a model_config whose vocab_size (50) is below the vocab's ids (an embedding index out
# of range: refused before training since the vocab check, a device-side assert on CUDA before);
# oom-*: a 16M-wide feed-forward layer whose activations
# cannot fit (training and evaluation at batch 1024; two layers, as the last one of a seq-cls
# evaluation runs on the first token only). The OOM probes run on
# cuda only (on the CPU they would ask this machine for terabytes).
fault_probe() { # NAME EXPECT(grep -E pattern of the error line) SETTINGS...
    local name=$1 expect=$2 t
    shift 2
    t=60
    local d=$LOGS/fault-$name
    mkdir -p "$d"
    local t0 rc line verdict
    t0=$(now)
    timeout -k 5 "$t" "$BIN" seq-cls --task nsmc --config tests/fixtures/templated.json --device "$DEV" --quiet \
        --set "ckpt_dir=$W/ckpt" --set "output_dir=fault-$name" --set "data_dir=$DATA" \
        --set train_file=ratings_train.txt --set dev_file= --set test_file=ratings_test.txt \
        --set "vocab_file=$VOCAB" --set save_steps=0 --set eval_all_checkpoints=false "$@" \
        >"$d/stdout" 2>"$d/stderr"
    rc=$?
    echo "$rc $t0 $(now)" >"$d/rc"
    rm -rf "$W/ckpt/fault-$name"
    line=$(grep -m1 '^error:' "$d/stderr")
    if [ "$rc" = 1 ] && [ -n "$line" ] && [ "$(grep -c . "$d/stderr")" -le 40 ] &&
        ! grep -q 'panicked' "$d/stderr" && grep -Eq "$expect" <<<"$line"; then
        verdict=ok
    else
        verdict=FAIL
    fi
    printf '| %s | %s | %s | %s |\n' "$name" "$rc" "$verdict" "${line:-$(tail -n 1 "$d/stderr")}" |
        tee -a "$OUT/faults.md" >/dev/null
    say "fault $name: rc $rc, $verdict: ${line:-$(tail -n 1 "$d/stderr")}"
}
printf '| probe | exit | verdict | error line |\n|---|---|---|---|\n' >"$OUT/faults.md"
WIDE='"hidden_size":64,"embedding_size":64,"num_hidden_layers":2,"num_attention_heads":2,"intermediate_size":16000000,"max_position_embeddings":512'
fault_probe bad-ids 'index|device-side assert|CUDA error|vocab' --set max_steps=2 --set do_eval=false \
    --set 'model_config={"vocab_size":50,"hidden_size":32,"embedding_size":32,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":64,"max_position_embeddings":512}'
if [ $IS_CUDA = 1 ]; then
    fault_probe oom-train 'memory' --set max_steps=2 --set do_eval=false --set max_seq_len=128 \
        --set train_batch_size=1024 --set "model_config={\"vocab_size\":$V,$WIDE}"
    fault_probe oom-eval 'memory' --set do_train=false --set max_seq_len=128 --set eval_batch_size=1024 \
        --set "model_config={\"vocab_size\":$V,$WIDE}"
fi

# ---- the peer's environment and checkpoints ----------------------------------------------------------
PEER_OK=0
if [ -d "$PYLIB" ]; then export PYTHONPATH="$PYLIB${PYTHONPATH:+:$PYTHONPATH}"; fi
if "$PY" benches/hf_peer.py versions >"$LOGS/peer_versions.json" 2>"$LOGS/peer_versions.err"; then
    PEER_OK=1
elif [ -d "$PYLIB" ]; then
    say "the peer does not import with .gpu/pylib: $(tail -n 1 "$LOGS/peer_versions.err"); trying the image's transformers"
    export PYTHONPATH=${PYTHONPATH#"$PYLIB"}
    PYTHONPATH=${PYTHONPATH#:}
    if "$PY" benches/hf_peer.py versions >"$LOGS/peer_versions.json" 2>>"$LOGS/peer_versions.err"; then PEER_OK=1; fi
fi
if [ $PEER_OK = 1 ]; then
    say "peer: $(cat "$LOGS/peer_versions.json")"
else
    say "the HF peer is unavailable: $(tail -n 1 "$LOGS/peer_versions.err")"
fi

make_models() {
    for size in "${SIZES[@]}"; do
        timeout -k 5 180 "$PY" benches/hf_peer.py make-model "$W/model-$size" "$VOCAB" "$size" || return 1
    done
}
MAKE_PID=""
if [ $PEER_OK = 1 ]; then
    if [ $IS_CUDA = 1 ]; then # on the GPU machine's CPUs, beside ours' runs: 2 threads of 16
        OMP_NUM_THREADS=2 make_models >"$LOGS/make_model.log" 2>&1 &
        MAKE_PID=$!
    else # here the CPUs are the device: not beside a timed run
        say "peer checkpoints: ${SIZES[*]}"
        make_models >"$LOGS/make_model.log" 2>&1 || say "make-model failed: $(tail -n 1 "$LOGS/make_model.log")"
    fi
fi

# ---- 2. ours ---------------------------------------------------------------------------------------
precision_flag() {
    case "$1" in
        fp32) echo "tf32=false" ;; tf32) echo "tf32=true" ;; bf16) echo "bf16=true" ;; fp16) echo "fp16=true" ;;
    esac
}
run_ours() { # SIZE PRECISION BATCH STEPS PACKING(true|false)
    local size=$1 prec=$2 batch=$3 steps=$4 packing=$5
    local name="ours-$size-$prec-b$batch" t
    [ "$packing" = false ] && name+=-unpacked
    local d=$LOGS/$name
    if ! t=$(timeout_for "$CAP_OURS"); then
        say "$name: skipped (time budget)"
        return
    fi
    mkdir -p "$d"
    local metrics=$W/ckpt/$name/metrics.jsonl
    local t0 t1 rc n=0 m
    t0=$(now)
    timeout -k 10 "$t" "$BIN" seq-cls --task nsmc --config tests/fixtures/templated.json --device "$DEV" --quiet \
        --set "ckpt_dir=$W/ckpt" --set "output_dir=$name" --set overwrite_output_dir=true \
        --set "data_dir=$DATA" --set train_file=ratings_train.txt --set dev_file=ratings_dev.txt \
        --set test_file=ratings_test.txt --set evaluate_test_during_training=false \
        --set "vocab_file=$VOCAB" --set "model_config=${MODEL_CONFIG[$size]}" \
        --set "max_seq_len=$MAX_LEN" --set "train_batch_size=$batch" --set "eval_batch_size=$EVAL_BS" \
        --set "max_steps=$steps" --set num_train_epochs=1000 --set "logging_steps=$LOG" --set save_steps=0 \
        --set eval_all_checkpoints=false --set save_optimizer=false --set learning_rate=5e-5 \
        --set warmup_proportion=0 --set "group_by_length=$GROUP_BY_LENGTH" --set seed=42 \
        --set "token_packing=$packing" \
        --set "$(precision_flag "$prec")" >"$d/stdout" 2>"$d/stderr" &
    local pid=$!
    # When each train event lands: the timed window (after the first, warm-up event) for the
    # utilisation average.
    while kill -0 "$pid" 2>/dev/null; do
        m=$(grep -c '"event":"train"' "$metrics" 2>/dev/null)
        if [ -n "$m" ] && [ "$m" != "$n" ]; then
            echo "$(now) $m" >>"$d/trace"
            n=$m
        fi
        sleep 0.1
    done
    wait "$pid"
    rc=$?
    t1=$(now)
    echo "$rc $t0 $t1" >"$d/rc"
    cp "$metrics" "$d/" 2>/dev/null
    rm -rf "${W:?}/ckpt/$name"
    local what
    case "$rc" in
        0) what="ok: $(grep -c '"event":"train"' "$d/metrics.jsonl" 2>/dev/null) train events" ;;
        124 | 137) what="timed out after ${t}s" ;;
        *) what="rc $rc: $(grep -m1 '^error:' "$d/stderr" || tail -n 1 "$d/stderr")" ;;
    esac
    say "$name ($steps steps): $what"
}

run_peer() { # SIZE: one sweep over the plan's rows of that size
    local size=$1 runs=() t
    while read -r -u 3 s prec batch steps; do
        [ "$s" = "$size" ] && peer_wanted "$s" "$prec" "$batch" && runs+=("$prec:$batch:$((steps - LOG))")
    done 3<"$LOGS/plan.txt"
    [ ${#runs[@]} -gt 0 ] || return
    local list
    list=$(IFS=,; echo "${runs[*]}")
    echo "$list" >"$LOGS/peer-$size.plan"
    [ $PEER_OK = 1 ] || return
    if [ -n "$MAKE_PID" ]; then
        say "waiting for the peer checkpoints"
        wait "$MAKE_PID" || say "make-model failed: $(tail -n 1 "$LOGS/make_model.log")"
        MAKE_PID=""
    fi
    if [ ! -f "$W/model-$size/config.json" ]; then
        say "peer-$size: no checkpoint (see make_model.log)"
        return
    fi
    if ! t=$(timeout_for "$CAP_PEER"); then
        say "peer-$size: skipped (time budget)"
        return
    fi
    say "peer-$size: $list (warm-up $LOG, timeout ${t}s)"
    local t0 rc
    t0=$(now)
    timeout -k 10 "$t" "$PY" benches/hf_peer.py sweep "$W/model-$size" "$DATA/nsmc/ratings_train.txt" \
        "$DATA/nsmc/ratings_test.txt" --padding longest --device "$DEV" --warmup "$LOG" --fused \
        --eval-batch "$EVAL_BS" --max-len "$MAX_LEN" --runs "$list" \
        >"$LOGS/peer-$size.jsonl" 2>"$LOGS/peer-$size.err" </dev/null
    rc=$?
    echo "$rc $t0 $(now)" >"$LOGS/peer-$size.rc"
    say "peer-$size: rc $rc, $(grep -c . "$LOGS/peer-$size.jsonl") of ${#runs[@]} runs done"
}

run_ours_rows() { # SIZE PACKING: ours' planned rows of that size
    while read -r -u 3 s prec batch steps; do
        [ "$s" = "$1" ] && run_ours "$s" "$prec" "$batch" "$steps" "$2" </dev/null
    done 3<"$LOGS/plan.txt"
}

# The first packing setting, the peer, then the other (so a spent budget skips the A/B rows last).
for size in "${SIZES[@]}"; do
    run_ours_rows "$size" "${PACKINGS[0]}"
    run_peer "$size"
    [ ${#PACKINGS[@]} -gt 1 ] && run_ours_rows "$size" "${PACKINGS[1]}"
done

