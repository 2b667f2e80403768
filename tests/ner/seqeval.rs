//! NER metric parity with seqeval 1.2.2 (`suffix=True`, default mode).
//!
//! * `fixture_cases`: every case of `tests/fixtures/seqeval/cases.json` (written by
//!   `.venv/bin/python scripts/make_seqeval_fixtures.py`) must match: entity lists equal, micro and per-type
//!   scores to 1e-9, classification reports byte-identical; where seqeval raises, the documented behaviour.
//! * The worked examples of spec §12 and a few hand-computed reports.

use std::collections::BTreeMap;

use crate::common::root;
use koelectra_ft::tasks::ner::seqeval::{classification_report, get_entities, score, NerScores};
use serde::Deserialize;

const TOL: f64 = 1e-9;

type EntityRow = (String, usize, usize);
/// `[name, precision, recall, f1, support]` of one type.
type TypeRow = (String, f64, f64, f64, usize);

#[derive(Deserialize)]
struct Fixture {
    seqeval_version: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    kind: String,
    gold: Vec<Vec<String>>,
    pred: Vec<Vec<String>>,
    score_error: Option<String>,
    #[serde(default)]
    precision: Option<f64>,
    #[serde(default)]
    recall: Option<f64>,
    #[serde(default)]
    f1: Option<f64>,
    #[serde(default)]
    per_type: Option<Vec<TypeRow>>,
    #[serde(default)]
    gold_entities: Option<Vec<EntityRow>>,
    #[serde(default)]
    pred_entities: Option<Vec<EntityRow>>,
    #[serde(default)]
    entities_error: Option<String>,
    reports: BTreeMap<String, Option<String>>,
    report_error: Option<String>,
}

fn load() -> Fixture {
    let path = root().join("tests/fixtures/seqeval/cases.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run .venv/bin/python scripts/make_seqeval_fixtures.py)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn close(got: f64, want: Option<f64>) -> bool {
    want.is_some_and(|w| (got - w).abs() <= TOL)
}

/// Checks one fixture case; returns a description of every mismatch.
fn check_case(i: usize, case: &Case) -> Vec<String> {
    let mut bad = Vec::new();
    let tag = format!("case {i} ({})", case.kind);

    // Entities (seqeval raises IndexError on an empty tag; this port reads it as O, checked elsewhere).
    if case.entities_error.is_none() {
        let gold = get_entities(&case.gold);
        let pred = get_entities(&case.pred);
        if Some(&gold) != case.gold_entities.as_ref() {
            bad.push(format!("{tag}: gold entities {gold:?} != {:?}", case.gold_entities));
        }
        if Some(&pred) != case.pred_entities.as_ref() {
            bad.push(format!("{tag}: pred entities {pred:?} != {:?}", case.pred_entities));
        }
    }

    let result = score(&case.gold, &case.pred);
    match (&case.score_error, result) {
        (None, Ok(s)) => {
            if !close(s.precision, case.precision) || !close(s.recall, case.recall) || !close(s.f1, case.f1) {
                bad.push(format!(
                    "{tag}: micro p/r/f1 {} {} {} != {:?} {:?} {:?}",
                    s.precision, s.recall, s.f1, case.precision, case.recall, case.f1
                ));
            }
            let want = case.per_type.as_deref().unwrap_or_default();
            let rows_match = s.per_type.len() == want.len()
                && s.per_type.iter().zip(want).all(|(g, w)| {
                    g.name == w.0
                        && close(g.precision, Some(w.1))
                        && close(g.recall, Some(w.2))
                        && close(g.f1, Some(w.3))
                        && g.support == w.4
                });
            if !rows_match {
                bad.push(format!("{tag}: per-type {:?} != {want:?}", s.per_type));
            }
            for (digits, want) in &case.reports {
                let digits: usize = digits.parse().expect("digits key");
                let got = classification_report(&s, digits);
                match want {
                    Some(want) if &got != want => bad.push(format!("{tag}: report (digits {digits})\n{got}!=\n{want}")),
                    Some(_) => {}
                    // seqeval raises ValueError (max() of no type names): the fallback report.
                    None => {
                        if case.report_error.as_deref() != Some("ValueError") || !s.per_type.is_empty() {
                            bad.push(format!("{tag}: unexpected report error {:?}", case.report_error));
                        } else if got != no_entity_report(digits) {
                            bad.push(format!("{tag}: fallback report\n{got}"));
                        }
                    }
                }
            }
        }
        // Zero sentences: seqeval raises TypeError, this port scores zeros.
        (Some(e), Ok(s)) if e == "TypeError" && case.gold.is_empty() && case.pred.is_empty() => {
            if s != zero_scores() {
                bad.push(format!("{tag}: zero sentences gave {s:?}"));
            }
        }
        (Some(_), Err(err)) => {
            let msg = err.to_string();
            if case.gold.len() == case.pred.len() {
                // The first offending sentence must be named.
                let idx = case
                    .gold
                    .iter()
                    .zip(&case.pred)
                    .position(|(g, p)| g.len() != p.len() || g.iter().chain(p).any(String::is_empty));
                match idx {
                    Some(idx) if msg.contains(&format!("sentence {idx} ")) => {}
                    _ => bad.push(format!("{tag}: error message {msg:?} does not name sentence {idx:?}")),
                }
            }
        }
        (want, got) => bad.push(format!("{tag}: expected error {want:?}, got {got:?}")),
    }
    bad
}

fn zero_scores() -> NerScores {
    NerScores {
        precision: 0.0,
        recall: 0.0,
        f1: 0.0,
        per_type: Vec::new(),
    }
}

/// What [`classification_report`] writes where seqeval raises (no entity type at all).
fn no_entity_report(digits: usize) -> String {
    let width = digits.max(12);
    let zero = format!("{:.digits$}", 0.0);
    let mut s = format!(
        "{:>width$}  {:>9} {:>9} {:>9} {:>9}\n\n\n",
        "", "precision", "recall", "f1-score", "support"
    );
    for name in ["micro avg", "macro avg", "weighted avg"] {
        s.push_str(&format!("{name:>width$}  {zero:>9} {zero:>9} {zero:>9} {:>9}\n", 0));
    }
    s
}

#[test]
fn fixture_cases() {
    let fixture = load();
    assert_eq!(fixture.seqeval_version, "1.2.2");
    assert!(fixture.cases.len() >= 250, "only {} cases", fixture.cases.len());
    let mut bad = Vec::new();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut reports, mut errors) = (0usize, 0usize);
    for (i, case) in fixture.cases.iter().enumerate() {
        *kinds.entry(case.kind.as_str()).or_default() += 1;
        reports += case.reports.values().filter(|r| r.is_some()).count();
        errors += usize::from(case.score_error.is_some());
        bad.extend(check_case(i, case));
    }
    eprintln!(
        "seqeval fixtures: {} cases {kinds:?}, {reports} reports compared, {errors} seqeval errors",
        fixture.cases.len()
    );
    assert!(
        bad.is_empty(),
        "{} mismatches; first ones:\n{}",
        bad.len(),
        bad.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
}

fn sents(rows: &[&str]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.split_whitespace().map(str::to_string).collect())
        .collect()
}

fn ents(rows: &[(&str, usize, usize)]) -> Vec<(String, usize, usize)> {
    rows.iter().map(|&(t, s, e)| (t.to_string(), s, e)).collect()
}

#[test]
fn spec_worked_examples() {
    assert_eq!(
        get_entities(&sents(&["PER-B PER-I O ORG-I ORG-I LOC-B LOC-B DAT-I NUM-I"])),
        ents(&[
            ("PER", 0, 1),
            ("ORG", 3, 4),
            ("LOC", 5, 5),
            ("LOC", 6, 6),
            ("DAT", 7, 7),
            ("NUM", 8, 8)
        ])
    );
    // An O is inserted after sentence 1 at index 4: offsets are global.
    assert_eq!(
        get_entities(&sents(&["O PER-B ORG-I ORG-I", "PER-I O"])),
        ents(&[("PER", 1, 1), ("ORG", 2, 3), ("PER", 5, 5)])
    );
    assert_eq!(
        get_entities(&sents(&["CVL-B CVL-B O TIM-B TIM-I TIM-I"])),
        ents(&[("CVL", 0, 0), ("CVL", 1, 1), ("TIM", 3, 5)])
    );
    // &str input works too.
    assert_eq!(
        get_entities(&[vec!["O", "PER-I"], vec!["PER-I"]]),
        ents(&[("PER", 1, 1), ("PER", 3, 3)])
    );
}

#[test]
fn hand_computed_report() {
    // Gold: A(0,0) A(2,2) B(4,4) C(6,6) D(8,8); predicted: A(0,0) A(2,3) B(4,5) C(6,7) D(8,9).
    let gold = sents(&["A-B O A-B O B-B O C-B O D-B O"]);
    let pred = sents(&["A-B O A-B A-I B-B B-I C-B C-I D-B D-I"]);
    let s = score(&gold, &pred).unwrap();
    assert_eq!((s.precision, s.recall, s.f1), (0.2, 0.2, 0.20000000000000004));
    // f1 = 2 * 0.2 * 0.2 / 0.4 = 0.20000000000000004, as in seqeval. The macro average is exactly 0.125, printed half-to-even as 0.12.
    let want = "              precision    recall  f1-score   support

           A       0.50      0.50      0.50         2
           B       0.00      0.00      0.00         1
           C       0.00      0.00      0.00         1
           D       0.00      0.00      0.00         1

   micro avg       0.20      0.20      0.20         5
   macro avg       0.12      0.12      0.12         5
weighted avg       0.20      0.20      0.20         5
";
    assert_eq!(classification_report(&s, 2), want);

    // A type that only occurs in the predictions has support 0 and counts in the macro average.
    let s = score(&sents(&["PER-B PER-I O O"]), &sents(&["PER-B PER-I O ORG-B"])).unwrap();
    assert_eq!(s.per_type.len(), 2);
    assert_eq!((s.per_type[0].name.as_str(), s.per_type[0].support), ("ORG", 0));
    assert_eq!((s.precision, s.recall), (0.5, 1.0));
    assert!(classification_report(&s, 2).contains("   macro avg       0.50      0.50      0.50         1\n"));
}

#[test]
fn degenerate_inputs_do_not_panic() {
    let empty: Vec<Vec<String>> = Vec::new();
    assert_eq!(score(&empty, &empty).unwrap(), zero_scores());
    assert_eq!(classification_report(&zero_scores(), 2), no_entity_report(2));
    assert!(get_entities(&empty).is_empty());

    let err = score(&sents(&["O", "PER-B O"]), &sents(&["O", "PER-B"])).unwrap_err();
    assert!(err.to_string().contains("sentence 1 "), "{err}");
    let err = score(&sents(&["O"]), &sents(&["O", "O"])).unwrap_err();
    assert!(err.to_string().contains("1 gold sentences but 2 predicted"), "{err}");
    let err = score(&[vec!["O", ""]], &[vec!["O", "O"]]).unwrap_err();
    assert!(err.to_string().contains("sentence 0 "), "{err}");

    // An empty tag reads as O in get_entities (seqeval raises IndexError).
    assert_eq!(
        get_entities(&[vec!["PER-B", "", "PER-I"]]),
        ents(&[("PER", 0, 0), ("PER", 2, 2)])
    );
    // Odd tags: bare states, '.', unknown states, multi-byte last characters.
    let odd = [vec!["B", ".", "PER-.", "x", "인물-B", "PER-인", "-", "--", "I"]];
    let _ = get_entities(&odd);
    let s = score(&odd, &odd).unwrap();
    let _ = classification_report(&s, 0);
    let _ = classification_report(&s, 40);
}
