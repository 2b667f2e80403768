//! A fine-tuned checkpoint saved by this tool, opened for `predict`: its head (from
//! `architectures`), its model config, its tokenizer and the run config it was trained with
//! (`training_args.json`).
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use serde_json::{Map, Value};

use crate::config::{self, Config};
use crate::model::{HeadKind, ModelConfig};
use crate::text::{self, Tokenizer};

/// What a checkpoint folder holds besides its weights.
pub struct FineTuned {
    pub dir: PathBuf,
    pub head: HeadKind,
    pub model: ModelConfig,
    pub tokenizer: Box<dyn Tokenizer>,
    /// The training run's config, or the defaults when the checkpoint has no training_args.json.
    pub run: Config,
}

impl FineTuned {
    /// Opens `dir`; a folder without `config.json` is a usage error.
    pub fn open(dir: &Path) -> Result<Self> {
        let config_path = dir.join("config.json");
        if !config_path.is_file() {
            let hint = crate::train::checkpoints::run_folder_hint(dir, "--model ");
            return Err(config::usage_error(format!(
                "--model {}: no config.json there; expected a checkpoint-<step> folder saved by koelectra-ft{hint}",
                dir.display()
            )));
        }
        let model = ModelConfig::from_file(&config_path)?;
        let head = head_kind(&model, &config_path)?;
        let trained = training_args(dir)?;
        // The checkpoint tokenizes as its training did (`xlmr_slow_tokenizer`).
        let tokenizer = match &trained {
            Some(run) if run.xlmr_slow_tokenizer => {
                log::info!("tokenizer: XLMRobertaTokenizer (slow), as the run was trained (xlmr_slow_tokenizer)");
                text::load_dir_xlmr_slow(dir)?
            }
            _ => text::load_dir(dir)?,
        };
        let run = trained.unwrap_or_else(|| {
            let run = default_run(&model, tokenizer.do_lower_case());
            let length = if head == HeadKind::QuestionAnswering {
                run.max_seq_length
            } else {
                run.max_seq_len
            };
            log::info!(
                "{}: no training_args.json, using the default length {length}",
                dir.display()
            );
            run
        });
        Ok(Self {
            dir: dir.to_path_buf(),
            head,
            model,
            tokenizer,
            run,
        })
    }
}

/// The run config of a checkpoint without `training_args.json`: the defaults, with the lengths
/// (128; squad 512) cut to what the model's position table covers.
fn default_run(model: &ModelConfig, do_lower_case: bool) -> Config {
    let defaults = Config::default();
    let positions = usize::try_from(model.max_position_embeddings).unwrap_or(0);
    Config {
        do_lower_case,
        max_seq_len: defaults.max_seq_len.min(positions),
        max_seq_length: defaults.max_seq_length.min(positions),
        ..defaults
    }
}

/// The head named by `architectures` in config.json.
fn head_kind(model: &ModelConfig, path: &Path) -> Result<HeadKind> {
    let name = model
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

/// The run's config from `training_args.json`, `None` when the checkpoint has none (the defaults
/// apply then). Keys this version does not know are ignored.
fn training_args(dir: &Path) -> Result<Option<Config>> {
    let path = dir.join("training_args.json");
    if !path.is_file() {
        return Ok(None);
    }
    let text = crate::limits::read_text_capped(&path, crate::limits::SMALL_JSON_BYTES)?;
    let map: Map<String, Value> =
        serde_json::from_str(&text).with_context(|| format!("{}: invalid JSON object", path.display()))?;
    // Known keys are checked as a run config's are (a shared checkpoint's file may have been edited).
    let mut known = Map::new();
    for (key, value) in map {
        let Some(kind) = config::key_kind(&key) else { continue };
        let value = kind.normalize(&value).ok_or_else(|| {
            let got = crate::error::short_json(&value);
            anyhow!("{}: key {key:?} must be {}, got {got}", path.display(), kind.expected())
        })?;
        known.insert(key, value);
    }
    serde_json::from_value(Value::Object(known))
        .map(Some)
        .with_context(|| format!("{}: not a run config", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RawConfig;

    fn model(positions: i64) -> ModelConfig {
        let json = serde_json::json!({"model_type": "electra", "max_position_embeddings": positions});
        ModelConfig::read(RawConfig::Value(json)).expect("a valid ELECTRA config")
    }

    #[test]
    fn default_lengths_are_cut_to_the_position_table() {
        let short = default_run(&model(64), true);
        assert_eq!((short.max_seq_len, short.max_seq_length), (64, 64));
        assert!(short.do_lower_case);
        let long = default_run(&model(1024), false);
        let defaults = Config::default();
        assert_eq!(
            (long.max_seq_len, long.max_seq_length),
            (defaults.max_seq_len, defaults.max_seq_length)
        );
        assert_eq!((defaults.max_seq_len, defaults.max_seq_length), (128, 512));
    }
}
