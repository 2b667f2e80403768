//! koelectra-ft: fine-tune KoELECTRA models on the Korean benchmarks.
//!
//! Data flows one way: config -> tokenizer/model -> task features -> train loop -> metrics -> files.
pub mod atomic;
pub mod cache;
pub mod checkpoint;
pub mod config;
pub mod curves;
pub mod data;
pub mod features;
pub mod hub;
pub mod interrupt;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod output;
pub mod predict;
pub mod progress;
pub mod report;
pub mod run;
pub mod seqeval;
pub mod squad_eval;
pub mod tasks;
pub mod tokenizer;
pub mod train;
