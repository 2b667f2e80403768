//! Files and the outside world: crash-safe writes, the feature cache, the Hugging Face hub, result
//! files, the event log, curves and progress bars.
pub mod atomic;
pub mod cache;
pub mod curves;
pub mod download;
pub mod hub;
pub mod lock;
pub mod metrics_log;
pub mod progress;
pub mod results;
pub mod stdout;
pub mod tensorboard;

use anyhow::{Context, Result};
use std::path::Path;

/// `create_dir_all` whose error names the culprit when a file stands where a folder must be
/// (the OS says only "File exists" or "Not a directory").
pub fn create_dirs(dir: &Path, what: &str) -> Result<()> {
    let Err(err) = std::fs::create_dir_all(dir) else {
        return Ok(());
    };
    let file_in_the_way = dir.ancestors().find(|p| p.exists() && !p.is_dir());
    match file_in_the_way {
        Some(file) => anyhow::bail!(
            "cannot create {what} {}: {} is a file, not a folder",
            dir.display(),
            file.display()
        ),
        None => Err(err).with_context(|| format!("cannot create {what} {}", dir.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_in_the_way_of_a_folder_is_named() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let file = tmp.path().join("runs");
        std::fs::write(&file, "").expect("write");
        for dir in [file.clone(), file.join("a/b")] {
            let err = create_dirs(&dir, "output directory").expect_err("a file is in the way");
            let expected = format!(
                "cannot create output directory {}: {} is a file, not a folder",
                dir.display(),
                file.display()
            );
            assert_eq!(format!("{err:#}"), expected);
        }
        let ok = tmp.path().join("x/y");
        create_dirs(&ok, "output directory").expect("creates nested folders");
        assert!(ok.is_dir());
        create_dirs(&ok, "output directory").expect("an existing folder is fine");
    }
}
