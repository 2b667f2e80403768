#!/usr/bin/env python3
"""The Hugging Face peer of benches/compare.py and scripts/gpu_check.sh: ElectraForSequenceClassification
with the reference training loop (AdamW, linear schedule, clipping to 1.0), on the same checkpoint and
NSMC-format data.

  hf_peer.py make-model OUT_DIR VOCAB [small|base]   random KoELECTRA-small/base-shaped checkpoint (fixed seed)
  hf_peer.py run MODEL_DIR TRAIN TEST --padding max_length|longest [--steps N] [--warmup W] [--batch B]
             [--eval-batch E] [--max-len L] [--threads T] [--device cpu|cuda]
             [--precision fp32|tf32|bf16|fp16] [--fused] [--count-ops]
  hf_peer.py sweep MODEL_DIR TRAIN TEST --runs PREC:BATCH:STEPS[,...] [--warmup W] [same options as run]
  hf_peer.py versions

`run` prints one JSON object: feature rows/s, train samples/s (N timed steps after W warm-up steps,
default 3), eval samples/s, peak RSS (MiB), peak GPU memory (MiB) and the mean training loss.
`sweep` tokenizes once and loads the checkpoint once, then for each PREC:BATCH:STEPS trains a fresh
copy for W warm-up + STEPS timed steps and evaluates it, printing one such JSON object per line as
soon as it is done (with the run's precision/batch/steps, the wall-clock bounds of the timed window
`t_train_start`/`t_train_end` in Unix seconds, or `error` when that run failed). With --count-ops,
torch.profiler records the timed steps and `dispatched_ops_per_update` is its events per update
(every operator libtorch dispatches, nested ones included: what koelectra-ft reports with
KOELECTRA_FT_COUNT_OPS set); the profiler's overhead makes that run's timings meaningless.

Precisions: fp32 (TF32 off), tf32 (TF32 matmuls, as torch.backends.cuda.matmul.allow_tf32), bf16
(autocast to bfloat16), fp16 (autocast to float16 with torch.amp.GradScaler: scaled loss, unscale_,
clip to 1.0, scaler.step, scaler.update). --fused uses torch.optim.AdamW(fused=True) (the default of
`sweep`; `run` keeps the plain AdamW that compare.py measures). ELECTRA in transformers 4.x has only
the eager attention.
"""
import argparse
import copy
import json
import resource
import sys
import time
import traceback

import torch

try:  # The peer never needs accelerate; a GPU image's newer one may not import against this
    import transformers.utils.import_utils as _import_utils  # transformers' huggingface_hub.

    _import_utils._accelerate_available = False
except Exception:  # noqa: BLE001 - best effort, the import below reports real problems
    pass
from transformers import ElectraConfig, ElectraForSequenceClassification, ElectraTokenizerFast  # noqa: E402
from transformers import get_linear_schedule_with_warmup  # noqa: E402

WARMUP_STEPS = 3
PRECISIONS = ["fp32", "tf32", "bf16", "fp16"]


def make_model(out_dir: str, vocab: str, size: str = "small") -> None:
    torch.manual_seed(0)
    tok = ElectraTokenizerFast(vocab_file=vocab, do_lower_case=False)
    shapes = {
        "small": dict(embedding_size=128, hidden_size=256, num_attention_heads=4, intermediate_size=1024),
        "base": dict(embedding_size=768, hidden_size=768, num_attention_heads=12, intermediate_size=3072),
    }
    config = ElectraConfig(vocab_size=tok.vocab_size, num_hidden_layers=12, max_position_embeddings=512,
                           num_labels=2, **shapes[size])
    ElectraForSequenceClassification(config).save_pretrained(out_dir)
    tok.save_pretrained(out_dir)


def read_tsv(path: str):
    with open(path, encoding="utf-8") as f:
        rows = [line.strip().split("\t") for line in f.read().splitlines()[1:] if line.strip()]
    return [r[1] for r in rows], [int(r[2]) for r in rows]


def encode(tok, texts, padding: str, max_len: int):
    started = time.perf_counter()
    enc = tok(texts, truncation=True, max_length=max_len, padding="max_length" if padding == "max_length" else False)
    return enc, len(texts) / (time.perf_counter() - started)


def batch(enc, idx, padding: str, max_len: int, device):
    rows = [{k: enc[k][i] for k in ("input_ids", "attention_mask", "token_type_ids")} for i in idx]
    longest = max_len if padding == "max_length" else max(len(r["input_ids"]) for r in rows)
    out = {}
    for key in ("input_ids", "attention_mask", "token_type_ids"):
        out[key] = torch.tensor([r[key] + [0] * (longest - len(r[key])) for r in rows], device=device)
    return out


def set_tf32(on: bool) -> None:
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on


class Data:
    """The tokenizer's features of the train and test rows, built once."""

    def __init__(self, model_dir: str, train: str, test: str, padding: str, max_len: int):
        tok = ElectraTokenizerFast.from_pretrained(model_dir)
        self.train_texts, self.train_labels = read_tsv(train)
        self.test_texts, self.test_labels = read_tsv(test)
        self.train_enc, self.feature_rate = encode(tok, self.train_texts, padding, max_len)
        self.test_enc, _ = encode(tok, self.test_texts, padding, max_len)


def sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def train_eval(model, data: Data, device, precision: str, batch_size: int, steps: int, warmup: int,
               eval_batch: int, padding: str, max_len: int, fused: bool, count_ops: bool = False) -> dict:
    """Trains `model` (already on `device`) for warmup + steps updates, times the last `steps`, then
    evaluates the test rows. Returns the JSON object that `run` prints."""
    set_tf32(precision == "tf32")
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    no_decay = ["bias", "LayerNorm.weight"]
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)], "weight_decay": 0.0},
        {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=5e-5, eps=1e-8, **({"fused": True} if fused else {}))
    scheduler = get_linear_schedule_with_warmup(optimizer, 0, steps)  # as before: reaches 0 at `steps`
    half = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    autocast = lambda: torch.autocast(device_type=device.type, dtype=half or torch.bfloat16,  # noqa: E731
                                      enabled=half is not None)
    scaler = torch.amp.GradScaler(device.type) if precision == "fp16" else None
    gen = torch.Generator().manual_seed(42)
    order = torch.randperm(len(data.train_texts), generator=gen).tolist()
    model.train()
    losses, started, t_start, timed = [], None, None, 0
    profiler = (torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], acc_events=True)
                if count_ops else None)
    for step in range(steps + warmup):
        if step == warmup:
            sync(device)
            started, t_start = time.perf_counter(), time.time()
            if profiler is not None:
                profiler.__enter__()
        start = (step * batch_size) % max(1, len(order) - batch_size)
        idx = order[start:start + batch_size]
        inputs = batch(data.train_enc, idx, padding, max_len, device)
        labels = torch.tensor([data.train_labels[i] for i in idx], device=device)
        with autocast():
            loss = model(**inputs, labels=labels).loss
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        losses.append(loss.item())
        if step >= warmup:
            timed += len(idx)
    sync(device)
    train_rate = timed / (time.perf_counter() - started)
    t_end = time.time()
    ops = None
    if profiler is not None:
        profiler.__exit__(None, None, None)
        ops = len(profiler.events()) / max(1, steps)

    model.eval()
    started = time.perf_counter()
    with torch.no_grad(), autocast():
        for start in range(0, len(data.test_texts), eval_batch):
            idx = list(range(start, min(start + eval_batch, len(data.test_texts))))
            model(**batch(data.test_enc, idx, padding, max_len, device)).logits.float().cpu()
    eval_rate = len(data.test_texts) / (time.perf_counter() - started)
    cuda = device.type == "cuda"
    return {
        "feature_rows_per_s": data.feature_rate,
        "train_samples_per_s": train_rate,
        "eval_samples_per_s": eval_rate,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_gpu_mib": torch.cuda.max_memory_allocated() / 2**20 if cuda else 0.0,
        "peak_gpu_reserved_mib": torch.cuda.max_memory_reserved() / 2**20 if cuda else 0.0,
        "mean_loss": sum(losses[warmup:]) / max(1, len(losses) - warmup),
        "t_train_start": t_start,
        "t_train_end": t_end,
        **({"dispatched_ops_per_update": ops} if ops is not None else {}),
    }


def load_model(model_dir: str):
    return ElectraForSequenceClassification.from_pretrained(model_dir, attn_implementation="eager")


def run(args) -> None:
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    data = Data(args.model, args.train, args.test, args.padding, args.max_len)
    model = load_model(args.model).to(device)
    warmup = WARMUP_STEPS if args.warmup is None else args.warmup
    result = train_eval(model, data, device, args.precision, args.batch, args.steps, warmup,
                        args.eval_batch, args.padding, args.max_len, args.fused, args.count_ops)
    print(json.dumps(result))


def parse_runs(text: str):
    runs = []
    for item in text.split(","):
        precision, batch_size, steps = item.strip().split(":")
        if precision not in PRECISIONS:
            raise SystemExit(f"hf_peer.py: unknown precision {precision!r} in --runs (one of {PRECISIONS})")
        runs.append((precision, int(batch_size), int(steps)))
    return runs


def sweep(args) -> None:
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    runs = parse_runs(args.runs)
    warmup = 10 if args.warmup is None else args.warmup
    fused = True if args.fused is None else args.fused
    data = Data(args.model, args.train, args.test, args.padding, args.max_len)
    base = load_model(args.model)
    for precision, batch_size, steps in runs:
        head = {"precision": precision, "batch": batch_size, "steps": steps, "warmup": warmup, "fused": fused,
                "device": str(device)}
        started = time.time()
        model = None
        try:
            model = copy.deepcopy(base).to(device)
            result = train_eval(model, data, device, precision, batch_size, steps, warmup, args.eval_batch,
                                args.padding, args.max_len, fused)
        except Exception as e:  # noqa: BLE001 - one failed run must not stop the others
            traceback.print_exc()
            result = {"error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300]}
        finally:
            del model
            if device.type == "cuda":
                torch.cuda.empty_cache()
        print(json.dumps({**head, **result, "wall_s": time.time() - started}), flush=True)


def versions() -> None:
    import tokenizers
    import transformers

    out = {"python": sys.version.split()[0], "torch": torch.__version__, "transformers": transformers.__version__,
           "tokenizers": tokenizers.__version__, "transformers_path": transformers.__file__,
           "cuda_available": torch.cuda.is_available()}
    try:
        import huggingface_hub

        out["huggingface_hub"] = huggingface_hub.__version__
    except ImportError:
        pass
    if torch.cuda.is_available():
        out["gpu"] = torch.cuda.get_device_name(0)
    print(json.dumps(out))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "make-model":
        make_model(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "small")
        return
    if len(sys.argv) > 1 and sys.argv[1] == "versions":
        versions()
        return
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["run", "sweep"])
    p.add_argument("model")
    p.add_argument("train")
    p.add_argument("test")
    p.add_argument("--padding", choices=["max_length", "longest"], default="max_length")
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--warmup", type=int, default=None, help="untimed steps first (run: 3, sweep: 10)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--eval-batch", type=int, default=128)
    p.add_argument("--max-len", type=int, default=128)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", choices=PRECISIONS, default="fp32")
    p.add_argument("--fused", action=argparse.BooleanOptionalAction, default=None,
                   help="torch.optim.AdamW(fused=True) (run: off, sweep: on)")
    p.add_argument("--runs", default="", help="sweep: PREC:BATCH:STEPS[,...]")
    p.add_argument("--count-ops", action="store_true",
                   help="run: count the operators dispatched per timed update (torch.profiler)")
    args = p.parse_args()
    if args.cmd == "sweep":
        if not args.runs:
            p.error("sweep needs --runs")
        sweep(args)
    else:
        args.fused = bool(args.fused)
        run(args)


if __name__ == "__main__":
    main()
