//! What searches on the same snapshot can share. Search-as-you-type sends a query per keystroke
//! and only the last word changes, so the derivations of the other words, the documents of
//! every word and the digests of where words occur are found again and again. They depend only
//! on the segments (and their deletes), so they are kept per snapshot, identified by its segment
//! ids and delete stamps. Every snapshot's cache counts against one process-wide budget; past
//! it, the caches of older snapshots are emptied first, then the least recently used half of
//! this snapshot's entries is dropped.

use std::collections::HashMap as StdHashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use roaring::RoaringBitmap;
use tantivy::index::SegmentId;
use tantivy::Searcher;

use super::answers::CachedAnswer;
use super::digest::Digest;

/// The caches' maps: keys are words and groups of words, looked up several times per query
/// word, so they are hashed with foldhash (randomly seeded, like std's SipHash, and several
/// times cheaper on short keys).
type HashMap<K, V> = StdHashMap<K, V, foldhash::fast::RandomState>;

/// Snapshots whose caches are kept at once (several indexes, or a new commit while the previous
/// snapshot still serves).
const SNAPSHOTS: usize = 8;
/// Bytes of cached sets all snapshots together may keep by default, counted as they sit in
/// memory ([`set_bytes`]). Three passes of PyPI's keystroke log leave about 630 MB of them;
/// past the budget, entries are dropped and read again.
pub const DEFAULT_BUDGET_BYTES: u64 = 1024 * 1024 * 1024;

/// The budget in force (`--search-cache-size`).
static BUDGET: AtomicU64 = AtomicU64::new(DEFAULT_BUDGET_BYTES);

/// Sets the bytes of cached sets all snapshots together may keep (at start).
pub fn set_budget(bytes: u64) {
    BUDGET.store(bytes, Ordering::Relaxed);
}

/// The bytes of cached sets all snapshots together may keep.
pub fn budget() -> u64 {
    BUDGET.load(Ordering::Relaxed)
}

/// Bytes currently charged by every live snapshot cache.
static CHARGED: AtomicU64 = AtomicU64::new(0);
/// How many times a cache had to drop entries to stay within budget.
static EVICTIONS: AtomicU64 = AtomicU64::new(0);
/// How many searches were answered from a kept answer (`answers.rs`).
static ANSWERS_REUSED: AtomicU64 = AtomicU64::new(0);

/// How many searches were answered from a kept answer so far (for metrics).
pub fn answers_reused() -> u64 {
    ANSWERS_REUSED.load(Ordering::Relaxed)
}

/// Counts a search answered from a kept answer.
pub(crate) fn count_answer_reused() {
    ANSWERS_REUSED.fetch_add(1, Ordering::Relaxed);
}

/// Bytes the caches hold now, and how many evictions happened so far (for the relevance and
/// keystroke harness, and metrics).
pub fn usage() -> (u64, u64) {
    (
        CHARGED.load(Ordering::Relaxed),
        EVICTIONS.load(Ordering::Relaxed),
    )
}

/// Bytes held by kind of entry, over every snapshot cache, each with its name: word documents,
/// derivations (with the unions filled in them), unions of documents, word digests, unions of
/// digests, whole answers, proximity pairs, far documents' proximity costs.
pub fn usage_by_kind() -> [(&'static str, u64); 8] {
    let mut out = [
        ("word_documents", 0),
        ("derivations", 0),
        ("document_unions", 0),
        ("word_digests", 0),
        ("digest_unions", 0),
        ("answers", 0),
        ("proximity_pairs", 0),
        ("proximity_far_costs", 0),
    ];
    for (_, cache) in CACHES.lock().iter() {
        let e = cache.entries.lock();
        out[0].1 += e.words.values().map(|s| s.bytes).sum::<u64>();
        out[1].1 += e.derivations.values().map(|s| s.bytes).sum::<u64>();
        out[2].1 += e.unions.values().map(|s| s.bytes).sum::<u64>();
        out[3].1 += e.digests.values().map(|s| s.bytes).sum::<u64>();
        out[4].1 += e.digest_unions.values().map(|s| s.bytes).sum::<u64>();
        out[5].1 += e.answers.values().map(|s| s.bytes).sum::<u64>();
        out[6].1 += e.pairs.values().map(|s| s.bytes).sum::<u64>();
        out[7].1 += e.far_costs.values().map(|s| s.bytes).sum::<u64>();
    }
    out
}

/// Bytes a set takes in memory: the set, its list of containers, each container's values, and
/// some allocator rounding per allocation. Serialized sizes count only the values, which
/// undercounts the many small sets of digests several times over (the process grew to two and a
/// half times what the budget counted).
pub fn set_bytes(set: &RoaringBitmap) -> u64 {
    const SET: u64 = std::mem::size_of::<RoaringBitmap>() as u64;
    /// A container: its key and the handle of its values (`roaring`'s `Container`).
    const CONTAINER: u64 = 40;
    /// What the allocator adds to an allocation, about (size classes, headers).
    const ALLOCATION: u64 = 16;
    if set.is_empty() {
        return SET;
    }
    let stats = set.statistics();
    let containers = u64::from(stats.n_containers);
    SET + ALLOCATION
        + containers * (CONTAINER + ALLOCATION)
        + 2 * u64::from(stats.n_values_array_containers)
        + 8192 * u64::from(stats.n_bitset_containers)
        + stats.n_bytes_run_containers
}

/// Which segments, with which deletes, a searcher sees.
type SnapshotKey = Vec<(SegmentId, Option<u64>)>;

/// Snapshot caches, least recently used first.
static CACHES: Mutex<Vec<(SnapshotKey, Arc<SnapshotCache>)>> = Mutex::new(Vec::new());

/// Drops the caches of the snapshots that hold a segment of `gone` (merged away, emptied by a
/// commit, or of a deleted index): no search will start on such a snapshot again, and after a
/// merge the warm-up fills the new snapshot's cache, so each merge of a sustained reindexing
/// left one more dead cache until the budget pushed them out (about 135 MB each for PyPI).
/// Searches still running on one keep it until they end.
pub fn forget_snapshots_with(gone: &std::collections::HashSet<SegmentId>) {
    let dropped = {
        let mut caches = CACHES.lock();
        let (dropped, kept) = split_snapshots(std::mem::take(&mut *caches), gone);
        *caches = kept;
        dropped
    };
    // Freed (and uncharged, `Drop`) outside the lock.
    drop(dropped);
}

type Snapshots = Vec<(SnapshotKey, Arc<SnapshotCache>)>;

/// The snapshots holding a segment of `gone`, and the others, each in their order.
fn split_snapshots(
    caches: Snapshots,
    gone: &std::collections::HashSet<SegmentId>,
) -> (Snapshots, Snapshots) {
    caches
        .into_iter()
        .partition(|(key, _)| key.iter().any(|(segment, _)| gone.contains(segment)))
}

/// The derivations of one query word, as found in the dictionary, with what searches derive
/// from them: each word's documents, and (filled when first needed) the unions of the words of
/// each group, documents and digests alike. What is filled later is charged to this entry.
#[derive(Debug, Default)]
pub struct CachedDerivations {
    /// Under what this is cached.
    pub key: DerivationsKey,
    pub exact: Option<String>,
    /// The document frequency of `exact` (0 without it).
    pub exact_freq: u64,
    /// The most frequent words that the word is a strict prefix of, most frequent first.
    pub prefixes: Vec<String>,
    /// Their document frequencies.
    pub prefix_freqs: Vec<u64>,
    pub typos: Vec<(String, u8)>,
    /// For a prefix with typos allowed, every word the dictionary walk found (before keeping
    /// the most frequent), with its document frequency, when they were few: the same word
    /// without a prefix (once a space follows it) finds its words among them
    /// (`derivations::prefix_walk_kept`).
    pub walked: Option<Vec<(String, u64)>>,
    /// The live documents of `exact`, then of each prefix, then of each typo'd word.
    pub docs: Vec<Arc<RoaringBitmap>>,
    /// Per group (prefixes, words with one typo, with two), the union of its words' documents.
    pub unions: [std::sync::OnceLock<Arc<RoaringBitmap>>; 3],
    /// Per group, the union of its words' digests.
    pub digests: [std::sync::OnceLock<Arc<Digest>>; 3],
    /// Per group, per segment of the snapshot, its words' term ordinals in that segment's
    /// dictionary, ascending, each with the word's place in the group: how a few documents'
    /// forward words are matched against the group (`positions.rs`).
    pub forward_ords: [std::sync::OnceLock<Arc<GroupOrds>>; 3],
    /// The documents of all the word's groups up to each typo level (exact word and prefixes;
    /// then also one typo; then also two), set by the first search whose derivations of the
    /// word are unrestricted: the words and typo rules start from these on every search.
    pub levels: std::sync::OnceLock<[Arc<RoaringBitmap>; 3]>,
}

/// Per segment of a snapshot, a group's words as (term ordinal, place in the group), ascending.
pub type GroupOrds = Vec<Vec<(u32, u32)>>;

/// The documents where a word of one digest is at a given distance from a word of another in
/// the same attribute, at positions both digests keep (`proximity::adjacent`). Each digest is
/// held weakly: the key is the two digests' addresses, which a weak reference keeps from being
/// reused, without keeping a digest the cache has let go of in memory.
pub struct CachedPair {
    pub left: std::sync::Weak<Digest>,
    pub right: std::sync::Weak<Digest>,
    pub docs: Arc<RoaringBitmap>,
}

/// Two digests' addresses and a distance, as `proximity.rs` numbers them.
type PairKey = (usize, usize, u32);

fn pair_key(left: &Arc<Digest>, right: &Arc<Digest>, k: u32) -> PairKey {
    (Arc::as_ptr(left) as usize, Arc::as_ptr(right) as usize, k)
}

/// The proximity costs, for one pair of consecutive query terms, of the documents the digests
/// cannot cost it for (a match beyond the positions they keep, `proximity::far_pair_costs`), as
/// far as searches have costed them from positions. A pair's cost in a document depends only on
/// the two terms' derivations (their words, and which derivations stand for both terms), not on
/// the search's universe, so a later search costs only the documents no earlier one did. The
/// digests of the derivations are held weakly, as in [`CachedPair`], to keep the key's
/// addresses from being reused.
pub struct FarPairCosts {
    pub digests: Vec<std::sync::Weak<Digest>>,
    /// The documents costed so far.
    pub costed: RoaringBitmap,
    /// `by_cost[k]`: the costed documents whose pair costs exactly `k`, below the highest cost
    /// (the others cost the most).
    pub by_cost: Vec<RoaringBitmap>,
}

impl FarPairCosts {
    fn bytes(&self) -> u64 {
        set_bytes(&self.costed)
            + self.by_cost.iter().map(set_bytes).sum::<u64>()
            + (std::mem::size_of::<FarPairCosts>() + 16 * self.digests.len()) as u64
    }
}

/// The addresses of the left term's derivation digests, then the right's, then those of the
/// derivations both terms share (one word standing for both), each list ended by a zero.
pub type FarPairKey = Vec<usize>;

/// The key of a word's cached derivations.
pub type DerivationsKey = (String, bool, u8);

/// One cached value, with its size and when it was last used.
struct Slot<T> {
    value: T,
    bytes: u64,
    used: u64,
}

#[derive(Default)]
struct Entries {
    words: HashMap<String, Slot<Arc<RoaringBitmap>>>,
    derivations: HashMap<DerivationsKey, Slot<Arc<CachedDerivations>>>,
    unions: HashMap<String, Slot<Arc<RoaringBitmap>>>,
    digests: HashMap<String, Slot<Arc<Digest>>>,
    digest_unions: HashMap<String, Slot<Arc<Digest>>>,
    answers: HashMap<String, Slot<Arc<CachedAnswer>>>,
    pairs: HashMap<PairKey, Slot<Arc<CachedPair>>>,
    far_costs: HashMap<FarPairKey, Slot<Arc<FarPairCosts>>>,
    bytes: u64,
    /// Counts uses, to tell the least recently used entries.
    clock: u64,
}

impl Entries {
    fn get<K, Q, T>(map: &mut HashMap<K, Slot<T>>, clock: &mut u64, key: &Q) -> Option<T>
    where
        K: Eq + Hash + std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
        T: Clone,
    {
        let slot = map.get_mut(key)?;
        *clock += 1;
        slot.used = *clock;
        Some(slot.value.clone())
    }

    /// Drops the least recently used half of the entries (by count); returns the bytes freed.
    fn evict_half(&mut self) -> u64 {
        let mut uses: Vec<u64> = Vec::new();
        uses.extend(self.words.values().map(|s| s.used));
        uses.extend(self.derivations.values().map(|s| s.used));
        uses.extend(self.unions.values().map(|s| s.used));
        uses.extend(self.digests.values().map(|s| s.used));
        uses.extend(self.digest_unions.values().map(|s| s.used));
        uses.extend(self.answers.values().map(|s| s.used));
        uses.extend(self.pairs.values().map(|s| s.used));
        uses.extend(self.far_costs.values().map(|s| s.used));
        if uses.is_empty() {
            return 0;
        }
        let middle = uses.len() / 2;
        let cutoff = *uses.select_nth_unstable(middle).1;
        let before = self.bytes;
        let mut freed = 0u64;
        fn prune<K, T>(map: &mut HashMap<K, Slot<T>>, cutoff: u64, freed: &mut u64) {
            map.retain(|_, slot| {
                let keep = slot.used > cutoff;
                if !keep {
                    *freed += slot.bytes;
                }
                keep
            });
        }
        prune(&mut self.words, cutoff, &mut freed);
        prune(&mut self.derivations, cutoff, &mut freed);
        prune(&mut self.unions, cutoff, &mut freed);
        prune(&mut self.digests, cutoff, &mut freed);
        prune(&mut self.digest_unions, cutoff, &mut freed);
        prune(&mut self.answers, cutoff, &mut freed);
        prune(&mut self.pairs, cutoff, &mut freed);
        prune(&mut self.far_costs, cutoff, &mut freed);
        self.bytes = before.saturating_sub(freed);
        before - self.bytes
    }
}

/// The cache of one snapshot.
pub struct SnapshotCache {
    entries: Mutex<Entries>,
}

impl Drop for SnapshotCache {
    fn drop(&mut self) {
        CHARGED.fetch_sub(self.entries.get_mut().bytes, Ordering::Relaxed);
    }
}

impl SnapshotCache {
    /// Bytes this snapshot's cache holds.
    pub fn bytes(&self) -> u64 {
        self.entries.lock().bytes
    }

    /// The cache of the searcher's snapshot, created if new.
    pub fn of(searcher: &Searcher) -> Arc<SnapshotCache> {
        let key: SnapshotKey = searcher
            .segment_readers()
            .iter()
            .map(|s| (s.segment_id(), s.delete_opstamp()))
            .collect();
        let mut caches = CACHES.lock();
        if let Some(i) = caches.iter().position(|(k, _)| *k == key) {
            // Most recently used last.
            let entry = caches.remove(i);
            let cache = entry.1.clone();
            caches.push(entry);
            return cache;
        }
        if caches.len() >= SNAPSHOTS {
            caches.remove(0);
        }
        let cache = Arc::new(SnapshotCache {
            entries: Mutex::new(Entries::default()),
        });
        caches.push((key, cache.clone()));
        cache
    }

    /// A cache of no snapshot, for tests of what is kept in it.
    #[cfg(test)]
    pub(crate) fn detached() -> SnapshotCache {
        SnapshotCache {
            entries: Mutex::new(Entries::default()),
        }
    }

    /// Empties this cache.
    fn clear(&self) {
        let mut entries = self.entries.lock();
        CHARGED.fetch_sub(entries.bytes, Ordering::Relaxed);
        *entries = Entries::default();
    }

    /// Records `bytes` more, and frees room when all caches together are over budget: older
    /// snapshots first, then the least recently used half of this one.
    fn charge(&self, bytes: u64) {
        let total = CHARGED.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if total <= budget() {
            return;
        }
        let others: Vec<Arc<SnapshotCache>> = CACHES
            .lock()
            .iter()
            .map(|(_, c)| c.clone())
            .filter(|c| !std::ptr::eq(c.as_ref(), self))
            .collect();
        for other in others {
            other.clear();
            if CHARGED.load(Ordering::Relaxed) <= budget() {
                return;
            }
        }
        EVICTIONS.fetch_add(1, Ordering::Relaxed);
        let freed = self.entries.lock().evict_half();
        CHARGED.fetch_sub(freed, Ordering::Relaxed);
    }

    /// Inserts `value` in the map `map` picks, under the entries' lock, then charges the bytes
    /// outside it (charging may empty other caches, whose locks must not be taken while holding
    /// this one). An entry it replaces (two searches that computed the same value at once, an
    /// answer computed again under a new state) is no longer charged.
    fn insert<K: Eq + Hash, T>(
        &self,
        map: fn(&mut Entries) -> &mut HashMap<K, Slot<T>>,
        key: K,
        value: T,
        bytes: u64,
    ) {
        let replaced = {
            let mut entries = self.entries.lock();
            entries.clock += 1;
            let used = entries.clock;
            let replaced = map(&mut entries)
                .insert(key, Slot { value, bytes, used })
                .map_or(0, |old| old.bytes);
            entries.bytes = entries.bytes + bytes - replaced;
            replaced
        };
        CHARGED.fetch_sub(replaced, Ordering::Relaxed);
        self.charge(bytes);
    }

    pub fn word(&self, word: &str) -> Option<Arc<RoaringBitmap>> {
        let entries = &mut *self.entries.lock();
        Entries::get(&mut entries.words, &mut entries.clock, word)
    }

    pub fn put_word(&self, word: &str, docs: Arc<RoaringBitmap>) {
        let bytes = set_bytes(&docs);
        self.insert(|e| &mut e.words, word.to_string(), docs, bytes);
    }

    pub fn derivations(&self, key: &DerivationsKey) -> Option<Arc<CachedDerivations>> {
        let entries = &mut *self.entries.lock();
        Entries::get(&mut entries.derivations, &mut entries.clock, key)
    }

    pub fn put_derivations(&self, key: DerivationsKey, found: Arc<CachedDerivations>) {
        // The words' documents are charged as words (`put_word`).
        let bytes = found.prefixes.iter().map(|p| p.len() as u64).sum::<u64>()
            + found.typos.iter().map(|t| t.0.len() as u64).sum::<u64>()
            + found
                .walked
                .iter()
                .flatten()
                .map(|w| w.0.len() as u64 + 32)
                .sum::<u64>();
        self.insert(|e| &mut e.derivations, key, found, bytes);
    }

    /// Charges `bytes` more to a word's derivations (a union filled in later), if still cached.
    pub fn charge_derivations(&self, key: &DerivationsKey, bytes: u64) {
        let charged = {
            let mut entries = self.entries.lock();
            match entries.derivations.get_mut(key) {
                Some(slot) => {
                    slot.bytes += bytes;
                    entries.bytes += bytes;
                    true
                }
                None => false,
            }
        };
        if charged {
            self.charge(bytes);
        }
    }

    /// The union of the documents of a group of words, under a key naming the group.
    pub fn union(&self, key: &str) -> Option<Arc<RoaringBitmap>> {
        let entries = &mut *self.entries.lock();
        Entries::get(&mut entries.unions, &mut entries.clock, key)
    }

    pub fn put_union(&self, key: &str, docs: Arc<RoaringBitmap>) {
        let bytes = set_bytes(&docs);
        self.insert(|e| &mut e.unions, key.to_string(), docs, bytes);
    }

    /// The digest of one word (`digest.rs`).
    pub fn digest(&self, word: &str) -> Option<Arc<Digest>> {
        let entries = &mut *self.entries.lock();
        Entries::get(&mut entries.digests, &mut entries.clock, word)
    }

    /// Whether the digest of a word is cached, without counting it as a use.
    pub fn has_digest(&self, word: &str) -> bool {
        self.entries.lock().digests.contains_key(word)
    }

    pub fn put_digest(&self, word: &str, digest: Arc<Digest>) {
        let bytes = digest.bytes();
        self.insert(|e| &mut e.digests, word.to_string(), digest, bytes);
    }

    /// The union of the digests of a group of words, under a key naming the group.
    pub fn digest_union(&self, key: &str) -> Option<Arc<Digest>> {
        let entries = &mut *self.entries.lock();
        Entries::get(&mut entries.digest_unions, &mut entries.clock, key)
    }

    pub fn put_digest_union(&self, key: &str, digest: Arc<Digest>) {
        let bytes = digest.bytes();
        self.insert(|e| &mut e.digest_unions, key.to_string(), digest, bytes);
    }

    /// The kept answer of a search (`answers.rs`), under its request's key.
    pub(crate) fn answer(&self, key: &str) -> Option<Arc<CachedAnswer>> {
        let entries = &mut *self.entries.lock();
        Entries::get(&mut entries.answers, &mut entries.clock, key)
    }

    pub(crate) fn put_answer(&self, key: String, answer: Arc<CachedAnswer>, bytes: u64) {
        self.insert(|e| &mut e.answers, key, answer, bytes);
    }

    /// The documents kept for two digests at distance `k` (see [`CachedPair`]).
    pub fn pair(
        &self,
        left: &Arc<Digest>,
        right: &Arc<Digest>,
        k: u32,
    ) -> Option<Arc<RoaringBitmap>> {
        let entries = &mut *self.entries.lock();
        let key = pair_key(left, right, k);
        Entries::get(&mut entries.pairs, &mut entries.clock, &key).map(|pair| pair.docs.clone())
    }

    pub fn put_pair(
        &self,
        left: &Arc<Digest>,
        right: &Arc<Digest>,
        k: u32,
        docs: Arc<RoaringBitmap>,
    ) {
        let key = pair_key(left, right, k);
        let bytes = set_bytes(&docs) + std::mem::size_of::<CachedPair>() as u64;
        let pair = CachedPair {
            left: Arc::downgrade(left),
            right: Arc::downgrade(right),
            docs,
        };
        self.insert(|e| &mut e.pairs, key, Arc::new(pair), bytes);
    }

    /// The far documents' costs kept for a pair of terms (see [`FarPairCosts`]).
    pub fn far_costs(&self, key: &FarPairKey) -> Option<Arc<FarPairCosts>> {
        let entries = &mut *self.entries.lock();
        Entries::get(&mut entries.far_costs, &mut entries.clock, key)
    }

    /// How many pairs of terms have far costs kept here (for tests of what searches keep).
    #[cfg(test)]
    pub(crate) fn far_costs_kept(&self) -> usize {
        self.entries.lock().far_costs.len()
    }

    /// Keeps `costs` for a pair of terms, replacing what was kept (a subset of it, or the same
    /// documents costed by a search that ran at the same time).
    pub fn put_far_costs(&self, key: FarPairKey, costs: Arc<FarPairCosts>) {
        let bytes = costs.bytes();
        self.insert(|e| &mut e.far_costs, key, costs, bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value inserted again under the same key replaces the first, which stops counting.
    #[test]
    fn a_replaced_entry_is_no_longer_charged() {
        let cache = SnapshotCache {
            entries: Mutex::new(Entries::default()),
        };
        let docs = Arc::new((0..1000u32).collect::<RoaringBitmap>());
        cache.put_word("word", docs.clone());
        let once = cache.bytes();
        assert_eq!(once, set_bytes(&docs));
        cache.put_word("word", docs.clone());
        assert_eq!(cache.bytes(), once);
        cache.put_word("other", docs);
        assert_eq!(cache.bytes(), 2 * once);
    }

    /// A pair of digests is kept under both digests, in order, and its distance, and charged
    /// as its set (`proximity::adjacent` fills it).
    #[test]
    fn pairs_are_kept_per_digests_and_distance() {
        let cache = SnapshotCache::detached();
        let (a, b) = (Arc::new(Digest::default()), Arc::new(Digest::default()));
        let docs = Arc::new((0..500u32).map(|d| d * 7).collect::<RoaringBitmap>());
        cache.put_pair(&a, &b, 0, docs.clone());
        assert!(Arc::ptr_eq(&cache.pair(&a, &b, 0).unwrap(), &docs));
        assert!(cache.pair(&b, &a, 0).is_none());
        assert!(cache.pair(&a, &b, 1).is_none());
        assert_eq!(
            cache.bytes(),
            set_bytes(&docs) + std::mem::size_of::<CachedPair>() as u64
        );
    }

    /// Snapshots holding a forgotten segment are dropped, with or without deletes; the others
    /// stay, in their order.
    #[test]
    fn snapshots_of_forgotten_segments_are_dropped() {
        let [a, b, c] = [
            SegmentId::generate_random(),
            SegmentId::generate_random(),
            SegmentId::generate_random(),
        ];
        let cache = || {
            Arc::new(SnapshotCache {
                entries: Mutex::new(Entries::default()),
            })
        };
        let caches = vec![
            (vec![(a, None), (b, None)], cache()),
            (vec![(c, None)], cache()),
            (vec![(a, Some(3))], cache()),
            (vec![(b, None), (c, Some(1))], cache()),
        ];
        let gone = std::collections::HashSet::from([a]);
        let (dropped, kept) = split_snapshots(caches, &gone);
        let keys = |list: &Snapshots| list.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        assert_eq!(
            keys(&dropped),
            vec![vec![(a, None), (b, None)], vec![(a, Some(3))]]
        );
        assert_eq!(
            keys(&kept),
            vec![vec![(c, None)], vec![(b, None), (c, Some(1))]]
        );
    }
}
