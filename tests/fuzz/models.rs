//! Fuzz targets for the files of a model folder, which come from anyone's hub repository: the
//! safetensors header and reader, the `.bin` reader (the zip archive; the state-dict pickle inside a
//! well-formed archive; the legacy format) and `config.json` checked against a checkpoint's index
//! and then built. Seeds are tiny checkpoints saved by transformers (tests/fixtures).
use super::common::{fixture, root, stored_zip};
use super::engine::{accept, one_line_error, Target};
use koelectra_ft::model::heads::SequenceClassifier;
use koelectra_ft::model::source::{self, ModelSource};
use koelectra_ft::model::weights::{safetensors_file, torch_file};
use koelectra_ft::model::HeadKind;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tch::{Device, Tensor};

type Tensors = anyhow::Result<Vec<(String, Tensor)>>;
type Shapes = anyhow::Result<Vec<(String, Vec<i64>)>>;

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn torch_bin(rel: &str) -> Vec<u8> {
    read(root().join("tests/fixtures/torch_bin").join(rel))
}

/// The reader and the index must agree: what the reader accepts, the index lists with the same
/// shapes; the tensors take at most a few times the input's bytes; errors are one line.
fn check_readers(read: Tensors, index: Shapes, input_len: usize) -> Result<(), String> {
    if let Err(e) = &index {
        one_line_error(e, "")?;
    }
    let tensors = match read {
        Ok(tensors) => tensors,
        Err(e) => return one_line_error(&e, ""),
    };
    let index = index.map_err(|e| format!("the reader accepts what the index refuses: {e:#}"))?;
    let mut read_shapes: Vec<(String, Vec<i64>)> = tensors.iter().map(|(n, t)| (n.clone(), t.size())).collect();
    let mut index = index;
    read_shapes.sort();
    index.sort();
    if read_shapes != index {
        return Err(format!("index {index:?} differs from the tensors read {read_shapes:?}"));
    }
    let bytes: usize = tensors
        .iter()
        .map(|(_, t)| t.numel() * t.kind().elt_size_in_bytes())
        .sum();
    if bytes > 4 * input_len + (1 << 20) {
        return Err(format!("{bytes} bytes of tensors from a {input_len}-byte file"));
    }
    accept()
}

fn check_safetensors(bytes: &[u8]) -> Result<(), String> {
    let index = safetensors_file::index_header(bytes, bytes.len() as u64);
    check_readers(safetensors_file::read(bytes), index, bytes.len())
}

fn check_torch_zip(bytes: &[u8]) -> Result<(), String> {
    let read = torch_file::read_zip(Cursor::new(bytes));
    check_readers(read, torch_file::index_zip(Cursor::new(bytes)), bytes.len())
}

fn check_torch_legacy(bytes: &[u8]) -> Result<(), String> {
    check_readers(
        torch_file::read_legacy(bytes),
        torch_file::index_legacy(bytes),
        bytes.len(),
    )
}

/// The entries of the tf4-fp32 zip checkpoint: its data.pkl (a seed) and its storages.
fn zip_entries() -> &'static Vec<(String, Vec<u8>)> {
    static ENTRIES: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    ENTRIES.get_or_init(|| {
        let mut archive = zip::ZipArchive::new(Cursor::new(torch_bin("tf4-fp32/zip.bin"))).unwrap();
        (0..archive.len())
            .map(|i| {
                let mut entry = archive.by_index(i).unwrap();
                let mut data = Vec::new();
                entry.read_to_end(&mut data).unwrap();
                (entry.name().unwrap().into_owned(), data)
            })
            .collect()
    })
}

/// The input as the data.pkl of an otherwise well-formed archive (mutating a pickle inside a zip
/// only breaks its checksum).
fn check_torch_pickle(pickle: &[u8]) -> Result<(), String> {
    let entries: Vec<(&str, &[u8])> = zip_entries()
        .iter()
        .map(|(name, data)| (name.as_str(), if name.ends_with("data.pkl") { pickle } else { data }))
        .collect();
    check_torch_zip(&stored_zip(&entries))
}

/// A model folder per thread and weights format: the tiny discriminator's weights (safetensors, or
/// the legacy `.bin`), with the input as its config.json.
fn model_dir(legacy: bool) -> PathBuf {
    thread_local! {
        static DIRS: (tempfile::TempDir, tempfile::TempDir) = (
            copy_weights(&fixture("discriminator").join("model.safetensors")),
            copy_weights(&fixture("legacy-pickle").join("pytorch_model.bin")),
        );
    }
    DIRS.with(|(st, bin)| if legacy { bin.path() } else { st.path() }.to_path_buf())
}

fn copy_weights(file: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(file, dir.path().join(file.file_name().unwrap())).unwrap();
    dir
}

/// config.json against a checkpoint's index, then the model built: a config that passes the checks
/// must build and load, with no more parameters than the checkpoint (plus a head).
fn check_model_config(bytes: &[u8]) -> Result<(), String> {
    let dir = model_dir(bytes.len() % 2 == 1);
    std::fs::write(dir.join("config.json"), bytes).map_err(|e| e.to_string())?;
    let built = source::build(
        &ModelSource::Dir(dir.clone()),
        HeadKind::SequenceClassification,
        Device::Cpu,
        |p, c| SequenceClassifier::new(p, c, 2),
    );
    match built {
        Ok((vs, _, _)) => {
            let parameters: usize = vs.variables().values().map(Tensor::numel).sum();
            if parameters > 100_000 {
                return Err(format!("{parameters} parameters from a checkpoint of about 22,000"));
            }
            accept()
        }
        Err(e) => one_line_error(&e, ""),
    }
}

fn bytes_of(tokens: &[&[u8]]) -> Vec<Vec<u8>> {
    tokens.iter().map(|t| t.to_vec()).collect()
}

fn safetensors_dictionary() -> Vec<Vec<u8>> {
    let mut tokens = bytes_of(&[
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b"\"dtype\":\"F32\"",
        b"\"F16\"",
        b"\"BF16\"",
        b"\"I64\"",
        b"\"BOOL\"",
        b"\"F64\"",
        b"\"shape\":[",
        b"\"data_offsets\":[",
        b"\"__metadata__\":{}",
        b"0",
        b"-1",
        b"18446744073709551615",
        b"4294967296",
        b"1e99",
    ]);
    tokens.extend([u64::MAX, 1 << 60, 0, 8].map(|n| n.to_le_bytes().to_vec()));
    tokens
}

fn pickle_dictionary() -> Vec<Vec<u8>> {
    bytes_of(&[
        b"(",
        b"t",
        b"\x85",
        b"\x86",
        b"\x87",
        b")",
        b"R",
        b"Q",
        b"q\x00",
        b"h\x00",
        b"h\x01",
        b"r\x00\x00\x00\x00",
        b"j\xff\xff\xff\xff",
        b"\x94",
        b"}",
        b"]",
        b"a",
        b"e",
        b"s",
        b"u",
        b"b",
        b"N",
        b"\x88",
        b"\x89",
        b"K\xff",
        b"M\xff\xff",
        b"J\xff\xff\xff\xff",
        b"\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x7f",
        b"\x8a\x01\xff",
        b"X\xff\xff\xff\x7f",
        b"X\x01\x00\x00\x000",
        b"\x8c\x05torch",
        b"\x93",
        b"ctorch\nFloatStorage\n",
        b"ctorch\nHalfStorage\n",
        b"ctorch\nLongStorage\n",
        b"ctorch._utils\n_rebuild_tensor_v2\n",
        b"ccollections\nOrderedDict\n",
        b"cposix\nsystem\n",
        b"cbuiltins\neval\n",
        b"X\x07\x00\x00\x00storage",
        b".",
        b"\x80\x02",
        b"\x95\x00\x00\x00\x00\x00\x00\x00\x00",
        b"G\x7f\xf0\x00\x00\x00\x00\x00\x00",
        b"0",
        b"1",
        b"2",
    ])
}

fn zip_dictionary() -> Vec<Vec<u8>> {
    let mut tokens = bytes_of(&[
        b"PK\x03\x04",
        b"PK\x01\x02",
        b"PK\x05\x06",
        b"PK\x06\x06",
        b"PK\x06\x07",
        b"\xff\xff\xff\xff",
        b"\x00\x00\x00\x00",
        b"archive/data.pkl",
        b"archive/data/0",
        b"archive/byteorder",
        b"little",
        b"big",
    ]);
    tokens.extend(pickle_dictionary());
    tokens
}

fn config_dictionary() -> Vec<Vec<u8>> {
    bytes_of(&[
        b"\"vocab_size\"",
        b"\"num_hidden_layers\"",
        b"\"hidden_size\"",
        b"\"intermediate_size\"",
        b"\"embedding_size\"",
        b"\"max_position_embeddings\"",
        b"\"type_vocab_size\"",
        b"\"pad_token_id\"",
        b"\"num_attention_heads\"",
        b"\"hidden_act\"",
        b"\"gelu\"",
        b"\"model_type\"",
        b"\"electra\"",
        b"\"bert\"",
        b"\"layer_norm_eps\"",
        b"\"architectures\"",
        b"\"id2label\"",
        b"1000000000000",
        b"200000",
        b"-1",
        b"0",
        b"1e308",
        b"NaN",
        b"127",
        b"24",
        b"32",
        b"48",
        b"64",
        b"2",
        b":",
        b",",
        b"{",
        b"}",
        b"null",
        b"true",
        b"\"",
    ])
}

fn safetensors_seeds() -> Vec<Vec<u8>> {
    vec![
        read(fixture("discriminator").join("model.safetensors")),
        torch_bin("tf4-bf16/expected.safetensors"),
        torch_bin("views/expected.safetensors"),
    ]
}

fn zip_seeds() -> Vec<Vec<u8>> {
    vec![
        torch_bin("tf4-fp32/zip.bin"),
        torch_bin("tf5-fp16/zip.bin"),
        torch_bin("views/zip.bin"),
    ]
}

fn pickle_seeds() -> Vec<Vec<u8>> {
    let pickle = zip_entries().iter().find(|(name, _)| name.ends_with("data.pkl"));
    vec![pickle.expect("data.pkl").1.clone()]
}

fn legacy_seeds() -> Vec<Vec<u8>> {
    vec![
        torch_bin("tf4-fp32/legacy.bin"),
        torch_bin("tf5-bf16/legacy.bin"),
        torch_bin("views/legacy.bin"),
    ]
}

fn config_seeds() -> Vec<Vec<u8>> {
    ["discriminator", "seq-cls-3", "qa"]
        .iter()
        .map(|name| read(fixture(name).join("config.json")))
        .collect()
}

pub fn targets() -> Vec<Target> {
    vec![
        Target {
            name: "safetensors",
            seeds: safetensors_seeds,
            dictionary: safetensors_dictionary,
            check: check_safetensors,
        },
        Target {
            name: "torch_zip",
            seeds: zip_seeds,
            dictionary: zip_dictionary,
            check: check_torch_zip,
        },
        Target {
            name: "torch_pickle",
            seeds: pickle_seeds,
            dictionary: pickle_dictionary,
            check: check_torch_pickle,
        },
        Target {
            name: "torch_legacy",
            seeds: legacy_seeds,
            dictionary: pickle_dictionary,
            check: check_torch_legacy,
        },
        Target {
            name: "model_config",
            seeds: config_seeds,
            dictionary: config_dictionary,
            check: check_model_config,
        },
    ]
}
