//! A process-wide cache of tables read once per segment (facet columns, value ends, prefix
//! tops, forward words, forward positions, typo dictionaries): a segment never changes its
//! documents' values, positions or dictionary, so a table serves every snapshot holding the
//! segment. Each table is read outside the cache's lock, once even when first asked for
//! concurrently, and tables are dropped oldest first past a byte budget. A table a search can
//! do without (it has a slower way to the same answer) may be read on a background thread
//! instead, so that no search waits for it; one whose segment is forgotten (merged away) before
//! its turn comes is not read. Every cache of tables keyed by segment is registered when made,
//! so that one call (`forget_segments`) drops the tables of the segments no snapshot holds any
//! more, whichever module keeps them.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::mpsc;
use std::sync::{Arc, LazyLock, OnceLock};

use parking_lot::Mutex;
use tantivy::index::SegmentId;
use tantivy::schema::IndexRecordOption;
use tantivy::InvertedIndexReader;

use super::context::{SearchContext, SegmentView};

use crate::error::{EngineError, Result};

type Slot<V> = Arc<OnceLock<Arc<V>>>;

/// A table of per-document lists that scans over thousands of documents read, asking the
/// processor for them ahead ([`prefetch_ahead`]): each document's list is far from the previous
/// one's, and such a scan waits on memory more than it computes (perf's samples of Debian's
/// slowest keystrokes fell on the first loads of each document's forward positions).
pub trait PrefetchedLists {
    /// Asks for the lists of a document (segment doc id).
    fn prefetch(&self, doc: u32);
    /// Asks for where they lie, which [`Self::prefetch`] reads.
    fn prefetch_bounds(&self, doc: u32);
}

/// How many documents ahead of a scan their lists are asked for; where they lie, twice as far.
/// 2, 3 and 8 were no better over 8 of Debian's slowest keystrokes, 16 worse.
pub const DOCUMENTS_PREFETCHED_AHEAD: usize = 4;

/// Call before reading the lists of `docs[i]` (ascending doc ids of the table's segment, each
/// plus `base`): asks for those of the documents ahead.
#[inline]
pub fn prefetch_ahead(table: &impl PrefetchedLists, docs: &[u32], i: usize, base: u32) {
    if let Some(&further) = docs.get(i + 2 * DOCUMENTS_PREFETCHED_AHEAD) {
        table.prefetch_bounds(further - base);
    }
    if let Some(&ahead) = docs.get(i + DOCUMENTS_PREFETCHED_AHEAD) {
        table.prefetch(ahead - base);
    }
}

/// 32-bit numbers in a 64-byte cache line.
pub const PER_CACHE_LINE: usize = 16;
/// Cache lines of a list [`DocLists::prefetch`] asks for: all of them up to 256 numbers
/// (Debian's descriptions average 74 positions). Over 8 of Debian's slowest keystrokes (sums
/// of medians, two rounds): the first 2 lines only, 19.3 / 19.7 ms; 4 lines, 16.6 / 17.1 ms;
/// up to 16, 16.8 / 16.7 ms; no prefetch, 24.6 / 27.2 ms.
pub const PREFETCHED_LINES: usize = 16;

/// A list of numbers per document of a segment, in one allocation: document `d`'s list is
/// `items[starts[d]..starts[d + 1]]`. The layout of the value ends and the forward words.
#[derive(Debug, Default)]
pub struct DocLists {
    starts: Vec<u32>,
    items: Vec<u32>,
}

impl DocLists {
    /// `starts` has one entry per document and one more, non-decreasing, the last one at most
    /// `items.len()`.
    pub fn new(starts: Vec<u32>, items: Vec<u32>) -> DocLists {
        DocLists { starts, items }
    }

    /// The list of a document (segment doc id); empty beyond the segment.
    pub fn of(&self, doc: u32) -> &[u32] {
        &self.items[self.range(doc)]
    }

    /// Where a document's list lies in the items (and in any list laid out alongside them);
    /// empty beyond the segment.
    pub fn range(&self, doc: u32) -> std::ops::Range<usize> {
        match (
            self.starts.get(doc as usize),
            self.starts.get(doc as usize + 1),
        ) {
            (Some(&from), Some(&to)) => from as usize..to as usize,
            _ => 0..0,
        }
    }

    /// The part of a document's list a prefetch asks for: all of it, up to
    /// [`PREFETCHED_LINES`] cache lines (and the same part of any list laid out alongside).
    #[inline]
    pub fn prefetched_range(&self, doc: u32) -> std::ops::Range<usize> {
        let range = self.range(doc);
        range.start
            ..range
                .end
                .min(range.start + PREFETCHED_LINES * PER_CACHE_LINE)
    }

    /// Asks the processor to start loading a document's list ([`Self::prefetched_range`]), a
    /// few documents before it is read.
    #[inline]
    pub fn prefetch(&self, doc: u32) {
        for item in self.items[self.prefetched_range(doc)]
            .iter()
            .step_by(PER_CACHE_LINE)
        {
            quarry_prefetch::prefetch(item);
        }
    }

    /// Asks the processor to start loading where a document's list lies, further ahead than
    /// [`Self::prefetch`] of the same document (which reads it).
    #[inline]
    pub fn prefetch_bounds(&self, doc: u32) {
        if let Some(start) = self.starts.get(doc as usize) {
            quarry_prefetch::prefetch(start);
        }
    }

    /// Every list, one after the other (see [`Self::range`]).
    pub fn items(&self) -> &[u32] {
        &self.items
    }

    /// How many documents have a list.
    pub fn documents(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// How many numbers all the lists hold.
    pub fn total(&self) -> usize {
        self.items.len()
    }

    /// Bytes held, with a little for the structure.
    pub fn bytes(&self) -> usize {
        (self.starts.len() + self.items.len()) * 4 + 64
    }
}

/// Calls `each` with every term's ordinal, its documents and, when `option` reads them, their
/// term frequencies (else an empty list), block by block (128 documents at a time).
pub fn for_each_term_block(
    inverted: &InvertedIndexReader,
    option: IndexRecordOption,
    mut each: impl FnMut(u32, &[u32], &[u32]),
) -> Result<()> {
    let with_freqs = option.has_freq();
    let mut stream = inverted.terms().stream()?;
    while stream.advance() {
        let ord = u32::try_from(stream.term_ord())
            .map_err(|_| EngineError::Corrupted("a segment with more than 2^32 words".into()))?;
        let mut postings = inverted.read_block_postings_from_terminfo(stream.value(), option)?;
        let mut remaining = postings.doc_freq() as usize;
        while remaining > 0 {
            let docs = postings.docs();
            if docs.is_empty() {
                break;
            }
            each(ord, docs, if with_freqs { postings.freqs() } else { &[] });
            remaining = remaining.saturating_sub(docs.len());
            postings.advance();
        }
    }
    Ok(())
}

/// A table read from one segment's text field alone (its postings or its dictionary), kept per
/// segment id (the forward words, the forward positions, the typo dictionary), that searches
/// can do without.
pub trait TextFieldTable: Sized + Send + Sync + 'static {
    /// What the table is, for the log.
    const NAME: &'static str;
    /// Largest table of one segment: a larger segment gets none (an empty marker).
    const MAX_BYTES: usize;

    /// The process-wide cache of this kind of table, with its own byte budget.
    fn cache() -> &'static SegmentTables<SegmentId, Self>;

    /// Reads the table of a segment of `max_doc` documents; an empty marker (see
    /// [`Self::is_none`]) when it would pass `max_bytes`, or the segment does not need one.
    fn read(inverted: &InvertedIndexReader, max_doc: u32, max_bytes: usize) -> Result<Self>;
    fn size(&self) -> usize;
    /// Whether this is the marker of a segment without a table, which stands in the cache so
    /// that the segment is not counted again.
    fn is_none(&self) -> bool;
    /// How many numbers it holds, for the log.
    fn entries(&self) -> usize;
}

/// The table of a segment when it is ready and the segment has one. The first ask queues its
/// reading on the background thread and gets `None`: the search does without it meanwhile
/// (and always, for a segment without a table).
pub fn ready_table<T: TextFieldTable>(ctx: &SearchContext, view: &SegmentView) -> Option<Arc<T>> {
    let segment = ctx.segment_reader(view).segment_id();
    let inverted = view.inverted.clone();
    let max_doc = view.max_doc;
    T::cache()
        .get_or_read_in_background(
            segment,
            move || {
                let began = std::time::Instant::now();
                let table = T::read(&inverted, max_doc, T::MAX_BYTES)?;
                tracing::debug!(
                    table = T::NAME,
                    %segment,
                    documents = max_doc,
                    entries = table.entries(),
                    bytes = table.size(),
                    ms = began.elapsed().as_millis() as u64,
                    none = table.is_none(),
                    "segment table read"
                );
                Ok(table)
            },
            T::size,
        )
        .filter(|table| !table.is_none())
}

/// Reads the tables of every segment of an index now, so that tests use them from their first
/// search.
#[cfg(test)]
pub fn read_tables_now<T: TextFieldTable>(index: &crate::index::Index) {
    let ctx = SearchContext::new(index).unwrap();
    for view in ctx.segments() {
        let segment = ctx.segment_reader(view).segment_id();
        T::cache()
            .get_or_read(
                segment,
                || T::read(&view.inverted, view.max_doc, T::MAX_BYTES),
                T::size,
            )
            .unwrap();
        assert!(T::cache().is_ready(&segment));
    }
}

/// Tables of type `V` under keys `K` (a segment id, with what the table is of).
pub struct SegmentTables<K, V> {
    budget_bytes: usize,
    inner: Arc<Mutex<Inner<K, V>>>,
}

/// A key of a table of one segment.
pub trait OfSegment {
    fn segment(&self) -> &SegmentId;
}

impl OfSegment for SegmentId {
    fn segment(&self) -> &SegmentId {
        self
    }
}

/// A table of one attribute of a segment (facet columns, value orders).
impl OfSegment for (SegmentId, String) {
    fn segment(&self) -> &SegmentId {
        &self.0
    }
}

/// A cache of segment tables, as [`forget_segments`] sees it.
trait ForgetSegments: Send + Sync {
    fn forget_segments(&self, gone: &std::collections::HashSet<SegmentId>);
}

impl<K: OfSegment + Hash + Eq + Send, V: Send + Sync> ForgetSegments for Mutex<Inner<K, V>> {
    fn forget_segments(&self, gone: &std::collections::HashSet<SegmentId>) {
        self.lock().forget(|key| gone.contains(key.segment()));
    }
}

/// Every cache made by [`SegmentTables::of_segments`].
static REGISTERED: Mutex<Vec<Arc<dyn ForgetSegments>>> = Mutex::new(Vec::new());

/// Drops, from every cache of segment tables, the tables of the segments of `gone` (merged
/// away, emptied by a commit, or of a deleted index) now, instead of when the budget pushes
/// them out: a segment is never seen again once no snapshot holds it. A search still using
/// one keeps its copy.
pub fn forget_segments(gone: &std::collections::HashSet<SegmentId>) {
    let caches: Vec<Arc<dyn ForgetSegments>> = REGISTERED.lock().clone();
    for cache in caches {
        cache.forget_segments(gone);
    }
}

struct Inner<K, V> {
    slots: HashMap<K, Slot<V>>,
    /// Keys in the order their tables were read, with their sizes: the oldest go first when
    /// the budget is exceeded.
    order: VecDeque<(K, usize)>,
    bytes: usize,
}

impl<K: Hash + Eq, V> Inner<K, V> {
    /// Drops the tables whose keys `gone` picks.
    fn forget(&mut self, gone: impl Fn(&K) -> bool) {
        self.slots.retain(|key, _| !gone(key));
        let mut freed = 0;
        self.order.retain(|(key, bytes)| {
            let keep = !gone(key);
            if !keep {
                freed += bytes;
            }
            keep
        });
        self.bytes -= freed;
    }
}

impl<K, V> SegmentTables<K, V>
where
    K: OfSegment + Hash + Eq + Clone + Send + 'static,
    V: Send + Sync + 'static,
{
    /// [`SegmentTables::new`], registered so that [`forget_segments`] reaches its tables.
    pub fn of_segments(budget_bytes: usize) -> Self {
        let tables = SegmentTables::new(budget_bytes);
        REGISTERED.lock().push(tables.inner.clone());
        tables
    }
}

impl<K: Hash + Eq + Clone, V> SegmentTables<K, V> {
    /// An empty cache keeping at most `budget_bytes` (as `size` counts them) of tables, except
    /// that the newest table is always kept.
    pub fn new(budget_bytes: usize) -> Self {
        SegmentTables {
            budget_bytes,
            inner: Arc::new(Mutex::new(Inner {
                slots: HashMap::new(),
                order: VecDeque::new(),
                bytes: 0,
            })),
        }
    }

    /// Whether the table under `key` has been read (and not evicted since).
    #[cfg(test)]
    pub fn is_ready(&self, key: &K) -> bool {
        self.inner
            .lock()
            .slots
            .get(key)
            .is_some_and(|slot| slot.get().is_some())
    }

    /// The table under `key`, built by `read` the first time it is asked for; `size` tells
    /// how many bytes a table holds.
    pub fn get_or_read(
        &self,
        key: K,
        read: impl FnOnce() -> Result<V>,
        size: impl Fn(&V) -> usize,
    ) -> Result<Arc<V>> {
        let slot = self
            .inner
            .lock()
            .slots
            .entry(key.clone())
            .or_default()
            .clone();
        if let Some(table) = slot.get() {
            return Ok(table.clone());
        }
        // Reading outside the lock: other tables stay available meanwhile. Two first uses of
        // the same key race to fill the slot; the loser's copy is dropped.
        Ok(self.fill(key, &slot, read()?, size))
    }

    /// Drops the tables whose keys `gone` picks (what [`forget_segments`] does to the
    /// registered caches).
    #[cfg(test)]
    pub fn forget(&self, gone: impl Fn(&K) -> bool) {
        self.inner.lock().forget(gone);
    }

    /// Puts a table read for `key` in its slot (unless another read filled it first) and
    /// accounts for its bytes, dropping the oldest tables past the budget.
    fn fill(&self, key: K, slot: &Slot<V>, read: V, size: impl Fn(&V) -> usize) -> Arc<V> {
        let read = Arc::new(read);
        let table = slot.get_or_init(|| read.clone()).clone();
        if Arc::ptr_eq(&table, &read) {
            let mut inner = self.inner.lock();
            let bytes = size(&table);
            inner.order.push_back((key, bytes));
            inner.bytes += bytes;
            while inner.bytes > self.budget_bytes && inner.order.len() > 1 {
                let Some((old, bytes)) = inner.order.pop_front() else {
                    break;
                };
                inner.slots.remove(&old);
                inner.bytes -= bytes;
            }
        }
        table
    }
}

impl<K, V> SegmentTables<K, V>
where
    K: Hash + Eq + Clone + Send + 'static,
    V: Send + Sync + 'static,
{
    /// The table under `key` when it has been read. Otherwise `None`, and the first such ask
    /// queues `read` on the background reader (one thread for every cache, reading one table
    /// at a time); a failed read is forgotten, so a later ask queues it again.
    pub fn get_or_read_in_background(
        &'static self,
        key: K,
        read: impl FnOnce() -> Result<V> + Send + 'static,
        size: fn(&V) -> usize,
    ) -> Option<Arc<V>> {
        let (slot, first) = match self.inner.lock().slots.entry(key.clone()) {
            Entry::Occupied(slot) => (slot.get().clone(), false),
            Entry::Vacant(vacant) => (vacant.insert(Slot::default()).clone(), true),
        };
        if let Some(table) = slot.get() {
            return Some(table.clone());
        }
        if first {
            in_background(Box::new(move || {
                // A segment merged away or dropped while its read waited in the queue
                // (`forget`) is not read at all: no snapshot will ask for it again.
                if !self.holds(&key, &slot) {
                    return;
                }
                self.read_into(key, slot, read, size);
            }));
        }
        None
    }

    /// Whether `slot` is still the slot of `key` (not forgotten since).
    fn holds(&self, key: &K, slot: &Slot<V>) -> bool {
        holds(&self.inner.lock(), key, slot)
    }

    /// Reads a table on the background thread and puts it in its slot; a failed read is
    /// forgotten, so a later ask queues it again.
    fn read_into(
        &self,
        key: K,
        slot: Slot<V>,
        read: impl FnOnce() -> Result<V>,
        size: fn(&V) -> usize,
    ) {
        match read() {
            Ok(table) => {
                // Forgotten while it was read: dropped here rather than counted against the
                // budget until older tables push it out.
                if self.holds(&key, &slot) {
                    self.fill(key, &slot, table, size);
                }
            }
            Err(error) => {
                tracing::warn!(%error, "a segment table could not be read");
                let mut inner = self.inner.lock();
                if holds(&inner, &key, &slot) {
                    inner.slots.remove(&key);
                }
            }
        }
    }
}

/// Whether `slot` is the slot of `key` in `inner`.
fn holds<K: Hash + Eq, V>(inner: &Inner<K, V>, key: &K, slot: &Slot<V>) -> bool {
    inner
        .slots
        .get(key)
        .is_some_and(|current| Arc::ptr_eq(current, slot))
}

type Job = Box<dyn FnOnce() + Send>;

/// Runs `job` on the background reader thread, after the jobs queued before it.
fn in_background(job: Job) {
    static QUEUE: LazyLock<Option<mpsc::Sender<Job>>> = LazyLock::new(|| {
        let (sender, jobs) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("segment-tables".into())
            .spawn(move || {
                for job in jobs {
                    // A read that panics loses its table (searches keep their slower way),
                    // not the thread.
                    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err() {
                        tracing::error!("a segment table read panicked");
                    }
                }
            })
            .ok()
            .map(|_| sender)
    });
    if let Some(queue) = QUEUE.as_ref() {
        // The thread lives as long as the process, so the queue stays open.
        let _ = queue.send(job);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_read_once_and_the_oldest_dropped_past_the_budget() {
        let tables: SegmentTables<u32, Vec<u8>> = SegmentTables::new(10);
        let reads = std::cell::Cell::new(0);
        let read = |n: usize| {
            reads.set(reads.get() + 1);
            Ok(vec![0u8; n])
        };
        let first = tables.get_or_read(1, || read(6), Vec::len).unwrap();
        let again = tables.get_or_read(1, || read(6), Vec::len).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(reads.get(), 1);
        // 6 + 6 bytes exceed the budget: the table of key 1 goes, key 2's stays.
        tables.get_or_read(2, || read(6), Vec::len).unwrap();
        tables.get_or_read(2, || read(6), Vec::len).unwrap();
        assert_eq!(reads.get(), 2);
        tables.get_or_read(1, || read(6), Vec::len).unwrap();
        assert_eq!(reads.get(), 3);
        // A table larger than the whole budget is still kept, alone.
        let big = tables.get_or_read(3, || read(50), Vec::len).unwrap();
        assert_eq!(big.len(), 50);
        tables.get_or_read(3, || read(50), Vec::len).unwrap();
        assert_eq!(reads.get(), 4);
    }

    /// One call drops a gone segment's tables from every registered cache, whatever its key
    /// (a segment, or a segment and an attribute); other segments' tables stay.
    #[test]
    fn gone_segments_leave_every_registered_cache() {
        let (gone, kept) = (SegmentId::generate_random(), SegmentId::generate_random());
        let by_segment: SegmentTables<SegmentId, Vec<u8>> = SegmentTables::of_segments(1 << 20);
        let by_field: SegmentTables<(SegmentId, String), Vec<u8>> =
            SegmentTables::of_segments(1 << 20);
        for segment in [gone, kept] {
            by_segment
                .get_or_read(segment, || Ok(vec![1]), Vec::len)
                .unwrap();
            by_field
                .get_or_read((segment, "year".into()), || Ok(vec![1]), Vec::len)
                .unwrap();
        }
        forget_segments(&std::collections::HashSet::from([gone]));
        assert!(!by_segment.is_ready(&gone));
        assert!(!by_field.is_ready(&(gone, "year".into())));
        assert!(by_segment.is_ready(&kept));
        assert!(by_field.is_ready(&(kept, "year".into())));
    }

    #[test]
    fn a_table_forgotten_while_queued_is_not_read() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let tables: &'static SegmentTables<u32, Vec<u8>> =
            Box::leak(Box::new(SegmentTables::new(1 << 20)));
        static READS: AtomicUsize = AtomicUsize::new(0);
        let queue_counted = |key: u32| {
            let queued = tables.get_or_read_in_background(
                key,
                || {
                    READS.fetch_add(1, Ordering::SeqCst);
                    Ok(vec![1])
                },
                Vec::len,
            );
            assert!(queued.is_none());
        };
        // The background thread reads one table at a time, in order: a read queued after the
        // others ends once they have.
        let wait_for_queue = |key: u32| {
            let (done, finished) = mpsc::channel::<()>();
            tables.get_or_read_in_background(
                key,
                move || {
                    done.send(()).ok();
                    Ok(vec![2])
                },
                Vec::len,
            );
            finished.recv().unwrap();
        };
        // The first read holds the thread until key 1 has been queued and forgotten.
        let (release, held) = mpsc::channel::<()>();
        let first = tables.get_or_read_in_background(
            0,
            move || {
                held.recv().ok();
                Ok(vec![0])
            },
            Vec::len,
        );
        assert!(first.is_none());
        queue_counted(1);
        tables.forget(|key| *key == 1);
        release.send(()).unwrap();
        wait_for_queue(2);
        assert_eq!(
            READS.load(Ordering::SeqCst),
            0,
            "a forgotten segment's table was read"
        );
        // Asked again, the table is queued anew and read.
        queue_counted(1);
        wait_for_queue(3);
        assert_eq!(READS.load(Ordering::SeqCst), 1);
    }
}
