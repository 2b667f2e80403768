//! JSON config: the reference keys, defaults, validation, --set overrides.
//!
//! Loading goes one way: resolve the name to a file on disk or to the copy embedded in the binary
//! -> parse the JSON text into a `serde_json::Value` -> apply `--set key=value` overrides -> check
//! every key against [`KEYS`] (known name, right kind) -> deserialize into [`Config`] -> validate
//! ranges. Every error is one line naming the source (file path or `--set ...`), the key and what
//! was expected; it carries a [`ConfigError`] so the CLI can exit with the usage/config code.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

include!(concat!(env!("OUT_DIR"), "/embedded_configs.rs"));

/// Tasks run by the `seq-cls` subcommand.
pub const SEQ_CLS_TASKS: &[&str] = &["nsmc", "kornli", "paws", "question-pair", "korsts", "hate-speech"];

/// Every task name a config may hold.
pub const TASKS: &[&str] = &[
    "nsmc",
    "kornli",
    "paws",
    "question-pair",
    "korsts",
    "hate-speech",
    "naver-ner",
    "korquad",
];

/// `model_type` values this build can run (the reference also has kobert, hanbert, ...).
pub const SUPPORTED_MODEL_TYPES: &[&str] = &[
    "koelectra-base",
    "koelectra-small",
    "koelectra-base-v2",
    "koelectra-small-v2",
    "koelectra-base-v3",
    "koelectra-small-v3",
];

/// Keys a config must hold; every other key has a default (see `impl Default for Config`).
pub const REQUIRED_KEYS: &[&str] = &["task", "model_type"];

/// A config or command-line usage error (the CLI exits with code 2 when one is in the chain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// A usage or config error: `main` exits with code 2 for it.
pub fn usage_error(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(ConfigError(msg.into()))
}

/// Which subcommand (and which head and metrics) a task belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskKind {
    /// Sentence / sentence-pair classification or regression (`seq-cls`).
    SeqCls,
    /// Token classification (`ner`).
    Ner,
    /// Extractive question answering (`squad`).
    Squad,
}

impl TaskKind {
    /// The kind of a task name, `None` for an unknown task.
    pub fn of_task(task: &str) -> Option<TaskKind> {
        match task {
            "naver-ner" => Some(TaskKind::Ner),
            "korquad" => Some(TaskKind::Squad),
            t if SEQ_CLS_TASKS.contains(&t) => Some(TaskKind::SeqCls),
            _ => None,
        }
    }

    /// The CLI subcommand that runs this kind.
    pub fn subcommand(self) -> &'static str {
        match self {
            TaskKind::SeqCls => "seq-cls",
            TaskKind::Ner => "ner",
            TaskKind::Squad => "squad",
        }
    }

    /// The task names of this kind.
    pub fn tasks(self) -> Vec<&'static str> {
        let all = TASKS.iter().copied();
        all.filter(|t| TaskKind::of_task(t) == Some(self)).collect()
    }
}

/// The JSON type (and range) a config key must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// A JSON string.
    Str,
    /// A JSON string or null.
    OptStr,
    /// true or false.
    Bool,
    /// true, false or null.
    OptBool,
    /// An integer > 0 (an integral float such as `10.0` is accepted).
    PosInt,
    /// An integer >= 0.
    NonNegInt,
    /// Any integer.
    Int,
    /// Any JSON number.
    Number,
    /// A JSON object or null.
    OptObject,
}

impl KeyKind {
    /// What the error message says a value of this kind must be.
    pub fn expected(self) -> &'static str {
        match self {
            KeyKind::Str => "a string",
            KeyKind::OptStr => "a string or null",
            KeyKind::Bool => "true or false",
            KeyKind::OptBool => "true, false or null",
            KeyKind::PosInt => "a positive integer",
            KeyKind::NonNegInt => "a non-negative integer",
            KeyKind::Int => "an integer",
            KeyKind::Number => "a number",
            KeyKind::OptObject => "a JSON object or null",
        }
    }

    /// The value in canonical form (integers as JSON integers), `None` when it has the wrong kind.
    fn normalize(self, v: &Value) -> Option<Value> {
        let ok = match self {
            KeyKind::Str => v.is_string(),
            KeyKind::OptStr => v.is_string() || v.is_null(),
            KeyKind::Bool => v.is_boolean(),
            KeyKind::OptBool => v.is_boolean() || v.is_null(),
            KeyKind::Number => v.is_number(),
            KeyKind::OptObject => v.is_object() || v.is_null(),
            KeyKind::PosInt => return as_integer(v).filter(|i| *i > 0).map(Value::from),
            KeyKind::NonNegInt => return as_integer(v).filter(|i| *i >= 0).map(Value::from),
            KeyKind::Int => return as_integer(v).map(Value::from),
        };
        ok.then(|| v.clone())
    }
}

/// A JSON number with an integral value, as i64.
fn as_integer(v: &Value) -> Option<i64> {
    if let Some(i) = v.as_i64() {
        return Some(i);
    }
    let f = v.as_f64()?;
    (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

/// Every key a config may hold and its kind: the 30 seq-cls/NER keys, the KorQuAD keys, then ours.
pub const KEYS: &[(&str, KeyKind)] = &[
    ("task", KeyKind::Str),
    ("data_dir", KeyKind::Str),
    ("ckpt_dir", KeyKind::Str),
    ("train_file", KeyKind::Str),
    ("dev_file", KeyKind::Str),
    ("test_file", KeyKind::Str),
    ("evaluate_test_during_training", KeyKind::Bool),
    ("eval_all_checkpoints", KeyKind::Bool),
    ("save_optimizer", KeyKind::Bool),
    ("do_lower_case", KeyKind::Bool),
    ("do_train", KeyKind::Bool),
    ("do_eval", KeyKind::Bool),
    ("max_seq_len", KeyKind::PosInt),
    ("num_train_epochs", KeyKind::PosInt),
    ("weight_decay", KeyKind::Number),
    ("gradient_accumulation_steps", KeyKind::PosInt),
    ("adam_epsilon", KeyKind::Number),
    ("warmup_proportion", KeyKind::Number),
    ("max_steps", KeyKind::Int),
    ("max_grad_norm", KeyKind::Number),
    ("no_cuda", KeyKind::Bool),
    ("model_type", KeyKind::Str),
    ("model_name_or_path", KeyKind::Str),
    ("output_dir", KeyKind::Str),
    ("seed", KeyKind::NonNegInt),
    ("train_batch_size", KeyKind::PosInt),
    ("eval_batch_size", KeyKind::PosInt),
    ("logging_steps", KeyKind::NonNegInt),
    ("save_steps", KeyKind::NonNegInt),
    ("learning_rate", KeyKind::Number),
    ("predict_file", KeyKind::Str),
    ("threads", KeyKind::PosInt),
    ("version_2_with_negative", KeyKind::Bool),
    ("null_score_diff_threshold", KeyKind::Number),
    ("max_seq_length", KeyKind::PosInt),
    ("doc_stride", KeyKind::PosInt),
    ("max_query_length", KeyKind::PosInt),
    ("max_answer_length", KeyKind::PosInt),
    ("n_best_size", KeyKind::PosInt),
    ("verbose_logging", KeyKind::Bool),
    ("overwrite_output_dir", KeyKind::Bool),
    ("evaluate_during_training", KeyKind::Bool),
    ("group_by_length", KeyKind::Bool),
    ("bf16", KeyKind::Bool),
    ("fp16", KeyKind::Bool),
    ("tf32", KeyKind::OptBool),
    ("ner_score_truncated", KeyKind::Bool),
    ("model_config", KeyKind::OptObject),
    ("vocab_file", KeyKind::OptStr),
    ("resume_from_checkpoint", KeyKind::Str),
];

/// The kind of a known key, `None` for an unknown one.
pub fn key_kind(key: &str) -> Option<KeyKind> {
    KEYS.iter().find(|(k, _)| *k == key).map(|(_, kind)| *kind)
}

/// The known key closest in spelling to `key`.
pub fn closest_key(key: &str) -> &'static str {
    let score = |k: &&str| strsim::normalized_damerau_levenshtein(key, k);
    let names = KEYS.iter().map(|(k, _)| *k);
    names.max_by(|a, b| score(a).total_cmp(&score(b))).unwrap_or("task")
}

/// One fine-tuning run: the reference keys (§9.1), KorQuAD keys, and this tool's additions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Task name (one of [`TASKS`]); picks the reader, the data subfolder, the head and the metric.
    pub task: String,
    /// Root of the data folders: files are read from `<data_dir>/<task>/<file>`.
    pub data_dir: String,
    /// Folder in front of `output_dir` (the run folder is `<ckpt_dir>/<output_dir>`).
    pub ckpt_dir: String,
    /// Training file name inside `<data_dir>/<task>` ("" = no training split).
    pub train_file: String,
    /// Dev file name (seq-cls/NER; "" = no dev split, which forces test-during-training).
    pub dev_file: String,
    /// Test file name (seq-cls/NER; final evaluation, and training-time evaluation when selected).
    pub test_file: String,
    /// Evaluate on test (true) or dev (false) at each logging step (seq-cls/NER).
    pub evaluate_test_during_training: bool,
    /// Final evaluation over every saved checkpoint (true) or only the last one.
    pub eval_all_checkpoints: bool,
    /// Also save optimizer, scheduler and RNG state in checkpoints (enough to resume).
    pub save_optimizer: bool,
    /// Lowercase in the tokenizer (also passed to KorQuAD answer alignment).
    pub do_lower_case: bool,
    /// Run training.
    pub do_train: bool,
    /// Run the final checkpoint evaluation.
    pub do_eval: bool,
    /// Padded/truncated sequence length for seq-cls and NER.
    pub max_seq_len: usize,
    /// Training epochs (recomputed from `max_steps` when that is > 0).
    pub num_train_epochs: u64,
    /// AdamW decoupled weight decay for parameters other than biases and LayerNorm weights.
    pub weight_decay: f64,
    /// Micro-batches per optimizer update.
    pub gradient_accumulation_steps: usize,
    /// AdamW epsilon.
    pub adam_epsilon: f64,
    /// Linear warm-up length as a fraction of the total optimizer steps, in [0, 1).
    pub warmup_proportion: f64,
    /// Total optimizer steps when > 0 (overrides the epoch budget); -1 = use epochs.
    pub max_steps: i64,
    /// Global gradient-norm clip.
    pub max_grad_norm: f64,
    /// Force the CPU when no `--device` is given.
    pub no_cuda: bool,
    /// Model family and size (see [`SUPPORTED_MODEL_TYPES`]).
    pub model_type: String,
    /// Hub id or local folder of the pretrained checkpoint ("" = build from `model_config`).
    pub model_name_or_path: String,
    /// Run folder name under `ckpt_dir` ("" = `<model_type>-<task>-ckpt`).
    pub output_dir: String,
    /// RNG seed.
    pub seed: u64,
    /// Training batch size (per micro-batch).
    pub train_batch_size: usize,
    /// Evaluation batch size.
    pub eval_batch_size: usize,
    /// Evaluation cadence in optimizer steps (0 = never during training).
    pub logging_steps: u64,
    /// Checkpoint cadence in optimizer steps (0 = never during training).
    pub save_steps: u64,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// KorQuAD dev JSON used for every evaluation (squad only).
    pub predict_file: String,
    /// Worker threads for feature building (squad only).
    pub threads: usize,
    /// SQuAD 2.0 mode with unanswerable questions (squad only).
    pub version_2_with_negative: bool,
    /// SQuAD 2.0 null-answer threshold (squad only; unused when v2 is off).
    pub null_score_diff_threshold: f64,
    /// Window length in tokens (squad only).
    pub max_seq_length: usize,
    /// Distance in tokens between window starts (squad only).
    pub doc_stride: usize,
    /// Question length cap in tokens (squad only).
    pub max_query_length: usize,
    /// Longest answer in tokens at inference (squad only).
    pub max_answer_length: usize,
    /// Start/end candidates and n-best list size (squad only).
    pub n_best_size: usize,
    /// Log answer-alignment failures (squad only).
    pub verbose_logging: bool,
    /// Allow writing into an existing non-empty run folder.
    pub overwrite_output_dir: bool,
    /// Evaluate on `predict_file` at each logging step (squad only).
    pub evaluate_during_training: bool,
    /// Batch examples of similar length together to cut padding.
    pub group_by_length: bool,
    /// Mixed precision with bfloat16 autocast.
    pub bf16: bool,
    /// Mixed precision with float16 autocast and loss scaling.
    pub fp16: bool,
    /// Allow TF32 matmuls on CUDA (None = libtorch's default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tf32: Option<bool>,
    /// NER: score words cut off by truncation as predicted "O" (false = drop them from scoring).
    pub ner_score_truncated: bool,
    /// HF-style ELECTRA `config.json` object to build a model from scratch (demo runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_config: Option<Value>,
    /// Vocabulary (`vocab.txt` or `tokenizer.json`) for a model built from `model_config`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vocab_file: Option<String>,
    /// Continue training from this run folder's newest resumable checkpoint, or from this
    /// checkpoint folder ("" = start fresh); `--resume` sets it to the run's own folder.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub resume_from_checkpoint: String,
}

impl Default for Config {
    /// Values for keys a file leaves out; `task` and `model_type` are required and stay empty.
    fn default() -> Self {
        Config {
            task: String::new(),
            data_dir: "data".into(),
            ckpt_dir: "ckpt".into(),
            train_file: String::new(),
            dev_file: String::new(),
            test_file: String::new(),
            evaluate_test_during_training: false,
            eval_all_checkpoints: true,
            save_optimizer: false,
            do_lower_case: false,
            do_train: true,
            do_eval: true,
            max_seq_len: 128,
            num_train_epochs: 3,
            weight_decay: 0.0,
            gradient_accumulation_steps: 1,
            adam_epsilon: 1e-8,
            warmup_proportion: 0.0,
            max_steps: -1,
            max_grad_norm: 1.0,
            no_cuda: false,
            model_type: String::new(),
            model_name_or_path: String::new(),
            output_dir: String::new(),
            seed: 42,
            train_batch_size: 32,
            eval_batch_size: 64,
            logging_steps: 100,
            save_steps: 100,
            learning_rate: 5e-5,
            predict_file: String::new(),
            threads: 4,
            version_2_with_negative: false,
            null_score_diff_threshold: 0.0,
            max_seq_length: 512,
            doc_stride: 128,
            max_query_length: 64,
            max_answer_length: 30,
            n_best_size: 20,
            verbose_logging: false,
            overwrite_output_dir: false,
            evaluate_during_training: true,
            group_by_length: true,
            bf16: false,
            fp16: false,
            tf32: None,
            ner_score_truncated: true,
            model_config: None,
            vocab_file: None,
            resume_from_checkpoint: String::new(),
        }
    }
}

impl Config {
    /// The run folder: `<ckpt_dir>/<output_dir>` (`output_dir` "" = `<model_type>-<task>-ckpt`).
    pub fn output_path(&self) -> PathBuf {
        let name = match self.output_dir.as_str() {
            "" => format!("{}-{}-ckpt", self.model_type, self.task),
            dir => dir.to_string(),
        };
        Path::new(&self.ckpt_dir).join(name)
    }

    /// `<data_dir>/<task>/<file>`, or `None` when `file` is "" (the split is absent).
    pub fn data_path(&self, file: &str) -> Option<PathBuf> {
        let dir = Path::new(&self.data_dir).join(&self.task);
        (!file.is_empty()).then(|| dir.join(file))
    }

    /// The training file, if any.
    pub fn train_path(&self) -> Option<PathBuf> {
        self.data_path(&self.train_file)
    }

    /// The dev file, if any (seq-cls/NER).
    pub fn dev_path(&self) -> Option<PathBuf> {
        self.data_path(&self.dev_file)
    }

    /// The test file, if any (seq-cls/NER).
    pub fn test_path(&self) -> Option<PathBuf> {
        self.data_path(&self.test_file)
    }

    /// The KorQuAD dev file, if any (squad).
    pub fn predict_path(&self) -> Option<PathBuf> {
        self.data_path(&self.predict_file)
    }

    /// The kind of `task` (always `Some` for a loaded config).
    pub fn task_kind(&self) -> Option<TaskKind> {
        TaskKind::of_task(&self.task)
    }

    /// Errors when `model_type` is one this build cannot run yet (kobert, xlm-roberta, ...).
    pub fn check_supported(&self) -> Result<()> {
        if SUPPORTED_MODEL_TYPES.contains(&self.model_type.as_str()) {
            return Ok(());
        }
        Err(usage_error(format!(
            "config key \"model_type\": {:?} is not supported yet; supported: {}",
            self.model_type,
            SUPPORTED_MODEL_TYPES.join(", ")
        )))
    }
}

/// Names (`<task>/<file>.json`) of the configs embedded in the binary, sorted.
pub fn embedded_config_names() -> Vec<&'static str> {
    EMBEDDED_CONFIGS.iter().map(|(name, _)| *name).collect()
}

/// The embedded config text for `<task>/<file>.json`.
pub fn embedded_config(name: &str) -> Option<&'static str> {
    let found = EMBEDDED_CONFIGS.iter().find(|(n, _)| *n == name);
    found.map(|(_, text)| *text)
}

/// Loads the config `name` for `task`, applies `--set key=value` overrides and validates it.
///
/// `name` resolves to: `name` as a path if that file exists; else `<config_dir>/<task>/<name>`
/// (`config_dir` defaults to `configs`); else the embedded `<task>/<name>`. A missing `.json`
/// suffix is tried too. The config's `task` must equal `task`.
pub fn load_config(task: &str, name: &str, config_dir: Option<&Path>, overrides: &[String]) -> Result<Config> {
    let (label, text) = resolve_config(task, name, config_dir)?;
    let config = parse_config(&label, &text, overrides)?;
    if config.task != task {
        return Err(usage_error(format!(
            "{label}: config key \"task\" is {:?} but --task is {task:?}",
            config.task
        )));
    }
    Ok(config)
}

/// Parses config JSON `text` (`label` names its source in errors), applies overrides, validates.
pub fn parse_config(label: &str, text: &str, overrides: &[String]) -> Result<Config> {
    let mut sources = Sources::new(label);
    let mut map = parse_json(label, text)?;
    apply_overrides(&mut map, overrides, &mut sources)?;
    check_keys(&mut map, &sources)?;
    let config: Config =
        serde_json::from_value(Value::Object(map)).map_err(|e| usage_error(format!("{label}: {e}")))?;
    validate(&config, &sources)?;
    Ok(config)
}

/// Parses a `--device` value: `cpu`, `cuda` (= `cuda:0`) or `cuda:N`.
pub fn parse_device(s: &str) -> Result<tch::Device> {
    let index = |n: &str| n.parse::<usize>().ok().map(tch::Device::Cuda);
    match s.trim() {
        "cpu" => Ok(tch::Device::Cpu),
        "cuda" => Ok(tch::Device::Cuda(0)),
        other => other.strip_prefix("cuda:").and_then(index).ok_or_else(|| {
            usage_error(format!(
                "invalid device {s:?}: expected cpu, cuda or cuda:N (N = GPU index, e.g. cuda:1)"
            ))
        }),
    }
}

/// The run's device: `--device` when given, else CPU if `no_cuda`, else CUDA when available.
pub fn resolve_device(arg: Option<&str>, no_cuda: bool) -> Result<tch::Device> {
    match arg {
        Some(s) => parse_device(s),
        None if no_cuda => Ok(tch::Device::Cpu),
        None => Ok(tch::Device::cuda_if_available()),
    }
}

/// Errors when a CUDA device was asked for but is not there.
pub fn check_device(device: tch::Device) -> Result<()> {
    let tch::Device::Cuda(index) = device else {
        return Ok(());
    };
    if !tch::Cuda::is_available() {
        bail!("device cuda:{index}: CUDA is not available (no GPU, or libtorch without CUDA); use --device cpu");
    }
    let count = tch::Cuda::device_count();
    if i64::try_from(index).unwrap_or(i64::MAX) >= count {
        bail!("device cuda:{index}: only {count} CUDA device(s) found");
    }
    Ok(())
}

/// Where each key's value came from, for error messages.
struct Sources {
    /// The config file (or embedded name).
    file: String,
    /// Overridden keys and the `--set ...` argument that set them.
    overrides: BTreeMap<String, String>,
}

impl Sources {
    fn new(file: &str) -> Self {
        let overrides = BTreeMap::new();
        Sources {
            file: file.to_string(),
            overrides,
        }
    }

    fn label(&self, key: &str) -> &str {
        self.overrides.get(key).unwrap_or(&self.file)
    }
}

/// Finds the config text; returns (label for messages, text).
fn resolve_config(task: &str, name: &str, config_dir: Option<&Path>) -> Result<(String, String)> {
    let names = candidate_names(name);
    let dir = config_dir.unwrap_or(Path::new("configs")).join(task);
    let paths = names.iter().map(PathBuf::from);
    let paths: Vec<PathBuf> = paths.chain(names.iter().map(|n| dir.join(n))).collect();
    let mut tried: Vec<String> = Vec::new();
    for path in &paths {
        if path.is_file() {
            return read_config_file(path);
        }
        tried.push(path.display().to_string());
    }
    for key in names.iter().map(|n| format!("{task}/{n}")) {
        if let Some(text) = embedded_config(&key) {
            return Ok((format!("embedded:{key}"), text.to_string()));
        }
        tried.push(format!("embedded:{key}"));
    }
    let tried = tried.join(", ");
    Err(usage_error(format!(
        "config {name:?} for task {task:?} not found; tried: {tried}"
    )))
}

/// `name`, plus `name.json` when it lacks the suffix.
fn candidate_names(name: &str) -> Vec<String> {
    let mut names = vec![name.to_string()];
    if !name.ends_with(".json") {
        names.push(format!("{name}.json"));
    }
    names
}

fn read_config_file(path: &Path) -> Result<(String, String)> {
    let label = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((label, text)),
        Err(e) => Err(usage_error(format!("{label}: cannot read config: {e}"))),
    }
}

/// JSON text -> top-level object; syntax errors name line and column.
fn parse_json(label: &str, text: &str) -> Result<Map<String, Value>> {
    let value: Value = serde_json::from_str(text).map_err(|e| json_error(label, &e))?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(usage_error(format!(
            "{label}: a config must be a JSON object, got {}",
            short_json(&other)
        ))),
    }
}

fn json_error(label: &str, e: &serde_json::Error) -> anyhow::Error {
    let (line, column) = (e.line(), e.column());
    let msg = e.to_string();
    let suffix = format!(" at line {line} column {column}");
    let msg = msg.strip_suffix(&suffix).unwrap_or(&msg);
    usage_error(format!("{label}: invalid JSON at line {line}, column {column}: {msg}"))
}

/// Applies `key=value` overrides; values parse as JSON when they can, else as strings.
fn apply_overrides(map: &mut Map<String, Value>, overrides: &[String], sources: &mut Sources) -> Result<()> {
    for raw in overrides {
        let label = format!("--set {}", raw.escape_debug());
        let (key, text) = raw
            .split_once('=')
            .ok_or_else(|| usage_error(format!("{label}: expected KEY=VALUE")))?;
        let key = key.trim();
        let kind = key_kind(key).ok_or_else(|| unknown_key(&label, key))?;
        map.insert(key.to_string(), override_value(kind, text));
        sources.overrides.insert(key.to_string(), label);
    }
    Ok(())
}

/// The JSON value of an override: string keys take the text as is (`null` clears optional ones).
fn override_value(kind: KeyKind, text: &str) -> Value {
    match kind {
        KeyKind::Str => Value::String(text.to_string()),
        KeyKind::OptStr if text != "null" => Value::String(text.to_string()),
        _ => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())),
    }
}

/// Every key known and of the right kind (normalized in place), required keys present.
fn check_keys(map: &mut Map<String, Value>, sources: &Sources) -> Result<()> {
    for (key, value) in map.iter_mut() {
        let label = sources.label(key);
        let kind = key_kind(key).ok_or_else(|| unknown_key(label, key))?;
        *value = kind.normalize(value).ok_or_else(|| {
            let expected = kind.expected();
            let got = short_json(value);
            usage_error(format!("{label}: config key {key:?} must be {expected}, got {got}"))
        })?;
    }
    match REQUIRED_KEYS.iter().find(|k| !map.contains_key(**k)) {
        Some(key) => Err(usage_error(format!("{}: missing config key {key:?}", sources.file))),
        None => Ok(()),
    }
}

fn unknown_key(label: &str, key: &str) -> anyhow::Error {
    let near = closest_key(key);
    usage_error(format!("{label}: unknown config key {key:?} (did you mean {near:?}?)"))
}

/// A value as compact JSON for messages, cut to 60 chars.
fn short_json(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// Range and consistency checks on a deserialized config.
fn validate(c: &Config, s: &Sources) -> Result<()> {
    let tasks = TASKS.join(", ");
    check(s, "task", TASKS.contains(&c.task.as_str()), &tasks, &c.task)?;
    check(s, "learning_rate", c.learning_rate > 0.0, "> 0", c.learning_rate)?;
    let warmup = (0.0..1.0).contains(&c.warmup_proportion);
    check(s, "warmup_proportion", warmup, "in [0, 1)", c.warmup_proportion)?;
    check(s, "weight_decay", c.weight_decay >= 0.0, ">= 0", c.weight_decay)?;
    check(s, "adam_epsilon", c.adam_epsilon > 0.0, "> 0", c.adam_epsilon)?;
    check(s, "max_grad_norm", c.max_grad_norm >= 0.0, ">= 0", c.max_grad_norm)?;
    if c.fp16 && c.bf16 {
        let label = s.label("fp16");
        return Err(usage_error(format!(
            "{label}: config keys \"fp16\" and \"bf16\" cannot both be true"
        )));
    }
    check_model_source(c, s)
}

/// One range check: `<label>: config key "k" must be <what>, got <value>`.
fn check(s: &Sources, key: &str, ok: bool, what: &str, got: impl fmt::Debug) -> Result<()> {
    if ok {
        return Ok(());
    }
    let label = s.label(key);
    let what = if key == "task" {
        format!("one of {what}")
    } else {
        format!("a number {what}")
    };
    Err(usage_error(format!(
        "{label}: config key {key:?} must be {what}, got {got:?}"
    )))
}

/// A model comes from `model_name_or_path`, or from `model_config` plus `vocab_file`.
fn check_model_source(c: &Config, s: &Sources) -> Result<()> {
    if !c.model_name_or_path.is_empty() {
        return Ok(());
    }
    let file = &s.file;
    match (&c.model_config, &c.vocab_file) {
        (Some(_), Some(_)) => Ok(()),
        (Some(_), None) => Err(usage_error(format!(
            "{file}: config key \"model_config\" needs \"vocab_file\" when \"model_name_or_path\" is empty"
        ))),
        _ => Err(usage_error(format!(
            "{file}: config needs \"model_name_or_path\" (or \"model_config\" and \"vocab_file\")"
        ))),
    }
}
