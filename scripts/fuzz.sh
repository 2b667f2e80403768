#!/usr/bin/env bash
# Runs every fuzz target of tests/fuzz.rs for SECONDS each (default 600) from a random seed, two at
# a time, and prints one line per target: executions, time, seed, failures.
# A failing input lands in target/fuzz-failures/; fix the bug, then commit the input under
# tests/fuzz_regressions/<target>/ so `cargo test` replays it.
#   scripts/fuzz.sh [SECONDS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
seconds=${1:-600}
seed=${2:-$RANDOM}
FUZZ_SECONDS=$seconds FUZZ_SEED=$seed cargo test --release --test fuzz -- --nocapture --test-threads=2 2>&1 |
    grep -E '^fuzz |^replayed|panicked|failed|^test result'
