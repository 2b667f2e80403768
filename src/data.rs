//! `koelectra-ft data fetch|list`: the benchmark files, downloaded and verified against recorded hashes.
use anyhow::{bail, Result};
use clap::{Args, Subcommand};

/// Flags of `koelectra-ft data`.
#[derive(Args, Debug)]
pub struct DataArgs {
    #[command(subcommand)]
    pub command: DataCommand,
}

/// The `data` subcommands.
#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Download a task's files into <data-dir>/<task>/ and verify them.
    Fetch,
    /// Show which tasks' files are present, missing or corrupt.
    List,
}

pub fn run(args: &DataArgs) -> Result<()> {
    bail!("data: not implemented yet ({:?})", args.command)
}

/// Errors, naming the `data fetch` command to run, when a file the config needs is missing.
pub fn check_task_files(cfg: &crate::config::Config) -> Result<()> {
    let _ = cfg;
    Ok(())
}
