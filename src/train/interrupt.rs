//! Ctrl-C and SIGTERM: the first one asks the training loop to stop after the current update and
//! save a resumable checkpoint, then the run exits 130 (SIGINT) or 143 (SIGTERM); a second one exits
//! at once with its code.
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Exit code of a run interrupted by SIGINT (128 + 2, as shells report it).
pub const EXIT_CODE: i32 = 130;
/// Exit code of a run stopped by SIGTERM (128 + 15).
pub const SIGTERM_EXIT_CODE: i32 = 143;

/// Set by the first SIGINT or SIGTERM, and by SIGTERM alone.
static REQUESTED: std::sync::OnceLock<(Arc<AtomicBool>, Arc<AtomicBool>)> = std::sync::OnceLock::new();

/// Installs the handlers for SIGINT and SIGTERM (once; later calls do nothing).
pub fn install() -> std::io::Result<()> {
    if REQUESTED.get().is_some() {
        return Ok(());
    }
    let (any, term) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let signals = [
        (signal_hook::consts::SIGINT, EXIT_CODE),
        (signal_hook::consts::SIGTERM, SIGTERM_EXIT_CODE),
    ];
    for (signal, code) in signals {
        // Registered first, so it sees the flag before this signal sets it: the second signal exits.
        signal_hook::flag::register_conditional_shutdown(signal, code, Arc::clone(&any))?;
        signal_hook::flag::register(signal, Arc::clone(&any))?;
    }
    signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&term))?;
    let _ = REQUESTED.set((any, term));
    Ok(())
}

/// Whether a first SIGINT/SIGTERM has arrived.
pub fn requested() -> bool {
    REQUESTED.get().is_some_and(|(any, _)| any.load(Ordering::SeqCst))
}

/// The exit code of an interrupted run: 143 when a SIGTERM came (a scheduler's stop), else 130.
pub fn exit_code() -> i32 {
    match REQUESTED.get() {
        Some((_, term)) if term.load(Ordering::SeqCst) => SIGTERM_EXIT_CODE,
        _ => EXIT_CODE,
    }
}

/// The error a run stops with after an interrupt; `main` turns it into exit code 130 (143 after
/// SIGTERM).
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
