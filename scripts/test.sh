#!/usr/bin/env bash
# The test command: sets up (idempotent), then runs every test in release mode, so libtorch's
# C++ glue is compiled once for both the binary and the tests. Without arguments it then runs
# scripts/families_e2e.py (KoBERT, DistilKoBERT and XLM-R reference configs end to end) and
# scripts/tmux_capture.sh (the demo in a real tmux pane: a clean terminal).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev --no-build
source scripts/env.sh
cargo test --release "$@"
# The whole suite (no filter given): the 24 baseline reference configs end to end on tiny stand-ins.
if [ $# -eq 0 ]; then
    .venv/bin/python scripts/families_e2e.py
    # The demo in a real terminal: log lines above the progress bars, never through them.
    scripts/tmux_capture.sh runs/tmux-capture.txt
fi
