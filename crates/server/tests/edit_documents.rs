//! `POST /indexes/{uid}/documents/edit` over HTTP: Rhai functions editing and deleting the
//! documents a filter selects, as `documentEdition` tasks; the experimental feature that
//! gates the route, request validation, and the sandbox failing a task without changing
//! anything.

mod common;

use std::collections::BTreeMap;

use common::{assert_error, movies, start_server, Server};
use serde_json::{json, Value};

const FILMS: usize = 400;

/// A server with the feature on and an index of the first films, filterable by genre, rating
/// and id.
fn setup() -> Server {
    let server = start_server(quarry_server::ServerConfig::default());
    server.create_index("films", Some("id"));
    let task = server
        .patch(
            "/indexes/films/settings",
            json!({"filterableAttributes": ["major_genre", "imdb_rating", "id"]}),
        )
        .task_uid();
    server.wait_ok(task);
    server.add_documents("films", Value::Array(movies()[..FILMS].to_vec()));
    server
        .patch(
            "/experimental-features",
            json!({"editDocumentsByFunction": true}),
        )
        .expect(200);
    server
}

fn by_id(server: &Server) -> BTreeMap<u64, Value> {
    server
        .all_documents("films")
        .into_iter()
        .map(|d| (d["id"].as_u64().unwrap(), d))
        .collect()
}

#[test]
fn the_route_needs_its_experimental_feature() {
    let server = start_server(quarry_server::ServerConfig::default());
    let body = assert_error(
        server.post("/indexes/films/documents/edit", json!({"function": "doc"})),
        400,
        "feature_not_enabled",
    );
    assert_eq!(
        body["message"],
        "Using the documents edit route requires enabling the `edit documents by function` experimental feature. See https://github.com/orgs/meilisearch/discussions/762"
    );
    assert_eq!(server.get("/tasks").expect(200)["total"], 0);
}

#[test]
fn a_function_edits_the_filtered_documents_with_the_context() {
    let server = setup();
    let before = by_id(&server);
    let function = "doc.title = doc.title.to_upper(); doc.tag = context.tag;";
    let summary = server
        .post(
            "/indexes/films/documents/edit",
            json!({"function": function, "filter": "major_genre = Comedy", "context": {"tag": "xyzzyplugh"}}),
        )
        .summary(202);
    assert_eq!(summary["type"], "documentEdition");
    let task = server.wait_ok(summary["taskUid"].as_u64().unwrap());
    let comedies: Vec<u64> = before
        .values()
        .filter(|d| d["major_genre"] == "Comedy")
        .map(|d| d["id"].as_u64().unwrap())
        .collect();
    assert!(comedies.len() > 10, "the slice has comedies");
    assert_eq!(
        task["details"],
        json!({
            "editedDocuments": comedies.len(),
            "deletedDocuments": 0,
            "originalFilter": "\"major_genre = Comedy\"",
            "context": {"tag": "xyzzyplugh"},
            "function": function,
        })
    );

    let after = by_id(&server);
    assert_eq!(after.len(), before.len());
    for (id, old) in &before {
        let new = &after[id];
        if comedies.contains(id) {
            let mut expected = old.clone();
            expected["title"] = json!(old["title"].as_str().unwrap().to_uppercase());
            expected["tag"] = json!("xyzzyplugh");
            assert_eq!(new, &expected);
        } else {
            assert_eq!(new, old, "film {id} is not a comedy");
        }
    }
    // The edited documents are indexed again: the new field is searchable.
    let found = server.search("films", json!({"q": "xyzzyplugh", "limit": 1000}));
    assert_eq!(found["estimatedTotalHits"], comedies.len());

    let listed = server.get("/tasks?types=documentEdition").expect(200);
    assert_eq!(listed["total"], 1);
}

#[test]
fn setting_doc_to_unit_deletes_and_other_documents_are_kept() {
    let server = setup();
    let before = by_id(&server);
    // Without a filter every document runs; only the badly rated ones are deleted.
    let function = "if doc.imdb_rating != () && doc.imdb_rating < 4.0 { doc = () }";
    let task = server
        .post(
            "/indexes/films/documents/edit",
            json!({ "function": function }),
        )
        .task_uid();
    let task = server.wait_ok(task);
    let doomed: Vec<u64> = before
        .values()
        .filter(|d| d["imdb_rating"].as_f64().is_some_and(|r| r < 4.0))
        .map(|d| d["id"].as_u64().unwrap())
        .collect();
    assert!(!doomed.is_empty());
    assert_eq!(task["details"]["deletedDocuments"], doomed.len());
    assert_eq!(task["details"]["editedDocuments"], 0);
    assert_eq!(task["details"]["originalFilter"], Value::Null);
    let after = by_id(&server);
    assert_eq!(after.len(), before.len() - doomed.len());
    assert!(doomed.iter().all(|id| !after.contains_key(id)));
    let stats = server.get("/indexes/films/stats").expect(200);
    assert_eq!(stats["numberOfDocuments"], after.len());
}

#[test]
fn failing_functions_fail_their_task_and_change_nothing() {
    let server = setup();
    let before = by_id(&server);
    for (function, message) in [
        (
            "doc.id = 0",
            "Document editions cannot modify a document's primary key",
        ),
        (
            "doc = 12",
            "Document editions must keep documents as objects",
        ),
        ("loop { }", "Too many operations"),
        (
            "fn f(x) { f(x + 1) } f(0)",
            "Document edition runtime error",
        ),
        (
            "let s = \"ab\"; loop { s += s; }",
            "Document edition runtime error",
        ),
        ("doc.missing.deeper = 1", "Document edition runtime error"),
    ] {
        let task = server
            .post(
                "/indexes/films/documents/edit",
                json!({"function": function, "filter": "id < 50"}),
            )
            .task_uid();
        let task = server.wait_failed(task, "edit_documents_by_function_error");
        let text = task["error"]["message"].as_str().unwrap();
        assert!(text.contains(message), "{function}: {text}");
        assert_eq!(task["details"]["editedDocuments"], 0);
    }
    assert_eq!(by_id(&server), before);
}

#[test]
fn bad_requests_are_refused_before_any_task() {
    let server = setup();
    let path = "/indexes/films/documents/edit";
    let body = assert_error(
        server.post(path, json!({"filter": "id = 1"})),
        400,
        "missing_document_edition_function",
    );
    assert_eq!(body["message"], "Missing field `function`");
    assert_error(
        server.post(path, json!({"function": 1})),
        400,
        "invalid_document_edition_function_filter",
    );
    assert_error(
        server.post(path, json!({"function": "doc", "nope": 1})),
        400,
        "bad_request",
    );
    assert_error(
        server.post(path, json!({"function": "doc.title = "})),
        400,
        "bad_request",
    );
    let body = assert_error(
        server.post(path, json!({"function": "doc", "context": "x"})),
        400,
        "invalid_document_edition_context",
    );
    assert_eq!(body["message"], "The context must be an object");
    assert_error(
        server.post(path, json!({"function": "doc", "filter": "id = "})),
        400,
        "invalid_document_filter",
    );
    assert_error(
        server.post(path, json!({"function": "doc", "filter": ""})),
        400,
        "invalid_document_filter",
    );
    let tasks = server.get("/tasks?types=documentEdition").expect(200);
    assert_eq!(tasks["total"], 0);
}
