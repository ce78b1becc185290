//! The on-disk format is a promise: a data directory written by a released Quarry must open in
//! every later one. This test opens a checked-in data directory (format 1) and reads its tasks,
//! documents and settings back. `QUARRY_WRITE_FIXTURES=1` regenerates it (only when the format
//! version changes, alongside a new fixture directory).

use std::path::{Path, PathBuf};
use std::time::Duration;

use quarry_engine::search::SearchRequest;
use quarry_scheduler::{DocumentMethod, Scheduler, SchedulerOptions, Status, TaskKind};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/db-format-1")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn write_fixture(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    let scheduler = Scheduler::open(SchedulerOptions::new(dir)).unwrap();
    let (payload, file) = scheduler.create_payload().unwrap();
    let docs = [
        r#"{"id":1,"title":"The Land Girls","genre":"Drama"}"#,
        r#"{"id":2,"title":"First Love, Last Rites","genre":"Drama"}"#,
        r#"{"id":3,"title":"I Married a Strange Person","genre":"Comedy"}"#,
    ];
    std::fs::write(scheduler.payload_path(payload), docs.join("\n") + "\n").unwrap();
    scheduler.persist_payload(file).unwrap();
    scheduler
        .register(TaskKind::DocumentAdditionOrUpdate {
            index_uid: "movies".into(),
            primary_key: None,
            method: DocumentMethod::Replace,
            payload,
            documents_count: 3,
            allow_index_creation: true,
            skip_creation: false,
        })
        .unwrap();
    scheduler
        .register(TaskKind::SettingsUpdate {
            index_uid: "movies".into(),
            settings: serde_json::json!({"searchableAttributes": ["title"]}),
            allow_index_creation: true,
        })
        .unwrap();
    assert!(scheduler.wait_idle(Duration::from_secs(60)));
    scheduler.shutdown();
}

#[test]
fn opens_a_format_1_data_directory() {
    if std::env::var_os("QUARRY_WRITE_FIXTURES").is_some() {
        write_fixture(&fixture_dir());
    }
    let work = tempfile::tempdir().unwrap();
    copy_dir(&fixture_dir(), work.path());
    let scheduler = Scheduler::open(SchedulerOptions::new(work.path())).unwrap();
    let tasks: Vec<_> = (0..2)
        .map(|uid| scheduler.task(uid).expect("fixture task"))
        .collect();
    assert!(
        tasks.iter().all(|t| t.status == Status::Succeeded),
        "{tasks:?}"
    );
    let index = scheduler.index("movies").unwrap();
    assert_eq!(index.number_of_documents(), 3);
    assert_eq!(index.primary_key().as_deref(), Some("id"));
    assert_eq!(
        index.settings().searchable_attributes,
        Some(vec!["title".to_string()])
    );
    let result = index
        .search(&SearchRequest {
            query: Some("strange".into()),
            limit: 5,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(result.hits.len(), 1);
    assert_eq!(result.hits[0].document().unwrap()["id"], 3);
    // Comedy is only in a field that is not searchable any more.
    let result = index
        .search(&SearchRequest {
            query: Some("comedy".into()),
            limit: 5,
            ..Default::default()
        })
        .unwrap();
    assert!(result.hits.is_empty());
    // Opening migrated the index to the current format (re-indexed from the stored sources),
    // and filters work on it once an attribute is filterable.
    assert_eq!(
        index.state().format_version,
        quarry_engine::index::INDEX_FORMAT_VERSION
    );
    drop(index);
    scheduler
        .register(TaskKind::SettingsUpdate {
            index_uid: "movies".into(),
            settings: serde_json::json!({"filterableAttributes": ["genre"]}),
            allow_index_creation: false,
        })
        .unwrap();
    assert!(scheduler.wait_idle(Duration::from_secs(60)));
    let index = scheduler.index("movies").unwrap();
    let filter = quarry_engine::filter::parse_filter("genre = drama").unwrap();
    let result = index
        .search(&SearchRequest {
            limit: 5,
            filter,
            ..Default::default()
        })
        .unwrap();
    let mut ids: Vec<u64> = result
        .hits
        .iter()
        .map(|h| h.document().unwrap()["id"].as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, vec![1, 2]);
    scheduler.shutdown();
}
