//! Our AdamW update on a KoELECTRA-shaped model: milliseconds per update (clip to 1.0 + fused
//! AdamW step + zero_grad), as `benches/optim.py` compares it with `torch.optim.AdamW(fused=True)`.
//!
//!     cargo bench --bench optim -- [small|base] [UPDATES]
//!
//! Prints one JSON object: parameters, threads, median and mean milliseconds per update.
use std::time::Instant;

use koelectra_ft::model::electra::ElectraConfig;
use koelectra_ft::model::heads::SequenceClassifier;
use koelectra_ft::train::optim::AdamW;
use tch::{nn::VarStore, Device, Kind, Tensor};

fn config(size: &str) -> ElectraConfig {
    let (e, h, heads, i) = match size {
        "base" => (768, 768, 12, 3072),
        _ => (128, 256, 4, 1024),
    };
    let json = serde_json::json!({
        "vocab_size": 35000, "embedding_size": e, "hidden_size": h, "num_hidden_layers": 12,
        "num_attention_heads": heads, "intermediate_size": i, "max_position_embeddings": 512,
    });
    ElectraConfig::from_value(json).expect("valid config")
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let size = args.first().map_or("small", String::as_str);
    let updates: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    if std::env::var_os("OMP_NUM_THREADS").is_none() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        tch::set_num_threads(cores as i32);
    }
    tch::manual_seed(0);
    let vs = VarStore::new(Device::Cpu);
    let _model = SequenceClassifier::new(&vs.root(), &config(size).model_config()?, 2)?;
    let mut opt = AdamW::new(&vs, 0.01, 1e-8)?;
    let params: i64 = vs.variables().values().map(|t| t.numel() as i64).sum();
    let mut times = Vec::with_capacity(updates);
    for step in 0..updates + 3 {
        // Gradients as backward leaves them: written into each variable's .grad.
        for var in vs.trainable_variables() {
            let mut grad = var.grad();
            if !grad.defined() {
                let g = Tensor::zeros_like(&var);
                (&var * &g).sum(Kind::Float).f_backward()?;
                grad = var.grad();
            }
            let _ = tch::no_grad(|| grad.normal_(0.0, 1e-3));
        }
        let started = Instant::now();
        let norm = opt.clip_grad_norm(1.0)?;
        opt.step(
            1e-4,
            Some(
                &norm
                    .f_isfinite()?
                    .f_logical_not()?
                    .f_to_kind(Kind::Float)?
                    .f_reshape([1])?,
            ),
        )?;
        opt.zero_grad()?;
        let _ = koelectra_ft::device::read_f64(&norm)?;
        if step >= 3 {
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let out = serde_json::json!({
        "impl": "koelectra-ft", "size": size, "parameters": params, "threads": tch::get_num_threads(),
        "updates": updates, "median_ms": median, "mean_ms": mean,
    });
    println!("{out}");
    Ok(())
}
