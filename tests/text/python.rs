//! Python compatibility: `repr(float)` exactly as CPython prints it (fixtures written by
//! `.venv/bin/python scripts/make_metric_fixtures.py`).
use crate::common::read_json;
use crate::common::root;
use koelectra_ft::text::python::format_py_float;
use serde::Deserialize;

#[derive(Deserialize)]
struct ReprCase {
    bits: String,
    repr: String,
}

#[test]
fn fixture_repr() {
    let cases: Vec<ReprCase> =
        serde_json::from_value(read_json(&root().join("tests/fixtures/metrics/repr.json"))).unwrap();
    assert!(cases.len() >= 200);
    for c in &cases {
        let bits = u64::from_str_radix(&c.bits, 16).unwrap_or_else(|e| panic!("bad bits {}: {e}", c.bits));
        let x = f64::from_bits(bits);
        assert_eq!(format_py_float(x), c.repr, "bits {}", c.bits);
    }
    eprintln!("repr: {} cases, all exact", cases.len());
}

#[test]
fn format_py_float_examples() {
    let cases: [(f64, &str); 24] = [
        // Exactly halfway between two 17-digit candidates: Python rounds half to even.
        (1320784116824574.0 + 0.25, "1320784116824574.2"),
        (1320784116824574.0 + 0.75, "1320784116824574.8"),
        (100.0, "100.0"),
        (1.0, "1.0"),
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (0.1 + 0.2, "0.30000000000000004"),
        (0.90628, "0.90628"),
        (1e-5, "1e-05"),
        (5e-5, "5e-05"),
        (1.5e-7, "1.5e-07"),
        (1.2345e-7, "1.2345e-07"),
        (0.0001, "0.0001"),
        (0.00012, "0.00012"),
        (1e16, "1e+16"),
        (1e15, "1000000000000000.0"),
        (123456789012345678.0, "1.2345678901234568e+17"),
        (-123.456, "-123.456"),
        (1e300, "1e+300"),
        (5e-324, "5e-324"),
        (-2.5e-10, "-2.5e-10"),
        (f64::NAN, "nan"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
    ];
    for (x, want) in cases {
        assert_eq!(format_py_float(x), want, "{x:?}");
    }
}
