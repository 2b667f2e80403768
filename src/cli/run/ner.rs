//! `koelectra-ft ner`: a run config to a finished run — read and encode the splits, build the model,
//! hand both to the training driver.
use anyhow::{bail, Context, Result};
use tch::Device;

use crate::config::Config;
use crate::infer::Collate;
use crate::model::heads::TokenClassifier;
use crate::model::source;
use crate::model::weights::HeadInfo;
use crate::model::HeadKind;
use crate::tasks::ner::eval::NerModel;
use crate::tasks::ner::features::{read_split, Split};
use crate::tasks::ner::NAVER_NER_LABELS;
use crate::text::Tokenizer;
use crate::train::driver::{self, RunSettings, Saving, Splits};
use crate::train::setup::{check_positions_fit, check_vocab_fits, load_tokenizer, model_source};

/// Runs the `ner` subcommand for a loaded config.
pub fn run(cfg: &Config, device: Device) -> Result<()> {
    let source = model_source(cfg)?;
    check_positions_fit("max_seq_len", cfg.max_seq_len, &source)?;
    let tokenizer = load_tokenizer(cfg, &source)?;
    let tok = tokenizer.as_ref();
    let train_split = match cfg.do_train {
        true => split(cfg, "train", &cfg.train_file, tok)?,
        false => None,
    };
    if cfg.do_train && train_split.is_none() {
        bail!("config key \"train_file\" is empty but do_train is true");
    }
    let dev = split(cfg, "dev", &cfg.dev_file, tok)?;
    let test = split(cfg, "test", &cfg.test_file, tok)?;
    tch::manual_seed(cfg.seed as i64);
    let num_labels = NAVER_NER_LABELS.len() as i64;
    let (vs, model, model_config) = source::build(&source, HeadKind::TokenClassification, device, |p, c| {
        TokenClassifier::new(p, c, num_labels)
    })?;
    check_vocab_fits(tok, &model_config)?;
    let task = NerModel {
        model,
        collate: Collate {
            pad_id: tok.pad_id(),
            packing: cfg.token_packing && !cfg.full_determinism,
        },
        device,
        eval_batch_size: cfg.eval_batch_size,
        score_truncated: cfg.ner_score_truncated,
    };
    let test_first = cfg.evaluate_test_during_training;
    let splits = Splits::new(train_split.as_ref(), dev.as_ref(), test.as_ref(), test_first);
    let saving = Saving {
        source: &source,
        head: HeadInfo {
            architecture: HeadKind::TokenClassification.architecture(model_config.family),
            labels: NAVER_NER_LABELS.iter().map(|s| s.to_string()).collect(),
        },
        model_config: &model_config,
        tokenizer: tok,
    };
    driver::execute(&RunSettings::new(cfg)?, &vs, &task, splits, saving)
}

/// The `name` split of `file`, or `None` when the config names no file.
fn split(cfg: &Config, name: &'static str, file: &str, tok: &dyn Tokenizer) -> Result<Option<Split>> {
    if file.is_empty() {
        return Ok(None);
    }
    let path = cfg
        .data_path(file)
        .with_context(|| format!("config key \"{name}_file\" is empty"))?;
    read_split(&path, name, tok, cfg.max_seq_len, cfg.ner_score_truncated).map(Some)
}
