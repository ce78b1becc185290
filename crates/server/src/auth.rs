//! Who may call what. Every route declares, in [`ROUTE_POLICIES`], the action it needs and
//! where its index comes from; one middleware checks the `Authorization` header against the key
//! store before the handler runs and hands the handler an [`AuthContext`] (which indexes the
//! caller may see, which tenant-token filters to force). With no master key every route is
//! open (development), except key management; `/health` is always open.
//!
//! Routes whose handlers live on other branches (`/metrics`, `/dumps`, `/snapshots`,
//! `/multi-search`, facet search, `documents/delete`) are listed too: a route that is not
//! registered simply answers 404, and a registered route missing from the table needs `*`.

use axum::extract::{MatchedPath, RawPathParams, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use quarry_api_types::Code;
use quarry_auth::{Action, AuthContext, AuthError};

use crate::error::ApiError;
use crate::AppState;

/// Where the index a request acts on is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexFrom {
    /// Not about one index (`/version`, `/keys`...).
    None,
    /// The `{uid}` path parameter: the key must cover it or the request is refused.
    Path,
    /// The request body names one or more indexes (`POST /indexes`, `/swap-indexes`,
    /// `/multi-search`): the handler checks each with [`AuthContext::is_index_authorized`].
    Body,
    /// A list route (`GET /indexes`, `/tasks`, `/stats`...): the handler keeps only the
    /// indexes the key covers.
    Filtered,
}

/// What one route needs: `None` as action means the route is public.
#[derive(Debug, Clone, Copy)]
pub struct RoutePolicy {
    pub method: &'static str,
    pub path: &'static str,
    pub action: Option<Action>,
    pub index: IndexFrom,
}

const fn p(
    method: &'static str,
    path: &'static str,
    action: Action,
    index: IndexFrom,
) -> RoutePolicy {
    RoutePolicy {
        method,
        path,
        action: Some(action),
        index,
    }
}

use Action as A;
use IndexFrom::{Body, Filtered, None as NoIndex, Path as InPath};

/// The action each route needs, as in Meilisearch. Adding a route means adding a line here;
/// the authorization matrix test walks this table.
pub const ROUTE_POLICIES: &[RoutePolicy] = &[
    RoutePolicy {
        method: "GET",
        path: "/health",
        action: None,
        index: NoIndex,
    },
    p("GET", "/version", A::Version, NoIndex),
    p("GET", "/stats", A::StatsGet, Filtered),
    p("GET", "/metrics", A::MetricsGet, Filtered),
    p("POST", "/dumps", A::DumpsCreate, NoIndex),
    p("POST", "/snapshots", A::SnapshotsCreate, NoIndex),
    p("POST", "/swap-indexes", A::IndexesSwap, Body),
    p("GET", "/experimental-features", A::ExperimentalGet, NoIndex),
    p(
        "PATCH",
        "/experimental-features",
        A::ExperimentalUpdate,
        NoIndex,
    ),
    p("POST", "/multi-search", A::Search, Body),
    p("POST", "/export", A::Export, NoIndex),
    p("GET", "/network", A::NetworkGet, NoIndex),
    p("PATCH", "/network", A::NetworkUpdate, NoIndex),
    p("GET", "/indexes", A::IndexesGet, Filtered),
    p("POST", "/indexes", A::IndexesCreate, Body),
    p("GET", "/indexes/{uid}", A::IndexesGet, InPath),
    p("PATCH", "/indexes/{uid}", A::IndexesUpdate, InPath),
    p("DELETE", "/indexes/{uid}", A::IndexesDelete, InPath),
    p("GET", "/indexes/{uid}/stats", A::StatsGet, InPath),
    p("POST", "/indexes/{uid}/compact", A::IndexesCompact, InPath),
    p("POST", "/indexes/{uid}/fields", A::FieldsPost, InPath),
    p("GET", "/indexes/{uid}/documents", A::DocumentsGet, InPath),
    p("POST", "/indexes/{uid}/documents", A::DocumentsAdd, InPath),
    p("PUT", "/indexes/{uid}/documents", A::DocumentsAdd, InPath),
    p(
        "DELETE",
        "/indexes/{uid}/documents",
        A::DocumentsDelete,
        InPath,
    ),
    p(
        "POST",
        "/indexes/{uid}/documents/edit",
        A::DocumentsAll,
        InPath,
    ),
    p(
        "POST",
        "/indexes/{uid}/documents/fetch",
        A::DocumentsGet,
        InPath,
    ),
    p(
        "POST",
        "/indexes/{uid}/documents/delete-batch",
        A::DocumentsDelete,
        InPath,
    ),
    p(
        "POST",
        "/indexes/{uid}/documents/delete",
        A::DocumentsDelete,
        InPath,
    ),
    p(
        "GET",
        "/indexes/{uid}/documents/{id}",
        A::DocumentsGet,
        InPath,
    ),
    p(
        "DELETE",
        "/indexes/{uid}/documents/{id}",
        A::DocumentsDelete,
        InPath,
    ),
    p("GET", "/indexes/{uid}/search", A::Search, InPath),
    p("POST", "/indexes/{uid}/search", A::Search, InPath),
    p("POST", "/indexes/{uid}/facet-search", A::Search, InPath),
    p("GET", "/indexes/{uid}/similar", A::Search, InPath),
    p("POST", "/indexes/{uid}/similar", A::Search, InPath),
    p("GET", "/indexes/{uid}/settings", A::SettingsGet, InPath),
    p(
        "PATCH",
        "/indexes/{uid}/settings",
        A::SettingsUpdate,
        InPath,
    ),
    p(
        "DELETE",
        "/indexes/{uid}/settings",
        A::SettingsUpdate,
        InPath,
    ),
    p(
        "GET",
        "/indexes/{uid}/settings/{setting}",
        A::SettingsGet,
        InPath,
    ),
    p(
        "PUT",
        "/indexes/{uid}/settings/{setting}",
        A::SettingsUpdate,
        InPath,
    ),
    p(
        "PATCH",
        "/indexes/{uid}/settings/{setting}",
        A::SettingsUpdate,
        InPath,
    ),
    p(
        "DELETE",
        "/indexes/{uid}/settings/{setting}",
        A::SettingsUpdate,
        InPath,
    ),
    p("GET", "/tasks", A::TasksGet, Filtered),
    p("DELETE", "/tasks", A::TasksDelete, Filtered),
    p("POST", "/tasks/cancel", A::TasksCancel, Filtered),
    p("POST", "/tasks/compact", A::TasksCompact, NoIndex),
    p("GET", "/tasks/{uid}", A::TasksGet, Filtered),
    p("GET", "/tasks/{uid}/documents", A::TasksGet, Filtered),
    p("GET", "/batches", A::TasksGet, Filtered),
    p("GET", "/batches/{uid}", A::TasksGet, Filtered),
    p("GET", "/webhooks", A::WebhooksGet, NoIndex),
    p("POST", "/webhooks", A::WebhooksCreate, NoIndex),
    p("GET", "/webhooks/{uuid}", A::WebhooksGet, NoIndex),
    p("PATCH", "/webhooks/{uuid}", A::WebhooksUpdate, NoIndex),
    p("DELETE", "/webhooks/{uuid}", A::WebhooksDelete, NoIndex),
    // The `{uid}` of these routes names a rule, not an index.
    p(
        "POST",
        "/dynamic-search-rules",
        A::DynamicSearchRulesGet,
        NoIndex,
    ),
    p(
        "DELETE",
        "/dynamic-search-rules",
        A::DynamicSearchRulesDelete,
        NoIndex,
    ),
    p(
        "GET",
        "/dynamic-search-rules/{uid}",
        A::DynamicSearchRulesGet,
        NoIndex,
    ),
    p(
        "PATCH",
        "/dynamic-search-rules/{uid}",
        A::DynamicSearchRulesUpdate,
        NoIndex,
    ),
    p(
        "DELETE",
        "/dynamic-search-rules/{uid}",
        A::DynamicSearchRulesDelete,
        NoIndex,
    ),
    p("GET", "/chats", A::ChatsGet, NoIndex),
    p("GET", "/chats/{workspace}", A::ChatsGet, NoIndex),
    p("DELETE", "/chats/{workspace}", A::ChatsDelete, NoIndex),
    p(
        "GET",
        "/chats/{workspace}/settings",
        A::ChatsSettingsGet,
        NoIndex,
    ),
    p(
        "PATCH",
        "/chats/{workspace}/settings",
        A::ChatsSettingsUpdate,
        NoIndex,
    ),
    p(
        "DELETE",
        "/chats/{workspace}/settings",
        A::ChatsSettingsUpdate,
        NoIndex,
    ),
    // Each search the model asks for is authorized again as a `search` of its index.
    p(
        "POST",
        "/chats/{workspace}/chat/completions",
        A::ChatCompletions,
        NoIndex,
    ),
    // Also needs `documents.get` (checked by the handler), as in Meilisearch.
    p("POST", "/render-template", A::SettingsGet, Body),
    p("GET", "/keys", A::KeysGet, NoIndex),
    p("POST", "/keys", A::KeysCreate, NoIndex),
    p("GET", "/keys/{key}", A::KeysGet, NoIndex),
    p("PATCH", "/keys/{key}", A::KeysUpdate, NoIndex),
    p("DELETE", "/keys/{key}", A::KeysDelete, NoIndex),
];

/// The policy of a route pattern (as axum matched it) and method.
pub fn policy_for(method: &Method, path: &str) -> Option<&'static RoutePolicy> {
    ROUTE_POLICIES
        .iter()
        .find(|p| p.path == path && p.method == method.as_str())
}

/// Maps an authorization failure to Meilisearch's error body.
pub fn auth_error(e: AuthError) -> ApiError {
    let code = match e {
        AuthError::MissingAuthorizationHeader => Code::MissingAuthorizationHeader,
        AuthError::InvalidApiKey | AuthError::ExpiredTenantToken { .. } => Code::InvalidApiKey,
        AuthError::MissingMasterKey => Code::MissingMasterKey,
    };
    ApiError::new(code, e.to_string())
}

/// The `invalid_api_key` refusal, for handlers that find an index the caller may not touch.
pub fn invalid_api_key() -> ApiError {
    auth_error(AuthError::InvalidApiKey)
}

pub async fn require_key(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let pattern = parts
        .extensions
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let policy = policy_for(&parts.method, &pattern);
    // A registered route missing from the table is treated as needing every right.
    let (action, index_from) = match policy {
        Some(RoutePolicy { action: None, .. }) => {
            return next.run(Request::from_parts(parts, body)).await
        }
        Some(RoutePolicy {
            action: Some(action),
            index,
            ..
        }) => (*action, *index),
        None => (Action::All, IndexFrom::None),
    };
    let index = if index_from == IndexFrom::Path {
        RawPathParams::from_request_parts(&mut parts, &state)
            .await
            .ok()
            .and_then(|params| {
                params
                    .iter()
                    .find(|(name, _)| *name == "uid")
                    .map(|(_, v)| v.to_string())
            })
            // An undecodable uid names no index: only callers covering every index pass,
            // and the handler then refuses the path.
            .or(Some(String::new()))
    } else {
        None
    };
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("\u{fffd}"));
    let decision = state
        .keys
        .read()
        .authorize(header, action, index.as_deref());
    match decision {
        Ok(context) => {
            parts.extensions.insert(context);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) => auth_error(e).into_response(),
    }
}

use axum::extract::FromRequestParts;

/// What the caller may do, for handlers: `Auth(ctx)`.
pub struct Auth(pub AuthContext);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<AuthContext>()
            .cloned()
            .map(Auth)
            .ok_or_else(invalid_api_key)
    }
}

/// Whether a task shows to the caller: every task for a key covering all indexes, otherwise
/// the tasks whose indexes are all covered (tasks about no index, such as task deletions, only
/// show to keys covering every index).
pub fn task_visible(context: &AuthContext, task: &quarry_scheduler::Task) -> bool {
    if context.allows_all_indexes() {
        return true;
    }
    let indexes = task.kind.indexes();
    !indexes.is_empty() && indexes.iter().all(|i| context.is_index_authorized(i))
}
