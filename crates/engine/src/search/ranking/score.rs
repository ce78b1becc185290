//! The ranking score: each relevancy rule ranks a bucket as `rank` out of `max_rank`, and the
//! ranks of the rules, taken in order, are read as the digits of one number between 0 and 1,
//! so that the score orders documents the way the rules did. Also the `_rankingScoreDetails`
//! shape Meilisearch shows for each rule.

use serde_json::{json, Map, Value};

/// `rank` out of `max_rank`: `max_rank` is the best, 1 the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rank {
    pub rank: u32,
    pub max_rank: u32,
}

impl Rank {
    /// The rank of a cost between 0 (best) and `max_cost`.
    pub fn from_cost(cost: u32, max_cost: u32) -> Rank {
        Rank {
            rank: max_cost.saturating_sub(cost) + 1,
            max_rank: max_cost + 1,
        }
    }

    pub fn local_score(self) -> f64 {
        if self.max_rank == 0 {
            return 1.0;
        }
        f64::from(self.rank) / f64::from(self.max_rank)
    }
}

/// Whether a searchable value is the query, starts with it, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchType {
    ExactMatch,
    MatchesStart,
    NoExactMatch,
}

impl MatchType {
    fn rank(self) -> Rank {
        let rank = match self {
            MatchType::ExactMatch => 3,
            MatchType::MatchesStart => 2,
            MatchType::NoExactMatch => 1,
        };
        Rank { rank, max_rank: 3 }
    }

    fn name(self) -> &'static str {
        match self {
            MatchType::ExactMatch => "exactMatch",
            MatchType::MatchesStart => "matchesStart",
            MatchType::NoExactMatch => "noExactMatch",
        }
    }
}

/// How one bucket of one rule ranks.
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    Words {
        matching: u32,
        max: u32,
    },
    Typo {
        count: u32,
        max: u32,
    },
    Proximity(Rank),
    /// `combined`: this is the first half of the `attribute` rule.
    AttributeRank {
        rank: Rank,
        combined: bool,
    },
    /// `combined`: this is the second half of the `attribute` rule.
    WordPosition {
        rank: Rank,
        combined: bool,
    },
    Exactness {
        match_type: MatchType,
        matching: u32,
        max: u32,
    },
    Sort {
        field: String,
        ascending: bool,
        value: Value,
    },
    /// `_geoPoint(lat, lng)` in `sort`: the document's point and its distance in metres.
    GeoSort {
        target: (f64, f64),
        ascending: bool,
        point: Option<(f64, f64)>,
        distance: Option<f64>,
    },
    /// A rule that did not rank (the `sort` hook without sort criteria).
    Pass,
}

impl Detail {
    /// The ranks this bucket contributes to the score, in order.
    fn ranks(&self) -> [Option<Rank>; 2] {
        match self {
            Detail::Words { matching, max } => [
                Some(Rank {
                    rank: *matching,
                    max_rank: *max,
                }),
                None,
            ],
            Detail::Typo { count, max } => [Some(Rank::from_cost(*count, *max)), None],
            Detail::Proximity(rank) => [Some(*rank), None],
            Detail::AttributeRank { rank, .. } | Detail::WordPosition { rank, .. } => {
                [Some(*rank), None]
            }
            Detail::Exactness {
                match_type,
                matching,
                max,
            } => [
                Some(match_type.rank()),
                Some(Rank {
                    rank: matching + 1,
                    max_rank: max + 1,
                }),
            ],
            Detail::Sort { .. } | Detail::GeoSort { .. } | Detail::Pass => [None, None],
        }
    }

    pub fn has_rank(&self) -> bool {
        self.ranks()[0].is_some()
    }
}

fn combine(ranks: impl Iterator<Item = Rank> + Clone) -> f64 {
    // Mixed-radix digits read as one number, in integers while they fit, as Meilisearch does,
    // so that a perfect document scores exactly 1.
    let mut rank: u128 = 1;
    let mut max: u128 = 1;
    let mut exact = true;
    for r in ranks.clone() {
        if r.max_rank == 0 {
            continue;
        }
        let (Some(next_rank), Some(next_max)) = (
            (rank - 1).checked_mul(u128::from(r.max_rank)),
            max.checked_mul(u128::from(r.max_rank)),
        ) else {
            exact = false;
            break;
        };
        rank = next_rank + u128::from(r.rank.max(1));
        max = next_max;
    }
    if exact {
        return rank as f64 / max as f64;
    }
    let mut score = 0.0f64;
    let mut weight = 1.0f64;
    for r in ranks {
        if r.max_rank == 0 {
            continue;
        }
        weight /= f64::from(r.max_rank);
        score += f64::from(r.rank.saturating_sub(1)) * weight;
    }
    (score + weight).min(1.0)
}

/// The ranking score of a document from the buckets it came through.
pub fn global_score(details: &[Detail]) -> f64 {
    combine(details.iter().flat_map(|d| d.ranks()).flatten())
}

/// `_rankingScoreDetails`, as Meilisearch shapes it.
pub fn details_json(details: &[Detail]) -> Map<String, Value> {
    let mut map = Map::new();
    let mut order = 0u32;
    let mut attribute_rank: Option<Rank> = None;
    for detail in details {
        match detail {
            Detail::Words { matching, max } => {
                let score = Rank {
                    rank: *matching,
                    max_rank: *max,
                }
                .local_score();
                map.insert(
                    "words".into(),
                    json!({"order": order, "matchingWords": matching, "maxMatchingWords": max, "score": score}),
                );
            }
            Detail::Typo { count, max } => {
                let score = Rank::from_cost(*count, *max).local_score();
                map.insert("typo".into(), json!({"order": order, "typoCount": count, "maxTypoCount": max, "score": score}));
            }
            Detail::Proximity(rank) => {
                map.insert(
                    "proximity".into(),
                    json!({"order": order, "score": rank.local_score()}),
                );
            }
            Detail::AttributeRank {
                rank,
                combined: true,
            } => {
                attribute_rank = Some(*rank);
                map.insert(
                    "attribute".into(),
                    json!({"order": order, "attributeRankingOrderScore": rank.local_score(), "score": rank.local_score()}),
                );
            }
            Detail::AttributeRank {
                rank,
                combined: false,
            } => {
                map.insert(
                    "attributeRank".into(),
                    json!({"order": order, "score": rank.local_score()}),
                );
            }
            Detail::WordPosition {
                rank,
                combined: true,
            } => {
                if let (Some(Value::Object(attribute)), Some(first)) =
                    (map.get_mut("attribute"), attribute_rank)
                {
                    attribute.remove("score");
                    attribute.insert("queryWordDistanceScore".into(), json!(rank.local_score()));
                    attribute.insert("score".into(), json!(combine([first, *rank].into_iter())));
                }
                // The two halves of `attribute` share one order.
                continue;
            }
            Detail::WordPosition {
                rank,
                combined: false,
            } => {
                map.insert(
                    "wordPosition".into(),
                    json!({"order": order, "score": rank.local_score()}),
                );
            }
            Detail::Exactness {
                match_type,
                matching,
                max,
            } => {
                let mut exactness = Map::new();
                exactness.insert("order".into(), json!(order));
                exactness.insert("matchType".into(), json!(match_type.name()));
                let score = if *match_type == MatchType::NoExactMatch {
                    exactness.insert("matchingWords".into(), json!(matching));
                    exactness.insert("maxMatchingWords".into(), json!(max));
                    combine(detail.ranks().into_iter().flatten())
                } else {
                    match_type.rank().local_score()
                };
                exactness.insert("score".into(), json!(score));
                map.insert("exactness".into(), Value::Object(exactness));
            }
            Detail::Sort {
                field,
                ascending,
                value,
            } => {
                let key = format!("{field}:{}", if *ascending { "asc" } else { "desc" });
                map.insert(key, json!({"order": order, "value": value}));
            }
            Detail::GeoSort {
                target,
                ascending,
                point,
                distance,
            } => {
                let key = format!(
                    "_geoPoint({}, {}):{}",
                    target.0,
                    target.1,
                    if *ascending { "asc" } else { "desc" }
                );
                let mut entry = serde_json::Map::new();
                entry.insert("order".into(), json!(order));
                if let Some((lat, lng)) = point {
                    entry.insert("value".into(), json!({"lat": lat, "lng": lng}));
                }
                if let Some(distance) = distance {
                    entry.insert("distance".into(), json!(distance));
                }
                map.insert(key, Value::Object(entry));
            }
            Detail::Pass => continue,
        }
        order += 1;
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_read_ranks_as_digits() {
        let perfect = [
            Detail::Words {
                matching: 2,
                max: 2,
            },
            Detail::Typo { count: 0, max: 2 },
        ];
        assert_eq!(global_score(&perfect), 1.0);
        let one_typo = [
            Detail::Words {
                matching: 2,
                max: 2,
            },
            Detail::Typo { count: 1, max: 2 },
        ];
        let fewer_words = [
            Detail::Words {
                matching: 1,
                max: 2,
            },
            Detail::Typo { count: 0, max: 2 },
        ];
        assert!(global_score(&one_typo) < 1.0);
        assert!(global_score(&fewer_words) < global_score(&one_typo));
        assert!(global_score(&fewer_words) > 0.0);
        // Same as Meilisearch's integer mixed radix: (2-1)/2 + 3/(2*3) ... = 1/2 + 1/6.
        let mixed = [
            Detail::Words {
                matching: 1,
                max: 2,
            },
            Detail::Typo { count: 1, max: 2 },
        ];
        assert!((global_score(&mixed) - (0.5 * 0.0 + 1.0 / 2.0 * 2.0 / 3.0)).abs() < 1e-9);
    }

    #[test]
    fn details_look_like_meilisearch() {
        let details = [
            Detail::Words {
                matching: 2,
                max: 2,
            },
            Detail::Typo { count: 0, max: 2 },
            Detail::AttributeRank {
                rank: Rank {
                    rank: 3,
                    max_rank: 3,
                },
                combined: true,
            },
            Detail::WordPosition {
                rank: Rank {
                    rank: 1,
                    max_rank: 2,
                },
                combined: true,
            },
            Detail::Exactness {
                match_type: MatchType::NoExactMatch,
                matching: 1,
                max: 2,
            },
        ];
        let json = Value::Object(details_json(&details));
        assert_eq!(
            json["words"],
            json!({"order": 0, "matchingWords": 2, "maxMatchingWords": 2, "score": 1.0})
        );
        assert_eq!(json["typo"]["typoCount"], json!(0));
        assert_eq!(json["attribute"]["order"], json!(2));
        assert_eq!(json["attribute"]["queryWordDistanceScore"], json!(0.5));
        assert_eq!(json["exactness"]["order"], json!(3));
        assert_eq!(json["exactness"]["matchType"], json!("noExactMatch"));
        assert_eq!(json["exactness"]["matchingWords"], json!(1));
    }
}
