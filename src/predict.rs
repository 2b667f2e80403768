//! `koelectra-ft predict`: labels, tags or answers for new text from a checkpoint this tool saved.
//!
//! The head comes from `architectures` in the checkpoint's `config.json` and the labels from its
//! `id2label`; lengths, batch size and the QA decoding settings from its `training_args.json` (the run's
//! config) unless flags override them. Input is read in chunks of lines; a chunk is encoded and batched
//! exactly as the training subcommands' evaluation batches a split (the same features, length-sorted
//! batches, padding and decoding, by the same functions), then written in input order and flushed, so
//! huge files and pipes stream.
use crate::checkpoint;
use crate::config::{self, Config};
use crate::features::argmax;
use crate::model::electra::ElectraConfig;
use crate::model::heads::{
    ElectraForQuestionAnswering, ElectraForSequenceClassification, ElectraForTokenClassification, HeadKind,
};
use crate::run::{ner, seq_cls, squad};
use crate::squad_eval::{self, ExamplePrediction, NbestEntry};
use crate::tasks::ner::{build_features as ner_features, py_split, NerExample};
use crate::tasks::seq_cls::{py_strip, task_spec};
use crate::tasks::squad::{self as squad_data, split_doc_words, SquadExample, SquadFeature};
use crate::tokenizer::ElectraTokenizer;
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, ValueEnum};
use serde_json::{json, Map, Value};
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tch::{nn::VarStore, Device};

/// Flags of `koelectra-ft predict`.
#[derive(Args, Debug)]
pub struct PredictArgs {
    /// Checkpoint folder saved by koelectra-ft (checkpoint-<step>: config.json, model.safetensors, tokenizer files, training_args.json).
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    /// Input file, or - for standard input. seq-cls: `sentence` or `sentence1<TAB>sentence2` per line; ner: words separated by spaces per line; squad: `question<TAB>context` per line, or a SQuAD-format JSON file.
    #[arg(long, value_name = "FILE", default_value = "-")]
    pub input: String,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    pub format: Format,
    /// Device: cpu, cuda (= cuda:0) or cuda:N [default: CUDA when available, else cpu].
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<String>,
    /// Sequences per forward pass [default: the run's eval_batch_size, else 64].
    #[arg(long, value_name = "N", value_parser = positive)]
    pub batch_size: Option<usize>,
    /// Longest model input in tokens [default: the run's max_seq_len (squad: max_seq_length), else 128 (squad: 512)].
    #[arg(long, value_name = "N", value_parser = positive)]
    pub max_seq_len: Option<usize>,
    /// Input lines (SQuAD JSON: questions) read and predicted at a time.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = positive)]
    pub chunk: usize,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Output formats of `predict`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per prediction.
    Jsonl,
    /// Tab-separated values, aligned with the input lines.
    Tsv,
}

fn positive(s: &str) -> std::result::Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a positive integer, got {s:?}")),
    }
}

/// Runs `koelectra-ft predict`.
pub fn run(args: &PredictArgs) -> Result<()> {
    let started = Instant::now();
    let dir = args.model.as_path();
    let config_path = dir.join("config.json");
    if !config_path.is_file() {
        return Err(config::usage_error(format!(
            "--model {}: no config.json there; expected a checkpoint-<step> folder saved by koelectra-ft",
            dir.display()
        )));
    }
    let ecfg = ElectraConfig::from_file(&config_path)?;
    let head = head_kind(&ecfg, &config_path)?;
    let tokenizer = ElectraTokenizer::from_dir(dir)?;
    let mut cfg = run_config(dir, &tokenizer)?;
    let qa = head == HeadKind::QuestionAnswering;
    match (args.max_seq_len, qa) {
        (Some(n), true) => cfg.max_seq_length = n,
        (Some(n), false) => cfg.max_seq_len = n,
        (None, _) => {}
    }
    if let Some(n) = args.batch_size {
        cfg.eval_batch_size = n;
    }
    let max_len = if qa { cfg.max_seq_length } else { cfg.max_seq_len };
    if i64::try_from(max_len).map_or(true, |n| n > ecfg.max_position_embeddings) {
        return Err(config::usage_error(format!(
            "maximum sequence length {max_len} exceeds the model's max_position_embeddings {}",
            ecfg.max_position_embeddings
        )));
    }
    let device = config::resolve_device(args.device.as_deref(), false)?;
    config::check_device(device)?;
    log::info!(
        "predict: {} from {} on {device:?}, max length {max_len}, batch {}",
        head.architecture(),
        dir.display(),
        cfg.eval_batch_size
    );
    let mut input = Lines::open(&args.input)?;
    let mut out = Output::new(args.format);
    let env = Env {
        cfg: &cfg,
        tokenizer: &tokenizer,
        device,
    };
    let count = match head {
        HeadKind::SequenceClassification => {
            let task = SeqCls::new(dir, &ecfg, env)?;
            drive(&task, &mut input, &mut out, args.chunk)?
        }
        HeadKind::TokenClassification => {
            let task = Ner::new(dir, &ecfg, env, &input.name)?;
            drive(&task, &mut input, &mut out, args.chunk)?
        }
        HeadKind::QuestionAnswering => {
            let task = Qa::new(dir, &ecfg, env, &input.name)?;
            match input.starts_with_brace()? {
                true => task.predict_json(&mut input, &mut out, args.chunk)?,
                false => drive(&task, &mut input, &mut out, args.chunk)?,
            }
        }
    };
    let secs = started.elapsed().as_secs_f64();
    log::info!(
        "predicted {count} input(s) in {secs:.1}s ({:.1}/s)",
        count as f64 / secs.max(1e-9)
    );
    Ok(())
}

/// The head named by `architectures` in config.json.
fn head_kind(ecfg: &ElectraConfig, path: &Path) -> Result<HeadKind> {
    let name = ecfg
        .extra
        .get("architectures")
        .and_then(|a| a.get(0))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            anyhow!(
                "{}: no \"architectures\" entry; predict needs a fine-tuned checkpoint saved by koelectra-ft",
                path.display()
            )
        })?;
    HeadKind::from_architecture(name).with_context(|| path.display().to_string())
}

/// The run's config from `training_args.json`, or the defaults (with the tokenizer's lowercasing)
/// when the checkpoint has none. Keys this version does not know are ignored.
fn run_config(dir: &Path, tokenizer: &ElectraTokenizer) -> Result<Config> {
    let path = dir.join("training_args.json");
    if !path.is_file() {
        log::info!("{}: no training_args.json, using default lengths", dir.display());
        return Ok(Config {
            do_lower_case: tokenizer.do_lower_case(),
            ..Config::default()
        });
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut map: Map<String, Value> =
        serde_json::from_str(&text).with_context(|| format!("{}: invalid JSON object", path.display()))?;
    map.retain(|key, _| config::key_kind(key).is_some());
    serde_json::from_value(Value::Object(map)).with_context(|| format!("{}: not a run config", path.display()))
}

/// The head's labels in id order (`id2label`).
fn labels(ecfg: &ElectraConfig) -> Result<Vec<String>> {
    match checkpoint::read_labels(ecfg) {
        Some(labels) if !labels.is_empty() => Ok(labels),
        _ => bail!("config.json has no \"id2label\" labels"),
    }
}

/// A model of `make` on `device` with every tensor from the checkpoint (a missing head is an error).
fn load_model<M>(
    dir: &Path,
    ecfg: &ElectraConfig,
    device: Device,
    make: impl FnOnce(&tch::nn::Path, &ElectraConfig) -> M,
) -> Result<(VarStore, M)> {
    let vs = VarStore::new(device);
    let model = make(&vs.root(), ecfg);
    checkpoint::load_weights(&vs, &checkpoint::weights_file(dir)?, &[])?;
    Ok((vs, model))
}

// ------------------------------------------------------------------------------------------------
// Input and output

/// Input lines with their 1-based numbers.
struct Lines {
    /// The file as given, or `<stdin>`.
    name: String,
    reader: Box<dyn BufRead>,
    number: usize,
    peeked: Option<(usize, String)>,
}

impl Lines {
    fn open(input: &str) -> Result<Self> {
        let (name, reader): (String, Box<dyn BufRead>) = if input == "-" {
            ("<stdin>".into(), Box::new(BufReader::new(std::io::stdin())))
        } else {
            let file = std::fs::File::open(input).map_err(|e| anyhow!("{input}: cannot open input: {e}"))?;
            (input.into(), Box::new(BufReader::new(file)))
        };
        Ok(Self {
            name,
            reader,
            number: 0,
            peeked: None,
        })
    }

    /// The next line without its terminator (`\n` or `\r\n`; a leading BOM is dropped).
    fn next_line(&mut self) -> Result<Option<(usize, String)>> {
        if let Some(line) = self.peeked.take() {
            return Ok(Some(line));
        }
        let mut buf = Vec::new();
        let read = self
            .reader
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("{}: cannot read input", self.name))?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        if buf.last() == Some(&b'\n') {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        }
        if self.number == 1 && buf.starts_with(b"\xef\xbb\xbf") {
            buf.drain(..3);
        }
        let text = String::from_utf8(buf).map_err(|e| {
            let column = e.utf8_error().valid_up_to() + 1;
            anyhow!(
                "{}:{}: invalid UTF-8 at byte column {column}; the input must be UTF-8",
                self.name,
                self.number
            )
        })?;
        Ok(Some((self.number, text)))
    }

    /// Up to `n` lines (fewer only at the end).
    fn chunk(&mut self, n: usize) -> Result<Vec<(usize, String)>> {
        let mut lines = Vec::with_capacity(n.min(4096));
        while lines.len() < n {
            match self.next_line()? {
                Some(line) => lines.push(line),
                None => break,
            }
        }
        Ok(lines)
    }

    /// Whether the first line starts with `{` (a SQuAD JSON file); the line stays to be read.
    fn starts_with_brace(&mut self) -> Result<bool> {
        let first = self.next_line()?;
        let brace = first
            .as_ref()
            .is_some_and(|(_, text)| text.trim_start().starts_with('{'));
        self.peeked = first;
        Ok(brace)
    }

    /// Everything not read yet, as bytes.
    fn rest(&mut self) -> Result<Vec<u8>> {
        let mut bytes = self
            .peeked
            .take()
            .map(|(_, l)| l + "\n")
            .unwrap_or_default()
            .into_bytes();
        self.reader
            .read_to_end(&mut bytes)
            .with_context(|| format!("{}: cannot read input", self.name))?;
        Ok(bytes)
    }
}

/// Standard output, flushed after every chunk; a closed pipe (`| head`) ends the run quietly.
struct Output {
    format: Format,
    writer: std::io::StdoutLock<'static>,
    closed: bool,
}

impl Output {
    fn new(format: Format) -> Self {
        Self {
            format,
            writer: std::io::stdout().lock(),
            closed: false,
        }
    }

    fn emit(&mut self, text: &str) -> Result<()> {
        match self
            .writer
            .write_all(text.as_bytes())
            .and_then(|()| self.writer.flush())
        {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(anyhow!("cannot write predictions to stdout: {e}")),
        }
    }
}

/// What a prediction is keyed by in the output: its input line, or its SQuAD question id.
#[derive(Clone, Copy)]
enum Key<'a> {
    Line(usize),
    Id(&'a str),
}

impl Key<'_> {
    /// A JSON object that starts with `"line": n` or `"id": "..."`.
    fn object(self) -> Map<String, Value> {
        let mut map = Map::new();
        match self {
            Key::Line(n) => map.insert("line".into(), n.into()),
            Key::Id(id) => map.insert("id".into(), id.into()),
        };
        map
    }
}

fn push_json(out: &mut String, map: Map<String, Value>) {
    out.push_str(&Value::Object(map).to_string());
    out.push('\n');
}

/// What each head does with a chunk of lines.
trait LineTask {
    type Input;
    type Pred;
    /// One non-empty line; the error says what was expected (the caller adds the input and line).
    fn parse(&self, line: usize, text: &str) -> std::result::Result<Self::Input, String>;
    /// Predictions for `inputs`, in their order.
    fn predict(&self, inputs: &[Self::Input]) -> Result<Vec<Self::Pred>>;
    /// Appends the output of one prediction.
    fn render(&self, out: &mut String, format: Format, key: Key, input: &Self::Input, pred: &Self::Pred);
}

/// Reads, predicts and writes chunk after chunk; returns the number of predicted lines. A blank line
/// is skipped: no JSON object (the others keep their line numbers), an empty line in TSV.
fn drive<T: LineTask>(task: &T, input: &mut Lines, out: &mut Output, chunk: usize) -> Result<usize> {
    let mut count = 0;
    while !out.closed {
        let lines = input.chunk(chunk)?;
        if lines.is_empty() {
            break;
        }
        let mut inputs = Vec::with_capacity(lines.len());
        let mut slots = Vec::with_capacity(lines.len());
        for (number, text) in &lines {
            if py_strip(text).is_empty() {
                slots.push(None);
                continue;
            }
            let parsed = task
                .parse(*number, text)
                .map_err(|why| anyhow!("{}:{number}: {why}", input.name))?;
            slots.push(Some(inputs.len()));
            inputs.push(parsed);
        }
        let preds = match inputs.is_empty() {
            true => vec![],
            false => task.predict(&inputs)?,
        };
        let mut text = String::new();
        for ((number, _), slot) in lines.iter().zip(slots) {
            match slot {
                Some(i) => task.render(&mut text, out.format, Key::Line(*number), &inputs[i], &preds[i]),
                None if out.format == Format::Tsv => text.push('\n'),
                None => {}
            }
        }
        out.emit(&text)?;
        count += inputs.len();
        log::debug!("predicted lines up to {}", input.number);
    }
    Ok(count)
}

/// What every head's predictor reads besides its model: the run's settings, its tokenizer and the
/// device.
#[derive(Clone, Copy)]
struct Env<'a> {
    cfg: &'a Config,
    tokenizer: &'a ElectraTokenizer,
    device: Device,
}

// ------------------------------------------------------------------------------------------------
// Sequence classification and regression

struct SeqCls<'a> {
    env: Env<'a>,
    _vs: VarStore,
    model: ElectraForSequenceClassification,
    /// Label names in id order (empty for regression).
    labels: Vec<String>,
    /// Whether the run's task reads sentence pairs (`None`: unknown task, both are accepted).
    pairs: Option<bool>,
}

impl<'a> SeqCls<'a> {
    fn new(dir: &Path, ecfg: &ElectraConfig, env: Env<'a>) -> Result<Self> {
        let names = labels(ecfg)?;
        let regression =
            names.len() == 1 || ecfg.extra.get("problem_type").and_then(Value::as_str) == Some("regression");
        let num_labels = names.len() as i64;
        let (vs, model) = load_model(dir, ecfg, env.device, |p, c| {
            ElectraForSequenceClassification::new(p, c, num_labels)
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
            pairs: task_spec(&env.cfg.task).ok().map(|s| s.text_b_col.is_some()),
        })
    }
}

impl LineTask for SeqCls<'_> {
    type Input = (String, Option<String>);
    type Pred = Vec<f32>;

    fn parse(&self, _line: usize, text: &str) -> std::result::Result<Self::Input, String> {
        let fields: Vec<&str> = py_strip(text).split('\t').collect();
        let task = &self.env.cfg.task;
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
                "expected a sentence or `sentence1<TAB>sentence2`, found {} tab-separated fields",
                fields.len()
            )),
        }
    }

    fn predict(&self, inputs: &[Self::Input]) -> Result<Vec<Vec<f32>>> {
        let pairs: Vec<(&str, Option<&str>)> = inputs.iter().map(|(a, b)| (a.as_str(), b.as_deref())).collect();
        let encoded = self.env.tokenizer.encode_batch(&pairs, self.env.cfg.max_seq_len)?;
        let pad_id = self.env.tokenizer.pad_id();
        seq_cls::sorted_logits(
            &self.model,
            &encoded,
            pad_id,
            self.env.device,
            self.env.cfg.eval_batch_size,
            |_, _| {},
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

/// Softmax of f32 logits, computed in f64.
fn softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().map(|&x| f64::from(x)).fold(f64::NEG_INFINITY, f64::max);
    let exp: Vec<f64> = logits.iter().map(|&x| (f64::from(x) - max).exp()).collect();
    let total: f64 = exp.iter().sum();
    exp.iter().map(|e| e / total).collect()
}

// ------------------------------------------------------------------------------------------------
// Token classification (NER)

struct Ner<'a> {
    env: Env<'a>,
    _vs: VarStore,
    model: ElectraForTokenClassification,
    labels: Vec<String>,
    input_name: String,
}

impl<'a> Ner<'a> {
    fn new(dir: &Path, ecfg: &ElectraConfig, env: Env<'a>, input_name: &str) -> Result<Self> {
        let labels = labels(ecfg)?;
        let num_labels = labels.len() as i64;
        let (vs, model) = load_model(dir, ecfg, env.device, |p, c| {
            ElectraForTokenClassification::new(p, c, num_labels)
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

    /// Words split on whitespace; a `words<TAB>tags` line (the training format) uses its words.
    fn parse(&self, line: usize, text: &str) -> std::result::Result<NerExample, String> {
        let words: Vec<String> = py_split(text.split('\t').next().unwrap_or_default())
            .into_iter()
            .map(str::to_string)
            .collect();
        if words.is_empty() {
            return Err("no words before the tab (expected words separated by spaces)".into());
        }
        Ok(NerExample {
            guid: format!("{}:{line}", self.input_name),
            labels: vec![0; words.len()],
            words,
        })
    }

    fn predict(&self, inputs: &[NerExample]) -> Result<Vec<Vec<usize>>> {
        let features = ner_features(self.env.tokenizer, inputs, self.env.cfg.max_seq_len)?;
        let truncated: usize = inputs
            .iter()
            .zip(&features)
            .map(|(e, f)| e.words.len() - f.words_kept)
            .sum();
        if truncated > 0 {
            log::info!(
                "{truncated} word(s) beyond max_seq_len {} tagged O",
                self.env.cfg.max_seq_len
            );
        }
        let pad_id = self.env.tokenizer.pad_id();
        let bs = self.env.cfg.eval_batch_size;
        ner::predict_word_tags(&self.model, &features, pad_id, self.env.device, bs, |_, _, _| Ok(()))
    }

    fn render(&self, out: &mut String, format: Format, key: Key, input: &NerExample, ids: &Vec<usize>) {
        let tags = ner::word_tags(ids, input.words.len(), &self.labels);
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

struct Qa<'a> {
    env: Env<'a>,
    _vs: VarStore,
    model: ElectraForQuestionAnswering,
    input_name: String,
}

/// A window of a question with its start and end logits.
type Window<'a> = (&'a SquadFeature, &'a (Vec<f32>, Vec<f32>));

/// One decoded answer: its text, its char span `[start, end)` in the context (`None` for the null
/// answer and for `empty`, the text of a question without candidates) and its n-best probability.
struct Answer {
    text: String,
    span: Option<(usize, usize)>,
    probability: Option<f64>,
}

impl<'a> Qa<'a> {
    fn new(dir: &Path, ecfg: &ElectraConfig, env: Env<'a>, input_name: &str) -> Result<Self> {
        let (vs, model) = load_model(dir, ecfg, env.device, ElectraForQuestionAnswering::new)?;
        log::info!(
            "windows of {} tokens every {} (question up to {}), answers up to {} tokens from the {} best",
            env.cfg.max_seq_length,
            env.cfg.doc_stride,
            env.cfg.max_query_length,
            env.cfg.max_answer_length,
            env.cfg.n_best_size
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
    fn predict_json(&self, input: &mut Lines, out: &mut Output, chunk: usize) -> Result<usize> {
        let bytes = input.rest()?;
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
/// without the gold answers: every question is marked unanswerable so its answers are never read.
fn read_squad_questions(bytes: &[u8], source: &str) -> Result<Vec<SquadExample>> {
    let mut root: Value = match serde_json::from_slice(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)) {
        Ok(root) => root,
        // The reader words the syntax error (line and column).
        Err(_) => return squad_data::parse_examples(bytes, source, false, true).map(|r| r.examples),
    };
    let paragraphs = root
        .get_mut("data")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(|article| article.get_mut("paragraphs")?.as_array_mut())
        .flatten();
    for qa in paragraphs.filter_map(|p| p.get_mut("qas")?.as_array_mut()).flatten() {
        if let Some(qa) = qa.as_object_mut() {
            qa.insert("is_impossible".into(), true.into());
        }
    }
    let bytes = serde_json::to_vec(&root)?;
    Ok(squad_data::parse_examples(&bytes, source, false, true)?.examples)
}

impl LineTask for Qa<'_> {
    type Input = SquadExample;
    type Pred = Answer;

    fn parse(&self, line: usize, text: &str) -> std::result::Result<SquadExample, String> {
        let Some((question, context)) = text.split_once('\t') else {
            return Err("expected `question<TAB>context`, found no tab".into());
        };
        let (words, char_to_word) = split_doc_words(context);
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
        let cfg = self.env.cfg;
        let features = squad_data::build_features(
            self.env.tokenizer,
            examples,
            cfg.max_seq_length,
            cfg.doc_stride,
            cfg.max_query_length,
            false,
            cfg.threads.max(1),
        )?;
        let pad_id = self.env.tokenizer.pad_id();
        let (len, bs) = (cfg.max_seq_length, cfg.eval_batch_size);
        let logits = squad::window_logits(&self.model, &features, pad_id, len, bs, self.env.device, || {})?;
        let decoded = squad::decode_examples(cfg, examples, &features, &logits);
        let windows = squad::windows_by_example(examples.len(), &features);
        Ok(examples
            .iter()
            .zip(decoded)
            .zip(windows)
            .map(|((example, pred), windows)| {
                let windows: Vec<Window> = windows.iter().map(|&i| (&features[i], &logits[i])).collect();
                self.answer(example, pred, &windows)
            })
            .collect())
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

impl Qa<'_> {
    /// The answer of `pred` (what predictions.json holds), its n-best probability and its span.
    fn answer(&self, example: &SquadExample, pred: ExamplePrediction, windows: &[Window]) -> Answer {
        let entry = pred.nbest.iter().find(|e| e.text == pred.answer);
        let span = entry.and_then(|e| self.answer_span(example, windows, e));
        Answer {
            probability: entry.map(|e| e.probability),
            span,
            text: pred.answer,
        }
    }

    /// Char offsets `[start, end)` in the context of an n-best entry: the window span whose logits and
    /// final text made the entry (passing the decoder's filters), mapped back through its doc words.
    fn answer_span(&self, example: &SquadExample, windows: &[Window], entry: &NbestEntry) -> Option<(usize, usize)> {
        if entry.text.is_empty() {
            return None;
        }
        let longest = self.env.cfg.max_answer_length;
        for (feature, (starts, ends)) in windows {
            let n = feature.tokens.len().min(starts.len()).min(ends.len());
            let doc_word = |i: usize| feature.token_to_orig_map.get(i).copied().flatten();
            for s in (0..n).filter(|&s| f64::from(starts[s]) == entry.start_logit) {
                let (Some(first), true) = (doc_word(s), feature.token_is_max_context[s]) else {
                    continue;
                };
                for e in (s..n.min(s + longest)).filter(|&e| f64::from(ends[e]) == entry.end_logit) {
                    let Some(last) = doc_word(e) else { continue };
                    let orig = example.doc_words.get(first..=last)?.join(" ");
                    let tok_text = squad_eval::detokenize(&feature.tokens[s..=e]);
                    if squad_eval::get_final_text(&tok_text, &orig, self.env.cfg.do_lower_case) == entry.text {
                        return context_span(example, first, &orig, &entry.text);
                    }
                }
            }
        }
        None
    }
}

/// Maps `text`, found in `orig` (doc words `first..` joined by spaces), to char offsets `[start, end)`
/// in the example's context.
fn context_span(example: &SquadExample, first: usize, orig: &str, text: &str) -> Option<(usize, usize)> {
    let at = orig[..orig.find(text)?].chars().count();
    let len = text.chars().count();
    if len == 0 {
        return None;
    }
    // Char `i` of `orig` in the context: find its word, then the word's first char in the context.
    let to_context = |i: usize| -> Option<usize> {
        let mut pos = 0;
        for (k, word) in example.doc_words.iter().enumerate().skip(first) {
            let chars = word.chars().count();
            if i < pos + chars {
                let word_start = example.char_to_word.iter().position(|&w| w == k as i64)?;
                return Some(word_start + i - pos);
            }
            pos += chars + 1;
        }
        None
    };
    Some((to_context(at)?, to_context(at + len - 1)? + 1))
}
