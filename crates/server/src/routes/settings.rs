//! Settings routes: the whole object and one route per key. Updates are tasks; reads show the
//! resolved settings with Meilisearch's defaults.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::Json;
use quarry_api_types::settings::{embedders, Setting, Settings, SETTINGS_ROUTES};
use quarry_api_types::Code;
use quarry_scheduler::settings_apply::to_wire;
use quarry_scheduler::{Feature, TaskKind};
use serde_json::Value;

use super::{enqueue, index_uid};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::AppState;

fn known_route(route: &str) -> ApiResult<()> {
    if SETTINGS_ROUTES.iter().any(|(r, _, _)| *r == route) {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::NotFound,
            "The requested route does not exist.",
        ))
    }
}

pub async fn get_all(
    State(state): State<AppState>,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    index_uid(&uid)?;
    let index = state.scheduler.index(&uid)?;
    let mut body = to_wire(&index.settings()).to_json();
    if let Some(embedders) = body.get_mut("embedders") {
        embedders::hide_api_keys(embedders);
    }
    // As in Meilisearch, the `chat` and `foreignKeys` keys show only once their experimental
    // features are enabled.
    let features = state.scheduler.experimental_features();
    if let Some(object) = body.as_object_mut() {
        if !features.is_enabled(Feature::ChatCompletions) {
            object.remove("chat");
        }
        if !features.is_enabled(Feature::ForeignKeys) {
            object.remove("foreignKeys");
        }
    }
    Ok(Json(body))
}

pub async fn update_all(
    State(state): State<AppState>,
    Path(uid): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    index_uid(&uid)?;
    let settings = Settings::from_json(&body)?;
    enqueue_settings(&state, uid, settings).await
}

pub async fn reset_all(
    State(state): State<AppState>,
    Path(uid): Path<String>,
) -> ApiResult<impl IntoResponse> {
    index_uid(&uid)?;
    enqueue_settings(&state, uid, Settings::reset_all()).await
}

pub async fn get_one(
    State(state): State<AppState>,
    Path((uid, route)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    index_uid(&uid)?;
    known_route(&route)?;
    let index = state.scheduler.index(&uid)?;
    let mut body = to_wire(&index.settings())
        .route_json(&route)
        .unwrap_or(Value::Null);
    if route == "embedders" {
        embedders::hide_api_keys(&mut body);
    }
    Ok(Json(body))
}

pub async fn update_one(
    State(state): State<AppState>,
    Path((uid, route)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    index_uid(&uid)?;
    known_route(&route)?;
    let settings = Settings::from_route_body(&route, &body)?;
    enqueue_settings(&state, uid, settings).await
}

pub async fn reset_one(
    State(state): State<AppState>,
    Path((uid, route)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    index_uid(&uid)?;
    known_route(&route)?;
    let settings = Settings::reset_route(&route)
        .ok_or_else(|| ApiError::new(Code::NotFound, "The requested route does not exist."))?;
    enqueue_settings(&state, uid, settings).await
}

async fn enqueue_settings(
    state: &AppState,
    uid: String,
    settings: Settings,
) -> ApiResult<impl IntoResponse> {
    // A composite embedder needs its experimental feature, as in Meilisearch.
    if let Setting::Set(configs) = &settings.embedders {
        let composite = configs.values().any(|config| match config {
            Setting::Set(config) => config.get("source") == Some(&Value::from("composite")),
            _ => false,
        });
        if composite {
            state.scheduler.experimental_features().check(
                Feature::CompositeEmbedders,
                "using `\"composite\"` as source",
            )?;
        }
    }
    if let Setting::Set(_) = &settings.foreign_keys {
        state.scheduler.experimental_features().check(
            Feature::ForeignKeys,
            "setting `foreignKeys` in the index settings",
        )?;
    }
    if let Setting::Set(chat) = &settings.chat {
        super::chats::check_index_chat_settings(state, chat)?;
    }
    enqueue(
        state,
        TaskKind::SettingsUpdate {
            index_uid: uid,
            settings: settings.to_json(),
            allow_index_creation: true,
        },
    )
    .await
}
