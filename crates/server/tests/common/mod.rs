//! Shared harness of the HTTP integration tests: one real Quarry server per test binary (real
//! scheduler, real storage in a temporary directory, bound to 127.0.0.1:0 and driven over
//! HTTP), a small blocking JSON client, task polling, the movies corpus, and error assertions.
//!
//! Every test binary includes this module but uses only part of it.
#![allow(dead_code)]

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long a task may take before a test gives up on it.
pub const TASK_TIMEOUT: Duration = Duration::from_secs(60);

/// A running server and a client to talk to it.
pub struct Server {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base: String,
    pub client: reqwest::blocking::Client,
    /// The scheduler behind the server, for tests that must hold or inspect the writer.
    pub scheduler: quarry_scheduler::Scheduler,
    /// The data directory; kept alive as long as the server.
    _dir: tempfile::TempDir,
}

/// An HTTP answer: the status and the body parsed as JSON (`Null` when empty).
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Response {
    /// Asserts the status and returns the body.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status, body: {}",
            self.body
        );
        self.body
    }

    /// Asserts a `202 Accepted` task summary and returns its task uid.
    #[track_caller]
    pub fn task_uid(self) -> u64 {
        self.summary(202)["taskUid"].as_u64().unwrap()
    }

    /// Asserts a task summary answered with `status` and returns it. Most writes answer
    /// `202 Accepted`; task cancelation and deletion answer `200 OK`, as in Meilisearch.
    #[track_caller]
    pub fn summary(self, status: u16) -> Value {
        let body = self.expect(status);
        assert_summary_shape(&body);
        body
    }
}

/// The shared server of this test binary, started on first use.
pub fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| start_server(quarry_server::ServerConfig::default()))
}

/// Starts a new server with `config` on its own runtime thread and a fresh data directory.
pub fn start_server(config: quarry_server::ServerConfig) -> Server {
    start_server_with(config, |_| {})
}

/// [`start_server`] with scheduler options changed by `tune` (a command-line webhook...).
pub fn start_server_with(
    config: quarry_server::ServerConfig,
    tune: impl FnOnce(&mut quarry_scheduler::SchedulerOptions) + Send + 'static,
) -> Server {
    let dir = tempfile::tempdir().expect("creating the data directory");
    let path = dir.path().to_path_buf();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("quarry-test-server".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("building the server runtime");
            runtime.block_on(async move {
                let mut options = quarry_scheduler::SchedulerOptions::new(&path);
                // Dumps and snapshots stay inside the test's temporary directory.
                options.dump_dir = path.join("dump-files");
                options.snapshot_dir = path.join("snapshot-files");
                tune(&mut options);
                let scheduler =
                    quarry_scheduler::Scheduler::open(options).expect("opening the scheduler");
                let state = quarry_server::AppState::new(scheduler.clone(), config)
                    .expect("opening the key store");
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("binding 127.0.0.1:0");
                let addr = listener.local_addr().unwrap();
                sender.send((addr, scheduler)).unwrap();
                quarry_server::serve(listener, state, std::future::pending())
                    .await
                    .expect("serving");
            });
        })
        .expect("spawning the server thread");
    let (addr, scheduler) = receiver
        .recv_timeout(Duration::from_secs(60))
        .expect("the server did not start");
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    Server {
        base: format!("http://{addr}"),
        client,
        scheduler,
        _dir: dir,
    }
}

/// Serves `app` on 127.0.0.1:0 on its own runtime thread (until the test process ends) and
/// answers its address: the local stand-ins for webhook receivers and LLM providers.
pub fn serve_local(app: axum::Router) -> std::net::SocketAddr {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            sender.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    receiver.recv().unwrap()
}

/// A fresh index uid, unique in this process: `{prefix}_{n}`.
pub fn unique_uid(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{prefix}_{}", NEXT.fetch_add(1, Ordering::SeqCst))
}

impl Server {
    /// The server's data directory.
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn finish(&self, request: reqwest::blocking::RequestBuilder) -> Response {
        let response = request.send().expect("sending the request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().expect("reading the response body");
        let is_text = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/"));
        let body = if text.trim().is_empty() {
            Value::Null
        } else if is_text {
            // `/metrics` (Prometheus text) and the preview page; every API answer is JSON.
            Value::String(text)
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("response is not JSON ({e}): {text}"))
        };
        Response {
            status,
            body,
            headers,
        }
    }

    /// A POST with a JSON body, answering the response's text as it was sent.
    pub fn post_text(&self, path: &str, body: Value) -> String {
        let response = self.client.post(self.url(path)).json(&body).send();
        response.expect("sending the request").text().unwrap()
    }

    pub fn get(&self, path: &str) -> Response {
        self.finish(self.client.get(self.url(path)))
    }

    pub fn delete(&self, path: &str) -> Response {
        self.finish(self.client.delete(self.url(path)))
    }

    pub fn post(&self, path: &str, body: Value) -> Response {
        self.finish(self.client.post(self.url(path)).json(&body))
    }

    pub fn put(&self, path: &str, body: Value) -> Response {
        self.finish(self.client.put(self.url(path)).json(&body))
    }

    pub fn patch(&self, path: &str, body: Value) -> Response {
        self.finish(self.client.patch(self.url(path)).json(&body))
    }

    /// Any request with raw bytes and an optional Content-Type.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<Vec<u8>>,
    ) -> Response {
        self.raw_with_headers(method, path, content_type, &[], body)
    }

    pub fn raw_with_headers(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        headers: &[(&str, &str)],
        body: impl Into<Vec<u8>>,
    ) -> Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .client
            .request(method, self.url(path))
            .body(body.into());
        if let Some(ct) = content_type {
            request = request.header("Content-Type", ct);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.finish(request)
    }

    /// Polls `GET /tasks/{uid}` until the task is finished (succeeded, failed or canceled).
    #[track_caller]
    pub fn wait_task(&self, uid: u64) -> Value {
        let deadline = Instant::now() + TASK_TIMEOUT;
        loop {
            let task = self.get(&format!("/tasks/{uid}")).expect(200);
            let status = task["status"].as_str().unwrap_or_default().to_string();
            if matches!(status.as_str(), "succeeded" | "failed" | "canceled") {
                return task;
            }
            assert!(
                Instant::now() < deadline,
                "task {uid} did not finish within {TASK_TIMEOUT:?}: {task}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for a task and asserts it succeeded.
    #[track_caller]
    pub fn wait_ok(&self, uid: u64) -> Value {
        let task = self.wait_task(uid);
        assert_eq!(task["status"], "succeeded", "task failed: {task}");
        task
    }

    /// Waits for a task and asserts it failed with `code`; returns the task.
    #[track_caller]
    pub fn wait_failed(&self, uid: u64, code: &str) -> Value {
        let task = self.wait_task(uid);
        assert_eq!(task["status"], "failed", "task did not fail: {task}");
        assert_error_body(&task["error"], code, "invalid_request");
        task
    }

    /// Creates an index and waits for it.
    #[track_caller]
    pub fn create_index(&self, uid: &str, primary_key: Option<&str>) -> Value {
        let body = match primary_key {
            Some(pk) => json!({"uid": uid, "primaryKey": pk}),
            None => json!({"uid": uid}),
        };
        let task = self.post("/indexes", body).task_uid();
        self.wait_ok(task)
    }

    /// Adds (POST) JSON documents and waits for the task to succeed.
    #[track_caller]
    pub fn add_documents(&self, index: &str, documents: Value) -> Value {
        let task = self
            .post(&format!("/indexes/{index}/documents"), documents)
            .task_uid();
        self.wait_ok(task)
    }

    /// Enqueues the movies corpus in `index` (primary key `id`) without waiting.
    pub fn enqueue_movies(&self, index: &str) -> u64 {
        self.raw(
            "POST",
            &format!("/indexes/{index}/documents?primaryKey=id"),
            Some("application/x-ndjson"),
            movies_ndjson().to_vec(),
        )
        .task_uid()
    }

    /// Loads the movies corpus in `index` and waits for it.
    #[track_caller]
    pub fn load_movies(&self, index: &str) -> Value {
        let task = self.enqueue_movies(index);
        let task = self.wait_ok(task);
        assert_eq!(task["details"]["indexedDocuments"], MOVIES_COUNT);
        task
    }

    /// Every document of `index`, in storage order.
    #[track_caller]
    pub fn all_documents(&self, index: &str) -> Vec<Value> {
        let body = self
            .get(&format!("/indexes/{index}/documents?limit=100000"))
            .expect(200);
        body["results"].as_array().unwrap().clone()
    }

    /// The document ids of `index`, sorted as strings.
    #[track_caller]
    pub fn document_ids(&self, index: &str, key: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .all_documents(index)
            .iter()
            .map(|d| match &d[key] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        ids.sort();
        ids
    }

    /// Searches with a POST body, asserting 200.
    #[track_caller]
    pub fn search(&self, index: &str, body: Value) -> Value {
        self.post(&format!("/indexes/{index}/search"), body)
            .expect(200)
    }
}

/// Number of films in `movies.ndjson.gz`.
pub const MOVIES_COUNT: u64 = 3201;

const DATA_DIR: &str = "/work/shared/data";

/// The movies corpus, decompressed NDJSON.
pub fn movies_ndjson() -> &'static [u8] {
    static DATA: OnceLock<Vec<u8>> = OnceLock::new();
    DATA.get_or_init(|| {
        let file = std::fs::File::open(format!("{DATA_DIR}/movies.ndjson.gz"))
            .expect("opening movies.ndjson.gz");
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(file)
            .read_to_end(&mut text)
            .expect("decompressing movies.ndjson.gz");
        text
    })
}

/// The movies corpus as JSON objects, in file order.
pub fn movies() -> &'static [Value] {
    static DATA: OnceLock<Vec<Value>> = OnceLock::new();
    DATA.get_or_init(|| {
        let text = std::str::from_utf8(movies_ndjson()).unwrap();
        let docs: Vec<Value> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(docs.len() as u64, MOVIES_COUNT);
        docs
    })
}

/// The first `n` films, as a JSON array.
pub fn some_movies(n: usize) -> Value {
    Value::Array(movies()[..n].to_vec())
}

/// A film by id.
pub fn movie(id: u64) -> &'static Value {
    movies()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("no film with id {id}"))
}

/// The first `take` documents of `NAME.ndjson.gz` in the shared corpora.
pub fn read_corpus(name: &str, take: usize) -> Vec<Value> {
    let file = std::fs::File::open(format!("{DATA_DIR}/{name}.ndjson.gz"))
        .unwrap_or_else(|e| panic!("opening {name}.ndjson.gz: {e}"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .expect("decompressing the corpus");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .take(take)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Waits for a task of the shared server, allowing a debug build the time a large corpus
/// takes; panics if it fails.
pub fn wait_long(task: u64) {
    let server = server();
    let start = std::time::Instant::now();
    loop {
        let body = server.get(&format!("/tasks/{task}")).expect(200);
        match body["status"].as_str() {
            Some("succeeded") => return,
            Some("failed") | Some("canceled") => panic!("task failed: {body}"),
            _ => {}
        }
        assert!(
            start.elapsed() < Duration::from_secs(900),
            "task {task} too slow"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `movies.settings.json`.
pub fn movies_settings() -> Value {
    let text = std::fs::read_to_string(format!("{DATA_DIR}/movies.settings.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Asserts an error body: exactly `{message, code, type, link}` with this code and type.
#[track_caller]
pub fn assert_error_body(body: &Value, code: &str, error_type: &str) {
    let object = body
        .as_object()
        .unwrap_or_else(|| panic!("error body is not an object: {body}"));
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["code", "link", "message", "type"],
        "error body keys: {body}"
    );
    assert_eq!(body["code"], code, "error code: {body}");
    assert_eq!(body["type"], error_type, "error type: {body}");
    assert_eq!(
        body["link"],
        format!("https://docs.meilisearch.com/errors#{code}"),
        "error link: {body}"
    );
    assert!(
        !body["message"].as_str().unwrap_or_default().is_empty(),
        "empty message: {body}"
    );
}

/// Asserts an error answer: HTTP status and a `invalid_request` error body with `code`.
#[track_caller]
pub fn assert_error(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(
        response.status, status,
        "unexpected status for `{code}`, body: {}",
        response.body
    );
    assert_error_body(&response.body, code, "invalid_request");
    response.body
}

/// Asserts the shape of a `202 Accepted` task summary.
#[track_caller]
pub fn assert_summary_shape(body: &Value) {
    let object = body.as_object().expect("summary is an object");
    for key in ["taskUid", "indexUid", "status", "type", "enqueuedAt"] {
        assert!(object.contains_key(key), "summary lacks `{key}`: {body}");
    }
    assert!(body["taskUid"].is_u64(), "taskUid: {body}");
    assert_eq!(body["status"], "enqueued", "summary status: {body}");
    assert!(body["type"].is_string(), "summary type: {body}");
    assert_rfc3339(&body["enqueuedAt"]);
}

/// Asserts an RFC 3339 date in UTC written with `Z`.
#[track_caller]
pub fn assert_rfc3339(value: &Value) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("date is not a string: {value}"));
    assert!(text.ends_with('Z'), "date not in UTC with Z: {text}");
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("date `{text}` is not RFC 3339: {e}"));
}

/// Asserts an ISO 8601 duration as Meilisearch writes it (`PT0.012S`, `PT1M3.5S`...).
#[track_caller]
pub fn assert_iso_duration(value: &Value) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("duration is not a string: {value}"));
    let rest = text
        .strip_prefix("PT")
        .unwrap_or_else(|| panic!("duration `{text}` does not start with PT"));
    assert!(rest.ends_with('S'), "duration `{text}` does not end with S");
    let mut number = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' | '.' => number.push(c),
            'H' | 'M' | 'S' => {
                assert!(
                    !number.is_empty() && number.parse::<f64>().is_ok(),
                    "duration `{text}` has a bad component"
                );
                number.clear();
            }
            _ => panic!("duration `{text}` has an unexpected character `{c}`"),
        }
    }
}

/// The ids of search hits, in order.
pub fn hit_ids(response: &Value) -> Vec<u64> {
    ids_under(response, "hits")
}

/// The ids of the documents a listing (`GET /indexes/{uid}/documents`, `.../fetch`) returned,
/// in order.
pub fn listed_ids(response: &Value) -> Vec<u64> {
    ids_under(response, "results")
}

/// The integer `id`s of the array under `key`, in order.
fn ids_under(response: &Value, key: &str) -> Vec<u64> {
    response[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} array: {response}"))
        .iter()
        .map(|h| {
            h["id"]
                .as_u64()
                .unwrap_or_else(|| panic!("{key} item without id: {h}"))
        })
        .collect()
}

/// The time now, RFC 3339, for date filters.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// Gzips bytes.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// Checks many error answers and reports every mismatch at once, so that one wrong code does
/// not hide the others.
#[derive(Default)]
pub struct ErrorChecks {
    mismatches: Vec<String>,
}

impl ErrorChecks {
    pub fn new() -> Self {
        ErrorChecks::default()
    }

    /// Records whether `response` is an `invalid_request` error with this status and code.
    pub fn check(&mut self, label: &str, response: Response, status: u16, code: &str) {
        let body = &response.body;
        let keys_ok = body.as_object().is_some_and(|o| {
            let mut keys: Vec<&str> = o.keys().map(String::as_str).collect();
            keys.sort_unstable();
            keys == ["code", "link", "message", "type"]
        });
        let ok = response.status == status
            && keys_ok
            && body["code"] == code
            && body["type"] == "invalid_request"
            && body["link"] == format!("https://docs.meilisearch.com/errors#{code}")
            && body["message"].as_str().is_some_and(|m| !m.is_empty());
        if !ok {
            self.mismatches.push(format!(
                "{label}: expected {status} `{code}`, got {} {body}",
                response.status
            ));
        }
    }

    #[track_caller]
    pub fn finish(self) {
        assert!(
            self.mismatches.is_empty(),
            "{} mismatched error(s):\n{}",
            self.mismatches.len(),
            self.mismatches.join("\n")
        );
    }
}
