//! Ranking rules and the bucket sort that chains them. Each rule splits the documents it is
//! given into buckets, best first; the next rule only ever sees one bucket of the previous one,
//! and a bucket is only split when the page needs its documents, so a page costs the work of
//! that page.

mod words;

use std::time::Instant;

use roaring::RoaringBitmap;

use super::context::SearchContext;
use super::query::QueryWord;
use super::MatchingStrategy;
use crate::error::Result;

pub use words::WordsRule;

/// One ranking rule, used as: `start` with a universe, `next_bucket` until `None`, `end`.
pub trait RankingRule {
    fn name(&self) -> &'static str;
    fn start(&mut self, ctx: &SearchContext, universe: &RoaringBitmap) -> Result<()>;
    /// The next best documents of `universe` (what is left of the one given to `start`).
    fn next_bucket(
        &mut self,
        ctx: &SearchContext,
        universe: &RoaringBitmap,
    ) -> Result<Option<RoaringBitmap>>;
    fn end(&mut self);
}

/// The documents of each query word, computed once per search.
pub struct QueryDocs {
    pub words: Vec<QueryWord>,
    pub docs: Vec<RoaringBitmap>,
}

impl QueryDocs {
    pub fn new(ctx: &SearchContext, words: &[QueryWord]) -> Result<QueryDocs> {
        let docs = words
            .iter()
            .map(|w| {
                if w.is_prefix {
                    ctx.prefix_docs(&w.text)
                } else {
                    ctx.word_docs(&w.text)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(QueryDocs {
            words: words.to_vec(),
            docs,
        })
    }

    /// Documents matching at least as many words as the strategy requires.
    pub fn candidates(&self, strategy: MatchingStrategy) -> RoaringBitmap {
        let order = removal_order(self, strategy);
        match strategy {
            MatchingStrategy::All => intersect(self.docs.iter()),
            MatchingStrategy::Last | MatchingStrategy::Frequency => {
                // The loosest level keeps only the word that is never removed.
                let kept = order.last().copied().unwrap_or(0);
                let mut rest: Vec<usize> = (0..self.docs.len())
                    .filter(|i| !order.contains(i))
                    .collect();
                rest.push(kept);
                intersect(rest.iter().map(|i| &self.docs[*i]))
            }
        }
    }
}

/// The order in which words are dropped by the strategy; the last entry is never dropped.
pub(crate) fn removal_order(query: &QueryDocs, strategy: MatchingStrategy) -> Vec<usize> {
    let n = query.docs.len();
    match strategy {
        MatchingStrategy::All => Vec::new(),
        MatchingStrategy::Last => (0..n).rev().collect(),
        MatchingStrategy::Frequency => {
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by_key(|i| std::cmp::Reverse((query.docs[*i].len(), *i)));
            order
        }
    }
}

pub(crate) fn intersect<'a>(mut sets: impl Iterator<Item = &'a RoaringBitmap>) -> RoaringBitmap {
    let Some(first) = sets.next() else {
        return RoaringBitmap::new();
    };
    let mut acc = first.clone();
    for set in sets {
        acc &= set;
    }
    acc
}

/// The rules of a search, in the order of the index's `rankingRules` (those built so far).
pub fn rules_for(query: &QueryDocs, strategy: MatchingStrategy) -> Vec<Box<dyn RankingRule>> {
    vec![Box::new(WordsRule::new(query, strategy))]
}

pub struct BucketSortOutcome {
    pub documents: Vec<u32>,
    pub degraded: bool,
}

/// Orders `universe` with `rules` until the window `[offset, window_end)` is filled.
pub fn bucket_sort(
    ctx: &SearchContext,
    rules: &mut [Box<dyn RankingRule>],
    universe: &RoaringBitmap,
    offset: usize,
    window_end: usize,
    deadline: Option<Instant>,
) -> Result<BucketSortOutcome> {
    let mut out = Collector {
        offset,
        window_end,
        skipped: 0,
        documents: Vec::new(),
    };
    if rules.is_empty() || universe.is_empty() || window_end <= offset {
        out.push_all(universe);
        return Ok(BucketSortOutcome {
            documents: out.documents,
            degraded: false,
        });
    }
    let mut universes: Vec<RoaringBitmap> = vec![universe.clone()];
    rules[0].start(ctx, universe)?;
    let mut depth = 0usize;
    let mut degraded = false;
    while !out.is_full() {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            degraded = true;
            for level in (0..=depth).rev() {
                out.push_all(&universes[level]);
                rules[level].end();
            }
            return Ok(BucketSortOutcome {
                documents: out.documents,
                degraded,
            });
        }
        let bucket = rules[depth].next_bucket(ctx, &universes[depth])?;
        let Some(bucket) = bucket else {
            // This rule has nothing left: what remains of its universe is unranked by it.
            let rest = std::mem::take(&mut universes[depth]);
            rules[depth].end();
            if depth == 0 {
                out.push_all(&rest);
                break;
            }
            out.push_all(&rest);
            universes.pop();
            depth -= 1;
            continue;
        };
        universes[depth] -= &bucket;
        if bucket.is_empty() {
            continue;
        }
        if depth + 1 == rules.len() || bucket.len() == 1 || out.would_skip_whole(&bucket) {
            out.push_all(&bucket);
            continue;
        }
        depth += 1;
        rules[depth].start(ctx, &bucket)?;
        universes.push(bucket);
    }
    for rule in rules.iter_mut().take(depth + 1) {
        rule.end();
    }
    Ok(BucketSortOutcome {
        documents: out.documents,
        degraded,
    })
}

struct Collector {
    offset: usize,
    window_end: usize,
    skipped: usize,
    documents: Vec<u32>,
}

impl Collector {
    fn is_full(&self) -> bool {
        self.skipped + self.documents.len() >= self.window_end
    }

    /// Whether every document of `bucket` falls before the offset, so its order is irrelevant.
    fn would_skip_whole(&self, bucket: &RoaringBitmap) -> bool {
        self.documents.is_empty() && self.skipped + bucket.len() as usize <= self.offset
    }

    fn push_all(&mut self, docs: &RoaringBitmap) {
        for id in docs {
            if self.is_full() {
                return;
            }
            if self.skipped < self.offset {
                self.skipped += 1;
            } else {
                self.documents.push(id);
            }
        }
    }
}
