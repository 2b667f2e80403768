//! Metric parity with scikit-learn / SciPy.
//!
//! * `fixture_*`: every case of `tests/fixtures/metrics/*.json` (written by
//!   `.venv/bin/python scripts/make_metric_fixtures.py` with numpy/scipy/scikit-learn) must match to 1e-9
//!   (absolute, relative above 1).
//! * Hand-computed checks: ties in Spearman, macro F1 with an unpredicted class, degenerate inputs.

use crate::common::root;
use koelectra_ft::tasks::seq_cls::metrics::{
    accuracy, average_ranks, korsts_metrics, macro_prf, pearson, seq_cls_metrics, spearman,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;

const TOL: f64 = 1e-9;

fn load<T: DeserializeOwned>(name: &str) -> Vec<T> {
    let path = root().join("tests/fixtures/metrics").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run .venv/bin/python scripts/make_metric_fixtures.py)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Deviation of `got` from `want` (None = NaN expected), scaled for |want| > 1; infinite on a NaN mismatch.
fn deviation(got: f64, want: Option<f64>) -> f64 {
    match want {
        None if got.is_nan() => 0.0,
        None => f64::INFINITY,
        Some(_) if got.is_nan() => f64::INFINITY,
        Some(w) => (got - w).abs() / w.abs().max(1.0),
    }
}

/// Tracks the largest deviation over a fixture file and reports the worst case.
struct Worst {
    name: &'static str,
    max: f64,
    cases: usize,
}

impl Worst {
    fn new(name: &'static str) -> Self {
        Worst {
            name,
            max: 0.0,
            cases: 0,
        }
    }

    fn check(&mut self, case: usize, metric: &str, got: f64, want: Option<f64>) {
        let d = deviation(got, want);
        assert!(
            d <= TOL,
            "{} case {case} {metric}: got {got:?}, want {want:?} (deviation {d:e})",
            self.name
        );
        self.max = self.max.max(d);
    }

    fn done(self) {
        eprintln!("{}: {} cases, max deviation {:e}", self.name, self.cases, self.max);
    }
}

#[derive(Deserialize)]
struct AccCase {
    preds: Vec<usize>,
    labels: Vec<usize>,
    acc: Option<f64>,
}

#[test]
fn fixture_accuracy() {
    let cases: Vec<AccCase> = load("accuracy.json");
    assert!(cases.len() >= 100);
    let mut w = Worst::new("accuracy");
    for (i, c) in cases.iter().enumerate() {
        w.check(i, "acc", accuracy(&c.preds, &c.labels), c.acc);
        for task in ["nsmc", "kornli", "paws", "question-pair"] {
            let m = seq_cls_metrics(task, &c.preds, &c.labels);
            assert_eq!(m.len(), 1);
            assert_eq!(m[0].0, "acc");
            w.check(i, task, m[0].1, c.acc);
        }
        w.cases += 1;
    }
    w.done();
}

#[derive(Deserialize)]
struct CorrCase {
    kind: String,
    x: Vec<f64>,
    y: Vec<f64>,
    pearson: Option<f64>,
    spearman: Option<f64>,
}

#[test]
fn fixture_correlation() {
    let cases: Vec<CorrCase> = load("correlation.json");
    for kind in ["random", "ties", "small", "large", "constant"] {
        let n = cases.iter().filter(|c| c.kind == kind).count();
        assert!(n > 0, "no {kind} cases");
    }
    assert!(cases.iter().filter(|c| c.kind == "ties").count() >= 100);
    assert!(cases.iter().any(|c| c.x.len() == 2) && cases.iter().any(|c| c.x.len() == 3));
    assert!(cases.iter().any(|c| c.x.len() == 2000));
    let mut w = Worst::new("correlation");
    for (i, c) in cases.iter().enumerate() {
        let label = format!("{} n={}", c.kind, c.x.len());
        w.check(i, &format!("pearson ({label})"), pearson(&c.x, &c.y), c.pearson);
        w.check(i, &format!("spearman ({label})"), spearman(&c.x, &c.y), c.spearman);
        let m = korsts_metrics(&c.x, &c.y);
        let keys: Vec<&str> = m.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["pearson", "spearmanr", "corr"]);
        w.check(i, "korsts pearson", m[0].1, c.pearson);
        w.check(i, "korsts spearmanr", m[1].1, c.spearman);
        let corr = c.pearson.zip(c.spearman).map(|(p, s)| (p + s) / 2.0);
        w.check(i, "korsts corr", m[2].1, corr);
        w.cases += 1;
    }
    w.done();
}

#[derive(Deserialize)]
struct GeneratedCase {
    seed: u64,
    n: usize,
    ties: bool,
    a_milli: i64,
    pearson: Option<f64>,
    spearman: Option<f64>,
}

/// SplitMix64, the same generator as `splitmix64` in `scripts/make_metric_fixtures.py`.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Rebuild the inputs of a generated case exactly as `generated_pair` in the Python script does.
fn generated_pair(seed: u64, n: usize, ties: bool, a: f64) -> (Vec<f64>, Vec<f64>) {
    let mut state = seed;
    let (mut x, mut y) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let u1 = (splitmix64(&mut state) >> 11) as f64 / 9007199254740992.0;
        let u2 = (splitmix64(&mut state) >> 11) as f64 / 9007199254740992.0;
        let gold = if ties {
            (u1 * 26.0).trunc() / 5.0
        } else {
            u1 * 10.0 - 5.0
        };
        x.push(gold * a + (u2 - 0.5) * 3.0);
        y.push(gold);
    }
    (x, y)
}

#[test]
fn fixture_correlation_large() {
    let cases: Vec<GeneratedCase> = load("correlation_large.json");
    assert!(cases.len() >= 100);
    let mut w = Worst::new("correlation_large");
    for (i, c) in cases.iter().enumerate() {
        let (x, y) = generated_pair(c.seed, c.n, c.ties, c.a_milli as f64 / 1000.0);
        w.check(i, "pearson", pearson(&x, &y), c.pearson);
        w.check(i, "spearman", spearman(&x, &y), c.spearman);
        w.cases += 1;
    }
    w.done();
}

#[derive(Deserialize)]
struct PrfCase {
    kind: String,
    preds: Vec<usize>,
    labels: Vec<usize>,
    p: Option<f64>,
    r: Option<f64>,
    f1: Option<f64>,
}

#[test]
fn fixture_macro_prf() {
    let cases: Vec<PrfCase> = load("macro_prf.json");
    assert!(cases.len() >= 100);
    for kind in [
        "never_predicted",
        "never_gold",
        "all_one_pred",
        "all_one_gold",
        "perfect",
        "all_wrong",
    ] {
        assert!(cases.iter().any(|c| c.kind == kind), "no {kind} cases");
    }
    let mut w = Worst::new("macro_prf");
    for (i, c) in cases.iter().enumerate() {
        let (p, r, f) = macro_prf(&c.preds, &c.labels);
        w.check(i, &format!("precision ({})", c.kind), p, c.p);
        w.check(i, &format!("recall ({})", c.kind), r, c.r);
        w.check(i, &format!("f1 ({})", c.kind), f, c.f1);
        let m = seq_cls_metrics("hate-speech", &c.preds, &c.labels);
        let keys: Vec<&str> = m.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["precision", "recall", "f1"]);
        w.check(i, "hate-speech precision", m[0].1, c.p);
        w.check(i, "hate-speech recall", m[1].1, c.r);
        w.check(i, "hate-speech f1", m[2].1, c.f1);
        w.cases += 1;
    }
    w.done();
}

// ---------------------------------------------------------------------------------------------------------------
// Hand-computed checks
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn spearman_with_ties_by_hand() {
    // x ranks: 1, 2.5, 2.5, 4 (the two 2s share ranks 2 and 3); y ranks: 1, 3, 2, 4.
    let x = [1.0, 2.0, 2.0, 3.0];
    let y = [10.0, 30.0, 20.0, 40.0];
    assert_eq!(average_ranks(&x), vec![1.0, 2.5, 2.5, 4.0]);
    assert_eq!(average_ranks(&y), vec![1.0, 3.0, 2.0, 4.0]);
    // Centred ranks: dx = (-1.5, 0, 0, 1.5), dy = (-1.5, 0.5, -0.5, 1.5).
    // Sxy = 4.5, Sxx = 4.5, Syy = 5  =>  r = 4.5 / sqrt(4.5 * 5) = sqrt(0.9).
    let r = spearman(&x, &y);
    assert!((r - 0.9f64.sqrt()).abs() < 1e-15, "{r}");
    // A run of three ties and -0.0 == 0.0.
    assert_eq!(
        average_ranks(&[5.0, 0.0, 5.0, -0.0, 5.0]),
        vec![4.0, 1.5, 4.0, 1.5, 4.0]
    );
    // Monotone but non-linear: Spearman 1, Pearson < 1.
    let a = [1.0, 2.0, 3.0, 4.0];
    let b = [1.0, 8.0, 27.0, 64.0];
    assert_eq!(spearman(&a, &b), 1.0);
    assert!(pearson(&a, &b) < 1.0);
    assert_eq!(spearman(&a, &[4.0, 3.0, 2.0, 1.0]), -1.0);
}

#[test]
fn pearson_small_and_degenerate() {
    assert_eq!(pearson(&[1.0, 2.0], &[3.0, 1.0]), -1.0);
    assert_eq!(pearson(&[1.0, 2.0], &[1.0, 5.0]), 1.0);
    // Constant input: NaN, as SciPy (which also warns).
    assert!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_nan());
    assert!(spearman(&[1.0, 2.0, 3.0], &[2.0, 2.0, 2.0]).is_nan());
    // Too short, mismatched, NaN-containing: NaN, no panic.
    for (x, y) in [
        (&[][..], &[][..]),
        (&[1.0][..], &[2.0][..]),
        (&[1.0, 2.0, 3.0][..], &[1.0, 2.0][..]),
    ] {
        assert!(pearson(x, y).is_nan());
        assert!(spearman(x, y).is_nan());
    }
    assert!(pearson(&[1.0, f64::NAN, 3.0], &[1.0, 2.0, 3.0]).is_nan());
    assert!(spearman(&[1.0, f64::NAN, 3.0], &[1.0, 2.0, 3.0]).is_nan());
    // Huge and tiny magnitudes do not overflow or underflow.
    let r = pearson(&[1e200, 2e200, 3e200], &[1.0, 2.0, 4.0]);
    assert!((r - 0.9819805060619655).abs() < 1e-15, "{r}");
    let r = pearson(&[1e-200, 2e-200, 3e-200], &[1.0, 2.0, 4.0]);
    assert!((r - 0.9819805060619656).abs() < 1e-15, "{r}");
    let r = pearson(&[1e308, -1e308, 1e308], &[1.0, 2.0, 4.0]);
    assert!((r - 0.18898223650461363).abs() < 1e-15, "{r}");
    let m = korsts_metrics(&[1.0, 1.0], &[1.0, 2.0]);
    assert!(m.iter().all(|(_, v)| v.is_nan()));
}

#[test]
fn macro_f1_unpredicted_class_contributes_zero() {
    // Class 2 is in gold but never predicted: P = R = F1 = 0 for it.
    // class 0: P 1, R 1, F1 1; class 1: TP 2, predicted 4, gold 2 -> P 0.5, R 1, F1 2/3.
    let labels = [0, 0, 1, 1, 2, 2];
    let preds = [0, 0, 1, 1, 1, 1];
    let (p, r, f) = macro_prf(&preds, &labels);
    assert!((p - 0.5).abs() < 1e-15);
    assert!((r - 2.0 / 3.0).abs() < 1e-15);
    assert!((f - 5.0 / 9.0).abs() < 1e-15, "{f}");
    // Not the harmonic mean of macro P and macro R (which would be 4/7).
    assert!((f - 2.0 * p * r / (p + r)).abs() > 0.01);

    // Class 1 is predicted but never in gold: R = 0 for it, and it still counts in the mean.
    let (p, r, f) = macro_prf(&[0, 1], &[0, 0]);
    assert!((p - 0.5).abs() < 1e-15);
    assert!((r - 0.25).abs() < 1e-15);
    assert!((f - 1.0 / 3.0).abs() < 1e-15);

    // A class absent from both does not count; huge label ids are fine.
    let (p, r, f) = macro_prf(&[0, usize::MAX], &[0, usize::MAX]);
    assert_eq!((p, r, f), (1.0, 1.0, 1.0));
}

#[test]
fn degenerate_classification_inputs() {
    assert!(accuracy(&[], &[]).is_nan());
    assert!(accuracy(&[1, 2], &[1]).is_nan());
    let (p, r, f) = macro_prf(&[], &[]);
    assert!(p.is_nan() && r.is_nan() && f.is_nan());
    let (p, r, f) = macro_prf(&[0], &[0, 1]);
    assert!(p.is_nan() && r.is_nan() && f.is_nan());
    assert_eq!(accuracy(&[1, 2, 3, 4], &[1, 2, 0, 0]), 0.5);
    assert!(seq_cls_metrics("korsts", &[0], &[0]).is_empty());
    assert!(seq_cls_metrics("unknown", &[0], &[0]).is_empty());
}
