//! Models from the Hugging Face hub: `org/name[@revision]` resolved through the standard HF cache,
//! downloaded with `hf-hub` when missing.
//!
//! The cache is the one `transformers` uses (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
//! `~/.cache/huggingface/hub`; `models--org--name/{refs,snapshots,blobs}`), so a model either tool
//! downloaded is reused by the other. When the files a run needs are all cached, no request is made.
//! `HF_HUB_OFFLINE=1` never touches the network; `HF_ENDPOINT` and `HF_TOKEN` are honoured.
use anyhow::{anyhow, bail, Context, Result};
use hf_hub::api::sync::{ApiBuilder, ApiError, ApiRepo};
use hf_hub::{Cache, Repo, RepoType};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The hub used when `HF_ENDPOINT` is not set.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

const CONFIG: &str = "config.json";
/// Weights, in order of preference: one of them is needed.
const WEIGHTS: [&str; 2] = ["model.safetensors", "pytorch_model.bin"];
/// Tokenizer files: one of them is needed.
const TOKENIZER: [&str; 2] = ["tokenizer.json", "vocab.txt"];
/// Fetched when present on the hub, never required: the tokenizer's settings, and the SentencePiece
/// models of KoBERT/DistilKoBERT (beside their vocab.txt) and XLM-R (beside its tokenizer.json).
const TOKENIZER_EXTRA: [&str; 4] = [
    "tokenizer_config.json",
    "special_tokens_map.json",
    "tokenizer_78b3253a26.model",
    "sentencepiece.bpe.model",
];

/// Where and how hub models are looked up. [`HubOptions::from_env`] reads the standard variables.
#[derive(Debug, Clone)]
pub struct HubOptions {
    /// The hub cache folder (the one holding `models--org--name`).
    pub cache_dir: PathBuf,
    /// Base URL of the hub (`HF_ENDPOINT`).
    pub endpoint: String,
    /// Bearer token for private or gated models (`HF_TOKEN`, else the token file).
    pub token: Option<String>,
    /// Never make a request (`HF_HUB_OFFLINE`).
    pub offline: bool,
    /// Draw download progress bars.
    pub progress: bool,
}

impl HubOptions {
    /// The options `transformers` would use: `HF_HUB_CACHE` / `HF_HOME` / `XDG_CACHE_HOME`,
    /// `HF_ENDPOINT`, `HF_TOKEN` (else `HF_TOKEN_PATH` or `$HF_HOME/token`), `HF_HUB_OFFLINE`
    /// (or `TRANSFORMERS_OFFLINE`); bars follow `super::progress`.
    pub fn from_env() -> Result<Self> {
        let hf_home = match env("HF_HOME") {
            Some(home) => PathBuf::from(home),
            None => match env("XDG_CACHE_HOME") {
                Some(xdg) => PathBuf::from(xdg).join("huggingface"),
                None => home_dir()
                    .context("cannot locate the Hugging Face cache: HOME is not set (set HF_HOME or HF_HUB_CACHE)")?
                    .join(".cache/huggingface"),
            },
        };
        let cache_dir = env("HF_HUB_CACHE")
            .or_else(|| env("HUGGINGFACE_HUB_CACHE"))
            .map(PathBuf::from)
            .unwrap_or_else(|| hf_home.join("hub"));
        let token = env("HF_TOKEN").or_else(|| env("HUGGING_FACE_HUB_TOKEN")).or_else(|| {
            let path = env("HF_TOKEN_PATH")
                .map(PathBuf::from)
                .unwrap_or_else(|| hf_home.join("token"));
            let text = fs::read_to_string(path).ok()?;
            let text = text.trim();
            (!text.is_empty()).then(|| text.to_string())
        });
        let endpoint = env("HF_ENDPOINT").unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        Ok(Self {
            cache_dir,
            endpoint: endpoint.trim_end_matches('/').to_string(),
            token,
            offline: truthy("HF_HUB_OFFLINE") || truthy("TRANSFORMERS_OFFLINE"),
            progress: super::progress::bars_enabled(),
        })
    }
}

/// A non-empty environment variable.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `1`, `true`, `yes` or `on` (any case), as `huggingface_hub` reads its flags.
fn truthy(name: &str) -> bool {
    env(name).is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

/// A local directory as given, else the hub model's snapshot folder (downloading what is missing).
pub fn resolve_model(name_or_path: &str) -> Result<PathBuf> {
    let local = Path::new(name_or_path);
    if local.is_dir() {
        return Ok(local.to_path_buf());
    }
    // Only a hub id needs the cache location; a bad path gets its error without looking at HOME.
    parse_id(name_or_path)?;
    resolve_model_with(name_or_path, &HubOptions::from_env()?)
}

/// [`resolve_model`] with explicit options: the snapshot folder holding `config.json`, the weights
/// (`model.safetensors` or `pytorch_model.bin`) and the tokenizer (`tokenizer.json` or `vocab.txt`,
/// with `tokenizer_config.json` / `special_tokens_map.json` when the repo has them).
pub fn resolve_model_with(name_or_path: &str, opts: &HubOptions) -> Result<PathBuf> {
    let local = Path::new(name_or_path);
    if local.is_dir() {
        return Ok(local.to_path_buf());
    }
    let id = parse_id(name_or_path)?;
    let cached = CachedRepo::new(&opts.cache_dir, &id.repo);
    if let Some(commit) = cached.commit(&id.revision) {
        if cached.missing(&commit).is_empty() {
            let dir = cached.snapshot(&commit);
            log::info!("model {}: {} (cached)", id.label(), dir.display());
            return Ok(dir);
        }
    }
    if opts.offline {
        let cache = opts.cache_dir.display();
        let state = match cached.commit(&id.revision) {
            Some(commit) => format!(
                "is only partly in the Hugging Face cache {cache} (missing {})",
                cached.missing(&commit).join(", ")
            ),
            None => format!("is not in the Hugging Face cache {cache}"),
        };
        bail!(
            "model \"{}\" {state}, and HF_HUB_OFFLINE is set so nothing is downloaded: download it once with \
             network access (without HF_HUB_OFFLINE), or set model_name_or_path to a local folder with \
             config.json, the weights and vocab.txt",
            id.label()
        );
    }
    Fetcher::new(&id, opts, cached)?.fetch()
}

/// `org/name` and a revision (`main` unless `@revision` is given).
#[derive(Debug, Clone)]
struct ModelId {
    repo: String,
    revision: String,
}

impl ModelId {
    fn label(&self) -> String {
        format!("{}@{}", self.repo, self.revision)
    }
}

/// Parses `org/name[@revision]` (or a bare `name`), refusing anything that looks like a path.
fn parse_id(name: &str) -> Result<ModelId> {
    let (repo, revision) = match name.split_once('@') {
        Some((repo, rev)) => (repo, rev),
        None => (name, "main"),
    };
    let parts: Vec<&str> = repo.split('/').collect();
    let part_ok = |p: &&str| {
        !p.is_empty()
            && !p.starts_with(['.', '-'])
            && !p.ends_with('.')
            && !p.contains("..")
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let valid_revision = !revision.is_empty()
        && !revision.contains("..")
        && !revision.starts_with('/')
        && !revision.chars().any(|c| c.is_whitespace() || c.is_control());
    if parts.len() > 2 || !parts.iter().all(part_ok) || !valid_revision {
        bail!(
            "model \"{name}\": no such local directory, and not a hub model id (org/name or org/name@revision); \
             set model_name_or_path to a folder with config.json and model.safetensors/pytorch_model.bin"
        );
    }
    Ok(ModelId {
        repo: repo.to_string(),
        revision: revision.to_string(),
    })
}

/// One model's folder in the HF cache: `models--org--name/{refs,snapshots,.no_exist}`.
struct CachedRepo {
    base: PathBuf,
}

impl CachedRepo {
    fn new(cache: &Path, repo: &str) -> Self {
        Self {
            base: cache.join(format!("models--{}", repo.replace('/', "--"))),
        }
    }

    /// The commit `revision` points to: `refs/<revision>`, else the revision itself when it is a
    /// full commit hash (transformers writes no ref for those).
    fn commit(&self, revision: &str) -> Option<String> {
        if let Ok(text) = fs::read_to_string(self.base.join("refs").join(revision)) {
            let commit = text.trim();
            if !commit.is_empty() && !commit.contains(['/', '\\']) && commit != ".." {
                return Some(commit.to_string());
            }
        }
        is_hex(revision, 40).then(|| revision.to_string())
    }

    fn snapshot(&self, commit: &str) -> PathBuf {
        self.base.join("snapshots").join(commit)
    }

    /// Whether the snapshot holds `file` (a symlink whose blob is gone does not count).
    fn has(&self, commit: &str, file: &str) -> bool {
        self.snapshot(commit).join(file).is_file()
    }

    /// Whether a 404 for `file` at `commit` was recorded (huggingface_hub's `.no_exist` markers).
    fn known_absent(&self, commit: &str, file: &str) -> bool {
        self.base.join(".no_exist").join(commit).join(file).exists()
    }

    /// Records a 404 so the next resolution does not ask again (best effort).
    fn mark_absent(&self, commit: &str, file: &str) {
        let dir = self.base.join(".no_exist").join(commit);
        if fs::create_dir_all(&dir).is_ok() {
            let _ = fs::File::create(dir.join(file));
        }
    }

    /// What a run needs and the snapshot lacks (empty = usable as is).
    fn missing(&self, commit: &str) -> Vec<String> {
        let mut missing = Vec::new();
        if !self.has(commit, CONFIG) {
            missing.push(CONFIG.to_string());
        }
        if !WEIGHTS.iter().any(|f| self.has(commit, f)) {
            missing.push(WEIGHTS.join(" or "));
        }
        if !TOKENIZER.iter().any(|f| self.has(commit, f)) {
            missing.push(TOKENIZER.join(" or "));
        }
        missing
    }
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Downloads the missing files of one model into the cache.
struct Fetcher<'a> {
    id: &'a ModelId,
    opts: &'a HubOptions,
    cached: CachedRepo,
    repo: ApiRepo,
}

/// A failed request's HTTP status and the hub's `x-error-code` / `x-repo-commit` headers.
struct HttpFailure {
    status: u16,
    code: Option<String>,
    commit: Option<String>,
}

impl<'a> Fetcher<'a> {
    fn new(id: &'a ModelId, opts: &'a HubOptions, cached: CachedRepo) -> Result<Self> {
        let api = ApiBuilder::from_cache(Cache::new(opts.cache_dir.clone()))
            .with_endpoint(opts.endpoint.clone())
            .with_token(opts.token.clone())
            .with_retries(3)
            .with_progress(false)
            .build()
            .map_err(|e| anyhow!("model \"{}\": cannot set up the hub client: {e}", id.label()))?;
        let repo = api.repo(Repo::with_revision(
            id.repo.clone(),
            RepoType::Model,
            id.revision.clone(),
        ));
        Ok(Self { id, opts, cached, repo })
    }

    /// Fetches every file the snapshot lacks; a second pass covers a branch that moved to a new
    /// commit while downloading (the files cached under the old commit are then fetched again).
    fn fetch(&self) -> Result<PathBuf> {
        for _ in 0..2 {
            self.ensure(CONFIG, true)?;
            if !self.ensure(WEIGHTS[0], false)? && !self.ensure(WEIGHTS[1], false)? {
                bail!(
                    "model \"{}\": neither model.safetensors nor pytorch_model.bin found on {} (404); \
                     only PyTorch/safetensors checkpoints are supported",
                    self.id.label(),
                    self.opts.endpoint
                );
            }
            let mut tokenizer = false;
            for file in TOKENIZER {
                tokenizer |= self.ensure(file, false)?;
            }
            if !tokenizer {
                bail!(
                    "model \"{}\": neither tokenizer.json nor vocab.txt found on {} (404); \
                     set vocab_file in the config",
                    self.id.label(),
                    self.opts.endpoint
                );
            }
            for file in TOKENIZER_EXTRA {
                self.ensure(file, false)?;
            }
            if let Some(commit) = self.cached.commit(&self.id.revision) {
                if self.cached.missing(&commit).is_empty() {
                    return Ok(self.cached.snapshot(&commit));
                }
            }
        }
        bail!(
            "model \"{}\": the revision moved on {} while downloading; run again",
            self.id.label(),
            self.opts.endpoint
        )
    }

    /// Makes sure the current snapshot has `file`: true when it does (cached or downloaded), false
    /// when the hub has no such file (and it is not `required`).
    fn ensure(&self, file: &str, required: bool) -> Result<bool> {
        let label = self.id.label();
        let current = self.cached.commit(&self.id.revision);
        if let Some(commit) = &current {
            if self.cached.has(commit, file) {
                return Ok(true);
            }
            if !required && self.cached.known_absent(commit, file) {
                return Ok(false);
            }
        }
        log::info!("model {label}: downloading {file} from {}", self.opts.endpoint);
        let bar = download_bar(file, self.opts.progress);
        let result = self.repo.download_with_progress(file, BarProgress(bar.clone()));
        bar.finish_and_clear();
        let err = match result {
            Ok(path) => {
                self.verify(&path, file)?;
                return Ok(true);
            }
            Err(err) => err,
        };
        let Some(failure) = http_failure(&err) else {
            return Err(anyhow!("{err}")).with_context(|| {
                format!(
                    "model \"{label}\": cannot download {file} from {} (check the network or HF_ENDPOINT)",
                    self.opts.endpoint
                )
            });
        };
        let endpoint = &self.opts.endpoint;
        let status = failure.status;
        match failure.code.as_deref() {
            Some("RepoNotFound") | Some("GatedRepo") => bail!(
                "model \"{label}\": no such local directory, and repository not found on {endpoint} ({status}); \
                 check the model id, or set HF_TOKEN for a private or gated model"
            ),
            Some("RevisionNotFound") => bail!(
                "model \"{label}\": revision \"{}\" not found on {endpoint} ({status}); check the revision",
                self.id.revision
            ),
            _ if status == 401 || status == 403 => bail!(
                "model \"{label}\": no such local directory, and {endpoint} denied access ({status}) to {file}; \
                 the repository does not exist or needs a token (set HF_TOKEN)"
            ),
            _ if status == 404 && required => {
                bail!("model \"{label}\": {file} not found on {endpoint} (404); check the model id")
            }
            _ if status == 404 => {
                if let Some(commit) = failure.commit.or(current) {
                    self.cached.mark_absent(&commit, file);
                }
                log::debug!("model {label}: no {file} on the hub");
                Ok(false)
            }
            _ => bail!("model \"{label}\": cannot download {file}: {endpoint} answered HTTP {status}"),
        }
    }

    /// Checks a downloaded file against its blob name (the etag): sha256 for LFS files, git blob
    /// SHA-1 for the others. A mismatch deletes the blob and the snapshot link.
    fn verify(&self, path: &Path, file: &str) -> Result<()> {
        let label = self.id.label();
        let blob = fs::canonicalize(path).with_context(|| format!("model \"{label}\": {}", path.display()))?;
        let etag = blob
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let (kind, got) = if is_hex(&etag, 64) {
            ("sha256", sha256_file(&blob)?)
        } else if is_hex(&etag, 40) {
            ("git blob sha1", git_blob_sha1_file(&blob)?)
        } else {
            log::debug!("model {label}: {file}: etag {etag} is not a hash; not verified");
            return Ok(());
        };
        if got == etag {
            return Ok(());
        }
        let _ = fs::remove_file(&blob);
        let _ = fs::remove_file(path);
        if let Some(snapshot) = path.parent() {
            let _ = fs::remove_dir(snapshot); // only when empty
        }
        bail!(
            "model \"{label}\": {file}: hash mismatch (expected {kind} {etag}, got {got}); \
             the download was deleted, run again"
        )
    }
}

/// The HTTP status behind a hub error, if it was one.
fn http_failure(err: &ApiError) -> Option<HttpFailure> {
    match err {
        ApiError::RequestError(inner) => match inner.as_ref() {
            ureq::Error::Status(status, response) => Some(HttpFailure {
                status: *status,
                code: response.header("x-error-code").map(str::to_string),
                commit: response
                    .header("x-repo-commit")
                    .map(str::trim)
                    .filter(|c| is_hex(c, 40))
                    .map(str::to_string),
            }),
            ureq::Error::Transport(_) => None,
        },
        ApiError::TooManyRetries(inner) => http_failure(inner),
        _ => None,
    }
}

fn sha256_file(path: &Path) -> Result<String> {
    let mut hasher = Sha256::new();
    hash_file(path, |chunk| hasher.update(chunk))?;
    Ok(hex(&hasher.finalize()))
}

/// `git hash-object FILE`: SHA-1 of `blob <len>\0` followed by the bytes.
pub(crate) fn git_blob_sha1_file(path: &Path) -> Result<String> {
    use sha1::Sha1;
    let len = fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {len}\0").as_bytes());
    let read = hash_file(path, |chunk| hasher.update(chunk))?;
    if read != len {
        bail!("{}: changed while being hashed", path.display());
    }
    Ok(hex(&hasher.finalize()))
}

/// Streams a file through `update`; returns the number of bytes read.
fn hash_file(path: &Path, mut update: impl FnMut(&[u8])) -> Result<u64> {
    let mut file = fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            return Ok(total);
        }
        update(&buf[..n]);
        total += n as u64;
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A byte-count bar for downloading `name` (hidden unless `show`).
pub(crate) fn download_bar(name: &str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("{prefix:>24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let short: String = if name.chars().count() > 24 {
        let tail: Vec<char> = name.chars().rev().take(22).collect();
        format!("..{}", tail.into_iter().rev().collect::<String>())
    } else {
        name.to_string()
    };
    // Among the run's bars, so a warning (a retry) is printed above it.
    super::progress::add(ProgressBar::new(0).with_style(style).with_prefix(short))
}

/// hf-hub's progress callbacks on our bar (a retry starts the count again from the resume point).
struct BarProgress(ProgressBar);

impl hf_hub::api::Progress for BarProgress {
    fn init(&mut self, size: usize, _filename: &str) {
        self.0.set_length(size as u64);
        self.0.set_position(0);
    }

    fn update(&mut self, size: usize) {
        self.0.inc(size as u64);
    }

    fn finish(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_paths() {
        let id = parse_id("monologg/koelectra-base-v3-discriminator").unwrap();
        assert_eq!(id.label(), "monologg/koelectra-base-v3-discriminator@main");
        let id = parse_id("org/name@refs/pr/5").unwrap();
        assert_eq!((id.repo.as_str(), id.revision.as_str()), ("org/name", "refs/pr/5"));
        assert!(parse_id("gpt2").is_ok());
        for bad in [
            "./model",
            "/abs/path",
            "a/b/c",
            "../x",
            "org/name@",
            "org/",
            "org name/x",
        ] {
            assert!(parse_id(bad).is_err(), "{bad}");
        }
    }
}
