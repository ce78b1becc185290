//! Answers the official SDKs' integration suites compare with Meilisearch's, pinned one by one:
//! each test is a difference found by running those suites against Meilisearch 1.50 and
//! against Quarry (same request, same status, body shape, code and message), fixed here.

mod common;

use common::{assert_error, server, start_server, unique_uid, Server};
use quarry_auth::tenant_token::{sign, Algorithm};
use serde_json::{json, Value};

const BOOKS: &str = r#"[
  {"id": 123, "title": "Pride and Prejudice", "comment": "A great book", "genre": "romance"},
  {"id": 456, "title": "Le Petit Prince", "comment": "A french book about a prince that walks on little cute planets", "genre": "adventure"},
  {"id": 2, "title": "Le Rouge et le Noir", "comment": "Another french book", "genre": "romance"},
  {"id": 1, "title": "Alice In Wonderland", "comment": "A weird book", "genre": "fantasy"},
  {"id": 1344, "title": "The Hobbit", "comment": "An awesome book", "genre": "fantasy"},
  {"id": 4, "title": "Harry Potter and the Half-Blood Prince", "comment": "The best book", "genre": "fantasy"},
  {"id": 42, "title": "The Hitchhiker's Guide to the Galaxy", "genre": "fantasy"}
]"#;

fn books() -> Value {
    serde_json::from_str(BOOKS).unwrap()
}

/// A new index holding the books, with `settings` applied first.
fn books_index(server: &Server, prefix: &str, settings: Value) -> String {
    let uid = unique_uid(prefix);
    server.create_index(&uid, Some("id"));
    if !settings.is_null() {
        let task = server
            .patch(&format!("/indexes/{uid}/settings"), settings)
            .task_uid();
        server.wait_ok(task);
    }
    server.add_documents(&uid, books());
    uid
}

#[test]
fn swapping_an_index_with_itself_is_a_duplicate_in_the_swap_code() {
    let server = server();
    let response = server.post("/swap-indexes", json!([{"indexes": ["doggo", "doggo"]}]));
    let body = assert_error(response, 400, "invalid_swap_duplicate_index_found");
    assert_eq!(
        body["message"],
        "Indexes must be declared only once during a swap. `doggo` was specified several times."
    );
    // Several duplicates are listed in sorted order.
    let response = server.post(
        "/swap-indexes",
        json!([{"indexes": ["b", "a"]}, {"indexes": ["a", "b"]}]),
    );
    let body = assert_error(response, 400, "invalid_swap_duplicate_index_found");
    assert_eq!(
        body["message"],
        "Indexes must be declared only once during a swap. `a`, `b` were specified several times."
    );
}

#[test]
fn webhook_authorization_is_redacted_as_meilisearch_does() {
    let server = server();
    let created = server
        .post(
            "/webhooks",
            json!({"url": "https://example.com", "headers": {"authorization": "TOKEN"}}),
        )
        .expect(201);
    assert_eq!(created["headers"]["authorization"], "XXX...");
    let uuid = created["uuid"].as_str().unwrap();
    let updated = server
        .patch(
            &format!("/webhooks/{uuid}"),
            json!({"headers": {"authorization": "UPDATED TOKEN"}}),
        )
        .expect(200);
    assert_eq!(updated["headers"]["authorization"], "UPXXXX...");
    assert_eq!(updated["url"], "https://example.com");
    let bearer = server
        .patch(
            &format!("/webhooks/{uuid}"),
            json!({"headers": {"authorization": "Bearer a-long-secret-token"}}),
        )
        .expect(200);
    assert_eq!(bearer["headers"]["authorization"], "Bearer a-XXXX...");
    server.delete(&format!("/webhooks/{uuid}")).expect(204);
}

#[test]
fn an_expired_tenant_token_says_until_when_it_was_valid() {
    const MASTER: &str = "masterKey-for-the-compat-tests";
    let server = start_server(quarry_server::ServerConfig {
        master_key: Some(MASTER.into()),
        ..Default::default()
    });
    let auth = [("Authorization", format!("Bearer {MASTER}"))];
    let headers: Vec<(&str, &str)> = auth.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let keys = server.raw_with_headers("GET", "/keys", None, &headers, Vec::new());
    let search_key = keys.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "Default Search API Key")
        .unwrap()
        .clone();
    let exp = 977_000_000; // December 2000
    let token = sign(
        Algorithm::HS256,
        &json!({"searchRules": ["*"], "apiKeyUid": search_key["uid"], "exp": exp}),
        search_key["key"].as_str().unwrap(),
    );
    let bearer = format!("Bearer {token}");
    let response = server.raw_with_headers(
        "POST",
        "/indexes/movies/search",
        Some("application/json"),
        &[("Authorization", bearer.as_str())],
        b"{}".to_vec(),
    );
    assert_eq!(response.status, 403, "{}", response.body);
    let body = response.body;
    common::assert_error_body(&body, "invalid_api_key", "auth");
    let message = body["message"].as_str().unwrap();
    let now = message
        .strip_prefix(&format!(
            "Tenant token expired. Was valid up to `{exp}` and we're now `"
        ))
        .and_then(|rest| rest.strip_suffix("`."))
        .unwrap_or_else(|| panic!("unexpected message: {message}"));
    assert!(now.parse::<i64>().unwrap() > exp);
}

#[test]
fn page_zero_holds_no_hits_but_counts_them() {
    let server = server();
    let uid = books_index(server, "page_zero", Value::Null);
    let body = server.search(&uid, json!({"hitsPerPage": 1, "page": 0}));
    assert_eq!(body["hits"], json!([]));
    assert_eq!(body["page"], 0);
    assert_eq!(body["hitsPerPage"], 1);
    assert_eq!(body["totalHits"], 7);
    assert_eq!(body["totalPages"], 7);

    let body = server.search(&uid, json!({"page": 0}));
    assert_eq!(body["hits"], json!([]));
    assert_eq!(body["hitsPerPage"], 20);
    assert_eq!(body["totalPages"], 1);

    let body = server.search(&uid, json!({"hitsPerPage": 0, "page": 0}));
    assert_eq!(body["hits"], json!([]));
    assert_eq!(body["totalPages"], 0);
    assert_eq!(body["totalHits"], 7);

    let body = server
        .post(
            "/multi-search",
            json!({"federation": {"page": 0, "hitsPerPage": 2}, "queries": [{"indexUid": uid}]}),
        )
        .expect(200);
    assert_eq!(body["hits"], json!([]));
    assert_eq!(body["page"], 0);
    assert_eq!(body["hitsPerPage"], 2);
    assert_eq!(body["totalPages"], 4);
}

#[test]
fn a_finished_batch_has_a_progress_trace() {
    let server = server();
    let task = server.create_index(&unique_uid("progress_trace"), None);
    let batch_uid = task["batchUid"].as_u64().unwrap();
    let batch = server.get(&format!("/batches/{batch_uid}")).expect(200);
    let trace = batch["stats"]["progressTrace"].as_object().unwrap();
    let total = trace["processing tasks"].as_str().unwrap();
    assert!(
        ["ns", "µs", "ms", "s"]
            .iter()
            .any(|unit| total.ends_with(unit)),
        "a duration: {total}"
    );
}

#[test]
fn raw_document_db_size_is_zero_without_documents() {
    let server = server();
    let uid = unique_uid("stats_empty");
    server.create_index(&uid, Some("id"));
    let stats = server.get(&format!("/indexes/{uid}/stats")).expect(200);
    assert_eq!(stats["rawDocumentDbSize"], 0);
    assert_eq!(stats["avgDocumentSize"], 0);
    server.add_documents(&uid, books());
    let stats = server.get(&format!("/indexes/{uid}/stats")).expect(200);
    let size = stats["rawDocumentDbSize"].as_u64().unwrap();
    assert!(size > 0);
    assert_eq!(stats["avgDocumentSize"].as_u64().unwrap(), size / 7);
}

#[test]
fn custom_metadata_is_kept_on_document_tasks() {
    let server = server();
    let uid = unique_uid("custom_metadata");
    let summary = server
        .post(
            &format!("/indexes/{uid}/documents?customMetadata=test-metadata"),
            books(),
        )
        .summary(202);
    assert_eq!(summary["customMetadata"], "test-metadata");
    let task = server.wait_ok(summary["taskUid"].as_u64().unwrap());
    assert_eq!(task["customMetadata"], "test-metadata");

    let routes = [
        ("DELETE", format!("/indexes/{uid}/documents/1"), Value::Null),
        (
            "POST",
            format!("/indexes/{uid}/documents/delete-batch"),
            json!([2]),
        ),
        (
            "POST",
            format!("/indexes/{uid}/documents/delete"),
            json!({"filter": "id = 3"}),
        ),
        ("DELETE", format!("/indexes/{uid}/documents"), Value::Null),
    ];
    for (method, path, body) in routes {
        let with_metadata = format!("{path}?customMetadata=delete-all-metadata");
        let bytes = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let content_type = (!body.is_null()).then_some("application/json");
        let response = server.raw(method, &with_metadata, content_type, bytes.clone());
        let summary = response.summary(202);
        assert_eq!(summary["customMetadata"], "delete-all-metadata", "{path}");
        let task = server.wait_task(summary["taskUid"].as_u64().unwrap());
        assert_eq!(task["customMetadata"], "delete-all-metadata", "{path}");
        // Another parameter is refused, as Meilisearch's deletion routes refuse it.
        let response = server.raw(method, &format!("{path}?other=1"), content_type, bytes);
        let body = assert_error(response, 400, "bad_request");
        assert!(
            body["message"].as_str().unwrap().contains("customMetadata"),
            "{body}"
        );
    }
    // A task without metadata shows no such field.
    let summary = server
        .delete(&format!("/indexes/{uid}/documents"))
        .summary(202);
    assert!(summary.get("customMetadata").is_none());
    let task = server.wait_ok(summary["taskUid"].as_u64().unwrap());
    assert!(task.get("customMetadata").is_none());
}

#[test]
fn highlighting_everything_formats_attributes_that_are_not_retrieved() {
    let server = server();
    let uid = books_index(server, "formatted_star", Value::Null);
    let body = server.search(
        &uid,
        json!({
            "q": "prince",
            "attributesToRetrieve": ["id", "title"],
            "attributesToHighlight": ["*"],
            "attributesToCrop": ["*"],
            "cropLength": 6,
            "filter": null,
            "showMatchesPosition": true,
        }),
    );
    let hit = body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == 456)
        .unwrap();
    assert!(hit.get("comment").is_none(), "{hit}");
    assert!(hit["_formatted"].get("comment").is_some(), "{hit}");
    assert_eq!(hit["_formatted"]["title"], "Le Petit <em>Prince</em>");
    assert_eq!(hit["_formatted"]["id"], "456");

    // Without `*`, `_formatted` keeps to the retrieved and the named attributes.
    let body = server.search(
        &uid,
        json!({"q": "prince", "attributesToRetrieve": ["id"], "attributesToHighlight": ["title"]}),
    );
    let formatted = body["hits"][0]["_formatted"].as_object().unwrap();
    let mut keys: Vec<&str> = formatted.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["id", "title"]);
}

#[test]
fn vectors_are_shown_only_on_demand() {
    let server = server();
    let uid = unique_uid("retrieve_vectors");
    server.add_documents(
        &uid,
        json!([
            {"id": 1, "title": "prince", "_vectors": {"manual": [0.1, 0.2]}},
            {"id": 2, "title": "prince"}
        ]),
    );
    let plain = server.get(&format!("/indexes/{uid}/documents")).expect(200);
    assert!(plain["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d.get("_vectors").is_none()));
    let with = server
        .get(&format!(
            "/indexes/{uid}/documents?retrieveVectors=true&fields=title"
        ))
        .expect(200);
    assert_eq!(
        with["results"],
        json!([
            {"title": "prince", "_vectors": {"manual": [0.1, 0.2]}},
            {"title": "prince", "_vectors": {}}
        ])
    );
    let fetched = server
        .post(
            &format!("/indexes/{uid}/documents/fetch"),
            json!({"retrieveVectors": true, "ids": ["2"]}),
        )
        .expect(200);
    assert_eq!(fetched["results"][0]["_vectors"], json!({}));
    let one = server
        .get(&format!("/indexes/{uid}/documents/1?retrieveVectors=true"))
        .expect(200);
    assert_eq!(one["_vectors"], json!({"manual": [0.1, 0.2]}));

    let hits = server.search(&uid, json!({"q": "prince"}))["hits"].clone();
    assert!(hits
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h.get("_vectors").is_none()));
    let hits = server.search(
        &uid,
        json!({"q": "prince", "retrieveVectors": true, "attributesToRetrieve": ["id"], "sort": []}),
    )["hits"]
        .clone();
    assert!(hits
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["_vectors"].is_object()));
}

#[test]
fn federation_takes_distinct_and_performance_details() {
    let server = server();
    let uid = books_index(
        server,
        "federated_distinct",
        json!({"filterableAttributes": ["genre"]}),
    );
    let body = server
        .post(
            "/multi-search",
            json!({
                "federation": {"distinct": "genre", "showPerformanceDetails": true},
                "queries": [{"indexUid": uid, "q": ""}, {"indexUid": uid, "q": "book"}]
            }),
        )
        .expect(200);
    let hits = body["hits"].as_array().unwrap();
    let mut genres: Vec<&str> = hits.iter().map(|h| h["genre"].as_str().unwrap()).collect();
    genres.sort();
    assert_eq!(genres, ["adventure", "fantasy", "romance"], "{body}");
    assert_eq!(body["estimatedTotalHits"], 3);
    assert!(body["performanceDetails"].is_object(), "{body}");

    // The attribute is found even when no query retrieves it, and is not shown then.
    let body = server
        .post(
            "/multi-search",
            json!({
                "federation": {"distinct": "genre"},
                "queries": [{"indexUid": uid, "attributesToRetrieve": ["id"]}]
            }),
        )
        .expect(200);
    assert_eq!(body["hits"].as_array().unwrap().len(), 3, "{body}");
    assert!(body["hits"][0].get("genre").is_none());

    let response = server.post(
        "/multi-search",
        json!({
            "federation": {"distinct": "genre"},
            "queries": [{"indexUid": uid, "distinct": "genre"}]
        }),
    );
    assert_error(response, 400, "invalid_multi_search_distinct");
    let response = server.post(
        "/multi-search",
        json!({
            "federation": {},
            "queries": [{"indexUid": uid, "showPerformanceDetails": true}]
        }),
    );
    assert_error(
        response,
        400,
        "invalid_multi_search_query_show_performance_details",
    );
    let response = server.post(
        "/multi-search",
        json!({"federation": {"distinct": 3}, "queries": [{"indexUid": uid}]}),
    );
    assert_error(response, 400, "invalid_search_distinct");
}

#[test]
fn searches_give_performance_details_on_demand() {
    let server = server();
    let uid = books_index(server, "performance_details", Value::Null);
    let body = server.search(&uid, json!({"q": "prince", "showPerformanceDetails": true}));
    let details = body["performanceDetails"].as_object().unwrap();
    assert!(details.contains_key("search"), "{body}");
    assert!(server
        .search(&uid, json!({"q": "prince"}))
        .get("performanceDetails")
        .is_none());
    let body = server
        .post(
            "/multi-search",
            json!({"queries": [{"indexUid": uid, "q": "prince", "showPerformanceDetails": true}]}),
        )
        .expect(200);
    assert!(
        body["results"][0]["performanceDetails"].is_object(),
        "{body}"
    );
}

#[test]
fn matching_strategies_keep_phrases_and_drop_unknown_words_first() {
    let server = server();
    let uid = unique_uid("matching_strategy");
    server.add_documents(
        &uid,
        json!([
            {"id": 1, "value": "Harry Potter and the Goblet of Fire"},
            {"id": 2, "value": "Harry Potter and the Deathly Hallows"},
            {"id": 3, "value": "The Social Network"}
        ]),
    );
    // `last` may drop `harry` but never the phrase.
    let body = server.search(&uid, json!({"q": "harry \"of Fire\""}));
    assert_eq!(common::hit_ids(&body), [1]);
    // `frequency` drops first the word no document has.
    let body = server.search(
        &uid,
        json!({"q": "Harry Styles", "matchingStrategy": "frequency"}),
    );
    let mut ids = common::hit_ids(&body);
    ids.sort();
    assert_eq!(ids, [1, 2]);
    let body = server.search(
        &uid,
        json!({"q": "Harry Styles", "matchingStrategy": "all"}),
    );
    assert!(common::hit_ids(&body).is_empty());
}

#[test]
fn ranking_scores_match_meilisearch_for_word_positions() {
    let server = server();
    let uid = unique_uid("word_position_scores");
    server.add_documents(
        &uid,
        json!([
            {"id": 456, "title": "Le Petit Prince", "comment": "A french book",
             "genre": ["children", "fantasy", "philosophical"], "author": "Antoine de Saint-Exupéry"},
            {"id": 4, "title": "Harry Potter and the Half-Blood Prince", "comment": "The best book",
             "genre": ["fantasy", "adventure"], "author": "J. K. Rowling"}
        ]),
    );
    // What Meilisearch 1.50 answered for this request on these documents: `prince` at word 2
    // of the title is wordPosition 9/11, at word 6 it is 8/11.
    let body = server.search(&uid, json!({"q": "prince", "showRankingScore": true}));
    let scores: Vec<(i64, f64)> = body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["id"].as_i64().unwrap(),
                h["_rankingScore"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(scores.len(), 2, "{body}");
    assert_eq!(scores[0].0, 456);
    assert!(
        (scores[0].1 - 0.8787878787878788).abs() < 1e-9,
        "{scores:?}"
    );
    assert_eq!(scores[1].0, 4);
    assert!(
        (scores[1].1 - 0.8333333333333334).abs() < 1e-9,
        "{scores:?}"
    );
    let details = server.search(
        &uid,
        json!({"q": "prince", "showRankingScoreDetails": true, "limit": 1}),
    );
    let position = &details["hits"][0]["_rankingScoreDetails"]["wordPosition"];
    assert!(
        (position["score"].as_f64().unwrap() - 9.0 / 11.0).abs() < 1e-9,
        "{position}"
    );
    // The SDKs' threshold test: 0.8 keeps the best hit, 0.9 keeps none.
    let kept = server.search(&uid, json!({"q": "prince", "rankingScoreThreshold": 0.8}));
    assert_eq!(kept["hits"].as_array().unwrap().len(), 2, "{kept}");
    let none = server.search(&uid, json!({"q": "prince", "rankingScoreThreshold": 0.9}));
    assert_eq!(none["hits"].as_array().unwrap().len(), 0, "{none}");
}
