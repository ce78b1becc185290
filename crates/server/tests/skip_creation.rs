//! `skipCreation=true` on document additions, as Meilisearch means it: documents the index
//! already holds are replaced (`POST`) or updated (`PUT`), the others are skipped instead of
//! created; the flag's value is checked.

mod common;

use common::{assert_error, movie, server, some_movies, unique_uid};
use serde_json::{json, Value};

fn add(index: &str, method: &str, query: &str, documents: Value) -> Value {
    let server = server();
    let task = server
        .raw(
            method,
            &format!("/indexes/{index}/documents?{query}"),
            Some("application/json"),
            documents.to_string(),
        )
        .task_uid();
    server.wait_ok(task)
}

#[test]
fn only_documents_the_index_holds_are_written() {
    let server = server();
    let uid = unique_uid("skip_creation");
    server.add_documents(&uid, some_movies(5));
    let first = movie_id(0);
    let deleted = movie_id(1);
    let task = server
        .delete(&format!("/indexes/{uid}/documents/{deleted}"))
        .task_uid();
    server.wait_ok(task);

    let task = add(
        &uid,
        "POST",
        "skipCreation=true",
        json!([
            {"id": first, "title": "Replaced"},
            {"id": deleted, "title": "Not brought back"},
            {"id": 999_999_001u64, "title": "Never created"}
        ]),
    );
    assert_eq!(
        task["details"],
        json!({"receivedDocuments": 3, "indexedDocuments": 1})
    );
    let replaced = server
        .get(&format!("/indexes/{uid}/documents/{first}"))
        .expect(200);
    assert_eq!(replaced, json!({"id": first, "title": "Replaced"}));
    for missing in [deleted, 999_999_001] {
        assert_error(
            server.get(&format!("/indexes/{uid}/documents/{missing}")),
            404,
            "document_not_found",
        );
    }

    // `PUT` merges into what exists, and skips the rest.
    let second = movie_id(2);
    let task = add(
        &uid,
        "PUT",
        "skipCreation=True",
        json!([{"id": second, "rating": 5}, {"id": 999_999_002u64, "rating": 1}]),
    );
    assert_eq!(task["details"]["indexedDocuments"], 1);
    let updated = server
        .get(&format!("/indexes/{uid}/documents/{second}"))
        .expect(200);
    assert_eq!(updated["rating"], 5);
    assert_eq!(updated["title"], movie(second)["title"]);
    assert_eq!(server.all_documents(&uid).len(), 4);

    // `false` creates as usual.
    let task = add(
        &uid,
        "POST",
        "skipCreation=false",
        json!([{"id": 999_999_003u64, "title": "Created"}]),
    );
    assert_eq!(task["details"]["indexedDocuments"], 1);
    assert_eq!(server.all_documents(&uid).len(), 5);
}

#[test]
fn the_flag_must_be_a_boolean() {
    let server = server();
    let body = assert_error(
        server.raw(
            "POST",
            "/indexes/skip_creation_bad/documents?skipCreation=yes",
            Some("application/json"),
            "[]",
        ),
        400,
        "invalid_skip_creation",
    );
    assert_eq!(
        body["message"],
        "skipCreation must be either `true` or `false`. Found: `yes`"
    );
}

fn movie_id(position: usize) -> u64 {
    some_movies(position + 1)[position]["id"].as_u64().unwrap()
}
