//! Whole answers kept for the searches that every user sends alike. Search-as-you-type starts
//! each query with one letter, then two: across all users there are a few hundred such
//! prefixes, they come back all day (one keystroke in eight of PyPI's log, 194 distinct
//! among 800), and they are the searches with the most candidates to rank (a warm "s" on PyPI
//! ranks 320,670 documents in 1.1 ms over HTTP, where "numpy" takes 0.37 ms). The page that loads before any keystroke (an empty query, often with facets) is the
//! same for every visitor too. Their answers are kept in the snapshot's cache, so a later
//! identical request on the same snapshot and settings is answered without ranking again; any
//! write or settings change is a new snapshot or state, which never sees them. Longer queries
//! are not kept: they rarely repeat, and keeping them would fill the budget with answers
//! no one asks again.

use std::sync::Arc;

use super::first_keystrokes::WARMED_PREFIX_CHARS;
use super::{SearchContext, SearchRequest, SearchResult};
use crate::index::IndexState;

/// Longest query, in characters, whose answer is kept: the prefixes the warm-up searches
/// ([`WARMED_PREFIX_CHARS`]), so its searches leave their answers for the first users.
pub const ANSWERED_QUERY_CHARS: usize = WARMED_PREFIX_CHARS;

/// A kept answer and the committed state it was computed under. The snapshot's cache is found
/// by segments and deletes only; settings change without them, so an answer serves only
/// searches that see the very same state (the `Arc` kept here also keeps its address from
/// being reused by a later state).
pub struct CachedAnswer {
    pub state: Arc<IndexState>,
    pub result: SearchResult,
}

/// The key of `request`'s answer when it is one that is kept: an empty query or a single word
/// of at most [`ANSWERED_QUERY_CHARS`] characters. The key is every parameter of the request
/// but its deadline (an answer kept is complete, whatever deadline asked for it); parameters
/// are plain data, so their debug form names them all, filters and pins included.
pub(crate) fn answer_key(request: &SearchRequest) -> Option<String> {
    let q = request.query.as_deref().unwrap_or("").trim();
    if q.chars().count() > ANSWERED_QUERY_CHARS || q.chars().any(char::is_whitespace) {
        return None;
    }
    let keyed = SearchRequest {
        deadline: None,
        ..request.clone()
    };
    Some(format!("{keyed:?}"))
}

/// The answer kept for the request of `key` on the snapshot and state of `ctx`, if any
/// (counted as reused).
pub(crate) fn kept(ctx: &SearchContext, key: &str) -> Option<Arc<CachedAnswer>> {
    let kept = ctx
        .cache
        .answer(key)
        .filter(|kept| Arc::ptr_eq(&kept.state, &ctx.state))?;
    super::cache::count_answer_reused();
    Some(kept)
}

/// Keeps `result`, the answer of the request of `key` on the snapshot and state of `ctx`,
/// unless the search stopped at its deadline (not the answer to give again).
pub(crate) fn keep(ctx: &SearchContext, key: String, result: &SearchResult) {
    if result.degraded {
        return;
    }
    let bytes = answer_bytes(&key, result);
    let kept = CachedAnswer {
        state: ctx.state.clone(),
        result: result.clone(),
    };
    ctx.cache.put_answer(key, Arc::new(kept), bytes);
}

/// Bytes an answer is charged in the cache: its documents' stored bytes (usually shared with
/// the source cache, counted anyway), each hit's fields, the facet distribution as written,
/// the candidates kept, and the key.
fn answer_bytes(key: &str, result: &SearchResult) -> u64 {
    const HIT: u64 = 128;
    let hits: u64 = result
        .hits
        .iter()
        .map(|h| h.source.len() as u64 + HIT)
        .sum();
    let facets = result.facets.as_ref().map_or(0, |f| {
        serde_json::to_string(&f.distribution).map_or(0, |s| s.len() as u64)
            + serde_json::to_string(&f.stats).map_or(0, |s| s.len() as u64)
    });
    let words: u64 = result
        .matching_words
        .words
        .iter()
        .map(|w| std::mem::size_of_val(w) as u64 + 32)
        .sum();
    let candidates = result
        .candidate_docs
        .as_ref()
        .map_or(0, super::cache::set_bytes);
    key.len() as u64 + hits + facets + words + candidates
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn request(q: Option<&str>) -> SearchRequest {
        SearchRequest {
            query: q.map(str::to_string),
            limit: 20,
            ..Default::default()
        }
    }

    #[test]
    fn only_empty_and_short_single_word_queries_are_kept() {
        for q in [
            None,
            Some(""),
            Some("  "),
            Some("s"),
            Some("py"),
            Some(" é "),
            Some("c#"),
        ] {
            assert!(answer_key(&request(q)).is_some(), "{q:?}");
        }
        for q in ["pyt", "a b", "numpy", "s t"] {
            assert!(answer_key(&request(Some(q))).is_none(), "{q}");
        }
    }

    #[test]
    fn the_key_holds_every_parameter_but_the_deadline() {
        let plain = request(Some("s"));
        let timed = SearchRequest {
            deadline: Some(Instant::now()),
            ..plain.clone()
        };
        assert_eq!(answer_key(&plain), answer_key(&timed));
        let variants = [
            SearchRequest {
                offset: 20,
                ..plain.clone()
            },
            SearchRequest {
                limit: 5,
                ..plain.clone()
            },
            SearchRequest {
                facets: Some(vec!["year".into()]),
                ..plain.clone()
            },
            SearchRequest {
                sort: Some(vec!["year:asc".into()]),
                ..plain.clone()
            },
            SearchRequest {
                filter: crate::filter::parse_filter("year > 2000").unwrap(),
                ..plain.clone()
            },
            SearchRequest {
                compute_scores: true,
                ..plain.clone()
            },
            SearchRequest {
                query: Some("t".into()),
                ..plain.clone()
            },
        ];
        for variant in variants {
            assert_ne!(answer_key(&plain), answer_key(&variant), "{variant:?}");
        }
    }
}
