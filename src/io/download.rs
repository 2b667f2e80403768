//! Resumable, verified downloads of single files: the transfer goes to a hidden `.<name>.part`
//! sibling, is resumed with an HTTP range request and retried on a broken transfer, then checked
//! against the file's git blob SHA-1 (and size), fsynced and only then renamed to its final name.
use anyhow::{anyhow, bail, Context, Result};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One file to fetch: where from, where to, and what it must be.
#[derive(Debug, Clone)]
pub struct Download<'a> {
    pub url: String,
    pub dest: PathBuf,
    /// Git blob id (`git hash-object`) of the file.
    pub blob: &'a str,
    /// Size in bytes, where known.
    pub size: Option<u64>,
    /// Name for the progress bar and messages (`<task>/<file>`).
    pub label: String,
}

/// An HTTP agent with the timeouts and proxy settings downloads use.
pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(30))
        .timeout_read(Duration::from_secs(60))
        .try_proxy_from_env(true)
        .build()
}

/// Ok(size) when `path` holds the expected file, else Err(what differs).
pub fn verify(path: &Path, file: &Download) -> Result<std::result::Result<u64, String>> {
    let len = fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if let Some(size) = file.size {
        if len != size {
            return Ok(Err(format!("size {len} bytes, expected {size}")));
        }
    }
    let got = super::hub::git_blob_sha1_file(path)?;
    if got != file.blob {
        return Ok(Err(format!("blob sha1 {got} ({len} bytes), expected {}", file.blob)));
    }
    Ok(Ok(len))
}

/// What [`fetch`] did.
#[derive(Debug)]
pub enum Fetched {
    AlreadyPresent,
    Downloaded { bytes: u64 },
}

/// `<dir>/.<name>.part`: the download in progress, kept to resume.
pub fn part_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.part"))
}

/// Downloads one file to its `.part` sibling (resuming it), verifies it, then renames it into place;
/// a file already there with the right hash is kept.
pub fn fetch(agent: &ureq::Agent, file: &Download) -> Result<Fetched> {
    let (dest, url) = (&file.dest, &file.url);
    let mut differs = false;
    if dest.is_file() {
        match verify(dest, file)? {
            Ok(_) => return Ok(Fetched::AlreadyPresent),
            Err(reason) => {
                log::warn!("{}: {reason}; downloading it again", dest.display());
                differs = true;
            }
        }
    }
    if let Some(dir) = dest.parent() {
        crate::io::create_dirs(dir, "directory")?;
    }
    let part = part_path(dest);
    let mut restarted = false;
    loop {
        let resumed = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        if file.size.is_some_and(|size| resumed > size) {
            remove(&part)?;
        }
        download_to(agent, url, &part, file)?;
        match verify(&part, file)? {
            Ok(bytes) => {
                if differs {
                    keep_aside(dest)?;
                }
                finish(&part, dest)?;
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

/// Renames a file that differs from the published one (it may be the user's edit) to the first free
/// `<name>.orig`, `<name>.orig-2`, ..., so replacing it loses nothing.
fn keep_aside(path: &Path) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let free = (1..)
        .map(|n| match n {
            1 => path.with_file_name(format!("{name}.orig")),
            n => path.with_file_name(format!("{name}.orig-{n}")),
        })
        .find(|candidate| !candidate.exists())
        .context("no free name to keep the file aside")?;
    fs::rename(path, &free).with_context(|| format!("cannot rename {} to {}", path.display(), free.display()))?;
    log::warn!(
        "{}: kept the earlier, differing file as {}",
        path.display(),
        free.display()
    );
    Ok(())
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
fn download_to(agent: &ureq::Agent, url: &str, part: &Path, file: &Download) -> Result<()> {
    let bar = super::hub::download_bar(&file.label, super::progress::bars_enabled());
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
    file: &Download,
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
