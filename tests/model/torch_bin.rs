//! The safe-Rust `.bin` reader against `torch.load`: every tensor of checkpoints saved by
//! transformers 4.x and 5.x (fp32, fp16, bf16; tied weights), in the zip and the legacy format, and
//! of hand-made views (transposed, sliced, strided, scalar, empty, int64, bool), bit for bit.
//! Fixtures: scripts/make_torch_bin_fixtures.py.
use super::common::root;
use koelectra_ft::model::weights;
use std::collections::HashMap;
use std::path::Path;
use tch::{Kind, Tensor};

fn torch_bin(case: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/torch_bin").join(case)
}

/// `path` read by our reader equals what torch.load read (expected.safetensors), bit for bit.
fn assert_same_as_torch_load(path: &Path, expected: &Path) {
    let ours: HashMap<String, Tensor> = weights::read_tensors(path)
        .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()))
        .into_iter()
        .collect();
    let torch: HashMap<String, Tensor> = Tensor::read_safetensors(expected).unwrap().into_iter().collect();
    let mut names: Vec<&String> = torch.keys().collect();
    names.sort();
    let mut ours_names: Vec<&String> = ours.keys().collect();
    ours_names.sort();
    assert_eq!(ours_names, names, "{}: tensor names", path.display());
    for name in names {
        let (a, b) = (&ours[name], &torch[name]);
        assert_eq!(a.kind(), b.kind(), "{}: {name} kind", path.display());
        assert_eq!(a.size(), b.size(), "{}: {name} shape", path.display());
        // Bitwise: compare the raw bytes (equal() would call -0.0 and 0.0 equal).
        let bytes = |t: &Tensor| {
            let n = t.numel();
            let mut buf = vec![0u8; n * t.kind().elt_size_in_bytes()];
            t.contiguous().copy_data_u8(&mut buf, n);
            buf
        };
        assert!(
            bytes(a) == bytes(b),
            "{}: {name} differs from torch.load",
            path.display()
        );
    }
}

#[test]
fn bin_reader_matches_torch_load_for_transformers_4_and_5() {
    let mut checked = 0;
    for version in ["tf4", "tf5"] {
        for dtype in ["fp32", "fp16", "bf16"] {
            let dir = torch_bin(&format!("{version}-{dtype}"));
            for file in ["zip.bin", "legacy.bin"] {
                assert_same_as_torch_load(&dir.join(file), &dir.join("expected.safetensors"));
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 12);
}

#[test]
fn tied_weights_read_as_equal_tensors_of_the_right_dtype() {
    for (dtype, kind) in [("fp32", Kind::Float), ("fp16", Kind::Half), ("bf16", Kind::BFloat16)] {
        for file in ["zip.bin", "legacy.bin"] {
            let path = torch_bin(&format!("tf4-{dtype}")).join(file);
            let tensors: HashMap<String, Tensor> = weights::read_tensors(&path).unwrap().into_iter().collect();
            let words = &tensors["electra.embeddings.word_embeddings.weight"];
            let head = &tensors["generator_lm_head.weight"];
            assert_eq!(words.kind(), kind, "{dtype} {file}");
            assert!(words.equal(head), "{dtype} {file}: tied weights differ");
        }
    }
}

#[test]
fn views_offsets_strides_scalars_and_empty_tensors_match_torch_load() {
    let dir = torch_bin("views");
    for file in ["zip.bin", "legacy.bin"] {
        assert_same_as_torch_load(&dir.join(file), &dir.join("expected.safetensors"));
    }
    let tensors: HashMap<String, Tensor> = weights::read_tensors(&dir.join("zip.bin"))
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(tensors["transposed"].size(), [5, 6]);
    assert_eq!(tensors["scalar"].size(), Vec::<i64>::new());
    assert_eq!(tensors["empty"].size(), [0, 4]);
    assert_eq!(tensors["ids"].kind(), Kind::Int64);
    assert_eq!(tensors["mask"].kind(), Kind::Bool);
}
