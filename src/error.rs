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

/// The first non-empty line of a message, trimmed (libtorch appends a C++ backtrace to its
/// messages; `RUST_LOG=debug` shows it). A tch panic quotes libtorch's error in Debug form,
/// `called `Result::unwrap()` on an `Err` value: Torch("msg\nException raised ...")`, with the
/// backtrace's newlines escaped: then the quoted message up to its first escaped newline.
pub fn first_line(message: &str) -> &str {
    let line = message.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    match line.split_once("Torch(\"") {
        Some((_, quoted)) => {
            let end = quoted
                .find("\\n")
                .or_else(|| quoted.rfind("\")"))
                .unwrap_or(quoted.len());
            quoted[..end].trim()
        }
        None => line,
    }
}

/// `message` with its control characters escaped (`\r` → `\\r`): errors of third-party parsers
/// quote the hostile input, and a carriage return there would split or overwrite the error line.
pub fn escape_controls(message: &str) -> String {
    message
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The candidate closest in spelling to `word`, for "did you mean" messages; `None` without
/// candidates.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let score = |c: &&str| strsim::normalized_damerau_levenshtein(word, c);
    candidates.into_iter().max_by(|a, b| score(a).total_cmp(&score(b)))
}

/// A JSON value as compact JSON for messages, cut to 60 chars.
pub fn short_json(v: &serde_json::Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// Runs `work`, turning a panic inside it (tch panics on libtorch exceptions and failed
/// allocations; tokenizers on some malformed files) into `Err` with the panic's message. Nothing is
/// printed for it: the panic hook stays quiet on this thread meanwhile.
pub fn catch_panic<T>(work: impl FnOnce() -> T) -> std::result::Result<T, String> {
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    QUIET_HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                default(info);
            }
        }));
    });
    let was_quiet = QUIET.with(|quiet| quiet.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
    QUIET.with(|quiet| quiet.set(was_quiet));
    result.map_err(|payload| {
        if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else {
            "unknown panic".to_string()
        }
    })
}

thread_local! {
    /// Whether the panic hook prints nothing on this thread (inside [`catch_panic`]).
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_drops_libtorch_backtraces() {
        let message =
            "\n  index out of range in self\nException raised from operator() at aten/...\nframe #0: c10::Error";
        assert_eq!(first_line(message), "index out of range in self");
        assert_eq!(first_line(""), "");
        let panic = r#"called `Result::unwrap()` on an `Err` value: Torch("index out of range in self\nException raised from operator() at aten/...\nframe #0: c10")"#;
        assert_eq!(first_line(panic), "index out of range in self");
        assert_eq!(
            first_line(r#"x: Torch("CUDA error: out of memory")"#),
            "CUDA error: out of memory"
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            escape_controls("unknown variant `\rBF16`\n"),
            "unknown variant `\\rBF16`\\n"
        );
        assert_eq!(escape_controls("가 ok"), "가 ok");
    }

    #[test]
    fn catch_panic_returns_the_message_and_keeps_going() {
        assert_eq!(catch_panic(|| 7), Ok(7));
        assert_eq!(catch_panic(|| panic!("boom {}", 1)), Err::<(), _>("boom 1".to_string()));
        let nested = catch_panic(|| catch_panic(|| panic!("inner")).unwrap_err());
        assert_eq!(nested, Ok("inner".to_string()));
    }
}
