//! `koelectra-ft data fetch|list` against a copy of the KoELECTRA data tree served on 127.0.0.1,
//! the manifest against the reference configs and ../shared/data, and the "fetch it with" error of a
//! run whose data file is missing.

use crate::common::http::Server;
use crate::common::*;
use koelectra_ft::cli::data::{known_file, manifest, SOURCE_PATH};
use std::path::Path;
use std::process::Output;

const QP_FILES: [&str; 3] = ["train.tsv", "dev.tsv", "test.tsv"];

fn server_path(task: &str, name: &str) -> String {
    format!("/{SOURCE_PATH}/{task}/{name}")
}

fn qp_bytes(name: &str) -> Vec<u8> {
    std::fs::read(shared("data/question-pair").join(name)).unwrap()
}

/// A server holding question-pair's three files at the real URL layout.
fn qp_server() -> Server {
    let server = Server::start();
    for name in QP_FILES {
        server.add(&server_path("question-pair", name), qp_bytes(name));
    }
    server
}

fn koelectra(args: &[&str], server: Option<&Server>) -> Output {
    let mut cmd = binary();
    cmd.args(args);
    for var in [
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ] {
        cmd.env_remove(var);
    }
    match server {
        Some(server) => cmd.env("KOELECTRA_FT_DATA_ENDPOINT", server.url()),
        None => cmd.env("KOELECTRA_FT_DATA_ENDPOINT", "http://127.0.0.1:9"),
    };
    cmd.output().unwrap()
}

fn fetch(server: &Server, task: &str, data_dir: &Path) -> Output {
    let dir = data_dir.to_str().unwrap();
    koelectra(
        &["data", "fetch", "--task", task, "--data-dir", dir, "--quiet"],
        Some(server),
    )
}

/// Names in `dir` (hidden ones included).
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn manifest_names_every_reference_config_file_and_matches_shared_data() {
    let mut named = 0;
    for task_dir in std::fs::read_dir(root().join("configs")).unwrap().flatten() {
        for cfg in std::fs::read_dir(task_dir.path()).unwrap().flatten() {
            let cfg = read_json(&cfg.path());
            if cfg["data_dir"] != "data" {
                continue; // the demo config reads the bundled sample
            }
            let task = cfg["task"].as_str().unwrap();
            for key in ["train_file", "dev_file", "test_file", "predict_file"] {
                if let Some(name) = cfg[key].as_str().filter(|n| !n.is_empty()) {
                    assert!(known_file(task, name).is_some(), "{task}/{name} is not in the manifest");
                    named += 1;
                }
            }
        }
    }
    assert!(named >= 200, "only {named} files named by configs");
    // Every file at hand has the recorded size and blob id; the others are the five training files.
    let mut absent = vec![];
    for file in manifest() {
        let path = shared("data").join(file.task).join(file.name);
        match std::fs::read(&path) {
            Ok(bytes) => {
                assert_eq!(Some(bytes.len() as u64), file.size, "{}", path.display());
                assert_eq!(http::git_blob_sha1(&bytes), file.blob, "{}", path.display());
            }
            Err(_) => {
                assert_eq!(file.size, None);
                absent.push(format!("{}/{}", file.task, file.name));
            }
        }
    }
    assert_eq!(absent.len(), 5, "{absent:?}");
}

#[test]
fn fetch_downloads_verifies_and_skips_what_is_present() {
    let server = qp_server();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = fetch(&server, "question-pair", &data);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for name in QP_FILES {
        assert_eq!(
            std::fs::read(data.join("question-pair").join(name)).unwrap(),
            qp_bytes(name)
        );
        assert!(
            stdout.contains(&format!("question-pair/{name}: downloaded and verified")),
            "{stdout}"
        );
    }
    assert_eq!(names(&data.join("question-pair")), ["dev.tsv", "test.tsv", "train.tsv"]);
    assert_eq!(server.request_count(), 3);

    let out = fetch(&server, "question-pair", &data);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.matches("ok, already present").count(), 3, "{stdout}");
    assert_eq!(server.request_count(), 3, "present files were downloaded again");

    // A file that differs (perhaps the user's edit) is replaced by the published one but kept aside,
    // under the first free name.
    let dev = data.join("question-pair/dev.tsv");
    std::fs::write(data.join("question-pair/dev.tsv.orig"), "older").unwrap();
    std::fs::write(&dev, "my cleaned rows\n").unwrap();
    let out = fetch(&server, "question-pair", &data);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&dev).unwrap(), qp_bytes("dev.tsv"));
    assert_eq!(
        std::fs::read_to_string(data.join("question-pair/dev.tsv.orig-2")).unwrap(),
        "my cleaned rows\n"
    );
    assert!(
        text(&out.stderr).contains(&format!(
            "{}: kept the earlier, differing file as {}.orig-2",
            dev.display(),
            dev.display()
        )),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn list_shows_present_missing_and_differing_files() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let qp = data.join("question-pair");
    std::fs::create_dir_all(&qp).unwrap();
    std::fs::write(qp.join("train.tsv"), qp_bytes("train.tsv")).unwrap();
    let mut dev = qp_bytes("dev.tsv");
    dev[10] ^= 1;
    std::fs::write(qp.join("dev.tsv"), dev).unwrap();
    std::fs::write(qp.join("test.tsv"), &qp_bytes("test.tsv")[..1000]).unwrap();
    std::fs::create_dir_all(data.join("korsts")).unwrap();
    std::fs::write(data.join("korsts/.sts-train.tsv.part"), vec![b'x'; 321]).unwrap();

    let out = koelectra(&["data", "list", "--data-dir", data.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let line = |key: &str| -> String {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("{key} ")))
            .unwrap_or_else(|| panic!("no line for {key}:\n{stdout}"))
            .to_string()
    };
    assert!(
        line("question-pair/train.tsv").contains("present (441758 bytes, hash ok)"),
        "{stdout}"
    );
    assert!(
        line("question-pair/dev.tsv").contains("differs from the official file (blob sha1 "),
        "{stdout}"
    );
    assert!(
        line("question-pair/test.tsv").contains("differs from the official file (size 1000 bytes, expected 54395)"),
        "{stdout}"
    );
    assert!(line("nsmc/ratings_train.txt").ends_with("missing"), "{stdout}");
    assert!(
        line("korsts/sts-train.tsv").contains("missing (partial download: 321 bytes)"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), manifest().len() + 1);
    assert!(
        stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("1 present, 17 missing, 2 differing"),
        "{stdout}"
    );
}

#[test]
fn truncated_download_is_resumed_and_verified() {
    let server = qp_server();
    let path = server_path("question-pair", "train.tsv");
    server.truncate_first(&path, 100_000);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = fetch(&server, "question-pair", &data);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read(data.join("question-pair/train.tsv")).unwrap(),
        qp_bytes("train.tsv")
    );
    let ranges: Vec<Option<String>> = server
        .requests_for(&path)
        .iter()
        .map(|r| r.header("range").map(str::to_string))
        .collect();
    assert_eq!(ranges, [None, Some("bytes=100000-".to_string())]);
    assert!(text(&out.stderr).contains("retrying"), "{}", text(&out.stderr));
}

#[test]
fn partial_files_are_resumed_restarted_or_discarded() {
    let server = qp_server();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let qp = data.join("question-pair");
    std::fs::create_dir_all(&qp).unwrap();
    // A good partial file is resumed with a Range request.
    std::fs::write(qp.join(".train.tsv.part"), &qp_bytes("train.tsv")[..5000]).unwrap();
    // A server that ignores Range: the 200 answer restarts the file from 0.
    std::fs::write(qp.join(".dev.tsv.part"), &qp_bytes("dev.tsv")[..7000]).unwrap();
    server.ignore_ranges(&server_path("question-pair", "dev.tsv"));
    // A partial file with wrong bytes: the hash check fails, and one fresh download fixes it.
    std::fs::write(qp.join(".test.tsv.part"), vec![b'?'; 3000]).unwrap();

    let out = fetch(&server, "question-pair", &data);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for name in QP_FILES {
        assert_eq!(std::fs::read(qp.join(name)).unwrap(), qp_bytes(name), "{name}");
    }
    assert_eq!(names(&qp), ["dev.tsv", "test.tsv", "train.tsv"]);
    let ranges = |name: &str| -> Vec<Option<String>> {
        server
            .requests_for(&server_path("question-pair", name))
            .iter()
            .map(|r| r.header("range").map(str::to_string))
            .collect()
    };
    assert_eq!(ranges("train.tsv"), [Some("bytes=5000-".to_string())]);
    assert_eq!(ranges("dev.tsv"), [Some("bytes=7000-".to_string())]);
    assert_eq!(ranges("test.tsv"), [Some("bytes=3000-".to_string()), None]);
}

#[test]
fn wrong_bytes_are_rejected_and_no_file_is_left() {
    let server = qp_server();
    server.corrupt(&server_path("question-pair", "test.tsv"));
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = fetch(&server, "question-pair", &data);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .expect("an error line");
    assert!(error.contains("/question-pair/test.tsv: hash mismatch"), "{stderr}");
    assert!(
        error.contains("expected b3fb1b47f5326eac4c3a3c01927973e187ce1a0e"),
        "{stderr}"
    );
    assert!(error.contains("the download was deleted"), "{stderr}");
    // The other files of the task were still fetched; nothing under test.tsv's names.
    assert_eq!(names(&data.join("question-pair")), ["dev.tsv", "train.tsv"]);
}

#[test]
fn not_found_names_the_url() {
    let server = Server::start();
    server.add(&server_path("question-pair", "train.tsv"), qp_bytes("train.tsv"));
    server.add(&server_path("question-pair", "test.tsv"), qp_bytes("test.tsv"));
    let tmp = tempfile::tempdir().unwrap();
    let out = fetch(&server, "question-pair", &tmp.path().join("data"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let url = format!("{}{}", server.url(), server_path("question-pair", "dev.tsv"));
    assert!(
        stderr.contains(&format!("error: not found: {url} (HTTP 404)")),
        "{stderr}"
    );
    assert_eq!(server.requests_for(&server_path("question-pair", "dev.tsv")).len(), 1);

    // When nothing could be fetched, the folders the run created are not left behind empty; a folder
    // that was there before stays.
    let empty = Server::start();
    let fresh = tmp.path().join("fresh/data");
    assert_eq!(fetch(&empty, "korsts", &fresh).status.code(), Some(1));
    assert!(!fresh.exists(), "{:?}", names(&fresh));
    std::fs::create_dir_all(fresh.join("korsts")).unwrap();
    assert_eq!(fetch(&empty, "korsts", &fresh).status.code(), Some(1));
    assert!(fresh.join("korsts").is_dir());
}

#[test]
fn unknown_task_is_a_usage_error() {
    let out = koelectra(&["data", "fetch", "--task", "mnli"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_run_with_a_missing_data_file_names_the_fetch_command() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let qp = data.join("question-pair");
    std::fs::create_dir_all(&qp).unwrap();
    std::fs::write(qp.join("dev.tsv"), qp_bytes("dev.tsv")).unwrap();
    std::fs::write(qp.join("test.tsv"), qp_bytes("test.tsv")).unwrap();
    let cfg = serde_json::json!({
        "task": "question-pair", "data_dir": data, "ckpt_dir": tmp.path().join("ckpt"), "output_dir": "run",
        "model_type": "koelectra-small-v3", "model_name_or_path": "",
        "vocab_file": v3_vocab(),
        "model_config": tiny_model(32, 64, 2, 2),
        "train_file": "train.tsv", "dev_file": "dev.tsv", "test_file": "test.tsv", "do_train": true,
        "do_eval": true, "no_cuda": true, "max_seq_len": 64,
    });
    let config = tmp.path().join("config.json");
    std::fs::write(&config, serde_json::to_string(&cfg).unwrap()).unwrap();
    let run = |config: &Path| {
        koelectra(
            &[
                "seq-cls",
                "--task",
                "question-pair",
                "--quiet",
                "--config",
                config.to_str().unwrap(),
            ],
            None,
        )
    };
    let out = run(&config);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: {}: missing; fetch it with: koelectra-ft data fetch --task question-pair --data-dir {}",
            qp.join("train.tsv").display(),
            data.display()
        )
    );
    assert!(!tmp.path().join("ckpt").exists());

    // A file the manifest does not know is left to the readers (their own error).
    let mut cfg = cfg;
    cfg["train_file"] = "my-train.tsv".into();
    std::fs::write(&config, serde_json::to_string(&cfg).unwrap()).unwrap();
    let stderr = text(&run(&config).stderr);
    assert!(!stderr.contains("data fetch"), "{stderr}");
    assert!(stderr.contains("my-train.tsv"), "{stderr}");
}
