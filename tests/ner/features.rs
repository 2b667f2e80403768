//! Naver NER reader and features (spec §3, §4.8, §5.2).
//!
//! * `test_file_stats`: the snapshot's `test.tsv` read with the spec's stats.
//! * `alignment_*`: hand-written sentences, sub-token ids looked up in the v3 vocab file.
//! * `hf_parity_test_file`: every sentence of `test.tsv` against the reference conversion with HF
//!   `ElectraTokenizerFast`, run once by `.venv/bin/python scripts/make_ner_fixtures.py`.
//! * `bad_input_*`: one-line errors naming the file and the line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{root, shared, v3_vocab, venv_python};
use koelectra_ft::tasks::ner::{build_features, read_examples, NerExample, NerFeature, IGNORE_INDEX, NAVER_NER_LABELS};
use koelectra_ft::text::{Tokenizer, WordPieceTokenizer};
use serde::Deserialize;

const IGN: i64 = IGNORE_INDEX;

fn test_tsv() -> PathBuf {
    shared("data/naver-ner/test.tsv")
}

fn v3() -> WordPieceTokenizer {
    WordPieceTokenizer::from_vocab_file(&v3_vocab(), false).expect("load v3 vocab")
}

/// Token → id straight from the vocab file (line index = id), independent of the tokenizer.
struct Vocab(HashMap<String, i64>);

impl Vocab {
    fn load() -> Self {
        let text = std::fs::read_to_string(v3_vocab()).expect("read v3 vocab");
        Vocab(text.lines().zip(0i64..).map(|(t, i)| (t.to_string(), i)).collect())
    }

    fn ids(&self, tokens: &[&str]) -> Vec<i64> {
        tokens
            .iter()
            .map(|t| *self.0.get(*t).unwrap_or_else(|| panic!("{t:?} is not in the v3 vocab")))
            .collect()
    }
}

fn tag(name: &str) -> usize {
    NAVER_NER_LABELS.iter().position(|l| *l == name).expect("known tag")
}

fn example(words: &[&str], tags: &[&str]) -> NerExample {
    assert_eq!(words.len(), tags.len());
    NerExample {
        guid: "hand-0".into(),
        words: words.iter().map(|w| w.to_string()).collect(),
        labels: tags.iter().map(|t| tag(t)).collect(),
    }
}

fn one(tok: &WordPieceTokenizer, ex: NerExample, max_seq_len: usize) -> NerFeature {
    let mut feats = build_features(tok, &[ex], max_seq_len).expect("features");
    assert_eq!(feats.len(), 1);
    feats.remove(0)
}

// ---------------------------------------------------------------------------------------------
// The real test file

#[test]
fn test_file_stats() {
    let examples = read_examples(&test_tsv(), "test").expect("read test.tsv");
    assert_eq!(examples.len(), 9_000);
    assert_eq!(examples[0].guid, "test-0");
    assert_eq!(examples[8_999].guid, "test-8999");
    let lens: Vec<usize> = examples.iter().map(|e| e.words.len()).collect();
    assert_eq!(lens.iter().max(), Some(&108));
    assert!(lens.iter().all(|&n| n > 0));
    let total: usize = lens.iter().sum();
    let mean = total as f64 / examples.len() as f64;
    assert!((mean - 11.9).abs() < 0.05, "mean words per sentence {mean}");
    for ex in &examples {
        assert_eq!(ex.words.len(), ex.labels.len(), "{}", ex.guid);
        assert!(ex.labels.iter().all(|&l| l < NAVER_NER_LABELS.len()));
    }
    // First line: "나아가 한 스트로크를 ... ." with O NUM-B NUM-I O ...
    assert_eq!(examples[0].words[..3], ["나아가", "한", "스트로크를"]);
    assert_eq!(examples[0].labels[..3], [0, tag("NUM-B"), tag("NUM-I")]);
    // Every tag is one of the 29; all but PLT-I and MAT-I occur in this file.
    let mut seen = [false; 29];
    for &l in examples.iter().flat_map(|e| &e.labels) {
        seen[l] = true;
    }
    let missing: Vec<&str> = (0..29).filter(|&i| !seen[i]).map(|i| NAVER_NER_LABELS[i]).collect();
    assert_eq!(missing, ["PLT-I", "MAT-I"], "tags never used in test.tsv");
}

// ---------------------------------------------------------------------------------------------
// Label alignment on hand-written sentences

#[test]
fn alignment_multi_subtoken_unk_and_empty_words() {
    let (tok, vocab) = (v3(), Vocab::load());
    let long_word = "a".repeat(101);
    let ex = example(
        &[
            "송인영은",
            "CJ나인브릿지클래식",
            "한국어",
            "☃☄★",
            &long_word,
            "\u{ad}\u{ad}",
            "\u{200b}",
            "직행티킷'을",
            "서울",
        ],
        &["PER-B", "EVT-B", "O", "O", "TRM-B", "O", "O", "CVL-B", "LOC-B"],
    );
    let feat = one(&tok, ex, 128);
    let mut want_ids = vocab.ids(&["[CLS]"]);
    let mut want_labels = vec![IGN];
    let mut word = |tokens: &[&str], label: &str| {
        want_ids.extend(vocab.ids(tokens));
        want_labels.push(tag(label) as i64);
        want_labels.extend(std::iter::repeat_n(IGN, tokens.len() - 1));
    };
    word(&["송", "##인", "##영", "##은"], "PER-B");
    word(
        &["CJ", "##나", "##인", "##브", "##릿", "##지", "##클", "##래", "##식"],
        "EVT-B",
    );
    word(&["한국어"], "O");
    word(&["[UNK]"], "O"); // no WordPiece split: the whole basic token is [UNK]
    word(&["[UNK]"], "TRM-B"); // over 100 chars
    word(&["[UNK]"], "O"); // only U+00AD: tokenizes to nothing, spec fallback
    word(&["[UNK]"], "O"); // only U+200B: same
    word(&["직행", "##티", "##킷", "'", "을"], "CVL-B"); // punctuation splits; one label still
    word(&["서울"], "LOC-B");
    want_ids.extend(vocab.ids(&["[SEP]"]));
    want_labels.push(IGN);
    assert_eq!(feat.input_ids, want_ids);
    assert_eq!(feat.label_ids, want_labels);
    assert_eq!(feat.words_kept, 9);
    assert_eq!(
        vocab.ids(&["[UNK]", "[CLS]", "[SEP]"]),
        [tok.unk_id(), tok.cls_id(), tok.sep_id()]
    );
}

#[test]
fn alignment_truncation_mid_word() {
    let (tok, vocab) = (v3(), Vocab::load());
    // 1 + 1 + 4 + 9 + 1 = 16 sub-tokens; max_seq_len 16 keeps 14: the cut falls inside the 4th word,
    // whose first sub-token survives, and drops the 5th.
    let ex = example(
        &["서울", "서울", "송인영은", "CJ나인브릿지클래식", "한국어"],
        &["LOC-B", "LOC-I", "PER-B", "EVT-B", "O"],
    );
    let feat = one(&tok, ex.clone(), 16);
    let want = vocab.ids(&[
        "[CLS]", "서울", "서울", "송", "##인", "##영", "##은", "CJ", "##나", "##인", "##브", "##릿", "##지", "##클",
        "##래", "[SEP]",
    ]);
    assert_eq!(feat.input_ids, want);
    assert_eq!(feat.input_ids.len(), 16);
    let (l, p, e) = (tag("LOC-B") as i64, tag("PER-B") as i64, tag("EVT-B") as i64);
    let li = tag("LOC-I") as i64;
    assert_eq!(
        feat.label_ids,
        [IGN, l, li, p, IGN, IGN, IGN, e, IGN, IGN, IGN, IGN, IGN, IGN, IGN, IGN]
    );
    assert_eq!(feat.words_kept, 4);

    // A cut exactly at a word boundary: 1 + 1 + 4 = 6 sub-tokens fit in max_seq_len 8.
    let feat = one(&tok, ex.clone(), 8);
    assert_eq!(
        feat.input_ids,
        vocab.ids(&["[CLS]", "서울", "서울", "송", "##인", "##영", "##은", "[SEP]"])
    );
    assert_eq!(feat.label_ids, [IGN, l, li, p, IGN, IGN, IGN, IGN]);
    assert_eq!(feat.words_kept, 3);

    // Room for nothing but the special tokens: refused (every label would be ignored, loss NaN).
    let err = build_features(&tok, std::slice::from_ref(&ex), 2)
        .unwrap_err()
        .to_string();
    assert!(err.contains("max_seq_len 2") && err.contains("at least 3"), "{err}");

    // Exactly 16 sub-tokens + 2 specials fit in 18: nothing cut.
    let feat = one(&tok, ex.clone(), 18);
    assert_eq!(feat.input_ids.len(), 18);
    assert_eq!(feat.words_kept, 5);

    let err = build_features(&tok, &[ex], 1).unwrap_err().to_string();
    assert!(err.contains("max_seq_len 1"), "{err}");
}

#[test]
fn features_keep_order_across_threads() {
    // Enough examples to be split over threads: each one's first word identifies it.
    let tok = v3();
    let words = ["서울", "한국어", "송인영은", "대한민국"];
    let examples: Vec<NerExample> = (0..3_000)
        .map(|i| NerExample {
            guid: format!("t-{i}"),
            words: vec![words[i % 4].to_string(); 1 + i % 7],
            labels: vec![i % 29; 1 + i % 7],
        })
        .collect();
    let feats = build_features(&tok, &examples, 12).expect("features");
    assert_eq!(feats.len(), examples.len());
    for (ex, feat) in examples.iter().zip(&feats) {
        let single = one(&tok, ex.clone(), 12);
        assert_eq!(*feat, single, "{}", ex.guid);
        assert_eq!(feat.label_ids[1], ex.labels[0] as i64);
    }
}

// ---------------------------------------------------------------------------------------------
// Parity with the reference conversion in transformers

#[derive(Debug, Deserialize)]
struct HfFeature {
    guid: String,
    input_ids: Vec<i64>,
    label_ids: Vec<i64>,
    words_kept: usize,
}

#[test]
fn hf_parity_test_file() {
    const MAX_SEQ_LEN: usize = 128;
    let out = Command::new(venv_python())
        .current_dir(root())
        .arg("scripts/make_ner_fixtures.py")
        .arg("--vocab")
        .arg(v3_vocab())
        .arg("--data")
        .arg(test_tsv())
        .args(["--split", "test", "--max-seq-len", &MAX_SEQ_LEN.to_string()])
        .output()
        .expect("run scripts/make_ner_fixtures.py");
    assert!(
        out.status.success(),
        "scripts/make_ner_fixtures.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    let hf: Vec<HfFeature> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();

    let examples = read_examples(&test_tsv(), "test").expect("read test.tsv");
    let ours = build_features(&v3(), &examples, MAX_SEQ_LEN).expect("features");
    assert_eq!(hf.len(), 9_000);
    assert_eq!(ours.len(), hf.len());

    let mut bad = Vec::new();
    let (mut tokens, mut truncated_sentences, mut truncated_words) = (0, 0, 0);
    for ((ex, a), b) in examples.iter().zip(&ours).zip(&hf) {
        assert_eq!(ex.guid, b.guid);
        if a.input_ids != b.input_ids || a.label_ids != b.label_ids || a.words_kept != b.words_kept {
            bad.push(format!(
                "{}: ours {:?} / {:?} / {}, HF {:?} / {:?} / {}",
                ex.guid, a.input_ids, a.label_ids, a.words_kept, b.input_ids, b.label_ids, b.words_kept
            ));
        }
        assert_eq!(a.input_ids.len(), a.label_ids.len());
        assert!(a.input_ids.len() <= MAX_SEQ_LEN);
        tokens += a.input_ids.len();
        if a.words_kept < ex.words.len() {
            truncated_sentences += 1;
            truncated_words += ex.words.len() - a.words_kept;
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} sentences differ from HF; first ones:\n{}",
        bad.len(),
        hf.len(),
        bad.iter().take(5).cloned().collect::<Vec<_>>().join("\n")
    );
    eprintln!(
        "NER parity: {} sentences, {tokens} ids identical to HF; {truncated_sentences} sentences lose \
         {truncated_words} words to the cut at {MAX_SEQ_LEN}",
        hf.len()
    );
    // The file has sentences longer than 126 sub-tokens, so the cut is exercised.
    assert!(truncated_sentences > 0);
}

// ---------------------------------------------------------------------------------------------
// Bad input

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write temp file");
    path
}

/// Reads `bytes` as a NER file and returns the error, checking it is one line naming the file.
fn read_err(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "bad.tsv", bytes);
    let err = format!("{:#}", read_examples(&path, "train").expect_err("should fail"));
    eprintln!("{err}");
    assert!(!err.contains('\n'), "error is not one line: {err}");
    assert!(
        err.contains(&path.display().to_string()),
        "error does not name the file: {err}"
    );
    err
}

const GOOD: &str = "서울 에 간다\tLOC-B O O\n";

#[test]
fn bad_input_field_count() {
    let err = read_err(format!("{GOOD}서울 에 간다\tLOC-B O O\textra\n").as_bytes());
    assert!(err.contains(":2: expected 2 tab-separated fields"), "{err}");
    assert!(err.contains("found 3"), "{err}");
    let err = read_err(format!("{GOOD}{GOOD}서울 에 간다 LOC-B O O\n").as_bytes());
    assert!(err.contains(":3: ") && err.contains("found 1"), "{err}");
    // Trailing tabs are stripped with the line, so an empty tags field is a missing field.
    let err = read_err("서울 에 간다\t\t\n".as_bytes());
    assert!(err.contains(":1: ") && err.contains("found 1"), "{err}");
}

#[test]
fn bad_input_count_mismatch() {
    let err = read_err(format!("{GOOD}{GOOD}서울 에 간다\tLOC-B O\n").as_bytes());
    assert!(err.contains(":3: 3 words but 2 tags"), "{err}");
}

#[test]
fn bad_input_unknown_tag() {
    let err = read_err(format!("{GOOD}서울 에 간다\tLOC-B O B-PER\n").as_bytes());
    assert!(err.contains(":2: unknown tag \"B-PER\""), "{err}");
    assert!(err.contains("word 3 \"간다\""), "{err}");
    assert!(err.contains("PER-B"), "{err}");
}

#[test]
fn bad_input_blank_line_mid_file() {
    let err = read_err(format!("{GOOD}\n  \n{GOOD}").as_bytes());
    assert!(err.contains(":2: empty line"), "{err}");
}

#[test]
fn bad_input_non_utf8() {
    let mut bytes = format!("{GOOD}{GOOD}").into_bytes();
    bytes.extend_from_slice(b"ab \xb0\xa1\tO O\n");
    let err = read_err(&bytes);
    assert!(err.contains(":3: invalid UTF-8 at byte column 4"), "{err}");
}

#[test]
fn bad_input_empty_file() {
    let err = read_err(b"");
    assert!(err.contains("file is empty"), "{err}");
    let err = read_err(b"\n \r\n\t\n");
    assert!(err.contains("file is empty"), "{err}");
}

#[test]
fn bad_input_missing_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nope.tsv");
    let err = format!("{:#}", read_examples(&path, "test").expect_err("should fail"));
    assert!(!err.contains('\n'), "{err}");
    assert!(
        err.contains(&path.display().to_string()) && err.contains("cannot read"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Accepted oddities

#[test]
fn newlines_whitespace_and_trailing_blank_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    // \r\n, \r and \n line ends; surrounding whitespace; runs of (Python) whitespace inside fields,
    // U+001C included; trailing blank lines ignored.
    let text = "  서울 에\tLOC-B O \r\n한국어\u{1c}\u{3000}간다\t O \u{85}O\r대한민국\tLOC-B\n\n \r\n";
    let path = write(dir.path(), "ok.tsv", text.as_bytes());
    let examples = read_examples(&path, "dev").expect("read");
    assert_eq!(
        examples,
        [
            NerExample {
                guid: "dev-0".into(),
                words: vec!["서울".into(), "에".into()],
                labels: vec![tag("LOC-B"), 0]
            },
            NerExample {
                guid: "dev-1".into(),
                words: vec!["한국어".into(), "간다".into()],
                labels: vec![0, 0]
            },
            NerExample {
                guid: "dev-2".into(),
                words: vec!["대한민국".into()],
                labels: vec![tag("LOC-B")]
            },
        ]
    );
    // `"` is an ordinary char (no CSV quoting).
    let path = write(dir.path(), "quote.tsv", "\"서울\tLOC-B\n".as_bytes());
    assert_eq!(read_examples(&path, "x").expect("read")[0].words, ["\"서울"]);
}
