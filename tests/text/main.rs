//! Text: the WordPiece tokenizer against `ElectraTokenizerFast`, and Python's float repr.
#![allow(clippy::disallowed_methods)] // tests read tensors directly (clippy.toml)
#[path = "../common/mod.rs"]
mod common;

mod parity;
mod python;
mod sentencepiece;
mod tokenizer;
