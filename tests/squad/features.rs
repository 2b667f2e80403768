//! KorQuAD reader and features (spec §4.9, §5.3, §12).
//!
//! * `dev_file_stats`: the snapshot's dev file (140 articles, 964 paragraphs, 5,774 questions).
//! * `worked_example_windows`: the §12 windows (question 20 tokens, document 1,000 tokens).
//! * `hf_parity_eval` / `hf_parity_train`: every feature of the dev file, in evaluation mode and read as
//!   training data, against transformers 4.57's `squad_convert_examples_to_features` run at test time
//!   by `scripts/hf_squad_features.py` (max_seq_length 512, doc_stride 128, max_query_length 64; about a
//!   minute of Python each). `hf_parity_short_windows` does the same on three articles with tiny windows.
//! * `bad_input_*`: one-line errors; training drops and counts bad answers.
//! * `threads_do_not_change_features`: 1 vs 4 workers.
//!
//! HF 4.57 against the spec (transformers 3.3.1), as found here:
//! 1. `squad_convert_example_to_features` does not run with `ElectraTokenizerFast` at all: it passes the
//!    truncated query as a list of ids to `encode_plus`, which the fast tokenizer rejects ("TypeError:
//!    TextInputSequence must be str"). The script therefore runs 4.57's conversion with the slow
//!    `ElectraTokenizer` class and delegates its `tokenize` (doc words, question, answer text) to
//!    `ElectraTokenizerFast`; `encode_plus`, truncation with `stride`/`overflowing_tokens`, padding and
//!    id ↔ token lookups are the slow class's, over the same vocab file.
//! 2. Apart from the tokenizer, 4.57's conversion is the 3.3.1 code (only the multi-separator
//!    tokenizer test and `model_max_length` changed), and its window layout (`stride = max_seq_length -
//!    doc_stride - len(q) - 3` on the overflow, `paragraph_len = min(rest, M)`, stop when nothing
//!    overflows) is the spec's: every field agrees on every feature (dev, evaluation: 6,559 features;
//!    dev read as training data: 6,559 features, 505 of them windows without the answer; the short and
//!    the stride > window settings on three articles): 0 differences.
//! 3. Tokenization follows the project's choice (the fast tokenizer, text cleaning on), not 3.3.1's slow
//!    tokenizer (no cleaning). On the dev file this changes nothing: 4.57's slow `ElectraTokenizer` and
//!    `ElectraTokenizerFast` agree on all 53,429 distinct doc words, 5,764 questions and 3,946 answers,
//!    and the one word with a format char (`الصمود\u{200e})`) is `[UNK] )` with or without cleaning.
//! 4. Where the reference crashes, the spec (and this crate) differ by design: a training
//!    `answer_start` outside the context (IndexError in HF) drops the example. None occur in dev.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use crate::common::{root, shared, v3_vocab, venv_python};
use koelectra_ft::tasks::squad::features::{doc_windows, max_context_window, DocWindow, FIRST_UNIQUE_ID};
use koelectra_ft::tasks::squad::{build_features, parse_examples, read_examples, SquadExample, SquadFeature, Windows};
use koelectra_ft::text::{Tokenizer, WordPieceTokenizer};
use serde::Deserialize;

const MAX_SEQ_LENGTH: usize = 512;
const DOC_STRIDE: usize = 128;
const MAX_QUERY_LENGTH: usize = 64;

fn dev_json() -> PathBuf {
    shared("data/korquad/KorQuAD_v1.0_dev.json")
}

fn v3() -> WordPieceTokenizer {
    WordPieceTokenizer::from_vocab_file(&v3_vocab(), false).expect("load v3 vocab")
}

/// The reference's windows (512 / 128 / 64) on `threads` workers.
fn windows(threads: usize) -> Windows {
    Windows {
        max_seq_length: MAX_SEQ_LENGTH,
        doc_stride: DOC_STRIDE,
        max_query_length: MAX_QUERY_LENGTH,
        threads,
        reference_xlmr_offset: false,
    }
}

fn features(tok: &WordPieceTokenizer, examples: &[SquadExample], training: bool, threads: usize) -> Vec<SquadFeature> {
    build_features(tok, examples, &windows(threads), training).expect("features")
}

#[test]
fn dev_file_stats() {
    let read = read_examples(&dev_json(), false, false).expect("read dev");
    assert_eq!(read.version, "KorQuAD_v1.0_dev");
    assert_eq!(read.articles, 140);
    assert_eq!(read.paragraphs, 964);
    assert_eq!(read.examples.len(), 5_774);
    assert_eq!(read.dropped, 0);
    let contexts: HashSet<*const u8> = read.examples.iter().map(|e| e.context.as_ptr()).collect();
    // One paragraph has no questions; the questions of each other one share its context.
    assert_eq!(contexts.len(), 963);
    let titles: HashSet<&str> = read.examples.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(titles.len(), 140);
    // Every answer_start matches its text in chars (the reader would have failed otherwise; check again
    // independently), and each dev question has exactly one answer.
    for ex in &read.examples {
        assert_eq!(ex.answers.len(), 1, "{}", ex.qas_id);
        let chars: Vec<char> = ex.context.chars().collect();
        for a in &ex.answers {
            let n = a.text.chars().count();
            let found: String = chars[a.start_char..a.start_char + n].iter().collect();
            assert_eq!(found, a.text, "{}", ex.qas_id);
        }
        assert_eq!(ex.char_to_word.len(), chars.len());
        assert!(ex.start_word.is_none() && !ex.is_impossible);
    }
    // Read as training data, the same file keeps every question (first answer only).
    let train = read_examples(&dev_json(), true, false).expect("read dev as training data");
    assert_eq!(train.examples.len() + train.dropped, 5_774);
    assert!(train
        .examples
        .iter()
        .all(|e| e.start_word.is_some() && e.end_word.is_some()));
    eprintln!(
        "dev as training data: {} examples, {} dropped",
        train.examples.len(),
        train.dropped
    );
}

/// A one-paragraph SQuAD file; `qas` is the JSON list of questions.
fn squad_json(context: &str, qas: &str) -> String {
    format!(
        r#"{{"version": "test", "data": [{{"title": "t", "paragraphs": [{{"context": {}, "qas": {qas}}}]}}]}}"#,
        serde_json::to_string(context).expect("json string")
    )
}

#[test]
fn worked_example_windows() {
    // "가" is one token of the v3 vocab, so 20 question words are 20 tokens and 1,000 doc words 1,000.
    let tok = v3();
    assert_eq!(tok.encode_words(&["가"]).expect("tokenize").concat().len(), 1);
    let question = vec!["가"; 20].join(" ");
    let context = vec!["가"; 1000].join(" ");
    // Doc word 300 starts at char 600; it is the answer.
    let qas =
        format!(r#"[{{"id": "w", "question": "{question}", "answers": [{{"text": "가", "answer_start": 600}}]}}]"#);
    let json = squad_json(&context, &qas);

    let windows = doc_windows(1000, MAX_SEQ_LENGTH - 20 - 3, DOC_STRIDE);
    let expected: Vec<DocWindow> = [(0, 489), (128, 489), (256, 489), (384, 489), (512, 488)]
        .map(|(start, len)| DocWindow { start, len })
        .to_vec();
    assert_eq!(windows, expected);
    assert_eq!(max_context_window(&windows, 300), Some(0));

    for training in [false, true] {
        let read = parse_examples(json.as_bytes(), "worked.json", training, false).expect("read");
        assert_eq!(read.examples.len(), 1);
        if training {
            assert_eq!(
                (read.examples[0].start_word, read.examples[0].end_word),
                (Some(300), Some(300))
            );
        }
        let feats = features(&tok, &read.examples, training, 1);
        assert_eq!(feats.len(), 5);
        for (k, (f, w)) in feats.iter().zip(&expected).enumerate() {
            assert_eq!(f.query_len, 20);
            assert_eq!(f.doc_offset(), 22);
            assert_eq!(f.paragraph_len, w.len);
            assert_eq!(f.input_ids.len(), 20 + 3 + w.len);
            assert_eq!(f.unique_id, FIRST_UNIQUE_ID + k as i64);
            assert_eq!(f.example_index, 0);
            assert_eq!(f.tokens[0], "[CLS]");
            assert_eq!(f.tokens[21], "[SEP]");
            assert_eq!(f.tokens.last().map(String::as_str), Some("[SEP]"));
            assert_eq!(f.token_type_ids.iter().filter(|&&t| t == 0).count(), 22);
            assert_eq!(f.token_to_orig_map[22], Some(w.start));
            assert_eq!(f.token_to_orig_map[21], None);
            // Doc token 300: max context in window 0 only (scores 192.89, 176.89, 48.89).
            if (w.start..w.start + w.len).contains(&300) {
                assert_eq!(f.token_is_max_context[22 + 300 - w.start], k == 0, "window {k}");
            }
            if training {
                // Windows 0-2 contain doc token 300; 3 and 4 point at [CLS].
                let expect = if k < 3 { 22 + 300 - w.start } else { 0 };
                assert_eq!((f.start_position, f.end_position), (expect, expect), "window {k}");
                assert_eq!(f.is_impossible, k >= 3);
            } else {
                assert_eq!((f.start_position, f.end_position, f.is_impossible), (0, 0, false));
            }
        }
    }
}

/// One line of `scripts/hf_squad_features.py`.
#[derive(Deserialize)]
struct HfFeature {
    qas_id: String,
    example_index: usize,
    unique_id: i64,
    input_ids: Vec<i64>,
    token_type_ids: Vec<i64>,
    tokens: Vec<String>,
    doc_offset: usize,
    token_to_orig: Vec<usize>,
    max_context: Vec<u8>,
    paragraph_len: usize,
    start_position: usize,
    end_position: usize,
    is_impossible: bool,
}

#[derive(Deserialize)]
struct HfSummary {
    examples: usize,
    examples_without_features: usize,
    features: usize,
}

#[derive(Deserialize)]
struct HfSummaryLine {
    summary: HfSummary,
}

/// Window settings of one comparison.
#[derive(Clone, Copy)]
struct Settings {
    max_seq_length: usize,
    doc_stride: usize,
    max_query_length: usize,
}

/// The tokenizer of one comparison: KoELECTRA v3's WordPiece, or the XLM-R fixture (tests/fixtures/sp/xlmr)
/// with the reference's document offset (`len(q)+2`) or the corrected one (`len(q)+3`).
#[derive(Clone, Copy)]
enum Tok {
    V3,
    Xlmr { reference_offset: bool },
}

fn xlmr_dir() -> PathBuf {
    root().join("tests/fixtures/sp/xlmr")
}

const REFERENCE: Settings = Settings {
    max_seq_length: MAX_SEQ_LENGTH,
    doc_stride: DOC_STRIDE,
    max_query_length: MAX_QUERY_LENGTH,
};

fn run_hf(data: &Path, training: bool, s: Settings, tok: Tok) -> (Vec<HfFeature>, HfSummary) {
    let mut cmd = Command::new(venv_python());
    cmd.current_dir(root()).arg("scripts/hf_squad_features.py");
    match tok {
        Tok::V3 => cmd.arg("--vocab").arg(v3_vocab()),
        Tok::Xlmr { reference_offset: true } => cmd.arg("--xlmr").arg(xlmr_dir()),
        Tok::Xlmr {
            reference_offset: false,
        } => cmd.arg("--xlmr").arg(xlmr_dir()).arg("--multi-sep"),
    };
    let out = cmd
        .arg("--data")
        .arg(data)
        .args(["--mode", if training { "train" } else { "eval" }])
        .args(["--max-seq-length", &s.max_seq_length.to_string()])
        .args(["--doc-stride", &s.doc_stride.to_string()])
        .args(["--max-query-length", &s.max_query_length.to_string()])
        .output()
        .expect("run scripts/hf_squad_features.py");
    assert!(
        out.status.success(),
        "scripts/hf_squad_features.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    let mut lines: Vec<&str> = stdout.lines().collect();
    let summary: HfSummaryLine = serde_json::from_str(lines.pop().expect("summary line")).expect("summary");
    let features = lines
        .into_iter()
        .map(|l| serde_json::from_str(l).expect("feature line"))
        .collect();
    (features, summary.summary)
}

/// Compares every feature field with HF; returns the per-field mismatch counts (and prints examples).
fn compare(
    examples: &[SquadExample],
    ours: &[SquadFeature],
    hf: &[HfFeature],
    verbose: bool,
) -> BTreeMap<&'static str, usize> {
    let mut bad: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut shown = if verbose { 0 } else { usize::MAX };
    for (a, b) in ours.iter().zip(hf) {
        let doc = a.doc_offset()..a.doc_offset() + a.paragraph_len;
        let orig: Vec<usize> = a.token_to_orig_map[doc.clone()]
            .iter()
            .map(|w| w.unwrap_or(usize::MAX))
            .collect();
        let max_ctx: Vec<u8> = a.token_is_max_context[doc.clone()]
            .iter()
            .map(|&m| u8::from(m))
            .collect();
        let outside_doc_clean = a
            .token_to_orig_map
            .iter()
            .enumerate()
            .all(|(i, w)| doc.contains(&i) == w.is_some())
            && a.token_is_max_context
                .iter()
                .enumerate()
                .all(|(i, &m)| !m || doc.contains(&i));
        let checks: [(&'static str, bool); 13] = [
            ("qas_id", examples[a.example_pos].qas_id == b.qas_id),
            ("example_index", a.example_index == b.example_index),
            ("unique_id", a.unique_id == b.unique_id),
            ("input_ids", a.input_ids == b.input_ids),
            ("token_type_ids", a.token_type_ids == b.token_type_ids),
            ("tokens", a.tokens == b.tokens),
            ("doc_offset", a.doc_offset() == b.doc_offset),
            ("paragraph_len", a.paragraph_len == b.paragraph_len),
            ("token_to_orig_map", orig == b.token_to_orig && outside_doc_clean),
            ("token_is_max_context", max_ctx == b.max_context),
            ("start_position", a.start_position == b.start_position),
            ("end_position", a.end_position == b.end_position),
            ("is_impossible", a.is_impossible == b.is_impossible),
        ];
        for (name, ok) in checks {
            if !ok {
                *bad.entry(name).or_default() += 1;
                if shown < 5 {
                    shown += 1;
                    eprintln!("{} (unique_id {}): {name} differs from HF", b.qas_id, b.unique_id);
                }
            }
        }
    }
    bad
}

fn parity(label: &str, data: &Path, training: bool, s: Settings) {
    parity_with(label, data, training, s, Tok::V3);
}

fn parity_with(label: &str, data: &Path, training: bool, s: Settings, which: Tok) {
    let (hf, summary) = run_hf(data, training, s, which);
    let read = read_examples(data, training, false).expect("read data");
    let tok: Box<dyn Tokenizer> = match which {
        Tok::V3 => Box::new(v3()),
        Tok::Xlmr { .. } => koelectra_ft::text::load_dir(&xlmr_dir()).expect("load the XLM-R fixture"),
    };
    let settings = Windows {
        max_seq_length: s.max_seq_length,
        doc_stride: s.doc_stride,
        max_query_length: s.max_query_length,
        threads: 4,
        reference_xlmr_offset: matches!(which, Tok::Xlmr { reference_offset: true }),
    };
    let ours = build_features(tok.as_ref(), &read.examples, &settings, training).expect("features");

    assert_eq!(summary.examples, read.examples.len() + read.dropped);
    assert_eq!(summary.examples_without_features, read.dropped, "dropped examples");
    assert_eq!(summary.features, hf.len());
    assert_eq!(ours.len(), hf.len(), "feature count");
    let bad = compare(&read.examples, &ours, &hf, true);

    // The comparison does see a difference.
    let mut altered = ours[..1].to_vec();
    let first_doc = altered[0].doc_offset();
    altered[0].token_is_max_context[first_doc] ^= true;
    altered[0].end_position += 1;
    assert_eq!(compare(&read.examples, &altered, &hf, false).len(), 2);

    let ids: usize = ours.iter().map(|f| f.input_ids.len()).sum();
    let mut windows = BTreeMap::new();
    for f in &ours {
        *windows.entry(f.example_index).or_insert(0usize) += 1;
    }
    let multi = windows.values().filter(|&&n| n > 1).count();
    let most = windows.values().max().copied().unwrap_or(0);
    let cls_targets = ours.iter().filter(|f| training && f.is_impossible).count();
    let cut_queries = ours.iter().filter(|f| f.query_len == s.max_query_length).count();
    eprintln!(
        "{label} parity ({}): {} examples ({} dropped), {} features, {ids} ids; {multi} examples have several \
         windows (at most {most}); {cls_targets} training windows without the answer; {cut_queries} features \
         with the query cut at {}; mismatches {bad:?}",
        if training { "train" } else { "eval" },
        read.examples.len(),
        read.dropped,
        ours.len(),
        s.max_query_length
    );
    assert!(bad.is_empty(), "features differ from HF: {bad:?}");
}

#[test]
fn hf_parity_eval() {
    parity("dev", &dev_json(), false, REFERENCE);
}

#[test]
fn hf_parity_train() {
    parity("dev", &dev_json(), true, REFERENCE);
}

/// Short windows on the first three dev articles: many windows per example, cut questions; then a
/// stride longer than the window (max_seq_length 40, max_query_length 8: at most 29 doc tokens per
/// window, starts 32 apart), which leaves doc tokens in no window. HF agrees there too.
#[test]
fn hf_parity_short_windows() {
    let mut dev: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dev_json()).expect("read dev")).expect("dev JSON");
    let data = dev["data"].as_array_mut().expect("data array");
    data.truncate(3);
    let path = temp_file("dev-3-articles.json", &dev.to_string());
    let short = Settings {
        max_seq_length: 64,
        doc_stride: 16,
        max_query_length: 8,
    };
    let gaps = Settings {
        max_seq_length: 40,
        doc_stride: 32,
        max_query_length: 8,
    };
    for (label, settings) in [("short windows", short), ("stride > window", gaps)] {
        parity(label, &path, false, settings);
        parity(label, &path, true, settings);
    }
}

/// XLM-R's `<s> q </s></s> d </s>` windows on the first three dev articles (the reference's 512/128/64
/// and short windows), evaluation and training, against transformers' conversion with the XLM-R fixture
/// tokenizer: with `squad_reference_xlmr_offset` the maps and targets sit at `len(q)+2` as transformers
/// puts them (it does not know XLM-R has two separators), without it at `len(q)+3` as transformers
/// puts them once told (`--multi-sep`). The two layouts differ, and each equals its HF counterpart.
#[test]
fn hf_parity_xlmr_offsets() {
    let mut dev: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dev_json()).expect("read dev")).expect("dev JSON");
    let data = dev["data"].as_array_mut().expect("data array");
    data.truncate(3);
    let path = temp_file("dev-3-articles-xlmr.json", &dev.to_string());
    let short = Settings {
        max_seq_length: 64,
        doc_stride: 16,
        max_query_length: 8,
    };
    for reference_offset in [true, false] {
        let which = Tok::Xlmr { reference_offset };
        let label = if reference_offset {
            "xlm-r, reference offset"
        } else {
            "xlm-r, corrected offset"
        };
        for settings in [REFERENCE, short] {
            parity_with(label, &path, false, settings, which);
            parity_with(label, &path, true, settings, which);
        }
    }
    // The key moves the maps by one position and nothing else.
    let read = read_examples(&path, true, false).expect("read");
    let tok = koelectra_ft::text::load_dir(&xlmr_dir()).expect("load the XLM-R fixture");
    let build = |reference_xlmr_offset| {
        let w = Windows {
            reference_xlmr_offset,
            ..windows(2)
        };
        build_features(tok.as_ref(), &read.examples, &w, true).expect("features")
    };
    let (quirk, fixed) = (build(true), build(false));
    assert_eq!(quirk.len(), fixed.len());
    for (q, f) in quirk.iter().zip(&fixed) {
        assert_eq!(q.input_ids, f.input_ids);
        assert_eq!(q.doc_offset() + 1, f.doc_offset());
        assert_eq!(f.doc_offset(), f.query_len + 3);
        if !f.is_impossible {
            assert_eq!(q.start_position + 1, f.start_position);
        }
    }
}

#[test]
fn threads_do_not_change_features() {
    let tok = v3();
    for training in [false, true] {
        let read = read_examples(&dev_json(), training, false).expect("read dev");
        let clock = std::time::Instant::now();
        let one = features(&tok, &read.examples, training, 1);
        let t1 = clock.elapsed();
        let four = features(&tok, &read.examples, training, 4);
        eprintln!(
            "dev features (training = {training}): {:.2?} on 1 thread, {:.2?} on 4",
            t1,
            clock.elapsed() - t1
        );
        assert_eq!(one.len(), four.len());
        assert!(
            one == four,
            "1 and 4 threads give different features (training = {training})"
        );
        let three = features(&tok, &read.examples[..7], training, 3);
        assert_eq!(three, features(&tok, &read.examples[..7], training, 1));
    }
}

// ---------------------------------------------------------------------------------------------
// Bad input

/// A temp file removed on drop.
struct TempFile(PathBuf);

impl std::ops::Deref for TempFile {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir(dir); // only once empty
        }
    }
}

/// Writes `text` to a fresh temp file.
fn temp_file(name: &str, text: &str) -> TempFile {
    let dir = std::env::temp_dir().join(format!("koelectra-squad-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write temp file");
    TempFile(path)
}

fn read_err(path: &Path, training: bool) -> String {
    match read_examples(path, training, false) {
        Ok(_) => panic!("{}: expected an error", path.display()),
        Err(e) => {
            let msg = format!("{e:#}");
            assert!(!msg.contains('\n'), "one-line error: {msg}");
            assert!(msg.contains(&path.display().to_string()), "names the file: {msg}");
            msg
        }
    }
}

#[test]
fn bad_input_answer_start_mismatch_in_evaluation() {
    let qas = r#"[{"id": "q-ok", "question": "무엇?", "answers": [{"text": "사과", "answer_start": 3}]},
                  {"id": "q-bad", "question": "무엇?", "answers": [{"text": "사과", "answer_start": 4}]}]"#;
    let path = temp_file("mismatch.json", &squad_json("나는 사과를 먹었다", qas));
    let msg = read_err(&path, false);
    assert!(msg.contains("q-bad") && msg.contains("answer_start 4"), "{msg}");
    assert!(msg.contains("\"과를\""), "shows what the context has there: {msg}");
    // Past the end of the context.
    let qas = r#"[{"id": "q-far", "question": "?", "answers": [{"text": "다", "answer_start": 10}]}]"#;
    let msg = read_err(&temp_file("far.json", &squad_json("나는 사과를 먹었다", qas)), false);
    assert!(msg.contains("q-far") && msg.contains("10 chars"), "{msg}");
    // Training does not compare the offset with the text (nor does the reference); its answer check only
    // needs the text inside the words the offset points at ("사과를" contains "사과").
    let read = read_examples(&path, true, false).expect("training read");
    assert_eq!((read.examples.len(), read.dropped), (2, 0));
}

#[test]
fn bad_input_malformed_json() {
    let path = temp_file(
        "malformed.json",
        "{\"version\": \"x\",\n  \"data\": [\n    {\"title\": \"t\" \"paragraphs\": []}\n]}\n",
    );
    let msg = read_err(&path, false);
    assert!(msg.contains("malformed JSON at line 3, column 19"), "{msg}");
    let msg = read_err(&temp_file("truncated.json", "{\"data\": ["), false);
    assert!(msg.contains("malformed JSON at line 1"), "{msg}");
    let msg = read_err(&temp_file("nodata.json", "{\"version\": \"x\"}"), false);
    assert!(msg.contains("missing field \"data\""), "{msg}");
}

#[test]
fn bad_input_missing_fields() {
    let json = r#"{"data": [{"title": "t", "paragraphs": [{"qas": []}]}]}"#;
    let msg = read_err(&temp_file("nocontext.json", json), false);
    assert!(
        msg.contains("data[0].paragraphs[0]: missing field \"context\""),
        "{msg}"
    );

    let qas = r#"[{"id": "q1", "answers": [{"text": "a", "answer_start": 0}]}]"#;
    let msg = read_err(&temp_file("noquestion.json", &squad_json("a b", qas)), false);
    assert!(msg.contains("question \"q1\": missing field \"question\""), "{msg}");

    let qas = r#"[{"question": "?", "answers": []}]"#;
    let msg = read_err(&temp_file("noid.json", &squad_json("a b", qas)), false);
    assert!(
        msg.contains("data[0].paragraphs[0].qas[0]: missing field \"id\""),
        "{msg}"
    );

    let qas = r#"[{"id": "q2", "question": "?", "answers": [{"text": "a"}]}]"#;
    let msg = read_err(&temp_file("nostart.json", &squad_json("a b", qas)), true);
    assert!(
        msg.contains("question \"q2\", answer 0: missing field \"answer_start\""),
        "{msg}"
    );

    let qas = r#"[{"id": "q3", "question": "?", "answers": [{"text": "a", "answer_start": "0"}]}]"#;
    let msg = read_err(&temp_file("strstart.json", &squad_json("a b", qas)), false);
    assert!(
        msg.contains("q3") && msg.contains("non-negative integer, found a string"),
        "{msg}"
    );

    let qas = r#"[{"id": "q4", "question": "?", "answers": []}]"#;
    let msg = read_err(&temp_file("noanswers.json", &squad_json("a b", qas)), false);
    assert!(msg.contains("q4") && msg.contains("\"answers\" is empty"), "{msg}");
}

#[test]
fn training_drops_bad_examples() {
    let context = "  서울은 한국의 수도이다.";
    let qas = r#"[
        {"id": "ok", "question": "수도는?", "answers": [{"text": "서울", "answer_start": 2}, {"text": "서울은", "answer_start": 2}]},
        {"id": "not-found", "question": "수도는?", "answers": [{"text": "부산", "answer_start": 2}]},
        {"id": "out-of-range", "question": "수도는?", "answers": [{"text": "서울", "answer_start": 99}]},
        {"id": "leading-space", "question": "수도는?", "answers": [{"text": " 서울", "answer_start": 1}]},
        {"id": "empty", "question": "수도는?", "answers": [{"text": "", "answer_start": 2}]},
        {"id": "trailing", "question": "수도는?", "answers": [{"text": "수도이다.", "answer_start": 10}]}
    ]"#;
    let path = temp_file("train.json", &squad_json(context, qas));
    let read = read_examples(&path, true, false).expect("training read");
    let ids: Vec<&str> = read.examples.iter().map(|e| e.qas_id.as_str()).collect();
    assert_eq!(ids, ["ok", "trailing"]);
    assert_eq!(read.dropped, 4);
    assert_eq!(
        read.examples[0].answers.len(),
        1,
        "training keeps the first answer only"
    );
    assert_eq!(
        (read.examples[0].start_word, read.examples[0].end_word),
        (Some(0), Some(0))
    );
    assert_eq!(
        (read.examples[1].start_word, read.examples[1].end_word),
        (Some(2), Some(2))
    );
    assert_eq!(
        &*read.examples[0].char_to_word,
        &[-1, -1, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2]
    );

    // The improved span trims the word "서울은" to its first sub-token(s) matching "서울".
    let tok = v3();
    let feats = features(&tok, &read.examples, true, 2);
    assert_eq!(feats.len(), 2);
    assert_eq!(feats.iter().map(|f| f.example_index).collect::<Vec<_>>(), [0, 1]);
    let f = &feats[0];
    let answer = tok.encode_words(&["서울"]).expect("tokenize").concat();
    assert_eq!(&f.input_ids[f.start_position..=f.end_position], answer.as_slice());
    assert!(!f.is_impossible);
    // The evaluation reader refuses the bad offsets instead.
    let msg = read_err(&path, false);
    assert!(msg.contains("not-found"), "{msg}");
}

#[test]
fn squad_v2_impossible_questions() {
    let qas = r#"[{"id": "imp", "question": "?", "answers": [], "is_impossible": true},
                  {"id": "pos", "question": "?", "answers": [{"text": "b", "answer_start": 2}], "is_impossible": false}]"#;
    let path = temp_file("v2.json", &squad_json("a b c", qas));
    let msg = match read_examples(&path, true, false) {
        Ok(_) => panic!("expected an error without version_2"),
        Err(e) => e.to_string(),
    };
    assert!(msg.contains("imp") && msg.contains("version_2_with_negative"), "{msg}");
    let tok = v3();
    for training in [false, true] {
        let read = read_examples(&path, training, true).expect("v2 read");
        assert_eq!(read.examples.len(), 2);
        assert!(read.examples[0].is_impossible && read.examples[0].answers.is_empty());
        let feats = features(&tok, &read.examples, training, 1);
        assert_eq!(feats.len(), 2);
        assert!(feats[0].is_impossible && !feats[1].is_impossible);
        assert_eq!((feats[0].start_position, feats[0].end_position), (0, 0));
        if training {
            assert_eq!(feats[1].start_position, feats[1].doc_offset() + 1);
        }
    }
}

#[test]
fn shared_paragraph_data() {
    let read = read_examples(&dev_json(), false, false).expect("read dev");
    let (a, b) = (&read.examples[0], &read.examples[1]);
    assert!(Arc::ptr_eq(&a.doc_words, &b.doc_words) && Arc::ptr_eq(&a.char_to_word, &b.char_to_word));
}
