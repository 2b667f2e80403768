//! The WordPiece tokenizer, configured like Hugging Face `ElectraTokenizerFast`.
//!
//! Built from a `vocab.txt` it is WordPiece (`[UNK]`, `##`, 100 chars per word) behind a
//! `BertNormalizer` (clean_text, CJK spacing, no NFD unless lowercasing), `BertPreTokenizer`,
//! `[CLS] A [SEP] (B [SEP])` post-processing and the WordPiece decoder, with the five special
//! tokens registered as special added tokens. Ids equal HF's fast tokenizer for the same vocab,
//! including longest-first pair truncation (ties give the extra token to the second sequence).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::utils::truncation::{truncate_encodings, TruncationDirection, TruncationParams, TruncationStrategy};
use tokenizers::{AddedToken, Encoding, NormalizerWrapper, PostProcessor};

use super::{read_tokenizer_config, Encoded, Loader, SpecialIds, Tokenizer};
use crate::limits;

/// Padding token string.
pub const PAD_TOKEN: &str = "[PAD]";
/// Unknown-word token string.
pub const UNK_TOKEN: &str = "[UNK]";
/// Classification (sequence start) token string.
pub const CLS_TOKEN: &str = "[CLS]";
/// Separator token string.
pub const SEP_TOKEN: &str = "[SEP]";
/// Mask token string.
pub const MASK_TOKEN: &str = "[MASK]";

/// Longest model input HF records for KoELECTRA (`model_max_length`).
const MODEL_MAX_LENGTH: usize = 512;

/// Loads a model folder's `tokenizer.json` or `vocab.txt`.
pub const LOADER: Loader = Loader {
    name: "wordpiece",
    applies: |dir| dir.join("tokenizer.json").is_file() || dir.join("vocab.txt").is_file(),
    load: |dir| Ok(Box::new(WordPieceTokenizer::from_dir(dir)?)),
};

fn encoded(enc: &Encoding) -> Encoded {
    let widen = |v: &[u32]| v.iter().map(|&x| i64::from(x)).collect();
    Encoded {
        ids: widen(enc.get_ids()),
        type_ids: widen(enc.get_type_ids()),
        attention_mask: widen(enc.get_attention_mask()),
    }
}

/// HF `ElectraTokenizerFast` equivalent; cheap to share between threads (`encode` takes `&self`).
#[derive(Debug, Clone)]
pub struct WordPieceTokenizer {
    inner: tokenizers::Tokenizer,
    do_lower_case: bool,
    special: SpecialIds,
}

impl WordPieceTokenizer {
    /// Loads `dir/tokenizer.json` if present, else `dir/vocab.txt` (+ `tokenizer_config.json`).
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let json_path = dir.join("tokenizer.json");
        let vocab_path = dir.join("vocab.txt");
        let config = read_tokenizer_config(dir)?;
        let config_lower = config
            .as_ref()
            .and_then(|c| c.get("do_lower_case"))
            .and_then(Value::as_bool);
        if json_path.is_file() {
            Self::from_tokenizer_json(&json_path, config_lower)
        } else if vocab_path.is_file() {
            // KoELECTRA is cased everywhere, so a missing `do_lower_case` means false here
            // (HF's class default would be true).
            Self::from_vocab_file(&vocab_path, config_lower.unwrap_or(false))
        } else {
            bail!(
                "no tokenizer in {}: expected tokenizer.json or vocab.txt",
                dir.display()
            )
        }
    }

    /// Builds the tokenizer from a WordPiece `vocab.txt` (one token per line, line index = id).
    pub fn from_vocab_file(path: &Path, do_lower_case: bool) -> Result<Self> {
        let text = limits::read_text_capped(path, limits::VOCAB_BYTES).context("cannot read vocab file")?;
        let lines = text.lines().count();
        if lines > limits::VOCAB_TOKENS {
            bail!(
                "vocab file {}: {lines} tokens; more than {} is refused",
                path.display(),
                limits::VOCAB_TOKENS
            );
        }
        // `read_bytes` gives the (private) map type WordPiece wants; fill it like HF's
        // `load_vocab`: only line ends are stripped, and a repeated token keeps its last id.
        let mut vocab = WordPiece::read_bytes(&[])
            .map_err(anyhow::Error::msg)
            .context("creating WordPiece vocab")?;
        for (index, line) in text.lines().enumerate() {
            let id = u32::try_from(index).context("vocab too large")?;
            if let Some(earlier) = vocab.insert(line.to_owned(), id) {
                log::warn!(
                    "vocab file {}: token {line:?} on lines {} and {}; the later id is used, as transformers does",
                    path.display(),
                    earlier + 1,
                    index + 1
                );
                // The earlier id keeps a token of its own that no text produces, so the id range has
                // no hole (a saved vocab.txt keeps every line, and the embedding check sees every id).
                vocab.insert(format!("[unused-repeated-{earlier}]"), earlier);
            }
        }
        for tok in [PAD_TOKEN, UNK_TOKEN, CLS_TOKEN, SEP_TOKEN] {
            if !vocab.contains_key(tok) {
                bail!(
                    "vocab file {} has no {tok} token (needed by the ELECTRA tokenizer)",
                    path.display()
                );
            }
        }
        let model = WordPiece::builder()
            .vocab(vocab)
            .unk_token(UNK_TOKEN.into())
            .continuing_subword_prefix("##".into())
            .max_input_chars_per_word(100)
            .build()
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("building WordPiece from {}", path.display()))?;
        let mut inner = tokenizers::Tokenizer::new(model);
        inner
            .with_normalizer(Some(bert_normalizer(do_lower_case, true)))
            .map_err(anyhow::Error::msg)
            .context("setting the normalizer")?;
        inner.with_pre_tokenizer(Some(BertPreTokenizer));
        inner.with_decoder(Some(WordPieceDecoder::default()));
        // Registered in HF's order; ids come from the vocab ([MASK], if absent, gets a new id
        // after the vocab exactly as HF would give it).
        inner
            .add_special_tokens(
                [PAD_TOKEN, UNK_TOKEN, CLS_TOKEN, SEP_TOKEN, MASK_TOKEN].map(|t| AddedToken::from(t, true)),
            )
            .map_err(anyhow::Error::msg)
            .context("adding special tokens")?;
        let lookup = |t: &str| {
            inner
                .token_to_id(t)
                .ok_or_else(|| anyhow!("vocab file {} has no {t} token", path.display()))
        };
        let (cls_id, sep_id) = (lookup(CLS_TOKEN)?, lookup(SEP_TOKEN)?);
        inner.with_post_processor(Some(BertProcessing::new(
            (SEP_TOKEN.into(), sep_id),
            (CLS_TOKEN.into(), cls_id),
        )));
        Self::finish(inner, do_lower_case, &path.display().to_string())
    }

    /// Loads a serialized `tokenizer.json`; `config_lower` (from tokenizer_config.json) wins
    /// over the file's normalizer as in HF `ElectraTokenizerFast.__init__`.
    fn from_tokenizer_json(path: &Path, config_lower: Option<bool>) -> Result<Self> {
        let bytes = limits::read_capped(path, limits::TOKENIZER_JSON_BYTES)?;
        let mut inner = parse_tokenizer_json(bytes, &path.display().to_string())?;
        let file_lower = match inner.get_normalizer() {
            Some(NormalizerWrapper::BertNormalizer(n)) => Some((n.lowercase, n.clean_text)),
            _ => None,
        };
        let do_lower_case = match (file_lower, config_lower) {
            (Some((file, clean_text)), Some(cfg)) if file != cfg => {
                inner
                    .with_normalizer(Some(bert_normalizer(cfg, clean_text)))
                    .map_err(anyhow::Error::msg)
                    .context("setting the normalizer")?;
                cfg
            }
            (Some((file, _)), _) => file,
            (None, cfg) => cfg.unwrap_or(false),
        };
        Self::finish(inner, do_lower_case, &path.display().to_string())
    }

    fn finish(inner: tokenizers::Tokenizer, do_lower_case: bool, source: &str) -> Result<Self> {
        let names = [CLS_TOKEN, SEP_TOKEN, PAD_TOKEN, UNK_TOKEN];
        Ok(Self {
            special: checked_special_ids(&inner, names, source, "")?,
            do_lower_case,
            inner,
        })
    }

    /// Full encoding of `text` without special tokens or truncation, offsets in chars (QA).
    pub fn encode_char_offsets_raw(&self, text: &str) -> Result<Encoding> {
        self.inner
            .encode_char_offsets(text, false)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("tokenizing {:?}", preview(text)))
    }

    /// Id of `tok` (model vocab or special token), if known.
    pub fn token_to_id(&self, tok: &str) -> Option<i64> {
        self.inner.token_to_id(tok).map(i64::from)
    }

    /// One more than the largest id, added tokens included: HF `len(tokenizer)`, unless the vocab has
    /// holes (a foreign `tokenizer.json` may leave ids without a token).
    pub fn vocab_size(&self) -> usize {
        let largest = self.inner.get_vocab(true).into_values().max();
        largest.map_or(0, |id| id as usize + 1)
    }

    fn raw(&self, text: &str) -> Result<Encoding> {
        raw_encoding(&self.inner, text)
    }

    fn finish_pair(&self, a: Encoding, b: Option<Encoding>, max_length: usize) -> Result<Encoded> {
        finish_pair(&self.inner, a, b, max_length)
    }
}

/// A `tokenizer.json`'s bytes as a `tokenizers::Tokenizer`, with truncation and padding cleared:
/// truncation is applied per call in `encode`, padding per batch by the caller.
pub(super) fn parse_tokenizer_json(bytes: Vec<u8>, source: &str) -> Result<tokenizers::Tokenizer> {
    check_charsmaps(&bytes).with_context(|| format!("cannot load tokenizer {source}"))?;
    // tokenizers 0.23 panics on some malformed files (`expect("Helper")`) instead of erroring.
    let parsed = crate::error::catch_panic(|| tokenizers::Tokenizer::from_bytes(bytes))
        .unwrap_or_else(|panic| Err(panic.into()));
    let mut inner = parsed
        .map_err(|e| anyhow!(crate::error::escape_controls(&e.to_string())))
        .with_context(|| format!("cannot load tokenizer {source}"))?;
    inner
        .with_truncation(None)
        .map_err(anyhow::Error::msg)
        .context("clearing truncation")?;
    inner.with_padding(None);
    Ok(inner)
}

/// Checks every precompiled charsmap of a tokenizer.json's normalizers (each `"normalizer"` key:
/// `tokenizers` deserializes a repeated key each time) with
/// [`super::sentencepiece::check_precompiled_charsmap`], decoding it as `tokenizers` does
/// (base64 0.13). A file that is not a JSON object, or a charsmap that is not a plain base64
/// string, is left to `tokenizers`, which refuses it.
fn check_charsmaps(json: &[u8]) -> Result<()> {
    let Ok(Normalizers(normalizers)) = serde_json::from_slice(json) else {
        return Ok(());
    };
    let mut stack: Vec<&Value> = normalizers.iter().collect();
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Ok(blob)) = map
                    .get("precompiled_charsmap")
                    .and_then(Value::as_str)
                    .map(base64::decode)
                {
                    super::sentencepiece::check_precompiled_charsmap(&blob)?;
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    Ok(())
}

/// The values of a JSON object's `"normalizer"` keys, every one of them; the rest is skipped.
struct Normalizers(Vec<Value>);

impl<'de> serde::Deserialize<'de> for Normalizers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct Keys;
        impl<'de> serde::de::Visitor<'de> for Keys {
            type Value = Normalizers;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a tokenizer.json object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Normalizers, A::Error> {
                let mut found = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "normalizer" {
                        found.push(map.next_value::<Value>()?);
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(Normalizers(found))
            }
        }
        deserializer.deserialize_map(Keys)
    }
}

/// The ids of the special tokens named `[cls, sep, pad, unk]`. Every id the special tokens of a
/// single input or a pair get (from the post-processor of a tokenizer.json, which names its own
/// ids) must be a token of the vocabulary too: a hostile file could otherwise emit ids past the
/// model's embeddings.
/// `hint` follows the message of a missing token.
pub(super) fn checked_special_ids(
    inner: &tokenizers::Tokenizer,
    [cls, sep, pad, unk]: [&str; 4],
    source: &str,
    hint: &str,
) -> Result<SpecialIds> {
    let id = |t: &str| {
        inner
            .token_to_id(t)
            .ok_or_else(|| anyhow!("tokenizer {source} has no {t} token{hint}"))
    };
    let special = SpecialIds {
        cls: id(cls)?,
        sep: id(sep)?,
        pad: id(pad)?,
        unk: id(unk)?,
    };
    // `tokenizers` reads a TemplateProcessing without validating it, and applying a template that
    // names a special token it lacks, or `$B` in the single template, panics: apply both templates
    // once here, where a panic is an error about the file (what they do does not depend on the text).
    let post_process = |pair: Option<Encoding>| {
        crate::error::catch_panic(|| inner.post_process(Encoding::default(), pair, true))
            .unwrap_or_else(|panic| Err(panic.into()))
            .map_err(|e| anyhow!(crate::error::escape_controls(&e.to_string())))
            .with_context(|| format!("tokenizer {source}: adding special tokens"))
    };
    let single = post_process(None)?;
    let pair = post_process(Some(Encoding::default()))?;
    let emitted = single.get_ids().iter().chain(pair.get_ids());
    for &id in emitted.chain([&special.pad, &special.unk]) {
        if inner.id_to_token(id).is_none() {
            bail!("tokenizer {source}: special token id {id} is not in the vocabulary");
        }
    }
    Ok(special)
}

/// One sequence through a `tokenizers` tokenizer without special tokens, no offsets.
pub(super) fn raw_encoding(inner: &tokenizers::Tokenizer, text: &str) -> Result<Encoding> {
    inner
        .encode_fast(text, false)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("tokenizing {:?}", preview(text)))
}

/// Longest-first truncation to `max_length` (special tokens included; the fast tokenizers' rule),
/// then the post-processor's special tokens (`[CLS]`/`[SEP]`, XLM-R's `<s>`/`</s></s>`).
pub(super) fn finish_pair(
    inner: &tokenizers::Tokenizer,
    mut a: Encoding,
    mut b: Option<Encoding>,
    max_length: usize,
) -> Result<Encoded> {
    let added = inner.get_post_processor().map_or(0, |p| p.added_tokens(b.is_some()));
    let budget = max_length
        .checked_sub(added)
        .ok_or_else(|| anyhow!("max_length {max_length} leaves no room for the {added} special tokens"))?;
    let params = TruncationParams {
        max_length: budget,
        strategy: TruncationStrategy::LongestFirst,
        stride: 0,
        direction: TruncationDirection::Right,
    };
    if a.len() + b.as_ref().map_or(0, Encoding::len) > budget {
        (a, b) = truncate_encodings(a, b, &params)
            .map_err(anyhow::Error::msg)
            .context("truncating")?;
        // The cut-off tails are not used; drop them before post-processing copies them.
        a.take_overflowing();
        if let Some(b) = b.as_mut() {
            b.take_overflowing();
        }
    }
    let enc = inner
        .post_process(a, b, true)
        .map_err(anyhow::Error::msg)
        .context("adding special tokens")?;
    Ok(encoded(&enc))
}

impl Tokenizer for WordPieceTokenizer {
    fn vocab_size(&self) -> usize {
        WordPieceTokenizer::vocab_size(self)
    }

    /// Encodes `A` or the pair `(A, B)` with special tokens, longest-first truncated to `max_length`.
    fn encode(&self, a: &str, b: Option<&str>, max_length: usize) -> Result<Encoded> {
        let ea = self.raw(a)?;
        let eb = b.map(|b| self.raw(b)).transpose()?;
        self.finish_pair(ea, eb, max_length)
    }

    /// Encodes many `(A, B)` inputs in parallel, keeping their order.
    fn encode_batch(&self, pairs: &[(&str, Option<&str>)], max_length: usize) -> Result<Vec<Encoded>> {
        let firsts: Vec<&str> = pairs.iter().map(|p| p.0).collect();
        let seconds: Vec<&str> = pairs.iter().filter_map(|p| p.1).collect();
        let firsts = self
            .inner
            .encode_batch_fast(firsts, false)
            .map_err(anyhow::Error::msg)
            .context("tokenizing a batch")?;
        let mut seconds = self
            .inner
            .encode_batch_fast(seconds, false)
            .map_err(anyhow::Error::msg)
            .context("tokenizing a batch")?
            .into_iter();
        pairs
            .iter()
            .zip(firsts)
            .map(|(pair, ea)| {
                let eb = pair.1.and_then(|_| seconds.next());
                self.finish_pair(ea, eb, max_length)
            })
            .collect()
    }

    /// Token ids of each word tokenized on its own, no special tokens (may be empty; NER).
    fn encode_words(&self, words: &[&str]) -> Result<Vec<Vec<i64>>> {
        words
            .iter()
            .map(|w| Ok(self.raw(w)?.get_ids().iter().map(|&i| i64::from(i)).collect()))
            .collect()
    }

    /// Everything that decides the ids (vocab, normalizer, special tokens) as bytes, for cache keys.
    fn fingerprint(&self) -> Result<Vec<u8>> {
        let json = self
            .inner
            .to_string(false)
            .map_err(anyhow::Error::msg)
            .context("serialising the tokenizer")?;
        Ok(format!("{json}\0lower={}", self.do_lower_case).into_bytes())
    }

    fn special_ids(&self) -> SpecialIds {
        self.special
    }

    /// Whether input is lowercased (and accent-stripped) before WordPiece.
    fn do_lower_case(&self) -> bool {
        self.do_lower_case
    }

    /// Writes vocab.txt, tokenizer.json, tokenizer_config.json and special_tokens_map.json.
    fn save(&self, dir: &Path) -> Result<()> {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let write = |name: &str, text: String| {
            let p = dir.join(name);
            fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))
        };

        let vocab: BTreeMap<u32, String> = self.inner.get_vocab(true).into_iter().map(|(t, i)| (i, t)).collect();
        let mut lines = String::new();
        let mut next_id = 0u32;
        for (id, tok) in &vocab {
            // A tokenizer.json may leave ids without a token: placeholder lines keep every other
            // token on its line (= its id) when the file is read back.
            for gap in next_id..*id {
                lines.push_str(&format!("[unused-repeated-{gap}]\n"));
            }
            next_id = id + 1;
            if tok.contains(['\n', '\r']) {
                bail!("cannot write vocab.txt: token {id} contains a line break");
            }
            lines.push_str(tok);
            lines.push('\n');
        }
        write("vocab.txt", lines)?;

        let json = self
            .inner
            .to_string(true)
            .map_err(anyhow::Error::msg)
            .context("serializing tokenizer.json")?;
        write("tokenizer.json", json)?;

        let strip_accents = match self.inner.get_normalizer() {
            Some(NormalizerWrapper::BertNormalizer(n)) => n.strip_accents,
            _ => None,
        };
        let specials = json!({
            "unk_token": UNK_TOKEN,
            "sep_token": SEP_TOKEN,
            "pad_token": PAD_TOKEN,
            "cls_token": CLS_TOKEN,
            "mask_token": MASK_TOKEN,
        });
        let mut config = json!({
            "do_lower_case": self.do_lower_case,
            "strip_accents": strip_accents,
            "tokenize_chinese_chars": true,
            "tokenizer_class": "ElectraTokenizer",
            "model_max_length": MODEL_MAX_LENGTH,
        });
        if let (Some(c), Some(s)) = (config.as_object_mut(), specials.as_object()) {
            c.extend(s.clone());
        }
        write("tokenizer_config.json", pretty(&config)?)?;
        write("special_tokens_map.json", pretty(&specials)?)?;
        Ok(())
    }

    fn encode_offsets(&self, text: &str) -> Result<Vec<(i64, (usize, usize))>> {
        let enc = self.encode_char_offsets_raw(text)?;
        Ok(enc
            .get_ids()
            .iter()
            .map(|&id| i64::from(id))
            .zip(enc.get_offsets().iter().copied())
            .collect())
    }

    fn id_to_token(&self, id: i64) -> Option<String> {
        self.inner.id_to_token(u32::try_from(id).ok()?)
    }
}

/// HF's normalizer for ElectraTokenizerFast: no accent stripping unless lowercasing.
fn bert_normalizer(lowercase: bool, clean_text: bool) -> BertNormalizer {
    // `None` follows `lowercase` (HF's `strip_accents=None`); never NFD for cased vocabs,
    // which would split Hangul syllables into jamo.
    let strip_accents = if lowercase { None } else { Some(false) };
    BertNormalizer::new(clean_text, true, strip_accents, lowercase)
}

fn pretty(v: &Value) -> Result<String> {
    Ok(serde_json::to_string_pretty(v)? + "\n")
}

/// First 60 chars of `text`, for error messages.
pub(super) fn preview(text: &str) -> String {
    text.chars().take(60).collect()
}
