//! Training-loop parity with PyTorch (fixtures from scripts/make_train_fixtures.py), the schedule,
//! and exact resume.

use crate::common::*;
use anyhow::Result;
use koelectra_ft::device::amp::Precision;
use koelectra_ft::device::Upload;
use koelectra_ft::model::electra::{ElectraConfig, FAMILY};
use koelectra_ft::model::heads::SequenceClassifier;
use koelectra_ft::model::{weights, Batch, HeadKind};
use koelectra_ft::train::batches;
use koelectra_ft::train::optim::AdamW;
use koelectra_ft::train::schedule::{LinearSchedule, Schedule, ScheduleKind};
use koelectra_ft::train::trainer::{self, Hooks, LoopConfig, Plan, Position, TrainLog};
use tch::{nn::VarStore, Device, Kind, Tensor};

#[derive(Default)]
struct Recorder {
    saves: Vec<i64>,
    evals: Vec<i64>,
    logs: Vec<TrainLog>,
}

impl Hooks for Recorder {
    fn on_log(&mut self, event: &TrainLog) -> Result<()> {
        self.logs.push(event.clone());
        Ok(())
    }
    fn evaluate(&mut self, position: Position) -> Result<()> {
        self.evals.push(position.global_step);
        Ok(())
    }
    fn save(&mut self, position: Position, _optimizer: &AdamW, _resumable: bool) -> Result<std::path::PathBuf> {
        self.saves.push(position.global_step);
        Ok(std::path::PathBuf::from(format!("checkpoint-{}", position.global_step)))
    }
}

/// The examples padded to the longest, sent as the training loop sends them: with a packing
/// where it pays if `packable`, else without.
fn pad(examples: &[&serde_json::Value], packable: bool) -> Batch {
    let longest = examples
        .iter()
        .map(|e| e["input_ids"].as_array().unwrap().len())
        .max()
        .unwrap();
    let row = |e: &serde_json::Value, key: &str| -> Vec<i64> {
        let mut v: Vec<i64> = e[key].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
        v.resize(longest, 0);
        v
    };
    let concat = |key: &str| examples.iter().flat_map(|e| row(e, key)).collect::<Vec<i64>>();
    let mask: Vec<i64> = examples
        .iter()
        .flat_map(|e| {
            let n = e["input_ids"].as_array().unwrap().len();
            (0..longest).map(move |i| i64::from(i < n))
        })
        .collect();
    let (ids, types) = (concat("input_ids"), concat("token_type_ids"));
    let shape = [examples.len() as i64, longest as i64];
    Batch::send_packable([&ids, &mask, &types], shape, packable, Upload::new(), Device::Cpu)
        .unwrap()
        .0
}

fn loop_config(recipe: &serde_json::Value) -> LoopConfig {
    LoopConfig {
        epochs: 1,
        grad_accum: recipe["gradient_accumulation_steps"].as_i64().unwrap(),
        max_steps: -1,
        learning_rate: recipe["learning_rate"].as_f64().unwrap(),
        warmup_proportion: recipe["warmup_proportion"].as_f64().unwrap(),
        warmup_steps: 0,
        lr_scheduler_type: ScheduleKind::Linear,
        weight_decay: recipe["weight_decay"].as_f64().unwrap(),
        adam_epsilon: recipe["adam_epsilon"].as_f64().unwrap(),
        max_grad_norm: recipe["max_grad_norm"].as_f64().unwrap(),
        logging_steps: 0,
        save_steps: 0,
        save_optimizer: false,
        seed: 42,
        precision: Precision::Fp32,
        empty_cache_steps: 0,
    }
}

/// Six updates against PyTorch's; `packable`: batches as training sends them (most of them packed).
fn train_parity(name: &str, num_labels: i64, packable: bool) {
    let _rng = torch_rng_lock();
    let case = read_json(&root().join("tests/fixtures/train").join(name).join("expected.json"));
    let mut cfg = ElectraConfig::from_file(&fixture(name).join("config.json")).unwrap();
    cfg.hidden_dropout_prob = 0.0;
    cfg.attention_probs_dropout_prob = 0.0;
    let vs = VarStore::new(Device::Cpu);
    let model = SequenceClassifier::new(&vs.root(), &cfg.model_config().unwrap(), num_labels).unwrap();
    let file = weights::weights_file(&fixture(name)).unwrap();
    weights::load_weights(&vs, &file, &FAMILY, HeadKind::SequenceClassification.prefixes()).unwrap();

    let examples = case["examples"].as_array().unwrap();
    let batches: Vec<Vec<usize>> = case["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            b.as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_u64().unwrap() as usize)
                .collect()
        })
        .collect();
    let label_kind = if num_labels == 1 { Kind::Float } else { Kind::Int64 };
    let packed = std::cell::Cell::new(0);
    let batch_loss = |idx: &[usize]| -> Result<Tensor> {
        let rows: Vec<&serde_json::Value> = idx.iter().map(|&i| &examples[i]).collect();
        let labels: Vec<f64> = rows.iter().map(|e| e["label"].as_f64().unwrap()).collect();
        let batch = pad(&rows, packable);
        packed.set(packed.get() + usize::from(batch.packing.is_some()));
        let logits = model.forward_t(&batch, true);
        Ok(model.loss(&logits, &Tensor::from_slice(&labels).to_kind(label_kind)))
    };
    let cfg = loop_config(&case["recipe"]);
    let plan = Plan::new(batches.len() as i64, &cfg).unwrap();
    assert_eq!(plan.total_updates, 6);
    let mut hooks = Recorder::default();
    let outcome = trainer::run(&vs, &cfg, &plan, &|_| batches.clone(), &batch_loss, &mut hooks, None).unwrap();

    let expected: Vec<f64> = case["losses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(outcome.losses.len(), expected.len());
    for (step, (got, want)) in outcome.losses.iter().zip(&expected).enumerate() {
        assert!(
            (got - want).abs() < 1e-4,
            "{name} step {}: loss {got} vs PyTorch {want}",
            step + 1
        );
    }
    let final_weights =
        Tensor::read_safetensors(root().join("tests/fixtures/train").join(name).join("final.safetensors")).unwrap();
    let vars = vs.variables();
    let mut worst = 0f64;
    for (key, want) in final_weights {
        if let Some(got) = vars.get(&key) {
            worst = worst.max(max_abs_diff(got, &want));
        } else {
            assert!(key.ends_with("position_ids"), "model lacks {key}");
        }
    }
    assert!(worst < 1e-4, "{name}: final weights differ from PyTorch by {worst}");
    let loss_diff = outcome
        .losses
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0f64, f64::max);
    eprintln!(
        "{name}: max loss diff {loss_diff:.2e}, max weight diff {worst:.2e}, {} packed batches",
        packed.get()
    );
    assert_eq!(
        packed.get() > batches.len() / 2,
        packable,
        "{name}: {} packed",
        packed.get()
    );
    assert_eq!(hooks.saves, vec![6], "a final checkpoint is always saved");
}

#[test]
fn classification_training_matches_pytorch() {
    train_parity("seq-cls-3", 3, false);
}

#[test]
fn regression_training_matches_pytorch() {
    train_parity("seq-cls-regression", 1, false);
}

#[test]
fn packed_classification_training_matches_pytorch() {
    train_parity("seq-cls-3", 3, true);
}

#[test]
fn packed_regression_training_matches_pytorch() {
    train_parity("seq-cls-regression", 1, true);
}

#[test]
fn schedule_matches_reference_multipliers() {
    // KorSTS base: t_total 1800, no warmup: first update at full lr, last at lr/1800.
    let s = LinearSchedule::new(1800, 0.0);
    assert_eq!(s.multiplier(0), 1.0);
    assert_eq!(s.multiplier(1), 1799.0 / 1800.0);
    assert_eq!(s.multiplier(1799), 1.0 / 1800.0);
    // With warmup the first update runs at lr 0.
    let w = LinearSchedule::new(100, 0.1);
    assert_eq!(w.warmup, 10);
    assert_eq!(w.multiplier(0), 0.0);
    assert_eq!(w.multiplier(5), 0.5);
    assert_eq!(w.multiplier(10), 1.0);
}

#[test]
fn plan_follows_reference_step_budget() {
    let mut cfg = loop_config(&serde_json::json!({
        "gradient_accumulation_steps": 1, "learning_rate": 5e-5, "warmup_proportion": 0.0,
        "weight_decay": 0.0, "adam_epsilon": 1e-8, "max_grad_norm": 1.0
    }));
    cfg.epochs = 10;
    // question-pair: 6136 rows / 32 = 192 batches per epoch → 1920 updates.
    assert_eq!(Plan::new(192, &cfg).unwrap().total_updates, 1920);
    cfg.max_steps = 500;
    let plan = Plan::new(192, &cfg).unwrap();
    assert_eq!((plan.total_updates, plan.epochs), (500, 3));
    assert!(Plan::new(0, &cfg).is_err());
}

#[test]
fn permutations_are_seeded_and_complete() {
    let a = batches::permutation(1000, 42, 0);
    let mut sorted = a.clone();
    sorted.sort();
    assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
    assert_eq!(a, batches::permutation(1000, 42, 0));
    assert_ne!(a, batches::permutation(1000, 42, 1));
    assert_ne!(a, batches::permutation(1000, 43, 0));
    let batches = batches::random_batches(10, 4, 1, 0);
    assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), vec![4, 4, 2]);
}

/// Tiny in-memory task for resume tests: a random model, fixed data, dropout on. `prepare` runs
/// after the model is built and before training (a resumed run restores its weights there).
fn tiny_run(
    vs: &VarStore,
    cfg: &LoopConfig,
    hooks: &mut dyn Hooks,
    resume: Option<(Position, &std::path::Path)>,
    prepare: &dyn Fn(&VarStore),
) -> Vec<f64> {
    let _rng = torch_rng_lock();
    let ecfg = ElectraConfig::from_file(&fixture("discriminator").join("config.json")).unwrap();
    let model = SequenceClassifier::new(&vs.root(), &ecfg.model_config().unwrap(), 2).unwrap();
    prepare(vs);
    let ids: Vec<i64> = (0..84u64)
        .map(|i| 5 + (batches::splitmix64(i) % (ecfg.vocab_size as u64 - 5)) as i64)
        .collect();
    let ids = Tensor::from_slice(&ids).view([12, 7]);
    let labels = Tensor::from_slice(&[0i64, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0]);
    let batch_loss = |idx: &[usize]| -> Result<Tensor> {
        let index = Tensor::from_slice(&idx.iter().map(|&i| i as i64).collect::<Vec<_>>());
        let ids = ids.index_select(0, &index);
        let batch = Batch {
            attention_mask: ids.ones_like(),
            token_type_ids: ids.zeros_like(),
            input_ids: ids,
            packing: None,
        };
        Ok(model.loss(&model.forward_t(&batch, true), &labels.index_select(0, &index)))
    };
    let plan = Plan::new(3, cfg).unwrap();
    let seed = cfg.seed;
    trainer::run(
        vs,
        cfg,
        &plan,
        &|e| batches::random_batches(12, 4, seed, e),
        &batch_loss,
        hooks,
        resume,
    )
    .unwrap()
    .losses
}

/// Keeps the optimizer state and a copy of the weights at one step.
struct StateSaver<'a> {
    at: i64,
    dir: &'a std::path::Path,
    vs: &'a VarStore,
    saved: Option<(Position, Vec<(String, Tensor)>)>,
}

impl Hooks for StateSaver<'_> {
    fn on_log(&mut self, _: &TrainLog) -> Result<()> {
        Ok(())
    }
    fn evaluate(&mut self, _: Position) -> Result<()> {
        Ok(())
    }
    fn save(&mut self, position: Position, optimizer: &AdamW, _resumable: bool) -> Result<std::path::PathBuf> {
        if position.global_step == self.at {
            let state = optimizer.state()?;
            Tensor::write_safetensors(&state, self.dir.join("optimizer.safetensors"))?;
            let weights = self.vs.variables().into_iter().map(|(k, v)| (k, v.copy())).collect();
            self.saved = Some((position, weights));
        }
        Ok(self.dir.to_path_buf())
    }
}

#[test]
fn resumed_run_matches_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = loop_config(&serde_json::json!({
        "gradient_accumulation_steps": 1, "learning_rate": 1e-3, "warmup_proportion": 0.1,
        "weight_decay": 0.01, "adam_epsilon": 1e-8, "max_grad_norm": 1.0
    }));
    cfg.epochs = 4; // 3 batches per epoch → 12 updates; the state is kept mid-epoch, at step 5
    cfg.save_steps = 1;
    tch::manual_seed(11);
    let vs_a = VarStore::new(Device::Cpu);
    let mut saver = StateSaver {
        at: 5,
        dir: dir.path(),
        vs: &vs_a,
        saved: None,
    };
    let full = tiny_run(&vs_a, &cfg, &mut saver, None, &|_| {});
    let (position, weights) = saver.saved.take().unwrap();
    assert_eq!(
        position,
        Position {
            global_step: 5,
            epoch: 1,
            next_batch: 2
        }
    );

    tch::manual_seed(999); // a different init, overwritten by the step-5 weights
    let vs_b = VarStore::new(Device::Cpu);
    let restore = |vs: &VarStore| {
        let vars = vs.variables();
        tch::no_grad(|| {
            for (k, v) in &weights {
                vars[k].shallow_clone().copy_(v);
            }
        });
    };
    let state = dir.path().join("optimizer.safetensors");
    let mut hooks = Recorder::default();
    let resumed = tiny_run(&vs_b, &cfg, &mut hooks, Some((position, &state)), &restore);
    assert_eq!(resumed.len(), 7);
    for (a, b) in full[5..].iter().zip(&resumed) {
        assert!((a - b).abs() < 1e-6, "resumed loss {b} vs uninterrupted {a}");
    }
    let vb = vs_b.variables();
    for (k, a) in vs_a.variables() {
        assert!(max_abs_diff(&a, &vb[&k]) < 1e-6, "{k} differs after resume");
    }
    assert_eq!(hooks.saves, (6..=12).collect::<Vec<_>>());
}

#[test]
fn length_grouped_batches_follow_hf_sampler() {
    let lengths: Vec<usize> = (0..1000u64)
        .map(|i| 5 + (batches::splitmix64(i) % 120) as usize)
        .collect();
    let batches = batches::length_grouped_batches(&lengths, 8, 42, 0);
    let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
    seen.sort();
    assert_eq!(seen, (0..1000).collect::<Vec<_>>(), "every example exactly once");
    assert!(batches.iter().all(|b| b.len() == 8));
    let longest = *lengths.iter().max().unwrap();
    assert_eq!(lengths[batches[0][0]], longest, "the longest example comes first");
    // Mega-batches of min(n / (4 * batch), 50) = 31 batches (248 examples) are sorted by length,
    // longest first (after the first element, which may have been swapped).
    let flat: Vec<usize> = batches.iter().flatten().map(|&i| lengths[i]).collect();
    for mega in flat.chunks(248) {
        assert!(mega[1..].windows(2).all(|w| w[0] >= w[1]));
    }
    // Far less padding than random batches.
    let padded = |bs: &[Vec<usize>]| -> usize {
        bs.iter()
            .map(|b| b.iter().map(|&i| lengths[i]).max().unwrap() * b.len())
            .sum()
    };
    assert!(padded(&batches) * 10 < padded(&batches::random_batches(1000, 8, 42, 0)) * 8);
    assert_eq!(batches, batches::length_grouped_batches(&lengths, 8, 42, 0));
    assert_ne!(batches, batches::length_grouped_batches(&lengths, 8, 42, 1));
}

/// Every `lr_scheduler_type` against transformers' `get_scheduler` (scripts/make_schedule_fixtures.py):
/// the learning rate before each of `total + 2` updates, for a grid of totals and warmups, to 1e-12
/// (as a multiplier of the base rate).
#[test]
fn schedules_match_transformers_get_scheduler() {
    let doc = read_json(&root().join("tests/fixtures/schedules/lr.json"));
    let lr = doc["learning_rate"].as_f64().unwrap();
    let cases = doc["cases"].as_array().unwrap();
    let mut compared = 0;
    let mut names = std::collections::BTreeSet::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let kind = ScheduleKind::from_name(name).unwrap_or_else(|| panic!("unknown schedule {name}"));
        let (total, warmup) = (case["total"].as_i64().unwrap(), case["warmup"].as_i64().unwrap());
        let schedule = Schedule::with(kind, total, warmup, lr);
        for (done, want) in case["lr"].as_array().unwrap().iter().enumerate() {
            let want = want.as_f64().unwrap() / lr;
            let got = schedule.multiplier(done as i64);
            assert!(
                (got - want).abs() <= 1e-12,
                "{name} total {total} warmup {warmup} step {done}: {got} vs HF {want}"
            );
            compared += 1;
        }
        names.insert(name);
    }
    assert_eq!(names.len(), ScheduleKind::NAMES.len(), "{names:?}");
    assert!(compared > 10_000, "{compared}");
}

/// `torch_empty_cache_steps` = 3 empties the cache in the updates after 0, 3, 6... done ones, as HF's
/// `global_step % torch_empty_cache_steps == 0`; 0 never does.
#[test]
fn the_cache_is_emptied_on_hf_s_cadence() {
    let recipe = serde_json::json!({"gradient_accumulation_steps": 1, "learning_rate": 1e-3,
        "warmup_proportion": 0.0, "weight_decay": 0.0, "adam_epsilon": 1e-8, "max_grad_norm": 1.0});
    let mut cfg = loop_config(&recipe);
    cfg.empty_cache_steps = 3;
    let emptied: Vec<i64> = (0..10).filter(|&step| cfg.empties_cache(step)).collect();
    assert_eq!(emptied, vec![0, 3, 6, 9]);
    cfg.empty_cache_steps = 0;
    assert!((0..10).all(|step| !cfg.empties_cache(step)));
}
