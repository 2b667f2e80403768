//! Size caps for the files of a model folder (downloaded from anyone's hub repository), run configs and
//! `predict`'s input lines: a file or line over its cap is refused before it is read whole, so a hostile
//! folder or a mistaken path (`/dev/zero`) cannot exhaust memory.
use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context, Result};

const MIB: u64 = 1 << 20;
/// `config.json` (a real one is about 1 KB).
pub const MODEL_CONFIG_BYTES: u64 = 16 * MIB;
/// `tokenizer_config.json`, `special_tokens_map.json`, `training_args.json` (about 1 KB).
pub const SMALL_JSON_BYTES: u64 = MIB;
/// `vocab.txt` (KoELECTRA v3: 35,000 tokens, 250 KB; multilingual vocabs: a few MB).
pub const VOCAB_BYTES: u64 = 64 * MIB;
/// Tokens in a `vocab.txt`.
pub const VOCAB_TOKENS: usize = 5_000_000;
/// `tokenizer.json` (XLM-R's: 17 MB).
pub const TOKENIZER_JSON_BYTES: u64 = 256 * MIB;
/// One line of `predict`'s input (a KorQuAD 1.0 context is a few KB; longer contexts only add windows).
pub const INPUT_LINE_BYTES: u64 = 64 * MIB;
/// `predict`'s SQuAD-format JSON input (KorQuAD 1.0's files: 3.9 and 38 MB).
pub const SQUAD_JSON_BYTES: u64 = 1024 * MIB;
/// A run's `summary.json` read by `report` (about 1 KB per saved checkpoint).
pub const SUMMARY_JSON_BYTES: u64 = 256 * MIB;
/// A data file (KorNLI's largest training file: about 80 MB; KorQuAD 1.0's: 38 MB).
pub const DATA_FILE_BYTES: u64 = 4096 * MIB;
/// A run config (`koelectra-base.json` is about 1 KB).
pub const RUN_CONFIG_BYTES: u64 = MIB;
/// The trie of a SentencePiece precompiled charsmap (`nmt_nfkc`'s: 179,200 bytes, checked in 5 ms).
/// Checking it at load costs up to 255 lookups per 4-byte unit: about a third of a second at this
/// cap for the worst layout (every unit a reachable node).
pub const CHARSMAP_TRIE_BYTES: usize = 4 << 20;

/// The bytes of `path`, refused with a one-line error when it is larger than `max` bytes.
pub fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > max {
        bail!("{}: larger than {} bytes; refusing to read it", path.display(), max);
    }
    Ok(bytes)
}

/// The UTF-8 text of `path`, at most `max` bytes.
pub fn read_text_capped(path: &Path, max: u64) -> Result<String> {
    let bytes = read_capped(path, max)?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}
