//! A process-wide cache of the stored JSON of documents that searches return. Reading a
//! document from tantivy's store seeks its block through the store's skip index and copies it
//! out of the block (about 8,000 instructions a document on PyPI, an eighth of a keystroke's
//! search); search-as-you-type returns the same popular documents keystroke after keystroke,
//! so the bytes are kept by (segment, document) within a byte budget, least recently used out
//! first. A segment never changes a document's stored bytes, so an entry stays right as long as
//! its segment exists; entries of segments gone are dropped with the other per-segment tables.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use lru::LruCache;
use parking_lot::Mutex;
use tantivy::index::SegmentId;
use tantivy::{DocAddress, Searcher};

use super::{read_source_bytes, SchemaFields};
use crate::error::Result;

/// Bytes of documents kept at once, over every index.
pub const BUDGET_BYTES: usize = 64 * 1024 * 1024;
/// Independent parts of the cache, so that concurrent searches rarely wait on one lock.
const SHARDS: usize = 16;
/// What an entry costs beyond its bytes (key, pointers, the list links), for the budget.
const ENTRY_OVERHEAD: usize = 64;

type Key = (SegmentId, u32);

struct Shard {
    entries: LruCache<Key, Arc<[u8]>>,
    bytes: usize,
}

static SHARDS_OF_CACHE: LazyLock<Vec<Mutex<Shard>>> = LazyLock::new(|| {
    (0..SHARDS)
        .map(|_| {
            Mutex::new(Shard {
                entries: LruCache::unbounded(),
                bytes: 0,
            })
        })
        .collect()
});

fn shard_of(doc: u32) -> &'static Mutex<Shard> {
    &SHARDS_OF_CACHE[doc as usize % SHARDS]
}

/// The stored JSON of the document at `address`, from the cache when a search read it lately.
pub(crate) fn source_bytes(
    searcher: &Searcher,
    fields: SchemaFields,
    address: DocAddress,
) -> Result<Arc<[u8]>> {
    let key = (
        searcher.segment_reader(address.segment_ord).segment_id(),
        address.doc_id,
    );
    let shard = shard_of(address.doc_id);
    if let Some(bytes) = shard.lock().entries.get(&key) {
        return Ok(bytes.clone());
    }
    let bytes: Arc<[u8]> = read_source_bytes(searcher, fields, address)?.into();
    let mut shard = shard.lock();
    let added = bytes.len() + ENTRY_OVERHEAD;
    if let Some(previous) = shard.entries.put(key, bytes.clone()) {
        // Two searches read the same document at once: the entry was counted once already.
        shard.bytes -= previous.len() + ENTRY_OVERHEAD;
    }
    shard.bytes += added;
    while shard.bytes > BUDGET_BYTES / SHARDS {
        let Some((_, old)) = shard.entries.pop_lru() else {
            break;
        };
        shard.bytes -= old.len() + ENTRY_OVERHEAD;
    }
    Ok(bytes)
}

/// Drops the documents of segments no snapshot holds any more.
pub(crate) fn forget(gone: &HashSet<SegmentId>) {
    for shard in SHARDS_OF_CACHE.iter() {
        let mut shard = shard.lock();
        let keys: Vec<Key> = shard
            .entries
            .iter()
            .filter(|(key, _)| gone.contains(&key.0))
            .map(|(key, _)| *key)
            .collect();
        for key in keys {
            if let Some(old) = shard.entries.pop(&key) {
                shard.bytes -= old.len() + ENTRY_OVERHEAD;
            }
        }
    }
}

/// Documents and bytes held, for tests.
#[cfg(test)]
pub(crate) fn held(segment: SegmentId) -> usize {
    SHARDS_OF_CACHE
        .iter()
        .map(|shard| {
            shard
                .lock()
                .entries
                .iter()
                .filter(|(key, _)| key.0 == segment)
                .count()
        })
        .sum()
}
