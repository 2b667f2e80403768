//! Fuzz targets for the tokenizer files of a model folder: `vocab.txt` and `tokenizer.json`, each
//! with an optional `tokenizer_config.json` (the input's bytes after its first 0xff). A tokenizer
//! that loads must encode text to ids it knows.
use super::common::{fixture, shared};
use super::engine::{accept, one_line_error, Target};
use koelectra_ft::text::{self, Tokenizer, WordPieceTokenizer};
use std::path::PathBuf;

/// A folder per thread that holds the files under test.
fn folder() -> PathBuf {
    thread_local! {
        static DIR: tempfile::TempDir = tempfile::tempdir().unwrap();
    }
    DIR.with(|dir| dir.path().to_path_buf())
}

/// Writes `file` (and `tokenizer_config.json` from the bytes after the first 0xff), loads the
/// folder's tokenizer and encodes with it.
fn check_files(bytes: &[u8], file: &str) -> Result<(), String> {
    let dir = folder();
    for name in ["vocab.txt", "tokenizer.json", "tokenizer_config.json"] {
        let _ = std::fs::remove_file(dir.join(name));
    }
    let (main, config) = match bytes.iter().position(|&b| b == 0xff) {
        Some(i) => (&bytes[..i], Some(&bytes[i + 1..])),
        None => (bytes, None),
    };
    std::fs::write(dir.join(file), main).map_err(|e| e.to_string())?;
    if let Some(config) = config {
        std::fs::write(dir.join("tokenizer_config.json"), config).map_err(|e| e.to_string())?;
    }
    match text::load_dir(&dir) {
        Ok(tokenizer) => {
            accept()?;
            encodes(tokenizer.as_ref())
        }
        Err(e) => one_line_error(&e, &dir.display().to_string()),
    }
}

/// Encoding Korean, English and special-token text gives known ids or a one-line error.
fn encodes(tokenizer: &dyn Tokenizer) -> Result<(), String> {
    let known = |ids: &[i64]| match ids.iter().find(|&&id| tokenizer.id_to_token(id).is_none()) {
        Some(id) => Err(format!("id {id} has no token")),
        None => Ok(()),
    };
    let text = "영화가 정말 재미있다! The movie [UNK] ##가 [SEP]";
    match tokenizer.encode(text, Some("배우 연기 good"), 32) {
        Ok(encoded) => known(&encoded.ids)?,
        Err(e) => one_line_error(&e, "")?,
    }
    match tokenizer.encode_words(&["영화", "", "movie!!"]) {
        Ok(words) => words.iter().try_for_each(|ids| known(ids))?,
        Err(e) => one_line_error(&e, "")?,
    }
    match tokenizer.encode_offsets(text) {
        Ok(pieces) => {
            let chars = text.chars().count();
            if let Some((_, span)) = pieces.iter().find(|(_, (s, e))| s > e || *e > chars) {
                return Err(format!("offsets {span:?} outside {chars} chars"));
            }
        }
        Err(e) => one_line_error(&e, "")?,
    }
    Ok(())
}

fn check_vocab_txt(bytes: &[u8]) -> Result<(), String> {
    check_files(bytes, "vocab.txt")
}

fn check_tokenizer_json(bytes: &[u8]) -> Result<(), String> {
    check_files(bytes, "tokenizer.json")
}

fn config_suffix() -> Vec<u8> {
    b"\xff{\"do_lower_case\": false, \"model_max_length\": 512}".to_vec()
}

fn vocab_seeds() -> Vec<Vec<u8>> {
    let small = std::fs::read(fixture("vocab.txt")).unwrap();
    let real = std::fs::read_to_string(shared("vocab/koelectra-v3-vocab.txt")).unwrap();
    let head: String = real.split_inclusive('\n').take(1500).collect();
    let mut with_config = small.clone();
    with_config.extend(config_suffix());
    vec![small, head.into_bytes(), with_config]
}

/// tokenizer.json as this tool saves it (the HF fast tokenizer's format).
fn tokenizer_json_seeds() -> Vec<Vec<u8>> {
    let tokenizer = WordPieceTokenizer::from_vocab_file(&fixture("vocab.txt"), false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    tokenizer.save(dir.path()).unwrap();
    let json = std::fs::read(dir.path().join("tokenizer.json")).unwrap();
    let mut with_config = json.clone();
    with_config.extend(config_suffix());
    vec![json, with_config]
}

fn dictionary() -> Vec<Vec<u8>> {
    [
        "\n",
        "\r\n",
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        "##",
        "가",
        "\u{0}",
        "\u{feff}",
        "\"",
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "null",
        "true",
        "-1",
        "4294967296",
        "\"vocab\"",
        "\"model\"",
        "\"normalizer\"",
        "\"pre_tokenizer\"",
        "\"post_processor\"",
        "\"decoder\"",
        "\"type\"",
        "\"WordPiece\"",
        "\"BPE\"",
        "\"Unigram\"",
        "\"BertNormalizer\"",
        "\"Replace\"",
        "\"Split\"",
        "\"Regex\"",
        "\"pattern\"",
        "\"added_tokens\"",
        "\"id\"",
        "\"content\"",
        "\"max_input_chars_per_word\"",
        "\"continuing_subword_prefix\"",
        "\"unk_token\"",
        "\"do_lower_case\"",
        "\"lowercase\"",
        "\"truncation\"",
        "\"padding\"",
    ]
    .iter()
    .map(|t| t.as_bytes().to_vec())
    .chain([vec![0xff], vec![0x80], vec![0xc3]])
    .collect()
}

pub fn targets() -> Vec<Target> {
    vec![
        Target {
            name: "vocab_txt",
            seeds: vocab_seeds,
            dictionary,
            check: check_vocab_txt,
        },
        Target {
            name: "tokenizer_json",
            seeds: tokenizer_json_seeds,
            dictionary,
            check: check_tokenizer_json,
        },
    ]
}
