//! Results: `report`'s tables against golden files, `curves.svg`, and the key order of
//! `eval_results.txt`.
#![allow(clippy::disallowed_methods)] // tests read tensors directly (clippy.toml)
#[path = "../common/mod.rs"]
mod common;

mod report;
mod results;
