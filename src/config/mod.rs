//! The run config: the reference keys with their defaults ([`Config`]), the key table ([`keys`]),
//! loading with `--set` overrides and validation ([`load`]), and `--device` ([`device`]).
//!
//! Loading goes one way: resolve the name to a file on disk or to the copy embedded in the binary
//! -> parse the JSON text into a `serde_json::Value` -> apply `--set key=value` overrides -> check
//! every key against [`KEYS`] (known name, right kind) -> deserialize into [`Config`] -> validate
//! ranges. Every error is one line naming the source (file path or `--set ...`), the key and what
//! was expected; it carries a [`ConfigError`] so the CLI can exit with the usage/config code.

pub mod device;
pub mod keys;
pub mod load;
pub mod schedule;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::error::{usage_error, ConfigError};
use crate::tasks::TaskKind;
pub use device::{check_device, parse_device, resolve_device};
pub use keys::{closest_key, key_kind, KeyKind, KEYS, REQUIRED_KEYS};
pub use load::{embedded_config, embedded_config_named, embedded_config_names, load_config, parse_config};

/// One fine-tuning run: the reference keys (§9.1), KorQuAD keys, and this tool's additions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Task name (one of [`crate::tasks::names`]); picks the reader, the data subfolder, the head and the metric.
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
    /// Warmup updates; when > 0 it wins over `warmup_proportion` (HF's `warmup_steps`).
    pub warmup_steps: u64,
    /// HF's `lr_scheduler_type`: linear (the reference's), cosine, cosine_with_restarts, polynomial,
    /// constant, constant_with_warmup, inverse_sqrt.
    pub lr_scheduler_type: String,
    /// Total optimizer steps when > 0 (overrides the epoch budget); -1 = use epochs.
    pub max_steps: i64,
    /// Global gradient-norm clip.
    pub max_grad_norm: f64,
    /// Force the CPU when no `--device` is given.
    pub no_cuda: bool,
    /// Model family and size (`koelectra-small-v3`, ...; the model families list the ones this build runs).
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
    /// Sequence and token classification: the dense layers of a batch with 1/8 or more padding run
    /// on its real tokens only (false: on every position, as HF).
    pub token_packing: bool,
    /// Mixed precision with bfloat16 autocast.
    pub bf16: bool,
    /// Mixed precision with float16 autocast and loss scaling.
    pub fp16: bool,
    /// Allow TF32 matmuls on CUDA (None = libtorch's default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tf32: Option<bool>,
    /// Deterministic algorithms everywhere (HF's `full_determinism`): reproducible on CUDA, slower.
    pub full_determinism: bool,
    /// Return the CUDA caching allocator's free blocks to the driver in every update whose index
    /// (updates done so far) is a multiple of this, between forward and backward (0: never; HF's
    /// `torch_empty_cache_steps`).
    pub torch_empty_cache_steps: u64,
    /// NER: score words cut off by truncation as predicted "O" (false = drop them from scoring).
    pub ner_score_truncated: bool,
    /// Stop after this many dev evaluations without an improvement of the selection metric by more
    /// than `early_stopping_threshold` (0: never; HF's `EarlyStoppingCallback`).
    pub early_stopping_patience: u64,
    pub early_stopping_threshold: f64,
    /// Keep at most this many checkpoints (0: all; HF's `save_total_limit`): the newest, the newest
    /// resumable and the best by the dev selection metric always stay.
    pub save_total_limit: u64,
    /// The final evaluation and `summary.json` use the best checkpoint by the dev selection metric.
    pub load_best_model_at_end: bool,
    /// Where training events go (HF's `report_to`): "all" (default), "none", "jsonl"
    /// (`metrics.jsonl`), "tensorboard" (`runs/events.out.tfevents.*`).
    pub report_to: Vec<String>,
    /// SQuAD with XLM-R: key the document maps at `len(q) + 2` as transformers 3.3.1 did (the
    /// reference's off-by-one) instead of `len(q) + 3`.
    pub squad_reference_xlmr_offset: bool,
    /// XLM-R: tokenize as transformers' slow `XLMRobertaTokenizer` (what the reference scripts
    /// used): sentencepiece's own normalization and tie-breaking, and the slow pair-truncation
    /// rule, instead of `XLMRobertaTokenizerFast`. Needs `sentencepiece.bpe.model`.
    pub xlmr_slow_tokenizer: bool,
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
            warmup_steps: 0,
            lr_scheduler_type: "linear".to_string(),
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
            token_packing: true,
            bf16: false,
            fp16: false,
            tf32: None,
            full_determinism: false,
            torch_empty_cache_steps: 0,
            ner_score_truncated: true,
            early_stopping_patience: 0,
            early_stopping_threshold: 0.0,
            save_total_limit: 0,
            load_best_model_at_end: false,
            report_to: vec!["all".to_string()],
            squad_reference_xlmr_offset: false,
            xlmr_slow_tokenizer: false,
            model_config: None,
            vocab_file: None,
            resume_from_checkpoint: String::new(),
        }
    }
}

impl Config {
    /// Whether `report_to` sends training events to `sink` ("jsonl" or "tensorboard").
    pub fn reports_to(&self, sink: &str) -> bool {
        self.report_to.iter().any(|r| r == "all" || r == sink)
    }

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

    /// `xlmr_slow_tokenizer` picks between XLM-R's two tokenizers, so it is refused for another
    /// `model_type` (one line, naming the key) rather than silently ignored.
    pub fn check_xlmr_slow_tokenizer(&self) -> anyhow::Result<()> {
        if !self.xlmr_slow_tokenizer || self.model_type == XLMR_MODEL_TYPE {
            return Ok(());
        }
        Err(usage_error(format!(
            "config key \"xlmr_slow_tokenizer\" is only for XLM-R (model_type \"{XLMR_MODEL_TYPE}\"), not \
             model_type {:?}: remove it or set it to false",
            self.model_type
        )))
    }
}

/// The `model_type` of XLM-R runs (the only one `xlmr_slow_tokenizer` applies to).
pub const XLMR_MODEL_TYPE: &str = "xlm-roberta";
