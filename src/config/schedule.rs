//! The learning-rate schedule names of `lr_scheduler_type` (transformers' `get_scheduler`); the
//! multipliers themselves are in `train::schedule`.

/// The multiplier given for `lr_end` below the initial rate (HF's polynomial default, 1e-7).
pub const POLYNOMIAL_LR_END: f64 = 1e-7;

/// The schedules HF's `get_scheduler` names (`lr_scheduler_type`), with its default arguments:
/// cosine half a cycle, cosine_with_restarts one cycle, polynomial to `lr_end` 1e-7 with power 1,
/// inverse_sqrt with a timescale of the warmup steps (else 10,000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleKind {
    Linear,
    Cosine,
    CosineWithRestarts,
    Polynomial,
    Constant,
    ConstantWithWarmup,
    InverseSqrt,
}

impl ScheduleKind {
    pub const NAMES: [&'static str; 7] = [
        "linear",
        "cosine",
        "cosine_with_restarts",
        "polynomial",
        "constant",
        "constant_with_warmup",
        "inverse_sqrt",
    ];

    /// The kind of an `lr_scheduler_type` value.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "linear" => Self::Linear,
            "cosine" => Self::Cosine,
            "cosine_with_restarts" => Self::CosineWithRestarts,
            "polynomial" => Self::Polynomial,
            "constant" => Self::Constant,
            "constant_with_warmup" => Self::ConstantWithWarmup,
            "inverse_sqrt" => Self::InverseSqrt,
            _ => return None,
        })
    }
}
