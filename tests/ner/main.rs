//! `ner`: the reader and features against transformers, seqeval's scores, and runs end to end.
#[path = "../common/mod.rs"]
mod common;

mod features;
mod run;
mod seqeval;
