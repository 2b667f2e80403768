//! `seq-cls`: nsmc, kornli, paws, question-pair, korsts and hate-speech (spec §3, §4.1–4.7, §8.2).
//!
//! [`SPECS`] is the task table: columns, labels, metrics, selection metric, files and report column.
//! [`reader`] reads the TSV files, [`features`] encodes them, [`eval`] predicts and scores a split,
//! [`metrics`] holds the scores. `koelectra-ft seq-cls` wires them to the training driver
//! (`cli::run::seq_cls`).
pub mod eval;
pub mod features;
pub mod metrics;
pub mod reader;

use anyhow::{bail, Result};

use super::{Column, DataFile, TaskInfo, TaskKind};
pub use reader::{parse_examples, read_examples, Example, Label, ReadReport};

/// How a task's label column is interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelKind {
    /// Label strings in id order, compared as exact strings.
    Classes(&'static [&'static str]),
    /// A float score; the model has one output and an MSE loss.
    Regression,
}

/// The metrics the reference's `compute_metrics` reports for a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricSet {
    /// `acc`.
    Accuracy,
    /// Macro `precision`, `recall`, `f1`.
    MacroPrf,
    /// `pearson`, `spearmanr`, `corr`.
    Correlation,
}

/// One task: where its fields are in its TSV files (0-based columns), how its labels map to ids,
/// what it reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TaskSpec {
    pub info: TaskInfo,
    pub text_a_col: usize,
    pub text_b_col: Option<usize>,
    pub label_col: usize,
    pub labels: LabelKind,
    /// Rows whose text_a or text_b is empty are skipped (PAWS, question-pair); others keep them.
    pub skip_empty_text: bool,
    pub metrics: MetricSet,
}

const BINARY: &[&str] = &["0", "1"];
const NLI: &[&str] = &["contradiction", "entailment", "neutral"];
const HATE: &[&str] = &["none", "offensive", "hate"];

/// The column table of spec §4.1, with each task's metrics, files and results-table column.
#[rustfmt::skip]
pub const SPECS: [TaskSpec; 6] = [
    TaskSpec {
        info: info("nsmc", "acc", column(0, "NSMC", "acc", &["acc"]), &[
            DataFile::new("nsmc", "ratings_train.txt", "ac0dba272895dc1d0b3dd5f11afbeaeb7abe7876", None),
            DataFile::new("nsmc", "ratings_test.txt", "b6cfcd8cd1557bcd9bf06617b0e429ed73e9a367", Some(4_893_335)),
        ]),
        text_a_col: 1, text_b_col: None, label_col: 2,
        labels: LabelKind::Classes(BINARY), skip_empty_text: false, metrics: MetricSet::Accuracy,
    },
    TaskSpec {
        info: info("kornli", "acc", column(3, "KorNLI", "acc", &["acc"]), &[
            DataFile::new("kornli", "multinli.train.ko.tsv", "94d26a9d0dd045928148ef8691a256bd0e7d45c3", None),
            DataFile::new("kornli", "xnli.dev.ko.tsv", "21305150d466aa35d42b14e1890b7dcd58084634", Some(511_383)),
            DataFile::new("kornli", "xnli.test.ko.tsv", "89a0b11bffa775fafd88178b3980a1fe2d8aee52", Some(1_032_430)),
        ]),
        text_a_col: 0, text_b_col: Some(1), label_col: 2,
        labels: LabelKind::Classes(NLI), skip_empty_text: false, metrics: MetricSet::Accuracy,
    },
    TaskSpec {
        info: info("paws", "acc", column(2, "PAWS", "acc", &["acc"]), &[
            DataFile::new("paws", "translated_train.tsv", "a09883705bed3ba1bd61f281559923fd2592b307", None),
            DataFile::new("paws", "dev_2k.tsv", "d760482f2988afe9a7930b00ae32743f182c9409", Some(532_624)),
            DataFile::new("paws", "test_2k.tsv", "73439d805b017aafc57c85c15ad1d5d2fc922b4b", Some(540_041)),
        ]),
        text_a_col: 1, text_b_col: Some(2), label_col: 3,
        labels: LabelKind::Classes(BINARY), skip_empty_text: true, metrics: MetricSet::Accuracy,
    },
    TaskSpec {
        info: info("question-pair", "acc", column(5, "Question Pair", "acc", &["acc"]), &[
            DataFile::new("question-pair", "train.tsv", "13029db0f61003a710d197dd8b2f8093d7ece75f", Some(441_758)),
            DataFile::new("question-pair", "dev.tsv", "631cc37063a384d4deb81ff4ea9433440a74e144", Some(49_083)),
            DataFile::new("question-pair", "test.tsv", "b3fb1b47f5326eac4c3a3c01927973e187ce1a0e", Some(54_395)),
        ]),
        text_a_col: 0, text_b_col: Some(1), label_col: 2,
        labels: LabelKind::Classes(BINARY), skip_empty_text: true, metrics: MetricSet::Accuracy,
    },
    TaskSpec {
        info: info("korsts", "spearmanr", column(4, "KorSTS", "spearman", &["spearmanr"]), &[
            DataFile::new("korsts", "sts-train.tsv", "91fc16190dd0102a3cad2f0abf83317703438869", Some(1_046_952)),
            DataFile::new("korsts", "sts-dev.tsv", "3686d9394fa63bcfd6b1bc7c70a60b1dfe08d388", Some(307_276)),
            DataFile::new("korsts", "sts-test.tsv", "d2a7c958d520ed84402c0042142a60d9a18ee3e4", Some(249_596)),
        ]),
        text_a_col: 5, text_b_col: Some(6), label_col: 4,
        labels: LabelKind::Regression, skip_empty_text: false, metrics: MetricSet::Correlation,
    },
    TaskSpec {
        info: info("hate-speech", "f1", column(7, "Korean-Hate-Speech (Dev)", "F1", &["f1"]), &[
            DataFile::new("hate-speech", "train.tsv", "0ce2a9997d28ac5bef3c20ec1a46c26fda847a9b", Some(1_609_701)),
            DataFile::new("hate-speech", "val.tsv", "722a080ba651885d59a4a9d35c4210c3215cae35", Some(96_297)),
        ]),
        text_a_col: 1, text_b_col: None, label_col: 3,
        labels: LabelKind::Classes(HATE), skip_empty_text: false, metrics: MetricSet::MacroPrf,
    },
];

const fn info(
    name: &'static str,
    selection_metric: &'static str,
    column: Column,
    files: &'static [DataFile],
) -> TaskInfo {
    TaskInfo {
        name,
        kind: TaskKind::SeqCls,
        files,
        selection_metric,
        column,
    }
}

/// A results-table column in percent.
const fn column(position: u8, title: &'static str, unit: &'static str, metrics: &'static [&'static str]) -> Column {
    Column {
        position,
        title,
        unit,
        metrics,
        scale: 100.0,
    }
}

impl TaskSpec {
    /// The fewest tab-separated columns a data row must have.
    pub fn min_columns(&self) -> usize {
        let b = self.text_b_col.unwrap_or(0);
        self.text_a_col.max(b).max(self.label_col) + 1
    }

    /// Model outputs: the number of classes, or 1 for regression.
    pub fn num_labels(&self) -> usize {
        match self.labels {
            LabelKind::Classes(names) => names.len(),
            LabelKind::Regression => 1,
        }
    }

    /// Label strings in id order (empty for regression).
    pub fn label_names(&self) -> &'static [&'static str] {
        match self.labels {
            LabelKind::Classes(names) => names,
            LabelKind::Regression => &[],
        }
    }

    pub fn is_regression(&self) -> bool {
        self.labels == LabelKind::Regression
    }
}

/// The spec of one seq-cls task.
pub fn task_spec(task: &str) -> Result<&'static TaskSpec> {
    match SPECS.iter().find(|s| s.info.name == task) {
        Some(spec) => Ok(spec),
        None => {
            let names: Vec<&str> = SPECS.iter().map(|s| s.info.name).collect();
            bail!(
                "\"{task}\" is not a sequence-classification task (expected one of: {})",
                names.join(", ")
            )
        }
    }
}

/// True for the regression task (korsts); false for classification and unknown tasks.
pub fn is_regression(task: &str) -> bool {
    task_spec(task).map(|s| s.is_regression()).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_table() {
        assert_eq!(task_spec("korsts").unwrap().min_columns(), 7);
        assert_eq!(task_spec("hate-speech").unwrap().min_columns(), 4);
        assert_eq!(task_spec("kornli").unwrap().num_labels(), 3);
        assert!(is_regression("korsts") && !is_regression("nsmc") && !is_regression("naver-ner"));
        assert!(task_spec("naver-ner").is_err());
    }

    #[test]
    fn every_file_belongs_to_its_task() {
        for spec in &SPECS {
            assert!(
                spec.info.files.iter().all(|f| f.task == spec.info.name),
                "{}",
                spec.info.name
            );
        }
    }
}
