//! Geo sort (`_geoPoint(lat, lng):asc|desc` with `_geoDistance` in hits) on the airports
//! corpus against haversine distances computed here; `sort` on the documents routes on movies
//! against a sort of the decoded documents; and `POST /documents/delete` (delete by filter)
//! against a reference evaluation, including its task details, errors and autobatching.

mod common;

use std::io::Read;
use std::sync::OnceLock;

use common::*;
use serde_json::{json, Value};

fn airports() -> &'static [Value] {
    static DOCS: OnceLock<Vec<Value>> = OnceLock::new();
    DOCS.get_or_init(|| {
        let file = std::fs::File::open("/work/shared/data/airports.ndjson.gz").unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(file)
            .read_to_string(&mut text)
            .unwrap();
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    })
}

fn load(prefix: &str, settings: Value, docs: &[Value]) -> String {
    let server = server();
    let uid = unique_uid(prefix);
    server.create_index(&uid, Some("id"));
    let task = server
        .patch(&format!("/indexes/{uid}/settings"), settings)
        .task_uid();
    server.wait_ok(task);
    server.add_documents(&uid, Value::Array(docs.to_vec()));
    uid
}

fn airports_index() -> &'static str {
    static UID: OnceLock<String> = OnceLock::new();
    UID.get_or_init(|| {
        load(
            "geo_sort_airports",
            json!({"filterableAttributes": ["_geo", "state"], "sortableAttributes": ["_geo", "id"],
                   "pagination": {"maxTotalHits": 100000}}),
            airports(),
        )
    })
}

fn point(doc: &Value) -> (f64, f64) {
    (
        doc["_geo"]["lat"].as_f64().unwrap(),
        doc["_geo"]["lng"].as_f64().unwrap(),
    )
}

/// Great-circle distance in metres (mean Earth radius 6,371,008.8 m).
fn distance(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let dp = p2 - p1;
    let dl = (b.1 - a.1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

/// Airports ordered by distance to `target` (ties by id), filtered by `keep`.
fn by_distance(
    target: (f64, f64),
    ascending: bool,
    keep: impl Fn(&Value) -> bool,
) -> Vec<(u64, f64)> {
    let mut all: Vec<(u64, f64)> = airports()
        .iter()
        .filter(|d| keep(d))
        .map(|d| (d["id"].as_u64().unwrap(), distance(target, point(d))))
        .collect();
    all.sort_by(|a, b| {
        let order = a.1.total_cmp(&b.1);
        let order = if ascending { order } else { order.reverse() };
        order.then(a.0.cmp(&b.0))
    });
    all
}

fn check_hits(response: &Value, expected: &[(u64, f64)]) {
    let hits = response["hits"].as_array().unwrap();
    assert_eq!(hits.len(), expected.len(), "{response}");
    for (hit, (id, metres)) in hits.iter().zip(expected) {
        assert_eq!(hit["id"].as_u64(), Some(*id), "{hit}");
        let shown = hit["_geoDistance"]
            .as_u64()
            .unwrap_or_else(|| panic!("no _geoDistance: {hit}"));
        assert!(
            (shown as f64 - metres).abs() <= 1.0,
            "{hit}: expected {metres} m"
        );
    }
}

#[test]
fn geo_sort_orders_by_haversine_distance() {
    let index = airports_index();
    for (target, ascending) in [
        ((41.8781, -87.6298), true),
        ((39.7392, -104.9903), false),
        ((21.3, -157.85), true),
    ] {
        let order = if ascending { "asc" } else { "desc" };
        let sort = format!("_geoPoint({}, {}):{order}", target.0, target.1);
        let expected = by_distance(target, ascending, |_| true);
        let response = server().search(index, json!({"sort": [sort], "limit": 40}));
        check_hits(&response, &expected[..40]);
        // A later page, and only the retrieved attributes plus `_geoDistance`.
        let response = server().search(
            index,
            json!({"sort": [sort], "offset": 100, "limit": 15, "attributesToRetrieve": ["id"]}),
        );
        check_hits(&response, &expected[100..115]);
        assert!(response["hits"][0].get("name").is_none());
    }
    // With a filter, and a second criterion after the distance.
    let target = (30.0, -97.0);
    let expected = by_distance(target, true, |d| d["state"] == "TX");
    let response = server().search(
        index,
        json!({"filter": "state = TX", "sort": ["_geoPoint(30, -97):asc", "id:desc"], "limit": 1000}),
    );
    check_hits(&response, &expected);
    // The details show the rule with the point and the distance.
    let response = server().search(
        index,
        json!({"sort": ["_geoPoint(30, -97):asc"], "limit": 1, "showRankingScoreDetails": true}),
    );
    let detail = &response["hits"][0]["_rankingScoreDetails"]["_geoPoint(30, -97):asc"];
    assert_eq!(detail["order"], 0, "{response}");
    assert!(detail["distance"].as_f64().is_some(), "{response}");
    // No geo sort, no `_geoDistance`, even with a geo filter.
    let response = server().search(
        index,
        json!({"filter": "_geoRadius(30, -97, 100000)", "limit": 5}),
    );
    assert!(response["hits"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h.get("_geoDistance").is_none()));
}

#[test]
fn documents_without_a_point_come_last_and_errors() {
    let docs: Vec<Value> = airports()[..6]
        .iter()
        .cloned()
        .chain([json!({"id": 999_001, "name": "nowhere"})])
        .collect();
    let uid = load(
        "geo_sort_small",
        json!({"sortableAttributes": ["_geo"]}),
        &docs,
    );
    for order in ["asc", "desc"] {
        let response = server().search(
            &uid,
            json!({"sort": [format!("_geoPoint(45, -90):{order}")]}),
        );
        let ids = hit_ids(&response);
        assert_eq!(ids.len(), 7);
        assert_eq!(ids[6], 999_001, "{order}");
        assert!(response["hits"][6].get("_geoDistance").is_none());
    }
    let plain = load(
        "geo_sort_unsortable",
        json!({"sortableAttributes": ["name"]}),
        &docs,
    );
    let cases = [
        (&plain, "_geoPoint(45, -90):asc", "Attribute `_geo` is not sortable. Available sortable attributes are: `name`."),
        (&uid, "_geoPoint(95, 0):asc", "Latitude must be contained between -90 and 90 degrees."),
        (&uid, "_geoPoint(45, 181):desc", "Longitude must be contained between -180 and 180 degrees."),
        (&uid, "_geoPoint(45):asc", "Invalid syntax for the geo parameter: expected expression formated like `_geoPoint(latitude, longitude)` and ending by `:asc` or `:desc`, found `_geoPoint(45)`."),
        (&uid, "_geo:asc", "`_geo` is a reserved keyword and thus can't be used as a sort expression. Use the _geoPoint(latitude, longitude) built-in rule to sort on _geo field coordinates."),
        (&uid, "_geoDistance:asc", "`_geoDistance` is a reserved keyword and thus can't be used as a sort expression."),
    ];
    for (index, sort, message) in cases {
        let body = assert_error(
            server().post(&format!("/indexes/{index}/search"), json!({"sort": [sort]})),
            400,
            "invalid_search_sort",
        );
        assert_eq!(body["message"], message, "{sort}");
    }
}

// ---------------------------------------------------------------------------------------------
// `sort` on the documents routes.

fn movies_index() -> &'static str {
    static UID: OnceLock<String> = OnceLock::new();
    UID.get_or_init(|| {
        load(
            "documents_sort_movies",
            json!({"filterableAttributes": ["major_genre"], "sortableAttributes": ["imdb_rating", "id", "title"]}),
            movies(),
        )
    })
}

/// Movies ordered by rating (missing last), then id ascending.
fn by_rating(descending: bool, keep: impl Fn(&Value) -> bool) -> Vec<u64> {
    let mut all: Vec<(Option<f64>, u64)> = movies()
        .iter()
        .filter(|m| keep(m))
        .map(|m| (m["imdb_rating"].as_f64(), m["id"].as_u64().unwrap()))
        .collect();
    all.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => {
            let order = x.total_cmp(&y);
            (if descending { order.reverse() } else { order }).then(a.1.cmp(&b.1))
        }
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.1.cmp(&b.1),
    });
    all.into_iter().map(|(_, id)| id).collect()
}

#[test]
fn documents_routes_sort() {
    let index = movies_index();
    let expected = by_rating(true, |_| true);
    assert!(expected.len() > 3000);
    let body = server()
        .get(&format!(
            "/indexes/{index}/documents?sort=imdb_rating:desc,id:asc&offset=5&limit=30&fields=id,imdb_rating"
        ))
        .expect(200);
    assert_eq!(listed_ids(&body), expected[5..35].to_vec());
    assert_eq!(body["total"], json!(movies().len()));
    // The last page holds the films without a rating.
    let body = server()
        .get(&format!(
            "/indexes/{index}/documents?sort=imdb_rating:desc,id:asc&offset={}&limit=50",
            expected.len() - 20
        ))
        .expect(200);
    assert_eq!(listed_ids(&body), expected[expected.len() - 20..].to_vec());

    let drama = by_rating(false, |m| m["major_genre"] == "Drama");
    let body = server()
        .post(
            &format!("/indexes/{index}/documents/fetch"),
            json!({"filter": "major_genre = Drama", "sort": ["imdb_rating:asc", "id:asc"], "limit": 25, "offset": 10}),
        )
        .expect(200);
    assert_eq!(listed_ids(&body), drama[10..35].to_vec());
    assert_eq!(body["total"], json!(drama.len()));
    // With ids: only those, sorted.
    let ids: Vec<String> = expected[..50]
        .iter()
        .rev()
        .map(|id| id.to_string())
        .collect();
    let body = server()
        .post(
            &format!("/indexes/{index}/documents/fetch"),
            json!({"ids": ids, "sort": ["imdb_rating:desc", "id:asc"], "limit": 100}),
        )
        .expect(200);
    assert_eq!(listed_ids(&body), expected[..50].to_vec());

    let body = assert_error(
        server().get(&format!("/indexes/{index}/documents?sort=director:asc")),
        400,
        "invalid_document_sort",
    );
    assert_eq!(
        body["message"],
        "Attribute `director` is not sortable. Available sortable attributes are: `id, imdb_rating, title`."
    );
    assert_error(
        server().post(
            &format!("/indexes/{index}/documents/fetch"),
            json!({"sort": ["imdb_rating:up"]}),
        ),
        400,
        "invalid_document_sort",
    );
}

// ---------------------------------------------------------------------------------------------
// Delete by filter.

fn movie_ids_where(keep: impl Fn(&Value) -> bool) -> Vec<u64> {
    let mut ids: Vec<u64> = movies()
        .iter()
        .filter(|m| keep(m))
        .map(|m| m["id"].as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

fn stored_ids(index: &str) -> Vec<u64> {
    let mut ids: Vec<u64> = server()
        .all_documents(index)
        .iter()
        .map(|d| d["id"].as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

#[test]
fn delete_by_filter_removes_what_the_filter_selects() {
    let server = server();
    let uid = load(
        "delete_by_filter",
        json!({"filterableAttributes": ["major_genre", "release_year"]}),
        movies(),
    );
    let filter = "major_genre = Horror AND release_year < 2000";
    let summary = server
        .post(
            &format!("/indexes/{uid}/documents/delete"),
            json!({ "filter": filter }),
        )
        .summary(202);
    assert_eq!(summary["type"], "documentDeletion");
    let task = server.wait_ok(summary["taskUid"].as_u64().unwrap());
    let doomed = movie_ids_where(|m| {
        m["major_genre"] == "Horror" && m["release_year"].as_f64().is_some_and(|y| y < 2000.0)
    });
    assert!(doomed.len() > 10);
    assert_eq!(
        task["details"],
        json!({"providedIds": 0, "deletedDocuments": doomed.len(), "originalFilter": format!("\"{filter}\"")})
    );
    let expected = movie_ids_where(|m| !doomed.contains(&m["id"].as_u64().unwrap()));
    assert_eq!(stored_ids(&uid), expected);

    // Array form; a filter that matches nothing deletes nothing.
    let task = server
        .post(
            &format!("/indexes/{uid}/documents/delete"),
            json!({"filter": [["major_genre = Western", "major_genre = Musical"], "release_year >= 1990"]}),
        )
        .task_uid();
    let task = server.wait_ok(task);
    let gone = movie_ids_where(|m| {
        (m["major_genre"] == "Western" || m["major_genre"] == "Musical")
            && m["release_year"].as_f64().is_some_and(|y| y >= 1990.0)
    });
    assert_eq!(task["details"]["deletedDocuments"], json!(gone.len()));
    let expected: Vec<u64> = expected
        .into_iter()
        .filter(|id| !gone.contains(id))
        .collect();
    assert_eq!(stored_ids(&uid), expected);
    let task = server
        .post(
            &format!("/indexes/{uid}/documents/delete"),
            json!({"filter": "release_year > 3000"}),
        )
        .task_uid();
    assert_eq!(server.wait_ok(task)["details"]["deletedDocuments"], 0);

    // Errors: refused at once, or (not filterable) a failed task that changes nothing.
    let path = format!("/indexes/{uid}/documents/delete");
    assert_error(
        server.post(&path, json!({})),
        400,
        "missing_document_filter",
    );
    assert_error(
        server.post(&path, json!({"filter": true})),
        400,
        "invalid_document_filter",
    );
    assert_error(
        server.post(&path, json!({"filter": "major_genre ="})),
        400,
        "invalid_document_filter",
    );
    assert_error(
        server.post(&path, json!({"filter": ""})),
        400,
        "invalid_document_filter",
    );
    assert_error(
        server.post(&path, json!({"filter": "a = 1", "other": 1})),
        400,
        "bad_request",
    );
    let task = server
        .post(&path, json!({"filter": "title = Alien"}))
        .task_uid();
    let failed = server.wait_failed(task, "invalid_document_filter");
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Attribute `title` is not filterable."),
        "{failed}"
    );
    assert_eq!(failed["details"]["deletedDocuments"], 0);
    assert_eq!(stored_ids(&uid), expected);
}

#[test]
fn delete_by_filter_sees_the_tasks_before_it() {
    let server = server();
    let uid = load(
        "delete_by_filter_batch",
        json!({"filterableAttributes": ["major_genre"]}),
        &movies()[..200],
    );
    // Three tasks wait together: an addition, the deletion, another addition.
    server.scheduler.pause();
    let first = server
        .post(
            &format!("/indexes/{uid}/documents"),
            json!([{"id": 900_001, "title": "Before", "major_genre": "Zombie"}]),
        )
        .task_uid();
    let deletion = server
        .post(
            &format!("/indexes/{uid}/documents/delete"),
            json!({"filter": "major_genre = Zombie"}),
        )
        .task_uid();
    let last = server
        .post(
            &format!("/indexes/{uid}/documents"),
            json!([{"id": 900_002, "title": "After", "major_genre": "Zombie"}]),
        )
        .task_uid();
    server.scheduler.resume();
    server.wait_ok(first);
    let deleted = server.wait_ok(deletion);
    server.wait_ok(last);
    assert_eq!(deleted["details"]["deletedDocuments"], 1);
    let ids = stored_ids(&uid);
    assert!(!ids.contains(&900_001));
    assert!(ids.contains(&900_002));
    assert_eq!(ids.len(), 201);
    // The deletion did not share a batch with the addition before it.
    let first_task = server.get(&format!("/tasks/{first}")).expect(200);
    assert_ne!(first_task["batchUid"], deleted["batchUid"]);
}
