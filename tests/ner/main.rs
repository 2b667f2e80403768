//! `ner`: the reader and features against transformers, seqeval's scores, and runs end to end.
#![allow(clippy::disallowed_methods)] // tests read tensors directly (clippy.toml)
#[path = "../common/mod.rs"]
mod common;

mod features;
mod run;
mod seqeval;
