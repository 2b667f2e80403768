//! Results: `report`'s tables against golden files, `curves.svg`, and the key order of
//! `eval_results.txt`.
#[path = "../common/mod.rs"]
mod common;

mod report;
mod results;
