//! `koelectra-ft data fetch|list`: the benchmark files, downloaded and verified against recorded hashes.
//!
//! The files are the ones the reference configs name (each task's spec lists them), from the KoELECTRA
//! repository at a fixed commit (`<endpoint>/monologg/KoELECTRA/<commit>/finetune/data/<task>/<file>`,
//! endpoint `https://raw.githubusercontent.com`, or `$KOELECTRA_FT_DATA_ENDPOINT`). Each is checked
//! against its git blob id (`git hash-object FILE`) and, where recorded, its size.
use crate::config::Config;
use crate::io::download::{self, Download, Fetched};
use crate::io::stdout;
use crate::tasks::{self, DataFile, TaskKind};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use std::fs;
use std::path::{Path, PathBuf};

/// Where the files are downloaded from unless `KOELECTRA_FT_DATA_ENDPOINT` is set.
pub const DEFAULT_DATA_ENDPOINT: &str = "https://raw.githubusercontent.com";
/// The environment variable that replaces [`DEFAULT_DATA_ENDPOINT`] (a mirror, or a test server).
pub const DATA_ENDPOINT_ENV: &str = "KOELECTRA_FT_DATA_ENDPOINT";
/// The files' folder below the endpoint: KoELECTRA's `finetune/data` at a fixed commit.
pub const SOURCE_PATH: &str = "monologg/KoELECTRA/024fbdd600e653b6e4bdfc64ceec84181b5ce6c4/finetune/data";

/// Every official file, task by task.
pub fn manifest() -> Vec<&'static DataFile> {
    tasks::data_files().collect()
}

/// Every task a config may name, and `all`.
fn task_choices() -> Vec<&'static str> {
    tasks::names().into_iter().chain(["all"]).collect()
}

/// Flags of `koelectra-ft data`.
#[derive(Args, Debug)]
pub struct DataArgs {
    #[command(subcommand)]
    pub command: DataCommand,
}

/// The `data` subcommands.
#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Download a task's files into <data-dir>/<task>/ and verify them (git blob SHA-1 and size).
    /// The source is the KoELECTRA repository on raw.githubusercontent.com; set
    /// KOELECTRA_FT_DATA_ENDPOINT to use a mirror with the same paths.
    Fetch(FetchArgs),
    /// Show which tasks' files are present, missing, or differ from the official ones (an edit or a damaged copy).
    List(ListArgs),
}

/// Flags of `koelectra-ft data fetch`.
#[derive(Args, Debug)]
pub struct FetchArgs {
    /// The task whose files to fetch, or `all`.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(task_choices()))]
    pub task: String,
    /// Root of the data folders (files go to <data-dir>/<task>/).
    #[arg(long, value_name = "DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// No progress bars (also the behaviour when stderr is not a terminal).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Flags of `koelectra-ft data list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Root of the data folders.
    #[arg(long, value_name = "DIR", default_value = "data")]
    pub data_dir: PathBuf,
}

pub fn run(args: &DataArgs) -> Result<()> {
    match &args.command {
        DataCommand::Fetch(fetch) => {
            if fetch.quiet {
                crate::io::progress::set_quiet(true);
            }
            fetch_files(&fetch.task, &fetch.data_dir, &data_endpoint())
        }
        DataCommand::List(list) => list_files(&list.data_dir),
    }
}

/// `$KOELECTRA_FT_DATA_ENDPOINT`, else [`DEFAULT_DATA_ENDPOINT`], without a trailing slash.
pub fn data_endpoint() -> String {
    std::env::var(DATA_ENDPOINT_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_DATA_ENDPOINT.to_string())
        .trim()
        .trim_end_matches('/')
        .to_string()
}

/// The download URL of a file below `endpoint`.
pub fn file_url(endpoint: &str, file: &DataFile) -> String {
    format!(
        "{}/{SOURCE_PATH}/{}/{}",
        endpoint.trim_end_matches('/'),
        file.task,
        file.name
    )
}

/// The manifest entry for `<task>/<name>`, if it is an official file.
pub fn known_file(task: &str, name: &str) -> Option<&'static DataFile> {
    tasks::data_files().find(|f| f.task == task && f.name == name)
}

/// The manifest entries of `task` (`all`: every entry).
fn task_files(task: &str) -> Vec<&'static DataFile> {
    tasks::data_files()
        .filter(|f| task == "all" || f.task == task)
        .collect()
}

/// What to download for `file` under `data_dir`, from `endpoint`.
fn download_of<'a>(file: &'a DataFile, data_dir: &Path, endpoint: &str) -> Download<'a> {
    Download {
        url: file_url(endpoint, file),
        dest: data_dir.join(file.task).join(file.name),
        blob: file.blob,
        size: file.size,
        label: format!("{}/{}", file.task, file.name),
    }
}

/// Errors, naming the `data fetch` command to run, when a file the config needs is missing.
pub fn check_task_files(cfg: &Config) -> Result<()> {
    let squad = cfg.task_kind() == Some(TaskKind::Squad);
    let mut needed: Vec<(&str, Option<PathBuf>)> = Vec::new();
    if cfg.do_train {
        needed.push((&cfg.train_file, cfg.train_path()));
    }
    if squad {
        if cfg.do_eval || cfg.evaluate_during_training {
            needed.push((&cfg.predict_file, cfg.predict_path()));
        }
    } else {
        needed.push((&cfg.dev_file, cfg.dev_path()));
        needed.push((&cfg.test_file, cfg.test_path()));
    }
    for (name, path) in needed {
        let Some(path) = path else { continue };
        if path.exists() || known_file(&cfg.task, name).is_none() {
            continue;
        }
        bail!(
            "{}: missing; fetch it with: koelectra-ft data fetch --task {} --data-dir {}",
            path.display(),
            cfg.task,
            cfg.data_dir
        );
    }
    Ok(())
}

/// What a file on disk is, against the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Right size and hash.
    Present { bytes: u64 },
    /// Not there (`partial`: bytes of an interrupted download, `.<name>.part`).
    Missing { partial: Option<u64> },
    /// There, but not the official file (an edit, or a damaged copy).
    Differs { reason: String },
}

/// Checks `<data_dir>/<task>/<name>` against its manifest entry.
pub fn file_state(data_dir: &Path, file: &DataFile) -> Result<FileState> {
    let path = data_dir.join(file.task).join(file.name);
    if !path.exists() {
        let partial = fs::metadata(download::part_path(&path)).ok().map(|m| m.len());
        return Ok(FileState::Missing { partial });
    }
    if !path.is_file() {
        return Ok(FileState::Differs {
            reason: "not a regular file".to_string(),
        });
    }
    Ok(match download::verify(&path, &download_of(file, data_dir, ""))? {
        Ok(bytes) => FileState::Present { bytes },
        Err(reason) => FileState::Differs { reason },
    })
}

/// `data list`: one line per file, then a count; never fails for missing or bad files.
fn list_files(data_dir: &Path) -> Result<()> {
    let (mut present, mut missing, mut differ) = (0, 0, 0);
    for file in manifest() {
        let key = format!("{}/{}", file.task, file.name);
        let text = match file_state(data_dir, file) {
            Ok(FileState::Present { bytes }) => {
                present += 1;
                format!("present ({bytes} bytes, hash ok)")
            }
            Ok(FileState::Missing { partial: None }) => {
                missing += 1;
                "missing".to_string()
            }
            Ok(FileState::Missing { partial: Some(n) }) => {
                missing += 1;
                format!("missing (partial download: {n} bytes)")
            }
            Ok(FileState::Differs { reason }) => {
                differ += 1;
                format!("differs from the official file ({reason})")
            }
            Err(e) => {
                differ += 1;
                format!("unreadable ({})", format!("{e:#}").replace('\n', " "))
            }
        };
        stdout::print_line(&format!("{key:<40} {text}"))?;
    }
    stdout::print_line(&format!(
        "{present} present, {missing} missing, {differ} differing under {}{}",
        data_dir.display(),
        if missing + differ > 0 {
            format!(
                "; fetch with: koelectra-ft data fetch --task <task|all> --data-dir {}",
                data_dir.display()
            )
        } else {
            String::new()
        }
    ))
}

/// `data fetch`: every file of `task` (or `all`), each verified; fails after trying them all when
/// any could not be fetched.
pub fn fetch_files(task: &str, data_dir: &Path, endpoint: &str) -> Result<()> {
    let files = task_files(task);
    if files.is_empty() {
        bail!(
            "unknown task \"{task}\" (expected one of {})",
            task_choices().join(", ")
        );
    }
    let mut new_dirs: Vec<PathBuf> = files.iter().map(|f| data_dir.join(f.task)).collect();
    new_dirs.dedup();
    new_dirs.push(data_dir.to_path_buf());
    new_dirs.retain(|dir| !dir.exists());
    let agent = download::agent();
    let mut errors = Vec::new();
    for file in files.iter().copied() {
        let key = format!("{}/{}", file.task, file.name);
        match download::fetch(&agent, &download_of(file, data_dir, endpoint)) {
            Ok(Fetched::AlreadyPresent) => stdout::print_line(&format!("{key}: ok, already present"))?,
            Ok(Fetched::Downloaded { bytes }) => {
                stdout::print_line(&format!("{key}: downloaded and verified ({bytes} bytes)"))?
            }
            Err(e) => errors.push(e),
        }
    }
    // Folders this run created and left empty (every download failed before writing a byte) go;
    // `remove_dir` keeps any that hold a file, such as a partial download kept to resume.
    for dir in &new_dirs {
        let _ = fs::remove_dir(dir);
    }
    if errors.len() > 1 {
        for e in &errors {
            log::error!("{}", format!("{e:#}").replace('\n', " "));
        }
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        n => Err(errors.remove(0)).context(format!("{n} of {} files failed (all listed above); first", files.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_entries_are_well_formed() {
        for file in manifest() {
            assert!(task_choices().contains(&file.task), "{}", file.task);
            assert_eq!(file.blob.len(), 40);
            assert!(file.blob.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        let url = file_url("http://x/", manifest()[0]);
        assert_eq!(
            url,
            "http://x/monologg/KoELECTRA/024fbdd600e653b6e4bdfc64ceec84181b5ce6c4/finetune/data/nsmc/ratings_train.txt"
        );
    }
}
