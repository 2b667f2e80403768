//! CPU dropout: libtorch's `dropout` against ours (the shim's counter-based mask times the input),
//! microseconds per call, forward alone and forward + backward, on a small model's activation
//! shapes (batch 32 of 38 tokens: hidden `[1216, 256]`, attention probabilities `[32, 4, 38, 38]`).
//!
//!     cargo bench --bench dropout [-- ITERATIONS]
//!
//! Prints one markdown table (medians).
use std::time::Instant;

use koelectra_ft::model::layers::dropout;
use tch::{Device, Kind, Tensor};

const P: f64 = 0.1;

/// Median microseconds of `iterations` calls of `f`, after 10 untimed ones.
fn median_us(iterations: usize, mut f: impl FnMut()) -> f64 {
    (0..10).for_each(|_| f());
    let mut times: Vec<f64> = (0..iterations)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn row(name: &str, shape: &[i64], iterations: usize) {
    let xs = Tensor::randn(shape, (Kind::Float, Device::Cpu)).set_requires_grad(true);
    let fwd_torch = median_us(iterations, || drop(xs.dropout(P, true)));
    let fwd_ours = median_us(iterations, || drop(dropout(xs.shallow_clone(), P, true)));
    let both = |f: &dyn Fn(&Tensor) -> Tensor| {
        median_us(iterations, || {
            f(&xs).sum(Kind::Float).f_backward().expect("backward");
            let _ = xs.grad().zero_();
        })
    };
    let both_torch = both(&|x| x.dropout(P, true));
    let both_ours = both(&|x| dropout(x.shallow_clone(), P, true));
    println!(
        "| {name} {shape:?} | {fwd_torch:.0} | {fwd_ours:.0} | {:.1}× | {both_torch:.0} | {both_ours:.0} | {:.1}× |",
        fwd_torch / fwd_ours,
        both_torch / both_ours
    );
}

fn main() {
    let iterations = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(200);
    if std::env::var_os("OMP_NUM_THREADS").is_none() {
        tch::set_num_threads(std::thread::available_parallelism().map_or(1, |n| n.get() as i32));
    }
    println!(
        "threads {}, p {P}, {iterations} calls each (median µs)\n",
        tch::get_num_threads()
    );
    println!("| tensor | libtorch forward | ours forward | ratio | libtorch fwd+bwd | ours fwd+bwd | ratio |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    row("hidden", &[1216, 256], iterations);
    row("attention", &[32, 4, 38, 38], iterations);
}
