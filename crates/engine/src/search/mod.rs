//! The path of a query: analyze `q` into query words, find each word's documents in the term
//! dictionary, then order the candidates with the ranking rules, bucket by bucket, fetching only
//! the documents of the requested page.

mod context;
pub mod matching_words;
mod query;
pub mod ranking;

use std::time::Instant;

use roaring::RoaringBitmap;
use serde_json::{Map, Value};

pub use context::SearchContext;
pub use matching_words::{MatchingWord, MatchingWords};
pub use query::{parse_query, QueryWord, MAX_QUERY_WORDS};

use crate::error::Result;
use crate::index::{read_source, Index};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatchingStrategy {
    /// Drop query words from the end until documents match (Meilisearch's default).
    #[default]
    Last,
    /// Every query word must match.
    All,
    /// Drop the most frequent words first.
    Frequency,
}

#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// `None` or empty: a placeholder search, returning every document.
    pub query: Option<String>,
    pub offset: usize,
    pub limit: usize,
    pub matching_strategy: MatchingStrategy,
    /// Past this instant, return what is ranked so far and report the search as degraded.
    pub deadline: Option<Instant>,
    /// Restricts matching to these searchable attributes (`attributesToSearchOn`).
    pub attributes_to_search_on: Option<Vec<String>>,
    /// Compute `ranking_score` (and details) for each hit.
    pub compute_scores: bool,
    /// Leave out hits whose ranking score is below this (0.0..=1.0).
    pub ranking_score_threshold: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct SearchHit {
    pub document: Map<String, Value>,
    /// Between 0.0 and 1.0, when `compute_scores` was asked.
    pub ranking_score: Option<f64>,
    /// Per ranking rule, as `_rankingScoreDetails` shows it, when `compute_scores` was asked.
    pub ranking_score_details: Option<Map<String, Value>>,
}

#[derive(Debug, Clone)]
pub struct SearchResult {
    pub hits: Vec<SearchHit>,
    /// Every document that matches, whatever the page.
    pub candidates: u64,
    pub degraded: bool,
    /// What counts as a match in a document, for highlighting and cropping.
    pub matching_words: MatchingWords,
}

impl Index {
    /// Runs a search against the committed documents.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResult> {
        let ctx = SearchContext::new(self)?;
        let analyzer = crate::analysis::Analyzer::new(&ctx.settings);
        let words = parse_query(&analyzer, request.query.as_deref().unwrap_or(""));
        let max_total_hits = ctx.settings.pagination.max_total_hits;
        let window_end = (request.offset + request.limit).min(max_total_hits);
        let (ranked, candidates, degraded) = if words.is_empty() {
            let universe = ctx.universe();
            let ranked: Vec<u32> = universe
                .iter()
                .skip(request.offset)
                .take(window_end.saturating_sub(request.offset))
                .collect();
            (ranked, universe.len(), false)
        } else {
            let query = ranking::QueryDocs::new(&ctx, &words)?;
            let universe = query.candidates(request.matching_strategy);
            let mut rules = ranking::rules_for(&query, request.matching_strategy);
            let candidates = universe.len();
            let outcome = ranking::bucket_sort(
                &ctx,
                &mut rules,
                &universe,
                request.offset,
                window_end,
                request.deadline,
            )?;
            (outcome.documents, candidates, outcome.degraded)
        };
        let fields = self.schema_fields();
        let mut hits = Vec::with_capacity(ranked.len());
        for id in ranked {
            let document = read_source(&ctx.searcher, fields, ctx.address(id))?;
            hits.push(SearchHit {
                document,
                ranking_score: None,
                ranking_score_details: None,
            });
        }
        Ok(SearchResult {
            hits,
            candidates,
            degraded,
            matching_words: MatchingWords {
                words: words
                    .into_iter()
                    .map(|w| MatchingWord {
                        derivations: vec![w.text.clone()],
                        is_prefix: w.is_prefix,
                        query: w.text,
                    })
                    .collect(),
            },
        })
    }
}

/// A set of documents, identified by their place across all segments of one searcher.
pub type DocSet = RoaringBitmap;
