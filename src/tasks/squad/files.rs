//! The SQuAD-format prediction files of the reference: `json.dumps(obj, indent=4) + "\n"` with
//! non-ASCII escaped, byte for byte.
use super::decode::NbestEntry;
use crate::text::python::{json_float, json_object, push_json_str};

/// `predictions_<step>.json`: `json.dumps(OrderedDict(qas_id -> answer), indent=4) + "\n"`, non-ASCII escaped.
/// A repeated id keeps its first position and takes its last answer (Python dict assignment).
pub fn predictions_json(preds: &[(String, String)]) -> String {
    json_object(preds, |out, v| push_json_str(out, v))
}

/// `nbest_predictions_<step>.json`: qas_id -> list of `{text, probability, start_logit, end_logit}`.
pub fn nbest_json(nbest: &[(String, Vec<NbestEntry>)]) -> String {
    json_object(nbest, |out, entries| {
        if entries.is_empty() {
            out.push_str("[]");
            return;
        }
        out.push_str("[\n");
        for (i, e) in entries.iter().enumerate() {
            out.push_str("        {\n            \"text\": ");
            push_json_str(out, &e.text);
            out.push_str(",\n            \"probability\": ");
            out.push_str(&json_float(e.probability));
            out.push_str(",\n            \"start_logit\": ");
            out.push_str(&json_float(e.start_logit));
            out.push_str(",\n            \"end_logit\": ");
            out.push_str(&json_float(e.end_logit));
            out.push_str(if i + 1 < entries.len() {
                "\n        },\n"
            } else {
                "\n        }\n"
            });
        }
        out.push_str("    ]");
    })
}

/// `null_odds_<step>.json` (SQuAD 2.0): qas_id -> null odds.
pub fn null_odds_json(null_odds: &[(String, f64)]) -> String {
    json_object(null_odds, |out, v| out.push_str(&json_float(*v)))
}
