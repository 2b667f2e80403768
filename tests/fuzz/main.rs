//! Fuzz targets for every parser of untrusted input: the run config and the data files
//! ([`data`]), the model files of a hub repository ([`models`]) and its tokenizer files
//! ([`tokenizer`]).
//!
//! Inputs come from proptest strategies: real files (configs, the first lines of the benchmark
//! files, a cut of KorQuAD, tiny checkpoints saved by transformers, vocabularies) with random
//! mutations (byte flips, inserted separators and hostile tokens, deleted, duplicated or truncated
//! spans), token soups and raw bytes. Every input must give `Ok` with sane contents or a one-line
//! error, never a panic, within a time budget and a heap bound ([`engine::run_check`]).
//!
//! Each target runs for `FUZZ_SECONDS` (default 2) from seed `FUZZ_SEED` (default 0);
//! `scripts/fuzz.sh` runs them for minutes. A failing input is written to
//! `target/fuzz-failures/<target>-<n>.bin`; once fixed, it goes to `tests/fuzz_regressions/<target>/`,
//! which `regressions_stay_fixed` replays.
#![allow(clippy::disallowed_methods)] // tests read tensors directly (clippy.toml)
#[path = "../common/mod.rs"]
mod common;
mod data;
mod engine;
mod heap;
mod models;
mod tokenizer;

use common::root;
use engine::{apply, fuzz, run_check, Mutation, Target};

fn targets() -> Vec<Target> {
    let mut all = data::targets();
    all.extend(models::targets());
    all.extend(tokenizer::targets());
    all
}

fn target(name: &str) -> Target {
    targets().into_iter().find(|t| t.name == name).expect("known target")
}

macro_rules! fuzz_tests {
    ($($test:ident: $name:literal,)*) => {
        $(
            #[test]
            fn $test() {
                assert!(fuzz(&target($name)) > 0);
            }
        )*
    };
}

fuzz_tests! {
    fuzz_config: "config",
    fuzz_seq_cls_tsv: "seq_cls_tsv",
    fuzz_ner_tsv: "ner_tsv",
    fuzz_squad_json: "squad_json",
    fuzz_safetensors: "safetensors",
    fuzz_torch_zip: "torch_zip",
    fuzz_torch_pickle: "torch_pickle",
    fuzz_torch_legacy: "torch_legacy",
    fuzz_model_config: "model_config",
    fuzz_vocab_txt: "vocab_txt",
    fuzz_tokenizer_json: "tokenizer_json",
    fuzz_sentencepiece_model: "sentencepiece_model",
    fuzz_kobert_vocab: "kobert_vocab",
}

/// Every target has its test above.
#[test]
fn every_target_is_fuzzed() {
    let source = std::fs::read_to_string(root().join("tests/fuzz/main.rs")).unwrap();
    for t in targets() {
        assert!(
            source.contains(&format!(": \"{}\",", t.name)),
            "no test fuzzes {}",
            t.name
        );
    }
}

/// Every input that once crashed a target (committed under tests/fuzz_regressions/<target>/).
#[test]
fn regressions_stay_fixed() {
    let mut replayed = 0;
    for t in targets() {
        let dir = root().join("tests/fuzz_regressions").join(t.name);
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            let input = std::fs::read(&path).unwrap();
            if let Err(why) = run_check(&t, &input) {
                panic!("{}: {why}", path.display());
            }
            replayed += 1;
        }
    }
    eprintln!("replayed {replayed} regression input(s)");
}

/// The mutator itself: edits stay in bounds on empty and short inputs.
#[test]
fn mutations_handle_empty_and_short_inputs() {
    let edits = [
        Mutation::Delete(5, 10),
        Mutation::Duplicate(3, 9),
        Mutation::Flip(7, 3),
        Mutation::Truncate(2),
        Mutation::Insert(99, b"ab".to_vec()),
    ];
    assert_eq!(apply(vec![], &edits), b"ab");
    assert_eq!(apply(b"xyz".to_vec(), &[Mutation::Delete(1, 1)]), b"xz");
    assert_eq!(apply(b"xyz".to_vec(), &[Mutation::Duplicate(0, 2)]), b"xyxyz");
}

fn allocates_100_mib(_: &[u8]) -> Result<(), String> {
    std::hint::black_box(vec![1u8; 100 << 20]);
    Ok(())
}

/// The runner's own contract: a panic, an oversized allocation and a multi-line error all fail.
#[test]
fn the_runner_catches_panics_heap_bombs_and_multi_line_errors() {
    let target = |check| Target {
        name: "self-test",
        seeds: Vec::new,
        dictionary: Vec::new,
        check,
    };
    let panics = run_check(&target(|_| panic!("boom")), b"x").unwrap_err();
    assert!(panics.contains("panic: boom"), "{panics}");
    let bomb = run_check(&target(allocates_100_mib), b"x").unwrap_err();
    assert!(bomb.contains("bytes of heap"), "{bomb}");
    let multi = run_check(&target(|_| engine::one_line_error(&anyhow::anyhow!("a\nb"), "")), b"x").unwrap_err();
    assert!(multi.contains("multi-line"), "{multi}");
    assert!(run_check(&target(|_| Ok(())), b"x").is_ok());
}
