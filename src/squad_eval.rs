//! KorQuAD / SQuAD evaluation (spec §8.5): n-best decoding of start/end logits, `get_final_text`, the
//! prediction files, the library SQuAD metrics and the official KorQuAD v1.0 scorer.
//!
//! Reference: transformers 3.3.1 `compute_predictions_logits` / `squad_evaluate` (identical in 4.57 apart from
//! the BasicTokenizer that `get_final_text` builds, see [`basic_tokenize`]) and KorQuAD's `evaluate_v1_0.py`.
//! Parity fixtures: `scripts/make_squad_eval_fixtures.py` -> `tests/fixtures/squad_eval/`.
//!
//! Inputs are plain data (token strings, maps, logits) so this module does not depend on the feature code.
//! Every offset is in Unicode chars. No function panics, whatever the input; where the Python reference raises
//! (an example without features under SQuAD 2.0, a missing prediction, an empty question set, ...) the
//! behavior is documented on the function.

pub use crate::tasks::seq_cls::is_py_whitespace;
use std::collections::{HashMap, HashSet};

use tokenizers::NormalizedString;

use crate::metrics::format_py_float;

// ---------------------------------------------------------------------------------------------------------------
// Inputs and outputs of decoding

/// One feature (window) of an example, as kept after feature conversion (spec §5.3).
#[derive(Debug, Clone, Copy)]
pub struct FeatureView<'a> {
    /// Token strings of the non-padded part (`[CLS] q [SEP] doc [SEP]`).
    pub tokens: &'a [String],
    /// Window position -> doc word index, for document tokens only.
    pub token_to_orig_map: &'a HashMap<usize, usize>,
    /// Window position -> whether this window is the max-context window of that doc token.
    pub token_is_max_context: &'a HashMap<usize, bool>,
    /// Start logits over all positions (padding included).
    pub start_logits: &'a [f32],
    /// End logits over all positions (padding included).
    pub end_logits: &'a [f32],
}

/// The example a set of features came from.
#[derive(Debug, Clone, Copy)]
pub struct ExampleView<'a> {
    pub qas_id: &'a str,
    /// The context split into doc words (spec §5.3).
    pub doc_words: &'a [String],
}

/// One entry of `nbest_predictions_<step>.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct NbestEntry {
    pub text: String,
    pub probability: f64,
    pub start_logit: f64,
    pub end_logit: f64,
}

/// The decoded prediction of one example.
#[derive(Debug, Clone, PartialEq)]
pub struct ExamplePrediction {
    /// The text written to `predictions_<step>.json`: the top entry (`empty` when there is no candidate);
    /// under SQuAD 2.0, `""` when the null odds exceed the threshold, else the best non-null text.
    pub answer: String,
    pub nbest: Vec<NbestEntry>,
    /// SQuAD 2.0 only: `score_null - best_non_null.start_logit - best_non_null.end_logit`.
    pub null_odds: Option<f64>,
}

#[derive(Debug, Clone, Copy)]
struct Prelim {
    feature_index: usize,
    start_index: usize,
    end_index: usize,
    start_logit: f64,
    end_logit: f64,
}

/// Sort key giving Python's ordering of floats for the finite case: -0.0 equals 0.0; NaN (on which Python's
/// sort is undefined) ranks below everything.
fn sort_key(x: f64) -> f64 {
    if x.is_nan() {
        f64::NEG_INFINITY
    } else {
        x + 0.0
    }
}

/// Indexes of the `n` largest values, largest first; ties keep the lower index first (`_get_best_indexes`).
fn best_indexes(logits: &[f64], n: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..logits.len()).collect();
    idx.sort_by(|&a, &b| sort_key(logits[b]).total_cmp(&sort_key(logits[a])));
    idx.truncate(n);
    idx
}

/// Softmax with the max subtracted first (`_compute_softmax`).
fn compute_softmax(scores: &[f64]) -> Vec<f64> {
    let mut max_score: Option<f64> = None;
    for &s in scores {
        if max_score.is_none_or(|m| s > m) {
            max_score = Some(s);
        }
    }
    let Some(max_score) = max_score else {
        return Vec::new();
    };
    let exp: Vec<f64> = scores.iter().map(|s| (s - max_score).exp()).collect();
    let mut total = 0.0;
    for x in &exp {
        total += x;
    }
    exp.iter().map(|x| x / total).collect()
}

/// `ElectraTokenizer.convert_tokens_to_string` then the whitespace cleanup of `compute_predictions_logits`:
/// join with spaces, delete every `" ##"`, strip, collapse Python whitespace runs to one space.
pub fn detokenize(tokens: &[String]) -> String {
    let joined = tokens.join(" ").replace(" ##", "");
    py_split_whitespace(&joined).collect::<Vec<_>>().join(" ")
}

/// Python `seq[start:stop]` for non-negative bounds: clamped, empty when `stop <= start`.
fn py_slice<T>(seq: &[T], start: usize, stop: usize) -> &[T] {
    let stop = stop.min(seq.len());
    let start = start.min(stop);
    &seq[start..stop]
}

/// Decode one example from its features: spec §8.5 steps 2–4 (transformers `compute_predictions_logits`).
///
/// * Candidates: per feature in order, the `n_best_size` best start and end positions over all logits (ties:
///   lower index first); pairs pass when both are `< tokens.len()`, both are keys of `token_to_orig_map`, the
///   start is max-context, `end >= start` and the length is `<= max_answer_length`. Score = start + end logit
///   (f32 widened to f64).
/// * Ranking: stable descending sort; texts via [`detokenize`] and [`get_final_text`] until `n_best_size`
///   distinct texts. A candidate starting at position 0 gets the text `""` without the dedupe (HF's null
///   branch; real features never map position 0).
/// * No candidate: the single entry `empty` (logits 0.0).
/// * `version_2`: HF's SQuAD 2.0 logic: `score_null` = min over features of `start[0] + end[0]`; that null
///   candidate joins the ranking; `""` is appended when absent; a lone entry gets `empty` inserted before it;
///   `null_odds = score_null - best_non_null` and the answer is `""` when `null_odds >
///   null_score_diff_threshold`.
///
/// Where HF raises instead: a feature with no logits adds no null score; an example without features under
///   `version_2` keeps `score_null = 1000000` with null logits 0 (HF: IndexError); when every entry has the
///   text `""` (only possible when position 0 is mapped) the first entry stands in for the best non-null one
///   (HF: AttributeError).
pub fn predict_example(
    example: &ExampleView,
    features: &[FeatureView],
    n_best_size: usize,
    max_answer_length: usize,
    do_lower_case: bool,
    version_2: bool,
    null_score_diff_threshold: f64,
) -> ExamplePrediction {
    let mut prelim: Vec<Prelim> = Vec::new();
    let mut score_null = 1_000_000.0_f64;
    let mut min_null_feature_index = 0usize;
    let mut null_start_logit = 0.0_f64;
    let mut null_end_logit = 0.0_f64;
    for (feature_index, feature) in features.iter().enumerate() {
        let start_logits: Vec<f64> = feature.start_logits.iter().map(|&x| f64::from(x)).collect();
        let end_logits: Vec<f64> = feature.end_logits.iter().map(|&x| f64::from(x)).collect();
        let start_indexes = best_indexes(&start_logits, n_best_size);
        let end_indexes = best_indexes(&end_logits, n_best_size);
        if version_2 {
            if let (Some(&s0), Some(&e0)) = (start_logits.first(), end_logits.first()) {
                let feature_null_score = s0 + e0;
                if feature_null_score < score_null {
                    score_null = feature_null_score;
                    min_null_feature_index = feature_index;
                    null_start_logit = s0;
                    null_end_logit = e0;
                }
            }
        }
        let n_tokens = feature.tokens.len();
        for &start_index in &start_indexes {
            for &end_index in &end_indexes {
                if start_index >= n_tokens || end_index >= n_tokens {
                    continue;
                }
                if !feature.token_to_orig_map.contains_key(&start_index)
                    || !feature.token_to_orig_map.contains_key(&end_index)
                {
                    continue;
                }
                if !feature.token_is_max_context.get(&start_index).copied().unwrap_or(false) {
                    continue;
                }
                if end_index < start_index {
                    continue;
                }
                if end_index - start_index + 1 > max_answer_length {
                    continue;
                }
                prelim.push(Prelim {
                    feature_index,
                    start_index,
                    end_index,
                    start_logit: start_logits[start_index],
                    end_logit: end_logits[end_index],
                });
            }
        }
    }
    if version_2 {
        prelim.push(Prelim {
            feature_index: min_null_feature_index,
            start_index: 0,
            end_index: 0,
            start_logit: null_start_logit,
            end_logit: null_end_logit,
        });
    }
    prelim.sort_by(|a, b| sort_key(b.start_logit + b.end_logit).total_cmp(&sort_key(a.start_logit + a.end_logit)));

    let mut seen: HashSet<String> = HashSet::new();
    let mut nbest: Vec<(String, f64, f64)> = Vec::new();
    for pred in &prelim {
        if nbest.len() >= n_best_size {
            break;
        }
        let final_text = if pred.start_index > 0 {
            let Some(feature) = features.get(pred.feature_index) else {
                continue;
            };
            let tok_tokens = py_slice(feature.tokens, pred.start_index, pred.end_index.saturating_add(1));
            let orig_doc_start = feature.token_to_orig_map.get(&pred.start_index).copied().unwrap_or(0);
            let orig_doc_end = feature.token_to_orig_map.get(&pred.end_index).copied().unwrap_or(0);
            let orig_tokens = py_slice(example.doc_words, orig_doc_start, orig_doc_end.saturating_add(1));
            let tok_text = detokenize(tok_tokens);
            let orig_text = orig_tokens.join(" ");
            let final_text = get_final_text(&tok_text, &orig_text, do_lower_case);
            if seen.contains(&final_text) {
                continue;
            }
            seen.insert(final_text.clone());
            final_text
        } else {
            seen.insert(String::new());
            String::new()
        };
        nbest.push((final_text, pred.start_logit, pred.end_logit));
    }
    if version_2 {
        if !seen.contains("") {
            nbest.push((String::new(), null_start_logit, null_end_logit));
        }
        if nbest.len() == 1 {
            nbest.insert(0, ("empty".to_string(), 0.0, 0.0));
        }
    }
    if nbest.is_empty() {
        nbest.push(("empty".to_string(), 0.0, 0.0));
    }

    let total_scores: Vec<f64> = nbest.iter().map(|(_, s, e)| s + e).collect();
    let best_non_null = nbest.iter().position(|(t, _, _)| !t.is_empty());
    let probs = compute_softmax(&total_scores);
    let entries: Vec<NbestEntry> = nbest
        .into_iter()
        .zip(probs)
        .map(|((text, start_logit, end_logit), probability)| NbestEntry {
            text,
            probability,
            start_logit,
            end_logit,
        })
        .collect();

    if !version_2 {
        let answer = entries.first().map(|e| e.text.clone()).unwrap_or_default();
        return ExamplePrediction {
            answer,
            nbest: entries,
            null_odds: None,
        };
    }
    let best = &entries[best_non_null.unwrap_or(0)];
    let score_diff = score_null - best.start_logit - best.end_logit;
    let answer = if score_diff > null_score_diff_threshold {
        String::new()
    } else {
        best.text.clone()
    };
    ExamplePrediction {
        answer,
        nbest: entries,
        null_odds: Some(score_diff),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// get_final_text and the 3.3.1 BasicTokenizer

/// Python `text.split()`: the non-empty runs between Python whitespace.
fn py_split_whitespace(text: &str) -> impl Iterator<Item = &str> {
    text.split(is_py_whitespace).filter(|s| !s.is_empty())
}

fn in_ranges(table: &[u32], cp: u32) -> bool {
    // `table` holds inclusive (lo, hi) pairs, sorted and disjoint.
    let (mut lo, mut hi) = (0usize, table.len() / 2);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if table[2 * mid] <= cp {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo > 0 && cp <= table[2 * (lo - 1) + 1]
}

/// BERT's `_is_punctuation`: ASCII 33–47, 58–64, 91–96, 123–126, or general category P* (Unicode 14).
pub fn is_bert_punctuation(c: char) -> bool {
    let cp = c as u32;
    if (33..=47).contains(&cp) || (58..=64).contains(&cp) || (91..=96).contains(&cp) || (123..=126).contains(&cp) {
        return true;
    }
    cp >= 0x80 && in_ranges(&PUNCT_P, cp)
}

/// BERT's `_is_chinese_char` (CJK ideograph blocks; Hangul is not in them).
pub fn is_cjk_char(c: char) -> bool {
    matches!(
        c as u32,
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0x20000..=0x2A6DF
            | 0x2A700..=0x2B73F
            | 0x2B740..=0x2B81F
            | 0x2B820..=0x2CEAF
            | 0xF900..=0xFAFF
            | 0x2F800..=0x2FA1F
    )
}

/// General category Mn (Unicode 14).
pub fn is_mn(c: char) -> bool {
    in_ranges(&MN, c as u32)
}

/// Python `re` `\w` on str patterns: `str.isalnum()` or `_` (Unicode 14).
pub fn is_py_word_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric() || (c as u32 >= 0x80 && in_ranges(&PY_WORD, c as u32))
}

/// `_run_strip_accents`: NFD, then drop the Mn chars.
fn strip_accents(text: &str) -> String {
    let mut n = NormalizedString::from(text);
    n.nfd();
    n.get().chars().filter(|&c| !is_mn(c)).collect()
}

/// `_run_split_on_punc`: every punctuation char is a token; the runs between them are tokens.
fn split_on_punc(text: &str, out: &mut Vec<String>) {
    let mut current = String::new();
    for c in text.chars() {
        if is_bert_punctuation(c) {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            out.push(c.to_string());
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
}

/// transformers 3.3.1 `BasicTokenizer(do_lower_case).tokenize(text)` with no `never_split` (as `get_final_text`
/// builds it), spec §2.4 step 3:
/// * **no** text cleaning: NUL, U+FFFD, control and format chars stay inside words (4.x removes them);
/// * **no** NFC normalization (4.x applies NFC, which composes jamo sequences and maps the CJK compatibility
///   ideographs U+F900–FAFF / U+2F800–2FA1F to unified ones);
/// * spaces around CJK ideographs; split on Python whitespace; when `do_lower_case`, Python `lower()` then
///   NFD and removal of Mn chars; punctuation split (ASCII non-alphanumerics and P*).
pub fn basic_tokenize(text: &str, do_lower_case: bool) -> Vec<String> {
    let mut spaced = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_cjk_char(c) {
            spaced.push(' ');
            spaced.push(c);
            spaced.push(' ');
        } else {
            spaced.push(c);
        }
    }
    let mut split_tokens = Vec::new();
    for token in py_split_whitespace(&spaced) {
        if do_lower_case {
            let lowered = strip_accents(&token.to_lowercase());
            split_on_punc(&lowered, &mut split_tokens);
        } else {
            split_on_punc(token, &mut split_tokens);
        }
    }
    let joined = split_tokens.join(" ");
    py_split_whitespace(&joined).map(str::to_string).collect()
}

/// Chars of `text` without U+0020 and, per kept char, its index in `text` (`_strip_spaces`).
fn strip_spaces(text: &[char]) -> (Vec<char>, Vec<usize>) {
    let mut chars = Vec::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len());
    for (i, &c) in text.iter().enumerate() {
        if c != ' ' {
            chars.push(c);
            map.push(i);
        }
    }
    (chars, map)
}

/// Project the detokenized prediction `pred_text` onto `orig_text` (spec §8.5 step 4, `get_final_text`):
/// BasicTokenize `orig_text` ([`basic_tokenize`]) and join with spaces; find the **first** occurrence of
/// `pred_text` (else return `orig_text`); drop U+0020 from both strings (different lengths: `orig_text`); map
/// the first and last matched chars back (unmappable: `orig_text`); return that char slice of `orig_text`.
pub fn get_final_text(pred_text: &str, orig_text: &str, do_lower_case: bool) -> String {
    let tok_text = basic_tokenize(orig_text, do_lower_case).join(" ");
    let Some(byte_pos) = tok_text.find(pred_text) else {
        return orig_text.to_string();
    };
    let start_position = tok_text[..byte_pos].chars().count() as i64;
    let end_position = start_position + pred_text.chars().count() as i64 - 1;

    let orig_chars: Vec<char> = orig_text.chars().collect();
    let tok_chars: Vec<char> = tok_text.chars().collect();
    let (orig_ns, orig_ns_to_s) = strip_spaces(&orig_chars);
    let (tok_ns, tok_ns_to_s) = strip_spaces(&tok_chars);
    if orig_ns.len() != tok_ns.len() {
        return orig_text.to_string();
    }
    let mut tok_s_to_ns: Vec<Option<usize>> = vec![None; tok_chars.len()];
    for (ns, &s) in tok_ns_to_s.iter().enumerate() {
        tok_s_to_ns[s] = Some(ns);
    }
    let project = |pos: i64| -> Option<usize> {
        let pos = usize::try_from(pos).ok()?;
        let ns = (*tok_s_to_ns.get(pos)?)?;
        orig_ns_to_s.get(ns).copied()
    };
    let (Some(orig_start), Some(orig_end)) = (project(start_position), project(end_position)) else {
        return orig_text.to_string();
    };
    py_slice(&orig_chars, orig_start, orig_end + 1).iter().collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Output files: json.dumps(obj, indent=4) + "\n"

/// Python `json.dumps` string literal with the default `ensure_ascii=True`.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{:04x}", unit));
                }
            }
        }
    }
    out.push('"');
}

/// Python `json.dumps` of a float: `repr`, with `NaN`, `Infinity`, `-Infinity`.
fn json_float(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else {
        format_py_float(x)
    }
}

/// Dict semantics of an insertion-ordered list: one entry per key, at its first position, with its last value.
fn dict_order<V>(items: &[(String, V)]) -> Vec<(&str, &V)> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut out: Vec<(&str, &V)> = Vec::new();
    for (k, v) in items {
        match index.get(k.as_str()) {
            Some(&i) => out[i].1 = v,
            None => {
                index.insert(k.as_str(), out.len());
                out.push((k.as_str(), v));
            }
        }
    }
    out
}

/// A top-level JSON object with 4-space indentation; `value` writes each value at the given indent level.
fn json_object<V>(items: &[(String, V)], mut value: impl FnMut(&mut String, &V)) -> String {
    let entries = dict_order(items);
    if entries.is_empty() {
        return "{}\n".to_string();
    }
    let mut out = String::from("{\n");
    for (i, (k, v)) in entries.iter().enumerate() {
        out.push_str("    ");
        push_json_str(&mut out, k);
        out.push_str(": ");
        value(&mut out, v);
        out.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
    }
    out.push_str("}\n");
    out
}

/// `predictions_<step>.json`: `json.dumps(OrderedDict(qas_id -> answer), indent=4) + "\n"`, non-ASCII escaped.
/// A repeated id keeps its first position and takes its last answer (Python dict assignment).
pub fn predictions_json(preds: &[(String, String)]) -> String {
    json_object(preds, |out, v| push_json_str(out, v))
}

/// `nbest_predictions_<step>.json`: qas_id -> list of `{text, probability, start_logit, end_logit}`.
pub fn nbest_json(nbest: &[(String, Vec<NbestEntry>)]) -> String {
    json_object(nbest, |out, entries| {
        if entries.is_empty() {
            out.push_str("[]");
            return;
        }
        out.push_str("[\n");
        for (i, e) in entries.iter().enumerate() {
            out.push_str("        {\n            \"text\": ");
            push_json_str(out, &e.text);
            out.push_str(",\n            \"probability\": ");
            out.push_str(&json_float(e.probability));
            out.push_str(",\n            \"start_logit\": ");
            out.push_str(&json_float(e.start_logit));
            out.push_str(",\n            \"end_logit\": ");
            out.push_str(&json_float(e.end_logit));
            out.push_str(if i + 1 < entries.len() {
                "\n        },\n"
            } else {
                "\n        }\n"
            });
        }
        out.push_str("    ]");
    })
}

/// `null_odds_<step>.json` (SQuAD 2.0): qas_id -> null odds.
pub fn null_odds_json(null_odds: &[(String, f64)]) -> String {
    json_object(null_odds, |out, v| out.push_str(&json_float(*v)))
}

// ---------------------------------------------------------------------------------------------------------------
// Library SQuAD metrics (transformers squad_evaluate, spec §8.5(a))

const ASCII_PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// SQuAD `normalize_answer`: lowercase; delete the 32 ASCII punctuation chars; replace each whole word `a`,
/// `an`, `the` (Python `re` `\b`, Unicode) by a space; collapse Python whitespace.
pub fn squad_normalize_answer(s: &str) -> String {
    let lowered = s.to_lowercase();
    let no_punc: String = lowered.chars().filter(|c| !ASCII_PUNCTUATION.contains(*c)).collect();
    // `\b(a|an|the)\b` matches exactly the maximal runs of word chars equal to one of the articles.
    let mut no_articles = String::with_capacity(no_punc.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if matches!(run.as_str(), "a" | "an" | "the") {
            out.push(' ');
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in no_punc.chars() {
        if is_py_word_char(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut no_articles);
            no_articles.push(c);
        }
    }
    flush(&mut run, &mut no_articles);
    py_split_whitespace(&no_articles).collect::<Vec<_>>().join(" ")
}

fn squad_tokens(s: &str) -> Vec<String> {
    squad_normalize_answer(s)
        .split(is_py_whitespace)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// SQuAD `compute_exact`: 1.0 when the normalized strings are equal.
pub fn squad_exact(gold: &str, pred: &str) -> f64 {
    f64::from(u8::from(squad_normalize_answer(gold) == squad_normalize_answer(pred)))
}

fn multiset_overlap<T: std::hash::Hash + Eq>(a: &[T], b: &[T]) -> usize {
    let mut counts: HashMap<&T, usize> = HashMap::new();
    for x in a {
        *counts.entry(x).or_insert(0) += 1;
    }
    let mut same = 0;
    for x in b {
        if let Some(n) = counts.get_mut(x) {
            if *n > 0 {
                *n -= 1;
                same += 1;
            }
        }
    }
    same
}

/// SQuAD `compute_f1`: token F1 over the normalized strings (1.0 when both are empty, 0.0 when one is).
pub fn squad_f1(gold: &str, pred: &str) -> f64 {
    let gold_toks = squad_tokens(gold);
    let pred_toks = squad_tokens(pred);
    if gold_toks.is_empty() || pred_toks.is_empty() {
        return f64::from(u8::from(gold_toks == pred_toks));
    }
    let num_same = multiset_overlap(&gold_toks, &pred_toks);
    if num_same == 0 {
        return 0.0;
    }
    let precision = num_same as f64 / pred_toks.len() as f64;
    let recall = num_same as f64 / gold_toks.len() as f64;
    (2.0 * precision * recall) / (precision + recall)
}

/// Insertion-ordered map with Python dict semantics (first position, last value).
struct OrderedMap<'a, V> {
    keys: Vec<&'a str>,
    vals: Vec<V>,
    index: HashMap<&'a str, usize>,
}

impl<'a, V> OrderedMap<'a, V> {
    fn new() -> Self {
        OrderedMap {
            keys: Vec::new(),
            vals: Vec::new(),
            index: HashMap::new(),
        }
    }

    fn insert(&mut self, k: &'a str, v: V) {
        match self.index.get(k) {
            Some(&i) => self.vals[i] = v,
            None => {
                self.index.insert(k, self.keys.len());
                self.keys.push(k);
                self.vals.push(v);
            }
        }
    }

    fn get(&self, k: &str) -> Option<&V> {
        self.index.get(k).map(|&i| &self.vals[i])
    }

    fn contains(&self, k: &str) -> bool {
        self.index.contains_key(k)
    }

    fn len(&self) -> usize {
        self.keys.len()
    }

    fn iter(&self) -> impl Iterator<Item = (&'a str, &V)> {
        self.keys.iter().copied().zip(self.vals.iter())
    }
}

/// 100 × mean of `scores` over `qids` (restricted to the scored ones), and that count; 0.0 over nothing.
fn eval_dict(exact: &OrderedMap<f64>, f1: &OrderedMap<f64>, qids: Option<&[&str]>) -> [f64; 3] {
    let list: Vec<&str> = match qids {
        None => exact.keys.clone(),
        Some(q) => q.iter().copied().filter(|k| exact.contains(k)).collect(),
    };
    if list.is_empty() {
        return [0.0, 0.0, 0.0];
    }
    let total = list.len() as f64;
    let mut e_sum = 0.0;
    let mut f_sum = 0.0;
    for k in &list {
        e_sum += exact.get(k).copied().unwrap_or(0.0);
        f_sum += f1.get(k).copied().unwrap_or(0.0);
    }
    [100.0 * e_sum / total, 100.0 * f_sum / total, total]
}

fn find_best_thresh(
    preds: &OrderedMap<&str>,
    scores: &OrderedMap<f64>,
    na_probs: &OrderedMap<f64>,
    has_ans: &OrderedMap<bool>,
) -> (f64, f64) {
    let num_no_ans = has_ans.iter().filter(|(_, h)| !**h).count();
    let mut cur_score = num_no_ans as f64;
    let mut best_score = cur_score;
    let mut best_thresh = 0.0;
    let mut qid_list: Vec<(&str, f64)> = na_probs.iter().map(|(k, v)| (k, *v)).collect();
    qid_list.sort_by(|a, b| sort_key(a.1).total_cmp(&sort_key(b.1)));
    for (qid, p) in qid_list {
        let Some(&score) = scores.get(qid) else {
            continue;
        };
        let diff = if has_ans.get(qid).copied().unwrap_or(false) {
            score
        } else if preds.get(qid).is_some_and(|t| !t.is_empty()) {
            -1.0
        } else {
            0.0
        };
        cur_score += diff;
        if cur_score > best_score {
            best_score = cur_score;
            best_thresh = p;
        }
    }
    if scores.len() == 0 {
        return (0.0, best_thresh);
    }
    (100.0 * best_score / scores.len() as f64, best_thresh)
}

/// transformers `squad_evaluate(examples, preds, no_answer_probs, no_answer_probability_threshold)`.
///
/// `examples`: (qas_id, gold answer texts); an empty list marks a no-answer question. `preds`: (qas_id,
/// text) in order. `no_answer_probs`: `None` = 0.0 for every prediction (what run_squad passes); HF's default
/// threshold is 1.0. Lists behave as Python dicts (a repeated key keeps its first position, last value).
///
/// Keys, in order: `exact`, `f1`, `total`, then `HasAns_exact`, `HasAns_f1`, `HasAns_total` when some question
/// has answers, `NoAns_*` when some has none, then `best_exact`, `best_exact_thresh`, `best_f1`,
/// `best_f1_thresh` when there is a no-answer probability. The `*total` values are integer counts.
///
/// Where HF raises, this returns: subset averages over the questions that have a prediction (HF: KeyError on a
/// missing prediction of a listed question); 0.0 for an average over no question (HF: ZeroDivisionError); a
/// question missing from `no_answer_probs` is never above the threshold (HF: KeyError).
pub fn squad_metrics(
    examples: &[(String, Vec<String>)],
    preds: &[(String, String)],
    no_answer_probs: Option<&[(String, f64)]>,
    no_answer_probability_threshold: f64,
) -> Vec<(String, f64)> {
    let mut has_ans: OrderedMap<bool> = OrderedMap::new();
    for (qid, answers) in examples {
        has_ans.insert(qid, !answers.is_empty());
    }
    let has_answer_qids: Vec<&str> = has_ans.iter().filter(|(_, h)| **h).map(|(k, _)| k).collect();
    let no_answer_qids: Vec<&str> = has_ans.iter().filter(|(_, h)| !**h).map(|(k, _)| k).collect();
    let mut pred_map: OrderedMap<&str> = OrderedMap::new();
    for (qid, text) in preds {
        pred_map.insert(qid, text.as_str());
    }
    let mut na: OrderedMap<f64> = OrderedMap::new();
    match no_answer_probs {
        None => {
            for (qid, _) in preds {
                na.insert(qid, 0.0);
            }
        }
        Some(list) => {
            for (qid, p) in list {
                na.insert(qid, *p);
            }
        }
    }

    // get_raw_scores
    let mut exact_raw: OrderedMap<f64> = OrderedMap::new();
    let mut f1_raw: OrderedMap<f64> = OrderedMap::new();
    for (qid, answers) in examples {
        let mut gold: Vec<&str> = answers
            .iter()
            .map(String::as_str)
            .filter(|a| !squad_normalize_answer(a).is_empty())
            .collect();
        if gold.is_empty() {
            gold.push("");
        }
        let Some(&prediction) = pred_map.get(qid) else {
            continue;
        };
        let e = gold
            .iter()
            .map(|a| squad_exact(a, prediction))
            .fold(f64::NEG_INFINITY, f64::max);
        let f = gold
            .iter()
            .map(|a| squad_f1(a, prediction))
            .fold(f64::NEG_INFINITY, f64::max);
        exact_raw.insert(qid, e);
        f1_raw.insert(qid, f);
    }

    // apply_no_ans_threshold
    let threshold = |scores: &OrderedMap<'_, f64>| -> Vec<f64> {
        scores
            .iter()
            .map(|(qid, &s)| {
                let pred_na = na.get(qid).is_some_and(|&p| p > no_answer_probability_threshold);
                if pred_na {
                    f64::from(u8::from(!has_ans.get(qid).copied().unwrap_or(false)))
                } else {
                    s
                }
            })
            .collect()
    };
    let mut exact_thr: OrderedMap<f64> = OrderedMap::new();
    for (k, v) in exact_raw.keys.iter().zip(threshold(&exact_raw)) {
        exact_thr.insert(k, v);
    }
    let mut f1_thr: OrderedMap<f64> = OrderedMap::new();
    for (k, v) in f1_raw.keys.iter().zip(threshold(&f1_raw)) {
        f1_thr.insert(k, v);
    }

    let mut out: Vec<(String, f64)> = Vec::new();
    let push3 = |out: &mut Vec<(String, f64)>, prefix: &str, v: [f64; 3]| {
        for (name, x) in ["exact", "f1", "total"].iter().zip(v) {
            out.push((format!("{prefix}{name}"), x));
        }
    };
    push3(&mut out, "", eval_dict(&exact_thr, &f1_thr, None));
    if !has_answer_qids.is_empty() {
        push3(
            &mut out,
            "HasAns_",
            eval_dict(&exact_thr, &f1_thr, Some(&has_answer_qids)),
        );
    }
    if !no_answer_qids.is_empty() {
        push3(
            &mut out,
            "NoAns_",
            eval_dict(&exact_thr, &f1_thr, Some(&no_answer_qids)),
        );
    }
    if na.len() > 0 {
        let (best_exact, exact_thresh) = find_best_thresh(&pred_map, &exact_raw, &na, &has_ans);
        let (best_f1, f1_thresh) = find_best_thresh(&pred_map, &f1_raw, &na, &has_ans);
        out.push(("best_exact".to_string(), best_exact));
        out.push(("best_exact_thresh".to_string(), exact_thresh));
        out.push(("best_f1".to_string(), best_f1));
        out.push(("best_f1_thresh".to_string(), f1_thresh));
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// Official KorQuAD v1.0 scorer (evaluate_v1_0.py, spec §8.5(b))

/// The 12 chars the official scorer replaces with a space before lowercasing.
const KORQUAD_SPACED: [char; 12] = ['\'', '"', '《', '》', '<', '>', '〈', '〉', '(', ')', '‘', '’'];

/// Official KorQuAD `normalize_answer`: the 12 quote/bracket chars -> space; lowercase; delete the 32 ASCII
/// punctuation chars; collapse Python whitespace. Articles are kept.
pub fn korquad_normalize_answer(s: &str) -> String {
    let spaced: String = s
        .chars()
        .map(|c| if KORQUAD_SPACED.contains(&c) { ' ' } else { c })
        .collect();
    let lowered = spaced.to_lowercase();
    let no_punc: String = lowered.chars().filter(|c| !ASCII_PUNCTUATION.contains(*c)).collect();
    py_split_whitespace(&no_punc).collect::<Vec<_>>().join(" ")
}

/// Official exact match.
pub fn korquad_exact(pred: &str, gold: &str) -> bool {
    korquad_normalize_answer(pred) == korquad_normalize_answer(gold)
}

/// Official character F1: chars of the normalized strings without spaces, multiset overlap (0 when none,
/// including when both are empty).
pub fn korquad_f1(pred: &str, gold: &str) -> f64 {
    let chars = |s: &str| -> Vec<char> {
        korquad_normalize_answer(s)
            .chars()
            .filter(|c| !is_py_whitespace(*c))
            .collect()
    };
    let pred_chars = chars(pred);
    let gold_chars = chars(gold);
    let num_same = multiset_overlap(&pred_chars, &gold_chars);
    if num_same == 0 {
        return 0.0;
    }
    let precision = num_same as f64 / pred_chars.len() as f64;
    let recall = num_same as f64 / gold_chars.len() as f64;
    (2.0 * precision * recall) / (precision + recall)
}

/// Official KorQuAD v1.0 `evaluate(dataset, predictions)` -> (exact_match, f1), both × 100.
///
/// `gold`: one entry per question, in dataset order; `preds`: a repeated id takes its last text. Each question
/// takes the max over its gold answers; a question without a prediction scores 0 and still counts. Where the
/// script raises: a question with no gold answer scores 0 (Python: `max()` of an empty list); no question at
/// all gives (0.0, 0.0) (Python: ZeroDivisionError).
pub fn korquad_official(gold: &[(String, Vec<String>)], preds: &[(String, String)]) -> (f64, f64) {
    let mut pred_map: OrderedMap<&str> = OrderedMap::new();
    for (qid, text) in preds {
        pred_map.insert(qid, text.as_str());
    }
    let mut exact_match = 0.0;
    let mut f1 = 0.0;
    let mut total = 0usize;
    for (qid, answers) in gold {
        total += 1;
        let Some(&prediction) = pred_map.get(qid) else {
            continue;
        };
        if answers.is_empty() {
            continue;
        }
        exact_match += if answers.iter().any(|a| korquad_exact(prediction, a)) {
            1.0
        } else {
            0.0
        };
        f1 += answers
            .iter()
            .map(|a| korquad_f1(prediction, a))
            .fold(f64::NEG_INFINITY, f64::max);
    }
    if total == 0 {
        return (0.0, 0.0);
    }
    (100.0 * exact_match / total as f64, 100.0 * f1 / total as f64)
}

// ---------------------------------------------------------------------------------------------------------------
// Unicode tables (Python 3.11 `unicodedata` 14.0.0), checked against tests/fixtures/squad_eval/unicode_tables.json

// Generated by `scripts/make_squad_eval_fixtures.py --rust-tables`.
/// Inclusive code-point ranges (lo, hi pairs) of general category P*.
const PUNCT_P: [u32; 378] = [
    0x21, 0x23, 0x25, 0x2A, 0x2C, 0x2F, 0x3A, 0x3B, 0x3F, 0x40, 0x5B, 0x5D, 0x5F, 0x5F, 0x7B, 0x7B, 0x7D, 0x7D, 0xA1,
    0xA1, 0xA7, 0xA7, 0xAB, 0xAB, 0xB6, 0xB7, 0xBB, 0xBB, 0xBF, 0xBF, 0x37E, 0x37E, 0x387, 0x387, 0x55A, 0x55F, 0x589,
    0x58A, 0x5BE, 0x5BE, 0x5C0, 0x5C0, 0x5C3, 0x5C3, 0x5C6, 0x5C6, 0x5F3, 0x5F4, 0x609, 0x60A, 0x60C, 0x60D, 0x61B,
    0x61B, 0x61D, 0x61F, 0x66A, 0x66D, 0x6D4, 0x6D4, 0x700, 0x70D, 0x7F7, 0x7F9, 0x830, 0x83E, 0x85E, 0x85E, 0x964,
    0x965, 0x970, 0x970, 0x9FD, 0x9FD, 0xA76, 0xA76, 0xAF0, 0xAF0, 0xC77, 0xC77, 0xC84, 0xC84, 0xDF4, 0xDF4, 0xE4F,
    0xE4F, 0xE5A, 0xE5B, 0xF04, 0xF12, 0xF14, 0xF14, 0xF3A, 0xF3D, 0xF85, 0xF85, 0xFD0, 0xFD4, 0xFD9, 0xFDA, 0x104A,
    0x104F, 0x10FB, 0x10FB, 0x1360, 0x1368, 0x1400, 0x1400, 0x166E, 0x166E, 0x169B, 0x169C, 0x16EB, 0x16ED, 0x1735,
    0x1736, 0x17D4, 0x17D6, 0x17D8, 0x17DA, 0x1800, 0x180A, 0x1944, 0x1945, 0x1A1E, 0x1A1F, 0x1AA0, 0x1AA6, 0x1AA8,
    0x1AAD, 0x1B5A, 0x1B60, 0x1B7D, 0x1B7E, 0x1BFC, 0x1BFF, 0x1C3B, 0x1C3F, 0x1C7E, 0x1C7F, 0x1CC0, 0x1CC7, 0x1CD3,
    0x1CD3, 0x2010, 0x2027, 0x2030, 0x2043, 0x2045, 0x2051, 0x2053, 0x205E, 0x207D, 0x207E, 0x208D, 0x208E, 0x2308,
    0x230B, 0x2329, 0x232A, 0x2768, 0x2775, 0x27C5, 0x27C6, 0x27E6, 0x27EF, 0x2983, 0x2998, 0x29D8, 0x29DB, 0x29FC,
    0x29FD, 0x2CF9, 0x2CFC, 0x2CFE, 0x2CFF, 0x2D70, 0x2D70, 0x2E00, 0x2E2E, 0x2E30, 0x2E4F, 0x2E52, 0x2E5D, 0x3001,
    0x3003, 0x3008, 0x3011, 0x3014, 0x301F, 0x3030, 0x3030, 0x303D, 0x303D, 0x30A0, 0x30A0, 0x30FB, 0x30FB, 0xA4FE,
    0xA4FF, 0xA60D, 0xA60F, 0xA673, 0xA673, 0xA67E, 0xA67E, 0xA6F2, 0xA6F7, 0xA874, 0xA877, 0xA8CE, 0xA8CF, 0xA8F8,
    0xA8FA, 0xA8FC, 0xA8FC, 0xA92E, 0xA92F, 0xA95F, 0xA95F, 0xA9C1, 0xA9CD, 0xA9DE, 0xA9DF, 0xAA5C, 0xAA5F, 0xAADE,
    0xAADF, 0xAAF0, 0xAAF1, 0xABEB, 0xABEB, 0xFD3E, 0xFD3F, 0xFE10, 0xFE19, 0xFE30, 0xFE52, 0xFE54, 0xFE61, 0xFE63,
    0xFE63, 0xFE68, 0xFE68, 0xFE6A, 0xFE6B, 0xFF01, 0xFF03, 0xFF05, 0xFF0A, 0xFF0C, 0xFF0F, 0xFF1A, 0xFF1B, 0xFF1F,
    0xFF20, 0xFF3B, 0xFF3D, 0xFF3F, 0xFF3F, 0xFF5B, 0xFF5B, 0xFF5D, 0xFF5D, 0xFF5F, 0xFF65, 0x10100, 0x10102, 0x1039F,
    0x1039F, 0x103D0, 0x103D0, 0x1056F, 0x1056F, 0x10857, 0x10857, 0x1091F, 0x1091F, 0x1093F, 0x1093F, 0x10A50,
    0x10A58, 0x10A7F, 0x10A7F, 0x10AF0, 0x10AF6, 0x10B39, 0x10B3F, 0x10B99, 0x10B9C, 0x10EAD, 0x10EAD, 0x10F55,
    0x10F59, 0x10F86, 0x10F89, 0x11047, 0x1104D, 0x110BB, 0x110BC, 0x110BE, 0x110C1, 0x11140, 0x11143, 0x11174,
    0x11175, 0x111C5, 0x111C8, 0x111CD, 0x111CD, 0x111DB, 0x111DB, 0x111DD, 0x111DF, 0x11238, 0x1123D, 0x112A9,
    0x112A9, 0x1144B, 0x1144F, 0x1145A, 0x1145B, 0x1145D, 0x1145D, 0x114C6, 0x114C6, 0x115C1, 0x115D7, 0x11641,
    0x11643, 0x11660, 0x1166C, 0x116B9, 0x116B9, 0x1173C, 0x1173E, 0x1183B, 0x1183B, 0x11944, 0x11946, 0x119E2,
    0x119E2, 0x11A3F, 0x11A46, 0x11A9A, 0x11A9C, 0x11A9E, 0x11AA2, 0x11C41, 0x11C45, 0x11C70, 0x11C71, 0x11EF7,
    0x11EF8, 0x11FFF, 0x11FFF, 0x12470, 0x12474, 0x12FF1, 0x12FF2, 0x16A6E, 0x16A6F, 0x16AF5, 0x16AF5, 0x16B37,
    0x16B3B, 0x16B44, 0x16B44, 0x16E97, 0x16E9A, 0x16FE2, 0x16FE2, 0x1BC9F, 0x1BC9F, 0x1DA87, 0x1DA8B, 0x1E95E,
    0x1E95F,
];
/// Inclusive code-point ranges of general category Mn.
const MN: [u32; 672] = [
    0x300, 0x36F, 0x483, 0x487, 0x591, 0x5BD, 0x5BF, 0x5BF, 0x5C1, 0x5C2, 0x5C4, 0x5C5, 0x5C7, 0x5C7, 0x610, 0x61A,
    0x64B, 0x65F, 0x670, 0x670, 0x6D6, 0x6DC, 0x6DF, 0x6E4, 0x6E7, 0x6E8, 0x6EA, 0x6ED, 0x711, 0x711, 0x730, 0x74A,
    0x7A6, 0x7B0, 0x7EB, 0x7F3, 0x7FD, 0x7FD, 0x816, 0x819, 0x81B, 0x823, 0x825, 0x827, 0x829, 0x82D, 0x859, 0x85B,
    0x898, 0x89F, 0x8CA, 0x8E1, 0x8E3, 0x902, 0x93A, 0x93A, 0x93C, 0x93C, 0x941, 0x948, 0x94D, 0x94D, 0x951, 0x957,
    0x962, 0x963, 0x981, 0x981, 0x9BC, 0x9BC, 0x9C1, 0x9C4, 0x9CD, 0x9CD, 0x9E2, 0x9E3, 0x9FE, 0x9FE, 0xA01, 0xA02,
    0xA3C, 0xA3C, 0xA41, 0xA42, 0xA47, 0xA48, 0xA4B, 0xA4D, 0xA51, 0xA51, 0xA70, 0xA71, 0xA75, 0xA75, 0xA81, 0xA82,
    0xABC, 0xABC, 0xAC1, 0xAC5, 0xAC7, 0xAC8, 0xACD, 0xACD, 0xAE2, 0xAE3, 0xAFA, 0xAFF, 0xB01, 0xB01, 0xB3C, 0xB3C,
    0xB3F, 0xB3F, 0xB41, 0xB44, 0xB4D, 0xB4D, 0xB55, 0xB56, 0xB62, 0xB63, 0xB82, 0xB82, 0xBC0, 0xBC0, 0xBCD, 0xBCD,
    0xC00, 0xC00, 0xC04, 0xC04, 0xC3C, 0xC3C, 0xC3E, 0xC40, 0xC46, 0xC48, 0xC4A, 0xC4D, 0xC55, 0xC56, 0xC62, 0xC63,
    0xC81, 0xC81, 0xCBC, 0xCBC, 0xCBF, 0xCBF, 0xCC6, 0xCC6, 0xCCC, 0xCCD, 0xCE2, 0xCE3, 0xD00, 0xD01, 0xD3B, 0xD3C,
    0xD41, 0xD44, 0xD4D, 0xD4D, 0xD62, 0xD63, 0xD81, 0xD81, 0xDCA, 0xDCA, 0xDD2, 0xDD4, 0xDD6, 0xDD6, 0xE31, 0xE31,
    0xE34, 0xE3A, 0xE47, 0xE4E, 0xEB1, 0xEB1, 0xEB4, 0xEBC, 0xEC8, 0xECD, 0xF18, 0xF19, 0xF35, 0xF35, 0xF37, 0xF37,
    0xF39, 0xF39, 0xF71, 0xF7E, 0xF80, 0xF84, 0xF86, 0xF87, 0xF8D, 0xF97, 0xF99, 0xFBC, 0xFC6, 0xFC6, 0x102D, 0x1030,
    0x1032, 0x1037, 0x1039, 0x103A, 0x103D, 0x103E, 0x1058, 0x1059, 0x105E, 0x1060, 0x1071, 0x1074, 0x1082, 0x1082,
    0x1085, 0x1086, 0x108D, 0x108D, 0x109D, 0x109D, 0x135D, 0x135F, 0x1712, 0x1714, 0x1732, 0x1733, 0x1752, 0x1753,
    0x1772, 0x1773, 0x17B4, 0x17B5, 0x17B7, 0x17BD, 0x17C6, 0x17C6, 0x17C9, 0x17D3, 0x17DD, 0x17DD, 0x180B, 0x180D,
    0x180F, 0x180F, 0x1885, 0x1886, 0x18A9, 0x18A9, 0x1920, 0x1922, 0x1927, 0x1928, 0x1932, 0x1932, 0x1939, 0x193B,
    0x1A17, 0x1A18, 0x1A1B, 0x1A1B, 0x1A56, 0x1A56, 0x1A58, 0x1A5E, 0x1A60, 0x1A60, 0x1A62, 0x1A62, 0x1A65, 0x1A6C,
    0x1A73, 0x1A7C, 0x1A7F, 0x1A7F, 0x1AB0, 0x1ABD, 0x1ABF, 0x1ACE, 0x1B00, 0x1B03, 0x1B34, 0x1B34, 0x1B36, 0x1B3A,
    0x1B3C, 0x1B3C, 0x1B42, 0x1B42, 0x1B6B, 0x1B73, 0x1B80, 0x1B81, 0x1BA2, 0x1BA5, 0x1BA8, 0x1BA9, 0x1BAB, 0x1BAD,
    0x1BE6, 0x1BE6, 0x1BE8, 0x1BE9, 0x1BED, 0x1BED, 0x1BEF, 0x1BF1, 0x1C2C, 0x1C33, 0x1C36, 0x1C37, 0x1CD0, 0x1CD2,
    0x1CD4, 0x1CE0, 0x1CE2, 0x1CE8, 0x1CED, 0x1CED, 0x1CF4, 0x1CF4, 0x1CF8, 0x1CF9, 0x1DC0, 0x1DFF, 0x20D0, 0x20DC,
    0x20E1, 0x20E1, 0x20E5, 0x20F0, 0x2CEF, 0x2CF1, 0x2D7F, 0x2D7F, 0x2DE0, 0x2DFF, 0x302A, 0x302D, 0x3099, 0x309A,
    0xA66F, 0xA66F, 0xA674, 0xA67D, 0xA69E, 0xA69F, 0xA6F0, 0xA6F1, 0xA802, 0xA802, 0xA806, 0xA806, 0xA80B, 0xA80B,
    0xA825, 0xA826, 0xA82C, 0xA82C, 0xA8C4, 0xA8C5, 0xA8E0, 0xA8F1, 0xA8FF, 0xA8FF, 0xA926, 0xA92D, 0xA947, 0xA951,
    0xA980, 0xA982, 0xA9B3, 0xA9B3, 0xA9B6, 0xA9B9, 0xA9BC, 0xA9BD, 0xA9E5, 0xA9E5, 0xAA29, 0xAA2E, 0xAA31, 0xAA32,
    0xAA35, 0xAA36, 0xAA43, 0xAA43, 0xAA4C, 0xAA4C, 0xAA7C, 0xAA7C, 0xAAB0, 0xAAB0, 0xAAB2, 0xAAB4, 0xAAB7, 0xAAB8,
    0xAABE, 0xAABF, 0xAAC1, 0xAAC1, 0xAAEC, 0xAAED, 0xAAF6, 0xAAF6, 0xABE5, 0xABE5, 0xABE8, 0xABE8, 0xABED, 0xABED,
    0xFB1E, 0xFB1E, 0xFE00, 0xFE0F, 0xFE20, 0xFE2F, 0x101FD, 0x101FD, 0x102E0, 0x102E0, 0x10376, 0x1037A, 0x10A01,
    0x10A03, 0x10A05, 0x10A06, 0x10A0C, 0x10A0F, 0x10A38, 0x10A3A, 0x10A3F, 0x10A3F, 0x10AE5, 0x10AE6, 0x10D24,
    0x10D27, 0x10EAB, 0x10EAC, 0x10F46, 0x10F50, 0x10F82, 0x10F85, 0x11001, 0x11001, 0x11038, 0x11046, 0x11070,
    0x11070, 0x11073, 0x11074, 0x1107F, 0x11081, 0x110B3, 0x110B6, 0x110B9, 0x110BA, 0x110C2, 0x110C2, 0x11100,
    0x11102, 0x11127, 0x1112B, 0x1112D, 0x11134, 0x11173, 0x11173, 0x11180, 0x11181, 0x111B6, 0x111BE, 0x111C9,
    0x111CC, 0x111CF, 0x111CF, 0x1122F, 0x11231, 0x11234, 0x11234, 0x11236, 0x11237, 0x1123E, 0x1123E, 0x112DF,
    0x112DF, 0x112E3, 0x112EA, 0x11300, 0x11301, 0x1133B, 0x1133C, 0x11340, 0x11340, 0x11366, 0x1136C, 0x11370,
    0x11374, 0x11438, 0x1143F, 0x11442, 0x11444, 0x11446, 0x11446, 0x1145E, 0x1145E, 0x114B3, 0x114B8, 0x114BA,
    0x114BA, 0x114BF, 0x114C0, 0x114C2, 0x114C3, 0x115B2, 0x115B5, 0x115BC, 0x115BD, 0x115BF, 0x115C0, 0x115DC,
    0x115DD, 0x11633, 0x1163A, 0x1163D, 0x1163D, 0x1163F, 0x11640, 0x116AB, 0x116AB, 0x116AD, 0x116AD, 0x116B0,
    0x116B5, 0x116B7, 0x116B7, 0x1171D, 0x1171F, 0x11722, 0x11725, 0x11727, 0x1172B, 0x1182F, 0x11837, 0x11839,
    0x1183A, 0x1193B, 0x1193C, 0x1193E, 0x1193E, 0x11943, 0x11943, 0x119D4, 0x119D7, 0x119DA, 0x119DB, 0x119E0,
    0x119E0, 0x11A01, 0x11A0A, 0x11A33, 0x11A38, 0x11A3B, 0x11A3E, 0x11A47, 0x11A47, 0x11A51, 0x11A56, 0x11A59,
    0x11A5B, 0x11A8A, 0x11A96, 0x11A98, 0x11A99, 0x11C30, 0x11C36, 0x11C38, 0x11C3D, 0x11C3F, 0x11C3F, 0x11C92,
    0x11CA7, 0x11CAA, 0x11CB0, 0x11CB2, 0x11CB3, 0x11CB5, 0x11CB6, 0x11D31, 0x11D36, 0x11D3A, 0x11D3A, 0x11D3C,
    0x11D3D, 0x11D3F, 0x11D45, 0x11D47, 0x11D47, 0x11D90, 0x11D91, 0x11D95, 0x11D95, 0x11D97, 0x11D97, 0x11EF3,
    0x11EF4, 0x16AF0, 0x16AF4, 0x16B30, 0x16B36, 0x16F4F, 0x16F4F, 0x16F8F, 0x16F92, 0x16FE4, 0x16FE4, 0x1BC9D,
    0x1BC9E, 0x1CF00, 0x1CF2D, 0x1CF30, 0x1CF46, 0x1D167, 0x1D169, 0x1D17B, 0x1D182, 0x1D185, 0x1D18B, 0x1D1AA,
    0x1D1AD, 0x1D242, 0x1D244, 0x1DA00, 0x1DA36, 0x1DA3B, 0x1DA6C, 0x1DA75, 0x1DA75, 0x1DA84, 0x1DA84, 0x1DA9B,
    0x1DA9F, 0x1DAA1, 0x1DAAF, 0x1E000, 0x1E006, 0x1E008, 0x1E018, 0x1E01B, 0x1E021, 0x1E023, 0x1E024, 0x1E026,
    0x1E02A, 0x1E130, 0x1E136, 0x1E2AE, 0x1E2AE, 0x1E2EC, 0x1E2EF, 0x1E8D0, 0x1E8D6, 0x1E944, 0x1E94A, 0xE0100,
    0xE01EF,
];
/// Inclusive code-point ranges matched by Python's `re` `\w` (str).
const PY_WORD: [u32; 1468] = [
    0x30, 0x39, 0x41, 0x5A, 0x5F, 0x5F, 0x61, 0x7A, 0xAA, 0xAA, 0xB2, 0xB3, 0xB5, 0xB5, 0xB9, 0xBA, 0xBC, 0xBE, 0xC0,
    0xD6, 0xD8, 0xF6, 0xF8, 0x2C1, 0x2C6, 0x2D1, 0x2E0, 0x2E4, 0x2EC, 0x2EC, 0x2EE, 0x2EE, 0x370, 0x374, 0x376, 0x377,
    0x37A, 0x37D, 0x37F, 0x37F, 0x386, 0x386, 0x388, 0x38A, 0x38C, 0x38C, 0x38E, 0x3A1, 0x3A3, 0x3F5, 0x3F7, 0x481,
    0x48A, 0x52F, 0x531, 0x556, 0x559, 0x559, 0x560, 0x588, 0x5D0, 0x5EA, 0x5EF, 0x5F2, 0x620, 0x64A, 0x660, 0x669,
    0x66E, 0x66F, 0x671, 0x6D3, 0x6D5, 0x6D5, 0x6E5, 0x6E6, 0x6EE, 0x6FC, 0x6FF, 0x6FF, 0x710, 0x710, 0x712, 0x72F,
    0x74D, 0x7A5, 0x7B1, 0x7B1, 0x7C0, 0x7EA, 0x7F4, 0x7F5, 0x7FA, 0x7FA, 0x800, 0x815, 0x81A, 0x81A, 0x824, 0x824,
    0x828, 0x828, 0x840, 0x858, 0x860, 0x86A, 0x870, 0x887, 0x889, 0x88E, 0x8A0, 0x8C9, 0x904, 0x939, 0x93D, 0x93D,
    0x950, 0x950, 0x958, 0x961, 0x966, 0x96F, 0x971, 0x980, 0x985, 0x98C, 0x98F, 0x990, 0x993, 0x9A8, 0x9AA, 0x9B0,
    0x9B2, 0x9B2, 0x9B6, 0x9B9, 0x9BD, 0x9BD, 0x9CE, 0x9CE, 0x9DC, 0x9DD, 0x9DF, 0x9E1, 0x9E6, 0x9F1, 0x9F4, 0x9F9,
    0x9FC, 0x9FC, 0xA05, 0xA0A, 0xA0F, 0xA10, 0xA13, 0xA28, 0xA2A, 0xA30, 0xA32, 0xA33, 0xA35, 0xA36, 0xA38, 0xA39,
    0xA59, 0xA5C, 0xA5E, 0xA5E, 0xA66, 0xA6F, 0xA72, 0xA74, 0xA85, 0xA8D, 0xA8F, 0xA91, 0xA93, 0xAA8, 0xAAA, 0xAB0,
    0xAB2, 0xAB3, 0xAB5, 0xAB9, 0xABD, 0xABD, 0xAD0, 0xAD0, 0xAE0, 0xAE1, 0xAE6, 0xAEF, 0xAF9, 0xAF9, 0xB05, 0xB0C,
    0xB0F, 0xB10, 0xB13, 0xB28, 0xB2A, 0xB30, 0xB32, 0xB33, 0xB35, 0xB39, 0xB3D, 0xB3D, 0xB5C, 0xB5D, 0xB5F, 0xB61,
    0xB66, 0xB6F, 0xB71, 0xB77, 0xB83, 0xB83, 0xB85, 0xB8A, 0xB8E, 0xB90, 0xB92, 0xB95, 0xB99, 0xB9A, 0xB9C, 0xB9C,
    0xB9E, 0xB9F, 0xBA3, 0xBA4, 0xBA8, 0xBAA, 0xBAE, 0xBB9, 0xBD0, 0xBD0, 0xBE6, 0xBF2, 0xC05, 0xC0C, 0xC0E, 0xC10,
    0xC12, 0xC28, 0xC2A, 0xC39, 0xC3D, 0xC3D, 0xC58, 0xC5A, 0xC5D, 0xC5D, 0xC60, 0xC61, 0xC66, 0xC6F, 0xC78, 0xC7E,
    0xC80, 0xC80, 0xC85, 0xC8C, 0xC8E, 0xC90, 0xC92, 0xCA8, 0xCAA, 0xCB3, 0xCB5, 0xCB9, 0xCBD, 0xCBD, 0xCDD, 0xCDE,
    0xCE0, 0xCE1, 0xCE6, 0xCEF, 0xCF1, 0xCF2, 0xD04, 0xD0C, 0xD0E, 0xD10, 0xD12, 0xD3A, 0xD3D, 0xD3D, 0xD4E, 0xD4E,
    0xD54, 0xD56, 0xD58, 0xD61, 0xD66, 0xD78, 0xD7A, 0xD7F, 0xD85, 0xD96, 0xD9A, 0xDB1, 0xDB3, 0xDBB, 0xDBD, 0xDBD,
    0xDC0, 0xDC6, 0xDE6, 0xDEF, 0xE01, 0xE30, 0xE32, 0xE33, 0xE40, 0xE46, 0xE50, 0xE59, 0xE81, 0xE82, 0xE84, 0xE84,
    0xE86, 0xE8A, 0xE8C, 0xEA3, 0xEA5, 0xEA5, 0xEA7, 0xEB0, 0xEB2, 0xEB3, 0xEBD, 0xEBD, 0xEC0, 0xEC4, 0xEC6, 0xEC6,
    0xED0, 0xED9, 0xEDC, 0xEDF, 0xF00, 0xF00, 0xF20, 0xF33, 0xF40, 0xF47, 0xF49, 0xF6C, 0xF88, 0xF8C, 0x1000, 0x102A,
    0x103F, 0x1049, 0x1050, 0x1055, 0x105A, 0x105D, 0x1061, 0x1061, 0x1065, 0x1066, 0x106E, 0x1070, 0x1075, 0x1081,
    0x108E, 0x108E, 0x1090, 0x1099, 0x10A0, 0x10C5, 0x10C7, 0x10C7, 0x10CD, 0x10CD, 0x10D0, 0x10FA, 0x10FC, 0x1248,
    0x124A, 0x124D, 0x1250, 0x1256, 0x1258, 0x1258, 0x125A, 0x125D, 0x1260, 0x1288, 0x128A, 0x128D, 0x1290, 0x12B0,
    0x12B2, 0x12B5, 0x12B8, 0x12BE, 0x12C0, 0x12C0, 0x12C2, 0x12C5, 0x12C8, 0x12D6, 0x12D8, 0x1310, 0x1312, 0x1315,
    0x1318, 0x135A, 0x1369, 0x137C, 0x1380, 0x138F, 0x13A0, 0x13F5, 0x13F8, 0x13FD, 0x1401, 0x166C, 0x166F, 0x167F,
    0x1681, 0x169A, 0x16A0, 0x16EA, 0x16EE, 0x16F8, 0x1700, 0x1711, 0x171F, 0x1731, 0x1740, 0x1751, 0x1760, 0x176C,
    0x176E, 0x1770, 0x1780, 0x17B3, 0x17D7, 0x17D7, 0x17DC, 0x17DC, 0x17E0, 0x17E9, 0x17F0, 0x17F9, 0x1810, 0x1819,
    0x1820, 0x1878, 0x1880, 0x1884, 0x1887, 0x18A8, 0x18AA, 0x18AA, 0x18B0, 0x18F5, 0x1900, 0x191E, 0x1946, 0x196D,
    0x1970, 0x1974, 0x1980, 0x19AB, 0x19B0, 0x19C9, 0x19D0, 0x19DA, 0x1A00, 0x1A16, 0x1A20, 0x1A54, 0x1A80, 0x1A89,
    0x1A90, 0x1A99, 0x1AA7, 0x1AA7, 0x1B05, 0x1B33, 0x1B45, 0x1B4C, 0x1B50, 0x1B59, 0x1B83, 0x1BA0, 0x1BAE, 0x1BE5,
    0x1C00, 0x1C23, 0x1C40, 0x1C49, 0x1C4D, 0x1C7D, 0x1C80, 0x1C88, 0x1C90, 0x1CBA, 0x1CBD, 0x1CBF, 0x1CE9, 0x1CEC,
    0x1CEE, 0x1CF3, 0x1CF5, 0x1CF6, 0x1CFA, 0x1CFA, 0x1D00, 0x1DBF, 0x1E00, 0x1F15, 0x1F18, 0x1F1D, 0x1F20, 0x1F45,
    0x1F48, 0x1F4D, 0x1F50, 0x1F57, 0x1F59, 0x1F59, 0x1F5B, 0x1F5B, 0x1F5D, 0x1F5D, 0x1F5F, 0x1F7D, 0x1F80, 0x1FB4,
    0x1FB6, 0x1FBC, 0x1FBE, 0x1FBE, 0x1FC2, 0x1FC4, 0x1FC6, 0x1FCC, 0x1FD0, 0x1FD3, 0x1FD6, 0x1FDB, 0x1FE0, 0x1FEC,
    0x1FF2, 0x1FF4, 0x1FF6, 0x1FFC, 0x2070, 0x2071, 0x2074, 0x2079, 0x207F, 0x2089, 0x2090, 0x209C, 0x2102, 0x2102,
    0x2107, 0x2107, 0x210A, 0x2113, 0x2115, 0x2115, 0x2119, 0x211D, 0x2124, 0x2124, 0x2126, 0x2126, 0x2128, 0x2128,
    0x212A, 0x212D, 0x212F, 0x2139, 0x213C, 0x213F, 0x2145, 0x2149, 0x214E, 0x214E, 0x2150, 0x2189, 0x2460, 0x249B,
    0x24EA, 0x24FF, 0x2776, 0x2793, 0x2C00, 0x2CE4, 0x2CEB, 0x2CEE, 0x2CF2, 0x2CF3, 0x2CFD, 0x2CFD, 0x2D00, 0x2D25,
    0x2D27, 0x2D27, 0x2D2D, 0x2D2D, 0x2D30, 0x2D67, 0x2D6F, 0x2D6F, 0x2D80, 0x2D96, 0x2DA0, 0x2DA6, 0x2DA8, 0x2DAE,
    0x2DB0, 0x2DB6, 0x2DB8, 0x2DBE, 0x2DC0, 0x2DC6, 0x2DC8, 0x2DCE, 0x2DD0, 0x2DD6, 0x2DD8, 0x2DDE, 0x2E2F, 0x2E2F,
    0x3005, 0x3007, 0x3021, 0x3029, 0x3031, 0x3035, 0x3038, 0x303C, 0x3041, 0x3096, 0x309D, 0x309F, 0x30A1, 0x30FA,
    0x30FC, 0x30FF, 0x3105, 0x312F, 0x3131, 0x318E, 0x3192, 0x3195, 0x31A0, 0x31BF, 0x31F0, 0x31FF, 0x3220, 0x3229,
    0x3248, 0x324F, 0x3251, 0x325F, 0x3280, 0x3289, 0x32B1, 0x32BF, 0x3400, 0x4DBF, 0x4E00, 0xA48C, 0xA4D0, 0xA4FD,
    0xA500, 0xA60C, 0xA610, 0xA62B, 0xA640, 0xA66E, 0xA67F, 0xA69D, 0xA6A0, 0xA6EF, 0xA717, 0xA71F, 0xA722, 0xA788,
    0xA78B, 0xA7CA, 0xA7D0, 0xA7D1, 0xA7D3, 0xA7D3, 0xA7D5, 0xA7D9, 0xA7F2, 0xA801, 0xA803, 0xA805, 0xA807, 0xA80A,
    0xA80C, 0xA822, 0xA830, 0xA835, 0xA840, 0xA873, 0xA882, 0xA8B3, 0xA8D0, 0xA8D9, 0xA8F2, 0xA8F7, 0xA8FB, 0xA8FB,
    0xA8FD, 0xA8FE, 0xA900, 0xA925, 0xA930, 0xA946, 0xA960, 0xA97C, 0xA984, 0xA9B2, 0xA9CF, 0xA9D9, 0xA9E0, 0xA9E4,
    0xA9E6, 0xA9FE, 0xAA00, 0xAA28, 0xAA40, 0xAA42, 0xAA44, 0xAA4B, 0xAA50, 0xAA59, 0xAA60, 0xAA76, 0xAA7A, 0xAA7A,
    0xAA7E, 0xAAAF, 0xAAB1, 0xAAB1, 0xAAB5, 0xAAB6, 0xAAB9, 0xAABD, 0xAAC0, 0xAAC0, 0xAAC2, 0xAAC2, 0xAADB, 0xAADD,
    0xAAE0, 0xAAEA, 0xAAF2, 0xAAF4, 0xAB01, 0xAB06, 0xAB09, 0xAB0E, 0xAB11, 0xAB16, 0xAB20, 0xAB26, 0xAB28, 0xAB2E,
    0xAB30, 0xAB5A, 0xAB5C, 0xAB69, 0xAB70, 0xABE2, 0xABF0, 0xABF9, 0xAC00, 0xD7A3, 0xD7B0, 0xD7C6, 0xD7CB, 0xD7FB,
    0xF900, 0xFA6D, 0xFA70, 0xFAD9, 0xFB00, 0xFB06, 0xFB13, 0xFB17, 0xFB1D, 0xFB1D, 0xFB1F, 0xFB28, 0xFB2A, 0xFB36,
    0xFB38, 0xFB3C, 0xFB3E, 0xFB3E, 0xFB40, 0xFB41, 0xFB43, 0xFB44, 0xFB46, 0xFBB1, 0xFBD3, 0xFD3D, 0xFD50, 0xFD8F,
    0xFD92, 0xFDC7, 0xFDF0, 0xFDFB, 0xFE70, 0xFE74, 0xFE76, 0xFEFC, 0xFF10, 0xFF19, 0xFF21, 0xFF3A, 0xFF41, 0xFF5A,
    0xFF66, 0xFFBE, 0xFFC2, 0xFFC7, 0xFFCA, 0xFFCF, 0xFFD2, 0xFFD7, 0xFFDA, 0xFFDC, 0x10000, 0x1000B, 0x1000D, 0x10026,
    0x10028, 0x1003A, 0x1003C, 0x1003D, 0x1003F, 0x1004D, 0x10050, 0x1005D, 0x10080, 0x100FA, 0x10107, 0x10133,
    0x10140, 0x10178, 0x1018A, 0x1018B, 0x10280, 0x1029C, 0x102A0, 0x102D0, 0x102E1, 0x102FB, 0x10300, 0x10323,
    0x1032D, 0x1034A, 0x10350, 0x10375, 0x10380, 0x1039D, 0x103A0, 0x103C3, 0x103C8, 0x103CF, 0x103D1, 0x103D5,
    0x10400, 0x1049D, 0x104A0, 0x104A9, 0x104B0, 0x104D3, 0x104D8, 0x104FB, 0x10500, 0x10527, 0x10530, 0x10563,
    0x10570, 0x1057A, 0x1057C, 0x1058A, 0x1058C, 0x10592, 0x10594, 0x10595, 0x10597, 0x105A1, 0x105A3, 0x105B1,
    0x105B3, 0x105B9, 0x105BB, 0x105BC, 0x10600, 0x10736, 0x10740, 0x10755, 0x10760, 0x10767, 0x10780, 0x10785,
    0x10787, 0x107B0, 0x107B2, 0x107BA, 0x10800, 0x10805, 0x10808, 0x10808, 0x1080A, 0x10835, 0x10837, 0x10838,
    0x1083C, 0x1083C, 0x1083F, 0x10855, 0x10858, 0x10876, 0x10879, 0x1089E, 0x108A7, 0x108AF, 0x108E0, 0x108F2,
    0x108F4, 0x108F5, 0x108FB, 0x1091B, 0x10920, 0x10939, 0x10980, 0x109B7, 0x109BC, 0x109CF, 0x109D2, 0x10A00,
    0x10A10, 0x10A13, 0x10A15, 0x10A17, 0x10A19, 0x10A35, 0x10A40, 0x10A48, 0x10A60, 0x10A7E, 0x10A80, 0x10A9F,
    0x10AC0, 0x10AC7, 0x10AC9, 0x10AE4, 0x10AEB, 0x10AEF, 0x10B00, 0x10B35, 0x10B40, 0x10B55, 0x10B58, 0x10B72,
    0x10B78, 0x10B91, 0x10BA9, 0x10BAF, 0x10C00, 0x10C48, 0x10C80, 0x10CB2, 0x10CC0, 0x10CF2, 0x10CFA, 0x10D23,
    0x10D30, 0x10D39, 0x10E60, 0x10E7E, 0x10E80, 0x10EA9, 0x10EB0, 0x10EB1, 0x10F00, 0x10F27, 0x10F30, 0x10F45,
    0x10F51, 0x10F54, 0x10F70, 0x10F81, 0x10FB0, 0x10FCB, 0x10FE0, 0x10FF6, 0x11003, 0x11037, 0x11052, 0x1106F,
    0x11071, 0x11072, 0x11075, 0x11075, 0x11083, 0x110AF, 0x110D0, 0x110E8, 0x110F0, 0x110F9, 0x11103, 0x11126,
    0x11136, 0x1113F, 0x11144, 0x11144, 0x11147, 0x11147, 0x11150, 0x11172, 0x11176, 0x11176, 0x11183, 0x111B2,
    0x111C1, 0x111C4, 0x111D0, 0x111DA, 0x111DC, 0x111DC, 0x111E1, 0x111F4, 0x11200, 0x11211, 0x11213, 0x1122B,
    0x11280, 0x11286, 0x11288, 0x11288, 0x1128A, 0x1128D, 0x1128F, 0x1129D, 0x1129F, 0x112A8, 0x112B0, 0x112DE,
    0x112F0, 0x112F9, 0x11305, 0x1130C, 0x1130F, 0x11310, 0x11313, 0x11328, 0x1132A, 0x11330, 0x11332, 0x11333,
    0x11335, 0x11339, 0x1133D, 0x1133D, 0x11350, 0x11350, 0x1135D, 0x11361, 0x11400, 0x11434, 0x11447, 0x1144A,
    0x11450, 0x11459, 0x1145F, 0x11461, 0x11480, 0x114AF, 0x114C4, 0x114C5, 0x114C7, 0x114C7, 0x114D0, 0x114D9,
    0x11580, 0x115AE, 0x115D8, 0x115DB, 0x11600, 0x1162F, 0x11644, 0x11644, 0x11650, 0x11659, 0x11680, 0x116AA,
    0x116B8, 0x116B8, 0x116C0, 0x116C9, 0x11700, 0x1171A, 0x11730, 0x1173B, 0x11740, 0x11746, 0x11800, 0x1182B,
    0x118A0, 0x118F2, 0x118FF, 0x11906, 0x11909, 0x11909, 0x1190C, 0x11913, 0x11915, 0x11916, 0x11918, 0x1192F,
    0x1193F, 0x1193F, 0x11941, 0x11941, 0x11950, 0x11959, 0x119A0, 0x119A7, 0x119AA, 0x119D0, 0x119E1, 0x119E1,
    0x119E3, 0x119E3, 0x11A00, 0x11A00, 0x11A0B, 0x11A32, 0x11A3A, 0x11A3A, 0x11A50, 0x11A50, 0x11A5C, 0x11A89,
    0x11A9D, 0x11A9D, 0x11AB0, 0x11AF8, 0x11C00, 0x11C08, 0x11C0A, 0x11C2E, 0x11C40, 0x11C40, 0x11C50, 0x11C6C,
    0x11C72, 0x11C8F, 0x11D00, 0x11D06, 0x11D08, 0x11D09, 0x11D0B, 0x11D30, 0x11D46, 0x11D46, 0x11D50, 0x11D59,
    0x11D60, 0x11D65, 0x11D67, 0x11D68, 0x11D6A, 0x11D89, 0x11D98, 0x11D98, 0x11DA0, 0x11DA9, 0x11EE0, 0x11EF2,
    0x11FB0, 0x11FB0, 0x11FC0, 0x11FD4, 0x12000, 0x12399, 0x12400, 0x1246E, 0x12480, 0x12543, 0x12F90, 0x12FF0,
    0x13000, 0x1342E, 0x14400, 0x14646, 0x16800, 0x16A38, 0x16A40, 0x16A5E, 0x16A60, 0x16A69, 0x16A70, 0x16ABE,
    0x16AC0, 0x16AC9, 0x16AD0, 0x16AED, 0x16B00, 0x16B2F, 0x16B40, 0x16B43, 0x16B50, 0x16B59, 0x16B5B, 0x16B61,
    0x16B63, 0x16B77, 0x16B7D, 0x16B8F, 0x16E40, 0x16E96, 0x16F00, 0x16F4A, 0x16F50, 0x16F50, 0x16F93, 0x16F9F,
    0x16FE0, 0x16FE1, 0x16FE3, 0x16FE3, 0x17000, 0x187F7, 0x18800, 0x18CD5, 0x18D00, 0x18D08, 0x1AFF0, 0x1AFF3,
    0x1AFF5, 0x1AFFB, 0x1AFFD, 0x1AFFE, 0x1B000, 0x1B122, 0x1B150, 0x1B152, 0x1B164, 0x1B167, 0x1B170, 0x1B2FB,
    0x1BC00, 0x1BC6A, 0x1BC70, 0x1BC7C, 0x1BC80, 0x1BC88, 0x1BC90, 0x1BC99, 0x1D2E0, 0x1D2F3, 0x1D360, 0x1D378,
    0x1D400, 0x1D454, 0x1D456, 0x1D49C, 0x1D49E, 0x1D49F, 0x1D4A2, 0x1D4A2, 0x1D4A5, 0x1D4A6, 0x1D4A9, 0x1D4AC,
    0x1D4AE, 0x1D4B9, 0x1D4BB, 0x1D4BB, 0x1D4BD, 0x1D4C3, 0x1D4C5, 0x1D505, 0x1D507, 0x1D50A, 0x1D50D, 0x1D514,
    0x1D516, 0x1D51C, 0x1D51E, 0x1D539, 0x1D53B, 0x1D53E, 0x1D540, 0x1D544, 0x1D546, 0x1D546, 0x1D54A, 0x1D550,
    0x1D552, 0x1D6A5, 0x1D6A8, 0x1D6C0, 0x1D6C2, 0x1D6DA, 0x1D6DC, 0x1D6FA, 0x1D6FC, 0x1D714, 0x1D716, 0x1D734,
    0x1D736, 0x1D74E, 0x1D750, 0x1D76E, 0x1D770, 0x1D788, 0x1D78A, 0x1D7A8, 0x1D7AA, 0x1D7C2, 0x1D7C4, 0x1D7CB,
    0x1D7CE, 0x1D7FF, 0x1DF00, 0x1DF1E, 0x1E100, 0x1E12C, 0x1E137, 0x1E13D, 0x1E140, 0x1E149, 0x1E14E, 0x1E14E,
    0x1E290, 0x1E2AD, 0x1E2C0, 0x1E2EB, 0x1E2F0, 0x1E2F9, 0x1E7E0, 0x1E7E6, 0x1E7E8, 0x1E7EB, 0x1E7ED, 0x1E7EE,
    0x1E7F0, 0x1E7FE, 0x1E800, 0x1E8C4, 0x1E8C7, 0x1E8CF, 0x1E900, 0x1E943, 0x1E94B, 0x1E94B, 0x1E950, 0x1E959,
    0x1EC71, 0x1ECAB, 0x1ECAD, 0x1ECAF, 0x1ECB1, 0x1ECB4, 0x1ED01, 0x1ED2D, 0x1ED2F, 0x1ED3D, 0x1EE00, 0x1EE03,
    0x1EE05, 0x1EE1F, 0x1EE21, 0x1EE22, 0x1EE24, 0x1EE24, 0x1EE27, 0x1EE27, 0x1EE29, 0x1EE32, 0x1EE34, 0x1EE37,
    0x1EE39, 0x1EE39, 0x1EE3B, 0x1EE3B, 0x1EE42, 0x1EE42, 0x1EE47, 0x1EE47, 0x1EE49, 0x1EE49, 0x1EE4B, 0x1EE4B,
    0x1EE4D, 0x1EE4F, 0x1EE51, 0x1EE52, 0x1EE54, 0x1EE54, 0x1EE57, 0x1EE57, 0x1EE59, 0x1EE59, 0x1EE5B, 0x1EE5B,
    0x1EE5D, 0x1EE5D, 0x1EE5F, 0x1EE5F, 0x1EE61, 0x1EE62, 0x1EE64, 0x1EE64, 0x1EE67, 0x1EE6A, 0x1EE6C, 0x1EE72,
    0x1EE74, 0x1EE77, 0x1EE79, 0x1EE7C, 0x1EE7E, 0x1EE7E, 0x1EE80, 0x1EE89, 0x1EE8B, 0x1EE9B, 0x1EEA1, 0x1EEA3,
    0x1EEA5, 0x1EEA9, 0x1EEAB, 0x1EEBB, 0x1F100, 0x1F10C, 0x1FBF0, 0x1FBF9, 0x20000, 0x2A6DF, 0x2A700, 0x2B738,
    0x2B740, 0x2B81D, 0x2B820, 0x2CEA1, 0x2CEB0, 0x2EBE0, 0x2F800, 0x2FA1D, 0x30000, 0x3134A,
];
