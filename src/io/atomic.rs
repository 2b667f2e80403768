//! Crash-safe file and directory writes: write under a temporary name, fsync, rename into place.
use anyhow::{Context, Result};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` so that `path` is either the old file or the complete new one.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_sibling(path);
    let result = (|| -> Result<()> {
        let mut file = fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        file.write_all(bytes)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        file.sync_all()
            .with_context(|| format!("cannot sync {}", tmp.display()))?;
        fs::rename(&tmp, path).with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Fills a fresh temporary directory with `fill`, then renames it to `dir`, replacing an old one.
/// A crash leaves either the old directory or a `.tmp-*` sibling, never a half-written `dir`.
pub fn write_dir(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp = temp_sibling(dir);
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).with_context(|| format!("cannot create directory {}", tmp.display()))?;
    if let Err(err) = fill(&tmp) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(err);
    }
    sync_tree(&tmp).with_context(|| format!("cannot sync {}", tmp.display()))?;
    if dir.exists() {
        let old = hidden_sibling(dir, "old");
        fs::rename(dir, &old).with_context(|| format!("cannot move aside {}", dir.display()))?;
        fs::rename(&tmp, dir).with_context(|| format!("cannot rename {} to {}", tmp.display(), dir.display()))?;
        let _ = fs::remove_dir_all(&old);
    } else {
        fs::rename(&tmp, dir).with_context(|| format!("cannot rename {} to {}", tmp.display(), dir.display()))?;
    }
    if let Some(parent) = dir.parent() {
        sync_dir(parent);
    }
    Ok(())
}

/// Removes the directory `dir` crash-safely: it is first renamed to a hidden `.tmp-*` sibling (which
/// [`recover`] clears), so a kill during the removal never leaves a half-deleted `dir` behind.
pub fn remove_dir(dir: &Path) -> Result<()> {
    let doomed = temp_sibling(dir);
    fs::rename(dir, &doomed).with_context(|| format!("cannot move aside {} to delete it", dir.display()))?;
    if let Some(parent) = dir.parent() {
        sync_dir(parent);
    }
    fs::remove_dir_all(&doomed).with_context(|| format!("cannot delete {}", doomed.display()))
}

fn temp_sibling(path: &Path) -> PathBuf {
    hidden_sibling(path, "tmp")
}

/// The `<name>` of a [`hidden_sibling`] file name `.<name>.<tag>-<pid>`; `None` for any other name
/// (a user's `.notes.old-draft` is not ours).
fn sibling_target<'a>(file_name: &'a str, tag: &str) -> Option<&'a str> {
    let (name, rest) = file_name.strip_prefix('.')?.rsplit_once('.')?;
    let pid = rest.strip_prefix(tag)?.strip_prefix('-')?;
    (!pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())).then_some(name)
}

/// The file a temporary of [`write_file`] or [`write_dir`] was to become, `None` for other names.
pub fn temporary_target(file_name: &str) -> Option<&str> {
    sibling_target(file_name, "tmp")
}

/// `<parent>/.<name>.<tag>-<pid>`: hidden, so it never matches `checkpoint-*`.
fn hidden_sibling(path: &Path, tag: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{tag}-{}", std::process::id()))
}

/// Flushes every file under `dir` (libtorch and the tokenizer write theirs without fsync), then `dir`.
fn sync_tree(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            fs::File::open(&path)?.sync_all()?;
        }
    }
    sync_dir(dir);
    Ok(())
}

fn sync_dir(dir: &Path) {
    // Best effort: directory fsync makes the rename durable; not every filesystem supports it.
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// Cleans what a killed writer left in `parent`: a directory moved aside (`.<name>.old-<pid>`) whose
/// replacement never landed is put back; other temporaries (`.<name>.tmp-<pid>`, `.old-*`) go.
pub fn recover(parent: &Path) -> Result<()> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let old = sibling_target(&file_name, "old");
        let Some(name) = old.or_else(|| temporary_target(&file_name)) else {
            continue;
        };
        let path = entry.path();
        let target = parent.join(name);
        if old.is_some() && !target.exists() {
            log::warn!("restoring {} left aside by an interrupted save", target.display());
            fs::rename(&path, &target).with_context(|| format!("cannot restore {}", target.display()))?;
        } else {
            let removed = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            removed.with_context(|| format!("cannot remove the stale temporary {}", path.display()))?;
        }
    }
    Ok(())
}
