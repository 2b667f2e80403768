//! Per-task facts shared by the subcommands: which head a task uses and its label list.
use crate::model::heads::HeadKind;
use anyhow::{bail, Result};

pub mod ner;
pub mod seq_cls;
pub mod squad;

/// The 29 Naver NER tags in the reference's fixed id order (suffix style: `PER-B`, `PER-I`).
pub const NAVER_NER_LABELS: [&str; 29] = [
    "O", "PER-B", "PER-I", "FLD-B", "FLD-I", "AFW-B", "AFW-I", "ORG-B", "ORG-I", "LOC-B", "LOC-I", "CVL-B", "CVL-I",
    "DAT-B", "DAT-I", "TIM-B", "TIM-I", "NUM-B", "NUM-I", "EVT-B", "EVT-I", "ANM-B", "ANM-I", "PLT-B", "PLT-I",
    "MAT-B", "MAT-I", "TRM-B", "TRM-I",
];

/// The head a task trains.
pub fn head_kind(task: &str) -> Result<HeadKind> {
    Ok(match task {
        "nsmc" | "kornli" | "paws" | "question-pair" | "korsts" | "hate-speech" => HeadKind::SequenceClassification,
        "naver-ner" => HeadKind::TokenClassification,
        "korquad" => HeadKind::QuestionAnswering,
        other => bail!("unknown task \"{other}\""),
    })
}

/// Label strings in id order; a regression task (korsts) has HF's single default label.
pub fn labels(task: &str) -> Result<Vec<String>> {
    let labels: Vec<&str> = match task {
        "naver-ner" => NAVER_NER_LABELS.to_vec(),
        "korquad" => vec!["LABEL_0", "LABEL_1"],
        "korsts" => vec!["LABEL_0"],
        seq_cls_task => seq_cls::task_spec(seq_cls_task)?.label_names().to_vec(),
    };
    Ok(labels.into_iter().map(String::from).collect())
}
