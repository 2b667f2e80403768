//! Entity-level NER metrics: a port of seqeval 1.2.2 with `suffix=True` in its default (non-strict,
//! conlleval-compatible) mode (spec §8.2 and §8.3).
//!
//! Pure Rust, no tensors. Tags are suffix style (`PER-B`, `PER-I`, `O`), one list of tags per sentence.
//!
//! * [`get_entities`]: seqeval `get_entities(seq, suffix=True)`: `(type, start, end)` with global offsets.
//! * [`score`]: micro precision / recall / F1 (`precision_score`, `recall_score`, `f1_score`,
//!   `zero_division` → 0) plus the per-type rows of `classification_report`.
//! * [`classification_report`]: the text of seqeval `classification_report(y_true, y_pred, suffix=True,
//!   digits=..)`, byte for byte.
//!
//! Reading a tag (seqeval's exact rules, which the spec paraphrases):
//! * the **state** is the last character (`B`, `I`, `E`, `S`, `O`; any other character, `.` included,
//!   takes part in the rules exactly as it does in seqeval);
//! * the **type** is the tag without its last character, cut at its last `-` (`PER-B` → `PER`,
//!   `A-B-I` → `A-B`, `PER_B` → `PER_`); an empty type reads as `_`, so `O`, a bare `B` and `-B` all
//!   have type `_` (the spec's "empty type" for `O`);
//! * seqeval raises `IndexError` on an empty tag: [`get_entities`] reads it as `O`, [`score`] rejects it.
//!
//! **Degenerate input never panics.** Where seqeval raises, [`score`] returns an error (sentence count or
//! length mismatch, empty tag) or, for zero sentences (seqeval: `TypeError`), all-zero scores;
//! [`classification_report`] with no entity at all (seqeval: `ValueError` from `max()` of no names) writes
//! the header and the three average rows with zeros.

use std::collections::{BTreeMap, HashSet};

use anyhow::{bail, Result};

/// One entity: `(type, start, end)`, inclusive global positions in the flattened sequence.
pub type Entity = (String, usize, usize);

/// The state (last char) and type of a suffix-style tag, as seqeval reads it with `suffix=True`.
/// An empty tag (an `IndexError` in seqeval) reads as `O`.
fn split_tag(tag: &str) -> (char, &str) {
    let Some((last_idx, state)) = tag.char_indices().next_back() else {
        return ('O', "_");
    };
    let head = &tag[..last_idx];
    let typ = match head.rfind('-') {
        Some(dash) => &head[..dash],
        None => head,
    };
    (state, if typ.is_empty() { "_" } else { typ })
}

/// seqeval `end_of_chunk`: did a chunk end between the previous and the current tag?
fn end_of_chunk(prev_tag: char, tag: char, prev_type: &str, typ: &str) -> bool {
    matches!(prev_tag, 'E' | 'S')
        || (matches!(prev_tag, 'B' | 'I') && matches!(tag, 'B' | 'S' | 'O'))
        || (prev_tag != 'O' && prev_tag != '.' && prev_type != typ)
}

/// seqeval `start_of_chunk`: did a chunk start at the current tag?
fn start_of_chunk(prev_tag: char, tag: char, prev_type: &str, typ: &str) -> bool {
    matches!(tag, 'B' | 'S')
        || (matches!(prev_tag, 'E' | 'S' | 'O') && matches!(tag, 'E' | 'I'))
        || (tag != 'O' && tag != '.' && prev_type != typ)
}

/// seqeval 1.2.2 `get_entities(seqs, suffix=True)`.
///
/// The sentences are flattened with an `O` after each one, and one more `O` closes the sequence, so an
/// entity never spans two sentences and positions are global (sentence 2 starts at `len(sentence 1) + 1`).
/// Entities come out in the order they end.
pub fn get_entities<S: AsRef<str>>(seqs: &[Vec<S>]) -> Vec<Entity> {
    let tags = seqs
        .iter()
        .flat_map(|sent| sent.iter().map(AsRef::as_ref).chain(std::iter::once("O")))
        .chain(std::iter::once("O"));
    let mut prev_tag = 'O';
    let mut prev_type = "";
    let mut begin = 0usize;
    let mut chunks = Vec::new();
    for (i, chunk) in tags.enumerate() {
        let (tag, typ) = split_tag(chunk);
        if end_of_chunk(prev_tag, tag, prev_type, typ) {
            // `i >= 1` here: at i = 0 the previous state is the initial `O` with type "" and no rule fires.
            chunks.push((prev_type.to_string(), begin, i.saturating_sub(1)));
        }
        if start_of_chunk(prev_tag, tag, prev_type, typ) {
            begin = i;
        }
        prev_tag = tag;
        prev_type = typ;
    }
    chunks
}

/// Scores of one entity type (one row of the classification report).
#[derive(Debug, Clone, PartialEq)]
pub struct TypeScore {
    pub name: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Number of gold entities of this type (0 for a type that only occurs in the predictions).
    pub support: usize,
}

/// Micro-averaged entity scores and the per-type rows, types in sorted (code point) order.
#[derive(Debug, Clone, PartialEq)]
pub struct NerScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Every type found in the gold tags or the predictions, sorted.
    pub per_type: Vec<TypeScore>,
}

/// `num / den` as numpy does it in seqeval's `_prf_divide`, 0 where `den == 0`.
fn prf_divide(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// seqeval's F-beta with beta = 1: `(1 + 1) * p * r / (p + r)`, 0 where `p + r == 0`.
fn f1_of(p: f64, r: f64) -> f64 {
    let denom = p + r;
    2.0 * p * r / if denom == 0.0 { 1.0 } else { denom }
}

/// Micro precision, recall and F1 of seqeval 1.2.2 (`suffix=True`, default mode, `zero_division` → 0), and
/// the per-type scores of its `classification_report`.
///
/// Errors when the sentence counts differ, when a sentence's gold and predicted lengths differ (naming the
/// sentence index), or on an empty tag: seqeval raises on all three. Zero sentences on both sides (seqeval
/// raises `TypeError`) gives all-zero scores and no types.
pub fn score<G: AsRef<str>, P: AsRef<str>>(gold: &[Vec<G>], pred: &[Vec<P>]) -> Result<NerScores> {
    if gold.len() != pred.len() {
        bail!(
            "NER scoring: {} gold sentences but {} predicted sentences",
            gold.len(),
            pred.len()
        );
    }
    for (i, (g, p)) in gold.iter().zip(pred).enumerate() {
        if g.len() != p.len() {
            bail!(
                "NER scoring: sentence {i} has {} gold tags but {} predicted tags",
                g.len(),
                p.len()
            );
        }
        if let Some(j) = g.iter().position(|t| t.as_ref().is_empty()) {
            bail!("NER scoring: sentence {i} has an empty gold tag at position {j}");
        }
        if let Some(j) = p.iter().position(|t| t.as_ref().is_empty()) {
            bail!("NER scoring: sentence {i} has an empty predicted tag at position {j}");
        }
    }

    // type -> (gold spans, predicted spans)
    type Spans = HashSet<(usize, usize)>;
    let mut by_type: BTreeMap<String, (Spans, Spans)> = BTreeMap::new();
    for (typ, s, e) in get_entities(gold) {
        by_type.entry(typ).or_default().0.insert((s, e));
    }
    for (typ, s, e) in get_entities(pred) {
        by_type.entry(typ).or_default().1.insert((s, e));
    }

    let (mut tp_all, mut pred_all, mut gold_all) = (0usize, 0usize, 0usize);
    let per_type = by_type
        .into_iter()
        .map(|(name, (g, p))| {
            let tp = g.intersection(&p).count();
            tp_all += tp;
            pred_all += p.len();
            gold_all += g.len();
            let precision = prf_divide(tp, p.len());
            let recall = prf_divide(tp, g.len());
            TypeScore {
                name,
                precision,
                recall,
                f1: f1_of(precision, recall),
                support: g.len(),
            }
        })
        .collect();
    let precision = prf_divide(tp_all, pred_all);
    let recall = prf_divide(tp_all, gold_all);
    Ok(NerScores {
        precision,
        recall,
        f1: f1_of(precision, recall),
        per_type,
    })
}

/// numpy's `add.reduce` over a contiguous float64 array (pairwise summation: plain loop below 8 elements,
/// 8 accumulators up to 128, halves above), so averages round exactly as seqeval's `np.average` does.
fn numpy_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        a.iter().fold(0.0, |acc, &x| acc + x)
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let full = n - n % 8;
        let mut i = 8;
        while i < full {
            for (j, acc) in r.iter_mut().enumerate() {
                *acc += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &a[full..] {
            res += x;
        }
        res
    } else {
        let half = n / 2;
        let half = half - half % 8;
        numpy_sum(&a[..half]) + numpy_sum(&a[half..])
    }
}

/// `np.average(values)` (0 for no values: seqeval never gets there, it raises first).
fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        numpy_sum(values) / values.len() as f64
    }
}

/// `np.average(values, weights=supports)`; all zeros when the supports sum to 0 (seqeval's special case).
fn weighted_mean(values: &[f64], supports: &[usize]) -> f64 {
    let total: usize = supports.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let products: Vec<f64> = values.iter().zip(supports).map(|(v, &s)| v * s as f64).collect();
    let weights: Vec<f64> = supports.iter().map(|&s| s as f64).collect();
    numpy_sum(&products) / numpy_sum(&weights)
}

/// The text of seqeval 1.2.2 `classification_report(y_true, y_pred, suffix=True, digits=digits)` (default
/// mode) for `scores` from [`score`].
///
/// A header row, a blank line, one row per type, a blank line, the `micro avg`, `macro avg` and
/// `weighted avg` rows, and a final newline. The name column is right-aligned to the longest of the type
/// names, `weighted avg` (12) and `digits`; every number column to 9. When `scores` has no type seqeval
/// raises (`max()` of no names); this writes the header and the average rows with zeros instead.
pub fn classification_report(scores: &NerScores, digits: usize) -> String {
    let name_width = scores
        .per_type
        .iter()
        .map(|t| t.name.chars().count())
        .max()
        .unwrap_or(0);
    let width = name_width.max("weighted avg".len()).max(digits);

    let mut out = format!("{:>width$} ", "");
    for header in ["precision", "recall", "f1-score", "support"] {
        out.push_str(&format!(" {header:>9}"));
    }
    out.push_str("\n\n");
    let row = |out: &mut String, name: &str, p: f64, r: f64, f: f64, support: usize| {
        out.push_str(&format!(
            "{name:>width$}  {p:>9.digits$} {r:>9.digits$} {f:>9.digits$} {support:>9}\n"
        ));
    };

    for t in &scores.per_type {
        row(&mut out, &t.name, t.precision, t.recall, t.f1, t.support);
    }
    out.push('\n');

    let supports: Vec<usize> = scores.per_type.iter().map(|t| t.support).collect();
    let total: usize = supports.iter().sum();
    row(&mut out, "micro avg", scores.precision, scores.recall, scores.f1, total);
    let ps: Vec<f64> = scores.per_type.iter().map(|t| t.precision).collect();
    let rs: Vec<f64> = scores.per_type.iter().map(|t| t.recall).collect();
    let fs: Vec<f64> = scores.per_type.iter().map(|t| t.f1).collect();
    row(&mut out, "macro avg", mean(&ps), mean(&rs), mean(&fs), total);
    row(
        &mut out,
        "weighted avg",
        weighted_mean(&ps, &supports),
        weighted_mean(&rs, &supports),
        weighted_mean(&fs, &supports),
        total,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_tag_rules() {
        assert_eq!(split_tag("PER-B"), ('B', "PER"));
        assert_eq!(split_tag("O"), ('O', "_"));
        assert_eq!(split_tag("B"), ('B', "_"));
        assert_eq!(split_tag("-B"), ('B', "_"));
        assert_eq!(split_tag("A-B-I"), ('I', "A-B"));
        assert_eq!(split_tag("PER_B"), ('B', "PER_"));
        assert_eq!(split_tag("인물-B"), ('B', "인물"));
        assert_eq!(split_tag("PER-인"), ('인', "PER"));
        assert_eq!(split_tag(""), ('O', "_"));
    }

    #[test]
    fn numpy_sum_small_and_blocked() {
        assert_eq!(numpy_sum(&[]), 0.0);
        let v: Vec<f64> = (1..=300).map(|x| x as f64).collect();
        assert_eq!(numpy_sum(&v), 45150.0);
    }
}
