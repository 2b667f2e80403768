//! The training loop against PyTorch (optimizer, schedule, batches, resume), and its reliability:
//! interrupts, NaN, full disks, recovery after a kill.
#![allow(clippy::disallowed_methods)] // tests read tensors directly (clippy.toml)
#[path = "../common/mod.rs"]
mod common;

mod amp;
mod device_cli;
mod optim;
mod reliability;
mod retention;
mod trainer;
