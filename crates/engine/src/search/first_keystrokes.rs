//! Warming a new snapshot for the first keystrokes of search-as-you-type. Every session starts
//! with a one-letter query, then two letters; on a snapshot no search has touched, such a prefix
//! stands for thousands of words whose documents and digests are read and united while the user
//! waits (tens of milliseconds for "s" on PyPI, against about one once cached). These prefixes
//! come from the index, not from any query log: the short-prefix tables already list, per
//! segment, the prefixes of one and two characters with many words. Once a merge (or a restart)
//! leaves a snapshot that will serve for a while, a background thread searches each of them once,
//! so that the snapshot's cache holds what their first keystrokes need.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::cache;
use super::context::SearchContext;
use super::prefix_tops::ready_prefix_tops;
use super::SearchRequest;
use crate::error::Result;
use crate::index::Index;

/// Longest prefix warmed, in characters.
pub const WARMED_PREFIX_CHARS: usize = 2;
/// How long warming waits for a segment's short-prefix table, read in the background.
const TABLE_WAIT: Duration = Duration::from_secs(60);
/// Longest a warm-up may search; it stops there with the most used prefixes done.
const WARM_TIME: Duration = Duration::from_secs(10);
/// A warm-up stops once the snapshot it warms holds this share of the search caches' budget
/// (an idle server does not fill its caches for searches that may never come, and every index
/// gets its part: a share for all of them together would go to the first ones warmed)...
const SNAPSHOT_SHARE: u64 = 8;
/// ... or once all the caches together hold this share of it.
const TOTAL_SHARE: u64 = 2;

/// Where a warm-up stops filling the caches.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WarmLimits {
    /// Bytes the warmed snapshot's cache may hold.
    pub snapshot: u64,
    /// Bytes all snapshots' caches together may hold.
    pub total: u64,
}

/// What a warm-up did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Warmed {
    /// Prefixes searched.
    pub prefixes: usize,
    /// Prefixes left because a newer snapshot replaced the one being warmed (a commit or a
    /// merge came), the caches held their shares of the budget, or the time was up.
    pub left: usize,
}

impl Index {
    /// Readies the current snapshot for its first searches, logging what it did (the merge
    /// thread and the restart warm-up call it; it blocks): the per-segment tables
    /// ([`Index::warm_segment_tables`]), then a search of each prefix of up to
    /// [`WARMED_PREFIX_CHARS`] characters that the short-prefix tables list, one-letter
    /// prefixes first and the widest first within a length, until a newer snapshot comes or
    /// the caches hold their shares of the budget.
    pub fn warm(&self) {
        let path = self.path().display();
        if let Err(e) = self.warm_segment_tables() {
            tracing::debug!(error = %e, path = %path, "warming the segment tables");
        }
        let began = Instant::now();
        let limits = WarmLimits {
            snapshot: cache::budget() / SNAPSHOT_SHARE,
            total: cache::budget() / TOTAL_SHARE,
        };
        let warmed =
            SearchContext::new(self).and_then(|ctx| self.warm_first_keystrokes_in(&ctx, limits));
        match warmed {
            Ok(warmed) => tracing::info!(
                path = %path,
                prefixes = warmed.prefixes,
                left = warmed.left,
                duration_ms = began.elapsed().as_millis() as u64,
                "warmed the first keystrokes"
            ),
            // An index deleted meanwhile, or a snapshot whose files a later merge removed.
            Err(e) => tracing::debug!(error = %e, path = %path, "warming the first keystrokes"),
        }
    }

    /// The same on the snapshot of `ctx`, within `limits`.
    pub(crate) fn warm_first_keystrokes_in(
        &self,
        ctx: &SearchContext,
        limits: WarmLimits,
    ) -> Result<Warmed> {
        let began = Instant::now();
        let mut reach: HashMap<String, u64> = HashMap::new();
        for view in ctx.segments() {
            let table = loop {
                if let Some(table) = ready_prefix_tops(ctx, view) {
                    break table;
                }
                if began.elapsed() > TABLE_WAIT {
                    return Ok(Warmed::default());
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            for (prefix, documents) in table.prefixes() {
                let Ok(prefix) = std::str::from_utf8(prefix) else {
                    continue;
                };
                if prefix.chars().count() <= WARMED_PREFIX_CHARS {
                    *reach.entry(prefix.to_string()).or_default() += documents;
                }
            }
        }
        let mut prefixes: Vec<(String, u64)> = reach.into_iter().collect();
        let order = |(prefix, reach): &(String, u64)| {
            (
                prefix.chars().count(),
                std::cmp::Reverse(*reach),
                prefix.clone(),
            )
        };
        prefixes.sort_by_cached_key(order);
        let snapshot = ctx.searcher.generation().generation_id();
        let mut warmed = Warmed::default();
        for (done, (prefix, _)) in prefixes.iter().enumerate() {
            let replaced = self.searcher().generation().generation_id() != snapshot;
            let full = ctx.cache.bytes() >= limits.snapshot || cache::usage().0 >= limits.total;
            if replaced || full || began.elapsed() > WARM_TIME {
                warmed.left = prefixes.len() - done;
                break;
            }
            let request = SearchRequest {
                query: Some(prefix.clone()),
                limit: 20,
                ..Default::default()
            };
            self.search_in(ctx, &request)?;
            warmed.prefixes += 1;
        }
        Ok(warmed)
    }
}
