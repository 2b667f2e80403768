//! What the parity tests of tests/text/ share: the reference's rows, the mismatch counter, and the
//! inputs read from the real benchmark files in ../shared/data.
use std::fmt::Debug;
use std::fs;
use std::path::PathBuf;

use crate::common::shared;
use koelectra_ft::text::Encoded;
use serde::Deserialize;

/// Texts or text pairs.
pub type Inputs = Vec<(String, Option<String>)>;

/// One encoding by transformers (scripts/hf_tokenize.py, scripts/hf_tokenize_sp.py).
#[derive(Debug, Deserialize, Clone, PartialEq)]
pub struct HfRow {
    pub input_ids: Vec<i64>,
    pub token_type_ids: Vec<i64>,
    pub attention_mask: Vec<i64>,
    #[serde(default)]
    pub offset_mapping: Option<Vec<(usize, usize)>>,
}

/// Counts mismatches; reports the count and the first one in detail.
#[derive(Default)]
pub struct Mismatches {
    pub compared: usize,
    pub count: usize,
    first: Option<String>,
}

impl Mismatches {
    /// Whether `got` equals the reference's `want`; a difference is counted.
    pub fn check<T: PartialEq + Debug>(&mut self, what: &str, ctx: &dyn Fn() -> String, want: &T, got: &T) -> bool {
        if want == got {
            return true;
        }
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(format!(
                "{what} differ for {}\n  reference: {want:?}\n  ours:      {got:?}",
                ctx()
            ));
        }
        false
    }

    pub fn assert_none(&self, group: &str) {
        eprintln!("{group}: {} compared, {} mismatches", self.compared, self.count);
        if let Some(first) = &self.first {
            panic!(
                "{group}: {} of {} differ from the reference; first:\n{first}",
                self.count, self.compared
            );
        }
    }
}

/// One input's ids, type ids and mask against the reference's (the first difference counts).
pub fn compare_encoded(m: &mut Mismatches, ctx: &dyn Fn() -> String, want: &HfRow, got: &Encoded) {
    m.compared += 1;
    let _ = m.check("input_ids", ctx, &want.input_ids, &got.ids)
        && m.check("token_type_ids", ctx, &want.token_type_ids, &got.type_ids)
        && m.check("attention_mask", ctx, &want.attention_mask, &got.attention_mask);
}

pub fn data_path(rel: &str) -> PathBuf {
    let p = shared("data").join(rel);
    assert!(
        p.is_file(),
        "{} is missing: the data parity tests read the real benchmark files from ../shared/data",
        p.display()
    );
    p
}

/// Rows of a TSV: header skipped, each line stripped and split on tabs.
pub fn tsv_rows(rel: &str, header: bool) -> Vec<Vec<String>> {
    let text = fs::read_to_string(data_path(rel)).expect("read data file");
    text.lines()
        .skip(usize::from(header))
        .map(|l| l.trim().split('\t').map(str::to_owned).collect())
        .collect()
}

/// Text inputs from columns `a` (and `b`) of each file; rows lacking a column are skipped.
pub fn tsv_inputs(files: &[&str], a: usize, b: Option<usize>) -> Inputs {
    let mut items = Vec::new();
    for f in files {
        let rows = tsv_rows(f, true);
        assert!(!rows.is_empty(), "{f} has no rows");
        for r in rows {
            let Some(ta) = r.get(a) else { continue };
            match b {
                Some(bi) => {
                    if let Some(tb) = r.get(bi) {
                        items.push((ta.clone(), Some(tb.clone())));
                    }
                }
                None => items.push((ta.clone(), None)),
            }
        }
    }
    items
}

/// Python's `str.split()` (it also splits on U+001C..U+001F).
pub fn py_split(s: &str) -> Vec<&str> {
    s.split(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
        .filter(|w| !w.is_empty())
        .collect()
}
