#!/usr/bin/env bash
# Fills the ignored folder .gpu/ with what scripts/gpu_check.sh needs on a GPU machine that has
# PyTorch and python3 but no Rust, no network and no ../shared:
#   .gpu/bin/koelectra-ft          the release binary (a stripped copy; build it first)
#   .gpu/data/nsmc/ratings_{train,test}.txt   disjoint real NSMC rows (NSMC format, header line)
#   .gpu/data/vocab.txt            the KoELECTRA v3 vocab
#   .gpu/pylib/                    transformers (the .venv's version, model folders trimmed to ELECTRA)
#                                  and what it needs at import beyond torch and numpy, as wheels
#                                  that import on CPython 3.11 (here) and 3.12 (the GPU image)
# Then checks that the HF peer imports from .gpu/pylib with nothing but torch (+ numpy) beside it.
#
# Usage (repo root, after `cargo build --release`):
#   bash scripts/gpu_prepare.sh [--train-rows N] [--test-rows N]
# Env: SHARED (default ../shared), PYTHON (default .venv/bin/python), GPU_PY (default 3.12: the
# CPython version of the GPU machine's python3), GPU_BUDGET_MIB (default 55).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

TRAIN_ROWS=4096
TEST_ROWS=1024
while [ $# -gt 0 ]; do
    case "$1" in
        --train-rows) TRAIN_ROWS=$2; shift 2 ;;
        --test-rows) TEST_ROWS=$2; shift 2 ;;
        -h | --help) sed -n '2,/^set /{/^#/p}' "$0"; exit 0 ;;
        *) echo "gpu_prepare.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

SHARED=${SHARED:-$ROOT/../shared}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
GPU_PY=${GPU_PY:-3.12}
GPU_BUDGET_MIB=${GPU_BUDGET_MIB:-55}
BIN_SRC=$ROOT/target/release/koelectra-ft
G=$ROOT/.gpu
export PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1

[ -x "$BIN_SRC" ] || { echo "gpu_prepare.sh: $BIN_SRC is missing: build it first (cargo build --release)" >&2; exit 1; }
[ -x "$PYTHON" ] || { echo "gpu_prepare.sh: $PYTHON is missing: run scripts/setup.sh --dev first" >&2; exit 1; }
NSMC=$SHARED/data/nsmc/ratings_test.txt
VOCAB=$SHARED/vocab/koelectra-v3-vocab.txt
for f in "$NSMC" "$VOCAB"; do
    [ -f "$f" ] || { echo "gpu_prepare.sh: $f is missing" >&2; exit 1; }
done

# .gpu/ is ignored through .git/info/exclude (never .gitignore), so it can be carried but not committed.
EXCLUDE=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$EXCLUDE")"
touch "$EXCLUDE"
grep -qxF '.gpu/' "$EXCLUDE" || echo '.gpu/' >>"$EXCLUDE"

rm -rf "$G"
mkdir -p "$G/bin" "$G/data/nsmc" "$G/pylib"

echo "== binary"
cp "$BIN_SRC" "$G/bin/koelectra-ft"
if command -v strip >/dev/null; then strip "$G/bin/koelectra-ft"; fi
"$G/bin/koelectra-ft" --version

echo "== data: $TRAIN_ROWS train + $TEST_ROWS test rows (disjoint) of $NSMC"
total=$(($(wc -l <"$NSMC") - 1))
if [ $((TRAIN_ROWS + TEST_ROWS)) -gt "$total" ]; then
    echo "gpu_prepare.sh: only $total rows in $NSMC" >&2
    exit 1
fi
{ head -n 1 "$NSMC"; sed -n "2,$((TRAIN_ROWS + 1))p" "$NSMC"; } >"$G/data/nsmc/ratings_train.txt"
{ head -n 1 "$NSMC"; tail -n "$TEST_ROWS" "$NSMC"; } >"$G/data/nsmc/ratings_test.txt"
cp "$VOCAB" "$G/data/vocab.txt"
wc -l "$G"/data/nsmc/*.txt "$G/data/vocab.txt"

echo "== python packages for the HF peer -> .gpu/pylib (CPython $GPU_PY wheels, as this .venv's versions)"
# transformers' own pins, taken from the .venv so the peer is the same code here and there. The GPU
# image has newer tokenizers/huggingface_hub that this transformers refuses at import, hence they travel.
PKGS=(transformers huggingface_hub tokenizers safetensors packaging tqdm requests urllib3 idna certifi
    charset-normalizer filelock PyYAML regex)
mapfile -t PINS < <("$PYTHON" - "${PKGS[@]}" <<'EOF'
import importlib.metadata as m, sys
for name in sys.argv[1:]:
    print(f"{name}=={m.version(name)}")
EOF
)
echo "${PINS[*]}"
PLATFORMS=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64
    --platform manylinux1_x86_64 --platform any)
"$PYTHON" -m pip install -q --target "$G/pylib" --no-deps --no-compile --only-binary=:all: \
    --python-version "$GPU_PY" --implementation cp "${PLATFORMS[@]}" "${PINS[@]}"
# regex has no pure-Python fallback: add this Python's build of its extension beside the GPU one
# (the file names carry the CPython version, so both coexist).
HERE_PY=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
if [ "$HERE_PY" != "$GPU_PY" ]; then
    tmp=$(mktemp -d)
    regex_pin=$(printf '%s\n' "${PINS[@]}" | grep '^regex==')
    "$PYTHON" -m pip install -q --target "$tmp" --no-deps --no-compile --only-binary=:all: "$regex_pin"
    cp "$tmp"/regex/_regex.cpython-*.so "$G/pylib/regex/"
    rm -rf "$tmp"
fi
# Trim: PyYAML and charset_normalizer fall back to pure Python without their extensions; tests, CLIs
# and every transformers model folder but ELECTRA's (and auto's lazy mappings) are never imported.
rm -f "$G"/pylib/yaml/_yaml.*.so
rm -rf "$G/pylib/bin" "$G/pylib/regex/tests" "$G/pylib/transformers/commands"
find "$G/pylib/transformers/models" -mindepth 1 -maxdepth 1 -type d \
    ! -name electra ! -name auto ! -name __pycache__ -exec rm -rf {} +
find "$G/pylib/transformers/models/electra" -name '*_tf_*' -delete -o -name '*_flax_*' -delete

echo "== import check: .gpu/pylib with nothing but torch (+ numpy, which the GPU image has) beside it"
# A python with -I -S sees only the standard library; the check adds a folder of links to torch, its
# own requirements and numpy, then .gpu/pylib, and builds + trains the HF peer for 2 steps on CPU.
SHIM=$(mktemp -d)
trap 'rm -rf "$SHIM"' EXIT
"$PYTHON" - "$SHIM" <<'EOF'
import importlib.metadata as m, os, sys
shim = sys.argv[1]
dists = ["torch", "filelock", "typing_extensions", "sympy", "mpmath", "networkx", "jinja2", "MarkupSafe",
         "fsspec", "numpy", "setuptools"]
for name in dists:
    try:
        dist = m.distribution(name)
    except m.PackageNotFoundError:
        continue
    tops = {f.parts[0] for f in dist.files or [] if f.parts[0] != ".." and not f.parts[0].endswith(".pth")}
    for top in tops:
        src = os.path.join(str(dist.locate_file("")), top)
        dst = os.path.join(shim, top)
        if os.path.exists(src) and not os.path.lexists(dst):
            os.symlink(src, dst)
# torch's CUDA libraries (nvidia/, cuda/ ...) are found relative to its folder: link the rest too.
site = str(m.distribution("torch").locate_file(""))
for top in ("nvidia", "cuda", "triton"):
    if os.path.exists(os.path.join(site, top)) and not os.path.lexists(os.path.join(shim, top)):
        os.symlink(os.path.join(site, top), os.path.join(shim, top))
EOF
MODEL=$SHIM/model
strict_py() { # strict_py SCRIPT ARGS...: run SCRIPT with only stdlib + $SHIM + .gpu/pylib on sys.path
    "$PYTHON" -I -S -B -c '
import runpy, sys
sys.path[1:1] = [sys.argv[1], sys.argv[2]]
script = sys.argv[3]
sys.argv = sys.argv[3:]
runpy.run_path(script, run_name="__main__")' "$SHIM" "$G/pylib" "$@"
}
strict_py "$ROOT/benches/hf_peer.py" make-model "$MODEL" "$G/data/vocab.txt" small
strict_py "$ROOT/benches/hf_peer.py" run "$MODEL" "$G/data/nsmc/ratings_train.txt" "$G/data/nsmc/ratings_test.txt" \
    --padding longest --steps 2 --warmup 1 --batch 8 --threads 2 --precision fp32 --fused
strict_py "$ROOT/benches/hf_peer.py" versions

# The GPU image's CPython (3.12): the same tree must import there too; without torch here, check the
# tokenizer side and the compiled modules (tokenizers, safetensors, regex) with numpy from a scratch dir.
GPU_PYTHON=""
PYENV_ROOT=${PYENV_ROOT:-$HOME/.pyenv}
for c in "$PYENV_ROOT/versions/$GPU_PY"*/bin/python"$GPU_PY" "/usr/bin/python$GPU_PY" "python$GPU_PY"; do
    if "$c" -c 'import sys' >/dev/null 2>&1; then GPU_PYTHON=$c; break; fi
done
if [ -n "$GPU_PYTHON" ]; then
    echo "== import check with $GPU_PYTHON (as on the GPU image, torch aside)"
    np_pin=$("$PYTHON" -c 'import numpy; print(numpy.__version__)')
    "$PYTHON" -m pip install -q --target "$SHIM/np$GPU_PY" --no-deps --no-compile --only-binary=:all: \
        --python-version "$GPU_PY" --implementation cp "${PLATFORMS[@]}" "numpy==$np_pin"
    "$GPU_PYTHON" -I -S -B - "$SHIM/np$GPU_PY" "$G/pylib" "$G/data/vocab.txt" <<'EOF'
import sys
sys.path[1:1] = [sys.argv[2], sys.argv[1]]
import regex, safetensors, tokenizers, yaml
import transformers
from transformers import ElectraConfig, ElectraTokenizerFast
tok = ElectraTokenizerFast(vocab_file=sys.argv[3], do_lower_case=False)
ids = tok(["아 더빙.. 진짜 짜증나네요 목소리"], truncation=True, max_length=128)["input_ids"][0]
assert len(ids) > 3, ids
print(f"python {sys.version.split()[0]}: transformers {transformers.__version__}, tokenizers {tokenizers.__version__}, "
      f"{len(ids)} ids; ElectraConfig ok")
EOF
else
    echo "== (no python$GPU_PY here: the CPython $GPU_PY import check is skipped)"
fi

echo "== .gpu"
find "$G" -name __pycache__ -type d -prune -exec rm -rf {} +
du -sh "$G"/*
du -sh "$G"
size_mib=$(du -sm "$G" | cut -f1)
if [ "$size_mib" -gt "$GPU_BUDGET_MIB" ]; then
    echo "gpu_prepare.sh: .gpu is ${size_mib} MiB, over the ${GPU_BUDGET_MIB} MiB budget" >&2
    exit 1
fi
echo "ready: carry .gpu and run: bash scripts/gpu_check.sh --device cuda"
