#!/usr/bin/env python3
"""The Hugging Face peer of benches/compare.py: ElectraForSequenceClassification with the reference
training loop (AdamW, linear schedule, clipping to 1.0), on the same checkpoint and NSMC-format data.

  hf_peer.py make-model OUT_DIR VOCAB          random KoELECTRA-small-shaped checkpoint (fixed seed)
  hf_peer.py run MODEL_DIR TRAIN TEST --padding max_length|longest [--steps N] [--batch B]
             [--eval-batch E] [--max-len L] [--threads T] [--device cpu|cuda] [--precision fp32|tf32|bf16]

`run` prints one JSON object: feature rows/s, train samples/s (after 3 warm-up steps), eval
samples/s, peak RSS (MiB), peak GPU memory (MiB) and the mean training loss.
"""
import argparse
import json
import resource
import sys
import time

import torch
from transformers import ElectraConfig, ElectraForSequenceClassification, ElectraTokenizerFast
from transformers import get_linear_schedule_with_warmup

WARMUP_STEPS = 3


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


def run(args) -> None:
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.precision == "tf32":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    else:
        torch.backends.cuda.matmul.allow_tf32 = False
    tok = ElectraTokenizerFast.from_pretrained(args.model)
    model = ElectraForSequenceClassification.from_pretrained(args.model, attn_implementation="eager").to(device)
    train_texts, train_labels = read_tsv(args.train)
    test_texts, test_labels = read_tsv(args.test)
    train_enc, feature_rate = encode(tok, train_texts, args.padding, args.max_len)
    test_enc, _ = encode(tok, test_texts, args.padding, args.max_len)

    no_decay = ["bias", "LayerNorm.weight"]
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)], "weight_decay": 0.0},
        {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=5e-5, eps=1e-8)
    scheduler = get_linear_schedule_with_warmup(optimizer, 0, args.steps)
    gen = torch.Generator().manual_seed(42)
    order = torch.randperm(len(train_texts), generator=gen).tolist()
    model.train()
    losses, started, timed = [], None, 0
    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=args.precision == "bf16")
    for step in range(args.steps + WARMUP_STEPS):
        if step == WARMUP_STEPS:
            if device.type == "cuda":
                torch.cuda.synchronize()
            started = time.perf_counter()
        start = (step * args.batch) % max(1, len(order) - args.batch)
        idx = order[start:start + args.batch]
        inputs = batch(train_enc, idx, args.padding, args.max_len, device)
        labels = torch.tensor([train_labels[i] for i in idx], device=device)
        with autocast:
            loss = model(**inputs, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        losses.append(loss.item())
        if step >= WARMUP_STEPS:
            timed += len(idx)
    if device.type == "cuda":
        torch.cuda.synchronize()
    train_rate = timed / (time.perf_counter() - started)

    model.eval()
    started = time.perf_counter()
    with torch.no_grad(), autocast:
        for start in range(0, len(test_texts), args.eval_batch):
            idx = list(range(start, min(start + args.eval_batch, len(test_texts))))
            model(**batch(test_enc, idx, args.padding, args.max_len, device)).logits.float().cpu()
    eval_rate = len(test_texts) / (time.perf_counter() - started)
    result = {
        "feature_rows_per_s": feature_rate,
        "train_samples_per_s": train_rate,
        "eval_samples_per_s": eval_rate,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_gpu_mib": torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else 0.0,
        "mean_loss": sum(losses[WARMUP_STEPS:]) / max(1, len(losses) - WARMUP_STEPS),
    }
    print(json.dumps(result))


def main() -> None:
    if sys.argv[1] == "make-model":
        make_model(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "small")
        return
    p = argparse.ArgumentParser()
    p.add_argument("cmd")
    p.add_argument("model")
    p.add_argument("train")
    p.add_argument("test")
    p.add_argument("--padding", choices=["max_length", "longest"], default="max_length")
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--eval-batch", type=int, default=128)
    p.add_argument("--max-len", type=int, default=128)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", choices=["fp32", "tf32", "bf16"], default="fp32")
    run(p.parse_args())


if __name__ == "__main__":
    main()
