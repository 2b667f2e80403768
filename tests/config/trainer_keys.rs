//! The trainer-convention keys of issue 16: `report_to`, `save_total_limit`,
//! `load_best_model_at_end`.
use koelectra_ft::config::parse_config;

const BASE: &str = r#"{"task": "nsmc", "model_type": "koelectra-small", "model_name_or_path": "m",
    "dev_file": "dev.txt", "logging_steps": 10, "save_steps": 20"#;

fn parse(extra: &str, sets: &[&str]) -> anyhow::Result<koelectra_ft::config::Config> {
    let text = format!("{BASE}{extra}}}");
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    parse_config("c.json", &text, &sets)
}

fn error(extra: &str, sets: &[&str]) -> String {
    format!("{:#}", parse(extra, sets).expect_err("a config error"))
}

#[test]
fn report_to_takes_a_name_or_a_list_and_refuses_unknown_sinks() {
    let cfg = parse("", &[]).unwrap();
    assert!(cfg.reports_to("jsonl") && cfg.reports_to("tensorboard"));
    let cfg = parse(r#", "report_to": ["tensorboard"]"#, &[]).unwrap();
    assert!(cfg.reports_to("tensorboard") && !cfg.reports_to("jsonl"));
    let cfg = parse("", &["report_to=jsonl"]).unwrap();
    assert_eq!(cfg.report_to, vec!["jsonl"]);
    assert!(!parse("", &["report_to=none"]).unwrap().reports_to("jsonl"));
    let msg = error(r#", "report_to": ["wandb"]"#, &[]);
    assert!(msg.starts_with("c.json: config key \"report_to\" must be"), "{msg}");
    let msg = error("", &[r#"report_to=["none","jsonl"]"#]);
    assert!(msg.contains("--set report_to="), "{msg}");
    let msg = error(r#", "report_to": 3"#, &[]);
    assert!(msg.contains("must be a string or a list of strings, got 3"), "{msg}");
}

#[test]
fn save_total_limit_is_a_non_negative_integer() {
    assert_eq!(parse(r#", "save_total_limit": 2"#, &[]).unwrap().save_total_limit, 2);
    let msg = error(r#", "save_total_limit": -1"#, &[]);
    assert!(
        msg.contains("\"save_total_limit\" must be a non-negative integer"),
        "{msg}"
    );
}

#[test]
fn load_best_model_at_end_needs_a_dev_split_evaluated_at_every_save() {
    assert!(
        parse(r#", "load_best_model_at_end": true"#, &[])
            .unwrap()
            .load_best_model_at_end
    );
    let msg = error(r#", "load_best_model_at_end": true"#, &["dev_file="]);
    assert!(msg.contains("needs a dev split"), "{msg}");
    let msg = error(
        r#", "load_best_model_at_end": true, "evaluate_test_during_training": true"#,
        &[],
    );
    assert!(msg.contains("\"evaluate_test_during_training\": false"), "{msg}");
    let msg = error(r#", "load_best_model_at_end": true"#, &["save_steps=15"]);
    assert!(
        msg.contains("\"save_steps\" (15) to be a multiple of \"logging_steps\" (10)"),
        "{msg}"
    );
}

/// squad evaluates its `predict_file` only, so a `dev_file` in its config does not make a dev
/// split: early stopping and the best checkpoint are refused there, not silently never acted on.
#[test]
fn squad_has_no_dev_split_to_stop_early_or_pick_the_best_on() {
    let squad = ["task=korquad", "save_steps=10"];
    for key in ["early_stopping_patience=2", "load_best_model_at_end=true"] {
        let msg = error("", &[&squad[..], &[key]].concat());
        assert!(msg.contains("needs a dev split"), "{msg}");
        assert!(
            msg.ends_with("\"korquad\" is a squad task, which has no dev split (it evaluates \"predict_file\")"),
            "{msg}"
        );
        assert!(parse("", &[key, "save_steps=10"]).is_ok(), "{key} on nsmc");
    }
}
