//! The device side of a real run, through the CLI on the CPU: transfers per update and per
//! evaluation batch (counted, as metrics.jsonl reports them), fp16's scaler state in resumable
//! checkpoints, and the refusal of (or, for slow CPU half precision, the warning about) what the
//! device cannot do.
use std::path::Path;

use crate::common::*;
use tch::Tensor;

fn demo(dir: &Path, name: &str, sets: &[&str]) -> std::process::Output {
    demo_env(dir, name, sets, &[])
}

fn demo_env(dir: &Path, name: &str, sets: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let _one = one_child_at_a_time();
    let mut all = vec![format!("ckpt_dir={}", dir.display()), format!("output_dir={name}")];
    all.extend(sets.iter().map(|s| s.to_string()));
    binary()
        .args(demo_run_args(&all))
        .current_dir(root())
        .env("KOELECTRA_FT_CACHE", "off")
        .envs(env.iter().copied())
        .output()
        .expect("run koelectra-ft")
}

/// torch's own answer, on this CPU, to whether oneDNN runs bf16 and fp16 matmuls.
fn torch_cpu_half_matmul_supported() -> (bool, bool) {
    let script = "import torch; m = torch.ops.mkldnn; \
                  print(int(m._is_mkldnn_bf16_supported()), int(m._is_mkldnn_fp16_supported()))";
    let out = std::process::Command::new(venv_python())
        .args(["-c", script])
        .output()
        .expect("run python");
    assert!(out.status.success(), "{}", text(&out.stderr));
    match text(&out.stdout).split_whitespace().collect::<Vec<_>>()[..] {
        [bf16, fp16] => (bf16 == "1", fp16 == "1"),
        _ => panic!("unexpected answer from torch: {}", text(&out.stdout)),
    }
}

#[test]
fn a_run_reads_the_device_once_per_update_and_once_per_eval_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (bf16_fast, fp16_fast) = torch_cpu_half_matmul_supported();
    for precision in ["fp32", "bf16", "fp16"] {
        let flag = match precision {
            "bf16" => "bf16=true",
            "fp16" => "fp16=true",
            _ => "bf16=false",
        };
        let sets = [
            flag,
            "max_steps=20",
            "logging_steps=10",
            "save_steps=0",
            "gradient_accumulation_steps=2",
        ];
        let log = stderr_ok(&demo(dir.path(), precision, &sets));
        // A half precision without oneDNN kernels on this CPU is warned about, as torch reports it.
        let emulated = match precision {
            "bf16" => !bf16_fast,
            "fp16" => !fp16_fast,
            _ => false,
        };
        let warned = log.lines().any(|l| l.contains("WARN") && l.contains("no oneDNN"));
        assert_eq!(warned, emulated, "{precision}: {log}");
        let events = read_jsonl(&dir.path().join(precision).join("metrics.jsonl"));
        let train: Vec<_> = events.iter().filter(|e| e["event"] == "train").collect();
        assert_eq!(train.len(), 2, "{precision}");
        for e in &train {
            assert_eq!(e["device_reads_per_update"], 1.0, "{precision}: {e}");
            assert_eq!(e["uploads_per_micro_batch"], 1.0, "{precision}: {e}");
        }
        // 200 test rows in batches of 128: two batches, each read once, and the loss once.
        let evals: Vec<_> = events.iter().filter(|e| e["event"] == "eval").collect();
        assert!(!evals.is_empty());
        for e in evals {
            assert_eq!(e["device_reads"], 3, "{precision}: {e}");
        }
        let end = events.iter().find(|e| e["event"] == "end").expect("end event");
        assert!(end["peak_gpu_mib"].is_null(), "no GPU memory on the CPU: {end}");
    }
}

/// KOELECTRA_FT_COUNT_OPS adds the operators dispatched per update to the train events (and only
/// then); bf16's autocast casts make more of them than fp32.
#[test]
fn dispatched_operators_are_counted_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let ops = |name: &str, flag: &str, env: &[(&str, &str)]| -> Vec<serde_json::Value> {
        let sets = [flag, "max_steps=4", "logging_steps=2", "save_steps=0", "do_eval=false"];
        stdout_ok(&demo_env(dir.path(), name, &sets, env));
        let events = read_jsonl(&dir.path().join(name).join("metrics.jsonl"));
        let train: Vec<_> = events.into_iter().filter(|e| e["event"] == "train").collect();
        assert_eq!(train.len(), 2, "{name}");
        train.iter().map(|e| e["dispatched_ops_per_update"].clone()).collect()
    };
    let count = [("KOELECTRA_FT_COUNT_OPS", "1")];
    let fp32 = ops("fp32", "bf16=false", &count);
    let bf16 = ops("bf16", "bf16=true", &count);
    let per_update = |values: &[serde_json::Value]| values[1].as_f64().expect("a count");
    assert!(
        per_update(&fp32) > 100.0,
        "a training update dispatches hundreds of operators: {fp32:?}"
    );
    assert!(per_update(&bf16) > per_update(&fp32), "bf16 {bf16:?} vs fp32 {fp32:?}");
    assert!(
        ops("plain", "bf16=false", &[]).iter().all(|v| v.is_null()),
        "counted without being asked"
    );
}

#[test]
fn fp16_checkpoints_keep_the_loss_scale_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let sets = [
        "fp16=true",
        "max_steps=10",
        "save_steps=10",
        "save_optimizer=true",
        "do_eval=false",
    ];
    stdout_ok(&demo(dir.path(), "run", &sets));
    let state = dir.path().join("run/checkpoint-10/optimizer.safetensors");
    let tensors: std::collections::HashMap<String, Tensor> =
        Tensor::read_safetensors(&state).unwrap().into_iter().collect();
    assert_eq!(tensors["grad_scaler.scale"].double_value(&[0]), 65536.0);
    assert_eq!(tensors["grad_scaler.growth_tracker"].int64_value(&[0]), 10);
    assert_eq!(tensors["step"].double_value(&[]), 10.0);
    let resumed = binary()
        .args(demo_run_args(&[
            format!("ckpt_dir={}", dir.path().display()),
            "output_dir=run".into(),
            "fp16=true".into(),
            "max_steps=20".into(),
            "save_steps=10".into(),
            "save_optimizer=true".into(),
            "do_eval=false".into(),
        ]))
        .arg("--resume")
        .current_dir(root())
        .env("KOELECTRA_FT_CACHE", "off")
        .output()
        .unwrap();
    stdout_ok(&resumed);
    let tensors: std::collections::HashMap<String, Tensor> =
        Tensor::read_safetensors(dir.path().join("run/checkpoint-20/optimizer.safetensors"))
            .unwrap()
            .into_iter()
            .collect();
    assert_eq!(
        tensors["grad_scaler.growth_tracker"].int64_value(&[0]),
        20,
        "the tracker continued"
    );
}

#[test]
fn tf32_on_the_cpu_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo(dir.path(), "run", &["tf32=true"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("config key \"tf32\"") && err.contains("CPU"), "{err}");
}

#[test]
fn a_vocabulary_larger_than_the_embedding_table_is_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo(
        dir.path(),
        "small-vocab",
        &[
            r#"model_config={"vocab_size":50,"embedding_size":16,"hidden_size":32,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":64}"#,
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let error = stderr.lines().find(|l| l.starts_with("error:")).unwrap_or_default();
    assert!(
        error.contains("the tokenizer has 884 ids but the model's vocab_size is 50"),
        "{stderr}"
    );
    assert!(!stderr.contains("training:"), "refused before training: {stderr}");
    assert!(!dir.path().join("small-vocab").join("checkpoint-1").exists());
}

/// A maximum length past the position table would fail at the first long input (an index error; on
/// CUDA a device-side assert), so it is refused before any data is read. 64 itself is fine.
#[test]
fn a_max_seq_len_past_the_position_table_is_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo(dir.path(), "long", &["max_seq_len=65"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let error = stderr.lines().find(|l| l.starts_with("error:")).unwrap_or_default();
    assert_eq!(
        error,
        "error: config key \"max_seq_len\" is 65 but the model's max_position_embeddings allows at most 64 tokens \
         (config key \"model_config\"): lower \"max_seq_len\"",
        "{stderr}"
    );
    assert!(
        !stderr.contains("examples from"),
        "refused before reading data: {stderr}"
    );
    assert!(!dir.path().join("long").exists());
    let out = demo(dir.path(), "fits", &["max_seq_len=64", "max_steps=1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn version_reports_libtorch_and_cuda() {
    let out = binary().arg("--version").output().unwrap();
    let version = stdout_ok(&out);
    assert!(
        version.contains("libtorch 2.11.0") && version.contains("CUDA"),
        "{version}"
    );
}

/// `lr_scheduler_type` and `warmup_steps` reach the loop: the logged learning rates of a CLI run.
#[test]
fn the_configured_schedule_drives_the_logged_learning_rate() {
    let dir = tempfile::tempdir().unwrap();
    let lrs = |name: &str, sets: &[&str]| -> Vec<f64> {
        let mut all = vec![
            "max_steps=6",
            "logging_steps=1",
            "save_steps=0",
            "do_eval=false",
            "learning_rate=0.001",
        ];
        all.extend_from_slice(sets);
        stdout_ok(&demo(dir.path(), name, &all));
        let events = read_jsonl(&dir.path().join(name).join("metrics.jsonl"));
        events
            .iter()
            .filter(|e| e["event"] == "train")
            .map(|e| e["lr"].as_f64().unwrap())
            .collect()
    };
    assert_eq!(lrs("constant", &["lr_scheduler_type=constant"]), vec![0.001; 6]);
    // Warmup of 2 updates, then half a cosine over the other 4 (the rate logged after each update).
    let cosine = lrs("cosine", &["lr_scheduler_type=cosine", "warmup_steps=2"]);
    let want: Vec<f64> = (1..=6)
        .map(|done: i64| match done {
            d if d < 2 => 0.001 * d as f64 / 2.0,
            d => 0.001 * 0.5 * (1.0 + (std::f64::consts::PI * (d - 2) as f64 / 4.0).cos()),
        })
        .collect();
    assert_eq!(cosine.len(), 6);
    for (got, want) in cosine.iter().zip(&want) {
        assert!((got - want).abs() < 1e-15, "{cosine:?} vs {want:?}");
    }
}

/// `trainer_state.json` is HF's: transformers' `TrainerState.load_from_json` reads it, with the log
/// history, the best dev metric and its checkpoint; our resume position rides in
/// `stateful_callbacks` and `--resume` still continues from it.
#[test]
fn trainer_state_is_hf_s_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let sets = [
        "max_steps=10",
        "logging_steps=5",
        "save_steps=5",
        "save_optimizer=true",
        "dev_file=ratings_test.txt",
        "evaluate_test_during_training=false",
        "eval_all_checkpoints=false",
    ];
    stdout_ok(&demo(dir.path(), "run", &sets));
    let run = dir.path().join("run");
    let state = run.join("checkpoint-10").join("trainer_state.json");
    let script = r#"
import json, sys
from transformers import TrainerState
s = TrainerState.load_from_json(sys.argv[1])
print(json.dumps({"global_step": s.global_step, "epoch": s.epoch, "max_steps": s.max_steps,
    "log_history": s.log_history, "best_metric": s.best_metric, "best_global_step": s.best_global_step,
    "best_model_checkpoint": s.best_model_checkpoint, "stateful_callbacks": s.stateful_callbacks}))
"#;
    let out = std::process::Command::new(venv_python())
        .args(["-c", script])
        .arg(&state)
        .env("TRANSFORMERS_VERBOSITY", "error")
        .output()
        .expect("run python");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let hf: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hf["global_step"], 10);
    assert_eq!(hf["max_steps"], 10);
    let history = hf["log_history"].as_array().unwrap();
    let losses: Vec<_> = history.iter().filter(|e| e.get("loss").is_some()).collect();
    let evals: Vec<_> = history.iter().filter(|e| e.get("eval_acc").is_some()).collect();
    assert_eq!((losses.len(), evals.len()), (2, 2), "{history:?}");
    assert_eq!(losses[1]["step"], 10);
    assert!(losses[0]["learning_rate"].as_f64().unwrap() > 0.0);
    // The first evaluation with the highest accuracy (a later tie does not replace it, as in HF).
    let acc = |e: &serde_json::Value| e["eval_acc"].as_f64().unwrap();
    let best = evals.iter().fold(evals[0], |b, e| if acc(e) > acc(b) { e } else { b });
    assert_eq!(hf["best_metric"], best["eval_acc"]);
    assert_eq!(hf["best_global_step"], best["step"]);
    let best_dir = format!("checkpoint-{}", best["step"]);
    assert!(
        hf["best_model_checkpoint"].as_str().unwrap().ends_with(&best_dir),
        "{hf}"
    );
    assert_eq!(hf["stateful_callbacks"]["KoelectraFtResume"]["attributes"]["seed"], 42);
    // The metrics.jsonl evaluations and the state agree.
    let events = read_jsonl(&run.join("metrics.jsonl"));
    let dev: Vec<f64> = events
        .iter()
        .filter(|e| e["event"] == "eval" && e["split"] == "dev")
        .map(|e| e["metrics"]["acc"].as_f64().unwrap())
        .collect();
    let from_state: Vec<f64> = evals.iter().map(|e| e["eval_acc"].as_f64().unwrap()).collect();
    assert_eq!(dev, from_state);
    // Resuming from checkpoint-5 reads the new layout: the run continues at step 6.
    let resumed = dir.path().join("resumed");
    let resume_from = |checkpoint: &Path, sets: &[&str]| {
        let from = format!("resume_from_checkpoint={}", checkpoint.display());
        let mut all = vec!["max_steps=10", "do_eval=false", "save_optimizer=true", &from];
        all.extend(sets);
        demo(dir.path(), "resumed", &all)
    };
    let out = resume_from(&run.join("checkpoint-5"), &["logging_steps=5", "save_steps=5"]);
    let log = text(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("resuming at step 5 of 10 (epoch"), "{log}");
    assert!(!log.contains("the run had finished"), "{log}");
    let state = read_json(&resumed.join("checkpoint-10").join("trainer_state.json"));
    let kept = state["log_history"].as_array().unwrap();
    assert!(
        kept.iter().any(|e| e["step"] == 5 && e.get("loss").is_some()),
        "{kept:?}"
    );
    // Resuming the finished run says so: no step is left to train.
    let out = resume_from(&resumed.join("checkpoint-10"), &[]);
    let log = text(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("resuming at step 10 of 10 (epoch 0, batch 10): the run had finished; nothing left to train"),
        "{log}"
    );
}

/// `early_stopping_patience`: after that many dev evaluations without an improvement of more than
/// `early_stopping_threshold`, the run stops, saves its final checkpoint and says why; without a dev
/// split the key is a config error.
#[test]
fn early_stopping_ends_the_run_with_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let sets = [
        "max_steps=50",
        "logging_steps=1",
        "save_steps=0",
        "dev_file=ratings_test.txt",
        "evaluate_test_during_training=false",
        "eval_all_checkpoints=false",
        "early_stopping_patience=2",
        // No change of accuracy exceeds 1.0: the 2nd and 3rd evaluations do not improve.
        "early_stopping_threshold=1.0",
    ];
    let out = demo(dir.path(), "run", &sets);
    let log = text(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("early stopping at step 3: dev acc has not improved"),
        "{log}"
    );
    let run = dir.path().join("run");
    assert!(run.join("checkpoint-3").join("config.json").is_file());
    assert!(!run.join("checkpoint-50").exists());
    let events = read_jsonl(&run.join("metrics.jsonl"));
    let steps: Vec<i64> = events
        .iter()
        .filter(|e| e["event"] == "train")
        .map(|e| e["step"].as_i64().unwrap())
        .collect();
    assert_eq!(steps, vec![1, 2, 3]);

    let out = demo(dir.path(), "no-dev", &["early_stopping_patience=2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("needs a dev split"), "{}", text(&out.stderr));
}

/// `torch_empty_cache_steps` (HF's key): on the CPU, whose allocator keeps no cache, the run says so
/// once and trains exactly as without it; a negative value is a config error.
#[test]
fn torch_empty_cache_steps_is_accepted_and_changes_nothing_on_the_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let losses = |name: &str, extra: &[&str]| {
        let mut sets = vec!["max_steps=4", "logging_steps=2", "save_steps=0", "do_eval=false"];
        sets.extend_from_slice(extra);
        let out = demo(dir.path(), name, &sets);
        let log = text(&out.stderr);
        assert!(out.status.success(), "{log}");
        let said = log
            .matches("torch_empty_cache_steps: the CPU allocator keeps no cache")
            .count();
        assert_eq!(said, usize::from(!extra.is_empty()), "{log}");
        let events = read_jsonl(&dir.path().join(name).join("metrics.jsonl"));
        let train = events.iter().filter(|e| e["event"] == "train");
        train.map(|e| e["loss"].as_f64().unwrap()).collect::<Vec<_>>()
    };
    let with = losses("with", &["torch_empty_cache_steps=1"]);
    assert_eq!(with.len(), 2);
    assert_eq!(with, losses("without", &[]));

    let out = demo(dir.path(), "negative", &["torch_empty_cache_steps=-1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("torch_empty_cache_steps"),
        "{}",
        text(&out.stderr)
    );
}
