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
            return Err(config::usage_error(format!(
                "--model {}: no config.json there; expected a checkpoint-<step> folder saved by koelectra-ft",
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
            log::info!("{}: no training_args.json, using default lengths", dir.display());
            Config {
                do_lower_case: tokenizer.do_lower_case(),
                ..Config::default()
            }
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
