//! `koelectra-ft report`: the results of several runs as one table (markdown, CSV or JSON).
use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;

/// Flags of `koelectra-ft report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Run folders (each holding summary.json).
    #[arg(required = true, value_name = "RUN_DIR")]
    pub runs: Vec<PathBuf>,
}

pub fn run(args: &ReportArgs) -> Result<()> {
    bail!("report: not implemented yet ({} runs)", args.runs.len())
}
