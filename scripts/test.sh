#!/usr/bin/env bash
# The test command: sets up (idempotent), then runs every test in release mode, so libtorch's
# C++ glue is compiled once for both the binary and the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev --no-build
source scripts/env.sh
cargo test --release "$@"
