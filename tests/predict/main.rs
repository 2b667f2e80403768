//! `koelectra-ft predict` on checkpoints trained by each subcommand (tiny random models, a few steps on
//! slices of ../shared/data): the labels, scores, tags and answers equal the evaluation's prediction files
//! for the same checkpoint and inputs; stdin, TSV output, small chunks, blank lines and bad input.
#![allow(clippy::disallowed_methods)] // tests read tensors directly (clippy.toml)
#[path = "../common/mod.rs"]
mod common;

use common::{
    binary, merged, one_child_at_a_time, parse_jsonl, read_json, shared, stdout_ok, tiny_model, v3_vocab,
    write_config_json,
};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

fn read_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().map(str::to_string).collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// A tiny model initialised wide (N(0, 0.5)), so that after a few small steps its predictions still vary
/// from input to input (trained for a few seconds, a tiny model predicts one class everywhere) and
/// near-ties are rare.
fn wide(embedding: u32, hidden: u32, layers: u32) -> Value {
    merged(
        tiny_model(embedding, hidden, layers, 2),
        json!({"initializer_range": 0.5}),
    )
}

/// Writes a run config (a tiny random model on the v3 vocab, data under `<dir>/data`) and trains it with
/// `koelectra-ft <subcommand>`; returns the run folder.
fn train(dir: &Path, subcommand: &str, task: &str, extra: Value) -> PathBuf {
    let cfg = json!({
        "task": task, "data_dir": dir.join("data"), "ckpt_dir": dir.join("ckpt"), "output_dir": "run",
        "model_type": "koelectra-small-v3", "model_name_or_path": "",
        "vocab_file": v3_vocab(),
        "model_config": wide(32, 64, 2),
        "train_batch_size": 16, "learning_rate": 1e-4, "warmup_proportion": 0.0, "seed": 42, "no_cuda": true,
    });
    let config = write_config_json(dir, &merged(cfg, extra));
    let _one = one_child_at_a_time();
    let out = binary()
        .env("OMP_NUM_THREADS", "1")
        .args([subcommand, "--task", task, "--quiet", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "koelectra-ft {subcommand} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("ckpt/run")
}

/// Runs `koelectra-ft predict --model <model> <args>`, with `stdin` piped in when given.
fn predict(model: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let _one = one_child_at_a_time();
    let mut child = binary()
        .env("OMP_NUM_THREADS", "1")
        .args(["predict", "--quiet", "--device", "cpu", "--model"])
        .arg(model)
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let text = text.to_string();
        std::thread::spawn(move || pipe.write_all(text.as_bytes()).unwrap());
    }
    child.wait_with_output().unwrap()
}

/// The error line of a failed run (exit code 1, one line on stderr after the log lines).
fn error_line(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    errors[0].to_string()
}

/// `{line: object}` of predict's JSON lines.
fn by_line(rows: &[Value]) -> HashMap<usize, &Value> {
    rows.iter().map(|r| (r["line"].as_u64().unwrap() as usize, r)).collect()
}

fn softmax(logits: &[f64]) -> Vec<f64> {
    let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let exp: Vec<f64> = logits.iter().map(|x| (x - max).exp()).collect();
    let total: f64 = exp.iter().sum();
    exp.iter().map(|e| e / total).collect()
}

/// The line index after the header that a seq-cls guid `test-<i>` names.
fn guid_index(guid: &Value) -> usize {
    guid.as_str().unwrap().strip_prefix("test-").unwrap().parse().unwrap()
}

/// question-pair (sentence pairs, 758 test rows): labels and probabilities equal the evaluation's
/// `predictions-<step>.jsonl`; the same with small chunks and another batch size; TSV output; a blank
/// line keeps the numbering; bad lines and a missing checkpoint fail with one line.
#[test]
fn seq_cls_labels_match_the_evaluation() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data/question-pair");
    let train_rows = read_lines(&shared("data/question-pair/train.tsv"));
    write_lines(&data.join("train.tsv"), &train_rows[..481]);
    let test_rows = read_lines(&shared("data/question-pair/test.tsv"));
    write_lines(&data.join("test.tsv"), &test_rows);
    let extra = json!({"train_file": "train.tsv", "dev_file": "", "test_file": "test.tsv", "max_seq_len": 64,
                       "eval_batch_size": 32, "max_steps": 10, "logging_steps": 10, "save_steps": 10});
    let run = train(dir.path(), "seq-cls", "question-pair", extra);
    let evaluated = parse_jsonl(&std::fs::read_to_string(run.join("test/predictions-10.jsonl")).unwrap());

    // Input: a blank first line, then `question1<TAB>question2` of every row (blank where the reader
    // skips the row), so test row i is line i + 2.
    let mut input = vec![String::new()];
    for row in &test_rows[1..] {
        let fields: Vec<&str> = row.trim().split('\t').collect();
        let keep = fields.len() >= 3 && !fields[0].is_empty() && !fields[1].is_empty();
        input.push(if keep {
            format!("{}\t{}", fields[0], fields[1])
        } else {
            String::new()
        });
    }
    let input_path = dir.path().join("pairs.tsv");
    write_lines(&input_path, &input);
    let model = run.join("checkpoint-10");
    let input_arg = input_path.to_str().unwrap();
    let rows = parse_jsonl(&stdout_ok(&predict(&model, &["--input", input_arg], None)));
    assert_eq!(rows.len(), evaluated.len());
    let rows = by_line(&rows);
    let mut labels = std::collections::BTreeSet::new();
    for e in &evaluated {
        let line = guid_index(&e["guid"]) + 2;
        let p = rows.get(&line).unwrap_or_else(|| panic!("line {line} not predicted"));
        assert_eq!(p["label"], e["pred"], "line {line}: {p} vs {e}");
        let logits: Vec<f64> = e["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let probs: Vec<f64> = ["0", "1"]
            .iter()
            .map(|l| p["probabilities"][l].as_f64().unwrap())
            .collect();
        for (a, b) in softmax(&logits).iter().zip(&probs) {
            assert!((a - b).abs() < 1e-6, "line {line}: {p} vs {e}");
        }
        labels.insert(p["label"].as_str().unwrap().to_string());
    }
    assert_eq!(labels.len(), 2, "both labels should be predicted: {labels:?}");

    // Other chunks and batches: the same labels (up to float noise at near-ties).
    let small = parse_jsonl(&stdout_ok(&predict(
        &model,
        &["--input", input_arg, "--chunk", "50", "--batch-size", "7"],
        None,
    )));
    assert_eq!(small.len(), rows.len());
    for s in &small {
        let line = s["line"].as_u64().unwrap() as usize;
        let p = rows[&line];
        let (a, b) = (
            p["probabilities"]["1"].as_f64().unwrap(),
            s["probabilities"]["1"].as_f64().unwrap(),
        );
        assert!((a - b).abs() < 1e-5, "line {line}: {p} vs {s}");
        if (a - 0.5).abs() > 1e-5 {
            assert_eq!(p["label"], s["label"], "line {line}");
        }
    }

    // TSV: one line per input line, `label<TAB>probability`, blank for blank input.
    let tsv = stdout_ok(&predict(&model, &["--input", input_arg, "--format", "tsv"], None));
    let tsv: Vec<&str> = tsv.lines().collect();
    assert_eq!(tsv.len(), input.len());
    for (i, (out, inp)) in tsv.iter().zip(&input).enumerate() {
        if inp.is_empty() {
            assert_eq!(*out, "", "line {}", i + 1);
            continue;
        }
        let p = rows[&(i + 1)];
        let (label, prob) = out.split_once('\t').unwrap();
        assert_eq!(label, p["label"].as_str().unwrap());
        let prob: f64 = prob.parse().unwrap();
        // serde_json parses floats to within one ulp.
        assert!(
            (prob - p["probabilities"][label].as_f64().unwrap()).abs() < 1e-12,
            "line {}",
            i + 1
        );
    }

    // Bad input: a line with three fields, a single sentence for a pair task.
    let bad = predict(&model, &[], Some("a\tb\n\nx\ty\tz\n"));
    let err = error_line(&bad);
    assert!(
        err.contains("<stdin>:3: ") && err.contains("3 tab-separated fields (a benchmark file? give its text column"),
        "{err}"
    );
    assert!(bad.stdout.is_empty());
    let single = predict(&model, &[], Some("한 문장만\n"));
    let err = error_line(&single);
    assert!(err.contains("<stdin>:1: ") && err.contains("sentence pairs"), "{err}");

    // A file without line breaks (here endless) is refused at the line cap instead of filling memory.
    let endless = predict(&model, &["--input", "/dev/zero"], None);
    assert_eq!(
        error_line(&endless),
        "error: /dev/zero:1: line longer than 67108864 bytes; expected one example per line"
    );
    assert!(endless.stdout.is_empty());

    // Not a checkpoint: a usage error (exit code 2).
    let missing = predict(&dir.path().join("nowhere"), &[], Some(""));
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no config.json"));
    // The run folder: its newest checkpoint is named.
    let run_dir = model.parent().unwrap();
    let folder = predict(run_dir, &[], Some(""));
    assert_eq!(folder.status.code(), Some(2), "{folder:?}");
    assert!(
        String::from_utf8_lossy(&folder.stderr).contains(&format!(
            "; it is a run folder: give one of its checkpoints, e.g. --model {} (the newest)",
            model.display()
        )),
        "{folder:?}"
    );

    predict_into_a_gone_or_full_stdout(&model);

    // Too short for the special tokens of a pair: the error names the length.
    let short = predict(&model, &["--max-seq-len", "2"], Some("a\tb\n"));
    assert_eq!(
        error_line(&short),
        "error: cannot encode the input with max_seq_len 2: max_length 2 leaves no room for the 3 special tokens"
    );
    // Longer than the position table (512): refused before any input is read, naming the source.
    let long = predict(&model, &["--max-seq-len", "513"], Some("a\tb\n"));
    assert_eq!(long.status.code(), Some(2), "{long:?}");
    let expected = format!(
        "error: --max-seq-len 513 is longer than the model's max_position_embeddings allows (512 tokens, {}): \
         pass --max-seq-len 512 or less",
        model.join("config.json").display()
    );
    assert!(String::from_utf8_lossy(&long.stderr).contains(&expected), "{long:?}");
    assert!(long.stdout.is_empty());
    assert!(predict(&model, &["--max-seq-len", "512"], Some("a\tb\n"))
        .status
        .success());
    // A shared checkpoint's training_args.json is checked as a run config is.
    let edited = dir.path().join("edited");
    std::fs::create_dir(&edited).unwrap();
    for entry in std::fs::read_dir(&model).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, edited.join(path.file_name().unwrap())).unwrap();
    }
    let args_path = edited.join("training_args.json");
    let mut args: Value = serde_json::from_str(&std::fs::read_to_string(&args_path).unwrap()).unwrap();
    args["eval_batch_size"] = 0.into();
    std::fs::write(&args_path, args.to_string()).unwrap();
    let zero = predict(&edited, &[], Some("a\tb\n"));
    assert_eq!(
        error_line(&zero),
        format!(
            "error: {}: key \"eval_batch_size\" must be a positive integer, got 0",
            args_path.display()
        )
    );
    args["eval_batch_size"] = 8.into();
    args["max_seq_len"] = 600.into();
    std::fs::write(&args_path, args.to_string()).unwrap();
    let long = predict(&edited, &[], Some("a\tb\n"));
    assert_eq!(long.status.code(), Some(2), "{long:?}");
    let expected = format!("error: the run's max_seq_len 600 ({}) is longer", args_path.display());
    assert!(String::from_utf8_lossy(&long.stderr).contains(&expected), "{long:?}");
    std::fs::copy(model.join("training_args.json"), &args_path).unwrap();
    // id2label must name every output of the head once: a repeated name would have merged two
    // probabilities in the output.
    let config_path = edited.join("config.json");
    let config: Value = serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    for (id2label, expected) in [
        (
            json!({}),
            "\"id2label\" is missing, empty or not an object; expected label names by id (\"0\": \"negative\", ...)",
        ),
        (
            json!(["0", "1"]),
            "\"id2label\" is missing, empty or not an object; expected label names by id (\"0\": \"negative\", ...)",
        ),
        (
            json!({"0": "0", "2": "1"}),
            "\"id2label\" key \"2\" is not an id from 0 to 1",
        ),
        (json!({"0": "0", "00": "1"}), "\"id2label\" gives id 0 twice"),
        (
            json!({"0": "0", "1": 1}),
            "\"id2label\" entry \"1\" is 1, expected a label name",
        ),
        (
            json!({"0": "same", "1": "same"}),
            "\"id2label\" names \"same\" twice (ids 0 and 1)",
        ),
    ] {
        let mut edited_config = config.clone();
        edited_config["id2label"] = id2label;
        std::fs::write(&config_path, edited_config.to_string()).unwrap();
        let out = predict(&edited, &[], Some("a\tb\n"));
        assert_eq!(
            error_line(&out),
            format!("error: {}: {expected}", config_path.display())
        );
    }
}

/// `... | predict | head -1` on an endless input: once the reader has gone, predict stops reading and
/// exits 0, and a stdout that cannot be written (a full disk) is exit 1 with one line. Both are
/// also the contract of the listing commands (tests/config/cli.rs).
fn predict_into_a_gone_or_full_stdout(model: &Path) {
    let _one = one_child_at_a_time();
    let mut child = binary()
        .args(["predict", "--quiet", "--device", "cpu", "--chunk", "4", "--model"])
        .arg(model)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut input = child.stdin.take().unwrap();
    // Writes until predict closes its end of the pipe.
    let writer =
        std::thread::spawn(move || while input.write_all("질문 하나\t질문 둘\n".repeat(64).as_bytes()).is_ok() {});
    common::wait_or_kill(
        &mut child,
        std::time::Duration::from_secs(60),
        "predict kept reading after its reader left",
    );
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // It stopped at the first chunk, whose output met the closed pipe.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("predicted 4 input(s)") && !stderr.contains("error"),
        "{stderr}"
    );

    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let mut child = binary()
        .args(["predict", "--quiet", "--device", "cpu", "--model"])
        .arg(model)
        .stdin(Stdio::piped())
        .stdout(full)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all("a\tb\n".as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        error_line(&out),
        "error: cannot write to stdout: No space left on device (os error 28)"
    );
}

/// korsts (regression) through stdin: the scores equal the evaluation's within 1e-4; TSV is one score
/// per line.
#[test]
fn regression_scores_match_the_evaluation() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data/korsts");
    let train_rows = read_lines(&shared("data/korsts/sts-train.tsv"));
    write_lines(&data.join("sts-train.tsv"), &train_rows[..321]);
    let test_rows = read_lines(&shared("data/korsts/sts-test.tsv"));
    write_lines(&data.join("sts-test.tsv"), &test_rows[..301]);
    let extra = json!({"train_file": "sts-train.tsv", "dev_file": "", "test_file": "sts-test.tsv",
                       "max_seq_len": 64, "eval_batch_size": 64, "max_steps": 10, "logging_steps": 10,
                       "save_steps": 10});
    let run = train(dir.path(), "seq-cls", "korsts", extra);
    let evaluated = parse_jsonl(&std::fs::read_to_string(run.join("test/predictions-10.jsonl")).unwrap());
    assert_eq!(evaluated.len(), 300);

    let input: Vec<String> = test_rows[1..301]
        .iter()
        .map(|row| {
            let fields: Vec<&str> = row.trim().split('\t').collect();
            format!("{}\t{}", fields[5], fields[6])
        })
        .collect();
    let stdin = input.join("\n") + "\n";
    let model = run.join("checkpoint-10");
    let rows = parse_jsonl(&stdout_ok(&predict(&model, &[], Some(&stdin))));
    assert_eq!(rows.len(), 300);
    let rows = by_line(&rows);
    let mut scores = vec![];
    for e in &evaluated {
        let line = guid_index(&e["guid"]) + 1;
        let (ours, theirs) = (rows[&line]["score"].as_f64().unwrap(), e["pred"].as_f64().unwrap());
        assert!((ours - theirs).abs() < 1e-4, "line {line}: {ours} vs {theirs}");
        scores.push(ours);
    }
    let spread = scores.iter().cloned().fold(f64::MIN, f64::max) - scores.iter().cloned().fold(f64::MAX, f64::min);
    assert!(spread > 0.1, "scores should vary: spread {spread}");

    let tsv = stdout_ok(&predict(&model, &["--format", "tsv"], Some(&stdin)));
    let tsv: Vec<f64> = tsv.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(tsv.len(), 300);
    for (i, score) in tsv.iter().enumerate() {
        assert!((score - rows[&(i + 1)]["score"].as_f64().unwrap()).abs() < 1e-6);
    }
}

/// naver-ner at max_seq_len 32 (words past the cut read `O`): the tag of every word equals the
/// evaluation's `predictions-<step>.tsv`, from plain sentences (JSON lines) and from the
/// `words<TAB>tags` file through stdin (TSV blocks).
#[test]
fn ner_tags_match_the_evaluation() {
    let dir = tempfile::tempdir().unwrap();
    let lines = read_lines(&shared("data/naver-ner/test.tsv"));
    let data = dir.path().join("data/naver-ner");
    write_lines(&data.join("train.tsv"), &lines[..600]);
    let test = &lines[600..900];
    write_lines(&data.join("test.tsv"), test);
    let extra = json!({"train_file": "train.tsv", "dev_file": "", "test_file": "test.tsv", "max_seq_len": 32,
                       "train_batch_size": 32, "eval_batch_size": 64, "max_steps": 10, "logging_steps": 10,
                       "save_steps": 10});
    let run = train(dir.path(), "ner", "naver-ner", extra);
    let evaluated = read_lines(&run.join("test/predictions-10.tsv"));
    assert_eq!(evaluated.len(), test.len());
    let evaluated: Vec<(Vec<&str>, Vec<&str>)> = evaluated
        .iter()
        .map(|l| {
            let (w, t) = l.split_once('\t').unwrap();
            (w.split(' ').collect(), t.split(' ').collect())
        })
        .collect();
    assert!(
        evaluated.iter().any(|(w, _)| w.len() > 30),
        "some sentence must be cut at max_seq_len 32"
    );

    let sentences: Vec<String> = test.iter().map(|l| l.split_once('\t').unwrap().0.to_string()).collect();
    let input = dir.path().join("sentences.txt");
    write_lines(&input, &sentences);
    let model = run.join("checkpoint-10");
    let rows = parse_jsonl(&stdout_ok(&predict(
        &model,
        &["--input", input.to_str().unwrap()],
        None,
    )));
    assert_eq!(rows.len(), test.len());
    let mut tags_seen = std::collections::BTreeSet::new();
    for (i, (row, (words, tags))) in rows.iter().zip(&evaluated).enumerate() {
        assert_eq!(row["line"], i + 1);
        assert_eq!(row["words"], json!(words), "line {}", i + 1);
        assert_eq!(row["tags"], json!(tags), "line {}", i + 1);
        tags_seen.extend(tags.iter().map(|t| t.to_string()));
    }
    assert!(tags_seen.len() > 5, "tags should vary: {tags_seen:?}");

    // The training format through stdin, TSV out: `word<TAB>tag` lines, a blank line after each sentence.
    let stdin = test.join("\n") + "\n";
    let tsv = stdout_ok(&predict(&model, &["--format", "tsv"], Some(&stdin)));
    let blocks: Vec<&str> = tsv.split_terminator("\n\n").collect();
    assert_eq!(blocks.len(), test.len());
    for (i, (block, (words, tags))) in blocks.iter().zip(&evaluated).enumerate() {
        let pairs: Vec<(&str, &str)> = block.lines().map(|l| l.split_once('\t').unwrap()).collect();
        let expected: Vec<(&str, &str)> = words.iter().cloned().zip(tags.iter().cloned()).collect();
        assert_eq!(pairs, expected, "sentence {}", i + 1);
    }
    // A tab that does not start one tag per word fails naming the line; no word is dropped unseen.
    let err = error_line(&predict(&model, &[], Some("철수가 서울에\n가\t나 다\n")));
    assert_eq!(
        err,
        "error: <stdin>:2: found a tab, but not a `words<TAB>tags` line: 1 word(s) and 2 tag(s); expected \
         words separated by spaces"
    );
}

/// KorQuAD (a SQuAD-format JSON file and `question<TAB>context` lines): every answer equals
/// `predictions_<step>.json` and its probability the top n-best entry's; `start`/`end` locate the answer in
/// the context. A line without a tab fails naming the input and line.
#[test]
fn squad_answers_match_the_evaluation() {
    let dir = tempfile::tempdir().unwrap();
    let dev = read_json(&shared("data/korquad/KorQuAD_v1.0_dev.json"));
    let articles = dev["data"].as_array().unwrap();
    let data = dir.path().join("data/korquad");
    std::fs::create_dir_all(&data).unwrap();
    let write = |name: &str, part: &[Value]| {
        let path = data.join(name);
        std::fs::write(&path, json!({"version": "KorQuAD_v1.0_dev", "data": part}).to_string()).unwrap();
        path
    };
    write("train.json", &articles[..2]);
    let predict_file = write("predict.json", &articles[2..4]);
    let extra = json!({
        "train_file": "train.json", "predict_file": "predict.json",
        "model_config": wide(16, 32, 1),
        "max_seq_length": 128, "doc_stride": 64, "max_query_length": 32, "n_best_size": 20,
        "max_answer_length": 30, "eval_batch_size": 32, "max_steps": 10,
        "logging_steps": 10, "save_steps": 10, "threads": 2, "evaluate_during_training": false,
        "group_by_length": false,
    });
    let run = train(dir.path(), "squad", "korquad", extra);
    let expected = read_json(&run.join("predictions_10.json"));
    let nbest = read_json(&run.join("nbest_predictions_10.json"));
    let expected = expected.as_object().unwrap();

    // question id -> (question, context)
    let mut questions: Vec<(String, String, String)> = vec![];
    for article in &articles[2..4] {
        for paragraph in article["paragraphs"].as_array().unwrap() {
            let context = paragraph["context"].as_str().unwrap();
            for qa in paragraph["qas"].as_array().unwrap() {
                let id = qa["id"].as_str().unwrap().to_string();
                questions.push((id, qa["question"].as_str().unwrap().into(), context.into()));
            }
        }
    }
    assert_eq!(questions.len(), expected.len());
    let model = run.join("checkpoint-10");
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let check = |answer: &Value, id: &str, context: &str| {
        let text = answer["answer"].as_str().unwrap();
        assert_eq!(text, expected[id].as_str().unwrap(), "{id}: {answer}");
        let top = nbest[id][0]["probability"].as_f64().unwrap();
        assert!(
            (answer["probability"].as_f64().unwrap() - top).abs() < 1e-9,
            "{id}: {answer}"
        );
        let (start, end) = (
            answer["start"].as_u64().unwrap() as usize,
            answer["end"].as_u64().unwrap() as usize,
        );
        let span: String = context.chars().skip(start).take(end - start).collect();
        assert_eq!(squash(&span), text, "{id}: {answer}");
    };

    let out = stdout_ok(&predict(&model, &["--input", predict_file.to_str().unwrap()], None));
    let rows = parse_jsonl(&out);
    assert_eq!(rows.len(), questions.len());
    for (row, (id, _, context)) in rows.iter().zip(&questions) {
        assert_eq!(row["id"], json!(id));
        check(row, id, context);
    }
    // New questions come without titles or answers: the same predictions.
    let mut bare = json!({"data": articles[2..4].to_vec()});
    for article in bare["data"].as_array_mut().unwrap() {
        article.as_object_mut().unwrap().remove("title");
        for paragraph in article["paragraphs"].as_array_mut().unwrap() {
            for qa in paragraph["qas"].as_array_mut().unwrap() {
                qa.as_object_mut().unwrap().remove("answers");
            }
        }
    }
    let bare_rows = parse_jsonl(&stdout_ok(&predict(&model, &[], Some(&bare.to_string()))));
    assert_eq!(bare_rows, rows);

    // The same questions as lines (those whose text fits on one line), TSV and JSON lines.
    let one_line = |s: &str| !s.contains(['\t', '\n', '\r']);
    let kept: Vec<&(String, String, String)> = questions
        .iter()
        .filter(|(_, q, c)| one_line(q) && one_line(c))
        .collect();
    assert!(
        kept.len() > questions.len() / 2,
        "{} of {}",
        kept.len(),
        questions.len()
    );
    let stdin: String = kept.iter().map(|(_, q, c)| format!("{q}\t{c}\n")).collect();
    let rows = parse_jsonl(&stdout_ok(&predict(&model, &[], Some(&stdin))));
    assert_eq!(rows.len(), kept.len());
    for (i, (row, (id, _, context))) in rows.iter().zip(&kept).enumerate() {
        assert_eq!(row["line"], i + 1);
        check(row, id, context);
    }
    let tsv = stdout_ok(&predict(&model, &["--format", "tsv"], Some(&stdin)));
    for (line, row) in tsv.lines().zip(&rows) {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 4, "{line}");
        assert_eq!(fields[0], row["answer"].as_str().unwrap());
        assert_eq!(fields[1], row["start"].to_string());
        assert_eq!(fields[2], row["end"].to_string());
    }

    let bad = predict(
        &model,
        &[],
        Some(&format!(
            "{}\n\n질문만 있고 문맥이 없다\n",
            stdin.lines().next().unwrap()
        )),
    );
    let err = error_line(&bad);
    assert!(err.contains("<stdin>:3: expected `question<TAB>context`"), "{err}");
    let malformed = predict(&model, &[], Some("{\"data\": [\n"));
    let err = error_line(&malformed);
    assert!(err.contains("<stdin>: malformed JSON at line 2"), "{err}");
}
