//! `eval_results.txt`: the key order of the reference (spec §8.4 step 5 and §12).
use koelectra_ft::io::results::{eval_results_sort_key, sort_eval_keys, sort_eval_result_keys};

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A deterministic shuffle (the order of a results dict is arbitrary input to the sort).
fn shuffled(v: &[String]) -> Vec<String> {
    let mut out = v.to_vec();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..out.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.swap(i, (state % (i as u64 + 1)) as usize);
    }
    out
}

#[test]
fn eval_sort_key_examples() {
    assert_eq!(eval_results_sort_key("f1_2000"), ("f1_".to_string(), 2000));
    assert_eq!(
        eval_results_sort_key("HasAns_exact_1000"),
        ("HasAns_exact_".to_string(), 1000)
    );
    assert_eq!(
        eval_results_sort_key("best_f1_thresh_500"),
        ("best_f1_thresh_".to_string(), 500)
    );
    assert_eq!(
        eval_results_sort_key("official_exact_match_7"),
        ("official_exact_match_".to_string(), 7)
    );
    // Empty runs are skipped like re.findall(r'[^_]+_'); the step is the last `_<digits>` match.
    assert_eq!(eval_results_sort_key("a__b_12"), ("a_b_".to_string(), 12));
    assert_eq!(eval_results_sort_key("x_12_ab"), ("x_12_".to_string(), 12));
    assert_eq!(eval_results_sort_key("x_12ab"), ("x_".to_string(), 12));
    assert_eq!(eval_results_sort_key("acc_0100"), ("acc_".to_string(), 100));
    // Where Python raises: no panic.
    assert_eq!(eval_results_sort_key("acc"), (String::new(), i64::MIN));
    assert_eq!(eval_results_sort_key(""), (String::new(), i64::MIN));
    assert_eq!(eval_results_sort_key("_"), (String::new(), i64::MIN));
    assert_eq!(
        eval_results_sort_key("acc_99999999999999999999999"),
        ("acc_".to_string(), i64::MAX)
    );
}

#[test]
fn eval_order_numeric_steps() {
    let want = strings(&["acc_500", "acc_1000", "acc_10000"]);
    let mut keys = strings(&["acc_10000", "acc_1000", "acc_500"]);
    sort_eval_keys(&mut keys);
    assert_eq!(keys, want);
    // One checkpoint: plain string sort.
    let mut keys = strings(&["acc_500", "acc_1000", "acc_10000"]);
    sort_eval_result_keys(&mut keys, false);
    assert_eq!(keys, strings(&["acc_1000", "acc_10000", "acc_500"]));
    let mut keys = strings(&["recall_500", "f1_500", "loss_500", "precision_500"]);
    sort_eval_result_keys(&mut keys, false);
    assert_eq!(keys, strings(&["f1_500", "loss_500", "precision_500", "recall_500"]));
}

#[test]
fn eval_order_ner() {
    let steps = [1000, 2000, 3000, 10000, 20000, 50000];
    let mut want = Vec::new();
    for metric in ["f1", "loss", "precision", "recall"] {
        for s in steps {
            want.push(format!("{metric}_{s}"));
        }
    }
    let mut keys = shuffled(&want);
    assert_ne!(keys, want);
    sort_eval_result_keys(&mut keys, true);
    assert_eq!(keys, want);
}

#[test]
fn eval_order_korquad() {
    let groups = [
        "HasAns_exact_",
        "HasAns_f1_",
        "HasAns_total_",
        "best_exact_",
        "best_exact_thresh_",
        "best_f1_",
        "best_f1_thresh_",
        "exact_",
        "f1_",
        "official_exact_match_",
        "official_f1_",
        "total_",
    ];
    let mut want = Vec::new();
    for g in groups {
        for s in [600, 1200, 1800, 10200] {
            want.push(format!("{g}{s}"));
        }
    }
    let mut keys = shuffled(&want);
    sort_eval_result_keys(&mut keys, true);
    assert_eq!(keys, want);
    // Python sorts by code point: uppercase first.
    assert!("HasAns_total_" < "best_exact_");
}
