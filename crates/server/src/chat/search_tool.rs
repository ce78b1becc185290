//! The `_meiliSearchInIndex` tool: its definition (which indexes, what they hold, which
//! values their filterable fields take, all worded by the workspace's prompts) and its
//! execution. Both see only the indexes the caller's key may `search`, with its tenant-token
//! filter, and a search runs through `perform_search` like `/indexes/{uid}/search`.

use quarry_api_types::chat::ChatPrompts;
use quarry_api_types::search::SearchQuery;
use quarry_api_types::{Code, ResponseError};
use quarry_auth::{Action, AuthContext};
use quarry_engine::template::{is_searchable_field, DocumentTemplate};
use quarry_engine::Index;
use serde_json::{json, Map, Value};

use super::SEARCH_IN_INDEX;
use crate::routes::search::{apply_tenant_filter, perform_search, SearchEnv};
use crate::AppState;

/// Values of each filterable field shown to the model.
const FACET_VALUES_SHOWN: usize = 10;

/// The authorization of a `search` on `index` by the caller's header, if it may search it.
fn search_context(
    state: &AppState,
    authorization: Option<&str>,
    index: &str,
) -> Option<AuthContext> {
    state
        .keys
        .read()
        .authorize(authorization, Action::Search, Some(index))
        .ok()
}

/// Runs one search of `body` on `index` as `/indexes/{uid}/search` would for this caller.
fn search(
    state: &AppState,
    context: &AuthContext,
    uid: &str,
    index: &Index,
    body: &Value,
) -> Result<Value, ResponseError> {
    let mut query = SearchQuery::from_json(body)?;
    apply_tenant_filter(context, uid, &mut query).map_err(|e| e.0)?;
    let env = SearchEnv::of(&state.scheduler);
    perform_search(index, uid, &query, &env).map_err(|e| e.0)
}

/// The tool definition sent to the model.
pub fn definition(state: &AppState, authorization: Option<&str>, prompts: &ChatPrompts) -> Value {
    let mut description = prompts.search_description.clone();
    let mut filter_description = prompts.search_filter_param.clone();
    let mut uids = Vec::new();
    for (info, index) in state.scheduler.indexes() {
        let Some(context) = search_context(state, authorization, &info.uid) else {
            continue;
        };
        let settings = index.settings();
        description.push_str(&format!(
            "\n\n - {}: {}\n",
            info.uid, settings.chat.description
        ));
        if !settings.filterable_attributes.is_empty() {
            let facets = search(
                state,
                &context,
                &info.uid,
                &index,
                &json!({"limit": 0, "facets": ["*"]}),
            )
            .ok()
            .and_then(|answer| answer.get("facetDistribution").cloned());
            filter_description.push_str(&format!(
                "\n## Facet distributions of the {} index\n{}",
                info.uid,
                facet_lines(facets.as_ref())
            ));
        }
        uids.push(info.uid);
    }
    json!({
        "type": "function",
        "function": {
            "name": SEARCH_IN_INDEX,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": {
                    "index_uid": {
                        "type": "string",
                        "enum": uids,
                        "description": prompts.search_index_uid_param,
                    },
                    "q": {"type": "string", "description": prompts.search_q_param},
                    "filter": {"type": "string", "description": filter_description},
                },
                "required": ["index_uid", "q", "filter"],
                "additionalProperties": false,
            },
            "strict": true,
        }
    })
}

/// `field: value, value.` lines, the most frequent values first.
fn facet_lines(distribution: Option<&Value>) -> String {
    let mut out = String::new();
    let Some(Value::Object(fields)) = distribution else {
        return out;
    };
    for (field, values) in fields {
        let Value::Object(values) = values else {
            continue;
        };
        let mut counted: Vec<(&String, u64)> = values
            .iter()
            .map(|(value, count)| (value, count.as_u64().unwrap_or(0)))
            .collect();
        counted.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
        let shown: Vec<&str> = counted
            .iter()
            .take(FACET_VALUES_SHOWN)
            .map(|(value, _)| value.as_str())
            .collect();
        out.push_str(&format!("{field}: {}.\n", shown.join(", ")));
    }
    out
}

/// What a search call found: the documents (for `_meiliSearchSources`) and their rendering
/// (for the model).
pub struct Found {
    pub documents: Vec<Value>,
    pub text: String,
}

/// Why a call gave no documents: arguments the model got wrong (told to the model only), or
/// a failed search (told to the model and to the client).
pub enum ToolFailure {
    Arguments(String),
    Search(ResponseError),
}

#[derive(serde::Deserialize)]
struct Arguments {
    index_uid: String,
    q: Option<String>,
    filter: Option<String>,
}

/// Runs one `_meiliSearchInIndex` call (blocking: call it off the async runtime).
pub fn run(
    state: &AppState,
    authorization: Option<&str>,
    arguments: &str,
) -> Result<Found, ToolFailure> {
    let arguments: Arguments =
        serde_json::from_str(arguments).map_err(|e| ToolFailure::Arguments(e.to_string()))?;
    let uid = arguments.index_uid;
    let context = search_context(state, authorization, &uid).ok_or_else(|| {
        ToolFailure::Search(ResponseError::new(
            Code::InvalidApiKey,
            "The provided API key is invalid.",
        ))
    })?;
    let index = state.scheduler.index(&uid).map_err(ToolFailure::Search)?;
    let settings = index.settings();
    let mut body: Map<String, Value> = settings.chat.search_parameters.clone();
    // No vector search here: a preset `hybrid` would make every search fail.
    body.remove("hybrid");
    body.insert("q".into(), Value::from(arguments.q.unwrap_or_default()));
    if let Some(filter) = arguments.filter.filter(|f| !f.trim().is_empty()) {
        body.insert("filter".into(), Value::from(filter));
    }
    let answer =
        search(state, &context, &uid, &index, &Value::Object(body)).map_err(ToolFailure::Search)?;
    let documents: Vec<Value> = answer
        .get("hits")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let template = DocumentTemplate::parse(&settings.chat.document_template).map_err(|e| {
        ToolFailure::Search(ResponseError::new(
            Code::InvalidChatSettingDocumentTemplate,
            e.to_string(),
        ))
    })?;
    let searchable =
        |field: &str| is_searchable_field(settings.searchable_attributes.as_deref(), field);
    let mut rendered = Vec::with_capacity(documents.len());
    for document in &documents {
        let Value::Object(document) = document else {
            continue;
        };
        let text = template
            .render(
                document,
                &searchable,
                Some(settings.chat.document_template_max_bytes),
            )
            .map_err(|e| {
                ToolFailure::Search(ResponseError::new(
                    Code::InvalidChatSettingDocumentTemplate,
                    e.to_string(),
                ))
            })?;
        rendered.push(text);
    }
    Ok(Found {
        documents,
        text: rendered.join("\n"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facet_lines_show_frequent_values_first() {
        let distribution = json!({"genres": {"Drama": 3, "Action": 7}, "year": {"1999": 1}});
        assert_eq!(
            facet_lines(Some(&distribution)),
            "genres: Action, Drama.\nyear: 1999.\n"
        );
        assert_eq!(facet_lines(None), "");
    }
}
