//! koelectra-ft command line: parse flags, resolve the config, dispatch to a subcommand.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use koelectra_ft::cli::{data, predict, report, run};
use koelectra_ft::config::{self, Config, ConfigError};
use koelectra_ft::device::{self, amp::Precision};
use koelectra_ft::error::{escape_controls, first_line};
use koelectra_ft::io::progress;
use koelectra_ft::tasks::{self, TaskKind};
use koelectra_ft::train::interrupt::{self, Interrupted};

const LONG_ABOUT: &str = "\
Fine-tune Korean ELECTRA (KoELECTRA) models on the Korean benchmarks, on libtorch (CPU or CUDA).

A run is described by a JSON config with the reference keys (see configs/<task>/*.json; all of
them are also embedded in this binary, list them with `koelectra-ft configs`).

Examples:
  koelectra-ft seq-cls --task nsmc      --config koelectra-base.json
  koelectra-ft ner     --task naver-ner --config koelectra-small.json --set learning_rate=3e-5
  koelectra-ft squad   --task korquad   --config koelectra-base-v3 --device cuda:0

Exit codes: 0 success, 1 any other error, 2 usage or config error, 130 interrupted (Ctrl-C), 143
(SIGTERM) or 129 (SIGHUP: the terminal closed); after these the run saved a checkpoint to resume from.
Logging goes to stderr at level info; set RUST_LOG (e.g. RUST_LOG=debug) to change it.";

/// `--version`: ours, libtorch's, and whether CUDA is usable here. Asking CUDA initialises it
/// (seconds on a GPU host), so only `--version` itself does (see [`parse_cli`]).
fn full_version() -> String {
    let cuda = if tch::Cuda::is_available() {
        format!("CUDA usable ({} device(s))", tch::Cuda::device_count())
    } else {
        "CUDA not usable (CPU only)".to_string()
    };
    format!(
        "{} (libtorch {}, {cuda})",
        env!("CARGO_PKG_VERSION"),
        libtorch_version()
    )
}

/// The libtorch this binary was built against (build.rs reads it from the pip wheel).
fn libtorch_version() -> &'static str {
    option_env!("LIBTORCH_VERSION").unwrap_or("unknown")
}

/// Command-line interface.
#[derive(Parser, Debug)]
#[command(name = "koelectra-ft", version, about, long_about = LONG_ABOUT)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
enum Command {
    /// Sequence classification/regression: nsmc, kornli, paws, question-pair, korsts, hate-speech.
    SeqCls(RunArgs),
    /// Named-entity recognition (token classification): naver-ner.
    Ner(RunArgs),
    /// Extractive question answering (SQuAD-style): korquad.
    Squad(RunArgs),
    /// List the configs embedded in this binary (`<task>/<name>`, usable as --config NAME), or print one.
    Configs {
        /// An embedded config to print (`nsmc/koelectra-base-v3.json`, `.json` optional), e.g. to start
        /// your own: `koelectra-ft configs nsmc/koelectra-base-v3 > my.json`.
        name: Option<String>,
    },
    /// Predict labels, tags or answers for new text with a checkpoint this tool saved.
    Predict(predict::PredictArgs),
    /// Print the results of runs (their summary.json) as one table: model rows x task columns.
    Report(report::ReportArgs),
    /// Download the benchmark files and verify them, or list which are present.
    Data(data::DataArgs),
    /// Print a shell completion script: `koelectra-ft completions bash > ~/.local/share/bash-completion/completions/koelectra-ft`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Flags shared by the training subcommands.
#[derive(Args, Debug)]
struct RunArgs {
    /// Task to run; must match the subcommand and the config's "task" key.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(tasks::names()))]
    task: String,
    /// Config NAME: a path to a JSON file, else <config-dir>/<task>/NAME, else the embedded copy ("koelectra-base.json"; ".json" may be left out); "-" reads it from standard input.
    #[arg(long, value_name = "NAME")]
    config: String,
    /// Folder holding <task>/<name>.json configs [default: configs].
    #[arg(long, value_name = "DIR")]
    config_dir: Option<PathBuf>,
    /// Override a config key (repeatable); VALUE is parsed as JSON when it can be (5e-5, true, 12), else taken as a string.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Device: cpu, cuda (= cuda:0) or cuda:N [default: CUDA when available and no_cuda is false, else cpu].
    #[arg(long, value_name = "DEVICE")]
    device: Option<String>,
    /// No progress bars: plain one-line log events only (also the default when stderr is not a terminal).
    #[arg(long, short)]
    quiet: bool,
    /// Continue an interrupted run from its newest resumable checkpoint: in DIR (a run folder or a
    /// checkpoint folder), or without DIR in the config's own run folder.
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = "")]
    resume: Option<String>,
}

/// Parses the command line; the CUDA probe of the version string runs only for `--version`/`-V`.
fn parse_cli() -> Result<Cli, clap::Error> {
    let mut command = Cli::command();
    if std::env::args_os().skip(1).any(|a| a == "--version" || a == "-V") {
        command = command.version(&*Box::leak(full_version().into_boxed_str()));
    }
    Cli::from_arg_matches(&command.try_get_matches()?)
}

fn main() -> ExitCode {
    let cli = match parse_cli() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with code 0; usage errors to stderr with code 2.
            let printed = e.print();
            let code = u8::try_from(e.exit_code()).unwrap_or(2);
            return match printed {
                // Help or version into a full disk fails as the listings do; a closed pipe does not.
                Err(err) if code == 0 && err.kind() != std::io::ErrorKind::BrokenPipe => {
                    use std::io::Write;
                    let _ = writeln!(std::io::stderr(), "error: cannot write to stdout: {err}");
                    ExitCode::from(1)
                }
                _ => ExitCode::from(code),
            };
        }
    };
    init_logging(cli.quiet());
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Built first: one_line logs (at debug), and a log call inside suspend would deadlock.
            let line = format!("error: {}", one_line(&e));
            // Not eprintln!: with stderr closed (`2>&1 | head`) it would panic and lose the exit code.
            progress::suspend(|| {
                use std::io::Write;
                let _ = writeln!(std::io::stderr(), "{line}");
            });
            ExitCode::from(exit_code(&e))
        }
    }
}

impl Cli {
    /// Whether --quiet was given.
    fn quiet(&self) -> bool {
        match &self.command {
            Command::SeqCls(a) | Command::Ner(a) | Command::Squad(a) => a.quiet,
            Command::Configs { .. } | Command::Report(_) | Command::Data(_) | Command::Completions { .. } => false,
            Command::Predict(a) => a.quiet,
        }
    }
}

/// env_logger on stderr, one line per event at info (RUST_LOG wins), each stamped with the UTC time
/// (`2026-11-28 01:32:07Z INFO  message`) and printed above the progress bars; --quiet hides the bars.
fn init_logging(quiet: bool) {
    progress::set_quiet(quiet);
    let env = env_logger::Env::default().default_filter_or("info");
    let logger = env_logger::Builder::from_env(env)
        .format(|buf, record| {
            use std::io::Write;
            let (level, secs) = (record.level(), unix_now());
            let style = buf.default_level_style(level);
            writeln!(buf, "{} {style}{level:<5}{style:#} {}", utc_stamp(secs), record.args())
        })
        .build();
    log::set_max_level(logger.filter());
    let _ = log::set_boxed_logger(Box::new(AboveBars(logger)));
}

/// The env_logger that writes each line with the progress bars suspended (wiped, then redrawn
/// below it), so a line never lands in the middle of a bar.
struct AboveBars(env_logger::Logger);

impl log::Log for AboveBars {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.0.matches(record) {
            progress::suspend(|| self.0.log(record));
        }
    }

    fn flush(&self) {
        self.0.flush();
    }
}

/// Seconds since the Unix epoch (0 on a clock set before it).
fn unix_now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map_or(0, |d| d.as_secs() as i64)
}

/// `secs` since the Unix epoch as `YYYY-MM-DD hh:mm:ssZ` (UTC; civil_from_days after H. Hinnant).
fn utc_stamp(secs: i64) -> String {
    let (days, time) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (time / 3_600, time / 60 % 60, time % 60);
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{s:02}Z")
}

/// The error chain joined with ": " on a single line, each cause cut to its first line (libtorch's
/// messages carry a C++ backtrace; `RUST_LOG=debug` logs the whole chain).
fn one_line(e: &anyhow::Error) -> String {
    log::debug!("error, in full: {e:?}");
    let texts: Vec<String> = e.chain().map(ToString::to_string).collect();
    let lines: Vec<&str> = texts.iter().map(|t| first_line(t)).filter(|l| !l.is_empty()).collect();
    escape_controls(&lines.join(": "))
}

/// 130 for an interrupted run (143 after SIGTERM, 129 after SIGHUP), 2 for usage/config errors, 1 for the rest.
fn exit_code(e: &anyhow::Error) -> u8 {
    if e.chain().any(|c| c.downcast_ref::<Interrupted>().is_some()) {
        return interrupt::exit_code() as u8;
    }
    let is_config = e.chain().any(|c| c.downcast_ref::<ConfigError>().is_some());
    if is_config {
        2
    } else {
        1
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::SeqCls(args) => run_task(TaskKind::SeqCls, &args),
        Command::Ner(args) => run_task(TaskKind::Ner, &args),
        Command::Squad(args) => run_task(TaskKind::Squad, &args),
        Command::Configs { name: None } => {
            koelectra_ft::io::stdout::print_line(&config::embedded_config_names().join("\n"))
        }
        Command::Configs { name: Some(name) } => {
            koelectra_ft::io::stdout::print_line(config::embedded_config_named(&name)?.trim_end())
        }
        Command::Predict(args) => {
            set_threads();
            predict::run(&args)
        }
        Command::Report(args) => report::run(&args),
        Command::Data(args) => data::run(&args),
        Command::Completions { shell } => {
            // Into memory first: clap_complete panics on a write error (a closed pipe, a full disk).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "koelectra-ft", &mut script);
            koelectra_ft::io::stdout::print(&String::from_utf8_lossy(&script))
        }
    }
}

/// Checks the task against the subcommand, loads and checks the config, picks the device, runs.
fn run_task(kind: TaskKind, args: &RunArgs) -> Result<()> {
    check_subcommand(kind, &args.task)?;
    let dir = args.config_dir.as_deref();
    let mut cfg = config::load_config(&args.task, &args.config, dir, &args.set)?;
    if let Some(resume) = &args.resume {
        cfg.resume_from_checkpoint = match resume.as_str() {
            "" => cfg.output_path().to_string_lossy().into_owned(),
            dir => dir.to_string(),
        };
    }
    koelectra_ft::model::check_supported(&cfg.model_type)?;
    let device = config::resolve_device(args.device.as_deref(), cfg.no_cuda)?;
    config::check_device(device)?;
    data::check_task_files(&cfg)?;
    let precision = Precision::from_flags(cfg.bf16, cfg.fp16);
    device::configure(device, precision, cfg.tf32, cfg.full_determinism)
        .map_err(|e| config::usage_error(format!("{e:#}")))?;
    set_threads();
    if let Err(e) = interrupt::install() {
        log::warn!("cannot install the Ctrl-C handler: {e}");
    }
    run_subcommand(kind, &cfg, device)
}

/// libtorch's intra-op pool: one thread per core unless OMP_NUM_THREADS says otherwise.
fn set_threads() {
    if std::env::var_os("OMP_NUM_THREADS").is_none() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        tch::set_num_threads(cores as i32);
    }
    log::info!(
        "libtorch threads: {} (OMP_NUM_THREADS sets them)",
        tch::get_num_threads()
    );
}

/// Errors when `task` belongs to another subcommand.
fn check_subcommand(kind: TaskKind, task: &str) -> Result<()> {
    let Some(actual) = TaskKind::of_task(task) else {
        let known = tasks::names().join(", ");
        return Err(config::usage_error(format!("unknown task {task:?}; known: {known}")));
    };
    if actual == kind {
        return Ok(());
    }
    let (want, got) = (actual.subcommand(), kind.subcommand());
    let tasks = kind.tasks().join(", ");
    Err(config::usage_error(format!(
        "task {task:?} is run by `koelectra-ft {want}`, not `{got}` ({got} runs: {tasks})"
    )))
}

/// Runs one subcommand on a loaded config.
fn run_subcommand(kind: TaskKind, cfg: &Config, device: tch::Device) -> Result<()> {
    log::info!(
        "{}: task={} model_type={} model={} device={}",
        kind.subcommand(),
        cfg.task,
        cfg.model_type,
        if cfg.model_name_or_path.is_empty() {
            "(model_config)"
        } else {
            &cfg.model_name_or_path
        },
        device::name(device),
    );
    match kind {
        TaskKind::SeqCls => run::seq_cls::run(cfg, device),
        TaskKind::Ner => run::ner::run(cfg, device),
        TaskKind::Squad => run::squad::run(cfg, device),
    }
}

#[cfg(test)]
mod tests {
    use super::utc_stamp;

    #[test]
    fn utc_stamps_match_date_u() {
        // `date -u -d @SECS "+%F %T"`
        for (secs, want) in [
            (0, "1970-01-01 00:00:00Z"),
            (951_782_400, "2000-02-29 00:00:00Z"),
            (1_709_164_800, "2024-02-29 00:00:00Z"),
            (1_795_829_527, "2026-11-28 01:32:07Z"),
            (4_102_444_799, "2099-12-31 23:59:59Z"),
            (-1, "1969-12-31 23:59:59Z"),
        ] {
            assert_eq!(utc_stamp(secs), want, "{secs}");
        }
    }
}
