//! ELECTRA encoder and task heads.
pub mod electra;
pub mod heads;
