//! Numeric parity of the encoder, heads and checkpoint loader with Hugging Face `transformers`,
//! against fixtures written by scripts/make_fixtures.py.
#![allow(clippy::disallowed_methods)] // tests read tensors directly (clippy.toml)
#[path = "../common/mod.rs"]
mod common;
mod families;
mod torch_bin;
mod untrusted;

use common::*;
use koelectra_ft::model::electra::{ElectraConfig, FAMILY};
use koelectra_ft::model::heads::*;
use koelectra_ft::model::weights::{self, HeadInfo};
use koelectra_ft::model::{Batch, HeadKind, ModelConfig};
use std::path::{Path, PathBuf};
use tch::{nn::VarStore, Device, Kind, Tensor};

const TOL: f64 = 1e-4;

fn batch(case: &serde_json::Value) -> Batch {
    Batch {
        input_ids: tensor(&case["input_ids"], Kind::Int64),
        attention_mask: tensor(&case["attention_mask"], Kind::Int64),
        token_type_ids: tensor(&case["token_type_ids"], Kind::Int64),
        packing: None,
    }
}

fn electra_config(name: &str) -> ElectraConfig {
    ElectraConfig::from_file(&fixture(name).join("config.json")).unwrap()
}

fn config(name: &str) -> ModelConfig {
    ModelConfig::from_file(&fixture(name).join("config.json")).unwrap()
}

fn load(vs: &VarStore, name: &str, head: HeadKind) -> weights::LoadReport {
    let file = weights::weights_file(&fixture(name)).unwrap();
    weights::load_weights(vs, &file, &FAMILY, head.prefixes()).unwrap()
}

/// A case's weights file and its copies in the two other formats (formats/): every parity test runs
/// on safetensors, the zip `.bin` and the legacy `.bin`.
fn weight_files(name: &str) -> Vec<PathBuf> {
    let mut files = vec![weights::weights_file(&fixture(name)).unwrap()];
    let mut others: Vec<PathBuf> = std::fs::read_dir(fixture(name).join("formats"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    others.sort();
    files.extend(others);
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into())
        .collect();
    assert!(names.iter().any(|n| n.ends_with(".safetensors")), "{names:?}");
    assert!(names.contains(&"pytorch_model.bin".to_string()) && names.contains(&"legacy.bin".to_string()));
    files
}

fn load_file(vs: &VarStore, file: &Path, head: HeadKind) -> weights::LoadReport {
    weights::load_weights(vs, file, &FAMILY, head.prefixes()).unwrap_or_else(|e| panic!("{}: {e:#}", file.display()))
}

fn seq_cls_parity(name: &str, num_labels: i64) {
    let case = read_json(&fixture(name).join("expected.json"));
    for file in weight_files(name) {
        let vs = VarStore::new(Device::Cpu);
        let model = SequenceClassifier::new(&vs.root(), &config(name), num_labels).unwrap();
        let report = load_file(&vs, &file, HeadKind::SequenceClassification);
        assert!(report.fresh.is_empty(), "fresh: {:?}", report.fresh);
        // Packed, the dense layers skip the padding; the logits are the same.
        for packed in [false, true] {
            let batch = if packed { packed_batch(&case) } else { batch(&case) };
            let logits = tch::no_grad(|| model.forward_t(&batch, false));
            let diff = max_abs_diff(&logits, &tensor(&case["logits"], Kind::Float));
            assert!(
                diff < TOL,
                "{} (packed {packed}): logits differ from HF by {diff}",
                file.display()
            );
        }
        let logits = tch::no_grad(|| model.forward_t(&packed_batch(&case), false));
        let label_kind = if num_labels == 1 { Kind::Float } else { Kind::Int64 };
        let loss = model
            .loss(&logits, &tensor(&case["labels"], label_kind))
            .double_value(&[]);
        let hf_loss = case["loss"].as_f64().unwrap();
        assert!(
            (loss - hf_loss).abs() < TOL,
            "{}: loss {loss} vs HF {hf_loss}",
            file.display()
        );
    }
}

#[test]
fn sequence_classification_from_pytorch_bin_matches_hf() {
    assert!(fixture("seq-cls-3").join("pytorch_model.bin").exists());
    seq_cls_parity("seq-cls-3", 3);
}

#[test]
fn regression_head_matches_hf() {
    seq_cls_parity("seq-cls-regression", 1);
}

#[test]
fn token_classification_matches_hf() {
    let case = read_json(&fixture("token-cls").join("expected.json"));
    for file in weight_files("token-cls") {
        let vs = VarStore::new(Device::Cpu);
        let model = TokenClassifier::new(&vs.root(), &config("token-cls"), 5).unwrap();
        load_file(&vs, &file, HeadKind::TokenClassification);
        // Packed, the padding's logits are zeros (HF's loss ignores them, label -100).
        for packed in [false, true] {
            let batch = if packed { packed_batch(&case) } else { batch(&case) };
            let logits = tch::no_grad(|| model.forward_t(&batch, false));
            let mask = batch.attention_mask.unsqueeze(-1);
            let diff = max_abs_diff(&(&logits * &mask), &(tensor(&case["logits"], Kind::Float) * &mask));
            assert!(
                diff < TOL,
                "{} (packed {packed}): token logits differ from HF by {diff}",
                file.display()
            );
            if !packed {
                let full = max_abs_diff(&logits, &tensor(&case["logits"], Kind::Float));
                assert!(
                    full < TOL,
                    "{}: padding's token logits differ from HF by {full}",
                    file.display()
                );
            }
            let loss = model
                .loss(&logits, &tensor(&case["labels"], Kind::Int64))
                .double_value(&[]);
            assert!(
                (loss - case["loss"].as_f64().unwrap()).abs() < TOL,
                "{} (packed {packed}): token loss {loss}",
                file.display()
            );
        }
    }
}

#[test]
fn question_answering_matches_hf() {
    let case = read_json(&fixture("qa").join("expected.json"));
    for file in weight_files("qa") {
        let vs = VarStore::new(Device::Cpu);
        let model = QuestionAnswerer::new(&vs.root(), &config("qa")).unwrap();
        load_file(&vs, &file, HeadKind::QuestionAnswering);
        let (start, end) = tch::no_grad(|| model.forward_t(&batch(&case), false));
        assert!(
            max_abs_diff(&start, &tensor(&case["start_logits"], Kind::Float)) < TOL,
            "{}",
            file.display()
        );
        assert!(
            max_abs_diff(&end, &tensor(&case["end_logits"], Kind::Float)) < TOL,
            "{}",
            file.display()
        );
        let starts = tensor(&case["start_positions"], Kind::Int64);
        let ends = tensor(&case["end_positions"], Kind::Int64);
        let loss = model.loss(&start, &end, &starts, &ends).double_value(&[]);
        assert!(
            (loss - case["loss"].as_f64().unwrap()).abs() < TOL,
            "{}: qa loss {loss}",
            file.display()
        );
    }
}

/// Packing plans only batches with enough padding, rows that start with a token, and runs that did
/// not ask for deterministic algorithms; its arrays map the real tokens both ways.
#[test]
fn packing_plans_real_tokens_where_it_pays() {
    use koelectra_ft::model::Packing;
    let mask = [1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1];
    let [tokens, spread, firsts] = Packing::plan(&mask, [3, 4]).unwrap();
    assert_eq!(tokens, [0, 1, 2, 4, 5, 8, 9, 10, 11]);
    assert_eq!(spread, [0, 1, 2, 0, 3, 4, 0, 0, 5, 6, 7, 8]);
    assert_eq!(firsts, [0, 3, 5]);
    // One position in eight or more must be padding.
    assert!(Packing::plan(&[1, 1, 1, 1, 1, 1, 1, 1, 0], [1, 9]).is_none());
    assert!(Packing::plan(&[1, 1, 1, 1, 1, 1, 1, 0], [1, 8]).is_some());
    // Left padding, a shape that does not match, and an empty batch are not packed.
    assert!(Packing::plan(&[0, 1, 1, 1, 1, 0], [2, 3]).is_none());
    assert!(Packing::plan(&mask, [2, 4]).is_none());
    assert!(Packing::plan(&[], [0, 4]).is_none());
}

/// `token_packing` decides whether a padded batch carries a packing.
#[test]
fn collate_packs_only_when_asked() {
    use koelectra_ft::infer::{pad_batch, Collate};
    use koelectra_ft::text::Encoded;
    let row = |n: usize| Encoded {
        ids: vec![5; n],
        type_ids: vec![0; n],
        attention_mask: vec![1; n],
    };
    let (long, short) = (row(12), row(3));
    for packing in [false, true] {
        let collate = Collate { pad_id: 0, packing };
        let (batch, _) = pad_batch(&[&long, &short], collate, Default::default(), Device::Cpu).unwrap();
        assert_eq!(batch.packing.is_some(), packing);
        assert_eq!(batch.attention_mask.size(), [2, 12]);
    }
}

#[test]
fn padding_does_not_change_logits() {
    // The same sentence alone and inside a padded batch must give the same logits.
    let case = read_json(&fixture("seq-cls-3").join("expected.json"));
    let vs = VarStore::new(Device::Cpu);
    let model = SequenceClassifier::new(&vs.root(), &config("seq-cls-3"), 3).unwrap();
    load(&vs, "seq-cls-3", HeadKind::SequenceClassification);
    let full = batch(&case);
    let len = full.attention_mask.get(0).sum(Kind::Int64).int64_value(&[]);
    let single = Batch {
        input_ids: full.input_ids.narrow(0, 0, 1).narrow(1, 0, len),
        attention_mask: full.attention_mask.narrow(0, 0, 1).narrow(1, 0, len),
        token_type_ids: full.token_type_ids.narrow(0, 0, 1).narrow(1, 0, len),
        packing: None,
    };
    let (batched, alone) = tch::no_grad(|| (model.forward_t(&full, false), model.forward_t(&single, false)));
    assert!(max_abs_diff(&batched.narrow(0, 0, 1), &alone) < 1e-5);
}

#[test]
fn bare_discriminator_gets_fresh_head_and_reports_extras() {
    let vs = VarStore::new(Device::Cpu);
    let _model = SequenceClassifier::new(&vs.root(), &config("discriminator"), 2).unwrap();
    let report = load(&vs, "discriminator", HeadKind::SequenceClassification);
    let fresh: Vec<&str> = report.fresh.iter().map(String::as_str).collect();
    assert_eq!(
        fresh,
        [
            "classifier.dense.bias",
            "classifier.dense.weight",
            "classifier.out_proj.bias",
            "classifier.out_proj.weight"
        ]
    );
    assert!(report
        .unexpected
        .iter()
        .any(|n| n.starts_with("discriminator_predictions.")));
    // HF init for the fresh head: zero bias, weights with std ≈ initializer_range.
    let vars = vs.variables();
    assert_eq!(
        vars["classifier.out_proj.bias"]
            .abs()
            .sum(Kind::Float)
            .double_value(&[]),
        0.0
    );
    let std = vars["classifier.dense.weight"].std(true).double_value(&[]);
    assert!((std - 0.02).abs() < 0.005, "head init std {std}");
}

#[test]
fn fp16_checkpoint_loads_into_fp32_model() {
    let vs = VarStore::new(Device::Cpu);
    let _model = TokenClassifier::new(&vs.root(), &config("discriminator-fp16"), 3).unwrap();
    load(&vs, "discriminator-fp16", HeadKind::TokenClassification);
    for (name, var) in vs.variables() {
        assert_eq!(var.kind(), Kind::Float, "{name} changed dtype");
    }
    let vs32 = VarStore::new(Device::Cpu);
    let _m = TokenClassifier::new(&vs32.root(), &config("discriminator"), 3).unwrap();
    load(&vs32, "discriminator", HeadKind::TokenClassification);
    let name = "electra.encoder.layer.1.output.dense.weight";
    assert!(max_abs_diff(&vs.variables()[name], &vs32.variables()[name]) < 1e-3);
}

/// The pre-1.6 `torch.save` format (KoELECTRA v1 and v2 on the hub) loads: the same weights as the
/// safetensors copy of the same model (make_fixtures.py saves it from the fp16 discriminator).
#[test]
fn legacy_pickle_loads_the_same_weights_as_safetensors() {
    let vs = VarStore::new(Device::Cpu);
    let _model = SequenceClassifier::new(&vs.root(), &config("legacy-pickle"), 2).unwrap();
    let path = fixture("legacy-pickle").join("pytorch_model.bin");
    weights::load_weights(&vs, &path, &FAMILY, &["classifier."]).unwrap();
    let reference = VarStore::new(Device::Cpu);
    let _m = SequenceClassifier::new(&reference.root(), &config("discriminator-fp16"), 2).unwrap();
    load(&reference, "discriminator-fp16", HeadKind::SequenceClassification);
    let (ours, theirs) = (vs.variables(), reference.variables());
    for (name, var) in &ours {
        if !name.starts_with("classifier.") {
            assert!(var.equal(&theirs[name]), "{name} differs");
        }
    }
}

#[test]
fn shape_mismatch_names_tensor_and_shapes() {
    let mut cfg = electra_config("discriminator");
    cfg.intermediate_size = 40;
    let vs = VarStore::new(Device::Cpu);
    let _model = SequenceClassifier::new(&vs.root(), &cfg.model_config().unwrap(), 2).unwrap();
    let path = weights::weights_file(&fixture("discriminator")).unwrap();
    let err = weights::load_weights(&vs, &path, &FAMILY, &["classifier."])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("intermediate.dense") && err.contains("[48]") && err.contains("[40]"),
        "{err}"
    );
}

#[test]
fn unsupported_activation_is_an_error() {
    let text = std::fs::read_to_string(fixture("discriminator").join("config.json")).unwrap();
    let text = text.replace("\"hidden_act\": \"gelu\"", "\"hidden_act\": \"relu\"");
    let err = ElectraConfig::from_json_str(&text).unwrap_err().to_string();
    assert!(err.contains("relu") && err.contains("gelu"), "{err}");
}

#[test]
fn old_tf_names_and_bare_prefix_are_normalized() {
    assert_eq!(
        weights::normalize_name("embeddings.LayerNorm.gamma", &FAMILY),
        "electra.embeddings.LayerNorm.weight"
    );
    assert_eq!(
        weights::normalize_name("electra.encoder.layer.0.output.LayerNorm.beta", &FAMILY),
        "electra.encoder.layer.0.output.LayerNorm.bias"
    );
    assert_eq!(
        weights::normalize_name("classifier.out_proj.weight", &FAMILY),
        "classifier.out_proj.weight"
    );
}

/// Saves a checkpoint from Rust, reloads it with `transformers` and compares the logits.
#[test]
fn saved_checkpoint_loads_in_transformers_with_same_logits() {
    tch::manual_seed(5);
    let cfg = config("discriminator");
    let case = read_json(&fixture("seq-cls-3").join("expected.json"));
    let batch = batch(&case);
    let dir = tempfile::tempdir().unwrap();
    let heads = [
        (HeadKind::SequenceClassification, 3),
        (HeadKind::TokenClassification, 4),
        (HeadKind::QuestionAnswering, 2),
    ];
    for (head, num_labels) in heads {
        let vs = VarStore::new(Device::Cpu);
        let logits = tch::no_grad(|| match head {
            HeadKind::SequenceClassification => SequenceClassifier::new(&vs.root(), &cfg, num_labels)
                .unwrap()
                .forward_t(&batch, false),
            HeadKind::TokenClassification => TokenClassifier::new(&vs.root(), &cfg, num_labels)
                .unwrap()
                .forward_t(&batch, false),
            HeadKind::QuestionAnswering => {
                let (s, e) = QuestionAnswerer::new(&vs.root(), &cfg)
                    .unwrap()
                    .forward_t(&batch, false);
                Tensor::stack(&[s, e], -1)
            }
        });
        let labels = (0..num_labels).map(|i| format!("L{i}")).collect();
        let info = HeadInfo {
            architecture: head.architecture(&FAMILY),
            labels,
        };
        let out = dir.path().join(head.architecture(&FAMILY));
        weights::save_checkpoint(&out, &vs, &cfg, &info, |_| Ok(())).unwrap();
        let hf = hf_logits(&out, &case);
        let diff = max_abs_diff(&logits, &hf);
        assert!(
            diff < 1e-5,
            "{}: transformers gives logits {diff} away",
            head.architecture(&FAMILY)
        );
        let saved = read_json(&out.join("config.json"));
        assert_eq!(saved["num_labels"], num_labels);
        assert_eq!(saved["architectures"][0], head.architecture(&FAMILY));
    }
}

fn hf_logits(dir: &std::path::Path, case: &serde_json::Value) -> Tensor {
    let inputs = dir.join("inputs.json");
    std::fs::write(&inputs, case.to_string()).unwrap();
    let out = std::process::Command::new(venv_python())
        .arg(root().join("scripts/hf_logits.py"))
        .arg(dir)
        .arg(&inputs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "hf_logits.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    tensor(&value["logits"], Kind::Float)
}

#[test]
fn first_position_shortcut_equals_full_forward() {
    let case = read_json(&fixture("seq-cls-3").join("expected.json"));
    let vs = VarStore::new(Device::Cpu);
    let model = SequenceClassifier::new(&vs.root(), &config("seq-cls-3"), 3).unwrap();
    load(&vs, "seq-cls-3", HeadKind::SequenceClassification);
    let b = batch(&case);
    let (full, first) = tch::no_grad(|| {
        let full = model.encoder.forward_t(&b, false);
        let first = model.encoder.forward_first_t(&b, false);
        (full, first)
    });
    assert_eq!(first.size(), [5, 1, 32]);
    assert!(max_abs_diff(&full.narrow(1, 0, 1), &first) < 1e-5);
}
