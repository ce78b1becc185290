//! API key management: `GET/POST /keys`, `GET/PATCH/DELETE /keys/{uidOrKey}`, with
//! Meilisearch's body validation and error codes. Keys are persisted by the auth crate's
//! [`quarry_auth::PersistentKeyStore`] before a route answers. Key values are derived and
//! returned to the caller but never logged.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use quarry_api_types::decode::{
    expect_array, expect_object, for_each_field, for_each_param, index_path, invalid_type,
    invalid_value, missing_field, parse_query_string, parse_usize_param, unknown_field,
    unknown_value,
};
use quarry_api_types::{Code, ResponseError};
use quarry_auth::{Action, ApiKey, IndexPattern, PersistError};
use quarry_scheduler::view::format_date;
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

use super::blocking;
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, RawQuery};
use crate::AppState;

const DEFAULT_LIMIT: usize = 20;

fn key_view(state: &AppState, key: &ApiKey) -> Value {
    let value = state.keys.read().key_value(&key.uid);
    json!({
        "name": key.name,
        "description": key.description,
        "key": value,
        "uid": key.uid,
        "actions": key.actions,
        "indexes": key.indexes,
        "expiresAt": key.expires_at.map(format_date),
        "createdAt": format_date(key.created_at),
        "updatedAt": format_date(key.updated_at),
    })
}

fn not_found(uid_or_key: &str) -> ApiError {
    ApiError::new(
        Code::ApiKeyNotFound,
        format!("API key `{uid_or_key}` not found."),
    )
}

fn storage_error(e: PersistError) -> ApiError {
    tracing::error!(error = %e, "writing the API key store failed");
    ApiError::new(Code::Internal, "An internal error occurred.")
}

pub async fn list(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let params = parse_query_string(&query);
    let (mut offset, mut limit) = (0, DEFAULT_LIMIT);
    for_each_param(&params, &["offset", "limit"], |name, value| {
        match name {
            "offset" => offset = parse_usize_param(value, Code::InvalidApiKeyOffset, name)?,
            _ => limit = parse_usize_param(value, Code::InvalidApiKeyLimit, name)?,
        }
        Ok(())
    })?;
    let keys = state.keys.all_keys();
    let results: Vec<Value> = keys
        .iter()
        .skip(offset)
        .take(limit)
        .map(|k| key_view(&state, k))
        .collect();
    Ok(Json(
        json!({"results": results, "offset": offset, "limit": limit, "total": keys.len()}),
    ))
}

pub async fn get_one(
    State(state): State<AppState>,
    Path(uid_or_key): Path<String>,
) -> ApiResult<Json<Value>> {
    let key = state.keys.read().get_by_uid_or_value(&uid_or_key).cloned();
    let key = key.ok_or_else(|| not_found(&uid_or_key))?;
    Ok(Json(key_view(&state, &key)))
}

pub async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let key = decode_create(&body, OffsetDateTime::now_utc())?;
    let uid = key.uid;
    let keys = state.keys.clone();
    let created = blocking(move || keys.create_key(key).map_err(storage_error)).await?;
    if !created {
        return Err(ApiError::new(
            Code::ApiKeyAlreadyExists,
            format!("`{uid}` already exists."),
        ));
    }
    let key = state.keys.read().get(&uid).cloned();
    let key = key.ok_or_else(|| not_found(&uid.to_string()))?;
    Ok((StatusCode::CREATED, Json(key_view(&state, &key))))
}

pub async fn update(
    State(state): State<AppState>,
    Path(uid_or_key): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let patch = decode_patch(&body)?;
    let keys = state.keys.clone();
    let lookup = uid_or_key.clone();
    let updated = blocking(move || {
        keys.update_key(&lookup, |key| {
            if let Some(name) = patch.name {
                key.name = name;
            }
            if let Some(description) = patch.description {
                key.description = description;
            }
            key.updated_at = OffsetDateTime::now_utc();
        })
        .map_err(storage_error)
    })
    .await?;
    let key = updated.ok_or_else(|| not_found(&uid_or_key))?;
    Ok(Json(key_view(&state, &key)))
}

pub async fn delete(
    State(state): State<AppState>,
    Path(uid_or_key): Path<String>,
) -> ApiResult<StatusCode> {
    let keys = state.keys.clone();
    let lookup = uid_or_key.clone();
    let deleted = blocking(move || keys.delete_key(&lookup).map_err(storage_error)).await?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&uid_or_key))
    }
}

// ------------------------------------------------------------------------------------------------
// Decoding.
// ------------------------------------------------------------------------------------------------

const CREATE_FIELDS: &[&str] = &[
    "description",
    "name",
    "uid",
    "actions",
    "indexes",
    "expiresAt",
];
const PATCH_FIELDS: &[&str] = &["description", "name"];

fn decode_optional_string(
    value: &Value,
    code: Code,
    path: &str,
) -> Result<Option<String>, ResponseError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        other => Err(invalid_type(code, path, "a string", other)),
    }
}

fn decode_actions(value: &Value, path: &str) -> Result<Vec<Action>, ResponseError> {
    let code = Code::InvalidApiKeyActions;
    let items = expect_array(value, code, path)?;
    let names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
    let mut actions = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = index_path(path, i);
        let name = item
            .as_str()
            .ok_or_else(|| invalid_type(code, &at, "a string", item))?;
        let action = Action::parse(name).ok_or_else(|| unknown_value(code, &at, name, &names))?;
        if !actions.contains(&action) {
            actions.push(action);
        }
    }
    Ok(actions)
}

fn decode_indexes(value: &Value, path: &str) -> Result<Vec<IndexPattern>, ResponseError> {
    let code = Code::InvalidApiKeyIndexes;
    let items = expect_array(value, code, path)?;
    let mut patterns = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = index_path(path, i);
        let text = item
            .as_str()
            .ok_or_else(|| invalid_type(code, &at, "a string", item))?;
        let pattern = IndexPattern::parse(text).map_err(|_| {
            invalid_value(
                code,
                &at,
                &format!("`{text}` is not a valid index uid pattern. An index pattern is `*`, or 1 to 400 characters among a-z, A-Z, 0-9, `-` and `_`, optionally followed by `*`."),
            )
        })?;
        if !patterns.contains(&pattern) {
            patterns.push(pattern);
        }
    }
    Ok(patterns)
}

/// Parses an expiry date: RFC 3339, or `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS`,
/// `YYYY-MM-DD HH:MM:SS` taken as UTC.
pub fn parse_expiry(text: &str) -> Option<OffsetDateTime> {
    if let Ok(date) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(date);
    }
    let with_t = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let with_space = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    for format in [with_t, with_space] {
        if let Ok(date) = PrimitiveDateTime::parse(text, format) {
            return Some(date.assume_utc());
        }
    }
    let day = format_description!("[year]-[month]-[day]");
    time::Date::parse(text, day)
        .ok()
        .map(|d| d.midnight().assume_utc())
}

fn decode_expiry(
    value: &Value,
    path: &str,
    now: OffsetDateTime,
) -> Result<Option<OffsetDateTime>, ResponseError> {
    let code = Code::InvalidApiKeyExpiresAt;
    let text = match value {
        Value::Null => return Ok(None),
        Value::String(s) => s,
        other => return Err(invalid_type(code, path, "a string", other)),
    };
    match parse_expiry(text) {
        Some(date) if date > now => Ok(Some(date)),
        _ => Err(invalid_value(
            code,
            path,
            &format!("`{text}` is not a valid date. Expected a date in the future written in RFC 3339 format, `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS` or `YYYY-MM-DD HH:MM:SS`, or null."),
        )),
    }
}

/// Decodes a `POST /keys` body into a new key record.
pub fn decode_create(body: &Value, now: OffsetDateTime) -> Result<ApiKey, ResponseError> {
    let object = expect_object(body, Code::BadRequest, "")?;
    let mut key = ApiKey {
        uid: Uuid::new_v4(),
        name: None,
        description: None,
        actions: Vec::new(),
        indexes: Vec::new(),
        expires_at: None,
        created_at: now,
        updated_at: now,
    };
    let (mut actions, mut indexes, mut expires) = (false, false, false);
    for_each_field(
        Code::BadRequest,
        object,
        "",
        CREATE_FIELDS,
        |field, value, path| {
            match field {
                "description" => {
                    key.description =
                        decode_optional_string(value, Code::InvalidApiKeyDescription, path)?
                }
                "name" => key.name = decode_optional_string(value, Code::InvalidApiKeyName, path)?,
                "uid" => {
                    let text = value.as_str().ok_or_else(|| {
                        invalid_type(Code::InvalidApiKeyUid, path, "a string", value)
                    })?;
                    key.uid = Uuid::parse_str(text)
                        .map_err(|e| invalid_value(Code::InvalidApiKeyUid, path, &e.to_string()))?;
                }
                "actions" => {
                    key.actions = decode_actions(value, path)?;
                    actions = true;
                }
                "indexes" => {
                    key.indexes = decode_indexes(value, path)?;
                    indexes = true;
                }
                _ => {
                    key.expires_at = decode_expiry(value, path, now)?;
                    expires = true;
                }
            }
            Ok(())
        },
    )?;
    if !actions {
        return Err(missing_field(Code::MissingApiKeyActions, "", "actions"));
    }
    if !indexes {
        return Err(missing_field(Code::MissingApiKeyIndexes, "", "indexes"));
    }
    if !expires {
        return Err(missing_field(Code::MissingApiKeyExpiresAt, "", "expiresAt"));
    }
    Ok(key)
}

/// The fields a `PATCH /keys/{key}` may change; `Some(None)` sets the field to null.
#[derive(Debug, Default, PartialEq)]
pub struct KeyPatch {
    pub name: Option<Option<String>>,
    pub description: Option<Option<String>>,
}

/// Decodes a `PATCH /keys/{key}` body: only `name` and `description` may change.
pub fn decode_patch(body: &Value) -> Result<KeyPatch, ResponseError> {
    let object: &Map<String, Value> = expect_object(body, Code::BadRequest, "")?;
    let mut patch = KeyPatch::default();
    for (field, value) in object {
        let path = format!(".{field}");
        let immutable = match field.as_str() {
            "name" => {
                patch.name = Some(decode_optional_string(
                    value,
                    Code::InvalidApiKeyName,
                    &path,
                )?);
                continue;
            }
            "description" => {
                patch.description = Some(decode_optional_string(
                    value,
                    Code::InvalidApiKeyDescription,
                    &path,
                )?);
                continue;
            }
            "uid" => Code::ImmutableApiKeyUid,
            "key" => Code::ImmutableApiKeyKey,
            "actions" => Code::ImmutableApiKeyActions,
            "indexes" => Code::ImmutableApiKeyIndexes,
            "expiresAt" => Code::ImmutableApiKeyExpiresAt,
            "createdAt" => Code::ImmutableApiKeyCreatedAt,
            "updatedAt" => Code::ImmutableApiKeyUpdatedAt,
            _ => return Err(unknown_field(Code::BadRequest, "", field, PATCH_FIELDS)),
        };
        return Err(ResponseError::new(
            immutable,
            format!("Immutable field `{field}`: expected one of `description`, `name`"),
        ));
    }
    Ok(patch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
    }

    #[test]
    fn create_errors() {
        let cases: &[(Value, Code)] = &[
            (json!([]), Code::BadRequest),
            (
                json!({"indexes": ["*"], "expiresAt": null}),
                Code::MissingApiKeyActions,
            ),
            (
                json!({"actions": ["*"], "expiresAt": null}),
                Code::MissingApiKeyIndexes,
            ),
            (
                json!({"actions": ["*"], "indexes": ["*"]}),
                Code::MissingApiKeyExpiresAt,
            ),
            (
                json!({"actions": "search", "indexes": ["*"], "expiresAt": null}),
                Code::InvalidApiKeyActions,
            ),
            (
                json!({"actions": ["doggo"], "indexes": ["*"], "expiresAt": null}),
                Code::InvalidApiKeyActions,
            ),
            (
                json!({"actions": ["*"], "indexes": ["a b"], "expiresAt": null}),
                Code::InvalidApiKeyIndexes,
            ),
            (
                json!({"actions": ["*"], "indexes": [1], "expiresAt": null}),
                Code::InvalidApiKeyIndexes,
            ),
            (
                json!({"actions": ["*"], "indexes": ["*"], "expiresAt": "2000-01-01"}),
                Code::InvalidApiKeyExpiresAt,
            ),
            (
                json!({"actions": ["*"], "indexes": ["*"], "expiresAt": "tomorrow"}),
                Code::InvalidApiKeyExpiresAt,
            ),
            (
                json!({"actions": ["*"], "indexes": ["*"], "expiresAt": 12}),
                Code::InvalidApiKeyExpiresAt,
            ),
            (
                json!({"actions": ["*"], "indexes": ["*"], "expiresAt": null, "uid": "x"}),
                Code::InvalidApiKeyUid,
            ),
            (
                json!({"actions": ["*"], "indexes": ["*"], "expiresAt": null, "name": 1}),
                Code::InvalidApiKeyName,
            ),
            (
                json!({"actions": ["*"], "indexes": ["*"], "expiresAt": null, "description": []}),
                Code::InvalidApiKeyDescription,
            ),
            (
                json!({"actions": ["*"], "indexes": ["*"], "expiresAt": null, "key": "x"}),
                Code::BadRequest,
            ),
        ];
        for (body, code) in cases {
            let err = decode_create(body, now()).unwrap_err();
            assert_eq!(err.code, *code, "{body}: {}", err.message);
        }
    }

    #[test]
    fn create_ok_and_dates() {
        let key = decode_create(
            &json!({"uid": "01b4bc42-eb33-4041-b481-254d00cce834", "name": "n", "actions": ["search", "search"], "indexes": ["mov*"], "expiresAt": "2030-01-01 10:00:00"}),
            now(),
        )
        .unwrap();
        assert_eq!(key.actions, vec![Action::Search]);
        assert_eq!(key.indexes, vec![IndexPattern::Prefix("mov".into())]);
        assert_eq!(key.expires_at.unwrap().year(), 2030);
        for text in [
            "2030-01-01",
            "2030-01-01T00:00:00",
            "2030-01-01T00:00:00Z",
            "2030-01-01T00:00:00+02:00",
        ] {
            assert!(parse_expiry(text).is_some(), "{text}");
        }
        for text in ["2030-13-01", "01/01/2030", ""] {
            assert!(parse_expiry(text).is_none(), "{text}");
        }
    }

    #[test]
    fn patch_rules() {
        assert_eq!(
            decode_patch(&json!({"name": "a", "description": null})).unwrap(),
            KeyPatch {
                name: Some(Some("a".into())),
                description: Some(None)
            }
        );
        let cases = [
            ("uid", Code::ImmutableApiKeyUid),
            ("key", Code::ImmutableApiKeyKey),
            ("actions", Code::ImmutableApiKeyActions),
            ("indexes", Code::ImmutableApiKeyIndexes),
            ("expiresAt", Code::ImmutableApiKeyExpiresAt),
            ("createdAt", Code::ImmutableApiKeyCreatedAt),
            ("updatedAt", Code::ImmutableApiKeyUpdatedAt),
            ("doggo", Code::BadRequest),
        ];
        for (field, code) in cases {
            let err = decode_patch(&json!({ field: 1 })).unwrap_err();
            assert_eq!(err.code, code, "{field}");
        }
        assert_eq!(
            decode_patch(&json!({"name": 3})).unwrap_err().code,
            Code::InvalidApiKeyName
        );
    }
}
