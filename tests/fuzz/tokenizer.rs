//! Fuzz targets for the tokenizer files of a model folder: `vocab.txt` and `tokenizer.json`, each
//! with an optional `tokenizer_config.json` (the input's bytes after its first 0xff), and a
//! SentencePiece `.model` (KoBERT's and XLM-R's, read by our own protobuf reader and converted for
//! the `tokenizers` crate), and KoBERT's `vocab.txt` beside its `.model`. A tokenizer that loads must encode text to ids it knows.
use super::common::{fixture, root, shared};
use super::engine::{accept, one_line_error, Target};
use koelectra_ft::text::{self, Tokenizer, WordPieceTokenizer, XlmRobertaTokenizer};
use std::path::{Path, PathBuf};

/// A folder per thread that holds the files under test.
fn folder() -> PathBuf {
    thread_local! {
        static DIR: tempfile::TempDir = tempfile::tempdir().unwrap();
    }
    DIR.with(|dir| dir.path().to_path_buf())
}

/// Writes `file` (and `tokenizer_config.json` from the bytes after the first 0xff) into `dir`,
/// loads the folder's tokenizer and encodes with it.
fn check_files(dir: &Path, bytes: &[u8], file: &str) -> Result<(), String> {
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
    if loads_and_encodes(dir, text::load_dir)? {
        accept()?;
    }
    Ok(())
}

/// Loads `dir` with `load`: a tokenizer that loads must encode, an error must be one line naming
/// `dir`. True when it loaded.
fn loads_and_encodes(dir: &Path, load: fn(&Path) -> anyhow::Result<Box<dyn Tokenizer>>) -> Result<bool, String> {
    match load(dir) {
        Ok(tokenizer) => encodes(tokenizer.as_ref()).map(|()| true),
        Err(e) => one_line_error(&e, &dir.display().to_string()).map(|()| false),
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
    check_files(&folder(), bytes, "vocab.txt")
}

fn check_tokenizer_json(bytes: &[u8]) -> Result<(), String> {
    check_files(&folder(), bytes, "tokenizer.json")
}

/// A `.model` file as XLM-R's `sentencepiece.bpe.model` (the fast tokenizer, converted from it as
/// transformers converts it, and the slow one) and as KoBERT's model beside the fixture's
/// `vocab.txt`.
fn check_sentencepiece_model(bytes: &[u8]) -> Result<(), String> {
    let write = |dir: &Path, name: &str, bytes: &[u8]| {
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(dir.join(name), bytes))
            .map_err(|e| e.to_string())
    };
    let xlmr = folder().join("xlmr");
    write(&xlmr, "sentencepiece.bpe.model", bytes)?;
    let fast = loads_and_encodes(&xlmr, text::load_dir)?;
    let slow = loads_and_encodes(&xlmr, text::load_dir_xlmr_slow)?;
    let kobert = folder().join("kobert");
    if !kobert.join("vocab.txt").is_file() {
        let vocab = std::fs::read(sp_fixture("kobert/vocab.txt")).map_err(|e| e.to_string())?;
        write(&kobert, "vocab.txt", &vocab)?;
    }
    write(&kobert, "tokenizer_78b3253a26.model", bytes)?;
    let kobert = loads_and_encodes(&kobert, text::load_dir)?;
    if fast || slow || kobert {
        accept()?;
    }
    Ok(())
}

/// KoBERT's `vocab.txt` (and `tokenizer_config.json` from the bytes after the first 0xff) beside
/// the fixture's SentencePiece model: the ids of the pieces and special tokens come from it.
fn check_kobert_vocab(bytes: &[u8]) -> Result<(), String> {
    let dir = folder().join("kobert_vocab");
    let model = dir.join("tokenizer_78b3253a26.model");
    if !model.is_file() {
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::copy(sp_fixture("kobert/tokenizer_78b3253a26.model"), &model))
            .map_err(|e| e.to_string())?;
    }
    check_files(&dir, bytes, "vocab.txt")
}

/// KoBERT's fixture `vocab.txt`, alone and with a `tokenizer_config.json` of its options.
fn kobert_vocab_seeds() -> Vec<Vec<u8>> {
    let vocab = std::fs::read(sp_fixture("kobert/vocab.txt")).unwrap();
    let mut with_config = vocab.clone();
    with_config.extend(b"\xff{\"do_lower_case\": true, \"remove_space\": false, \"keep_accents\": true}");
    vec![vocab, with_config]
}

/// A file of tests/fixtures/sp (SentencePiece models trained by scripts/make_sp_fixtures.py).
fn sp_fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/sp").join(name)
}

/// KoBERT's model (nmt_nfkc: a precompiled charsmap) and two small identity-normalized ones (one
/// with user-defined symbols, one without the dummy prefix).
fn sentencepiece_seeds() -> Vec<Vec<u8>> {
    ["kobert/tokenizer_78b3253a26.model", "udf.model", "raw.model"]
        .iter()
        .map(|name| std::fs::read(sp_fixture(name)).unwrap())
        .collect()
}

/// Protobuf keys of `ModelProto` and its messages (field number << 3 | wire type), varint and
/// float edge cases, and piece strings.
fn protobuf_dictionary() -> Vec<Vec<u8>> {
    let keys = [
        0x0a, // pieces / SentencePiece.piece / TrainerSpec.input / NormalizerSpec.name
        0x12, // trainer_spec / NormalizerSpec.precompiled_charsmap
        0x1a, // normalizer_spec
        0x15, // SentencePiece.score (fixed32)
        0x18, // SentencePiece.type / TrainerSpec.model_type / NormalizerSpec.add_dummy_prefix
        0x20, // NormalizerSpec.remove_extra_whitespaces
        0x28, // NormalizerSpec.escape_whitespaces
    ];
    let mut all: Vec<Vec<u8>> = keys.iter().map(|&k| vec![k]).collect();
    all.extend([
        vec![0x18, 0x02], // type UNKNOWN
        vec![0x18, 0x04], // type USER_DEFINED
        vec![0x18, 0x06], // type BYTE
        vec![0xff; 10],   // the longest varint
        vec![0x80; 11],   // a varint that never ends
        vec![0x0a, 0x7f], // a field longer than what follows
        f32::NAN.to_le_bytes().to_vec(),
        f32::INFINITY.to_le_bytes().to_vec(),
        f32::MIN.to_le_bytes().to_vec(),
    ]);
    all.extend(["\u{2581}", "<unk>", "<s>", "</s>", "<pad>", "[UNK]", "가", "\u{0}"].map(|t| t.as_bytes().to_vec()));
    all
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

/// tokenizer.json as this tool saves it (the HF fast tokenizer's format): WordPiece, and XLM-R's
/// Unigram as transformers converts a small `.model` (identity-normalized, so no charsmap).
fn tokenizer_json_seeds() -> Vec<Vec<u8>> {
    let tokenizer = WordPieceTokenizer::from_vocab_file(&fixture("vocab.txt"), false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    tokenizer.save(dir.path()).unwrap();
    let json = std::fs::read(dir.path().join("tokenizer.json")).unwrap();
    let mut with_config = json.clone();
    with_config.extend(config_suffix());
    let model = std::fs::read(sp_fixture("udf.model")).unwrap();
    let unigram = XlmRobertaTokenizer::converted_tokenizer_json(&model).unwrap();
    vec![json, with_config, unigram.to_string().into_bytes()]
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
        "\"unk_id\"",
        "\"Precompiled\"",
        "\"precompiled_charsmap\"",
        "\"Metaspace\"",
        "\"Sequence\"",
        "\"normalizers\"",
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
        Target {
            name: "sentencepiece_model",
            seeds: sentencepiece_seeds,
            dictionary: protobuf_dictionary,
            check: check_sentencepiece_model,
        },
        Target {
            name: "kobert_vocab",
            seeds: kobert_vocab_seeds,
            dictionary,
            check: check_kobert_vocab,
        },
    ]
}
