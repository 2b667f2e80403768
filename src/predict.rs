//! `koelectra-ft predict`: predictions for new text from a checkpoint this tool saved.
use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;

/// Flags of `koelectra-ft predict`.
#[derive(Args, Debug)]
pub struct PredictArgs {
    /// Checkpoint folder saved by koelectra-ft (config.json, weights, tokenizer files).
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    /// Input file, or - for standard input.
    #[arg(long, value_name = "FILE", default_value = "-")]
    pub input: String,
    /// Device: cpu, cuda (= cuda:0) or cuda:N [default: CUDA when available, else cpu].
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<String>,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(args: &PredictArgs) -> Result<()> {
    bail!("predict: not implemented yet ({})", args.model.display())
}
