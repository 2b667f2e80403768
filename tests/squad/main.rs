//! `squad`: the reader and windows against transformers, decoding and scoring against the reference
//! fixtures, and runs end to end.
#[path = "../common/mod.rs"]
mod common;

mod eval;
mod features;
mod run;
