//! Ctrl-C and SIGTERM: the first one asks the training loop to stop after the current update and
//! save a resumable checkpoint; a second one exits at once with code 130.
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Exit code of an interrupted run (128 + SIGINT, as shells report it).
pub const EXIT_CODE: i32 = 130;

static REQUESTED: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();

/// Installs the handlers for SIGINT and SIGTERM (once; later calls do nothing).
pub fn install() -> std::io::Result<()> {
    if REQUESTED.get().is_some() {
        return Ok(());
    }
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registered first, so it sees the flag before this signal sets it: the second signal exits.
        signal_hook::flag::register_conditional_shutdown(signal, EXIT_CODE, Arc::clone(&flag))?;
        signal_hook::flag::register(signal, Arc::clone(&flag))?;
    }
    let _ = REQUESTED.set(flag);
    Ok(())
}

/// Whether a first SIGINT/SIGTERM has arrived.
pub fn requested() -> bool {
    REQUESTED.get().is_some_and(|flag| flag.load(Ordering::SeqCst))
}

/// The error a run stops with after an interrupt; `main` turns it into exit code 130.
#[derive(Debug)]
pub struct Interrupted {
    pub step: i64,
    /// The checkpoint written at `step`; none when the interrupt came in the final evaluation.
    pub checkpoint: Option<PathBuf>,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.checkpoint {
            Some(dir) => write!(
                f,
                "interrupted after step {}; saved {} (resume with the same command plus --resume)",
                self.step,
                dir.display()
            ),
            None => write!(
                f,
                "interrupted during the evaluation of checkpoint-{}; the checkpoints on disk are complete",
                self.step
            ),
        }
    }
}

impl std::error::Error for Interrupted {}
