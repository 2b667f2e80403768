//! Sequence-classification metrics (spec §8.2).
//!
//! Pure Rust, no tensors: callers hand in predictions and gold labels as slices.
//!
//! * Classification: [`accuracy`], [`macro_prf`] (scikit-learn `precision_recall_fscore_support(average="macro",
//!   zero_division=0)`), [`seq_cls_metrics`] (the per-task metric set of the reference `compute_metrics`).
//! * Regression (KorSTS): [`pearson`], [`spearman`] (SciPy `pearsonr` / `spearmanr`), [`korsts_metrics`].
//!
//! **Degenerate input never panics.** Where the reference library raises (empty input, length mismatch) or
//! returns NaN (constant input to a correlation), these functions return NaN. Each function documents its cases.

use std::collections::BTreeMap;

use super::{task_spec, MetricSet};

// ---------------------------------------------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------------------------------------------

/// Fraction of positions where `preds[i] == labels[i]`, in [0, 1] (scikit-learn `accuracy_score`).
///
/// Returns NaN when the slices are empty or have different lengths (scikit-learn raises there).
pub fn accuracy(preds: &[usize], labels: &[usize]) -> f64 {
    if preds.is_empty() || preds.len() != labels.len() {
        return f64::NAN;
    }
    let correct = preds.iter().zip(labels).filter(|(p, l)| p == l).count();
    correct as f64 / preds.len() as f64
}

/// Per-class counts for [`macro_prf`].
#[derive(Default, Clone, Copy)]
struct ClassCounts {
    tp: u64,
    predicted: u64,
    gold: u64,
}

/// `a / b`, or 0 when `b == 0` (scikit-learn `zero_division=0`).
fn div_or_zero(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

/// Unweighted macro precision, recall and F1: `(precision, recall, f1)`.
///
/// Same semantics as scikit-learn `precision_recall_fscore_support(labels, preds, average="macro",
/// zero_division=0)`:
/// * the classes are the union of the values present in `labels` or `preds` (a class that appears in
///   neither does not count);
/// * per class, P = TP/(TP+FP) and R = TP/(TP+FN); F1 = 2·TP/(2·TP+FP+FN), which equals 2PR/(P+R) and is
///   the formula scikit-learn uses;
/// * any undefined ratio is 0: a class never predicted has P = 0, a class never in gold has R = 0, and a
///   class with TP = 0 has F1 = 0;
/// * each macro value is the plain mean of the per-class values, so macro F1 is the mean of per-class F1,
///   **not** the harmonic mean of macro P and macro R.
///
/// Returns `(NaN, NaN, NaN)` when the slices are empty or have different lengths (scikit-learn raises).
pub fn macro_prf(preds: &[usize], labels: &[usize]) -> (f64, f64, f64) {
    if preds.is_empty() || preds.len() != labels.len() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    // BTreeMap rather than a dense vector: label values come from user data and may be large.
    let mut classes: BTreeMap<usize, ClassCounts> = BTreeMap::new();
    for (&p, &g) in preds.iter().zip(labels) {
        classes.entry(p).or_default().predicted += 1;
        classes.entry(g).or_default().gold += 1;
        if p == g {
            classes.entry(p).or_default().tp += 1;
        }
    }
    let (mut sum_p, mut sum_r, mut sum_f) = (0.0, 0.0, 0.0);
    for c in classes.values() {
        let tp = c.tp as f64;
        sum_p += div_or_zero(tp, c.predicted as f64);
        sum_r += div_or_zero(tp, c.gold as f64);
        sum_f += div_or_zero(2.0 * tp, (c.gold + c.predicted) as f64);
    }
    let k = classes.len() as f64;
    (sum_p / k, sum_r / k, sum_f / k)
}

/// The metric set the reference `compute_metrics` reports for a classification task (its spec's
/// [`MetricSet`]), as `(name, value)` pairs in insertion order (file writers sort them later):
/// * `nsmc`, `kornli`, `paws`, `question-pair`: `acc`;
/// * `hate-speech`: `precision`, `recall`, `f1` (macro, see [`macro_prf`]).
///
/// `korsts` is a regression task: use [`korsts_metrics`]. It and unknown task names return an empty vector.
pub fn seq_cls_metrics(task: &str, preds: &[usize], labels: &[usize]) -> Vec<(String, f64)> {
    match task_spec(task).map(|s| s.metrics) {
        Ok(MetricSet::Accuracy) => vec![("acc".to_string(), accuracy(preds, labels))],
        Ok(MetricSet::MacroPrf) => {
            let (p, r, f) = macro_prf(preds, labels);
            vec![
                ("precision".to_string(), p),
                ("recall".to_string(), r),
                ("f1".to_string(), f),
            ]
        }
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Correlation (KorSTS)
// ---------------------------------------------------------------------------------------------------------------

/// Mean with one correction pass (`m + Σ(x−m)/n`), which removes most of the rounding of the plain sum.
fn careful_mean(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    if !m.is_finite() {
        // The plain sum overflowed (values near f64::MAX): fall back to a mean of scaled values.
        return x.iter().map(|v| v / n).sum();
    }
    m + x.iter().map(|v| v - m).sum::<f64>() / n
}

/// Euclidean norm, scaled by the largest magnitude first so squaring cannot overflow or underflow
/// (as SciPy's `pearsonr`).
fn scaled_norm(v: &[f64]) -> f64 {
    let max = v.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    if max == 0.0 || !max.is_finite() {
        return max;
    }
    max * v.iter().map(|x| (x / max) * (x / max)).sum::<f64>().sqrt()
}

/// True when every element equals the first (SciPy's constant-input test).
fn is_constant(x: &[f64]) -> bool {
    x.iter().all(|v| *v == x[0])
}

/// Where SciPy gives no correlation (NaN, or it raises): fewer than two values, lengths that differ,
/// a constant input, a NaN value.
fn no_correlation(x: &[f64], y: &[f64]) -> bool {
    let n = x.len();
    n < 2 || n != y.len() || is_constant(x) || is_constant(y) || x.iter().chain(y).any(|v| v.is_nan())
}

/// Pearson correlation coefficient, as `scipy.stats.pearsonr(x, y).statistic`.
///
/// Two-pass, mean-centred, in f64: r = Σ (x̃ᵢ/‖x̃‖)(ỹᵢ/‖ỹ‖) with x̃ = x − mean(x), clipped to [−1, 1]. For
/// n = 2 the result is rounded to exactly ±1, as SciPy does.
///
/// Returns NaN when
/// * either input is constant (SciPy returns NaN with a `ConstantInputWarning`),
/// * any value is NaN (SciPy propagates it),
/// * n < 2 or the lengths differ (SciPy raises).
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    if no_correlation(x, y) {
        return f64::NAN;
    }
    let n = x.len();
    let (mx, my) = (careful_mean(x), careful_mean(y));
    let xm: Vec<f64> = x.iter().map(|v| v - mx).collect();
    let ym: Vec<f64> = y.iter().map(|v| v - my).collect();
    let (nx, ny) = (scaled_norm(&xm), scaled_norm(&ym));
    let r: f64 = xm.iter().zip(&ym).map(|(a, b)| (a / nx) * (b / ny)).sum();
    if r.is_nan() {
        return f64::NAN;
    }
    let r = r.clamp(-1.0, 1.0);
    if n == 2 {
        r.round()
    } else {
        r
    }
}

/// Ranks 1..=n of `x`, tied values sharing the average of the ranks they span
/// (`scipy.stats.rankdata(x, method="average")`). `x` must not contain NaN.
pub fn average_ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut ranks = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        // `==` (not total_cmp) so that 0.0 and -0.0 tie, as in NumPy.
        while j < order.len() && x[order[j]] == x[order[i]] {
            j += 1;
        }
        // Positions i..j (0-based) hold ranks i+1..=j; their average is (i+1+j)/2.
        let avg = (i + 1 + j) as f64 / 2.0;
        for &k in &order[i..j] {
            ranks[k] = avg;
        }
        i = j;
    }
    ranks
}

/// Spearman rank correlation, as `scipy.stats.spearmanr(x, y).statistic`: the Pearson correlation of the
/// average ranks (ties share the mean of their ranks), computed like `numpy.corrcoef` and clipped to [−1, 1].
///
/// Returns NaN when either input is constant (SciPy: NaN with a `ConstantInputWarning`), when any value is
/// NaN (SciPy's default `nan_policy="propagate"`), when n < 2, or when the lengths differ.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    if no_correlation(x, y) {
        return f64::NAN;
    }
    let n = x.len();
    let (rx, ry) = (average_ranks(x), average_ranks(y));
    // Ranks are small exact numbers, so the plain mean is exact enough; mirror numpy.corrcoef:
    // c = cov(x, y); r = c_xy / sqrt(c_xx) / sqrt(c_yy).
    let (mx, my) = (careful_mean(&rx), careful_mean(&ry));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        let (da, db) = (a - mx, b - my);
        sxy += da * db;
        sxx += da * da;
        syy += db * db;
    }
    let dof = (n - 1) as f64;
    let r = (sxy / dof) / (sxx / dof).sqrt() / (syy / dof).sqrt();
    if r.is_nan() {
        return f64::NAN;
    }
    r.clamp(-1.0, 1.0)
}

/// KorSTS metrics of the reference `pearson_and_spearman`: `pearson`, `spearmanr` and
/// `corr` = (pearson + spearmanr) / 2, in that insertion order. NaN cases as in [`pearson`] and [`spearman`]
/// (a NaN in either makes `corr` NaN).
pub fn korsts_metrics(preds: &[f64], labels: &[f64]) -> Vec<(String, f64)> {
    let p = pearson(preds, labels);
    let s = spearman(preds, labels);
    vec![
        ("pearson".to_string(), p),
        ("spearmanr".to_string(), s),
        ("corr".to_string(), (p + s) / 2.0),
    ]
}
