//! KorQuAD / SQuAD: the JSON reader (spec §4.9).
//!
//! `data[] → {title, paragraphs[] → {context, qas[] → {id, question, answers[] → {text,
//! answer_start}, is_impossible?}}}`. Every offset and length is in Unicode chars, never bytes. Each
//! context is split into *doc words* on the narrow whitespace set of the reference (space, `\t`, `\r`,
//! `\n`, U+202F: NBSP and the other Unicode spaces stay inside words); the context, its words and its
//! char → word map are shared by the questions of a paragraph. Training keeps only the first answer and
//! drops (and counts) examples whose answer fails the reference's sanity check; evaluation keeps every
//! answer and refuses an `answer_start` that does not point at the answer text. Errors are one line
//! naming the file and where: `line/column` for malformed JSON, `data[i].paragraphs[j]` or the question
//! id for a missing or mistyped field.

use std::path::Path;
use std::sync::Arc;

use anyhow::{anyhow, bail, Result};
use serde_json::Value;

use super::decode::AnswerSpan;
use crate::tasks::reading::show;
use crate::text::python::py_split;

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

impl SquadExample {
    /// Char offsets `[start, end)` in the context of a decoded answer.
    pub fn context_span(&self, span: &AnswerSpan) -> Option<(usize, usize)> {
        if span.chars == 0 {
            return None;
        }
        // Char `i` of the words from `first_word` joined by spaces, in the context: find its word,
        // then the word's first char in the context.
        let to_context = |i: usize| -> Option<usize> {
            let mut pos = 0;
            for (k, word) in self.doc_words.iter().enumerate().skip(span.first_word) {
                let chars = word.chars().count();
                if i < pos + chars {
                    let word_start = self.char_to_word.iter().position(|&w| w == k as i64)?;
                    return Some(word_start + i - pos);
                }
                pos += chars + 1;
            }
            None
        };
        Some((to_context(span.start)?, to_context(span.start + span.chars - 1)? + 1))
    }
}

/// Reads a SQuAD-format JSON file.
///
/// `is_training`: keep only the first answer, compute `start_word`/`end_word` and drop examples that
/// fail the answer check (counted in [`ReadOutcome::dropped`]). Otherwise keep every answer and fail on
/// one whose `answer_start` does not point at its text. `version_2`: honour `is_impossible` (a question
/// marked impossible in a file read without it is an error).
pub fn read_examples(path: &Path, is_training: bool, version_2: bool) -> Result<ReadOutcome> {
    let shown = path.display().to_string();
    let bytes = crate::tasks::reading::read_bytes(path)?;
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
    let mut reader = Reader {
        source,
        is_training,
        version_2,
        outcome: ReadOutcome {
            examples: Vec::new(),
            dropped: 0,
            version,
            articles: articles.len(),
            paragraphs: 0,
        },
    };
    for (ai, article) in articles.iter().enumerate() {
        let at = Loc::new(source, format!("data[{ai}]"));
        at.object(article)?;
        let title = at.string(article, "title")?;
        let paragraphs = at.array(article, "paragraphs")?;
        reader.outcome.paragraphs += paragraphs.len();
        for (pi, paragraph) in paragraphs.iter().enumerate() {
            reader.paragraph(paragraph, title, &format!("data[{ai}].paragraphs[{pi}]"))?;
        }
    }
    Ok(reader.outcome)
}

/// One file being read: its settings and what was read so far.
struct Reader<'a> {
    source: &'a str,
    is_training: bool,
    version_2: bool,
    outcome: ReadOutcome,
}

/// A paragraph's context, split once and shared by its questions.
struct Paragraph<'a> {
    title: &'a str,
    chars: Vec<char>,
    context: Arc<str>,
    doc_words: Arc<[String]>,
    char_to_word: Arc<[i64]>,
}

impl Reader<'_> {
    /// The questions of one paragraph (`at` is its place in the file).
    fn paragraph(&mut self, paragraph: &Value, title: &str, at: &str) -> Result<()> {
        let loc = Loc::new(self.source, at.to_string());
        loc.object(paragraph)?;
        let context_text = loc.string(paragraph, "context")?;
        let qas = loc.array(paragraph, "qas")?;
        let (words, char_to_word) = split_doc_words(context_text);
        let shared = Paragraph {
            title,
            chars: context_text.chars().collect(),
            context: Arc::from(context_text),
            doc_words: words.into(),
            char_to_word: char_to_word.into(),
        };
        for (qi, qa) in qas.iter().enumerate() {
            self.question(qa, &shared, &format!("{at}.qas[{qi}]"))?;
        }
        Ok(())
    }

    /// One question: kept, dropped (training, answer not found) or an error.
    fn question(&mut self, qa: &Value, paragraph: &Paragraph, at: &str) -> Result<()> {
        let source = self.source;
        let at_q = Loc::new(source, at.to_string());
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
        if is_impossible && !self.version_2 {
            bail!(
                "{source}: {}: \"is_impossible\" is true, but SQuAD 2.0 questions need \
                 version_2_with_negative",
                at.at
            );
        }
        let answers = match is_impossible {
            true => Vec::new(),
            false => self.answers(qa, &paragraph.chars, &at)?,
        };
        let (mut start_word, mut end_word) = (None, None);
        if self.is_training && !is_impossible {
            let words = answers
                .first()
                .and_then(|a| training_words(a, &paragraph.doc_words, &paragraph.char_to_word));
            let Some((s, e)) = words else {
                self.outcome.dropped += 1;
                return Ok(());
            };
            (start_word, end_word) = (Some(s), Some(e));
        }
        self.outcome.examples.push(SquadExample {
            qas_id,
            question,
            context: Arc::clone(&paragraph.context),
            doc_words: Arc::clone(&paragraph.doc_words),
            char_to_word: Arc::clone(&paragraph.char_to_word),
            answers,
            start_word,
            end_word,
            is_impossible,
            title: paragraph.title.to_string(),
        });
        Ok(())
    }

    /// The gold answers of an answerable question: the first only in training, each checked against
    /// the context in evaluation.
    fn answers(&self, qa: &Value, context: &[char], at: &Loc) -> Result<Vec<Answer>> {
        let source = self.source;
        let list = at.array(qa, "answers")?;
        if list.is_empty() {
            bail!(
                "{source}: {}: \"answers\" is empty (an answerable question needs at least one)",
                at.at
            );
        }
        let keep = if self.is_training { 1 } else { list.len() };
        let mut answers = Vec::with_capacity(keep);
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
            if !self.is_training {
                check_answer(context, &text, start_char).map_err(|why| {
                    anyhow!(
                        "{source}: {}: answer_start {start_char} does not point at the answer text {} ({why})",
                        at_a.at,
                        show(&text)
                    )
                })?;
            }
            answers.push(Answer { text, start_char });
        }
        Ok(answers)
    }
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
}
