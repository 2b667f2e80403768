//! Training, independent of the task: the loop ([`trainer`]), its optimizer, schedule and batch
//! order, checkpoints and interrupts, and the driver that runs a whole run around a task
//! ([`driver`]). A task plugs in through [`crate::infer::TaskModel`].
pub mod batches;
pub mod checkpoints;
pub mod clear;
pub mod driver;
pub mod interrupt;
pub mod optim;
pub mod retention;
pub mod schedule;
pub mod setup;
pub mod summary;
pub mod trainer;
