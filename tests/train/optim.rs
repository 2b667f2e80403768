//! The fused AdamW against `torch.optim.AdamW(fused=True)` and `torch.optim.AdamW()` (fixtures from
//! scripts/make_optim_fixtures.py), its saved state, and skipping a non-finite update on the device.
use std::collections::HashMap;

use crate::common::*;
use koelectra_ft::train::optim::AdamW;
use tch::{nn::VarStore, Device, Kind, Tensor};

const STEPS: usize = 6;

fn fixture() -> HashMap<String, Tensor> {
    let file = root().join("tests/fixtures/optim/adamw.safetensors");
    Tensor::read_safetensors(file).unwrap().into_iter().collect()
}

fn names(fx: &HashMap<String, Tensor>) -> Vec<String> {
    let mut names: Vec<String> = fx
        .keys()
        .filter_map(|k| k.strip_prefix("init."))
        .map(String::from)
        .collect();
    names.sort();
    names
}

/// A VarStore holding the fixture's initial parameters under their names.
fn var_store(fx: &HashMap<String, Tensor>) -> (VarStore, HashMap<String, Tensor>) {
    let vs = VarStore::new(Device::Cpu);
    let mut vars = HashMap::new();
    for name in names(fx) {
        let init = &fx[&format!("init.{name}")];
        let (path, leaf) = name.rsplit_once('.').unwrap();
        let var = path.split('.').fold(vs.root(), |p, part| p / part).var_copy(leaf, init);
        vars.insert(name, var);
    }
    (vs, vars)
}

/// Sets every variable's gradient to the fixture's for `step`: d/dw sum(w * g) is exactly g.
fn set_grads(vars: &HashMap<String, Tensor>, fx: &HashMap<String, Tensor>, step: usize) {
    let mut total = Tensor::zeros([], (Kind::Float, Device::Cpu));
    for (name, var) in vars {
        total += (var * &fx[&format!("grad.{step}.{name}")]).sum(Kind::Float);
    }
    total.backward();
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

fn lrs(fx: &HashMap<String, Tensor>) -> Vec<f64> {
    Vec::<f64>::try_from(&fx["lr"]).unwrap()
}

/// Runs `steps` updates from the fixture's start (or from where `opt` is).
fn run(opt: &mut AdamW, vars: &HashMap<String, Tensor>, fx: &HashMap<String, Tensor>, steps: std::ops::Range<usize>) {
    let lrs = lrs(fx);
    for step in steps {
        set_grads(vars, fx, step);
        opt.step(lrs[step], None).unwrap();
        opt.zero_grad().unwrap();
    }
}

#[test]
fn six_steps_match_torch_fused_and_plain_adamw() {
    let fx = fixture();
    let (vs, vars) = var_store(&fx);
    let mut opt = AdamW::new(&vs, 0.01, 1e-8).unwrap();
    run(&mut opt, &vars, &fx, 0..STEPS);
    assert_eq!(opt.steps(), STEPS as i64);
    for (name, var) in &vars {
        for reference in ["fused", "plain"] {
            let diff = max_diff(var, &fx[&format!("{reference}.{name}")]);
            assert!(diff <= 1e-6, "{name} vs torch AdamW ({reference}): max diff {diff:e}");
        }
        // The weights really moved: the comparison is not against the start.
        assert!(
            max_diff(var, &fx[&format!("init.{name}")]) > 1e-4,
            "{name} did not move"
        );
    }
    let state: HashMap<String, Tensor> = opt.state().unwrap().into_iter().collect();
    for name in vars.keys() {
        for moment in ["exp_avg", "exp_avg_sq"] {
            let ours = &state[&format!("{moment}.{name}")];
            let theirs = &fx[&format!("fused.{moment}.{name}")];
            let scale = theirs.abs().max().double_value(&[]).max(1e-12);
            let diff = max_diff(ours, theirs) / scale;
            assert!(diff <= 1e-6, "{moment}.{name}: relative diff {diff:e}");
        }
    }
    assert_eq!(state["step"].double_value(&[]), STEPS as f64);
}

/// Dropping the gradients after an update (CUDA's default) and zeroing them in the flat buffer
/// (the CPU's) give bit-identical updates, with two backwards per update (accumulation) too.
#[test]
fn dropping_or_zeroing_gradients_gives_the_same_updates() {
    let fx = fixture();
    let lrs = lrs(&fx);
    let mut finals = Vec::new();
    for drop in [true, false] {
        let (vs, vars) = var_store(&fx);
        let mut opt = AdamW::new(&vs, 0.01, 1e-8).unwrap().drop_grads(drop);
        opt.zero_grad().unwrap();
        for (step, &lr) in lrs.iter().enumerate().take(STEPS) {
            set_grads(&vars, &fx, step);
            set_grads(&vars, &fx, (step + 1) % STEPS);
            opt.step(lr, None).unwrap();
            opt.zero_grad().unwrap();
            for (name, var) in &vars {
                let grad = var.grad();
                if drop {
                    assert!(!grad.defined(), "{name}: gradient kept after zero_grad");
                } else {
                    assert_eq!(grad.abs().max().double_value(&[]), 0.0, "{name}: gradient not zeroed");
                }
            }
        }
        finals.push(vars);
    }
    for (name, var) in &finals[0] {
        assert_eq!(max_diff(var, &finals[1][name]), 0.0, "{name}: the two ways differ");
        assert!(
            max_diff(var, &fx[&format!("init.{name}")]) > 1e-4,
            "{name} did not move"
        );
    }
}

#[test]
fn saved_state_resumes_to_the_same_weights() {
    let fx = fixture();
    let (vs, vars) = var_store(&fx);
    let mut opt = AdamW::new(&vs, 0.01, 1e-8).unwrap();
    run(&mut opt, &vars, &fx, 0..3);
    let state: HashMap<String, Tensor> = opt.state().unwrap().into_iter().map(|(k, t)| (k, t.copy())).collect();
    let weights: HashMap<String, Tensor> = vars.iter().map(|(k, v)| (k.clone(), v.detach().copy())).collect();

    // A fresh process: new variables at the saved weights, a new optimizer from the saved state.
    let (vs2, vars2) = var_store(&fx);
    tch::no_grad(|| {
        for (name, var) in &vars2 {
            var.shallow_clone().copy_(&weights[name]);
        }
    });
    let mut resumed = AdamW::new(&vs2, 0.01, 1e-8).unwrap();
    resumed.load_state(&state, 999).unwrap();
    assert_eq!(
        resumed.steps(),
        3,
        "the step count comes from the state, not the fallback"
    );
    run(&mut resumed, &vars2, &fx, 3..STEPS);
    run(&mut opt, &vars, &fx, 3..STEPS);
    for (name, var) in &vars {
        assert_eq!(max_diff(var, &vars2[name]), 0.0, "{name}: resumed run differs");
    }
}

#[test]
fn a_flagged_update_is_skipped_on_the_device() {
    let fx = fixture();
    let (vs, vars) = var_store(&fx);
    let mut opt = AdamW::new(&vs, 0.01, 1e-8).unwrap();
    run(&mut opt, &vars, &fx, 0..2);
    let before: HashMap<String, Tensor> = vars.iter().map(|(k, v)| (k.clone(), v.detach().copy())).collect();
    let moments_before: HashMap<String, Tensor> =
        opt.state().unwrap().into_iter().map(|(k, t)| (k, t.copy())).collect();
    set_grads(&vars, &fx, 2);
    let flag = Tensor::ones([1], (Kind::Float, Device::Cpu));
    opt.step(1e-3, Some(&flag)).unwrap();
    opt.skipped();
    opt.zero_grad().unwrap();
    for (name, var) in &vars {
        assert_eq!(
            max_diff(var, &before[name]),
            0.0,
            "{name} changed although the update was flagged"
        );
    }
    let after: HashMap<String, Tensor> = opt.state().unwrap().into_iter().collect();
    for (key, t) in &after {
        assert_eq!(max_diff(t, &moments_before[key]), 0.0, "{key} changed");
    }
    // The next real update continues at step 3, as if the flagged one never happened.
    assert_eq!(opt.steps(), 2);
    let (vs2, vars2) = var_store(&fx);
    let mut straight = AdamW::new(&vs2, 0.01, 1e-8).unwrap();
    run(&mut straight, &vars2, &fx, 0..STEPS);
    run(&mut opt, &vars, &fx, 2..STEPS);
    for (name, var) in &vars {
        assert_eq!(max_diff(var, &vars2[name]), 0.0, "{name}: the skip left a trace");
    }
}

#[test]
fn a_non_finite_weight_is_named() {
    let fx = fixture();
    let (vs, vars) = var_store(&fx);
    let opt = AdamW::new(&vs, 0.01, 1e-8).unwrap();
    assert_eq!(opt.first_non_finite().unwrap(), None);
    tch::no_grad(|| {
        let _ = vars["head.weight"].shallow_clone().get(3).get(2).fill_(f64::NAN);
    });
    assert_eq!(opt.first_non_finite().unwrap().as_deref(), Some("head.weight"));
}

#[test]
fn clipping_matches_torch_clip_grad_norm() {
    let fx = fixture();
    let (vs, vars) = var_store(&fx);
    let mut opt = AdamW::new(&vs, 0.01, 1e-8).unwrap();
    set_grads(&vars, &fx, 2);
    let grads: Vec<Tensor> = vars.values().map(|v| v.grad().copy()).collect();
    let expected_norm = Tensor::cat(&grads.iter().map(|g| g.reshape([-1])).collect::<Vec<_>>(), 0)
        .norm()
        .double_value(&[]);
    let norm = opt.clip_grad_norm(1.0).unwrap().double_value(&[]);
    assert!(
        (norm - expected_norm).abs() <= 1e-5 * expected_norm,
        "{norm} vs {expected_norm}"
    );
    assert!(
        norm > 1.0,
        "the fixture's step-2 gradients are large enough to be clipped"
    );
    let coef = 1.0 / (norm + 1e-6);
    for (var, g) in vars.values().zip(&grads) {
        let diff = max_diff(&var.grad(), &(g * coef));
        assert!(diff <= 1e-6, "clipped gradient differs by {diff:e}");
    }
}

#[test]
fn a_bad_saved_state_is_a_clear_error() {
    let fx = fixture();
    let (vs, vars) = var_store(&fx);
    let mut opt = AdamW::new(&vs, 0.01, 1e-8).unwrap();
    run(&mut opt, &vars, &fx, 0..1);
    let good: HashMap<String, Tensor> = opt.state().unwrap().into_iter().map(|(k, t)| (k, t.copy())).collect();
    let shallow = |m: &HashMap<String, Tensor>| -> HashMap<String, Tensor> {
        m.iter().map(|(k, t)| (k.clone(), t.shallow_clone())).collect()
    };
    let mut bad_step = shallow(&good);
    bad_step.insert("step".into(), Tensor::from(-1.5f32));
    let e = opt.load_state(&bad_step, 0).unwrap_err().to_string();
    assert_eq!(e, "optimizer state \"step\" is [-1.5], expected one whole number >= 0");
    let mut missing = shallow(&good);
    missing.remove("exp_avg.head.weight");
    let e = opt.load_state(&missing, 0).unwrap_err().to_string();
    assert_eq!(e, "optimizer state lacks exp_avg.head.weight");
    // Damaged moments would make the weights NaN at the first update after resuming.
    for (key, value, expected) in [
        ("exp_avg.head.weight", f32::NAN, "infinite or NaN"),
        ("exp_avg_sq.head.weight", f32::INFINITY, "negative, infinite or NaN"),
        ("exp_avg_sq.head.weight", -1e-9, "negative, infinite or NaN"),
    ] {
        let mut damaged = shallow(&good);
        let moment = good[key].copy();
        let _ = moment.view([-1]).get(3).fill_(value as f64);
        damaged.insert(key.into(), moment);
        let e = opt.load_state(&damaged, 0).unwrap_err().to_string();
        assert_eq!(e, format!("optimizer state {key} holds a value that is {expected}"));
    }
    assert!(opt.load_state(&good, 0).is_ok(), "the saved state itself loads");
    let mut fp16 = AdamW::new(&vs, 0.01, 1e-8).unwrap().with_loss_scaling().unwrap();
    let scaler_state = |key: &str, value: Tensor| {
        let mut state = shallow(&good);
        state.insert("grad_scaler.scale".into(), Tensor::from(1024f32));
        state.insert("grad_scaler.growth_tracker".into(), Tensor::from(7i32));
        state.insert(key.into(), value);
        state
    };
    let e = fp16
        .load_state(
            &scaler_state("grad_scaler.scale", Tensor::from_slice(&[1.0f32, 2.0])),
            0,
        )
        .unwrap_err()
        .to_string();
    assert_eq!(e, "optimizer state grad_scaler.scale has shape [2], expected [1]");
    // A scale of 0, inf or NaN would skip every update for ever; a tracker at the growth interval
    // would never let the scale grow.
    for (key, value, expected) in [
        (
            "grad_scaler.scale",
            Tensor::from(0f32),
            "0, expected a finite number > 0",
        ),
        (
            "grad_scaler.scale",
            Tensor::from(f32::NAN),
            "NaN, expected a finite number > 0",
        ),
        (
            "grad_scaler.scale",
            Tensor::from(f32::INFINITY),
            "inf, expected a finite number > 0",
        ),
        (
            "grad_scaler.growth_tracker",
            Tensor::from(2000i32),
            "2000, expected a whole number from 0 to 1999",
        ),
        (
            "grad_scaler.growth_tracker",
            Tensor::from(-1i32),
            "-1, expected a whole number from 0 to 1999",
        ),
        (
            "grad_scaler.growth_tracker",
            Tensor::from(1.5f32),
            "1.5, expected a whole number from 0 to 1999",
        ),
    ] {
        let e = fp16.load_state(&scaler_state(key, value), 0).unwrap_err().to_string();
        assert_eq!(e, format!("optimizer state {key} is {expected}"));
    }
    fp16.load_state(&scaler_state("grad_scaler.scale", Tensor::from(512f32)), 0)
        .unwrap();
    let state: HashMap<String, Tensor> = fp16.state().unwrap().into_iter().collect();
    assert_eq!(state["grad_scaler.scale"].double_value(&[0]), 512.0);
    assert_eq!(state["grad_scaler.growth_tracker"].double_value(&[0]), 7.0);
}
