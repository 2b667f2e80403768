//! KorQuAD / SQuAD: the sliding-window features (spec §5.3).
//!
//! Tokenization goes through the run's [`Tokenizer`]: each doc word on its own, the question (cut to
//! `max_query_length` tokens) and, in training, the answer text for the improved span. Windows start
//! every `doc_stride` doc tokens and hold at most `max_seq_length - len(q) - 3` of them; each is
//! `[CLS] q [SEP] doc-window [SEP]`.
//!
//! **No padding is stored.** A batcher pads. The reference pads every window to `max_seq_length` and its
//! QA head masks nothing (spec §6.4, §11.11). Padding only to the longest window of a batch gives the
//! same logits at every real position (attention masks padded keys; up to float rounding), and every
//! answer the decoder can return lies at a real position. Two things do depend on the padded length,
//! though: the training loss (its softmax over positions includes the unmasked padding logits) and the
//! reference decoder's top-20 start/end search, which runs over all positions, padding included, before
//! it filters (so padding logits can push real positions out of the top 20). A faithful reproduction
//! therefore pads to `max_seq_length` (see [`super::eval::pad_windows`]).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Result};

use super::reader::{read_examples, SquadExample};
use crate::infer::SplitData;
use crate::io::progress;
use crate::tasks::reading::show;
use crate::text::Tokenizer;

/// `unique_id` of the first feature (the reference's constant).
pub const FIRST_UNIQUE_ID: i64 = 1_000_000_000;

/// How examples are cut into windows (config keys of the same names; `threads` workers build them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// Window length in tokens, special tokens included.
    pub max_seq_length: usize,
    /// Distance in doc tokens between window starts.
    pub doc_stride: usize,
    /// Question length cap in tokens.
    pub max_query_length: usize,
    /// Worker threads (the result does not depend on them).
    pub threads: usize,
    /// With a double-separator tokenizer (XLM-R: `<s> q </s></s> d </s>`), key the document maps and
    /// the training targets at `len(q) + 2` as transformers 3.3.1 did, one before the real first
    /// document token (config key `squad_reference_xlmr_offset`), instead of at `len(q) + 3`.
    pub reference_xlmr_offset: bool,
}

impl Windows {
    /// Document tokens a window holds beside a `query_len`-token question, its start token and
    /// 1 + `separators` separators; `None` when they do not fit.
    pub fn doc_tokens(&self, query_len: usize, separators: usize) -> Option<usize> {
        self.max_seq_length.checked_sub(query_len + 2 + separators)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SquadFeature {
    /// Index among the examples that produced at least one feature (the reference's numbering).
    pub example_index: usize,
    /// Position of the example in the slice given to [`build_features`] (equal to `example_index`
    /// unless some example produced no feature, which needs a context without doc tokens).
    pub example_pos: usize,
    /// Counts up from [`FIRST_UNIQUE_ID`] over all features.
    pub unique_id: i64,
    pub input_ids: Vec<i64>,
    /// 0 on `[CLS] q [SEP]`, 1 on the document tokens and the final `[SEP]`.
    pub token_type_ids: Vec<i64>,
    /// Vocab strings of `input_ids` up to the first `[PAD]` id (normally all of them; a document that
    /// contains the literal text `[PAD]` cuts them short, as in the reference).
    pub tokens: Vec<String>,
    /// Per position of `input_ids`: the doc word of a document token, `None` elsewhere.
    pub token_to_orig_map: Vec<Option<usize>>,
    /// Per position: true on a document token whose max-context window is this one.
    pub token_is_max_context: Vec<bool>,
    /// Training targets (positions in `input_ids`); 0 (`[CLS]`) when the answer is not inside this
    /// window, the question is impossible, or in evaluation.
    pub start_position: usize,
    pub end_position: usize,
    /// The example's flag, or true for a training window that does not contain the answer.
    pub is_impossible: bool,
    /// Number of document tokens in the window.
    pub paragraph_len: usize,
    /// Number of question tokens (after the cut to `max_query_length`).
    pub query_len: usize,
    /// Where `token_to_orig_map`, `token_is_max_context` and the targets put the first document
    /// token: `query_len + 2`, XLM-R's `query_len + 3`, or `query_len + 2` again with
    /// [`Windows::reference_xlmr_offset`] (one before the real first document token).
    pub doc_offset: usize,
}

impl SquadFeature {
    /// See [`SquadFeature::doc_offset`] (the field).
    pub fn doc_offset(&self) -> usize {
        self.doc_offset
    }
}

/// One sliding window over an example's doc tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocWindow {
    /// Offset of the first doc token.
    pub start: usize,
    /// Number of doc tokens.
    pub len: usize,
}

/// Windows over `n_doc` doc tokens (spec §5.3): window k starts at `k * doc_stride` and holds
/// `min(n_doc - start, budget)` tokens; the first window that reaches the end is the last. No windows
/// for an empty document. `budget` and `doc_stride` must be at least 1 (else the result is empty).
pub fn doc_windows(n_doc: usize, budget: usize, doc_stride: usize) -> Vec<DocWindow> {
    let mut windows = Vec::new();
    if budget == 0 || doc_stride == 0 {
        return windows;
    }
    let mut start = 0;
    while start < n_doc {
        let len = (n_doc - start).min(budget);
        windows.push(DocWindow { start, len });
        if start + len >= n_doc {
            break;
        }
        start += doc_stride;
    }
    windows
}

/// The max-context window of doc token `pos`: among the windows containing it, the first with the
/// strictly highest `min(left, right) + 0.01 * len`; `None` when no window contains it.
pub fn max_context_window(windows: &[DocWindow], pos: usize) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (index, w) in windows.iter().enumerate() {
        if pos < w.start || pos >= w.start + w.len {
            continue;
        }
        let left = pos - w.start;
        let right = w.start + w.len - 1 - pos;
        let score = left.min(right) as f64 + 0.01 * w.len as f64;
        if best.is_none_or(|(_, b)| score > b) {
            best = Some((index, score));
        }
    }
    best.map(|(index, _)| index)
}

/// The reference's improved answer span: the first `(s, e)` inside `[start, end]` (s ascending, e
/// descending) whose doc tokens equal the answer's tokens, else `(start, end)`.
///
/// The reference compares space-joined token strings; tokens never contain spaces and ids map one to
/// one to vocab strings, so comparing id sequences is the same test, and for a given start only
/// `e = s + len(answer) - 1` can match.
fn improve_answer_span(doc: &[i64], start: i64, end: i64, answer: &[i64]) -> (i64, i64) {
    let len = answer.len() as i64;
    if len > 0 {
        for s in start..=end {
            let e = s + len - 1;
            if e > end {
                break;
            }
            let (Ok(su), Ok(eu)) = (usize::try_from(s), usize::try_from(e)) else {
                continue;
            };
            if doc.get(su..=eu) == Some(answer) {
                return (s, e);
            }
        }
    }
    (start, end)
}

/// An example's doc words tokenized: the sub-token ids, each one's doc word, each word's first sub-token.
struct DocTokens {
    ids: Vec<i64>,
    tok_to_word: Vec<usize>,
    word_to_first_tok: Vec<usize>,
}

fn tokenize_doc(tok: &dyn Tokenizer, words: &[String]) -> Result<DocTokens> {
    let refs: Vec<&str> = words.iter().map(String::as_str).collect();
    let pieces = tok.encode_words(&refs)?;
    let mut doc = DocTokens {
        ids: Vec::with_capacity(pieces.iter().map(Vec::len).sum()),
        tok_to_word: Vec::new(),
        word_to_first_tok: Vec::with_capacity(words.len()),
    };
    for (word, ids) in pieces.into_iter().enumerate() {
        doc.word_to_first_tok.push(doc.ids.len());
        doc.tok_to_word.extend(std::iter::repeat_n(word, ids.len()));
        doc.ids.extend(ids);
    }
    Ok(doc)
}

/// Settings shared by every example of one [`build_features`] call.
#[derive(Clone, Copy)]
struct Params {
    windows: Windows,
    is_training: bool,
}

/// Spec §5.3 features of `examples`, in example order then window order, on `windows.threads`
/// workers; `is_training` adds the answer targets.
///
/// The result does not depend on the number of threads. Errors name the question id.
pub fn build_features(
    tok: &dyn Tokenizer,
    examples: &[SquadExample],
    windows: &Windows,
    is_training: bool,
) -> Result<Vec<SquadFeature>> {
    if windows.doc_stride == 0 {
        bail!("doc_stride must be at least 1");
    }
    let params = Params {
        windows: *windows,
        is_training,
    };
    let threads = windows.threads.clamp(1, examples.len().max(1));
    let chunk_len = examples.len().div_ceil(threads).max(1);
    let parts: Vec<Result<Vec<Vec<SquadFeature>>>> = if threads == 1 {
        vec![convert_chunk(tok, examples, 0, params)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = examples
                .chunks(chunk_len)
                .enumerate()
                .map(|(i, part)| scope.spawn(move || convert_chunk(tok, part, i * chunk_len, params)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow!("a SQuAD feature thread panicked")))
                })
                .collect()
        })
    };

    let mut features = Vec::new();
    let (mut example_index, mut unique_id) = (0, FIRST_UNIQUE_ID);
    for part in parts {
        for example_features in part? {
            if example_features.is_empty() {
                continue;
            }
            for mut feature in example_features {
                feature.example_index = example_index;
                feature.unique_id = unique_id;
                unique_id += 1;
                features.push(feature);
            }
            example_index += 1;
        }
    }
    Ok(features)
}

/// Features of consecutive examples (`first_pos` is the first one's position), one list per example.
/// Questions of the same paragraph reuse its doc tokenization.
fn convert_chunk(
    tok: &dyn Tokenizer,
    examples: &[SquadExample],
    first_pos: usize,
    params: Params,
) -> Result<Vec<Vec<SquadFeature>>> {
    let mut cached: Option<(Arc<[String]>, DocTokens)> = None;
    let mut out = Vec::with_capacity(examples.len());
    for (i, ex) in examples.iter().enumerate() {
        let doc = match cached.take() {
            Some((words, doc)) if Arc::ptr_eq(&words, &ex.doc_words) => (words, doc),
            _ => {
                let doc =
                    tokenize_doc(tok, &ex.doc_words).map_err(|e| anyhow!("question {}: {e:#}", show(&ex.qas_id)))?;
                (Arc::clone(&ex.doc_words), doc)
            }
        };
        let features = example_features(tok, ex, &doc.1, first_pos + i, params)
            .map_err(|e| anyhow!("question {}: {e:#}", show(&ex.qas_id)))?;
        out.push(features);
        cached = Some(doc);
    }
    Ok(out)
}

/// The windows of one example (`example_index` and `unique_id` are filled in later).
fn example_features(
    tok: &dyn Tokenizer,
    ex: &SquadExample,
    doc: &DocTokens,
    example_pos: usize,
    p: Params,
) -> Result<Vec<SquadFeature>> {
    let mut query = tok.encode_words(&[ex.question.as_str()])?.pop().unwrap_or_default();
    query.truncate(p.windows.max_query_length);
    let n_doc = doc.ids.len();
    if n_doc == 0 {
        return Ok(Vec::new());
    }
    let max_seq_length = p.windows.max_seq_length;
    let layout = PairLayout::of(tok, p.windows.reference_xlmr_offset)?;
    let budget = p
        .windows
        .doc_tokens(query.len(), layout.separators)
        .filter(|&m| m > 0)
        .ok_or_else(|| {
            anyhow!(
                "max_seq_length {max_seq_length} leaves no room for document tokens after the start token, the \
                 {}-token question and {} separators",
                query.len(),
                layout.separators + 1
            )
        })?;
    let target = match p.is_training && !ex.is_impossible {
        true => Some(answer_target(tok, ex, doc)?),
        false => None,
    };
    let windows = doc_windows(n_doc, budget, p.windows.doc_stride);
    let example = ExampleTokens {
        layout,
        query: &query,
        doc,
        windows: &windows,
        target,
        is_impossible: ex.is_impossible,
        example_pos,
    };
    (0..windows.len()).map(|k| example.window(tok, k)).collect()
}

/// Training: the answer's doc-token span, as the reference computes it (signed: a span over words
/// that tokenize to nothing can end before it starts).
fn answer_target(tok: &dyn Tokenizer, ex: &SquadExample, doc: &DocTokens) -> Result<(i64, i64)> {
    let (Some(start_word), Some(end_word), Some(answer)) = (ex.start_word, ex.end_word, ex.answers.first()) else {
        bail!("training example without an answer position (read it with is_training = true)");
    };
    let first_tok = |w: usize| {
        doc.word_to_first_tok
            .get(w)
            .map(|&t| t as i64)
            .ok_or_else(|| anyhow!("answer word {w} is past the {} doc words", doc.word_to_first_tok.len()))
    };
    let tok_start = first_tok(start_word)?;
    let tok_end = if end_word + 1 < doc.word_to_first_tok.len() {
        first_tok(end_word + 1)? - 1
    } else {
        doc.ids.len() as i64 - 1
    };
    let answer_ids = tok.encode_words(&[answer.text.as_str()])?.pop().unwrap_or_default();
    Ok(improve_answer_span(&doc.ids, tok_start, tok_end, &answer_ids))
}

/// How a question and a document window sit in one input: `[CLS] q [SEP] d [SEP]` (BERT, ELECTRA)
/// or `<s> q </s></s> d </s>` (XLM-R).
#[derive(Debug, Clone, Copy)]
struct PairLayout {
    /// Separators between question and document.
    separators: usize,
    /// Whether the document's tokens get type id 1 (XLM-R's tokenizer has no token types).
    typed: bool,
    /// Positions the maps and targets are keyed one before the document (transformers 3.3.1's
    /// XLM-R off-by-one, on request).
    shift_back: usize,
}

impl PairLayout {
    fn of(tok: &dyn Tokenizer, reference_xlmr_offset: bool) -> Result<Self> {
        let separators = tok.pair_separators();
        let typed = tok.encode("a", Some("b"), 16)?.type_ids.iter().any(|&t| t != 0);
        let shift_back = usize::from(reference_xlmr_offset && separators == 2);
        Ok(Self {
            separators,
            typed,
            shift_back,
        })
    }
}

/// One example's tokens and windows, from which each window's feature is cut.
struct ExampleTokens<'a> {
    layout: PairLayout,
    query: &'a [i64],
    doc: &'a DocTokens,
    windows: &'a [DocWindow],
    target: Option<(i64, i64)>,
    is_impossible: bool,
    example_pos: usize,
}

impl ExampleTokens<'_> {
    /// The feature of window `k`: `[CLS] q [SEP] window [SEP]` (or XLM-R's `<s> q </s></s> window
    /// </s>`) with its maps and targets.
    fn window(&self, tok: &dyn Tokenizer, k: usize) -> Result<SquadFeature> {
        let w = self.windows[k];
        let outside = || anyhow!("window {k} is outside the document");
        let window_ids = self.doc.ids.get(w.start..w.start + w.len).ok_or_else(outside)?;
        let window_words = self.doc.tok_to_word.get(w.start..w.start + w.len).ok_or_else(outside)?;
        let first_doc_token = 1 + self.query.len() + self.layout.separators;
        let total = first_doc_token + w.len + 1;
        let (cls, sep, pad) = (tok.cls_id(), tok.sep_id(), tok.pad_id());
        let mut input_ids = Vec::with_capacity(total);
        input_ids.push(cls);
        input_ids.extend_from_slice(self.query);
        input_ids.extend(std::iter::repeat_n(sep, self.layout.separators));
        input_ids.extend_from_slice(window_ids);
        input_ids.push(sep);
        let mut token_type_ids = vec![0; first_doc_token];
        token_type_ids.resize(total, i64::from(self.layout.typed));
        // Where the maps and targets put the document (one early with the reference's XLM-R offset).
        let doc_offset = first_doc_token - self.layout.shift_back;

        let unpadded = input_ids.iter().position(|&id| id == pad).unwrap_or(total);
        let tokens = input_ids[..unpadded]
            .iter()
            .map(|&id| id_to_token(tok, id))
            .collect::<Result<Vec<_>>>()?;

        let mut token_to_orig_map = vec![None; total];
        let mut token_is_max_context = vec![false; total];
        for (j, &word) in window_words.iter().enumerate() {
            token_to_orig_map[doc_offset + j] = Some(word);
            token_is_max_context[doc_offset + j] = max_context_window(self.windows, w.start + j) == Some(k);
        }
        let (start_position, end_position, is_impossible) = self.positions(w, k, doc_offset)?;
        Ok(SquadFeature {
            example_index: 0,
            example_pos: self.example_pos,
            unique_id: 0,
            input_ids,
            token_type_ids,
            tokens,
            token_to_orig_map,
            token_is_max_context,
            start_position,
            end_position,
            is_impossible,
            paragraph_len: w.len,
            query_len: self.query.len(),
            doc_offset,
        })
    }

    /// Training targets inside window `k` (0, 0 and impossible when the answer is not in it).
    fn positions(&self, w: DocWindow, k: usize, doc_offset: usize) -> Result<(usize, usize, bool)> {
        let Some((tok_start, tok_end)) = self.target else {
            return Ok((0, 0, self.is_impossible));
        };
        let doc_start = w.start as i64;
        let doc_end = doc_start + w.len as i64 - 1;
        if tok_start < doc_start || tok_end > doc_end {
            return Ok((0, 0, true));
        }
        let at = |t: i64| {
            usize::try_from(t - doc_start + doc_offset as i64)
                .map_err(|_| anyhow!("answer position {t} before window {k}"))
        };
        Ok((at(tok_start)?, at(tok_end)?, false))
    }
}

fn id_to_token(tok: &dyn Tokenizer, id: i64) -> Result<String> {
    tok.id_to_token(id)
        .ok_or_else(|| anyhow!("token id {id} is not in the vocab"))
}

/// A KorQuAD/SQuAD file, read and cut into windows.
pub struct Split {
    pub name: &'static str,
    pub examples: Vec<SquadExample>,
    pub features: Vec<SquadFeature>,
}

impl SplitData for Split {
    fn name(&self) -> &'static str {
        self.name
    }

    /// Every window is padded to max_seq_length (see [`super::eval::pad_windows`]): grouping by length would save
    /// nothing and only make batches homogeneous (all short last windows together), so all lengths
    /// are equal and the stable sort keeps the random order.
    fn lengths(&self) -> Vec<usize> {
        vec![0; self.features.len()]
    }
}

/// Reads a SQuAD file and cuts its questions into windows (`training`: with answer targets;
/// `version_2`: SQuAD 2.0 questions allowed).
pub fn read_split(
    path: &Path,
    name: &'static str,
    tok: &dyn Tokenizer,
    windows: &Windows,
    training: bool,
    version_2: bool,
) -> Result<Split> {
    let read = read_examples(path, training, version_2)?;
    if read.dropped > 0 {
        log::info!(
            "{name}: dropped {} question(s) whose answer is not at answer_start (as the reference)",
            read.dropped
        );
    }
    if !training && !read.version.is_empty() && !read.version.starts_with("KorQuAD_v1.0") {
        log::warn!(
            "{}: version {:?}, the official scorer expects KorQuAD_v1.0",
            path.display(),
            read.version
        );
    }
    if read.examples.is_empty() {
        bail!("{}: no questions", path.display());
    }
    let bar = progress::bar(read.examples.len() as u64, &format!("windows {name}"));
    let started = Instant::now();
    let features = build_features(tok, &read.examples, windows, training)?;
    bar.finish_and_clear();
    log::info!(
        "{name}: {} questions, {} windows from {} ({:.1}s)",
        read.examples.len(),
        features.len(),
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(Split {
        name,
        examples: read.examples,
        features,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_max_context() {
        let w = doc_windows(1000, 489, 128);
        let starts: Vec<_> = w.iter().map(|w| (w.start, w.start + w.len)).collect();
        assert_eq!(starts, [(0, 489), (128, 617), (256, 745), (384, 873), (512, 1000)]);
        assert_eq!(max_context_window(&w, 300), Some(0));
        assert_eq!(max_context_window(&w, 0), Some(0));
        assert_eq!(max_context_window(&w, 999), Some(4));
        assert!(doc_windows(0, 10, 5).is_empty());
        assert_eq!(doc_windows(10, 10, 5), [DocWindow { start: 0, len: 10 }]);
        // Gaps when the stride exceeds the budget: tokens 3, 4, 8 and 9 are in no window.
        let gap = doc_windows(10, 3, 5);
        assert_eq!(gap, [DocWindow { start: 0, len: 3 }, DocWindow { start: 5, len: 3 }]);
        assert_eq!(max_context_window(&gap, 3), None);
    }

    #[test]
    fn improved_span() {
        let doc = [5, 6, 7, 8, 9];
        assert_eq!(improve_answer_span(&doc, 0, 4, &[7, 8]), (2, 3));
        assert_eq!(improve_answer_span(&doc, 0, 2, &[7, 8]), (0, 2));
        assert_eq!(improve_answer_span(&doc, 1, 3, &[]), (1, 3));
        assert_eq!(improve_answer_span(&doc, 3, 2, &[8]), (3, 2));
    }
}
