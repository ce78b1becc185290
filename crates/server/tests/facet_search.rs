//! `POST /indexes/{uid}/facet-search` over real HTTP on the movies corpus. The reference takes
//! the hits of the same search on `/search` (every one of them), reads the facet's values from
//! the documents, keeps those whose folded form (lowercase, no accents) starts with the folded
//! facet query, and counts them. Also typo tolerance on the facet query, `maxValuesPerFacet`,
//! `sortFacetValuesBy`, the `facetSearch` setting, per-rule `features.facetSearch`, and errors.

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use common::*;
use serde_json::{json, Value};

fn movies_index() -> &'static str {
    static UID: OnceLock<String> = OnceLock::new();
    UID.get_or_init(|| {
        let server = server();
        let uid = unique_uid("facet_search_movies");
        server.create_index(&uid, Some("id"));
        let task = server
            .patch(
                &format!("/indexes/{uid}/settings"),
                json!({
                    "searchableAttributes": ["title", "director", "distributor"],
                    "filterableAttributes": ["major_genre", "distributor", "director", "mpaa_rating", "release_year"],
                    "pagination": {"maxTotalHits": 100000},
                    "faceting": {"maxValuesPerFacet": 1000}
                }),
            )
            .task_uid();
        server.wait_ok(task);
        server.load_movies(&uid);
        uid
    })
}

/// Lowercase without diacritics, as the facet query and values are compared.
fn fold(text: &str) -> String {
    use unicode_normalization::char::is_combining_mark;
    use unicode_normalization::UnicodeNormalization;
    text.trim()
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The expected facet hits: values of `facet` among the hits of `search`, by folded prefix,
/// in alphabetical (lowercase) order.
fn reference(index: &str, search: Value, facet: &str, facet_query: &str) -> Vec<(String, u64)> {
    let mut search = search;
    search["limit"] = json!(100_000);
    let ids = hit_ids(&server().search(index, search));
    let mut counts: BTreeMap<String, (String, u64)> = BTreeMap::new();
    for id in ids {
        if let Some(Value::String(value)) = movie(id).get(facet) {
            if fold(value).starts_with(&fold(facet_query)) {
                let entry = counts
                    .entry(value.trim().to_lowercase())
                    .or_insert((value.clone(), 0));
                entry.1 += 1;
            }
        }
    }
    counts.into_values().collect()
}

fn facet_hits(response: &Value) -> Vec<(String, u64)> {
    response["facetHits"]
        .as_array()
        .unwrap_or_else(|| panic!("no facetHits: {response}"))
        .iter()
        .map(|h| {
            (
                h["value"].as_str().unwrap().to_string(),
                h["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn facet_search(index: &str, body: Value) -> Value {
    server()
        .post(&format!("/indexes/{index}/facet-search"), body)
        .expect(200)
}

#[test]
fn facet_values_and_counts_match_the_reference() {
    let index = movies_index();
    let cases = [
        (json!({}), "major_genre", "dr"),
        (json!({}), "major_genre", ""),
        (json!({"q": "love"}), "major_genre", ""),
        (
            json!({"q": "the", "filter": "release_year > 1995"}),
            "distributor",
            "warn",
        ),
        (json!({"filter": "mpaa_rating = R"}), "director", "st"),
        (
            json!({"q": "star war", "matchingStrategy": "all"}),
            "distributor",
            "",
        ),
        (json!({}), "distributor", "PARA"),
    ];
    for (search, facet, facet_query) in cases {
        let expected = reference(index, search.clone(), facet, facet_query);
        assert!(
            !expected.is_empty(),
            "{search} {facet} {facet_query}: a weak case"
        );
        let mut body = search.clone();
        body["facetName"] = json!(facet);
        body["facetQuery"] = json!(facet_query);
        let response = facet_search(index, body);
        assert_eq!(
            facet_hits(&response),
            expected,
            "{search} {facet} {facet_query}"
        );
        assert_eq!(response["facetQuery"], json!(facet_query));
        assert!(response["processingTimeMs"].is_u64());
    }
    // Without facetQuery: every value, and `facetQuery` is null.
    let response = facet_search(index, json!({"facetName": "mpaa_rating"}));
    assert_eq!(response["facetQuery"], Value::Null);
    assert_eq!(
        facet_hits(&response),
        reference(index, json!({}), "mpaa_rating", "")
    );
}

#[test]
fn facet_query_tolerates_typos_and_accents() {
    let index = movies_index();
    let hits = |q: &str| {
        facet_hits(&facet_search(
            index,
            json!({"facetName": "major_genre", "facetQuery": q}),
        ))
        .into_iter()
        .map(|(v, _)| v)
        .collect::<Vec<_>>()
    };
    // Eight letters: one typo allowed, as for query words.
    assert_eq!(hits("adventre"), vec!["Adventure"]);
    assert_eq!(hits("àdventure"), vec!["Adventure"]);
    assert_eq!(hits("COMEDY"), vec!["Comedy"]);
    // Four letters: no typo.
    assert!(hits("drma").is_empty());
    // Values are matched from their start, not word by word.
    assert!(hits("comedy")
        .iter()
        .all(|v| v.to_lowercase().starts_with("comedy")));
    assert_eq!(hits("comedy"), vec!["Comedy"]);
    assert!(hits("comedy").len() < hits("").len());
    assert!(hits("comedy").iter().all(|v| !v.contains("Romantic")));
    assert!(hits("romantic").contains(&"Romantic Comedy".to_string()));
}

#[test]
fn limits_order_and_the_facet_search_setting() {
    let server = server();
    let uid = unique_uid("facet_search_settings");
    server.create_index(&uid, Some("id"));
    let task = server
        .patch(
            &format!("/indexes/{uid}/settings"),
            json!({
                "filterableAttributes": [
                    {"attributePatterns": ["director"], "features": {"facetSearch": false, "filter": {"equality": true}}},
                    "major_genre"
                ],
                "typoTolerance": {"enabled": false},
                "pagination": {"maxTotalHits": 100000},
                "faceting": {"maxValuesPerFacet": 3, "sortFacetValuesBy": {"major_genre": "count"}}
            }),
        )
        .task_uid();
    server.wait_ok(task);
    server.load_movies(&uid);

    // maxValuesPerFacet bounds the hits; count order puts the largest first.
    let all = reference(&uid, json!({}), "major_genre", "");
    let mut by_count = all.clone();
    by_count.sort_by_key(|(_, c)| std::cmp::Reverse(*c));
    by_count.truncate(3);
    let response = facet_search(&uid, json!({"facetName": "major_genre"}));
    assert_eq!(facet_hits(&response), by_count);
    // Typo tolerance disabled: a typo finds nothing.
    let response = facet_search(
        &uid,
        json!({"facetName": "major_genre", "facetQuery": "adventre"}),
    );
    assert!(facet_hits(&response).is_empty());

    // A rule that disables facet search.
    let body = assert_error(
        server.post(
            &format!("/indexes/{uid}/facet-search"),
            json!({"facetName": "director", "facetQuery": "st"}),
        ),
        400,
        "invalid_facet_search_facet_name",
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Attribute `director` is not facet-searchable. Note: this attribute matches rule #0 in filterableAttributes, but this rule does not enable facetSearch."),
        "{body}"
    );
    // Not filterable at all.
    let body = assert_error(
        server.post(
            &format!("/indexes/{uid}/facet-search"),
            json!({"facetName": "title"}),
        ),
        400,
        "invalid_facet_search_facet_name",
    );
    assert_eq!(
        body["message"],
        "Attribute `title` is not facet-searchable. Available facet-searchable attributes patterns are: `major_genre`. To make it facet-searchable add it to the `filterableAttributes` index settings."
    );
    assert_error(
        server.post(
            &format!("/indexes/{uid}/facet-search"),
            json!({"facetQuery": "a"}),
        ),
        400,
        "missing_facet_search_facet_name",
    );
    assert_error(
        server.post(
            &format!("/indexes/{uid}/facet-search"),
            json!({"facetName": "major_genre", "facetQuery": 3}),
        ),
        400,
        "invalid_facet_search_facet_query",
    );
    assert_error(
        server.post(
            &format!("/indexes/{uid}/facet-search"),
            json!({"facetName": "major_genre", "filter": "title = x"}),
        ),
        400,
        "invalid_search_filter",
    );
    assert_error(
        server.post(
            "/indexes/no_such_index_fs/facet-search",
            json!({"facetName": "a"}),
        ),
        404,
        "index_not_found",
    );

    // facetSearch: false answers facet_search_disabled, and true brings it back.
    let task = server
        .patch(
            &format!("/indexes/{uid}/settings"),
            json!({"facetSearch": false}),
        )
        .task_uid();
    server.wait_ok(task);
    let body = assert_error(
        server.post(
            &format!("/indexes/{uid}/facet-search"),
            json!({"facetName": "major_genre", "facetQuery": "a"}),
        ),
        400,
        "facet_search_disabled",
    );
    assert_eq!(
        body["message"],
        "The facet search is disabled for this index"
    );
    let task = server
        .patch(
            &format!("/indexes/{uid}/settings"),
            json!({"facetSearch": null}),
        )
        .task_uid();
    server.wait_ok(task);
    facet_search(&uid, json!({"facetName": "major_genre", "facetQuery": "a"}));
}
