//! `koelectra-ft squad` through the CLI, on slices of ../shared/data/korquad/KorQuAD_v1.0_dev.json.
//!
//! * `decoding_and_official_metrics_match_transformers`: eval-only on a tiny random QA checkpoint made by
//!   `scripts/hf_squad_e2e.py`, which also runs transformers' legacy pipeline on the same slice (features,
//!   logits over windows padded to max_seq_length, `compute_predictions_logits` with the 3.3.1
//!   BasicTokenizer) and the official KorQuAD v1.0 scorer. Six articles (398 questions, 108 of them over
//!   several windows at max_seq_length 512 / doc_stride 128): same answer for every question, same n-best
//!   texts in the same order, probabilities within 1e-5, official EM/F1 within 1e-9.
//! * `trains_end_to_end_and_writes_reference_files`: a tiny random model trained on the first 98 articles
//!   (3,995 questions) for 30 steps, evaluated on the other 42 (1,779 questions) every 10 steps: the
//!   checkpoints with their optimizer state, the reference prediction files, eval_results.txt (checked
//!   against the Python official scorer on our own predictions), metrics.jsonl and summary.json.
//! * `full_dev_feature_building_time`: the whole dev file eval-only with a 1-layer model; prints the
//!   feature-building time logged by the binary (nothing is asserted about speed).
//! * `bad_input_*`, `empty_context_*`, `long_questions_*`: one-line errors naming the file and the place,
//!   no output folder left behind; what is accepted instead of failing.

use crate::common::{
    binary, merged, one_child_at_a_time, read_json, read_jsonl, root, shared, stderr_ok, text, tiny_model, v3_vocab,
    venv_python, write_config_json,
};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

/// Articles of the dev file used for the parity test: article 0 (short contexts) and five articles with
/// contexts of 990-1,450 tokens.
const PARITY_ARTICLES: [usize; 6] = [0, 25, 34, 84, 110, 135];
/// Articles `..TRAIN_ARTICLES` of the dev file are the end-to-end training file (3,995 questions).
const TRAIN_ARTICLES: usize = 98;

fn dev_path() -> PathBuf {
    shared("data/korquad/KorQuAD_v1.0_dev.json")
}

fn dev() -> Value {
    read_json(&dev_path())
}

fn articles(dev: &Value) -> &Vec<Value> {
    dev["data"].as_array().expect("data[]")
}

/// Writes `articles` as a SQuAD file `<data_dir>/korquad/<name>`.
fn write_squad(data_dir: &Path, name: &str, articles: &[Value]) -> PathBuf {
    let dir = data_dir.join("korquad");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let file = json!({"version": "KorQuAD_v1.0_dev", "data": articles});
    std::fs::write(&path, file.to_string()).unwrap();
    path
}

/// Question ids of a SQuAD file, in file order.
fn question_ids(path: &Path) -> Vec<String> {
    let file = read_json(path);
    let mut ids = vec![];
    for article in articles(&file) {
        for paragraph in article["paragraphs"].as_array().unwrap() {
            for qa in paragraph["qas"].as_array().unwrap() {
                ids.push(qa["id"].as_str().unwrap().to_string());
            }
        }
    }
    ids
}

/// A tiny random model (`model_config`) trained on `train.json`, evaluated on `predict.json`, under `dir`.
fn config(dir: &Path, data_dir: &Path, extra: Value) -> PathBuf {
    let cfg = json!({
        "task": "korquad", "data_dir": data_dir, "ckpt_dir": dir.join("ckpt"), "output_dir": "run",
        "train_file": "train.json", "predict_file": "predict.json",
        "model_type": "koelectra-small-v3", "model_name_or_path": "", "vocab_file": v3_vocab(),
        "model_config": tiny_model(8, 8, 1, 1),
        "max_seq_length": 128, "doc_stride": 64, "max_query_length": 64, "n_best_size": 20, "max_answer_length": 30,
        "train_batch_size": 16, "eval_batch_size": 64, "learning_rate": 5e-3, "num_train_epochs": 1, "max_steps": 2,
        "logging_steps": 1, "save_steps": 1, "warmup_proportion": 0.0, "weight_decay": 0.0, "seed": 42,
        "threads": 2, "do_train": true, "do_eval": true, "evaluate_during_training": true,
        "eval_all_checkpoints": true, "save_optimizer": false, "overwrite_output_dir": false,
        "group_by_length": false, "do_lower_case": false, "version_2_with_negative": false, "no_cuda": true,
    });
    write_config_json(dir, &merged(cfg, extra))
}

fn run_squad(config: &Path) -> Output {
    run_squad_timed(config).0
}

/// The run and its wall time (not counting the wait for another child to finish).
fn run_squad_timed(config: &Path) -> (Output, f64) {
    let _one = one_child_at_a_time();
    let started = Instant::now();
    let out = binary()
        .args(["squad", "--task", "korquad", "--quiet", "--config"])
        .arg(config)
        .output()
        .unwrap();
    (out, started.elapsed().as_secs_f64())
}

fn stderr(out: &Output) -> String {
    text(&out.stderr)
}

/// Questions, windows and seconds of the binary's log line `<split>: N questions, W windows from F (X.Xs)`.
fn split_stats(stderr: &str, split: &str) -> (usize, usize, f64) {
    let tag = format!(" INFO  {split}: ");
    let line = stderr
        .lines()
        .find(|l| l.contains(&tag) && l.contains(" windows from "))
        .unwrap_or_else(|| panic!("no `{split}: ... windows` line in:\n{stderr}"));
    let rest = &line[line.find(&tag).unwrap() + tag.len()..];
    let words: Vec<&str> = rest.split_whitespace().collect();
    assert_eq!((words[1], words[3]), ("questions,", "windows"), "{line}");
    let secs = rest
        .rsplit_once('(')
        .and_then(|(_, s)| s.strip_suffix("s)"))
        .unwrap_or_else(|| panic!("{line}"));
    (
        words[0].parse().unwrap(),
        words[2].parse().unwrap(),
        secs.parse().unwrap(),
    )
}

/// `key = value` lines of eval_results.txt, in file order, values as written.
fn eval_results(run: &Path) -> Vec<(String, String)> {
    let path = run.join("eval_results.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|l| {
            let (k, v) = l.split_once(" = ").unwrap_or_else(|| panic!("{l:?}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn result(results: &[(String, String)], key: &str) -> f64 {
    let (_, v) = results
        .iter()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("no {key} in eval_results.txt: {results:?}"));
    v.parse().unwrap()
}

/// Runs scripts/hf_squad_e2e.py with `args`; returns its last stdout line as JSON.
fn hf_e2e(args: &[&std::ffi::OsStr]) -> Value {
    let (out, secs) = {
        let _one = one_child_at_a_time();
        let started = Instant::now();
        let out = Command::new(venv_python())
            .arg(root().join("scripts/hf_squad_e2e.py"))
            .args(args)
            .output()
            .unwrap();
        (out, started.elapsed().as_secs_f64())
    };
    eprintln!("hf_squad_e2e.py: {secs:.1}s");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "hf_squad_e2e.py failed:\n{stdout}\n{}",
        stderr(&out)
    );
    serde_json::from_str(stdout.lines().last().expect("output")).unwrap()
}

#[test]
fn decoding_and_official_metrics_match_transformers() {
    let dir = tempfile::tempdir().unwrap();
    let dev = dev();
    let slice: Vec<Value> = PARITY_ARTICLES.iter().map(|&i| articles(&dev)[i].clone()).collect();
    let data_dir = dir.path().join("data");
    let slice_path = write_squad(&data_dir, "slice.json", &slice);

    let hf_dir = dir.path().join("hf-run");
    let hf = hf_e2e(&[
        "--vocab".as_ref(),
        v3_vocab().as_os_str(),
        "--data".as_ref(),
        slice_path.as_os_str(),
        "--out".as_ref(),
        hf_dir.as_os_str(),
        "--max-seq-length=512".as_ref(),
        "--doc-stride=128".as_ref(),
        "--max-query-length=64".as_ref(),
        "--n-best-size=20".as_ref(),
        "--max-answer-length=30".as_ref(),
    ]);
    eprintln!("transformers: {hf}");
    let questions = hf["questions"].as_u64().unwrap() as usize;
    assert!(questions >= 300, "{hf}");
    assert!(hf["multi_window_questions"].as_u64().unwrap() >= 100, "{hf}");

    let cfg = config(
        dir.path(),
        &data_dir,
        json!({
            "do_train": false, "evaluate_during_training": false, "train_file": "", "predict_file": "slice.json",
            "model_name_or_path": hf_dir.join("model"), "model_config": null, "vocab_file": null,
            "max_seq_length": 512, "doc_stride": 128, "max_query_length": 64, "n_best_size": 20,
            "max_answer_length": 30,
        }),
    );
    let (out, secs) = run_squad_timed(&cfg);
    let log = stderr_ok(&out);
    eprintln!("koelectra-ft eval-only: {secs:.1}s");
    let (n_questions, n_windows, _) = split_stats(&log, "test");
    assert_eq!(n_questions, questions, "{log}");
    assert_eq!(n_windows as u64, hf["features"].as_u64().unwrap(), "{log}");
    let run = dir.path().join("ckpt/run");

    // predictions.json: the same answer for every question, keys in file order.
    let ours = read_json(&run.join("predictions.json"));
    let theirs = read_json(&hf_dir.join("hf/predictions.json"));
    let (ours, theirs) = (ours.as_object().unwrap(), theirs.as_object().unwrap());
    assert_eq!(ours.len(), questions);
    assert_eq!(ours.keys().collect::<Vec<_>>(), theirs.keys().collect::<Vec<_>>());
    let differ: Vec<String> = theirs
        .iter()
        .filter(|(k, v)| ours.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k}: transformers {v}, ours {}", ours[k]))
        .collect();
    assert!(
        differ.is_empty(),
        "{} of {questions} answers differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
    // No floats in that file: it is HF's text byte for byte (json.dumps(indent=4), ASCII escapes).
    assert_eq!(
        std::fs::read_to_string(run.join("predictions.json")).unwrap(),
        std::fs::read_to_string(hf_dir.join("hf/predictions.json")).unwrap()
    );

    // nbest_predictions.json: the same texts in the same order; probabilities within 1e-5.
    let ours = read_json(&run.join("nbest_predictions.json"));
    let theirs = read_json(&hf_dir.join("hf/nbest_predictions.json"));
    let (ours, theirs) = (ours.as_object().unwrap(), theirs.as_object().unwrap());
    assert_eq!(ours.keys().collect::<Vec<_>>(), theirs.keys().collect::<Vec<_>>());
    let (mut entries, mut max_prob, mut max_logit, mut min_gap) = (0, 0f64, 0f64, f64::INFINITY);
    for (qid, hf_list) in theirs {
        let hf_list = hf_list.as_array().unwrap();
        let list = ours[qid].as_array().unwrap();
        let texts = |l: &[Value]| {
            l.iter()
                .map(|e| e["text"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        let score = |e: &Value| e["start_logit"].as_f64().unwrap() + e["end_logit"].as_f64().unwrap();
        // The smallest score gap between neighbours shows how far float noise is from reordering a list.
        for w in hf_list.windows(2) {
            min_gap = min_gap.min(score(&w[0]) - score(&w[1]));
        }
        assert_eq!(texts(list), texts(hf_list), "n-best texts of {qid}");
        for (e, h) in list.iter().zip(hf_list) {
            let d = |k: &str| (e[k].as_f64().unwrap() - h[k].as_f64().unwrap()).abs();
            max_prob = max_prob.max(d("probability"));
            max_logit = max_logit.max(d("start_logit")).max(d("end_logit"));
            assert!(d("probability") <= 1e-5, "{qid}: {e} vs {h}");
            assert!(d("start_logit") <= 1e-4 && d("end_logit") <= 1e-4, "{qid}: {e} vs {h}");
            entries += 1;
        }
    }
    eprintln!(
        "parity: {questions} questions, {n_windows} windows, {entries} n-best entries; max |dp| {max_prob:.2e}, \
         max |dlogit| {max_logit:.2e}, smallest score gap in HF's lists {min_gap:.2e}"
    );

    // eval_results.txt: the official KorQuAD v1.0 scores of the Python scorer on HF's predictions.
    let results = eval_results(&run);
    let (em, f1) = (
        result(&results, "official_exact_match"),
        result(&results, "official_f1"),
    );
    eprintln!("official: exact_match {em}, f1 {f1}");
    assert!(
        (em - hf["exact_match"].as_f64().unwrap()).abs() <= 1e-9,
        "{results:?} vs {hf}"
    );
    assert!((f1 - hf["f1"].as_f64().unwrap()).abs() <= 1e-9, "{results:?} vs {hf}");
    assert!(f1 > 0.0, "a degenerate model: {hf}");
    assert!(results.contains(&("total".to_string(), questions.to_string())));
}

#[test]
fn trains_end_to_end_and_writes_reference_files() {
    let dir = tempfile::tempdir().unwrap();
    let dev = dev();
    let all = articles(&dev);
    let data_dir = dir.path().join("data");
    write_squad(&data_dir, "train.json", &all[..TRAIN_ARTICLES]);
    let predict = write_squad(&data_dir, "predict.json", &all[TRAIN_ARTICLES..]);
    let ids = question_ids(&predict);
    let cfg = config(
        dir.path(),
        &data_dir,
        json!({
            // Attention dropout off: on CPU it sends SDPA to its slow path (about 3x the step time here).
            "model_config": merged(tiny_model(16, 32, 2, 2), json!({"attention_probs_dropout_prob": 0.0})),
            "max_seq_length": 256, "doc_stride": 128, "max_steps": 30, "logging_steps": 10, "save_steps": 10,
            "save_optimizer": true,
        }),
    );
    let (out, secs) = run_squad_timed(&cfg);
    let log = stderr_ok(&out);
    eprintln!("koelectra-ft end to end: {secs:.1}s");
    let (train_q, train_w, _) = split_stats(&log, "train");
    let (test_q, test_w, _) = split_stats(&log, "test");
    eprintln!("train: {train_q} questions, {train_w} windows; test: {test_q} questions, {test_w} windows");
    assert_eq!(train_q + test_q, 5_774);
    assert!((3_900..=4_100).contains(&train_q), "{train_q}");
    assert_eq!(test_q, ids.len());
    assert!(
        train_w > train_q && test_w > test_q,
        "max_seq_length 256 needs several windows"
    );

    let run = dir.path().join("ckpt/run");
    let steps = [10, 20, 30];
    for step in steps {
        let ckpt = run.join(format!("checkpoint-{step}"));
        for file in [
            "config.json",
            "model.safetensors",
            "vocab.txt",
            "training_args.json",
            "optimizer.safetensors",
            "trainer_state.json",
        ] {
            assert!(ckpt.join(file).is_file(), "{}/{file} missing", ckpt.display());
        }
        let state = read_json(&ckpt.join("trainer_state.json"));
        assert_eq!(state["global_step"], step, "{state}");

        let predictions = read_json(&run.join(format!("predictions_{step}.json")));
        let predictions = predictions.as_object().unwrap();
        assert_eq!(predictions.len(), ids.len());
        for id in &ids {
            assert!(predictions[id].is_string(), "predictions_{step}.json: {id} missing");
        }
        let nbest = read_json(&run.join(format!("nbest_predictions_{step}.json")));
        let nbest = nbest.as_object().unwrap();
        assert_eq!(nbest.len(), ids.len());
        for (id, list) in nbest {
            let list = list.as_array().unwrap();
            assert!(!list.is_empty() && list.len() <= 20, "{id}: {list:?}");
            assert_eq!(list[0]["text"], predictions[id], "{id}");
            let total: f64 = list.iter().map(|e| e["probability"].as_f64().unwrap()).sum();
            assert!((total - 1.0).abs() < 1e-6, "{id}: probabilities sum to {total}");
        }
    }
    let entries = std::fs::read_dir(&run).unwrap();
    let mut checkpoints: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("checkpoint-"))
        .collect();
    checkpoints.sort();
    assert_eq!(checkpoints, ["checkpoint-10", "checkpoint-20", "checkpoint-30"]);

    // eval_results.txt: every checkpoint's scores; totals as integers; the official scores equal the Python
    // scorer's on our own prediction files.
    let results = eval_results(&run);
    for step in steps {
        assert!(
            results.contains(&(format!("total_{step}"), ids.len().to_string())),
            "{results:?}"
        );
    }
    let files: Vec<PathBuf> = steps
        .iter()
        .map(|s| run.join(format!("predictions_{s}.json")))
        .collect();
    let mut args: Vec<&std::ffi::OsStr> = vec!["--data".as_ref(), predict.as_os_str(), "--score".as_ref()];
    args.extend(files.iter().map(|f| f.as_os_str()));
    let scored = hf_e2e(&args);
    for (step, py) in steps.iter().zip(scored.as_array().unwrap()) {
        let em = result(&results, &format!("official_exact_match_{step}"));
        let f1 = result(&results, &format!("official_f1_{step}"));
        eprintln!("checkpoint-{step}: official exact_match {em}, f1 {f1}");
        assert!(
            (em - py["exact_match"].as_f64().unwrap()).abs() <= 1e-9,
            "{step}: {em} vs {py}"
        );
        assert!((f1 - py["f1"].as_f64().unwrap()).abs() <= 1e-9, "{step}: {f1} vs {py}");
    }

    // metrics.jsonl: three training windows with a falling loss; evaluations during training and in the
    // final pass over the checkpoints.
    let events = read_jsonl(&run.join("metrics.jsonl"));
    let losses: Vec<f64> = events
        .iter()
        .filter(|e| e["event"] == "train")
        .map(|e| e["loss"].as_f64().unwrap())
        .collect();
    eprintln!("training losses: {losses:?}");
    assert_eq!(losses.len(), 3);
    assert!(losses[2] < losses[0], "training loss did not fall: {losses:?}");
    assert!(
        losses.iter().all(|&l| l < (256f64).ln()),
        "worse than uniform: {losses:?}"
    );
    let evals: Vec<&Value> = events.iter().filter(|e| e["event"] == "eval").collect();
    assert_eq!(evals.len(), 6, "{evals:?}");
    assert!(evals
        .iter()
        .all(|e| e["split"] == "test" && e["metrics"]["official_f1"].is_number()));

    let summary = read_json(&run.join("summary.json"));
    let selected = summary["selected"]["checkpoint"].as_str().unwrap_or_default();
    assert!(checkpoints.iter().any(|c| c == selected), "{summary}");
}

#[test]
fn full_dev_feature_building_time() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &shared("data"),
        json!({
            "do_train": false, "evaluate_during_training": false, "train_file": "",
            "predict_file": "KorQuAD_v1.0_dev.json", "max_seq_length": 512, "doc_stride": 128,
        }),
    );
    let (out, run_secs) = run_squad_timed(&cfg);
    let log = stderr_ok(&out);
    let (questions, windows, secs) = split_stats(&log, "test");
    eprintln!(
        "full dev file: {questions} questions, {windows} windows, feature building {secs:.1}s (threads 2); \
         eval-only run {run_secs:.1}s"
    );
    assert_eq!((questions, windows), (5_774, 6_559));
    let predictions = read_json(&dir.path().join("ckpt/run/predictions.json"));
    assert_eq!(predictions.as_object().unwrap().len(), 5_774);
}

// ---------------------------------------------------------------------------------------------------------
// Bad input

/// Dev article 0 (two paragraphs: 7 + 4 questions).
fn article0() -> Value {
    articles(&dev())[0].clone()
}

/// Every path under `dir` whose name starts with `checkpoint-`.
fn checkpoints_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap().to_string_lossy().starts_with("checkpoint-") {
                found.push(path.clone());
            }
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    found
}

/// Runs training + evaluation on `train.json` / `predict.json` under `dir`; the run must fail with one
/// `error:` line (the last line of stderr) that contains every one of `wants`, and leave no output behind.
fn assert_fails(dir: &Path, wants: &[&str]) -> String {
    let out = run_squad(&config(dir, &dir.join("data"), json!({})));
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{text}");
    assert_eq!(text.lines().last(), Some(errors[0]), "{text}");
    for want in wants {
        assert!(errors[0].contains(want), "{want:?} not in {:?}", errors[0]);
    }
    assert!(!dir.join("ckpt/run").exists(), "output folder left behind");
    assert!(checkpoints_under(dir).is_empty(), "{:?}", checkpoints_under(dir));
    errors[0].to_string()
}

#[test]
fn bad_input_malformed_json() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let predict = write_squad(&data, "predict.json", &[article0()]);
    // A missing comma on line 2.
    let train = data.join("korquad/train.json");
    std::fs::write(
        &train,
        "{\"version\": \"KorQuAD_v1.0_dev\", \"data\": [\n  {\"title\": \"t\" \"paragraphs\": []}\n]}\n",
    )
    .unwrap();
    let shown = train.display().to_string();
    assert_fails(dir.path(), &[&shown, "malformed JSON at line 2, column 17"]);
    // The same in the predict file.
    std::fs::copy(&train, &predict).unwrap();
    write_squad(&data, "train.json", &[article0()]);
    let shown = predict.display().to_string();
    assert_fails(dir.path(), &[&shown, "malformed JSON at line 2, column 17"]);
}

#[test]
fn bad_input_missing_context() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    write_squad(&data, "train.json", &[article0()]);
    let mut article = article0();
    article["paragraphs"][1].as_object_mut().unwrap().remove("context");
    let predict = write_squad(&data, "predict.json", &[article]);
    let shown = predict.display().to_string();
    assert_fails(
        dir.path(),
        &[&shown, "data[0].paragraphs[1]: missing field \"context\""],
    );
}

#[test]
fn bad_input_answer_not_at_answer_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut article = article0();
    // "임수경" at char 125; 40 chars on, no word of the answer span holds it (training drops it too).
    let qa = &mut article["paragraphs"][0]["qas"][1];
    let id = qa["id"].as_str().unwrap().to_string();
    let text = qa["answers"][0]["text"].as_str().unwrap().to_string();
    let start = qa["answers"][0]["answer_start"].as_u64().unwrap() + 40;
    qa["answers"][0]["answer_start"] = json!(start);
    // Evaluation refuses it, naming the question.
    write_squad(&data, "train.json", &[article0()]);
    let predict = write_squad(&data, "predict.json", &[article.clone()]);
    let shown = predict.display().to_string();
    let at = format!("question \"{id}\", answer 0: answer_start {start} does not point at the answer text \"{text}\"");
    assert_fails(dir.path(), &[&shown, &at]);
    // Training drops and counts it, as the reference does.
    write_squad(&data, "train.json", &[article]);
    write_squad(&data, "predict.json", &[article0()]);
    let log = stderr_ok(&run_squad(&config(dir.path(), &data, json!({}))));
    assert!(log.contains("train: dropped 1 question(s)"), "{log}");
    assert_eq!(split_stats(&log, "train").0, 10, "{log}");
}

#[test]
fn empty_context_gets_the_empty_prediction() {
    // A context without doc words has no windows: its question is predicted "empty" (as transformers does)
    // in evaluation, and dropped in training (its answer cannot be located).
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut article = article0();
    for (id, context) in [("empty-context", ""), ("blank-context", " \n\t ")] {
        let paragraph = json!({"context": context, "qas": [
            {"id": id, "question": "무엇인가?", "answers": [{"text": "", "answer_start": 0}]}]});
        article["paragraphs"].as_array_mut().unwrap().push(paragraph);
    }
    write_squad(&data, "train.json", std::slice::from_ref(&article));
    write_squad(&data, "predict.json", &[article]);
    let log = stderr_ok(&run_squad(&config(dir.path(), &data, json!({}))));
    assert!(log.contains("train: dropped 2 question(s)"), "{log}");
    assert_eq!(split_stats(&log, "test").0, 13, "{log}");
    let run = dir.path().join("ckpt/run");
    let predictions = read_json(&run.join("predictions_2.json"));
    let nbest = read_json(&run.join("nbest_predictions_2.json"));
    for id in ["empty-context", "blank-context"] {
        assert_eq!(predictions[id], "empty", "{predictions}");
        assert_eq!(
            nbest[id],
            json!([{"text": "empty", "probability": 1.0, "start_logit": 0.0, "end_logit": 0.0}])
        );
    }
    assert_eq!(predictions.as_object().unwrap().len(), 13);
    assert!(eval_results(&run).contains(&("total_2".to_string(), "13".to_string())));
}

#[test]
fn long_questions_are_cut_to_max_query_length() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut article = article0();
    let long = ["1989년 2월 15일 여의도 농민 폭력 시위를 주도한 혐의로 지명수배된 사람의 이름은?"; 10].join(" ");
    article["paragraphs"][0]["qas"][0]["question"] = json!(long);
    write_squad(&data, "train.json", std::slice::from_ref(&article));
    let predict = write_squad(&data, "predict.json", &[article]);
    let ids = question_ids(&predict);
    let mut windows = vec![];
    for max_query_length in [64, 4] {
        let run_dir = dir.path().join(format!("q{max_query_length}"));
        std::fs::create_dir_all(&run_dir).unwrap();
        let cfg = config(&run_dir, &data, json!({"max_query_length": max_query_length}));
        let log = stderr_ok(&run_squad(&cfg));
        windows.push(split_stats(&log, "test").1);
        // doc_stride 64 skips tokens when a window holds 128 - 64 - 3 = 61 document tokens.
        let skips = "config key \"doc_stride\" is 64 but a window holds as few as 61 document tokens";
        assert_eq!(log.contains(skips), max_query_length == 64, "{log}");
        let predictions = read_json(&run_dir.join("ckpt/run/predictions_2.json"));
        let predictions = predictions.as_object().unwrap();
        assert_eq!(predictions.keys().collect::<Vec<_>>(), ids.iter().collect::<Vec<_>>());
    }
    // Shorter questions leave more room for the document: fewer windows.
    assert!(windows[1] < windows[0], "{windows:?}");
}
