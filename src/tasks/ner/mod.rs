//! `ner`: Naver NER token classification, scored at the entity level as seqeval does (spec §3, §4.8,
//! §5.2, §8.3).
//!
//! [`INFO`] and [`NAVER_NER_LABELS`] are the task table. [`reader`] reads the TSV files, [`features`]
//! aligns tags with sub-tokens, [`eval`] predicts and scores a split with [`seqeval`].
//! `koelectra-ft ner` wires them to the training driver (`cli::run::ner`).
pub mod eval;
pub mod features;
pub mod reader;
pub mod seqeval;

use super::{Column, DataFile, TaskInfo, TaskKind};
pub use features::{build_features, NerFeature};
pub use reader::{parse_examples, read_examples, NerExample};

/// The 29 Naver NER tags in the reference's fixed id order (suffix style: `PER-B`, `PER-I`).
pub const NAVER_NER_LABELS: [&str; 29] = [
    "O", "PER-B", "PER-I", "FLD-B", "FLD-I", "AFW-B", "AFW-I", "ORG-B", "ORG-I", "LOC-B", "LOC-I", "CVL-B", "CVL-I",
    "DAT-B", "DAT-I", "TIM-B", "TIM-I", "NUM-B", "NUM-I", "EVT-B", "EVT-I", "ANM-B", "ANM-I", "PLT-B", "PLT-I",
    "MAT-B", "MAT-I", "TRM-B", "TRM-I",
];

/// Label id of the sub-tokens that carry no tag (`[CLS]`, `[SEP]`, non-first sub-tokens): the loss and
/// the metrics skip it.
pub const IGNORE_INDEX: i64 = -100;

/// The task: its files, selection metric (seqeval micro F1) and results-table column.
pub const INFO: TaskInfo = TaskInfo {
    name: "naver-ner",
    kind: TaskKind::Ner,
    files: &[
        DataFile::new(
            "naver-ner",
            "train.tsv",
            "a9e359664d261e9c7fc2a63d5ecf465bbb00b01b",
            None,
        ),
        DataFile::new(
            "naver-ner",
            "test.tsv",
            "6b0527678c6f614452f318178ad37129e655fd95",
            Some(1_445_566),
        ),
    ],
    selection_metric: "f1",
    column: Column {
        position: 1,
        title: "Naver NER",
        unit: "F1",
        metrics: &["f1"],
        scale: 100.0,
    },
};
