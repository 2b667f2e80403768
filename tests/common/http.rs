//! A tiny threaded HTTP/1.1 server on 127.0.0.1 for the download tests: serves a map of
//! path → bytes with Range support, Hugging Face hub headers, a request log and fault injection.
//! Tests reach it as `common::http`.
#![allow(dead_code)]
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Lower-case header names.
    pub headers: HashMap<String, String>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

struct Entry {
    body: Vec<u8>,
    headers: Vec<(String, String)>,
}

#[derive(Default)]
struct State {
    files: HashMap<String, Entry>,
    /// `/{org}/{name}/resolve/{rev}/` → commit: 404s below it are `EntryNotFound`.
    hub_repos: HashMap<String, String>,
    log: Vec<Request>,
    /// path → K: the next full-body response sends the full Content-Length, then only K bytes.
    truncate: HashMap<String, usize>,
    /// Paths served with wrong bytes (same length, last byte flipped).
    corrupt: HashSet<String>,
    /// Paths whose Range header is ignored (always 200 with the whole body).
    no_ranges: HashSet<String>,
}

/// The server; it lives until the test process ends.
#[derive(Clone)]
pub struct Server {
    addr: String,
    state: Arc<Mutex<State>>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let state = shared.clone();
                std::thread::spawn(move || {
                    let _ = handle(stream, &state);
                });
            }
        });
        Server { addr, state }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.addr.clone()
    }

    /// Serves `body` at `path` (a leading `/`).
    pub fn add(&self, path: &str, body: Vec<u8>) {
        self.add_with_headers(path, body, vec![]);
    }

    pub fn add_with_headers(&self, path: &str, body: Vec<u8>, headers: Vec<(String, String)>) {
        self.state
            .lock()
            .unwrap()
            .files
            .insert(path.to_string(), Entry { body, headers });
    }

    /// Serves a hub file at `/{repo}/resolve/{rev}/{file}` with `x-repo-commit` and an etag:
    /// the sha256 (as `x-linked-etag` and `etag`, like LFS files) when `lfs`, else the git blob sha1.
    pub fn add_hub_file(&self, repo: &str, rev: &str, commit: &str, file: &str, body: Vec<u8>, lfs: bool) {
        let etag = if lfs { sha256_hex(&body) } else { git_blob_sha1(&body) };
        let mut headers = vec![
            ("x-repo-commit".to_string(), commit.to_string()),
            ("etag".to_string(), format!("\"{etag}\"")),
        ];
        if lfs {
            headers.push(("x-linked-etag".to_string(), format!("\"{etag}\"")));
        }
        let prefix = format!("/{repo}/resolve/{rev}/");
        let mut state = self.state.lock().unwrap();
        state.hub_repos.insert(prefix.clone(), commit.to_string());
        state.files.insert(format!("{prefix}{file}"), Entry { body, headers });
    }

    /// The next full-body response for `path` sends the full Content-Length, then `after` bytes,
    /// then closes the connection.
    pub fn truncate_first(&self, path: &str, after: usize) {
        self.state.lock().unwrap().truncate.insert(path.to_string(), after);
    }

    /// Serves `path` with its last byte changed (same length and headers).
    pub fn corrupt(&self, path: &str) {
        self.state.lock().unwrap().corrupt.insert(path.to_string());
    }

    /// Answers requests for `path` with 200 and the whole body, ignoring Range.
    pub fn ignore_ranges(&self, path: &str) {
        self.state.lock().unwrap().no_ranges.insert(path.to_string());
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().log.clone()
    }

    pub fn request_count(&self) -> usize {
        self.state.lock().unwrap().log.len()
    }

    /// The requests whose path is `path`.
    pub fn requests_for(&self, path: &str) -> Vec<Request> {
        self.requests().into_iter().filter(|r| r.path == path).collect()
    }
}

fn handle(stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            break;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let request = Request {
        method: method.clone(),
        path: path.clone(),
        headers,
    };
    let mut state = state.lock().unwrap();
    state.log.push(request.clone());
    let mut out = stream;
    let Some(entry) = state.files.get(&path) else {
        // Like the hub: a missing file of a known repo is EntryNotFound (with the commit), else RepoNotFound.
        let hub = state
            .hub_repos
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix.as_str()));
        let extra = match hub {
            Some((_, commit)) => format!("x-error-code: EntryNotFound\r\nx-repo-commit: {commit}\r\n"),
            None if path.contains("/resolve/") => "x-error-code: RepoNotFound\r\n".to_string(),
            None => String::new(),
        };
        let body = b"not found";
        write!(
            out,
            "HTTP/1.1 404 Not Found\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )?;
        out.write_all(body)?;
        return out.flush();
    };
    let mut body = entry.body.clone();
    let entry_headers = entry.headers.clone();
    if state.corrupt.contains(&path) {
        if let Some(last) = body.last_mut() {
            *last ^= 0x55;
        }
    }
    let size = body.len();
    let range = request
        .header("range")
        .filter(|_| !state.no_ranges.contains(&path))
        .and_then(|r| parse_range(r, size));
    let mut head = String::new();
    let (status, start, end) = match range {
        Some(Ok((a, b))) => {
            head.push_str(&format!("Content-Range: bytes {a}-{b}/{size}\r\n"));
            ("206 Partial Content", a, b + 1)
        }
        Some(Err(())) => {
            write!(
                out,
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{size}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )?;
            return out.flush();
        }
        None => ("200 OK", 0, size),
    };
    let full = start == 0 && end == size;
    let cut = if full { state.truncate.remove(&path) } else { None };
    drop(state);
    for (k, v) in &entry_headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    write!(
        out,
        "HTTP/1.1 {status}\r\n{head}Accept-Ranges: bytes\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        end - start
    )?;
    let slice = &body[start..end];
    match cut {
        Some(k) => {
            out.write_all(&slice[..k.min(slice.len())])?;
            out.flush()?;
            let _ = out.shutdown(std::net::Shutdown::Both);
            Ok(())
        }
        None => {
            out.write_all(slice)?;
            out.flush()
        }
    }
}

/// `bytes=a-b` / `bytes=a-` → Ok((a, b)) inclusive; Err when unsatisfiable; None when unparsable.
fn parse_range(value: &str, size: usize) -> Option<Result<(usize, usize), ()>> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let a: usize = a.trim().parse().ok()?;
    if a >= size {
        return Some(Err(()));
    }
    let b = match b.trim() {
        "" => size - 1,
        b => b.parse::<usize>().ok()?.min(size - 1),
    };
    if b < a {
        return Some(Err(()));
    }
    Some(Ok((a, b)))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

/// `git hash-object` of `bytes`.
pub fn git_blob_sha1(bytes: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    let mut h = Sha1::new();
    h.update(format!("blob {}\0", bytes.len()).as_bytes());
    h.update(bytes);
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
