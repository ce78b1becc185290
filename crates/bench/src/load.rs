//! The closed-loop load generator behind `keystrokes` and `requests`: N threads, each with its
//! own blocking client (one keep-alive connection), send prepared bodies round-robin for a
//! warmup and then a measured window, recording the latency of every answer in microseconds.
//! Kept free of parsing and printing so that the measured loop does as little as possible.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use bytes::Bytes;
use reqwest::header::CONTENT_TYPE;
use serde::Serialize;

use crate::client::Endpoint;
use crate::metrics::LatencySummary;
use crate::wire::WireClient;

/// Which HTTP client the load threads drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum HttpClient {
    /// The measuring thread writes each request and reads its answer on its own socket
    /// (`wire.rs`); `https://` URLs fall back to reqwest.
    #[default]
    Wire,
    /// reqwest's blocking client, which hands each request to a runtime thread (the client of
    /// the figures measured before 2026-12-04).
    Reqwest,
}

/// How a load run is shaped.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub connections: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub request_timeout: Duration,
    pub http_client: HttpClient,
}

/// One load thread's connection, through either client.
enum Connection {
    Wire(WireClient),
    Reqwest(reqwest::blocking::Client, String),
}

impl Connection {
    /// Sends one body; answers the status and body, or the transport error as text.
    fn post(&mut self, path: &str, body: &Bytes) -> std::result::Result<(u16, Bytes), String> {
        match self {
            Connection::Wire(client) => client
                .post_json(path, body)
                .map(|reply| (reply.status, Bytes::from(reply.body)))
                .map_err(|e| format!("{e:#}")),
            Connection::Reqwest(client, url) => client
                .post(url.as_str())
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .and_then(|r| {
                    let status = r.status().as_u16();
                    // Read the whole answer so the connection is reused.
                    r.bytes().map(|b| (status, b))
                })
                .map_err(|e| e.to_string()),
        }
    }
}

/// What a load run measured. Only requests started inside the measured window count.
#[derive(Debug, Clone, Serialize)]
pub struct LoadResult {
    /// Requests started in the measured window (successes + errors).
    pub requests: u64,
    /// Answers other than 200, and transport failures.
    pub errors: u64,
    /// Successful answers per second of the measured window.
    pub qps: f64,
    /// Latencies of successful answers.
    pub latency: Option<LatencySummary>,
    pub measured_seconds: f64,
    /// The client the load threads used (`https://` URLs always go through reqwest).
    pub http_client: HttpClient,
    /// Up to a few distinct error descriptions, for the report.
    pub error_samples: Vec<String>,
}

struct ThreadResult {
    latencies_us: Vec<u32>,
    errors: u64,
    error_samples: Vec<String>,
}

/// Sends `bodies` (JSON) as `POST {path}`, round-robin in their order across all threads.
pub fn run(
    endpoint: &Endpoint,
    path: &str,
    bodies: Vec<Bytes>,
    config: &LoadConfig,
) -> Result<LoadResult> {
    if bodies.is_empty() {
        bail!("nothing to send: the request list is empty");
    }
    if config.connections == 0 {
        bail!("--connections must be at least 1");
    }
    let url = format!("{}{}", endpoint.url, path);
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    // Build every client before starting the clock.
    let clients = (0..config.connections)
        .map(|_| {
            let wire = (config.http_client == HttpClient::Wire)
                .then(|| WireClient::new(endpoint, config.request_timeout))
                .flatten();
            Ok(match wire {
                Some(client) => Connection::Wire(client),
                None => Connection::Reqwest(endpoint.client(config.request_timeout)?, url.clone()),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let http_client = match clients.first() {
        Some(Connection::Wire(_)) => HttpClient::Wire,
        _ => HttpClient::Reqwest,
    };
    let start = Instant::now();
    let measure_from = start + config.warmup;
    let end = measure_from + config.duration;

    let handles: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            let (bodies, next, path) = (bodies.clone(), next.clone(), path.to_string());
            std::thread::spawn(move || {
                let mut out = ThreadResult {
                    latencies_us: Vec::with_capacity(1 << 16),
                    errors: 0,
                    error_samples: Vec::new(),
                };
                loop {
                    let t0 = Instant::now();
                    if t0 >= end {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed) % bodies.len();
                    let result = client.post(&path, &bodies[i]);
                    let elapsed = t0.elapsed();
                    let measured = t0 >= measure_from;
                    let error = match result {
                        Ok((200, _)) => None,
                        Ok((status, body)) => Some(format!(
                            "HTTP {status}: {}",
                            String::from_utf8_lossy(&body[..body.len().min(300)])
                        )),
                        Err(e) => Some(e),
                    };
                    match error {
                        None if measured => out
                            .latencies_us
                            .push(elapsed.as_micros().min(u128::from(u32::MAX)) as u32),
                        None => {}
                        Some(e) => {
                            if measured {
                                out.errors += 1;
                            }
                            if out.error_samples.len() < 3 && !out.error_samples.contains(&e) {
                                out.error_samples.push(e);
                            }
                            // Do not spin on a server that refuses connections.
                            std::thread::sleep(Duration::from_millis(10));
                        }
                    }
                }
                out
            })
        })
        .collect();

    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut error_samples: Vec<String> = Vec::new();
    for h in handles {
        let r = h
            .join()
            .map_err(|_| anyhow::anyhow!("a load thread panicked"))?;
        latencies.extend(r.latencies_us);
        errors += r.errors;
        for e in r.error_samples {
            if error_samples.len() < 5 && !error_samples.contains(&e) {
                error_samples.push(e);
            }
        }
    }
    latencies.sort_unstable();
    let seconds = config.duration.as_secs_f64();
    Ok(LoadResult {
        requests: latencies.len() as u64 + errors,
        errors,
        qps: latencies.len() as f64 / seconds,
        latency: LatencySummary::from_sorted_us(&latencies),
        measured_seconds: seconds,
        http_client,
        error_samples,
    })
}
