//! The arithmetic of the benchmarks, kept apart from any I/O so it is unit-tested: latency
//! percentiles (nearest rank over a sorted list of microseconds) and the known-item relevance
//! metrics hit@1, hit@10 and MRR@10, per query kind and overall.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value;

/// How many hits the relevance metrics look at.
pub const TOP_K: usize = 10;

/// Nearest-rank percentile of an ascending list: the smallest value such that at least `p`
/// percent of the values are at or below it. `None` for an empty list.
pub fn percentile(sorted: &[u32], p: f64) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let p = p.clamp(0.0, 100.0);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Latency summary of a load run, in milliseconds.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LatencySummary {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl LatencySummary {
    /// `None` when there is no sample. `sorted` is in microseconds, ascending.
    pub fn from_sorted_us(sorted: &[u32]) -> Option<Self> {
        let ms = |us: u32| f64::from(us) / 1000.0;
        let sum: u64 = sorted.iter().map(|&v| u64::from(v)).sum();
        Some(LatencySummary {
            p50_ms: ms(percentile(sorted, 50.0)?),
            p90_ms: ms(percentile(sorted, 90.0)?),
            p99_ms: ms(percentile(sorted, 99.0)?),
            max_ms: ms(*sorted.last()?),
            mean_ms: sum as f64 / sorted.len() as f64 / 1000.0,
        })
    }
}

/// Canonical form of a document id so that `42` and `"42"` compare equal (ids in the query
/// sets are numbers; an engine may return them as numbers or strings).
pub fn id_key(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// 1-based rank of the first hit whose id is relevant, within the first [`TOP_K`] hits.
/// Hits without an id never match; an id repeated in the hits counts at its first rank.
pub fn first_relevant_rank(
    hit_ids: &[Option<String>],
    relevant: &HashSet<String>,
) -> Option<usize> {
    hit_ids
        .iter()
        .take(TOP_K)
        .position(|id| id.as_ref().is_some_and(|id| relevant.contains(id)))
        .map(|i| i + 1)
}

/// What happened to one query.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub kind: String,
    /// Rank of the first relevant hit within the top 10, `None` when absent or on error.
    pub rank: Option<usize>,
    /// The request failed (counted as a miss, and reported).
    pub error: bool,
}

/// Aggregated scores of a set of queries.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Scores {
    pub queries: usize,
    pub errors: usize,
    pub hit_at_1: f64,
    pub hit_at_10: f64,
    pub mrr_at_10: f64,
}

impl Scores {
    pub fn of<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> Scores {
        let (mut n, mut errors, mut h1, mut h10, mut rr) = (0usize, 0usize, 0usize, 0usize, 0.0);
        for o in outcomes {
            n += 1;
            errors += usize::from(o.error);
            if let Some(rank) = o.rank.filter(|&r| (1..=TOP_K).contains(&r)) {
                h1 += usize::from(rank == 1);
                h10 += 1;
                rr += 1.0 / rank as f64;
            }
        }
        let mean = |x: f64| if n == 0 { 0.0 } else { x / n as f64 };
        Scores {
            queries: n,
            errors,
            hit_at_1: mean(h1 as f64),
            hit_at_10: mean(h10 as f64),
            mrr_at_10: mean(rr),
        }
    }
}

/// Scores per kind (in order of first appearance) and overall.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub per_kind: Vec<(String, Scores)>,
    pub overall: Scores,
}

pub fn aggregate(outcomes: &[Outcome]) -> Report {
    let mut kinds: Vec<&str> = Vec::new();
    for o in outcomes {
        if !kinds.contains(&o.kind.as_str()) {
            kinds.push(&o.kind);
        }
    }
    let per_kind = kinds
        .into_iter()
        .map(|k| {
            (
                k.to_string(),
                Scores::of(outcomes.iter().filter(|o| o.kind == k)),
            )
        })
        .collect();
    Report {
        per_kind,
        overall: Scores::of(outcomes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ids(v: &[Option<u32>]) -> Vec<Option<String>> {
        v.iter().map(|x| x.map(|x| x.to_string())).collect()
    }

    fn set(v: &[u32]) -> HashSet<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn outcome(kind: &str, rank: Option<usize>) -> Outcome {
        Outcome {
            kind: kind.into(),
            rank,
            error: false,
        }
    }

    #[test]
    fn percentile_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 90.0), Some(90));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile(&v, 0.0), Some(1));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
        // 10 values: p50 is the 5th, p99 the 10th.
        let v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 1000];
        assert_eq!(percentile(&v, 50.0), Some(5));
        assert_eq!(percentile(&v, 90.0), Some(9));
        assert_eq!(percentile(&v, 99.0), Some(1000));
    }

    #[test]
    fn latency_summary_in_ms() {
        let v: Vec<u32> = (1..=1000).map(|x| x * 10).collect();
        let s = LatencySummary::from_sorted_us(&v).unwrap();
        assert_eq!(s.p50_ms, 5.0);
        assert_eq!(s.p90_ms, 9.0);
        assert_eq!(s.p99_ms, 9.9);
        assert_eq!(s.max_ms, 10.0);
        assert!((s.mean_ms - 5.005).abs() < 1e-9);
        assert!(LatencySummary::from_sorted_us(&[]).is_none());
    }

    #[test]
    fn id_keys_normalise_numbers_and_strings() {
        assert_eq!(id_key(&json!(42)), Some("42".into()));
        assert_eq!(id_key(&json!("42")), Some("42".into()));
        assert_eq!(id_key(&json!(null)), None);
        assert_eq!(id_key(&json!([1])), None);
    }

    #[test]
    fn rank_of_first_relevant_hit() {
        let rel = set(&[5, 9]);
        assert_eq!(
            first_relevant_rank(&ids(&[Some(5), Some(1)]), &rel),
            Some(1)
        );
        assert_eq!(
            first_relevant_rank(&ids(&[Some(1), Some(9), Some(5)]), &rel),
            Some(2)
        );
        // Missing ids never match.
        assert_eq!(
            first_relevant_rank(&ids(&[None, None, Some(5)]), &rel),
            Some(3)
        );
        // Duplicate ids: the first occurrence counts.
        assert_eq!(
            first_relevant_rank(&ids(&[Some(1), Some(1), Some(9), Some(9)]), &rel),
            Some(3)
        );
        assert_eq!(first_relevant_rank(&ids(&[]), &rel), None);
        assert_eq!(first_relevant_rank(&ids(&[Some(1), Some(2)]), &rel), None);
        // Only the top 10 count.
        let mut eleven: Vec<Option<u32>> = (100..110).map(Some).collect();
        eleven.push(Some(5));
        assert_eq!(first_relevant_rank(&ids(&eleven), &rel), None);
        eleven.swap(9, 10);
        assert_eq!(first_relevant_rank(&ids(&eleven), &rel), Some(10));
        // Nothing is relevant: never a hit.
        assert_eq!(first_relevant_rank(&ids(&[Some(5)]), &set(&[])), None);
    }

    #[test]
    fn scores_hits_and_mrr() {
        let o = [
            outcome("a", Some(1)),
            outcome("a", Some(2)),
            outcome("a", Some(10)),
            outcome("a", None),
        ];
        let s = Scores::of(&o);
        assert_eq!(s.queries, 4);
        assert_eq!(s.hit_at_1, 0.25);
        assert_eq!(s.hit_at_10, 0.75);
        assert!((s.mrr_at_10 - (1.0 + 0.5 + 0.1) / 4.0).abs() < 1e-12);
        // A rank beyond 10 (should not happen) is no hit.
        let s = Scores::of(&[outcome("a", Some(11))]);
        assert_eq!((s.hit_at_10, s.mrr_at_10), (0.0, 0.0));
        // Empty set: zeros, not NaN.
        let s = Scores::of(&[]);
        assert_eq!((s.queries, s.hit_at_1, s.mrr_at_10), (0, 0.0, 0.0));
    }

    #[test]
    fn errors_count_as_misses() {
        let o = [
            outcome("a", Some(1)),
            Outcome {
                kind: "a".into(),
                rank: None,
                error: true,
            },
        ];
        let s = Scores::of(&o);
        assert_eq!((s.queries, s.errors, s.hit_at_1), (2, 1, 0.5));
    }

    #[test]
    fn aggregation_per_kind_in_first_seen_order() {
        let o = [
            outcome("typo_title", Some(1)),
            outcome("prefix", Some(4)),
            outcome("typo_title", None),
            outcome("prefix", Some(1)),
            outcome("keywords", Some(2)),
        ];
        let r = aggregate(&o);
        let kinds: Vec<&str> = r.per_kind.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kinds, ["typo_title", "prefix", "keywords"]);
        let typo = &r.per_kind[0].1;
        assert_eq!(
            (typo.queries, typo.hit_at_1, typo.hit_at_10, typo.mrr_at_10),
            (2, 0.5, 0.5, 0.5)
        );
        let prefix = &r.per_kind[1].1;
        assert_eq!((prefix.hit_at_1, prefix.hit_at_10), (0.5, 1.0));
        assert!((prefix.mrr_at_10 - 0.625).abs() < 1e-12);
        assert_eq!(r.overall.queries, 5);
        assert_eq!(r.overall.hit_at_1, 0.4);
        assert_eq!(r.overall.hit_at_10, 0.8);
        assert!((r.overall.mrr_at_10 - (1.0 + 0.25 + 1.0 + 0.5) / 5.0).abs() < 1e-12);
        // Overall is the mean over queries, not over kinds.
        let mean_of_kinds: f64 = r.per_kind.iter().map(|(_, s)| s.mrr_at_10).sum::<f64>() / 3.0;
        assert!((r.overall.mrr_at_10 - mean_of_kinds).abs() > 1e-3);
    }
}
