//! Progress bars on a terminal; nothing (the log lines say it) when stderr is not a terminal or
//! with `--quiet`. Every bar lives in one process-wide [`MultiProgress`], and the logger prints
//! through [`suspend`], so log lines land above the bars instead of through them.
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::LazyLock;

static QUIET: AtomicBool = AtomicBool::new(false);

/// The one set of live bars, drawn on stderr.
static BARS: LazyLock<MultiProgress> = LazyLock::new(MultiProgress::new);

/// `--quiet`: no bars, only the one-line log events.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether bars are drawn (stderr is a terminal and not `--quiet`).
pub fn bars_enabled() -> bool {
    !QUIET.load(Ordering::Relaxed) && std::io::stderr().is_terminal()
}

/// A bar of `len` steps titled `title`, hidden when bars are off.
pub fn bar(len: u64, title: &str) -> ProgressBar {
    if !bars_enabled() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {elapsed}<{eta} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    add(ProgressBar::new(len).with_style(style).with_prefix(title.to_string()))
}

/// Puts a bar made elsewhere (a download bar) with the others, so log lines print above it too.
/// A hidden bar stays as it is.
pub fn add(bar: ProgressBar) -> ProgressBar {
    match bar.is_hidden() || !bars_enabled() {
        true => bar,
        false => BARS.add(bar),
    }
}

/// Runs `f` with the bars wiped from the terminal and draws them again below whatever `f` wrote
/// to stderr; plainly when bars are off. `f` must not log or touch a bar (the bars' lock is held).
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    match bars_enabled() {
        true => BARS.suspend(f),
        false => f(),
    }
}
