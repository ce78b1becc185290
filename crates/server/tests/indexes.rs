//! Index lifecycle over real HTTP: creating, reading, listing, updating, renaming, swapping and
//! deleting indexes, their stats, the instance routes (`/health`, `/version`, `/stats`), and
//! the exact Meilisearch errors (status, code, type, link) for bad uids, missing indexes and
//! bad bodies. Exists so that any client written for Meilisearch finds the same answers.

mod common;

use common::*;
use serde_json::{json, Value};

#[test]
fn create_index_answers_with_a_task_summary() {
    let s = server();
    let uid = unique_uid("idx_create");
    let response = s.post("/indexes", json!({"uid": uid, "primaryKey": "id"}));
    let body = response.expect(202);
    assert_summary_shape(&body);
    assert_eq!(body["indexUid"], uid.as_str());
    assert_eq!(body["type"], "indexCreation");
    let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["enqueuedAt", "indexUid", "status", "taskUid", "type"]
    );

    let task = s.wait_ok(body["taskUid"].as_u64().unwrap());
    assert_eq!(task["type"], "indexCreation");
    assert_eq!(task["indexUid"], uid.as_str());
    assert_eq!(task["details"], json!({"primaryKey": "id"}));

    let index = s.get(&format!("/indexes/{uid}")).expect(200);
    let mut keys: Vec<&String> = index.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["createdAt", "primaryKey", "uid", "updatedAt"]);
    assert_eq!(index["uid"], uid.as_str());
    assert_eq!(index["primaryKey"], "id");
    assert_rfc3339(&index["createdAt"]);
    assert_rfc3339(&index["updatedAt"]);
}

#[test]
fn create_index_without_primary_key_has_null_primary_key() {
    let s = server();
    let uid = unique_uid("idx_nopk");
    let task = s.create_index(&uid, None);
    assert_eq!(task["details"], json!({"primaryKey": null}));
    let index = s.get(&format!("/indexes/{uid}")).expect(200);
    assert_eq!(index["primaryKey"], Value::Null);
}

#[test]
fn creating_an_existing_index_fails_the_task_with_index_already_exists() {
    let s = server();
    let uid = unique_uid("idx_dup");
    s.create_index(&uid, Some("id"));
    let task = s.post("/indexes", json!({"uid": uid})).task_uid();
    let task = s.wait_failed(task, "index_already_exists");
    assert_eq!(task["type"], "indexCreation");
    assert_eq!(task["indexUid"], uid.as_str());
    assert!(task["error"]["message"]
        .as_str()
        .unwrap()
        .contains(uid.as_str()));
    // The first index is untouched.
    let index = s.get(&format!("/indexes/{uid}")).expect(200);
    assert_eq!(index["primaryKey"], "id");
}

#[test]
fn list_indexes_paginates_with_offset_and_limit() {
    let s = server();
    // The uids sort after any other test's, so their position in the list is known.
    let prefix = unique_uid("zzz_list");
    let uids: Vec<String> = (0..3).map(|i| format!("{prefix}_{i}")).collect();
    for uid in &uids {
        s.create_index(uid, None);
    }
    let all = s.get("/indexes?limit=1000").expect(200);
    assert_eq!(all["offset"], 0);
    assert_eq!(all["limit"], 1000);
    let total = all["total"].as_u64().unwrap();
    let listed: Vec<&str> = all["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["uid"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len() as u64, total);
    for uid in &uids {
        assert!(listed.contains(&uid.as_str()), "{uid} not listed");
    }
    let mut sorted = listed.clone();
    sorted.sort_unstable();
    assert_eq!(listed, sorted, "indexes are listed by uid");

    let position = listed.iter().position(|u| *u == uids[0]).unwrap();
    let page = s
        .get(&format!("/indexes?offset={}&limit=2", position + 1))
        .expect(200);
    assert_eq!(page["offset"], position + 1);
    assert_eq!(page["limit"], 2);
    assert_eq!(page["total"], total);
    let results = page["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["uid"], listed[position + 1]);
    assert_eq!(results[1]["uid"], listed[position + 2]);
    for index in results {
        let mut keys: Vec<&String> = index.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["createdAt", "primaryKey", "uid", "updatedAt"]);
    }

    let default = s.get("/indexes").expect(200);
    assert_eq!(default["limit"], 20);
    assert_eq!(default["offset"], 0);

    let beyond = s.get(&format!("/indexes?offset={total}")).expect(200);
    assert_eq!(beyond["results"], json!([]));
    assert_eq!(beyond["total"], total);
}

#[test]
fn list_indexes_rejects_bad_pagination() {
    let s = server();
    assert_error(s.get("/indexes?limit=abc"), 400, "invalid_index_limit");
    assert_error(s.get("/indexes?offset=-1"), 400, "invalid_index_offset");
    assert_error(s.get("/indexes?foo=1"), 400, "bad_request");
}

#[test]
fn update_primary_key_of_an_empty_index() {
    let s = server();
    let uid = unique_uid("idx_update_pk");
    s.create_index(&uid, None);
    let response = s.patch(&format!("/indexes/{uid}"), json!({"primaryKey": "id"}));
    let body = response.expect(202);
    assert_summary_shape(&body);
    assert_eq!(body["type"], "indexUpdate");
    assert_eq!(body["indexUid"], uid.as_str());
    let task = s.wait_ok(body["taskUid"].as_u64().unwrap());
    assert_eq!(task["details"]["primaryKey"], "id");
    let index = s.get(&format!("/indexes/{uid}")).expect(200);
    assert_eq!(index["primaryKey"], "id");

    // Still empty: the primary key may change again.
    let task = s
        .patch(&format!("/indexes/{uid}"), json!({"primaryKey": "title"}))
        .task_uid();
    s.wait_ok(task);
    let index = s.get(&format!("/indexes/{uid}")).expect(200);
    assert_eq!(index["primaryKey"], "title");
}

#[test]
fn update_primary_key_of_an_index_with_documents_fails() {
    let s = server();
    let uid = unique_uid("idx_update_pk_docs");
    s.create_index(&uid, Some("id"));
    s.add_documents(&uid, some_movies(5));
    let task = s
        .patch(&format!("/indexes/{uid}"), json!({"primaryKey": "title"}))
        .task_uid();
    let task = s.wait_failed(task, "index_primary_key_already_exists");
    assert_eq!(task["type"], "indexUpdate");
    let index = s.get(&format!("/indexes/{uid}")).expect(200);
    assert_eq!(index["primaryKey"], "id");
    assert_eq!(s.all_documents(&uid).len(), 5);
}

#[test]
fn update_of_a_missing_index_fails_the_task() {
    let s = server();
    let uid = unique_uid("idx_update_missing");
    let task = s
        .patch(&format!("/indexes/{uid}"), json!({"primaryKey": "id"}))
        .task_uid();
    s.wait_failed(task, "index_not_found");
    assert_error(s.get(&format!("/indexes/{uid}")), 404, "index_not_found");
}

#[test]
fn update_index_rejects_bad_bodies() {
    let s = server();
    let uid = unique_uid("idx_update_bad");
    s.create_index(&uid, None);
    assert_error(
        s.patch(&format!("/indexes/{uid}"), json!({"primaryKey": 12})),
        400,
        "invalid_index_primary_key",
    );
    assert_error(
        s.patch(
            &format!("/indexes/{uid}"),
            json!({"primaryKey": "id", "foo": 1}),
        ),
        400,
        "bad_request",
    );
    assert_error(
        s.patch(
            &format!("/indexes/{uid}"),
            json!({"uid": "no spaces allowed"}),
        ),
        400,
        "invalid_index_uid",
    );
    assert_error(
        s.patch("/indexes/bad%20uid", json!({"primaryKey": "id"})),
        400,
        "invalid_index_uid",
    );
    let index = s.get(&format!("/indexes/{uid}")).expect(200);
    assert_eq!(index["primaryKey"], Value::Null);
}

#[test]
fn rename_index_with_patch() {
    let s = server();
    let old = unique_uid("idx_rename_old");
    let new = unique_uid("idx_rename_new");
    s.create_index(&old, Some("id"));
    s.add_documents(&old, some_movies(3));
    let task = s
        .patch(&format!("/indexes/{old}"), json!({"uid": new}))
        .task_uid();
    s.wait_ok(task);
    assert_error(s.get(&format!("/indexes/{old}")), 404, "index_not_found");
    let index = s.get(&format!("/indexes/{new}")).expect(200);
    assert_eq!(index["uid"], new.as_str());
    assert_eq!(index["primaryKey"], "id");
    assert_eq!(s.all_documents(&new).len(), 3);
}

#[test]
fn delete_index() {
    let s = server();
    let uid = unique_uid("idx_delete");
    s.create_index(&uid, Some("id"));
    s.add_documents(&uid, some_movies(4));
    let body = s.delete(&format!("/indexes/{uid}")).expect(202);
    assert_summary_shape(&body);
    assert_eq!(body["type"], "indexDeletion");
    assert_eq!(body["indexUid"], uid.as_str());
    let task = s.wait_ok(body["taskUid"].as_u64().unwrap());
    assert_eq!(task["details"], json!({"deletedDocuments": 4}));
    assert_error(s.get(&format!("/indexes/{uid}")), 404, "index_not_found");
    assert_error(
        s.get(&format!("/indexes/{uid}/documents")),
        404,
        "index_not_found",
    );

    // Deleting it again fails the task.
    let task = s.delete(&format!("/indexes/{uid}")).task_uid();
    s.wait_failed(task, "index_not_found");

    // The uid can be used again.
    s.create_index(&uid, None);
    assert_eq!(s.all_documents(&uid).len(), 0);
}

#[test]
fn missing_index_is_index_not_found_everywhere() {
    let s = server();
    let uid = unique_uid("idx_missing");
    for path in [
        format!("/indexes/{uid}"),
        format!("/indexes/{uid}/stats"),
        format!("/indexes/{uid}/settings"),
        format!("/indexes/{uid}/settings/ranking-rules"),
        format!("/indexes/{uid}/documents"),
        format!("/indexes/{uid}/documents/1"),
        format!("/indexes/{uid}/search?q=hello"),
    ] {
        let body = assert_error(s.get(&path), 404, "index_not_found");
        assert_eq!(
            body["message"],
            format!("Index `{uid}` not found."),
            "GET {path}"
        );
    }
    assert_error(
        s.post(&format!("/indexes/{uid}/search"), json!({"q": "hello"})),
        404,
        "index_not_found",
    );
    assert_error(
        s.post(&format!("/indexes/{uid}/documents/fetch"), json!({})),
        404,
        "index_not_found",
    );
}

#[test]
fn invalid_index_uid_in_paths() {
    let s = server();
    let too_long = "a".repeat(401);
    for bad in [
        "bad%20uid",
        "caf%C3%A9",
        "slash%2Fin",
        "dots.are.bad",
        too_long.as_str(),
    ] {
        for path in [
            format!("/indexes/{bad}"),
            format!("/indexes/{bad}/stats"),
            format!("/indexes/{bad}/documents"),
            format!("/indexes/{bad}/settings"),
            format!("/indexes/{bad}/search"),
        ] {
            assert_error(s.get(&path), 400, "invalid_index_uid");
        }
        assert_error(
            s.post(&format!("/indexes/{bad}/documents"), json!([{"id": 1}])),
            400,
            "invalid_index_uid",
        );
        assert_error(
            s.delete(&format!("/indexes/{bad}")),
            400,
            "invalid_index_uid",
        );
    }
}

#[test]
fn invalid_index_uid_in_bodies() {
    let s = server();
    let too_long = "a".repeat(401);
    for bad in [
        json!("bad uid"),
        json!("café"),
        json!("dots.are.bad"),
        json!(""),
        json!(too_long),
    ] {
        let body = assert_error(
            s.post("/indexes", json!({"uid": bad})),
            400,
            "invalid_index_uid",
        );
        assert!(
            body["message"].as_str().unwrap().contains("index uid"),
            "{body}"
        );
    }
    // A uid that is not a string.
    assert_error(
        s.post("/indexes", json!({"uid": 12})),
        400,
        "invalid_index_uid",
    );
    // Valid uids: letters, digits, `-` and `_`, up to 400 bytes.
    let ok = format!("{}-Ok_9", unique_uid("idx_valid"));
    s.create_index(&ok, None);
    let long = format!("{}{}", unique_uid("long"), "x".repeat(380));
    assert!(long.len() <= 400);
    s.create_index(&long, None);
}

#[test]
fn create_index_body_errors() {
    let s = server();
    assert_error(s.post("/indexes", json!({})), 400, "missing_index_uid");
    assert_error(
        s.post("/indexes", json!({"primaryKey": "id"})),
        400,
        "missing_index_uid",
    );
    let body = assert_error(
        s.post(
            "/indexes",
            json!({"uid": unique_uid("idx_unknown"), "foo": "bar"}),
        ),
        400,
        "bad_request",
    );
    assert!(body["message"].as_str().unwrap().contains("foo"), "{body}");
    assert_error(
        s.post(
            "/indexes",
            json!({"uid": unique_uid("idx_badpk"), "primaryKey": 1}),
        ),
        400,
        "invalid_index_primary_key",
    );
    assert_error(
        s.post("/indexes", json!(["not", "an", "object"])),
        400,
        "bad_request",
    );
    assert_error(
        s.raw("POST", "/indexes", Some("application/json"), "{\"uid\": "),
        400,
        "malformed_payload",
    );
    assert_error(
        s.raw("POST", "/indexes", Some("application/json"), ""),
        400,
        "missing_payload",
    );
    assert_error(
        s.raw("POST", "/indexes", Some("text/plain"), "{\"uid\": \"x\"}"),
        415,
        "invalid_content_type",
    );
}

#[test]
fn index_stats_count_documents_and_fields() {
    let s = server();
    let uid = unique_uid("idx_stats");
    s.create_index(&uid, Some("id"));
    let stats = s.get(&format!("/indexes/{uid}/stats")).expect(200);
    assert_eq!(stats["numberOfDocuments"], 0);
    assert_eq!(stats["isIndexing"], false);
    assert_eq!(stats["fieldDistribution"], json!({}));

    s.add_documents(
        &uid,
        json!([
            {"id": 1, "title": "Alien", "year": 1979},
            {"id": 2, "title": "Aliens"},
            {"id": 3, "title": "Alien 3", "year": 1992, "director": "David Fincher"},
        ]),
    );
    let stats = s.get(&format!("/indexes/{uid}/stats")).expect(200);
    assert_eq!(stats["numberOfDocuments"], 3);
    assert_eq!(stats["isIndexing"], false);
    assert_eq!(
        stats["fieldDistribution"],
        json!({"director": 1, "id": 3, "title": 3, "year": 2})
    );
    assert!(stats["rawDocumentDbSize"].is_u64());
    assert!(stats["avgDocumentSize"].is_u64());
}

#[test]
fn global_stats_list_every_index() {
    let s = server();
    let uid = unique_uid("idx_global_stats");
    s.create_index(&uid, Some("id"));
    s.add_documents(&uid, some_movies(7));
    let stats = s.get("/stats").expect(200);
    assert!(stats["databaseSize"].as_u64().unwrap() > 0);
    assert_rfc3339(&stats["lastUpdate"]);
    let index = &stats["indexes"][uid.as_str()];
    assert_eq!(index["numberOfDocuments"], 7);
    assert_eq!(index["isIndexing"], false);
    let distribution = index["fieldDistribution"].as_object().unwrap();
    assert_eq!(distribution["id"], 7);
    assert_eq!(distribution["title"], 7);
}

#[test]
fn health_and_version() {
    let s = server();
    assert_eq!(s.get("/health").expect(200), json!({"status": "available"}));
    let version = s.get("/version").expect(200);
    let mut keys: Vec<&String> = version.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["commitDate", "commitSha", "pkgVersion"]);
    assert!(version["pkgVersion"].is_string());
}

#[test]
fn unknown_route_is_not_found() {
    let s = server();
    for path in [
        "/nope",
        "/indexes/x/nope",
        "/indexes/x/settings/nope",
        "/tasks/1/nope",
    ] {
        let response = s.get(path);
        assert_unknown_route(&response, path);
    }
    assert_unknown_route(&s.post("/nope", json!({})), "POST /nope");
}

/// What Meilisearch (actix-web's default service) answers for a route it does not have:
/// 404, an empty body, no content type.
#[track_caller]
fn assert_unknown_route(response: &common::Response, what: &str) {
    assert_eq!(response.status, 404, "{what}: {}", response.body);
    assert_eq!(response.body, serde_json::Value::Null, "{what}");
    assert_eq!(
        response
            .headers
            .get("content-length")
            .map(|v| v.to_str().unwrap()),
        Some("0"),
        "{what}"
    );
    assert!(response.headers.get("content-type").is_none(), "{what}");
}

/// Ids of the documents of an index, sorted numerically.
fn numeric_ids(s: &Server, index: &str) -> Vec<u64> {
    let mut ids: Vec<u64> = s
        .all_documents(index)
        .iter()
        .map(|d| d["id"].as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

#[test]
fn swap_indexes_exchanges_documents_and_tasks() {
    let s = server();
    let a = unique_uid("swap_a");
    let b = unique_uid("swap_b");
    let task_a = s.add_documents(&a, some_movies(3));
    let task_b = s.add_documents(&b, Value::Array(movies()[10..15].to_vec()));
    let a_ids = numeric_ids(s, &a);
    let b_ids = numeric_ids(s, &b);

    let body = s
        .post("/swap-indexes", json!([{"indexes": [a, b]}]))
        .expect(202);
    assert_summary_shape(&body);
    assert_eq!(body["type"], "indexSwap");
    assert_eq!(body["indexUid"], Value::Null);
    let task = s.wait_ok(body["taskUid"].as_u64().unwrap());
    assert_eq!(task["details"]["swaps"][0]["indexes"], json!([a, b]));

    assert_eq!(numeric_ids(s, &a), b_ids);
    assert_eq!(numeric_ids(s, &b), a_ids);

    // The task history follows the documents.
    let on_a = s.get(&format!("/tasks/{}", task_a["uid"])).expect(200);
    assert_eq!(on_a["indexUid"], b.as_str());
    let on_b = s.get(&format!("/tasks/{}", task_b["uid"])).expect(200);
    assert_eq!(on_b["indexUid"], a.as_str());
    let listed = s
        .get(&format!(
            "/tasks?indexUids={a}&types=documentAdditionOrUpdate"
        ))
        .expect(200);
    let uids: Vec<&Value> = listed["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["uid"])
        .collect();
    assert_eq!(uids, [&task_b["uid"]]);
}

#[test]
fn swap_with_a_missing_index_fails_and_changes_nothing() {
    let s = server();
    let a = unique_uid("swap_present");
    let missing = unique_uid("swap_missing");
    s.add_documents(&a, some_movies(2));
    let task = s
        .post("/swap-indexes", json!([{"indexes": [a, missing]}]))
        .task_uid();
    let task = s.wait_failed(task, "index_not_found");
    assert!(task["error"]["message"]
        .as_str()
        .unwrap()
        .contains(missing.as_str()));
    assert_eq!(s.all_documents(&a).len(), 2);
    assert_error(
        s.get(&format!("/indexes/{missing}")),
        404,
        "index_not_found",
    );
}

#[test]
fn swap_with_rename_moves_an_index_to_a_new_uid() {
    let s = server();
    let a = unique_uid("swap_rename_from");
    let b = unique_uid("swap_rename_to");
    let added = s.add_documents(&a, some_movies(4));
    let task = s
        .post(
            "/swap-indexes",
            json!([{"indexes": [a, b], "rename": true}]),
        )
        .task_uid();
    s.wait_ok(task);
    assert_error(s.get(&format!("/indexes/{a}")), 404, "index_not_found");
    assert_eq!(
        s.get(&format!("/indexes/{b}")).expect(200)["uid"],
        b.as_str()
    );
    assert_eq!(s.all_documents(&b).len(), 4);
    let moved = s.get(&format!("/tasks/{}", added["uid"])).expect(200);
    assert_eq!(moved["indexUid"], b.as_str());
}

#[test]
fn swap_indexes_rejects_bad_bodies() {
    let s = server();
    let a = unique_uid("swap_bad");
    assert_error(
        s.post("/swap-indexes", json!([{"indexes": [a]}])),
        400,
        "invalid_swap_indexes",
    );
    assert_error(
        s.post("/swap-indexes", json!([{"indexes": [a, "bad uid"]}])),
        400,
        "invalid_swap_indexes",
    );
    assert_error(
        s.post("/swap-indexes", json!([{"indexes": [a, "x"], "foo": 1}])),
        400,
        "bad_request",
    );
    assert_error(
        s.post("/swap-indexes", json!({"indexes": [a, "x"]})),
        400,
        "bad_request",
    );
    assert_error(
        s.post(
            "/swap-indexes",
            json!([{"indexes": [a, "x"], "rename": "yes"}]),
        ),
        400,
        "invalid_swap_rename",
    );
}
