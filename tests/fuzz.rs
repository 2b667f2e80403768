//! Fuzz targets for every parser of user input: the config parser (file text and `--set`
//! overrides), the seq-cls TSV readers (all six tasks), the NER reader and the SQuAD JSON reader.
//!
//! Inputs come from proptest strategies: raw bytes, real files (configs, the first lines of the
//! benchmark files, a cut of KorQuAD) with random mutations (byte flips, inserted separators and
//! hostile tokens, deleted, duplicated or truncated spans), and token soups. Every input must give
//! `Ok` with sane contents or a one-line error naming the source, never a panic.
//!
//! Each target runs for `FUZZ_SECONDS` (default 2) from seed `FUZZ_SEED` (default 0);
//! `scripts/fuzz.sh` runs them for minutes. A failing input is written to
//! `target/fuzz-failures/<target>-<n>.bin`; once fixed, it goes to `tests/fuzz_regressions/<target>/`,
//! which `regressions_stay_fixed` replays.
mod common;

use common::{root, shared};
use koelectra_ft::{config, tasks};
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Separators and values that parsers tend to trip on.
const DICTIONARY: &[&str] = &[
    "\t",
    "\n",
    "\r\n",
    "\r",
    " ",
    "\"",
    "\\",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "=",
    "0",
    "-1",
    "1e999",
    "NaN",
    "inf",
    "-0",
    "9999999999999999999999",
    "\u{feff}",
    "\u{0}",
    "\u{85}",
    "\u{2028}",
    "\u{ad}",
    "가",
    "😀",
    "null",
    "true",
    "[]",
    "{}",
    "\"\"",
    "label",
    "O",
    "PER-B",
    "PER-I",
    "entailment",
    "contradiction",
    "neutral",
    "none",
    "hate",
    "offensive",
    "answer_start",
    "answers",
    "context",
    "question",
    "qas",
    "id",
    "paragraphs",
    "data",
    "\"text\"",
    "\"answer_start\": -5",
    "\"answer_start\": 99999",
    "\\ud800",
    "\"task\"",
    "\"nsmc\"",
    "\"max_seq_len\"",
    "\"learning_rate\"",
    "\"model_config\"",
    "\"vocab_file\"",
];

/// One parser under test: seeds to mutate (read only when fuzzing) and a check that is `Err` on a
/// bug (not on bad input).
struct Target {
    name: &'static str,
    seeds: fn() -> Vec<Vec<u8>>,
    check: fn(&[u8]) -> Result<(), String>,
}

/// The error must be one line and name what was read.
fn one_line_error(e: &anyhow::Error, source: &str) -> Result<(), String> {
    let text = format!("{e:#}");
    if text.contains('\n') || text.contains('\r') {
        return Err(format!("multi-line error: {text:?}"));
    }
    if !text.contains(source) {
        return Err(format!("error does not name {source}: {text:?}"));
    }
    Ok(())
}

fn check_config(bytes: &[u8]) -> Result<(), String> {
    // Bytes after the first 0xff are `--set` overrides, one per line.
    let (file, sets) = match bytes.iter().position(|&b| b == 0xff) {
        Some(i) => (&bytes[..i], String::from_utf8_lossy(&bytes[i + 1..]).into_owned()),
        None => (bytes, String::new()),
    };
    let overrides: Vec<String> = sets.lines().map(str::to_string).collect();
    let text = String::from_utf8_lossy(file);
    match config::parse_config("fuzz.json", &text, &overrides) {
        Ok(cfg) if cfg.task.is_empty() => Err("config accepted without a task".into()),
        Ok(cfg) if cfg.train_batch_size == 0 || cfg.max_seq_len == 0 => Err("zero batch or length accepted".into()),
        Ok(_) => Ok(()),
        // Override errors name the key rather than the file.
        Err(e) if !overrides.is_empty() => one_line_error(&e, ""),
        Err(e) => one_line_error(&e, "fuzz.json"),
    }
}

const SEQ_CLS_TASKS: &[&str] = &["nsmc", "kornli", "paws", "question-pair", "korsts", "hate-speech"];

fn check_tsv(bytes: &[u8]) -> Result<(), String> {
    let path = Path::new("fuzz.tsv");
    for task in SEQ_CLS_TASKS {
        let spec = tasks::seq_cls::task_spec(task).map_err(|e| e.to_string())?;
        match tasks::seq_cls::parse_examples(task, bytes.to_vec(), path, "train") {
            Ok(report) => {
                for ex in &report.examples {
                    match ex.label {
                        tasks::seq_cls::Label::Class(id) if id >= spec.num_labels() => {
                            return Err(format!("{task}: label id {id} out of range"))
                        }
                        tasks::seq_cls::Label::Score(s) if !s.is_finite() => {
                            return Err(format!("{task}: score {s} accepted"))
                        }
                        _ => {}
                    }
                }
            }
            Err(e) => one_line_error(&e, "fuzz.tsv").map_err(|m| format!("{task}: {m}"))?,
        }
    }
    Ok(())
}

fn check_ner(bytes: &[u8]) -> Result<(), String> {
    match tasks::ner::parse_examples(bytes.to_vec(), Path::new("fuzz.tsv"), "train") {
        Ok(examples) => match examples.iter().find(|ex| ex.words.len() != ex.labels.len()) {
            Some(ex) => Err(format!(
                "{}: {} words, {} labels",
                ex.guid,
                ex.words.len(),
                ex.labels.len()
            )),
            None => Ok(()),
        },
        Err(e) => one_line_error(&e, "fuzz.tsv"),
    }
}

fn check_squad(bytes: &[u8]) -> Result<(), String> {
    for (training, v2) in [(true, false), (false, false), (true, true)] {
        match tasks::squad::parse_examples(bytes, "fuzz.json", training, v2) {
            Ok(outcome) => {
                for ex in &outcome.examples {
                    let n = ex.doc_words.len();
                    let span = ex.start_word.zip(ex.end_word);
                    if span.is_some_and(|(s, e)| s > e || e >= n) {
                        return Err(format!("{}: answer words {span:?} outside {n} words", ex.qas_id));
                    }
                    if ex.char_to_word.len() != ex.context.chars().count() {
                        return Err(format!("{}: char_to_word does not cover the context", ex.qas_id));
                    }
                }
            }
            Err(e) => one_line_error(&e, "fuzz.json")?,
        }
    }
    Ok(())
}

/// The first `n` lines of a shared data file.
fn head(rel: &str, n: usize) -> Vec<u8> {
    let text = std::fs::read_to_string(shared("data").join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    text.split_inclusive('\n').take(n).collect::<String>().into_bytes()
}

fn config_seeds() -> Vec<Vec<u8>> {
    let names = config::embedded_config_names();
    let picked = names.iter().step_by(8).chain(names.last());
    picked
        .map(|name| {
            let mut text = config::embedded_config(name).expect("embedded").as_bytes().to_vec();
            text.extend(b"\xfflearning_rate=3e-5\nmax_steps=7");
            text
        })
        .collect()
}

fn tsv_seeds() -> Vec<Vec<u8>> {
    [
        "nsmc/ratings_test.txt",
        "kornli/xnli.dev.ko.tsv",
        "paws/dev_2k.tsv",
        "question-pair/dev.tsv",
        "korsts/sts-dev.tsv",
        "hate-speech/val.tsv",
    ]
    .iter()
    .map(|f| head(f, 12))
    .collect()
}

fn ner_seeds() -> Vec<Vec<u8>> {
    vec![head("naver-ner/test.tsv", 12)]
}

/// The first article of KorQuAD dev with its first paragraph, and a hand-made SQuAD 2.0 file.
fn squad_seeds() -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(shared("data/korquad/KorQuAD_v1.0_dev.json")).expect("KorQuAD dev");
    let mut data: serde_json::Value = serde_json::from_str(&text).expect("KorQuAD json");
    let mut article = data["data"][0].take();
    article["paragraphs"].as_array_mut().expect("paragraphs").truncate(1);
    let korquad = serde_json::json!({"version": "KorQuAD_v1.0_dev", "data": [article]});
    let v2 = serde_json::json!({"data": [{"title": "t", "paragraphs": [{"context": "서울은 한국의 수도이다.",
        "qas": [{"id": "a", "question": "수도는?", "answers": [{"text": "서울", "answer_start": 0}]},
                {"id": "b", "question": "없음?", "answers": [], "is_impossible": true}]}]}]});
    vec![korquad.to_string().into_bytes(), v2.to_string().into_bytes()]
}

fn targets() -> Vec<Target> {
    vec![
        Target {
            name: "config",
            seeds: config_seeds,
            check: check_config,
        },
        Target {
            name: "seq_cls_tsv",
            seeds: tsv_seeds,
            check: check_tsv,
        },
        Target {
            name: "ner_tsv",
            seeds: ner_seeds,
            check: check_ner,
        },
        Target {
            name: "squad_json",
            seeds: squad_seeds,
            check: check_squad,
        },
    ]
}

/// One edit of a seed; positions are taken modulo the current length.
#[derive(Debug, Clone)]
enum Mutation {
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Flip(usize, u8),
    Duplicate(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let token = prop_oneof![
        prop::sample::select(DICTIONARY).prop_map(|t| t.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 1..4),
    ];
    prop_oneof![
        4 => (any::<usize>(), token).prop_map(|(at, t)| Mutation::Insert(at, t)),
        2 => (any::<usize>(), 1usize..16).prop_map(|(at, n)| Mutation::Delete(at, n)),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(at, bit)| Mutation::Flip(at, bit)),
        1 => (any::<usize>(), 1usize..64).prop_map(|(at, n)| Mutation::Duplicate(at, n)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Mutation]) -> Vec<u8> {
    for edit in edits {
        let len = bytes.len();
        let at = |i: usize| if len == 0 { 0 } else { i % (len + 1) };
        match edit {
            Mutation::Insert(i, t) => {
                let at = at(*i);
                bytes.splice(at..at, t.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let start = at(*i);
                bytes.drain(start..(start + n).min(len));
            }
            Mutation::Flip(i, bit) if len > 0 => bytes[i % len] ^= 1 << (bit % 8),
            Mutation::Duplicate(i, n) => {
                let start = at(*i);
                let span: Vec<u8> = bytes[start..(start + n).min(len)].to_vec();
                bytes.splice(start..start, span);
            }
            Mutation::Truncate(i) => bytes.truncate(at(*i)),
            Mutation::Flip(..) => {}
        }
    }
    bytes
}

fn inputs(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let mutated = (prop::sample::select(seeds), prop::collection::vec(mutation(), 1..10))
        .prop_map(|(seed, edits)| apply(seed, &edits));
    let soup = prop::collection::vec(prop::sample::select(DICTIONARY), 0..48).prop_map(|t| t.concat().into_bytes());
    prop_oneof![
        6 => mutated,
        2 => soup,
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

/// Catches panics so a crash is reported with its input instead of aborting the run.
fn run_check(check: fn(&[u8]) -> Result<(), String>, input: &[u8]) -> Result<(), String> {
    match std::panic::catch_unwind(|| check(input)) {
        Ok(result) => result,
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("panic: {message}"))
        }
    }
}

fn env_number(name: &str, default: f64) -> f64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs `target` for the time budget; returns the number of executions.
fn fuzz(target: Target) -> usize {
    let budget = Duration::from_secs_f64(env_number("FUZZ_SECONDS", 2.0));
    let seed = env_number("FUZZ_SEED", 0.0) as u64;
    let strategy = inputs((target.seeds)());
    let started = Instant::now();
    let executions = AtomicUsize::new(0);
    let mut round = 0u64;
    while started.elapsed() < budget {
        let mut rng_seed = [0u8; 32];
        rng_seed[..8].copy_from_slice(&seed.to_le_bytes());
        rng_seed[8..16].copy_from_slice(&round.to_le_bytes());
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &rng_seed);
        let config = RunnerConfig {
            cases: 500,
            failure_persistence: None,
            ..RunnerConfig::default()
        };
        let mut runner = TestRunner::new_with_rng(config, rng);
        let result = runner.run(&strategy, |input| {
            executions.fetch_add(1, Ordering::Relaxed);
            run_check(target.check, &input).map_err(TestCaseError::fail)
        });
        if let Err(failure) = result {
            let saved = save_failure(target.name, &failure);
            panic!("fuzz target {} failed (input saved to {saved}): {failure}", target.name);
        }
        round += 1;
    }
    let executions = executions.load(Ordering::Relaxed);
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "fuzz {}: {executions} executions in {secs:.0} s, seed {seed}, 0 failures",
        target.name
    );
    executions
}

/// Writes the minimal failing input proptest found; returns its path.
fn save_failure(name: &str, failure: &proptest::test_runner::TestError<Vec<u8>>) -> String {
    let proptest::test_runner::TestError::Fail(_, input) = failure else {
        return "(nowhere: proptest aborted)".into();
    };
    let dir = root().join("target/fuzz-failures");
    let _ = std::fs::create_dir_all(&dir);
    let n = std::fs::read_dir(&dir).map_or(0, |d| d.count());
    let path = dir.join(format!("{name}-{n}.bin"));
    let _ = std::fs::write(&path, input);
    path.display().to_string()
}

fn target(name: &str) -> Target {
    targets().into_iter().find(|t| t.name == name).expect("known target")
}

#[test]
fn fuzz_config() {
    assert!(fuzz(target("config")) > 0);
}

#[test]
fn fuzz_seq_cls_tsv() {
    assert!(fuzz(target("seq_cls_tsv")) > 0);
}

#[test]
fn fuzz_ner_tsv() {
    assert!(fuzz(target("ner_tsv")) > 0);
}

#[test]
fn fuzz_squad_json() {
    assert!(fuzz(target("squad_json")) > 0);
}

/// Every input that once crashed a target (committed under tests/fuzz_regressions/<target>/).
#[test]
fn regressions_stay_fixed() {
    let mut replayed = 0;
    for t in targets() {
        let dir = root().join("tests/fuzz_regressions").join(t.name);
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            let input = std::fs::read(&path).unwrap();
            if let Err(why) = run_check(t.check, &input) {
                panic!("{}: {why}", path.display());
            }
            replayed += 1;
        }
    }
    eprintln!("replayed {replayed} regression input(s)");
}

/// The mutator itself: edits stay in bounds on empty and short inputs.
#[test]
fn mutations_handle_empty_and_short_inputs() {
    let edits = [
        Mutation::Delete(5, 10),
        Mutation::Duplicate(3, 9),
        Mutation::Flip(7, 3),
        Mutation::Truncate(2),
        Mutation::Insert(99, b"ab".to_vec()),
    ];
    assert_eq!(apply(vec![], &edits), b"ab");
    assert_eq!(apply(b"xyz".to_vec(), &[Mutation::Delete(1, 1)]), b"xz");
    assert_eq!(apply(b"xyz".to_vec(), &[Mutation::Duplicate(0, 2)]), b"xyxyz");
}
