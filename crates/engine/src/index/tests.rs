//! Tests of the write path against real tantivy indexes on disk: replace, merge, delete and
//! clear inside one batch, rollback, reopen after commit, and the committed state.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use serde_json::{json, Value};

use super::{AddMethod, Index, IndexOptions};
use crate::error::EngineError;
use crate::UserErrorKind;

fn options() -> IndexOptions {
    IndexOptions {
        indexing_threads: 1,
        indexing_memory_bytes: 20 * 1024 * 1024,
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    payloads: usize,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
            payloads: 0,
        }
    }

    fn index_path(&self) -> PathBuf {
        self.dir.path().join("index")
    }

    fn payload(&mut self, docs: &[Value]) -> PathBuf {
        self.payloads += 1;
        let path = self
            .dir
            .path()
            .join(format!("payload-{}.ndjson", self.payloads));
        let mut file = std::fs::File::create(&path).unwrap();
        for doc in docs {
            writeln!(file, "{doc}").unwrap();
        }
        path
    }
}

fn doc(index: &Index, id: &str) -> Option<Value> {
    index.document(id).unwrap().map(Value::Object)
}

#[test]
fn replace_update_and_delete_in_one_batch() {
    let mut f = Fixture::new();
    let index = Index::create_empty(&f.index_path(), None, None, options()).unwrap();
    let first = f.payload(&[
        json!({"id": 1, "title": "Alien", "year": 1979}),
        json!({"id": 2, "title": "Heat"}),
    ]);
    let merge = f.payload(&[
        json!({"id": 1, "director": "Ridley Scott"}),
        json!({"id": 3, "title": "Up"}),
    ]);
    let replace = f.payload(&[json!({"id": 2, "title": "Heat (1995)"})]);
    let mut batch = index.write(true).unwrap();
    let added = batch
        .add_documents(&first, AddMethod::Replace, None)
        .unwrap();
    assert_eq!((added.received, added.indexed), (2, 2));
    batch
        .add_documents(&merge, AddMethod::Update, None)
        .unwrap();
    batch
        .add_documents(&replace, AddMethod::Replace, None)
        .unwrap();
    assert_eq!(
        batch.delete_documents(&["3".into(), "404".into()]).unwrap(),
        1
    );
    assert_eq!(batch.number_of_documents(), 2);
    batch.commit(7, BTreeMap::new()).unwrap();

    assert_eq!(index.number_of_documents(), 2);
    assert_eq!(index.primary_key().as_deref(), Some("id"));
    assert_eq!(
        doc(&index, "1"),
        Some(json!({"id": 1, "title": "Alien", "year": 1979, "director": "Ridley Scott"}))
    );
    assert_eq!(
        doc(&index, "2"),
        Some(json!({"id": 2, "title": "Heat (1995)"}))
    );
    assert_eq!(doc(&index, "3"), None);
    assert_eq!(index.state().last_task_uid, Some(7));
    let fields = index.field_distribution().unwrap();
    assert_eq!(fields.get("title"), Some(&2));
    assert_eq!(fields.get("director"), Some(&1));
    assert_eq!(fields.get("year"), Some(&1));
}

#[test]
fn merge_into_committed_documents_and_reopen() {
    let mut f = Fixture::new();
    let path = f.index_path();
    {
        let index = Index::create_empty(&path, Some("id".into()), None, options()).unwrap();
        let p = f.payload(&[json!({"id": "a", "n": 1, "tags": ["x"]})]);
        let mut batch = index.write(false).unwrap();
        batch.add_documents(&p, AddMethod::Replace, None).unwrap();
        batch.commit(1, BTreeMap::new()).unwrap();
        let p = f.payload(&[json!({"id": "a", "tags": ["y"], "extra": null})]);
        let mut batch = index.write(false).unwrap();
        batch.add_documents(&p, AddMethod::Update, None).unwrap();
        batch
            .commit(2, BTreeMap::from([(2, json!({"status": "succeeded"}))]))
            .unwrap();
        index.close_writer().unwrap();
    }
    let index = Index::open(&path, options()).unwrap();
    assert_eq!(
        doc(&index, "a"),
        Some(json!({"id": "a", "n": 1, "tags": ["y"], "extra": null}))
    );
    assert_eq!(index.state().last_task_uid, Some(2));
    assert_eq!(
        index.state().task_results.get(&2),
        Some(&json!({"status": "succeeded"}))
    );
}

#[test]
fn abort_leaves_nothing_and_errors_name_the_cause() {
    let mut f = Fixture::new();
    let index = Index::create_empty(&f.index_path(), Some("id".into()), None, options()).unwrap();
    let good = f.payload(&[json!({"id": 1, "title": "kept"})]);
    let mut batch = index.write(false).unwrap();
    batch
        .add_documents(&good, AddMethod::Replace, None)
        .unwrap();
    batch.commit(1, BTreeMap::new()).unwrap();

    let bad = f.payload(&[
        json!({"id": 2, "title": "never"}),
        json!({"title": "no id"}),
    ]);
    let mut batch = index.write(false).unwrap();
    let err = batch
        .add_documents(&bad, AddMethod::Replace, None)
        .unwrap_err();
    match err {
        EngineError::User(e) => assert_eq!(e.kind, UserErrorKind::MissingDocumentId),
        other => panic!("unexpected {other:?}"),
    }
    batch.abort().unwrap();
    // The writer is usable again after a rollback, and the failed task left nothing.
    let more = f.payload(&[json!({"id": 3, "title": "after"})]);
    let mut batch = index.write(false).unwrap();
    // And it merges only when Quarry asks (tantivy's rollback makes a writer with tantivy's
    // own merge policy, which would merge beside later batches).
    let policy = format!("{:?}", batch.writer_mut().get_merge_policy());
    assert!(policy.contains("NoMergePolicy"), "{policy}");
    batch
        .add_documents(&more, AddMethod::Replace, None)
        .unwrap();
    batch.commit(3, BTreeMap::new()).unwrap();
    assert_eq!(index.number_of_documents(), 2);
    assert_eq!(doc(&index, "2"), None);

    let wrong_key = f.payload(&[json!({"isbn": "x"})]);
    let mut batch = index.write(false).unwrap();
    match batch
        .add_documents(&wrong_key, AddMethod::Replace, Some("isbn"))
        .unwrap_err()
    {
        EngineError::User(e) => assert_eq!(e.kind, UserErrorKind::PrimaryKeyAlreadyExists),
        other => panic!("unexpected {other:?}"),
    }
    batch.abort().unwrap();
}

#[test]
fn clear_then_add_in_one_batch() {
    let mut f = Fixture::new();
    let index = Index::create_empty(&f.index_path(), Some("id".into()), None, options()).unwrap();
    let before = f.payload(&[json!({"id": 1}), json!({"id": 2})]);
    let after = f.payload(&[json!({"id": 3})]);
    let mut batch = index.write(false).unwrap();
    batch
        .add_documents(&before, AddMethod::Replace, None)
        .unwrap();
    batch.commit(1, BTreeMap::new()).unwrap();
    let mut batch = index.write(false).unwrap();
    batch
        .add_documents(&f.payload(&[json!({"id": 9})]), AddMethod::Replace, None)
        .unwrap();
    assert_eq!(batch.clear().unwrap(), 3);
    batch
        .add_documents(&after, AddMethod::Replace, None)
        .unwrap();
    batch.commit(2, BTreeMap::new()).unwrap();
    assert_eq!(index.number_of_documents(), 1);
    assert_eq!(doc(&index, "3"), Some(json!({"id": 3})));
    assert_eq!(doc(&index, "9"), None);
}

#[test]
fn primary_key_inference() {
    let mut f = Fixture::new();
    let index = Index::create_empty(&f.index_path(), None, None, options()).unwrap();
    let ambiguous = f.payload(&[json!({"id": 1, "user_id": 2})]);
    let mut batch = index.write(false).unwrap();
    match batch
        .add_documents(&ambiguous, AddMethod::Replace, None)
        .unwrap_err()
    {
        EngineError::User(e) => assert_eq!(e.kind, UserErrorKind::PrimaryKeyMultipleCandidates),
        other => panic!("unexpected {other:?}"),
    }
    batch.abort().unwrap();
    let clear = f.payload(&[json!({"movie_id": "m1", "title": "x"})]);
    let mut batch = index.write(false).unwrap();
    batch
        .add_documents(&clear, AddMethod::Replace, None)
        .unwrap();
    batch.commit(1, BTreeMap::new()).unwrap();
    assert_eq!(index.primary_key().as_deref(), Some("movie_id"));
}

#[test]
fn settings_that_change_indexing_reindex_every_document() {
    let mut f = Fixture::new();
    let index = Index::create_empty(&f.index_path(), Some("id".into()), None, options()).unwrap();
    let p = f.payload(&[json!({"id": 1, "title": "Alien", "overview": "space horror"})]);
    let mut batch = index.write(false).unwrap();
    batch.add_documents(&p, AddMethod::Replace, None).unwrap();
    batch.commit(1, BTreeMap::new()).unwrap();
    let search = |q: &str| {
        index
            .search(&crate::search::SearchRequest {
                query: Some(q.into()),
                limit: 10,
                ..Default::default()
            })
            .unwrap()
            .hits
            .len()
    };
    assert_eq!(search("horror"), 1);
    let mut settings = index.settings();
    settings.searchable_attributes = Some(vec!["title".into()]);
    let mut batch = index.write(false).unwrap();
    batch.set_settings(settings).unwrap();
    batch.commit(2, BTreeMap::new()).unwrap();
    assert_eq!(search("horror"), 0);
    assert_eq!(search("alien"), 1);
    assert_eq!(index.number_of_documents(), 1);
}

/// Many small committed batches of merges, re-additions and deletions over the Debian corpus,
/// with two indexing threads and background segment merges running: after every commit no id
/// is alive twice and every touched document equals a model's. Seeded; `QUARRY_STRESS_SEED`
/// replays a run and `QUARRY_STRESS_ROUNDS` makes it longer.
#[test]
fn many_small_batches_keep_exactly_one_live_version_of_each_document() {
    use std::collections::HashMap;

    let seed: u64 = std::env::var("QUARRY_STRESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    let rounds: usize = std::env::var("QUARRY_STRESS_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    eprintln!("stress seed {seed} (replay with QUARRY_STRESS_SEED={seed}), {rounds} rounds");
    let mut state = seed.max(1);
    let mut next = move |bound: usize| -> usize {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound as u64) as usize
    };

    let corpus = debian(12_000);
    let id_of = |d: &serde_json::Map<String, Value>| d["id"].to_string();

    let mut f = Fixture::new();
    let two_threads = IndexOptions {
        indexing_threads: 2,
        indexing_memory_bytes: 40 * 1024 * 1024,
    };
    let index = std::sync::Arc::new(
        Index::create_empty(&f.index_path(), Some("id".into()), None, two_threads).unwrap(),
    );
    let mut model: HashMap<String, serde_json::Map<String, Value>> = HashMap::new();
    let mut uid = 0u32;
    let mut cursor = 0;
    let mut merges = Vec::new();
    for round in 0..rounds {
        let mut batch = index.write(true).unwrap();
        let mut touched = Vec::new();
        for _ in 0..1 + next(3) {
            let roll = next(100);
            if roll < 20 || cursor == 0 {
                let end = (cursor + 200 + next(800)).min(corpus.len());
                let docs: Vec<Value> = corpus[cursor..end]
                    .iter()
                    .map(|d| Value::Object(d.clone()))
                    .collect();
                let p = f.payload(&docs);
                batch.add_documents(&p, AddMethod::Replace, None).unwrap();
                for d in &corpus[cursor..end] {
                    model.insert(id_of(d), d.clone());
                    touched.push(id_of(d));
                }
                cursor = end;
            } else if roll < 40 {
                // Whole documents sent again as an update: merged into what is stored.
                let start = next(cursor);
                let end = (start + 50 + next(400)).min(cursor);
                let docs: Vec<Value> = corpus[start..end]
                    .iter()
                    .map(|d| Value::Object(d.clone()))
                    .collect();
                let p = f.payload(&docs);
                batch.add_documents(&p, AddMethod::Update, None).unwrap();
                for d in &corpus[start..end] {
                    let id = id_of(d);
                    let entry = model.entry(id.clone()).or_default();
                    for (k, v) in d {
                        entry.insert(k.clone(), v.clone());
                    }
                    touched.push(id);
                }
            } else if roll < 80 {
                let mut docs = Vec::new();
                for _ in 0..1 + next(40) {
                    let d = &corpus[next(cursor)];
                    docs.push(
                        json!({"id": d["id"], "rev": round, "version": format!("{round}.0")}),
                    );
                }
                let p = f.payload(&docs);
                batch.add_documents(&p, AddMethod::Update, None).unwrap();
                for d in &docs {
                    let id = d["id"].to_string();
                    let entry = model.entry(id.clone()).or_default();
                    for (k, v) in d.as_object().unwrap() {
                        entry.insert(k.clone(), v.clone());
                    }
                    touched.push(id);
                }
            } else {
                let ids: Vec<String> = (0..1 + next(60))
                    .map(|_| id_of(&corpus[next(cursor)]))
                    .collect();
                batch.delete_documents(&ids).unwrap();
                for id in &ids {
                    model.remove(id);
                    touched.push(id.clone());
                }
            }
        }
        uid += 1;
        batch.commit(uid, BTreeMap::new()).unwrap();
        // Background merges as the scheduler starts them; the next round's batch waits for one.
        if let Some(merge) = index.merge_in_background(next(2) == 0).unwrap() {
            merges.push(merge);
        }
        assert_eq!(
            index.number_of_documents(),
            model.len() as u64,
            "seed {seed}, round {round}: live documents differ from the model"
        );
        for id in touched {
            let stored = index.document(&id).unwrap();
            assert_eq!(
                stored.as_ref(),
                model.get(&id),
                "seed {seed}, round {round}: document {id}"
            );
        }
    }
    assert!(!merges.is_empty(), "seed {seed}: no merge was started");
    for merge in merges {
        merge.join().unwrap();
    }
    // A round skips its merge while the previous one still holds the claim, so the last
    // rounds may leave the index out of shape; the scheduler's idle writer merges until the
    // policy has nothing left, and so does this.
    while let Some(merge) = index.merge_in_background(true).unwrap() {
        merge.join().unwrap();
    }
    // After the last merge: still exactly the model, in the few segments the policy keeps.
    assert_eq!(
        index.number_of_documents(),
        model.len() as u64,
        "seed {seed}"
    );
    for (id, document) in &model {
        assert_eq!(
            index.document(id).unwrap().as_ref(),
            Some(document),
            "seed {seed}: {id}"
        );
    }
    let segments = index.searcher().segment_readers().len();
    assert!(segments <= 8, "seed {seed}: {segments} segments");
}

/// A new index at the fixture's path holding `corpus`, committed `per_batch` documents at a
/// time (task uids 1, 2, ...): one segment per batch.
fn committed_in_batches(
    f: &mut Fixture,
    corpus: &[serde_json::Map<String, Value>],
    per_batch: usize,
) -> std::sync::Arc<Index> {
    let index = std::sync::Arc::new(
        Index::create_empty(&f.index_path(), Some("id".into()), None, options()).unwrap(),
    );
    for (n, chunk) in corpus.chunks(per_batch).enumerate() {
        let docs: Vec<Value> = chunk.iter().map(|d| Value::Object(d.clone())).collect();
        let p = f.payload(&docs);
        let mut batch = index.write(false).unwrap();
        batch.add_documents(&p, AddMethod::Replace, None).unwrap();
        batch.commit(n as u32 + 1, BTreeMap::new()).unwrap();
    }
    index
}

/// The first 3,000 Debian packages in five batches of 600 (a segment each), then every
/// `every`th deleted in a sixth commit: segments with deleted documents for a merge to drop.
/// Returns the index, the corpus and the deleted ids.
fn five_segments_with_deletions(
    f: &mut Fixture,
    every: usize,
) -> (
    std::sync::Arc<Index>,
    Vec<serde_json::Map<String, Value>>,
    Vec<String>,
) {
    let corpus = debian(3_000);
    let index = committed_in_batches(f, &corpus, 600);
    let deleted: Vec<String> = corpus
        .iter()
        .step_by(every)
        .map(|d| d["id"].to_string())
        .collect();
    let mut batch = index.write(false).unwrap();
    batch.delete_documents(&deleted).unwrap();
    batch.commit(6, BTreeMap::new()).unwrap();
    (index, corpus, deleted)
}

/// Batches committed one after the other leave a segment each; merging in the background
/// (as the scheduler does when its queue is empty) leaves one segment that searches see at
/// once, with every document and the committed state, and a reopened index reads the same.
#[test]
fn a_background_merge_leaves_one_segment_with_everything() {
    let mut f = Fixture::new();
    let path = f.index_path();
    // Some deletions, so that the merge also drops deleted documents.
    let (index, corpus, deleted) = five_segments_with_deletions(&mut f, 10);
    assert_eq!(index.searcher().segment_readers().len(), 5);
    let live = corpus.len() - deleted.len();
    assert_eq!(index.number_of_documents(), live as u64);

    // A busy writer leaves five segments alone; an idle one merges them.
    assert!(index.merge_in_background(false).unwrap().is_none());
    let merge = index.merge_in_background(true).unwrap().expect("a merge");
    merge.join().unwrap();
    let searcher = index.searcher();
    assert_eq!(
        searcher.segment_readers().len(),
        1,
        "searches see the merged segment"
    );
    assert_eq!(searcher.segment_reader(0).num_deleted_docs(), 0);
    assert_eq!(index.number_of_documents(), live as u64);
    assert_eq!(index.state().last_task_uid, Some(6));
    assert!(
        index.merge_in_background(true).unwrap().is_none(),
        "nothing left to merge"
    );
    for d in corpus.iter().step_by(7) {
        let id = d["id"].to_string();
        let expected = (!deleted.contains(&id)).then_some(d);
        assert_eq!(index.document(&id).unwrap().as_ref(), expected, "{id}");
    }
    // Only the merged segment's files are left.
    let segment_files = std::fs::read_dir(&path)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "idx"))
        .count();
    assert_eq!(segment_files, 1);
    index.close_writer().unwrap();
    drop(index);

    let index = Index::open(&path, options()).unwrap();
    assert_eq!(index.searcher().segment_readers().len(), 1);
    assert_eq!(index.number_of_documents(), live as u64);
    assert_eq!(index.state().last_task_uid, Some(6));
}

/// A writer released at shutdown while a background merge runs (`release_writer_for_shutdown`)
/// does not wait for it: tantivy drops the merge's result, the index reopens as its last
/// commit left it with every document, and the next merge works.
#[test]
fn a_merge_abandoned_at_shutdown_leaves_the_last_commit() {
    let mut f = Fixture::new();
    let path = f.index_path();
    let corpus = debian(4_000);
    {
        let index = committed_in_batches(&mut f, &corpus, 1_000);
        let merge = index.merge_in_background(true).unwrap().expect("a merge");
        index.release_writer_for_shutdown();
        merge.join().unwrap();
        assert!(!index.is_merging());
    }
    let index = std::sync::Arc::new(Index::open(&path, options()).unwrap());
    assert_eq!(index.number_of_documents(), corpus.len() as u64);
    assert_eq!(index.state().last_task_uid, Some(4));
    let segments = index.segment_count();
    assert!(segments == 4 || segments == 1, "{segments} segments");
    if segments == 4 {
        index
            .merge_in_background(true)
            .unwrap()
            .expect("a merge")
            .join()
            .unwrap();
    }
    assert_eq!(index.segment_count(), 1);
    assert_eq!(index.number_of_documents(), corpus.len() as u64);
    for d in corpus.iter().step_by(97) {
        let id = d["id"].to_string();
        assert_eq!(index.document(&id).unwrap().as_ref(), Some(d), "{id}");
    }
}

/// A writer opened on an existing index (after a restart, or after a rollback) numbers its
/// first operation with the opstamp of the last commit. When that operation is a deletion and a
/// segment merge starts before the next commit, tantivy skips it in segments whose deletions
/// are already stamped with that opstamp, and the merged segment brings the deleted document
/// back (two live versions of an updated document). Each batch therefore spends that opstamp on
/// a deletion that matches nothing. This test builds exactly that situation.
#[test]
fn the_first_deletion_after_reopening_survives_a_merge() {
    let mut f = Fixture::new();
    let path = f.index_path();
    let docs = |range: std::ops::RangeInclusive<u64>| -> Vec<Value> {
        range
            .map(|i| json!({"id": i, "title": format!("document {i}")}))
            .collect()
    };
    {
        let index = Index::create_empty(&path, Some("id".into()), None, options()).unwrap();
        for (uid, range) in [(1, 1..=10), (2, 11..=20)] {
            let p = f.payload(&docs(range));
            let mut batch = index.write(false).unwrap();
            batch.add_documents(&p, AddMethod::Replace, None).unwrap();
            batch.commit(uid, BTreeMap::new()).unwrap();
        }
        // The last commit deletes in the second segment only, so only that segment's
        // deletions carry the last commit's opstamp.
        let mut batch = index.write(false).unwrap();
        batch.delete_documents(&["12".to_string()]).unwrap();
        batch.commit(3, BTreeMap::new()).unwrap();
        index.close_writer().unwrap();
    }
    let index = Index::open(&path, options()).unwrap();
    let mut segments = index.tantivy.searchable_segment_metas().unwrap();
    assert_eq!(segments.len(), 2, "one segment per batch");
    // The segment without deletions first: the merged segment takes its delete cursor.
    segments.sort_by_key(|s| s.has_deletes());
    let ids: Vec<_> = segments.iter().map(|s| s.id()).collect();

    let mut batch = index.write(false).unwrap();
    batch.delete_documents(&["15".to_string()]).unwrap();
    batch.writer_mut().merge(&ids).wait().unwrap();
    batch.commit(4, BTreeMap::new()).unwrap();

    assert_eq!(doc(&index, "15"), None, "a deleted document came back");
    assert_eq!(index.number_of_documents(), 18);
    index.close_writer().unwrap();
    let index = Index::open(&path, options()).unwrap();
    assert_eq!(doc(&index, "15"), None);
    assert_eq!(index.number_of_documents(), 18);
}

/// The first `n` documents of the Debian corpus (`../shared/data`).
fn debian(n: usize) -> Vec<serde_json::Map<String, Value>> {
    use std::io::BufRead;
    let gz = std::fs::File::open("/work/shared/data/debian.ndjson.gz")
        .or_else(|_| {
            std::fs::File::open(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../../shared/data/debian.ndjson.gz"),
            )
        })
        .expect("the Debian corpus");
    std::io::BufReader::new(flate2::read::GzDecoder::new(gz))
        .lines()
        .take(n)
        .map(|line| serde_json::from_str(&line.unwrap()).unwrap())
        .collect()
}

/// Settings that exercise every part of a built document: searchable fields, facets of strings,
/// numbers and arrays, a sortable field.
fn debian_settings() -> crate::settings::IndexSettings {
    use crate::settings::FilterableRule;
    crate::settings::IndexSettings {
        searchable_attributes: Some(
            ["package", "summary", "description", "tags"]
                .map(String::from)
                .to_vec(),
        ),
        filterable_attributes: ["section", "priority", "tags", "installed_size_kb"]
            .map(|f| FilterableRule::Field(f.into()))
            .to_vec(),
        sortable_attributes: ["download_size_bytes".to_string()].into(),
        ..Default::default()
    }
}

/// Quarry hands tantivy its own document type (`IndexedDocument`): tantivy's default document
/// holding the same values must give the very same index (every term, position and source).
#[test]
fn indexed_documents_index_like_tantivy_documents() {
    use super::extract::{DocumentBuilder, FieldsMap, Searchable};
    use tantivy::schema::document::Document;

    for settings in [debian_settings(), crate::settings::IndexSettings::default()] {
        let analyzer = crate::analysis::Analyzer::new(&settings);
        let searchable = Searchable::from_settings(&settings);
        let faceted = crate::facet::FacetedAttributes::from_settings(&settings);
        let (schema, fields) = super::schema::build_schema();
        let builder = DocumentBuilder {
            analyzer: &analyzer,
            searchable: &searchable,
            faceted: &faceted,
            schema: fields,
        };
        let mut names = FieldsMap::default();
        let mut docs: Vec<_> = debian(2_000)
            .iter()
            .map(|d| {
                let source = serde_json::to_vec(d).unwrap();
                builder.build(&d["id"].to_string(), d, &source, &mut names)
            })
            .collect();
        // Nested objects, arrays of objects, nulls, booleans and an empty document.
        for (i, d) in [
            json!({"id": "n1", "a": {"b": {"c": "deep words", "d": [1, 2.5]}}, "e": [{"f": "x y"}, {"f": true}]}),
            json!({"id": "n2", "a": null, "e": [], "g": {}, "tags": ["one", ["two", "three"]]}),
            json!({"id": "n3"}),
        ]
        .iter()
        .enumerate()
        {
            let d = d.as_object().unwrap();
            let source = serde_json::to_vec(d).unwrap();
            docs.push(builder.build(&format!("n{i}"), d, &source, &mut names));
        }

        let own = tantivy::Index::create_in_ram(schema.clone());
        let mut writer: tantivy::IndexWriter<super::extract::IndexedDocument> =
            own.writer_with_num_threads(1, 20_000_000).unwrap();
        let default = tantivy::Index::create_in_ram(schema);
        let mut default_writer: tantivy::IndexWriter =
            default.writer_with_num_threads(1, 20_000_000).unwrap();
        for doc in docs {
            default_writer
                .add_document(doc.clone().into_tantivy_document())
                .unwrap();
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        default_writer.commit().unwrap();
        let print = |index: &tantivy::Index| {
            super::fingerprint::fingerprint(&index.reader().unwrap().searcher(), fields)
        };
        let (a, b) = (print(&own), print(&default));
        assert_eq!(a.len(), 2_003);
        assert_eq!(a, b);
    }
}

/// The same id several times in one payload, between others, replaced and updated: writes are
/// handed to tantivy in groups (one deletion, then documents), and a group must never hold two
/// versions of an id. Exactly one version stays, the last, across commits.
#[test]
fn repeated_ids_in_one_payload_keep_one_version() {
    let mut f = Fixture::new();
    let index = Index::create_empty(&f.index_path(), Some("id".into()), None, options()).unwrap();
    let mut docs = Vec::new();
    for round in 0..3 {
        for i in 0..700 {
            docs.push(json!({"id": i % 300, "round": round, "i": i, "title": format!("t{i}")}));
        }
    }
    let p = f.payload(&docs);
    let mut batch = index.write(true).unwrap();
    batch.add_documents(&p, AddMethod::Replace, None).unwrap();
    let update = f.payload(&[
        json!({"id": 7, "extra": "x"}),
        json!({"id": 7, "more": "y"}),
    ]);
    batch
        .add_documents(&update, AddMethod::Update, None)
        .unwrap();
    batch
        .delete_documents(&["8".to_string(), "8".to_string(), "nope".to_string()])
        .unwrap();
    assert_eq!(batch.number_of_documents(), 299);
    batch.commit(1, BTreeMap::new()).unwrap();
    assert_eq!(index.number_of_documents(), 299);
    assert_eq!(index.count_all().unwrap(), 299);
    let seven = doc(&index, "7").unwrap();
    assert_eq!(seven["round"], 2);
    assert_eq!(seven["i"], 607);
    assert_eq!(
        (seven["extra"].as_str(), seven["more"].as_str()),
        (Some("x"), Some("y"))
    );
    assert_eq!(doc(&index, "8"), None);
    assert_eq!(doc(&index, "299").unwrap()["i"], 599);

    // Again over the committed documents, in a new batch.
    let mut batch = index.write(false).unwrap();
    batch.add_documents(&p, AddMethod::Replace, None).unwrap();
    batch.commit(2, BTreeMap::new()).unwrap();
    assert_eq!(index.number_of_documents(), 300);
    assert_eq!(index.count_all().unwrap(), 300);
    assert_eq!(doc(&index, "7").unwrap()["i"], 607);
}

/// Listing documents page by page while segments merge in between: each document comes
/// exactly once, because the listing order does not depend on how documents lie in segments.
#[test]
fn paging_through_documents_across_a_merge_lists_each_once() {
    let mut f = Fixture::new();
    let (index, corpus, deleted) = five_segments_with_deletions(&mut f, 11);
    let live = (corpus.len() - deleted.len()) as u64;
    let id_of = |d: &serde_json::Map<String, Value>| d["id"].to_string();

    let (first, total) = index.documents_page(0, 1_000).unwrap();
    assert_eq!(total, live);
    let merge = index.merge_in_background(true).unwrap().expect("a merge");
    merge.join().unwrap();
    assert_eq!(index.searcher().segment_readers().len(), 1);
    let (rest, total) = index.documents_page(1_000, 5_000).unwrap();
    assert_eq!(total, live);
    let mut seen = std::collections::HashSet::new();
    for d in first.iter().chain(&rest) {
        assert!(seen.insert(id_of(d)), "{} listed twice", id_of(d));
    }
    assert_eq!(seen.len() as u64, live);
    // By primary key: Debian's integer ids by value.
    let ids: Vec<u64> = first
        .iter()
        .chain(&rest)
        .map(|d| d["id"].as_u64().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "not by id: {:?}",
        &ids[..20]
    );
}
