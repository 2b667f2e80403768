//! SQuAD n-best decoding (spec §8.5 steps 2–4): start/end logits of an example's windows -> its
//! answer, n-best list and, for the answer, where it lies in the context; `get_final_text`.
//!
//! Reference: transformers 3.3.1 `compute_predictions_logits` (identical in 4.57 apart from the
//! BasicTokenizer that `get_final_text` builds, see [`basic_tokenize`]). Parity fixtures:
//! `scripts/make_squad_eval_fixtures.py` -> `tests/fixtures/squad_eval/`.
//!
//! Inputs are plain data (token strings, maps, logits) so this module does not depend on the feature code.
//! Every offset is in Unicode chars. No function panics, whatever the input; where the Python reference raises
//! (an example without features under SQuAD 2.0, ...) the behavior is documented on the function.
use std::collections::{HashMap, HashSet};

pub use crate::text::basic_tokenizer::basic_tokenize;
use crate::text::python::{py_float_sort_key as sort_key, split_whitespace};
use crate::text::PieceStyle;

/// The decoding settings of a run (config keys of the same names).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decoding {
    /// Start/end candidates per window and the length of the n-best list.
    pub n_best_size: usize,
    /// Longest answer in tokens.
    pub max_answer_length: usize,
    /// Lowercase in `get_final_text`'s BasicTokenizer.
    pub do_lower_case: bool,
    /// SQuAD 2.0: a null answer competes with the spans.
    pub version_2_with_negative: bool,
    /// SQuAD 2.0: the null answer wins when its odds exceed this.
    pub null_score_diff_threshold: f64,
    /// How the tokenizer's tokens join back into text (`convert_tokens_to_string`).
    pub pieces: PieceStyle,
}

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

/// Where an answer lies: its first doc word, and its chars within the doc words from there on joined
/// by single spaces (the `orig_text` that `get_final_text` projects onto).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerSpan {
    pub first_word: usize,
    /// Offset of the answer's first char in `orig_text`.
    pub start: usize,
    /// Length of the answer in chars.
    pub chars: usize,
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
    /// Where `answer` lies; `None` for `""`, `empty` and the null answer.
    pub answer_span: Option<AnswerSpan>,
}

#[derive(Debug, Clone, Copy)]
struct Prelim {
    feature_index: usize,
    start_index: usize,
    end_index: usize,
    start_logit: f64,
    end_logit: f64,
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

/// The tokenizer's `convert_tokens_to_string` then the whitespace cleanup of
/// `compute_predictions_logits`: for WordPiece, join with spaces and delete every `" ##"`; for
/// SentencePiece, concatenate and turn `▁` into spaces; then strip and collapse Python whitespace runs
/// to one space.
pub fn detokenize(tokens: &[String], pieces: PieceStyle) -> String {
    let joined = pieces.tokens_to_string(tokens);
    split_whitespace(&joined).collect::<Vec<_>>().join(" ")
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
pub fn predict_example(example: &ExampleView, features: &[FeatureView], settings: &Decoding) -> ExamplePrediction {
    let null = settings.version_2_with_negative.then(|| NullScore::of(features));
    let mut prelim: Vec<Prelim> = Vec::new();
    for (feature_index, feature) in features.iter().enumerate() {
        push_span_prelims(feature_index, feature, settings, &mut prelim);
    }
    if let Some(null) = &null {
        prelim.push(Prelim {
            feature_index: null.feature_index,
            start_index: 0,
            end_index: 0,
            start_logit: null.start_logit,
            end_logit: null.end_logit,
        });
    }
    prelim.sort_by(|a, b| sort_key(b.start_logit + b.end_logit).total_cmp(&sort_key(a.start_logit + a.end_logit)));
    let nbest = nbest_candidates(example, features, &prelim, settings, null.as_ref());
    finish(nbest, null.as_ref(), settings.null_score_diff_threshold)
}

/// SQuAD 2.0's null answer: the lowest `start[0] + end[0]` over the features (the first on ties), with
/// its feature and logits; 1000000 with logits 0 when no feature has logits.
struct NullScore {
    score: f64,
    feature_index: usize,
    start_logit: f64,
    end_logit: f64,
}

impl NullScore {
    fn of(features: &[FeatureView]) -> Self {
        let mut null = Self {
            score: 1_000_000.0,
            feature_index: 0,
            start_logit: 0.0,
            end_logit: 0.0,
        };
        for (feature_index, feature) in features.iter().enumerate() {
            let (Some(&s0), Some(&e0)) = (feature.start_logits.first(), feature.end_logits.first()) else {
                continue;
            };
            let (start_logit, end_logit) = (f64::from(s0), f64::from(e0));
            if start_logit + end_logit < null.score {
                null = Self {
                    score: start_logit + end_logit,
                    feature_index,
                    start_logit,
                    end_logit,
                };
            }
        }
        null
    }
}

/// The candidate spans of one feature, in HF's order: each of the best starts with each of the best ends,
/// where both are mapped document tokens, the start is max-context and the length fits.
fn push_span_prelims(feature_index: usize, feature: &FeatureView, settings: &Decoding, prelim: &mut Vec<Prelim>) {
    let start_logits: Vec<f64> = feature.start_logits.iter().map(|&x| f64::from(x)).collect();
    let end_logits: Vec<f64> = feature.end_logits.iter().map(|&x| f64::from(x)).collect();
    let n_tokens = feature.tokens.len();
    let is_mapped = |index: usize| index < n_tokens && feature.token_to_orig_map.contains_key(&index);
    let end_indexes = best_indexes(&end_logits, settings.n_best_size);
    for start_index in best_indexes(&start_logits, settings.n_best_size) {
        for &end_index in &end_indexes {
            let fits = end_index >= start_index && end_index - start_index < settings.max_answer_length;
            let max_context = feature.token_is_max_context.get(&start_index).copied().unwrap_or(false);
            if is_mapped(start_index) && is_mapped(end_index) && max_context && fits {
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
}

/// The ranked candidates' texts until `n_best_size` distinct ones, then HF's padding: under SQuAD 2.0
/// the null answer when absent and `empty` before a lone entry; `empty` when there is none.
fn nbest_candidates(
    example: &ExampleView,
    features: &[FeatureView],
    prelim: &[Prelim],
    settings: &Decoding,
    null: Option<&NullScore>,
) -> Vec<Candidate> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut nbest: Vec<Candidate> = Vec::new();
    for pred in prelim {
        if nbest.len() >= settings.n_best_size {
            break;
        }
        if pred.start_index == 0 {
            seen.insert(String::new());
            nbest.push(Candidate::new(String::new(), pred.start_logit, pred.end_logit, None));
            continue;
        }
        let Some(feature) = features.get(pred.feature_index) else {
            continue;
        };
        let (text, span) = span_text(example, feature, pred, settings);
        if seen.insert(text.clone()) {
            nbest.push(Candidate::new(text, pred.start_logit, pred.end_logit, span));
        }
    }
    if let Some(null) = null {
        if !seen.contains("") {
            nbest.push(Candidate::new(String::new(), null.start_logit, null.end_logit, None));
        }
        if nbest.len() == 1 {
            nbest.insert(0, Candidate::new("empty".to_string(), 0.0, 0.0, None));
        }
    }
    if nbest.is_empty() {
        nbest.push(Candidate::new("empty".to_string(), 0.0, 0.0, None));
    }
    nbest
}

/// A span's text as `get_final_text` gives it, and where it lies in the doc words.
fn span_text(
    example: &ExampleView,
    feature: &FeatureView,
    pred: &Prelim,
    settings: &Decoding,
) -> (String, Option<AnswerSpan>) {
    let tok_tokens = py_slice(feature.tokens, pred.start_index, pred.end_index.saturating_add(1));
    let orig_doc_start = feature.token_to_orig_map.get(&pred.start_index).copied().unwrap_or(0);
    let orig_doc_end = feature.token_to_orig_map.get(&pred.end_index).copied().unwrap_or(0);
    let orig_tokens = py_slice(example.doc_words, orig_doc_start, orig_doc_end.saturating_add(1));
    let tok_text = detokenize(tok_tokens, settings.pieces);
    let orig_text = orig_tokens.join(" ");
    let (text, start) = final_text_span(&tok_text, &orig_text, settings.do_lower_case);
    let chars = text.chars().count();
    let span = (chars > 0).then_some(AnswerSpan {
        first_word: orig_doc_start,
        start,
        chars,
    });
    (text, span)
}

/// Probabilities by softmax over the n-best scores, and the answer: the top entry, or under SQuAD 2.0 the
/// best non-null one unless the null odds exceed the threshold.
fn finish(nbest: Vec<Candidate>, null: Option<&NullScore>, null_score_diff_threshold: f64) -> ExamplePrediction {
    let total_scores: Vec<f64> = nbest.iter().map(|c| c.entry.start_logit + c.entry.end_logit).collect();
    let best_non_null = nbest.iter().position(|c| !c.entry.text.is_empty());
    let probs = compute_softmax(&total_scores);
    let mut spans = Vec::with_capacity(nbest.len());
    let mut entries = Vec::with_capacity(nbest.len());
    for (candidate, probability) in nbest.into_iter().zip(probs) {
        spans.push(candidate.span);
        entries.push(NbestEntry {
            probability,
            ..candidate.entry
        });
    }
    let Some(null) = null else {
        return ExamplePrediction {
            answer: entries.first().map(|e| e.text.clone()).unwrap_or_default(),
            nbest: entries,
            null_odds: None,
            answer_span: spans.first().copied().flatten(),
        };
    };
    let best_index = best_non_null.unwrap_or(0);
    let best = &entries[best_index];
    let score_diff = null.score - best.start_logit - best.end_logit;
    let (answer, answer_span) = if score_diff > null_score_diff_threshold {
        (String::new(), None)
    } else {
        (best.text.clone(), spans[best_index])
    };
    ExamplePrediction {
        answer,
        nbest: entries,
        null_odds: Some(score_diff),
        answer_span,
    }
}

/// An n-best entry before the softmax, with where its text lies.
struct Candidate {
    entry: NbestEntry,
    span: Option<AnswerSpan>,
}

impl Candidate {
    fn new(text: String, start_logit: f64, end_logit: f64, span: Option<AnswerSpan>) -> Self {
        let entry = NbestEntry {
            text,
            probability: 0.0,
            start_logit,
            end_logit,
        };
        Self { entry, span }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// get_final_text
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
    final_text_span(pred_text, orig_text, do_lower_case).0
}

/// [`get_final_text`] and the char offset in `orig_text` of the text it returns.
pub fn final_text_span(pred_text: &str, orig_text: &str, do_lower_case: bool) -> (String, usize) {
    let whole = || (orig_text.to_string(), 0);
    let tok_text = basic_tokenize(orig_text, do_lower_case).join(" ");
    let Some(byte_pos) = tok_text.find(pred_text) else {
        return whole();
    };
    let start_position = tok_text[..byte_pos].chars().count() as i64;
    let end_position = start_position + pred_text.chars().count() as i64 - 1;

    let orig_chars: Vec<char> = orig_text.chars().collect();
    let tok_chars: Vec<char> = tok_text.chars().collect();
    let (orig_ns, orig_ns_to_s) = strip_spaces(&orig_chars);
    let (tok_ns, tok_ns_to_s) = strip_spaces(&tok_chars);
    if orig_ns.len() != tok_ns.len() {
        return whole();
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
        return whole();
    };
    let text = py_slice(&orig_chars, orig_start, orig_end + 1).iter().collect();
    (text, orig_start.min(orig_chars.len()))
}
