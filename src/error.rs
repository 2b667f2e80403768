//! Errors that decide the exit code: a usage or config error exits with 2 (interrupts, 130, are
//! [`crate::train::interrupt::Interrupted`]; everything else exits with 1).
use std::fmt;

/// A config or command-line usage error (the CLI exits with code 2 when one is in the chain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// A usage or config error: `main` exits with code 2 for it.
pub fn usage_error(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(ConfigError(msg.into()))
}
