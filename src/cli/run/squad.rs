//! `koelectra-ft squad`: a run config to a finished run — read the SQuAD files and cut them into
//! windows, build the model, hand both to the training driver; and the config's window and decoding
//! settings (which `predict` reads too).
use anyhow::{Context, Result};
use tch::Device;

use crate::config::Config;
use crate::model::heads::QuestionAnswerer;
use crate::model::source;
use crate::model::weights::HeadInfo;
use crate::model::HeadKind;
use crate::tasks::squad::eval::QaModel;
use crate::tasks::squad::features::{self, Split};
use crate::tasks::squad::{Decoding, Windows};
use crate::text::Tokenizer;
use crate::train::driver::{self, RunSettings, Saving, Splits};
use crate::train::setup::{check_positions_fit, check_vocab_fits, load_tokenizer, model_source};

/// Runs the `squad` subcommand for a loaded config.
pub fn run(cfg: &Config, device: Device) -> Result<()> {
    let source = model_source(cfg)?;
    check_positions_fit("max_seq_length", cfg.max_seq_length, &source)?;
    let tokenizer = load_tokenizer(cfg, &source)?;
    let tok = tokenizer.as_ref();
    warn_if_stride_skips_tokens(cfg, tok.pair_separators());
    let train_split = match cfg.do_train {
        true => Some(read_split(cfg, "train", &cfg.train_file, true, tok)?),
        false => None,
    };
    // The predict file is KorQuAD's official dev set: the reported (test) split, never used to select.
    let test = match cfg.do_eval || cfg.evaluate_during_training {
        true => Some(read_split(cfg, "test", &cfg.predict_file, false, tok)?),
        false => None,
    };
    tch::manual_seed(cfg.seed as i64);
    let (vs, model, model_config) = source::build(&source, HeadKind::QuestionAnswering, device, QuestionAnswerer::new)?;
    check_vocab_fits(tok, &model_config)?;
    let task = QaModel {
        model,
        pad_id: tok.pad_id(),
        device,
        max_seq_length: cfg.max_seq_length,
        eval_batch_size: cfg.eval_batch_size,
        decoding: decoding(cfg, tok),
    };
    let splits = Splits {
        train: train_split.as_ref(),
        dev: None,
        test: test.as_ref(),
        eval_during_training: test.as_ref().filter(|_| cfg.evaluate_during_training),
    };
    let head = HeadInfo {
        architecture: HeadKind::QuestionAnswering.architecture(model_config.family),
        labels: vec!["LABEL_0".to_string(), "LABEL_1".to_string()],
    };
    let saving = Saving {
        source: &source,
        model_config: &model_config,
        head,
        tokenizer: tok,
    };
    driver::execute(&RunSettings::new(cfg)?, &vs, &task, splits, saving)
}

/// The `name` split of `file` (`training`: the train file, with answer targets; else the predict file).
fn read_split(cfg: &Config, name: &'static str, file: &str, training: bool, tok: &dyn Tokenizer) -> Result<Split> {
    let key = if training { "train_file" } else { "predict_file" };
    let path = cfg
        .data_path(file)
        .with_context(|| format!("config key \"{key}\" is empty"))?;
    features::read_split(&path, name, tok, &windows(cfg), training, cfg.version_2_with_negative)
}

/// Warns when windows can leave document tokens out: a window holds `max_seq_length` less the
/// question and 2 + `separators` special tokens, and a `doc_stride` (the distance between window
/// starts) longer than that skips the tokens between two windows, whose answers are never found.
/// The reference does the same, so it is not refused.
fn warn_if_stride_skips_tokens(cfg: &Config, separators: usize) {
    let budget = windows(cfg).doc_tokens(cfg.max_query_length, separators).unwrap_or(0);
    if cfg.doc_stride > budget {
        let specials = 2 + separators;
        log::warn!(
            "config key \"doc_stride\" is {} but a window holds as few as {budget} document tokens \
             (max_seq_length {} less a {}-token question and {specials} special tokens): document tokens \
             between windows are skipped and answers there are never found; lower \"doc_stride\"",
            cfg.doc_stride,
            cfg.max_seq_length,
            cfg.max_query_length
        );
    }
}

/// The window settings of a run config.
pub fn windows(cfg: &Config) -> Windows {
    Windows {
        max_seq_length: cfg.max_seq_length,
        doc_stride: cfg.doc_stride,
        max_query_length: cfg.max_query_length,
        threads: cfg.threads.max(1),
        reference_xlmr_offset: cfg.squad_reference_xlmr_offset,
    }
}

/// The decoding settings of a run config, for `tok`'s tokens.
pub fn decoding(cfg: &Config, tok: &dyn Tokenizer) -> Decoding {
    Decoding {
        n_best_size: cfg.n_best_size,
        max_answer_length: cfg.max_answer_length,
        do_lower_case: cfg.do_lower_case,
        version_2_with_negative: cfg.version_2_with_negative,
        null_score_diff_threshold: cfg.null_score_diff_threshold,
        pieces: tok.piece_style(),
    }
}
