//! Models from the Hugging Face hub: `org/name[@revision]` resolved through the standard HF cache,
//! downloaded with `hf-hub` when missing.
use anyhow::Result;
use std::path::PathBuf;

/// A local directory as given, else the hub model's snapshot folder (downloading what is missing).
pub fn resolve_model(name_or_path: &str) -> Result<PathBuf> {
    crate::checkpoint::resolve_model_dir(name_or_path)
}
