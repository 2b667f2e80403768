//! `koelectra-ft seq-cls`: a run config to a finished run — read and encode the splits, build the
//! model, hand both to the training driver.
use anyhow::{bail, Result};
use tch::Device;

use crate::config::Config;
use crate::infer::Collate;
use crate::model::heads::SequenceClassifier;
use crate::model::source;
use crate::model::weights::HeadInfo;
use crate::model::{HeadKind, ModelConfig};
use crate::tasks::seq_cls::eval::SeqClsModel;
use crate::tasks::seq_cls::features::{read_split, Split};
use crate::tasks::seq_cls::{task_spec, TaskSpec};
use crate::text::Tokenizer;
use crate::train::driver::{self, RunSettings, Saving, Splits};
use crate::train::setup::{check_positions_fit, check_vocab_fits, load_tokenizer, model_source};

/// Runs the `seq-cls` subcommand for a loaded config.
pub fn run(cfg: &Config, device: Device) -> Result<()> {
    let spec = task_spec(&cfg.task)?;
    let source = model_source(cfg)?;
    check_positions_fit("max_seq_len", cfg.max_seq_len, &source)?;
    let tokenizer = load_tokenizer(cfg, &source)?;
    let tok = tokenizer.as_ref();
    // Read and encode everything before anything is written, so bad input leaves no output folder.
    let train_split = match cfg.do_train {
        true => Some(split(cfg, "train", &cfg.train_file, tok)?),
        false => None,
    };
    let dev = optional_split(cfg, "dev", &cfg.dev_file, tok)?;
    let test = optional_split(cfg, "test", &cfg.test_file, tok)?;
    if cfg.do_eval && test.is_none() {
        bail!("config key \"test_file\" is empty but do_eval is true (the final pass evaluates the test split)");
    }
    tch::manual_seed(cfg.seed as i64);
    let num_labels = spec.num_labels() as i64;
    let (vs, model, model_config) = source::build(&source, HeadKind::SequenceClassification, device, |p, c| {
        SequenceClassifier::new(p, c, num_labels)
    })?;
    check_vocab_fits(tok, &model_config)?;
    let task = SeqClsModel {
        model,
        spec,
        collate: Collate {
            pad_id: tok.pad_id(),
            packing: cfg.token_packing && !cfg.full_determinism,
        },
        device,
        eval_batch_size: cfg.eval_batch_size,
    };
    let test_first = cfg.evaluate_test_during_training;
    let splits = Splits::new(train_split.as_ref(), dev.as_ref(), test.as_ref(), test_first);
    let saving = Saving {
        source: &source,
        head: head_info(spec, &model_config),
        model_config: &model_config,
        tokenizer: tok,
    };
    driver::execute(&RunSettings::new(cfg)?, &vs, &task, splits, saving)
}

fn optional_split(cfg: &Config, name: &'static str, file: &str, tok: &dyn Tokenizer) -> Result<Option<Split>> {
    if file.is_empty() {
        return Ok(None);
    }
    split(cfg, name, file, tok).map(Some)
}

fn split(cfg: &Config, name: &'static str, file: &str, tok: &dyn Tokenizer) -> Result<Split> {
    let Some(path) = cfg.data_path(file) else {
        bail!("config key \"{name}_file\" is empty but the {name} split is needed");
    };
    read_split(&cfg.task, &path, name, tok, cfg.max_seq_len)
}

/// The head's architecture and label names for config.json (`LABEL_0` for regression, as HF).
fn head_info(spec: &TaskSpec, model: &ModelConfig) -> HeadInfo {
    let labels = match spec.label_names() {
        [] => vec!["LABEL_0".to_string()],
        names => names.iter().map(|s| s.to_string()).collect(),
    };
    HeadInfo {
        architecture: HeadKind::SequenceClassification.architecture(model.family),
        labels,
    }
}
