//! Files and the outside world: crash-safe writes, the feature cache, the Hugging Face hub, result
//! files, the event log, curves and progress bars.
pub mod atomic;
pub mod cache;
pub mod curves;
pub mod download;
pub mod hub;
pub mod lock;
pub mod metrics_log;
pub mod progress;
pub mod results;
pub mod stdout;
pub mod tensorboard;
