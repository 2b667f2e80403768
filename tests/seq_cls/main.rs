//! `seq-cls`: the TSV readers, the metrics against scikit-learn/SciPy, and runs end to end.
#[path = "../common/mod.rs"]
mod common;

mod metrics;
mod reader;
mod run;
