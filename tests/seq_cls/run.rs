//! `koelectra-ft seq-cls` end to end on the real files in ../shared/data: training, result files,
//! resume, eval-only parity with transformers, and bad input.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A run config for `task` with a tiny random model (v3 vocab), written to `dir/config.json`.
fn write_config(dir: &Path, task: &str, extra: serde_json::Value) -> PathBuf {
    let cfg = serde_json::json!({
        "task": task,
        "data_dir": shared("data"),
        "ckpt_dir": dir.join("ckpt"),
        "output_dir": "run",
        "model_type": "koelectra-small-v3",
        "model_name_or_path": "",
        "vocab_file": v3_vocab(),
        "model_config": tiny_model(32, 64, 2, 2),
        "max_seq_len": 64, "train_batch_size": 16, "eval_batch_size": 128, "learning_rate": 1e-3,
        "num_train_epochs": 1, "max_steps": 30, "logging_steps": 10, "save_steps": 10, "seed": 42,
        "warmup_proportion": 0.0, "weight_decay": 0.0, "adam_epsilon": 1e-8, "max_grad_norm": 1.0,
        "gradient_accumulation_steps": 1, "do_train": true, "do_eval": true, "no_cuda": true,
        "evaluate_test_during_training": false, "eval_all_checkpoints": true, "save_optimizer": false,
        "do_lower_case": false,
    });
    write_config_json(dir, &merged(cfg, extra))
}

fn run_cli(task: &str, config: &Path) -> Output {
    cli(task, config).output().unwrap()
}

fn cli(task: &str, config: &Path) -> Command {
    let mut command = binary();
    command
        .args(["seq-cls", "--task", task, "--config"])
        .arg(config)
        .arg("--quiet");
    command
}

/// Bit-exact resume is promised on one thread: libtorch's multi-threaded CPU kernels now and then
/// round differently in a fresh process (README, "Resuming").
fn run_cli_one_thread(task: &str, config: &Path) -> Output {
    cli(task, config).env("OMP_NUM_THREADS", "1").output().unwrap()
}

fn train_losses(run: &Path) -> Vec<f64> {
    let events = read_jsonl(&run.join("metrics.jsonl"));
    events
        .iter()
        .filter(|e| e["event"] == "train")
        .map(|e| e["loss"].as_f64().unwrap())
        .collect()
}

fn train_and_check(task: &str, train: &str, dev: &str, test: &str, metric: &str) {
    let dir = tempfile::tempdir().unwrap();
    let extra = serde_json::json!({"train_file": train, "dev_file": dev, "test_file": test});
    stderr_ok(&run_cli(task, &write_config(dir.path(), task, extra)));
    let run = dir.path().join("ckpt/run");
    for file in [
        "checkpoint-10/model.safetensors",
        "checkpoint-30/config.json",
        "checkpoint-30/vocab.txt",
        "checkpoint-30/training_args.json",
        "dev/dev-10.txt",
        "test/test-30.txt",
        "test/predictions-30.jsonl",
        "eval_results.txt",
        "metrics.jsonl",
        "summary.json",
    ] {
        assert!(run.join(file).is_file(), "{task}: {file} is missing");
    }
    let losses = train_losses(&run);
    assert_eq!(losses.len(), 3);
    assert!(losses[2] < losses[0], "{task}: training loss did not fall: {losses:?}");
    let results = std::fs::read_to_string(run.join("eval_results.txt")).unwrap();
    let keys: Vec<&str> = results.lines().map(|l| l.split(" = ").next().unwrap()).collect();
    assert!(keys.contains(&format!("{metric}_30").as_str()), "{results}");
    let summary = read_json(&run.join("summary.json"));
    assert!(summary["selected"]["test"][metric].is_f64(), "{summary}");
    let test_rows = read_jsonl(&run.join("test/predictions-30.jsonl"));
    assert_eq!(test_rows[0]["guid"], "test-0");
}

#[test]
fn question_pair_trains_end_to_end() {
    train_and_check("question-pair", "train.tsv", "dev.tsv", "test.tsv", "acc");
}

#[test]
fn korsts_trains_end_to_end() {
    train_and_check("korsts", "sts-train.tsv", "sts-dev.tsv", "sts-test.tsv", "spearmanr");
}

#[test]
fn resumed_run_reaches_the_same_weights() {
    let dir = tempfile::tempdir().unwrap();
    let base = serde_json::json!({
        "train_file": "dev.tsv", "dev_file": "", "test_file": "test.tsv", "max_steps": 8,
        "logging_steps": 4, "save_steps": 4, "save_optimizer": true, "do_eval": false,
        "warmup_proportion": 0.2, "weight_decay": 0.01,
    });
    let a = dir.path().join("a");
    std::fs::create_dir_all(&a).unwrap();
    stderr_ok(&run_cli_one_thread(
        "question-pair",
        &write_config(&a, "question-pair", base.clone()),
    ));
    let b = dir.path().join("b");
    std::fs::create_dir_all(&b).unwrap();
    let mut resumed = base;
    resumed["model_name_or_path"] = a.join("ckpt/run/checkpoint-4").to_string_lossy().into();
    stderr_ok(&run_cli_one_thread(
        "question-pair",
        &write_config(&b, "question-pair", resumed),
    ));
    let load = |p: &Path| {
        let mut t = tch::Tensor::read_safetensors(p.join("ckpt/run/checkpoint-8/model.safetensors")).unwrap();
        t.sort_by(|a, b| a.0.cmp(&b.0));
        t
    };
    let (wa, wb) = (load(&a), load(&b));
    assert_eq!(wa.len(), wb.len());
    for ((na, ta), (nb, tb)) in wa.iter().zip(&wb) {
        assert_eq!(na, nb);
        assert!(max_abs_diff(ta, tb) == 0.0, "{na} differs after resume");
    }
    assert_eq!(
        train_losses(&a.join("ckpt/run")).last(),
        train_losses(&b.join("ckpt/run")).last()
    );
}

#[test]
fn existing_checkpoints_are_refused_unless_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let extra = serde_json::json!({"train_file": "dev.tsv", "dev_file": "", "test_file": "test.tsv",
                                   "max_steps": 2, "do_eval": true});
    let config = write_config(dir.path(), "question-pair", extra.clone());
    stderr_ok(&run_cli("question-pair", &config));
    let again = run_cli("question-pair", &config);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("overwrite_output_dir"));
    // The first run evaluated checkpoint 2 on the test split and saved checkpoint 2; the second saves
    // checkpoint 3. Files the user keeps in the run folder (even in `test/` and `runs/`) must survive.
    let run = dir.path().join("ckpt/run");
    let old_results = std::fs::read_to_string(run.join("eval_results.txt")).unwrap();
    let user_files = ["notes.md", "src/main.rs", "test/test_data.py", "runs/my-log.txt"];
    for name in user_files {
        std::fs::create_dir_all(run.join(name).parent().unwrap()).unwrap();
        std::fs::write(run.join(name), name).unwrap();
    }
    let mut overwrite = extra;
    overwrite["overwrite_output_dir"] = true.into();
    overwrite["max_steps"] = 3.into();
    let out = run_cli("question-pair", &write_config(dir.path(), "question-pair", overwrite));
    let stderr = stderr_ok(&out);
    for name in user_files {
        assert_eq!(std::fs::read_to_string(run.join(name)).unwrap(), name, "{name}");
    }
    assert!(
        stderr.contains(&format!(
            "kept 4 entries of {} that a run does not write: notes.md, runs/my-log.txt, src, test/test_data.py",
            run.display()
        )),
        "{stderr}"
    );
    assert!(!run.join("checkpoint-2").exists() && run.join("checkpoint-3").is_dir());
    assert!(!run.join("test/test-2.txt").exists() && run.join("test/test-3.txt").is_file());
    let events = read_jsonl(&run.join("metrics.jsonl"));
    let evals: Vec<&serde_json::Value> = events.iter().filter(|e| e["event"] == "eval").collect();
    assert!(!evals.is_empty() && evals.iter().all(|e| e["step"] == 3), "{events:?}");
    assert_ne!(
        std::fs::read_to_string(run.join("eval_results.txt")).unwrap(),
        old_results
    );
    let event_files = std::fs::read_dir(run.join("runs")).unwrap().count();
    assert_eq!(
        event_files, 2,
        "the earlier run's event file is gone, the user's file stays"
    );
}

/// Eval-only on a checkpoint made by transformers: the predictions' logits equal HF's and the
/// reported accuracy equals the one computed from the predictions file.
#[test]
fn kornli_eval_only_matches_transformers() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("hf-model");
    let vocab = shared("vocab/koelectra-v3-vocab.txt");
    let status = Command::new(venv_python())
        .arg(root().join("scripts/hf_seq_cls.py"))
        .args([
            "make-model".as_ref(),
            model.as_os_str(),
            vocab.as_os_str(),
            "3".as_ref(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let extra = serde_json::json!({
        "model_name_or_path": model, "vocab_file": null, "model_config": null, "do_train": false,
        "train_file": "", "dev_file": "", "test_file": "xnli.test.ko.tsv", "max_seq_len": 128,
    });
    stderr_ok(&run_cli("kornli", &write_config(dir.path(), "kornli", extra)));
    let run = dir.path().join("ckpt/run");
    let rows = read_jsonl(&run.join("test/predictions.jsonl"));
    assert_eq!(rows.len(), 5010);

    let tsv = shared("data/kornli/xnli.test.ko.tsv");
    let out = Command::new(venv_python())
        .arg(root().join("scripts/hf_seq_cls.py"))
        .args([
            "predict".as_ref(),
            model.as_os_str(),
            tsv.as_os_str(),
            "0".as_ref(),
            "1".as_ref(),
            "128".as_ref(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let hf: Vec<Vec<f64>> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(hf.len(), rows.len());
    let mut worst = 0f64;
    for (row, want) in rows.iter().zip(&hf) {
        for (got, want) in row["logits"].as_array().unwrap().iter().zip(want) {
            worst = worst.max((got.as_f64().unwrap() - want).abs());
        }
    }
    assert!(worst < 1e-4, "logits differ from transformers by {worst}");
    let correct = rows.iter().filter(|r| r["label"] == r["pred"]).count();
    let acc = correct as f64 / rows.len() as f64;
    let results = std::fs::read_to_string(run.join("eval_results.txt")).unwrap();
    assert_eq!(
        results.trim(),
        format!("acc = {}", koelectra_ft::text::python::format_py_float(acc))
    );
    eprintln!(
        "kornli eval-only: {} rows, max |logit diff| {worst:.2e}, acc {acc}",
        rows.len()
    );
}

/// Writes a korsts data folder whose train file is `train`, runs, and returns (exit ok?, stderr).
fn run_with_bad_train(train: &[u8], name: &str) -> (bool, String, PathBuf) {
    let dir = tempfile::tempdir().unwrap().keep();
    let data = dir.join("data/korsts");
    std::fs::create_dir_all(&data).unwrap();
    if !train.is_empty() || name != "missing" {
        std::fs::write(data.join("train.tsv"), train).unwrap();
    }
    std::fs::copy(shared("data/korsts/sts-dev.tsv"), data.join("dev.tsv")).unwrap();
    let extra = serde_json::json!({"data_dir": dir.join("data"), "train_file": "train.tsv",
                                   "dev_file": "dev.tsv", "test_file": "dev.tsv"});
    let out = run_cli("korsts", &write_config(&dir, "korsts", extra));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        dir,
    )
}

#[test]
fn bad_input_gives_one_line_errors_and_no_output_dir() {
    let header = "genre\tfilename\tyear\tid\tscore\tsentence1\tsentence2\n";
    let good = "main-news\tf\t2012\t1\t3.5\t문장 하나\t문장 둘\n";
    let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
        (
            "short row",
            format!("{header}{good}a\tb\tc\n").into_bytes(),
            vec!["train.tsv:3", "columns"],
        ),
        (
            "bad score",
            format!("{header}{good}x\tf\t2012\t2\tabc\ts1\ts2\n").into_bytes(),
            vec!["train.tsv:3", "abc"],
        ),
        ("empty file", vec![], vec!["train.tsv", "empty"]),
        ("missing", vec![], vec!["train.tsv"]),
        (
            "non-utf8",
            [
                header.as_bytes(),
                good.as_bytes(),
                b"x\tf\t2012\t2\t1.0\t\xff\xfe\ts2\n",
            ]
            .concat(),
            vec!["train.tsv:3", "UTF-8"],
        ),
    ];
    for (name, bytes, needles) in cases {
        let (ok, stderr, dir) = run_with_bad_train(&bytes, name);
        assert!(!ok, "{name}: should fail");
        let errors = error_lines(&stderr);
        assert_eq!(errors.len(), 1, "{name}: {stderr}");
        for needle in needles {
            assert!(errors[0].contains(needle), "{name}: {:?} lacks {needle:?}", errors[0]);
        }
        assert!(
            !dir.join("ckpt/run").exists(),
            "{name}: an output directory was left behind"
        );
        std::fs::remove_dir_all(dir).ok();
    }
}

/// The `error:` lines of a run's stderr.
fn error_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("error:")).collect()
}

/// A max_seq_len too short for the tokenizer's special tokens names the key and the split.
#[test]
fn a_max_seq_len_without_room_for_text_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let extra = serde_json::json!({"train_file": "sts-dev.tsv", "dev_file": "", "test_file": "", "max_seq_len": 2});
    let out = run_cli("korsts", &write_config(dir.path(), "korsts", extra));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors = error_lines(&stderr);
    assert_eq!(
        errors,
        ["error: cannot encode the train split with max_seq_len 2: max_length 2 leaves no room for the 3 special tokens"]
    );
}

/// A vocab_file that cannot be read names the config key and the file.
#[test]
fn an_unreadable_vocab_file_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let vocab = dir.path().join("no-such-vocab.txt");
    let extra = serde_json::json!({"train_file": "sts-dev.tsv", "dev_file": "", "test_file": "", "vocab_file": vocab});
    let out = run_cli("korsts", &write_config(dir.path(), "korsts", extra));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors = error_lines(&stderr);
    assert_eq!(
        errors,
        [format!(
            "error: config key \"vocab_file\": cannot read vocab file: cannot read {}: No such file or directory (os error 2)",
            vocab.display()
        )]
    );
}

#[test]
fn unknown_label_names_file_line_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data/kornli");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("train.tsv"),
        "s1\ts2\tlabel\na\tb\tentailment\nc\td\tentailmnt\n",
    )
    .unwrap();
    let extra = serde_json::json!({"data_dir": dir.path().join("data"), "train_file": "train.tsv",
                                   "dev_file": "", "test_file": "train.tsv"});
    let out = run_cli("kornli", &write_config(dir.path(), "kornli", extra));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("train.tsv:3") && stderr.contains("entailmnt"),
        "{stderr}"
    );
}

#[test]
fn feature_cache_is_reused_and_invalidated_by_a_changed_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data/question-pair");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(shared("data/question-pair/dev.tsv"), data.join("dev.tsv")).unwrap();
    let extra = serde_json::json!({"data_dir": dir.path().join("data"), "train_file": "dev.tsv", "dev_file": "",
                                   "test_file": "", "do_eval": false, "max_steps": 1, "overwrite_output_dir": true});
    let config = write_config(dir.path(), "question-pair", extra);
    let run = || {
        let out = binary()
            .args(["seq-cls", "--task", "question-pair", "--config"])
            .arg(&config)
            .env("KOELECTRA_FT_CACHE", dir.path().join("cache"))
            .output()
            .unwrap();
        stderr_ok(&out);
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(run().contains("encoded at"), "first run tokenises");
    assert!(run().contains("features from cache"), "second run reuses the cache");
    let mut text = std::fs::read_to_string(data.join("dev.tsv")).unwrap();
    text = text.replacen("\t0\n", "\t1\n", 1);
    std::fs::write(data.join("dev.tsv"), &text).unwrap();
    assert!(run().contains("encoded at"), "a changed data file is tokenised again");

    // A pipe (`train_file: <(zcat dev.tsv.gz)`) is read once, for the examples and the cache key:
    // the same contents hit the cache. (Read twice, the second open would wait for a writer forever.)
    let fifo = data.join("dev.tsv");
    std::fs::remove_file(&fifo).unwrap();
    make_fifo(&fifo);
    let mut child = binary()
        .args(["seq-cls", "--task", "question-pair", "--config"])
        .arg(&config)
        .env("KOELECTRA_FT_CACHE", dir.path().join("cache"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let writer = std::thread::spawn(move || std::fs::write(fifo, text).unwrap());
    wait_or_kill(
        &mut child,
        std::time::Duration::from_secs(120),
        "the run waited on the pipe",
    );
    let out = child.wait_with_output().unwrap();
    // Checked before joining the writer: a run that failed before opening the pipe leaves it blocked.
    let log = stderr_ok(&out);
    assert!(log.contains("features from cache"), "{log}");
    writer.join().unwrap();
}
