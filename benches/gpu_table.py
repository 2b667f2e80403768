#!/usr/bin/env python3
"""The table of scripts/gpu_check.sh: reads its log folder, prints one markdown table (ours vs the
HF peer per model size, precision and train batch) and writes it and the raw numbers.

  gpu_table.py LOG_DIR [--md OUT.md] [--json OUT.json]

LOG_DIR (written by gpu_check.sh): plan.txt (SIZE PRECISION BATCH STEPS per line), settings.txt,
version.txt, gpu.txt, status.txt, peer_versions.json, demo/{rc,stdout,stderr},
ours-SIZE-PREC-bBATCH/{rc,stdout,stderr,metrics.jsonl,trace}, peer-SIZE.{plan,jsonl,err,rc} and
gpu_util.csv (nvidia-smi: timestamp, utilization.gpu %, memory.used MiB every 200 ms).

With token_packing=both in settings.txt, ours ran each row twice: packed (ours-...) and with every
padded position computed (ours-...-unpacked); the table then has a column of each, and the lines
under it check the targets (ours ÷ HF ≥ 1.3×, bf16 ≥ 2× fp32 for base) for each.

Ours' train samples/s: the time-weighted mean (total samples / total time) of the `train` events of
metrics.jsonl after the first one (its window is the warm-up); the peer's: the steps after as many
warm-up steps. GPU utilisation: the mean of the samples inside each side's timed window (ours: from
the first to the last train event as seen landing in metrics.jsonl; the peer: its t_train_start..
t_train_end). Standard library only.
"""
import argparse
import datetime as dt
import json
import math
import sys
from pathlib import Path


PACKED = ": the dense layers on the real tokens where a batch is 1/8 or more padding"
UNPACKED = ": every padded position computed, as the peer does"


def packing_note(settings: dict) -> str:
    """What the token_packing setting means for our side."""
    return {"false": UNPACKED, "both": f" (ours{PACKED}; no packing{UNPACKED})"}.get(
        settings.get("token_packing"), PACKED)


def variants(settings: dict) -> list:
    """Ours' runs per row: (key in the row, run folder suffix, column label)."""
    packing = settings.get("token_packing", "true")
    if packing == "both":
        return [("ours", "", "ours"), ("ours_unpacked", "-unpacked", "no packing")]
    return [("ours", "-unpacked" if packing == "false" else "", "ours")]


def read(path: Path, default: str = "") -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return default


def jsonl(path: Path) -> list:
    out = []
    for line in read(path).splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out


def rc_file(path: Path):
    """`rc t0 t1` -> (rc, t0, t1), or None."""
    parts = read(path).split()
    if len(parts) < 3:
        return None
    try:
        return int(parts[0]), float(parts[1]), float(parts[2])
    except ValueError:
        return None


def first_error(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("error:"):
            return line[len("error:"):].strip()
    return lines[-1] if lines else ""


def short(text: str, n: int = 140) -> str:
    text = " ".join(text.split()).replace("|", "/")
    return text if len(text) <= n else text[: n - 1] + "…"


# ---- GPU samples ----------------------------------------------------------------------------------
def gpu_samples(path: Path) -> list:
    """[(unix time, util %, memory used MiB)] from nvidia-smi's csv (timestamps in local time)."""
    out = []
    for line in read(path).splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 3:
            continue
        for fmt in ("%Y/%m/%d %H:%M:%S.%f", "%Y/%m/%d %H:%M:%S"):
            try:
                t = dt.datetime.strptime(parts[0], fmt).timestamp()
                break
            except ValueError:
                t = None
        if t is None:
            continue
        try:
            util = float(parts[1])
        except ValueError:
            util = None
        try:
            mem = float(parts[2])
        except ValueError:
            mem = None
        out.append((t, util, mem))
    return out


def window_stats(samples: list, start, end) -> dict:
    if not samples or start is None or end is None:
        return {"util_mean": None, "util_samples": 0, "smi_mem_max_mib": None}
    inside = [s for s in samples if start <= s[0] <= end]
    if not inside:  # a window shorter than the sampling period: the samples around it
        inside = [s for s in samples if start - 0.25 <= s[0] <= end + 0.25]
    utils = [s[1] for s in inside if s[1] is not None]
    mems = [s[2] for s in inside if s[2] is not None]
    return {
        "util_mean": sum(utils) / len(utils) if utils else None,
        "util_samples": len(utils),
        "smi_mem_max_mib": max(mems) if mems else None,
    }


# ---- ours -----------------------------------------------------------------------------------------
def ours_run(logs: Path, size: str, prec: str, batch: int, samples: list, suffix: str = "") -> dict:
    d = logs / f"ours-{size}-{prec}-b{batch}{suffix}"
    if not d.is_dir():
        return {"status": "skipped (time budget)"}
    rc = rc_file(d / "rc")
    stderr = read(d / "stderr")
    out = {"rc": rc[0] if rc else None, "wall_s": rc[2] - rc[1] if rc else None}
    events = jsonl(d / "metrics.jsonl")
    train = sorted((e for e in events if e.get("event") == "train"), key=lambda e: e.get("step", 0))
    if rc is None:
        out["status"] = "did not finish"
    elif rc[0] == 0:
        out["status"] = "ok"
    elif rc[0] == 2 and any(line.startswith("error:") for line in stderr.splitlines()):
        out["status"] = "refused: " + first_error(stderr)
    elif rc[0] in (124, 137):
        out["status"] = f"timed out after {out['wall_s']:.0f}s" if out["wall_s"] else "timed out"
    else:
        out["status"] = f"failed (rc {rc[0]}): " + first_error(stderr)
    if train:
        timed = train[1:] if len(train) > 1 else train
        prev = train[0]["step"] if len(train) > 1 else 0
        steps_sum, time_sum = 0.0, 0.0
        for e in timed:
            d_steps = e["step"] - prev
            prev = e["step"]
            if e.get("samples_per_second"):
                steps_sum += d_steps
                time_sum += d_steps / e["samples_per_second"]
        out["train_samples_per_s"] = steps_sum / time_sum if time_sum else None
        out["train_windows_samples_per_s"] = [e.get("samples_per_second") for e in train]
        out["timed_steps"] = int(steps_sum)
        out["warmup_included"] = len(train) == 1
        for key in ("forward_ms", "backward_ms", "optimizer_ms"):
            vals = [e[key] for e in timed if e.get(key) is not None]
            out[key] = sum(vals) / len(vals) if vals else None
        out["final_train_loss"] = train[-1].get("loss")
    evals = [e for e in events if e.get("event") == "eval" and e.get("split") == "test"]
    if evals:
        out["eval_samples_per_s"] = evals[-1].get("samples_per_second")
        out["eval_metrics"] = evals[-1].get("metrics")
    end = [e for e in events if e.get("event") == "end"]
    if end:
        out["peak_gpu_mib"] = end[-1].get("peak_gpu_mib")
        out["peak_rss_mib"] = end[-1].get("peak_rss_mib")
    # The timed window: from the first train event (end of warm-up) to the last one landing.
    trace = []
    for line in read(d / "trace").splitlines():
        parts = line.split()
        try:
            trace.append((float(parts[0]), int(parts[1])))
        except (ValueError, IndexError):
            pass
    if len(trace) >= 2:
        start, end_t = trace[0][0], trace[-1][0]
    elif rc:
        start, end_t = rc[1], rc[2]
    else:
        start = end_t = None
    out["window"] = [start, end_t]
    out.update(window_stats(samples, start, end_t))
    return out


# ---- the peer -------------------------------------------------------------------------------------
def peer_runs(logs: Path, size: str, samples: list) -> tuple:
    """({(prec, batch): result}, set of planned (prec, batch), status of the sweep)."""
    planned = set()
    for item in read(logs / f"peer-{size}.plan").replace(",", " ").split():
        prec, batch, _ = item.split(":")
        planned.add((prec, int(batch)))
    results = {}
    for r in jsonl(logs / f"peer-{size}.jsonl"):
        r = dict(r)
        r.update(window_stats(samples, r.get("t_train_start"), r.get("t_train_end")))
        results[(r.get("precision"), r.get("batch"))] = r
    rc = rc_file(logs / f"peer-{size}.rc")
    if rc is None:
        status = "skipped" if planned else "not run"
    elif rc[0] in (124, 137):
        status = f"timed out (sweep, after {rc[2] - rc[1]:.0f}s)"
    elif rc[0] != 0:
        status = f"failed (sweep rc {rc[0]}): " + first_error(read(logs / f"peer-{size}.err"))
    else:
        status = "ok"
    return results, planned, status


def train_ratio(ours: dict, peer: dict):
    """Ours' train samples/s over the peer's, when both ran."""
    if ours.get("status") == "ok" and ours.get("train_samples_per_s") and peer.get("train_samples_per_s"):
        return ours["train_samples_per_s"] / peer["train_samples_per_s"]
    return None


def target_lines(rows: list, kinds: list) -> list:
    """The issue's GPU targets, per variant of ours: train ≥ 1.3× the peer at the same precision,
    and bf16 ≥ 2× fp32 for base (each train batch)."""
    out = []
    for key, _, label in kinds:
        ratios = [(r, r[f"train_ratio_{key}_over_peer"]) for r in rows]
        ratios = [(r, x) for r, x in ratios if x is not None]
        if not ratios:
            continue
        below = [f"{r['size']} {r['precision']} b{r['batch']} {x:.2f}×" for r, x in ratios if x < 1.3]
        out.append(f"- {label} ÷ HF ≥ 1.3×: {len(ratios) - len(below)} of {len(ratios)} rows"
                   + (f"; below: {', '.join(below)}" if below else ""))
        speed = {(r["size"], r["precision"], r["batch"]): r[key].get("train_samples_per_s")
                 for r in rows if r[key].get("status") == "ok"}
        pairs = []
        for batch in sorted({r["batch"] for r in rows if r["size"] == "base"}):
            bf16, fp32 = speed.get(("base", "bf16", batch)), speed.get(("base", "fp32", batch))
            if bf16 and fp32:
                pairs.append(f"b{batch} {bf16 / fp32:.2f}×")
        if pairs:
            out.append(f"- {label}, base, bf16 ÷ fp32 train (target ≥ 2×): {', '.join(pairs)}")
    return out + [""] if out else []


# ---- formatting -----------------------------------------------------------------------------------
def num(x, digits=None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if digits is not None:
        return f"{x:.{digits}f}"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("logs", type=Path)
    p.add_argument("--md", type=Path)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    logs = args.logs

    settings = dict(line.split("=", 1) for line in read(logs / "settings.txt").splitlines() if "=" in line)
    cuda = settings.get("device", "cpu") != "cpu"
    samples = gpu_samples(logs / "gpu_util.csv") if cuda else []
    plan = []
    for line in read(logs / "plan.txt").splitlines():
        parts = line.split()
        if len(parts) == 4:
            plan.append((parts[0], parts[1], int(parts[2]), int(parts[3])))
    try:
        peer_versions = json.loads(read(logs / "peer_versions.json") or "null")
    except json.JSONDecodeError:
        peer_versions = None
    peer_error = None if peer_versions else first_error(read(logs / "peer_versions.err"))

    demo_rc = rc_file(logs / "demo" / "rc")
    demo_out = [line for line in read(logs / "demo" / "stdout").splitlines() if line.strip()]
    demo = {
        "rc": demo_rc[0] if demo_rc else None,
        "wall_s": demo_rc[2] - demo_rc[1] if demo_rc else None,
        "last_line": demo_out[-1] if demo_out else None,
        "error": first_error(read(logs / "demo" / "stderr")) if demo_rc and demo_rc[0] != 0 else None,
    }

    peers = {size: peer_runs(logs, size, samples) for size in dict.fromkeys(s for s, *_ in plan)}
    kinds = variants(settings)
    rows = []
    for size, prec, batch, steps in plan:
        results, planned, sweep_status = peers[size]
        if (prec, batch) in results:
            peer = results[(prec, batch)]
            peer["status"] = "failed: " + peer["error"] if peer.get("error") else "ok"
        elif not peer_versions:
            peer = {"status": "peer unavailable"}
        elif (prec, batch) in planned:
            peer = {"status": sweep_status if sweep_status != "ok" else "missing"}
        else:
            peer = {"status": "not run" + (" (cpu)" if not cuda else "")}
        row = {"size": size, "precision": prec, "batch": batch, "steps": steps,
               "warmup_steps": int(settings.get("logging_steps", 0) or 0), "peer": peer}
        for key, suffix, _ in kinds:
            ours = ours_run(logs, size, prec, batch, samples, suffix)
            row[key] = ours
            row[f"train_ratio_{key}_over_peer"] = train_ratio(ours, peer)
        rows.append(row)

    version = read(logs / "version.txt").strip() or ("binary failed: " + first_error(read(logs / "version.err")))
    gpu = read(logs / "gpu.txt").strip().splitlines()
    gpu = gpu[0] if gpu else "?"
    lines = [f"## gpu_check ({settings.get('device', '?')}{', quick' if settings.get('quick') == '1' else ''})", ""]
    lines.append(f"- binary: `{version}`")
    lines.append(f"- GPU: {gpu}")
    if peer_versions:
        pv = peer_versions
        lines.append(f"- HF peer: python {pv.get('python')}, torch {pv.get('torch')}, transformers "
                     f"{pv.get('transformers')}, tokenizers {pv.get('tokenizers')}"
                     + (" (from .gpu/pylib)" if ".gpu/pylib" in str(pv.get("transformers_path", "")) else ""))
    else:
        lines.append(f"- HF peer: unavailable ({short(peer_error or '?')})")
    if demo["rc"] is None:
        lines.append("- demo: did not run")
    elif demo["rc"] == 0:
        lines.append(f"- demo: ok in {demo['wall_s']:.1f}s: `{demo['last_line']}`")
    else:
        lines.append(f"- demo: FAILED (rc {demo['rc']}) after {demo['wall_s']:.1f}s: {short(demo['error'] or '')}")
    lines.append(
        f"- setup: {settings.get('train_rows', '?')} train / {settings.get('test_rows', '?')} test NSMC rows, "
        f"max_seq_len {settings.get('max_seq_len', '?')}, random batches padded to their longest row "
        f"(ours: group_by_length={settings.get('group_by_length', '?')}, "
        f"token_packing={settings.get('token_packing', '?')}{packing_note(settings)}), eval batch {settings.get('eval_batch', '?')}; "
        f"the first {settings.get('logging_steps', '?')} steps are warm-up (not timed) on both sides; "
        "HF: ElectraForSequenceClassification (eager attention), fused AdamW, autocast (fp16 + GradScaler)")
    lines.append("")
    labels = [label for _, _, label in kinds]
    lines.append("| model | precision | batch | steps | "
                 + " | ".join(f"{label} train samples/s" for label in labels) + " | HF train samples/s | "
                 + " | ".join(f"{label} ÷ HF" for label in labels) + " | "
                 + " | ".join(f"{label} eval samples/s" for label in labels) + " | HF eval samples/s "
                 f"| peak GPU MiB {' / '.join(labels)} / HF | GPU util % {' / '.join(labels)} / HF |")
    lines.append("|---|---|---:|---:|" + "---:|" * (3 * len(kinds) + 4))
    notes = {}

    def cell(status: str) -> str:
        """A status for a cell: long ones cut, their whole text as a numbered note under the table."""
        status = " ".join(status.split()).replace("|", "/")
        if len(status) <= 90:
            return status
        n = notes.setdefault(status, len(notes) + 1)
        return f"{short(status, 80)} [{n}]"

    def train_cell(o: dict) -> str:
        if o.get("status") != "ok":
            return cell(o.get("status", "?"))
        return num(o.get("train_samples_per_s")) + (" (incl. warm-up)" if o.get("warmup_included") else "")

    def mem_cell(o: dict) -> str:
        if o.get("status") == "ok" and o.get("peak_gpu_mib") is not None:
            return num(o["peak_gpu_mib"], 0)
        if o.get("status") == "ok" and o.get("smi_mem_max_mib") is not None:
            return f"~{o['smi_mem_max_mib']:.0f} (smi)"
        return "–"

    def ok_num(o: dict, key: str, digits=None) -> str:
        return num(o.get(key), digits) if o.get("status") == "ok" else "–"

    for r in rows:
        ours, h = [r[key] for key, _, _ in kinds], r["peer"]
        ratios = [f"{x:.2f}×" if (x := r[f"train_ratio_{key}_over_peer"]) else "–" for key, _, _ in kinds]
        h_mem = num(h.get("peak_gpu_mib"), 0) if h.get("status") == "ok" and cuda else "–"
        mem = " / ".join([mem_cell(o) for o in ours] + [h_mem]) if cuda else "n/a"
        util = "n/a" if not cuda else " / ".join(ok_num(o, "util_mean", 0) for o in ours + [h])
        cells = ([r["size"], r["precision"], str(r["batch"]), str(r["steps"])] + [train_cell(o) for o in ours]
                 + [train_cell(h)] + ratios + [ok_num(o, "eval_samples_per_s") for o in ours]
                 + [ok_num(h, "eval_samples_per_s"), mem, util])
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for text, n in notes.items():
        lines.append(f"[{n}] {text}  ")
    if notes:
        lines.append("")
    lines.extend(target_lines(rows, kinds))
    lines.append("Peak GPU MiB: ours from metrics.jsonl's `end` event (`~N (smi)`: nvidia-smi's memory.used, "
                 "whole process, where the event has none); HF: torch.cuda.max_memory_allocated. "
                 "GPU util: nvidia-smi's utilization.gpu averaged over each timed window.")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.md:
        args.md.write_text(table, encoding="utf-8")
    if args.json:
        status = read(logs / "status.txt").strip()
        args.json.write_text(json.dumps({
            "settings": settings, "version": version, "gpu": gpu, "peer_versions": peer_versions,
            "peer_error": peer_error, "demo": demo, "status": int(status) if status.isdigit() else status,
            "gpu_samples": len(samples), "runs": rows,
        }, indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
