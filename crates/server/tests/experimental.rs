//! `GET/PATCH /experimental-features` over HTTP: the flags Meilisearch lists, their
//! validation, and the features they gate (`CONTAINS` in filters) answering
//! `feature_not_enabled` while off.

mod common;

use common::{assert_error, movies, start_server, Server};
use serde_json::{json, Value};

const FLAGS: &[&str] = &[
    "metrics",
    "logsRoute",
    "editDocumentsByFunction",
    "containsFilter",
    "dynamicSearchRules",
    "network",
    "getTaskDocumentsRoute",
    "taskQueueCompactionRoute",
    "compositeEmbedders",
    "chatCompletions",
    "multimodal",
    "foreignKeys",
    "disableDocumentsFetchQueue",
    "legacySearch",
    "renderRoute",
];

fn fresh() -> Server {
    start_server(quarry_server::ServerConfig::default())
}

#[test]
fn every_flag_starts_off_and_patch_changes_only_what_it_names() {
    let server = fresh();
    let body = server.get("/experimental-features").expect(200);
    let names: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, FLAGS);
    assert!(body.as_object().unwrap().values().all(|v| v == false));

    let patched = server
        .patch(
            "/experimental-features",
            json!({"containsFilter": true, "network": true}),
        )
        .expect(200);
    assert_eq!(patched["containsFilter"], true);
    assert_eq!(patched["network"], true);
    assert_eq!(patched["metrics"], false);
    assert_eq!(server.get("/experimental-features").expect(200), patched);

    // `null` keeps a flag as it is; an empty object changes nothing.
    let again = server
        .patch(
            "/experimental-features",
            json!({"network": null, "metrics": true}),
        )
        .expect(200);
    assert_eq!(again["network"], true);
    assert_eq!(again["metrics"], true);
    assert_eq!(
        server
            .patch("/experimental-features", json!({}))
            .expect(200),
        again
    );

    // Every flag can be turned on and off (what the SDKs' own tests do).
    let all_on: Value = FLAGS.iter().map(|f| (f.to_string(), json!(true))).collect();
    let on = server.patch("/experimental-features", all_on).expect(200);
    assert!(FLAGS.iter().all(|f| on[*f] == true), "{on}");
    let all_off: Value = FLAGS
        .iter()
        .map(|f| (f.to_string(), json!(false)))
        .collect();
    let off = server.patch("/experimental-features", all_off).expect(200);
    assert!(FLAGS.iter().all(|f| off[*f] == false), "{off}");
}

#[test]
fn bad_patches_are_refused_and_change_nothing() {
    let server = fresh();
    let before = server
        .patch("/experimental-features", json!({"metrics": true}))
        .expect(200);

    let body = assert_error(
        server.patch(
            "/experimental-features",
            json!({"metrics": false, "vectorStore": true}),
        ),
        400,
        "bad_request",
    );
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("Unknown field `vectorStore`: expected one of `metrics`, `logsRoute`, `editDocumentsByFunction`"),
        "{message}"
    );
    let body = assert_error(
        server.patch("/experimental-features", json!({"metrics": "yes"})),
        400,
        "bad_request",
    );
    assert_eq!(
        body["message"],
        "Invalid value type at `.metrics`: expected a boolean, but found a string: `\"yes\"`"
    );
    assert_error(
        server.patch("/experimental-features", json!([true])),
        400,
        "bad_request",
    );
    assert_error(
        server.raw(
            "PATCH",
            "/experimental-features",
            Some("application/json"),
            "{",
        ),
        400,
        "malformed_payload",
    );
    assert_eq!(server.get("/experimental-features").expect(200), before);
}

#[test]
fn contains_in_a_filter_needs_the_contains_filter_feature() {
    let server = fresh();
    server.create_index("films", Some("id"));
    let task = server
        .patch(
            "/indexes/films/settings",
            json!({"filterableAttributes": ["title", "major_genre"]}),
        )
        .task_uid();
    server.wait_ok(task);
    let films: Vec<Value> = movies().iter().take(600).cloned().collect();
    server.add_documents("films", Value::Array(films.clone()));

    let filter = "major_genre = Drama AND title CONTAINS love";
    let body = assert_error(
        server.post("/indexes/films/search", json!({ "filter": filter })),
        400,
        "feature_not_enabled",
    );
    assert_eq!(
        body["message"],
        format!("Using `CONTAINS` in a filter requires enabling the `contains filter` experimental feature. See https://github.com/orgs/meilisearch/discussions/763\n31:39 {filter}")
    );
    // The array form, `NOT CONTAINS`, and the documents routes are refused too.
    assert_error(
        server.post(
            "/indexes/films/search",
            json!({"filter": ["major_genre = Drama", ["title NOT CONTAINS the"]]}),
        ),
        400,
        "feature_not_enabled",
    );
    assert_error(
        server.post(
            "/indexes/films/documents/fetch",
            json!({ "filter": filter }),
        ),
        400,
        "feature_not_enabled",
    );
    assert_error(
        server.get("/indexes/films/documents?filter=title%20CONTAINS%20love"),
        400,
        "feature_not_enabled",
    );
    // `STARTS WITH` is not behind the feature, as in Meilisearch.
    server
        .post(
            "/indexes/films/search",
            json!({"filter": "title STARTS WITH the"}),
        )
        .expect(200);

    server
        .patch("/experimental-features", json!({"containsFilter": true}))
        .expect(200);
    let found = server
        .post(
            "/indexes/films/search",
            json!({"filter": filter, "limit": 1000}),
        )
        .expect(200);
    let expected: Vec<u64> = films
        .iter()
        .filter(|f| {
            f["major_genre"] == "Drama"
                && f["title"]
                    .as_str()
                    .is_some_and(|t| t.to_lowercase().contains("love"))
        })
        .map(|f| f["id"].as_u64().unwrap())
        .collect();
    assert!(!expected.is_empty(), "the slice has loving dramas");
    let mut got = common::hit_ids(&found);
    got.sort_unstable();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort_unstable();
    assert_eq!(got, expected_sorted);
}
