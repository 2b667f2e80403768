//! XLM-R's slow tokenizer (config key `xlmr_slow_tokenizer`), equal to transformers 4.57's
//! `XLMRobertaTokenizer`, which the reference scripts used.
//!
//! `tokenize(text)` (`PreTrainedTokenizer.tokenize`): the added tokens `<s> <pad> </s> <unk>
//! <mask>` are cut out of the text first (leftmost match; none is a prefix of another), and
//! `<mask>`, an `AddedToken` with `lstrip=True`, right-strips the text before it (Python
//! `str.rstrip`); no other whitespace is touched. Every other chunk is `sp_model.encode(chunk,
//! out_type=str)` with [`SentencePiece`], which equals the sentencepiece library: its
//! precompiled charsmap matches across grapheme boundaries (`ㅋㅠ` → `큐`, NFD Hangul recomposed),
//! equal-score segmentations resolve as sentencepiece resolves them, and a run of unknown chars is
//! one piece. That is where this differs from [`super::XlmRobertaTokenizer`] (the fast one's
//! `tokenizers` normalizer works per grapheme and its Viterbi breaks ties the other way).
//!
//! Ids are fairseq's (`_convert_token_to_id`): `<s>`=0 `<pad>`=1 `</s>`=2 `<unk>`=3, `<mask>` =
//! `len(sp) + 1`, any other piece its sentencepiece id + 1, and sentencepiece id 0 (its unknown
//! piece) `<unk>`. Inputs are `<s> a </s>` / `<s> a </s></s> b </s>`, type ids all 0. Truncation is
//! the slow longest-first rule ([`super::truncate_pair_slow`]: the first input keeps the extra
//! token of an odd budget) within `max_length − 2` (single) or `max_length − 4` (pair). As for
//! KoBERT, the degenerate cases differ: a single input with `max_length` ≤ 2 is `<s> </s>` here,
//! where the slow tokenizer gives up and returns it untruncated, and a pair with `max_length` < 4
//! is an error here (the slow tokenizer returns the four special tokens alone).
//!
//! Offsets ([`Tokenizer::encode_offsets`]; the slow tokenizer has none): each piece gets
//! sentencepiece's own span (a piece starting with `▁` for a space covers that space), in chars of
//! the input; the special tokens their own text.
//!
//! The slow tokenizer is sentencepiece on `sentencepiece.bpe.model`, so a folder without that file
//! is refused: a `tokenizer.json` alone defines only the fast tokenizer (`XLMRobertaTokenizer`
//! cannot load it either). `save` writes what the fast tokenizer of the same folder writes
//! (`tokenizer.json`, `sentencepiece.bpe.model`, configs), so `AutoTokenizer` still loads a
//! checkpoint; the run's `training_args.json` records the key, and `predict` follows it.

use std::path::Path;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use super::parallel_map;
use super::python::is_py_whitespace;
use super::sentencepiece::SentencePiece;
use super::xlmr::MODEL_FILE;
use super::{split_on_tokens, truncate_pair_slow, Encoded, PieceStyle, SpecialIds, Tokenizer, XlmRobertaTokenizer};

const BOS: &str = "<s>";
const PAD: &str = "<pad>";
const EOS: &str = "</s>";
const UNK: &str = "<unk>";
const MASK: &str = "<mask>";
/// `fairseq_tokens_to_ids` without `<mask>` (whose id depends on the model).
const FAIRSEQ: [(&str, i64); 4] = [(BOS, 0), (PAD, 1), (EOS, 2), (UNK, 3)];
const BOS_ID: i64 = 0;
const EOS_ID: i64 = 2;
const PAD_ID: i64 = 1;
const UNK_ID: i64 = 3;
/// fairseq ids are sentencepiece ids shifted by one (`fairseq_offset`).
const FAIRSEQ_OFFSET: i64 = 1;

/// One token: id and `[start, end)` char span in the input.
type Tok = (i64, (usize, usize));

/// `XLMRobertaTokenizer` equivalent; cheap to share between threads.
#[derive(Debug, Clone)]
pub struct XlmRobertaSlowTokenizer {
    sp: SentencePiece,
    /// The fast tokenizer of the same folder: what `save` writes, so checkpoints keep HF's layout.
    files: XlmRobertaTokenizer,
    mask: i64,
}

/// A part of the input once the added tokens are cut out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Chunk<'a> {
    text: &'a str,
    /// Char offset of `text` in the input.
    start: usize,
    /// Whether `text` is one of the added tokens.
    special: bool,
}

impl XlmRobertaSlowTokenizer {
    /// Loads `dir`, which must hold `sentencepiece.bpe.model` (and may hold `tokenizer.json`,
    /// kept for `save`).
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let model_path = dir.join(MODEL_FILE);
        if !model_path.is_file() {
            bail!(
                "{}: no {MODEL_FILE}, which config key \"xlmr_slow_tokenizer\" needs (the slow \
                 XLMRobertaTokenizer is sentencepiece on it; tokenizer.json alone is the fast tokenizer)",
                dir.display()
            );
        }
        let files = XlmRobertaTokenizer::from_dir(dir)?;
        let bytes = files
            .sentencepiece_model()
            .with_context(|| format!("{}: not loaded", model_path.display()))?
            .to_vec();
        let sp = SentencePiece::from_bytes(bytes)
            .with_context(|| format!("{}: not a usable sentencepiece model", model_path.display()))?;
        let tok = Self {
            mask: i64::try_from(sp.len())? + FAIRSEQ_OFFSET,
            sp,
            files,
        };
        tok.check_matches_files(dir)?;
        Ok(tok)
    }

    /// The folder's `tokenizer.json` must give the same special ids and vocabulary size, or a
    /// checkpoint would hold two different tokenizers.
    fn check_matches_files(&self, dir: &Path) -> Result<()> {
        let f = &self.files;
        let ours = (
            self.cls_id(),
            self.sep_id(),
            self.pad_id(),
            self.unk_id(),
            self.vocab_size(),
        );
        let theirs = (f.cls_id(), f.sep_id(), f.pad_id(), f.unk_id(), f.vocab_size());
        if ours != theirs {
            bail!(
                "{}: tokenizer.json does not match {MODEL_FILE} (<s>, </s>, <pad>, <unk> ids and size \
                 {theirs:?}, the model gives {ours:?})",
                dir.display()
            );
        }
        Ok(())
    }

    /// The sentencepiece model.
    pub fn sentencepiece(&self) -> &SentencePiece {
        &self.sp
    }

    /// `tokenize(text)` as pieces (the added tokens as themselves).
    pub fn tokenize(&self, text: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for chunk in chunks(text) {
            if chunk.special {
                out.push(chunk.text.to_owned());
            } else {
                out.extend(self.sp.encode_as_pieces(chunk.text)?);
            }
        }
        Ok(out)
    }

    /// `_convert_token_to_id_with_added_voc`: the added tokens, else sentencepiece id + 1, with
    /// sentencepiece's id 0 (its unknown piece) as `<unk>`.
    fn piece_id(&self, piece: &str) -> i64 {
        if piece == MASK {
            return self.mask;
        }
        if let Some(&(_, id)) = FAIRSEQ.iter().find(|(t, _)| *t == piece) {
            return id;
        }
        match self.sp.piece_to_id(piece) {
            0 => UNK_ID,
            id => i64::from(id) + FAIRSEQ_OFFSET,
        }
    }

    /// Ids and char spans of `text` without `<s>`/`</s>` around it.
    fn tokens(&self, text: &str) -> Result<Vec<Tok>> {
        let mut out = Vec::new();
        for chunk in chunks(text) {
            if chunk.special {
                out.push((
                    self.piece_id(chunk.text),
                    (chunk.start, chunk.start + chunk.text.chars().count()),
                ));
                continue;
            }
            let char_at = byte_to_char(chunk.text);
            for t in self.sp.encode(chunk.text)? {
                let span = (chunk.start + char_at[t.begin], chunk.start + char_at[t.end]);
                out.push((self.piece_id(&t.piece), span));
            }
        }
        Ok(out)
    }

    /// Ids of `text` without `<s>`/`</s>` around it.
    fn ids_of(&self, text: &str) -> Result<Vec<i64>> {
        Ok(self.tokens(text)?.into_iter().map(|t| t.0).collect())
    }

    /// Slow longest-first truncation, then `<s> a </s>` or `<s> a </s></s> b </s>`, type ids 0.
    fn assemble(&self, mut a: Vec<i64>, b: Option<Vec<i64>>, max_length: usize) -> Result<Encoded> {
        let mut ids = vec![BOS_ID];
        match b {
            None => {
                a.truncate(max_length.saturating_sub(2));
                ids.extend(a);
                ids.push(EOS_ID);
            }
            Some(mut b) => {
                let budget = max_length
                    .checked_sub(4)
                    .with_context(|| format!("max_length {max_length} leaves no room for the 4 special tokens"))?;
                truncate_pair_slow(&mut a, &mut b, budget);
                ids.extend(a);
                ids.extend([EOS_ID, EOS_ID]);
                ids.extend(b);
                ids.push(EOS_ID);
            }
        }
        Ok(Encoded {
            type_ids: vec![0; ids.len()],
            attention_mask: vec![1; ids.len()],
            ids,
        })
    }
}

/// `tokens_trie.split(text)` on the added tokens, then `<mask>`'s `lstrip`: the text chunk before
/// a `<mask>` loses its trailing whitespace (emptied chunks are dropped, as `tokenize` skips them).
fn chunks(text: &str) -> Vec<Chunk<'_>> {
    let mut out = split_added_tokens(text);
    for i in 1..out.len() {
        if out[i].special && out[i].text == MASK && !out[i - 1].special {
            out[i - 1].text = out[i - 1].text.trim_end_matches(is_py_whitespace);
        }
    }
    out.retain(|c| !c.text.is_empty());
    out
}

/// Splits `text` at the added tokens.
fn split_added_tokens(text: &str) -> Vec<Chunk<'_>> {
    split_on_tokens(text, &[BOS, PAD, EOS, UNK, MASK])
        .into_iter()
        .map(|(text, start, special)| Chunk { text, start, special })
        .collect()
}

/// Char index of every byte offset of `text` (`text.len() + 1` entries; a byte inside a char maps
/// to that char).
fn byte_to_char(text: &str) -> Vec<usize> {
    let mut out = Vec::with_capacity(text.len() + 1);
    for (i, c) in text.chars().enumerate() {
        out.extend(std::iter::repeat_n(i, c.len_utf8()));
    }
    out.push(text.chars().count());
    out
}

impl Tokenizer for XlmRobertaSlowTokenizer {
    fn encode(&self, a: &str, b: Option<&str>, max_length: usize) -> Result<Encoded> {
        let ea = self.ids_of(a)?;
        let eb = b.map(|b| self.ids_of(b)).transpose()?;
        self.assemble(ea, eb, max_length)
    }

    /// `tokenizer.tokenize(word)` then ids, for each word.
    fn encode_words(&self, words: &[&str]) -> Result<Vec<Vec<i64>>> {
        parallel_map(words, |w| self.ids_of(w))
    }

    fn encode_offsets(&self, text: &str) -> Result<Vec<(i64, (usize, usize))>> {
        self.tokens(text)
    }

    /// `_convert_id_to_token`.
    fn id_to_token(&self, id: i64) -> Option<String> {
        if id == self.mask {
            return Some(MASK.to_owned());
        }
        if let Some(&(token, _)) = FAIRSEQ.iter().find(|(_, i)| *i == id) {
            return Some(token.to_owned());
        }
        let sp_id = u32::try_from(id - FAIRSEQ_OFFSET).ok()?;
        self.sp.id_to_piece(sp_id).map(str::to_owned)
    }

    fn special_ids(&self) -> SpecialIds {
        SpecialIds {
            cls: BOS_ID as u32,
            sep: EOS_ID as u32,
            pad: PAD_ID as u32,
            unk: UNK_ID as u32,
        }
    }

    fn do_lower_case(&self) -> bool {
        false
    }

    /// The model's hash under another name than the fast tokenizer's, so feature caches differ.
    fn fingerprint(&self) -> Result<Vec<u8>> {
        let model = Sha256::digest(self.sp.bytes());
        Ok(format!("xlm-roberta-slow\0model={model:x}").into_bytes())
    }

    /// What the fast tokenizer of the same folder writes (`tokenizer.json`,
    /// `sentencepiece.bpe.model`, `tokenizer_config.json`, `special_tokens_map.json`).
    fn save(&self, dir: &Path) -> Result<()> {
        self.files.save(dir)
    }

    /// `len(tokenizer)`: the pieces, `<s>`/`<pad>`/`</s>` before them and `<mask>` after.
    fn vocab_size(&self) -> usize {
        self.sp.len() + 2
    }

    fn pair_separators(&self) -> usize {
        2
    }

    fn piece_style(&self) -> PieceStyle {
        PieceStyle::SentencePiece
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<(&str, usize, bool)> {
        chunks(text).into_iter().map(|c| (c.text, c.start, c.special)).collect()
    }

    #[test]
    fn added_tokens_are_cut_out_and_mask_strips_the_text_before_it() {
        assert_eq!(
            texts("a <mask> b"),
            vec![("a", 0, false), ("<mask>", 2, true), (" b", 8, false)]
        );
        assert_eq!(texts("  <mask>"), vec![("<mask>", 2, true)]);
        assert_eq!(
            texts("x </s>  y"),
            vec![("x ", 0, false), ("</s>", 2, true), ("  y", 6, false)]
        );
        assert_eq!(
            texts("한<s><s\u{3000}<mask>"),
            vec![
                ("한", 0, false),
                ("<s>", 1, true),
                ("<s", 4, false),
                ("<mask>", 7, true)
            ]
        );
        assert_eq!(
            texts("<<unk>>"),
            vec![("<", 0, false), ("<unk>", 1, true), (">", 6, false)]
        );
        assert!(texts("").is_empty());
    }

    #[test]
    fn slow_pair_truncation_gives_the_odd_token_to_the_first_input() {
        let (mut a, mut b) = (vec![1; 10], vec![2; 10]);
        truncate_pair_slow(&mut a, &mut b, 7);
        assert_eq!((a.len(), b.len()), (4, 3));
        let (mut a, mut b) = (vec![1; 3], vec![2; 10]);
        truncate_pair_slow(&mut a, &mut b, 8);
        assert_eq!((a.len(), b.len()), (3, 5));
        let (mut a, mut b) = (vec![1; 3], vec![2; 4]);
        truncate_pair_slow(&mut a, &mut b, 0);
        assert!(a.is_empty() && b.is_empty());
    }

    #[test]
    fn byte_offsets_map_to_chars() {
        assert_eq!(byte_to_char("a한b"), vec![0, 1, 1, 1, 2, 3]);
        assert_eq!(byte_to_char(""), vec![0]);
    }
}
