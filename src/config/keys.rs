//! The key table: every key a config may hold and the JSON kind (and range) of its value. The
//! [`super::Config`] struct holds one field per key; a test proves the two agree.
use serde_json::Value;

use crate::tasks::TaskKind;

/// Keys a config must hold; every other key has a default (see `impl Default for Config`).
pub const REQUIRED_KEYS: &[&str] = &["task", "model_type"];

/// The JSON type (and range) a config key must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// A JSON string.
    Str,
    /// A JSON string or null.
    OptStr,
    /// true or false.
    Bool,
    /// true, false or null.
    OptBool,
    /// An integer > 0 (an integral float such as `10.0` is accepted).
    PosInt,
    /// An integer >= 0.
    NonNegInt,
    /// Any integer.
    Int,
    /// Any JSON number.
    Number,
    /// A JSON object or null.
    OptObject,
    /// A list of strings (a single string is read as a one-element list).
    StrList,
}

impl KeyKind {
    /// What the error message says a value of this kind must be.
    pub fn expected(self) -> &'static str {
        match self {
            KeyKind::Str => "a string",
            KeyKind::OptStr => "a string or null",
            KeyKind::Bool => "true or false",
            KeyKind::OptBool => "true, false or null",
            KeyKind::PosInt => "a positive integer",
            KeyKind::NonNegInt => "a non-negative integer",
            KeyKind::Int => "an integer",
            KeyKind::Number => "a number",
            KeyKind::OptObject => "a JSON object or null",
            KeyKind::StrList => "a string or a list of strings",
        }
    }

    /// The value in canonical form (integers as JSON integers), `None` when it has the wrong kind.
    pub fn normalize(self, v: &Value) -> Option<Value> {
        let ok = match self {
            KeyKind::Str => v.is_string(),
            KeyKind::OptStr => v.is_string() || v.is_null(),
            KeyKind::Bool => v.is_boolean(),
            KeyKind::OptBool => v.is_boolean() || v.is_null(),
            KeyKind::Number => v.is_number(),
            KeyKind::OptObject => v.is_object() || v.is_null(),
            KeyKind::StrList if v.is_string() => return Some(Value::Array(vec![v.clone()])),
            KeyKind::StrList => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            KeyKind::PosInt => return as_integer(v).filter(|i| *i > 0).map(Value::from),
            KeyKind::NonNegInt => return as_integer(v).filter(|i| *i >= 0).map(Value::from),
            KeyKind::Int => return as_integer(v).map(Value::from),
        };
        ok.then(|| v.clone())
    }
}

/// A JSON number with an integral value, as i64.
fn as_integer(v: &Value) -> Option<i64> {
    if let Some(i) = v.as_i64() {
        return Some(i);
    }
    let f = v.as_f64()?;
    (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

/// Every key a config may hold and its kind: the 30 seq-cls/NER keys, the KorQuAD keys, then ours.
pub const KEYS: &[(&str, KeyKind)] = &[
    ("task", KeyKind::Str),
    ("data_dir", KeyKind::Str),
    ("ckpt_dir", KeyKind::Str),
    ("train_file", KeyKind::Str),
    ("dev_file", KeyKind::Str),
    ("test_file", KeyKind::Str),
    ("evaluate_test_during_training", KeyKind::Bool),
    ("eval_all_checkpoints", KeyKind::Bool),
    ("save_optimizer", KeyKind::Bool),
    ("do_lower_case", KeyKind::Bool),
    ("do_train", KeyKind::Bool),
    ("do_eval", KeyKind::Bool),
    ("max_seq_len", KeyKind::PosInt),
    ("num_train_epochs", KeyKind::PosInt),
    ("weight_decay", KeyKind::Number),
    ("gradient_accumulation_steps", KeyKind::PosInt),
    ("adam_epsilon", KeyKind::Number),
    ("warmup_proportion", KeyKind::Number),
    ("warmup_steps", KeyKind::NonNegInt),
    ("lr_scheduler_type", KeyKind::Str),
    ("max_steps", KeyKind::Int),
    ("max_grad_norm", KeyKind::Number),
    ("no_cuda", KeyKind::Bool),
    ("model_type", KeyKind::Str),
    ("model_name_or_path", KeyKind::Str),
    ("output_dir", KeyKind::Str),
    ("seed", KeyKind::NonNegInt),
    ("train_batch_size", KeyKind::PosInt),
    ("eval_batch_size", KeyKind::PosInt),
    ("logging_steps", KeyKind::NonNegInt),
    ("save_steps", KeyKind::NonNegInt),
    ("learning_rate", KeyKind::Number),
    ("predict_file", KeyKind::Str),
    ("threads", KeyKind::PosInt),
    ("version_2_with_negative", KeyKind::Bool),
    ("null_score_diff_threshold", KeyKind::Number),
    ("max_seq_length", KeyKind::PosInt),
    ("doc_stride", KeyKind::PosInt),
    ("max_query_length", KeyKind::PosInt),
    ("max_answer_length", KeyKind::PosInt),
    ("n_best_size", KeyKind::PosInt),
    ("verbose_logging", KeyKind::Bool),
    ("overwrite_output_dir", KeyKind::Bool),
    ("evaluate_during_training", KeyKind::Bool),
    ("group_by_length", KeyKind::Bool),
    ("token_packing", KeyKind::Bool),
    ("bf16", KeyKind::Bool),
    ("fp16", KeyKind::Bool),
    ("tf32", KeyKind::OptBool),
    ("full_determinism", KeyKind::Bool),
    ("torch_empty_cache_steps", KeyKind::NonNegInt),
    ("ner_score_truncated", KeyKind::Bool),
    ("early_stopping_patience", KeyKind::NonNegInt),
    ("early_stopping_threshold", KeyKind::Number),
    ("save_total_limit", KeyKind::NonNegInt),
    ("load_best_model_at_end", KeyKind::Bool),
    ("report_to", KeyKind::StrList),
    ("squad_reference_xlmr_offset", KeyKind::Bool),
    ("xlmr_slow_tokenizer", KeyKind::Bool),
    ("model_config", KeyKind::OptObject),
    ("vocab_file", KeyKind::OptStr),
    ("resume_from_checkpoint", KeyKind::Str),
];

/// The kind of a known key, `None` for an unknown one.
pub fn key_kind(key: &str) -> Option<KeyKind> {
    KEYS.iter().find(|(k, _)| *k == key).map(|(_, kind)| *kind)
}

const SEQ_CLS_AND_NER: &[TaskKind] = &[TaskKind::SeqCls, TaskKind::Ner];
const SQUAD: &[TaskKind] = &[TaskKind::Squad];

/// Keys that act on some task kinds only; every other key acts on all of them. squad reads one
/// `predict_file` and pads every window to `max_seq_length`, seq-cls and ner read
/// `dev_file`/`test_file` and pad to `max_seq_len`.
const KEYS_OF_SOME_TASKS: &[(&str, &[TaskKind])] = &[
    ("dev_file", SEQ_CLS_AND_NER),
    ("test_file", SEQ_CLS_AND_NER),
    ("evaluate_test_during_training", SEQ_CLS_AND_NER),
    ("max_seq_len", SEQ_CLS_AND_NER),
    ("group_by_length", SEQ_CLS_AND_NER),
    ("token_packing", SEQ_CLS_AND_NER),
    ("ner_score_truncated", &[TaskKind::Ner]),
    ("predict_file", SQUAD),
    ("threads", SQUAD),
    ("version_2_with_negative", SQUAD),
    ("null_score_diff_threshold", SQUAD),
    ("max_seq_length", SQUAD),
    ("doc_stride", SQUAD),
    ("max_query_length", SQUAD),
    ("max_answer_length", SQUAD),
    ("n_best_size", SQUAD),
    ("verbose_logging", SQUAD),
    ("evaluate_during_training", SQUAD),
    ("squad_reference_xlmr_offset", SQUAD),
];

/// The task kinds `key` acts on, `None` when it acts on every task.
pub fn key_task_kinds(key: &str) -> Option<&'static [TaskKind]> {
    KEYS_OF_SOME_TASKS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, kinds)| *kinds)
}

/// The known key closest in spelling to `key`.
pub fn closest_key(key: &str) -> &'static str {
    crate::error::closest(key, KEYS.iter().map(|(k, _)| *k)).unwrap_or("task")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// A value of `kind` that the key table accepts.
    fn sample(kind: KeyKind) -> Value {
        match kind {
            KeyKind::Str | KeyKind::OptStr => Value::from("x"),
            KeyKind::Bool | KeyKind::OptBool => Value::from(true),
            KeyKind::PosInt | KeyKind::NonNegInt | KeyKind::Int => Value::from(3),
            KeyKind::Number => Value::from(0.5),
            KeyKind::OptObject => serde_json::json!({"hidden_size": 8}),
            KeyKind::StrList => serde_json::json!(["x"]),
        }
    }

    /// The struct and the table name the same keys: every table key deserializes into the struct
    /// (which denies unknown fields), and a struct with every optional field set serializes to
    /// exactly the table's keys, in the table's order.
    #[test]
    fn struct_and_table_agree() {
        let mut object = serde_json::Map::new();
        for (key, kind) in KEYS {
            object.insert(key.to_string(), sample(*kind));
        }
        let config: Config = serde_json::from_value(Value::Object(object)).expect("every table key is a field");
        let serialized = serde_json::to_value(&config).expect("serializes");
        let fields: Vec<&str> = serialized
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let table: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
        assert_eq!(fields, table);
        for (key, kind) in KEYS {
            assert!(kind.normalize(&sample(*kind)).is_some(), "{key}");
        }
        assert!(REQUIRED_KEYS.iter().all(|k| key_kind(k).is_some()));
    }
}
