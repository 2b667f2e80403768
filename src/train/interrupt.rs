//! Ctrl-C, SIGTERM and SIGHUP: the first one asks the training loop to stop after the current update
//! and save a resumable checkpoint, then the run exits 130 (SIGINT), 143 (SIGTERM) or 129 (SIGHUP: the
//! terminal or ssh session closed); a second one exits at once with its code. Before the run is
//! [`arm`]ed (while it downloads, reads and encodes), there is nothing to save and the first one
//! exits at once: waiting for a training step would keep the user waiting, and the run would go on
//! to clear an earlier run that `overwrite_output_dir` replaces.
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Exit code of a run interrupted by SIGINT (128 + 2, as shells report it).
pub const EXIT_CODE: i32 = 130;
/// Exit code of a run stopped by SIGTERM (128 + 15).
pub const SIGTERM_EXIT_CODE: i32 = 143;
/// Exit code of a run stopped by SIGHUP (128 + 1).
pub const SIGHUP_EXIT_CODE: i32 = 129;

/// The flag any first signal sets, and one flag per signal with its exit code.
struct Requested {
    any: Arc<AtomicBool>,
    by_signal: Vec<(i32, Arc<AtomicBool>)>,
}

static REQUESTED: std::sync::OnceLock<Requested> = std::sync::OnceLock::new();

/// Set by [`arm`] once the run has opened its output folder.
static ARMED: AtomicBool = AtomicBool::new(false);

/// What the first signal before [`arm`] prints on its way out.
const EXIT_NOTE: &[u8] = b"\nerror: interrupted while preparing the run; no training had started\n";

/// From now on the first signal stops the run at the next step boundary, with a checkpoint.
pub fn arm() {
    ARMED.store(true, Ordering::SeqCst);
}

/// Installs the handlers (once; later calls do nothing). SIGHUP is left alone when it is ignored
/// (`nohup`): the run then goes on after the terminal closes, as its user asked.
pub fn install() -> std::io::Result<()> {
    if REQUESTED.get().is_some() {
        return Ok(());
    }
    let mut signals = vec![
        (signal_hook::consts::SIGINT, EXIT_CODE),
        (signal_hook::consts::SIGTERM, SIGTERM_EXIT_CODE),
    ];
    if !is_ignored(signal_hook::consts::SIGHUP) {
        signals.push((signal_hook::consts::SIGHUP, SIGHUP_EXIT_CODE));
    }
    let any = Arc::new(AtomicBool::new(false));
    let mut by_signal = Vec::new();
    for (signal, code) in signals {
        // SAFETY: the action only loads an atomic, calls write(2) and _exit(2): async-signal-safe.
        unsafe { signal_hook::low_level::register(signal, move || exit_unless_armed(code))? };
        // Registered before the flag, so it sees the flag unset: the second signal exits.
        signal_hook::flag::register_conditional_shutdown(signal, code, Arc::clone(&any))?;
        signal_hook::flag::register(signal, Arc::clone(&any))?;
        let this = Arc::new(AtomicBool::new(false));
        signal_hook::flag::register(signal, Arc::clone(&this))?;
        by_signal.push((code, this));
    }
    let _ = REQUESTED.set(Requested { any, by_signal });
    Ok(())
}

/// In a signal handler: ends the process with `code` when the run is not armed yet.
fn exit_unless_armed(code: i32) {
    if !ARMED.load(Ordering::SeqCst) {
        // SAFETY: write(2) of a static buffer to stderr; async-signal-safe.
        unsafe { libc::write(2, EXIT_NOTE.as_ptr().cast(), EXIT_NOTE.len()) };
        signal_hook::low_level::exit(code);
    }
}

/// Whether `signal`'s disposition is `SIG_IGN` (inherited from the parent, as `nohup` sets it).
fn is_ignored(signal: i32) -> bool {
    // SAFETY: sigaction(2) with a null new action only reads the current one into `old`.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}

/// Whether a first SIGINT, SIGTERM or SIGHUP has arrived.
pub fn requested() -> bool {
    REQUESTED.get().is_some_and(|r| r.any.load(Ordering::SeqCst))
}

/// The exit code of an interrupted run: 143 after a SIGTERM (a scheduler's stop), 129 after a
/// SIGHUP, else 130.
pub fn exit_code() -> i32 {
    let Some(requested) = REQUESTED.get() else {
        return EXIT_CODE;
    };
    let came = |code: i32| {
        requested
            .by_signal
            .iter()
            .any(|(c, flag)| *c == code && flag.load(Ordering::SeqCst))
    };
    [SIGTERM_EXIT_CODE, SIGHUP_EXIT_CODE]
        .into_iter()
        .find(|&code| came(code))
        .unwrap_or(EXIT_CODE)
}

/// The error a run stops with after an interrupt; `main` turns it into exit code 130 (143 after
/// SIGTERM, 129 after SIGHUP).
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
