# Source this (`source scripts/env.sh`) to build with cargo against the repo's .venv libtorch.
_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export LIBTORCH_USE_PYTORCH=1
export VIRTUAL_ENV="$_repo/.venv"
export PATH="$_repo/.venv/bin:$PATH"
unset _repo
