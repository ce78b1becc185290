//! Index settings over real HTTP: Meilisearch's defaults for every key, partial updates and
//! resets of the whole object, every per-key route, the `invalid_settings_*` codes for bad
//! values, settings tasks that fail, implicit index creation, and a settings change that
//! rebuilds the index so that search answers differently.

mod common;

use common::*;
use serde_json::{json, Value};

/// Every setting with Meilisearch's default value.
fn defaults() -> Value {
    json!({
        "displayedAttributes": ["*"],
        "searchableAttributes": ["*"],
        "filterableAttributes": [],
        "sortableAttributes": [],
        "rankingRules": [
            "words", "typo", "proximity", "attributeRank", "sort", "wordPosition", "exactness"
        ],
        "stopWords": [],
        "nonSeparatorTokens": [],
        "separatorTokens": [],
        "dictionary": [],
        "synonyms": {},
        "distinctAttribute": null,
        "proximityPrecision": "byWord",
        "typoTolerance": {
            "enabled": true,
            "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
            "disableOnWords": [],
            "disableOnAttributes": [],
            "disableOnNumbers": false
        },
        "faceting": {"maxValuesPerFacet": 100, "sortFacetValuesBy": {"*": "alpha"}},
        "pagination": {"maxTotalHits": 1000},
        "embedders": {},
        "searchCutoffMs": null,
        "localizedAttributes": null,
        "facetSearch": true,
        "prefixSearch": "indexingTime"
    })
}

/// `(route, key, method, a non-default value)` for every per-key route.
fn routes() -> Vec<(&'static str, &'static str, &'static str, Value)> {
    vec![
        (
            "displayed-attributes",
            "displayedAttributes",
            "PUT",
            json!(["title", "id"]),
        ),
        (
            "searchable-attributes",
            "searchableAttributes",
            "PUT",
            json!(["title", "director"]),
        ),
        (
            "filterable-attributes",
            "filterableAttributes",
            "PUT",
            json!(["major_genre"]),
        ),
        (
            "sortable-attributes",
            "sortableAttributes",
            "PUT",
            json!(["release_year"]),
        ),
        (
            "ranking-rules",
            "rankingRules",
            "PUT",
            json!(["typo", "words", "release_year:desc"]),
        ),
        ("stop-words", "stopWords", "PUT", json!(["a", "the"])),
        (
            "non-separator-tokens",
            "nonSeparatorTokens",
            "PUT",
            json!(["#"]),
        ),
        ("separator-tokens", "separatorTokens", "PUT", json!(["|"])),
        ("dictionary", "dictionary", "PUT", json!(["J. R. R."])),
        ("synonyms", "synonyms", "PUT", json!({"movie": ["film"]})),
        (
            "distinct-attribute",
            "distinctAttribute",
            "PUT",
            json!("title"),
        ),
        (
            "proximity-precision",
            "proximityPrecision",
            "PUT",
            json!("byAttribute"),
        ),
        (
            "typo-tolerance",
            "typoTolerance",
            "PATCH",
            json!({
                "enabled": false,
                "minWordSizeForTypos": {"oneTypo": 4, "twoTypos": 8},
                "disableOnWords": ["alien"],
                "disableOnAttributes": ["director"],
                "disableOnNumbers": true
            }),
        ),
        (
            "faceting",
            "faceting",
            "PATCH",
            json!({"maxValuesPerFacet": 10, "sortFacetValuesBy": {"*": "count"}}),
        ),
        (
            "pagination",
            "pagination",
            "PATCH",
            json!({"maxTotalHits": 50}),
        ),
        ("search-cutoff-ms", "searchCutoffMs", "PUT", json!(150)),
        (
            "localized-attributes",
            "localizedAttributes",
            "PUT",
            json!([
                {"attributePatterns": ["*_ja"], "locales": ["jpn"]}
            ]),
        ),
        ("facet-search", "facetSearch", "PUT", json!(false)),
        ("prefix-search", "prefixSearch", "PUT", json!("disabled")),
    ]
}

fn settings_path(index: &str) -> String {
    format!("/indexes/{index}/settings")
}

fn update(s: &Server, method: &str, path: &str, body: Value) -> Response {
    match method {
        "PUT" => s.put(path, body),
        "PATCH" => s.patch(path, body),
        other => panic!("no method {other}"),
    }
}

#[test]
fn defaults_of_a_new_index() {
    let s = server();
    let uid = unique_uid("settings_defaults");
    s.create_index(&uid, None);
    let settings = s.get(&settings_path(&uid)).expect(200);
    assert_eq!(settings, defaults());
    // Each per-key route answers the same default.
    for (route, key, _, _) in routes() {
        let value = s
            .get(&format!("{}/{route}", settings_path(&uid)))
            .expect(200);
        assert_eq!(value, defaults()[key], "GET settings/{route}");
    }
    assert_eq!(
        s.get(&format!("{}/embedders", settings_path(&uid)))
            .expect(200),
        json!({})
    );
}

#[test]
fn patch_updates_only_the_given_keys() {
    let s = server();
    let uid = unique_uid("settings_patch");
    s.create_index(&uid, None);
    let body = s
        .patch(
            &settings_path(&uid),
            json!({"rankingRules": ["words", "exactness"], "stopWords": ["the"]}),
        )
        .expect(202);
    assert_summary_shape(&body);
    assert_eq!(body["type"], "settingsUpdate");
    assert_eq!(body["indexUid"], uid.as_str());
    let task = s.wait_ok(body["taskUid"].as_u64().unwrap());
    assert_eq!(
        task["details"],
        json!({"rankingRules": ["words", "exactness"], "stopWords": ["the"]})
    );

    let task = s
        .patch(
            &settings_path(&uid),
            json!({"pagination": {"maxTotalHits": 20}}),
        )
        .task_uid();
    s.wait_ok(task);

    let mut expected = defaults();
    expected["rankingRules"] = json!(["words", "exactness"]);
    expected["stopWords"] = json!(["the"]);
    expected["pagination"] = json!({"maxTotalHits": 20});
    assert_eq!(s.get(&settings_path(&uid)).expect(200), expected);

    // Sub-objects are merged too: only `enabled` changes.
    let task = s
        .patch(
            &settings_path(&uid),
            json!({"typoTolerance": {"enabled": false}}),
        )
        .task_uid();
    s.wait_ok(task);
    expected["typoTolerance"]["enabled"] = json!(false);
    assert_eq!(s.get(&settings_path(&uid)).expect(200), expected);

    // `null` resets one key.
    let task = s
        .patch(&settings_path(&uid), json!({"stopWords": null}))
        .task_uid();
    s.wait_ok(task);
    expected["stopWords"] = json!([]);
    assert_eq!(s.get(&settings_path(&uid)).expect(200), expected);

    // An empty object changes nothing.
    let task = s.patch(&settings_path(&uid), json!({})).task_uid();
    s.wait_ok(task);
    assert_eq!(s.get(&settings_path(&uid)).expect(200), expected);
}

#[test]
fn delete_resets_every_setting() {
    let s = server();
    let uid = unique_uid("settings_reset_all");
    s.add_documents(&uid, some_movies(20));
    let mut all = json!({});
    for (_, key, _, value) in routes() {
        all[key] = value;
    }
    let task = s.patch(&settings_path(&uid), all.clone()).task_uid();
    s.wait_ok(task);
    let mut expected = defaults();
    for (_, key, _, value) in routes() {
        expected[key] = value;
    }
    assert_eq!(s.get(&settings_path(&uid)).expect(200), expected);

    let body = s.delete(&settings_path(&uid)).expect(202);
    assert_summary_shape(&body);
    assert_eq!(body["type"], "settingsUpdate");
    s.wait_ok(body["taskUid"].as_u64().unwrap());
    assert_eq!(s.get(&settings_path(&uid)).expect(200), defaults());
    // The documents are untouched.
    assert_eq!(s.all_documents(&uid).len(), 20);
}

#[test]
fn every_per_key_route_round_trips() {
    let s = server();
    let uid = unique_uid("settings_per_key");
    s.add_documents(&uid, some_movies(10));
    for (route, key, method, value) in routes() {
        let path = format!("{}/{route}", settings_path(&uid));
        let body = update(s, method, &path, value.clone()).expect(202);
        assert_summary_shape(&body);
        assert_eq!(body["type"], "settingsUpdate", "{route}");
        let task = s.wait_ok(body["taskUid"].as_u64().unwrap());
        assert_eq!(task["details"], json!({key: value}), "details of {route}");
        assert_eq!(
            s.get(&path).expect(200),
            value,
            "GET after {method} {route}"
        );
        assert_eq!(
            s.get(&settings_path(&uid)).expect(200)[key],
            value,
            "whole settings after {route}"
        );

        let body = s.delete(&path).expect(202);
        assert_eq!(body["type"], "settingsUpdate");
        s.wait_ok(body["taskUid"].as_u64().unwrap());
        assert_eq!(
            s.get(&path).expect(200),
            defaults()[key],
            "GET after DELETE {route}"
        );
    }
    assert_eq!(s.get(&settings_path(&uid)).expect(200), defaults());
}

#[test]
fn patch_routes_merge_sub_settings() {
    let s = server();
    let uid = unique_uid("settings_sub_merge");
    s.create_index(&uid, None);
    let path = format!("{}/typo-tolerance", settings_path(&uid));
    let task = s
        .patch(&path, json!({"minWordSizeForTypos": {"oneTypo": 3}}))
        .task_uid();
    s.wait_ok(task);
    let mut expected = defaults()["typoTolerance"].clone();
    expected["minWordSizeForTypos"]["oneTypo"] = json!(3);
    assert_eq!(s.get(&path).expect(200), expected);

    let path = format!("{}/faceting", settings_path(&uid));
    let task = s.patch(&path, json!({"maxValuesPerFacet": 7})).task_uid();
    s.wait_ok(task);
    assert_eq!(
        s.get(&path).expect(200),
        json!({"maxValuesPerFacet": 7, "sortFacetValuesBy": {"*": "alpha"}})
    );
}

#[test]
fn invalid_values_are_rejected_with_the_key_code() {
    let s = server();
    let uid = unique_uid("settings_invalid");
    s.create_index(&uid, None);
    let cases = [
        (
            json!({"displayedAttributes": "title"}),
            "invalid_settings_displayed_attributes",
        ),
        (
            json!({"searchableAttributes": [1]}),
            "invalid_settings_searchable_attributes",
        ),
        (
            json!({"filterableAttributes": "genre"}),
            "invalid_settings_filterable_attributes",
        ),
        (
            json!({"sortableAttributes": [true]}),
            "invalid_settings_sortable_attributes",
        ),
        (
            json!({"rankingRules": ["nope"]}),
            "invalid_settings_ranking_rules",
        ),
        (
            json!({"rankingRules": ["year:up"]}),
            "invalid_settings_ranking_rules",
        ),
        (json!({"stopWords": "the"}), "invalid_settings_stop_words"),
        (
            json!({"nonSeparatorTokens": 1}),
            "invalid_settings_non_separator_tokens",
        ),
        (
            json!({"separatorTokens": {}}),
            "invalid_settings_separator_tokens",
        ),
        (json!({"dictionary": [1]}), "invalid_settings_dictionary"),
        (json!({"synonyms": ["movie"]}), "invalid_settings_synonyms"),
        (
            json!({"synonyms": {"movie": "film"}}),
            "invalid_settings_synonyms",
        ),
        (
            json!({"distinctAttribute": 1}),
            "invalid_settings_distinct_attribute",
        ),
        (
            json!({"proximityPrecision": "byWords"}),
            "invalid_settings_proximity_precision",
        ),
        (
            json!({"typoTolerance": {"enabled": "yes"}}),
            "invalid_settings_typo_tolerance",
        ),
        (
            json!({"typoTolerance": {"nope": true}}),
            "invalid_settings_typo_tolerance",
        ),
        (
            json!({"faceting": {"maxValuesPerFacet": -1}}),
            "invalid_settings_faceting",
        ),
        (
            json!({"faceting": {"sortFacetValuesBy": {"*": "size"}}}),
            "invalid_settings_faceting",
        ),
        (
            json!({"pagination": {"maxTotalHits": "many"}}),
            "invalid_settings_pagination",
        ),
        (json!({"embedders": "none"}), "invalid_settings_embedders"),
        (
            json!({"searchCutoffMs": "fast"}),
            "invalid_settings_search_cutoff_ms",
        ),
        (
            json!({"localizedAttributes": "fr"}),
            "invalid_settings_localized_attributes",
        ),
        (
            json!({"facetSearch": "yes"}),
            "invalid_settings_facet_search",
        ),
        (
            json!({"prefixSearch": "always"}),
            "invalid_settings_prefix_search",
        ),
    ];
    let mut checks = ErrorChecks::new();
    for (body, code) in cases {
        let response = s.patch(&settings_path(&uid), body.clone());
        checks.check(&body.to_string(), response, 400, code);
    }
    // The same codes on the per-key routes.
    let per_key = [
        (
            "ranking-rules",
            "PUT",
            json!(["nope"]),
            "invalid_settings_ranking_rules",
        ),
        (
            "stop-words",
            "PUT",
            json!("the"),
            "invalid_settings_stop_words",
        ),
        (
            "displayed-attributes",
            "PUT",
            json!({}),
            "invalid_settings_displayed_attributes",
        ),
        (
            "pagination",
            "PATCH",
            json!({"maxTotalHits": -5}),
            "invalid_settings_pagination",
        ),
        (
            "typo-tolerance",
            "PATCH",
            json!({"enabled": 1}),
            "invalid_settings_typo_tolerance",
        ),
        (
            "search-cutoff-ms",
            "PUT",
            json!("x"),
            "invalid_settings_search_cutoff_ms",
        ),
    ];
    for (route, method, body, code) in per_key {
        let path = format!("{}/{route}", settings_path(&uid));
        let response = update(s, method, &path, body.clone());
        checks.check(&format!("{method} {route} {body}"), response, 400, code);
    }
    checks.finish();
    // Nothing changed.
    assert_eq!(s.get(&settings_path(&uid)).expect(200), defaults());
}

#[test]
fn bad_bodies_and_unknown_keys() {
    let s = server();
    let uid = unique_uid("settings_bad_body");
    s.create_index(&uid, None);
    let body = assert_error(
        s.patch(&settings_path(&uid), json!({"rankingRule": ["words"]})),
        400,
        "bad_request",
    );
    assert!(
        body["message"].as_str().unwrap().contains("rankingRule"),
        "{body}"
    );
    assert_error(
        s.patch(&settings_path(&uid), json!(["rankingRules"])),
        400,
        "bad_request",
    );
    assert_error(
        s.raw(
            "PATCH",
            &settings_path(&uid),
            Some("application/json"),
            "{\"stopWords\": [}",
        ),
        400,
        "malformed_payload",
    );
    assert_error(
        s.raw("PATCH", &settings_path(&uid), Some("application/json"), ""),
        400,
        "missing_payload",
    );
    assert_error(
        s.raw("PATCH", &settings_path(&uid), Some("text/plain"), "{}"),
        415,
        "invalid_content_type",
    );
    // Meilisearch registers one route per setting: an unknown one is an unknown route.
    let response = s.get(&format!("{}/not-a-setting", settings_path(&uid)));
    assert_eq!(response.status, 404, "{}", response.body);
    assert_eq!(response.body, Value::Null);
    assert_error(
        s.get("/indexes/bad%20uid/settings"),
        400,
        "invalid_index_uid",
    );
    assert_eq!(s.get(&settings_path(&uid)).expect(200), defaults());
}

#[test]
fn settings_on_a_missing_index_create_it() {
    let s = server();
    let uid = unique_uid("settings_creates");
    assert_error(s.get(&settings_path(&uid)), 404, "index_not_found");
    let task = s
        .patch(&settings_path(&uid), json!({"stopWords": ["of"]}))
        .task_uid();
    s.wait_ok(task);
    let index = s.get(&format!("/indexes/{uid}")).expect(200);
    assert_eq!(index["primaryKey"], Value::Null);
    assert_eq!(
        s.get(&format!("{}/stop-words", settings_path(&uid)))
            .expect(200),
        json!(["of"])
    );

    let uid = unique_uid("settings_creates_per_key");
    let task = s
        .put(
            &format!("{}/ranking-rules", settings_path(&uid)),
            json!(["words"]),
        )
        .task_uid();
    s.wait_ok(task);
    assert_eq!(
        s.get(&format!("/indexes/{uid}")).expect(200)["uid"],
        uid.as_str()
    );
    assert_eq!(
        s.get(&format!("{}/ranking-rules", settings_path(&uid)))
            .expect(200),
        json!(["words"])
    );
}

#[test]
fn typo_thresholds_out_of_order_are_refused() {
    let s = server();
    let uid = unique_uid("settings_typo_order");
    s.create_index(&uid, None);
    // Both thresholds in one request: refused at once.
    assert_error(
        s.patch(
            &settings_path(&uid),
            json!({"typoTolerance": {"minWordSizeForTypos": {"oneTypo": 10, "twoTypos": 6}}}),
        ),
        400,
        "invalid_settings_typo_tolerance",
    );
    // One threshold out of order with the stored other one: the task fails.
    let task = s
        .patch(
            &settings_path(&uid),
            json!({"typoTolerance": {"minWordSizeForTypos": {"twoTypos": 4}}}),
        )
        .task_uid();
    let task = s.wait_failed(task, "invalid_settings_typo_tolerance");
    assert_eq!(task["type"], "settingsUpdate");
    // The same through the per-key route.
    let task = s
        .patch(
            &format!("{}/typo-tolerance", settings_path(&uid)),
            json!({"minWordSizeForTypos": {"oneTypo": 10}}),
        )
        .task_uid();
    s.wait_failed(task, "invalid_settings_typo_tolerance");
    assert_eq!(s.get(&settings_path(&uid)).expect(200), defaults());
}

#[test]
fn movies_settings_file_is_accepted() {
    let s = server();
    let uid = unique_uid("settings_movies_file");
    s.add_documents(&uid, some_movies(50));
    let settings = movies_settings();
    let task = s.patch(&settings_path(&uid), settings.clone()).task_uid();
    s.wait_ok(task);
    let stored = s.get(&settings_path(&uid)).expect(200);
    for (key, value) in settings.as_object().unwrap() {
        let mut expected = value.clone();
        if key == "sortableAttributes" {
            // A set: Meilisearch lists it sorted.
            let mut names: Vec<&str> = value
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            names.sort_unstable();
            expected = json!(names);
        }
        assert_eq!(stored[key.as_str()], expected, "{key}");
    }
}

#[test]
fn searchable_attributes_change_reindexes() {
    let s = server();
    let uid = unique_uid("settings_reindex");
    let docs: Vec<Value> = movies()[..200].to_vec();
    s.add_documents(&uid, Value::Array(docs.clone()));
    // A distributor name that no title of these films contains.
    let word = docs
        .iter()
        .filter_map(|d| d["distributor"].as_str())
        .find(|dist| {
            !dist.contains(' ')
                && dist.len() > 4
                && dist.chars().all(|c| c.is_ascii_alphabetic())
                && docs.iter().all(|d| {
                    !d["title"]
                        .as_str()
                        .unwrap_or_default()
                        .to_lowercase()
                        .contains(&dist.to_lowercase())
                })
        })
        .expect("a one-word distributor")
        .to_string();
    let with_it: Vec<u64> = docs
        .iter()
        .filter(|d| d["distributor"] == word.as_str())
        .map(|d| d["id"].as_u64().unwrap())
        .collect();

    let hits = |q: &str| {
        let mut ids = hit_ids(&s.search(&uid, json!({"q": q, "limit": 1000})));
        ids.sort_unstable();
        ids
    };
    let found = hits(&word);
    for id in &with_it {
        assert!(
            found.contains(id),
            "film {id} of `{word}` not found: {found:?}"
        );
    }

    let task = s
        .put(
            &format!("{}/searchable-attributes", settings_path(&uid)),
            json!(["title"]),
        )
        .task_uid();
    s.wait_ok(task);
    assert_eq!(
        hits(&word),
        Vec::<u64>::new(),
        "`{word}` is no longer searchable"
    );
    // Titles are still searchable, and documents keep every field.
    let title = docs[0]["title"].as_str().unwrap();
    assert!(hits(title).contains(&docs[0]["id"].as_u64().unwrap()));
    assert_eq!(
        s.get(&format!("/indexes/{uid}/documents/{}", docs[0]["id"]))
            .expect(200),
        docs[0]
    );

    // Back to every attribute: the distributor matches again.
    let task = s
        .delete(&format!("{}/searchable-attributes", settings_path(&uid)))
        .task_uid();
    s.wait_ok(task);
    let found = hits(&word);
    for id in &with_it {
        assert!(
            found.contains(id),
            "film {id} not found after reset: {found:?}"
        );
    }
}

#[test]
fn displayed_attributes_restrict_hits() {
    let s = server();
    let uid = unique_uid("settings_displayed");
    s.add_documents(&uid, some_movies(10));
    let task = s
        .put(
            &format!("{}/displayed-attributes", settings_path(&uid)),
            json!(["id", "title"]),
        )
        .task_uid();
    s.wait_ok(task);
    let result = s.search(&uid, json!({"q": movie(1)["title"]}));
    for hit in result["hits"].as_array().unwrap() {
        let mut keys: Vec<&String> = hit.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["id", "title"]);
    }
    assert!(hit_ids(&result).contains(&1));
}

#[test]
fn embedders_of_every_source_are_checked_stored_and_their_keys_hidden() {
    let s = server();
    let uid = unique_uid("settings_embedders");
    s.create_index(&uid, None);
    let path = format!("{}/embedders", settings_path(&uid));
    let embedders = json!({
        "openai": {"source": "openAi", "model": "text-embedding-3-large", "dimensions": 512, "apiKey": "sk-0123456789abcdefghijklmnopqrstuvwxyz", "documentTemplate": "{{doc.title}}"},
        "hf": {"source": "huggingFace", "model": "BAAI/bge-base-en-v1.5", "pooling": "forceMean"},
        "ollama": {"source": "ollama", "model": "nomic-embed-text", "url": "http://127.0.0.1:11434/api/embed"},
        "rest": {"source": "rest", "url": "http://127.0.0.1:1/embed", "request": {"input": "{{text}}"}, "response": {"embedding": "{{embedding}}"}, "headers": {"X-A": "b"}, "apiKey": "short"},
        "manual": {"source": "userProvided", "dimensions": 3, "binaryQuantized": false, "distribution": {"mean": 0.7, "sigma": 0.3}}
    });
    let task = s.patch(&path, embedders.clone()).task_uid();
    let task = s.wait_ok(task);
    // Task details hide the keys too.
    assert_eq!(
        task["details"]["embedders"]["openai"]["apiKey"],
        "sk-01XXXXXX..."
    );
    let stored = s.get(&path).expect(200);
    let mut expected = embedders.clone();
    expected["openai"]["apiKey"] = json!("sk-01XXXXXX...");
    expected["rest"]["apiKey"] = json!("XXX...");
    assert_eq!(stored, expected);
    assert_eq!(
        s.get(&settings_path(&uid)).expect(200)["embedders"],
        expected
    );

    // A partial update of an embedder keeps its other fields; `null` removes one.
    let task = s
        .patch(
            &path,
            json!({"ollama": {"dimensions": 768, "url": null}, "hf": null}),
        )
        .task_uid();
    s.wait_ok(task);
    let stored = s.get(&path).expect(200);
    assert_eq!(
        stored["ollama"],
        json!({"source": "ollama", "model": "nomic-embed-text", "dimensions": 768})
    );
    assert!(stored.get("hf").is_none());

    // Composite embedders need their experimental feature.
    let composite = json!({"both": {
        "source": "composite",
        "searchEmbedder": {"source": "huggingFace", "model": "m"},
        "indexingEmbedder": {"source": "ollama", "model": "m"}
    }});
    let body = assert_error(
        s.patch(&path, composite.clone()),
        400,
        "feature_not_enabled",
    );
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("requires enabling the `composite embedders` experimental feature"));
    s.patch(
        "/experimental-features",
        json!({"compositeEmbedders": true}),
    )
    .expect(200);
    let task = s.patch(&path, composite).task_uid();
    s.wait_ok(task);
    s.patch(
        "/experimental-features",
        json!({"compositeEmbedders": false}),
    )
    .expect(200);
}

#[test]
fn invalid_embedders_are_refused_with_meilisearch_messages() {
    let s = server();
    let uid = unique_uid("settings_embedders_bad");
    s.create_index(&uid, None);
    let path = format!("{}/embedders", settings_path(&uid));
    for (body, message) in [
        (
            json!({"e": {"source": "userProvided", "model": "m", "dimensions": 2}}),
            "`.embedders.e`: Field `model` unavailable for source `userProvided` (only available for sources: `openAi`, `huggingFace`, `ollama`). Available fields: `source`, `dimensions`, `binaryQuantized`, `distribution`",
        ),
        (
            json!({"e": {"source": "userProvided"}}),
            "`.embedders.e`: Missing field `dimensions` (note: this field is mandatory for source userProvided)",
        ),
        (
            json!({"e": {"source": "rest", "url": "http://a.b/"}}),
            "`.embedders.e`: Missing field `request` (note: this field is mandatory for source rest)",
        ),
        (
            json!({"e": {"source": "openAi", "model": "gpt-5"}}),
            "`.embedders.e.model`: Invalid model `gpt-5` for OpenAI. Supported models: [\"text-embedding-ada-002\", \"text-embedding-3-small\", \"text-embedding-3-large\"]",
        ),
        (
            json!({"e": {"source": "openAi", "model": "text-embedding-3-small", "dimensions": 4000}}),
            "`.embedders.e.dimensions`: Model `text-embedding-3-small` does not support overriding its dimensions to a value higher than 1536. Found 4000",
        ),
        (
            json!({"e": {"source": "userProvided", "dimensions": 0}}),
            "`.embedders.e.dimensions`: `dimensions` cannot be zero",
        ),
        (
            json!({"e": {"source": "rest", "url": "nowhere", "request": {}, "response": {}}}),
            "`.embedders.e.url`: could not parse `nowhere`: relative URL without a base",
        ),
        (
            json!({"e": {"source": "magic"}}),
            "Unknown value `magic` at `.embedders.e.source`: expected one of `openAi`, `huggingFace`, `ollama`, `userProvided`, `rest`, `composite`",
        ),
        (
            json!({"e": {"source": "openAi", "dimension": 3}}),
            "Unknown field `dimension` inside `.embedders.e`: did you mean `dimensions`? expected one of `source`, `model`, `revision`, `pooling`, `apiKey`, `dimensions`, `binaryQuantized`, `documentTemplate`, `documentTemplateMaxBytes`, `url`, `request`, `response`, `headers`, `searchEmbedder`, `indexingEmbedder`, `distribution`",
        ),
        (
            json!({"e": {"source": "userProvided", "dimensions": "3"}}),
            "Invalid value type at `.embedders.e.dimensions`: expected a positive integer, but found a string: `\"3\"`",
        ),
    ] {
        let body_text = body.to_string();
        let error = assert_error(
            s.patch(&settings_path(&uid), json!({ "embedders": body })),
            400,
            "invalid_settings_embedders",
        );
        assert_eq!(error["message"], message, "{body_text}");
    }
    assert_eq!(s.get(&path).expect(200), json!({}), "nothing was stored");
}
