//! Hostile or corrupt model folders, run through the CLI as a user would: every one gets exit 1 and
//! one error line naming the file and what is wrong, with no panic, within seconds (a hang is killed
//! after 60 s) and bounded memory (peak RSS below 1.5 GiB; libtorch alone takes about 0.5).
use super::common::{binary, demo_run_args, fixture, one_child_at_a_time, root, stored_zip, text};
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tch::{Device, Kind, Tensor};

const HANG: Duration = Duration::from_secs(60);
const MAX_RSS_MIB: i64 = 1536;

/// What a run ended with.
struct Outcome {
    code: Option<i32>,
    signal: Option<i32>,
    stderr: String,
    rss_mib: i64,
}

/// The templated fixture's run (tests/fixtures/templated.json) on the model folder `model`, its tokenizer
/// from the folder.
// The child is reaped by wait4, which also reports its peak RSS; clippy only knows Child::wait.
#[allow(clippy::zombie_processes)]
fn run_on(model: &Path) -> Outcome {
    let _one = one_child_at_a_time();
    let out = tempfile::tempdir().unwrap();
    let sets = [
        format!("model_name_or_path={}", model.display()),
        format!("ckpt_dir={}", out.path().display()),
        "vocab_file=null".to_string(),
        "max_steps=1".to_string(),
    ];
    let mut child = binary()
        .args(demo_run_args(&sets))
        .current_dir(root())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let pid = child.id() as libc::pid_t;
    let (status, rss_mib) = loop {
        let mut status = 0;
        // SAFETY: a zeroed rusage is valid; wait4 fills it for our own child.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let done = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if done == pid {
            break (std::process::ExitStatus::from_raw(status), usage.ru_maxrss / 1024);
        }
        if started.elapsed() > HANG {
            child.kill().ok();
            child.wait().ok();
            panic!("{}: still running after {HANG:?}", model.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = Vec::new();
    child.stderr.take().unwrap().read_to_end(&mut stderr).unwrap();
    Outcome {
        code: status.code(),
        signal: status.signal(),
        stderr: text(&stderr),
        rss_mib,
    }
}

/// Exit 1, one `error:` line naming `file` and containing `what`, no panic, bounded memory.
fn assert_clean_error(model: &Path, file: &str, what: &str) {
    let outcome = run_on(model);
    let stderr = outcome.stderr.trim_end();
    assert_eq!(outcome.signal, None, "killed by signal: {stderr}");
    assert_eq!(outcome.code, Some(1), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "more than one line:\n{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains(&model.join(file).display().to_string()),
        "does not name {file}: {stderr}"
    );
    assert!(stderr.contains(what), "does not say {what:?}: {stderr}");
    assert!(
        outcome.rss_mib < MAX_RSS_MIB,
        "peak RSS {} MiB: {stderr}",
        outcome.rss_mib
    );
    eprintln!("{} MiB, {stderr}", outcome.rss_mib);
}

/// A model folder: the tiny discriminator's config.json and vocab.txt, and `weights` (file name,
/// bytes) as its only weights file.
fn model_dir(weights: (&str, Vec<u8>)) -> tempfile::TempDir {
    model_dir_of("discriminator", weights)
}

/// A model folder with the config.json of fixture `base`.
fn model_dir_of(base: &str, weights: (&str, Vec<u8>)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture(base).join("config.json"), dir.path().join("config.json")).unwrap();
    std::fs::copy(fixture("vocab.txt"), dir.path().join("vocab.txt")).unwrap();
    std::fs::write(dir.path().join(weights.0), weights.1).unwrap();
    dir
}

fn safetensors() -> (&'static str, Vec<u8>) {
    (
        "model.safetensors",
        std::fs::read(fixture("discriminator").join("model.safetensors")).unwrap(),
    )
}

/// Edits the folder's config.json: `key` set to `value`.
fn set_config(dir: &Path, key: &str, value: serde_json::Value) {
    let path = dir.join("config.json");
    let mut config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    config[key] = value;
    std::fs::write(path, config.to_string()).unwrap();
}

/// A zip archive as torch.save writes it, with `pickle` as its data.pkl and no storages.
fn torch_zip(pickle: &[u8]) -> Vec<u8> {
    stored_zip(&[("archive/data.pkl", pickle), ("archive/version", b"3\n")])
}

/// A pickle that runs `os.system("touch /tmp/pwned")` when Python unpickles it.
const OS_SYSTEM: &[u8] = b"\x80\x02cposix\nsystem\nX\x10\x00\x00\x00touch /tmp/pwned\x85R.";

#[test]
fn random_bytes_after_a_zip_signature_are_refused() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut bytes = b"PK\x03\x04".to_vec();
    bytes.extend((0..5000).map(|_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u8
    }));
    let dir = model_dir(("pytorch_model.bin", bytes));
    assert_clean_error(dir.path(), "pytorch_model.bin", "not a readable zip archive");
}

#[test]
fn a_trillion_token_vocab_is_refused_before_allocating() {
    let dir = model_dir(safetensors());
    set_config(dir.path(), "vocab_size", serde_json::json!(1_000_000_000_000i64));
    assert_clean_error(
        dir.path(),
        "config.json",
        "\"vocab_size\" is 1000000000000, but the checkpoint has 127",
    );
}

#[test]
fn two_hundred_thousand_layers_on_tiny_weights_are_refused() {
    let dir = model_dir(safetensors());
    set_config(dir.path(), "num_hidden_layers", serde_json::json!(200_000));
    assert_clean_error(
        dir.path(),
        "config.json",
        "\"num_hidden_layers\" is 200000, but the checkpoint has 2",
    );
}

#[test]
fn a_pickle_that_imports_os_system_is_refused_in_one_line() {
    let dir = model_dir(("pytorch_model.bin", torch_zip(OS_SYSTEM)));
    assert_clean_error(dir.path(), "pytorch_model.bin", "refusing to import posix.system");
    // The same in the legacy format: magic number, protocol 1001, system info, then the payload.
    let mut legacy = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.\x80\x02M\xe9\x03.\x80\x02}.".to_vec();
    legacy.extend(OS_SYSTEM);
    let dir = model_dir(("pytorch_model.bin", legacy));
    assert_clean_error(dir.path(), "pytorch_model.bin", "refusing to import posix.system");
    assert!(!Path::new("/tmp/pwned").exists());
}

#[test]
fn a_truncated_bin_is_refused() {
    let zip = std::fs::read(fixture("seq-cls-3").join("pytorch_model.bin")).unwrap();
    let dir = model_dir_of("seq-cls-3", ("pytorch_model.bin", zip[..zip.len() / 2].to_vec()));
    assert_clean_error(dir.path(), "pytorch_model.bin", "not a readable zip archive");
    // The legacy format keeps its storages after the pickles: the index reads, the data is short.
    let legacy = std::fs::read(fixture("legacy-pickle").join("pytorch_model.bin")).unwrap();
    let dir = model_dir_of(
        "legacy-pickle",
        ("pytorch_model.bin", legacy[..legacy.len() - 100].to_vec()),
    );
    assert_clean_error(dir.path(), "pytorch_model.bin", "truncated");
}

#[test]
fn a_safetensors_header_length_of_2_pow_60_is_refused() {
    let (name, mut bytes) = safetensors();
    bytes[..8].copy_from_slice(&(1u64 << 60).to_le_bytes());
    let dir = model_dir((name, bytes));
    assert_clean_error(dir.path(), name, "header length 1152921504606846976");
}

#[test]
fn a_truncated_safetensors_is_refused() {
    let (name, bytes) = safetensors();
    let dir = model_dir((name, bytes[..bytes.len() - 64].to_vec()));
    assert_clean_error(dir.path(), name, "truncated");
}

#[test]
fn a_tensor_of_the_wrong_shape_is_refused() {
    let dir = model_dir(safetensors());
    let path = dir.path().join("model.safetensors");
    let mut tensors = Tensor::read_safetensors(&path).unwrap();
    let name = "electra.encoder.layer.1.output.dense.weight";
    let slot = tensors.iter_mut().find(|(n, _)| n == name).unwrap();
    slot.1 = Tensor::zeros([32, 40], (Kind::Float, Device::Cpu));
    Tensor::write_safetensors(&tensors, &path).unwrap();
    assert_clean_error(
        dir.path(),
        "model.safetensors",
        "has shape [32, 40] in the checkpoint but the model expects [32, 48]",
    );
}

#[test]
fn a_binary_vocab_txt_is_refused() {
    let dir = model_dir(safetensors());
    std::fs::write(dir.path().join("vocab.txt"), b"[PAD]\n\xff\xfe\x00\x81\n[UNK]\n").unwrap();
    assert_clean_error(dir.path(), "vocab.txt", "not UTF-8");
}

#[test]
fn negative_sizes_are_refused() {
    let dir = model_dir(safetensors());
    set_config(dir.path(), "hidden_size", serde_json::json!(-32));
    assert_clean_error(dir.path(), "config.json", "hidden_size must be positive, got -32");
}

#[test]
fn a_tensor_view_past_its_storage_is_refused() {
    // torch.save's persistent id for a 4-element float storage, and a tensor of 3 x 2 at offset 1.
    let pickle = b"\x80\x02}X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n(\
        (X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQ\
        K\x01K\x03K\x02\x86K\x02K\x01\x86\x89}tRs.";
    let zip = stored_zip(&[("archive/data.pkl", pickle.as_slice()), ("archive/data/0", &[0u8; 16])]);
    let dir = model_dir(("pytorch_model.bin", zip));
    assert_clean_error(dir.path(), "pytorch_model.bin", "tensor w");
}

/// Protobuf's length-delimited field `number` holding `data`.
fn proto_field(number: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![number << 3 | 2];
    let mut len = data.len();
    while len >= 0x80 {
        out.push((len & 0x7f) as u8 | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
    out.extend_from_slice(data);
    out
}

/// An XLM-R folder whose `sentencepiece.bpe.model` carries a charsmap (the normalizer's trie)
/// that leads outside itself after the first byte of a Hangul syllable: the `tokenizers` crate,
/// which XLM-R's fast tokenizer runs on, indexed past the array at the first Korean text.
#[test]
fn a_sentencepiece_charsmap_that_leads_outside_its_trie_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let family = root().join("tests/fixtures/families/xlm-roberta-seq-cls");
    for file in ["config.json", "pytorch_model.bin"] {
        std::fs::copy(family.join(file), dir.path().join(file)).unwrap();
    }
    let mut units = vec![0u32; 256];
    units[0xEA] = 0xEA | 1 << 16 << 10;
    let mut charsmap = 1024u32.to_le_bytes().to_vec();
    charsmap.extend(units.iter().flat_map(|u| u.to_le_bytes()));
    // A second normalizer_spec (field 3) holding only precompiled_charsmap (its field 2), which
    // protobuf merges into the model's own.
    let mut model = std::fs::read(root().join("tests/fixtures/sp/udf.model")).unwrap();
    model.extend(proto_field(3, &proto_field(2, &charsmap)));
    std::fs::write(dir.path().join("sentencepiece.bpe.model"), model).unwrap();
    assert_clean_error(
        dir.path(),
        "sentencepiece.bpe.model",
        "the trie reaches unit 65771 of 256",
    );
}

/// Everything above, without a model folder: `model_config` alone asking for 10^13 parameters.
#[test]
fn model_config_above_the_parameter_cap_is_refused() {
    let _one = one_child_at_a_time();
    let out = tempfile::tempdir().unwrap();
    let run = binary()
        .args(demo_run_args(&[
            format!("ckpt_dir={}", out.path().display()),
            "model_config={\"vocab_size\": 100000000000, \"hidden_size\": 128, \"num_attention_heads\": 2}".into(),
        ]))
        .current_dir(root())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("config key \"model_config\" describes a model of 1.28e13 parameters"),
        "{stderr}"
    );
}
