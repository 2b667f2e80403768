//! `koelectra-ft ner` end to end on the real Naver NER file (../shared/data/naver-ner/test.tsv):
//! eval-only parity with transformers, training with every result file, truncated-word scoring, and
//! bad input through the CLI.

use crate::common::*;
use koelectra_ft::tasks::ner::NAVER_NER_LABELS;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The lines of the real Naver NER file (9,000 sentences).
fn naver_lines() -> Vec<String> {
    let path = shared("data/naver-ner/test.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().map(str::to_string).collect()
}

/// Writes `files` (name, bytes) into `<dir>/data/naver-ner/` and returns `<dir>/data`.
fn write_data(dir: &Path, files: &[(&str, &[u8])]) -> PathBuf {
    let data = dir.join("data/naver-ner");
    std::fs::create_dir_all(&data).unwrap();
    for (name, bytes) in files {
        std::fs::write(data.join(name), bytes).unwrap();
    }
    dir.join("data")
}

fn joined(lines: &[String]) -> Vec<u8> {
    (lines.join("\n") + "\n").into_bytes()
}

/// A run config with a tiny random model (v3 vocab) reading `<dir>/data`, written to `<dir>/config.json`.
fn write_config(dir: &Path, extra: serde_json::Value) -> PathBuf {
    let cfg = serde_json::json!({
        "task": "naver-ner", "data_dir": dir.join("data"), "ckpt_dir": dir.join("ckpt"), "output_dir": "run",
        "train_file": "train.tsv", "dev_file": "", "test_file": "test.tsv",
        "model_type": "koelectra-small-v3", "model_name_or_path": "",
        "vocab_file": v3_vocab(),
        "model_config": tiny_model(32, 64, 2, 2),
        "max_seq_len": 32, "train_batch_size": 32, "eval_batch_size": 128, "learning_rate": 2e-3,
        "max_steps": 40, "logging_steps": 10, "save_steps": 20, "evaluate_test_during_training": true,
        "warmup_proportion": 0.0, "seed": 42, "no_cuda": true,
    });
    write_config_json(dir, &merged(cfg, extra))
}

/// Runs `koelectra-ft ner`. One intra-op thread: these models are tiny, and on the 2 shared CI cores
/// libtorch's thread pool only contends (a 3x slower run with the default).
fn run_ner(config: &Path) -> Output {
    binary()
        .env("OMP_NUM_THREADS", "1")
        .args(["ner", "--task", "naver-ner", "--quiet", "--config"])
        .arg(config)
        .output()
        .unwrap()
}

/// Runs and asserts success; returns stderr.
fn run_ok(config: &Path) -> String {
    stderr_ok(&run_ner(config))
}

/// `key = value` lines as a map of the raw value strings.
fn key_values(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.trim().split_once(" = "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// (words, tags) of a `words<TAB>tags` line, both split on whitespace.
fn words_and_tags(line: &str) -> (Vec<&str>, Vec<&str>) {
    let (w, t) = line
        .split_once('\t')
        .unwrap_or_else(|| panic!("not `words<TAB>tags`: {line:?}"));
    (w.split_whitespace().collect(), t.split_whitespace().collect())
}

/// Sentences of the parity test: the first 1,800 of the file, which include three sentences longer
/// than 126 sub-tokens at max_seq_len 128 (lines 1088, 1692 and 1758).
const PARITY_SENTENCES: usize = 1800;

/// Eval-only on a checkpoint made by transformers: the predicted tag of every kept word equals the
/// argmax of HF's logits on the reference features, the words cut off by truncation read `O`, and the
/// reported scores equal seqeval's on the predictions file.
#[test]
fn eval_only_predictions_match_transformers() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("hf-model");
    let vocab = shared("vocab/koelectra-v3-vocab.txt");
    let script = root().join("scripts/hf_ner.py");
    let status = Command::new(venv_python())
        .arg(&script)
        .args(["make-model".as_ref(), model.as_os_str(), vocab.as_os_str()])
        .status()
        .unwrap();
    assert!(status.success(), "hf_ner.py make-model failed");

    let lines = naver_lines();
    let lines = &lines[..PARITY_SENTENCES];
    write_data(dir.path(), &[("test.tsv", &joined(lines))]);
    let extra = serde_json::json!({
        "model_name_or_path": model, "vocab_file": null, "model_config": null, "do_train": false,
        "train_file": "", "max_seq_len": 128, "ner_score_truncated": false,
    });
    let stderr = run_ok(&write_config(dir.path(), extra));
    assert!(
        stderr.contains("beyond max_seq_len 128: not scored (reference)"),
        "{stderr}"
    );
    let run = dir.path().join("ckpt/run");
    let ours = std::fs::read_to_string(run.join("test/predictions.tsv")).unwrap();
    let ours: Vec<&str> = ours.lines().collect();
    assert_eq!(ours.len(), lines.len());

    let tsv = dir.path().join("data/naver-ner/test.tsv");
    let out = Command::new(venv_python())
        .arg(&script)
        .args([
            "predict".as_ref(),
            model.as_os_str(),
            tsv.as_os_str(),
            "128".as_ref(),
            PARITY_SENTENCES.to_string().as_ref(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "hf_ner.py predict failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hf: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(hf.len(), lines.len());

    // HF's near-ties (best and second-best logit closer than 1e-4) may flip on float noise.
    const TIE: f64 = 1e-4;
    let (mut compared, mut mismatches, mut near_ties, mut tie_flips, mut cut_words) = (0, vec![], 0, 0, 0);
    let (mut gold_scored, mut pred_scored) = (vec![], vec![]);
    let mut predicted_tags = std::collections::BTreeSet::new();
    for (i, ((line, ours), hf)) in lines.iter().zip(&ours).zip(&hf).enumerate() {
        let (words, gold) = words_and_tags(line);
        let (our_words, our_tags) = words_and_tags(ours);
        assert_eq!(our_words, words, "sentence {i}: words differ");
        assert_eq!(our_tags.len(), words.len(), "sentence {i}: one tag per word");
        let hf_tags: Vec<&str> = hf["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        let margins: Vec<f64> = hf["margins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_f64().unwrap())
            .collect();
        let kept = hf_tags.len();
        assert!(kept >= 1 && kept <= words.len(), "sentence {i}: {kept} kept words");
        for (k, ((ours, theirs), margin)) in our_tags.iter().zip(&hf_tags).zip(&margins).enumerate() {
            compared += 1;
            near_ties += usize::from(*margin < TIE);
            tie_flips += usize::from(*margin < TIE && ours != theirs);
            if ours != theirs && *margin >= TIE {
                mismatches.push(format!(
                    "sentence {i} word {k}: ours {ours}, HF {theirs} (margin {margin:.2e})"
                ));
            }
            predicted_tags.insert(ours.to_string());
        }
        // Words beyond the truncation are not predicted: `O` in our file.
        cut_words += words.len() - kept;
        assert!(
            our_tags[kept..].iter().all(|t| *t == "O"),
            "sentence {i}: words after the cut must read O: {ours}"
        );
        gold_scored.push(gold[..kept].to_vec());
        pred_scored.push(our_tags[..kept].to_vec());
    }
    assert!(
        mismatches.is_empty(),
        "{} of {compared} words differ from transformers, first ones:\n{}",
        mismatches.len(),
        mismatches[..mismatches.len().min(20)].join("\n")
    );
    assert!(cut_words > 0, "the slice should contain truncated sentences");
    // The tool cut as many words as the reference features did.
    assert!(
        stderr.contains(&format!("test: {cut_words} word(s) beyond max_seq_len 128")),
        "{stderr}"
    );
    assert!(
        predicted_tags.len() >= 10,
        "the model should predict many different tags: {predicted_tags:?}"
    );

    // The reported scores are seqeval's on the predictions file (kept words only: the reference).
    let scores = koelectra_ft::tasks::ner::seqeval::score(&gold_scored, &pred_scored).unwrap();
    let results = key_values(&std::fs::read_to_string(run.join("eval_results.txt")).unwrap());
    let py = koelectra_ft::text::python::format_py_float;
    assert_eq!(results["f1"], py(scores.f1));
    assert_eq!(results["precision"], py(scores.precision));
    assert_eq!(results["recall"], py(scores.recall));
    let per_eval = std::fs::read_to_string(run.join("test/test.txt")).unwrap();
    assert!(
        per_eval.starts_with(&format!("  f1 = {}\n", py(scores.f1))),
        "{per_eval}"
    );
    // The reference's loss: the mean over input-order batches of eval_batch_size (128) of each
    // batch's mean token loss (we run length-sorted batches and rebuild exactly this mean).
    let batch_means: Vec<f64> = hf
        .chunks(128)
        .map(|batch| {
            let sum: f64 = batch.iter().map(|s| s["loss_sum"].as_f64().unwrap()).sum();
            let count: usize = batch.iter().map(|s| s["tags"].as_array().unwrap().len()).sum();
            sum / count as f64
        })
        .collect();
    let hf_loss = batch_means.iter().sum::<f64>() / batch_means.len() as f64;
    let our_loss: f64 = results["loss"].parse().unwrap();
    assert!(
        (our_loss - hf_loss).abs() < 1e-5 * hf_loss,
        "eval loss {our_loss}, transformers (reference batches) {hf_loss}"
    );
    eprintln!(
        "ner eval-only vs transformers: {} sentences, {compared} words compared, {} mismatches, \
         {near_ties} near-ties (< {TIE:e}, {tie_flips} flipped), {cut_words} words cut off, {} tags predicted, f1 {}, loss {our_loss} (reference {hf_loss})",
        lines.len(),
        mismatches.len(),
        predicted_tags.len(),
        py(scores.f1)
    );
}

/// Trains a tiny random model on the first 8,000 sentences for 40 steps and evaluates on the last
/// 1,000: every output file, the reference per-eval layout and key order, predictions in the input
/// format, and a falling training loss.
#[test]
fn trains_on_real_data_and_writes_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let lines = naver_lines();
    assert_eq!(lines.len(), 9000);
    let (train, test) = (&lines[..8000], &lines[8000..]);
    write_data(
        dir.path(),
        &[("train.tsv", &joined(train)), ("test.tsv", &joined(test))],
    );
    let stderr = run_ok(&write_config(dir.path(), serde_json::json!({})));
    // max_seq_len 32 cuts long sentences: the count is logged, and they are scored as O.
    assert!(
        stderr.contains("beyond max_seq_len 32: scored as O predictions"),
        "{stderr}"
    );
    let run = dir.path().join("ckpt/run");
    for file in [
        "checkpoint-20/model.safetensors",
        "checkpoint-40/model.safetensors",
        "checkpoint-40/config.json",
        "checkpoint-40/vocab.txt",
        "checkpoint-40/training_args.json",
        "test/test-20.txt",
        "test/test-40.txt",
        "test/predictions-20.tsv",
        "test/predictions-40.tsv",
        "eval_results.txt",
        "metrics.jsonl",
        "summary.json",
    ] {
        assert!(run.join(file).is_file(), "{file} is missing");
    }
    let config = read_json(&run.join("checkpoint-40/config.json"));
    assert_eq!(config["architectures"][0], "ElectraForTokenClassification");
    assert_eq!(config["id2label"]["0"], "O");
    assert_eq!(config["id2label"]["28"], "TRM-I");

    // The reference per-eval file: the four metrics (sorted keys), a blank line, the per-type report.
    let per_eval = std::fs::read_to_string(run.join("test/test-40.txt")).unwrap();
    let head: Vec<&str> = per_eval.lines().take(5).collect();
    for (line, key) in head.iter().zip(["f1", "loss", "precision", "recall"]) {
        assert!(line.starts_with(&format!("  {key} = ")), "{per_eval}");
    }
    assert_eq!(head[4], "", "{per_eval}");
    assert!(
        per_eval.contains("precision    recall  f1-score   support"),
        "{per_eval}"
    );
    for row in ["micro avg", "macro avg", "weighted avg"] {
        assert!(per_eval.contains(row), "{row} missing:\n{per_eval}");
    }
    let type_rows = per_eval
        .lines()
        .filter(|l| {
            let name = l.split_whitespace().next().unwrap_or("");
            l.split_whitespace().count() == 5 && name.len() == 3 && name.chars().all(|c| c.is_ascii_uppercase())
        })
        .count();
    assert!(type_rows >= 10, "few entity types in the report:\n{per_eval}");

    // eval_results.txt: grouped by metric, in step order.
    let results = std::fs::read_to_string(run.join("eval_results.txt")).unwrap();
    let keys: Vec<&str> = results.lines().map(|l| l.split(" = ").next().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "f1_20",
            "f1_40",
            "loss_20",
            "loss_40",
            "precision_20",
            "precision_40",
            "recall_20",
            "recall_40"
        ],
        "{results}"
    );

    // Predictions: the input format, same sentences and word counts in the same order, known tags.
    let pred = std::fs::read_to_string(run.join("test/predictions-40.tsv")).unwrap();
    assert_eq!(pred.lines().count(), test.len());
    for (g, p) in test.iter().zip(pred.lines()) {
        let (gw, _) = words_and_tags(g);
        let (pw, pt) = words_and_tags(p);
        assert_eq!(gw, pw);
        assert_eq!(pw.len(), pt.len(), "{p}");
        assert!(pt.iter().all(|t| NAVER_NER_LABELS.contains(t)), "{p}");
    }

    let events: Vec<serde_json::Value> = std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let losses: Vec<f64> = events
        .iter()
        .filter(|e| e["event"] == "train")
        .map(|e| e["loss"].as_f64().unwrap())
        .collect();
    assert_eq!(losses.len(), 4, "{losses:?}");
    assert!(losses[3] < 0.8 * losses[0], "training loss did not fall: {losses:?}");
    let evals: Vec<&serde_json::Value> = events.iter().filter(|e| e["event"] == "eval").collect();
    assert!(
        evals.iter().any(|e| e["step"] == 40 && e["split"] == "test"),
        "{events:?}"
    );
    let summary = read_json(&run.join("summary.json"));
    assert_eq!(
        summary["selected"]["checkpoint"], "checkpoint-40",
        "no dev split: the last checkpoint"
    );
    assert!(summary["selected"]["test"]["f1"].is_f64(), "{summary}");
    eprintln!(
        "ner training: {} train / {} test sentences, train losses {losses:?}, test f1 at 40 {}",
        train.len(),
        test.len(),
        summary["selected"]["test"]["f1"]
    );
}

/// Eval-only with the tiny fixture model and max_seq_len 16 on 300 sentences, with or without
/// truncated-word scoring; returns the per-eval file and stderr.
fn eval_truncated(score_truncated: bool) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    write_data(dir.path(), &[("test.tsv", &joined(&naver_lines()[..300]))]);
    let extra = serde_json::json!({
        "ner_score_truncated": score_truncated, "do_train": false, "train_file": "", "max_seq_len": 16,
        "model_name_or_path": fixture("discriminator"), "model_config": null, "vocab_file": fixture("vocab.txt"),
    });
    let stderr = run_ok(&write_config(dir.path(), extra));
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

/// Bad train or test files: non-zero exit, exactly one `error:` line naming the file and line, and no
/// output directory.
#[test]
fn bad_input_gives_one_line_errors_and_no_output_dir() {
    let good = "이순신은 조선 중기의 무신이다 .\tPER-B O DAT-B O O\n";
    let cases: Vec<(&str, &str, Vec<u8>, Vec<&str>)> = vec![
        (
            "missing tab",
            "train.tsv",
            format!("{good}이순신은 조선 PER-B O\n").into_bytes(),
            vec!["train.tsv:2", "tab"],
        ),
        (
            "three fields",
            "train.tsv",
            format!("{good}{good}a\tO\tO\n").into_bytes(),
            vec!["train.tsv:3", "found 3"],
        ),
        (
            "count mismatch",
            "train.tsv",
            format!("{good}{good}이순신은 조선 중기의\tPER-B O\n").into_bytes(),
            vec!["train.tsv:3", "3 words but 2 tags"],
        ),
        (
            "unknown tag",
            "train.tsv",
            format!("{good}이순신은 조선\tB-PER O\n").into_bytes(),
            vec!["train.tsv:2", "B-PER", "\"이순신은\""],
        ),
        (
            "unknown tag in the test file",
            "test.tsv",
            format!("{good}{good}이순신은 조선\tPER_B O\n").into_bytes(),
            vec!["test.tsv:3", "PER_B"],
        ),
        (
            "blank line inside",
            "train.tsv",
            format!("{good}\n{good}").into_bytes(),
            vec!["train.tsv:2", "empty line"],
        ),
        ("empty file", "train.tsv", vec![], vec!["train.tsv", "empty"]),
        (
            "only blank lines",
            "train.tsv",
            b"\n \n\n".to_vec(),
            vec!["train.tsv", "empty"],
        ),
        (
            "non-UTF-8",
            "train.tsv",
            [good.as_bytes(), good.as_bytes(), b"\xc0\xb1\xb9\xe6\tO\n"].concat(),
            vec!["train.tsv:3", "UTF-8"],
        ),
        ("missing file", "absent.tsv", vec![], vec!["absent.tsv"]),
    ];
    for (name, file, bytes, needles) in cases {
        let dir = tempfile::tempdir().unwrap();
        let good_file = good.repeat(3).into_bytes();
        let mut files: Vec<(&str, &[u8])> = vec![("train.tsv", &good_file), ("test.tsv", &good_file)];
        if file == "absent.tsv" {
            files.truncate(1);
        } else {
            files.retain(|(f, _)| *f != file);
            files.push((file, &bytes));
        }
        write_data(dir.path(), &files);
        let test_file = if file == "absent.tsv" { "absent.tsv" } else { "test.tsv" };
        let out = run_ner(&write_config(dir.path(), serde_json::json!({"test_file": test_file})));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}: should fail");
        assert_eq!(out.status.code(), Some(1), "{name}: bad data exits 1: {stderr}");
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{name}: {stderr}");
        for needle in needles {
            assert!(errors[0].contains(needle), "{name}: {:?} lacks {needle:?}", errors[0]);
        }
        assert!(
            !dir.path().join("ckpt/run").exists(),
            "{name}: an output directory was left behind"
        );
    }
}
