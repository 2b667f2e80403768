//! Seq-cls readers: every file in `../shared/data` gives the spec's snapshot stats (§4.2–4.7), and bad
//! input gives one-line errors naming the file and line.
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::common::{root, shared};
use koelectra_ft::tasks::seq_cls::{is_regression, read_examples, task_spec, Example, Label, ReadReport};

fn data(rel: &str) -> PathBuf {
    shared("data").join(rel)
}

fn read(task: &str, rel: &str, split: &str) -> ReadReport {
    let path = data(rel);
    read_examples(task, &path, split).unwrap_or_else(|e| panic!("{e:#}"))
}

/// Examples per label string, in the task's label order.
fn class_counts(task: &str, examples: &[Example]) -> Vec<usize> {
    let names = task_spec(task).unwrap().label_names();
    let mut counts = vec![0; names.len()];
    for ex in examples {
        match ex.label {
            Label::Class(id) => counts[id] += 1,
            Label::Score(_) => panic!("{}: classification task gave a score", ex.guid),
        }
    }
    counts
}

/// Checks row count, per-class counts, skipped rows and that guids run `<split>-0..` without gaps
/// (nothing is skipped in the snapshot files).
fn check_classes(task: &str, rel: &str, split: &str, expected: &[usize]) -> ReadReport {
    let report = read(task, rel, split);
    let total: usize = expected.iter().sum();
    assert_eq!(report.examples.len(), total, "{rel}: rows");
    assert_eq!(report.skipped, 0, "{rel}: skipped");
    assert_eq!(
        class_counts(task, &report.examples),
        expected,
        "{rel}: per-class counts"
    );
    for (i, ex) in report.examples.iter().enumerate() {
        assert_eq!(ex.guid, format!("{split}-{i}"));
        assert_eq!(ex.text_b.is_some(), task_spec(task).unwrap().text_b_col.is_some());
    }
    report
}

#[test]
fn kornli_snapshot() {
    let dev = check_classes("kornli", "kornli/xnli.dev.ko.tsv", "dev", &[830, 830, 830]);
    check_classes("kornli", "kornli/xnli.test.ko.tsv", "test", &[1670, 1670, 1670]);
    let first = &dev.examples[0];
    assert!(!first.text_a.is_empty() && first.text_b.as_deref().is_some_and(|b| !b.is_empty()));
}

#[test]
fn paws_snapshot() {
    let dev = check_classes("paws", "paws/dev_2k.tsv", "dev", &[1160, 840]);
    check_classes("paws", "paws/test_2k.tsv", "test", &[1104, 896]);
    // U+001C is Python whitespace but sits mid-sentence here, and U+0008 is not whitespace: both kept.
    let fs = &dev.examples[823];
    assert_eq!(fs.guid, "dev-823");
    let b = fs.text_b.as_deref().unwrap();
    assert!(b.contains("균상종속영양생물\u{1c}, 다양한 식물 대표군을"), "{b:?}");
    assert!(b.ends_with("서로 다른 생태군입니다."));
    assert_eq!(fs.label, Label::Class(1));
    let bs = &dev.examples[1761];
    assert_eq!(
        bs.text_b.as_deref(),
        Some("미국의 개척자 John Sutter(1803-1880)는 Alta California에 정착한 유\u{8}로 스위스인들과 함께 1839년 8월에 도착했습니다.")
    );
}

#[test]
fn question_pair_snapshot() {
    check_classes("question-pair", "question-pair/train.tsv", "train", &[4169, 1967]);
    check_classes("question-pair", "question-pair/dev.tsv", "dev", &[432, 250]);
    check_classes("question-pair", "question-pair/test.tsv", "test", &[508, 250]);
}

#[test]
fn korsts_snapshot() {
    assert!(is_regression("korsts"));
    for (rel, split, rows) in [
        ("korsts/sts-train.tsv", "train", 5749),
        ("korsts/sts-dev.tsv", "dev", 1500),
        ("korsts/sts-test.tsv", "test", 1379),
    ] {
        let report = read("korsts", rel, split);
        assert_eq!(report.examples.len(), rows, "{rel}");
        assert_eq!(report.skipped, 0);
        for (i, ex) in report.examples.iter().enumerate() {
            assert_eq!(ex.guid, format!("{split}-{i}"));
            match ex.label {
                Label::Score(s) => assert!((0.0..=5.0).contains(&s), "{}: score {s}", ex.guid),
                Label::Class(_) => panic!("korsts gave a class"),
            }
        }
    }
    // The first example of the dev file, field by field.
    let dev = read("korsts", "korsts/sts-dev.tsv", "dev");
    assert_eq!(
        dev.examples[0],
        Example {
            guid: "dev-0".into(),
            text_a: "안전모를 가진 한 남자가 춤을 추고 있다.".into(),
            text_b: Some("안전모를 쓴 한 남자가 춤을 추고 있다.".into()),
            label: Label::Score(5.0),
        }
    );
}

#[test]
fn hate_speech_snapshot() {
    let train = check_classes("hate-speech", "hate-speech/train.tsv", "train", &[3486, 2499, 1911]);
    let val = check_classes("hate-speech", "hate-speech/val.tsv", "test", &[160, 189, 122]);
    // Quotes are ordinary chars: comments keep them verbatim (titles, which start with `"` and double
    // inner quotes CSV-style, are ignored, so no row is merged or split: the counts above hold).
    assert_eq!(
        train.examples[497].text_a,
        "결국 준영과 다솜은 바람을 피게되고 무인도로 떠난다에 한표 ㅋㅋㅋ 자연인이 되어 \"나는자연인이다\"에 출연하게된다"
    );
    assert_eq!(val.examples[274].text_a, "꺄\"~~씨아이엑스 훈훈합니다^^");
    assert!(train.examples.iter().all(|e| e.text_b.is_none()));
}

#[test]
fn nsmc_snapshot() {
    let report = read("nsmc", "nsmc/ratings_test.txt", "test");
    assert_eq!(report.examples.len(), 50_000);
    assert_eq!(report.skipped, 0);
    assert_eq!(class_counts("nsmc", &report.examples), [24_827, 25_173]);
    let first = &report.examples[0];
    assert_eq!(first.guid, "test-0");
    assert_eq!(first.text_a, "굳 ㅋ");
    assert_eq!(first.text_b, None);
    assert_eq!(first.label, Label::Class(1));
    // Empty reviews are kept, not skipped.
    assert_eq!(report.examples.iter().filter(|e| e.text_a.is_empty()).count(), 3);
}

// ---- bad and unusual input ------------------------------------------------------------------------

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Reads `bytes` as `task` and returns the error message, checking it is one line naming the file
/// (and `line` if given).
fn error(task: &str, name: &str, bytes: &[u8], line: Option<usize>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, name, bytes);
    let err = match read_examples(task, &path, "train") {
        Ok(report) => panic!("{name}: expected an error, got {} examples", report.examples.len()),
        Err(e) => format!("{e:#}"),
    };
    assert!(!err.contains('\n') && !err.contains('\r'), "not one line: {err:?}");
    assert!(err.contains(name), "no file name: {err}");
    if let Some(line) = line {
        assert!(err.contains(&format!("{name}:{line}:")), "no line {line}: {err}");
    }
    err
}

fn ok(task: &str, bytes: &[u8]) -> ReadReport {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "data.tsv", bytes);
    read_examples(task, &path, "train").unwrap_or_else(|e| panic!("{e:#}"))
}

const STS_HEADER: &str = "genre\tfilename\tyear\tid\tscore\tsentence1\tsentence2\n";

#[test]
fn short_row() {
    let text = format!("{STS_HEADER}a\tb\tc\td\t1.0\tx\ty\na\tb\tc\td\t2.0\n");
    let err = error("korsts", "sts-dev.tsv", text.as_bytes(), Some(3));
    assert!(
        err.ends_with("sts-dev.tsv:3: expected at least 7 tab-separated columns, found 5"),
        "{err}"
    );
    // Trailing tabs are whitespace: the reference strips them and then misses the column.
    let err = error("nsmc", "ratings.txt", b"id\tdocument\tlabel\n1\tgood\t\n", Some(2));
    assert!(
        err.contains("expected at least 3 tab-separated columns, found 2"),
        "{err}"
    );
}

#[test]
fn unknown_label() {
    let text =
        "sentence1\tsentence2\tgold_label\na\tb\tneutral\nc\td\tentailment\ne\tf\tcontradiction\ng\th\tentailmnt\n";
    let err = error("kornli", "xnli.dev.ko.tsv", text.as_bytes(), Some(5));
    assert!(
        err.ends_with(
            "xnli.dev.ko.tsv:5: unknown label \"entailmnt\" in column 3 (expected one of: contradiction, entailment, neutral)"
        ),
        "{err}"
    );
    // Exact strings: case matters, and a label is not trimmed of inner spaces.
    error(
        "hate-speech",
        "val.tsv",
        "t\tc\tb\th\nt\tc\tnone\tHate\n".as_bytes(),
        Some(2),
    );
    error("paws", "dev.tsv", "i\ts1\ts2\tl\n1\ta\tb\t1.0\n".as_bytes(), Some(2));
}

#[test]
fn bad_scores() {
    let text = format!("{STS_HEADER}a\tb\tc\td\tabc\tx\ty\n");
    let err = error("korsts", "sts-train.tsv", text.as_bytes(), Some(2));
    assert!(
        err.ends_with("sts-train.tsv:2: score \"abc\" in column 5 is not a number"),
        "{err}"
    );
    for bad in ["nan", "inf", "-Infinity", "1e39", ""] {
        let text = format!("{STS_HEADER}a\tb\tc\td\t4.5\tx\ty\na\tb\tc\td\t{bad}\tx\ty\n");
        let err = error("korsts", "sts.tsv", text.as_bytes(), Some(3));
        assert!(err.contains("in column 5 is not"), "{err}");
    }
}

#[test]
fn empty_and_missing_files() {
    let err = error("nsmc", "empty.txt", b"", None);
    assert!(
        err.ends_with("empty.txt: file is empty (expected a header line)"),
        "{err}"
    );
    let err = error("nsmc", "blank.txt", b" \n\r\n", None);
    assert!(err.contains("file is empty"), "{err}");

    let missing = root().join("no-such-dir/ratings_train.txt");
    let err = format!("{:#}", read_examples("nsmc", &missing, "train").unwrap_err());
    assert!(
        !err.contains('\n') && err.contains(&missing.display().to_string()),
        "{err}"
    );

    // A header-only file is not an error.
    let report = ok("nsmc", b"id\tdocument\tlabel\n");
    assert!(report.examples.is_empty() && report.skipped == 0);

    // Unknown task.
    let err = format!("{:#}", read_examples("naver-ner", &missing, "train").unwrap_err());
    assert!(err.contains("not a sequence-classification task"), "{err}");
}

#[test]
fn invalid_utf8() {
    let mut bytes = b"id\tdocument\tlabel\n1\tgood\t1\r\n2\tba".to_vec();
    bytes.push(0xff);
    bytes.extend_from_slice(b"d\t0\n");
    let err = error("nsmc", "cp949.txt", &bytes, Some(3));
    assert!(err.contains("byte column 5") && err.contains("0xff"), "{err}");
    // A lone CR ends a line for the line count too.
    let err = error("nsmc", "cr.txt", b"id\tdocument\tlabel\r1\tok\t1\r\xc0\t0\r", Some(3));
    assert!(err.contains("byte column 1"), "{err}");
}

#[test]
fn newline_styles_read_the_same() {
    let lf = "id\tdocument\tlabel\n1\t재미있다\t1\n2\t\t0\n3\t별로\t0\n";
    let want = ok("nsmc", lf.as_bytes());
    assert_eq!(want.examples.len(), 3);
    assert_eq!(want.examples[1].text_a, "", "empty nsmc reviews are kept");
    assert_eq!(ok("nsmc", lf.replace('\n', "\r\n").as_bytes()), want);
    assert_eq!(ok("nsmc", lf.replace('\n', "\r").as_bytes()), want);
    // No final newline, or one trailing blank line: same result.
    assert_eq!(ok("nsmc", lf.trim_end().as_bytes()), want);
    assert_eq!(ok("nsmc", format!("{lf}\r\n").as_bytes()), want);
}

#[test]
fn lines_are_stripped_of_python_whitespace() {
    // U+001C..U+001F are Python whitespace (not Rust's): stripped from the line ends, so "1" matches.
    let report = ok(
        "nsmc",
        "id\tdocument\tlabel\n\u{3000} 7\t좋아요\t1\u{1c}\u{1f}\n".as_bytes(),
    );
    assert_eq!(report.examples[0].text_a, "좋아요");
    assert_eq!(report.examples[0].label, Label::Class(1));
    // Inner fields are not stripped: the space stays part of the text.
    let report = ok("kornli", "a\tb\tc\n 전제 \t 가설\tneutral\n".as_bytes());
    assert_eq!(report.examples[0].text_a, "전제 ");
    assert_eq!(report.examples[0].text_b.as_deref(), Some(" 가설"));
    assert_eq!(report.examples[0].label, Label::Class(2));
    // No CSV quoting: a quoted field with a tab inside is two fields.
    let report = ok("hate-speech", "t\tc\tb\th\n\"a\t\"\"b\"\tc\"\tnone\n".as_bytes());
    assert_eq!(report.examples[0].text_a, "\"\"b\"");
    assert_eq!(report.examples[0].label, Label::Class(0), "column 3 is \"none\"");
}

#[test]
fn blank_line_mid_file_is_an_error() {
    let err = error("nsmc", "gap.txt", b"id\tdocument\tlabel\n1\ta\t1\n\n2\tb\t0\n", Some(3));
    assert!(err.contains("empty line"), "{err}");
    let err = error(
        "korsts",
        "gap.tsv",
        format!("{STS_HEADER} \t \na\tb\tc\td\t1\tx\ty\n").as_bytes(),
        Some(2),
    );
    assert!(err.contains("empty line"), "{err}");
}

#[test]
fn paws_and_question_pair_skip_empty_texts() {
    let text = "id\tsentence1\tsentence2\tlabel\n1\t가\t나\t0\n2\t\t나\t1\n3\t가\t\t1\n4\t다\t라\t1\n";
    let report = ok("paws", text.as_bytes());
    assert_eq!(report.skipped, 2);
    let guids: Vec<&str> = report.examples.iter().map(|e| e.guid.as_str()).collect();
    assert_eq!(guids, ["train-0", "train-3"], "the index advances over skipped rows");
    assert_eq!(report.examples[1].label, Label::Class(1));
    // A skipped row's label is never looked at (the reference skips before mapping labels).
    let report = ok("paws", "id\ts1\ts2\tl\n1\t\tx\tbogus\n".as_bytes());
    assert_eq!((report.examples.len(), report.skipped), (0, 1));

    let report = ok("question-pair", "q1\tq2\tdup\n질문\t\t0\n질문1\t질문2\t1\n".as_bytes());
    assert_eq!(report.skipped, 1);
    assert_eq!(report.examples[0].guid, "train-1");
    // An empty *first* column is different: the line strip eats the leading tab, the row is one column
    // short and the reference crashes. So do we.
    let err = error(
        "question-pair",
        "qp.tsv",
        "q1\tq2\tdup\n\t질문\t0\n".as_bytes(),
        Some(2),
    );
    assert!(
        err.contains("expected at least 3 tab-separated columns, found 2"),
        "{err}"
    );
    // Other tasks keep empty texts.
    let report = ok("kornli", "a\tb\tc\n전제\t\tneutral\n".as_bytes());
    assert_eq!((report.examples.len(), report.skipped), (1, 0));
}

#[test]
fn label_maps_follow_the_spec() {
    let names = |t: &str| task_spec(t).unwrap().label_names().to_vec();
    assert_eq!(names("kornli"), ["contradiction", "entailment", "neutral"]);
    assert_eq!(names("hate-speech"), ["none", "offensive", "hate"]);
    for t in ["nsmc", "paws", "question-pair"] {
        assert_eq!(names(t), ["0", "1"]);
    }
    let counts: BTreeMap<&str, usize> = ["nsmc", "kornli", "paws", "question-pair", "korsts", "hate-speech"]
        .map(|t| (t, task_spec(t).unwrap().num_labels()))
        .into();
    assert_eq!(counts["korsts"], 1);
    assert_eq!(counts["hate-speech"], 3);
}

#[test]
fn templated_fixture_and_demo_data_read_as_nsmc() {
    // The tests' templated fixture and the README demo's slice of real NSMC reviews.
    for (dir, train_rows, test_rows) in [
        ("tests/fixtures/templated/nsmc", 600, 200),
        ("data/demo/nsmc", 12_000, 1_000),
    ] {
        let mut ids = std::collections::HashSet::new();
        let mut texts = std::collections::HashSet::new();
        for (file, split, rows) in [
            ("ratings_train.txt", "train", train_rows),
            ("ratings_test.txt", "test", test_rows),
        ] {
            let path = root().join(dir).join(file);
            let report = read_examples("nsmc", &path, split).unwrap_or_else(|e| panic!("{e:#}"));
            let path = path.display();
            assert_eq!(report.examples.len(), rows, "{path}");
            assert_eq!(class_counts("nsmc", &report.examples), [rows / 2, rows / 2], "{path}");
            for e in &report.examples {
                assert!(!e.text_a.trim().is_empty(), "{path}: {}", e.guid);
                let text = e.text_a.split_whitespace().collect::<Vec<_>>().join(" ");
                // Unique within and across the two files: train and test are disjoint.
                assert!(texts.insert(text), "{path}: {} repeats a document", e.guid);
            }
            let file_ids: Vec<String> = std::fs::read_to_string(root().join(dir).join(file))
                .unwrap()
                .lines()
                .skip(1)
                .map(|l| l.split('\t').next().unwrap().to_string())
                .collect();
            for id in file_ids {
                assert!(ids.insert(id.clone()), "{path}: id {id} repeats");
            }
        }
    }
}
