#!/usr/bin/env bash
# README command 1: set up (idempotent), build, and train a tiny ELECTRA from scratch on a slice of
# real NSMC movie reviews (data/demo/nsmc: 12,000 train, 1,000 test, CC0; about a minute on 2 CPU
# cores); prints the test accuracy. Config: configs/nsmc/demo.json. Outputs: runs/demo-nsmc.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec target/release/koelectra-ft seq-cls --task nsmc --config demo.json "$@"
