//! `POST /multi-search` over real HTTP on two real corpora (movies and airports): one result per
//! query equal to the single-index search, errors that name the query, and federated search
//! merged by weighted ranking score with its pagination window.

mod common;

use std::io::Read;
use std::sync::OnceLock;

use common::*;
use serde_json::{json, Value};

/// The shared movies and airports indexes of this test binary.
fn indexes() -> &'static (String, String) {
    static UIDS: OnceLock<(String, String)> = OnceLock::new();
    UIDS.get_or_init(|| {
        let movies = unique_uid("ms_movies");
        let airports = unique_uid("ms_airports");
        let s = server();
        let movies_task = s.enqueue_movies(&movies);
        let mut airports_ndjson = Vec::new();
        flate2::read::GzDecoder::new(
            std::fs::File::open("/work/shared/data/airports.ndjson.gz").unwrap(),
        )
        .read_to_end(&mut airports_ndjson)
        .unwrap();
        let airports_task = s
            .raw(
                "POST",
                &format!("/indexes/{airports}/documents?primaryKey=id"),
                Some("application/x-ndjson"),
                airports_ndjson,
            )
            .task_uid();
        s.wait_ok(movies_task);
        s.wait_ok(airports_task);
        (movies, airports)
    })
}

fn without_time(mut body: Value) -> Value {
    body.as_object_mut().unwrap().remove("processingTimeMs");
    body
}

#[test]
fn each_query_answers_what_its_single_search_answers() {
    let (movies, airports) = indexes();
    let s = server();
    let queries = [
        (movies, json!({"q": "alien", "limit": 3})),
        (
            airports,
            json!({"q": "paris", "attributesToRetrieve": ["name", "city"]}),
        ),
        (
            movies,
            json!({"q": "star wars", "offset": 1, "limit": 2, "showRankingScore": true}),
        ),
        (
            movies,
            json!({"q": "godfather", "page": 1, "hitsPerPage": 2}),
        ),
    ];
    let body = json!({"queries": queries.iter().map(|(index, q)| {
        let mut q = q.clone();
        q["indexUid"] = json!(index);
        q
    }).collect::<Vec<_>>()});
    let answer = s.post("/multi-search", body).expect(200);
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), queries.len());
    for ((index, query), result) in queries.iter().zip(results) {
        assert_eq!(result["indexUid"], json!(index));
        assert_eq!(
            result
                .as_object()
                .unwrap()
                .keys()
                .next()
                .map(String::as_str),
            Some("indexUid"),
            "indexUid comes first"
        );
        let single = s.search(index, query.clone());
        let mut result = without_time(result.clone());
        result.as_object_mut().unwrap().remove("indexUid");
        assert_eq!(result, without_time(single), "{query}");
    }
    assert!(!results[0]["hits"].as_array().unwrap().is_empty());
}

#[test]
fn an_error_names_the_query_it_comes_from() {
    let (movies, _) = indexes();
    let s = server();
    let response = s.post(
        "/multi-search",
        json!({"queries": [{"indexUid": movies, "q": "alien"}, {"indexUid": "no_such_index", "q": "x"}]}),
    );
    let body = assert_error(response, 404, "index_not_found");
    assert_eq!(
        body["message"],
        "Inside `.queries[1]`: Index `no_such_index` not found."
    );
    let body = assert_error(
        s.post(
            "/multi-search",
            json!({"queries": [{"indexUid": movies, "limit": -1}]}),
        ),
        400,
        "invalid_search_limit",
    );
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("`.queries[0].limit`"));
    assert_error(
        s.post("/multi-search", json!({"queries": [{"q": "alien"}]})),
        400,
        "missing_index_uid",
    );
    assert_error(
        s.post(
            "/multi-search",
            json!({"federation": {}, "queries": [{"indexUid": movies, "limit": 3}]}),
        ),
        400,
        "invalid_multi_search_query_pagination",
    );
    assert_error(
        s.post(
            "/multi-search",
            json!({"queries": [{"indexUid": movies, "federationOptions": {"weight": 2.0}}]}),
        ),
        400,
        "invalid_multi_search_federation_options",
    );
    assert_error(
        s.post("/multi-search", json!({"queries": 3})),
        400,
        "bad_request",
    );
}

fn federated(body: Value) -> Value {
    server().post("/multi-search", body).expect(200)
}

fn weighted_scores(answer: &Value) -> Vec<f64> {
    answer["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["_federation"]["weightedRankingScore"].as_f64().unwrap())
        .collect()
}

#[test]
fn federated_hits_are_merged_by_weighted_score() {
    let (movies, airports) = indexes();
    let s = server();
    let queries = json!([
        {"indexUid": movies, "q": "paris"},
        {"indexUid": airports, "q": "paris"}
    ]);
    let answer = federated(json!({"federation": {"limit": 40}, "queries": queries}));
    let hits = answer["hits"].as_array().unwrap();
    let scores = weighted_scores(&answer);
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    let from = |index: &str| {
        hits.iter()
            .filter(|h| h["_federation"]["indexUid"] == json!(index))
            .count()
    };
    assert!(from(movies) > 0 && from(airports) > 0, "{answer}");
    for hit in hits {
        assert!(hit.get("_rankingScore").is_none(), "scores only when asked");
        let position = hit["_federation"]["queriesPosition"].as_u64().unwrap();
        let expected_index = if position == 0 { movies } else { airports };
        assert_eq!(hit["_federation"]["indexUid"], json!(expected_index));
    }
    // The total is the sum of each query's estimate.
    let total: u64 = [movies, airports]
        .iter()
        .map(|i| {
            s.search(i, json!({"q": "paris"}))["estimatedTotalHits"]
                .as_u64()
                .unwrap()
        })
        .sum();
    assert_eq!(answer["estimatedTotalHits"], total);
    assert_eq!(
        (answer["limit"].clone(), answer["offset"].clone()),
        (json!(40), json!(0))
    );

    // Each query's hits keep their own order inside the merged list.
    let single = s.search(movies, json!({"q": "paris", "limit": 40}));
    let single_ids: Vec<Value> = single["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].clone())
        .collect();
    let merged_ids: Vec<Value> = hits
        .iter()
        .filter(|h| h["_federation"]["indexUid"] == json!(movies))
        .map(|h| h["id"].clone())
        .collect();
    assert_eq!(merged_ids[..], single_ids[..merged_ids.len()]);

    // A weight of zero sends a query's hits after every other query's.
    let answer = federated(json!({"federation": {"limit": 60}, "queries": [
        {"indexUid": movies, "q": "paris", "federationOptions": {"weight": 0.0}},
        {"indexUid": airports, "q": "paris", "showRankingScore": true}
    ]}));
    let hits = answer["hits"].as_array().unwrap();
    let first_movie = hits
        .iter()
        .position(|h| h["_federation"]["indexUid"] == json!(movies))
        .expect("movies hits");
    assert!(hits[first_movie..]
        .iter()
        .all(|h| h["_federation"]["indexUid"] == json!(movies)));
    assert!(hits[..first_movie]
        .iter()
        .all(|h| h["_rankingScore"].is_number()));
}

#[test]
fn federated_pagination_windows_the_merged_list() {
    let (movies, airports) = indexes();
    let queries = json!([
        {"indexUid": movies, "q": "new"},
        {"indexUid": airports, "q": "new", "federationOptions": {"weight": 0.9}}
    ]);
    let key = |h: &Value| (h["_federation"]["indexUid"].clone(), h["id"].clone());
    let all = federated(json!({"federation": {"limit": 12}, "queries": queries}));
    let all: Vec<_> = all["hits"].as_array().unwrap().iter().map(key).collect();
    assert_eq!(all.len(), 12);
    let window = federated(json!({"federation": {"offset": 5, "limit": 4}, "queries": queries}));
    let window: Vec<_> = window["hits"].as_array().unwrap().iter().map(key).collect();
    assert_eq!(window[..], all[5..9]);
    let page = federated(json!({"federation": {"page": 2, "hitsPerPage": 3}, "queries": queries}));
    assert_eq!(page["page"], 2);
    assert_eq!(page["hitsPerPage"], 3);
    assert!(page["totalHits"].as_u64().unwrap() >= 12);
    assert_eq!(
        page["totalPages"].as_u64().unwrap(),
        page["totalHits"].as_u64().unwrap().div_ceil(3)
    );
    let page: Vec<_> = page["hits"].as_array().unwrap().iter().map(key).collect();
    assert_eq!(page[..], all[3..6]);
}

/// Movies with faceting settings, for `facetsByIndex`.
fn faceted_movies() -> &'static str {
    static UID: OnceLock<String> = OnceLock::new();
    UID.get_or_init(|| {
        let s = server();
        let uid = unique_uid("ms_faceted_movies");
        s.create_index(&uid, Some("id"));
        let task = s
            .patch(
                &format!("/indexes/{uid}/settings"),
                json!({"filterableAttributes": ["major_genre", "release_year"],
                       "pagination": {"maxTotalHits": 100000}}),
            )
            .task_uid();
        s.wait_ok(task);
        s.load_movies(&uid);
        uid
    })
}

#[test]
fn facets_by_index_count_every_query_on_the_index() {
    let index = faceted_movies();
    let s = server();
    let searches = [
        json!({"q": "star", "filter": "release_year < 1990"}),
        json!({"q": "love"}),
        json!({"q": "night", "filter": "major_genre = Horror"}),
    ];
    // The reference: the union of every query's hits, each film counted once.
    let mut union = std::collections::BTreeSet::new();
    for search in &searches {
        let mut search = search.clone();
        search["limit"] = json!(100_000);
        union.extend(hit_ids(&s.search(index, search)));
    }
    let mut genres: std::collections::BTreeMap<String, u64> = Default::default();
    let (mut min, mut max) = (f64::MAX, f64::MIN);
    for id in &union {
        let film = movie(*id);
        if let Some(genre) = film["major_genre"].as_str() {
            *genres.entry(genre.to_string()).or_default() += 1;
        }
        if let Some(year) = film["release_year"].as_f64() {
            min = min.min(year);
            max = max.max(year);
        }
    }
    assert!(union.len() > 20 && genres.len() > 3);
    let queries: Vec<Value> = searches
        .iter()
        .map(|q| {
            let mut q = q.clone();
            q["indexUid"] = json!(index);
            q
        })
        .collect();
    let facets = json!({ index: ["major_genre", "release_year"] });
    for merge in [false, true] {
        let mut federation = json!({"facetsByIndex": facets, "limit": 5});
        if merge {
            federation["mergeFacets"] = json!({});
        }
        let answer = federated(json!({"federation": federation, "queries": queries}));
        let (distribution, stats) = if merge {
            (&answer["facetDistribution"], &answer["facetStats"])
        } else {
            (
                &answer["facetsByIndex"][index]["distribution"],
                &answer["facetsByIndex"][index]["stats"],
            )
        };
        let got: std::collections::BTreeMap<String, u64> = distribution["major_genre"]
            .as_object()
            .unwrap_or_else(|| panic!("no distribution: {answer}"))
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
            .collect();
        assert_eq!(got, genres, "merge: {merge}");
        assert_eq!(
            stats["release_year"],
            json!({"min": min, "max": max}),
            "merge: {merge}"
        );
    }
}
