//! Standard output for results and listings. A reader that goes away (`koelectra-ft configs | head`)
//! ends the output quietly instead of a panic. Any other write error (a full disk behind
//! `> table.md`) fails a listing, so a script sees it; a training run, whose results are in its
//! files, logs it once and goes on.
use anyhow::{Context, Result};
use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static WARNED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to stdout and flushes it; a closed pipe is not an error (the reader has what it
/// wanted).
pub fn print(text: &str) -> Result<()> {
    write(text).map(|_open| ())
}

/// [`print`], saying whether the reader is still there: `Ok(false)` once the pipe is closed, so a
/// streaming command (`predict ... | head`) can stop reading its input.
pub fn write(text: &str) -> Result<bool> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e).context("cannot write to stdout"),
    }
}

/// [`print`] with a line break.
pub fn print_line(line: &str) -> Result<()> {
    print(&format!("{line}\n"))
}

/// [`print_line`] for a training run's result lines: a write error is logged once, not fatal.
pub fn print_line_or_warn(line: &str) {
    if let Err(e) = print_line(line) {
        if !WARNED.swap(true, Ordering::Relaxed) {
            log::warn!("{e:#}");
        }
    }
}
