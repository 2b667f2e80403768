//! What every run resolves from its config before training: where the model comes from (a checkpoint
//! to resume, a hub id or folder, or `model_config`) and the tokenizer.
use std::path::Path;

use anyhow::{bail, Context, Result};

use super::checkpoints::{resumable_checkpoint, saved_training_args};
use crate::config::Config;
use crate::error::usage_error;
use crate::model::source::ModelSource;
use crate::model::{ModelConfig, RawConfig};
use crate::text::{self, Tokenizer};

/// The checkpoint to resume from (`resume_from_checkpoint`), else `model_name_or_path` when set,
/// else `model_config` (random init, for demos and benchmarks).
pub fn model_source(cfg: &Config) -> Result<ModelSource> {
    if !cfg.resume_from_checkpoint.is_empty() {
        let dir = resumable_checkpoint(Path::new(&cfg.resume_from_checkpoint))?;
        check_same_task(&dir, &cfg.task)?;
        log::info!("resuming from {}", dir.display());
        return Ok(ModelSource::Dir(dir));
    }
    if !cfg.model_name_or_path.is_empty() {
        let dir = crate::io::hub::resolve_model(&cfg.model_name_or_path)?;
        if !dir.join("config.json").exists() {
            let hint = super::checkpoints::run_folder_hint(&dir, "model_name_or_path=");
            if !hint.is_empty() {
                return Err(usage_error(format!(
                    "config key \"model_name_or_path\": {} has no config.json{hint}",
                    dir.display()
                )));
            }
        }
        return Ok(ModelSource::Dir(dir));
    }
    match &cfg.model_config {
        Some(value) => {
            let model = ModelConfig::read(RawConfig::Value(value.clone())).context("config key \"model_config\"")?;
            warn_unknown_fields(&model, value)?;
            Ok(ModelSource::Scratch(Box::new(model)))
        }
        None => bail!("config key \"model_name_or_path\" is empty and no \"model_config\" is given"),
    }
}

/// Warns about each `model_config` field the model's config has no field for: a typo there
/// (`--set model_config.num_hidden_layer=4`) would otherwise train the default model silently.
fn warn_unknown_fields(model: &ModelConfig, given: &serde_json::Value) -> Result<()> {
    let Some(given) = given.as_object() else { return Ok(()) };
    for (field, near) in model.unknown_fields(given)? {
        log::warn!(
            "config key \"model_config\": field {field:?} is not a field of the {} config and has no effect \
             (did you mean {near:?}?)",
            model.family.hf_model_type
        );
    }
    Ok(())
}

/// Refuses to resume another task's checkpoint (its `training_args.json` names the task): its head
/// and optimizer state do not fit this task's model, which would fail only once training starts.
fn check_same_task(checkpoint: &Path, task: &str) -> Result<()> {
    let args = checkpoint.join("training_args.json");
    match saved_training_args(checkpoint)
        .as_ref()
        .and_then(|v| v.get("task"))
        .and_then(serde_json::Value::as_str)
    {
        Some(then) if then != task => Err(anyhow::anyhow!(
            "cannot resume from {}: it is a checkpoint of task {then:?} ({}), not {task:?}; to start a {task} run \
             from its weights, give it as model_name_or_path",
            checkpoint.display(),
            args.display()
        )),
        _ => Ok(()),
    }
}

/// Refuses a maximum sequence length (`key`: `max_seq_len`, or squad's `max_seq_length`) longer than
/// the model's position table: the first long input would fail as an index error mid-run (on CUDA,
/// a device-side assert that ends the CUDA context). The reference scripts crash there too.
pub fn check_positions_fit(key: &str, max_len: usize, source: &ModelSource) -> Result<()> {
    let model = source.model_config()?;
    if !model.covers_length(max_len) {
        let positions = model.max_position_embeddings;
        return Err(usage_error(format!(
            "config key \"{key}\" is {max_len} but the model's max_position_embeddings allows at most {positions} \
             tokens ({}): lower \"{key}\"",
            source.config_label()
        )));
    }
    Ok(())
}

/// Refuses a tokenizer whose ids the model's embedding table cannot hold: they would fail as an
/// index error at the first step (on CUDA, a device-side assert that ends the CUDA context).
pub fn check_vocab_fits(tokenizer: &dyn Tokenizer, model: &ModelConfig) -> Result<()> {
    let rows = model
        .get("vocab_size")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(i64::MAX);
    let ids = tokenizer.vocab_size();
    if i64::try_from(ids).unwrap_or(i64::MAX) > rows {
        bail!(
            "the tokenizer has {ids} ids but the model's vocab_size is {rows} (config.json or config key \"model_config\"): \
             use the vocabulary the model was trained with"
        );
    }
    Ok(())
}

/// The tokenizer: `vocab_file` when the config names one, else the model folder's files; XLM-R's
/// slow tokenizer with `xlmr_slow_tokenizer`.
pub fn load_tokenizer(cfg: &Config, source: &ModelSource) -> Result<Box<dyn Tokenizer>> {
    if cfg.xlmr_slow_tokenizer {
        return load_xlmr_slow_tokenizer(cfg, source);
    }
    if let Some(file) = &cfg.vocab_file {
        return text::load_vocab_file(Path::new(file), cfg.do_lower_case).context("config key \"vocab_file\"");
    }
    match source {
        ModelSource::Dir(dir) => text::load_dir(dir),
        ModelSource::Scratch(_) => bail!("config key \"vocab_file\" is needed to build a model from model_config"),
    }
}

/// `xlmr_slow_tokenizer`: the slow XLM-R tokenizer of the model folder, or of the folder of
/// `vocab_file` when that names XLM-R's `tokenizer.json` or `sentencepiece.bpe.model`.
fn load_xlmr_slow_tokenizer(cfg: &Config, source: &ModelSource) -> Result<Box<dyn Tokenizer>> {
    cfg.check_xlmr_slow_tokenizer()?;
    let dir = match (&cfg.vocab_file, source) {
        (Some(file), _) => {
            let file = Path::new(file);
            let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if name != "tokenizer.json" && name != text::xlmr::MODEL_FILE {
                bail!(
                    "config key \"xlmr_slow_tokenizer\" needs \"vocab_file\" to be XLM-R's {} (or the \
                     tokenizer.json beside it), not {}",
                    text::xlmr::MODEL_FILE,
                    file.display()
                );
            }
            file.parent().unwrap_or(Path::new(".")).to_path_buf()
        }
        (None, ModelSource::Dir(dir)) => dir.clone(),
        (None, ModelSource::Scratch(_)) => {
            bail!("config key \"vocab_file\" is needed to build a model from model_config")
        }
    };
    let tokenizer = text::load_dir_xlmr_slow(&dir)?;
    log::info!(
        "tokenizer: XLMRobertaTokenizer (slow; xlmr_slow_tokenizer) from {}",
        dir.display()
    );
    Ok(tokenizer)
}
