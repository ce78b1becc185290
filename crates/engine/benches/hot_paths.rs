//! In-process micro-benchmarks of the engine's hot paths (analysis, payload parsing, filter
//! parsing, term expansion and bucket sort, filter evaluation, facet counting, sort) on the real
//! Debian corpus, so that an optimisation can be measured without HTTP or a second process.
//!
//! `cargo bench -p quarry-engine --bench hot_paths` (divan prints min/median/mean per case).
//! The index is built once per run in a temporary directory from `shared/data/debian.ndjson.gz`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use quarry_engine::analysis::Analyzer;
use quarry_engine::documents::{normalize_payload, PayloadFormat};
use quarry_engine::filter::parse_filter;
use quarry_engine::search::SearchRequest;
use quarry_engine::settings::{FilterableRule, IndexSettings};
use quarry_engine::{AddMethod, Index, IndexOptions};

fn main() {
    divan::main();
}

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// The Debian corpus as NDJSON bytes.
static DEBIAN: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let gz = std::fs::File::open(shared().join("data/debian.ndjson.gz"))
        .expect("../shared/data/debian.ndjson.gz is needed by the benchmarks");
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut out)
        .unwrap();
    out
});

/// The Debian index with the corpus's settings (searchable, filterable, sortable), built once.
static INDEX: LazyLock<(tempfile::TempDir, Index)> = LazyLock::new(|| {
    let dir = tempfile::TempDir::new().unwrap();
    let index = Index::create_empty(
        &dir.path().join("debian"),
        Some("id".into()),
        None,
        IndexOptions::default(),
    )
    .unwrap();
    let text = std::fs::read_to_string(shared().join("data/debian.settings.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let names = |key: &str| -> Vec<String> {
        json[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let settings = IndexSettings {
        searchable_attributes: Some(names("searchableAttributes")),
        filterable_attributes: names("filterableAttributes")
            .into_iter()
            .map(FilterableRule::Field)
            .collect(),
        sortable_attributes: names("sortableAttributes").into_iter().collect(),
        ..IndexSettings::default()
    };
    let mut batch = index.write(false).unwrap();
    batch.set_settings(settings).unwrap();
    batch.commit(0, Default::default()).unwrap();
    let payload = dir.path().join("debian.ndjson");
    std::fs::write(&payload, &*DEBIAN).unwrap();
    let mut batch = index.write(false).unwrap();
    batch
        .add_documents(&payload, AddMethod::Replace, None)
        .unwrap();
    batch.commit(1, Default::default()).unwrap();
    (dir, index)
});

/// Long descriptions: the text the analyzer spends most of its indexing time on.
static DESCRIPTIONS: LazyLock<Vec<String>> = LazyLock::new(|| {
    DEBIAN
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .take(2_000)
        .map(|l| {
            let doc: serde_json::Value = serde_json::from_slice(l).unwrap();
            doc["description"].as_str().unwrap_or_default().to_string()
        })
        .collect()
});

#[divan::bench]
fn analysis_2000_descriptions(bencher: divan::Bencher) {
    let analyzer = Analyzer::new(&IndexSettings::default());
    let texts = &*DESCRIPTIONS;
    bencher.bench(|| {
        let mut tokens = 0usize;
        for text in texts {
            analyzer.for_each_token(text, |_| tokens += 1);
        }
        tokens
    });
}

#[divan::bench]
fn parse_ndjson_payload_debian(bencher: divan::Bencher) {
    let bytes = &*DEBIAN;
    bencher.bench(|| {
        let mut out = Vec::with_capacity(bytes.len());
        normalize_payload(PayloadFormat::Ndjson, bytes.as_slice(), &mut out).unwrap()
    });
}

const FILTERS: &[&str] = &[
    "section = games",
    "installed_size_kb > 1000 AND installed_size_kb <= 50000",
    "(section = games OR section = sound) AND NOT priority = optional",
    "tags IN [\"role::program\", \"use::playing\"] AND architecture EXISTS",
    "maintainer IS NOT EMPTY AND installed_size_kb 100 TO 2000",
];

#[divan::bench(args = FILTERS)]
fn filter_parse(filter: &str) -> bool {
    parse_filter(divan::black_box(filter)).unwrap().is_some()
}

fn search(request: SearchRequest) -> u64 {
    let (_, index) = &*INDEX;
    index.search(&request).unwrap().candidates
}

fn query(q: &str) -> SearchRequest {
    SearchRequest {
        query: Some(q.to_string()),
        limit: 20,
        ..Default::default()
    }
}

/// Term expansion and bucket sort: one word, a prefix, typos, several words.
#[divan::bench(args = ["audio", "aud", "pyhton", "python library for", "network file system client"])]
fn search_words(q: &str) -> u64 {
    search(query(q))
}

/// Filter evaluation on a placeholder search.
#[divan::bench(args = FILTERS)]
fn search_filter(filter: &str) -> u64 {
    let filter = parse_filter(filter).unwrap();
    search(SearchRequest {
        filter,
        limit: 20,
        ..Default::default()
    })
}

/// Facet counting over all candidates of a common word.
#[divan::bench(args = ["section", "tags"])]
fn search_facets(facet: &str) -> u64 {
    search(SearchRequest {
        facets: Some(vec![facet.to_string()]),
        ..query("library")
    })
}

/// Sort by a numeric attribute, with and without a query.
#[divan::bench(args = ["", "library"])]
fn search_sort(q: &str) -> u64 {
    search(SearchRequest {
        sort: Some(vec!["installed_size_kb:desc".to_string()]),
        ..query(q)
    })
}
