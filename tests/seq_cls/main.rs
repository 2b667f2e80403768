//! `seq-cls`: the TSV readers, the metrics against scikit-learn/SciPy, and runs end to end.
#![allow(clippy::disallowed_methods)] // tests read tensors directly (clippy.toml)
#[path = "../common/mod.rs"]
mod common;

mod metrics;
mod reader;
mod run;
