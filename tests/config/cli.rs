//! The built binary: help, config listing, one-line config errors with exit code 2.

use crate::common::{binary, text};
use std::path::Path;
use std::process::Output;

fn run(args: &[&str]) -> Output {
    binary()
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run koelectra-ft")
}

#[test]
fn help_succeeds_and_explains_flags() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for word in ["seq-cls", "ner", "squad", "configs"] {
        assert!(help.contains(word), "{word} missing from:\n{help}");
    }
    let out = run(&["seq-cls", "--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for flag in ["--task", "--config", "--config-dir", "--set", "--device", "--quiet"] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn configs_lists_embedded_names() {
    let out = run(&["configs"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let on_disk = std::fs::read_dir("configs")
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .count();
    assert_eq!(stdout.lines().count(), on_disk);
    assert!(on_disk > 80, "80 reference configs plus the demo");
    assert!(stdout.lines().any(|l| l == "korquad/koelectra-base-v3.json"));
    // A name prints that config as the file has it, `.json` optional.
    for name in ["nsmc/koelectra-small-v3.json", "nsmc/koelectra-small-v3"] {
        let out = run(&["configs", name]);
        assert!(out.status.success(), "{out:?}");
        let file = std::fs::read_to_string("configs/nsmc/koelectra-small-v3.json").unwrap();
        assert_eq!(text(&out.stdout).trim_end(), file.trim_end());
    }
    let out = run(&["configs", "nsmc/koelectra-smal-v3"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).trim_end(),
        "error: no embedded config \"nsmc/koelectra-smal-v3\" (did you mean \"nsmc/koelectra-small-v3.json\"? \
         `koelectra-ft configs` lists them as <task>/<name>)"
    );
}

/// `koelectra-ft configs | head -1`, `data list | head`, `report ... | head`: a reader that is gone before the listing is
/// written ends it quietly (exit 0), not with a "failed printing to stdout" panic (exit 101).
/// The subcommands that print a listing (`data list` of the empty folder `data_dir`), and `--help`
/// and `--version`.
fn listings(data_dir: &Path) -> Vec<Vec<String>> {
    let run = crate::common::root().join("tests/fixtures/report/base-v3-nsmc");
    let data_dir = data_dir.display().to_string();
    [
        vec!["configs"],
        vec!["data", "list", "--data-dir", &data_dir],
        vec!["report", &run.display().to_string()],
        vec!["completions", "bash"],
        vec!["--help"],
        vec!["--version"],
    ]
    .iter()
    .map(|args| args.iter().map(|a| a.to_string()).collect())
    .collect()
}

#[test]
fn listings_into_a_closed_pipe_end_quietly() {
    let data = tempfile::tempdir().expect("tempdir");
    for args in listings(data.path()) {
        let mut child = binary()
            .args(&args)
            .env_remove("RUST_LOG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn koelectra-ft");
        // Close the read end at once: the binary is still starting (loading libtorch) and has written
        // nothing yet, so its first write meets a closed pipe.
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// A listing that cannot be written (`> table.md` on a full disk) fails with one line and exit 1, so
/// a script notices; it used to warn and exit 0 (completions: panic, exit 101).
#[test]
fn listings_into_a_full_disk_fail() {
    let data = tempfile::tempdir().expect("tempdir");
    for args in listings(data.path()) {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let out = binary()
            .args(&args)
            .env_remove("RUST_LOG")
            .stdout(full)
            .output()
            .expect("run koelectra-ft");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(
            stderr, "error: cannot write to stdout: No space left on device (os error 28)\n",
            "{args:?}"
        );
    }
}

#[test]
fn malformed_config_is_one_line_error_with_exit_code_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("broken-config.json");
    let body = r#"{"task": "nsmc", "model_type": "koelectra-small", "learnig_rate": 1}"#;
    std::fs::write(&path, body).expect("write");
    let out = run(&["seq-cls", "--task", "nsmc", "--config", &path.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("broken-config.json"), "{stderr}");
    assert!(stderr.contains("did you mean \"learning_rate\""), "{stderr}");
}

/// Runs `args` with `input` on standard input.
fn run_with_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = binary()
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn koelectra-ft");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

/// `--config -` reads the config from standard input (`configs NAME | jq ... | seq-cls --config -`);
/// its errors name `<stdin>`.
#[test]
fn config_from_standard_input() {
    let seq_cls = ["seq-cls", "--task", "nsmc", "--config", "-"];
    let embedded = std::fs::read("configs/nsmc/koelectra-small-v3.json").expect("config");
    // It loads: the run gets as far as its data, which is missing.
    let args = [&seq_cls[..], &["--set", "data_dir=no-such-data"]].concat();
    let out = run_with_stdin(&args, &embedded);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: no-such-data/nsmc/ratings_train.txt: missing"),
        "{err}"
    );
    let out = run_with_stdin(&seq_cls, br#"{"task": "nsmc", "model_type": 3}"#);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).trim_end(),
        "error: <stdin>: config key \"model_type\" must be a string, got 3"
    );
    let out = run_with_stdin(&seq_cls, b"\xff{}");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).trim_end(),
        "error: <stdin>: not UTF-8 text (invalid byte at offset 0)"
    );
}

#[test]
fn wrong_subcommand_and_unsupported_model_are_config_errors() {
    let out = run(&["ner", "--task", "nsmc", "--config", "koelectra-small"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("koelectra-ft seq-cls"));
    let out = run(&["seq-cls", "--task", "nsmc", "--config", "hanbert.json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("\"hanbert\"") && err.contains("libmoran4dnlp.so") && err.contains("moran.db"),
        "{err}"
    );
}

#[test]
fn bad_device_is_a_usage_error() {
    let args = [
        "squad",
        "--task",
        "korquad",
        "--config",
        "koelectra-small-v3",
        "--device",
        "tpu",
    ];
    let out = run(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("expected cpu, cuda or cuda:N"));
}

#[test]
fn version_names_libtorch_and_cuda() {
    let out = run(&["--version"]);
    assert!(out.status.success());
    let version = text(&out.stdout);
    assert!(version.starts_with("koelectra-ft 0."), "{version}");
    assert!(version.contains("libtorch 2."), "{version}");
    assert!(version.contains("CUDA"), "{version}");
}

#[test]
fn completions_cover_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = text(&out.stdout);
        for word in ["seq-cls", "squad", "predict", "report", "data", "resume"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    let out = run(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_documents_exit_codes() {
    let help = text(&run(&["--help"]).stdout);
    for code in [
        "0 success",
        "1 any other error",
        "2 usage",
        "130 interrupted",
        "143",
        "129",
    ] {
        assert!(help.contains(code), "{code} missing from:\n{help}");
    }
}
