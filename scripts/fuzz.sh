#!/usr/bin/env bash
# Runs the fuzz targets of tests/fuzz/ for SECONDS each (default 600) from a random seed, two at a
# time (FUZZ_THREADS=N: N at a time), and prints one line per target: executions (and how many the
# parser accepted), time, seed, failures. With TARGET names (e.g. torch_zip model_config), runs only
# those; without, all of them.
# A failing input lands in target/fuzz-failures/; fix the bug, then commit the input under
# tests/fuzz_regressions/<target>/ so `cargo test` replays it.
#   scripts/fuzz.sh [SECONDS] [SEED] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
seconds=${1:-600}
seed=${2:-$RANDOM}
shift $(($# < 2 ? $# : 2))
filters=()
for target in "$@"; do
    filters+=("fuzz_$target")
done
FUZZ_SECONDS=$seconds FUZZ_SEED=$seed cargo test --release --test fuzz -- --nocapture --test-threads="${FUZZ_THREADS:-2}" \
    ${filters[@]+"${filters[@]}"} ${filters[@]+--exact} 2>&1 |
    grep -oE 'fuzz [a-z_]+: .*|^replayed.*|.*panicked.*|.*failed.*|^test result.*'
