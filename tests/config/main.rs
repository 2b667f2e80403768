//! The run config and the command line: every reference config loads, `--set`, validation errors,
//! devices; help, exit codes, completions.
#![allow(clippy::disallowed_methods)] // tests read tensors directly (clippy.toml)
#[path = "../common/mod.rs"]
mod common;

mod cli;
mod config;
mod trainer_keys;
mod xlmr_keys;
