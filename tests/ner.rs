//! `koelectra-ft ner` end to end on a slice of the real Naver NER file: training, the reference
//! result files with the per-type report, predictions in the input format, truncated-word scoring.
mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The first `n` sentences of ../shared/data/naver-ner/test.tsv as `<dir>/data/naver-ner/train.tsv`.
fn slice_data(dir: &Path, n: usize) -> PathBuf {
    let text = std::fs::read_to_string(root().join("../shared/data/naver-ner/test.tsv")).unwrap();
    let data = dir.join("data/naver-ner");
    std::fs::create_dir_all(&data).unwrap();
    let lines: Vec<&str> = text.lines().take(n).collect();
    std::fs::write(data.join("train.tsv"), lines.join("\n") + "\n").unwrap();
    dir.join("data")
}

fn run_ner(dir: &Path, extra: serde_json::Value) -> Output {
    let mut cfg = serde_json::json!({
        "task": "naver-ner", "data_dir": slice_data(dir, 300), "ckpt_dir": dir.join("ckpt"), "output_dir": "run",
        "train_file": "train.tsv", "dev_file": "", "test_file": "train.tsv",
        "model_type": "koelectra-small-v3", "model_name_or_path": "",
        "vocab_file": root().join("../shared/vocab/koelectra-v3-vocab.txt"),
        "model_config": {"vocab_size": 35000, "embedding_size": 32, "hidden_size": 64, "num_hidden_layers": 2,
                         "num_attention_heads": 2, "intermediate_size": 128},
        "max_seq_len": 32, "train_batch_size": 16, "eval_batch_size": 64, "learning_rate": 2e-3,
        "max_steps": 40, "logging_steps": 20, "save_steps": 20, "evaluate_test_during_training": true,
        "no_cuda": true,
    });
    for (k, v) in extra.as_object().unwrap() {
        cfg[k] = v.clone();
    }
    let path = dir.join("config.json");
    std::fs::write(&path, cfg.to_string()).unwrap();
    Command::new(env!("CARGO_BIN_EXE_koelectra-ft"))
        .args(["ner", "--task", "naver-ner", "--quiet", "--config"])
        .arg(&path)
        .output()
        .unwrap()
}

#[test]
fn ner_trains_and_writes_reference_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_ner(dir.path(), serde_json::json!({}));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // max_seq_len 32 cuts long sentences: the count is logged, and they are scored as O.
    assert!(
        stderr.contains("beyond max_seq_len 32: scored as O predictions"),
        "{stderr}"
    );
    let run = dir.path().join("ckpt/run");

    let per_eval = std::fs::read_to_string(run.join("test/test-40.txt")).unwrap();
    let lines: Vec<&str> = per_eval.lines().collect();
    assert!(
        lines[0].starts_with("  f1 = ") && lines[1].starts_with("  loss = "),
        "{per_eval}"
    );
    assert!(
        lines[2].starts_with("  precision = ") && lines[3].starts_with("  recall = "),
        "{per_eval}"
    );
    assert_eq!(lines[4], "");
    assert!(
        per_eval.contains("precision    recall  f1-score   support"),
        "{per_eval}"
    );
    assert!(per_eval.contains("weighted avg"), "{per_eval}");

    let results = std::fs::read_to_string(run.join("eval_results.txt")).unwrap();
    let keys: Vec<&str> = results.lines().map(|l| l.split(" = ").next().unwrap()).collect();
    assert_eq!(keys[..3], ["f1_20", "f1_40", "loss_20"]);

    // Predictions: the input format, same sentences and word counts in the same order.
    let gold = std::fs::read_to_string(dir.path().join("data/naver-ner/train.tsv")).unwrap();
    let pred = std::fs::read_to_string(run.join("test/predictions-40.tsv")).unwrap();
    assert_eq!(gold.lines().count(), pred.lines().count());
    for (g, p) in gold.lines().zip(pred.lines()) {
        let (gw, _) = g.split_once('\t').unwrap();
        let (pw, pt) = p.split_once('\t').unwrap();
        assert_eq!(gw, pw);
        assert_eq!(pw.split(' ').count(), pt.split(' ').count());
    }
    let events = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let losses: Vec<f64> = events
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["event"] == "train")
        .map(|e| e["loss"].as_f64().unwrap())
        .collect();
    assert!(
        losses.len() == 2 && losses[1] < losses[0],
        "training loss did not fall: {losses:?}"
    );
    let summary = read_json(&run.join("summary.json"));
    assert_eq!(
        summary["selected"]["checkpoint"], "checkpoint-40",
        "no dev split: the last checkpoint"
    );
}

/// Eval-only with the tiny fixture model and max_seq_len 16, with or without truncated-word scoring;
/// returns the per-eval file and stderr.
fn eval_truncated(score_truncated: bool) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let extra = serde_json::json!({
        "ner_score_truncated": score_truncated, "do_train": false, "max_seq_len": 16,
        "model_name_or_path": fixture("discriminator"), "model_config": null, "vocab_file": fixture("vocab.txt"),
    });
    let out = run_ner(dir.path(), extra);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (
        std::fs::read_to_string(dir.path().join("ckpt/run/test/test.txt")).unwrap(),
        stderr,
    )
}

#[test]
fn truncated_words_can_be_left_out_as_the_reference_did() {
    let support = |text: &str| -> usize {
        let line = text.lines().find(|l| l.trim_start().starts_with("micro avg")).unwrap();
        line.split_whitespace().last().unwrap().parse().unwrap()
    };
    let (reference, stderr) = eval_truncated(false);
    assert!(stderr.contains("not scored (reference)"), "{stderr}");
    let (ours, stderr) = eval_truncated(true);
    assert!(stderr.contains("scored as O predictions"), "{stderr}");
    // Gold entities beyond the cut count (as misses) only when truncated words are scored.
    assert!(support(&reference) < support(&ours), "{reference}\n{ours}");
}
