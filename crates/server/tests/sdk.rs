//! Compatibility with code we did not write: the official Rust SDK (`meilisearch-sdk`) drives
//! the real server over HTTP. Every request the SDK builds must be accepted and every response
//! must parse into the SDK's types; a failure here is a Quarry bug, not a test bug.

mod common;

use std::time::Duration;

use meilisearch_sdk::client::{Client, SwapIndexes};
use meilisearch_sdk::documents::DocumentsQuery;
use meilisearch_sdk::errors::{Error, ErrorCode};
use meilisearch_sdk::search::MatchingStrategies;
use meilisearch_sdk::settings::{PaginationSetting, Settings};
use meilisearch_sdk::tasks::{Task, TasksSearchQuery};
use serde::{Deserialize, Serialize};
use serde_json::Value;

const POLL: Option<Duration> = Some(Duration::from_millis(20));
const TIMEOUT: Option<Duration> = Some(Duration::from_secs(60));

/// A film as an application would model it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Movie {
    id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    director: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    major_genre: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    release_year: Option<i64>,
}

fn as_movie(value: &Value) -> Movie {
    serde_json::from_value(value.clone()).unwrap()
}

/// An SDK client for the shared server (started off the async runtime).
async fn client() -> Client {
    let base = tokio::task::spawn_blocking(|| common::server().base.clone())
        .await
        .unwrap();
    Client::new(base, None::<String>).unwrap()
}

fn meili_code(error: Error) -> ErrorCode {
    match error {
        Error::Meilisearch(e) => e.error_code,
        other => panic!("not a Meilisearch error: {other:?}"),
    }
}

#[tokio::test]
async fn sdk_index_lifecycle() {
    let client = client().await;
    let uid = common::unique_uid("sdk_lifecycle");
    let task = client.create_index(&uid, Some("id")).await.unwrap();
    assert_eq!(task.index_uid.as_deref(), Some(uid.as_str()));
    let task = task
        .wait_for_completion(&client, POLL, TIMEOUT)
        .await
        .unwrap();
    assert!(task.is_success(), "{task:?}");
    let index = task.try_make_index(&client).unwrap();
    assert_eq!(index.uid, uid);

    let fetched = client.get_index(&uid).await.unwrap();
    assert_eq!(fetched.primary_key.as_deref(), Some("id"));
    assert!(fetched.created_at.is_some());
    assert!(fetched.updated_at.is_some());
    let raw = client.get_raw_index(&uid).await.unwrap();
    assert_eq!(raw["uid"], uid.as_str());

    let listed = client.list_all_indexes().await.unwrap();
    assert!(listed.total >= 1);
    let mut query = meilisearch_sdk::indexes::IndexesQuery::new(&client);
    query.with_limit(1000);
    let listed = client.list_all_indexes_with(&query).await.unwrap();
    assert!(listed.results.iter().any(|i| i.uid == uid));

    // Creating it again fails the task with the SDK's error code.
    let task = client
        .create_index(&uid, None)
        .await
        .unwrap()
        .wait_for_completion(&client, POLL, TIMEOUT)
        .await
        .unwrap();
    assert!(task.is_failure());
    assert_eq!(
        task.unwrap_failure().error_code,
        ErrorCode::IndexAlreadyExists
    );

    let task = fetched
        .delete()
        .await
        .unwrap()
        .wait_for_completion(&client, POLL, TIMEOUT)
        .await
        .unwrap();
    assert!(task.is_success(), "{task:?}");
    let error = client.get_index(&uid).await.unwrap_err();
    assert_eq!(meili_code(error), ErrorCode::IndexNotFound);
}

#[tokio::test]
async fn sdk_documents() {
    let client = client().await;
    let uid = common::unique_uid("sdk_documents");
    let index = client.index(&uid);
    let films: Vec<Movie> = common::movies()[..100].iter().map(as_movie).collect();
    let task = index
        .add_documents(&films, Some("id"))
        .await
        .unwrap()
        .wait_for_completion(&client, POLL, TIMEOUT)
        .await
        .unwrap();
    assert!(task.is_success(), "{task:?}");

    let one: Movie = index.get_document("7").await.unwrap();
    assert_eq!(one, films[6]);
    assert_eq!(one.director.as_deref(), Some("Christopher Nolan"));

    let all = index.get_documents::<Movie>().await.unwrap();
    assert_eq!(all.total, 100);
    assert_eq!(all.limit, 20);
    assert_eq!(all.offset, 0);
    assert_eq!(all.results.len(), 20);

    let mut query = DocumentsQuery::new(&index);
    query
        .with_offset(90)
        .with_limit(50)
        .with_fields(["id", "title"]);
    let page = index.get_documents_with::<Value>(&query).await.unwrap();
    assert_eq!(page.results.len(), 10);
    assert_eq!(page.offset, 90);
    for doc in &page.results {
        let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
        assert!(
            keys.len() <= 2 && keys.contains(&&"id".to_string()),
            "{doc}"
        );
    }

    // Merge with add_or_update, replace with add_or_replace.
    #[derive(Serialize)]
    struct Patch {
        id: u64,
        major_genre: &'static str,
    }
    let task = index
        .add_or_update(
            &[Patch {
                id: 7,
                major_genre: "Mystery",
            }],
            None,
        )
        .await
        .unwrap()
        .wait_for_completion(&client, POLL, TIMEOUT)
        .await
        .unwrap();
    assert!(task.is_success(), "{task:?}");
    let merged: Movie = index.get_document("7").await.unwrap();
    assert_eq!(merged.major_genre.as_deref(), Some("Mystery"));
    assert_eq!(merged.title, films[6].title);

    let error = index.get_document::<Movie>("999999").await.unwrap_err();
    assert_eq!(meili_code(error), ErrorCode::DocumentNotFound);

    // Deletions: one, several, all.
    let task = index
        .delete_document(1)
        .await
        .unwrap()
        .wait_for_completion(&client, POLL, TIMEOUT)
        .await
        .unwrap();
    assert!(task.is_success(), "{task:?}");
    let task = index
        .delete_documents(&[2, 3, 4])
        .await
        .unwrap()
        .wait_for_completion(&client, POLL, TIMEOUT)
        .await
        .unwrap();
    assert!(task.is_success(), "{task:?}");
    assert_eq!(index.get_stats().await.unwrap().number_of_documents, 96);
    let task = index
        .delete_all_documents()
        .await
        .unwrap()
        .wait_for_completion(&client, POLL, TIMEOUT)
        .await
        .unwrap();
    assert!(task.is_success(), "{task:?}");
    assert_eq!(index.get_documents::<Movie>().await.unwrap().total, 0);
}

#[tokio::test]
async fn sdk_failed_document_task() {
    let client = client().await;
    let uid = common::unique_uid("sdk_failed");
    let index = client.index(&uid);
    let films: Vec<Movie> = common::movies()[..3].iter().map(as_movie).collect();
    index
        .add_documents(&films, Some("id"))
        .await
        .unwrap()
        .wait_for_completion(&client, POLL, TIMEOUT)
        .await
        .unwrap();
    let bad = [serde_json::json!({"title": "no id"})];
    let task = index
        .add_documents(&bad, None)
        .await
        .unwrap()
        .wait_for_completion(&client, POLL, TIMEOUT)
        .await
        .unwrap();
    assert!(task.is_failure(), "{task:?}");
    let error = task.unwrap_failure();
    assert_eq!(error.error_code, ErrorCode::MissingDocumentId);
    assert!(!error.error_message.is_empty());
    assert_eq!(index.get_stats().await.unwrap().number_of_documents, 3);
}

#[tokio::test]
async fn sdk_search() {
    let client = client().await;
    let uid = common::unique_uid("sdk_search");
    let index = client.index(&uid);
    let films: Vec<Value> = common::movies().to_vec();
    let task = index
        .add_documents(&films, Some("id"))
        .await
        .unwrap()
        .wait_for_completion(&client, POLL, TIMEOUT)
        .await
        .unwrap();
    assert!(task.is_success(), "{task:?}");

    let results = index
        .search()
        .with_query("Inception")
        .with_limit(50)
        .execute::<Movie>()
        .await
        .unwrap();
    assert_eq!(results.query, "Inception");
    assert_eq!(results.limit, Some(50));
    assert_eq!(results.offset, Some(0));
    assert!(results.estimated_total_hits.unwrap() >= 1);
    assert!(results
        .hits
        .iter()
        .any(|h| h.result.id == 2026 && h.result.title.as_deref() == Some("Inception")));

    let results = index
        .search()
        .with_query("the dark kni")
        .with_matching_strategy(MatchingStrategies::ALL)
        .with_attributes_to_retrieve(meilisearch_sdk::search::Selectors::Some(
            &["id", "title"][..],
        ))
        .execute::<Value>()
        .await
        .unwrap();
    assert!(results.hits.iter().any(|h| h.result["id"] == 1267));
    for hit in &results.hits {
        assert!(hit.result.get("director").is_none(), "{:?}", hit.result);
    }

    let results = index
        .search()
        .with_page(2)
        .with_hits_per_page(10)
        .execute::<Movie>()
        .await
        .unwrap();
    assert_eq!(results.page, Some(2));
    assert_eq!(results.hits_per_page, Some(10));
    assert_eq!(results.total_hits, Some(1000));
    assert_eq!(results.total_pages, Some(100));
    assert_eq!(results.hits.len(), 10);

    let placeholder = index.search().execute::<Movie>().await.unwrap();
    assert_eq!(placeholder.query, "");
    assert_eq!(placeholder.hits.len(), 20);
    assert_eq!(placeholder.estimated_total_hits, Some(3201));

    // A bad request surfaces as the SDK's typed error.
    let error = index
        .search()
        .with_matching_strategy(MatchingStrategies::FREQUENCY)
        .with_filter("release_year > 2000")
        .execute::<Movie>()
        .await
        .unwrap_err();
    assert_eq!(meili_code(error), ErrorCode::InvalidSearchFilter);
}

#[tokio::test]
async fn sdk_settings_round_trip() {
    let client = client().await;
    let uid = common::unique_uid("sdk_settings");
    let index = client
        .create_index(&uid, Some("id"))
        .await
        .unwrap()
        .wait_for_completion(&client, POLL, TIMEOUT)
        .await
        .unwrap()
        .try_make_index(&client)
        .unwrap();

    let defaults = index.get_settings().await.unwrap();
    assert_eq!(defaults.displayed_attributes, Some(vec!["*".to_string()]));
    assert_eq!(defaults.searchable_attributes, Some(vec!["*".to_string()]));
    assert_eq!(defaults.pagination.as_ref().unwrap().max_total_hits, 1000);
    assert_eq!(defaults.distinct_attribute.flatten(), None);
    assert_eq!(defaults.stop_words, Some(vec![]));

    let settings = Settings::new()
        .with_searchable_attributes(["title", "director"])
        .with_displayed_attributes(["id", "title", "director"])
        .with_ranking_rules(["words", "typo", "proximity", "exactness"])
        .with_stop_words(["a", "the"])
        .with_sortable_attributes(["release_year"])
        .with_pagination(PaginationSetting {
            max_total_hits: 500,
        })
        .with_proximity_precision("byAttribute");
    let task = index
        .set_settings(&settings)
        .await
        .unwrap()
        .wait_for_completion(&client, POLL, TIMEOUT)
        .await
        .unwrap();
    assert!(task.is_success(), "{task:?}");
    let stored = index.get_settings().await.unwrap();
    assert_eq!(stored.searchable_attributes, settings.searchable_attributes);
    assert_eq!(stored.displayed_attributes, settings.displayed_attributes);
    assert_eq!(stored.ranking_rules, settings.ranking_rules);
    assert_eq!(stored.stop_words, settings.stop_words);
    assert_eq!(stored.sortable_attributes, settings.sortable_attributes);
    assert_eq!(stored.pagination.unwrap().max_total_hits, 500);
    assert_eq!(stored.proximity_precision.as_deref(), Some("byAttribute"));

    // Per-key routes.
    let task = index
        .set_ranking_rules(["typo", "words"])
        .await
        .unwrap()
        .wait_for_completion(&client, POLL, TIMEOUT)
        .await
        .unwrap();
    assert!(task.is_success(), "{task:?}");
    assert_eq!(
        index.get_ranking_rules().await.unwrap(),
        ["typo".to_string(), "words".to_string()]
    );
    let typo = index.get_typo_tolerance().await.unwrap();
    assert_eq!(typo.enabled, Some(true));
    assert_eq!(index.get_stop_words().await.unwrap(), ["a", "the"]);
    assert_eq!(
        index.get_searchable_attributes().await.unwrap(),
        ["title", "director"]
    );

    let task = index
        .reset_settings()
        .await
        .unwrap()
        .wait_for_completion(&client, POLL, TIMEOUT)
        .await
        .unwrap();
    assert!(task.is_success(), "{task:?}");
    let reset = index.get_settings().await.unwrap();
    assert_eq!(reset.searchable_attributes, defaults.searchable_attributes);
    assert_eq!(reset.ranking_rules, defaults.ranking_rules);
    assert_eq!(reset.stop_words, Some(vec![]));
}

#[tokio::test]
async fn sdk_tasks() {
    let client = client().await;
    let uid = common::unique_uid("sdk_tasks");
    let index = client.index(&uid);
    let films: Vec<Movie> = common::movies()[..5].iter().map(as_movie).collect();
    let info = index.add_documents(&films, Some("id")).await.unwrap();
    assert_eq!(info.status, "enqueued");
    let done = client.wait_for_task(&info, POLL, TIMEOUT).await.unwrap();
    match &done {
        Task::Succeeded { content } => {
            assert_eq!(content.uid, info.task_uid);
            assert_eq!(content.index_uid.as_deref(), Some(uid.as_str()));
        }
        other => panic!("not succeeded: {other:?}"),
    }
    let fetched = client.get_task(&info).await.unwrap();
    assert_eq!(fetched.get_uid(), info.task_uid);

    let mut query = TasksSearchQuery::new(&client);
    query.with_index_uids([uid.as_str()]);
    let tasks = client.get_tasks_with(&query).await.unwrap();
    assert_eq!(tasks.total, 1);
    assert_eq!(tasks.results.len(), 1);
    assert_eq!(tasks.results[0].get_uid(), info.task_uid);

    let tasks = index.get_tasks().await.unwrap();
    assert_eq!(tasks.results.len(), 1);

    let all = client.get_tasks().await.unwrap();
    assert!(!all.results.is_empty());

    let batches = client.get_batches().await.unwrap();
    assert!(!batches.results.is_empty());

    // Deleting the finished task through the SDK's query builder.
    let mut deletion = meilisearch_sdk::tasks::TasksDeleteQuery::new(&client);
    deletion.with_index_uids([uid.as_str()]);
    let task = deletion
        .execute()
        .await
        .unwrap()
        .wait_for_completion(&client, POLL, TIMEOUT)
        .await
        .unwrap();
    assert!(task.is_success(), "{task:?}");
    let error = client.get_task(&info).await.unwrap_err();
    assert_eq!(meili_code(error), ErrorCode::TaskNotFound);
}

#[tokio::test]
async fn sdk_instance_routes_and_swap() {
    let client = client().await;
    assert!(client.is_healthy().await);
    assert_eq!(client.health().await.unwrap().status, "available");
    let version = client.get_version().await.unwrap();
    assert!(!version.pkg_version.is_empty());

    let a = common::unique_uid("sdk_swap_a");
    let b = common::unique_uid("sdk_swap_b");
    let films: Vec<Movie> = common::movies()[..6].iter().map(as_movie).collect();
    for (uid, docs) in [(&a, &films[..2]), (&b, &films[2..])] {
        client
            .index(uid)
            .add_documents(docs, Some("id"))
            .await
            .unwrap()
            .wait_for_completion(&client, POLL, TIMEOUT)
            .await
            .unwrap();
    }
    let stats = client.get_stats().await.unwrap();
    assert_eq!(stats.indexes[&a].number_of_documents, 2);
    assert_eq!(stats.indexes[&b].number_of_documents, 4);

    let task = client
        .swap_indexes([&SwapIndexes {
            indexes: (a.clone(), b.clone()),
            rename: None,
        }])
        .await
        .unwrap()
        .wait_for_completion(&client, POLL, TIMEOUT)
        .await
        .unwrap();
    assert!(task.is_success(), "{task:?}");
    assert_eq!(
        client
            .index(&a)
            .get_stats()
            .await
            .unwrap()
            .number_of_documents,
        4
    );
    assert_eq!(
        client
            .index(&b)
            .get_stats()
            .await
            .unwrap()
            .number_of_documents,
        2
    );
}
