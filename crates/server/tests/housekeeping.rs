//! Index and task housekeeping over HTTP: `POST /indexes/{uid}/compact` (an
//! `indexCompaction` task that keeps every document and answer), `POST /indexes/{uid}/fields`
//! (what the settings make of each field, filtered and paginated) and
//! `GET /tasks/{uid}/documents` (the payload of a waiting document task, behind its
//! experimental feature).

mod common;

use common::{assert_error, movies, server, start_server, unique_uid};
use serde_json::{json, Value};

fn ndjson(docs: &[Value]) -> Vec<u8> {
    docs.iter()
        .flat_map(|d| {
            let mut line = serde_json::to_vec(d).unwrap();
            line.push(b'\n');
            line
        })
        .collect()
}

/// Sends `documents` as NDJSON tasks of `per_task` documents, each waited for: one segment
/// each.
fn add_in_batches(server: &common::Server, uid: &str, documents: &[Value], per_task: usize) {
    for chunk in documents.chunks(per_task) {
        let task = server
            .raw(
                "POST",
                &format!("/indexes/{uid}/documents"),
                Some("application/x-ndjson"),
                ndjson(chunk),
            )
            .task_uid();
        server.wait_ok(task);
    }
}

fn stats_size(uid: &str) -> u64 {
    server().get(&format!("/indexes/{uid}/stats")).expect(200)["rawDocumentDbSize"]
        .as_u64()
        .unwrap()
}

#[test]
fn compaction_keeps_every_document_and_answer() {
    let server = server();
    let uid = unique_uid("compact");
    server.create_index(&uid, Some("id"));
    // Several batches make several segments; deletions leave dead documents in them.
    let films = &movies()[..1200];
    add_in_batches(server, &uid, films, 300);
    let deleted: Vec<Value> = films.iter().step_by(3).map(|f| f["id"].clone()).collect();
    let task = server
        .post(
            &format!("/indexes/{uid}/documents/delete-batch"),
            Value::Array(deleted.clone()),
        )
        .task_uid();
    server.wait_ok(task);
    let search = json!({"q": "the love story", "limit": 50, "showRankingScore": true});
    let before = server.search(&uid, search.clone());
    // Listing order follows the segments, which background merges and the compaction itself
    // rearrange; what must hold is the same documents, compared in id order.
    let by_id = |mut documents: Vec<Value>| {
        documents.sort_by_key(|d| d["id"].as_i64().unwrap());
        documents
    };
    let documents_before = by_id(server.all_documents(&uid));
    let size_before = stats_size(&uid);

    let summary = server
        .post(&format!("/indexes/{uid}/compact"), Value::Null)
        .summary(202);
    assert_eq!(summary["type"], "indexCompaction");
    assert_eq!(summary["indexUid"], uid.as_str());
    let task = server.wait_ok(summary["taskUid"].as_u64().unwrap());
    let pre = task["details"]["preCompactionSize"].as_str().unwrap();
    let post = task["details"]["postCompactionSize"].as_str().unwrap();
    assert!(
        pre.ends_with("B") && post.ends_with("B"),
        "sizes are human-readable: {task}"
    );

    assert_eq!(by_id(server.all_documents(&uid)), documents_before);
    assert_eq!(
        documents_before.len(),
        films.len() - deleted.len(),
        "the deleted films stay deleted"
    );
    let after = server.search(&uid, search);
    // The same scores, and the same hits above the page's lowest score; hits that tie on
    // every rule may swap places (and across the page's end), since ties follow the
    // documents' places in the segments.
    let scored = |body: &Value| {
        let hits: Vec<(f64, i64)> = body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                let score = h["_rankingScore"].as_f64().unwrap();
                (score, h["id"].as_i64().unwrap())
            })
            .collect();
        let lowest = hits.iter().map(|h| h.0).fold(f64::INFINITY, f64::min);
        let scores: Vec<String> = hits.iter().map(|h| h.0.to_string()).collect();
        let mut above: Vec<i64> = hits.iter().filter(|h| h.0 > lowest).map(|h| h.1).collect();
        above.sort();
        (scores, above)
    };
    assert_eq!(scored(&after), scored(&before));
    assert_eq!(after["hits"].as_array().unwrap().len(), 50);
    assert_eq!(after["estimatedTotalHits"], before["estimatedTotalHits"]);
    // A background merge may have rewritten the segments before the compaction (when the
    // queue was idle for a moment); either way nothing dead is left and the size did not grow.
    let size_after = stats_size(&uid);
    assert!(
        size_after <= size_before,
        "dead documents and replaced segments are gone: {size_before} -> {size_after}"
    );
    let index = server.scheduler.index(&uid).unwrap();
    assert_eq!(index.segment_count(), 1);
    assert_eq!(index.searcher().segment_reader(0).num_deleted_docs(), 0);

    // The task type is listed and filterable.
    let listed = server
        .get(&format!("/tasks?types=indexCompaction&indexUids={uid}"))
        .expect(200);
    assert_eq!(listed["results"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["results"][0]["uid"], task["uid"]);
    let batch = server
        .get(&format!("/batches/{}", task["batchUid"]))
        .expect(200);
    assert_eq!(batch["stats"]["types"]["indexCompaction"], 1, "{batch}");
}

/// Batches written one after the other leave a segment each; once the queue has been empty for
/// a moment the writer merges them in the background, searches read the one merged segment, and
/// `/metrics` shows it (`quarry_index_segments`, `quarry_index_merging`).
#[test]
fn segments_are_merged_in_the_background_once_the_queue_is_idle() {
    let server = start_server(quarry_server::ServerConfig::default());
    server
        .patch("/experimental-features", json!({"metrics": true}))
        .expect(200);
    let uid = unique_uid("merged");
    server.create_index(&uid, Some("id"));
    let films = &movies()[..1500];
    add_in_batches(&server, &uid, films, 500);
    let gauge = |text: &str, name: &str| -> Option<u64> {
        let prefix = format!("{name}{{index=\"{uid}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .map(|v| v.parse().unwrap())
    };
    let started = std::time::Instant::now();
    loop {
        let metrics = server.get("/metrics").expect(200);
        let text = metrics.as_str().expect("Prometheus text");
        let segments = gauge(text, "quarry_index_segments").expect("a segments gauge");
        let merging = gauge(text, "quarry_index_merging").expect("a merging gauge");
        if segments == 1 && merging == 0 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "still {segments} segments (merging: {merging}) a minute after the last batch"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(server.all_documents(&uid).len(), films.len());
    let found = server.search(&uid, json!({"q": films[700]["title"], "limit": 100}));
    let ids: Vec<&Value> = found["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| &h["id"])
        .collect();
    assert!(ids.contains(&&films[700]["id"]), "{found}");
}

#[test]
fn compaction_of_a_missing_index_fails_its_task() {
    let server = server();
    let task = server
        .post("/indexes/compact_nowhere/compact", Value::Null)
        .task_uid();
    let task = server.wait_failed(task, "index_not_found");
    assert_eq!(
        task["error"]["message"],
        "Index `compact_nowhere` not found."
    );
    assert_error(
        server.post("/indexes/bad%20uid/compact", Value::Null),
        400,
        "invalid_index_uid",
    );
}

/// An index over the first films, with settings touching every property a field shows.
fn fields_index() -> String {
    let server = server();
    let uid = unique_uid("fields");
    server.create_index(&uid, Some("id"));
    let settings = json!({
        "displayedAttributes": ["id", "title", "major_genre", "imdb_rating"],
        "searchableAttributes": ["title", "distributor"],
        "filterableAttributes": [
            "major_genre",
            {"attributePatterns": ["imdb_*"], "features": {"facetSearch": false, "filter": {"equality": true, "comparison": true}}}
        ],
        "sortableAttributes": ["release_year"],
        "rankingRules": ["words", "typo", "imdb_rating:desc"],
        "distinctAttribute": "title",
        "faceting": {"sortFacetValuesBy": {"major_genre": "count"}},
        "localizedAttributes": [{"attributePatterns": ["title"], "locales": ["eng"]}]
    });
    let task = server
        .patch(&format!("/indexes/{uid}/settings"), settings)
        .task_uid();
    server.wait_ok(task);
    server.add_documents(&uid, Value::Array(movies()[..100].to_vec()));
    uid
}

fn field<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no field `{name}` in {list}"))
}

fn names(list: &Value) -> Vec<String> {
    list["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn fields_show_what_the_settings_make_of_each_field() {
    let server = server();
    let uid = fields_index();
    let path = format!("/indexes/{uid}/fields");
    let all = server.post(&path, json!({"limit": 1000})).expect(200);
    let mut expected_names: Vec<String> = Vec::new();
    for film in &movies()[..100] {
        for key in film.as_object().unwrap().keys() {
            if !expected_names.contains(key) {
                expected_names.push(key.clone());
            }
        }
    }
    let mut got = names(&all);
    got.sort();
    expected_names.sort();
    assert_eq!(got, expected_names);
    assert_eq!(all["total"], expected_names.len());
    assert_eq!(all["offset"], 0);
    assert_eq!(all["limit"], 1000);

    assert_eq!(
        field(&all, "title"),
        &json!({
            "name": "title",
            "displayed": {"enabled": true},
            "searchable": {"enabled": true},
            "sortable": {"enabled": false},
            "distinct": {"enabled": true},
            "rankingRule": {"enabled": false},
            "filterable": {"enabled": false, "sortBy": "alpha", "facetSearch": false, "equality": false, "comparison": false},
            "localized": {"locales": ["eng"]}
        })
    );
    assert_eq!(
        field(&all, "major_genre")["filterable"],
        json!({"enabled": true, "sortBy": "count", "facetSearch": true, "equality": true, "comparison": true})
    );
    let rating = field(&all, "imdb_rating");
    assert_eq!(
        rating["rankingRule"],
        json!({"enabled": true, "order": "desc"})
    );
    assert_eq!(
        rating["filterable"],
        json!({"enabled": true, "sortBy": "alpha", "facetSearch": false, "equality": true, "comparison": true})
    );
    assert_eq!(rating["searchable"]["enabled"], false);
    assert_eq!(field(&all, "release_year")["sortable"]["enabled"], true);
    assert_eq!(field(&all, "us_gross")["displayed"]["enabled"], false);

    // Filters are ANDed.
    let filterable = server
        .post(
            &path,
            json!({"filter": {"filterable": true}, "limit": 1000}),
        )
        .expect(200);
    let mut filterable_names = names(&filterable);
    filterable_names.sort();
    assert_eq!(
        filterable_names,
        ["imdb_rating", "imdb_votes", "major_genre"]
    );
    let narrowed = server
        .post(
            &path,
            json!({"filter": {"attributePatterns": ["imdb_*"], "rankingRule": false}}),
        )
        .expect(200);
    assert_eq!(names(&narrowed), ["imdb_votes"]);
    let hidden_searchable = server
        .post(
            &path,
            json!({"filter": {"displayed": false, "searchable": true}}),
        )
        .expect(200);
    assert_eq!(names(&hidden_searchable), ["distributor"]);

    // Pagination keeps the total.
    let page = server
        .post(&path, json!({"offset": 2, "limit": 3}))
        .expect(200);
    assert_eq!(page["total"], expected_names.len());
    assert_eq!(names(&page), names(&all)[2..5].to_vec());
    let default_page = server.post(&path, json!({})).expect(200);
    assert_eq!(default_page["limit"], 20);
}

#[test]
fn bad_fields_requests_are_refused() {
    let server = server();
    let uid = fields_index();
    let path = format!("/indexes/{uid}/fields");
    let body = assert_error(
        server.post(&path, json!({"limit": "x"})),
        400,
        "invalid_index_limit",
    );
    assert_eq!(
        body["message"],
        "Invalid value type at `.limit`: expected a positive integer, but found a string: `\"x\"`"
    );
    assert_error(
        server.post(&path, json!({"offset": -1})),
        400,
        "invalid_index_offset",
    );
    assert_error(server.post(&path, json!({"sort": "x"})), 400, "bad_request");
    assert_error(
        server.post(&path, json!({"filter": {"nope": true}})),
        400,
        "invalid_index_fields_filter",
    );
    assert_error(
        server.post(&path, json!({"filter": "displayed"})),
        400,
        "invalid_index_fields_filter",
    );
    for (name, code) in [
        ("displayed", "invalid_index_fields_filter_displayed"),
        ("searchable", "invalid_index_fields_filter_searchable"),
        ("sortable", "invalid_index_fields_filter_sortable"),
        ("distinct", "invalid_index_fields_filter_distinct"),
        ("rankingRule", "invalid_index_fields_filter_ranking_rule"),
        ("filterable", "invalid_index_fields_filter_filterable"),
    ] {
        assert_error(
            server.post(&path, json!({"filter": {name: "yes"}})),
            400,
            code,
        );
    }
    assert_error(
        server.post(&path, json!({"filter": {"attributePatterns": [1]}})),
        400,
        "invalid_index_fields_filter_attribute_patterns",
    );
    assert_error(
        server.post("/indexes/fields_nowhere/fields", json!({})),
        404,
        "index_not_found",
    );
}

#[test]
fn the_documents_of_a_waiting_task_are_served_as_ndjson() {
    let server = start_server(quarry_server::ServerConfig::default());
    server.create_index("waiting", Some("id"));
    let films = &movies()[..25];
    server.scheduler.pause();
    let task = server
        .raw(
            "POST",
            "/indexes/waiting/documents",
            Some("application/json"),
            serde_json::to_vec(&Value::Array(films.to_vec())).unwrap(),
        )
        .task_uid();
    let path = format!("/tasks/{task}/documents");

    let body = assert_error(server.get(&path), 400, "feature_not_enabled");
    assert_eq!(
        body["message"],
        "Getting the documents of an enqueued task requires enabling the `get task documents route` experimental feature. See https://github.com/orgs/meilisearch/discussions/808"
    );
    server
        .patch(
            "/experimental-features",
            json!({"getTaskDocumentsRoute": true}),
        )
        .expect(200);

    let response = server
        .client
        .get(server.url(&path))
        .send()
        .expect("sending the request");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/x-ndjson"
    );
    let text = response.text().unwrap();
    let served: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(served, films);

    assert_error(server.get("/tasks/0/documents"), 404, "task_file_not_found");
    assert_error(server.get("/tasks/99999/documents"), 404, "task_not_found");
    assert_error(server.get("/tasks/abc/documents"), 400, "invalid_task_uids");

    server.scheduler.resume();
    server.wait_ok(task);
    let body = assert_error(server.get(&path), 404, "task_file_not_found");
    assert_eq!(
        body["message"],
        format!("Task `{task}` does not contain any documents. Only `documentAdditionOrUpdate` tasks with the statuses `enqueued` or `processing` contain documents")
    );
}

#[test]
fn the_task_queue_is_compacted_behind_its_feature() {
    let server = start_server(quarry_server::ServerConfig::default());
    let body = assert_error(
        server.post("/tasks/compact", Value::Null),
        400,
        "feature_not_enabled",
    );
    assert_eq!(
        body["message"],
        "Using the /tasks/compact route requires enabling the `task queue compaction route` experimental feature. See https://github.com/orgs/meilisearch/discussions/883"
    );
    // Some history to compact: tasks, then their deletion.
    for i in 0..5 {
        server.create_index(&format!("queue_{i}"), None);
    }
    let deletion = server.delete("/tasks?statuses=succeeded").summary(200)["taskUid"]
        .as_u64()
        .unwrap();
    server.wait_ok(deletion);
    server
        .patch(
            "/experimental-features",
            json!({"taskQueueCompactionRoute": true}),
        )
        .expect(200);
    let summary = server.post("/tasks/compact", Value::Null).summary(202);
    assert_eq!(summary["type"], "taskCompaction");
    assert_eq!(summary["indexUid"], Value::Null);
    let task = server.wait_ok(summary["taskUid"].as_u64().unwrap());
    assert!(task["details"]["preCompactionSize"].is_string(), "{task}");
    assert!(task["details"]["postCompactionSize"].is_string(), "{task}");
    // The queue is intact after the rewrite.
    let listed = server.get("/tasks?types=taskCompaction").expect(200);
    assert_eq!(listed["total"], 1);
    assert_eq!(
        server.get(&format!("/tasks/{deletion}")).expect(200)["status"],
        "succeeded"
    );
    server.create_index("queue_after", None);
}
