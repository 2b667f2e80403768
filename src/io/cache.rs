//! On-disk feature cache: encoded examples stored under a key that hashes everything they depend
//! on (data file bytes, tokenizer files, lengths, the feature code's version), so a second run skips
//! tokenisation and a changed input can never reuse a stale cache (the reference keyed its cache by
//! task, model name and length only).
//!
//! Location: `$KOELECTRA_FT_CACHE`, else `$XDG_CACHE_HOME/koelectra-ft`, else
//! `~/.cache/koelectra-ft`. Set `KOELECTRA_FT_CACHE=off` to disable it. It is kept under
//! `$KOELECTRA_FT_CACHE_MAX_MB` (default 4096) by removing the least recently used files.
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The cache's default size cap in MiB (KorNLI's training features for one tokenizer: about 300 MiB).
const DEFAULT_MAX_MIB: u64 = 4096;

/// Bump when the feature code changes what it produces.
pub const FEATURE_VERSION: u32 = 1;

/// Builds a cache key from named parts.
#[derive(Debug, Clone)]
pub struct Key {
    hasher: Sha256,
}

impl Key {
    /// Starts a key for `kind` (e.g. `"seq-cls"`) at the current feature version.
    pub fn new(kind: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(format!("koelectra-ft features v{FEATURE_VERSION} {kind}\0"));
        Self { hasher }
    }

    /// Adds a value (settings such as max length, do_lower_case).
    pub fn value(mut self, name: &str, value: impl std::fmt::Display) -> Self {
        self.hasher.update(format!("{name}={value}\0"));
        self
    }

    /// Adds the contents of a data file, as read once for the examples (a pipe cannot be read twice).
    pub fn file_contents(mut self, bytes: &[u8]) -> Self {
        self.hasher.update(format!("file {}\0", bytes.len()));
        self.hasher.update(bytes);
        self
    }

    /// Adds already-loaded bytes (e.g. a serialised tokenizer).
    pub fn bytes(mut self, name: &str, bytes: &[u8]) -> Self {
        self.hasher.update(format!("{name} {}\0", bytes.len()));
        self.hasher.update(bytes);
        self
    }

    fn hex(self) -> String {
        self.hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The cache folder, or `None` when disabled.
pub fn cache_dir() -> Option<PathBuf> {
    match std::env::var_os("KOELECTRA_FT_CACHE") {
        Some(v) if v == "off" || v == "0" => None,
        Some(v) => Some(PathBuf::from(v)),
        None => {
            let base = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
            Some(base.join("koelectra-ft"))
        }
    }
}

/// Rows of integer columns: each row is a fixed number of `Vec<i64>` fields (ids, type ids, ...).
pub type Rows = Vec<Vec<Vec<i64>>>;

/// Loads the rows stored under `key`, or computes them with `build` and stores them.
/// A cache that cannot be read or written is logged and bypassed, never fatal.
pub fn load_or_build(key: Key, label: &str, build: impl FnOnce() -> Result<Rows>) -> Result<(Rows, bool)> {
    let Some(dir) = cache_dir() else {
        return Ok((build()?, false));
    };
    let path = dir.join(format!("{}.bin", key.hex()));
    if let Ok(bytes) = std::fs::read(&path) {
        match decode(&bytes) {
            Ok(rows) => {
                log::debug!("{label}: features from cache {}", path.display());
                mark_used(&path);
                return Ok((rows, true));
            }
            Err(err) => log::warn!("{label}: ignoring unreadable cache {}: {err:#}", path.display()),
        }
    }
    let rows = build()?;
    let stored = std::fs::create_dir_all(&dir)
        .map_err(anyhow::Error::from)
        .and_then(|_| super::atomic::write_file(&path, &encode(&rows)));
    if let Err(err) = stored {
        log::warn!("{label}: cannot write feature cache {}: {err:#}", path.display());
    }
    evict(&dir, max_bytes(), &path);
    Ok((rows, false))
}

/// `$KOELECTRA_FT_CACHE_MAX_MB` in bytes (a value that is not a number is warned about, once, and
/// ignored).
fn max_bytes() -> u64 {
    static MAX: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *MAX.get_or_init(read_max_bytes)
}

fn read_max_bytes() -> u64 {
    let mib = match std::env::var("KOELECTRA_FT_CACHE_MAX_MB") {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            log::warn!("KOELECTRA_FT_CACHE_MAX_MB={v:?} is not a whole number of MiB; using {DEFAULT_MAX_MIB}");
            DEFAULT_MAX_MIB
        }),
        Err(_) => DEFAULT_MAX_MIB,
    };
    mib.saturating_mul(1 << 20)
}

/// Sets a cache file's modification time to now: eviction goes by it, oldest first.
fn mark_used(path: &Path) {
    if let Ok(file) = std::fs::File::options().write(true).open(path) {
        let _ = file.set_modified(SystemTime::now());
    }
}

/// Removes the least recently used cache files (`<sha256 hex>.bin` only: the folder may be one the
/// user shares with other files) until `dir` holds at most `max` bytes of them; `keep`, the file just
/// written, stays. Failures are logged: the cache is an optimisation, never a reason to stop.
fn evict(dir: &Path, max: u64, keep: &Path) {
    remove_stale_temporaries(dir);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(SystemTime, u64, PathBuf)> = entries
        .filter_map(|e| {
            let entry = e.ok()?;
            if !is_cache_name(entry.file_name().to_str()?) {
                return None;
            }
            let meta = entry.metadata().ok().filter(|m| m.is_file())?;
            Some((meta.modified().ok()?, meta.len(), entry.path()))
        })
        .collect();
    let mut total: u64 = files.iter().map(|(_, len, _)| len).sum();
    if total <= max {
        return;
    }
    files.sort();
    let (mut removed, mut freed) = (0, 0);
    for (_, len, path) in files {
        if total <= max {
            break;
        }
        if path == keep {
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => {
                total -= len;
                removed += 1;
                freed += len;
            }
            Err(err) => log::warn!("cannot remove cache file {}: {err}", path.display()),
        }
    }
    let mib = |bytes: u64| bytes as f64 / f64::from(1 << 20);
    log::info!(
        "feature cache {} over {:.0} MiB: removed the {removed} least recently used file(s), {:.1} MiB",
        dir.display(),
        mib(max),
        mib(freed)
    );
}

/// A cache file name: `<sha256 hex>.bin`.
fn is_cache_name(name: &str) -> bool {
    name.strip_suffix(".bin")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// How old an unfinished cache write (`.<hex>.bin.tmp-<pid>`) must be to count as abandoned: a
/// write takes seconds, and another run (maybe on another machine) may be writing one right now.
const STALE_TEMPORARY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes the temporaries of cache writes that a killed run left behind (eviction does not count
/// them, so they would stay forever).
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !super::atomic::temporary_target(&name).is_some_and(is_cache_name) {
            continue;
        }
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok());
        if age.is_some_and(|age| age > STALE_TEMPORARY) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => log::info!("removed an abandoned feature cache write {}", entry.path().display()),
                Err(err) => log::warn!("cannot remove {}: {err}", entry.path().display()),
            }
        }
    }
}

const MAGIC: &[u8; 8] = b"KEFTFC01";

/// `MAGIC, rows: u64, then per row: fields: u32, per field: len: u32, values: i32 LE`.
fn encode(rows: &Rows) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend((rows.len() as u64).to_le_bytes());
    for row in rows {
        out.extend((row.len() as u32).to_le_bytes());
        for field in row {
            out.extend((field.len() as u32).to_le_bytes());
            for &v in field {
                out.extend((v as i32).to_le_bytes());
            }
        }
    }
    out
}

fn decode(bytes: &[u8]) -> Result<Rows> {
    let mut at = 0usize;
    let mut take = |n: usize| -> Result<&[u8]> {
        let slice = bytes.get(at..at + n).context("truncated cache file")?;
        at += n;
        Ok(slice)
    };
    if take(8)? != MAGIC {
        bail!("not a feature cache file");
    }
    let u32_at = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let n = u64::from_le_bytes(take(8)?.try_into()?) as usize;
    let mut rows = Vec::with_capacity(n.min(1 << 24));
    for _ in 0..n {
        let fields = u32_at(take(4)?);
        let mut row = Vec::with_capacity(fields.min(16));
        for _ in 0..fields {
            let len = u32_at(take(4)?);
            let raw = take(len * 4)?;
            row.push(
                raw.chunks_exact(4)
                    .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64)
                    .collect(),
            );
        }
        rows.push(row);
    }
    if at != bytes.len() {
        bail!("trailing bytes in cache file");
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let rows: Rows = vec![vec![vec![2, 5, 3], vec![0, 0, 0]], vec![vec![], vec![-100, 7]]];
        assert_eq!(decode(&encode(&rows)).unwrap(), rows);
        let bytes = encode(&rows);
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode(b"garbage").is_err());
    }

    #[test]
    fn eviction_removes_the_least_recently_used_cache_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let name = |c: char| format!("{}.bin", c.to_string().repeat(64));
        let write = |file: &str, len: usize, age_s: u64| {
            let path = dir.path().join(file);
            std::fs::write(&path, vec![0u8; len]).unwrap();
            let when = SystemTime::now() - std::time::Duration::from_secs(age_s);
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(when)
                .unwrap();
            path
        };
        let oldest = write(&name('a'), 100, 300);
        let used = write(&name('b'), 100, 200);
        let newer = write(&name('c'), 100, 100);
        let just_written = write(&name('d'), 100, 400);
        let user_file = write("notes.bin", 1000, 900);
        mark_used(&used);
        // 400 bytes of cache files and a cap of 250: the two least recently used go (`b` was just
        // used, the new file is older than all but is kept).
        evict(dir.path(), 250, &just_written);
        let left: Vec<bool> = [&oldest, &used, &newer, &just_written, &user_file]
            .iter()
            .map(|p| p.exists())
            .collect();
        assert_eq!(left, [false, true, false, true, true]);
        evict(dir.path(), 0, &just_written);
        assert!(!used.exists() && just_written.exists() && user_file.exists());

        // A write that a killed run abandoned goes once it is an hour old; one that may be in
        // progress, and a user's hidden file, stay.
        let abandoned = write(&format!(".{}.tmp-4242", name('e')), 100, 7200);
        let in_progress = write(&format!(".{}.tmp-4243", name('f')), 100, 10);
        let hidden = write(&format!(".{}.tmp-draft", name('g')), 100, 7200);
        evict(dir.path(), u64::MAX, &just_written);
        assert_eq!(
            [&abandoned, &in_progress, &hidden].map(|p| p.exists()),
            [false, true, true]
        );
    }

    #[test]
    fn keys_change_with_every_part() {
        let a = Key::new("seq-cls").value("max_len", 128).hex();
        assert_eq!(a, Key::new("seq-cls").value("max_len", 128).hex());
        assert_ne!(a, Key::new("seq-cls").value("max_len", 64).hex());
        assert_ne!(a, Key::new("ner").value("max_len", 128).hex());
        assert_ne!(
            Key::new("x").bytes("f", b"ab").hex(),
            Key::new("x").bytes("f", b"ac").hex()
        );
    }
}
