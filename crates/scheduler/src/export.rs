//! `export` tasks (`POST /export`): push the indexes some patterns select to another instance
//! speaking the Meilisearch API, over HTTP, from the writer thread (so no batch changes an
//! index while it is read). For each index: create it on the remote when it is missing, send
//! its primary key and settings (when it was missing or `overrideSettings` is set), then its
//! documents (those the pattern's filter selects) as gzipped NDJSON payloads of at most
//! `payloadSize` bytes each. The remote's own tasks are not awaited, as in Meilisearch.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::Duration;

use quarry_api_types::byte_size::format_byte_size;
use quarry_api_types::export::pattern_matches;
use quarry_api_types::settings::embedders::hide_secret;
use quarry_api_types::{Code, ResponseError};
use quarry_engine::Index;
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::task::{Task, TaskKind};
use crate::{engine_error, settings_apply, Inner};

/// Payloads are at most this large when the request sets no `payloadSize` (Meilisearch's
/// documented default).
pub const DEFAULT_PAYLOAD_SIZE: u64 = 50 * 1024 * 1024;
/// How long one request to the remote may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Tries of one request when the remote is unreachable or answers 408, 429 or 5xx.
pub const ATTEMPTS: u32 = 4;
/// Wait before the first retry; it doubles for each further one.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// What to export of the indexes one pattern selects, as the task stores it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportIndexSettings {
    pub filter: Option<Value>,
    pub override_settings: bool,
}

/// Why an export stopped before its end.
#[derive(Debug)]
pub(crate) enum Stop {
    /// A cancelation targets the task: the batch is rolled back (the remote keeps what it got).
    Canceled,
    Failed(ResponseError),
}

impl From<ResponseError> for Stop {
    fn from(e: ResponseError) -> Stop {
        Stop::Failed(e)
    }
}

/// The details of an `export` task: the API key shown partially, the payload size as a size,
/// and per pattern what is exported. Once the task ran, `exported` replaces the patterns by
/// the indexes they selected, each with its `matchedDocuments`.
pub fn details(
    url: &str,
    api_key: Option<&str>,
    payload_size: Option<u64>,
    indexes: &BTreeMap<String, ExportIndexSettings>,
    exported: Option<&BTreeMap<String, (ExportIndexSettings, u64)>>,
) -> Value {
    let view = |settings: &ExportIndexSettings, matched: Option<u64>| {
        let mut out =
            json!({"filter": settings.filter, "overrideSettings": settings.override_settings});
        if let Some(matched) = matched {
            out["matchedDocuments"] = json!(matched);
        }
        out
    };
    let indexes: serde_json::Map<String, Value> = match exported {
        None => indexes
            .iter()
            .map(|(pattern, settings)| (pattern.clone(), view(settings, None)))
            .collect(),
        Some(exported) => exported
            .iter()
            .map(|(uid, (settings, matched))| (uid.clone(), view(settings, Some(*matched))))
            .collect(),
    };
    json!({
        "url": url,
        "apiKey": api_key.map(hide_secret),
        "payloadSize": payload_size.map(format_byte_size),
        "indexes": indexes,
    })
}

/// The pattern that decides for `uid`: an exact uid first, then the longest prefix.
fn best_pattern<'a>(
    indexes: &'a BTreeMap<String, ExportIndexSettings>,
    uid: &str,
) -> Option<&'a ExportIndexSettings> {
    indexes
        .iter()
        .filter(|(pattern, _)| pattern_matches(pattern, uid))
        .max_by_key(|(pattern, _)| (!pattern.ends_with('*'), pattern.len()))
        .map(|(_, settings)| settings)
}

/// Runs an `export` task; returns its details.
pub(crate) fn run(inner: &Inner, task: &Task) -> Result<Value, Stop> {
    let TaskKind::Export {
        url,
        api_key,
        payload_size,
        indexes,
    } = &task.kind
    else {
        unreachable!("run is only called for export tasks")
    };
    let client = Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| failure(url, &format!("the HTTP client cannot start: {e}")))?;
    let remote = Remote {
        inner,
        client: &client,
        base: url.trim_end_matches('/'),
        bearer: api_key.as_ref().map(|key| format!("Bearer {key}")),
    };
    let limit = payload_size.unwrap_or(DEFAULT_PAYLOAD_SIZE) as usize;
    let mut exported = BTreeMap::new();
    for (info, index) in inner.registry.all() {
        let Some(settings) = best_pattern(indexes, &info.uid) else {
            continue;
        };
        let matched = export_index(&remote, &info.uid, &index, settings, limit)?;
        tracing::info!(index_uid = %info.uid, documents = matched, "index exported");
        exported.insert(info.uid, (settings.clone(), matched));
    }
    Ok(details(
        url,
        api_key.as_deref(),
        *payload_size,
        indexes,
        Some(&exported),
    ))
}

/// Sends one index; returns how many documents its filter selected.
fn export_index(
    remote: &Remote<'_>,
    uid: &str,
    index: &Index,
    settings: &ExportIndexSettings,
    limit: usize,
) -> Result<u64, Stop> {
    let filter = match &settings.filter {
        Some(filter) => quarry_engine::filter::parse_filter_checked(filter, &index.settings())
            .map_err(|e| {
                ResponseError::new(
                    Code::InvalidExportIndexFilter,
                    format!("Index `{uid}`: {}", e.message),
                )
            })?,
        None => None,
    };
    let exists = match remote.send(Method::GET, &format!("/indexes/{uid}"), Body::None) {
        Ok(()) => true,
        Err(Failure::Refused { code, .. }) if code == "index_not_found" => false,
        Err(other) => return Err(remote.stop(other)),
    };
    let primary_key = index.primary_key();
    let send = |method: Method, path: &str, body: Body<'_>| {
        remote.send(method, path, body).map_err(|f| remote.stop(f))
    };
    if !exists {
        let body = json!({"uid": uid, "primaryKey": primary_key});
        send(Method::POST, "/indexes", Body::Json(body))?;
    } else if settings.override_settings {
        let body = json!({"primaryKey": primary_key});
        send(Method::PATCH, &format!("/indexes/{uid}"), Body::Json(body))?;
    }
    if !exists || settings.override_settings {
        let mut wire = settings_apply::to_wire(&index.settings()).to_json();
        // The `chat` and `foreignKeys` keys need experimental flags on the target: send them
        // only when changed from their defaults, as `GET /settings` hides them while off.
        let defaults = settings_apply::to_wire(&Default::default()).to_json();
        if let Some(object) = wire.as_object_mut() {
            for key in ["chat", "foreignKeys"] {
                if object.get(key) == defaults.get(key) {
                    object.remove(key);
                }
            }
        }
        send(
            Method::PATCH,
            &format!("/indexes/{uid}/settings"),
            Body::Json(wire),
        )?;
    }
    let documents = format!("/indexes/{uid}/documents");
    let mut payload: Vec<u8> = Vec::new();
    let mut failed = None;
    let matched = index
        .for_each_source(filter.as_ref(), |source| {
            // A payload holds at least one document, however large.
            if !payload.is_empty() && payload.len() + source.len() + 1 > limit {
                if let Err(stop) = send(Method::POST, &documents, Body::Ndjson(&payload)) {
                    failed = Some(stop);
                    return Ok(false);
                }
                payload.clear();
            }
            payload.extend_from_slice(source);
            payload.push(b'\n');
            Ok(true)
        })
        .map_err(engine_error)?;
    if let Some(stop) = failed {
        return Err(stop);
    }
    if !payload.is_empty() {
        send(Method::POST, &documents, Body::Ndjson(&payload))?;
    }
    Ok(matched)
}

enum Body<'a> {
    None,
    Json(Value),
    Ndjson(&'a [u8]),
}

/// How a request to the remote went wrong.
enum Failure {
    /// The writer was asked to abandon the task.
    Canceled,
    /// The remote answered with an error (its body, when it is a Meilisearch error).
    Refused {
        status: u16,
        code: String,
        body: String,
    },
    /// No answer: connection refused, timeout, bad TLS...
    Unreachable(String),
}

/// The instance an export writes to.
struct Remote<'a> {
    inner: &'a Inner,
    client: &'a Client,
    base: &'a str,
    bearer: Option<String>,
}

impl Remote<'_> {
    fn canceled(&self) -> bool {
        self.inner.abort_processing.load(Ordering::SeqCst)
    }

    /// Sends one request, retrying while the remote is unreachable or says it is busy.
    fn send(&self, method: Method, path: &str, body: Body<'_>) -> Result<(), Failure> {
        let url = format!("{}{path}", self.base);
        let gzipped = match &body {
            Body::Ndjson(bytes) => {
                Some(gzip(bytes).map_err(|e| Failure::Unreachable(e.to_string()))?)
            }
            _ => None,
        };
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=ATTEMPTS {
            if self.canceled() {
                return Err(Failure::Canceled);
            }
            let mut request: RequestBuilder = self.client.request(method.clone(), &url);
            if let Some(bearer) = &self.bearer {
                request = request.header("Authorization", bearer);
            }
            request = match (&body, &gzipped) {
                (Body::Json(value), _) => request.json(value),
                (Body::Ndjson(_), Some(bytes)) => request
                    .header("Content-Type", "application/x-ndjson")
                    .header("Content-Encoding", "gzip")
                    .body(bytes.clone()),
                _ => request,
            };
            let failure = match request.send() {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => {
                    let status = response.status().as_u16();
                    let body = response.text().unwrap_or_default();
                    let code = serde_json::from_str::<Value>(&body)
                        .ok()
                        .and_then(|v| v["code"].as_str().map(str::to_string))
                        .unwrap_or_default();
                    let refused = Failure::Refused { status, code, body };
                    if !matches!(status, 408 | 429 | 500 | 502 | 503 | 504) {
                        return Err(refused);
                    }
                    refused
                }
                Err(e) => Failure::Unreachable(e.without_url().to_string()),
            };
            if attempt == ATTEMPTS {
                return Err(failure);
            }
            tracing::info!(attempt, path, "an export request failed; retrying");
            std::thread::sleep(backoff);
            backoff *= 2;
        }
        unreachable!("the last attempt returns")
    }

    /// The task's end for a failed request.
    fn stop(&self, failure: Failure) -> Stop {
        match failure {
            Failure::Canceled => Stop::Canceled,
            Failure::Refused { status, body, .. } => {
                let message = match serde_json::from_str::<Value>(&body) {
                    Ok(error) if error["code"].is_string() => format!(
                        "Failed to export documents to remote server {} ({}): {} <{}>",
                        error["code"].as_str().unwrap_or_default(),
                        error["type"].as_str().unwrap_or_default(),
                        error["message"].as_str().unwrap_or_default(),
                        error["link"].as_str().unwrap_or_default(),
                    ),
                    _ => format!(
                        "Failed to export documents to remote server `{}`: it answered {status} {}",
                        self.base,
                        body.chars().take(200).collect::<String>()
                    ),
                };
                Stop::Failed(ResponseError::new(Code::Internal, message))
            }
            Failure::Unreachable(error) => Stop::Failed(failure_message(self.base, &error)),
        }
    }
}

fn failure(base: &str, error: &str) -> Stop {
    Stop::Failed(failure_message(base, error))
}

fn failure_message(base: &str, error: &str) -> ResponseError {
    ResponseError::new(
        Code::Internal,
        format!(
            "Failed to export documents to remote server `{base}`: {error} (tried {ATTEMPTS} times)"
        ),
    )
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes)?;
    encoder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_specific_pattern_decides() {
        let indexes = BTreeMap::from([
            ("*".to_string(), ExportIndexSettings::default()),
            (
                "movies*".to_string(),
                ExportIndexSettings {
                    filter: Some(json!("year > 2000")),
                    override_settings: false,
                },
            ),
            (
                "movies_fr".to_string(),
                ExportIndexSettings {
                    filter: None,
                    override_settings: true,
                },
            ),
        ]);
        assert_eq!(best_pattern(&indexes, "books"), Some(&indexes["*"]));
        assert_eq!(
            best_pattern(&indexes, "movies_en"),
            Some(&indexes["movies*"])
        );
        assert_eq!(
            best_pattern(&indexes, "movies_fr"),
            Some(&indexes["movies_fr"])
        );
        let only = BTreeMap::from([("a".to_string(), ExportIndexSettings::default())]);
        assert_eq!(best_pattern(&only, "b"), None);
    }

    #[test]
    fn details_hide_the_key_and_show_sizes() {
        let indexes = BTreeMap::from([("*".to_string(), ExportIndexSettings::default())]);
        let shown = details(
            "http://127.0.0.1:7701",
            Some("a-long-enough-secret-key-value"),
            Some(24 << 20),
            &indexes,
            None,
        );
        assert_eq!(shown["apiKey"], "a-lonXXXXXX...");
        assert_eq!(shown["payloadSize"], "24 MiB");
        assert_eq!(
            shown["indexes"]["*"],
            json!({"filter": null, "overrideSettings": false})
        );
    }
}
