//! Layers with Hugging Face's initialisation (`_init_weights`), shared by the encoder families.
use tch::nn;

/// HF's `_init_weights` for a Linear: N(0, initializer_range) weights, zero bias.
pub fn linear(p: nn::Path, in_dim: i64, out_dim: i64, initializer_range: f64) -> nn::Linear {
    let lin_cfg = nn::LinearConfig {
        ws_init: nn::Init::Randn {
            mean: 0.,
            stdev: initializer_range,
        },
        bs_init: Some(nn::Init::Const(0.)),
        bias: true,
    };
    nn::linear(p, in_dim, out_dim, lin_cfg)
}

/// LayerNorm over the last dimension, weight 1 and bias 0.
pub fn layer_norm(p: nn::Path, dim: i64, eps: f64) -> nn::LayerNorm {
    let ln_cfg = nn::LayerNormConfig {
        eps,
        ..Default::default()
    };
    nn::layer_norm(p, vec![dim], ln_cfg)
}

/// An embedding table, N(0, initializer_range), with the `padding_idx` row zeroed (-1: none).
pub fn embedding(p: nn::Path, n: i64, dim: i64, padding_idx: i64, initializer_range: f64) -> nn::Embedding {
    let emb_cfg = nn::EmbeddingConfig {
        ws_init: nn::Init::Randn {
            mean: 0.,
            stdev: initializer_range,
        },
        padding_idx,
        ..Default::default()
    };
    let emb = nn::embedding(p, n, dim, emb_cfg);
    if (0..n).contains(&padding_idx) {
        // HF zeroes the padding row at init; padding_idx also keeps its gradient at zero.
        tch::no_grad(|| {
            let _ = emb.ws.get(padding_idx).zero_();
        });
    }
    emb
}
