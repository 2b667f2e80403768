//! `koelectra-ft predict`: labels, tags or answers for new text from a checkpoint this tool saved.
//!
//! The head comes from `architectures` in the checkpoint's `config.json` and the labels from its
//! `id2label`; lengths, batch size and the QA decoding settings from its `training_args.json` (the run's
//! config) unless flags override them. Input is read in chunks of lines; a chunk is encoded and batched
//! exactly as the training subcommands' evaluation batches a split (the same features, length-sorted
//! batches, padding and decoding, by the same functions), then written in input order and flushed, so
//! huge files and pipes stream.
mod checkpoint;
mod heads;
mod input;

use crate::cli::run::squad;
use crate::config;
use crate::device;
use crate::model::HeadKind;
use crate::tasks::squad::{Decoding, Windows};
use crate::text::python::py_strip;
use crate::text::Tokenizer;
use anyhow::{anyhow, Result};
use checkpoint::FineTuned;
use clap::{Args, ValueEnum};
use heads::{Ner, Qa, SeqCls};
use input::{Key, Lines, Output};
use std::path::PathBuf;
use std::time::Instant;
use tch::Device;

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
    /// Input lines (SQuAD JSON: questions) read and predicted at a time [default: 1024; 1 when typing
    /// at a terminal, so each line is answered at once].
    #[arg(long, value_name = "N", value_parser = positive)]
    pub chunk: Option<usize>,
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

/// Refuses a maximum length past the model's position table, naming where it came from: the flag,
/// or the run's `training_args.json` (an edited or foreign one; the run itself was refused).
fn check_length_fits(checkpoint: &FineTuned, max_len: usize, from_flag: bool) -> Result<()> {
    if checkpoint.model.covers_length(max_len) {
        return Ok(());
    }
    let positions = checkpoint.model.max_position_embeddings;
    let config = checkpoint.dir.join("config.json");
    let source = if from_flag {
        format!("--max-seq-len {max_len}")
    } else {
        let key = if checkpoint.head == HeadKind::QuestionAnswering {
            "max_seq_length"
        } else {
            "max_seq_len"
        };
        let args = checkpoint.dir.join("training_args.json");
        format!("the run's {key} {max_len} ({})", args.display())
    };
    Err(config::usage_error(format!(
        "{source} is longer than the model's max_position_embeddings allows ({positions} tokens, {}): \
         pass --max-seq-len {positions} or less",
        config.display()
    )))
}

/// Runs `koelectra-ft predict`.
pub fn run(args: &PredictArgs) -> Result<()> {
    let started = Instant::now();
    let checkpoint = FineTuned::open(&args.model)?;
    let head = checkpoint.head;
    let mut cfg = checkpoint.run.clone();
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
    check_length_fits(&checkpoint, max_len, args.max_seq_len.is_some())?;
    let device = config::resolve_device(args.device.as_deref(), false)?;
    config::check_device(device)?;
    log::info!(
        "predict: {} from {} on {}, max length {max_len}, batch {}",
        head.architecture(checkpoint.model.family),
        checkpoint.dir.display(),
        device::name(device),
        cfg.eval_batch_size
    );
    let mut input = Lines::open(&args.input)?;
    let chunk = match (args.chunk, input.interactive) {
        (Some(n), _) => n,
        (None, true) => {
            log::info!("reading lines typed at the terminal, each answered at once; end with Ctrl-D");
            1
        }
        (None, false) => 1024,
    };
    let mut out = Output::new(args.format);
    let env = Env {
        tokenizer: checkpoint.tokenizer.as_ref(),
        device,
        task: &cfg.task,
        max_seq_len: cfg.max_seq_len,
        batch_size: cfg.eval_batch_size,
        windows: squad::windows(&cfg),
        decoding: squad::decoding(&cfg, checkpoint.tokenizer.as_ref()),
    };
    let count = match head {
        HeadKind::SequenceClassification => {
            let task = SeqCls::new(&checkpoint, env)?;
            drive(&task, &mut input, &mut out, chunk)?
        }
        HeadKind::TokenClassification => {
            let task = Ner::new(&checkpoint, env, &input.name)?;
            drive(&task, &mut input, &mut out, chunk)?
        }
        HeadKind::QuestionAnswering => {
            let task = Qa::new(&checkpoint, env, &input.name)?;
            match input.starts_with_brace()? {
                true => task.predict_json(&mut input, &mut out, chunk)?,
                false => drive(&task, &mut input, &mut out, chunk)?,
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

/// What every head's predictor reads besides its model: the tokenizer, the device and the run's
/// settings.
#[derive(Clone, Copy)]
struct Env<'a> {
    tokenizer: &'a dyn Tokenizer,
    device: Device,
    /// The task the checkpoint was trained on.
    task: &'a str,
    /// seq-cls and ner: the longest input in tokens.
    max_seq_len: usize,
    batch_size: usize,
    /// squad: how questions and contexts are cut into windows, and how answers are decoded.
    windows: Windows,
    decoding: Decoding,
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
