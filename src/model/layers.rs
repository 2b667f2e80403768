//! Layers with Hugging Face's initialisation (`_init_weights`), shared by the encoder families.
//!
//! Built through tch's fallible variable API, so a failed allocation is an error, not a panic.
use anyhow::Result;
use tch::{nn, nn::Init, Device, Tensor};

use super::Packing;
use crate::device::shim;

/// HF's `_init_weights` for a Linear: N(0, initializer_range) weights, zero bias.
pub fn linear(p: nn::Path, in_dim: i64, out_dim: i64, initializer_range: f64) -> Result<nn::Linear> {
    // Bias first, as tch's `nn::linear` creates them.
    let bs = p.f_var("bias", &[out_dim], Init::Const(0.))?;
    let ws = p.f_var("weight", &[out_dim, in_dim], normal(initializer_range))?;
    Ok(nn::Linear { ws, bs: Some(bs) })
}

fn normal(stdev: f64) -> Init {
    Init::Randn { mean: 0., stdev }
}

/// LayerNorm over the last dimension, weight 1 and bias 0 (tch's `nn::LayerNorm`, built fallibly).
#[derive(Debug)]
pub struct LayerNorm {
    ws: Tensor,
    bs: Tensor,
    dim: i64,
    eps: f64,
}

pub fn layer_norm(p: nn::Path, dim: i64, eps: f64) -> Result<LayerNorm> {
    let ws = p.f_var("weight", &[dim], Init::Const(1.))?;
    let bs = p.f_var("bias", &[dim], Init::Const(0.))?;
    Ok(LayerNorm { ws, bs, dim, eps })
}

impl nn::Module for LayerNorm {
    fn forward(&self, xs: &Tensor) -> Tensor {
        Tensor::layer_norm(xs, [self.dim], Some(&self.ws), Some(&self.bs), self.eps, true)
    }
}

/// An embedding table (tch's `nn::Embedding`, built fallibly).
#[derive(Debug)]
pub struct Embedding {
    pub ws: Tensor,
    padding_idx: i64,
}

/// An embedding table, N(0, initializer_range), with the `padding_idx` row zeroed (-1: none).
pub fn embedding(p: nn::Path, n: i64, dim: i64, padding_idx: i64, initializer_range: f64) -> Result<Embedding> {
    let ws = p.f_var("weight", &[n, dim], normal(initializer_range))?;
    if (0..n).contains(&padding_idx) {
        // HF zeroes the padding row at init; padding_idx also keeps its gradient at zero.
        tch::no_grad(|| ws.f_get(padding_idx).and_then(|mut row| row.f_zero_().map(drop)))?;
    }
    Ok(Embedding { ws, padding_idx })
}

impl nn::Module for Embedding {
    fn forward(&self, xs: &Tensor) -> Tensor {
        Tensor::embedding(&self.ws, xs, self.padding_idx, false, false)
    }
}

/// Scaled dot-product attention of `q` over `k`/`v` (`[batch, heads, seq, head_dim]` each) with an
/// additive `mask` (`[batch, 1, 1, seq]`) and dropout on the probabilities (`0.0` outside training):
/// libtorch's fused SDPA, except for dropout on the CPU, where its unfused fallback is several times
/// slower than HF's eager softmax(q·kᵀ/√d + mask)·v.
pub fn attention(q: &Tensor, k: &Tensor, v: &Tensor, mask: &Tensor, p: f64) -> Tensor {
    if p > 0.0 && q.device() == Device::Cpu {
        let scale = 1.0 / (q.size()[3] as f64).sqrt();
        let scores = q.matmul(&k.transpose(-1, -2)) * scale + mask;
        dropout(scores.softmax(-1, scores.kind()), p, true).matmul(v)
    } else {
        log_attention_backend(q, k, v, mask, p);
        Tensor::scaled_dot_product_attention(q, k, v, Some(mask), p, false, None, false)
    }
}

/// What a layer's attention needs besides its inputs: the additive mask (`[batch, 1, 1, seq]`)
/// and, when the hidden states are packed (`[tokens, hidden]`, real tokens only), the [`Packing`].
#[derive(Debug, Clone, Copy)]
pub struct Attend<'a> {
    pub mask: &'a Tensor,
    pub packing: Option<&'a Packing>,
}

impl<'a> Attend<'a> {
    /// Padded hidden states, `[batch, seq, hidden]`.
    pub fn padded(mask: &'a Tensor) -> Self {
        Self { mask, packing: None }
    }
}

/// The multi-head core that ELECTRA/BERT's `attention.self` and DistilBERT's `attention` share:
/// query, key and value projections, then [`attention`] over `num_heads` heads.
#[derive(Debug)]
pub struct MultiHeadAttention {
    query: nn::Linear,
    key: nn::Linear,
    value: nn::Linear,
    num_heads: i64,
    dropout: f64,
}

impl MultiHeadAttention {
    /// The projections at `p / names` (the family's HF names, e.g. `query`, `key`, `value`),
    /// created in that order (HF's module order, so a fresh model draws the same init sequence).
    pub fn new(p: &nn::Path, names: [&str; 3], dim: i64, num_heads: i64, dropout: f64, init: f64) -> Result<Self> {
        let [q, k, v] = names;
        Ok(Self {
            query: linear(p / q, dim, dim, init)?,
            key: linear(p / k, dim, dim, init)?,
            value: linear(p / v, dim, dim, init)?,
            num_heads,
            dropout,
        })
    }

    /// Attention of `queries` over `xs`, the heads joined back, in the queries' layout. Padded:
    /// `queries` `[batch, q, dim]`, `xs` `[batch, seq, dim]`. Packed: `xs` `[tokens, dim]`, and
    /// `queries` either `xs` itself or the first positions, `[batch, dim]`; the projections run on
    /// the packed rows and only attention runs padded.
    pub fn forward_t(&self, queries: &Tensor, xs: &Tensor, attend: &Attend, train: bool) -> Tensor {
        let (b, d) = (attend.mask.size()[0], xs.size()[xs.dim() - 1]);
        let split = |t: &Tensor| t.view([b, -1, self.num_heads, d / self.num_heads]).transpose(1, 2);
        let p = if train { self.dropout } else { 0.0 };
        let heads = |q: &Tensor, k: &Tensor, v: &Tensor| {
            attention(&split(q), &split(k), &split(v), attend.mask, p)
                .transpose(1, 2)
                .contiguous()
        };
        let spread = |t: Tensor| match attend.packing {
            Some(packing) => packing.spread(&t),
            None => t,
        };
        if queries.size() == xs.size() && queries.data_ptr() == xs.data_ptr() {
            // Self-attention: one product and (packed) one spread for all three projections.
            let qkv = spread(fused_linear(xs, &[&self.query, &self.key, &self.value])).split(d, -1);
            let out = heads(&qkv[0], &qkv[1], &qkv[2]);
            return match attend.packing {
                Some(packing) => packing.gather(&out.view([-1, d])),
                None => out.view([b, -1, d]),
            };
        }
        let kv = spread(fused_linear(xs, &[&self.key, &self.value])).split(d, -1);
        let out = heads(&queries.apply(&self.query), &kv[0], &kv[1]);
        match attend.packing {
            Some(_) => out.view([b, d]),
            None => out.view([b, -1, d]),
        }
    }
}

/// `xs` through several linear layers of the same input width at once, their outputs side by side
/// on the last dimension: one matrix product over the stacked weights instead of one per layer,
/// which in the backward also saves the sum of the input's gradients (fewer kernel launches, the
/// host's cost on a GPU).
fn fused_linear(xs: &Tensor, layers: &[&nn::Linear]) -> Tensor {
    let ws: Vec<&Tensor> = layers.iter().map(|l| &l.ws).collect();
    let bs: Option<Vec<&Tensor>> = layers.iter().map(|l| l.bs.as_ref()).collect();
    xs.linear(&Tensor::cat(&ws, 0), bs.map(|bs| Tensor::cat(&bs, 0)).as_ref())
}

/// Logs, once per process and case (training with dropout, or not), which SDPA kernel libtorch
/// picks for these inputs (`torch._fused_sdp_choice`): flash, memory-efficient, cuDNN or math.
fn log_attention_backend(q: &Tensor, k: &Tensor, v: &Tensor, mask: &Tensor, dropout: f64) {
    static LOGGED: [std::sync::Once; 2] = [std::sync::Once::new(), std::sync::Once::new()];
    LOGGED[usize::from(dropout > 0.0)].call_once(|| {
        let name = match Tensor::f_internal_fused_sdp_choice(q, k, v, Some(mask), dropout, false, None, false) {
            Ok(0) => "math (unfused)",
            Ok(1) => "flash attention",
            Ok(2) => "memory-efficient attention",
            Ok(3) => "cuDNN attention",
            Ok(_) => "another backend",
            Err(_) => "unknown",
        };
        let case = if dropout > 0.0 {
            "training (dropout)"
        } else {
            "no dropout"
        };
        log::info!(
            "attention on {}, {case}: SDPA {name} kernel, {:?}",
            crate::device::name(q.device()),
            q.kind()
        );
    });
}

/// `xs` with dropout `p` in training; no kernel runs (and no random number is drawn) when `p` is 0.
/// On the CPU the mask comes from the shim (`dropout_mask`, several times faster than libtorch's
/// CPU dropout) with a seed from the default CPU generator, so `tch::manual_seed` decides the
/// masks; on CUDA libtorch's fused kernel runs.
pub fn dropout(xs: Tensor, p: f64, train: bool) -> Tensor {
    if !train || p <= 0.0 {
        return xs;
    }
    if xs.device() != Device::Cpu || p >= 1.0 {
        return xs.dropout(p, true);
    }
    match shim::cpu_generator_seed().and_then(|seed| shim::dropout_mask(&xs, p, seed)) {
        Ok(mask) => xs * mask,
        // Forward passes run under `error::catch_panic`, which turns this into the step's error,
        // as it does for tch's own (panicking) ops.
        Err(e) => panic!("{e:#}"),
    }
}

/// A transformer layer: every position, or given queries (the first position) attending to all.
/// Hidden states are padded or packed as [`Attend`] says; every step but attention works row by row.
pub trait Block {
    /// The layer's output at the positions of `queries` only (keys and values from all of `xs`).
    fn forward_queries_t(&self, queries: &Tensor, xs: &Tensor, attend: &Attend, train: bool) -> Tensor;

    fn forward_t(&self, xs: &Tensor, attend: &Attend, train: bool) -> Tensor {
        self.forward_queries_t(xs, xs, attend, train)
    }
}

/// The final hidden states of a layer stack, `[batch, seq, hidden]`.
pub fn stack_forward_t<B: Block>(layers: &[B], xs: Tensor, mask: &Tensor, train: bool) -> Tensor {
    let attend = Attend::padded(mask);
    layers.iter().fold(xs, |xs, layer| layer.forward_t(&xs, &attend, train))
}

/// The final hidden states of the real tokens, packed (`[tokens, hidden]`, see [`Packing`]): the
/// values of `packing.pack(&stack_forward_t(..))` up to rounding, every dense step skipping padding.
pub fn stack_forward_packed_t<B: Block>(
    layers: &[B],
    xs: &Tensor,
    mask: &Tensor,
    packing: &Packing,
    train: bool,
) -> Tensor {
    let attend = Attend {
        mask,
        packing: Some(packing),
    };
    layers
        .iter()
        .fold(packing.pack(xs), |xs, layer| layer.forward_t(&xs, &attend, train))
}

/// The same values as `stack_forward_t(..).narrow(1, 0, 1)` (up to rounding), with less work: the
/// last layer computes just the first position's query and feed-forward (a classification head
/// reads nothing else), saving about 1/N; and with a `packing`, every dense step skips padding.
pub fn stack_forward_first_t<B: Block>(
    layers: &[B],
    xs: Tensor,
    mask: &Tensor,
    packing: Option<&Packing>,
    train: bool,
) -> Tensor {
    let Some((last, inner)) = layers.split_last() else {
        return xs.narrow(1, 0, 1);
    };
    let attend = Attend { mask, packing };
    let xs = match packing {
        Some(packing) => stack_forward_packed_t(inner, &xs, mask, packing, train),
        None => inner.iter().fold(xs, |xs, layer| layer.forward_t(&xs, &attend, train)),
    };
    match packing {
        Some(packing) => last
            .forward_queries_t(&packing.firsts(&xs), &xs, &attend, train)
            .unsqueeze(1),
        None => last.forward_queries_t(&xs.narrow(1, 0, 1), &xs, &attend, train),
    }
}
