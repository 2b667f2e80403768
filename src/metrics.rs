//! Evaluation metrics and the reference output formatting (spec §8.2 and §8.4).
//!
//! Pure Rust, no tensors: callers hand in predictions and gold labels as slices.
//!
//! * Classification: [`accuracy`], [`macro_prf`] (scikit-learn `precision_recall_fscore_support(average="macro",
//!   zero_division=0)`), [`seq_cls_metrics`] (the per-task metric set of the reference `compute_metrics`).
//! * Regression (KorSTS): [`pearson`], [`spearman`] (SciPy `pearsonr` / `spearmanr`), [`korsts_metrics`].
//! * Output files: [`format_py_float`] (Python `repr(float)`), [`eval_results_sort_key`] and
//!   [`sort_eval_result_keys`] (the key order of `eval_results.txt`).
//!
//! **Degenerate input never panics.** Where the reference library raises (empty input, length mismatch) or
//! returns NaN (constant input to a correlation), these functions return NaN. Each function documents its cases.

use std::collections::BTreeMap;

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

/// The metric set the reference `compute_metrics` reports for a sequence-classification task, as
/// `(name, value)` pairs in insertion order (file writers sort them later):
/// * `nsmc`, `kornli`, `paws`, `question-pair`: `acc`;
/// * `hate-speech`: `precision`, `recall`, `f1` (macro, see [`macro_prf`]).
///
/// `korsts` is a regression task: use [`korsts_metrics`]. Any other task name returns an empty vector.
pub fn seq_cls_metrics(task: &str, preds: &[usize], labels: &[usize]) -> Vec<(String, f64)> {
    match task {
        "nsmc" | "kornli" | "paws" | "question-pair" => vec![("acc".to_string(), accuracy(preds, labels))],
        "hate-speech" => {
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
    let n = x.len();
    if n < 2 || n != y.len() || is_constant(x) || is_constant(y) {
        return f64::NAN;
    }
    if x.iter().chain(y).any(|v| v.is_nan()) {
        return f64::NAN;
    }
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
    let n = x.len();
    if n < 2 || n != y.len() || is_constant(x) || is_constant(y) {
        return f64::NAN;
    }
    if x.iter().chain(y).any(|v| v.is_nan()) {
        return f64::NAN;
    }
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

// ---------------------------------------------------------------------------------------------------------------
// Output formatting
// ---------------------------------------------------------------------------------------------------------------

/// Format `x` exactly as Python's `repr(x)` / `str(x)` for a float (Python ≥ 3.1, `float_repr_style='short'`):
/// * the shortest digit string that round-trips;
/// * positional notation when the decimal exponent e (of d.ddd×10^e) satisfies −4 ≤ e < 16, with `.0` kept
///   on whole numbers: `100.0`, `0.0001`, `-0.0`, `1234567890123456.0`;
/// * otherwise scientific notation with a signed exponent of at least two digits: `1e-05`, `1.5e-07`,
///   `1e+16`, `1.2345678901234568e+17`;
/// * `nan`, `inf`, `-inf`.
pub fn format_py_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let (digits, exp) = shortest_digits(x.abs());
    let mut out = String::with_capacity(digits.len() + 8);
    if x.is_sign_negative() {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        // Number of digits before the decimal point (may be <= 0).
        let decpt = exp + 1;
        let nd = digits.len() as i32;
        if decpt <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-decpt) as usize));
            out.push_str(&digits);
        } else if decpt >= nd {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', (decpt - nd) as usize));
            out.push_str(".0");
        } else {
            let (int_part, frac_part) = digits.split_at(decpt as usize);
            out.push_str(int_part);
            out.push('.');
            out.push_str(frac_part);
        }
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    }
    out
}

/// Split Rust's `{:e}` / `{:.Ne}` output ("1.2345e-7", "0e0") into its significant digits ("12345") and the
/// decimal exponent of d.ddd×10^e (−7). The input must be finite and non-negative.
fn sci_parts(s: &str) -> (String, i32) {
    let (mantissa, exp) = s.split_once('e').unwrap_or((s, "0"));
    (
        mantissa.chars().filter(|c| *c != '.').collect(),
        exp.parse().unwrap_or(0),
    )
}

/// Shortest round-trip significant digits of a finite `x >= 0` and the exponent e of d.ddd×10^e, chosen as
/// Python's `repr` (David Gay's `dtoa` mode 0) chooses them.
///
/// Rust's `{:e}` already gives the shortest digits and, among candidates of that length, the closest one.
/// The two differ only when `x` lies **exactly** halfway between two shortest candidates (for example
/// 1320784116824574.25, between …574.2 and …574.3): `dtoa` rounds half to even, Rust rounds half up.
fn shortest_digits(x: f64) -> (String, i32) {
    let (digits, exp) = sci_parts(&format!("{:e}", x));
    if digits.bytes().last().is_some_and(|d| (d - b'0') % 2 == 1) {
        if let Some(even) = even_tie_alternative(x, &digits, exp) {
            return (even, exp);
        }
    }
    (digits, exp)
}

/// When `x` is exactly halfway between the odd-ending shortest candidate `digits` (×10^exp) and a neighbour
/// of the same length ending in an even digit, and that neighbour also round-trips, return the neighbour.
fn even_tie_alternative(x: f64, digits: &str, exp: i32) -> Option<String> {
    let n = digits.len();
    // x correctly rounded to n + 1 significant digits: a tie must end in 5 ...
    let (plus_one, e1) = sci_parts(&format!("{:.*e}", n, x));
    if e1 != exp || !plus_one.ends_with('5') {
        return None;
    }
    // ... and be exact. A double's exact decimal expansion has at most 767 significant digits.
    let (full, _) = sci_parts(&format!("{:.*e}", 770, x));
    if full.get(..n + 1) != Some(plus_one.as_str()) || full.bytes().skip(n + 1).any(|b| b != b'0') {
        return None;
    }
    // x = (lo + ½ unit) × 10^…, and `digits` is lo or lo + 1 unit; the alternative is the other one.
    let lo = &plus_one[..n];
    let alt = if digits == lo {
        let last = lo.as_bytes()[n - 1];
        if last == b'9' {
            return None; // lo + 1 would carry, so it is shorter than n digits: not a same-length tie
        }
        let mut bytes = lo.as_bytes().to_vec();
        bytes[n - 1] = last + 1;
        String::from_utf8(bytes).ok()?
    } else {
        lo.to_string()
    };
    if alt.bytes().last().is_some_and(|d| (d - b'0') % 2 == 1) {
        return None;
    }
    let candidate = format!("{}e{}", alt, exp - (n as i32 - 1));
    (candidate.parse::<f64>().ok()? == x).then_some(alt)
}

/// Sort key of a metric key in the multi-checkpoint `eval_results.txt` (§8.4 step 5), mirroring the
/// reference's
/// `("".join(re.findall(r'[^_]+_', key)), int(re.findall(r"_\d+", key)[-1][1:]))`:
/// * first: the concatenation of every maximal run of non-underscore chars that is followed by an
///   underscore (`f1_2000` → `f1_`, `HasAns_exact_1000` → `HasAns_exact_`, `best_f1_thresh_500` →
///   `best_f1_thresh_`);
/// * second: the digits of the last `_<digits>` match (`f1_2000` → 2000).
///
/// Where Python would raise (no `_<digits>` in the key) the second element is `i64::MIN`, so such keys sort
/// first within their group; a step too large for i64 saturates to `i64::MAX`. Only ASCII digits count.
pub fn eval_results_sort_key(key: &str) -> (String, i64) {
    let segments: Vec<&str> = key.split('_').collect();
    let mut group = String::with_capacity(key.len());
    // Every segment but the last is followed by an underscore; empty ones are not matched by `[^_]+_`.
    for seg in &segments[..segments.len() - 1] {
        if !seg.is_empty() {
            group.push_str(seg);
            group.push('_');
        }
    }
    // The last `_\d+` match: the last segment (after the first) that starts with a digit; `\d+` is greedy,
    // so take its whole leading digit run.
    let step = segments
        .iter()
        .skip(1)
        .rev()
        .find_map(|seg| {
            let run: &str = &seg[..seg.bytes().take_while(u8::is_ascii_digit).count()];
            (!run.is_empty()).then(|| run.parse::<i64>().unwrap_or(i64::MAX))
        })
        .unwrap_or(i64::MIN);
    (group, step)
}

/// Sort `keys` by [`eval_results_sort_key`] (the multi-checkpoint order of `eval_results.txt`:
/// `acc_500, acc_1000, acc_10000`). The sort is stable, so keys with equal sort keys keep their input
/// order, as with Python's `sorted`.
pub fn sort_eval_keys(keys: &mut [String]) {
    keys.sort_by_cached_key(|k| eval_results_sort_key(k));
}

/// Order the keys of `eval_results.txt` as the reference does (§8.4 step 5): with more than one checkpoint,
/// by [`eval_results_sort_key`]; with one checkpoint, plain string order (by code point, so uppercase
/// before lowercase).
pub fn sort_eval_result_keys(keys: &mut [String], multiple_checkpoints: bool) {
    if multiple_checkpoints {
        sort_eval_keys(keys);
    } else {
        keys.sort();
    }
}
