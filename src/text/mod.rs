//! Text: the tokenizer seam, its implementations, and Python's string rules.
//!
//! A [`Tokenizer`] turns a text or a text pair into ids with the model family's special tokens, and
//! single words into ids without them (NER words, SQuAD doc words). WordPiece (KoELECTRA) is the
//! first implementation; a family with another scheme (SentencePiece) adds a file and a line in
//! [`LOADERS`].
pub mod basic_tokenizer;
pub mod python;
pub mod unicode;
pub mod unicode_tables;
pub mod wordpiece;

use std::path::Path;

use anyhow::{bail, Result};

pub use wordpiece::WordPieceTokenizer;

/// One encoded example (not padded): `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Encoded {
    /// Token ids.
    pub ids: Vec<i64>,
    /// Segment ids: 0 for `[CLS] A [SEP]`, 1 for `B [SEP]`.
    pub type_ids: Vec<i64>,
    /// 1 for every token (padding adds the zeros later).
    pub attention_mask: Vec<i64>,
}

/// What the pipeline needs from a tokenizer. Implementations are cheap to share between threads.
pub trait Tokenizer: Send + Sync {
    /// `A` or the pair `(A, B)` with special tokens, longest-first truncated to `max_length`.
    fn encode(&self, a: &str, b: Option<&str>, max_length: usize) -> Result<Encoded>;
    /// Many inputs, in order ([`Tokenizer::encode`] on each; implementations may parallelise).
    fn encode_batch(&self, pairs: &[(&str, Option<&str>)], max_length: usize) -> Result<Vec<Encoded>> {
        pairs.iter().map(|(a, b)| self.encode(a, *b, max_length)).collect()
    }
    /// The ids of each word tokenized on its own, without special tokens (may be empty).
    fn encode_words(&self, words: &[&str]) -> Result<Vec<Vec<i64>>>;
    /// The ids of `text` without special tokens, each with its char offsets `[start, end)`.
    fn encode_offsets(&self, text: &str) -> Result<Vec<(i64, (usize, usize))>>;
    /// The vocabulary string of an id.
    fn id_to_token(&self, id: i64) -> Option<String>;
    /// Id of the sequence-start token (`[CLS]`).
    fn cls_id(&self) -> i64;
    /// Id of the separator (`[SEP]`).
    fn sep_id(&self) -> i64;
    /// Id of the padding token (`[PAD]`).
    fn pad_id(&self) -> i64;
    /// Id of the unknown-word token (`[UNK]`).
    fn unk_id(&self) -> i64;
    /// Whether input is lowercased before tokenization.
    fn do_lower_case(&self) -> bool;
    /// Everything that decides the ids, as bytes (feature-cache keys).
    fn fingerprint(&self) -> Result<Vec<u8>>;
    /// Writes the tokenizer files into a checkpoint folder.
    fn save(&self, dir: &Path) -> Result<()>;
    /// Number of ids it can produce (HF `len(tokenizer)`).
    fn vocab_size(&self) -> usize;
}

/// A way to load a tokenizer from a model folder: used when `applies` finds its files there.
pub struct Loader {
    pub name: &'static str,
    pub applies: fn(&Path) -> bool,
    pub load: fn(&Path) -> Result<Box<dyn Tokenizer>>,
}

/// The tokenizer kinds, tried in order. Register a new kind here.
pub const LOADERS: &[Loader] = &[wordpiece::LOADER];

/// The tokenizer of a model folder (`tokenizer.json`, `vocab.txt`, ...).
pub fn load_dir(dir: &Path) -> Result<Box<dyn Tokenizer>> {
    match LOADERS.iter().find(|l| (l.applies)(dir)) {
        Some(loader) => (loader.load)(dir),
        None => bail!(
            "no tokenizer in {}: expected tokenizer.json or vocab.txt",
            dir.display()
        ),
    }
}

/// The tokenizer of a single vocabulary file (`vocab_file`): a `tokenizer.json` loads its folder's
/// tokenizer, anything else is read as a WordPiece `vocab.txt`.
pub fn load_vocab_file(path: &Path, do_lower_case: bool) -> Result<Box<dyn Tokenizer>> {
    if path.file_name().is_some_and(|n| n == "tokenizer.json") {
        return load_dir(path.parent().unwrap_or(Path::new(".")));
    }
    Ok(Box::new(WordPieceTokenizer::from_vocab_file(path, do_lower_case)?))
}
