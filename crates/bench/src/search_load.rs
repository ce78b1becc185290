//! The `keystrokes` and `requests` commands: prepare the search bodies (every prefix a user
//! types, or one fixed body), check that the server and the index are there, run the load
//! generator and report QPS and latency percentiles with the exact parameters used.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use serde::Serialize;
use serde_json::{json, Value};

use crate::client::Api;
use crate::load::{self, LoadConfig, LoadResult};

#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub command: String,
    pub url: String,
    pub engine_version: Option<String>,
    pub index: String,
    /// The keystrokes file, or the request body.
    pub source: String,
    pub distinct_requests: usize,
    pub connections: usize,
    pub duration_seconds: f64,
    pub warmup_seconds: f64,
    #[serde(flatten)]
    pub result: LoadResult,
}

/// `{"q": line}` for every non-empty line of a keystrokes file, in file order.
pub fn keystroke_bodies(path: &Path) -> Result<Vec<Bytes>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let bodies: Vec<Bytes> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Bytes::from(json!({ "q": l }).to_string()))
        .collect();
    if bodies.is_empty() {
        bail!("{} has no query", path.display());
    }
    Ok(bodies)
}

/// A request body given inline or as `@file`; must be a JSON object.
pub fn request_body(arg: &str) -> Result<Value> {
    let text = match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?,
        None => arg.to_string(),
    };
    let value: Value = serde_json::from_str(&text).context("the request body is not valid JSON")?;
    if !value.is_object() {
        bail!("the request body must be a JSON object, e.g. '{{\"q\": \"data\"}}'");
    }
    Ok(value)
}

pub struct Run<'a> {
    pub command: &'a str,
    pub index: &'a str,
    pub source: String,
    pub bodies: Vec<Bytes>,
    pub config: LoadConfig,
}

pub fn run(api: &Api, run: Run<'_>) -> Result<LoadReport> {
    api.check_health()?;
    api.require_index(run.index)?;
    // One request outside the measurement, so a malformed body fails loudly and early.
    let first: Value = serde_json::from_slice(&run.bodies[0])?;
    api.json(
        reqwest::Method::POST,
        &format!("/indexes/{}/search", run.index),
        &first,
    )?
    .ok("a trial search")?;
    let engine_version = api.version();
    let path = format!("/indexes/{}/search", run.index);
    let distinct = run.bodies.len();
    let result = load::run(&api.endpoint, &path, run.bodies, &run.config)?;
    Ok(LoadReport {
        command: run.command.to_string(),
        url: api.endpoint.url.clone(),
        engine_version,
        index: run.index.to_string(),
        source: run.source,
        distinct_requests: distinct,
        connections: run.config.connections,
        duration_seconds: run.config.duration.as_secs_f64(),
        warmup_seconds: run.config.warmup.as_secs_f64(),
        result,
    })
}

pub fn print(r: &LoadReport) {
    println!("== {}: index `{}`", r.command, r.index);
    println!(
        "parameters: url={} engine={} source={} distinct_requests={} connections={} duration={}s warmup={}s client={:?}",
        r.url,
        r.engine_version.as_deref().unwrap_or("?"),
        r.source,
        r.distinct_requests,
        r.connections,
        r.duration_seconds,
        r.warmup_seconds,
        r.result.http_client
    );
    let res = &r.result;
    println!(
        "requests:   {} in {:.1} s ({} errors)",
        res.requests, res.measured_seconds, res.errors
    );
    println!("QPS:        {:.0}", res.qps);
    match &res.latency {
        Some(l) => println!(
            "latency ms: p50 {:.3}  p90 {:.3}  p99 {:.3}  max {:.3}  (mean {:.3})",
            l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms, l.mean_ms
        ),
        None => println!("latency ms: no successful request"),
    }
    for e in &res.error_samples {
        println!("error:      {e}");
    }
}

/// The default request timeout of the load generators.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keystroke_file_becomes_search_bodies() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.txt");
        std::fs::write(&path, "d\ndr\n\n\"quoted\" word\n").unwrap();
        let b = keystroke_bodies(&path).unwrap();
        assert_eq!(b.len(), 3);
        assert_eq!(&b[0][..], br#"{"q":"d"}"#);
        assert_eq!(&b[2][..], br#"{"q":"\"quoted\" word"}"#);
    }

    #[test]
    fn request_body_inline_or_file() {
        assert_eq!(request_body(r#"{"q":"x"}"#).unwrap(), json!({"q": "x"}));
        assert!(request_body("[1]").is_err());
        assert!(request_body("{nope").is_err());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        std::fs::write(&path, r#"{"q":"data","limit":5}"#).unwrap();
        let v = request_body(&format!("@{}", path.display())).unwrap();
        assert_eq!(v["limit"], 5);
    }
}
