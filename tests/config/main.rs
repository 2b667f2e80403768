//! The run config and the command line: every reference config loads, `--set`, validation errors,
//! devices; help, exit codes, completions.
#[path = "../common/mod.rs"]
mod common;

mod cli;
mod config;
