//! TensorBoard event files: what `io::tensorboard::EventWriter` writes, read back by TensorBoard's own
//! `EventAccumulator` (scripts/tensorboard_read.py in the project venv).
#![allow(clippy::disallowed_methods)] // tests/common reads tensors directly (clippy.toml)
#[path = "../common/mod.rs"]
mod common;

use koelectra_ft::io::tensorboard::EventWriter;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Expected scalars: tag -> (step, value as written) in write order.
type Scalars = BTreeMap<String, Vec<(i64, f64)>>;

/// Writes each `(step, values)` event through `writer` and records it in `expected`.
fn write(writer: &mut EventWriter, expected: &mut Scalars, events: &[(i64, &[(&str, f64)])]) {
    for &(step, values) in events {
        writer.scalars(step, values).unwrap();
        for &(tag, value) in values {
            expected.entry(tag.to_string()).or_default().push((step, value));
        }
    }
}

/// `scripts/tensorboard_read.py` on `dir`: `{tag: [[step, value], ...]}`.
fn read_back(dir: &Path) -> Value {
    let out = std::process::Command::new(common::venv_python())
        .arg(common::root().join("scripts/tensorboard_read.py"))
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tensorboard_read.py failed (is tensorboard installed? scripts/setup.sh --dev):\n{}",
        common::text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every tag, every event and every value of `expected` (rounded to f32, as TensorBoard stores them)
/// in `read`, and nothing else.
fn assert_reads_back(read: &Value, expected: &Scalars) {
    let read = read.as_object().expect("a JSON object");
    let tags: Vec<&String> = read.keys().collect();
    assert_eq!(tags, expected.keys().collect::<Vec<_>>(), "tags");
    for (tag, events) in expected {
        let got = read[tag].as_array().unwrap();
        assert_eq!(
            got.len(),
            events.len(),
            "{tag}: event count (a corrupt record ends the read)"
        );
        for (got, &(step, value)) in got.iter().zip(events) {
            assert_eq!(got[0].as_i64(), Some(step), "{tag}: step");
            let want = value as f32;
            let ok = match &got[1] {
                Value::Number(n) => n.as_f64().unwrap() as f32 == want,
                Value::String(s) if want.is_nan() => s == "NaN",
                Value::String(s) if want.is_infinite() => *s == if want > 0.0 { "Infinity" } else { "-Infinity" },
                _ => false,
            };
            assert!(ok, "{tag} at step {step}: read {}, wrote {value} (f32 {want})", got[1]);
        }
    }
}

#[test]
fn every_scalar_reads_back_equal() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("runs/nsmc");
    let mut expected = Scalars::new();
    let mut writer = EventWriter::create(&run).unwrap();
    write(
        &mut writer,
        &mut expected,
        &[
            (
                1,
                &[
                    ("train/loss", std::f64::consts::LN_2), // not exact in f32
                    ("train/learning_rate", 5e-5),
                    ("train/grad_norm", 0.0), // zero must be on the wire
                    ("train/samples_per_second", 128.5),
                ],
            ),
            (
                10,
                &[
                    ("train/loss", 0.1),
                    ("train/learning_rate", 4.5e-5),
                    ("train/grad_norm", f64::NAN),
                    ("train/samples_per_second", 131.0),
                ],
            ),
            (10, &[("dev/acc", 0.75), ("dev/loss", 1.0 / 3.0), ("test/f1", 0.8125)]),
            (
                20,
                &[
                    ("train/loss", -2.5),
                    ("train/learning_rate", 0.0),
                    ("train/grad_norm", 1e39),           // beyond f32: infinity
                    ("train/samples_per_second", 1e-40), // subnormal in f32
                ],
            ),
            (
                20,
                &[("dev/acc", 0.8), ("dev/loss", 0.2), ("test/f1", f64::NEG_INFINITY)],
            ),
            (1 << 40, &[("train/loss", 123456789.0)]), // a large step
        ],
    );
    assert!(writer.path().starts_with(&run));
    drop(writer);
    // A second file in the same folder (a resumed run) is read after the first.
    let mut resumed = EventWriter::create(&run).unwrap();
    write(
        &mut resumed,
        &mut expected,
        &[((1 << 40) + 1, &[("train/loss", 0.05), ("dev/acc", 0.9)])],
    );

    assert_reads_back(&read_back(&run), &expected);
}

#[test]
fn a_corrupt_record_ends_the_read() {
    // TensorBoard stops at a bad CRC without an error: the exact counts above are what catch it.
    let dir = tempfile::tempdir().unwrap();
    let mut expected = Scalars::new();
    let mut writer = EventWriter::create(dir.path()).unwrap();
    write(
        &mut writer,
        &mut expected,
        &[(1, &[("train/loss", 0.5)]), (2, &[("train/loss", 0.25)])],
    );
    assert_reads_back(&read_back(dir.path()), &expected);

    let path = writer.path().to_path_buf();
    drop(writer);
    let mut bytes = std::fs::read(&path).unwrap();
    *bytes.last_mut().unwrap() ^= 1; // the data CRC of the last record
    std::fs::write(&path, &bytes).unwrap();
    expected.get_mut("train/loss").unwrap().pop();
    assert_reads_back(&read_back(dir.path()), &expected);
}

/// The scalars a run's metrics.jsonl says it logged: train events under `train/*`, and each
/// evaluation with a step under `<split>/*` (once per split and step).
fn expected_from_metrics(run: &Path) -> Scalars {
    let mut expected = Scalars::new();
    let mut seen = std::collections::HashSet::new();
    for event in common::read_jsonl(&run.join("metrics.jsonl")) {
        let Some(step) = event["step"].as_i64() else { continue };
        let mut push = |tag: String, value: f64| expected.entry(tag).or_default().push((step, value));
        match event["event"].as_str() {
            Some("train") => {
                push("train/loss".into(), event["loss"].as_f64().unwrap());
                push("train/learning_rate".into(), event["lr"].as_f64().unwrap());
                push("train/grad_norm".into(), event["grad_norm"].as_f64().unwrap());
                push(
                    "train/samples_per_second".into(),
                    event["samples_per_second"].as_f64().unwrap(),
                );
            }
            Some("eval") => {
                let split = event["split"].as_str().unwrap().to_string();
                if !seen.insert((split.clone(), step)) {
                    continue;
                }
                push(format!("{split}/loss"), event["loss"].as_f64().unwrap());
                for (key, value) in event["metrics"].as_object().unwrap() {
                    push(format!("{split}/{key}"), value.as_f64().unwrap());
                }
            }
            _ => {}
        }
    }
    expected
}

/// A training run (the templated model with a dev split, evaluated during training and on test in the
/// final pass) writes `runs/events.out.tfevents.*` with every train and eval scalar of its
/// metrics.jsonl, and `report_to: "none"` writes neither file.
#[test]
fn a_training_run_writes_every_logged_scalar_to_tensorboard() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, extra: &[&str]| {
        let mut sets = vec![
            format!("ckpt_dir={}", dir.path().display()),
            format!("output_dir={name}"),
            "dev_file=ratings_test.txt".into(),
            "evaluate_test_during_training=false".into(),
            "max_steps=12".into(),
            "logging_steps=4".into(),
            "save_steps=6".into(),
        ];
        sets.extend(extra.iter().map(|s| s.to_string()));
        let _one = common::one_child_at_a_time();
        let out = common::binary()
            .args(common::demo_run_args(&sets))
            .current_dir(common::root())
            .env("KOELECTRA_FT_CACHE", "off")
            .output()
            .unwrap();
        common::stderr_ok(&out);
        dir.path().join(name)
    };
    let board = run("board", &[]);
    let expected = expected_from_metrics(&board);
    assert_eq!(expected["train/loss"].len(), 3);
    // Dev during training (4, 8, 12), then in the final pass at checkpoint-6, which training did not
    // evaluate; test only in the final pass, at the checkpoints.
    assert_eq!(
        expected["dev/acc"].iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        vec![4, 8, 12, 6]
    );
    assert_eq!(
        expected["test/acc"].iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        vec![6, 12]
    );
    assert_reads_back(&read_back(&board.join("runs")), &expected);

    let quiet = run("quiet", &["report_to=none"]);
    assert!(!quiet.join("runs").exists() && !quiet.join("metrics.jsonl").exists());
    assert!(quiet.join("summary.json").is_file());
}
