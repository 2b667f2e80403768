//! Faults during training: Ctrl-C, SIGTERM and SIGHUP (exit 130, 143, 129; a resumable checkpoint,
//! `--resume` to the same weights), NaN losses (a clear error, no NaN checkpoint), and resuming without
//! state.

use crate::common::*;
use std::io::{BufRead, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Output, Stdio};
use tch::Tensor;

/// The templated fixture's model and data (tests/fixtures/templated.json), without evaluation, in `dir/run`.
fn demo_args(dir: &Path, extra: &[&str]) -> Vec<String> {
    let mut sets = vec![
        format!("ckpt_dir={}", dir.display()),
        "output_dir=run".into(),
        "do_eval=false".into(),
        "logging_steps=0".into(),
        "save_steps=0".into(),
        "max_steps=400".into(),
    ];
    sets.extend(extra.iter().map(|s| s.to_string()));
    demo_run_args(&sets)
}

fn command(args: &[String]) -> Command {
    let mut cmd = binary();
    // One thread: the same kernels in both runs, so the weights compare exactly.
    cmd.args(args)
        .current_dir(root())
        .env("OMP_NUM_THREADS", "1")
        .env("KOELECTRA_FT_CACHE", "off")
        .env_remove("RUST_LOG");
    cmd
}

fn run(args: &[String]) -> Output {
    command(args).output().expect("run koelectra-ft")
}

fn stderr(out: &Output) -> String {
    text(&out.stderr)
}

fn weights(dir: &Path) -> Vec<(String, Tensor)> {
    let mut tensors = Tensor::read_safetensors(dir.join("model.safetensors")).expect("read weights");
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    tensors
}

fn checkpoints(run: &Path) -> Vec<PathBuf> {
    let mut found: Vec<(i64, PathBuf)> = std::fs::read_dir(run)
        .unwrap()
        .filter_map(|e| {
            let path = e.ok()?.path();
            let step = path.file_name()?.to_str()?.strip_prefix("checkpoint-")?.parse().ok()?;
            Some((step, path))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, p)| p).collect()
}

/// Starts training, sends SIGINT `signals` times once the loop has begun, returns the finished process.
fn interrupted_run(args: &[String], signals: usize) -> Output {
    signalled_run(args, signals, libc::SIGINT)
}

/// Starts training, sends `signal` `signals` times once the loop has begun, returns the finished process.
fn signalled_run(args: &[String], signals: usize, signal: i32) -> Output {
    signalled(command(args), signals, signal)
}

/// The run's command with SIGHUP's disposition set to `action` (`SIG_DFL` or `SIG_IGN`) in the child.
fn with_sighup(args: &[String], action: libc::sighandler_t) -> Command {
    let mut cmd = command(args);
    // SAFETY: signal(2) only, between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
            libc::signal(libc::SIGHUP, action);
            Ok(())
        })
    };
    cmd
}

/// The log lines up to and including the first that contains `marker`.
fn read_log_until(lines: &mut impl Iterator<Item = std::io::Result<String>>, marker: &str) -> String {
    let mut log = String::new();
    for line in lines {
        let line = line.unwrap();
        log.push_str(&line);
        log.push('\n');
        if line.contains(marker) {
            break;
        }
    }
    log
}

/// The run of `cmd` started, with its stderr to read line by line as it comes.
fn spawn_logging(mut cmd: Command) -> (Child, Lines<BufReader<ChildStderr>>) {
    let mut child = cmd
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn koelectra-ft");
    let lines = BufReader::new(child.stderr.take().unwrap()).lines();
    (child, lines)
}

fn signalled(cmd: Command, signals: usize, signal: i32) -> Output {
    let (child, mut lines) = spawn_logging(cmd);
    let mut log = read_log_until(&mut lines, "training:");
    std::thread::sleep(std::time::Duration::from_millis(300));
    for _ in 0..signals {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as i32, signal) };
    }
    for line in lines {
        log.push_str(&line.unwrap());
        log.push('\n');
    }
    let mut out = child.wait_with_output().unwrap();
    out.stderr = log.into_bytes();
    out
}

/// Ctrl-C before training starts (here: while the run waits on a training file that is a pipe nobody
/// writes to) exits 130 at once, and the earlier run that `overwrite_output_dir` would have cleared is
/// left as it was.
#[test]
fn ctrl_c_while_preparing_exits_at_once_and_keeps_the_earlier_run() {
    let dir = tempfile::tempdir().unwrap();
    let earlier = run(&demo_args(dir.path(), &["max_steps=20", "save_steps=20"]));
    assert!(earlier.status.success(), "{}", stderr(&earlier));
    let data = dir.path().join("data/nsmc");
    std::fs::create_dir_all(&data).unwrap();
    let test_file = root().join("tests/fixtures/templated/nsmc/ratings_test.txt");
    std::fs::copy(test_file, data.join("ratings_test.txt")).unwrap();
    make_fifo(&data.join("ratings_train.txt"));
    let data_dir = format!("data_dir={}", dir.path().join("data").display());
    let (mut child, mut lines) = spawn_logging(command(&demo_args(dir.path(), &[&data_dir])));
    // The handlers are installed before this line; the pipe then holds the run in its reading.
    let mut log = read_log_until(&mut lines, "seq-cls: task=");
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let limit = std::time::Duration::from_secs(60);
    wait_or_kill(
        &mut child,
        limit,
        &format!("Ctrl-C did not end a run that had not started training:\n{log}"),
    );
    log.extend(lines.map(|l| l.unwrap() + "\n"));
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{log}");
    assert!(
        log.contains("error: interrupted while preparing the run; no training had started"),
        "{log}"
    );
    assert_eq!(
        checkpoints(&dir.path().join("run")),
        [dir.path().join("run/checkpoint-20")]
    );
}

#[test]
fn ctrl_c_saves_a_checkpoint_exits_130_and_resume_reaches_the_same_weights() {
    let dir = tempfile::tempdir().unwrap();
    let full_dir = dir.path().join("full");
    let full = run(&demo_args(&full_dir, &[]));
    assert!(full.status.success(), "{}", stderr(&full));
    let reference = weights(&full_dir.join("run/checkpoint-400"));

    let cut_dir = dir.path().join("cut");
    let args = demo_args(&cut_dir, &[]);
    let cut = interrupted_run(&args, 1);
    let log = stderr(&cut);
    assert_eq!(cut.status.code(), Some(130), "{log}");
    let saved = checkpoints(&cut_dir.join("run"));
    assert_eq!(saved.len(), 1, "one checkpoint at the interrupt: {saved:?}\n{log}");
    let step: i64 = saved[0].to_str().unwrap().rsplit('-').next().unwrap().parse().unwrap();
    assert!(step > 0 && step < 400, "interrupted at step {step}");
    assert!(log.contains(&format!("interrupted after step {step}")), "{log}");
    assert!(saved[0].join("trainer_state.json").is_file() && saved[0].join("optimizer.safetensors").is_file());

    let mut resume_args = args.clone();
    resume_args.push("--resume".into());
    let resumed = run(&resume_args);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert!(
        stderr(&resumed).contains(&format!("resuming at step {step}")),
        "{}",
        stderr(&resumed)
    );
    assert!(!stderr(&resumed).contains("differ"), "{}", stderr(&resumed));
    let got = weights(&cut_dir.join("run/checkpoint-400"));
    assert_eq!(got.len(), reference.len());
    for ((name, a), (_, b)) in reference.iter().zip(&got) {
        assert!(max_abs_diff(a, b) == 0.0, "{name} differs after resume");
    }
}

#[test]
fn nan_loss_stops_with_the_step_and_last_good_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&demo_args(
        dir.path(),
        &["learning_rate=1e30", "save_steps=1", "max_steps=50"],
    ));
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    let error = log.lines().find(|l| l.starts_with("error:")).expect("an error line");
    assert!(
        error.contains("not finite") || error.contains("NaN") || error.contains("inf"),
        "{error}"
    );
    assert!(error.contains("step "), "{error}");
    let saved = checkpoints(&dir.path().join("run"));
    let last = saved.last().expect("checkpoints before the fault");
    assert!(
        error.contains(&format!("last good checkpoint: {}", last.display())),
        "{error}"
    );
    for checkpoint in &saved {
        for (name, t) in weights(checkpoint) {
            assert!(
                t.isfinite().all().int64_value(&[]) == 1,
                "{name} in {}",
                checkpoint.display()
            );
        }
    }
}

#[test]
fn resume_needs_a_checkpoint_with_optimizer_state() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = demo_args(dir.path(), &["max_steps=4", "save_steps=2"]);
    assert!(run(&args).status.success());
    args.push("--resume".into());
    let out = run(&args);
    assert_eq!(out.status.code(), Some(1));
    let log = stderr(&out);
    assert!(log.contains("save_optimizer"), "{log}");

    // The checkpoint itself: it has no optimizer state, and the error says how to use it instead.
    let checkpoint = checkpoints(&dir.path().join("run"))[0].clone();
    let last = args.len() - 1;
    args[last] = format!("--resume={}", checkpoint.display());
    let out = run(&args);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!(
            "error: cannot resume from {}: it is a checkpoint without the optimizer state (saved with \
             save_optimizer: false); to start a new run from its weights, give it as model_name_or_path",
            checkpoint.display()
        )),
        "{}",
        stderr(&out)
    );

    let empty = tempfile::tempdir().unwrap();
    let mut args = demo_args(empty.path(), &[]);
    args.push("--resume".into());
    let out = run(&args);
    assert!(
        stderr(&out).contains("/run does not exist (no earlier run there: check ckpt_dir and output_dir"),
        "{}",
        stderr(&out)
    );
    std::fs::create_dir(empty.path().join("run")).unwrap();
    let out = run(&args);
    assert!(stderr(&out).contains("holds no checkpoint"), "{}", stderr(&out));

    // Another task's checkpoint is refused before anything is written.
    let other = tempfile::tempdir().unwrap();
    let mut args = demo_args(other.path(), &["max_steps=2", "save_steps=2", "save_optimizer=true"]);
    assert!(run(&args).status.success());
    let checkpoint = other.path().join("run/checkpoint-2");
    let training_args = checkpoint.join("training_args.json");
    let text = std::fs::read_to_string(&training_args).unwrap();
    std::fs::write(
        &training_args,
        text.replace("\"task\": \"nsmc\"", "\"task\": \"korquad\""),
    )
    .unwrap();
    args.push(format!("--resume={}", checkpoint.display()));
    let out = run(&args);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!(
            "error: cannot resume from {}: it is a checkpoint of task \"korquad\" ({}), not \"nsmc\"; to start a \
             nsmc run from its weights, give it as model_name_or_path",
            checkpoint.display(),
            training_args.display()
        )),
        "{}",
        stderr(&out)
    );
    // The run folder given as the model to start from: its newest checkpoint is named.
    let run_dir = other.path().join("run");
    let model = format!("model_name_or_path={}", run_dir.display());
    let args = demo_args(
        other.path(),
        &[&model, "model_config=null", "vocab_file=null", "output_dir=next"],
    );
    let out = run(&args);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).ends_with(&format!(
            "error: config key \"model_name_or_path\": {} has no config.json; it is a run folder: give one of its \
             checkpoints, e.g. model_name_or_path={} (the newest)\n",
            run_dir.display(),
            checkpoint.display()
        )),
        "{}",
        stderr(&out)
    );
}

/// A run that saved no checkpoint (a NaN stop at step 3, say) leaves a `metrics.jsonl`; the next
/// fresh run in that folder removes it instead of appending to it, so its curves and events are its
/// own. A resumed run keeps appending (tested above).
#[test]
fn a_fresh_run_does_not_append_to_an_earlier_runs_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    std::fs::create_dir_all(out.join("runs")).unwrap();
    let stale = r#"{"event":"train","step":99,"epoch":1.0,"loss":9.9}"#;
    std::fs::write(out.join("metrics.jsonl"), format!("{stale}\n")).unwrap();
    std::fs::write(out.join("runs/events.out.tfevents.1.host"), b"").unwrap();
    let done = run(&demo_args(dir.path(), &["max_steps=2", "save_steps=2"]));
    let log = stderr(&done);
    assert!(done.status.success(), "{log}");
    assert!(
        log.contains(&format!(
            "removing the files of an earlier run that saved no checkpoint from {}",
            out.display()
        )),
        "{log}"
    );
    let metrics = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    assert!(!metrics.contains(stale), "{metrics}");
    assert!(metrics.contains(r#""event":"end""#), "{metrics}");
    assert!(!out.join("runs/events.out.tfevents.1.host").exists());
}

/// A run folder in use by another process (here this test's lock) is refused before anything is
/// written there; once the lock is gone the same command runs.
#[test]
fn a_run_folder_in_use_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let args = demo_args(dir.path(), &["max_steps=2", "save_steps=2"]);
    let out = dir.path().join("run");
    let lock = koelectra_ft::io::lock::lock_run_folder(&out).unwrap();
    let refused = run(&args);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains(&format!(
            "error: output directory {} is in use by another koelectra-ft run (pid {}); wait for it to end \
             or give this run another output_dir",
            out.display(),
            std::process::id()
        )),
        "{}",
        stderr(&refused)
    );
    assert!(checkpoints(&out).is_empty() && !out.join("metrics.jsonl").exists());
    drop(lock);
    let done = run(&args);
    assert!(done.status.success(), "{}", stderr(&done));
    assert_eq!(checkpoints(&out).len(), 1);
}

/// A damaged resumable checkpoint is refused before training, naming the file: a position that is
/// not one, or a moment in the optimizer state that would turn the weights into NaN at the first
/// resumed update.
#[test]
fn resume_refuses_a_damaged_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = demo_args(dir.path(), &["max_steps=2", "save_steps=2", "save_optimizer=true"]);
    assert!(run(&args).status.success());
    let checkpoint = checkpoints(&dir.path().join("run"))[0].clone();
    args.extend(["--set", "max_steps=4", "--resume"].map(String::from));
    let last_error_line = |args: &[String]| {
        let out = run(args);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        stderr(&out).lines().last().unwrap_or_default().to_string()
    };

    let trainer_state = checkpoint.join("trainer_state.json");
    let good = std::fs::read_to_string(&trainer_state).unwrap();
    let mut damaged: serde_json::Value = serde_json::from_str(&good).unwrap();
    damaged["global_step"] = (-2).into();
    std::fs::write(&trainer_state, damaged.to_string()).unwrap();
    assert_eq!(
        last_error_line(&args),
        format!(
            "error: {}: invalid trainer state: \"global_step\" is missing or not a non-negative integer",
            trainer_state.display()
        )
    );
    std::fs::write(&trainer_state, good).unwrap();

    let state_file = checkpoint.join("optimizer.safetensors");
    let mut state = Tensor::read_safetensors(&state_file).unwrap();
    let (name, moment) = state.iter_mut().find(|(n, _)| n.starts_with("exp_avg_sq.")).unwrap();
    let name = name.clone();
    let _ = moment.view([-1]).get(0).fill_(-1.0);
    Tensor::write_safetensors(&state, &state_file).unwrap();
    assert_eq!(
        last_error_line(&args),
        format!(
            "error: cannot restore optimizer state {}: optimizer state {name} holds a value that is negative, infinite or NaN",
            state_file.display()
        )
    );
}

#[test]
fn recover_restores_a_checkpoint_moved_aside_and_drops_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let aside = dir.path().join(".checkpoint-5.old-4242");
    std::fs::create_dir(&aside).unwrap();
    std::fs::write(aside.join("config.json"), "{}").unwrap();
    let replaced = dir.path().join(".checkpoint-4.old-4242");
    std::fs::create_dir(&replaced).unwrap();
    std::fs::create_dir(dir.path().join("checkpoint-4")).unwrap();
    std::fs::create_dir(dir.path().join(".checkpoint-6.tmp-4242")).unwrap();
    std::fs::write(dir.path().join(".summary.json.tmp-4242"), "{").unwrap();
    // Look-alikes that are not ours (no process id) stay where they are.
    std::fs::write(dir.path().join(".notes.old-draft"), "mine").unwrap();
    std::fs::write(dir.path().join(".env.tmp-"), "mine").unwrap();
    koelectra_ft::io::atomic::recover(dir.path()).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [".env.tmp-", ".notes.old-draft", "checkpoint-4", "checkpoint-5"]);
    assert!(dir.path().join("checkpoint-5/config.json").is_file());
}

#[test]
fn out_of_memory_errors_name_the_batch_size_and_the_fix() {
    use koelectra_ft::device::is_out_of_memory;
    use koelectra_ft::train::trainer::out_of_memory_advice;
    assert!(is_out_of_memory(
        "Torch(\"CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.10 GiB total capacity)\")"
    ));
    assert!(is_out_of_memory(
        "DefaultCPUAllocator: can't allocate memory: you tried to allocate 1099511627776 bytes"
    ));
    assert!(!is_out_of_memory("shape mismatch"));
    let advice = out_of_memory_advice(12, 64, 1);
    assert!(
        advice.contains("step 12") && advice.contains("train_batch_size 64"),
        "{advice}"
    );
    assert!(
        advice.contains("train_batch_size=32") && advice.contains("gradient_accumulation_steps=2"),
        "{advice}"
    );
}

/// SIGTERM (a scheduler's stop) saves the same resumable checkpoint as Ctrl-C and exits 143, the
/// conventional 128 + 15; a second SIGTERM exits 143 at once.
#[test]
fn sigterm_saves_a_resumable_checkpoint_and_exits_143() {
    let dir = tempfile::tempdir().unwrap();
    let out = signalled_run(&demo_args(dir.path(), &[]), 1, libc::SIGTERM);
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(143), "{log}");
    assert!(log.contains("interrupted after step"), "{log}");
    let saved = checkpoints(&dir.path().join("run"));
    let last = saved.last().expect("a checkpoint");
    assert!(last.join("optimizer.safetensors").is_file(), "{}", last.display());
    // Resuming with a changed batch size is allowed, with a warning naming the change.
    let mut resume = demo_args(dir.path(), &["train_batch_size=16"]);
    resume.push("--resume".into());
    let resumed = run(&resume);
    let log = stderr(&resumed);
    assert!(resumed.status.success(), "{log}");
    let warning = format!(
        "resuming with settings that differ from {}: train_batch_size 32 -> 16;",
        last.join("training_args.json").display()
    );
    assert!(log.contains(&warning), "{log}");
    let dir = tempfile::tempdir().unwrap();
    let out = signalled_run(&demo_args(dir.path(), &["save_steps=1"]), 2, libc::SIGTERM);
    assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
}

/// SIGHUP (the terminal or ssh session closed) saves a resumable checkpoint and exits 129, the
/// conventional 128 + 1; under `nohup` (SIGHUP ignored when the run starts) the run goes on to the end.
#[test]
fn sighup_saves_and_exits_129_unless_nohup_ignores_it() {
    let dir = tempfile::tempdir().unwrap();
    // The default disposition, whatever this test inherited (CI may itself run under nohup).
    let out = signalled(with_sighup(&demo_args(dir.path(), &[]), libc::SIG_DFL), 1, libc::SIGHUP);
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(129), "{log}");
    assert!(log.contains("interrupted after step"), "{log}");
    let saved = checkpoints(&dir.path().join("run"));
    let last = saved.last().expect("a checkpoint");
    assert!(last.join("optimizer.safetensors").is_file(), "{}", last.display());

    let dir = tempfile::tempdir().unwrap();
    // What nohup does before it starts the command.
    let out = signalled(with_sighup(&demo_args(dir.path(), &[]), libc::SIG_IGN), 1, libc::SIGHUP);
    let log = stderr(&out);
    assert!(out.status.success(), "{log}");
    assert!(!log.contains("interrupted"), "{log}");
    assert_eq!(
        checkpoints(&dir.path().join("run")).last(),
        Some(&dir.path().join("run/checkpoint-400"))
    );
}

#[test]
fn a_second_ctrl_c_exits_at_once_leaving_only_complete_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let out = interrupted_run(&demo_args(dir.path(), &["save_steps=1"]), 2);
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    for checkpoint in checkpoints(&dir.path().join("run")) {
        assert!(checkpoint.join("config.json").is_file(), "{}", checkpoint.display());
        assert!(!weights(&checkpoint).is_empty());
    }
}

/// A 4 MiB tmpfs at `dir`, unmounted on drop; `None` where mounting is not permitted.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: &Path) -> Option<Self> {
        std::fs::create_dir_all(dir).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .ok()?;
        status.success().then(|| Self(dir.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_is_refused_up_front_or_reported_at_save_keeping_earlier_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = SmallDisk::mount(&dir.path().join("small")) else {
        eprintln!("skipped: mounting a tmpfs needs root (CAP_SYS_ADMIN)");
        return;
    };
    // Weights, tokenizer files and metrics fit twice in 4 MiB, not a third time.
    let out = run(&demo_args(&disk.0, &["save_steps=20", "max_steps=200"]));
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(
        log.contains("disk full while saving") && log.contains("earlier checkpoints are intact"),
        "{log}"
    );
    let saved = checkpoints(&disk.0.join("run"));
    assert!(!saved.is_empty(), "{log}");
    for checkpoint in &saved {
        assert!(!weights(checkpoint).is_empty(), "{}", checkpoint.display());
    }
    // With the optimizer state a checkpoint needs three copies of the weights: refused up front.
    let mut args = demo_args(&disk.0, &["save_optimizer=true"]);
    args.extend(["--set".into(), "output_dir=second".into()]);
    let out = run(&args);
    assert!(stderr(&out).contains("not enough free space"), "{}", stderr(&out));
    assert!(checkpoints(&disk.0.join("second")).is_empty());
}
