//! `squad`: the reader and windows against transformers, decoding and scoring against the reference
//! fixtures, and runs end to end.
#![allow(clippy::disallowed_methods)] // tests read tensors directly (clippy.toml)
#[path = "../common/mod.rs"]
mod common;

mod eval;
mod features;
mod run;
