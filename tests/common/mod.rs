//! Helpers shared by the integration tests: paths (fixtures, the benchmark files in ../shared),
//! JSON and tensors, tiny model configs, running the binary and reading what it wrote.
//! Each test binary includes it with `#[path = "../common/mod.rs"] mod common;`.
#![allow(dead_code)]
pub mod http;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};
use tch::{Kind, Tensor};

/// Creates a named pipe at `path` (a run or config reading it waits for a writer).
pub fn make_fifo(path: &Path) {
    let c_path = std::ffi::CString::new(path.to_str().expect("UTF-8 path")).expect("no NUL in the path");
    // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
    assert_eq!(
        unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) },
        0,
        "mkfifo {}",
        path.display()
    );
}

/// Waits for `child` to end; after `limit` kills it and panics with `why` (a hang fails the test
/// instead of blocking the suite).
pub fn wait_or_kill(child: &mut std::process::Child, limit: std::time::Duration, why: &str) {
    let started = std::time::Instant::now();
    while child.try_wait().expect("try_wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("{why} (after {limit:?})");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Repo root (tests run with the crate root as cwd, but be explicit).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A tiny checkpoint of `tests/fixtures/models`.
pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/models").join(name)
}

/// A path in `../shared` beside the checkout: the real benchmark files (`data/...`) and vocabularies.
pub fn shared(rel: &str) -> PathBuf {
    root().join("../shared").join(rel)
}

/// The KoELECTRA v3 vocabulary.
pub fn v3_vocab() -> PathBuf {
    shared("vocab/koelectra-v3-vocab.txt")
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One JSON value per line of `text`.
pub fn parse_jsonl(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// One JSON value per line of a file (predictions.jsonl, metrics.jsonl).
pub fn read_jsonl(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_jsonl(&text)
}

/// `base` with every key of the object `extra` set (replaced or added).
pub fn merged(mut base: Value, extra: Value) -> Value {
    if let Value::Object(extra) = extra {
        for (k, v) in extra {
            base[k] = v;
        }
    }
    base
}

/// Writes `value` as pretty JSON to `dir/config.json` and returns the path.
pub fn write_config_json(dir: &Path, value: &Value) -> PathBuf {
    let path = dir.join("config.json");
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path
}

/// A tiny random ELECTRA (`model_config` of a run config) for the v3 vocab: `embedding` and
/// `hidden` sizes, `layers` layers of `heads` heads, a feed-forward twice the hidden size.
pub fn tiny_model(embedding: u32, hidden: u32, layers: u32, heads: u32) -> Value {
    serde_json::json!({
        "vocab_size": 35000, "embedding_size": embedding, "hidden_size": hidden, "num_hidden_layers": layers,
        "num_attention_heads": heads, "intermediate_size": 2 * hidden,
    })
}

/// A fixture case's `input_ids`, `attention_mask` and `token_type_ids` as the training loop sends
/// them, with a [`koelectra_ft::model::Packing`] (the case must have enough padding to get one).
pub fn packed_batch(case: &Value) -> koelectra_ft::model::Batch {
    let rows = |key: &str| -> Vec<Vec<i64>> { serde_json::from_value(case[key].clone()).unwrap() };
    let [ids, mask, types] = ["input_ids", "attention_mask", "token_type_ids"].map(rows);
    let shape = [ids.len() as i64, ids[0].len() as i64];
    let [ids, mask, types] = [ids, mask, types].map(|rows| rows.concat());
    let (batch, _) = koelectra_ft::model::Batch::send_packable(
        [&ids, &mask, &types],
        shape,
        true,
        koelectra_ft::device::Upload::new(),
        tch::Device::Cpu,
    )
    .unwrap();
    assert!(batch.packing.is_some(), "the case has too little padding to pack");
    batch
}

/// A nested JSON array of numbers as a tensor of `kind`.
pub fn tensor(value: &Value, kind: Kind) -> Tensor {
    fn flatten(v: &Value, shape: &mut Vec<i64>, depth: usize, out: &mut Vec<f64>) {
        match v {
            Value::Array(items) => {
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

/// The built binary, ready for arguments. Runs that default to CUDA when it is there (the demo
/// config has `no_cuda: false`) stay on the CPU, so exact expectations mean the same on a GPU host.
pub fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_koelectra-ft"));
    cmd.env("CUDA_VISIBLE_DEVICES", "");
    cmd
}

/// Held while a child process runs: libtorch in two processes on the CI's two cores (each with its own
/// intra-op threads) runs several times slower than the two one after the other.
pub fn one_child_at_a_time() -> MutexGuard<'static, ()> {
    static CHILD: Mutex<()> = Mutex::new(());
    CHILD.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Held by in-process tests that draw from libtorch's global CPU generator (random init, dropout)
/// or reseed it (the training loop seeds every step): the generator is shared by every test thread,
/// so a concurrent test would otherwise change another's dropout masks between its seed and its draws.
pub fn torch_rng_lock() -> MutexGuard<'static, ()> {
    static RNG: Mutex<()> = Mutex::new(());
    RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `koelectra-ft seq-cls` on the tiny templated model and data (tests/fixtures/templated.json, the
/// fast test fixture; not the README demo), quiet, with each `KEY=VALUE` of `sets` as a `--set` override.
pub fn demo_run_args<S: AsRef<str>>(sets: &[S]) -> Vec<String> {
    let mut args: Vec<String> = [
        "seq-cls",
        "--task",
        "nsmc",
        "--config",
        "tests/fixtures/templated.json",
        "--quiet",
        "--device",
        "cpu",
    ]
    .map(String::from)
    .to_vec();
    for set in sets {
        args.extend(["--set".to_string(), set.as_ref().to_string()]);
    }
    args
}

/// Bytes (stdout or stderr) as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The stdout of a koelectra-ft run that must have succeeded (its stderr in the failure message).
pub fn stdout_ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "koelectra-ft failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

/// The stderr (the log) of a koelectra-ft run that must have succeeded.
pub fn stderr_ok(out: &Output) -> String {
    let log = text(&out.stderr);
    assert!(out.status.success(), "koelectra-ft failed:\n{log}");
    log
}

/// A zip archive of `entries`, stored uncompressed as `torch.save` writes them.
pub fn stored_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut bytes = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut bytes);
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in entries {
        zip.start_file(*name, stored).expect("zip entry");
        zip.write_all(data).expect("zip data");
    }
    zip.finish().expect("zip directory");
    bytes.into_inner()
}
