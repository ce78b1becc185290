//! In-process benchmark of the faceted requests of the filters issue on the 886k-document PyPI
//! corpus (filter, facet distribution, sort, and the combined request of the performance
//! issue), so that the cost of filters, facets and sort at scale can be measured without HTTP.
//!
//! `cargo bench -p quarry-engine --bench pypi_requests` (divan prints min/median/mean per case).
//! The index is built on the first run into `QUARRY_BENCH_PYPI_DIR` (default
//! `target/bench-pypi`) and reused afterwards; delete that directory to rebuild it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Instant;

use quarry_engine::filter::parse_filter;
use quarry_engine::search::SearchRequest;
use quarry_engine::settings::{FilterableRule, IndexSettings};
use quarry_engine::{AddMethod, Index, IndexOptions};

fn main() {
    // The first searches that need each field's values, timed once: with facet columns
    // (`search/columns.rs`) this includes reading them from the facet terms.
    let index = &*INDEX;
    for (what, request) in [
        ("facets on year", request("", "", &["year"], &[])),
        ("facets on released", request("", "", &["released"], &[])),
        (
            "python sorted by popularity_rank",
            request("python", "", &[], &["popularity_rank:asc"]),
        ),
    ] {
        let started = Instant::now();
        index.search(&request).unwrap();
        eprintln!("first search, {what}: {:?}", started.elapsed());
    }
    divan::main();
}

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

fn names(json: &serde_json::Value, key: &str) -> Vec<String> {
    json[key]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The PyPI index with the corpus's settings, opened from the bench directory or built there.
static INDEX: LazyLock<Index> = LazyLock::new(|| {
    let dir = std::env::var_os("QUARRY_BENCH_PYPI_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-pypi"));
    let path = dir.join("pypi");
    if path.join("meta.json").exists() {
        return Index::open(&path, IndexOptions::default()).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    let index =
        Index::create_empty(&path, Some("id".into()), None, IndexOptions::default()).unwrap();
    let text = std::fs::read_to_string(shared().join("data/pypi.settings.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let settings = IndexSettings {
        searchable_attributes: Some(names(&json, "searchableAttributes")),
        filterable_attributes: names(&json, "filterableAttributes")
            .into_iter()
            .map(FilterableRule::Field)
            .collect(),
        sortable_attributes: names(&json, "sortableAttributes").into_iter().collect(),
        ..IndexSettings::default()
    };
    let mut batch = index.write(false).unwrap();
    batch.set_settings(settings).unwrap();
    batch.commit(0, Default::default()).unwrap();
    let payload = dir.join("pypi.ndjson");
    {
        let gz = std::fs::File::open(shared().join("data/pypi.ndjson.gz"))
            .expect("../shared/data/pypi.ndjson.gz is needed by this benchmark");
        let mut reader = std::io::BufReader::new(flate2::read::GzDecoder::new(gz));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&payload).unwrap());
        std::io::copy(&mut reader, &mut out).unwrap();
        out.flush().unwrap();
    }
    let started = Instant::now();
    let mut batch = index.write(false).unwrap();
    batch
        .add_documents(&payload, AddMethod::Replace, None)
        .unwrap();
    batch.commit(1, Default::default()).unwrap();
    eprintln!("pypi: indexed in {:?}", started.elapsed());
    std::fs::remove_file(&payload).ok();
    index
});

fn search(request: SearchRequest) -> u64 {
    INDEX.search(&request).unwrap().candidates
}

fn request(q: &str, filter: &str, facets: &[&str], sort: &[&str]) -> SearchRequest {
    SearchRequest {
        query: (!q.is_empty()).then(|| q.to_string()),
        filter: parse_filter(filter).unwrap(),
        facets: (!facets.is_empty()).then(|| facets.iter().map(|f| f.to_string()).collect()),
        sort: (!sort.is_empty()).then(|| sort.iter().map(|s| s.to_string()).collect()),
        limit: 20,
        ..Default::default()
    }
}

/// `crates/bench/requests/pypi-filter.json`.
#[divan::bench]
fn filter_year_and_rank() -> u64 {
    search(request(
        "",
        "year >= 2020 AND popularity_rank < 5000",
        &[],
        &[],
    ))
}

/// Filters of several selectivities, each alone on a placeholder search.
#[divan::bench(args = ["year >= 2020", "popularity_rank < 5000", "popularity_rank 1000 TO 400000", "released = \"2021-03\"", "year != 2019"])]
fn filter_alone(filter: &str) -> u64 {
    search(request("", filter, &[], &[]))
}

/// `crates/bench/requests/pypi-facets.json`, and the same facets alone.
#[divan::bench(args = ["year", "released", "popularity_rank"])]
fn facets_of_python(facet: &str) -> u64 {
    search(request("python", "", &[facet], &[]))
}

/// The query of the facet request without facets: the share of facet counting.
#[divan::bench]
fn python_without_facets() -> u64 {
    search(request("python", "", &[], &[]))
}

/// Placeholder facets: every document counted.
#[divan::bench(args = ["year", "released"])]
fn facets_of_everything(facet: &str) -> u64 {
    search(request("", "", &[facet], &[]))
}

/// `pypi-sort.json` (placeholder) and `pypi-search-sort.json` (`python`).
#[divan::bench(args = ["", "python", "data"])]
fn sort_by_rank(q: &str) -> u64 {
    search(request(q, "", &[], &["popularity_rank:asc"]))
}

/// The combined request of the performance issue: `data`, facets on `year` and `released`,
/// `year > 2015`, sorted by `popularity_rank`.
#[divan::bench]
fn combined_data_request() -> u64 {
    search(request(
        "data",
        "year > 2015",
        &["year", "released"],
        &["popularity_rank:asc"],
    ))
}
