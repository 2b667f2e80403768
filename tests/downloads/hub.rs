//! Hub models (`org/name[@revision]`) against a hub served on 127.0.0.1: download into the HF
//! cache layout, cache hits without requests, offline mode, resumed downloads, hash checks, 404s,
//! and a `seq-cls` run whose model comes from the hub.

use crate::common::http::Server;
use crate::common::*;
use koelectra_ft::io::hub::{resolve_model_with, HubOptions};
use std::path::{Path, PathBuf};
use std::process::Output;

const REPO: &str = "test-org/tiny";
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

fn fixture_file(name: &str) -> Vec<u8> {
    std::fs::read(fixture("seq-cls-3").join(name)).unwrap()
}

fn vocab() -> Vec<u8> {
    std::fs::read(root().join("tests/fixtures/models/vocab.txt")).unwrap()
}

fn hub_path(file: &str) -> String {
    format!("/{REPO}/resolve/main/{file}")
}

/// A hub with the seq-cls-3 fixture as `test-org/tiny` (pytorch_model.bin as an LFS file; no
/// model.safetensors, tokenizer.json or special_tokens_map.json, which answer 404).
fn tiny_hub() -> Server {
    let server = Server::start();
    server.add_hub_file(REPO, "main", COMMIT, "config.json", fixture_file("config.json"), false);
    server.add_hub_file(
        REPO,
        "main",
        COMMIT,
        "pytorch_model.bin",
        fixture_file("pytorch_model.bin"),
        true,
    );
    server.add_hub_file(REPO, "main", COMMIT, "vocab.txt", vocab(), false);
    let tok_config = br#"{"do_lower_case": false, "tokenizer_class": "ElectraTokenizer"}"#.to_vec();
    server.add_hub_file(REPO, "main", COMMIT, "tokenizer_config.json", tok_config, false);
    server
}

fn options(server: &Server, cache: &Path) -> HubOptions {
    HubOptions {
        cache_dir: cache.to_path_buf(),
        endpoint: server.url(),
        token: Some("secret-token".into()),
        offline: false,
        progress: false,
    }
}

fn repo_dir(cache: &Path) -> PathBuf {
    cache.join("models--test-org--tiny")
}

/// Files (not folders) anywhere below `dir`.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && !path.is_symlink() {
                out.extend(files_below(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn download_lands_in_the_hf_cache_and_second_resolution_makes_no_request() {
    let server = tiny_hub();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let opts = options(&server, &cache);

    let dir = resolve_model_with(REPO, &opts).unwrap();
    assert_eq!(dir, repo_dir(&cache).join("snapshots").join(COMMIT));
    assert_eq!(
        std::fs::read(dir.join("config.json")).unwrap(),
        fixture_file("config.json")
    );
    assert_eq!(
        std::fs::read(dir.join("pytorch_model.bin")).unwrap(),
        fixture_file("pytorch_model.bin")
    );
    assert_eq!(std::fs::read(dir.join("vocab.txt")).unwrap(), vocab());
    assert!(dir.join("tokenizer_config.json").is_file());
    assert!(!dir.join("model.safetensors").exists());
    assert_eq!(
        std::fs::read_to_string(repo_dir(&cache).join("refs/main"))
            .unwrap()
            .trim(),
        COMMIT
    );
    // The weights blob is named by its sha256, and the snapshot entry links to it.
    let blob = std::fs::canonicalize(dir.join("pytorch_model.bin")).unwrap();
    assert_eq!(
        blob.file_name().unwrap().to_str().unwrap(),
        http::sha256_hex(&fixture_file("pytorch_model.bin"))
    );
    // 404s of optional files are remembered like huggingface_hub does.
    assert!(repo_dir(&cache)
        .join(".no_exist")
        .join(COMMIT)
        .join("model.safetensors")
        .exists());
    // The token is sent.
    let requests = server.requests();
    assert!(!requests.is_empty());
    assert!(requests
        .iter()
        .all(|r| r.header("authorization") == Some("Bearer secret-token")));

    let before = server.request_count();
    let again = resolve_model_with(REPO, &opts).unwrap();
    assert_eq!(again, dir);
    let offline = HubOptions {
        offline: true,
        ..opts.clone()
    };
    assert_eq!(resolve_model_with(&format!("{REPO}@main"), &offline).unwrap(), dir);
    assert_eq!(server.request_count(), before, "a cache hit made requests");
}

#[test]
#[cfg(unix)]
fn a_model_cached_by_transformers_is_used_without_requests() {
    // The layout transformers leaves: refs/main, snapshots/<commit>/ with links into blobs/.
    let server = tiny_hub();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let base = repo_dir(&cache);
    let snapshot = base.join("snapshots").join(COMMIT);
    std::fs::create_dir_all(&snapshot).unwrap();
    std::fs::create_dir_all(base.join("blobs")).unwrap();
    std::fs::create_dir_all(base.join("refs")).unwrap();
    std::fs::write(base.join("refs/main"), COMMIT).unwrap();
    for (name, bytes) in [
        ("config.json", fixture_file("config.json")),
        ("pytorch_model.bin", fixture_file("pytorch_model.bin")),
        ("vocab.txt", vocab()),
    ] {
        let blob = base.join("blobs").join(http::git_blob_sha1(&bytes));
        std::fs::write(&blob, bytes).unwrap();
        std::os::unix::fs::symlink(&blob, snapshot.join(name)).unwrap();
    }
    let dir = resolve_model_with(REPO, &options(&server, &cache)).unwrap();
    assert_eq!(dir, snapshot);
    // A full commit hash as the revision needs no ref.
    let dir = resolve_model_with(&format!("{REPO}@{COMMIT}"), &options(&server, &cache)).unwrap();
    assert_eq!(dir, snapshot);
    assert_eq!(server.request_count(), 0);
}

#[test]
fn offline_without_a_cached_model_is_a_clear_error_and_makes_no_request() {
    let server = tiny_hub();
    let tmp = tempfile::tempdir().unwrap();
    let opts = HubOptions {
        offline: true,
        ..options(&server, &tmp.path().join("hub"))
    };
    let err = format!("{:#}", resolve_model_with(REPO, &opts).unwrap_err());
    assert!(err.contains("HF_HUB_OFFLINE"), "{err}");
    assert!(err.contains("test-org/tiny@main"), "{err}");
    assert!(err.contains("local folder"), "{err}");
    assert!(!err.contains('\n'), "{err}");
    assert_eq!(server.request_count(), 0);
}

#[test]
fn truncated_download_is_resumed_and_completes() {
    let server = tiny_hub();
    let weights = hub_path("pytorch_model.bin");
    server.truncate_first(&weights, 1000);
    let tmp = tempfile::tempdir().unwrap();
    let dir = resolve_model_with(REPO, &options(&server, &tmp.path().join("hub"))).unwrap();
    assert_eq!(
        std::fs::read(dir.join("pytorch_model.bin")).unwrap(),
        fixture_file("pytorch_model.bin")
    );
    let ranges: Vec<String> = server
        .requests_for(&weights)
        .iter()
        .filter_map(|r| r.header("range").map(str::to_string))
        .collect();
    assert!(
        ranges.contains(&"bytes=1000-".to_string()),
        "no resumed request: {ranges:?}"
    );
}

#[test]
fn wrong_bytes_are_rejected_and_nothing_is_left_in_the_snapshot() {
    // LFS weights whose bytes do not match the sha256 etag.
    let server = tiny_hub();
    server.corrupt(&hub_path("pytorch_model.bin"));
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let err = format!("{:#}", resolve_model_with(REPO, &options(&server, &cache)).unwrap_err());
    assert!(err.contains("hash mismatch"), "{err}");
    assert!(err.contains("pytorch_model.bin"), "{err}");
    let snapshot = repo_dir(&cache).join("snapshots").join(COMMIT);
    assert!(!snapshot.join("pytorch_model.bin").exists());
    let sha = http::sha256_hex(&fixture_file("pytorch_model.bin"));
    assert!(!repo_dir(&cache).join("blobs").join(&sha).exists());

    // A small file whose bytes do not match its git blob id: the snapshot is left empty.
    let server = tiny_hub();
    server.corrupt(&hub_path("config.json"));
    let cache = tmp.path().join("hub2");
    let err = format!("{:#}", resolve_model_with(REPO, &options(&server, &cache)).unwrap_err());
    assert!(err.contains("hash mismatch") && err.contains("config.json"), "{err}");
    let left = files_below(&repo_dir(&cache).join("snapshots"));
    assert!(left.is_empty(), "left in snapshots: {left:?}");
}

#[test]
fn missing_files_and_repos_are_reported_clearly() {
    let server = Server::start();
    // A repo without config.json.
    server.add_hub_file(REPO, "main", COMMIT, "vocab.txt", vocab(), false);
    let tmp = tempfile::tempdir().unwrap();
    let opts = options(&server, &tmp.path().join("hub"));
    let err = format!("{:#}", resolve_model_with(REPO, &opts).unwrap_err());
    assert_eq!(
        err,
        format!(
            "model \"test-org/tiny@main\": config.json not found on {} (404); check the model id",
            server.url()
        )
    );
    let err = format!("{:#}", resolve_model_with("nobody/nothing@v2", &opts).unwrap_err());
    assert!(
        err.contains("\"nobody/nothing@v2\": no such local directory, and repository not found on"),
        "{err}"
    );

    // config.json but no weights.
    server.add_hub_file(REPO, "main", COMMIT, "config.json", fixture_file("config.json"), false);
    let err = format!("{:#}", resolve_model_with(REPO, &opts).unwrap_err());
    assert!(
        err.contains("neither model.safetensors nor pytorch_model.bin found"),
        "{err}"
    );

    // Something that is neither a folder nor a hub id.
    let err = format!("{:#}", resolve_model_with("./no/such/dir", &opts).unwrap_err());
    assert!(err.contains("no such local directory"), "{err}");
}

/// kornli eval-only config with `model_name_or_path` = the hub id and a 12-row test file.
fn write_run(dir: &Path) -> PathBuf {
    let data = dir.join("data/kornli");
    std::fs::create_dir_all(&data).unwrap();
    let text = std::fs::read_to_string(shared("data/kornli/xnli.test.ko.tsv")).unwrap();
    let head: Vec<&str> = text.lines().take(13).collect();
    std::fs::write(data.join("test.tsv"), head.join("\n") + "\n").unwrap();
    let cfg = serde_json::json!({
        "task": "kornli", "data_dir": dir.join("data"), "ckpt_dir": dir.join("ckpt"), "output_dir": "run",
        "model_type": "koelectra-small-v3", "model_name_or_path": format!("{REPO}@main"),
        "train_file": "", "dev_file": "", "test_file": "test.tsv",
        "max_seq_len": 64, "eval_batch_size": 8, "do_train": false, "do_eval": true, "no_cuda": true,
        "do_lower_case": false, "seed": 42,
    });
    write_config_json(dir, &cfg)
}

fn run_seq_cls(config: &Path, hf_home: &Path, server: &Server, offline: bool, token: Option<&str>) -> Output {
    let mut cmd = binary();
    cmd.args(["seq-cls", "--task", "kornli", "--quiet", "--config"])
        .arg(config)
        .env("HF_HOME", hf_home)
        .env("HF_ENDPOINT", server.url())
        .env("KOELECTRA_FT_CACHE", "off");
    for var in [
        "HF_HUB_CACHE",
        "HUGGINGFACE_HUB_CACHE",
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "HF_TOKEN_PATH",
        "HF_HUB_OFFLINE",
        "TRANSFORMERS_OFFLINE",
    ] {
        cmd.env_remove(var);
    }
    if offline {
        cmd.env("HF_HUB_OFFLINE", "1");
    }
    if let Some(token) = token {
        cmd.env("HF_TOKEN", token);
    }
    cmd.output().unwrap()
}

#[test]
fn seq_cls_eval_only_with_a_model_from_the_hub() {
    let server = tiny_hub();
    let tmp = tempfile::tempdir().unwrap();
    let hf_home = tmp.path().join("hf");
    let config = write_run(tmp.path());

    let out = run_seq_cls(&config, &hf_home, &server, false, Some("hf_test_token"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "koelectra-ft failed:\n{stderr}");
    let snapshot = hf_home.join("hub/models--test-org--tiny/snapshots").join(COMMIT);
    assert!(snapshot.join("pytorch_model.bin").is_file(), "{stderr}");
    let rows = std::fs::read_to_string(tmp.path().join("ckpt/run/test/predictions.jsonl")).unwrap();
    assert_eq!(rows.lines().count(), 12);
    // HF_TOKEN is sent as a bearer token.
    assert!(server
        .requests()
        .iter()
        .all(|r| r.header("authorization") == Some("Bearer hf_test_token")));

    // Offline, from the cache: the same run, and not one request.
    let before = server.request_count();
    std::fs::remove_dir_all(tmp.path().join("ckpt")).unwrap();
    let out = run_seq_cls(&config, &hf_home, &server, true, None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(server.request_count(), before);

    // Offline with an empty cache: one clear line, exit 1, no request.
    let out = run_seq_cls(&config, &tmp.path().join("empty-hf"), &server, true, None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("HF_HUB_OFFLINE"), "{stderr}");
    assert_eq!(server.request_count(), before);
}
