//! Evaluating a parsed filter into the set of live documents it selects, from the facet terms
//! of the index (`crate::facet`): equality is a term lookup, comparisons are term range scans
//! (numeric ranges over many values scan the field's column instead, `search/columns.rs`),
//! `NOT` and the negative operators are complements within the live documents.
//!
//! What a condition means (the reference the tests check against):
//! - the values of a field are every value met at its path, arrays being transparent (`tags`
//!   matches each item, `a.b` reaches into objects inside arrays);
//! - `=` holds when a string value equals the filter value (trimmed, lowercased on both sides)
//!   or, when the filter value is a number, a number value equals it; booleans are the strings
//!   `true`/`false`;
//! - `>`, `>=`, `<`, `<=`, `TO` hold for number values in the range (when the filter values are
//!   numbers) and for string values in the lexicographic range of the normalized strings;
//! - `EXISTS`: the document has the field (whatever its value, `null` included); `IS NULL`: a
//!   value is `null`; `IS EMPTY`: a value is `""`, `[]` or `{}`;
//! - `CONTAINS` / `STARTS WITH`: a normalized string value contains / starts with the
//!   normalized filter value;
//! - `!=`, `NOT IN`, `NOT EXISTS`, `IS NOT NULL`, `IS NOT EMPTY`, `NOT CONTAINS`,
//!   `NOT STARTS WITH` and `NOT` are the complements (documents without the field included).

use std::cmp::Ordering;

use roaring::RoaringBitmap;

use super::{Condition, FilterExpr};
use crate::error::Result;
use crate::facet::{self, normalize, parse_number};
use crate::search::{Scan, SearchContext};

/// Mean radius of the Earth in metres, for haversine distances.
pub const EARTH_RADIUS_METERS: f64 = 6_371_008.8;

/// Great-circle distance in metres between two (lat, lng) points in degrees.
pub fn haversine(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lng1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lng2) = (b.0.to_radians(), b.1.to_radians());
    let dlat = lat2 - lat1;
    let dlng = lng2 - lng1;
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlng / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_METERS * h.sqrt().min(1.0).asin()
}

/// Whether (lat, lng) lies in the bounding box, which may cross the antimeridian.
pub fn in_bounding_box(point: (f64, f64), top_right: (f64, f64), bottom_left: (f64, f64)) -> bool {
    let (lat, lng) = point;
    if lat < bottom_left.0 || lat > top_right.0 {
        return false;
    }
    if bottom_left.1 <= top_right.1 {
        lng >= bottom_left.1 && lng <= top_right.1
    } else {
        lng >= bottom_left.1 || lng <= top_right.1
    }
}

/// Whether (lat, lng) lies inside the polygon (even-odd rule on the lat/lng plane).
pub fn in_polygon(point: (f64, f64), polygon: &[(f64, f64)]) -> bool {
    let (y, x) = point;
    let mut inside = false;
    let n = polygon.len();
    let mut j = n.wrapping_sub(1);
    for i in 0..n {
        let (yi, xi) = polygon[i];
        let (yj, xj) = polygon[j];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Evaluates filters against one search snapshot.
pub struct FilterEvaluator<'a> {
    ctx: &'a SearchContext,
    universe: Option<RoaringBitmap>,
    /// When set, only these (live) documents are asked about: every set the evaluator returns
    /// is within them, complements are taken against them, and wide numeric ranges look at
    /// them instead of every document of the index.
    scope: Option<&'a RoaringBitmap>,
}

impl<'a> FilterEvaluator<'a> {
    pub fn new(ctx: &'a SearchContext) -> FilterEvaluator<'a> {
        FilterEvaluator {
            ctx,
            universe: None,
            scope: None,
        }
    }

    /// An evaluator answering only for the live documents of `scope` (a search's candidates):
    /// what it returns is the part of `scope` the filter selects.
    pub fn within(ctx: &'a SearchContext, scope: &'a RoaringBitmap) -> FilterEvaluator<'a> {
        FilterEvaluator {
            ctx,
            universe: None,
            scope: Some(scope),
        }
    }

    fn universe(&mut self) -> &RoaringBitmap {
        if let Some(scope) = self.scope {
            return scope;
        }
        if self.universe.is_none() {
            self.universe = Some(self.ctx.universe());
        }
        self.universe.as_ref().expect("universe was just computed")
    }

    fn complement(&mut self, docs: RoaringBitmap) -> RoaringBitmap {
        self.universe() - docs
    }

    /// Keeps the documents within the scope, if there is one.
    fn scoped(&self, mut docs: RoaringBitmap) -> RoaringBitmap {
        if let Some(scope) = self.scope {
            docs &= scope;
        }
        docs
    }

    /// The live documents `expr` selects (within the scope, if there is one).
    pub fn evaluate(&mut self, expr: &FilterExpr) -> Result<RoaringBitmap> {
        let docs = self.evaluate_unscoped(expr)?;
        Ok(match expr {
            // Complements, intersections and unions of scoped sets are scoped already.
            FilterExpr::Not(_) | FilterExpr::And(_) | FilterExpr::Or(_) => docs,
            _ => self.scoped(docs),
        })
    }

    fn evaluate_unscoped(&mut self, expr: &FilterExpr) -> Result<RoaringBitmap> {
        match expr {
            FilterExpr::Not(inner) => {
                let docs = self.evaluate(inner)?;
                Ok(self.complement(docs))
            }
            FilterExpr::And(items) => {
                let mut acc: Option<RoaringBitmap> = None;
                for item in items {
                    let docs = self.evaluate(item)?;
                    acc = Some(match acc {
                        Some(a) => a & docs,
                        None => docs,
                    });
                    if acc.as_ref().is_some_and(|a| a.is_empty()) {
                        break;
                    }
                }
                Ok(acc.unwrap_or_default())
            }
            FilterExpr::Or(items) => {
                let mut acc = RoaringBitmap::new();
                for item in items {
                    acc |= self.evaluate(item)?;
                }
                Ok(acc)
            }
            FilterExpr::Condition {
                field, condition, ..
            } => self.condition(field, condition),
            FilterExpr::GeoRadius {
                lat,
                lng,
                radius_meters,
                ..
            } => self.geo(|p| haversine((*lat, *lng), p) <= *radius_meters),
            FilterExpr::GeoBoundingBox {
                top_right,
                bottom_left,
            } => self.geo(|p| in_bounding_box(p, *top_right, *bottom_left)),
            FilterExpr::GeoPolygon(points) => self.geo(|p| in_polygon(p, points)),
            // Foreign filters are resolved into `IN` conditions before evaluation; one that
            // reaches here was not, and selects nothing rather than the wrong documents.
            FilterExpr::Foreign { .. } => Ok(RoaringBitmap::new()),
        }
    }

    fn geo(&self, mut inside: impl FnMut((f64, f64)) -> bool) -> Result<RoaringBitmap> {
        let prefix = facet::geo_prefix();
        self.ctx.facet_scan(&prefix, prefix.as_bytes(), |rest| {
            match facet::decode_geo(rest) {
                Some(point) if inside(point) => Scan::Take,
                _ => Scan::Skip,
            }
        })
    }

    fn condition(&mut self, field: &str, condition: &Condition) -> Result<RoaringBitmap> {
        use std::ops::Bound::{Excluded, Included, Unbounded};
        Ok(match condition {
            Condition::Equal(v) => self.equal(field, v)?,
            Condition::NotEqual(v) => {
                let docs = self.equal(field, v)?;
                self.complement(docs)
            }
            Condition::In(values) => {
                let mut acc = RoaringBitmap::new();
                for v in values {
                    acc |= self.equal(field, v)?;
                }
                acc
            }
            Condition::NotIn(values) => {
                let mut acc = RoaringBitmap::new();
                for v in values {
                    acc |= self.equal(field, v)?;
                }
                self.complement(acc)
            }
            Condition::GreaterThan(v) => self.range(field, Excluded(v), Unbounded)?,
            Condition::GreaterThanOrEqual(v) => self.range(field, Included(v), Unbounded)?,
            Condition::LowerThan(v) => self.range(field, Unbounded, Excluded(v))?,
            Condition::LowerThanOrEqual(v) => self.range(field, Unbounded, Included(v))?,
            Condition::Between { from, to } => self.range(field, Included(from), Included(to))?,
            Condition::Exists => self.ctx.facet_term_docs(field)?,
            Condition::NotExists => {
                let docs = self.ctx.facet_term_docs(field)?;
                self.complement(docs)
            }
            Condition::IsNull => self.ctx.facet_term_docs(&facet::null_term(field))?,
            Condition::IsNotNull => {
                let docs = self.ctx.facet_term_docs(&facet::null_term(field))?;
                self.complement(docs)
            }
            Condition::IsEmpty => self.ctx.facet_term_docs(&facet::empty_term(field))?,
            Condition::IsNotEmpty => {
                let docs = self.ctx.facet_term_docs(&facet::empty_term(field))?;
                self.complement(docs)
            }
            Condition::Contains(v) => self.contains(field, v)?,
            Condition::NotContains(v) => {
                let docs = self.contains(field, v)?;
                self.complement(docs)
            }
            Condition::StartsWith(v) => self.starts_with(field, v)?,
            Condition::NotStartsWith(v) => {
                let docs = self.starts_with(field, v)?;
                self.complement(docs)
            }
        })
    }

    fn equal(&self, field: &str, value: &str) -> Result<RoaringBitmap> {
        let prefix = facet::string_value_prefix(field, &normalize(value));
        let mut docs = self
            .ctx
            .facet_scan(&prefix, prefix.as_bytes(), |_| Scan::Take)?;
        if let Some(n) = parse_number(value) {
            docs |= self.ctx.facet_term_docs(&facet::number_term(field, n))?;
        }
        Ok(docs)
    }

    fn range(
        &self,
        field: &str,
        low: std::ops::Bound<&String>,
        high: std::ops::Bound<&String>,
    ) -> Result<RoaringBitmap> {
        use std::ops::Bound::{Excluded, Included, Unbounded};
        let mut docs = RoaringBitmap::new();
        // Numbers, when every bound given is a number.
        let number = |b: std::ops::Bound<&String>| match b {
            Included(v) => parse_number(v).map(Included),
            Excluded(v) => parse_number(v).map(Excluded),
            Unbounded => Some(Unbounded),
        };
        if let (Some(lo), Some(hi)) = (number(low), number(high)) {
            docs |= self.ctx.number_range_docs(field, lo, hi, self.scope)?;
        }
        // Strings, in the order of their normalized form.
        let lo = low.map(|v| normalize(v));
        let hi = high.map(|v| normalize(v));
        let prefix = facet::string_prefix(field);
        let start = match &lo {
            Included(l) | Excluded(l) => format!("{prefix}{l}"),
            Unbounded => prefix.clone(),
        };
        docs |= self.ctx.facet_scan(&prefix, start.as_bytes(), |rest| {
            let (value, _) = facet::split_string_rest(rest);
            match &hi {
                Included(h) if value > h.as_bytes() => return Scan::Stop,
                Excluded(h) if value >= h.as_bytes() => return Scan::Stop,
                _ => {}
            }
            match &lo {
                Excluded(l) if value.cmp(l.as_bytes()) != Ordering::Greater => Scan::Skip,
                Included(l) if value < l.as_bytes() => Scan::Skip,
                _ => Scan::Take,
            }
        })?;
        Ok(docs)
    }

    fn contains(&self, field: &str, value: &str) -> Result<RoaringBitmap> {
        let needle = normalize(value);
        let prefix = facet::string_prefix(field);
        self.ctx.facet_scan(&prefix, prefix.as_bytes(), |rest| {
            let (v, _) = facet::split_string_rest(rest);
            if memchr::memmem::find(v, needle.as_bytes()).is_some() {
                Scan::Take
            } else {
                Scan::Skip
            }
        })
    }

    fn starts_with(&self, field: &str, value: &str) -> Result<RoaringBitmap> {
        let prefix = format!("{}{}", facet::string_prefix(field), normalize(value));
        self.ctx
            .facet_scan(&prefix, prefix.as_bytes(), |_| Scan::Take)
    }
}
