//! Helpers shared by the tests that drive the real `quarry` binary from the outside: starting
//! it on a free port with a clean environment, waiting until it answers, stopping it with a
//! signal, and reading the corpora of `../shared/data`.
#![allow(dead_code)]

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_quarry");

/// A port that was free a moment ago (the bind may race; callers retry).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

/// The binary with no `QUARRY_*` variable inherited from the environment of the test run.
pub fn command() -> Command {
    let mut command = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("QUARRY_") {
            command.env_remove(key);
        }
    }
    command
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    command
}

/// A running `quarry` process and where it listens.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub base: String,
    pub log_path: PathBuf,
    pub client: reqwest::blocking::Client,
}

pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(300))
        .pool_max_idle_per_host(1)
        .build()
        .expect("http client")
}

/// How a start attempt ended.
pub enum Started {
    Ready(Server),
    /// The process exited before answering; its log (stderr) follows.
    Exited(ExitStatus, String),
}

impl Server {
    /// Starts the binary with `configure` applied (flags, env), an address from
    /// `addr_args(port)`, and stderr appended to `log_path`; retries on a port race.
    pub fn start_with(
        log_path: &Path,
        mut configure: impl FnMut(&mut Command, u16),
        ready_timeout: Duration,
    ) -> Started {
        for _attempt in 0..10 {
            let port = free_port();
            let log = File::options()
                .create(true)
                .append(true)
                .open(log_path)
                .expect("opening the server log");
            let log_len_before = log.metadata().map(|m| m.len()).unwrap_or(0);
            let mut command = command();
            command.stderr(Stdio::from(log));
            configure(&mut command, port);
            let child = command.spawn().expect("spawning quarry");
            let mut server = Server {
                child,
                port,
                base: format!("http://127.0.0.1:{port}"),
                log_path: log_path.to_path_buf(),
                client: client(),
            };
            match server.wait_ready(ready_timeout) {
                Ok(()) => return Started::Ready(server),
                Err(status) => {
                    let log = read_from(log_path, log_len_before);
                    if log.contains("binding") || log.contains("in use") {
                        continue;
                    }
                    return Started::Exited(status, log);
                }
            }
        }
        panic!("could not find a free port for quarry after 10 attempts");
    }

    /// Starts `quarry --db-path <db> --http-addr 127.0.0.1:<port> --log-level warn <extra>`.
    pub fn start(db_path: &Path, log_path: &Path, extra: &[&str]) -> Server {
        match Server::start_with(
            log_path,
            |command, port| {
                command
                    .arg("--db-path")
                    .arg(db_path)
                    .arg("--http-addr")
                    .arg(format!("127.0.0.1:{port}"))
                    .arg("--log-level")
                    .arg("warn")
                    .args(extra);
            },
            Duration::from_secs(120),
        ) {
            Started::Ready(server) => server,
            Started::Exited(status, log) => {
                panic!("quarry exited at start ({status}); its log:\n{log}")
            }
        }
    }

    /// Polls `GET /health` until it answers 200; fails when the process exits first.
    fn wait_ready(&mut self, timeout: Duration) -> Result<(), ExitStatus> {
        let deadline = Instant::now() + timeout;
        let probe = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("http client");
        loop {
            if let Some(status) = self.child.try_wait().expect("polling quarry") {
                return Err(status);
            }
            if let Ok(response) = probe.get(format!("{}/health", self.base)).send() {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let status = self.child.wait().expect("waiting for quarry");
                eprintln!("quarry did not answer /health within {timeout:?}");
                return Err(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL, then reap.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends `signal` and waits (bounded) for the process to exit.
    pub fn signal_and_wait(mut self, signal: &str, timeout: Duration) -> ExitStatus {
        send_signal(self.pid(), signal);
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("polling quarry") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("quarry did not exit within {timeout:?} after signal {signal}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn get(&self, path: &str) -> Value {
        let response = self
            .client
            .get(self.url(path))
            .send()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status();
        let text = response.text().expect("reading a response body");
        assert!(status.is_success(), "GET {path} answered {status}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {path}: {e}: {text}"))
    }

    /// Waits until no task is enqueued or processing.
    pub fn wait_idle(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let page = self.get("/tasks?statuses=enqueued,processing&limit=1");
            if page["total"].as_u64() == Some(0) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "tasks still unfinished after {timeout:?}: {page}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until task `uid` is finished and returns it.
    pub fn wait_task(&self, uid: u64, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let task = self.get(&format!("/tasks/{uid}"));
            let status = task["status"].as_str().unwrap_or("");
            if !matches!(status, "enqueued" | "processing") {
                return task;
            }
            assert!(
                Instant::now() < deadline,
                "task {uid} unfinished after {timeout:?}: {task}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Sends `signal` (a name such as `TERM` or `KILL`) to `pid` with kill(1): the workspace
/// forbids `unsafe`, which `libc::kill` needs. `pid` is a child of this test that has not been
/// reaped, so it cannot name another process.
pub fn send_signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg("-s")
        .arg(signal)
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status()
        .expect("running kill(1)");
    assert!(
        status.success() || signal == "KILL",
        "kill -s {signal} {pid} failed"
    );
}

/// The part of a log file written after `offset` bytes.
pub fn read_from(path: &Path, offset: u64) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    String::from_utf8_lossy(&bytes[(offset as usize).min(bytes.len())..]).into_owned()
}

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// The first `limit` lines of a gzipped NDJSON corpus, as raw lines.
pub fn corpus_lines(name: &str, limit: usize) -> Vec<String> {
    let path = data_dir().join(format!("{name}.ndjson.gz"));
    let file = File::open(&path).unwrap_or_else(|e| panic!("opening {}: {e}", path.display()));
    BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .map(|line| line.expect("reading the corpus"))
        .filter(|line| !line.trim().is_empty())
        .take(limit)
        .collect()
}

/// Whether the long variants of the tests were asked for.
pub fn slow_tests() -> bool {
    std::env::var("QUARRY_SLOW_TESTS").is_ok_and(|v| v == "1")
}
