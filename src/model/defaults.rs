//! serde defaults for the families' config.json keys (HF's class defaults): each config struct
//! names its value (`defaults::int::<768>`) instead of declaring a function per key.

/// An integer default.
pub fn int<const V: i64>() -> i64 {
    V
}

/// HF's dropout probabilities: 0.1.
pub fn dropout() -> f64 {
    0.1
}

/// HF's `initializer_range`: 0.02.
pub fn initializer_range() -> f64 {
    0.02
}

/// BERT's and ELECTRA's `layer_norm_eps`: 1e-12.
pub fn layer_norm_eps() -> f64 {
    1e-12
}

/// `hidden_act` / `activation`: the exact (erf) GELU.
pub fn gelu() -> String {
    "gelu".into()
}

/// `position_embedding_type`.
pub fn absolute() -> String {
    "absolute".into()
}
