#!/usr/bin/env python3
"""End to end for the benchmark's other rows: every non-HanBERT baseline reference config
(configs/<task>/{kobert,distilkobert,xlm-roberta}.json, 8 tasks x 3 = 24) runs unchanged on a tiny
stand-in model of its family, for 2 optimisation steps plus evaluation, on real slices of ../shared/data.

Run from the repo root after `cargo build --release` (scripts/test.sh runs it after the Rust tests):

    .venv/bin/python scripts/families_e2e.py [--bin target/release/koelectra-ft] [--keep DIR] [--only TASK/FAMILY]

The stand-ins are what the hub serves, shrunk: `BertModel` for monologg/kobert, `DistilBertModel` for
monologg/distilkobert, `XLMRobertaForMaskedLM` for xlm-roberta-base (all saved by transformers as
`pytorch_model.bin` + config.json), with the SentencePiece tokenizer fixtures of tests/fixtures/sp/
(KoBERT's `tokenizer_78b3253a26.model` + vocab.txt; XLM-R's sentencepiece.bpe.model + tokenizer.json).
Each run only overrides where things are (data_dir, ckpt_dir, model_name_or_path) and its length
(max_steps=2, save_steps=2, logging_steps=2). Checked per run: exit 0, a summary.json with the test
split's metrics, that transformers' AutoModelFor*.from_pretrained reads the saved checkpoint back
with no missing or unexpected weights, and that `koelectra-ft predict` answers one input from it. One line per run, then a summary; exit 1 if any run failed.

Two more runs use XLM-R's slow tokenizer (`--set xlmr_slow_tokenizer=true`, on nsmc and korquad): the
run and `predict` on its checkpoint must both say that they tokenize with it.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import torch  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForQuestionAnswering,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    BertConfig,
    BertModel,
    DistilBertConfig,
    DistilBertModel,
    XLMRobertaConfig,
    XLMRobertaForMaskedLM,
    XLMRobertaTokenizerFast,
)

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
SP = ROOT / "tests" / "fixtures" / "sp"
FAMILIES = ["kobert", "distilkobert", "xlm-roberta"]
TASKS = {  # task -> (subcommand, AutoModel class)
    "nsmc": ("seq-cls", AutoModelForSequenceClassification),
    "kornli": ("seq-cls", AutoModelForSequenceClassification),
    "paws": ("seq-cls", AutoModelForSequenceClassification),
    "question-pair": ("seq-cls", AutoModelForSequenceClassification),
    "korsts": ("seq-cls", AutoModelForSequenceClassification),
    "hate-speech": ("seq-cls", AutoModelForSequenceClassification),
    "naver-ner": ("ner", AutoModelForTokenClassification),
    "korquad": ("squad", AutoModelForQuestionAnswering),
}
TINY = dict(hidden=32, layers=2, heads=4, intermediate=48)


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def write(path: Path, rows: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(rows), encoding="utf-8")


def tsv_slices(src: Path, header: bool, parts: dict[str, tuple[int, int]], out: Path) -> None:
    """Disjoint row ranges [a, b) of `src` (after its header), each written with the header."""
    rows = lines(src)
    head, body = (rows[:1], rows[1:]) if header else ([], rows)
    for name, (a, b) in parts.items():
        write(out / name, head + body[a:b])


def make_data(data: Path) -> None:
    """Real rows of ../shared/data under the file names the reference configs expect. Where the
    shared folder has no training split, the training slice comes from another split's rows, disjoint
    from the evaluated ones."""
    tsv_slices(SHARED / "nsmc/ratings_test.txt", True,
               {"ratings_train.txt": (0, 64), "ratings_test.txt": (1000, 1040)}, data / "nsmc")
    tsv_slices(SHARED / "kornli/xnli.dev.ko.tsv", True,
               {"multinli.train.ko.tsv": (0, 64), "xnli.dev.ko.tsv": (100, 132)}, data / "kornli")
    tsv_slices(SHARED / "kornli/xnli.test.ko.tsv", True, {"xnli.test.ko.tsv": (0, 32)}, data / "kornli")
    tsv_slices(SHARED / "paws/dev_2k.tsv", True,
               {"translated_train.tsv": (0, 64), "dev_2k.tsv": (100, 132)}, data / "paws")
    tsv_slices(SHARED / "paws/test_2k.tsv", True, {"test_2k.tsv": (0, 32)}, data / "paws")
    for name, (a, b) in {"train.tsv": (0, 64), "dev.tsv": (0, 32), "test.tsv": (0, 32)}.items():
        tsv_slices(SHARED / "question-pair" / name, True, {name: (a, b)}, data / "question-pair")
    for name in ["sts-train.tsv", "sts-dev.tsv", "sts-test.tsv"]:
        tsv_slices(SHARED / "korsts" / name, True, {name: (0, 64 if "train" in name else 32)}, data / "korsts")
    tsv_slices(SHARED / "hate-speech/train.tsv", True, {"train.tsv": (0, 64)}, data / "hate-speech")
    tsv_slices(SHARED / "hate-speech/val.tsv", True, {"val.tsv": (0, 32)}, data / "hate-speech")
    tsv_slices(SHARED / "naver-ner/test.tsv", False,
               {"train.tsv": (0, 64), "test.tsv": (1000, 1032)}, data / "naver-ner")
    squad = json.loads((SHARED / "korquad/KorQuAD_v1.0_dev.json").read_text(encoding="utf-8"))
    articles = squad["data"]

    def subset(article, n_par, n_q):
        pars = [dict(p, qas=p["qas"][:n_q]) for p in article["paragraphs"][:n_par]]
        return dict(article, paragraphs=pars)

    (data / "korquad").mkdir(parents=True, exist_ok=True)
    for name, article in [("KorQuAD_v1.0_train.json", articles[0]), ("KorQuAD_v1.0_dev.json", articles[1])]:
        doc = {"version": squad["version"], "data": [subset(article, 2, 3)]}
        (data / "korquad" / name).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def vocab_lines(path: Path) -> list[str]:
    return [line.rstrip("\n") for line in path.open(encoding="utf-8")]


def make_models(models: Path) -> dict[str, Path]:
    """The three stand-ins, random weights (seed 0), tokenizer files from tests/fixtures/sp/."""
    torch.manual_seed(0)
    t = TINY
    out = {}
    kobert_tok = SP / "kobert"
    vocab = vocab_lines(kobert_tok / "vocab.txt")
    n, pad = len(vocab), vocab.index("[PAD]")
    bert = BertConfig(vocab_size=n, hidden_size=t["hidden"], num_hidden_layers=t["layers"],
                      num_attention_heads=t["heads"], intermediate_size=t["intermediate"],
                      max_position_embeddings=512, pad_token_id=pad)
    distil = DistilBertConfig(vocab_size=n, dim=t["hidden"], n_layers=t["layers"], n_heads=t["heads"],
                              hidden_dim=t["intermediate"], max_position_embeddings=512, pad_token_id=pad)
    xlmr_tok = SP / "xlmr"
    n_xlmr = len(XLMRobertaTokenizerFast.from_pretrained(xlmr_tok))
    xlmr = XLMRobertaConfig(vocab_size=n_xlmr, hidden_size=t["hidden"], num_hidden_layers=t["layers"],
                            num_attention_heads=t["heads"], intermediate_size=t["intermediate"],
                            max_position_embeddings=514, type_vocab_size=1, pad_token_id=1,
                            bos_token_id=0, eos_token_id=2)
    for family, model, tok in [("kobert", BertModel(bert), kobert_tok),
                               ("distilkobert", DistilBertModel(distil), kobert_tok),
                               ("xlm-roberta", XLMRobertaForMaskedLM(xlmr), xlmr_tok)]:
        d = models / family
        model.save_pretrained(d, safe_serialization=False)
        for f in tok.iterdir():
            if f.is_file():
                shutil.copy(f, d / f.name)
        out[family] = d
    return out


def check_reload(auto_cls, checkpoint: Path) -> str:
    """transformers reads our checkpoint back: no missing, unexpected or mismatched weights."""
    _, info = auto_cls.from_pretrained(checkpoint, output_loading_info=True)
    bad = {k: v for k, v in info.items() if v}
    return "" if not bad else f"from_pretrained({checkpoint.name}): {bad}"


PAIR_TASKS = {"kornli", "paws", "question-pair", "korsts"}
PREDICT_INPUT = {  # one input line per subcommand, in `predict`'s format
    "seq-cls": "영화가 정말 재미있었어요\n",
    "seq-cls pair": "그는 학교에 갔다.\t그는 집에 있었다.\n",
    "ner": "송인영은 5년 근화 여자 중학교 에 다녔다\n",
    "squad": "임종석이 여의도 농민 폭력 시위를 주도한 혐의로 지명수배 된 날은?\t1989년 2월 15일 여의도 농민 폭력 "
             "시위를 주도한 혐의로 지명수배되었다.\n",
}


SLOW_TOKENIZER_LOG = "tokenizer: XLMRobertaTokenizer (slow"


def check_predict(binary: Path, task: str, checkpoint: Path, env: dict, slow: bool) -> str:
    """`predict` reads the checkpoint (model and tokenizer) and answers one line of JSON; a run trained
    with XLM-R's slow tokenizer is predicted with it too."""
    sub = TASKS[task][0]
    line = PREDICT_INPUT[f"{sub} pair" if task in PAIR_TASKS else sub]
    proc = subprocess.run([str(binary), "predict", "--model", str(checkpoint), "--device", "cpu"],
                          input=line, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    out = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or len(out) != 1:
        err = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        return f"predict exit {proc.returncode}, {len(out)} lines: {' | '.join(err)}"
    try:
        json.loads(out[0])
    except ValueError:
        return f"predict printed no JSON: {out[0][:200]}"
    if slow and SLOW_TOKENIZER_LOG not in proc.stderr:
        return "predict did not use the slow XLM-R tokenizer the run was trained with"
    return ""


def run_one(binary: Path, task: str, family: str, model: Path, data: Path, work: Path,
            slow: bool = False) -> tuple[bool, str]:
    sub, auto_cls = TASKS[task]
    ckpt = work / f"{task}-{family}{'-slow' if slow else ''}"
    cmd = [str(binary), sub, "--task", task, "--config", f"configs/{task}/{family}.json", "--device", "cpu",
           "--quiet", "--set", f"data_dir={data}", "--set", f"ckpt_dir={ckpt}", "--set",
           f"model_name_or_path={model}", "--set", "max_steps=2", "--set", "save_steps=2", "--set",
           "logging_steps=2"] + (["--set", "xlmr_slow_tokenizer=true"] if slow else [])
    env = dict(os.environ, KOELECTRA_FT_CACHE="off", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        err = [line for line in proc.stderr.splitlines() if line.startswith("error:")] or proc.stderr.splitlines()[-3:]
        return False, f"exit {proc.returncode}: {' | '.join(err)}"
    if slow and SLOW_TOKENIZER_LOG not in proc.stderr:
        return False, "the run did not log the slow XLM-R tokenizer"
    summaries = list(ckpt.glob("*/summary.json"))
    if len(summaries) != 1:
        return False, f"expected one summary.json under {ckpt}, found {len(summaries)}"
    summary = json.loads(summaries[0].read_text(encoding="utf-8"))
    test = (summary.get("selected") or {}).get("test") or {}
    if not test:
        return False, f"{summaries[0]}: no test metrics"
    checkpoint = summaries[0].parent / "checkpoint-2"
    problem = check_reload(auto_cls, checkpoint)
    if problem:
        return False, problem
    problem = check_predict(binary, task, checkpoint, env, slow)
    if problem:
        return False, problem
    headline = ["acc", "f1", "spearmanr", "official_exact_match", "official_f1"]
    shown = ", ".join(f"{k} {test[k]:.4f}" for k in headline if isinstance(test.get(k), (int, float)))
    return True, shown


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target/release/koelectra-ft"))
    ap.add_argument("--keep", help="work in this folder and keep it (default: a temporary one)")
    ap.add_argument("--only", action="append", default=[], help="TASK/FAMILY (repeatable)")
    args = ap.parse_args()
    binary = Path(args.bin)
    if not binary.is_file():
        print(f"families_e2e: {binary} is missing: cargo build --release first", file=sys.stderr)
        return 2
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="families_e2e."))
    work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    make_data(work / "data")
    models = make_models(work / "models")
    failures = 0
    runs = 0
    for family in FAMILIES:
        for task in TASKS:
            if args.only and f"{task}/{family}" not in args.only:
                continue
            t0 = time.time()
            ok, what = run_one(binary, task, family, models[family], work / "data", work / "runs")
            runs += 1
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {task}/{family}.json ({time.time() - t0:.1f}s): {what}", flush=True)
    slow_runs = 0
    for task in ("nsmc", "korquad"):
        if args.only and f"{task}/xlm-roberta" not in args.only:
            continue
        t0 = time.time()
        ok, what = run_one(binary, task, "xlm-roberta", models["xlm-roberta"], work / "data", work / "runs", slow=True)
        slow_runs += 1
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {task}/xlm-roberta.json + xlmr_slow_tokenizer ({time.time() - t0:.1f}s): "
              f"{what}", flush=True)
    print(f"families_e2e: {runs + slow_runs - failures} of {runs + slow_runs} runs ended well ({runs} reference "
          f"configs, {slow_runs} with xlmr_slow_tokenizer) in {time.time() - started:.0f}s"
          + (f" (work folder {work})" if args.keep else ""))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
