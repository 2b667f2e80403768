//! Helpers shared by the integration tests: fixture paths, JSON → tensor, the project venv.
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use tch::{Kind, Tensor};

/// Repo root (tests run with the crate root as cwd, but be explicit).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/models").join(name)
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A nested JSON array of numbers as a tensor of `kind`.
pub fn tensor(value: &serde_json::Value, kind: Kind) -> Tensor {
    fn flatten(v: &serde_json::Value, shape: &mut Vec<i64>, depth: usize, out: &mut Vec<f64>) {
        match v {
            serde_json::Value::Array(items) => {
                if shape.len() == depth {
                    shape.push(items.len() as i64);
                }
                for item in items {
                    flatten(item, shape, depth + 1, out);
                }
            }
            other => out.push(other.as_f64().expect("number")),
        }
    }
    let (mut shape, mut data) = (vec![], vec![]);
    flatten(value, &mut shape, 0, &mut data);
    Tensor::from_slice(&data).view(shape.as_slice()).to_kind(kind)
}

pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size(), "shape mismatch");
    (a.to_kind(Kind::Double) - b.to_kind(Kind::Double))
        .abs()
        .max()
        .double_value(&[])
}

/// The project venv's python; the tests that compare with `transformers` at run time need it.
pub fn venv_python() -> PathBuf {
    let python = root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup.sh --dev (the tests compare against transformers)",
        python.display()
    );
    python
}

/// `koelectra-ft seq-cls` on the demo model and data (configs/nsmc/demo.json), quiet, with each
/// `KEY=VALUE` of `sets` as a `--set` override.
pub fn demo_run_args<S: AsRef<str>>(sets: &[S]) -> Vec<String> {
    let mut args: Vec<String> = [
        "seq-cls",
        "--task",
        "nsmc",
        "--config",
        "configs/nsmc/demo.json",
        "--quiet",
    ]
    .map(String::from)
    .to_vec();
    for set in sets {
        args.extend(["--set".to_string(), set.as_ref().to_string()]);
    }
    args
}

/// The stdout of a koelectra-ft run that must have succeeded (its stderr in the failure message).
pub fn stdout_ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "koelectra-ft failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}
