//! The task queue as clients see it over HTTP: listing with every filter and pagination, one
//! task by uid, the details each task type reports, failed tasks' error bodies, date and
//! duration formats, cancelation, deletion, batches, and the batching of consecutive document
//! tasks. Each test filters on its own index uids because the server is shared.

mod common;

use common::*;
use serde_json::{json, Value};

fn uids_of(list: &Value) -> Vec<u64> {
    list["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results: {list}"))
        .iter()
        .map(|t| t["uid"].as_u64().unwrap())
        .collect()
}

/// Enqueues `n` one-document additions to `index`, film ids starting at `first`.
fn enqueue_small_additions(s: &Server, index: &str, first: usize, n: usize) -> Vec<u64> {
    (0..n)
        .map(|i| {
            s.post(
                &format!("/indexes/{index}/documents"),
                json!([movies()[first + i]]),
            )
            .task_uid()
        })
        .collect()
}

/// The summary answered by task cancelation and deletion. Their exact status (`200 OK`, as
/// in Meilisearch) is asserted by `cancel_and_delete_answer_200`; the tests of what they do
/// only check the summary, so that one wrong status does not hide their behaviour.
trait TaskManagementSummary {
    fn task_management_summary(self) -> Value;
}

impl TaskManagementSummary for Response {
    #[track_caller]
    fn task_management_summary(self) -> Value {
        assert!(
            self.status == 200 || self.status == 202,
            "unexpected status {}: {}",
            self.status,
            self.body
        );
        assert_summary_shape(&self.body);
        self.body
    }
}

/// Keeps the writer busy for a while: loads the movies into a fresh index (not waited for).
fn busy_writer(s: &Server) -> u64 {
    s.enqueue_movies(&unique_uid("tasks_blocker"))
}

#[test]
fn task_view_shape_and_formats() {
    let s = server();
    let uid = unique_uid("tasks_shape");
    let task = s
        .post(&format!("/indexes/{uid}/documents"), some_movies(3))
        .task_uid();
    let task = s.wait_ok(task);
    let mut keys: Vec<&String> = task.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "batchUid",
            "canceledBy",
            "details",
            "duration",
            "enqueuedAt",
            "error",
            "finishedAt",
            "indexUid",
            "startedAt",
            "status",
            "type",
            "uid"
        ]
    );
    assert_eq!(task["indexUid"], uid.as_str());
    assert_eq!(task["type"], "documentAdditionOrUpdate");
    assert_eq!(task["canceledBy"], Value::Null);
    assert_eq!(task["error"], Value::Null);
    assert!(task["batchUid"].is_u64());
    assert_rfc3339(&task["enqueuedAt"]);
    assert_rfc3339(&task["startedAt"]);
    assert_rfc3339(&task["finishedAt"]);
    assert_iso_duration(&task["duration"]);
    let date = |v: &Value| {
        time::OffsetDateTime::parse(
            v.as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    assert!(date(&task["enqueuedAt"]) <= date(&task["startedAt"]));
    assert!(date(&task["startedAt"]) <= date(&task["finishedAt"]));

    // The same task in a list has the same shape.
    let listed = s.get(&format!("/tasks?uids={}", task["uid"])).expect(200);
    assert_eq!(listed["results"][0], task);
}

#[test]
fn get_task_errors() {
    let s = server();
    let body = assert_error(s.get("/tasks/4294967295"), 404, "task_not_found");
    assert_eq!(body["message"], "Task `4294967295` not found.");
    assert_error(s.get("/tasks/abc"), 400, "invalid_task_uids");
    assert_error(s.get("/tasks/-1"), 400, "invalid_task_uids");
}

#[test]
fn list_tasks_response_shape_and_pagination() {
    let s = server();
    let uid = unique_uid("tasks_pages");
    let mut uids = Vec::new();
    for i in 0..5 {
        let task = s
            .post(&format!("/indexes/{uid}/documents"), json!([movies()[i]]))
            .task_uid();
        uids.push(task);
    }
    for task in &uids {
        s.wait_ok(*task);
    }
    let newest_first: Vec<u64> = uids.iter().rev().copied().collect();

    let all = s.get(&format!("/tasks?indexUids={uid}")).expect(200);
    let mut keys: Vec<&String> = all.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["from", "limit", "next", "results", "total"]);
    assert_eq!(all["limit"], 20);
    assert_eq!(all["total"], 5);
    assert_eq!(all["next"], Value::Null);
    assert_eq!(all["from"], newest_first[0]);
    assert_eq!(uids_of(&all), newest_first);

    let page1 = s
        .get(&format!("/tasks?indexUids={uid}&limit=2"))
        .expect(200);
    assert_eq!(uids_of(&page1), newest_first[..2]);
    assert_eq!(page1["limit"], 2);
    assert_eq!(page1["total"], 5);
    assert_eq!(page1["from"], newest_first[0]);
    assert_eq!(page1["next"], newest_first[2]);
    let page2 = s
        .get(&format!(
            "/tasks?indexUids={uid}&limit=2&from={}",
            page1["next"]
        ))
        .expect(200);
    assert_eq!(uids_of(&page2), newest_first[2..4]);
    assert_eq!(page2["from"], newest_first[2]);
    assert_eq!(page2["next"], newest_first[4]);
    assert_eq!(page2["total"], 5);
    let page3 = s
        .get(&format!(
            "/tasks?indexUids={uid}&limit=2&from={}",
            page2["next"]
        ))
        .expect(200);
    assert_eq!(uids_of(&page3), newest_first[4..]);
    assert_eq!(page3["next"], Value::Null);

    let reversed = s
        .get(&format!("/tasks?indexUids={uid}&reverse=true&limit=3"))
        .expect(200);
    assert_eq!(uids_of(&reversed), uids[..3]);
    assert_eq!(reversed["next"], uids[3]);
    let reversed = s
        .get(&format!(
            "/tasks?indexUids={uid}&reverse=true&from={}",
            uids[3]
        ))
        .expect(200);
    assert_eq!(uids_of(&reversed), uids[3..]);

    let empty = s
        .get(&format!("/tasks?indexUids={uid}&limit=0"))
        .expect(200);
    assert_eq!(empty["results"], json!([]));
    assert_eq!(empty["total"], 5);
}

#[test]
fn list_tasks_filters() {
    let s = server();
    let a = unique_uid("tasks_filter_a");
    let b = unique_uid("tasks_filter_b");
    let created = s
        .post("/indexes", json!({"uid": a, "primaryKey": "id"}))
        .task_uid();
    s.wait_ok(created);
    let added = s.add_documents(&a, some_movies(2))["uid"].as_u64().unwrap();
    let failed = s
        .post(
            &format!("/indexes/{a}/documents"),
            json!([{"title": "no id"}]),
        )
        .task_uid();
    s.wait_failed(failed, "missing_document_id");
    let settings = s
        .patch(
            &format!("/indexes/{b}/settings"),
            json!({"rankingRules": ["words", "typo"]}),
        )
        .task_uid();
    s.wait_ok(settings);

    let list = |query: &str| uids_of(&s.get(&format!("/tasks?{query}")).expect(200));

    assert_eq!(list(&format!("indexUids={a}")), [failed, added, created]);
    assert_eq!(
        list(&format!("indexUids={a},{b}")),
        [settings, failed, added, created]
    );
    assert_eq!(
        list(&format!("uids={created},{settings}")),
        [settings, created]
    );
    assert_eq!(list(&format!("indexUids={a}&statuses=failed")), [failed]);
    assert_eq!(
        list(&format!("indexUids={a}&statuses=succeeded,failed")),
        [failed, added, created]
    );
    assert_eq!(
        list(&format!("indexUids={a}&statuses=enqueued,processing")),
        Vec::<u64>::new()
    );
    assert_eq!(
        list(&format!("indexUids={a},{b}&types=documentAdditionOrUpdate")),
        [failed, added]
    );
    assert_eq!(
        list(&format!(
            "indexUids={a},{b}&types=indexCreation,settingsUpdate"
        )),
        [settings, created]
    );
    assert_eq!(
        list(&format!(
            "indexUids={a},{b}&types=documentAdditionOrUpdate&statuses=succeeded"
        )),
        [added]
    );
    assert_eq!(
        list(&format!("uids={created},{added}&indexUids={b}")),
        Vec::<u64>::new()
    );
    // `*` means every value.
    assert_eq!(
        list(&format!("indexUids={a}&statuses=*&types=*")),
        [failed, added, created]
    );
}

#[test]
fn list_tasks_by_enqueued_date() {
    let s = server();
    let uid = unique_uid("tasks_dates");
    let first = s.add_documents(&uid, some_movies(1))["uid"]
        .as_u64()
        .unwrap();
    let middle = now_rfc3339();
    let second = s.add_documents(&uid, Value::Array(movies()[1..2].to_vec()))["uid"]
        .as_u64()
        .unwrap();
    let after = now_rfc3339();
    let list = |query: &str| {
        uids_of(
            &s.get(&format!("/tasks?indexUids={uid}&{query}"))
                .expect(200),
        )
    };
    assert_eq!(list(&format!("afterEnqueuedAt={middle}")), [second]);
    assert_eq!(list(&format!("beforeEnqueuedAt={middle}")), [first]);
    assert_eq!(list(&format!("afterEnqueuedAt={after}")), Vec::<u64>::new());
    assert_eq!(list(&format!("beforeEnqueuedAt={after}")), [second, first]);
    assert_eq!(list("afterEnqueuedAt=2000-01-01"), [second, first]);
    assert_eq!(list("beforeEnqueuedAt=2000-01-01"), Vec::<u64>::new());
    assert_eq!(list(&format!("afterFinishedAt={after}")), Vec::<u64>::new());
    assert_eq!(list(&format!("beforeStartedAt={middle}")), [first]);
}

#[test]
fn list_tasks_rejects_bad_filters() {
    let s = server();
    let cases = [
        ("statuses=done", "invalid_task_statuses"),
        ("types=documentAddition", "invalid_task_types"),
        ("uids=abc", "invalid_task_uids"),
        ("uids=1,-2", "invalid_task_uids"),
        ("batchUids=x", "invalid_batch_uids"),
        ("canceledBy=x", "invalid_task_canceled_by"),
        ("indexUids=bad%20uid", "invalid_index_uid"),
        ("limit=abc", "invalid_task_limit"),
        ("from=abc", "invalid_task_from"),
        ("reverse=maybe", "invalid_task_reverse"),
        (
            "afterEnqueuedAt=yesterday",
            "invalid_task_after_enqueued_at",
        ),
        (
            "beforeEnqueuedAt=2024-13-45",
            "invalid_task_before_enqueued_at",
        ),
        ("afterStartedAt=x", "invalid_task_after_started_at"),
        ("beforeStartedAt=x", "invalid_task_before_started_at"),
        ("afterFinishedAt=x", "invalid_task_after_finished_at"),
        ("beforeFinishedAt=x", "invalid_task_before_finished_at"),
        ("unknown=1", "bad_request"),
    ];
    let mut checks = ErrorChecks::new();
    for (query, code) in cases {
        checks.check(query, s.get(&format!("/tasks?{query}")), 400, code);
    }
    checks.finish();
    let body = assert_error(s.get("/tasks?statuses=done"), 400, "invalid_task_statuses");
    assert!(body["message"].as_str().unwrap().contains("done"), "{body}");
}

#[test]
fn details_of_each_task_type() {
    let s = server();
    let uid = unique_uid("tasks_details");

    let created = s.post("/indexes", json!({"uid": uid})).task_uid();
    let created = s.wait_ok(created);
    assert_eq!(created["type"], "indexCreation");
    assert_eq!(created["details"], json!({"primaryKey": null}));

    let updated = s
        .patch(&format!("/indexes/{uid}"), json!({"primaryKey": "id"}))
        .task_uid();
    let updated = s.wait_ok(updated);
    assert_eq!(updated["type"], "indexUpdate");
    assert_eq!(updated["details"]["primaryKey"], "id");

    let added = s
        .post(&format!("/indexes/{uid}/documents"), some_movies(6))
        .task_uid();
    let added = s.wait_ok(added);
    assert_eq!(added["type"], "documentAdditionOrUpdate");
    assert_eq!(
        added["details"],
        json!({"receivedDocuments": 6, "indexedDocuments": 6})
    );

    let deleted = s
        .post(
            &format!("/indexes/{uid}/documents/delete-batch"),
            json!([1, 2, 999]),
        )
        .task_uid();
    let deleted = s.wait_ok(deleted);
    assert_eq!(deleted["type"], "documentDeletion");
    assert_eq!(deleted["details"]["providedIds"], 3);
    assert_eq!(deleted["details"]["deletedDocuments"], 2);

    let settings = s
        .patch(
            &format!("/indexes/{uid}/settings"),
            json!({"searchableAttributes": ["title"], "stopWords": ["the"]}),
        )
        .task_uid();
    let settings = s.wait_ok(settings);
    assert_eq!(settings["type"], "settingsUpdate");
    assert_eq!(
        settings["details"],
        json!({"searchableAttributes": ["title"], "stopWords": ["the"]})
    );

    let cleared = s.delete(&format!("/indexes/{uid}/documents")).task_uid();
    let cleared = s.wait_ok(cleared);
    assert_eq!(cleared["type"], "documentDeletion");
    assert_eq!(cleared["details"]["deletedDocuments"], 4);

    let dropped = s.delete(&format!("/indexes/{uid}")).task_uid();
    let dropped = s.wait_ok(dropped);
    assert_eq!(dropped["type"], "indexDeletion");
    assert_eq!(dropped["details"], json!({"deletedDocuments": 0}));
}

#[test]
fn enqueued_task_details_before_processing() {
    let s = server();
    busy_writer(s);
    let uid = unique_uid("tasks_enqueued_details");
    let body = s
        .post(&format!("/indexes/{uid}/documents"), some_movies(4))
        .expect(202);
    let task = s.get(&format!("/tasks/{}", body["taskUid"])).expect(200);
    // Whatever its status now, the task says how many documents it received.
    assert_eq!(task["details"]["receivedDocuments"], 4);
    if task["status"] == "enqueued" {
        assert_eq!(task["details"]["indexedDocuments"], Value::Null);
        assert_eq!(task["startedAt"], Value::Null);
        assert_eq!(task["finishedAt"], Value::Null);
        assert_eq!(task["duration"], Value::Null);
        assert_eq!(task["batchUid"], Value::Null);
    }
    let task = s.wait_ok(body["taskUid"].as_u64().unwrap());
    assert_eq!(task["details"]["indexedDocuments"], 4);
}

#[test]
fn failed_task_error_body() {
    let s = server();
    let uid = unique_uid("tasks_failed");
    s.create_index(&uid, Some("id"));
    let task = s.post("/indexes", json!({"uid": uid})).task_uid();
    let task = s.wait_failed(task, "index_already_exists");
    assert_eq!(task["status"], "failed");
    assert_eq!(
        task["error"]["message"],
        format!("Index `{uid}` already exists.")
    );
    assert_rfc3339(&task["finishedAt"]);
    assert_iso_duration(&task["duration"]);

    // A setting valid on its own but not with the stored ones fails its task.
    let task = s
        .patch(
            &format!("/indexes/{uid}/settings"),
            json!({"typoTolerance": {"minWordSizeForTypos": {"oneTypo": 10}}}),
        )
        .task_uid();
    let task = s.wait_failed(task, "invalid_settings_typo_tolerance");
    assert_eq!(task["type"], "settingsUpdate");
}

#[test]
fn cancel_requires_a_filter() {
    let s = server();
    let body = assert_error(
        s.post("/tasks/cancel", json!({})),
        400,
        "missing_task_filters",
    );
    assert!(
        body["message"].as_str().unwrap().contains("filter"),
        "{body}"
    );
    assert_error(
        s.post("/tasks/cancel?statuses=bogus", json!({})),
        400,
        "invalid_task_statuses",
    );
    assert_error(s.delete("/tasks"), 400, "missing_task_filters");
    assert_error(s.delete("/tasks?types=nope"), 400, "invalid_task_types");
}

#[test]
fn cancel_and_delete_answer_200() {
    let s = server();
    let uid = unique_uid("tasks_status_200");
    let added = s.add_documents(&uid, some_movies(1));
    let body = s
        .post(&format!("/tasks/cancel?uids={}", added["uid"]), json!({}))
        .summary(200);
    assert_eq!(body["type"], "taskCancelation");
    s.wait_ok(body["taskUid"].as_u64().unwrap());
    let body = s
        .delete(&format!("/tasks?uids={}", added["uid"]))
        .summary(200);
    assert_eq!(body["type"], "taskDeletion");
    s.wait_ok(body["taskUid"].as_u64().unwrap());
}

#[test]
fn cancel_enqueued_tasks() {
    let s = server();
    busy_writer(s);
    busy_writer(s);
    let uid = unique_uid("tasks_cancel");
    let tasks = enqueue_small_additions(s, &uid, 100, 10);

    let body = s
        .post(
            &format!("/tasks/cancel?indexUids={uid}&statuses=enqueued"),
            json!({}),
        )
        .task_management_summary();
    assert_summary_shape(&body);
    assert_eq!(body["type"], "taskCancelation");
    assert_eq!(body["indexUid"], Value::Null);
    let cancel_uid = body["taskUid"].as_u64().unwrap();
    let cancel = s.wait_ok(cancel_uid);
    assert_eq!(
        cancel["details"]["originalFilter"],
        format!("?indexUids={uid}&statuses=enqueued")
    );

    let mut canceled = 0;
    let mut canceled_tasks = Vec::new();
    let mut kept = Vec::new();
    for (i, task) in tasks.iter().enumerate() {
        let task = s.wait_task(*task);
        match task["status"].as_str().unwrap() {
            "canceled" => {
                canceled += 1;
                assert_eq!(task["canceledBy"], cancel_uid, "{task}");
                assert_eq!(task["error"], Value::Null);
                assert_rfc3339(&task["finishedAt"]);
                canceled_tasks.push(task);
            }
            "succeeded" => kept.push(movies()[100 + i]["id"].to_string()),
            other => panic!("unexpected status {other}: {task}"),
        }
    }
    assert!(
        canceled > 0,
        "no task was canceled while the writer was busy"
    );
    assert_eq!(cancel["details"]["canceledTasks"], canceled);
    assert!(cancel["details"]["matchedTasks"].as_u64().unwrap() >= canceled);

    // Only the documents of tasks that ran are there.
    kept.sort();
    let stored = match s.get(&format!("/indexes/{uid}")).status {
        200 => s.document_ids(&uid, "id"),
        _ => Vec::new(),
    };
    assert_eq!(stored, kept);

    // Canceled tasks are listed by their canceler.
    let listed = s
        .get(&format!("/tasks?canceledBy={cancel_uid}"))
        .expect(200);
    assert_eq!(listed["total"], canceled);
    let by_status = s
        .get(&format!("/tasks?indexUids={uid}&statuses=canceled"))
        .expect(200);
    assert_eq!(by_status["total"], canceled);
    // A canceled addition indexed nothing: Meilisearch reports `indexedDocuments: 0`.
    for task in canceled_tasks {
        assert_eq!(task["details"]["indexedDocuments"], 0, "{task}");
    }
}

#[test]
fn cancel_of_finished_tasks_changes_nothing() {
    let s = server();
    let uid = unique_uid("tasks_cancel_finished");
    let added = s.add_documents(&uid, some_movies(2));
    let task = s
        .post(&format!("/tasks/cancel?uids={}", added["uid"]), json!({}))
        .task_management_summary()["taskUid"]
        .as_u64()
        .unwrap();
    let task = s.wait_ok(task);
    assert_eq!(task["details"]["matchedTasks"], 1);
    assert_eq!(task["details"]["canceledTasks"], 0);
    assert_eq!(
        task["details"]["originalFilter"],
        format!("?uids={}", added["uid"])
    );
    assert_eq!(
        s.get(&format!("/tasks/{}", added["uid"])).expect(200)["status"],
        "succeeded"
    );
    assert_eq!(s.all_documents(&uid).len(), 2);
}

#[test]
fn delete_tasks_removes_only_finished_tasks() {
    let s = server();
    let uid = unique_uid("tasks_delete");
    let finished: Vec<u64> = (0..3)
        .map(|i| {
            s.add_documents(&uid, json!([movies()[200 + i]]))["uid"]
                .as_u64()
                .unwrap()
        })
        .collect();
    busy_writer(s);
    busy_writer(s);
    let pending = enqueue_small_additions(s, &uid, 210, 2);
    let body = s
        .delete(&format!("/tasks?indexUids={uid}"))
        .task_management_summary();
    assert_summary_shape(&body);
    assert_eq!(body["type"], "taskDeletion");
    assert_eq!(body["indexUid"], Value::Null);
    let deletion = s.wait_ok(body["taskUid"].as_u64().unwrap());
    assert_eq!(deletion["details"]["matchedTasks"], 5);
    assert_eq!(deletion["details"]["deletedTasks"], 3);
    assert_eq!(
        deletion["details"]["originalFilter"],
        format!("?indexUids={uid}")
    );
    for task in &finished {
        assert_error(s.get(&format!("/tasks/{task}")), 404, "task_not_found");
    }
    for task in &pending {
        s.wait_ok(*task);
    }
    let left = s.get(&format!("/tasks?indexUids={uid}")).expect(200);
    let mut left = uids_of(&left);
    left.sort_unstable();
    assert_eq!(left, pending);
    // Deleting tasks deletes no document.
    assert_eq!(s.all_documents(&uid).len(), 5);
}

#[test]
fn delete_tasks_by_uid_and_status() {
    let s = server();
    let uid = unique_uid("tasks_delete_status");
    let ok = s.add_documents(&uid, some_movies(1))["uid"]
        .as_u64()
        .unwrap();
    let failed = s
        .post(
            &format!("/indexes/{uid}/documents"),
            json!([{"title": "no id"}]),
        )
        .task_uid();
    s.wait_failed(failed, "missing_document_id");
    let task = s
        .delete(&format!("/tasks?indexUids={uid}&statuses=failed"))
        .task_management_summary()["taskUid"]
        .as_u64()
        .unwrap();
    let task = s.wait_ok(task);
    assert_eq!(task["details"]["matchedTasks"], 1);
    assert_eq!(task["details"]["deletedTasks"], 1);
    assert_error(s.get(&format!("/tasks/{failed}")), 404, "task_not_found");
    assert_eq!(
        s.get(&format!("/tasks/{ok}")).expect(200)["status"],
        "succeeded"
    );
}

#[test]
fn consecutive_document_tasks_are_batched() {
    let s = server();
    busy_writer(s);
    let uid = unique_uid("tasks_batched");
    let tasks = enqueue_small_additions(s, &uid, 300, 5);
    let done: Vec<Value> = tasks.iter().map(|t| s.wait_ok(*t)).collect();
    let batch_uid = &done[0]["batchUid"];
    assert!(batch_uid.is_u64(), "{}", done[0]);
    for task in &done {
        assert_eq!(
            &task["batchUid"], batch_uid,
            "tasks were not batched: {task}"
        );
        assert_eq!(task["details"]["indexedDocuments"], 1);
    }
    // The batch lists the five tasks.
    let batch = s.get(&format!("/batches/{batch_uid}")).expect(200);
    assert_eq!(batch["uid"], *batch_uid);
    assert_eq!(batch["stats"]["totalNbTasks"], 5);
    assert_eq!(batch["stats"]["status"], json!({"succeeded": 5}));
    assert_eq!(
        batch["stats"]["types"],
        json!({"documentAdditionOrUpdate": 5})
    );
    assert_eq!(batch["stats"]["indexUids"], json!({ (uid.as_str()): 5 }));
    assert_eq!(batch["details"]["receivedDocuments"], 5);
    assert_eq!(batch["details"]["indexedDocuments"], 5);
    let listed = s.get(&format!("/tasks?batchUids={batch_uid}")).expect(200);
    let mut listed = uids_of(&listed);
    listed.sort_unstable();
    assert_eq!(listed, tasks);
    assert_eq!(s.all_documents(&uid).len(), 5);
}

#[test]
fn batches_routes() {
    let s = server();
    let uid = unique_uid("tasks_batches");
    let task = s.add_documents(&uid, some_movies(3));
    let batch_uid = task["batchUid"].as_u64().unwrap();

    let batch = s.get(&format!("/batches/{batch_uid}")).expect(200);
    for key in [
        "uid",
        "details",
        "stats",
        "duration",
        "startedAt",
        "finishedAt",
        "progress",
    ] {
        assert!(batch.get(key).is_some(), "batch lacks `{key}`: {batch}");
    }
    assert_eq!(batch["uid"], batch_uid);
    assert_eq!(batch["progress"], Value::Null);
    assert_rfc3339(&batch["startedAt"]);
    assert_rfc3339(&batch["finishedAt"]);
    assert_iso_duration(&batch["duration"]);
    assert_eq!(batch["stats"]["indexUids"][uid.as_str()], 1);

    let list = s.get(&format!("/batches?indexUids={uid}")).expect(200);
    let mut keys: Vec<&String> = list.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["from", "limit", "next", "results", "total"]);
    assert_eq!(list["total"], 1);
    assert_eq!(list["limit"], 20);
    assert_eq!(list["results"][0], batch);
    assert_eq!(
        s.get(&format!("/batches?uids={}", task["uid"])).expect(200)["results"][0]["uid"],
        batch_uid
    );

    let all = s.get("/batches?limit=1").expect(200);
    assert_eq!(all["results"].as_array().unwrap().len(), 1);

    let body = assert_error(s.get("/batches/4294967295"), 404, "batch_not_found");
    assert_eq!(body["message"], "Batch `4294967295` not found.");
    assert_error(s.get("/batches/abc"), 400, "invalid_batch_uids");
    assert_error(
        s.get("/batches?statuses=nope"),
        400,
        "invalid_task_statuses",
    );
}
