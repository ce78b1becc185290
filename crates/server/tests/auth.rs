//! Authorization over real HTTP: every route of the policy table x (no key, wrong key, expired
//! key, key for another index, key lacking the action, a key holding each single action of
//! the action list (wildcards included), tenant tokens (valid, expired, for another index),
//! master key) answers exactly the expected status and error body; plus the `/keys` API
//! (shape, validation, pagination) and tenant-token refusals and filters.
//!
//! The matrix is driven by `ROUTE_POLICIES`: a new route needs one arm in `request_for` (the
//! request to send and the status it earns), nothing else.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{assert_error_body, some_movies, start_server, Server};
use quarry_auth::tenant_token::{sign, Algorithm};
use quarry_auth::Action;
use quarry_server::{IndexFrom, ServerConfig, ROUTE_POLICIES};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const MASTER: &str = "MASTER_KEY_for_the_auth_tests";
const MOVIES: &str = "authz_movies";
const OTHER: &str = "other_index";

fn config() -> ServerConfig {
    ServerConfig {
        master_key: Some(MASTER.to_string()),
        ..ServerConfig::default()
    }
}

/// A request with an optional bearer token.
fn send(
    server: &Server,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> common::Response {
    let mut headers: Vec<(&str, String)> = Vec::new();
    if let Some(token) = token {
        headers.push(("Authorization", format!("Bearer {token}")));
    }
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let content_type = body.map(|_| "application/json");
    server.raw_with_headers(method, path, content_type, &headers, bytes)
}

fn master_post(server: &Server, path: &str, body: Value) -> Value {
    let r = send(server, "POST", path, Some(&body), Some(MASTER));
    assert!(r.status < 300, "{path}: {} {}", r.status, r.body);
    r.body
}

/// Deletes every webhook once there are many: the matrix creates one per authorized
/// `POST /webhooks` and per deletion, and an instance holds at most 20.
fn prune_webhooks(server: &Server) {
    let existing = send(server, "GET", "/webhooks", None, Some(MASTER));
    assert_eq!(existing.status, 200, "{}", existing.body);
    let list = existing.body["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if list.len() < 10 {
        return;
    }
    for webhook in list {
        if let Some(uuid) = webhook["uuid"].as_str() {
            let path = format!("/webhooks/{uuid}");
            let r = send(server, "DELETE", &path, None, Some(MASTER));
            assert!(r.status < 300, "{path}: {} {}", r.status, r.body);
        }
    }
}

fn wait_task(server: &Server, uid: u64) -> Value {
    let deadline = std::time::Instant::now() + common::TASK_TIMEOUT;
    loop {
        let task = send(server, "GET", &format!("/tasks/{uid}"), None, Some(MASTER)).expect(200);
        if matches!(
            task["status"].as_str(),
            Some("succeeded" | "failed" | "canceled")
        ) {
            return task;
        }
        assert!(std::time::Instant::now() < deadline, "task {uid} hangs");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn create_key(server: &Server, actions: &[&str], indexes: &[&str], expires_at: Value) -> Value {
    master_post(
        server,
        "/keys",
        json!({"actions": actions, "indexes": indexes, "expiresAt": expires_at}),
    )
}

/// Every concrete action but `action`.
fn all_actions_but(action: Action) -> Vec<&'static str> {
    Action::ALL
        .iter()
        .filter(|a| !a.is_wildcard() && **a != action)
        .map(|a| a.as_str())
        .collect()
}

struct Request {
    method: &'static str,
    path: String,
    body: Option<Value>,
    /// Status for a caller allowed to make it (master key, key with the action).
    ok: u16,
    /// Status for the key holding `*` on another index only, when it differs from the rule
    /// (403 for path and body routes, `ok` for the others).
    other_index: Option<u16>,
}

fn req(method: &'static str, path: &str, body: Option<Value>, ok: u16) -> Request {
    Request {
        method,
        path: path.to_string(),
        body,
        ok,
        other_index: None,
    }
}

/// The request the matrix sends for one route of the policy table. Writes go to scratch
/// indexes (`authz_scratch*`) so the movies index stays intact for the reads.
fn request_for(server: &Server, method: &str, pattern: &str, doc_id: &str) -> Request {
    let scratch = "authz_scratch_docs";
    let m = |s: &str| s.replace("{uid}", MOVIES);
    let s = |p: &str| p.replace("{uid}", scratch);
    match (method, pattern) {
        ("GET", "/health") => req("GET", "/health", None, 200),
        ("GET", "/version") => req("GET", "/version", None, 200),
        ("GET", "/stats") => req("GET", "/stats", None, 200),
        ("GET", "/metrics") => req("GET", "/metrics", None, 200),
        ("POST", "/dumps") => req("POST", "/dumps", None, 202),
        ("POST", "/snapshots") => req("POST", "/snapshots", None, 202),
        ("POST", "/swap-indexes") => req(
            "POST",
            "/swap-indexes",
            Some(json!([{"indexes": ["authz_scratch_a", "authz_scratch_b"]}])),
            202,
        ),
        ("POST", "/multi-search") => req(
            "POST",
            "/multi-search",
            Some(json!({"queries": [{"indexUid": MOVIES, "q": "a"}]})),
            200,
        ),
        // The pattern selects no index: the task succeeds without contacting the target.
        ("POST", "/export") => req(
            "POST",
            "/export",
            Some(json!({"url": "http://127.0.0.1:9", "indexes": {"authz_no_such_index*": {}}})),
            200,
        ),
        // Behind the `network` experimental feature, off here.
        ("GET", "/network") => req("GET", "/network", None, 400),
        ("PATCH", "/network") => req("PATCH", "/network", Some(json!({"self": "ms-0"})), 400),
        ("GET", "/experimental-features") => req("GET", "/experimental-features", None, 200),
        ("PATCH", "/experimental-features") => req(
            "PATCH",
            "/experimental-features",
            Some(json!({"multimodal": false})),
            200,
        ),
        ("GET", "/indexes") => req("GET", "/indexes", None, 200),
        ("POST", "/indexes") => req(
            "POST",
            "/indexes",
            Some(json!({"uid": "authz_scratch_new"})),
            202,
        ),
        ("GET", "/indexes/{uid}") => req("GET", &m(pattern), None, 200),
        ("PATCH", "/indexes/{uid}") => {
            req("PATCH", &s(pattern), Some(json!({"primaryKey": null})), 202)
        }
        ("DELETE", "/indexes/{uid}") => req("DELETE", "/indexes/authz_scratch_gone", None, 202),
        ("GET", "/indexes/{uid}/stats") => req("GET", &m(pattern), None, 200),
        ("POST", "/indexes/{uid}/compact") => req("POST", &s(pattern), None, 202),
        ("POST", "/indexes/{uid}/fields") => req("POST", &m(pattern), Some(json!({})), 200),
        ("GET", "/indexes/{uid}/documents") => req("GET", &m(pattern), None, 200),
        ("POST" | "PUT", "/indexes/{uid}/documents") => req(
            if method == "POST" { "POST" } else { "PUT" },
            &s(pattern),
            Some(json!([{"id": 1, "title": "x"}])),
            202,
        ),
        ("DELETE", "/indexes/{uid}/documents") => req("DELETE", &s(pattern), None, 202),
        // Behind an experimental feature that is off here: an authorized caller gets past the
        // key check to the feature's refusal.
        ("POST", "/indexes/{uid}/documents/edit") => {
            req("POST", &s(pattern), Some(json!({"function": "doc"})), 400)
        }
        ("POST", "/indexes/{uid}/documents/fetch") => {
            req("POST", &m(pattern), Some(json!({"limit": 1})), 200)
        }
        ("POST", "/indexes/{uid}/documents/delete-batch") => {
            req("POST", &s(pattern), Some(json!([1])), 202)
        }
        ("POST", "/indexes/{uid}/documents/delete") => {
            req("POST", &s(pattern), Some(json!({"filter": "id = 1"})), 202)
        }
        ("GET", "/indexes/{uid}/documents/{id}") => {
            req("GET", &m(pattern).replace("{id}", doc_id), None, 200)
        }
        ("DELETE", "/indexes/{uid}/documents/{id}") => {
            req("DELETE", &s(pattern).replace("{id}", "1"), None, 202)
        }
        ("GET", "/indexes/{uid}/search") => req("GET", &format!("{}?q=a", m(pattern)), None, 200),
        ("POST", "/indexes/{uid}/search") => req("POST", &m(pattern), Some(json!({"q": "a"})), 200),
        // The index has no filterable attribute: a caller let through gets the handler's
        // `invalid_facet_search_facet_name`, not an authorization error.
        ("POST", "/indexes/{uid}/facet-search") => req(
            "POST",
            &m(pattern),
            Some(json!({"facetName": "genres"})),
            400,
        ),
        ("GET", "/indexes/{uid}/similar") => {
            req("GET", &format!("{}?id={doc_id}", m(pattern)), None, 200)
        }
        ("POST", "/indexes/{uid}/similar") => {
            req("POST", &m(pattern), Some(json!({"id": doc_id})), 200)
        }
        ("GET", "/indexes/{uid}/settings") => req("GET", &m(pattern), None, 200),
        ("PATCH", "/indexes/{uid}/settings") => req(
            "PATCH",
            &s(pattern),
            Some(json!({"searchableAttributes": ["title"]})),
            202,
        ),
        ("DELETE", "/indexes/{uid}/settings") => req("DELETE", &s(pattern), None, 202),
        ("GET", "/indexes/{uid}/settings/{setting}") => req(
            "GET",
            &m(pattern).replace("{setting}", "ranking-rules"),
            None,
            200,
        ),
        ("PUT", "/indexes/{uid}/settings/{setting}") => req(
            "PUT",
            &s(pattern).replace("{setting}", "searchable-attributes"),
            Some(json!(["title"])),
            202,
        ),
        ("PATCH", "/indexes/{uid}/settings/{setting}") => req(
            "PATCH",
            &s(pattern).replace("{setting}", "typo-tolerance"),
            Some(json!({"enabled": true})),
            202,
        ),
        ("DELETE", "/indexes/{uid}/settings/{setting}") => req(
            "DELETE",
            &s(pattern).replace("{setting}", "searchable-attributes"),
            None,
            202,
        ),
        ("GET", "/tasks") => req("GET", "/tasks", None, 200),
        ("DELETE", "/tasks") => req("DELETE", "/tasks?uids=999999", None, 200),
        ("POST", "/tasks/cancel") => req("POST", "/tasks/cancel?uids=999999", None, 200),
        // Behind an experimental feature that is off here.
        ("POST", "/tasks/compact") => req("POST", "/tasks/compact", None, 400),
        // Task 0 and batch 0 created the movies index: the key of another index cannot see them.
        ("GET", "/tasks/{uid}") => Request {
            other_index: Some(404),
            ..req("GET", "/tasks/0", None, 200)
        },
        // The route is behind an experimental feature that is off here: an authorized caller
        // gets past the key check to the feature's refusal.
        ("GET", "/tasks/{uid}/documents") => Request {
            other_index: Some(400),
            ..req("GET", "/tasks/0/documents", None, 400)
        },
        ("GET", "/batches") => req("GET", "/batches", None, 200),
        ("GET", "/batches/{uid}") => Request {
            other_index: Some(404),
            ..req("GET", "/batches/0", None, 200)
        },
        ("GET", "/webhooks") => req("GET", "/webhooks", None, 200),
        ("POST", "/webhooks") => {
            prune_webhooks(server);
            req(
                "POST",
                "/webhooks",
                Some(json!({"url": "http://127.0.0.1:9/authz"})),
                201,
            )
        }
        ("GET" | "PATCH" | "DELETE", "/webhooks/{uuid}") => {
            prune_webhooks(server);
            // Reads and updates share one webhook; each deletion gets its own.
            let existing = send(server, "GET", "/webhooks", None, Some(MASTER)).expect(200);
            let uuid = match existing["results"][0]["uuid"].as_str() {
                Some(uuid) if method != "DELETE" => uuid.to_string(),
                _ => master_post(
                    server,
                    "/webhooks",
                    json!({"url": "http://127.0.0.1:9/authz"}),
                )["uuid"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            };
            let path = format!("/webhooks/{uuid}");
            match method {
                "GET" => req("GET", &path, None, 200),
                "PATCH" => req(
                    "PATCH",
                    &path,
                    Some(json!({"headers": {"X-Test": "1"}})),
                    200,
                ),
                _ => req("DELETE", &path, None, 204),
            }
        }
        // The matrix turns the `dynamicSearchRules` feature on: these routes really answer.
        ("POST", "/dynamic-search-rules") => {
            req("POST", "/dynamic-search-rules", Some(json!({})), 200)
        }
        ("DELETE", "/dynamic-search-rules") => req("DELETE", "/dynamic-search-rules", None, 202),
        ("GET" | "PATCH" | "DELETE", "/dynamic-search-rules/{uid}") => {
            let path = "/dynamic-search-rules/authz-rule";
            match method {
                "GET" => {
                    // The rule may have been cleared by the matrix: set it again first.
                    let created = send(
                        server,
                        "PATCH",
                        path,
                        Some(&json!({"description": "authz"})),
                        Some(MASTER),
                    )
                    .expect(202);
                    wait_task(server, created["taskUid"].as_u64().unwrap());
                    req("GET", path, None, 200)
                }
                "PATCH" => req("PATCH", path, Some(json!({"description": "authz"})), 202),
                _ => req("DELETE", path, None, 202),
            }
        }
        // The chat routes and the render route are behind experimental features that are off
        // here: an authorized caller gets past the key check to the feature's refusal.
        ("GET", "/chats") => req("GET", "/chats", None, 400),
        ("GET" | "DELETE", "/chats/{workspace}") => req(
            if method == "GET" { "GET" } else { "DELETE" },
            "/chats/authz_ws",
            None,
            400,
        ),
        ("GET" | "PATCH" | "DELETE", "/chats/{workspace}/settings") => req(
            match method {
                "GET" => "GET",
                "PATCH" => "PATCH",
                _ => "DELETE",
            },
            "/chats/authz_ws/settings",
            (method == "PATCH").then(|| json!({"source": "openAi"})),
            400,
        ),
        ("POST", "/chats/{workspace}/chat/completions") => req(
            "POST",
            "/chats/authz_ws/chat/completions",
            Some(json!({"model": "m", "stream": true, "messages": []})),
            400,
        ),
        ("POST", "/render-template") => req(
            "POST",
            "/render-template",
            Some(json!({
                "template": {"kind": "inlineDocumentTemplate", "inline": "{{ doc.title }}"},
                "input": {"kind": "indexDocument", "indexUid": MOVIES, "id": doc_id},
            })),
            400,
        ),
        ("GET", "/keys") => req("GET", "/keys", None, 200),
        ("POST", "/keys") => req(
            "POST",
            "/keys",
            Some(json!({"actions": ["search"], "indexes": ["*"], "expiresAt": null})),
            201,
        ),
        ("GET" | "PATCH" | "DELETE", "/keys/{key}") => {
            // A fresh victim each time, so every allowed DELETE finds its key.
            let victim = create_key(server, &["search"], &["*"], Value::Null);
            let path = format!("/keys/{}", victim["uid"].as_str().unwrap());
            match method {
                "GET" => req("GET", &path, None, 200),
                "PATCH" => req("PATCH", &path, Some(json!({"name": "renamed"})), 200),
                _ => req("DELETE", &path, None, 204),
            }
        }
        other => panic!("the matrix has no request for {other:?}: add one"),
    }
}

/// Whether a key holding the action named `granted` may do what needs `needed`, by the rules
/// of Meilisearch's action list written out on the names (independently of the auth crate):
/// an action grants itself, `*` grants everything, `group.*` its group, and `*.get` the reads
/// (`x.get` and `version`) but not `keys.get`.
fn name_grants(granted: &str, needed: &str) -> bool {
    granted == needed
        || granted == "*"
        || (granted == "*.get"
            && (needed == "version" || (needed.ends_with(".get") && needed != "keys.get")))
        || granted
            .strip_suffix('*')
            .is_some_and(|group| group.ends_with('.') && needed.starts_with(group))
}

/// The second action a route needs besides the one of its policy (checked by its handler),
/// as Meilisearch's `/render-template` needs `settings.get` and `documents.get`.
fn also_needed(pattern: &str) -> Option<&'static str> {
    (pattern == "/render-template").then_some("documents.get")
}

fn is_search_route(pattern: &str) -> bool {
    matches!(
        pattern,
        "/indexes/{uid}/search" | "/indexes/{uid}/facet-search" | "/indexes/{uid}/similar"
    ) || pattern == "/multi-search"
}

#[track_caller]
fn check(what: &str, response: &common::Response, expected: u16) {
    assert_eq!(
        response.status, expected,
        "{what}: expected {expected}, body {}",
        response.body
    );
    match expected {
        401 => assert_error_body(&response.body, "missing_authorization_header", "auth"),
        403 => assert_error_body(&response.body, "invalid_api_key", "auth"),
        _ => {}
    }
}

#[test]
fn authorization_matrix_over_every_route() {
    let server = start_server(config());
    // Setup with the master key: the movies index (task 0, batch 0) with some real films.
    master_post(
        &server,
        "/indexes",
        json!({"uid": MOVIES, "primaryKey": "id"}),
    );
    wait_task(&server, 0);
    let features = send(
        &server,
        "PATCH",
        "/experimental-features",
        Some(&json!({"dynamicSearchRules": true})),
        Some(MASTER),
    )
    .expect(200);
    assert_eq!(features["dynamicSearchRules"], true);
    let films = some_movies(50);
    let doc_id = films[0]["id"].to_string();
    let task = master_post(&server, &format!("/indexes/{MOVIES}/documents"), films);
    assert_eq!(
        wait_task(&server, task["taskUid"].as_u64().unwrap())["status"],
        "succeeded"
    );

    // Principals. The expired key is created valid and used once its expiry has passed.
    let expires = OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let expired = create_key(
        &server,
        &["*"],
        &["*"],
        json!(expires.format(&Rfc3339).unwrap()),
    );
    let other_index = create_key(&server, &["*"], &[OTHER], Value::Null);
    let search_parent = create_key(&server, &["search"], &[MOVIES], Value::Null);
    let tenant = sign(
        Algorithm::HS256,
        &json!({"searchRules": [MOVIES], "apiKeyUid": search_parent["uid"]}),
        search_parent["key"].as_str().unwrap(),
    );
    let tenant_expired = sign(
        Algorithm::HS256,
        &json!({"searchRules": [MOVIES], "apiKeyUid": search_parent["uid"],
                "exp": OffsetDateTime::now_utc().unix_timestamp() - 60}),
        search_parent["key"].as_str().unwrap(),
    );
    let tenant_other_index = sign(
        Algorithm::HS256,
        &json!({"searchRules": {OTHER: null}, "apiKeyUid": search_parent["uid"]}),
        search_parent["key"].as_str().unwrap(),
    );
    // One key per action of the list (wildcards too), each on the movies and scratch indexes.
    let single_action_keys: Vec<(Action, String)> = Action::ALL
        .iter()
        .map(|action| {
            let created = create_key(
                &server,
                &[action.as_str()],
                &[MOVIES, "authz_scratch*"],
                Value::Null,
            );
            (*action, created["key"].as_str().unwrap().to_string())
        })
        .collect();
    while OffsetDateTime::now_utc() <= expires + time::Duration::milliseconds(200) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let key = |k: &Value| k["key"].as_str().unwrap().to_string();
    let (expired, other_index) = (key(&expired), key(&other_index));

    let mut unregistered = BTreeSet::new();
    let mut checked = 0;
    for policy in ROUTE_POLICIES {
        let request = request_for(&server, policy.method, policy.path, &doc_id);
        let what = |who: &str| format!("{} {} as {who}", policy.method, policy.path);
        let go = |token: Option<&str>| {
            send(
                &server,
                request.method,
                &request.path,
                request.body.as_ref(),
                token,
            )
        };
        let Some(action) = policy.action else {
            for token in [None, Some("wrong"), Some(MASTER)] {
                check(&what("anyone"), &go(token), request.ok);
            }
            continue;
        };

        let probe = go(Some(MASTER));
        // An unknown route answers 404 with an empty body, as in Meilisearch.
        let not_registered = (probe.status == 404 && probe.body.is_null())
            // Another method is registered on the same path pattern.
            || probe.status == 405;
        if not_registered {
            // The handler lives on another branch: only the route table entry exists here.
            // An unregistered path answers 404 to anyone. A method missing on a registered
            // path answers 405 once authorized; a route the table does not cover needs `*`.
            for token in [Some("wrong"), Some(expired.as_str()), None] {
                let r = go(token);
                assert!(
                    r.status == probe.status || matches!(r.status, 401 | 403),
                    "{}: {} {}",
                    what("anyone (unregistered)"),
                    r.status,
                    r.body
                );
            }
            unregistered.insert(format!("{} {}", policy.method, policy.path));
            continue;
        }
        let no_key = go(None);
        check(&what("no key"), &no_key, 401);
        check(&what("wrong key"), &go(Some("not-a-key")), 403);
        check(&what("expired key"), &go(Some(&expired)), 403);

        let expect_other = match policy.index {
            IndexFrom::Path | IndexFrom::Body => 403,
            IndexFrom::Filtered => request.other_index.unwrap_or(request.ok),
            IndexFrom::None => request.ok,
        };
        // Routes that act (deletions, creations) get a fresh request per allowed caller.
        let fresh = || request_for(&server, policy.method, policy.path, &doc_id);
        let send_fresh = |token: &str| {
            let r = fresh();
            send(&server, r.method, &r.path, r.body.as_ref(), Some(token))
        };
        check(
            &what("key of another index"),
            &send_fresh(&other_index),
            expect_other,
        );

        let lacking = create_key(
            &server,
            &all_actions_but(action),
            &[MOVIES, "authz_scratch*"],
            Value::Null,
        );
        check(
            &what("key lacking the action"),
            &send_fresh(&key(&lacking)),
            403,
        );

        // Every action of the list, alone: allowed exactly when it grants the route's action.
        let mut granting = 0;
        for (granted, single) in &single_action_keys {
            let allowed = name_grants(granted.as_str(), action.as_str())
                && also_needed(policy.path).is_none_or(|also| name_grants(granted.as_str(), also));
            granting += usize::from(allowed);
            check(
                &what(&format!("key with only `{granted}`")),
                &send_fresh(single),
                if allowed { request.ok } else { 403 },
            );
        }
        // The action itself, `*`, and its group wildcard or `*.get` when it has one.
        assert!(
            granting >= 2,
            "{}: only {granting} granting actions",
            what("")
        );

        let tenant_expected = if is_search_route(policy.path) {
            request.ok
        } else {
            403
        };
        check(&what("tenant token"), &send_fresh(&tenant), tenant_expected);
        check(
            &what("expired tenant token"),
            &send_fresh(&tenant_expired),
            403,
        );
        check(
            &what("tenant token for another index"),
            &send_fresh(&tenant_other_index),
            403,
        );
        check(&what("master key"), &send_fresh(MASTER), request.ok);
        checked += 1;
    }
    // Every route this branch registers went through the whole matrix.
    assert!(checked >= 37, "only {checked} routes checked");
    let public = ROUTE_POLICIES.iter().filter(|p| p.action.is_none()).count();
    assert_eq!(checked + unregistered.len() + public, ROUTE_POLICIES.len());
    eprintln!("routes whose handlers are on other branches: {unregistered:?}");
}

#[test]
fn unknown_route_is_not_in_the_table_and_404s() {
    let server = start_server(config());
    let r = send(&server, "GET", "/nope", None, None);
    assert_eq!(r.status, 404);
    assert!(!ROUTE_POLICIES.iter().any(|p| p.path == "/nope"));
}

#[test]
fn keys_api_shape_validation_and_pagination() {
    let server = start_server(config());
    let listed = send(&server, "GET", "/keys", None, Some(MASTER)).expect(200);
    assert_eq!(listed["total"], 4, "default keys: {listed}");
    let names: BTreeSet<&str> = listed["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "Default Search API Key",
            "Default Admin API Key",
            "Default Read-Only Admin API Key",
            "Default Chat API Key"
        ])
    );
    let created = master_post(
        &server,
        "/keys",
        json!({"uid": "01b4bc42-eb33-4041-b481-254d00cce834", "name": "front", "description": null,
               "actions": ["search", "documents.*"], "indexes": ["movies*"], "expiresAt": "2099-01-01T00:00:00Z"}),
    );
    let fields: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        [
            "name",
            "description",
            "key",
            "uid",
            "actions",
            "indexes",
            "expiresAt",
            "createdAt",
            "updatedAt"
        ]
    );
    assert_eq!(created["actions"], json!(["search", "documents.*"]));
    assert_eq!(created["expiresAt"], "2099-01-01T00:00:00Z");
    let value = created["key"].as_str().unwrap().to_string();
    assert_eq!(value.len(), 64);
    // The value is HMAC-SHA256(master key, uid), as Meilisearch derives it.
    let uid = uuid::Uuid::parse_str("01b4bc42-eb33-4041-b481-254d00cce834").unwrap();
    assert_eq!(value, quarry_auth::derive_key_value(&uid, MASTER));

    // Same uid again.
    let again = send(
        &server,
        "POST",
        "/keys",
        Some(&json!({"uid": uid, "actions": ["search"], "indexes": ["*"], "expiresAt": null})),
        Some(MASTER),
    );
    common::assert_error(again, 409, "api_key_already_exists");

    // Validation errors.
    let bad: &[(Value, &str)] = &[
        (
            json!({"indexes": ["*"], "expiresAt": null}),
            "missing_api_key_actions",
        ),
        (
            json!({"actions": ["search"], "expiresAt": null}),
            "missing_api_key_indexes",
        ),
        (
            json!({"actions": ["search"], "indexes": ["*"]}),
            "missing_api_key_expires_at",
        ),
        (
            json!({"actions": ["doggo"], "indexes": ["*"], "expiresAt": null}),
            "invalid_api_key_actions",
        ),
        (
            json!({"actions": ["search"], "indexes": ["in valid"], "expiresAt": null}),
            "invalid_api_key_indexes",
        ),
        (
            json!({"actions": ["search"], "indexes": ["*"], "expiresAt": "2001-01-01"}),
            "invalid_api_key_expires_at",
        ),
        (
            json!({"actions": ["search"], "indexes": ["*"], "expiresAt": null, "uid": "nope"}),
            "invalid_api_key_uid",
        ),
        (
            json!({"actions": ["search"], "indexes": ["*"], "expiresAt": null, "name": 3}),
            "invalid_api_key_name",
        ),
        (
            json!({"actions": ["search"], "indexes": ["*"], "expiresAt": null, "description": {}}),
            "invalid_api_key_description",
        ),
        (
            json!({"actions": ["search"], "indexes": ["*"], "expiresAt": null, "doggo": 1}),
            "bad_request",
        ),
    ];
    for (body, code) in bad {
        let r = send(&server, "POST", "/keys", Some(body), Some(MASTER));
        common::assert_error(r, 400, code);
    }
    for (field, code) in [
        ("uid", "immutable_api_key_uid"),
        ("actions", "immutable_api_key_actions"),
        ("indexes", "immutable_api_key_indexes"),
        ("expiresAt", "immutable_api_key_expires_at"),
        ("key", "immutable_api_key_key"),
        ("createdAt", "immutable_api_key_created_at"),
        ("updatedAt", "immutable_api_key_updated_at"),
    ] {
        let r = send(
            &server,
            "PATCH",
            &format!("/keys/{uid}"),
            Some(&json!({ field: null })),
            Some(MASTER),
        );
        common::assert_error(r, 400, code);
    }
    for (query, code) in [
        ("offset=-1", "invalid_api_key_offset"),
        ("limit=x", "invalid_api_key_limit"),
    ] {
        let r = send(
            &server,
            "GET",
            &format!("/keys?{query}"),
            None,
            Some(MASTER),
        );
        common::assert_error(r, 400, code);
    }

    // Lookup by uid or by value, update, pagination.
    let by_value = send(
        &server,
        "GET",
        &format!("/keys/{value}"),
        None,
        Some(MASTER),
    )
    .expect(200);
    assert_eq!(by_value["uid"], uid.to_string());
    let patched = send(
        &server,
        "PATCH",
        &format!("/keys/{value}"),
        Some(&json!({"name": "renamed"})),
        Some(MASTER),
    )
    .expect(200);
    assert_eq!(patched["name"], "renamed");
    assert_eq!(patched["actions"], created["actions"]);
    let page = send(&server, "GET", "/keys?offset=1&limit=2", None, Some(MASTER)).expect(200);
    assert_eq!(
        (
            page["offset"].as_u64(),
            page["limit"].as_u64(),
            page["total"].as_u64()
        ),
        (Some(1), Some(2), Some(5))
    );
    assert_eq!(page["results"].as_array().unwrap().len(), 2);
    common::assert_error(
        send(&server, "GET", "/keys/doggo", None, Some(MASTER)),
        404,
        "api_key_not_found",
    );

    // The key works on the indexes it covers only (persistence across restarts is tested
    // on the real binary in crates/quarry/tests/security.rs).
    let search = "/indexes/movies_fr/search".to_string();
    assert_ne!(
        send(&server, "POST", &search, Some(&json!({})), Some(&value)).status,
        403
    );
    check(
        "other index",
        &send(
            &server,
            "POST",
            "/indexes/books/search",
            Some(&json!({})),
            Some(&value),
        ),
        403,
    );

    // Deleting it refuses it from then on.
    assert_eq!(
        send(
            &server,
            "DELETE",
            &format!("/keys/{uid}"),
            None,
            Some(MASTER)
        )
        .status,
        204
    );
    check(
        "deleted key",
        &send(&server, "POST", &search, Some(&json!({})), Some(&value)),
        403,
    );
    common::assert_error(
        send(
            &server,
            "DELETE",
            &format!("/keys/{uid}"),
            None,
            Some(MASTER),
        ),
        404,
        "api_key_not_found",
    );
}

#[test]
fn without_a_master_key_keys_routes_refuse_and_everything_else_is_open() {
    let server = start_server(ServerConfig::default());
    let r = send(&server, "GET", "/keys", None, None);
    assert_eq!(r.status, 401);
    assert_error_body(&r.body, "missing_master_key", "auth");
    assert_eq!(send(&server, "GET", "/version", None, None).status, 200);
    assert_eq!(
        send(&server, "GET", "/indexes", None, Some("anything")).status,
        200
    );
}

#[test]
fn tenant_tokens_are_refused_when_invalid_and_their_filter_always_applies() {
    let server = start_server(config());
    master_post(
        &server,
        "/indexes",
        json!({"uid": MOVIES, "primaryKey": "id"}),
    );
    let task = master_post(
        &server,
        &format!("/indexes/{MOVIES}/documents"),
        some_movies(300),
    );
    wait_task(&server, task["taskUid"].as_u64().unwrap());
    let parent = create_key(&server, &["search"], &[MOVIES], Value::Null);
    let parent_value = parent["key"].as_str().unwrap().to_string();
    let parent_uid = parent["uid"].as_str().unwrap().to_string();
    let wide = create_key(&server, &["search"], &["*"], Value::Null);
    let short_lived = create_key(
        &server,
        &["search"],
        &["*"],
        json!((OffsetDateTime::now_utc() + time::Duration::seconds(2))
            .format(&Rfc3339)
            .unwrap()),
    );
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let token = |alg: Algorithm, claims: Value, key: &str| sign(alg, &claims, key);
    let search = format!("/indexes/{MOVIES}/search");
    let body = json!({"q": "the"});

    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let t = token(
            alg,
            json!({"searchRules": {"*": null}, "apiKeyUid": parent_uid, "exp": now + 3600}),
            &parent_value,
        );
        check(
            "valid token",
            &send(&server, "POST", &search, Some(&body), Some(&t)),
            200,
        );
    }
    let forged = {
        let t = token(
            Algorithm::HS256,
            json!({"searchRules": ["*"], "apiKeyUid": parent_uid}),
            &parent_value,
        );
        let (head, _) = t.rsplit_once('.').unwrap();
        format!("{head}.AAAA")
    };
    let none_alg = {
        use base64_like::encode;
        format!(
            "{}.{}.",
            encode(br#"{"alg":"none","typ":"JWT"}"#),
            encode(
                json!({"searchRules": ["*"], "apiKeyUid": parent_uid})
                    .to_string()
                    .as_bytes()
            )
        )
    };
    let refused: Vec<(&str, String)> = vec![
        (
            "expired",
            token(
                Algorithm::HS256,
                json!({"searchRules": ["*"], "apiKeyUid": parent_uid, "exp": now - 10}),
                &parent_value,
            ),
        ),
        ("forged signature", forged),
        ("alg none", none_alg),
        (
            "signed with the master key",
            token(
                Algorithm::HS256,
                json!({"searchRules": ["*"], "apiKeyUid": parent_uid}),
                MASTER,
            ),
        ),
        (
            "parent key missing",
            token(
                Algorithm::HS256,
                json!({"searchRules": ["*"], "apiKeyUid": uuid::Uuid::new_v4()}),
                &parent_value,
            ),
        ),
        (
            "widens the parent (other index)",
            token(
                Algorithm::HS256,
                json!({"searchRules": ["*"], "apiKeyUid": parent_uid}),
                &parent_value,
            ),
        ),
        (
            "index outside its rules",
            token(
                Algorithm::HS256,
                json!({"searchRules": ["books"], "apiKeyUid": wide["uid"]}),
                wide["key"].as_str().unwrap(),
            ),
        ),
    ];
    for (what, t) in &refused {
        let path = if *what == "widens the parent (other index)" {
            "/indexes/books/search".to_string()
        } else {
            search.clone()
        };
        check(
            what,
            &send(&server, "POST", &path, Some(&body), Some(t)),
            403,
        );
    }
    // A token of a key that has expired since.
    let child = token(
        Algorithm::HS256,
        json!({"searchRules": ["*"], "apiKeyUid": short_lived["uid"]}),
        short_lived["key"].as_str().unwrap(),
    );
    check(
        "parent not expired yet",
        &send(&server, "POST", &search, Some(&body), Some(&child)),
        200,
    );
    std::thread::sleep(Duration::from_millis(2500));
    check(
        "parent expired",
        &send(&server, "POST", &search, Some(&body), Some(&child)),
        403,
    );
    // A tenant token is for searching only.
    let t = token(
        Algorithm::HS256,
        json!({"searchRules": ["*"], "apiKeyUid": wide["uid"]}),
        wide["key"].as_str().unwrap(),
    );
    check(
        "token on documents",
        &send(
            &server,
            "GET",
            &format!("/indexes/{MOVIES}/documents"),
            None,
            Some(&t),
        ),
        403,
    );

    // The token's filter is ANDed into every search, with or without the caller's own filter,
    // on the search routes and in multi-search: the hits are exactly those a master-key search
    // with both filters finds.
    let patch = server
        .client
        .patch(server.url(&format!("/indexes/{MOVIES}/settings")))
        .bearer_auth(MASTER)
        .json(&json!({"filterableAttributes": ["major_genre", "release_year"]}))
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap();
    wait_task(&server, patch["taskUid"].as_u64().unwrap());
    let filtered = token(
        Algorithm::HS256,
        json!({"searchRules": {MOVIES: {"filter": "major_genre = Drama"}}, "apiKeyUid": parent_uid}),
        &parent_value,
    );
    let ids = |body: &Value| -> Vec<Value> {
        body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].clone())
            .collect()
    };
    for (what, own, both) in [
        ("no own filter", Value::Null, json!("major_genre = Drama")),
        (
            "own string filter",
            json!("release_year > 1999"),
            json!("major_genre = Drama AND release_year > 1999"),
        ),
        (
            "own array filter",
            json!(["release_year > 1999"]),
            json!("major_genre = Drama AND release_year > 1999"),
        ),
    ] {
        let mut request = json!({"q": "", "limit": 100});
        if !own.is_null() {
            request["filter"] = own;
        }
        let r = send(&server, "POST", &search, Some(&request), Some(&filtered));
        assert_eq!(r.status, 200, "{what}: {}", r.body);
        let expected = server
            .client
            .post(server.url(&search))
            .bearer_auth(MASTER)
            .json(&json!({"q": "", "limit": 100, "filter": both}))
            .send()
            .unwrap()
            .json::<Value>()
            .unwrap();
        assert!(
            !ids(&expected).is_empty(),
            "{what}: the corpus has such films"
        );
        assert_eq!(ids(&r.body), ids(&expected), "{what}");
        assert!(
            r.body["hits"]
                .as_array()
                .unwrap()
                .iter()
                .all(|h| h["major_genre"] == "Drama"),
            "{what}: {}",
            r.body
        );
        // The same through multi-search.
        let mut query = request.clone();
        query["indexUid"] = json!(MOVIES);
        let multi = send(
            &server,
            "POST",
            "/multi-search",
            Some(&json!({"queries": [query]})),
            Some(&filtered),
        );
        assert_eq!(multi.status, 200, "{what}: {}", multi.body);
        assert_eq!(
            ids(&multi.body["results"][0]),
            ids(&expected),
            "{what} (multi-search)"
        );
    }
    // GET search too.
    let r = send(
        &server,
        "GET",
        &format!("{search}?q=&limit=100&filter=release_year%20%3E%201999"),
        None,
        Some(&filtered),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["major_genre"] == "Drama" && h["release_year"].as_i64().unwrap() > 1999));
    // A token limited to one index cannot multi-search another.
    let other = send(
        &server,
        "POST",
        "/multi-search",
        Some(&json!({"queries": [{"indexUid": "authz_other", "q": ""}]})),
        Some(&filtered),
    );
    assert_eq!(other.status, 403, "{}", other.body);
    assert!(other.body["message"]
        .as_str()
        .unwrap()
        .starts_with("Inside `.queries[0]`"));
}

/// Base64url without padding, for hand-made tokens.
mod base64_like {
    pub fn encode(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
            let chars = chunk.len() + 1;
            for i in 0..chars {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }
}
