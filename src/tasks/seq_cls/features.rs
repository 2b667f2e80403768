//! Seq-cls features: each example encoded as `[CLS] a [SEP] (b [SEP])`, truncated to `max_seq_len`,
//! and cached on disk by the file's and the tokenizer's content.
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use super::reader::{parse_examples, Example};
use crate::infer::SplitData;
use crate::io::cache;
use crate::io::metrics_log::FeatureStats;
use crate::io::progress;
use crate::tasks::reading::read_bytes;
use crate::text::{Encoded, Tokenizer};

/// One data split, read and encoded.
pub struct Split {
    pub name: &'static str,
    pub examples: Vec<Example>,
    pub features: Vec<Encoded>,
    pub stats: FeatureStats,
}

impl SplitData for Split {
    fn name(&self) -> &'static str {
        self.name
    }

    fn lengths(&self) -> Vec<usize> {
        self.features.iter().map(|f| f.ids.len()).collect()
    }

    fn stats(&self) -> Option<&FeatureStats> {
        Some(&self.stats)
    }
}

/// Reads the `name` split of `task` from `path` and encodes it (or loads its cached features).
pub fn read_split(
    task: &str,
    path: &Path,
    name: &'static str,
    tok: &dyn Tokenizer,
    max_seq_len: usize,
) -> Result<Split> {
    let bytes = read_bytes(path)?;
    let key = cache::Key::new("seq-cls")
        .value("task", task)
        .value("max_seq_len", max_seq_len)
        .bytes("tokenizer", &tok.fingerprint()?)
        .file_contents(&bytes);
    let report = parse_examples(task, bytes, path, name)?;
    if report.skipped > 0 {
        log::info!(
            "{name}: skipped {} row(s) with an empty text ({})",
            report.skipped,
            path.display()
        );
    }
    if report.examples.is_empty() {
        bail!("{}: no examples (only a header line?)", path.display());
    }
    let started = Instant::now();
    let (rows, cached) = cache::load_or_build(key, name, || {
        let encoded = encode(tok, &report.examples, max_seq_len, name)?;
        Ok(encoded
            .into_iter()
            .map(|e| vec![e.ids, e.type_ids, e.attention_mask])
            .collect())
    })?;
    let features: Vec<Encoded> = rows
        .into_iter()
        .map(|mut r| Encoded {
            attention_mask: r.pop().unwrap_or_default(),
            type_ids: r.pop().unwrap_or_default(),
            ids: r.pop().unwrap_or_default(),
        })
        .collect();
    if features.len() != report.examples.len() {
        bail!(
            "{name}: feature cache holds {} rows for {} examples",
            features.len(),
            report.examples.len()
        );
    }
    let stats = FeatureStats::new(name, features.len(), started.elapsed(), cached);
    log::info!(
        "{name}: {} examples from {} ({})",
        report.examples.len(),
        path.display(),
        stats.describe()
    );
    Ok(Split {
        name,
        examples: report.examples,
        features,
        stats,
    })
}

/// The features of `examples`, in order, with a progress bar titled by the split `name`.
pub fn encode(tok: &dyn Tokenizer, examples: &[Example], max_len: usize, name: &str) -> Result<Vec<Encoded>> {
    let bar = progress::bar(examples.len() as u64, &format!("encode {name}"));
    let mut features = Vec::with_capacity(examples.len());
    for chunk in examples.chunks(2048) {
        let pairs: Vec<(&str, Option<&str>)> = chunk.iter().map(|e| (e.text_a.as_str(), e.text_b.as_deref())).collect();
        let encoded = tok.encode_batch(&pairs, max_len);
        features.extend(encoded.with_context(|| format!("cannot encode the {name} split with max_seq_len {max_len}"))?);
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(features)
}
