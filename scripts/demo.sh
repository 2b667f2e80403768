#!/usr/bin/env bash
# README command 1: set up (idempotent), build, and fine-tune a tiny ELECTRA from scratch on the
# project's own NSMC-format sample (data/demo/nsmc); prints the test accuracy. Outputs: runs/demo-nsmc.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec target/release/koelectra-ft seq-cls --task nsmc --config demo.json "$@"
