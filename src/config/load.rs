//! Loading a config: the name resolved to a file or to the copy embedded in the binary, the JSON
//! parsed, `--set key=value` overrides applied, every key checked against the key table, the
//! struct deserialized and the values validated. Every error is one line naming the source.
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::{Map, Value};

use super::keys::{closest_key, key_kind, key_task_kinds, KeyKind, REQUIRED_KEYS};
use super::schedule::{ScheduleKind, POLYNOMIAL_LR_END};
use super::{usage_error, Config};
use crate::error::short_json;
use crate::tasks::TaskKind;

include!(concat!(env!("OUT_DIR"), "/embedded_configs.rs"));

/// Names (`<task>/<file>.json`) of the configs embedded in the binary, sorted.
pub fn embedded_config_names() -> Vec<&'static str> {
    EMBEDDED_CONFIGS.iter().map(|(name, _)| *name).collect()
}

/// The embedded config text for `<task>/<file>.json`.
pub fn embedded_config(name: &str) -> Option<&'static str> {
    let found = EMBEDDED_CONFIGS.iter().find(|(n, _)| *n == name);
    found.map(|(_, text)| *text)
}

/// The embedded config `<task>/<file>` (`.json` optional), for `koelectra-ft configs NAME`; a usage
/// error naming the closest embedded config otherwise.
pub fn embedded_config_named(name: &str) -> Result<&'static str> {
    let names = candidate_names(name);
    if let Some(text) = names.iter().find_map(|n| embedded_config(n)) {
        return Ok(text);
    }
    let with_suffix = names.last().map_or(name, String::as_str);
    let near = crate::error::closest(with_suffix, embedded_config_names()).unwrap_or_default();
    Err(usage_error(format!(
        "no embedded config {name:?} (did you mean {near:?}? `koelectra-ft configs` lists them as <task>/<name>)"
    )))
}

/// Loads the config `name` for `task`, applies `--set key=value` overrides and validates it.
///
/// `name` resolves to: standard input for `-`; `name` as a path if that file exists; else
/// `<config_dir>/<task>/<name>` (`config_dir` defaults to `configs`); else the embedded
/// `<task>/<name>`. A missing `.json` suffix is tried too. The config's `task` must equal `task`.
pub fn load_config(task: &str, name: &str, config_dir: Option<&Path>, overrides: &[String]) -> Result<Config> {
    let (label, text) = resolve_config(task, name, config_dir)?;
    parse(&label, &text, overrides, Some(task))
}

/// Parses config JSON `text` (`label` names its source in errors), applies overrides, validates.
pub fn parse_config(label: &str, text: &str, overrides: &[String]) -> Result<Config> {
    parse(label, text, overrides, None)
}

/// [`parse_config`], checking first that the config is one of `task` when given.
fn parse(label: &str, text: &str, overrides: &[String], task: Option<&str>) -> Result<Config> {
    let mut sources = Sources::new(label);
    let mut map = parse_json(label, text)?;
    apply_overrides(&mut map, overrides, &mut sources)?;
    check_keys(&mut map, &sources)?;
    // An unknown task is left to `validate`, whose message lists the known ones.
    let given = map.get("task").and_then(Value::as_str).unwrap_or_default();
    if let Some(task) = task.filter(|task| *task != given && TaskKind::of_task(given).is_some()) {
        return Err(usage_error(format!(
            "{}: config key \"task\" is {given:?} but --task is {task:?}",
            sources.label("task")
        )));
    }
    for (key, why) in inert_keys(&map) {
        log::warn!("{}: config key {key:?} has no effect: {why}", sources.label(&key));
    }
    let config: Config =
        serde_json::from_value(Value::Object(map)).map_err(|e| usage_error(format!("{label}: {e}")))?;
    validate(&config, &sources)?;
    Ok(config)
}

/// Where each key's value came from, for error messages.
struct Sources {
    /// The config file (or embedded name).
    file: String,
    /// Overridden keys and the `--set ...` argument that set them.
    overrides: BTreeMap<String, String>,
}

impl Sources {
    fn new(file: &str) -> Self {
        let overrides = BTreeMap::new();
        Sources {
            file: file.to_string(),
            overrides,
        }
    }

    fn label(&self, key: &str) -> &str {
        self.overrides.get(key).unwrap_or(&self.file)
    }
}

/// Finds the config text; returns (label for messages, text).
fn resolve_config(task: &str, name: &str, config_dir: Option<&Path>) -> Result<(String, String)> {
    if name == "-" {
        // `koelectra-ft configs nsmc/koelectra-base-v3 | jq ... | koelectra-ft seq-cls --config -`
        let text = crate::limits::read_text_capped(Path::new("/dev/stdin"), crate::limits::RUN_CONFIG_BYTES)
            .map_err(|e| usage_error(format!("{e:#}").replacen("/dev/stdin", "<stdin>", 1)))?;
        return Ok(("<stdin>".to_string(), text));
    }
    let names = candidate_names(name);
    let dir = config_dir.unwrap_or(Path::new("configs")).join(task);
    let paths = names.iter().map(PathBuf::from);
    let paths: Vec<PathBuf> = paths.chain(names.iter().map(|n| dir.join(n))).collect();
    let mut tried: Vec<String> = Vec::new();
    for path in &paths {
        // Not only regular files: `--config <(jq ... base.json)` gives a pipe.
        if path.exists() && !path.is_dir() {
            return read_config_file(path);
        }
        let shown = match path.is_dir() {
            true => format!("{} (a folder)", path.display()),
            false => path.display().to_string(),
        };
        if !tried.contains(&shown) {
            tried.push(shown);
        }
    }
    for key in names.iter().map(|n| format!("{task}/{n}")) {
        if let Some(text) = embedded_config(&key) {
            return Ok((format!("embedded:{key}"), text.to_string()));
        }
        tried.push(format!("embedded:{key}"));
    }
    // A name as `koelectra-ft configs` lists it, `<task>/<name>`: the config `<name>`, from
    // `config_dir` first as for the short name.
    let listed = names.iter().find(|n| embedded_config(n).is_some());
    if let Some((of, file)) = listed.and_then(|key| key.split_once('/')) {
        if of == task {
            return resolve_config(task, file, config_dir);
        }
        let hint = match embedded_config(&format!("{task}/{file}")) {
            Some(_) => format!("--config {}", file.trim_end_matches(".json")),
            None => "one of `koelectra-ft configs`".to_string(),
        };
        return Err(usage_error(format!(
            "config {name:?} is the embedded config of task {of:?}, not {task:?}; for {task:?} use {hint}"
        )));
    }
    let tried = tried.join(", ");
    Err(usage_error(format!(
        "config {name:?} for task {task:?} not found; tried: {tried}"
    )))
}

/// `name`, plus `name.json` when it lacks the suffix.
fn candidate_names(name: &str) -> Vec<String> {
    let mut names = vec![name.to_string()];
    if !name.ends_with(".json") {
        names.push(format!("{name}.json"));
    }
    names
}

fn read_config_file(path: &Path) -> Result<(String, String)> {
    let label = path.display().to_string();
    match crate::limits::read_text_capped(path, crate::limits::RUN_CONFIG_BYTES) {
        Ok(text) => Ok((label, text)),
        Err(e) => Err(usage_error(format!("{e:#}"))),
    }
}

/// JSON text -> top-level object; syntax errors name line and column. A leading byte order mark
/// (some Windows editors write one) is skipped. A key given twice keeps its last value, as Python's
/// `json` does, with a warning: the earlier value was likely meant to be edited, not shadowed.
fn parse_json(label: &str, text: &str) -> Result<Map<String, Value>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: Value = serde_json::from_str(text).map_err(|e| json_error(label, &e))?;
    match value {
        Value::Object(map) => {
            for key in repeated_keys(text) {
                log::warn!("{label}: config key {key:?} is given more than once; the last value is used");
            }
            Ok(map)
        }
        other => Err(usage_error(format!(
            "{label}: a config must be a JSON object, got {}",
            short_json(&other)
        ))),
    }
}

/// The top-level keys that a JSON object gives more than once, each once, in file order.
fn repeated_keys(text: &str) -> Vec<String> {
    let Ok(KeysInOrder(keys)) = serde_json::from_str(text) else {
        return Vec::new();
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut repeated = Vec::new();
    for key in keys {
        if !seen.insert(key.clone()) && !repeated.contains(&key) {
            repeated.push(key);
        }
    }
    repeated
}

/// The top-level keys of a JSON object in file order, repeats included (a `Map` keeps one).
struct KeysInOrder(Vec<String>);

impl<'de> serde::Deserialize<'de> for KeysInOrder {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct Keys;
        impl<'de> serde::de::Visitor<'de> for Keys {
            type Value = KeysInOrder;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<KeysInOrder, A::Error> {
                let mut keys = Vec::new();
                while let Some((key, serde::de::IgnoredAny)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                    keys.push(key);
                }
                Ok(KeysInOrder(keys))
            }
        }
        deserializer.deserialize_map(Keys)
    }
}

fn json_error(label: &str, e: &serde_json::Error) -> anyhow::Error {
    let (line, column) = (e.line(), e.column());
    let msg = e.to_string();
    let suffix = format!(" at line {line} column {column}");
    let msg = msg.strip_suffix(&suffix).unwrap_or(&msg);
    usage_error(format!("{label}: invalid JSON at line {line}, column {column}: {msg}"))
}

/// Applies `key=value` overrides; values parse as JSON when they can, else as strings.
fn apply_overrides(map: &mut Map<String, Value>, overrides: &[String], sources: &mut Sources) -> Result<()> {
    for raw in overrides {
        let label = format!("--set {}", raw.escape_debug());
        let (key, text) = raw
            .split_once('=')
            .ok_or_else(|| usage_error(format!("{label}: expected KEY=VALUE")))?;
        let key = key.trim();
        if key.is_empty() {
            return Err(usage_error(format!("{label}: expected KEY=VALUE; the key is empty")));
        }
        if let Some((object, field)) = key.split_once('.') {
            set_field(map, object, field, text, &label)?;
            sources.overrides.insert(object.to_string(), label);
            continue;
        }
        let kind = key_kind(key).ok_or_else(|| unknown_key(&label, key))?;
        map.insert(key.to_string(), override_value(kind, text));
        sources.overrides.insert(key.to_string(), label);
    }
    Ok(())
}

/// `--set model_config.hidden_size=256`: one field of an object key, the rest kept (a null or
/// absent object starts empty). The value is JSON when it parses, else a string.
fn set_field(map: &mut Map<String, Value>, object: &str, field: &str, text: &str, label: &str) -> Result<()> {
    if key_kind(object) != Some(KeyKind::OptObject) {
        return Err(match key_kind(object) {
            Some(_) => usage_error(format!(
                "{label}: config key {object:?} is not an object; KEY.FIELD=VALUE sets a field of \"model_config\""
            )),
            None => unknown_key(label, object),
        });
    }
    if field.is_empty() || field.contains('.') {
        return Err(usage_error(format!(
            "{label}: expected {object}.FIELD=VALUE with one field name"
        )));
    }
    let slot = map.entry(object.to_string()).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    let Value::Object(fields) = slot else {
        return Err(usage_error(format!(
            "{label}: config key {object:?} is not a JSON object"
        )));
    };
    let value = serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()));
    fields.insert(field.to_string(), value);
    Ok(())
}

/// The JSON value of an override: string keys take the text as is (`null` clears optional ones).
fn override_value(kind: KeyKind, text: &str) -> Value {
    match kind {
        KeyKind::Str => Value::String(text.to_string()),
        KeyKind::OptStr if text != "null" => Value::String(text.to_string()),
        _ => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())),
    }
}

/// Every key known and of the right kind (normalized in place), required keys present.
fn check_keys(map: &mut Map<String, Value>, sources: &Sources) -> Result<()> {
    for (key, value) in map.iter_mut() {
        let label = sources.label(key);
        let kind = key_kind(key).ok_or_else(|| unknown_key(label, key))?;
        *value = kind.normalize(value).ok_or_else(|| {
            let expected = kind.expected();
            let got = short_json(value);
            usage_error(format!("{label}: config key {key:?} must be {expected}, got {got}"))
        })?;
    }
    match REQUIRED_KEYS.iter().find(|k| !map.contains_key(**k)) {
        Some(key) => Err(usage_error(format!("{}: missing config key {key:?}", sources.file))),
        None => Ok(()),
    }
}

/// The keys of `map` that do nothing for its task, each with the reason: a key of another kind of
/// task (a squad config's `dev_file`, a seq-cls config's `doc_stride`).
fn inert_keys(map: &Map<String, Value>) -> Vec<(String, String)> {
    let Some(task) = map.get("task").and_then(Value::as_str) else {
        return Vec::new();
    };
    let Some(kind) = TaskKind::of_task(task) else {
        return Vec::new();
    };
    let mut inert = Vec::new();
    for key in map.keys() {
        let Some(kinds) = key_task_kinds(key).filter(|kinds| !kinds.contains(&kind)) else {
            continue;
        };
        let of: Vec<&str> = kinds.iter().map(|k| k.subcommand()).collect();
        let why = format!(
            "it is a {} key, and {task:?} is a {} task",
            of.join(" and "),
            kind.subcommand()
        );
        inert.push((key.clone(), why));
    }
    inert
}

fn unknown_key(label: &str, key: &str) -> anyhow::Error {
    let near = closest_key(key);
    usage_error(format!("{label}: unknown config key {key:?} (did you mean {near:?}?)"))
}

/// Range and consistency checks on a deserialized config.
fn validate(c: &Config, s: &Sources) -> Result<()> {
    let names = crate::tasks::names();
    let tasks = names.join(", ");
    check(s, "task", names.contains(&c.task.as_str()), &tasks, &c.task)?;
    check(s, "learning_rate", c.learning_rate > 0.0, "> 0", c.learning_rate)?;
    let warmup = (0.0..1.0).contains(&c.warmup_proportion);
    check(s, "warmup_proportion", warmup, "in [0, 1)", c.warmup_proportion)?;
    let schedules = ScheduleKind::NAMES.join(", ");
    let known = ScheduleKind::from_name(&c.lr_scheduler_type).is_some();
    check(
        s,
        "lr_scheduler_type",
        known,
        &format!("one of {schedules}"),
        &c.lr_scheduler_type,
    )?;
    if c.lr_scheduler_type == "polynomial" {
        let above = c.learning_rate > POLYNOMIAL_LR_END;
        check(
            s,
            "learning_rate",
            above,
            "> 1e-7 (polynomial decays to 1e-7)",
            c.learning_rate,
        )?;
    }
    check(s, "weight_decay", c.weight_decay >= 0.0, ">= 0", c.weight_decay)?;
    let threshold = c.early_stopping_threshold;
    check(s, "early_stopping_threshold", threshold >= 0.0, ">= 0", threshold)?;
    if c.early_stopping_patience > 0 && (no_dev_split(c) || c.logging_steps == 0) {
        let label = s.label("early_stopping_patience");
        return Err(usage_error(format!(
            "{label}: config key \"early_stopping_patience\" needs a dev split (\"dev_file\") and evaluations \
             during training (\"logging_steps\" > 0): early stopping watches the dev selection metric{}",
            squad_has_no_dev(c)
        )));
    }
    check_load_best(s, c)?;
    check_report_to(s, c)?;
    if let Err(e) = c.check_xlmr_slow_tokenizer() {
        return Err(usage_error(format!("{}: {e:#}", s.label("xlmr_slow_tokenizer"))));
    }
    check(s, "adam_epsilon", c.adam_epsilon > 0.0, "> 0", c.adam_epsilon)?;
    check(s, "max_grad_norm", c.max_grad_norm >= 0.0, ">= 0", c.max_grad_norm)?;
    if c.fp16 && c.bf16 {
        let label = s.label("fp16");
        return Err(usage_error(format!(
            "{label}: config keys \"fp16\" and \"bf16\" cannot both be true"
        )));
    }
    check_model_source(c, s)
}

/// One range check: `<label>: config key "k" must be <what>, got <value>`.
fn check(s: &Sources, key: &str, ok: bool, what: &str, got: impl fmt::Debug) -> Result<()> {
    if ok {
        return Ok(());
    }
    let label = s.label(key);
    let what = match key {
        "task" => format!("one of {what}"),
        "lr_scheduler_type" => what.to_string(),
        _ => format!("a number {what}"),
    };
    Err(usage_error(format!(
        "{label}: config key {key:?} must be {what}, got {got:?}"
    )))
}

/// A model comes from `model_name_or_path`, or from `model_config` plus `vocab_file`.
fn check_model_source(c: &Config, s: &Sources) -> Result<()> {
    if !c.model_name_or_path.is_empty() {
        // A config file may keep a model_config for runs from scratch; an override is meant to act
        // (unless it clears the key: `--set model_config=null`).
        if let Some(label) = s.overrides.get("model_config").filter(|_| c.model_config.is_some()) {
            return Err(usage_error(format!(
                "{label}: config key \"model_config\" has no effect when \"model_name_or_path\" is set (the \
                 model folder's config.json defines the model)"
            )));
        }
        return Ok(());
    }
    let file = &s.file;
    match (&c.model_config, &c.vocab_file) {
        (Some(_), Some(vocab)) if vocab.trim().is_empty() => Err(usage_error(format!(
            "{}: config key \"vocab_file\" is empty; expected the vocab.txt (or tokenizer.json) for \"model_config\"",
            s.label("vocab_file")
        ))),
        (Some(_), Some(_)) => Ok(()),
        (Some(_), None) => Err(usage_error(format!(
            "{file}: config key \"model_config\" needs \"vocab_file\" when \"model_name_or_path\" is empty"
        ))),
        _ => Err(usage_error(format!(
            "{file}: config needs \"model_name_or_path\" (or \"model_config\" and \"vocab_file\")"
        ))),
    }
}

/// `load_best_model_at_end` picks among dev evaluations of checkpoints, as HF requires: a dev split
/// evaluated during training, and every save at an evaluation step.
fn check_load_best(s: &Sources, c: &Config) -> Result<()> {
    if !c.load_best_model_at_end {
        return Ok(());
    }
    let label = s.label("load_best_model_at_end");
    if no_dev_split(c) || c.logging_steps == 0 || c.evaluate_test_during_training {
        return Err(usage_error(format!(
            "{label}: config key \"load_best_model_at_end\" needs a dev split (\"dev_file\") evaluated during \
             training (\"logging_steps\" > 0, \"evaluate_test_during_training\": false): the best checkpoint \
             is chosen by the dev selection metric{}",
            squad_has_no_dev(c)
        )));
    }
    if c.save_steps > 0 && !c.save_steps.is_multiple_of(c.logging_steps) {
        return Err(usage_error(format!(
            "{label}: config key \"load_best_model_at_end\" needs \"save_steps\" ({}) to be a multiple of \
             \"logging_steps\" ({}), so that every checkpoint has a dev evaluation",
            c.save_steps, c.logging_steps
        )));
    }
    Ok(())
}

fn is_squad(c: &Config) -> bool {
    c.task_kind() == Some(TaskKind::Squad)
}

/// No dev split to evaluate: no `dev_file`, or a squad task, which reads `predict_file` only.
fn no_dev_split(c: &Config) -> bool {
    c.dev_file.is_empty() || is_squad(c)
}

/// The end of a "needs a dev split" message for a squad task.
fn squad_has_no_dev(c: &Config) -> String {
    match is_squad(c) {
        true => format!(
            "; {:?} is a squad task, which has no dev split (it evaluates \"predict_file\")",
            c.task
        ),
        false => String::new(),
    }
}

/// `report_to`: known names, and "all" or "none" only alone.
fn check_report_to(s: &Sources, c: &Config) -> Result<()> {
    let known = ["all", "none", "jsonl", "tensorboard"];
    let unknown = c.report_to.iter().find(|r| !known.contains(&r.as_str()));
    let alone = c.report_to.len() <= 1 || !c.report_to.iter().any(|r| r == "all" || r == "none");
    if unknown.is_none() && alone {
        return Ok(());
    }
    let label = s.label("report_to");
    Err(usage_error(format!(
        "{label}: config key \"report_to\" must be \"all\", \"none\", or a list of \"jsonl\" and \"tensorboard\", \
         got {:?}",
        c.report_to
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_top_level_keys_are_found_once_each() {
        let text = r#"{"seed": 1, "model_config": {"seed": 2, "seed": 3}, "seed": 4, "lr": 1, "seed": 5, "lr": 2}"#;
        assert_eq!(repeated_keys(text), ["seed", "lr"]);
        assert!(repeated_keys(r#"{"a": 1, "b": {"a": 2}}"#).is_empty());
        assert!(repeated_keys("[1, 1]").is_empty());
        // The last value is the one used, as Python's json module does.
        let map = parse_json("t.json", text).expect("valid JSON");
        assert_eq!(map["seed"], 5);
    }

    fn inert(text: &str) -> Vec<String> {
        let map = parse_json("t.json", text).expect("valid JSON");
        inert_keys(&map)
            .into_iter()
            .map(|(key, why)| format!("{key}: {why}"))
            .collect()
    }

    #[test]
    fn keys_of_another_kind_of_task_are_inert() {
        let nsmc = r#"{"task": "nsmc", "doc_stride": 64, "threads": 4, "max_seq_len": 50, "seed": 1,
            "ner_score_truncated": false, "verbose_logging": true}"#;
        assert_eq!(
            inert(nsmc),
            [
                "doc_stride: it is a squad key, and \"nsmc\" is a seq-cls task",
                "threads: it is a squad key, and \"nsmc\" is a seq-cls task",
                "ner_score_truncated: it is a ner key, and \"nsmc\" is a seq-cls task",
                "verbose_logging: it is a squad key, and \"nsmc\" is a seq-cls task",
            ]
        );
        let korquad = r#"{"task": "korquad", "dev_file": "d", "max_seq_len": 50, "doc_stride": 64,
            "group_by_length": true, "verbose_logging": true}"#;
        assert_eq!(
            inert(korquad),
            [
                "dev_file: it is a seq-cls and ner key, and \"korquad\" is a squad task",
                "max_seq_len: it is a seq-cls and ner key, and \"korquad\" is a squad task",
                "group_by_length: it is a seq-cls and ner key, and \"korquad\" is a squad task",
            ]
        );
        assert!(inert(r#"{"task": "naver-ner", "ner_score_truncated": false, "max_seq_len": 9}"#).is_empty());
        assert!(inert(r#"{"task": "unknown", "doc_stride": 64}"#).is_empty());
    }

    /// Every reference config holds only keys that act on its task.
    #[test]
    fn reference_configs_have_no_inert_keys() {
        for name in embedded_config_names() {
            let text = embedded_config(name).expect("embedded");
            assert!(inert(text).is_empty(), "{name}: {:?}", inert(text));
        }
    }
}
