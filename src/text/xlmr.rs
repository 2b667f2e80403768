//! XLM-RoBERTa's tokenizer (`xlm-roberta-base`), equal to transformers 4.57's
//! `XLMRobertaTokenizerFast`.
//!
//! A folder's `tokenizer.json` is loaded with the `tokenizers` crate. A folder with only
//! `sentencepiece.bpe.model` gets the `tokenizer.json` that transformers' `XLMRobertaConverter`
//! would build from it (what `XLMRobertaTokenizerFast.from_pretrained` does there): fairseq ids
//! (`<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3, sentencepiece id + 1 for the other pieces, `<mask>`
//! last), the model's precompiled charsmap then right-strip and `" {2,}"` → `▁`, Metaspace
//! (`▁`, prepended always), Unigram, `<s> a </s>` / `<s> a </s></s> b </s>` with type ids 0. Both
//! paths therefore give the same ids, offsets and longest-first truncation (the extra token of an
//! odd budget goes to the longer input) as the fast tokenizer.
//!
//! The slow `XLMRobertaTokenizer` (sentencepiece itself) differs from the fast one in a few
//! places that this follows the fast side on: Viterbi ties (equal-score segmentations), runs of
//! unknown chars (one `<unk>` there, one per char here), NFD (decomposed) Hangul, which the fast
//! normalizer does not recompose (tokenizers issues 2116 and 2334), and the odd-budget truncation
//! tie (the slow tokenizer gives the extra token to the first input). Config key
//! `xlmr_slow_tokenizer` switches to [`super::xlmr_slow`], which equals the slow one instead.

use std::fs;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use serde_json::{json, Value};
use tokenizers::Encoding;

use super::parallel_map;
use super::sentencepiece::{ModelProto, ModelType, PieceType, MODEL_BYTES};
use super::wordpiece::{checked_special_ids, finish_pair, parse_tokenizer_json, preview, raw_encoding};
use super::{Encoded, Loader, SpecialIds, Tokenizer};
use crate::limits;

/// The sentencepiece model file of the XLM-R hub folders.
pub const MODEL_FILE: &str = "sentencepiece.bpe.model";
const JSON_FILE: &str = "tokenizer.json";
const BOS: &str = "<s>";
const PAD: &str = "<pad>";
const EOS: &str = "</s>";
const UNK: &str = "<unk>";
const MASK: &str = "<mask>";
const MODEL_MAX_LENGTH: usize = 512;

/// A folder with `sentencepiece.bpe.model`, or a `tokenizer.json` whose model is Unigram.
pub const LOADER: Loader = Loader {
    name: "xlm-roberta",
    applies: |dir| dir.join(MODEL_FILE).is_file() || is_unigram_json(&dir.join(JSON_FILE)),
    load: |dir| Ok(Box::new(XlmRobertaTokenizer::from_dir(dir)?)),
};

/// Whether `path` is a `tokenizer.json` with a Unigram model.
fn is_unigram_json(path: &Path) -> bool {
    #[derive(Deserialize)]
    struct Model {
        #[serde(rename = "type")]
        kind: Option<String>,
    }
    #[derive(Deserialize)]
    struct File {
        model: Model,
    }
    if !path.is_file() {
        return false;
    }
    let Ok(bytes) = limits::read_capped(path, limits::TOKENIZER_JSON_BYTES) else {
        return false;
    };
    serde_json::from_slice::<File>(&bytes).is_ok_and(|f| f.model.kind.as_deref() == Some("Unigram"))
}

/// `XLMRobertaTokenizerFast` equivalent; cheap to share between threads.
#[derive(Debug, Clone)]
pub struct XlmRobertaTokenizer {
    inner: tokenizers::Tokenizer,
    /// `sentencepiece.bpe.model`'s bytes, when the folder had it (written back by `save`).
    model: Option<Vec<u8>>,
    special: SpecialIds,
}

impl XlmRobertaTokenizer {
    /// Loads `dir/tokenizer.json` if present, else builds the tokenizer from
    /// `dir/sentencepiece.bpe.model`.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let json_path = dir.join(JSON_FILE);
        let model_path = dir.join(MODEL_FILE);
        let model = if model_path.is_file() {
            let bytes = limits::read_capped(&model_path, MODEL_BYTES)?;
            let proto = ModelProto::parse(&bytes)
                .with_context(|| format!("{}: not a usable sentencepiece model", model_path.display()))?;
            Some((bytes, proto))
        } else {
            None
        };
        if json_path.is_file() {
            let tok = Self::from_tokenizer_json(&json_path)?;
            Ok(Self {
                model: model.map(|m| m.0),
                ..tok
            })
        } else if let Some((bytes, proto)) = model {
            let json = converted_json(&proto)
                .with_context(|| format!("{}: cannot build an XLM-R tokenizer from it", model_path.display()))?;
            let mut tok = Self::from_json_bytes(json.to_string().into_bytes(), &model_path.display().to_string())?;
            tok.model = Some(bytes);
            Ok(tok)
        } else {
            bail!(
                "no XLM-R tokenizer in {}: expected {JSON_FILE} or {MODEL_FILE}",
                dir.display()
            )
        }
    }

    /// Loads a `tokenizer.json` (no sentencepiece model kept).
    pub fn from_tokenizer_json(path: &Path) -> Result<Self> {
        let bytes = limits::read_capped(path, limits::TOKENIZER_JSON_BYTES)?;
        Self::from_json_bytes(bytes, &path.display().to_string())
    }

    /// Builds the `tokenizer.json` transformers' converter makes of a sentencepiece `.model`.
    pub fn converted_tokenizer_json(model: &[u8]) -> Result<Value> {
        converted_json(&ModelProto::parse(model)?)
    }

    fn from_json_bytes(bytes: Vec<u8>, source: &str) -> Result<Self> {
        let inner = parse_tokenizer_json(bytes, source)?;
        let names = [BOS, EOS, PAD, UNK];
        Ok(Self {
            special: checked_special_ids(&inner, names, source, " (not an XLM-R tokenizer)")?,
            model: None,
            inner,
        })
    }

    fn raw(&self, text: &str) -> Result<Encoding> {
        raw_encoding(&self.inner, text)
    }

    fn finish_pair(&self, a: Encoding, b: Option<Encoding>, max_length: usize) -> Result<Encoded> {
        finish_pair(&self.inner, a, b, max_length)
    }

    /// The `tokenizers` tokenizer.
    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }

    /// `sentencepiece.bpe.model`'s bytes, when the folder had it.
    pub fn sentencepiece_model(&self) -> Option<&[u8]> {
        self.model.as_deref()
    }
}

impl Tokenizer for XlmRobertaTokenizer {
    fn encode(&self, a: &str, b: Option<&str>, max_length: usize) -> Result<Encoded> {
        let ea = self.raw(a)?;
        let eb = b.map(|b| self.raw(b)).transpose()?;
        self.finish_pair(ea, eb, max_length)
    }

    fn encode_words(&self, words: &[&str]) -> Result<Vec<Vec<i64>>> {
        parallel_map(words, |w| {
            Ok(self.raw(w)?.get_ids().iter().map(|&i| i64::from(i)).collect())
        })
    }

    /// Char offsets as the fast tokenizer's `offset_mapping` gives them.
    fn encode_offsets(&self, text: &str) -> Result<Vec<(i64, (usize, usize))>> {
        let enc = self
            .inner
            .encode_char_offsets(text, false)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("tokenizing {:?}", preview(text)))?;
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

    fn special_ids(&self) -> SpecialIds {
        self.special
    }

    fn do_lower_case(&self) -> bool {
        false
    }

    fn fingerprint(&self) -> Result<Vec<u8>> {
        let json = self
            .inner
            .to_string(false)
            .map_err(anyhow::Error::msg)
            .context("serialising the tokenizer")?;
        Ok(format!("xlm-roberta\0{json}").into_bytes())
    }

    /// Writes `tokenizer.json`, `sentencepiece.bpe.model` (when loaded from one),
    /// `tokenizer_config.json` and `special_tokens_map.json`.
    fn save(&self, dir: &Path) -> Result<()> {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let write = |name: &str, data: &[u8]| {
            let p = dir.join(name);
            fs::write(&p, data).with_context(|| format!("cannot write {}", p.display()))
        };
        let json = self
            .inner
            .to_string(true)
            .map_err(anyhow::Error::msg)
            .context("serializing tokenizer.json")?;
        write(JSON_FILE, json.as_bytes())?;
        if let Some(model) = &self.model {
            write(MODEL_FILE, model)?;
        }
        let specials = json!({
            "bos_token": BOS,
            "cls_token": BOS,
            "eos_token": EOS,
            "mask_token": {"content": MASK, "lstrip": true, "normalized": true, "rstrip": false, "single_word": false},
            "pad_token": PAD,
            "sep_token": EOS,
            "unk_token": UNK,
        });
        let mut config = json!({
            "tokenizer_class": "XLMRobertaTokenizer",
            "clean_up_tokenization_spaces": false,
            "model_max_length": MODEL_MAX_LENGTH,
        });
        if let (Some(c), Some(s)) = (config.as_object_mut(), specials.as_object()) {
            c.extend(s.clone());
        }
        let pretty = |v: &Value| -> Result<Vec<u8>> { Ok((serde_json::to_string_pretty(v)? + "\n").into_bytes()) };
        write("tokenizer_config.json", &pretty(&config)?)?;
        write("special_tokens_map.json", &pretty(&specials)?)
    }

    fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    fn pair_separators(&self) -> usize {
        2
    }

    fn piece_style(&self) -> super::PieceStyle {
        super::PieceStyle::SentencePiece
    }
}

/// transformers' `XLMRobertaConverter` output (`tokenizer.json`) for a sentencepiece model.
fn converted_json(proto: &ModelProto) -> Result<Value> {
    if proto.trainer_spec.model_type != ModelType::Unigram {
        bail!(
            "model type {:?} is not supported (only Unigram)",
            proto.trainer_spec.model_type
        );
    }
    if proto.trainer_spec.byte_fallback {
        bail!("byte_fallback models are not supported");
    }
    let pieces = &proto.pieces;
    if pieces.len() < 3 || pieces[0].kind != PieceType::Unknown {
        bail!("expected the fairseq layout (<unk>, <s>, </s> as pieces 0, 1, 2)");
    }
    let mut vocab = vec![
        json!([BOS, 0.0]),
        json!([PAD, 0.0]),
        json!([EOS, 0.0]),
        json!([UNK, 0.0]),
    ];
    vocab.extend(pieces[3..].iter().map(|p| json!([p.piece, f64::from(p.score)])));
    let mask_id = pieces.len() + 1;
    vocab.push(json!([MASK, 0.0]));

    let added = |id: usize, content: &str, lstrip: bool, normalized: bool, special: bool| {
        json!({"id": id, "content": content, "single_word": false, "lstrip": lstrip, "rstrip": false,
               "normalized": normalized, "special": special})
    };
    let mut added_tokens = vec![
        added(0, BOS, false, false, true),
        added(1, PAD, false, false, true),
        added(2, EOS, false, false, true),
        added(3, UNK, false, false, true),
    ];
    // sentencepiece's control and user-defined pieces are added tokens too (control ones special).
    for (i, p) in pieces.iter().enumerate().skip(3) {
        if matches!(p.kind, PieceType::Control | PieceType::UserDefined) {
            added_tokens.push(added(i + 1, &p.piece, false, false, p.kind == PieceType::Control));
        }
    }
    added_tokens.push(added(mask_id, MASK, true, true, true));

    let mut normalizers = Vec::new();
    let charsmap = &proto.normalizer_spec.precompiled_charsmap;
    if !charsmap.is_empty() {
        normalizers.push(json!({"type": "Precompiled", "precompiled_charsmap": base64(charsmap)}));
    }
    normalizers.push(json!({"type": "Strip", "strip_left": false, "strip_right": true}));
    normalizers.push(json!({"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": "\u{2581}"}));
    let metaspace = json!({"type": "Metaspace", "replacement": "\u{2581}", "prepend_scheme": "always", "split": true});
    let special = |id: &str| json!({"SpecialToken": {"id": id, "type_id": 0}});
    let seq = |id: &str| json!({"Sequence": {"id": id, "type_id": 0}});
    Ok(json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added_tokens,
        "normalizer": {"type": "Sequence", "normalizers": normalizers},
        "pre_tokenizer": metaspace,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [special(BOS), seq("A"), special(EOS)],
            "pair": [special(BOS), seq("A"), special(EOS), special(EOS), seq("B"), special(EOS)],
            "special_tokens": {
                EOS: {"id": EOS, "ids": [2], "tokens": [EOS]},
                BOS: {"id": BOS, "ids": [0], "tokens": [BOS]},
            },
        },
        "decoder": metaspace,
        "model": {"type": "Unigram", "unk_id": 3, "vocab": vocab, "byte_fallback": false},
    }))
}

/// Standard base64 with padding (how `tokenizers` serialises the charsmap).
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xff, 0xfe, 0x00, 0x01]), "//4AAQ==");
    }
}
