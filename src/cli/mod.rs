//! The subcommands: the training runs ([`run`]), `predict`, `report` and `data`.
pub mod data;
pub mod predict;
pub mod report;
pub mod run;
