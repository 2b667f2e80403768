//! Standard output for results and listings. A reader that goes away (`koelectra-ft configs | head`)
//! ends the output quietly instead of a panic, and a training run whose output pipe closed goes on
//! writing its files; any other write error is logged once.
use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static WARNED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to stdout and flushes it.
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() != ErrorKind::BrokenPipe && !WARNED.swap(true, Ordering::Relaxed) {
            log::warn!("cannot write to stdout: {e}");
        }
    }
}

/// [`print`] with a line break.
pub fn print_line(line: &str) {
    print(&format!("{line}\n"));
}
