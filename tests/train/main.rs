//! The training loop against PyTorch (optimizer, schedule, batches, resume), and its reliability:
//! interrupts, NaN, full disks, recovery after a kill.
#[path = "../common/mod.rs"]
mod common;

mod reliability;
mod trainer;
