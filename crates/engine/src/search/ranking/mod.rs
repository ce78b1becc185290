//! Ranking rules and the bucket sort that chains them. Each rule splits the documents it is
//! given into buckets, best first; the next rule only ever sees one bucket of the previous one,
//! and a bucket is only split when the page needs its documents, so a page costs the work of
//! that page. Every bucket says how good it is (a rank out of a maximum), which is what the
//! ranking score and its details are made of.

mod attribute_rank;
mod cost;
mod custom;
mod exactness;
mod geo_sort;
mod proximity;
mod score;
mod sort;
mod typo;
mod word_position;
mod words;

use std::time::Instant;

use roaring::RoaringBitmap;

use std::sync::Arc;

use super::context::SearchContext;
use super::derivations::{self, Query};
use super::digest::{Digest, DigestMemo};
use super::distinct::Distinct;
use super::positions::MatchCache;
use crate::error::Result;
use crate::settings::RankingRule as RuleSetting;

pub use attribute_rank::AttributeRankRule;
pub use custom::CustomRule;
pub use exactness::ExactnessRule;
pub use geo_sort::GeoSortRule;
pub use proximity::ProximityRule;
pub use score::{details_json, global_score, Detail, MatchType, Rank};
pub use sort::SortRule;
pub use typo::TypoRule;
pub use word_position::WordPositionRule;
pub use words::WordsRule;

/// What the rules of one search share: the snapshot, the query, and the positions read so far.
pub struct RankCtx<'a> {
    pub search: &'a SearchContext,
    pub query: &'a Query,
    pub matches: MatchCache,
    /// How many attribute ranks the searchable attributes have.
    pub attribute_count: u32,
    /// The most typos one match may have for the rule being run (see `positions::Scope`);
    /// set by the bucket sort for each level.
    pub typo_limit: u8,
    /// Digests of the query's derivations, read when a rule first needs them.
    pub digests: DigestMemo,
}

/// The derivations that may count for one term in a rule's scope (what
/// `positions::Occurrence::usable` accepts), each with its digest.
pub struct TermDigests {
    pub term: u8,
    pub derivations: Vec<(usize, Arc<Digest>)>,
}

/// How searches rank: the production choice, or one of the paths tests pin so that each stays
/// checked against the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RankingMode {
    /// Digests, or positions for small buckets whose digests would cost more.
    Fast,
    /// Positions only, every universe exactly (no digests, no chunks): the reference the
    /// faster paths are checked against.
    Reference,
    /// Digests wherever the rules can, never positions for small buckets (see
    /// [`RankCtx::prefer_positions`]).
    DigestsAlways,
}

thread_local! {
    /// This thread's ranking mode; only tests change it.
    static MODE: std::cell::Cell<RankingMode> = const { std::cell::Cell::new(RankingMode::Fast) };
}

/// How this thread ranks (see [`with_ranking_mode`]).
pub(crate) fn ranking_mode() -> RankingMode {
    MODE.with(|m| m.get())
}

/// Runs `f` with this thread's searches ranked in `mode`.
#[cfg(test)]
pub(crate) fn with_ranking_mode<T>(mode: RankingMode, f: impl FnOnce() -> T) -> T {
    let before = MODE.with(|m| m.replace(mode));
    let out = f();
    MODE.with(|m| m.set(before));
    out
}

/// How many documents' digest entries (one word in one document, read in sequence) cost as
/// much as one document's positions read for a ranking rule (every word of the query seeked in
/// it, its occurrences sorted and costed): when the digests a rule lacks would read more than
/// this many times the positions it needs, it ranks from positions.
const DIGEST_READS_PER_POSITIONS_READ: u64 = 4;

impl<'a> RankCtx<'a> {
    /// A search's context before any rule ran: no positions read, no digest asked for, no typo
    /// limit (the bucket sort sets one per level).
    pub fn new(search: &'a SearchContext, query: &'a Query, attribute_count: u32) -> RankCtx<'a> {
        RankCtx {
            search,
            query,
            matches: Default::default(),
            digests: Default::default(),
            typo_limit: u8::MAX,
            attribute_count,
        }
    }

    /// Whether a rule should order `universe` (within the terms `terms` of `mask`) from
    /// positions rather than from digests: the two give the same buckets as long as the
    /// positional path ranks the universe in one chunk (up to [`cost::CHUNK`] documents), and
    /// the positions of a small bucket cost far less than the digests of its words when no
    /// search has read them yet (a frequent word shared by a few documents of the bucket:
    /// `odoo a` and every word starting with `a`). Digests already at hand are always used.
    pub fn prefer_positions(&self, universe: &RoaringBitmap, terms: &[u8], mask: u16) -> bool {
        if universe.len() > u64::from(cost::CHUNK) || ranking_mode() == RankingMode::DigestsAlways {
            return false;
        }
        let limit = self.typo_limit;
        let in_terms = terms.iter().fold(0u16, |bits, t| bits | (1 << t));
        let unread_digests = self.digests.unread_documents(self.search, self.query, |d| {
            d.covers & in_terms != 0 && d.covers & !mask == 0 && d.typos <= limit
        });
        if unread_digests == 0 {
            return false;
        }
        // What `MatchCache::ensure` would read: every derivation of the query in the documents
        // not read yet (a document of a group usually has one or two of its words).
        let unread = self.matches.unread(universe);
        if unread.is_empty() {
            return true;
        }
        let mut positions = 0u64;
        for d in &self.query.derivations {
            let words = match &d.shape {
                derivations::Shape::Any(words) => words.len().min(2) as u64,
                derivations::Shape::Sequence(words) => words.len() as u64,
            };
            positions += unread.intersection_len(&d.docs) * words;
            if positions * DIGEST_READS_PER_POSITIONS_READ >= unread_digests {
                return false;
            }
        }
        true
    }

    /// For each term of `terms`, the digests of the derivations that may count for it within
    /// `mask` and the current typo limit, with the documents of `universe` that a sequence in
    /// play (a word cut in two, a phrase) may match: no set tells where a sequence is, so the
    /// rule costs those from positions and every other document from the digests. `None` when a
    /// derivation restricted to some attributes is in play (unless `filters_ok`), or when the
    /// sequences' documents are more than [`cost::CHUNK`]: then the rule reads positions for all.
    pub fn term_digests(
        &mut self,
        terms: &[u8],
        mask: u16,
        filters_ok: bool,
        universe: &RoaringBitmap,
    ) -> Result<Option<(Vec<TermDigests>, RoaringBitmap)>> {
        if ranking_mode() == RankingMode::Reference {
            return Ok(None);
        }
        let mut sequences = RoaringBitmap::new();
        let mut out = Vec::with_capacity(terms.len());
        for &term in terms {
            let mut derivations = Vec::new();
            for (i, d) in self.query.derivations.iter().enumerate() {
                let usable = d.covers & (1 << term) != 0
                    && d.covers & !mask == 0
                    && d.typos <= self.typo_limit;
                if !usable {
                    continue;
                }
                if d.filter.is_some() && !filters_ok {
                    return Ok(None);
                }
                match self.digests.derivation(self.search, self.query, i)? {
                    Some(digest) => derivations.push((i, digest)),
                    None => {
                        sequences |= d.docs.as_ref() & universe;
                        if sequences.len() > u64::from(cost::CHUNK) {
                            return Ok(None);
                        }
                    }
                }
            }
            out.push(TermDigests { term, derivations });
        }
        Ok(Some((out, sequences)))
    }
}

/// Documents that a rule ranks equally, with the query terms still in play for them.
pub struct Bucket {
    pub docs: RoaringBitmap,
    /// A bit per query term still required (the words rule drops some).
    pub mask: u16,
    pub detail: Detail,
}

/// One ranking rule, used as: `start` with a universe, `next_bucket` until `None`, `end`.
pub trait RankingRule {
    fn name(&self) -> &'static str;
    fn start(&mut self, ctx: &mut RankCtx<'_>, universe: &RoaringBitmap, mask: u16) -> Result<()>;
    /// The next best documents of `universe` (what is left of the one given to `start`).
    fn next_bucket(
        &mut self,
        ctx: &mut RankCtx<'_>,
        universe: &RoaringBitmap,
    ) -> Result<Option<Bucket>>;
    fn end(&mut self) {}
}

/// The rules of a search, in the order of the index's `rankingRules`. `words` always comes
/// before the other relevancy rules, as in Meilisearch. A placeholder search (no query terms)
/// only uses the rules that sort by field values.
pub fn rules_for(
    mut words: Option<WordsRule>,
    settings: &[RuleSetting],
    placeholder: bool,
    sort: &[crate::search::SortCriterion],
) -> Vec<Box<dyn RankingRule>> {
    use crate::search::SortCriterion;
    let mut order: Vec<RuleSetting> = settings.to_vec();
    if !placeholder {
        let is_relevancy = |r: &RuleSetting| {
            matches!(
                r,
                RuleSetting::Typo
                    | RuleSetting::Proximity
                    | RuleSetting::Attribute
                    | RuleSetting::AttributeRank
                    | RuleSetting::WordPosition
                    | RuleSetting::Exactness
            )
        };
        let words_at = order.iter().position(|r| *r == RuleSetting::Words);
        let first_relevancy = order.iter().position(is_relevancy);
        match (words_at, first_relevancy) {
            (Some(w), Some(r)) if w > r => {
                order.remove(w);
                order.insert(r, RuleSetting::Words);
            }
            (None, Some(r)) => order.insert(r, RuleSetting::Words),
            (None, None) => order.push(RuleSetting::Words),
            _ => {}
        }
    }
    let mut rules: Vec<Box<dyn RankingRule>> = Vec::new();
    for rule in order {
        match rule {
            RuleSetting::Asc(field) => rules.push(Box::new(CustomRule::new(field, true))),
            RuleSetting::Desc(field) => rules.push(Box::new(CustomRule::new(field, false))),
            RuleSetting::Sort if sort.is_empty() => rules.push(Box::new(SortRule::default())),
            // Each criterion of the `sort` parameter splits the buckets of the one before.
            RuleSetting::Sort => {
                for criterion in sort {
                    rules.push(match criterion {
                        SortCriterion::Field { field, ascending } => {
                            Box::new(CustomRule::new(field.clone(), *ascending))
                        }
                        SortCriterion::GeoPoint {
                            lat,
                            lng,
                            ascending,
                        } => Box::new(GeoSortRule::new((*lat, *lng), *ascending)),
                    });
                }
            }
            _ if placeholder => {}
            RuleSetting::Words => {
                if let Some(words) = words.take() {
                    rules.push(Box::new(words));
                }
            }
            RuleSetting::Typo => rules.push(Box::new(TypoRule::default())),
            RuleSetting::Proximity => rules.push(Box::new(ProximityRule::default())),
            RuleSetting::Attribute => {
                rules.push(Box::new(AttributeRankRule::new(true)));
                rules.push(Box::new(WordPositionRule::new(true)));
            }
            RuleSetting::AttributeRank => rules.push(Box::new(AttributeRankRule::new(false))),
            RuleSetting::WordPosition => rules.push(Box::new(WordPositionRule::new(false))),
            RuleSetting::Exactness => rules.push(Box::new(ExactnessRule::default())),
        }
    }
    rules
}

/// How ranking scores are wanted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scoring {
    /// Keep the details of every returned document.
    pub details: bool,
    /// Leave out documents scoring below this.
    pub threshold: Option<f64>,
}

pub struct BucketSortOutcome {
    pub documents: Vec<u32>,
    /// Per document, the details of the buckets it came through (when scoring).
    pub details: Vec<Vec<Detail>>,
    pub degraded: bool,
    /// Documents left out for scoring below the threshold.
    pub dropped: u64,
}

/// Orders `universe` with `rules` until the window `[offset, window_end)` is filled. With
/// `distinct`, each document placed (or skipped before the offset) excludes the others sharing
/// its distinct value from every universe still to be ranked.
#[allow(clippy::too_many_arguments)]
pub fn bucket_sort(
    ctx: &mut RankCtx<'_>,
    rules: &mut [Box<dyn RankingRule>],
    universe: &RoaringBitmap,
    mask: u16,
    offset: usize,
    window_end: usize,
    deadline: Option<Instant>,
    scoring: Scoring,
    distinct: Option<&mut Distinct>,
) -> Result<BucketSortOutcome> {
    let keep_details = scoring.details || scoring.threshold.is_some();
    let mut out = Collector {
        offset,
        window_end,
        skipped: 0,
        documents: Vec::new(),
        details: Vec::new(),
        keep_details,
        distinct,
    };
    let mut dropped = 0u64;
    if rules.is_empty() || universe.is_empty() || window_end <= offset {
        out.push_all(universe, &[]);
        return Ok(BucketSortOutcome {
            documents: out.documents,
            details: out.details,
            degraded: false,
            dropped,
        });
    }
    let mut universes: Vec<RoaringBitmap> = vec![universe.clone()];
    // Per level, its last bucket, still to be taken out of the level's universe: that is done
    // when the level is asked for its next bucket, which a page filled meanwhile never does
    // (`take_out` costs about the universe's size).
    let mut handed_out: Vec<Option<RoaringBitmap>> = vec![None];
    // The typo limit of each level: the typo count of the typo bucket above it, if any.
    let mut typo_limits: Vec<u8> = vec![u8::MAX];
    let mut path: Vec<Detail> = Vec::new();
    ctx.typo_limit = u8::MAX;
    rules[0].start(ctx, universe, mask)?;
    let mut depth = 0usize;
    while !out.is_full() {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            for level in (0..=depth).rev() {
                if let Some(bucket) = handed_out[level].take() {
                    take_out_left(&mut universes[level], &bucket, &out);
                }
                path.truncate(level);
                let rest = std::mem::take(&mut universes[level]);
                out.push_all(&rest, &path);
                out.exclude_from(&mut universes);
                rules[level].end();
            }
            return Ok(BucketSortOutcome {
                documents: out.documents,
                details: out.details,
                degraded: true,
                dropped,
            });
        }
        ctx.typo_limit = typo_limits[depth];
        if let Some(bucket) = handed_out[depth].take() {
            take_out_left(&mut universes[depth], &bucket, &out);
        }
        let bucket = rules[depth].next_bucket(ctx, &universes[depth])?;
        let Some(mut bucket) = bucket else {
            // This rule has nothing left: what remains of its universe is unranked by it.
            let rest = std::mem::take(&mut universes[depth]);
            rules[depth].end();
            path.truncate(depth);
            out.push_all(&rest, &path);
            out.exclude_from(&mut universes);
            if depth == 0 {
                break;
            }
            universes.pop();
            handed_out.pop();
            typo_limits.pop();
            depth -= 1;
            continue;
        };
        // The documents distinct excluded are out of every universe already (`exclude_from`
        // follows every placement), so only the others are ranked and later taken out.
        if let Some(distinct) = &out.distinct {
            bucket.docs -= distinct.excluded();
        }
        if bucket.docs.is_empty() {
            continue;
        }
        path.truncate(depth);
        path.push(bucket.detail);
        if let Some(threshold) = scoring.threshold {
            // Deeper rules can only lower the score: the best this bucket can do is known.
            if global_score(&path) < threshold {
                if path[depth].has_rank() {
                    // The next buckets of this rule are worse still (the bucket among them).
                    dropped += universes[depth].len();
                    universes[depth].clear();
                } else {
                    dropped += bucket.docs.len();
                    handed_out[depth] = Some(bucket.docs);
                }
                continue;
            }
        }
        let last = depth + 1 == rules.len();
        let skip = scoring.threshold.is_none() && out.would_skip_whole(&bucket.docs);
        if last || (!keep_details && bucket.docs.len() == 1) || skip {
            out.push_all(&bucket.docs, &path);
            out.exclude_from(&mut universes);
            handed_out[depth] = Some(bucket.docs);
            continue;
        }
        let limit = match &path[depth] {
            Detail::Typo { count, .. } => {
                typo_limits[depth].min((*count).min(u32::from(u8::MAX)) as u8)
            }
            _ => typo_limits[depth],
        };
        depth += 1;
        typo_limits.push(limit);
        ctx.typo_limit = limit;
        rules[depth].start(ctx, &bucket.docs, bucket.mask)?;
        // The bucket goes on as the next level's universe: the level above keeps a copy to take
        // out later, unless taking it out now costs less than the copy.
        let above = &mut universes[depth - 1];
        if cheap_to_take_out(above, &bucket.docs) {
            take_out(above, &bucket.docs);
        } else {
            handed_out[depth - 1] = Some(bucket.docs.clone());
        }
        universes.push(bucket.docs);
        handed_out.push(None);
    }
    for rule in rules.iter_mut().take(depth + 1) {
        rule.end();
    }
    Ok(BucketSortOutcome {
        documents: out.documents,
        details: out.details,
        degraded: false,
        dropped,
    })
}

/// Buckets of at most this many documents leave their universe one document at a time.
const FEW_TAKEN: u64 = 16;

/// Whether [`take_out`] does without a set difference: the bucket is the whole universe, or a
/// few documents.
fn cheap_to_take_out(universe: &RoaringBitmap, bucket: &RoaringBitmap) -> bool {
    let taken = bucket.len();
    taken == universe.len() || taken <= FEW_TAKEN
}

/// Takes a level's last bucket out of its universe, which distinct may have shrunk since (its
/// excluded documents are gone from every universe, so they are dropped from the bucket).
fn take_out_left(universe: &mut RoaringBitmap, bucket: &RoaringBitmap, out: &Collector<'_>) {
    match &out.distinct {
        Some(distinct) => take_out(universe, &(bucket - distinct.excluded())),
        None => take_out(universe, bucket),
    }
}

/// Removes a bucket's documents from the universe it came from (a rule's bucket is always
/// within the universe it was asked about). A set difference rebuilds every container the
/// bucket touches, which costs about as much as the universe is large: a bucket that is the
/// whole universe (a rule that does not split it, like the words rule on a one-word query)
/// empties it instead, and the one or few documents a sort hands out at a time are removed in
/// place.
fn take_out(universe: &mut RoaringBitmap, bucket: &RoaringBitmap) {
    debug_assert!(bucket.is_subset(universe), "a bucket outside its universe");
    if bucket.len() == universe.len() {
        universe.clear();
    } else if bucket.len() <= FEW_TAKEN {
        for doc in bucket {
            universe.remove(doc);
        }
    } else {
        *universe -= bucket;
    }
}

struct Collector<'d> {
    offset: usize,
    window_end: usize,
    skipped: usize,
    documents: Vec<u32>,
    details: Vec<Vec<Detail>>,
    keep_details: bool,
    distinct: Option<&'d mut Distinct>,
}

impl Collector<'_> {
    /// Removes the documents distinct has excluded so far from the universes still ranked.
    fn exclude_from(&self, universes: &mut [RoaringBitmap]) {
        if let Some(distinct) = &self.distinct {
            for universe in universes {
                *universe -= distinct.excluded();
            }
        }
    }

    fn is_full(&self) -> bool {
        self.skipped + self.documents.len() >= self.window_end
    }

    /// Whether every document of `bucket` falls before the offset, so its order is irrelevant.
    fn would_skip_whole(&self, bucket: &RoaringBitmap) -> bool {
        self.documents.is_empty() && self.skipped + bucket.len() as usize <= self.offset
    }

    fn push_all(&mut self, docs: &RoaringBitmap, path: &[Detail]) {
        for id in docs {
            if self.is_full() {
                return;
            }
            if let Some(distinct) = self.distinct.as_deref_mut() {
                if !distinct.keep(id) {
                    continue;
                }
            }
            if self.skipped < self.offset {
                self.skipped += 1;
            } else {
                self.documents.push(id);
                if self.keep_details {
                    self.details.push(path.to_vec());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever the bucket's size (the whole universe, a few documents, many), taking it out
    /// leaves the rest of the universe.
    #[test]
    fn taking_a_bucket_out_leaves_the_rest() {
        let universe: RoaringBitmap = (0..200_000).step_by(3).collect();
        let few: RoaringBitmap = [0, 3, 65_535 * 3, 199_998].into_iter().collect();
        let many: RoaringBitmap = universe.iter().step_by(5).collect();
        let one_more: RoaringBitmap = universe.iter().take(FEW_TAKEN as usize + 1).collect();
        for bucket in [&universe, &few, &many, &one_more, &RoaringBitmap::new()] {
            let mut rest = universe.clone();
            take_out(&mut rest, bucket);
            assert_eq!(rest, &universe - bucket);
            assert_eq!(rest.len(), universe.len() - bucket.len());
        }
    }
}
