//! What searches on the same snapshot can share. Search-as-you-type sends a query per keystroke
//! and only the last word changes, so the derivations of the other words, and the documents of
//! every word, are found again and again. They depend only on the segments (and their deletes),
//! so they are kept per snapshot, identified by its segment ids and delete stamps, and dropped
//! as newer snapshots arrive or memory runs over budget.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use roaring::RoaringBitmap;
use tantivy::index::SegmentId;
use tantivy::Searcher;

/// Snapshots whose caches are kept at once (several indexes, or a new commit while the previous
/// snapshot still serves).
const SNAPSHOTS: usize = 8;
/// Bytes of document sets one snapshot may keep before its cache is emptied.
const BUDGET_BYTES: u64 = 96 * 1024 * 1024;

/// Which segments, with which deletes, a searcher sees.
type SnapshotKey = Vec<(SegmentId, Option<u64>)>;

/// The derivations of one query word, as found in the dictionary.
#[derive(Debug, Clone, Default)]
pub struct CachedDerivations {
    pub exact: Option<String>,
    pub prefixes: Vec<String>,
    pub typos: Vec<(String, u8)>,
}

#[derive(Default)]
struct Entries {
    words: HashMap<String, Arc<RoaringBitmap>>,
    derivations: HashMap<(String, bool, u8), Arc<CachedDerivations>>,
    unions: HashMap<String, Arc<RoaringBitmap>>,
    bytes: u64,
}

impl Entries {
    fn charge(&mut self, docs: &RoaringBitmap) {
        self.bytes += docs.serialized_size() as u64;
        if self.bytes > BUDGET_BYTES {
            *self = Entries::default();
        }
    }
}

/// The cache of one snapshot.
pub struct SnapshotCache {
    entries: Mutex<Entries>,
}

impl SnapshotCache {
    /// The cache of the searcher's snapshot, created if new.
    pub fn of(searcher: &Searcher) -> Arc<SnapshotCache> {
        static CACHES: Mutex<Vec<(SnapshotKey, Arc<SnapshotCache>)>> = Mutex::new(Vec::new());
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

    pub fn word(&self, word: &str) -> Option<Arc<RoaringBitmap>> {
        self.entries.lock().words.get(word).cloned()
    }

    pub fn put_word(&self, word: &str, docs: Arc<RoaringBitmap>) {
        let mut entries = self.entries.lock();
        entries.charge(&docs);
        entries.words.insert(word.to_string(), docs);
    }

    pub fn derivations(
        &self,
        word: &str,
        is_prefix: bool,
        max_typos: u8,
    ) -> Option<Arc<CachedDerivations>> {
        self.entries
            .lock()
            .derivations
            .get(&(word.to_string(), is_prefix, max_typos))
            .cloned()
    }

    pub fn put_derivations(
        &self,
        word: &str,
        is_prefix: bool,
        max_typos: u8,
        found: Arc<CachedDerivations>,
    ) {
        self.entries
            .lock()
            .derivations
            .insert((word.to_string(), is_prefix, max_typos), found);
    }

    /// The union of the documents of a group of words, under a key naming the group.
    pub fn union(&self, key: &str) -> Option<Arc<RoaringBitmap>> {
        self.entries.lock().unions.get(key).cloned()
    }

    pub fn put_union(&self, key: &str, docs: Arc<RoaringBitmap>) {
        let mut entries = self.entries.lock();
        entries.charge(&docs);
        entries.unions.insert(key.to_string(), docs);
    }
}
