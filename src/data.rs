//! `koelectra-ft data fetch|list`: the benchmark files, downloaded and verified against recorded hashes.
//!
//! The files are the ones the reference configs name, from the KoELECTRA repository at a fixed
//! commit (`<endpoint>/monologg/KoELECTRA/<commit>/finetune/data/<task>/<file>`, endpoint
//! `https://raw.githubusercontent.com`, or `$KOELECTRA_FT_DATA_ENDPOINT`). Each is checked against
//! its git blob id (`git hash-object FILE`) and, where recorded, its size.
use crate::config::{Config, TaskKind};
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the files are downloaded from unless `KOELECTRA_FT_DATA_ENDPOINT` is set.
pub const DEFAULT_DATA_ENDPOINT: &str = "https://raw.githubusercontent.com";
/// The environment variable that replaces [`DEFAULT_DATA_ENDPOINT`] (a mirror, or a test server).
pub const DATA_ENDPOINT_ENV: &str = "KOELECTRA_FT_DATA_ENDPOINT";
/// The files' folder below the endpoint: KoELECTRA's `finetune/data` at a fixed commit.
pub const SOURCE_PATH: &str = "monologg/KoELECTRA/024fbdd600e653b6e4bdfc64ceec84181b5ce6c4/finetune/data";

/// One official file: `<data_dir>/<task>/<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataFile {
    pub task: &'static str,
    pub name: &'static str,
    /// Git blob id (`git hash-object`) of the official file.
    pub blob: &'static str,
    /// Size in bytes, where known.
    pub size: Option<u64>,
}

const fn file(task: &'static str, name: &'static str, blob: &'static str, size: Option<u64>) -> DataFile {
    DataFile { task, name, blob, size }
}

/// The files each task's reference configs name (train, dev, test / predict), with their hashes.
/// The training files without a size were not at hand when this table was made; their blob ids
/// are the ones recorded in the KoELECTRA tree.
pub const MANIFEST: &[DataFile] = &[
    file(
        "nsmc",
        "ratings_train.txt",
        "ac0dba272895dc1d0b3dd5f11afbeaeb7abe7876",
        None,
    ),
    file(
        "nsmc",
        "ratings_test.txt",
        "b6cfcd8cd1557bcd9bf06617b0e429ed73e9a367",
        Some(4_893_335),
    ),
    file(
        "kornli",
        "multinli.train.ko.tsv",
        "94d26a9d0dd045928148ef8691a256bd0e7d45c3",
        None,
    ),
    file(
        "kornli",
        "xnli.dev.ko.tsv",
        "21305150d466aa35d42b14e1890b7dcd58084634",
        Some(511_383),
    ),
    file(
        "kornli",
        "xnli.test.ko.tsv",
        "89a0b11bffa775fafd88178b3980a1fe2d8aee52",
        Some(1_032_430),
    ),
    file(
        "paws",
        "translated_train.tsv",
        "a09883705bed3ba1bd61f281559923fd2592b307",
        None,
    ),
    file(
        "paws",
        "dev_2k.tsv",
        "d760482f2988afe9a7930b00ae32743f182c9409",
        Some(532_624),
    ),
    file(
        "paws",
        "test_2k.tsv",
        "73439d805b017aafc57c85c15ad1d5d2fc922b4b",
        Some(540_041),
    ),
    file(
        "question-pair",
        "train.tsv",
        "13029db0f61003a710d197dd8b2f8093d7ece75f",
        Some(441_758),
    ),
    file(
        "question-pair",
        "dev.tsv",
        "631cc37063a384d4deb81ff4ea9433440a74e144",
        Some(49_083),
    ),
    file(
        "question-pair",
        "test.tsv",
        "b3fb1b47f5326eac4c3a3c01927973e187ce1a0e",
        Some(54_395),
    ),
    file(
        "korsts",
        "sts-train.tsv",
        "91fc16190dd0102a3cad2f0abf83317703438869",
        Some(1_046_952),
    ),
    file(
        "korsts",
        "sts-dev.tsv",
        "3686d9394fa63bcfd6b1bc7c70a60b1dfe08d388",
        Some(307_276),
    ),
    file(
        "korsts",
        "sts-test.tsv",
        "d2a7c958d520ed84402c0042142a60d9a18ee3e4",
        Some(249_596),
    ),
    file(
        "hate-speech",
        "train.tsv",
        "0ce2a9997d28ac5bef3c20ec1a46c26fda847a9b",
        Some(1_609_701),
    ),
    file(
        "hate-speech",
        "val.tsv",
        "722a080ba651885d59a4a9d35c4210c3215cae35",
        Some(96_297),
    ),
    file(
        "naver-ner",
        "train.tsv",
        "a9e359664d261e9c7fc2a63d5ecf465bbb00b01b",
        None,
    ),
    file(
        "naver-ner",
        "test.tsv",
        "6b0527678c6f614452f318178ad37129e655fd95",
        Some(1_445_566),
    ),
    file(
        "korquad",
        "KorQuAD_v1.0_train.json",
        "82e3c5939e5e61a1c4ae94e42676800e88ec52a6",
        None,
    ),
    file(
        "korquad",
        "KorQuAD_v1.0_dev.json",
        "6849d8c79140447018f5701a0453835c96608a07",
        Some(3_881_058),
    ),
];

/// The tasks of the manifest (every task a config may name), and `all`.
fn task_choices() -> Vec<&'static str> {
    crate::config::TASKS.iter().copied().chain(["all"]).collect()
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
    /// Show which tasks' files are present, missing or corrupt.
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
                crate::progress::set_quiet(true);
            }
            fetch_files(&fetch.task, &fetch.data_dir, &data_endpoint())
        }
        DataCommand::List(list) => {
            list_files(&list.data_dir);
            Ok(())
        }
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
    MANIFEST.iter().find(|f| f.task == task && f.name == name)
}

/// The manifest entries of `task` (`all`: every entry).
fn task_files(task: &str) -> Vec<&'static DataFile> {
    MANIFEST.iter().filter(|f| task == "all" || f.task == task).collect()
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
    /// There, but not the official file.
    Corrupt { reason: String },
}

/// Checks `<data_dir>/<task>/<name>` against its manifest entry.
pub fn file_state(data_dir: &Path, file: &DataFile) -> Result<FileState> {
    let path = data_dir.join(file.task).join(file.name);
    if !path.exists() {
        let partial = fs::metadata(part_path(&path)).ok().map(|m| m.len());
        return Ok(FileState::Missing { partial });
    }
    if !path.is_file() {
        return Ok(FileState::Corrupt {
            reason: "not a regular file".to_string(),
        });
    }
    Ok(match check_hash(&path, file)? {
        Ok(bytes) => FileState::Present { bytes },
        Err(reason) => FileState::Corrupt { reason },
    })
}

/// Ok(size) when `path` is the manifest's file, else Err(what differs).
fn check_hash(path: &Path, file: &DataFile) -> Result<std::result::Result<u64, String>> {
    let len = fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if let Some(size) = file.size {
        if len != size {
            return Ok(Err(format!("size {len} bytes, expected {size}")));
        }
    }
    let got = crate::hub::git_blob_sha1_file(path)?;
    if got != file.blob {
        return Ok(Err(format!("blob sha1 {got} ({len} bytes), expected {}", file.blob)));
    }
    Ok(Ok(len))
}

/// `data list`: one line per file, then a count; never fails for missing or bad files.
fn list_files(data_dir: &Path) {
    let (mut present, mut missing, mut corrupt) = (0, 0, 0);
    for file in MANIFEST {
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
            Ok(FileState::Corrupt { reason }) => {
                corrupt += 1;
                format!("corrupt ({reason})")
            }
            Err(e) => {
                corrupt += 1;
                format!("corrupt (unreadable: {})", format!("{e:#}").replace('\n', " "))
            }
        };
        println!("{key:<40} {text}");
    }
    println!(
        "{present} present, {missing} missing, {corrupt} corrupt under {}{}",
        data_dir.display(),
        if missing + corrupt > 0 {
            format!(
                "; fetch with: koelectra-ft data fetch --task <task|all> --data-dir {}",
                data_dir.display()
            )
        } else {
            String::new()
        }
    );
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
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(30))
        .timeout_read(Duration::from_secs(60))
        .try_proxy_from_env(true)
        .build();
    let mut errors = Vec::new();
    for file in &files {
        let key = format!("{}/{}", file.task, file.name);
        match fetch_file(&agent, endpoint, data_dir, file) {
            Ok(Fetched::AlreadyPresent) => println!("{key}: ok, already present"),
            Ok(Fetched::Downloaded { bytes }) => println!("{key}: downloaded and verified ({bytes} bytes)"),
            Err(e) => errors.push(e),
        }
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

/// What [`fetch_file`] did.
#[derive(Debug)]
enum Fetched {
    AlreadyPresent,
    Downloaded { bytes: u64 },
}

/// `<dir>/.<name>.part`: the download in progress, kept to resume.
fn part_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.part"))
}

/// Downloads one file to its `.part` sibling (resuming it), verifies it, then renames it into place.
fn fetch_file(agent: &ureq::Agent, endpoint: &str, data_dir: &Path, file: &DataFile) -> Result<Fetched> {
    let dest = data_dir.join(file.task).join(file.name);
    let url = file_url(endpoint, file);
    if dest.is_file() {
        match check_hash(&dest, file)? {
            Ok(_) => return Ok(Fetched::AlreadyPresent),
            Err(reason) => log::warn!("{}: {reason}; downloading it again", dest.display()),
        }
    }
    let dir = dest.parent().unwrap_or(data_dir);
    fs::create_dir_all(dir).with_context(|| format!("cannot create directory {}", dir.display()))?;
    let part = part_path(&dest);
    let mut restarted = false;
    loop {
        let resumed = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        if file.size.is_some_and(|size| resumed > size) {
            remove(&part)?;
        }
        download_to(agent, &url, &part, file)?;
        match check_hash(&part, file)? {
            Ok(bytes) => {
                finish(&part, &dest)?;
                return Ok(Fetched::Downloaded { bytes });
            }
            Err(reason) => {
                remove(&part)?;
                if resumed > 0 && !restarted {
                    // The old partial file may be what is wrong: start over once.
                    log::warn!("{url}: resumed download does not match ({reason}); downloading from the start");
                    restarted = true;
                    continue;
                }
                bail!("{url}: hash mismatch: {reason}; the download was deleted");
            }
        }
    }
}

fn remove(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot delete {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// fsync the verified `.part` and rename it to `dest`, then sync the folder.
fn finish(part: &Path, dest: &Path) -> Result<()> {
    let handle = fs::OpenOptions::new()
        .append(true)
        .open(part)
        .with_context(|| format!("cannot open {}", part.display()))?;
    handle
        .sync_all()
        .with_context(|| format!("cannot sync {}", part.display()))?;
    drop(handle);
    fs::rename(part, dest).with_context(|| format!("cannot rename {} to {}", part.display(), dest.display()))?;
    if let Some(dir) = dest.parent() {
        if let Ok(handle) = fs::File::open(dir) {
            let _ = handle.sync_all(); // best effort: not every filesystem syncs directories
        }
    }
    Ok(())
}

/// How many times one file's transfer is tried.
const ATTEMPTS: u32 = 4;

/// A failed transfer: worth another try (network, 5xx, cut-off body), or not.
enum Failure {
    Retry(String),
    Fatal(anyhow::Error),
}

/// Fills `part` with the file at `url`, resuming what is there with a Range request and retrying
/// broken transfers with a short backoff.
fn download_to(agent: &ureq::Agent, url: &str, part: &Path, file: &DataFile) -> Result<()> {
    let name = format!("{}/{}", file.task, file.name);
    let bar = crate::hub::download_bar(&name, crate::progress::bars_enabled());
    let mut attempt = 1;
    let result = loop {
        match transfer(agent, url, part, file, &bar) {
            Ok(()) => break Ok(()),
            Err(Failure::Fatal(e)) => break Err(e),
            Err(Failure::Retry(why)) if attempt < ATTEMPTS => {
                let wait = Duration::from_millis(250 << (attempt - 1));
                log::warn!(
                    "{url}: {why}; retrying in {:.2} s ({attempt}/{})",
                    wait.as_secs_f64(),
                    ATTEMPTS - 1
                );
                std::thread::sleep(wait);
                attempt += 1;
            }
            Err(Failure::Retry(why)) => break Err(anyhow!("{url}: {why} (gave up after {ATTEMPTS} attempts)")),
        }
    };
    bar.finish_and_clear();
    result
}

/// One request: appends to `part` (206 for the requested range) or rewrites it (200).
fn transfer(
    agent: &ureq::Agent,
    url: &str,
    part: &Path,
    file: &DataFile,
    bar: &indicatif::ProgressBar,
) -> std::result::Result<(), Failure> {
    let fatal = |e: anyhow::Error| Failure::Fatal(e);
    let start = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    if start > 0 && file.size == Some(start) {
        return Ok(()); // complete already: the hash check decides
    }
    let mut request = agent.get(url).set("Accept-Encoding", "identity");
    if start > 0 {
        request = request.set("Range", &format!("bytes={start}-"));
    }
    let response = match request.call() {
        Ok(response) => response,
        Err(ureq::Error::Status(404, _)) => return Err(fatal(anyhow!("not found: {url} (HTTP 404)"))),
        // The partial file is already as long as the file (or longer): let the hash check decide.
        Err(ureq::Error::Status(416, _)) if start > 0 => return Ok(()),
        Err(ureq::Error::Status(code, _)) if code == 408 || code == 429 || code >= 500 => {
            return Err(Failure::Retry(format!("HTTP {code}")))
        }
        Err(ureq::Error::Status(code, response)) => {
            return Err(fatal(anyhow!("{url}: HTTP {code} {}", response.status_text())))
        }
        Err(ureq::Error::Transport(t)) => {
            // ureq's message starts with the URL, which the caller's message already names.
            let text = t.to_string();
            let text = text.strip_prefix(&format!("{url}: ")).unwrap_or(&text).to_string();
            return Err(Failure::Retry(text));
        }
    };
    let status = response.status();
    let resume_at = if status == 206 {
        let range = response.header("Content-Range").unwrap_or("");
        let first = range
            .strip_prefix("bytes ")
            .and_then(|r| r.split('-').next())
            .and_then(|n| n.trim().parse::<u64>().ok());
        if first != Some(start) {
            let _ = fs::remove_file(part);
            return Err(Failure::Retry(format!(
                "asked for bytes {start}-, got Content-Range \"{range}\"; starting over"
            )));
        }
        start
    } else if status == 200 {
        if start > 0 {
            log::info!("{url}: the server ignored the range request; downloading from the start");
        }
        0
    } else {
        return Err(fatal(anyhow!("{url}: unexpected HTTP {status}")));
    };
    let length = response.header("Content-Length").and_then(|n| n.parse::<u64>().ok());
    let total = length.map(|n| n + resume_at).or(file.size).unwrap_or(0);
    bar.set_length(total);
    bar.set_position(resume_at);
    let mut out = if resume_at > 0 {
        fs::OpenOptions::new().append(true).open(part)
    } else {
        fs::File::create(part)
    }
    .with_context(|| format!("cannot open {}", part.display()))
    .map_err(fatal)?;
    let mut reader = bar.wrap_read(response.into_reader());
    let mut buf = vec![0u8; 1 << 16];
    let mut received = 0u64;
    loop {
        let n = match std::io::Read::read(&mut reader, &mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Failure::Retry(format!(
                    "transfer broken after {} bytes ({e})",
                    resume_at + received
                )))
            }
        };
        out.write_all(&buf[..n])
            .with_context(|| format!("cannot write {}", part.display()))
            .map_err(fatal)?;
        received += n as u64;
    }
    out.flush()
        .with_context(|| format!("cannot write {}", part.display()))
        .map_err(fatal)?;
    if let Some(expected) = length {
        if received < expected {
            return Err(Failure::Retry(format!(
                "transfer broken after {} of {} bytes",
                resume_at + received,
                resume_at + expected
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_entries_are_well_formed() {
        for file in MANIFEST {
            assert!(task_choices().contains(&file.task), "{}", file.task);
            assert_eq!(file.blob.len(), 40);
            assert!(file.blob.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        let url = file_url("http://x/", &MANIFEST[0]);
        assert_eq!(
            url,
            "http://x/monologg/KoELECTRA/024fbdd600e653b6e4bdfc64ceec84181b5ce6c4/finetune/data/nsmc/ratings_train.txt"
        );
    }
}
