//! `xlmr_slow_tokenizer`: accepted for XLM-R (from the file or `--set`), refused in one line naming
//! the key for any other model type, before any model file is read.
use std::path::PathBuf;

use koelectra_ft::config::{parse_config, Config, ConfigError};
use koelectra_ft::model::source::ModelSource;
use koelectra_ft::train::setup::load_tokenizer;

use crate::common::root;

fn parse(model_type: &str, extra: &str, sets: &[&str]) -> Config {
    let text = format!(r#"{{"task": "nsmc", "model_type": "{model_type}", "model_name_or_path": "m"{extra}}}"#);
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    parse_config("c.json", &text, &sets).expect("the key is accepted")
}

fn xlmr_fixture() -> ModelSource {
    ModelSource::Dir(root().join("tests/fixtures/sp/xlmr"))
}

#[test]
fn xlmr_slow_tokenizer_defaults_to_false_and_is_accepted_for_xlm_roberta() {
    assert!(!parse("xlm-roberta", "", &[]).xlmr_slow_tokenizer);
    let cfg = parse("xlm-roberta", r#", "xlmr_slow_tokenizer": true"#, &[]);
    assert!(cfg.xlmr_slow_tokenizer);
    cfg.check_xlmr_slow_tokenizer().expect("XLM-R may use it");
    assert!(parse("xlm-roberta", "", &["xlmr_slow_tokenizer=true"]).xlmr_slow_tokenizer);
    // The slow and the fast tokenizer of the same folder key feature caches differently.
    let slow = load_tokenizer(&cfg, &xlmr_fixture()).expect("slow tokenizer");
    let fast = load_tokenizer(&parse("xlm-roberta", "", &[]), &xlmr_fixture()).expect("fast tokenizer");
    assert_ne!(slow.fingerprint().unwrap(), fast.fingerprint().unwrap());
    assert!(String::from_utf8_lossy(&slow.fingerprint().unwrap()).starts_with("xlm-roberta-slow\0"));
    // A wrong type names the key.
    let text = r#"{"task": "nsmc", "model_type": "xlm-roberta", "xlmr_slow_tokenizer": "yes"}"#;
    let msg = format!("{:#}", parse_config("c.json", text, &[]).expect_err("a string"));
    assert!(msg.contains("xlmr_slow_tokenizer"), "{msg}");
}

#[test]
fn xlmr_slow_tokenizer_is_refused_for_a_koelectra_model() {
    // At parse time, in one line naming the file (or the --set) and the key.
    let text =
        r#"{"task": "nsmc", "model_type": "koelectra-small", "model_name_or_path": "m", "xlmr_slow_tokenizer": true}"#;
    for (sets, label) in [
        (vec![], "c.json"),
        (vec!["xlmr_slow_tokenizer=true".to_string()], "--set"),
    ] {
        let text = if sets.is_empty() {
            text.to_string()
        } else {
            text.replace(", \"xlmr_slow_tokenizer\": true", "")
        };
        let err = parse_config("c.json", &text, &sets).expect_err("refused");
        let msg = format!("{err:#}");
        assert!(err.downcast_ref::<ConfigError>().is_some(), "a config error: {msg}");
        assert!(msg.starts_with(label), "{msg}");
        assert!(
            msg.contains("config key \"xlmr_slow_tokenizer\" is only for XLM-R") && msg.contains("\"koelectra-small\""),
            "{msg}"
        );
        assert!(!msg.contains('\n'), "{msg}");
    }
    // A config built in code is refused again before the (here missing) model folder is looked at.
    let cfg = Config {
        model_type: "koelectra-small".into(),
        xlmr_slow_tokenizer: true,
        ..Config::default()
    };
    let missing = ModelSource::Dir(PathBuf::from("/nonexistent/koelectra"));
    let err = load_tokenizer(&cfg, &missing).err().expect("refused");
    assert!(err.downcast_ref::<ConfigError>().is_some(), "a config error: {err:#}");
    // false is fine for any model type.
    parse("koelectra-small", r#", "xlmr_slow_tokenizer": false"#, &[])
        .check_xlmr_slow_tokenizer()
        .expect("false is the default");
}
