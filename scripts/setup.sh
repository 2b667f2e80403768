#!/usr/bin/env bash
# Idempotent setup: a repo-local .venv with torch==2.11.0 from pip (skipped when present), then a
# release build of koelectra-ft linked against that libtorch (rpath embedded: no LD_LIBRARY_PATH).
#
# Usage: scripts/setup.sh [--dev] [--no-build]
#   --dev       also install the reference Python stack for tests (scripts/requirements-dev.txt)
#   --no-build  only prepare the venv
# Afterwards, `source scripts/env.sh` sets up a shell for plain `cargo` commands.
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.11.0
DEV=0
BUILD=1
for arg in "$@"; do
    case "$arg" in
        --dev) DEV=1 ;;
        --no-build) BUILD=0 ;;
        *) echo "setup.sh: unknown argument $arg (expected --dev or --no-build)" >&2; exit 2 ;;
    esac
done

say() { echo "[setup] $*" >&2; }

need_root_pkg() {  # need_root_pkg COMMAND-CHECK DEBIAN-PACKAGE
    if ! eval "$1" >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            say "installing $2 (apt-get)"
            apt-get update -qq && apt-get install -y -qq "$2" >/dev/null
        else
            echo "setup.sh: $2 is missing; install it (e.g. sudo apt-get install $2)" >&2
            exit 1
        fi
    fi
}

need_root_pkg "command -v c++" g++
need_root_pkg "python3 -c 'import ensurepip, venv'" python3-venv

if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    python3 -m venv .venv
fi
if ! .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
    say "installing torch==$TORCH_VERSION into .venv (large download, once)"
    .venv/bin/python -m pip install --quiet "torch==$TORCH_VERSION"
else
    say "torch $TORCH_VERSION already in .venv"
fi
if [ "$DEV" = 1 ]; then
    # scripts/tmux_capture.sh (part of scripts/test.sh) checks the terminal output in a real tmux pane.
    need_root_pkg "command -v tmux" tmux
    # pip answers "already satisfied" without downloading when the pinned versions are present.
    say "test packages (scripts/requirements-dev.txt)"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-dev.txt
    # KoBERT's reference tokenizer; --no-deps: it must not touch the pinned transformers/torch.
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps "kobert-transformers==0.6.0"
fi

if [ "$BUILD" = 1 ]; then
    # shellcheck source=scripts/env.sh
    source scripts/env.sh
    say "building (release)"
    cargo build --release
    say "binary: target/release/koelectra-ft"
fi
