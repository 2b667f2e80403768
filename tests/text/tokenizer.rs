//! Tokenizer parity with Hugging Face `ElectraTokenizerFast`.
//!
//! * `fixture_parity`: every case of `tests/fixtures/tokenizer/cases.json`
//!   (written by `scripts/make_tokenizer_fixtures.py`).
//! * `data_*`: every text column of every file in `../shared/data`, tokenized here and by
//!   `.venv/bin/python scripts/hf_tokenize.py` at test time.
//! * Loading, errors and `save` round trips (through this crate and through `transformers`).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{root, shared, v3_vocab, venv_python};
use crate::parity::*;
use koelectra_ft::text::{Encoded, Tokenizer, WordPieceTokenizer};
use serde::Deserialize;
use serde_json::{json, Value};

const SEQ_CLS_MAX_LEN: usize = 128;
/// "No truncation" for both sides (HF gets no --max-length).
const UNLIMITED: usize = usize::MAX;

fn v3() -> WordPieceTokenizer {
    WordPieceTokenizer::from_vocab_file(&v3_vocab(), false).expect("load v3 vocab")
}

fn v1_vocab() -> PathBuf {
    shared("vocab/koelectra-v1-vocab.txt")
}

fn fixtures() -> PathBuf {
    root().join("tests/fixtures/tokenizer/cases.json")
}

#[derive(Clone, Copy)]
struct HfOpts {
    max_length: usize,
    special_tokens: bool,
    offsets: bool,
    lower_case: bool,
}

impl HfOpts {
    fn truncate(max_length: usize) -> Self {
        Self {
            max_length,
            special_tokens: true,
            offsets: false,
            lower_case: false,
        }
    }
    fn raw(offsets: bool) -> Self {
        Self {
            max_length: UNLIMITED,
            special_tokens: false,
            offsets,
            lower_case: false,
        }
    }
}

/// Runs `scripts/hf_tokenize.py` once over all `items`.
fn hf_tokenize(items: &[(String, Option<String>)], vocab: &Path, opts: HfOpts) -> Vec<HfRow> {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("inputs.json");
    let list: Vec<Value> = items.iter().map(|(a, b)| json!({"a": a, "b": b})).collect();
    fs::write(&input, serde_json::to_vec(&list).expect("json")).expect("write inputs");
    let mut cmd = Command::new(venv_python());
    cmd.arg("scripts/hf_tokenize.py")
        .arg("--vocab")
        .arg(vocab)
        .arg("--input")
        .arg(&input);
    if opts.max_length != UNLIMITED {
        cmd.args(["--max-length", &opts.max_length.to_string()]);
    }
    if !opts.special_tokens {
        cmd.arg("--no-special-tokens");
    }
    if opts.offsets {
        cmd.arg("--offsets");
    }
    if opts.lower_case {
        cmd.arg("--lower-case");
    }
    let out = cmd.output().expect("run scripts/hf_tokenize.py");
    assert!(
        out.status.success(),
        "scripts/hf_tokenize.py failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<HfRow> = serde_json::from_slice(&out.stdout).expect("parse HF output");
    assert_eq!(rows.len(), items.len(), "HF returned a different number of rows");
    rows
}

// ---------------------------------------------------------------------------------------------
// Fixture parity

#[derive(Deserialize)]
struct FixtureDoc {
    transformers: String,
    sets: Vec<FixtureSet>,
}

#[derive(Deserialize)]
struct FixtureSet {
    vocab: String,
    do_lower_case: bool,
    cases: Vec<FixtureCase>,
}

#[derive(Deserialize)]
struct FixtureCase {
    a: String,
    b: Option<String>,
    max_length: usize,
    input_ids: Vec<i64>,
    token_type_ids: Vec<i64>,
    attention_mask: Vec<i64>,
    raw_ids: Option<Vec<i64>>,
    raw_offsets: Option<Vec<(usize, usize)>>,
}

#[test]
fn fixture_parity() {
    let text = fs::read_to_string(fixtures()).expect("read fixtures (scripts/make_tokenizer_fixtures.py)");
    let doc: FixtureDoc = serde_json::from_str(&text).expect("parse fixtures");
    let mut total = 0;
    for set in &doc.sets {
        let tok =
            WordPieceTokenizer::from_vocab_file(Path::new(&set.vocab), set.do_lower_case).expect("load fixture vocab");
        assert_eq!(tok.do_lower_case(), set.do_lower_case);
        let group = format!(
            "{} (do_lower_case={}, HF transformers {})",
            set.vocab, set.do_lower_case, doc.transformers
        );
        let mut m = Mismatches::default();
        for (i, c) in set.cases.iter().enumerate() {
            let ctx = || format!("case {i}: a={:?} b={:?} max_length={}", c.a, c.b, c.max_length);
            let want = HfRow {
                input_ids: c.input_ids.clone(),
                token_type_ids: c.token_type_ids.clone(),
                attention_mask: c.attention_mask.clone(),
                offset_mapping: None,
            };
            let got = tok.encode(&c.a, c.b.as_deref(), c.max_length).expect("encode");
            compare_encoded(&mut m, &ctx, &want, &got);
            if let Some(raw_ids) = &c.raw_ids {
                let raw = tok.encode_char_offsets_raw(&c.a).expect("raw encode");
                let ids: Vec<i64> = raw.get_ids().iter().map(|&i| i64::from(i)).collect();
                m.check("raw ids", &ctx, raw_ids, &ids);
                if let Some(offsets) = &c.raw_offsets {
                    m.check("raw char offsets", &ctx, &offsets.as_slice(), &raw.get_offsets());
                }
                let words = tok.encode_words(&[c.a.as_str()]).expect("encode_words");
                m.check("encode_words ids", &ctx, raw_ids, &words[0]);
            }
        }
        // The batch path must agree with the single path (and keep order).
        for max_length in set.cases.iter().map(|c| c.max_length).collect::<BTreeSet<_>>() {
            let cases: Vec<&FixtureCase> = set.cases.iter().filter(|c| c.max_length == max_length).collect();
            let pairs: Vec<(&str, Option<&str>)> = cases.iter().map(|c| (c.a.as_str(), c.b.as_deref())).collect();
            let batch = tok.encode_batch(&pairs, max_length).expect("encode_batch");
            assert_eq!(batch.len(), cases.len());
            for (c, got) in cases.iter().zip(&batch) {
                let ctx = || format!("batch max_length={max_length}: a={:?} b={:?}", c.a, c.b);
                m.check("batch input_ids", &ctx, &c.input_ids, &got.ids);
                m.check("batch token_type_ids", &ctx, &c.token_type_ids, &got.type_ids);
            }
        }
        total += set.cases.len();
        m.assert_none(&group);
    }
    assert!(total >= 300, "only {total} fixture cases");
}

// ---------------------------------------------------------------------------------------------
// Shared data parity (HF run at test time)

/// Our encodings of `items` (through `encode_batch`) against HF's.
fn check_group(group: &str, items: &[(String, Option<String>)], max_length: usize) {
    assert!(!items.is_empty(), "{group}: no inputs");
    let tok = v3();
    let hf = hf_tokenize(items, &v3_vocab(), HfOpts::truncate(max_length));
    let pairs: Vec<(&str, Option<&str>)> = items.iter().map(|(a, b)| (a.as_str(), b.as_deref())).collect();
    let ours = tok.encode_batch(&pairs, max_length).expect("encode_batch");
    let mut m = Mismatches::default();
    for (i, ((want, got), (a, b))) in hf.iter().zip(&ours).zip(items).enumerate() {
        let ctx = || format!("{group} input {i}: a={a:?} b={b:?}");
        compare_encoded(&mut m, &ctx, want, got);
    }
    m.assert_none(group);
}

#[test]
fn data_nsmc() {
    let items = tsv_inputs(&["nsmc/ratings_test.txt"], 1, None);
    check_group("nsmc", &items, SEQ_CLS_MAX_LEN);
}

#[test]
fn data_kornli() {
    let files = ["kornli/xnli.dev.ko.tsv", "kornli/xnli.test.ko.tsv"];
    check_group("kornli", &tsv_inputs(&files, 0, Some(1)), SEQ_CLS_MAX_LEN);
}

#[test]
fn data_paws() {
    let files = ["paws/dev_2k.tsv", "paws/test_2k.tsv"];
    check_group("paws", &tsv_inputs(&files, 1, Some(2)), SEQ_CLS_MAX_LEN);
}

#[test]
fn data_question_pair() {
    let files = [
        "question-pair/train.tsv",
        "question-pair/dev.tsv",
        "question-pair/test.tsv",
    ];
    check_group("question-pair", &tsv_inputs(&files, 0, Some(1)), SEQ_CLS_MAX_LEN);
}

#[test]
fn data_korsts() {
    let files = ["korsts/sts-dev.tsv", "korsts/sts-test.tsv", "korsts/sts-train.tsv"];
    check_group("korsts", &tsv_inputs(&files, 5, Some(6)), SEQ_CLS_MAX_LEN);
}

#[test]
fn data_hate_speech() {
    let files = ["hate-speech/train.tsv", "hate-speech/val.tsv"];
    check_group("hate-speech", &tsv_inputs(&files, 1, None), SEQ_CLS_MAX_LEN);
}

#[test]
fn data_naver_ner() {
    let rows = tsv_rows("naver-ner/test.tsv", false);
    let sentences: Vec<Vec<&str>> = rows.iter().filter_map(|r| r.first()).map(|s| py_split(s)).collect();
    let tok = v3();

    // Each word on its own, no special tokens (how NER features are built).
    let words: Vec<&str> = sentences
        .iter()
        .flatten()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let items: Inputs = words.iter().map(|w| (w.to_string(), None)).collect();
    let hf = hf_tokenize(&items, &v3_vocab(), HfOpts::raw(false));
    let ours = tok.encode_words(&words).expect("encode_words");
    let mut m = Mismatches::default();
    for ((w, want), got) in words.iter().zip(&hf).zip(&ours) {
        m.compared += 1;
        m.check("word ids", &|| format!("naver-ner word {w:?}"), &want.input_ids, got);
    }
    m.assert_none("naver-ner words");

    // The whole line's words joined by spaces, with special tokens, untruncated.
    let lines: Inputs = sentences.iter().map(|ws| (ws.join(" "), None)).collect();
    check_group("naver-ner lines", &lines, UNLIMITED);
}

fn korquad() -> (Vec<String>, Vec<String>, Inputs) {
    let text = fs::read_to_string(data_path("korquad/KorQuAD_v1.0_dev.json")).expect("read");
    let doc: Value = serde_json::from_str(&text).expect("parse KorQuAD");
    let (mut questions, mut contexts, mut qc) = (Vec::new(), Vec::new(), Vec::new());
    for article in doc["data"].as_array().expect("data") {
        for para in article["paragraphs"].as_array().expect("paragraphs") {
            let context = para["context"].as_str().expect("context").to_owned();
            for qa in para["qas"].as_array().expect("qas") {
                let q = qa["question"].as_str().expect("question").to_owned();
                qc.push((q.clone(), Some(context.clone())));
                questions.push(q);
            }
            contexts.push(context);
        }
    }
    (questions, contexts, qc)
}

#[test]
fn data_korquad() {
    let (questions, contexts, qc) = korquad();
    let singles = |v: &[String]| -> Inputs { v.iter().map(|s| (s.clone(), None)).collect() };
    check_group("korquad questions", &singles(&questions), 512);
    check_group("korquad contexts", &singles(&contexts), 512);
    check_group("korquad question+context", &qc, 384);

    // Contexts untruncated without special tokens, with char offsets (SQuAD windows).
    let tok = v3();
    let items = singles(&contexts);
    let hf = hf_tokenize(&items, &v3_vocab(), HfOpts::raw(true));
    let mut m = Mismatches::default();
    for (i, (want, ctx_text)) in hf.iter().zip(&contexts).enumerate() {
        m.compared += 1;
        let got = tok.encode_char_offsets_raw(ctx_text).expect("encode");
        let ids: Vec<i64> = got.get_ids().iter().map(|&x| i64::from(x)).collect();
        let ctx = || format!("korquad context {i}: {ctx_text:?}");
        m.check("raw ids", &ctx, &want.input_ids, &ids);
        let offsets = want.offset_mapping.clone().expect("offsets");
        m.check("char offsets", &ctx, &offsets.as_slice(), &got.get_offsets());
    }
    m.assert_none("korquad contexts (raw, char offsets)");
}

// ---------------------------------------------------------------------------------------------
// Loading, errors, save

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).expect("write");
    p
}

#[test]
fn special_ids_come_from_the_vocab() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vocab = write(
        dir.path(),
        "vocab.txt",
        "[UNK]\n[SEP]\n안녕\n[PAD]\n##하세요\n[MASK]\n[CLS]\n세상\n.\n",
    );
    let tok = WordPieceTokenizer::from_vocab_file(&vocab, false).expect("load");
    assert_eq!((tok.unk_id(), tok.sep_id(), tok.pad_id(), tok.cls_id()), (0, 1, 3, 6));
    assert_eq!(tok.token_to_id("[MASK]"), Some(5));
    assert_eq!(tok.token_to_id("##하세요"), Some(4));
    assert_eq!(tok.token_to_id("없는말"), None);
    assert_eq!(tok.vocab_size(), 9);
    let e = tok.encode("안녕하세요.", Some("세상 뷁"), 64).expect("encode");
    assert_eq!(e.ids, vec![6, 2, 4, 8, 1, 7, 0, 1]);
    assert_eq!(e.type_ids, vec![0, 0, 0, 0, 0, 1, 1, 1]);
    assert_eq!(e.attention_mask, vec![1; 8]);
    // Literal special tokens stay whole.
    let e = tok.encode("안녕[SEP]세상", None, 64).expect("encode");
    assert_eq!(e.ids, vec![6, 2, 1, 7, 1]);
    // The same directory through from_dir (vocab.txt, no config: cased).
    let tok2 = WordPieceTokenizer::from_dir(dir.path()).expect("from_dir");
    assert!(!tok2.do_lower_case());
    assert_eq!(tok2.cls_id(), 6);
}

#[test]
fn missing_vocab_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope/vocab.txt");
    let err = WordPieceTokenizer::from_vocab_file(&missing, false).expect_err("must fail");
    let msg = format!("{err:#}");
    assert!(msg.contains(&missing.display().to_string()), "{msg}");

    let err = WordPieceTokenizer::from_dir(dir.path()).expect_err("must fail");
    let msg = format!("{err:#}");
    assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
    assert!(msg.contains("tokenizer.json") && msg.contains("vocab.txt"), "{msg}");
}

#[test]
fn vocab_without_sep_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vocab = write(dir.path(), "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[MASK]\n가\n");
    let err = WordPieceTokenizer::from_vocab_file(&vocab, false).expect_err("must fail");
    let msg = format!("{err:#}");
    assert!(msg.contains("[SEP]"), "{msg}");
    assert!(msg.contains(&vocab.display().to_string()), "{msg}");
}

#[test]
fn a_repeated_vocab_line_keeps_the_later_id_and_saves() {
    // transformers 4.57, slow and fast, on this vocab: "가 나 다" -> [2, 7, 6, 8, 3], len 8.
    let dir = tempfile::tempdir().expect("tempdir");
    let vocab = write(
        dir.path(),
        "vocab.txt",
        "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n가\n나\n가\n다\n",
    );
    let tok = WordPieceTokenizer::from_vocab_file(&vocab, false).expect("a repeated line is accepted");
    assert_eq!(tok.encode("가 나 다", None, 16).expect("encode").ids, [2, 7, 6, 8, 3]);
    // Every id up to the last line counts (the embedding check must cover id 8).
    assert_eq!(tok.vocab_size(), 9);
    // Saving keeps each token on its line; the repeated token's first line gets a placeholder.
    let saved = dir.path().join("saved");
    tok.save(&saved).expect("save");
    let lines: Vec<String> = fs::read_to_string(saved.join("vocab.txt"))
        .expect("read")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 9);
    assert_eq!((lines[5].as_str(), lines[7].as_str()), ("[unused-repeated-5]", "가"));
    for reloaded in [
        WordPieceTokenizer::from_dir(&saved).expect("tokenizer.json"),
        WordPieceTokenizer::from_vocab_file(&saved.join("vocab.txt"), false).expect("vocab.txt"),
    ] {
        assert_eq!(
            reloaded.encode("가 나 다", None, 16).expect("encode").ids,
            [2, 7, 6, 8, 3]
        );
        assert_eq!(reloaded.vocab_size(), 9);
    }
}

#[test]
fn tokenizer_is_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<WordPieceTokenizer>();
    let tok = v3();
    let want = tok.encode("스레드 안전", Some("thread safe"), 16).expect("encode");
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                assert_eq!(
                    tok.encode("스레드 안전", Some("thread safe"), 16).expect("encode"),
                    want
                )
            });
        }
    });
}

#[test]
fn max_length_too_small_is_an_error() {
    let tok = v3();
    assert!(tok.encode("가", Some("나"), 2).is_err());
    assert_eq!(tok.encode("가나다", None, 2).expect("fits").ids, vec![2, 3]);
}

/// Inputs used by the round-trip tests: the single fixture inputs plus a few pairs.
fn sample_inputs() -> Inputs {
    let text = fs::read_to_string(fixtures()).expect("read fixtures");
    let doc: FixtureDoc = serde_json::from_str(&text).expect("parse fixtures");
    let mut seen = BTreeSet::new();
    doc.sets[0]
        .cases
        .iter()
        .map(|c| (c.a.clone(), c.b.clone()))
        .filter(|k| seen.insert(k.clone()))
        .collect()
}

fn encode_all(tok: &WordPieceTokenizer, items: &[(String, Option<String>)], ml: usize) -> Vec<Encoded> {
    items
        .iter()
        .map(|(a, b)| tok.encode(a, b.as_deref(), ml).expect("encode"))
        .collect()
}

#[test]
fn save_then_from_dir_round_trips() {
    let items = sample_inputs();
    for (path, lower) in [(v3_vocab(), false), (v1_vocab(), false), (v3_vocab(), true)] {
        let vocab = path.display();
        let tok = WordPieceTokenizer::from_vocab_file(&path, lower).expect("load");
        let want = encode_all(&tok, &items, 64);
        let dir = tempfile::tempdir().expect("tempdir");
        tok.save(dir.path()).expect("save");
        for f in [
            "vocab.txt",
            "tokenizer.json",
            "tokenizer_config.json",
            "special_tokens_map.json",
        ] {
            assert!(dir.path().join(f).is_file(), "save wrote no {f}");
        }
        let original = fs::read_to_string(&path).expect("read vocab");
        let written = fs::read_to_string(dir.path().join("vocab.txt")).expect("read");
        assert_eq!(written.trim_end_matches('\n'), original.trim_end_matches('\n'));

        // tokenizer.json path
        let back = WordPieceTokenizer::from_dir(dir.path()).expect("from_dir");
        assert_eq!(back.do_lower_case(), lower);
        assert_eq!(back.vocab_size(), tok.vocab_size());
        assert_eq!(
            (back.cls_id(), back.sep_id(), back.pad_id(), back.unk_id()),
            (tok.cls_id(), tok.sep_id(), tok.pad_id(), tok.unk_id())
        );
        assert!(
            encode_all(&back, &items, 64) == want,
            "{vocab}: tokenizer.json round trip differs"
        );

        // vocab.txt + tokenizer_config.json path
        fs::remove_file(dir.path().join("tokenizer.json")).expect("rm");
        let back = WordPieceTokenizer::from_dir(dir.path()).expect("from_dir");
        assert_eq!(back.do_lower_case(), lower);
        assert!(
            encode_all(&back, &items, 64) == want,
            "{vocab}: vocab.txt round trip differs"
        );
    }
}

const HF_LOAD: &str = r#"
import json, sys
from transformers import AutoTokenizer
src, hf_out, inputs = sys.argv[1], sys.argv[2], sys.argv[3]
tok = AutoTokenizer.from_pretrained(src)
items = json.load(open(inputs, encoding="utf-8"))
rows = []
for it in items:
    # batch form: a single call would drop an empty text_pair (see make_tokenizer_fixtures.py)
    e = tok([it["a"]], None if it["b"] is None else [it["b"]], truncation=True, max_length=64)
    rows.append({k: e[k][0] for k in ("input_ids", "token_type_ids", "attention_mask")})
tok.save_pretrained(hf_out)
print(json.dumps({"class": type(tok).__name__, "len": len(tok), "rows": rows}))
"#;

#[test]
fn saved_tokenizer_loads_in_transformers() {
    let items = sample_inputs();
    let list: Vec<Value> = items.iter().map(|(a, b)| json!({"a": a, "b": b})).collect();
    for (path, lower) in [(v3_vocab(), false), (v3_vocab(), true)] {
        let vocab = path.display();
        let tok = WordPieceTokenizer::from_vocab_file(&path, lower).expect("load");
        let want = encode_all(&tok, &items, 64);
        let dir = tempfile::tempdir().expect("tempdir");
        let saved = dir.path().join("ours");
        let hf_saved = dir.path().join("hf");
        tok.save(&saved).expect("save");
        let inputs = write(dir.path(), "inputs.json", &serde_json::to_string(&list).expect("json"));
        let out = Command::new(venv_python())
            .env("USE_TORCH", "0")
            .args(["-c", HF_LOAD])
            .args([&saved, &hf_saved, &inputs])
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "AutoTokenizer.from_pretrained failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("parse");
        assert_eq!(v["class"], "ElectraTokenizerFast");
        assert_eq!(v["len"].as_u64(), Some(tok.vocab_size() as u64));
        let rows: Vec<HfRow> = serde_json::from_value(v["rows"].clone()).expect("rows");
        let mut m = Mismatches::default();
        for ((want_hf, ours), (a, b)) in rows.iter().zip(&want).zip(&items) {
            compare_encoded(&mut m, &|| format!("a={a:?} b={b:?}"), want_hf, ours);
        }
        m.assert_none(&format!("HF AutoTokenizer on our save ({vocab}, lower={lower})"));

        // And the other way: HF's own save_pretrained output loads here with the same ids.
        let back = WordPieceTokenizer::from_dir(&hf_saved).expect("load HF save");
        assert_eq!(back.do_lower_case(), lower);
        assert!(
            encode_all(&back, &items, 64) == want,
            "{vocab} lower={lower}: HF save_pretrained output tokenizes differently here"
        );
    }
}
