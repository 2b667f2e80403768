//! Text: the WordPiece tokenizer against `ElectraTokenizerFast`, and Python's float repr.
#[path = "../common/mod.rs"]
mod common;

mod python;
mod tokenizer;
