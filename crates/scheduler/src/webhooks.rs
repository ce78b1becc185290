//! Webhooks: endpoints told about every finished batch. The registered ones live in the task
//! store's instance table (so they survive restarts and travel in dumps); the one given with
//! `--task-webhook-url` has the nil uuid and is not editable. After each batch the writer
//! hands the finished tasks to a notifier thread and goes on: the notifier POSTs them to every
//! webhook as gzipped NDJSON (one task object a line, as `GET /tasks/{uid}` shows it), retrying
//! a failed delivery with exponential backoff, each webhook on its own thread.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use quarry_api_types::chat::hide_secret;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The key of the registered webhooks in the instance table.
pub const WEBHOOKS_KEY: &str = "webhooks";
/// Most webhooks an instance may register.
pub const MAX_WEBHOOKS: usize = 20;
/// Most headers one webhook may carry.
pub const MAX_HEADERS: usize = 200;
/// Deliveries of one batch to one webhook: the first and the retries.
pub const DELIVERY_ATTEMPTS: u32 = 5;
/// Wait before the first retry; it doubles for each further one.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// How long one delivery may take.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// One endpoint and the headers sent with each delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

impl Webhook {
    /// The webhook as the API shows it: the `Authorization` header's value is cut short.
    pub fn view(&self, uuid: &uuid::Uuid) -> Value {
        let headers: serde_json::Map<String, Value> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let shown = if name.eq_ignore_ascii_case("authorization") {
                    redact(value)
                } else {
                    value.clone()
                };
                (name.clone(), Value::String(shown))
            })
            .collect();
        serde_json::json!({
            "uuid": uuid,
            "isEditable": !uuid.is_nil(),
            "url": self.url,
            "headers": headers,
        })
    }
}

/// An `Authorization` value as Meilisearch shows it: a `Bearer ` scheme kept, the secret after
/// it masked like provider keys (nothing of a short one, then 2, 3 or 5 leading characters).
fn redact(value: &str) -> String {
    match value.strip_prefix("Bearer ") {
        Some(secret) => format!("Bearer {}", hide_secret(secret)),
        None => hide_secret(value),
    }
}

/// The registered webhooks by uuid, as the instance table stores them.
pub type Registered = BTreeMap<uuid::Uuid, Webhook>;

/// Reads the registered webhooks from their instance record.
pub fn registered_from(record: Option<Value>) -> Registered {
    record
        .and_then(|value| serde_json::from_value(value).ok())
        .unwrap_or_default()
}

/// The writer's side of the notifier: a send never blocks.
#[derive(Clone)]
pub(crate) struct Notifier {
    sender: Sender<Vec<Value>>,
}

impl Notifier {
    /// Starts the notifier thread. `targets` is asked for the webhooks at each batch, so
    /// changes apply from the next batch on.
    pub(crate) fn start(
        targets: impl Fn() -> Vec<Webhook> + Send + 'static,
    ) -> std::io::Result<Notifier> {
        let (sender, receiver) = crossbeam_channel::unbounded();
        std::thread::Builder::new()
            .name("quarry-webhooks".into())
            .spawn(move || run(receiver, targets))?;
        Ok(Notifier { sender })
    }

    /// Hands the finished tasks of a batch to the notifier.
    pub(crate) fn notify(&self, tasks: Vec<Value>) {
        if !tasks.is_empty() {
            let _ = self.sender.send(tasks);
        }
    }
}

fn run(receiver: Receiver<Vec<Value>>, targets: impl Fn() -> Vec<Webhook>) {
    let client = match reqwest::blocking::Client::builder()
        .timeout(DELIVERY_TIMEOUT)
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "the webhook client cannot start: webhooks are not sent");
            return;
        }
    };
    // Ends when the scheduler (the only sender) is gone.
    while let Ok(tasks) = receiver.recv() {
        let webhooks = targets();
        if webhooks.is_empty() {
            continue;
        }
        let body = match gzipped_ndjson(&tasks) {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(error = %e, "encoding a webhook payload");
                continue;
            }
        };
        std::thread::scope(|scope| {
            for webhook in &webhooks {
                let (client, body) = (&client, &body);
                scope.spawn(move || deliver(client, webhook, body));
            }
        });
    }
}

fn gzipped_ndjson(tasks: &[Value]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for task in tasks {
        serde_json::to_writer(&mut encoder, task)?;
        encoder.write_all(b"\n")?;
    }
    encoder.finish()
}

fn deliver(client: &reqwest::blocking::Client, webhook: &Webhook, body: &[u8]) {
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=DELIVERY_ATTEMPTS {
        let mut request = client
            .post(&webhook.url)
            .header("Content-Type", "application/x-ndjson")
            .header("Content-Encoding", "gzip")
            .body(body.to_vec());
        for (name, value) in &webhook.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let failure = match request.send() {
            Ok(response) if response.status().is_success() => return,
            Ok(response) => format!("answered {}", response.status()),
            Err(e) => e.to_string(),
        };
        // The URL may carry credentials: only its host is logged.
        let host = reqwest::Url::parse(&webhook.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        if attempt == DELIVERY_ATTEMPTS {
            tracing::warn!(host, attempt, error = %failure, "a webhook delivery failed; giving up");
            return;
        }
        tracing::info!(host, attempt, error = %failure, "a webhook delivery failed; retrying");
        std::thread::sleep(backoff);
        backoff *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_values_are_redacted_in_views() {
        let webhook = Webhook {
            url: "http://127.0.0.1:1/hook".into(),
            headers: BTreeMap::from([
                ("Authorization".into(), "Bearer a-long-secret-token".into()),
                ("X-Other".into(), "visible".into()),
            ]),
        };
        let view = webhook.view(&uuid::Uuid::nil());
        assert_eq!(view["headers"]["Authorization"], "Bearer a-XXXX...");
        assert_eq!(view["headers"]["X-Other"], "visible");
        assert_eq!(view["isEditable"], false);
        assert_eq!(redact("short"), "XXX...");
        assert_eq!(redact("UPDATED TOKEN"), "UPXXXX...");
    }
}
