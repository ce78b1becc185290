//! Which segments of an index to merge in the background, and when: few segments make searches
//! fast (every search walks each segment's dictionary and postings), while rewriting big
//! segments for every small commit would make writes slow.
//!
//! The rule keeps segment sizes geometric: ordered by live documents, largest first, every
//! segment holds at least [`SIZE_RATIO`] times the live documents of all smaller segments
//! together. When a commit breaks that, the first (largest) segment that breaks it and every
//! smaller one are merged into one, which restores it in one merge: the segment before them
//! held at least `SIZE_RATIO` times their sum already. An index of `n` live documents then has
//! at most about `log(n) / log(SIZE_RATIO + 1)` segments, each document is rewritten a bounded
//! number of times per order of magnitude of growth, and a bulk load into an empty index ends
//! in one segment. Segments with many deleted documents are rewritten too, so updates do not
//! leave dead documents on disk forever; segments of [`FULL_SEGMENT_DOCS`] or more are left out of
//! size merges (a merge that big would hold the writer's merge thread for minutes).

use tantivy::index::SegmentId;
use tantivy::SegmentMeta;

/// Each segment should hold this many times the live documents of all smaller ones together.
pub const SIZE_RATIO: u64 = 4;

/// A segment this big takes part in a merge only to drop its deleted documents.
pub const FULL_SEGMENT_DOCS: u64 = 10_000_000;

/// A segment whose deleted documents are at least this share of all it holds is rewritten
/// (one in four).
const DELETED_SHARE_DIVISOR: u64 = 4;

/// While the writer is busy, merges wait for it to be idle unless the index has more segments
/// than this (a load that never pauses must not pile up segments).
pub const BUSY_SEGMENT_LIMIT: usize = 12;

/// What the policy needs to know about one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentSize {
    pub id: SegmentId,
    /// Documents not deleted.
    pub live: u64,
    /// Deleted documents still stored.
    pub deleted: u64,
}

impl SegmentSize {
    pub fn of(meta: &SegmentMeta) -> SegmentSize {
        SegmentSize {
            id: meta.id(),
            live: u64::from(meta.num_docs()),
            deleted: u64::from(meta.num_deleted_docs()),
        }
    }

    fn mostly_deleted(&self) -> bool {
        self.deleted > 0 && self.deleted * DELETED_SHARE_DIVISOR >= self.live + self.deleted
    }
}

/// The segments to merge into one, or nothing when the index is in shape. A single segment is
/// only returned when it has many deleted documents (the merge rewrites it without them).
pub fn segments_to_merge(segments: &[SegmentSize]) -> Vec<SegmentId> {
    let mut sized: Vec<SegmentSize> = segments
        .iter()
        .filter(|s| s.live < FULL_SEGMENT_DOCS)
        .copied()
        .collect();
    // Largest first; ties by id so the choice does not depend on the order given.
    sized.sort_by(|a, b| b.live.cmp(&a.live).then(a.id.cmp(&b.id)));
    // smaller[i]: the live documents of the segments after the i-th.
    let mut smaller = vec![0u64; sized.len() + 1];
    for i in (0..sized.len()).rev() {
        smaller[i] = smaller[i + 1] + sized[i].live;
    }
    // The last segment never breaks the rule (nothing is smaller), so this is two or more.
    let cut = (0..sized.len())
        .find(|&i| sized[i].live < SIZE_RATIO * smaller[i + 1])
        .unwrap_or(sized.len());
    let mut chosen: Vec<SegmentId> = sized[cut..].iter().map(|s| s.id).collect();
    for s in segments {
        if s.mostly_deleted() && !chosen.contains(&s.id) {
            chosen.push(s.id);
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(live: &[u64]) -> Vec<SegmentSize> {
        live.iter()
            .map(|&live| SegmentSize {
                id: SegmentId::generate_random(),
                live,
                deleted: 0,
            })
            .collect()
    }

    fn chosen_lives(segments: &[SegmentSize]) -> Vec<u64> {
        let ids = segments_to_merge(segments);
        let mut lives: Vec<u64> = segments
            .iter()
            .filter(|s| ids.contains(&s.id))
            .map(|s| s.live)
            .collect();
        lives.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(
            lives.len(),
            ids.len(),
            "every chosen id is one of the segments"
        );
        lives
    }

    #[test]
    fn a_bulk_load_ends_in_one_segment() {
        // The segments PyPI's 886,323 documents were flushed into by one load.
        let load = sizes(&[
            236_080, 213_920, 119_347, 116_976, 76_448, 73_552, 27_136, 22_864,
        ]);
        assert_eq!(chosen_lives(&load).len(), 8);
    }

    #[test]
    fn geometric_sizes_are_left_alone() {
        assert!(chosen_lives(&sizes(&[1_000_000, 200_000, 40_000, 8_000, 1_000])).is_empty());
        assert!(chosen_lives(&sizes(&[886_323])).is_empty());
        assert!(chosen_lives(&sizes(&[])).is_empty());
    }

    #[test]
    fn small_commits_merge_only_the_small_segments() {
        // 3,000 < 4 * 2,000: the two smallest are merged; the bigger ones are in shape.
        let segments = sizes(&[1_000_000, 100_000, 20_000, 3_000, 2_000]);
        assert_eq!(chosen_lives(&segments), vec![3_000, 2_000]);
        // 100,000 < 4 * (20,000 + 15,000 + 10,000): the merge starts at 100,000, so that the
        // merged segment (145,000) fits under 1,000,000.
        let segments = sizes(&[1_000_000, 100_000, 20_000, 15_000, 10_000]);
        assert_eq!(
            chosen_lives(&segments),
            vec![100_000, 20_000, 15_000, 10_000]
        );
    }

    #[test]
    fn one_merge_restores_the_shape() {
        // Merge what the policy chooses, again and again with new small commits: after each
        // merge the sizes are in shape, and the number of segments stays logarithmic.
        let mut live: Vec<u64> = Vec::new();
        for commit in 0..2_000u64 {
            live.push(100 + commit % 7 * 50);
            let segments = sizes(&live);
            let ids = segments_to_merge(&segments);
            if !ids.is_empty() {
                let merged: u64 = segments
                    .iter()
                    .filter(|s| ids.contains(&s.id))
                    .map(|s| s.live)
                    .sum();
                live = segments
                    .iter()
                    .filter(|s| !ids.contains(&s.id))
                    .map(|s| s.live)
                    .collect();
                live.push(merged);
            }
            assert!(segments_to_merge(&sizes(&live)).is_empty(), "{live:?}");
            assert!(live.len() <= 8, "{} segments: {live:?}", live.len());
        }
    }

    #[test]
    fn deleted_documents_get_a_segment_rewritten() {
        let mut segments = sizes(&[1_000_000, 100_000]);
        assert!(segments_to_merge(&segments).is_empty());
        // A quarter of the big segment deleted: it is rewritten alone.
        segments[0].live = 750_000;
        segments[0].deleted = 250_000;
        assert_eq!(segments_to_merge(&segments), vec![segments[0].id]);
        // Fewer deletions are left for later.
        segments[0].live = 800_000;
        segments[0].deleted = 200_000;
        assert!(segments_to_merge(&segments).is_empty());
        // A single segment with many deletions is rewritten; without, it is not.
        let mut single = sizes(&[10]);
        assert!(segments_to_merge(&single).is_empty());
        single[0].deleted = 30;
        assert_eq!(segments_to_merge(&single), vec![single[0].id]);
    }

    #[test]
    fn full_segments_stay_out_of_size_merges() {
        let segments = sizes(&[FULL_SEGMENT_DOCS, FULL_SEGMENT_DOCS, 3_000_000]);
        assert!(segments_to_merge(&segments).is_empty());
        let segments = sizes(&[FULL_SEGMENT_DOCS, 3_000_000, 2_000_000]);
        assert_eq!(chosen_lives(&segments), vec![3_000_000, 2_000_000]);
    }
}
