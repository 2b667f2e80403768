//! Downloads against servers on 127.0.0.1: models from the hub, benchmark files with `data fetch`.
#[path = "../common/mod.rs"]
mod common;

mod data;
mod hub;
