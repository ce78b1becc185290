//! Talking to the LLM provider: one streamed OpenAI-compatible `chat/completions` request per
//! round (OpenAI, Mistral, Gemini and vLLM at `{baseUrl}/chat/completions`, Azure at its
//! deployment URL), its Server-Sent Events read chunk by chunk without blocking the runtime,
//! and provider failures turned into the error event Meilisearch streams. The workspace's API
//! key goes into a request header only; it is removed from any provider message we relay.

use std::sync::OnceLock;
use std::time::Duration;

use quarry_api_types::chat::{hide_secret, ChatSource, ChatWorkspaceSettings};
use serde_json::{json, Value};

/// One client for every conversation (connection pooling); no overall timeout, since an
/// answer streams for as long as the model writes.
fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default()
    })
}

/// The URL of the provider's chat completions endpoint for these settings.
pub fn completions_url(settings: &ChatWorkspaceSettings) -> String {
    let base = settings
        .base_url
        .as_deref()
        .or(settings.source.default_base_url())
        .unwrap_or_default()
        .trim_end_matches('/');
    match settings.source {
        ChatSource::AzureOpenAi => format!(
            "{base}/openai/deployments/{}/chat/completions?api-version={}",
            settings.deployment_id.as_deref().unwrap_or_default(),
            settings.api_version.as_deref().unwrap_or_default()
        ),
        _ => format!("{base}/chat/completions"),
    }
}

/// An error event as Meilisearch streams it: `{event_id, type: "error", error: {...}}`.
pub fn error_event(kind: &str, code: Option<&str>, message: &str, param: Option<&str>) -> Value {
    json!({
        "event_id": uuid::Uuid::new_v4().to_string(),
        "type": "error",
        "error": {
            "type": kind,
            "code": code,
            "message": message,
            "param": param,
            "event_id": null,
        }
    })
}

/// What one round of the conversation produced, event by event.
pub enum ProviderEvent {
    /// One `chat.completion.chunk` object.
    Chunk(Value),
    /// The provider failed; the error event to stream (the round ends).
    Failed(Value),
}

/// A streamed answer from the provider.
pub struct ProviderStream {
    response: Option<reqwest::Response>,
    buffer: Vec<u8>,
    pending: std::collections::VecDeque<ProviderEvent>,
    secret: Option<String>,
    done: bool,
}

/// Sends `body` (already holding the messages and tools) to the provider.
pub async fn start(settings: &ChatWorkspaceSettings, body: &Value) -> ProviderStream {
    let mut request = client()
        .post(completions_url(settings))
        .header(reqwest::header::ACCEPT, "text/event-stream")
        .json(body);
    if let Some(key) = &settings.api_key {
        request = match settings.source {
            ChatSource::AzureOpenAi => request.header("api-key", key),
            _ => request.bearer_auth(key),
        };
    }
    if settings.source != ChatSource::AzureOpenAi {
        if let Some(org) = &settings.org_id {
            request = request.header("OpenAI-Organization", org);
        }
        if let Some(project) = &settings.project_id {
            request = request.header("OpenAI-Project", project);
        }
    }
    let mut stream = ProviderStream {
        response: None,
        buffer: Vec::new(),
        pending: Default::default(),
        secret: settings.api_key.clone(),
        done: false,
    };
    match request.send().await {
        Ok(response) if response.status().is_success() => stream.response = Some(response),
        Ok(response) => {
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            let event = stream.provider_error(status, &text);
            stream.fail(event);
        }
        Err(e) => {
            let message = stream.redact(&e.without_url().to_string());
            stream.fail(error_event(
                "internal_reqwest_error",
                Some("internal"),
                &message,
                None,
            ));
        }
    }
    stream
}

impl ProviderStream {
    fn fail(&mut self, event: Value) {
        self.pending.push_back(ProviderEvent::Failed(event));
        self.done = true;
        self.response = None;
    }

    /// `text` with every occurrence of the workspace's key replaced by its hidden form.
    fn redact(&self, text: &str) -> String {
        match &self.secret {
            Some(secret) if !secret.is_empty() => text.replace(secret, &hide_secret(secret)),
            _ => text.to_string(),
        }
    }

    /// The error event for a refused request: OpenAI's `{"error": {...}}` or Mistral's flat
    /// `{message, type, param, code}`, else the status and body as they came.
    fn provider_error(&self, status: reqwest::StatusCode, body: &str) -> Value {
        let parsed: Option<Value> = serde_json::from_str(body).ok();
        let details = parsed
            .as_ref()
            .map(|v| v.get("error").filter(|e| e.is_object()).unwrap_or(v))
            .filter(|v| v.get("message").is_some());
        let text = |v: Option<&Value>| -> Option<String> {
            match v? {
                Value::Null => None,
                Value::String(s) => Some(self.redact(s)),
                other => Some(self.redact(&other.to_string())),
            }
        };
        match details {
            Some(d) => error_event(
                &text(d.get("type")).unwrap_or_else(|| "unknown".into()),
                text(d.get("code")).as_deref(),
                &text(d.get("message")).unwrap_or_default(),
                text(d.get("param")).as_deref(),
            ),
            None => error_event(
                "invalid_status_code",
                Some(status.as_str()),
                &self.redact(&format!("the provider answered {status}: {}", body.trim())),
                None,
            ),
        }
    }

    /// The next event of the answer, `None` once it is complete.
    pub async fn next(&mut self) -> Option<ProviderEvent> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            if self.done {
                return None;
            }
            let chunk = match self.response.as_mut()?.chunk().await {
                Ok(Some(bytes)) => bytes,
                Ok(None) => {
                    // The last event may lack its blank line.
                    self.buffer.extend_from_slice(b"\n\n");
                    self.parse_events();
                    self.done = true;
                    continue;
                }
                Err(e) => {
                    let message = self.redact(&e.without_url().to_string());
                    self.fail(error_event("transport_error", None, &message, None));
                    continue;
                }
            };
            self.buffer.extend_from_slice(&chunk);
            self.parse_events();
        }
    }

    /// Moves every complete event of the buffer (ended by a blank line) to `pending`.
    fn parse_events(&mut self) {
        while let Some(end) = find_event_end(&self.buffer) {
            let raw: Vec<u8> = self.buffer.drain(..end.0 + end.1).collect();
            let text = String::from_utf8_lossy(&raw[..end.0]).into_owned();
            let data: Vec<&str> = text
                .lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            if data.is_empty() {
                continue;
            }
            let data = data.join("\n");
            if data.trim() == "[DONE]" {
                self.done = true;
                self.response = None;
                self.buffer.clear();
                return;
            }
            match serde_json::from_str::<Value>(&data) {
                // Some providers stream an error object instead of a chunk.
                Ok(value) if value.get("error").is_some_and(Value::is_object) => {
                    let event = self.provider_error(reqwest::StatusCode::OK, &data);
                    self.fail(event);
                    return;
                }
                Ok(value) => self.pending.push_back(ProviderEvent::Chunk(value)),
                Err(e) => {
                    let message = format!("parsing a chunk of the provider: {e}");
                    self.fail(error_event(
                        "json_deserialize_error",
                        Some("internal"),
                        &message,
                        None,
                    ));
                    return;
                }
            }
        }
    }
}

/// Where the first event of `buffer` ends: (length of the event, length of its separator).
fn find_event_end(buffer: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i < buffer.len() {
        if buffer[i] == b'\n' {
            let rest = &buffer[i + 1..];
            if rest.first() == Some(&b'\n') {
                return Some((i, 2));
            }
            if rest.starts_with(b"\r\n") {
                return Some((i, 3));
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_per_source() {
        let mut settings = ChatWorkspaceSettings::default();
        assert_eq!(
            completions_url(&settings),
            "https://api.openai.com/v1/chat/completions"
        );
        settings.base_url = Some("http://127.0.0.1:9/v1/".into());
        assert_eq!(
            completions_url(&settings),
            "http://127.0.0.1:9/v1/chat/completions"
        );
        settings.source = ChatSource::AzureOpenAi;
        settings.deployment_id = Some("gpt".into());
        settings.api_version = Some("2024-02-01".into());
        assert_eq!(
            completions_url(&settings),
            "http://127.0.0.1:9/v1/openai/deployments/gpt/chat/completions?api-version=2024-02-01"
        );
    }

    #[test]
    fn events_split_on_blank_lines() {
        assert_eq!(find_event_end(b"data: x\n\ndata: y"), Some((7, 2)));
        assert_eq!(find_event_end(b"data: x\r\n\r\n"), Some((8, 3)));
        assert_eq!(find_event_end(b"data: x\n"), None);
    }
}
