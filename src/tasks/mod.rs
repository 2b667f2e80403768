//! Per-task readers and features, and the Naver NER label table.

pub mod ner;
pub mod seq_cls;
pub mod squad;

/// The 29 Naver NER tags in the reference's fixed id order (suffix style: `PER-B`, `PER-I`).
pub const NAVER_NER_LABELS: [&str; 29] = [
    "O", "PER-B", "PER-I", "FLD-B", "FLD-I", "AFW-B", "AFW-I", "ORG-B", "ORG-I", "LOC-B", "LOC-I", "CVL-B", "CVL-I",
    "DAT-B", "DAT-I", "TIM-B", "TIM-I", "NUM-B", "NUM-I", "EVT-B", "EVT-I", "ANM-B", "ANM-I", "PLT-B", "PLT-I",
    "MAT-B", "MAT-I", "TRM-B", "TRM-I",
];
