//! `GET/POST /webhooks` and `GET/PATCH/DELETE /webhooks/{uuid}`: the endpoints told about
//! finished tasks, with Meilisearch's validation (20 webhooks, 200 headers, a parseable URL,
//! valid header names and values) and its errors. Changes are stored before they are
//! answered; the webhook of `--task-webhook-url` is listed with the nil uuid and cannot be
//! changed. `Authorization` values are never shown whole.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use quarry_api_types::decode::{decode_string, expect_object, invalid_type, unknown_field};
use quarry_api_types::{Code, ResponseError};
use quarry_scheduler::webhooks::{Webhook, MAX_HEADERS, MAX_WEBHOOKS};
use serde_json::{json, Value};
use uuid::Uuid;

use super::blocking;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::AppState;

/// A change to a webhook's headers: set a value, or remove it (`null`).
type HeadersPatch = BTreeMap<String, Option<String>>;

/// A decoded `POST`/`PATCH` body: `None` leaves a part as it is, `Some(None)` is `null`.
#[derive(Default)]
struct WebhookSettings {
    url: Option<Option<String>>,
    headers: Option<Option<HeadersPatch>>,
}

const FIELDS: &[&str] = &["url", "headers"];

fn decode(body: &Value) -> Result<WebhookSettings, ResponseError> {
    let object = expect_object(body, Code::BadRequest, "")?;
    let mut settings = WebhookSettings::default();
    for (name, value) in object {
        let path = format!(".{name}");
        match name.as_str() {
            "url" => {
                settings.url = Some(match value {
                    Value::Null => None,
                    other => Some(decode_string(other, Code::InvalidWebhookUrl, &path)?),
                })
            }
            "headers" => {
                settings.headers = Some(match value {
                    Value::Null => None,
                    Value::Object(headers) => {
                        let mut patch = HeadersPatch::new();
                        for (header, value) in headers {
                            let at = format!("{path}.{header}");
                            let value = match value {
                                Value::Null => None,
                                other => {
                                    Some(decode_string(other, Code::InvalidWebhookHeaders, &at)?)
                                }
                            };
                            patch.insert(header.clone(), value);
                        }
                        Some(patch)
                    }
                    other => {
                        return Err(invalid_type(
                            Code::InvalidWebhookHeaders,
                            &path,
                            "an object",
                            other,
                        ))
                    }
                })
            }
            "uuid" => return Err(immutable("uuid", Code::ImmutableWebhookUuid)),
            "isEditable" => return Err(immutable("isEditable", Code::ImmutableWebhookIsEditable)),
            other => return Err(unknown_field(Code::BadRequest, "", other, FIELDS)),
        }
    }
    Ok(settings)
}

fn immutable(field: &str, code: Code) -> ResponseError {
    ResponseError::new(
        code,
        format!("Immutable field `{field}`: expected one of `url`, `headers`"),
    )
}

fn parse_uuid(raw: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(raw)
        .map_err(|e| ApiError::new(Code::InvalidWebhookUuid, format!("Invalid UUID: {e}")))
}

fn not_found(uuid: &Uuid) -> ResponseError {
    ResponseError::new(
        Code::WebhookNotFound,
        format!("Webhook `{uuid}` not found."),
    )
}

fn immutable_webhook(uuid: &Uuid) -> ApiError {
    ApiError::new(
        Code::ImmutableWebhook,
        format!("Webhook `{uuid}` is immutable. The webhook defined from the command line cannot be modified using the API."),
    )
}

fn too_many_headers(uuid: &Uuid) -> ResponseError {
    ResponseError::new(
        Code::InvalidWebhookHeaders,
        format!("Too many headers for the webhook `{uuid}`. Please limit the number of headers to {MAX_HEADERS}. Hint: To remove an already defined header set its value to `null`"),
    )
}

/// Checks a webhook about to be stored.
fn check(uuid: &Uuid, webhook: &Webhook) -> Result<(), ResponseError> {
    if webhook.url.is_empty() {
        return Err(missing_url(uuid));
    }
    if webhook.headers.len() > MAX_HEADERS {
        return Err(too_many_headers(uuid));
    }
    for (name, value) in &webhook.headers {
        if let Err(e) = check_header_name(name) {
            return Err(ResponseError::new(
                Code::InvalidWebhookHeaders,
                format!("Invalid header name `{name}`: {e}"),
            ));
        }
        if let Err(e) = axum::http::HeaderValue::from_str(value) {
            return Err(ResponseError::new(
                Code::InvalidWebhookHeaders,
                format!("Invalid header value `{name}`: {e}"),
            ));
        }
    }
    match url_check(&webhook.url) {
        Ok(()) => Ok(()),
        Err(e) => Err(ResponseError::new(
            Code::InvalidWebhookUrl,
            format!("Invalid URL `{}`: {e}", webhook.url),
        )),
    }
}

fn check_header_name(name: &str) -> Result<(), axum::http::header::InvalidHeaderName> {
    axum::http::HeaderName::from_bytes(name.as_bytes()).map(drop)
}

/// An absolute URL with a scheme and a host.
fn url_check(url: &str) -> Result<(), String> {
    let uri: axum::http::Uri = url.parse().map_err(|e| format!("{e}"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(host)) if !host.is_empty() => Ok(()),
        (Some(_), Some(_)) => Err("the scheme must be `http` or `https`".into()),
        _ => Err("relative URL without a base".into()),
    }
}

fn missing_url(uuid: &Uuid) -> ResponseError {
    ResponseError::new(
        Code::InvalidWebhookUrl,
        format!("The URL for the webhook `{uuid}` is missing."),
    )
}

pub async fn list(State(state): State<AppState>) -> Json<Value> {
    let (cli, registered) = state.scheduler.webhooks();
    let results: Vec<Value> = cli
        .iter()
        .map(|w| w.view(&Uuid::nil()))
        .chain(registered.iter().map(|(uuid, w)| w.view(uuid)))
        .collect();
    Json(json!({ "results": results }))
}

pub async fn get_one(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
) -> ApiResult<Json<Value>> {
    let uuid = parse_uuid(&uuid)?;
    let (cli, registered) = state.scheduler.webhooks();
    let webhook = if uuid.is_nil() {
        cli
    } else {
        registered.get(&uuid).cloned()
    };
    match webhook {
        Some(webhook) => Ok(Json(webhook.view(&uuid))),
        None => Err(not_found(&uuid).into()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let settings = decode(&body)?;
    let uuid = Uuid::new_v4();
    let headers: BTreeMap<String, String> = settings
        .headers
        .flatten()
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| (name, value.unwrap_or_default()))
        .collect();
    if headers.len() > MAX_HEADERS {
        return Err(too_many_headers(&uuid).into());
    }
    let url = settings.url.flatten();
    blocking(move || {
        let webhook = state.scheduler.update_webhooks(|registered| {
            if registered.len() >= MAX_WEBHOOKS {
                return Err(ResponseError::new(
                    Code::InvalidWebhooks,
                    format!("Defining too many webhooks would crush the server. Please limit the number of webhooks to {MAX_WEBHOOKS}. You may use a third-party proxy server to dispatch events to more than {MAX_WEBHOOKS} endpoints."),
                ));
            }
            let webhook = Webhook {
                url: url.ok_or_else(|| missing_url(&uuid))?,
                headers,
            };
            check(&uuid, &webhook)?;
            registered.insert(uuid, webhook.clone());
            Ok(webhook)
        })?;
        Ok((StatusCode::CREATED, Json(webhook.view(&uuid))))
    })
    .await
}

pub async fn update(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let uuid = parse_uuid(&uuid)?;
    let settings = decode(&body)?;
    if uuid.is_nil() {
        return Err(immutable_webhook(&uuid));
    }
    blocking(move || {
        let webhook = state.scheduler.update_webhooks(|registered| {
            let mut webhook = registered
                .get(&uuid)
                .cloned()
                .ok_or_else(|| not_found(&uuid))?;
            match settings.url {
                Some(Some(url)) => webhook.url = url,
                Some(None) => return Err(missing_url(&uuid)),
                None => {}
            }
            match settings.headers {
                Some(Some(patch)) => {
                    for (name, value) in patch {
                        match value {
                            Some(value) => {
                                webhook.headers.insert(name, value);
                            }
                            None => {
                                webhook.headers.remove(&name);
                            }
                        }
                    }
                }
                Some(None) => webhook.headers.clear(),
                None => {}
            }
            check(&uuid, &webhook)?;
            registered.insert(uuid, webhook.clone());
            Ok(webhook)
        })?;
        Ok(Json(webhook.view(&uuid)))
    })
    .await
}

pub async fn delete(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
) -> ApiResult<StatusCode> {
    let uuid = parse_uuid(&uuid)?;
    if uuid.is_nil() {
        return Err(immutable_webhook(&uuid));
    }
    blocking(move || {
        state.scheduler.update_webhooks(|registered| {
            registered
                .remove(&uuid)
                .map(drop)
                .ok_or_else(|| not_found(&uuid))
        })?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}
