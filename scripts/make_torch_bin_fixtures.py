#!/usr/bin/env python3
"""Writes tests/fixtures/torch_bin/: pytorch_model.bin files in the zip and the legacy format, and
what torch.load reads from each (expected.safetensors), for the Rust .bin reader's parity test.

Run from the repo root once with each transformers major version:
    .venv/bin/python scripts/make_torch_bin_fixtures.py                      # transformers 4.x
    PYTHONPATH=/tmp/tf5lib .venv/bin/python scripts/make_torch_bin_fixtures.py  # 5.x (pip install
                                                     # --target /tmp/tf5lib transformers==5.*)
Each run writes tf<major>-<dtype>/{zip.bin,legacy.bin,expected.safetensors} for fp32, fp16 and bf16:
a tiny ElectraForMaskedLM, whose generator_lm_head.weight shares its storage with the word
embeddings (tied weights). transformers 4.x writes zip.bin with save_pretrained(safe_serialization=
False); 5.x saves only safetensors, so zip.bin is torch.save of its state dict, as 4.x did. legacy.bin
is torch.save(state_dict, _use_new_zipfile_serialization=False), the pre-1.6 format the 2020
KoELECTRA uploads use. views/ holds hand-made tensors transformers never writes: a transposed
(non-contiguous) tensor, slices at storage offsets, a scalar, an empty tensor, int64 and bool.

The legacy format names storages by memory address, so legacy.bin differs on every run.
"""
import shutil
import tempfile
from pathlib import Path

import torch
import transformers
from safetensors.torch import save_file
from transformers import ElectraConfig, ElectraForMaskedLM

from make_fixtures import perturb

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "torch_bin"
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def tiny_model() -> ElectraForMaskedLM:
    config = ElectraConfig(
        vocab_size=40,
        embedding_size=8,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=24,
        max_position_embeddings=16,
    )
    model = ElectraForMaskedLM(config).eval()
    perturb(model)
    return model


def write_expected(bin_path: Path, out: Path) -> None:
    """What torch.load reads, as plain contiguous tensors (safetensors refuses shared storage)."""
    state = torch.load(bin_path, weights_only=True)
    save_file({k: v.clone().contiguous() for k, v in state.items()}, str(out))


def write_zip(model, path: Path) -> None:
    if transformers.__version__.startswith("4."):
        with tempfile.TemporaryDirectory() as tmp:
            model.save_pretrained(tmp, safe_serialization=False)
            shutil.copy(Path(tmp) / "pytorch_model.bin", path)
    else:
        torch.save(model.state_dict(), path)


def model_cases(major: str) -> None:
    torch.manual_seed(20201127)
    model = tiny_model()
    for name, dtype in DTYPES.items():
        out = OUT / f"tf{major}-{name}"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        typed = model.to(dtype)
        state = typed.state_dict()
        tied = state["generator_lm_head.weight"].untyped_storage().data_ptr()
        assert tied == state["electra.embeddings.word_embeddings.weight"].untyped_storage().data_ptr()
        write_zip(typed, out / "zip.bin")
        torch.save(state, out / "legacy.bin", _use_new_zipfile_serialization=False)
        write_expected(out / "zip.bin", out / "expected.safetensors")
        legacy = torch.load(out / "legacy.bin", weights_only=True)
        assert all(torch.equal(legacy[k], v) for k, v in state.items())


def views_case() -> None:
    torch.manual_seed(7)
    base = torch.randn(6, 5)
    state = {
        "transposed": base.t(),
        "row_slice": base[2:4],
        "column_slice": base[:, 1:3],
        "strided": base[::2, ::2],
        "whole": base,
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 4),
        "ids": torch.arange(10, dtype=torch.int64).view(2, 5)[:, 1:],
        "mask": torch.tensor([True, False, True]),
        "half_slice": base.half()[1:, 2:],
    }
    out = OUT / "views"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    torch.save(state, out / "zip.bin")
    torch.save(state, out / "legacy.bin", _use_new_zipfile_serialization=False)
    write_expected(out / "zip.bin", out / "expected.safetensors")


def main() -> None:
    major = transformers.__version__.split(".")[0]
    if major not in ("4", "5"):
        raise SystemExit(f"need transformers 4.x or 5.x, found {transformers.__version__}")
    model_cases(major)
    if major == "4":
        views_case()
    print(f"wrote {OUT} (transformers {transformers.__version__}, torch {torch.__version__})")


if __name__ == "__main__":
    main()
