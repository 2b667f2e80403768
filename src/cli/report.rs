//! `koelectra-ft report`: the results of several runs as one table (markdown, CSV or JSON).
//!
//! Each `RUN_DIR/summary.json` gives a task, a model and, for the selected (or last) checkpoint, its
//! test-split metrics. The table has the layout of the KoELECTRA README results table: one row per
//! model, one column per task in the reference order, values in percent with two decimals:
//!
//! | column | metric (summary.json key) |
//! |---|---|
//! | NSMC, PAWS, KorNLI, Question Pair (acc) | `acc` × 100 |
//! | Naver NER (F1) | `f1` × 100 (seqeval micro) |
//! | KorSTS (spearman) | `spearmanr` × 100 |
//! | KorQuaD (Dev) (EM/F1) | `official_exact_match` / `official_f1` (already × 100) |
//! | Korean-Hate-Speech (Dev) (F1) | `f1` × 100 (macro) |
//!
//! "Test" is whatever the run evaluated on: the official dev sets for KorQuAD and hate-speech.
//!
//! A row is a (`model_type`, `model_name_or_path`) pair, labelled by `model_type` (the baselines by
//! the reference's names: KoBERT, XLM-Roberta-Base, HanBERT, DistilKoBERT) and ordered as the
//! reference tables (base models, then small ones); when one `model_type` appears with several
//! `model_name_or_path`, the label adds the path's last component.
//! A cell no run fills reads `-`.
//!
//! **Several runs for one cell** (a sweep): the cell shows the best run and a footnote names every run
//! of the cell with its ranking value. Runs are ranked by the dev value of their `selection_metric`
//! when every run of the cell has one (so test numbers never pick the run), else by the test
//! headline metric (KorQuAD: official F1); ties go to the run given first on the command line.
use crate::io::stdout;
use crate::tasks::{self, TaskInfo};
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const AFTER_HELP: &str = "\
Columns (reference order, test-split metrics in percent): NSMC acc, Naver NER f1, PAWS acc, KorNLI acc,
KorSTS spearmanr, Question Pair acc, KorQuAD official EM / F1, Korean-Hate-Speech macro f1. Rows: one per
model_type (plus the model_name_or_path basename when a model_type has several), in the reference
tables' order: KoBERT, XLM-Roberta-Base, HanBERT, koelectra-base(-v2/-v3), DistilKoBERT,
koelectra-small(-v2/-v3). Missing cells read -.

Several runs for one model x task cell (a sweep): the best run is shown, with a footnote listing all of
them. Runs are ranked by the dev value of their selection metric when every run of the cell has one,
else by the test headline metric (KorQuAD: official F1); ties go to the run named first.
CSV and JSON give each cell's shown run with its unscaled summary.json values and the run count.

Examples:
  koelectra-ft report runs/*
  koelectra-ft report runs/* --format csv > results.csv
  koelectra-ft report runs/nsmc-* --which last --format json";

/// Flags of `koelectra-ft report`.
#[derive(Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct ReportArgs {
    /// Run folders (each holding summary.json), or their summary.json files.
    #[arg(required = true, value_name = "RUN_DIR")]
    pub runs: Vec<PathBuf>,
    /// Output format: a markdown table, CSV (one row per model, task and metric) or JSON.
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    pub format: Format,
    /// Which checkpoint of each run: the one selected by the dev metric, or the last one.
    #[arg(long, value_enum, default_value_t = Which::Selected)]
    pub which: Which,
    /// Warn about and skip run folders without a readable summary.json instead of failing.
    #[arg(long)]
    pub skip_missing: bool,
}

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Markdown,
    Csv,
    Json,
}

/// `--which`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Which {
    Selected,
    Last,
}

impl Which {
    fn key(self) -> &'static str {
        match self {
            Which::Selected => "selected",
            Which::Last => "last",
        }
    }
}

/// The table's columns, left to right: each task's `column` in its spec.
fn columns() -> Vec<&'static TaskInfo> {
    tasks::report_columns()
}

/// The run folder a command-line argument names: the argument, or the folder of a `summary.json`
/// given itself (`report runs/*/summary.json`).
fn run_folder(given: &Path) -> PathBuf {
    match given.parent() {
        Some(parent) if given.file_name() == Some("summary.json".as_ref()) && given.is_file() => match parent {
            p if p.as_os_str().is_empty() => PathBuf::from("."),
            p => p.to_path_buf(),
        },
        _ => given.to_path_buf(),
    }
}

/// Why `dir` has no summary.json: not a folder, a run that has not finished (it writes the summary
/// last), or not a run folder.
fn missing_summary(dir: &Path) -> String {
    let shown = dir.display();
    if !dir.exists() {
        return format!("{shown}: no such run folder");
    }
    if !dir.is_dir() {
        return format!("{shown}: not a folder; expected a run folder (<ckpt_dir>/<output_dir>) or its summary.json");
    }
    let checkpoints = crate::train::checkpoints::list_checkpoints(dir)
        .map(|c| c.len())
        .unwrap_or(0);
    if checkpoints > 0 || dir.join("metrics.jsonl").is_file() {
        format!(
            "{shown}: no summary.json yet: the run has not finished ({checkpoints} checkpoint(s) saved; \
             continue it with --resume)"
        )
    } else {
        format!("{shown}: no summary.json; expected a run folder (<ckpt_dir>/<output_dir>)")
    }
}

/// What the report needs from one run's summary.json.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The run folder as given on the command line.
    pub dir: String,
    pub task: String,
    pub model_type: String,
    pub model_name_or_path: String,
    pub selection_metric: String,
    pub checkpoint: String,
    pub step: Option<i64>,
    pub dev: Map<String, Value>,
    pub test: Map<String, Value>,
}

impl RunResult {
    /// Reads `<dir>/summary.json`, taking its `which` entry.
    pub fn load(dir: &Path, which: Which) -> Result<Self> {
        let path = dir.join("summary.json");
        if !path.exists() {
            bail!("{}", missing_summary(dir));
        }
        let text = crate::limits::read_text_capped(&path, crate::limits::SUMMARY_JSON_BYTES)?;
        let value: Value = serde_json::from_str(&text).with_context(|| format!("{}: invalid JSON", path.display()))?;
        let key = which.key();
        // As given, without a trailing slash (shell globs like `runs/*/` add one).
        let shown: PathBuf = dir.components().collect();
        let run = Self::from_summary(&shown.display().to_string(), &value).and_then(|run| match value.get(key) {
            Some(entry) if !entry.is_null() => run.with_entry(entry, key),
            _ => bail!("no \"{key}\" entry"),
        });
        run.with_context(|| format!("{}", path.display()))
    }

    fn from_summary(dir: &str, v: &Value) -> Result<Self> {
        let text = |key: &str| -> Result<String> {
            match v.get(key) {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => bail!("\"{key}\" is not a string"),
                None => bail!("no \"{key}\" key (a summary written by an older koelectra-ft?)"),
            }
        };
        let task = text("task")?;
        if tasks::info(&task).is_none() {
            bail!("unknown task \"{task}\"");
        }
        Ok(Self {
            dir: dir.to_string(),
            task,
            model_type: text("model_type")?,
            model_name_or_path: text("model_name_or_path").unwrap_or_default(),
            selection_metric: text("selection_metric").unwrap_or_default(),
            checkpoint: String::new(),
            step: None,
            dev: Map::new(),
            test: Map::new(),
        })
    }

    fn with_entry(mut self, entry: &Value, key: &str) -> Result<Self> {
        let Some(entry) = entry.as_object() else {
            bail!("\"{key}\" is not an object");
        };
        let map = |k: &str| entry.get(k).and_then(Value::as_object).cloned().unwrap_or_default();
        self.checkpoint = entry
            .get("checkpoint")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        self.step = entry.get("step").and_then(Value::as_i64);
        self.dev = map("dev");
        self.test = map("test");
        Ok(self)
    }

    fn metric(&self, split: &Map<String, Value>, key: &str) -> Option<f64> {
        split.get(key).and_then(Value::as_f64)
    }
}

/// One filled cell: the shown run and, for a sweep, every run of the cell in input order.
#[derive(Debug)]
struct Cell<'a> {
    shown: &'a RunResult,
    all: Vec<&'a RunResult>,
    /// How a sweep was ranked ("dev spearmanr"), with each run's ranking value in percent.
    ranked_by: Option<(String, Vec<Option<f64>>)>,
}

/// A table row: one model.
struct Row<'a> {
    label: String,
    model_type: &'a str,
    model_name_or_path: &'a str,
    cells: Vec<Option<Cell<'a>>>,
}

/// The reference README's row order (its base table, then its small table) with the names it gives
/// the baselines; KoELECTRA rows keep their `model_type`. Other model types follow in input order.
const REFERENCE_ROWS: [(&str, &str); 10] = [
    ("kobert", "KoBERT"),
    ("xlm-roberta", "XLM-Roberta-Base"),
    ("hanbert", "HanBERT"),
    ("koelectra-base", "koelectra-base"),
    ("koelectra-base-v2", "koelectra-base-v2"),
    ("koelectra-base-v3", "koelectra-base-v3"),
    ("distilkobert", "DistilKoBERT"),
    ("koelectra-small", "koelectra-small"),
    ("koelectra-small-v2", "koelectra-small-v2"),
    ("koelectra-small-v3", "koelectra-small-v3"),
];

/// A row's place in [`REFERENCE_ROWS`] (unknown model types last) and its label.
fn reference_row(model_type: &str) -> (usize, &str) {
    match REFERENCE_ROWS.iter().position(|(t, _)| *t == model_type) {
        Some(i) => (i, REFERENCE_ROWS[i].1),
        None => (REFERENCE_ROWS.len(), model_type),
    }
}

fn build(runs: &[RunResult]) -> Vec<Row<'_>> {
    let mut models: Vec<(&str, &str)> = vec![];
    for r in runs {
        let key = (r.model_type.as_str(), r.model_name_or_path.as_str());
        if !models.contains(&key) {
            models.push(key);
        }
    }
    // Stable: runs of one model type keep their input order.
    models.sort_by_key(|&(model_type, _)| reference_row(model_type).0);
    models
        .iter()
        .map(|&(model_type, path)| {
            let shared = models.iter().filter(|m| m.0 == model_type).count() > 1;
            let name = reference_row(model_type).1;
            let label = match shared {
                true => format!("{name} ({})", path_label(path)),
                false => name.to_string(),
            };
            let cells = columns()
                .into_iter()
                .map(|c| {
                    let all: Vec<&RunResult> = runs
                        .iter()
                        .filter(|r| r.model_type == model_type && r.model_name_or_path == path && r.task == c.name)
                        .collect();
                    cell(c, all)
                })
                .collect();
            Row {
                label,
                model_type,
                model_name_or_path: path,
                cells,
            }
        })
        .collect()
}

/// The last component of `model_name_or_path` ("random init" for a model built from model_config).
fn path_label(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rsplit('/').next() {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => "random init".to_string(),
    }
}

fn cell<'a>(task: &TaskInfo, all: Vec<&'a RunResult>) -> Option<Cell<'a>> {
    let first = *all.first()?;
    if all.len() == 1 {
        return Some(Cell {
            shown: first,
            all,
            ranked_by: None,
        });
    }
    let dev = |r: &RunResult| r.metric(&r.dev, &r.selection_metric);
    let metrics = task.column.metrics;
    let headline = metrics[metrics.len() - 1];
    let (name, values): (String, Vec<Option<f64>>) = if all.iter().all(|r| dev(r).is_some()) {
        let metric = &first.selection_metric;
        let same = all.iter().all(|r| &r.selection_metric == metric);
        let name = if same {
            format!("dev {metric}")
        } else {
            "dev selection metric".to_string()
        };
        (name, all.iter().map(|r| dev(r)).collect())
    } else {
        let values = all.iter().map(|r| r.metric(&r.test, headline)).collect();
        (format!("test {headline}"), values)
    };
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if v.is_some() && (values[best].is_none() || v > &values[best]) {
            best = i;
        }
    }
    let percent = values.iter().map(|v| v.map(|x| x * task.column.scale)).collect();
    Some(Cell {
        shown: all[best],
        all,
        ranked_by: Some((name, percent)),
    })
}

fn percent(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.2}"),
        _ => "-".to_string(),
    }
}

/// The cell text: `90.63`, or `84.83 / 93.45` for KorQuAD; `-` for a missing metric.
fn cell_text(task: &TaskInfo, run: &RunResult) -> String {
    task.column
        .metrics
        .iter()
        .map(|m| percent(run.metric(&run.test, m).map(|x| x * task.column.scale)))
        .collect::<Vec<_>>()
        .join(" / ")
}

/// The report for already loaded runs, in `format`.
pub fn render(runs: &[RunResult], format: Format, which: Which) -> String {
    let rows = build(runs);
    match format {
        Format::Markdown => markdown(&rows, which),
        Format::Csv => csv(&rows),
        Format::Json => json(&rows, which),
    }
}

fn markdown(rows: &[Row], which: Which) -> String {
    let mut notes = vec![];
    let mut table: Vec<Vec<String>> = vec![std::iter::once(String::new())
        .chain(
            columns()
                .iter()
                .map(|c| format!("{}<br/>({})", c.column.title, c.column.unit)),
        )
        .collect()];
    for row in rows {
        let mut line = vec![markdown_text(&row.label)];
        for (task, cell) in columns().into_iter().zip(&row.cells) {
            let Some(cell) = cell else {
                line.push("-".to_string());
                continue;
            };
            let mut text = cell_text(task, cell.shown);
            if let Some((by, values)) = &cell.ranked_by {
                notes.push(sweep_note(notes.len() + 1, &row.label, task, cell, by, values));
                let _ = write!(text, "[^{}]", notes.len());
            }
            line.push(text);
        }
        table.push(line);
    }
    let widths: Vec<usize> = (0..=columns().len())
        .map(|i| table.iter().map(|r| r[i].chars().count()).max().unwrap_or(0).max(3))
        .collect();
    let mut out = String::new();
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, &w))| match i {
                0 => format!("{c:<w$}"),
                _ => format!("{c:^w$}"),
            })
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    out.push_str(&line(&table[0]));
    let rule: Vec<String> = widths
        .iter()
        .enumerate()
        .map(|(i, &w)| match i {
            0 => format!(":{}", "-".repeat(w - 1)),
            _ => format!(":{}:", "-".repeat(w - 2)),
        })
        .collect();
    out.push_str(&format!("| {} |\n", rule.join(" | ")));
    for r in &table[1..] {
        out.push_str(&line(r));
    }
    let _ = writeln!(
        out,
        "\nTest-split metrics of each run's {} checkpoint (summary.json \"{}\"), in percent; \
         KorQuAD: official EM / F1.",
        which.key(),
        which.key()
    );
    if !notes.is_empty() {
        out.push('\n');
        for n in notes {
            out.push_str(&n);
        }
    }
    out
}

fn sweep_note(n: usize, label: &str, task: &TaskInfo, cell: &Cell, by: &str, values: &[Option<f64>]) -> String {
    let split = by.split(' ').next().unwrap_or("");
    let runs: Vec<String> = cell
        .all
        .iter()
        .zip(values)
        .map(|(r, v)| {
            let shown = if std::ptr::eq(*r, cell.shown) { ", shown" } else { "" };
            format!("{} ({split} {}{shown})", markdown_text(&r.dir), percent(*v))
        })
        .collect();
    format!(
        "[^{n}]: {}, {}: best of {} runs by {by}: {}.\n",
        markdown_text(label),
        task.column.title,
        cell.all.len(),
        runs.join(", ")
    )
}

/// Text from a summary (a model type, a path) as it can stand in a markdown table cell or footnote:
/// `|` escaped, line breaks and other control characters as spaces.
fn markdown_text(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .replace('|', "\\|")
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Long format: one line per model, task and headline metric; missing cells have no line.
fn csv(rows: &[Row]) -> String {
    let mut out = String::from("model,task,metric,value,percent,run,checkpoint,step,runs\n");
    for row in rows {
        for (task, cell) in columns().into_iter().zip(&row.cells) {
            let Some(cell) = cell else { continue };
            let run = cell.shown;
            for m in task.column.metrics {
                let raw = run.test.get(*m).filter(|v| v.is_number());
                let fields = [
                    row.label.clone(),
                    task.name.to_string(),
                    m.to_string(),
                    raw.map(Value::to_string).unwrap_or_default(),
                    raw.and_then(Value::as_f64)
                        .map(|x| percent(Some(x * task.column.scale)))
                        .unwrap_or_default(),
                    run.dir.clone(),
                    run.checkpoint.clone(),
                    run.step.map(|s| s.to_string()).unwrap_or_default(),
                    cell.all.len().to_string(),
                ];
                let fields: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                out.push_str(&fields.join(","));
                out.push('\n');
            }
        }
    }
    out
}

#[derive(Serialize)]
struct JsonReport<'a> {
    which: &'static str,
    columns: Vec<JsonColumn>,
    rows: Vec<JsonRow<'a>>,
}

#[derive(Serialize)]
struct JsonColumn {
    task: &'static str,
    title: String,
    metrics: &'static [&'static str],
    scale: f64,
}

#[derive(Serialize)]
struct JsonRow<'a> {
    model: &'a str,
    model_type: &'a str,
    model_name_or_path: &'a str,
    cells: Map<String, Value>,
}

#[derive(Serialize)]
struct JsonCell<'a> {
    /// The headline metrics as written in summary.json (not scaled).
    metrics: Map<String, Value>,
    /// The markdown cell without its footnote mark: "90.63", "84.83 / 93.45".
    text: String,
    run: &'a str,
    checkpoint: &'a str,
    step: Option<i64>,
    /// Every run of the cell, in input order (more than one: a sweep).
    runs: Vec<&'a str>,
    /// How a sweep was ranked ("dev spearmanr", "test acc"); null for a single run.
    ranked_by: Option<&'a str>,
}

fn json(rows: &[Row], which: Which) -> String {
    let report = JsonReport {
        which: which.key(),
        columns: columns()
            .into_iter()
            .map(|c| JsonColumn {
                task: c.name,
                title: format!("{} ({})", c.column.title, c.column.unit),
                metrics: c.column.metrics,
                scale: c.column.scale,
            })
            .collect(),
        rows: rows
            .iter()
            .map(|row| JsonRow {
                model: &row.label,
                model_type: row.model_type,
                model_name_or_path: row.model_name_or_path,
                cells: columns()
                    .iter()
                    .zip(&row.cells)
                    .map(|(c, cell)| {
                        let value = cell.as_ref().map(|cell| {
                            let run = cell.shown;
                            let metrics = c
                                .column
                                .metrics
                                .iter()
                                .map(|m| (m.to_string(), run.test.get(*m).cloned().unwrap_or(Value::Null)))
                                .collect();
                            serde_json::to_value(JsonCell {
                                metrics,
                                text: cell_text(c, run),
                                run: &run.dir,
                                checkpoint: &run.checkpoint,
                                step: run.step,
                                runs: cell.all.iter().map(|r| r.dir.as_str()).collect(),
                                ranked_by: cell.ranked_by.as_ref().map(|(by, _)| by.as_str()),
                            })
                            .unwrap_or(Value::Null)
                        });
                        (c.name.to_string(), value.unwrap_or(Value::Null))
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
    text.push('\n');
    text
}

/// `koelectra-ft report`: loads every summary, prints the table to stdout.
pub fn run(args: &ReportArgs) -> Result<()> {
    let mut runs = vec![];
    let mut seen = std::collections::HashSet::new();
    for given in &args.runs {
        let dir = &run_folder(given);
        // Overlapping globs (`runs/* runs/nsmc-*`) name a folder twice; a sweep counts it once.
        if !seen.insert(std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone())) {
            log::warn!("{} is given more than once; counting it once", dir.display());
            continue;
        }
        match RunResult::load(dir, args.which) {
            Ok(r) => runs.push(r),
            Err(e) if args.skip_missing => log::warn!("skipping a run: {e:#}"),
            Err(e) => return Err(e),
        }
    }
    if runs.is_empty() {
        bail!(
            "no run folder with a readable summary.json among the {} given",
            args.runs.len()
        );
    }
    stdout::print(&render(&runs, args.format, args.which))
}
