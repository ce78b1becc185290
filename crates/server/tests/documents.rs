//! Document routes over real HTTP with real storage: every payload format (JSON array and
//! object, NDJSON, typed CSV, gzip bodies), primary keys (given, inferred, refused), additions
//! that replace or merge, reads (one, browse, fetch) and deletions, and every request or task
//! error Meilisearch gives for bad input, checking each time that bad input changed nothing.

mod common;

use std::sync::OnceLock;

use common::*;
use serde_json::{json, Value};

fn docs_path(index: &str) -> String {
    format!("/indexes/{index}/documents")
}

/// An index holding films 1..=5 of the corpus, primary key `id`.
fn index_with_five_movies(prefix: &str) -> String {
    let s = server();
    let uid = unique_uid(prefix);
    let task = s.add_documents(&uid, some_movies(5));
    assert_eq!(task["details"]["indexedDocuments"], 5);
    uid
}

/// The stored documents of an index sorted by id, for before/after comparisons.
fn snapshot(index: &str) -> Vec<Value> {
    let mut docs = server().all_documents(index);
    docs.sort_by_key(|d| d["id"].to_string());
    docs
}

#[test]
fn add_json_array_creates_the_index_and_stores_documents() {
    let s = server();
    let uid = unique_uid("docs_json_array");
    let body = s.post(&docs_path(&uid), some_movies(10)).expect(202);
    assert_summary_shape(&body);
    assert_eq!(body["type"], "documentAdditionOrUpdate");
    assert_eq!(body["indexUid"], uid.as_str());
    let task = s.wait_ok(body["taskUid"].as_u64().unwrap());
    assert_eq!(
        task["details"],
        json!({"receivedDocuments": 10, "indexedDocuments": 10})
    );
    // The index was created implicitly, with the inferred primary key.
    let index = s.get(&format!("/indexes/{uid}")).expect(200);
    assert_eq!(index["primaryKey"], "id");
    // Every document is stored exactly as sent.
    let stored = snapshot(&uid);
    let mut sent = movies()[..10].to_vec();
    sent.sort_by_key(|d| d["id"].to_string());
    assert_eq!(stored, sent);
}

#[test]
fn add_single_object() {
    let s = server();
    let uid = unique_uid("docs_object");
    let film = movie(3).clone();
    let task = s.post(&docs_path(&uid), film.clone()).task_uid();
    let task = s.wait_ok(task);
    assert_eq!(
        task["details"],
        json!({"receivedDocuments": 1, "indexedDocuments": 1})
    );
    assert_eq!(s.get(&format!("{}/3", docs_path(&uid))).expect(200), film);
}

#[test]
fn add_ndjson() {
    let s = server();
    let uid = unique_uid("docs_ndjson");
    let task = s.enqueue_movies(&uid);
    let task = s.wait_ok(task);
    assert_eq!(
        task["details"],
        json!({"receivedDocuments": MOVIES_COUNT, "indexedDocuments": MOVIES_COUNT})
    );
    let page = s.get(&format!("{}?limit=1", docs_path(&uid))).expect(200);
    assert_eq!(page["total"], MOVIES_COUNT);
    assert_eq!(
        s.get(&format!("{}/1234", docs_path(&uid))).expect(200),
        *movie(1234)
    );
    // Blank lines between NDJSON documents are ignored.
    let uid = unique_uid("docs_ndjson_blank");
    let text = format!("{}\n\n{}\n", movie(1), movie(2));
    let task = s
        .raw("POST", &docs_path(&uid), Some("application/x-ndjson"), text)
        .task_uid();
    assert_eq!(s.wait_ok(task)["details"]["indexedDocuments"], 2);
}

#[test]
fn add_csv_with_typed_headers() {
    let s = server();
    let uid = unique_uid("docs_csv");
    let csv = "id,title,price:number,available:boolean,year:string\n\
               1,The Land Girls,12.5,true,1998\n\
               2,\"First Love, Last Rites\",7,false,1998\n\
               3,I Married a Strange Person,,,\n";
    let body = s
        .raw("POST", &docs_path(&uid), Some("text/csv"), csv)
        .expect(202);
    assert_summary_shape(&body);
    let task = s.wait_ok(body["taskUid"].as_u64().unwrap());
    assert_eq!(task["details"]["indexedDocuments"], 3);
    let index = s.get(&format!("/indexes/{uid}")).expect(200);
    assert_eq!(index["primaryKey"], "id");
    let path = docs_path(&uid);
    assert_eq!(
        s.get(&format!("{path}/1")).expect(200),
        json!({"id": "1", "title": "The Land Girls", "price": 12.5, "available": true, "year": "1998"})
    );
    assert_eq!(
        s.get(&format!("{path}/2")).expect(200),
        json!({"id": "2", "title": "First Love, Last Rites", "price": 7, "available": false, "year": "1998"})
    );
    assert_eq!(
        s.get(&format!("{path}/3")).expect(200),
        json!({"id": "3", "title": "I Married a Strange Person", "price": null, "available": null, "year": null})
    );
}

#[test]
fn add_csv_with_a_custom_delimiter() {
    let s = server();
    let uid = unique_uid("docs_csv_delim");
    let csv = "id;title;rating:number\n10;Alien;8.5\n11;Aliens, the sequel;8.4\n";
    let task = s
        .raw(
            "POST",
            &format!("{}?csvDelimiter=%3B", docs_path(&uid)),
            Some("text/csv"),
            csv,
        )
        .task_uid();
    s.wait_ok(task);
    assert_eq!(
        s.get(&format!("{}/11", docs_path(&uid))).expect(200),
        json!({"id": "11", "title": "Aliens, the sequel", "rating": 8.4})
    );
    // A delimiter is only for CSV, and must be one ASCII character.
    assert_error(
        s.post(
            &format!("{}?csvDelimiter=%3B", docs_path(&uid)),
            json!([{"id": 1}]),
        ),
        400,
        "invalid_document_csv_delimiter",
    );
    assert_error(
        s.raw(
            "POST",
            &format!("{}?csvDelimiter=ab", docs_path(&uid)),
            Some("text/csv"),
            "id\n1\n",
        ),
        400,
        "invalid_document_csv_delimiter",
    );
    assert_eq!(snapshot(&uid).len(), 2);
}

#[test]
fn primary_key_query_parameter() {
    let s = server();
    let uid = unique_uid("docs_pk_param");
    // Two fields end with `id`: only the parameter makes this payload acceptable.
    let docs = json!([
        {"isbn_id": "a1", "author_id": 7, "title": "Dune"},
        {"isbn_id": "b2", "author_id": 7, "title": "Children of Dune"},
    ]);
    let task = s
        .post(&format!("{}?primaryKey=isbn_id", docs_path(&uid)), docs)
        .task_uid();
    s.wait_ok(task);
    let index = s.get(&format!("/indexes/{uid}")).expect(200);
    assert_eq!(index["primaryKey"], "isbn_id");
    assert_eq!(
        s.get(&format!("{}/b2", docs_path(&uid))).expect(200)["title"],
        "Children of Dune"
    );

    // The same key again is fine; a different one fails and changes nothing.
    let task = s
        .post(
            &format!("{}?primaryKey=isbn_id", docs_path(&uid)),
            json!([{"isbn_id": "c3", "title": "Dune Messiah"}]),
        )
        .task_uid();
    s.wait_ok(task);
    let before = s.document_ids(&uid, "isbn_id");
    let task = s
        .post(
            &format!("{}?primaryKey=title", docs_path(&uid)),
            json!([{"isbn_id": "d4", "title": "God Emperor of Dune"}]),
        )
        .task_uid();
    s.wait_failed(task, "index_primary_key_already_exists");
    assert_eq!(s.document_ids(&uid, "isbn_id"), before);
    assert_eq!(
        s.get(&format!("{}/c3", docs_path(&uid))).expect(200),
        json!({"isbn_id": "c3", "title": "Dune Messiah"})
    );
    assert_eq!(
        s.get(&format!("/indexes/{uid}")).expect(200)["primaryKey"],
        "isbn_id"
    );
}

#[test]
fn primary_key_is_inferred_from_a_field_ending_in_id() {
    let s = server();
    let uid = unique_uid("docs_pk_infer");
    let task = s
        .post(
            &docs_path(&uid),
            json!([{"title": "Heat", "movieId": "m1"}, {"title": "Ronin", "movieId": "m2"}]),
        )
        .task_uid();
    s.wait_ok(task);
    assert_eq!(
        s.get(&format!("/indexes/{uid}")).expect(200)["primaryKey"],
        "movieId"
    );
    assert_eq!(
        s.get(&format!("{}/m2", docs_path(&uid))).expect(200)["title"],
        "Ronin"
    );
}

#[test]
fn primary_key_inference_without_candidate_fails() {
    let s = server();
    let uid = unique_uid("docs_pk_none");
    s.create_index(&uid, None);
    // `identity` contains `id` but does not end with it.
    let task = s
        .post(
            &docs_path(&uid),
            json!([{"title": "Heat", "identity": "x"}]),
        )
        .task_uid();
    let task = s.wait_failed(task, "index_primary_key_no_candidate_found");
    assert_eq!(task["details"]["receivedDocuments"], 1);
    assert_eq!(task["details"]["indexedDocuments"], 0);
    assert_eq!(
        s.get(&format!("/indexes/{uid}")).expect(200)["primaryKey"],
        Value::Null
    );
    assert_eq!(s.all_documents(&uid).len(), 0);
}

#[test]
fn primary_key_inference_with_several_candidates_fails() {
    let s = server();
    let uid = unique_uid("docs_pk_many");
    s.create_index(&uid, None);
    let task = s
        .post(
            &docs_path(&uid),
            json!([{"id": 1, "movie_id": 2, "title": "Heat"}]),
        )
        .task_uid();
    let task = s.wait_failed(task, "index_primary_key_multiple_candidates_found");
    assert_eq!(task["details"]["indexedDocuments"], 0);
    assert_eq!(
        s.get(&format!("/indexes/{uid}")).expect(200)["primaryKey"],
        Value::Null
    );
    assert_eq!(s.all_documents(&uid).len(), 0);
}

#[test]
fn missing_document_id_fails_the_task_and_applies_nothing() {
    let s = server();
    let uid = index_with_five_movies("docs_missing_id");
    let before = snapshot(&uid);
    let task = s
        .post(
            &docs_path(&uid),
            json!([{"id": 100, "title": "Fine"}, {"title": "No id here"}]),
        )
        .task_uid();
    let task = s.wait_failed(task, "missing_document_id");
    assert_eq!(task["details"]["receivedDocuments"], 2);
    assert_eq!(task["details"]["indexedDocuments"], 0);
    assert!(task["error"]["message"].as_str().unwrap().contains("`id`"));
    assert_eq!(snapshot(&uid), before);
}

#[test]
fn invalid_document_id_fails_the_task_and_applies_nothing() {
    let s = server();
    let uid = index_with_five_movies("docs_invalid_id");
    let before = snapshot(&uid);
    for bad in [
        json!("has space"),
        json!("slash/in"),
        json!(1.5),
        json!(true),
        json!({"a": 1}),
        json!("x".repeat(512)),
    ] {
        let task = s
            .post(
                &docs_path(&uid),
                json!([{"id": 200, "title": "Fine"}, {"id": bad, "title": "Bad"}]),
            )
            .task_uid();
        let task = s.wait_failed(task, "invalid_document_id");
        assert_eq!(task["details"]["indexedDocuments"], 0, "{bad}");
        assert_eq!(snapshot(&uid), before, "after id {bad}");
    }
    // Ids may be strings of letters, digits, `-` and `_`, or integers.
    let task = s
        .post(
            &docs_path(&uid),
            json!([{"id": "Az-09_x"}, {"id": 42}, {"id": "x".repeat(511)}]),
        )
        .task_uid();
    s.wait_ok(task);
}

#[test]
fn a_failed_task_in_a_batch_does_not_stop_the_others() {
    let s = server();
    // Keep the writer busy so that the three tasks below are enqueued together.
    let blocker = unique_uid("docs_batch_blocker");
    s.enqueue_movies(&blocker);
    let uid = unique_uid("docs_batch_mixed");
    let good1 = s
        .post(&docs_path(&uid), json!([{"id": 1, "title": "One"}]))
        .task_uid();
    let bad = s
        .post(
            &docs_path(&uid),
            json!([{"id": 2, "title": "Two"}, {"id": "bad id", "title": "Bad"}]),
        )
        .task_uid();
    let good2 = s
        .post(&docs_path(&uid), json!([{"id": 3, "title": "Three"}]))
        .task_uid();
    s.wait_ok(good1);
    s.wait_failed(bad, "invalid_document_id");
    s.wait_ok(good2);
    assert_eq!(s.document_ids(&uid, "id"), ["1", "3"]);
}

#[test]
fn post_replaces_and_put_merges() {
    let s = server();
    let uid = unique_uid("docs_replace_merge");
    s.add_documents(
        &uid,
        json!([
            {"id": 1, "title": "Heat", "year": 1995, "director": "Michael Mann"},
            {"id": 2, "title": "Ronin", "year": 1998},
        ]),
    );
    // PUT: fields are merged into the stored document.
    let body = s
        .put(
            &docs_path(&uid),
            json!([{"id": 1, "year": 1996, "rating": 8.3}]),
        )
        .expect(202);
    assert_eq!(body["type"], "documentAdditionOrUpdate");
    let task = s.wait_ok(body["taskUid"].as_u64().unwrap());
    assert_eq!(
        task["details"],
        json!({"receivedDocuments": 1, "indexedDocuments": 1})
    );
    assert_eq!(
        s.get(&format!("{}/1", docs_path(&uid))).expect(200),
        json!({"id": 1, "title": "Heat", "year": 1996, "director": "Michael Mann", "rating": 8.3})
    );
    // POST: the document is replaced as a whole.
    s.add_documents(&uid, json!([{"id": 2, "rating": 7.2}]));
    assert_eq!(
        s.get(&format!("{}/2", docs_path(&uid))).expect(200),
        json!({"id": 2, "rating": 7.2})
    );
    // PUT of an unknown id adds it.
    let task = s
        .put(&docs_path(&uid), json!({"id": 3, "title": "Collateral"}))
        .task_uid();
    s.wait_ok(task);
    assert_eq!(s.document_ids(&uid, "id"), ["1", "2", "3"]);
    // Later documents of one payload win over earlier ones with the same id.
    s.add_documents(
        &uid,
        json!([{"id": 3, "title": "first"}, {"id": 3, "title": "second"}]),
    );
    assert_eq!(
        s.get(&format!("{}/3", docs_path(&uid))).expect(200),
        json!({"id": 3, "title": "second"})
    );
}

#[test]
fn get_one_document_with_fields() {
    let s = server();
    let uid = index_with_five_movies("docs_get_one");
    let path = docs_path(&uid);
    assert_eq!(s.get(&format!("{path}/2")).expect(200), *movie(2));
    assert_eq!(
        s.get(&format!("{path}/2?fields=title,release_year"))
            .expect(200),
        json!({"title": movie(2)["title"], "release_year": movie(2)["release_year"]})
    );
    assert_eq!(s.get(&format!("{path}/2?fields=*")).expect(200), *movie(2));
    assert_eq!(
        s.get(&format!("{path}/2?fields=nope")).expect(200),
        json!({})
    );
    let body = assert_error(s.get(&format!("{path}/999999")), 404, "document_not_found");
    assert_eq!(body["message"], "Document `999999` not found.");
    assert_error(s.get(&format!("{path}/2?foo=bar")), 400, "bad_request");
}

#[test]
fn browse_documents_with_offset_limit_and_fields() {
    let s = server();
    let uid = unique_uid("docs_browse");
    s.add_documents(&uid, some_movies(30));
    let path = docs_path(&uid);

    let page = s.get(&path).expect(200);
    let mut keys: Vec<&String> = page.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["limit", "offset", "results", "total"]);
    assert_eq!(page["offset"], 0);
    assert_eq!(page["limit"], 20);
    assert_eq!(page["total"], 30);
    assert_eq!(page["results"].as_array().unwrap().len(), 20);

    let all = s.get(&format!("{path}?limit=100")).expect(200);
    let all = all["results"].as_array().unwrap().clone();
    assert_eq!(all.len(), 30);
    let page = s.get(&format!("{path}?offset=25&limit=10")).expect(200);
    assert_eq!(page["offset"], 25);
    assert_eq!(page["limit"], 10);
    assert_eq!(page["total"], 30);
    assert_eq!(page["results"], Value::Array(all[25..].to_vec()));
    let page = s.get(&format!("{path}?offset=40")).expect(200);
    assert_eq!(page["results"], json!([]));
    assert_eq!(page["total"], 30);

    let page = s
        .get(&format!("{path}?limit=3&fields=id,title"))
        .expect(200);
    for doc in page["results"].as_array().unwrap() {
        let mut keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["id", "title"]);
        assert_eq!(doc["title"], movie(doc["id"].as_u64().unwrap())["title"]);
    }

    assert_error(
        s.get(&format!("{path}?limit=x")),
        400,
        "invalid_document_limit",
    );
    assert_error(
        s.get(&format!("{path}?offset=-2")),
        400,
        "invalid_document_offset",
    );
    assert_error(s.get(&format!("{path}?unknown=1")), 400, "bad_request");
}

#[test]
fn fetch_documents_by_ids() {
    let s = server();
    let uid = unique_uid("docs_fetch");
    s.add_documents(&uid, some_movies(20));
    let path = format!("{}/fetch", docs_path(&uid));
    let page = s
        .post(
            &path,
            json!({"ids": ["3", "7", 11, "424242"], "fields": ["id", "title"]}),
        )
        .expect(200);
    assert_eq!(page["total"], 3);
    assert_eq!(page["offset"], 0);
    assert_eq!(page["limit"], 20);
    let mut results = page["results"].as_array().unwrap().clone();
    results.sort_by_key(|d| d["id"].as_u64());
    assert_eq!(
        results,
        [3, 7, 11].map(|id| json!({"id": id, "title": movie(id)["title"]}))
    );

    let page = s.post(&path, json!({"limit": 2, "offset": 18})).expect(200);
    assert_eq!(page["total"], 20);
    assert_eq!(page["results"].as_array().unwrap().len(), 2);

    let page = s.post(&path, json!({})).expect(200);
    assert_eq!(page["total"], 20);

    assert_error(
        s.post(&path, json!({"ids": "3"})),
        400,
        "invalid_document_ids",
    );
    assert_error(
        s.post(&path, json!({"limit": "3"})),
        400,
        "invalid_document_limit",
    );
    assert_error(
        s.post(&path, json!({"fields": 3})),
        400,
        "invalid_document_fields",
    );
    assert_error(s.post(&path, json!({"nope": 3})), 400, "bad_request");
}

#[test]
fn delete_one_document() {
    let s = server();
    let uid = index_with_five_movies("docs_delete_one");
    let body = s.delete(&format!("{}/3", docs_path(&uid))).expect(202);
    assert_summary_shape(&body);
    assert_eq!(body["type"], "documentDeletion");
    assert_eq!(body["indexUid"], uid.as_str());
    let task = s.wait_ok(body["taskUid"].as_u64().unwrap());
    assert_eq!(task["details"]["providedIds"], 1);
    assert_eq!(task["details"]["deletedDocuments"], 1);
    assert_eq!(s.document_ids(&uid, "id"), ["1", "2", "4", "5"]);
    assert_error(
        s.get(&format!("{}/3", docs_path(&uid))),
        404,
        "document_not_found",
    );
    // Deleting a missing document succeeds and deletes nothing.
    let task = s.delete(&format!("{}/3", docs_path(&uid))).task_uid();
    let task = s.wait_ok(task);
    assert_eq!(task["details"]["deletedDocuments"], 0);
}

#[test]
fn delete_a_batch_of_documents() {
    let s = server();
    let uid = index_with_five_movies("docs_delete_batch");
    let body = s
        .post(
            &format!("{}/delete-batch", docs_path(&uid)),
            json!([1, "2", 77]),
        )
        .expect(202);
    assert_summary_shape(&body);
    assert_eq!(body["type"], "documentDeletion");
    let task = s.wait_ok(body["taskUid"].as_u64().unwrap());
    assert_eq!(task["details"]["providedIds"], 3);
    assert_eq!(task["details"]["deletedDocuments"], 2);
    assert_eq!(s.document_ids(&uid, "id"), ["3", "4", "5"]);

    assert_error(
        s.post(
            &format!("{}/delete-batch", docs_path(&uid)),
            json!({"ids": [3]}),
        ),
        400,
        "bad_request",
    );
    assert_eq!(s.document_ids(&uid, "id"), ["3", "4", "5"]);
}

#[test]
fn delete_all_documents() {
    let s = server();
    let uid = index_with_five_movies("docs_delete_all");
    let body = s.delete(&docs_path(&uid)).expect(202);
    assert_summary_shape(&body);
    assert_eq!(body["type"], "documentDeletion");
    let task = s.wait_ok(body["taskUid"].as_u64().unwrap());
    assert_eq!(task["details"]["deletedDocuments"], 5);
    let page = s.get(&docs_path(&uid)).expect(200);
    assert_eq!(page["total"], 0);
    assert_eq!(page["results"], json!([]));
    // The index and its primary key remain.
    assert_eq!(
        s.get(&format!("/indexes/{uid}")).expect(200)["primaryKey"],
        "id"
    );
    let stats = s.get(&format!("/indexes/{uid}/stats")).expect(200);
    assert_eq!(stats["numberOfDocuments"], 0);
}

#[test]
fn content_type_errors() {
    let s = server();
    let uid = index_with_five_movies("docs_content_type");
    let before = snapshot(&uid);
    let payload = serde_json::to_vec(&json!([{"id": 9, "title": "x"}])).unwrap();
    let body = assert_error(
        s.raw("POST", &docs_path(&uid), None, payload.clone()),
        415,
        "missing_content_type",
    );
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("application/json"));
    let body = assert_error(
        s.raw(
            "POST",
            &docs_path(&uid),
            Some("text/plain"),
            payload.clone(),
        ),
        415,
        "invalid_content_type",
    );
    assert!(body["message"].as_str().unwrap().contains("text/plain"));
    assert_error(
        s.raw("PUT", &docs_path(&uid), Some("application/xml"), payload),
        415,
        "invalid_content_type",
    );
    assert_eq!(snapshot(&uid), before);
}

#[test]
fn missing_payload() {
    let s = server();
    let uid = index_with_five_movies("docs_missing_payload");
    let before = snapshot(&uid);
    for content_type in ["application/json", "application/x-ndjson", "text/csv"] {
        for method in ["POST", "PUT"] {
            assert_error(
                s.raw(method, &docs_path(&uid), Some(content_type), ""),
                400,
                "missing_payload",
            );
        }
    }
    assert_eq!(snapshot(&uid), before);
}

#[test]
fn malformed_payloads() {
    let s = server();
    let uid = index_with_five_movies("docs_malformed");
    let before = snapshot(&uid);
    let cases: [(&str, &str); 8] = [
        ("application/json", "[{\"id\": 1, \"title\": }]"),
        ("application/json", "[{\"id\": 1}"),
        ("application/json", "42"),
        ("application/json", "[1, 2]"),
        ("application/json", "\"just a string\""),
        ("application/x-ndjson", "{\"id\": 1}\n[1, 2]\n"),
        ("application/x-ndjson", "{\"id\": 1}\n{\"id\": \n"),
        ("text/csv", "id,price:number\n1,12\n2,abc\n"),
    ];
    for (content_type, payload) in cases {
        let body = assert_error(
            s.raw("POST", &docs_path(&uid), Some(content_type), payload),
            400,
            "malformed_payload",
        );
        assert!(
            !body["message"].as_str().unwrap().is_empty(),
            "{content_type}: {payload}"
        );
        assert_eq!(snapshot(&uid), before, "{content_type}: {payload}");
    }
}

#[test]
fn payload_too_large() {
    static SMALL: OnceLock<Server> = OnceLock::new();
    let small = SMALL.get_or_init(|| {
        start_server(quarry_server::ServerConfig {
            payload_size_limit: 1000,
            ..Default::default()
        })
    });
    let uid = unique_uid("docs_too_large");
    small.add_documents(&uid, json!([{"id": 1, "title": "small"}]));
    let big = some_movies(20);
    assert!(serde_json::to_vec(&big).unwrap().len() > 1000);
    assert_error(
        small.post(&docs_path(&uid), big.clone()),
        413,
        "payload_too_large",
    );
    assert_error(
        small.put(&docs_path(&uid), big.clone()),
        413,
        "payload_too_large",
    );
    // Other JSON routes have the same limit.
    assert_error(
        small.post(
            &format!("/indexes/{uid}/search"),
            json!({"q": "x".repeat(2000)}),
        ),
        413,
        "payload_too_large",
    );
    assert_eq!(
        small.all_documents(&uid),
        [json!({"id": 1, "title": "small"})]
    );
    // The default server takes the same payload.
    let s = server();
    let task = s.post(&docs_path(&uid), big).task_uid();
    s.wait_ok(task);
}

#[test]
fn gzip_encoded_bodies_are_accepted() {
    let s = server();
    let uid = unique_uid("docs_gzip");
    let payload = serde_json::to_vec(&some_movies(12)).unwrap();
    let body = s
        .raw_with_headers(
            "POST",
            &docs_path(&uid),
            Some("application/json"),
            &[("Content-Encoding", "gzip")],
            gzip(&payload),
        )
        .expect(202);
    assert_summary_shape(&body);
    let task = s.wait_ok(body["taskUid"].as_u64().unwrap());
    assert_eq!(task["details"]["indexedDocuments"], 12);
    let ndjson = movies_ndjson()
        .split(|b| *b == b'\n')
        .skip(12)
        .take(8)
        .collect::<Vec<_>>()
        .join(&b'\n');
    let task = s
        .raw_with_headers(
            "POST",
            &docs_path(&uid),
            Some("application/x-ndjson"),
            &[("Content-Encoding", "gzip")],
            gzip(&ndjson),
        )
        .task_uid();
    s.wait_ok(task);
    let mut expected: Vec<String> = movies()[..20].iter().map(|m| m["id"].to_string()).collect();
    expected.sort();
    assert_eq!(s.document_ids(&uid, "id"), expected);
}

#[test]
fn bad_query_parameters_on_additions() {
    let s = server();
    let uid = index_with_five_movies("docs_bad_params");
    let before = snapshot(&uid);
    assert_error(
        s.post(&format!("{}?foo=bar", docs_path(&uid)), json!([{"id": 50}])),
        400,
        "bad_request",
    );
    assert_eq!(snapshot(&uid), before);
}

#[test]
fn documents_of_a_missing_index() {
    let s = server();
    let uid = unique_uid("docs_no_index");
    assert_error(s.get(&docs_path(&uid)), 404, "index_not_found");
    assert_error(
        s.get(&format!("{}/1", docs_path(&uid))),
        404,
        "index_not_found",
    );
    assert_error(
        s.post(&format!("{}/fetch", docs_path(&uid)), json!({"ids": ["1"]})),
        404,
        "index_not_found",
    );
    // Deletions are tasks, and fail as such.
    let task = s.delete(&format!("{}/1", docs_path(&uid))).task_uid();
    s.wait_failed(task, "index_not_found");
    let task = s.delete(&docs_path(&uid)).task_uid();
    s.wait_failed(task, "index_not_found");
    let task = s
        .post(&format!("{}/delete-batch", docs_path(&uid)), json!([1]))
        .task_uid();
    s.wait_failed(task, "index_not_found");
    assert_error(s.get(&format!("/indexes/{uid}")), 404, "index_not_found");
}
