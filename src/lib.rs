//! koelectra-ft: fine-tune KoELECTRA models on the Korean benchmarks.
//!
//! Data flows one way: config -> tokenizer/model -> task features -> train loop -> metrics -> files.
//!
//! * [`config`]: the run config (reference keys, defaults, `--set`, validation); [`error`]: exit codes;
//!   [`limits`]: size caps for the files of a model folder.
//! * [`text`]: tokenizers and Python's string rules; [`model`]: encoder families, heads, checkpoints.
//! * [`tasks`]: one module per task kind — spec table, reader, features, evaluation, metrics.
//! * [`device`]: host↔device transfers (counted), mixed precision, the libtorch shim and fault boundaries.
//! * [`train`]: the task-independent loop and driver; [`infer`]: batching for evaluation and `predict`.
//! * [`io`]: files and the outside world; [`cli`]: the subcommands, each wiring its input to the rest.
pub mod cli;
pub mod config;
pub mod device;
pub mod error;
pub mod infer;
pub mod io;
pub mod limits;
pub mod model;
pub mod tasks;
pub mod text;
pub mod train;
