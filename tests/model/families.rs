//! Numeric parity of the BERT, DistilBERT and XLM-RoBERTa families with Hugging Face `transformers`,
//! against fixtures written by scripts/make_family_fixtures.py (tests/fixtures/families/): logits,
//! losses and gradients of every head, checkpoint names through a save and a load, bare encoders.
use crate::common::*;
use koelectra_ft::model::heads::*;
use koelectra_ft::model::source::{self, ModelSource};
use koelectra_ft::model::weights::{self, HeadInfo};
use koelectra_ft::model::{
    bert, check_supported, distilbert, roberta, Batch, Family, HeadKind, ModelConfig, RawConfig,
};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use tch::{nn::VarStore, Device, Kind, Tensor};

const TOL: f64 = 1e-4;
const FAMILIES: [(&str, &Family); 3] = [
    ("bert", &bert::FAMILY),
    ("distilbert", &distilbert::FAMILY),
    ("xlm-roberta", &roberta::FAMILY),
];
const HEADS: [(&str, HeadKind, i64); 3] = [
    ("seq-cls", HeadKind::SequenceClassification, 3),
    ("token-cls", HeadKind::TokenClassification, 5),
    ("qa", HeadKind::QuestionAnswering, 2),
];

fn case_dir(name: &str) -> PathBuf {
    root().join("tests/fixtures/families").join(name)
}

fn expected(name: &str) -> Value {
    read_json(&case_dir(name).join("expected.json"))
}

fn config(name: &str) -> ModelConfig {
    ModelConfig::from_file(&case_dir(name).join("config.json")).unwrap()
}

fn batch(case: &Value) -> Batch {
    Batch {
        input_ids: tensor(&case["input_ids"], Kind::Int64),
        attention_mask: tensor(&case["attention_mask"], Kind::Int64),
        token_type_ids: tensor(&case["token_type_ids"], Kind::Int64),
        packing: None,
    }
}

/// A model with one of the three heads.
enum Model {
    Seq(SequenceClassifier),
    Token(TokenClassifier),
    Qa(QuestionAnswerer),
}

impl Model {
    fn new(vs: &VarStore, cfg: &ModelConfig, head: HeadKind, num_labels: i64) -> Self {
        let root = vs.root();
        match head {
            HeadKind::SequenceClassification => Self::Seq(SequenceClassifier::new(&root, cfg, num_labels).unwrap()),
            HeadKind::TokenClassification => Self::Token(TokenClassifier::new(&root, cfg, num_labels).unwrap()),
            HeadKind::QuestionAnswering => Self::Qa(QuestionAnswerer::new(&root, cfg).unwrap()),
        }
    }

    /// Logits; QA's start and end logits stacked on the last axis.
    fn logits(&self, batch: &Batch) -> Tensor {
        match self {
            Self::Seq(m) => m.forward_t(batch, false),
            Self::Token(m) => m.forward_t(batch, false),
            Self::Qa(m) => {
                let (start, end) = m.forward_t(batch, false);
                Tensor::stack(&[start, end], -1)
            }
        }
    }

    fn loss(&self, logits: &Tensor, case: &Value) -> Tensor {
        match self {
            Self::Seq(m) => m.loss(logits, &tensor(&case["labels"], Kind::Int64)),
            Self::Token(m) => m.loss(logits, &tensor(&case["labels"], Kind::Int64)),
            Self::Qa(m) => {
                let parts = logits.unbind(-1);
                let starts = tensor(&case["start_positions"], Kind::Int64);
                let ends = tensor(&case["end_positions"], Kind::Int64);
                m.loss(&parts[0], &parts[1], &starts, &ends)
            }
        }
    }

    fn encoder(&self) -> &dyn koelectra_ft::model::Encoder {
        match self {
            Self::Seq(m) => m.encoder.as_ref(),
            Self::Token(m) => m.encoder.as_ref(),
            Self::Qa(m) => m.encoder.as_ref(),
        }
    }
}

/// HF's logits of a case (QA: start and end stacked).
fn expected_logits(case: &Value) -> Tensor {
    match case.get("logits") {
        Some(logits) => tensor(logits, Kind::Float),
        None => Tensor::stack(
            &[
                tensor(&case["start_logits"], Kind::Float),
                tensor(&case["end_logits"], Kind::Float),
            ],
            -1,
        ),
    }
}

/// A fixture's model, every tensor loaded from its `pytorch_model.bin`.
fn load_case(name: &str, head: HeadKind, num_labels: i64) -> (VarStore, Model) {
    let cfg = config(name);
    let vs = VarStore::new(Device::Cpu);
    let model = Model::new(&vs, &cfg, head, num_labels);
    let file = weights::weights_file(&case_dir(name)).unwrap();
    assert!(file.ends_with("pytorch_model.bin"), "{}", file.display());
    let report = weights::load_weights(&vs, &file, cfg.family, head.prefixes()).unwrap();
    assert_eq!(report, weights::LoadReport::default(), "{name}");
    (vs, model)
}

/// Logits, loss and the recorded gradients (eval mode, no dropout) of `family`'s `head` against HF's;
/// sequence and token classification also with a packed batch (the dense layers skip the padding).
fn parity(family: &str, head_name: &str) {
    let (_, head, _) = HEADS.iter().find(|h| h.0 == head_name).copied().unwrap();
    let case = expected(&format!("{family}-{head_name}"));
    parity_of(family, head_name, batch(&case));
    if head != HeadKind::QuestionAnswering {
        parity_of(family, head_name, packed_batch(&case));
    }
}

/// Token logits at the real tokens only (packed, the padding's are zeros; HF's loss ignores them).
fn at_tokens(logits: &Tensor, batch: &Batch) -> Tensor {
    match logits.dim() {
        3 => logits * batch.attention_mask.unsqueeze(-1),
        _ => logits.shallow_clone(),
    }
}

fn parity_of(family: &str, head_name: &str, batch: Batch) {
    let (_, head, num_labels) = HEADS.iter().find(|h| h.0 == head_name).copied().unwrap();
    let packed = if batch.packing.is_some() { " (packed)" } else { "" };
    let name = format!("{family}-{head_name}{packed}");
    let case = expected(&format!("{family}-{head_name}"));
    let (vs, model) = load_case(&format!("{family}-{head_name}"), head, num_labels);
    let logits = model.logits(&batch);
    let diff = match (head, &batch.packing) {
        (HeadKind::TokenClassification, Some(_)) => {
            max_abs_diff(&at_tokens(&logits, &batch), &at_tokens(&expected_logits(&case), &batch))
        }
        _ => max_abs_diff(&logits, &expected_logits(&case)),
    };
    eprintln!("{name}: max |logit - HF| = {diff:e}");
    assert!(diff < TOL, "{name}: logits differ from HF by {diff}");
    let loss = model.loss(&logits, &case);
    let hf_loss = case["loss"].as_f64().unwrap();
    assert!(
        (loss.double_value(&[]) - hf_loss).abs() < TOL,
        "{name}: loss {loss} vs HF {hf_loss}"
    );
    loss.backward();
    let vars = vs.variables();
    let grads = case["grads"].as_object().unwrap();
    assert!(grads.len() >= 3, "{name}: {:?}", grads.keys());
    for (param, hf) in grads {
        let hf = tensor(hf, Kind::Float);
        let ours = vars[param].grad();
        let scale = hf.abs().max().double_value(&[]).max(1.0);
        let diff = max_abs_diff(&ours, &hf);
        eprintln!("{name}: {param} max |grad - HF| = {diff:e} (HF max {scale:e})");
        assert!(
            diff < TOL * scale,
            "{name}: gradient of {param} differs from HF by {diff}"
        );
    }
}

#[test]
fn bert_sequence_classification_matches_hf() {
    parity("bert", "seq-cls");
}

#[test]
fn bert_token_classification_matches_hf() {
    parity("bert", "token-cls");
}

#[test]
fn bert_question_answering_matches_hf() {
    parity("bert", "qa");
}

#[test]
fn distilbert_sequence_classification_matches_hf() {
    parity("distilbert", "seq-cls");
}

#[test]
fn distilbert_token_classification_matches_hf() {
    parity("distilbert", "token-cls");
}

#[test]
fn distilbert_question_answering_matches_hf() {
    parity("distilbert", "qa");
}

#[test]
fn xlm_roberta_sequence_classification_matches_hf() {
    parity("xlm-roberta", "seq-cls");
}

#[test]
fn xlm_roberta_token_classification_matches_hf() {
    parity("xlm-roberta", "token-cls");
}

#[test]
fn xlm_roberta_question_answering_matches_hf() {
    parity("xlm-roberta", "qa");
}

/// The tensor names of a weights file, as written.
fn names(file: &Path) -> BTreeSet<String> {
    weights::read_tensors(file)
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect()
}

/// Every fixture saved by our checkpoint writer: the same tensor names as HF's state_dict, the same
/// logits after loading it back, and (one transformers run for all) the same logits in transformers.
#[test]
fn saved_checkpoints_have_hf_names_and_load_in_transformers() {
    let dir = tempfile::tempdir().unwrap();
    let mut saved = vec![];
    for (family_name, family) in FAMILIES {
        for (head_name, head, num_labels) in HEADS {
            let name = format!("{family_name}-{head_name}");
            let case = expected(&name);
            let cfg = config(&name);
            assert!(cfg.family.hf_model_type == family.hf_model_type, "{name}");
            let (vs, model) = load_case(&name, head, num_labels);
            let logits = tch::no_grad(|| model.logits(&batch(&case)));
            // The fixtures' id2label; QA's config has none (HF's default 2): LABEL_0/1, as squad.rs saves.
            let labels = cfg
                .labels()
                .unwrap_or_else(|_| vec!["LABEL_0".into(), "LABEL_1".into()]);
            let info = HeadInfo {
                architecture: head.architecture(family),
                labels,
            };
            assert_eq!(info.labels.len() as i64, num_labels, "{name}");
            let out = dir.path().join(&name);
            weights::save_checkpoint(&out, &vs, &cfg, &info, |_| Ok(())).unwrap();
            let ours = names(&out.join("model.safetensors"));
            let hf = names(&case_dir(&name).join("pytorch_model.bin"));
            assert_eq!(ours, hf, "{name}: saved names differ from HF's state_dict keys");
            let saved_json = read_json(&out.join("config.json"));
            assert_eq!(saved_json["architectures"][0], head.architecture(family));
            assert_eq!(saved_json["model_type"], family.hf_model_type);

            // Back into a fresh model: every tensor from the file, the same logits.
            let reloaded_cfg = ModelConfig::from_file(&out.join("config.json")).unwrap();
            let (_vs, reloaded) = source::load_fine_tuned(&out, &reloaded_cfg, Device::Cpu, |p, cfg| {
                let vs_model = match head {
                    HeadKind::SequenceClassification => Model::Seq(SequenceClassifier::new(p, cfg, num_labels)?),
                    HeadKind::TokenClassification => Model::Token(TokenClassifier::new(p, cfg, num_labels)?),
                    HeadKind::QuestionAnswering => Model::Qa(QuestionAnswerer::new(p, cfg)?),
                };
                Ok(vs_model)
            })
            .unwrap();
            let again = tch::no_grad(|| reloaded.logits(&batch(&case)));
            assert!(again.equal(&logits), "{name}: logits changed through save and load");
            saved.push((out, case, logits));
        }
    }
    // transformers on what we saved, in one run.
    for (dir, case, _) in &saved {
        std::fs::write(dir.join("inputs.json"), case.to_string()).unwrap();
    }
    let out = std::process::Command::new(venv_python())
        .arg(root().join("scripts/make_family_fixtures.py"))
        .arg("logits")
        .env("HF_HUB_OFFLINE", "1")
        .args(saved.iter().map(|(dir, _, _)| dir))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "make_family_fixtures.py logits failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = parse_jsonl(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(lines.len(), saved.len());
    for ((dir, _, ours), hf) in saved.iter().zip(lines) {
        let diff = max_abs_diff(ours, &tensor(&hf["logits"], Kind::Float));
        assert!(diff < 1e-5, "{}: transformers gives logits {diff} away", dir.display());
    }
}

/// A bare encoder checkpoint (names without the family prefix, as `monologg/kobert` has them) loads
/// under every head: the fresh tensors are the ones HF reports missing, the ignored ones the ones HF
/// reports unexpected, and the fresh head is HF-initialised (zero biases, N(0, initializer_range)).
#[test]
fn bare_encoders_load_with_fresh_heads_as_in_hf() {
    tch::manual_seed(17);
    for (family_name, family) in FAMILIES {
        let name = format!("{family_name}-bare");
        let hf = expected(&name);
        let file = weights::weights_file(&case_dir(&name)).unwrap();
        let raw = names(&file);
        assert!(
            raw.iter().all(|n| !n.starts_with(&format!("{}.", family.prefix))),
            "{name}: {raw:?}"
        );
        for (head_name, head, num_labels) in HEADS {
            let cfg = config(&name);
            let vs = VarStore::new(Device::Cpu);
            let _model = Model::new(&vs, &cfg, head, num_labels);
            let report = weights::load_weights(&vs, &file, family, head.prefixes()).unwrap();
            let strings = |v: &Value| -> Vec<String> {
                let names = v.as_array().unwrap().iter().map(|s| s.as_str().unwrap());
                let mut names: Vec<String> = names.map(|n| weights::normalize_name(n, family)).collect();
                names.sort();
                names
            };
            let what = &hf[head_name];
            assert_eq!(report.fresh, strings(&what["missing"]), "{name} {head_name}");
            assert_eq!(report.unexpected, strings(&what["unexpected"]), "{name} {head_name}");
            assert!(!report.fresh.is_empty());
            let vars = vs.variables();
            for fresh in &report.fresh {
                let var = &vars[fresh];
                if fresh.ends_with(".bias") {
                    assert_eq!(var.abs().sum(Kind::Float).double_value(&[]), 0.0, "{fresh}");
                } else {
                    let std = var.std(true).double_value(&[]);
                    let mean = var.mean(Kind::Float).double_value(&[]);
                    assert!((std - 0.02).abs() < 0.006, "{name} {fresh}: init std {std}");
                    assert!(mean.abs() < 0.01, "{name} {fresh}: init mean {mean}");
                }
            }
        }
    }
}

/// The pipeline's path (`source::build`): config checked against the checkpoint's shapes, encoder
/// from the bare checkpoint, fresh head; a config that does not match the checkpoint is refused.
#[test]
fn source_builds_from_bare_checkpoints_and_checks_shapes() {
    for (family_name, family) in FAMILIES {
        let name = format!("{family_name}-bare");
        let src = ModelSource::Dir(case_dir(&name));
        let (vs, model, cfg) = source::build(&src, HeadKind::SequenceClassification, Device::Cpu, |p, cfg| {
            SequenceClassifier::new(p, cfg, 3)
        })
        .unwrap();
        assert!(cfg.family.hf_model_type == family.hf_model_type);
        let case = expected(&format!("{family_name}-seq-cls"));
        let logits = tch::no_grad(|| model.forward_t(&batch(&case), false));
        assert_eq!(logits.size(), [4, 3]);
        assert!(vs.variables().len() > 10);

        // A wrong vocab_size fails before anything is allocated, naming the key.
        let tmp = tempfile::tempdir().unwrap();
        let mut json = read_json(&case_dir(&name).join("config.json"));
        json["vocab_size"] = 500.into();
        write_config_json(tmp.path(), &json);
        std::fs::copy(
            case_dir(&name).join("pytorch_model.bin"),
            tmp.path().join("pytorch_model.bin"),
        )
        .unwrap();
        let src = ModelSource::Dir(tmp.path().to_path_buf());
        let err = source::build(&src, HeadKind::TokenClassification, Device::Cpu, |p, cfg| {
            TokenClassifier::new(p, cfg, 2)
        })
        .unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("\"vocab_size\" is 500") && msg.contains("127"), "{msg}");
    }
}

#[test]
fn first_position_shortcut_equals_full_forward() {
    for (family_name, _) in FAMILIES {
        let name = format!("{family_name}-seq-cls");
        let case = expected(&name);
        let (_vs, model) = load_case(&name, HeadKind::SequenceClassification, 3);
        let b = batch(&case);
        let (full, first) = tch::no_grad(|| {
            (
                model.encoder().forward_t(&b, false),
                model.encoder().forward_first_t(&b, false),
            )
        });
        assert_eq!(first.size(), [4, 1, 32]);
        assert!(max_abs_diff(&full.narrow(1, 0, 1), &first) < 1e-5, "{name}");
    }
}

/// DistilBERT has no token types and XLM-R's tokenizer gives none: both encoders ignore the batch's.
#[test]
fn distilbert_and_xlm_roberta_ignore_token_type_ids() {
    for name in ["distilbert-token-cls", "xlm-roberta-token-cls"] {
        let case = expected(name);
        let (_vs, model) = load_case(name, HeadKind::TokenClassification, 5);
        let b = batch(&case);
        let typed = Batch {
            token_type_ids: b.token_type_ids.ones_like(),
            packing: None,
            ..batch(&case)
        };
        let (plain, typed) = tch::no_grad(|| (model.logits(&b), model.logits(&typed)));
        assert!(plain.equal(&typed), "{name}");
    }
}

/// Padding does not change an example's logits (XLM-R's position ids skip the padding).
#[test]
fn padding_does_not_change_logits() {
    for (family_name, _) in FAMILIES {
        let name = format!("{family_name}-seq-cls");
        let case = expected(&name);
        let (_vs, model) = load_case(&name, HeadKind::SequenceClassification, 3);
        let full = batch(&case);
        let len = full.attention_mask.get(0).sum(Kind::Int64).int64_value(&[]);
        let single = Batch {
            input_ids: full.input_ids.narrow(0, 0, 1).narrow(1, 0, len),
            attention_mask: full.attention_mask.narrow(0, 0, 1).narrow(1, 0, len),
            token_type_ids: full.token_type_ids.narrow(0, 0, 1).narrow(1, 0, len),
            packing: None,
        };
        let (batched, alone) = tch::no_grad(|| (model.logits(&full), model.logits(&single)));
        assert!(max_abs_diff(&batched.narrow(0, 0, 1), &alone) < 1e-5, "{name}");
    }
}

/// Every family's config.json gets the same size checks, naming its own keys.
#[test]
fn configs_refuse_bad_sizes_with_their_keys() {
    let cases = [
        (
            serde_json::json!({"model_type": "electra", "hidden_size": 30, "num_attention_heads": 4}),
            "hidden_size 30 is not a multiple of num_attention_heads 4",
        ),
        (
            serde_json::json!({"model_type": "distilbert", "dim": 30, "n_heads": 4}),
            "dim 30 is not a multiple of n_heads 4",
        ),
        (
            serde_json::json!({"model_type": "bert", "vocab_size": 50, "pad_token_id": 99}),
            "pad_token_id 99 is outside the vocabulary of 50 tokens",
        ),
        (
            serde_json::json!({"model_type": "xlm-roberta", "num_hidden_layers": 0}),
            "num_hidden_layers must be positive, got 0",
        ),
    ];
    for (json, expected) in cases {
        let err = ModelConfig::read(RawConfig::Value(json.clone())).unwrap_err();
        assert!(format!("{err:#}").contains(expected), "{json}: {err:#}");
    }
}

#[test]
fn configs_read_with_hf_defaults() {
    // XLM-R's pad_token_id defaults to 1 (BERT's to 0); its longest input leaves out the positions
    // up to pad_token_id.
    let xlmr = ModelConfig::read(RawConfig::Value(serde_json::json!({"model_type": "xlm-roberta"}))).unwrap();
    assert!(xlmr.family.hf_model_type == roberta::FAMILY.hf_model_type);
    assert_eq!(xlmr.get("pad_token_id"), Some(&Value::from(1)));
    assert_eq!(xlmr.max_position_embeddings, 512 - 2);
    assert_eq!(config("xlm-roberta-qa").max_position_embeddings, 64 - 2);
    let bert = ModelConfig::read(RawConfig::Text(r#"{"model_type": "bert"}"#)).unwrap();
    assert_eq!(bert.get("pad_token_id"), Some(&Value::from(0)));
    assert_eq!(
        (bert.hidden_size, bert.num_hidden_layers, bert.qa_dropout),
        (768, 12, 0.0)
    );
    // DistilBERT: dim/n_layers, and its heads' own dropouts.
    let distil = config("distilbert-qa");
    assert_eq!((distil.hidden_size, distil.num_hidden_layers), (32, 2));
    assert_eq!((distil.head_dropout, distil.qa_dropout), (0.1, 0.1));
    let defaults = distilbert::DistilBertConfig::read(RawConfig::Text("{}")).unwrap();
    assert_eq!(
        (defaults.dim, defaults.n_layers, defaults.seq_classif_dropout),
        (768, 6, 0.2)
    );
    // What this build cannot run is refused with the reason.
    let err = ModelConfig::read(RawConfig::Text(
        r#"{"model_type": "distilbert", "sinusoidal_pos_embds": true}"#,
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("sinusoidal_pos_embds"), "{err}");
    let err = ModelConfig::read(RawConfig::Text(r#"{"model_type": "distilbert", "activation": "silu"}"#))
        .unwrap_err()
        .to_string();
    assert!(err.contains("silu"), "{err}");
    let err = ModelConfig::read(RawConfig::Text(
        r#"{"model_type": "xlm-roberta", "max_position_embeddings": 2}"#,
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("pad_token_id 1"), "{err}");
    // A field of the wrong type is named, with its line in a file (in a run config's model_config, without).
    let err = ModelConfig::read(RawConfig::Text(
        "{\n  \"model_type\": \"bert\",\n  \"hidden_size\": \"768\"\n}",
    ))
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "field \"hidden_size\": invalid type: string \"768\", expected i64 at line 3 column 22"
    );
    let value = serde_json::json!({"num_hidden_layers": 2.5});
    let err = ModelConfig::read(RawConfig::Value(value)).unwrap_err().to_string();
    assert_eq!(
        err,
        "field \"num_hidden_layers\": invalid type: floating point `2.5`, expected i64"
    );
    // Configs of old transformers versions have no model_type: the architecture tells the family.
    for (arch, family) in [
        ("DistilBertModel", &distilbert::FAMILY),
        ("BertModel", &bert::FAMILY),
        ("XLMRobertaForMaskedLM", &roberta::FAMILY),
    ] {
        let cfg = ModelConfig::read(RawConfig::Value(serde_json::json!({"architectures": [arch]}))).unwrap();
        assert_eq!(cfg.family.hf_model_type, family.hf_model_type, "{arch}");
    }
    let cfg = ModelConfig::read(RawConfig::Text("{}")).unwrap();
    assert_eq!(cfg.family.hf_model_type, "electra");
    // Unknown keys survive (a save writes them back).
    assert_eq!(config("xlm-roberta-bare").get("bos_token_id"), Some(&Value::from(0)));
}

#[test]
fn families_are_registered() {
    for (model_type, family) in [
        ("kobert", &bert::FAMILY),
        ("distilkobert", &distilbert::FAMILY),
        ("xlm-roberta", &roberta::FAMILY),
    ] {
        assert!(check_supported(model_type).unwrap().hf_model_type == family.hf_model_type);
    }
    assert!(check_supported("hanbert").is_err());
    for (family_name, family) in FAMILIES {
        for (_, head, _) in HEADS {
            let arch = head.architecture(family);
            assert_eq!(HeadKind::from_architecture(&arch).unwrap(), head, "{family_name}");
        }
    }
    assert_eq!(
        HeadKind::SequenceClassification.architecture(&roberta::FAMILY),
        "XLMRobertaForSequenceClassification"
    );
}

#[test]
fn a_misspelt_model_config_field_is_found_with_the_closest_field() {
    for (model_type, field, typo) in [
        ("electra", "num_hidden_layers", "num_hidden_layer"),
        ("bert", "num_attention_heads", "num_attention_head"),
        ("distilbert", "n_layers", "n_layer"),
        ("xlm-roberta", "intermediate_size", "intermediate_dim"),
    ] {
        let given = serde_json::json!({"model_type": model_type, field: 2, typo: 4, "architectures": ["X"]});
        let given = given.as_object().unwrap();
        let cfg = ModelConfig::read(RawConfig::Value(Value::Object(given.clone()))).unwrap();
        assert_eq!(
            cfg.unknown_fields(given).unwrap(),
            vec![(typo.to_string(), field.to_string())],
            "{model_type}"
        );
    }
}
