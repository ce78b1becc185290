//! `distinct` (the `distinctAttribute` setting and the search parameter) over real HTTP on the
//! real corpora. The reference is the same search without distinct, every hit asked for, then
//! walked in rank order keeping a hit only when no kept hit shares one of its values: what
//! Meilisearch documents. Pagination, hit counts and facet counts are checked against that
//! reference list, as are arrays (debian `tags`), the setting against the parameter, the
//! multi-search routes and the error for an attribute that is not filterable.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use common::*;
use serde_json::{json, Value};

const DEBIAN_SLICE: usize = 12_000;

/// Creates an index with `settings`, loads `docs`, and returns its uid.
fn load(prefix: &str, settings: Value, docs: &[Value]) -> String {
    let server = server();
    let uid = unique_uid(prefix);
    server.create_index(&uid, Some("id"));
    wait_long(
        server
            .patch(&format!("/indexes/{uid}/settings"), settings)
            .task_uid(),
    );
    let body: Vec<u8> = docs
        .iter()
        .flat_map(|d| {
            let mut line = serde_json::to_vec(d).unwrap();
            line.push(b'\n');
            line
        })
        .collect();
    let task = server
        .raw(
            "POST",
            &format!("/indexes/{uid}/documents"),
            Some("application/x-ndjson"),
            body,
        )
        .task_uid();
    wait_long(task);
    uid
}

fn debian_docs() -> &'static [Value] {
    static DOCS: OnceLock<Vec<Value>> = OnceLock::new();
    DOCS.get_or_init(|| read_corpus("debian", DEBIAN_SLICE))
}

fn debian_index() -> &'static str {
    static UID: OnceLock<String> = OnceLock::new();
    UID.get_or_init(|| {
        load(
            "distinct_debian",
            json!({
                "searchableAttributes": ["package", "summary"],
                "filterableAttributes": ["section", "priority", "tags"],
                "sortableAttributes": ["installed_size_kb", "id"],
                "pagination": {"maxTotalHits": 100000},
                // The reference is the full ranked list: no cut-off on a busy debug build.
                "searchCutoffMs": 600000
            }),
            debian_docs(),
        )
    })
}

fn by_id(docs: &[Value]) -> BTreeMap<u64, &Value> {
    docs.iter()
        .map(|d| (d["id"].as_u64().unwrap(), d))
        .collect()
}

/// The values of `field` in a document, as distinct compares them (strings trimmed and
/// lowercased, numbers apart from strings); arrays give one value per item.
fn distinct_values(doc: &Value, field: &str) -> Vec<String> {
    let one = |v: &Value| match v {
        Value::String(s) => Some(format!("s:{}", s.trim().to_lowercase())),
        Value::Number(n) => Some(format!("n:{}", n.as_f64().unwrap())),
        Value::Bool(b) => Some(format!("s:{b}")),
        _ => None,
    };
    match doc.get(field) {
        Some(Value::Array(items)) => items.iter().filter_map(one).collect(),
        Some(v) => one(v).into_iter().collect(),
        None => Vec::new(),
    }
}

/// The reference: `ranked` walked in order, a hit kept unless a kept hit shares a value.
fn reference(ranked: &[u64], docs: &BTreeMap<u64, &Value>, field: &str) -> Vec<u64> {
    let mut used: HashSet<String> = HashSet::new();
    let mut kept = Vec::new();
    for id in ranked {
        let values = distinct_values(docs[id], field);
        if values.iter().any(|v| used.contains(v)) {
            continue;
        }
        used.extend(values);
        kept.push(*id);
    }
    kept
}

/// Every hit of a search, in rank order.
fn all_hits(index: &str, mut body: Value) -> Vec<u64> {
    body["limit"] = json!(100_000);
    let answer = server().search(index, body);
    assert!(
        answer.get("degraded").is_none(),
        "a degraded answer is no reference"
    );
    hit_ids(&answer)
}

#[test]
fn distinct_parameter_keeps_the_best_hit_per_section() {
    let index = debian_index();
    let docs = by_id(debian_docs());
    let searches = [
        json!({"q": "python"}),
        json!({"q": "library development"}),
        json!({"q": "game", "filter": "priority = optional"}),
        json!({"sort": ["installed_size_kb:desc", "id:asc"]}),
        json!({"q": "gnome", "sort": ["id:desc"]}),
    ];
    for search in searches {
        let ranked = all_hits(index, search.clone());
        let expected = reference(&ranked, &docs, "section");
        assert!(
            expected.len() > 5 && expected.len() < ranked.len(),
            "{search}: a weak case ({} of {})",
            expected.len(),
            ranked.len()
        );
        let mut with = search.clone();
        with["distinct"] = json!("section");
        assert_eq!(all_hits(index, with.clone()), expected, "{search}");

        // Pages are cut from the deduplicated list, and the totals count it.
        with["limit"] = json!(3);
        with["offset"] = json!(4);
        let page = server().search(index, with.clone());
        assert_eq!(hit_ids(&page), expected[4..7].to_vec(), "{search}");
        assert_eq!(
            page["estimatedTotalHits"],
            json!(expected.len()),
            "{search}"
        );
        let mut paged = search.clone();
        paged["distinct"] = json!("section");
        paged["page"] = json!(2);
        paged["hitsPerPage"] = json!(4);
        let page = server().search(index, paged);
        assert_eq!(hit_ids(&page), expected[4..8].to_vec(), "{search}");
        assert_eq!(page["totalHits"], json!(expected.len()), "{search}");
        assert_eq!(
            page["totalPages"],
            json!(expected.len().div_ceil(4)),
            "{search}"
        );
    }
}

#[test]
fn facet_distribution_counts_the_distinct_hits() {
    let index = debian_index();
    let docs = by_id(debian_docs());
    let search = json!({"q": "library"});
    let expected = reference(&all_hits(index, search.clone()), &docs, "section");
    let body = server().search(
        index,
        json!({"q": "library", "distinct": "section", "page": 1, "hitsPerPage": 100000,
               "facets": ["priority", "section"]}),
    );
    assert_eq!(hit_ids(&body), expected);
    let mut priorities: BTreeMap<String, u64> = BTreeMap::new();
    for id in &expected {
        if let Some(p) = docs[id]["priority"].as_str() {
            *priorities.entry(p.to_string()).or_default() += 1;
        }
    }
    let counted: BTreeMap<String, u64> = body["facetDistribution"]["priority"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(counted, priorities);
    // Each section is one hit.
    let sections = body["facetDistribution"]["section"].as_object().unwrap();
    assert!(sections.len() > 5);
    assert!(sections.values().all(|c| c == 1), "{sections:?}");
}

#[test]
fn arrays_exclude_every_hit_sharing_one_value() {
    let index = debian_index();
    let docs = by_id(debian_docs());
    for q in ["game", "editor", "server"] {
        let ranked = all_hits(index, json!({ "q": q }));
        let expected = reference(&ranked, &docs, "tags");
        assert!(expected.len() > 3 && expected.len() < ranked.len(), "{q}");
        // Documents without tags are all kept.
        assert!(
            expected
                .iter()
                .any(|id| distinct_values(docs[id], "tags").is_empty())
                || ranked
                    .iter()
                    .all(|id| !distinct_values(docs[id], "tags").is_empty())
        );
        assert_eq!(
            all_hits(index, json!({ "q": q, "distinct": "tags" })),
            expected,
            "{q}"
        );
    }
}

fn movies_index() -> &'static str {
    static UID: OnceLock<String> = OnceLock::new();
    UID.get_or_init(|| {
        load(
            "distinct_movies",
            json!({
                "searchableAttributes": ["title", "director", "distributor"],
                "filterableAttributes": ["major_genre", "mpaa_rating"],
                "sortableAttributes": ["imdb_rating", "id"],
                // Not filterable: the setting accepts it, the parameter does not.
                "distinctAttribute": "director",
                "pagination": {"maxTotalHits": 100000},
                "searchCutoffMs": 600000
            }),
            movies(),
        )
    })
}

#[test]
fn the_parameter_overrides_the_setting() {
    let index = movies_index();
    let docs = by_id(movies());
    // Changing the setting re-indexes, which may reorder documents the rules tie: these
    // searches order every document (the id decides last).
    for search in [
        json!({"q": "the", "sort": ["id:asc"]}),
        json!({"sort": ["imdb_rating:desc", "id:asc"]}),
    ] {
        // Without the parameter, the setting (director) applies.
        let setting = all_hits(index, search.clone());
        let mut by_genre = search.clone();
        by_genre["distinct"] = json!("major_genre");
        let genre = all_hits(index, by_genre);
        // The reference needs the full ranked list: take the setting away for a moment.
        let task = server()
            .delete(&format!("/indexes/{index}/settings/distinct-attribute"))
            .task_uid();
        server().wait_ok(task);
        let ranked = all_hits(index, search.clone());
        let task = server()
            .put(
                &format!("/indexes/{index}/settings/distinct-attribute"),
                json!("director"),
            )
            .task_uid();
        server().wait_ok(task);
        assert!(setting.len() < ranked.len(), "{search}");
        assert_eq!(setting, reference(&ranked, &docs, "director"), "{search}");
        assert_eq!(genre, reference(&ranked, &docs, "major_genre"), "{search}");
    }
}

#[test]
fn distinct_on_an_attribute_that_is_not_filterable_is_refused() {
    let index = movies_index();
    let body = assert_error(
        server().post(
            &format!("/indexes/{index}/search"),
            json!({"q": "the", "distinct": "director"}),
        ),
        400,
        "invalid_search_distinct",
    );
    assert_eq!(
        body["message"],
        "Attribute `director` is not filterable and thus, cannot be used as distinct attribute. Available filterable attributes patterns are: `major_genre, mpaa_rating`."
    );
    let body = assert_error(
        server().get(&format!("/indexes/{index}/search?q=the&distinct=title")),
        400,
        "invalid_search_distinct",
    );
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("Attribute `title` is not filterable"));

    let empty = unique_uid("distinct_empty");
    server().create_index(&empty, Some("id"));
    let body = assert_error(
        server().post(
            &format!("/indexes/{empty}/search"),
            json!({"distinct": "doggo.truc"}),
        ),
        400,
        "invalid_search_distinct",
    );
    assert_eq!(
        body["message"],
        "Attribute `doggo.truc` is not filterable and thus, cannot be used as distinct attribute. This index does not have configured filterable attributes."
    );
    assert_error(
        server().post(
            &format!("/indexes/{empty}/search"),
            json!({"distinct": true}),
        ),
        400,
        "invalid_search_distinct",
    );
}

#[test]
fn multi_search_and_federation_apply_distinct() {
    let index = debian_index();
    let docs = by_id(debian_docs());
    let expected = reference(&all_hits(index, json!({"q": "python"})), &docs, "section");
    let body = server()
        .post(
            "/multi-search",
            json!({"queries": [
                {"indexUid": index, "q": "python", "distinct": "section", "limit": 100000},
                {"indexUid": index, "q": "python", "distinct": "priority", "limit": 3},
            ]}),
        )
        .expect(200);
    assert_eq!(hit_ids(&body["results"][0]), expected);
    assert_eq!(
        body["results"][0]["estimatedTotalHits"],
        json!(expected.len())
    );
    let priorities: HashSet<String> = hit_ids(&body["results"][1])
        .iter()
        .map(|id| docs[id]["priority"].to_string())
        .collect();
    assert_eq!(priorities.len(), hit_ids(&body["results"][1]).len());

    let body = server()
        .post(
            "/multi-search",
            json!({"federation": {"limit": 100000},
                   "queries": [{"indexUid": index, "q": "python", "distinct": "section"}]}),
        )
        .expect(200);
    assert_eq!(hit_ids(&body), expected);
    assert_eq!(body["estimatedTotalHits"], json!(expected.len()));
}
