//! The relevance benchmark on the real corpora, in-process: load `shared/data/NAME.ndjson.gz`
//! with its settings, run `shared/queries/NAME.dev.jsonl`, and print hit@1, hit@10 and MRR@10
//! per query kind and overall, plus the mean search time. It needs the big corpora, so it only
//! runs when asked:
//!
//! `QUARRY_RELEVANCE=movies cargo test -p quarry-engine --release relevance -- --nocapture`
//!
//! (`QUARRY_RELEVANCE=movies,airports,debian,pypi` for several; `QUARRY_RELEVANCE_DIR=/path`
//! keeps the built indexes there and reuses them; `QUARRY_KEYSTROKES=1` also replays
//! `NAME.dev.keystrokes.txt`, every prefix a search box sends, and prints latency percentiles;
//! `QUARRY_KEYSTROKES_ONLY=1` skips the relevance queries, `QUARRY_KEYSTROKES_FILE=FILE`
//! replays another list, `QUARRY_KEYSTROKES_OUT=FILE` writes each keystroke's time in
//! microseconds and its query, in replay order.)

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{SearchRequest, SearchResult};
use crate::index::{AddMethod, Index, IndexOptions};
use crate::settings::IndexSettings;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// The settings of a corpus, from the Meilisearch-shaped settings file (the parts that shape
/// search: searchable attributes, ranking rules, typo tolerance is left at its defaults).
fn settings_of(corpus: &str) -> IndexSettings {
    let text =
        std::fs::read_to_string(shared().join(format!("data/{corpus}.settings.json"))).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    let mut settings = IndexSettings::default();
    if let Some(list) = json["searchableAttributes"].as_array() {
        settings.searchable_attributes = Some(
            list.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
        );
    }
    settings
}

fn open_or_build(corpus: &str, dir: &Path) -> Index {
    let path = dir.join(corpus);
    if path.join("meta.json").exists() {
        return Index::open(&path, IndexOptions::default()).unwrap();
    }
    let index =
        Index::create_empty(&path, Some("id".into()), None, IndexOptions::default()).unwrap();
    let mut batch = index.write(false).unwrap();
    batch.set_settings(settings_of(corpus)).unwrap();
    batch.commit(0, Default::default()).unwrap();
    let payload = dir.join(format!("{corpus}.ndjson"));
    {
        let gz = std::fs::File::open(shared().join(format!("data/{corpus}.ndjson.gz"))).unwrap();
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
    eprintln!("{corpus}: indexed in {:?}", started.elapsed());
    std::fs::remove_file(&payload).ok();
    index
}

#[derive(Default)]
struct Score {
    queries: u32,
    hit1: u32,
    hit10: u32,
    reciprocal: f64,
}

impl Score {
    fn add(&mut self, rank: Option<usize>) {
        self.queries += 1;
        if let Some(rank) = rank {
            if rank == 0 {
                self.hit1 += 1;
            }
            if rank < 10 {
                self.hit10 += 1;
                self.reciprocal += 1.0 / (rank as f64 + 1.0);
            }
        }
    }

    fn line(&self, name: &str) -> String {
        let n = f64::from(self.queries.max(1));
        format!(
            "{name:<14} n={:<4} MRR@10={:.3} hit@1={:.3} hit@10={:.3}",
            self.queries,
            self.reciprocal / n,
            f64::from(self.hit1) / n,
            f64::from(self.hit10) / n
        )
    }
}

fn evaluate(corpus: &str, index: &Index) -> Score {
    let file = std::fs::File::open(shared().join(format!("queries/{corpus}.dev.jsonl"))).unwrap();
    let mut by_kind: BTreeMap<String, Score> = BTreeMap::new();
    let mut overall = Score::default();
    let mut total = Duration::ZERO;
    let mut slowest = (Duration::ZERO, String::new());
    let verbose = std::env::var("QUARRY_RELEVANCE_VERBOSE").is_ok();
    for line in std::io::BufReader::new(file).lines() {
        let line = line.unwrap();
        let query: Value = serde_json::from_str(&line).unwrap();
        let q = query["q"].as_str().unwrap();
        let relevant: Vec<&Value> = query["relevant"].as_array().unwrap().iter().collect();
        let request = SearchRequest {
            query: Some(q.to_string()),
            limit: 10,
            ..Default::default()
        };
        let started = Instant::now();
        let result: SearchResult = index.search(&request).unwrap();
        let took = started.elapsed();
        total += took;
        if took > slowest.0 {
            slowest = (took, q.to_string());
        }
        let rank = result
            .hits
            .iter()
            .position(|h| relevant.contains(&&h.document().unwrap()["id"]));
        if verbose && rank != Some(0) {
            let top: Vec<String> = result
                .hits
                .iter()
                .take(3)
                .map(|h| {
                    let document = h.document().unwrap_or_default();
                    document
                        .get("title")
                        .or(document.get("name"))
                        .map(|v| v.to_string())
                        .unwrap_or_default()
                })
                .collect();
            eprintln!(
                "{corpus} {:?} rank={rank:?} kind={} top={top:?}",
                q, query["kind"]
            );
        }
        overall.add(rank);
        by_kind
            .entry(query["kind"].as_str().unwrap_or("?").to_string())
            .or_default()
            .add(rank);
    }
    for (kind, score) in &by_kind {
        eprintln!("{corpus:<9} {}", score.line(kind));
    }
    eprintln!("{corpus:<9} {}", overall.line("overall"));
    eprintln!(
        "{corpus:<9} mean search {:?}, slowest {:?} ({:?})",
        total / overall.queries.max(1),
        slowest.0,
        slowest.1
    );
    overall
}

/// Replays every keystroke of the dev queries and prints latency percentiles.
fn keystrokes(corpus: &str, index: &Index) {
    let path = std::env::var("QUARRY_KEYSTROKES_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| shared().join(format!("queries/{corpus}.dev.keystrokes.txt")));
    let text = std::fs::read_to_string(path).unwrap();
    let mut times: Vec<(Duration, &str)> = Vec::new();
    for q in text.lines() {
        let request = SearchRequest {
            query: Some(q.to_string()),
            limit: 20,
            ..Default::default()
        };
        let started = Instant::now();
        index.search(&request).unwrap();
        times.push((started.elapsed(), q));
    }
    if let Ok(out) = std::env::var("QUARRY_KEYSTROKES_OUT") {
        let lines: Vec<String> = times
            .iter()
            .map(|(took, q)| format!("{}\t{q}", took.as_micros()))
            .collect();
        std::fs::write(out, lines.join("\n")).unwrap();
    }
    let (bytes, evictions) = super::cache::usage();
    let kinds = super::cache::usage_by_kind().map(|(kind, b)| format!("{kind} {}", b >> 20));
    eprintln!(
        "{corpus:<9} search caches: {} MiB, {evictions} evictions; MiB by kind: {}",
        bytes >> 20,
        kinds.join(", ")
    );
    times.sort();
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)].0;
    let total: Duration = times.iter().map(|t| t.0).sum();
    eprintln!(
        "{corpus:<9} keystrokes n={} mean={:?} p50={:?} p95={:?} p99={:?} max={:?}",
        times.len(),
        total / times.len().max(1) as u32,
        at(0.5),
        at(0.95),
        at(0.99),
        times.last().map(|t| t.0).unwrap_or_default()
    );
    for (took, q) in times.iter().rev().take(8) {
        eprintln!("{corpus:<9}   slow {took:?} {q:?}");
    }
}

#[test]
fn relevance_on_real_corpora() {
    let Ok(corpora) = std::env::var("QUARRY_RELEVANCE") else {
        return;
    };
    let keep = std::env::var("QUARRY_RELEVANCE_DIR")
        .ok()
        .map(PathBuf::from);
    let temp = tempfile::TempDir::new().unwrap();
    let dir = keep.unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir).unwrap();
    for corpus in corpora.split(',').filter(|c| !c.is_empty()) {
        let index = open_or_build(corpus, &dir);
        if std::env::var("QUARRY_KEYSTROKES_ONLY").is_err() {
            evaluate(corpus, &index);
        }
        if std::env::var("QUARRY_KEYSTROKES").is_ok() {
            keystrokes(corpus, &index);
        }
    }
}
