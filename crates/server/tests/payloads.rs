//! A task's payload file damaged on disk between its `202` and its processing (issue 6) is
//! detected by the length and checksum sealed when it was enqueued: that task fails with a
//! clear error and the other tasks of its batch are indexed. The writer is held with
//! `Scheduler::pause` so that the files can be damaged while their tasks wait.

mod common;

use std::io::Write;
use std::path::PathBuf;

use common::{movies, start_server, unique_uid, Server};
use serde_json::Value;

fn payload_files(server: &Server) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(server.data_dir().join("payloads"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// Posts films and returns the task uid and the payload file it created.
fn post_films(server: &Server, uid: &str, films: &[Value]) -> (u64, PathBuf) {
    let before = payload_files(server);
    let task = server
        .post(
            &format!("/indexes/{uid}/documents"),
            Value::Array(films.to_vec()),
        )
        .task_uid();
    let after = payload_files(server);
    let new: Vec<PathBuf> = after.into_iter().filter(|f| !before.contains(f)).collect();
    assert_eq!(new.len(), 1, "one payload file per task: {new:?}");
    (task, new[0].clone())
}

#[test]
fn a_damaged_payload_fails_its_task_and_the_others_proceed() {
    let server = start_server(quarry_server::ServerConfig::default());
    let uid = unique_uid("payloads");
    let films = movies();
    server.scheduler.pause();
    let (first, _) = post_films(&server, &uid, &films[0..100]);
    let (flipped, flipped_file) = post_films(&server, &uid, &films[100..200]);
    let (truncated, truncated_file) = post_films(&server, &uid, &films[200..300]);
    let (last, _) = post_films(&server, &uid, &films[300..400]);

    // One byte changed in the middle: the length is right, the checksum is not.
    let mut bytes = std::fs::read(&flipped_file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'a' { b'b' } else { b'a' };
    std::fs::write(&flipped_file, &bytes).unwrap();
    // Cut after a complete line: still valid NDJSON, but documents are missing.
    let text = std::fs::read_to_string(&truncated_file).unwrap();
    let cut = text[..text.len() / 2].rfind('\n').unwrap() + 1;
    std::fs::File::create(&truncated_file)
        .unwrap()
        .write_all(&text.as_bytes()[..cut])
        .unwrap();

    server.scheduler.resume();
    for (task, expected) in [
        (first, "succeeded"),
        (flipped, "failed"),
        (truncated, "failed"),
        (last, "succeeded"),
    ] {
        let body = server.wait_task(task);
        assert_eq!(body["status"], expected, "task {task}: {body}");
        if expected == "failed" {
            assert_eq!(body["error"]["code"], "internal", "{body}");
            let message = body["error"]["message"].as_str().unwrap();
            assert!(
                message.contains(&format!("payload of task {task} is corrupted")),
                "{message}"
            );
            assert_eq!(body["details"]["indexedDocuments"], 0, "{body}");
        }
    }
    let stats = server.get(&format!("/indexes/{uid}/stats")).expect(200);
    assert_eq!(stats["numberOfDocuments"], 200, "{stats}");
    for film in films[0..100].iter().chain(&films[300..400]) {
        server
            .get(&format!("/indexes/{uid}/documents/{}", film["id"]))
            .expect(200);
    }
    for film in &films[100..300] {
        server
            .get(&format!("/indexes/{uid}/documents/{}", film["id"]))
            .expect(404);
    }
    // A deleted payload is caught the same way.
    server.scheduler.pause();
    let (gone, gone_file) = post_films(&server, &uid, &films[400..410]);
    std::fs::remove_file(&gone_file).unwrap();
    server.scheduler.resume();
    let body = server.wait_task(gone);
    assert_eq!(body["status"], "failed", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be read"),
        "{body}"
    );
}
