//! One run per run folder: a run holds an exclusive `flock` on `<out>/.koelectra-ft.lock` while it
//! writes there, so a second run on the same folder (a sweep that forgot to vary `output_dir`, or
//! `--resume` of a run still going) is refused instead of clearing or mixing the first one's
//! checkpoints. The kernel drops the lock when the process ends, however it ends; the file stays.
use anyhow::{bail, Context, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::io::AsRawFd;
use std::path::Path;

/// The lock file's name in a run folder.
pub const LOCK_FILE: &str = ".koelectra-ft.lock";

/// Held for the life of a run; dropping it releases the lock.
pub struct RunLock {
    _file: File,
}

/// Creates `out` if needed and locks it for this process; refused while another process holds it.
pub fn lock_run_folder(out: &Path) -> Result<RunLock> {
    crate::io::create_dirs(out, "output directory")?;
    let path = out.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    // SAFETY: flock on a file descriptor this function owns; no memory is passed.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::WouldBlock {
            // Some network filesystems refuse flock: run unguarded rather than not at all.
            log::warn!(
                "cannot lock {} ({err}); make sure no other run uses this folder",
                path.display()
            );
            return Ok(RunLock { _file: file });
        }
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        bail!(
            "output directory {} is in use by another koelectra-ft run (pid {}); wait for it to end or \
             give this run another output_dir",
            out.display(),
            holder.trim()
        );
    }
    // The holder's pid, for the message above (best effort: the lock itself is what guards).
    let _ = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| write!(file, "{}", std::process::id()));
    Ok(RunLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        let first = lock_run_folder(&out).unwrap();
        // flock locks belong to the open file description, so a second open in one process conflicts too.
        let err = format!("{:#}", lock_run_folder(&out).err().unwrap());
        let pid = std::process::id();
        assert!(
            err.contains(&format!("is in use by another koelectra-ft run (pid {pid})")),
            "{err}"
        );
        drop(first);
        assert!(lock_run_folder(&out).is_ok());
    }
}
