//! KoBERT's tokenizer (`monologg/kobert`, `monologg/distilkobert`): a SentencePiece Unigram model
//! whose ids come from a separate `vocab.txt`, equal to `kobert_transformers.KoBertTokenizer`
//! (a slow `transformers` tokenizer) on transformers 4.57.
//!
//! `tokenize(text)`: the special tokens (`[UNK] [SEP] [PAD] [CLS] [MASK]`) are cut out of the
//! text first; every other chunk is preprocessed (`" ".join(text.strip().split())`, `` `` `` and
//! `''` become `"`, NFKD with combining marks dropped, lowercased if `do_lower_case`), encoded
//! with [`SentencePiece`] (whose nmt_nfkc normalizer recomposes the Jamo that NFKD made of every
//! Hangul syllable), and a piece ending in digit + `,` is re-encoded without the comma and the
//! comma appended (ALBERT/XLNet's rule). A piece's id is its line in `vocab.txt`, `[UNK]`'s line
//! when absent. Inputs are `[CLS] a [SEP] (b [SEP])` with type ids 0 / 1.
//!
//! Truncation is the slow tokenizer's longest-first: only the longer sequence loses tokens until
//! both are equally long, then both, the first keeping the extra token of an odd budget (the fast
//! tokenizers give it to the longer input). One degenerate case differs: with `max_length` 2 the
//! slow tokenizer gives up and returns the whole single sequence; here it is `[CLS] [SEP]`.
//!
//! Offsets ([`Tokenizer::encode_offsets`]; no Python reference has them for KoBERT): each piece
//! gets sentencepiece's own span (its normalizer alignment: a piece that starts with `▁` for a
//! space covers that space, one that starts with the dummy-prefix `▁` starts at its first char),
//! carried back through the preprocessing to chars of the input: `[first source char, last source
//! char + 1)`. Chars that one input char expands to (NFKD `㈜` → `(주)`) all map to that char, so
//! such pieces share its span. The pieces of a re-encoded `digits,` piece split its span by their
//! lengths, the comma getting the last char.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use unicode_normalization::char::decompose_compatible;

use super::python::{is_py_whitespace, universal_lines};
use super::sentencepiece::{SentencePiece, SpToken};
use super::{Encoded, Loader, Tokenizer};
use crate::limits;

/// The model file name of the KoBERT hub folders (`VOCAB_FILES_NAMES["vocab_file"]`).
pub const MODEL_FILE: &str = "tokenizer_78b3253a26.model";
/// The id file (`VOCAB_FILES_NAMES["vocab_txt"]`).
pub const VOCAB_FILE: &str = "vocab.txt";
const UNK: &str = "[UNK]";
const SEP: &str = "[SEP]";
const PAD: &str = "[PAD]";
const CLS: &str = "[CLS]";
const MASK: &str = "[MASK]";
/// HF's order of special tokens (`SPECIAL_TOKENS_ATTRIBUTES`): missing ones get ids in this order.
const SPECIALS: [&str; 5] = [UNK, SEP, PAD, CLS, MASK];
const SPIECE_UNDERLINE: char = '\u{2581}';
const MODEL_MAX_LENGTH: usize = 512;

/// A folder with `tokenizer_78b3253a26.model`, or another `*.model` (not XLM-R's
/// `sentencepiece.bpe.model`) beside a `vocab.txt`.
pub const LOADER: Loader = Loader {
    name: "kobert",
    applies: |dir| dir.join(MODEL_FILE).is_file() || (dir.join(VOCAB_FILE).is_file() && other_model(dir).is_some()),
    load: |dir| Ok(Box::new(KoBertTokenizer::from_dir(dir)?)),
};

/// The first (by name) `*.model` file of `dir` other than `sentencepiece.bpe.model`.
fn other_model(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "model")
                && p.file_name().is_some_and(|n| n != "sentencepiece.bpe.model")
                && p.is_file()
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// `KoBertTokenizer` equivalent; cheap to share between threads.
#[derive(Debug, Clone)]
pub struct KoBertTokenizer {
    sp: SentencePiece,
    /// `idx2token`: the stripped lines of vocab.txt.
    lines: Vec<String>,
    /// `token2idx` (a repeated token keeps its last line) plus special tokens missing from it.
    ids: HashMap<String, u32>,
    unk: u32,
    sep: u32,
    pad: u32,
    cls: u32,
    do_lower_case: bool,
    remove_space: bool,
    keep_accents: bool,
    vocab_size: usize,
}

/// One token of a chunk: id and char span in the chunk.
type Tok = (i64, (usize, usize));

impl KoBertTokenizer {
    /// Loads `dir`: the model (`tokenizer_78b3253a26.model`, else the folder's `*.model`),
    /// `vocab.txt` and the options of `tokenizer_config.json` (do_lower_case, remove_space,
    /// keep_accents), with KoBertTokenizer's defaults when absent.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let model = if dir.join(MODEL_FILE).is_file() {
            dir.join(MODEL_FILE)
        } else {
            other_model(dir)
                .ok_or_else(|| anyhow!("no sentencepiece model in {}: expected {MODEL_FILE}", dir.display()))?
        };
        let vocab = dir.join(VOCAB_FILE);
        if !vocab.is_file() {
            bail!(
                "{}: missing (KoBERT needs vocab.txt beside {})",
                vocab.display(),
                model.display()
            );
        }
        let config = read_config(dir)?;
        let flag = |key: &str, default: bool| {
            config
                .as_ref()
                .and_then(|c| c.get(key))
                .and_then(Value::as_bool)
                .unwrap_or(default)
        };
        let sp = SentencePiece::from_file(&model)?;
        Self::new(
            sp,
            &vocab,
            flag("do_lower_case", false),
            flag("remove_space", true),
            flag("keep_accents", false),
        )
    }

    /// Builds the tokenizer from a loaded model and a `vocab.txt`.
    pub fn new(
        sp: SentencePiece,
        vocab: &Path,
        do_lower_case: bool,
        remove_space: bool,
        keep_accents: bool,
    ) -> Result<Self> {
        let text = limits::read_text_capped(vocab, limits::VOCAB_BYTES)?;
        // Python text mode: universal newlines; `token.strip()`.
        let lines: Vec<String> = universal_lines(&text)
            .into_iter()
            .map(|l| l.trim_matches(is_py_whitespace).to_owned())
            .collect();
        if lines.len() > limits::VOCAB_TOKENS {
            bail!(
                "{}: {} tokens; more than {} is refused",
                vocab.display(),
                lines.len(),
                limits::VOCAB_TOKENS
            );
        }
        let mut ids = HashMap::with_capacity(lines.len());
        for (i, tok) in lines.iter().enumerate() {
            ids.insert(tok.clone(), u32::try_from(i).context("vocab too large")?);
        }
        for tok in [UNK, SEP, PAD, CLS] {
            if !ids.contains_key(tok) {
                bail!("{}: no {tok} line (KoBERT needs it)", vocab.display());
            }
        }
        // HF adds special tokens missing from the vocab after it, in its attribute order.
        let mut vocab_size = ids.len();
        for tok in SPECIALS {
            if !ids.contains_key(tok) {
                ids.insert(tok.to_owned(), u32::try_from(lines.len().max(vocab_size))?);
                vocab_size += 1;
            }
        }
        let id = |t: &str| ids.get(t).copied().ok_or_else(|| anyhow!("no {t}"));
        Ok(Self {
            unk: id(UNK)?,
            sep: id(SEP)?,
            pad: id(PAD)?,
            cls: id(CLS)?,
            sp,
            lines,
            ids,
            do_lower_case,
            remove_space,
            keep_accents,
            vocab_size,
        })
    }

    /// The sentencepiece model.
    pub fn sentencepiece(&self) -> &SentencePiece {
        &self.sp
    }

    /// `tokenize(text)` as pieces (special tokens as themselves).
    pub fn tokenize(&self, text: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for (chunk, _, special) in split_specials(text) {
            if special {
                out.push(chunk.to_owned());
            } else {
                out.extend(self.chunk_tokens(chunk)?.into_iter().map(|(p, _)| p));
            }
        }
        Ok(out)
    }

    /// Ids and char offsets of `text` without special tokens.
    fn tokens(&self, text: &str) -> Result<Vec<Tok>> {
        let mut out = Vec::new();
        for (chunk, base, special) in split_specials(text) {
            if special {
                let id = self.ids.get(chunk).copied().unwrap_or(self.unk);
                out.push((i64::from(id), (base, base + chunk.chars().count())));
                continue;
            }
            for (piece, (s, e)) in self.chunk_tokens(chunk)? {
                let id = self.ids.get(&piece).copied().unwrap_or(self.unk);
                out.push((i64::from(id), (base + s, base + e)));
            }
        }
        Ok(out)
    }

    /// `_tokenize(chunk)`: pieces with char spans in `chunk`.
    fn chunk_tokens(&self, chunk: &str) -> Result<Vec<(String, (usize, usize))>> {
        let pre = self.preprocess(chunk);
        let text: String = pre.iter().map(|p| p.0).collect();
        // Byte offset in `text` -> char index.
        let mut byte_to_char = vec![0usize; text.len() + 1];
        let mut b = 0;
        for (i, (c, _)) in pre.iter().enumerate() {
            for k in 0..c.len_utf8() {
                byte_to_char[b + k] = i;
            }
            b += c.len_utf8();
        }
        byte_to_char[text.len()] = pre.len();
        let chunk_len = chunk.chars().count();
        // Char range [cb, ce) of the preprocessed text -> chunk char span.
        let span = |cb: usize, ce: usize| -> (usize, usize) {
            let start = pre.get(cb).map_or(chunk_len, |p| p.1);
            let end = if ce > cb { pre[ce - 1].1 + 1 } else { start };
            (start, end.max(start))
        };
        let mut out = Vec::new();
        for SpToken { piece, begin, end, .. } in self.sp.encode(&text)? {
            let (cb, ce) = (byte_to_char[begin], byte_to_char[end]);
            let chars: Vec<char> = piece.chars().collect();
            let n = chars.len();
            if n > 1 && chars[n - 1] == ',' && is_py_digit(chars[n - 2]) {
                let head: String = chars[..n - 1].iter().filter(|&&c| c != SPIECE_UNDERLINE).collect();
                let mut subs = self.sp.encode_as_pieces(&head)?;
                if chars[0] != SPIECE_UNDERLINE {
                    if let Some(first) = subs.first_mut() {
                        if let Some(rest) = first.strip_prefix(SPIECE_UNDERLINE) {
                            if rest.is_empty() {
                                subs.remove(0);
                            } else {
                                *first = rest.to_owned();
                            }
                        }
                    }
                }
                // Spans: the comma gets the last char; the others split the rest by length
                // (not counting `▁` nor the spaces it stands for), else all share it.
                let comma = ce.max(cb + 1) - 1;
                let mut first = cb;
                while first < comma && pre[first].0 == ' ' {
                    first += 1;
                }
                let lens: Vec<usize> = subs
                    .iter()
                    .map(|s| s.chars().filter(|&c| c != SPIECE_UNDERLINE).count())
                    .collect();
                let exact = lens.iter().sum::<usize>() == comma - first;
                let mut at = first;
                for (s, len) in subs.into_iter().zip(lens) {
                    let sp = if exact { span(at, at + len) } else { span(cb, comma) };
                    at += len;
                    out.push((s, sp));
                }
                out.push((",".to_owned(), span(comma, ce)));
            } else {
                out.push((piece, span(cb, ce)));
            }
        }
        Ok(out)
    }

    /// `preprocess_text` with, for each output char, the index of the chunk char it comes from.
    fn preprocess(&self, chunk: &str) -> Vec<(char, usize)> {
        let mut chars: Vec<(char, usize)> = chunk.chars().enumerate().map(|(i, c)| (c, i)).collect();
        if self.remove_space {
            // " ".join(text.strip().split()): a run of whitespace becomes one space (its first char).
            let mut out = Vec::with_capacity(chars.len());
            let mut gap: Option<usize> = None;
            for (c, i) in chars {
                if is_py_whitespace(c) {
                    gap.get_or_insert(i);
                } else {
                    if let Some(g) = gap.take() {
                        if !out.is_empty() {
                            out.push((' ', g));
                        }
                    }
                    out.push((c, i));
                }
            }
            chars = out;
        }
        for q in ['`', '\''] {
            // str.replace("``", '"'), then ("''", '"'): left to right, without overlaps.
            let mut out = Vec::with_capacity(chars.len());
            let mut k = 0;
            while k < chars.len() {
                if chars[k].0 == q && chars.get(k + 1).is_some_and(|n| n.0 == q) {
                    out.push(('"', chars[k].1));
                    k += 2;
                } else {
                    out.push(chars[k]);
                    k += 1;
                }
            }
            chars = out;
        }
        if !self.keep_accents {
            let mut out = Vec::with_capacity(chars.len() * 2);
            for (c, i) in chars {
                if in_ranges(&PY_UNASSIGNED, c as u32) {
                    // Unassigned in Python's Unicode 14: NFKD keeps it.
                    out.push((c, i));
                    continue;
                }
                decompose_compatible(c, |d| {
                    if !in_ranges(&PY_COMBINING, d as u32) {
                        out.push((d, i));
                    }
                });
            }
            chars = out;
        }
        if self.do_lower_case {
            let s: String = chars.iter().map(|p| p.0).collect();
            let lower: Vec<char> = s.to_lowercase().chars().collect();
            // Per char, lowercasing gives as many chars as str::to_lowercase does for it (final
            // sigma included), so the two line up.
            let mut out = Vec::with_capacity(lower.len());
            let mut it = lower.into_iter();
            for (c, i) in chars {
                for _ in c.to_lowercase() {
                    if let Some(l) = it.next() {
                        out.push((l, i));
                    }
                }
            }
            chars = out;
        }
        chars
    }

    /// Ids of `text` without special tokens.
    fn ids_of(&self, text: &str) -> Result<Vec<i64>> {
        Ok(self.tokens(text)?.into_iter().map(|t| t.0).collect())
    }

    /// Longest-first truncation as the slow tokenizer does it, then `[CLS] a [SEP] (b [SEP])`.
    fn assemble(&self, mut a: Vec<i64>, b: Option<Vec<i64>>, max_length: usize) -> Result<Encoded> {
        let (cls, sep) = (i64::from(self.cls), i64::from(self.sep));
        let mut ids = vec![cls];
        let mut type_ids = vec![0];
        match b {
            None => {
                let budget = max_length.saturating_sub(2);
                a.truncate(budget);
                ids.extend(a);
                ids.push(sep);
                type_ids.resize(ids.len(), 0);
            }
            Some(mut b) => {
                let budget = max_length
                    .checked_sub(3)
                    .ok_or_else(|| anyhow!("max_length {max_length} leaves no room for the 3 special tokens"))?;
                super::truncate_pair_slow(&mut a, &mut b, budget);
                ids.extend(a);
                ids.push(sep);
                type_ids.resize(ids.len(), 0);
                ids.extend(b);
                ids.push(sep);
                type_ids.resize(ids.len(), 1);
            }
        }
        Ok(Encoded {
            attention_mask: vec![1; ids.len()],
            ids,
            type_ids,
        })
    }
}

/// Splits `text` on the special tokens (leftmost match; none is a prefix of another):
/// `(chunk, char offset of the chunk, is special)`.
fn split_specials(text: &str) -> Vec<(&str, usize, bool)> {
    let mut out = Vec::new();
    let (mut start, mut start_char) = (0usize, 0usize);
    let mut chars = text.char_indices().enumerate().peekable();
    while let Some((ci, (bi, _))) = chars.next() {
        if bi < start {
            continue;
        }
        let Some(tok) = SPECIALS.iter().find(|t| text[bi..].starts_with(**t)) else {
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

impl Tokenizer for KoBertTokenizer {
    fn piece_style(&self) -> super::PieceStyle {
        super::PieceStyle::SentencePiece
    }

    fn encode(&self, a: &str, b: Option<&str>, max_length: usize) -> Result<Encoded> {
        let ea = self.ids_of(a)?;
        let eb = b.map(|b| self.ids_of(b)).transpose()?;
        self.assemble(ea, eb, max_length)
    }

    /// In parallel over the available cores, keeping the order.
    fn encode_batch(&self, pairs: &[(&str, Option<&str>)], max_length: usize) -> Result<Vec<Encoded>> {
        parallel_map(pairs, |(a, b)| self.encode(a, *b, max_length))
    }

    /// `tokenizer.tokenize(word)` then ids, for each word.
    fn encode_words(&self, words: &[&str]) -> Result<Vec<Vec<i64>>> {
        parallel_map(words, |w| self.ids_of(w))
    }

    fn encode_offsets(&self, text: &str) -> Result<Vec<(i64, (usize, usize))>> {
        self.tokens(text)
    }

    fn id_to_token(&self, id: i64) -> Option<String> {
        let id = u32::try_from(id).ok()?;
        if let Some(line) = self.lines.get(id as usize) {
            return Some(line.clone());
        }
        self.ids.iter().find(|(_, &v)| v == id).map(|(k, _)| k.clone())
    }

    fn cls_id(&self) -> i64 {
        i64::from(self.cls)
    }

    fn sep_id(&self) -> i64 {
        i64::from(self.sep)
    }

    fn pad_id(&self) -> i64 {
        i64::from(self.pad)
    }

    fn unk_id(&self) -> i64 {
        i64::from(self.unk)
    }

    fn do_lower_case(&self) -> bool {
        self.do_lower_case
    }

    fn fingerprint(&self) -> Result<Vec<u8>> {
        let mut h = Sha256::new();
        h.update(self.sp.bytes());
        let model = h.finalize_reset();
        for line in &self.lines {
            h.update(line.as_bytes());
            h.update(b"\n");
        }
        let vocab = h.finalize();
        Ok(format!(
            "kobert\0model={model:x}\0vocab={vocab:x}\0lower={}\0remove_space={}\0keep_accents={}",
            self.do_lower_case, self.remove_space, self.keep_accents
        )
        .into_bytes())
    }

    /// Writes `tokenizer_78b3253a26.model`, `vocab.txt` and `tokenizer_config.json`.
    fn save(&self, dir: &Path) -> Result<()> {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let write = |name: &str, data: &[u8]| {
            let p = dir.join(name);
            fs::write(&p, data).with_context(|| format!("cannot write {}", p.display()))
        };
        write(MODEL_FILE, self.sp.bytes())?;
        let mut vocab = String::new();
        for line in &self.lines {
            vocab.push_str(line);
            vocab.push('\n');
        }
        write(VOCAB_FILE, vocab.as_bytes())?;
        let config = json!({
            "do_lower_case": self.do_lower_case,
            "remove_space": self.remove_space,
            "keep_accents": self.keep_accents,
            "tokenizer_class": "KoBertTokenizer",
            "model_max_length": MODEL_MAX_LENGTH,
            "unk_token": UNK,
            "sep_token": SEP,
            "pad_token": PAD,
            "cls_token": CLS,
            "mask_token": MASK,
        });
        write(
            "tokenizer_config.json",
            (serde_json::to_string_pretty(&config)? + "\n").as_bytes(),
        )
    }

    fn vocab_size(&self) -> usize {
        self.vocab_size
    }
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

/// Parsed `dir/tokenizer_config.json`, if present.
fn read_config(dir: &Path) -> Result<Option<Value>> {
    let path = dir.join("tokenizer_config.json");
    if !path.is_file() {
        return Ok(None);
    }
    let text = limits::read_text_capped(&path, limits::SMALL_JSON_BYTES)?;
    let value = serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))?;
    Ok(Some(value))
}

/// Python's `str.isdigit()` (Unicode 14).
fn is_py_digit(c: char) -> bool {
    c.is_ascii_digit() || (c as u32 >= 0x80 && in_ranges(&PY_DIGIT, c as u32))
}

fn in_ranges(table: &[u32], cp: u32) -> bool {
    // `table` holds inclusive (lo, hi) pairs, sorted and disjoint.
    let (mut lo, mut hi) = (0usize, table.len() / 2);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if table[2 * mid] <= cp {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo > 0 && cp <= table[2 * (lo - 1) + 1]
}

// Generated by scripts/make_sp_fixtures.py --rust-tables (Python unicodedata 14.0.0).
/// Inclusive code-point ranges (lo, hi pairs) where `str.isdigit()` is true.
pub(crate) const PY_DIGIT: [u32; 162] = [
    0x30, 0x39, 0xB2, 0xB3, 0xB9, 0xB9, 0x660, 0x669, 0x6F0, 0x6F9, 0x7C0, 0x7C9, 0x966, 0x96F, 0x9E6, 0x9EF, 0xA66,
    0xA6F, 0xAE6, 0xAEF, 0xB66, 0xB6F, 0xBE6, 0xBEF, 0xC66, 0xC6F, 0xCE6, 0xCEF, 0xD66, 0xD6F, 0xDE6, 0xDEF, 0xE50,
    0xE59, 0xED0, 0xED9, 0xF20, 0xF29, 0x1040, 0x1049, 0x1090, 0x1099, 0x1369, 0x1371, 0x17E0, 0x17E9, 0x1810, 0x1819,
    0x1946, 0x194F, 0x19D0, 0x19DA, 0x1A80, 0x1A89, 0x1A90, 0x1A99, 0x1B50, 0x1B59, 0x1BB0, 0x1BB9, 0x1C40, 0x1C49,
    0x1C50, 0x1C59, 0x2070, 0x2070, 0x2074, 0x2079, 0x2080, 0x2089, 0x2460, 0x2468, 0x2474, 0x247C, 0x2488, 0x2490,
    0x24EA, 0x24EA, 0x24F5, 0x24FD, 0x24FF, 0x24FF, 0x2776, 0x277E, 0x2780, 0x2788, 0x278A, 0x2792, 0xA620, 0xA629,
    0xA8D0, 0xA8D9, 0xA900, 0xA909, 0xA9D0, 0xA9D9, 0xA9F0, 0xA9F9, 0xAA50, 0xAA59, 0xABF0, 0xABF9, 0xFF10, 0xFF19,
    0x104A0, 0x104A9, 0x10A40, 0x10A43, 0x10D30, 0x10D39, 0x10E60, 0x10E68, 0x11052, 0x1105A, 0x11066, 0x1106F,
    0x110F0, 0x110F9, 0x11136, 0x1113F, 0x111D0, 0x111D9, 0x112F0, 0x112F9, 0x11450, 0x11459, 0x114D0, 0x114D9,
    0x11650, 0x11659, 0x116C0, 0x116C9, 0x11730, 0x11739, 0x118E0, 0x118E9, 0x11950, 0x11959, 0x11C50, 0x11C59,
    0x11D50, 0x11D59, 0x11DA0, 0x11DA9, 0x16A60, 0x16A69, 0x16AC0, 0x16AC9, 0x16B50, 0x16B59, 0x1D7CE, 0x1D7FF,
    0x1E140, 0x1E149, 0x1E2F0, 0x1E2F9, 0x1E950, 0x1E959, 0x1F100, 0x1F10A, 0x1FBF0, 0x1FBF9,
];
/// Inclusive code-point ranges where `unicodedata.combining(c) != 0`.
pub(crate) const PY_COMBINING: [u32; 376] = [
    0x300, 0x34E, 0x350, 0x36F, 0x483, 0x487, 0x591, 0x5BD, 0x5BF, 0x5BF, 0x5C1, 0x5C2, 0x5C4, 0x5C5, 0x5C7, 0x5C7,
    0x610, 0x61A, 0x64B, 0x65F, 0x670, 0x670, 0x6D6, 0x6DC, 0x6DF, 0x6E4, 0x6E7, 0x6E8, 0x6EA, 0x6ED, 0x711, 0x711,
    0x730, 0x74A, 0x7EB, 0x7F3, 0x7FD, 0x7FD, 0x816, 0x819, 0x81B, 0x823, 0x825, 0x827, 0x829, 0x82D, 0x859, 0x85B,
    0x898, 0x89F, 0x8CA, 0x8E1, 0x8E3, 0x8FF, 0x93C, 0x93C, 0x94D, 0x94D, 0x951, 0x954, 0x9BC, 0x9BC, 0x9CD, 0x9CD,
    0x9FE, 0x9FE, 0xA3C, 0xA3C, 0xA4D, 0xA4D, 0xABC, 0xABC, 0xACD, 0xACD, 0xB3C, 0xB3C, 0xB4D, 0xB4D, 0xBCD, 0xBCD,
    0xC3C, 0xC3C, 0xC4D, 0xC4D, 0xC55, 0xC56, 0xCBC, 0xCBC, 0xCCD, 0xCCD, 0xD3B, 0xD3C, 0xD4D, 0xD4D, 0xDCA, 0xDCA,
    0xE38, 0xE3A, 0xE48, 0xE4B, 0xEB8, 0xEBA, 0xEC8, 0xECB, 0xF18, 0xF19, 0xF35, 0xF35, 0xF37, 0xF37, 0xF39, 0xF39,
    0xF71, 0xF72, 0xF74, 0xF74, 0xF7A, 0xF7D, 0xF80, 0xF80, 0xF82, 0xF84, 0xF86, 0xF87, 0xFC6, 0xFC6, 0x1037, 0x1037,
    0x1039, 0x103A, 0x108D, 0x108D, 0x135D, 0x135F, 0x1714, 0x1715, 0x1734, 0x1734, 0x17D2, 0x17D2, 0x17DD, 0x17DD,
    0x18A9, 0x18A9, 0x1939, 0x193B, 0x1A17, 0x1A18, 0x1A60, 0x1A60, 0x1A75, 0x1A7C, 0x1A7F, 0x1A7F, 0x1AB0, 0x1ABD,
    0x1ABF, 0x1ACE, 0x1B34, 0x1B34, 0x1B44, 0x1B44, 0x1B6B, 0x1B73, 0x1BAA, 0x1BAB, 0x1BE6, 0x1BE6, 0x1BF2, 0x1BF3,
    0x1C37, 0x1C37, 0x1CD0, 0x1CD2, 0x1CD4, 0x1CE0, 0x1CE2, 0x1CE8, 0x1CED, 0x1CED, 0x1CF4, 0x1CF4, 0x1CF8, 0x1CF9,
    0x1DC0, 0x1DFF, 0x20D0, 0x20DC, 0x20E1, 0x20E1, 0x20E5, 0x20F0, 0x2CEF, 0x2CF1, 0x2D7F, 0x2D7F, 0x2DE0, 0x2DFF,
    0x302A, 0x302F, 0x3099, 0x309A, 0xA66F, 0xA66F, 0xA674, 0xA67D, 0xA69E, 0xA69F, 0xA6F0, 0xA6F1, 0xA806, 0xA806,
    0xA82C, 0xA82C, 0xA8C4, 0xA8C4, 0xA8E0, 0xA8F1, 0xA92B, 0xA92D, 0xA953, 0xA953, 0xA9B3, 0xA9B3, 0xA9C0, 0xA9C0,
    0xAAB0, 0xAAB0, 0xAAB2, 0xAAB4, 0xAAB7, 0xAAB8, 0xAABE, 0xAABF, 0xAAC1, 0xAAC1, 0xAAF6, 0xAAF6, 0xABED, 0xABED,
    0xFB1E, 0xFB1E, 0xFE20, 0xFE2F, 0x101FD, 0x101FD, 0x102E0, 0x102E0, 0x10376, 0x1037A, 0x10A0D, 0x10A0D, 0x10A0F,
    0x10A0F, 0x10A38, 0x10A3A, 0x10A3F, 0x10A3F, 0x10AE5, 0x10AE6, 0x10D24, 0x10D27, 0x10EAB, 0x10EAC, 0x10F46,
    0x10F50, 0x10F82, 0x10F85, 0x11046, 0x11046, 0x11070, 0x11070, 0x1107F, 0x1107F, 0x110B9, 0x110BA, 0x11100,
    0x11102, 0x11133, 0x11134, 0x11173, 0x11173, 0x111C0, 0x111C0, 0x111CA, 0x111CA, 0x11235, 0x11236, 0x112E9,
    0x112EA, 0x1133B, 0x1133C, 0x1134D, 0x1134D, 0x11366, 0x1136C, 0x11370, 0x11374, 0x11442, 0x11442, 0x11446,
    0x11446, 0x1145E, 0x1145E, 0x114C2, 0x114C3, 0x115BF, 0x115C0, 0x1163F, 0x1163F, 0x116B6, 0x116B7, 0x1172B,
    0x1172B, 0x11839, 0x1183A, 0x1193D, 0x1193E, 0x11943, 0x11943, 0x119E0, 0x119E0, 0x11A34, 0x11A34, 0x11A47,
    0x11A47, 0x11A99, 0x11A99, 0x11C3F, 0x11C3F, 0x11D42, 0x11D42, 0x11D44, 0x11D45, 0x11D97, 0x11D97, 0x16AF0,
    0x16AF4, 0x16B30, 0x16B36, 0x16FF0, 0x16FF1, 0x1BC9E, 0x1BC9E, 0x1D165, 0x1D169, 0x1D16D, 0x1D172, 0x1D17B,
    0x1D182, 0x1D185, 0x1D18B, 0x1D1AA, 0x1D1AD, 0x1D242, 0x1D244, 0x1E000, 0x1E006, 0x1E008, 0x1E018, 0x1E01B,
    0x1E021, 0x1E023, 0x1E024, 0x1E026, 0x1E02A, 0x1E130, 0x1E136, 0x1E2AE, 0x1E2AE, 0x1E2EC, 0x1E2EF, 0x1E8D0,
    0x1E8D6, 0x1E944, 0x1E94A,
];
/// Inclusive code-point ranges of general category Cn (NFKD leaves them alone).
pub(crate) const PY_UNASSIGNED: [u32; 1396] = [
    0x378, 0x379, 0x380, 0x383, 0x38B, 0x38B, 0x38D, 0x38D, 0x3A2, 0x3A2, 0x530, 0x530, 0x557, 0x558, 0x58B, 0x58C,
    0x590, 0x590, 0x5C8, 0x5CF, 0x5EB, 0x5EE, 0x5F5, 0x5FF, 0x70E, 0x70E, 0x74B, 0x74C, 0x7B2, 0x7BF, 0x7FB, 0x7FC,
    0x82E, 0x82F, 0x83F, 0x83F, 0x85C, 0x85D, 0x85F, 0x85F, 0x86B, 0x86F, 0x88F, 0x88F, 0x892, 0x897, 0x984, 0x984,
    0x98D, 0x98E, 0x991, 0x992, 0x9A9, 0x9A9, 0x9B1, 0x9B1, 0x9B3, 0x9B5, 0x9BA, 0x9BB, 0x9C5, 0x9C6, 0x9C9, 0x9CA,
    0x9CF, 0x9D6, 0x9D8, 0x9DB, 0x9DE, 0x9DE, 0x9E4, 0x9E5, 0x9FF, 0xA00, 0xA04, 0xA04, 0xA0B, 0xA0E, 0xA11, 0xA12,
    0xA29, 0xA29, 0xA31, 0xA31, 0xA34, 0xA34, 0xA37, 0xA37, 0xA3A, 0xA3B, 0xA3D, 0xA3D, 0xA43, 0xA46, 0xA49, 0xA4A,
    0xA4E, 0xA50, 0xA52, 0xA58, 0xA5D, 0xA5D, 0xA5F, 0xA65, 0xA77, 0xA80, 0xA84, 0xA84, 0xA8E, 0xA8E, 0xA92, 0xA92,
    0xAA9, 0xAA9, 0xAB1, 0xAB1, 0xAB4, 0xAB4, 0xABA, 0xABB, 0xAC6, 0xAC6, 0xACA, 0xACA, 0xACE, 0xACF, 0xAD1, 0xADF,
    0xAE4, 0xAE5, 0xAF2, 0xAF8, 0xB00, 0xB00, 0xB04, 0xB04, 0xB0D, 0xB0E, 0xB11, 0xB12, 0xB29, 0xB29, 0xB31, 0xB31,
    0xB34, 0xB34, 0xB3A, 0xB3B, 0xB45, 0xB46, 0xB49, 0xB4A, 0xB4E, 0xB54, 0xB58, 0xB5B, 0xB5E, 0xB5E, 0xB64, 0xB65,
    0xB78, 0xB81, 0xB84, 0xB84, 0xB8B, 0xB8D, 0xB91, 0xB91, 0xB96, 0xB98, 0xB9B, 0xB9B, 0xB9D, 0xB9D, 0xBA0, 0xBA2,
    0xBA5, 0xBA7, 0xBAB, 0xBAD, 0xBBA, 0xBBD, 0xBC3, 0xBC5, 0xBC9, 0xBC9, 0xBCE, 0xBCF, 0xBD1, 0xBD6, 0xBD8, 0xBE5,
    0xBFB, 0xBFF, 0xC0D, 0xC0D, 0xC11, 0xC11, 0xC29, 0xC29, 0xC3A, 0xC3B, 0xC45, 0xC45, 0xC49, 0xC49, 0xC4E, 0xC54,
    0xC57, 0xC57, 0xC5B, 0xC5C, 0xC5E, 0xC5F, 0xC64, 0xC65, 0xC70, 0xC76, 0xC8D, 0xC8D, 0xC91, 0xC91, 0xCA9, 0xCA9,
    0xCB4, 0xCB4, 0xCBA, 0xCBB, 0xCC5, 0xCC5, 0xCC9, 0xCC9, 0xCCE, 0xCD4, 0xCD7, 0xCDC, 0xCDF, 0xCDF, 0xCE4, 0xCE5,
    0xCF0, 0xCF0, 0xCF3, 0xCFF, 0xD0D, 0xD0D, 0xD11, 0xD11, 0xD45, 0xD45, 0xD49, 0xD49, 0xD50, 0xD53, 0xD64, 0xD65,
    0xD80, 0xD80, 0xD84, 0xD84, 0xD97, 0xD99, 0xDB2, 0xDB2, 0xDBC, 0xDBC, 0xDBE, 0xDBF, 0xDC7, 0xDC9, 0xDCB, 0xDCE,
    0xDD5, 0xDD5, 0xDD7, 0xDD7, 0xDE0, 0xDE5, 0xDF0, 0xDF1, 0xDF5, 0xE00, 0xE3B, 0xE3E, 0xE5C, 0xE80, 0xE83, 0xE83,
    0xE85, 0xE85, 0xE8B, 0xE8B, 0xEA4, 0xEA4, 0xEA6, 0xEA6, 0xEBE, 0xEBF, 0xEC5, 0xEC5, 0xEC7, 0xEC7, 0xECE, 0xECF,
    0xEDA, 0xEDB, 0xEE0, 0xEFF, 0xF48, 0xF48, 0xF6D, 0xF70, 0xF98, 0xF98, 0xFBD, 0xFBD, 0xFCD, 0xFCD, 0xFDB, 0xFFF,
    0x10C6, 0x10C6, 0x10C8, 0x10CC, 0x10CE, 0x10CF, 0x1249, 0x1249, 0x124E, 0x124F, 0x1257, 0x1257, 0x1259, 0x1259,
    0x125E, 0x125F, 0x1289, 0x1289, 0x128E, 0x128F, 0x12B1, 0x12B1, 0x12B6, 0x12B7, 0x12BF, 0x12BF, 0x12C1, 0x12C1,
    0x12C6, 0x12C7, 0x12D7, 0x12D7, 0x1311, 0x1311, 0x1316, 0x1317, 0x135B, 0x135C, 0x137D, 0x137F, 0x139A, 0x139F,
    0x13F6, 0x13F7, 0x13FE, 0x13FF, 0x169D, 0x169F, 0x16F9, 0x16FF, 0x1716, 0x171E, 0x1737, 0x173F, 0x1754, 0x175F,
    0x176D, 0x176D, 0x1771, 0x1771, 0x1774, 0x177F, 0x17DE, 0x17DF, 0x17EA, 0x17EF, 0x17FA, 0x17FF, 0x181A, 0x181F,
    0x1879, 0x187F, 0x18AB, 0x18AF, 0x18F6, 0x18FF, 0x191F, 0x191F, 0x192C, 0x192F, 0x193C, 0x193F, 0x1941, 0x1943,
    0x196E, 0x196F, 0x1975, 0x197F, 0x19AC, 0x19AF, 0x19CA, 0x19CF, 0x19DB, 0x19DD, 0x1A1C, 0x1A1D, 0x1A5F, 0x1A5F,
    0x1A7D, 0x1A7E, 0x1A8A, 0x1A8F, 0x1A9A, 0x1A9F, 0x1AAE, 0x1AAF, 0x1ACF, 0x1AFF, 0x1B4D, 0x1B4F, 0x1B7F, 0x1B7F,
    0x1BF4, 0x1BFB, 0x1C38, 0x1C3A, 0x1C4A, 0x1C4C, 0x1C89, 0x1C8F, 0x1CBB, 0x1CBC, 0x1CC8, 0x1CCF, 0x1CFB, 0x1CFF,
    0x1F16, 0x1F17, 0x1F1E, 0x1F1F, 0x1F46, 0x1F47, 0x1F4E, 0x1F4F, 0x1F58, 0x1F58, 0x1F5A, 0x1F5A, 0x1F5C, 0x1F5C,
    0x1F5E, 0x1F5E, 0x1F7E, 0x1F7F, 0x1FB5, 0x1FB5, 0x1FC5, 0x1FC5, 0x1FD4, 0x1FD5, 0x1FDC, 0x1FDC, 0x1FF0, 0x1FF1,
    0x1FF5, 0x1FF5, 0x1FFF, 0x1FFF, 0x2065, 0x2065, 0x2072, 0x2073, 0x208F, 0x208F, 0x209D, 0x209F, 0x20C1, 0x20CF,
    0x20F1, 0x20FF, 0x218C, 0x218F, 0x2427, 0x243F, 0x244B, 0x245F, 0x2B74, 0x2B75, 0x2B96, 0x2B96, 0x2CF4, 0x2CF8,
    0x2D26, 0x2D26, 0x2D28, 0x2D2C, 0x2D2E, 0x2D2F, 0x2D68, 0x2D6E, 0x2D71, 0x2D7E, 0x2D97, 0x2D9F, 0x2DA7, 0x2DA7,
    0x2DAF, 0x2DAF, 0x2DB7, 0x2DB7, 0x2DBF, 0x2DBF, 0x2DC7, 0x2DC7, 0x2DCF, 0x2DCF, 0x2DD7, 0x2DD7, 0x2DDF, 0x2DDF,
    0x2E5E, 0x2E7F, 0x2E9A, 0x2E9A, 0x2EF4, 0x2EFF, 0x2FD6, 0x2FEF, 0x2FFC, 0x2FFF, 0x3040, 0x3040, 0x3097, 0x3098,
    0x3100, 0x3104, 0x3130, 0x3130, 0x318F, 0x318F, 0x31E4, 0x31EF, 0x321F, 0x321F, 0xA48D, 0xA48F, 0xA4C7, 0xA4CF,
    0xA62C, 0xA63F, 0xA6F8, 0xA6FF, 0xA7CB, 0xA7CF, 0xA7D2, 0xA7D2, 0xA7D4, 0xA7D4, 0xA7DA, 0xA7F1, 0xA82D, 0xA82F,
    0xA83A, 0xA83F, 0xA878, 0xA87F, 0xA8C6, 0xA8CD, 0xA8DA, 0xA8DF, 0xA954, 0xA95E, 0xA97D, 0xA97F, 0xA9CE, 0xA9CE,
    0xA9DA, 0xA9DD, 0xA9FF, 0xA9FF, 0xAA37, 0xAA3F, 0xAA4E, 0xAA4F, 0xAA5A, 0xAA5B, 0xAAC3, 0xAADA, 0xAAF7, 0xAB00,
    0xAB07, 0xAB08, 0xAB0F, 0xAB10, 0xAB17, 0xAB1F, 0xAB27, 0xAB27, 0xAB2F, 0xAB2F, 0xAB6C, 0xAB6F, 0xABEE, 0xABEF,
    0xABFA, 0xABFF, 0xD7A4, 0xD7AF, 0xD7C7, 0xD7CA, 0xD7FC, 0xD7FF, 0xFA6E, 0xFA6F, 0xFADA, 0xFAFF, 0xFB07, 0xFB12,
    0xFB18, 0xFB1C, 0xFB37, 0xFB37, 0xFB3D, 0xFB3D, 0xFB3F, 0xFB3F, 0xFB42, 0xFB42, 0xFB45, 0xFB45, 0xFBC3, 0xFBD2,
    0xFD90, 0xFD91, 0xFDC8, 0xFDCE, 0xFDD0, 0xFDEF, 0xFE1A, 0xFE1F, 0xFE53, 0xFE53, 0xFE67, 0xFE67, 0xFE6C, 0xFE6F,
    0xFE75, 0xFE75, 0xFEFD, 0xFEFE, 0xFF00, 0xFF00, 0xFFBF, 0xFFC1, 0xFFC8, 0xFFC9, 0xFFD0, 0xFFD1, 0xFFD8, 0xFFD9,
    0xFFDD, 0xFFDF, 0xFFE7, 0xFFE7, 0xFFEF, 0xFFF8, 0xFFFE, 0xFFFF, 0x1000C, 0x1000C, 0x10027, 0x10027, 0x1003B,
    0x1003B, 0x1003E, 0x1003E, 0x1004E, 0x1004F, 0x1005E, 0x1007F, 0x100FB, 0x100FF, 0x10103, 0x10106, 0x10134,
    0x10136, 0x1018F, 0x1018F, 0x1019D, 0x1019F, 0x101A1, 0x101CF, 0x101FE, 0x1027F, 0x1029D, 0x1029F, 0x102D1,
    0x102DF, 0x102FC, 0x102FF, 0x10324, 0x1032C, 0x1034B, 0x1034F, 0x1037B, 0x1037F, 0x1039E, 0x1039E, 0x103C4,
    0x103C7, 0x103D6, 0x103FF, 0x1049E, 0x1049F, 0x104AA, 0x104AF, 0x104D4, 0x104D7, 0x104FC, 0x104FF, 0x10528,
    0x1052F, 0x10564, 0x1056E, 0x1057B, 0x1057B, 0x1058B, 0x1058B, 0x10593, 0x10593, 0x10596, 0x10596, 0x105A2,
    0x105A2, 0x105B2, 0x105B2, 0x105BA, 0x105BA, 0x105BD, 0x105FF, 0x10737, 0x1073F, 0x10756, 0x1075F, 0x10768,
    0x1077F, 0x10786, 0x10786, 0x107B1, 0x107B1, 0x107BB, 0x107FF, 0x10806, 0x10807, 0x10809, 0x10809, 0x10836,
    0x10836, 0x10839, 0x1083B, 0x1083D, 0x1083E, 0x10856, 0x10856, 0x1089F, 0x108A6, 0x108B0, 0x108DF, 0x108F3,
    0x108F3, 0x108F6, 0x108FA, 0x1091C, 0x1091E, 0x1093A, 0x1093E, 0x10940, 0x1097F, 0x109B8, 0x109BB, 0x109D0,
    0x109D1, 0x10A04, 0x10A04, 0x10A07, 0x10A0B, 0x10A14, 0x10A14, 0x10A18, 0x10A18, 0x10A36, 0x10A37, 0x10A3B,
    0x10A3E, 0x10A49, 0x10A4F, 0x10A59, 0x10A5F, 0x10AA0, 0x10ABF, 0x10AE7, 0x10AEA, 0x10AF7, 0x10AFF, 0x10B36,
    0x10B38, 0x10B56, 0x10B57, 0x10B73, 0x10B77, 0x10B92, 0x10B98, 0x10B9D, 0x10BA8, 0x10BB0, 0x10BFF, 0x10C49,
    0x10C7F, 0x10CB3, 0x10CBF, 0x10CF3, 0x10CF9, 0x10D28, 0x10D2F, 0x10D3A, 0x10E5F, 0x10E7F, 0x10E7F, 0x10EAA,
    0x10EAA, 0x10EAE, 0x10EAF, 0x10EB2, 0x10EFF, 0x10F28, 0x10F2F, 0x10F5A, 0x10F6F, 0x10F8A, 0x10FAF, 0x10FCC,
    0x10FDF, 0x10FF7, 0x10FFF, 0x1104E, 0x11051, 0x11076, 0x1107E, 0x110C3, 0x110CC, 0x110CE, 0x110CF, 0x110E9,
    0x110EF, 0x110FA, 0x110FF, 0x11135, 0x11135, 0x11148, 0x1114F, 0x11177, 0x1117F, 0x111E0, 0x111E0, 0x111F5,
    0x111FF, 0x11212, 0x11212, 0x1123F, 0x1127F, 0x11287, 0x11287, 0x11289, 0x11289, 0x1128E, 0x1128E, 0x1129E,
    0x1129E, 0x112AA, 0x112AF, 0x112EB, 0x112EF, 0x112FA, 0x112FF, 0x11304, 0x11304, 0x1130D, 0x1130E, 0x11311,
    0x11312, 0x11329, 0x11329, 0x11331, 0x11331, 0x11334, 0x11334, 0x1133A, 0x1133A, 0x11345, 0x11346, 0x11349,
    0x1134A, 0x1134E, 0x1134F, 0x11351, 0x11356, 0x11358, 0x1135C, 0x11364, 0x11365, 0x1136D, 0x1136F, 0x11375,
    0x113FF, 0x1145C, 0x1145C, 0x11462, 0x1147F, 0x114C8, 0x114CF, 0x114DA, 0x1157F, 0x115B6, 0x115B7, 0x115DE,
    0x115FF, 0x11645, 0x1164F, 0x1165A, 0x1165F, 0x1166D, 0x1167F, 0x116BA, 0x116BF, 0x116CA, 0x116FF, 0x1171B,
    0x1171C, 0x1172C, 0x1172F, 0x11747, 0x117FF, 0x1183C, 0x1189F, 0x118F3, 0x118FE, 0x11907, 0x11908, 0x1190A,
    0x1190B, 0x11914, 0x11914, 0x11917, 0x11917, 0x11936, 0x11936, 0x11939, 0x1193A, 0x11947, 0x1194F, 0x1195A,
    0x1199F, 0x119A8, 0x119A9, 0x119D8, 0x119D9, 0x119E5, 0x119FF, 0x11A48, 0x11A4F, 0x11AA3, 0x11AAF, 0x11AF9,
    0x11BFF, 0x11C09, 0x11C09, 0x11C37, 0x11C37, 0x11C46, 0x11C4F, 0x11C6D, 0x11C6F, 0x11C90, 0x11C91, 0x11CA8,
    0x11CA8, 0x11CB7, 0x11CFF, 0x11D07, 0x11D07, 0x11D0A, 0x11D0A, 0x11D37, 0x11D39, 0x11D3B, 0x11D3B, 0x11D3E,
    0x11D3E, 0x11D48, 0x11D4F, 0x11D5A, 0x11D5F, 0x11D66, 0x11D66, 0x11D69, 0x11D69, 0x11D8F, 0x11D8F, 0x11D92,
    0x11D92, 0x11D99, 0x11D9F, 0x11DAA, 0x11EDF, 0x11EF9, 0x11FAF, 0x11FB1, 0x11FBF, 0x11FF2, 0x11FFE, 0x1239A,
    0x123FF, 0x1246F, 0x1246F, 0x12475, 0x1247F, 0x12544, 0x12F8F, 0x12FF3, 0x12FFF, 0x1342F, 0x1342F, 0x13439,
    0x143FF, 0x14647, 0x167FF, 0x16A39, 0x16A3F, 0x16A5F, 0x16A5F, 0x16A6A, 0x16A6D, 0x16ABF, 0x16ABF, 0x16ACA,
    0x16ACF, 0x16AEE, 0x16AEF, 0x16AF6, 0x16AFF, 0x16B46, 0x16B4F, 0x16B5A, 0x16B5A, 0x16B62, 0x16B62, 0x16B78,
    0x16B7C, 0x16B90, 0x16E3F, 0x16E9B, 0x16EFF, 0x16F4B, 0x16F4E, 0x16F88, 0x16F8E, 0x16FA0, 0x16FDF, 0x16FE5,
    0x16FEF, 0x16FF2, 0x16FFF, 0x187F8, 0x187FF, 0x18CD6, 0x18CFF, 0x18D09, 0x1AFEF, 0x1AFF4, 0x1AFF4, 0x1AFFC,
    0x1AFFC, 0x1AFFF, 0x1AFFF, 0x1B123, 0x1B14F, 0x1B153, 0x1B163, 0x1B168, 0x1B16F, 0x1B2FC, 0x1BBFF, 0x1BC6B,
    0x1BC6F, 0x1BC7D, 0x1BC7F, 0x1BC89, 0x1BC8F, 0x1BC9A, 0x1BC9B, 0x1BCA4, 0x1CEFF, 0x1CF2E, 0x1CF2F, 0x1CF47,
    0x1CF4F, 0x1CFC4, 0x1CFFF, 0x1D0F6, 0x1D0FF, 0x1D127, 0x1D128, 0x1D1EB, 0x1D1FF, 0x1D246, 0x1D2DF, 0x1D2F4,
    0x1D2FF, 0x1D357, 0x1D35F, 0x1D379, 0x1D3FF, 0x1D455, 0x1D455, 0x1D49D, 0x1D49D, 0x1D4A0, 0x1D4A1, 0x1D4A3,
    0x1D4A4, 0x1D4A7, 0x1D4A8, 0x1D4AD, 0x1D4AD, 0x1D4BA, 0x1D4BA, 0x1D4BC, 0x1D4BC, 0x1D4C4, 0x1D4C4, 0x1D506,
    0x1D506, 0x1D50B, 0x1D50C, 0x1D515, 0x1D515, 0x1D51D, 0x1D51D, 0x1D53A, 0x1D53A, 0x1D53F, 0x1D53F, 0x1D545,
    0x1D545, 0x1D547, 0x1D549, 0x1D551, 0x1D551, 0x1D6A6, 0x1D6A7, 0x1D7CC, 0x1D7CD, 0x1DA8C, 0x1DA9A, 0x1DAA0,
    0x1DAA0, 0x1DAB0, 0x1DEFF, 0x1DF1F, 0x1DFFF, 0x1E007, 0x1E007, 0x1E019, 0x1E01A, 0x1E022, 0x1E022, 0x1E025,
    0x1E025, 0x1E02B, 0x1E0FF, 0x1E12D, 0x1E12F, 0x1E13E, 0x1E13F, 0x1E14A, 0x1E14D, 0x1E150, 0x1E28F, 0x1E2AF,
    0x1E2BF, 0x1E2FA, 0x1E2FE, 0x1E300, 0x1E7DF, 0x1E7E7, 0x1E7E7, 0x1E7EC, 0x1E7EC, 0x1E7EF, 0x1E7EF, 0x1E7FF,
    0x1E7FF, 0x1E8C5, 0x1E8C6, 0x1E8D7, 0x1E8FF, 0x1E94C, 0x1E94F, 0x1E95A, 0x1E95D, 0x1E960, 0x1EC70, 0x1ECB5,
    0x1ED00, 0x1ED3E, 0x1EDFF, 0x1EE04, 0x1EE04, 0x1EE20, 0x1EE20, 0x1EE23, 0x1EE23, 0x1EE25, 0x1EE26, 0x1EE28,
    0x1EE28, 0x1EE33, 0x1EE33, 0x1EE38, 0x1EE38, 0x1EE3A, 0x1EE3A, 0x1EE3C, 0x1EE41, 0x1EE43, 0x1EE46, 0x1EE48,
    0x1EE48, 0x1EE4A, 0x1EE4A, 0x1EE4C, 0x1EE4C, 0x1EE50, 0x1EE50, 0x1EE53, 0x1EE53, 0x1EE55, 0x1EE56, 0x1EE58,
    0x1EE58, 0x1EE5A, 0x1EE5A, 0x1EE5C, 0x1EE5C, 0x1EE5E, 0x1EE5E, 0x1EE60, 0x1EE60, 0x1EE63, 0x1EE63, 0x1EE65,
    0x1EE66, 0x1EE6B, 0x1EE6B, 0x1EE73, 0x1EE73, 0x1EE78, 0x1EE78, 0x1EE7D, 0x1EE7D, 0x1EE7F, 0x1EE7F, 0x1EE8A,
    0x1EE8A, 0x1EE9C, 0x1EEA0, 0x1EEA4, 0x1EEA4, 0x1EEAA, 0x1EEAA, 0x1EEBC, 0x1EEEF, 0x1EEF2, 0x1EFFF, 0x1F02C,
    0x1F02F, 0x1F094, 0x1F09F, 0x1F0AF, 0x1F0B0, 0x1F0C0, 0x1F0C0, 0x1F0D0, 0x1F0D0, 0x1F0F6, 0x1F0FF, 0x1F1AE,
    0x1F1E5, 0x1F203, 0x1F20F, 0x1F23C, 0x1F23F, 0x1F249, 0x1F24F, 0x1F252, 0x1F25F, 0x1F266, 0x1F2FF, 0x1F6D8,
    0x1F6DC, 0x1F6ED, 0x1F6EF, 0x1F6FD, 0x1F6FF, 0x1F774, 0x1F77F, 0x1F7D9, 0x1F7DF, 0x1F7EC, 0x1F7EF, 0x1F7F1,
    0x1F7FF, 0x1F80C, 0x1F80F, 0x1F848, 0x1F84F, 0x1F85A, 0x1F85F, 0x1F888, 0x1F88F, 0x1F8AE, 0x1F8AF, 0x1F8B2,
    0x1F8FF, 0x1FA54, 0x1FA5F, 0x1FA6E, 0x1FA6F, 0x1FA75, 0x1FA77, 0x1FA7D, 0x1FA7F, 0x1FA87, 0x1FA8F, 0x1FAAD,
    0x1FAAF, 0x1FABB, 0x1FABF, 0x1FAC6, 0x1FACF, 0x1FADA, 0x1FADF, 0x1FAE8, 0x1FAEF, 0x1FAF7, 0x1FAFF, 0x1FB93,
    0x1FB93, 0x1FBCB, 0x1FBEF, 0x1FBFA, 0x1FFFF, 0x2A6E0, 0x2A6FF, 0x2B739, 0x2B73F, 0x2B81E, 0x2B81F, 0x2CEA2,
    0x2CEAF, 0x2EBE1, 0x2F7FF, 0x2FA1E, 0x2FFFF, 0x3134B, 0xE0000, 0xE0002, 0xE001F, 0xE0080, 0xE00FF, 0xE01F0,
    0xEFFFF, 0xFFFFE, 0xFFFFF, 0x10FFFE, 0x10FFFF,
];
