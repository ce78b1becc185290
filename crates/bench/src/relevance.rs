//! The `relevance` command: the known-item benchmark of the relevance issue. Each query of
//! `../shared/queries/NAME.dev.jsonl` names the ids a user means; we search it (top 10, ids
//! only) and score hit@1, hit@10 and MRR@10 per query kind and overall, so that any engine
//! speaking the Meilisearch API can be compared on the same queries.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::client::{describe_error, Api};
use crate::index::IndexReport;
use crate::metrics::{self, first_relevant_rank, id_key, Outcome, Report, TOP_K};

#[derive(Debug, Clone, Deserialize)]
pub struct Query {
    pub q: String,
    pub kind: String,
    #[serde(default)]
    pub relevant: Vec<Value>,
}

pub fn read_queries(path: &Path) -> Result<Vec<Query>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut queries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let q: Query = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not a query object", path.display(), i + 1))?;
        queries.push(q);
    }
    if queries.is_empty() {
        bail!("{} has no query", path.display());
    }
    Ok(queries)
}

/// One query's answer, kept for the misses listing and the JSON output.
#[derive(Debug, Clone, Serialize)]
pub struct QueryResult {
    pub q: String,
    pub kind: String,
    pub relevant: Vec<Value>,
    pub rank: Option<usize>,
    pub top_ids: Vec<Value>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RelevanceReport {
    pub url: String,
    pub engine_version: Option<String>,
    pub corpus: String,
    pub index: String,
    pub queries_file: String,
    pub primary_key: String,
    pub queries: usize,
    /// Queries skipped because they list no relevant id.
    pub skipped: usize,
    /// Queries answered with no hit at all.
    pub empty_results: usize,
    pub report: Report,
    pub load: Option<IndexReport>,
    #[serde(skip)]
    pub results: Vec<QueryResult>,
}

pub struct RelevanceOptions {
    pub corpus: String,
    pub queries_dir: PathBuf,
    pub index: String,
}

pub fn run(
    api: &Api,
    opts: &RelevanceOptions,
    load: Option<IndexReport>,
) -> Result<RelevanceReport> {
    let queries_file = opts.queries_dir.join(format!("{}.dev.jsonl", opts.corpus));
    let queries = read_queries(&queries_file)?;
    api.check_health()?;
    let info = api.require_index(&opts.index)?;
    let primary_key = info
        .get("primaryKey")
        .and_then(Value::as_str)
        .unwrap_or("id")
        .to_string();
    let path = format!("/indexes/{}/search", opts.index);

    let mut outcomes = Vec::new();
    let mut results = Vec::new();
    let (mut skipped, mut empty) = (0, 0);
    let mut hits_without_id = 0usize;
    for query in queries {
        let relevant: HashSet<String> = query.relevant.iter().filter_map(id_key).collect();
        if relevant.is_empty() {
            skipped += 1;
            continue;
        }
        let body = json!({"q": query.q, "limit": TOP_K, "attributesToRetrieve": [primary_key]});
        let (rank, top_ids, error) = match api.json(Method::POST, &path, &body) {
            Ok(a) if a.status.is_success() => {
                let hits = a.body.get("hits").and_then(Value::as_array);
                let top: Vec<Value> = hits
                    .map(|h| {
                        h.iter()
                            .take(TOP_K)
                            .map(|hit| hit.get(&primary_key).cloned().unwrap_or(Value::Null))
                            .collect()
                    })
                    .unwrap_or_default();
                if hits.is_none() {
                    (
                        None,
                        top,
                        Some(format!("answer without `hits`: {}", a.body)),
                    )
                } else {
                    hits_without_id += top.iter().filter(|v| v.is_null()).count();
                    empty += usize::from(top.is_empty());
                    let keys: Vec<Option<String>> = top.iter().map(id_key).collect();
                    (first_relevant_rank(&keys, &relevant), top, None)
                }
            }
            Ok(a) => (None, Vec::new(), Some(describe_error(a.status, &a.body))),
            Err(e) => (None, Vec::new(), Some(format!("{e:#}"))),
        };
        outcomes.push(Outcome {
            kind: query.kind.clone(),
            rank,
            error: error.is_some(),
        });
        results.push(QueryResult {
            q: query.q,
            kind: query.kind,
            relevant: query.relevant,
            rank,
            top_ids,
            error,
        });
    }
    if hits_without_id > 0 {
        eprintln!(
            "warning: {hits_without_id} hits carried no `{primary_key}` field (counted as not relevant)"
        );
    }
    if !outcomes.is_empty() && outcomes.iter().all(|o| o.error) {
        bail!(
            "every search failed; first error: {}",
            results[0].error.as_deref().unwrap_or("?")
        );
    }
    Ok(RelevanceReport {
        url: api.endpoint.url.clone(),
        engine_version: api.version(),
        corpus: opts.corpus.clone(),
        index: opts.index.clone(),
        queries_file: queries_file.display().to_string(),
        primary_key,
        queries: outcomes.len(),
        skipped,
        empty_results: empty,
        report: metrics::aggregate(&outcomes),
        load,
        results,
    })
}

/// The machine-readable form: parameters, per-kind and overall scores, optional per query.
pub fn to_json(r: &RelevanceReport, per_query: bool) -> Value {
    let scores = |s: &metrics::Scores| {
        json!({"queries": s.queries, "errors": s.errors, "hit_at_1": s.hit_at_1,
               "hit_at_10": s.hit_at_10, "mrr_at_10": s.mrr_at_10})
    };
    let mut v = json!({
        "command": "relevance",
        "url": r.url,
        "engine_version": r.engine_version,
        "corpus": r.corpus,
        "index": r.index,
        "queries_file": r.queries_file,
        "primary_key": r.primary_key,
        "queries": r.queries,
        "skipped": r.skipped,
        "empty_results": r.empty_results,
        "overall": scores(&r.report.overall),
        "per_kind": r.report.per_kind.iter()
            .map(|(k, s)| (k.clone(), scores(s)))
            .collect::<serde_json::Map<_, _>>(),
        "load": r.load,
    });
    if per_query {
        v["per_query"] = serde_json::to_value(&r.results).unwrap_or(Value::Null);
    }
    v
}

pub fn print(r: &RelevanceReport, show_misses: usize) {
    if let Some(load) = &r.load {
        crate::index::print(load);
        println!();
    }
    println!("== relevance: corpus {} on index `{}`", r.corpus, r.index);
    println!(
        "parameters: url={} engine={} queries_file={} request={{\"q\", \"limit\": {TOP_K}, \"attributesToRetrieve\": [\"{}\"]}}",
        r.url,
        r.engine_version.as_deref().unwrap_or("?"),
        r.queries_file,
        r.primary_key
    );
    println!(
        "{:<16} {:>7} {:>7} {:>7} {:>7} {:>6}",
        "kind", "queries", "MRR@10", "hit@1", "hit@10", "errors"
    );
    let row = |name: &str, s: &metrics::Scores| {
        println!(
            "{:<16} {:>7} {:>7.3} {:>7.3} {:>7.3} {:>6}",
            name, s.queries, s.mrr_at_10, s.hit_at_1, s.hit_at_10, s.errors
        )
    };
    for (kind, s) in &r.report.per_kind {
        row(kind, s);
    }
    row("overall", &r.report.overall);
    if r.skipped > 0 {
        println!("skipped: {} queries without relevant ids", r.skipped);
    }
    if r.empty_results > 0 {
        println!("queries with no hit at all: {}", r.empty_results);
    }
    if let Some(e) = r.results.iter().find_map(|q| q.error.as_deref()) {
        println!("first error: {e}");
    }
    if show_misses > 0 {
        println!("first {show_misses} queries whose relevant id is not first:");
        for q in r
            .results
            .iter()
            .filter(|q| q.rank != Some(1))
            .take(show_misses)
        {
            let rel: Vec<String> = q.relevant.iter().map(Value::to_string).collect();
            let top: Vec<String> = q.top_ids.iter().take(5).map(Value::to_string).collect();
            println!(
                "  [{}] {:?}: relevant {} rank {} top {}",
                q.kind,
                q.q,
                rel.join(","),
                q.rank.map_or("-".to_string(), |r| r.to_string()),
                top.join(",")
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_query_sets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.dev.jsonl");
        std::fs::write(
            &path,
            "{\"q\": \"abc\", \"kind\": \"prefix\", \"relevant\": [1, \"2\"], \"source_id\": 1}\n\n\
             {\"q\": \"d\", \"kind\": \"typo_title\"}\n",
        )
        .unwrap();
        let q = read_queries(&path).unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!(q[0].relevant, vec![json!(1), json!("2")]);
        assert!(q[1].relevant.is_empty());
        std::fs::write(&path, "{\"kind\": 1}\n").unwrap();
        let err = read_queries(&path).unwrap_err();
        assert!(format!("{err:#}").contains(":1:"), "{err:#}");
    }
}
