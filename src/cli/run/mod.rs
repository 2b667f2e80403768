//! The training subcommands (`seq-cls`, `ner`, `squad`): a loaded run config to a finished run. Each
//! file is wiring only — which config keys feed which task function — between [`crate::tasks`] (the
//! task's data, model and metrics) and [`crate::train::driver`] (the loop and the result files).
pub mod ner;
pub mod seq_cls;
pub mod squad;
