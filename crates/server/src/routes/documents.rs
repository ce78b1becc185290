//! Document routes. Writes stream the body into a normalized payload file, fsync it, and only
//! then register the task: a `202` means the documents are on disk.

use std::io::BufWriter;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::Json;
use quarry_api_types::documents::{
    AddDocumentsQuery, CustomMetadataQuery, DeleteBatchRequest, DeleteByFilterRequest,
    DocumentsQuery,
};
use quarry_api_types::Code;
use quarry_engine::documents::{
    normalize_payload_slice, validate_document_id, PayloadError, PayloadFormat,
};
use quarry_engine::settings::attribute_matches;
use quarry_scheduler::{DocumentMethod, TaskKind};
use serde_json::{json, Map, Value};

use super::{accepted, blocking, enqueue_with_metadata, index_uid};
use crate::error::{ApiError, ApiResult};
use crate::extract::{read_body, JsonBody, RawQuery};
use crate::AppState;

const ACCEPTED_TYPES: &str = "`application/json`, `application/x-ndjson`, `text/csv`";

fn payload_format(request: &Request<Body>, csv_delimiter: Option<u8>) -> ApiResult<PayloadFormat> {
    let Some(value) = request.headers().get(CONTENT_TYPE) else {
        return Err(ApiError::new(
            Code::MissingContentType,
            format!("A Content-Type header is missing. Accepted values for the Content-Type header are: {ACCEPTED_TYPES}"),
        ));
    };
    let raw = value.to_str().unwrap_or("");
    let mime = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let format = match mime.as_str() {
        "application/json" => PayloadFormat::Json,
        "application/x-ndjson" | "application/ndjson" => PayloadFormat::Ndjson,
        "text/csv" => PayloadFormat::Csv { delimiter: csv_delimiter.unwrap_or(b',') },
        _ => {
            return Err(ApiError::new(
                Code::InvalidContentType,
                format!("The Content-Type `{raw}` is invalid. Accepted values for the Content-Type header are: {ACCEPTED_TYPES}"),
            ))
        }
    };
    if csv_delimiter.is_some() && !matches!(format, PayloadFormat::Csv { .. }) {
        return Err(ApiError::new(
            Code::InvalidDocumentCsvDelimiter,
            "The Content-Type `application/json` does not support the use of a csv delimiter. The csv delimiter can only be used with the Content-Type `text/csv`.",
        ));
    }
    Ok(format)
}

async fn add_documents(
    state: AppState,
    uid: String,
    query: String,
    request: Request<Body>,
    method: DocumentMethod,
) -> ApiResult<impl IntoResponse> {
    index_uid(&uid)?;
    let params = AddDocumentsQuery::from_query_string(&query)?;
    let format = payload_format(&request, params.csv_delimiter)?;
    let body = read_body(request.into_body(), state.config.payload_size_limit).await?;
    let scheduler = state.scheduler.clone();
    let task = blocking(move || {
        let (payload, file) = scheduler.create_payload()?;
        let written = normalize_payload_slice(format, &body, BufWriter::new(&file));
        let summary = match written {
            Ok(summary) => summary,
            Err(e) => {
                scheduler.discard_payload(payload);
                return Err(match e {
                    PayloadError::Missing => ApiError::new(
                        Code::MissingPayload,
                        format!("A {} payload is missing.", format.name()),
                    ),
                    PayloadError::Malformed(message) => {
                        ApiError::new(Code::MalformedPayload, message)
                    }
                    PayloadError::Io(e)
                        if e.raw_os_error() == Some(28)
                            || e.kind() == std::io::ErrorKind::StorageFull =>
                    {
                        ApiError(quarry_scheduler::disk_full())
                    }
                    PayloadError::Io(e) => {
                        ApiError::new(Code::Internal, format!("writing the payload: {e}"))
                    }
                });
            }
        };
        if let Err(e) = scheduler.persist_payload(file) {
            scheduler.discard_payload(payload);
            return Err(e.into());
        }
        let kind = TaskKind::DocumentAdditionOrUpdate {
            index_uid: uid,
            primary_key: params.primary_key,
            method,
            payload,
            documents_count: summary.documents,
            allow_index_creation: true,
            skip_creation: params.skip_creation,
        };
        scheduler
            .register_with_metadata(kind, params.custom_metadata)
            .map_err(|e| {
                scheduler.discard_payload(payload);
                ApiError(e)
            })
    })
    .await?;
    Ok(accepted(&task))
}

pub async fn add_or_replace(
    State(state): State<AppState>,
    Path(uid): Path<String>,
    RawQuery(query): RawQuery,
    request: Request<Body>,
) -> ApiResult<impl IntoResponse> {
    add_documents(state, uid, query, request, DocumentMethod::Replace).await
}

pub async fn add_or_update(
    State(state): State<AppState>,
    Path(uid): Path<String>,
    RawQuery(query): RawQuery,
    request: Request<Body>,
) -> ApiResult<impl IntoResponse> {
    add_documents(state, uid, query, request, DocumentMethod::Update).await
}

pub async fn clear(
    State(state): State<AppState>,
    Path(uid): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<impl IntoResponse> {
    index_uid(&uid)?;
    let metadata = CustomMetadataQuery::from_query_string(&query)?.custom_metadata;
    enqueue_with_metadata(&state, TaskKind::DocumentClear { index_uid: uid }, metadata).await
}

pub async fn delete_batch(
    State(state): State<AppState>,
    Path(uid): Path<String>,
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    index_uid(&uid)?;
    let metadata = CustomMetadataQuery::from_query_string(&query)?.custom_metadata;
    let ids = DeleteBatchRequest::from_json(&body)?.0;
    enqueue_with_metadata(
        &state,
        TaskKind::DocumentDeletion {
            index_uid: uid,
            document_ids: ids,
        },
        metadata,
    )
    .await
}

/// `POST /documents/delete`: the filter's syntax is checked now; whether its attributes are
/// filterable is checked when the task runs, against the settings of that moment (a failed
/// task says `invalid_document_filter`), as Meilisearch does.
pub async fn delete_by_filter(
    State(state): State<AppState>,
    Path(uid): Path<String>,
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    index_uid(&uid)?;
    let metadata = CustomMetadataQuery::from_query_string(&query)?.custom_metadata;
    let request = DeleteByFilterRequest::from_json(&body)?;
    quarry_engine::filter::parse_filter_json(&request.filter)
        .map_err(|e| ApiError::new(Code::InvalidDocumentFilter, e.message))?;
    enqueue_with_metadata(
        &state,
        TaskKind::DocumentDeletionByFilter {
            index_uid: uid,
            filter: request.filter,
        },
        metadata,
    )
    .await
}

pub async fn delete_one(
    State(state): State<AppState>,
    Path((uid, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<impl IntoResponse> {
    index_uid(&uid)?;
    let metadata = CustomMetadataQuery::from_query_string(&query)?.custom_metadata;
    validate_document_id(&id).map_err(|e| ApiError::new(Code::InvalidDocumentId, e.message()))?;
    enqueue_with_metadata(
        &state,
        TaskKind::DocumentDeletion {
            index_uid: uid,
            document_ids: vec![id],
        },
        metadata,
    )
    .await
}

pub async fn get_one(
    State(state): State<AppState>,
    Path((uid, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    index_uid(&uid)?;
    let query = DocumentsQuery::from_query_string(&query)?;
    blocking(move || {
        let index = state.scheduler.index(&uid)?;
        let document = index.document(&id)?.ok_or_else(|| {
            ApiError::new(
                Code::DocumentNotFound,
                format!("Document `{id}` not found."),
            )
        })?;
        Ok(Json(Value::Object(with_vectors(
            document,
            query.fields.as_deref(),
            query.retrieve_vectors,
        ))))
    })
    .await
}

pub async fn browse(
    State(state): State<AppState>,
    Path(uid): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    index_uid(&uid)?;
    let query = DocumentsQuery::from_query_string(&query)?;
    documents_page(state, uid, query).await
}

pub async fn fetch(
    State(state): State<AppState>,
    Path(uid): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    index_uid(&uid)?;
    let query = DocumentsQuery::from_json(&body)?;
    documents_page(state, uid, query).await
}

async fn documents_page(
    state: AppState,
    uid: String,
    query: DocumentsQuery,
) -> ApiResult<Json<Value>> {
    blocking(move || {
        let index = state.scheduler.index(&uid)?;
        let settings = index.settings();
        let sort = match query.sort.as_deref() {
            Some(criteria) if !criteria.is_empty() => {
                quarry_engine::search::parse_sort_criteria(criteria, &settings)
                    .map_err(|e| ApiError::new(Code::InvalidDocumentSort, e.to_string()))?
            }
            _ => Vec::new(),
        };
        let filter = match &query.filter {
            Some(filter) => {
                let features = state.scheduler.experimental_features();
                super::search::check_contains_operator(filter, &features)?;
                let foreign = super::foreign_keys::foreign_indexes(&state.scheduler, &features);
                super::foreign_keys::parse_request_filter(
                    filter,
                    &settings,
                    foreign.as_ref(),
                    Code::InvalidDocumentFilter,
                )?
            }
            None => None,
        };
        let (documents, total) = match (&query.ids, &filter) {
            _ if !sort.is_empty() => index.documents_sorted(
                filter.as_ref(),
                query.ids.as_deref(),
                &sort,
                query.offset,
                query.limit,
            )?,
            (ids, Some(filter)) => {
                index.documents_matching(filter, ids.as_deref(), query.offset, query.limit)?
            }
            (Some(ids), None) => {
                let mut found = Vec::new();
                for id in ids {
                    if let Some(d) = index.document(id)? {
                        found.push(d);
                    }
                }
                let total = found.len() as u64;
                (found.into_iter().skip(query.offset).take(query.limit).collect(), total)
            }
            (None, None) => index.documents_page(query.offset, query.limit)?,
        };
        let results: Vec<Value> =
            documents.into_iter().map(|d| Value::Object(with_vectors(d, query.fields.as_deref(), query.retrieve_vectors))).collect();
        Ok(Json(json!({"results": results, "offset": query.offset, "limit": query.limit, "total": total})))
    })
    .await
}

/// A document as the document and search routes show it: the `fields` selected, and the
/// reserved `_vectors` field only with `retrieveVectors` (then always, `{}` when the document
/// gave none: Quarry computes no embeddings), whatever `fields` says, as in Meilisearch.
pub fn with_vectors(
    mut document: Map<String, Value>,
    fields: Option<&[String]>,
    retrieve_vectors: bool,
) -> Map<String, Value> {
    let vectors = document.remove("_vectors");
    let mut out = select_fields(document, fields);
    if retrieve_vectors {
        let vectors = match vectors {
            Some(Value::Object(vectors)) => vectors,
            _ => Map::new(),
        };
        out.insert("_vectors".into(), Value::Object(vectors));
    }
    out
}

/// Keeps the fields selected by `fields` (names or patterns); all fields when `None`.
pub fn select_fields(
    document: Map<String, Value>,
    fields: Option<&[String]>,
) -> Map<String, Value> {
    let Some(fields) = fields else {
        return document;
    };
    if fields.iter().any(|f| f == "*") {
        return document;
    }
    let mut out = Map::new();
    for (key, value) in document {
        if fields.iter().any(|f| attribute_matches(f, &key)) {
            out.insert(key, value);
        } else if let Value::Object(inner) = value {
            // `a.b` selects part of the object `a`.
            let prefix = format!("{key}.");
            let nested: Vec<String> = fields
                .iter()
                .filter_map(|f| f.strip_prefix(&prefix).map(str::to_string))
                .collect();
            if !nested.is_empty() {
                let selected = select_fields(inner, Some(&nested));
                if !selected.is_empty() {
                    out.insert(key, Value::Object(selected));
                }
            }
        }
    }
    out
}

/// `POST /indexes/{uid}/documents/edit`: a `documentEdition` task running a Rhai function on
/// the documents `filter` selects. Behind the `editDocumentsByFunction` experimental feature.
/// The function is compiled and the filter parsed before the task is enqueued.
pub async fn edit(
    State(state): State<AppState>,
    Path(uid): Path<String>,
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    use quarry_api_types::decode::{decode_string, expect_object, for_each_field, missing_field};
    index_uid(&uid)?;
    let metadata = CustomMetadataQuery::from_query_string(&query)?.custom_metadata;
    let object = expect_object(&body, Code::BadRequest, "")?;
    let (mut function, mut filter, mut context) = (None, None, None);
    for_each_field(
        Code::BadRequest,
        object,
        "",
        &["filter", "context", "function"],
        |name, value, path| {
            match name {
                "function" => {
                    function = Some(decode_string(
                        value,
                        Code::InvalidDocumentEditionFunctionFilter,
                        path,
                    )?)
                }
                "filter" => filter = Some(value.clone()).filter(|v| !v.is_null()),
                _ => context = Some(value.clone()).filter(|v| !v.is_null()),
            }
            Ok(())
        },
    )?;
    let function = function
        .ok_or_else(|| missing_field(Code::MissingDocumentEditionFunction, "", "function"))?;
    let features = state.scheduler.experimental_features();
    features.check(
        quarry_scheduler::Feature::EditDocumentsByFunction,
        "Using the documents edit route",
    )?;
    quarry_scheduler::edit::check_function(&function)
        .map_err(|message| ApiError::new(Code::BadRequest, message))?;
    if let Some(filter) = &filter {
        super::search::check_contains_operator(filter, &features)?;
        let parsed = quarry_engine::filter::parse_filter_json(filter)
            .map_err(|e| ApiError::new(Code::InvalidDocumentFilter, e.message))?;
        if parsed.is_none() {
            return Err(ApiError::new(
                Code::InvalidDocumentFilter,
                "Sending an empty filter is forbidden.",
            ));
        }
    }
    if context.as_ref().is_some_and(|c| !c.is_object()) {
        return Err(ApiError::new(
            Code::InvalidDocumentEditionContext,
            "The context must be an object",
        ));
    }
    enqueue_with_metadata(
        &state,
        TaskKind::DocumentEdition {
            index_uid: uid,
            filter,
            context,
            function,
        },
        metadata,
    )
    .await
}
