//! Downloads against servers on 127.0.0.1: models from the hub, benchmark files with `data fetch`.
#![allow(clippy::disallowed_methods)] // tests read tensors directly (clippy.toml)
#[path = "../common/mod.rs"]
mod common;

mod data;
mod hub;
