//! KorQuAD evaluation parity (src/tasks/squad: decode.rs, metrics.rs, files.rs; src/text) with
//! transformers `compute_predictions_logits` / `squad_evaluate` and the official KorQuAD v1.0 scorer.
//!
//! * `decode_fixture`: every case of `tests/fixtures/squad_eval/decode.json` (written by
//!   `.venv/bin/python scripts/make_squad_eval_fixtures.py`): answers and n-best texts exact, probabilities and
//!   logits to 1e-6, the three prediction files byte-identical. The expectations use the 3.3.1 BasicTokenizer
//!   (spec §2.4: no cleaning, no NFC); the cases where stock 4.57 decodes differently are checked to differ.
//! * `final_text_fixture`, `basic_tokenizer_fixture`, `scoring_fixture` (metrics to 1e-9), `json_text_fixture`,
//!   `unicode_tables_match_python`.
//! * Hand-written: spec §12 official examples, §8.5 step 4 consequences, control chars per spec, degenerate
//!   inputs (no panic).

use std::collections::HashMap;

use crate::common::root;
use koelectra_ft::tasks::squad::decode::{
    basic_tokenize, detokenize, get_final_text, predict_example, Decoding, ExamplePrediction, ExampleView, FeatureView,
    NbestEntry,
};
use koelectra_ft::tasks::squad::files::{nbest_json, null_odds_json, predictions_json};
use koelectra_ft::tasks::squad::metrics::{
    korquad_exact, korquad_f1, korquad_normalize_answer, korquad_official, squad_metrics, squad_normalize_answer,
};
use koelectra_ft::text::python::is_py_whitespace;
use koelectra_ft::text::unicode::{is_bert_punctuation, is_mn, is_py_word_char};
use koelectra_ft::text::PieceStyle;
use serde::de::DeserializeOwned;
use serde::Deserialize;

const LOGIT_TOL: f64 = 1e-6;
const METRIC_TOL: f64 = 1e-9;

fn load<T: DeserializeOwned>(name: &str) -> T {
    let path = root().join("tests/fixtures/squad_eval").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run .venv/bin/python scripts/make_squad_eval_fixtures.py)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// [`predict_example`] with the settings in the reference's argument order.
fn predict(
    example: &ExampleView,
    features: &[FeatureView],
    n_best_size: usize,
    max_answer_length: usize,
    do_lower_case: bool,
    version_2_with_negative: bool,
    null_score_diff_threshold: f64,
) -> ExamplePrediction {
    let settings = Decoding {
        n_best_size,
        max_answer_length,
        do_lower_case,
        version_2_with_negative,
        null_score_diff_threshold,
        pieces: PieceStyle::WordPiece,
    };
    predict_example(example, features, &settings)
}

fn s(x: &str) -> String {
    x.to_string()
}

fn strings(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|x| x.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

#[derive(Deserialize)]
struct DecodeCase {
    name: String,
    n_best_size: usize,
    max_answer_length: usize,
    do_lower_case: bool,
    version_2: bool,
    null_score_diff_threshold: f64,
    examples: Vec<DecodeExample>,
    predictions_file: String,
    nbest_file: String,
    null_odds_file: Option<String>,
    hf457: Option<Hf457>,
}

#[derive(Deserialize)]
struct DecodeExample {
    qas_id: String,
    doc_words: Vec<String>,
    features: Vec<DecodeFeature>,
    answer: String,
    nbest: Option<Vec<WantEntry>>,
    null_odds: Option<f64>,
}

#[derive(Deserialize)]
struct DecodeFeature {
    tokens: Vec<String>,
    token_to_orig_map: Vec<(usize, usize)>,
    token_is_max_context: Vec<(usize, bool)>,
    start_logits: Vec<f64>,
    end_logits: Vec<f64>,
}

#[derive(Deserialize, Clone)]
struct WantEntry {
    text: String,
    probability: f64,
    start_logit: f64,
    end_logit: f64,
}

#[derive(Deserialize)]
struct Hf457 {
    answers: Vec<String>,
    nbest_texts: Vec<Vec<String>>,
}

/// Owned storage behind the borrowed views.
struct OwnedFeature {
    tokens: Vec<String>,
    t2o: HashMap<usize, usize>,
    maxc: HashMap<usize, bool>,
    start: Vec<f32>,
    end: Vec<f32>,
}

impl OwnedFeature {
    fn from_fixture(f: &DecodeFeature) -> Self {
        OwnedFeature {
            tokens: f.tokens.clone(),
            t2o: f.token_to_orig_map.iter().copied().collect(),
            maxc: f.token_is_max_context.iter().copied().collect(),
            // The fixture logits are float32 values written as Python floats: the cast is exact.
            start: f.start_logits.iter().map(|&x| x as f32).collect(),
            end: f.end_logits.iter().map(|&x| x as f32).collect(),
        }
    }

    fn view(&self) -> FeatureView<'_> {
        FeatureView {
            tokens: &self.tokens,
            token_to_orig_map: &self.t2o,
            token_is_max_context: &self.maxc,
            start_logits: &self.start,
            end_logits: &self.end,
        }
    }
}

fn decode(case: &DecodeCase, ex: &DecodeExample) -> ExamplePrediction {
    let owned: Vec<OwnedFeature> = ex.features.iter().map(OwnedFeature::from_fixture).collect();
    for (f, o) in ex.features.iter().zip(&owned) {
        for (a, b) in f.start_logits.iter().zip(&o.start) {
            // serde_json may parse a decimal one ulp off; the float32 cast absorbs that.
            assert!(
                (a - f64::from(*b)).abs() <= 1e-12 * a.abs(),
                "{}: logit {a} is not a float32 value",
                case.name
            );
        }
    }
    let views: Vec<FeatureView> = owned.iter().map(OwnedFeature::view).collect();
    let example = ExampleView {
        qas_id: &ex.qas_id,
        doc_words: &ex.doc_words,
    };
    predict(
        &example,
        &views,
        case.n_best_size,
        case.max_answer_length,
        case.do_lower_case,
        case.version_2,
        case.null_score_diff_threshold,
    )
}

fn want_nbest_from_file(file: &str, qas_id: &str) -> Vec<WantEntry> {
    let v: serde_json::Value = serde_json::from_str(file).expect("nbest file parses");
    serde_json::from_value(v[qas_id].clone()).expect("nbest entry list")
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= tol * b.abs().max(1.0)
}

#[test]
fn decode_fixture() {
    let cases: Vec<DecodeCase> = load("decode.json");
    assert!(cases.len() >= 150, "{} decode cases", cases.len());
    let (mut n_examples, mut n_empty, mut n_v2, mut n_457) = (0, 0, 0, 0);
    for case in &cases {
        let mut preds: Vec<(String, String)> = Vec::new();
        let mut nbests: Vec<(String, Vec<NbestEntry>)> = Vec::new();
        let mut odds: Vec<(String, f64)> = Vec::new();
        let mut got_answers = Vec::new();
        let mut got_texts = Vec::new();
        for ex in &case.examples {
            let got = decode(case, ex);
            let ctx = format!("{} / {}", case.name, ex.qas_id);
            assert_eq!(got.answer, ex.answer, "{ctx}: answer");
            let want = ex
                .nbest
                .clone()
                .unwrap_or_else(|| want_nbest_from_file(&case.nbest_file, &ex.qas_id));
            assert_eq!(got.nbest.len(), want.len(), "{ctx}: n-best length");
            for (g, w) in got.nbest.iter().zip(&want) {
                assert_eq!(g.text, w.text, "{ctx}: n-best text");
                assert!(
                    close(g.probability, w.probability, LOGIT_TOL),
                    "{ctx}: probability {g:?} vs {}",
                    w.probability
                );
                assert!(close(g.start_logit, w.start_logit, LOGIT_TOL), "{ctx}: start_logit");
                assert!(close(g.end_logit, w.end_logit, LOGIT_TOL), "{ctx}: end_logit");
            }
            match (got.null_odds, ex.null_odds) {
                (None, None) => {}
                (Some(g), Some(w)) => assert!(close(g, w, LOGIT_TOL), "{ctx}: null odds {g} vs {w}"),
                (g, w) => panic!("{ctx}: null odds {g:?} vs {w:?}"),
            }
            assert_eq!(got.null_odds.is_some(), case.version_2, "{ctx}");
            n_examples += 1;
            n_empty += usize::from(got.answer == "empty");
            got_answers.push(got.answer.clone());
            got_texts.push(got.nbest.iter().map(|e| e.text.clone()).collect::<Vec<_>>());
            preds.push((ex.qas_id.clone(), got.answer));
            if let Some(o) = got.null_odds {
                odds.push((ex.qas_id.clone(), o));
            }
            nbests.push((ex.qas_id.clone(), got.nbest));
        }
        assert_eq!(
            predictions_json(&preds),
            case.predictions_file,
            "{}: predictions file",
            case.name
        );
        assert_eq!(nbest_json(&nbests), case.nbest_file, "{}: nbest file", case.name);
        if let Some(want) = &case.null_odds_file {
            n_v2 += 1;
            assert_eq!(null_odds_json(&odds), *want, "{}: null odds file", case.name);
        }
        if let Some(h) = &case.hf457 {
            // Stock 4.57 (text cleaning + NFC in get_final_text) disagrees here; we follow the 3.3.1 spec.
            n_457 += 1;
            assert!(
                h.answers != got_answers || h.nbest_texts != got_texts,
                "{}: hf457 marked different",
                case.name
            );
        }
    }
    assert!(
        n_empty >= 10 && n_v2 >= 10,
        "fixture coverage: {n_empty} empty, {n_v2} v2"
    );
    eprintln!(
        "decode: {} cases, {n_examples} examples, {n_empty} 'empty', {n_v2} SQuAD2, {n_457} differ in 4.57",
        cases.len()
    );
}

// ---------------------------------------------------------------------------------------------------------------
// get_final_text / BasicTokenizer

#[derive(Deserialize)]
struct FinalTextCase {
    pred_text: String,
    orig_text: String,
    do_lower_case: bool,
    expected: String,
    hf457: String,
}

#[test]
fn final_text_fixture() {
    let cases: Vec<FinalTextCase> = load("final_text.json");
    let mut differ = 0;
    for c in &cases {
        let got = get_final_text(&c.pred_text, &c.orig_text, c.do_lower_case);
        assert_eq!(
            got, c.expected,
            "get_final_text({:?}, {:?}, {})",
            c.pred_text, c.orig_text, c.do_lower_case
        );
        differ += usize::from(c.hf457 != c.expected);
    }
    eprintln!("final_text: {} cases, {differ} where 4.57 differs", cases.len());
}

#[derive(Deserialize)]
struct BasicCase {
    text: String,
    do_lower_case: bool,
    tokens: Vec<String>,
}

#[test]
fn basic_tokenizer_fixture() {
    let cases: Vec<BasicCase> = load("basic_tokenizer.json");
    for c in &cases {
        assert_eq!(
            basic_tokenize(&c.text, c.do_lower_case),
            c.tokens,
            "{:?} lower={}",
            c.text,
            c.do_lower_case
        );
    }
}

#[derive(Deserialize)]
struct UnicodeTables {
    unidata_version: String,
    punct_p: Vec<(u32, u32)>,
    mn: Vec<(u32, u32)>,
    word: Vec<(u32, u32)>,
    space: Vec<(u32, u32)>,
}

#[test]
fn unicode_tables_match_python() {
    let t: UnicodeTables = load("unicode_tables.json");
    assert_eq!(t.unidata_version, "14.0.0");
    let member = |ranges: &[(u32, u32)], cp: u32| ranges.iter().any(|&(lo, hi)| lo <= cp && cp <= hi);
    let ascii_punct = |cp: u32| matches!(cp, 33..=47 | 58..=64 | 91..=96 | 123..=126);
    for cp in 0..0x11_0000u32 {
        let Some(c) = char::from_u32(cp) else { continue };
        assert_eq!(
            is_bert_punctuation(c),
            ascii_punct(cp) || member(&t.punct_p, cp),
            "punct U+{cp:04X}"
        );
        assert_eq!(is_mn(c), member(&t.mn, cp), "Mn U+{cp:04X}");
        assert_eq!(is_py_word_char(c), member(&t.word, cp), "word U+{cp:04X}");
        assert_eq!(is_py_whitespace(c), member(&t.space, cp), "space U+{cp:04X}");
    }
}

/// KoBERT's and XLM-R's `convert_tokens_to_string`: pieces concatenated, `▁` a space, stripped.
#[test]
fn sentencepiece_tokens_join_as_their_tokenizers_join_them() {
    let sp = PieceStyle::SentencePiece;
    assert_eq!(detokenize(&strings(&["▁1990", "년"]), sp), "1990년");
    assert_eq!(
        get_final_text(&detokenize(&strings(&["▁1990", "년"]), sp), "1990년에", false),
        "1990년"
    );
    assert_eq!(detokenize(&strings(&["년", "에"]), sp), "년에");
    assert_eq!(detokenize(&strings(&["▁서울", "▁대학", "교", "▁"]), sp), "서울 대학교");
    // WordPiece would keep the markers.
    assert_eq!(
        detokenize(&strings(&["▁서울", "▁대학"]), PieceStyle::WordPiece),
        "▁서울 ▁대학"
    );
}

/// Spec §8.5 step 4, "Consequences for Korean".
#[test]
fn final_text_spec_consequences() {
    // A span ending inside a word is trimmed: `1990`, `##년` out of `1990년에`.
    let tok_text = detokenize(&strings(&["1990", "##년"]), PieceStyle::WordPiece);
    assert_eq!(tok_text, "1990년");
    assert_eq!(get_final_text(&tok_text, "1990년에", false), "1990년");
    // A span starting inside a word keeps its leading `##` and falls back to the whole word.
    let tok_text = detokenize(&strings(&["##년", "##에"]), PieceStyle::WordPiece);
    assert_eq!(tok_text, "##년에");
    assert_eq!(get_final_text(&tok_text, "1990년에", false), "1990년에");
    assert_eq!(get_final_text("##년", "1990년에", false), "1990년에");
    // [UNK] spans fall back to the whole words.
    assert_eq!(get_final_text("[UNK]", "서울\u{a0}대학교", false), "서울\u{a0}대학교");
    assert_eq!(get_final_text("[UNK] 에서", "KAIST\u{8}에서", false), "KAIST\u{8}에서");
    // NBSP splits in the BasicTokenizer but is not stripped as a space: lengths differ -> whole word.
    assert_eq!(get_final_text("서울", "서울\u{a0}대학교", false), "서울\u{a0}대학교");
    // First occurrence, not the intended one.
    assert_eq!(get_final_text("ab", "ab xab", false), "ab");
    // Punctuation split and CJK spacing align back onto the original chars.
    assert_eq!(get_final_text("《 토지 》", "《토지》를", false), "《토지》");
    assert_eq!(get_final_text("大 韓", "大韓民國", false), "大韓");
    // Hangul is not CJK-spaced, so a sub-word match inside a Hangul word is found and trimmed.
    assert_eq!(get_final_text("서울", "서울대학교", false), "서울");
}

/// Control and format chars per spec §2.4 (3.3.1: no cleaning), where transformers 4.57 differs.
#[test]
fn final_text_control_chars_follow_spec() {
    // U+0008 (Cc) stays inside the word: "서울" is found at 0 and lengths agree -> trimmed. 4.57 removes
    // U+0008, the space-free lengths then differ and it returns the whole word.
    assert_eq!(get_final_text("서울", "서울\u{8}대학교", false), "서울");
    assert_eq!(basic_tokenize("서울\u{8}대학교", false), strings(&["서울\u{8}대학교"]));
    // Format chars (Cf) likewise: U+200B, U+00AD, U+FEFF, U+200E.
    for cf in ['\u{200b}', '\u{ad}', '\u{feff}', '\u{200e}'] {
        let orig = format!("서울{cf}대학교");
        assert_eq!(basic_tokenize(&orig, false), vec![orig.clone()]);
        assert_eq!(get_final_text("서울", &orig, false), "서울");
        assert_eq!(get_final_text(&format!("{cf}대학"), &orig, false), format!("{cf}대학"));
    }
    // NUL and U+FFFD are kept too.
    assert_eq!(get_final_text("대학교", "서울\u{0}대학교", false), "대학교");
    assert_eq!(
        get_final_text("서울\u{fffd}", "서울\u{fffd}대학교", false),
        "서울\u{fffd}"
    );
    // U+001C is Python whitespace: it splits the word; not stripped as U+0020 -> whole word.
    assert_eq!(basic_tokenize("서울\u{1c}대학교", false), strings(&["서울", "대학교"]));
    assert_eq!(get_final_text("서울", "서울\u{1c}대학교", false), "서울\u{1c}대학교");
    // No NFC: a decomposed syllable stays two chars (4.57 composes it and falls back).
    assert_eq!(
        get_final_text("\u{1100}\u{1161}", "\u{1100}\u{1161}나다", false),
        "\u{1100}\u{1161}"
    );
    // No NFC: CJK compatibility ideographs stay (4.57 maps U+F900 to U+8C48 and misses the match).
    assert_eq!(get_final_text("\u{f900}", "\u{f900}\u{f914}", false), "\u{f900}");
    // In the real pipeline such a word is one [UNK] token: the whole word comes back.
    let doc_words = strings(&["서울\u{8}대학교에서", "공부"]);
    let tokens = strings(&["[CLS]", "어디", "[SEP]", "[UNK]", "공부", "[SEP]"]);
    let pred = single_window(&doc_words, &tokens, &[(3, 0), (4, 1)], 3, 3);
    assert_eq!(pred.answer, "서울\u{8}대학교에서");
}

/// A one-window example whose logits peak at (start, end).
fn single_window(
    doc_words: &[String],
    tokens: &[String],
    t2o: &[(usize, usize)],
    start: usize,
    end: usize,
) -> ExamplePrediction {
    let t2o: HashMap<usize, usize> = t2o.iter().copied().collect();
    let maxc: HashMap<usize, bool> = t2o.keys().map(|&k| (k, true)).collect();
    let mut sl = vec![0.0f32; 16];
    let mut el = vec![0.0f32; 16];
    sl[start] = 5.0;
    el[end] = 5.0;
    let f = FeatureView {
        tokens,
        token_to_orig_map: &t2o,
        token_is_max_context: &maxc,
        start_logits: &sl,
        end_logits: &el,
    };
    let ex = ExampleView { qas_id: "q", doc_words };
    predict(&ex, &[f], 20, 30, false, false, 0.0)
}

#[test]
fn predict_example_hand_cases() {
    let doc_words = strings(&["1990년에", "서울에서"]);
    let tokens = strings(&[
        "[CLS]", "언제", "[SEP]", "1990", "##년", "##에", "서울", "##에서", "[SEP]",
    ]);
    let t2o = [(3, 0), (4, 0), (5, 0), (6, 1), (7, 1)];
    let p = single_window(&doc_words, &tokens, &t2o, 3, 4);
    assert_eq!(p.answer, "1990년");
    assert_eq!(p.nbest[0].text, "1990년");
    assert_eq!(p.nbest[0].start_logit, 5.0);
    assert_eq!(p.nbest[0].end_logit, 5.0);
    let psum: f64 = p.nbest.iter().map(|e| e.probability).sum();
    assert!((psum - 1.0).abs() < 1e-12);
    // Distinct texts only, best first.
    let mut texts: Vec<&str> = p.nbest.iter().map(|e| e.text.as_str()).collect();
    texts.sort_unstable();
    texts.dedup();
    assert_eq!(texts.len(), p.nbest.len());
    // Mid-word start -> whole word.
    assert_eq!(single_window(&doc_words, &tokens, &t2o, 4, 5).answer, "1990년에");
    // Span over two words, ending mid-word.
    assert_eq!(single_window(&doc_words, &tokens, &t2o, 3, 6).answer, "1990년에 서울");
    // Span over two words starting mid-word: both whole words.
    assert_eq!(
        single_window(&doc_words, &tokens, &t2o, 5, 6).answer,
        "1990년에 서울에서"
    );
    // Peaks on the question: the best valid pair still wins.
    let p = single_window(&doc_words, &tokens, &t2o, 1, 1);
    assert_ne!(p.answer, "empty");
    // No valid candidate at all.
    let none: HashMap<usize, bool> = HashMap::new();
    let t2o_map: HashMap<usize, usize> = t2o.iter().copied().collect();
    let logits = vec![1.0f32; 9];
    let f = FeatureView {
        tokens: &tokens,
        token_to_orig_map: &t2o_map,
        token_is_max_context: &none,
        start_logits: &logits,
        end_logits: &logits,
    };
    let ex = ExampleView {
        qas_id: "q",
        doc_words: &doc_words,
    };
    let p = predict(&ex, &[f], 20, 30, false, false, 0.0);
    assert_eq!(p.answer, "empty");
    assert_eq!(
        p.nbest,
        vec![NbestEntry {
            text: s("empty"),
            probability: 1.0,
            start_logit: 0.0,
            end_logit: 0.0
        }]
    );
    assert_eq!(predictions_json(&[(s("q"), p.answer)]), "{\n    \"q\": \"empty\"\n}\n");
}

#[test]
fn degenerate_inputs_do_not_panic() {
    let doc_words = strings(&["가"]);
    let ex = ExampleView {
        qas_id: "q",
        doc_words: &doc_words,
    };
    // No features at all.
    for v2 in [false, true] {
        let p = predict(&ex, &[], 20, 30, false, v2, 0.0);
        if v2 {
            assert_eq!(p.answer, "");
            assert_eq!(p.null_odds, Some(1_000_000.0));
            assert_eq!(
                p.nbest.iter().map(|e| e.text.as_str()).collect::<Vec<_>>(),
                ["empty", ""]
            );
        } else {
            assert_eq!(p.answer, "empty");
        }
    }
    // Odd features: logits shorter or longer than tokens, NaN / infinite logits, maps past the doc, position 0.
    let tokens = strings(&["[CLS]", "##", "", " ", "[SEP]"]);
    let t2o: HashMap<usize, usize> = [(0, 0), (1, 0), (2, 5), (3, usize::MAX), (7, 0)].into_iter().collect();
    let maxc: HashMap<usize, bool> = [(0, true), (1, true), (2, true), (3, true), (7, true)]
        .into_iter()
        .collect();
    let logit_sets: Vec<Vec<f32>> = vec![
        vec![],
        vec![1.0],
        vec![f32::NAN, 1.0, f32::INFINITY, -0.0, 0.0, 3.0, 2.0, 9.0, 1.0],
        vec![f32::NEG_INFINITY; 9],
        vec![f32::MAX, f32::MAX, f32::MIN, 1e-30, 0.0],
    ];
    for sl in &logit_sets {
        for el in &logit_sets {
            let f = FeatureView {
                tokens: &tokens,
                token_to_orig_map: &t2o,
                token_is_max_context: &maxc,
                start_logits: sl,
                end_logits: el,
            };
            for v2 in [false, true] {
                for (n_best, max_len) in [(0, 0), (1, 1), (20, 30), (usize::MAX, usize::MAX)] {
                    let p = predict(&ex, &[f, f], n_best, max_len, v2, v2, f64::NAN);
                    assert!(!p.nbest.is_empty());
                    let _ = nbest_json(&[(s("q"), p.nbest)]);
                }
            }
        }
    }
    for (pred, orig) in [
        ("", ""),
        ("", "a"),
        ("a", ""),
        (" ", " "),
        ("##", "##"),
        ("\u{0}", "\u{0}"),
    ] {
        let _ = get_final_text(pred, orig, false);
        let _ = get_final_text(pred, orig, true);
    }
    assert_eq!(get_final_text("", "abc", false), "abc");
    assert_eq!(
        squad_metrics(&[], &[], None, 1.0),
        vec![(s("exact"), 0.0), (s("f1"), 0.0), (s("total"), 0.0)]
    );
    assert_eq!(korquad_official(&[], &[]), (0.0, 0.0));
    assert_eq!(korquad_official(&[(s("a"), vec![])], &[(s("a"), s("x"))]), (0.0, 0.0));
}

// ---------------------------------------------------------------------------------------------------------------
// Scoring

#[derive(Deserialize)]
struct ScoringCase {
    name: String,
    gold: Vec<(String, Vec<String>)>,
    preds: Vec<(String, String)>,
    na_probs: Option<Vec<(String, f64)>>,
    na_thresh: f64,
    official: Official,
    official_raises: bool,
    library: Vec<(String, f64)>,
    library_raises: bool,
}

#[derive(Deserialize)]
struct Official {
    exact_match: f64,
    f1: f64,
}

#[test]
fn scoring_fixture() {
    let cases: Vec<ScoringCase> = load("scoring.json");
    assert!(cases.len() >= 200, "{} scoring cases", cases.len());
    let (mut off_fb, mut lib_fb) = (0, 0);
    for c in &cases {
        let (em, f1) = korquad_official(&c.gold, &c.preds);
        assert!(
            close(em, c.official.exact_match, METRIC_TOL),
            "{}: official EM {em} vs {}",
            c.name,
            c.official.exact_match
        );
        assert!(
            close(f1, c.official.f1, METRIC_TOL),
            "{}: official F1 {f1} vs {}",
            c.name,
            c.official.f1
        );
        let got = squad_metrics(&c.gold, &c.preds, c.na_probs.as_deref(), c.na_thresh);
        let got_keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        let want_keys: Vec<&str> = c.library.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(got_keys, want_keys, "{}: library keys", c.name);
        for ((k, g), (_, w)) in got.iter().zip(&c.library) {
            assert!(close(*g, *w, METRIC_TOL), "{}: {k} {g} vs {w}", c.name);
        }
        off_fb += usize::from(c.official_raises);
        lib_fb += usize::from(c.library_raises);
    }
    eprintln!(
        "scoring: {} cases ({off_fb} official / {lib_fb} library fallbacks)",
        cases.len()
    );
}

/// Spec §12, "Official KorQuAD normalization and scores".
#[test]
fn official_worked_examples() {
    let rows: [(&str, &str, &str, &str, bool, f64); 6] = [
        (
            "1989년 2월",
            "1989년 2월 15일",
            "1989년 2월",
            "1989년 2월 15일",
            false,
            0.823529,
        ),
        ("《토지》", "토지", "토지", "토지", true, 1.0),
        ("(주)삼성전자", "주 삼성전자", "주 삼성전자", "주 삼성전자", true, 1.0),
        ("The Beatles", "beatles", "the beatles", "beatles", false, 0.823529),
        ("‘가나’다", "가나다", "가나 다", "가나다", false, 1.0),
        ("A-B", "ab", "ab", "ab", true, 1.0),
    ];
    for (pred, gold, npred, ngold, em, f1) in rows {
        assert_eq!(korquad_normalize_answer(pred), npred);
        assert_eq!(korquad_normalize_answer(gold), ngold);
        assert_eq!(korquad_exact(pred, gold), em, "{pred} / {gold}");
        assert!(
            (korquad_f1(pred, gold) - f1).abs() < 1e-6,
            "{pred} / {gold}: {}",
            korquad_f1(pred, gold)
        );
    }
    // Whole-set scoring: a missing prediction scores 0 but counts.
    let gold = vec![
        (s("a"), strings(&["토지"])),
        (s("b"), strings(&["1989년 2월 15일", "1989년"])),
    ];
    let preds = vec![(s("a"), s("《토지》"))];
    assert_eq!(korquad_official(&gold, &preds), (50.0, 50.0));
    let preds = vec![(s("a"), s("《토지》")), (s("b"), s("1989년"))];
    assert_eq!(korquad_official(&gold, &preds), (100.0, 100.0));
    // Library normalization removes articles and punctuation; the official one keeps articles.
    assert_eq!(squad_normalize_answer("The Beatles!"), "beatles");
    assert_eq!(squad_normalize_answer("an apple, a day"), "apple day");
    // `\b` is Unicode-aware: a Hangul or accented neighbour keeps the article; `_` is deleted as punctuation first.
    assert_eq!(squad_normalize_answer("the가 the_ thé"), "the가 thé");
}

#[test]
fn library_metrics_korquad_shape() {
    // KorQuAD: every question answerable, every prediction present, no-answer probabilities all 0.
    let gold = vec![(s("a"), strings(&["토지", "《토지》"])), (s("b"), strings(&["서울"]))];
    let preds = vec![(s("a"), s("토지")), (s("b"), s("서울 대학교"))];
    let got = squad_metrics(&gold, &preds, None, 1.0);
    let keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "exact",
            "f1",
            "total",
            "HasAns_exact",
            "HasAns_f1",
            "HasAns_total",
            "best_exact",
            "best_exact_thresh",
            "best_f1",
            "best_f1_thresh"
        ]
    );
    let v: HashMap<&str, f64> = got.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(v["exact"], 50.0);
    assert!((v["f1"] - 100.0 * (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
    assert_eq!(v["total"], 2.0);
    assert_eq!(v["best_exact"], v["exact"]);
    assert_eq!(v["best_f1"], v["f1"]);
    assert_eq!(v["best_exact_thresh"], 0.0);
}

// ---------------------------------------------------------------------------------------------------------------
// JSON text

#[derive(Deserialize)]
struct JsonCase {
    kind: String,
    items: Vec<(String, serde_json::Value)>,
    text: String,
}

#[test]
fn json_text_fixture() {
    let cases: Vec<JsonCase> = load("json_text.json");
    for c in &cases {
        let got = match c.kind.as_str() {
            "predictions" => {
                let items: Vec<(String, String)> = c
                    .items
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().expect("string").to_string()))
                    .collect();
                predictions_json(&items)
            }
            "null_odds" => {
                let items: Vec<(String, f64)> = c
                    .items
                    .iter()
                    .map(|(k, v)| {
                        let bits = u64::from_str_radix(v.as_str().expect("hex bits"), 16).expect("hex bits");
                        (k.clone(), f64::from_bits(bits))
                    })
                    .collect();
                null_odds_json(&items)
            }
            other => panic!("kind {other}"),
        };
        assert_eq!(got, c.text, "{} {:?}", c.kind, c.items);
    }
}
