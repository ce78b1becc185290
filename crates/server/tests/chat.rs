//! Conversational search and document templates over real HTTP: the `/chats` workspace routes
//! (storage, validation codes, the hidden provider key), the per-index `chat` settings, and
//! `POST /chats/{workspace}/chat/completions` against a small OpenAI-compatible provider
//! started here on 127.0.0.1:0 (it streams Server-Sent Events and calls the search tool). The
//! tests check what the provider receives (key, tools, search results), what the client
//! receives (the SSE stream, the progress/sources/append tool calls, provider errors as
//! Meilisearch streams them), which indexes a key may make the model search, and that the
//! provider key appears in no response and no log line. Also `POST /render-template`.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response as AxumResponse};
use common::{assert_error, start_server, unique_uid, Server};
use serde_json::{json, Value};

/// The provider key of the workspaces; it must never come back.
const SECRET: &str = "sk-test-0123456789-provider-secret-value";
const MASTER: &str = "MASTER_KEY_for_the_chat_tests";

// ---------------------------------------------------------------------------------------------
// Logs: every line the servers of this binary write, to look for the secret.

#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> &'static LogBuffer {
    static LOGS: OnceLock<LogBuffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = LogBuffer::default();
        let writer = buffer.clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,quarry_server=trace,quarry_scheduler=trace",
            ))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .init();
        buffer
    })
}

fn assert_secret_not_logged() {
    let text = String::from_utf8_lossy(&logs().0.lock().unwrap()).into_owned();
    assert!(!text.is_empty(), "no log line was captured");
    assert!(!text.contains(SECRET), "the provider key was logged");
}

// ---------------------------------------------------------------------------------------------
// The provider: an OpenAI-compatible `chat/completions` endpoint speaking SSE.
//
// Scenarios, by the first path segment of the workspace's `baseUrl`:
// - `search`: the last user message reads `search <index> for <words>`; the model first calls
//   `_meiliSearchInIndex` (arguments streamed in pieces), then, given the tool's answer,
//   streams `Found: ` followed by that answer.
// - `plain`: a direct answer, no tool call.
// - `refuse`: a 401 with an OpenAI error body quoting the key it was given.

#[derive(Default)]
struct ProviderState {
    requests: Mutex<Vec<(String, HeaderMap, Value)>>,
}

struct Provider {
    base: String,
    state: Arc<ProviderState>,
}

fn chunk(delta: Value, finish: Option<&str>) -> String {
    let chunk = json!({
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "test-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    });
    format!("data: {chunk}\n\n")
}

fn sse(events: Vec<String>) -> AxumResponse {
    let mut body: String = events.concat();
    body.push_str("data: [DONE]\n\n");
    ([("content-type", "text/event-stream")], body).into_response()
}

async fn completions(
    State(state): State<Arc<ProviderState>>,
    Path(scenario): Path<String>,
    headers: HeaderMap,
    body: String,
) -> AxumResponse {
    let request: Value = serde_json::from_str(&body).expect("the provider gets JSON");
    state
        .requests
        .lock()
        .unwrap()
        .push((scenario.clone(), headers.clone(), request.clone()));
    let messages = request["messages"].as_array().cloned().unwrap_or_default();
    let last = messages.last().cloned().unwrap_or(Value::Null);
    match scenario.as_str() {
        "refuse" => {
            let given = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .trim_start_matches("Bearer ")
                .to_string();
            (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"error": {
                    "message": format!("Incorrect API key provided: {given}."),
                    "type": "invalid_request_error",
                    "param": null,
                    "code": "invalid_api_key",
                }})),
            )
                .into_response()
        }
        "plain" => sse(vec![
            chunk(json!({"role": "assistant", "content": ""}), None),
            chunk(json!({"content": "Hello "}), None),
            chunk(json!({"content": "there."}), None),
            chunk(json!({}), Some("stop")),
        ]),
        _ if last["role"] == "tool" => {
            let found = last["content"].as_str().unwrap_or_default().to_string();
            sse(vec![
                chunk(json!({"role": "assistant", "content": ""}), None),
                chunk(json!({"content": "Found: "}), None),
                chunk(json!({"content": found}), None),
                chunk(json!({}), Some("stop")),
            ])
        }
        _ => {
            let text = last["content"].as_str().unwrap_or_default();
            let rest = text
                .strip_prefix("search ")
                .expect("search <index> for <q>");
            let (index, q) = rest.split_once(" for ").unwrap();
            let arguments = json!({"index_uid": index, "q": q, "filter": ""}).to_string();
            let (first, second) = arguments.split_at(arguments.len() / 2);
            sse(vec![
                chunk(
                    json!({"role": "assistant", "content": null, "tool_calls": [{
                        "index": 0, "id": "call_1", "type": "function",
                        "function": {"name": "_meiliSearchInIndex", "arguments": ""},
                    }]}),
                    None,
                ),
                chunk(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": first}}]}),
                    None,
                ),
                chunk(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": second}}]}),
                    None,
                ),
                chunk(json!({}), Some("tool_calls")),
            ])
        }
    }
}

fn provider() -> &'static Provider {
    static PROVIDER: OnceLock<Provider> = OnceLock::new();
    PROVIDER.get_or_init(|| {
        let state = Arc::new(ProviderState::default());
        let app = axum::Router::new()
            .route(
                "/{scenario}/v1/chat/completions",
                axum::routing::post(completions),
            )
            .with_state(state.clone());
        let addr = common::serve_local(app);
        Provider {
            base: format!("http://{addr}"),
            state,
        }
    })
}

impl Provider {
    fn url(&self, scenario: &str) -> String {
        format!("{}/{scenario}/v1", self.base)
    }

    /// The requests received for the workspaces whose last user message is `marker`.
    fn requests_about(&self, marker: &str) -> Vec<(HeaderMap, Value)> {
        self.state
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, _, body)| {
                body["messages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["role"] == "user" && m["content"] == marker)
            })
            .map(|(_, headers, body)| (headers.clone(), body.clone()))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Servers and the SSE client.

/// A server with chat completions and the render route enabled (and logs captured).
fn chat_server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        logs();
        let server = start_server(quarry_server::ServerConfig::default());
        server
            .patch(
                "/experimental-features",
                json!({"chatCompletions": true, "renderRoute": true}),
            )
            .expect(200);
        server
    })
}

/// The movies index of the chat server, with chat settings, loaded once.
fn movies_index() -> &'static str {
    static INDEX: OnceLock<String> = OnceLock::new();
    INDEX.get_or_init(|| {
        let s = chat_server();
        let uid = "chat_movies".to_string();
        s.load_movies(&uid);
        let task = s
            .patch(
                &format!("/indexes/{uid}/settings"),
                json!({
                    "searchableAttributes": ["title", "distributor"],
                    "filterableAttributes": ["major_genre"],
                    "chat": {
                        "description": "Films with their box office",
                        "documentTemplate": "{{ doc.title }} ({{ doc.release_year }})",
                        "searchParameters": {"limit": 3}
                    }
                }),
            )
            .task_uid();
        s.wait_ok(task);
        uid
    })
}

/// A parsed SSE answer: the `data` of each event, in order.
struct Stream {
    status: u16,
    content_type: String,
    raw: String,
    events: Vec<String>,
}

impl Stream {
    fn json_events(&self) -> Vec<Value> {
        self.events
            .iter()
            .filter(|e| e.as_str() != "[DONE]")
            .map(|e| serde_json::from_str(e).expect("each event is JSON"))
            .collect()
    }

    /// The answer's text: the `content` of every chunk, concatenated.
    fn content(&self) -> String {
        self.json_events()
            .iter()
            .filter_map(|e| {
                e.pointer("/choices/0/delta/content")
                    .and_then(Value::as_str)
            })
            .collect()
    }

    /// The arguments of every call of the client tool `name`, parsed.
    fn calls(&self, name: &str) -> Vec<Value> {
        self.json_events()
            .iter()
            .filter_map(|e| e.pointer("/choices/0/delta/tool_calls/0/function"))
            .filter(|f| f["name"] == name)
            .map(|f| serde_json::from_str(f["arguments"].as_str().unwrap()).unwrap())
            .collect()
    }

    fn errors(&self) -> Vec<Value> {
        self.json_events()
            .into_iter()
            .filter(|e| e["type"] == "error")
            .collect()
    }
}

fn chat(server: &Server, workspace: &str, key: Option<&str>, body: Value) -> Stream {
    let mut request = server
        .client
        .post(server.url(&format!("/chats/{workspace}/chat/completions")))
        .json(&body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let raw = response.text().unwrap();
    let events = raw
        .split("\n\n")
        .filter_map(|event| {
            let data: Vec<&str> = event
                .lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            (!data.is_empty()).then(|| data.join("\n"))
        })
        .collect();
    Stream {
        status,
        content_type,
        raw,
        events,
    }
}

fn tool(name: &str) -> Value {
    json!({"type": "function", "function": {"name": name, "description": "client tool",
        "parameters": {"type": "object", "properties": {}}}})
}

fn ask(question: &str, tools: &[&str]) -> Value {
    json!({
        "model": "gpt-4o-mini",
        "stream": true,
        "temperature": 0.2,
        "messages": [{"role": "user", "content": question}],
        "tools": tools.iter().map(|t| tool(t)).collect::<Vec<_>>(),
    })
}

fn workspace(server: &Server, scenario: &str) -> String {
    let uid = unique_uid("ws");
    server
        .patch(
            &format!("/chats/{uid}/settings"),
            json!({"source": "openAi", "baseUrl": provider().url(scenario), "apiKey": SECRET,
                   "prompts": {"system": "You answer about films."}}),
        )
        .expect(200);
    uid
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn chat_routes_need_their_feature() {
    let s = start_server(quarry_server::ServerConfig::default());
    for (method, path, body) in [
        ("GET", "/chats", None),
        ("GET", "/chats/w", None),
        ("DELETE", "/chats/w", None),
        ("GET", "/chats/w/settings", None),
        ("PATCH", "/chats/w/settings", Some(json!({}))),
        ("DELETE", "/chats/w/settings", None),
        (
            "POST",
            "/chats/w/chat/completions",
            Some(json!({"stream": true, "messages": []})),
        ),
        (
            "POST",
            "/render-template",
            Some(json!({"template": {"kind": "inlineDocumentTemplate", "inline": "x"}})),
        ),
    ] {
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        let response = s.raw(method, path, Some("application/json"), bytes);
        let body = assert_error(response, 400, "feature_not_enabled");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("experimental feature"),
            "{body}"
        );
    }
    // The `chat` settings key is refused, and not shown, while the feature is off.
    let uid = unique_uid("chat_off");
    s.create_index(&uid, None);
    let settings_path = format!("/indexes/{uid}/settings");
    assert_error(
        s.patch(&settings_path, json!({"chat": {"description": "x"}})),
        400,
        "feature_not_enabled",
    );
    assert!(s.get(&settings_path).expect(200).get("chat").is_none());
}

#[test]
fn workspace_settings_are_stored_validated_and_hide_the_key() {
    let s = chat_server();
    let uid = unique_uid("ws_settings");
    let path = format!("/chats/{uid}/settings");
    assert_error(s.get(&path), 404, "chat_not_found");

    // PATCH creates the workspace; the key is shown by its first characters only.
    let body = s
        .patch(
            &path,
            json!({"source": "mistral", "apiKey": SECRET, "orgId": "org-1"}),
        )
        .expect(200);
    assert_eq!(body["source"], "mistral");
    assert_eq!(body["apiKey"], "sk-teXXXXXX...");
    assert_eq!(body["orgId"], "org-1");
    assert_eq!(body["baseUrl"], Value::Null);
    assert!(body["prompts"]["system"].as_str().unwrap().len() > 20);
    for field in [
        "searchDescription",
        "searchQParam",
        "searchFilterParam",
        "searchIndexUidParam",
    ] {
        assert!(body["prompts"][field].is_string(), "{field}");
    }
    assert_eq!(s.get(&path).expect(200), body);
    assert_eq!(
        s.get(&format!("/chats/{uid}")).expect(200),
        json!({"uid": uid})
    );

    // Partial updates keep the rest; `null` resets one field.
    let body = s
        .patch(
            &path,
            json!({"prompts": {"system": "Short answers."}, "orgId": null}),
        )
        .expect(200);
    assert_eq!(body["prompts"]["system"], "Short answers.");
    assert_eq!(body["source"], "mistral");
    assert_eq!(body["orgId"], Value::Null);
    assert_eq!(body["apiKey"], "sk-teXXXXXX...");

    // Validation, with Meilisearch's codes.
    let mut checks = common::ErrorChecks::new();
    for (label, body, code) in [
        (
            "source",
            json!({"source": "claude"}),
            "invalid_chat_completion_source",
        ),
        (
            "orgId",
            json!({"orgId": 1}),
            "invalid_chat_completion_org_id",
        ),
        (
            "projectId",
            json!({"projectId": []}),
            "invalid_chat_completion_project_id",
        ),
        (
            "apiVersion",
            json!({"apiVersion": 2}),
            "invalid_chat_completion_api_version",
        ),
        (
            "deploymentId",
            json!({"deploymentId": {}}),
            "invalid_chat_completion_deployment_id",
        ),
        (
            "baseUrl",
            json!({"baseUrl": false}),
            "invalid_chat_completion_base_api",
        ),
        (
            "apiKey",
            json!({"apiKey": 12}),
            "invalid_chat_completion_api_key",
        ),
        (
            "prompts",
            json!({"prompts": []}),
            "invalid_chat_completion_prompts",
        ),
        (
            "system",
            json!({"prompts": {"system": 1}}),
            "invalid_chat_completion_system_prompt",
        ),
        (
            "description",
            json!({"prompts": {"searchDescription": 1}}),
            "invalid_chat_completion_search_description_prompt",
        ),
        (
            "q",
            json!({"prompts": {"searchQParam": 1}}),
            "invalid_chat_completion_search_query_param_prompt",
        ),
        (
            "filter",
            json!({"prompts": {"searchFilterParam": 1}}),
            "invalid_chat_completion_search_filter_param_prompt",
        ),
        (
            "index",
            json!({"prompts": {"searchIndexUidParam": 1}}),
            "invalid_chat_completion_search_index_uid_param_prompt",
        ),
        ("unknown", json!({"model": "x"}), "bad_request"),
        ("vLlm", json!({"source": "vLlm"}), "bad_request"),
        (
            "azure",
            json!({"source": "azureOpenAi", "baseUrl": "http://127.0.0.1:9"}),
            "bad_request",
        ),
    ] {
        checks.check(label, s.patch(&path, body), 400, code);
    }
    checks.finish();
    let body = s.patch(&path, json!({"source": "gemini"})).expect(200);
    assert_eq!(body["source"], "gemini");

    // The list is paginated like `/indexes`.
    let other = unique_uid("ws_settings");
    s.patch(&format!("/chats/{other}/settings"), json!({}))
        .expect(200);
    let list = s.get("/chats?limit=1000").expect(200);
    let uids: Vec<&str> = list["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["uid"].as_str().unwrap())
        .collect();
    assert!(
        uids.contains(&uid.as_str()) && uids.contains(&other.as_str()),
        "{list}"
    );
    assert_eq!(list["total"].as_u64().unwrap() as usize, uids.len());
    let page = s.get("/chats?offset=1&limit=1").expect(200);
    assert_eq!(page["offset"], 1);
    assert_eq!(page["limit"], 1);
    assert_eq!(page["results"].as_array().unwrap().len(), 1);
    assert_error(s.get("/chats?limit=-1"), 400, "invalid_index_limit");

    // DELETE of the settings resets them; DELETE of the workspace removes it.
    let reset = s.delete(&path).expect(200);
    assert_eq!(reset["source"], "openAi");
    assert_eq!(reset["apiKey"], Value::Null);
    s.delete(&format!("/chats/{uid}")).expect(204);
    assert_error(s.get(&path), 404, "chat_not_found");
    assert_error(s.delete(&format!("/chats/{uid}")), 404, "chat_not_found");
    assert_error(s.delete(&path), 404, "chat_not_found");
    assert!(!s.get("/chats").body.to_string().contains(SECRET));
    assert_secret_not_logged();
}

#[test]
fn index_chat_settings_are_validated_merged_and_reset() {
    let s = chat_server();
    let uid = unique_uid("chat_index");
    s.create_index(&uid, None);
    let all = format!("/indexes/{uid}/settings");
    let one = format!("{all}/chat");
    let defaults = s.get(&one).expect(200);
    assert_eq!(defaults["description"], "");
    assert_eq!(defaults["documentTemplateMaxBytes"], 400);
    assert_eq!(defaults["searchParameters"], json!({}));
    assert!(defaults["documentTemplate"]
        .as_str()
        .unwrap()
        .contains("field.is_searchable"));
    assert_eq!(s.get(&all).expect(200)["chat"], defaults);

    let task = s
        .patch(
            &all,
            json!({"chat": {"description": "Films", "documentTemplate": "{{ doc.title }}",
                "documentTemplateMaxBytes": 200,
                "searchParameters": {"limit": 15, "sort": [], "attributesToSearchOn": []}}}),
        )
        .task_uid();
    let task = s.wait_ok(task);
    assert_eq!(task["details"]["chat"]["description"], "Films");
    // The per-key route merges search parameters one by one.
    let task = s
        .patch(
            &one,
            json!({"searchParameters": {"limit": 16, "sort": null}}),
        )
        .task_uid();
    s.wait_ok(task);
    assert_eq!(
        s.get(&one).expect(200),
        json!({"description": "Films", "documentTemplate": "{{ doc.title }}",
               "documentTemplateMaxBytes": 200,
               "searchParameters": {"limit": 16, "attributesToSearchOn": []}})
    );

    let mut checks = common::ErrorChecks::new();
    for (label, body, code) in [
        (
            "template",
            json!({"chat": {"documentTemplate": "{{ doc.title"}}),
            "invalid_chat_setting_document_template",
        ),
        (
            "type",
            json!({"chat": {"description": 3}}),
            "invalid_settings_chat",
        ),
        (
            "unknown",
            json!({"chat": {"prompt": "x"}}),
            "invalid_settings_chat",
        ),
        (
            "max bytes",
            json!({"chat": {"documentTemplateMaxBytes": 0}}),
            "invalid_settings_chat",
        ),
        (
            "parameter",
            json!({"chat": {"searchParameters": {"q": "x"}}}),
            "invalid_settings_chat",
        ),
        (
            "strategy",
            json!({"chat": {"searchParameters": {"matchingStrategy": "most"}}}),
            "invalid_settings_chat",
        ),
        ("object", json!({"chat": []}), "invalid_settings_chat"),
    ] {
        checks.check(label, s.patch(&all, body), 400, code);
    }
    checks.finish();

    let task = s.delete(&one).task_uid();
    s.wait_ok(task);
    assert_eq!(s.get(&one).expect(200), defaults);
}

#[test]
fn a_completion_searches_renders_hits_and_streams_the_answer() {
    let s = chat_server();
    let index = movies_index();
    let ws = workspace(s, "search");
    let question = format!("search {index} for star wars hope");
    let stream = chat(
        s,
        &ws,
        None,
        ask(
            &question,
            &[
                "_meiliSearchProgress",
                "_meiliSearchSources",
                "_meiliAppendConversationMessage",
            ],
        ),
    );
    assert_eq!(stream.status, 200, "{}", stream.raw);
    assert!(
        stream.content_type.starts_with("text/event-stream"),
        "{}",
        stream.content_type
    );
    assert_eq!(stream.events.last().map(String::as_str), Some("[DONE]"));
    assert!(stream.errors().is_empty(), "{}", stream.raw);
    assert!(!stream.raw.contains(SECRET));

    // What the provider saw: the key, one search tool over the index, the system prompt,
    // the client's other parameters, and then the rendered search results.
    let requests = provider().requests_about(&question);
    assert_eq!(requests.len(), 2, "{requests:?}");
    for (headers, body) in &requests {
        assert_eq!(headers["authorization"], format!("Bearer {SECRET}"));
        assert_eq!(body["stream"], true);
        assert_eq!(body["temperature"], 0.2);
        assert_eq!(body["model"], "gpt-4o-mini");
        let tools = body["tools"].as_array().unwrap();
        assert_eq!(
            tools.len(),
            1,
            "client tools never reach the model: {tools:?}"
        );
        let function = &tools[0]["function"];
        assert_eq!(function["name"], "_meiliSearchInIndex");
        let enumerated = function["parameters"]["properties"]["index_uid"]["enum"]
            .as_array()
            .unwrap();
        assert!(enumerated.contains(&json!(index)), "{enumerated:?}");
        let description = function["description"].as_str().unwrap();
        assert!(
            description.contains(&format!("{index}: Films with their box office")),
            "{description}"
        );
        let filter = function["parameters"]["properties"]["filter"]["description"]
            .as_str()
            .unwrap();
        assert!(
            filter.contains("major_genre: ") && filter.contains("Drama"),
            "{filter}"
        );
        assert_eq!(body["messages"][0]["role"], "system");
        assert_eq!(body["messages"][0]["content"], "You answer about films.");
    }
    let second = &requests[1].1["messages"];
    let assistant = &second[2];
    assert_eq!(assistant["role"], "assistant");
    assert_eq!(assistant["tool_calls"][0]["id"], "call_1");
    assert_eq!(
        assistant["tool_calls"][0]["function"]["name"],
        "_meiliSearchInIndex"
    );
    let tool_message = &second[3];
    assert_eq!(tool_message["role"], "tool");
    assert_eq!(tool_message["tool_call_id"], "call_1");
    let rendered = tool_message["content"].as_str().unwrap();
    // The index's template and `searchParameters.limit` shaped the search results.
    let lines: Vec<&str> = rendered.lines().collect();
    assert_eq!(lines.len(), 3, "{rendered}");
    assert!(
        lines.iter().all(|l| l.starts_with("Star Wars")),
        "{rendered}"
    );
    assert!(
        rendered.contains("Star Wars Ep. IV: A New Hope (1977)"),
        "{rendered}"
    );

    // What the client saw: the answer, built from the results, and its declared tools.
    assert_eq!(stream.content(), format!("Found: {rendered}"));
    let progress = stream.calls("_meiliSearchProgress");
    assert_eq!(progress.len(), 1);
    assert_eq!(progress[0]["call_id"], "call_1");
    assert_eq!(progress[0]["function_name"], "_meiliSearchInIndex");
    let arguments: Value =
        serde_json::from_str(progress[0]["function_arguments"].as_str().unwrap()).unwrap();
    assert_eq!(arguments["q"], "star wars hope");
    let sources = stream.calls("_meiliSearchSources");
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0]["call_id"], "call_1");
    let documents = sources[0]["sources"].as_array().unwrap();
    assert_eq!(documents.len(), 3);
    assert!(documents
        .iter()
        .all(|d| d["title"].as_str().unwrap().starts_with("Star Wars")));
    let appended = stream.calls("_meiliAppendConversationMessage");
    assert_eq!(appended.len(), 2);
    assert_eq!(appended[0]["role"], "assistant");
    assert_eq!(appended[0]["tool_calls"][0]["id"], "call_1");
    assert_eq!(appended[1]["role"], "tool");
    assert_eq!(appended[1]["content"], rendered);
    // The model's own tool-call chunks are not forwarded.
    assert!(stream
        .json_events()
        .iter()
        .filter_map(|e| e.pointer("/choices/0/delta/tool_calls/0/function/name"))
        .all(|name| name != "_meiliSearchInIndex"));
    assert_secret_not_logged();
}

#[test]
fn a_plain_answer_is_forwarded_and_client_tools_are_optional() {
    let s = chat_server();
    let ws = workspace(s, "plain");
    let stream = chat(s, &ws, None, ask("hello", &[]));
    assert_eq!(stream.status, 200, "{}", stream.raw);
    assert_eq!(stream.content(), "Hello there.");
    let events = stream.json_events();
    assert_eq!(events.len(), 4);
    assert_eq!(events[0]["id"], "chatcmpl-test");
    assert_eq!(events[3]["choices"][0]["finish_reason"], "stop");
    assert_eq!(stream.events.last().map(String::as_str), Some("[DONE]"));
}

#[test]
fn a_provider_error_is_streamed_as_meilisearch_streams_it() {
    let s = chat_server();
    let ws = workspace(s, "refuse");
    let stream = chat(s, &ws, None, ask("anything", &["_meiliSearchProgress"]));
    assert_eq!(stream.status, 200, "{}", stream.raw);
    let errors = stream.errors();
    assert_eq!(errors.len(), 1, "{}", stream.raw);
    let error = &errors[0];
    assert!(error["event_id"].is_string());
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert_eq!(error["error"]["code"], "invalid_api_key");
    assert_eq!(error["error"]["param"], Value::Null);
    // The provider quoted the key: it is hidden before the message is relayed.
    assert_eq!(
        error["error"]["message"],
        "Incorrect API key provided: sk-teXXXXXX...."
    );
    assert_eq!(stream.events.last().map(String::as_str), Some("[DONE]"));
    assert!(!stream.raw.contains(SECRET));

    // A provider nobody listens on: a transport error event.
    let unreachable = unique_uid("ws_down");
    s.patch(
        &format!("/chats/{unreachable}/settings"),
        json!({"source": "vLlm", "baseUrl": "http://127.0.0.1:9/v1", "apiKey": SECRET}),
    )
    .expect(200);
    let stream = chat(s, &unreachable, None, ask("anything", &[]));
    let errors = stream.errors();
    assert_eq!(errors.len(), 1, "{}", stream.raw);
    assert_eq!(errors[0]["error"]["type"], "internal_reqwest_error");
    assert!(!stream.raw.contains(SECRET));
    assert_secret_not_logged();
}

#[test]
fn completion_requests_are_checked_before_streaming() {
    let s = chat_server();
    let ws = workspace(s, "plain");
    let post = |workspace: &str, body: Value| {
        s.post(&format!("/chats/{workspace}/chat/completions"), body)
    };
    let body = assert_error(
        post(&ws, json!({"model": "m", "messages": []})),
        501,
        "unimplemented_non_streaming_chat_completions",
    );
    assert_eq!(
        body["message"],
        "Non-streamed chat completions is not implemented"
    );
    assert_error(
        post(
            &ws,
            json!({"model": "m", "stream": true, "n": 2, "messages": []}),
        ),
        501,
        "unimplemented_multi_choice_chat_completions",
    );
    let body = assert_error(
        post(&ws, ask("x", &["getWeather"])),
        501,
        "unimplemented_external_function_calling",
    );
    assert_eq!(
        body["message"],
        "getWeather: External functions are not supported yet."
    );
    assert_error(
        post(&ws, ask("x", &["_meiliSearchInIndex"])),
        400,
        "bad_request",
    );
    assert_error(post(&ws, json!({"stream": true})), 400, "bad_request");
    let body = assert_error(post("nowhere", ask("x", &[])), 404, "chat_not_found");
    assert_eq!(body["message"], "Chat `nowhere` not found");
}

#[test]
fn keys_decide_what_the_model_may_search() {
    logs();
    let s = start_server(quarry_server::ServerConfig {
        master_key: Some(MASTER.into()),
        ..Default::default()
    });
    let master = [("Authorization", format!("Bearer {MASTER}"))];
    let as_master = |method: &str, path: &str, body: Value| {
        let headers: Vec<(&str, &str)> = master.iter().map(|(n, v)| (*n, v.as_str())).collect();
        s.raw_with_headers(
            method,
            path,
            Some("application/json"),
            &headers,
            body.to_string(),
        )
    };
    as_master(
        "PATCH",
        "/experimental-features",
        json!({"chatCompletions": true}),
    )
    .expect(200);
    let films = common::some_movies(400);
    for uid in ["films_open", "films_closed"] {
        let task = as_master(
            "POST",
            &format!("/indexes/{uid}/documents?primaryKey=id"),
            films.clone(),
        )
        .task_uid();
        let deadline = std::time::Instant::now() + common::TASK_TIMEOUT;
        while as_master("GET", &format!("/tasks/{task}"), Value::Null).body["status"] != "succeeded"
        {
            assert!(std::time::Instant::now() < deadline);
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    let ws = unique_uid("ws_keys");
    as_master(
        "PATCH",
        &format!("/chats/{ws}/settings"),
        json!({"baseUrl": provider().url("search"), "apiKey": SECRET}),
    )
    .expect(200);

    // The default chat key may chat and search everything.
    let keys = as_master("GET", "/keys", Value::Null).expect(200);
    let chat_key = keys["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "Default Chat API Key")
        .expect("the default chat key")["key"]
        .as_str()
        .unwrap()
        .to_string();
    let question = "search films_closed for love";
    let stream = chat(&s, &ws, Some(&chat_key), ask(question, &[]));
    assert_eq!(stream.status, 200, "{}", stream.raw);
    assert!(stream.errors().is_empty(), "{}", stream.raw);
    assert!(stream.content().starts_with("Found: "), "{}", stream.raw);
    assert!(stream.content().len() > "Found: ".len());

    // A key that may search one index only: the tool lists that index, and a search of the
    // other one fails (the model and the client are told).
    let narrow = as_master(
        "POST",
        "/keys",
        json!({"actions": ["chatCompletions", "search"], "indexes": ["films_open"], "expiresAt": null}),
    )
    .expect(201)["key"]
        .as_str()
        .unwrap()
        .to_string();
    let question = "search films_closed for war";
    let stream = chat(&s, &ws, Some(&narrow), ask(question, &[]));
    assert_eq!(stream.status, 200, "{}", stream.raw);
    let requests = provider().requests_about(question);
    let enumerated =
        &requests[0].1["tools"][0]["function"]["parameters"]["properties"]["index_uid"]["enum"];
    assert_eq!(enumerated, &json!(["films_open"]));
    let tool_message = requests[1].1["messages"]
        .as_array()
        .unwrap()
        .last()
        .cloned()
        .unwrap();
    assert_eq!(
        tool_message["content"],
        "the search tool call failed with The provided API key is invalid."
    );
    let errors = stream.errors();
    assert_eq!(errors.len(), 1, "{}", stream.raw);
    assert_eq!(errors[0]["error"]["type"], "response_error");
    assert_eq!(errors[0]["error"]["code"], "invalid_api_key");

    // Without `chatCompletions`, or without a key, no conversation.
    let search_only = as_master(
        "POST",
        "/keys",
        json!({"actions": ["search"], "indexes": ["*"], "expiresAt": null}),
    )
    .expect(201)["key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(chat(&s, &ws, Some(&search_only), ask("x", &[])).status, 403);
    assert_eq!(chat(&s, &ws, None, ask("x", &[])).status, 401);
    let settings = as_master("GET", &format!("/chats/{ws}/settings"), Value::Null).expect(200);
    assert!(!settings.to_string().contains(SECRET));
    assert_secret_not_logged();
}

#[test]
fn render_template_renders_inline_and_stored_templates() {
    let s = chat_server();
    let index = movies_index();
    let render = |body: Value| s.post("/render-template", body);

    let body = render(json!({
        "template": {"kind": "inlineDocumentTemplate", "inline": "An inline document template rendered on {{doc.id}}"},
        "input": {"kind": "inlineDocument", "inline": {"id": "this document"}}
    }))
    .expect(200);
    assert_eq!(
        body,
        json!({"template": "An inline document template rendered on {{doc.id}}",
               "rendered": "An inline document template rendered on this document"})
    );
    // An index's document, filters, and no input at all.
    let body = render(json!({
        "template": {"kind": "inlineDocumentTemplate", "inline": "{{ doc.title | upcase }} by {{ doc.distributor }}"},
        "input": {"kind": "indexDocument", "indexUid": index, "id": "913"}
    }))
    .expect(200);
    assert_eq!(
        body["rendered"],
        "STAR WARS EP. IV: A NEW HOPE by 20th Century Fox"
    );
    let body = render(json!({"template": {"kind": "inlineDocumentTemplate", "inline": "{{ doc.x }}"}, "input": null}))
        .expect(200);
    assert_eq!(body["rendered"], Value::Null);
    // The chat template of an index, with its cap, or a cap given here.
    let body = render(json!({
        "template": {"kind": "chatDocumentTemplate", "indexUid": index},
        "input": {"kind": "indexDocument", "indexUid": index, "id": 913}
    }))
    .expect(200);
    assert_eq!(body["template"], "{{ doc.title }} ({{ doc.release_year }})");
    assert_eq!(body["rendered"], "Star Wars Ep. IV: A New Hope (1977)");
    let body = render(json!({
        "template": {"kind": "chatDocumentTemplate", "indexUid": index, "documentTemplateMaxBytes": 9},
        "input": {"kind": "inlineDocument", "inline": {"title": "Alien", "release_year": 1979}}
    }))
    .expect(200);
    assert_eq!(body["rendered"], "Alien (19");
    // `fields` lists the document's fields with whether they are searchable.
    let body = render(json!({
        "template": {"kind": "inlineDocumentTemplate",
            "inline": "{% for field in fields %}{% if field.is_searchable %}{{ field.name }}={{ field.value }};{% endif %}{% endfor %}"},
        "input": {"kind": "indexDocument", "indexUid": index, "id": "913"}
    }))
    .expect(200);
    assert_eq!(
        body["rendered"],
        "title=Star Wars Ep. IV: A New Hope;distributor=20th Century Fox;"
    );

    // An embedder's template.
    let embedder_index = unique_uid("render_embedder");
    s.create_index(&embedder_index, Some("id"));
    let task = s
        .patch(
            &format!("/indexes/{embedder_index}/settings"),
            json!({"embedders": {
                "films": {"source": "rest", "url": "http://127.0.0.1:9/embed", "dimensions": 2,
                          "request": {"input": "{{text}}"}, "response": {"embedding": "{{embedding}}"},
                          "documentTemplate": "A film called {{doc.title}}"},
                "manual": {"source": "userProvided", "dimensions": 2}
            }}),
        )
        .task_uid();
    s.wait_ok(task);
    let body = render(json!({
        "template": {"kind": "documentTemplate", "indexUid": embedder_index, "embedder": "films"},
        "input": {"kind": "inlineDocument", "inline": {"title": "My New Movie"}}
    }))
    .expect(200);
    assert_eq!(body["rendered"], "A film called My New Movie");

    let mut checks = common::ErrorChecks::new();
    let cases = [
        (
            "missing field",
            json!({"template": {"kind": "inlineDocumentTemplate", "inline": "{{doc.doesnotexist}}"},
            "input": {"kind": "indexDocument", "indexUid": index, "id": "913"}}),
            400,
            "template_rendering_error",
        ),
        (
            "syntax",
            json!({"template": {"kind": "inlineDocumentTemplate", "inline": "{{doc.title"}}),
            400,
            "template_parsing_error",
        ),
        (
            "not found",
            json!({"template": {"kind": "inlineDocumentTemplate", "inline": "x"},
            "input": {"kind": "indexDocument", "indexUid": index, "id": "no-such-id"}}),
            404,
            "render_document_not_found",
        ),
        (
            "no index",
            json!({"template": {"kind": "chatDocumentTemplate", "indexUid": "render_missing_index"}}),
            404,
            "index_not_found",
        ),
        (
            "disallowed",
            json!({"template": {"kind": "inlineDocumentTemplate", "inline": "x", "indexUid": index}}),
            400,
            "invalid_render_template",
        ),
        (
            "missing inline",
            json!({"template": {"kind": "inlineDocumentTemplate"}}),
            400,
            "invalid_render_template",
        ),
        (
            "not a string",
            json!({"template": {"kind": "inlineDocumentTemplate", "inline": 3}}),
            400,
            "invalid_render_template",
        ),
        (
            "kind",
            json!({"template": {"kind": "other"}}),
            400,
            "invalid_render_template",
        ),
        (
            "no kind",
            json!({"template": {"inline": "x"}}),
            400,
            "invalid_render_template",
        ),
        ("no template", json!({}), 400, "invalid_render_template"),
        (
            "embedder",
            json!({"template": {"kind": "documentTemplate", "indexUid": embedder_index, "embedder": "nope"}}),
            400,
            "invalid_render_template",
        ),
        (
            "user provided",
            json!({"template": {"kind": "documentTemplate", "indexUid": embedder_index, "embedder": "manual"}}),
            400,
            "invalid_render_template",
        ),
        (
            "fragments",
            json!({"template": {"kind": "inlineFragment", "inline": {}}}),
            400,
            "feature_not_enabled",
        ),
        (
            "input kind",
            json!({"template": {"kind": "inlineDocumentTemplate", "inline": "x"}, "input": {"kind": "x"}}),
            400,
            "invalid_render_input",
        ),
        (
            "input inline",
            json!({"template": {"kind": "inlineDocumentTemplate", "inline": "x"}, "input": {"kind": "inlineDocument", "inline": [1]}}),
            400,
            "invalid_render_input",
        ),
        (
            "input id",
            json!({"template": {"kind": "inlineDocumentTemplate", "inline": "x"}, "input": {"kind": "inlineDocument", "id": "1", "inline": {}}}),
            400,
            "invalid_render_input",
        ),
        (
            "top level",
            json!({"template": {"kind": "inlineDocumentTemplate", "inline": "x"}, "other": 1}),
            400,
            "bad_request",
        ),
    ];
    for (label, body, status, code) in cases {
        checks.check(label, render(body), status, code);
    }
    checks.finish();
    let body = render(
        json!({"template": {"kind": "inlineDocumentTemplate", "inline": "{{doc.doesnotexist}}"},
        "input": {"kind": "indexDocument", "indexUid": index, "id": "913"}}),
    )
    .body;
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("error while rendering template: user error: missing field in document: liquid: Unknown index"),
        "{message}"
    );
    assert!(
        message.contains("requested index=doesnotexist"),
        "{message}"
    );
    let body = render(
        json!({"template": {"kind": "inlineDocumentTemplate", "inline": "x", "indexUid": index}}),
    )
    .body;
    assert_eq!(
        body["message"],
        "error while fetching template: parameter `index_uid` disallowed for kind `inlineDocumentTemplate`"
    );
}
