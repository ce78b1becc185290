//! Foreign keys over HTTP (the experimental `foreignKeys` index setting): the setting's routes,
//! validation and gating, hits showing the foreign documents in place of their ids (search,
//! `_formatted`, multi-search), and `_foreign(field, filter)` filters with their errors. The
//! data is the airports corpus, joined to an index of its states built from the same corpus.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{assert_error, read_corpus, start_server, unique_uid, Server};
use serde_json::{json, Value};

/// The airports corpus and, per state, what the corpus says of it.
struct Corpus {
    airports: Vec<Value>,
    states: BTreeMap<String, (u64, BTreeSet<String>)>,
}

fn corpus() -> Corpus {
    let airports = read_corpus("airports", usize::MAX);
    let mut states: BTreeMap<String, (u64, BTreeSet<String>)> = BTreeMap::new();
    for airport in &airports {
        let entry = states
            .entry(airport["state"].as_str().unwrap().to_string())
            .or_default();
        entry.0 += 1;
        entry
            .1
            .insert(airport["city"].as_str().unwrap().to_string());
    }
    Corpus { airports, states }
}

/// A server with foreign keys on, `airports` (its `state` a foreign key to `states`, and its
/// `id` one to itself) and `states` (one document per state, keyed by its code) loaded.
fn joined(corpus: &Corpus) -> (Server, String, String) {
    let server = start_server(quarry_server::ServerConfig::default());
    server
        .patch("/experimental-features", json!({"foreignKeys": true}))
        .expect(200);
    let airports = unique_uid("airports");
    let states = unique_uid("states");
    server.create_index(&airports, Some("id"));
    server.create_index(&states, Some("code"));
    let task = server
        .patch(
            &format!("/indexes/{airports}/settings"),
            json!({
                "searchableAttributes": ["name", "city", "iata", "state"],
                "filterableAttributes": ["state", "country", "id"],
                "foreignKeys": [
                    {"foreignIndexUid": states, "fieldName": "state"},
                    {"foreignIndexUid": airports, "fieldName": "id"}
                ]
            }),
        )
        .task_uid();
    server.wait_ok(task);
    let task = server
        .patch(
            &format!("/indexes/{states}/settings"),
            json!({
                "filterableAttributes": ["airports", "code"],
                "displayedAttributes": ["code", "airports"]
            }),
        )
        .task_uid();
    server.wait_ok(task);
    server.add_documents(&airports, Value::Array(corpus.airports.clone()));
    let documents: Vec<Value> = corpus
        .states
        .iter()
        .map(|(code, (count, cities))| json!({"code": code, "airports": count, "cities": cities.len()}))
        .collect();
    server.add_documents(&states, Value::Array(documents));
    (server, airports, states)
}

#[test]
fn the_setting_is_gated_validated_stored_and_reset() {
    let server = start_server(quarry_server::ServerConfig::default());
    let uid = unique_uid("books");
    server.create_index(&uid, None);
    let settings = format!("/indexes/{uid}/settings");
    let route = format!("/indexes/{uid}/settings/foreign-keys");
    let keys = json!([
        {"foreignIndexUid": "authors", "fieldName": "author"},
        {"foreignIndexUid": "authors", "fieldName": "related_authors"}
    ]);

    // Off: setting it is refused, GET /settings hides it, its own route shows the default.
    let refused = assert_error(server.put(&route, keys.clone()), 400, "feature_not_enabled");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .starts_with("setting `foreignKeys` in the index settings requires enabling the `foreign_keys` experimental feature"),
        "{refused}"
    );
    assert_error(
        server.patch(&settings, json!({"foreignKeys": keys})),
        400,
        "feature_not_enabled",
    );
    assert!(server
        .get(&settings)
        .expect(200)
        .get("foreignKeys")
        .is_none());
    assert_eq!(server.get(&route).expect(200), json!([]));

    server
        .patch("/experimental-features", json!({"foreignKeys": true}))
        .expect(200);
    let all = server.get(&settings).expect(200);
    assert_eq!(all["foreignKeys"], json!([]));
    let names: Vec<&String> = all.as_object().unwrap().keys().collect();
    let sortable = names
        .iter()
        .position(|n| *n == "sortableAttributes")
        .unwrap();
    assert_eq!(
        names[sortable + 1],
        "foreignKeys",
        "Meilisearch's key order"
    );

    // Set through its route, then through the settings object; read back both ways.
    let task = server.put(&route, keys.clone()).task_uid();
    let task = server.wait_ok(task);
    assert_eq!(task["details"]["foreignKeys"], keys);
    assert_eq!(server.get(&route).expect(200), keys);
    let one = json!([{"foreignIndexUid": "people", "fieldName": "editor.id"}]);
    let task = server
        .patch(&settings, json!({"foreignKeys": one}))
        .task_uid();
    server.wait_ok(task);
    assert_eq!(server.get(&settings).expect(200)["foreignKeys"], one);

    // Bad values change nothing and name the problem.
    let bad = [
        (json!({"foreignIndexUid": "a"}), "Invalid value type: expected an array, but found an object: `{\"foreignIndexUid\":\"a\"}`"),
        (json!([{"foreignIndexUid": "a"}]), "Missing field `fieldName` inside `[0]`"),
        (json!([{"fieldName": "a"}]), "Missing field `foreignIndexUid` inside `[0]`"),
        (json!([{"foreignIndexUid": 1, "fieldName": "a"}]), "Invalid value type at `[0].foreignIndexUid`: expected a string, but found a positive integer: `1`"),
        (json!([{"foreignIndexUid": "a", "fieldName": "b", "extra": 1}]), "Unknown field `extra` inside `[0]`: expected one of `foreignIndexUid`, `fieldName`"),
    ];
    for (body, message) in bad {
        let error = assert_error(
            server.put(&route, body.clone()),
            400,
            "invalid_settings_foreign_keys",
        );
        assert_eq!(error["message"], message, "{body}");
    }
    let error = assert_error(
        server.patch(&settings, json!({"foreignKeys": [{"fieldName": "a"}]})),
        400,
        "invalid_settings_foreign_keys",
    );
    assert_eq!(
        error["message"],
        "Missing field `foreignIndexUid` inside `.foreignKeys[0]`"
    );
    assert_eq!(server.get(&route).expect(200), one);

    // `null` and DELETE go back to the default.
    let task = server.put(&route, Value::Null).task_uid();
    server.wait_ok(task);
    assert_eq!(server.get(&route).expect(200), json!([]));
    let task = server.put(&route, keys.clone()).task_uid();
    server.wait_ok(task);
    let task = server.delete(&route).task_uid();
    server.wait_ok(task);
    assert_eq!(server.get(&route).expect(200), json!([]));
}

#[test]
fn hits_show_the_foreign_documents_in_place_of_their_ids() {
    let corpus = corpus();
    let (server, airports, states) = joined(&corpus);
    let body = server.search(
        &airports,
        json!({"q": "Thigpen", "attributesToHighlight": ["name"], "attributesToRetrieve": ["name", "state"]}),
    );
    let hit = &body["hits"][0];
    assert_eq!(hit["name"], "Thigpen");
    let (count, _) = &corpus.states["MS"];
    // The foreign index's displayed attributes are what is shown (`cities` is not displayed).
    assert_eq!(hit["state"], json!({"code": "MS", "airports": count}));
    assert_eq!(
        hit["_formatted"]["state"],
        json!({"code": "MS", "airports": count})
    );
    assert_eq!(hit["_formatted"]["name"], "<em>Thigpen</em>");

    // An id no foreign document has shows as an empty object.
    let task = server
        .delete(&format!("/indexes/{states}/documents/MS"))
        .task_uid();
    server.wait_ok(task);
    let body = server.search(&airports, json!({"q": "Thigpen"}));
    assert_eq!(body["hits"][0]["state"], json!({}));

    // Multi-search, federated or not, shows them too. (The airport's name is the only one of
    // its kind in the corpus, so the first hit is known.)
    let query = json!({"indexUid": airports, "q": "Brenham Municipal", "attributesToRetrieve": ["name", "state"]});
    let separate = server
        .post("/multi-search", json!({"queries": [query]}))
        .expect(200);
    let (tx, _) = &corpus.states["TX"];
    let hit = &separate["results"][0]["hits"][0];
    assert_eq!(hit["name"], "Brenham Municipal");
    assert_eq!(hit["state"], json!({"code": "TX", "airports": tx}));
    let federated = server
        .post(
            "/multi-search",
            json!({"federation": {}, "queries": [query]}),
        )
        .expect(200);
    assert_eq!(federated["hits"][0]["name"], "Brenham Municipal");
    assert_eq!(
        federated["hits"][0]["state"],
        json!({"code": "TX", "airports": tx})
    );

    // With the feature off again, hits hold the ids as stored.
    server
        .patch("/experimental-features", json!({"foreignKeys": false}))
        .expect(200);
    let body = server.search(&airports, json!({"q": "Brenham Municipal"}));
    assert_eq!(body["hits"][0]["name"], "Brenham Municipal");
    assert_eq!(body["hits"][0]["state"], "TX");
}

#[test]
fn foreign_filters_select_through_the_foreign_index() {
    let corpus = corpus();
    let (server, airports, states) = joined(&corpus);
    let big: BTreeSet<&str> = corpus
        .states
        .iter()
        .filter(|(_, (count, _))| *count > 200)
        .map(|(code, _)| code.as_str())
        .collect();
    assert!(!big.is_empty() && big.len() < corpus.states.len());
    let expected = corpus
        .airports
        .iter()
        .filter(|a| big.contains(a["state"].as_str().unwrap()))
        .count();

    let filter = "_foreign(state, airports > 200)";
    let body = server.search(
        &airports,
        json!({"filter": filter, "limit": 1000, "attributesToRetrieve": ["id"], "facets": ["state"]}),
    );
    assert_eq!(body["estimatedTotalHits"], expected);
    let facet_states: BTreeSet<&str> = body["facetDistribution"]["state"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(facet_states, big);

    // Combined with other conditions, in the array form, negated.
    let body = server.search(
        &airports,
        json!({"filter": ["country = USA", [format!("NOT {filter}")]], "limit": 0}),
    );
    let usa = corpus
        .airports
        .iter()
        .filter(|a| a["country"] == "USA")
        .count();
    let usa_big = corpus
        .airports
        .iter()
        .filter(|a| a["country"] == "USA" && big.contains(a["state"].as_str().unwrap()))
        .count();
    assert_eq!(body["estimatedTotalHits"], usa - usa_big);

    // The documents routes and facet search take them too.
    let fetched = server
        .post(
            &format!("/indexes/{airports}/documents/fetch"),
            json!({"filter": filter, "limit": 1}),
        )
        .expect(200);
    assert_eq!(fetched["total"], expected);
    let facets = server
        .post(
            &format!("/indexes/{airports}/facet-search"),
            json!({"facetName": "state", "filter": filter}),
        )
        .expect(200);
    assert_eq!(facets["facetHits"].as_array().unwrap().len(), big.len());

    // Errors: not a foreign key, nested, too many documents, a missing foreign index, an
    // attribute the foreign index cannot filter on, and the endpoints that do not support it.
    let search_error = |filter: &str, status: u16, code: &str| {
        assert_error(
            server.post(
                &format!("/indexes/{airports}/search"),
                json!({"filter": filter}),
            ),
            status,
            code,
        )["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let refused = [
        (
            "_foreign(country, airports > 1)",
            "Field `country` is not a foreign key.",
        ),
        (
            "_foreign(state, _foreign(state, airports > 1))",
            "Nested foreign filters are not supported.",
        ),
        (
            "_foreign(id, country = USA)",
            "Foreign filter is retrieving too many documents",
        ),
        (
            "_foreign(state, cities > 3)",
            "Attribute `cities` is not filterable.",
        ),
        (
            "_foreign(state airports > 3)",
            "Was expecting a field name and a condition inside `_foreign(..)`",
        ),
    ];
    for (filter, start) in refused {
        let message = search_error(filter, 400, "invalid_search_filter");
        assert!(message.starts_with(start), "{filter}: {message}");
    }
    let task = server.delete(&format!("/indexes/{states}")).task_uid();
    server.wait_ok(task);
    search_error(filter, 404, "index_not_found");
    let error = assert_error(
        server.post(
            &format!("/indexes/{airports}/documents/delete"),
            json!({"filter": filter}),
        ),
        400,
        "invalid_document_filter",
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("Filter condition `_foreign` is not supported for this endpoint."),
        "{error}"
    );

    // Off: refused with `feature_not_enabled`, pointing at the field.
    server
        .patch("/experimental-features", json!({"foreignKeys": false}))
        .expect(200);
    let message = search_error(filter, 400, "feature_not_enabled");
    assert!(
        message.starts_with(
            "using a foreign filter requires enabling the `foreign_keys` experimental feature"
        ),
        "{message}"
    );
    assert!(
        message.ends_with("10:15 _foreign(state, airports > 200)"),
        "{message}"
    );
}
