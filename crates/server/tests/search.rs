//! Search over real HTTP on the real movies corpus: GET and POST, the response shapes of
//! offset/limit and page/hitsPerPage pagination, placeholder search, attribute selection and
//! displayed attributes, searchable attributes, `maxTotalHits`, and the `invalid_search_*`
//! errors. Ranking and typo tolerance are still being built, so relevance assertions are only
//! those that hold whatever the ranking: an exact title finds its film, and so does the prefix
//! of its last word.

mod common;

use std::sync::OnceLock;

use common::*;
use serde_json::{json, Value};

/// The shared, read-only movies index of this test binary.
fn movies_index() -> &'static str {
    static UID: OnceLock<String> = OnceLock::new();
    UID.get_or_init(|| {
        let uid = unique_uid("search_movies");
        server().load_movies(&uid);
        uid
    })
}

fn search_path(index: &str) -> String {
    format!("/indexes/{index}/search")
}

fn sorted_keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

/// Films whose titles are two to four plain ASCII words.
fn plain_titles() -> Vec<(u64, String)> {
    movies()
        .iter()
        .filter_map(|m| {
            let title = m["title"].as_str()?;
            let words: Vec<&str> = title.split(' ').collect();
            let plain = (2..=4).contains(&words.len())
                && words
                    .iter()
                    .all(|w| w.len() > 1 && w.chars().all(|c| c.is_ascii_alphabetic()));
            plain.then(|| (m["id"].as_u64().unwrap(), title.to_string()))
        })
        .step_by(97)
        .take(6)
        .collect()
}

fn encode(q: &str) -> String {
    q.replace('%', "%25")
        .replace(' ', "%20")
        .replace('&', "%26")
        .replace('\'', "%27")
}

#[test]
fn post_search_response_shape() {
    let s = server();
    let index = movies_index();
    let result = s.search(index, json!({"q": "the dark knight"}));
    assert_eq!(
        sorted_keys(&result),
        [
            "estimatedTotalHits",
            "hits",
            "limit",
            "offset",
            "processingTimeMs",
            "query"
        ]
    );
    assert_eq!(result["query"], "the dark knight");
    assert_eq!(result["limit"], 20);
    assert_eq!(result["offset"], 0);
    assert!(result["processingTimeMs"].is_u64());
    assert!(result["estimatedTotalHits"].as_u64().unwrap() >= 1);
    let hits = result["hits"].as_array().unwrap();
    assert!(!hits.is_empty() && hits.len() <= 20);
    // Hits are whole stored documents.
    for hit in hits {
        assert_eq!(hit, movie(hit["id"].as_u64().unwrap()));
    }
}

#[test]
fn get_search_matches_post_search() {
    let s = server();
    let index = movies_index();
    let post = s.search(
        index,
        json!({"q": "star wars", "limit": 7, "offset": 1, "attributesToRetrieve": ["id", "title"]}),
    );
    let get = s
        .get(&format!(
            "{}?q=star%20wars&limit=7&offset=1&attributesToRetrieve=id,title",
            search_path(index)
        ))
        .expect(200);
    assert_eq!(get["hits"], post["hits"]);
    assert_eq!(get["query"], "star wars");
    assert_eq!(get["limit"], 7);
    assert_eq!(get["offset"], 1);
    assert_eq!(get["estimatedTotalHits"], post["estimatedTotalHits"]);
    for hit in get["hits"].as_array().unwrap() {
        assert_eq!(sorted_keys(hit), ["id", "title"]);
    }
}

#[test]
fn exact_titles_find_their_film() {
    let s = server();
    let index = movies_index();
    let titles = plain_titles();
    assert!(titles.len() >= 5);
    for (id, title) in titles {
        let result = s.search(index, json!({"q": title, "limit": 1000}));
        assert!(
            hit_ids(&result).contains(&id),
            "`{title}` does not find film {id}"
        );
        // Every word present: the film is among the documents matching all of them.
        let result = s.search(
            index,
            json!({"q": title, "matchingStrategy": "all", "limit": 1000}),
        );
        assert!(
            hit_ids(&result).contains(&id),
            "`{title}` (all) misses {id}"
        );
        // Through GET as well.
        let result = s
            .get(&format!(
                "{}?q={}&limit=1000",
                search_path(index),
                encode(&title)
            ))
            .expect(200);
        assert!(hit_ids(&result).contains(&id), "GET `{title}` misses {id}");
    }
}

#[test]
fn prefix_of_the_last_word_matches() {
    let s = server();
    let index = movies_index();
    for (id, title) in plain_titles() {
        let last = title.rsplit(' ').next().unwrap();
        if last.len() < 4 {
            continue;
        }
        let typed = &title[..title.len() - last.len() + 3];
        let result = s.search(index, json!({"q": typed, "limit": 1000}));
        assert!(
            hit_ids(&result).contains(&id),
            "`{typed}` (typing `{title}`) does not find film {id}"
        );
    }
    // A single word being typed.
    let result = s.search(index, json!({"q": "incep", "limit": 100}));
    assert!(hit_ids(&result).contains(&2026), "`incep` misses Inception");
}

#[test]
fn placeholder_search_returns_documents() {
    let s = server();
    let index = movies_index();
    let result = s.search(index, json!({}));
    assert_eq!(result["query"], "");
    assert_eq!(result["hits"].as_array().unwrap().len(), 20);
    assert_eq!(result["estimatedTotalHits"], MOVIES_COUNT);
    let result = s.get(&search_path(index)).expect(200);
    assert_eq!(result["query"], "");
    assert_eq!(result["hits"].as_array().unwrap().len(), 20);
    let result = s.search(index, json!({"q": null, "limit": 3}));
    assert_eq!(result["hits"].as_array().unwrap().len(), 3);
    assert_eq!(result["query"], "");
    // An empty query is a placeholder search too.
    let result = s.search(index, json!({"q": "", "limit": 5}));
    assert_eq!(result["hits"].as_array().unwrap().len(), 5);
    assert_eq!(result["estimatedTotalHits"], MOVIES_COUNT);
}

#[test]
fn offset_and_limit_page_through_the_same_ranking() {
    let s = server();
    let index = movies_index();
    let all = hit_ids(&s.search(index, json!({"q": "love", "limit": 40})));
    assert!(all.len() >= 10, "too few hits for `love`: {all:?}");
    let page = hit_ids(&s.search(index, json!({"q": "love", "offset": 4, "limit": 5})));
    assert_eq!(page, all[4..9]);
    let result = s.search(index, json!({"q": "love", "limit": 0}));
    assert_eq!(result["hits"], json!([]));
    assert!(result["estimatedTotalHits"].as_u64().unwrap() >= 10);
    let result = s.search(index, json!({"q": "love", "offset": 100000}));
    assert_eq!(result["hits"], json!([]));
    // Placeholder pages are disjoint and cover the start of the index.
    let first = hit_ids(&s.search(index, json!({"limit": 10})));
    let second = hit_ids(&s.search(index, json!({"offset": 10, "limit": 10})));
    let both = hit_ids(&s.search(index, json!({"limit": 20})));
    assert_eq!([first, second].concat(), both);
}

#[test]
fn page_and_hits_per_page() {
    let s = server();
    let index = movies_index();
    let result = s.search(index, json!({"page": 2, "hitsPerPage": 25}));
    assert_eq!(
        sorted_keys(&result),
        [
            "hits",
            "hitsPerPage",
            "page",
            "processingTimeMs",
            "query",
            "totalHits",
            "totalPages"
        ]
    );
    assert_eq!(result["page"], 2);
    assert_eq!(result["hitsPerPage"], 25);
    // The index holds more documents than `maxTotalHits` (1000 by default).
    assert_eq!(result["totalHits"], 1000);
    assert_eq!(result["totalPages"], 40);
    assert_eq!(result["hits"].as_array().unwrap().len(), 25);
    let offset = hit_ids(&s.search(index, json!({"offset": 25, "limit": 25})));
    assert_eq!(hit_ids(&result), offset);

    // Only `page`: 20 hits a page.
    let result = s.search(index, json!({"page": 1}));
    assert_eq!(result["hitsPerPage"], 20);
    assert_eq!(result["totalPages"], 50);
    // Only `hitsPerPage`: the first page.
    let result = s
        .get(&format!("{}?hitsPerPage=3", search_path(index)))
        .expect(200);
    assert_eq!(result["page"], 1);
    assert_eq!(result["hits"].as_array().unwrap().len(), 3);
    // `hitsPerPage=0` counts without returning hits.
    let result = s.search(index, json!({"q": "love", "hitsPerPage": 0}));
    assert_eq!(result["hits"], json!([]));
    assert_eq!(result["totalPages"], 0);
    assert!(result["totalHits"].as_u64().unwrap() >= 10);
    // Past the last page.
    let result = s.search(index, json!({"page": 51}));
    assert_eq!(result["hits"], json!([]));
    assert_eq!(result["totalHits"], 1000);
    // A query with few matches has exact totals.
    let result = s.search(
        index,
        json!({"q": "The Dark Knight", "matchingStrategy": "all", "hitsPerPage": 1}),
    );
    let total = result["totalHits"].as_u64().unwrap();
    assert!(total >= 1);
    assert_eq!(result["totalPages"], total);
}

#[test]
fn max_total_hits_caps_pagination() {
    let s = server();
    let uid = unique_uid("search_max_total_hits");
    s.add_documents(&uid, some_movies(100));
    let task = s
        .patch(
            &format!("/indexes/{uid}/settings"),
            json!({"pagination": {"maxTotalHits": 10}}),
        )
        .task_uid();
    s.wait_ok(task);
    let result = s.search(&uid, json!({"hitsPerPage": 4}));
    assert_eq!(result["totalHits"], 10);
    assert_eq!(result["totalPages"], 3);
    let result = s.search(&uid, json!({"hitsPerPage": 4, "page": 3}));
    assert_eq!(result["hits"].as_array().unwrap().len(), 2);
    let result = s.search(&uid, json!({"hitsPerPage": 4, "page": 4}));
    assert_eq!(result["hits"], json!([]));
    let result = s.search(&uid, json!({"offset": 8, "limit": 5}));
    assert_eq!(result["hits"].as_array().unwrap().len(), 2);
    let result = s.search(&uid, json!({"limit": 50}));
    assert_eq!(result["hits"].as_array().unwrap().len(), 10);
}

#[test]
fn attributes_to_retrieve() {
    let s = server();
    let index = movies_index();
    let result = s.search(
        index,
        json!({"q": "inception", "attributesToRetrieve": ["title", "director"]}),
    );
    let hit = result["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["title"] == "Inception")
        .expect("Inception found");
    assert_eq!(
        hit,
        &json!({"title": "Inception", "director": "Christopher Nolan"})
    );

    let result = s.search(index, json!({"limit": 5, "attributesToRetrieve": ["*"]}));
    for hit in result["hits"].as_array().unwrap() {
        assert_eq!(hit, movie(hit["id"].as_u64().unwrap()));
    }
    let result = s.search(index, json!({"limit": 5, "attributesToRetrieve": []}));
    for hit in result["hits"].as_array().unwrap() {
        assert_eq!(hit, &json!({}));
    }
    let result = s.search(index, json!({"limit": 5, "attributesToRetrieve": ["nope"]}));
    for hit in result["hits"].as_array().unwrap() {
        assert_eq!(hit, &json!({}));
    }
}

#[test]
fn displayed_attributes_restrict_hits() {
    let s = server();
    let uid = unique_uid("search_displayed");
    s.add_documents(&uid, some_movies(50));
    let task = s
        .patch(
            &format!("/indexes/{uid}/settings"),
            json!({"displayedAttributes": ["id", "title", "release_year"]}),
        )
        .task_uid();
    s.wait_ok(task);
    let result = s.search(&uid, json!({"q": "Land Girls"}));
    assert!(hit_ids(&result).contains(&1));
    for hit in result["hits"].as_array().unwrap() {
        assert_eq!(sorted_keys(hit), ["id", "release_year", "title"]);
    }
    // Asking for a hidden attribute does not reveal it.
    let result = s.search(
        &uid,
        json!({"q": "Land Girls", "attributesToRetrieve": ["title", "distributor"]}),
    );
    for hit in result["hits"].as_array().unwrap() {
        assert_eq!(sorted_keys(hit), ["title"]);
    }
    // A hidden attribute is still searchable.
    let result = s.search(&uid, json!({"q": "Gramercy"}));
    assert!(hit_ids(&result).contains(&1));
}

#[test]
fn words_only_in_non_searchable_fields_do_not_match() {
    let s = server();
    let uid = unique_uid("search_searchable");
    s.add_documents(
        &uid,
        json!([
            {"id": 1, "title": "Memento", "director": "Christopher Nolan", "distributor": "Newmarket"},
            {"id": 2, "title": "Insomnia", "director": "Christopher Nolan", "distributor": "Warner Bros."},
            {"id": 3, "title": "Nolan Ryan: a pitcher's life", "director": "Someone Else"},
        ]),
    );
    let ids = |q: &str| {
        let mut ids = hit_ids(&s.search(&uid, json!({"q": q})));
        ids.sort_unstable();
        ids
    };
    assert_eq!(ids("nolan"), [1, 2, 3]);
    assert_eq!(ids("newmarket"), [1]);
    let task = s
        .put(
            &format!("/indexes/{uid}/settings/searchable-attributes"),
            json!(["title"]),
        )
        .task_uid();
    s.wait_ok(task);
    assert_eq!(ids("nolan"), [3]);
    assert_eq!(ids("newmarket"), Vec::<u64>::new());
    assert_eq!(ids("memento"), [1]);
    // Hits still carry every displayed field.
    let result = s.search(&uid, json!({"q": "memento"}));
    assert_eq!(result["hits"][0]["distributor"], "Newmarket");
}

#[test]
fn matching_strategy_all_requires_every_word() {
    let s = server();
    let uid = unique_uid("search_strategy");
    s.add_documents(
        &uid,
        json!([
            {"id": 1, "title": "dark knight"},
            {"id": 2, "title": "dark city"},
            {"id": 3, "title": "knight and day"},
        ]),
    );
    let ids = |body: Value| {
        let mut ids = hit_ids(&s.search(&uid, body));
        ids.sort_unstable();
        ids
    };
    assert_eq!(
        ids(json!({"q": "dark knight", "matchingStrategy": "all"})),
        [1]
    );
    assert_eq!(
        ids(json!({"q": "dark knight", "matchingStrategy": "last"})),
        [1, 2]
    );
    assert!(ids(json!({"q": "dark knight"})).contains(&1));
    assert_eq!(ids(json!({"q": "unrelated words"})), Vec::<u64>::new());
}

#[test]
fn invalid_search_parameters() {
    let s = server();
    let index = movies_index();
    let path = search_path(index);
    let post_cases = [
        (json!({"q": 1}), "invalid_search_q"),
        (json!({"q": ["a"]}), "invalid_search_q"),
        (json!({"limit": "10"}), "invalid_search_limit"),
        (json!({"limit": -1}), "invalid_search_limit"),
        (json!({"offset": "1"}), "invalid_search_offset"),
        (json!({"page": "2"}), "invalid_search_page"),
        (json!({"hitsPerPage": true}), "invalid_search_hits_per_page"),
        (
            json!({"attributesToRetrieve": "title"}),
            "invalid_search_attributes_to_retrieve",
        ),
        (
            json!({"matchingStrategy": "some"}),
            "invalid_search_matching_strategy",
        ),
        (
            json!({"matchingStrategy": 1}),
            "invalid_search_matching_strategy",
        ),
        (json!({"unknownParam": 1}), "bad_request"),
    ];
    let mut checks = ErrorChecks::new();
    for (body, code) in post_cases {
        let response = s.post(&path, body.clone());
        checks.check(&format!("POST {body}"), response, 400, code);
    }
    let get_cases = [
        ("limit=abc", "invalid_search_limit"),
        ("limit=-1", "invalid_search_limit"),
        ("offset=x", "invalid_search_offset"),
        ("page=x", "invalid_search_page"),
        ("hitsPerPage=x", "invalid_search_hits_per_page"),
        ("matchingStrategy=some", "invalid_search_matching_strategy"),
        ("unknownParam=1", "bad_request"),
    ];
    for (query, code) in get_cases {
        let response = s.get(&format!("{path}?{query}"));
        checks.check(&format!("GET {query}"), response, 400, code);
    }
    checks.finish();
    let body = assert_error(
        s.post(&path, json!({"limit": "10"})),
        400,
        "invalid_search_limit",
    );
    assert!(
        body["message"].as_str().unwrap().contains("limit"),
        "{body}"
    );
    assert_error(
        s.raw("POST", &path, Some("application/json"), "{\"q\": "),
        400,
        "malformed_payload",
    );
    assert_error(
        s.raw("POST", &path, Some("application/json"), ""),
        400,
        "missing_payload",
    );
    assert_error(
        s.raw("POST", &path, Some("text/plain"), "{}"),
        415,
        "invalid_content_type",
    );
    assert_error(s.post(&path, json!(["q"])), 400, "bad_request");
}

#[test]
fn filters_and_sorting_are_refused_precisely_until_supported() {
    let s = server();
    let index = movies_index();
    let malformed = assert_error(
        s.post(
            &search_path(index),
            json!({"q": "love", "filter": "release_year >"}),
        ),
        400,
        "invalid_search_filter",
    );
    let message = malformed["message"].as_str().unwrap();
    assert!(message.contains("release_year >"), "{message}");
    assert!(
        message.contains(':'),
        "the message points at a position: {message}"
    );
    let well_formed = assert_error(
        s.post(
            &search_path(index),
            json!({"q": "love", "filter": [["genre = Drama", "genre = Comedy"], "release_year > 2000"]}),
        ),
        400,
        "invalid_search_filter",
    );
    assert!(
        well_formed["message"].as_str().unwrap().contains("`genre`"),
        "{well_formed}"
    );
    assert_error(
        s.post(&search_path(index), json!({"sort": ["release_year:desc"]})),
        400,
        "invalid_search_sort",
    );
    let documents = assert_error(
        s.post(
            &format!("/indexes/{index}/documents/fetch"),
            json!({"filter": "id = 1"}),
        ),
        400,
        "invalid_document_filter",
    );
    assert!(
        documents["message"].as_str().unwrap().contains("`id`"),
        "{documents}"
    );
    // An empty filter filters nothing and is accepted.
    s.post(&search_path(index), json!({"q": "love", "filter": ""}))
        .expect(200);
}

/// Searches and multi-searches sent at once from several clients (some run on the request's
/// worker thread, the others on the blocking pool) answer exactly as the same requests sent one
/// by one, and the server keeps answering other requests meanwhile.
#[test]
fn concurrent_searches_answer_like_sequential_ones() {
    let s = server();
    let index = movies_index();
    let bodies: Vec<Value> = [
        "lo",
        "love",
        "star wa",
        "the",
        "matrx",
        "a",
        "dark knight",
        "zzqx",
    ]
    .iter()
    .map(|q| json!({"q": q, "limit": 10, "attributesToHighlight": ["title"]}))
    .collect();
    let answer = |body: &Value| {
        let mut result = s.search(index, body.clone());
        result.as_object_mut().unwrap().remove("processingTimeMs");
        result
    };
    // Two searches in one multi-search (what InstantSearch sends), run the same way.
    let multi = |i: usize| {
        let queries: Vec<Value> = [i, (i + 1) % bodies.len()]
            .iter()
            .map(|&j| {
                let mut query = bodies[j].clone();
                query["indexUid"] = json!(index);
                query
            })
            .collect();
        let mut result = s
            .post("/multi-search", json!({ "queries": queries }))
            .expect(200);
        for r in result["results"].as_array_mut().unwrap() {
            r.as_object_mut().unwrap().remove("processingTimeMs");
        }
        result
    };
    let expected: Vec<Value> = bodies.iter().map(answer).collect();
    let expected_multi: Vec<Value> = (0..bodies.len()).map(multi).collect();
    for (i, result) in expected_multi.iter().enumerate() {
        let mut alone = expected[i].clone();
        alone["indexUid"] = json!(index);
        assert_eq!(result["results"][0], alone);
    }
    std::thread::scope(|scope| {
        for client in 0..6 {
            let (bodies, expected, answer) = (&bodies, &expected, &answer);
            let (expected_multi, multi) = (&expected_multi, &multi);
            scope.spawn(move || {
                for round in 0..15 {
                    let i = (client + round) % bodies.len();
                    if (client + round) % 3 == 0 {
                        assert_eq!(multi(i), expected_multi[i], "{}", bodies[i]);
                    } else {
                        assert_eq!(answer(&bodies[i]), expected[i], "{}", bodies[i]);
                    }
                }
            });
        }
        scope.spawn(|| {
            for _ in 0..20 {
                assert_eq!(s.get("/health").expect(200)["status"], "available");
            }
        });
    });
}

/// The response as its bytes were ordered, one line per hit then one for the rest, without
/// `processingTimeMs`: a `Value` keeps the order of keys, and writing it again keeps the text
/// of numbers and strings.
fn ordered_lines(body: &Value) -> Vec<String> {
    let results = match body.get("results") {
        Some(Value::Array(results)) => results.clone(),
        _ => vec![body.clone()],
    };
    let mut lines = Vec::new();
    for mut result in results {
        let result = result.as_object_mut().unwrap();
        result.remove("processingTimeMs");
        if let Some(Value::Array(hits)) = result.remove("hits") {
            lines.extend(hits.iter().map(|hit| serde_json::to_string(hit).unwrap()));
        }
        lines.push(serde_json::to_string(result).unwrap());
    }
    lines
}

/// Asserts two responses read the same, line by line (a failure shows the first hit that
/// differs, not the whole response).
#[track_caller]
fn assert_same_text(written: &Value, built: &Value, what: &str) {
    let (written, built) = (ordered_lines(written), ordered_lines(built));
    for (line, (w, b)) in written.iter().zip(&built).enumerate() {
        assert_eq!(w, b, "{what}: line {line}");
    }
    assert_eq!(written.len(), built.len(), "{what}");
}

/// Hits that show their whole document are written from the stored bytes; hits built field by
/// field (here forced by naming every field in `attributesToRetrieve`) must read the same, in
/// the same order, with the same added fields, for `/search` and for `/multi-search`.
#[test]
fn hits_written_from_stored_bytes_read_as_hits_built_field_by_field() {
    let server = server();
    let uid = unique_uid("write_through");
    let mut documents: Vec<Value> = movies().iter().take(300).cloned().collect();
    documents.extend([
        json!({"id": 90001, "title": "quote \" backslash \\ tab \t bell \u{7} é 日本 😀",
               "n": [1.5, -0.0, 1e300, 12345678901234567890u64, -9007199254740993i64],
               "nested": {"deep": {"deeper": [null, true, {"x": "y"}]}}, "empty": {},
               "_geo": {"lat": 48.85, "lng": 2.35}}),
        json!({"id": 90002, "title": "quote field named like a score", "_rankingScore": "mine"}),
        json!({"id": 90003, "title": "quote with vectors", "_vectors": {"manual": [0.5, 0.25]}}),
        json!({"id": 90004, "title": "quote \"_rankingScore\" inside a value"}),
    ]);
    let task = server
        .post(
            &format!("/indexes/{uid}/documents"),
            Value::Array(documents),
        )
        .task_uid();
    server.wait_ok(task);
    let task = server
        .patch(
            &format!("/indexes/{uid}/settings"),
            json!({"sortableAttributes": ["_geo", "id"], "filterableAttributes": ["id"]}),
        )
        .task_uid();
    server.wait_ok(task);
    let mut every_field: Vec<String> = Vec::new();
    for document in server.all_documents(&uid) {
        for key in document.as_object().unwrap().keys() {
            if !every_field.contains(key) {
                every_field.push(key.clone());
            }
        }
    }
    every_field.push("_vectors".into());
    let searches = [
        json!({"q": "", "limit": 400}),
        json!({"q": "quote", "showRankingScore": true}),
        json!({"q": "the", "showRankingScore": true, "showRankingScoreDetails": true,
               "retrieveVectors": true, "limit": 50}),
        json!({"q": "quote", "retrieveVectors": true}),
        json!({"q": "", "sort": ["_geoPoint(48.8, 2.3):asc"], "limit": 5, "showRankingScore": true}),
        json!({"q": "", "filter": "id > 90000", "sort": ["id:desc"], "page": 1, "hitsPerPage": 3}),
    ];
    for search in &searches {
        let mut field_by_field = search.clone();
        field_by_field["attributesToRetrieve"] = json!(every_field);
        let written = server.search(&uid, search.clone());
        assert!(
            written["hits"]
                .as_array()
                .is_some_and(|hits| !hits.is_empty()),
            "{search} found nothing"
        );
        let built = server.search(&uid, field_by_field);
        assert_same_text(&written, &built, &search.to_string());
    }
    // The weird document is shown whole, its text as it was sent.
    let weird = server.search(&uid, json!({"q": "", "filter": "id = 90001"}));
    assert_eq!(weird["hits"][0]["n"][3], json!(12345678901234567890u64));
    assert_eq!(weird["hits"][0]["nested"]["deep"]["deeper"][2]["x"], "y");
    // A document's own field named like an added one keeps its place and takes the value.
    let scored = server.search(
        &uid,
        json!({"q": "", "filter": "id = 90002", "showRankingScore": true}),
    );
    let keys: Vec<&String> = scored["hits"][0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "title", "_rankingScore"]);
    assert_eq!(scored["hits"][0]["_rankingScore"], 1.0);
    let text = server.post_text(
        &search_path(&uid),
        json!({"q": "", "filter": "id = 90002", "showRankingScore": true}),
    );
    assert_eq!(text.matches("\"_rankingScore\"").count(), 1, "{text}");
    // Stored `_vectors` are never shown unless asked for.
    let vectors = server.search(&uid, json!({"q": "", "filter": "id = 90003"}));
    assert!(vectors["hits"][0].get("_vectors").is_none());

    let queries = |extra: Option<&Value>| {
        let queries: Vec<Value> = searches
            .iter()
            .map(|search| {
                let mut query = search.clone();
                query["indexUid"] = json!(uid);
                if let Some(fields) = extra {
                    query["attributesToRetrieve"] = fields.clone();
                }
                query
            })
            .collect();
        json!({ "queries": queries })
    };
    let written = server.post("/multi-search", queries(None)).expect(200);
    let built = server
        .post("/multi-search", queries(Some(&json!(every_field))))
        .expect(200);
    assert_eq!(written["results"].as_array().unwrap().len(), searches.len());
    assert_same_text(&written, &built, "multi-search");
}

/// The ids of a search's hits.
fn hit_ids(result: &Value) -> Vec<u64> {
    result["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_u64().unwrap())
        .collect()
}

/// Empty and one- or two-letter queries are answered again from the answer kept for the same
/// request on the same snapshot: repeated, they answer the same; after a settings change (which
/// leaves the documents alone), an addition and a deletion, they answer what the index now
/// holds, never what was kept before.
#[test]
fn kept_answers_of_short_queries_follow_changes() {
    let s = server();
    let uid = unique_uid("search_kept_answers");
    s.add_documents(&uid, some_movies(300));
    let dates = |result: &Value| -> Vec<i64> {
        result["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["release_ts"].as_i64().unwrap())
            .collect()
    };
    let newest_first = |dates: &[i64]| dates.windows(2).all(|w| w[0] >= w[1]);
    let short = [json!({"q": "s"}), json!({"q": "th", "limit": 5}), json!({})];
    let first: Vec<Value> = short.iter().map(|b| s.search(&uid, b.clone())).collect();
    for (body, answer) in short.iter().zip(&first) {
        let again = s.search(&uid, body.clone());
        assert_eq!(again["hits"], answer["hits"], "{body}");
        assert_eq!(again["estimatedTotalHits"], answer["estimatedTotalHits"]);
    }
    assert!(
        !newest_first(&dates(&first[0])),
        "the default order is not by date"
    );

    let task = s
        .patch(
            &format!("/indexes/{uid}/settings"),
            json!({"rankingRules": ["release_ts:desc", "words", "typo", "proximity"]}),
        )
        .task_uid();
    s.wait_ok(task);
    let by_date = s.search(&uid, json!({"q": "s"}));
    assert!(newest_first(&dates(&by_date)), "{:?}", dates(&by_date));
    assert_eq!(
        by_date["estimatedTotalHits"],
        first[0]["estimatedTotalHits"]
    );

    let newest = dates(&by_date)[0] + 1;
    s.add_documents(
        &uid,
        json!([{"id": 999_999_001u64, "title": "Sunrise again", "release_ts": newest}]),
    );
    let added = s.search(&uid, json!({"q": "s"}));
    assert_eq!(hit_ids(&added)[0], 999_999_001);
    let placeholder = s.search(&uid, json!({}));
    assert_eq!(placeholder["estimatedTotalHits"], 301);

    let task = s
        .delete(&format!("/indexes/{uid}/documents/999999001"))
        .task_uid();
    s.wait_ok(task);
    assert_eq!(s.search(&uid, json!({"q": "s"}))["hits"], by_date["hits"]);
    assert_eq!(s.search(&uid, json!({}))["estimatedTotalHits"], 300);
}
