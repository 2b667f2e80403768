//! Config loading: every shipped config loads, overrides apply, malformed configs give one-line
//! errors that name the file, the key and what was expected.

use std::path::{Path, PathBuf};

use koelectra_ft::config::*;
use koelectra_ft::model::{check_supported, supported_model_types};
use koelectra_ft::tasks::TaskKind;
use serde_json::Value;

/// The seq-cls tasks, in the reference's order.
const SEQ_CLS_TASKS: &[&str] = &["nsmc", "kornli", "paws", "question-pair", "korsts", "hate-speech"];

fn configs_dir() -> PathBuf {
    crate::common::root().join("configs")
}

/// (task, file name) of every JSON file under configs/.
fn config_files() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(configs_dir()).expect("configs/ exists") {
        let task = task.expect("dir entry").path();
        for file in std::fs::read_dir(&task).expect("task dir") {
            let file = file.expect("dir entry").path();
            let name = |p: &Path| p.file_name().expect("name").to_string_lossy().into_owned();
            out.push((name(&task), name(&file)));
        }
    }
    out.sort();
    out
}

/// Writes `text` to `<dir>/<task>/<name>` and returns the file's path.
fn write_config(dir: &Path, task: &str, name: &str, text: &str) -> PathBuf {
    std::fs::create_dir_all(dir.join(task)).expect("mkdir");
    let path = dir.join(task).join(name);
    std::fs::write(&path, text).expect("write config");
    path
}

/// The nsmc/koelectra-small reference config with `edit` applied to its JSON object.
fn nsmc_with(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    let text = embedded_config("nsmc/koelectra-small.json").expect("embedded");
    let mut value: Value = serde_json::from_str(text).expect("valid json");
    edit(value.as_object_mut().expect("object"));
    serde_json::to_string_pretty(&value).expect("serialize")
}

/// Loads `text` written as `<tmp>/nsmc/bad.json`; returns (path, one-line error message).
fn load_err(text: &str) -> (String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_config(dir.path(), "nsmc", "bad.json", text);
    let err = load_config("nsmc", "bad.json", Some(dir.path()), &[]).expect_err("must fail");
    let msg = format!("{err:#}");
    assert!(!msg.contains('\n'), "multi-line error: {msg}");
    assert!(err.downcast_ref::<ConfigError>().is_some(), "not a ConfigError: {msg}");
    (path.display().to_string(), msg)
}

#[test]
fn every_config_file_loads_and_round_trips() {
    let files = config_files();
    // The 80 reference configs plus the demo (configs/nsmc/demo.json, which adds model_config).
    assert_eq!(files.len(), 81);
    for (task, name) in files {
        let cfg =
            load_config(&task, &name, Some(&configs_dir()), &[]).unwrap_or_else(|e| panic!("{task}/{name}: {e:#}"));
        assert_eq!(cfg.task, task);
        let text = std::fs::read_to_string(configs_dir().join(&task).join(&name)).expect("read");
        let file: Value = serde_json::from_str(&text).expect("json");
        let back = serde_json::to_value(&cfg).expect("serialize");
        let keys = file.as_object().expect("object");
        assert!(
            keys.len() == 30 || keys.len() == 38 || name == "demo.json",
            "{task}/{name}"
        );
        for (key, want) in keys {
            let got = &back[key];
            let same = match (want.as_f64(), got.as_f64()) {
                (Some(a), Some(b)) => a == b,
                _ => want == got,
            };
            assert!(same, "{task}/{name}: {key}: file {want}, loaded {got}");
        }
    }
}

#[test]
fn every_embedded_config_loads_and_matches_disk() {
    let names = embedded_config_names();
    assert_eq!(names.len(), 81);
    assert!(names.windows(2).all(|w| w[0] < w[1]), "not sorted");
    let empty = tempfile::tempdir().expect("tempdir");
    for name in names {
        let (task, file) = name.split_once('/').expect("task/file");
        let cfg = load_config(task, file, Some(empty.path()), &[]).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        let disk = load_config(task, file, Some(&configs_dir()), &[]).expect("disk copy");
        assert_eq!(cfg, disk, "{name}");
        let text = std::fs::read_to_string(configs_dir().join(name)).expect("disk file");
        assert_eq!(embedded_config(name), Some(text.as_str()), "{name}");
    }
}

#[test]
fn name_without_json_suffix_and_path_both_resolve() {
    let empty = tempfile::tempdir().expect("tempdir");
    let cfg = load_config("korquad", "koelectra-base-v3", Some(empty.path()), &[]).expect("load");
    assert_eq!(cfg.model_type, "koelectra-base-v3");
    assert_eq!(cfg.max_seq_length, 512);
    assert_eq!(cfg.train_batch_size, 8);
    let path = configs_dir().join("paws/koelectra-small.json");
    let cfg = load_config("paws", &path.display().to_string(), None, &[]).expect("by path");
    assert_eq!(cfg.learning_rate, 3e-5);
}

#[test]
fn a_pipe_is_read_as_a_config_and_a_folder_is_named() {
    // `--config <(jq '.seed = 7' base.json)` hands over a pipe, not a regular file.
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("config.fifo");
    crate::common::make_fifo(&fifo);
    let text = nsmc_with(|m| {
        m.insert("seed".into(), 7.into());
    });
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, text).expect("write the pipe"))
    };
    let cfg = load_config("nsmc", fifo.to_str().expect("UTF-8"), None, &[]).expect("load from a pipe");
    writer.join().expect("writer");
    assert_eq!(cfg.seed, 7);

    let err = load_config("nsmc", dir.path().to_str().expect("UTF-8"), None, &[]).expect_err("a folder");
    let msg = format!("{err:#}");
    assert!(
        msg.contains(&format!("tried: {} (a folder), ", dir.path().display())),
        "{msg}"
    );
}

#[test]
fn disk_file_wins_over_embedded_copy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = nsmc_with(|m| {
        m.insert("seed".into(), 7.into());
    });
    write_config(dir.path(), "nsmc", "koelectra-small.json", &text);
    let cfg = load_config("nsmc", "koelectra-small.json", Some(dir.path()), &[]).expect("load");
    assert_eq!(cfg.seed, 7);
}

#[test]
fn set_overrides_float_bool_string_and_int() {
    let sets: Vec<String> = [
        "learning_rate=1e-4",
        "do_train=false",
        "output_dir=my-run",
        "num_train_epochs=2",
        "model_name_or_path=123",
        "tf32=true",
    ]
    .map(String::from)
    .to_vec();
    let cfg = load_config("nsmc", "koelectra-small.json", None, &sets).expect("load");
    assert_eq!(cfg.learning_rate, 1e-4);
    assert!(!cfg.do_train);
    assert_eq!(cfg.output_dir, "my-run");
    assert_eq!(cfg.num_train_epochs, 2);
    assert_eq!(cfg.model_name_or_path, "123");
    assert_eq!(cfg.tf32, Some(true));
    assert_eq!(cfg.output_path(), PathBuf::from("ckpt/my-run"));
}

#[test]
fn set_with_a_dot_overrides_one_field_of_model_config() {
    let sets = [
        "model_config.hidden_size=96",
        "model_config.num_hidden_layers=3",
        "model_config.note=x",
    ]
    .map(String::from)
    .to_vec();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templated.json");
    let text = std::fs::read_to_string(path).unwrap();
    let cfg = parse_config("templated.json", &text, &sets).expect("load");
    let model = cfg.model_config.expect("model_config");
    assert_eq!(model["hidden_size"], 96);
    assert_eq!(model["num_hidden_layers"], 3);
    assert_eq!(model["note"], "x");
    assert_eq!(model["vocab_size"], 884, "the other fields stay");
    // A config without model_config gets one with the field.
    let sets = [
        "model_name_or_path=",
        "vocab_file=vocab.txt",
        "model_config.hidden_size=96",
    ]
    .map(String::from);
    let cfg = load_config("nsmc", "koelectra-small.json", None, &sets).expect("load");
    assert_eq!(
        cfg.model_config.expect("model_config"),
        serde_json::json!({"hidden_size": 96})
    );
    let bad = |s: &str| {
        let err = load_config("nsmc", "koelectra-small.json", None, &[s.to_string()]).expect_err(s);
        format!("{err:#}")
    };
    assert_eq!(
        bad("seed.x=1"),
        "--set seed.x=1: config key \"seed\" is not an object; KEY.FIELD=VALUE sets a field of \"model_config\""
    );
    assert!(bad("modle_config.x=1").contains("did you mean \"model_config\""));
    assert!(bad("model_config.=1").contains("expected model_config.FIELD=VALUE"));
    // koelectra-small.json names a pretrained model, whose config.json the override could not change.
    let sets = [
        "model_name_or_path=monologg/koelectra-small-discriminator",
        "model_config.hidden_size=96",
    ];
    let err = load_config("nsmc", "koelectra-small.json", None, &sets.map(String::from)).expect_err("no effect");
    assert!(
        format!("{err:#}").starts_with("--set model_config.hidden_size=96: config key \"model_config\" has no effect")
    );
    // Clearing it is no attempt to change the model: a demo config (model_config + vocab_file)
    // pointed at a trained checkpoint.
    let sets = [
        "model_name_or_path=runs/x/checkpoint-10",
        "model_config=null",
        "vocab_file=null",
    ];
    let cfg = load_config("nsmc", "demo.json", None, &sets.map(String::from)).expect("cleared");
    assert_eq!((cfg.model_config, cfg.vocab_file), (None, None));
}

#[test]
fn set_errors_name_the_argument() {
    let bad = |s: &str| {
        let sets = vec![s.to_string()];
        let err = load_config("nsmc", "koelectra-small.json", None, &sets).expect_err(s);
        format!("{err:#}")
    };
    let msg = bad("learnig_rate=1e-4");
    assert!(msg.contains("--set learnig_rate=1e-4"), "{msg}");
    assert!(msg.contains("did you mean \"learning_rate\""), "{msg}");
    let msg = bad("train_batch_size=abc");
    assert!(
        msg.contains("\"train_batch_size\" must be a positive integer, got \"abc\""),
        "{msg}"
    );
    let msg = bad("seed");
    assert!(msg.contains("expected KEY=VALUE"), "{msg}");
    assert_eq!(bad("=5"), "--set =5: expected KEY=VALUE; the key is empty");
    assert_eq!(
        bad("task=kornli"),
        "--set task=kornli: config key \"task\" is \"kornli\" but --task is \"nsmc\""
    );
    let sets = [
        "model_name_or_path=".to_string(),
        "model_config={\"hidden_size\": 64}".to_string(),
        "vocab_file=".to_string(),
    ];
    let err = load_config("nsmc", "koelectra-small.json", None, &sets).expect_err("empty vocab_file");
    assert_eq!(
        format!("{err:#}"),
        "--set vocab_file=: config key \"vocab_file\" is empty; expected the vocab.txt (or tokenizer.json) for \"model_config\""
    );
    let msg = bad("lr_scheduler_type=cosine_annealing");
    assert!(
        msg.contains("\"lr_scheduler_type\" must be one of linear, cosine, cosine_with_restarts, polynomial"),
        "{msg}"
    );
    let sets = [
        "lr_scheduler_type=polynomial".to_string(),
        "learning_rate=1e-8".to_string(),
    ];
    let err = load_config("nsmc", "koelectra-small.json", None, &sets).expect_err("polynomial below lr_end");
    assert!(
        format!("{err:#}").contains("> 1e-7 (polynomial decays to 1e-7)"),
        "{err:#}"
    );
    let sets = ["lr_scheduler_type=cosine".to_string(), "warmup_steps=7".to_string()];
    let cfg = load_config("nsmc", "koelectra-small.json", None, &sets).expect("cosine");
    assert_eq!((cfg.lr_scheduler_type.as_str(), cfg.warmup_steps), ("cosine", 7));
}

#[test]
fn defaults_and_new_keys() {
    let text = r#"{"task": "korsts", "model_type": "koelectra-small", "model_name_or_path": "m"}"#;
    let cfg = parse_config("mini.json", text, &[]).expect("minimal config");
    assert_eq!(cfg.max_seq_len, 128);
    assert_eq!(cfg.max_seq_length, 512);
    assert_eq!(cfg.doc_stride, 128);
    assert_eq!(cfg.n_best_size, 20);
    assert_eq!(cfg.adam_epsilon, 1e-8);
    assert_eq!(cfg.max_steps, -1);
    assert_eq!(cfg.seed, 42);
    assert!(cfg.group_by_length && cfg.ner_score_truncated && cfg.evaluate_during_training);
    assert!(cfg.token_packing);
    assert!(!cfg.overwrite_output_dir && !cfg.bf16 && !cfg.fp16);
    assert_eq!(cfg.tf32, None);
    assert_eq!(cfg.output_path(), PathBuf::from("ckpt/koelectra-small-korsts-ckpt"));
    assert_eq!(cfg.dev_path(), None);
    let cfg = load_config("nsmc", "koelectra-small", None, &[]).expect("load");
    assert_eq!(cfg.dev_path(), None);
    assert_eq!(cfg.test_path(), Some(PathBuf::from("data/nsmc/ratings_test.txt")));
    assert_eq!(cfg.task_kind(), Some(TaskKind::SeqCls));
}

#[test]
fn model_config_and_vocab_file_build_from_scratch() {
    let text = r#"{"task": "naver-ner", "model_type": "koelectra-small",
        "model_config": {"hidden_size": 64, "num_hidden_layers": 2}, "vocab_file": "v.txt"}"#;
    let cfg = parse_config("demo.json", text, &[]).expect("demo config");
    let hidden = cfg.model_config.as_ref().and_then(|c| c["hidden_size"].as_u64());
    assert_eq!(hidden, Some(64));
    assert_eq!(cfg.vocab_file.as_deref(), Some("v.txt"));
    let text = r#"{"task": "naver-ner", "model_type": "koelectra-small"}"#;
    let msg = format!("{:#}", parse_config("demo.json", text, &[]).expect_err("no model"));
    assert!(msg.contains("model_name_or_path"), "{msg}");
}

#[test]
fn unknown_key_names_file_key_and_suggestion() {
    let (path, msg) = load_err(&nsmc_with(|m| {
        m.insert("learnig_rate".into(), 5e-5.into());
    }));
    let want = format!("{path}: unknown config key \"learnig_rate\" (did you mean \"learning_rate\"?)");
    assert_eq!(msg, want);
}

#[test]
fn wrong_type_names_key_and_expected_type() {
    let (path, msg) = load_err(&nsmc_with(|m| {
        m.insert("train_batch_size".into(), "32".into());
    }));
    let want = format!("{path}: config key \"train_batch_size\" must be a positive integer, got \"32\"");
    assert_eq!(msg, want);
    let (_, msg) = load_err(&nsmc_with(|m| {
        m.insert("do_train".into(), 1.into());
    }));
    assert!(msg.contains("\"do_train\" must be true or false, got 1"), "{msg}");
    let (_, msg) = load_err(&nsmc_with(|m| {
        m.insert("token_packing".into(), "yes".into());
    }));
    assert!(
        msg.contains("\"token_packing\" must be true or false, got \"yes\""),
        "{msg}"
    );
    let (_, msg) = load_err(&nsmc_with(|m| {
        m.insert("num_train_epochs".into(), 2.5.into());
    }));
    assert!(
        msg.contains("\"num_train_epochs\" must be a positive integer, got 2.5"),
        "{msg}"
    );
}

#[test]
fn integral_float_is_accepted_for_integer_keys() {
    let text = nsmc_with(|m| {
        m.insert("num_train_epochs".into(), 4.0.into());
    });
    let cfg = parse_config("x.json", &text, &[]).expect("4.0 epochs");
    assert_eq!(cfg.num_train_epochs, 4);
}

#[test]
fn bad_json_names_line_and_column() {
    let (path, msg) = load_err("{\n  \"task\": \"nsmc\",\n  \"seed\": 42,,\n}\n");
    assert!(
        msg.starts_with(&format!("{path}: invalid JSON at line 3, column 14")),
        "{msg}"
    );
    let (path, msg) = load_err("[1, 2]");
    assert!(
        msg.starts_with(&format!("{path}: a config must be a JSON object")),
        "{msg}"
    );
}

#[test]
fn a_byte_order_mark_before_the_json_is_skipped() {
    // Notepad and some other Windows editors save UTF-8 with a leading BOM.
    let dir = tempfile::tempdir().expect("tempdir");
    let text = nsmc_with(|m| {
        m.insert("seed".into(), 7.into());
    });
    write_config(dir.path(), "nsmc", "bom.json", &format!("\u{feff}{text}"));
    let config = load_config("nsmc", "bom.json", Some(dir.path()), &[]).expect("a BOM is not JSON, but harmless");
    assert_eq!(config.seed, 7);
    // Only at the start: elsewhere it is still a syntax error.
    let (path, msg) = load_err("{\u{feff}\"task\": \"nsmc\"}");
    assert!(
        msg.starts_with(&format!("{path}: invalid JSON at line 1, column 2")),
        "{msg}"
    );
}

#[test]
fn oversized_or_non_utf8_config_is_refused_before_parsing() {
    // A config is about 1 KB; a path given by mistake (a data file) is refused before it is read whole.
    let (path, msg) = load_err(&format!("{{{}", " ".repeat(1 << 20)));
    assert_eq!(msg, format!("{path}: larger than 1048576 bytes; refusing to read it"));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_config(dir.path(), "nsmc", "latin1.json", "{\"task\": \"caf\u{e9}\"}");
    std::fs::write(&path, b"{\"task\": \"caf\xe9\"}").expect("write");
    let err = load_config("nsmc", "latin1.json", Some(dir.path()), &[]).expect_err("must fail");
    assert_eq!(
        format!("{err:#}"),
        format!("{}: not UTF-8 text (invalid byte at offset 13)", path.display())
    );
}

#[test]
fn missing_file_names_paths_tried() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = load_config("nsmc", "nope.json", Some(dir.path()), &[]).expect_err("missing");
    let msg = format!("{err:#}");
    let tried = dir.path().join("nsmc").join("nope.json");
    assert!(msg.contains("not found"), "{msg}");
    assert!(msg.contains(&tried.display().to_string()), "{msg}");
    assert!(msg.contains("embedded:nsmc/nope.json"), "{msg}");
}

/// A name as `koelectra-ft configs` lists it (`<task>/<name>`) is that embedded config; another
/// task's is refused with the name to use.
#[test]
fn listed_embedded_names_load_for_their_task() {
    let dir = tempfile::tempdir().expect("tempdir");
    let listed = load_config("nsmc", "nsmc/koelectra-small-v3.json", Some(dir.path()), &[]).expect("listed name");
    let short = load_config("nsmc", "koelectra-small-v3", Some(dir.path()), &[]).expect("short name");
    assert_eq!(format!("{listed:?}"), format!("{short:?}"));
    // As for the short name, a file in the config folder comes first.
    let text = embedded_config("nsmc/koelectra-small-v3.json")
        .unwrap()
        .replace("\"seed\": 42", "\"seed\": 7");
    write_config(dir.path(), "nsmc", "koelectra-small-v3.json", &text);
    let listed = load_config("nsmc", "nsmc/koelectra-small-v3", Some(dir.path()), &[]).expect("listed name");
    assert_eq!(listed.seed, 7);
    let err = load_config("nsmc", "korquad/koelectra-small-v3", Some(dir.path()), &[]).expect_err("other task");
    assert_eq!(
        format!("{err:#}"),
        "config \"korquad/koelectra-small-v3\" is the embedded config of task \"korquad\", not \"nsmc\"; for \
         \"nsmc\" use --config koelectra-small-v3"
    );
    let err = load_config("kornli", "nsmc/demo", Some(dir.path()), &[]).expect_err("no such config for kornli");
    assert!(
        format!("{err:#}").ends_with("use one of `koelectra-ft configs`"),
        "{err:#}"
    );
}

#[test]
fn negative_or_zero_sizes_are_rejected() {
    let (path, msg) = load_err(&nsmc_with(|m| {
        m.insert("train_batch_size".into(), (-4).into());
    }));
    let want = format!("{path}: config key \"train_batch_size\" must be a positive integer, got -4");
    assert_eq!(msg, want);
    for key in [
        "eval_batch_size",
        "max_seq_len",
        "gradient_accumulation_steps",
        "num_train_epochs",
    ] {
        let (_, msg) = load_err(&nsmc_with(|m| {
            m.insert(key.into(), 0.into());
        }));
        assert!(
            msg.contains(&format!("{key:?} must be a positive integer, got 0")),
            "{msg}"
        );
    }
}

#[test]
fn range_checks() {
    let cases: [(&str, Value, &str); 4] = [
        ("learning_rate", 0.0.into(), "must be a number > 0"),
        ("warmup_proportion", 1.0.into(), "must be a number in [0, 1)"),
        ("task", "sentiment".into(), "must be one of nsmc, kornli"),
        ("model_name_or_path", "".into(), "config needs \"model_name_or_path\""),
    ];
    for (key, value, want) in cases {
        let (path, msg) = load_err(&nsmc_with(|m| {
            m.insert(key.into(), value);
        }));
        assert!(msg.starts_with(&path) && msg.contains(want), "{key}: {msg}");
    }
    let (_, msg) = load_err(&nsmc_with(|m| {
        m.remove("model_type");
    }));
    assert!(msg.contains("missing config key \"model_type\""), "{msg}");
}

#[test]
fn task_must_match_requested_task() {
    let path = configs_dir().join("nsmc/koelectra-small.json");
    let err = load_config("kornli", &path.display().to_string(), None, &[]).expect_err("mismatch");
    let msg = format!("{err:#}");
    assert!(msg.contains("\"nsmc\" but --task is \"kornli\""), "{msg}");
    // The mismatch is named before any check of the other task's values (here: a squad config has
    // no dev split for early stopping).
    let squad = configs_dir().join("korquad/koelectra-small.json");
    let sets = ["early_stopping_patience=2".to_string()];
    let err = load_config("nsmc", &squad.display().to_string(), None, &sets).expect_err("mismatch");
    let msg = format!("{err:#}");
    assert!(
        msg.ends_with("config key \"task\" is \"korquad\" but --task is \"nsmc\""),
        "{msg}"
    );
}

#[test]
fn unsupported_model_type_is_a_clear_error() {
    let cfg = load_config("nsmc", "hanbert.json", None, &[]).expect("loads");
    let msg = format!("{:#}", check_supported(&cfg.model_type).expect_err("unsupported"));
    assert!(msg.starts_with("config key \"model_type\": \"hanbert\""), "{msg}");
    let msg = format!("{:#}", check_supported("roberta-large").expect_err("unknown"));
    assert!(msg.contains("supported: koelectra-base, koelectra-small"), "{msg}");
    for model in ["kobert", "distilkobert", "xlm-roberta"] {
        let cfg = load_config("korquad", model, None, &[]).expect("loads");
        check_supported(&cfg.model_type).unwrap_or_else(|e| panic!("{model}: {e:#}"));
    }
    for model in supported_model_types() {
        let cfg = load_config("naver-ner", model, None, &[]).expect("loads");
        check_supported(&cfg.model_type).expect("supported");
    }
}

#[test]
fn device_parsing() {
    assert_eq!(parse_device("cpu").expect("cpu"), tch::Device::Cpu);
    assert_eq!(parse_device("cuda").expect("cuda"), tch::Device::Cuda(0));
    assert_eq!(parse_device("cuda:3").expect("cuda:3"), tch::Device::Cuda(3));
    for bad in ["gpu", "cuda:", "cuda:x", "cuda:-1", ""] {
        let msg = format!("{:#}", parse_device(bad).expect_err(bad));
        assert!(msg.contains("expected cpu, cuda or cuda:N"), "{bad}: {msg}");
    }
    let cpu = resolve_device(None, true).expect("no_cuda");
    assert_eq!(cpu, tch::Device::Cpu);
    // Logs and messages name a device as --device spells it, so it can be pasted back.
    for device in [tch::Device::Cpu, tch::Device::Cuda(0), tch::Device::Cuda(3)] {
        let name = koelectra_ft::device::name(device);
        assert_eq!(parse_device(&name).expect(&name), device, "{name}");
    }
}

#[test]
fn task_kinds() {
    assert_eq!(TaskKind::of_task("korquad"), Some(TaskKind::Squad));
    assert_eq!(TaskKind::of_task("naver-ner"), Some(TaskKind::Ner));
    assert_eq!(TaskKind::SeqCls.tasks(), SEQ_CLS_TASKS.to_vec());
    assert_eq!(TaskKind::of_task("cola"), None);
}
