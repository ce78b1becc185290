//! Conversational search (`POST /chats/{workspace}/chat/completions`): Quarry sits between an
//! OpenAI-compatible client and the workspace's LLM provider. It gives the model one tool,
//! `_meiliSearchInIndex`, over the indexes the caller's key may search; when the model calls
//! it, Quarry runs the search through the same code as `/indexes/{uid}/search`, renders the
//! hits with the index's `chat.documentTemplate`, hands the text back to the model, and streams
//! the model's final answer to the client as Server-Sent Events. Clients that declare
//! `_meiliSearchProgress`, `_meiliSearchSources` or `_meiliAppendConversationMessage` receive
//! those calls in the stream (they are never shown to the model). As in Meilisearch, only
//! streamed completions exist.

mod provider;
mod search_tool;

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use quarry_api_types::chat::{ChatSource, ChatWorkspaceSettings};
use quarry_api_types::Code;
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use provider::{ProviderEvent, ProviderStream};

/// The tool the model searches with; a client may not declare it.
pub const SEARCH_IN_INDEX: &str = "_meiliSearchInIndex";
/// Client tool: told about each search as it starts.
pub const SEARCH_PROGRESS: &str = "_meiliSearchProgress";
/// Client tool: given the documents each search returned.
pub const SEARCH_SOURCES: &str = "_meiliSearchSources";
/// Client tool: given the messages to add to its copy of the conversation.
pub const APPEND_CONVERSATION_MESSAGE: &str = "_meiliAppendConversationMessage";

/// Most model rounds of one completion (each search answer starts a new round).
const MAX_ROUNDS: usize = 20;

/// Which client tools the request declared.
#[derive(Debug, Clone, Copy, Default)]
struct ClientTools {
    progress: bool,
    sources: bool,
    append: bool,
}

/// Everything a running conversation needs, moved into its task.
struct Conversation {
    state: AppState,
    /// The caller's `Authorization` header: each search is authorized as a `search` by it.
    authorization: Option<String>,
    settings: ChatWorkspaceSettings,
    body: Map<String, Value>,
    tools: ClientTools,
    events: mpsc::Sender<Value>,
}

/// Checks the request, then answers with the event stream while the conversation runs in its
/// own task. Errors found before the first event are ordinary JSON errors.
pub async fn stream_completion(
    state: AppState,
    authorization: Option<String>,
    workspace: String,
    body: Value,
) -> ApiResult<Response> {
    let Value::Object(mut body) = body else {
        return Err(ApiError::new(
            Code::BadRequest,
            "The chat completion request must be a JSON object.",
        ));
    };
    if body.get("stream").and_then(Value::as_bool) != Some(true) {
        return Err(ApiError::new(
            Code::UnimplementedNonStreamingChatCompletions,
            "Non-streamed chat completions is not implemented",
        ));
    }
    if let Some(n) = body
        .get("n")
        .filter(|n| !n.is_null() && n.as_u64() != Some(1))
    {
        return Err(ApiError::new(
            Code::UnimplementedMultiChoiceChatCompletions,
            format!("You tried to specify n = {n} but only single choices are supported (n = 1)."),
        ));
    }
    if !body.get("messages").is_some_and(Value::is_array) {
        return Err(ApiError::new(
            Code::BadRequest,
            "Missing field `messages`: a chat completion request needs an array of messages.",
        ));
    }
    let settings = crate::routes::chats::workspace(&state, &workspace)?;
    let tools = take_client_tools(&mut body)?;

    let (search_tool, system_role) = {
        let state = state.clone();
        let authorization = authorization.clone();
        let prompts = settings.prompts.clone();
        let model = body
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let role = system_role(settings.source, model);
        crate::routes::blocking(move || {
            Ok(search_tool::definition(
                &state,
                authorization.as_deref(),
                &prompts,
            ))
        })
        .await
        .map(|tool| (tool, role))?
    };
    let system = json!({"role": system_role, "content": settings.prompts.system});
    if let Some(Value::Array(messages)) = body.get_mut("messages") {
        messages.insert(0, system);
    }
    let declared = match body.get_mut("tools") {
        Some(Value::Array(declared)) => declared,
        _ => {
            body.insert("tools".into(), Value::Array(Vec::new()));
            body.get_mut("tools")
                .and_then(Value::as_array_mut)
                .expect("just inserted")
        }
    };
    declared.push(search_tool);

    let (events, receiver) = mpsc::channel::<Value>(16);
    let conversation = Conversation {
        state,
        authorization,
        settings,
        body,
        tools,
        events,
    };
    tokio::spawn(conversation.run());
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let value = receiver.recv().await?;
        let data = match &value {
            Value::String(done) => done.clone(),
            other => other.to_string(),
        };
        Some((Ok::<_, Infallible>(Event::default().data(data)), receiver))
    });
    let mut response = Sse::new(stream).into_response();
    response.headers_mut().insert(
        "X-Accel-Buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    Ok(response)
}

/// Removes the client tools from the request (the model never sees them) and refuses the
/// tools Quarry cannot run.
fn take_client_tools(body: &mut Map<String, Value>) -> ApiResult<ClientTools> {
    let mut found = ClientTools::default();
    let Some(Value::Array(tools)) = body.get_mut("tools") else {
        return Ok(found);
    };
    for tool in tools.drain(..) {
        let name = tool
            .pointer("/function/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match name.as_str() {
            SEARCH_IN_INDEX => {
                return Err(ApiError::new(
                    Code::BadRequest,
                    format!("{SEARCH_IN_INDEX} function is already defined."),
                ))
            }
            SEARCH_PROGRESS => found.progress = true,
            SEARCH_SOURCES => found.sources = true,
            APPEND_CONVERSATION_MESSAGE => found.append = true,
            _ => {
                return Err(ApiError::new(
                    Code::UnimplementedExternalFunctionCalling,
                    format!("{name}: External functions are not supported yet."),
                ))
            }
        }
    }
    Ok(found)
}

/// Recent OpenAI models take their instructions as a `developer` message; older ones and the
/// other providers as `system`.
fn system_role(source: ChatSource, model: &str) -> &'static str {
    const OLDER: &[&str] = &[
        "gpt-3.5",
        "gpt-4",
        "gpt-4.1",
        "gpt-4.5",
        "gpt-4o",
        "chatgpt-4o",
    ];
    let older = OLDER.iter().any(|prefix| {
        model
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
    });
    match source {
        ChatSource::OpenAi | ChatSource::AzureOpenAi if !older => "developer",
        _ => "system",
    }
}

/// A tool call the model is making, assembled from its streamed pieces.
#[derive(Debug, Default, Clone)]
struct ToolCall {
    id: String,
    name: String,
    arguments: String,
}

impl ToolCall {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        })
    }
}

/// The client went away: stop the conversation.
struct Gone;

impl Conversation {
    async fn run(mut self) {
        for _ in 0..MAX_ROUNDS {
            match self.round().await {
                Ok(true) => continue,
                Ok(false) => break,
                Err(Gone) => return,
            }
        }
        let _ = self.events.send(Value::String("[DONE]".into())).await;
    }

    async fn send(&self, event: Value) -> Result<(), Gone> {
        self.events.send(event).await.map_err(|_| Gone)
    }

    /// One request to the provider. `Ok(true)` when the model asked for searches and must be
    /// asked again with their results.
    async fn round(&mut self) -> Result<bool, Gone> {
        let request = Value::Object(self.body.clone());
        let mut stream: ProviderStream = provider::start(&self.settings, &request).await;
        let mut calls: BTreeMap<u64, ToolCall> = BTreeMap::new();
        let mut last_chunk = Value::Null;
        let mut finish_reason: Option<String> = None;
        while let Some(event) = stream.next().await {
            let chunk = match event {
                ProviderEvent::Chunk(chunk) => chunk,
                ProviderEvent::Failed(error) => {
                    self.send(error).await?;
                    return Ok(false);
                }
            };
            let choice = chunk.pointer("/choices/0");
            if let Some(reason) = choice
                .and_then(|c| c.get("finish_reason"))
                .and_then(Value::as_str)
            {
                finish_reason = Some(reason.to_string());
            }
            let pieces = choice
                .and_then(|c| c.pointer("/delta/tool_calls"))
                .and_then(Value::as_array);
            match pieces {
                Some(pieces) if !pieces.is_empty() => {
                    for piece in pieces {
                        let index = piece.get("index").and_then(Value::as_u64).unwrap_or(0);
                        let call = calls.entry(index).or_default();
                        if let Some(id) = piece.get("id").and_then(Value::as_str) {
                            call.id = id.to_string();
                        }
                        if let Some(name) = piece.pointer("/function/name").and_then(Value::as_str)
                        {
                            call.name.push_str(name);
                        }
                        if let Some(args) =
                            piece.pointer("/function/arguments").and_then(Value::as_str)
                        {
                            call.arguments.push_str(args);
                        }
                    }
                    last_chunk = chunk;
                }
                // While the model is calling tools its chunks are Quarry's business; the
                // answer's chunks go to the client as they come.
                _ if calls.is_empty() => {
                    self.send(chunk.clone()).await?;
                    last_chunk = chunk;
                }
                _ => last_chunk = chunk,
            }
        }
        if calls.is_empty() {
            return Ok(finish_reason.as_deref() == Some("tool_calls"));
        }
        let calls: Vec<ToolCall> = calls
            .into_values()
            .filter(|call| call.name == SEARCH_IN_INDEX)
            .collect();
        if calls.is_empty() {
            return Ok(false);
        }
        self.answer_searches(calls, &last_chunk).await?;
        Ok(true)
    }

    /// Runs the searches the model asked for, tells the client what the declared tools want
    /// to know, and adds the calls and their results to the conversation.
    async fn answer_searches(
        &mut self,
        calls: Vec<ToolCall>,
        template: &Value,
    ) -> Result<(), Gone> {
        let assistant = json!({
            "role": "assistant",
            "tool_calls": calls.iter().map(ToolCall::to_json).collect::<Vec<_>>(),
        });
        self.push_message(assistant);
        for call in calls {
            if self.tools.progress {
                let progress = json!({
                    "call_id": call.id,
                    "function_name": call.name,
                    "function_arguments": call.arguments,
                });
                self.send(client_call(template, SEARCH_PROGRESS, &progress))
                    .await?;
            }
            if self.tools.append {
                let message = json!({"role": "assistant", "tool_calls": [call.to_json()]});
                self.send(client_call(template, APPEND_CONVERSATION_MESSAGE, &message))
                    .await?;
            }
            let outcome = {
                let state = self.state.clone();
                let authorization = self.authorization.clone();
                let arguments = call.arguments.clone();
                tokio::task::spawn_blocking(move || {
                    search_tool::run(&state, authorization.as_deref(), &arguments)
                })
                .await
                .unwrap_or_else(|_| {
                    Err(search_tool::ToolFailure::Search(
                        quarry_api_types::ResponseError::new(
                            Code::Internal,
                            "the search task panicked",
                        ),
                    ))
                })
            };
            let (content, error) = match outcome {
                Ok(found) => {
                    if self.tools.sources {
                        let sources = json!({"call_id": call.id, "sources": found.documents});
                        self.send(client_call(template, SEARCH_SOURCES, &sources))
                            .await?;
                    }
                    (found.text, None)
                }
                Err(search_tool::ToolFailure::Arguments(message)) => (message, None),
                Err(search_tool::ToolFailure::Search(e)) => (
                    format!("the search tool call failed with {}", e.message),
                    Some(provider::error_event(
                        "response_error",
                        Some(e.code.name()),
                        &e.message,
                        None,
                    )),
                ),
            };
            let tool = json!({"role": "tool", "tool_call_id": call.id, "content": content});
            if self.tools.append {
                self.send(client_call(template, APPEND_CONVERSATION_MESSAGE, &tool))
                    .await?;
            }
            self.push_message(tool);
            if let Some(error) = error {
                self.send(error).await?;
            }
        }
        Ok(())
    }

    fn push_message(&mut self, message: Value) {
        if let Some(Value::Array(messages)) = self.body.get_mut("messages") {
            messages.push(message);
        }
    }
}

/// A chunk carrying one call of a client tool, shaped like the provider's chunks (same `id`,
/// `model`, `created`), with the arguments as a JSON string.
fn client_call(template: &Value, name: &str, arguments: &Value) -> Value {
    let field = |key: &str| template.get(key).cloned().unwrap_or(Value::Null);
    json!({
        "id": field("id"),
        "object": "chat.completion.chunk",
        "created": field("created"),
        "model": field("model"),
        "choices": [{
            "index": 0,
            "delta": {
                "role": "assistant",
                "content": null,
                "tool_calls": [{
                    "index": 0,
                    "id": uuid::Uuid::new_v4().to_string(),
                    "type": "function",
                    "function": {"name": name, "arguments": arguments.to_string()},
                }],
            },
            "finish_reason": null,
            "logprobs": null,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_roles() {
        assert_eq!(system_role(ChatSource::OpenAi, "gpt-4o-mini"), "system");
        assert_eq!(system_role(ChatSource::OpenAi, "gpt-4"), "system");
        assert_eq!(system_role(ChatSource::OpenAi, "gpt-4-turbo"), "system");
        assert_eq!(system_role(ChatSource::OpenAi, "o3-mini"), "developer");
        assert_eq!(system_role(ChatSource::OpenAi, "gpt-5"), "developer");
        assert_eq!(system_role(ChatSource::Mistral, "mistral-large"), "system");
    }

    #[test]
    fn client_tools_are_taken_out() {
        let mut body = json!({"tools": [
            {"type": "function", "function": {"name": SEARCH_PROGRESS}},
            {"type": "function", "function": {"name": SEARCH_SOURCES}},
        ]});
        let body = body.as_object_mut().unwrap();
        let tools = take_client_tools(body).unwrap();
        assert!(tools.progress && tools.sources && !tools.append);
        assert_eq!(body["tools"], json!([]));
        let mut external =
            json!({"tools": [{"type": "function", "function": {"name": "weather"}}]});
        let err = take_client_tools(external.as_object_mut().unwrap()).unwrap_err();
        assert_eq!(err.0.code, Code::UnimplementedExternalFunctionCalling);
    }
}
