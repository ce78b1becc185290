//! `POST /render-template` (experimental flag `renderRoute`): renders a document template
//! (inline, an index's `chat.documentTemplate`, or an embedder's `documentTemplate`) on a
//! document (inline, or fetched from an index), with Meilisearch's request shape and errors
//! (`invalid_render_template`, `invalid_render_input`, `render_document_not_found`,
//! `template_parsing_error`, `template_rendering_error`). Rendering is
//! `engine::template`, the same code the chat's search tool uses. Needs `settings.get` and
//! `documents.get`, as in Meilisearch. Fragments (multimodal embedders) do not exist here.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use quarry_api_types::decode::{
    decode_string, decode_usize, expect_object, for_each_field, missing_field, unknown_value,
};
use quarry_api_types::index_uid::validate_index_uid;
use quarry_api_types::{Code, ResponseError};
use quarry_auth::Action;
use quarry_engine::template::{
    is_searchable_field, DocumentTemplate, DEFAULT_DOCUMENT_TEMPLATE,
    DEFAULT_DOCUMENT_TEMPLATE_MAX_BYTES,
};
use quarry_engine::IndexSettings;
use quarry_scheduler::Feature;
use serde_json::{json, Map, Value};

use super::blocking;
use crate::auth::{auth_error, invalid_api_key, Auth};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::AppState;

const TEMPLATE_KINDS: &[&str] = &[
    "documentTemplate",
    "chatDocumentTemplate",
    "indexingFragment",
    "searchFragment",
    "inlineDocumentTemplate",
    "inlineFragment",
];
const TEMPLATE_FIELDS: &[&str] = &[
    "kind",
    "indexUid",
    "embedder",
    "fragment",
    "inline",
    "documentTemplateMaxBytes",
];
const INPUT_KINDS: &[&str] = &["indexDocument", "inlineDocument", "inlineSearch"];
const INPUT_FIELDS: &[&str] = &["kind", "indexUid", "id", "inline"];

/// One decoded `template` or `input` object: its kind and which optional fields it has.
#[derive(Default)]
struct Part {
    kind: String,
    index_uid: Option<String>,
    embedder: Option<String>,
    fragment: Option<String>,
    id: Option<String>,
    inline: Option<Value>,
    max_bytes: Option<usize>,
}

fn decode_part(
    value: &Value,
    path: &str,
    code: Code,
    fields: &[&str],
    kinds: &[&str],
) -> Result<Part, ResponseError> {
    let object = expect_object(value, code, path)?;
    let mut part = Part::default();
    for_each_field(code, object, path, fields, |name, v, path| {
        if v.is_null() && name != "kind" {
            return Ok(());
        }
        match name {
            "kind" => {
                let kind = decode_string(v, code, path)?;
                if !kinds.contains(&kind.as_str()) {
                    return Err(unknown_value(code, path, &kind, kinds));
                }
                part.kind = kind;
            }
            "indexUid" => {
                let uid = decode_string(v, code, path)?;
                validate_index_uid(&uid).map_err(|e| ResponseError::new(code, e.message))?;
                part.index_uid = Some(uid);
            }
            "embedder" => part.embedder = Some(decode_string(v, code, path)?),
            "fragment" => part.fragment = Some(decode_string(v, code, path)?),
            "id" => {
                part.id = Some(match v {
                    Value::Number(n) => n.to_string(),
                    other => decode_string(other, code, path)?,
                })
            }
            "documentTemplateMaxBytes" => {
                let n = decode_usize(v, code, path)?;
                if n == 0 {
                    return Err(ResponseError::new(
                        code,
                        format!("Invalid value at `{path}`: expected a non-zero integer"),
                    ));
                }
                part.max_bytes = Some(n);
            }
            _ => part.inline = Some(v.clone()),
        }
        Ok(())
    })?;
    if part.kind.is_empty() {
        return Err(missing_field(code, path, "kind"));
    }
    Ok(part)
}

/// `parameter `x` disallowed for kind `k``, or missing, as Meilisearch words them.
fn parameter_error(code: Code, stage: &str, kind: &str, param: &str, missing: bool) -> ApiError {
    let what = if missing { "missing" } else { "disallowed" };
    ApiError::new(
        code,
        format!("error while fetching {stage}: parameter `{param}` {what} for kind `{kind}`"),
    )
}

/// Checks which optional fields a kind takes: `needed` must be there, `refused` must not.
fn check_parameters(
    part: &Part,
    code: Code,
    stage: &str,
    needed: &[&str],
    refused: &[&str],
) -> ApiResult<()> {
    let present = |name: &str| match name {
        "index_uid" | "indexUid" => part.index_uid.is_some(),
        "embedder" => part.embedder.is_some(),
        "fragment" => part.fragment.is_some(),
        "inline" => part.inline.is_some(),
        "id" => part.id.is_some(),
        "document_template_max_bytes" => part.max_bytes.is_some(),
        _ => false,
    };
    if let Some(param) = refused.iter().find(|p| present(p)) {
        return Err(parameter_error(code, stage, &part.kind, param, false));
    }
    if let Some(param) = needed.iter().find(|p| !present(p)) {
        return Err(parameter_error(code, stage, &part.kind, param, true));
    }
    Ok(())
}

/// A template ready to render, with the cap on its output.
struct Template {
    text: String,
    max_bytes: Option<usize>,
}

fn fetch_template(state: &AppState, part: &Part) -> ApiResult<Template> {
    let code = Code::InvalidRenderTemplate;
    let features = state.scheduler.experimental_features();
    let settings_of =
        |uid: &str| -> ApiResult<IndexSettings> { Ok(state.scheduler.index(uid)?.settings()) };
    match part.kind.as_str() {
        "documentTemplate" => {
            check_parameters(
                part,
                code,
                "template",
                &["index_uid", "embedder"],
                &["fragment", "inline"],
            )?;
            let (uid, name) = (
                part.index_uid.as_deref().unwrap_or_default(),
                part.embedder.as_deref().unwrap_or_default(),
            );
            let settings = settings_of(uid)?;
            let embedder = settings.embedders.get(name).ok_or_else(|| {
                ApiError::new(code, format!("error while fetching template: cannot find embedder `{name}` in index `{uid}`"))
            })?;
            let source = embedder
                .get("source")
                .and_then(Value::as_str)
                .unwrap_or("openAi");
            if matches!(source, "userProvided" | "composite") {
                return Err(ApiError::new(code, format!("error while fetching template: embedder `{name}` in index `{uid}` does not use a document template.")));
            }
            let text = embedder
                .get("documentTemplate")
                .and_then(Value::as_str)
                .unwrap_or(DEFAULT_DOCUMENT_TEMPLATE)
                .to_string();
            let stored = embedder
                .get("documentTemplateMaxBytes")
                .and_then(Value::as_u64)
                .map(|n| n as usize)
                .unwrap_or(DEFAULT_DOCUMENT_TEMPLATE_MAX_BYTES);
            Ok(Template {
                text,
                max_bytes: Some(part.max_bytes.unwrap_or(stored)),
            })
        }
        "chatDocumentTemplate" => {
            features.check(Feature::ChatCompletions, "accessing chat settings")?;
            check_parameters(
                part,
                code,
                "template",
                &["index_uid"],
                &["embedder", "fragment", "inline"],
            )?;
            let settings = settings_of(part.index_uid.as_deref().unwrap_or_default())?;
            Ok(Template {
                text: settings.chat.document_template.clone(),
                max_bytes: Some(
                    part.max_bytes
                        .unwrap_or(settings.chat.document_template_max_bytes),
                ),
            })
        }
        "inlineDocumentTemplate" => {
            check_parameters(
                part,
                code,
                "template",
                &["inline"],
                &["index_uid", "embedder", "fragment"],
            )?;
            let text = part
                .inline
                .as_ref()
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    ApiError::new(
                        code,
                        "error while fetching template: inline document templates must be strings",
                    )
                })?;
            Ok(Template {
                text: text.to_string(),
                max_bytes: part.max_bytes,
            })
        }
        // Fragments belong to multimodal embedders, which Quarry does not run.
        fragment => {
            let attempted = match fragment {
                "inlineFragment" => "rendering an inline fragment",
                _ => "accessing fragments",
            };
            features.check(Feature::Multimodal, attempted)?;
            Err(ApiError::new(code, format!("error while fetching template: `{fragment}` templates are not supported: no embedder uses fragments here")))
        }
    }
}

/// The document to render and the settings saying which of its fields are searchable.
fn fetch_input(
    state: &AppState,
    part: &Part,
) -> ApiResult<(Map<String, Value>, Option<IndexSettings>)> {
    let code = Code::InvalidRenderInput;
    match part.kind.as_str() {
        "indexDocument" => {
            check_parameters(part, code, "input", &["indexUid", "id"], &["inline"])?;
            let (uid, id) = (
                part.index_uid.as_deref().unwrap_or_default(),
                part.id.as_deref().unwrap_or_default(),
            );
            let index = state.scheduler.index(uid)?;
            let document = index.document(id)?.ok_or_else(|| {
                ApiError::new(
                    Code::RenderDocumentNotFound,
                    format!("error while fetching input: document `{id}` not found in `{uid}`"),
                )
            })?;
            Ok((document, Some(index.settings())))
        }
        "inlineDocument" => {
            check_parameters(part, code, "input", &["inline"], &["index_uid", "id"])?;
            match part.inline.as_ref() {
                Some(Value::Object(document)) => Ok((document.clone(), None)),
                Some(other) => Err(ApiError::new(code, format!("error while fetching input: parsing inline document: expected a map, found {other}\n  - Note: the inline document must be a JSON map"))),
                None => Err(parameter_error(code, "input", &part.kind, "inline", true)),
            }
        }
        _ => {
            state
                .scheduler
                .experimental_features()
                .check(Feature::Multimodal, "rendering search")?;
            Err(ApiError::new(Code::TemplateRenderingError, "error while rendering template: cannot render a document template with a search query"))
        }
    }
}

pub async fn render(
    State(state): State<AppState>,
    Auth(auth): Auth,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let object = expect_object(&body, Code::BadRequest, "")?;
    let mut template = None;
    let mut input = None;
    for_each_field(
        Code::BadRequest,
        object,
        "",
        &["template", "input"],
        |name, v, path| {
            match name {
                "template" => {
                    template = Some(decode_part(
                        v,
                        path,
                        Code::InvalidRenderTemplate,
                        TEMPLATE_FIELDS,
                        TEMPLATE_KINDS,
                    )?)
                }
                _ if v.is_null() => {}
                _ => {
                    input = Some(decode_part(
                        v,
                        path,
                        Code::InvalidRenderInput,
                        INPUT_FIELDS,
                        INPUT_KINDS,
                    )?)
                }
            }
            Ok(())
        },
    )?;
    let template =
        template.ok_or_else(|| missing_field(Code::InvalidRenderTemplate, "", "template"))?;

    // The route needs `documents.get` too, on every index the request names.
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let input_index = input.as_ref().and_then(|i| i.index_uid.clone());
    let mut named: Vec<&str> = [&template.index_uid, &input_index]
        .into_iter()
        .filter_map(|uid| uid.as_deref())
        .collect();
    named.dedup();
    for uid in &named {
        if !auth.is_index_authorized(uid) {
            return Err(invalid_api_key());
        }
    }
    let documents_index = named.first().copied();
    state
        .keys
        .read()
        .authorize(header, Action::DocumentsGet, documents_index)
        .map_err(auth_error)?;
    for uid in named.iter().skip(1) {
        state
            .keys
            .read()
            .authorize(header, Action::DocumentsGet, Some(uid))
            .map_err(auth_error)?;
    }
    state
        .scheduler
        .experimental_features()
        .check(Feature::RenderRoute, "calling the /render-template route")?;

    blocking(move || {
        let fetched = fetch_template(&state, &template)?;
        let parsed = DocumentTemplate::parse(&fetched.text).map_err(|e| {
            ApiError::new(
                Code::TemplateParsingError,
                format!("error while fetching template: {e}"),
            )
        })?;
        let rendered = match &input {
            None => Value::Null,
            Some(input) => {
                let (document, input_settings) = fetch_input(&state, input)?;
                let settings = match (input_settings, &template.index_uid) {
                    (Some(settings), _) => Some(settings),
                    (None, Some(uid)) => Some(state.scheduler.index(uid)?.settings()),
                    (None, None) => None,
                };
                let searchable = |field: &str| {
                    is_searchable_field(
                        settings
                            .as_ref()
                            .and_then(|s| s.searchable_attributes.as_deref()),
                        field,
                    )
                };
                let text = parsed
                    .render(&document, &searchable, fetched.max_bytes)
                    .map_err(|e| {
                        ApiError::new(
                            Code::TemplateRenderingError,
                            format!("error while rendering template: {e}"),
                        )
                    })?;
                Value::String(text)
            }
        };
        Ok(Json(
            json!({"template": fetched.text, "rendered": rendered}),
        ))
    })
    .await
}
