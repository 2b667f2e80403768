//! KorQuAD / SQuAD: the JSON reader (spec §4.9) and the sliding-window features (spec §5.3).
//!
//! **Reading.** `data[] → {title, paragraphs[] → {context, qas[] → {id, question, answers[] → {text,
//! answer_start}, is_impossible?}}}`. Every offset and length is in Unicode chars, never bytes. Each
//! context is split into *doc words* on the narrow whitespace set of the reference (space, `\t`, `\r`,
//! `\n`, U+202F: NBSP and the other Unicode spaces stay inside words); the context, its words and its
//! char → word map are shared by the questions of a paragraph. Training keeps only the first answer and
//! drops (and counts) examples whose answer fails the reference's sanity check; evaluation keeps every
//! answer and refuses an `answer_start` that does not point at the answer text. Errors are one line
//! naming the file and where: `line/column` for malformed JSON, `data[i].paragraphs[j]` or the question
//! id for a missing or mistyped field.
//!
//! **Features.** Tokenization goes through [`ElectraTokenizer`] (HF `ElectraTokenizerFast`): each doc
//! word on its own, the question (cut to `max_query_length` tokens) and, in training, the answer text
//! for the improved span. Windows start every `doc_stride` doc tokens and hold at most
//! `max_seq_length - len(q) - 3` of them; each is `[CLS] q [SEP] doc-window [SEP]`.
//!
//! **No padding is stored.** A batcher pads. The reference pads every window to `max_seq_length` and its
//! QA head masks nothing (spec §6.4, §11.11). Padding only to the longest window of a batch gives the
//! same logits at every real position (attention masks padded keys; up to float rounding), and every
//! answer the decoder can return lies at a real position. Two things do depend on the padded length,
//! though: the training loss (its softmax over positions includes the unmasked padding logits) and the
//! reference decoder's top-20 start/end search, which runs over all positions, padding included, before
//! it filters (so padding logits can push real positions out of the top 20). A faithful reproduction
//! therefore pads to `max_seq_length`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{anyhow, bail, Result};
use serde_json::Value;

use crate::tasks::seq_cls::{is_py_whitespace, show};
use crate::tokenizer::ElectraTokenizer;

/// `unique_id` of the first feature (the reference's constant).
pub const FIRST_UNIQUE_ID: i64 = 1_000_000_000;

/// One gold answer: its text and the char offset of its first char in the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub text: String,
    pub start_char: usize,
}

/// One question with its paragraph.
#[derive(Debug, Clone)]
pub struct SquadExample {
    pub qas_id: String,
    pub question: String,
    /// The paragraph's context, shared by its questions.
    pub context: Arc<str>,
    /// The context split on [`is_doc_whitespace`] (shared per paragraph).
    pub doc_words: Arc<[String]>,
    /// For each char of the context, the index of its doc word; a whitespace char gets the previous
    /// word's index, or -1 before the first word (shared per paragraph).
    pub char_to_word: Arc<[i64]>,
    /// Evaluation: every gold answer. Training: only the first one (none for an impossible question).
    pub answers: Vec<Answer>,
    /// Training only: the doc words of the first answer's first and last chars.
    pub start_word: Option<usize>,
    pub end_word: Option<usize>,
    /// SQuAD 2.0 unanswerable question (only read when `version_2` is on).
    pub is_impossible: bool,
    pub title: String,
}

/// What [`read_examples`] read.
#[derive(Debug, Clone)]
pub struct ReadOutcome {
    /// Examples in file order (dropped ones left out).
    pub examples: Vec<SquadExample>,
    /// Training only: questions dropped because the answer is not where `answer_start` says (the
    /// reference's "Could not find answer"), `answer_start` is outside the context or points at
    /// whitespace before the first word, or the answer text is empty.
    pub dropped: usize,
    /// The file's `version` string (`""` when absent).
    pub version: String,
    /// Number of articles (`data[]` entries) and paragraphs read.
    pub articles: usize,
    pub paragraphs: usize,
}

/// One window of one example: `[CLS] q [SEP] doc[start..start+paragraph_len] [SEP]`, not padded.
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
}

impl SquadFeature {
    /// Position of the first document token: `query_len + 2`.
    pub fn doc_offset(&self) -> usize {
        self.query_len + 2
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

/// The reference's doc-word separators: space, `\t`, `\r`, `\n` and U+202F only.
pub fn is_doc_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{202f}')
}

/// Splits a context into doc words and the char → word map (see [`SquadExample::char_to_word`]).
pub fn split_doc_words(context: &str) -> (Vec<String>, Vec<i64>) {
    let mut words: Vec<String> = Vec::new();
    let mut char_to_word = Vec::with_capacity(context.len());
    let mut prev_is_whitespace = true;
    for c in context.chars() {
        if is_doc_whitespace(c) {
            prev_is_whitespace = true;
        } else {
            if prev_is_whitespace {
                words.push(String::new());
            }
            if let Some(word) = words.last_mut() {
                word.push(c);
            }
            prev_is_whitespace = false;
        }
        char_to_word.push(words.len() as i64 - 1);
    }
    (words, char_to_word)
}

/// Reads a SQuAD-format JSON file.
///
/// `is_training`: keep only the first answer, compute `start_word`/`end_word` and drop examples that
/// fail the answer check (counted in [`ReadOutcome::dropped`]). Otherwise keep every answer and fail on
/// one whose `answer_start` does not point at its text. `version_2`: honour `is_impossible` (a question
/// marked impossible in a file read without it is an error).
pub fn read_examples(path: &Path, is_training: bool, version_2: bool) -> Result<ReadOutcome> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| anyhow!("{shown}: cannot read file: {e}"))?;
    parse_examples(&bytes, &shown, is_training, version_2)
}

/// [`read_examples`] on file contents; `source` names the file in errors.
pub fn parse_examples(bytes: &[u8], source: &str, is_training: bool, version_2: bool) -> Result<ReadOutcome> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let root: Value = serde_json::from_slice(bytes).map_err(|e| json_error(source, &e))?;
    let top = Loc::new(source, "the top level".to_string());
    if !root.is_object() {
        bail!(
            "{source}: expected a JSON object with a \"data\" array at the top level, found {}",
            json_type(&root)
        );
    }
    let version = match root.get("version") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let articles = top.array(&root, "data")?;

    let mut outcome = ReadOutcome {
        examples: Vec::new(),
        dropped: 0,
        version,
        articles: articles.len(),
        paragraphs: 0,
    };
    for (ai, article) in articles.iter().enumerate() {
        let at = Loc::new(source, format!("data[{ai}]"));
        at.object(article)?;
        let title = at.string(article, "title")?;
        let paragraphs = at.array(article, "paragraphs")?;
        outcome.paragraphs += paragraphs.len();
        for (pi, paragraph) in paragraphs.iter().enumerate() {
            let at = Loc::new(source, format!("data[{ai}].paragraphs[{pi}]"));
            at.object(paragraph)?;
            let context_text = at.string(paragraph, "context")?;
            let qas = at.array(paragraph, "qas")?;
            let (words, char_to_word) = split_doc_words(context_text);
            let chars: Vec<char> = context_text.chars().collect();
            let context: Arc<str> = Arc::from(context_text);
            let doc_words: Arc<[String]> = words.into();
            let char_to_word: Arc<[i64]> = char_to_word.into();
            for (qi, qa) in qas.iter().enumerate() {
                let at_q = Loc::new(source, format!("data[{ai}].paragraphs[{pi}].qas[{qi}]"));
                at_q.object(qa)?;
                let qas_id = match qa.get("id") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    None | Some(Value::Null) => return Err(at_q.missing("id")),
                    Some(other) => return Err(at_q.wrong("id", "a string", other)),
                };
                let at = Loc::new(source, format!("question {}", show(&qas_id)));
                let question = at.string(qa, "question")?.to_string();
                let is_impossible = match qa.get("is_impossible") {
                    None | Some(Value::Null) => false,
                    Some(Value::Bool(b)) => *b,
                    Some(other) => return Err(at.wrong("is_impossible", "true or false", other)),
                };
                if is_impossible && !version_2 {
                    bail!(
                        "{source}: {}: \"is_impossible\" is true, but SQuAD 2.0 questions need \
                         version_2_with_negative",
                        at.at
                    );
                }
                let mut answers = Vec::new();
                if !is_impossible {
                    let list = at.array(qa, "answers")?;
                    if list.is_empty() {
                        bail!(
                            "{source}: {}: \"answers\" is empty (an answerable question needs at least one)",
                            at.at
                        );
                    }
                    let keep = if is_training { 1 } else { list.len() };
                    for (k, answer) in list.iter().take(keep).enumerate() {
                        let at_a = Loc::new(source, format!("{}, answer {k}", at.at));
                        at_a.object(answer)?;
                        let text = at_a.string(answer, "text")?.to_string();
                        let start_char = match answer.get("answer_start") {
                            None | Some(Value::Null) => return Err(at_a.missing("answer_start")),
                            Some(v) => v
                                .as_u64()
                                .and_then(|n| usize::try_from(n).ok())
                                .ok_or_else(|| at_a.wrong("answer_start", "a non-negative integer", v))?,
                        };
                        if !is_training {
                            check_answer(&chars, &text, start_char).map_err(|why| {
                                anyhow!(
                                    "{source}: {}: answer_start {start_char} does not point at the answer \
                                     text {} ({why})",
                                    at_a.at,
                                    show(&text)
                                )
                            })?;
                        }
                        answers.push(Answer { text, start_char });
                    }
                }
                let (mut start_word, mut end_word) = (None, None);
                if is_training && !is_impossible {
                    match answers
                        .first()
                        .and_then(|a| training_words(a, &doc_words, &char_to_word))
                    {
                        Some((s, e)) => (start_word, end_word) = (Some(s), Some(e)),
                        None => {
                            outcome.dropped += 1;
                            continue;
                        }
                    }
                }
                outcome.examples.push(SquadExample {
                    qas_id,
                    question,
                    context: Arc::clone(&context),
                    doc_words: Arc::clone(&doc_words),
                    char_to_word: Arc::clone(&char_to_word),
                    answers,
                    start_word,
                    end_word,
                    is_impossible,
                    title: title.to_string(),
                });
            }
        }
    }
    Ok(outcome)
}

/// Evaluation check: `context[start..start+len(text)]` (in chars) must equal `text`.
fn check_answer(context: &[char], text: &str, start: usize) -> std::result::Result<(), String> {
    let len = text.chars().count();
    let slice = start.checked_add(len).and_then(|end| context.get(start..end));
    match slice {
        Some(found) if found.iter().copied().eq(text.chars()) => Ok(()),
        Some(found) => Err(format!(
            "the context has {} there",
            show(&found.iter().collect::<String>())
        )),
        None => Err(format!(
            "the answer would end at char {} but the context has {} chars",
            start.saturating_add(len),
            context.len()
        )),
    }
}

/// Training: the first and last doc words of the answer, or `None` when the example is dropped.
///
/// The reference takes `char_to_word[answer_start]` and `char_to_word[min(answer_start + len - 1,
/// len(context) - 1)]` and keeps the example when the answer text, whitespace-normalized, occurs in the
/// space-joined words between them. Cases where the reference would crash or misindex (an
/// `answer_start` outside the context or on whitespace before the first word, an empty answer text)
/// are dropped too.
fn training_words(answer: &Answer, doc_words: &[String], char_to_word: &[i64]) -> Option<(usize, usize)> {
    let len = answer.text.chars().count();
    if len == 0 {
        return None;
    }
    let start_word = usize::try_from(*char_to_word.get(answer.start_char)?).ok()?;
    let end_char = answer
        .start_char
        .saturating_add(len - 1)
        .min(char_to_word.len().checked_sub(1)?);
    let end_word = usize::try_from(*char_to_word.get(end_char)?).ok()?;
    let actual = doc_words.get(start_word..=end_word)?.join(" ");
    let cleaned = py_split(&answer.text).join(" ");
    actual.contains(&cleaned).then_some((start_word, end_word))
}

/// Python's `str.split()` with no argument.
fn py_split(s: &str) -> Vec<&str> {
    s.split(is_py_whitespace).filter(|p| !p.is_empty()).collect()
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

fn tokenize_doc(tok: &ElectraTokenizer, words: &[String]) -> Result<DocTokens> {
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
    max_seq_length: usize,
    doc_stride: usize,
    max_query_length: usize,
    is_training: bool,
}

/// Spec §5.3 features of `examples`, in example order then window order, on `threads` workers.
///
/// The result does not depend on `threads`. Errors name the question id.
pub fn build_features(
    tok: &ElectraTokenizer,
    examples: &[SquadExample],
    max_seq_length: usize,
    doc_stride: usize,
    max_query_length: usize,
    is_training: bool,
    threads: usize,
) -> Result<Vec<SquadFeature>> {
    if doc_stride == 0 {
        bail!("doc_stride must be at least 1");
    }
    let params = Params {
        max_seq_length,
        doc_stride,
        max_query_length,
        is_training,
    };
    let threads = threads.clamp(1, examples.len().max(1));
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
    tok: &ElectraTokenizer,
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
    tok: &ElectraTokenizer,
    ex: &SquadExample,
    doc: &DocTokens,
    example_pos: usize,
    p: Params,
) -> Result<Vec<SquadFeature>> {
    let mut query = tok.encode_words(&[ex.question.as_str()])?.pop().unwrap_or_default();
    query.truncate(p.max_query_length);
    let n_doc = doc.ids.len();
    if n_doc == 0 {
        return Ok(Vec::new());
    }
    let budget = p
        .max_seq_length
        .checked_sub(query.len() + 3)
        .filter(|&m| m > 0)
        .ok_or_else(|| {
            anyhow!(
                "max_seq_length {} leaves no room for document tokens after [CLS], the {}-token question and \
                 two [SEP]",
                p.max_seq_length,
                query.len()
            )
        })?;

    // Training: the answer's doc-token span, as the reference computes it (signed: a span over words
    // that tokenize to nothing can end before it starts).
    let target = if p.is_training && !ex.is_impossible {
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
            n_doc as i64 - 1
        };
        let answer_ids = tok.encode_words(&[answer.text.as_str()])?.pop().unwrap_or_default();
        Some(improve_answer_span(&doc.ids, tok_start, tok_end, &answer_ids))
    } else {
        None
    };

    let windows = doc_windows(n_doc, budget, p.doc_stride);
    let doc_offset = query.len() + 2;
    let (cls, sep, pad) = (tok.cls_id(), tok.sep_id(), tok.pad_id());
    let mut features = Vec::with_capacity(windows.len());
    for (k, w) in windows.iter().enumerate() {
        let window_ids = doc
            .ids
            .get(w.start..w.start + w.len)
            .ok_or_else(|| anyhow!("window {k} is outside the document"))?;
        let window_words = doc
            .tok_to_word
            .get(w.start..w.start + w.len)
            .ok_or_else(|| anyhow!("window {k} is outside the document"))?;
        let total = doc_offset + w.len + 1;
        let mut input_ids = Vec::with_capacity(total);
        input_ids.push(cls);
        input_ids.extend_from_slice(&query);
        input_ids.push(sep);
        input_ids.extend_from_slice(window_ids);
        input_ids.push(sep);
        let mut token_type_ids = vec![0; doc_offset];
        token_type_ids.resize(total, 1);

        let unpadded = input_ids.iter().position(|&id| id == pad).unwrap_or(total);
        let tokens = input_ids[..unpadded]
            .iter()
            .map(|&id| id_to_token(tok, id))
            .collect::<Result<Vec<_>>>()?;

        let mut token_to_orig_map = vec![None; total];
        let mut token_is_max_context = vec![false; total];
        for (j, &word) in window_words.iter().enumerate() {
            token_to_orig_map[doc_offset + j] = Some(word);
            token_is_max_context[doc_offset + j] = max_context_window(&windows, w.start + j) == Some(k);
        }

        let (start_position, end_position, is_impossible) = match target {
            None => (0, 0, ex.is_impossible),
            Some((tok_start, tok_end)) => {
                let doc_start = w.start as i64;
                let doc_end = doc_start + w.len as i64 - 1;
                if tok_start >= doc_start && tok_end <= doc_end {
                    let at = |t: i64| {
                        usize::try_from(t - doc_start + doc_offset as i64)
                            .map_err(|_| anyhow!("answer position {t} before window {k}"))
                    };
                    (at(tok_start)?, at(tok_end)?, false)
                } else {
                    (0, 0, true)
                }
            }
        };
        features.push(SquadFeature {
            example_index: 0,
            example_pos,
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
            query_len: query.len(),
        });
    }
    Ok(features)
}

fn id_to_token(tok: &ElectraTokenizer, id: i64) -> Result<String> {
    u32::try_from(id)
        .ok()
        .and_then(|id| tok.inner().id_to_token(id))
        .ok_or_else(|| anyhow!("token id {id} is not in the vocab"))
}

/// Where in the file a value sits, for error messages.
struct Loc<'a> {
    source: &'a str,
    at: String,
}

impl<'a> Loc<'a> {
    fn new(source: &'a str, at: String) -> Self {
        Self { source, at }
    }

    fn missing(&self, key: &str) -> anyhow::Error {
        anyhow!("{}: {}: missing field \"{key}\"", self.source, self.at)
    }

    fn wrong(&self, key: &str, expected: &str, found: &Value) -> anyhow::Error {
        anyhow!(
            "{}: {}: field \"{key}\" must be {expected}, found {}",
            self.source,
            self.at,
            json_type(found)
        )
    }

    fn object(&self, v: &Value) -> Result<()> {
        if v.is_object() {
            Ok(())
        } else {
            bail!(
                "{}: {}: expected a JSON object, found {}",
                self.source,
                self.at,
                json_type(v)
            )
        }
    }

    fn field<'v>(&self, v: &'v Value, key: &str) -> Result<&'v Value> {
        match v.get(key) {
            None | Some(Value::Null) => Err(self.missing(key)),
            Some(value) => Ok(value),
        }
    }

    fn string<'v>(&self, v: &'v Value, key: &str) -> Result<&'v str> {
        let value = self.field(v, key)?;
        value.as_str().ok_or_else(|| self.wrong(key, "a string", value))
    }

    fn array<'v>(&self, v: &'v Value, key: &str) -> Result<&'v Vec<Value>> {
        let value = self.field(v, key)?;
        value.as_array().ok_or_else(|| self.wrong(key, "an array", value))
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `source: malformed JSON at line L, column C: <what serde_json says>`.
fn json_error(source: &str, e: &serde_json::Error) -> anyhow::Error {
    let (line, column) = (e.line(), e.column());
    let message = e.to_string();
    let suffix = format!(" at line {line} column {column}");
    let message = message.strip_suffix(&suffix).unwrap_or(&message);
    anyhow!("{source}: malformed JSON at line {line}, column {column}: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_words_split_on_the_narrow_set_only() {
        let (words, c2w) = split_doc_words(" a\u{a0}b\u{202f}c  d\n");
        assert_eq!(words, ["a\u{a0}b", "c", "d"]);
        assert_eq!(c2w, [-1, 0, 0, 0, 0, 1, 1, 1, 2, 2]);
        assert_eq!(split_doc_words("").0.len(), 0);
    }

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
