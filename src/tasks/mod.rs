//! The benchmark tasks, one module per subcommand. Each owns everything about its tasks: the spec
//! table (as `run_glue.py`'s `task_to_keys`: name, files, labels, metrics, selection metric, report
//! column), the reader, the features, the decoding and the metrics, and the run that wires them to
//! the training driver.
//!
//! This file is the registry: [`all`] lists every task of every kind. Adding a task means a line in
//! its kind's spec table; adding a kind, a module and a line in [`all`].
pub mod ner;
pub mod reading;
pub mod seq_cls;
pub mod squad;

/// Which subcommand (and which head and metrics) a task belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskKind {
    /// Sentence / sentence-pair classification or regression (`seq-cls`).
    SeqCls,
    /// Token classification (`ner`).
    Ner,
    /// Extractive question answering (`squad`).
    Squad,
}

impl TaskKind {
    /// The kind of a task name, `None` for an unknown task.
    pub fn of_task(task: &str) -> Option<TaskKind> {
        info(task).map(|t| t.kind)
    }

    /// The CLI subcommand that runs this kind.
    pub fn subcommand(self) -> &'static str {
        match self {
            TaskKind::SeqCls => "seq-cls",
            TaskKind::Ner => "ner",
            TaskKind::Squad => "squad",
        }
    }

    /// The task names of this kind.
    pub fn tasks(self) -> Vec<&'static str> {
        all().filter(|t| t.kind == self).map(|t| t.name).collect()
    }
}

/// What every task has, whatever its kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TaskInfo {
    /// The `task` of configs and `--task`.
    pub name: &'static str,
    pub kind: TaskKind,
    /// The files the reference configs name (train, dev, test / predict), with their hashes.
    pub files: &'static [DataFile],
    /// The dev metric that selects the reported checkpoint.
    pub selection_metric: &'static str,
    /// The task's column in `report`'s results table.
    pub column: Column,
}

/// One column of the results table (the KoELECTRA README's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Column {
    /// Place from the left (the README's order).
    pub position: u8,
    pub title: &'static str,
    pub unit: &'static str,
    /// Headline metric keys of summary.json (two for KorQuAD: EM, F1); the last one ranks sweeps.
    pub metrics: &'static [&'static str],
    /// Factor to percent (KorQuAD's scores are already percent).
    pub scale: f64,
}

/// One official data file: `<data_dir>/<task>/<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataFile {
    pub task: &'static str,
    pub name: &'static str,
    /// Git blob id (`git hash-object`) of the official file.
    pub blob: &'static str,
    /// Size in bytes, where known.
    pub size: Option<u64>,
}

impl DataFile {
    pub const fn new(task: &'static str, name: &'static str, blob: &'static str, size: Option<u64>) -> Self {
        DataFile { task, name, blob, size }
    }
}

/// Every task, seq-cls first, in the reference's order.
pub fn all() -> impl Iterator<Item = &'static TaskInfo> {
    let seq_cls = seq_cls::SPECS.iter().map(|s| &s.info);
    seq_cls.chain([&ner::INFO, &squad::INFO])
}

/// Every task name.
pub fn names() -> Vec<&'static str> {
    all().map(|t| t.name).collect()
}

/// The task called `name`.
pub fn info(name: &str) -> Option<&'static TaskInfo> {
    all().find(|t| t.name == name)
}

/// The results table's columns, left to right.
pub fn report_columns() -> Vec<&'static TaskInfo> {
    let mut columns: Vec<&TaskInfo> = all().collect();
    columns.sort_by_key(|t| t.column.position);
    columns
}

/// Every official data file, task by task.
pub fn data_files() -> impl Iterator<Item = &'static DataFile> {
    all().flat_map(|t| t.files.iter())
}
