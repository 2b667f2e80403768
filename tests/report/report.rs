//! `koelectra-ft report` against committed summaries (golden markdown, CSV and JSON), its errors, and
//! the report and `curves.svg` of a run trained here with the demo config.
//!
//! Regenerate the golden files after an intended change: `UPDATE_GOLDEN=1 cargo test --release --test report`
//! (then review the diff).
use crate::common::{binary, demo_run_args, root, stdout_ok};
use std::path::{Path, PathBuf};
use std::process::Output;

fn fixtures() -> PathBuf {
    root().join("tests/fixtures/report")
}

fn cli(cwd: &Path, args: &[&str]) -> Output {
    binary()
        .current_dir(cwd)
        .args(args)
        .env("KOELECTRA_FT_CACHE", "off")
        .output()
        .unwrap()
}

/// The fixture run folders, sorted (as a shell glob would give them).
fn fixture_runs() -> Vec<String> {
    let mut runs: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("summary.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    runs.sort();
    runs
}

#[test]
fn golden_outputs() {
    let runs = fixture_runs();
    assert_eq!(runs.len(), 12, "{runs:?}");
    let cases: [(&[&str], &str); 4] = [
        (&[], "report.md"),
        (&["--format", "csv"], "report.csv"),
        (&["--format", "json"], "report.json"),
        (&["--which", "last", "--format", "markdown"], "report-last.md"),
    ];
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for (flags, golden) in cases {
        let mut args = vec!["report"];
        args.extend(runs.iter().map(String::as_str));
        args.extend(flags);
        let got = stdout_ok(&cli(&fixtures(), &args));
        let path = fixtures().join(golden);
        if update {
            std::fs::write(&path, &got).unwrap();
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(got, want, "`koelectra-ft {}` differs from {golden}", args.join(" "));
    }
}

#[test]
fn missing_summary_is_one_line_error_or_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty-run");
    std::fs::create_dir(&empty).unwrap();
    let nsmc = fixtures().join("base-v3-nsmc");
    let (empty_s, nsmc_s) = (empty.to_str().unwrap(), nsmc.to_str().unwrap());

    let out = cli(dir.path(), &["report", nsmc_s, empty_s]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert_eq!(
        err.trim_end(),
        format!("error: {empty_s}: no summary.json; expected a run folder (<ckpt_dir>/<output_dir>)")
    );

    // A run still going (or stopped) has checkpoints but no summary yet; a typo is no folder at all.
    let unfinished = dir.path().join("unfinished");
    std::fs::create_dir_all(unfinished.join("checkpoint-20")).unwrap();
    std::fs::write(unfinished.join("checkpoint-20/config.json"), "{}").unwrap();
    let unfinished_s = unfinished.to_str().unwrap();
    let out = cli(dir.path(), &["report", unfinished_s]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{unfinished_s}: no summary.json yet: the run has not finished (1 checkpoint(s) saved"
        )),
        "{err}"
    );
    let typo = dir.path().join("typo");
    let out = cli(dir.path(), &["report", typo.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end(), format!("error: {}: no such run folder", typo.display()));
    // A file (a sweep's log beside its runs, caught by `runs/*`) is said to be one.
    let log = dir.path().join("sweep.log");
    std::fs::write(&log, "").unwrap();
    let out = cli(dir.path(), &["report", log.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim_end(),
        format!(
            "error: {}: not a folder; expected a run folder (<ckpt_dir>/<output_dir>) or its summary.json",
            log.display()
        )
    );
    // A run's summary.json stands for its folder (`report runs/*/summary.json`), counted once
    // beside the folder itself; relative to the working folder, too.
    let summary = nsmc.join("summary.json");
    let by_folder = stdout_ok(&cli(dir.path(), &["report", nsmc_s]));
    let out = cli(dir.path(), &["report", summary.to_str().unwrap(), nsmc_s]);
    assert_eq!(stdout_ok(&out), by_folder);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is given more than once; counting it once"));
    let out = cli(&nsmc, &["report", "summary.json"]);
    assert!(stdout_ok(&out).contains(" 90.63 "), "{out:?}");

    let out = cli(dir.path(), &["report", nsmc_s, empty_s, unfinished_s, "--skip-missing"]);
    let text = stdout_ok(&out);
    assert!(text.contains("| 90.63 ") || text.contains(" 90.63 "), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    let skipped: Vec<&str> = err.lines().filter(|l| l.contains("WARN  skipping a run: ")).collect();
    assert_eq!(skipped.len(), 2, "{err}");
    assert!(skipped[1].ends_with("continue it with --resume)"), "{err}");

    // Not JSON, and JSON without the task: errors naming the file.
    std::fs::write(empty.join("summary.json"), "{ not json").unwrap();
    let out = cli(dir.path(), &["report", empty_s]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("summary.json: invalid JSON"),
        "{err}"
    );
    std::fs::write(empty.join("summary.json"), r#"{"selected": {}}"#).unwrap();
    let out = cli(dir.path(), &["report", empty_s]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("no \"task\""), "{err}");
}

#[test]
fn same_model_type_from_two_paths_gets_two_rows() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixtures().join("base-v3-nsmc/summary.json")).unwrap();
    let local = dir.path().join("local");
    std::fs::create_dir(&local).unwrap();
    let moved = text.replace("monologg/koelectra-base-v3-discriminator", "/models/my-base-v3/");
    std::fs::write(local.join("summary.json"), moved).unwrap();
    let nsmc = fixtures().join("base-v3-nsmc");
    let out = stdout_ok(&cli(dir.path(), &["report", nsmc.to_str().unwrap(), "local"]));
    assert!(
        out.contains("| koelectra-base-v3 (koelectra-base-v3-discriminator) |"),
        "{out}"
    );
    assert!(out.contains("| koelectra-base-v3 (my-base-v3)"), "{out}");
}

/// Overlapping globs name a folder twice (here also as `./x/`): it is one run, not a sweep of two.
#[test]
fn a_folder_given_twice_counts_once() {
    let once = cli(&fixtures(), &["report", "base-v3-nsmc"]);
    let twice = cli(&fixtures(), &["report", "base-v3-nsmc", "./base-v3-nsmc/"]);
    assert_eq!(stdout_ok(&twice), stdout_ok(&once));
    assert!(!stdout_ok(&twice).contains("[^1]"));
    let err = String::from_utf8_lossy(&twice.stderr);
    assert!(
        err.contains("./base-v3-nsmc/ is given more than once; counting it once"),
        "{err}"
    );
}

/// A `|` or a line break in a model type or path (from an edited summary) stays inside its cell.
#[test]
fn markdown_cells_escape_pipes_and_line_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixtures().join("base-v3-nsmc/summary.json")).unwrap();
    let mut summary: serde_json::Value = serde_json::from_str(&text).unwrap();
    summary["model_type"] = "my|model\nv2".into();
    let run = dir.path().join("run");
    std::fs::create_dir(&run).unwrap();
    std::fs::write(run.join("summary.json"), summary.to_string()).unwrap();
    let out = stdout_ok(&cli(dir.path(), &["report", "run"]));
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[2].starts_with("| my\\|model v2 | "), "{out}");
    // Every table line has the header's number of unescaped separators.
    let separators = |line: &str| line.replace("\\|", "").matches('|').count();
    assert!(
        lines[..3].iter().all(|l| separators(l) == separators(lines[0])),
        "{out}"
    );
}

/// Checks that every `<tag>` is closed in order (`<x .../>` closes itself) and returns the tag names.
fn balanced_tags(svg: &str) -> Vec<String> {
    let (mut stack, mut names) = (vec![], vec![]);
    let mut rest = svg;
    while let Some(at) = rest.find('<') {
        let end = rest[at..].find('>').expect("unclosed <") + at;
        let tag = &rest[at + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
        } else {
            let name = tag.split_whitespace().next().unwrap().trim_end_matches('/').to_string();
            names.push(name.clone());
            if !tag.ends_with('/') {
                stack.push(name);
            }
        }
        rest = &rest[end + 1..];
    }
    assert!(stack.is_empty(), "unclosed tags {stack:?}");
    names
}

#[test]
fn trained_run_report_and_curves() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().to_str().unwrap();
    let args = demo_run_args(&[format!("ckpt_dir={ckpt}"), "output_dir=demo".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    stdout_ok(&cli(&root(), &args));
    let run = dir.path().join("demo");

    // The report's cell is the summary's test value of the selected checkpoint.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    let acc = summary["selected"]["test"]["acc"].as_f64().unwrap();
    let run_s = run.to_str().unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&stdout_ok(&cli(&root(), &["report", run_s, "--format", "json"]))).unwrap();
    let row = &json["rows"][0];
    assert_eq!(row["model"], "koelectra-small-v3");
    assert_eq!(row["cells"]["nsmc"]["metrics"]["acc"].as_f64(), Some(acc));
    assert_eq!(row["cells"]["nsmc"]["checkpoint"], summary["selected"]["checkpoint"]);
    assert!(row["cells"]["kornli"].is_null());
    let md = stdout_ok(&cli(&root(), &["report", run_s]));
    let cell = format!("{:.2}", acc * 100.0);
    assert!(md.lines().nth(2).unwrap().contains(&format!(" {cell} ")), "{md}");
    let csv = stdout_ok(&cli(&root(), &["report", run_s, "--format", "csv"]));
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            // The value as summary.json has it (1.0 stays 1.0: Rust's `{acc}` would print 1).
            .starts_with(&format!(
                "koelectra-small-v3,nsmc,acc,{},{cell},",
                summary["selected"]["test"]["acc"]
            )),
        "{csv}"
    );

    // curves.svg: a loss panel (train and test loss) and an acc panel (test), one polyline per series.
    let svg = std::fs::read_to_string(run.join("curves.svg")).unwrap();
    assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
    let tags = balanced_tags(&svg);
    assert_eq!(tags.iter().filter(|t| *t == "polyline").count(), 3);
    for needle in [
        r#"data-panel="loss""#,
        r#"data-panel="acc""#,
        r#"data-series="train""#,
        r#"data-series="test""#,
        ">demo — nsmc, koelectra-small-v3<",
    ] {
        assert!(svg.contains(needle), "curves.svg lacks {needle}");
    }
    let train_steps = std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| l.contains(r#""event":"train""#))
        .count();
    let train_line = svg.lines().find(|l| l.contains(r#"data-series="train""#)).unwrap();
    let points = train_line.split("points=\"").nth(1).unwrap().split('"').next().unwrap();
    assert_eq!(points.split_whitespace().count(), train_steps);

    // An eval-only run (no training events) draws nothing, and its summary.json holds the loaded
    // model's metrics, the same as the trained run's for that checkpoint, so `report` lists it.
    let ckpt95 = run.join(summary["last"]["checkpoint"].as_str().unwrap());
    let args = demo_run_args(&[
        format!("ckpt_dir={ckpt}"),
        "output_dir=eval".into(),
        "do_train=false".into(),
        format!("model_name_or_path={}", ckpt95.display()),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    stdout_ok(&cli(&root(), &args));
    assert!(dir.path().join("eval/metrics.jsonl").is_file());
    assert!(!dir.path().join("eval/curves.svg").exists());
    let eval = dir.path().join("eval");
    let loaded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(eval.join("summary.json")).unwrap()).unwrap();
    assert_eq!(loaded["selected"]["checkpoint"], "the model as loaded");
    assert!(loaded["selected"]["step"].is_null());
    assert_eq!(loaded["selected"]["test"], summary["last"]["test"]);
    let last = stdout_ok(&cli(&root(), &["report", run_s, "--which", "last"]));
    let eval_s = eval.to_str().unwrap();
    assert_eq!(stdout_ok(&cli(&root(), &["report", eval_s, "--which", "last"])), last);
}
