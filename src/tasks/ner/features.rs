//! Naver NER features (spec §5.2): each word tokenized on its own, its first sub-token carrying the
//! tag id and the others [`IGNORE_INDEX`]; splits read and encoded with the feature cache; batches
//! padded for the model.
use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use tch::{Device, Tensor};

use super::reader::{parse_examples, NerExample};
use super::IGNORE_INDEX;
use crate::device::Upload;
use crate::infer::{Collate, SplitData};
use crate::io::cache;
use crate::io::metrics_log::FeatureStats;
use crate::io::progress;
use crate::model::Batch;
use crate::tasks::reading::read_bytes;
use crate::text::Tokenizer;

/// One data split, read and encoded.
pub struct Split {
    pub name: &'static str,
    pub examples: Vec<NerExample>,
    pub features: Vec<NerFeature>,
    pub stats: FeatureStats,
}

/// One sentence's model input, not padded: `[CLS] sub-tokens [SEP]`. The attention mask is all 1s and the
/// token types all 0s over `input_ids`; `label_ids` has the same length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NerFeature {
    pub input_ids: Vec<i64>,
    pub label_ids: Vec<i64>,
    /// Words whose first sub-token survived the cut to `max_seq_len - 2` sub-tokens; the words after
    /// them are truncated and take part in neither training nor evaluation.
    pub words_kept: usize,
}

impl SplitData for Split {
    fn name(&self) -> &'static str {
        self.name
    }

    fn lengths(&self) -> Vec<usize> {
        self.features.iter().map(|f| f.input_ids.len()).collect()
    }

    fn stats(&self) -> Option<&FeatureStats> {
        Some(&self.stats)
    }
}

/// Spec §5.2 features for each example, in order (computed on several threads).
///
/// Each word is tokenized by itself without special tokens; a word that tokenizes to nothing (only
/// control or format chars such as U+00AD) becomes `[UNK]`. The first sub-token of a word gets its tag
/// id, the others [`IGNORE_INDEX`]. More than `max_seq_len - 2` sub-tokens are cut to the first
/// `max_seq_len - 2`; then `[CLS]` and `[SEP]` (both [`IGNORE_INDEX`]) are added.
pub fn build_features(tok: &dyn Tokenizer, examples: &[NerExample], max_seq_len: usize) -> Result<Vec<NerFeature>> {
    if max_seq_len < 3 {
        bail!("max_seq_len {max_seq_len} leaves no room for a word after [CLS] and [SEP] (need at least 3)");
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Small chunks are not worth a thread each.
    let chunk = examples.len().div_ceil(threads).max(256);
    if examples.len() <= chunk {
        return examples.iter().map(|ex| build_feature(tok, ex, max_seq_len)).collect();
    }
    let parts: Vec<Result<Vec<NerFeature>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = examples
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|ex| build_feature(tok, ex, max_seq_len)).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow!("a NER feature thread panicked")))
            })
            .collect()
    });
    let mut features = Vec::with_capacity(examples.len());
    for part in parts {
        features.extend(part?);
    }
    Ok(features)
}

/// The features of one sentence (see [`build_features`]).
fn build_feature(tok: &dyn Tokenizer, ex: &NerExample, max_seq_len: usize) -> Result<NerFeature> {
    if ex.words.len() != ex.labels.len() {
        bail!("{}: {} words but {} labels", ex.guid, ex.words.len(), ex.labels.len());
    }
    let budget = max_seq_len - 2;
    let words: Vec<&str> = ex.words.iter().map(String::as_str).collect();
    let pieces = tok.encode_words(&words).map_err(|e| anyhow!("{}: {e:#}", ex.guid))?;
    let mut input_ids = Vec::with_capacity(budget.min(2 * words.len()) + 2);
    let mut label_ids = Vec::with_capacity(input_ids.capacity());
    input_ids.push(tok.cls_id());
    label_ids.push(IGNORE_INDEX);
    let mut words_kept = 0;
    for (ids, &label) in pieces.iter().zip(&ex.labels) {
        let unk = [tok.unk_id()];
        let ids = if ids.is_empty() { &unk[..] } else { ids.as_slice() };
        let room = budget - (input_ids.len() - 1);
        if room == 0 {
            break;
        }
        let label = i64::try_from(label).map_err(|_| anyhow!("{}: label id {label} out of range", ex.guid))?;
        words_kept += 1;
        for (k, &id) in ids.iter().take(room).enumerate() {
            input_ids.push(id);
            label_ids.push(if k == 0 { label } else { IGNORE_INDEX });
        }
    }
    input_ids.push(tok.sep_id());
    label_ids.push(IGNORE_INDEX);
    Ok(NerFeature {
        input_ids,
        label_ids,
        words_kept,
    })
}

/// Reads the `name` split from `path` and builds its features (or loads them from the cache); logs
/// how many words the cut to `max_seq_len` leaves out and what happens to them (`score_truncated`).
pub fn read_split(
    path: &Path,
    name: &'static str,
    tok: &dyn Tokenizer,
    max_seq_len: usize,
    score_truncated: bool,
) -> Result<Split> {
    let bytes = read_bytes(path)?;
    let key = cache::Key::new("ner")
        .value("max_seq_len", max_seq_len)
        .bytes("tokenizer", &tok.fingerprint()?)
        .file_contents(&bytes);
    let examples = parse_examples(bytes, path, name)?;
    let started = Instant::now();
    let (rows, cached) = cache::load_or_build(key, name, || {
        let bar = progress::bar(examples.len() as u64, &format!("encode {name}"));
        let features = build_features(tok, &examples, max_seq_len)?;
        bar.finish_and_clear();
        Ok(features
            .into_iter()
            .map(|f| vec![f.input_ids, f.label_ids, vec![f.words_kept as i64]])
            .collect())
    })?;
    let features: Vec<NerFeature> = rows.into_iter().map(feature_from_row).collect::<Result<_>>()?;
    if features.len() != examples.len() {
        bail!(
            "{name}: feature cache holds {} rows for {} sentences",
            features.len(),
            examples.len()
        );
    }
    let stats = FeatureStats::new(name, features.len(), started.elapsed(), cached);
    let truncated: usize = examples
        .iter()
        .zip(&features)
        .map(|(e, f)| e.words.len() - f.words_kept)
        .sum();
    log::info!(
        "{name}: {} sentences from {} ({})",
        examples.len(),
        path.display(),
        stats.describe()
    );
    if truncated > 0 {
        let fate = if score_truncated {
            "scored as O predictions"
        } else {
            "not scored (reference)"
        };
        log::info!("{name}: {truncated} word(s) beyond max_seq_len {max_seq_len}: {fate}");
    }
    Ok(Split {
        name,
        examples,
        features,
        stats,
    })
}

fn feature_from_row(mut row: Vec<Vec<i64>>) -> Result<NerFeature> {
    let kept = row
        .pop()
        .and_then(|k| k.first().copied())
        .context("malformed feature cache row")?;
    let label_ids = row.pop().context("malformed feature cache row")?;
    let input_ids = row.pop().context("malformed feature cache row")?;
    Ok(NerFeature {
        input_ids,
        label_ids,
        words_kept: kept as usize,
    })
}

/// Right-pads ids with `[PAD]` and labels with the ignore index; batch and labels (and, with
/// `collate.packing`, a packing where it pays) reach the device in one copy.
pub fn pad_ner_batch(rows: &[&NerFeature], collate: Collate, device: Device) -> Result<(Batch, Tensor)> {
    let pad_id = collate.pad_id;
    let longest = rows.iter().map(|r| r.input_ids.len()).max().unwrap_or(0);
    let n = rows.len();
    let (mut ids, mut mask, mut labels) = (
        vec![pad_id; n * longest],
        vec![0i64; n * longest],
        vec![IGNORE_INDEX; n * longest],
    );
    for (i, row) in rows.iter().enumerate() {
        let at = i * longest;
        let len = row.input_ids.len();
        ids[at..at + len].copy_from_slice(&row.input_ids);
        mask[at..at + len].fill(1);
        labels[at..at + len].copy_from_slice(&row.label_ids);
    }
    let shape = [n as i64, longest as i64];
    let mut extra = Upload::new();
    extra.push(&labels, &shape);
    let types = vec![0i64; n * longest];
    let (batch, mut arrays) = Batch::send_packable([&ids, &mask, &types], shape, collate.packing, extra, device)?;
    let labels = arrays.pop().context("the labels of a NER batch were not sent")?;
    Ok((batch, labels))
}
