//! `POST /export` between real Quarry servers over HTTP: settings and documents arrive on the
//! target, filters select what is sent, `payloadSize` bounds each payload, an existing target
//! index keeps its settings unless `overrideSettings`, the `apiKey` is sent (and a target that
//! refuses fails the task), an unreachable target fails it with a useful error, a running export
//! can be canceled, and malformed bodies answer Meilisearch's `invalid_export_*` codes.

mod common;

use std::io::{Read, Write};
use std::sync::mpsc;

use common::{movies_settings, start_server, unique_uid, ErrorChecks, Server, MOVIES_COUNT};
use quarry_server::ServerConfig;
use serde_json::{json, Value};

fn fresh() -> Server {
    start_server(ServerConfig::default())
}

/// The target's writer has taken every task it was sent.
fn settle(target: &Server) {
    assert!(
        target.scheduler.wait_idle(common::TASK_TIMEOUT),
        "the target did not finish its tasks"
    );
}

/// A source server with the movies corpus and its settings in `uid`.
fn source_with_movies(uid: &str) -> Server {
    let source = fresh();
    let task = source
        .patch(&format!("/indexes/{uid}/settings"), movies_settings())
        .task_uid();
    source.wait_ok(task);
    source.load_movies(uid);
    source
}

fn export(source: &Server, body: Value) -> Value {
    let summary = source.post("/export", body).summary(200);
    assert_eq!(summary["type"], "export");
    assert_eq!(summary["indexUid"], Value::Null);
    source.wait_task(summary["taskUid"].as_u64().unwrap())
}

/// The tasks of `uid` on `server` of one type, oldest first.
fn tasks_of(server: &Server, uid: &str, kind: &str) -> Vec<Value> {
    let body = server
        .get(&format!(
            "/tasks?indexUids={uid}&types={kind}&limit=1000&reverse=true"
        ))
        .expect(200);
    body["results"].as_array().unwrap().clone()
}

#[test]
fn an_export_sends_settings_and_every_document() {
    let uid = unique_uid("export_all");
    let source = source_with_movies(&uid);
    let target = fresh();
    let task = export(
        &source,
        json!({"url": target.base, "indexes": {uid.clone(): {}}}),
    );
    assert_eq!(task["status"], "succeeded", "{task}");
    assert_eq!(
        task["details"],
        json!({
            "url": target.base,
            "apiKey": null,
            "payloadSize": null,
            "indexes": {uid.clone(): {"filter": null, "overrideSettings": false, "matchedDocuments": MOVIES_COUNT}}
        })
    );
    settle(&target);
    let index = target.get(&format!("/indexes/{uid}")).expect(200);
    assert_eq!(index["primaryKey"], "id");
    assert_eq!(
        target.get(&format!("/indexes/{uid}/settings")).expect(200),
        source.get(&format!("/indexes/{uid}/settings")).expect(200)
    );
    let mut sent = source.all_documents(&uid);
    let mut received = target.all_documents(&uid);
    let by_id = |d: &Value| d["id"].as_u64().unwrap();
    sent.sort_by_key(by_id);
    received.sort_by_key(by_id);
    assert_eq!(received.len() as u64, MOVIES_COUNT);
    assert_eq!(received, sent);
    // One payload was enough (the default is 50 MiB), and every remote task succeeded.
    let additions = tasks_of(&target, &uid, "documentAdditionOrUpdate");
    assert_eq!(additions.len(), 1);
    assert!(additions.iter().all(|t| t["status"] == "succeeded"));
    // The same query finds the same films with the same scores on both (the order of equal
    // scores follows each index's internal order, which may differ).
    let query = json!({"q": "star wars", "filter": "release_year > 1990", "limit": 1000, "showRankingScore": true});
    let scored = |server: &Server| {
        let answer = server.search(&uid, query.clone());
        let mut hits: Vec<(u64, String)> = answer["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| (h["id"].as_u64().unwrap(), h["_rankingScore"].to_string()))
            .collect();
        hits.sort();
        hits
    };
    let expected = scored(&source);
    assert!(!expected.is_empty());
    assert_eq!(scored(&target), expected);
}

#[test]
fn filters_select_documents_and_payload_size_bounds_each_payload() {
    let uid = unique_uid("export_filtered");
    let other = unique_uid("export_untouched");
    let source = source_with_movies(&uid);
    source.add_documents(&other, json!([{"id": 1, "title": "not exported"}]));
    let target = fresh();
    let filter = "major_genre = Drama AND release_year >= 1990";
    let limit = 16 * 1024;
    let task = export(
        &source,
        json!({
            "url": format!("{}/", target.base),
            "payloadSize": "16KiB",
            "indexes": {format!("{}*", &uid[..uid.len() - 1]): {"filter": filter}, "nothing_matches_this": {}}
        }),
    );
    assert_eq!(task["status"], "succeeded", "{task}");
    assert_eq!(task["details"]["payloadSize"], "16 KiB");
    let selected = source
        .post(
            &format!("/indexes/{uid}/documents/fetch"),
            json!({"filter": filter, "limit": 10000}),
        )
        .expect(200);
    let selected = selected["results"].as_array().unwrap().clone();
    let matched = task["details"]["indexes"][&uid]["matchedDocuments"]
        .as_u64()
        .unwrap();
    assert_eq!(matched, selected.len() as u64);
    assert!(matched > 100, "the filter selects {matched} films");
    settle(&target);
    assert_eq!(target.get(&format!("/indexes/{other}")).status, 404);
    let mut expected: Vec<String> = selected.iter().map(|d| d["id"].to_string()).collect();
    expected.sort();
    assert_eq!(target.document_ids(&uid, "id"), expected);

    // Each payload holds whole documents within the limit: as many payloads as a greedy
    // packing of the NDJSON lines needs.
    let lines: Vec<usize> = selected
        .iter()
        .map(|d| serde_json::to_vec(d).unwrap().len() + 1)
        .collect();
    let additions = tasks_of(&target, &uid, "documentAdditionOrUpdate");
    let received: u64 = additions
        .iter()
        .map(|t| t["details"]["receivedDocuments"].as_u64().unwrap())
        .sum();
    assert_eq!(received, matched);
    let total: usize = lines.iter().sum();
    assert!(
        additions.len() >= total.div_ceil(limit) && additions.len() <= 2 * total / limit + 1,
        "{} payloads for {total} bytes of NDJSON",
        additions.len()
    );
}

#[test]
fn an_existing_index_keeps_its_settings_unless_they_are_overridden() {
    let uid = unique_uid("export_existing");
    let source = fresh();
    source.create_index(&uid, Some("id"));
    let task = source
        .patch(
            &format!("/indexes/{uid}/settings"),
            json!({"searchableAttributes": ["title"], "filterableAttributes": ["genre"]}),
        )
        .task_uid();
    source.wait_ok(task);
    source.add_documents(&uid, common::some_movies(20));
    let target = fresh();
    target.create_index(&uid, Some("id"));
    let task = target
        .patch(
            &format!("/indexes/{uid}/settings"),
            json!({"stopWords": ["the"]}),
        )
        .task_uid();
    target.wait_ok(task);

    let task = export(&source, json!({"url": target.base}));
    assert_eq!(task["status"], "succeeded", "{task}");
    settle(&target);
    let settings = target.get(&format!("/indexes/{uid}/settings")).expect(200);
    assert_eq!(settings["stopWords"], json!(["the"]));
    assert_eq!(settings["searchableAttributes"], json!(["*"]));
    assert_eq!(target.all_documents(&uid).len(), 20);

    let task = export(
        &source,
        json!({"url": target.base, "indexes": {"*": {"overrideSettings": true}}}),
    );
    assert_eq!(task["status"], "succeeded", "{task}");
    settle(&target);
    assert_eq!(
        target.get(&format!("/indexes/{uid}/settings")).expect(200),
        source.get(&format!("/indexes/{uid}/settings")).expect(200)
    );
}

#[test]
fn the_api_key_is_sent_and_a_refusal_fails_the_task() {
    const TARGET_KEY: &str = "export-target-master-key-0123456789";
    let uid = unique_uid("export_keyed");
    let source = fresh();
    source.add_documents(&uid, common::some_movies(10));
    let target = start_server(ServerConfig {
        master_key: Some(TARGET_KEY.to_string()),
        ..ServerConfig::default()
    });

    let refused = export(&source, json!({"url": target.base}));
    assert_eq!(refused["status"], "failed", "{refused}");
    assert_eq!(refused["error"]["code"], "internal");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "Failed to export documents to remote server missing_authorization_header (auth)"
        ),
        "{message}"
    );

    let task = export(&source, json!({"url": target.base, "apiKey": TARGET_KEY}));
    assert_eq!(task["status"], "succeeded", "{task}");
    assert_eq!(task["details"]["apiKey"], "exporXXXXXX...");
    assert!(target.scheduler.wait_idle(common::TASK_TIMEOUT));
    let documents = target
        .client
        .get(target.url(&format!("/indexes/{uid}/documents")))
        .bearer_auth(TARGET_KEY)
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap();
    assert_eq!(documents["total"], 10);
}

#[test]
fn an_unreachable_target_fails_the_task_with_a_useful_error() {
    let uid = unique_uid("export_unreachable");
    let source = fresh();
    source.add_documents(&uid, common::some_movies(3));
    // Bound and closed at once: nothing listens on that port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let task = export(&source, json!({"url": url}));
    assert_eq!(task["status"], "failed", "{task}");
    assert_eq!(task["error"]["code"], "internal");
    let message = task["error"]["message"].as_str().unwrap();
    assert!(message.contains(&url), "{message}");
    assert!(message.contains("tried 4 times"), "{message}");
    // The details are those of the request.
    assert_eq!(
        task["details"]["indexes"],
        json!({"*": {"filter": null, "overrideSettings": false}})
    );
    // An export that selects no index contacts nobody and succeeds.
    let task = export(&source, json!({"url": url, "indexes": {"none_such*": {}}}));
    assert_eq!(task["status"], "succeeded", "{task}");
    assert_eq!(task["details"]["indexes"], json!({}));
}

/// A target that holds each request until told to answer, then answers 503.
fn holding_target() -> (String, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (arrived_tx, arrived) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let mut released = false;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut seen = Vec::new();
            let mut buffer = [0u8; 4096];
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(&buffer[..n]),
                }
            }
            let _ = arrived_tx.send(());
            if !released {
                released = release_rx.recv().is_ok();
            }
            let _ = stream.write_all(
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (url, arrived, release)
}

#[test]
fn a_running_export_is_canceled() {
    let uid = unique_uid("export_canceled");
    let source = fresh();
    source.add_documents(&uid, common::some_movies(3));
    let (url, arrived, release) = holding_target();
    let export_uid = source.post("/export", json!({"url": url})).summary(200)["taskUid"]
        .as_u64()
        .unwrap();
    // The writer is inside the export, waiting for the target's first answer.
    arrived.recv_timeout(common::TASK_TIMEOUT).unwrap();
    assert_eq!(
        source.get(&format!("/tasks/{export_uid}")).expect(200)["status"],
        "processing"
    );
    let cancel = source
        .raw(
            "POST",
            &format!("/tasks/cancel?uids={export_uid}"),
            None,
            Vec::new(),
        )
        .summary(200)["taskUid"]
        .as_u64()
        .unwrap();
    release.send(()).unwrap();
    source.wait_ok(cancel);
    let task = source.wait_task(export_uid);
    assert_eq!(task["status"], "canceled", "{task}");
    assert_eq!(task["canceledBy"], cancel);
    // The writer goes on with other work.
    source.add_documents(&uid, common::some_movies(4));
}

#[test]
fn malformed_exports_are_refused_with_their_codes() {
    let server = common::server();
    let mut checks = ErrorChecks::new();
    let cases = [
        ("no url", json!({}), "invalid_export_url"),
        (
            "relative url",
            json!({"url": "localhost:7700"}),
            "invalid_export_url",
        ),
        ("url type", json!({"url": 7700}), "invalid_export_url"),
        (
            "api key",
            json!({"url": "http://127.0.0.1:1", "apiKey": ["k"]}),
            "invalid_export_api_key",
        ),
        (
            "payload size",
            json!({"url": "http://127.0.0.1:1", "payloadSize": "lots"}),
            "invalid_export_payload_size",
        ),
        (
            "negative size",
            json!({"url": "http://127.0.0.1:1", "payloadSize": -1}),
            "invalid_export_payload_size",
        ),
        (
            "indexes type",
            json!({"url": "http://127.0.0.1:1", "indexes": ["*"]}),
            "invalid_export_indexes_patterns",
        ),
        (
            "bad pattern",
            json!({"url": "http://127.0.0.1:1", "indexes": {"mo vies": {}}}),
            "invalid_export_indexes_patterns",
        ),
        (
            "filter type",
            json!({"url": "http://127.0.0.1:1", "indexes": {"*": {"filter": 3}}}),
            "invalid_export_index_filter",
        ),
        (
            "filter syntax",
            json!({"url": "http://127.0.0.1:1", "indexes": {"*": {"filter": "year >"}}}),
            "invalid_export_index_filter",
        ),
        (
            "override type",
            json!({"url": "http://127.0.0.1:1", "indexes": {"*": {"overrideSettings": 1}}}),
            "invalid_export_index_override_settings",
        ),
        (
            "unknown index field",
            json!({"url": "http://127.0.0.1:1", "indexes": {"*": {"skipEmbeddings": true}}}),
            "bad_request",
        ),
        (
            "unknown field",
            json!({"url": "http://127.0.0.1:1", "dryRun": true}),
            "bad_request",
        ),
    ];
    for (label, body, code) in cases {
        checks.check(label, server.post("/export", body), 400, code);
    }
    checks.finish();
    // Nothing was enqueued.
    let tasks = server.get("/tasks?types=export").expect(200);
    assert_eq!(tasks["total"], 0, "{tasks}");
}

#[test]
fn a_filter_the_index_cannot_evaluate_fails_the_task() {
    let uid = unique_uid("export_unfilterable");
    let source = fresh();
    source.add_documents(&uid, common::some_movies(3));
    let target = fresh();
    let task = export(
        &source,
        json!({"url": target.base, "indexes": {"*": {"filter": "title = Alien"}}}),
    );
    assert_eq!(task["status"], "failed", "{task}");
    assert_eq!(task["error"]["code"], "invalid_export_index_filter");
    assert!(
        task["error"]["message"].as_str().unwrap().contains(&uid),
        "{task}"
    );
}
