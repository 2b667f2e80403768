//! Fuzz targets for the parsers of user data: the config parser (file text and `--set` overrides),
//! the seq-cls TSV readers (all six tasks), the NER reader and the SQuAD JSON reader.
use super::common::shared;
use super::engine::{accept, one_line_error, Target};
use koelectra_ft::{config, tasks};
use std::path::Path;

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
        Ok(_) => accept(),
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
                accept()?;
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
            None => accept(),
        },
        Err(e) => one_line_error(&e, "fuzz.tsv"),
    }
}

fn check_squad(bytes: &[u8]) -> Result<(), String> {
    for (training, v2) in [(true, false), (false, false), (true, true)] {
        match tasks::squad::parse_examples(bytes, "fuzz.json", training, v2) {
            Ok(outcome) => {
                accept()?;
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

/// The dictionary as bytes.
fn dictionary() -> Vec<Vec<u8>> {
    DICTIONARY.iter().map(|t| t.as_bytes().to_vec()).collect()
}

pub fn targets() -> Vec<Target> {
    vec![
        Target {
            name: "config",
            seeds: config_seeds,
            dictionary,
            check: check_config,
        },
        Target {
            name: "seq_cls_tsv",
            seeds: tsv_seeds,
            dictionary,
            check: check_tsv,
        },
        Target {
            name: "ner_tsv",
            seeds: ner_seeds,
            dictionary,
            check: check_ner,
        },
        Target {
            name: "squad_json",
            seeds: squad_seeds,
            dictionary,
            check: check_squad,
        },
    ]
}
