//! Text: the tokenizer seam, its implementations, and Python's string rules.
//!
//! A [`Tokenizer`] turns a text or a text pair into ids with the model family's special tokens, and
//! single words into ids without them (NER words, SQuAD doc words). WordPiece (KoELECTRA) is the
//! first implementation; a family with another scheme (SentencePiece) adds a file and a line in
//! [`LOADERS`].
pub mod basic_tokenizer;
pub mod kobert;
pub mod python;
pub mod sentencepiece;
pub mod unicode;
pub mod unicode_tables;
pub mod wordpiece;
pub mod xlmr;
pub mod xlmr_slow;

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;

pub use kobert::KoBertTokenizer;
pub use wordpiece::WordPieceTokenizer;
pub use xlmr::XlmRobertaTokenizer;
pub use xlmr_slow::XlmRobertaSlowTokenizer;

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

/// The ids of a tokenizer's special tokens: `[CLS]`/`<s>`, `[SEP]`/`</s>`, `[PAD]`/`<pad>` and
/// `[UNK]`/`<unk>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecialIds {
    pub cls: u32,
    pub sep: u32,
    pub pad: u32,
    pub unk: u32,
}

/// What the pipeline needs from a tokenizer. Implementations are cheap to share between threads.
pub trait Tokenizer: Send + Sync {
    /// `A` or the pair `(A, B)` with special tokens, longest-first truncated to `max_length`.
    fn encode(&self, a: &str, b: Option<&str>, max_length: usize) -> Result<Encoded>;
    /// Many inputs, in order: [`Tokenizer::encode`] on each, in parallel over the available cores.
    fn encode_batch(&self, pairs: &[(&str, Option<&str>)], max_length: usize) -> Result<Vec<Encoded>> {
        parallel_map(pairs, |(a, b)| self.encode(a, *b, max_length))
    }
    /// The ids of each word tokenized on its own, without special tokens (may be empty).
    fn encode_words(&self, words: &[&str]) -> Result<Vec<Vec<i64>>>;
    /// The ids of `text` without special tokens, each with its char offsets `[start, end)`.
    fn encode_offsets(&self, text: &str) -> Result<Vec<(i64, (usize, usize))>>;
    /// The vocabulary string of an id.
    fn id_to_token(&self, id: i64) -> Option<String>;
    /// The ids of the special tokens.
    fn special_ids(&self) -> SpecialIds;
    /// Id of the sequence-start token (`[CLS]`).
    fn cls_id(&self) -> i64 {
        i64::from(self.special_ids().cls)
    }
    /// Id of the separator (`[SEP]`).
    fn sep_id(&self) -> i64 {
        i64::from(self.special_ids().sep)
    }
    /// Id of the padding token (`[PAD]`).
    fn pad_id(&self) -> i64 {
        i64::from(self.special_ids().pad)
    }
    /// Id of the unknown-word token (`[UNK]`).
    fn unk_id(&self) -> i64 {
        i64::from(self.special_ids().unk)
    }
    /// Whether input is lowercased before tokenization.
    fn do_lower_case(&self) -> bool;
    /// Everything that decides the ids, as bytes (feature-cache keys).
    fn fingerprint(&self) -> Result<Vec<u8>>;
    /// Writes the tokenizer files into a checkpoint folder.
    fn save(&self, dir: &Path) -> Result<()>;
    /// One more than the largest id it can produce (HF `len(tokenizer)` unless a vocab line repeats).
    fn vocab_size(&self) -> usize;
    /// Separator tokens between the two sequences of a pair: 1 for BERT's `[CLS] a [SEP] b [SEP]`,
    /// 2 for XLM-R's `<s> a </s></s> b </s>` (SQuAD's document offset depends on it).
    fn pair_separators(&self) -> usize {
        1
    }
    /// How its tokens join back into text (SQuAD's answer text).
    fn piece_style(&self) -> PieceStyle {
        PieceStyle::WordPiece
    }
}

/// How a tokenizer's token strings join back into text: its HF `convert_tokens_to_string`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceStyle {
    /// BERT/ELECTRA: joined with spaces, `##` continuations glued (`" ##"` removed), stripped.
    WordPiece,
    /// SentencePiece (KoBERT, XLM-R): concatenated, `▁` turned into a space, stripped.
    SentencePiece,
}

impl PieceStyle {
    pub fn tokens_to_string(self, tokens: &[String]) -> String {
        match self {
            Self::WordPiece => tokens.join(" ").replace(" ##", "").trim().to_string(),
            Self::SentencePiece => tokens.concat().replace('\u{2581}', " ").trim().to_string(),
        }
    }
}

/// A way to load a tokenizer from a model folder: used when `applies` finds its files there.
pub struct Loader {
    pub name: &'static str,
    pub applies: fn(&Path) -> bool,
    pub load: fn(&Path) -> Result<Box<dyn Tokenizer>>,
}

/// The tokenizer kinds, tried in order (the first whose `applies` finds its files loads the folder).
/// Register a new kind here. KoBERT (`*.model` + `vocab.txt`) and XLM-R (`sentencepiece.bpe.model`, or
/// a Unigram `tokenizer.json`) come before WordPiece, which takes any `vocab.txt` or `tokenizer.json`.
pub const LOADERS: &[Loader] = &[kobert::LOADER, xlmr::LOADER, wordpiece::LOADER];

/// The tokenizer of a model folder (`tokenizer.json`, `vocab.txt`, ...).
pub fn load_dir(dir: &Path) -> Result<Box<dyn Tokenizer>> {
    match LOADERS.iter().find(|l| (l.applies)(dir)) {
        Some(loader) => (loader.load)(dir),
        None => bail!(
            "no tokenizer in {}: expected tokenizer.json, vocab.txt or a sentencepiece *.model",
            dir.display()
        ),
    }
}

/// XLM-R's slow tokenizer (config key `xlmr_slow_tokenizer`) of a model folder; another family's
/// folder is refused, naming the key.
pub fn load_dir_xlmr_slow(dir: &Path) -> Result<Box<dyn Tokenizer>> {
    match LOADERS.iter().find(|l| (l.applies)(dir)) {
        Some(loader) if loader.name == xlmr::LOADER.name => Ok(Box::new(XlmRobertaSlowTokenizer::from_dir(dir)?)),
        Some(loader) => bail!(
            "config key \"xlmr_slow_tokenizer\" is only for XLM-R, but {} holds a {} tokenizer",
            dir.display(),
            loader.name
        ),
        None => bail!(
            "no XLM-R tokenizer in {}: config key \"xlmr_slow_tokenizer\" needs {}",
            dir.display(),
            xlmr::MODEL_FILE
        ),
    }
}

/// Splits `text` on `tokens` (leftmost match; none may be a prefix of another), as the slow
/// tokenizers' `tokens_trie.split` does: `(chunk, char offset of the chunk, is a token)`.
pub(crate) fn split_on_tokens<'a>(text: &'a str, tokens: &[&'static str]) -> Vec<(&'a str, usize, bool)> {
    let mut out = Vec::new();
    let (mut start, mut start_char) = (0usize, 0usize);
    let mut chars = text.char_indices().enumerate().peekable();
    while let Some((ci, (bi, _))) = chars.next() {
        if bi < start {
            continue;
        }
        let Some(tok) = tokens.iter().find(|t| text[bi..].starts_with(**t)) else {
            continue;
        };
        if bi > start {
            out.push((&text[start..bi], start_char, false));
        }
        out.push((*tok, ci, true));
        start = bi + tok.len();
        start_char = ci + tok.chars().count();
        while chars.peek().is_some_and(|(_, (b, _))| *b < start) {
            chars.next();
        }
    }
    if start < text.len() {
        out.push((&text[start..], start_char, false));
    }
    out
}

/// Longest-first truncation of a pair to `budget` tokens as transformers' slow tokenizers do it
/// (`truncate_sequences`): the longer input alone loses tokens until both are equally long, then
/// both lose the rest evenly, the first keeping the extra token of an odd count (the fast
/// tokenizers give it to the longer input).
pub(crate) fn truncate_pair_slow<T>(a: &mut Vec<T>, b: &mut Vec<T>, budget: usize) {
    let (n1, n2) = (a.len(), b.len());
    if n1 + n2 <= budget {
        return;
    }
    let remove = n1 + n2 - budget;
    let first = n1.abs_diff(n2).min(remove);
    let second = remove - first;
    let (ra, rb) = if n1 > n2 {
        (first + second / 2, second - second / 2)
    } else {
        (second / 2, first + second - second / 2)
    };
    a.truncate(n1.saturating_sub(ra));
    b.truncate(n2.saturating_sub(rb));
}

/// The tokenizer of a single vocabulary file (`vocab_file`): a `tokenizer.json` loads its folder's
/// tokenizer, anything else is read as a WordPiece `vocab.txt`.
pub fn load_vocab_file(path: &Path, do_lower_case: bool) -> Result<Box<dyn Tokenizer>> {
    if path.file_name().is_some_and(|n| n == "tokenizer.json") {
        return load_dir(path.parent().unwrap_or(Path::new(".")));
    }
    Ok(Box::new(WordPieceTokenizer::from_vocab_file(path, do_lower_case)?))
}

/// `f` over `items` on the available cores, in order; the first error wins.
pub(crate) fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> Result<R> + Sync) -> Result<Vec<R>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || items.len() < 64 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let parts: Vec<Result<Vec<R>>> = std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(|| part.iter().map(&f).collect::<Result<Vec<R>>>()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow!("a tokenizer thread panicked"))))
            .collect()
    });
    let mut out = Vec::with_capacity(items.len());
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

/// Parsed `dir/tokenizer_config.json`, if the file exists.
pub(crate) fn read_tokenizer_config(dir: &Path) -> Result<Option<Value>> {
    let path = dir.join("tokenizer_config.json");
    if !path.is_file() {
        return Ok(None);
    }
    let text = crate::limits::read_text_capped(&path, crate::limits::SMALL_JSON_BYTES)?;
    let value = serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))?;
    Ok(Some(value))
}
