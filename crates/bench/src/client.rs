//! A small blocking client for the parts of the Meilisearch v1 HTTP API the benchmarks need
//! (health, version, indexes, settings, NDJSON documents, tasks, search). It exists so that
//! every command talks to Quarry and to any other engine in exactly the same way, with bounded
//! retries, timeouts and error messages that say what went wrong (server down, index missing,
//! an API error with its `code`) instead of a bare transport error.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// How many times a request is attempted when the transport fails or the server answers
/// 502/503/504 (a server that is starting or overloaded). Other answers are final.
const ATTEMPTS: u32 = 4;

/// Where the server is and how to authenticate to it.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:7700`.
    pub url: String,
    /// Sent as `Authorization: Bearer <key>` when present.
    pub api_key: Option<String>,
}

impl Endpoint {
    pub fn new(url: &str, api_key: Option<String>) -> Self {
        Endpoint {
            url: url.trim_end_matches('/').to_string(),
            api_key,
        }
    }

    /// A blocking client that keeps its connection alive between requests (one per thread
    /// in the load generators means one keep-alive connection per thread).
    pub fn client(&self, timeout: Duration) -> Result<Client> {
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.api_key {
            let value = HeaderValue::from_str(&format!("Bearer {key}"))
                .context("the API key contains characters not allowed in an HTTP header")?;
            headers.insert(AUTHORIZATION, value);
        }
        Client::builder()
            .default_headers(headers)
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .build()
            .context("building the HTTP client")
    }
}

/// An answer: status and parsed JSON body (`Value::Null` when empty or not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    /// Turns a non-2xx answer into an error that quotes the Meilisearch error object.
    pub fn ok(self, what: &str) -> Result<Value> {
        if self.status.is_success() {
            Ok(self.body)
        } else {
            Err(anyhow!(
                "{what}: {}",
                describe_error(self.status, &self.body)
            ))
        }
    }
}

/// `HTTP 404 index_not_found: Index `x` not found.` from a Meilisearch error body.
pub fn describe_error(status: StatusCode, body: &Value) -> String {
    let code = body.get("code").and_then(Value::as_str);
    let message = body.get("message").and_then(Value::as_str);
    match (code, message) {
        (Some(c), Some(m)) => format!("HTTP {} {c}: {m}", status.as_u16()),
        (None, Some(m)) => format!("HTTP {}: {m}", status.as_u16()),
        _ if body.is_null() => format!("HTTP {}", status.as_u16()),
        _ => format!("HTTP {}: {body}", status.as_u16()),
    }
}

/// The API used by the setup and relevance steps (not by the load generators, which drive
/// their own clients to keep the hot loop minimal).
pub struct Api {
    pub endpoint: Endpoint,
    client: Client,
    upload_client: Client,
}

impl Api {
    pub fn new(endpoint: Endpoint) -> Result<Self> {
        let client = endpoint.client(Duration::from_secs(60))?;
        // A 100 MB batch on a slow server can take a while to be accepted.
        let upload_client = endpoint.client(Duration::from_secs(600))?;
        Ok(Api {
            endpoint,
            client,
            upload_client,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.endpoint.url, path)
    }

    fn send(
        &self,
        client: &Client,
        method: Method,
        path: &str,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Answer> {
        let url = self.url(path);
        let mut last_error = None;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(200 << attempt));
            }
            let request = build(client.request(method.clone(), &url));
            match request.send() {
                Ok(response) => {
                    let status = response.status();
                    let bytes = response
                        .bytes()
                        .with_context(|| format!("reading the answer to {method} {url}"))?;
                    if matches!(status.as_u16(), 502..=504) && attempt + 1 < ATTEMPTS {
                        last_error = Some(anyhow!("HTTP {status}"));
                        continue;
                    }
                    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    return Ok(Answer { status, body });
                }
                Err(e) => {
                    let hint = if e.is_connect() {
                        format!(
                            "cannot connect to {}: is the server running? ({e})",
                            self.endpoint.url
                        )
                    } else if e.is_timeout() {
                        format!("{method} {url} timed out ({e})")
                    } else {
                        format!("{method} {url} failed: {e}")
                    };
                    last_error = Some(anyhow!(hint));
                }
            }
        }
        Err(last_error
            .unwrap_or_else(|| anyhow!("no attempt made"))
            .context(format!("{method} {url}: gave up after {ATTEMPTS} attempts")))
    }

    pub fn get(&self, path: &str) -> Result<Answer> {
        self.send(&self.client, Method::GET, path, |r| r)
    }

    pub fn delete(&self, path: &str) -> Result<Answer> {
        self.send(&self.client, Method::DELETE, path, |r| r)
    }

    pub fn json(&self, method: Method, path: &str, body: &Value) -> Result<Answer> {
        let bytes = Bytes::from(serde_json::to_vec(body)?);
        self.send(&self.client, method, path, |r| {
            r.header(CONTENT_TYPE, "application/json")
                .body(bytes.clone())
        })
    }

    /// Fails with a clear message unless `GET /health` answers 200.
    pub fn check_health(&self) -> Result<()> {
        let answer = self.get("/health")?;
        if !answer.status.is_success() {
            bail!(
                "{} is not healthy: {}",
                self.endpoint.url,
                describe_error(answer.status, &answer.body)
            );
        }
        Ok(())
    }

    /// `pkgVersion` from `GET /version`, if the server tells.
    pub fn version(&self) -> Option<String> {
        let answer = self.get("/version").ok()?;
        if !answer.status.is_success() {
            return None;
        }
        answer
            .body
            .get("pkgVersion")
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// `GET /indexes/{uid}`, `None` when the index does not exist.
    pub fn index(&self, uid: &str) -> Result<Option<Value>> {
        let answer = self.get(&format!("/indexes/{uid}"))?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        answer.ok(&format!("getting index `{uid}`")).map(Some)
    }

    /// Like [`Api::index`] but an absent index is an error that says how to create it.
    pub fn require_index(&self, uid: &str) -> Result<Value> {
        self.index(uid)?.ok_or_else(|| {
            anyhow!(
                "index `{uid}` does not exist on {}; load it first \
                 (`quarry-bench index --corpus NAME --index {uid}`)",
                self.endpoint.url
            )
        })
    }

    /// Deletes the index if present and waits until the deletion is done.
    pub fn delete_index(&self, uid: &str) -> Result<()> {
        let answer = self.delete(&format!("/indexes/{uid}"))?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        let body = answer.ok(&format!("deleting index `{uid}`"))?;
        let task = task_uid(&body)?;
        let done = self.wait_task(task, Duration::from_secs(600))?;
        match done.get("status").and_then(Value::as_str) {
            Some("succeeded") => Ok(()),
            _ if error_code(&done) == Some("index_not_found") => Ok(()),
            _ => bail!("deleting index `{uid}` failed: {}", task_error(&done)),
        }
    }

    /// Sends one NDJSON batch; returns the task uid.
    pub fn add_ndjson(&self, uid: &str, primary_key: &str, body: Bytes) -> Result<u64> {
        let path = format!("/indexes/{uid}/documents?primaryKey={primary_key}");
        let answer = self.send(&self.upload_client, Method::POST, &path, |r| {
            r.header(CONTENT_TYPE, "application/x-ndjson")
                .body(body.clone())
        })?;
        task_uid(&answer.ok(&format!("sending documents to `{uid}`"))?)
    }

    /// `GET /tasks/{uid}` until it is finished (succeeded, failed or canceled).
    pub fn wait_task(&self, task: u64, timeout: Duration) -> Result<Value> {
        let start = Instant::now();
        loop {
            let body = self
                .get(&format!("/tasks/{task}"))?
                .ok(&format!("getting task {task}"))?;
            match body.get("status").and_then(Value::as_str) {
                Some("enqueued") | Some("processing") => {}
                Some(_) => return Ok(body),
                None => bail!("task {task} has no status: {body}"),
            }
            if start.elapsed() > timeout {
                bail!("task {task} still not finished after {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Number of enqueued or processing tasks of an index.
    pub fn pending_tasks(&self, uid: &str) -> Result<u64> {
        let body = self
            .get(&format!(
                "/tasks?indexUids={uid}&statuses=enqueued,processing&limit=1"
            ))?
            .ok("listing pending tasks")?;
        if let Some(total) = body.get("total").and_then(Value::as_u64) {
            return Ok(total);
        }
        Ok(body
            .get("results")
            .and_then(Value::as_array)
            .map_or(0, |r| r.len() as u64))
    }
}

/// `taskUid` of a 202 answer.
pub fn task_uid(body: &Value) -> Result<u64> {
    body.get("taskUid")
        .or_else(|| body.get("uid"))
        .and_then(Value::as_u64)
        .ok_or_else(|| anyhow!("the server's answer has no taskUid: {body}"))
}

fn error_code(task: &Value) -> Option<&str> {
    task.get("error")?.get("code")?.as_str()
}

/// `code: message` of a failed task.
pub fn task_error(task: &Value) -> String {
    match task.get("error") {
        Some(e) if !e.is_null() => format!(
            "{}: {}",
            e.get("code").and_then(Value::as_str).unwrap_or("?"),
            e.get("message").and_then(Value::as_str).unwrap_or("?")
        ),
        _ => format!(
            "status {}",
            task.get("status").and_then(Value::as_str).unwrap_or("?")
        ),
    }
}
