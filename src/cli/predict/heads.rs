//! What `predict` does per head: parse an input line, predict a chunk with the evaluation's own
//! functions, render one prediction.
use super::checkpoint::FineTuned;
use super::input::{push_json, Key, Lines, Output};
use super::{Env, Format, LineTask};
use crate::device::Upload;
use crate::infer::{argmax, softmax, Collate};
use crate::limits;
use crate::model::heads::{QuestionAnswerer, SequenceClassifier, TokenClassifier};
use crate::model::source;
use crate::tasks::ner::{self, NerExample};
use crate::tasks::seq_cls::{self, task_spec};
use crate::tasks::squad::decode::ExamplePrediction;
use crate::tasks::squad::{self, SquadExample};
use crate::text::python::{py_split, py_strip};
use anyhow::{Context, Result};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use tch::nn::VarStore;

// ------------------------------------------------------------------------------------------------
// Sequence classification and regression

pub struct SeqCls<'a> {
    env: Env<'a>,
    _vs: VarStore,
    model: SequenceClassifier,
    /// Label names in id order (empty for regression).
    labels: Vec<String>,
    /// Whether the run's task reads sentence pairs (`None`: unknown task, both are accepted).
    pairs: Option<bool>,
}

impl<'a> SeqCls<'a> {
    pub fn new(checkpoint: &FineTuned, env: Env<'a>) -> Result<Self> {
        let cfg = &checkpoint.model;
        let names = source::labels(&checkpoint.dir, cfg)?;
        let regression = names.len() == 1 || cfg.get("problem_type").and_then(Value::as_str) == Some("regression");
        let num_labels = names.len() as i64;
        let (vs, model) = source::load_fine_tuned(&checkpoint.dir, cfg, env.device, |p, c| {
            SequenceClassifier::new(p, c, num_labels)
        })?;
        match regression {
            true => log::info!("regression: one score per input"),
            false => log::info!("labels: {}", names.join(", ")),
        }
        Ok(Self {
            env,
            _vs: vs,
            model,
            labels: if regression { vec![] } else { names },
            pairs: task_spec(env.task).ok().map(|s| s.text_b_col.is_some()),
        })
    }
}

impl LineTask for SeqCls<'_> {
    type Input = (String, Option<String>);
    type Pred = Vec<f32>;

    fn parse(&self, _line: usize, text: &str) -> std::result::Result<Self::Input, String> {
        let fields: Vec<&str> = py_strip(text).split('\t').collect();
        let task = self.env.task;
        match (fields.as_slice(), self.pairs) {
            ([_], Some(true)) => Err(format!(
                "task {task} classifies sentence pairs: expected `sentence1<TAB>sentence2`, found no tab"
            )),
            ([_, _], Some(false)) => Err(format!(
                "task {task} classifies single sentences: expected one sentence, found a tab"
            )),
            ([a], _) => Ok((a.to_string(), None)),
            ([a, b], _) => Ok((a.to_string(), Some(b.to_string()))),
            _ => Err(format!(
                "expected a sentence or `sentence1<TAB>sentence2`, found {} tab-separated fields (a benchmark \
                 file? give its text column(s) only, e.g. `cut -f2 ratings_test.txt | koelectra-ft predict ...`)",
                fields.len()
            )),
        }
    }

    fn predict(&self, inputs: &[Self::Input]) -> Result<Vec<Vec<f32>>> {
        let pairs: Vec<(&str, Option<&str>)> = inputs.iter().map(|(a, b)| (a.as_str(), b.as_deref())).collect();
        let max_len = self.env.max_seq_len;
        let encoded = self
            .env
            .tokenizer
            .encode_batch(&pairs, max_len)
            .with_context(|| format!("cannot encode the input with max_seq_len {max_len}"))?;
        // Packing changes nothing but rounding, and the forward pass alone is deterministic.
        let collate = Collate {
            pad_id: self.env.tokenizer.pad_id(),
            packing: true,
        };
        seq_cls::eval::logits(
            &self.model,
            &encoded,
            collate,
            self.env.device,
            self.env.batch_size,
            |_| Upload::new(),
            |_, _, _| Ok(()),
        )
    }

    fn render(&self, out: &mut String, format: Format, key: Key, _input: &Self::Input, logits: &Vec<f32>) {
        if self.labels.is_empty() {
            let score = logits.first().copied().unwrap_or(f32::NAN);
            match format {
                Format::Jsonl => {
                    let mut map = key.object();
                    map.insert("score".into(), json!(score));
                    push_json(out, map);
                }
                Format::Tsv => out.push_str(&format!("{score}\n")),
            }
            return;
        }
        let best = argmax(logits);
        let label = self.labels.get(best).map_or("", String::as_str);
        let probs = softmax(logits);
        match format {
            Format::Jsonl => {
                let mut map = key.object();
                map.insert("label".into(), label.into());
                let probabilities: Map<String, Value> = self
                    .labels
                    .iter()
                    .zip(&probs)
                    .map(|(l, p)| (l.clone(), json!(p)))
                    .collect();
                map.insert("probabilities".into(), probabilities.into());
                push_json(out, map);
            }
            Format::Tsv => out.push_str(&format!("{label}\t{}\n", probs.get(best).copied().unwrap_or(f64::NAN))),
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Token classification (NER)

pub struct Ner<'a> {
    env: Env<'a>,
    _vs: VarStore,
    model: TokenClassifier,
    labels: Vec<String>,
    input_name: String,
}

impl<'a> Ner<'a> {
    pub fn new(checkpoint: &FineTuned, env: Env<'a>, input_name: &str) -> Result<Self> {
        let labels = source::labels(&checkpoint.dir, &checkpoint.model)?;
        let num_labels = labels.len() as i64;
        let (vs, model) = source::load_fine_tuned(&checkpoint.dir, &checkpoint.model, env.device, |p, c| {
            TokenClassifier::new(p, c, num_labels)
        })?;
        Ok(Self {
            env,
            _vs: vs,
            model,
            labels,
            input_name: input_name.to_string(),
        })
    }
}

impl LineTask for Ner<'_> {
    type Input = NerExample;
    type Pred = Vec<usize>;

    /// Words split on whitespace; a `words<TAB>tags` line (the training format) uses its words. A tab
    /// that does not start one tag per word is an error, not words dropped.
    fn parse(&self, line: usize, text: &str) -> std::result::Result<NerExample, String> {
        let fields: Vec<&str> = text.split('\t').collect();
        let words: Vec<String> = py_split(fields[0]).into_iter().map(str::to_string).collect();
        if words.is_empty() {
            return Err("no words before the tab (expected words separated by spaces)".into());
        }
        if let [_, tags] = fields[..] {
            let tags = py_split(tags).len();
            if tags != words.len() {
                return Err(format!(
                    "found a tab, but not a `words<TAB>tags` line: {} word(s) and {tags} tag(s); \
                     expected words separated by spaces",
                    words.len()
                ));
            }
        } else if fields.len() > 2 {
            return Err(format!(
                "expected words separated by spaces (or `words<TAB>tags`), found {} tab-separated fields",
                fields.len()
            ));
        }
        Ok(NerExample {
            guid: format!("{}:{line}", self.input_name),
            labels: vec![0; words.len()],
            words,
        })
    }

    fn predict(&self, inputs: &[NerExample]) -> Result<Vec<Vec<usize>>> {
        let features = ner::build_features(self.env.tokenizer, inputs, self.env.max_seq_len)?;
        let truncated: usize = inputs
            .iter()
            .zip(&features)
            .map(|(e, f)| e.words.len() - f.words_kept)
            .sum();
        if truncated > 0 {
            log::info!(
                "{truncated} word(s) beyond max_seq_len {} tagged O",
                self.env.max_seq_len
            );
        }
        let collate = Collate {
            pad_id: self.env.tokenizer.pad_id(),
            packing: true,
        };
        let bs = self.env.batch_size;
        let tags = ner::eval::predict_word_tags(&self.model, &features, collate, self.env.device, bs, false, || {})?;
        Ok(tags.into_iter().map(|(tags, _)| tags).collect())
    }

    fn render(&self, out: &mut String, format: Format, key: Key, input: &NerExample, ids: &Vec<usize>) {
        let tags = ner::eval::word_tags(ids, input.words.len(), &self.labels);
        match format {
            Format::Jsonl => {
                let mut map = key.object();
                map.insert("words".into(), json!(input.words));
                map.insert("tags".into(), json!(tags));
                push_json(out, map);
            }
            Format::Tsv => {
                for (word, tag) in input.words.iter().zip(&tags) {
                    out.push_str(&format!("{word}\t{tag}\n"));
                }
                out.push('\n');
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Extractive question answering

pub struct Qa<'a> {
    env: Env<'a>,
    _vs: VarStore,
    model: QuestionAnswerer,
    input_name: String,
}

/// One decoded answer: its text, its char span `[start, end)` in the context (`None` for the null
/// answer and for `empty`, the text of a question without candidates) and its n-best probability.
pub struct Answer {
    text: String,
    span: Option<(usize, usize)>,
    probability: Option<f64>,
}

impl<'a> Qa<'a> {
    pub fn new(checkpoint: &FineTuned, env: Env<'a>, input_name: &str) -> Result<Self> {
        let (vs, model) =
            source::load_fine_tuned(&checkpoint.dir, &checkpoint.model, env.device, QuestionAnswerer::new)?;
        log::info!(
            "windows of {} tokens every {} (question up to {}), answers up to {} tokens from the {} best",
            env.windows.max_seq_length,
            env.windows.doc_stride,
            env.windows.max_query_length,
            env.decoding.max_answer_length,
            env.decoding.n_best_size
        );
        Ok(Self {
            env,
            _vs: vs,
            model,
            input_name: input_name.to_string(),
        })
    }

    /// A SQuAD-format JSON input, predicted `chunk` questions at a time, keyed by question id. Gold
    /// answers in the file are not read.
    pub fn predict_json(&self, input: &mut Lines, out: &mut Output, chunk: usize) -> Result<usize> {
        let bytes = input.rest(limits::SQUAD_JSON_BYTES)?;
        let examples = read_squad_questions(&bytes, &input.name)?;
        log::info!("{}: {} questions", input.name, examples.len());
        for part in examples.chunks(chunk) {
            let answers = self.predict(part)?;
            let mut text = String::new();
            for (example, answer) in part.iter().zip(&answers) {
                self.render(&mut text, out.format, Key::Id(&example.qas_id), example, answer);
            }
            out.emit(&text)?;
            if out.closed {
                break;
            }
        }
        Ok(examples.len())
    }
}

/// The questions of a SQuAD-format file, read as the squad subcommand reads its predict file but
/// without the gold answers: every question is marked unanswerable so its answers are never read,
/// and an article needs no `title` (a training file's articles have one; new questions may not).
fn read_squad_questions(bytes: &[u8], source: &str) -> Result<Vec<SquadExample>> {
    let mut root: Value = match serde_json::from_slice(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)) {
        Ok(root) => root,
        // The reader words the syntax error (line and column).
        Err(_) => return squad::parse_examples(bytes, source, false, true).map(|r| r.examples),
    };
    let articles = root.get_mut("data").and_then(Value::as_array_mut).into_iter().flatten();
    let articles = articles.filter_map(Value::as_object_mut);
    let mut paragraphs = Vec::new();
    for article in articles {
        article.entry("title").or_insert_with(|| "".into());
        paragraphs.extend(
            article
                .get_mut("paragraphs")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten(),
        );
    }
    let paragraphs = paragraphs.into_iter();
    for qa in paragraphs.filter_map(|p| p.get_mut("qas")?.as_array_mut()).flatten() {
        if let Some(qa) = qa.as_object_mut() {
            qa.insert("is_impossible".into(), true.into());
        }
    }
    let bytes = serde_json::to_vec(&root)?;
    Ok(squad::parse_examples(&bytes, source, false, true)?.examples)
}

impl LineTask for Qa<'_> {
    type Input = SquadExample;
    type Pred = Answer;

    fn parse(&self, line: usize, text: &str) -> std::result::Result<SquadExample, String> {
        let Some((question, context)) = text.split_once('\t') else {
            return Err("expected `question<TAB>context`, found no tab".into());
        };
        let (words, char_to_word) = squad::reader::split_doc_words(context);
        Ok(SquadExample {
            qas_id: format!("{}:{line}", self.input_name),
            question: question.to_string(),
            context: Arc::from(context),
            doc_words: words.into(),
            char_to_word: char_to_word.into(),
            answers: vec![],
            start_word: None,
            end_word: None,
            is_impossible: false,
            title: String::new(),
        })
    }

    fn predict(&self, examples: &[SquadExample]) -> Result<Vec<Answer>> {
        let env = self.env;
        let features = squad::build_features(env.tokenizer, examples, &env.windows, false)?;
        let (pad_id, len) = (env.tokenizer.pad_id(), env.windows.max_seq_length);
        let logits =
            squad::eval::window_logits(&self.model, &features, pad_id, len, env.batch_size, env.device, || {})?;
        let decoded = squad::eval::decode_examples(&env.decoding, examples, &features, &logits);
        Ok(examples.iter().zip(decoded).map(|(e, p)| answer(e, p)).collect())
    }

    fn render(&self, out: &mut String, format: Format, key: Key, _example: &SquadExample, answer: &Answer) {
        let (start, end) = answer.span.unzip();
        match format {
            Format::Jsonl => {
                let mut map = key.object();
                map.insert("answer".into(), answer.text.clone().into());
                map.insert("start".into(), json!(start));
                map.insert("end".into(), json!(end));
                map.insert("probability".into(), json!(answer.probability));
                push_json(out, map);
            }
            Format::Tsv => {
                let show = |v: Option<String>| v.unwrap_or_default();
                if let Key::Id(id) = key {
                    out.push_str(id);
                    out.push('\t');
                }
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\n",
                    answer.text,
                    show(start.map(|s| s.to_string())),
                    show(end.map(|e| e.to_string())),
                    show(answer.probability.map(|p| p.to_string()))
                ));
            }
        }
    }
}

/// The answer of `pred` (what predictions.json holds), its n-best probability and its span in the
/// context.
fn answer(example: &SquadExample, pred: ExamplePrediction) -> Answer {
    let entry = pred.nbest.iter().find(|e| e.text == pred.answer);
    Answer {
        probability: entry.map(|e| e.probability),
        span: pred.answer_span.and_then(|span| example.context_span(&span)),
        text: pred.answer,
    }
}
