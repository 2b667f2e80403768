//! `squad`: KorQuAD extractive question answering (spec §3, §4.9, §5.3, §8.5).
//!
//! [`INFO`] is the task table. [`reader`] reads SQuAD-format JSON, [`features`] cuts questions and
//! contexts into windows, [`decode`] turns window logits into answers, [`metrics`] scores them,
//! [`files`] writes the reference's prediction files, and [`eval`] runs a split through all of these.
//! `koelectra-ft squad` wires them to the training driver (`cli::run::squad`).
pub mod decode;
pub mod eval;
pub mod features;
pub mod files;
pub mod metrics;
pub mod reader;

use super::{Column, DataFile, TaskInfo, TaskKind};
pub use decode::Decoding;
pub use features::{build_features, SquadFeature, Windows};
pub use reader::{parse_examples, read_examples, SquadExample};

/// The task: its files, selection metric and results-table column (KorQuAD's official dev set is
/// the reported split, so a run never selects on it).
pub const INFO: TaskInfo = TaskInfo {
    name: "korquad",
    kind: TaskKind::Squad,
    files: &[
        DataFile::new(
            "korquad",
            "KorQuAD_v1.0_train.json",
            "82e3c5939e5e61a1c4ae94e42676800e88ec52a6",
            None,
        ),
        DataFile::new(
            "korquad",
            "KorQuAD_v1.0_dev.json",
            "6849d8c79140447018f5701a0453835c96608a07",
            Some(3_881_058),
        ),
    ],
    selection_metric: "official_f1",
    column: Column {
        position: 6,
        title: "KorQuaD (Dev)",
        unit: "EM/F1",
        metrics: &["official_exact_match", "official_f1"],
        scale: 1.0,
    },
};
