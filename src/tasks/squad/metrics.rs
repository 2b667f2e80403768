//! KorQuAD / SQuAD scores: the library SQuAD metrics (transformers `squad_evaluate`, spec §8.5(a))
//! and the official KorQuAD v1.0 scorer (`evaluate_v1_0.py`, spec §8.5(b)).
//!
//! No function panics, whatever the input; where the Python reference raises (a missing prediction,
//! an empty question set, ...) the behavior is documented on the function.
use std::collections::HashMap;

use crate::text::python::{is_py_whitespace, py_float_sort_key as sort_key, split_whitespace};
use crate::text::unicode::is_py_word_char;

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
    split_whitespace(&no_articles).collect::<Vec<_>>().join(" ")
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
    overlap_f1(num_same, pred_toks.len(), gold_toks.len())
}

/// F1 from the size of the overlap of the prediction and gold multisets (0 when nothing overlaps).
fn overlap_f1(num_same: usize, pred_len: usize, gold_len: usize) -> f64 {
    if num_same == 0 {
        return 0.0;
    }
    let precision = num_same as f64 / pred_len as f64;
    let recall = num_same as f64 / gold_len as f64;
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

/// `get_raw_scores`: per question with a prediction, the best exact and F1 over its gold answers (those
/// that normalise to nothing dropped; none left: the empty answer).
fn get_raw_scores<'a>(
    examples: &'a [(String, Vec<String>)],
    preds: &OrderedMap<&str>,
) -> (OrderedMap<'a, f64>, OrderedMap<'a, f64>) {
    let mut exact_raw: OrderedMap<f64> = OrderedMap::new();
    let mut f1_raw: OrderedMap<f64> = OrderedMap::new();
    for (qid, answers) in examples {
        let Some(&prediction) = preds.get(qid) else {
            continue;
        };
        let mut gold: Vec<&str> = answers
            .iter()
            .map(String::as_str)
            .filter(|a| !squad_normalize_answer(a).is_empty())
            .collect();
        if gold.is_empty() {
            gold.push("");
        }
        let best = |score: fn(&str, &str) -> f64| {
            gold.iter()
                .map(|a| score(a, prediction))
                .fold(f64::NEG_INFINITY, f64::max)
        };
        exact_raw.insert(qid, best(squad_exact));
        f1_raw.insert(qid, best(squad_f1));
    }
    (exact_raw, f1_raw)
}

/// `apply_no_ans_threshold`: a question whose no-answer probability exceeds the threshold scores 1 when it
/// has no answer, else 0; the others keep their score.
fn apply_no_ans_threshold<'a>(
    scores: &OrderedMap<'a, f64>,
    na_probs: &OrderedMap<f64>,
    has_ans: &OrderedMap<bool>,
    threshold: f64,
) -> OrderedMap<'a, f64> {
    let mut out: OrderedMap<f64> = OrderedMap::new();
    for (qid, &score) in scores.iter() {
        let pred_na = na_probs.get(qid).is_some_and(|&p| p > threshold);
        let has_answer = has_ans.get(qid).copied().unwrap_or(false);
        out.insert(
            qid,
            if pred_na {
                f64::from(u8::from(!has_answer))
            } else {
                score
            },
        );
    }
    out
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

    let (exact_raw, f1_raw) = get_raw_scores(examples, &pred_map);
    let exact_thr = apply_no_ans_threshold(&exact_raw, &na, &has_ans, no_answer_probability_threshold);
    let f1_thr = apply_no_ans_threshold(&f1_raw, &na, &has_ans, no_answer_probability_threshold);

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
    split_whitespace(&no_punc).collect::<Vec<_>>().join(" ")
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
    overlap_f1(num_same, pred_chars.len(), gold_chars.len())
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
