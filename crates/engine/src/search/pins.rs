//! Pinned documents (the pin actions of dynamic search rules): documents placed at fixed
//! positions of the results, whatever their rank. Pins are applied around the ranking, never
//! inside it: the pinned documents the search's filter allows are taken out of the candidates,
//! the organic results are ranked for the window that ends where the requested page ends, the
//! pins are merged into that list at their positions, then the page is cut. A pin whose
//! position lies past the end of the organic results follows them (it is "pumped" forward), so
//! a pinned document is never lost to a short result list.

use serde_json::{json, Map, Value};

use super::SearchContext;
use crate::error::Result;
use crate::index::find_document;

/// At most this many pins apply to one search (Meilisearch's default `maxPinActions` fuel).
pub const MAX_PINS: usize = 100;

/// A document to place at `position` (0-based) of the results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The document's primary key value.
    pub id: String,
    pub position: u32,
}

/// A pin whose document is in the snapshot and allowed by the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub doc: u32,
    pub position: u32,
}

/// The pins that apply: those whose document exists and passes `allowed`, the first pin of
/// each document only (the caller lists them by rule precedence, so the rule that comes first
/// wins), at most [`MAX_PINS`], ordered by position (pins sharing a position keep the
/// caller's order).
pub(crate) fn resolve(
    ctx: &SearchContext,
    pins: &[Pin],
    allowed: impl Fn(u32) -> bool,
) -> Result<Vec<Resolved>> {
    let mut out: Vec<Resolved> = Vec::new();
    for pin in pins {
        if out.len() >= MAX_PINS {
            break;
        }
        let Some(address) = find_document(&ctx.searcher, ctx.fields, &pin.id)? else {
            continue;
        };
        let doc = ctx.global_id(address);
        if !allowed(doc) || out.iter().any(|p| p.doc == doc) {
            continue;
        }
        out.push(Resolved {
            doc,
            position: pin.position,
        });
    }
    out.sort_by_key(|p| p.position);
    Ok(out)
}

/// Where a result of the merged list comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The n-th document of the organic list.
    Organic(usize),
    /// The n-th resolved pin.
    Pinned(usize),
}

/// The page `[offset, end)` of the organic list (`organic` results, best first) with pins at
/// `positions` (sorted) placed there. Federated searches merge their pins with it too.
pub fn merge(positions: &[u32], organic: usize, offset: usize, end: usize) -> Vec<Slot> {
    let mut page = Vec::with_capacity(end.saturating_sub(offset).min(organic + positions.len()));
    let (mut next_pin, mut next_organic) = (0usize, 0usize);
    let mut position = 0usize;
    while position < end {
        let slot = match positions.get(next_pin) {
            Some(&pin) if pin as usize <= position || next_organic >= organic => {
                next_pin += 1;
                Slot::Pinned(next_pin - 1)
            }
            _ if next_organic < organic => {
                next_organic += 1;
                Slot::Organic(next_organic - 1)
            }
            _ => break,
        };
        if position >= offset {
            page.push(slot);
        }
        position += 1;
    }
    page
}

/// `_rankingScoreDetails` of a pinned hit, as Meilisearch shows it.
pub(crate) fn details(position: u32) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("pin".into(), json!({"order": 0, "position": position}));
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(slots: &[Slot]) -> String {
        slots
            .iter()
            .map(|s| match s {
                Slot::Organic(i) => format!("o{i}"),
                Slot::Pinned(i) => format!("p{i}"),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn pins_take_their_positions_and_push_organic_results_down() {
        let cases: &[(&[u32], usize, usize, usize, &str)] = &[
            (&[0], 3, 0, 20, "p0 o0 o1 o2"),
            (&[1], 3, 0, 20, "o0 p0 o1 o2"),
            (&[0, 0], 2, 0, 20, "p0 p1 o0 o1"),
            (&[1, 3], 4, 0, 3, "o0 p0 o1"),
            (&[1, 3], 4, 2, 4, "o1 p1"),
            // Past the organic results, pins follow them in position order.
            (&[10, 20], 2, 0, 10, "o0 o1 p0 p1"),
            (&[10, 20], 2, 2, 4, "p0 p1"),
            (&[5], 0, 0, 20, "p0"),
            (&[], 3, 1, 2, "o1"),
            (&[0], 3, 0, 0, ""),
        ];
        for (positions, organic, offset, end, expected) in cases {
            let got = merge(positions, *organic, *offset, *end);
            assert_eq!(
                show(&got),
                *expected,
                "{positions:?} {organic} [{offset}, {end})"
            );
        }
    }
}
