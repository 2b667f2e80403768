//! The fuzzing engine: proptest strategies that mutate seeds, and a runner that holds every input
//! to its contract: no panic, one-line errors, a time budget and a heap bound.
use super::heap;
use koelectra_ft::error::catch_panic;
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// One parser under test: seeds to mutate, tokens to splice in, and a check that is `Err` on a bug
/// (not on bad input).
pub struct Target {
    pub name: &'static str,
    pub seeds: fn() -> Vec<Vec<u8>>,
    pub dictionary: fn() -> Vec<Vec<u8>>,
    pub check: fn(&[u8]) -> Result<(), String>,
}

/// An input slower than this is a failure.
const INPUT_BUDGET: Duration = Duration::from_secs(5);
/// An input still running after this is a hang: the watchdog saves it and ends the process.
const HANG: Duration = Duration::from_secs(60);
/// The heap an input may hold at its peak: this much plus [`HEAP_PER_BYTE`] per input byte.
const HEAP_BASE: usize = 64 << 20;
const HEAP_PER_BYTE: usize = 64;

/// The error must be one line and name `source` (when not empty).
pub fn one_line_error(e: &anyhow::Error, source: &str) -> Result<(), String> {
    let text = format!("{e:#}");
    if text.contains('\n') || text.contains('\r') {
        return Err(format!("multi-line error: {text:?}"));
    }
    if text.trim().is_empty() {
        return Err("empty error message".into());
    }
    if !text.contains(source) {
        return Err(format!("error does not name {source}: {text:?}"));
    }
    Ok(())
}

thread_local! {
    static ACCEPTED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts an input the parser under test accepted (the rest it refused with an error), as a check's
/// `Ok(())`: the share of accepted inputs shows how deep the mutations reach.
pub fn accept() -> Result<(), String> {
    ACCEPTED.with(|n| n.set(n.get() + 1));
    Ok(())
}

/// One edit of a seed; positions are taken modulo the current length.
#[derive(Debug, Clone)]
pub enum Mutation {
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Flip(usize, u8),
    Duplicate(usize, usize),
    Truncate(usize),
}

fn mutation(dictionary: Vec<Vec<u8>>) -> impl Strategy<Value = Mutation> {
    let token = prop_oneof![
        prop::sample::select(dictionary),
        prop::collection::vec(any::<u8>(), 1..4),
    ];
    prop_oneof![
        4 => (any::<usize>(), token).prop_map(|(at, t)| Mutation::Insert(at, t)),
        2 => (any::<usize>(), 1usize..16).prop_map(|(at, n)| Mutation::Delete(at, n)),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(at, bit)| Mutation::Flip(at, bit)),
        1 => (any::<usize>(), 1usize..64).prop_map(|(at, n)| Mutation::Duplicate(at, n)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

pub fn apply(mut bytes: Vec<u8>, edits: &[Mutation]) -> Vec<u8> {
    for edit in edits {
        let len = bytes.len();
        let at = |i: usize| if len == 0 { 0 } else { i % (len + 1) };
        match edit {
            Mutation::Insert(i, t) => {
                let at = at(*i);
                bytes.splice(at..at, t.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let start = at(*i);
                bytes.drain(start..(start + n).min(len));
            }
            Mutation::Flip(i, bit) if len > 0 => bytes[i % len] ^= 1 << (bit % 8),
            Mutation::Duplicate(i, n) => {
                let start = at(*i);
                let span: Vec<u8> = bytes[start..(start + n).min(len)].to_vec();
                bytes.splice(start..start, span);
            }
            Mutation::Truncate(i) => bytes.truncate(at(*i)),
            Mutation::Flip(..) => {}
        }
    }
    bytes
}

fn inputs(seeds: Vec<Vec<u8>>, dictionary: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let mutated = (
        prop::sample::select(seeds),
        prop::collection::vec(mutation(dictionary.clone()), 1..10),
    )
        .prop_map(|(seed, edits)| apply(seed, &edits));
    let soup = prop::collection::vec(prop::sample::select(dictionary), 0..48).prop_map(|t| t.concat());
    prop_oneof![
        6 => mutated,
        2 => soup,
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

/// Runs one input through `check`: a panic, a multi-line error, more than [`INPUT_BUDGET`] or more
/// heap than the bound is a failure.
pub fn run_check(target: &Target, input: &[u8]) -> Result<(), String> {
    watch(target.name, input);
    let started = Instant::now();
    let (outcome, peak) = heap::peak_during(|| catch_panic(|| (target.check)(input)));
    let took = started.elapsed();
    unwatch();
    outcome.map_err(|message| format!("panic: {message}"))??;
    let limit = HEAP_BASE + HEAP_PER_BYTE * input.len();
    if peak > limit {
        return Err(format!(
            "{peak} bytes of heap for a {}-byte input (limit {limit})",
            input.len()
        ));
    }
    if took > INPUT_BUDGET {
        return Err(format!(
            "{:.1} s for one input (budget {INPUT_BUDGET:?})",
            took.as_secs_f64()
        ));
    }
    Ok(())
}

/// An input running now, for the watchdog.
#[derive(Clone)]
struct Running {
    thread: ThreadId,
    target: &'static str,
    started: Instant,
    input: Vec<u8>,
}

static RUNNING: Mutex<Vec<Running>> = Mutex::new(Vec::new());

fn running() -> std::sync::MutexGuard<'static, Vec<Running>> {
    RUNNING.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn watch(name: &'static str, input: &[u8]) {
    static WATCHDOG: OnceLock<()> = OnceLock::new();
    WATCHDOG.get_or_init(|| {
        std::thread::spawn(|| loop {
            std::thread::sleep(Duration::from_millis(500));
            let hung = running().iter().find(|r| r.started.elapsed() > HANG).cloned();
            if let Some(hung) = hung {
                let saved = save_input(hung.target, &hung.input);
                eprintln!(
                    "fuzz target {}: an input hangs (over {HANG:?}); saved to {saved}",
                    hung.target
                );
                std::process::exit(101);
            }
        });
    });
    let thread = std::thread::current().id();
    let mut running = running();
    running.retain(|r| r.thread != thread);
    running.push(Running {
        thread,
        target: name,
        started: Instant::now(),
        input: input.to_vec(),
    });
}

fn unwatch() {
    let thread = std::thread::current().id();
    running().retain(|r| r.thread != thread);
}

fn env_number(name: &str, default: f64) -> f64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs `target` for `FUZZ_SECONDS` (default 2) from seed `FUZZ_SEED` (default 0); returns the
/// number of executions.
pub fn fuzz(target: &Target) -> usize {
    let budget = Duration::from_secs_f64(env_number("FUZZ_SECONDS", 2.0));
    let seed = env_number("FUZZ_SEED", 0.0) as u64;
    let strategy = inputs((target.seeds)(), (target.dictionary)());
    let started = Instant::now();
    ACCEPTED.with(|n| n.set(0));
    let executions = AtomicUsize::new(0);
    let mut round = 0u64;
    while started.elapsed() < budget {
        let mut rng_seed = [0u8; 32];
        rng_seed[..8].copy_from_slice(&seed.to_le_bytes());
        rng_seed[8..16].copy_from_slice(&round.to_le_bytes());
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &rng_seed);
        let config = RunnerConfig {
            cases: 500,
            failure_persistence: None,
            ..RunnerConfig::default()
        };
        let mut runner = TestRunner::new_with_rng(config, rng);
        let result = runner.run(&strategy, |input| {
            executions.fetch_add(1, Ordering::Relaxed);
            run_check(target, &input).map_err(TestCaseError::fail)
        });
        if let Err(failure) = result {
            let saved = match &failure {
                proptest::test_runner::TestError::Fail(_, input) => save_input(target.name, input),
                _ => "(nowhere: proptest aborted)".into(),
            };
            panic!("fuzz target {} failed (input saved to {saved}): {failure}", target.name);
        }
        round += 1;
    }
    let executions = executions.load(Ordering::Relaxed);
    let secs = started.elapsed().as_secs_f64();
    let accepted = ACCEPTED.with(std::cell::Cell::get);
    eprintln!(
        "fuzz {}: {executions} executions ({accepted} accepted) in {secs:.0} s, seed {seed}, 0 failures",
        target.name
    );
    executions
}

/// Writes a failing input to target/fuzz-failures/; returns its path.
fn save_input(name: &str, input: &[u8]) -> String {
    let dir = super::common::root().join("target/fuzz-failures");
    let _ = std::fs::create_dir_all(&dir);
    let n = std::fs::read_dir(&dir).map_or(0, |d| d.count());
    let path = dir.join(format!("{name}-{n}.bin"));
    let _ = std::fs::write(&path, input);
    path.display().to_string()
}
