//! SentencePiece, ported from google/sentencepiece 0.2.x: the `.model` file (a `ModelProto`
//! protobuf), its normalizer and the Unigram encoder, giving what `EncodeAsPieces` gives.
//!
//! * [`ModelProto`]: a hand-written reader for the fields that decide the ids (pieces with score and
//!   type, `trainer_spec`, `normalizer_spec`); any truncated or malformed field is an error.
//! * [`Normalizer`]: `normalizer.cc`. At each position a user-defined symbol (longest match) is
//!   copied unchanged; else the longest prefix of the UTF-8 bytes found in the precompiled
//!   charsmap (a Darts-clone double-array trie) is replaced by its normalized string; else one
//!   char is copied. Then leading, trailing and repeated spaces are removed
//!   (`remove_extra_whitespaces`), `▁` is prepended (`add_dummy_prefix`; appended with
//!   `treat_whitespace_as_suffix`) and spaces become `▁` (`escape_whitespaces`). Each output byte
//!   keeps the input byte offset it came from. Unlike the `tokenizers` crate's `Precompiled`
//!   normalizer, the match runs over the whole remaining input, so conjoining Jamo (NFD Hangul)
//!   recompose into syllables as in sentencepiece.
//! * [`SentencePiece::encode`]: `unigram_model.cc` `EncodeOptimized` (the default encoder): Viterbi
//!   over the normalized bytes in float as sentencepiece computes it (ties keep the earliest
//!   start), user-defined pieces scored `length * max_score - 0.1`, unused pieces skipped, an
//!   unknown char scored `min_score - 10`; then `PopulateSentencePieceText`: runs of unknown
//!   pieces merge into one piece, spans map back to input bytes.
//!
//! Known gap: with user-defined symbols, when several orders of the same pieces score the same
//! (`....` as `... .` or `. ...`), sentencepiece 0.2.3 sometimes picks another order than this
//! Viterbi (14 of the 10,973 test texts on a test model with `...` and `ㅋㅋ` as user-defined
//! symbols: the float rounding of the path scores decides, and the wheel's arithmetic is not fully
//! reproduced); the pieces are the same, only their order differs. Models without user-defined
//! symbols (KoBERT, XLM-R) are not affected: their sweeps match the wheel on every input.
//! `max_score` (the user-defined pieces' bonus) is the best normal piece's score; starting it at
//! `FLT_MIN`, as older sentencepiece sources do, doubled the reorderings.
//!
//! Only Unigram models without byte fallback are supported; BPE, word and char models and
//! `byte_fallback` are refused with an error.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};

use crate::limits;

/// Largest `.model` file read (XLM-R's is 5 MB; multilingual models reach ~50 MB).
pub const MODEL_BYTES: u64 = 256 << 20;

/// `ModelProto.SentencePiece.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceType {
    Normal,
    Unknown,
    Control,
    UserDefined,
    Unused,
    Byte,
}

impl PieceType {
    fn from_proto(v: u64) -> Result<Self> {
        Ok(match v {
            1 => Self::Normal,
            2 => Self::Unknown,
            3 => Self::Control,
            4 => Self::UserDefined,
            5 => Self::Unused,
            6 => Self::Byte,
            _ => bail!("unknown piece type {v}"),
        })
    }
}

/// One vocabulary entry of the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub piece: String,
    pub score: f32,
    pub kind: PieceType,
}

/// `TrainerSpec.ModelType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelType {
    Unigram,
    Bpe,
    Word,
    Char,
}

/// The parts of `TrainerSpec` that matter for encoding.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainerSpec {
    pub model_type: ModelType,
    pub unk_id: i32,
    pub byte_fallback: bool,
    pub treat_whitespace_as_suffix: bool,
}

impl Default for TrainerSpec {
    fn default() -> Self {
        Self {
            model_type: ModelType::Unigram,
            unk_id: 0,
            byte_fallback: false,
            treat_whitespace_as_suffix: false,
        }
    }
}

/// `NormalizerSpec` (proto defaults when a field is absent).
#[derive(Debug, Clone, PartialEq)]
pub struct NormalizerSpec {
    pub name: String,
    pub precompiled_charsmap: Vec<u8>,
    pub add_dummy_prefix: bool,
    pub remove_extra_whitespaces: bool,
    pub escape_whitespaces: bool,
}

impl Default for NormalizerSpec {
    fn default() -> Self {
        Self {
            name: String::new(),
            precompiled_charsmap: Vec::new(),
            add_dummy_prefix: true,
            remove_extra_whitespaces: true,
            escape_whitespaces: true,
        }
    }
}

/// The fields of a sentencepiece `ModelProto` that decide the ids.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelProto {
    pub pieces: Vec<Piece>,
    pub trainer_spec: TrainerSpec,
    pub normalizer_spec: NormalizerSpec,
}

// ---------------------------------------------------------------------------------------------
// Protobuf wire format

/// A protobuf reader over one message's bytes.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// One field's value.
enum Value<'a> {
    Varint(u64),
    Fixed64,
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| anyhow!("truncated varint at byte {}", self.pos))?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        bail!("varint longer than 10 bytes at byte {}", self.pos)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| anyhow!("field of {n} bytes at byte {} runs past the end", self.pos))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// The next `(field number, value)`, or `None` at the end of the message.
    fn field(&mut self) -> Result<Option<(u64, Value<'a>)>> {
        if self.pos == self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (number, wire) = (key >> 3, key & 7);
        if number == 0 {
            bail!("field number 0 at byte {}", self.pos);
        }
        let value = match wire {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed64
            }
            2 => {
                let len = usize::try_from(self.varint()?)?;
                Value::Bytes(self.take(len)?)
            }
            5 => Value::Fixed32(u32::from_le_bytes(self.take(4)?.try_into()?)),
            _ => bail!("unsupported wire type {wire} (field {number})"),
        };
        Ok(Some((number, value)))
    }
}

fn as_bytes<'a>(v: &Value<'a>, what: &str) -> Result<&'a [u8]> {
    match v {
        Value::Bytes(b) => Ok(b),
        _ => bail!("{what}: expected a length-delimited field"),
    }
}

fn as_string(v: &Value<'_>, what: &str) -> Result<String> {
    String::from_utf8(as_bytes(v, what)?.to_vec()).map_err(|_| anyhow!("{what}: not UTF-8"))
}

fn as_varint(v: &Value<'_>, what: &str) -> Result<u64> {
    match v {
        Value::Varint(x) => Ok(*x),
        _ => bail!("{what}: expected a varint field"),
    }
}

fn as_bool(v: &Value<'_>, what: &str) -> Result<bool> {
    Ok(as_varint(v, what)? != 0)
}

fn as_f32(v: &Value<'_>, what: &str) -> Result<f32> {
    match v {
        Value::Fixed32(x) => Ok(f32::from_bits(*x)),
        _ => bail!("{what}: expected a 32-bit float field"),
    }
}

fn as_i32(v: &Value<'_>, what: &str) -> Result<i32> {
    // int32 is sign-extended to 64 bits on the wire.
    Ok(as_varint(v, what)? as i64 as i32)
}

impl ModelProto {
    /// Parses a serialized `ModelProto` (the bytes of a `.model` file).
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let mut model = ModelProto::default();
        let mut r = Reader::new(bytes);
        while let Some((number, v)) = r.field()? {
            match number {
                1 => model.pieces.push(
                    parse_piece(as_bytes(&v, "pieces")?).with_context(|| format!("piece {}", model.pieces.len()))?,
                ),
                // A message field given twice is merged, as protobuf does (the later value of
                // each field wins).
                2 => merge_trainer_spec(&mut model.trainer_spec, as_bytes(&v, "trainer_spec")?)?,
                3 => merge_normalizer_spec(&mut model.normalizer_spec, as_bytes(&v, "normalizer_spec")?)?,
                _ => {}
            }
        }
        if model.pieces.is_empty() {
            bail!("no pieces (not a sentencepiece model)");
        }
        Ok(model)
    }
}

fn parse_piece(bytes: &[u8]) -> Result<Piece> {
    let mut p = Piece {
        piece: String::new(),
        score: 0.0,
        kind: PieceType::Normal,
    };
    let mut r = Reader::new(bytes);
    while let Some((number, v)) = r.field()? {
        match number {
            1 => p.piece = as_string(&v, "piece")?,
            2 => p.score = as_f32(&v, "score")?,
            3 => p.kind = PieceType::from_proto(as_varint(&v, "type")?)?,
            _ => {}
        }
    }
    Ok(p)
}

fn merge_trainer_spec(t: &mut TrainerSpec, bytes: &[u8]) -> Result<()> {
    let mut r = Reader::new(bytes);
    while let Some((number, v)) = r.field()? {
        match number {
            3 => {
                t.model_type = match as_varint(&v, "model_type")? {
                    1 => ModelType::Unigram,
                    2 => ModelType::Bpe,
                    3 => ModelType::Word,
                    4 => ModelType::Char,
                    x => bail!("trainer_spec: unknown model_type {x}"),
                }
            }
            24 => t.treat_whitespace_as_suffix = as_bool(&v, "treat_whitespace_as_suffix")?,
            35 => t.byte_fallback = as_bool(&v, "byte_fallback")?,
            40 => t.unk_id = as_i32(&v, "unk_id")?,
            _ => {}
        }
    }
    Ok(())
}

fn merge_normalizer_spec(n: &mut NormalizerSpec, bytes: &[u8]) -> Result<()> {
    let mut r = Reader::new(bytes);
    while let Some((number, v)) = r.field()? {
        match number {
            1 => n.name = as_string(&v, "normalizer name")?,
            2 => n.precompiled_charsmap = as_bytes(&v, "precompiled_charsmap")?.to_vec(),
            3 => n.add_dummy_prefix = as_bool(&v, "add_dummy_prefix")?,
            4 => n.remove_extra_whitespaces = as_bool(&v, "remove_extra_whitespaces")?,
            5 => n.escape_whitespaces = as_bool(&v, "escape_whitespaces")?,
            _ => {}
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Tries

/// A Darts-clone double array (the precompiled charsmap's trie), read with bounds checks.
#[derive(Debug, Clone)]
struct DoubleArray {
    units: Vec<u32>,
}

impl DoubleArray {
    fn unit(&self, pos: u32) -> Option<u32> {
        self.units.get(pos as usize).copied()
    }

    /// `commonPrefixSearch`: `(value, length)` of every key that is a prefix of `key`, shortest
    /// first, at most `max` of them (sentencepiece's normalizer passes 32). `None` when the array
    /// points outside itself (a corrupt charsmap).
    fn common_prefix_search(&self, key: &[u8], max: usize) -> Option<Vec<(u32, usize)>> {
        let mut out = Vec::new();
        let mut node = 0u32;
        let mut unit = self.unit(node)?;
        node ^= unit_offset(unit);
        for (i, &byte) in key.iter().enumerate() {
            node ^= u32::from(byte);
            unit = self.unit(node)?;
            if unit_label(unit) != u32::from(byte) {
                break;
            }
            node ^= unit_offset(unit);
            if unit_has_leaf(unit) {
                if out.len() < max {
                    out.push((unit_value(self.unit(node)?), i + 1));
                } else {
                    break;
                }
            }
        }
        Some(out)
    }

    /// Every walk over any key (`commonPrefixSearch`, here and in spm_precompiled) reads only units
    /// inside the array, and every value it can return starts a char of `normalized` (or is its
    /// end). A depth-first search over the reachable nodes, trying every byte but NUL at each:
    /// Darts-clone lays a node's 256 possible children in one block of the array, so a well-formed
    /// trie passes (the KoBERT/XLM-R `nmt_nfkc` charsmap's 44,800 units take about 5 ms).
    fn check_walks(&self, normalized: &str) -> Result<()> {
        let unit = |pos: u32| {
            self.unit(pos).ok_or_else(|| {
                anyhow!(
                    "precompiled_charsmap is broken (the trie reaches unit {pos} of {})",
                    self.units.len()
                )
            })
        };
        let start = unit_offset(unit(0)?);
        let mut seen = std::collections::HashSet::from([start]);
        let mut stack = vec![start];
        while let Some(node) = stack.pop() {
            for byte in 1..=255u32 {
                let child = node ^ byte;
                let u = unit(child)?;
                if unit_label(u) != byte {
                    continue;
                }
                let next = child ^ unit_offset(u);
                if unit_has_leaf(u) {
                    let value = unit_value(unit(next)?) as usize;
                    if !normalized.is_char_boundary(value) {
                        bail!(
                            "precompiled_charsmap is broken (a rule points to byte {value} of its {}-byte strings, not a char start)",
                            normalized.len()
                        );
                    }
                }
                if seen.insert(next) {
                    stack.push(next);
                }
            }
        }
        Ok(())
    }
}

/// Where a Darts-clone unit's children start, relative to it (darts.h: `DoubleArrayUnit`, as the
/// three functions below).
fn unit_offset(unit: u32) -> u32 {
    (unit >> 10) << ((unit & (1 << 9)) >> 6)
}

/// The byte that leads to this unit; a leaf's label has bit 31 set, so it matches no byte.
fn unit_label(unit: u32) -> u32 {
    unit & ((1 << 31) | 0xFF)
}

fn unit_has_leaf(unit: u32) -> bool {
    (unit >> 8) & 1 == 1
}

fn unit_value(unit: u32) -> u32 {
    unit & ((1 << 31) - 1)
}

/// A byte trie over pieces (the model's `trie_`, and the user-defined symbols' prefix matcher).
#[derive(Debug, Clone, Default)]
struct PieceTrie {
    /// Children of each node, sorted by byte.
    children: Vec<Vec<(u8, u32)>>,
    /// Piece id ending at each node.
    value: Vec<Option<u32>>,
}

impl PieceTrie {
    fn new() -> Self {
        Self {
            children: vec![Vec::new()],
            value: vec![None],
        }
    }

    fn insert(&mut self, key: &str, id: u32) {
        let mut node = 0usize;
        for &b in key.as_bytes() {
            node = match self.children[node].binary_search_by_key(&b, |c| c.0) {
                Ok(i) => self.children[node][i].1 as usize,
                Err(i) => {
                    let child = self.children.len();
                    self.children.push(Vec::new());
                    self.value.push(None);
                    self.children[node].insert(i, (b, child as u32));
                    child
                }
            };
        }
        self.value[node] = Some(id);
    }

    fn child(&self, node: usize, b: u8) -> Option<usize> {
        let c = &self.children[node];
        c.binary_search_by_key(&b, |x| x.0).ok().map(|i| c[i].1 as usize)
    }

    /// Length of the longest key that is a prefix of `s`.
    fn longest_prefix(&self, s: &[u8]) -> Option<usize> {
        let mut node = 0;
        let mut best = None;
        for (i, &b) in s.iter().enumerate() {
            match self.child(node, b) {
                Some(n) => node = n,
                None => break,
            }
            if self.value[node].is_some() {
                best = Some(i + 1);
            }
        }
        best
    }
}

/// A precompiled charsmap's parts: `[trie size: u32 LE][trie: Darts-clone units][normalized
/// strings, NUL-separated]`. Every walk of the trie is checked to stay inside it
/// ([`DoubleArray::check_walks`]).
fn split_charsmap(blob: &[u8]) -> Result<(DoubleArray, String)> {
    let size = blob
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .filter(|&s| blob.len() > 4 && s < blob.len())
        .ok_or_else(|| anyhow!("precompiled_charsmap is broken (bad trie size)"))?;
    let trie_bytes = blob
        .get(4..4 + size)
        .ok_or_else(|| anyhow!("precompiled_charsmap is broken (trie runs past the end)"))?;
    if size % 4 != 0 {
        bail!("precompiled_charsmap is broken (trie size {size} is not a multiple of 4)");
    }
    if size > limits::CHARSMAP_TRIE_BYTES {
        bail!(
            "precompiled_charsmap's trie has {size} bytes; more than {} is refused (nmt_nfkc's has 179,200)",
            limits::CHARSMAP_TRIE_BYTES
        );
    }
    let units = trie_bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let normalized = String::from_utf8(blob[4 + size..].to_vec())
        .map_err(|_| anyhow!("precompiled_charsmap: normalized strings are not UTF-8"))?;
    let trie = DoubleArray { units };
    trie.check_walks(&normalized)?;
    Ok((trie, normalized))
}

/// Checks a precompiled charsmap (a sentencepiece model's, or a `tokenizer.json`'s `Precompiled`
/// normalizer) before the `tokenizers` crate reads it: its reader (spm_precompiled 0.1) reserves
/// memory for the trie size the blob claims (up to 8 GB) and indexes the trie and the strings
/// without bounds checks, so a crafted charsmap would abort or panic there.
pub fn check_precompiled_charsmap(blob: &[u8]) -> Result<()> {
    split_charsmap(blob).map(|_| ())
}

// ---------------------------------------------------------------------------------------------
// Normalizer

const SPACE_SYMBOL: &str = "\u{2581}";
/// sentencepiece's `Normalizer::kMaxTrieResultsSize`.
const MAX_TRIE_RESULTS: usize = 32;

/// sentencepiece's `Normalizer` for one model.
#[derive(Debug, Clone)]
pub struct Normalizer {
    spec: NormalizerSpec,
    treat_whitespace_as_suffix: bool,
    trie: Option<DoubleArray>,
    /// The charsmap's normalized strings, NUL-separated (checked to be UTF-8 at load).
    normalized: String,
    user_defined: PieceTrie,
}

impl Normalizer {
    fn new(spec: &NormalizerSpec, trainer: &TrainerSpec, user_defined: &[&str]) -> Result<Self> {
        let (trie, normalized) = if spec.precompiled_charsmap.is_empty() {
            (None, String::new())
        } else {
            let (trie, normalized) = split_charsmap(&spec.precompiled_charsmap)?;
            (Some(trie), normalized)
        };
        let mut matcher = PieceTrie::new();
        for (i, s) in user_defined.iter().enumerate() {
            matcher.insert(s, i as u32);
        }
        Ok(Self {
            spec: spec.clone(),
            treat_whitespace_as_suffix: trainer.treat_whitespace_as_suffix,
            trie,
            normalized,
            user_defined: matcher,
        })
    }

    /// `NormalizePrefix`: the normalized form of the start of `input` and how many bytes it consumes.
    fn normalize_prefix<'a>(&'a self, input: &'a str) -> Result<(&'a str, usize)> {
        if let Some(len) = self.user_defined.longest_prefix(input.as_bytes()) {
            return Ok((&input[..len], len));
        }
        if let Some(trie) = &self.trie {
            let results = trie
                .common_prefix_search(input.as_bytes(), MAX_TRIE_RESULTS)
                .ok_or_else(|| anyhow!("precompiled_charsmap is broken (trie index out of range)"))?;
            // The longest rule (the first of equal lengths).
            let mut best: Option<(u32, usize)> = None;
            for (value, len) in results {
                if best.is_none_or(|(_, l)| len > l) {
                    best = Some((value, len));
                }
            }
            if let Some((value, len)) = best {
                let start = value as usize;
                let rest = self
                    .normalized
                    .get(start..)
                    .ok_or_else(|| anyhow!("precompiled_charsmap is broken (string index {start})"))?;
                let end = rest.find('\0').unwrap_or(rest.len());
                // A rule ending inside a char cannot be applied to valid UTF-8 input: copy the char.
                if input.is_char_boundary(len) {
                    return Ok((&rest[..end], len));
                }
            }
        }
        let len = input.chars().next().map_or(0, char::len_utf8);
        Ok((&input[..len], len))
    }

    /// `Normalizer::Normalize`: the normalized text and, for each of its bytes plus one past the
    /// end, the input byte offset it comes from.
    pub fn normalize(&self, input: &str) -> Result<(String, Vec<usize>)> {
        let mut normalized = String::new();
        let mut norm_to_orig = Vec::new();
        if input.is_empty() {
            return Ok((normalized, vec![0]));
        }
        let spec = &self.spec;
        let mut consumed = 0usize;
        let mut rest = input;
        if spec.remove_extra_whitespaces {
            while !rest.is_empty() {
                let (s, n) = self.normalize_prefix(rest)?;
                if s != " " {
                    break;
                }
                rest = &rest[n..];
                consumed += n;
            }
        }
        if rest.is_empty() {
            return Ok((normalized, vec![0]));
        }
        normalized.reserve(rest.len() * 3);
        norm_to_orig.reserve(rest.len() * 3);
        let add_ws = |normalized: &mut String, norm_to_orig: &mut Vec<usize>, consumed: usize| {
            if spec.escape_whitespaces {
                normalized.push_str(SPACE_SYMBOL);
                norm_to_orig.extend([consumed; 3]);
            } else {
                normalized.push(' ');
                norm_to_orig.push(consumed);
            }
        };
        if !self.treat_whitespace_as_suffix && spec.add_dummy_prefix {
            add_ws(&mut normalized, &mut norm_to_orig, consumed);
        }
        let mut is_prev_space = spec.remove_extra_whitespaces;
        while !rest.is_empty() {
            let (mut sp, n) = self.normalize_prefix(rest)?;
            if is_prev_space {
                sp = sp.trim_start_matches(' ');
            }
            if !sp.is_empty() {
                for c in sp.chars() {
                    if spec.escape_whitespaces && c == ' ' {
                        normalized.push_str(SPACE_SYMBOL);
                        norm_to_orig.extend([consumed; 3]);
                    } else {
                        normalized.push(c);
                        norm_to_orig.extend(std::iter::repeat_n(consumed, c.len_utf8()));
                    }
                }
                is_prev_space = sp.ends_with(' ');
            }
            consumed += n;
            rest = &rest[n..];
            if !spec.remove_extra_whitespaces {
                is_prev_space = false;
            }
        }
        if spec.remove_extra_whitespaces {
            let space = if spec.escape_whitespaces { SPACE_SYMBOL } else { " " };
            while normalized.ends_with(space) {
                let length = normalized.len() - space.len();
                consumed = norm_to_orig[length];
                normalized.truncate(length);
                norm_to_orig.truncate(length);
            }
        }
        if self.treat_whitespace_as_suffix && spec.add_dummy_prefix {
            add_ws(&mut normalized, &mut norm_to_orig, consumed);
        }
        norm_to_orig.push(consumed);
        Ok((normalized, norm_to_orig))
    }
}

// ---------------------------------------------------------------------------------------------
// The Unigram model

/// One piece of an encoding: its string, id and `[begin, end)` byte span in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpToken {
    pub piece: String,
    pub id: u32,
    pub begin: usize,
    pub end: usize,
}

/// sentencepiece's `kUnkPenalty`.
const UNK_PENALTY: f32 = 10.0;

/// A loaded Unigram model: `SentencePieceProcessor` with its defaults (no sampling, no extra options).
#[derive(Debug, Clone)]
pub struct SentencePiece {
    proto: ModelProto,
    /// The `.model` file's bytes (written back by `save`).
    bytes: Vec<u8>,
    normalizer: Normalizer,
    trie: PieceTrie,
    unk_id: u32,
    min_score: f32,
    max_score: f32,
    /// NORMAL, USER_DEFINED and UNUSED pieces (`pieces_`) and the others (`reserved_id_map_`).
    piece_ids: HashMap<String, u32>,
    reserved_ids: HashMap<String, u32>,
}

impl SentencePiece {
    /// Reads and loads a `.model` file; errors name the file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = limits::read_capped(path, MODEL_BYTES)?;
        Self::from_bytes(bytes).with_context(|| format!("{}: not a usable sentencepiece model", path.display()))
    }

    /// Loads a serialized `ModelProto`.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        let proto = ModelProto::parse(&bytes)?;
        match proto.trainer_spec.model_type {
            ModelType::Unigram => {}
            other => bail!("model type {other:?} is not supported (only Unigram)"),
        }
        if proto.trainer_spec.byte_fallback {
            bail!("byte_fallback models are not supported");
        }
        let mut piece_ids = HashMap::new();
        let mut reserved_ids = HashMap::new();
        let mut unk_id = None;
        let mut user_defined = Vec::new();
        let (mut min_score, mut max_score) = (f32::MAX, f32::MIN);
        let mut trie = PieceTrie::new();
        for (i, p) in proto.pieces.iter().enumerate() {
            let id = u32::try_from(i).context("too many pieces")?;
            if p.piece.is_empty() {
                bail!("piece {i} is empty");
            }
            let normal = matches!(p.kind, PieceType::Normal | PieceType::UserDefined | PieceType::Unused);
            let map = if normal { &mut piece_ids } else { &mut reserved_ids };
            if map.insert(p.piece.clone(), id).is_some() {
                bail!("piece {:?} is defined twice", p.piece);
            }
            match p.kind {
                PieceType::Normal => {
                    min_score = min_score.min(p.score);
                    max_score = max_score.max(p.score);
                }
                PieceType::UserDefined => user_defined.push(p.piece.as_str()),
                PieceType::Unknown if unk_id.replace(id).is_some() => bail!("more than one unknown piece"),
                PieceType::Byte => bail!("byte piece {:?} without byte_fallback", p.piece),
                _ => {}
            }
            if normal {
                trie.insert(&p.piece, id);
            }
        }
        let unk_id = unk_id.ok_or_else(|| anyhow!("no unknown piece (<unk>)"))?;
        let normalizer = Normalizer::new(&proto.normalizer_spec, &proto.trainer_spec, &user_defined)?;
        Ok(Self {
            bytes,
            normalizer,
            trie,
            unk_id,
            min_score,
            max_score,
            piece_ids,
            reserved_ids,
            proto,
        })
    }

    /// The parsed model.
    pub fn proto(&self) -> &ModelProto {
        &self.proto
    }

    /// The `.model` file's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Number of pieces (`len(sp)`).
    pub fn len(&self) -> usize {
        self.proto.pieces.len()
    }

    /// Whether the model has no pieces (never true for a loaded model).
    pub fn is_empty(&self) -> bool {
        self.proto.pieces.is_empty()
    }

    /// Id of the unknown piece.
    pub fn unk_id(&self) -> u32 {
        self.unk_id
    }

    /// `PieceToId`: the id of a piece string, the unknown id when there is none.
    pub fn piece_to_id(&self, piece: &str) -> u32 {
        self.reserved_ids
            .get(piece)
            .or_else(|| self.piece_ids.get(piece))
            .copied()
            .unwrap_or(self.unk_id)
    }

    /// `IdToPiece`.
    pub fn id_to_piece(&self, id: u32) -> Option<&str> {
        self.proto.pieces.get(id as usize).map(|p| p.piece.as_str())
    }

    /// The normalizer (normalized text and its byte alignment to the input).
    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    fn kind(&self, id: u32) -> PieceType {
        self.proto.pieces.get(id as usize).map_or(PieceType::Normal, |p| p.kind)
    }

    /// `EncodeOptimized` over normalized text: `(byte start, byte end, id)` of the best path.
    fn viterbi(&self, normalized: &str) -> Vec<(usize, usize, u32)> {
        #[derive(Clone, Copy)]
        struct Best {
            id: u32,
            score: f32,
            starts_at: Option<usize>,
        }
        let bytes = normalized.as_bytes();
        let size = bytes.len();
        if size == 0 {
            return Vec::new();
        }
        let unk_score = self.min_score - UNK_PENALTY;
        let mut best = vec![
            Best {
                id: 0,
                score: 0.0,
                starts_at: None,
            };
            size + 1
        ];
        let mut starts_at = 0usize;
        while starts_at < size {
            let till_here = best[starts_at].score;
            let mblen = one_char_len(bytes[starts_at]).min(size - starts_at);
            let mut has_single_node = false;
            let mut node = 0usize;
            let mut key_pos = starts_at;
            while key_pos < size {
                match self.trie.child(node, bytes[key_pos]) {
                    Some(n) => node = n,
                    None => break,
                }
                key_pos += 1;
                let Some(id) = self.trie.value[node] else { continue };
                let kind = self.kind(id);
                if kind == PieceType::Unused {
                    continue;
                }
                let length = key_pos - starts_at;
                let target = &mut best[key_pos];
                // A tie keeps the earlier start. A normal piece's candidate is float (as the 0.2.3
                // wheel computes it: this matches it on every test without user-defined symbols).
                // A user-defined piece scores `length * max_score - 0.1` with a double `0.1`: its
                // candidate is a double, compared with the stored float and stored rounded. With
                // `max_score` the best normal score, this reproduces the wheel's choice among
                // equal-score orders on all but 14 of 10,973 texts of a test model (see the module
                // docs).
                let candidate = if kind == PieceType::UserDefined {
                    f64::from(length as f32 * self.max_score) - 0.1 + f64::from(till_here)
                } else {
                    f64::from(self.proto.pieces[id as usize].score + till_here)
                };
                let better = target.starts_at.is_none() || candidate > f64::from(target.score);
                if better {
                    *target = Best {
                        id,
                        score: candidate as f32,
                        starts_at: Some(starts_at),
                    };
                }
                if length == mblen {
                    has_single_node = true;
                }
            }
            if !has_single_node {
                let target = &mut best[starts_at + mblen];
                let candidate = unk_score + till_here;
                if target.starts_at.is_none() || candidate > target.score {
                    *target = Best {
                        id: self.unk_id,
                        score: candidate,
                        starts_at: Some(starts_at),
                    };
                }
            }
            starts_at += mblen;
        }
        let mut out = Vec::new();
        let mut ends_at = size;
        while ends_at > 0 {
            let node = best[ends_at];
            // Every position reached by `starts_at += mblen` has a node (the unknown one at least).
            let start = node.starts_at.unwrap_or(0);
            out.push((start, ends_at, node.id));
            ends_at = start;
        }
        out.reverse();
        out
    }

    /// `EncodeAsPieces` with spans: pieces, ids and `[begin, end)` byte spans into `input`.
    /// Runs of unknown pieces are merged into one piece (their text concatenated).
    pub fn encode(&self, input: &str) -> Result<Vec<SpToken>> {
        let (normalized, norm_to_orig) = self.normalizer.normalize(input)?;
        let mut out: Vec<SpToken> = Vec::new();
        let mut prev_unk = false;
        for (start, end, id) in self.viterbi(&normalized) {
            let piece = normalized
                .get(start..end)
                .ok_or_else(|| anyhow!("internal error: piece {start}..{end} splits a char"))?;
            let is_unk = id == self.unk_id;
            let (begin, finish) = (norm_to_orig[start], norm_to_orig[end]);
            match out.last_mut() {
                Some(last) if prev_unk && is_unk => {
                    last.piece.push_str(piece);
                    last.end = finish;
                }
                _ => out.push(SpToken {
                    piece: piece.to_owned(),
                    id,
                    begin,
                    end: finish,
                }),
            }
            prev_unk = is_unk;
        }
        Ok(out)
    }

    /// The piece strings of [`SentencePiece::encode`].
    pub fn encode_as_pieces(&self, input: &str) -> Result<Vec<String>> {
        Ok(self.encode(input)?.into_iter().map(|t| t.piece).collect())
    }
}

/// sentencepiece's `OneCharLen`: the UTF-8 sequence length announced by a lead byte.
fn one_char_len(lead: u8) -> usize {
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4][usize::from(lead >> 4)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn bytes_field(n: u64, data: &[u8], out: &mut Vec<u8>) {
        varint(n << 3 | 2, out);
        varint(data.len() as u64, out);
        out.extend_from_slice(data);
    }

    fn piece(text: &str, score: f32, kind: u64) -> Vec<u8> {
        let mut p = Vec::new();
        bytes_field(1, text.as_bytes(), &mut p);
        varint(2 << 3 | 5, &mut p);
        p.extend_from_slice(&score.to_le_bytes());
        varint(3 << 3, &mut p);
        varint(kind, &mut p);
        p
    }

    /// A tiny identity-normalized model: <unk>, <s>, ▁, a, b, ab, ▁a.
    fn tiny() -> Vec<u8> {
        let mut m = Vec::new();
        for (t, s, k) in [
            ("<unk>", 0.0, 2),
            ("<s>", 0.0, 3),
            ("\u{2581}", -1.0, 1),
            ("a", -2.0, 1),
            ("b", -2.0, 1),
            ("ab", -3.0, 1),
            ("\u{2581}a", -1.5, 1),
        ] {
            bytes_field(1, &piece(t, s, k), &mut m);
        }
        m
    }

    #[test]
    fn tiny_model_encodes() {
        let sp = SentencePiece::from_bytes(tiny()).expect("load");
        let toks = sp.encode("  ab  b xa").expect("encode");
        let pieces: Vec<(&str, u32, usize, usize)> =
            toks.iter().map(|t| (t.piece.as_str(), t.id, t.begin, t.end)).collect();
        assert_eq!(
            pieces,
            vec![
                ("\u{2581}a", 6, 2, 3),
                ("b", 4, 3, 4),
                ("\u{2581}", 2, 4, 6),
                ("b", 4, 6, 7),
                ("\u{2581}", 2, 7, 8),
                ("x", 0, 8, 9),
                ("a", 3, 9, 10),
            ]
        );
        assert_eq!(sp.piece_to_id("<s>"), 1);
        assert_eq!(sp.piece_to_id("zz"), 0);
    }

    #[test]
    fn corrupt_models_are_errors() {
        let good = tiny();
        for cut in [1, 2, 5, good.len() / 2, good.len() - 1] {
            assert!(SentencePiece::from_bytes(good[..cut].to_vec()).is_err(), "cut at {cut}");
        }
        assert!(SentencePiece::from_bytes(b"not a model at all \xff\xff\xff".to_vec()).is_err());
        assert!(SentencePiece::from_bytes(Vec::new()).is_err());
        // BPE is refused.
        let mut bpe = good.clone();
        let mut spec = Vec::new();
        varint(3 << 3, &mut spec);
        varint(2, &mut spec);
        bytes_field(2, &spec, &mut bpe);
        let err = SentencePiece::from_bytes(bpe).expect_err("bpe");
        assert!(format!("{err:#}").contains("Bpe"), "{err:#}");
        // A broken charsmap.
        let mut broken = good;
        let mut norm = Vec::new();
        bytes_field(2, &[200, 0, 0, 0, 1, 2, 3], &mut norm);
        bytes_field(3, &norm, &mut broken);
        assert!(SentencePiece::from_bytes(broken).is_err());
    }

    #[test]
    fn a_repeated_spec_is_merged_as_protobuf_merges() {
        let mut model = tiny();
        let mut first = Vec::new();
        bytes_field(1, b"identity", &mut first);
        varint(3 << 3, &mut first);
        varint(0, &mut first); // add_dummy_prefix: false
        bytes_field(3, &first, &mut model);
        let mut second = Vec::new();
        varint(4 << 3, &mut second);
        varint(0, &mut second); // remove_extra_whitespaces: false
        bytes_field(3, &second, &mut model);
        let spec = ModelProto::parse(&model).expect("parse").normalizer_spec;
        assert_eq!(spec.name, "identity");
        assert!(!spec.add_dummy_prefix);
        assert!(!spec.remove_extra_whitespaces);
        assert!(spec.escape_whitespaces);
    }

    /// `[trie size][units][normalized]`.
    fn charsmap(units: &[u32], normalized: &[u8]) -> Vec<u8> {
        let mut blob = ((units.len() * 4) as u32).to_le_bytes().to_vec();
        blob.extend(units.iter().flat_map(|u| u.to_le_bytes()));
        blob.extend_from_slice(normalized);
        blob
    }

    /// A one-block Darts-clone trie with one rule, "a" -> the string at byte `value`: the root
    /// (offset 0) has child 'a' at unit 97, whose offset leads to its leaf at unit 200.
    fn one_rule_trie(value: u32) -> Vec<u32> {
        let mut units = vec![0u32; 256];
        units[97] = 97 | 1 << 8 | (97 ^ 200) << 10;
        units[200] = 1 << 31 | value;
        units
    }

    fn model_with_charsmap(blob: &[u8]) -> Result<SentencePiece> {
        let mut model = tiny();
        let mut norm = Vec::new();
        bytes_field(2, blob, &mut norm);
        bytes_field(3, &norm, &mut model);
        SentencePiece::from_bytes(model)
    }

    #[test]
    fn charsmap_walks_are_checked_at_load() {
        let sp = model_with_charsmap(&charsmap(&one_rule_trie(0), b"x\0")).expect("a well-formed trie loads");
        assert_eq!(sp.normalizer().normalize("ba").expect("normalize").0, "\u{2581}bx");
        let refused = |blob: Vec<u8>, why: &str| {
            let err = format!("{:#}", model_with_charsmap(&blob).expect_err(why));
            assert!(err.contains(why), "{err}");
            assert_eq!(check_precompiled_charsmap(&blob).map_err(|e| e.to_string()), Err(err));
        };
        refused(charsmap(&[0], b"x\0"), "the trie reaches unit 1 of 1");
        refused(
            charsmap(&one_rule_trie(5), b"x\0"),
            "points to byte 5 of its 2-byte strings",
        );
        refused(
            charsmap(&one_rule_trie(1), "\u{ac00}\0".as_bytes()),
            "points to byte 1 of its 4-byte strings",
        );
        let mut huge = charsmap(&one_rule_trie(0), b"x\0");
        huge[..4].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
        refused(huge, "bad trie size");
        let above_cap = vec![0; limits::CHARSMAP_TRIE_BYTES / 4 + 1];
        refused(
            charsmap(&above_cap, b"x\0"),
            "trie has 4194308 bytes; more than 4194304 is refused",
        );
    }
}
