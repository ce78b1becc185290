//! The client subcommands (`quarry import`, `quarry search`): they talk to a running Quarry over
//! its HTTP API, exactly as any application would, so they work against a remote instance too.

pub mod import;
pub mod search;

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value;

/// Where the instance is and which key to use.
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// URL of the running Quarry instance.
    #[arg(long, env = "QUARRY_URL", default_value = "http://127.0.0.1:7700")]
    pub url: String,

    /// API key sent as `Authorization: Bearer <key>` (needed when the instance has a master key).
    #[arg(long, env = "QUARRY_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
}

/// A small blocking HTTP client for the API, with Meilisearch error bodies turned into errors.
pub struct Client {
    http: reqwest::blocking::Client,
    base: String,
    key: Option<String>,
}

impl Client {
    pub fn new(connection: &Connection) -> anyhow::Result<Client> {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(600))
            .build()
            .context("building the HTTP client")?;
        Ok(Client {
            http,
            base: connection.url.trim_end_matches('/').to_string(),
            key: connection.api_key.clone(),
        })
    }

    pub fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(key) = &self.key {
            request = request.bearer_auth(key);
        }
        if let Some(content_type) = content_type {
            request = request.header(reqwest::header::CONTENT_TYPE, content_type);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request
            .send()
            .with_context(|| format!("cannot reach Quarry at {} ({method} {path})", self.base))?;
        let status = response.status();
        let text = response.text().context("reading the answer")?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if !status.is_success() {
            match value.get("message").and_then(Value::as_str) {
                Some(message) => bail!(
                    "{method} {path} answered {status}: {message} ({})",
                    value["code"].as_str().unwrap_or("?")
                ),
                None => bail!("{method} {path} answered {status}: {value}"),
            }
        }
        Ok(value)
    }

    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.send(reqwest::Method::GET, path, None, None)
    }

    pub fn json(&self, method: reqwest::Method, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.send(
            method,
            path,
            Some("application/json"),
            Some(serde_json::to_vec(body)?),
        )
    }

    /// Waits until task `uid` finishes; fails with the task's error when it did not succeed.
    pub fn wait_task(&self, uid: u64) -> anyhow::Result<Value> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(10);
        loop {
            let task = self.get(&format!("/tasks/{uid}"))?;
            match task["status"].as_str() {
                Some("succeeded") => return Ok(task),
                Some("failed") | Some("canceled") => bail!(
                    "task {uid} {}: {}",
                    task["status"].as_str().unwrap_or_default(),
                    task["error"]["message"]
                        .as_str()
                        .unwrap_or("no error message")
                ),
                _ => {}
            }
            if started.elapsed() > Duration::from_secs(24 * 3600) {
                bail!("task {uid} did not finish");
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }
}

/// Percent-encodes an index uid or other path segment (uids are ASCII words, but be safe).
pub fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
