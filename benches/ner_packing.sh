#!/usr/bin/env bash
# Token packing on NER (token classification): trains a random KoELECTRA-small-v3-shaped model on
# the first 3,000 sentences of ../shared/data/naver-ner/test.tsv in random batches of 32
# (group_by_length false, as the reference samples), 40 updates, then evaluates 500 other
# sentences; with token_packing true and false, RUNS times each (default 3), and prints the medians.
# Run from anywhere after scripts/setup.sh (the release binary); about 2 minutes on 2 cores.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=$ROOT/../shared
BIN=$ROOT/target/release/koelectra-ft
RUNS=${RUNS:-3}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/data/naver-ner"
head -n 3000 "$SHARED/data/naver-ner/test.tsv" >"$W/data/naver-ner/train.tsv"
tail -n 500 "$SHARED/data/naver-ner/test.tsv" >"$W/data/naver-ner/test.tsv"
VOCAB=$SHARED/vocab/koelectra-v3-vocab.txt
V=$(wc -l <"$VOCAB" | tr -d ' ')
MODEL="{\"vocab_size\":$V,\"embedding_size\":128,\"hidden_size\":256,\"num_hidden_layers\":12,\"num_attention_heads\":4,\"intermediate_size\":1024,\"max_position_embeddings\":512}"
run() { # TOKEN_PACKING -> "train_samples_per_s eval_samples_per_s"
    KOELECTRA_FT_CACHE=off "$BIN" ner --task naver-ner --config koelectra-small-v3.json --quiet --device cpu \
        --set "data_dir=$W/data" --set "ckpt_dir=$W/ckpt" --set output_dir=run --set overwrite_output_dir=true \
        --set "vocab_file=$VOCAB" --set "model_config=$MODEL" --set model_name_or_path= \
        --set max_steps=40 --set logging_steps=40 --set save_steps=0 --set eval_all_checkpoints=false \
        --set evaluate_test_during_training=false --set group_by_length=false --set "token_packing=$1" \
        >/dev/null 2>"$W/log.txt" || { tail -n 3 "$W/log.txt" >&2; exit 1; }
    python3 - "$W/ckpt/run/metrics.jsonl" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
train = [e for e in events if e["event"] == "train"][-1]
evaluation = [e for e in events if e["event"] == "eval"][-1]
print(train["samples_per_second"], evaluation["samples_per_second"])
PY
}
for pack in true false; do
    for _ in $(seq "$RUNS"); do run "$pack"; done >"$W/$pack.txt"
done
python3 - "$W" "$RUNS" <<'PY'
import statistics, sys
w, runs = sys.argv[1], sys.argv[2]
med = {}
for pack in ("true", "false"):
    rows = [list(map(float, line.split())) for line in open(f"{w}/{pack}.txt")]
    med[pack] = [statistics.median(col) for col in zip(*rows)]
print(f"naver-ner, random batches of 32, medians of {runs} (samples/s):")
print("| token_packing | train | eval |")
print("|---|---:|---:|")
for pack in ("true", "false"):
    print(f"| {pack} | {med[pack][0]:.1f} | {med[pack][1]:.1f} |")
print(f"packing: {med['true'][0] / med['false'][0]:.2f}x train, {med['true'][1] / med['false'][1]:.2f}x eval")
PY
