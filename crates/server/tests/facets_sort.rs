//! Facet distribution and stats, the `faceting` settings, the `sort` parameter and exhaustive
//! pagination, over real HTTP on the movies corpus, checked against counts and orders computed
//! from the decoded documents.

mod common;

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use common::*;
use serde_json::{json, Value};

fn movies_index() -> &'static str {
    static UID: OnceLock<String> = OnceLock::new();
    UID.get_or_init(|| {
        let server = server();
        let uid = unique_uid("facets_movies");
        server.create_index(&uid, Some("id"));
        let mut settings = movies_settings();
        settings["pagination"] = json!({"maxTotalHits": 100000});
        let task = server
            .patch(&format!("/indexes/{uid}/settings"), settings)
            .task_uid();
        server.wait_ok(task);
        server.load_movies(&uid);
        uid
    })
}

/// Films released in `[from, to]`.
fn released_between(from: i64, to: i64) -> Vec<&'static Value> {
    movies()
        .iter()
        .filter(|m| {
            m["release_year"]
                .as_i64()
                .is_some_and(|y| y >= from && y <= to)
        })
        .collect()
}

#[test]
fn distribution_and_stats_count_every_candidate() {
    let index = movies_index();
    let body = server().search(
        index,
        json!({"filter": "release_year 1990 TO 1999", "facets": ["major_genre", "imdb_rating", "mpaa_rating"], "limit": 2}),
    );
    let films = released_between(1990, 1999);
    assert_eq!(body["hits"].as_array().unwrap().len(), 2);
    // Counts per genre, grouping spellings the way facets compare them.
    let mut genres: BTreeMap<String, u64> = BTreeMap::new();
    for m in &films {
        if let Some(g) = m["major_genre"].as_str() {
            *genres.entry(g.trim().to_lowercase()).or_default() += 1;
        }
    }
    let distribution = body["facetDistribution"]["major_genre"]
        .as_object()
        .unwrap();
    let got: BTreeMap<String, u64> = distribution
        .iter()
        .map(|(k, v)| (k.to_lowercase(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(got, genres);
    // Alpha order by default.
    let keys: Vec<String> = distribution.keys().map(|k| k.to_lowercase()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // Stats over the numeric facet.
    let ratings: Vec<f64> = films
        .iter()
        .filter_map(|m| m["imdb_rating"].as_f64())
        .collect();
    let min = ratings.iter().copied().fold(f64::INFINITY, f64::min);
    let max = ratings.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(
        body["facetStats"]["imdb_rating"],
        json!({"min": min, "max": max})
    );
    assert!(body["facetStats"].get("major_genre").is_none());
}

#[test]
fn faceting_settings_cap_and_order_values() {
    let server = server();
    let uid = unique_uid("facets_settings");
    server.create_index(&uid, Some("id"));
    let task = server
        .patch(
            &format!("/indexes/{uid}/settings"),
            json!({"filterableAttributes": ["major_genre", "mpaa_rating"], "faceting": {"maxValuesPerFacet": 3, "sortFacetValuesBy": {"*": "alpha", "major_genre": "count"}}}),
        )
        .task_uid();
    server.wait_ok(task);
    server.load_movies(&uid);
    let body = server.search(&uid, json!({"facets": ["major_genre", "mpaa_rating"]}));
    let genres = body["facetDistribution"]["major_genre"]
        .as_object()
        .unwrap();
    assert_eq!(genres.len(), 3);
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for m in movies() {
        if let Some(g) = m["major_genre"].as_str() {
            *counts.entry(g.to_string()).or_default() += 1;
        }
    }
    let mut by_count: Vec<(String, u64)> = counts.into_iter().collect();
    by_count.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    let expected: Vec<(String, u64)> = by_count.into_iter().take(3).collect();
    let got: Vec<(String, u64)> = genres
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(got, expected);
    let ratings: Vec<&String> = body["facetDistribution"]["mpaa_rating"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(ratings.len(), 3);
    let mut sorted = ratings.clone();
    sorted.sort_by_key(|k| k.to_lowercase());
    assert_eq!(ratings, sorted);
    // A facet on an attribute that is not filterable.
    let response = server.post(
        &format!("/indexes/{uid}/search"),
        json!({"facets": ["title"]}),
    );
    let body = assert_error(response, 400, "invalid_search_facets");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("Invalid facet distribution: Attribute `title` is not filterable."));
}

fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Greater,
        (_, Value::Null) => Ordering::Less,
        (Value::Number(x), Value::Number(y)) => x.as_f64().unwrap().total_cmp(&y.as_f64().unwrap()),
        _ => Ordering::Equal,
    }
}

#[test]
fn sort_by_several_criteria() {
    let index = movies_index();
    let body = server().search(
        index,
        json!({"filter": "release_year 1980 TO 2010", "sort": ["release_year:desc", "imdb_rating:asc"], "limit": 400, "attributesToRetrieve": ["id", "release_year", "imdb_rating"]}),
    );
    let hits = body["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 400);
    let mut films: Vec<&Value> = released_between(1980, 2010);
    films.sort_by(|a, b| {
        let year = compare_values(&b["release_year"], &a["release_year"]);
        let rating = |m: &Value| m.get("imdb_rating").cloned().unwrap_or(Value::Null);
        year.then_with(|| compare_values(&rating(a), &rating(b)))
            .then_with(|| a["id"].as_u64().cmp(&b["id"].as_u64()))
    });
    // Documents with equal values come in index order: compare the values, hit by hit.
    let key = |m: &Value| {
        (
            m["release_year"].clone(),
            m.get("imdb_rating").cloned().unwrap_or(Value::Null),
        )
    };
    let expected: Vec<(Value, Value)> = films.iter().take(400).map(|m| key(m)).collect();
    let got: Vec<(Value, Value)> = hits.iter().map(key).collect();
    assert_eq!(got, expected);
    assert!(got.iter().any(|(_, r)| r.is_null()) || films.len() > 400);
    // Not sortable, and malformed.
    let response = server().post(
        &format!("/indexes/{index}/search"),
        json!({"sort": ["title:asc"]}),
    );
    let body = assert_error(response, 400, "invalid_search_sort");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("Attribute `title` is not sortable."));
    let response = server().post(
        &format!("/indexes/{index}/search"),
        json!({"sort": ["release_year"]}),
    );
    assert_error(response, 400, "invalid_search_sort");
}

#[test]
fn sorted_keyword_search_keeps_relevancy_first() {
    let index = movies_index();
    let body = server().search(
        index,
        json!({"q": "star", "sort": ["worldwide_gross:desc"], "limit": 50}),
    );
    assert!(!body["hits"].as_array().unwrap().is_empty());
}

#[test]
fn exhaustive_pagination_counts_filtered_hits() {
    let index = movies_index();
    let films = released_between(1995, 1996);
    let body = server().search(
        index,
        json!({"filter": "release_year 1995 TO 1996", "hitsPerPage": 7, "page": 2}),
    );
    assert_eq!(body["totalHits"], films.len());
    assert_eq!(body["totalPages"], films.len().div_ceil(7));
    assert_eq!(body["hits"].as_array().unwrap().len(), 7);
}
